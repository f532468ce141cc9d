//! The provider against the emulator: observe → plan → apply → poll, for every lifecycle.

use std::time::Duration;

use migspec_emulator::{CheckFailure, FaultConfig, FaultRule, ManualClock};
use migspec_provider::{
    Action, ActionKind, Address, ChangeValue, Disruption, ImportRequest, ObserveRequest,
    ObserveTarget, Observed, Phase, Provider, Recorded, RemoteId, Step, StepOutcome,
};
use serde_json::json;

use crate::support::{Env, PROJECT, REGION, desired, document, emulator_config, id_of, kinds};

/// Applies every action of a plan in order; returns the last observation.
async fn apply_all(
    env: &Env,
    address: &str,
    actions: Vec<Action>,
    mut remote_id: Option<String>,
    spec: Option<&migspec_provider::DesiredSpec>,
) -> Observed {
    let mut last = None;
    for action in actions {
        let observed = env
            .run(address, action.clone(), remote_id.as_deref(), spec)
            .await
            .unwrap_or_else(|failure| panic!("{:?} failed: {failure:?}", action.kind));
        remote_id = observed
            .object()
            .map(|object| object.id.0.clone())
            .or(remote_id);
        last = Some(observed);
    }
    last.expect("at least one action")
}

#[tokio::test]
async fn lifecycle_to_completed_then_nothing_to_do() {
    let env = Env::start().await;
    let spec = desired(document("media-archive", "completed"));
    let observed = env.observe("media-archive", None).await;
    assert!(matches!(observed, Observed::Missing { .. }));

    let plan = env.plan(Some(&spec), "media-archive", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["create"]);
    assert!(
        plan[0].reason.contains("does not exist"),
        "{}",
        plan[0].reason
    );
    assert!(plan[0].disruptions.is_empty());

    let observed = apply_all(&env, "media-archive", plan, None, Some(&spec)).await;
    let object = observed.object().unwrap();
    assert_eq!(object.phase, Phase::Completed);
    assert_eq!(object.raw_status, "6");
    assert_eq!(
        object.location,
        json!({"region": REGION, "project_id": PROJECT})
    );
    let progress = object.progress.as_ref().unwrap();
    assert_eq!(progress.percent, Some(100.0));
    assert!(progress.message.as_ref().unwrap().contains(" of "));

    // The group observes back to its spec: no diff, nothing to do.
    let id = id_of(&observed);
    let observed = env.observe("media-archive", Some(&id)).await;
    let view = &observed.object().unwrap().view;
    assert_eq!(
        view,
        &json!({
            "region": REGION,
            "src_node": {"region": "cn-hangzhou", "bucket": "media-src", "object_key": ["2023/", "2024/"]},
            "dst_node": {"region": REGION, "bucket": "media-dst", "save_prefix": "archive/"},
            "description": "media archive 2023-2024",
            "consistency_check": "crc64",
            "bandwidth_policy": [{"start": "00:00", "end": "06:00", "max_bandwidth": 100}]
        }),
        "defaults removed, bandwidth in MB/s, ALIYUN read as the default Aliyun, marker stripped"
    );
    let text = view.to_string();
    assert!(!text.contains("SRCAK") && !text.contains("DSTSK"));
    let recorded = Recorded {
        remote_id: Some(RemoteId(id)),
        ..Recorded::default()
    };
    assert_eq!(
        env.plan(Some(&spec), "media-archive", &observed, recorded),
        []
    );
}

