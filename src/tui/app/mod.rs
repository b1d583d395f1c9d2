//! The application: the [`Model`] plus the machinery that changes it.
//!
//! [`App::apply`] carries out one [`Action`]; it needs no terminal, so interaction tests
//! drive the app with keys and actions and assert on the model. Messages from loaders and
//! workers arrive on the app's own channel ([`App::pump`]); [`App::tick`] schedules
//! background analysis, samples an attached endpoint's counters and sets the wall clock
//! the views read ([`Model::now_ms`]). The caller passes in both the `Instant` and the
//! wall-clock time: apart from measuring how long work took, the app reads no clock.
//!
//! See the module docs of [`super`] for how the store is shared with the analysis worker.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the app, input dispatch, messages, background analysis and raw reads, drawing |
//! | `navigate.rs` | focus, selections, scrolling, jumps, timeline zoom and pan, mouse |
//! | `prompt.rs` | prompts, search, filters, timeout changes |
//! | `output.rs` | NDJSON export and clipboard copies |
//! | `live.rs` | an attached endpoint, the wall clock, follow mode, rejected requests, resets |

mod live;
mod navigate;
mod output;
mod prompt;

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
use super::jsonview;
use super::keymap::{Key, Keymap, Scope};
use super::live::{Follow, RateWindow};
use super::model::{
    Analysing, Focus, Level, Lower, Message, Model, Overlay, PromptKind, RawText, SourceStatus,
};
use super::rows::Row;
use super::ui::{self, ViewState};
use super::zone::Zones;
use crate::analysis::{Analysis, MINUTE_MS, Rules, SweepRow};
use crate::event::RawLoc;
use crate::fmt::{sanitize, setting};
use crate::index::EventIx;
use crate::live::LiveState;
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

/// Key properties shown per event row.
const ROW_PROPERTIES: usize = 3;
/// The key-property cache is cleared when it grows past this many events.
const PROPS_CACHE_MAX: usize = 50_000;

/// A finished analysis, from a worker.
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
    /// [`App::epoch`] when it started: an analysis from before a reset of the store is
    /// dropped (its indices are void).
    pub epoch: u64,
}

/// Why raw text was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawPurpose {
    /// Key properties of list rows.
    Props,
    /// The detail overlay.
    Detail,
}

/// Raw texts read off the UI thread.
#[derive(Debug)]
pub struct RawReply {
    /// Why they were read.
    pub purpose: RawPurpose,
    /// (event index, bytes or error).
    pub results: Vec<(EventIx, Result<Vec<u8>, String>)>,
}

/// Everything that reaches the app from other threads.
#[derive(Debug)]
pub enum Msg {
    /// A loader's event (boxed: it is much larger than the other messages, and there is
    /// one per batch of thousands of events, so the allocation does not matter).
    Load(Box<LoadEvent>),
    /// A finished analysis.
    Analysed(Box<Analysed>),
    /// Raw text read by a worker.
    Raw(RawReply),
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
}

/// The inspector's state and behaviour.
pub struct App {
    /// What the views show.
    pub model: Model,
    /// Render-side state: layout and scroll offsets.
    pub view: ViewState,
    keymap: Keymap,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    pending: VecDeque<LoadEvent>,
    schedule: Schedule,
    fetching: bool,
    quit: bool,
    clipboard: Option<Vec<u8>>,
    dirty: bool,
    failure: Option<String>,
    live: Option<Arc<LiveState>>,
    rates: RateWindow,
    /// (endpoint epoch, rejected-requests counter) of the rejected list shown.
    rejected_seen: Option<(u64, u64)>,
    /// The raw read in flight was started before a reset: drop its reply.
    stale_fetch: bool,
    /// The latest event time of the current analysis.
    latest_ms: Option<i64>,
}

