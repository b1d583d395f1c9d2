//! The application: the [`Model`] plus the machinery that changes it.
//!
//! [`App::apply`] carries out one [`Action`]; it needs no terminal, so interaction tests
//! drive the app with keys and actions and assert on the model. Work that takes time is
//! only asked for: `apply` records a job ([`super::jobs`]), and [`App::run_jobs`] (called
//! by the run loop, by [`App::tick`], and by tests through their `settle` helper) starts
//! it. Messages from loaders and jobs arrive on the app's own channel ([`App::pump`]);
//! [`App::tick`] schedules background analysis, samples an attached endpoint's counters,
//! moves playback's playhead by the `Instant` it is given and sets the wall clock the views
//! read ([`Model::now_ms`]). The caller passes in both
//! the `Instant` and the wall-clock time: apart from measuring how long work took, the
//! app reads no clock. Tests can hold jobs ([`App::set_job_exec`] with [`Exec::Held`])
//! and run them when they choose ([`App::run_held_jobs`]).
//!
//! See the module docs of [`super`] for how the store is shared with an analysis job.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the app, input dispatch, messages, asking for jobs and taking their results (analysis, raw reads), drawing |
//! | `navigate.rs` | focus, selections, scrolling, jumps, timeline zoom and pan, mouse |
//! | `fold.rs` | the event list's folded sessions and its properties' horizontal scroll |
//! | `prompt.rs` | prompts, search, filters, timeout changes |
//! | `replay_panel.rs` | the replay panel's scope (user or whole input) and compared timeout |
//! | `output.rs` | NDJSON export and clipboard copies: asking for their jobs, reporting how they ended |
//! | `search.rs` | the session detail overlay, search within a user with its count, search across all users (a job) and its results |
//! | `playback.rs` | playback (`p`): start, stop (landing the event list on the last event played), its keys, the playhead moved on the tick |
//! | `live_mode.rs` | an attached endpoint, the wall clock, follow mode, rejected requests, resets (one assignment of [`super::model::Derived`]) |

mod fold;
mod live_mode;
mod navigate;
mod output;
mod playback;
mod prompt;
mod replay_panel;
mod search;

use navigate::Motion;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;

use super::action::Action;
use super::jobs::{
    Analysed, Busy, Clip, Done, Exec, ExportProgress, Job, Jobs, Kind, Outcome, Policy, RawPurpose,
    Tag, analyse,
};
use super::jsonview;
use super::keymap::{self, Key, Keymap};
use super::live_view::{Follow, RateWindow};
use super::model::{
    Analysing, Focus, Level, Lower, Message, Model, Overlay, PromptKind, RawText, SourceStatus,
};
use super::rows::Row;
use super::ui::{self, ViewState};
use super::zone::Zones;
use crate::analysis::{MINUTE_MS, Rules};
use crate::event::RawLoc;
use crate::fmt::{sanitize, setting};
use crate::index::{EventIx, SourceIx};
use crate::listen::shared::LiveState;
use crate::source::raw::{self, SegmentSet};
use crate::store::{EventStore, LoadEvent};

/// The replay timeouts `t` cycles through.
pub const TIMEOUT_PRESETS: [i64; 6] = [
    MINUTE_MS,
    5 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    60 * MINUTE_MS,
    120 * MINUTE_MS,
];

/// While sources load, the analysis is recomputed at most this often.
pub const REANALYSE_EVERY: Duration = Duration::from_millis(500);

/// While sources of known size load, an analysis of part of them (after the first) is
/// started only when the complete one is predicted to be at least this far off. A partial
/// analysis costs CPU the loader would use, and the one on screen is kept in memory until
/// the complete one replaces it (on 2M events, 10% of the time to the complete analysis
/// and a quarter of the peak memory); for a shorter wait the progress bar says enough.
pub const PARTIAL_WORTH_AFTER: Duration = Duration::from_secs(3);

/// Key properties read per event row (the properties column scrolls to show them all).
const ROW_PROPERTIES: usize = 16;
/// The key-property cache is cleared when it grows past this many events.
const PROPS_CACHE_MAX: usize = 50_000;

/// Everything that reaches the app from other threads.
#[derive(Debug)]
pub enum Msg {
    /// A loader's event (boxed: it is much larger than the other messages, and there is
    /// one per batch of thousands of events, so the allocation does not matter).
    Load(Box<LoadEvent>),
    /// A job has finished ([`super::jobs`]; boxed: an analysis is large).
    Done(Box<Done>),
    /// How far a running export has got.
    Progress {
        /// The export job.
        tag: Tag,
        /// Its progress.
        progress: ExportProgress,
    },
    /// How far a search across all users has got.
    SearchProgress {
        /// The search job.
        tag: Tag,
        /// Events scanned.
        scanned: usize,
        /// Events to scan.
        total: usize,
        /// Matches so far.
        found: usize,
    },
    /// A worker thread panicked (a bug): the inspector stops and reports it.
    Failed(String),
}

