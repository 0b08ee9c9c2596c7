//! Authentication: finding the token, keeping it secret, redacting it.
//!
//! The lookup mirrors huggingface_hub's `get_token()` (hub-protocol.md §4), plus the project's
//! older `HUGGINGFACE_API_KEY` name and `.env` files read as an overlay that never overrides the
//! real environment (as uv does). Nothing here prints.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::env::{self, Env, ProcessEnv};

/// The Hub access token. A secret: `Debug` says `Token(REDACTED)`, there is no `Display`, and the
/// value is only reachable through [`Token::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    /// The raw token, for the `Authorization` header or a git credential. Never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(REDACTED)")
    }
}

/// A token and where it came from.
#[derive(Debug, Clone)]
pub struct FoundToken {
    pub token: Token,
    /// Human description, e.g. `environment variable HF_TOKEN`, `.env file /x/.env
    /// (HUGGINGFACE_API_KEY)`, `token file /home/u/.cache/huggingface/token`.
    pub source: String,
}

/// No token anywhere; lists every place looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingToken {
    /// One line per place, in lookup order (with a note such as `(not found)` where useful).
    pub looked_in: Vec<String>,
}

impl fmt::Display for MissingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no Hugging Face token found; looked in:")?;
        for place in &self.looked_in {
            write!(f, "\n  - {place}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MissingToken {}

/// Finds the token in the process environment, `.env` files in `cwd` then `clone_dir`, then
/// the token file. First found wins.
pub fn find_token(cwd: &Path, clone_dir: Option<&Path>) -> Result<FoundToken, MissingToken> {
    find_token_in(&ProcessEnv, cwd, clone_dir)
}

/// [`find_token`] over any [`Env`] (tests pass a map).
pub fn find_token_in(
    env: &dyn Env,
    cwd: &Path,
    clone_dir: Option<&Path>,
) -> Result<FoundToken, MissingToken> {
    let mut looked_in = Vec::new();

    for name in env::TOKEN_VARS {
        looked_in.push(format!("environment variable {name}"));
        if let Some(token) = env.var(name).as_deref().and_then(clean_token) {
            return Ok(FoundToken {
                token,
                source: format!("environment variable {name}"),
            });
        }
    }

    // `.env` files only fill in what the environment lacks; since every token variable of the
    // environment was empty or unset above, the first one found in a file is the answer.
    for path in dotenv_paths(cwd, clone_dir) {
        let (vars, note) = read_dotenv(&path);
        let names = env::TOKEN_VARS.join(", ");
        looked_in.push(format!(".env file {} ({names}){note}", path.display()));
        for name in env::TOKEN_VARS {
            let value = vars.iter().find(|(key, _)| key == name).map(|(_, v)| v);
            if let Some(token) = value.and_then(|v| clean_token(v)) {
                return Ok(FoundToken {
                    token,
                    source: format!(".env file {} ({name})", path.display()),
                });
            }
        }
    }

    match token_file_path(env) {
        Some((path, how)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Some(token) = clean_token(&text) {
                    return Ok(FoundToken {
                        token,
                        source: format!("token file {}", path.display()),
                    });
                }
                looked_in.push(format!("token file {} ({how}; empty)", path.display()));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                looked_in.push(format!("token file {} ({how}; not found)", path.display()));
            }
            Err(err) => {
                looked_in.push(format!(
                    "token file {} ({how}; unreadable: {err})",
                    path.display()
                ));
            }
        },
        None => looked_in.push(format!(
            "token file: none ({}, {}, {} and {} are unset)",
            env::HF_TOKEN_PATH,
            env::HF_HOME,
            env::XDG_CACHE_HOME,
            env::HOME
        )),
    }

    Err(MissingToken { looked_in })
}

/// huggingface_hub's `_clean_token`: strip whitespace (including `\r\n`); empty means none.
fn clean_token(raw: &str) -> Option<Token> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| Token::new(trimmed))
}

/// `.env` in `cwd`, then in `clone_dir` unless it is the same file.
fn dotenv_paths(cwd: &Path, clone_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut paths = vec![cwd.join(".env")];
    if let Some(dir) = clone_dir {
        let candidate = dir.join(".env");
        let same = match (paths[0].canonicalize(), candidate.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => paths[0] == candidate,
        };
        if !same {
            paths.push(candidate);
        }
    }
    paths
}

