//! The host side of the ABI: load a pinned plugin and use it as a [`Provider`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::messages::{
    Configuration, Envelope, HOST_GATE_PROTOCOL_VERSION, HostRequest, HostResponse,
    MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Request, Response,
};
use super::{
    ABI_VERSION, AbiVersionFn, FreeFn, HostChannel, InvokeFn, PluginBuffer, STATUS_ERROR,
    STATUS_OK, STATUS_PANIC, SetHostFn, symbols,
};
use crate::{
    Action, CallGate, CallKey, CallReport, Description, DesiredSpec, GateSlot, ImportRequest,
    Imported, InFlightTarget, ObserveRequest, Observed, PlanError, PlanRequest, Problem, Provider,
    ProviderError, ProviderFuture, Step, StepOutcome, Ticket,
};

/// A plugin that could not be loaded. Every message names the plugin's path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The file could not be read.
    #[error("cannot read plugin {}: {source}", path.display())]
    Unreadable {
        /// The plugin.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's SHA-256 differs from the pin in `migspec.yaml`.
    #[error(
        "plugin {} does not match its pin: sha256 is {actual}, migspec.yaml pins {expected}; \
         if you rebuilt or upgraded it on purpose, update the pin",
        path.display()
    )]
    ChecksumMismatch {
        /// The plugin.
        path: PathBuf,
        /// The pinned digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// The pin is not a SHA-256 hex digest.
    #[error("the pin for plugin {} is not a sha256 hex digest: `{pin}`", path.display())]
    BadPin {
        /// The plugin.
        path: PathBuf,
        /// The pin as written.
        pin: String,
    },
    /// The private copy of the plugin could not be written.
    #[error("cannot copy plugin {} to a private temporary directory before loading it: {source}", path.display())]
    Copy {
        /// The plugin.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The dynamic loader refused the library.
    #[error("cannot load plugin {}: {message}", path.display())]
    Load {
        /// The plugin.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// A required symbol is missing: not a migspec plugin, or built wrongly.
    #[error(
        "plugin {} does not export `{symbol}`: is it a migspec plugin built with `export_plugin!` as a cdylib?",
        path.display()
    )]
    MissingSymbol {
        /// The plugin.
        path: PathBuf,
        /// The symbol.
        symbol: String,
    },
    /// The plugin speaks another ABI version.
    #[error(
        "plugin {} speaks plugin ABI {found}, this migspec speaks {expected}: rebuild it against this migspec-provider",
        path.display()
    )]
    AbiVersion {
        /// The plugin.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// The plugin and this migspec share no protocol version.
    #[error(
        "plugin {} speaks plugin protocol {plugin_min}..={plugin_max}, this migspec speaks {host_min}..={host_max}: rebuild the plugin against a migspec-provider of a matching protocol (or use a migspec that speaks its protocol)",
        path.display()
    )]
    ProtocolVersion {
        /// The plugin.
        path: PathBuf,
        /// The oldest version this migspec accepts.
        host_min: u32,
        /// The newest.
        host_max: u32,
        /// The oldest version the plugin speaks.
        plugin_min: u32,
        /// The newest.
        plugin_max: u32,
    },
    /// The plugin refused its configuration (or failed the handshake).
    #[error("plugin {} could not be configured from migspec.yaml: {error}", path.display())]
    Configure {
        /// The plugin.
        path: PathBuf,
        /// What it said.
        error: Box<ProviderError>,
    },
    /// The plugin failed its first call (`describe`).
    #[error("plugin {} failed to describe itself: {error}", path.display())]
    Describe {
        /// The plugin.
        path: PathBuf,
        /// What it said.
        error: Box<ProviderError>,
    },
}

