"""Issue 25 spike: what the Python test Hub needs from a real local CAS (examples/xet_cas_server.rs).

Uploads a file through the Python hf_xet client (stand-in for hf-relay's push), then, as the Hub
would at verify / pre-receive time: reads the shards the CAS stored and maps each file's Xet hash
to the SHA-256 of its metadata extension (= the LFS pointer oid), and downloads the file back
through hf_xet to check it is byte-identical.

    xet_cas_server DATA_DIR PORT &   python xet_spike_hub_check.py DATA_DIR http://127.0.0.1:PORT
"""
import hashlib, os, struct, sys, tempfile, time

import hf_xet

ENTRY = 48
FLAG_VERIFICATION = 1 << 31
FLAG_METADATA_EXT = 1 << 30


def xet_hex(b):  # MerkleHash::hex(): four little-endian u64s
    return "".join("%016x" % struct.unpack_from("<Q", b, i)[0] for i in range(0, 32, 8))


def shard_files(data):
    """file hash -> sha256 for every file info block of a serialized shard (docs/xet/shard.md)."""
    out, pos = {}, ENTRY  # header: 32-byte tag, u64 version, u64 footer size
    while True:
        h = data[pos:pos + 32]
        flags, n = struct.unpack_from("<II", data, pos + 32)
        if h == b"\xff" * 32:  # bookend
            return out
        pos += ENTRY * (1 + n + (n if flags & FLAG_VERIFICATION else 0))
        sha = None
        if flags & FLAG_METADATA_EXT:
            sha = xet_hex(data[pos:pos + 32])
            pos += ENTRY
        out[xet_hex(h)] = sha


def main(data_dir, endpoint):
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "f.bin")
    payload = os.urandom(3 * 1024 * 1024)
    open(path, "wb").write(payload)
    oid = hashlib.sha256(payload).hexdigest()
    token = ("cas-token", int(time.time()) + 3600)
    [info] = hf_xet.upload_files([path], endpoint, token, None, None, "dataset")
    mapping = {}
    for root, _, names in os.walk(data_dir):
        for name in names:
            if name.endswith(".mdb"):
                mapping.update(shard_files(open(os.path.join(root, name), "rb").read()))
    print("uploaded hash", info.hash, "| shard maps it to sha256", mapping.get(info.hash), "| oid", oid)
    assert mapping.get(info.hash) == oid
    dest = os.path.join(tmp, "back.bin")
    hf_xet.download_files([hf_xet.PyXetDownloadInfo(dest, info.hash, len(payload))], endpoint, token, None, None)
    assert open(dest, "rb").read() == payload
    print("reconstructed byte-identical:", len(payload), "bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
