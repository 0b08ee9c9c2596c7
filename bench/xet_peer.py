"""The peer of bench/xet.sh: a clone's shards uploaded by the Python hf_xet client, the way
huggingface_hub's `_upload_xet_files` (behind `push_to_hub` and `upload_folder`) calls it.

    python xet_peer.py CLONE ENDPOINT OWNER/NAME

Reads the token from $HF_HOME/token, creates the dataset repo (untimed), then uploads HEAD's
data/*.parquet files with their sha256 from the LFS pointers (hf-relay passes the same), with
the session, token-refresh URL and headers huggingface_hub builds. Prints one line:
"wall_s user_s sys_s bytes_sent file_bytes" for the upload alone (session to commit report,
no git, no Hub commit), CPU from rusage (hf_xet's threads are this process's).
"""

import os
import re
import resource
import subprocess
import sys
import time

from huggingface_hub import HfApi
from huggingface_hub.utils import build_hf_headers
from huggingface_hub.utils._xet import (
    XetTokenType,
    get_xet_session,
    xet_connection_info_refresh_url,
    xet_headers_without_auth,
)


def git(clone, *args):
    return subprocess.run(["git", "-C", clone, *args], capture_output=True, check=True).stdout


def shards(clone):
    """(path in the working tree, sha256, size) of HEAD's shards."""
    out = []
    for line in git(clone, "ls-tree", "-r", "HEAD", "data/").decode().splitlines():
        meta, path = line.split("\t", 1)
        if not path.endswith(".parquet"):
            continue
        pointer = git(clone, "cat-file", "blob", meta.split()[2]).decode()
        oid = re.search(r"^oid sha256:([0-9a-f]{64})$", pointer, re.M).group(1)
        size = int(re.search(r"^size ([0-9]+)$", pointer, re.M).group(1))
        full = os.path.join(clone, path)
        if os.path.getsize(full) != size:
            sys.exit(f"{full}: {os.path.getsize(full)} bytes, its pointer says {size}")
        out.append((full, oid, size))
    return out


def main():
    clone, endpoint, repo_id = sys.argv[1:4]
    token = open(os.path.join(os.environ["HF_HOME"], "token")).read().strip()
    HfApi(endpoint=endpoint, token=token).create_repo(repo_id, repo_type="dataset")
    files = shards(clone)
    headers = build_hf_headers(token=token)
    refresh_url = xet_connection_info_refresh_url(
        token_type=XetTokenType.WRITE,
        repo_id=repo_id,
        repo_type="dataset",
        revision="main",
        endpoint=endpoint,
    )

    wall0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
    session = get_xet_session()
    commit = session.new_upload_commit(
        token_refresh_url=refresh_url,
        token_refresh_headers=headers,
        custom_headers=xet_headers_without_auth(headers),
    )
    handles = [(oid, commit.start_upload_file(path, sha256=oid)) for path, oid, _ in files]
    report = commit.wait_to_finish()
    wall1, cpu1 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)

    for oid, handle in handles:
        got = handle.result().xet_info.sha256
        if got != oid:
            sys.exit(f"hf_xet ingested {got}, expected {oid}")
    metrics = report.dedup_metrics
    print(
        f"{wall1 - wall0:.2f} {cpu1.ru_utime - cpu0.ru_utime:.2f} {cpu1.ru_stime - cpu0.ru_stime:.2f} "
        f"{metrics.xorb_bytes_uploaded + metrics.shard_bytes_uploaded} {sum(s for _, _, s in files)}"
    )


if __name__ == "__main__":
    main()
