//! Git over HTTPS with the Hub: fetch, push, ls-remote and clone (git2), with the token only in
//! memory.
//!
//! Each operation is one [`Exchange`] with the remote: its [`crate::net::git::Session`] lends
//! the token to the origin (scheme, host, port) of the remote URL for the operation's duration,
//! and `crate::net::git`, the transport, sends it (HTTP Basic, hub-protocol §1.2) and follows
//! redirects by `crate::net`'s one rule. The token never goes into a URL, `.git/config` or a
//! message: every text relayed from libgit2 or the server passes through
//! [`crate::auth::Redactor`], which masks the token in every encoding hf-relay sends it. Ctrl-C
//! ([`crate::interrupt::interrupted`]) stops a transfer at libgit2's next callback. Failures
//! come back as a [`RemoteError`] (inside the `anyhow::Error`; use `downcast_ref`), built from
//! the transport's typed [`TransportError`] when the transport stopped (a refused token, a
//! missing repo, a redirect to another origin, a transient network problem) and from libgit2
//! otherwise (a refused ref, with the server's `remote:` lines). Server text is shown only
//! through [`crate::sanitize`] (no control character, capped, redacted), and what push keeps of
//! the server's side-band messages is bounded ([`SIDEBAND_TAIL`]).

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::fs;
use std::path::Path;

use anyhow::Context as _;
use git2::{
    AutotagOption, Direction, ErrorClass, ErrorCode, FetchOptions, Oid, PushOptions,
    RemoteCallbacks,
};

use super::LocalClone;
use crate::auth::{Redactor, Token};
use crate::interrupt::{self, Interrupted};
use crate::net::Origin;
use crate::net::git::{NetFailure, Session, TransportError};
use crate::repo_id::DatasetUrl;

/// The branch hf-relay publishes.
pub const MAIN: &str = "refs/heads/main";
/// Where `fetch` keeps the remote's `main`.
pub const ORIGIN_MAIN: &str = "refs/remotes/origin/main";
use super::TAG_PREFIX;
/// The remote's main may move anywhere (the Hub allows force-push); its tags never overwrite a
/// local tag of the same name (as git fetch does since 2.20).
const FETCH_REFSPECS: [&str; 2] = [
    "+refs/heads/main:refs/remotes/origin/main",
    "refs/tags/*:refs/tags/*",
];

/// Most bytes of side-band messages (`remote:` text) a push keeps: the last ones.
pub const SIDEBAND_TAIL: usize = 64 * 1024;
/// Most `remote:` lines shown: the last ones.
const REMOTE_LINES: usize = 100;

/// Why talking to the Hub over git failed. Every text in it is displayable (sanitised,
/// capped, redacted).
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server asked for credentials and there was no token.
    #[error("this repository needs a token: {repo} is private or gated, or does not exist")]
    TokenNeeded { repo: String },
    /// The server refused the token (HTTP 401 after it was sent).
    #[error(
        "authentication failed: the Hub refused the token (invalid, expired, or without access \
         to {repo})"
    )]
    AuthFailed { repo: String },
    /// HTTP 404: no such repository, or the token cannot see it.
    #[error("repository not found: {repo} does not exist on the Hub, or the token cannot see it")]
    NotFound { repo: String },
    /// The remote has no `main` branch.
    #[error("{repo} has no branch `main` on the Hub")]
    NoMain { repo: String },
    /// A non-forced push of a branch the remote has moved ahead of.
    #[error("the Hub's branch has commits this clone does not have")]
    NotFastForward,
    /// The server refused at least one ref (pre-receive hook, permissions).
    #[error("{}", refused_message(refused, remote))]
    Refused {
        /// `(ref, reason)`, e.g. `("refs/heads/main", "pre-receive hook declined")`.
        refused: Vec<(String, String)>,
        /// The server's `remote:` lines.
        remote: Vec<String>,
    },
    /// An HTTP status other than the above.
    #[error("the Hub answered HTTP {status} for {repo}: {message}")]
    Http {
        repo: String,
        status: u16,
        message: String,
    },
    /// The server sent git to another origin (scheme, host, port) than the remote URL's; the
    /// token was not sent there.
    #[error(
        "the Hub redirected git for {repo} from {from} to {to}, another origin; hf-relay \
         follows redirects only within the origin of the remote URL and sends the token only \
         there (check the endpoint, or clone from the URL the repository moved to)"
    )]
    Redirected {
        repo: String,
        from: String,
        to: String,
    },
    /// Ctrl-C was pressed during the transfer.
    #[error("the git transfer for {repo} was interrupted")]
    Interrupted {
        repo: String,
        #[source]
        source: Interrupted,
    },
    /// The connection failed (DNS, refused, reset, TLS, timeout).
    #[error("cannot reach the Hub for {repo}: {message}")]
    Network { repo: String, message: String },
    /// The transport stopped on what the server sent: a bound exceeded (too many refs), a
    /// malformed pkt-line, an `ERR` line. Trying again does not help.
    #[error("the Hub's git answer for {repo} cannot be used: {message}")]
    BadAnswer { repo: String, message: String },
    /// Anything else libgit2 reported.
    #[error("{}", with_remote_lines(message, remote))]
    Git {
        message: String,
        remote: Vec<String>,
    },
}