#[tokio::test]
async fn lifecycle_paused_then_running() {
    let env = Env::start().await;
    let paused = desired(document("paused-group", "paused"));
    let observed = env.observe("paused-group", None).await;
    let plan = env.plan(
        Some(&paused),
        "paused-group",
        &observed,
        Recorded::default(),
    );
    assert_eq!(kinds(&plan), ["create", "pause"]);
    let observed = apply_all(&env, "paused-group", plan, None, Some(&paused)).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Paused);
    let id = id_of(&observed);
    let observed = env.observe("paused-group", Some(&id)).await;
    assert_eq!(
        env.plan(
            Some(&paused),
            "paused-group",
            &observed,
            Recorded::default()
        ),
        []
    );

    // A repeated pause is a no-op that reports done.
    let again = env
        .provider
        .apply(Step {
            address: Address("paused-group".into()),
            action: Action::new(ActionKind::Pause, "again"),
            remote_id: Some(RemoteId(id.clone())),
            location: env.location(),
            desired: Some(paused.clone()),
            idempotency_key: "k".into(),
            observed: None,
        })
        .await
        .unwrap();
    assert!(matches!(again, StepOutcome::Done { .. }), "{again:?}");

    let running = desired(document("paused-group", "running"));
    let plan = env.plan(
        Some(&running),
        "paused-group",
        &observed,
        Recorded::default(),
    );
    assert_eq!(kinds(&plan), ["start"]);
    let observed = apply_all(&env, "paused-group", plan, Some(id.clone()), Some(&running)).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Running);
    let observed = env.observe("paused-group", Some(&id)).await;
    assert_eq!(
        env.plan(
            Some(&running),
            "paused-group",
            &observed,
            Recorded::default()
        ),
        []
    );
    assert_eq!(env.stats("StartTaskGroup").await["ok"], 1);
}

#[tokio::test]
async fn failed_migration_is_retried_with_failed_objects_only() {
    let clock = ManualClock::new();
    let config = emulator_config(&clock)
        .with_fault_rule(FaultRule::matching("*migspec:address=flaky-*").fail_at(40));
    let env = Env::with(config, &clock).await;
    let spec = desired(document("flaky-media", "completed"));
    let observed = env.observe("flaky-media", None).await;
    let plan = env.plan(Some(&spec), "flaky-media", &observed, Recorded::default());
    let failure = env
        .run("flaky-media", plan[0].clone(), None, Some(&spec))
        .await
        .expect_err("the migration fails at 40%");
    assert_eq!(failure.code.as_deref(), Some("TRF.0001"));
    assert!(
        failure.message.contains("objects failed"),
        "{}",
        failure.message
    );

    let observed = env.observe("flaky-media", None).await;
    let object = observed.object().unwrap();
    assert_eq!(object.phase, Phase::Failed);
    assert_eq!(object.raw_status, "5");
    assert!(
        object
            .failure
            .as_ref()
            .unwrap()
            .details
            .iter()
            .any(|d| d.contains("failed_object_list"))
    );
    let id = object.id.0.clone();

    let plan = env.plan(Some(&spec), "flaky-media", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["retry"]);
    assert!(
        plan[0].reason.contains("only the failed objects"),
        "{}",
        plan[0].reason
    );
    assert!(plan[0].reason.contains("TRF.0001"), "{}", plan[0].reason);
    let observed = apply_all(&env, "flaky-media", plan, Some(id.clone()), Some(&spec)).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Completed);
    let group = env
        .provider
        .client()
        .show(
            migspec_huawei_oms::Target {
                region: REGION,
                project_id: PROJECT,
            },
            &id,
        )
        .await
        .unwrap();
    assert_eq!(
        group.skip_num,
        Some(0),
        "migrate_failed_object: true re-lists nothing"
    );
    assert_eq!(group.fail_num, Some(0));
    assert_eq!(group.success_num, group.total_num);

    // With the retries spent, the plan says so instead of retrying forever.
    let failed = observed_failed(&observed);
    let spent = Recorded {
        attempts: 3,
        ..Recorded::default()
    };
    let error = env
        .provider
        .plan(&migspec_provider::PlanRequest {
            address: Address("flaky-media".into()),
            desired: Some(spec.clone()),
            observed: failed,
            recorded: spent,
            orphans: migspec_provider::Orphans::Keep,
        })
        .unwrap_err();
    assert!(error.message.contains("maxAttempts"), "{error}");
}

