//! Loaders: each input kind becomes the canonical relation `ss_rec`, one row per record
//! (an NDJSON line, or an element of a request body's `events`), with columns
//!
//! | column | meaning |
//! |---|---|
//! | `src`, `ord` | file name and input order (a number increasing in read order) |
//! | `rej` | the §1 rejection code (`invalid_json`, `not_object`, …), NULL when accepted |
//! | `t` | event time, ms UTC |
//! | `sid` | session id, NULL when out of session (-1, null, absent, unusable) |
//! | `et`, `uid`, `did`, `aid`, `dkey` | event type, user id, device id, Amplitude id, dedup key |
//! | `props`, `skip` | `user_properties` (JSON, `{}` when absent or null), `$skip_user_properties_sync` is `true` |
//! | `line` | the record's JSON text (for `--emit user-events`) |
//!
//! Raw-line loaders apply every §1 rule themselves, where the engine's JSON reader is more
//! lenient than RFC 8259 (DuckDB takes `NaN`, `Infinity` and trailing commas). Table
//! loaders read typed columns: what they cannot check is said in the script.

use super::{Dialect, Input, Options};
use crate::decode::TIME_FIELDS;

/// The value of the first present time field, in §1's order ([`TIME_FIELDS`]): later
/// fields are not tried once one is present, whatever its value.
fn first_present_time(present: impl Fn(&str) -> String, value: impl Fn(&str) -> String) -> String {
    let arms: String = TIME_FIELDS
        .iter()
        .map(|f| format!(" WHEN {} THEN {}", present(f), value(f)))
        .collect();
    format!("CASE{arms} END")
}

/// A loader: statements to run first, the CTEs defining `ss_rec`, and what the script must
/// say about it.
pub(super) struct Loader {
    /// Statements before the result (temporary relations).
    pub setup: Vec<String>,
    /// `name AS (…)` CTEs, comma-separated, the last one `ss_rec`.
    pub ctes: String,
    /// Records rejected before they reach `ss_rec` (an expression; `0` when none).
    pub extra_rejected: String,
    /// The body of a CTE `ss_canon(ord, c)` over `ss_need(ord, props)`: a canonical text of
    /// each `props` (equal text iff equal JSON values, key order ignored, numbers by
    /// value). `None` when the dialect cannot: `end_props_changed_sessions` is NULL.
    pub canon: Option<String>,
    /// Comment lines for the script's header.
    pub notes: Vec<String>,
}

/// The loader for `opts`' dialect and input.
pub(super) fn loader(opts: &Options) -> Result<Loader, String> {
    match (&opts.input, opts.dialect) {
        (Input::Files(paths), Dialect::DuckDb) => Ok(duckdb_files(paths)),
        (Input::Files(paths), Dialect::Spark) => Ok(spark_files(paths)),
        (Input::Files(_), d) => Err(format!(
            "{} reads Amplitude's export tables: give --table NAME (files are for duckdb and spark)",
            d.name()
        )),
        (Input::Table(table), d) => Ok(table_loader(d, table)),
    }
}

const ISO_RE: &str = "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]| UTC|[+-][0-9]{2}:?[0-9]{2})?";
const INT_RE: &str = "-?[0-9]+";

