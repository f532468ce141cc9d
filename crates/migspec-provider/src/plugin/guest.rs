//! The plugin side of the ABI: what [`export_plugin!`](crate::export_plugin) calls. It
//! decodes a [`Request`], answers the handshake, builds the provider on `configure`, and
//! encodes a [`Response`]; a panic anywhere in that is caught and answered as
//! [`Response::Panic`].
//!
//! # Pacing a plugin's requests (protocol 3)
//!
//! A plugin does not pace, back off or retry its API requests: the host's call gate does,
//! one request at a time, as for a built-in provider. The guest receives the host's
//! [`HostChannel`] (`migspec_plugin_set_host`) and, on `attach_gate`, hands the provider a
//! [`HostGate`] through [`Provider::attach_gate`]: a [`CallGate`] whose `admit` asks the
//! host for a permit (`acquire`) and whose `report` tells the host how the request ended
//! (`report`; a throttle slows the host's pacing of that key down). A plugin author writes
//! the provider exactly as a built-in one: keep the gate in a [`GateSlot`](crate::GateSlot),
//! and before each request `slot.admit(key).await`, after it `admission.finish(result, id)`.
//! [`host_gate`] gives the same gate to code that has no provider at hand.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use super::messages::{
    Configuration, Envelope, HOST_GATE_PROTOCOL_VERSION, HostRequest, HostResponse,
    PROTOCOL_VERSION, Request, Response, WireCallKey, negotiate,
};
use super::{HostChannel, PluginBuffer, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use crate::{CallGate, CallKey, CallReport, Provider, ProviderError, Ticket};

/// The host's channel, once `migspec_plugin_set_host` gave it. A static of this module,
/// so one per plugin library: every plugin links its own copy of this crate.
static HOST: OnceLock<HostChannel> = OnceLock::new();

/// The protocol the handshake picked (0 before it).
static NEGOTIATED: AtomicU32 = AtomicU32::new(0);

/// Takes the host's channel (what `migspec_plugin_set_host` calls). A second channel is
/// refused: the first one stays valid for the process.
#[must_use]
pub fn set_host(channel: HostChannel) -> i32 {
    match HOST.set(channel) {
        Ok(()) => STATUS_OK,
        Err(_) => STATUS_ERROR,
    }
}

/// The host's call gate, when the host gave its channel (a protocol 3 host); `None` under
/// an older host, whose runner admits each trait call as a whole instead.
#[must_use]
pub fn host_gate() -> Option<Arc<dyn CallGate>> {
    let channel = HOST.get()?;
    let protocol = NEGOTIATED.load(Ordering::SeqCst);
    Some(Arc::new(HostGate::new(*channel, protocol)))
}

/// The host's call gate seen from the plugin: every `admit` is an `acquire` through the
/// host's channel, every `report` a `report`.
#[derive(Debug, Clone, Copy)]
pub struct HostGate {
    channel: HostChannel,
    protocol: u32,
}

impl HostGate {
    /// The gate behind `channel`, speaking `protocol` (the negotiated version).
    #[must_use]
    pub const fn new(channel: HostChannel, protocol: u32) -> Self {
        Self { channel, protocol }
    }

    /// One guest→host call; `Err` says what went wrong on the way.
    fn exchange(&self, request: &HostRequest) -> Result<HostResponse, String> {
        let envelope = Envelope {
            protocol: self.protocol,
            message: request,
        };
        let bytes = serde_json::to_vec(&envelope).map_err(|error| error.to_string())?;
        let mut out = PluginBuffer::empty();
        #[expect(unsafe_code, reason = "calling the host's C callback")]
        // SAFETY: the host guarantees the channel's functions and context stay valid for the
        // process and may be called from any thread; `bytes` lives through the call and `out`
        // is a valid, exclusive buffer for the host to fill.
        let status = unsafe {
            (self.channel.call)(
                self.channel.context,
                bytes.as_ptr(),
                bytes.len(),
                &raw mut out,
            )
        };
        let answer = if out.ptr.is_null() {
            Vec::new()
        } else {
            #[expect(unsafe_code, reason = "reading the host's answer buffer")]
            // SAFETY: the host filled `out` with `len` initialised bytes it owns until `free`.
            unsafe {
                std::slice::from_raw_parts(out.ptr, out.len).to_vec()
            }
        };
        #[expect(unsafe_code, reason = "releasing the host's answer buffer")]
        // SAFETY: `out` came from the host's `call` and is released once, by the host.
        unsafe {
            (self.channel.free)(self.channel.context, out);
        };
        let response: Envelope<HostResponse> =
            serde_json::from_slice(&answer).map_err(|error| error.to_string())?;
        match (status, response.message) {
            (STATUS_OK, response) => Ok(response),
            (_, HostResponse::Error { message }) => Err(message),
            (status, _) => Err(format!("the host answered with status {status}")),
        }
    }
}

impl CallGate for HostGate {
    fn admit<'a>(
        &'a self,
        key: &'a CallKey,
    ) -> Pin<Box<dyn std::future::Future<Output = Ticket> + Send + 'a>> {
        let request = HostRequest::Acquire(WireCallKey::from_key(key));
        let release = Release {
            gate: *self,
            key: WireCallKey::from_key(key),
        };
        let gate = *self;
        Box::pin(async move {
            // The host answers when the key's slot comes, which may be a while: wait on a
            // thread of the plugin's blocking pool, so the plugin's async workers keep
            // driving its other requests in flight.
            // An answer that is not `granted` (a bug on one side) lets the request go
            // anyway: admission never fails, and the server's throttle is still reported.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let _answer = runtime
                        .spawn_blocking(move || gate.exchange(&request))
                        .await;
                }
                Err(_) => {
                    let _answer = gate.exchange(&request);
                }
            }
            // Held by the plugin's admission until its request is over, then the host's
            // permit is given back (also when the request is abandoned unreported).
            Ticket::holding(release)
        })
    }

    fn report(&self, key: &CallKey, report: &CallReport) {
        // Answered at once by the host (it only records), so no thread hop.
        let _answer = self.exchange(&HostRequest::report(key, report));
    }
}

