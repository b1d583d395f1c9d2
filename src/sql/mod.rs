//! `streamscope sql`: the session model of `SESSION-MODEL.md` as one SQL script, for the
//! engines where a whole project's history already lives (DuckDB, Spark, BigQuery,
//! Snowflake, Trino).
//!
//! Pure string generation (core: no I/O). The script has two layers:
//! - a *loader* per input kind (`load.rs`): raw NDJSON / Export `.json.gz` lines (files,
//!   globs, `s3://`) or a warehouse export table, turned into one canonical relation
//!   `ss_rec`, one row per record with the §1 rejection reason (or none) and the fields
//!   §1 reads, plus input order (`src`, `ord`);
//! - one *model* over it (`model.rs`): §2 users, §3 sessions, flags and duplicates, §4
//!   replay, and the §5 summary (or per-user / per-session rows, or one user's events).
//!
//! Only three things differ by dialect in the model ([`Dialect`]): how IGNORE NULLS is
//! spelled, exact vs approximate median, and how a relation of literal rows is written
//! (VALUES vs UNNEST) and a temporary relation is created (view vs table). Integer
//! division and string literals are spelled per dialect too (they are not SQL-standard).

mod load;
mod model;

/// A SQL engine the script is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB (CLI or Python `execute`).
    DuckDb,
    /// Spark SQL (`spark-sql`, `spark.sql(...)`).
    Spark,
    /// Google BigQuery (GoogleSQL).
    BigQuery,
    /// Snowflake.
    Snowflake,
    /// Trino (and Presto, Athena).
    Trino,
}

impl Dialect {
    /// Every dialect, in the order the help lists them.
    pub const ALL: [Dialect; 5] = [
        Dialect::DuckDb,
        Dialect::Spark,
        Dialect::BigQuery,
        Dialect::Snowflake,
        Dialect::Trino,
    ];

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::Trino => "trino",
        }
    }

    /// A string literal holding `s` exactly. DuckDB and Trino read backslashes literally;
    /// Spark, BigQuery and Snowflake treat them as escapes, so they are doubled.
    #[must_use]
    pub fn lit(self, s: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("'{}'", s.replace('\'', "''")),
            Dialect::Spark | Dialect::BigQuery | Dialect::Snowflake => {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
    }

    /// `last_value(expr IGNORE NULLS) OVER (window)`, spelled for the dialect.
    #[must_use]
    pub fn last_value_ignore_nulls(self, expr: &str, window: &str) -> String {
        self.ignore_nulls("last_value", expr, window)
    }

    /// `first_value(expr IGNORE NULLS) OVER (window)`, spelled for the dialect.
    #[must_use]
    pub fn first_value_ignore_nulls(self, expr: &str, window: &str) -> String {
        self.ignore_nulls("first_value", expr, window)
    }

    fn ignore_nulls(self, func: &str, expr: &str, window: &str) -> String {
        match self {
            // Inside the parentheses.
            Dialect::DuckDb | Dialect::BigQuery => {
                format!("{func}({expr} IGNORE NULLS) OVER ({window})")
            }
            // After them.
            Dialect::Snowflake | Dialect::Trino => {
                format!("{func}({expr}) IGNORE NULLS OVER ({window})")
            }
            // As the function's second argument.
            Dialect::Spark => format!("{func}({expr}, true) OVER ({window})"),
        }
    }

    /// Whether the dialect's median is exact (BigQuery and Trino only have approximate
    /// quantiles as aggregates).
    #[must_use]
    pub fn exact_median(self) -> bool {
        matches!(self, Dialect::DuckDb | Dialect::Spark | Dialect::Snowflake)
    }

    /// The median of an integer expression as an aggregate, rounded down (the mean of the
    /// middle two for an even count, as `report`), or the dialect's approximate median.
    #[must_use]
    pub fn median(self, expr: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST(floor(median({expr})) AS BIGINT)"),
            Dialect::Spark => format!("CAST(floor(percentile({expr}, 0.5)) AS BIGINT)"),
            Dialect::Snowflake => format!("CAST(FLOOR(MEDIAN({expr})) AS BIGINT)"),
            Dialect::BigQuery => format!("APPROX_QUANTILES({expr}, 2)[OFFSET(1)]"),
            Dialect::Trino => format!("CAST(approx_percentile({expr}, 0.5) AS BIGINT)"),
        }
    }

    /// Integer division of non-negative integers.
    #[must_use]
    pub fn idiv(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("(({a}) // ({b}))"),
            Dialect::Spark => format!("(({a}) div ({b}))"),
            Dialect::BigQuery => format!("DIV({a}, {b})"),
            Dialect::Snowflake => format!("CAST(FLOOR(({a}) / ({b})) AS BIGINT)"),
            Dialect::Trino => format!("(({a}) / ({b}))"),
        }
    }

    /// The remainder of non-negative integers.
    #[must_use]
    pub fn imod(self, a: &str, b: &str) -> String {
        match self {
            Dialect::BigQuery => format!("MOD({a}, {b})"),
            _ => format!("(({a}) % ({b}))"),
        }
    }

    /// A relation of literal rows with the given column names: `VALUES` where the dialect
    /// has it in `FROM`, `UNNEST` of structs in BigQuery.
    #[must_use]
    pub fn rows(self, columns: &[&str], rows: &[Vec<String>]) -> String {
        match self {
            Dialect::BigQuery => {
                let structs: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let fields: Vec<String> = r
                            .iter()
                            .zip(columns)
                            .map(|(v, c)| format!("{v} AS {c}"))
                            .collect();
                        format!("STRUCT({})", fields.join(", "))
                    })
                    .collect();
                format!("SELECT * FROM UNNEST([{}])", structs.join(", "))
            }
            _ => {
                let values: Vec<String> =
                    rows.iter().map(|r| format!("({})", r.join(", "))).collect();
                format!(
                    "SELECT * FROM (VALUES {}) AS v({})",
                    values.join(", "),
                    columns.join(", ")
                )
            }
        }
    }

    /// `CREATE … AS` for a materialised temporary relation living as long as the session:
    /// a cached temporary view in Spark (`CACHE TABLE`), a temporary table elsewhere. Trino
    /// has neither: `None` (the model is then one statement).
    #[must_use]
    pub fn create_temp(self, name: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("CREATE OR REPLACE TEMP TABLE {name} AS")),
            Dialect::Spark => Some(format!("CACHE TABLE {name} AS")),
            Dialect::BigQuery => Some(format!("CREATE TEMP TABLE {name} AS")),
            Dialect::Snowflake => Some(format!("CREATE OR REPLACE TEMPORARY TABLE {name} AS")),
            Dialect::Trino => None,
        }
    }
}

