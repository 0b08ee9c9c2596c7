//! Author and committer: identities and git date formats.

use super::*;

#[test]
fn identity_falls_back_to_config_then_default() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(tmp.path()).unwrap();
    let mut config = repo.config().unwrap();
    config.set_str("user.name", "Config Name").unwrap();
    config.set_str("user.email", "config@example.com").unwrap();
    let no_env = |_: &str| None;
    let ids = signature::resolve(&repo.config().unwrap(), &no_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some("Config Name"));
    assert_eq!(ids.committer.email().ok(), Some("config@example.com"));

    let ids = signature::resolve(&repo.config().unwrap(), &fixed_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some("Test User"));

    let empty = git2::Config::new().unwrap();
    let ids = signature::resolve(&empty, &no_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some(signature::DEFAULT_NAME));
    assert_eq!(ids.committer.email().ok(), Some(signature::DEFAULT_EMAIL));
}

#[test]
fn dates_in_git_formats() {
    let expect = |text: &str, seconds: i64, offset: i32| {
        let time = signature::parse_date(text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        assert_eq!(
            (time.seconds(), time.offset_minutes()),
            (seconds, offset),
            "{text}"
        );
    };
    // 2026-01-02T02:04:05Z
    const T: i64 = 1_767_319_445;
    expect("@1700000000 +0000", 1_700_000_000, 0);
    expect("@1700000000", 1_700_000_000, 0);
    expect("1700000000 +0000", 1_700_000_000, 0);
    expect("1700000000 -0130", 1_700_000_000, -90);
    expect("Fri, 02 Jan 2026 03:04:05 +0100", T, 60);
    expect("2026-01-02T03:04:05+01:00", T, 60);
    expect("2026-01-02T02:04:05Z", T, 0);
    expect("2026-01-02 03:04:05 +0100", T, 60);
    expect("2026-01-02T03:04:05+0100", T, 60);
    expect("2026-01-02 03:04:05+01:00", T, 60);
    for bad in [
        "",
        "yesterday",
        "@abc",
        "1700000000 +2500",
        "2026-13-02T03:04:05Z",
    ] {
        assert!(signature::parse_date(bad).is_err(), "{bad:?}");
    }
}
