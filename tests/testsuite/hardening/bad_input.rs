//! Bad input: the corpus of malformed or tricky JSONL cases, each an exact round trip or a precise error with the clone unchanged.

use super::*;

/// Generates a case too big to keep in git (see `generate` in tests/bad_input/expected.json).
fn generate_case(spec: &Value) -> Vec<u8> {
    let (kind, n) = spec
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| !["pad", "lists"].contains(&k.as_str()))
        })
        .map(|(k, v)| (k.as_str(), v.as_u64().unwrap() as usize))
        .expect("generate: {kind: n}");
    let mut out = String::new();
    match kind {
        // `n` levels of objects, counting the record itself.
        "deep_objects" => {
            let mut value = "1".to_string();
            for level in 0..n - 1 {
                value = format!("{{\"k{level}\": {value}}}");
            }
            for _ in 0..2 {
                out.push_str(&format!("{{\"x\": {value}}}\n"));
            }
        }
        // The record, then `n - 1` levels of lists.
        "deep_lists" => {
            let value = format!("{}1{}", "[".repeat(n - 1), "]".repeat(n - 1));
            out.push_str(&format!("{{\"x\": {value}}}\n"));
        }
        // `{"x": …}` holding `n` levels of objects, then `lists` levels of lists.
        "deep_mixed" => {
            let lists = spec["lists"].as_u64().unwrap() as usize;
            let mut value = format!("{}1{}", "[".repeat(lists), "]".repeat(lists));
            for level in 0..n {
                value = format!("{{\"k{level}\": {value}}}");
            }
            out.push_str(&format!("{{\"x\": {value}}}\n"));
        }
        "wide" => {
            for row in 1..=2 {
                let record: serde_json::Map<String, Value> = (0..n)
                    .map(|i| {
                        let value = match i % 3 {
                            0 => json!(i * row),
                            1 => json!(format!("v{i}-{row}")),
                            _ => json!([i as f64 / 4.0, null]),
                        };
                        (format!("col_{i:04}"), value)
                    })
                    .collect();
                out.push_str(&serde_json::to_string(&record).unwrap());
                out.push('\n');
            }
        }
        "long_string" => {
            out.push_str(&format!("{{\"id\": 1, \"text\": \"{}\"}}\n", "x".repeat(n)));
            out.push_str("{\"id\": 2, \"text\": \"short\"}\n");
        }
        // `n` good lines, then one whose deep value conflicts.
        "conflict_after" => {
            let pad = "p".repeat(spec["pad"].as_u64().unwrap_or(0) as usize);
            for i in 0..n {
                out.push_str(&format!(
                    "{{\"id\": {i}, \"pad\": \"{pad}\", \"meta\": {{\"tags\": [{{\"score\": {i}}}]}}}}\n"
                ));
            }
            out.push_str(&format!(
                "{{\"id\": {n}, \"pad\": \"\", \"meta\": {{\"tags\": [{{\"score\": \"high\"}}]}}}}\n"
            ));
        }
        other => panic!("unknown generator {other}"),
    }
    out.into_bytes()
}

/// What one case did against its expectation: `Err` says how it deviates.
struct CaseRun {
    name: String,
    expectation: Value,
    deviation: Result<(), String>,
}

#[test]
fn bad_input_corpus() {
    let corpus = repo_path("tests/bad_input");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("expected.json")).unwrap()).unwrap();
    let cases = expected["cases"].as_object().unwrap();
    assert!(cases.len() >= 30, "the corpus needs at least 30 cases");
    // Every file of the folder has an expectation, and every expectation a file or generator.
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".jsonl") && !name.ends_with(".readback.jsonl") {
            assert!(
                cases.contains_key(&name),
                "{name} has no entry in expected.json"
            );
        }
    }

    let env = TestEnv::new();
    let generated = env.path().join("generated");
    std::fs::create_dir_all(&generated).unwrap();
    let names: Vec<&String> = cases.keys().collect();

    // Builds run on two workers; each case has its own clone.
    let runs: Vec<(String, Value, PathBuf, PathBuf, Output)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let env = &env;
                let names = &names;
                let (corpus, generated) = (&corpus, &generated);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for name in names.iter().skip(worker).step_by(2) {
                        let case = &cases[name.as_str()];
                        let input = match case.get("generate") {
                            Some(spec) => {
                                let path = generated.join(name.as_str());
                                std::fs::write(&path, generate_case(spec)).unwrap();
                                path
                            }
                            None => corpus.join(name.as_str()),
                        };
                        assert!(input.is_file(), "{name}: no file {}", input.display());
                        let stem = name.trim_end_matches(".jsonl").replace('_', "-");
                        let clone = env.init(&stem);
                        let before = env.snapshot(&clone);
                        let output = build(env, &clone, &[], &[&input]);
                        if output.status.code() != Some(0) {
                            let after = env.snapshot(&clone);
                            assert!(
                                before == after,
                                "{name}: the failed build changed the clone\n{}",
                                stderr(&output)
                            );
                        }
                        done.push((name.to_string(), case.clone(), input, clone, output));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });

    // Read back every successful build with datasets, in one Python process.
    let jobs: Vec<(String, PathBuf, PathBuf)> = runs
        .iter()
        .filter(|(_, _, _, _, output)| output.status.success())
        .map(|(name, case, input, clone, _)| {
            let rows = match case.get("reads_back_as").and_then(Value::as_str) {
                Some(file) => corpus.join(file),
                None => input.clone(),
            };
            (name.clone(), clone.clone(), rows)
        })
        .collect();
    let read_back = check_many_with_python(&env, &jobs);

    let mut results = Vec::new();
    for (name, case, _, _, output) in runs {
        let err = stderr(&output);
        let deviation = if err.contains("panicked") || output.status.code() == Some(101) {
            Err(format!("panicked: {}", err.trim()))
        } else if case.get("ok") == Some(&Value::Bool(true)) {
            if output.status.success() {
                read_back[&name].clone()
            } else {
                Err(format!("failed: {}", err.trim()))
            }
        } else {
            let fragments: Vec<&str> = case["error_contains"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: neither ok nor error_contains"))
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let missing: Vec<&&str> = fragments.iter().filter(|f| !err.contains(**f)).collect();
            if output.status.code() != Some(1) {
                Err(format!(
                    "expected exit 1, got {:?}; stderr: {}",
                    output.status.code(),
                    err.trim()
                ))
            } else if !err.starts_with("Error: ") {
                Err(format!(
                    "stderr does not start with `Error: `: {}",
                    err.trim()
                ))
            } else if !missing.is_empty() {
                Err(format!("stderr lacks {missing:?}: {}", err.trim()))
            } else {
                Ok(())
            }
        };
        results.push(CaseRun {
            name,
            expectation: case,
            deviation,
        });
    }

    let mut failures = Vec::new();
    let (mut passed, mut known) = (0, 0);
    for run in &results {
        match (run.expectation.get("known_bug"), &run.deviation) {
            (None, Ok(())) => passed += 1,
            (None, Err(how)) => failures.push(format!("{}: {how}", run.name)),
            (Some(_), Err(how)) => {
                known += 1;
                eprintln!("known bug, still there: {}: {how}", run.name);
            }
            (Some(bug), Ok(())) => failures.push(format!(
                "{}: behaves as expected now, but expected.json lists a known bug ({bug}); \
                 delete its known_bug line",
                run.name
            )),
        }
    }
    eprintln!(
        "bad input: {} cases, {passed} as expected, {known} known bugs",
        results.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) deviate:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
