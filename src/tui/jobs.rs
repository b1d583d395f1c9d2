//! The inspector's background work as single-flight jobs.
//!
//! [`super::app::App::apply`] (and the analysis scheduler in [`super::app::App::tick`])
//! only *ask* for work: [`Jobs::want`] records a [`Job`], a self-contained description
//! (a snapshot of the store, raw locations and the segments they need, a path). The run
//! loop carries it out: [`super::app::App::run_jobs`] starts what is wanted on worker
//! threads, and the result comes back as a [`Msg::Done`] on the app's channel, the way
//! loader events do. Nothing a job does blocks the UI thread; only the final write of a
//! clipboard copy to the terminal happens there.
//!
//! | kind | what | a request while one of its kind is wanted or running |
//! |---|---|---|
//! | [`Kind::Analyse`] | [`crate::analysis::Analysis`] plus the standard sweep, over a snapshot of the store | *waits*: it starts when the running one has finished (the scheduler does not ask while one runs) |
//! | [`Kind::ReadRaw`] `Props` | key properties of the rows on screen (compressed sources) | is *refused* (silently): the next draw asks again for what is still missing |
//! | [`Kind::ReadRaw`] `Detail` | the event in the detail overlay (compressed sources) | *supersedes*: the newer request runs, the older one's result is dropped |
//! | [`Kind::Export`] | NDJSON export of the listed events, with progress | is *refused* with a message (one file at a time) |
//! | [`Kind::Copy`] | reads an event's raw JSON and encodes its OSC 52 sequence | *supersedes*: the latest copy wins |
//! | [`Kind::Search`] | a search across all users over a snapshot of the store ([`super::search::search_store`]), with progress | *supersedes*: the latest query wins |
//!
//! # Staleness: one rule
//!
//! Every job is tagged ([`Tag`]) with its kind, a request number and the store's epoch
//! (how many times it was reset) when it was asked for. [`Jobs::is_current`] is the only
//! place that decides whether a job's result (or progress) may be used:
//!
//! 1. it is the job of its kind the runner is waiting for (not superseded), and
//! 2. for kinds whose results point into the store ([`Kind::follows_store`]: analyses
//!    and raw reads, which carry event indices), it was asked for at the current epoch.
//!    Exports and copies carry no indices (a file written, bytes for the clipboard), so
//!    a reset does not void them.
//!
//! The same rule is applied when a wanted job is about to start, so work asked for before
//! a reset is not even started.
//!
//! # Tests
//!
//! With [`Exec::Held`], started jobs are kept instead of given to a thread, and run on the
//! caller's thread by [`Jobs::run_held`]: tests decide when a job's work happens and can
//! look at the app while it is pending, without sleeping or racing a thread.

use std::collections::VecDeque;
use std::io::{self, Write as _};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::app::{Msg, run_worker};
use super::jsonview;
use super::osc52;
use crate::analysis::{Analysis, Rules, SweepRow};
use crate::event::RawLoc;
use crate::index::EventIx;
use crate::source::raw::{self, SegmentSet};
use crate::store::EventStore;

/// Analysis plus the sweep over the standard timeouts: what an analysis job computes.
pub(crate) fn analyse(store: &EventStore, rules: &Rules) -> (Analysis, Vec<SweepRow>) {
    let analysis = Analysis::compute(store, rules);
    let standard: Vec<i64> = crate::analysis::sweep_timeouts(super::app::TIMEOUT_PRESETS[0]);
    // The replay at the chosen timeout is part of the analysis: not redone.
    let sweep =
        analysis
            .replay_input
            .sweep_reusing(&standard, &analysis.sessions, Some(&analysis.replay));
    (analysis, sweep)
}

/// Why raw text was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawPurpose {
    /// Key properties of list rows.
    Props,
    /// The detail overlay.
    Detail,
}

