//! Sources: where events come from. Loading files is synchronous (std threads); live
//! sources wrap the same decoders. Everything reaches a store as [`crate::store::LoadEvent`]s.
//!
//! A [`Spec`] names one source as the command line gave it: the bundled demo, a file or
//! `-`, a file to follow ([`follow`]), an http(s) URL to stream ([`url`]) or a user's
//! events or an export fetched from Amplitude (`amplitude:…`, [`amplitude`]). [`run_spec`]
//! reads any of them on the calling thread and always ends with [`LoadEvent::Done`]; live
//! sources only end when asked to stop (or, for a URL read once, at the end of its stream).

pub mod amplitude;
pub mod feed;
pub mod follow;
pub mod lines;
pub mod load;
pub mod raw;
pub mod sse;
pub mod url;

pub use url::ensure_tls_provider;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

pub use load::{LoadOptions, load, load_bytes};

use crate::index::SourceIx;
use crate::store::{EventStore, LoadEvent};

/// The bundled demo stream (`assets/demo.ndjson`), embedded in the binary.
pub const DEMO: &[u8] = include_bytes!("../../assets/demo.ndjson");

/// The name the demo stream goes by in messages and the status bar.
pub const DEMO_NAME: &str = "demo.ndjson (bundled)";

/// One source, as named on the command line.
#[derive(Clone, Debug)]
pub enum Spec {
    /// The bundled demo stream.
    Demo,
    /// A file of any container, or `-` for standard input; read once.
    Path(String),
    /// An NDJSON file read and then followed as it grows (`--follow`).
    Follow(FollowSpec),
    /// An http(s) URL serving NDJSON or server-sent events.
    Url(UrlSpec),
    /// `amplitude:user/ID` or `amplitude:export/START/END`; see [`amplitude`].
    Amplitude(amplitude::AmplitudeSpec),
}

/// A file to follow like `tail -F`; see [`follow`].
#[derive(Clone, Debug)]
pub struct FollowSpec {
    /// The file.
    pub path: PathBuf,
    /// Notified by a writer after each append, to read it at once instead of at the next
    /// poll (the ingestion endpoint following its own capture).
    pub wake: Option<Arc<crate::listen::shared::Wake>>,
    /// When the path names a new file, everything read so far is void
    /// ([`LoadEvent::Reset`]) instead of being kept (the endpoint's reset rotates its
    /// capture to a new file).
    pub reset_on_replace: bool,
}

/// A streaming URL; see [`url`].
#[derive(Clone, Debug)]
pub struct UrlSpec {
    /// The http:// or https:// URL.
    pub url: String,
    /// Reconnect after the stream ends or fails (the inspector); without, the stream is
    /// read once to its end (`report`).
    pub reconnect: bool,
}

impl Spec {
    /// A positional source argument: an http(s) URL (followed, reconnecting), or a path.
    #[must_use]
    pub fn parse(arg: &str) -> Self {
        if let Some(a) = amplitude::AmplitudeSpec::parse(arg) {
            return Spec::Amplitude(a);
        }
        let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Spec::Url(UrlSpec {
                url: arg.to_string(),
                reconnect: true,
            })
        } else {
            Spec::Path(arg.to_string())
        }
    }

    /// The name the source goes by in messages and the status bar.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Spec::Demo => DEMO_NAME.to_string(),
            Spec::Path(p) => p.clone(),
            Spec::Follow(f) => f.path.display().to_string(),
            Spec::Url(u) => u.url.clone(),
            Spec::Amplitude(a) => a.text.clone(),
        }
    }

    /// Whether the source goes on until stopped (it needs a thread of its own).
    #[must_use]
    pub fn is_live(&self) -> bool {
        match self {
            Spec::Demo | Spec::Path(_) | Spec::Amplitude(_) => false,
            Spec::Follow(_) => true,
            Spec::Url(u) => u.reconnect,
        }
    }
}

/// The inspector's sources: the positional ones (paths and URLs), then the followed
/// files; the bundled demo when there are none.
#[must_use]
pub fn tui_specs(sources: &[String], follow: &[PathBuf]) -> Vec<Spec> {
    let mut specs: Vec<Spec> = sources.iter().map(|s| Spec::parse(s)).collect();
    specs.extend(follow.iter().map(|path| {
        Spec::Follow(FollowSpec {
            path: path.clone(),
            wake: None,
            reset_on_replace: false,
        })
    }));
    if specs.is_empty() {
        specs.push(Spec::Demo);
    }
    specs
}

