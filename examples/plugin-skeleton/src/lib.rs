//! A minimal migspec provider plugin.
//!
//! It serves one kind, `ExampleBucketCopy`, whose "remote objects" are JSON files in the
//! directory its `dir` setting in `migspec.yaml` names (so it needs no cloud): enough to show every
//! call of the contract. Replace the file access with your API client.

use std::path::PathBuf;

use migspec_provider::plugin::messages::Configuration;
use migspec_provider::{
    Action, ActionKind, CallGate, CallKey, CallResult, Description, GateSlot, ImportRequest,
    Imported, InFlightTarget, KindDescription, ObserveRequest, Observed, Phase, Orphans, PlanError,
    PlanRequest, Problem, Provider, ProviderError, ProviderFuture, RateLimit, RemoteId,
    RemoteObject, Step, StepOutcome,
};
use serde_json::{Value, json};

const KIND: &str = "ExampleBucketCopy";

/// The provider: where its "remote objects" live.
struct Skeleton {
    dir: PathBuf,
    /// The host's call gate (given through `attach_gate`; an open gate until then). Every
    /// "request" (here a file access; in your plugin an HTTP request) asks it for a permit
    /// first and reports how it ended: the host paces your requests by the limits you
    /// declare in `describe`, and slows down when your API throttles. Never sleep, back off
    /// or retry in the plugin: the host does.
    gate: GateSlot,
}

