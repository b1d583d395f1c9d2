//! The inspector gives the memory it frees back to the system.
//!
//! glibc's `malloc` serves large blocks with `mmap` (returned to the system when freed)
//! only below a threshold that it raises each time such a block is freed, up to 32 MiB.
//! The inspector frees many large blocks while it loads and analyses (read chunks,
//! decoded batches, the analysis' scratch), so after the first few, later ones come from
//! the heap, and the heap keeps what they leave behind resident. For a process that stays
//! open for as long as someone looks at it, that is memory held for nothing: with the
//! thresholds fixed (`mmap` from 128 KiB, glibc's default, and the heap's free top
//! trimmed beyond 1 MiB) the inspector's peak on the 2M-event benchmark file is 14 MB
//! (9%) lower, in the same time. `report` keeps glibc's behaviour: it exits once written,
//! and there the fixed thresholds cost 7% of its time (every chunk and batch mapped anew).
//!
//! **Safety argument.** This module holds the crate's second `unsafe`: calls of glibc's
//! `mallopt`. `mallopt` sets a parameter of the allocator; it takes two integers,
//! reads and writes no memory of the caller's, and takes the allocator's own locks, so it
//! may be called at any time from any thread. On other platforms (musl, macOS, Windows)
//! there is no such call, and nothing to do: their allocators return large blocks anyway.

/// Blocks from this size on are mapped on their own (and unmapped when freed).
pub const MMAP_THRESHOLD: i32 = 128 << 10;
/// The heap's free top beyond this is given back.
pub const TRIM_THRESHOLD: i32 = 1 << 20;

/// Fixes glibc's thresholds (see the module's documentation); whether the allocator took
/// them (always `false` off glibc).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(
    unsafe_code,
    reason = "glibc's mallopt; see the module's safety argument"
)]
pub fn return_freed_memory() -> bool {
    // SAFETY: `mallopt` has no precondition on its caller; see the module's safety
    // argument.
    let set = |param, value| unsafe { libc::mallopt(param, value) == 1 };
    // Both: setting either stops glibc from moving both, and the `mmap` one is set back to
    // 128 KiB in case a large block was freed before.
    set(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) & set(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD)
}

/// Fixes glibc's thresholds (see the module's documentation); whether the allocator took
/// them (always `false` off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_takes_the_thresholds() {
        let expected = cfg!(all(target_os = "linux", target_env = "gnu"));
        assert_eq!(return_freed_memory(), expected);
        // Twice is as good as once.
        assert_eq!(return_freed_memory(), expected);
    }

    /// Set in the process [`a_freed_block_is_given_back`] starts: run the check, with the
    /// thresholds fixed when it is `fixed`.
    const CHILD: &str = "STREAMSCOPE_MEMORY_TEST_CHILD";

    /// The resident anonymous memory (the heap and mappings, not the binary's pages, which
    /// a debug build faults in as it runs new code), in bytes.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("RssAnon");
        kb * 1024
    }

    /// The check itself, in a process of its own (other tests allocate beside it): an
    /// 8 MiB block freed, then a 4 MiB one filled and freed; prints how much more is
    /// resident after than before.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[ignore = "run by a_freed_block_is_given_back in a process of its own"]
    fn retention_child() {
        let Ok(how) = std::env::var(CHILD) else {
            return;
        };
        if how == "fixed" {
            assert!(return_freed_memory());
        }
        let before = resident();
        for size in [8 << 20, 4 << 20] {
            let block = vec![1u8; size];
            std::hint::black_box(&block);
        }
        println!("GROWTH {}", resident().saturating_sub(before));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_freed_block_is_given_back() {
        let growth = |how: &str| -> u64 {
            let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
                .args(["--ignored", "--exact", "--nocapture", "--test-threads=1"])
                .arg("tui::memory::tests::retention_child")
                .env(CHILD, how)
                .output()
                .expect("the child test runs");
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines()
                .find_map(|l| {
                    l.split("GROWTH ")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()
                })
                .unwrap_or_else(|| panic!("no GROWTH line from the child: {text}"))
        };
        // glibc's default: the 8 MiB block, freed, raised the mmap threshold, so the 4 MiB
        // one came from the heap and stayed resident once freed.
        let default = growth("default");
        assert!(
            default >= 3 << 20,
            "with glibc's defaults, expected the 4 MiB block to stay resident: {default} bytes"
        );
        let fixed = growth("fixed");
        assert!(
            fixed < 1 << 20,
            "with the thresholds fixed, the freed blocks should be given back: {fixed} bytes"
        );
    }
}