/// Gives the host's permit back when dropped.
#[derive(Debug)]
struct Release {
    gate: HostGate,
    key: WireCallKey,
}

impl Drop for Release {
    fn drop(&mut self) {
        // Answered at once by the host; nothing to do if it cannot be read.
        let _answer = self.gate.exchange(&HostRequest::Release(self.key.clone()));
    }
}

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
    let protocol = envelope.protocol;
    let request = envelope.message;
    if let Request::Handshake { min, max, .. } = request {
        return Ok(match negotiate((min, max), plugin.protocols) {
            Some(protocol) => {
                NEGOTIATED.store(protocol, Ordering::SeqCst);
                Response::Handshake { protocol }
            }
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
    let failed = |error: ProviderError| Response::Error(for_protocol(error, protocol));
    Ok(match request {
        Request::Handshake { .. } | Request::Configure(_) => {
            unreachable!("answered above")
        }
        Request::AttachGate if protocol < HOST_GATE_PROTOCOL_VERSION => {
            return Err(contract(format!(
                "`attach_gate` is a message of protocol {HOST_GATE_PROTOCOL_VERSION}, sent in protocol {protocol}"
            )));
        }
        Request::AttachGate => Response::GateAttached {
            admits_requests: HOST.get().is_some_and(|channel| {
                provider.attach_gate(Arc::new(HostGate::new(*channel, protocol)))
            }),
        },
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

/// An error as the negotiated protocol can carry it. `busy` is new in protocol 3: a host of
/// protocol 2 cannot read it, so it gets what it always got for a refusal that a repeat
/// cures, an internal error it retries (not a throttle, which would slow its pacing down).
fn for_protocol(error: ProviderError, protocol: u32) -> ProviderError {
    match error {
        ProviderError::Busy {
            service,
            code,
            message,
            request_id,
        } if protocol < HOST_GATE_PROTOCOL_VERSION => ProviderError::Internal {
            service,
            code,
            message,
            request_id,
        },
        error => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> ProviderError {
        ProviderError::Busy {
            service: "OMS".to_owned(),
            code: "OMS.0063".to_owned(),
            message: "the group's tasks are still stopping".to_owned(),
            request_id: Some("r-1".to_owned()),
        }
    }

    #[test]
    fn a_busy_refusal_reaches_a_protocol_2_host_as_a_retryable_error_it_can_read() {
        let old = for_protocol(busy(), 2);
        assert!(
            matches!(&old, ProviderError::Internal { code, .. } if code == "OMS.0063"),
            "{old:?}"
        );
        assert!(old.is_retryable());
        assert_eq!(for_protocol(busy(), HOST_GATE_PROTOCOL_VERSION), busy());
    }
}
