//! JSONL → Arrow → Parquet shards. Never prints.
