//! The time zone displayed times are shown in: UTC, the machine's local zone, or the
//! zone named with `--tz`. `z` cycles through them. Formatting reads the zone database,
//! never the clock, so rendering stays a pure function of the model.

use chrono::{DateTime, FixedOffset, Local, Offset, Utc};

/// A zone to display times in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// Coordinated Universal Time (the default, and what `report` prints).
    Utc,
    /// The machine's local zone.
    Local,
    /// A named IANA zone (`--tz Europe/Paris`).
    Named(chrono_tz::Tz),
}

/// How much of a time to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `2024-01-02 10:00:00.000`
    Full,
    /// `01-02 10:00:00.000`
    NoYear,
    /// `10:00:00.000`
    Time,
    /// `10:00:00`
    Seconds,
    /// `10:00`
    Minutes,
    /// `01-02 10:00`
    DayMinutes,
    /// `2024-01-02`
    Date,
    /// `01-02`
    MonthDay,
}

impl Precision {
    fn pattern(self) -> &'static str {
        match self {
            Precision::Full => "%Y-%m-%d %H:%M:%S%.3f",
            Precision::NoYear => "%m-%d %H:%M:%S%.3f",
            Precision::Time => "%H:%M:%S%.3f",
            Precision::Seconds => "%H:%M:%S",
            Precision::Minutes => "%H:%M",
            Precision::DayMinutes => "%m-%d %H:%M",
            Precision::Date => "%Y-%m-%d",
            Precision::MonthDay => "%m-%d",
        }
    }
}

impl Zone {
    /// Parses a `--tz` value.
    pub fn parse(name: &str) -> Result<Zone, String> {
        name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!("'{name}' is not a time zone name like UTC, Europe/Paris or America/New_York")
        })
    }

    /// The short name shown in the status bar.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Zone::Utc => "UTC".to_string(),
            Zone::Local => match local_name() {
                Some(name) => format!("local ({name})"),
                None => "local".to_string(),
            },
            Zone::Named(tz) => tz.name().to_string(),
        }
    }

    /// The zone's offset from UTC at `ms`.
    #[must_use]
    pub fn offset_at(self, ms: i64) -> FixedOffset {
        let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
            return Utc.fix();
        };
        match self {
            Zone::Utc => Utc.fix(),
            Zone::Local => t.with_timezone(&Local).offset().fix(),
            Zone::Named(tz) => t.with_timezone(&tz).offset().fix(),
        }
    }

    /// `ms` formatted at a precision; out-of-range values print as ms.
    #[must_use]
    pub fn format(self, ms: i64, precision: Precision) -> String {
        let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
            return format!("{ms}ms");
        };
        let pattern = precision.pattern();
        match self {
            Zone::Utc => t.format(pattern).to_string(),
            Zone::Local => t.with_timezone(&Local).format(pattern).to_string(),
            Zone::Named(tz) => t.with_timezone(&tz).format(pattern).to_string(),
        }
    }
}

/// The zones `z` cycles through: UTC, local, and the `--tz` zone if one was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zones {
    list: Vec<Zone>,
    current: usize,
}

impl Zones {
    /// UTC, local, then `named`; the inspector starts in `named` when there is one
    /// (the zone asked for with `--tz`), else in UTC.
    #[must_use]
    pub fn new(named: Option<Zone>) -> Self {
        let mut list = vec![Zone::Utc, Zone::Local];
        list.extend(named);
        let current = list.len() - 1;
        Self {
            current: if named.is_some() { current } else { 0 },
            list,
        }
    }

    /// The zone in use.
    #[must_use]
    pub fn current(&self) -> Zone {
        self.list[self.current]
    }

    /// Moves to the next zone.
    pub fn cycle(&mut self) {
        self.current = (self.current + 1) % self.list.len();
    }
}

impl Default for Zones {
    fn default() -> Self {
        Self::new(None)
    }
}

/// The machine's zone name (`Europe/Paris`), asked of the system once (the `TZ`
/// variable, then the system's setting) and remembered; `None` when it cannot be told.
fn local_name() -> Option<&'static str> {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let from_env = std::env::var("TZ")
            .ok()
            .map(|tz| tz.trim_start_matches(':').to_string())
            .filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok());
        from_env
            .or_else(|| iana_time_zone::get_timezone().ok())
            .map(|name| crate::fmt::sanitize(&name).into_owned())
    })
    .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_zones_parse_and_format() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(
            paris.format(1_700_000_000_123, Precision::Full),
            "2023-11-14 23:13:20.123"
        );
        assert_eq!(
            Zone::Utc.format(1_700_000_000_123, Precision::Minutes),
            "22:13"
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn the_named_zone_comes_first_then_cycling_visits_utc_and_local() {
        let mut z = Zones::new(Some(Zone::parse("Asia/Tokyo").unwrap()));
        assert_eq!(z.current().label(), "Asia/Tokyo");
        z.cycle();
        assert_eq!(z.current(), Zone::Utc);
        z.cycle();
        assert_eq!(z.current(), Zone::Local);
        z.cycle();
        assert_eq!(z.current().label(), "Asia/Tokyo");
        assert_eq!(Zones::new(None).current(), Zone::Utc);
    }

    #[test]
    fn local_names_the_machines_zone_when_it_can_be_told() {
        let label = Zone::Local.label();
        match local_name() {
            Some(name) => assert_eq!(label, format!("local ({name})")),
            None => assert_eq!(label, "local"),
        }
    }
}