/// The SHA-256 of a file, lower-case hex (what `migspec.yaml` pins).
///
/// # Errors
///
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// The host's end of a plugin's guest→host calls (protocol 3): the call gate the plugin's
/// requests are admitted through, under the plugin's own provider name.
///
/// What a [`HostChannel`] points to. [`PluginProvider`] makes one per loaded plugin; it is
/// public so that the round trip can be tested without a library.
#[derive(Debug)]
pub struct HostGateway {
    /// The provider name keys are made under (the plugin's `describe().name`).
    provider: std::sync::RwLock<String>,
    /// The runner's gate once attached; an open gate before.
    gate: GateSlot,
    /// What each granted request holds (the runner's concurrency permit) until the plugin
    /// releases it, per key in grant order (which grant a release ends does not matter).
    tickets: std::sync::Mutex<std::collections::HashMap<CallKey, Vec<Ticket>>>,
    /// The host's runtime, whose timers the gate's waits run on (recorded by each async
    /// trait call, which is when the plugin may call back).
    runtime: std::sync::RwLock<Option<tokio::runtime::Handle>>,
}

impl HostGateway {
    /// A gateway that names keys after `provider`, admitting through an open gate until
    /// [`HostGateway::attach`].
    #[must_use]
    pub fn new(provider: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            provider: std::sync::RwLock::new(provider.into()),
            gate: GateSlot::default(),
            tickets: std::sync::Mutex::default(),
            runtime: std::sync::RwLock::new(None),
        })
    }

    /// Admits the plugin's requests through `gate` from now on.
    pub fn attach(&self, gate: Arc<dyn CallGate>) {
        self.gate.set(gate);
    }

    fn set_provider(&self, name: &str) {
        name.clone_into(
            &mut self
                .provider
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Records the runtime of the calling task, whose timers the gate waits on.
    pub fn enter(&self) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            *self.runtime.write().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        }
    }

    /// The C channel to this gateway. It holds a reference for the rest of the process:
    /// the plugin may call it at any time and is never unloaded.
    #[must_use]
    pub fn channel(self: &Arc<Self>) -> HostChannel {
        HostChannel {
            context: Arc::into_raw(Arc::clone(self)).cast(),
            call: host_call,
            free: host_free,
        }
    }

    /// Answers one guest→host message. `acquire` returns once the gate admits the request.
    #[must_use]
    pub fn answer(&self, request: HostRequest) -> HostResponse {
        let provider = self
            .provider
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let gate = self.gate.get();
        match request {
            HostRequest::Acquire(key) => {
                let key = key.to_key(&provider);
                let runtime = self
                    .runtime
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let ticket = match runtime {
                    // The plugin calls from a thread of its own (not one of the host's async
                    // workers), so blocking it on the host's runtime is what waiting means.
                    Some(runtime) => runtime.block_on(gate.admit(&key)),
                    None => match tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                    {
                        // No async trait call recorded a runtime (a library caller driving
                        // the plugin from its own thread): wait on a runtime of this call.
                        Ok(runtime) => runtime.block_on(gate.admit(&key)),
                        Err(error) => {
                            return HostResponse::Error {
                                message: format!("cannot wait for a permit for {key}: {error}"),
                            };
                        }
                    },
                };
                self.tickets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(key)
                    .or_default()
                    .push(ticket);
                HostResponse::Granted
            }
            HostRequest::Release(key) => {
                let key = key.to_key(&provider);
                let mut tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(held) = tickets.get_mut(&key) {
                    drop(held.pop());
                    if held.is_empty() {
                        tickets.remove(&key);
                    }
                }
                HostResponse::Released
            }
            HostRequest::Report {
                key,
                result,
                request_id,
                duration_ms,
            } => {
                let report = CallReport {
                    result: result.into(),
                    request_id,
                    duration: std::time::Duration::from_millis(duration_ms),
                };
                gate.report(&key.to_key(&provider), &report);
                HostResponse::Reported
            }
        }
    }
}