impl From<LoadEvent> for Msg {
    fn from(ev: LoadEvent) -> Self {
        Msg::Load(Box::new(ev))
    }
}

/// Runs a worker's body; a panic becomes a [`Msg::Failed`] instead of a silent hang.
pub fn run_worker(what: &'static str, tx: &Sender<Msg>, body: impl FnOnce()) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    if let Err(panic) = outcome {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let _ = tx.send(Msg::Failed(format!("the {what} thread failed: {detail}")));
    }
}

/// When to run the next background analysis.
#[derive(Clone, Copy, Debug, Default)]
struct Schedule {
    last_start: Option<Instant>,
    last_took: Duration,
    /// Events in the store when the last analysis started.
    last_events: usize,
    /// The first tick: when the sources began loading.
    load_started: Option<Instant>,
}

/// How long loading `left` more bytes takes at the pace so far (`read` bytes in `elapsed`);
/// `None` before anything is read.
fn remaining_load(elapsed: Duration, read: u64, left: u64) -> Option<Duration> {
    (read > 0).then(|| elapsed.mul_f64(left as f64 / read as f64))
}

/// How long an analysis of `events` events likely takes, from the last one (`took` over
/// `last_events`): linear in the events.
fn predicted_analysis(took: Duration, last_events: usize, events: usize) -> Duration {
    if last_events == 0 {
        return took;
    }
    took.mul_f64(events as f64 / last_events as f64)
}

/// The inspector's state and behaviour.
pub struct App {
    /// What the views show.
    pub model: Model,
    /// Render-side state: layout and scroll offsets.
    pub view: ViewState,
    /// The key table: resolves keys, and names them wherever the views show one.
    keymap: Keymap,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    jobs: Jobs,
    pending: VecDeque<LoadEvent>,
    schedule: Schedule,
    quit: bool,
    clipboard: Option<Clip>,
    dirty: bool,
    failure: Option<String>,
    live: Option<Arc<LiveState>>,
    rates: RateWindow,
    /// (endpoint epoch, rejected-requests counter) of the rejected list shown.
    rejected_seen: Option<(u64, u64)>,
}

