//! The capture: the NDJSON file every accepted event is appended to before it is
//! acknowledged, and the store of everything received that the query API reads.
//!
//! Durability: a request's lines are written with one `write_all` on an unbuffered file
//! (so they are in the kernel's hands when it returns, and survive the process being
//! killed) before the 200 goes out. There is no fsync per request: a crash of the whole
//! machine (not of the process) can lose what the OS had not yet written. A process
//! killed in the middle of a write can leave half a line, which was never acknowledged;
//! on resume it is reported as a rejected record and the file gets a newline so the next
//! line starts clean.
//!
//! Resume: opening an existing capture loads its events (the same loader as any file),
//! so the store, the query API and the duplicate check continue where they stopped.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::listen::request::{DEDUP_WINDOW_MS, Dedup, Line, dedup_key};
use crate::source::feed::LineFeed;
use crate::source::{self, LoadOptions};
use crate::store::{EventStore, Segment};

/// The dedup keys received ([`Dedup`]: device and insert_id) with their event times, in
/// shards: a hash map grows by doubling, and doubling one map of millions of keys takes a
/// noticeable time while the capture lock is held (a benchmark saw 70–190 ms stalls at
/// 1–2 million ids). Each shard holds 1/64th of the keys, so its resizes are 64 times
/// shorter.
#[derive(Debug)]
struct Seen {
    shards: Vec<Shard>,
}

/// One shard of [`Seen`]: the first time of each key, and the further times of keys sent
/// again more than [`DEDUP_WINDOW_MS`] apart (rare).
#[derive(Debug, Default)]
struct Shard {
    first: FxHashMap<u128, i64>,
    more: FxHashMap<u128, Vec<i64>>,
}

/// Shards of [`Seen`] (a power of two).
const SEEN_SHARDS: usize = 64;

/// Whether two event times are within the dedup window (no overflow at any `i64`).
fn within_window(a: i64, b: i64) -> bool {
    a.abs_diff(b) <= DEDUP_WINDOW_MS.unsigned_abs()
}

impl Seen {
    fn new() -> Self {
        Self {
            shards: (0..SEEN_SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    fn shard(&mut self, key: u128) -> &mut Shard {
        // The keys are xxh3 hashes: their top bits are as good as any.
        let i = (key >> 122) as usize & (SEEN_SHARDS - 1);
        &mut self.shards[i]
    }

    /// Adds `d`; false when a key equal to it within the window was already there.
    fn insert(&mut self, d: Dedup) -> bool {
        let shard = self.shard(d.key);
        match shard.first.entry(d.key) {
            Entry::Vacant(v) => {
                v.insert(d.time);
                true
            }
            Entry::Occupied(o) => {
                if within_window(*o.get(), d.time) {
                    return false;
                }
                let more = shard.more.entry(d.key).or_default();
                if more.iter().any(|&t| within_window(t, d.time)) {
                    return false;
                }
                more.push(d.time);
                true
            }
        }
    }

    /// Takes back the latest [`Self::insert`] of `d` (undo in reverse order).
    fn remove(&mut self, d: Dedup) {
        let shard = self.shard(d.key);
        if let Some(more) = shard.more.get_mut(&d.key)
            && more.last() == Some(&d.time)
        {
            more.pop();
            if more.is_empty() {
                shard.more.remove(&d.key);
            }
            return;
        }
        if shard.first.get(&d.key) == Some(&d.time) {
            shard.first.remove(&d.key);
        }
    }
}

/// The capture file, the store of what it holds and the insert_ids seen.
pub struct Capture {
    path: PathBuf,
    file: File,
    /// Everything received (source 0 = the capture file, segment 0).
    pub store: EventStore,
    feed: LineFeed,
    seen: Seen,
    /// The last [`Capture::snapshot`], reused while the store has not changed.
    snapshot: Option<std::sync::Arc<EventStore>>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("path", &self.path)
            .field("events", &self.store.events().len())
            .finish_non_exhaustive()
    }
}

/// What [`Capture::append`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events written.
    pub written: usize,
    /// Events skipped: one with the same `device_id` and insert_id within 7 days of event
    /// time was already received.
    pub duplicates: usize,
}

impl Capture {
    /// Opens (creating it if needed) the capture at `path` and loads what it holds.
    pub fn open(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let mut len = file.metadata()?.len();
        if len > 0 {
            // Half a line left by a killed process: end it, so the next line is whole.
            file.seek(SeekFrom::Start(len - 1))?;
            let mut last = [0u8];
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                len += 1;
            }
        }
        let mut store = EventStore::new();
        let src = store.add_source(path.display().to_string());
        let opts = LoadOptions {
            keep_raw: true,
            ..LoadOptions::default()
        };
        let name = path.display().to_string();
        if len > 0 {
            source::load(&name, src, &opts, &mut |ev| store.apply(ev));
        } else {
            store.apply(crate::store::LoadEvent::Member {
                source: src,
                segment: Segment::File(path.to_path_buf()),
                name,
            });
        }
        let mut seen = Seen::new();
        for e in store.events() {
            if let Some(k) = e.dedup_key() {
                seen.insert(Dedup {
                    key: dedup_key(store.strings.get(store.ids(e).device_id), k),
                    time: e.time,
                });
            }
        }
        let line_count = count_lines(path, len)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            feed: LineFeed::new(src, 0, len, line_count, true),
            store,
            seen,
            snapshot: None,
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events held.
    #[must_use]
    pub fn events(&self) -> usize {
        self.store.events().len()
    }