/// The [`HostChannel`]'s `call`.
#[expect(unsafe_code, reason = "the host side of the guest-to-host C callback")]
unsafe extern "C" fn host_call(
    context: *const std::ffi::c_void,
    request: *const u8,
    request_len: usize,
    out: *mut PluginBuffer,
) -> i32 {
    let bytes: &[u8] = if request.is_null() || request_len == 0 {
        &[]
    } else {
        // SAFETY: the plugin passes `request_len` readable bytes it keeps for the call.
        unsafe { std::slice::from_raw_parts(request, request_len) }
    };
    // A panic must not unwind into the plugin's frames (undefined across `extern "C"`).
    let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `context` is the `Arc<HostGateway>` leaked by `HostGateway::channel`,
        // never released, so the reference is valid for the process.
        let gateway = unsafe { &*context.cast::<HostGateway>() };
        match serde_json::from_slice::<Envelope<HostRequest>>(bytes) {
            Ok(envelope) => (STATUS_OK, gateway.answer(envelope.message)),
            Err(error) => (
                STATUS_ERROR,
                HostResponse::Error {
                    message: format!(
                        "not a guest-to-host message of this host's protocol: {error}"
                    ),
                },
            ),
        }
    }));
    let (status, response) = answered.unwrap_or_else(|_| {
        (
            STATUS_ERROR,
            HostResponse::Error {
                message: "the host panicked answering the plugin".to_owned(),
            },
        )
    });
    let envelope = Envelope {
        protocol: PROTOCOL_VERSION,
        message: response,
    };
    let mut buffer = serde_json::to_vec(&envelope).unwrap_or_else(|_| b"{}".to_vec());
    buffer.shrink_to_fit();
    let mut buffer = std::mem::ManuallyDrop::new(buffer);
    // SAFETY: the plugin passes a valid, writable buffer for the answer.
    unsafe {
        out.write(PluginBuffer {
            ptr: buffer.as_mut_ptr(),
            len: buffer.len(),
            cap: buffer.capacity(),
        });
    }
    status
}

/// The [`HostChannel`]'s `free`.
#[expect(unsafe_code, reason = "the host frees the buffers it allocated")]
unsafe extern "C" fn host_free(_context: *const std::ffi::c_void, buffer: PluginBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: `host_call` made this buffer from a `Vec<u8>` with exactly this pointer, length
    // and capacity, in this module (the host's allocator), and the plugin frees it once.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

struct Inner {
    path: PathBuf,
    loaded_from: PathBuf,
    invoke: InvokeFn,
    free: FreeFn,
    /// `migspec_plugin_set_host`, when the plugin exports it.
    set_host: Option<SetHostFn>,
    healthy: AtomicBool,
    /// The negotiated protocol version (0 until the handshake).
    protocol: AtomicU32,
    /// Where the plugin's requests are admitted (protocol 3).
    gateway: Arc<HostGateway>,
    /// Whether the plugin's provider asks the gateway before each request (its answer to
    /// `attach_gate`); when not, the runner admits each trait call as a whole.
    admits_requests: AtomicBool,
}

/// A provider loaded from a shared library, used through the ABI.
#[derive(Clone)]
pub struct PluginProvider {
    inner: Arc<Inner>,
    description: Description,
}

impl std::fmt::Debug for PluginProvider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PluginProvider")
            .field("path", &self.inner.path)
            .field("name", &self.description.name)
            .finish_non_exhaustive()
    }
}

impl PluginProvider {
    /// Loads a plugin after checking its SHA-256 against `pin`, then checks its ABI version
    /// and asks it to describe itself. The library is never unloaded.
    ///
    /// # Guarantees
    ///
    /// The bytes that were hashed are the bytes that are loaded: the file is read once, its
    /// bytes hashed and written to a private copy (a fresh directory only this user can
    /// enter, mode 0700, the file mode 0500), and the copy is loaded. Replacing the file at
    /// `path` after it was read changes nothing. On Unix the copy is removed once loaded
    /// (the loader's mapping keeps it alive for the process).
    ///
    /// # Errors
    ///
    /// A [`PluginError`] naming the path: unreadable, pin mismatch, not loadable, missing
    /// symbol, wrong ABI version, or a failing `describe`.
    pub fn load(path: &Path, pin: &str) -> Result<Self, PluginError> {
        Self::load_configured(path, pin, &Configuration::default())
    }

    /// [`PluginProvider::load`], then the handshake and `configure` with `configuration`
    /// (the plugin's settings and credentials from `migspec.yaml`), then `describe`.
    ///
    /// # Errors
    ///
    /// As [`PluginProvider::load`], and [`PluginError::ProtocolVersion`] when the plugin
    /// shares no protocol version with this migspec, [`PluginError::Configure`] when it
    /// refuses its configuration.
    pub fn load_configured(
        path: &Path,
        pin: &str,
        configuration: &Configuration,
    ) -> Result<Self, PluginError> {
        Self::load_inner(path, pin, configuration, || {})
    }

