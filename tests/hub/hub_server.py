#!/usr/bin/env python3
"""A local stand-in for the Hugging Face Hub, for hf-relay's tests.

Standard library only (Python 3.11). It speaks just enough of the Hub's
protocol (see shared/hub-protocol.md, sections 1, 2, 3 and 7) for a git-native
publisher:

* git smart HTTP at /datasets/OWNER/NAME[.git], served by the real
  `git http-backend` CGI, with a pre-receive hook that applies the Hub's
  content rules (non-LFS files > 10 MiB, binary files, LFS pointers to
  missing objects, read-only tokens);
* the Git LFS batch API (basic and Hugging Face's "multipart" transfer),
  with presigned-style storage URLs, verify, and download;
* REST: POST /api/repos/create, GET /api/datasets/OWNER/NAME, GET /api/whoami-v2,
  POST /api/validate-yaml (the card rules of src/card/validate.rs, on the lists of
  data/hub/*.json; needs PyYAML, and answers 404 "not offered" without it).
* Pull requests (the discussions API, as huggingface_hub's create_pull_request,
  get_discussion_details, change_discussion_status and merge_pull_request call it):
    POST /api/datasets/OWNER/NAME/discussions
         {"title", "description", "pullRequest": true} -> {"num", "url", "pullRequest"};
         a PR gets refs/pr/NUM at the repo's main (a plain discussion gets no ref)
    GET  /api/datasets/OWNER/NAME/discussions/NUM    the discussion, with its "status"
    POST /api/datasets/OWNER/NAME/discussions/NUM/status {"status": "open"|"closed"}
    POST /api/datasets/OWNER/NAME/discussions/NUM/merge  (fast-forward of main only)
  State: DIR/repos/datasets/OWNER/NAME.discussions.json. Pushes to refs/pr/NUM are
  checked by the hook (see pr_ref_verdict): write access or the PR's author, open PRs only.
* Branches: a push creates refs/heads/NAME (the same content rules apply).

Usage:
    python3 hub_server.py --root DIR [--port 0] [--host 127.0.0.1]
    python3 hub_server.py --foreign --root DIR [--port 0] [--host 127.0.0.1]

`--foreign` runs a hostile stand-in for another host instead: every request is
answered 401 with `WWW-Authenticate: Basic`, and one line per request goes to
DIR/foreign-auth.log: "METHOD PATH AUTH", where AUTH is the request's
Authorization header as received, or "-" when there was none.

It prints one line `READY http://HOST:PORT` once it listens. All state lives
under DIR:

    DIR/tokens.json       {"hf_xxx": {"user": "alice", "write": true, "orgs": ["acme"]}}
                          (re-read on every request)
    DIR/faults.json       fault switches and knobs, re-read on every request;
                          counters are decremented in the file (see FAULT KEYS)
    DIR/repos/datasets/OWNER/NAME.git   bare repos
    DIR/repos/datasets/OWNER/NAME.json  repo metadata ({"id", "private"})
    DIR/lfs/OWNER/NAME/<oid>            LFS objects
    DIR/lfs-tmp/                        uploads in progress
    DIR/requests.log                    "time METHOD PATH STATUS" (never headers)

FAULT KEYS (faults.json; a missing file means no faults):
    lfs_429: N, retry_after: S   next N storage/part PUTs -> 429 + Retry-After: S
    lfs_500: N / lfs_503: N      next N storage/part PUTs -> 500 / 503
    lfs_drop: N                  next N storage/part PUTs: read some of the body,
                                 then reset the connection without answering
    lfs_slow_ms: M               sleep M ms before answering storage/part PUTs
    batch_429: N, retry_after: S next N batch calls -> 429 (batch_500/batch_503 too)
    expire_urls: true            every signed storage URL is treated as expired
                                 (403 "Request has expired")
    multipart_threshold: BYTES   objects >= BYTES get a multipart upload, if the
                                 client offered "multipart" in `transfers`
    chunk_size: BYTES            multipart part size (default 5 MiB)
    large_file_bytes: BYTES      hook: non-LFS size limit (default 10 MiB)
    binary_min_bytes: BYTES      hook: binary blobs smaller than this are let
                                 through (default 0: every binary blob is refused)
    git_redirect: {"OWNER/NAME": URL}
                                 GET /datasets/OWNER/NAME[.git]/info/refs?Q answers
                                 302 to URL/info/refs?Q (URL on this server: a
                                 same-origin redirect; on a --foreign server: a
                                 redirect to another origin)
    hook_echo_auth: true         hook: print the push's Authorization header value
                                 (without the "Authorization:" name), its base64
                                 payload alone, base64 of the token alone, and the
                                 token URL-encoded (quote(safe="") and every byte
                                 %xx) as `remote:` lines, then refuse the push

  Hostile switches (a server that attacks or starves its client):
    batch_pad: N                 every batch answer also lists N objects nobody asked
                                 for (random oids, with actions; one in ten with an error)
    href: "userinfo"|"file"|"ftp"
                                 upload, part and download hrefs of batch answers become
                                 http://user:pass@HOST/..., file:///... or ftp://HOST/...
    drip_batch: true             batch answer bodies are sent one byte a second
    drip_storage: true           storage GET bodies (downloads) are sent one byte a second
    no_validate_yaml: true       POST /api/validate-yaml -> 404, as a Hub without it
    xet: {"cas": URL, "data": DIR, "python": PATH}
                                 the Hub speaks Xet (hub_xet.py): a batch upload that offers
                                 "xet" gets "transfer": "xet" with the CAS proxy
                                 (/xet-cas -> URL, Authorization logged to
                                 DIR/xet-cas-auth.log) and the token-refresh href
                                 GET /api/datasets/OWNER/NAME/xet-write-token/REV (REV:
                                 the batch's ref as huggingface_hub writes it, main,
                                 refs%2Fpr%2F1, None?create_pr=1 without a ref); objects
                                 the CAS's shards (DATA/shards) register count as stored
                                 (batch, pre-receive) and are materialised into the LFS
                                 store for downloads with PATH's hf_xet
    xet_forget: true             objects only the CAS holds are asked for again (a repo
                                 that lacks a file another repo put in the CAS)
    xet_slow_ms: M               the CAS proxy sleeps M ms before forwarding a POST
    xet_cas_status: S            the CAS proxy answers every request with HTTP status S
    xet_expired_token: true      the CAS token of a batch answer has already expired (the
                                 client must ask the token-refresh href for a new one)
    xet_href: URL                the token-refresh href of a batch answer
    xet_cas_host: HOST:PORT      the CAS URL names this host (the Hub's own server under
                                 another name) instead of the one the client asked
    xet_direct: true             the CAS URL of a batch answer (and of the token-refresh
                                 href) is the store's own (xet.cas), not the recording
                                 proxy: nothing is logged or checked on the way, for
                                 bench/xet.sh's timings (the tests keep the proxy)
    validate_yaml_reject: TEXT   POST /api/validate-yaml -> 400 with this error, whatever
                                 the card (a Hub whose rules are ahead of our lists)

The hook mode (`hub_server.py --hook`) is what each repo's hooks/pre-receive runs.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hub_xet

MiB = 1024 * 1024
URL_TTL = 900  # seconds a signed storage URL stays valid (the Hub uses 900)
REALM = 'Basic realm="Hugging Face"'
LFS_JSON = "application/vnd.git-lfs+json"
OID_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = r"[A-Za-z0-9][A-Za-z0-9._-]*"
POINTER_RE = re.compile(
    rb"^version https://git-lfs\.github\.com/spec/v1\n"
    rb"oid sha256:([0-9a-f]{64})\n"
    rb"size ([0-9]+)\n$"
)

# The Hub's default .gitattributes for a new dataset repo (hub-protocol.md §6.3).
_LFS_PATTERNS = [
    "*.7z", "*.arrow", "*.avro", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5",
    "*.joblib", "*.lfs.*", "*.lz4", "*.mds", "*.mlmodel", "*.model", "*.msgpack",
    "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl",
    "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
    "# Audio files - uncompressed", "*.pcm", "*.sam", "*.raw",
    "# Audio files - compressed", "*.aac", "*.flac", "*.mp3", "*.ogg", "*.wav",
    "# Image files - uncompressed", "*.bmp", "*.gif", "*.png", "*.tiff",
    "# Image files - compressed", "*.jpg", "*.jpeg", "*.webp",
    "# Video files - compressed", "*.mp4", "*.webm",
]
GITATTRIBUTES = "".join(
    (p if p.startswith("#") else f"{p} filter=lfs diff=lfs merge=lfs -text") + "\n"
    for p in _LFS_PATTERNS
)


def utcnow_iso(offset=0):
    t = datetime.fromtimestamp(time.time() + offset, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def git_env(extra=None):
    """Environment for server-side git: none of the caller's GIT_* variables and
    no global/system config, so the machine's git setup cannot leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    if extra:
        env.update(extra)
    return env


