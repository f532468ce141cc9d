//! The plugin ABI end to end: the host loads real cdylibs built in this workspace (a fixture
//! provider and a library that is not a proper plugin) and must refuse, survive or use them.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

mod support;

use std::path::{Path, PathBuf};

use migspec_provider::plugin::host::{PluginError, PluginProvider, sha256_file};
use migspec_provider::{
    Action, ActionKind, Address, DesiredSpec, ImportRequest, ObserveRequest, ObserveTarget,
    Observed, Orphans, PlanRequest, Provider, ProviderError, Recorded, RemoteId, Step, StepOutcome,
};
use serde_json::json;

/// A built cdylib of this workspace, copied to a unique temporary path so that tests can
/// tell from `/proc/self/maps` whether it was loaded.
fn library(name: &str) -> (tempfile::TempDir, PathBuf) {
    support::ensure_built(&["migspec-fixture-plugin", "migspec-not-a-plugin"]);
    let built = support::built(&format!("lib{name}.so"));
    assert!(built.exists(), "{} was not built", built.display());
    let temp = tempfile::tempdir().unwrap();
    let copy = temp.path().join(format!("lib{name}-under-test.so"));
    std::fs::copy(&built, &copy).unwrap();
    (temp, copy)
}

fn mapped(path: &Path) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .contains(&*path.to_string_lossy())
}

fn target(address: &str) -> ObserveTarget {
    ObserveTarget {
        address: Address(address.into()),
        kind: "FixtureJob".into(),
        revision: None,
        view: None,
        remote_id: None,
        location: json!({}),
    }
}

#[tokio::test]
async fn a_pinned_plugin_runs_observe_plan_apply_through_the_abi() {
    let (_dir, path) = library("migspec_fixture_plugin");
    let pin = sha256_file(&path).unwrap();
    let plugin = PluginProvider::load(&path, &pin).unwrap();
    // What is loaded is a private copy of the bytes that were hashed.
    assert!(mapped(plugin.loaded_from()));
    assert_eq!(plugin.describe().name, "fixture");
    assert_eq!(plugin.describe().kinds[0].kind, "FixtureJob");

    let problems = plugin.validate("FixtureJob", &json!({"spec": {"size": "big"}}));
    assert_eq!(problems[0].field, "/spec/size");

    let observed = plugin
        .observe(ObserveRequest {
            targets: vec![target("one")],
        })
        .await
        .unwrap();
    assert!(matches!(observed[0], Observed::Missing { .. }));

    let desired = DesiredSpec {
        address: Address("one".into()),
        kind: "FixtureJob".into(),
        document: json!({"spec": {"size": 3}}),
        secrets: Default::default(),
    };
    let request = PlanRequest {
        address: Address("one".into()),
        desired: Some(desired.clone()),
        observed: observed[0].clone(),
        recorded: Recorded::default(),
        orphans: Orphans::Keep,
    };
    let actions = plugin.plan(&request).unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].kind, ActionKind::Create);

    let outcome = plugin
        .apply(Step {
            address: Address("one".into()),
            action: actions[0].clone(),
            remote_id: None,
            location: serde_json::Value::Null,
            desired: Some(desired.clone()),
            idempotency_key: "plan-1/one/0".into(),
            observed: None,
        })
        .await
        .unwrap();
    let StepOutcome::Done { observed } = outcome else {
        panic!("a create in the fixture is immediate");
    };
    assert_eq!(observed.object().unwrap().id, RemoteId("fx-one".into()));
    assert_eq!(observed.object().unwrap().view, json!({"size": 3}));

    let again = PlanRequest {
        observed,
        ..request
    };
    assert!(
        plugin.plan(&again).unwrap().is_empty(),
        "the second plan is empty"
    );

    let impossible = PlanRequest {
        address: Address("two".into()),
        desired: Some(DesiredSpec {
            document: json!({"spec": {"impossible": true}}),
            ..desired
        }),
        observed: Observed::Missing {
            address: Address("two".into()),
        },
        recorded: Recorded::default(),
        orphans: Orphans::Keep,
    };
    let error = plugin.plan(&impossible).unwrap_err();
    assert_eq!(error.message, "the fixture cannot plan an impossible spec");

    let import = plugin
        .import(ImportRequest {
            kind: "FixtureJob".into(),
            address: Address("x".into()),
            remote_id: RemoteId("fx-x".into()),
            location: json!({}),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(import, ProviderError::NotFound { ref id, .. } if id == "fx-x"),
        "{import}"
    );

    let refused = plugin
        .apply(Step {
            address: Address("one".into()),
            action: Action::new(ActionKind::Pause, "test"),
            remote_id: None,
            location: serde_json::Value::Null,
            desired: None,
            idempotency_key: "k".into(),
            observed: None,
        })
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("the fixture cannot pause"),
        "{refused}"
    );
}