    /// [`PluginProvider::load`] with `between` run after the file was read and hashed and
    /// before the library is loaded. A test hook: it lets a test replace the file at that
    /// moment and prove that what is loaded does not change. Use [`PluginProvider::load`].
    ///
    /// # Errors
    ///
    /// As [`PluginProvider::load`].
    #[doc(hidden)]
    pub fn load_with_hook(
        path: &Path,
        pin: &str,
        between: impl FnOnce(),
    ) -> Result<Self, PluginError> {
        Self::load_inner(path, pin, &Configuration::default(), between)
    }

    fn load_inner(
        path: &Path,
        pin: &str,
        configuration: &Configuration,
        between: impl FnOnce(),
    ) -> Result<Self, PluginError> {
        let pin = pin.trim().to_ascii_lowercase();
        if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PluginError::BadPin {
                path: path.to_path_buf(),
                pin,
            });
        }
        let unreadable = |source| PluginError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != pin {
            return Err(PluginError::ChecksumMismatch {
                path: path.to_path_buf(),
                expected: pin,
                actual,
            });
        }
        between();
        let copy = PrivateCopy::write(path, &bytes).map_err(|source| PluginError::Copy {
            path: path.to_path_buf(),
            source,
        })?;
        drop(bytes);
        let (invoke, free, set_host) = open(path, &copy.file)?;
        let loaded_from = copy.file.clone();
        copy.release();
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            loaded_from,
            invoke,
            free,
            set_host,
            healthy: AtomicBool::new(true),
            protocol: AtomicU32::new(0),
            gateway: HostGateway::new(String::new()),
            admits_requests: AtomicBool::new(false),
        });
        let configure_error = |error| PluginError::Configure {
            path: path.to_path_buf(),
            error: Box::new(error),
        };
        let handshake = Request::Handshake {
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
            min: MIN_PROTOCOL_VERSION,
            max: PROTOCOL_VERSION,
        };
        match call(&inner, handshake).map_err(configure_error)? {
            Response::Handshake { protocol }
                if (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&protocol) =>
            {
                inner.protocol.store(protocol, Ordering::SeqCst);
            }
            Response::Incompatible { min, max } => {
                return Err(PluginError::ProtocolVersion {
                    path: path.to_path_buf(),
                    host_min: MIN_PROTOCOL_VERSION,
                    host_max: PROTOCOL_VERSION,
                    plugin_min: min,
                    plugin_max: max,
                });
            }
            other => return Err(configure_error(unexpected(&inner, "handshake", &other))),
        }
        match call(&inner, Request::Configure(configuration.clone())).map_err(configure_error)? {
            Response::Configured => {}
            other => return Err(configure_error(unexpected(&inner, "configure", &other))),
        }
        attach_host(&inner).map_err(configure_error)?;
        let description = match call(&inner, Request::Describe) {
            Ok(Response::Description(description)) => Ok(description),
            Ok(other) => Err(unexpected(&inner, "describe", &other)),
            Err(error) => Err(error),
        }
        .map_err(|error| PluginError::Describe {
            path: path.to_path_buf(),
            error: Box::new(error),
        });
        let description = description?;
        inner.gateway.set_provider(&description.name);
        Ok(Self { inner, description })
    }

    /// The plugin's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The private copy that was loaded (on Unix removed once loaded, so that
    /// `/proc/self/maps` lists it as deleted).
    #[must_use]
    pub fn loaded_from(&self) -> &Path {
        &self.inner.loaded_from
    }

    /// Whether the plugin is still usable (it is not after a caught panic).
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::SeqCst)
    }

    /// Whether the plugin asks the host's gate before each of its requests (protocol 3 and
    /// a provider that takes a gate); otherwise the runner admits each trait call.
    #[must_use]
    pub fn admits_requests(&self) -> bool {
        self.inner.admits_requests.load(Ordering::SeqCst)
    }

    fn blocking<T, F>(&self, request: Request, finish: F) -> ProviderFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, Response) -> Result<T, ProviderError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let op = request.op();
        Box::pin(async move {
            // The plugin's permits are waited for on this runtime's timers.
            inner.gateway.enter();
            // The plugin blocks on its own runtime: keep it off the host's async workers.
            tokio::task::spawn_blocking(move || {
                let response = call(&inner, request)?;
                finish(&inner, response)
            })
            .await
            .map_err(|error| ProviderError::Contract {
                message: format!("plugin call `{op}` was aborted: {error}"),
            })?
        })
    }
}

