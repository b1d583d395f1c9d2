//! §2: the user key of every event, and the events grouped by user in (time, input order).
//!
//! Keys are resolved with dense per-symbol tables; anonymous events are matched to a
//! device's identified events by binary search over them sorted by (device, time, order).
//! Grouping is a counting sort by user followed by a small sort per user.

use std::ops::Range;

use rayon::prelude::*;

use super::{KeyKind, UserKey};
use crate::event::{EventRec, IdTable, Ids, Sym};
use crate::index::{EventIx, IxRange, Pos};
use crate::store::EventStore;

const PENDING: u32 = u32::MAX;

pub(super) struct Grouping {
    /// User keys, ordered by (kind, id text).
    pub keys: Vec<UserKey>,
    /// Event indices grouped by user, each group in (time, input order).
    pub order: Vec<EventIx>,
    /// Per user, its range in `order`.
    pub ranges: Vec<Range<Pos>>,
}

/// Assigns key ids in first-seen order through one dense table per key kind.
struct KeyTable {
    by_kind: [Vec<u32>; 3],
    keys: Vec<UserKey>,
}

impl KeyTable {
    fn new(strings: usize) -> Self {
        Self {
            by_kind: [
                vec![PENDING; strings],
                vec![PENDING; strings],
                vec![PENDING; strings],
            ],
            keys: Vec::new(),
        }
    }

    fn id(&mut self, kind: KeyKind, sym: Sym) -> u32 {
        let slot = &mut self.by_kind[kind as usize][sym.idx()];
        if *slot == PENDING {
            *slot = u32::try_from(self.keys.len()).unwrap_or(PENDING - 1);
            self.keys.push(UserKey { kind, id: sym });
        }
        *slot
    }
}

fn direct_key(ids: Ids) -> Option<(KeyKind, Sym)> {
    if ids.amplitude_id.is_some() {
        Some((KeyKind::AmplitudeId, ids.amplitude_id))
    } else if ids.user_id.is_some() {
        Some((KeyKind::UserId, ids.user_id))
    } else {
        None
    }
}

pub(super) fn group(store: &EventStore) -> Grouping {
    let events = store.events();
    let ids = store.id_table();
    let mut table = KeyTable::new(store.strings.len());
    let mut key_of: Vec<u32> = events
        .iter()
        .map(|e| direct_key(ids.get(e.ids)).map_or(PENDING, |(kind, sym)| table.id(kind, sym)))
        .collect();
    resolve_anonymous(events, ids, &mut key_of, &mut table);

    // Order keys by (kind, id text) so output does not depend on input order. Each key is
    // sorted with the first eight bytes of its text beside it, so that most comparisons
    // need not fetch the texts (scattered over the string arena): zero-padded prefixes in
    // big-endian order compare as the texts do, and equal ones fall back to the texts.
    let prefix = |sym: Sym| {
        let text = store.strings.get(sym).as_bytes();
        let mut bytes = [0u8; 8];
        let n = text.len().min(8);
        bytes[..n].copy_from_slice(&text[..n]);
        u64::from_be_bytes(bytes)
    };
    let mut by_name: Vec<(KeyKind, u64, u32)> = table
        .keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            (
                key.kind,
                prefix(key.id),
                u32::try_from(k).unwrap_or(u32::MAX),
            )
        })
        .collect();
    by_name.sort_unstable_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
            let (ka, kb) = (table.keys[a.2 as usize], table.keys[b.2 as usize]);
            store.strings.get(ka.id).cmp(store.strings.get(kb.id))
        })
    });
    let mut rank = vec![0u32; by_name.len()];
    for (r, &(_, _, k)) in by_name.iter().enumerate() {
        rank[k as usize] = u32::try_from(r).unwrap_or(u32::MAX);
    }
    let keys: Vec<UserKey> = by_name
        .iter()
        .map(|&(_, _, k)| table.keys[k as usize])
        .collect();
    for k in &mut key_of {
        *k = rank[*k as usize];
    }

    // Counting sort by user, then each user's events by (time, input order).
    let mut starts = vec![0u32; keys.len() + 1];
    for &k in &key_of {
        starts[k as usize + 1] += 1;
    }
    for u in 0..keys.len() {
        starts[u + 1] += starts[u];
    }
    let mut next = starts.clone();
    let mut order = vec![EventIx::default(); events.len()];
    for (i, &k) in key_of.iter().enumerate() {
        let slot = &mut next[k as usize];
        order[*slot as usize] = EventIx::from_usize(i);
        *slot += 1;
    }
    drop(key_of);
    let ranges: Vec<Range<Pos>> = starts
        .windows(2)
        .map(|w| Pos::new(w[0])..Pos::new(w[1]))
        .collect();
    // Each user's times are fetched into a small buffer first, in a loop of independent
    // loads (the events are scattered over the store), and sorted there: sorting by a key
    // read through the index would wait on each event's cache miss in turn.
    split_by_ranges(&mut order, ranges.iter().map(IxRange::idx))
        .into_par_iter()
        .for_each_init(Vec::new, |keyed: &mut Vec<(i64, EventIx)>, slice| {
            keyed.clear();
            keyed.extend(slice.iter().map(|&i| (events[i].time, i)));
            keyed.sort_unstable();
            for (slot, &(_, i)) in slice.iter_mut().zip(keyed.iter()) {
                *slot = i;
            }
        });
    Grouping {
        keys,
        order,
        ranges,
    }
}

/// §2 rule 3: an anonymous event on device D joins the last user seen on D at or before
/// its time, else the first one after it, else the device itself.
fn resolve_anonymous(events: &[EventRec], ids: &IdTable, key_of: &mut [u32], table: &mut KeyTable) {
    if !key_of.contains(&PENDING) {
        return;
    }
    // Identified events on a device, "with a user_id", by (device, time, input order).
    let mut known: Vec<(Sym, i64, u32)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e, ids.get(e.ids)))
        .filter(|(_, _, ids)| ids.device_id.is_some() && ids.user_id.is_some())
        .map(|(i, e, ids)| (ids.device_id, e.time, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    known.par_sort_unstable();
    for (i, e) in events.iter().enumerate() {
        if key_of[i] != PENDING {
            continue;
        }
        let device = ids.get(e.ids).device_id;
        let lo = known.partition_point(|&(d, _, _)| d < device);
        let hi = known.partition_point(|&(d, _, _)| d <= device);
        let on_device = &known[lo..hi];
        // Entries at or before this event's time come first in the sorted slice.
        let at_or_before = on_device.partition_point(|&(_, t, _)| t <= e.time);
        let pick = if at_or_before > 0 {
            on_device.get(at_or_before - 1)
        } else {
            on_device.first()
        };
        key_of[i] = match pick {
            Some(&(_, _, j)) => key_of[j as usize],
            None => table.id(KeyKind::Device, device),
        };
    }
}

/// Splits `slice` into the disjoint sub-slices named by consecutive, adjacent `ranges`.
pub(super) fn split_by_ranges<T>(
    mut slice: &mut [T],
    ranges: impl ExactSizeIterator<Item = Range<usize>>,
) -> Vec<&mut [T]> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut at = 0;
    for r in ranges {
        let (_, rest) = slice.split_at_mut(r.start - at);
        let (this, rest) = rest.split_at_mut(r.end - r.start);
        out.push(this);
        slice = rest;
        at = r.end;
    }
    out
}