/// A clone asked for a branch or tag the Hub's repository does not have.
#[derive(Debug, thiserror::Error)]
#[error("the Hub has no branch or tag `{0}` in this repository")]
pub struct UnknownRevision(pub String);

impl RemoteError {
    /// Whether trying again later may succeed (hub-protocol §7: 408, 429, 5xx, network errors).
    pub fn is_retryable(&self) -> bool {
        match self {
            RemoteError::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
            RemoteError::Network { .. } => true,
            _ => false,
        }
    }

    /// Whether the server refused a ref only because its update transaction failed: another
    /// update of the ref was in progress (e.g. a push whose client was killed is still being
    /// applied). receive-pack reports that as "failed to update ref" (with "cannot lock ref"
    /// among the `remote:` lines); a hook or a non-fast-forward says so instead.
    pub fn is_ref_busy(&self) -> bool {
        matches!(self, RemoteError::Refused { refused, .. }
        if !refused.is_empty()
            && refused.iter().all(|(_, reason)| {
                reason.contains("failed to update ref") || reason.contains("cannot lock ref")
            }))
    }

    /// Whether the server refused a push because an LFS object it points to is not uploaded
    /// (hub-protocol §1.3); uploading the objects and pushing again fixes it.
    pub fn is_missing_lfs_object(&self) -> bool {
        matches!(self, RemoteError::Refused { remote, .. }
            if remote.iter().any(|line| line.contains("an LFS pointer pointed to a file that does not exist")))
    }
}

fn refused_message(refused: &[(String, String)], remote: &[String]) -> String {
    let refs: Vec<String> = refused
        .iter()
        .map(|(name, reason)| format!("the Hub refused {name}: {reason}"))
        .collect();
    with_remote_lines(&refs.join("\n"), remote)
}

fn with_remote_lines(message: &str, remote: &[String]) -> String {
    let mut text = message.to_string();
    for line in remote {
        text.push('\n');
        text.push_str(line);
    }
    text
}

/// What a successful push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// The remote refs the server accepted.
    pub updated: Vec<String>,
    /// The server's messages, one `remote: …` line each (redacted).
    pub remote_messages: Vec<String>,
}

/// One git operation with the remote at a URL: the repository as messages name it, the token
/// lent to the URL's origin while it lives, and the display of every text libgit2 or the
/// server hands back (through [`crate::sanitize`], the token masked).
struct Exchange<'t> {
    /// `OWNER/NAME` (or the redacted URL), for messages.
    repo: String,
    /// The token, when there is one (an empty one is none).
    token: Option<&'t Token>,
    redactor: Redactor,
    session: Session,
}