/// The hashed bytes of a plugin, written where only this user can change them.
struct PrivateCopy {
    dir: tempfile::TempDir,
    file: PathBuf,
}

impl PrivateCopy {
    /// Writes `bytes` (read from `path`) to a new file, with `path`'s file name, in a fresh
    /// directory of the system's temporary directory (mode 0700; the file 0500 once written).
    fn write(path: &Path, bytes: &[u8]) -> std::io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("migspec-plugin-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir()?;
        let name = path
            .file_name()
            .map_or_else(|| "plugin".into(), std::ffi::OsStr::to_os_string);
        let file = dir.path().join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut handle = options.open(&file)?;
        std::io::Write::write_all(&mut handle, bytes)?;
        handle.sync_all()?;
        drop(handle);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o500))?;
        }
        Ok(Self { dir, file })
    }

    /// Once the library is loaded: on Unix the copy is removed (the mapping keeps the file
    /// alive for the process, which never unloads it); elsewhere a loaded library cannot
    /// be removed, so the copy is kept.
    fn release(self) {
        #[cfg(unix)]
        drop(self.dir);
        #[cfg(not(unix))]
        let _ = self.dir.keep();
    }
}

/// Protocol 3: gives the plugin the host's channel, then asks it to attach the host's gate
/// to its provider; records whether it did. Nothing for an older plugin, or one without
/// `migspec_plugin_set_host`.
#[expect(unsafe_code, reason = "calling the plugin's optional C entry point")]
fn attach_host(inner: &Inner) -> Result<(), ProviderError> {
    let (Some(set_host), true) = (
        inner.set_host,
        inner.protocol.load(Ordering::SeqCst) >= HOST_GATE_PROTOCOL_VERSION,
    ) else {
        return Ok(());
    };
    // SAFETY: `set_host` has the ABI's signature (the symbol of ABI 1's optional entry point);
    // the channel's context is a leaked `Arc` valid for the process and its functions may
    // be called from any thread, as the ABI documents.
    let status = unsafe { set_host(inner.gateway.channel()) };
    if status != STATUS_OK {
        return Err(ProviderError::Contract {
            message: format!(
                "plugin {} refused the host's channel (status {status}): was `migspec_plugin_set_host` called twice?",
                inner.path.display()
            ),
        });
    }
    match call(inner, Request::AttachGate)? {
        Response::GateAttached { admits_requests } => {
            inner
                .admits_requests
                .store(admits_requests, Ordering::SeqCst);
            Ok(())
        }
        other => Err(unexpected(inner, "attach_gate", &other)),
    }
}