/// Parses a `.env` file without touching the process environment. Returns the variables (in
/// file order; the first declaration of a name wins, as in dotenvy) and a note for the
/// "looked in" list. A parse error keeps what came before it.
fn read_dotenv(path: &Path) -> (Vec<(String, String)>, String) {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return (Vec::new(), " (not found)".to_string());
        }
        Err(err) => return (Vec::new(), format!(" (unreadable: {})", dotenv_error(&err))),
    };
    let mut vars = Vec::new();
    for item in iter {
        match item {
            Ok(pair) => vars.push(pair),
            Err(err) => return (vars, format!(" (stopped reading: {})", dotenv_error(&err))),
        }
    }
    (vars, String::new())
}

/// A dotenvy error without the offending line, which may hold a secret.
fn dotenv_error(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(_, index) => format!("syntax error at byte {index} of a line"),
        dotenvy::Error::Io(io) => io.to_string(),
        other => redact(&other.to_string()),
    }
}

/// The token file and how its path was chosen: `HF_TOKEN_PATH`, else `$HF_HOME/token`, else
/// `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`. `~` and `$VAR` are
/// expanded in `HF_TOKEN_PATH` and `HF_HOME`, as huggingface_hub does.
fn token_file_path(env: &dyn Env) -> Option<(PathBuf, String)> {
    let set = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
    if let Some(path) = set(env::HF_TOKEN_PATH) {
        return Some((
            expand_path(env, &path),
            format!("from {}", env::HF_TOKEN_PATH),
        ));
    }
    if let Some(home) = set(env::HF_HOME) {
        let path = expand_path(env, &home).join("token");
        return Some((path, format!("from {}", env::HF_HOME)));
    }
    if let Some(cache) = set(env::XDG_CACHE_HOME) {
        let path = expand_path(env, &cache).join("huggingface").join("token");
        return Some((path, format!("from {}", env::XDG_CACHE_HOME)));
    }
    let home = home_dir(env)?;
    let path = home.join(".cache").join("huggingface").join("token");
    Some((path, "default location".to_string()))
}

/// huggingface_hub's home folder: `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else
/// `~/.cache/huggingface` (the Xet client keeps its cache in `xet/` under it, as hf_xet does).
pub fn hf_home_in(env: &dyn Env) -> Option<PathBuf> {
    let set = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
    if let Some(home) = set(env::HF_HOME) {
        return Some(expand_path(env, &home));
    }
    if let Some(cache) = set(env::XDG_CACHE_HOME) {
        return Some(expand_path(env, &cache).join("huggingface"));
    }
    Some(home_dir(env)?.join(".cache").join("huggingface"))
}

fn home_dir(env: &dyn Env) -> Option<PathBuf> {
    [env::HOME, env::USERPROFILE]
        .into_iter()
        .find_map(|name| env.var(name).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

/// `os.path.expanduser(os.path.expandvars(p))`: `$NAME` and `${NAME}` are replaced when set
/// (left as they are otherwise), then a leading `~` becomes the home folder.
fn expand_path(env: &dyn Env, raw: &str) -> PathBuf {
    static VAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))").unwrap()
    });
    let expanded = VAR.replace_all(raw, |caps: &regex::Captures| {
        let name = caps.get(1).or_else(|| caps.get(2)).unwrap().as_str();
        env.var(name).unwrap_or_else(|| caps[0].to_string())
    });
    let text = expanded.as_ref();
    if text == "~" {
        if let Some(home) = home_dir(env) {
            return home;
        }
    } else if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = home_dir(env)
    {
        return home.join(rest);
    }
    PathBuf::from(text)
}

/// Offline mode (`HF_HUB_OFFLINE` truthy): no request may be sent.
pub fn offline() -> bool {
    offline_in(&ProcessEnv)
}

/// [`offline`] over any [`Env`].
pub fn offline_in(env: &dyn Env) -> bool {
    env.var(env::HF_HUB_OFFLINE)
        .is_some_and(|v| env::is_truthy(&v))
}

/// The Basic-auth user name hf-relay sends with the token over git; the Hub ignores it, and
/// huggingface_hub stores git credentials under this name (hub-protocol §1.2).
pub const GIT_USERNAME: &str = "hf_user";

