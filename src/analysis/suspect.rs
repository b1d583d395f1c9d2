//! What a suspect session id looks like ([`Flag::SuspectId`](super::Flag::SuspectId)): a
//! session id is the session's start time in epoch ms, so an id that is not within a day
//! before its first event is usually one of a few recognisable mistakes. The inspector
//! shows the reading next to the id ("looks like seconds: 2026-10-28 13:00:29") so the
//! user sees the cause, not just the flag.

use super::SUSPECT_LEAD_MS;

/// How a session id reads against its session's first event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdReading {
    /// A plausible start time in ms (not suspect).
    Plausible,
    /// Epoch seconds: times 1000 it lands within a day of the first event.
    Seconds {
        /// The id read as seconds, in epoch ms.
        ms: i64,
    },
    /// Epoch microseconds: divided by 1000 it lands within a day of the first event.
    Micros {
        /// The id read as microseconds, in epoch ms.
        ms: i64,
    },
    /// The session starts after its first event (the id is a later time in ms).
    AfterFirstEvent {
        /// By how much, in ms.
        by_ms: i64,
    },
    /// The id is a time in ms more than a day before the first event (a constant, a
    /// counter, a reused id).
    LongBefore {
        /// How long before the first event, in ms.
        lead_ms: i64,
    },
}

/// How the session id `id` reads against the session's first event time `first`
/// (epoch ms). Saturating: any `i64`s.
#[must_use]
pub fn id_reading(id: i64, first: i64) -> IdReading {
    let near = |ms: i64| ms <= first && first.saturating_sub(ms) <= SUSPECT_LEAD_MS;
    if id <= first && first.saturating_sub(id) <= SUSPECT_LEAD_MS {
        return IdReading::Plausible;
    }
    if let Some(ms) = id.checked_mul(1000)
        && near(ms)
    {
        return IdReading::Seconds { ms };
    }
    let ms = id.div_euclid(1000);
    if near(ms) {
        return IdReading::Micros { ms };
    }
    if id > first {
        IdReading::AfterFirstEvent {
            by_ms: id.saturating_sub(first),
        }
    } else {
        IdReading::LongBefore {
            lead_ms: first.saturating_sub(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspect_ids_read_as_their_likely_mistake() {
        let first = 1_793_192_429_731; // 2026-10-28 13:00:29.731 UTC
        let cases = [
            ("ms, just before", first - 1_000, IdReading::Plausible),
            ("ms, equal", first, IdReading::Plausible),
            (
                "ms, exactly a day before",
                first - SUSPECT_LEAD_MS,
                IdReading::Plausible,
            ),
            (
                "seconds",
                1_793_192_429,
                IdReading::Seconds {
                    ms: 1_793_192_429_000,
                },
            ),
            (
                "microseconds",
                1_793_192_429_000_000,
                IdReading::Micros { ms: first - 731 },
            ),
            (
                "a later time",
                first + 5_000,
                IdReading::AfterFirstEvent { by_ms: 5_000 },
            ),
            (
                "a constant",
                1,
                IdReading::LongBefore { lead_ms: first - 1 },
            ),
            (
                "a day and a ms before",
                first - SUSPECT_LEAD_MS - 1,
                IdReading::LongBefore {
                    lead_ms: SUSPECT_LEAD_MS + 1,
                },
            ),
            (
                "i64::MAX",
                i64::MAX,
                IdReading::AfterFirstEvent {
                    by_ms: i64::MAX - first,
                },
            ),
            (
                "i64::MIN",
                i64::MIN,
                IdReading::LongBefore { lead_ms: i64::MAX },
            ),
        ];
        for (name, id, want) in cases {
            assert_eq!(id_reading(id, first), want, "{name}");
        }
    }

    #[test]
    fn readings_agree_with_the_flag() {
        // Plausible exactly when the sessions module would not flag the id.
        for (id, first) in [
            (0, 0),
            (5, 4),
            (0, SUSPECT_LEAD_MS + 1),
            (i64::MIN, i64::MAX),
        ] {
            let flagged = id > first || first.saturating_sub(id) > SUSPECT_LEAD_MS;
            assert_eq!(
                id_reading(id, first) == IdReading::Plausible,
                !flagged,
                "{id} {first}"
            );
        }
    }
}
