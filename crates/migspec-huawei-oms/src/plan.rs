//! Planning (pure): the ordered actions that bring one task group from what OMS shows to
//! what its spec asks. The rules are documented on [`crate::HuaweiOmsProvider`].

use migspec_provider::{
    Action, ActionKind, ChangeValue, Disruption, FieldChange, Orphans, Phase, PlanError,
    PlanRequest, RemoteObject,
};
use migspec_spec::model::HuaweiOmsTaskGroup;
use migspec_spec::model::common::HuaweiFailureAction;
use migspec_spec::model::huawei::{ObjectOverwriteMode, TaskGroupDesired};
use serde_json::Value;

use crate::convert::{self, SECRET_POINTERS};

/// Plans one address. `default_project` is the configured project id, used when the spec
/// names none.
pub(crate) fn plan(
    request: &PlanRequest,
    default_project: Option<&str>,
) -> Result<Vec<Action>, PlanError> {
    let fail = |message: String| PlanError {
        address: request.address.clone(),
        message,
    };
    // Nothing is deleted or re-created from a state that disagrees with OMS.
    if let Some(object) = request.observed.object()
        && let Some(message) = location_disagreement(request, object)
    {
        return Err(fail(message));
    }
    let Some(desired) = &request.desired else {
        return Ok(orphan(request));
    };
    let document = convert::parse_document(&desired.document).map_err(fail)?;
    let Some(object) = request.observed.object() else {
        let mut actions = vec![create(
            &document,
            Vec::new(),
            format!(
                "the task group does not exist; lifecycle.desired is {}",
                document.lifecycle.desired
            ),
            false,
        )];
        actions.extend(after_create(&document));
        return Ok(actions);
    };
    let status = object.raw_status.parse::<u64>().ok();
    let secrets = secret_changes(request);

    if object.phase == Phase::Deleting {
        let mut actions = vec![Action::new(
            ActionKind::Delete,
            format!(
                "task group {} is {} outside migspec; wait until it is gone, then create it again",
                object.id,
                convert::status_text(status)
            ),
        )];
        actions.push(create(
            &document,
            secrets,
            "the spec still asks for the task group".to_owned(),
            false,
        ));
        actions.extend(after_create(&document));
        return Ok(actions);
    }

    let project = convert::spec_project_id(&document.spec, desired)
        .ok()
        .flatten()
        .or_else(|| default_project.map(str::to_owned));
    let changes = field_changes(&document, object, project.as_deref());
    let (in_place, recreate): (Vec<FieldChange>, Vec<FieldChange>) =
        changes.into_iter().partition(|change| change.in_place);

    if !recreate.is_empty() {
        let fields = recreate
            .iter()
            .map(|change| display_field(&change.field))
            .collect::<Vec<_>>()
            .join(", ");
        let mut actions = Vec::new();
        if matches!(object.phase, Phase::Running | Phase::Pausing) {
            actions.push(
                Action::new(
                    ActionKind::Pause,
                    format!(
                        "OMS refuses to delete a group that is {} (OMS.0063): pause it first",
                        convert::status_text(status)
                    ),
                )
                .disrupting(Disruption::ForcesRecreate),
            );
        }
        let mut delete = Action::new(
            ActionKind::Delete,
            format!(
                "{fields} cannot change in place (OMS updates only bandwidth_policy): task group {} is deleted and created again; its migration starts over",
                object.id
            ),
        )
        .disrupting(Disruption::ForcesRecreate);
        if matches!(object.phase, Phase::Running | Phase::Pausing) {
            delete = delete.disrupting(Disruption::NeedsPause);
        }
        actions.push(delete);
        let mut all_changes = recreate;
        all_changes.extend(in_place.into_iter().map(|change| FieldChange {
            in_place: false,
            ..change
        }));
        all_changes.extend(secrets);
        // A group that has migrated leaves its objects at the destination; the new group
        // migrates them again over those, unless it never overwrites.
        let overwrites = object.phase.has_migrated()
            && document.spec.object_overwrite_mode != Some(ObjectOverwriteMode::NoOverwrite);
        let mut recreated = create(
            &document,
            all_changes,
            if overwrites {
                format!(
                    "re-created because {fields} changed; the new group migrates everything again over the objects the old one put at the destination"
                )
            } else {
                format!("re-created because {fields} changed")
            },
            true,
        );
        if overwrites {
            recreated = recreated.disrupting(Disruption::OverwritesTarget);
        }
        actions.push(recreated);
        actions.extend(after_create(&document));
        return Ok(actions);
    }

    let mut actions = Vec::new();
    if !in_place.is_empty() && object.phase != Phase::Completed {
        actions.push(
            Action::new(
                ActionKind::Modify,
                "bandwidth_policy changed: OMS updates it in place (update_task_group), the migration goes on",
            )
            .with_changes(in_place),
        );
    }
    actions.extend(lifecycle(request, &document, object, status)?);

    if !secrets.is_empty() {
        let names = secrets
            .iter()
            .map(|change| display_field(&change.field))
            .collect::<Vec<_>>()
            .join(", ");
        let carrier = actions
            .iter_mut()
            .find(|action| matches!(action.kind, ActionKind::Start | ActionKind::Retry));
        if let Some(carrier) = carrier {
            carrier.reason.push_str(&format!(
                "; it sends the changed {names} (OMS takes keys only at create, start and retry)"
            ));
            carrier.changes.extend(secrets);
        } else if let Some(modify) = actions
            .iter_mut()
            .find(|action| action.kind == ActionKind::Modify)
        {
            modify.reason.push_str(&format!(
                "; the changed {names} are kept for the next start or retry (OMS takes keys only at create, start and retry)"
            ));
            modify.changes.extend(secrets);
        } else {
            actions.insert(
                0,
                Action::new(
                    ActionKind::Modify,
                    format!(
                        "{names} changed: nothing is sent now and nothing is re-created, because OMS takes keys only at create, start and retry; the new values go with the next start or retry"
                    ),
                )
                .with_changes(secrets),
            );
        }
    }
    Ok(actions)
}

