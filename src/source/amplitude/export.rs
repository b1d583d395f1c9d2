//! `amplitude:export/START/END`: `GET export?start=…&end=…`, the archive streamed to a
//! writer (a temporary file, or `fetch`'s output) with progress.
//!
//! The Export API answers 404 when nothing was uploaded in the range, 400 when the
//! archive would exceed 4 GB, and 504 when a large range times out; the last two are
//! answered with the two halves of the range to ask for instead. A download that breaks
//! off keeps what arrived (a truncated zip is still read member by member) and says how
//! much of the archive is missing.

use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;

use super::Hour;
use super::http::{Api, Call, Failure, reason};

/// Progress is reported at least every this many bytes (and at each 1% of a known size).
const PROGRESS_EVERY: u64 = 256 << 10;

/// What a download brought.
#[derive(Debug, Default)]
pub struct Downloaded {
    /// Bytes received (and written).
    pub received: u64,
    /// What did not arrive and why, when the download broke off.
    pub missing: Option<String>,
    /// What to do then.
    pub again: String,
}

/// `12.3 MB of 40.0 MB (30%)` or `12.3 MB`.
#[must_use]
pub fn received_text(read: u64, total: Option<u64>) -> String {
    match total {
        Some(t) if t > 0 => format!(
            "{} of {} ({}%)",
            mb(read),
            mb(t),
            read.saturating_mul(100) / t
        ),
        _ => mb(read),
    }
}

fn mb(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size for people")]
    let m = n as f64 / 1e6;
    format!("{m:.1} MB")
}

/// The two halves of a range of more than one hour, by hour.
#[must_use]
pub fn halves(start: Hour, end: Hour) -> Option<((Hour, Hour), (Hour, Hour))> {
    let hours = start.hours_to(end);
    if hours < 2 {
        return None;
    }
    let first_end = start.plus(hours / 2 - 1);
    Some(((start, first_end), (first_end.plus(1), end)))
}

/// What to ask for instead of a range too large for one export.
fn split_advice(start: Hour, end: Hour) -> String {
    match halves(start, end) {
        Some(((a, b), (c, d))) => format!(
            "split the range into halves and fetch each: amplitude:export/{}/{} and amplitude:export/{}/{} \
             (halve again while one is still too large)",
            a.text(),
            b.text(),
            c.text(),
            d.text()
        ),
        None => "this single hour is too large for the Export API: use Amplitude's Amazon S3 export for it"
            .to_string(),
    }
}

