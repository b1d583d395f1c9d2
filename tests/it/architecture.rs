//! The architecture, checked: the core (event model, JSON scanner, decoder, store, session
//! analysis, formatting, the endpoint's decisions) is pure and synchronous. This reads the
//! core's source and fails, naming file and line, when it uses a terminal, async, network,
//! filesystem, process, thread or environment API, the standard streams, or the clock.
//!
//! What is looked at: `use` declarations (groups expanded: `use std::{fs, io}` is `std::fs`)
//! and paths in code (`std::fs::read`, `tokio::spawn`, `Instant::now()`). Comments, doc
//! comments and string and char literals are not code. Test code is exempt (it may read a
//! fixture): `#[cfg(test)]` items, and the files of `#[cfg(test)] mod name;` declarations.
//! A renamed import (`use std::time::Instant as I; I::now()`) is not seen.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The core, relative to the crate root: files, and directories meaning every `.rs` file
/// under them. A listed path that does not exist fails the test: update this list when a
/// core module moves.
const CORE: &[&str] = &[
    "src/event.rs",
    "src/json.rs",
    "src/decode",
    "src/store.rs",
    "src/analysis",
    "src/fmt.rs",
    "src/index.rs",
    "src/listen/request.rs",
    "src/listen/request",
    "src/source/sse.rs",
    "src/sql",
];

/// Crates the core must not name (as a path's first segment, in `use` or in code).
const FORBIDDEN_CRATES: &[(&str, &str)] = &[
    ("ratatui", "terminal"),
    ("crossterm", "terminal"),
    ("tokio", "async runtime"),
    ("futures", "async"),
    ("futures_util", "async"),
    ("axum", "network"),
    ("hyper", "network"),
    ("reqwest", "network"),
];

/// Standard-library paths the core must not use: the path and everything under it.
const FORBIDDEN_PATHS: &[(&str, &str)] = &[
    ("std::fs", "filesystem"),
    ("std::net", "network"),
    ("std::process", "processes"),
    (
        "std::thread",
        "threads (the core's parallelism is rayon's fork-join)",
    ),
    ("std::env", "environment"),
    ("std::io::stdin", "standard streams"),
    ("std::io::stdout", "standard streams"),
    ("std::io::stderr", "standard streams"),
];

/// Macros that write to the standard streams.
const FORBIDDEN_MACROS: &[&str] = &["print", "println", "eprint", "eprintln", "dbg"];

/// Any path ending in one of these reads the clock (`SystemTime::now`, `Instant::now`,
/// `chrono::Utc::now`, `Local::now`, …); so does a `.elapsed()` call.
const CLOCK_FUNCTIONS: &[&str] = &["now", "now_utc", "now_local", "today"];

#[test]
fn the_core_uses_no_terminal_async_network_filesystem_process_or_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for entry in CORE {
        let path = root.join(entry);
        if path.is_dir() {
            rs_files(&path, &mut files);
        } else if path.is_file() {
            files.push(path);
        } else {
            problems.push(format!(
                "{entry}: listed in CORE (tests/it/architecture.rs) but missing; update the list"
            ));
        }
    }
    files.sort();
    files.dedup();
    assert!(files.len() >= 8, "too few core files found: {files:?}");

    let scans: Vec<(PathBuf, Scan)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            let scan = scan(&text);
            (f, scan)
        })
        .collect();
    // Files of `#[cfg(test)] mod name;` declarations (and their submodules) are test code.
    let mut test_code = BTreeSet::new();
    for (file, scan) in &scans {
        let dir = module_dir(file);
        for name in &scan.test_modules {
            test_code.insert(dir.join(format!("{name}.rs")));
            test_code.insert(dir.join(name));
        }
    }
    for (file, scan) in &scans {
        if test_code.iter().any(|t| file.starts_with(t)) {
            continue;
        }
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        for v in &scan.violations {
            problems.push(format!("{shown}:{}: `{}` ({})", v.line, v.what, v.why));
        }
    }
    assert!(
        problems.is_empty(),
        "the core must stay pure and synchronous (see CORE in tests/it/architecture.rs):\n{}",
        problems.join("\n")
    );
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The directory a file's `mod name;` declarations are looked up in.
fn module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("")).to_path_buf();
    match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") | None => parent,
        Some(stem) => parent.join(stem),
    }
}

#[derive(Debug, PartialEq)]
struct Violation {
    line: usize,
    what: String,
    why: &'static str,
}

#[derive(Debug, Default)]
struct Scan {
    violations: Vec<Violation>,
    /// Names in `#[cfg(test)] mod name;` declarations.
    test_modules: Vec<String>,
}

