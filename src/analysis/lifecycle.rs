//! What the `end_props_changed` and `background` flags point at, for the views that
//! explain them (the report's JSON and text, the inspector's session detail and timeline):
//!
//! - [`end_props_pair`]: the end marker a session's `end_props_changed` flag is about and
//!   the last active event it was compared with;
//! - [`user_properties_diff`]: which `user_properties` differ between the two, with old and
//!   new values, from the two events' raw JSON (the store keeps only a hash per event, so
//!   the caller reads the two texts back: only flagged sessions cost a read);
//! - [`background_stretches`]: the stretches of a session spent in the background, whose
//!   lengths add up to [`super::Session::background_ms`].
//!
//! The rules are those of the session pass (`sessions.rs`, SESSION-MODEL.md §3); these
//! functions walk one session again rather than keeping more per event.

use super::{Analysis, EventClass, LIFECYCLE_BACKGROUNDED, LIFECYCLE_OPENED};
use crate::event::Sym;
use crate::index::{EventIx, IxRange, Pos, SessionIx};
use crate::json::{self, Kind, Scanner, Span};
use crate::store::EventStore;

/// The two events an `end_props_changed` flag compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndPropsPair {
    /// The session's last active event before the end marker.
    pub last_active: EventIx,
    /// The first end marker of the session that disagrees with it and does not skip the
    /// sync.
    pub end_marker: EventIx,
}

/// The positions (in the analysis order) of session `s`'s events, in the user's order.
fn session_positions(a: &Analysis, s: SessionIx) -> impl Iterator<Item = Pos> + '_ {
    let user = a.sessions.get(s.idx()).map(|s| &a.users[s.user]);
    let range = user.map_or(Pos::new(0)..Pos::new(0), |u| u.events.clone());
    range
        .iter_ix()
        .filter(move |&p| a.pos_session.get(p.idx()) == Some(&s))
}

/// The pair behind session `s`'s `end_props_changed` flag: its first end marker whose
/// `user_properties` differ from those of the session's last active event before it (and
/// which has no `$skip_user_properties_sync: true`). `None` when the session has none.
#[must_use]
pub fn end_props_pair(a: &Analysis, store: &EventStore, s: SessionIx) -> Option<EndPropsPair> {
    let events = store.events();
    let mut last_active: Option<EventIx> = None;
    for p in session_positions(a, s) {
        let i = a.order[p.idx()];
        let e = &events[i.idx()];
        match a.class(e.event_type) {
            EventClass::Active => last_active = Some(i),
            EventClass::EndMarker => {
                if let Some(l) = last_active
                    && events[l.idx()].props_id() != e.props_id()
                    && !e.skips_props_sync()
                {
                    return Some(EndPropsPair {
                        last_active: l,
                        end_marker: i,
                    });
                }
            }
            EventClass::Inactive | EventClass::StartMarker => {}
        }
    }
    None
}

/// The [`EndPropsPair`] of each session of `sessions` flagged `end_props_changed`.
pub fn end_props_pairs<'a>(
    a: &'a Analysis,
    store: &'a EventStore,
    sessions: impl IntoIterator<Item = SessionIx> + 'a,
) -> impl Iterator<Item = (SessionIx, EndPropsPair)> + 'a {
    sessions
        .into_iter()
        .filter(|&s| {
            a.sessions[s.idx()]
                .flags
                .contains(super::Flag::EndPropsChanged)
        })
        .filter_map(move |s| end_props_pair(a, store, s).map(|p| (s, p)))
}

/// An object key's text (raw bytes between the quotes, unescaped when `escaped`).
fn key_text(key: &[u8], escaped: bool) -> String {
    let mut scratch = String::new();
    let span = Span {
        kind: Kind::String { escaped },
        start: 0,
        end: key.len(),
    };
    json::str_of(key, span, &mut scratch).to_string()
}

/// One user property that differs between two events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropChange {
    /// The property's name.
    pub property: String,
    /// Its JSON text on the earlier event (`None`: not there).
    pub old: Option<String>,
    /// Its JSON text on the later event (`None`: not there).
    pub new: Option<String>,
}

