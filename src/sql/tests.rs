//! Each dialect switch, and the script's shape. Whether the SQL computes what `report`
//! computes is checked by running it (tests/it/sql.rs).

use super::*;
use crate::analysis::Rules;

fn opts(dialect: Dialect, input: Input, emit: Emit) -> Options {
    Options {
        dialect,
        input,
        rules: Rules::default(),
        emit,
        user: None,
    }
}

fn files() -> Input {
    Input::Files(vec!["events/*.json.gz".into()])
}

fn table() -> Input {
    Input::Table("analytics.events_123".into())
}

#[test]
fn ignore_nulls_is_spelled_per_dialect() {
    let w = "PARTITION BY a ORDER BY b";
    let cases = [
        (
            Dialect::DuckDb,
            "last_value(x IGNORE NULLS) OVER (PARTITION BY a ORDER BY b)",
        ),
        (
            Dialect::BigQuery,
            "last_value(x IGNORE NULLS) OVER (PARTITION BY a ORDER BY b)",
        ),
        (
            Dialect::Snowflake,
            "last_value(x) IGNORE NULLS OVER (PARTITION BY a ORDER BY b)",
        ),
        (
            Dialect::Trino,
            "last_value(x) IGNORE NULLS OVER (PARTITION BY a ORDER BY b)",
        ),
        (
            Dialect::Spark,
            "last_value(x, true) OVER (PARTITION BY a ORDER BY b)",
        ),
    ];
    for (d, want) in cases {
        assert_eq!(d.last_value_ignore_nulls("x", w), want, "{}", d.name());
        assert_eq!(
            d.first_value_ignore_nulls("x", w),
            want.replace("last_value", "first_value"),
            "{}",
            d.name()
        );
    }
}

#[test]
fn median_is_exact_except_in_bigquery_and_trino_which_say_so() {
    let cases = [
        (Dialect::DuckDb, "CAST(floor(median(v)) AS BIGINT)", true),
        (
            Dialect::Spark,
            "CAST(floor(percentile(v, 0.5)) AS BIGINT)",
            true,
        ),
        (Dialect::Snowflake, "CAST(FLOOR(MEDIAN(v)) AS BIGINT)", true),
        (
            Dialect::BigQuery,
            "APPROX_QUANTILES(v, 2)[OFFSET(1)]",
            false,
        ),
        (
            Dialect::Trino,
            "CAST(approx_percentile(v, 0.5) AS BIGINT)",
            false,
        ),
    ];
    for (d, want, exact) in cases {
        assert_eq!(d.median("v"), want, "{}", d.name());
        assert_eq!(d.exact_median(), exact, "{}", d.name());
        let input = if matches!(d, Dialect::DuckDb | Dialect::Spark) {
            files()
        } else {
            table()
        };
        let sql = script(&opts(d, input, Emit::Summary)).unwrap();
        assert_eq!(sql.contains("APPROXIMATE"), !exact, "{}", d.name());
    }
}

#[test]
fn literal_rows_are_values_or_unnest_and_temp_relations_views_or_tables() {
    let rows = vec![vec!["1".to_string(), "'a'".to_string()]];
    assert_eq!(
        Dialect::DuckDb.rows(&["n", "s"], &rows),
        "SELECT * FROM (VALUES (1, 'a')) AS v(n, s)"
    );
    assert_eq!(
        Dialect::BigQuery.rows(&["n", "s"], &rows),
        "SELECT * FROM UNNEST([STRUCT(1 AS n, 'a' AS s)])"
    );
    assert_eq!(
        Dialect::Spark.create_temp("x").as_deref(),
        Some("CACHE TABLE x AS")
    );
    assert_eq!(
        Dialect::Spark.drop_temp("x"),
        ["UNCACHE TABLE IF EXISTS x", "DROP VIEW IF EXISTS x"]
    );
    assert!(Dialect::DuckDb.drop_temp("x").is_empty());
    assert_eq!(
        Dialect::DuckDb.create_temp("x").as_deref(),
        Some("CREATE OR REPLACE TEMP TABLE x AS")
    );
    assert_eq!(
        Dialect::Snowflake.create_temp("x").as_deref(),
        Some("CREATE OR REPLACE TEMPORARY TABLE x AS")
    );
    assert_eq!(
        Dialect::BigQuery.create_temp("x").as_deref(),
        Some("CREATE TEMP TABLE x AS")
    );
    assert_eq!(Dialect::Trino.create_temp("x"), None);
}

#[test]
fn string_literals_survive_each_dialects_escapes() {
    let s = r"it's a \d";
    assert_eq!(Dialect::DuckDb.lit(s), r"'it''s a \d'");
    assert_eq!(Dialect::Trino.lit(s), r"'it''s a \d'");
    for d in [Dialect::Spark, Dialect::BigQuery, Dialect::Snowflake] {
        assert_eq!(d.lit(s), r"'it\'s a \\d'", "{}", d.name());
    }
}