/// The same observation, as if the group had failed.
fn observed_failed(observed: &Observed) -> Observed {
    let mut object = observed.object().unwrap().clone();
    object.phase = Phase::Failed;
    object.raw_status = "5".into();
    Observed::Present {
        address: observed.address().clone(),
        object: Box::new(object),
    }
}

#[tokio::test]
async fn bandwidth_changes_in_place() {
    let env = Env::start().await;
    let spec = desired(document("throttled", "running"));
    let observed = env.observe("throttled", None).await;
    let plan = env.plan(Some(&spec), "throttled", &observed, Recorded::default());
    let observed = apply_all(&env, "throttled", plan, None, Some(&spec)).await;
    let id = id_of(&observed);

    let mut changed = document("throttled", "running");
    changed["spec"]["bandwidth_policy"] = json!([{"max_bandwidth": 50, "start": "00:00", "end": "06:00"}, {"max_bandwidth": 200, "start": "22:00", "end": "23:30"}]);
    let changed = desired(changed);
    let observed = env.observe("throttled", Some(&id)).await;
    let plan = env.plan(Some(&changed), "throttled", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["modify"]);
    assert!(plan[0].disruptions.is_empty());
    let change = &plan[0].changes[0];
    assert_eq!(change.field, "/spec/bandwidth_policy");
    assert!(change.in_place);
    assert_eq!(
        change.before,
        ChangeValue::Value(json!([{"start": "00:00", "end": "06:00", "max_bandwidth": 100}]))
    );

    let observed = apply_all(&env, "throttled", plan, Some(id.clone()), Some(&changed)).await;
    assert_eq!(id_of(&observed), id, "the same group");
    let group = env
        .provider
        .client()
        .show(
            migspec_huawei_oms::Target {
                region: REGION,
                project_id: PROJECT,
            },
            &id,
        )
        .await
        .unwrap();
    let sent: Vec<u64> = group
        .bandwidth_policy
        .unwrap()
        .iter()
        .map(|window| window.max_bandwidth.unwrap())
        .collect();
    assert_eq!(
        sent,
        [50 * 1_048_576, 200 * 1_048_576],
        "bytes/s on the wire"
    );
    let observed = env.observe("throttled", Some(&id)).await;
    assert_eq!(
        env.plan(Some(&changed), "throttled", &observed, Recorded::default()),
        []
    );
    assert_eq!(env.stats("CreateTaskGroup").await["ok"], 1, "no re-create");
}

#[tokio::test]
async fn other_changes_re_create_the_group() {
    let env = Env::start().await;
    let spec = desired(document("moving", "running"));
    let observed = env.observe("moving", None).await;
    let plan = env.plan(Some(&spec), "moving", &observed, Recorded::default());
    let observed = apply_all(&env, "moving", plan, None, Some(&spec)).await;
    let old = id_of(&observed);

    let mut changed = document("moving", "running");
    changed["spec"]["src_node"]["bucket"] = json!("media-src-2");
    changed["spec"]["object_overwrite_mode"] = json!("FULL_OVERWRITE");
    changed["spec"]["bandwidth_policy"] = json!([]);
    let changed = desired(changed);
    let observed = env.observe("moving", Some(&old)).await;
    let plan = env.plan(Some(&changed), "moving", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["pause", "delete", "create"]);
    assert!(plan[1].disruptions.contains(&Disruption::ForcesRecreate));
    assert!(plan[1].disruptions.contains(&Disruption::NeedsPause));
    assert!(
        plan[1].reason.contains("src_node.bucket"),
        "{}",
        plan[1].reason
    );
    let create = &plan[2];
    assert!(create.disruptions.contains(&Disruption::ForcesRecreate));
    assert!(create.disruptions.contains(&Disruption::OverwritesTarget));
    let fields: Vec<&str> = create
        .changes
        .iter()
        .map(|change| change.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "/spec/src_node/bucket",
            "/spec/object_overwrite_mode",
            "/spec/bandwidth_policy"
        ]
    );
    assert!(create.changes.iter().all(|change| !change.in_place));
    assert_eq!(
        create.changes[0].before,
        ChangeValue::Value(json!("media-src"))
    );

    let observed = apply_all(&env, "moving", plan, Some(old.clone()), Some(&changed)).await;
    let new = id_of(&observed);
    assert_ne!(new, old);
    let observed = env.observe("moving", Some(&new)).await;
    assert_eq!(
        env.plan(Some(&changed), "moving", &observed, Recorded::default()),
        []
    );
    // The old group is gone; its recorded id now resolves (by marker) to the new group.
    assert_eq!(id_of(&env.observe("moving", Some(&old)).await), new);
    let error = env
        .provider
        .client()
        .show(
            migspec_huawei_oms::Target {
                region: REGION,
                project_id: PROJECT,
            },
            &old,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        migspec_provider::ProviderError::NotFound { .. }
    ));
}

