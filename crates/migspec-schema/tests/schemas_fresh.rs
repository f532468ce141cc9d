//! The checked-in `schemas/*.json` must be exactly what the spec types generate.

#[test]
fn checked_in_schemas_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let files = migspec_schema::generate::schema_files();
    assert_eq!(files.len(), 4);
    for (name, text) in files {
        let current = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(
            current == text,
            "schemas/{name} is stale: run `cargo xtask schemas --write` and commit the result"
        );
    }
}

/// The umbrella schema is what editors load through the modeline: it must accept every
/// shipped spec and reject a misspelt field, dispatching on `kind`.
#[test]
fn umbrella_schema_accepts_the_shipped_specs_and_rejects_bad_ones() {
    let umbrella = migspec_schema::generate::umbrella_schema();
    let validator = jsonschema::draft202012::new(&umbrella).unwrap();
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&specs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for document in migspec_spec::yaml::parse_documents(&text).unwrap() {
            let json = document.to_json();
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 7);

    let text = std::fs::read_to_string(specs.join("orders-mysql.yaml"))
        .unwrap()
        .replace("MigrateType: 3", "MigratType: 3");
    let json = migspec_spec::yaml::parse_documents(&text).unwrap()[0].to_json();
    assert!(
        !validator.is_valid(&json),
        "a misspelt field must be rejected"
    );
    let mut wrong_kind = json.clone();
    wrong_kind["kind"] = serde_json::json!("HuaweiOmsTaskGroup");
    assert!(
        !validator.is_valid(&wrong_kind),
        "a DTS body under an OMS kind must be rejected"
    );
}
