//! The model: one statement over the loader's `ss_rec`, the same for every dialect but for
//! the [`Dialect`] hooks. Each CTE is one rule of `SESSION-MODEL.md`:
//!
//! - `ss_ev`: accepted events, their class (active `A`, inactive `I`, start `S` / end `E`
//!   marker) and direct key (`a:` Amplitude id, else `u:` user id);
//! - `ss_u`: §2 — an anonymous event's key is the last key of an event with a `user_id` on
//!   its device at or before it in (time, logins first within a millisecond, input order),
//!   else the first after it, else `d:` its device;
//! - `ss_e`: §3 duplicates (previous event of the same device and dedup key at most 7 days
//!   older) and background events (after the user's last lifecycle event, if that was
//!   `[Amplitude] Application Backgrounded`);
//! - `ss_s1` … `ss_sf`: sessions, gaps, bridged gaps (the events after an active event up to
//!   the next one form a group; it is bridged when it holds an inactive event, its steps
//!   sum to more than the threshold and none exceeds it), flags;
//! - `ss_ra` … `ss_replay`: §4 replay of active in-session events;
//! - the last SELECT: what `--emit` asks for.

use super::load::Loader;
use super::{Dialect, Emit, Options};
use crate::analysis::{
    DEDUP_WINDOW_MS, END_MARKERS, IDENTIFY_TYPES, LIFECYCLE_BACKGROUNDED, LIFECYCLE_OPENED,
    START_MARKERS, SUSPECT_LEAD_MS,
};

fn list(d: Dialect, items: &[&str]) -> String {
    let v: Vec<String> = items.iter().map(|s| d.lit(s)).collect();
    format!("({})", v.join(", "))
}

