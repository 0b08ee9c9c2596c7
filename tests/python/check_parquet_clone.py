"""Reads a clone hf-relay built from Parquet inputs and checks it against those inputs.

usage: check_parquet_clone.py CLONE_DIR SPLIT=FILE[,FILE...] ...

Checks, failing with a message on the first mismatch:
  - datasets.load_dataset(CLONE_DIR) returns, per split, exactly the rows pyarrow reads from
    the input files, in order;
  - the card's dataset_info (read by huggingface_hub) has num_examples per split equal to them,
    and features equal to what `datasets` infers from the first input's Arrow schema (or its
    own `huggingface` metadata).
Prints a JSON summary on success.
"""
import json
import os
import sys

import pyarrow.parquet as pq
from datasets import Features, load_dataset
from huggingface_hub import DatasetCard


def fail(message):
    print(f"check_parquet_clone: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    clone, specs = os.path.abspath(sys.argv[1]), sys.argv[2:]
    inputs = {}
    for spec in specs:
        split, files = spec.split("=", 1)
        inputs[split] = files.split(",")

    first = pq.ParquetFile(next(iter(inputs.values()))[0]).schema_arrow
    meta = first.metadata or {}
    if b"huggingface" in meta:
        expected_features = Features.from_dict(json.loads(meta[b"huggingface"])["info"]["features"])
    else:
        expected_features = Features.from_arrow_schema(first)

    dataset = load_dataset(clone)
    summary = {}
    for split, files in inputs.items():
        expected = []
        for file in files:
            expected.extend(pq.read_table(file).to_pylist())
        got = dataset[split].to_list()
        if len(got) != len(expected):
            fail(f"split {split}: {len(got)} rows, the inputs hold {len(expected)}")
        for i, (a, b) in enumerate(zip(got, expected)):
            if a != b:
                fail(f"split {split} row {i}: {a!r} != {b!r}")
        if dataset[split].features != expected_features:
            fail(f"split {split}: features {dataset[split].features} != {expected_features}")
        summary[split] = len(got)

    card = DatasetCard.load(os.path.join(clone, "README.md"))
    info = card.data.get("dataset_info")
    info = info[0] if isinstance(info, list) else info
    counts = {s["name"]: s["num_examples"] for s in info["splits"]}
    if counts != summary:
        fail(f"card num_examples {counts} != data {summary}")
    card_features = Features._from_yaml_list(info["features"])
    if card_features != expected_features:
        fail(f"card features {card_features} != {expected_features}")
    print(json.dumps({"rows": summary, "features": list(expected_features)}))


if __name__ == "__main__":
    main()