impl Skeleton {
    /// Built from the plugin's entry in `migspec.yaml`, which the host sends in `configure`
    /// (settings and credentials come from there, never from the environment).
    fn configured(configuration: &Configuration) -> Result<Self, String> {
        let dir = configuration.setting("dir").map(PathBuf::from).ok_or(
            "set `settings: {dir: …}` for this plugin in migspec.yaml: a directory the plugin may write",
        )?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self {
            dir,
            gate: GateSlot::default(),
        })
    }

    /// One request under `action`: a permit from the host's gate, the request, the report.
    async fn request<T>(
        &self,
        action: &str,
        send: impl FnOnce() -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        // Keyed by (action, region, credential source): this API has neither a region nor
        // a credential, so both are fixed.
        let admission = self.gate.admit(CallKey::new("skeleton", action, "", "none")).await;
        let result = send();
        let outcome = match &result {
            Ok(_) => CallResult::Answered { error_code: None },
            // A missing file is the API's answer ("no such object"), not a failed request.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CallResult::Answered {
                error_code: Some("NotFound".into()),
            },
            Err(e) => CallResult::NoAnswer {
                message: e.to_string(),
            },
        };
        admission.finish(outcome, None);
        result
    }

    async fn read(&self, address: &migspec_provider::Address) -> Result<Observed, ProviderError> {
        let path = self.dir.join(format!("{}.json", address.0));
        match self.request("read_object", || std::fs::read(&path)).await {
            Ok(bytes) => {
                let view: Value =
                    serde_json::from_slice(&bytes).map_err(|e| ProviderError::Internal {
                        service: "skeleton".into(),
                        code: "Corrupt".into(),
                        message: format!("{}: {e}", path.display()),
                        request_id: None,
                    })?;
                Ok(Observed::Present {
                    address: address.clone(),
                    object: Box::new(RemoteObject {
                        id: RemoteId(address.0.clone()),
                        phase: Phase::Completed,
                        raw_status: "copied".into(),
                        location: json!({ "dir": self.dir }),
                        view,
                        progress: None,
                        failure: None,
                        revision: None,
                        marker: None,
                    }),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Observed::Missing {
                address: address.clone(),
            }),
            Err(e) => Err(ProviderError::Network {
                service: "skeleton".into(),
                endpoint: self.dir.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
}

impl Provider for Skeleton {
    fn describe(&self) -> Description {
        Description {
            name: "skeleton".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kinds: vec![KindDescription {
                kind: KIND.into(),
                schema: json!({
                    "type": "object",
                    "required": ["spec"],
                    "properties": {"spec": {
                        "type": "object",
                        "required": ["source", "target"],
                        "properties": {
                            "source": {"type": "string", "description": "The bucket to copy from."},
                            "target": {"type": "string", "description": "The bucket to copy into."}
                        }
                    }}
                }),
            }],
            rate_limits: vec![RateLimit {
                action: "*".into(),
                per_second: 10,
            }],
        }
    }

    fn validate(&self, _kind: &str, document: &Value) -> Vec<Problem> {
        let same = document.pointer("/spec/source") == document.pointer("/spec/target");
        if same {
            return vec![
                Problem::error(
                    "skeleton::same_bucket",
                    "/spec/target",
                    "`target` is the same bucket as `source`",
                    "copy into another bucket",
                )
                .labelled("same as `source`"),
            ];
        }
        Vec::new()
    }

    /// Takes the host's gate: every request of this provider is admitted through it.
    fn attach_gate(&self, gate: std::sync::Arc<dyn CallGate>) -> bool {
        self.gate.set(gate);
        true
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            // One read per object: a directory of files has no batched read. With a real
            // API, list or describe the whole batch in as few requests as it allows.
            let mut observed = Vec::with_capacity(request.targets.len());
            for target in &request.targets {
                observed.push(self.read(&target.address).await?);
            }
            Ok(observed)
        })
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let current = request.observed.object().map(|object| &object.view);
        Ok(match (&request.desired, current) {
            (Some(_), None) => vec![Action::new(ActionKind::Create, "not copied yet")],
            (Some(desired), Some(view)) if desired.document.get("spec") != Some(view) => {
                vec![Action::new(
                    ActionKind::Modify,
                    "the copy differs from the spec",
                )]
            }
            (None, Some(_)) if request.orphans == Orphans::Delete => {
                vec![Action::new(ActionKind::Delete, "spec removed")]
            }
            _ => Vec::new(),
        })
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        Box::pin(async move {
            // A create goes into the configured directory; every other step acts where the
            // object was observed (`step.location`), never where a new spec would put it.
            let dir = match step.action.kind {
                ActionKind::Create => self.dir.clone(),
                _ => step
                    .location
                    .get("dir")
                    .and_then(Value::as_str)
                    .map_or_else(|| self.dir.clone(), std::path::PathBuf::from),
            };
            let path = dir.join(format!("{}.json", step.address.0));
            let io = |e: std::io::Error| ProviderError::Network {
                service: "skeleton".into(),
                endpoint: path.display().to_string(),
                message: e.to_string(),
            };
            match (step.action.kind, &step.desired) {
                (ActionKind::Create | ActionKind::Modify, Some(desired)) => {
                    let spec = desired.document.get("spec").cloned().unwrap_or(Value::Null);
                    self.request("write_object", || std::fs::write(&path, spec.to_string()))
                        .await
                        .map_err(io)?;
                }
                (ActionKind::Delete, _) => match self
                    .request("delete_object", || std::fs::remove_file(&path))
                    .await
                {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(e)),
                },
                (other, _) => {
                    return Err(ProviderError::Rejected {
                        service: "skeleton".into(),
                        code: "Unsupported".into(),
                        message: format!("the skeleton cannot {}", other.verb()),
                        request_id: None,
                    });
                }
            }
            Ok(StepOutcome::Done {
                observed: self.read(&step.address).await?,
            })
        })
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            // One read per object, as in `observe`: files have no batched read.
            let mut observed = Vec::with_capacity(in_flight.len());
            for target in &in_flight {
                observed.push(self.read(&target.object.address).await?);
            }
            Ok(observed)
        })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        Box::pin(async move {
            let observed = self
                .read(&migspec_provider::Address(request.remote_id.0.clone()))
                .await?;
            let object = observed.object().ok_or_else(|| ProviderError::NotFound {
                service: "skeleton".into(),
                id: request.remote_id.0.clone(),
                code: "NotFound".into(),
            })?;
            Ok(Imported {
                document: json!({
                    "apiVersion": "migspec/v1",
                    "kind": KIND,
                    "metadata": {"name": request.address.0},
                    "spec": object.view,
                    "lifecycle": {"desired": "completed"}
                }),
                unreadable: Vec::new(),
            })
        })
    }
}

// The C symbols of the plugin ABI (and the host channel's, for the host's gate), around the
// constructor.
migspec_provider::export_plugin!(Skeleton::configured);
