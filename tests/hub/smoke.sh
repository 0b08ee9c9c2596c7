#!/usr/bin/env bash
# Smoke test for tests/hub/hub_server.py, using stock git, curl, python3 and,
# when installed, git-lfs. Prints one PASS line per check; exits non-zero on the
# first failure. KEEP=1 keeps the temp dir (server root, clones, logs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hub-smoke.XXXXXX")
ROOT=$WORK/root
SERVER_PID=

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

pass() { echo "PASS: $*"; }
fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK/out" "$WORK/server.err"; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -40 "$f" >&2; }
    done
    exit 1
}

# Keep the machine's git/git-lfs configuration out of the test.
export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME" "$ROOT"
git config --global user.name "Smoke Test"
git config --global user.email smoke@example.com
git config --global init.defaultBranch main

TW=hf_testwrite0000000000000000000000
TR=hf_testread00000000000000000000000
TB=hf_testbob000000000000000000000000
cat >"$ROOT/tokens.json" <<EOF
{"$TW": {"user": "alice", "write": true, "orgs": ["acme"]},
 "$TR": {"user": "alice", "write": false, "orgs": []},
 "$TB": {"user": "bob", "write": true, "orgs": []}}
EOF

python3 "$HERE/hub_server.py" --root "$ROOT" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
    grep -q '^READY ' "$WORK/server.out" 2>/dev/null && break
    sleep 0.1
done
URL=$(sed -n 's/^READY //p' "$WORK/server.out")
[ -n "$URL" ] || fail "server did not print READY"
pass "server ready at $URL"