#[test]
fn integer_division_is_spelled_per_dialect() {
    assert_eq!(Dialect::DuckDb.idiv("a", "b"), "((a) // (b))");
    assert_eq!(Dialect::Spark.idiv("a", "b"), "((a) div (b))");
    assert_eq!(Dialect::BigQuery.idiv("a", "b"), "DIV(a, b)");
    assert_eq!(Dialect::Trino.idiv("a", "b"), "((a) / (b))");
    assert_eq!(Dialect::BigQuery.imod("a", "b"), "MOD(a, b)");
    assert_eq!(Dialect::DuckDb.imod("a", "b"), "((a) % (b))");
}

#[test]
fn the_summary_returns_every_section_5_key_in_order() {
    let sql = script(&opts(Dialect::DuckDb, files(), Emit::Summary)).unwrap();
    let last = &sql[sql.rfind("\nSELECT\n").unwrap()..];
    let keys = [
        "events",
        "rejected",
        "users",
        "sessions",
        "empty_sessions",
        "zero_length_sessions",
        "suspect_session_ids",
        "out_of_session_events",
        "gaps",
        "bridged_gaps",
        "unterminated_sessions",
        "duplicate_events",
        "end_props_changed_sessions",
        "background_events",
        "replayed_sessions",
        "timeout_ms",
        "gap_ms",
    ];
    let mut at = 0;
    for k in keys {
        let found = last[at..]
            .find(&format!(" AS {k},"))
            .unwrap_or_else(|| panic!("{k} missing or out of order"));
        at += found + 1;
    }
    assert!(sql.trim_end().ends_with(';'));
}

#[test]
fn settings_reach_the_script() {
    let mut o = opts(Dialect::DuckDb, files(), Emit::Summary);
    o.rules = Rules {
        timeout_ms: 300_000,
        gap_ms: 60_000,
        inactive: vec!["Heart'beat".into()],
    };
    let sql = script(&o).unwrap();
    assert!(sql.contains("> 300000"));
    assert!(sql.contains("> 60000"));
    assert!(sql.contains("'Heart''beat'"));
    assert!(sql.contains("CAST(300000 AS BIGINT) AS timeout_ms"));
}

#[test]
fn files_are_for_duckdb_and_spark_and_user_events_needs_a_user() {
    for d in [Dialect::BigQuery, Dialect::Snowflake, Dialect::Trino] {
        let e = script(&opts(d, files(), Emit::Summary)).unwrap_err();
        assert!(e.contains("--table"), "{e}");
    }
    let e = script(&opts(Dialect::DuckDb, files(), Emit::UserEvents)).unwrap_err();
    assert!(e.contains("--user"), "{e}");
    let mut o = opts(Dialect::DuckDb, files(), Emit::Users);
    o.user = Some("ana".into());
    assert!(script(&o).is_err());
    o.emit = Emit::UserEvents;
    let sql = script(&o).unwrap();
    assert!(sql.contains("= 'ana'"));
}

#[test]
fn sources_are_quoted_not_spliced() {
    let o = opts(
        Dialect::DuckDb,
        Input::Files(vec!["x'); DROP TABLE t; --".into()]),
        Emit::Summary,
    );
    let sql = script(&o).unwrap();
    assert!(sql.contains("'x''); DROP TABLE t; --'"));
}

#[test]
fn names_from_the_command_line_never_escape_their_place() {
    // A table name is an identifier: anything else is refused.
    for bad in ["t\nDROP TABLE x", "t; DROP TABLE x", "", "t -- x"] {
        let o = opts(Dialect::Snowflake, Input::Table(bad.into()), Emit::Summary);
        assert!(script(&o).is_err(), "{bad:?}");
    }
    for good in [
        "my-project.amplitude.EVENTS_123",
        "DB.\"PUBLIC\".EVENTS_1",
        "`p.d.t`",
    ] {
        let o = opts(Dialect::BigQuery, Input::Table(good.into()), Emit::Summary);
        assert!(script(&o).is_ok(), "{good:?}");
    }
    // An inactive type is a string literal, and never ends the header's comment.
    let mut o = opts(Dialect::DuckDb, files(), Emit::Summary);
    o.rules.inactive = vec!["a\nDROP TABLE y".into()];
    let sql = script(&o).unwrap();
    assert!(
        sql.lines()
            .next()
            .unwrap()
            .contains("inactive types: a DROP TABLE y")
    );
    // Elsewhere only inside the literal.
    assert_eq!(
        sql.matches("DROP TABLE y").count(),
        1 + sql.matches("'a\nDROP TABLE y'").count()
    );
    assert!(sql.contains("'a\nDROP TABLE y'"));
}
