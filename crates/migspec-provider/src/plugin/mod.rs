//! Plugins: providers loaded at run time from shared libraries, through a small C ABI that
//! carries JSON messages.
//!
//! # The ABI (version 1)
//!
//! A plugin exports three symbols (the [`export_plugin!`](crate::export_plugin) macro writes
//! them):
//!
//! | symbol | signature | meaning |
//! |---|---|---|
//! | `migspec_plugin_abi_version` | `extern "C" fn() -> u32` | the ABI version; the host refuses anything but [`ABI_VERSION`] before resolving anything else |
//! | `migspec_plugin_invoke` | `extern "C" fn(*const u8, usize, *mut PluginBuffer) -> i32` | one call: UTF-8 JSON request in, plugin-allocated JSON response out |
//! | `migspec_plugin_free` | `extern "C" fn(PluginBuffer)` | releases a response buffer (memory is freed by the side that allocated it) |
//!
//! `invoke` returns [`STATUS_OK`], [`STATUS_ERROR`] or [`STATUS_PANIC`] (a panic was caught
//! inside the plugin; the host stops using the plugin); the buffer holds one
//! [`messages::Response`] in every case.
//!
//! One more symbol is **optional** (ABI version 1 is unchanged: a host that does not know it
//! never looks it up, and a plugin without it still loads):
//!
//! | symbol | signature | meaning |
//! |---|---|---|
//! | `migspec_plugin_set_host` | `extern "C" fn(HostChannel) -> i32` | the host's callback for guest→host messages ([`messages::HostRequest`]: a permit before each API request, a report after it); [`STATUS_OK`] when taken |
//!
//! The host calls it only when the handshake picked protocol 3 or later
//! ([`messages::HOST_GATE_PROTOCOL_VERSION`]), after `configure` and before `attach_gate`.
//! A [`HostChannel`] is a function pointer and a context pointer (plus the host's `free`),
//! valid for the rest of the process (the host never unloads a plugin and never releases
//! the context); the guest may call it from any thread, during any host→guest call, and
//! the call blocks until the host answers (for `acquire`, until the host's gate admits the
//! request). Buffers the host fills are released by the host's `free`, as the plugin's are
//! by `migspec_plugin_free`.
//!
//! # The protocol
//!
//! What crosses the ABI is one JSON [`messages::Envelope`] each way: a [`messages::Request`]
//! in, a [`messages::Response`] out, both enums shared by host and guest and independent of
//! this transport (see [`messages`] for the versioning rule and the encoding of absent,
//! unknown and sensitive values). A load goes:
//!
//! 1. `migspec_plugin_abi_version` must return [`ABI_VERSION`] (the C ABI: symbols, buffer);
//! 2. `handshake`: the protocol version is negotiated, separately from migspec's version;
//!    no common version is refused with the plugin's path and both ranges;
//! 3. `configure`: the plugin's `settings` and `credentials` from `migspec.yaml` (credentials
//!    resolved by the host), from which the plugin builds its provider, so that it never
//!    reads the host's environment for them;
//! 4. protocol 3: `migspec_plugin_set_host` with the host's [`HostChannel`], then
//!    `attach_gate`: the guest attaches a [`guest::HostGate`] to its provider, whose every
//!    API request then asks the host's call gate for a permit through the channel
//!    (`acquire`) and reports how it ended (`report`) — the runner paces and adapts a
//!    plugin's requests one by one, like a built-in provider's. A protocol 2 plugin skips
//!    this step and is admitted once per trait call;
//! 5. `describe`, then any of `validate`, `location`, `observe`, `plan`, `apply`, `poll`,
//!    `import`, as the [`Provider`](crate::Provider) trait defines them.
//!
//! Only integers, pointers and the `#[repr(C)]` [`PluginBuffer`] cross the boundary; no Rust
//! type does. A plugin runs its own tokio runtime (its statics are its own), is built with
//! `panic = "unwind"` (the default) so panics can be caught, and is never unloaded.
//!
//! # Trust
//!
//! Loading a library runs its code. The host reads the file, checks its SHA-256 against the
//! pin in `migspec.yaml` **before** `dlopen`, and refuses it on any mismatch.

pub mod guest;
pub mod host;
pub mod messages;

/// The C ABI version this build speaks: the three symbols and [`PluginBuffer`]. The message
/// protocol is versioned separately ([`messages::PROTOCOL_VERSION`]) and negotiated.
pub const ABI_VERSION: u32 = 1;

/// `invoke` succeeded.
pub const STATUS_OK: i32 = 0;
/// `invoke` failed; the buffer holds a JSON error object.
pub const STATUS_ERROR: i32 = 1;
/// A panic was caught inside the plugin; the buffer holds `{"panic": "…"}`.
pub const STATUS_PANIC: i32 = 2;

/// The exported symbol names, NUL-terminated for `dlsym`.
pub mod symbols {
    /// `migspec_plugin_abi_version`.
    pub const ABI_VERSION: &[u8] = b"migspec_plugin_abi_version\0";
    /// `migspec_plugin_invoke`.
    pub const INVOKE: &[u8] = b"migspec_plugin_invoke\0";
    /// `migspec_plugin_free`.
    pub const FREE: &[u8] = b"migspec_plugin_free\0";
    /// `migspec_plugin_set_host` (optional; protocol 3).
    pub const SET_HOST: &[u8] = b"migspec_plugin_set_host\0";
}

/// A byte buffer allocated by the plugin and released by its `migspec_plugin_free`.
#[repr(C)]
#[derive(Debug)]
pub struct PluginBuffer {
    /// Start of the bytes (null for an empty buffer).
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Allocated capacity (for the plugin's own `free`).
    pub cap: usize,
}

impl PluginBuffer {
    /// An empty buffer for `invoke` to fill.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        }
    }
}

