//! The HTTP server: connection handling, routing between the two APIs and the admin
//! endpoints, injected latency and dropped connections and responses, statistics, shutdown.
//!
//! Connections are served with hyper's HTTP/1.1 server directly (keep-alive, no
//! framework) because an injected "dropped connection" must close the socket without
//! writing any response, which only a failing hyper service can do.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::faults::{Draws, FaultConfig, FaultRng};
use crate::huawei::{self, HuaweiState};
use crate::persist::Store;
use crate::ratelimit::RateLimiter;
use crate::stats::{Label, Outcome, Stats};
use crate::tencent::{self, TencentState, engine::Timing};

/// The largest request body accepted (the Tencent limit for JSON requests).
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Version of the state file format.
const STATE_FORMAT: u32 = 1;

/// Everything the emulator keeps (and persists with `--state-dir`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct World {
    pub(crate) format: u32,
    pub(crate) tencent: TencentState,
    pub(crate) huawei: HuaweiState,
}

impl Default for World {
    fn default() -> Self {
        Self {
            format: STATE_FORMAT,
            tencent: TencentState::default(),
            huawei: HuaweiState::default(),
        }
    }
}

/// Shared state of a running emulator.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) timing: Timing,
    /// Replaced as a whole by `PUT /_emulator/faults`; a request works with the snapshot
    /// it took when it arrived.
    faults: RwLock<Arc<ActiveFaults>>,
    pub(crate) tencent_keys: HashMap<String, String>,
    pub(crate) huawei_keys: HashMap<String, String>,
    pub(crate) huawei_tokens: HashSet<String>,
    pub(crate) limiter: RateLimiter,
    pub(crate) stats: Stats,
    /// Whether the emulator may be reached from other machines (admin requests may then
    /// name it by IP address).
    pub(crate) allow_remote: bool,
    world: Mutex<World>,
    store: Store,
}

impl App {
    pub(crate) fn new(config: &EmulatorConfig) -> Result<Self, EmulatorError> {
        let store = Store::open(config.state_dir.as_deref())?;
        let world: World = store.load()?.unwrap_or_default();
        if world.format != STATE_FORMAT {
            return Err(EmulatorError::StateFormat {
                path: config.state_dir.clone().unwrap_or_default(),
                message: format!(
                    "state format {} is not supported (expected {STATE_FORMAT})",
                    world.format
                ),
            });
        }
        Ok(Self {
            clock: Arc::clone(&config.clock),
            timing: Timing::new(&config.durations, config.time_scale),
            faults: RwLock::new(Arc::new(ActiveFaults::new(config.faults.clone()))),
            tencent_keys: config
                .tencent_credentials
                .iter()
                .map(|c| (c.secret_id.clone(), c.secret_key.clone()))
                .collect(),
            huawei_keys: config
                .huawei_credentials
                .iter()
                .map(|c| (c.access_key.clone(), c.secret_key.clone()))
                .collect(),
            huawei_tokens: config.huawei_tokens.iter().cloned().collect(),
            limiter: RateLimiter::new(config.rate_limit_per_second),
            stats: Stats::default(),
            allow_remote: config.allow_remote,
            world: Mutex::new(world),
            store,
        })
    }

    /// Runs `f` on the world; when it reports a change, the new state is persisted.
    pub(crate) fn with_world<R>(&self, f: impl FnOnce(&mut World) -> (R, bool)) -> R {
        let mut world = self
            .world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (result, changed) = f(&mut world);
        if changed && self.store.is_persistent() {
            let ticket = self.store.ticket();
            let bytes = Store::serialize(&*world);
            drop(world);
            if let Err(error) = self.store.save(ticket, &bytes) {
                report_persist_error(&error);
            }
        }
        result
    }