/// `cols` of a CTE that parses the time string `ts` (a column) of relation `from` into
/// `t_iso` (ms, or NULL when not an accepted ISO form), portable SQL: substrings, one
/// regular-expression replace and integer arithmetic (`days_from_civil`, shifted by 400
/// years so that every division is of non-negative numbers).
fn iso_ctes(
    d: Dialect,
    from: &str,
    keep: &str,
    full_match: &dyn Fn(&str, &str) -> String,
) -> String {
    let int = |e: &str| format!("CAST({e} AS BIGINT)");
    let sub = |s: &str, a: &str, n: &str| format!("substr({s}, {a}, {n})");
    let is_iso = full_match("ts", ISO_RE);
    let zone_expr = format!(
        "regexp_replace(substr(ts, 20), {}, '')",
        d.lit("^[.][0-9]+")
    );
    let p1 = format!(
        "ss_iso1 AS (SELECT {keep}, ts, t_num, t_kind,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN 1 ELSE 0 END AS iso_ok,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {y} END AS y,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {mo} END AS mo,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {dd} END AS dd,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {hh} END AS hh,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {mi} END AS mi,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {se} END AS se,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN {zone} END AS zone,\n\
         CASE WHEN t_kind = 's' AND {is_iso} THEN substr(ts, 20) END AS rest\n\
         FROM {from})",
        y = int(&sub("ts", "1", "4")),
        mo = int(&sub("ts", "6", "2")),
        dd = int(&sub("ts", "9", "2")),
        hh = int(&sub("ts", "12", "2")),
        mi = int(&sub("ts", "15", "2")),
        se = int(&sub("ts", "18", "2")),
        zone = zone_expr,
    );
    // Fraction: the first three digits, right-padded; zone: none, Z, z, " UTC", ±HH:MM, ±HHMM.
    let frac = "substr(rest, 2, length(rest) - length(zone) - 1)";
    let ms = format!(
        "CASE WHEN length(rest) > length(zone) THEN {} ELSE 0 END",
        int(&format!("substr({frac} || '00', 1, 3)"))
    );
    let utc = "zone IN ('', 'Z', 'z', ' UTC')";
    let oh = int("substr(zone, 2, 2)");
    let om = int("substr(zone, length(zone) - 1, 2)");
    let leap = format!(
        "({} = 0 AND ({} <> 0 OR {} = 0))",
        d.imod("y", "4"),
        d.imod("y", "100"),
        d.imod("y", "400")
    );
    let dim = format!(
        "CASE WHEN mo IN (4, 6, 9, 11) THEN 30 WHEN mo = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END"
    );
    let valid = format!(
        "iso_ok = 1 AND mo BETWEEN 1 AND 12 AND dd BETWEEN 1 AND {dim} AND hh <= 23 AND mi <= 59 AND se <= 60 \
         AND ({utc} OR ({oh} <= 23 AND {om} <= 59))"
    );
    // days_from_civil(y + 400, mo, dd) - 146097.
    let yy = "(y + 400 - CASE WHEN mo <= 2 THEN 1 ELSE 0 END)";
    let era = d.idiv(yy, "400");
    let yoe = format!("({yy} - {era} * 400)");
    let mp = "(CASE WHEN mo > 2 THEN mo - 3 ELSE mo + 9 END)";
    let doy = format!("({} + dd - 1)", d.idiv(&format!("153 * {mp} + 2"), "5"));
    let doe = format!(
        "({yoe} * 365 + {} - {} + {doy})",
        d.idiv(&yoe, "4"),
        d.idiv(&yoe, "100")
    );
    let days = format!("({era} * 146097 + {doe} - 719468 - 146097)");
    let offset = format!(
        "CASE WHEN {utc} THEN 0 ELSE (CASE WHEN substr(zone, 1, 1) = '-' THEN -1 ELSE 1 END) * ({oh} * 3600 + {om} * 60) END"
    );
    let p2 = format!(
        "ss_iso2 AS (SELECT {keep}, t_kind, CASE WHEN t_kind = 'n' THEN t_num WHEN {valid} THEN \
         ({days} * 86400 + hh * 3600 + mi * 60 + se - ({offset})) * 1000 + ({ms}) END AS t\n\
         FROM ss_iso1)"
    );
    format!("{p1},\n{p2}")
}

/// The §1 checks over parsed records: `rej` and the fields, from a relation with `pre`
/// (a rejection decided before: invalid JSON, not an object), `et`, `uid`, `did`, `aid`,
/// `t_kind` (`m` missing, `n` number, `s` string, `x` other) and `t`.
fn rec_cte(keep: &str) -> String {
    format!(
        "ss_rec AS (SELECT {keep}, CASE WHEN pre IS NOT NULL THEN pre \
         WHEN et IS NULL THEN 'missing_event_type' \
         WHEN uid IS NULL AND did IS NULL AND aid IS NULL THEN 'missing_identity' \
         WHEN t_kind = 'm' THEN 'missing_time' \
         WHEN t IS NULL THEN 'invalid_time' END AS rej, t\n\
         FROM ss_iso2)"
    )
}