impl<'t> Exchange<'t> {
    /// An exchange with the remote at `url` (as configured), shown as `repo`.
    #[cfg(test)]
    fn new(token: Option<&'t Token>, repo: impl Into<String>, url: &str) -> Exchange<'t> {
        Exchange::at(token, repo.into(), Origin::of(url))
    }

    /// An exchange with `url`, named by its repo id (else the redacted URL).
    fn with(url: &str, token: Option<&'t Token>) -> Exchange<'t> {
        match DatasetUrl::parse(url) {
            Ok(dataset) => Exchange::at(token, dataset.repo_id.to_string(), dataset.origin),
            Err(_) => Exchange::at(token, crate::auth::redact(url), Origin::of(url)),
        }
    }

    fn at(token: Option<&'t Token>, repo: String, origin: Option<Origin>) -> Exchange<'t> {
        let token = token.filter(|token| !token.expose().is_empty());
        Exchange {
            repo,
            token,
            redactor: Redactor::new(token),
            session: Session::begin(origin.as_ref(), token),
        }
    }

    fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Server text fit to show ([`crate::sanitize::line`]) with this operation's token masked.
    fn display(&self, text: &str) -> String {
        crate::sanitize::line(text, &self.redactor, crate::sanitize::LINE_LIMIT)
    }

    /// Whether `fragment` is a piece of the token (never shown, even cut short).
    fn is_in_token(&self, fragment: &str) -> bool {
        self.token
            .is_some_and(|token| !fragment.is_empty() && token.expose().contains(fragment))
    }
}

/// `origin`, and the exchange with it.
fn origin<'r, 't>(
    clone: &'r LocalClone,
    token: Option<&'t Token>,
) -> anyhow::Result<(git2::Remote<'r>, Exchange<'t>)> {
    let url = clone.origin_url()?;
    let remote = clone.repo.find_remote("origin")?;
    Ok((remote, Exchange::with(&url, token)))
}

/// Makes libgit2 stop at its next callback once Ctrl-C was pressed: during the download
/// (`transfer_progress`), while the server talks (`sideband_progress`) and before a push sends
/// anything (`push_negotiation`: no ref is updated then).
fn stop_on_interrupt(callbacks: &mut RemoteCallbacks<'_>, with_sideband: bool) {
    callbacks
        .transfer_progress(|_| !interrupt::interrupted())
        .push_negotiation(|_| match interrupt::interrupted() {
            true => Err(git2::Error::new(
                ErrorCode::User,
                ErrorClass::Callback,
                "interrupted",
            )),
            false => Ok(()),
        });
    if with_sideband {
        callbacks.sideband_progress(|_| !interrupt::interrupted());
    }
}

/// How fetch and clone download: stopped by Ctrl-C.
fn fetch_options() -> FetchOptions<'static> {
    let mut callbacks = RemoteCallbacks::new();
    stop_on_interrupt(&mut callbacks, true);
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks);
    options
}

/// What `origin` advertised when it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Advertised {
    /// The tip of its `main`, `None` when it has none.
    pub main: Option<Oid>,
    /// The tip of the ref [`fetch_ref`] was asked for (`main`'s for [`fetch`]), `None` when
    /// the remote has no such ref.
    pub tip: Option<Oid>,
    /// Its tags: `(NAME, id)` sorted by name, where the id is the tag object of an annotated
    /// tag (what the local `refs/tags/NAME` holds), not the commit it points to.
    pub tags: Vec<(String, Oid)>,
}

/// Fetches `main` (into `refs/remotes/origin/main`) and the tags of `origin` (a local tag keeps
/// its value when the remote's differs); returns what the remote advertised: its `main` tip
/// (when it has none, the stale tracking ref, if any, is deleted) and its tags, so that a push
/// needs no second connection to learn which tags the Hub lacks.
pub fn fetch(clone: &LocalClone, token: Option<&Token>) -> anyhow::Result<Advertised> {
    fetch_ref(clone, token, MAIN)
}

/// Where the last known state of the remote's `remote_ref` is kept: `refs/heads/NAME` in
/// `refs/remotes/origin/NAME`, a pull request's `refs/pr/N` in `refs/remotes/origin/pr/N`.
pub fn tracking_ref(remote_ref: &str) -> String {
    match remote_ref.strip_prefix("refs/heads/") {
        Some(branch) => format!("refs/remotes/origin/{branch}"),
        None => format!(
            "refs/remotes/origin/{}",
            remote_ref.strip_prefix("refs/").unwrap_or(remote_ref)
        ),
    }
}

