//! The plugin protocol's messages: one [`Request`] enum and one [`Response`] enum, shared by
//! the host ([`super::host`]) and the guest ([`super::guest`]), serialised as JSON.
//!
//! The messages do not depend on the transport: today they cross the C ABI of
//! [`super`] (a JSON buffer each way); a subprocess transport (one JSON message per line on
//! stdin/stdout) could carry the same [`Envelope`]s without changing a provider.
//!
//! # Versions and the compatibility rule
//!
//! The **protocol version** (an integer, [`PROTOCOL_VERSION`]) is negotiated at load time and
//! is independent of migspec's own version and of the C ABI's version
//! ([`super::ABI_VERSION`], which covers only the three symbols and the buffer layout):
//!
//! 1. The first message is always a [`Request::Handshake`] with the host's supported range
//!    (`min`..=`max`); the guest answers [`Response::Handshake`] with the highest version both
//!    support, or [`Response::Incompatible`] with its own range. These two messages, and the
//!    `protocol`/`op`/`body` and `result`/`body` keys of the envelope, never change.
//! 2. Within one protocol version, messages only gain fields that are optional
//!    (`#[serde(default)]`) and variants the other side is never sent unasked; a reader
//!    ignores fields it does not know. Renaming or removing a field, changing its meaning or
//!    making a field required needs the next version.
//! 3. A host keeps accepting plugins back to [`MIN_PROTOCOL_VERSION`]; raising that minimum
//!    is a breaking change of migspec, said in its release notes.
//!
//! # Values that are absent, unknown or sensitive
//!
//! Where a message carries a value that may be absent, not known yet, or secret (the
//! settings and credentials of [`Configuration`]), it is a [`WireValue`], tagged explicitly
//! instead of relying on `null` or a missing key: `{"absent": true}`, `{"unknown": true}`,
//! `{"sensitive": "…"}`, `{"value": …}`. A sensitive value is never printed by either side
//! (its `Debug` is redacted) and is never written to a plan file or to state. In plans,
//! [`ChangeValue`](crate::ChangeValue) plays the same role for field changes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Action, CallKey, CallReport, CallResult, Description, DesiredSpec, ImportRequest, Imported,
    InFlightTarget, ObserveRequest, Observed, PlanError, PlanRequest, Problem, ProviderError, Step,
    StepOutcome,
};

/// The newest protocol version this build speaks.
///
/// - **2**: the host's requests and the plugin's answers ([`Request`], [`Response`]).
/// - **3**: adds the host's call gate for the plugin's own requests: [`Request::AttachGate`]
///   and the guest→host messages [`HostRequest`] / [`HostResponse`] (`acquire` a permit
///   before each API request, `report` how it ended, `release` the permit once it is over —
///   the runner's concurrency bound), so that the runner paces a plugin's
///   requests one by one, exactly as it paces a built-in provider's; and the error kind
///   `busy` (a refusal a repeat cures), sent to a protocol 2 host as `internal`.
///
/// A plugin that speaks only protocol 2 still loads (the host accepts
/// [`MIN_PROTOCOL_VERSION`]); it is never sent `attach_gate` and never asked for a host
/// channel, and the runner admits each of its trait calls as a whole under its declared
/// limits, as before protocol 3. A plugin built with this crate speaks 2..=3, so an older
/// host (2..=2) negotiates 2 and the plugin's requests are admitted without a host gate.
pub const PROTOCOL_VERSION: u32 = 3;
/// The oldest protocol version this build still accepts (1 was the un-negotiated JSON of
/// the first ABI, which had no handshake).
pub const MIN_PROTOCOL_VERSION: u32 = 2;
/// The first protocol version with the host's call gate ([`Request::AttachGate`],
/// [`HostRequest`]).
pub const HOST_GATE_PROTOCOL_VERSION: u32 = 3;

/// A message with the protocol version it is written in (0 for the handshake, which is
/// the same in every version).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The negotiated protocol version.
    pub protocol: u32,
    /// The message.
    #[serde(flatten)]
    pub message: T,
}

/// A value in a message, with absence, unknownness and secrecy explicit.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireValue {
    /// No value was given (a setting left out, an environment variable that is unset).
    Absent(bool),
    /// A value exists but is not known yet (computed by the cloud later).
    Unknown(bool),
    /// A secret: use it, never show or log it.
    Sensitive(String),
    /// A plain value.
    Value(Value),
}

impl WireValue {
    /// [`WireValue::Absent`].
    #[must_use]
    pub const fn absent() -> Self {
        Self::Absent(true)
    }

    /// The text of a plain string or a sensitive value; `None` when absent, unknown or not
    /// a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Sensitive(text) => Some(text),
            Self::Value(Value::String(text)) => Some(text),
            _ => None,
        }
    }
}

