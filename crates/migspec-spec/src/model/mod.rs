//! The typed spec model: one document type per kind, with the vendor's field names.
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

/// A typed spec document of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SpecDocument {
    /// `TencentDtsMigrateJob`.
    TencentDtsMigrateJob(Box<TencentDtsMigrateJob>),
    /// `TencentDtsMigrationJob`.
    TencentDtsMigrationJob(Box<TencentDtsMigrationJob>),
    /// `HuaweiOmsTaskGroup`.
    HuaweiOmsTaskGroup(Box<HuaweiOmsTaskGroup>),
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

    /// The document's kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Self::TencentDtsMigrateJob(_) => Kind::TencentDtsMigrateJob,
            Self::TencentDtsMigrationJob(_) => Kind::TencentDtsMigrationJob,
            Self::HuaweiOmsTaskGroup(_) => Kind::HuaweiOmsTaskGroup,
        }
    }

    /// The document's metadata.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        match self {
            Self::TencentDtsMigrateJob(document) => &document.metadata,
            Self::TencentDtsMigrationJob(document) => &document.metadata,
            Self::HuaweiOmsTaskGroup(document) => &document.metadata,
        }
    }
}
