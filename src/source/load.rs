//! Reads one source (a path or `-`) of any container, detected from content, and emits
//! [`LoadEvent`]s. Synchronous, on std threads: no async runtime is needed to read files.
//!
//! - NDJSON goes through a pipeline: one thread cuts whole-line chunks, `threads` workers
//!   decode them into [`Batch`]es, and the calling thread emits them in input order.
//! - JSON documents (a pretty-printed body, concatenated bodies, a top-level array) are
//!   streamed value by value, array elements one at a time, so a huge array never has
//!   to fit in memory.
//! - Formats are detected from a peek at the first bytes that waits for enough of them
//!   (never from the size of the first read) and loses none: stdin, FIFOs and `<(…)`
//!   are read once, never rewound. A UTF-8 byte-order mark at the start of a file, stdin
//!   or an archive member is skipped. A stream opening a JSON value is text even with NUL
//!   bytes later (they spoil their own record only).
//! - gzip is unwrapped (concatenated members too) and the inside sniffed again, at most
//!   4 layers deep; zip members are read in archive order, each
//!   sniffed on its own. A zip arriving as a stream is spooled to a temporary file first.
//!   An archive whose central directory is missing (a truncated download) is read from
//!   its local headers instead.
//! - Damage (a truncated gzip or zip member, an I/O error) keeps what was decoded before
//!   it and is reported as a problem of the source.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use super::lines::{LineChunker, for_each_line};
use crate::decode::{Batch, Decoder, Origin, RejectKind, RejectReason};
use crate::event::Location;
use crate::index::SourceIx;
use crate::json::{Partial, Scanner};
use crate::store::{LoadEvent, Segment};

/// How to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Record where each event's raw text is (the TUI shows it; `report` does not need it).
    pub keep_raw: bool,
    /// Decoding threads for NDJSON.
    pub threads: usize,
    /// Bytes per NDJSON chunk.
    pub chunk_size: usize,
    /// NDJSON chunks read ahead per decoding thread (1 to [`MAX_READ_AHEAD`]).
    ///
    /// With as many threads as cores, the reading thread competes with them for a core:
    /// the scheduler may keep it waiting a time slice or two (several ms each) after a
    /// worker took a chunk, and one chunk per worker can run dry in the meantime. `report`
    /// reads four ahead: 3% less wall time on a 2M-event export, the same peak memory
    /// there (the buffers are freed before the analysis, where a large file's peak is; a
    /// small file's peak is in the load: 31 MB instead of 25 MB for 50 MB). The inspector
    /// keeps one: its peak comes sooner, and the buffers would add to it (issue 14).
    pub read_ahead: usize,
    /// The record-size limit: a longer line or JSON value is rejected, read through
    /// without being kept.
    pub max_record: usize,
}

/// The most chunks [`LoadOptions::read_ahead`] keeps per decoding thread (a bounded queue
/// of chunks allocates its slots up front).
pub const MAX_READ_AHEAD: usize = 64;

/// The default record-size limit: 64 MiB. Amplitude takes at most 1 MB per event and
/// 20 MB per request, so no real event comes near; it only stops runaway input.
pub const DEFAULT_MAX_RECORD: usize = 64 << 20;

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            keep_raw: false,
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            chunk_size: 1 << 20,
            read_ahead: 1,
            max_record: DEFAULT_MAX_RECORD,
        }
    }
}

/// Bytes per NDJSON chunk for inputs read once from start to end (`report`, and the
/// inspector's files and stdin): twice the default, so half as many batches to hand over
/// and merge (~5% faster loads of large files for `report`, 4% for the inspector on 2M
/// events). The default's smaller chunks suit live sources, whose reader holds one.
pub const ONCE_CHUNK: usize = 2 << 20;

/// Events of JSON documents are emitted in batches of about this many.
const DOC_BATCH: usize = 4096;

type Emit<'e> = dyn FnMut(LoadEvent) + 'e;

/// A reader that counts the bytes that pass through it.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Everything a nested reader needs to know about where it is.
#[derive(Clone)]
struct Ctx<'a> {
    source: SourceIx,
    name: &'a str,
    member: Option<Box<str>>,
    opts: &'a LoadOptions,
    read: Arc<AtomicU64>,
    total: Option<u64>,
    /// How the bytes of this stream can be read again, for raw locations.
    segment: Segment,
    segment_idx: u32,
    /// Offset in the segment of the stream's first byte (3 after a skipped BOM).
    offset: u64,
}

impl Ctx<'_> {
    fn where_(&self) -> String {
        match &self.member {
            Some(m) => format!("'{}' member '{m}'", self.name),
            None => format!("'{}'", self.name),
        }
    }

    fn origin(&self) -> Origin {
        Origin {
            loc: Location {
                source: self.source,
                member: self.member.clone(),
                line: 0,
                index: Vec::new(),
            },
            segment: self.segment_idx,
            offset: self.offset,
        }
    }

    fn progress(&self, emit: &mut Emit<'_>) {
        emit(LoadEvent::Progress {
            source: self.source,
            read: self.read.load(Ordering::Relaxed),
            total: self.total,
        });
    }
}

/// Loads one source. `spec` is a path or `-` for stdin. Every outcome, failure included,
/// is reported through `emit`; the last event is always [`LoadEvent::Done`].
pub fn load(spec: &str, source: SourceIx, opts: &LoadOptions, emit: &mut Emit<'_>) {
    let read = Arc::new(AtomicU64::new(0));
    if spec == "-" {
        load_stdin(source, opts, &read, emit);
    } else {
        load_path(Path::new(spec), spec, source, opts, &read, emit);
    }
    emit(LoadEvent::Done { source });
}