/// `migspec_plugin_abi_version`.
pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
/// `migspec_plugin_invoke`.
pub type InvokeFn =
    unsafe extern "C" fn(request: *const u8, request_len: usize, out: *mut PluginBuffer) -> i32;
/// `migspec_plugin_free`.
pub type FreeFn = unsafe extern "C" fn(buffer: PluginBuffer);
/// `migspec_plugin_set_host` (optional).
pub type SetHostFn = unsafe extern "C" fn(channel: HostChannel) -> i32;

/// The host's side of a guest→host call: UTF-8 JSON [`messages::HostRequest`] in, a
/// host-allocated JSON [`messages::HostResponse`] out; returns [`STATUS_OK`] or
/// [`STATUS_ERROR`] (the buffer then holds a [`messages::HostResponse::Error`]).
pub type HostCallFn = unsafe extern "C" fn(
    context: *const std::ffi::c_void,
    request: *const u8,
    request_len: usize,
    out: *mut PluginBuffer,
) -> i32;
/// Releases a buffer a [`HostCallFn`] filled.
pub type HostFreeFn = unsafe extern "C" fn(context: *const std::ffi::c_void, buffer: PluginBuffer);

/// The host's callback, given to the plugin by `migspec_plugin_set_host`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HostChannel {
    /// The host's state, passed back to `call` and `free`; never read by the plugin.
    pub context: *const std::ffi::c_void,
    /// One guest→host call.
    pub call: HostCallFn,
    /// Releases what `call` returned.
    pub free: HostFreeFn,
}

// SAFETY: the context is the host's `Arc` of thread-safe state (`Send + Sync`), kept alive for
// the process; the two functions may be called from any thread (documented above).
#[expect(
    unsafe_code,
    reason = "the host channel is a pair of C pointers shared across threads"
)]
unsafe impl Send for HostChannel {}
// SAFETY: as for `Send`: calls through the channel only read the shared context.
#[expect(
    unsafe_code,
    reason = "the host channel is a pair of C pointers shared across threads"
)]
unsafe impl Sync for HostChannel {}

/// Makes a provider crate a plugin: exports the ABI symbols (the three required ones and
/// `migspec_plugin_set_host`) around a constructor.
///
/// The argument is a function or closure called once, on `configure`, with the
/// [`Configuration`](messages::Configuration) the host sends, returning `Result<P, E>` where
/// `P: Provider + 'static` and `E: Display`:
///
/// ```ignore
/// migspec_provider::export_plugin!(|config: &Configuration| MyProvider::new(config));
/// ```
///
/// A second argument, `protocols = (min, max)`, overrides the protocol versions the plugin
/// claims (for tests of the negotiation; an expression evaluated at each handshake).
///
/// The crate must be built as a `cdylib`.
#[macro_export]
macro_rules! export_plugin {
    ($constructor:expr) => {
        $crate::export_plugin!(
            $constructor,
            protocols = (
                $crate::plugin::messages::MIN_PROTOCOL_VERSION,
                $crate::plugin::messages::PROTOCOL_VERSION
            )
        );
    };
    ($constructor:expr, protocols = $protocols:expr) => {
        static __MIGSPEC_PLUGIN: ::std::sync::OnceLock<$crate::plugin::guest::Instance> =
            ::std::sync::OnceLock::new();

        /// The plugin ABI version (migspec plugin ABI).
        #[expect(unsafe_code, reason = "an exported C symbol of the plugin ABI")]
        #[unsafe(no_mangle)]
        pub extern "C" fn migspec_plugin_abi_version() -> u32 {
            $crate::plugin::ABI_VERSION
        }

        /// One plugin call (migspec plugin ABI).
        ///
        /// # Safety
        ///
        /// `request` points to `request_len` readable bytes and `out` to a writable
        /// `PluginBuffer`, as the migspec host guarantees.
        #[expect(unsafe_code, reason = "an exported C symbol of the plugin ABI")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn migspec_plugin_invoke(
            request: *const u8,
            request_len: usize,
            out: *mut $crate::plugin::PluginBuffer,
        ) -> i32 {
            // SAFETY: the host passes a pointer to `request_len` bytes it keeps alive for the
            // whole call, and a valid, exclusive pointer to an output buffer.
            unsafe {
                $crate::plugin::guest::invoke(
                    &__MIGSPEC_PLUGIN,
                    request,
                    request_len,
                    out,
                    $crate::plugin::guest::Plugin {
                        protocols: $protocols,
                        construct: |configuration: &$crate::plugin::messages::Configuration| {
                            ($constructor)(configuration)
                                .map(|provider| {
                                    ::std::boxed::Box::new(provider)
                                        as ::std::boxed::Box<dyn $crate::Provider>
                                })
                                .map_err(|error| error.to_string())
                        },
                    },
                )
            }
        }

        /// Takes the host's channel for guest→host calls (migspec plugin ABI, protocol 3).
        #[expect(unsafe_code, reason = "an exported C symbol of the plugin ABI")]
        #[unsafe(no_mangle)]
        pub extern "C" fn migspec_plugin_set_host(channel: $crate::plugin::HostChannel) -> i32 {
            $crate::plugin::guest::set_host(channel)
        }

        /// Releases a response buffer (migspec plugin ABI).
        ///
        /// # Safety
        ///
        /// `buffer` was returned by this plugin's `migspec_plugin_invoke` and is freed once.
        #[expect(unsafe_code, reason = "an exported C symbol of the plugin ABI")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn migspec_plugin_free(buffer: $crate::plugin::PluginBuffer) {
            // SAFETY: the buffer came from this plugin's `invoke` (the host guarantees it).
            unsafe { $crate::plugin::guest::free(buffer) }
        }
    };
}