/// What kind of work a job does; at most one job of each kind runs at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Analysis of a snapshot of the store.
    Analyse,
    /// Raw text read back from compressed sources.
    ReadRaw(RawPurpose),
    /// NDJSON export to a file.
    Export,
    /// Raw JSON prepared for the clipboard.
    Copy,
    /// A search across all users.
    Search,
}

/// What happens to a request for a kind of job while one of that kind is wanted or
/// running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The request replaces one not yet started, and starts when the running one ends.
    Wait,
    /// The request starts at once; the result of the older one is dropped.
    Supersede,
    /// The request is refused ([`Jobs::want`] returns [`Busy`]).
    Refuse,
}

const KINDS: usize = 6;

impl Kind {
    /// Its slot in the runner's table.
    fn slot(self) -> usize {
        match self {
            Kind::Analyse => 0,
            Kind::ReadRaw(RawPurpose::Props) => 1,
            Kind::ReadRaw(RawPurpose::Detail) => 2,
            Kind::Export => 3,
            Kind::Copy => 4,
            Kind::Search => 5,
        }
    }

    /// What a request for this kind does while one is wanted or running.
    #[must_use]
    pub fn policy(self) -> Policy {
        match self {
            Kind::Analyse => Policy::Wait,
            Kind::ReadRaw(RawPurpose::Props) | Kind::Export => Policy::Refuse,
            Kind::ReadRaw(RawPurpose::Detail) | Kind::Copy | Kind::Search => Policy::Supersede,
        }
    }

    /// Whether its result points into the store (event indices), so a reset of the store
    /// voids it.
    #[must_use]
    pub fn follows_store(self) -> bool {
        matches!(self, Kind::Analyse | Kind::ReadRaw(_) | Kind::Search)
    }

    /// How messages name it (`the analysis thread failed: …`).
    #[must_use]
    pub fn what(self) -> &'static str {
        match self {
            Kind::Analyse => "analysis",
            Kind::ReadRaw(_) => "raw text",
            Kind::Export => "export",
            Kind::Copy => "clipboard",
            Kind::Search => "search",
        }
    }

    /// Its worker thread's name.
    fn thread(self) -> &'static str {
        match self {
            Kind::Analyse => "streamscope-analysis",
            Kind::ReadRaw(_) => "streamscope-raw",
            Kind::Export => "streamscope-export",
            Kind::Copy => "streamscope-copy",
            Kind::Search => "streamscope-search",
        }
    }
}

/// What a job is: its kind, its request number and the store's epoch when it was asked
/// for. Results and progress carry it back; [`Jobs::is_current`] judges them by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The kind of work.
    pub kind: Kind,
    /// The request number (unique per runner, increasing).
    pub id: u64,
    /// [`super::app::App::epoch`] when the job was asked for.
    pub epoch: u64,
}

/// Where an event's raw JSON for the clipboard comes from.
#[derive(Debug)]
pub enum CopyFrom {
    /// Already read (the detail overlay shows it).
    Bytes(Vec<u8>),
    /// To be read from its source.
    Read {
        /// Where it is.
        loc: RawLoc,
        /// The segment it is in, taken out of the store.
        segments: SegmentSet,
    },
}

/// A piece of work, with everything it needs (nothing of it refers to the app).
#[derive(Debug)]
pub enum Job {
    /// Analyse the store as it is in this snapshot.
    Analyse {
        /// The snapshot (while a job holds it, loader events wait: see [`super`]).
        store: Arc<EventStore>,
        /// The rules.
        rules: Rules,
    },
    /// Read the raw text of events.
    ReadRaw {
        /// Why.
        purpose: RawPurpose,
        /// (event index, where its raw text is).
        events: Vec<(EventIx, RawLoc)>,
        /// The segments they are in, taken out of the store.
        segments: SegmentSet,
    },
    /// Write events' raw JSON, compacted, one per line, to a new file.
    Export {
        /// The file (it must not exist).
        path: String,
        /// Per event in file order, where its raw text is (`None`: not kept).
        locs: Vec<Option<RawLoc>>,
        /// The segments they are in, taken out of the store.
        segments: SegmentSet,
    },
    /// Prepare an event's raw JSON for the clipboard.
    Copy(CopyFrom),
    /// Search every user's events.
    Search {
        /// The snapshot searched (while a job holds it, loader events wait).
        store: Arc<EventStore>,
        /// The query, lower-cased.
        needle: String,
        /// Events `0..upto` are searched: those the analysis holds.
        upto: usize,
    },
}

