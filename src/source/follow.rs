//! `--follow FILE`: read an NDJSON file, then follow it as it grows, like `tail -F`.
//!
//! Design: one thread holds an open handle on the file and reads whatever was appended
//! through a [`LineFeed`], so followed events are decoded by the same rules as a plain
//! file's and an unfinished last line waits for its newline. The initial content is read
//! in chunks through the same feed (never the whole file at once). Between reads the
//! follower sleeps for [`POLL`], or less when [`FollowSpec::wake`] is notified (the
//! ingestion endpoint after each append to its capture).
//!
//! After each read the path is looked at again (`stat`):
//! - missing at start: a (non-fatal) problem says so and the follower waits for it;
//! - **truncated** (same file, shorter than what was read): the old segment is retired
//!   (its bytes are gone; its events stay), a problem says so, and the file is read again
//!   from the start as a new segment;
//! - **replaced** (the path names another file: `mv f f.1; touch f`): the rest of the old
//!   file is read through the handle still held, the old segment is retired (the path no
//!   longer leads to its bytes), and the new file is read from its start as a new
//!   segment. With [`FollowSpec::reset_on_replace`] the store is reset instead
//!   ([`LoadEvent::Reset`]): what was read before is void.
//!
//! Only NDJSON can be followed: a gzip or zip file, a JSON array or a pretty-printed JSON
//! document is a fatal problem (plain `streamscope FILE` reads those). A first line that
//! is an unfinished object followed by lines that cannot continue it is a torn first line
//! (a writer killed during its very first write), not a document: it is one rejected
//! record and the file is followed.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::FollowSpec;
use super::feed::LineFeed;
use super::load::{LoadOptions, TextKind, sniff_text};
use crate::index::SourceIx;
use crate::listen::shared::Wake;
use crate::store::{LoadEvent, Segment};

/// How often the file is looked at when nobody wakes the follower.
pub const POLL: Duration = Duration::from_millis(200);

/// Progress is reported at most this often while reading.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The head of a file is judged once it holds a newline or this many bytes.
const SNIFF_LEN: usize = 4096;

type Emit<'e> = dyn FnMut(LoadEvent) + 'e;

/// Follows `spec.path` until `stop` is set (or a fatal problem). Does not emit
/// [`LoadEvent::Done`]: [`super::run_spec`] does.
pub fn follow(
    spec: &FollowSpec,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    let wake = spec
        .wake
        .clone()
        .unwrap_or_else(|| Arc::new(Wake::default()));
    let mut f = Follower::new(spec, source, opts);
    while !stop.load(Ordering::Relaxed) {
        if let Err(Fatal(message)) = f.step(stop, emit) {
            emit(LoadEvent::Problem {
                source,
                message,
                fatal: true,
            });
            return;
        }
        wake.wait(POLL);
    }
}

/// Why following cannot go on.
struct Fatal(String);

/// Identifies a file independently of its name (device and inode on unix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId(u64, u64);

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt as _;
    Some(FileId(meta.dev(), meta.ino()))
}

/// Without inodes, replacement is not detected (truncation still is).
#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<FileId> {
    None
}

/// The open file and where reading it has got.
struct Open {
    file: File,
    id: Option<FileId>,
    /// Bytes of this file read so far (the feed's offset plus its unfinished line, plus
    /// a head not yet judged).
    read: u64,
    /// The first bytes, held until they show the file is NDJSON; `None` once judged.
    head: Option<Vec<u8>>,
}

/// Whether the head of a file tells what it holds: a line, a compressed container's
/// magic number (which need not be followed by any newline), or enough bytes.
fn head_is_enough(head: &[u8]) -> bool {
    head.len() >= SNIFF_LEN
        || head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(b"PK")
        || memchr::memchr(b'\n', head).is_some()
}

/// Whether a head that looks like a multi-line document (its first line is an unfinished
/// object) is rather NDJSON whose first line was torn: a process killed during the very
/// first write leaves half a line, which the writer ends with a newline on restart. A
/// pretty-printed document read as one value is valid so far (complete or unfinished);
/// a torn line followed by more lines is not (a raw newline inside a string, or an object
/// where a `:` or `,` must come).
fn torn_first_line(head: &[u8]) -> bool {
    let Some(first) = head.iter().position(|c| !c.is_ascii_whitespace()) else {
        return false;
    };
    head[first] == b'{'
        && crate::json::Scanner::new(&head[first..])
            .partial_value()
            .is_err()
}