impl std::fmt::Debug for WireValue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absent(_) => formatter.write_str("Absent"),
            Self::Unknown(_) => formatter.write_str("Unknown"),
            Self::Sensitive(_) => formatter.write_str("Sensitive(<redacted>)"),
            Self::Value(value) => write!(formatter, "Value({value})"),
        }
    }
}

/// What `configure` carries: the plugin's entry in `migspec.yaml`, read and resolved by the
/// host (credentials from the references written there, not from the plugin's environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    /// `settings:` (endpoints, regions, directories…), as plain values.
    #[serde(default)]
    pub settings: BTreeMap<String, WireValue>,
    /// `credentials:`, each resolved by the host: [`WireValue::Sensitive`], or
    /// [`WireValue::Absent`] when the variable or file it names is not there.
    #[serde(default)]
    pub credentials: BTreeMap<String, WireValue>,
    /// When the host runs against its local emulator (`--emulator`): where it listens and
    /// the credentials it accepts (`endpoint`, `huawei_ak`, `huawei_sk`, `huawei_project_id`,
    /// `tencent_secret_id`, `tencent_secret_key`), for a plugin of an emulated API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulator: Option<BTreeMap<String, WireValue>>,
}

impl Configuration {
    /// A setting's text, if given.
    #[must_use]
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(WireValue::as_str)
    }

    /// A credential's text, if given.
    #[must_use]
    pub fn credential(&self, name: &str) -> Option<&str> {
        self.credentials.get(name).and_then(WireValue::as_str)
    }
}

/// One call from the host to the plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", content = "body", rename_all = "snake_case")]
pub enum Request {
    /// Version negotiation; always the first message.
    Handshake {
        /// migspec's version (for the plugin's messages only; never compared).
        host_version: String,
        /// The oldest protocol version the host accepts.
        min: u32,
        /// The newest.
        max: u32,
    },
    /// The settings and credentials; sent once, before any other operation.
    Configure(Configuration),
    /// [`Provider::describe`](crate::Provider::describe).
    Describe,
    /// [`Provider::validate`](crate::Provider::validate).
    Validate {
        /// The kind.
        kind: String,
        /// The whole document.
        document: Value,
    },
    /// [`Provider::location`](crate::Provider::location).
    Location(DesiredSpec),
    /// [`Provider::observe`](crate::Provider::observe).
    Observe(ObserveRequest),
    /// [`Provider::plan`](crate::Provider::plan).
    Plan(PlanRequest),
    /// [`Provider::apply`](crate::Provider::apply).
    Apply(Step),
    /// [`Provider::poll`](crate::Provider::poll).
    Poll(Vec<InFlightTarget>),
    /// [`Provider::import`](crate::Provider::import).
    Import(ImportRequest),
    /// Protocol 3: the host's call gate is reachable through the host channel of the
    /// transport (in the C ABI, the `HostChannel` given to `migspec_plugin_set_host` before
    /// this message); the guest attaches it to its provider
    /// ([`Provider::attach_gate`](crate::Provider::attach_gate)) and answers
    /// [`Response::GateAttached`]. Sent once, after `configure`.
    AttachGate,
}

impl Request {
    /// The operation's name, for messages.
    #[must_use]
    pub const fn op(&self) -> &'static str {
        match self {
            Self::Handshake { .. } => "handshake",
            Self::Configure(_) => "configure",
            Self::Describe => "describe",
            Self::Validate { .. } => "validate",
            Self::Location(_) => "location",
            Self::Observe(_) => "observe",
            Self::Plan(_) => "plan",
            Self::Apply(_) => "apply",
            Self::Poll(_) => "poll",
            Self::Import(_) => "import",
            Self::AttachGate => "attach_gate",
        }
    }
}

/// One answer from the plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", content = "body", rename_all = "snake_case")]
pub enum Response {
    /// The protocol version both sides speak.
    Handshake {
        /// The version picked.
        protocol: u32,
    },
    /// The plugin supports no version in the host's range.
    Incompatible {
        /// The oldest version the plugin speaks.
        min: u32,
        /// The newest.
        max: u32,
    },
    /// `configure` succeeded.
    Configured,
    /// `describe`.
    Description(Description),
    /// `validate`.
    Problems(Vec<Problem>),
    /// `location`.
    Location(Value),
    /// `observe` and `poll`.
    Observed(Vec<Observed>),
    /// `plan`.
    Actions(Vec<Action>),
    /// `apply`.
    Outcome(StepOutcome),
    /// `import`.
    Imported(Imported),
    /// The operation failed.
    Error(ProviderError),
    /// `plan` could not plan.
    PlanError(PlanError),
    /// A panic was caught inside the plugin; the host stops using it.
    Panic {
        /// The panic's message.
        message: String,
    },
    /// Protocol 3: `attach_gate`.
    GateAttached {
        /// Whether the plugin's provider asks the host gate before each of its requests
        /// ([`Provider::attach_gate`](crate::Provider::attach_gate) returned `true`). When
        /// `false` the host admits each trait call as a whole, as for a protocol 2 plugin.
        admits_requests: bool,
    },
}