impl Job {
    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Job::Analyse { .. } => Kind::Analyse,
            Job::ReadRaw { purpose, .. } => Kind::ReadRaw(*purpose),
            Job::Export { .. } => Kind::Export,
            Job::Copy(_) => Kind::Copy,
            Job::Search { .. } => Kind::Search,
        }
    }
}

/// A finished analysis.
#[derive(Debug)]
pub struct Analysed {
    /// The analysis.
    pub analysis: Analysis,
    /// The sweep over the standard timeouts.
    pub sweep: Vec<SweepRow>,
    /// `store.generation` it was computed at.
    pub generation: u64,
    /// How long it took.
    pub took: Duration,
}

/// How far an export has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportProgress {
    /// Events to write.
    pub total: usize,
    /// Events whose raw text has been read back.
    pub read: usize,
    /// Events written.
    pub written: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// A finished export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exported {
    /// Events written.
    pub written: usize,
    /// Events whose raw text could not be read from their source.
    pub failed: usize,
}

/// Bytes for the clipboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clip {
    /// The raw JSON copied.
    pub raw: Vec<u8>,
    /// The OSC 52 sequence that puts it on the clipboard (written by the UI thread).
    pub osc52: String,
    /// The full size, when the raw JSON was longer than [`CLIP_MAX`] and was cut.
    pub cut: Option<u64>,
}

/// What a job produced.
#[derive(Debug)]
pub enum Outcome {
    /// An analysis.
    Analysed(Box<Analysed>),
    /// Raw texts: (event index, bytes or error), for the purpose in the tag's kind.
    Raw(Vec<(EventIx, Result<Vec<u8>, String>)>),
    /// An export ended.
    Exported {
        /// The file, as asked for.
        path: String,
        /// Counts, or why it failed.
        result: Result<Exported, String>,
    },
    /// A copy is ready, or could not be read.
    Copied(Result<Clip, String>),
    /// A search across all users has finished.
    Searched(super::search::Found),
}

/// A finished job: its tag and what it produced.
#[derive(Debug)]
pub struct Done {
    /// The job.
    pub tag: Tag,
    /// Its result.
    pub outcome: Outcome,
}

/// How started jobs are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Exec {
    /// Each on a worker thread of its own (the inspector).
    #[default]
    Threads,
    /// Kept until [`Jobs::run_held`] runs them on the caller's thread (tests).
    Held,
}

/// A request refused because a job of its kind is wanted or running
/// ([`Policy::Refuse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy(pub Kind);

/// The runner: wanted jobs, the job in flight per kind, and how jobs are run.
#[derive(Debug)]
pub struct Jobs {
    tx: Sender<Msg>,
    exec: Exec,
    next_id: u64,
    wanted: Vec<(Tag, Job)>,
    running: [Option<Tag>; KINDS],
    held: VecDeque<(Tag, Job)>,
}

impl Jobs {
    /// A runner whose jobs report to `tx`.
    #[must_use]
    pub fn new(tx: Sender<Msg>) -> Self {
        Self {
            tx,
            exec: Exec::Threads,
            next_id: 0,
            wanted: Vec::new(),
            running: [None; KINDS],
            held: VecDeque::new(),
        }
    }

    /// Sets how jobs started from now on are run.
    pub fn set_exec(&mut self, exec: Exec) {
        self.exec = exec;
    }