/// Downloads the export of `start..=end` into `out`, calling `progress(read, total)` as
/// bytes arrive.
///
/// # Errors
/// When the request failed before any byte arrived, in words, with what to do.
pub fn download(
    api: &Api,
    start: Hour,
    end: Hour,
    stop: &AtomicBool,
    tell: &mut dyn FnMut(String),
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Downloaded, String> {
    let range = format!("{} to {}", start.text(), end.text());
    let what = format!("the export of {range}");
    let call = Call {
        path: "export",
        query: vec![("start", start.text()), ("end", end.text())],
        what: what.clone(),
        limited: false,
    };
    let mut response = match api.get(&call, stop, tell) {
        Ok(r) => r,
        Err(Failure::Status { code: 404, .. }) => {
            return Err(format!(
                "Amplitude has no data for {range} (HTTP 404): the range is in server upload time, UTC, whole hours \
                 both included, and data can be exported about 2 hours after it arrives; widen the range, or check \
                 the project (keys) and region"
            ));
        }
        Err(Failure::Status {
            code: 400, body, ..
        }) => {
            let said = if body.trim().is_empty() {
                String::new()
            } else {
                format!(": \"{}\"", crate::fmt::sanitize(body.trim()))
            };
            return Err(format!(
                "Amplitude refused {what} (HTTP 400{said}); it answers so when the archive would exceed 4 GB: {}",
                split_advice(start, end)
            ));
        }
        Err(f @ Failure::Status { code: 504, .. }) => {
            return Err(format!(
                "{}; a large range can time out: {}",
                api.describe(&f, &what),
                split_advice(start, end)
            ));
        }
        Err(f) => return Err(api.describe(&f, &what)),
    };
    let total = response.content_length();
    let mut done = Downloaded::default();
    progress(0, total);
    let every = total.map_or(PROGRESS_EVERY, |t| (t / 100).clamp(1, PROGRESS_EVERY));
    let mut buf = vec![0u8; 64 << 10];
    let mut last = 0u64;
    let broke = loop {
        match response.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => {
                if let Err(e) = out.write_all(&buf[..n]) {
                    break Some(format!("writing what arrived failed: {e}"));
                }
                done.received += n as u64;
                if done.received - last >= every {
                    last = done.received;
                    progress(done.received, total);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Some(format!("the download broke off: {}", reason(&e))),
        }
    };
    progress(done.received, total);
    let short = total.is_some_and(|t| done.received < t);
    if let Some(why) = broke.or_else(|| short.then(|| "the download ended early".to_string())) {
        let of = match total {
            Some(t) => format!(
                "{} of {} bytes arrived; the last {} bytes are missing",
                done.received,
                t,
                t - done.received.min(t)
            ),
            None => format!("{} bytes arrived; the rest is missing", done.received),
        };
        done.missing = Some(format!(
            "{what}: {why}; {of}, so the archive's members (hours) past that point are missing (the members \
             that arrived whole are read)"
        ));
        done.again = format!("fetch {range} again to have it all");
    }
    Ok(done)
}

/// The members of a partly received zip at `path`, from their local headers: the
/// names of those whose data arrived whole, and the name of the one cut off (when its
/// header arrived). Stops at a member whose size its header does not give.
///
/// # Errors
/// When the file cannot be read.
pub fn arrived_members(path: &std::path::Path) -> std::io::Result<(Vec<String>, Option<String>)> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::io::BufReader::new(std::fs::File::open(path)?);
    let len = f.get_ref().metadata()?.len();
    let mut whole = Vec::new();
    let mut at = 0u64;
    loop {
        let mut fixed = [0u8; 30];
        if at + 30 > len || f.read_exact(&mut fixed).is_err() || fixed[..4] != *b"PK\x03\x04" {
            return Ok((whole, None));
        }
        let u16_at = |i: usize| u64::from(u16::from_le_bytes([fixed[i], fixed[i + 1]]));
        let size = u64::from(u32::from_le_bytes([
            fixed[18], fixed[19], fixed[20], fixed[21],
        ]));
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let mut name = vec![0u8; usize::try_from(name_len).unwrap_or(0)];
        if f.read_exact(&mut name).is_err() {
            return Ok((whole, None));
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        let descriptor = u16_at(6) & 8 != 0;
        let end = at + 30 + name_len + extra_len + size;
        if (descriptor && size == 0) || size == u64::from(u32::MAX) || end > len {
            return Ok((whole, Some(name)));
        }
        whole.push(name);
        at = end;
        f.seek(SeekFrom::Start(at))?;
    }
}

/// What [`arrived_members`] found, in words, for a download that broke off.
#[must_use]
pub fn arrived_text(whole: &[String], cut: Option<&str>) -> String {
    let sane = |n: &str| crate::fmt::sanitize(n).into_owned();
    let mut text = match whole.last() {
        Some(last) => format!(
            "{} member{} arrived whole (the last: {})",
            whole.len(),
            if whole.len() == 1 { "" } else { "s" },
            sane(last)
        ),
        None => "no member arrived whole".to_string(),
    };
    if let Some(c) = cut {
        text.push_str(&format!(
            "; cut off in {} and missing from there on",
            sane(c)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(t: &str) -> Hour {
        Hour::parse(t).expect("an hour")
    }

    #[test]
    fn ranges_split_into_halves_by_hour() {
        let ((a, b), (c, d)) = halves(h("20240101T00"), h("20240101T23")).expect("halves");
        assert_eq!(
            [a, b, c, d].map(Hour::text),
            ["20240101T00", "20240101T11", "20240101T12", "20240101T23"]
        );
        // Odd: the second half takes the extra hour; across a month's end.
        let ((a, b), (c, d)) = halves(h("20240131T22"), h("20240201T00")).expect("halves");
        assert_eq!(
            [a, b, c, d].map(Hour::text),
            ["20240131T22", "20240131T22", "20240131T23", "20240201T00"]
        );
        assert!(halves(h("20240101T05"), h("20240101T05")).is_none());
        assert!(split_advice(h("20240101T05"), h("20240101T05")).contains("S3"));
    }

    #[test]
    fn members_that_arrived_whole_are_found_in_a_cut_zip() {
        use std::io::Write as _;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for h in 0..3 {
            w.start_file(format!("1/1_2024-01-01_{h}#0.json.gz"), opts)
                .expect("member");
            w.write_all(&[b'x'; 100]).expect("data");
        }
        let bytes = w.finish().expect("zip").into_inner();
        let dir = std::env::temp_dir().join(format!("streamscope-members-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("cut.zip");
        // Cut inside the third member's data.
        let third = memchr::memmem::find_iter(&bytes, b"PK\x03\x04")
            .nth(2)
            .expect("3 members");
        std::fs::write(&path, &bytes[..third + 60]).expect("write");
        let (whole, cut) = arrived_members(&path).expect("read");
        assert_eq!(
            whole,
            ["1/1_2024-01-01_0#0.json.gz", "1/1_2024-01-01_1#0.json.gz"]
        );
        assert_eq!(cut.as_deref(), Some("1/1_2024-01-01_2#0.json.gz"));
        assert_eq!(
            arrived_text(&whole, cut.as_deref()),
            "2 members arrived whole (the last: 1/1_2024-01-01_1#0.json.gz); cut off in 1/1_2024-01-01_2#0.json.gz and missing from there on"
        );
        // Cut inside a header: only the whole ones.
        std::fs::write(&path, &bytes[..third + 10]).expect("write");
        assert_eq!(arrived_members(&path).expect("read"), (whole, None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn received_sizes_read_as_people_write_them() {
        assert_eq!(
            received_text(1_500_000, Some(6_000_000)),
            "1.5 MB of 6.0 MB (25%)"
        );
        assert_eq!(received_text(123, None), "0.0 MB");
    }
}
