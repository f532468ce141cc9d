//! migspec provider for Tencent Cloud DTS migration jobs, API versions 2018-03-30
//! (`TencentDtsMigrateJob`: CreateMigrateJob, ModifyMigrateJob, …) and 2021-12-06
//! (`TencentDtsMigrationJob`: CreateMigrationService, ModifyMigrationJob, …).
//!
//! # Where to start
//!
//! - [`TencentDtsProvider`] implements [`migspec_provider::Provider`]; build it with
//!   `TencentDtsProvider::new(TencentConfig::from_env()?)`.
//! - [`TencentConfig`] holds credentials ([`Credentials`]: explicit, then
//!   `TENCENTCLOUD_SECRET_ID`/`_KEY`/`_TOKEN`, then `~/.tccli/<profile>.credential`), the
//!   [`Endpoint`], timeouts, retries and the client-side rate limit.
//! - [`sign`] is the TC3-HMAC-SHA256 signer every request goes through; [`client`] the
//!   signed JSON client (envelope, retries, token buckets); [`error`] how each cloud error
//!   code becomes a [`migspec_provider::ProviderError`].
//!
//! # How specs become API calls
//!
//! Every job migspec creates carries the tag `migspec:address=<metadata.name>`. Observation
//! is batched on that tag (one describe call per region, version and 100 addresses), which
//! is also how a job whose create crashed before its id was recorded is found again. The
//! view of a job is its configuration shaped like the spec's `spec`, with the API's blank
//! values, defaults and secrets normalised away, so that an applied spec shows no diff.
//! Plans follow the documented state machines (check before start, a new check after every
//! modify, stop before modifying a running 2018 job, resume per `onFailure`); each step of
//! a plan is applied idempotently after a fresh observation, and returns what the runner
//! should wait for. The provider never sleeps between states and never prints.
//!
//! ```
//! use migspec_tencent_dts::sign::{SigningRequest, sign};
//!
//! // Vector A of the official signature documentation.
//! let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
//! let request = SigningRequest {
//!     method: "POST",
//!     host: "cvm.tencentcloudapi.com",
//!     query: "",
//!     content_type: "application/json; charset=utf-8",
//!     payload: payload.as_bytes(),
//!     service: "cvm",
//!     timestamp: 1_551_113_065,
//!     signed_action: None,
//! };
//! let signed = sign(&request, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
//! assert_eq!(signed.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
//!
//! // Planning is pure and needs no credentials.
//! use migspec_provider::Provider;
//! let provider = migspec_tencent_dts::TencentDtsProvider::new(Default::default()).unwrap();
//! assert_eq!(provider.describe().name, "tencent-dts");
//! ```

mod apply;
mod canon;
pub mod client;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod env;
pub mod error;
mod job;
mod list;
mod observe;
mod plan;
mod provider;
pub mod rules;
pub mod sign;
mod v2018;
mod v2021;
mod wire;

pub use client::{ApiVersion, DtsClient};
pub use config::{Clock, TencentConfig};
pub use credentials::Credentials;
pub use endpoint::Endpoint;
pub use error::ConfigError;
pub use job::ADDRESS_TAG;
pub use provider::{PROVIDER_NAME, TencentDtsProvider};
