//! What the inspector shows: the data (store and analysis) and the state of each view.
//! [`super::app::App`] changes it; [`super::ui::render`] only reads it.
//!
//! Nested state is enums, not flags: one [`Overlay`] at a time, one [`Prompt`] at a time,
//! focus on one [`Focus`] pane, the lower right pane showing one [`Lower`] view.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::jobs::ExportProgress;
use super::jsonview::JsonLine;
use super::live_view::{Follow, LiveStatus, OpenSession, RejectedView};
use super::rows::{Folds, Lanes, Order, Row, Scale, Window};
use super::zone::Zones;
use crate::analysis::{Analysis, Flag, Rules, SweepRow};
use crate::index::{EventIx, UserIx};
use crate::store::EventStore;

/// The pane with keyboard focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Focus {
    /// The users list.
    #[default]
    Users,
    /// The session timeline.
    Timeline,
    /// The lower right pane (event list or replay panel).
    Lower,
}

/// What the lower right pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lower {
    /// The selected user's event stream.
    #[default]
    Events,
    /// The replay comparison, sweep and gap histogram.
    Replay,
    /// Playback of the selected user's stream (see [`Derived::playback`]).
    Playback,
}

/// The overlay over the main view, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overlay {
    /// None: the main view.
    #[default]
    None,
    /// The key help, scrolled by this many lines.
    Help {
        /// First line shown.
        scroll: usize,
    },
    /// The selected event's detail (see [`Derived::detail`]).
    Detail,
    /// The ingestion endpoint's rejected requests (see [`Model::rejected`]).
    Rejected,
    /// The findings over the whole input (see [`super::ui::findings`]).
    Findings,
    /// A recorded session written out in full (see [`Derived::session`]).
    Session,
    /// The results of a search across all users (see [`Derived::search_all`]).
    SearchResults,
}

/// What a prompt asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// Filter users by id (applied as you type).
    UserFilter,
    /// Search the event list.
    Search,
    /// Search every user's events.
    SearchAll,
    /// Filter the event list by event type.
    TypeFilter,
    /// A replay timeout.
    Timeout,
    /// A file to export the user's events to.
    Export,
}

impl PromptKind {
    /// The prompt's label. The status bar follows the search prompt's with the search
    /// key from the key table (`search events: /`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::UserFilter => "filter users by user, device or Amplitude id: ",
            PromptKind::Search => "search events: ",
            PromptKind::SearchAll => "search all users' events: ",
            PromptKind::TypeFilter => "filter by event type (empty for all): ",
            PromptKind::Timeout => "replay timeout (like 90s, 45m, 1h30m): ",
            PromptKind::Export => "export NDJSON to: ",
        }
    }
}

/// An open prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// What has been typed (prompts open empty).
    pub text: String,
    /// The current value, shown dimmed while nothing is typed.
    pub placeholder: String,
    /// The value before the prompt opened (restored on cancel for live prompts).
    pub before: String,
}

/// How important a status message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Information.
    Info,
    /// Something failed.
    Error,
}

/// A one-line message in the status bar, shown until the next key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The text (already safe for the terminal).
    pub text: String,
    /// Info or error.
    pub level: Level,
}

/// How users are sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UserSort {
    /// The triage ranking: most severe first ([`Analysis::triage_order`]).
    #[default]
    Severity,
    /// Most events first.
    Events,
    /// Most recent last event first.
    Recent,
}

impl UserSort {
    /// Its name in the pane title.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            UserSort::Severity => "most severe",
            UserSort::Events => "most events",
            UserSort::Recent => "most recent",
        }
    }

    /// The next criterion.
    #[must_use]
    pub fn next(self) -> UserSort {
        match self {
            UserSort::Severity => UserSort::Events,
            UserSort::Events => UserSort::Recent,
            UserSort::Recent => UserSort::Severity,
        }
    }
}