struct Follower<'a> {
    spec: &'a FollowSpec,
    source: SourceIx,
    name: String,
    feed: LineFeed,
    /// Segments registered so far (the current one is `segments - 1`).
    segments: u32,
    open: Option<Open>,
    buf: Vec<u8>,
    /// Whether the format was announced.
    announced: bool,
    last_progress: Instant,
    /// The last reason the file could not be opened that was reported.
    told_missing: Option<io::ErrorKind>,
    told_removed: bool,
}

impl<'a> Follower<'a> {
    fn new(spec: &'a FollowSpec, source: SourceIx, opts: &LoadOptions) -> Self {
        Self {
            spec,
            source,
            name: spec.path.display().to_string(),
            feed: LineFeed::new(source, 0, 0, 0, opts.keep_raw),
            segments: 0,
            open: None,
            buf: vec![0; opts.chunk_size.clamp(1 << 12, 1 << 22)],
            announced: false,
            last_progress: Instant::now(),
            told_missing: None,
            told_removed: false,
        }
    }

    fn problem(&self, message: String, emit: &mut Emit<'_>) {
        emit(LoadEvent::Problem {
            source: self.source,
            message,
            fatal: false,
        });
    }

    /// One poll: open the file if needed, read what was appended, then look for
    /// truncation or replacement.
    fn step(&mut self, stop: &AtomicBool, emit: &mut Emit<'_>) -> Result<(), Fatal> {
        if self.open.is_none() && !self.try_open(emit)? {
            return Ok(());
        }
        self.drain(stop, emit)?;
        self.check_path(stop, emit)
    }

    /// Opens the file as a new segment; `false` when it cannot be opened (yet).
    fn try_open(&mut self, emit: &mut Emit<'_>) -> Result<bool, Fatal> {
        if self.spec.path.is_dir() {
            return Err(Fatal(format!("'{}' is a directory, not a file", self.name)));
        }
        let file = match File::open(&self.spec.path) {
            Ok(f) => f,
            Err(e) => {
                if self.told_missing != Some(e.kind()) {
                    self.told_missing = Some(e.kind());
                    let message = if e.kind() == io::ErrorKind::NotFound {
                        format!(
                            "'{}' does not exist yet; waiting for it to appear",
                            self.name
                        )
                    } else {
                        format!("cannot open '{}' ({e}); trying again", self.name)
                    };
                    self.problem(message, emit);
                }
                return Ok(false);
            }
        };
        let id = file.metadata().ok().as_ref().and_then(file_id);
        self.told_missing = None;
        self.told_removed = false;
        self.open = Some(Open {
            file,
            id,
            read: 0,
            head: Some(Vec::new()),
        });
        self.new_segment(emit);
        Ok(true)
    }

    /// Registers the file (again) as a new segment and restarts the feed in it.
    fn new_segment(&mut self, emit: &mut Emit<'_>) {
        emit(LoadEvent::Member {
            source: self.source,
            segment: Segment::File(self.spec.path.clone()),
            name: self.name.clone(),
        });
        self.feed.restart(self.segments);
        self.segments += 1;
    }

