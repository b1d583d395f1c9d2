//! The sources' rejected records and unusable-session-id warnings, as the `!` overlay
//! lists them under the endpoint's rejected requests: where (the report's `file:line`,
//! `zip!member:line` or `[index]` form, from [`EventStore::describe`]), why, and the
//! record's raw text read back from its line.
//!
//! The store keeps a record's location, not its bytes, so the text is read back by line
//! number when the overlay opens: one pass per source over its lines up to the last line
//! wanted, keeping at most [`MAX_TEXT`] bytes of each wanted line. Only sources that can
//! be read cheaply are read (plain files, and a source held in memory as one segment,
//! such as stdin); a compressed source (gzip, a zip member) would need decompressing
//! everything before the line on the UI thread, so its records say where to look instead.
//! The text is made safe for the terminal with [`crate::fmt::sanitize`] (invalid UTF-8
//! is replaced) before anything holds it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor};

use crate::event::Location;
use crate::fmt::sanitize;
use crate::store::{EventStore, Segment};

/// Bytes of a record's line kept for display; the rest is counted, not kept.
pub const MAX_TEXT: usize = 4096;

/// What a row of the records section is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A record the decoder rejected (not loaded).
    Rejected,
    /// An accepted event whose `session_id` could not be used (it counts as out of session).
    Warning,
}

impl RecordKind {
    /// Its name in the kind column.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Rejected => "rejected",
            RecordKind::Warning => "warning",
        }
    }
}

/// A line read back, escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLine {
    /// The line's text (at most [`MAX_TEXT`] bytes of it), sanitized.
    pub text: String,
    /// The line's full length in bytes, when more than was kept.
    pub cut_from: Option<u64>,
}

/// One rejected record or warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    /// Rejected record or warning.
    pub kind: RecordKind,
    /// `file:line`, `zip!member:line`, `body.json:3 [2].events[5]` (sanitized).
    pub location: String,
    /// Why (sanitized): the reason, or what the session id was.
    pub what: String,
    /// The raw text of the record's line, or why it cannot be shown.
    pub text: Result<RawLine, String>,
}

/// The store's kept rejected records, then its kept warnings, with their lines' text.
#[must_use]
pub fn rows(store: &EventStore) -> Vec<RecordRow> {
    let locs: Vec<&Location> = store
        .rejects
        .iter()
        .map(|r| &r.loc)
        .chain(store.warnings.iter().map(|w| &w.loc))
        .collect();
    let mut texts = read_lines(store, &locs).into_iter();
    let mut out = Vec::with_capacity(locs.len());
    for r in &store.rejects {
        out.push(RecordRow {
            kind: RecordKind::Rejected,
            location: sanitize(&store.describe(&r.loc)).into_owned(),
            what: sanitize(&r.reason.to_string()).into_owned(),
            text: texts.next().unwrap_or_else(|| Err(String::new())),
        });
    }
    for w in &store.warnings {
        out.push(RecordRow {
            kind: RecordKind::Warning,
            location: sanitize(&store.describe(&w.loc)).into_owned(),
            what: format!("session_id {} counts as out of session", sanitize(&w.value)),
            text: texts.next().unwrap_or_else(|| Err(String::new())),
        });
    }
    out
}

/// The lines at `locs` (their 1-based `line` in their source or member), in order.
#[must_use]
pub fn read_lines(store: &EventStore, locs: &[&Location]) -> Vec<Result<RawLine, String>> {
    let mut out: Vec<Result<RawLine, String>> =
        locs.iter().map(|_| Err("not read".to_string())).collect();
    // Group by (source, member), each group read in one pass in line order.
    let mut order: Vec<usize> = (0..locs.len()).collect();
    order.sort_by(|&a, &b| {
        (locs[a].source, &locs[a].member, locs[a].line).cmp(&(
            locs[b].source,
            &locs[b].member,
            locs[b].line,
        ))
    });
    let mut k = 0;
    while k < order.len() {
        let first = locs[order[k]];
        let end = order[k..]
            .iter()
            .position(|&i| locs[i].source != first.source || locs[i].member != first.member)
            .map_or(order.len(), |n| k + n);
        let group = &order[k..end];
        match open(store, first) {
            Ok(mut reader) => {
                let lines: Vec<u64> = group.iter().map(|&i| locs[i].line).collect();
                match scan(&mut reader, &lines) {
                    Ok(found) => {
                        for (&i, r) in group.iter().zip(found) {
                            out[i] = r.ok_or_else(|| {
                                format!("line {} is no longer in the source", locs[i].line)
                            });
                        }
                    }
                    Err(e) => {
                        for &i in group {
                            out[i] = Err(format!("could not read the source: {e}"));
                        }
                    }
                }
            }
            Err(why) => {
                for &i in group {
                    out[i] = Err(why.clone());
                }
            }
        }
        k = end;
    }
    out
}

/// Bytes before an event that [`line_of`] reads to count its line (beyond it, no line).
pub const LINE_SCAN_LIMIT: u64 = 256 << 20;