/// The users pane's settings (kept across a reset of the store).
#[derive(Clone, Debug, Default)]
pub struct UsersView {
    /// The sort criterion.
    pub sort: UserSort,
    /// The id filter (case-insensitive substring of any of a user's ids; empty for all).
    pub filter: String,
    /// The finding the list is narrowed to: only users carrying this flag.
    pub finding: Option<Flag>,
    /// The user has moved a selection: a new analysis keeps it; until then each new
    /// analysis (while loading) selects the top of its ranking.
    pub moved: bool,
}

/// The users pane's list (see [`Derived::users`]).
#[derive(Clone, Debug, Default)]
pub struct UserList {
    /// All users, sorted.
    pub sorted: Vec<UserIx>,
    /// The users shown: `sorted` filtered.
    pub list: Vec<UserIx>,
    /// Index of the selection in `list`.
    pub selected: usize,
}

impl UserList {
    /// The selected user.
    #[must_use]
    pub fn current(&self) -> Option<UserIx> {
        self.list.get(self.selected).copied()
    }
}

/// The event list's settings (kept across a reset of the store).
#[derive(Clone, Debug, Default)]
pub struct EventsView {
    /// Newest or oldest first.
    pub order: Order,
    /// The event-type filter (empty for all).
    pub type_filter: String,
    /// The last search.
    pub search: String,
    /// The folded sessions.
    pub folds: Folds,
    /// How far the properties column is scrolled right, in characters (back to 0 when
    /// another user is selected).
    pub hscroll: usize,
    /// Where `n`/`N` look for the last search: the selected user's events or every
    /// user's (see [`super::search`]).
    pub search_scope: super::search::SearchScope,
}

/// The event list's rows (see [`Derived::events`]).
#[derive(Clone, Debug, Default)]
pub struct EventRows {
    /// The user the rows are of.
    pub user: Option<UserIx>,
    /// Rows: session headers and events.
    pub rows: Vec<Row>,
    /// Index of the selection in `rows`.
    pub selected: usize,
    /// Display width of the user's longest event type ([`super::rows::longest_type`]).
    pub type_cells: usize,
}

/// The session timeline.
#[derive(Clone, Debug, Default)]
pub struct TimelineView {
    /// How wide the window is: fitted to the selected session (the default), the
    /// user's whole history, or zoomed.
    pub scale: Scale,
    /// Where the view is centred; `None` follows the selected session (or the selected
    /// out-of-session event).
    pub center: Option<i64>,
    /// The selected user's lanes.
    pub lanes: Option<Lanes>,
}

/// The raw JSON of the event in the detail overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawText {
    /// Being read (from a compressed source, off the UI thread).
    Loading,
    /// Read and pretty-printed.
    Ready {
        /// The bytes as in the source.
        raw: Arc<[u8]>,
        /// Pretty-printed lines.
        lines: Vec<JsonLine>,
    },
    /// Could not be read.
    Failed(String),
}

/// The event detail overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailView {
    /// The event (input order index; stable while the store grows).
    pub event: EventIx,
    /// The 1-based line its record starts on in its source, when it could be counted
    /// ([`super::records::line_of`]).
    pub line: Option<u64>,
    /// Its raw JSON.
    pub raw: RawText,
    /// First line shown.
    pub scroll: usize,
}

/// Loading state of one source, as last reported by its loader (ahead of the store).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStatus {
    /// As named on the command line.
    pub name: String,
    /// Bytes read.
    pub read: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
    /// The loader has finished.
    pub done: bool,
    /// Nothing could be read from it.
    pub failed: bool,
    /// What went wrong with it.
    pub problems: Vec<String>,
    /// What is worth knowing about it that is not wrong (see
    /// [`crate::store::SourceInfo::notes`]).
    pub notes: Vec<String>,
    /// It never finishes: a followed file, a streaming URL, the endpoint's capture.
    pub live: bool,
}

/// The state of background analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Analysing {
    /// Up to date, or waiting for the next batch.
    #[default]
    Idle,
    /// A worker is computing over a snapshot of the store.
    Running,
}