/// Reads one source on the calling thread, emitting everything through `emit`; the last
/// event is always [`LoadEvent::Done`]. Live sources check `stop` between reads and
/// polls, and end soon after it is set.
pub fn run_spec(
    spec: &Spec,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(LoadEvent),
) {
    let name = spec.name();
    let mut seconds = EpochSeconds::default();
    let emit = &mut |ev: LoadEvent| {
        seconds.watch(&name, &ev, &mut *emit);
        emit(ev);
    };
    match spec {
        Spec::Demo => {
            let read = Arc::new(AtomicU64::new(0));
            load_bytes(Arc::from(DEMO), DEMO_NAME, source, opts, &read, emit);
            emit(LoadEvent::Done { source });
        }
        // `load` ends with Done itself.
        Spec::Path(path) => load(path, source, opts, emit),
        Spec::Follow(f) => {
            follow::follow(f, source, opts, stop, emit);
            emit(LoadEvent::Done { source });
        }
        Spec::Url(u) => {
            url::stream(u, source, opts, stop, emit);
            emit(LoadEvent::Done { source });
        }
        Spec::Amplitude(a) => {
            amplitude::run(a, source, opts, stop, emit);
            emit(LoadEvent::Done { source });
        }
    }
}

/// Watches a source's batches for event times that look like epoch seconds
/// ([`crate::decode::looks_like_seconds`]) and says so as problems of the source (not
/// fatal): one naming the first such time as soon as it is seen, and at the end of the
/// source how many there were in all.
///
/// Also watches what was rejected: when at least three records were read and nine in ten
/// or more were rejected the same way, it says what the input looks like, as the
/// source's first problem ([`crate::store::OVERVIEW`]).
#[derive(Default)]
struct EpochSeconds {
    count: u64,
    events: u64,
    rejects: crate::decode::RejectCounts,
    first_reject: Option<String>,
}

impl EpochSeconds {
    /// What a source whose records all failed the same way looks like.
    fn looks_like(&self) -> Option<String> {
        use crate::decode::RejectKind;
        let total = self.rejects.total();
        let records = total + self.events;
        if records < 3 {
            return None;
        }
        // "Mostly": nine in ten records or more rejected for one reason.
        let (kind, n) = self.rejects.iter().find(|(_, n)| *n * 10 >= records * 9)?;
        let what = match kind {
            RejectKind::InvalidJson => "text that is not JSON, one value per line (CSV? a log?)",
            RejectKind::NotObject => "JSON values that are not objects",
            RejectKind::MissingEventType => {
                "JSON objects without an 'event_type': not Amplitude events (another tool's format?)"
            }
            RejectKind::MissingIdentity => {
                "events without user_id, device_id or amplitude_id (identity fields renamed or dropped?)"
            }
            RejectKind::MissingTime => {
                "events without a time field (time fields renamed or dropped?)"
            }
            RejectKind::InvalidTime => {
                "events whose times are in a form the contract does not take"
            }
        };
        let share = if n == records {
            "all".to_string()
        } else {
            format!("{} of", crate::fmt::count(n))
        };
        Some(format!(
            "{share} {} records were rejected as {}: this looks like {what}; the first: {}",
            crate::fmt::count(records),
            kind.code(),
            self.first_reject.as_deref().unwrap_or("?")
        ))
    }
}

impl EpochSeconds {
    fn watch(&mut self, name: &str, ev: &LoadEvent, emit: &mut dyn FnMut(LoadEvent)) {
        if let LoadEvent::Batch { batch, .. } = ev {
            self.events += batch.events.len() as u64;
            self.rejects += &batch.reject_counts;
            if self.first_reject.is_none() {
                self.first_reject = batch.rejects.first().map(|r| r.reason.to_string());
            }
        }
        if let LoadEvent::Done { source } = ev
            && let Some(message) = self.looks_like()
        {
            emit(LoadEvent::Problem {
                source: *source,
                message: format!("{}'{name}': {message}", crate::store::OVERVIEW),
                fatal: false,
            });
        }
        match ev {
            LoadEvent::Batch {
                source,
                batch,
                line_base,
            } if batch.epoch_seconds > 0 => {
                if self.count == 0
                    && let Some(first) = &batch.epoch_seconds_first
                {
                    let (loc, field, time) = &**first;
                    let mut at = match &loc.member {
                        Some(m) => format!("'{name}' member '{m}' line {}", line_base + loc.line),
                        None => format!("'{name}' line {}", line_base + loc.line),
                    };
                    for step in &loc.index {
                        match step {
                            crate::event::Step::Element(i) => at.push_str(&format!(" [{i}]")),
                            crate::event::Step::Event(i) => at.push_str(&format!(" events[{i}]")),
                        }
                    }
                    emit(LoadEvent::Problem {
                        source: *source,
                        message: format!(
                            "{at}: '{field}' is {time}, which looks like epoch seconds ({} UTC); \
                             event times are milliseconds, so it was read as {} UTC \
                             (the event is kept)",
                            crate::fmt::time(time.saturating_mul(1000)),
                            crate::fmt::time(*time),
                        ),
                        fatal: false,
                    });
                }
                self.count += batch.epoch_seconds;
            }
            LoadEvent::Done { source } if self.count > 1 => emit(LoadEvent::Problem {
                source: *source,
                message: format!(
                    "'{name}': {} event times look like epoch seconds and were read as milliseconds (in 1970)",
                    crate::fmt::count(self.count)
                ),
                fatal: false,
            }),
            _ => {}
        }
    }
}

