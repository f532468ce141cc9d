//! Not a proper migspec plugin, for the loader's refusal tests: it exports only
//! `migspec_plugin_abi_version`, answering `MIGSPEC_TEST_ABI_VERSION` (default 99), and no
//! `invoke` or `free`.

/// The ABI version this library claims.
#[expect(unsafe_code, reason = "an exported C symbol, as a plugin would have")]
#[unsafe(no_mangle)]
pub extern "C" fn migspec_plugin_abi_version() -> u32 {
    std::env::var("MIGSPEC_TEST_ABI_VERSION")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(99)
}
