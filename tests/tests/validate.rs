//! `migspec validate` end to end: the shipped spec set is valid, every invalid fixture fails
//! with a located diagnostic, and the output formats hold.

mod support;

use support::{migspec, relative, render, workspace_dir};

#[test]
fn shipped_specs_are_valid() {
    let output = migspec()
        .arg("validate")
        .arg(workspace_dir().join("specs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("7 specs in 7 files valid"), "{stderr}");
}

#[test]
fn every_invalid_fixture_fails_with_a_located_diagnostic() {
    insta::glob!("..", "fixtures/invalid/*", |path| {
        let name = relative(path);
        let human = migspec().args(["validate", &name]).output().unwrap();
        assert_eq!(human.status.code(), Some(1), "{name} should be invalid");
        insta::assert_snapshot!(render(&human));

        let json = migspec()
            .args(["validate", "--format", "json", &name])
            .output()
            .unwrap();
        assert_eq!(json.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(report["format_version"], "1");
        assert_eq!(report["valid"], false);
        let errors: Vec<&serde_json::Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert!(!errors.is_empty(), "{name}: no error reported");
        for error in errors {
            assert_eq!(error["file"], name.as_str(), "{name}: {error}");
            assert!(
                error["line"].as_u64().is_some_and(|line| line >= 1),
                "{name}: no line in {error}"
            );
            assert!(
                error["column"].as_u64().is_some_and(|c| c >= 1),
                "{name}: no column in {error}"
            );
            let code = error["code"].as_str().unwrap();
            if !code.starts_with("migspec::yaml::") && !code.starts_with("migspec::load::") {
                assert!(
                    error["field"].as_str().is_some(),
                    "{name}: no field in {error}"
                );
            }
            assert!(
                error["help"].as_str().is_some(),
                "{name}: no help in {error}"
            );
        }
    });
}

#[test]
fn github_annotations_name_file_line_and_column() {
    let output = migspec()
        .args([
            "validate",
            "--format",
            "github",
            "fixtures/invalid/schema-misspelt-field.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

#[test]
fn all_files_are_reported_in_one_run() {
    let output = migspec()
        .args([
            "validate",
            "--format",
            "json",
            "fixtures/invalid/rule-cvm-without-instance-id.yaml",
            "fixtures/invalid/schema-misspelt-field.yaml",
            "fixtures/invalid/yaml-duplicate-key.yaml",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut files: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    files.dedup();
    assert_eq!(files.len(), 3, "{report}");
    assert_eq!(report["files"], 3);
}

#[test]
fn duplicate_names_across_files_point_at_both() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(workspace_dir().join("specs/orders-mysql.yaml")).unwrap();
    std::fs::write(dir.path().join("a.yaml"), &spec).unwrap();
    std::fs::write(dir.path().join("b.yaml"), &spec).unwrap();
    let output = migspec()
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "migspec::spec::duplicate_name");
    assert!(diagnostic["file"].as_str().unwrap().ends_with("b.yaml"));
    assert!(
        diagnostic["related"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("a.yaml")
    );
    assert_eq!(diagnostic["related"][0]["line"], diagnostic["line"]);
}

#[test]
fn usage_errors_exit_2_and_missing_paths_exit_1() {
    let usage = migspec()
        .args(["validate", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let missing = migspec()
        .args(["validate", "no/such/dir"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/dir"));
}

#[test]
fn literal_secrets_can_be_allowed_explicitly() {
    let output = migspec()
        .args([
            "validate",
            "--allow-literal-secrets",
            "fixtures/invalid/schema-literal-secret.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", render(&output));
}