impl App {
    /// An app over `store` (possibly empty, filled later through [`App::sender`]).
    #[must_use]
    pub fn new(store: EventStore, rules: Rules, zones: Zones) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            model: Model::new(store, rules, zones),
            view: ViewState::default(),
            keymap: Keymap::default(),
            jobs: Jobs::new(tx.clone()),
            tx,
            rx,
            pending: VecDeque::new(),
            schedule: Schedule::default(),
            quit: false,
            clipboard: None,
            dirty: true,
            failure: None,
            live: None,
            rates: RateWindow::default(),
            rejected_seen: None,
        }
    }

    /// A sender for loaders and workers.
    #[must_use]
    pub fn sender(&self) -> Sender<Msg> {
        self.tx.clone()
    }

    /// Registers a source that a loader will fill; returns its index.
    pub fn add_source(&mut self, name: &str) -> Option<SourceIx> {
        let store = Arc::get_mut(&mut self.model.store)?;
        let idx = store.add_source(name);
        self.model.sources.push(SourceStatus {
            name: name.to_string(),
            ..SourceStatus::default()
        });
        Some(idx)
    }

    /// Whether the user asked to quit (or a worker failed).
    #[must_use]
    pub fn should_quit(&self) -> bool {
        self.quit || self.failure.is_some()
    }

    /// Why the inspector had to stop, when a worker thread failed.
    #[must_use]
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Whether something changed since the last draw (and forget it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// What the user asked to copy to the clipboard, once it is ready (read and encoded
    /// by a job); the run loop writes its OSC 52 sequence to the terminal.
    pub fn take_clipboard(&mut self) -> Option<Clip> {
        self.clipboard.take()
    }

    /// The key table in use.
    #[must_use]
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// Uses `keymap` from now on: for resolving keys and for every key the help, the
    /// hints, titles and messages name.
    pub fn set_keymap(&mut self, keymap: Keymap) {
        self.keymap = keymap;
        self.dirty = true;
    }

    /// The background jobs: what is wanted or running ([`Jobs::busy`], [`Jobs::idle`]).
    #[must_use]
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Sets how jobs are run: on worker threads (the default), or held until
    /// [`App::run_held_jobs`] (tests).
    pub fn set_job_exec(&mut self, exec: Exec) {
        self.jobs.set_exec(exec);
    }

    /// Runs the held jobs on this thread ([`Exec::Held`]); returns how many ran. Their
    /// results arrive with the next [`App::pump`].
    pub fn run_held_jobs(&mut self) -> usize {
        self.jobs.run_held()
    }

    // ---- input ------------------------------------------------------------------------

    /// Handles one terminal event.
    pub fn on_terminal(&mut self, event: &Event) {
        match event {
            Event::Key(key) => self.on_key(*key),
            Event::Mouse(mouse) => self.on_mouse(*mouse),
            Event::Resize(..) | Event::FocusGained | Event::FocusLost | Event::Paste(_) => {
                self.dirty = true;
            }
        }
    }

    /// Handles one key press: the key table's action for it in the scopes that apply now
    /// ([`keymap::active_scopes`]); in a prompt, other characters are typed.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        self.model.message = None;
        let k = Key::of(&key);
        if let Some(action) = self.keymap.resolve(k, &keymap::active_scopes(&self.model)) {
            self.apply(action);
        } else if self.model.prompt.is_some()
            && !k.ctrl
            && let crossterm::event::KeyCode::Char(c) = k.code
        {
            self.apply(Action::PromptInput(c));
        }
    }

    /// Handles one mouse event.
    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        let (column, row) = (mouse.column, mouse.row);
        let action = match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => Action::Click { column, row },
            MouseEventKind::ScrollDown => Action::Scroll {
                column,
                row,
                down: true,
            },
            MouseEventKind::ScrollUp => Action::Scroll {
                column,
                row,
                down: false,
            },
            _ => return,
        };
        self.dirty = true;
        self.apply(action);
    }

    /// Carries out one user intent.
    pub fn apply(&mut self, action: Action) {
        self.dirty = true;
        if self.model.follow == Follow::On && self.pauses_follow(action) {
            self.pause_follow();
        }
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => self.toggle_help(),
            Action::CloseOverlay => self.close_overlay(),
            Action::FocusNext => self.cycle_focus(true),
            Action::FocusPrev => self.cycle_focus(false),
            Action::Up => self.motion(Motion::By(-1)),
            Action::Down => self.motion(Motion::By(1)),
            Action::Top => self.motion(Motion::Top),
            Action::Bottom => self.motion(Motion::Bottom),
            Action::PageUp => self.motion(Motion::Pages(-2)),
            Action::PageDown => self.motion(Motion::Pages(2)),
            Action::HalfPageUp => self.motion(Motion::Pages(-1)),
            Action::HalfPageDown => self.motion(Motion::Pages(1)),
            Action::Open => self.open(),
            Action::PrevSession => self.jump_session(false),
            Action::NextSession => self.jump_session(true),
            Action::NextFlagged => self.jump_flagged(true),
            Action::PrevFlagged => self.jump_flagged(false),
            Action::Search => self.start_search(),
            Action::SearchNext => self.search(true),
            Action::SearchPrev => self.search(false),
            Action::SearchAll => self.start_search_all(),
            Action::FilterType => {
                let current = self.model.events.type_filter.clone();
                self.open_prompt(PromptKind::TypeFilter, current);
            }
            Action::CycleZone => {
                self.model.zones.cycle();
                let label = self.model.zones.current().label();
                self.info(format!("times are shown in {label}"));
            }
            Action::CycleTimeout => self.cycle_timeout(),
            Action::PromptTimeout => {
                let current = setting(self.model.rules.timeout_ms);
                self.open_prompt(PromptKind::Timeout, current);
            }
            Action::ToggleReplay => {
                self.model.lower = match self.model.lower {
                    Lower::Events => Lower::Replay,
                    Lower::Replay => Lower::Events,
                    Lower::Playback => Lower::Replay,
                };
                self.model.focus = Focus::Lower;
            }
            Action::ToggleReplayScope => self.toggle_replay_scope(),
            Action::CycleCompareTimeout => self.cycle_compare_timeout(),
            Action::CycleSort => {
                self.model.users.sort = self.model.users.sort.next();
                self.resort_users();
            }
            Action::ToggleOrder => {
                self.model.events.order = self.model.events.order.toggled();
                self.rebuild_rows(true);
            }
            Action::ZoomIn => self.zoom(true),
            Action::ZoomOut => self.zoom(false),
            Action::ZoomReset => self.set_scale(crate::tui::rows::Scale::Whole),
            Action::FitSession => self.set_scale(crate::tui::rows::Scale::Fit),
            Action::PanLeft => self.pan(false),
            Action::PanRight => self.pan(true),
            Action::Export => self.start_export(),
            Action::Copy => self.copy(),
            Action::PromptInput(c) => self.prompt_edit(Some(c)),
            Action::PromptBackspace => self.prompt_edit(None),
            Action::PromptClear => self.prompt_erase(false),
            Action::PromptDeleteWord => self.prompt_erase(true),
            Action::PromptSubmit => self.prompt_submit(),
            Action::PromptCancel => self.prompt_cancel(),
            Action::Click { column, row } => self.click(column, row),
            Action::Scroll { column, row, down } => self.wheel(column, row, down),
            Action::ToggleFollow => self.toggle_follow(),
            Action::JumpLatestUser => self.jump_latest_user(),
            Action::ToggleRejected => self.toggle_rejected(),
            Action::ToggleFindings => self.toggle_findings(),
            Action::ClearFinding => self.clear_finding(),
            Action::ToggleFold => self.toggle_fold(),
            Action::ToggleFoldAll => self.toggle_fold_all(),
            Action::PropsLeft => self.scroll_props(false),
            Action::PropsRight => self.scroll_props(true),
            Action::TogglePlayback => self.toggle_playback(),
            Action::PlaybackPause => self.playback_pause(),
            Action::PlaybackStep => self.playback_step(),
            Action::PlaybackFaster => self.playback_speed(true),
            Action::PlaybackSlower => self.playback_speed(false),
        }
        self.sync_playback();
    }

    /// Whether `action` moves around the main view (which pauses follow mode).
    fn pauses_follow(&self, action: Action) -> bool {
        if self.model.overlay != Overlay::None || self.model.prompt.is_some() {
            return false;
        }
        matches!(
            action,
            Action::Up
                | Action::Down
                | Action::Top
                | Action::Bottom
                | Action::PageUp
                | Action::PageDown
                | Action::HalfPageUp
                | Action::HalfPageDown
                | Action::PrevSession
                | Action::NextSession
                | Action::NextFlagged
                | Action::PrevFlagged
                | Action::Search
                | Action::SearchNext
                | Action::SearchPrev
                | Action::PanLeft
                | Action::PanRight
                | Action::Click { .. }
                | Action::Scroll { .. }
        )
    }

    // ---- messages and background work -------------------------------------------------

    /// Drains the inbox until it is empty or `deadline` passes; returns whether anything
    /// arrived.
    pub fn pump(&mut self, deadline: Instant) -> bool {
        let mut any = false;
        while let Ok(msg) = self.rx.try_recv() {
            any = true;
            self.on_msg(msg);
            if Instant::now() >= deadline {
                break;
            }
        }
        self.apply_pending(deadline);
        any
    }

    /// Handles one message.
    pub fn on_msg(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Load(ev) => self.on_load(*ev),
            Msg::Done(done) => self.on_done(*done),
            Msg::Progress { tag, progress } => {
                if self.jobs.is_current(tag, self.model.resets)
                    && let Some(export) = &mut self.model.export
                {
                    export.progress = progress;
                }
            }
            Msg::SearchProgress {
                tag,
                scanned,
                total,
                found,
            } => {
                if self.jobs.is_current(tag, self.model.resets)
                    && let Some(s) = &mut self.model.derived.search_all
                {
                    s.progress = Some((scanned, total, found));
                }
            }
            Msg::Failed(why) => self.failure = Some(why),
        }
    }

    /// Takes a finished job's result, if it is still current ([`Jobs::finish`]: the one
    /// staleness rule).
    fn on_done(&mut self, done: Done) {
        let current = self.jobs.finish(done.tag, self.model.resets);
        match done.outcome {
            Outcome::Analysed(analysed) => {
                self.schedule.last_took = analysed.took;
                if current {
                    self.install(*analysed);
                }
            }
            Outcome::Raw(results) => {
                if current && let Kind::ReadRaw(purpose) = done.tag.kind {
                    self.on_raw(purpose, results);
                }
            }
            Outcome::Exported { path, result } => {
                if current {
                    self.model.export = None;
                    self.exported(&path, result);
                }
            }
            Outcome::Copied(result) => {
                if current {
                    match result {
                        Ok(clip) => self.set_clipboard(clip),
                        Err(e) => self.error(e),
                    }
                }
            }
            Outcome::Searched(found) => {
                if current {
                    self.searched(found);
                }
            }
        }
        self.sync_jobs();
    }

    /// Asks for a job at the current epoch (see [`Jobs::want`]); the run loop starts it.
    fn want(&mut self, job: Job) -> Result<Tag, Busy> {
        let tag = self.jobs.want(job, self.model.resets)?;
        self.sync_jobs();
        Ok(tag)
    }

    /// Starts the wanted jobs ([`Jobs::start_wanted`]). The run loop calls it after
    /// handling input and after drawing; [`App::tick`] calls it too.
    pub fn run_jobs(&mut self) {
        for kind in self.jobs.start_wanted(self.model.resets) {
            self.error(format!("could not start the {} thread", kind.what()));
        }
        self.sync_jobs();
    }

    /// Mirrors the runner's state in the model: whether an analysis is wanted or
    /// running, whether an export is.
    fn sync_jobs(&mut self) {
        self.model.analysing = if self.jobs.busy(Kind::Analyse) {
            Analysing::Running
        } else {
            Analysing::Idle
        };
        if !self.jobs.busy(Kind::Export) {
            self.model.export = None;
        }
    }

    fn on_load(&mut self, ev: LoadEvent) {
        fn status(sources: &mut Vec<SourceStatus>, i: SourceIx) -> &mut SourceStatus {
            let i = i.idx();
            if sources.len() <= i {
                sources.resize(i + 1, SourceStatus::default());
            }
            &mut sources[i]
        }
        match &ev {
            LoadEvent::Progress {
                source,
                read,
                total,
            } => {
                let s = status(&mut self.model.sources, *source);
                s.read = *read;
                s.total = *total;
            }
            LoadEvent::Problem {
                source,
                message,
                fatal,
            } => {
                let s = status(&mut self.model.sources, *source);
                s.problems.push(message.clone());
                s.failed |= *fatal;
            }
            LoadEvent::Note { source, message } => {
                let s = status(&mut self.model.sources, *source);
                if s.notes.len() < crate::store::MAX_NOTES {
                    s.notes.push(message.clone());
                }
            }
            LoadEvent::Done { source } => status(&mut self.model.sources, *source).done = true,
            LoadEvent::Format { .. }
            | LoadEvent::Member { .. }
            | LoadEvent::Batch { .. }
            | LoadEvent::Retire { .. }
            | LoadEvent::Reset { .. } => {}
        }
        self.pending.push_back(ev);
        self.model.pending = self.pending.len();
    }

    /// Applies received loader events to the store, unless a worker holds a snapshot of it.
    fn apply_pending(&mut self, deadline: Instant) {
        if self.pending.is_empty() {
            return;
        }
        let Some(store) = Arc::get_mut(&mut self.model.store) else {
            return;
        };
        let mut reset = false;
        while let Some(ev) = self.pending.pop_front() {
            reset |= matches!(ev, LoadEvent::Reset { .. });
            store.apply(ev);
            if Instant::now() >= deadline {
                break;
            }
        }
        self.model.pending = self.pending.len();
        self.dirty = true;
        if reset {
            self.on_reset();
        }
    }

    /// Sets the wall clock to `wall_ms` (epoch ms), moves playback's playhead by the time
    /// since the last tick (`now`), samples an attached endpoint's counters, applies
    /// received loader events and starts a background analysis when the store changed and
    /// the last one is old enough. The run loop calls it with the
    /// real clock; tests pass any time.
    pub fn tick(&mut self, now: Instant, wall_ms: i64) {
        self.set_clock(wall_ms);
        self.schedule.load_started.get_or_insert(now);
        self.advance_playback(now);
        self.refresh_live(now);
        self.apply_pending(now + Duration::from_millis(20));
        if self.analysis_due(now) {
            self.schedule.last_start = Some(now);
            self.schedule.last_events = self.model.store.events().len();
            let job = Job::Analyse {
                store: Arc::clone(&self.model.store),
                rules: self.model.rules.clone(),
            };
            // An analysis waits for a running one (never refused).
            let _ = self.want(job);
        }
        self.run_jobs();
    }

    /// Whether the store changed since the last analysis and the last one is old enough.
    fn analysis_due(&self, now: Instant) -> bool {
        let m = &self.model;
        if self.jobs.busy(Kind::Analyse) || m.derived.analysed_generation == m.store.generation {
            return false;
        }
        let still_loading = m.sources.iter().any(|s| !s.done);
        if still_loading && m.store.events().is_empty() {
            return false;
        }
        // While loading, analyse what the store holds so far (queued batches wait for the
        // next round); once everything has arrived, wait until all of it is in the store.
        if !still_loading && !self.pending.is_empty() {
            return false;
        }
        let wait = REANALYSE_EVERY.max(self.schedule.last_took * 4);
        !(still_loading
            && (self
                .schedule
                .last_start
                .is_some_and(|t| now.duration_since(t) < wait)
                || self.loading_ends_first(now)))
    }

    /// Whether the sources still loading will likely all be read before an analysis
    /// started now would finish, or within [`PARTIAL_WORTH_AFTER`]. Such an analysis
    /// would only delay the complete one, which waits for it, take CPU from the loader
    /// and hold memory until the complete one replaces it. Only for sources of known
    /// size. The first analysis is never skipped: it puts the first events on screen at
    /// once, and costs little (it sees only what arrived first).
    fn loading_ends_first(&self, now: Instant) -> bool {
        let Some(started) = self.schedule.load_started else {
            return false;
        };
        if self.schedule.last_start.is_none() {
            return false;
        }
        let (mut read, mut left) = (0u64, 0u64);
        for s in &self.model.sources {
            if s.live {
                return false;
            }
            read += s.read;
            if !s.done {
                let Some(total) = s.total else { return false };
                left += total.saturating_sub(s.read);
            }
        }
        let predicted = predicted_analysis(
            self.schedule.last_took,
            self.schedule.last_events,
            self.model.store.events().len(),
        );
        remaining_load(now.duration_since(started), read, left)
            .is_some_and(|t| t < predicted.max(PARTIAL_WORTH_AFTER))
    }

    /// When the current analysis' job started and how long it took (`None` before the
    /// first one): the benchmark's line of [`crate::tui`]'s `STREAMSCOPE_EXIT_WHEN_LOADED`.
    #[must_use]
    pub fn last_analysis(&self) -> Option<(Instant, Duration)> {
        self.schedule
            .last_start
            .map(|t| (t, self.schedule.last_took))
    }

    /// Applies everything received and analyses the store on this thread (tests, and
    /// inputs small enough not to need a worker).
    pub fn analyse_now(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            self.on_msg(msg);
        }
        self.apply_pending(Instant::now() + Duration::from_secs(3600));
        let store = &self.model.store;
        let started = Instant::now();
        let (analysis, sweep) = analyse(store, &self.model.rules);
        let generation = store.generation;
        self.install(Analysed {
            analysis,
            sweep,
            generation,
            took: started.elapsed(),
        });
    }

    /// Makes a finished analysis current, keeping the selections.
    /// Until the user moves a selection, each analysis selects the top of its ranking
    /// (a big input settles on its most severe user, not wherever loading left it).
    fn install(&mut self, done: Analysed) {
        let m = &mut self.model;
        let moved = m.users.moved || !m.users.filter.is_empty() || m.users.finding.is_some();
        let old_user = m
            .derived
            .analysis
            .as_ref()
            .zip(m.selected_user())
            .filter(|_| moved)
            .map(|(a, u)| a.users[u].key);
        let old_event = m.selected_event().filter(|_| moved);
        let old_header = matches!(
            m.derived.events.rows.get(m.derived.events.selected),
            Some(Row::Session { .. })
        );
        let mut analysis = done.analysis;
        if analysis.rules.timeout_ms != m.rules.timeout_ms {
            analysis.set_timeout(m.rules.timeout_ms);
        }
        m.derived.analysis = Some(analysis);
        m.derived.analysed_generation = done.generation;
        m.derived.standard_sweep = done.sweep;
        self.resort_users_keeping(old_user);
        let m = &mut self.model;
        if let Some(ev) = old_event {
            let found = find_event_row(m, ev, old_header);
            m.derived.events.selected = found.unwrap_or(0);
        }
        m.derived.latest_ms = m
            .derived
            .analysis
            .as_ref()
            .and_then(|a| a.users.iter().map(|u| u.last).max());
        if m.follow == Follow::On {
            self.follow_newest();
        }
        self.refresh_search_views();
        self.dirty = true;
    }

    // ---- raw text ----------------------------------------------------------------------

    fn on_raw(&mut self, purpose: RawPurpose, results: Vec<(EventIx, Result<Vec<u8>, String>)>) {
        match purpose {
            RawPurpose::Props => {
                for (e, bytes) in results {
                    let props = bytes
                        .map(|b| jsonview::key_properties(&b, ROW_PROPERTIES))
                        .unwrap_or_default();
                    self.model.derived.props.insert(e, props.into());
                }
            }
            RawPurpose::Detail => {
                for (e, bytes) in results {
                    if let Some(d) = &mut self.model.derived.detail
                        && d.event == e
                    {
                        d.raw = raw_text(bytes);
                    }
                }
            }
        }
    }

    /// Asks for raw text to be read by a job (compressed sources): key properties are
    /// not asked for while a read of them is pending (the next draw asks again); a
    /// detail read supersedes the previous one.
    fn fetch_in_background(&mut self, purpose: RawPurpose, events: Vec<(EventIx, RawLoc)>) {
        // (A props read would be refused while one is pending: skip taking the segments.)
        let kind = Kind::ReadRaw(purpose);
        if events.is_empty() || (kind.policy() == Policy::Refuse && self.jobs.busy(kind)) {
            return;
        }
        let locs: Vec<RawLoc> = events.iter().map(|(_, l)| *l).collect();
        let segments = SegmentSet::for_locs(&self.model.store, &locs);
        let _ = self.want(Job::ReadRaw {
            purpose,
            events,
            segments,
        });
    }

    /// Key properties for the event rows on screen: read now when cheap, else in the
    /// background.
    fn prefetch_visible(&mut self) {
        let Some(a) = &self.model.derived.analysis else {
            return;
        };
        if self.model.derived.props.len() > PROPS_CACHE_MAX {
            self.model.derived.props.clear();
        }
        let top = self.view.events_top;
        let height = self.view.areas.lower_list.height as usize;
        let store = &self.model.store;
        let mut cheap = Vec::new();
        let mut slow = Vec::new();
        for row in self.model.derived.events.rows.iter().skip(top).take(height) {
            let Row::Event { pos, .. } = row else {
                continue;
            };
            let e = a.order[*pos];
            if self.model.derived.props.contains_key(&e) {
                continue;
            }
            match store.raw(e) {
                Some(loc) if raw::is_cheap(store, loc) => cheap.push((e, loc)),
                Some(loc) => slow.push((e, loc)),
                None => {
                    self.model.derived.props.insert(e, "".into());
                }
            }
        }
        if !cheap.is_empty() {
            let locs: Vec<RawLoc> = cheap.iter().map(|(_, l)| *l).collect();
            for ((e, _), bytes) in cheap.iter().zip(raw::read_many(store, &locs)) {
                let props = bytes
                    .map(|b| jsonview::key_properties(&b, ROW_PROPERTIES))
                    .unwrap_or_default();
                self.model.derived.props.insert(*e, props.into());
            }
        }
        self.fetch_in_background(RawPurpose::Props, slow);
    }

    // ---- drawing -----------------------------------------------------------------------

    /// Lays out the screen for `area`, keeps selections visible and reads the key
    /// properties of the rows about to be shown. Called before every draw.
    pub fn prepare(&mut self, area: Rect) {
        self.view.areas = ui::layout(area, &self.model);
        let m = &self.model;
        let a = &self.view.areas;
        self.view.users_top = ui::scrolled(
            self.view.users_top,
            m.derived.users.selected,
            m.derived.users.list.len(),
            a.users_list.height as usize,
        );
        self.view.events_top =
            ui::events::events_top(m, self.view.events_top, a.lower_list.height as usize);
        if self.model.lower == Lower::Replay {
            ui::replay::refresh(&mut self.model);
        }
        self.clamp_scrolls();
        if self.model.lower == Lower::Events {
            self.prefetch_visible();
        }
    }

    /// Prepares and draws one frame.
    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<(), B::Error> {
        let size = terminal.size()?;
        self.prepare(Rect::new(0, 0, size.width, size.height));
        terminal.draw(|frame| ui::render(frame, &self.model, &self.keymap, &mut self.view))?;
        self.view.frames += 1;
        Ok(())
    }

    /// Keeps overlay and panel scroll positions inside their text (only for what is shown).
    fn clamp_scrolls(&mut self) {
        let page = self.view.areas.overlay_body.height as usize;
        let width = self.view.areas.overlay_body.width as usize;
        match &mut self.model.overlay {
            Overlay::Help { scroll } => {
                *scroll = (*scroll).min(
                    ui::help::line_count(&self.keymap, self.view.areas.overlay_body.width)
                        .saturating_sub(page),
                );
            }
            Overlay::Detail => {
                if let Some(d) = &mut self.model.derived.detail {
                    let len = ui::detail::line_count(d, width);
                    d.scroll = d.scroll.min(len.saturating_sub(page));
                }
            }
            Overlay::Rejected => {
                if let Some(v) = &mut self.model.rejected {
                    v.selected = v.selected.min(v.len().saturating_sub(1));
                    if let Some(b) = &mut v.body {
                        let len = ui::rejected::body_line_count(b, width);
                        b.scroll = b.scroll.min(len.saturating_sub(page));
                    }
                }
            }
            Overlay::Findings => {
                let len = ui::findings::list(&self.model).len();
                self.model.findings_selected =
                    self.model.findings_selected.min(len.saturating_sub(1));
            }
            Overlay::Session | Overlay::SearchResults => self.clamp_search_scrolls(),
            Overlay::None => {}
        }
        if self.model.lower == Lower::Replay {
            let lower = self.view.areas.lower_list;
            let len = ui::replay::line_count(&self.model, &self.keymap, lower.width);
            self.model.derived.replay_scroll = self
                .model
                .derived
                .replay_scroll
                .min(len.saturating_sub(lower.height as usize));
        }
    }

    // ---- actions -----------------------------------------------------------------------

    /// Shows an informational message in the status bar until the next key.
    pub fn info(&mut self, text: String) {
        self.model.message = Some(Message {
            text,
            level: Level::Info,
        });
    }

    /// How a message names the key for `action` in the main view (the table's key, as
    /// [`Keymap::label`] has it for [`keymap::main_scopes`]).
    fn main_key(&self, action: Action) -> String {
        self.keymap.label(action, &keymap::main_scopes(&self.model))
    }

    fn error(&mut self, text: String) {
        self.model.message = Some(Message {
            text,
            level: Level::Error,
        });
    }
}

