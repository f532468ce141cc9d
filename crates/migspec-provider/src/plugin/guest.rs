//! The plugin side of the ABI: what [`export_plugin!`](crate::export_plugin) calls.

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::{ABI_VERSION, PluginBuffer, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use crate::{
    DesiredSpec, ImportRequest, InFlightTarget, ObserveRequest, PlanRequest, Provider,
    ProviderError, Step,
};

/// The plugin's provider and the tokio runtime its async calls run on, built on first use.
pub struct Instance {
    provider: Result<Box<dyn Provider>, String>,
    runtime: Result<tokio::runtime::Runtime, String>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Instance")
    }
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
pub unsafe fn invoke(
    instance: &OnceLock<Instance>,
    request: *const u8,
    request_len: usize,
    out: *mut PluginBuffer,
    construct: impl FnOnce() -> Result<Box<dyn Provider>, String>,
) -> i32 {
    let bytes: &[u8] = if request.is_null() || request_len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `request_len` readable bytes at `request`.
        unsafe { std::slice::from_raw_parts(request, request_len) }
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let instance = instance.get_or_init(|| Instance {
            provider: construct(),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("migspec-plugin")
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the plugin's runtime: {error}")),
        });
        handle(instance, bytes)
    }));
    let (status, response) = match outcome {
        Ok(Ok(value)) => (STATUS_OK, value),
        Ok(Err(error)) => (STATUS_ERROR, error),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            (STATUS_PANIC, json!({ "panic": message }))
        }
    };
    let mut buffer = serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec());
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

fn error(error: &ProviderError) -> Value {
    json!({ "error": error })
}

fn contract(message: impl Into<String>) -> Value {
    error(&ProviderError::Contract {
        message: message.into(),
    })
}

fn parse<T: serde::de::DeserializeOwned>(body: Value, op: &str) -> Result<T, Value> {
    serde_json::from_value(body).map_err(|e| contract(format!("bad `{op}` request: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, Value> {
    serde_json::to_value(value).map_err(|e| contract(format!("cannot encode a response: {e}")))
}

fn handle(instance: &Instance, bytes: &[u8]) -> Result<Value, Value> {
    let request: Value =
        serde_json::from_slice(bytes).map_err(|e| contract(format!("request is not JSON: {e}")))?;
    let abi = request.get("abi").and_then(Value::as_u64);
    if abi != Some(u64::from(ABI_VERSION)) {
        return Err(contract(format!(
            "request ABI {abi:?}, plugin speaks {ABI_VERSION}"
        )));
    }
    let op = request
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let body = request.get("body").cloned().unwrap_or(Value::Null);
    let provider = instance.provider.as_ref().map_err(|message| {
        error(&ProviderError::Config {
            message: format!("the plugin could not start: {message}"),
        })
    })?;
    let runtime = instance.runtime.as_ref().map_err(contract)?;
    let run = |result: Result<Value, ProviderError>| result.map_err(|e| error(&e));
    match op.as_str() {
        "describe" => to_json(&provider.describe()),
        "validate" => {
            let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
            let document = body.get("document").cloned().unwrap_or(Value::Null);
            to_json(&provider.validate(kind, &document))
        }
        "location" => {
            let desired: DesiredSpec = parse(body, &op)?;
            run(provider.location(&desired))
        }
        "observe" => {
            let request: ObserveRequest = parse(body, &op)?;
            let observed = run(runtime
                .block_on(provider.observe(request))
                .and_then(|v| serde_json::to_value(v).map_err(encode_error)))?;
            Ok(observed)
        }
        "plan" => {
            let request: PlanRequest = parse(body, &op)?;
            match provider.plan(&request) {
                Ok(actions) => to_json(&actions),
                Err(plan_error) => Err(json!({ "plan_error": plan_error })),
            }
        }
        "apply" => {
            let step: Step = parse(body, &op)?;
            run(runtime
                .block_on(provider.apply(step))
                .and_then(|v| serde_json::to_value(v).map_err(encode_error)))
        }
        "poll" => {
            let targets: Vec<InFlightTarget> = parse(body, &op)?;
            run(runtime
                .block_on(provider.poll(targets))
                .and_then(|v| serde_json::to_value(v).map_err(encode_error)))
        }
        "import" => {
            let request: ImportRequest = parse(body, &op)?;
            run(runtime
                .block_on(provider.import(request))
                .and_then(|v| serde_json::to_value(v).map_err(encode_error)))
        }
        other => Err(contract(format!("unknown operation `{other}`"))),
    }
}

fn encode_error(error: serde_json::Error) -> ProviderError {
    ProviderError::Contract {
        message: format!("cannot encode a response: {error}"),
    }
}