/// Where the state (or the observation) says a found group lives, when OMS says otherwise.
///
/// OMS requires a group's `dst_node.region` to be the region of the endpoint it was created
/// at, so the group itself says which region it lives in. A group found by id or by its
/// marker whose own region is not the one the state records (or that was found elsewhere
/// than the state records) means the state is wrong: planning from it would see a region
/// change and delete and re-create a group that is fine, so it is refused instead.
fn location_disagreement(request: &PlanRequest, object: &RemoteObject) -> Option<String> {
    let text = |value: &Value, key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let address = &request.address;
    let id = &object.id;
    let way_out = |region: &str| {
        format!(
            "nothing is planned for it, so that a wrong state deletes or re-creates nothing: fix the state with `migspec state rm {address}` and `migspec import HuaweiOmsTaskGroup {address} {id} --region {region}`"
        )
    };
    // The recorded location speaks for the recorded group only: after a delete the state
    // keeps the old location without an id, and a re-create elsewhere is then found by its
    // marker where the spec puts it.
    let null = Value::Null;
    let recorded = if request.recorded.remote_id.as_ref() == Some(id) {
        &request.recorded.location
    } else {
        &null
    };
    for key in ["region", "project_id"] {
        if let (Some(state), Some(observed)) = (text(recorded, key), text(&object.location, key))
            && state != observed
        {
            return Some(format!(
                "the state records task group {id} at {key} {state}, but it was observed at {key} {observed}; {}",
                way_out(&text(&object.location, "region").unwrap_or_default())
            ));
        }
    }
    let (claimed, from_state) = match text(recorded, "region") {
        Some(region) => (region, true),
        None => (text(&object.location, "region")?, false),
    };
    let own = object
        .view
        .pointer("/dst_node/region")
        .and_then(Value::as_str)
        .filter(|region| !region.is_empty())?;
    (claimed != own).then(|| {
        let claim = if from_state {
            format!("the state says task group {id} lives in region {claimed}")
        } else {
            format!("task group {id} was found by a listing in region {claimed}")
        };
        format!(
            "{claim}, but OMS reports it in region {own} (its dst_node.region, the region a group lives in); {}",
            way_out(own)
        )
    })
}