    /// Writes the lines of a request's accepted events that were not received before
    /// (by `device_id` and insert_id within 7 days, see [`Dedup`]), then adds them to the store. Returns once the bytes are written.
    pub fn append(&mut self, capture: &[u8], lines: &[Line]) -> io::Result<Appended> {
        let mut out = Vec::with_capacity(capture.len());
        let mut done = Appended::default();
        let mut added = Vec::new();
        for line in lines {
            if let Some(d) = line.dedup {
                if !self.seen.insert(d) {
                    done.duplicates += 1;
                    continue;
                }
                added.push(d);
            }
            out.extend_from_slice(&capture[line.range.clone()]);
            done.written += 1;
        }
        if out.is_empty() {
            return Ok(done);
        }
        if let Err(e) = self.file.write_all(&out) {
            // Not acknowledged: take back what part of it was written (a disk that
            // filled up mid-write), and let a resend through again.
            let _ = self.file.set_len(self.feed.offset());
            for d in added.into_iter().rev() {
                self.seen.remove(d);
            }
            return Err(e);
        }
        if let Some(ev) = self.feed.push(&out) {
            self.store.apply(ev);
        }
        Ok(done)
    }

    /// A copy of the store to analyse without holding the capture's lock: the query API
    /// takes it under the lock (reused while nothing was appended; brought up to date
    /// with only the additions when no query still holds the previous copy, see
    /// [`EventStore::catch_up`]), then analyses it while appends go on.
    pub fn snapshot(&mut self) -> std::sync::Arc<EventStore> {
        match &self.snapshot {
            Some(s)
                if s.generation == self.store.generation && s.events().len() == self.events() =>
            {
                std::sync::Arc::clone(s)
            }
            _ => {
                // The previous copy, when no query holds it any more, is brought up to
                // date with what was appended since (a copy of the additions only);
                // otherwise the store is copied whole.
                let mut previous = self.snapshot.take();
                let caught_up = previous
                    .as_mut()
                    .and_then(std::sync::Arc::get_mut)
                    .is_some_and(|copy| copy.catch_up(&self.store));
                let s = match previous {
                    Some(p) if caught_up => p,
                    _ => std::sync::Arc::new(self.store.clone()),
                };
                self.snapshot = Some(std::sync::Arc::clone(&s));
                s
            }
        }
    }

    /// Starts afresh: the current file becomes an archive named from `stamp` (see
    /// [`super::archive_path`]) and a new, empty one takes its place; the store and the
    /// insert_ids seen are forgotten. Returns the archive's path.
    ///
    /// The archive name is claimed exclusively: the file is hard-linked to it (which
    /// fails when the name exists, unlike a rename, which would replace it) and the
    /// next candidate is tried when it is taken, so an archive is never overwritten,
    /// whatever the clock says. Where hard links are not supported, the archive is
    /// created with `create_new` and the capture copied into it. The caller holds the
    /// capture's lock, so no append runs between the archive and the new file.
    pub fn reset(&mut self, stamp: &str) -> io::Result<PathBuf> {
        let archive = self.claim_archive(stamp)?;
        std::fs::remove_file(&self.path)?;
        *self = Self::open(&self.path.clone())?;
        Ok(archive)
    }