    /// The fault configuration in force, with its generator.
    pub(crate) fn faults(&self) -> Arc<ActiveFaults> {
        Arc::clone(
            &self
                .faults
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the fault configuration (and restarts its generator from its seed).
    fn set_faults(&self, config: FaultConfig) {
        *self
            .faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Arc::new(ActiveFaults::new(config));
    }

    /// Forgets every job, task group, statistic and rate-limit bucket, and restarts the
    /// fault generator, so that a reset emulator meets the same faults again.
    fn reset(&self) {
        self.with_world(|world| {
            *world = World::default();
            ((), true)
        });
        self.stats.reset();
        self.limiter.reset();
        self.faults().rng.reset();
    }
}

/// A fault configuration and the generator its random faults are drawn from.
#[derive(Debug)]
pub(crate) struct ActiveFaults {
    pub(crate) config: FaultConfig,
    pub(crate) rng: FaultRng,
}

impl ActiveFaults {
    fn new(config: FaultConfig) -> Self {
        let rng = FaultRng::new(config.seed);
        Self { config, rng }
    }

    /// The draws of one API request: from its method, path, query, the headers that name
    /// the action and region, and its body (not its signature or timestamp, which differ
    /// between two runs of the same client).
    fn draws(&self, request: &ApiRequest) -> Draws {
        if !self.config.any_request_fault() {
            return Draws::NONE;
        }
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .map_or(&b""[..], hyper::header::HeaderValue::as_bytes)
        };
        self.rng.draws(&[
            request.method.as_str().as_bytes(),
            request.path.as_bytes(),
            request.raw_query.as_bytes(),
            header("x-tc-action"),
            header("x-tc-version"),
            header("x-tc-region"),
            &request.body,
        ])
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a failed state write must be visible to whoever runs the emulator"
)]
fn report_persist_error(error: &EmulatorError) {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("migspec emulator: {text}");
}

/// A received request, body collected.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// The path as received (percent-encoded).
    pub(crate) path: String,
    /// The query string as received, without `?` (empty when absent).
    pub(crate) raw_query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The random draws that decide this request's injected faults.
    pub(crate) draws: Draws,
}

/// What to send back.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Response<Full<Bytes>>),
    /// Close the connection without answering.
    Drop,
}

/// The outcome of an API request, for the statistics.
#[derive(Debug)]
pub(crate) struct Handled {
    pub(crate) reply: Reply,
    pub(crate) label: Label,
    pub(crate) outcome: Outcome,
}

/// A JSON response with `Content-Type: application/json` exactly.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An empty response.
pub(crate) fn empty_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The error a service returns to make hyper close the connection without a response.
#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

async fn serve_request(
    app: Arc<App>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DroppedConnection> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                br#"{"error":"request body too large or unreadable"}"#.to_vec(),
            ));
        }
    };
    let mut request = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
        draws: Draws::NONE,
    };
    // Admin requests from a web page (a foreign `Origin`, or a rebound name as `Host`)
    // are refused before any routing.
    if request.path.starts_with("/_emulator/")
        && let Some(refusal) = crate::admin_guard::refusal(&request.headers, app.allow_remote)
    {
        return Ok(refusal);
    }
    if request.path.starts_with("/_emulator/") {
        return Ok(admin(&app, &request));
    }
    let faults = app.faults();
    request.draws = faults.draws(&request);
    let handled = if request.path.starts_with("/v2/") {
        huawei::handle(&app, &request)
    } else {
        tencent::handle(&app, &request)
    };
    let Handled {
        mut reply,
        label,
        mut outcome,
    } = handled;
    let effective = faults.config.effective(label.1, label.2);
    if outcome == Outcome::Ok && effective.drops_response(&request.draws) {
        reply = Reply::Drop;
        outcome = Outcome::InjectedFault;
    }
    app.stats.record(label, outcome);
    let latency = effective.latency(&request.draws);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match reply {
        Reply::Response(response) => Ok(response),
        Reply::Drop => Err(DroppedConnection),
    }
}