fn raw_text(bytes: Result<Vec<u8>, String>) -> RawText {
    match bytes {
        Ok(b) => RawText::Ready {
            lines: jsonview::pretty(&b),
            raw: b.into(),
        },
        Err(e) => RawText::Failed(sanitize(&e).into_owned()),
    }
}

/// The row of event `e` (or, with `header` or when its session is folded, of its
/// session's header).
fn find_event_row(m: &Model, e: EventIx, header: bool) -> Option<usize> {
    let a = m.derived.analysis.as_ref()?;
    let u = m.derived.events.user?;
    super::rows::event_row(a, &m.derived.events.rows, u, e, header)
}

#[cfg(test)]
mod schedule_tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_rest_of_a_load_is_predicted_from_its_pace() {
        for (elapsed, read, left, want) in [
            (MS(1000), 500, 500, Some(MS(1000))),
            (MS(1000), 900, 100, Some(MS(111))),
            (MS(1000), 1000, 0, Some(MS(0))),
            (MS(1000), 0, 1000, None),
        ] {
            let got = remaining_load(elapsed, read, left).map(|d| d.as_millis());
            assert_eq!(
                got,
                want.map(|d| d.as_millis()),
                "{elapsed:?} {read} {left}"
            );
        }
    }

    #[test]
    fn an_analysis_is_predicted_to_grow_with_the_events() {
        assert_eq!(predicted_analysis(MS(100), 1000, 3000), MS(300));
        assert_eq!(predicted_analysis(MS(100), 0, 3000), MS(100));
        assert_eq!(predicted_analysis(MS(0), 0, 0), MS(0));
    }

    /// An app whose one source has read `read` of `total` bytes in `elapsed`, with an
    /// analysis of what the (empty) store holds that took `took`.
    fn loading(read: u64, total: u64, took: Duration, elapsed: Duration) -> (App, Instant) {
        let mut store = EventStore::new();
        store.add_source("big.ndjson");
        let mut app = App::new(store, Rules::default(), Zones::default());
        app.model.sources = vec![SourceStatus {
            name: "big.ndjson".into(),
            read,
            total: Some(total),
            ..SourceStatus::default()
        }];
        let start = Instant::now();
        app.schedule = Schedule {
            last_start: Some(start),
            last_took: took,
            last_events: 0,
            load_started: Some(start),
        };
        (app, start + elapsed)
    }

    #[test]
    fn no_analysis_starts_when_the_load_would_end_before_it() {
        // 90% read in 2 s: 0.22 s to go; the last analysis took 0.5 s.
        let (app, now) = loading(900, 1000, MS(500), MS(2000));
        assert!(app.loading_ends_first(now));
        // 20% read in 2 s: 8 s to go; worth showing what there is meanwhile.
        let (app, now) = loading(200, 1000, MS(500), MS(2000));
        assert!(!app.loading_ends_first(now));
        // A slow analysis is skipped even with 8 s to go: it would finish after the load.
        let (app, now) = loading(200, 1000, MS(9000), MS(2000));
        assert!(app.loading_ends_first(now));
    }

    #[test]
    fn no_partial_analysis_starts_when_the_complete_one_is_near() {
        // 50% read in 2 s: 2 s to go, under PARTIAL_WORTH_AFTER; the analysis itself
        // would be quick, but the complete one comes soon enough.
        let (app, now) = loading(500, 1000, MS(10), MS(2000));
        assert!(PARTIAL_WORTH_AFTER > MS(2000));
        assert!(app.loading_ends_first(now));
        // 35% read in 2 s: 3.7 s to go: worth it.
        let (app, now) = loading(350, 1000, MS(10), MS(2000));
        assert!(!app.loading_ends_first(now));
    }

    #[test]
    fn the_first_analysis_is_never_skipped() {
        let (mut app, now) = loading(999, 1000, MS(0), MS(2000));
        app.schedule.last_start = None;
        assert!(!app.loading_ends_first(now));
    }

    #[test]
    fn sources_of_unknown_size_or_live_ones_never_skip() {
        let (mut app, now) = loading(900, 1000, MS(500), MS(2000));
        app.model.sources[0].total = None;
        assert!(!app.loading_ends_first(now));
        let (mut app, now) = loading(900, 1000, MS(500), MS(2000));
        app.model.sources[0].live = true;
        assert!(!app.loading_ends_first(now));
    }
}
