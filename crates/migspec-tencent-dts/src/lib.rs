//! migspec provider for Tencent Cloud DTS migration jobs, API versions 2018-03-30
//! (`TencentDtsMigrateJob`) and 2021-12-06 (`TencentDtsMigrationJob`).
//!
//! Start with [`sign`], the TC3-HMAC-SHA256 signer every request goes through.
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
//! ```

mod apply;
mod canon;
pub mod client;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod error;
mod job;
mod observe;
mod plan;
mod provider;
pub mod sign;
mod v2018;
mod v2021;
mod wire;

pub use client::{ApiVersion, DtsClient};
pub use config::{Clock, ConfigError, TencentConfig};
pub use credentials::Credentials;
pub use endpoint::Endpoint;
pub use job::ADDRESS_TAG;
pub use provider::{PROVIDER_NAME, TencentDtsProvider};
