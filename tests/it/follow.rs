//! `--follow FILE` end to end: the follower runs on a thread over a temporary file while
//! the test appends, truncates and rotates it, applying what it emits to a store as the
//! inspector does. Every wait polls for a condition with a deadline; nothing asserts on
//! timing.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use streamscope::source::{FollowSpec, LoadOptions, Spec};

use crate::common::Run;

fn line(name: &str, time: i64) -> String {
    format!(
        "{{\"event_type\":\"{name}\",\"user_id\":\"user-1\",\"time\":{time},\"insert_id\":\"{name}\"}}\n"
    )
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

fn start(path: &Path, reset_on_replace: bool) -> Run {
    let spec = Spec::Follow(FollowSpec {
        path: path.to_path_buf(),
        wake: None,
        reset_on_replace,
    });
    let opts = LoadOptions {
        keep_raw: true,
        threads: 1,
        // Small reads: the initial content arrives in several pieces.
        chunk_size: 4096,
        ..LoadOptions::default()
    };
    Run::start(spec, opts)
}

fn temp_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("events.ndjson");
    fs::write(&path, text).expect("write");
    path
}

#[test]
fn appends_are_read_and_a_line_written_in_two_halves_appears_once_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Enough initial content for several reads.
    let initial: String = (0..200).map(|i| line(&format!("e{i}"), 1000 + i)).collect();
    let path = temp_file(&dir, &initial);
    let mut run = start(&path, false);
    run.until("the initial content", |r| r.store.events().len() == 200);
    assert_eq!(run.store.sources[0].format, Some("ndjson"));

    append(&path, &line("next", 5000));
    run.until("an appended line", |r| r.store.events().len() == 201);

    let whole = line("split", 6000);
    let (first, second) = whole.split_at(20);
    append(&path, first);
    let len = fs::metadata(&path).expect("stat").len();
    run.until("the first half to be read", |r| {
        r.store.sources[0].bytes_read == len
    });
    assert_eq!(run.store.events().len(), 201, "half a line is not an event");
    assert!(
        run.store.rejects.is_empty(),
        "half a line is not rejected either"
    );
    append(&path, second);
    run.until("the completed line", |r| r.store.events().len() == 202);

    let types = run.types();
    assert_eq!(types[0], "e0");
    assert_eq!(types[199], "e199");
    assert_eq!(&types[200..], ["next", "split"]);
    assert_eq!(run.raw(201).expect("raw text"), whole.trim_end());
    assert_eq!(
        run.raw(200).expect("raw text"),
        line("next", 5000).trim_end()
    );
    assert!(run.store.rejects.is_empty());
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    run.stop();
}

#[test]
fn a_truncated_file_is_read_again_from_the_start_and_old_text_is_retired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = format!(
        "{}{}{}",
        line("old-1", 1000),
        line("old-2", 2000),
        line("old-3", 3000)
    );
    let path = temp_file(&dir, &before);
    let mut run = start(&path, false);
    run.until("the initial content", |r| r.store.events().len() == 3);

    // Shorter than what was read, so the truncation is visible in the length.
    let after = line("new-1", 4000);
    fs::write(&path, &after).expect("truncate and write");
    run.until("the new content", |r| r.store.events().len() == 4);
    assert_eq!(run.types(), ["old-1", "old-2", "old-3", "new-1"]);
    assert!(run.has_problem("was truncated; reading it again from the start"));
    assert_eq!(run.retired.len(), 1);
    assert_eq!(run.retired[0].0, 0);
    assert!(
        run.retired[0]
            .1
            .contains("was truncated after this event was read")
    );
    let gone = run.raw(0).expect_err("the old text is gone");
    assert!(gone.to_string().contains("truncated"), "{gone}");
    assert_eq!(run.raw(3).expect("raw text"), after.trim_end());
    assert_eq!(run.store.sources[0].members.len(), 2);

    append(&path, &line("new-2", 5000));
    run.until("an append after the truncation", |r| {
        r.store.events().len() == 5
    });
    assert_eq!(
        run.raw(4).expect("raw text"),
        line("new-2", 5000).trim_end()
    );
    assert_eq!(run.resets, 0, "truncation never resets");
    run.stop();
}