#[tokio::test]
async fn delete_choreography_pauses_then_deletes_until_gone() {
    let env = Env::start().await;
    let spec = desired(document("retired", "running"));
    let observed = env.observe("retired", None).await;
    let plan = env.plan(Some(&spec), "retired", &observed, Recorded::default());
    let observed = apply_all(&env, "retired", plan, None, Some(&spec)).await;
    let id = id_of(&observed);
    assert_eq!(observed.object().unwrap().phase, Phase::Running);

    // OMS refuses to delete a running group; the provider plans the pause first.
    let observed = env.observe("retired", Some(&id)).await;
    let plan = env.plan(None, "retired", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["pause", "delete"]);
    assert!(plan[1].disruptions.contains(&Disruption::NeedsPause));

    let paused = env
        .run("retired", plan[0].clone(), Some(&id), None)
        .await
        .unwrap();
    assert_eq!(paused.object().unwrap().phase, Phase::Paused);
    let gone = env
        .run("retired", plan[1].clone(), Some(&id), None)
        .await
        .unwrap();
    assert!(matches!(gone, Observed::Missing { .. }), "{gone:?}");
    assert_eq!(env.stats("StopTaskGroup").await["ok"], 1);
    assert_eq!(env.stats("DeleteTaskGroup").await["ok"], 1);
    let error = env
        .provider
        .client()
        .show(
            migspec_huawei_oms::Target {
                region: REGION,
                project_id: PROJECT,
            },
            &id,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        migspec_provider::ProviderError::NotFound { .. }
    ));

    // Observing and planning the deleted orphan: nothing left to do.
    let observed = env.observe("retired", Some(&id)).await;
    assert!(matches!(observed, Observed::Missing { .. }));
    assert_eq!(
        env.plan(None, "retired", &observed, Recorded::default()),
        []
    );
    // A repeated delete is a no-op.
    let again = env
        .run("retired", plan[1].clone(), Some(&id), None)
        .await
        .unwrap();
    assert!(matches!(again, Observed::Missing { .. }));
}

#[tokio::test]
async fn a_delete_of_a_group_running_again_pauses_it_and_says_so() {
    let env = Env::start().await;
    let spec = desired(document("restarted", "running"));
    let plan = env.plan(
        Some(&spec),
        "restarted",
        &env.observe("restarted", None).await,
        Recorded::default(),
    );
    let observed = apply_all(&env, "restarted", plan, None, Some(&spec)).await;
    let id = id_of(&observed);
    let failure = env
        .run(
            "restarted",
            Action::new(ActionKind::Delete, "stale plan"),
            Some(&id),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(failure.code.as_deref(), Some("OMS.0063"));
    assert!(
        failure.message.contains("plan and apply again"),
        "{}",
        failure.message
    );
    env.clock.advance(Duration::from_millis(150));
    let observed = env.observe("restarted", Some(&id)).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Paused);
}