pub(crate) fn admin(app: &App, request: &ApiRequest) -> Response<Full<Bytes>> {
    let json = |value: serde_json::Value| {
        json_response(
            StatusCode::OK,
            serde_json::to_vec(&value).unwrap_or_default(),
        )
    };
    match (&request.method, request.path.as_str()) {
        (&Method::GET, "/_emulator/health") => json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})),
        (&Method::GET, "/_emulator/stats") => json(app.stats.snapshot()),
        // Every remote object, live or deleted, with its history (`crate::objects`).
        (&Method::GET, "/_emulator/objects") => json(crate::objects::list(app)),
        (&Method::POST, "/_emulator/reset") => {
            app.reset();
            json(serde_json::json!({"reset": true}))
        }
        (&Method::GET, "/_emulator/faults") => json(serde_json::to_value(&app.faults().config).unwrap_or_default()),
        // Replaces the whole fault configuration (the config file's `faults:` as JSON).
        (&Method::PUT, "/_emulator/faults") => {
            let parsed = serde_json::from_slice::<FaultConfig>(&request.body)
                .map_err(|error| format!("the body is not a fault configuration: {error}"))
                .and_then(|config| config.validate().map(|()| config));
            match parsed {
                Ok(config) => {
                    let answer = serde_json::to_value(&config).unwrap_or_default();
                    app.set_faults(config);
                    json(answer)
                }
                Err(message) => json_response(
                    StatusCode::BAD_REQUEST,
                    serde_json::to_vec(&serde_json::json!({"error": format!("{message}; send the `faults:` section of the config file as JSON, e.g. {{\"internal_error_rate\": 0.1, \"latency\": \"0ms..200ms\"}}")})).unwrap_or_default(),
                ),
            }
        }
        _ => json_response(StatusCode::NOT_FOUND, br#"{"error":"unknown emulator admin endpoint; try GET /_emulator/health, /_emulator/stats, /_emulator/objects, /_emulator/faults, PUT /_emulator/faults or POST /_emulator/reset"}"#.to_vec()),
    }
}

/// A running emulator. Dropping it without [`RunningEmulator::shutdown`] stops accepting
/// connections when the runtime shuts down.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the emulator listens on (with the real port).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 seconds),
    /// and waits for the server to stop.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
    }
}

/// Resolves once shutdown was requested (or the emulator handle is gone).
async fn stopped(receiver: &mut watch::Receiver<bool>) {
    let _ = receiver.wait_for(|stopping| *stopping).await;
}

/// Starts an emulator on `config.listen` inside the current tokio runtime.
///
/// # Errors
/// [`EmulatorError::RemoteNotAllowed`] for a non-loopback address without
/// `allow_remote`, [`EmulatorError::InvalidConfig`] for bad settings,
/// [`EmulatorError::Bind`] when the address cannot be bound, and the state errors when
/// the state directory cannot be read.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    config.validate()?;
    let app = Arc::new(App::new(&config)?);
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let (shutdown, mut stopping) = watch::channel(false);
    let connections = shutdown.clone();
    let server = tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else {
                        // Transient accept errors (e.g. too many open files): back off briefly.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let app = Arc::clone(&app);
                    let mut stop = connections.subscribe();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| serve_request(Arc::clone(&app), request));
                        let connection = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(connection);
                        tokio::select! {
                            _ = connection.as_mut() => {}
                            () = stopped(&mut stop) => {
                                connection.as_mut().graceful_shutdown();
                                let _ = connection.await;
                            }
                        }
                        drop(stop);
                    });
                }
                () = stopped(&mut stopping) => break,
            }
        }
        drop(listener);
        drop(stopping);
        // Wait (bounded) for the connections to finish their in-flight requests.
        let _ = tokio::time::timeout(Duration::from_secs(5), connections.closed()).await;
    });
    Ok(RunningEmulator {
        addr,
        shutdown,
        server,
    })
}
