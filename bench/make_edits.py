"""The edited inputs of the benchmarks, each one edit away from the base input.

    make_edits.py SRC OUT [NAME ...]

writes OUT/NAME.jsonl for each edit NAME (all of them when none is named). Used by
bench/edits.sh and bench/xet.sh, so both measure the very same edits.
"""
import json
import re
import sys


def renamed(rows, prefix):
    """Copies of rows with a new id, so that no copy equals a row already in the input."""
    out = [re.sub(rb'^\{"id": ?"', lambda m: m.group(0) + prefix, l, count=1) for l in rows]
    assert all(a != b for a, b in zip(out, rows))
    return out


def edited_field(line):
    row = json.loads(line)
    key = next(k for k, v in row.items() if isinstance(v, str))
    row[key] = row[key] + " (edited)"
    return json.dumps(row, ensure_ascii=False).encode()


def with_column(line):
    assert line.endswith(b"}")
    return line[:-1] + b', "bench_extra": 1}'


def edits(lines):
    n = len(lines)
    mid = n // 2

    def delete(pct):
        at = n * pct // 100
        return lambda: lines[:at] + lines[at + 1:]

    return {
        "append-1pct": lambda: lines + renamed(lines[: n // 100], b"app-"),
        "delete-10pct": delete(10),
        "delete-50pct": delete(50),
        "delete-90pct": delete(90),
        "insert-1000-middle": lambda: lines[:mid] + renamed(lines[1000:2000], b"ins-") + lines[mid:],
        "edit-one-field-middle": lambda: lines[:mid] + [edited_field(lines[mid])] + lines[mid + 1:],
        "add-column": lambda: [with_column(l) for l in lines],
    }


def main():
    src, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = open(src, "rb").read().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    made = edits(lines)
    for name in names or list(made):
        with open(f"{out}/{name}.jsonl", "wb") as f:
            f.write(b"\n".join(made[name]()) + b"\n")


if __name__ == "__main__":
    main()