/// Loads every source into a new store, in order; with none, the bundled demo. A URL is
/// read once, to the end of its stream (`report` of a finite streaming endpoint).
#[must_use]
pub fn load_all(specs: &[String], opts: &LoadOptions) -> EventStore {
    let mut specs: Vec<Spec> = specs.iter().map(|s| Spec::parse(s)).collect();
    if specs.is_empty() {
        specs.push(Spec::Demo);
    }
    let mut store = EventStore::new();
    let never = AtomicBool::new(false);
    for mut spec in specs {
        if let Spec::Url(u) = &mut spec {
            u.reconnect = false;
        }
        let source = store.add_source(spec.name());
        run_spec(&spec, source, opts, &never, &mut |ev| store.apply(ev));
    }
    store
}

/// Finds where the `wanted` events' raw text is, for a store loaded without raw
/// locations (a report keeps none, to save memory): reads the sources again with
/// locations on and keeps only those of the wanted events. Events are matched by index:
/// each source is read again in the same way, and its loader emits events in input order
/// as the first load did; an event whose time or `user_properties` hash differ (the file
/// changed since) is not located. Sources that cannot be read twice (standard input, URL
/// streams, followed files) and sources holding no wanted event are not read. Returns
/// the locations found and one message per source whose events could not be located.
pub fn locate_again(
    specs: &[String],
    opts: &LoadOptions,
    store: &EventStore,
    wanted: &[crate::index::EventIx],
) -> (
    Vec<(crate::index::EventIx, crate::event::RawLoc)>,
    Vec<String>,
) {
    let mut wanted: Vec<usize> = wanted.iter().map(|e| e.idx()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut specs: Vec<Spec> = specs.iter().map(|s| Spec::parse(s)).collect();
    if specs.is_empty() {
        specs.push(Spec::Demo);
    }
    let opts = LoadOptions {
        keep_raw: true,
        ..opts.clone()
    };
    let events = store.events();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let never = AtomicBool::new(false);
    let mut start = 0usize;
    for (i, (spec, info)) in specs.iter().zip(&store.sources).enumerate() {
        let count = usize::try_from(info.events).unwrap_or(usize::MAX);
        let end = start.saturating_add(count);
        let from = wanted.partition_point(|&w| w < start);
        let to = wanted.partition_point(|&w| w < end);
        let mine = &wanted[from..to];
        let base = start;
        start = end;
        if mine.is_empty() {
            continue;
        }
        let rereadable = match spec {
            Spec::Demo => true,
            Spec::Path(p) => p != "-",
            Spec::Follow(_) | Spec::Url(_) | Spec::Amplitude(_) => false,
        };
        if !rereadable {
            problems.push(format!(
                "'{}' cannot be read a second time, so {} events' text is not shown",
                info.name,
                mine.len()
            ));
            continue;
        }
        let source = SourceIx::from_usize(i);
        let mut seen = 0usize;
        let mut next = 0usize;
        let mut changed = false;
        run_spec(spec, source, &opts, &never, &mut |ev| {
            if let LoadEvent::Batch { batch, .. } = ev {
                let n = batch.events.len();
                while let Some(&w) = mine.get(next) {
                    let k = w - base;
                    if k >= seen + n {
                        break;
                    }
                    let (again, first) = (&batch.events[k - seen], &events[w]);
                    match batch.raw.get(k - seen) {
                        Some(&loc)
                            if again.time == first.time && again.user_props == first.user_props =>
                        {
                            found.push((crate::index::EventIx::from_usize(w), loc));
                        }
                        _ => changed = true,
                    }
                    next += 1;
                }
                seen += n;
            }
        });
        if changed || next < mine.len() {
            problems.push(format!(
                "'{}' changed since it was read, so some events' text is not shown",
                info.name
            ));
        }
    }
    (found, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn http_and_https_arguments_are_urls_and_everything_else_a_path() {
        for arg in [
            "http://127.0.0.1:9/s",
            "https://example.com/x",
            "HTTPS://E.COM",
        ] {
            assert!(
                matches!(
                    Spec::parse(arg),
                    Spec::Url(UrlSpec {
                        reconnect: true,
                        ..
                    })
                ),
                "{arg}"
            );
        }
        for arg in ["-", "a.ndjson", "http.log", "./http://x", "ftp://x"] {
            assert!(matches!(Spec::parse(arg), Spec::Path(_)), "{arg}");
        }
        assert_eq!(Spec::parse("http://h/s").name(), "http://h/s");
    }

    #[test]
    fn the_inspector_follows_files_after_the_positional_sources_and_defaults_to_the_demo() {
        let specs = tui_specs(&["a.ndjson".into()], &[PathBuf::from("b.log")]);
        assert!(matches!(&specs[0], Spec::Path(p) if p == "a.ndjson"));
        assert!(
            matches!(&specs[1], Spec::Follow(f) if f.path == Path::new("b.log") && !f.reset_on_replace)
        );
        assert!(specs[1].is_live() && !specs[0].is_live());
        assert!(matches!(tui_specs(&[], &[])[..], [Spec::Demo]));
    }
}
