#!/usr/bin/env python3
"""Writes GB gigabytes of Parquet for bench/adopt.sh: distinct files of ~200 MB that each meet
hf-relay's adoption rules (≤ 500 MB uncompressed, row groups ≤ 100 MB uncompressed), snappy,
from the friction benchmark JSONL.

usage: adopt_gen.py INPUT.jsonl OUT_DIR GB

Deterministic: file k holds the rows from a rotating offset with a `file` column = k, so no
two files have the same bytes. Writes OUT_DIR/part-NNNNN.parquet and a _SUCCESS marker.
"""
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

TARGET_FILE = 200_000_000  # bytes on disk, roughly
MAX_UNCOMPRESSED = 450_000_000
ROW_GROUP_UNCOMPRESSED = 90_000_000


def main():
    src, out, gb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    table = pj.read_json(src, read_options=pj.ReadOptions(block_size=64 << 20))
    n = table.num_rows
    # Size a file by a trial write of a slice: compressed and uncompressed bytes per row.
    trial_rows = min(n, 20000)
    pq.write_table(table.slice(0, trial_rows), os.path.join(out, ".trial.parquet"))
    meta = pq.ParquetFile(os.path.join(out, ".trial.parquet")).metadata
    on_disk = os.path.getsize(os.path.join(out, ".trial.parquet")) / trial_rows
    raw = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) / trial_rows
    os.remove(os.path.join(out, ".trial.parquet"))
    rows = int(min(TARGET_FILE / on_disk, MAX_UNCOMPRESSED / raw, n))
    group = max(1, int(ROW_GROUP_UNCOMPRESSED / raw))
    total = int(gb * 1e9)
    written, k = 0, 0
    while written < total:
        start = (k * 7919 * 13) % n
        part = table.slice(start, rows)
        if part.num_rows < rows:
            part = pa.concat_tables([part, table.slice(0, rows - part.num_rows)])
        part = part.append_column("file", pa.array([k] * part.num_rows, pa.int32()))
        path = os.path.join(out, f"part-{k:05d}.parquet")
        pq.write_table(part, path, row_group_size=group, compression="snappy")
        m = pq.ParquetFile(path).metadata
        sizes = [m.row_group(i).total_byte_size for i in range(m.num_row_groups)]
        assert sum(sizes) <= 500_000_000 and max(sizes) <= 100_000_000, (path, sum(sizes), max(sizes))
        written += os.path.getsize(path)
        k += 1
    open(os.path.join(out, "_SUCCESS"), "w").close()
    print(f"{k} files, {written / 1e9:.2f} GB, {rows} rows each, row groups of {group} rows")


if __name__ == "__main__":
    main()