impl Dialect {
    /// Statements that remove a temporary relation of [`Dialect::create_temp`] left by an
    /// earlier run in the same session (Spark's `CACHE TABLE` does not replace).
    #[must_use]
    pub fn drop_temp(self, name: &str) -> Vec<String> {
        match self {
            Dialect::Spark => vec![
                format!("UNCACHE TABLE IF EXISTS {name}"),
                format!("DROP VIEW IF EXISTS {name}"),
            ],
            _ => Vec::new(),
        }
    }
}

/// What the script's last statement returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// One row: the §5 summary keys.
    Summary,
    /// One row per user: its figures and flag counts.
    Users,
    /// One row per recorded session: its figures and flags.
    Sessions,
    /// The events of the users `--user` names, as JSON text (one NDJSON line per row).
    UserEvents,
}

impl Emit {
    /// Every kind, in the order the help lists them.
    pub const ALL: [Emit; 4] = [Emit::Summary, Emit::Users, Emit::Sessions, Emit::UserEvents];

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Emit::Summary => "summary",
            Emit::Users => "users",
            Emit::Sessions => "sessions",
            Emit::UserEvents => "user-events",
        }
    }
}

/// Where the events are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// NDJSON or Export `.json.gz` files: paths or globs, local or `s3://` (DuckDB,
    /// Spark), read as raw lines.
    Files(Vec<String>),
    /// A warehouse table with Amplitude's export columns, by name.
    Table(String),
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The engine.
    pub dialect: Dialect,
    /// The events.
    pub input: Input,
    /// Timeout, gap threshold and inactive types, as for `report`.
    pub rules: crate::analysis::Rules,
    /// What the last statement returns.
    pub emit: Emit,
    /// For [`Emit::UserEvents`]: a user id, device id or Amplitude id.
    pub user: Option<String>,
}

/// The SQL script for `opts`, or why it cannot be written (a combination the dialect
/// cannot read, or `user-events` without a user).
pub fn script(opts: &Options) -> Result<String, String> {
    if opts.emit == Emit::UserEvents && opts.user.is_none() {
        return Err("--emit user-events needs --user KEY".into());
    }
    if opts.emit != Emit::UserEvents && opts.user.is_some() {
        return Err("--user is only for --emit user-events".into());
    }
    if let Input::Table(name) = &opts.input
        && (name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.$-`\"".contains(c)))
    {
        return Err(format!(
            "--table {name:?} is not a table name (letters, digits, _ . $ - and quotes)"
        ));
    }
    let loader = load::loader(opts)?;
    let mut out = String::new();
    out.push_str(&header(opts, &loader));
    for stmt in &loader.setup {
        out.push_str(stmt);
        out.push_str(";\n\n");
    }
    let statements = model::statements(opts, &loader);
    out.push_str(&statements.join(";\n\n"));
    out.push_str(";\n");
    Ok(out)
}

fn header(opts: &Options, loader: &load::Loader) -> String {
    let d = opts.dialect;
    let mut h = format!(
        "-- streamscope sql --dialect {} --emit {}: the session model of SESSION-MODEL.md \
         (timeout {} ms, gap {} ms, inactive types: {}).\n\
         -- Generated by streamscope {}; runnable as is; the last statement is the result.\n",
        d.name(),
        opts.emit.name(),
        opts.rules.timeout_ms,
        opts.rules.gap_ms,
        if opts.rules.inactive.is_empty() {
            "none besides the markers, $identify and $groupidentify".to_string()
        } else {
            opts.rules
                .inactive
                .join(", ")
                .replace(|c: char| c.is_control(), " ")
        },
        env!("CARGO_PKG_VERSION"),
    );
    if !d.exact_median() {
        h.push_str(
            "-- NOTE: this dialect has no exact median aggregate: recorded_median_length_ms and \
             replayed_median_length_ms are APPROXIMATE (report's are exact).\n",
        );
    }
    for note in &loader.notes {
        for line in note.lines() {
            h.push_str("-- ");
            // No `;` in comments: some clients split scripts on it without reading them.
            h.push_str(&line.replace(';', ","));
            h.push('\n');
        }
    }
    h.push('\n');
    h
}

#[cfg(test)]
mod tests;
