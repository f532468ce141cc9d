//! Issue 13, items 8 and 9, end to end through the binary: shell completions that their
//! shells parse, man pages that `man` renders, `--version` with the commit and its JSON
//! form, and `status` / `state list` as aligned tables with `--format json`.

mod support;

use std::process::Command;

use support::cloud::{Cloud, describe};
use support::{migspec, render, workspace_dir};

/// Remote ids keep their length in snapshots, so that the columns stay visibly aligned.
const ID_FILTERS: &[(&str, &str)] = &[
    (r"dts-[a-z0-9]{8}", "dts-XXXXXXXX"),
    (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    ),
];

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn completion(shell: &str) -> String {
    let output = migspec()
        .args(["completions", shell])
        .output()
        .expect("migspec runs");
    assert_eq!(output.status.code(), Some(0), "{}", render(&output));
    assert!(output.stderr.is_empty(), "{}", render(&output));
    String::from_utf8(output.stdout).expect("a completion script is UTF-8")
}

/// Runs `SHELL -n` (parse only) on a script.
fn parses(shell: &str, script: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("migspec.completion");
    std::fs::write(&path, script).expect("write the script");
    let output = Command::new(shell)
        .arg("-n")
        .arg(&path)
        .output()
        .expect("the shell runs");
    assert!(
        output.status.success(),
        "{shell} -n rejects the completion script: {}",
        render(&output)
    );
}

#[test]
fn completion_scripts_parse_in_their_shells_and_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let script = completion(shell);
        for command in ["destroy", "status", "completions", "import", "version"] {
            assert!(
                script.contains(command),
                "the {shell} script does not complete `{command}`"
            );
        }
        if has(shell) {
            parses(shell, &script);
        }
    }
    assert!(has("bash"), "bash is needed to parse its completion script");
    // What fish offers after `migspec status`: the new --format with its values.
    let fish = completion("fish");
    let start = fish
        .find("__fish_migspec_using_subcommand status\"")
        .expect("fish completes `status`");
    let line_start = fish[..start].rfind('\n').map_or(0, |index| index + 1);
    let end = fish[line_start..]
        .find("__fish_migspec_using_subcommand import")
        .map_or(fish.len(), |offset| line_start + offset);
    let block = &fish[line_start..end];
    let block = &block[..block.rfind('\n').unwrap_or(block.len())];
    insta::assert_snapshot!(block);
}

#[test]
fn man_pages_are_written_for_every_subcommand_and_render() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = migspec()
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .expect("migspec runs");
    assert_eq!(output.status.code(), Some(0), "{}", render(&output));
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the man directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| {
            name.starts_with("migspec.1")
                || name.starts_with("migspec-destroy.1")
                || name.starts_with("migspec-state-list.1")
                || name.starts_with("migspec-completions.1")
        })
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "migspec-completions.1",
            "migspec-destroy.1",
            "migspec-state-list.1",
            "migspec.1"
        ]
    );
    let roff = std::fs::read_to_string(dir.path().join("migspec-destroy.1")).expect("a page");
    assert!(roff.starts_with(".ie \\n(.g .ds Aq \\(aq"), "{roff}");
    if has("man") {
        let rendered = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("migspec-destroy.1"))
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "")
            .env("PAGER", "cat")
            .env("MANPAGER", "cat")
            .env("LC_ALL", "C")
            .output()
            .expect("man runs");
        assert!(rendered.status.success(), "{}", render(&rendered));
        let text = String::from_utf8_lossy(&rendered.stdout);
        // Overstrike bold/underline from nroff is not what a reader sees.
        let plain: String = strip_overstrike(&text);
        let head: Vec<&str> = plain.lines().take(12).collect();
        insta::assert_snapshot!(head.join("\n"));
    }
}

