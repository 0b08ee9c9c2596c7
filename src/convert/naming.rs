//! Shard names that keep the input order and survive edits.
//!
//! `datasets` reads a split's files in the order of their names (Python string order, which is
//! byte order for these ASCII names), so a name is `{split}-{key}.parquet` with keys that sort
//! like the shards. A build from scratch numbers the shards `00000`, `00001`, … Against the
//! previous build's shards (the names and LFS object ids in HEAD):
//!
//! - a new shard with the bytes of an old one keeps the old name (matched in order);
//! - between two kept shards, the new shards take the names of the old ones they replace, in
//!   order, and any further new shard gets a key that sorts between its neighbours: a digit
//!   string such as `000025` between `00002` and `00003` (a key followed by `.parquet` sorts
//!   before its own extensions, because `.` sorts before every digit);
//! - after the last kept shard, keys count on (`00007`, `00008`, …).
//!
//! So an edit in one shard keeps every name (the shard is "changed"), a boundary that appears
//! adds one name and one that disappears removes one, and no later shard is renamed.
//! Generated keys never end in `0`, so there is always a key between two of them; when there is
//! none (a key of zeros only, e.g. a shard inserted before `00000` while `00000` is kept), the
//! kept shard to the right is renamed too, which costs a tree entry, not an upload.
//! Previous names whose key is not a digit string (`train-00000-of-00003.parquet`, written by
//! another tool) are not kept.

/// The first key of a build from scratch, and the width keys count in.
const WIDTH: usize = 5;

/// The file names of a split's new shards (`{split}-{key}.parquet`), given the previous
/// shards' file names and oids and the new shards' oids, both in order.
pub fn file_names(split: &str, previous: &[(String, String)], new: &[&str]) -> Vec<String> {
    let prefix = format!("{split}-");
    let previous: Vec<(String, String)> = previous
        .iter()
        .filter_map(|(name, oid)| {
            let key = name.strip_prefix(&prefix)?.strip_suffix(".parquet")?;
            Some((key.to_string(), oid.clone()))
        })
        .collect();
    assign(&previous, new)
        .into_iter()
        .map(|key| format!("{prefix}{key}.parquet"))
        .collect()
}