#[test]
fn a_rotated_file_is_read_to_its_end_then_the_new_file_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, &format!("{}{}", line("a", 1000), line("b", 2000)));
    let mut run = start(&path, false);
    run.until("the initial content", |r| r.store.events().len() == 2);

    // Written to the old file just before it is rotated away.
    append(&path, &line("late", 3000));
    fs::rename(&path, dir.path().join("events.ndjson.1")).expect("rotate");
    let mut new = File::create(&path).expect("new file");
    new.write_all(line("n1", 4000).as_bytes()).expect("write");
    drop(new);
    run.until("the new file", |r| r.store.events().len() == 4);
    append(&path, &line("n2", 5000));
    run.until("an append to the new file", |r| r.store.events().len() == 5);

    assert_eq!(run.types(), ["a", "b", "late", "n1", "n2"]);
    assert!(run.has_problem("was replaced (rotated); following the new file"));
    assert_eq!(run.retired.len(), 1);
    assert!(
        run.retired[0]
            .1
            .contains("was replaced after this event was read")
    );
    assert!(
        run.raw(2).is_err(),
        "the old file's text is no longer shown"
    );
    assert_eq!(run.raw(3).expect("raw text"), line("n1", 4000).trim_end());
    assert_eq!(run.raw(4).expect("raw text"), line("n2", 5000).trim_end());
    assert!(run.problems.iter().all(|(_, fatal)| !fatal));
    run.stop();
}

#[test]
fn with_reset_on_replace_a_new_file_voids_what_was_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, &format!("{}{}", line("a", 1000), line("b", 2000)));
    let mut run = start(&path, true);
    run.until("the initial content", |r| r.store.events().len() == 2);

    let rotated = dir.path().join("old.ndjson");
    fs::rename(&path, &rotated).expect("rotate");
    fs::write(&path, line("fresh", 3000)).expect("new file");
    run.until("the reset and the new file", |r| {
        r.resets == 1 && r.store.events().len() == 1
    });
    assert_eq!(run.types(), ["fresh"]);
    assert_eq!(
        run.raw(0).expect("raw text"),
        line("fresh", 3000).trim_end()
    );
    run.stop();
}

#[test]
fn a_missing_file_is_waited_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("later.ndjson");
    let mut run = start(&path, false);
    run.until("the waiting message", |r| {
        r.has_problem("does not exist yet")
    });
    assert!(!run.store.sources[0].failed);
    fs::write(&path, line("a", 1000)).expect("create");
    run.until("the file's events", |r| r.store.events().len() == 1);
    assert_eq!(run.raw(0).expect("raw text"), line("a", 1000).trim_end());
    run.stop();
}

#[test]
fn a_file_that_is_not_ndjson_cannot_be_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, Vec<u8>); 2] = [
        ("body.json", b"[\n  {\"event_type\": \"a\"}\n]\n".to_vec()),
        ("events.ndjson.gz", {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(line("a", 1).as_bytes()).expect("gzip");
            gz.finish().expect("gzip")
        }),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).expect("write");
        let mut run = start(&path, false);
        run.until("the follower to give up", |r| r.done);
        let (message, fatal) = run.problems.last().expect("a problem").clone();
        assert!(fatal, "{message}");
        assert!(message.contains(name), "{message}");
        assert!(message.contains("--follow needs NDJSON"), "{message}");
        assert!(run.store.sources[0].failed);
        assert!(run.store.events().is_empty());
    }
}

#[test]
fn a_torn_first_line_is_one_rejected_record_and_the_rest_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A kill -9 during the very first write, then the writer's restart ended the half line
    // and appended more; a pretty-printed object is still refused.
    for torn in [
        "{\"event_type\":\"half",
        "{\"event_type\":\"a\",\"user_id\"",
        "{\"event_type\":\"a\",",
    ] {
        let text = format!("{torn}\n{}{}", line("a", 1), line("b", 2));
        let path = temp_file(&dir, &text);
        let mut run = start(&path, false);
        run.until("the whole lines", |r| r.store.events().len() == 2);
        assert_eq!(run.store.rejected(), 1, "{torn}");
        append(&path, &line("c", 3));
        run.until("an appended line", |r| r.store.events().len() == 3);
        assert!(
            run.problems.iter().all(|(_, fatal)| !fatal),
            "{:?}",
            run.problems
        );
        run.stop();
    }
    let path = dir.path().join("pretty.json");
    fs::write(
        &path,
        "{\n  \"event_type\": \"a\",\n  \"user_id\": \"user-1\",\n  \"time\": 1\n}\n",
    )
    .expect("write");
    let mut run = start(&path, false);
    run.until("the follower to give up", |r| r.done);
    let (message, fatal) = run.problems.last().expect("a problem").clone();
    assert!(
        fatal && message.contains("--follow needs NDJSON"),
        "{message}"
    );
}