impl App {
    /// An app over `store` (possibly empty, filled later through [`App::sender`]).
    #[must_use]
    pub fn new(store: EventStore, rules: Rules, zones: Zones) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            model: Model::new(store, rules, zones),
            view: ViewState::default(),
            keymap: Keymap,
            tx,
            rx,
            pending: VecDeque::new(),
            schedule: Schedule::default(),
            fetching: false,
            quit: false,
            clipboard: None,
            dirty: true,
            failure: None,
            live: None,
            rates: RateWindow::default(),
            rejected_seen: None,
            stale_fetch: false,
            latest_ms: None,
        }
    }

    /// A sender for loaders and workers.
    #[must_use]
    pub fn sender(&self) -> Sender<Msg> {
        self.tx.clone()
    }

    /// Registers a source that a loader will fill; returns its index.
    pub fn add_source(&mut self, name: &str) -> Option<u32> {
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

    /// Bytes the user asked to copy to the clipboard, once.
    pub fn take_clipboard(&mut self) -> Option<Vec<u8>> {
        self.clipboard.take()
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

    /// The scopes keys resolve in, most specific first.
    #[must_use]
    pub fn scopes(&self) -> Vec<Scope> {
        let m = &self.model;
        if m.prompt.is_some() {
            return vec![Scope::Prompt];
        }
        match m.overlay {
            Overlay::Help { .. } => vec![Scope::Help, Scope::Nav, Scope::Any],
            Overlay::Detail => vec![Scope::Detail, Scope::Nav, Scope::Any],
            Overlay::Rejected => vec![Scope::Rejected, Scope::Nav, Scope::Any],
            Overlay::None => {
                let pane = match (m.focus, m.lower) {
                    (Focus::Users, _) => Scope::Users,
                    (Focus::Timeline, _) => Scope::Timeline,
                    (Focus::Lower, Lower::Events) => Scope::Events,
                    (Focus::Lower, Lower::Replay) => Scope::Replay,
                };
                vec![pane, Scope::Nav, Scope::Main, Scope::Any]
            }
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        self.model.message = None;
        let k = Key::of(&key);
        let scopes = self.scopes();
        if let Some(action) = self.keymap.resolve(k, &scopes) {
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
                };
                self.model.focus = Focus::Lower;
            }
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
            Action::ZoomReset => {
                self.model.timeline.zoom = 0;
                self.model.timeline.center = None;
            }
            Action::PanLeft => self.pan(false),
            Action::PanRight => self.pan(true),
            Action::Export => self.start_export(),
            Action::Copy => self.copy(),
            Action::PromptInput(c) => self.prompt_edit(Some(c)),
            Action::PromptBackspace => self.prompt_edit(None),
            Action::PromptSubmit => self.prompt_submit(),
            Action::PromptCancel => self.prompt_cancel(),
            Action::Click { column, row } => self.click(column, row),
            Action::Scroll { column, row, down } => self.wheel(column, row, down),
            Action::ToggleFollow => self.toggle_follow(),
            Action::ToggleRejected => self.toggle_rejected(),
        }
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
            Msg::Analysed(done) => {
                self.model.analysing = Analysing::Idle;
                self.schedule.last_took = done.took;
                // Computed before a reset: its indices are void against the store now.
                if done.epoch == self.model.resets {
                    self.install(*done);
                }
            }
            Msg::Raw(reply) => self.on_raw(reply),
            Msg::Failed(why) => self.failure = Some(why),
        }
    }

    fn on_load(&mut self, ev: LoadEvent) {
        fn status(sources: &mut Vec<SourceStatus>, i: u32) -> &mut SourceStatus {
            let i = i as usize;
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

    /// Sets the wall clock to `wall_ms` (epoch ms), samples an attached endpoint's
    /// counters, applies received loader events and starts a background analysis when
    /// the store changed and the last one is old enough. The run loop calls it with the
    /// real clock; tests pass any time.
    pub fn tick(&mut self, now: Instant, wall_ms: i64) {
        self.set_clock(wall_ms);
        self.refresh_live(now);
        self.apply_pending(now + Duration::from_millis(20));
        let m = &self.model;
        if m.analysing == Analysing::Running || m.analysed_generation == m.store.generation {
            return;
        }
        let still_loading = m.sources.iter().any(|s| !s.done);
        if still_loading && m.store.events().is_empty() {
            return;
        }
        // While loading, analyse what the store holds so far (queued batches wait for the
        // next round); once everything has arrived, wait until all of it is in the store.
        if !still_loading && !self.pending.is_empty() {
            return;
        }
        let wait = REANALYSE_EVERY.max(self.schedule.last_took * 4);
        if still_loading
            && self
                .schedule
                .last_start
                .is_some_and(|t| now.duration_since(t) < wait)
        {
            return;
        }
        self.schedule.last_start = Some(now);
        self.model.analysing = Analysing::Running;
        let store = Arc::clone(&self.model.store);
        let rules = self.model.rules.clone();
        let epoch = self.model.resets;
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("streamscope-analysis".into())
            .spawn(move || {
                run_worker("analysis", &tx.clone(), move || {
                    let started = Instant::now();
                    let done = analyse(&store, &rules);
                    let generation = store.generation;
                    // Release the snapshot before reporting, so the UI can apply batches again.
                    drop(store);
                    let _ = tx.send(Msg::Analysed(Box::new(Analysed {
                        analysis: done.0,
                        sweep: done.1,
                        generation,
                        took: started.elapsed(),
                        epoch,
                    })));
                });
            });
        if spawned.is_err() {
            self.model.analysing = Analysing::Idle;
            self.error("could not start the analysis thread".to_string());
        }
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
        let epoch = self.model.resets;
        self.install(Analysed {
            analysis,
            sweep,
            generation,
            took: started.elapsed(),
            epoch,
        });
    }

    /// Makes a finished analysis current, keeping the selections.
    fn install(&mut self, done: Analysed) {
        let m = &mut self.model;
        let old_user = m
            .analysis
            .as_ref()
            .zip(m.selected_user())
            .map(|(a, u)| a.users[u].key);
        let old_event = m.selected_event();
        let old_header = matches!(
            m.events.rows.get(m.events.selected),
            Some(Row::Session { .. })
        );
        let mut analysis = done.analysis;
        if analysis.rules.timeout_ms != m.rules.timeout_ms {
            analysis.set_timeout(m.rules.timeout_ms);
        }
        m.analysis = Some(analysis);
        m.analysed_generation = done.generation;
        m.standard_sweep = done.sweep;
        self.resort_users_keeping(old_user);
        let m = &mut self.model;
        if let Some(ev) = old_event {
            let found = find_event_row(m, ev, old_header);
            m.events.selected = found.unwrap_or(0);
        }
        self.latest_ms = m
            .analysis
            .as_ref()
            .and_then(|a| a.users.iter().map(|u| u.last).max());
        if m.follow == Follow::On {
            self.follow_newest();
        }
        self.dirty = true;
    }

    // ---- raw text ----------------------------------------------------------------------

    fn on_raw(&mut self, reply: RawReply) {
        self.fetching = false;
        if std::mem::take(&mut self.stale_fetch) {
            return;
        }
        match reply.purpose {
            RawPurpose::Props => {
                for (e, bytes) in reply.results {
                    let props = bytes
                        .map(|b| jsonview::key_properties(&b, ROW_PROPERTIES))
                        .unwrap_or_default();
                    self.model.props.insert(e, props.into());
                }
            }
            RawPurpose::Detail => {
                for (e, bytes) in reply.results {
                    if let Some(d) = &mut self.model.detail
                        && d.event == e
                    {
                        d.raw = raw_text(bytes);
                    }
                }
            }
        }
    }

    /// Reads raw text on a worker thread (compressed sources).
    fn fetch_in_background(&mut self, purpose: RawPurpose, events: Vec<(EventIx, RawLoc)>) {
        if self.fetching || events.is_empty() {
            return;
        }
        let locs: Vec<RawLoc> = events.iter().map(|(_, l)| *l).collect();
        let segments = SegmentSet::for_locs(&self.model.store, &locs);
        let tx = self.tx.clone();
        self.fetching = true;
        let spawned = std::thread::Builder::new()
            .name("streamscope-raw".into())
            .spawn(move || {
                run_worker("raw text", &tx.clone(), move || {
                    let results = raw::read_many_in(&segments, &locs)
                        .into_iter()
                        .zip(&events)
                        .map(|(r, (e, _))| (*e, r.map_err(|e| e.to_string())))
                        .collect();
                    let _ = tx.send(Msg::Raw(RawReply { purpose, results }));
                });
            });
        if spawned.is_err() {
            self.fetching = false;
        }
    }

    /// Key properties for the event rows on screen: read now when cheap, else in the
    /// background.
    fn prefetch_visible(&mut self) {
        let Some(a) = &self.model.analysis else {
            return;
        };
        if self.model.props.len() > PROPS_CACHE_MAX {
            self.model.props.clear();
        }
        let top = self.view.events_top;
        let height = self.view.areas.lower_list.height as usize;
        let store = &self.model.store;
        let mut cheap = Vec::new();
        let mut slow = Vec::new();
        for row in self.model.events.rows.iter().skip(top).take(height) {
            let Row::Event { pos, .. } = row else {
                continue;
            };
            let e = a.order[*pos];
            if self.model.props.contains_key(&e) {
                continue;
            }
            match store.raw(e) {
                Some(loc) if raw::is_cheap(store, loc) => cheap.push((e, loc)),
                Some(loc) => slow.push((e, loc)),
                None => {
                    self.model.props.insert(e, "".into());
                }
            }
        }
        if !cheap.is_empty() {
            let locs: Vec<RawLoc> = cheap.iter().map(|(_, l)| *l).collect();
            for ((e, _), bytes) in cheap.iter().zip(raw::read_many(store, &locs)) {
                let props = bytes
                    .map(|b| jsonview::key_properties(&b, ROW_PROPERTIES))
                    .unwrap_or_default();
                self.model.props.insert(*e, props.into());
            }
        }
        self.fetch_in_background(RawPurpose::Props, slow);
    }

    /// Raw text of one event, read on this thread.
    fn read_event(&self, e: EventIx) -> Result<Vec<u8>, String> {
        let store = &self.model.store;
        let loc = store
            .raw(e)
            .ok_or_else(|| "the raw text of this event was not kept".to_string())?;
        raw::read_raw(store, loc).map_err(|e| format!("cannot read the raw JSON: {e}"))
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
            m.users.selected,
            m.users.list.len(),
            a.users_list.height as usize,
        );
        self.view.events_top = ui::scrolled(
            self.view.events_top,
            m.events.selected,
            m.events.rows.len(),
            a.lower_list.height as usize,
        );
        self.clamp_scrolls();
        if self.model.lower == Lower::Events {
            self.prefetch_visible();
        }
    }

    /// Prepares and draws one frame.
    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<(), B::Error> {
        let size = terminal.size()?;
        self.prepare(Rect::new(0, 0, size.width, size.height));
        terminal.draw(|frame| ui::render(frame, &self.model, &mut self.view))?;
        self.view.frames += 1;
        Ok(())
    }

    /// Keeps overlay and panel scroll positions inside their text (only for what is shown).
    fn clamp_scrolls(&mut self) {
        let page = self.view.areas.overlay_body.height as usize;
        let width = self.view.areas.overlay_body.width as usize;
        match &mut self.model.overlay {
            Overlay::Help { scroll } => {
                *scroll = (*scroll).min(ui::help::line_count().saturating_sub(page));
            }
            Overlay::Detail => {
                if let Some(d) = &mut self.model.detail {
                    let len = ui::detail::line_count(d, width);
                    d.scroll = d.scroll.min(len.saturating_sub(page));
                }
            }
            Overlay::Rejected => {
                if let Some(v) = &mut self.model.rejected {
                    v.selected = v.selected.min(v.list.len().saturating_sub(1));
                    if let Some(b) = &mut v.body {
                        let len = ui::rejected::body_line_count(b, width);
                        b.scroll = b.scroll.min(len.saturating_sub(page));
                    }
                }
            }
            Overlay::None => {}
        }
        if self.model.lower == Lower::Replay {
            let lower = self.view.areas.lower_list;
            let len = ui::replay::line_count(&self.model, lower.width);
            self.model.replay_scroll = self
                .model
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

    fn error(&mut self, text: String) {
        self.model.message = Some(Message {
            text,
            level: Level::Error,
        });
    }
}

/// Analysis plus the standard sweep: what a worker computes.
fn analyse(store: &EventStore, rules: &Rules) -> (Analysis, Vec<SweepRow>) {
    let analysis = Analysis::compute(store, rules);
    let standard: Vec<i64> = crate::analysis::sweep_timeouts(TIMEOUT_PRESETS[0]);
    let sweep = analysis.replay_input.sweep(&standard, &analysis.sessions);
    (analysis, sweep)
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

/// The row of event `e` (or, with `header`, of its session's header).
fn find_event_row(m: &Model, e: EventIx, header: bool) -> Option<usize> {
    let a = m.analysis.as_ref()?;
    let rows = &m.events.rows;
    let i = rows.iter().position(|r| match r {
        Row::Event { pos, .. } => a.order[*pos] == e,
        Row::Session { .. } => false,
    })?;
    if header && i > 0 && matches!(rows[i - 1], Row::Session { .. }) {
        return Some(i - 1);
    }
    Some(i)
}