#[tokio::test]
async fn a_crashed_create_is_found_again_by_its_marker() {
    let env = Env::start().await;
    let spec = desired(document("crashy", "running"));
    let plan = env.plan(
        Some(&spec),
        "crashy",
        &env.observe("crashy", None).await,
        Recorded::default(),
    );
    // The create went through, then the runner crashed before recording the id.
    let outcome = env
        .provider
        .apply(Step {
            address: Address("crashy".into()),
            action: plan[0].clone(),
            remote_id: None,
            location: env.location(),
            desired: Some(spec.clone()),
            idempotency_key: "create-1".into(),
            observed: None,
        })
        .await
        .unwrap();
    let StepOutcome::InFlight { observed, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let id = id_of(&observed);

    // Observed without an id, the group is found by its description marker.
    let found = env.observe("crashy", None).await;
    assert_eq!(id_of(&found), id);
    assert_eq!(
        found.object().unwrap().marker,
        Some(Address("crashy".into()))
    );
    let group = env
        .provider
        .client()
        .show(
            migspec_huawei_oms::Target {
                region: REGION,
                project_id: PROJECT,
            },
            &id,
        )
        .await
        .unwrap();
    assert_eq!(
        group.description.as_deref(),
        Some("media archive 2023-2024 migspec:address=crashy")
    );
    // Another address does not claim it.
    assert!(matches!(
        env.observe("crash", None).await,
        Observed::Missing { .. }
    ));

    // A recorded id that no longer exists falls back to the marker too.
    let found = env
        .observe("crashy", Some("0e4c3b0e-0000-4000-8000-000000000000"))
        .await;
    assert_eq!(id_of(&found), id);

    // Re-running the create adopts the group instead of making a second one.
    let again = env
        .run("crashy", plan[0].clone(), None, Some(&spec))
        .await
        .unwrap();
    assert_eq!(id_of(&again), id);
    assert_eq!(env.stats("CreateTaskGroup").await["ok"], 1);
}

#[tokio::test]
async fn observe_is_one_listing_per_location_for_a_batch() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    for name in ["batch-a", "batch-b"] {
        let spec = desired(document(name, "running"));
        let outcome = env
            .provider
            .apply(Step {
                address: Address(name.into()),
                action: Action::new(ActionKind::Create, "test"),
                remote_id: None,
                location: env.location(),
                desired: Some(spec),
                idempotency_key: name.into(),
                observed: None,
            })
            .await
            .unwrap();
        let StepOutcome::InFlight { observed, .. } = outcome else {
            panic!("{outcome:?}")
        };
        ids.push(id_of(&observed));
    }
    let before = env.stats("ListTaskGroup").await["requests"]
        .as_u64()
        .unwrap();
    let target = |address: &str, id: Option<&str>| ObserveTarget {
        address: Address(address.into()),
        kind: "HuaweiOmsTaskGroup".into(),
        revision: None,
        view: None,
        remote_id: id.map(|id| RemoteId(id.into())),
        location: env.location(),
    };
    let observed = env
        .provider
        .observe(ObserveRequest {
            targets: vec![
                target("batch-a", Some(&ids[0])),
                target("batch-b", None),
                target("never-created", None),
                target(
                    "deleted-elsewhere",
                    Some("0e4c3b0e-0000-4000-8000-000000000000"),
                ),
            ],
        })
        .await
        .unwrap();
    assert_eq!(id_of(&observed[0]), ids[0]);
    assert_eq!(id_of(&observed[1]), ids[1]);
    assert!(matches!(observed[2], Observed::Missing { .. }));
    assert!(matches!(observed[3], Observed::Missing { .. }));
    let after = env.stats("ListTaskGroup").await["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(after - before, 1, "one listing for the whole batch");
    assert_eq!(
        env.stats("ShowTaskGroup").await["requests"]
            .as_u64()
            .unwrap_or(0),
        0,
        "a create reads nothing back, and the batch lists instead of showing"
    );
}

#[tokio::test]
async fn import_writes_a_spec_with_placeholders_that_plans_clean() {
    let env = Env::start().await;
    let spec = desired(document("adopted", "running"));
    let plan = env.plan(
        Some(&spec),
        "adopted",
        &env.observe("adopted", None).await,
        Recorded::default(),
    );
    let observed = apply_all(&env, "adopted", plan, None, Some(&spec)).await;
    let id = id_of(&observed);

    let imported = env
        .provider
        .import(ImportRequest {
            kind: "HuaweiOmsTaskGroup".into(),
            address: Address("adopted".into()),
            remote_id: RemoteId(id.clone()),
            location: env.location(),
        })
        .await
        .unwrap();
    let document = &imported.document;
    assert_eq!(document["apiVersion"], "migspec/v1");
    assert_eq!(document["kind"], "HuaweiOmsTaskGroup");
    assert_eq!(document["metadata"]["name"], "adopted");
    assert_eq!(document["lifecycle"]["desired"], "running");
    assert_eq!(
        document["spec"]["src_node"]["ak"],
        json!({"fromEnv": "ADOPTED_SRC_AK"})
    );
    assert_eq!(
        document["spec"]["dst_node"]["sk"],
        json!({"fromEnv": "ADOPTED_DST_SK"})
    );
    assert_eq!(document["spec"]["project_id"], PROJECT);
    assert_eq!(document["spec"]["description"], "media archive 2023-2024");
    assert_eq!(
        imported.unreadable,
        [
            "/spec/dst_node/ak",
            "/spec/dst_node/sk",
            "/spec/src_node/ak",
            "/spec/src_node/sk"
        ]
    );
    // The imported spec, keys filled in, manages the group without changes.
    let adopted = desired(document.clone());
    let observed = env.observe("adopted", Some(&id)).await;
    assert_eq!(
        env.plan(Some(&adopted), "adopted", &observed, Recorded::default()),
        []
    );

    let error = env
        .provider
        .import(ImportRequest {
            kind: "HuaweiOmsTaskGroup".into(),
            address: Address("nothing".into()),
            remote_id: RemoteId("missing".into()),
            location: env.location(),
        })
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        migspec_provider::ProviderError::NotFound { .. }
    ));
}