# ---- helpers
# req METHOD PATH_OR_URL [curl args...]: body -> $WORK/body, headers -> $WORK/hdr, prints the status.
req() {
    local method=$1 target=$2; shift 2
    case $target in http*) ;; *) target=$URL$target ;; esac
    curl -sS -o "$WORK/body" -D "$WORK/hdr" -w '%{http_code}' -X "$method" "$@" "$target"
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1"; }
expect() { [ "$1" = "$2" ] || fail "$3: expected $2, got $1 ($(head -c 300 "$WORK/body"))"; }
has() { grep -qF -- "$1" "$WORK/out" || fail "$2: output lacks '$1'"; }
helper() { echo "!f(){ test \"\$1\" = get && { echo username=x; echo password=$1; }; }; f"; }
gw() { git -c credential.helper= -c "credential.helper=$(helper $TW)" "$@"; }
gr() { git -c credential.helper= -c "credential.helper=$(helper $TR)" "$@"; }
AUTH_W=(-H "Authorization: Bearer $TW")
AUTH_R=(-H "Authorization: Bearer $TR")
LFSH=(-H "Accept: application/vnd.git-lfs+json" -H "Content-Type: application/vnd.git-lfs+json")
BATCH=/datasets/alice/smoke.git/info/lfs/objects/batch
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
batch_upload() { # FILE [transfers-json] -> body holds the batch answer
    local t=${2:-'["basic"]'}
    req POST $BATCH "${AUTH_W[@]}" "${LFSH[@]}" -d "{\"operation\":\"upload\",\"transfers\":$t,\"objects\":[{\"oid\":\"$(sha "$1")\",\"size\":$(size "$1")}],\"hash_algo\":\"sha256\",\"ref\":{\"name\":\"refs/heads/main\"}}"
}
pointer() { printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s\n' "$1" "$2"; }
faults() { echo "$1" >"$ROOT/faults.json"; }

# ---- REST
expect "$(req POST /api/repos/create -H 'Content-Type: application/json' -d '{"type":"dataset","name":"smoke"}')" 401 "create without token"
expect "$(req POST /api/repos/create "${AUTH_R[@]}" -d '{"type":"dataset","name":"smoke","organization":"alice"}')" 403 "create with read token"
expect "$(req POST /api/repos/create -H "Authorization: Bearer $TB" -d '{"type":"dataset","name":"smoke","organization":"alice"}')" 403 "create in someone else's namespace"
expect "$(req POST /api/repos/create "${AUTH_W[@]}" -d '{"type":"dataset","name":"smoke","organization":"alice","visibility":"public"}')" 200 "create"
expect "$(jget 'd["url"]')" "$URL/datasets/alice/smoke" "create url"
expect "$(req POST /api/repos/create "${AUTH_W[@]}" -d '{"type":"dataset","name":"smoke","organization":"alice"}')" 409 "re-create"
expect "$(jget 'd["error"]')" "You already created this dataset repo" "409 body"
pass "repo create: 401 / 403 read token / 403 namespace / 200 / 409"

expect "$(req GET /api/whoami-v2 "${AUTH_R[@]}")" 200 whoami
expect "$(jget 'd["name"], d["auth"]["accessToken"]["role"], d["orgs"]')" "('alice', 'read', [])" "whoami body"
expect "$(req GET /api/whoami-v2 -H 'Authorization: Bearer hf_nope')" 401 "whoami bad token"
grep -qi '^X-Error-Message: Invalid credentials in Authorization header' "$WORK/hdr" || fail "whoami X-Error-Message"
pass "whoami-v2 (read role, 401 on bad token)"

expect "$(req GET /api/datasets/alice/smoke)" 200 "dataset info"
INIT_SHA=$(jget 'd["sha"]')
expect "$(jget 'd["private"]')" False "dataset info private"
expect "$(req GET /api/datasets/alice/nope)" 404 "missing dataset"
grep -qi '^X-Error-Code: RepoNotFound' "$WORK/hdr" || fail "RepoNotFound header"
pass "dataset info (sha $INIT_SHA) and RepoNotFound"

# ---- git: anonymous clone of a public repo, then pushes
git clone -q "$URL/datasets/alice/smoke" "$WORK/c1" >"$WORK/out" 2>&1 || fail "anonymous clone"
cd "$WORK/c1"
grep -qxF '*.parquet filter=lfs diff=lfs merge=lfs -text' .gitattributes || fail ".gitattributes content"
expect "$(git log -1 --format='%an <%ae> %s')" "system <system@hf.co> initial commit" "initial commit"
expect "$(git rev-parse HEAD)" "$INIT_SHA" "initial sha"
pass "anonymous clone has the Hub's initial commit"

echo "# Smoke dataset" >README.md
git add README.md && git commit -qm "add README"
gw push origin main >"$WORK/out" 2>&1 || fail "text push"
expect "$(req GET /api/datasets/alice/smoke)" 200 "dataset info after push"
expect "$(jget 'd["sha"]')" "$(git rev-parse HEAD)" "sha after push"
pass "text file push"

printf 'abc\000\001\002def' >blob.dat
git add blob.dat && git commit -qm "binary"
if gw push origin main >"$WORK/out" 2>&1; then fail "binary push was accepted"; fi
has "remote: Your push was rejected because it contains binary files." "binary push"
has "remote: Please use https://huggingface.co/docs/hub/xet to store binary files." "binary push"
has "remote:   - blob.dat (ref: refs/heads/main)" "binary push"
has "pre-receive hook declined" "binary push"
git reset -q --hard HEAD~1
pass "binary file push rejected"

# 11 MiB of text: also makes git send a chunked request body.
head -c 8650752 /dev/urandom | base64 >big.txt
git add big.txt && git commit -qm "big"
if gw push origin main >"$WORK/out" 2>&1; then fail "large push was accepted"; fi
has "remote: Your push was rejected because it contains files larger than 10 MiB." "large push"
has "remote: See also: https://hf.co/docs/hub/repositories-getting-started#terminal" "large push"
has "remote:   - big.txt (ref: refs/heads/main)" "large push"
git reset -q --hard HEAD~1
pass "file > 10 MiB rejected (chunked request body)"

echo "more" >>README.md && git commit -qam "more"
if gr push origin main >"$WORK/out" 2>&1; then fail "push with read token was accepted"; fi
has "remote: Your push was rejected for the following reasons:" "read-token push"
has "remote: DENIED update refs/heads/main: forbidden" "read-token push"
if git push origin main >"$WORK/out" 2>&1; then fail "push without token was accepted"; fi
grep -qE "Authentication failed|could not read Username" "$WORK/out" || fail "anonymous push: no auth error"
pass "push with read token DENIED, without token 401"

# ---- LFS through curl: batch, PUT, verify, then push the pointer
head -c 3145728 /dev/urandom >"$WORK/train.parquet"
OID=$(sha "$WORK/train.parquet"); SIZE=$(size "$WORK/train.parquet")
req_body='{"operation":"upload","objects":[{"oid":"'$OID'","size":'$SIZE'}]}'
expect "$(req POST $BATCH "${LFSH[@]}" -d "$req_body")" 401 "batch upload without token"
expect "$(req POST $BATCH "${AUTH_R[@]}" "${LFSH[@]}" -d "$req_body")" 403 "batch upload read token"
expect "$(jget 'd["message"]')" "Authorization error." "403 batch message"
expect "$(batch_upload "$WORK/train.parquet")" 200 "batch upload"
HREF=$(jget 'd["objects"][0]["actions"]["upload"]["href"]')
VERIFY=$(jget 'd["objects"][0]["actions"]["verify"]["href"]')
expect "$(req POST "$VERIFY" "${AUTH_W[@]}" "${LFSH[@]}" -d "{\"oid\":\"$OID\",\"size\":$SIZE}")" 404 "verify before upload"
expect "$(req PUT "$HREF" --data-binary 'wrong')" 400 "PUT wrong bytes"
expect "$(req PUT "${HREF%%\?*}?sig=forged" -T "$WORK/train.parquet")" 403 "PUT forged sig"
expect "$(req PUT "$HREF" -T "$WORK/train.parquet")" 200 "PUT object"
expect "$(req POST "$VERIFY" "${AUTH_W[@]}" "${LFSH[@]}" -d "{\"oid\":\"$OID\",\"size\":$SIZE}")" 200 "verify"
expect "$(batch_upload "$WORK/train.parquet")" 200 "batch upload again"
expect "$(jget '"actions" in d["objects"][0]')" False "stored object has no actions"
pass "LFS basic upload: 401/403, sig check, sha check, PUT, verify, already-present"

mkdir -p data && pointer "$OID" "$SIZE" >data/train.parquet
git add data/train.parquet && git commit -qm "add parquet pointer"
gw push origin main >"$WORK/out" 2>&1 || fail "pointer push"
pass "push of an LFS pointer to an uploaded object"

pointer "$(echo missing | sha256sum | cut -d' ' -f1)" 1234 >data/missing.parquet
git add data/missing.parquet && git commit -qm "dangling pointer"
if gw push origin main >"$WORK/out" 2>&1; then fail "dangling pointer push was accepted"; fi
has "remote: Your push was rejected because an LFS pointer pointed to a file that does not exist." "dangling pointer"
has "remote: - data/missing.parquet" "dangling pointer"
git reset -q --hard HEAD~1
pass "push of a pointer to a missing LFS object rejected"

# ---- fault switches
head -c 100000 /dev/urandom >"$WORK/f1.bin"
faults '{"batch_429": 1, "retry_after": 3}'
expect "$(batch_upload "$WORK/f1.bin")" 429 "batch_429"
grep -qi '^Retry-After: 3' "$WORK/hdr" || fail "batch Retry-After"
expect "$(batch_upload "$WORK/f1.bin")" 200 "batch after batch_429"
H1=$(jget 'd["objects"][0]["actions"]["upload"]["href"]')
faults '{"lfs_429": 1, "retry_after": 7, "lfs_500": 1}'
expect "$(req PUT "$H1" -T "$WORK/f1.bin")" 429 "lfs_429"
grep -qi '^Retry-After: 7' "$WORK/hdr" || fail "PUT Retry-After"
expect "$(req PUT "$H1" -T "$WORK/f1.bin")" 500 "lfs_500"
expect "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$ROOT/faults.json")" \
    "{'lfs_429': 0, 'retry_after': 7, 'lfs_500': 0}" "counters persisted"