/// Everything derived from the store's events or pointing into them: the analysis, the
/// lists and their selections, the timeline, the detail overlay's event, cached key
/// properties. A reset of the store voids all of it, so a reset is one assignment:
/// `model.derived = Derived::default()`.
#[derive(Debug)]
pub struct Derived {
    /// The latest finished analysis; `None` until the first one.
    pub analysis: Option<Analysis>,
    /// `store.generation` the analysis was computed at (`u64::MAX`: none).
    pub analysed_generation: u64,
    /// The sweep over the standard timeouts, from the latest analysis.
    pub standard_sweep: Vec<SweepRow>,
    /// The latest event time of the analysis.
    pub latest_ms: Option<i64>,
    /// The users list and its selection.
    pub users: UserList,
    /// The event list and its selection.
    pub events: EventRows,
    /// The timeline.
    pub timeline: TimelineView,
    /// The detail overlay's event.
    pub detail: Option<DetailView>,
    /// Key properties of events already read, by event index.
    pub props: FxHashMap<EventIx, Box<str>>,
    /// First line of the replay panel shown.
    pub replay_scroll: usize,
    /// The replay panel's figures of the selected user, kept between frames.
    pub replay_user: Option<super::ui::replay::UserFigures>,
    /// The session detail overlay's session.
    pub session: Option<super::search::SessionView>,
    /// The selected user's matches of the last search (cached for `match 3 of 9`).
    pub user_matches: Option<super::search::UserMatches>,
    /// The last search across all users: its results, or how far it has got.
    pub search_all: Option<super::search::AllSearch>,
    /// The running playback (`p`), shown as [`Lower::Playback`].
    pub playback: Option<super::playback::PlaybackView>,
}

/// User `u`'s label: its identity label ([`crate::analysis::IdentityRef::label`], the
/// user id first, escaped), else its key. Computed when shown (a few rows a frame) rather
/// than kept for every user: 40,000 labels and their lower-cased ids held 9 MB.
#[must_use]
pub fn label_of(a: &Analysis, store: &EventStore, u: UserIx) -> String {
    let label = a.identity_ref(u).label(store);
    if label.is_empty() {
        super::ui::users::user_label(a, store, u)
    } else {
        label
    }
}

/// Whether one of user `u`'s ids (its key, user ids, Amplitude ids and devices),
/// lower-cased, contains `needle` (already lower-cased): the users pane's `/`. `scratch`
/// is reused from call to call; an ASCII id is lower-cased in it without allocating.
#[must_use]
pub fn ids_match(
    a: &Analysis,
    store: &EventStore,
    u: UserIx,
    needle: &str,
    scratch: &mut String,
) -> bool {
    let id = a.identity_ref(u);
    std::iter::once(a.users[u].key.id)
        .chain(id.user_ids.iter().copied())
        .chain(id.amplitude_ids.iter().copied())
        .chain(id.device_ids.iter().copied())
        .any(|sym| {
            let text = store.strings.get(sym);
            if text.is_ascii() {
                scratch.clear();
                scratch.push_str(text);
                scratch.make_ascii_lowercase();
                scratch.contains(needle)
            } else {
                // `str::to_lowercase`, not per char: a final sigma lower-cases differently.
                text.to_lowercase().contains(needle)
            }
        })
}

impl Default for Derived {
    fn default() -> Self {
        Self {
            analysis: None,
            analysed_generation: u64::MAX,
            standard_sweep: Vec::new(),
            latest_ms: None,
            users: UserList::default(),
            events: EventRows::default(),
            timeline: TimelineView::default(),
            detail: None,
            props: FxHashMap::default(),
            replay_scroll: 0,
            replay_user: None,
            session: None,
            user_matches: None,
            search_all: None,
            playback: None,
        }
    }
}

/// A running export, as the status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportStatus {
    /// The file (already safe for the terminal).
    pub path: String,
    /// How far it has got.
    pub progress: ExportProgress,
}

