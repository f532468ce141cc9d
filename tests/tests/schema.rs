//! `migspec schema` prints exactly the checked-in schemas.

mod support;

use support::{migspec, workspace_dir};

#[test]
fn schema_prints_the_checked_in_umbrella_and_kind_schemas() {
    for (args, file) in [
        (vec!["schema"], "migspec.schema.json"),
        (
            vec!["schema", "--kind", "TencentDtsMigrateJob"],
            "TencentDtsMigrateJob.schema.json",
        ),
        (
            vec!["schema", "--kind", "TencentDtsMigrationJob"],
            "TencentDtsMigrationJob.schema.json",
        ),
        (
            vec!["schema", "--kind", "HuaweiOmsTaskGroup"],
            "HuaweiOmsTaskGroup.schema.json",
        ),
    ] {
        let output = migspec().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let expected = std::fs::read_to_string(workspace_dir().join("schemas").join(file)).unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{file}");
    }
}

#[test]
fn schema_rejects_an_unknown_kind_with_usage_error() {
    let output = migspec()
        .args(["schema", "--kind", "AwsDmsTask"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TencentDtsMigrateJob"), "{stderr}");
}
