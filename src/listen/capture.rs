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

use rustc_hash::FxHashSet;

use crate::listen::request::Line;
use crate::source::feed::LineFeed;
use crate::source::{self, LoadOptions};
use crate::store::{EventStore, Segment};

/// The insert_ids received, in shards: a hash set grows by doubling, and doubling one
/// set of millions of ids takes a noticeable time while the capture lock is held (a
/// benchmark saw 70–190 ms stalls at 1–2 million ids). Each shard holds 1/64th of the ids,
/// so its resizes are 64 times shorter.
#[derive(Debug)]
struct Seen {
    shards: Vec<FxHashSet<u128>>,
}

/// Shards of [`Seen`] (a power of two).
const SEEN_SHARDS: usize = 64;

impl Seen {
    fn new() -> Self {
        Self {
            shards: (0..SEEN_SHARDS).map(|_| FxHashSet::default()).collect(),
        }
    }

    fn shard(&mut self, id: u128) -> &mut FxHashSet<u128> {
        // The ids are xxh3 hashes: their top bits are as good as any.
        let i = (id >> 122) as usize & (SEEN_SHARDS - 1);
        &mut self.shards[i]
    }

    /// Adds `id`; false when it was already there.
    fn insert(&mut self, id: u128) -> bool {
        self.shard(id).insert(id)
    }

    fn remove(&mut self, id: u128) {
        self.shard(id).remove(&id);
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
    /// Events skipped: their insert_id was already received.
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
        for [lo, hi] in store.events().iter().filter_map(|e| e.dedup_key()) {
            seen.insert(u128::from(lo) | (u128::from(hi) << 64));
        }
        let line_count = count_lines(path, len)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            feed: LineFeed::new(src, 0, len, line_count, true),
            store,
            seen,
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
    /// (by insert_id), then adds them to the store. Returns once the bytes are written.
    pub fn append(&mut self, capture: &[u8], lines: &[Line]) -> io::Result<Appended> {
        let mut out = Vec::with_capacity(capture.len());
        let mut done = Appended::default();
        let mut added = Vec::new();
        for line in lines {
            if let Some(id) = line.insert_id {
                if !self.seen.insert(id) {
                    done.duplicates += 1;
                    continue;
                }
                added.push(id);
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
            for id in added {
                self.seen.remove(id);
            }
            return Err(e);
        }
        if let Some(ev) = self.feed.push(&out) {
            self.store.apply(ev);
        }
        Ok(done)
    }

    /// Starts afresh: the current file is renamed to `archive` and a new, empty one
    /// takes its place; the store and the insert_ids seen are forgotten.
    pub fn reset(&mut self, archive: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, archive)?;
        *self = Self::open(&self.path.clone())?;
        Ok(())
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
        let archive = dir.path().join("capture.old.ndjson");
        c.reset(&archive).unwrap();
        assert_eq!(c.events(), 0);
        assert_eq!(send(&mut c, &["a"]).written, 1, "ids are forgotten");
        assert_eq!(
            std::fs::read_to_string(&archive).unwrap().lines().count(),
            1
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
