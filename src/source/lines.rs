//! Cuts a byte stream into chunks of whole lines (pure; shared by every NDJSON reader).
//!
//! A chunk ends at its last `\n`; the partial line after it is carried into the next
//! chunk. A line longer than the chunk size grows the chunk until the line is whole, so
//! no line is ever split, up to the record-size limit: a longer line is read through
//! without being kept (memory stays bounded whatever the input) and stands in its chunk
//! as an empty line, its size reported by [`LineChunker::oversized`].

use std::io::{self, Read};

/// Reads whole-line chunks of about `size` bytes from a reader.
pub struct LineChunker<R> {
    reader: R,
    size: usize,
    carry: Vec<u8>,
    eof: bool,
    /// An error met after some bytes were read: returned once those have been handed out.
    pending: Option<io::Error>,
    /// Buffers handed back by consumers, reused without being zeroed again.
    spare: Vec<Vec<u8>>,
    /// Total bytes read from the reader.
    pub bytes_read: u64,
    /// Longest line kept.
    max_line: usize,
    /// The size of the line the last chunk stands for, when it was over `max_line`.
    oversized: Option<u64>,
}

impl<R: Read> LineChunker<R> {
    /// A chunker reading `size`-byte chunks.
    pub fn new(reader: R, size: usize) -> Self {
        Self {
            reader,
            size: size.max(1),
            carry: Vec::new(),
            eof: false,
            pending: None,
            spare: Vec::new(),
            bytes_read: 0,
            max_line: usize::MAX,
            oversized: None,
        }
    }

    /// Lines longer than `max` bytes are not kept (see [`LineChunker::oversized`]).
    #[must_use]
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.max_line = max.max(1);
        self
    }

    /// When the last chunk returned is the stand-in for a line over the limit: that line's
    /// size in bytes (without its newline). The chunk is then a single `\n`.
    #[must_use]
    pub fn oversized(&self) -> Option<u64> {
        self.oversized
    }

    /// Reads through the rest of a line already `seen` bytes long, keeping none of it;
    /// `buf` is scratch space. Leaves the bytes after its newline in `carry`.
    fn skip_line(&mut self, mut buf: Vec<u8>, mut seen: u64) -> Vec<u8> {
        buf.resize(buf.len().max(1 << 16), 0);
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.bytes_read += n as u64;
                    if let Some(nl) = memchr::memchr(b'\n', &buf[..n]) {
                        seen += nl as u64;
                        self.carry.extend_from_slice(&buf[nl + 1..n]);
                        break;
                    }
                    seen += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    self.pending = Some(e);
                    break;
                }
            }
        }
        self.oversized = Some(seen);
        buf.clear();
        buf.push(b'\n');
        buf
    }

    /// Gives a chunk's buffer back for reuse.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < 4 {
            self.spare.push(buf);
        }
    }

    /// A buffer holding `self.carry` at its front and at least `len` bytes in all. Its
    /// contents past the carry are stale bytes of an earlier chunk, about to be overwritten.
    fn buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf[..self.carry.len()].copy_from_slice(&self.carry);
        self.carry.clear();
        buf
    }

    /// The next chunk of whole lines (the last one may lack a final newline), or `None`
    /// at the end. An I/O error is returned after the bytes read before it.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.oversized = None;
        if self.eof && self.carry.is_empty() {
            return self.pending.take().map_or(Ok(None), Err);
        }
        let mut filled = self.carry.len();
        let mut buf = self.buffer(filled + self.size);
        let mut scanned = 0;
        loop {
            if !self.eof {
                let want = filled + self.size;
                if buf.len() < want {
                    buf.resize(want, 0);
                }
                let start = filled;
                while filled < want {
                    match self.reader.read(&mut buf[filled..want]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            self.eof = true;
                            self.pending = Some(e);
                            break;
                        }
                    }
                }
                self.bytes_read += (filled - start) as u64;
            }
            let last_nl = memchr::memrchr(b'\n', &buf[scanned..filled]);
            if last_nl.is_none() && filled > self.max_line {
                // No newline in `buf`: it is all one line, and too long to keep.
                if self.eof {
                    self.oversized = Some(filled as u64);
                    buf.clear();
                    buf.push(b'\n');
                    return Ok(Some(buf));
                }
                buf.truncate(0);
                return Ok(Some(self.skip_line(buf, filled as u64)));
            }
            if self.eof {
                buf.truncate(filled);
                if buf.is_empty() {
                    return self.pending.take().map_or(Ok(None), Err);
                }
                return Ok(Some(buf));
            }
            if let Some(nl) = last_nl {
                let cut = scanned + nl + 1;
                self.carry.extend_from_slice(&buf[cut..filled]);
                buf.truncate(cut);
                return Ok(Some(buf));
            }
            scanned = filled;
        }
    }
}