/// [`fetch`], and also `remote_ref` (a branch `refs/heads/NAME` or a pull request's
/// `refs/pr/N`) into its [`tracking_ref`], which is deleted when the remote has no such ref.
pub fn fetch_ref(
    clone: &LocalClone,
    token: Option<&Token>,
    remote_ref: &str,
) -> anyhow::Result<Advertised> {
    let (mut remote, exchange) = origin(clone, token)?;
    let mut options = fetch_options();
    options.download_tags(AutotagOption::None);
    let local_tags = tag_refs(&clone.repo)?;
    let mut refspecs: Vec<String> = FETCH_REFSPECS.iter().map(|s| s.to_string()).collect();
    if remote_ref != MAIN {
        refspecs.push(format!("+{remote_ref}:{}", tracking_ref(remote_ref)));
    }
    remote
        .fetch(&refspecs, Some(&mut options), None)
        .map_err(|error| explain(&error, &exchange, Vec::new()))?;
    // libgit2 ignores the missing `+` on fetch; put back the local tags it moved.
    for (name, id) in local_tags {
        if clone.repo.refname_to_id(&name).ok() != Some(id) {
            clone
                .repo
                .reference(&name, id, true, "hf-relay: keep the local tag")
                .with_context(|| format!("cannot restore the local tag {name}"))?;
        }
    }
    // The advertisement stays readable after the fetch disconnected; smart HTTP (protocol v0,
    // what libgit2 speaks) advertises every ref, whatever the refspecs.
    let heads = named_refs(remote.list())?;
    let tip = heads
        .iter()
        .find(|(name, _)| name == MAIN)
        .map(|(_, id)| *id);
    let wanted = heads
        .iter()
        .find(|(name, _)| name == remote_ref)
        .map(|(_, id)| *id);
    for (id, name) in [
        (tip, ORIGIN_MAIN.to_string()),
        (wanted, tracking_ref(remote_ref)),
    ] {
        if id.is_none()
            && let Ok(mut stale) = clone.repo.find_reference(&name)
        {
            stale
                .delete()
                .with_context(|| format!("cannot delete the stale {name}"))?;
        }
    }
    Ok(Advertised {
        main: tip,
        tip: wanted,
        tags: tags_of(heads),
    })
}

/// `refs/tags/*` of `repo`, with their ids.
fn tag_refs(repo: &git2::Repository) -> anyhow::Result<Vec<(String, Oid)>> {
    let mut tags = Vec::new();
    for reference in repo.references_glob("refs/tags/*")? {
        let reference = reference?;
        if let (Ok(name), Some(id)) = (reference.name(), reference.target()) {
            tags.push((name.to_string(), id));
        }
    }
    Ok(tags)
}

/// Pushes `refspecs` (e.g. `refs/heads/main:refs/heads/main`, `refs/tags/v1:refs/tags/v1`) to
/// `origin`; `force` adds `+` to each. Fails with [`RemoteError::Refused`] when the server
/// refused any ref, even though libgit2 itself reports success then.
pub fn push(
    clone: &LocalClone,
    token: &Token,
    refspecs: &[String],
    force: bool,
) -> anyhow::Result<PushReport> {
    let (mut remote, exchange) = origin(clone, Some(token))?;
    let statuses: RefCell<Vec<(String, Option<String>)>> = RefCell::new(Vec::new());
    let sideband: RefCell<Tail> = RefCell::new(Tail::default());
    let mut callbacks = RemoteCallbacks::new();
    // Not the sideband: once the server talks, it has the pack and the ref updates, and the
    // outcome is its to decide; stopping then would only hide what happened.
    stop_on_interrupt(&mut callbacks, false);
    callbacks
        .push_update_reference(|name, status| {
            statuses
                .borrow_mut()
                .push((name.to_string(), status.map(str::to_string)));
            Ok(())
        })
        .sideband_progress(|bytes| {
            sideband.borrow_mut().push(bytes);
            true
        });
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks);
    let refspecs: Vec<String> = refspecs
        .iter()
        .map(|spec| match force && !spec.starts_with('+') {
            true => format!("+{spec}"),
            false => spec.clone(),
        })
        .collect();
    let result = remote.push(&refspecs, Some(&mut options));
    drop(options);

    let remote_messages = remote_lines(&sideband.borrow(), &exchange);
    let statuses = statuses.into_inner();
    let refused: Vec<(String, String)> = statuses
        .iter()
        .filter_map(|(name, status)| {
            status
                .as_ref()
                .map(|reason| (exchange.display(name), exchange.display(reason)))
        })
        .collect();
    if !refused.is_empty() {
        return Err(RemoteError::Refused {
            refused,
            remote: remote_messages,
        }
        .into());
    }
    if let Err(error) = result {
        return Err(explain(&error, &exchange, remote_messages).into());
    }
    Ok(PushReport {
        updated: statuses.into_iter().map(|(name, _)| name).collect(),
        remote_messages,
    })
}