faults '{"lfs_drop": 1}'
if code=$(req PUT "$H1" -T "$WORK/f1.bin" 2>/dev/null); then fail "lfs_drop got an answer ($code)"; fi
faults '{"expire_urls": true}'
expect "$(req PUT "$H1" -T "$WORK/f1.bin")" 403 "expire_urls"
grep -q 'Request has expired' "$WORK/body" || fail "expired body"
faults '{"lfs_slow_ms": 300}'
expect "$(req PUT "$H1" -T "$WORK/f1.bin")" 200 "PUT after faults"
pass "faults: batch_429, lfs_429 + Retry-After, lfs_500, persisted counters, lfs_drop, expire_urls, lfs_slow_ms"

# ---- multipart
head -c 2621440 /dev/urandom >"$WORK/mp.parquet"
MOID=$(sha "$WORK/mp.parquet"); MSIZE=$(size "$WORK/mp.parquet")
faults '{"multipart_threshold": 1048576, "chunk_size": 1048576}'
expect "$(batch_upload "$WORK/mp.parquet" '["basic","multipart"]')" 200 "multipart batch"
expect "$(jget 'd["transfer"], d["objects"][0]["actions"]["upload"]["header"]["chunk_size"]')" "('multipart', '1048576')" "multipart header"
COMPLETE=$(jget 'd["objects"][0]["actions"]["upload"]["href"]')
jget '"\n".join(v for k, v in sorted(d["objects"][0]["actions"]["upload"]["header"].items()) if k.isdigit())' >"$WORK/parts"
expect "$(wc -l <"$WORK/parts")" 3 "part count"
parts_json= n=0
faults '{"multipart_threshold": 1048576, "chunk_size": 1048576, "lfs_429": 1}'
while read -r part_url; do
    n=$((n + 1))
    dd if="$WORK/mp.parquet" of="$WORK/part" bs=1048576 skip=$((n - 1)) count=1 status=none
    code=$(req PUT "$part_url" -T "$WORK/part")
    [ "$code" = 429 ] && code=$(req PUT "$part_url" -T "$WORK/part")  # one injected 429
    expect "$code" 200 "part $n PUT"
    etag=$(sed -n 's/^[Ee][Tt]ag: *//p' "$WORK/hdr" | tr -d '\r')
    [ -n "$etag" ] || fail "part $n has no ETag"
    parts_json="$parts_json${parts_json:+,}{\"partNumber\":$n,\"etag\":$(printf '%s' "$etag" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}"
