//! The checked-in `schemas/plan.schema.json` and `schemas/status.schema.json` must be exactly
//! what the document types generate.

#[test]
fn checked_in_document_schemas_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let files = migspec_runner::documents::schema_files();
    assert_eq!(files.len(), 2);
    for (name, text) in files {
        let current = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(
            current == text,
            "schemas/{name} is stale: run `cargo xtask schemas --write` and commit the result"
        );
    }
}