/// The members of an event's `user_properties` (absent or `null`: none), each with its
/// value's JSON text and canonical hash ([`json::value_hash`]: key order ignored, numbers
/// by value). A `user_properties` that is not an object is one member named by its kind.
fn user_properties(raw: &[u8]) -> Result<Vec<(String, String, u64)>, String> {
    let mut scanner = Scanner::new(raw);
    scanner.skip_ws();
    let mut found: Option<Span> = None;
    scanner
        .object(|key, escaped, value| {
            if key_text(key, escaped) == "user_properties" {
                found = Some(value);
            }
        })
        .map_err(|e| format!("the event's JSON cannot be read again: {e}"))?;
    let mut scratch = String::new();
    let member = |span: Span, scratch: &mut String| {
        let (from, to) = span.outer();
        let text = String::from_utf8_lossy(&raw[from..to]).into_owned();
        (text, json::value_hash(raw, span, scratch))
    };
    let mut out: Vec<(String, String, u64)> = Vec::new();
    match found {
        None => {}
        Some(span) if span.kind == Kind::Null => {}
        Some(span) if span.kind == Kind::Object => {
            let mut members: Vec<(String, Span)> = Vec::new();
            let _ = Scanner::at(raw, span.start).object(|key, escaped, value| {
                members.push((key_text(key, escaped), value));
            });
            for (name, value) in members {
                let (text, hash) = member(value, &mut scratch);
                // A repeated key: the last one counts, as in most JSON readers.
                out.retain(|(n, _, _)| *n != name);
                out.push((name, text, hash));
            }
        }
        Some(span) => {
            let (text, hash) = member(span, &mut scratch);
            out.push((
                format!("(user_properties is {})", span.kind.name()),
                text,
                hash,
            ));
        }
    }
    Ok(out)
}

/// The `user_properties` that differ between `old` and `new` (two events' raw JSON), by
/// property name. Values compare as JSON values (key order ignored, numbers by value);
/// absent or `null` `user_properties` count as `{}`.
///
/// # Errors
/// When either text is not a JSON object.
pub fn user_properties_diff(old: &[u8], new: &[u8]) -> Result<Vec<PropChange>, String> {
    let old = user_properties(old)?;
    let new = user_properties(new)?;
    let mut names: Vec<&str> = old
        .iter()
        .chain(new.iter())
        .map(|(n, _, _)| n.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let find = |list: &[(String, String, u64)], name: &str| {
        list.iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, h)| (t.clone(), *h))
    };
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let (o, n) = (find(&old, name), find(&new, name));
            let same = matches!((&o, &n), (Some((_, a)), Some((_, b))) if a == b);
            (!same).then(|| PropChange {
                property: name.to_string(),
                old: o.map(|(t, _)| t),
                new: n.map(|(t, _)| t),
            })
        })
        .collect())
}

/// The app's lifecycle state while a user's events stream past in the user's order:
/// `[Amplitude] Application Backgrounded` sends it to the background (remembering since
/// when), `[Amplitude] Application Opened` brings it back. The session pass and
/// [`background_stretches`] both walk it, so they agree.
#[derive(Clone, Copy, Debug)]
pub(super) struct AppState {
    /// The symbols of the two lifecycle event types (`None`: not in the input).
    pub backgrounded: Option<Sym>,
    pub opened: Option<Sym>,
    /// Whether the app is in the background.
    pub in_background: bool,
    /// When it last went to the background.
    pub since: i64,
}

impl AppState {
    /// The foreground state, for the input's lifecycle event types.
    pub fn new(backgrounded: Option<Sym>, opened: Option<Sym>) -> Self {
        Self {
            backgrounded,
            opened,
            in_background: false,
            since: i64::MIN,
        }
    }

    /// Moves past an event of type `t` at `time`; true when it is a lifecycle event.
    pub fn step(&mut self, t: Sym, time: i64) -> bool {
        if self.backgrounded == Some(t) {
            if !self.in_background {
                self.since = time;
            }
            self.in_background = true;
            true
        } else if self.opened == Some(t) {
            self.in_background = false;
            true
        } else {
            false
        }
    }
}

