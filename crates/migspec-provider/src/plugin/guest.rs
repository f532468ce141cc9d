//! The plugin side of the ABI: what [`export_plugin!`](crate::export_plugin) calls. It
//! decodes a [`Request`], answers the handshake, builds the provider on `configure`, and
//! encodes a [`Response`]; a panic anywhere in that is caught and answered as
//! [`Response::Panic`].

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use super::messages::{Configuration, Envelope, PROTOCOL_VERSION, Request, Response, negotiate};
use super::{PluginBuffer, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use crate::{Provider, ProviderError};

/// The plugin's provider (built by `configure`, from the configuration the host sends) and
/// the tokio runtime its async calls run on.
pub struct Instance {
    provider: OnceLock<Result<Box<dyn Provider>, String>>,
    runtime: Result<tokio::runtime::Runtime, String>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Instance")
    }
}

/// What the guest supports, and how it builds its provider.
pub struct Plugin<F> {
    /// The protocol versions the plugin speaks (`MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION` for
    /// a plugin built with this crate).
    pub protocols: (u32, u32),
    /// Builds the provider from the host's configuration.
    pub construct: F,
}

/// Handles one `migspec_plugin_invoke` call.
///
/// # Safety
///
/// `request` must point to `request_len` readable bytes (or be null with length 0) and `out`
/// must be a valid, writable pointer, for the duration of the call.
#[expect(
    unsafe_code,
    reason = "the plugin side of the C ABI reads and writes raw buffers"
)]
pub unsafe fn invoke<F>(
    instance: &OnceLock<Instance>,
    request: *const u8,
    request_len: usize,
    out: *mut PluginBuffer,
    plugin: Plugin<F>,
) -> i32
where
    F: FnOnce(&Configuration) -> Result<Box<dyn Provider>, String>,
{
    let bytes: &[u8] = if request.is_null() || request_len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `request_len` readable bytes at `request`.
        unsafe { std::slice::from_raw_parts(request, request_len) }
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let instance = instance.get_or_init(|| Instance {
            provider: OnceLock::new(),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("migspec-plugin")
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the plugin's runtime: {error}")),
        });
        handle(instance, bytes, plugin)
    }));
    let (status, response) = match outcome {
        Ok(Ok(response)) => (STATUS_OK, response),
        Ok(Err(response)) => (STATUS_ERROR, response),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            (STATUS_PANIC, Response::Panic { message })
        }
    };
    let envelope = Envelope {
        protocol: PROTOCOL_VERSION,
        message: response,
    };
    let mut buffer = serde_json::to_vec(&envelope).unwrap_or_else(|_| b"{}".to_vec());
    buffer.shrink_to_fit();
    let mut buffer = std::mem::ManuallyDrop::new(buffer);
    let result = PluginBuffer {
        ptr: buffer.as_mut_ptr(),
        len: buffer.len(),
        cap: buffer.capacity(),
    };
    // SAFETY: the caller guarantees `out` is valid and writable.
    unsafe { out.write(result) };
    status
}

/// Releases a buffer made by [`invoke`].
///
/// # Safety
///
/// `buffer` must come from this plugin's [`invoke`] and be freed only once.
#[expect(
    unsafe_code,
    reason = "the plugin side of the C ABI frees its own buffers"
)]
pub unsafe fn free(buffer: PluginBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: `invoke` made this buffer from a `Vec<u8>` with exactly this pointer, length and
    // capacity, in this same module (same allocator), and the host frees it once.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

fn contract(message: impl Into<String>) -> Response {
    Response::Error(ProviderError::Contract {
        message: message.into(),
    })
}

fn handle<F>(instance: &Instance, bytes: &[u8], plugin: Plugin<F>) -> Result<Response, Response>
where
    F: FnOnce(&Configuration) -> Result<Box<dyn Provider>, String>,
{
    let envelope: Envelope<Request> = serde_json::from_slice(bytes)
        .map_err(|e| contract(format!("not a request of this plugin's protocol: {e}")))?;
    let request = envelope.message;
    if let Request::Handshake { min, max, .. } = request {
        return Ok(match negotiate((min, max), plugin.protocols) {
            Some(protocol) => Response::Handshake { protocol },
            None => Response::Incompatible {
                min: plugin.protocols.0,
                max: plugin.protocols.1,
            },
        });
    }
    if !(plugin.protocols.0..=plugin.protocols.1).contains(&envelope.protocol) {
        return Err(contract(format!(
            "request in protocol {}, plugin speaks {}..={}",
            envelope.protocol, plugin.protocols.0, plugin.protocols.1
        )));
    }
    let construct = plugin.construct;
    if let Request::Configure(configuration) = &request {
        let mut fresh = false;
        let built = instance.provider.get_or_init(|| {
            fresh = true;
            construct(configuration)
        });
        return match (fresh, built) {
            (true, Ok(_)) => Ok(Response::Configured),
            (true, Err(message)) => Err(Response::Error(ProviderError::Config {
                message: message.clone(),
            })),
            (false, _) => Err(contract("`configure` was sent twice")),
        };
    }
    // A host that sends no `configure` (library use) gets the provider built from an empty
    // configuration.
    let provider = instance
        .provider
        .get_or_init(|| construct(&Configuration::default()))
        .as_ref()
        .map_err(|message| {
            Response::Error(ProviderError::Config {
                message: format!("the plugin could not start: {message}"),
            })
        })?;
    let runtime = instance.runtime.as_ref().map_err(contract)?;
    let failed = |error: ProviderError| Response::Error(error);
    Ok(match request {
        Request::Handshake { .. } | Request::Configure(_) => {
            unreachable!("answered above")
        }
        Request::Describe => Response::Description(provider.describe()),
        Request::Validate { kind, document } => {
            Response::Problems(provider.validate(&kind, &document))
        }
        Request::Location(desired) => {
            Response::Location(provider.location(&desired).map_err(failed)?)
        }
        Request::Observe(request) => Response::Observed(
            runtime
                .block_on(provider.observe(request))
                .map_err(failed)?,
        ),
        Request::Plan(request) => {
            Response::Actions(provider.plan(&request).map_err(Response::PlanError)?)
        }
        Request::Apply(step) => {
            Response::Outcome(runtime.block_on(provider.apply(step)).map_err(failed)?)
        }
        Request::Poll(targets) => {
            Response::Observed(runtime.block_on(provider.poll(targets)).map_err(failed)?)
        }
        Request::Import(request) => {
            Response::Imported(runtime.block_on(provider.import(request)).map_err(failed)?)
        }
    })
}