/// Everything the views read.
#[derive(Debug)]
pub struct Model {
    /// All accepted events (shared read-only with a running analysis job).
    pub store: Arc<EventStore>,
    /// What is derived from the store's events (replaced as a whole by a reset).
    pub derived: Derived,
    /// The settings (the timeout changes live).
    pub rules: Rules,
    /// Per source, loading state.
    pub sources: Vec<SourceStatus>,
    /// Loader events received but not yet applied to the store.
    pub pending: usize,
    /// Background analysis.
    pub analysing: Analysing,
    /// A running export.
    pub export: Option<ExportStatus>,
    /// The focused pane.
    pub focus: Focus,
    /// What the lower right pane shows.
    pub lower: Lower,
    /// The overlay.
    pub overlay: Overlay,
    /// The open prompt.
    pub prompt: Option<Prompt>,
    /// The status message.
    pub message: Option<Message>,
    /// The users pane's sort and filter.
    pub users: UsersView,
    /// The event list's order, filter and search.
    pub events: EventsView,
    /// The display time zone.
    pub zones: Zones,
    /// The wall clock (epoch ms) as of the last [`super::app::App::tick`]; 0 until then.
    /// Views read it instead of the clock (open sessions' countdowns).
    pub now_ms: i64,
    /// Follow mode.
    pub follow: Follow,
    /// The ingestion endpoint's counters and rates, when `listen` feeds the inspector.
    pub live: Option<LiveStatus>,
    /// The rejected-requests overlay's state.
    pub rejected: Option<RejectedView>,
    /// How many times the store was reset (the endpoint started afresh).
    pub resets: u64,
    /// The selected line of the findings overlay.
    pub findings_selected: usize,
    /// What the replay panel is about, and the timeout it compares T with.
    pub replay_panel: ReplayPanel,
}

/// The replay panel's settings (they outlive a reset of the store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayPanel {
    /// About the whole input rather than the selected user.
    pub whole_input: bool,
    /// The timeout compared with T; `None` (or T itself): the SDK default T is not
    /// ([`crate::analysis::default_comparison`]).
    pub compare_ms: Option<i64>,
}

impl ReplayPanel {
    /// The timeout compared with the current one, `timeout_ms`: never `timeout_ms` itself.
    #[must_use]
    pub fn compare_with(&self, timeout_ms: i64) -> i64 {
        self.compare_ms
            .filter(|&c| c != timeout_ms)
            .unwrap_or_else(|| crate::analysis::default_comparison(timeout_ms))
    }
}

impl Model {
    /// A model over `store` with no analysis yet.
    #[must_use]
    pub fn new(store: EventStore, rules: Rules, zones: Zones) -> Self {
        let sources = store
            .sources
            .iter()
            .map(|s| SourceStatus {
                name: s.name.clone(),
                read: s.bytes_read,
                total: s.bytes_total,
                done: s.done,
                failed: s.failed,
                problems: s.problems.clone(),
                notes: s.notes.clone(),
                live: false,
            })
            .collect();
        Self {
            store: Arc::new(store),
            derived: Derived::default(),
            rules,
            sources,
            pending: 0,
            analysing: Analysing::Idle,
            export: None,
            focus: Focus::Users,
            lower: Lower::Events,
            overlay: Overlay::None,
            prompt: None,
            message: None,
            users: UsersView::default(),
            events: EventsView::default(),
            zones,
            now_ms: 0,
            follow: Follow::Off,
            live: None,
            rejected: None,
            resets: 0,
            findings_selected: 0,
            replay_panel: ReplayPanel::default(),
        }
    }

