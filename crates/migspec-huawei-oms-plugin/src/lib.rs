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
//! Configuration comes from the environment of the host process, read when the plugin is
//! first called: `MIGSPEC_HUAWEI_OMS_ENDPOINT`, `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`,
//! `HUAWEICLOUD_SDK_SECURITY_TOKEN`, `HUAWEICLOUD_SDK_PROJECT_ID`, and the SDK's
//! credentials file (`HUAWEICLOUD_SDK_CREDENTIALS_FILE` or `~/.huaweicloud/credentials`).

migspec_provider::export_plugin!(migspec_huawei_oms::HuaweiOmsProvider::from_env());
