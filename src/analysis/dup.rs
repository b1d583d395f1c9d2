//! §3 duplicates: an event is a duplicate when an earlier event in (time, input order) has
//! the same (`device_id`, dedup key) and is at most 7 days older, duplicate or not.
//!
//! A 64-bit mix of device and key is bucketed into bitsets to find the few events that
//! share a bucket with another; only those are sorted by mix, and each run of equal mixes
//! by (time, input order). Within a run the full key (device symbol and the key's 128-bit
//! hash) is compared, so a collision of the mix never makes a false duplicate.
//! The nearest earlier event of the same key decides: if it is more than 7 days older,
//! every earlier one is too.

use rayon::prelude::*;

use super::DEDUP_WINDOW_MS;
use crate::event::{EventRec, IdTable, Sym};
use crate::index::EventIx;

/// One bit per event index: set for duplicates. `ids` are the events' ids.
pub(super) fn find(events: &[EventRec], ids: &IdTable) -> Vec<u64> {
    let device = |e: &EventRec| ids.get(e.ids).device_id;
    let mut bits = vec![0u64; events.len().div_ceil(64)];
    // Pre-filter: only events whose hash bucket holds two or more keyed events can be
    // duplicates (equal keys share a mix, so a bucket). Two bitsets find those buckets;
    // then only their events (a few percent) are collected and sorted.
    let mix_of = |e: &EventRec| {
        e.dedup_key()
            .map(|key| key ^ u64::from(device(e).0).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    };
    let bits_log2 = (events.len().max(1) * 8)
        .next_power_of_two()
        .trailing_zeros()
        .max(16);
    let bucket = |mix: u64| (mix >> (64 - bits_log2)) as usize;
    let words = 1usize << (bits_log2 - 6);
    let mut seen = vec![0u64; words];
    let mut twice = vec![0u64; words];
    for mix in events.iter().filter_map(mix_of) {
        let b = bucket(mix);
        let (w, bit) = (b / 64, 1u64 << (b % 64));
        twice[w] |= seen[w] & bit;
        seen[w] |= bit;
    }
    drop(seen);
    let mut keyed: Vec<(u64, EventIx)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let mix = mix_of(e)?;
            let b = bucket(mix);
            (twice[b / 64] & (1 << (b % 64)) != 0).then(|| (mix, EventIx::from_usize(i)))
        })
        .collect();
    drop(twice);
    keyed.par_sort_unstable();
    // Runs of equal mixes, each ordered by (time, input order); nearly always 1–2 long.
    // Last time seen per full key within the current run.
    let mut seen: Vec<((Sym, u64), i64)> = Vec::new();
    for run in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        run.sort_unstable_by_key(|&(_, i)| (events[i].time, i));
        seen.clear();
        for &(_, i) in &*run {
            let e = &events[i];
            let full = (device(e), e.dedup);
            match seen.iter_mut().find(|(k, _)| *k == full) {
                Some((_, last)) => {
                    if e.time.saturating_sub(*last) <= DEDUP_WINDOW_MS {
                        bits[i.idx() / 64] |= 1 << (i.idx() % 64);
                    }
                    *last = e.time;
                }
                None => seen.push((full, e.time)),
            }
        }
    }
    bits
}
