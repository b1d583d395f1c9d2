use super::*;

#[test]
fn sources_parse_into_users_and_export_ranges() {
    let t = |s: &str| AmplitudeSpec::parse(s).map(|s| s.target);
    assert_eq!(
        t("amplitude:user/bob@example.com"),
        Some(Ok(Target::User("bob@example.com".into())))
    );
    // Everything after `user/` is the ID, slashes included.
    assert_eq!(
        t("amplitude:user/a/b"),
        Some(Ok(Target::User("a/b".into())))
    );
    assert_eq!(
        t("amplitude:user/ü+1"),
        Some(Ok(Target::User("ü+1".into())))
    );
    let Some(Ok(Target::Export { start, end })) = t("amplitude:export/20240101T00/20240101t23")
    else {
        panic!("an export");
    };
    assert_eq!(
        (start.text(), end.text()),
        ("20240101T00".into(), "20240101T23".into())
    );
    assert_eq!(start.hours_to(end), 24);
    assert!(t("events.ndjson").is_none());
    assert!(t("https://amplitude.com/x").is_none());
}

#[test]
fn bad_sources_say_what_is_wrong() {
    for (arg, says) in [
        ("amplitude:user/", "no user ID"),
        ("amplitude:users/bob", "use amplitude:user/ID"),
        ("amplitude:export/20240101T00", "a START and an END"),
        (
            "amplitude:export/2024010100/20240101T01",
            "is not an hour YYYYMMDDTHH",
        ),
        ("amplitude:export/20240101T24/20240101T01", "is not an hour"),
        ("amplitude:export/20240230T00/20240301T01", "is not an hour"),
        (
            "amplitude:export/20240102T00/20240101T01",
            "is after its end",
        ),
        (
            "amplitude:export/20230101T00/20240102T00",
            "more than the 365 days",
        ),
        (
            "amplitude:export/20240101T00/20240101T01/x",
            "is not an hour",
        ),
    ] {
        let spec = AmplitudeSpec::parse(arg).expect("an amplitude source");
        let err = spec.target.expect_err(arg);
        assert!(err.contains(says), "{arg}: {err}");
    }
}

#[test]
fn the_override_wins_over_the_region_and_takes_api_2_or_not() {
    let base = |flag, env_region, env_url| {
        Endpoint::resolve(flag, env_region, env_url)
            .map(|e| (e.base.to_string(), e.region, e.overridden))
    };
    assert_eq!(
        base(None, None, None),
        Ok(("https://amplitude.com/api/2/".into(), Region::Us, false))
    );
    assert_eq!(
        base(None, Some("EU"), None),
        Ok((
            "https://analytics.eu.amplitude.com/api/2/".into(),
            Region::Eu,
            false
        ))
    );
    // The flag wins over the variable.
    assert_eq!(
        base(Some(Region::Us), Some("eu"), None),
        Ok(("https://amplitude.com/api/2/".into(), Region::Us, false))
    );
    for url in [
        "http://127.0.0.1:9",
        "http://127.0.0.1:9/",
        "http://127.0.0.1:9/api/2",
        "http://127.0.0.1:9/api/2/",
    ] {
        assert_eq!(
            base(Some(Region::Eu), None, Some(url)),
            Ok(("http://127.0.0.1:9/api/2/".into(), Region::Eu, true)),
            "{url}"
        );
    }
    assert_eq!(
        base(None, None, Some("http://proxy.local/amp")).map(|b| b.0),
        Ok("http://proxy.local/amp/api/2/".into())
    );
    assert!(
        base(None, Some("mars"), None)
            .expect_err("bad region")
            .contains("AMPLITUDE_REGION")
    );
    assert!(base(None, None, Some("ftp://x")).is_err());
    assert!(base(None, None, Some("not a url")).is_err());
}

#[test]
fn urls_in_messages_lose_their_user_info() {
    let e =
        Endpoint::resolve(None, None, Some("http://user:pa55word@127.0.0.1:9/?k=v")).expect("ok");
    let shown = e.shown();
    assert!(
        !shown.contains("pa55word") && !shown.contains("user"),
        "{shown}"
    );
}

#[test]
fn keys_are_scrubbed_from_text_and_hidden_from_debug() {
    let keys = Keys {
        api_key: "KEY-1234".into(),
        secret: "SECRET-5678".into(),
    };
    let basic = http::basic_credentials("KEY-1234", "SECRET-5678");
    let text = format!("a KEY-1234 b SECRET-5678 c Basic {basic}");
    let clean = keys.scrub(&text);
    assert_eq!(clean, "a *** b *** c Basic ***");
    assert_eq!(format!("{keys:?}"), "Keys(…)");
}

#[test]
fn basic_credentials_are_base64() {
    // RFC 7617's example.
    assert_eq!(
        http::basic_credentials("Aladdin", "open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(http::basic_credentials("a", ""), "YTo=");
    assert_eq!(http::basic_credentials("ab", "c"), "YWI6Yw==");
}

#[test]
fn the_hourly_window_holds_360_queries() {
    use std::time::{Duration, Instant};
    let mut w = RateWindow::default();
    let t0 = Instant::now();
    for i in 0..3 {
        assert_eq!(w.admit(t0 + Duration::from_secs(i), 3), Duration::ZERO);
    }
    // The 4th within the hour waits until the first is an hour old.
    assert_eq!(
        w.admit(t0 + Duration::from_secs(10), 3),
        Duration::from_secs(3590)
    );
    assert_eq!(w.admit(t0 + Duration::from_secs(3600), 3), Duration::ZERO);
    assert_eq!(http::QUERIES_PER_HOUR, 360);
}

#[test]
fn retry_after_takes_seconds_or_a_date() {
    use chrono::TimeZone as _;
    let now = chrono::Utc
        .with_ymd_and_hms(2015, 10, 21, 7, 27, 0)
        .single()
        .expect("a time");
    assert_eq!(
        http::parse_retry_after("1", now),
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(
        http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(std::time::Duration::from_secs(60))
    );
    assert_eq!(http::parse_retry_after("soon", now), None);
}

#[test]
fn fetch_progress_lines_come_at_each_tenth() {
    assert_eq!(progress_step(5, Some(100), 0), None);
    assert_eq!(progress_step(10, Some(100), 0), Some(1));
    assert_eq!(progress_step(15, Some(100), 1), None);
    assert_eq!(progress_step(100, Some(100), 1), Some(10));
    assert_eq!(progress_step(16 << 20, None, 0), Some(1));
}

#[test]
fn a_temporary_export_file_is_private_and_removed_with_the_guard() {
    let guard = TempFiles::guard();
    let (path, file) = temp_file().expect("a temporary file");
    drop(file);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("made").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(guard);
    assert!(!path.exists());
}