    /// Asks for `job`, at store epoch `epoch`, following its kind's [`Policy`]; it starts
    /// at the next [`Jobs::start_wanted`].
    ///
    /// # Errors
    ///
    /// [`Busy`] when the kind refuses requests while one is wanted or running.
    pub fn want(&mut self, job: Job, epoch: u64) -> Result<Tag, Busy> {
        let kind = job.kind();
        match kind.policy() {
            Policy::Refuse if self.busy(kind) => return Err(Busy(kind)),
            Policy::Refuse => {}
            Policy::Wait | Policy::Supersede => self.wanted.retain(|(t, _)| t.kind != kind),
        }
        self.next_id += 1;
        let tag = Tag {
            kind,
            id: self.next_id,
            epoch,
        };
        self.wanted.push((tag, job));
        Ok(tag)
    }

    /// Whether a job of `kind` is wanted or running.
    #[must_use]
    pub fn busy(&self, kind: Kind) -> bool {
        self.running[kind.slot()].is_some() || self.wanted.iter().any(|(t, _)| t.kind == kind)
    }

    /// Whether a job other than an export is wanted or running: its result will change
    /// the screen, so the run loop should look for it often. (An export runs for long and
    /// only moves a progress figure.)
    #[must_use]
    pub fn awaited(&self) -> bool {
        let kinds = self.wanted.iter().map(|(t, _)| t.kind);
        let running = self.running.iter().flatten().map(|t| t.kind);
        kinds.chain(running).any(|k| k != Kind::Export)
    }

    /// Whether no job is wanted, running or held.
    #[must_use]
    pub fn idle(&self) -> bool {
        self.wanted.is_empty() && self.held.is_empty() && self.running.iter().all(Option::is_none)
    }

    /// The job of `kind` the runner waits for, if any.
    #[must_use]
    pub fn running(&self, kind: Kind) -> Option<Tag> {
        self.running[kind.slot()]
    }

    /// **The staleness rule**: whether the result or progress of job `tag` may be used
    /// at store epoch `epoch`. It must be the job of its kind that is wanted or waited
    /// for (not superseded), and, when its result points into the store, it must have
    /// been asked for at the current epoch (no reset since).
    #[must_use]
    pub fn is_current(&self, tag: Tag, epoch: u64) -> bool {
        let awaited = self.running[tag.kind.slot()] == Some(tag)
            || self.wanted.iter().any(|(t, _)| *t == tag);
        awaited && (!tag.kind.follows_store() || tag.epoch == epoch)
    }

    /// Records that job `tag` has ended; returns whether its result is to be used
    /// ([`Jobs::is_current`]).
    pub fn finish(&mut self, tag: Tag, epoch: u64) -> bool {
        let current = self.is_current(tag, epoch);
        let slot = &mut self.running[tag.kind.slot()];
        if *slot == Some(tag) {
            *slot = None;
        }
        current
    }

    /// Starts the wanted jobs that may start at store epoch `epoch`: a job of a
    /// [`Policy::Wait`] kind waits while one of its kind runs; a stale one (see
    /// [`Jobs::is_current`]) is dropped. Returns the kinds whose thread could not be
    /// started (nothing of them is pending then).
    pub fn start_wanted(&mut self, epoch: u64) -> Vec<Kind> {
        let mut failed = Vec::new();
        let mut i = 0;
        while i < self.wanted.len() {
            let tag = self.wanted[i].0;
            let slot = tag.kind.slot();
            if tag.kind.policy() == Policy::Wait && self.running[slot].is_some() {
                i += 1;
                continue;
            }
            // The rule, applied before the work starts (the tag is still wanted here).
            let current = self.is_current(tag, epoch);
            let (tag, job) = self.wanted.remove(i);
            if !current {
                continue;
            }
            self.running[slot] = Some(tag);
            match self.exec {
                Exec::Held => self.held.push_back((tag, job)),
                Exec::Threads => {
                    let tx = self.tx.clone();
                    let spawned = std::thread::Builder::new()
                        .name(tag.kind.thread().into())
                        .spawn(move || run(tag, job, &tx));
                    if spawned.is_err() {
                        self.running[slot] = None;
                        failed.push(tag.kind);
                    }
                }
            }
        }
        failed
    }