    /// Whether events may still arrive: an ingestion endpoint is attached or a live
    /// source is still being followed.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.live.is_some() || self.sources.iter().any(|s| s.live && !s.done && !s.failed)
    }

    /// User `u`'s open session at [`Model::now_ms`], if any.
    #[must_use]
    pub fn open_session(&self, u: UserIx) -> Option<OpenSession> {
        super::live_view::open_session(self.derived.analysis.as_ref()?, u, self.now_ms)
    }

    /// Events received since follow mode was paused (0 unless paused).
    #[must_use]
    pub fn new_since_pause(&self) -> usize {
        match self.follow {
            Follow::Paused { since } => self.store.events().len().saturating_sub(since),
            Follow::On | Follow::Off => 0,
        }
    }

    /// Whether sources are still loading or the analysis lags the store.
    #[must_use]
    pub fn loading(&self) -> bool {
        self.sources.iter().any(|s| !s.done)
            || self.pending > 0
            || self.derived.analysed_generation != self.store.generation
    }

    /// Overall loading progress in 0..=1, when totals are known.
    #[must_use]
    pub fn progress(&self) -> Option<f64> {
        let mut read = 0u64;
        let mut total = 0u64;
        for s in &self.sources {
            if s.done {
                continue;
            }
            read += s.read;
            total += s.total?;
        }
        if total == 0 {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "a progress fraction")]
        Some((read as f64 / total as f64).min(1.0))
    }

    /// How user `u` is named everywhere: its identity label, the user id first.
    #[must_use]
    pub fn user_label(&self, u: UserIx) -> String {
        self.derived
            .analysis
            .as_ref()
            .filter(|a| u.idx() < a.users.len())
            .map(|a| label_of(a, &self.store, u))
            .unwrap_or_default()
    }

    /// The selected user.
    #[must_use]
    pub fn selected_user(&self) -> Option<UserIx> {
        self.derived.users.current()
    }

    /// The event the list's selection stands for (a header stands for its first event).
    #[must_use]
    pub fn selected_event(&self) -> Option<EventIx> {
        let a = self.derived.analysis.as_ref()?;
        super::rows::row_event(
            a,
            &self.store,
            &self.derived.events.rows,
            self.derived.events.selected,
        )
    }

    /// The time range the timeline covers at its widest: the selected user's events,
    /// up to now when their session is open.
    #[must_use]
    pub fn timeline_span(&self) -> Option<(i64, i64)> {
        let lanes = self.derived.timeline.lanes.as_ref()?;
        let mut span = lanes.span;
        // An open session reaches to now: its open end is drawn up to it.
        if self
            .open_session(lanes.user)
            .is_some_and(|_| self.now_ms > span.1)
        {
            span.1 = self.now_ms;
        }
        Some(span)
    }

    /// The first and last event time of the selected row's session (for an event out of
    /// session, its time twice): what the timeline fits and centres on.
    #[must_use]
    pub fn selected_span(&self) -> Option<(i64, i64)> {
        let a = self.derived.analysis.as_ref()?;
        match *self.derived.events.rows.get(self.derived.events.selected)? {
            Row::Session { session, .. } => {
                let s = a.sessions.get(session.idx())?;
                Some((s.first, s.last))
            }
            Row::Event { pos, .. } => {
                let s = *a.pos_session.get(pos.idx())?;
                match a.sessions.get(s.idx()) {
                    Some(s) => Some((s.first, s.last)),
                    None => {
                        let t = self.store.events().get(a.order.get(pos.idx())?.idx())?.time;
                        Some((t, t))
                    }
                }
            }
        }
    }

    /// The timeline's window for the current selection and scale.
    #[must_use]
    pub fn timeline_window(&self) -> Option<Window> {
        let span = self.timeline_span()?;
        let lanes = self.derived.timeline.lanes.as_ref()?;
        let selected = self.selected_span();
        let width = match self.derived.timeline.scale {
            Scale::Whole => None,
            Scale::Fit => selected.map(|(f, l)| Window::fit_width(f, l, lanes.timeout_ms)),
            Scale::Span(w) => Some(w),
        };
        let center = self
            .derived
            .timeline
            .center
            .or_else(|| selected.map(|(f, l)| crate::analysis::midpoint(f, l)));
        Some(Window::at(span, width, center))
    }

    /// The sweep rows: the standard timeouts plus the current one (from the live replay).
    #[must_use]
    pub fn sweep(&self) -> Vec<SweepRow> {
        let Some(a) = &self.derived.analysis else {
            return Vec::new();
        };
        let mut rows: Vec<SweepRow> = self
            .derived
            .standard_sweep
            .iter()
            .copied()
            .filter(|r| r.timeout_ms != a.replay.timeout_ms)
            .collect();
        rows.push(SweepRow {
            timeout_ms: a.replay.timeout_ms,
            sessions: a.replay.sessions,
            median_length_ms: a.replay.median_length_ms,
            split: a.replay.split.len() as u64,
            merged: a.replay.merged.len() as u64,
        });
        rows.sort_by_key(|r| r.timeout_ms);
        rows
    }
}
