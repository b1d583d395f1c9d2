//! Cuts a byte stream into chunks of whole lines (pure; shared by every NDJSON reader).
//!
//! A chunk ends at its last `\n`; the partial line after it is carried into the next
//! chunk. A line longer than the chunk size grows the chunk until the line is whole, so
//! no line is ever split.

use std::io::{self, Read};

/// Reads whole-line chunks of about `size` bytes from a reader.
pub struct LineChunker<R> {
    reader: R,
    size: usize,
    carry: Vec<u8>,
    eof: bool,
    /// Total bytes read from the reader.
    pub bytes_read: u64,
}

impl<R: Read> LineChunker<R> {
    /// A chunker reading `size`-byte chunks.
    pub fn new(reader: R, size: usize) -> Self {
        Self {
            reader,
            size: size.max(1),
            carry: Vec::new(),
            eof: false,
            bytes_read: 0,
        }
    }

    /// The next chunk of whole lines (the last one may lack a final newline), or `None`
    /// at the end. An I/O error ends the stream after the bytes already read.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        let mut scanned = 0;
        loop {
            if !self.eof {
                let want = buf.len() + self.size;
                let start = buf.len();
                buf.resize(want, 0);
                let mut filled = start;
                while filled < want {
                    match self.reader.read(&mut buf[filled..]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            buf.truncate(filled);
                            self.bytes_read += (filled - start) as u64;
                            self.eof = true;
                            self.carry = Vec::new();
                            return if buf.is_empty() {
                                Err(e)
                            } else {
                                Ok(Some(buf))
                            };
                        }
                    }
                }
                buf.truncate(filled);
                self.bytes_read += (filled - start) as u64;
            }
            if self.eof {
                return Ok((!buf.is_empty()).then_some(buf));
            }
            if let Some(nl) = memchr::memrchr(b'\n', &buf[scanned..]) {
                let cut = scanned + nl + 1;
                self.carry = buf[cut..].to_vec();
                buf.truncate(cut);
                return Ok(Some(buf));
            }
            scanned = buf.len();
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
