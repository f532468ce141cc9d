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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Action, Description, DesiredSpec, ImportRequest, Imported, InFlightTarget, ObserveRequest,
    Observed, PlanError, PlanRequest, Problem, ProviderError, Step, StepOutcome,
};

/// The newest protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 2;
/// The oldest protocol version this build still accepts (1 was the un-negotiated JSON of
/// the first ABI, which had no handshake).
pub const MIN_PROTOCOL_VERSION: u32 = 2;

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