/// The key a plugin's request is admitted under, as the guest names it. The host adds the
/// provider's name (the plugin's `describe().name`) itself, so a plugin is always paced
/// under the limits it declared, never under another provider's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCallKey {
    /// The API action (`list_task_group`).
    pub action: String,
    /// The region the request goes to (empty when the API has none).
    #[serde(default)]
    pub region: String,
    /// Where the credential came from (an environment variable's name, a file path), never
    /// the credential itself: it is logged.
    #[serde(default)]
    pub credential: String,
}

impl WireCallKey {
    /// The guest's side of a [`CallKey`] (its provider name is dropped: the host sets it).
    #[must_use]
    pub fn from_key(key: &CallKey) -> Self {
        Self {
            action: key.action.clone(),
            region: key.region.clone(),
            credential: key.credential.clone(),
        }
    }

    /// The host's [`CallKey`] for `provider`.
    #[must_use]
    pub fn to_key(&self, provider: &str) -> CallKey {
        CallKey::new(provider, &self.action, &self.region, &self.credential)
    }
}

/// How a plugin's request ended ([`CallResult`] on the wire; durations in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WireCallResult {
    /// The server answered (success, or an error that is not about the rate).
    Answered {
        /// The server's error code when it refused the request.
        #[serde(default)]
        error_code: Option<String>,
    },
    /// The server throttled the request; it had no effect.
    Throttled {
        /// The server's code (`APIGW.0308`, `RequestLimitExceeded`).
        code: String,
        /// How long the server asked to wait, when it said.
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    /// No answer: the network failed or the answer was unreadable.
    NoAnswer {
        /// What failed.
        message: String,
    },
}

impl From<&CallResult> for WireCallResult {
    fn from(result: &CallResult) -> Self {
        match result {
            CallResult::Answered { error_code } => Self::Answered {
                error_code: error_code.clone(),
            },
            CallResult::Throttled { code, retry_after } => Self::Throttled {
                code: code.clone(),
                retry_after_ms: retry_after.map(|wait| millis(&wait)),
            },
            CallResult::NoAnswer { message } => Self::NoAnswer {
                message: message.clone(),
            },
        }
    }
}

impl From<WireCallResult> for CallResult {
    fn from(result: WireCallResult) -> Self {
        match result {
            WireCallResult::Answered { error_code } => Self::Answered { error_code },
            WireCallResult::Throttled {
                code,
                retry_after_ms,
            } => Self::Throttled {
                code,
                retry_after: retry_after_ms.map(Duration::from_millis),
            },
            WireCallResult::NoAnswer { message } => Self::NoAnswer { message },
        }
    }
}

