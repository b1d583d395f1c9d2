//! Reading an event's raw JSON text again, from the [`RawLoc`] the decoder recorded.
//!
//! The store keeps only a compact record per event; views that show the full event (the
//! TUI's detail pane, its key-property columns, NDJSON export) read the bytes back from
//! the source on demand. Every [`Segment`] kind is supported:
//!
//! | segment | how |
//! |---|---|
//! | `File` | seek to the offset and read |
//! | `Gzip` | decompress from the start and skip to the offset (offsets are decompressed) |
//! | `ZipMember` | open the member by name (from the local headers when the archive's directory is damaged), un-gzip it when its content is gzip, skip |
//! | `Memory` | slice |
//!
//! Compressed segments cannot seek, so reading one event costs decompressing everything
//! before it. [`read_many`] groups requests by segment and reads each segment once, in
//! offset order, so a batch (the visible rows, an export) costs one pass per segment.
//! As in the loader, gzip is detected from content, not from names.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::event::RawLoc;
use crate::index::SourceIx;
use crate::store::{EventStore, Segment};

/// The segments a set of raw locations needs, cloned out of the store (paths, or shared
/// bytes), so that a worker thread can read them while the store keeps growing.
#[derive(Clone, Debug, Default)]
pub struct SegmentSet {
    segments: Vec<((SourceIx, u32), Segment)>,
}

impl SegmentSet {
    /// The segments of `locs`.
    #[must_use]
    pub fn for_locs(store: &EventStore, locs: &[RawLoc]) -> Self {
        let mut segments: Vec<((SourceIx, u32), Segment)> = Vec::new();
        for loc in locs {
            let key = (loc.source, loc.segment);
            if segments.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if let Some(seg) = store
                .sources
                .get(loc.source.idx())
                .and_then(|s| s.members.get(loc.segment as usize))
            {
                segments.push((key, seg.clone()));
            }
        }
        Self { segments }
    }

    fn get(&self, loc: RawLoc) -> io::Result<&Segment> {
        self.segments
            .iter()
            .find(|(k, _)| *k == (loc.source, loc.segment))
            .map(|(_, s)| s)
            .ok_or_else(|| missing_segment(loc))
    }
}

/// Whether reading at `loc` is cheap (bytes in memory or a seekable plain file), so it
/// can be done on the UI thread; compressed segments need a pass over what precedes it.
#[must_use]
pub fn is_cheap(store: &EventStore, loc: RawLoc) -> bool {
    matches!(
        segment_of(store, loc),
        Ok(Segment::Memory(_) | Segment::File(_))
    )
}

/// Reads the raw JSON text of one event.
pub fn read_raw(store: &EventStore, loc: RawLoc) -> io::Result<Vec<u8>> {
    let segment = segment_of(store, loc)?;
    match segment {
        Segment::Memory(bytes) => slice(bytes, loc).map(<[u8]>::to_vec),
        Segment::File(path) => {
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(loc.offset))?;
            read_len(&mut file, loc.len)
        }
        Segment::Gzip(_) | Segment::ZipMember { .. } => {
            let mut reader = open_stream(segment)?;
            skip(&mut reader, loc.offset)?;
            read_len(&mut reader, loc.len)
        }
        Segment::Gone(why) => Err(gone(why)),
    }
}

fn gone(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, why.to_string())
}

/// What changed in the `user_properties` behind a session's `end_props_changed` flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndPropsDiff {
    /// The last active event and the end marker compared.
    pub pair: crate::analysis::EndPropsPair,
    /// The properties that differ, or why the events could not be read again.
    pub changes: Result<Vec<crate::analysis::PropChange>, String>,
}