/// `X\bX` (bold) and `_\bX` (underline) as the terminal shows them: `X`.
fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{8}' {
            out.pop();
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(workspace_dir())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn version_names_the_commit_in_text_and_json() {
    let text = migspec().arg("--version").output().expect("migspec runs");
    assert_eq!(text.status.code(), Some(0), "{}", render(&text));
    let json = migspec()
        .args(["version", "--format", "json"])
        .output()
        .expect("migspec runs");
    assert_eq!(json.status.code(), Some(0), "{}", render(&json));
    let document: serde_json::Value =
        serde_json::from_slice(&json.stdout).expect("version --format json is JSON");
    let line = String::from_utf8_lossy(&text.stdout).into_owned();
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) => {
            assert_eq!(document["commit"], head.as_str(), "{document}");
            assert!(line.contains(&format!("commit {head}, ")), "{line}");
        }
        None => assert!(document["commit"].is_null(), "{document}"),
    }
    assert_eq!(document["version"], env!("CARGO_PKG_VERSION"), "{document}");
    insta::with_settings!({filters => vec![
        (r"commit [0-9a-f]{12}, \d{4}-\d{2}-\d{2}", "commit [COMMIT], [DATE]"),
    ]}, {
        insta::assert_snapshot!(line.trim_end(), @"migspec 0.1.0 (commit [COMMIT], [DATE])");
    });
    insta::assert_json_snapshot!(document, {".commit" => "[commit]", ".commit_date" => "[date]"}, @r#"
    {
      "name": "migspec",
      "version": "0.1.0",
      "commit": "[commit]",
      "commit_date": "[date]",
      "plan_format_version": "2"
    }
    "#);
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn status_and_state_list_are_aligned_tables_and_json_on_request() {
    let mut cloud = Cloud::start(None);
    for name in ["orders-mysql.yaml", "media-archive-oms.yaml"] {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    let empty = cloud.run(&["state", "list"]);
    assert_eq!(empty.status.code(), Some(0), "{}", describe(&empty));
    assert_eq!(
        stdout(&empty),
        "No recorded addresses (apply or import some specs first).\n"
    );
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));

    let list = cloud.run(&["state", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", describe(&list));
    let status = cloud.run(&["status"]);
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
    insta::with_settings!({filters => ID_FILTERS.to_vec()}, {
        insta::assert_snapshot!(stdout(&list), @r"
        ADDRESS        KIND                  REMOTE ID                             SPEC FILE
        media-archive  HuaweiOmsTaskGroup    xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx  specs/media-archive-oms.yaml
        orders-to-cdb  TencentDtsMigrateJob  dts-XXXXXXXX                          specs/orders-mysql.yaml
        ");
        insta::assert_snapshot!(stdout(&status), @r"
        ADDRESS        KIND                  REMOTE ID                             STATUS
        media-archive  HuaweiOmsTaskGroup    xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx  completed 100% (completed) 5,085 of 5,085 objects
        orders-to-cdb  TencentDtsMigrateJob  dts-XXXXXXXX                          ready_to_complete 100% (sinker) step 3/3 同步增量: 0%
        ");
    });

    let state = cloud.state();
    let list_json = cloud.run(&["state", "list", "--format", "json"]);
    assert_eq!(list_json.status.code(), Some(0), "{}", describe(&list_json));
    let document: serde_json::Value =
        serde_json::from_slice(&list_json.stdout).expect("state list --format json is JSON");
    let resources = document["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 2, "{document}");
    for resource in resources {
        let address = resource["address"].as_str().expect("an address");
        assert_eq!(
            resource["remote_id"], state["resources"][address]["remote_id"],
            "{document}"
        );
        assert_eq!(resource["kind"], state["resources"][address]["kind"]);
    }

    // `--format json` and the old `--json` give the same document, valid against the
    // published schema.
    let new = cloud.run(&["status", "--format", "json"]);
    let old = cloud.run(&["status", "--json"]);
    assert_eq!(new.status.code(), Some(0), "{}", describe(&new));
    assert_eq!(old.status.code(), Some(0), "{}", describe(&old));
    let new: serde_json::Value = serde_json::from_slice(&new.stdout).expect("JSON");
    let old: serde_json::Value = serde_json::from_slice(&old.stdout).expect("JSON");
    assert_eq!(new, old);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_dir().join("schemas/status.schema.json"))
            .expect("the status schema"),
    )
    .expect("a JSON schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    assert!(validator.is_valid(&new), "{new}");
    let phases: Vec<&str> = new["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|row| {
            row["observed"]["object"]["phase"]
                .as_str()
                .expect("a phase")
        })
        .collect();
    assert_eq!(phases, ["completed", "ready_to_complete"]);

    let both = cloud.run(&["status", "--json", "--format", "table"]);
    assert_eq!(both.status.code(), Some(2), "{}", describe(&both));
}
