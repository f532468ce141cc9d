//! The host side of the ABI: load a pinned plugin and use it as a [`Provider`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::messages::{
    Configuration, Envelope, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Request, Response,
};
use super::{
    ABI_VERSION, AbiVersionFn, FreeFn, InvokeFn, PluginBuffer, STATUS_ERROR, STATUS_OK,
    STATUS_PANIC, symbols,
};
use crate::{
    Action, Description, DesiredSpec, ImportRequest, Imported, InFlightTarget, ObserveRequest,
    Observed, PlanError, PlanRequest, Problem, Provider, ProviderError, ProviderFuture, Step,
    StepOutcome,
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

struct Inner {
    path: PathBuf,
    loaded_from: PathBuf,
    invoke: InvokeFn,
    free: FreeFn,
    healthy: AtomicBool,
    /// The negotiated protocol version (0 until the handshake).
    protocol: AtomicU32,
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
        let (invoke, free) = open(path, &copy.file)?;
        let loaded_from = copy.file.clone();
        copy.release();
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            loaded_from,
            invoke,
            free,
            healthy: AtomicBool::new(true),
            protocol: AtomicU32::new(0),
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

    fn blocking<T, F>(&self, request: Request, finish: F) -> ProviderFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, Response) -> Result<T, ProviderError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let op = request.op();
        Box::pin(async move {
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

#[expect(
    unsafe_code,
    reason = "loading a shared library and resolving its C symbols"
)]
fn open(path: &Path, copy: &Path) -> Result<(InvokeFn, FreeFn), PluginError> {
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
    // Never unloaded: the plugin's threads, thread-locals and runtime may outlive any call,
    // and unloading under them is undefined behaviour.
    std::mem::forget(library);
    Ok((invoke, free))
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