def run_git(args, cwd=None, input=None, env=None):
    res = subprocess.run(["git", *args], cwd=cwd, input=input, env=env or git_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {res.stderr.decode(errors='replace')}")
    return res.stdout


def is_binary(data):
    """hfh's old client-side rule (repository.py, is_binary_file): drop the bytes
    that count as text; anything left means binary."""
    return bool(data.translate(None, _TEXT_BYTES))


_TEXT_BYTES = bytes(sorted({7, 8, 9, 10, 12, 13, 27} | set(range(0x20, 0x100)) - {0x7F}))


# --------------------------------------------------------------------------- state


class Hub:
    """Everything the handlers share: paths, config files, signed URLs."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.repos_root = os.path.join(self.root, "repos")
        self.lfs_root = os.path.join(self.root, "lfs")
        self.tmp_root = os.path.join(self.root, "lfs-tmp")
        for d in (self.repos_root, self.lfs_root, self.tmp_root):
            os.makedirs(d, exist_ok=True)
        self.lock = threading.Lock()        # repo creation, faults.json, signatures
        self.log_lock = threading.Lock()
        self.sigs = {}        # sig -> {"path": storage path it signs, "exp": unix time}
        self.multipart = {}   # (owner, name, oid) -> {"size", "chunk", "parts"}
        self.cas_token = "xet_cas_" + secrets.token_hex(12)  # what the CAS proxy accepts

    # ---- config files
    def _load_json(self, name):
        try:
            with open(os.path.join(self.root, name)) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def tokens(self):
        return self._load_json("tokens.json")

    def faults(self):
        return self._load_json("faults.json")

    def take_fault(self, keys):
        """Consume one unit of the first positive counter among `keys`; the
        decrement is written back so "the next N requests" spans processes and
        survives tests re-reading the file. Returns (key, faults) or (None, faults)."""
        with self.lock:
            faults = self.faults()
            for key in keys:
                n = faults.get(key) or 0
                if isinstance(n, int) and n > 0:
                    faults[key] = n - 1
                    path = os.path.join(self.root, "faults.json")
                    tmp = path + ".tmp"
                    with open(tmp, "w") as f:
                        json.dump(faults, f, indent=1)
                    os.replace(tmp, path)
                    return key, faults
            return None, faults

    def log(self, method, path, status):
        # Only method, path and status: never headers, so never tokens. Storage
        # signatures are redacted as well.
        path = re.sub(r"sig=[^&]*", "sig=REDACTED", path)
        line = f"{utcnow_iso()} {method} {path} {status}\n"
        with self.log_lock, open(os.path.join(self.root, "requests.log"), "a") as f:
            f.write(line)

    # ---- repos
    def repo_dir(self, owner, name):
        return os.path.join(self.repos_root, "datasets", owner, name + ".git")

    def repo_meta(self, owner, name):
        """Metadata of an existing repo, or None."""
        if not os.path.isdir(self.repo_dir(owner, name)):
            return None
        try:
            with open(os.path.join(self.repos_root, "datasets", owner, name + ".json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"id": "", "private": False}

    def lfs_dir(self, owner, name):
        return os.path.join(self.lfs_root, owner, name)

    def lfs_path(self, owner, name, oid):
        return os.path.join(self.lfs_dir(owner, name), oid)

    def create_repo(self, owner, name, private):
        """Make the bare repo with the Hub's initial commit. Returns the meta, or
        None if it already exists. Built in a temp dir and renamed into place so
        no request ever sees a half-made repo."""
        with self.lock:
            final = self.repo_dir(owner, name)
            if os.path.exists(final):
                return None
            parent = os.path.dirname(final)
            os.makedirs(parent, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=parent)
            try:
                run_git(["init", "--bare", "-q", "--initial-branch=main", tmp])
                run_git(["config", "http.receivepack", "true"], cwd=tmp)
                hook = os.path.join(tmp, "hooks", "pre-receive")
                with open(hook, "w") as f:
                    f.write("#!/bin/sh\nexec %s %s --hook\n" % (
                        shlex.quote(sys.executable), shlex.quote(os.path.abspath(__file__))))
                os.chmod(hook, 0o755)
                blob = run_git(["hash-object", "-w", "--stdin"], cwd=tmp,
                               input=GITATTRIBUTES.encode()).decode().strip()
                tree = run_git(["mktree"], cwd=tmp,
                               input=f"100644 blob {blob}\t.gitattributes\n".encode()).decode().strip()
                who = {"GIT_AUTHOR_NAME": "system", "GIT_AUTHOR_EMAIL": "system@hf.co",
                       "GIT_COMMITTER_NAME": "system", "GIT_COMMITTER_EMAIL": "system@hf.co"}
                commit = run_git(["commit-tree", tree, "-m", "initial commit"], cwd=tmp,
                                 env=git_env(who)).decode().strip()
                run_git(["update-ref", "refs/heads/main", commit], cwd=tmp)
                meta = {"id": secrets.token_hex(12), "private": bool(private)}
                with open(os.path.join(parent, name + ".json"), "w") as f:
                    json.dump(meta, f)
                os.rename(tmp, final)
                return meta
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise

    # ---- signed storage URLs
    def sign(self, path):
        sig = secrets.token_urlsafe(18)
        with self.lock:
            now = time.time()
            # Forget expired signatures so the table does not grow forever.
            for s in [s for s, v in self.sigs.items() if v["exp"] < now]:
                del self.sigs[s]
            self.sigs[sig] = {"path": path, "exp": now + URL_TTL}
        return sig

    def check_sig(self, sig, path):
        """None if valid, else the error text for a 403."""
        with self.lock:
            entry = self.sigs.get(sig or "")
        if entry is None or entry["path"] != path:
            return "The request signature we calculated does not match the signature you provided."
        if entry["exp"] < time.time() or self.faults().get("expire_urls"):
            return "Request has expired"
        return None


class User:
    def __init__(self, name, write, orgs):
        self.name, self.write, self.orgs = name, write, list(orgs)

    def owns(self, namespace):
        return namespace == self.name or namespace in self.orgs

    def can_read(self, owner, meta):
        return not meta.get("private") or self.owns(owner)

    def can_write(self, owner):
        return self.write and self.owns(owner)


# --------------------------------------------------------------------------- pull requests
#
# The Hub keeps a repo's discussions and pull requests numbered together from 1; a pull
# request is a discussion with a git ref, refs/pr/NUM, that starts at the target branch
# (main) and that anyone allowed to push there moves with a plain `git push`
# (hub docs, repositories-pull-requests-discussions: "git push origin pr/42:refs/pr/42").
# ASSUMED where the docs say nothing precise (see pr_ref_verdict): who may push, and that a
# closed or merged PR refuses pushes; the DENIED wording is ours, laid out as the Hub's
# read-only refusal is.

PR_TITLE_MIN, PR_TITLE_MAX = 3, 200  # huggingface_hub's create_discussion docstring


def discussions_path(hub, owner, name):
    return os.path.join(hub.repos_root, "datasets", owner, name + ".discussions.json")


def load_discussions(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"next": 1, "items": {}}


def save_discussions(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, path)


def pr_ref_verdict(ref, can_write):
    """Hook rule for refs/pr/NUM: None when the push may update it, else the reason.
    Write access to the repo or being the PR's author allows it (ASSUMED from the Hub
    docs: "you can push to a PR you opened"); a closed or merged PR, a plain discussion
    and a number without a discussion refuse it."""
    num = ref[len("refs/pr/"):]
    items = load_discussions(os.environ.get("HUB_DISCUSSIONS", "")).get("items", {})
    item = items.get(num) if num.isdigit() else None
    if item is None or not item.get("isPullRequest"):
        return f"pull request #{num} does not exist"
    if item.get("status") != "open":
        return f"pull request #{num} is {item.get('status')}, it does not accept pushes"
    if not can_write and item.get("author") != os.environ.get("HUB_USER"):
        return "forbidden (only the pull request's author or a repo writer may push here)"
    return None


class DiscussionsApi:
    """Handler methods of the discussions endpoints (mixed into Handler)."""

    def discussion_access(self, owner, name):
        """(user, meta) of a visible repo for a logged-in user, or None after answering."""
        state, user = self.auth()
        if user is None:
            self.api_auth_error(state)
            return None
        meta = self.hub.repo_meta(owner, name)
        if meta is None or not user.can_read(owner, meta):
            self.send_json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            return None
        return user, meta

    def discussion_json(self, owner, name, num, item):
        return {
            "num": int(num), "title": item["title"], "status": item["status"],
            "isPullRequest": item["isPullRequest"], "author": {"name": item["author"]},
            "createdAt": item["createdAt"], "repo": {"name": f"{owner}/{name}", "type": "dataset"},
            "url": f"{self.base_url()}/datasets/{owner}/{name}/discussions/{num}",
            "events": [{"type": "comment", "author": {"name": item["author"]},
                        "data": {"latest": {"raw": item["description"]}}}],
            "conflictingFiles": [], "target_branch": "refs/heads/main" if item["isPullRequest"] else None,
            "merge_commit_oid": item.get("mergeCommit"),
        }

    def api_discussion_create(self, owner, name):
        access = self.discussion_access(owner, name)
        if access is None:
            return
        user, _ = access
        body = self.read_json()
        title = body.get("title") if body else None
        if not isinstance(title, str) or not PR_TITLE_MIN <= len(title.strip()) <= PR_TITLE_MAX:
            return self.send_json(400, {"error": f"title must be {PR_TITLE_MIN} to {PR_TITLE_MAX} characters"})
        description = body.get("description") or ""
        is_pr = bool(body.get("pullRequest"))
        path = discussions_path(self.hub, owner, name)
        with self.hub.lock:
            state = load_discussions(path)
            num = state["next"]
            if is_pr:
                repo = self.hub.repo_dir(owner, name)
                main = run_git(["rev-parse", "--verify", "-q", "refs/heads/main"], cwd=repo).decode().strip()
                run_git(["update-ref", f"refs/pr/{num}", main], cwd=repo)
            item = {"title": title.strip(), "description": description, "isPullRequest": is_pr,
                    "status": "open", "author": user.name, "createdAt": utcnow_iso()}
            state["items"][str(num)] = item
            state["next"] = num + 1
            save_discussions(path, state)
        out = self.discussion_json(owner, name, num, item)
        out["pullRequest"] = is_pr
        self.send_json(200, out)

    def api_discussion_get(self, owner, name, num):
        if self.discussion_access(owner, name) is None:
            return
        item = load_discussions(discussions_path(self.hub, owner, name))["items"].get(str(int(num)))
        if item is None:
            return self.send_json(404, {"error": "Discussion not found"})
        self.send_json(200, self.discussion_json(owner, name, int(num), item))

    def api_discussion_change(self, owner, name, num, action):
        access = self.discussion_access(owner, name)
        if access is None:
            return
        user, _ = access
        body = self.read_json() or {}
        num = str(int(num))
        path = discussions_path(self.hub, owner, name)
        with self.hub.lock:
            state = load_discussions(path)
            item = state["items"].get(num)
            if item is None:
                return self.send_json(404, {"error": "Discussion not found"})
            if not (user.can_write(owner) or (action == "status" and item["author"] == user.name)):
                return self.send_json(403, {"error": "You don't have the rights to do this"})
            if action == "status":
                if body.get("status") not in ("open", "closed") or item["status"] == "merged":
                    return self.send_json(400, {"error": "Invalid status"})
                item["status"] = body["status"]
            else:
                # ASSUMED: the Hub squashes a PR into main; a fast-forward is enough here.
                if not item["isPullRequest"] or item["status"] != "open":
                    return self.send_json(400, {"error": "This pull request cannot be merged"})
                repo = self.hub.repo_dir(owner, name)
                tip = run_git(["rev-parse", f"refs/pr/{num}"], cwd=repo).decode().strip()
                main = run_git(["rev-parse", "refs/heads/main"], cwd=repo).decode().strip()
                ff = subprocess.run(["git", "merge-base", "--is-ancestor", main, tip], cwd=repo,
                                    env=git_env()).returncode == 0
                if not ff:
                    return self.send_json(409, {"error": "This pull request has conflicts"})
                run_git(["update-ref", "refs/heads/main", tip, main], cwd=repo)
                item["status"], item["mergeCommit"] = "merged", tip
            save_discussions(path, state)
        self.send_json(200, self.discussion_json(owner, name, int(num), item))


# --------------------------------------------------------------------------- HTTP


class ClientGone(Exception):
    pass


R_REPO = rf"/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE}?)(?:\.git)?"
R_STORE = rf"/lfs-storage/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/(?P<oid>[0-9a-f]{{64}})"


def valid_name(name):
    return (0 < len(name) <= 96 and ".." not in name and "--" not in name
            and not name.endswith(".git") and not name.endswith("."))


class Handler(DiscussionsApi, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hf-relay-test-hub/1.0"
    # TCP_NODELAY, as web servers set it: http.server writes the headers and the body of an
    # answer in two sends, and with Nagle the body waits for the client's delayed ACK
    # (~40 ms) on every request of a kept-alive connection after the first.
    disable_nagle_algorithm = True
    hub: Hub = None  # set in main()
    scheme = "http"  # "https" with --tls-cert

    def setup(self):
        if hasattr(self.request, "do_handshake"):  # TLS: handshake here, in this thread
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    ROUTES = [
        ("GET", r"/api/whoami-v2", "api_whoami"),
        ("POST", r"/api/repos/create", "api_create"),
        ("POST", r"/api/validate-yaml", "api_validate_yaml"),
        ("GET", rf"/api/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})(?:/revision/(?P<rev>[^/]+))?",
         "api_dataset_info"),
        ("POST", rf"/api/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/discussions",
         "api_discussion_create"),
        ("GET", rf"/api/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/discussions/(?P<num>[0-9]+)",
         "api_discussion_get"),
        ("POST", rf"/api/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/discussions/(?P<num>[0-9]+)"
         r"/(?P<action>status|merge)", "api_discussion_change"),
        ("POST", R_REPO + r"/info/lfs/objects/batch", "lfs_batch"),
        ("GET", rf"/api/datasets/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/xet-write-token/(?P<rev>[^/]+)",
         "xet_write_token"),
        ("GET", r"/xet-cas(?P<rest>/.*)", "xet_cas_proxy"),
        ("POST", r"/xet-cas(?P<rest>/.*)", "xet_cas_proxy"),
        ("PUT", r"/xet-cas(?P<rest>/.*)", "xet_cas_proxy"),
        ("POST", R_REPO + r"/info/lfs/objects/verify", "lfs_verify"),
        ("GET", R_REPO + r"/info/refs", "git_smart"),
        ("POST", R_REPO + r"/(?P<service>git-upload-pack|git-receive-pack)", "git_smart"),
        ("PUT", R_STORE + r"/part/(?P<part>[0-9]+)", "storage_put"),
        ("PUT", R_STORE, "storage_put"),
        ("GET", R_STORE, "storage_get"),
        ("POST", rf"/lfs-complete/(?P<owner>{NAME_RE})/(?P<name>{NAME_RE})/(?P<oid>[0-9a-f]{{64}})",
         "lfs_complete"),
    ]

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        self.status_logged = False
        self.body_started = False
        path, _, self.query = self.path.partition("?")
        self.params = urllib.parse.parse_qs(self.query)
        try:
            for m, pattern, fn in self.ROUTES:
                match = re.fullmatch(pattern, path)
                if match and m == method:
                    getattr(self, fn)(**match.groupdict())
                    break
            else:
                self.drain_body()
                self.send_text(404, "Not Found")
        except ClientGone:
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            if not self.status_logged:
                try:
                    self.send_text(500, "Internal Error")
                except OSError:
                    pass

    # ---- logging: requests.log only, never headers
    def log_request(self, code="-", size="-"):
        self.status_logged = True
        self.hub.log(self.command, self.path, getattr(code, "value", code))

    # ---- auth
    def token(self):
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() or None
        if scheme.lower() == "basic":
            try:
                _, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return ""
            return password  # the username is ignored, as on the Hub
        return None if not header else ""

    def auth(self):
        """("none", None), ("invalid", None) or ("ok", User)."""
        tok = self.token()
        if tok is None:
            return "none", None
        entry = self.hub.tokens().get(tok)
        if not isinstance(entry, dict) or "user" not in entry:
            return "invalid", None
        return "ok", User(entry["user"], bool(entry.get("write")), entry.get("orgs") or [])

    # ---- request bodies
    def iter_body(self, limit=None, block_size=64 * 1024):
        """Yield the request body in blocks of at most `block_size`: Content-Length
        or chunked (decoded here; git and curl send chunked bodies for big uploads).
        `limit` stops early after about that many bytes (used to simulate a dropped
        upload)."""
        self.body_started = True
        got = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ClientGone()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                while size:
                    block = self.rfile.read(min(size, block_size))
                    if not block:
                        raise ClientGone()
                    size -= len(block)
                    got += len(block)
                    yield block
                    if limit is not None and got >= limit:
                        return
                self.rfile.readline(8)  # CRLF after each chunk
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                block = self.rfile.read(min(left, block_size))
                if not block:
                    raise ClientGone()
                left -= len(block)
                got += len(block)
                yield block
                if limit is not None and got >= limit:
                    return

    def read_body(self, max_bytes=16 * MiB):
        data = bytearray()
        for block in self.iter_body():
            data += block
            if len(data) > max_bytes:
                raise ValueError("body too large")
        return bytes(data)

    def read_json(self):
        try:
            obj = json.loads(self.read_body() or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        return obj if isinstance(obj, dict) else None

    def drain_body(self):
        """Read and drop an unread body, so that a keep-alive connection stays
        in sync and the client is not reset while it still sends."""
        if not self.body_started:
            for _ in self.iter_body():
                pass

    # ---- responses
    def send_bytes(self, code, body, ctype, headers=None, drip=False):
        self.drain_body()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drip:
            self.drip(body)
        else:
            self.wfile.write(body)

    def drip(self, body):
        """Send `body` one byte a second (a hostile or starved server)."""
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            raise ClientGone()

    def hostile_href(self, href, faults):
        """The `href` switch: the same URL with userinfo, or another scheme."""
        mode = faults.get("href")
        if not mode:
            return href
        rest = href.split("://", 1)[1]
        if mode == "userinfo":
            return "http://user:pass@" + rest
        if mode == "file":
            return "file:///" + rest.split("/", 1)[1]
        if mode == "ftp":
            return "ftp://" + rest
        return href

    def send_text(self, code, text, headers=None):
        self.send_bytes(code, text.encode(), "text/plain; charset=utf-8", headers)

    def send_json(self, code, obj, headers=None, ctype="application/json; charset=utf-8",
                  drip=False):
        self.send_bytes(code, json.dumps(obj).encode(), ctype, headers, drip)

    def base_url(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return f"{self.scheme}://{host}"

    def abort_connection(self):
        """Reset the TCP connection without an answer (SO_LINGER 0 -> RST)."""
        self.hub.log(self.command, self.path, "DROPPED")
        self.status_logged = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    # ---- REST API
    def api_auth_error(self, state):
        if state == "invalid":
            msg = "Invalid credentials in Authorization header"
            self.send_json(401, {"error": msg}, {"X-Error-Message": msg})
        else:
            self.send_json(401, {"error": "Invalid username or password."})

    def api_validate_yaml(self):
        """The Hub's card check: 200 {"warnings": []}, or 400 {"errors": [{"message"}],
        "warnings": []}, like hfh's `_validate_yaml` reads it."""
        body = self.read_json()
        if self.hub.faults().get("no_validate_yaml"):
            self.send_text(404, "Not Found")
            return
        reject = self.hub.faults().get("validate_yaml_reject")
        if reject:
            self.send_json(400, {"errors": [{"message": str(reject)}], "warnings": []})
            return
        try:
            errors = validate_card((body or {}).get("content") or "")
        except ImportError:
            self.send_text(404, "Not Found")
            return
        if errors is None:
            self.send_json(400, {"errors": [{"message": "Invalid YAML in README.md"}],
                                 "warnings": []})
        elif errors:
            self.send_json(400, {"errors": [{"message": e} for e in errors], "warnings": []})
        else:
            self.send_json(200, {"warnings": []})

    def api_whoami(self):
        state, user = self.auth()
        if user is None:
            msg = "Invalid credentials in Authorization header"
            return self.send_json(401, {"error": "Invalid user token."}, {"X-Error-Message": msg})
        uid = hashlib.sha1(user.name.encode()).hexdigest()[:24]
        self.send_json(200, {
            "type": "user", "id": uid, "name": user.name, "fullname": user.name,
            "email": f"{user.name}@example.com", "emailVerified": True, "isPro": False,
            "canPay": False, "avatarUrl": f"/avatars/{uid}.svg", "periodEnd": None,
            "billingMode": "postpaid",
            "orgs": [{"type": "org", "id": hashlib.sha1(o.encode()).hexdigest()[:24], "name": o,
                      "fullname": o, "email": None, "canPay": False,
                      "avatarUrl": f"/avatars/{o}.svg", "periodEnd": None} for o in user.orgs],
            "auth": {"type": "access_token", "accessToken": {
                "displayName": "test-token", "role": "write" if user.write else "read",
                "createdAt": "2024-01-01T00:00:00.000Z"}},
        })

    def api_create(self):
        state, user = self.auth()
        if user is None:
            return self.api_auth_error(state)
        body = self.read_json()
        if body is None or not isinstance(body.get("name"), str):
            return self.send_json(400, {"error": "Invalid request body: name is required"})
        if body.get("type", "model") != "dataset":
            return self.send_json(400, {"error": "This test server only hosts dataset repos"})
        name = body["name"]
        owner = body.get("organization") or user.name
        if not (re.fullmatch(NAME_RE, name) and valid_name(name)
                and isinstance(owner, str) and re.fullmatch(NAME_RE, owner)):
            return self.send_json(400, {"error": "Repository name is invalid"})
        if not user.can_write(owner):
            return self.send_json(
                403, {"error": "You don't have the rights to create a dataset under this namespace"})
        private = body.get("visibility") == "private" or body.get("private") is True
        url = f"{self.base_url()}/datasets/{owner}/{name}"
        meta = self.hub.create_repo(owner, name, private)
        if meta is None:
            return self.send_json(409, {"error": "You already created this dataset repo", "url": url})
        self.send_json(200, {"url": url, "name": f"{owner}/{name}", "id": meta["id"]})

    def api_dataset_info(self, owner, name, rev=None):
        state, user = self.auth()
        if state == "invalid":
            return self.api_auth_error(state)
        meta = self.hub.repo_meta(owner, name)
        if meta is None or (meta.get("private") and not (user and user.owns(owner))):
            return self.send_json(404, {"error": "Repository not found"},
                                  {"X-Error-Code": "RepoNotFound"})
        repo = self.hub.repo_dir(owner, name)
        rev = urllib.parse.unquote(rev) if rev else "main"
        sha = None
        if not rev.startswith("-"):
            try:
                sha = run_git(["rev-parse", "--verify", "-q", rev + "^{commit}"], cwd=repo).decode().strip()
            except RuntimeError:
                sha = None
        if sha is None and rev != "main":
            return self.send_json(404, {"error": f"Invalid rev id: {rev}"},
                                  {"X-Error-Code": "RevisionNotFound"})
        files, modified = [], None
        if sha:
            files = run_git(["ls-tree", "-r", "-z", "--name-only", sha], cwd=repo).decode().split("\0")
            modified = run_git(["show", "-s", "--format=%cI", sha], cwd=repo).decode().strip()
        self.send_json(200, {
            "_id": meta.get("id"), "id": f"{owner}/{name}", "author": owner, "sha": sha,
            "private": bool(meta.get("private")), "gated": False, "disabled": False,
            "lastModified": modified, "siblings": [{"rfilename": f} for f in files if f],
        })

    # ---- git smart HTTP
    def git_smart(self, owner, name, service=None):
        target = (self.hub.faults().get("git_redirect") or {}).get(f"{owner}/{name}")
        if target and self.command == "GET":
            location = f"{target.rstrip('/')}/info/refs" + (f"?{self.query}" if self.query else "")
            return self.send_text(302, "Found", {"Location": location})
        if service is None:
            service = (self.params.get("service") or [""])[0]
        if service not in ("git-upload-pack", "git-receive-pack"):
            return self.send_text(403, "Please upgrade your git client.")
        state, user = self.auth()
        if state == "invalid":
            return self.send_text(401, "Invalid username or password.", {"WWW-Authenticate": REALM})
        push = service == "git-receive-pack"
        meta = self.hub.repo_meta(owner, name)
        visible = meta is not None and (user.can_read(owner, meta) if user else not meta.get("private"))
        if user is None and (push or not visible):
            # Like the Hub: missing, private and "needs auth" all look the same.
            return self.send_text(401, "Invalid username or password.", {"WWW-Authenticate": REALM})
        if not visible:
            return self.send_text(404, "Repository not found")
        # A read-only token may connect; the pre-receive hook then answers DENIED
        # (that is how the Hub reports it).
        sub = "info/refs" if self.command == "GET" else service
        self.run_backend(owner, name, sub, user, push and user.can_write(owner))

    def run_backend(self, owner, name, sub, user, can_write):
        env = git_env({
            "GIT_PROJECT_ROOT": self.hub.repos_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/datasets/{owner}/{name}.git/{sub}",
            "QUERY_STRING": self.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": user.name if user else "",
            "REMOTE_ADDR": self.client_address[0],
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            # Read by the pre-receive hook (hub_server.py --hook).
            "HUB_ROOT": self.hub.root,
            "HUB_CAN_WRITE": "1" if can_write else "0",
            "HUB_LFS_DIR": self.hub.lfs_dir(owner, name),
            "HUB_USER": user.name if user else "",
            "HUB_DISCUSSIONS": discussions_path(self.hub, owner, name),
        })
        if self.hub.faults().get("hook_echo_auth"):
            env["HUB_ECHO_AUTHORIZATION"] = self.headers.get("Authorization", "")
        chunked_in = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if self.command == "POST" and not chunked_in:
            # Without CONTENT_LENGTH, http-backend reads stdin to EOF (chunked case).
            env["CONTENT_LENGTH"] = self.headers.get("Content-Length", "0")
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]  # http-backend gunzips
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        proc = subprocess.Popen(["git", "http-backend"], env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)

        # Feed the body from another thread so that neither side can block the other.
        feed_error = []

        def feed():
            try:
                for block in self.iter_body():
                    proc.stdin.write(block)
            except BrokenPipeError:
                feed_error.append("backend stopped reading")
            except Exception as e:  # client vanished, bad chunking, ...
                feed_error.append(repr(e))
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        self.body_started = True
        feeder.start()
        try:
            self.relay_cgi_output(proc)
        finally:
            feeder.join()
            proc.stdout.close()
            proc.wait()
            if feed_error:
                # Part of the body may be unread; the connection is out of sync.
                self.close_connection = True

    def relay_cgi_output(self, proc):
        status, headers, length = 200, [], None
        while True:
            line = proc.stdout.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            key, value = key.strip(), value.strip()
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key.lower() == "content-length":
                length = int(value)
            else:
                headers.append((key, value))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        chunked_out = length is None and self.request_version == "HTTP/1.1"
        if length is not None:
            self.send_header("Content-Length", str(length))
        elif chunked_out:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
        self.end_headers()
        try:
            while True:
                block = proc.stdout.read1(64 * 1024)
                if not block:
                    break
                if chunked_out:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(block), block))
                else:
                    self.wfile.write(block)
            if chunked_out:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            raise ClientGone()

    # ---- LFS batch API
    def lfs_error(self, code, message, headers=None):
        self.send_json(code, {"message": message,
                              "documentation_url": "https://huggingface.co/docs/hub"},
                       headers, ctype=LFS_JSON)

    def lfs_access(self, owner, name, write):
        """Apply the Hub's rules; returns (meta, user) or None after answering."""
        state, user = self.auth()
        unauth = {"WWW-Authenticate": REALM, "LFS-Authenticate": REALM}
        if state == "invalid":
            self.lfs_error(401, "Invalid username or password.", unauth)
            return None
        meta = self.hub.repo_meta(owner, name)
        visible = meta is not None and (user.can_read(owner, meta) if user else not meta.get("private"))
        if user is None and (write or not visible):
            self.lfs_error(401, "Invalid username or password.", unauth)
            return None
        if not visible:
            self.lfs_error(404, "Repository not found")
            return None
        if write and not user.can_write(owner):
            self.lfs_error(403, "Authorization error.")
            return None
        return meta, user

    def lfs_batch(self, owner, name):
        fault, faults = self.hub.take_fault(["batch_429", "batch_500", "batch_503"])
        if fault:
            code = int(fault.split("_")[1])
            headers = {"Retry-After": str(faults.get("retry_after", 1))} if code == 429 else None
            return self.lfs_error(code, "Too Many Requests" if code == 429 else "Server error", headers)
        body = self.read_json()
        op = body.get("operation") if body else None
        if op not in ("upload", "download") or not isinstance(body.get("objects"), list):
            return self.lfs_error(422, "Invalid batch request")
        if self.lfs_access(owner, name, write=(op == "upload")) is None:
            return
        base = self.base_url()
        xet = faults.get("xet")
        use_xet = bool(xet) and op == "upload" and "xet" in (body.get("transfers") or [])
        # The token-refresh route of the ref the batch names, as huggingface_hub writes it
        # (a branch's short name, refs/pr/N in full, quoted); without a ref (a pull request
        # still to open), huggingface_hub's create_pr form.
        ref = body.get("ref").get("name") if isinstance(body.get("ref"), dict) else None
        xet_rev = (urllib.parse.quote(ref.removeprefix("refs/heads/"), safe="")
                   if isinstance(ref, str) and ref else "None?create_pr=1")
        in_cas = hub_xet.registered(xet["data"]) if xet else {}
        threshold = faults.get("multipart_threshold")
        use_multipart = threshold is not None and "multipart" in (body.get("transfers") or [])
        chunk = int(faults.get("chunk_size") or 5 * MiB)
        out, transfer = [], "basic"
        for obj in body["objects"]:
            oid, size = (obj or {}).get("oid"), (obj or {}).get("size")
            if not (isinstance(oid, str) and OID_RE.match(oid) and isinstance(size, int) and size >= 0):
                out.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid object"}})
                continue
            entry = {"oid": oid, "size": size}
            stored = self.hub.lfs_path(owner, name, oid)
            have = os.path.isfile(stored) and os.path.getsize(stored) == size
            if not have and oid in in_cas and not (op == "upload" and faults.get("xet_forget")):
                # Stored in Xet: the LFS bridge serves it from the CAS.
                have = op == "upload" or hub_xet.materialize(
                    xet, oid, size, self.hub.lfs_dir(owner, name), self.hub.tmp_root)
            store_path = f"/lfs-storage/{owner}/{name}/{oid}"
            timing = {"expires_in": URL_TTL, "expires_at": utcnow_iso(URL_TTL)}
            if op == "download":
                if have:
                    href = f"{base}{store_path}?sig={self.hub.sign(store_path)}"
                    href = self.hostile_href(href, faults)
                    entry.update(authenticated=True,
                                 actions={"download": {"href": href, "header": {}, **timing}})
                else:
                    entry["error"] = {"code": 404, "message": "Object does not exist"}
            elif not have:  # upload of a missing object; present ones get no actions
                verify = {"href": f"{base}/datasets/{owner}/{name}.git/info/lfs/objects/verify",
                          "header": {}}
                if use_xet:
                    transfer = "xet"
                    header = self.xet_headers(base)
                    if faults.get("xet_expired_token"):
                        header["X-Xet-Token-Expiration"] = str(int(time.time()) - 60)
                    href = faults.get("xet_href") or \
                        f"{base}/api/datasets/{owner}/{name}/xet-write-token/{xet_rev}"
                    upload = {"href": href, "header": header}
                    entry.update(authenticated=True, actions={"upload": {**upload, **timing}})
                    out.append(entry)
                    continue
                if use_multipart and size >= int(threshold):
                    transfer = "multipart"
                    nparts = max(1, -(-size // chunk))
                    header = {"chunk_size": str(chunk)}
                    for i in range(1, nparts + 1):
                        p = f"{store_path}/part/{i}"
                        header[f"{i:05d}"] = self.hostile_href(
                            f"{base}{p}?sig={self.hub.sign(p)}", faults)
                    with self.hub.lock:
                        self.hub.multipart[(owner, name, oid)] = {"size": size, "chunk": chunk,
                                                                  "parts": nparts}
                    upload = {"href": f"{base}/lfs-complete/{owner}/{name}/{oid}", "header": header}
                else:
                    upload = {"href": self.hostile_href(
                        f"{base}{store_path}?sig={self.hub.sign(store_path)}", faults),
                              "header": {}}
                entry.update(authenticated=True,
                             actions={"upload": {**upload, **timing}, "verify": verify})
            out.append(entry)
        for i in range(int(faults.get("batch_pad") or 0)):
            oid = secrets.token_hex(32)
            if i % 10 == 9:
                out.append({"oid": oid, "size": 1, "error": {"code": 404, "message": "Not asked"}})
            else:
                out.append({"oid": oid, "size": 1, "authenticated": True, "actions": {op: {
                    "href": f"{base}/lfs-storage/{owner}/{name}/{oid}?sig=padding",
                    "header": {}, "expires_in": URL_TTL}}})
        self.send_json(200, {"transfer": transfer, "objects": out, "hash_algo": "sha256"},
                       ctype=LFS_JSON, drip=bool(faults.get("drip_batch")))

    # ---- Xet (hub_xet.py)
    def xet_headers(self, base):
        faults = self.hub.faults()
        host = faults.get("xet_cas_host")
        if host:
            base = f"{self.scheme}://{host}"
        cas_url = f"{base}/xet-cas"
        if faults.get("xet_direct") and faults.get("xet"):
            cas_url = faults["xet"]["cas"].rstrip("/")  # the store itself, no proxy
        return {"X-Xet-Cas-Url": cas_url,
                "X-Xet-Access-Token": self.hub.cas_token,
                "X-Xet-Token-Expiration": str(int(time.time()) + 3600),
                "X-Xet-Session-Id": secrets.token_hex(16)}

    def xet_write_token(self, owner, name, rev):
        if not self.hub.faults().get("xet"):
            return self.send_text(404, "Not Found")
        if self.lfs_access(owner, name, write=True) is None:
            return
        headers = self.xet_headers(self.base_url())
        self.send_json(200, {"accessToken": headers["X-Xet-Access-Token"],
                             "exp": int(headers["X-Xet-Token-Expiration"]),
                             "casUrl": headers["X-Xet-Cas-Url"]})

    def xet_cas_proxy(self, rest):
        """Forwards to the CAS; logs "METHOD PATH AUTH" and refuses any other credential
        than the CAS access token."""
        xet = self.hub.faults().get("xet")
        if not xet:
            return self.send_text(404, "Not Found")
        auth = self.headers.get("Authorization") or "-"
        with self.hub.log_lock:
            with open(os.path.join(self.hub.root, "xet-cas-auth.log"), "a") as f:
                f.write(f"{self.command} {rest.partition('?')[0]} {auth}\n")
        if auth != f"Bearer {self.hub.cas_token}":
            return self.send_text(401, "only the CAS access token is accepted here")
        body = self.read_body(max_bytes=256 * MiB) if self.command != "GET" else None
        slow = self.hub.faults().get("xet_slow_ms")
        if slow and self.command == "POST":
            time.sleep(slow / 1000)
        failing = self.hub.faults().get("xet_cas_status")
        if failing:
            return self.send_text(failing, "the CAS is failing (test fault)")
        target = urllib.parse.urlsplit(xet["cas"])
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection", "transfer-encoding",
                                            "content-length", "authorization")}
            conn.request(self.command, f"{rest}?{self.query}" if self.query else rest,
                         body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_bytes(answer.status, data,
                            answer.getheader("Content-Type") or "application/octet-stream")
        finally:
            conn.close()

    def lfs_verify(self, owner, name):
        if self.lfs_access(owner, name, write=False) is None:
            return
        body = self.read_json() or {}
        oid, size = body.get("oid"), body.get("size")
        if not (isinstance(oid, str) and OID_RE.match(oid) and isinstance(size, int)):
            return self.lfs_error(422, "Invalid verify request")
        path = self.hub.lfs_path(owner, name, oid)
        if os.path.isfile(path) and os.path.getsize(path) == size:
            return self.send_json(200, {"message": "Object verified"}, ctype=LFS_JSON)
        self.lfs_error(404, "Object does not exist")

    # ---- storage (the "presigned" URLs)
    def storage_put(self, owner, name, oid, part=None):
        store_path = self.path.partition("?")[0]
        err = self.hub.check_sig((self.params.get("sig") or [None])[0], store_path)
        if err:
            return self.send_text(403, err)
        fault, faults = self.hub.take_fault(["lfs_429", "lfs_500", "lfs_503", "lfs_drop"])
        if fault == "lfs_drop":
            length = int(self.headers.get("Content-Length") or 0)
            for _ in self.iter_body(limit=max(1, min(length // 2, 256 * 1024))):
                pass
            return self.abort_connection()
        if fault:
            code = int(fault.split("_")[1])
            headers = {"Retry-After": str(faults.get("retry_after", 1))} if code == 429 else None
            return self.send_text(code, {429: "Slow Down", 500: "Internal Error",
                                         503: "Service Unavailable"}[code], headers)
        # Stream to a temp file, hashing on the way: bodies can be gigabytes. Large
        # blocks keep the per-block Python work (and GIL hand-offs between parallel
        # uploads) small next to the copying and hashing, which run without the GIL.
        # Only a part needs the MD5 (its ETag is checked at completion); a whole
        # object's ETag is opaque to clients, as S3's is, so it is taken from the sha256.
        tmp = tempfile.NamedTemporaryFile(dir=self.hub.tmp_root, delete=False)
        sha, size = hashlib.sha256(), 0
        md5 = hashlib.md5() if part is not None else None
        try:
            with tmp:
                for block in self.iter_body(block_size=MiB):
                    tmp.write(block)
                    sha.update(block)
                    if md5 is not None:
                        md5.update(block)
                    size += len(block)
            slow = faults.get("lfs_slow_ms")
            if slow:
                time.sleep(slow / 1000)
            if part is not None:
                # A multipart piece: keep it until the completion call.
                part_dir = os.path.join(self.hub.tmp_root, "multipart", owner, name, oid)
                os.makedirs(part_dir, exist_ok=True)
                os.replace(tmp.name, os.path.join(part_dir, f"part-{int(part)}"))
                return self.send_text(200, "", {"ETag": f'"{md5.hexdigest()}"'})
            if sha.hexdigest() != oid:
                return self.send_text(400, "sha256 mismatch")
            os.makedirs(self.hub.lfs_dir(owner, name), exist_ok=True)
            os.replace(tmp.name, self.hub.lfs_path(owner, name, oid))
            self.send_text(200, "", {"ETag": f'"{oid[:32]}"'})
        finally:
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)

    def storage_get(self, owner, name, oid):
        store_path = self.path.partition("?")[0]
        err = self.hub.check_sig((self.params.get("sig") or [None])[0], store_path)
        if err:
            return self.send_text(403, err)
        path = self.hub.lfs_path(owner, name, oid)
        if not os.path.isfile(path):
            return self.send_text(404, "The specified key does not exist.")
        with open(path, "rb") as f:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
            self.end_headers()
            if self.hub.faults().get("drip_storage"):
                return self.drip(f.read())
            try:
                shutil.copyfileobj(f, self.wfile, 256 * 1024)
            except OSError:
                raise ClientGone()

    def lfs_complete(self, owner, name, oid):
        """Hugging Face multipart completion: assemble the parts, check sha256/size."""
        body = self.read_json()
        with self.hub.lock:
            session = self.hub.multipart.get((owner, name, oid))
        if session is None:
            return self.lfs_error(404, "No multipart upload in progress for this object")
        if body is None or body.get("oid") != oid or not isinstance(body.get("parts"), list):
            return self.lfs_error(400, "Invalid completion payload")
        part_dir = os.path.join(self.hub.tmp_root, "multipart", owner, name, oid)
        numbers = [p.get("partNumber") for p in body["parts"] if isinstance(p, dict)]
        if numbers != list(range(1, session["parts"] + 1)):
            return self.lfs_error(400, f"Expected parts 1..{session['parts']} in order, got {numbers}")
        sha, size = hashlib.sha256(), 0
        tmp = tempfile.NamedTemporaryFile(dir=self.hub.tmp_root, delete=False)
        try:
            with tmp:
                for p in body["parts"]:
                    n = p["partNumber"]
                    ppath = os.path.join(part_dir, f"part-{n}")
                    if not os.path.isfile(ppath):
                        return self.lfs_error(400, f"Part {n} was not uploaded")
                    want = min(session["chunk"], session["size"] - (n - 1) * session["chunk"])
                    if os.path.getsize(ppath) != want:
                        return self.lfs_error(
                            400, f"Part {n} has {os.path.getsize(ppath)} bytes, expected {want}")
                    md5 = hashlib.md5()
                    with open(ppath, "rb") as f:
                        while block := f.read(1024 * 1024):
                            md5.update(block)
                            sha.update(block)
                            tmp.write(block)
                            size += len(block)
                    if str(p.get("etag", "")).strip('"') != md5.hexdigest():
                        return self.lfs_error(400, f"ETag mismatch for part {n}")
            if size != session["size"] or sha.hexdigest() != oid:
                return self.lfs_error(400, "sha256 mismatch")
            os.makedirs(self.hub.lfs_dir(owner, name), exist_ok=True)
            os.replace(tmp.name, self.hub.lfs_path(owner, name, oid))
            shutil.rmtree(part_dir, ignore_errors=True)
            with self.hub.lock:
                self.hub.multipart.pop((owner, name, oid), None)
            self.send_json(200, {"oid": oid, "size": size}, ctype=LFS_JSON)
        finally:
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)


# --------------------------------------------------------------------------- card rules

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "hub")
FRONT_MATTER_RE = re.compile(r"^(\s*---(\r\n|\r|\n))([\S\s]*?)((\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
_LISTS = {}


def card_lists():
    if not _LISTS:
        def load(name):
            with open(os.path.join(DATA_DIR, name)) as f:
                return json.load(f)
        fields = load("card-fields.json")
        languages = load("languages.json")
        tasks = load("tasks.json")
        _LISTS.update({
            "license": set(load("licenses.json")["ids"]),
            "task_categories": set(tasks["task_categories"]),
            "task_ids": set(tasks["task_ids"]),
            "language": set(languages["codes"]) | set(languages["extra"]),
            **{k: set(fields[k]) for k in ("size_categories", "multilinguality",
                                           "annotations_creators", "language_creators")},
        })
    return _LISTS


def validate_card(text):
    """The same rules as src/card/validate.rs: a list of messages ([] when valid), None when
    the YAML cannot be read. Raises ImportError without PyYAML."""
    import yaml
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return []
    try:
        meta = yaml.safe_load(m.group(3))
    except yaml.YAMLError:
        return None
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return None
    lists = card_lists()
    errors = []

    def strings(key):
        value = meta[key]
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        errors.append(f'"{key}" must be a string or a list of strings')
        return []

    for key in ("license", "task_categories", "task_ids", "size_categories", "multilinguality",
                "annotations_creators", "language_creators"):
        if key in meta:
            for value in strings(key):
                if value not in lists[key] and not (key == "license" and value == "other"):
                    errors.append(f'"{key}" does not match any of the allowed types ({value!r})')
    if "license" in meta and "other" in strings("license"):
        for key in ("license_name", "license_link"):
            if not (isinstance(meta.get(key), str) and meta[key].strip()):
                errors.append(f'"{key}" is required with license: other')
    if "language" in meta:
        for value in strings("language"):
            primary, *rest = value.split("-")
            ok = value in lists["language"] or (
                primary in lists["language"]
                and all(1 <= len(p) <= 8 and p.isascii() and p.isalnum() for p in rest))
            if not ok:
                errors.append(f'"language" does not match any of the allowed types ({value!r})')
    if "pretty_name" in meta and not isinstance(meta["pretty_name"], str):
        errors.append('"pretty_name" must be a string')
    configs = meta.get("configs")
    if configs is not None:
        if not isinstance(configs, list):
            errors.append('"configs" must be a list')
        else:
            for i, entry in enumerate(configs):
                if not (isinstance(entry, dict) and isinstance(entry.get("config_name"), str)):
                    errors.append(f'"configs[{i}].config_name" is required')
    info = meta.get("dataset_info")
    if info is not None and not isinstance(info, (dict, list)):
        errors.append('"dataset_info" must be a mapping or a list')
    return errors


# --------------------------------------------------------------------------- hook


def run_hook():
    """pre-receive: stdin has "<old> <new> <ref>" lines. Objects of the push are
    visible (quarantined) but refs are not updated yet, so `--not --all` gives
    exactly the commits this push brings."""
    updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    err = sys.stderr
    if "HUB_ECHO_AUTHORIZATION" in os.environ:
        header = os.environ["HUB_ECHO_AUTHORIZATION"]
        scheme, _, payload = header.partition(" ")
        try:
            token = base64.b64decode(payload).decode().partition(":")[2]
        except ValueError:
            token = payload
        err.write(f"I was sent: {header}\n")
        err.write(f"its payload: {payload}\n")
        err.write(f"the token alone in base64: {base64.b64encode(token.encode()).decode()}\n")
        err.write(f"quoted: {urllib.parse.quote(token, safe='')}\n")
        err.write("every byte: " + "".join(f"%{b:02x}" for b in token.encode()) + "\n")
        err.write("DENIED: hook_echo_auth refuses every push\n")
        return 1
    can_write = os.environ.get("HUB_CAN_WRITE") == "1"
    denied = []
    for _, _, ref in updates:
        if ref.startswith("refs/pr/"):
            reason = pr_ref_verdict(ref, can_write)
        else:
            reason = None if can_write else "forbidden"
        if reason:
            denied.append((ref, reason))
    if denied:
        rule = "-" * 58 + "\n"
        err.write(rule + "Your push was rejected for the following reasons:\n")
        for ref, reason in denied:
            err.write(f"DENIED update {ref}: {reason}\n")
        err.write(rule)
        return 1
    try:
        with open(os.path.join(os.environ.get("HUB_ROOT", "."), "faults.json")) as f:
            knobs = json.load(f)
    except (FileNotFoundError, ValueError):
        knobs = {}
    large_limit = int(knobs.get("large_file_bytes") or 10 * MiB)
    binary_min = int(knobs.get("binary_min_bytes") or 0)
    lfs_dir = os.environ.get("HUB_LFS_DIR", "")
    in_cas = hub_xet.registered(knobs["xet"]["data"]) if knobs.get("xet") else {}
    env = dict(os.environ)  # keep GIT_DIR / quarantine variables set by receive-pack

    def git(*args):
        return subprocess.run(["git", *args], env=env, check=True,
                              stdout=subprocess.PIPE).stdout

    cat = subprocess.Popen(["git", "cat-file", "--batch"], env=env,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read_blob(sha):
        cat.stdin.write(sha.encode() + b"\n")
        cat.stdin.flush()
        size = int(cat.stdout.readline().split()[2])
        data = cat.stdout.read(size)
        cat.stdout.read(1)  # trailing newline
        return data

    verdicts = {}  # blob sha -> None | "large" | "binary" | "lfs-missing"

    def classify(sha, size):
        if size > large_limit:
            return "large"  # a pointer is < 1 KiB, so this cannot be one
        data = read_blob(sha)
        m = POINTER_RE.match(data)
        if m:
            obj = os.path.join(lfs_dir, m.group(1).decode())
            ok = os.path.isfile(obj) and os.path.getsize(obj) == int(m.group(2))
            ok = ok or m.group(1).decode() in in_cas  # stored in Xet
            return None if ok else "lfs-missing"
        if size >= binary_min and is_binary(data):
            return "binary"
        return None

    offenders = {"large": [], "binary": [], "lfs-missing": []}
    seen = set()
    for old, new, ref in updates:
        if set(new) == {"0"}:
            continue  # deletion
        commits = git("rev-list", new, "--not", "--all").decode().split()
        for commit in commits:
            listing = git("ls-tree", "-r", "-l", "-z", commit).decode("utf-8", "surrogateescape")
            for entry in filter(None, listing.split("\0")):
                info, _, path = entry.partition("\t")
                mode, kind, sha, size = info.split()
                if kind != "blob" or mode == "120000":
                    continue  # submodules and symlinks carry no content to check
                if sha not in verdicts:
                    verdicts[sha] = classify(sha, int(size))
                verdict = verdicts[sha]
                if verdict and (verdict, path, ref) not in seen:
                    seen.add((verdict, path, ref))
                    offenders[verdict].append((path, ref))
    cat.stdin.close()
    cat.wait()

    # Report the first rule that failed, laid out as the Hub's hook does it
    # (dashed rules around the reason, then the offending paths).
    rule = "-" * 73 + "\n"
    if offenders["large"]:
        err.write(rule + "Your push was rejected because it contains files larger than 10 MiB.\n"
                  "Please use https://git-lfs.github.com/ to store large files.\n"
                  "See also: https://hf.co/docs/hub/repositories-getting-started#terminal\n"
                  + rule + "Offending files:\n")
        err.writelines(f"  - {p} (ref: {r})\n" for p, r in offenders["large"])
        return 1
    if offenders["binary"]:
        err.write(rule + "Your push was rejected because it contains binary files.\n"
                  "Please use https://huggingface.co/docs/hub/xet to store binary files.\n"
                  + rule + "Offending files:\n")
        err.writelines(f"  - {p} (ref: {r})\n" for p, r in offenders["binary"])
        return 1
    if offenders["lfs-missing"]:
        path = offenders["lfs-missing"][0][0]
        err.write(rule + "Your push was rejected because an LFS pointer pointed to a file that does not exist.\n"
                  "For instance, this can happen if you used git push --no-verify to push your changes.\n"
                  + rule + f"Offending file:\n- {path}\n")
        return 1
    return 0


# --------------------------------------------------------------------------- foreign


class ForeignHandler(BaseHTTPRequestHandler):
    """Another host that a redirect may lead to: asks every request for Basic
    credentials and logs the Authorization header it gets (see --foreign)."""
    protocol_version = "HTTP/1.1"
    log_path = None  # set in main()

    def answer(self):
        auth = self.headers.get("Authorization") or "-"
        with open(self.log_path, "a") as f:
            f.write(f"{self.command} {self.path} {auth}\n")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"Authentication required"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="elsewhere"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = answer

    def log_message(self, *args):
        pass


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", help="state directory")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--hook", action="store_true", help="run as a repo's pre-receive hook")
    ap.add_argument("--foreign", action="store_true",
                    help="run as another host that asks for Basic credentials and logs them")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = ap.parse_args()
    if args.hook:
        sys.exit(run_hook())
    if not args.root:
        ap.error("--root is required")
    if args.foreign:
        os.makedirs(args.root, exist_ok=True)
        ForeignHandler.log_path = os.path.join(args.root, "foreign-auth.log")
        open(ForeignHandler.log_path, "a").close()
        server = ThreadingHTTPServer((args.host, args.port), ForeignHandler)
        server.daemon_threads = True
        host, port = server.server_address[:2]
        print(f"READY http://{host}:{port}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return
    Handler.hub = Hub(args.root)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake runs in the handler's thread, so a client that refuses the
        # certificate (or stalls) does not block the others.
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        Handler.scheme = "https"
        scheme = "https"
    host, port = server.server_address[:2]
    print(f"READY {scheme}://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