    fn claim_archive(&self, stamp: &str) -> io::Result<PathBuf> {
        for attempt in 0..10_000 {
            let archive = super::archive_path(&self.path, stamp, attempt);
            match std::fs::hard_link(&self.path, &archive) {
                Ok(()) => return Ok(archive),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(_) => match OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&archive)
                {
                    Ok(mut out) => {
                        let mut from = File::open(&self.path)?;
                        if let Err(e) = io::copy(&mut from, &mut out).and_then(|_| out.sync_all()) {
                            let _ = std::fs::remove_file(&archive);
                            return Err(e);
                        }
                        return Ok(archive);
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                },
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "every archive name for {} at {stamp} is taken",
                self.path.display()
            ),
        ))
    }
}

fn count_lines(path: &Path, len: u64) -> io::Result<u64> {
    if len == 0 {
        return Ok(0);
    }
    let mut file = File::open(path)?.take(len);
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let read = file.read(&mut buf)?;
        if read == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::request::{Endpoint, Settings, check};

    fn body(ids: &[&str]) -> Vec<u8> {
        let events: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(r#"{{"event_type":"e","user_id":"user-1","time":1000,"insert_id":"{id}"}}"#)
            })
            .collect();
        format!(r#"{{"api_key":"k","events":[{}]}}"#, events.join(",")).into_bytes()
    }

    fn send(c: &mut Capture, ids: &[&str]) -> Appended {
        let o = check(&body(ids), Endpoint::HttpApi, &Settings::default(), 5);
        c.append(&o.capture, &o.lines).unwrap()
    }

    #[test]
    fn appends_skip_insert_ids_already_received_and_resume_knows_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/capture.ndjson");
        let mut c = Capture::open(&path).unwrap();
        assert_eq!(send(&mut c, &["a", "b"]).written, 2);
        let again = send(&mut c, &["b", "c", "c"]);
        assert_eq!((again.written, again.duplicates), (1, 2));
        assert_eq!(c.events(), 3);
        let raw = crate::source::raw::read_raw(
            &c.store,
            c.store.raw(crate::index::EventIx::new(2)).unwrap(),
        )
        .unwrap();
        assert!(
            raw.ends_with(
                br#""insert_id":"c","server_received_time":"1970-01-01 00:00:00.005000"}"#
            )
        );
        drop(c);
        let mut c = Capture::open(&path).unwrap();
        assert_eq!(c.events(), 3);
        assert_eq!(send(&mut c, &["a", "d"]).written, 1);
        let raw = crate::source::raw::read_raw(
            &c.store,
            c.store.raw(crate::index::EventIx::new(3)).unwrap(),
        )
        .unwrap();
        assert!(raw.windows(3).any(|w| w == br#""d""#));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
    }

    fn send_raw(c: &mut Capture, events: &str) -> Appended {
        let body = format!(r#"{{"api_key":"k","events":[{events}]}}"#);
        let o = check(body.as_bytes(), Endpoint::HttpApi, &Settings::default(), 5);
        assert_eq!(o.status(), 200, "{:?}", o.answer);
        c.append(&o.capture, &o.lines).unwrap()
    }

    #[test]
    fn duplicates_are_per_device_within_seven_days_of_event_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.ndjson");
        let mut c = Capture::open(&path).unwrap();
        let ev = |device: &str, time: i64| {
            format!(
                r#"{{"event_type":"e","device_id":"{device}","time":{time},"insert_id":"same"}}"#
            )
        };
        let week = DEDUP_WINDOW_MS;
        let both = send_raw(
            &mut c,
            &format!("{},{}", ev("deviceA", 0), ev("deviceB", 0)),
        );
        assert_eq!(
            (both.written, both.duplicates),
            (2, 0),
            "two devices, two events"
        );
        // (what, event, written)
        let cases = [
            (
                "same device, a week later: the same event",
                ev("deviceA", week),
                0,
            ),
            ("same device, a week earlier", ev("deviceA", -week), 0),
            (
                "same device, over a week later: a new event",
                ev("deviceA", week + 1),
                1,
            ),
            ("that one's resend", ev("deviceA", week + 1), 0),
            ("within a week of the second", ev("deviceA", 2 * week), 0),
            ("extreme times do not overflow", ev("deviceA", i64::MAX), 1),
            ("the other extreme", ev("deviceA", i64::MIN + 1), 1),
        ];
        for (what, event, written) in &cases {
            assert_eq!(send_raw(&mut c, event).written, *written, "{what}");
        }
        drop(c);
        let mut c = Capture::open(&path).unwrap();
        assert_eq!(c.events(), 5);
        for (what, event, _) in &cases {
            assert_eq!(send_raw(&mut c, event).written, 0, "after resume: {what}");
        }
    }

    #[test]
    fn snapshots_are_reused_until_an_append_and_outlive_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Capture::open(&dir.path().join("capture.ndjson")).unwrap();
        send(&mut c, &["a"]);
        let first = c.snapshot();
        assert!(
            std::sync::Arc::ptr_eq(&first, &c.snapshot()),
            "nothing changed"
        );
        send(&mut c, &["b"]);
        let second = c.snapshot();
        assert_eq!((first.events().len(), second.events().len()), (1, 2));
        // No query holds the previous copy any more: it is brought up to date in place
        // (only the additions copied) and equals the store.
        let at = std::sync::Arc::as_ptr(&second);
        drop((first, second));
        send(&mut c, &["c", "d"]);
        let third = c.snapshot();
        assert_eq!(std::sync::Arc::as_ptr(&third), at, "caught up, not copied");
        assert_eq!(third.events(), c.store.events());
        assert!(third.strings.iter().eq(c.store.strings.iter()));
    }

    #[test]
    fn half_a_line_left_by_a_kill_is_ended_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.ndjson");
        let mut c = Capture::open(&path).unwrap();
        send(&mut c, &["a"]);
        drop(c);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"event_type":"half"#).unwrap();
        drop(f);
        let mut c = Capture::open(&path).unwrap();
        assert_eq!(c.events(), 1);
        assert_eq!(c.store.rejected(), 1);
        send(&mut c, &["b"]);
        let c = Capture::open(&path).unwrap();
        assert_eq!(c.events(), 2);
        assert_eq!(c.store.rejects[0].loc.line, 2);
    }

    #[test]
    fn reset_archives_the_file_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.ndjson");
        let mut c = Capture::open(&path).unwrap();
        send(&mut c, &["a"]);
        let archive = c.reset("20261123-201500.123").unwrap();
        assert_eq!(
            archive,
            dir.path().join("capture.20261123-201500.123.ndjson")
        );
        assert_eq!(c.events(), 0);
        assert_eq!(send(&mut c, &["a"]).written, 1, "ids are forgotten");
        assert_eq!(
            std::fs::read_to_string(&archive).unwrap().lines().count(),
            1
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }

    #[test]
    fn resets_with_the_same_stamp_never_overwrite_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.ndjson");
        let mut c = Capture::open(&path).unwrap();
        let mut archives = Vec::new();
        for i in 0..5 {
            let id = format!("id-{i}");
            send(&mut c, &[id.as_str()]);
            // Two resets in the same millisecond: the second archives an empty file.
            archives.push(c.reset("20261123-201500.123").unwrap());
            archives.push(c.reset("20261123-201500.123").unwrap());
        }
        let names: std::collections::HashSet<_> = archives.iter().collect();
        assert_eq!(names.len(), 10, "every archive has its own name");
        let mut all = String::new();
        for a in &archives {
            all.push_str(&std::fs::read_to_string(a).unwrap());
        }
        for i in 0..5 {
            assert_eq!(all.matches(&format!("\"id-{i}\"")).count(), 1);
        }
        assert_eq!(
            archives[3],
            dir.path().join("capture.20261123-201500.123-3.ndjson")
        );
    }
}
