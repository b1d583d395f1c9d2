//! streamscope: a terminal inspector for Amplitude-style analytics event streams.
//!
//! Module map (the core is pure and synchronous; shells around it do I/O):
//!
//! | module | role |
//! |---|---|
//! | [`event`] | compact event record, interned strings, locations (core) |
//! | [`index`] | typed indices of events, positions, users and sessions (core) |
//! | [`json`] | validating JSON scanner (core) |
//! | [`decode`] | records → events, rejection rules (core) |
//! | [`store`] | the event store, filled by loader events (core) |
//! | [`analysis`] | the session model: users, sessions, flags, replay (core) |
//! | [`fmt`] | durations, times, escaping of untrusted text (core) |
//! | [`source`] | reading files, archives and stdin, following files and URLs, fetching from Amplitude (std threads) |
//! | [`listen`] | `listen`, the ingestion endpoint: [`listen::request`] decides each request's answer and capture lines (core); [`listen::shared`] is the state it shares with its viewers (std only); routes, capture file and query API (tokio, axum) |
//! | [`report`] | the headless report, text or JSON |
//! | [`sql`] | `sql`: the session model as a SQL script for DuckDB, Spark, BigQuery, Snowflake, Trino (core: string generation) |
//! | [`cli`] | the command line (clap): values parsed once into their types |
//! | [`config`] | the config file: defaults, colours and keys; flags win over it |
//! | [`command`] | the command layer: command line → each shell's options; runs the shell |
//!
//! The TUI and `report` both read [`analysis::Analysis`], so they cannot disagree.

pub mod analysis;
pub mod cli;
pub mod command;
pub mod config;
pub mod decode;
pub mod event;
pub mod fmt;
pub mod index;
pub mod json;
pub mod listen;
pub mod report;
pub mod source;
pub mod sql;
pub mod store;
pub mod tui;

pub use command::run;
