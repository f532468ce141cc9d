//! Full lifecycles against the emulator: observe missing → plan → apply every step
//! (polling until each wait is satisfied) → observe → the plan is empty.

use migspec_emulator::{EmulatorConfig, FailureKind, FaultRule};
use migspec_provider::{
    ActionKind, Address, Disruption, Observed, Phase, PlanRequest, Provider, Recorded, StepOutcome,
};
use serde_json::json;

use crate::support::{body_without_secrets, doc_2018, doc_2021, harness, location};

use ActionKind::{Check, Complete, Continue, Create, Delete, Modify, Pause, Resume, Start, Stop};

#[tokio::test]
async fn lifecycle_2018_create_check_start_complete() {
    let h = harness(EmulatorConfig::default()).await;
    let running = doc_2018("orders-2018", "running");
    assert!(matches!(
        h.observe(&running, None).await,
        Observed::Missing { .. }
    ));

    let mut remote_id = None;
    let mut recorded = Recorded::default();
    let applied = h.converge(&running, &mut remote_id, &mut recorded).await;
    assert_eq!(applied, [Create, Check, Start]);
    let observed = h.observe(&running, remote_id.as_ref()).await;
    let object = observed.object().unwrap();
    assert_eq!(object.phase, Phase::ReadyToComplete);
    assert_eq!(object.raw_status, "8");
    assert_eq!(
        object.location,
        json!({"region": "ap-guangzhou", "version": "2018-03-30"})
    );
    // A job applied from a spec observes back to the spec minus its secrets.
    assert_eq!(object.view, body_without_secrets(&running));
    assert!(
        h.plan(&running, remote_id.as_ref(), &recorded)
            .await
            .is_empty()
    );

    let completed = doc_2018("orders-2018", "completed");
    let applied = h.converge(&completed, &mut remote_id, &mut recorded).await;
    assert_eq!(applied, [Complete]);
    let observed = h.observe(&completed, remote_id.as_ref()).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Completed);
    assert!(
        h.plan(&completed, remote_id.as_ref(), &recorded)
            .await
            .is_empty()
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn lifecycle_2018_full_job_completes_by_itself_and_orphans_are_deleted() {
    let h = harness(EmulatorConfig::default()).await;
    let mut document = doc_2018("ledger-2018", "completed");
    document["spec"]["MigrateOption"]["MigrateType"] = json!(2);
    let mut remote_id = None;
    let mut recorded = Recorded::default();
    let applied = h.converge(&document, &mut remote_id, &mut recorded).await;
    assert_eq!(applied, [Create, Check, Start]);
    let observed = h.observe(&document, remote_id.as_ref()).await;
    assert_eq!(observed.object().unwrap().phase, Phase::Completed);

    // The spec leaves the set: nothing with Orphans::Keep, DeleteMigrateJob with it.
    let address = Address("ledger-2018".into());
    let mut request = PlanRequest {
        address: address.clone(),
        desired: None,
        observed: observed.clone(),
        recorded: recorded.clone(),
        orphans: migspec_provider::Orphans::Keep,
    };
    assert!(h.provider.plan(&request).unwrap().is_empty());
    request.orphans = migspec_provider::Orphans::Delete;
    let actions = h.provider.plan(&request).unwrap();
    assert_eq!(actions.iter().map(|a| a.kind).collect::<Vec<_>>(), [Delete]);
    let outcome = h
        .run_step(
            None,
            &address,
            "TencentDtsMigrateJob",
            &location(&document),
            &actions[0],
            &mut remote_id,
        )
        .await;
    assert!(
        matches!(
            outcome,
            StepOutcome::Done {
                observed: Observed::Missing { .. }
            }
        ),
        "{outcome:?}"
    );
    assert!(matches!(
        h.observe(&document, remote_id.as_ref()).await,
        Observed::Missing { .. }
    ));
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn lifecycle_2018_running_job_is_stopped_modified_checked_and_restarted() {
    let h = harness(EmulatorConfig::default()).await;
    let document = doc_2018("orders-change", "running");
    let mut remote_id = None;
    let mut recorded = Recorded::default();
    h.converge(&document, &mut remote_id, &mut recorded).await;

    let mut changed = document.clone();
    changed["spec"]["DatabaseInfo"] = json!([{"Database": "orders"}]);
    let actions = h.plan(&changed, remote_id.as_ref(), &recorded).await;
    let kinds: Vec<_> = actions.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [Stop, Modify, Check, Start]);
    assert_eq!(actions[0].disruptions, [Disruption::NeedsStop]);
    assert_eq!(actions[1].changes[0].field, "/spec/DatabaseInfo");
    let applied = h.converge(&changed, &mut remote_id, &mut recorded).await;
    assert_eq!(applied, [Stop, Modify, Check, Start]);
    let observed = h.observe(&changed, remote_id.as_ref()).await;
    assert_eq!(
        observed.object().unwrap().view,
        body_without_secrets(&changed)
    );

    // A new password alone is a sensitive modification.
    recorded.changed_secrets = vec!["/spec/SrcInfo/Password".into()];
    let actions = h.plan(&changed, remote_id.as_ref(), &recorded).await;
    assert_eq!(
        actions.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [Stop, Modify, Check, Start]
    );
    assert_eq!(
        actions[1].changes[0].after,
        migspec_provider::ChangeValue::Sensitive
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn lifecycle_2021_buy_configure_check_start_pause_continue_complete_delete() {
    let h = harness(EmulatorConfig::default()).await;
    let running = doc_2021("inventory-2021", "running");
    assert!(matches!(
        h.observe(&running, None).await,
        Observed::Missing { .. }
    ));
    let mut remote_id = None;
    let mut recorded = Recorded::default();
    assert_eq!(
        h.converge(&running, &mut remote_id, &mut recorded).await,
        [Create, Check, Start]
    );
    let observed = h.observe(&running, remote_id.as_ref()).await;
    let object = observed.object().unwrap();
    assert_eq!(object.raw_status, "readyComplete");
    assert_eq!(
        object.location,
        json!({"region": "ap-guangzhou", "version": "2021-12-06"})
    );
    assert_eq!(object.view, body_without_secrets(&running));
    // A poll (no per-job detail call) shows the same view.
    let polled = h
        .provider
        .poll(vec![migspec_provider::InFlightTarget {
            object: migspec_provider::InFlight {
                address: Address("inventory-2021".into()),
                remote_id: object.id.clone(),
            },
            kind: "TencentDtsMigrationJob".into(),
            location: object.location.clone(),
        }])
        .await
        .unwrap();
    assert_eq!(polled[0].object().unwrap().view, object.view);

    let paused = doc_2021("inventory-2021", "paused");
    assert_eq!(
        h.converge(&paused, &mut remote_id, &mut recorded).await,
        [Pause]
    );
    assert_eq!(
        h.observe(&paused, remote_id.as_ref())
            .await
            .object()
            .unwrap()
            .phase,
        Phase::Paused
    );

    let completed = doc_2021("inventory-2021", "completed");
    assert_eq!(
        h.converge(&completed, &mut remote_id, &mut recorded).await,
        [Continue, Complete]
    );
    let observed = h.observe(&completed, remote_id.as_ref()).await;
    assert_eq!(observed.object().unwrap().raw_status, "success");

    // Removed with deletionPolicy delete: isolate, then destroy.
    let address = Address("inventory-2021".into());
    let actions = h
        .provider
        .plan(&PlanRequest {
            address: address.clone(),
            desired: None,
            observed,
            recorded: recorded.clone(),
            orphans: migspec_provider::Orphans::Delete,
        })
        .unwrap();
    assert_eq!(
        actions.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [Delete, Delete]
    );
    for action in &actions {
        let outcome = h
            .run_step(
                None,
                &address,
                "TencentDtsMigrationJob",
                &location(&completed),
                action,
                &mut remote_id,
            )
            .await;
        assert!(matches!(outcome, StepOutcome::Done { .. }), "{outcome:?}");
    }
    assert!(matches!(
        h.observe(&completed, remote_id.as_ref()).await,
        Observed::Missing { .. }
    ));
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn lifecycle_2021_stop_from_running() {
    let h = harness(EmulatorConfig::default()).await;
    let mut document = doc_2021("stop-2021", "running");
    document["spec"]["MigrateOption"]["MigrateType"] = json!("full");
    let mut remote_id = None;
    let mut recorded = Recorded::default();
    h.converge(&document, &mut remote_id, &mut recorded).await;
    let stopped = {
        let mut stopped = document.clone();
        stopped["lifecycle"]["desired"] = json!("stopped");
        stopped
    };
    let phase = h
        .observe(&stopped, remote_id.as_ref())
        .await
        .object()
        .unwrap()
        .phase;
    assert_eq!(phase, Phase::Running);
    assert_eq!(
        h.converge(&stopped, &mut remote_id, &mut recorded).await,
        [Stop]
    );
    let observed = h.observe(&stopped, remote_id.as_ref()).await;
    assert_eq!(observed.object().unwrap().raw_status, "canceled");
    assert_eq!(observed.object().unwrap().phase, Phase::Stopped);
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn failed_check_fails_fast_with_the_checks_message() {
    let h = harness(
        EmulatorConfig::default().with_fault_rule(
            FaultRule::matching("*-badcheck")
                .check_fails(Some("目标库 orders 已存在 (target database orders exists)")),
        ),
    )
    .await;
    for document in [
        doc_2018("o-badcheck", "running"),
        doc_2021("i-badcheck", "running"),
    ] {
        let address = Address(document["metadata"]["name"].as_str().unwrap().to_owned());
        let kind = document["kind"].as_str().unwrap().to_owned();
        let mut remote_id = None;
        let actions = h.plan(&document, None, &Recorded::default()).await;
        assert_eq!(
            actions.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [Create, Check, Start]
        );
        h.run_step(
            Some(&document),
            &address,
            &kind,
            &location(&document),
            &actions[0],
            &mut remote_id,
        )
        .await;
        let outcome = h
            .run_step(
                Some(&document),
                &address,
                &kind,
                &location(&document),
                &actions[1],
                &mut remote_id,
            )
            .await;
        let StepOutcome::Failed { observed, failure } = outcome else {
            panic!("{address}: the check should fail");
        };
        assert_eq!(observed.object().unwrap().phase, Phase::CheckFailed);
        assert!(
            failure.message.contains("target database orders exists"),
            "{failure:?}"
        );
        // A start after it fails with the check's message, without calling StartMigrateJob.
        let outcome = h
            .run_step(
                Some(&document),
                &address,
                &kind,
                &location(&document),
                &actions[2],
                &mut remote_id,
            )
            .await;
        let StepOutcome::Failed { failure, .. } = outcome else {
            panic!("{address}: start after a failed check must fail");
        };
        assert!(
            failure.message.contains("target database orders exists"),
            "{failure:?}"
        );
        let observed = h.observe(&document, remote_id.as_ref()).await;
        let object = observed.object().unwrap();
        assert!(
            object
                .failure
                .as_ref()
                .unwrap()
                .message
                .contains("orders exists")
        );
        if kind == "TencentDtsMigrationJob" {
            assert!(
                object
                    .failure
                    .as_ref()
                    .unwrap()
                    .details
                    .iter()
                    .any(|line| line.contains("DstEmptyCheck")),
                "{:?}",
                object.failure
            );
        }
        // The next plan checks again, saying why.
        let actions = h
            .plan(&document, remote_id.as_ref(), &Recorded::default())
            .await;
        assert_eq!(actions[0].kind, Check);
        assert!(
            actions[0].reason.contains("orders exists"),
            "{}",
            actions[0].reason
        );
    }
    let stats = h.stats().await;
    assert_eq!(
        crate::support::count(&stats, "2018-03-30", "StartMigrateJob", "requests"),
        0
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn failed_migrations_are_resumed_until_max_attempts() {
    let h = harness(
        EmulatorConfig::default()
            .with_fault_rule(
                FaultRule::matching("r21-*")
                    .fail_at(40)
                    .resumes_needed(1)
                    .failure(FailureKind::Resumable),
            )
            .with_fault_rule(FaultRule::matching("r18-*").fail_at(40).resumes_needed(1)),
    )
    .await;
    let on_failure = json!({"action": "resume", "ResumeOption": "normal", "maxAttempts": 2});

    let mut document = doc_2021("r21-job", "running");
    document["lifecycle"]["onFailure"] = on_failure.clone();
    let address = Address("r21-job".into());
    let mut remote_id = None;
    let actions = h.plan(&document, None, &Recorded::default()).await;
    for action in &actions[..2] {
        h.run_step(
            Some(&document),
            &address,
            "TencentDtsMigrationJob",
            &location(&document),
            action,
            &mut remote_id,
        )
        .await;
    }
    let outcome = h
        .run_step(
            Some(&document),
            &address,
            "TencentDtsMigrationJob",
            &location(&document),
            &actions[2],
            &mut remote_id,
        )
        .await;
    let StepOutcome::Failed { failure, observed } = outcome else {
        panic!("the start should fail at 40%");
    };
    assert_eq!(observed.object().unwrap().raw_status, "resumableErr");
    assert!(failure.message.contains("Duplicate entry"), "{failure:?}");
    let mut recorded = Recorded::default();
    let actions = h.plan(&document, remote_id.as_ref(), &recorded).await;
    assert_eq!(actions.iter().map(|a| a.kind).collect::<Vec<_>>(), [Resume]);
    assert!(
        actions[0].reason.contains("attempt 1 of 2"),
        "{}",
        actions[0].reason
    );
    assert_eq!(
        h.converge(&document, &mut remote_id, &mut recorded).await,
        [Resume]
    );
    assert_eq!(recorded.attempts, 1);
    assert_eq!(
        h.observe(&document, remote_id.as_ref())
            .await
            .object()
            .unwrap()
            .phase,
        Phase::ReadyToComplete
    );

    // 2018: no ResumeMigrateJob; the failed job is checked and started again.
    let mut document = doc_2018("r18-job", "running");
    document["lifecycle"]["onFailure"] = on_failure;
    let address = Address("r18-job".into());
    let mut remote_id = None;
    let actions = h.plan(&document, None, &Recorded::default()).await;
    for action in &actions[..2] {
        h.run_step(
            Some(&document),
            &address,
            "TencentDtsMigrateJob",
            &location(&document),
            action,
            &mut remote_id,
        )
        .await;
    }
    let outcome = h
        .run_step(
            Some(&document),
            &address,
            "TencentDtsMigrateJob",
            &location(&document),
            &actions[2],
            &mut remote_id,
        )
        .await;
    assert!(matches!(outcome, StepOutcome::Failed { .. }), "{outcome:?}");
    let mut recorded = Recorded::default();
    assert_eq!(
        h.converge(&document, &mut remote_id, &mut recorded).await,
        [Resume, Start]
    );
    assert_eq!(
        h.observe(&document, remote_id.as_ref())
            .await
            .object()
            .unwrap()
            .raw_status,
        "8"
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn a_crashed_create_is_found_again_by_its_tag() {
    let h = harness(EmulatorConfig::default()).await;
    for document in [
        doc_2018("crash-2018", "configured"),
        doc_2021("crash-2021", "configured"),
    ] {
        let address = Address(document["metadata"]["name"].as_str().unwrap().to_owned());
        let kind = document["kind"].as_str().unwrap().to_owned();
        let actions = h.plan(&document, None, &Recorded::default()).await;
        let mut remote_id = None;
        h.run_step(
            Some(&document),
            &address,
            &kind,
            &location(&document),
            &actions[0],
            &mut remote_id,
        )
        .await;
        let created = remote_id.clone().unwrap();
        // The id was never recorded: observe without it finds the job by its tag.
        let observed = h.observe(&document, None).await;
        assert_eq!(observed.object().unwrap().id, created);
        // The marker it carries names its address.
        assert_eq!(
            observed.object().unwrap().marker.as_ref(),
            Some(observed.address())
        );
        assert!(
            h.plan(&document, None, &Recorded::default())
                .await
                .is_empty()
        );
        // Applying the create again (a re-run after the crash) does not buy a second job.
        let mut again = None;
        let outcome = h
            .run_step(
                Some(&document),
                &address,
                &kind,
                &location(&document),
                &actions[0],
                &mut again,
            )
            .await;
        assert!(matches!(outcome, StepOutcome::Done { .. }));
        assert_eq!(again, Some(created));
    }
    let stats = h.stats().await;
    assert_eq!(
        crate::support::count(&stats, "2018-03-30", "CreateMigrateJob", "ok"),
        1
    );
    assert_eq!(
        crate::support::count(&stats, "2021-12-06", "CreateMigrationService", "ok"),
        1
    );
    h.emulator.shutdown().await;
}

/// Issue 13, item 12: `lifecycle.CompleteMode` is sent with `CompleteMigrateJob`.
#[tokio::test]
async fn lifecycle_2021_complete_sends_the_complete_mode() {
    let h = harness(EmulatorConfig::default()).await;
    for (name, mode, status) in [
        ("cut-off", Some("immediately"), "success"),
        ("drained", Some("waitForSync"), "completing"),
        ("default", None, "completing"),
    ] {
        let running = doc_2021(name, "running");
        let mut remote_id = None;
        let mut recorded = Recorded::default();
        h.converge(&running, &mut remote_id, &mut recorded).await;
        let mut completed = doc_2021(name, "completed");
        if let Some(mode) = mode {
            completed["lifecycle"]["CompleteMode"] = json!(mode);
        }
        let actions = h.plan(&completed, remote_id.as_ref(), &recorded).await;
        assert_eq!(
            actions.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [Complete]
        );
        assert_eq!(
            actions[0].reason.contains("CompleteMode immediately"),
            mode == Some("immediately"),
            "{}",
            actions[0].reason
        );
        let address = Address(name.into());
        let outcome = h
            .provider
            .apply(migspec_provider::Step {
                address: address.clone(),
                action: actions[0].clone(),
                remote_id: remote_id.clone(),
                location: location(&completed),
                desired: Some(crate::support::desired(&completed)),
                idempotency_key: format!("{name}-complete"),
                observed: None,
            })
            .await
            .unwrap();
        assert!(
            !matches!(outcome, StepOutcome::Failed { .. }),
            "{outcome:?}"
        );
        // No time has passed: only `immediately` skips waiting for the sync.
        let observed = h.observe(&completed, remote_id.as_ref()).await;
        assert_eq!(observed.object().unwrap().raw_status, status, "{name}");
    }
    h.emulator.shutdown().await;
}
