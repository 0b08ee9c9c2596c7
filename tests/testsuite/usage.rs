//! Flag values clap can parse (sizes, enums) are parsed by clap: a bad one is a usage error
//! (exit 2) naming the flag and the value, before anything is read or written.

use crate::support::*;

#[test]
fn bad_flag_values_are_usage_errors_that_name_the_flag_and_change_nothing() {
    let env = TestEnv::new();
    let clone = env.init("usage");
    let input = env.write("train.jsonl", "{\"a\": 1}\n");
    let before = env.snapshot(&clone);
    let build = |flags: &[&str]| {
        env.hf_relay()
            .args(["build", "--dir"])
            .arg(&clone)
            .arg(&input)
            .args(flags)
            .output()
            .unwrap()
    };

    let output = build(&["--max-shard-size", "lots"]);
    insta::assert_snapshot!(transcript(&env, &output), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: invalid value 'lots' for '--max-shard-size <SIZE>': invalid size "lots": expected e.g. 500MB, 1GB or 200MiB

    For more information, try '--help'.
    "#);
    let output = build(&["--max-shard-size", "12 parsecs"]);
    insta::assert_snapshot!(transcript(&env, &output), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: invalid value '12 parsecs' for '--max-shard-size <SIZE>': invalid size "12 parsecs": unknown unit "PARSECS" (use B, KB, MB, GB, KiB, MiB, GiB)

    For more information, try '--help'.
    "#);
    let output = build(&["--on-type-conflict", "coerce"]);
    insta::assert_snapshot!(transcript(&env, &output), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: invalid value 'coerce' for '--on-type-conflict <ON_TYPE_CONFLICT>'
      [possible values: error, string]

    For more information, try '--help'.
    "#);
    assert_eq!(env.snapshot(&clone), before);

    // publish refuses it before it creates the folder.
    let output = env
        .hf_relay()
        .args([
            "publish",
            "--repo-id",
            "you/fresh",
            "--max-shard-size",
            "0MB",
        ])
        .arg(&input)
        .output()
        .unwrap();
    insta::assert_snapshot!(transcript(&env, &output), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: invalid value '0MB' for '--max-shard-size <SIZE>': invalid size "0MB": must be at least one byte

    For more information, try '--help'.
    "#);
    assert!(!env.path().join("fresh").exists());
}
