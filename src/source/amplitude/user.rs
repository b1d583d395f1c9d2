//! `amplitude:user/ID`: `usersearch?user=ID`, then for every match
//! `useractivity?user=AMPLITUDE_ID&offset=N&limit=1000&direction=earliest`, paged to the end.
//!
//! Pages overlap: Amplitude returns more than `limit` events so that no session is cut,
//! and the next page (at `offset + limit`) repeats those. Events are placed by position
//! (a page at offset N holds positions N, N+1, …), and positions already held are
//! dropped; where both copies carry a `uuid` they must agree, and when they do not (the
//! stream moved under the fetch) the overlap is removed by `uuid` instead. Never by
//! `$insert_id`: events with the same insert_id are the genuine duplicates the session
//! model counts. Paging ends at a page with fewer than `limit` events.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use super::http::{Api, Call, Failure};
use crate::json::{Kind, Scanner};

/// Events per page.
pub const PAGE: usize = 1000;

/// Close matches listed at most, when nobody matches.
const MAX_SUGGESTIONS: usize = 10;

/// Where a user's events go.
pub trait Sink {
    /// The NDJSON lines of new events (maybe none), and the bytes received so far.
    ///
    /// # Errors
    /// When they cannot be kept (a file that cannot be written): the fetch stops.
    fn lines(&mut self, lines: &[u8], received: u64) -> std::io::Result<()>;
    /// A wait or a note, to show now.
    fn tell(&mut self, message: String);
}

/// One user `usersearch` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The Amplitude ID, as its digits.
    pub amplitude_id: String,
    /// The user ID, when the match has one.
    pub user_id: Option<String>,
}

impl Match {
    fn label(&self) -> String {
        match &self.user_id {
            Some(u) => format!(
                "{} (Amplitude ID {})",
                crate::fmt::sanitize(u),
                self.amplitude_id
            ),
            None => format!("Amplitude ID {}", self.amplitude_id),
        }
    }
}

/// What a user fetch brought.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Who was found.
    pub matches: Vec<Match>,
    /// Events kept.
    pub events: u64,
    /// Overlapping events dropped.
    pub overlap: u64,
    /// What did not arrive and why, when the fetch stopped half-way.
    pub missing: Option<String>,
}

impl Fetched {
    /// `3 users` / `user bob (Amplitude ID 1)`.
    #[must_use]
    pub fn users_text(&self) -> String {
        match self.matches.as_slice() {
            [one] => format!("user {}", one.label()),
            many => format!("{} users", many.len()),
        }
    }

    /// The matches, for the status and `fetch`.
    #[must_use]
    pub fn matches_text(&self) -> String {
        let list: Vec<String> = self.matches.iter().map(Match::label).collect();
        format!(
            "user search matched {} users, all loaded: {}; name one by its Amplitude ID (amplitude:user/ID) to load only it",
            self.matches.len(),
            list.join(", ")
        )
    }
}

/// Fetches every user `id` names into `sink`.
///
/// # Errors
/// When nothing could be fetched: the search failed or found nobody (with close
/// matches by prefix, when there are any). A failure after the search is
/// [`Fetched::missing`].
pub fn fetch(
    api: &Api,
    id: &str,
    stop: &AtomicBool,
    sink: &mut dyn Sink,
) -> Result<Fetched, String> {
    let shown = crate::fmt::sanitize(id).into_owned();
    let matches = search(api, id, stop, sink)
        .map_err(|f| api.describe(&f, &format!("the user search for '{shown}'")))?;
    if matches.is_empty() {
        return Err(nobody(api, id, stop, sink));
    }
    let mut out = Fetched {
        matches,
        ..Fetched::default()
    };
    let mut received = 0u64;
    let ids: Vec<String> = out.matches.iter().map(|m| m.amplitude_id.clone()).collect();
    for (k, amplitude_id) in ids.iter().enumerate() {
        if let Err(why) = pages(api, amplitude_id, stop, sink, &mut out, &mut received) {
            let rest = &ids[k + 1..];
            let mut missing = why;
            if !rest.is_empty() {
                missing.push_str(&format!(
                    "; not fetched at all: Amplitude ID{} {}",
                    if rest.len() == 1 { "" } else { "s" },
                    rest.join(", ")
                ));
            }
            out.missing = Some(missing);
            break;
        }
    }
    Ok(out)
}