#[tokio::test]
async fn changed_keys_ride_along_with_start_and_never_re_create() {
    let env = Env::start().await;
    let paused = desired(document("rotated", "paused"));
    let plan = env.plan(
        Some(&paused),
        "rotated",
        &env.observe("rotated", None).await,
        Recorded::default(),
    );
    let observed = apply_all(&env, "rotated", plan, None, Some(&paused)).await;
    let id = id_of(&observed);
    let observed = env.observe("rotated", Some(&id)).await;
    let rotated = Recorded {
        remote_id: Some(RemoteId(id.clone())),
        changed_secrets: vec!["/spec/src_node/sk".into()],
        attempts: 0,
        location: env.location(),
    };
    let plan = env.plan(Some(&paused), "rotated", &observed, rotated.clone());
    assert_eq!(kinds(&plan), ["modify"]);
    assert!(
        plan[0].reason.contains("nothing is sent now"),
        "{}",
        plan[0].reason
    );
    assert_eq!(plan[0].changes[0].before, ChangeValue::Sensitive);
    let text = serde_json::to_string(&plan).unwrap();
    assert!(!text.contains("SRCSK-VALUE"), "{text}");
    // Applying it sends nothing.
    let updates = env.stats("UpdateTaskGroup").await["requests"]
        .as_u64()
        .unwrap_or(0);
    env.run("rotated", plan[0].clone(), Some(&id), Some(&paused))
        .await
        .unwrap();
    assert_eq!(
        env.stats("UpdateTaskGroup").await["requests"]
            .as_u64()
            .unwrap_or(0),
        updates
    );

    let running = desired(document("rotated", "running"));
    let plan = env.plan(Some(&running), "rotated", &observed, rotated);
    assert_eq!(kinds(&plan), ["start"]);
    assert_eq!(plan[0].changes.len(), 1);
    assert!(plan[0].reason.contains("src_node.sk"), "{}", plan[0].reason);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_adopted_not_repeated() {
    let clock = ManualClock::new();
    // The listing before the create is answered, the create's answer is dropped after the
    // group was made, the following ones are answered.
    let faults = FaultConfig {
        actions: std::collections::BTreeMap::from([(
            "CreateTaskGroup".to_owned(),
            migspec_emulator::ActionFaults {
                drop_response_rate: Some(1.0),
                ..migspec_emulator::ActionFaults::default()
            },
        )]),
        ..FaultConfig::default()
    };
    let env = Env::with(emulator_config(&clock).with_faults(faults), &clock).await;
    let spec = desired(document("lost-answer", "running"));
    let observed = env
        .run(
            "lost-answer",
            Action::new(ActionKind::Create, "test"),
            None,
            Some(&spec),
        )
        .await
        .unwrap();
    assert_eq!(observed.object().unwrap().phase, Phase::Running);
    let create = env.stats("CreateTaskGroup").await;
    assert_eq!(create["requests"], 1, "never created twice: {create}");
    assert_eq!(create["injected_fault"], 1, "its answer was lost: {create}");
    let groups = env
        .provider
        .client()
        .list_all(migspec_huawei_oms::Target {
            region: REGION,
            project_id: PROJECT,
        })
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_id, id_of(&observed));
}