#[expect(
    unsafe_code,
    reason = "loading a shared library and resolving its C symbols"
)]
fn open(path: &Path, copy: &Path) -> Result<(InvokeFn, FreeFn, Option<SetHostFn>), PluginError> {
    // SAFETY: loading a library runs its initialisers. `copy` holds exactly the bytes whose
    // SHA-256 was just checked against the user's pin (the trust decision for running its
    // code), in a directory only this user can write, so what runs is what was pinned.
    let library = unsafe { libloading::Library::new(copy) }.map_err(|error| PluginError::Load {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    let missing = |symbol: &[u8]| PluginError::MissingSymbol {
        path: path.to_path_buf(),
        symbol: String::from_utf8_lossy(&symbol[..symbol.len() - 1]).into_owned(),
    };
    // SAFETY: the symbol is the ABI-version function every migspec plugin exports with this
    // exact signature; a library exporting the name with another type is not a migspec plugin.
    let version = unsafe { library.get::<AbiVersionFn>(symbols::ABI_VERSION) }
        .map_err(|_| missing(symbols::ABI_VERSION))?;
    // SAFETY: as above; the function takes no arguments and touches no host memory.
    let found = unsafe { version() };
    if found != ABI_VERSION {
        return Err(PluginError::AbiVersion {
            path: path.to_path_buf(),
            found,
            expected: ABI_VERSION,
        });
    }
    // SAFETY: ABI version 1 defines `migspec_plugin_invoke` with the `InvokeFn` signature.
    let invoke = *unsafe { library.get::<InvokeFn>(symbols::INVOKE) }
        .map_err(|_| missing(symbols::INVOKE))?;
    // SAFETY: ABI version 1 defines `migspec_plugin_free` with the `FreeFn` signature.
    let free =
        *unsafe { library.get::<FreeFn>(symbols::FREE) }.map_err(|_| missing(symbols::FREE))?;
    // SAFETY: ABI version 1 defines the optional `migspec_plugin_set_host` with the
    // `SetHostFn` signature; a plugin without it is a protocol 2 plugin.
    let set_host = unsafe { library.get::<SetHostFn>(symbols::SET_HOST) }
        .ok()
        .map(|symbol| *symbol);
    // Never unloaded: the plugin's threads, thread-locals and runtime may outlive any call,
    // and unloading under them is undefined behaviour.
    std::mem::forget(library);
    Ok((invoke, free, set_host))
}

#[expect(unsafe_code, reason = "calling the plugin's C entry points")]
fn call(inner: &Inner, request: Request) -> Result<Response, ProviderError> {
    let op = request.op();
    if !inner.healthy.load(Ordering::SeqCst) {
        return Err(ProviderError::Contract {
            message: format!(
                "plugin {} panicked earlier and is no longer used",
                inner.path.display()
            ),
        });
    }
    let envelope = Envelope {
        protocol: inner.protocol.load(Ordering::SeqCst),
        message: request,
    };
    let request = serde_json::to_vec(&envelope).map_err(|error| ProviderError::Contract {
        message: format!("cannot encode a `{op}` request: {error}"),
    })?;
    let mut out = PluginBuffer::empty();
    // SAFETY: `request` stays alive and unmoved for the call; `out` is a valid, exclusive
    // buffer the plugin fills; `invoke` has the ABI's signature (checked by version).
    let status = unsafe { (inner.invoke)(request.as_ptr(), request.len(), &raw mut out) };
    let bytes = if out.ptr.is_null() {
        Vec::new()
    } else {
        // SAFETY: the plugin filled `out` with `len` initialised bytes it owns until `free`.
        unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec()
    };
    // SAFETY: `out` came from this plugin's `invoke` and is freed exactly once, by the plugin.
    unsafe { (inner.free)(out) };
    if status == STATUS_PANIC {
        inner.healthy.store(false, Ordering::SeqCst);
    }
    let response: Envelope<Response> =
        serde_json::from_slice(&bytes).map_err(|error| ProviderError::Contract {
            message: format!(
                "plugin {} answered `{op}` with a message that is not a response: {error}",
                inner.path.display()
            ),
        })?;
    match (status, response.message) {
        (STATUS_PANIC, Response::Panic { message }) | (_, Response::Panic { message }) => {
            inner.healthy.store(false, Ordering::SeqCst);
            Err(ProviderError::Contract {
                message: format!(
                    "plugin {} panicked during `{op}`: {message}; it will not be used again in this run",
                    inner.path.display()
                ),
            })
        }
        (STATUS_OK | STATUS_ERROR, Response::Error(error)) => Err(error),
        (STATUS_OK | STATUS_ERROR, Response::PlanError(plan_error)) => {
            Err(ProviderError::Rejected {
                service: inner.path.display().to_string(),
                code: "plan_error".to_owned(),
                message: plan_error.message,
                request_id: None,
            })
        }
        (STATUS_OK | STATUS_ERROR, response) => Ok(response),
        (other, _) => Err(ProviderError::Contract {
            message: format!(
                "plugin {} returned unknown status {other}",
                inner.path.display()
            ),
        }),
    }
}

/// A response of the wrong variant for the operation.
fn unexpected(inner: &Inner, op: &str, response: &Response) -> ProviderError {
    let shown = serde_json::to_value(response)
        .ok()
        .and_then(|value| value.get("result").cloned())
        .unwrap_or_default();
    ProviderError::Contract {
        message: format!(
            "plugin {} answered `{op}` with a `{shown}` response",
            inner.path.display()
        ),
    }
}

impl Provider for PluginProvider {
    fn describe(&self) -> Description {
        self.description.clone()
    }

    /// A protocol 3 plugin whose provider takes a gate has each of its requests admitted
    /// through `gate` (over the host channel); any other plugin returns `false`, and the
    /// runner admits each of its trait calls as a whole.
    fn attach_gate(&self, gate: Arc<dyn CallGate>) -> bool {
        if !self.admits_requests() {
            return false;
        }
        self.inner.gateway.attach(gate);
        true
    }

    fn validate(&self, kind: &str, document: &Value) -> Vec<Problem> {
        let request = Request::Validate {
            kind: kind.to_owned(),
            document: document.clone(),
        };
        let failed = |error: ProviderError| {
            vec![Problem::error(
                "migspec::plugin::validate",
                "",
                error.to_string(),
                format!("check plugin {}", self.inner.path.display()),
            )]
        };
        match call(&self.inner, request) {
            Ok(Response::Problems(problems)) => problems,
            Ok(other) => failed(unexpected(&self.inner, "validate", &other)),
            Err(error) => failed(error),
        }
    }

    fn location(&self, desired: &DesiredSpec) -> Result<Value, ProviderError> {
        match call(&self.inner, Request::Location(desired.clone()))? {
            Response::Location(location) => Ok(location),
            other => Err(unexpected(&self.inner, "location", &other)),
        }
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        self.blocking(Request::Observe(request), observed("observe"))
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let address = request.address.clone();
        let failure = |message: String| PlanError {
            address: address.clone(),
            message,
        };
        match call(&self.inner, Request::Plan(request.clone())) {
            Ok(Response::Actions(actions)) => Ok(actions),
            Ok(other) => Err(failure(unexpected(&self.inner, "plan", &other).to_string())),
            Err(ProviderError::Rejected { code, message, .. }) if code == "plan_error" => {
                Err(failure(message))
            }
            Err(error) => Err(failure(error.to_string())),
        }
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        self.blocking(Request::Apply(step), |inner, response| match response {
            Response::Outcome(outcome) => Ok(outcome),
            other => Err(unexpected(inner, "apply", &other)),
        })
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        self.blocking(Request::Poll(in_flight), observed("poll"))
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        self.blocking(Request::Import(request), |inner, response| match response {
            Response::Imported(imported) => Ok(imported),
            other => Err(unexpected(inner, "import", &other)),
        })
    }
}

fn observed(
    op: &'static str,
) -> impl FnOnce(&Inner, Response) -> Result<Vec<Observed>, ProviderError> + Send + 'static {
    move |inner, response| match response {
        Response::Observed(observed) => Ok(observed),
        other => Err(unexpected(inner, op, &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::guest::HostGate;
    use crate::{CallKey, CallResult};
    use std::sync::Mutex;

    /// A host gate that records what it admits and learns.
    #[derive(Debug, Default)]
    struct Recording {
        admitted: Mutex<Vec<CallKey>>,
        reports: Mutex<Vec<(CallKey, CallReport)>>,
        /// Permits given back (tickets dropped).
        released: Arc<std::sync::atomic::AtomicUsize>,
    }

    /// Counts its drop: what a concurrency permit's release is to the runner's gate.
    struct Permit(Arc<std::sync::atomic::AtomicUsize>);

    impl Drop for Permit {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl CallGate for Recording {
        fn admit<'a>(
            &'a self,
            key: &'a CallKey,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Ticket> + Send + 'a>> {
            self.admitted.lock().unwrap().push(key.clone());
            Box::pin(std::future::ready(Ticket::holding(Permit(
                self.released.clone(),
            ))))
        }

        fn report(&self, key: &CallKey, report: &CallReport) {
            self.reports
                .lock()
                .unwrap()
                .push((key.clone(), report.clone()));
        }
    }

    #[tokio::test]
    async fn a_guest_permit_and_its_throttle_report_cross_the_c_channel_to_the_host_gate() {
        let gateway = HostGateway::new("oms-plugin");
        let recording = Arc::new(Recording::default());
        gateway.attach(recording.clone());
        gateway.enter();
        let guest = HostGate::new(gateway.channel(), 3);
        // The guest names its own provider; the host keys the call under the plugin's name.
        let asked = CallKey::new("huawei-oms", "list_task_group", "cn-north-4", "env AK/SK");
        let ticket = guest.admit(&asked).await;
        let expected = CallKey::new("oms-plugin", "list_task_group", "cn-north-4", "env AK/SK");
        assert_eq!(*recording.admitted.lock().unwrap(), vec![expected.clone()]);
        // The host holds the permit of the grant until the guest's ticket is dropped.
        assert_eq!(recording.released.load(Ordering::SeqCst), 0);
        guest.report(
            &asked,
            &CallReport {
                result: CallResult::Throttled {
                    code: "APIGW.0308".to_owned(),
                    retry_after: Some(std::time::Duration::from_millis(1500)),
                },
                request_id: Some("req-7".to_owned()),
                duration: std::time::Duration::from_millis(12),
            },
        );
        assert_eq!(recording.released.load(Ordering::SeqCst), 0);
        drop(ticket);
        assert_eq!(
            recording.released.load(Ordering::SeqCst),
            1,
            "the host kept the permit after the guest's request was over"
        );
        let reports = recording.reports.lock().unwrap();
        assert_eq!(reports.len(), 1);
        let (key, report) = &reports[0];
        assert_eq!(key, &expected);
        assert_eq!(
            report.result,
            CallResult::Throttled {
                code: "APIGW.0308".to_owned(),
                retry_after: Some(std::time::Duration::from_millis(1500)),
            }
        );
        assert_eq!(report.request_id.as_deref(), Some("req-7"));
        assert_eq!(report.duration, std::time::Duration::from_millis(12));
    }

    #[test]
    fn a_message_the_host_cannot_read_is_answered_with_an_error_not_a_crash() {
        let gateway = HostGateway::new("p");
        let channel = gateway.channel();
        let mut out = PluginBuffer::empty();
        let garbage = b"{\"protocol\": 3, \"op\": \"teleport\"}";
        #[expect(unsafe_code, reason = "calling the host channel as a plugin would")]
        // SAFETY: a valid request buffer and an exclusive output buffer, as the ABI requires.
        let status = unsafe {
            (channel.call)(
                channel.context,
                garbage.as_ptr(),
                garbage.len(),
                &raw mut out,
            )
        };
        #[expect(unsafe_code, reason = "reading the host's answer as a plugin would")]
        // SAFETY: the host filled `out`; it is read before being freed once.
        let answer: Envelope<HostResponse> = unsafe {
            let answer = serde_json::from_slice(std::slice::from_raw_parts(out.ptr, out.len));
            (channel.free)(channel.context, out);
            answer.unwrap()
        };
        assert_eq!(status, STATUS_ERROR);
        let HostResponse::Error { message } = answer.message else {
            panic!("not an error: {answer:?}");
        };
        assert!(message.contains("teleport"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn the_private_copy_holds_the_bytes_where_only_this_user_can_write() {
        use std::os::unix::fs::PermissionsExt;
        let copy = PrivateCopy::write(Path::new("/somewhere/libplugin.so"), b"the bytes").unwrap();
        assert_eq!(copy.file.file_name().unwrap(), "libplugin.so");
        assert_eq!(std::fs::read(&copy.file).unwrap(), b"the bytes");
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(copy.dir.path()), 0o700);
        assert_eq!(mode(&copy.file), 0o500);
        assert!(copy.dir.path().starts_with(std::env::temp_dir()));
        let (dir, file) = (copy.dir.path().to_path_buf(), copy.file.clone());
        copy.release();
        assert!(!file.exists() && !dir.exists(), "removed once loaded");
    }

    #[test]
    fn a_mismatching_file_is_refused_before_the_hook_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libplugin.so");
        std::fs::write(&path, b"not the pinned bytes").unwrap();
        let mut ran = false;
        let error =
            PluginProvider::load_with_hook(&path, &"0".repeat(64), || ran = true).unwrap_err();
        assert!(
            matches!(error, PluginError::ChecksumMismatch { .. }),
            "{error}"
        );
        assert!(!ran);
    }
}
