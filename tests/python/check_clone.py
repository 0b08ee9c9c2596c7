"""Reads a clone hf-relay built with the real clients and checks it against the JSONL inputs.

usage: check_clone.py CLONE_DIR SPLIT=FILE[,FILE...] ... [--config NAME]

Checks, failing with a message on the first mismatch:
  - datasets.load_dataset(CLONE_DIR) returns, per split, exactly the rows json.loads gives for
    the input lines (keys a row lacks read back as None);
  - pyarrow sees the `huggingface` schema metadata, and list items are named `element`;
  - PyYAML parses the card's front matter and huggingface_hub's DatasetCard loads it, with
    num_examples per split equal to the data.
Prints a JSON summary on success.
"""
import glob
import json
import os
import sys

import pyarrow.parquet as pq
import yaml
from datasets import load_dataset
from huggingface_hub import DatasetCard


def fail(message):
    print(f"check_clone: {message}", file=sys.stderr)
    sys.exit(1)


def fill_missing(value, feature):
    """json.loads leaves out absent keys; datasets reads them back as None."""
    if value is None:
        return None
    if isinstance(feature, dict) and feature.get("_type") == "List":
        return [fill_missing(v, feature["feature"]) for v in value]
    if isinstance(feature, dict) and "_type" not in feature:
        return {k: fill_missing(value.get(k), f) for k, f in feature.items()}
    return value


def main():
    args = sys.argv[1:]
    config = "default"
    if "--config" in args:
        i = args.index("--config")
        config = args[i + 1]
        del args[i : i + 2]
    clone, specs = os.path.abspath(args[0]), args[1:]
    inputs = {}
    for spec in specs:
        split, files = spec.split("=", 1)
        inputs[split] = files.split(",")

    data_dir = "data" if config == "default" else config
    shards = sorted(glob.glob(os.path.join(clone, data_dir, "*.parquet")))
    if not shards:
        fail(f"no Parquet shards under {data_dir}/")
    features = None
    for shard in shards:
        schema = pq.ParquetFile(shard).schema_arrow
        meta = schema.metadata or {}
        if b"huggingface" not in meta:
            fail(f"{shard}: no `huggingface` key in the schema metadata")
        features = json.loads(meta[b"huggingface"])["info"]["features"]
        for field in schema:
            text = str(field.type)
            if "list<item" in text:
                fail(f"{shard}: list items of {field.name} are named `item`, expected `element`")

    with open(os.path.join(clone, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    if not readme.startswith("---\n"):
        fail("README.md has no YAML front matter")
    front = readme.split("\n---\n", 1)[0][4:]
    metadata = yaml.safe_load(front)
    if not isinstance(metadata, dict):
        fail("the card's front matter is not a mapping")
    card = DatasetCard.load(os.path.join(clone, "README.md"))
    if card.data.to_dict() != metadata:
        fail("huggingface_hub's DatasetCard reads different metadata than PyYAML")

    infos = metadata["dataset_info"]
    if isinstance(infos, list):
        infos = next(i for i in infos if i.get("config_name") == config)
    declared = {s["name"]: s["num_examples"] for s in infos["splits"]}

    loaded = load_dataset(clone, name=None if config == "default" else config)
    summary = {"splits": {}, "features": features}
    for split, files in inputs.items():
        expected = []
        for file in files:
            with open(file, encoding="utf-8-sig") as f:
                expected += [json.loads(line) for line in f if line.strip()]
        expected = [fill_missing(row, features) for row in expected]
        rows = loaded[split].to_list()
        if len(rows) != len(expected):
            fail(f"split {split}: datasets read {len(rows)} rows, the input has {len(expected)}")
        for n, (got, want) in enumerate(zip(rows, expected)):
            if got != want:
                fail(f"split {split}: row {n} differs:\n got  {got!r:.500}\n want {want!r:.500}")
        if declared.get(split) != len(rows):
            fail(f"split {split}: the card says {declared.get(split)} examples, the data has {len(rows)}")
        summary["splits"][split] = len(rows)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