    /// Reads everything appended since the last read.
    fn drain(&mut self, stop: &AtomicBool, emit: &mut Emit<'_>) -> Result<(), Fatal> {
        let mut any = false;
        while !stop.load(Ordering::Relaxed) {
            let Some(open) = self.open.as_mut() else {
                return Ok(());
            };
            let n = match open.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Reported, then tried again at the next poll.
                    let message = format!("reading '{}' failed: {e}", self.name);
                    self.problem(message, emit);
                    break;
                }
            };
            open.read += n as u64;
            any = true;
            let bytes = &self.buf[..n];
            match open.head.as_mut() {
                None => {
                    if let Some(ev) = self.feed.push(bytes) {
                        emit(ev);
                    }
                }
                Some(head) => {
                    head.extend_from_slice(bytes);
                    if head_is_enough(head) {
                        let head = std::mem::take(head);
                        open.head = None;
                        self.judge(&head, emit)?;
                        if let Some(ev) = self.feed.push(&head) {
                            emit(ev);
                        }
                    }
                }
            }
            if self.last_progress.elapsed() >= PROGRESS_EVERY {
                self.progress(emit);
            }
        }
        if any {
            self.progress(emit);
        }
        Ok(())
    }

    /// Checks that the head of the file is NDJSON.
    fn judge(&mut self, head: &[u8], emit: &mut Emit<'_>) -> Result<(), Fatal> {
        let what = if head.starts_with(&[0x1f, 0x8b]) {
            Some("gzip-compressed data")
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some("a zip archive")
        } else {
            match sniff_text(head, false) {
                TextKind::Ndjson | TextKind::Empty => None,
                TextKind::Documents if torn_first_line(head) => None,
                TextKind::Documents => Some("a JSON array or a multi-line JSON document"),
                TextKind::Binary => Some("binary data"),
            }
        };
        if let Some(what) = what {
            return Err(Fatal(format!(
                "'{}' holds {what}: --follow needs NDJSON (one JSON value per line); open it without --follow to read it once",
                self.name
            )));
        }
        if !self.announced {
            self.announced = true;
            emit(LoadEvent::Format {
                source: self.source,
                format: "ndjson",
            });
        }
        Ok(())
    }

    fn progress(&mut self, emit: &mut Emit<'_>) {
        self.last_progress = Instant::now();
        let Some(open) = self.open.as_ref() else {
            return;
        };
        let total = open.file.metadata().ok().map(|m| m.len());
        emit(LoadEvent::Progress {
            source: self.source,
            read: open.read,
            total,
        });
    }

    /// Looks at the path again: truncated, replaced or removed?
    fn check_path(&mut self, stop: &AtomicBool, emit: &mut Emit<'_>) -> Result<(), Fatal> {
        let Some(open) = self.open.as_ref() else {
            return Ok(());
        };
        let meta = match std::fs::metadata(&self.spec.path) {
            Ok(m) => m,
            Err(e) => {
                if !self.told_removed {
                    self.told_removed = true;
                    let message = format!(
                        "'{}' cannot be looked at ({e}); still reading the file already open, and waiting for a new one",
                        self.name
                    );
                    self.problem(message, emit);
                }
                return Ok(());
            }
        };
        self.told_removed = false;
        let id = file_id(&meta);
        if id.is_some() && id != open.id {
            return self.replaced(stop, emit);
        }
        if meta.len() < open.read {
            self.truncated(emit);
        }
        Ok(())
    }

    fn truncated(&mut self, emit: &mut Emit<'_>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if let Err(e) = open.file.seek(SeekFrom::Start(0)) {
            // Reading this handle again is impossible: open the path afresh.
            self.open = None;
            let message = format!(
                "'{}' was truncated and cannot be read again: {e}",
                self.name
            );
            self.problem(message, emit);
        } else {
            open.read = 0;
            open.head = Some(Vec::new());
        }
        self.retire("truncated", emit);
        self.problem(
            format!(
                "'{}' was truncated; reading it again from the start",
                self.name
            ),
            emit,
        );
        if self.open.is_some() {
            self.new_segment(emit);
        }
    }

    fn replaced(&mut self, stop: &AtomicBool, emit: &mut Emit<'_>) -> Result<(), Fatal> {
        if self.spec.reset_on_replace {
            self.open = None;
            emit(LoadEvent::Reset {
                source: self.source,
            });
        } else {
            // What was appended to the old file before the switch still counts.
            self.drain(stop, emit)?;
            if let Some(ev) = self.feed.finish() {
                emit(ev);
            }
            self.open = None;
            self.retire("replaced", emit);
            self.problem(
                format!(
                    "'{}' was replaced (rotated); following the new file",
                    self.name
                ),
                emit,
            );
        }
        if self.try_open(emit)? {
            self.drain(stop, emit)?;
        }
        Ok(())
    }

    /// The current segment's bytes can no longer be read through the path.
    fn retire(&mut self, how: &str, emit: &mut Emit<'_>) {
        if let Some(segment) = self.segments.checked_sub(1) {
            emit(LoadEvent::Retire {
                source: self.source,
                segment,
                why: format!("'{}' was {how} after this event was read", self.name),
            });
        }
    }
}
