#!/usr/bin/env python3
"""Regenerates data/hub/*.json, the lists `hf-relay` validates card metadata against offline
(src/card/validate.rs embeds them with include_str!).

    scripts/refresh-hub-lists.py [--tasks-version VERSION] [--licenses-md PATH --licenses-version REV]

* tasks.json      task_categories (PIPELINE_TYPES) and task_ids (SUBTASK_TYPES) from the
                  `@huggingface/tasks` package on the npm registry (`npm pack`, read with node);
                  the latest version unless --tasks-version is given.
* languages.json  ISO 639-1, 639-2 (T and B) and 639-3 codes from Debian's `iso-codes`
                  package (/usr/share/iso-codes/json; `apt-get install iso-codes`), plus the
                  Hub's extra values `code` and `multilingual`.
* licenses.json   the license ids of the Hub docs' table (hub-docs
                  docs/hub/repositories-licenses.md, between the "region licenses" comments).
                  The npm package has no license list, so this one is refreshed only when
                  --licenses-md points at a copy of that file (give its commit with
                  --licenses-version); otherwise the file is left as it is.

Standard library only; needs npm and node on PATH.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "hub")
ISO_DIR = "/usr/share/iso-codes/json"


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)}")


def refresh_tasks(version):
    spec = f"@huggingface/tasks@{version}" if version else "@huggingface/tasks"
    with tempfile.TemporaryDirectory() as tmp:
        name = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True,
                              stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(os.path.join(tmp, name)) as tar:
            tar.extractall(tmp, filter="data")
        package = os.path.join(tmp, "package")
        with open(os.path.join(package, "package.json")) as f:
            real_version = json.load(f)["version"]
        script = ("const t = require(process.argv[1]);"
                  "console.log(JSON.stringify({p: t.PIPELINE_TYPES, s: t.SUBTASK_TYPES}));")
        out = subprocess.run(["node", "-e", script, os.path.join(package, "dist/commonjs/index.js")],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
    lists = json.loads(out)
    write("tasks.json", {
        "source": "npm registry, package @huggingface/tasks, src/pipelines.ts "
                  "(PIPELINE_TYPES = task_categories, SUBTASK_TYPES = task_ids)",
        "version": real_version,
        "task_categories": sorted(set(lists["p"])),
        "task_ids": sorted(set(lists["s"])),
    })


def refresh_languages():
    codes = set()
    with open(os.path.join(ISO_DIR, "iso_639-3.json")) as f:
        for entry in json.load(f)["639-3"]:
            codes.add(entry["alpha_3"])
            if "alpha_2" in entry:
                codes.add(entry["alpha_2"])
    with open(os.path.join(ISO_DIR, "iso_639-2.json")) as f:
        for entry in json.load(f)["639-2"]:
            for key in ("alpha_2", "alpha_3", "bibliographic"):
                if key in entry:
                    codes.add(entry[key])
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "iso-codes"],
                             stdout=subprocess.PIPE, text=True).stdout.strip() or "unknown"
    write("languages.json", {
        "source": "Debian package iso-codes (ISO 639-1, 639-2/T, 639-2/B, 639-3), plus the "
                  "Hub's extra values `code` and `multilingual` (hub-docs datasets-cards.md)",
        "version": version,
        "extra": ["code", "multilingual"],
        "codes": sorted(codes),
    })


def refresh_licenses(markdown, version):
    with open(markdown) as f:
        text = f.read()
    region = text.split("<!-- region licenses -->", 1)[1].split("<!-- endregion -->", 1)[0]
    ids = re.findall(r"\|\s*`([^`]+)`\s*\|", region)
    if not ids:
        sys.exit(f"no license ids found in {markdown}")
    write("licenses.json", {
        "source": "hub-docs docs/hub/repositories-licenses.md (the Hub docs' license table, "
                  "https://huggingface.co/docs/hub/repositories-licenses)",
        "version": version,
        "ids": ids,
    })


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks-version", help="@huggingface/tasks version (default: latest)")
    ap.add_argument("--licenses-md", help="a copy of hub-docs docs/hub/repositories-licenses.md")
    ap.add_argument("--licenses-version", default="unknown", help="its hub-docs commit")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    refresh_tasks(args.tasks_version)
    refresh_languages()
    if args.licenses_md:
        refresh_licenses(args.licenses_md, args.licenses_version)


if __name__ == "__main__":
    main()