/// `usersearch?user=ID`: the matches, in the answer's order, each Amplitude ID once.
fn search(
    api: &Api,
    id: &str,
    stop: &AtomicBool,
    sink: &mut dyn Sink,
) -> Result<Vec<Match>, Failure> {
    let call = Call {
        path: "usersearch",
        query: vec![("user", id.to_string())],
        what: format!("the user search for '{}'", crate::fmt::sanitize(id)),
        limited: true,
    };
    let response = api.get(&call, stop, &mut |m| sink.tell(m))?;
    let body = response.bytes().map_err(|e| Failure::Network {
        reason: super::http::reason(&e.without_url()),
        tries: 1,
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Failure::Status {
        code: 200,
        reason: "OK".to_string(),
        body: format!("the answer is not the user search's JSON ({e})"),
        tries: 1,
    })?;
    let mut out: Vec<Match> = Vec::new();
    for m in value
        .get("matches")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let amplitude_id = match m.get("amplitude_id") {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => continue,
        };
        if out.iter().any(|o| o.amplitude_id == amplitude_id) {
            continue;
        }
        let user_id = m
            .get("user_id")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        out.push(Match {
            amplitude_id,
            user_id,
        });
    }
    Ok(out)
}

/// Nobody matched `id`: the message, with close matches by prefix (user search takes a
/// user ID prefix; at most two shorter prefixes are tried).
fn nobody(api: &Api, id: &str, stop: &AtomicBool, sink: &mut dyn Sink) -> String {
    let shown = crate::fmt::sanitize(id);
    let chars: Vec<char> = id.chars().collect();
    let mut tried = Vec::new();
    for len in [chars.len() * 2 / 3, chars.len() / 2] {
        if len < 3 || tried.contains(&len) {
            continue;
        }
        tried.push(len);
        let prefix: String = chars[..len].iter().collect();
        let Ok(found) = search(api, &prefix, stop, sink) else {
            break;
        };
        if !found.is_empty() {
            let list: Vec<String> = found
                .iter()
                .take(MAX_SUGGESTIONS)
                .map(Match::label)
                .collect();
            let more = found.len().saturating_sub(MAX_SUGGESTIONS);
            return format!(
                "Amplitude has no user '{shown}' in this project (user search found no user ID, device ID or \
                 Amplitude ID like it); close matches starting with '{}': {}{}. Check the ID, or fetch one of these",
                crate::fmt::sanitize(&prefix),
                list.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    format!(
        "Amplitude has no user '{shown}' in this project (user search found no user ID, device ID or Amplitude ID \
         like it, nor any close match by prefix): check the ID, that the keys are those of the ticket's project, \
         and the region (--amplitude-region)"
    )
}

/// Every page of one Amplitude ID's activity into `sink`.
///
/// # Errors
/// What is missing and why, when a page could not be fetched or read.
fn pages(
    api: &Api,
    amplitude_id: &str,
    stop: &AtomicBool,
    sink: &mut dyn Sink,
    out: &mut Fetched,
    received: &mut u64,
) -> Result<(), String> {
    let mut held = Held::default();
    let mut offset = 0usize;
    loop {
        let what = format!("the user activity of Amplitude ID {amplitude_id} at offset {offset}");
        let missing = |why: String, held: &Held| {
            format!(
                "{why}; missing: the events of Amplitude ID {amplitude_id} after the first {} (from offset {offset} on)",
                held.len()
            )
        };
        let call = Call {
            path: "useractivity",
            query: vec![
                ("user", amplitude_id.to_string()),
                ("offset", offset.to_string()),
                ("limit", PAGE.to_string()),
                ("direction", "earliest".to_string()),
            ],
            what: what.clone(),
            limited: true,
        };
        let body = api
            .get(&call, stop, &mut |m| sink.tell(m))
            .and_then(|r| {
                r.bytes().map_err(|e| Failure::Network {
                    reason: super::http::reason(&e.without_url()),
                    tries: 1,
                })
            })
            .map_err(|f| missing(api.describe(&f, &what), &held))?;
        *received += body.len() as u64;
        let page = Page::read(&body).map_err(|e| missing(format!("{what}: {e}"), &held))?;
        let n = page.events.len();
        let (fresh, dropped) = held.take(offset, &page);
        if n > 0 && fresh.is_empty() && held.len() <= offset {
            return Err(missing(
                format!(
                    "{what}: Amplitude sent only events it had sent before; the fetch stopped there"
                ),
                &held,
            ));
        }
        let mut lines = Vec::new();
        for &i in &fresh {
            let (s, e) = page.events[i].0;
            one_line(&body[s..e], &mut lines);
            lines.push(b'\n');
        }
        out.events += fresh.len() as u64;
        out.overlap += dropped as u64;
        sink.lines(&lines, *received)
            .map_err(|e| missing(format!("the events could not be kept: {e}"), &held))?;
        if n < PAGE {
            return Ok(());
        }
        offset += PAGE;
    }
}

/// One `useractivity` answer: each event's text span and `uuid`.
struct Page {
    events: Vec<((usize, usize), Option<String>)>,
}

impl Page {
    /// Reads `{"userData": {...}, "events": [...]}`.
    fn read(body: &[u8]) -> Result<Page, String> {
        let not = |why: String| format!("the answer is not a User Activity response ({why})");
        let mut events_span = None;
        let mut sc = Scanner::new(body);
        sc.skip_ws();
        if sc.peek() != Some(b'{') {
            return Err(not("not a JSON object".to_string()));
        }
        sc.object(|key, _, span| {
            if key == b"events" && span.kind == Kind::Array {
                events_span = Some(span);
            }
        })
        .map_err(|e| not(format!("invalid JSON at byte {}", e.offset)))?;
        let span = events_span.ok_or_else(|| not("no \"events\" array".to_string()))?;
        let mut spans = Vec::new();
        Scanner::at(body, span.start)
            .array(|_, el| spans.push(el))
            .map_err(|e| not(format!("invalid JSON at byte {}", e.offset)))?;
        let mut events = Vec::with_capacity(spans.len());
        let mut scratch = String::new();
        for el in spans {
            let mut uuid = None;
            if el.kind == Kind::Object {
                let _ = Scanner::at(body, el.start).object(|key, _, v| {
                    if key == b"uuid" && matches!(v.kind, Kind::String { .. }) {
                        uuid = Some(crate::json::str_of(body, v, &mut scratch).to_string());
                    }
                });
            }
            events.push((el.outer(), uuid.filter(|u| !u.is_empty())));
        }
        Ok(Page { events })
    }
}

/// The events held so far of one Amplitude ID, by position.
#[derive(Default)]
struct Held {
    uuids: Vec<Option<String>>,
    /// How many held events carry each uuid.
    counts: HashMap<String, u32>,
}

impl Held {
    fn len(&self) -> usize {
        self.uuids.len()
    }

    /// The page at `offset`: the indices of its events not held yet, and how many were
    /// dropped as overlap.
    fn take(&mut self, offset: usize, page: &Page) -> (Vec<usize>, usize) {
        let n = page.events.len();
        let overlap = self.len().saturating_sub(offset).min(n);
        if overlap == 0
            && n > 0
            && page
                .events
                .iter()
                .all(|(_, u)| u.as_ref().is_some_and(|u| self.counts.contains_key(u)))
        {
            // Nothing overlaps by position, yet every event was held already: the
            // server repeated events instead of paging on.
            return (Vec::new(), n);
        }
        let agrees = (0..overlap).all(|i| match (&self.uuids[offset + i], &page.events[i].1) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        });
        let fresh: Vec<usize> = if agrees {
            (overlap..n).collect()
        } else {
            // Positions moved: drop the page's events whose uuid is held (as many times
            // as held), keep the rest.
            let mut left = self.counts.clone();
            (0..n)
                .filter(|&i| match &page.events[i].1 {
                    Some(u) => match left.get_mut(u) {
                        Some(c) if *c > 0 => {
                            *c -= 1;
                            false
                        }
                        _ => true,
                    },
                    None => i >= overlap,
                })
                .collect()
        };
        for &i in &fresh {
            let uuid = page.events[i].1.clone();
            if let Some(u) = &uuid {
                *self.counts.entry(u.clone()).or_insert(0) += 1;
            }
            self.uuids.push(uuid);
        }
        let dropped = n - fresh.len();
        (fresh, dropped)
    }
}

/// Appends `raw` (one JSON value) to `out` on one line: white space outside strings is
/// dropped when the value spans lines.
fn one_line(raw: &[u8], out: &mut Vec<u8>) {
    if memchr::memchr2(b'\n', b'\r', raw).is_none() {
        out.extend_from_slice(raw);
        return;
    }
    crate::json::compact_into(raw, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> Page {
        Page::read(json.as_bytes()).expect("a page")
    }

    fn ev(uuid: &str) -> String {
        format!(r#"{{"event_type":"e","uuid":"{uuid}","$insert_id":"same"}}"#)
    }

    fn body(uuids: &[&str]) -> String {
        let events: Vec<String> = uuids.iter().map(|u| ev(u)).collect();
        format!(
            r#"{{"userData":{{"user_id":"u"}},"events":[{}]}}"#,
            events.join(",")
        )
    }

    #[test]
    fn overlapping_pages_are_joined_by_position_and_insert_ids_are_not_looked_at() {
        let mut held = Held::default();
        // Page 1 runs on past its limit (positions 0..4); page 2 starts at offset 3.
        let (fresh, dropped) = held.take(0, &page(&body(&["a", "b", "c", "d"])));
        assert_eq!((fresh, dropped), (vec![0, 1, 2, 3], 0));
        let (fresh, dropped) = held.take(3, &page(&body(&["d", "e", "f"])));
        assert_eq!((fresh, dropped), (vec![1, 2], 1));
        assert_eq!(held.len(), 6);
    }

    #[test]
    fn overlap_without_uuids_goes_by_position() {
        let mut held = Held::default();
        let p = page(r#"{"events":[{"event_type":"x"},{"event_type":"x"},{"event_type":"x"}]}"#);
        assert_eq!(held.take(0, &p).0, vec![0, 1, 2]);
        // Offset 2: one held position overlaps; the identical second event is new.
        let q = page(r#"{"events":[{"event_type":"x"},{"event_type":"x"}]}"#);
        assert_eq!(held.take(2, &q), (vec![1], 1));
    }

    #[test]
    fn moved_positions_fall_back_to_uuids() {
        let mut held = Held::default();
        held.take(0, &page(&body(&["a", "b", "c"])));
        // Offset 2 should start with "c" but an event was inserted before it.
        let (fresh, dropped) = held.take(2, &page(&body(&["x", "c", "d"])));
        assert_eq!((fresh, dropped), (vec![0, 2], 1));
    }

    #[test]
    fn pages_are_read_from_user_activity_answers() {
        let p = page(r#" {"userData":{"events":1},"events":[ {"uuid":"u1","a":[1,2]} , 7 ]} "#);
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.events[0].1.as_deref(), Some("u1"));
        assert_eq!(p.events[1].1, None);
        for bad in [
            "",
            "[]",
            r#"{"events":3}"#,
            r#"{"userData":{}}"#,
            r#"{"events":[1,"#,
        ] {
            assert!(Page::read(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// A server paging `n` events by `limit`, each page running on by `extra[k]` events
    /// (to the end of a session), with or without uuids.
    fn server_page(n: usize, offset: usize, limit: usize, extra: usize, uuids: bool) -> String {
        let end = (offset + limit + extra).min(n);
        let events: Vec<String> = (offset.min(n)..end)
            .map(|i| {
                if uuids {
                    format!(r#"{{"i":{i},"uuid":"u{i}","$insert_id":"same"}}"#)
                } else {
                    format!(r#"{{"i":{i},"$insert_id":"same"}}"#)
                }
            })
            .collect();
        format!(r#"{{"userData":{{}},"events":[{}]}}"#, events.join(","))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// However far pages run on, joining them by position gives every event once, in
        /// order; and `$insert_id` (the same on every event here) never removes one.
        #[test]
        fn pages_joined_give_every_event_once_in_order(
            n in 0usize..60,
            limit in 1usize..8,
            extras in proptest::collection::vec(0usize..10, 20),
            uuids in proptest::prelude::any::<bool>(),
        ) {
            let mut held = Held::default();
            let mut got = Vec::new();
            let mut offset = 0;
            for k in 0.. {
                let body = server_page(n, offset, limit, extras[k % extras.len()], uuids);
                let page = Page::read(body.as_bytes()).expect("a page");
                let (fresh, _) = held.take(offset, &page);
                for i in fresh {
                    let (s, e) = page.events[i].0;
                    let v: serde_json::Value = serde_json::from_slice(&body.as_bytes()[s..e]).expect("JSON");
                    got.push(v["i"].as_u64().expect("i"));
                }
                if page.events.len() < limit {
                    break;
                }
                offset += limit;
            }
            let want: Vec<u64> = (0..n as u64).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn multi_line_events_become_one_line_with_strings_untouched() {
        let mut out = Vec::new();
        one_line(
            b"{\n  \"a\": \"x y\\\" z\",\n  \"b\" : [1, 2]\r\n}",
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x y\" z","b":[1,2]}"#
        );
        let mut out = Vec::new();
        one_line(br#"{"a": "keep  spaces"}"#, &mut out);
        assert_eq!(out, br#"{"a": "keep  spaces"}"#);
    }
}