/// The stretches `(from, to)` of session `s` spent with the app in the background: from
/// the session's previous event (or the user's `[Amplitude] Application Backgrounded`, if
/// later) to each of its events that arrives while the app is in the background. Their
/// lengths add up to [`super::Session::background_ms`]. Empty without lifecycle events.
#[must_use]
pub fn background_stretches(a: &Analysis, store: &EventStore, s: SessionIx) -> Vec<(i64, i64)> {
    let lookup = |name: &str| store.strings.lookup(name);
    let backgrounded = lookup(LIFECYCLE_BACKGROUNDED);
    let (true, Some(session)) = (backgrounded.is_some(), a.sessions.get(s.idx())) else {
        return Vec::new();
    };
    let events = store.events();
    let mut out = Vec::new();
    let mut app = AppState::new(backgrounded, lookup(LIFECYCLE_OPENED));
    let mut previous: Option<i64> = None;
    for p in a.users[session.user].events.iter_ix() {
        let e = &events[a.order[p.idx()].idx()];
        let (was_background, from) = (app.in_background, app.since);
        app.step(e.event_type, e.time);
        if a.pos_session.get(p.idx()) != Some(&s) {
            continue;
        }
        if let Some(prev) = previous
            && was_background
        {
            let start = prev.max(from);
            if e.time > start {
                out.push((start, e.time));
            }
        }
        previous = Some(e.time);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(old: &str, new: &str) -> Vec<(String, Option<String>, Option<String>)> {
        user_properties_diff(old.as_bytes(), new.as_bytes())
            .expect("objects")
            .into_iter()
            .map(|c| (c.property, c.old, c.new))
            .collect()
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn the_diff_names_each_changed_added_and_removed_property() {
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            Vec<(&'static str, Option<String>, Option<String>)>,
        );
        let cases: Vec<Case> = vec![
            (
                "changed",
                r#"{"user_properties":{"plan":"free","tier":"gold"}}"#,
                r#"{"user_properties":{"plan":"premium","tier":"gold"}}"#,
                vec![("plan", s("\"free\""), s("\"premium\""))],
            ),
            (
                "added and removed",
                r#"{"user_properties":{"a":1}}"#,
                r#"{"user_properties":{"b":[1,2]}}"#,
                vec![("a", s("1"), None), ("b", None, s("[1,2]"))],
            ),
            (
                "key order and number forms do not count",
                r#"{"user_properties":{"o":{"x":1,"y":2},"n":1}}"#,
                r#"{"event_type":"session_end","user_properties":{"n":1.0,"o":{"y":2,"x":1e0}}}"#,
                vec![],
            ),
            (
                "absent, null and {} are the same",
                r#"{"event_type":"a"}"#,
                r#"{"user_properties":null}"#,
                vec![],
            ),
            (
                "absent against some",
                r#"{"user_properties":{}}"#,
                r#"{"user_properties":{"plan":"pro"}}"#,
                vec![("plan", None, s("\"pro\""))],
            ),
            (
                "escaped keys and values",
                r#"{"user_properties":{"caf\u00e9":"a\"b"}}"#,
                r#"{"user_properties":{"café":"a\"c"}}"#,
                vec![("café", s(r#""a\"b""#), s(r#""a\"c""#))],
            ),
            (
                "a repeated key: the last counts",
                r#"{"user_properties":{"k":1,"k":2}}"#,
                r#"{"user_properties":{"k":2}}"#,
                vec![],
            ),
            (
                "not an object",
                r#"{"user_properties":"x"}"#,
                r#"{"user_properties":{}}"#,
                vec![("(user_properties is a string)", s("\"x\""), None)],
            ),
        ];
        for (name, old, new, want) in cases {
            let want: Vec<(String, Option<String>, Option<String>)> = want
                .into_iter()
                .map(|(p, o, n)| (p.to_string(), o, n))
                .collect();
            assert_eq!(diff(old, new), want, "{name}");
        }
    }

    #[test]
    fn a_text_that_is_not_an_object_is_an_error() {
        assert!(user_properties_diff(b"[1]", b"{}").is_err());
        assert!(user_properties_diff(b"{}", b"{\"user_properties\":").is_err());
    }
}
