"""The test Hub's Xet side (hub-protocol.md §2.5), used by hub_server.py.

A real CAS runs next to the Hub (the test suite starts xet-client's simulation server on
loopback, storing under a data directory). The Hub only:

* reads the shards the CAS stored (DATA/shards/*.mdb) to know which files it holds: each
  file info block maps the file's Xet hash to the SHA-256 of its metadata extension, which
  is the LFS pointer's oid (docs/xet/shard.md);
* fronts the CAS with a recording proxy (/xet-cas/...): every request's Authorization goes
  to DIR/xet-cas-auth.log and anything but the CAS access token it handed out is refused
  (the Hub token must never reach the CAS);
* materialises a file from the CAS into its LFS store when a download asks for it (the
  Hub's LFS bridge), through the hf_xet Python client, checking the SHA-256.

Standard library only here; the download runs hf_xet in the interpreter named by the
`xet.python` fault key (the test venv).
"""

import hashlib
import os
import struct
import subprocess
import tempfile

ENTRY = 48
FLAG_VERIFICATION = 1 << 31
FLAG_METADATA_EXT = 1 << 30
BOOKEND = b"\xff" * 32


def xet_hex(b):
    """MerkleHash::hex(): four little-endian u64s."""
    return "".join("%016x" % struct.unpack_from("<Q", b, i)[0] for i in range(0, 32, 8))


def shard_files(data):
    """{file hash: sha256 or None} for every file info block of a serialized shard."""
    out, pos = {}, ENTRY  # header: 32-byte tag, u64 version, u64 footer size
    while pos + ENTRY <= len(data):
        h = data[pos:pos + 32]
        flags, n = struct.unpack_from("<II", data, pos + 32)
        if h == BOOKEND:
            break
        pos += ENTRY * (1 + n + (n if flags & FLAG_VERIFICATION else 0))
        sha = None
        if flags & FLAG_METADATA_EXT:
            sha = xet_hex(data[pos:pos + 32])
            pos += ENTRY
        out[xet_hex(h)] = sha
    return out


def registered(data_dir):
    """{sha256 (the LFS oid): file hash} of every file the CAS's shards register."""
    by_oid = {}
    for root, _, names in os.walk(os.path.join(data_dir, "shards")):
        for name in sorted(names):
            if name.endswith(".mdb"):
                with open(os.path.join(root, name), "rb") as f:
                    for file_hash, sha in shard_files(f.read()).items():
                        if sha:
                            by_oid[sha] = file_hash
    return by_oid


DOWNLOAD = """
import sys, time, hf_xet
cas, file_hash, size, dest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
hf_xet.download_files([hf_xet.PyXetDownloadInfo(dest, file_hash, size)], cas,
                      ("test-hub", int(time.time()) + 3600), None, None)
"""


def materialize(conf, oid, size, dest_dir, tmp_dir):
    """Reconstructs the file of `oid` from the CAS into dest_dir/oid (the LFS store).
    Returns True when it is there afterwards with the right size and SHA-256."""
    dest = os.path.join(dest_dir, oid)
    if os.path.isfile(dest) and os.path.getsize(dest) == size:
        return True
    file_hash = registered(conf["data"]).get(oid)
    if file_hash is None:
        return False
    os.makedirs(dest_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir)
    os.close(fd)
    try:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
        subprocess.run([conf["python"], "-c", DOWNLOAD, conf["cas"], file_hash, str(size), tmp],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        sha = hashlib.sha256()
        with open(tmp, "rb") as f:
            while block := f.read(1 << 20):
                sha.update(block)
        if sha.hexdigest() != oid or os.path.getsize(tmp) != size:
            return False
        os.replace(tmp, dest)
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
