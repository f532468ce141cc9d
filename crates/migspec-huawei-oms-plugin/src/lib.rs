//! The Huawei Cloud OMS v2 provider (`migspec-huawei-oms`) built as a plugin library: the
//! same provider the `migspec` binary links statically, behind the plugin ABI
//! (`migspec_provider::plugin`). It proves the ABI on a real provider, and is what an
//! out-of-tree provider looks like once built.
//!
//! It is a crate of its own so that the `migspec` binary, which links the provider
//! statically, never carries the exported plugin symbols.
//!
//! Build: `cargo build --release -p migspec-huawei-oms-plugin` gives
//! `target/release/libmigspec_huawei_oms_plugin.so`. Pin it in `migspec.yaml` with the
//! SHA-256 of that file (`sha256sum`), which the host checks before loading it.
//!
//! Configuration comes from the plugin's entry in `migspec.yaml`, sent by the host in the
//! `configure` message:
//!
//! ```yaml
//! plugins:
//!   - path: target/release/libmigspec_huawei_oms_plugin.so
//!     sha256: …
//!     settings: {endpoint: "https://oms.cn-north-4.myhuaweicloud.com", projectId: "…"}
//!     credentials: {ak: {fromEnv: HUAWEICLOUD_SDK_AK}, sk: {fromEnv: HUAWEICLOUD_SDK_SK}}
//! ```
//!
//! `settings.rateLimitPerSecond` overrides the request limit per API operation the plugin
//! declares (`describe().rate_limits`, 20/s by default, OMS's documented limit), for an
//! account whose quota is lower.
//!
//! Pacing: the provider's client asks its call gate for a permit before each request, and
//! the gate the plugin runs with is the host's ([`migspec_provider::plugin::guest::HostGate`],
//! attached over the plugin ABI's host channel, protocol 3). So each `list_task_group` page
//! of an `observe`, and each request of an `apply`, waits for the runner's pacing of its
//! (operation, region, credential) key, and a throttle the server sends slows that key
//! down for every later request, exactly as for the linked provider.
//!
//! Under `migspec --emulator` the configuration names the host's emulator, which the
//! provider then uses with the emulator's credentials. A host that sends an empty configuration (library use without settings) gets the
//! provider configured from the environment, as the linked provider is:
//! `MIGSPEC_HUAWEI_OMS_ENDPOINT`, `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, …

use migspec_huawei_oms::config::{ConfigError, Credentials};
use migspec_huawei_oms::{HuaweiConfig, HuaweiOmsProvider};
use migspec_provider::plugin::messages::{Configuration, WireValue};

/// The provider from the host's configuration (see the crate documentation).
fn configured(configuration: &Configuration) -> Result<HuaweiOmsProvider, String> {
    let rate = configuration
        .setting("rateLimitPerSecond")
        .map(|text| {
            text.parse::<u32>().map_err(|error| {
                format!(
                    "settings.rateLimitPerSecond of the OMS plugin in migspec.yaml is `{text}`, \
                     not a number of requests per second ({error}); write e.g. `rateLimitPerSecond: \"10\"`"
                )
            })
        })
        .transpose()?;
    let config = config(configuration).map_err(|error| error.to_string())?;
    let config = match rate {
        Some(rate) => config.with_rate_limit_per_second(rate),
        None => config,
    };
    HuaweiOmsProvider::new(config).map_err(|error| error.to_string())
}

/// The provider's settings from the host's configuration, before the declared rate.
fn config(configuration: &Configuration) -> Result<HuaweiConfig, ConfigError> {
    if let Some(emulator) = &configuration.emulator {
        // `--emulator`: the host's emulator and the credentials it accepts.
        let text = |key: &str| {
            emulator
                .get(key)
                .and_then(WireValue::as_str)
                .unwrap_or_default()
        };
        let config = HuaweiConfig::default()
            .with_endpoint(text("endpoint"))
            .with_project_id(text("huawei_project_id"))
            .with_credentials(Credentials::access_key(
                text("huawei_ak"),
                text("huawei_sk"),
            ));
        return Ok(config);
    }
    // Only the declared rate set (or nothing): the rest from the environment, as the linked
    // provider reads it.
    let only_rate = configuration
        .settings
        .keys()
        .all(|name| name == "rateLimitPerSecond");
    if only_rate && configuration.credentials.is_empty() {
        return HuaweiConfig::from_env();
    }
    let mut config = HuaweiConfig::default();
    if let Some(endpoint) = configuration.setting("endpoint") {
        config = config.with_endpoint(endpoint);
    }
    if let Some(project) = configuration.setting("projectId") {
        config = config.with_project_id(project);
    }
    if let (Some(ak), Some(sk)) = (
        configuration.credential("ak"),
        configuration.credential("sk"),
    ) {
        config = config.with_credentials(Credentials::access_key(ak, sk));
    }
    Ok(config)
}

migspec_provider::export_plugin!(configured);
