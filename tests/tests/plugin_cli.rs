//! Issue 12, items 4 and 5: a plugin's kind through the `migspec` binary. The plugin
//! skeleton of `examples/plugin-skeleton` is built by the test, pinned by sha256 in
//! `migspec.yaml` with its settings (sent in `configure`), and its kind `ExampleBucketCopy`
//! validates, plans, applies, re-plans empty, shows in `status` and imports; errors in a
//! plugin-kind field are located by the plugin's schema and by its `validate`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migspec_provider::plugin::host::sha256_file;

/// Builds the skeleton (its own workspace, its own target directory under `target/`, kept
/// between runs) and returns the library.
fn skeleton() -> PathBuf {
    let workspace = support::workspace_dir();
    let target = workspace.join("target").join("plugin-skeleton");
    let status = Command::new(env!("CARGO"))
        .current_dir(&workspace)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(workspace.join("examples/plugin-skeleton/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        // The workspace's debug settings, so that the skeleton's dependencies build small.
        .args([
            "--config",
            "profile.dev.debug=\"line-tables-only\"",
            "--config",
            "profile.dev.package.\"*\".debug=false",
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the plugin skeleton does not build");
    target.join("debug").join("libmigspec_plugin_skeleton.so")
}

const SPEC: &str = "\
apiVersion: migspec/v1
kind: ExampleBucketCopy
metadata:
  name: photos-copy
spec:
  source: photos
  target: photos-backup
lifecycle:
  desired: completed
";

/// A project directory: the pinned skeleton, its settings, one spec.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(spec: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let library = dir.path().join("libskeleton.so");
        std::fs::copy(skeleton(), &library).expect("copy the plugin");
        let pin = sha256_file(&library).expect("hash the plugin");
        std::fs::write(
            dir.path().join("migspec.yaml"),
            format!(
                "plugins:\n  - path: libskeleton.so\n    sha256: {pin}\n    settings: {{dir: remote}}\n"
            ),
        )
        .expect("write migspec.yaml");
        std::fs::create_dir(dir.path().join("specs")).expect("specs/");
        std::fs::write(dir.path().join("specs/copy.yaml"), spec).expect("write the spec");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        support::migspec()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("migspec runs")
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The skeleton takes the host's gate over the plugin ABI (protocol 3), so the runner admits
/// and logs each of its requests under the skeleton's own (action) keys, not once per trait
/// call under `skeleton (plugin)` as before.
#[test]
fn each_request_of_the_skeleton_is_admitted_and_logged_by_the_runners_gate() {
    let project = Project::new(SPEC);
    let applied = support::migspec()
        .current_dir(project.path())
        .env_remove("MIGSPEC_LOG")
        .args(["apply", "specs", "--emulator", "--auto-approve", "-vv"])
        .output()
        .expect("migspec runs");
    assert!(applied.status.success(), "{}", text(&applied));
    let logs = String::from_utf8_lossy(&applied.stderr);
    let calls = |action: &str| {
        logs.lines()
            .filter(|line| {
                line.contains("migspec::calls")
                    && line.contains("provider=skeleton ")
                    && line.contains(&format!("action={action} "))
            })
            .collect::<Vec<_>>()
    };
    // The plan's observe reads the missing object once (the "API" answers NotFound), the
    // create writes it once and reads it back once.
    assert_eq!(calls("write_object").len(), 1, "{logs}");
    let reads = calls("read_object");
    assert_eq!(reads.len(), 2, "{logs}");
    assert!(reads[0].contains("code=NotFound"), "{}", reads[0]);
    assert!(reads[1].contains("call ok"), "{}", reads[1]);
    assert!(
        !logs.contains("skeleton (plugin)"),
        "a trait call was admitted as a whole:\n{logs}"
    );
}

#[test]
fn a_plugin_kind_validates_plans_applies_replans_empty_shows_in_status_and_imports() {
    let project = Project::new(SPEC);
    let validated = project.run(&["validate", "specs"]);
    assert!(validated.status.success(), "{}", text(&validated));
    assert!(
        text(&validated).contains("1 spec in 1 file valid"),
        "{}",
        text(&validated)
    );

    let planned = project.run(&["plan", "specs", "--emulator", "--detailed-exitcode"]);
    assert_eq!(planned.status.code(), Some(2), "{}", text(&planned));
    assert!(text(&planned).contains("photos-copy"), "{}", text(&planned));
    assert!(text(&planned).contains("create"), "{}", text(&planned));

    let applied = project.run(&["apply", "specs", "--emulator", "--auto-approve"]);
    assert!(applied.status.success(), "{}", text(&applied));
    // The plugin wrote its "remote object" where `settings.dir` (relative to migspec.yaml)
    // said, which only `configure` told it.
    let remote = project.path().join("remote").join("photos-copy.json");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&remote).expect("the plugin wrote the copy"))
            .expect("JSON");
    assert_eq!(written["target"], "photos-backup");

    let replanned = project.run(&["plan", "specs", "--emulator", "--detailed-exitcode"]);
    assert_eq!(replanned.status.code(), Some(0), "{}", text(&replanned));

    let status = project.run(&["status", "--emulator", "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    let document: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("status --json is JSON");
    let entry = document["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .find(|entry| entry["address"] == "photos-copy")
        .unwrap_or_else(|| panic!("photos-copy in {document}"));
    assert_eq!(entry["kind"], "ExampleBucketCopy");
    assert_eq!(entry["observed"]["presence"], "present", "{entry}");

    // A copy made outside migspec is adopted through the plugin's `import`.
    std::fs::write(
        project.path().join("remote").join("legacy-copy.json"),
        r#"{"source": "logs", "target": "logs-archive"}"#,
    )
    .expect("write a remote object");
    let imported = project.run(&[
        "import",
        "ExampleBucketCopy",
        "legacy-copy",
        "legacy-copy",
        "--emulator",
    ]);
    assert!(imported.status.success(), "{}", text(&imported));
    let yaml = String::from_utf8_lossy(&imported.stdout);
    assert!(yaml.contains("kind: ExampleBucketCopy"), "{yaml}");
    assert!(yaml.contains("name: legacy-copy"), "{yaml}");
    assert!(yaml.contains("target: logs-archive"), "{yaml}");
    // One remote object belongs to one address, for a plugin's kind too.
    let twice = project.run(&[
        "import",
        "ExampleBucketCopy",
        "photos-again",
        "photos-copy",
        "--emulator",
    ]);
    assert_eq!(twice.status.code(), Some(1), "{}", text(&twice));
    assert!(
        text(&twice).contains("already managed by `photos-copy`"),
        "{}",
        text(&twice)
    );
}

#[test]
fn a_plugin_kind_error_is_located_from_the_plugins_schema_and_from_its_validate() {
    // `target` is not a string: the plugin's described schema says so, at its line.
    let project = Project::new(&SPEC.replace("target: photos-backup", "target: 3"));
    let output = project.run(&["validate", "specs"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("`spec.target` must be a string"), "{shown}");
    assert!(shown.contains("specs/copy.yaml:7:11"), "{shown}");

    // Same bucket twice: the plugin's `validate` finds it; its JSON pointer is located.
    let project = Project::new(&SPEC.replace("target: photos-backup", "target: photos"));
    for args in [
        &["validate", "specs"][..],
        &["plan", "specs", "--emulator"][..],
    ] {
        let output = project.run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output));
        let shown = text(&output);
        assert!(shown.contains("skeleton::same_bucket"), "{shown}");
        assert!(
            shown.contains("`target` is the same bucket as `source`"),
            "{shown}"
        );
        assert!(shown.contains("specs/copy.yaml:7:11"), "{shown}");
        assert!(shown.contains("copy into another bucket"), "{shown}");
    }
}

#[test]
fn without_the_plugin_pinned_its_kind_is_unknown_and_the_help_says_to_pin_it() {
    let project = Project::new(SPEC);
    std::fs::remove_file(project.path().join("migspec.yaml")).expect("remove migspec.yaml");
    let output = project.run(&["validate", "specs"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let shown = text(&output);
    assert!(
        shown.contains("unknown kind `ExampleBucketCopy`"),
        "{shown}"
    );
    assert!(
        shown.contains("a plugin's kind needs the plugin pinned"),
        "{shown}"
    );
}

/// Issue 12, item 4: the OMS provider built as a plugin library, pinned in `migspec.yaml`
/// with its settings and credentials there, replaces the built-in OMS provider for the
/// shipped specs: apply converges, and a second plan is empty. The OMS credentials are in the
/// environment only under names the built-in provider does not read, so the task groups can
/// only have been made by the plugin, configured by `configure`.
#[test]
fn the_oms_plugin_replaces_the_built_in_provider_for_the_shipped_specs() {
    support::ensure_built(&["migspec-huawei-oms-plugin"]);
    let mut cloud = support::cloud::Cloud::start(None);
    cloud.copy_specs();
    let library = cloud.dir().join("liboms.so");
    std::fs::copy(support::built("libmigspec_huawei_oms_plugin.so"), &library)
        .expect("copy the OMS plugin");
    let pin = sha256_file(&library).expect("hash the plugin");
    let settings = format!(
        "pollInterval: 50ms\nplugins:\n  - path: liboms.so\n    sha256: {pin}\n    settings: {{endpoint: \"{}\", projectId: {}}}\n    credentials: {{ak: {{fromEnv: PLUGIN_OMS_AK}}, sk: {{fromEnv: PLUGIN_OMS_SK}}}}\n",
        cloud.url,
        migspec_emulator::DEFAULT_HUAWEI_PROJECT_ID,
    );
    std::fs::write(cloud.dir().join("migspec.yaml"), settings).expect("write migspec.yaml");
    let run = |args: &[&str]| {
        cloud
            .migspec()
            .env_remove("HUAWEICLOUD_SDK_AK")
            .env_remove("HUAWEICLOUD_SDK_SK")
            .env_remove("MIGSPEC_HUAWEI_OMS_ENDPOINT")
            .env("PLUGIN_OMS_AK", support::cloud::HUAWEI_AK)
            .env("PLUGIN_OMS_SK", support::cloud::HUAWEI_SK)
            .args(args)
            .output()
            .expect("migspec runs")
    };
    let apply = run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply));
    assert!(
        text(&apply).contains("Apply complete: 7 converged, 0 left in flight, 0 failed"),
        "{}",
        text(&apply)
    );
    let state = cloud.state();
    let oms = state["resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|resource| resource["kind"] == "HuaweiOmsTaskGroup")
        .count();
    assert_eq!(oms, 2, "{state}");
    let again = run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}