/// Calls `line(text, line_number)` for each line of a chunk (1-based numbers relative to
/// the chunk; blank lines are skipped but counted). Returns the number of lines.
pub fn for_each_line(chunk: &[u8], mut line: impl FnMut(&[u8], u64, usize)) -> u64 {
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len())) {
        if end == chunk.len() && start == chunk.len() {
            break;
        }
        n += 1;
        let text = &chunk[start..end];
        let trimmed = text.strip_suffix(b"\r").unwrap_or(text);
        if !trimmed.iter().all(u8::is_ascii_whitespace) {
            line(text, n, start);
        }
        start = end + 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(input: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut c = LineChunker::new(input, size);
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            out.push(chunk);
        }
        out
    }

    #[test]
    fn chunks_end_at_newlines_and_lose_nothing() {
        let input = b"aaaa\nbb\ncccccccccccccccccc\nd\n\ne";
        for size in 1..40 {
            let got = chunks(input, size);
            assert_eq!(got.concat(), input.to_vec(), "size {size}");
            for c in &got[..got.len() - 1] {
                assert_eq!(c.last(), Some(&b'\n'), "size {size}");
            }
        }
    }

    /// Reads its bytes, then fails.
    struct Failing(&'static [u8]);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn an_error_after_data_comes_after_the_data() {
        let mut c = LineChunker::new(Failing(b"a\nb"), 64);
        assert_eq!(c.next_chunk().unwrap(), Some(b"a\nb".to_vec()));
        assert_eq!(
            c.next_chunk().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(c.next_chunk().unwrap(), None);
    }

    #[test]
    fn recycled_buffers_give_the_same_chunks() {
        let input = b"aaaa\nbb\ncccccccccccccccccc\nd\n\ne";
        for size in 1..20 {
            let mut c = LineChunker::new(&input[..], size);
            let mut out = Vec::new();
            while let Some(chunk) = c.next_chunk().unwrap() {
                out.extend_from_slice(&chunk);
                c.recycle(chunk);
            }
            assert_eq!(out, input.to_vec(), "size {size}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_not_kept_whole() {
        // A line that outgrows the limit while being read becomes an empty line and its
        // size; one that arrived whole in a chunk is kept (the loader rejects it by its
        // length). Either way every line is accounted for, with its size.
        let input = b"ab\ncccccccccccccccccccc\nd\neeeeeeeeeeee\nf";
        for size in 1..8 {
            let mut c = LineChunker::new(&input[..], size).with_max_line(10);
            let mut long = Vec::new();
            let mut short = Vec::new();
            while let Some(chunk) = c.next_chunk().unwrap() {
                if let Some(n) = c.oversized() {
                    assert_eq!(chunk, b"\n");
                    long.push(n);
                    continue;
                }
                for line in chunk.split(|&b| b == b'\n') {
                    if line.len() > 10 {
                        long.push(line.len() as u64);
                    } else if !line.is_empty() {
                        short.push(line.to_vec());
                    }
                }
            }
            assert_eq!(long, [20, 12], "size {size}");
            assert_eq!(
                short,
                [b"ab".to_vec(), b"d".to_vec(), b"f".to_vec()],
                "size {size}"
            );
        }
    }

    #[test]
    fn lines_are_numbered_and_blank_ones_skipped() {
        let mut seen = Vec::new();
        let n = for_each_line(b"a\r\n\n  \nb\nc", |t, i, off| {
            seen.push((t.to_vec(), i, off))
        });
        assert_eq!(n, 5);
        assert_eq!(
            seen,
            vec![
                (b"a\r".to_vec(), 1, 0),
                (b"b".to_vec(), 4, 7),
                (b"c".to_vec(), 5, 9)
            ]
        );
        assert_eq!(for_each_line(b"a\n", |_, _, _| {}), 1);
        assert_eq!(for_each_line(b"", |_, _, _| {}), 0);
    }
}
