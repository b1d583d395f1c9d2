//! §3 duplicates: an event is a duplicate when an earlier event in (time, input order) has
//! the same (`device_id`, dedup key) and is at most 7 days older, duplicate or not.
//!
//! Events with a dedup key are sorted by a 64-bit mix of device and key, then each run of
//! equal mixes by (time, input order); within a run of equal mixes the full key (device symbol and the key's 128-bit
//! hash) is compared, so a collision of the 64-bit mix never makes a false duplicate.
//! The nearest earlier event of the same key decides: if it is more than 7 days older,
//! every earlier one is too.

use rayon::prelude::*;

use super::DEDUP_WINDOW_MS;
use crate::event::{EventRec, Sym};

/// One bit per event index: set for duplicates.
pub(super) fn find(events: &[EventRec]) -> Vec<u64> {
    let mut bits = vec![0u64; events.len().div_ceil(64)];
    // (mix, index) pairs: 16 bytes each. Sorted by mix; each run of equal mixes is then
    // ordered by (time, input order), and is nearly always one or two events long.
    let mut keyed: Vec<(u64, u32)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let key = e.dedup_key()?;
            let mix = key[0] ^ u64::from(e.device_id.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            Some((mix, u32::try_from(i).unwrap_or(u32::MAX)))
        })
        .collect();
    keyed.par_sort_unstable();
    // Last time seen per full key within the current run.
    let mut seen: Vec<((Sym, [u64; 2]), i64)> = Vec::new();
    for run in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        run.sort_unstable_by_key(|&(_, i)| (events[i as usize].time, i));
        seen.clear();
        for &(_, i) in &*run {
            let e = &events[i as usize];
            let full = (e.device_id, e.dedup);
            match seen.iter_mut().find(|(k, _)| *k == full) {
                Some((_, last)) => {
                    if e.time - *last <= DEDUP_WINDOW_MS {
                        bits[i as usize / 64] |= 1 << (i % 64);
                    }
                    *last = e.time;
                }
                None => seen.push((full, e.time)),
            }
        }
    }
    bits
}