/// Loads the file at `path` under the name `name` (an export downloaded to a temporary
/// file goes by its `amplitude:` source). Does not emit [`LoadEvent::Done`].
pub fn load_file_as(
    path: &Path,
    name: &str,
    source: SourceIx,
    opts: &LoadOptions,
    read: &Arc<AtomicU64>,
    emit: &mut Emit<'_>,
) {
    load_path(path, name, source, opts, read, emit);
}

fn fatal(source: SourceIx, message: String, emit: &mut Emit<'_>) {
    emit(LoadEvent::Problem {
        source,
        message,
        fatal: true,
    });
}

fn load_stdin(source: SourceIx, opts: &LoadOptions, read: &Arc<AtomicU64>, emit: &mut Emit<'_>) {
    load_pipe(Box::new(io::stdin().lock()), "-", source, opts, read, emit);
}

/// Loads a source that cannot be read twice or seeked: standard input, a FIFO, a process
/// substitution (`<(…)`). Nothing is consumed to detect its format (see [`peek`]); a zip
/// archive is spooled to a temporary file first (zips are read from their end).
fn load_pipe(
    input: Box<dyn Read + '_>,
    name: &str,
    source: SourceIx,
    opts: &LoadOptions,
    read: &Arc<AtomicU64>,
    emit: &mut Emit<'_>,
) {
    let input = Counting {
        inner: input,
        count: Arc::clone(read),
    };
    if opts.keep_raw {
        // Raw text must be readable again later: keep the bytes in memory.
        let mut bytes = Vec::new();
        let mut input = input;
        if let Err(e) = input.read_to_end(&mut bytes) {
            emit(LoadEvent::Problem {
                source,
                message: format!("reading '{name}' failed after {} bytes: {e}", bytes.len()),
                fatal: bytes.is_empty(),
            });
        }
        let bytes: Arc<[u8]> = bytes.into();
        load_bytes(bytes, name, source, opts, read, emit);
        return;
    }
    let ctx = Ctx {
        source,
        name,
        member: None,
        opts,
        read: Arc::clone(read),
        total: None,
        segment: Segment::Memory(Arc::from(&[][..])),
        segment_idx: 0,
        offset: 0,
    };
    stream(
        Box::new(BufReader::with_capacity(1 << 16, input)),
        &ctx,
        0,
        emit,
    );
}

/// Loads bytes already in memory (stdin kept for raw text, a request body).
pub fn load_bytes(
    bytes: Arc<[u8]>,
    name: &str,
    source: SourceIx,
    opts: &LoadOptions,
    read: &Arc<AtomicU64>,
    emit: &mut Emit<'_>,
) {
    emit(LoadEvent::Member {
        source,
        segment: Segment::Memory(Arc::clone(&bytes)),
        name: name.to_string(),
    });
    let ctx = Ctx {
        source,
        name,
        member: None,
        opts,
        read: Arc::clone(read),
        total: Some(bytes.len() as u64),
        segment: Segment::Memory(Arc::clone(&bytes)),
        segment_idx: 0,
        offset: 0,
    };
    let reader = Counting {
        inner: Cursor::new(bytes),
        count: Arc::clone(read),
    };
    stream(Box::new(BufReader::new(reader)), &ctx, 0, emit);
}

fn load_path(
    path: &Path,
    name: &str,
    source: SourceIx,
    opts: &LoadOptions,
    read: &Arc<AtomicU64>,
    emit: &mut Emit<'_>,
) {
    if path.is_dir() {
        return fatal(source, format!("'{name}' is a directory, not a file"), emit);
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return fatal(source, format!("cannot open '{name}': {e}"), emit),
    };
    let meta = file.metadata().ok();
    if !meta.as_ref().is_some_and(std::fs::Metadata::is_file) {
        // A FIFO, `<(…)`, a character device: read once, never rewound.
        return load_pipe(Box::new(file), name, source, opts, read, emit);
    }
    let total = meta.map(|m| m.len());
    let mut head = [0u8; 4];
    let n = read_prefix(&file, &mut head);
    let magic = &head[..n];
    let counting = |f: File| Counting {
        inner: f,
        count: Arc::clone(read),
    };
    let mut ctx = Ctx {
        source,
        name,
        member: None,
        opts,
        read: Arc::clone(read),
        total,
        segment: Segment::File(path.to_path_buf()),
        segment_idx: 0,
        offset: 0,
    };
    if magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06") {
        emit(LoadEvent::Format {
            source,
            format: "zip",
        });
        return zip_archive(counting(file), Some(path), &ctx, emit);
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        ctx.segment = Segment::Gzip(path.to_path_buf());
        emit(LoadEvent::Member {
            source,
            segment: ctx.segment.clone(),
            name: name.to_string(),
        });
        let gz = flate2::read::MultiGzDecoder::new(BufReader::new(counting(file)));
        return stream(
            Box::new(BufReader::with_capacity(1 << 16, gz)),
            &ctx,
            1,
            emit,
        );
    }
    emit(LoadEvent::Member {
        source,
        segment: ctx.segment.clone(),
        name: name.to_string(),
    });
    stream(
        Box::new(BufReader::with_capacity(1 << 16, counting(file))),
        &ctx,
        0,
        emit,
    );
}

fn read_prefix(mut file: &File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let _ = file.rewind();
    n
}

/// The containers a text stream can hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TextKind {
    Ndjson,
    Documents,
    Binary,
    Empty,
}

