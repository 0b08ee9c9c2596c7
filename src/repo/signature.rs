//! Author and committer of the commits hf-relay creates, resolved as git does: the
//! `GIT_AUTHOR_*` / `GIT_COMMITTER_*` variables, else git config, else a fixed default.

use anyhow::Context as _;
use chrono::{DateTime, Local, NaiveDateTime, TimeZone as _};

use crate::env::Env as _;
// The variables read here are listed with every other one in `crate::env`.
pub use crate::env::{
    GIT_AUTHOR_DATE, GIT_AUTHOR_EMAIL, GIT_AUTHOR_NAME, GIT_COMMITTER_DATE, GIT_COMMITTER_EMAIL,
    GIT_COMMITTER_NAME,
};

pub const DEFAULT_NAME: &str = "hf-relay";
pub const DEFAULT_EMAIL: &str = "hf-relay@localhost";

/// Looks a variable up; [`process_env`] in production, a fixed map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, read through `crate::env` as every other variable is.
pub fn process_env(name: &str) -> Option<String> {
    crate::env::ProcessEnv.var(name)
}

/// Author and committer of one commit.
pub struct Identities {
    pub author: git2::Signature<'static>,
    pub committer: git2::Signature<'static>,
}

struct Role {
    name_var: &'static str,
    email_var: &'static str,
    date_var: &'static str,
    name_key: &'static str,
    email_key: &'static str,
}

const AUTHOR: Role = Role {
    name_var: GIT_AUTHOR_NAME,
    email_var: GIT_AUTHOR_EMAIL,
    date_var: GIT_AUTHOR_DATE,
    name_key: "author.name",
    email_key: "author.email",
};

const COMMITTER: Role = Role {
    name_var: GIT_COMMITTER_NAME,
    email_var: GIT_COMMITTER_EMAIL,
    date_var: GIT_COMMITTER_DATE,
    name_key: "committer.name",
    email_key: "committer.email",
};

/// Resolves both identities from `env` and the repository's `config`.
pub fn resolve(config: &git2::Config, env: Env<'_>) -> anyhow::Result<Identities> {
    let now = Local::now();
    let now = git2::Time::new(now.timestamp(), now.offset().local_minus_utc() / 60);
    Ok(Identities {
        author: signature(&AUTHOR, config, env, now)?,
        committer: signature(&COMMITTER, config, env, now)?,
    })
}

fn signature(
    role: &Role,
    config: &git2::Config,
    env: Env<'_>,
    now: git2::Time,
) -> anyhow::Result<git2::Signature<'static>> {
    let non_empty = |value: Option<String>| value.filter(|value| !value.trim().is_empty());
    let from_config = |key: &str| non_empty(config.get_string(key).ok());
    let name = non_empty(env(role.name_var))
        .or_else(|| from_config(role.name_key))
        .or_else(|| from_config("user.name"))
        .unwrap_or_else(|| DEFAULT_NAME.to_string());
    let email = non_empty(env(role.email_var))
        .or_else(|| from_config(role.email_key))
        .or_else(|| from_config("user.email"))
        .unwrap_or_else(|| DEFAULT_EMAIL.to_string());
    let time = match non_empty(env(role.date_var)) {
        Some(text) => parse_date(&text).with_context(|| format!("invalid {}", role.date_var))?,
        None => now,
    };
    git2::Signature::new(&name, &email, &time)
        .with_context(|| format!("invalid git identity {name:?} <{email}>"))
}

/// Parses a date in the forms git accepts for `GIT_*_DATE`: its internal format
/// (`@1700000000 +0000`, `1700000000 +0000`), RFC 2822 (`Thu, 01 Jan 2026 03:04:05 +0100`)
/// and ISO 8601 (`2026-01-02T03:04:05+01:00`, `2026-01-02 03:04:05 +0100`; without an
/// offset, local time).
pub fn parse_date(text: &str) -> anyhow::Result<git2::Time> {
    let text = text.trim();
    if let Some(time) = parse_raw(text)? {
        return Ok(time);
    }
    let to_time = |date: DateTime<chrono::FixedOffset>| {
        git2::Time::new(date.timestamp(), date.offset().local_minus_utc() / 60)
    };
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Ok(to_time(date));
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Ok(to_time(date));
    }
    const WITH_OFFSET: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f %#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f %#z",
    ];
    for format in WITH_OFFSET {
        if let Ok(date) = DateTime::parse_from_str(text, format) {
            return Ok(to_time(date));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            let local = Local
                .from_local_datetime(&naive)
                .single()
                .with_context(|| {
                    format!("{text:?} is ambiguous or does not exist in the local time zone")
                })?;
            return Ok(git2::Time::new(
                local.timestamp(),
                local.offset().local_minus_utc() / 60,
            ));
        }
    }
    anyhow::bail!(
        "cannot read the date {text:?}; use `@SECONDS +HHMM`, RFC 2822 or ISO 8601 \
         (2026-01-02T03:04:05+01:00)"
    )
}

/// git's internal format: `[@]SECONDS [±HHMM]`. `None` when `text` is not in that form.
fn parse_raw(text: &str) -> anyhow::Result<Option<git2::Time>> {
    let (body, forced) = match text.strip_prefix('@') {
        Some(body) => (body, true),
        None => (text, false),
    };
    let mut parts = body.split_whitespace();
    let seconds = parts.next().unwrap_or("");
    let offset = parts.next();
    let raw_shape = !seconds.is_empty()
        && seconds.bytes().all(|b| b.is_ascii_digit())
        && parts.next().is_none()
        && (forced || offset.is_some());
    if !raw_shape {
        anyhow::ensure!(
            !forced,
            "cannot read the date {text:?}; expected `@SECONDS +HHMM`"
        );
        return Ok(None);
    }
    let seconds: i64 = seconds
        .parse()
        .with_context(|| format!("timestamp out of range in {text:?}"))?;
    let minutes = match offset {
        None => 0,
        Some(offset) => parse_offset(offset)
            .with_context(|| format!("invalid time zone {offset:?} in {text:?}"))?,
    };
    Ok(Some(git2::Time::new(seconds, minutes)))
}

/// `+HHMM` / `-HHMM` → minutes east of UTC.
fn parse_offset(offset: &str) -> Option<i32> {
    let (sign, digits) = match offset.as_bytes().first()? {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}