    /// Runs the held jobs ([`Exec::Held`]) on this thread, in the order they started;
    /// returns how many ran. Their results are on the channel afterwards.
    pub fn run_held(&mut self) -> usize {
        let mut n = 0;
        while let Some((tag, job)) = self.held.pop_front() {
            run(tag, job, &self.tx);
            n += 1;
        }
        n
    }
}

/// Runs one job (on whatever thread calls it) and sends its result; a panic is reported
/// as a [`Msg::Failed`].
fn run(tag: Tag, job: Job, tx: &Sender<Msg>) {
    run_worker(tag.kind.what(), tx, || {
        let outcome = match job {
            Job::Analyse { store, rules } => {
                let started = Instant::now();
                let (analysis, sweep) = analyse(&store, &rules);
                let generation = store.generation;
                // Release the snapshot before reporting, so the UI can apply batches again.
                drop(store);
                Outcome::Analysed(Box::new(Analysed {
                    analysis,
                    sweep,
                    generation,
                    took: started.elapsed(),
                }))
            }
            Job::ReadRaw {
                events, segments, ..
            } => {
                let locs: Vec<RawLoc> = events.iter().map(|(_, l)| *l).collect();
                let results = raw::read_many_in(&segments, &locs)
                    .into_iter()
                    .zip(&events)
                    .map(|(r, (e, _))| (*e, r.map_err(|e| e.to_string())))
                    .collect();
                Outcome::Raw(results)
            }
            Job::Export {
                path,
                locs,
                segments,
            } => {
                let progress = |p: ExportProgress| {
                    let _ = tx.send(Msg::Progress { tag, progress: p });
                };
                let result = export(&path, &locs, &segments, &progress).map_err(|e| e.to_string());
                Outcome::Exported { path, result }
            }
            Job::Copy(from) => Outcome::Copied(copy(from)),
            Job::Search {
                store,
                needle,
                upto,
            } => {
                let total = upto.min(store.events().len());
                let mut progress = |scanned, found| {
                    let _ = tx.send(Msg::SearchProgress {
                        tag,
                        scanned,
                        total,
                        found,
                    });
                };
                let found = super::search::search_store(&store, &needle, upto, &mut progress);
                drop(store);
                Outcome::Searched(found)
            }
        };
        let _ = tx.send(Msg::Done(Box::new(Done { tag, outcome })));
    });
}

/// Progress is reported after this many events written.
const PROGRESS_EVERY: usize = 1024;

/// Writes the raw texts at `locs`, compacted, one per line, to the new file `path`;
/// reports progress after each segment read and every [`PROGRESS_EVERY`] events written.
fn export(
    path: &str,
    locs: &[Option<RawLoc>],
    segments: &SegmentSet,
    progress: &dyn Fn(ExportProgress),
) -> io::Result<Exported> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let mut p = ExportProgress {
        total: locs.len(),
        ..ExportProgress::default()
    };
    // Read segment by segment (one pass each, as `read_many` does), to report progress.
    let known: Vec<(usize, RawLoc)> = locs
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.map(|l| (i, l)))
        .collect();
    let mut texts: Vec<Option<Vec<u8>>> = vec![None; locs.len()];
    let mut groups: Vec<Vec<(usize, RawLoc)>> = Vec::new();
    for &(i, loc) in &known {
        let same = |g: &&mut Vec<(usize, RawLoc)>| {
            g.first()
                .is_some_and(|(_, l)| l.source == loc.source && l.segment == loc.segment)
        };
        match groups.iter_mut().find(same) {
            Some(g) => g.push((i, loc)),
            None => groups.push(vec![(i, loc)]),
        }
    }
    for group in groups {
        let group_locs: Vec<RawLoc> = group.iter().map(|(_, l)| *l).collect();
        for ((i, _), text) in group.iter().zip(raw::read_many_in(segments, &group_locs)) {
            texts[*i] = text.ok();
        }
        p.read += group.len();
        progress(p);
    }
    let mut out = io::BufWriter::new(file);
    let mut failed = 0;
    for text in texts {
        let Some(bytes) = text else {
            failed += 1;
            continue;
        };
        let line = jsonview::compact(&bytes);
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        p.written += 1;
        p.bytes += line.len() as u64 + 1;
        if p.written.is_multiple_of(PROGRESS_EVERY) {
            progress(p);
        }
    }
    out.flush()?;
    progress(p);
    Ok(Exported {
        written: p.written,
        failed,
    })
}