/// The refs `origin` advertises (ls-remote): `(full ref name, id)`, peeled entries (`^{}`)
/// included as the server sends them.
pub fn ls_remote(clone: &LocalClone, token: Option<&Token>) -> anyhow::Result<Vec<(String, Oid)>> {
    let (mut remote, exchange) = origin(clone, token)?;
    let mut callbacks = RemoteCallbacks::new();
    stop_on_interrupt(&mut callbacks, true);
    let connection = remote
        .connect_auth(Direction::Fetch, Some(callbacks), None)
        .map_err(|error| explain(&error, &exchange, Vec::new()))?;
    named_refs(connection.list())
}

/// An advertisement as `(full ref name, id)` pairs, in the order the server sent them.
fn named_refs(
    heads: Result<&[git2::RemoteHead<'_>], git2::Error>,
) -> anyhow::Result<Vec<(String, Oid)>> {
    Ok(heads
        .context("cannot read the refs the Hub advertised")?
        .iter()
        .map(|head| (head.name().to_string(), head.oid()))
        .collect())
}

/// The tags of `origin`, as [`Advertised::tags`] holds them, from a connection of their own
/// (the tests' view of the Hub; `push` reads them from its fetch).
#[cfg(test)]
pub fn remote_tags(
    clone: &LocalClone,
    token: Option<&Token>,
) -> anyhow::Result<Vec<(String, Oid)>> {
    Ok(tags_of(ls_remote(clone, token)?))
}

/// The tags among advertised refs, sorted by name, peeled entries left out.
fn tags_of(heads: Vec<(String, Oid)>) -> Vec<(String, Oid)> {
    let mut tags: Vec<(String, Oid)> = heads
        .into_iter()
        .filter(|(name, _)| !name.ends_with("^{}"))
        .filter_map(|(name, id)| Some((name.strip_prefix(TAG_PREFIX)?.to_string(), id)))
        .collect();
    tags.sort();
    tags
}

/// The tip of `origin`'s `main`, `None` when it has none (no fetch: objects are not downloaded).
pub fn remote_head(clone: &LocalClone, token: Option<&Token>) -> anyhow::Result<Option<Oid>> {
    Ok(ls_remote(clone, token)?
        .into_iter()
        .find(|(name, _)| name == MAIN)
        .map(|(_, id)| id))
}

/// Clones `url` into `dir` (which must be absent or empty), branch `main`. LFS files are
/// checked out as their pointer text (see [`super::lfs::checkout_lfs`]). The origin URL is
/// stored as given, so it must hold no credentials. On failure, whatever was created is removed.
pub fn clone_from(url: &str, dir: &Path, token: Option<&Token>) -> anyhow::Result<LocalClone> {
    clone_revision(url, dir, token, None)
}

/// [`clone_from`], checking out `revision` instead of `main` when given: a branch of the
/// remote becomes the local branch of that name (tracking `origin/NAME`); a tag is checked
/// out on the local `main` (hf-relay works on a branch, never on a detached HEAD).
pub fn clone_revision(
    url: &str,
    dir: &Path,
    token: Option<&Token>,
    revision: Option<&str>,
) -> anyhow::Result<LocalClone> {
    super::check_remote_url(url)?;
    let created = super::prepare_empty_dir(dir)?;
    let result = clone_into(url, dir, token).and_then(|clone| match revision {
        Some(revision) if revision != "main" => {
            let repo = clone.repo.path().to_path_buf();
            drop(clone);
            check_out_revision(&git2::Repository::open(repo)?, revision)?;
            LocalClone::open(dir)
        }
        _ => Ok(clone),
    });
    if result.is_err() {
        match &created {
            Some(top) => {
                let _ = fs::remove_dir_all(top);
            }
            None => super::empty_dir(dir),
        }
    }
    result
}

fn clone_into(url: &str, dir: &Path, token: Option<&Token>) -> anyhow::Result<LocalClone> {
    let exchange = Exchange::with(url, token);
    let options = fetch_options();
    let cloned = git2::build::RepoBuilder::new()
        .branch("main")
        .fetch_options(options)
        .clone(url, dir);
    match cloned {
        Ok(repo) => drop(repo),
        Err(error)
            if error.code() == ErrorCode::NotFound && error.message().contains(ORIGIN_MAIN) =>
        {
            return Err(RemoteError::NoMain {
                repo: exchange.repo.clone(),
            }
            .into());
        }
        Err(error) => return Err(explain(&error, &exchange, Vec::new()).into()),
    }
    LocalClone::open(dir)
}

/// Moves a fresh clone from `main` to `revision`: the remote branch of that name, else the
/// tag; fails naming the revision when the remote has neither.
fn check_out_revision(repo: &git2::Repository, revision: &str) -> anyhow::Result<()> {
    let remote_branch = format!("refs/remotes/origin/{revision}");
    let (branch, commit) = if let Ok(reference) = repo.find_reference(&remote_branch) {
        let commit = reference.peel_to_commit()?;
        let mut branch = repo
            .branch(revision, &commit, false)
            .with_context(|| format!("cannot create the local branch {revision}"))?;
        branch.set_upstream(Some(&format!("origin/{revision}")))?;
        (format!("refs/heads/{revision}"), commit)
    } else if let Ok(reference) = repo.find_reference(&format!("{TAG_PREFIX}{revision}")) {
        let commit = reference.peel_to_commit()?;
        repo.reference(
            MAIN,
            commit.id(),
            true,
            &format!("hf-relay: clone at tag {revision}"),
        )?;
        (MAIN.to_string(), commit)
    } else {
        return Err(UnknownRevision(revision.to_string()).into());
    };
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    repo.checkout_tree(commit.as_object(), Some(&mut checkout))?;
    repo.set_head(&branch)?;
    Ok(())
}

/// Turns a libgit2 failure into a [`RemoteError`]: from the transport's [`TransportError`]
/// when the transport stopped, else from libgit2's own error.
fn explain(error: &git2::Error, exchange: &Exchange<'_>, remote: Vec<String>) -> RemoteError {
    let repo = exchange.repo.clone();
    if interrupt::interrupted() {
        return RemoteError::Interrupted {
            repo,
            source: Interrupted,
        };
    }
    if let Some(failure) = exchange.session.take_failure() {
        return from_transport(failure, exchange, remote);
    }
    if error.code() == ErrorCode::NotFastForward {
        return RemoteError::NotFastForward;
    }
    let message = match error.message().trim() {
        // libgit2 failed without setting a message (e.g. a pkt-line of length 0003).
        "" | "no error" | "an unknown git error occurred" => {
            no_reason(exchange, &exchange.session.last_bytes())
        }
        text => exchange.display(text),
    };
    match error.class() {
        ErrorClass::Net | ErrorClass::Os | ErrorClass::Ssl | ErrorClass::Http => {
            RemoteError::Network { repo, message }
        }
        _ => RemoteError::Git { message, remote },
    }
}

/// The [`RemoteError`] for why the transport stopped.
fn from_transport(
    failure: TransportError,
    exchange: &Exchange<'_>,
    remote: Vec<String>,
) -> RemoteError {
    let repo = exchange.repo.clone();
    let message = exchange.display(&failure.to_string());
    match failure {
        TransportError::Interrupted => RemoteError::Interrupted {
            repo,
            source: Interrupted,
        },
        TransportError::Unauthorized { .. } | TransportError::TokenNotHeaderSafe => {
            match exchange.has_token() {
                true => RemoteError::AuthFailed { repo },
                false => RemoteError::TokenNeeded { repo },
            }
        }
        TransportError::Status { status: 404, .. } => RemoteError::NotFound { repo },
        TransportError::Status { status, .. } => RemoteError::Http {
            repo,
            status,
            message,
        },
        TransportError::CrossOrigin { from, to } => RemoteError::Redirected { repo, from, to },
        TransportError::Refused(_) => RemoteError::BadAnswer { repo, message },
        // Trying again does not make a certificate trusted.
        failure if failure.net_failure() == Some(NetFailure::Untrusted) => {
            RemoteError::Git { message, remote }
        }
        failure if failure.net_failure().is_some() => RemoteError::Network { repo, message },
        _ => RemoteError::Git { message, remote },
    }
}

/// What libgit2 stopped on when it gave no reason: the last bytes the server sent (at most 8,
/// escaped; none that are a piece of the token).
fn no_reason(exchange: &Exchange<'_>, last: &[u8]) -> String {
    let last = &last[last.len().saturating_sub(8)..];
    let text = String::from_utf8_lossy(last);
    let shown: String = text.escape_debug().collect();
    match last.is_empty() || exchange.is_in_token(text.trim()) {
        true => "libgit2 stopped reading the Hub's git answer without giving a reason".into(),
        false => exchange.display(&format!(
            "libgit2 stopped reading the Hub's git answer without giving a reason; the last \
             bytes the Hub sent were \"{shown}\" (not valid git protocol)"
        )),
    }
}

/// The last [`SIDEBAND_TAIL`] bytes of the server's side-band messages, and how many came
/// before them: a server may send gigabytes of progress.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    dropped: u64,
}

