use yaml_rust2::YamlLoader;
use yaml_rust2::yaml::{Hash, Yaml};

use super::*;
use crate::features::Feature;

fn v(dtype: &'static str) -> Feature {
    Feature::Value(dtype)
}

fn split(name: &str, num_bytes: u64, num_examples: u64) -> SplitInfo {
    SplitInfo {
        name: name.to_string(),
        num_bytes,
        num_examples,
    }
}

/// The §5.5 schema, minus the ClassLabel column.
fn example_config() -> ConfigInfo {
    ConfigInfo {
        config_name: "default".to_string(),
        data_dir: "data".to_string(),
        features: vec![
            ("id".to_string(), v("string")),
            (
                "messages".to_string(),
                Feature::List(Box::new(Feature::Struct(vec![
                    ("role".to_string(), v("string")),
                    ("content".to_string(), v("string")),
                ]))),
            ),
            ("tags".to_string(), Feature::List(Box::new(v("string")))),
            ("quality".to_string(), v("float64")),
            (
                "meta".to_string(),
                Feature::Struct(vec![
                    ("source".to_string(), v("string")),
                    ("turns".to_string(), v("int64")),
                ]),
            ),
        ],
        splits: vec![split("train", 402372, 3000), split("test", 66622, 500)],
        download_size: 33986,
    }
}

fn simple_config(name: &str, examples: u64) -> ConfigInfo {
    ConfigInfo {
        config_name: name.to_string(),
        data_dir: if name == "default" {
            "data".to_string()
        } else {
            name.to_string()
        },
        features: vec![("text".to_string(), v("string"))],
        splits: vec![split("train", examples * 10, examples)],
        download_size: examples * 3,
    }
}

fn render_with(
    existing: Option<&str>,
    template: Option<&str>,
    config: &ConfigInfo,
    flags: &MetadataFlags,
) -> String {
    render(&CardRequest {
        repo_id: "alice/chat-logs",
        existing,
        template,
        config,
        flags,
    })
    .unwrap()
}

fn front_matter(card: &str) -> &str {
    let end = card[4..].find("\n---\n").unwrap() + 4;
    &card[4..end + 1]
}

fn body_of(card: &str) -> &str {
    let end = card[4..].find("\n---\n").unwrap() + 4;
    &card[end + 5..]
}

fn meta_of(card: &str) -> Hash {
    match YamlLoader::load_from_str(front_matter(card))
        .unwrap()
        .remove(0)
    {
        Yaml::Hash(map) => map,
        other => panic!("not a mapping: {other:?}"),
    }
}