/// Decides from the first bytes whether a stream is NDJSON or multi-line JSON documents.
/// NDJSON unless the first line alone is an unfinished JSON value (a pretty-printed body)
/// or the stream opens a top-level array.
pub(super) fn sniff_text(head: &[u8], whole: bool) -> TextKind {
    let Some(first) = head.iter().position(|c| !c.is_ascii_whitespace()) else {
        return if whole {
            TextKind::Empty
        } else {
            TextKind::Ndjson
        };
    };
    // A stream that opens a JSON value is text: a NUL byte further on only spoils its own
    // record (rejected as invalid JSON), not the whole stream.
    if !matches!(head[first], b'{' | b'[') && head[..head.len().min(1024)].contains(&0) {
        return TextKind::Binary;
    }
    if head[first] == b'[' {
        return TextKind::Documents;
    }
    let rest = &head[first..];
    let line_end = memchr::memchr(b'\n', rest);
    let line = &rest[..line_end.unwrap_or(rest.len())];
    if line_end.is_none() && !whole {
        return TextKind::Ndjson;
    }
    match Scanner::new(line).partial_value() {
        Ok(Partial::Incomplete) if line_end.is_some() => TextKind::Documents,
        _ => TextKind::Ndjson,
    }
}

/// How deep gzip may sit inside gzip. The Export layout is zip → gzip → NDJSON; a few more
/// levels are tolerated, deeper nesting is a decompression bomb (or a mistake) and refused.
const MAX_GZIP_NESTING: u32 = 4;

/// At most this many bytes are looked at to detect a stream's format.
const PEEK: usize = 1 << 16;

/// The UTF-8 byte-order mark, skipped at the start of a file, stdin or archive member.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the first bytes of a stream for format detection without losing them: it waits
/// for the first line after any leading white space and at least 1 KiB (or [`PEEK`]
/// bytes, or the end), however the bytes arrive (a pipe may deliver them one at a time).
/// Returns those bytes, whether they are all there is, and the rest of the stream.
fn peek<'a>(
    mut reader: Box<dyn BufRead + 'a>,
) -> io::Result<(Vec<u8>, bool, Box<dyn BufRead + 'a>)> {
    let mut head = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((head, true, reader));
        }
        let take = buf.len().min(PEEK - head.len());
        head.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if head.len() >= PEEK || head.len() >= 1024 && has_first_line(&head) {
            return Ok((head, false, reader));
        }
    }
}

/// Whether `head` holds a whole line after its leading white space.
fn has_first_line(head: &[u8]) -> bool {
    head.iter()
        .position(|c| !c.is_ascii_whitespace())
        .is_some_and(|first| memchr::memchr(b'\n', &head[first..]).is_some())
}

fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Sniffs a decompressed stream and reads it with the right container reader. `depth`
/// counts the gzip layers around it.
fn stream(reader: Box<dyn BufRead + '_>, ctx: &Ctx<'_>, depth: u32, emit: &mut Emit<'_>) {
    let (mut head, whole, rest) = match peek(reader) {
        Ok(peeked) => peeked,
        Err(e) => {
            return emit(LoadEvent::Problem {
                source: ctx.source,
                message: format!("cannot read {}: {e}", ctx.where_()),
                fatal: ctx.member.is_none(),
            });
        }
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        if depth >= MAX_GZIP_NESTING {
            return emit(LoadEvent::Problem {
                source: ctx.source,
                message: format!(
                    "{} is gzip nested more than {MAX_GZIP_NESTING} levels deep (a decompression bomb?); it was not read",
                    ctx.where_()
                ),
                fatal: ctx.member.is_none(),
            });
        }
        // gzip inside a zip member (the Export layout) or inside gzip.
        let gz = flate2::read::MultiGzDecoder::new(Cursor::new(head).chain(rest));
        return stream(
            Box::new(BufReader::with_capacity(1 << 16, gz)),
            ctx,
            depth + 1,
            emit,
        );
    }
    if ctx.member.is_none() && is_zip(&head) {
        return zip_stream(Box::new(Cursor::new(head).chain(rest)), ctx, emit);
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        // Refused rather than transcoded: locations and the inspector's raw view are byte
        // offsets into the file, which transcoding would make wrong.
        return emit(LoadEvent::Problem {
            source: ctx.source,
            message: format!(
                "{} is UTF-16 text (what Windows PowerShell 5's '>' writes), not UTF-8: re-save it as UTF-8 \
                 (iconv -f UTF-16 -t UTF-8, or PowerShell's Out-File -Encoding utf8) and load that",
                ctx.where_()
            ),
            fatal: ctx.member.is_none(),
        });
    }
    let mut ctx = ctx.clone();
    if head.starts_with(BOM) {
        head.drain(..BOM.len());
        ctx.offset += BOM.len() as u64;
    }
    let ctx = &ctx;
    if whole && let Some(what) = api_error(&head) {
        return emit(LoadEvent::Problem {
            source: ctx.source,
            message: format!("{} holds no events: it is {what}", ctx.where_()),
            fatal: ctx.member.is_none(),
        });
    }
    let reader: Box<dyn BufRead + '_> = Box::new(Cursor::new(head.clone()).chain(rest));
    let format = match sniff_text(&head, whole) {
        TextKind::Binary => {
            return emit(LoadEvent::Problem {
                source: ctx.source,
                message: format!(
                    "{} is not JSON, NDJSON, gzip or a zip archive (it holds binary data)",
                    ctx.where_()
                ),
                fatal: ctx.member.is_none(),
            });
        }
        TextKind::Empty => "empty",
        TextKind::Ndjson => "ndjson",
        TextKind::Documents => "json",
    };
    if ctx.member.is_none() {
        emit(LoadEvent::Format {
            source: ctx.source,
            format,
        });
    }
    let result = match format {
        // A small stream (a zip member, a short file) is decoded here: no worker threads
        // to start and stop for it (50,000 one-line members).
        "ndjson" if whole => {
            ndjson_small(&head, ctx, emit);
            Ok(())
        }
        "ndjson" => ndjson(reader, ctx, emit),
        "json" => documents(reader, ctx, emit),
        _ => Ok(()),
    };
    ctx.progress(emit);
    if let Err(e) = result {
        emit(LoadEvent::Problem {
            source: ctx.source,
            message: format!(
                "{} is damaged or truncated ({e}); the events before the damage were kept",
                ctx.where_()
            ),
            fatal: false,
        });
    }
}

