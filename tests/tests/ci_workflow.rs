//! Issue 10 item 8: the CI flow of `examples/ci/migspec.yml`, played as it happens. A pull
//! request's plan job and the merge's apply job run in fresh directories (fresh checkouts on
//! hosted runners) that share only the PostgreSQL state and the saved plan file (the
//! artifact), while unrelated jobs progress in between: the reviewed plan is applied exactly
//! once, and a second merge run of the same plan is refused as already applied.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};
use support::postgres::{PASSWORD, database_or_skip};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh checkout: `migspec.yaml` naming the team state, and the given shipped specs.
fn checkout(dir: &Path, specs: &[&str]) {
    std::fs::write(
        dir.join("migspec.yaml"),
        "pollInterval: 50ms\nstate: {backend: postgres, url: {fromEnv: MIGSPEC_STATE_PG}, schema: team}\n",
    )
    .expect("write migspec.yaml");
    std::fs::create_dir_all(dir.join("specs")).expect("create specs/");
    for name in specs {
        std::fs::write(dir.join("specs").join(name), Cloud::shipped(name)).expect("write a spec");
    }
}

#[test]
fn a_pull_requests_plan_is_applied_once_on_merge_from_another_runner() {
    let Some(database) = database_or_skip("ci workflow") else {
        return;
    };
    let mut cloud = Cloud::start(Some("durations: {migrating: 4s}\n"));
    // The specs' secret variables, as the workflow's `env:` gives them from secrets.
    for name in [
        "orders-mysql.yaml",
        "inventory-2021.yaml",
        "catalog-mongodb.yaml",
    ] {
        cloud.write(&format!("unused/{name}"), &Cloud::shipped(name));
    }
    let runner = |dir: &Path| -> Command {
        let mut command = cloud.migspec();
        command
            .current_dir(dir)
            .env("HOME", dir)
            .env("MIGSPEC_STATE_PG", database.url())
            .env_remove("MIGSPEC_STATE_URL");
        command
    };
    let run = |dir: &Path, args: &[&str]| -> Output {
        let output = runner(dir).args(args).output().expect("migspec runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
        assert!(
            !all.contains(PASSWORD),
            "the state URL's password was printed:\n{all}"
        );
        output
    };

    // An earlier merge applied two jobs; inventory-2021 keeps migrating by itself.
    let earlier = tempfile::tempdir().unwrap();
    checkout(
        earlier.path(),
        &["orders-mysql.yaml", "inventory-2021.yaml"],
    );
    let applied = run(
        earlier.path(),
        &["apply", "specs/", "--auto-approve", "--wait", "running"],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    assert_eq!(cloud.creates(), 2);

    // The pull request adds catalog-mongodb: its plan job, on a fresh runner.
    let pull_request = tempfile::tempdir().unwrap();
    checkout(
        pull_request.path(),
        &[
            "orders-mysql.yaml",
            "inventory-2021.yaml",
            "catalog-mongodb.yaml",
        ],
    );
    let plan = run(
        pull_request.path(),
        &[
            "plan",
            "specs/",
            "--out",
            "plan.json",
            "--format",
            "markdown",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let comment = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(comment.contains("| `catalog-mongodb` |"), "{comment}");
    let annotations = run(
        pull_request.path(),
        &["show", "plan.json", "--format", "github"],
    );
    assert_eq!(
        annotations.status.code(),
        Some(0),
        "{}",
        describe(&annotations)
    );
    assert!(
        String::from_utf8_lossy(&annotations.stdout)
            .contains("file=specs/catalog-mongodb.yaml,line="),
        "{}",
        describe(&annotations)
    );
    let artifact = std::fs::read(pull_request.path().join("plan.json")).unwrap();

    // Review takes a while; the running job moves on meanwhile.
    assert_eq!(
        database.psql(
            "SELECT resource->'applied_view' IS NOT NULL FROM team.objects WHERE address = 'inventory-2021'",
        ),
        "t",
        "inventory-2021 is recorded in the team state"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = |dir: &Path| String::from_utf8_lossy(&run(dir, &["status"]).stdout).into_owned();
    let before = status(pull_request.path());
    while status(pull_request.path()) == before {
        assert!(
            Instant::now() < deadline,
            "inventory-2021 never moved on: {before}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The merge: another fresh runner, the same checkout, the downloaded artifact.
    let merge = tempfile::tempdir().unwrap();
    checkout(
        merge.path(),
        &[
            "orders-mysql.yaml",
            "inventory-2021.yaml",
            "catalog-mongodb.yaml",
        ],
    );
    std::fs::write(merge.path().join("plan.json"), &artifact).unwrap();
    let applied = run(
        merge.path(),
        &[
            "apply",
            "plan.json",
            "--wait",
            "running",
            "--lock-timeout",
            "1m",
        ],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    assert_eq!(cloud.creates(), 3, "catalog-mongodb created, nothing else");
    for dir in [earlier.path(), pull_request.path(), merge.path()] {
        assert!(
            !dir.join(".migspec/state.json").exists(),
            "no runner keeps a state of its own"
        );
    }

    // A re-run of the merge job (another runner, the same artifact) is refused.
    let rerun = tempfile::tempdir().unwrap();
    checkout(
        rerun.path(),
        &[
            "orders-mysql.yaml",
            "inventory-2021.yaml",
            "catalog-mongodb.yaml",
        ],
    );
    std::fs::write(rerun.path().join("plan.json"), &artifact).unwrap();
    let again = run(rerun.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        stderr(&again).contains("was already applied at"),
        "{}",
        describe(&again)
    );
    assert_eq!(cloud.creates(), 3);
}
