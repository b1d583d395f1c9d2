//! The application: the [`Model`] plus the machinery that changes it.
//!
//! [`App::apply`] carries out one [`Action`]; it needs no terminal, so interaction tests
//! drive the app with keys and actions and assert on the model. Messages from loaders and
//! workers arrive on the app's own channel ([`App::pump`]); [`App::tick`] schedules
//! background analysis. The only clock reads are the `Instant`s the caller passes in.
//!
//! See the module docs of [`super`] for how the store is shared with the analysis worker.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::{Position, Rect};

use super::action::Action;
use super::jsonview;
use super::keymap::{Key, Keymap, Scope};
use super::model::{
    Analysing, DetailView, Focus, Level, Lower, Message, Model, Overlay, Prompt, PromptKind,
    RawText, SourceStatus, UserSort,
};
use super::rows::{Lanes, Row, build_rows, row_is_flagged};
use super::ui::{self, ViewState};
use super::zone::Zones;
use crate::analysis::{Analysis, MINUTE_MS, Rules, SweepRow};
use crate::event::RawLoc;
use crate::fmt::{count, sanitize, setting};
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
    pub results: Vec<(u32, Result<Vec<u8>, String>)>,
}

/// Everything that reaches the app from other threads.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly all messages are loader events; boxing would allocate once more per batch"
)]
pub enum Msg {
    /// A loader's event.
    Load(LoadEvent),
    /// A finished analysis.
    Analysed(Box<Analysed>),
    /// Raw text read by a worker.
    Raw(RawReply),
    /// A worker thread panicked (a bug): the inspector stops and reports it.
    Failed(String),
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
        }
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
            Msg::Load(ev) => self.on_load(ev),
            Msg::Analysed(done) => {
                self.model.analysing = Analysing::Idle;
                self.schedule.last_took = done.took;
                self.install(*done);
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
            LoadEvent::Format { .. } | LoadEvent::Member { .. } | LoadEvent::Batch { .. } => {}
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
        while let Some(ev) = self.pending.pop_front() {
            store.apply(ev);
            if Instant::now() >= deadline {
                break;
            }
        }
        self.model.pending = self.pending.len();
        self.dirty = true;
    }

    /// Starts a background analysis when the store changed and the last one is old enough.
    pub fn tick(&mut self, now: Instant) {
        self.apply_pending(now + Duration::from_millis(20));
        let m = &self.model;
        if m.analysing == Analysing::Running
            || !self.pending.is_empty()
            || m.analysed_generation == m.store.generation
        {
            return;
        }
        let still_loading = m.sources.iter().any(|s| !s.done);
        if still_loading && m.store.events().is_empty() {
            return;
        }
        let wait = REANALYSE_EVERY.max(self.schedule.last_took * 2);
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
        self.install(Analysed {
            analysis,
            sweep,
            generation,
            took: started.elapsed(),
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
        self.dirty = true;
    }

    // ---- raw text ----------------------------------------------------------------------

    fn on_raw(&mut self, reply: RawReply) {
        self.fetching = false;
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
    fn fetch_in_background(&mut self, purpose: RawPurpose, events: Vec<(u32, RawLoc)>) {
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
            let e = a.order[*pos as usize];
            if self.model.props.contains_key(&e) {
                continue;
            }
            match store.raw(e as usize) {
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
    fn read_event(&self, e: u32) -> Result<Vec<u8>, String> {
        let store = &self.model.store;
        let loc = store
            .raw(e as usize)
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

    fn info(&mut self, text: String) {
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

    fn toggle_help(&mut self) {
        self.model.overlay = match self.model.overlay {
            Overlay::Help { .. } => Overlay::None,
            _ => Overlay::Help { scroll: 0 },
        };
    }

    fn close_overlay(&mut self) {
        self.model.overlay = Overlay::None;
        self.model.detail = None;
    }

    fn cycle_focus(&mut self, forward: bool) {
        self.model.focus = match (self.model.focus, forward) {
            (Focus::Users, true) | (Focus::Lower, false) => Focus::Timeline,
            (Focus::Timeline, true) | (Focus::Users, false) => Focus::Lower,
            (Focus::Lower, true) | (Focus::Timeline, false) => Focus::Users,
        };
    }

    fn motion(&mut self, motion: Motion) {
        let areas = self.view.areas;
        match self.model.overlay {
            Overlay::Help { scroll } => {
                let page = areas.overlay_body.height as usize;
                let len = ui::help::line_count();
                self.model.overlay = Overlay::Help {
                    scroll: motion.apply(scroll, len, page),
                };
                return;
            }
            Overlay::Detail => {
                let page = areas.overlay_body.height as usize;
                let width = areas.overlay_body.width as usize;
                if let Some(d) = &mut self.model.detail {
                    let len = ui::detail::line_count(d, width);
                    d.scroll = motion.apply(d.scroll, len, page);
                }
                return;
            }
            Overlay::None => {}
        }
        match (self.model.focus, self.model.lower) {
            (Focus::Users, _) => {
                let page = areas.users_list.height as usize;
                let len = self.model.users.list.len();
                let to = motion.apply(self.model.users.selected, len, page);
                self.select_user(to);
            }
            (Focus::Lower, Lower::Replay) => {
                let page = areas.lower_list.height as usize;
                let len = ui::replay::line_count(&self.model, areas.lower_list.width);
                self.model.replay_scroll = motion.apply(self.model.replay_scroll, len, page);
            }
            (Focus::Timeline | Focus::Lower, _) => {
                let page = areas.lower_list.height.max(1) as usize;
                let len = self.model.events.rows.len();
                let to = motion.apply(self.model.events.selected, len, page);
                self.select_row(to);
            }
        }
    }

    /// Selects user `i` of the list (clamped).
    pub fn select_user(&mut self, i: usize) {
        let len = self.model.users.list.len();
        let i = i.min(len.saturating_sub(1));
        let changed = self.model.users.selected != i
            || self.model.events.user != self.model.users.list.get(i).copied();
        self.model.users.selected = i;
        if changed {
            self.model.events.selected = 0;
            self.model.timeline.center = None;
            self.rebuild_rows(false);
        }
    }

    /// Selects row `i` of the event list (clamped).
    pub fn select_row(&mut self, i: usize) {
        let len = self.model.events.rows.len();
        self.model.events.selected = i.min(len.saturating_sub(1));
        // Follow the selection when it leaves a panned view.
        if let (Some(w), Some(e)) = (self.model.timeline_window(), self.model.selected_event())
            && let Some(ev) = self.model.store.events().get(e as usize)
            && !w.contains(ev.time)
        {
            self.model.timeline.center = None;
        }
    }

    /// Rebuilds the event rows and lanes of the selected user; `keep` keeps the selected
    /// event selected.
    fn rebuild_rows(&mut self, keep: bool) {
        let m = &mut self.model;
        let keep_event = if keep { m.selected_event() } else { None };
        let header = matches!(
            m.events.rows.get(m.events.selected),
            Some(Row::Session { .. })
        );
        let (Some(a), Some(u)) = (&m.analysis, m.users.current()) else {
            m.events.rows.clear();
            m.events.user = None;
            m.timeline.lanes = None;
            return;
        };
        m.events.rows = build_rows(a, &m.store, u, m.events.order, &m.events.type_filter);
        m.events.user = u32::try_from(u).ok();
        m.timeline.lanes = Some(Lanes::build(a, &m.store, u));
        m.events.selected = match keep_event {
            Some(e) => find_event_row(m, e, header).unwrap_or(0),
            None => m.events.selected.min(m.events.rows.len().saturating_sub(1)),
        };
    }

    fn resort_users(&mut self) {
        let m = &self.model;
        let key = m
            .analysis
            .as_ref()
            .zip(m.selected_user())
            .map(|(a, u)| a.users[u].key);
        self.resort_users_keeping(key);
    }

    /// Sorts and filters the user list, then selects `key` (or the first user).
    fn resort_users_keeping(&mut self, key: Option<crate::analysis::UserKey>) {
        let m = &mut self.model;
        let Some(a) = &m.analysis else {
            return;
        };
        let mut sorted: Vec<u32> = (0..u32::try_from(a.users.len()).unwrap_or(u32::MAX)).collect();
        match m.users.sort {
            UserSort::Anomalies => {
                sorted.sort_by_key(|&u| std::cmp::Reverse(a.user_counts[u as usize].anomalies()));
            }
            UserSort::Events => sorted.sort_by_key(|&u| {
                let r = &a.users[u as usize].events;
                std::cmp::Reverse(r.end - r.start)
            }),
            UserSort::Recent => {
                sorted.sort_by_key(|&u| std::cmp::Reverse(a.users[u as usize].last));
            }
        }
        m.users.sorted = sorted;
        let target = key.and_then(|k| a.users.iter().position(|u| u.key == k));
        self.refilter_users(target);
    }

    /// Applies the id filter to the sorted users, selecting `target` when it is listed.
    fn refilter_users(&mut self, target: Option<usize>) {
        let m = &mut self.model;
        let Some(a) = &m.analysis else {
            return;
        };
        let needle = m.users.filter.to_lowercase();
        m.users.list = if needle.is_empty() {
            m.users.sorted.clone()
        } else {
            let strings = &m.store.strings;
            m.users
                .sorted
                .iter()
                .copied()
                .filter(|&u| {
                    strings
                        .get(a.users[u as usize].key.id)
                        .to_lowercase()
                        .contains(&needle)
                })
                .collect()
        };
        let selected = target
            .and_then(|t| m.users.list.iter().position(|&u| u as usize == t))
            .unwrap_or(0);
        let same_user =
            m.events.user.is_some() && m.users.list.get(selected) == m.events.user.as_ref();
        m.users.selected = selected;
        self.rebuild_rows(same_user);
        if !same_user {
            self.model.events.selected = 0;
            self.model.timeline.center = None;
        }
    }

    fn open(&mut self) {
        match (self.model.focus, self.model.lower) {
            (Focus::Users | Focus::Timeline, _) => {
                self.model.focus = Focus::Lower;
                self.model.lower = Lower::Events;
            }
            (Focus::Lower, Lower::Events) => {
                if let Some(e) = self.model.selected_event() {
                    self.open_detail(e);
                }
            }
            (Focus::Lower, Lower::Replay) => {}
        }
    }

    fn open_detail(&mut self, e: u32) {
        let store = &self.model.store;
        let raw = match store.raw(e as usize) {
            None => RawText::Failed("the raw text of this event was not kept".to_string()),
            Some(loc) if raw::is_cheap(store, loc) => {
                raw_text(raw::read_raw(store, loc).map_err(|e| e.to_string()))
            }
            Some(loc) => {
                self.fetching = false;
                self.fetch_in_background(RawPurpose::Detail, vec![(e, loc)]);
                RawText::Loading
            }
        };
        self.model.detail = Some(DetailView {
            event: e,
            raw,
            scroll: 0,
        });
        self.model.overlay = Overlay::Detail;
    }

    fn jump_session(&mut self, forward: bool) {
        let rows = &self.model.events.rows;
        let sel = self.model.events.selected;
        let is_header = |i: &usize| matches!(rows[*i], Row::Session { .. });
        let found = if forward {
            (sel + 1..rows.len()).find(is_header)
        } else {
            (0..sel).rev().find(is_header)
        };
        match found {
            Some(i) => self.select_row(i),
            None => self.info(format!(
                "no {} session",
                if forward { "later" } else { "earlier" }
            )),
        }
    }

    fn jump_flagged(&mut self, forward: bool) {
        let Some(a) = &self.model.analysis else {
            return;
        };
        if self.model.focus == Focus::Users {
            let list = &self.model.users.list;
            let sel = self.model.users.selected;
            let flagged = |i: &usize| a.user_counts[list[*i] as usize].anomalies() > 0;
            let found = if forward {
                (sel + 1..list.len()).find(flagged)
            } else {
                (0..sel).rev().find(flagged)
            };
            match found {
                Some(i) => self.select_user(i),
                None => self.info("no more flagged users in this direction".to_string()),
            }
            return;
        }
        let rows = &self.model.events.rows;
        let sel = self.model.events.selected;
        let flagged = |i: &usize| row_is_flagged(a, rows[*i]);
        let found = if forward {
            (sel + 1..rows.len()).find(flagged)
        } else {
            (0..sel).rev().find(flagged)
        };
        match found {
            Some(i) => self.select_row(i),
            None => self.info("no more flagged rows in this direction".to_string()),
        }
    }

    fn start_search(&mut self) {
        if self.model.focus == Focus::Users {
            let current = self.model.users.filter.clone();
            self.open_prompt(PromptKind::UserFilter, current);
        } else {
            self.open_prompt(PromptKind::Search, String::new());
        }
    }

    fn open_prompt(&mut self, kind: PromptKind, text: String) {
        self.model.prompt = Some(Prompt {
            kind,
            before: text.clone(),
            text,
        });
    }

    fn prompt_edit(&mut self, c: Option<char>) {
        let Some(p) = &mut self.model.prompt else {
            return;
        };
        match c {
            Some(c) => p.text.push(c),
            None => {
                p.text.pop();
            }
        }
        if p.kind == PromptKind::UserFilter {
            self.model.users.filter = p.text.clone();
            let current = self.model.selected_user();
            self.refilter_users(current);
        }
    }

    fn prompt_cancel(&mut self) {
        let Some(p) = self.model.prompt.take() else {
            return;
        };
        if p.kind == PromptKind::UserFilter {
            self.model.users.filter = p.before;
            self.resort_users();
        }
    }

    fn prompt_submit(&mut self) {
        let Some(p) = self.model.prompt.take() else {
            return;
        };
        let text = p.text.trim().to_string();
        match p.kind {
            PromptKind::UserFilter => {
                let n = self.model.users.list.len();
                self.info(if text.is_empty() {
                    format!("{} users", count(n as u64))
                } else {
                    format!("{} users match '{}'", count(n as u64), sanitize(&text))
                });
            }
            PromptKind::Search => {
                if !text.is_empty() {
                    self.model.events.search = text;
                }
                self.model.focus = Focus::Lower;
                self.model.lower = Lower::Events;
                self.search(true);
            }
            PromptKind::TypeFilter => {
                self.model.events.type_filter = text;
                self.rebuild_rows(true);
                let rows = &self.model.events.rows;
                let events = rows
                    .iter()
                    .filter(|r| matches!(r, Row::Event { .. }))
                    .count();
                let filter = &self.model.events.type_filter;
                let message = if filter.is_empty() {
                    "event type filter cleared".to_string()
                } else {
                    format!(
                        "{} events of types matching '{}'",
                        count(events as u64),
                        sanitize(filter)
                    )
                };
                self.info(message);
            }
            PromptKind::Timeout => match crate::fmt::parse_duration(&text) {
                Ok(ms) if ms > 0 => self.set_timeout(ms),
                Ok(_) => self.error("the timeout must be longer than 0".to_string()),
                Err(e) => self.error(sanitize(&e).into_owned()),
            },
            PromptKind::Export => {
                if text.is_empty() {
                    self.error("no file name given; nothing exported".to_string());
                } else {
                    self.export(&text);
                }
            }
        }
    }

    fn cycle_timeout(&mut self) {
        let now = self.model.rules.timeout_ms;
        let next = TIMEOUT_PRESETS
            .iter()
            .copied()
            .find(|&t| t > now)
            .unwrap_or(TIMEOUT_PRESETS[0]);
        self.set_timeout(next);
    }

    /// Replays every user at `ms` (cheap: no re-sessionisation).
    pub fn set_timeout(&mut self, ms: i64) {
        self.model.rules.timeout_ms = ms;
        if let Some(a) = &mut self.model.analysis {
            a.set_timeout(ms);
            let text = format!(
                "replay at {}: {} sessions (recorded {}), {} split, {} merged",
                setting(ms),
                count(a.replay.sessions),
                count(a.summary.counts.sessions),
                count(a.replay.split.len() as u64),
                count(a.replay.merged.len() as u64)
            );
            if let (Some(u), Some(lanes)) =
                (self.model.users.current(), &mut self.model.timeline.lanes)
            {
                lanes.replayed = a.replay_input.user_segments(u, ms);
                lanes.timeout_ms = ms;
            }
            self.info(text);
        } else {
            self.info(format!("replay timeout set to {}", setting(ms)));
        }
    }

    fn zoom(&mut self, zoom_in: bool) {
        let t = &mut self.model.timeline;
        t.zoom = if zoom_in {
            (t.zoom + 1).min(30)
        } else {
            t.zoom.saturating_sub(1)
        };
        if t.zoom == 0 {
            t.center = None;
        }
    }

    fn pan(&mut self, later: bool) {
        let Some(w) = self.model.timeline_window() else {
            return;
        };
        let step = (w.span_ms() / 4).max(1);
        let center = w.start + w.span_ms() / 2;
        self.model.timeline.center = Some(if later { center + step } else { center - step });
        if self.model.timeline.zoom == 0 {
            self.model.timeline.zoom = 1;
        }
    }

    /// Moves the selection to the event closest to `t`.
    fn select_time(&mut self, t: i64) {
        let Some(a) = &self.model.analysis else {
            return;
        };
        let events = self.model.store.events();
        let best = self
            .model
            .events
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Row::Event { pos, .. } => {
                    let e = a.order[*pos as usize] as usize;
                    Some((i, (events[e].time - t).unsigned_abs()))
                }
                Row::Session { .. } => None,
            })
            .min_by_key(|&(_, d)| d);
        if let Some((i, _)) = best {
            self.select_row(i);
        }
    }

    fn search(&mut self, forward: bool) {
        let needle = self.model.events.search.to_lowercase();
        if needle.is_empty() {
            self.info("type / to search".to_string());
            return;
        }
        let Some(a) = &self.model.analysis else {
            return;
        };
        let rows = &self.model.events.rows;
        let n = rows.len();
        if n == 0 {
            return;
        }
        let sel = self.model.events.selected;
        let order: Vec<usize> = (1..=n)
            .map(|k| {
                if forward {
                    (sel + k) % n
                } else {
                    (sel + n - k % n) % n
                }
            })
            .collect();
        let store = &self.model.store;
        let found = find_match(a, store, &self.model.props, rows, &order, &needle);
        match found {
            Some(i) => {
                let wrapped = if forward { i <= sel } else { i >= sel };
                self.select_row(i);
                if wrapped {
                    self.info(format!(
                        "search wrapped around: '{}'",
                        sanitize(&self.model.events.search)
                    ));
                }
            }
            None => {
                let text = format!("no event matches '{}'", sanitize(&self.model.events.search));
                self.error(text);
            }
        }
    }

    fn start_export(&mut self) {
        let m = &self.model;
        let (Some(a), Some(u)) = (&m.analysis, m.selected_user()) else {
            self.error("no user selected; nothing to export".to_string());
            return;
        };
        let id = m.store.strings.get(a.users[u].key.id);
        let mut name = format!("streamscope-{}", file_safe(id));
        if !m.events.type_filter.is_empty() {
            name.push('-');
            name.push_str(&file_safe(&m.events.type_filter));
        }
        name.push_str(".ndjson");
        self.open_prompt(PromptKind::Export, name);
    }

    /// Writes the selected user's events (or the filtered rows), oldest first, one raw
    /// JSON object per line.
    pub fn export(&mut self, path: &str) {
        let m = &self.model;
        let Some(a) = &m.analysis else {
            return;
        };
        let mut positions: Vec<u32> = m
            .events
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Event { pos, .. } => Some(*pos),
                Row::Session { .. } => None,
            })
            .collect();
        positions.sort_unstable();
        let events: Vec<u32> = positions.iter().map(|&p| a.order[p as usize]).collect();
        let store = &m.store;
        let locs: Vec<Option<RawLoc>> = events.iter().map(|&e| store.raw(e as usize)).collect();
        let known: Vec<RawLoc> = locs.iter().flatten().copied().collect();
        let mut texts = raw::read_many(store, &known).into_iter();
        let result = (|| -> std::io::Result<(usize, usize)> {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?;
            let mut out = std::io::BufWriter::new(file);
            let (mut written, mut failed) = (0, 0);
            for loc in &locs {
                let text = match loc {
                    Some(_) => texts.next().and_then(Result::ok),
                    None => None,
                };
                match text {
                    Some(bytes) => {
                        out.write_all(&jsonview::compact(&bytes))?;
                        out.write_all(b"\n")?;
                        written += 1;
                    }
                    None => failed += 1,
                }
            }
            out.flush()?;
            Ok((written, failed))
        })();
        let shown = sanitize(path).into_owned();
        match result {
            Ok((written, 0)) => {
                self.info(format!("wrote {} events to {shown}", count(written as u64)))
            }
            Ok((written, failed)) => self.error(format!(
                "wrote {} events to {shown}; {} could not be read from their source",
                count(written as u64),
                count(failed as u64)
            )),
            Err(e) => self.error(format!("cannot write {shown}: {e}")),
        }
    }

    fn copy(&mut self) {
        let e = match (&self.model.detail, self.model.overlay) {
            (Some(d), Overlay::Detail) => {
                if let RawText::Ready { raw, .. } = &d.raw {
                    let bytes = raw.to_vec();
                    self.set_clipboard(bytes);
                    return;
                }
                Some(d.event)
            }
            _ => self.model.selected_event(),
        };
        let Some(e) = e else {
            self.error("no event selected; nothing copied".to_string());
            return;
        };
        match self.read_event(e) {
            Ok(bytes) => self.set_clipboard(bytes),
            Err(text) => self.error(text),
        }
    }

    fn set_clipboard(&mut self, bytes: Vec<u8>) {
        self.info(format!(
            "copied {} bytes of raw JSON to the clipboard (OSC 52)",
            count(bytes.len() as u64)
        ));
        self.clipboard = Some(bytes);
    }

    fn click(&mut self, column: u16, row: u16) {
        if self.model.overlay != Overlay::None || self.model.prompt.is_some() {
            return;
        }
        let at = Position::new(column, row);
        let a = self.view.areas;
        if a.users.contains(at) {
            self.model.focus = Focus::Users;
            if a.users_list.contains(at) {
                let i = self.view.users_top + (row - a.users_list.y) as usize;
                if i < self.model.users.list.len() {
                    self.select_user(i);
                }
            }
        } else if a.timeline.contains(at) {
            self.model.focus = Focus::Timeline;
            if a.timeline_plot.contains(at)
                && let Some(w) = self.model.timeline_window()
            {
                let t = w.time_at(column - a.timeline_plot.x, a.timeline_plot.width);
                let center = self.model.timeline.center;
                self.select_time(t);
                self.model.timeline.center = center;
            }
        } else if a.lower.contains(at) {
            self.model.focus = Focus::Lower;
            if self.model.lower == Lower::Events && a.lower_list.contains(at) {
                let i = self.view.events_top + (row - a.lower_list.y) as usize;
                if i < self.model.events.rows.len() {
                    self.select_row(i);
                }
            }
        }
    }

    fn wheel(&mut self, column: u16, row: u16, down: bool) {
        let step = if down { 3 } else { -3 };
        if self.model.overlay != Overlay::None {
            self.motion(Motion::By(step));
            return;
        }
        let at = Position::new(column, row);
        let a = self.view.areas;
        let focus = if a.users.contains(at) {
            Focus::Users
        } else if a.timeline.contains(at) {
            Focus::Timeline
        } else if a.lower.contains(at) {
            Focus::Lower
        } else {
            return;
        };
        let before = self.model.focus;
        self.model.focus = focus;
        self.motion(Motion::By(step));
        self.model.focus = before;
    }
}

/// A movement of a selection or scroll position.
#[derive(Clone, Copy, Debug)]
enum Motion {
    By(isize),
    /// Half pages (negative: up).
    Pages(isize),
    Top,
    Bottom,
}

impl Motion {
    fn apply(self, at: usize, len: usize, page: usize) -> usize {
        let last = len.saturating_sub(1);
        match self {
            Motion::Top => 0,
            Motion::Bottom => last,
            Motion::By(d) => at.saturating_add_signed(d).min(last),
            Motion::Pages(h) => {
                let step = (page / 2).max(1);
                at.saturating_add_signed(h * step.cast_signed()).min(last)
            }
        }
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
fn find_event_row(m: &Model, e: u32, header: bool) -> Option<usize> {
    let a = m.analysis.as_ref()?;
    let rows = &m.events.rows;
    let i = rows.iter().position(|r| match r {
        Row::Event { pos, .. } => a.order[*pos as usize] == e,
        Row::Session { .. } => false,
    })?;
    if header && i > 0 && matches!(rows[i - 1], Row::Session { .. }) {
        return Some(i - 1);
    }
    Some(i)
}

/// The first row in `order` whose event matches `needle` (lower case): its type, ids,
/// key properties, or (for uncompressed sources) its raw JSON.
fn find_match(
    a: &Analysis,
    store: &EventStore,
    props: &rustc_hash::FxHashMap<u32, Box<str>>,
    rows: &[Row],
    order: &[usize],
    needle: &str,
) -> Option<usize> {
    let events = store.events();
    let strings = &store.strings;
    let has = |text: &str| text.to_lowercase().contains(needle);
    let needle_bytes = needle.as_bytes();
    for chunk in order.chunks(512) {
        let mut raw_wanted: Vec<(usize, RawLoc)> = Vec::new();
        let mut cheap_hit = None;
        for &i in chunk {
            let Row::Event { pos, .. } = rows[i] else {
                continue;
            };
            let e = a.order[pos as usize];
            let ev = &events[e as usize];
            if has(strings.get(ev.event_type))
                || has(strings.get(ev.user_id))
                || has(strings.get(ev.device_id))
                || props.get(&e).is_some_and(|p| has(p))
            {
                cheap_hit = Some(i);
                break;
            }
            if let Some(loc) = store.raw(e as usize)
                && raw::is_cheap(store, loc)
            {
                raw_wanted.push((i, loc));
            }
        }
        let locs: Vec<RawLoc> = raw_wanted.iter().map(|(_, l)| *l).collect();
        let texts = raw::read_many(store, &locs);
        let raw_hit = raw_wanted
            .iter()
            .zip(texts)
            .find(|(_, t)| {
                t.as_ref().is_ok_and(|b| {
                    b.to_ascii_lowercase()
                        .windows(needle_bytes.len().max(1))
                        .any(|w| w == needle_bytes)
                })
            })
            .map(|((i, _), _)| *i);
        // The earlier of the two in search order wins.
        match (cheap_hit, raw_hit) {
            (Some(c), Some(r)) => {
                let rank = |x: usize| chunk.iter().position(|&i| i == x);
                return Some(if rank(r) < rank(c) { r } else { c });
            }
            (Some(x), None) | (None, Some(x)) => return Some(x),
            (None, None) => {}
        }
    }
    None
}

/// A text made safe for a file name: letters, digits, `.`, `_` and `-`.
fn file_safe(text: &str) -> String {
    let s: String = text
        .chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "user".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motions_stay_in_bounds() {
        assert_eq!(Motion::By(-1).apply(0, 10, 4), 0);
        assert_eq!(Motion::By(5).apply(8, 10, 4), 9);
        assert_eq!(Motion::Pages(2).apply(0, 10, 4), 4);
        assert_eq!(Motion::Pages(-1).apply(5, 10, 4), 3);
        assert_eq!(Motion::Bottom.apply(0, 0, 4), 0);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(file_safe("a/b c\u{1b}"), "a_b_c_");
        assert_eq!(file_safe(""), "user");
    }
}