/// A zip archive that arrived as a stream (stdin, a FIFO, inside gzip). Zips are read
/// from their central directory at the end, so the stream is first kept whole: in memory
/// when the source already is (raw text kept), otherwise spooled to a temporary file
/// (removed afterwards), with the bytes read shown as progress meanwhile.
fn zip_stream(mut reader: Box<dyn BufRead + '_>, ctx: &Ctx<'_>, emit: &mut Emit<'_>) {
    emit(LoadEvent::Format {
        source: ctx.source,
        format: "zip",
    });
    if let Segment::Memory(bytes) = &ctx.segment
        && !bytes.is_empty()
    {
        return zip_archive(Cursor::new(Arc::clone(bytes)), None, ctx, emit);
    }
    let (path, mut file) = match spool_file() {
        Ok(spool) => spool,
        Err(e) => {
            return fatal(
                ctx.source,
                format!(
                    "{} is a zip archive arriving as a stream, and it cannot be kept in a temporary file to be read: {e}",
                    ctx.where_()
                ),
                emit,
            );
        }
    };
    let mut buf = vec![0u8; 1 << 20];
    let copied = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = io::Write::write_all(&mut file, &buf[..n]) {
                    break Err(format!(
                        "writing the temporary file {} failed: {e}",
                        path.display()
                    ));
                }
                ctx.progress(emit);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("reading it failed: {e}")),
        }
    };
    if let Err(e) = copied {
        emit(LoadEvent::Problem {
            source: ctx.source,
            message: format!("{}: {e}; reading what arrived", ctx.where_()),
            fatal: false,
        });
    }
    if file.rewind().is_ok() {
        zip_archive(BufReader::new(file), Some(&path), ctx, emit);
    }
    let _ = std::fs::remove_file(&path);
}

/// What a whole (small) stream is when it is an Amplitude API error response saved in
/// place of data (`{"error":{"http_code":403,"message":…}}`, e.g. a failed Export API
/// call written to `export.zip`): a description naming the status and message.
fn api_error(text: &[u8]) -> Option<String> {
    memchr::memmem::find(text, b"\"http_code\"")?;
    let value: serde_json::Value = serde_json::from_slice(text).ok()?;
    let error = value.get("error")?;
    let code = error.get("http_code")?.as_i64()?;
    let message = ["message", "type", "error"]
        .iter()
        .find_map(|k| error.get(*k).and_then(serde_json::Value::as_str))
        .unwrap_or("no message");
    Some(format!(
        "an Amplitude API error response (HTTP {code}: {}); the request that should have produced this data failed",
        crate::fmt::sanitize(message)
    ))
}

/// A zip local file header.
struct LocalHeader {
    name: String,
    method: u16,
    /// Compressed size (0 when a data descriptor follows the data instead).
    size: u64,
    /// Sizes and CRC follow the data (general-purpose flag bit 3).
    descriptor: bool,
    /// The header has a zip64 extra field (a descriptor then holds 8-byte sizes).
    zip64: bool,
}

/// Reads the next local file header; `None` at the central directory or the end.
fn read_local_header(r: &mut impl BufRead) -> io::Result<Option<LocalHeader>> {
    let mut fixed = [0u8; 30];
    match r.read_exact(&mut fixed[..4]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    if fixed[..4] != *b"PK\x03\x04" {
        return Ok(None);
    }
    r.read_exact(&mut fixed[4..])?;
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let flags = u16_at(6);
    let method = u16_at(8);
    let mut size = u64::from(u32_at(18));
    let mut name = vec![0u8; usize::from(u16_at(26))];
    let mut extra = vec![0u8; usize::from(u16_at(28))];
    r.read_exact(&mut name)?;
    r.read_exact(&mut extra)?;
    let mut zip64 = false;
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[at], extra[at + 1]]);
        let len = usize::from(u16::from_le_bytes([extra[at + 2], extra[at + 3]]));
        let body = extra.get(at + 4..at + 4 + len).unwrap_or(&[]);
        if id == 1 {
            zip64 = true;
            // Uncompressed then compressed size, each present when the header says 0xFFFFFFFF.
            let mut fields = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
            if u32_at(22) == u32::MAX {
                fields.next();
            }
            if u32_at(18) == u32::MAX
                && let Some(v) = fields.next()
            {
                size = v;
            }
        }
        at += 4 + len;
    }
    Ok(Some(LocalHeader {
        name: String::from_utf8_lossy(&name).into_owned(),
        method,
        size,
        descriptor: flags & 8 != 0,
        zip64,
    }))
}

/// Skips the data descriptor after a member's data: an optional signature, the CRC, and
/// the two sizes (8 bytes each in zip64).
fn skip_data_descriptor(r: &mut impl BufRead, zip64: bool) -> io::Result<()> {
    let mut first = [0u8; 4];
    r.read_exact(&mut first)?;
    let rest = if first == *b"PK\x07\x08" { 4 } else { 0 } + if zip64 { 16 } else { 8 };
    let mut skip = vec![0u8; rest];
    r.read_exact(&mut skip)
}

/// Whether a zip member is metadata that macOS's Archive Utility adds when re-zipping:
/// resource forks under `__MACOSX/` and Finder's `.DS_Store` files.
fn is_macos_metadata(name: &str) -> bool {
    name.starts_with("__MACOSX/")
        || name.contains("/__MACOSX/")
        || name == ".DS_Store"
        || name.ends_with("/.DS_Store")
}