fn duckdb_files(paths: &[String]) -> Loader {
    let d = Dialect::DuckDb;
    let list: Vec<String> = paths.iter().map(|p| d.lit(p)).collect();
    let setup = vec![
        "DROP TABLE IF EXISTS ss_rejects".to_string(),
        "DROP TABLE IF EXISTS ss_rejects_scan".to_string(),
        format!(
            "-- Raw lines, split on \\n only (a trailing \\r and a leading BOM are dropped by the \
             reader), numbered in read order.\n\
             -- A column delimiter of NUL: JSON text never holds a raw NUL, so a line with one \
             gets a non-NULL `rest` and is rejected (no field reads as NULL: nullstr is a text no line holds).\n\
             -- Lines that are not UTF-8 are kept out by the reader and counted from ss_rejects \
             as invalid JSON.\n\
             CREATE OR REPLACE TEMP TABLE ss_lines AS\n\
             SELECT filename AS src, row_number() OVER () AS ln, line, rest\n\
             FROM read_csv([{}], columns = {{'line': 'VARCHAR', 'rest': 'VARCHAR'}}, delim = chr(0), \
             quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, \
             null_padding = true, nullstr = chr(1) || chr(2) || 'streamscope-null', new_line = '\\n', filename = true, max_line_size = 67108864, \
             store_rejects = true, rejects_table = 'ss_rejects', rejects_scan = 'ss_rejects_scan')",
            list.join(", ")
        ),
    ];
    let fm = |col: &str, re: &str| format!("regexp_full_match({col}, {})", d.lit(re));
    // Lone UTF-16 surrogate escapes are valid RFC 8259 but not to DuckDB: dropped (pairs
    // and escaped backslashes kept). Then DuckDB's extensions are refused: NaN, Inf(inity)
    // and trailing commas outside strings.
    let fixed = format!(
        "CASE WHEN regexp_matches(line, {probe}) THEN regexp_replace(line, {pat}, '\\1', 'g') ELSE line END",
        probe = d.lit(r"\\u[dD][89a-fA-F]"),
        pat = d.lit(
            r"(\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
        ),
    );
    let skeleton = format!(
        "regexp_replace(txt, {}, '\"\"', 'g')",
        d.lit(r#""([^"\\]|\\.)*""#)
    );
    let lenient = d.lit(r"[nN][aA][nN]|[iI][nN][fF]|,[ \t\n\r]*[\]}]");
    let ts = |field: &str| format!("json_extract(j, {})", d.lit(&format!("$.\"{field}\"")));
    let ty = |field: &str| {
        format!(
            "coalesce(json_type(j, {}), 'NULL')",
            d.lit(&format!("$.\"{field}\""))
        )
    };
    let s = |field: &str| {
        format!(
            "CASE WHEN {} = 'VARCHAR' THEN nullif(json_extract_string(j, {}), '') END",
            ty(field),
            d.lit(&format!("$.\"{field}\""))
        )
    };
    let present = |field: &str| format!("{} <> 'NULL'", ty(field));
    let tj = first_present_time(present, ts);
    let numeric = "('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE')";
    let aid = format!(
        "CASE WHEN {ty} = 'VARCHAR' THEN nullif(json_extract_string(j, '$.amplitude_id'), '') \
         WHEN {ty} IN {numeric} AND {m} THEN CAST(json_extract(j, '$.amplitude_id') AS VARCHAR) END",
        ty = ty("amplitude_id"),
        m = fm("CAST(json_extract(j, '$.amplitude_id') AS VARCHAR)", INT_RE),
    );
    let sj = "json_extract(j, '$.session_id')";
    let sraw = format!("CAST({sj} AS VARCHAR)");
    let sid = format!(
        "nullif(CASE WHEN json_type({sj}) IN {numeric} AND {m1} THEN TRY_CAST({sraw} AS BIGINT) \
         WHEN json_type({sj}) = 'VARCHAR' AND NOT contains({sraw}, '\\') AND {m2} \
         THEN TRY_CAST(json_extract_string({sj}, '$') AS BIGINT) END, -1)",
        m1 = fm(&sraw, INT_RE),
        m2 = fm(&format!("json_extract_string({sj}, '$')"), INT_RE),
    );
    let keep = "src, ord, pre, line, et, uid, did, aid, sid, dkey, props, skip";
    let ctes = format!(
        "ss_l AS (\n\
         SELECT src, ln, rest IS NULL AND json_valid(txt) AND NOT regexp_matches({skeleton}, {lenient}) AS ok, txt\n\
         FROM (SELECT src, ln, rest, {fixed} AS txt FROM ss_lines\n\
               WHERE line IS NOT NULL AND NOT {blank})),\n\
         -- One JSON value per line; an Airbyte RECORD message stands for its record.data.\n\
         ss_j AS (\n\
         SELECT src, ln, ok, CASE WHEN NOT ok THEN NULL\n\
           WHEN json_type(v) = 'OBJECT' AND {no_et} AND json_type(v, '$.type') = 'VARCHAR' \
         AND json_extract_string(v, '$.type') = 'RECORD' AND NOT contains(CAST(json_extract(v, '$.type') AS VARCHAR), '\\') \
         AND json_type(v, '$.record.data') = 'OBJECT' THEN json_extract(v, '$.record.data') ELSE v END AS j\n\
         FROM (SELECT src, ln, ok, CASE WHEN ok THEN CAST(txt AS JSON) END AS v FROM ss_l)),\n\
         -- Records: each line, or each element of a request body's / User Activity response's events.\n\
         ss_r AS (\n\
         SELECT src, ln * 1000000 AS ord, CASE WHEN NOT ok THEN 'invalid_json' WHEN json_type(j) <> 'OBJECT' \
         THEN 'not_object' END AS pre, j\n\
         FROM ss_j WHERE NOT (ok AND json_type(j) = 'OBJECT' AND {no_et_j} AND coalesce(json_type(j, '$.events'), '') = 'ARRAY')\n\
         UNION ALL\n\
         SELECT src, ln * 1000000 + 1 + CAST(e.key AS BIGINT) AS ord, \
         CASE WHEN json_type(e.value) <> 'OBJECT' THEN 'not_object' END AS pre, e.value AS j\n\
         FROM ss_j, json_each(json_extract(ss_j.j, '$.events')) AS e\n\
         WHERE ok AND json_type(ss_j.j) = 'OBJECT' AND {no_et_sj} AND json_type(ss_j.j, '$.events') = 'ARRAY'),\n\
         ss_f AS (\n\
         SELECT src, ord, pre, CAST(j AS VARCHAR) AS line,\n\
         {et} AS et, {uid} AS uid, {did} AS did, {aid} AS aid, {sid} AS sid,\n\
         coalesce({ins}, {dins}, {uuid}) AS dkey,\n\
         CASE WHEN {props_ty} IN ('NULL') THEN CAST('{{}}' AS JSON) ELSE json_extract(j, '$.user_properties') END AS props,\n\
         coalesce({skip_ty} = 'BOOLEAN' AND CAST(json_extract(j, '$.\"$skip_user_properties_sync\"') AS VARCHAR) = 'true', false) AS skip,\n\
         {tj} AS tj\n\
         FROM ss_r),\n\
         ss_tv AS (\n\
         SELECT {keep}, CASE WHEN tj IS NULL THEN 'm' WHEN json_type(tj) IN {numeric} THEN 'n' \
         WHEN json_type(tj) = 'VARCHAR' THEN 's' ELSE 'x' END AS t_kind,\n\
         CASE WHEN json_type(tj) IN {numeric} AND {tnum_m} THEN TRY_CAST(CAST(tj AS VARCHAR) AS BIGINT) \
         WHEN json_type(tj) = 'VARCHAR' AND {tstr_m} THEN TRY_CAST(json_extract_string(tj, '$') AS BIGINT) END AS t_num0,\n\
         CASE WHEN json_type(tj) = 'VARCHAR' THEN json_extract_string(tj, '$') END AS ts\n\
         FROM ss_f),\n\
         ss_tv2 AS (SELECT {keep}, CASE WHEN t_kind = 's' AND t_num0 IS NULL AND NOT {tstr_int} THEN 's' \
         WHEN t_kind IN ('n', 's') THEN 'n' ELSE t_kind END AS t_kind, t_num0 AS t_num, ts FROM ss_tv),\n\
         {iso},\n\
         {rec}",
        blank = fm("line", "[ \t\u{c}\r]*"),
        no_et = "coalesce(json_type(v, '$.event_type'), 'NULL') = 'NULL'",
        no_et_j = "coalesce(json_type(j, '$.event_type'), 'NULL') = 'NULL'",
        no_et_sj = "coalesce(json_type(ss_j.j, '$.event_type'), 'NULL') = 'NULL'",
        et = s("event_type"),
        uid = s("user_id"),
        did = s("device_id"),
        ins = s("insert_id"),
        dins = s("$insert_id"),
        uuid = s("uuid"),
        props_ty = ty("user_properties"),
        skip_ty = ty("$skip_user_properties_sync"),
        tnum_m = fm("CAST(tj AS VARCHAR)", INT_RE),
        tstr_m = fm("json_extract_string(tj, '$')", INT_RE),
        tstr_int = fm("ts", INT_RE),
        iso = iso_ctes(d, "ss_tv2", keep, &fm),
        rec = rec_cte("src, ord, line, et, uid, did, aid, sid, dkey, props, skip"),
    );
    Loader {
        setup,
        ctes,
        extra_rejected: "(SELECT count(*) FROM ss_rejects)".into(),
        canon: Some(
            "SELECT n.ord, string_agg(jt.fullkey || '=' || CASE \
             WHEN jt.type IN ('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE') THEN CAST(CAST(jt.atom AS DOUBLE) + 0.0 AS VARCHAR) \
             WHEN jt.type IN ('OBJECT', 'ARRAY') THEN jt.type ELSE CAST(jt.atom AS VARCHAR) END, ',' ORDER BY jt.fullkey) AS c\n\
             FROM ss_need AS n, json_tree(n.props) AS jt GROUP BY n.ord"
                .into(),
        ),
        notes: vec![
            "Loader: DuckDB read_csv over raw lines; every rule of SESSION-MODEL.md §1 is checked here \
             (RFC 8259 JSON: NaN, Infinity and trailing commas,\n\
             which DuckDB's JSON reader accepts, are rejected; two values on a line are rejected), \
             request bodies and User Activity responses are expanded, Airbyte RECORDs unwrapped.\n\
             Not checked here, unlike report: legacy amplitude-js form-encoded lines (they count as invalid JSON), \
             a key repeated in one object (DuckDB reads the first, report the last),\n\
             Export .zip archives, JSON arrays and pretty-printed documents (NDJSON and .json.gz only), \
             gzip nested in gzip and damaged gzip (DuckDB stops with an error), \
             integers over 2^53 in user_properties (compared as doubles)."
                .into(),
        ],
    }
}

fn spark_files(paths: &[String]) -> Loader {
    let d = Dialect::Spark;
    let branches: Vec<String> = paths
        .iter()
        .enumerate()
        .map(|(k, p)| {
            format!(
                "SELECT input_file_name() AS src, {k} * 1000000000000000 + monotonically_increasing_id() AS ln, value AS line \
                 FROM text.`{}`",
                p.replace('`', "``")
            )
        })
        .collect();
    let setup = vec![format!(
        "-- Raw lines of each source (Spark's text source: gzip read by extension), numbered in read order.\n\
         CREATE OR REPLACE TEMPORARY VIEW ss_lines AS\n{}",
        branches.join("\nUNION ALL\n")
    )];
    let fm = |col: &str, re: &str| format!("({col} rlike {})", d.lit(&format!("^({re})$")));
    let path = |field: &str| d.lit(&format!("$['{field}']"));
    let ty = |field: &str| {
        format!(
            "coalesce(schema_of_variant(variant_get(j, {})), 'VOID')",
            path(field)
        )
    };
    let s = |field: &str| {
        format!(
            "CASE WHEN {} = 'STRING' THEN nullif(try_variant_get(j, {}, 'string'), '') END",
            ty(field),
            path(field)
        )
    };
    let present = |field: &str| format!("{} <> 'VOID'", ty(field));
    let raw = |field: &str| format!("variant_get(j, {})", path(field));
    let tj = first_present_time(present, raw);
    let aid = format!(
        "CASE WHEN {ty} = 'STRING' THEN nullif(try_variant_get(j, '$.amplitude_id', 'string'), '') \
         WHEN {ty} = 'BIGINT' THEN to_json(variant_get(j, '$.amplitude_id')) END",
        ty = ty("amplitude_id"),
    );
    let sty = ty("session_id");
    let sid = format!(
        "nullif(CASE WHEN {sty} = 'BIGINT' THEN try_variant_get(j, '$.session_id', 'bigint') \
         WHEN {sty} = 'STRING' AND {m} THEN try_cast(try_variant_get(j, '$.session_id', 'string') AS BIGINT) END, -1)",
        m = fm("try_variant_get(j, '$.session_id', 'string')", INT_RE),
    );
    let keep = "src, ord, pre, line, et, uid, did, aid, sid, dkey, props, skip";
    let no_et = |v: &str| {
        format!("coalesce(schema_of_variant(variant_get({v}, '$.event_type')), 'VOID') = 'VOID'")
    };
    let is_obj = |v: &str| format!("coalesce(schema_of_variant({v}), '') LIKE 'OBJECT%'");
    let ctes = format!(
        "ss_l AS (\n\
         SELECT src, ln, txt, try_parse_json(txt) IS NOT NULL AND try_parse_json('[' || txt || ']') IS NOT NULL \
         AND try_parse_json('{{\"x\":' || txt || '}}') IS NOT NULL AND NOT contains(txt, {fffd}) AS ok\n\
         FROM (SELECT src, ln, regexp_replace(CASE WHEN line rlike {probe} THEN regexp_replace(line, {pat}, '$1') ELSE line END, {bom}, '') AS txt\n\
               FROM ss_lines) AS l0\n\
         WHERE NOT {blank}),\n\
         ss_j AS (\n\
         SELECT src, ln, ok, CASE WHEN NOT ok THEN NULL\n\
           WHEN {obj_v} AND {no_et_v} AND coalesce(schema_of_variant(variant_get(v, '$.type')), '') = 'STRING' \
         AND try_variant_get(v, '$.type', 'string') = 'RECORD' AND coalesce(schema_of_variant(variant_get(v, '$.record.data')), '') LIKE 'OBJECT%' \
         THEN variant_get(v, '$.record.data') ELSE v END AS j\n\
         FROM (SELECT src, ln, ok, CASE WHEN ok THEN try_parse_json(txt) END AS v FROM ss_l) AS l1),\n\
         ss_body AS (SELECT src, ln, ok, j, ok AND {obj_j} AND {no_et_j} AND \
         coalesce(schema_of_variant(variant_get(j, '$.events')), '') LIKE 'ARRAY%' AS is_body FROM ss_j),\n\
         ss_r AS (\n\
         SELECT src, ln * 1000000 AS ord, CASE WHEN NOT ok THEN 'invalid_json' WHEN NOT {obj_j} THEN 'not_object' END AS pre, j\n\
         FROM ss_body WHERE NOT is_body\n\
         UNION ALL\n\
         SELECT b.src, b.ln * 1000000 + 1 + e.pos AS ord, CASE WHEN NOT {obj_ev} THEN 'not_object' END AS pre, e.value AS j\n\
         FROM ss_body AS b, LATERAL variant_explode(variant_get(b.j, '$.events')) AS e\n\
         WHERE b.is_body),\n\
         ss_f AS (\n\
         SELECT src, ord, pre, to_json(j) AS line,\n\
         {et} AS et, {uid} AS uid, {did} AS did, {aid} AS aid, {sid} AS sid,\n\
         coalesce({ins}, {dins}, {uuid}) AS dkey,\n\
         CASE WHEN {props_ty} = 'VOID' THEN '{{}}' ELSE to_json(variant_get(j, '$.user_properties')) END AS props,\n\
         coalesce({skip_ty} = 'BOOLEAN' AND try_variant_get(j, {skip_path}, 'boolean'), false) AS skip,\n\
         {tj} AS tj\n\
         FROM ss_r),\n\
         ss_tv AS (\n\
         SELECT {keep}, CASE WHEN tj IS NULL THEN 'm' WHEN schema_of_variant(tj) = 'BIGINT' THEN 'n' \
         WHEN schema_of_variant(tj) LIKE 'DECIMAL%' OR schema_of_variant(tj) = 'DOUBLE' THEN 'x' \
         WHEN schema_of_variant(tj) = 'STRING' THEN 's' ELSE 'x' END AS t_kind,\n\
         CASE WHEN schema_of_variant(tj) = 'BIGINT' THEN try_variant_get(tj, '$', 'bigint') \
         WHEN schema_of_variant(tj) = 'STRING' AND {tstr_m} THEN try_cast(try_variant_get(tj, '$', 'string') AS BIGINT) END AS t_num0,\n\
         CASE WHEN schema_of_variant(tj) = 'STRING' THEN try_variant_get(tj, '$', 'string') END AS ts\n\
         FROM ss_f),\n\
         ss_tv2 AS (SELECT {keep}, CASE WHEN t_kind = 's' AND t_num0 IS NULL AND NOT {tstr_int} THEN 's' \
         WHEN t_kind IN ('n', 's') THEN 'n' ELSE t_kind END AS t_kind, t_num0 AS t_num, ts FROM ss_tv),\n\
         {iso},\n\
         {rec}",
        fffd = d.lit("\u{fffd}"),
        probe = d.lit(r"\\u[dD][89a-fA-F]"),
        pat = d.lit(
            r"(\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
        ),
        bom = d.lit("^\u{feff}"),
        blank = fm("txt", "[ \t\u{c}\r]*"),
        obj_v = is_obj("v"),
        obj_j = is_obj("j"),
        obj_ev = is_obj("e.value"),
        no_et_v = no_et("v"),
        no_et_j = no_et("j"),
        et = s("event_type"),
        uid = s("user_id"),
        did = s("device_id"),
        ins = s("insert_id"),
        dins = s("$insert_id"),
        uuid = s("uuid"),
        props_ty = ty("user_properties"),
        skip_ty = ty("$skip_user_properties_sync"),
        skip_path = path("$skip_user_properties_sync"),
        tstr_m = fm("try_variant_get(tj, '$', 'string')", INT_RE),
        tstr_int = fm("ts", INT_RE),
        iso = iso_ctes(d, "ss_tv2", keep, &fm),
        rec = rec_cte("src, ord, line, et, uid, did, aid, sid, dkey, props, skip"),
    );
    Loader {
        setup,
        ctes,
        extra_rejected: "0".into(),
        canon: Some("SELECT ord, props AS c FROM ss_need".into()),
        notes: vec![
            "Loader: Spark's text source over raw lines, parsed with try_parse_json (Spark 4; RFC 8259 but for a second \
             value on a line, which is refused here by parsing the line inside [ ] and {\"x\": } too).\n\
             Request bodies and User Activity responses are expanded, Airbyte RECORDs unwrapped.\n\
             Not as report: a line Spark cannot decode as UTF-8 (it holds U+FFFD after decoding, so any line with U+FFFD) \
             is invalid JSON; an object with a repeated key is invalid JSON (report keeps the last);\n\
             a BOM is dropped at the start of every line (report: of a file); lines also split at a lone \\r;\n\
             user_properties compare as Spark's to_json of the parsed value (keys sorted, numbers in Spark's decimal form: 1 = 1.0, \
             but 1e0 is a double and differs);\n\
             legacy amplitude-js form-encoded lines, .zip archives, JSON arrays and pretty-printed documents are not read; \
             s3:// paths are read as s3a:// by Hadoop."
                .into(),
        ],
    }
}

fn table_loader(d: Dialect, table: &str) -> Loader {
    // Identifiers: a table name is given as the engine spells it (project.dataset.table,
    // db.schema.table); only the `$insert_id` column needs quoting.
    let (insert_id, ms, line) = match d {
        Dialect::Snowflake => (
            "\"$insert_id\"",
            "DATE_PART(EPOCH_MILLISECOND, client_event_time)",
            "TO_JSON(OBJECT_CONSTRUCT('event_type', et, 'user_id', uid, 'device_id', did, 'amplitude_id', aid, \
             'time', t, 'session_id', sid, '$insert_id', dkey, 'user_properties', props))",
        ),
        Dialect::BigQuery => (
            "insert_id",
            "UNIX_MILLIS(client_event_time)",
            "TO_JSON_STRING(STRUCT(et AS event_type, uid AS user_id, did AS device_id, aid AS amplitude_id, \
             t AS time, sid AS session_id, dkey AS insert_id))",
        ),
        Dialect::Trino => (
            "\"$insert_id\"",
            "CAST(floor(to_unixtime(client_event_time) * 1000) AS BIGINT)",
            "json_format(CAST(CAST(ROW(et, uid, did, aid, t, sid, dkey) AS ROW(event_type VARCHAR, user_id VARCHAR, \
             device_id VARCHAR, amplitude_id VARCHAR, time BIGINT, session_id BIGINT, insert_id VARCHAR)) AS JSON))",
        ),
        Dialect::Spark | Dialect::DuckDb => (
            "`$insert_id`",
            "unix_millis(client_event_time)",
            "to_json(named_struct('event_type', et, 'user_id', uid, 'device_id', did, 'amplitude_id', aid, \
             'time', t, 'session_id', sid, 'insert_id', dkey))",
        ),
    };
    let insert_id = if d == Dialect::DuckDb {
        "\"$insert_id\""
    } else {
        insert_id
    };
    let ms = if d == Dialect::DuckDb {
        "epoch_ms(client_event_time)"
    } else {
        ms
    };
    let line = if d == Dialect::DuckDb {
        "CAST(json_object('event_type', et, 'user_id', uid, 'device_id', did, 'amplitude_id', aid, 'time', t, \
         'session_id', sid, 'insert_id', dkey) AS VARCHAR)"
    } else {
        line
    };
    let text = match d {
        Dialect::BigQuery | Dialect::Spark => "STRING",
        _ => "VARCHAR",
    };
    let ctes = format!(
        "ss_t0 AS (\n\
         SELECT 'table' AS src,\n\
         -- No input order in a table: ties are broken by uuid, then the dedup key.\n\
         row_number() OVER (ORDER BY client_event_time, uuid, {insert_id}) AS ord,\n\
         nullif(CAST(event_type AS {text}), '') AS et, nullif(CAST(user_id AS {text}), '') AS uid,\n\
         nullif(CAST(device_id AS {text}), '') AS did, nullif(CAST(amplitude_id AS {text}), '') AS aid,\n\
         {ms} AS t, nullif(CAST(session_id AS BIGINT), -1) AS sid,\n\
         nullif(CAST({insert_id} AS {text}), '') AS dkey, CAST(NULL AS {text}) AS props, false AS skip\n\
         FROM {table}),\n\
         ss_rec AS (SELECT src, ord, {line} AS line, et, uid, did, aid, sid, dkey, props, skip, t,\n\
         CASE WHEN et IS NULL THEN 'missing_event_type' WHEN uid IS NULL AND did IS NULL AND aid IS NULL THEN 'missing_identity' \
         WHEN t IS NULL THEN 'missing_time' END AS rej\n\
         FROM ss_t0)"
    );
    let shown = table.replace(|c: char| c.is_control(), " ");
    Loader {
        setup: Vec::new(),
        ctes,
        extra_rejected: "0".into(),
        canon: None,
        notes: vec![format!(
            "Loader: the typed table {shown} with Amplitude's export columns (event_type, user_id, device_id, amplitude_id, \
             client_event_time as a TIMESTAMP, session_id, uuid, user_properties, and the dedup key {insert_id}).\n\
             Not checked, unlike report: the raw JSON (invalid JSON, not an object, time forms) is gone in a typed table, \
             so `rejected` counts only rows without an event type, identity or time.\n\
             Duplicates are countable only where the {insert_id} column exists (some export schemas have none: \
             replace it by NULL, and duplicate_events is then 0, not report's figure).\n\
             A table has no input order: events at the same millisecond are ordered by uuid, then {insert_id}, \
             so §2's same-millisecond ties and anything ordered by them can differ from report.\n\
             end_props_changed_sessions is NULL: user_properties are not compared here."
        )],
    }
}