/// Checks one file's source text.
fn scan(source: &str) -> Scan {
    let t = tokens(source);
    let mut out = Scan::default();
    let mut i = 0;
    while i < t.len() {
        if is_cfg_test(&t, i) {
            let item = skip_attributes(&t, i);
            if let Some(name) = mod_declaration(&t, item) {
                out.test_modules.push(name);
            }
            i = skip_item(&t, item);
            continue;
        }
        if t[i].is_ident("use") {
            let line = t[i].line;
            let mut k = i + 1;
            let mut paths = Vec::new();
            use_tree(&t, &mut k, Vec::new(), &mut paths);
            for path in paths {
                check_path(&path, true, line, &mut out.violations);
            }
            while k < t.len() && !t[k].is_punct(';') {
                k += 1;
            }
            i = k + 1;
            continue;
        }
        if t[i].is_ident("extern")
            && t.get(i + 1).is_some_and(|x| x.is_ident("crate"))
            && let Some(Tok::Ident(name)) = t.get(i + 2).map(|x| &x.tok)
        {
            check_path(
                std::slice::from_ref(name),
                true,
                t[i].line,
                &mut out.violations,
            );
            i += 3;
            continue;
        }
        if let Tok::Ident(name) = &t[i].tok {
            let prev = i.checked_sub(1).map(|p| &t[p].tok);
            let before = i.checked_sub(2).map(|p| &t[p].tok);
            // `.elapsed()` reads the clock, whatever it is called on.
            if name == "elapsed"
                && prev == Some(&Tok::Punct('.'))
                && t.get(i + 1).is_some_and(|x| x.is_punct('('))
            {
                out.violations.push(Violation {
                    line: t[i].line,
                    what: ".elapsed()".into(),
                    why: "clock",
                });
            }
            if FORBIDDEN_MACROS.contains(&name.as_str())
                && t.get(i + 1).is_some_and(|x| x.is_punct('!'))
                && prev != Some(&Tok::PathSep)
            {
                out.violations.push(Violation {
                    line: t[i].line,
                    what: format!("{name}!"),
                    why: "standard streams",
                });
            }
            // A path starts here unless this is a later segment (`a::b`, `<T>::b`).
            let continues = prev == Some(&Tok::PathSep)
                && matches!(before, Some(Tok::Ident(_) | Tok::Punct('>')));
            if !continues {
                let mut path = vec![name.clone()];
                let mut k = i + 1;
                while k + 1 < t.len() && t[k].tok == Tok::PathSep {
                    let Tok::Ident(seg) = &t[k + 1].tok else {
                        break;
                    };
                    path.push(seg.clone());
                    k += 2;
                }
                check_path(&path, false, t[i].line, &mut out.violations);
                i = k;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Flags a forbidden path. `declared` is for `use` and `extern crate`, where a lone crate
/// name counts; in code a crate only counts as the head of a longer path.
fn check_path(path: &[String], declared: bool, line: usize, out: &mut Vec<Violation>) {
    let path: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "self")
        .collect();
    let Some(first) = path.first() else { return };
    let what = path.join("::");
    if declared || path.len() >= 2 {
        for (name, why) in FORBIDDEN_CRATES {
            if first == name {
                out.push(Violation {
                    line,
                    what: what.clone(),
                    why,
                });
                return;
            }
        }
    }
    for (prefix, why) in FORBIDDEN_PATHS {
        let prefix: Vec<&str> = prefix.split("::").collect();
        if path.starts_with(&prefix) {
            out.push(Violation {
                line,
                what: what.clone(),
                why,
            });
            return;
        }
    }
    if path.len() >= 2 && path.last().is_some_and(|l| CLOCK_FUNCTIONS.contains(l)) {
        out.push(Violation {
            line,
            what,
            why: "clock",
        });
    }
}

/// Expands a `use` tree from `t[*k]` into full paths.
fn use_tree(t: &[Token], k: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    while *k < t.len() {
        match &t[*k].tok {
            Tok::PathSep => *k += 1,
            Tok::Ident(s) if s == "as" => {
                *k += 2;
                break;
            }
            Tok::Ident(s) => {
                path.push(s.clone());
                *k += 1;
            }
            Tok::Punct('*') => {
                *k += 1;
                break;
            }
            Tok::Punct('{') => {
                *k += 1;
                while *k < t.len() && !t[*k].is_punct('}') {
                    use_tree(t, k, path.clone(), out);
                    if *k < t.len() && t[*k].is_punct(',') {
                        *k += 1;
                    }
                }
                *k += 1;
                return;
            }
            _ => break,
        }
    }
    out.push(path);
}

/// `#[cfg(test)]` at `t[i]`.
fn is_cfg_test(t: &[Token], i: usize) -> bool {
    let want = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    t.len() >= i + want.len() && t[i..i + want.len()].iter().map(|x| &x.tok).eq(want.iter())
}

/// The index after the attributes starting at `t[i]`.
fn skip_attributes(t: &[Token], mut i: usize) -> usize {
    while i + 1 < t.len() && t[i].is_punct('#') && t[i + 1].is_punct('[') {
        let mut depth = 0;
        i += 1;
        while i < t.len() {
            if t[i].is_punct('[') {
                depth += 1;
            } else if t[i].is_punct(']') {
                depth -= 1;
                if depth == 0 {
                    i += 1;
                    break;
                }
            }
            i += 1;
        }
    }
    i
}

/// `[pub[(…)]] mod name;` at `t[i]`: the name.
fn mod_declaration(t: &[Token], mut i: usize) -> Option<String> {
    if t.get(i)?.is_ident("pub") {
        i += 1;
        if t.get(i)?.is_punct('(') {
            while !t.get(i)?.is_punct(')') {
                i += 1;
            }
            i += 1;
        }
    }
    match (&t.get(i)?.tok, &t.get(i + 1)?.tok, t.get(i + 2)?) {
        (Tok::Ident(m), Tok::Ident(name), end) if m == "mod" && end.is_punct(';') => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// The index after the item starting at `t[i]`: after its `;` or its closing brace.
fn skip_item(t: &[Token], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < t.len() {
        match t[i].tok {
            Tok::Punct('{' | '(' | '[') => depth += 1,
            Tok::Punct(c @ ('}' | ')' | ']')) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && c == '}' {
                    return i + 1;
                }
            }
            Tok::Punct(';') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string, char or number literal.
    Literal,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn is_ident(&self, s: &str) -> bool {
        matches!(&self.tok, Tok::Ident(x) if x == s)
    }
    fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

/// Rust source to tokens, without comments and with literals blanked. Good enough for
/// paths: no lifetimes (`'a` is `a`), no multi-character operators but `::`.
fn tokens(source: &str) -> Vec<Token> {
    let c: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let newlines = |from: usize, to: usize| {
        c[from..to.min(c.len())]
            .iter()
            .filter(|&&x| x == '\n')
            .count()
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += newlines(start, i);
        } else if ch == '"' {
            let start = i;
            i = end_of_string(&c, i + 1);
            out.push(Token {
                tok: Tok::Literal,
                line,
            });
            line += newlines(start, i);
        } else if ch == '\'' {
            if next == Some('\\') {
                // '\n', '\'', '\u{..}'
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(Token {
                    tok: Tok::Literal,
                    line,
                });
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(Token {
                    tok: Tok::Literal,
                    line,
                });
            } else {
                i += 1; // a lifetime or label: its name follows as an identifier
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let here = c.get(i).copied();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if raw_prefix && matches!(here, Some('"' | '#')) && word_is_raw_string(&c, i) {
                let begin = i;
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1; // the opening quote
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '"' && (1..=hashes).all(|h| c.get(i + h) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Literal,
                    line,
                });
                line += newlines(begin, i);
            } else if matches!(word.as_str(), "b" | "c") && here == Some('"') {
                let begin = i;
                i = end_of_string(&c, i + 1);
                out.push(Token {
                    tok: Tok::Literal,
                    line,
                });
                line += newlines(begin, i);
            } else if word == "r" && here == Some('#') {
                // a raw identifier, r#type
                let s = i + 1;
                i = s;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(c[s..i].iter().collect()),
                    line,
                });
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Literal,
                line,
            });
        } else if ch == ':' && next == Some(':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

/// After `r`, `br` or `cr` at `c[i]`: `#…#"` or `"` opens a raw string.
fn word_is_raw_string(c: &[char], mut i: usize) -> bool {
    while c.get(i) == Some(&'#') {
        i += 1;
    }
    c.get(i) == Some(&'"')
}

/// The index after the closing quote of a string whose content starts at `c[i]`.
fn end_of_string(c: &[char], mut i: usize) -> usize {
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

// The scanner can fail, and does not fail on words that are not code.

fn found(source: &str) -> Vec<(usize, String, &'static str)> {
    scan(source)
        .violations
        .into_iter()
        .map(|v| (v.line, v.what, v.why))
        .collect()
}

#[test]
fn scanner_flags_forbidden_uses_and_paths() {
    let source = "use std::fs;\n\
                  use std::{io::{self, Read}, net::TcpStream};\n\
                  use ratatui::widgets::Paragraph;\n\
                  fn f() {\n\
                      let t = std::time::Instant::now();\n\
                      let u = chrono::Utc::now();\n\
                      tokio::spawn(async {});\n\
                      let d = t.elapsed();\n\
                      let h = ::hyper::Request::new(());\n\
                      println!(\"{d:?}\");\n\
                  }\n\
                  extern crate reqwest;\n\
                  #[cfg(test)]\n\
                  mod tests { use std::fs::read; }\n\
                  fn g() { std::thread::sleep(x); }\n";
    assert_eq!(
        found(source),
        [
            (1, "std::fs".to_string(), "filesystem"),
            (2, "std::net::TcpStream".to_string(), "network"),
            (3, "ratatui::widgets::Paragraph".to_string(), "terminal"),
            (5, "std::time::Instant::now".to_string(), "clock"),
            (6, "chrono::Utc::now".to_string(), "clock"),
            (7, "tokio::spawn".to_string(), "async runtime"),
            (8, ".elapsed()".to_string(), "clock"),
            (9, "hyper::Request::new".to_string(), "network"),
            (10, "println!".to_string(), "standard streams"),
            (12, "reqwest".to_string(), "network"),
            (
                15,
                "std::thread::sleep".to_string(),
                "threads (the core's parallelism is rayon's fork-join)"
            ),
        ]
    );
}

#[test]
fn scanner_ignores_comments_literals_and_test_code() {
    let source = r###"
        // use std::fs;
        /// Unlike `tokio::spawn`, this runs on the caller's thread. Instant::now() is not read.
        /* a block comment about std::net::TcpStream /* nested: std::fs */ still a comment */
        //! std::process::exit
        fn parse(s: &str) -> Option<Utc> {
            let quote = '"';
            let msg = "std::fs::read failed: use tokio";
            let raw = r#"crossterm::event "quoted" "#;
            let bytes = b"std::net";
            let lifetime: &'static str = "x";
            let now = 3; // a local called now is not a clock
            let at = Timestamp::at(now);
            std::io::Write::flush(&mut out).ok()?;
            None
        }
        #[cfg(test)]
        mod tests;
        #[cfg(test)]
        #[allow(clippy::unwrap_used)]
        mod inline {
            use std::fs;
            fn f() { let _ = std::time::SystemTime::now(); }
        }
    "###;
    assert_eq!(found(source), []);
    assert_eq!(scan(source).test_modules, ["tests"]);
}

#[test]
fn the_files_of_test_modules_are_found_next_to_their_parent() {
    assert_eq!(
        module_dir(Path::new("src/ingest.rs")),
        Path::new("src/ingest")
    );
    assert_eq!(
        module_dir(Path::new("src/decode/mod.rs")),
        Path::new("src/decode")
    );
    assert_eq!(
        module_dir(Path::new("src/analysis/sessions.rs")),
        Path::new("src/analysis/sessions")
    );
}

/// The files allowed to hold `unsafe`, each exactly one block, with its safety argument
/// in the module documentation: the call into SSE2, and glibc's `mallopt` for the
/// inspector. The crate's lint is `unsafe_code = "deny"`, which those files override; this
/// test keeps every other file, tests included, free of it.
const UNSAFE_ALLOWED: [&str; 2] = ["src/json/lanes.rs", "src/tui/memory.rs"];

#[test]
fn unsafe_code_is_confined_to_two_small_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "examples"] {
        let dir = root.join(dir);
        if dir.is_dir() {
            rs_files(&dir, &mut files);
        }
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for t in tokens(&text) {
            if t.is_ident("unsafe") && !UNSAFE_ALLOWED.contains(&shown.as_str()) {
                found.push(format!("{shown}:{}", t.line));
            }
        }
    }
    assert!(
        found.is_empty(),
        "`unsafe` outside {UNSAFE_ALLOWED:?}: {found:?}"
    );
    for allowed in UNSAFE_ALLOWED {
        let text = std::fs::read_to_string(root.join(allowed)).expect("an allowed module");
        let blocks = tokens(&text)
            .iter()
            .filter(|t| t.is_ident("unsafe"))
            .count();
        assert_eq!(blocks, 1, "{allowed} should hold exactly one unsafe block");
        assert!(
            text.contains("**Safety argument.**"),
            "{allowed} should give its safety argument"
        );
    }
}
