//! The HTTP server: connection handling, routing between the two APIs and the admin
//! endpoints, injected latency and dropped connections and responses, statistics, shutdown.
//!
//! Connections are served with hyper's HTTP/1.1 server directly (keep-alive, no
//! framework) because an injected "dropped connection" must close the socket without
//! writing any response, which only a failing hyper service can do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::faults::{Draws, FaultConfig};
use crate::http::{ApiRequest, Handled, Reply, json_response};
use crate::huawei;
use crate::stats::Outcome;
use crate::tencent;
use crate::world::World;

/// The largest request body accepted (the Tencent limit for JSON requests).
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
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
    app: Arc<App<World>>,
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

pub(crate) fn admin(app: &App<World>, request: &ApiRequest) -> Response<Full<Bytes>> {
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
        (&Method::GET, "/_emulator/objects") => json(objects(app)),
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

/// The answer of `GET /_emulator/objects`: `{"now_ms": …, "objects": [...]}`, Tencent jobs
/// (2018, then 2021) and then OMS task groups, each in creation order.
pub(crate) fn objects(app: &App<World>) -> Value {
    let now = app.clock.now_ms();
    app.with_world(|world| {
        let mut objects = tencent::objects(&mut world.tencent, now, &app.timing);
        objects.extend(huawei::objects(
            &mut world.huawei,
            now,
            &app.timing,
            &app.faults().config,
        ));
        // Phases replayed up to now are what any request would replay: nothing to persist.
        (json!({"now_ms": now, "objects": objects}), false)
    })
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
