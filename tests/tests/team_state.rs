//! The PostgreSQL state backend, end to end: the `migspec` binary against the emulator and a
//! real PostgreSQL server started by the test (`support::postgres`). Every test skips, saying
//! why, only when no server can be started.

mod support;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};
use support::postgres::{Database, PASSWORD, database_or_skip};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `migspec` in the cloud's workspace with the state in `database`.
fn pg(cloud: &Cloud, database: &Database) -> Command {
    let mut command = cloud.migspec();
    command.env("MIGSPEC_STATE_URL", database.url());
    command
}

fn run(mut command: Command, args: &[&str]) -> Output {
    let output = command.args(args).output().expect("migspec runs");
    let text = describe(&output);
    assert!(
        !text.contains(PASSWORD),
        "the URL's password is printed:\n{text}"
    );
    output
}

fn spawn(mut command: Command, args: &[&str]) -> Child {
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migspec starts")
}

fn finish(child: Child) -> Output {
    let output = child.wait_with_output().expect("migspec finishes");
    let text = describe(&output);
    assert!(
        !text.contains(PASSWORD),
        "the URL's password is printed:\n{text}"
    );
    output
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pid the lock holder row names, while the schema exists and a holder wrote itself.
fn holder_pid(database: &Database, schema: &str) -> Option<u32> {
    let output = database.try_psql(&format!("SELECT holder->>'pid' FROM {schema}.lock_holder"));
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn cloud_with(config: Option<&str>, specs: &[&str]) -> Cloud {
    let mut cloud = Cloud::start(config);
    for name in specs {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    cloud
}

const SLOW_CHECK: &str = "durations: {checking: 3s}\n";

#[test]
fn a_second_apply_fails_naming_the_holder_or_waits_and_no_step_runs_twice() {
    let Some(database) = database_or_skip("concurrent applies") else {
        return;
    };
    let cloud = cloud_with(Some(SLOW_CHECK), &["orders-mysql.yaml"]);
    let first = spawn(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    let first_pid = first.id();
    wait_until(
        "the first apply to hold the lock",
        Duration::from_secs(30),
        || holder_pid(&database, "migspec") == Some(first_pid),
    );

    let refused = run(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let text = stderr(&refused);
    assert!(
        text.contains(&format!("is locked by pid {first_pid} on ")),
        "{text}"
    );
    assert!(
        text.contains("migspec apply specs/ --auto-approve"),
        "{text}"
    );
    assert!(text.contains("postgres://postgres@127.0.0.1:"), "{text}");

    // A live holder's lock cannot be forced open.
    let unlock = run(pg(&cloud, &database), &["state", "unlock", "--force"]);
    assert_eq!(unlock.status.code(), Some(1), "{}", describe(&unlock));
    assert!(
        stderr(&unlock).contains(&format!("pid {first_pid}")),
        "{}",
        describe(&unlock)
    );

    let waiting = spawn(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve", "--lock-timeout", "60s"],
    );
    let first = finish(first);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let waited = finish(waiting);
    assert_eq!(waited.status.code(), Some(0), "{}", describe(&waited));
    assert_eq!(cloud.creates(), 1, "one create, however many applies");
    assert_eq!(
        database.psql("SELECT count(*) FROM migspec.objects WHERE remote_id IS NOT NULL"),
        "1"
    );
    assert_eq!(
        holder_pid(&database, "migspec"),
        None,
        "a finished apply clears its holder row"
    );
}

#[test]
fn an_apply_killed_while_holding_the_lock_does_not_block_the_next() {
    let Some(database) = database_or_skip("kill -9 while locked") else {
        return;
    };
    let cloud = cloud_with(Some(SLOW_CHECK), &["orders-mysql.yaml"]);
    let mut first = spawn(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    let first_pid = first.id();
    wait_until("the create", Duration::from_secs(30), || {
        cloud.creates() == 1
    });
    assert_eq!(holder_pid(&database, "migspec"), Some(first_pid));
    first.kill().expect("SIGKILL");
    let _ = first.wait();

    // The session died with the process, and the lock with it: the next apply starts at
    // once, finds the job by its record, and creates nothing more.
    let started = Instant::now();
    let next = run(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    assert_eq!(next.status.code(), Some(0), "{}", describe(&next));
    assert!(!stderr(&next).contains("locked"), "{}", describe(&next));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(cloud.creates(), 1, "{}", describe(&next));

    // The killed run's holder row was replaced by the next run's, then cleared.
    let unlock = run(pg(&cloud, &database), &["state", "unlock", "--force"]);
    assert_eq!(unlock.status.code(), Some(0), "{}", describe(&unlock));
    assert!(
        stderr(&unlock).contains("was not locked"),
        "{}",
        describe(&unlock)
    );
}

#[test]
fn a_lost_connection_stops_the_apply_with_a_clear_error_and_the_rerun_converges() {
    let Some(database) = database_or_skip("connection loss") else {
        return;
    };
    let cloud = cloud_with(
        Some(SLOW_CHECK),
        &["orders-mysql.yaml", "catalog-mongodb.yaml"],
    );
    let first = spawn(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    wait_until("both creates", Duration::from_secs(30), || {
        cloud.creates() == 2
    });
    // Both jobs now wait on a 3 s check: end every session migspec has.
    let terminated = database.psql(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'migspec' AND datname = current_database()) AS t",
    );
    assert_ne!(terminated, "0", "migspec had a session");
    let first = finish(first);
    assert_eq!(first.status.code(), Some(1), "{}", describe(&first));
    let text = stderr(&first);
    assert!(
        text.contains("lost the connection to state database postgres://postgres@127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("could not record a step"), "{text}");
    assert!(text.contains("re-run the command"), "{text}");

    let rerun = run(
        pg(&cloud, &database),
        &["apply", "specs/", "--auto-approve"],
    );
    assert_eq!(rerun.status.code(), Some(0), "{}", describe(&rerun));
    assert_eq!(
        cloud.creates(),
        2,
        "one job per address: {}",
        describe(&rerun)
    );
    assert_eq!(
        database.psql("SELECT count(DISTINCT remote_id) FROM migspec.objects"),
        "2"
    );
    let plan = run(
        pg(&cloud, &database),
        &["plan", "specs/", "--detailed-exitcode"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
}

/// The version 1 schema as migspec shipped it, written here by hand (not taken from the
/// code, so that an edit of a shipped migration fails this test).
const SCHEMA_V1: &str = r#"
CREATE SCHEMA migspec;
CREATE TABLE migspec.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO migspec.schema_version (version) VALUES (1);
CREATE TABLE migspec.meta (id boolean PRIMARY KEY DEFAULT true CHECK (id), format_version integer NOT NULL,
    lineage text NOT NULL, serial bigint NOT NULL, salt text NOT NULL, unknown jsonb NOT NULL DEFAULT '{}');
CREATE TABLE migspec.objects (address text PRIMARY KEY, kind text NOT NULL, remote_id text, resource jsonb NOT NULL);
CREATE TABLE migspec.journal (seq bigint PRIMARY KEY, address text NOT NULL, entry jsonb NOT NULL);
CREATE TABLE migspec.applied_plans (seq bigint PRIMARY KEY, id text NOT NULL, plan jsonb NOT NULL);
CREATE TABLE migspec.lock_holder (id boolean PRIMARY KEY DEFAULT true CHECK (id), backend_pid integer NOT NULL, holder jsonb NOT NULL);
INSERT INTO migspec.meta (format_version, lineage, serial, salt, unknown)
    VALUES (1, 'lineage-v1', 7, 'salt-v1', '{"from_a_newer_migspec": true}');
INSERT INTO migspec.objects VALUES ('orders-to-cdb', 'TencentDtsMigrateJob', 'dts-old1',
    '{"kind": "TencentDtsMigrateJob", "remote_id": "dts-old1", "attempts": 1}');
INSERT INTO migspec.journal VALUES (1, 'orders-to-cdb',
    '{"at": "2026-01-01T00:00:00Z", "address": "orders-to-cdb", "action": "create", "key": "k", "status": "done"}');
"#;

#[test]
fn an_old_schema_is_migrated_on_first_use_and_a_newer_one_is_refused() {
    let Some(database) = database_or_skip("schema migration") else {
        return;
    };
    database.psql(SCHEMA_V1);
    let cloud = cloud_with(None, &[]);
    let list = run(pg(&cloud, &database), &["state", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", describe(&list));
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.contains("orders-to-cdb"), "{listed}");
    assert!(listed.contains("dts-old1"), "{listed}");
    assert_eq!(
        database.psql(
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM migspec.schema_version"
        ),
        "1,2"
    );
    assert_eq!(
        database.psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'migspec' AND indexname = 'journal_by_address'"),
        "1"
    );
    // The migrated state is written like any other, keeping what it held.
    let reset = run(
        pg(&cloud, &database),
        &["state", "reset-attempts", "orders-to-cdb"],
    );
    assert_eq!(reset.status.code(), Some(0), "{}", describe(&reset));
    assert_eq!(
        database.psql("SELECT serial || ' ' || lineage || ' ' || (unknown->>'from_a_newer_migspec') FROM migspec.meta"),
        "8 lineage-v1 true"
    );
    assert_eq!(database.psql("SELECT count(*) FROM migspec.journal"), "1");

    database.psql("INSERT INTO migspec.schema_version (version) VALUES (99)");
    let refused = run(pg(&cloud, &database), &["state", "list"]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let text = stderr(&refused);
    assert!(text.contains("at version 99"), "{text}");
    assert!(text.contains("upgrade migspec"), "{text}");
}

/// A state file without its serial, for comparing two copies.
fn without_serial(mut state: serde_json::Value) -> serde_json::Value {
    state
        .as_object_mut()
        .expect("a state is an object")
        .remove("serial");
    state
}

#[test]
fn state_migrate_moves_everything_to_postgres_and_back() {
    let Some(database) = database_or_skip("state migrate") else {
        return;
    };
    let cloud = cloud_with(None, &["orders-mysql.yaml", "media-archive-oms.yaml"]);
    let apply = run(cloud.migspec(), &["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    // Fields a newer migspec wrote, at every level, travel too.
    let mut local = cloud.state();
    local["from_the_future"] = serde_json::json!({"a": [1, 2]});
    local["resources"]["orders-to-cdb"]["newer"] = serde_json::json!("x");
    local["journal"][0]["why"] = serde_json::json!("y");
    std::fs::write(
        cloud.state_path(),
        serde_json::to_string_pretty(&local).unwrap(),
    )
    .unwrap();
    assert!(local["resources"]["orders-to-cdb"]["secret_fingerprints"].is_object());

    let there = run(
        pg(&cloud, &database),
        &["state", "migrate", "--to", "postgres"],
    );
    assert_eq!(there.status.code(), Some(0), "{}", describe(&there));
    assert!(stderr(&there).contains("2 records"), "{}", describe(&there));
    // The database state is the one now: it plans no changes.
    let plan = run(
        pg(&cloud, &database),
        &["plan", "specs/", "--detailed-exitcode"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));

    let again = run(
        pg(&cloud, &database),
        &["state", "migrate", "--to", "postgres"],
    );
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        stderr(&again).contains("already holds a state"),
        "{}",
        describe(&again)
    );
    let forced = run(
        pg(&cloud, &database),
        &["state", "migrate", "--to", "postgres", "--force"],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", describe(&forced));

    let back = run(
        pg(&cloud, &database),
        &["state", "migrate", "--to", "local", "--state-dir", "back"],
    );
    assert_eq!(back.status.code(), Some(0), "{}", describe(&back));
    let returned: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cloud.dir().join("back/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        without_serial(returned.clone()),
        without_serial(local.clone())
    );
    assert!(returned["serial"].as_u64() > local["serial"].as_u64());

    // Without a database, there is nowhere to migrate to.
    let nowhere = run(cloud.migspec(), &["state", "migrate", "--to", "postgres"]);
    assert_eq!(nowhere.status.code(), Some(1), "{}", describe(&nowhere));
    assert!(
        stderr(&nowhere).contains("MIGSPEC_STATE_URL"),
        "{}",
        describe(&nowhere)
    );
}

#[test]
fn two_working_directories_share_only_the_database() {
    let Some(database) = database_or_skip("shared database") else {
        return;
    };
    let settings = "pollInterval: 50ms\nstate: {backend: postgres, url: {fromEnv: MIGSPEC_PG_URL}, schema: team_a}\n";
    let mut cloud = cloud_with(None, &["orders-mysql.yaml", "media-archive-oms.yaml"]);
    cloud.write("migspec.yaml", settings);
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("migspec.yaml"), settings).unwrap();
    std::fs::create_dir_all(other.path().join("specs")).unwrap();
    for name in ["orders-mysql.yaml", "media-archive-oms.yaml"] {
        std::fs::write(other.path().join("specs").join(name), Cloud::shipped(name)).unwrap();
    }
    let with_url = |mut command: Command| {
        command.env("MIGSPEC_PG_URL", database.url());
        command.env_remove("MIGSPEC_STATE_URL");
        command
    };

    let apply = run(
        with_url(cloud.migspec()),
        &["apply", "specs/", "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert!(
        !cloud.state_path().exists(),
        "the state went to the database"
    );

    let mut in_other = with_url(cloud.migspec());
    in_other.current_dir(other.path()).env("HOME", other.path());
    let plan = run(in_other, &["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    assert!(!other.path().join(".migspec/state.json").exists());
    assert_eq!(database.psql("SELECT count(*) FROM team_a.objects"), "2");

    // Unset, the variable `state.url` names is an error that says which.
    let mut unset = cloud.migspec();
    unset
        .env_remove("MIGSPEC_PG_URL")
        .env_remove("MIGSPEC_STATE_URL");
    let failed = run(unset, &["plan", "specs/"]);
    assert_eq!(failed.status.code(), Some(1), "{}", describe(&failed));
    assert!(
        stderr(&failed).contains("MIGSPEC_PG_URL"),
        "{}",
        describe(&failed)
    );
}

/// The backend itself: steps recorded one transaction each, the journal bounded, a
/// concurrent write refused, the whole state read back as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_records_steps_and_reads_back_what_it_wrote() {
    use migspec_provider::{Address, RemoteId};
    use migspec_runner::state::{
        JOURNAL_KEEP, JournalEntry, JournalStatus, LockInfo, PostgresState, Resource, StateBackend,
        StateChange, StateError,
    };
    let Some(database) = tokio::task::spawn_blocking(|| database_or_skip("backend"))
        .await
        .unwrap()
    else {
        return;
    };
    let backend = PostgresState::new(&database.url(), "unit").unwrap();
    let mut state = backend.read().await.unwrap();
    assert_eq!(state.serial, 0);
    let held = backend
        .lock(LockInfo::current("unit test"), Duration::ZERO)
        .await
        .unwrap();
    assert!(matches!(
        backend
            .lock(LockInfo::current("second"), Duration::from_millis(300))
            .await,
        Err(StateError::DatabaseLocked { .. })
    ));
    let resource = Resource {
        kind: "TencentDtsMigrateJob".into(),
        remote_id: Some(RemoteId("dts-1".into())),
        location: serde_json::json!({"region": "ap-guangzhou"}),
        secret_fingerprints: [("/spec/SrcInfo/Password".to_owned(), "abc".to_owned())].into(),
        applied_spec_hash: None,
        deletion_policy: None,
        file: None,
        config_hash: None,
        attempts: 0,
        applied_view: None,
        secrets_in_use: false,
        applied_revision: None,
    };
    let entry = |index: usize| JournalEntry {
        at: format!("t{index}"),
        address: Address("a".into()),
        action: "create".into(),
        key: format!("k{index}"),
        status: JournalStatus::Intent,
        remote_id: None,
    };
    let change = StateChange {
        address: Address("a".into()),
        resource: Some(resource.clone()),
        journal: (0..JOURNAL_KEEP + 5).map(entry).collect(),
        plan: None,
    };
    held.record(&mut state, &change).await.unwrap();
    assert_eq!(state.serial, 1);
    let read = backend.read().await.unwrap();
    assert_eq!(read, state);
    assert_eq!(read.journal.len(), JOURNAL_KEEP);
    assert_eq!(read.journal[0].key, "k5", "the oldest entries are dropped");
    assert_eq!(read.resources[&Address("a".into())], resource);

    // A second step touches only its address; removal deletes the row.
    let removal = StateChange {
        address: Address("a".into()),
        resource: None,
        journal: vec![entry(9999)],
        plan: None,
    };
    held.record(&mut state, &removal).await.unwrap();
    assert_eq!(backend.read().await.unwrap(), state);
    assert_eq!(database.psql("SELECT count(*) FROM unit.objects"), "0");

    // A state read before someone else's write is refused.
    let mut stale = state.clone();
    held.write(&mut state).await.unwrap();
    assert!(matches!(
        held.write(&mut stale).await,
        Err(StateError::Conflict {
            expected: 2,
            found: 3,
            ..
        })
    ));
    assert!(matches!(
        held.record(&mut stale, &removal).await,
        Err(StateError::Conflict { .. })
    ));
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        backend
            .lock(LockInfo::current("third"), Duration::from_secs(5))
            .await
            .is_ok()
    );
}