impl Tail {
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        // Trimmed when twice the size, so each byte is moved at most once on average.
        if self.bytes.len() > 2 * SIDEBAND_TAIL {
            let excess = self.bytes.len() - SIDEBAND_TAIL;
            self.bytes.drain(..excess);
            self.dropped += excess as u64;
        }
    }
}

/// The server's sideband text as `remote: …` lines: progress overwritten in place (`\r`) keeps
/// its last state and is dropped when it is only progress; decoration rules are dropped too.
/// Each line is made displayable; only the last [`REMOTE_LINES`] are kept, and a note says how
/// much was left out.
fn remote_lines(sideband: &Tail, exchange: &Exchange<'_>) -> Vec<String> {
    let mut text = String::from_utf8_lossy(&sideband.bytes);
    if sideband.dropped > 0 {
        // The tail starts inside a line: drop its piece.
        let start = text.find(['\n', '\r']).map_or(text.len(), |i| i + 1);
        text = text[start..].to_string().into();
    }
    let mut lines: Vec<String> = text
        .split('\n')
        .filter_map(|line| line.rsplit('\r').find(|part| !part.trim().is_empty()))
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .filter(|line| !line.trim().chars().all(|c| matches!(c, '-' | '=' | '*')))
        .filter(|line| !is_progress(line))
        .map(|line| {
            // Hooks indent lists; the indent survives, the rest is one displayable line.
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            format!(
                "remote: {:indent$}{}",
                "",
                exchange.display(line),
                indent = indent.min(16)
            )
        })
        .collect();
    let hidden = lines.len().saturating_sub(REMOTE_LINES);
    lines.drain(..hidden);
    if sideband.dropped > 0 || hidden > 0 {
        let mut left_out = Vec::new();
        if sideband.dropped > 0 {
            left_out.push(crate::units::human_bytes(sideband.dropped));
        }
        if hidden > 0 {
            left_out.push(crate::units::count(hidden, "line"));
        }
        lines.insert(
            0,
            format!(
                "remote: … ({} of earlier messages left out)",
                left_out.join(" and ")
            ),
        );
    }
    lines
}

/// `Resolving deltas: 100% (3/3), done.` and the like.
fn is_progress(line: &str) -> bool {
    match line.split_once(": ") {
        Some((label, rest)) => {
            label.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
                && rest.trim_start().split('%').next().is_some_and(|number| {
                    !number.is_empty() && number.trim().chars().all(|c| c.is_ascii_digit())
                })
                && rest.contains('%')
        }
        None => false,
    }
}