#[test]
fn a_checksum_mismatch_is_refused_before_the_library_is_opened() {
    let (_dir, path) = library("migspec_fixture_plugin");
    let wrong = "0".repeat(64);
    let error = PluginProvider::load(&path, &wrong).unwrap_err();
    assert!(
        matches!(error, PluginError::ChecksumMismatch { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(message.contains("update the pin"), "{message}");
    assert!(
        !mapped(&path),
        "the library must not be opened when its pin does not match"
    );

    let bad_pin = PluginProvider::load(&path, "sha256:abc").unwrap_err();
    assert!(matches!(bad_pin, PluginError::BadPin { .. }), "{bad_pin}");
}

#[test]
fn a_wrong_abi_version_is_refused_with_the_path() {
    let (_dir, path) = library("migspec_not_a_plugin");
    let pin = sha256_file(&path).unwrap();
    let error = PluginProvider::load(&path, &pin).unwrap_err();
    assert!(
        matches!(
            error,
            PluginError::AbiVersion {
                found: 99,
                expected: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains(&*path.to_string_lossy()));
}

#[test]
#[expect(
    unsafe_code,
    reason = "set_var is unsafe in edition 2024; nextest runs each test in its own process"
)]
fn a_missing_symbol_is_refused_with_the_symbol_and_the_path() {
    // SAFETY: this test runs in its own process (nextest) and no other thread reads the
    // environment while it is set.
    unsafe { std::env::set_var("MIGSPEC_TEST_ABI_VERSION", "1") };
    let (_dir, path) = library("migspec_not_a_plugin");
    let pin = sha256_file(&path).unwrap();
    let error = PluginProvider::load(&path, &pin).unwrap_err();
    assert!(
        matches!(error, PluginError::MissingSymbol { ref symbol, .. } if symbol == "migspec_plugin_invoke"),
        "{error}"
    );
    assert!(error.to_string().contains(&*path.to_string_lossy()));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let error =
        PluginProvider::load(Path::new("/nonexistent/libplugin.so"), &"a".repeat(64)).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/libplugin.so"),
        "{error}"
    );
}

#[tokio::test]
#[expect(
    unsafe_code,
    reason = "set_var is unsafe in edition 2024; nextest runs each test in its own process"
)]
async fn a_panicking_plugin_is_caught_and_not_used_again() {
    // SAFETY: this test runs in its own process (nextest); the plugin reads the variable on
    // the same thread later, with no concurrent writer.
    unsafe { std::env::set_var("MIGSPEC_FIXTURE_PLUGIN_PANIC", "observe") };
    let (_dir, path) = library("migspec_fixture_plugin");
    let plugin = PluginProvider::load(&path, &sha256_file(&path).unwrap()).unwrap();
    let error = plugin
        .observe(ObserveRequest {
            targets: vec![target("one")],
        })
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("panicked during `observe`"), "{message}");
    assert!(
        message.contains("fixture plugin told to panic"),
        "{message}"
    );
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(!plugin.is_healthy());
    let after = plugin
        .observe(ObserveRequest {
            targets: vec![target("one")],
        })
        .await
        .unwrap_err();
    assert!(after.to_string().contains("no longer used"), "{after}");
}