/// Removes credentials from text meant for people: `hf_…` tokens become `hf_***`, URL userinfo
/// becomes `***@`, `Authorization:` header values and `Bearer` credentials become `***`. The
/// same as [`Redactor::redact`] without a known token.
pub fn redact(text: &str) -> String {
    Redactor::default().redact(text)
}

/// The one redaction of the project: what [`redact`] masks, plus every encoding in which
/// hf-relay itself sends one known token (which may not look like `hf_…`) and a server may
/// echo it back: the raw token, its percent-encoded forms (any byte may be `%XX`, either case),
/// and base64 of anything that contains it, such as the Basic credential
/// `base64("hf_user:TOKEN")` or `base64(TOKEN)` alone (standard and URL-safe alphabets). A
/// base64 word that holds the token is masked whole, so none of its bytes remain.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

/// A part of a text to mask, and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub range: std::ops::Range<usize>,
    pub with: &'static str,
}

#[derive(Clone)]
struct Secret {
    /// Matches every encoding of the token listed on [`Redactor`].
    encoded: Regex,
}

impl Redactor {
    pub fn new(secret: Option<&Token>) -> Redactor {
        Redactor::for_tokens(secret)
    }

    /// A redactor that knows several tokens (e.g. every token lent to git on a thread).
    pub fn for_tokens<'t>(tokens: impl IntoIterator<Item = &'t Token>) -> Redactor {
        Redactor {
            secrets: tokens
                .into_iter()
                .filter(|token| !token.expose().is_empty())
                .map(|token| Secret::new(token.expose()))
                .collect(),
        }
    }

    /// `text` with every span of [`Redactor::spans`] replaced. Text from outside is shown
    /// through [`crate::sanitize`] instead, which also removes control characters first.
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in self.spans(text) {
            out.push_str(&text[at..span.range.start]);
            out.push_str(span.with);
            at = span.range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// What to mask in `text`: every form of the known tokens and the patterns of [`redact`],
    /// sorted, overlapping ones merged.
    pub(crate) fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        for secret in &self.secrets {
            for found in secret.encoded.find_iter(text) {
                spans.push(Span {
                    range: found.range(),
                    with: "***",
                });
            }
        }
        pattern_spans(text, &mut spans);
        spans.sort_by_key(|span| (span.range.start, std::cmp::Reverse(span.range.end)));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                Some(last) if span.range.start < last.range.end => {
                    last.range.end = last.range.end.max(span.range.end);
                }
                _ => merged.push(span),
            }
        }
        merged
    }
}

impl Secret {
    fn new(token: &str) -> Secret {
        use base64::Engine as _;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };

        let bytes = token.as_bytes();
        // Raw or percent-encoded, byte by byte.
        let percent: String = bytes
            .iter()
            .map(|&byte| {
                let hex = format!("{byte:02X}");
                let hex: String = hex
                    .chars()
                    .map(|c| match c.is_ascii_alphabetic() {
                        true => format!("[{}{}]", c, c.to_ascii_lowercase()),
                        false => c.to_string(),
                    })
                    .collect();
                match byte.is_ascii() {
                    true => format!("(?:{}|%{hex})", regex::escape(&(byte as char).to_string())),
                    false => format!("%{hex}"),
                }
            })
            .collect();
        let mut alternatives = vec![percent, regex::escape(token)];
        // Base64: the exact encodings hf-relay sends, and, for a token long enough to be told
        // apart from ordinary text, the part of any base64 text that depends on the token
        // alone, for each of the three byte alignments it may have there. A match takes the
        // whole base64 word around it.
        let basic = format!("{GIT_USERNAME}:{token}");
        let mut exact = Vec::new();
        for engine in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            exact.push(engine.encode(basic.as_bytes()));
            exact.push(engine.encode(bytes));
        }
        let mut cores = Vec::new();
        for skip in 0..3.min(bytes.len()) {
            let rest = &bytes[skip..];
            let whole = &rest[..rest.len() / 3 * 3];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                let core = engine.encode(whole);
                if core.len() >= 12 {
                    cores.push(core);
                }
            }
        }
        let word = "[A-Za-z0-9+/_-]*";
        for core in exact.iter().chain(&cores) {
            alternatives.push(format!("{word}{}{word}=*", regex::escape(core)));
        }
        // Longest first, so that a longer form is not cut by a shorter one inside it.
        alternatives.sort_by_key(|alternative| std::cmp::Reverse(alternative.len()));
        alternatives.dedup();
        let encoded = Regex::new(&alternatives.join("|")).expect("the token's patterns compile");
        Secret { encoded }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("has_secret", &!self.secrets.is_empty())
            .finish()
    }
}