fn keys_of(card: &str) -> Vec<String> {
    meta_of(card)
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fresh_card_matches_push_to_hub_layout() {
    let card = render_with(None, None, &example_config(), &MetadataFlags::default());
    let expected = "\
size_categories:
- 1K<n<10K
dataset_info:
  features:
  - name: id
    dtype: string
  - name: messages
    list:
    - name: role
      dtype: string
    - name: content
      dtype: string
  - name: tags
    list: string
  - name: quality
    dtype: float64
  - name: meta
    struct:
    - name: source
      dtype: string
    - name: turns
      dtype: int64
  splits:
  - name: train
    num_bytes: 402372
    num_examples: 3000
  - name: test
    num_bytes: 66622
    num_examples: 500
  download_size: 33986
  dataset_size: 468994
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
";
    assert!(card.starts_with("---\n"), "{card}");
    assert_eq!(front_matter(&card), expected);
    assert!(card.ends_with('\n') && !card.ends_with("\n\n"));
    // Deterministic.
    assert_eq!(
        card,
        render_with(None, None, &example_config(), &MetadataFlags::default())
    );
}

#[test]
fn named_config_gets_config_name_and_its_own_dir() {
    let mut config = simple_config("en", 10);
    config.data_dir = "en".to_string();
    let card = render_with(None, None, &config, &MetadataFlags::default());
    let fm = front_matter(&card);
    assert!(
        fm.contains("dataset_info:\n  config_name: en\n  features:\n"),
        "{fm}"
    );
    assert!(
        fm.contains("- config_name: en\n  data_files:\n  - split: train\n    path: en/train-*\n")
    );
}

#[test]
fn fresh_card_key_order_with_all_flags() {
    let flags = MetadataFlags {
        pretty_name: Some("Chat Logs".to_string()),
        license: Some("mit".to_string()),
        language: vec!["en".to_string(), "fr".to_string()],
        task_categories: vec!["text-generation".to_string()],
        tags: vec!["chat".to_string()],
        annotations_creators: vec!["machine-generated".to_string()],
        source_datasets: vec!["original".to_string()],
    };
    let card = render_with(None, None, &simple_config("default", 5), &flags);
    assert_eq!(
        keys_of(&card),
        [
            "pretty_name",
            "license",
            "language",
            "task_categories",
            "tags",
            "annotations_creators",
            "source_datasets",
            "size_categories",
            "dataset_info",
            "configs"
        ]
    );
    assert!(card.starts_with(
        "---\npretty_name: Chat Logs\nlicense: mit\nlanguage:\n- en\n- fr\ntask_categories:\n\
         - text-generation\ntags:\n- chat\n"
    ));
    assert!(body_of(&card).contains("# Chat Logs\n"));
}

const USER_CARD: &str = "\
---
license: cc-by-4.0
dataset_info:
  features:
  - name: old
    dtype: int64
  splits:
  - name: train
    num_bytes: 1
    num_examples: 1
  download_size: 1
  dataset_size: 1
language:
- en
custom_thing:
  nested:
    deep: [1, 2, {a: b}]
  flag: yes
  octal: 010
  text: 'quoted: value'
pretty_name: My Data
size_categories:
- n<1K
extra_gated_prompt: \"Agree?\"
---
# My Data

Some prose the user wrote.
";

#[test]
fn user_keys_kept_in_order() {
    let card = render_with(
        Some(USER_CARD),
        None,
        &simple_config("default", 20),
        &MetadataFlags::default(),
    );
    assert_eq!(
        keys_of(&card),
        [
            "license",
            "dataset_info",
            "language",
            "custom_thing",
            "pretty_name",
            "size_categories",
            "extra_gated_prompt",
            "configs"
        ]
    );
    let fm = front_matter(&card);
    assert!(fm.starts_with("license: cc-by-4.0\ndataset_info:\n  features:\n  - name: text\n"));
    // Nested values are kept, with PyYAML's reading of `yes` and `010`.
    assert!(
        fm.contains(
            "custom_thing:\n  nested:\n    deep:\n    - 1\n    - 2\n    - a: b\n  flag: true\n  \
             octal: 8\n  text: 'quoted: value'\npretty_name: My Data\n"
        ),
        "{fm}"
    );
    assert!(fm.contains("extra_gated_prompt: Agree?\n"));
    assert!(!fm.contains("name: old"));
    assert_eq!(body_of(&card), "# My Data\n\nSome prose the user wrote.\n");
}

#[test]
fn flags_override_and_absent_flags_keep() {
    let flags = MetadataFlags {
        license: Some("mit".to_string()),
        tags: vec!["new".to_string()],
        pretty_name: Some(String::new()),
        ..Default::default()
    };
    let card = render_with(Some(USER_CARD), None, &simple_config("default", 20), &flags);
    let meta = meta_of(&card);
    assert_eq!(meta[&Yaml::from_str("license")].as_str(), Some("mit"));
    assert_eq!(
        meta[&Yaml::from_str("pretty_name")].as_str(),
        Some("My Data")
    );
    assert_eq!(
        meta[&Yaml::from_str("language")],
        Yaml::Array(vec![Yaml::from_str("en")])
    );
    assert_eq!(
        meta[&Yaml::from_str("tags")],
        Yaml::Array(vec![Yaml::from_str("new")])
    );
    let keys = keys_of(&card);
    // license replaced in place; a new flag key is appended, new machine keys after it.
    assert_eq!(keys[0], "license");
    assert_eq!(&keys[keys.len() - 2..], ["tags", "configs"]);
}

const TWO_CONFIG_CARD: &str = "\
---
dataset_info:
- config_name: en
  features:
  - name: label
    dtype:
      class_label:
        names:
          '0': bad
          '1': good
  splits:
  - name: train
    num_bytes: 100
    num_examples: 600
  download_size: 50
  dataset_size: 100
- config_name: fr
  features:
  - name: text
    dtype: string
  splits:
  - name: train
    num_bytes: 70
    num_examples: 7
  download_size: 9
  dataset_size: 70
configs:
- config_name: fr
  data_files:
  - split: train
    path: fr/train-*
- config_name: en
  data_files:
  - split: train
    path: en/train-*
  default: true
---
";

#[test]
fn other_configs_kept_and_list_sorted() {
    let mut rebuilt = simple_config("de", 500);
    rebuilt.splits.push(split("validation", 40, 4));
    let card = render_with(
        Some(TWO_CONFIG_CARD),
        None,
        &rebuilt,
        &MetadataFlags::default(),
    );
    let fm = front_matter(&card);
    let meta = meta_of(&card);
    let infos = meta[&Yaml::from_str("dataset_info")].as_vec().unwrap();
    let names: Vec<_> = infos
        .iter()
        .map(|e| e["config_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["de", "en", "fr"]);
    // The other configs are kept verbatim, ClassLabel included.
    assert!(fm.contains(
        "- config_name: en\n  features:\n  - name: label\n    dtype:\n      class_label:\n        \
         names:\n          '0': bad\n          '1': good\n"
    ));
    let configs = meta[&Yaml::from_str("configs")].as_vec().unwrap();
    let names: Vec<_> = configs
        .iter()
        .map(|e| e["config_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["de", "en", "fr"]);
    assert!(fm.contains(
        "- config_name: de\n  data_files:\n  - split: train\n    path: de/train-*\n  - split: \
         validation\n    path: de/validation-*\n- config_name: en\n  data_files:\n  - split: \
         train\n    path: en/train-*\n  default: true\n"
    ));
    // 500 + 4 + 600 + 7 = 1111 examples.
    assert!(
        fm.starts_with("size_categories:\n- 1K<n<10K\n")
            || fm.contains("\nsize_categories:\n- 1K<n<10K\n")
    );

    // Rebuilding an existing config replaces it and keeps its other configs keys.
    let card = render_with(
        Some(TWO_CONFIG_CARD),
        None,
        &simple_config("en", 3),
        &MetadataFlags::default(),
    );
    let fm = front_matter(&card);
    assert!(fm.contains(
        "- config_name: en\n  data_files:\n  - split: train\n    path: en/train-*\n  default: true\n"
    ));
    assert!(!fm.contains("class_label"));
    assert!(fm.contains("size_categories:\n- n<1K\n"));
}

#[test]
fn single_config_card_becomes_list_when_a_config_is_added() {
    let first = render_with(
        None,
        None,
        &simple_config("default", 5),
        &MetadataFlags::default(),
    );
    let second = render_with(
        Some(&first),
        None,
        &simple_config("extra", 5),
        &MetadataFlags::default(),
    );
    let fm = front_matter(&second);
    assert!(
        fm.contains("dataset_info:\n- config_name: default\n  features:\n"),
        "{fm}"
    );
    assert!(fm.contains("- config_name: extra\n  features:\n"));
    let configs = read_configs(&second).unwrap();
    assert_eq!(
        configs,
        vec![simple_config("default", 5), simple_config("extra", 5)]
    );
    // Rebuilding default again keeps extra.
    let third = render_with(
        Some(&second),
        None,
        &simple_config("default", 8),
        &MetadataFlags::default(),
    );
    assert_eq!(
        read_configs(&third).unwrap(),
        vec![simple_config("default", 8), simple_config("extra", 5)]
    );
}

#[test]
fn size_category_buckets() {
    let cases = [
        (0, "n<1K"),
        (999, "n<1K"),
        (1_000, "1K<n<10K"),
        (9_999, "1K<n<10K"),
        (10_000, "10K<n<100K"),
        (100_000, "100K<n<1M"),
        (1_000_000, "1M<n<10M"),
        (10_000_000, "10M<n<100M"),
        (100_000_000, "100M<n<1B"),
        (1_000_000_000, "1B<n<10B"),
        (10_000_000_000, "10B<n<100B"),
        (100_000_000_000, "100B<n<1T"),
        (999_999_999_999, "100B<n<1T"),
        (1_000_000_000_000, "n>1T"),
        (u64::MAX, "n>1T"),
    ];
    for (n, label) in cases {
        assert_eq!(info::size_category(n), label, "{n}");
    }
    let card = render_with(
        None,
        None,
        &simple_config("default", 12_345),
        &MetadataFlags::default(),
    );
    assert!(front_matter(&card).starts_with("size_categories:\n- 10K<n<100K\n"));
}

#[test]
fn default_template_and_placeholders() {
    let card = render_with(None, None, &example_config(), &MetadataFlags::default());
    let body = body_of(&card);
    assert!(body.starts_with("\n# chat-logs\n"), "{body}");
    assert!(
        body.contains(
            "from datasets import load_dataset\nds = load_dataset(\"alice/chat-logs\")\n"
        )
    );
    assert!(body.contains("hf-relay"));
    for section in [
        "## Dataset structure",
        "## Uses",
        "## Limitations",
        "## Citation",
    ] {
        assert!(body.contains(section), "{section}");
    }
    assert!(!body.contains("{{"));
    assert!(
        body.contains(
            "<!-- hf-relay:begin splits (generated by hf-relay; refreshed on each build) -->\n\
         | Split | Examples | Size |\n| --- | ---: | ---: |\n| `train` | 3,000 | 402.4 kB |\n\
         | `test` | 500 | 66.6 kB |\n| **total** | **3,500** | **469.0 kB** |\n\
         <!-- hf-relay:end splits -->\n"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "| Field | Type | Description |\n| --- | --- | --- |\n\
         | `id` | `string` | _TODO: describe this field_ |\n\
         | `messages` | `list<struct>` | _TODO: describe this field_ |\n\
         | `messages[].role` | `string` | _TODO: describe this field_ |\n\
         | `messages[].content` | `string` | _TODO: describe this field_ |\n\
         | `tags` | `list<string>` | _TODO: describe this field_ |\n\
         | `quality` | `float64` | _TODO: describe this field_ |\n\
         | `meta` | `struct` | _TODO: describe this field_ |\n\
         | `meta.source` | `string` | _TODO: describe this field_ |\n\
         | `meta.turns` | `int64` | _TODO: describe this field_ |\n\
         <!-- hf-relay:end fields -->\n"
        ),
        "{body}"
    );
    // A re-render of the result changes nothing.
    let again = render_with(
        Some(&card),
        None,
        &example_config(),
        &MetadataFlags::default(),
    );
    assert_eq!(again, card);
}

#[test]
fn custom_template() {
    let template = "# {{ pretty_name }} ({{repo_id}})\n\n{{total_examples}} rows. {{unknown}} {{\n\n{{splits}}\n";
    let flags = MetadataFlags {
        pretty_name: Some("Chats".to_string()),
        ..Default::default()
    };
    let card = render_with(None, Some(template), &example_config(), &flags);
    let body = body_of(&card);
    assert!(
        body.starts_with("\n# Chats (alice/chat-logs)\n\n3,500 rows. {{unknown}} {{\n\n<!-- hf-relay:begin splits"),
        "{body}"
    );
    assert!(body.ends_with("<!-- hf-relay:end splits -->\n"));
    // A whitespace-only existing body also gets the template.
    let existing = "---\nlicense: mit\n---\n\n  \n";
    let card = render_with(Some(existing), Some(template), &example_config(), &flags);
    assert!(body_of(&card).starts_with("\n# Chats"));
    assert!(card.starts_with("---\nlicense: mit\npretty_name: Chats\n"));
}

#[test]
fn markers_refreshed_prose_untouched_descriptions_kept() {
    let existing = "---\nlicense: mit\n---\n\n# Title\n\nUser prose   with trailing spaces   \n\n\
<!-- hf-relay:begin fields (generated by hf-relay; edit the Description column freely, the rest is refreshed on each build) -->\n\
| Field | Type | Description |\n| --- | --- | --- |\n\
| `id` | `string` | The unique id \\| stable |\n\
| `gone` | `int64` | Removed column |\n\
| `meta.source` | `string` | Where it came from |\n\
| `tags` | `list<string>` | _TODO: describe this field_ |\n\
<!-- hf-relay:end fields -->\n\nMore prose.\n\n\
<!-- hf-relay:begin splits -->\nstale\n<!-- hf-relay:end splits -->\n\
<!-- hf-relay:begin other -->\nuntouched\n<!-- hf-relay:end other -->\nEnd.\n";
    let card = render_with(
        Some(existing),
        None,
        &example_config(),
        &MetadataFlags::default(),
    );
    let body = body_of(&card);
    assert!(body.starts_with(
        "\n# Title\n\nUser prose   with trailing spaces   \n\n<!-- hf-relay:begin fields (generated"
    ));
    assert!(
        body.contains("| `id` | `string` | The unique id \\| stable |\n"),
        "{body}"
    );
    assert!(body.contains("| `meta.source` | `string` | Where it came from |\n"));
    assert!(body.contains("| `meta.turns` | `int64` | _TODO: describe this field_ |\n"));
    assert!(!body.contains("gone"));
    assert!(body.contains(
        "<!-- hf-relay:end fields -->\n\nMore prose.\n\n<!-- hf-relay:begin splits -->\n| Split |"
    ));
    assert!(!body.contains("stale"));
    assert!(body.ends_with(
        "<!-- hf-relay:begin other -->\nuntouched\n<!-- hf-relay:end other -->\nEnd.\n"
    ));
    assert!(!body.contains("## Uses"));
}

#[test]
fn body_without_markers_is_untouched() {
    let existing = "# Hand-written card\n\nNo front matter, no markers. {{repo_id}}\n";
    let card = render_with(
        Some(existing),
        None,
        &simple_config("default", 1),
        &MetadataFlags::default(),
    );
    assert_eq!(body_of(&card), existing);
    // A missing end marker leaves everything as it was.
    let existing = "---\n---\nText\n<!-- hf-relay:begin splits -->\nold\n";
    let card = render_with(
        Some(existing),
        None,
        &simple_config("default", 1),
        &MetadataFlags::default(),
    );
    assert_eq!(
        body_of(&card),
        "Text\n<!-- hf-relay:begin splits -->\nold\n"
    );
}

#[test]
fn crlf_cards_stay_crlf() {
    let existing = "---\r\nlicense: mit\r\n---\r\n# Title\r\n\r\n<!-- hf-relay:begin splits -->\r\nold\r\n<!-- hf-relay:end splits -->\r\n";
    let card = render_with(
        Some(existing),
        None,
        &simple_config("default", 1),
        &MetadataFlags::default(),
    );
    assert!(
        card.starts_with("---\r\nlicense: mit\r\nsize_categories:\r\n- n<1K\r\n"),
        "{card:?}"
    );
    assert_eq!(card.matches('\n').count(), card.matches("\r\n").count());
    assert!(card.contains("---\r\n# Title\r\n\r\n<!-- hf-relay:begin splits -->\r\n| Split |"));
    assert!(card.ends_with("<!-- hf-relay:end splits -->\r\n"));
}

#[test]
fn trailing_newlines_normalised() {
    let existing = "---\nlicense: mit\n---\nBody\n\n\n";
    let card = render_with(
        Some(existing),
        None,
        &simple_config("default", 1),
        &MetadataFlags::default(),
    );
    assert!(card.ends_with("---\nBody\n"));
}

#[test]
fn invalid_yaml_is_an_error_naming_the_line() {
    let existing = "\n---\nlicense: mit\nlanguage: [en\n---\nbody\n";
    let error = render(&CardRequest {
        repo_id: "a/b",
        existing: Some(existing),
        template: None,
        config: &simple_config("default", 1),
        flags: &MetadataFlags::default(),
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("README.md"), "{error}");
    assert!(error.contains("line 5"), "{error}");

    let error = read_configs("---\nkey: value\n  bad: indent\n---\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("README.md") && error.contains("line 3"),
        "{error}"
    );

    let error = read_configs("---\n- a\n- b\n---\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("README.md") && error.contains("mapping"),
        "{error}"
    );

    let error = read_configs("---\nx: !!python/tuple [1, 2]\n---\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 2") && error.contains("tag"), "{error}");
}

#[test]
fn front_matter_detection() {
    // Not front matter: body only.
    assert!(
        read_configs("# Title\n---\nfoo: bar\n---\n")
            .unwrap()
            .is_empty()
    );
    // Empty front matter.
    assert!(read_configs("---\n---\n").unwrap().is_empty());
    assert!(read_configs("---\n\n---").unwrap().is_empty());
    assert!(read_configs("").unwrap().is_empty());
    // Leading blank lines and a closing line with trailing spaces.
    let card = render_with(
        None,
        None,
        &simple_config("default", 2),
        &MetadataFlags::default(),
    );
    let shifted = format!("\n\n{}", card.replacen("\n---\n", "\n---  \n", 1));
    assert_eq!(
        read_configs(&shifted).unwrap(),
        vec![simple_config("default", 2)]
    );
}

#[test]
fn read_configs_round_trip() {
    let card = render_with(None, None, &example_config(), &MetadataFlags::default());
    assert_eq!(read_configs(&card).unwrap(), vec![example_config()]);

    let mut nested = simple_config("nested", 1);
    nested.features = vec![
        (
            "ll".to_string(),
            Feature::List(Box::new(Feature::List(Box::new(v("int64"))))),
        ),
        (
            "s".to_string(),
            Feature::Struct(vec![(
                "inner".to_string(),
                Feature::List(Box::new(Feature::Struct(vec![(
                    "x".to_string(),
                    v("bool"),
                )]))),
            )]),
        ),
        ("n".to_string(), v("null")),
        ("big".to_string(), v("large_string")),
    ];
    let card = render_with(None, None, &nested, &MetadataFlags::default());
    assert!(front_matter(&card).contains("  - name: ll\n    list:\n      list: int64\n"));
    assert_eq!(read_configs(&card).unwrap(), vec![nested]);

    let configs = read_configs(TWO_CONFIG_CARD).unwrap();
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[0].config_name, "en");
    assert_eq!(configs[0].data_dir, "en");
    assert_eq!(configs[0].features, vec![("label".to_string(), v("int64"))]);
    assert_eq!(configs[0].splits, vec![split("train", 100, 600)]);
    assert_eq!(configs[1].download_size, 9);

    let legacy = "---\ndataset_info:\n  features:\n  - name: t\n    sequence: int32\n  splits:\n  - name: train\n    num_examples: 2\n---\n";
    let configs = read_configs(legacy).unwrap();
    assert_eq!(configs[0].data_dir, "data");
    assert_eq!(
        configs[0].features,
        vec![("t".to_string(), Feature::List(Box::new(v("int32"))))]
    );
    assert_eq!(configs[0].splits, vec![split("train", 0, 2)]);
}

const TRICKY: &[&str] = &[
    "",
    " ",
    "plain text",
    "n<1K",
    "1K<n<10K",
    "it's",
    "say \"hi\"",
    "key: value",
    "ends with colon:",
    "a:b",
    "a #comment",
    "a#b",
    "#start",
    "- dash",
    "-dash",
    "-",
    "--- doc",
    "...",
    "? q",
    "?q",
    ": c",
    ":c",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|pipe",
    ">fold",
    "[list]",
    "{map}",
    "a, b",
    "a [b] {c}",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "null",
    "Null",
    "~",
    "true",
    "False",
    "1e3",
    "1E3",
    "1.5e+3",
    "0x10",
    "0o17",
    "0b101",
    "010",
    "08",
    "1_000",
    "1:30",
    ".5",
    "-.5",
    "5.",
    "+1",
    "-1",
    "0",
    "123",
    "1.0",
    ".inf",
    "-.Inf",
    ".nan",
    "inf",
    "nan",
    "2024-01-31",
    "2024-1-3 10:20:30",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
    "line one\nline two",
    "trailing newline\n",
    "\nleading newline",
    "tab\there",
    "\ttab first",
    "carriage\rreturn",
    "null\0byte",
    "bell\x07",
    "del\x7f",
    "nbsp\u{a0}here",
    "bom\u{feff}",
    "nel\u{85}",
    "ls\u{2028}ps\u{2029}",
    "héllo wörld",
    "日本語のテキスト",
    "emoji 🤗🚀",
    "🤗",
    " leading space",
    "trailing space ",
    "back\\slash",
    "quote ' and \" both",
    "'single'",
    "\"double\"",
    "a: 'b'",
    "percent % inside",
    "https://example.com/a?b=c#frag",
    "C:\\path\\file",
    "mixed \n  indented\n",
];

fn pyyaml_like_round_trip(value: &Yaml) {
    let mut doc = Hash::new();
    doc.insert(Yaml::from_str("value"), value.clone());
    doc.insert(
        Yaml::from_str("list"),
        Yaml::Array(vec![value.clone(), Yaml::Array(vec![value.clone()])]),
    );
    if let Yaml::String(text) = value {
        doc.insert(Yaml::String(text.clone()), Yaml::Integer(1));
    }
    let doc = Yaml::Hash(doc);
    let text = yaml::dump(&doc);
    let parsed = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{value:?} dumped as unparseable {text:?}: {e}"));
    assert_eq!(parsed.len(), 1, "{text}");
    assert_eq!(
        parsed[0], doc,
        "yaml-rust2 reads back {value:?} differently from {text:?}"
    );
    let ours = yaml::load(&text).unwrap();
    assert_eq!(
        ours, doc,
        "PyYAML rules read back {value:?} differently from {text:?}"
    );
}

#[test]
fn yaml_strings_round_trip() {
    for text in TRICKY {
        pyyaml_like_round_trip(&Yaml::String(text.to_string()));
    }
}

#[test]
fn yaml_quoting_matches_pyyaml() {
    let cases = [
        ("n<1K", "n<1K"),
        ("plain text", "plain text"),
        ("", "''"),
        ("yes", "'yes'"),
        ("null", "'null'"),
        ("~", "'~'"),
        ("0x10", "'0x10'"),
        ("1e3", "'1e3'"),
        (".5", "'.5'"),
        ("2024-01-31", "'2024-01-31'"),
        ("it's", "it's"),
        ("'single'", "'''single'''"),
        ("key: value", "'key: value'"),
        ("a #b", "'a #b'"),
        ("- x", "'- x'"),
        ("-x", "-x"),
        ("*x", "'*x'"),
        ("@x", "'@x'"),
        ("`x", "'`x'"),
        (" x", "' x'"),
        ("héllo 🤗", "héllo 🤗"),
        ("a\nb", "\"a\\nb\""),
        ("a\tb", "\"a\\tb\""),
        ("bom\u{feff}", "\"bom\\uFEFF\""),
        ("bell\x07", "\"bell\\a\""),
        ("x\x01", "\"x\\x01\""),
    ];
    for (text, expected) in cases {
        let mut doc = Hash::new();
        doc.insert(Yaml::from_str("k"), Yaml::String(text.to_string()));
        assert_eq!(
            yaml::dump(&Yaml::Hash(doc)),
            format!("k: {expected}\n"),
            "{text:?}"
        );
    }
}

#[test]
fn yaml_scalars_and_layout() {
    for value in [
        Yaml::Integer(-42),
        Yaml::Integer(i64::MAX),
        Yaml::Real("1.5".to_string()),
        Yaml::Real("1.0e+20".to_string()),
        Yaml::Boolean(true),
        Yaml::Boolean(false),
        Yaml::Null,
        Yaml::Array(Vec::new()),
        Yaml::Hash(Hash::new()),
    ] {
        pyyaml_like_round_trip(&value);
    }
    let doc = yaml::load("a:\n  - - 1\n    - 2\n  - {}\n  - []\nb: {c: {d: e}}\n'0': x\n").unwrap();
    assert_eq!(
        yaml::dump(&doc),
        "a:\n- - 1\n  - 2\n- {}\n- []\nb:\n  c:\n    d: e\n'0': x\n"
    );
    assert_eq!(yaml::python_float_repr(1e16), "1.0e+16");
    assert_eq!(yaml::python_float_repr(1.5e16), "1.5e+16");
    assert_eq!(yaml::python_float_repr(1e15), "1000000000000000.0");
    assert_eq!(yaml::python_float_repr(0.0001), "0.0001");
    assert_eq!(yaml::python_float_repr(0.00001), "1.0e-05");
    assert_eq!(yaml::python_float_repr(-0.0), "-0.0");
    assert_eq!(yaml::python_float_repr(123.456), "123.456");
    assert_eq!(yaml::python_float_repr(f64::NEG_INFINITY), "-.inf");
}

#[test]
fn yaml_load_follows_pyyaml() {
    let doc = yaml::load(
        "a: yes\nb: Off\nc: 010\nd: 0x1F\ne: 1e3\nf: 1_000\ng: 1:30\nh: 1.5\ni: ~\nj: 0o17\n\
         k: !!str 12\nl: .5\nm: &x {p: 1}\nn: *x\no:\n  <<: *x\n  q: 2\ndup: 1\ndup: 2\n",
    )
    .unwrap();
    let expected = YamlLoader::load_from_str(
        "a: true\nb: false\nc: 8\nd: 31\ne: '1e3'\nf: 1000\ng: 90\nh: 1.5\ni: null\nj: '0o17'\n\
         k: '12'\nl: 0.5\nm: {p: 1}\nn: {p: 1}\no: {p: 1, q: 2}\ndup: 2\n",
    )
    .unwrap()
    .remove(0);
    assert_eq!(doc, expected);
    assert!(yaml::load("a: 1\n---\nb: 2\n").is_err());
}

/// A "billion laughs" front matter: `levels` anchors, each a list of `width` aliases to the
/// one before.
fn alias_bomb(levels: usize, width: usize) -> String {
    let mut text = String::from("---\nl0: &l0 [lol]\n");
    for level in 1..=levels {
        let aliases = vec![format!("*l{}", level - 1); width].join(",");
        text.push_str(&format!("l{level}: &l{level} [{aliases}]\n"));
    }
    text.push_str("---\nbody\n");
    text
}

#[test]
fn alias_bombs_are_refused_naming_readme() {
    // 9^9 leaves (the 370-byte kind that allocated until abort) and 9^6 (a 9.4 MB README).
    for (levels, width) in [(9, 9), (6, 9), (5, 10)] {
        let bomb = alias_bomb(levels, width);
        for error in [
            read_configs(&bomb).unwrap_err(),
            split_front_matter(&bomb).unwrap_err(),
            render(&CardRequest {
                repo_id: "a/b",
                existing: Some(&bomb),
                template: None,
                config: &simple_config("default", 1),
                flags: &MetadataFlags::default(),
            })
            .unwrap_err(),
        ] {
            let error = error.to_string();
            assert!(
                error.contains("README.md") && error.contains("alias bomb"),
                "{levels}x{width}: {error}"
            );
        }
    }
    // A merge key is an alias too.
    let merges = "---\na: &a {x: 1, y: 2}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a], z: 1}\n"
        .to_string()
        + &(0..40)
            .map(|i| format!("c{i}: &c{i} {{<<: [*b], k{i}: [*b, *b, *b, *b, *b, *b, *b, *b]}}\n"))
            .collect::<String>()
        + "---\n";
    let error = split_front_matter(&merges).unwrap_err().to_string();
    assert!(error.contains("alias bomb"), "{error}");
}

#[test]
fn ordinary_anchors_still_load_and_render_as_written_out() {
    let features = "- name: text\n    dtype: string\n  - name: label\n    dtype: int64";
    let with_anchors = format!(
        "---\nlicense: mit\nshared: &tags [nlp, chat]\ntags: *tags\ndataset_info:\n\
         - config_name: a\n  features: &features\n  {features}\n  splits:\n  - name: train\n    \
         num_examples: 1\n- config_name: b\n  features: *features\n  splits:\n  - name: train\n    \
         num_examples: 2\nextra:\n  <<: &base {{x: 1}}\n  y: *base\n---\n# Card\n"
    );
    let written_out = format!(
        "---\nlicense: mit\nshared: [nlp, chat]\ntags: [nlp, chat]\ndataset_info:\n\
         - config_name: a\n  features:\n  {features}\n  splits:\n  - name: train\n    \
         num_examples: 1\n- config_name: b\n  features:\n  {features}\n  splits:\n  - name: train\n    \
         num_examples: 2\nextra:\n  x: 1\n  y: {{x: 1}}\n---\n# Card\n"
    );
    assert_eq!(
        split_front_matter(&with_anchors).unwrap(),
        split_front_matter(&written_out).unwrap()
    );
    let configs = read_configs(&with_anchors).unwrap();
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[0].features, configs[1].features);
    let render_of = |existing: &str| {
        render_with(
            Some(existing),
            None,
            &simple_config("default", 3),
            &MetadataFlags::default(),
        )
    };
    let rendered = render_of(&with_anchors);
    assert_eq!(rendered, render_of(&written_out));
    // And the rendered card renders to itself, byte for byte.
    assert_eq!(render_of(&rendered), rendered);
}

#[test]
fn alias_budget_grows_with_the_document() {
    // Many aliases to a small anchor in a big card: a few hundred KiB of copies, allowed
    // because the card itself is big.
    let mut text = String::from("---\nbase: &b [alpha, beta, gamma, delta]\n");
    for i in 0..20_000 {
        text.push_str(&format!("k{i}: *b\n"));
    }
    text.push_str("---\n");
    let (meta, _) = split_front_matter(&text).unwrap();
    assert_eq!(meta.len(), 20_001);
    assert_eq!(yaml::alias_budget(10), 64 * 1024);
    assert_eq!(yaml::alias_budget(1 << 20), 16 << 20);
}

#[test]
fn template_lists_describe_fields_nested_items_their_members() {
    let template = "\
# Title

- `question` — the task the agents were given.
- `agent_responses` — one entry per agent turn:
  - `agent_type` — the role the agent played;
  - `thought_stream` — the reasoning, with the false
    starts left in;
- `metadata.model`: the generating model
- `score` is sparse by design; not a description.
- **Disagreement** is how reasoning gets checked.
- `a|b` - a name with a bar

Prose after the list.
  - `orphan` — indented, but after a paragraph
";
    let found = body::template_descriptions(template);
    let get = |key: &str| found.get(key).map(String::as_str);
    assert_eq!(get("question"), Some("the task the agents were given."));
    assert_eq!(get("agent_responses"), Some("one entry per agent turn"));
    assert_eq!(
        get("agent_responses.agent_type"),
        Some("the role the agent played")
    );
    assert_eq!(
        get("agent_responses.thought_stream"),
        Some("the reasoning, with the false starts left in")
    );
    assert_eq!(get("metadata.model"), Some("the generating model"));
    assert_eq!(get("score"), None);
    assert_eq!(get("a|b"), Some("a name with a bar"));
    assert_eq!(get("orphan"), Some("indented, but after a paragraph"));
    assert_eq!(found.len(), 7, "{found:?}");
}

#[test]
fn undescribed_fields_are_the_placeholder_rows_of_the_fields_table() {
    let body = format!(
        "| `x` | `int64` | {DESCRIPTION} |\n\
         <!-- hf-relay:begin fields (generated) -->\n\
         | Field | Type | Description |\n\
         | --- | --- | --- |\n\
         | `a` | `int64` | {DESCRIPTION} |\n\
         | `b` | `string` | Described. |\n\
         | `c\\|d` | `string` | {DESCRIPTION} |\n\
         <!-- hf-relay:end fields -->\n",
        DESCRIPTION = body::DESCRIPTION_PLACEHOLDER
    );
    assert_eq!(body::undescribed_fields(&body), ["a", "c|d"]);
}
