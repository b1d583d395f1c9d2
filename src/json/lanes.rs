//! Sixteen bytes at a time: where a string body may end (`"`), escape (`\`) or break
//! (a control character).
//!
//! This is one of the crate's two `unsafe` blocks (the other calls glibc's `mallopt`,
//! in `crate::tui::memory`), and it is only the call into SSE2 code: Rust marks
//! every `std::arch` function unsafe to call from code not itself compiled for its target
//! feature, even when, as SSE2 on x86-64, the feature is part of the target's baseline.
//!
//! **Safety argument.** [`special_mask`] calls `sse2_mask` only when the crate is built
//! with the `sse2` target feature (`cfg(target_feature = "sse2")`, true for every x86-64
//! target: SSE2 is part of the x86-64 ABI), so every CPU that can run the binary has the
//! instructions. `sse2_mask` takes its 16 bytes as a reference to an array (no pointer
//! arithmetic, no out-of-bounds read: the vector is built from two `u64` values) and only
//! compares and moves register values. On other targets the same mask comes from portable
//! SWAR code. The property test below checks both against a byte-by-byte definition.

/// Bit `i` set when byte `i` of `block` is `"`, `\` or below 0x20.
#[inline]
#[must_use]
#[allow(
    unsafe_code,
    reason = "the one call into SSE2; see the module's safety argument"
)]
pub(crate) fn special_mask(block: &[u8; 16]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: SSE2 is enabled for this build (the cfg above), so the CPU has it; see
        // the module's safety argument.
        unsafe { sse2_mask(block) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable_mask(block)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
#[target_feature(enable = "sse2")]
fn sse2_mask(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };
    let (lo, hi) = halves(block);
    #[expect(
        clippy::cast_possible_wrap,
        reason = "the lanes' bits are what matter, not their sign"
    )]
    let v = _mm_set_epi64x(hi as i64, lo as i64);
    let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"'.cast_signed()));
    let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\'.cast_signed()));
    // Unsigned `byte <= 0x1F`: max(byte, 0x1F) is 0x1F only then.
    let limit = _mm_set1_epi8(0x1F);
    let control = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
    let any = _mm_or_si128(_mm_or_si128(quote, backslash), control);
    // movemask's 16 bits, zero-extended.
    _mm_movemask_epi8(any).cast_unsigned()
}

/// The two little-endian words of a block.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn halves(block: &[u8; 16]) -> (u64, u64) {
    let (lo, hi) = block.split_at(8);
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    (word(lo), word(hi))
}

/// [`special_mask`] without SIMD: each byte tested on its own (used where SSE2 is not
/// available, and as the reference in tests).
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2"),
    allow(dead_code, reason = "the reference of the tests on x86-64")
)]
fn portable_mask(block: &[u8; 16]) -> u32 {
    block
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'"' || b == b'\\' || b < 0x20)
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_special_byte_is_found_at_its_lane() {
        for lane in 0..16 {
            for special in [b'"', b'\\', 0x00, 0x1F, b'\n'] {
                let mut block = [b'a'; 16];
                block[lane] = special;
                assert_eq!(special_mask(&block), 1 << lane, "{special:#x} at {lane}");
            }
        }
        // The bytes just outside the set, and UTF-8 continuation bytes, are not special.
        let plain = *b" !#[]^_\x7f\x80\xbf\xc3\xa9\xff/u0";
        assert_eq!(special_mask(&plain), 0);
    }

    proptest! {
        #[test]
        fn agrees_with_the_byte_by_byte_definition(block in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(special_mask(&block), portable_mask(&block));
        }
    }
}