/// The [`EndPropsDiff`] of every session in `sessions` that carries `end_props_changed`,
/// in order. The store keeps only a hash of each event's `user_properties`, so the text of
/// each side is read back (one pass per segment for all of them): the event itself when
/// raw locations were kept, else an event carrying the same value
/// ([`EventStore::props_example`]; absent, `null` and `{}` need no read), else a location
/// found afterwards ([`EventStore::add_raw`]).
#[must_use]
pub fn end_props_diffs(
    store: &EventStore,
    a: &crate::analysis::Analysis,
    sessions: impl IntoIterator<Item = crate::index::SessionIx>,
) -> Vec<(crate::index::SessionIx, EndPropsDiff)> {
    use crate::analysis::{end_props_pairs, user_properties_diff};
    let pairs: Vec<_> = end_props_pairs(a, store, sessions).collect();
    let mut locs: Vec<RawLoc> = Vec::with_capacity(pairs.len() * 2);
    // Per side: the text is `{}`, or at `locs[k]`, or unknown.
    let mut side = |e: crate::index::EventIx| -> Option<Option<usize>> {
        let props = store.events()[e.idx()].props_id();
        let empty = store.props_are_empty(props);
        let loc = store.raw(e).or_else(|| {
            (!empty)
                .then(|| store.props_example(props))
                .flatten()
                .filter(|&loc| readable(store, loc))
        });
        match loc {
            Some(loc) => {
                locs.push(loc);
                Some(Some(locs.len() - 1))
            }
            None if empty => Some(None),
            None => None,
        }
    };
    let wanted: Vec<_> = pairs
        .iter()
        .map(|(_, p)| (side(p.last_active), side(p.end_marker)))
        .collect();
    let mut texts: Vec<Option<io::Result<Vec<u8>>>> =
        read_many(store, &locs).into_iter().map(Some).collect();
    let mut text = |k: Option<usize>| -> Result<Vec<u8>, String> {
        match k {
            None => Ok(b"{}".to_vec()),
            Some(k) => match texts[k].take() {
                Some(Ok(t)) => Ok(t),
                Some(Err(e)) => Err(format!("the events could not be read again: {e}")),
                None => Err("the events could not be read again".to_string()),
            },
        }
    };
    pairs
        .into_iter()
        .zip(wanted)
        .map(|((s, pair), w)| {
            let changes = match w {
                (Some(old), Some(new)) => match (text(old), text(new)) {
                    (Ok(old), Ok(new)) => user_properties_diff(&old, &new),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                },
                _ => Err("the events' text was not kept".to_string()),
            };
            (s, EndPropsDiff { pair, changes })
        })
        .collect()
}

/// The events of `pairs` (last active event and end marker of `end_props_changed`
/// sessions) whose `user_properties` text cannot be found in `store` by
/// [`end_props_diffs`]: those a report must locate by reading its sources again.
#[must_use]
pub fn unlocated(
    store: &EventStore,
    pairs: impl IntoIterator<Item = crate::analysis::EndPropsPair>,
) -> Vec<crate::index::EventIx> {
    pairs
        .into_iter()
        .flat_map(|p| [p.last_active, p.end_marker])
        .filter(|&e| {
            let props = store.events()[e.idx()].props_id();
            !store.props_are_empty(props)
                && store.raw(e).is_none()
                && !store
                    .props_example(props)
                    .is_some_and(|loc| readable(store, loc))
        })
        .collect()
}

/// Whether the segment of `loc` can be read again (standard input and URL streams keep
/// none when the store keeps no raw locations).
fn readable(store: &EventStore, loc: RawLoc) -> bool {
    store
        .sources
        .get(loc.source.idx())
        .is_some_and(|s| s.members.get(loc.segment as usize).is_some())
}

/// Reads the raw text of many events, one pass per segment. Results are in request order.
pub fn read_many(store: &EventStore, locs: &[RawLoc]) -> Vec<io::Result<Vec<u8>>> {
    read_many_in(&SegmentSet::for_locs(store, locs), locs)
}

/// [`read_many`] over segments taken out of the store (for worker threads).
pub fn read_many_in(segments: &SegmentSet, locs: &[RawLoc]) -> Vec<io::Result<Vec<u8>>> {
    let mut out: Vec<Option<io::Result<Vec<u8>>>> = (0..locs.len()).map(|_| None).collect();
    let mut order: Vec<usize> = (0..locs.len()).collect();
    order.sort_by_key(|&i| (locs[i].source, locs[i].segment, locs[i].offset));
    let mut k = 0;
    while k < order.len() {
        let first = locs[order[k]];
        let mut end = k;
        while end < order.len()
            && locs[order[end]].source == first.source
            && locs[order[end]].segment == first.segment
        {
            end += 1;
        }
        let group = &order[k..end];
        match segments.get(first) {
            Err(e) => {
                for &i in group {
                    out[i] = Some(Err(io::Error::new(e.kind(), e.to_string())));
                }
            }
            Ok(Segment::Memory(bytes)) => {
                for &i in group {
                    out[i] = Some(slice(bytes, locs[i]).map(<[u8]>::to_vec));
                }
            }
            Ok(Segment::File(path)) => {
                let file = File::open(path);
                for &i in group {
                    out[i] = Some(match &file {
                        Ok(f) => {
                            let mut f = f;
                            f.seek(SeekFrom::Start(locs[i].offset))
                                .and_then(|_| read_len(&mut f, locs[i].len))
                        }
                        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                    });
                }
            }
            Ok(segment) => read_sequential(segment, group, locs, &mut out),
        }
        k = end;
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(io::Error::other("not read"))))
        .collect()
}