/// The most raw JSON a clipboard copy holds: OSC 52 sends it base64-encoded through the
/// terminal (4/3 the size), and terminals and multiplexers drop or truncate long
/// sequences (xterm, tmux and kitty cap them at 100 KB to a few MB).
pub const CLIP_MAX: usize = 1 << 20;

/// Reads (when needed) and encodes a clipboard copy, cut to [`CLIP_MAX`] bytes.
fn copy(from: CopyFrom) -> Result<Clip, String> {
    let mut raw = match from {
        CopyFrom::Bytes(b) => b,
        CopyFrom::Read { loc, segments } => raw::read_many_in(&segments, &[loc])
            .pop()
            .unwrap_or_else(|| Err(io::Error::other("not read")))
            .map_err(|e| format!("cannot read the raw JSON: {e}"))?,
    };
    let cut = (raw.len() > CLIP_MAX).then(|| {
        let full = raw.len() as u64;
        // Cut on a character boundary.
        let mut end = CLIP_MAX;
        while end > 0 && raw.get(end).is_some_and(|b| b & 0xc0 == 0x80) {
            end -= 1;
        }
        raw.truncate(end);
        full
    });
    Ok(Clip {
        osc52: osc52::sequence(&raw),
        raw,
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_huge_copy_is_cut_on_a_character_boundary_and_says_so() {
        let mut big = vec![b'a'; CLIP_MAX - 1];
        big.extend_from_slice("é".repeat(10).as_bytes());
        let full = big.len() as u64;
        let clip = copy(CopyFrom::Bytes(big)).unwrap();
        assert_eq!(clip.cut, Some(full));
        assert_eq!(clip.raw.len(), CLIP_MAX - 1);
        assert!(std::str::from_utf8(&clip.raw).is_ok());
        let small = copy(CopyFrom::Bytes(b"{}".to_vec())).unwrap();
        assert_eq!((small.cut, small.raw), (None, b"{}".to_vec()));
    }

    fn copy_job(bytes: &[u8]) -> Job {
        Job::Copy(CopyFrom::Bytes(bytes.to_vec()))
    }

    fn held() -> (Jobs, mpsc::Receiver<Msg>) {
        let (tx, rx) = mpsc::channel();
        let mut jobs = Jobs::new(tx);
        jobs.set_exec(Exec::Held);
        (jobs, rx)
    }

    fn export_job(path: &str) -> Job {
        Job::Export {
            path: path.to_string(),
            locs: Vec::new(),
            segments: SegmentSet::default(),
        }
    }

    #[test]
    fn a_second_export_is_refused_while_one_is_wanted_or_running() {
        let (mut jobs, _rx) = held();
        let first = jobs.want(export_job("a"), 0).unwrap();
        assert_eq!(jobs.want(export_job("b"), 0), Err(Busy(Kind::Export)));
        assert!(jobs.start_wanted(0).is_empty());
        assert_eq!(jobs.running(Kind::Export), Some(first));
        assert_eq!(jobs.want(export_job("b"), 0), Err(Busy(Kind::Export)));
        assert!(jobs.finish(first, 0));
        assert!(jobs.want(export_job("b"), 0).is_ok());
    }

    #[test]
    fn a_newer_copy_supersedes_and_the_older_result_is_dropped() {
        let (mut jobs, rx) = held();
        let old = jobs.want(copy_job(b"1"), 0).unwrap();
        jobs.start_wanted(0);
        let new = jobs.want(copy_job(b"2"), 0).unwrap();
        jobs.start_wanted(0);
        assert_eq!(jobs.run_held(), 2);
        let tags: Vec<Tag> = rx
            .try_iter()
            .filter_map(|m| match m {
                Msg::Done(d) => Some(d.tag),
                _ => None,
            })
            .collect();
        assert_eq!(tags, [old, new]);
        assert!(!jobs.finish(old, 0), "superseded");
        assert!(jobs.finish(new, 0));
        assert!(jobs.idle());
    }

    #[test]
    fn results_that_point_into_the_store_are_dropped_after_a_reset() {
        let (mut jobs, _rx) = held();
        let read = jobs
            .want(
                Job::ReadRaw {
                    purpose: RawPurpose::Props,
                    events: Vec::new(),
                    segments: SegmentSet::default(),
                },
                3,
            )
            .unwrap();
        let copy = jobs.want(copy_job(b"x"), 3).unwrap();
        jobs.start_wanted(3);
        assert_eq!(jobs.run_held(), 2);
        // The store was reset (epoch 4): the read's indices are void, the copy is not.
        assert!(!jobs.is_current(read, 4));
        assert!(jobs.is_current(copy, 4));
        assert!(!jobs.finish(read, 4));
        assert!(jobs.finish(copy, 4));
        // Asked for before a reset and not started yet: never started.
        jobs.want(copy_job(b"y"), 4).unwrap();
        let stale = Job::ReadRaw {
            purpose: RawPurpose::Detail,
            events: Vec::new(),
            segments: SegmentSet::default(),
        };
        let stale = jobs.want(stale, 4).unwrap();
        jobs.start_wanted(5);
        assert_eq!(jobs.running(Kind::ReadRaw(RawPurpose::Detail)), None);
        assert!(!jobs.is_current(stale, 5));
        assert_eq!(jobs.run_held(), 1);
    }

    #[test]
    fn an_analysis_asked_for_while_one_runs_waits_for_it() {
        let (mut jobs, _rx) = held();
        let store = Arc::new(EventStore::new());
        let job = || Job::Analyse {
            store: Arc::clone(&store),
            rules: Rules::default(),
        };
        let first = jobs.want(job(), 0).unwrap();
        jobs.start_wanted(0);
        let second = jobs.want(job(), 0).unwrap();
        jobs.start_wanted(0);
        assert_eq!(jobs.running(Kind::Analyse), Some(first), "still the first");
        assert!(jobs.finish(first, 0));
        jobs.start_wanted(0);
        assert_eq!(jobs.running(Kind::Analyse), Some(second));
    }

    #[test]
    fn the_loop_awaits_every_job_but_an_export() {
        let (mut jobs, _rx) = held();
        assert!(!jobs.awaited(), "no job");
        let export = jobs.want(export_job("a"), 0).unwrap();
        jobs.start_wanted(0);
        assert!(!jobs.awaited(), "only an export, running");
        let copy = jobs.want(copy_job(b"x"), 0).unwrap();
        assert!(jobs.awaited(), "a copy wanted");
        jobs.start_wanted(0);
        assert!(jobs.awaited(), "a copy running");
        assert!(jobs.finish(copy, 0));
        assert!(!jobs.awaited(), "the copy done, the export still running");
        assert!(jobs.finish(export, 0));
        let store = Arc::new(EventStore::new());
        jobs.want(
            Job::Analyse {
                store,
                rules: Rules::default(),
            },
            0,
        )
        .unwrap();
        assert!(jobs.awaited(), "an analysis wanted");
    }
}