/// The lifecycle actions from the group's phase to `lifecycle.desired`.
fn lifecycle(
    request: &PlanRequest,
    document: &HuaweiOmsTaskGroup,
    object: &RemoteObject,
    status: Option<u64>,
) -> Result<Vec<Action>, PlanError> {
    let desired = document.lifecycle.desired;
    let wants_migration = matches!(
        desired,
        TaskGroupDesired::Running | TaskGroupDesired::Completed
    );
    let state = convert::status_text(status);
    let actions = match object.phase {
        Phase::Paused if wants_migration => vec![Action::new(
            ActionKind::Start,
            format!("the group is {state}; lifecycle.desired is {desired}"),
        )],
        Phase::Pausing if wants_migration => vec![
            Action::new(
                ActionKind::Pause,
                format!("the group is {state}; wait until it is paused before starting it"),
            ),
            Action::new(ActionKind::Start, format!("lifecycle.desired is {desired}")),
        ],
        Phase::Creating | Phase::Running if desired == TaskGroupDesired::Paused => {
            vec![Action::new(
                ActionKind::Pause,
                format!("the group is {state}; lifecycle.desired is paused"),
            )]
        }
        Phase::Failed if wants_migration => vec![retry(request, document, object, state)?],
        Phase::Unknown => {
            return Err(PlanError {
                address: request.address.clone(),
                message: format!(
                    "task group {} reports status `{}`, which OMS does not document; look at it in the console before planning again",
                    object.id, object.raw_status
                ),
            });
        }
        _ => Vec::new(),
    };
    Ok(actions)
}

fn retry(
    request: &PlanRequest,
    document: &HuaweiOmsTaskGroup,
    object: &RemoteObject,
    state: &str,
) -> Result<Action, PlanError> {
    let cause = object
        .failure
        .as_ref()
        .map_or_else(String::new, |failure| match &failure.code {
            Some(code) => format!(" ({code}: {})", failure.message),
            None => format!(" ({})", failure.message),
        });
    let on_failure = document.lifecycle.on_failure.as_ref();
    let Some(on_failure) = on_failure.filter(|f| f.action == HuaweiFailureAction::Retry) else {
        return Err(PlanError {
            address: request.address.clone(),
            message: format!(
                "task group {} {state}{cause}; lifecycle.onFailure does not retry: fix the cause, then set `onFailure: {{action: retry}}`, change the spec to re-create the group, or delete it",
                object.id
            ),
        });
    };
    let max_attempts = on_failure.max_attempts.unwrap_or(1);
    let attempts = request.recorded.attempts;
    if attempts >= max_attempts {
        return Err(PlanError {
            address: request.address.clone(),
            message: format!(
                "task group {} {state}{cause}; all {max_attempts} retries of onFailure.maxAttempts are spent: fix the cause and raise maxAttempts, or delete the group",
                object.id
            ),
        });
    }
    let failed_only = on_failure.migrate_failed_object == Some(true);
    let mode = if failed_only {
        "only the failed objects are migrated again"
    } else {
        "the whole group is migrated again, skipping objects already at the destination"
    };
    let mut action = Action::new(
        ActionKind::Retry,
        format!(
            "the group {state}{cause}; onFailure retries (attempt {} of {max_attempts}): {mode}",
            attempts + 1
        ),
    );
    if !failed_only
        && document.spec.object_overwrite_mode == Some(ObjectOverwriteMode::FullOverwrite)
    {
        action = action.disrupting(Disruption::OverwritesTarget);
    }
    Ok(action)
}

