//! One core, one parser, the lines of an NDJSON file already in memory: how many MB/s.
//!
//! `parsers-bench FILE PARSER [LIMIT_MB]` prints `PARSER MB_PER_S RECORDS`. The file's
//! first LIMIT_MB (400 by default) are read into memory and cut into lines before the clock
//! starts; each parser then reads every line once, as one JSON document. bench/parsers.sh
//! runs them in turn, several times, and prints the medians.
//!
//! The parsers, each validating the whole of each line (RFC 8259):
//! - `streamscope`: the decoder as `report` runs it, everything it does per event
//!   (validation, the fields of the session model, interning, hashes, time parsing);
//! - `streamscope-validate`: the same scanner, validation only (`json::validate`);
//! - `streamscope-object`: the scanner walking the top-level object member by member, as
//!   the decoder does, without reading the members;
//! - `serde_json`: `serde_json::from_slice::<IgnoredAny>` (validates, builds nothing);
//! - `simd-json`: the Rust port of simdjson, to its tape (it parses in place, so each line
//!   is first copied, as its API requires);
//! - `sonic-rs`: `sonic_rs::Value` (a tree);
//! - `simdjson`: the C++ simdjson's DOM parser (its own padded copy, then its tape), with
//!   its runtime choice of the best SIMD kernel for the CPU.

use std::time::Instant;

use streamscope::decode::{Batch, Decoder, Origin};

/// Lines per sealed batch: about a 2 MiB chunk of an Export, as `report` seals them.
const LINES_PER_BATCH: usize = 3000;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(parser)) = (args.next(), args.next()) else {
        eprintln!("usage: parsers-bench FILE PARSER [LIMIT_MB]");
        std::process::exit(2);
    };
    let limit_mb: usize = args
        .next()
        .map_or(400, |s| s.parse().expect("LIMIT_MB: a number"));
    let data = read_lines(&path, limit_mb << 20);
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let start = Instant::now();
    let records = match parser.as_str() {
        "streamscope" => streamscope(&lines),
        "streamscope-validate" => count(&lines, |l| {
            std::str::from_utf8(l).is_ok() && streamscope::json::validate(l).is_ok()
        }),
        "streamscope-object" => count(&lines, |l| {
            let mut keys = 0usize;
            let mut scanner = streamscope::json::Scanner::new(l);
            scanner.skip_ws();
            std::str::from_utf8(l).is_ok()
                && scanner.object(|key, _, _| keys += key.len()).is_ok()
                && std::hint::black_box(keys) > 0
        }),
        "serde_json" => count(&lines, |l| {
            serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok()
        }),
        "simd-json" => {
            let mut copy = Vec::new();
            let mut buffers = simd_json::Buffers::default();
            count(&lines, |l| {
                copy.clear();
                copy.extend_from_slice(l);
                simd_json::Deserializer::from_slice_with_buffers(&mut copy, &mut buffers).is_ok()
            })
        }
        "sonic-rs" => count(&lines, |l| {
            sonic_rs::from_slice::<sonic_rs::Value>(l).is_ok()
        }),
        "simdjson" => {
            let mut dom = simdjson_rust::dom::Parser::default();
            count(&lines, |l| dom.parse_bytes(l).is_ok())
        }
        other => {
            eprintln!("unknown parser {other}");
            std::process::exit(2);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{parser} {:.0} {records}",
        data.len() as f64 / seconds / 1e6
    );
}

/// The whole lines of the first `limit` bytes of the file at `path` (or a little more:
/// up to the end of the line that crosses the limit).
fn read_lines(path: &str, limit: usize) -> Vec<u8> {
    use std::io::{BufRead as _, Read as _};
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut reader = std::io::BufReader::new(file);
    let mut data = Vec::with_capacity(limit);
    (&mut reader)
        .take(limit as u64)
        .read_to_end(&mut data)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    if data.last().is_some_and(|&b| b != b'\n') {
        reader
            .read_until(b'\n', &mut data)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    data
}

/// Lines `accept` says yes to.
fn count(lines: &[&[u8]], mut accept: impl FnMut(&[u8]) -> bool) -> usize {
    lines.iter().filter(|l| accept(l)).count()
}

/// Events the decoder accepts.
fn streamscope(lines: &[&[u8]]) -> usize {
    let mut decoder = Decoder::new(false);
    let origin = Origin::default();
    let mut accepted = 0;
    for chunk in lines.chunks(LINES_PER_BATCH) {
        let mut batch = Batch::default();
        for line in chunk {
            decoder.line(&mut batch, line, &origin);
        }
        decoder.seal(&mut batch);
        accepted += batch.events.len();
    }
    accepted
}