#[tokio::test]
async fn a_task_creation_failure_is_retried() {
    let clock = ManualClock::new();
    let rule = FaultRule {
        check_fail: Some(CheckFailure {
            message: Some("The AK/SK cannot read the destination bucket".into()),
            times: Some(1),
            step: None,
        }),
        ..FaultRule::matching("*migspec:address=no-permission")
    };
    let env = Env::with(emulator_config(&clock).with_fault_rule(rule), &clock).await;
    let spec = desired(document("no-permission", "completed"));
    let failure = env
        .run(
            "no-permission",
            Action::new(ActionKind::Create, "test"),
            None,
            Some(&spec),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.code.as_deref(), Some("TRF.0051"));
    assert_eq!(
        failure.message,
        "The AK/SK cannot read the destination bucket"
    );

    let observed = env.observe("no-permission", None).await;
    assert_eq!(observed.object().unwrap().raw_status, "4");
    let plan = env.plan(Some(&spec), "no-permission", &observed, Recorded::default());
    assert_eq!(kinds(&plan), ["retry"]);
    let id = id_of(&observed);
    let observed = apply_all(&env, "no-permission", plan, Some(id.clone()), Some(&spec)).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Completed);
    assert_eq!(id_of(&observed), id);
    assert_eq!(env.stats("RetryTaskGroup").await["ok"], 1);
}

#[tokio::test]
async fn polling_a_delete_tracks_that_group_not_its_marker() {
    let env = Env::start().await;
    let target = migspec_huawei_oms::Target {
        region: REGION,
        project_id: PROJECT,
    };
    let body = |description: &str| {
        json!({
            "src_node": {"region": "r", "bucket": "b", "ak": "A", "sk": "S"},
            "dst_node": {"region": REGION, "bucket": "d", "ak": "A", "sk": "S"},
            "description": description
        })
    };
    // Two groups carry the same marker (one made by hand, say).
    let first = env
        .provider
        .client()
        .create(target, &body("migspec:address=twin"))
        .await
        .unwrap();
    env.provider
        .client()
        .create(target, &body("copy migspec:address=twin"))
        .await
        .unwrap();
    let observed = env.observe("twin", Some(&first)).await;
    assert_eq!(id_of(&observed), first);
    let gone = env
        .run(
            "twin",
            Action::new(ActionKind::Delete, "test"),
            Some(&first),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(gone, Observed::Missing { .. }), "{gone:?}");
}
