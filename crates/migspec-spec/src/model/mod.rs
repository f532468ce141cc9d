//! The typed spec model: one document type per built-in kind, with the vendor's field names,
//! and [`OtherDocument`] for the kinds plugins serve (the set of kinds is open: a provider
//! owns its kinds, their schemas and their rules).
//!
//! The JSON Schemas under `schemas/` are generated from these types (see `migspec-schema`),
//! so a doc comment here is what an editor shows on hover.

pub mod api_enum;
pub mod common;
pub mod huawei;
pub mod tencent2018;
pub mod tencent2021;

pub use api_enum::ApiEnum;
pub use common::{
    ApiVersion, DeletionPolicy, FromEnv, FromFile, HumanDuration, Metadata, ResumeOption,
    SecretRef, Timeouts, ValueRef,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api_enum;

api_enum! {
    /// The kinds of spec migspec knows.
    pub enum Kind: str {
        TencentDtsMigrateJob = "TencentDtsMigrateJob" => "a Tencent Cloud DTS migration job, API 2018-03-30 (CreateMigrateJob)",
        TencentDtsMigrationJob = "TencentDtsMigrationJob" => "a Tencent Cloud DTS migration job, API 2021-12-06 (CreateMigrationService + ModifyMigrationJob)",
        HuaweiOmsTaskGroup = "HuaweiOmsTaskGroup" => "a Huawei Cloud OMS v2 migration task group",
    }
}

impl Kind {
    /// Parses a kind name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.as_str() == name)
    }
}

macro_rules! document {
    ($(#[$meta:meta])* $name:ident = $wire:literal, $tag:ident, $spec:ty, $lifecycle:ty) => {
        api_enum! {
            #[doc = concat!("The `kind` of a `", stringify!($name), "` document.")]
            pub enum $tag: str {
                $name = $wire => "the document kind",
            }
        }

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The spec format version: `migspec/v1`.
            #[serde(rename = "apiVersion")]
            pub api_version: ApiVersion,
            /// The kind of migration.
            pub kind: $tag,
            /// Name (the address) and labels.
            pub metadata: Metadata,
            /// The migration itself, with the API's field names.
            pub spec: $spec,
            /// The state to reach and what to do on failure.
            pub lifecycle: $lifecycle,
        }
    };
}

document!(
    /// A Tencent Cloud DTS migration job managed through API 2018-03-30.
    TencentDtsMigrateJob = "TencentDtsMigrateJob",
    TencentDtsMigrateJobKind,
    tencent2018::MigrateJobSpec,
    tencent2018::MigrateJobLifecycle
);

document!(
    /// A Tencent Cloud DTS migration job managed through API 2021-12-06.
    TencentDtsMigrationJob = "TencentDtsMigrationJob",
    TencentDtsMigrationJobKind,
    tencent2021::MigrationJobSpec,
    tencent2021::MigrationJobLifecycle
);

document!(
    /// A Huawei Cloud OMS v2 migration task group.
    HuaweiOmsTaskGroup = "HuaweiOmsTaskGroup",
    HuaweiOmsTaskGroupKind,
    huawei::TaskGroupSpec,
    huawei::TaskGroupLifecycle
);

/// A document of a kind migspec does not know itself: a plugin's kind.
///
/// The envelope (`apiVersion`, `kind`, `metadata`) is read like every other kind's; the rest
/// of the document is kept as JSON exactly as written, for the provider that serves the kind
/// (which described its schema and checked it in `validate`). Built-in kinds never land here.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherDocument {
    /// The kind name, as written.
    pub kind: String,
    /// Name (the address) and labels.
    pub metadata: Metadata,
    /// The whole document as JSON, envelope included.
    pub document: serde_json::Value,
}

impl OtherDocument {
    /// Reads the envelope of a plugin kind's document.
    ///
    /// # Errors
    ///
    /// When `kind` or `metadata` is missing or malformed (schema validation reports this
    /// first, with located messages).
    pub fn from_json(document: serde_json::Value) -> Result<Self, serde_json::Error> {
        use serde::de::Error as _;
        let kind = document
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| serde_json::Error::custom("`kind` must be a string"))?
            .to_owned();
        let metadata = serde_json::from_value(
            document
                .get("metadata")
                .cloned()
                .ok_or_else(|| serde_json::Error::missing_field("metadata"))?,
        )?;
        Ok(Self {
            kind,
            metadata,
            document,
        })
    }
}

impl Serialize for OtherDocument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.document.serialize(serializer)
    }
}

/// A spec document of any kind: typed for the built-in kinds, JSON for a plugin's kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SpecDocument {
    /// `TencentDtsMigrateJob`.
    TencentDtsMigrateJob(Box<TencentDtsMigrateJob>),
    /// `TencentDtsMigrationJob`.
    TencentDtsMigrationJob(Box<TencentDtsMigrationJob>),
    /// `HuaweiOmsTaskGroup`.
    HuaweiOmsTaskGroup(Box<HuaweiOmsTaskGroup>),
    /// A kind served by a plugin.
    Other(Box<OtherDocument>),
}

impl SpecDocument {
    /// Reads a document of a known kind from its JSON form.
    ///
    /// # Errors
    ///
    /// When the JSON does not match the kind's type (schema validation catches this first,
    /// with located messages).
    pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            Kind::TencentDtsMigrateJob => {
                Self::TencentDtsMigrateJob(Box::new(serde_json::from_value(value)?))
            }
            Kind::TencentDtsMigrationJob => {
                Self::TencentDtsMigrationJob(Box::new(serde_json::from_value(value)?))
            }
            Kind::HuaweiOmsTaskGroup => {
                Self::HuaweiOmsTaskGroup(Box::new(serde_json::from_value(value)?))
            }
        })
    }

    /// Reads a document of a plugin's kind (see [`OtherDocument`]).
    ///
    /// # Errors
    ///
    /// As [`OtherDocument::from_json`].
    pub fn other_from_json(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(Self::Other(Box::new(OtherDocument::from_json(value)?)))
    }

    /// The document's built-in kind, or `None` for a plugin's kind.
    #[must_use]
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Self::TencentDtsMigrateJob(_) => Some(Kind::TencentDtsMigrateJob),
            Self::TencentDtsMigrationJob(_) => Some(Kind::TencentDtsMigrationJob),
            Self::HuaweiOmsTaskGroup(_) => Some(Kind::HuaweiOmsTaskGroup),
            Self::Other(_) => None,
        }
    }

    /// The document's kind name, built-in or not.
    #[must_use]
    pub fn kind_name(&self) -> &str {
        match self {
            Self::Other(document) => &document.kind,
            typed => typed.kind().map_or("", |kind| kind.as_str()),
        }
    }

    /// The document's metadata.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        match self {
            Self::TencentDtsMigrateJob(document) => &document.metadata,
            Self::TencentDtsMigrationJob(document) => &document.metadata,
            Self::HuaweiOmsTaskGroup(document) => &document.metadata,
            Self::Other(document) => &document.metadata,
        }
    }
}