/// The masks that need no known token: `hf_…` tokens, `Authorization:` values, `Bearer`
/// credentials and URL userinfo.
fn pattern_spans(text: &str, spans: &mut Vec<Span>) {
    static HF_TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"hf_[A-Za-z0-9]{4,}").unwrap());
    static USERINFO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]+@").unwrap());
    static AUTH_HEADER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\b(authorization\s*:)[^\r\n]*").unwrap());
    static BEARER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}").unwrap());

    // Each replaces what follows its first group.
    for (regex, with) in [
        (&*AUTH_HEADER, " ***"),
        (&*BEARER, " ***"),
        (&*USERINFO, "***@"),
    ] {
        for caps in regex.captures_iter(text) {
            let (whole, head) = (caps.get(0).unwrap(), caps.get(1).unwrap());
            spans.push(Span {
                range: head.end()..whole.end(),
                with,
            });
        }
    }
    for found in HF_TOKEN.find_iter(text) {
        spans.push(Span {
            range: found.range(),
            with: "hf_***",
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::new("hf_supersecret123");
        assert_eq!(format!("{token:?}"), "Token(REDACTED)");
        let found = FoundToken {
            token,
            source: "x".into(),
        };
        assert!(!format!("{found:?}").contains("supersecret"));
    }

    #[test]
    fn env_vars_in_order() {
        let dir = temp();
        let env = env_of(&[
            ("HUGGINGFACE_API_KEY", "second"),
            ("HUGGING_FACE_HUB_TOKEN", "third"),
            ("HOME", dir.path().to_str().unwrap()),
        ]);
        let found = find_token_in(&env, dir.path(), None).unwrap();
        assert_eq!(found.token.expose(), "second");
        assert_eq!(found.source, "environment variable HUGGINGFACE_API_KEY");

        let env = env_of(&[("HF_TOKEN", " first\n"), ("HUGGINGFACE_API_KEY", "second")]);
        let found = find_token_in(&env, dir.path(), None).unwrap();
        assert_eq!(found.token.expose(), "first");
        assert_eq!(found.source, "environment variable HF_TOKEN");

        // An empty variable counts as unset.
        let env = env_of(&[("HF_TOKEN", "  "), ("HUGGING_FACE_HUB_TOKEN", "third")]);
        let found = find_token_in(&env, dir.path(), None).unwrap();
        assert_eq!(found.token.expose(), "third");
    }

    #[test]
    fn dotenv_is_an_overlay_that_never_overrides_the_environment() {
        let cwd = temp();
        std::fs::write(cwd.path().join(".env"), "HF_TOKEN=from_dotenv\n").unwrap();
        let env = env_of(&[("HUGGING_FACE_HUB_TOKEN", "from_env")]);
        let found = find_token_in(&env, cwd.path(), None).unwrap();
        assert_eq!(found.token.expose(), "from_env");

        let found = find_token_in(&env_of(&[]), cwd.path(), None).unwrap();
        assert_eq!(found.token.expose(), "from_dotenv");
        let path = cwd.path().join(".env");
        assert_eq!(
            found.source,
            format!(".env file {} (HF_TOKEN)", path.display())
        );
        // Parsing only: the process environment is untouched.
        assert_ne!(
            std::env::var("HF_TOKEN").ok().as_deref(),
            Some("from_dotenv")
        );
    }

    #[test]
    fn dotenv_cwd_before_clone_dir_and_names_in_order() {
        let cwd = temp();
        let clone = temp();
        std::fs::write(
            clone.path().join(".env"),
            "# comment\nHF_TOKEN=from_clone\n",
        )
        .unwrap();
        let env = env_of(&[]);
        let found = find_token_in(&env, cwd.path(), Some(clone.path())).unwrap();
        assert_eq!(found.token.expose(), "from_clone");

        std::fs::write(
            cwd.path().join(".env"),
            "HUGGING_FACE_HUB_TOKEN=third\nexport HUGGINGFACE_API_KEY=\"older\"\n",
        )
        .unwrap();
        let found = find_token_in(&env, cwd.path(), Some(clone.path())).unwrap();
        assert_eq!(found.token.expose(), "older");
        assert!(
            found.source.ends_with("(HUGGINGFACE_API_KEY)"),
            "{}",
            found.source
        );
    }

    #[test]
    fn token_file_locations() {
        let dir = temp();
        let home = dir.path().join("home");
        let default = home.join(".cache/huggingface/token");
        std::fs::create_dir_all(default.parent().unwrap()).unwrap();
        std::fs::write(&default, "hf_default_token\n").unwrap();
        let home_s = home.to_str().unwrap();

        let found = find_token_in(&env_of(&[("HOME", home_s)]), dir.path(), None).unwrap();
        assert_eq!(found.token.expose(), "hf_default_token");
        assert_eq!(found.source, format!("token file {}", default.display()));

        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("huggingface")).unwrap();
        std::fs::write(xdg.join("huggingface/token"), "xdg_token").unwrap();
        let env = env_of(&[("HOME", home_s), ("XDG_CACHE_HOME", xdg.to_str().unwrap())]);
        assert_eq!(
            find_token_in(&env, dir.path(), None)
                .unwrap()
                .token
                .expose(),
            "xdg_token"
        );

        std::fs::create_dir_all(home.join("hfhome")).unwrap();
        std::fs::write(home.join("hfhome/token"), "  hf_home_token \r\n").unwrap();
        let mut env = env_of(&[
            ("HOME", home_s),
            ("XDG_CACHE_HOME", xdg.to_str().unwrap()),
            ("HF_HOME", "~/hfhome"),
        ]);
        assert_eq!(
            find_token_in(&env, dir.path(), None)
                .unwrap()
                .token
                .expose(),
            "hf_home_token"
        );

        std::fs::write(dir.path().join("explicit"), "explicit_token").unwrap();
        env.insert("TOKDIR".into(), dir.path().to_str().unwrap().into());
        env.insert("HF_TOKEN_PATH".into(), "${TOKDIR}/explicit".into());
        assert_eq!(
            find_token_in(&env, dir.path(), None)
                .unwrap()
                .token
                .expose(),
            "explicit_token"
        );

        // An empty token file is no token.
        std::fs::write(dir.path().join("explicit"), " \n").unwrap();
        let err = find_token_in(&env, dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn dotenv_wins_over_token_file() {
        let dir = temp();
        std::fs::write(dir.path().join("token"), "file_token").unwrap();
        std::fs::write(dir.path().join(".env"), "HF_TOKEN=dotenv_token").unwrap();
        let env = env_of(&[("HF_HOME", dir.path().to_str().unwrap())]);
        let found = find_token_in(&env, dir.path(), None).unwrap();
        assert_eq!(found.token.expose(), "dotenv_token");
    }

    #[test]
    fn missing_token_lists_every_place() {
        let dir = temp();
        let clone = dir.path().join("clone");
        std::fs::create_dir_all(&clone).unwrap();
        let home = dir.path().join("home");
        let env = env_of(&[("HOME", home.to_str().unwrap())]);
        let err = find_token_in(&env, dir.path(), Some(&clone)).unwrap_err();
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "no Hugging Face token found; looked in:");
        assert_eq!(lines[1], "  - environment variable HF_TOKEN");
        assert_eq!(lines[2], "  - environment variable HUGGINGFACE_API_KEY");
        assert_eq!(lines[3], "  - environment variable HUGGING_FACE_HUB_TOKEN");
        let names = "HF_TOKEN, HUGGINGFACE_API_KEY, HUGGING_FACE_HUB_TOKEN";
        assert_eq!(
            lines[4],
            format!(
                "  - .env file {} ({names}) (not found)",
                dir.path().join(".env").display()
            )
        );
        assert_eq!(
            lines[5],
            format!(
                "  - .env file {} ({names}) (not found)",
                clone.join(".env").display()
            )
        );
        assert_eq!(
            lines[6],
            format!(
                "  - token file {} (default location; not found)",
                home.join(".cache/huggingface/token").display()
            )
        );
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn same_dotenv_is_read_once() {
        let dir = temp();
        let env = env_of(&[]);
        let err = find_token_in(&env, dir.path(), Some(dir.path())).unwrap_err();
        assert_eq!(
            err.looked_in
                .iter()
                .filter(|l| l.starts_with(".env"))
                .count(),
            1
        );
    }

    #[test]
    fn broken_dotenv_does_not_leak_its_line() {
        let dir = temp();
        std::fs::write(dir.path().join(".env"), "A='unterminated secretvalue\n").unwrap();
        let err = find_token_in(&env_of(&[]), dir.path(), None).unwrap_err();
        assert!(!err.to_string().contains("secretvalue"), "{err}");
    }

    #[test]
    fn offline_values() {
        for (value, expected) in [
            ("1", true),
            ("on", true),
            ("Yes", true),
            ("TRUE", true),
            ("0", false),
            ("", false),
            ("off", false),
        ] {
            let env = env_of(&[("HF_HUB_OFFLINE", value)]);
            assert_eq!(offline_in(&env), expected, "{value}");
        }
        assert!(!offline_in(&env_of(&[])));
    }

    #[test]
    fn redact_patterns() {
        assert_eq!(
            redact("token hf_AbCdEf123456 refused"),
            "token hf_*** refused"
        );
        assert_eq!(redact("hf_abc stays"), "hf_abc stays");
        assert_eq!(
            redact("fetch https://user:secret@huggingface.co/datasets/a/b failed"),
            "fetch https://***@huggingface.co/datasets/a/b failed"
        );
        assert_eq!(
            redact("git@github.com:x/y and https://host/path@v1"),
            "git@github.com:x/y and https://host/path@v1"
        );
        assert_eq!(
            redact("> Authorization: Bearer abc.def\nnext"),
            "> Authorization: ***\nnext"
        );
        assert_eq!(redact("authorization:basic Zm9v"), "authorization: ***");
        assert_eq!(redact("sent Bearer abc12345 to x"), "sent Bearer *** to x");
        assert_eq!(redact("basic transfer"), "basic transfer");
    }

    #[test]
    fn redactor_replaces_the_exact_token() {
        let token = Token::new("plainsecret42");
        let redactor = Redactor::new(Some(&token));
        assert_eq!(
            redactor.redact("bad token plainsecret42 and hf_abcdefgh"),
            "bad token *** and hf_***"
        );
        assert!(!format!("{redactor:?}").contains("plainsecret42"));
        assert_eq!(Redactor::new(None).redact("plain"), "plain");
    }

    #[test]
    fn redactor_masks_every_encoding_of_the_token() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

        for secret in [
            "hf_testwrite0000000000000000000000",
            "plain-secret/value+42~x",
        ] {
            let token = Token::new(secret);
            let redactor = Redactor::new(Some(&token));
            let basic = STANDARD.encode(format!("{GIT_USERNAME}:{secret}"));
            let alone = STANDARD.encode(secret);
            let other_user = URL_SAFE_NO_PAD.encode(format!("someone-else:{secret}"));
            let percent_all: String = secret.bytes().map(|b| format!("%{b:02x}")).collect();
            let percent_some: String = secret
                .chars()
                .map(|c| match c.is_ascii_alphanumeric() {
                    true => c.to_string(),
                    false => format!("%{:02X}", c as u32),
                })
                .collect();
            let text = format!(
                "remote: Authorization: Basic {basic}\nremote: payload {alone}\n\
                 remote: other {other_user}.\nremote: q={percent_all}&r={percent_some}\n\
                 remote: raw {secret}\n"
            );
            let masked = redactor.redact(&text);
            for form in [
                secret,
                &basic,
                basic.trim_end_matches('='),
                &alone,
                alone.trim_end_matches('='),
                &other_user,
                &percent_all,
                &percent_some,
            ] {
                assert!(!masked.contains(form), "{form:?} left in {masked}");
            }
            // The rest of the text stays readable.
            assert!(masked.contains("remote: payload ***\n"), "{masked}");
            assert!(masked.contains("remote: other ***."), "{masked}");
            assert!(masked.contains("remote: q=***&r=***\n"), "{masked}");
        }
        // Ordinary base64 and text are left alone.
        let redactor = Redactor::new(Some(&Token::new("hf_testwrite0000000000000000000000")));
        assert_eq!(
            redactor.redact("sha aGVsbG8gd29ybGQ= ok"),
            "sha aGVsbG8gd29ybGQ= ok"
        );
    }
}