/// A create, marked when it overwrites the target.
fn create(
    document: &HuaweiOmsTaskGroup,
    changes: Vec<FieldChange>,
    reason: String,
    recreate: bool,
) -> Action {
    let mut action = Action::new(ActionKind::Create, reason).with_changes(changes);
    if recreate {
        action = action.disrupting(Disruption::ForcesRecreate);
    }
    if document.spec.object_overwrite_mode == Some(ObjectOverwriteMode::FullOverwrite) {
        action = action.disrupting(Disruption::OverwritesTarget);
    }
    action
}

/// What follows a create: a new group runs by itself, so only `paused` needs a step.
fn after_create(document: &HuaweiOmsTaskGroup) -> Vec<Action> {
    if document.lifecycle.desired == TaskGroupDesired::Paused {
        vec![Action::new(
            ActionKind::Pause,
            "a new group starts migrating at once; lifecycle.desired is paused",
        )]
    } else {
        Vec::new()
    }
}

/// The plan for a remote group whose spec left the set.
fn orphan(request: &PlanRequest) -> Vec<Action> {
    let Some(object) = request.observed.object() else {
        return Vec::new();
    };
    if request.orphans == Orphans::Keep {
        return Vec::new();
    }
    let status = object.raw_status.parse::<u64>().ok();
    let state = convert::status_text(status);
    match object.phase {
        Phase::Deleting => vec![Action::new(
            ActionKind::Delete,
            format!(
                "the spec was removed; task group {} is already {state}: wait until it is gone",
                object.id
            ),
        )],
        Phase::Running | Phase::Pausing => vec![
            Action::new(
                ActionKind::Pause,
                format!("OMS refuses to delete a group that is {state} (OMS.0063): pause it first"),
            ),
            Action::new(
                ActionKind::Delete,
                format!(
                    "the spec was removed and its deletion policy deletes task group {}",
                    object.id
                ),
            )
            .disrupting(Disruption::NeedsPause),
        ],
        _ => vec![Action::new(
            ActionKind::Delete,
            format!(
                "the spec was removed and its deletion policy deletes task group {} ({state})",
                object.id
            ),
        )],
    }
}

/// Secret fields whose value changed since the last apply (never their values).
fn secret_changes(request: &PlanRequest) -> Vec<FieldChange> {
    SECRET_POINTERS
        .iter()
        .filter(|pointer| {
            request
                .recorded
                .changed_secrets
                .iter()
                .any(|changed| changed == *pointer)
        })
        .map(|pointer| FieldChange {
            field: (*pointer).to_owned(),
            before: ChangeValue::Sensitive,
            after: ChangeValue::Sensitive,
            in_place: true,
        })
        .collect()
}

/// `/spec/src_node/bucket` → `src_node.bucket`.
fn display_field(pointer: &str) -> String {
    pointer.trim_start_matches("/spec/").replace('/', ".")
}

/// Field-level differences between the spec and the observed view.
pub(crate) fn field_changes(
    document: &HuaweiOmsTaskGroup,
    object: &RemoteObject,
    project: Option<&str>,
) -> Vec<FieldChange> {
    let desired = convert::desired_view(&document.spec);
    let mut changes = Vec::new();
    diff(&desired, &object.view, "", &mut changes);
    let observed_project = object.location.get("project_id").and_then(Value::as_str);
    if let (Some(wanted), Some(actual)) = (project, observed_project)
        && wanted != actual
    {
        changes.push(FieldChange {
            field: "/spec/project_id".to_owned(),
            before: ChangeValue::Value(Value::String(actual.to_owned())),
            after: ChangeValue::Value(Value::String(wanted.to_owned())),
            in_place: false,
        });
    }
    changes
}

fn change_value(value: Option<&Value>) -> ChangeValue {
    value.map_or(ChangeValue::Absent, |value| {
        ChangeValue::Value(value.clone())
    })
}