done <"$WORK/parts"
expect "$(req POST "$COMPLETE" "${LFSH[@]}" -d "{\"oid\":\"$MOID\",\"parts\":[$parts_json]}")" 200 "multipart completion"
expect "$(req POST /datasets/alice/smoke/info/lfs/objects/verify "${AUTH_W[@]}" "${LFSH[@]}" -d "{\"oid\":\"$MOID\",\"size\":$MSIZE}")" 200 "multipart verify"
cmp -s "$WORK/mp.parquet" "$ROOT/lfs/alice/smoke/$MOID" || fail "multipart object differs"
rm -f "$ROOT/faults.json"
pass "multipart upload: 3 parts (one 429 retried), ETags, completion, verify"

# ---- download
expect "$(req POST $BATCH "${LFSH[@]}" -d '{"operation":"download","objects":[{"oid":"'$OID'","size":'$SIZE'},{"oid":"'$(printf '%064d' 0)'","size":1}]}')" 200 "anonymous download batch"
DL=$(jget 'd["objects"][0]["actions"]["download"]["href"]')
expect "$(jget 'd["objects"][1]["error"]')" "{'code': 404, 'message': 'Object does not exist'}" "missing object error"
expect "$(req GET "$DL")" 200 "download GET"
cmp -s "$WORK/body" "$WORK/train.parquet" || fail "downloaded bytes differ"
pass "LFS download batch + GET, per-object 404"

# ---- private repo
expect "$(req POST /api/repos/create "${AUTH_W[@]}" -d '{"type":"dataset","name":"secret","organization":"acme","private":true}')" 200 "create private"
expect "$(req GET /api/datasets/acme/secret)" 404 "private anonymous"
expect "$(req GET /api/datasets/acme/secret -H "Authorization: Bearer $TB")" 404 "private other user"
expect "$(req GET /api/datasets/acme/secret "${AUTH_W[@]}")" 200 "private member"
expect "$(jget 'd["private"]')" True "private flag"
if git clone -q "$URL/datasets/acme/secret.git" "$WORK/c2" >"$WORK/out" 2>&1; then fail "anonymous clone of private repo"; fi
gw clone -q "$URL/datasets/acme/secret.git" "$WORK/c2" >"$WORK/out" 2>&1 || fail "member clone of private repo"
pass "private repo: 404 for anonymous/others, clone with the org member's token"

# ---- git-lfs (optional)
if git lfs version >/dev/null 2>&1; then
    cd "$WORK"
    GIT_LFS_SKIP_SMUDGE=1 git clone -q "$URL/datasets/alice/smoke" c3 >"$WORK/out" 2>&1 || fail "clone for git-lfs"
    cd c3
    git lfs install --local >/dev/null
    git lfs pull >"$WORK/out" 2>&1 || fail "git lfs pull"
    cmp -s data/train.parquet "$WORK/train.parquet" || fail "git lfs pull content"
    pass "git lfs pull"
    head -c 500000 /dev/urandom >model.bin   # *.bin is LFS-tracked by the Hub's .gitattributes
    git add model.bin && git commit -qm "model via git-lfs"
    gw push origin main >"$WORK/out" 2>&1 || fail "git-lfs push"
    cmp -s model.bin "$ROOT/lfs/alice/smoke/$(sha model.bin)" || fail "git-lfs object not stored"
    pass "git push with git-lfs (batch with Basic auth, PUT, verify)"
else
    echo "SKIP: git-lfs not installed"
fi

# ---- the request log never holds tokens
[ -s "$ROOT/requests.log" ] || fail "requests.log is empty"
if grep -qE 'hf_test|Authorization|sig=[^R]' "$ROOT/requests.log"; then fail "requests.log leaks secrets"; fi
pass "requests.log has no tokens or signatures ($(wc -l <"$ROOT/requests.log") lines)"

echo "ALL PASS"