/// Reads a group of requests (sorted by offset) from one compressed segment in one pass.
fn read_sequential(
    segment: &Segment,
    group: &[usize],
    locs: &[RawLoc],
    out: &mut [Option<io::Result<Vec<u8>>>],
) {
    let mut reader = match open_stream(segment) {
        Ok(r) => r,
        Err(e) => {
            for &i in group {
                out[i] = Some(Err(io::Error::new(e.kind(), e.to_string())));
            }
            return;
        }
    };
    // Records never overlap, but keep the last one in case two requests name the same event.
    let mut pos = 0u64;
    let mut last: Option<(RawLoc, Vec<u8>)> = None;
    for &i in group {
        let loc = locs[i];
        if let Some((prev, bytes)) = &last
            && *prev == loc
        {
            out[i] = Some(Ok(bytes.clone()));
            continue;
        }
        let result = if loc.offset < pos {
            Err(io::Error::other("overlapping raw locations"))
        } else {
            skip(&mut reader, loc.offset - pos).and_then(|()| read_len(&mut reader, loc.len))
        };
        match result {
            Ok(bytes) => {
                pos = loc.offset + u64::from(loc.len);
                last = Some((loc, bytes.clone()));
                out[i] = Some(Ok(bytes));
            }
            Err(e) => {
                // The stream is in an unknown place now: fail the rest of the group.
                let message = e.to_string();
                out[i] = Some(Err(e));
                for &j in group {
                    if out[j].is_none() {
                        out[j] = Some(Err(io::Error::other(message.clone())));
                    }
                }
                return;
            }
        }
    }
}

fn segment_of(store: &EventStore, loc: RawLoc) -> io::Result<&Segment> {
    store
        .sources
        .get(loc.source.idx())
        .and_then(|s| s.members.get(loc.segment as usize))
        .ok_or_else(|| missing_segment(loc))
}

fn slice(bytes: &[u8], loc: RawLoc) -> io::Result<&[u8]> {
    let start = usize::try_from(loc.offset).map_err(io::Error::other)?;
    let end = start.saturating_add(loc.len as usize);
    bytes.get(start..end).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the raw location is past the end of the data",
        )
    })
}

fn read_len(reader: &mut dyn Read, len: u32) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len as usize];
    reader.read_exact(&mut buf)?;
    Ok(buf)
}

fn skip(reader: &mut dyn Read, n: u64) -> io::Result<()> {
    let skipped = io::copy(&mut reader.take(n), &mut io::sink())?;
    if skipped < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the raw location is past the end of the data",
        ));
    }
    Ok(())
}

/// A reader over the decoded bytes of a compressed segment (gzip unwrapped, as often as
/// the content says, like the loader does).
fn open_stream(segment: &Segment) -> io::Result<Box<dyn BufRead>> {
    match segment {
        Segment::Gzip(path) | Segment::File(path) => {
            let file = BufReader::with_capacity(1 << 16, File::open(path)?);
            unwrap_gzip(Box::new(file))
        }
        Segment::ZipMember { archive, name, .. } => {
            let bytes = zip_member(archive, name)?;
            unwrap_gzip(Box::new(io::Cursor::new(bytes)))
        }
        Segment::Memory(bytes) => unwrap_gzip(Box::new(io::Cursor::new(bytes.clone()))),
        Segment::Gone(why) => Err(gone(why)),
    }
}

fn unwrap_gzip(mut reader: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
    loop {
        let head = reader.fill_buf()?;
        if !head.starts_with(&[0x1f, 0x8b]) {
            return Ok(reader);
        }
        let gz = flate2::read::MultiGzDecoder::new(reader);
        reader = Box::new(BufReader::with_capacity(1 << 16, gz));
    }
}

/// The (still compressed if gzip) bytes of one zip member.
///
/// Zip members borrow their archive, so the member is read into memory; it is one member
/// of an Export archive (an hour of events), not the archive.
fn zip_member(archive: &Path, name: &str) -> io::Result<Vec<u8>> {
    let file = BufReader::new(File::open(archive)?);
    let mut bytes = Vec::new();
    match zip::ZipArchive::new(file) {
        Ok(mut zip) => {
            let mut member = zip.by_name(name).map_err(io::Error::other)?;
            member.read_to_end(&mut bytes)?;
            Ok(bytes)
        }
        Err(_) => {
            // A damaged directory: walk the local headers, as the loader did.
            let mut file = BufReader::new(File::open(archive)?);
            loop {
                match zip::read::read_zipfile_from_stream(&mut file) {
                    Ok(Some(mut member)) => {
                        if member.name().is_ok_and(|n| n == name) {
                            // A truncated member still yields the bytes before the damage.
                            let _ = member.read_to_end(&mut bytes);
                            return Ok(bytes);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(io::Error::other(e)),
                }
            }
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no member '{name}' in '{}'", archive.display()),
            ))
        }
    }
}