/// The statements (without their `;`), the result last. Where the dialect has temporary
/// relations, the loaded records (`ss_rec`) and the keyed events (`ss_e`) are materialised
/// first: each is read many times, and an engine that inlines CTEs (Spark) would otherwise
/// plan the whole loader once per use (Spark local mode ran out of a 1 GB heap).
pub(super) fn statements(opts: &Options, loader: &Loader) -> Vec<String> {
    let d = opts.dialect;
    let gap = opts.rules.gap_ms;
    let timeout = opts.rules.timeout_ms;
    let mut inactive: Vec<&str> = IDENTIFY_TYPES.to_vec();
    inactive.extend(opts.rules.inactive.iter().map(String::as_str));
    let bg = d.lit(LIFECYCLE_BACKGROUNDED);
    let opened = d.lit(LIFECYCLE_OPENED);
    let anon_last = d.last_value_ignore_nulls(
        "CASE WHEN uid IS NOT NULL THEN dk END",
        "PARTITION BY did ORDER BY t, CASE WHEN dk IS NULL THEN 1 ELSE 0 END, ord \
         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
    );
    let anon_first = d.first_value_ignore_nulls(
        "CASE WHEN uid IS NOT NULL THEN dk END",
        "PARTITION BY did ORDER BY t, CASE WHEN dk IS NULL THEN 1 ELSE 0 END, ord \
         ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
    );
    let app_state = d.last_value_ignore_nulls(
        &format!("CASE WHEN et = {bg} THEN 1 WHEN et = {opened} THEN 0 END"),
        "PARTITION BY ukey ORDER BY t, ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING",
    );
    let last_active = d.last_value_ignore_nulls(
        "CASE WHEN cls = 'A' THEN ord END",
        "PARTITION BY ukey, sid ORDER BY t, ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING",
    );
    let (canon, endp_note) = match &loader.canon {
        Some(body) => (
            format!(
                "ss_need AS (SELECT ord, props FROM ss_e WHERE ord IN (SELECT ord FROM ss_endm) \
                 OR ord IN (SELECT la_ord FROM ss_endm)),\n\
                 ss_canon AS ({body}),\n\
                 ss_endp AS (SELECT m.ukey, m.sid, 1 AS changed FROM ss_endm AS m \
                 JOIN ss_canon AS cm ON cm.ord = m.ord JOIN ss_canon AS ca ON ca.ord = m.la_ord \
                 WHERE cm.c <> ca.c GROUP BY m.ukey, m.sid),\n"
            ),
            String::new(),
        ),
        None => (
            "ss_endp AS (SELECT ukey, sid, CAST(NULL AS INT) AS changed FROM ss_endm WHERE 1 = 0),\n"
                .to_string(),
            "-- end_props_changed_sessions is NULL: this loader has no key-order-independent \
             comparison of user_properties JSON values.\n"
                .to_string(),
        ),
    };
    let endp_value = |sum: &str| {
        if loader.canon.is_some() {
            sum.to_string()
        } else {
            "CAST(NULL AS BIGINT)".to_string()
        }
    };
    let model = format!(
        "WITH {loader_ctes},\n\
         ss_ev AS (SELECT src, ord, line, t, sid, et, uid, did, aid, dkey, props, skip,\n\
         CASE WHEN et IN {start} THEN 'S' WHEN et IN {end} THEN 'E' WHEN et IN {inactive} THEN 'I' ELSE 'A' END AS cls,\n\
         CASE WHEN aid IS NOT NULL THEN 'a:' || aid WHEN uid IS NOT NULL THEN 'u:' || uid END AS dk\n\
         FROM ss_rec WHERE rej IS NULL),\n\
         ss_u AS (SELECT src, ord, line, t, sid, et, uid, did, aid, dkey, props, skip, cls,\n\
         CASE WHEN dk IS NOT NULL THEN dk ELSE coalesce({anon_last}, {anon_first}, 'd:' || did) END AS ukey\n\
         FROM ss_ev),\n\
         ss_e AS (SELECT src, ord, line, t, sid, et, uid, did, aid, props, skip, cls, ukey,\n\
         CASE WHEN dkey IS NOT NULL AND t - lag(t) OVER (PARTITION BY did, dkey ORDER BY t, ord) <= {dedup} THEN 1 ELSE 0 END AS dup,\n\
         CASE WHEN cls = 'A' AND et NOT IN ({bg}, {opened}) AND {app_state} = 1 THEN 1 ELSE 0 END AS bg\n\
         FROM ss_u),\n\
         ss_s1 AS (SELECT ukey, sid, t, ord, cls, dup, bg, skip, CASE WHEN cls = 'A' THEN 1 ELSE 0 END AS act,\n\
         t - lag(t) OVER (PARTITION BY ukey, sid ORDER BY t, ord) AS step,\n\
         coalesce(sum(CASE WHEN cls = 'A' THEN 1 ELSE 0 END) OVER (PARTITION BY ukey, sid ORDER BY t, ord \
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS grp,\n\
         {last_active} AS la_ord\n\
         FROM ss_e WHERE sid IS NOT NULL),\n\
         ss_bridge AS (SELECT ukey, sid, count(*) AS bridged FROM (SELECT ukey, sid, grp FROM ss_s1 WHERE grp >= 1 \
         GROUP BY ukey, sid, grp HAVING max(act) = 1 AND sum(1 - act) >= 1 AND sum(step) > {gap} AND max(step) <= {gap}) AS g \
         GROUP BY ukey, sid),\n\
         ss_endm AS (SELECT ukey, sid, ord, la_ord FROM ss_s1 WHERE cls = 'E' AND NOT skip AND la_ord IS NOT NULL),\n\
         {canon}\
         ss_sess AS (SELECT ukey, sid, count(*) AS events, sum(act) AS active, min(t) AS first_ms, max(t) AS last_ms,\n\
         sum(CASE WHEN step > {gap} THEN 1 ELSE 0 END) AS gaps, max(coalesce(step, 0)) AS max_gap_ms, sum(dup) AS duplicates, \
         sum(bg) AS background,\n\
         max(CASE WHEN cls = 'S' THEN 1 ELSE 0 END) AS has_start, max(CASE WHEN cls = 'E' THEN 1 ELSE 0 END) AS has_end\n\
         FROM ss_s1 GROUP BY ukey, sid),\n\
         ss_sf AS (SELECT x.ukey, x.sid, x.events, x.active, x.first_ms, x.last_ms, x.gaps, x.max_gap_ms, x.duplicates, x.background,\n\
         coalesce(b.bridged, 0) AS bridged, x.last_ms - x.sid AS length_ms, x.last_ms - x.first_ms AS span_ms,\n\
         CASE WHEN x.active = 0 THEN 1 ELSE 0 END AS f_empty,\n\
         CASE WHEN x.last_ms = x.sid THEN 1 ELSE 0 END AS f_zero,\n\
         CASE WHEN x.sid > x.first_ms OR x.first_ms - x.sid > {suspect} THEN 1 ELSE 0 END AS f_suspect,\n\
         CASE WHEN x.has_start = 1 AND x.has_end = 0 AND x.sid <> max(x.sid) OVER (PARTITION BY x.ukey) THEN 1 ELSE 0 END AS f_unterm,\n\
         CASE WHEN e.changed IS NOT NULL THEN 1 ELSE 0 END AS f_endp\n\
         FROM ss_sess AS x LEFT JOIN ss_bridge AS b ON b.ukey = x.ukey AND b.sid = x.sid \
         LEFT JOIN ss_endp AS e ON e.ukey = x.ukey AND e.sid = x.sid),\n\
         ss_ra AS (SELECT ukey, t, ord, CASE WHEN lag(t) OVER (PARTITION BY ukey ORDER BY t, ord) IS NULL \
         OR t - lag(t) OVER (PARTITION BY ukey ORDER BY t, ord) > {timeout} THEN 1 ELSE 0 END AS fresh\n\
         FROM ss_e WHERE sid IS NOT NULL AND cls = 'A'),\n\
         ss_rb AS (SELECT ukey, t, sum(fresh) OVER (PARTITION BY ukey ORDER BY t, ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS rid FROM ss_ra),\n\
         ss_replay AS (SELECT ukey, rid, max(t) - min(t) AS len FROM ss_rb GROUP BY ukey, rid)\n",
        loader_ctes = loader.ctes,
        start = list(d, &START_MARKERS),
        end = list(d, &END_MARKERS),
        inactive = list(d, &inactive),
        dedup = DEDUP_WINDOW_MS,
        suspect = SUSPECT_LEAD_MS,
    );
    let sum = |col: &str, from: &str| {
        format!("(SELECT CAST(coalesce(sum({col}), 0) AS BIGINT) FROM {from})")
    };
    let count = |from: &str| format!("(SELECT CAST(count(*) AS BIGINT) FROM {from})");
    let kind = "CASE substr(ukey, 1, 1) WHEN 'a' THEN 'amplitude_id' WHEN 'u' THEN 'user_id' ELSE 'device' END";
    let last = match opts.emit {
        Emit::Summary => format!(
            "{endp_note}SELECT\n\
             {events} AS events,\n\
             {rejected} + {extra} AS rejected,\n\
             (SELECT CAST(count(DISTINCT ukey) AS BIGINT) FROM ss_e) AS users,\n\
             {sessions} AS sessions,\n\
             {empty} AS empty_sessions,\n\
             {zero} AS zero_length_sessions,\n\
             {suspect} AS suspect_session_ids,\n\
             {out} AS out_of_session_events,\n\
             {gaps} AS gaps,\n\
             {bridged} AS bridged_gaps,\n\
             {unterm} AS unterminated_sessions,\n\
             {dups} AS duplicate_events,\n\
             {endp} AS end_props_changed_sessions,\n\
             {bgs} AS background_events,\n\
             {replayed} AS replayed_sessions,\n\
             CAST({timeout} AS BIGINT) AS timeout_ms,\n\
             CAST({gap} AS BIGINT) AS gap_ms,\n\
             (SELECT coalesce({rmed}, 0) FROM ss_sf) AS recorded_median_length_ms,\n\
             (SELECT coalesce({pmed}, 0) FROM ss_replay) AS replayed_median_length_ms",
            events = count("ss_e"),
            rejected = count("ss_rec WHERE rej IS NOT NULL"),
            extra = loader.extra_rejected,
            sessions = count("ss_sf"),
            empty = sum("f_empty", "ss_sf"),
            zero = sum("f_zero", "ss_sf"),
            suspect = sum("f_suspect", "ss_sf"),
            out = count("ss_e WHERE sid IS NULL"),
            gaps = sum("gaps", "ss_sf"),
            bridged = sum("bridged", "ss_sf"),
            unterm = sum("f_unterm", "ss_sf"),
            dups = sum("dup", "ss_e"),
            endp = endp_value(&sum("f_endp", "ss_sf")),
            bgs = sum("bg", "ss_s1"),
            replayed = count("ss_replay"),
            rmed = d.median("length_ms"),
            pmed = d.median("len"),
        ),
        Emit::Users => format!(
            "{endp_note}SELECT {kind} AS kind, substr(u.ukey, 3) AS id, u.events, u.first_event_ms, u.last_event_ms,\n\
             coalesce(s.sessions, 0) AS sessions, coalesce(s.empty_sessions, 0) AS empty_sessions,\n\
             coalesce(s.zero_length_sessions, 0) AS zero_length_sessions, coalesce(s.suspect_session_ids, 0) AS suspect_session_ids,\n\
             u.out_of_session_events, coalesce(s.gaps, 0) AS gaps, coalesce(s.bridged_gaps, 0) AS bridged_gaps,\n\
             coalesce(s.unterminated_sessions, 0) AS unterminated_sessions, u.duplicate_events,\n\
             {endp} AS end_props_changed_sessions, coalesce(s.background_events, 0) AS background_events,\n\
             coalesce(r.replayed_sessions, 0) AS replayed_sessions\n\
             FROM (SELECT ukey, CAST(count(*) AS BIGINT) AS events, min(t) AS first_event_ms, max(t) AS last_event_ms,\n\
             CAST(sum(CASE WHEN sid IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS out_of_session_events, \
             CAST(sum(dup) AS BIGINT) AS duplicate_events FROM ss_e GROUP BY ukey) AS u\n\
             LEFT JOIN (SELECT ukey, CAST(count(*) AS BIGINT) AS sessions, CAST(sum(f_empty) AS BIGINT) AS empty_sessions,\n\
             CAST(sum(f_zero) AS BIGINT) AS zero_length_sessions, CAST(sum(f_suspect) AS BIGINT) AS suspect_session_ids,\n\
             CAST(sum(gaps) AS BIGINT) AS gaps, CAST(sum(bridged) AS BIGINT) AS bridged_gaps, \
             CAST(sum(f_unterm) AS BIGINT) AS unterminated_sessions,\n\
             CAST(sum(f_endp) AS BIGINT) AS end_props_changed_sessions, CAST(sum(background) AS BIGINT) AS background_events\n\
             FROM ss_sf GROUP BY ukey) AS s ON s.ukey = u.ukey\n\
             LEFT JOIN (SELECT ukey, CAST(count(*) AS BIGINT) AS replayed_sessions FROM ss_replay GROUP BY ukey) AS r ON r.ukey = u.ukey\n\
             ORDER BY substr(u.ukey, 1, 1), substr(u.ukey, 3)",
            kind = kind.replace("ukey", "u.ukey"),
            endp = endp_value("coalesce(s.end_props_changed_sessions, 0)"),
        ),
        Emit::Sessions => format!(
            "{endp_note}SELECT {kind} AS kind, substr(ukey, 3) AS id, sid AS session_id, first_ms AS first_event_ms, \
             last_ms AS last_event_ms,\n\
             CAST(events AS BIGINT) AS events, CAST(active AS BIGINT) AS active_events, length_ms, span_ms, \
             CAST(gaps AS BIGINT) AS gaps, CAST(bridged AS BIGINT) AS bridged_gaps,\n\
             max_gap_ms, CAST(duplicates AS BIGINT) AS duplicates, CAST(background AS BIGINT) AS background_events,\n\
             f_empty = 1 AS empty, f_zero = 1 AS zero_length, f_suspect = 1 AS suspect_session_id, gaps > 0 AS gap, \
             bridged > 0 AS bridged_gap,\n\
             f_unterm = 1 AS unterminated, duplicates > 0 AS has_duplicates, {endp} AS end_props_changed, \
             background > 0 AS background\n\
             FROM ss_sf ORDER BY substr(ukey, 1, 1), substr(ukey, 3), sid",
            endp =
                endp_value("f_endp = 1").replace("CAST(NULL AS BIGINT)", "CAST(NULL AS BOOLEAN)"),
        ),
        Emit::UserEvents => {
            let key = d.lit(opts.user.as_deref().unwrap_or_default());
            format!(
                "-- The events of the users --user names (by user id, device id, Amplitude id or key), \
                 each row one NDJSON line: save the `event` column as a file and open it with streamscope.\n\
                 SELECT line AS event, {kind} AS user_kind, substr(ukey, 3) AS user_key, t AS time_ms\n\
                 FROM ss_e WHERE ukey IN (SELECT ukey FROM ss_e WHERE substr(ukey, 3) = {key} OR uid = {key} \
                 OR did = {key} OR aid = {key})\n\
                 ORDER BY substr(ukey, 1, 1), substr(ukey, 3), t, ord"
            )
        }
    };
    let Some(create) = d.create_temp("ss_rec") else {
        return vec![format!("{model}{last}")];
    };
    let (head, rest) = model.split_at(model.find("ss_ev AS (").unwrap_or(0));
    let (mid, tail) = rest.split_at(rest.find("ss_s1 AS (").unwrap_or(0));
    let loader_ctes = head.trim_end().trim_end_matches(',');
    let mid = mid.trim_end().trim_end_matches(',');
    let mut out = d.drop_temp("ss_rec");
    out.push(format!(
        "{create}\n{loader_ctes}\nSELECT src, ord, line, t, sid, et, uid, did, aid, dkey, props, skip, rej FROM ss_rec"
    ));
    out.extend(d.drop_temp("ss_e"));
    out.push(format!(
        "{}\nWITH {mid}\nSELECT * FROM ss_e",
        d.create_temp("ss_e").unwrap_or_default()
    ));
    out.push(format!("WITH {tail}{last}"));
    out
}