/// Compares spec-shaped objects. An observed `null` is a field the API did not return: it
/// is unknown and never a change.
fn diff(desired: &Value, observed: &Value, path: &str, changes: &mut Vec<FieldChange>) {
    let empty = serde_json::Map::new();
    let desired_map = desired.as_object().unwrap_or(&empty);
    let observed_map = observed.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = desired_map.keys().collect();
    keys.extend(
        observed_map
            .keys()
            .filter(|key| !desired_map.contains_key(*key)),
    );
    for key in keys {
        let wanted = desired_map.get(key);
        let actual = observed_map.get(key);
        if actual.is_some_and(Value::is_null) {
            continue;
        }
        let pointer = format!("{path}/{key}");
        if let (Some(Value::Object(_)), Some(Value::Object(_))) = (wanted, actual) {
            diff(
                wanted.unwrap_or(&Value::Null),
                actual.unwrap_or(&Value::Null),
                &pointer,
                changes,
            );
        } else if wanted != actual {
            changes.push(FieldChange {
                field: format!("/spec{pointer}"),
                before: change_value(actual),
                after: change_value(wanted),
                in_place: pointer == "/bandwidth_policy",
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use migspec_provider::{
        Address, DesiredSpec, Failure, Observed, Recorded, RemoteId, RemoteObject,
    };
    use serde_json::json;

    use super::*;

    fn document(desired: &str, on_failure: Value) -> Value {
        json!({
            "apiVersion": "migspec/v1",
            "kind": "HuaweiOmsTaskGroup",
            "metadata": {"name": "group"},
            "spec": {
                "region": "cn-north-4",
                "src_node": {"cloud_type": "Tencent", "app_id": "125", "region": "ap-guangzhou", "bucket": "src",
                             "ak": {"fromEnv": "A"}, "sk": {"fromEnv": "B"}},
                "dst_node": {"region": "cn-north-4", "bucket": "dst", "ak": {"fromEnv": "C"}, "sk": {"fromEnv": "D"}},
                "bandwidth_policy": [{"start": "00:00", "end": "06:00", "max_bandwidth": 10}]
            },
            "lifecycle": {"desired": desired, "onFailure": on_failure}
        })
    }

    fn spec(desired: &str) -> DesiredSpec {
        spec_with(document(
            desired,
            json!({"action": "retry", "maxAttempts": 2}),
        ))
    }

    fn spec_with(document: Value) -> DesiredSpec {
        DesiredSpec {
            address: Address("group".into()),
            kind: "HuaweiOmsTaskGroup".into(),
            document,
            secrets: std::collections::BTreeMap::new(),
        }
    }

    /// A group that matches `desired` exactly, in `status`.
    fn observed(desired: &DesiredSpec, status: u64) -> Observed {
        let typed = convert::parse_document(&desired.document).unwrap();
        Observed::Present {
            address: Address("group".into()),
            object: Box::new(RemoteObject {
                id: RemoteId("g-1".into()),
                phase: convert::phase(Some(status)),
                raw_status: status.to_string(),
                location: json!({"region": "cn-north-4", "project_id": "p"}),
                view: convert::desired_view(&typed.spec),
                progress: None,
                failure: matches!(status, 4 | 5).then(|| Failure {
                    code: Some("TRF.0001".into()),
                    message: "system error".into(),
                    details: Vec::new(),
                }),
                revision: None,
                marker: Some(Address("group".into())),
            }),
        }
    }

    fn request(desired: Option<&DesiredSpec>, observed: Observed) -> PlanRequest {
        PlanRequest {
            address: Address("group".into()),
            desired: desired.cloned(),
            observed,
            recorded: Recorded::default(),
            orphans: Orphans::Delete,
        }
    }

    fn kinds(request: &PlanRequest) -> Vec<&'static str> {
        plan(request, Some("p"))
            .unwrap()
            .iter()
            .map(|action| action.kind.verb())
            .collect()
    }

    fn missing() -> Observed {
        Observed::Missing {
            address: Address("group".into()),
        }
    }

    #[test]
    fn every_phase_and_desired_state() {
        let cases: &[(&str, Option<u64>, &[&str])] = &[
            ("running", None, &["create"]),
            ("completed", None, &["create"]),
            ("paused", None, &["create", "pause"]),
            ("running", Some(0), &[]),
            ("paused", Some(0), &["pause"]),
            ("running", Some(1), &[]),
            ("completed", Some(2), &[]),
            ("paused", Some(2), &["pause"]),
            ("running", Some(3), &["start"]),
            ("completed", Some(3), &["start"]),
            ("paused", Some(3), &[]),
            ("running", Some(4), &["retry"]),
            ("completed", Some(5), &["retry"]),
            ("paused", Some(5), &[]),
            ("running", Some(6), &[]),
            ("paused", Some(6), &[]),
            ("running", Some(7), &["pause", "start"]),
            ("paused", Some(7), &[]),
            ("running", Some(8), &["delete", "create"]),
            ("paused", Some(9), &["delete", "create", "pause"]),
        ];
        for (desired, status, expected) in cases {
            let desired_spec = spec(desired);
            let observed = status.map_or_else(missing, |status| observed(&desired_spec, status));
            assert_eq!(
                kinds(&request(Some(&desired_spec), observed)),
                *expected,
                "desired {desired}, status {status:?}"
            );
        }
    }

    #[test]
    fn orphans_are_deleted_only_when_asked_and_paused_first() {
        let any = spec("running");
        for (status, expected) in [
            (2, &["pause", "delete"][..]),
            (7, &["pause", "delete"]),
            (3, &["delete"]),
            (5, &["delete"]),
            (6, &["delete"]),
            (8, &["delete"]),
        ] {
            assert_eq!(
                kinds(&request(None, observed(&any, status))),
                expected,
                "status {status}"
            );
        }
        let mut keep = request(None, observed(&any, 2));
        keep.orphans = Orphans::Keep;
        assert_eq!(kinds(&keep), Vec::<&str>::new());
        assert_eq!(kinds(&request(None, missing())), Vec::<&str>::new());
    }

    #[test]
    fn failures_without_retries_left_are_plan_errors() {
        let no_retry = spec_with(document("running", json!({"action": "fail"})));
        let error = plan(&request(Some(&no_retry), observed(&no_retry, 5)), None).unwrap_err();
        assert!(error.message.contains("does not retry"), "{error}");
        assert!(error.message.contains("TRF.0001: system error"), "{error}");

        let retrying = spec("running");
        let mut spent = request(Some(&retrying), observed(&retrying, 4));
        spent.recorded.attempts = 2;
        let error = plan(&spent, None).unwrap_err();
        assert!(error.message.contains("maxAttempts"), "{error}");
        spent.recorded.attempts = 1;
        let actions = plan(&spent, None).unwrap();
        assert!(
            actions[0].reason.contains("attempt 2 of 2"),
            "{}",
            actions[0].reason
        );
        assert!(
            actions[0]
                .reason
                .contains("skipping objects already at the destination"),
            "{}",
            actions[0].reason
        );
    }

    #[test]
    fn unknown_statuses_are_plan_errors() {
        let desired = spec("running");
        let error = plan(&request(Some(&desired), observed(&desired, 42)), None).unwrap_err();
        assert!(error.message.contains("`42`"), "{error}");
    }

    #[test]
    fn overwrite_modes_mark_the_actions_that_overwrite() {
        let mut document = document("running", json!({"action": "retry"}));
        document["spec"]["object_overwrite_mode"] = json!("FULL_OVERWRITE");
        let desired = spec_with(document);
        let create = plan(&request(Some(&desired), missing()), None).unwrap();
        assert_eq!(create[0].disruptions, [Disruption::OverwritesTarget]);
        let retry = plan(&request(Some(&desired), observed(&desired, 5)), None).unwrap();
        assert_eq!(retry[0].disruptions, [Disruption::OverwritesTarget]);
    }

    #[test]
    fn the_view_compares_case_and_unknowns_leniently() {
        let desired = spec("running");
        let mut observed = observed(&desired, 2);
        if let Observed::Present { object, .. } = &mut observed {
            // A field the API did not return is unknown, never a change.
            object.view["enable_kms"] = Value::Null;
            object.view["src_node"]["app_id"] = json!("125");
        }
        let mut with_kms = desired.document.clone();
        with_kms["spec"]["enable_kms"] = json!(true);
        let with_kms = spec_with(with_kms);
        assert_eq!(
            kinds(&request(Some(&with_kms), observed)),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_bandwidth_change_of_a_completed_group_is_moot() {
        let desired = spec("completed");
        let mut observed = observed(&desired, 6);
        if let Observed::Present { object, .. } = &mut observed {
            object.view["bandwidth_policy"] = json!([]);
        }
        assert_eq!(
            kinds(&request(Some(&desired), observed)),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_project_or_region_change_re_creates() {
        let desired = spec("running");
        let mut moved = observed(&desired, 3);
        if let Observed::Present { object, .. } = &mut moved {
            object.location = json!({"region": "cn-north-4", "project_id": "other"});
        }
        let actions = plan(&request(Some(&desired), moved), Some("p")).unwrap();
        assert_eq!(
            actions.iter().map(|a| a.kind.verb()).collect::<Vec<_>>(),
            ["delete", "create"]
        );
        assert_eq!(actions[1].changes[0].field, "/spec/project_id");

        let mut document = desired.document.clone();
        document["spec"]["region"] = json!("cn-east-3");
        document["spec"]["dst_node"]["region"] = json!("cn-east-3");
        let elsewhere = spec_with(document);
        let actions = plan(&request(Some(&elsewhere), observed(&desired, 3)), Some("p")).unwrap();
        let fields: Vec<&str> = actions[1]
            .changes
            .iter()
            .map(|change| change.field.as_str())
            .collect();
        assert_eq!(fields, ["/spec/region", "/spec/dst_node/region"]);
    }

    /// Issue 9 item 15: a re-created group that had migrated migrates again over the
    /// objects at the destination (unless it never overwrites); a waiting one does not.
    #[test]
    fn re_creates_of_groups_that_migrated_overwrite_the_target() {
        let desired = spec("completed");
        let mut document = desired.document.clone();
        document["spec"]["region"] = json!("cn-east-3");
        document["spec"]["dst_node"]["region"] = json!("cn-east-3");
        let elsewhere = spec_with(document.clone());
        for (status, overwrites) in [
            (0, false),
            (1, true),
            (2, true),
            (3, true),
            (5, true),
            (6, true),
        ] {
            let actions = plan(
                &request(Some(&elsewhere), observed(&desired, status)),
                Some("p"),
            )
            .unwrap();
            let create = actions
                .iter()
                .find(|action| action.kind == ActionKind::Create)
                .unwrap_or_else(|| panic!("{status}: {actions:?}"));
            assert!(create.disruptions.contains(&Disruption::ForcesRecreate));
            assert_eq!(
                create.disruptions.contains(&Disruption::OverwritesTarget),
                overwrites,
                "status {status}: {create:?}"
            );
        }
        // NO_OVERWRITE keeps what the old group migrated.
        document["spec"]["object_overwrite_mode"] = json!("NO_OVERWRITE");
        let keeping = spec_with(document);
        let actions = plan(&request(Some(&keeping), observed(&desired, 6)), Some("p")).unwrap();
        let create = actions
            .iter()
            .find(|action| action.kind == ActionKind::Create)
            .unwrap();
        assert!(!create.disruptions.contains(&Disruption::OverwritesTarget));
    }

    /// Issue 9 item 8: a state whose region disagrees with the group OMS found is refused,
    /// never planned as a region change (delete and re-create of a completed group).
    #[test]
    fn a_state_region_that_disagrees_with_the_group_is_a_plan_error() {
        let desired = spec("completed");
        // The state says cn-east-3; the group was listed there (the runner observes where
        // the state says) but its destination, hence its region, is cn-north-4.
        let mut wrong = observed(&desired, 6);
        if let Observed::Present { object, .. } = &mut wrong {
            object.location = json!({"region": "cn-east-3", "project_id": "p"});
            object.view["region"] = json!("cn-east-3");
        }
        let mut asked = request(Some(&desired), wrong.clone());
        asked.recorded.remote_id = Some(RemoteId("g-1".into()));
        asked.recorded.location = json!({"region": "cn-east-3", "project_id": "p"});
        let error = plan(&asked, Some("p")).unwrap_err();
        assert_eq!(error.address, Address("group".into()));
        for part in [
            "g-1",
            "cn-east-3",
            "cn-north-4",
            "migspec state rm group",
            "migspec import HuaweiOmsTaskGroup group g-1 --region cn-north-4",
        ] {
            assert!(error.message.contains(part), "{part}: {}", error.message);
        }
        // Without a recorded location the observation's location is what is claimed.
        let mut unrecorded = request(Some(&desired), wrong.clone());
        unrecorded.recorded.location = Value::Null;
        assert!(plan(&unrecorded, Some("p")).is_err());
        // A spec that left the set is not deleted from such a state either.
        let mut orphan = request(None, wrong);
        orphan.recorded.remote_id = Some(RemoteId("g-1".into()));
        orphan.recorded.location = json!({"region": "cn-east-3", "project_id": "p"});
        assert!(plan(&orphan, Some("p")).is_err());

        // A state recording another place than where the group was observed is refused.
        let mut elsewhere = request(Some(&desired), observed(&desired, 6));
        elsewhere.recorded.remote_id = Some(RemoteId("g-1".into()));
        elsewhere.recorded.location = json!({"region": "cn-north-4", "project_id": "q"});
        let error = plan(&elsewhere, Some("p")).unwrap_err();
        assert!(error.message.contains("project_id q"), "{}", error.message);

        // After a region change deleted the old group, the state keeps its location without
        // an id; the new group, found by its marker, plans normally (crash recovery).
        let mut recreated = request(Some(&desired), observed(&desired, 6));
        recreated.recorded.remote_id = None;
        recreated.recorded.location = json!({"region": "cn-east-3", "project_id": "old"});
        assert_eq!(plan(&recreated, Some("p")).unwrap(), []);
        recreated.recorded.remote_id = Some(RemoteId("g-0".into()));
        assert_eq!(plan(&recreated, Some("p")).unwrap(), []);

        // An agreeing state plans as before: nothing for a completed group.
        let mut agreeing = request(Some(&desired), observed(&desired, 6));
        agreeing.recorded.location = json!({"region": "cn-north-4", "project_id": "p"});
        assert_eq!(plan(&agreeing, Some("p")).unwrap(), []);
    }

    #[test]
    fn changed_keys_alone_plan_an_explanation_not_a_re_create() {
        let desired = spec("running");
        let mut changed = request(Some(&desired), observed(&desired, 2));
        changed.recorded.changed_secrets =
            vec!["/spec/dst_node/sk".into(), "/spec/not-a-secret".into()];
        let actions = plan(&changed, None).unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].kind, ActionKind::Modify);
        assert!(actions[0].disruptions.is_empty());
        assert_eq!(actions[0].changes.len(), 1);
        assert_eq!(actions[0].changes[0].after, ChangeValue::Sensitive);

        // Riding along a retry.
        let mut failed = request(Some(&desired), observed(&desired, 5));
        failed.recorded.changed_secrets = vec!["/spec/src_node/ak".into()];
        let actions = plan(&failed, None).unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].kind, ActionKind::Retry);
        assert!(
            actions[0].reason.contains("src_node.ak"),
            "{}",
            actions[0].reason
        );
    }

    #[test]
    fn invalid_documents_are_plan_errors() {
        let broken = spec_with(json!({"kind": "HuaweiOmsTaskGroup", "spec": {}}));
        let error = plan(&request(Some(&broken), missing()), None).unwrap_err();
        assert!(error.message.contains("migspec validate"), "{error}");
    }
}