/// The keys of the new shards, given the previous shards as `(key, oid)` and the new shards'
/// oids, both in order. Deterministic; the keys strictly increase.
pub fn assign(previous: &[(String, String)], new: &[&str]) -> Vec<String> {
    let mut previous: Vec<&(String, String)> = previous
        .iter()
        .filter(|(key, _)| !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    previous.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    previous.dedup_by(|a, b| a.0 == b.0);

    // Monotone matching by object id: the first old shard with the same bytes after the last
    // match.
    let mut anchors: Vec<(usize, usize)> = Vec::new();
    let mut next_old = 0;
    for (i, oid) in new.iter().enumerate() {
        if let Some(offset) = previous[next_old..].iter().position(|(_, o)| o == oid) {
            anchors.push((i, next_old + offset));
            next_old += offset + 1;
        }
    }
    loop {
        match assign_with(&previous, new.len(), &anchors) {
            Ok(keys) => return keys,
            // No key fits left of this anchor: give up keeping its name.
            Err(anchor) => {
                anchors.remove(anchor);
            }
        }
    }
}

/// Keys for `count` new shards, keeping the anchors' old keys; `Err(anchor index)` when the
/// gap before that anchor has no room.
fn assign_with(
    previous: &[&(String, String)],
    count: usize,
    anchors: &[(usize, usize)],
) -> Result<Vec<String>, usize> {
    let mut keys: Vec<String> = Vec::with_capacity(count);
    let mut new_start = 0;
    let mut old_start = 0;
    for gap in 0..=anchors.len() {
        let (new_end, old_end) = anchors.get(gap).copied().unwrap_or((count, previous.len()));
        let hi = anchors.get(gap).map(|&(_, old)| previous[old].0.as_str());
        let mut replaced = previous[old_start..old_end].iter().map(|(key, _)| key);
        for _ in new_start..new_end {
            let lo = keys.last().map(String::as_str);
            let key = match replaced.next() {
                Some(key) => key.clone(),
                None => match hi {
                    Some(hi) => between(lo.unwrap_or(""), hi).ok_or(gap)?,
                    None => after(lo),
                },
            };
            keys.push(key);
        }
        if let Some(&(new, old)) = anchors.get(gap) {
            keys.push(previous[old].0.clone());
            new_start = new + 1;
            old_start = old + 1;
        }
    }
    Ok(keys)
}

/// The next key after `lo` when nothing follows: the next number of the first five digits.
fn after(lo: Option<&str>) -> String {
    let Some(lo) = lo else {
        return "0".repeat(WIDTH);
    };
    if let Some(n) = lo.get(..WIDTH).and_then(|head| head.parse::<u32>().ok())
        && n + 1 < 10u32.pow(WIDTH as u32)
    {
        return format!("{:0width$}", n + 1, width = WIDTH);
    }
    above(lo.as_bytes())
}

/// A key strictly between `lo` and `hi` (byte order, `lo < hi`, `lo` may be empty), not ending
/// in `0`; `None` when `hi` is `lo` followed by zeros only.
fn between(lo: &str, hi: &str) -> Option<String> {
    let (lo, hi) = (lo.as_bytes(), hi.as_bytes());
    debug_assert!(lo < hi);
    let common = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
    let mut out = hi[..common].to_vec();
    if common == lo.len() {
        out.extend(below(&hi[common..])?);
    } else {
        let (a, b) = (lo[common], hi[common]);
        if b - a >= 2 {
            out.push(a + (b - a) / 2);
        } else {
            out.push(a);
            out.extend(above(&lo[common + 1..]).into_bytes());
        }
    }
    Some(String::from_utf8(out).expect("digits"))
}

/// A non-empty digit string below `s` (which is non-empty), not ending in `0`.
fn below(s: &[u8]) -> Option<Vec<u8>> {
    match s.first()? {
        b'0' => {
            let mut out = vec![b'0'];
            out.extend(below(&s[1..])?);
            Some(out)
        }
        b'1' => Some(b"05".to_vec()),
        &d => Some(vec![b'0' + (d - b'0') / 2]),
    }
}

/// A non-empty digit string above `s`, not ending in `0`.
fn above(s: &[u8]) -> String {
    match s.first() {
        None => "5".into(),
        Some(b'9') => format!("9{}", above(&s[1..])),
        Some(&d) => ((d + (b'9' - d).div_ceil(2)) as char).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous(keys: &[&str], oids: &[&str]) -> Vec<(String, String)> {
        keys.iter()
            .zip(oids)
            .map(|(k, o)| (k.to_string(), o.to_string()))
            .collect()
    }

    fn assert_increasing(keys: &[String]) {
        for pair in keys.windows(2) {
            let file = |k: &str| format!("train-{k}.parquet");
            assert!(file(&pair[0]) < file(&pair[1]), "{keys:?}");
        }
    }

    #[test]
    fn a_build_from_scratch_numbers_the_shards() {
        assert_eq!(assign(&[], &["a", "b", "c"]), ["00000", "00001", "00002"]);
    }

    #[test]
    fn an_edited_shard_keeps_its_name() {
        let old = previous(&["00000", "00001", "00002"], &["a", "b", "c"]);
        assert_eq!(assign(&old, &["a", "B", "c"]), ["00000", "00001", "00002"]);
    }

    #[test]
    fn a_new_boundary_adds_a_name_between_its_neighbours() {
        let old = previous(&["00000", "00001", "00002"], &["a", "b", "c"]);
        let keys = assign(&old, &["a", "b1", "b2", "c"]);
        assert_eq!(keys, ["00000", "00001", "000015", "00002"]);
    }

    #[test]
    fn a_lost_boundary_removes_one_name_and_renames_nothing_else() {
        let old = previous(&["00000", "00001", "00002", "00003"], &["a", "b", "c", "d"]);
        assert_eq!(assign(&old, &["a", "bc", "d"]), ["00000", "00001", "00003"]);
    }

    #[test]
    fn appended_shards_count_on() {
        let old = previous(&["00000", "00001"], &["a", "b"]);
        let keys = assign(&old, &["a", "B", "c", "d"]);
        assert_eq!(keys, ["00000", "00001", "00002", "00003"]);
    }

    #[test]
    fn a_shard_before_a_kept_first_shard_renames_it_only() {
        let old = previous(&["00000", "00001"], &["a", "b"]);
        let keys = assign(&old, &["new", "a", "b"]);
        assert_eq!(keys, ["00000", "000005", "00001"]);
    }

    #[test]
    fn names_of_other_tools_are_not_kept() {
        let old = previous(&["00000-of-00002", "00001-of-00002"], &["a", "b"]);
        assert_eq!(assign(&old, &["a", "b"]), ["00000", "00001"]);
    }

    #[test]
    fn keys_between_always_sort_between() {
        let cases = [
            ("", "00000"),
            ("", "5"),
            ("00002", "00003"),
            ("00002", "000025"),
            ("000025", "00003"),
            ("0009", "001"),
            ("99", "991"),
            ("1", "2"),
        ];
        for (lo, hi) in cases {
            match between(lo, hi) {
                Some(key) => {
                    assert!(lo.as_bytes() < key.as_bytes() && key.as_bytes() < hi.as_bytes());
                    assert!(!key.ends_with('0'), "{key}");
                }
                None => assert!(hi.strip_prefix(lo).unwrap().bytes().all(|b| b == b'0')),
            }
        }
    }

    /// Random edits over many generations: keys stay increasing, unchanged shards keep theirs.
    #[test]
    fn repeated_random_edits_keep_order_and_kept_names() {
        let mut rng = fastrand::Rng::with_seed(13);
        let mut oids: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
        let mut keys = assign(&[], &oids.iter().map(String::as_str).collect::<Vec<_>>());
        for fresh in 0..500 {
            let mut next = oids.clone();
            let at = rng.usize(0..=next.len());
            match rng.u8(0..4) {
                0 if !next.is_empty() => {
                    next.remove(at.min(next.len() - 1));
                }
                1 if at < next.len() => next[at] = format!("e{fresh}"),
                _ => next.insert(at, format!("n{fresh}")),
            }
            let old: Vec<(String, String)> = keys.iter().cloned().zip(oids.clone()).collect();
            let new_keys = assign(&old, &next.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(new_keys.len(), next.len());
            assert_increasing(&new_keys);
            let unchanged: Vec<_> = old.iter().filter(|(_, o)| next.contains(o)).collect();
            for (key, oid) in unchanged {
                let i = next.iter().position(|o| o == oid).unwrap();
                assert!(
                    new_keys[i] == *key || new_keys.contains(key),
                    "{key} lost ({oid})"
                );
            }
            oids = next;
            keys = new_keys;
        }
        assert!(keys.iter().all(|k| k.len() < 40), "{keys:?}");
    }
}