/// Whole milliseconds, saturating (a wait beyond `u64::MAX` ms is not a wait anyone means).
fn millis(duration: &Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// One call from the guest to the host (protocol 3), made from inside a host→guest call
/// (`observe`, `apply`, …) while the host waits for that call's answer. In the C ABI it
/// crosses the `HostChannel` callback; in another transport it would be a message the
/// other way on the same channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "body", rename_all = "snake_case")]
pub enum HostRequest {
    /// Asks for a permit to send one API request under `key`; answered
    /// [`HostResponse::Granted`] once the host's gate admits it (the answer may take as long
    /// as the key's pacing needs; it never fails).
    Acquire(WireCallKey),
    /// How a granted request ended: the host's gate learns from it (a throttle slows the
    /// key down). Answered [`HostResponse::Reported`] at once.
    Report {
        /// The key it was granted under.
        key: WireCallKey,
        /// How it ended.
        result: WireCallResult,
        /// The server's request id, when it gave one.
        #[serde(default)]
        request_id: Option<String>,
        /// From the grant to the answer.
        #[serde(default)]
        duration_ms: u64,
    },
    /// A granted request is over (reported or abandoned): the host gives back the permit
    /// the grant holds (the runner's concurrency bound). Answered [`HostResponse::Released`].
    Release(WireCallKey),
}

impl HostRequest {
    /// The report of a finished request.
    #[must_use]
    pub fn report(key: &CallKey, report: &CallReport) -> Self {
        Self::Report {
            key: WireCallKey::from_key(key),
            result: WireCallResult::from(&report.result),
            request_id: report.request_id.clone(),
            duration_ms: millis(&report.duration),
        }
    }
}

/// The host's answer to a [`HostRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", content = "body", rename_all = "snake_case")]
pub enum HostResponse {
    /// The request may be sent now.
    Granted,
    /// The report was taken.
    Reported,
    /// The permit was given back.
    Released,
    /// The host could not read the message (a bug on one side). The guest sends its request
    /// anyway: admission never fails ([`crate::CallGate`]), and a request that cannot be
    /// paced is better than a step failed by the pacing itself.
    Error {
        /// What was wrong.
        message: String,
    },
}

/// The version both sides speak: the highest in both ranges.
#[must_use]
pub fn negotiate(host: (u32, u32), plugin: (u32, u32)) -> Option<u32> {
    let low = host.0.max(plugin.0);
    let high = host.1.min(plugin.1);
    (low <= high).then_some(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_common_version_is_picked() {
        assert_eq!(negotiate((2, 3), (2, 2)), Some(2));
        assert_eq!(negotiate((2, 3), (1, 5)), Some(3));
        assert_eq!(negotiate((2, 2), (3, 4)), None);
        assert_eq!(negotiate((3, 4), (1, 2)), None);
    }

    #[test]
    fn messages_are_tagged_json_independent_of_the_transport() {
        let request = Envelope {
            protocol: 2,
            message: Request::Validate {
                kind: "K".into(),
                document: serde_json::json!({}),
            },
        };
        let text = serde_json::to_value(&request).unwrap();
        assert_eq!(
            text,
            serde_json::json!({"protocol": 2, "op": "validate", "body": {"kind": "K", "document": {}}})
        );
        let back: Envelope<Request> = serde_json::from_value(text).unwrap();
        assert_eq!(back.message.op(), "validate");
        let describe: Envelope<Request> =
            serde_json::from_value(serde_json::json!({"protocol": 2, "op": "describe"})).unwrap();
        assert!(matches!(describe.message, Request::Describe));
    }

    #[test]
    fn guest_to_host_messages_are_tagged_json_with_milliseconds() {
        let key = CallKey::new("huawei-oms", "list_task_group", "cn-north-4", "env");
        let report = CallReport {
            result: CallResult::Throttled {
                code: "APIGW.0308".into(),
                retry_after: Some(Duration::from_secs(2)),
            },
            request_id: None,
            duration: Duration::from_millis(40),
        };
        let text = serde_json::to_value(Envelope {
            protocol: 3,
            message: HostRequest::report(&key, &report),
        })
        .unwrap();
        assert_eq!(
            text,
            serde_json::json!({"protocol": 3, "op": "report", "body": {
                "key": {"action": "list_task_group", "region": "cn-north-4", "credential": "env"},
                "result": {"outcome": "throttled", "code": "APIGW.0308", "retry_after_ms": 2000},
                "request_id": null, "duration_ms": 40
            }})
        );
        let acquire: Envelope<HostRequest> = serde_json::from_value(serde_json::json!(
            {"protocol": 3, "op": "acquire", "body": {"action": "create_task_group"}}
        ))
        .unwrap();
        assert_eq!(
            acquire.message,
            HostRequest::Acquire(WireCallKey {
                action: "create_task_group".into(),
                region: String::new(),
                credential: String::new(),
            })
        );
        let granted = serde_json::to_value(HostResponse::Granted).unwrap();
        assert_eq!(granted, serde_json::json!({"result": "granted"}));
        let back: CallResult = WireCallResult::from(&report.result).into();
        assert_eq!(back, report.result);
    }

    #[test]
    fn absent_unknown_and_sensitive_values_are_explicit_and_secrets_redacted() {
        let configuration = Configuration {
            settings: BTreeMap::from([
                ("dir".into(), WireValue::Value("/data".into())),
                ("later".into(), WireValue::Unknown(true)),
            ]),
            credentials: BTreeMap::from([
                ("key".into(), WireValue::Sensitive("s3cr3t".into())),
                ("token".into(), WireValue::absent()),
            ]),
            emulator: None,
        };
        let json = serde_json::to_value(&configuration).unwrap();
        assert_eq!(
            json["credentials"]["token"],
            serde_json::json!({"absent": true})
        );
        assert_eq!(
            json["settings"]["later"],
            serde_json::json!({"unknown": true})
        );
        assert_eq!(
            json["credentials"]["key"],
            serde_json::json!({"sensitive": "s3cr3t"})
        );
        assert_eq!(configuration.credential("key"), Some("s3cr3t"));
        assert_eq!(configuration.credential("token"), None);
        assert!(!format!("{configuration:?}").contains("s3cr3t"));
        let back: Configuration = serde_json::from_value(json).unwrap();
        assert_eq!(back, configuration);
    }
}