/// The 1-based line of event `e`'s record in its source (the line its JSON value starts
/// on), as `sed -n Np` and `less +N` count: the newlines before its offset, plus one.
/// Only for a plain file or a source held in memory as one segment, and only when the
/// record starts within [`LINE_SCAN_LIMIT`] bytes (this runs on the UI thread); `None`
/// otherwise.
#[must_use]
pub fn line_of(store: &EventStore, e: crate::index::EventIx) -> Option<u64> {
    let loc = store.raw(e)?;
    if loc.offset > LINE_SCAN_LIMIT {
        return None;
    }
    let source = store.sources.get(loc.source.idx())?;
    if source.members.len() != 1 || loc.segment != 0 {
        return None;
    }
    let mut reader: Box<dyn io::Read> = match source.members.first()? {
        Segment::File(path) => Box::new(File::open(path).ok()?),
        Segment::Memory(bytes) => Box::new(Cursor::new(bytes.clone())),
        _ => return None,
    };
    let mut left = loc.offset;
    let mut newlines = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).ok()?;
        let n = reader.read(&mut buf[..want]).ok()?;
        if n == 0 {
            return None;
        }
        newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        left -= n as u64;
    }
    Some(newlines + 1)
}

/// A reader over the lines of `loc`'s source or member, when that is cheap.
fn open(store: &EventStore, loc: &Location) -> Result<Box<dyn BufRead>, String> {
    let source = store
        .sources
        .get(loc.source.idx())
        .ok_or_else(|| "unknown source".to_string())?;
    let segment = match &loc.member {
        Some(m) => source
            .member_names
            .iter()
            .position(|n| n.as_str() == &**m)
            .and_then(|i| source.members.get(i)),
        None if source.members.len() == 1 => source.members.first(),
        None => None,
    };
    match segment {
        Some(Segment::File(path)) => File::open(path)
            .map(|f| Box::new(BufReader::new(f)) as Box<dyn BufRead>)
            .map_err(|e| format!("could not open {}: {e}", path.display())),
        Some(Segment::Memory(bytes)) => Ok(Box::new(Cursor::new(bytes.clone()))),
        Some(Segment::Gzip(_) | Segment::ZipMember { .. }) => {
            Err("compressed source: the text is not read back here".to_string())
        }
        Some(Segment::Gone(why)) => Err(sanitize(why).into_owned()),
        None => Err("not read back for this source (see the location)".to_string()),
    }
}

/// Reads `reader` line by line up to the last of `lines` (sorted, 1-based) and returns
/// each wanted line's first [`MAX_TEXT`] bytes, or `None` when the input ends before it.
fn scan(reader: &mut dyn BufRead, lines: &[u64]) -> io::Result<Vec<Option<RawLine>>> {
    let mut out: Vec<Option<RawLine>> = vec![None; lines.len()];
    let Some(&last) = lines.last() else {
        return Ok(out);
    };
    let mut line: u64 = 1;
    let mut kept: Vec<u8> = Vec::new();
    let mut at_eof = false;
    while line <= last && !at_eof {
        let wanted = lines.binary_search(&line).is_ok();
        kept.clear();
        let mut len: u64 = 0;
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                at_eof = true;
                break;
            }
            let (chunk, newline) = match buf.iter().position(|&b| b == b'\n') {
                Some(p) => (&buf[..p], true),
                None => (buf, false),
            };
            if wanted && kept.len() < MAX_TEXT {
                let room = MAX_TEXT - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            len += chunk.len() as u64;
            let used = chunk.len() + usize::from(newline);
            reader.consume(used);
            if newline {
                break;
            }
        }
        if wanted && !(at_eof && len == 0) {
            if kept.last() == Some(&b'\r') && len == kept.len() as u64 {
                kept.pop();
                len -= 1;
            }
            let text = sanitize(&String::from_utf8_lossy(&kept)).into_owned();
            let row = RawLine {
                text,
                cut_from: (len > kept.len() as u64).then_some(len),
            };
            for (slot, _) in out.iter_mut().zip(lines).filter(|(_, l)| **l == line) {
                *slot = Some(row.clone());
            }
        }
        line += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, wanted: &[u64]) -> Vec<Option<(String, Option<u64>)>> {
        let mut r = Cursor::new(text.as_bytes().to_vec());
        scan(&mut r, wanted)
            .unwrap()
            .into_iter()
            .map(|o| o.map(|l| (l.text, l.cut_from)))
            .collect()
    }

    #[test]
    fn wanted_lines_are_read_by_their_one_based_number() {
        let got = lines_of("a\nb\r\n\x1b[31mc\nd", &[2, 2, 3, 4, 6]);
        assert_eq!(
            got,
            [
                Some(("b".into(), None)),
                Some(("b".into(), None)),
                Some(("\\e[31mc".into(), None)),
                Some(("d".into(), None)),
                None,
            ]
        );
    }

    #[test]
    fn a_long_line_is_kept_up_to_the_bound_and_says_its_length() {
        let long = "x".repeat(MAX_TEXT + 10);
        let got = lines_of(&format!("{long}\nshort\n"), &[1, 2]);
        assert_eq!(got[0].as_ref().unwrap().0.len(), MAX_TEXT);
        assert_eq!(got[0].as_ref().unwrap().1, Some(MAX_TEXT as u64 + 10));
        assert_eq!(got[1], Some(("short".into(), None)));
    }

    #[test]
    fn an_empty_input_has_no_lines() {
        assert_eq!(lines_of("", &[1]), [None]);
        assert_eq!(lines_of("\n", &[1, 2]), [Some((String::new(), None)), None]);
    }
}
