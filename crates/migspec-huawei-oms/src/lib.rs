//! migspec provider for Huawei Cloud OMS v2 migration task groups (`HuaweiOmsTaskGroup`).
//!
//! It signs requests with `SDK-HMAC-SHA256` (or sends an IAM `X-Auth-Token`), talks to
//! `https://oms.{region}.myhuaweicloud.com` through a rate-limited, retrying client, and
//! implements [`migspec_provider::Provider`]: batched observation (one paged listing per
//! region and project), a pure planner that maps OMS statuses 0–9 onto lifecycle phases and
//! plans `+ create`, `~ modify` (bandwidth, the only in-place change OMS has), `▶ start`,
//! `⏸ pause`, `↻ retry` and `- delete`, one-step idempotent apply, and import.
//!
//! Where to start:
//!
//! - [`HuaweiOmsProvider::new`] with a [`HuaweiConfig`] (usually [`HuaweiConfig::from_env`]);
//! - the identity rules in [`marker`]: a task group has no name, so migspec appends
//!   ` migspec:address=<metadata.name>` to its description;
//! - the phase mapping and planning table on [`HuaweiOmsProvider`];
//! - [`sign`] for the signer, tested on the reference's vectors.
//!
//! ```
//! use migspec_huawei_oms::sign::{SigningInput, sign};
//!
//! // Reference §6.3, vector 2: show a task group.
//! let headers: Vec<(String, String)> = [
//!     ("Content-Type", "application/json"),
//!     ("X-Sdk-Date", "20240102T030405Z"),
//!     ("Host", "oms.cn-north-4.myhuaweicloud.com"),
//!     ("X-Project-Id", "0123456789abcdef0123456789abcdef"),
//! ]
//! .into_iter()
//! .map(|(name, value)| (name.to_owned(), value.to_owned()))
//! .collect();
//! let signature = sign(
//!     "ExampleSecretKey0000000000000000000000Zz",
//!     &SigningInput {
//!         method: "GET",
//!         path: "/v2/0123456789abcdef0123456789abcdef/taskgroups/5c2f4a9e-7d1b-4f0e-9a3c-2b8d6e1f0a77",
//!         query: &[],
//!         headers: &headers,
//!         body: b"",
//!     },
//! );
//! assert_eq!(signature.signed_headers, "content-type;host;x-project-id;x-sdk-date");
//! assert_eq!(
//!     signature.signature,
//!     "524685fdb6dfd08c51a381857f990a247df55d44edee044d24af77ef7b9b6c1b"
//! );
//! ```
//!
//! The provider keeps no global state (no statics, no process-wide registries), so the
//! crate also loads as a plugin `cdylib`, even twice.

mod apply;
pub mod client;
pub mod config;
mod convert;
mod cursor;
mod error;
mod list;
mod location;
pub mod marker;
mod observe;
mod plan;
mod provider;
pub mod rules;
pub mod sign;
mod status;
pub mod wire;

pub use client::{OmsClient, Operation, Target};
pub use config::{Clock, ConfigError, Credentials, HuaweiConfig};
pub use provider::{HuaweiOmsProvider, PROVIDER_NAME};
