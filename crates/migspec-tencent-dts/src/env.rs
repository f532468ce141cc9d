//! The environment variables the provider reads, in one place: the modules that read them
//! (`config`, `credentials`, `endpoint`) and the error messages that name them (`error`)
//! all import from here, so none of them has to import another for a name.

/// Environment variable holding the default region.
pub const ENV_REGION: &str = "TENCENTCLOUD_REGION";
/// Environment variable that overrides the endpoint (a URL or `host[:port]`).
pub const ENV_ENDPOINT: &str = "MIGSPEC_TENCENT_ENDPOINT";
/// Environment variable holding the SecretId.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// Environment variable holding the SecretKey.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
/// Environment variable holding the session token of temporary credentials.
pub const ENV_TOKEN: &str = "TENCENTCLOUD_TOKEN";
/// The three variables that hold credentials: a spec's `fromEnv` may not name them (they
/// would send migspec's own cloud keys to a database or bucket).
pub const CREDENTIAL_ENV: &[&str] = &[ENV_SECRET_ID, ENV_SECRET_KEY, ENV_TOKEN];
/// Environment variable naming the tccli profile.
pub const ENV_PROFILE: &str = "TCCLI_PROFILE";