#[tokio::test]
async fn the_bytes_that_were_hashed_are_the_bytes_that_are_loaded() {
    let (_dir, path) = library("migspec_fixture_plugin");
    let pin = sha256_file(&path).unwrap();
    let (_other_dir, other) = library("migspec_not_a_plugin");
    // The test hook runs after the file was read and hashed, before the library is loaded:
    // swapping the file then must not change what is loaded.
    let plugin = PluginProvider::load_with_hook(&path, &pin, || {
        std::fs::copy(&other, &path).unwrap();
    })
    .unwrap();
    assert_ne!(sha256_file(&path).unwrap(), pin, "the file was swapped");
    assert_eq!(plugin.describe().name, "fixture");
    assert_eq!(plugin.path(), path, "messages keep naming the pinned path");
    assert!(
        !mapped(&path),
        "the swapped file at the pinned path is never loaded"
    );
    assert!(
        mapped(plugin.loaded_from()),
        "the private copy is what is loaded"
    );
    assert!(
        !plugin.loaded_from().starts_with(path.parent().unwrap()),
        "the copy is in a private directory, not beside the plugin"
    );
    let observed = plugin
        .observe(ObserveRequest {
            targets: vec![target("swapped")],
        })
        .await
        .unwrap();
    assert!(matches!(observed[0], Observed::Missing { .. }));
}

#[test]
#[expect(
    unsafe_code,
    reason = "set_var is unsafe in edition 2024; nextest runs each test in its own process"
)]
fn a_plugin_of_another_protocol_version_is_refused_naming_the_path_and_both_versions() {
    // SAFETY: this test runs in its own process (nextest) and no other thread reads the
    // environment while it is set.
    unsafe { std::env::set_var("MIGSPEC_FIXTURE_PLUGIN_PROTOCOL", "99") };
    let (_dir, path) = library("migspec_fixture_plugin");
    let pin = sha256_file(&path).unwrap();
    let error = PluginProvider::load(&path, &pin).unwrap_err();
    let host = migspec_provider::plugin::messages::PROTOCOL_VERSION;
    assert!(
        matches!(
            error,
            PluginError::ProtocolVersion {
                plugin_min: 99,
                plugin_max: 99,
                host_max,
                ..
            } if host_max == host
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(message.contains("99..=99"), "{message}");
    assert!(message.contains(&format!("..={host}")), "{message}");
}

#[test]
fn configure_carries_the_settings_and_a_refusal_is_a_located_error() {
    use migspec_provider::plugin::messages::{Configuration, WireValue};
    let (_dir, path) = library("migspec_fixture_plugin");
    let pin = sha256_file(&path).unwrap();
    let mut configuration = Configuration::default();
    configuration
        .settings
        .insert("name".into(), WireValue::Value("configured-fixture".into()));
    let plugin = PluginProvider::load_configured(&path, &pin, &configuration).unwrap();
    assert_eq!(plugin.describe().name, "configured-fixture");

    // A fresh copy is a fresh library (its own statics): refuse this configuration.
    let (_other, path) = library("migspec_fixture_plugin");
    let mut refused = Configuration::default();
    refused
        .settings
        .insert("refuse".into(), WireValue::Value("no endpoint".into()));
    let error = PluginProvider::load_configured(&path, &pin, &refused).unwrap_err();
    assert!(matches!(error, PluginError::Configure { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(message.contains("no endpoint"), "{message}");
}

#[test]
fn a_panic_during_configure_is_caught_and_reported_with_the_path() {
    use migspec_provider::plugin::messages::{Configuration, WireValue};
    let (_dir, path) = library("migspec_fixture_plugin");
    let pin = sha256_file(&path).unwrap();
    let mut configuration = Configuration::default();
    configuration
        .settings
        .insert("panic".into(), WireValue::Value("configure".into()));
    let error = PluginProvider::load_configured(&path, &pin, &configuration).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("panicked during `configure`"), "{message}");
    assert!(message.contains("told to panic in configure"), "{message}");
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
}