/// The error for a raw location whose segment the store does not know.
fn missing_segment(loc: RawLoc) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no segment {} in source {} for this event",
            loc.segment,
            loc.source.raw()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use super::*;
    use crate::index::EventIx;
    use crate::source::{LoadOptions, load};

    const LINES: [&str; 3] = [
        r#"{"event_type":"a","user_id":"u","time":1,"session_id":1}"#,
        r#"{"event_type":"b","user_id":"u","time":2,"session_id":1,"event_properties":{"k":"v"}}"#,
        r#"{"event_type":"c","user_id":"v","time":3}"#,
    ];

    fn ndjson() -> String {
        LINES.join("\n") + "\n"
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn load_path(path: &Path) -> EventStore {
        let mut store = EventStore::new();
        let src = store.add_source(path.display().to_string());
        let opts = LoadOptions {
            keep_raw: true,
            ..LoadOptions::default()
        };
        let spec = path.to_str().unwrap().to_string();
        let mut events = Vec::new();
        load(&spec, src, &opts, &mut |ev| events.push(ev));
        for ev in events {
            store.apply(ev);
        }
        store
    }

    fn check(store: &EventStore, want: &[&str]) {
        assert_eq!(store.events().len(), want.len());
        for (i, w) in want.iter().enumerate() {
            let loc = store.raw(EventIx::from_usize(i)).unwrap();
            let got = read_raw(store, loc).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), *w, "event {i}");
        }
        let locs: Vec<RawLoc> = (0..want.len())
            .rev()
            .map(|i| store.raw(EventIx::from_usize(i)).unwrap())
            .collect();
        let many = read_many(store, &locs);
        for (k, got) in many.into_iter().enumerate() {
            let i = want.len() - 1 - k;
            assert_eq!(
                String::from_utf8(got.unwrap()).unwrap(),
                want[i],
                "batch {i}"
            );
        }
    }

    #[test]
    fn a_plain_file_is_read_at_its_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ndjson");
        std::fs::write(&path, ndjson()).unwrap();
        check(&load_path(&path), &LINES);
    }

    #[test]
    fn a_gzip_file_is_read_in_its_decompressed_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ndjson.gz");
        std::fs::write(&path, gzip(ndjson().as_bytes())).unwrap();
        check(&load_path(&path), &LINES);
    }

    #[test]
    fn zip_members_gzipped_or_not_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.zip");
        let file = File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.add_directory("123/", opts).unwrap();
        zip.start_file("123/2024-01-01_0.json.gz", opts).unwrap();
        zip.write_all(&gzip(format!("{}\n", LINES[0]).as_bytes()))
            .unwrap();
        zip.start_file("123/2024-01-01_1.json", opts).unwrap();
        zip.write_all(format!("{}\n{}\n", LINES[1], LINES[2]).as_bytes())
            .unwrap();
        zip.finish().unwrap();
        check(&load_path(&path), &LINES);
    }

    #[test]
    fn json_documents_are_read_at_their_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let text = format!("[\n  {},\n  {}\n]\n", LINES[0], LINES[1]);
        std::fs::write(&path, text).unwrap();
        check(&load_path(&path), &LINES[..2]);
        let body = format!(
            "{{\n  \"api_key\": \"k\",\n  \"events\": [\n    {},\n    {}\n  ]\n}}\n",
            LINES[1], LINES[2]
        );
        std::fs::write(&path, body).unwrap();
        check(&load_path(&path), &LINES[1..]);
    }

    #[test]
    fn memory_segments_are_sliced() {
        let mut store = EventStore::new();
        let src = store.add_source("mem");
        let bytes: Arc<[u8]> = Arc::from(ndjson().into_bytes());
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let opts = LoadOptions {
            keep_raw: true,
            ..LoadOptions::default()
        };
        let mut events = Vec::new();
        crate::source::load_bytes(bytes, "mem", src, &opts, &read, &mut |ev| {
            events.push(ev);
        });
        for ev in events {
            store.apply(ev);
        }
        check(&store, &LINES);
    }

    #[test]
    fn a_missing_segment_is_an_error_not_a_panic() {
        let store = EventStore::new();
        let loc = RawLoc {
            source: SourceIx::new(3),
            segment: 0,
            offset: 0,
            len: 4,
        };
        assert!(read_raw(&store, loc).is_err());
        assert!(read_many(&store, &[loc])[0].is_err());
    }

    #[test]
    fn a_location_past_the_end_is_an_error() {
        let mut store = EventStore::new();
        let src = store.add_source("mem");
        store.apply(crate::store::LoadEvent::Member {
            source: src,
            segment: Segment::Memory(Arc::from(&b"{}"[..])),
            name: "mem".into(),
        });
        let loc = RawLoc {
            source: src,
            segment: 0,
            offset: 1,
            len: 10,
        };
        assert!(read_raw(&store, loc).is_err());
    }
}
