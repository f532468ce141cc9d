//! When a plan reads a DTS 2021 job's `MigrateOption` (DescribeMigrationDetail, one call per
//! job) instead of taking it from the view the state recorded: issue 12 item 9.

use std::time::Duration;

use migspec_emulator::{
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig, PhaseDurations,
};
use migspec_provider::{
    ActionKind, Address, ObserveRequest, ObserveTarget, Observed, Provider, Recorded, RemoteObject,
};
use migspec_tencent_dts::sign::{SigningRequest, sign};
use serde_json::{Value, json};

use crate::support::{Harness, count, doc_2021, harness, location};

/// Observes `document`'s job the way `plan` does, with what the state recorded.
async fn observe_recorded(h: &Harness, document: &Value, recorded: &RemoteObject) -> RemoteObject {
    let mut observed = h
        .retrying(|| {
            h.provider.observe(ObserveRequest {
                targets: vec![ObserveTarget {
                    address: Address(document["metadata"]["name"].as_str().unwrap().to_owned()),
                    kind: "TencentDtsMigrationJob".to_owned(),
                    remote_id: Some(recorded.id.clone()),
                    location: location(document),
                    // What the engine records after the last step (`applied_revision`,
                    // `applied_view`): the object's revision and view.
                    revision: recorded.revision.clone(),
                    view: recorded.revision.as_ref().map(|_| recorded.view.clone()),
                }],
            })
        })
        .await;
    match observed.pop().unwrap() {
        Observed::Present { object, .. } => *object,
        Observed::Missing { address } => panic!("{address} is missing"),
    }
}

async fn details(h: &Harness) -> u64 {
    count(
        &h.stats().await,
        "2021-12-06",
        "DescribeMigrationDetail",
        "ok",
    )
}

/// Converges `document` and returns the job as observed right after (what is recorded).
async fn applied(h: &Harness, document: &Value, expected: &[ActionKind]) -> RemoteObject {
    let mut remote_id = None;
    let mut recorded = Recorded::default();
    assert_eq!(
        h.converge(document, &mut remote_id, &mut recorded).await,
        expected
    );
    h.observe(document, remote_id.as_ref())
        .await
        .object()
        .unwrap()
        .clone()
}

/// The reproduction: jobs applied to `running` go on migrating, and every status change moves
/// the listing's `UpdateTime`, which was the revision: each plan after such an apply read
/// every job's detail again (53 of the 65 calls of the plan benchmark).
#[tokio::test]
async fn a_started_jobs_options_are_taken_from_the_state_when_only_its_status_moved() {
    let durations = PhaseDurations {
        migrating: Duration::from_secs(600),
        ..PhaseDurations::default()
    };
    let h = harness(EmulatorConfig::default().with_durations(durations)).await;
    // A full (not incremental) migration: `running` is reached when it runs.
    let mut document = doc_2021("inventory-started", "running");
    document["spec"]["MigrateOption"]["MigrateType"] = json!("full");
    let recorded = applied(
        &h,
        &document,
        &[ActionKind::Create, ActionKind::Check, ActionKind::Start],
    )
    .await;
    assert_eq!(recorded.raw_status, "running");
    assert!(recorded.revision.is_some(), "a started job has a revision");

    // The migration ends: the job moves on to success by itself.
    h.clock.advance(Duration::from_secs(700));
    let before = details(&h).await;
    let now = observe_recorded(&h, &document, &recorded).await;
    assert_eq!(now.raw_status, "success");
    assert_eq!(details(&h).await - before, 0, "the detail was read again");
    assert_eq!(now.view, recorded.view, "the options are the recorded ones");
    assert_eq!(now.revision, recorded.revision);
    h.emulator.shutdown().await;
}

/// One signed 2021 call from another client (the console, a colleague's script).
async fn another_client(h: &Harness, action: &str, body: &Value) -> Value {
    let payload = serde_json::to_vec(body).unwrap();
    let url = h.emulator.url();
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let timestamp = i64::try_from(h.clock.now_secs()).unwrap();
    let signed = sign(
        &SigningRequest {
            method: "POST",
            host: &host,
            query: "",
            content_type: "application/json",
            payload: &payload,
            service: "dts",
            timestamp,
            signed_action: None,
        },
        DEFAULT_TENCENT_SECRET_ID,
        DEFAULT_TENCENT_SECRET_KEY,
    );
    let answer: Value = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-TC-Action", action)
        .header("X-TC-Version", "2021-12-06")
        .header("X-TC-Region", "ap-guangzhou")
        .header("X-TC-Timestamp", timestamp.to_string())
        .header("Authorization", signed.authorization)
        .body(payload)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["Response"].clone()
}

/// A job that has not started can be configured again at any time, and `UpdateTime` has a
/// one-second resolution: another client's ModifyMigrationJob within the second of the
/// recorded `UpdateTime` left it unchanged, and the plan took the old options for current.
/// Now a job that has not started has no revision: its options are read each time.
#[tokio::test]
async fn a_job_not_yet_started_has_its_options_read_every_time() {
    let h = harness(EmulatorConfig::default()).await;
    let document = doc_2021("inventory-configured", "configured");
    let recorded = applied(&h, &document, &[ActionKind::Create]).await;
    assert_eq!(
        recorded.view["MigrateOption"]["Consistency"]["Mode"],
        "full"
    );

    // In the same second (the emulator's clock does not move), someone else switches the
    // consistency check off.
    let mut spec = document["spec"].clone();
    for side in ["SrcInfo", "DstInfo"] {
        spec[side]["Info"][0]["Password"] = json!("changed-elsewhere");
    }
    let body = json!({
        "JobId": recorded.id.0,
        "RunMode": spec["RunMode"],
        "MigrateOption": {
            "MigrateType": "fullAndIncrement",
            "DatabaseTable": spec["MigrateOption"]["DatabaseTable"],
            "Consistency": {"Mode": "noCheck"}
        },
        "SrcInfo": spec["SrcInfo"],
        "DstInfo": spec["DstInfo"],
        "AutoRetryTimeRangeMinutes": spec["AutoRetryTimeRangeMinutes"],
    });
    let answer = another_client(&h, "ModifyMigrationJob", &body).await;
    assert!(answer.get("Error").is_none(), "{answer}");

    let before = details(&h).await;
    let now = observe_recorded(&h, &document, &recorded).await;
    assert_eq!(details(&h).await - before, 1, "the options were not read");
    assert_eq!(
        now.view["MigrateOption"]["Consistency"]["Mode"], "noCheck",
        "the plan would take the recorded options for current: {}",
        now.view["MigrateOption"]
    );
    h.emulator.shutdown().await;
}
