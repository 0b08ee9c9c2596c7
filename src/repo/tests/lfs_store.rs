//! LFS pointers, hashing and the object store.

use super::*;

const SPEC_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
                            oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
                            size 12345\n";

#[test]
fn pointer_encodes_exactly_as_the_spec_example() {
    let pointer = Pointer {
        oid: "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393".to_string(),
        size: 12345,
    };
    assert_eq!(pointer.encode(), SPEC_POINTER);
    assert_eq!(
        Pointer::parse(SPEC_POINTER.as_bytes()),
        Some(pointer.clone())
    );
    assert_eq!(pointer.git_blob(), SPEC_POINTER.as_bytes());
    assert!(
        Pointer {
            oid: pointer.oid,
            size: 0
        }
        .git_blob()
        .is_empty()
    );
}

#[test]
fn pointer_parse_is_strict() {
    let variants = [
        SPEC_POINTER.replace('\n', "\r\n"),
        SPEC_POINTER.trim_end().to_string(),
        SPEC_POINTER.replace("4d7a", "4D7A"),
        SPEC_POINTER.replace("4d7a", "4d7"),
        SPEC_POINTER.replace("size 12345", "size 012345"),
        SPEC_POINTER.replace("size 12345", "size  12345"),
        SPEC_POINTER.replace("size 12345", "size -1"),
        SPEC_POINTER.replace("size 12345", "size"),
        SPEC_POINTER.replace("sha256:", "sha512:"),
        SPEC_POINTER.replace("spec/v1", "spec/v2"),
        format!("{SPEC_POINTER}extra 1\n"),
        SPEC_POINTER.replace(
            "oid",
            "ext-0-foo sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\noid",
        ),
        String::new(),
    ];
    for text in variants {
        assert_eq!(Pointer::parse(text.as_bytes()), None, "{text:?}");
    }
}

#[test]
fn hashing_and_store_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("abc");
    fs::write(&file, "abc").unwrap();
    let mut hasher = lfs::Hasher::new();
    let pointer = hasher.pointer_for(&file).unwrap();
    assert_eq!(
        pointer.oid,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(pointer.size, 3);

    // More than one buffer's worth, to exercise the loop.
    let big = tmp.path().join("big");
    fs::write(&big, vec![b'x'; lfs::HASH_BUFFER_SIZE * 2 + 7]).unwrap();
    assert_eq!(
        hasher.pointer_for(&big).unwrap().size,
        (lfs::HASH_BUFFER_SIZE * 2 + 7) as u64
    );

    let git_dir = tmp.path().join("git");
    assert_eq!(
        lfs::store_path(&git_dir, &pointer.oid),
        git_dir.join("lfs/objects/ba/78").join(&pointer.oid)
    );
    let stored = lfs::hash_and_store(&git_dir, &file, &mut hasher).unwrap();
    assert_eq!(stored, pointer);
    assert_eq!(
        fs::read(lfs::store_path(&git_dir, &pointer.oid)).unwrap(),
        b"abc"
    );
    assert_eq!(
        lfs::store(&git_dir, &pointer, &file).unwrap(),
        lfs::Stored::AlreadyPresent
    );

    if git_lfs_available() {
        let output = Command::new("git")
            .args(["lfs", "pointer", "--file"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_eq!(String::from_utf8(output.stdout).unwrap(), pointer.encode());
    } else {
        eprintln!("note: git-lfs is not installed; skipped comparing with `git lfs pointer`");
    }
}