/// A new temporary file for a spooled archive.
fn spool_file() -> io::Result<(PathBuf, File)> {
    let dir = std::env::temp_dir();
    let mut last = None;
    for n in 0..1000 {
        let path = dir.join(format!("streamscope-{}-{n}.zip", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// NDJSON that fits in one peek, decoded on the calling thread.
fn ndjson_small(text: &[u8], ctx: &Ctx<'_>, emit: &mut Emit<'_>) {
    let max = ctx.opts.max_record;
    let mut decoder = Decoder::new(ctx.opts.keep_raw);
    let mut origin = ctx.origin();
    let mut batch = Batch {
        bytes: text.len() as u64,
        ..Batch::default()
    };
    batch.lines = for_each_line(text, |line, n, at| {
        origin.loc.line = n;
        origin.offset = ctx.offset + at as u64;
        if line.len() > max {
            batch.reject_too_large(origin.loc.clone(), line.len() as u64, max as u64);
        } else {
            decoder.line(&mut batch, line, &origin);
        }
    });
    decoder.seal(&mut batch);
    emit(LoadEvent::Batch {
        source: ctx.source,
        batch,
        line_base: 0,
    });
}

/// The NDJSON pipeline: this thread cuts whole-line chunks and emits decoded batches in
/// input order; `threads` workers decode chunks in between. The reader need not be `Send`
/// (zip members borrow their archive).
fn ndjson(reader: Box<dyn BufRead + '_>, ctx: &Ctx<'_>, emit: &mut Emit<'_>) -> io::Result<()> {
    let threads = ctx.opts.threads.max(1);
    let keep_raw = ctx.opts.keep_raw;
    let base = ctx.origin();
    std::thread::scope(|scope| {
        let max = ctx.opts.max_record;
        // (sequence, offset, chunk, size of the oversized line the chunk stands for)
        let (work_tx, work_rx) = mpsc::sync_channel::<(u64, u64, Vec<u8>, Option<u64>)>(
            threads.saturating_mul(ctx.opts.read_ahead.clamp(1, MAX_READ_AHEAD)),
        );
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::channel::<(u64, Batch, Vec<u8>)>();
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let mut origin = base.clone();
            scope.spawn(move || {
                let mut decoder = Decoder::new(keep_raw);
                // Events per chunk so far: sizes the next batch, so that it is not grown
                // (and copied) by doubling.
                let mut per_chunk = 0usize;
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, offset, chunk, oversized))) = next else {
                        break;
                    };
                    let mut batch = Batch {
                        bytes: chunk.len() as u64,
                        events: Vec::with_capacity(per_chunk + per_chunk / 8),
                        ..Batch::default()
                    };
                    batch.lines = for_each_line(&chunk, |line, n, at| {
                        origin.loc.line = n;
                        origin.offset = offset + at as u64;
                        if line.len() > max {
                            batch.reject_too_large(
                                origin.loc.clone(),
                                line.len() as u64,
                                max as u64,
                            );
                        } else {
                            decoder.line(&mut batch, line, &origin);
                        }
                    });
                    if let Some(size) = oversized {
                        origin.loc.line = 1;
                        batch.reject_too_large(origin.loc.clone(), size, max as u64);
                        batch.lines = 1;
                        batch.bytes = size;
                    }
                    decoder.seal(&mut batch);
                    per_chunk = per_chunk.max(batch.events.len());
                    if done_tx.send((seq, batch, chunk)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut order = InOrder::default();
        let mut chunker = LineChunker::new(reader, ctx.opts.chunk_size).with_max_line(max);
        let mut seq = 0;
        let mut offset = ctx.offset;
        let result = loop {
            match chunker.next_chunk() {
                Ok(Some(chunk)) => {
                    let oversized = chunker.oversized();
                    // A stand-in chunk (a newline) replaces the skipped line.
                    let len = chunk.len() as u64 + oversized.unwrap_or(0);
                    if work_tx.send((seq, offset, chunk, oversized)).is_err() {
                        break Ok(());
                    }
                    seq += 1;
                    offset += len;
                    while let Ok((s, batch, buf)) = done_rx.try_recv() {
                        chunker.recycle(buf);
                        order.push(s, batch, ctx, emit);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        drop(work_tx);
        for (s, batch, _) in done_rx {
            order.push(s, batch, ctx, emit);
        }
        result
    })
}

/// Emits batches in sequence order, whatever order the workers finish them in.
#[derive(Default)]
struct InOrder {
    pending: std::collections::BTreeMap<u64, Batch>,
    next: u64,
    line_base: u64,
}

impl InOrder {
    fn push(&mut self, seq: u64, batch: Batch, ctx: &Ctx<'_>, emit: &mut Emit<'_>) {
        self.pending.insert(seq, batch);
        while let Some(batch) = self.pending.remove(&self.next) {
            let lines = batch.lines;
            emit(LoadEvent::Batch {
                source: ctx.source,
                batch,
                line_base: self.line_base,
            });
            ctx.progress(emit);
            self.line_base += lines;
            self.next += 1;
        }
    }
}

/// Streams JSON documents: top-level values one after another; a top-level array is
/// entered and its elements streamed one at a time. The buffer grows geometrically
/// while a value is incomplete, so a huge value is scanned a bounded number of times.
fn documents(
    mut reader: Box<dyn BufRead + '_>,
    ctx: &Ctx<'_>,
    emit: &mut Emit<'_>,
) -> io::Result<()> {
    let mut decoder = Decoder::new(ctx.opts.keep_raw);
    let mut batch = Batch::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut eof = false;
    let mut io_error = None;
    // Bytes dropped before buf[0]; lines counted in buf[..counted] and before.
    let mut dropped = ctx.offset;
    let mut lines = 1u64;
    let mut counted = 0usize;
    let mut array: Option<u64> = None;
    // Set after a malformed array element: the rest of it is being skipped.
    let mut skipping: Option<SkipElement> = None;
    let max = ctx.opts.max_record;
    let mut origin = ctx.origin();
    let flush = |decoder: &mut Decoder, batch: &mut Batch, emit: &mut Emit<'_>| {
        decoder.seal(batch);
        emit(LoadEvent::Batch {
            source: ctx.source,
            batch: std::mem::take(batch),
            line_base: 0,
        });
        ctx.progress(emit);
    };
    loop {
        if let Some(skip) = skipping.as_mut() {
            let end = skip.advance(&buf[pos..]);
            pos = end.map_or(buf.len(), |n| pos + n);
            if end.is_some() || eof && pos >= buf.len() {
                if let Some(loc) = skip.too_large.take() {
                    batch.reject_too_large(loc, skip.skipped, max as u64);
                }
                skipping = None;
            }
        }
        while skipping.is_none()
            && pos < buf.len()
            && (buf[pos].is_ascii_whitespace() || array.is_some() && buf[pos] == b',')
        {
            pos += 1;
        }
        let refill = pos >= buf.len();
        let scanned = if refill {
            None
        } else {
            let c = buf[pos];
            if array.is_none() && c == b'[' {
                array = Some(0);
                pos += 1;
                continue;
            }
            if array.is_some() && c == b']' {
                array = None;
                pos += 1;
                continue;
            }
            let mut scanner = Scanner::at(&buf, pos);
            Some(if eof {
                scanner.value().map(Partial::Complete)
            } else {
                scanner.partial_value()
            })
        };
        match scanned {
            Some(Ok(Partial::Incomplete)) if !eof && buf.len() - pos > max => {
                // A value over the record-size limit: skipped without being kept.
                lines += memchr::memchr_iter(b'\n', &buf[counted..pos]).count() as u64;
                counted = pos;
                let mut loc = origin.loc.clone();
                loc.line = lines;
                loc.index.clear();
                if let Some(i) = array.as_mut() {
                    loc.index.push(crate::event::Step::Element(*i));
                    *i += 1;
                }
                skipping = Some(SkipElement {
                    top: array.is_none(),
                    too_large: Some(loc),
                    ..SkipElement::default()
                });
                continue;
            }
            None | Some(Ok(Partial::Incomplete)) if !eof => {
                lines += memchr::memchr_iter(b'\n', &buf[counted..pos]).count() as u64;
                buf.drain(..pos);
                dropped += pos as u64;
                pos = 0;
                counted = 0;
                let old = buf.len();
                buf.resize(old + (1 << 20).max(old), 0);
                let n = loop {
                    match reader.read(&mut buf[old..]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            io_error = Some(e);
                            break 0;
                        }
                    }
                };
                buf.truncate(old + n);
                eof = n == 0;
                continue;
            }
            None | Some(Ok(Partial::Incomplete)) => break,
            Some(result) => {
                lines += memchr::memchr_iter(b'\n', &buf[counted..pos]).count() as u64;
                counted = pos;
                origin.loc.line = lines;
                origin.loc.index.clear();
                // Spans are offsets in `buf`, so the origin is where `buf` starts.
                origin.offset = dropped;
                match result {
                    Ok(Partial::Complete(span)) => {
                        let (start, end) = span.outer();
                        pos = end;
                        let too_large = end - start > max;
                        if let Some(i) = array.as_mut() {
                            origin.loc.index.push(crate::event::Step::Element(*i));
                            *i += 1;
                            if too_large {
                                let size = (end - start) as u64;
                                batch.reject_too_large(origin.loc.clone(), size, max as u64);
                            } else {
                                decoder.element(&mut batch, &buf, span, &origin);
                            }
                            let mut s = Scanner::at(&buf, pos);
                            s.skip_ws();
                            if !matches!(s.peek(), Some(b',' | b']') | None) {
                                // What follows the element is not part of the array's
                                // syntax: one rejection, up to the next element.
                                let e = crate::json::ScanError {
                                    offset: s.pos() - pos,
                                    reason: "expected ',' or ']' after an array element",
                                };
                                reject_json(&mut batch, &origin, e);
                                pos = s.pos();
                                skipping = Some(SkipElement::default());
                            }
                        } else if too_large {
                            let size = (end - start) as u64;
                            batch.reject_too_large(origin.loc.clone(), size, max as u64);
                        } else {
                            decoder.value(&mut batch, &buf, span, &origin);
                        }
                    }
                    // At the end of input `value` never answers Incomplete.
                    Ok(Partial::Incomplete) => {}
                    Err(mut e) => {
                        if e.offset >= buf.len() && eof {
                            e.reason = "unexpected end of input (the data looks truncated)";
                        }
                        if let Some(i) = array.as_mut() {
                            // A malformed element is one rejection; the next ones load.
                            origin.loc.index.push(crate::event::Step::Element(*i));
                            *i += 1;
                            e.offset = e.offset.saturating_sub(pos);
                            reject_json(&mut batch, &origin, e);
                            skipping = Some(SkipElement::default());
                        } else {
                            reject_and_resync(&mut batch, &origin, e, &buf, &mut pos);
                        }
                    }
                }
            }
        }
        if batch.events.len() >= DOC_BATCH {
            flush(&mut decoder, &mut batch, emit);
        }
    }
    flush(&mut decoder, &mut batch, emit);
    io_error.map_or(Ok(()), Err)
}

/// Skips the rest of a malformed array element: up to the next `,` or `]` outside any
/// string and any brackets the element opened. Bracket balance is all it trusts, so an
/// element that is malformed by a missing bracket takes the elements after it along.
///
/// Also skips a value over the record-size limit (`too_large`: where it is, to reject it
/// with its size once its end is found); a top-level one (`top`) ends with its last byte.
#[derive(Default)]
struct SkipElement {
    depth: u64,
    in_string: bool,
    escaped: bool,
    top: bool,
    /// Bytes skipped so far.
    skipped: u64,
    too_large: Option<crate::event::Location>,
}

impl SkipElement {
    /// Consumes `bytes`: `Some(n)` when the element ends before `bytes[n]` (a `,` or `]`
    /// at its level), `None` when all of `bytes` belongs to it.
    fn advance(&mut self, bytes: &[u8]) -> Option<usize> {
        let end = self.scan(bytes);
        self.skipped += end.unwrap_or(bytes.len()) as u64;
        end
    }

    fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &c) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                    if self.top && self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b',' | b']' if self.depth == 0 && !self.top => return Some(i),
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.top && self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Counts and keeps one invalid-JSON rejection.
fn reject_json(batch: &mut Batch, origin: &Origin, e: crate::json::ScanError) {
    batch.reject_counts[RejectKind::InvalidJson] += 1;
    if batch.rejects.len() < crate::decode::KEEP_DETAILS {
        batch.rejects.push(crate::decode::Reject {
            loc: origin.loc.clone(),
            reason: RejectReason::InvalidJson(e),
        });
    }
}

/// Rejects the value at `pos` and moves to the next line that starts a JSON value.
fn reject_and_resync(
    batch: &mut Batch,
    origin: &Origin,
    mut e: crate::json::ScanError,
    buf: &[u8],
    pos: &mut usize,
) {
    e.offset = e.offset.saturating_sub(*pos);
    batch.reject_counts[RejectKind::InvalidJson] += 1;
    if batch.rejects.len() < crate::decode::KEEP_DETAILS {
        batch.rejects.push(crate::decode::Reject {
            loc: origin.loc.clone(),
            reason: RejectReason::InvalidJson(e),
        });
    }
    let mut at = *pos + 1;
    while let Some(nl) = memchr::memchr(b'\n', &buf[at.min(buf.len())..]) {
        at += nl + 1;
        if matches!(buf.get(at), Some(b'{' | b'[')) {
            *pos = at;
            return;
        }
    }
    *pos = buf.len();
}

/// Reads a zip archive member by member. Falls back to the local headers when the
/// central directory cannot be read (a truncated archive).
///
/// `path` is the archive's file, for raw reads of its members; without one (an archive
/// held in memory) each member is read into memory and is its own raw segment.
fn zip_archive<R: Read + Seek>(
    mut reader: R,
    path: Option<&Path>,
    ctx: &Ctx<'_>,
    emit: &mut Emit<'_>,
) {
    // Members are the source's raw segments after those it already has (an archive held
    // in memory is one itself).
    let mut segment_idx = if path.is_some() {
        0
    } else {
        ctx.segment_idx + 1
    };
    let mut member = |name: String, file: &mut dyn Read, emit: &mut Emit<'_>| {
        let gzip = name.ends_with(".gz");
        let mut in_memory = None;
        let segment = match path {
            Some(path) => Segment::ZipMember {
                archive: PathBuf::from(path),
                name: name.clone(),
                gzip,
            },
            None => {
                let mut bytes = Vec::new();
                if let Err(e) = file.read_to_end(&mut bytes) {
                    emit(LoadEvent::Problem {
                        source: ctx.source,
                        message: format!(
                            "'{}' member '{name}' is damaged or truncated ({e}); the events before the damage were kept",
                            ctx.name
                        ),
                        fatal: false,
                    });
                }
                let bytes: Arc<[u8]> = bytes.into();
                in_memory = Some(Arc::clone(&bytes));
                Segment::Memory(bytes)
            }
        };
        emit(LoadEvent::Member {
            source: ctx.source,
            segment,
            name: name.clone(),
        });
        let inner = Ctx {
            source: ctx.source,
            name: ctx.name,
            member: Some(name.into()),
            opts: ctx.opts,
            read: Arc::clone(&ctx.read),
            total: ctx.total,
            segment: ctx.segment.clone(),
            segment_idx,
            offset: 0,
        };
        segment_idx += 1;
        let reader: Box<dyn BufRead + '_> = match in_memory {
            Some(bytes) => Box::new(Cursor::new(bytes)),
            None => Box::new(BufReader::with_capacity(1 << 16, file)),
        };
        stream(reader, &inner, 0, emit);
    };
    let mut metadata = 0u64;
    match zip::ZipArchive::new(&mut reader) {
        Ok(mut archive) => {
            for i in 0..archive.len() {
                match archive.by_index(i) {
                    Ok(mut file) => {
                        if file.is_dir() {
                            continue;
                        }
                        let name = file
                            .name()
                            .map_or_else(|_| format!("#{i}"), |n| n.into_owned());
                        if is_macos_metadata(&name) {
                            metadata += 1;
                            continue;
                        }
                        member(name, &mut file, emit);
                    }
                    Err(e) => emit(LoadEvent::Problem {
                        source: ctx.source,
                        message: format!("'{}' member #{i} cannot be read: {e}", ctx.name),
                        fatal: false,
                    }),
                }
            }
        }
        Err(e) => {
            emit(LoadEvent::Problem {
                source: ctx.source,
                message: format!(
                    "'{}': the zip directory cannot be read ({e}); reading members from their local headers",
                    ctx.name
                ),
                fatal: false,
            });
            if reader.rewind().is_err() {
                return;
            }
            let mut read_any = false;
            let mut local = BufReader::with_capacity(1 << 16, &mut reader);
            loop {
                let header = match read_local_header(&mut local) {
                    Ok(Some(header)) => header,
                    Ok(None) => break,
                    Err(e) => {
                        emit(LoadEvent::Problem {
                            source: ctx.source,
                            message: format!(
                                "'{}' is not a readable zip archive past this point: {e}",
                                ctx.name
                            ),
                            fatal: !read_any,
                        });
                        break;
                    }
                };
                read_any = true;
                let skip = header.name.ends_with('/') || is_macos_metadata(&header.name);
                if skip && !header.name.ends_with('/') {
                    metadata += 1;
                }
                let ended = match header.method {
                    // Deflate ends by itself: members written with data descriptors
                    // (streamed zips) are read without knowing their size.
                    8 => {
                        let mut data = flate2::bufread::DeflateDecoder::new(&mut local);
                        if !skip {
                            member(header.name.clone(), &mut data, emit);
                        }
                        io::copy(&mut data, &mut io::sink()).map(|_| ())
                    }
                    0 if !header.descriptor || header.size > 0 => {
                        let mut data = (&mut local).take(header.size);
                        if !skip {
                            member(header.name.clone(), &mut data, emit);
                        }
                        io::copy(&mut data, &mut io::sink()).and_then(|_| {
                            if data.limit() == 0 {
                                Ok(())
                            } else {
                                Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "the member is cut short",
                                ))
                            }
                        })
                    }
                    m => Err(io::Error::other(format!(
                        "member '{}' uses compression method {m}, or is stored without its size, which cannot be read without the zip directory",
                        header.name
                    ))),
                };
                let ended = ended.and_then(|()| {
                    if header.descriptor {
                        skip_data_descriptor(&mut local, header.zip64)
                    } else {
                        Ok(())
                    }
                });
                if let Err(e) = ended {
                    emit(LoadEvent::Problem {
                        source: ctx.source,
                        message: format!(
                            "'{}' is not a readable zip archive past member '{}': {e}",
                            ctx.name, header.name
                        ),
                        fatal: false,
                    });
                    break;
                }
            }
        }
    }
    if metadata > 0 {
        emit(LoadEvent::Problem {
            source: ctx.source,
            message: format!(
                "'{}': skipped {metadata} macOS metadata member(s) (__MACOSX/, .DS_Store), which hold no events",
                ctx.name
            ),
            fatal: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_element_is_skipped_to_its_end() {
        // (rest of the array from the bad element, where the element ends)
        let cases: &[(&str, Option<usize>)] = &[
            (r#"{"a":NaN},{"b":1}]"#, Some(9)),
            (r#"{"a":"],\"}"},{}]"#, Some(13)),
            (r#"{"a":[1,{"b":]}}]"#, Some(16)),
            ("NaN]", Some(3)),
            (r#"{"a":1"#, None),
        ];
        for (text, want) in cases {
            assert_eq!(
                SkipElement::default().advance(text.as_bytes()),
                *want,
                "{text}"
            );
        }
        // Across buffer refills.
        let mut skip = SkipElement::default();
        assert_eq!(skip.advance(br#"{"a":"x,"#), None);
        assert_eq!(skip.advance(br#"y"},{}"#), Some(3));
    }

    #[test]
    fn sniffing_tells_containers_apart() {
        let cases: &[(&str, TextKind)] = &[
            ("{\"a\":1}\n{\"a\":2}\n", TextKind::Ndjson),
            ("{\"a\":1}", TextKind::Ndjson),
            ("{\n  \"a\": 1\n}\n", TextKind::Documents),
            ("[{\"a\":1}]", TextKind::Documents),
            ("  \n [\n", TextKind::Documents),
            ("not json\n", TextKind::Ndjson),
            ("{\"a\":1,}\n", TextKind::Ndjson),
            ("", TextKind::Empty),
            ("\u{0}\u{1}PNG", TextKind::Binary),
            ("{\"a\":\"\u{0}\"}\n{}\n", TextKind::Ndjson),
            ("[\u{0}]", TextKind::Documents),
        ];
        for (text, want) in cases {
            assert_eq!(&sniff_text(text.as_bytes(), true), want, "{text:?}");
        }
    }

    #[test]
    fn reading_further_ahead_loads_the_same_events_in_the_same_order() {
        // Many small chunks, a bad line now and then: however many chunks wait for the
        // workers, batches are merged in input order and every rejection keeps its line.
        let mut text = String::new();
        for n in 0..3_000 {
            if n % 97 == 0 {
                text.push_str("{not json\n");
            } else {
                text.push_str(&format!(
                    "{{\"user_id\":\"u{}\",\"event_type\":\"e{}\",\"time\":{},\"session_id\":{}}}\n",
                    n % 37,
                    n % 5,
                    1_700_000_000_000_i64 + n * 1_000,
                    1_700_000_000_000_i64 + (n / 50) * 50_000,
                ));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, &text).unwrap();
        let spec = [path.to_string_lossy().into_owned()];
        let load = |threads, read_ahead| {
            let store = crate::source::load_all(
                &spec,
                &LoadOptions {
                    threads,
                    chunk_size: 700,
                    read_ahead,
                    ..LoadOptions::default()
                },
            );
            let events: Vec<(i64, String, String)> = store
                .events()
                .iter()
                .map(|e| {
                    (
                        e.time,
                        store.strings.get(store.ids(e).user_id).to_owned(),
                        store.strings.get(e.event_type).to_owned(),
                    )
                })
                .collect();
            let rejects: Vec<u64> = store.rejects.iter().map(|r| r.loc.line).collect();
            (events, rejects)
        };
        let first = load(2, 1);
        let (events, rejects) = &first;
        assert_eq!(events.len(), 3_000 - 31);
        assert_eq!(rejects.len(), 31);
        assert_eq!(rejects[1], 98);
        for (threads, read_ahead) in [(2, 4), (3, 8), (1, 0), (2, usize::MAX)] {
            assert_eq!(load(threads, read_ahead), first);
        }
    }
}
