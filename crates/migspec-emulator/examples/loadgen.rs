//! Load generator for the emulator: throughput and latency with signature verification on.
//!
//! It starts the emulator as a **separate process** (by default this same executable in
//! a hidden `--serve` mode, or `--emulator-bin target/release/migspec`), with the rate
//! limit raised through a config file, seeds jobs and task groups, then drives a mix of
//! signed `DescribeMigrateJobs` (2018-03-30), `DescribeMigrationJobs` (2021-12-06) and
//! OMS `ListTaskGroup` calls over N keep-alive connections for a bounded time, and
//! prints requests per second and latency percentiles.
//!
//! ```text
//! cargo run --release -p migspec-emulator --example loadgen -- --connections 32 --seconds 10
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line benchmark reports on stdout"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use migspec_emulator::{
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// How every Tencent error answer starts; checking the prefix keeps the client cheap.
const TENCENT_ERROR_PREFIX: &[u8] = br#"{"Response":{"Error""#;

/// Benchmark options.
#[derive(Debug, Parser)]
#[command(about = "Drive a separately running migspec emulator and report throughput and latency")]
struct Options {
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured duration in seconds (after the warm-up)
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up in seconds (requests sent, not measured)
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Jobs of each API version and task groups to create before the run
    #[arg(long, default_value_t = 50)]
    jobs: usize,
    /// Page size of the describe/list calls
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Check and start every job first, so that the describe answers report live progress
    /// (running jobs are never served from the emulator's cache of stable jobs)
    #[arg(long)]
    running: bool,
    /// Run `BIN emulator ...` (e.g. target/release/migspec) instead of this executable in serve mode
    #[arg(long, value_name = "BIN")]
    emulator_bin: Option<PathBuf>,
    /// Internal: run the emulator (used for the child process)
    #[arg(long, hide = true)]
    serve: bool,
    #[command(flatten)]
    emulator: migspec_emulator::cli::Args,
}

fn main() -> Result<(), BoxError> {
    let options = Options::parse();
    if options.serve {
        return migspec_emulator::cli::run(options.emulator);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(bench(&options))
}

/// The emulator child process; terminated with SIGTERM when dropped.
struct Emulator {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn spawn_emulator(options: &Options) -> Result<Emulator, BoxError> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("loadgen.yaml");
    let durations = if options.running {
        // Short set-up phases, then migrations that outlast the run.
        "durations: {creating: 10ms, checking: 10ms, migrating: 10h, oms_waiting: 10ms, oms_task_creation: 10ms, oms_migration: 10h}\n"
    } else {
        ""
    };
    std::fs::write(
        &config,
        format!("rate_limit_per_second: 1000000\n{durations}"),
    )?;
    let config = config.to_string_lossy().into_owned();
    let mut command = match &options.emulator_bin {
        Some(bin) => {
            let mut command = Command::new(bin);
            command.arg("emulator");
            command
        }
        None => {
            let mut command = Command::new(std::env::current_exe()?);
            command.arg("--serve");
            command
        }
    };
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--config", &config])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    // Keep draining the child's stdout so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .ok_or_else(|| format!("no URL in `{first}`"))?;
    let addr: SocketAddr = url.trim_start_matches("http://").parse()?;
    println!("emulator process {} on {url}", child.id());
    Ok(Emulator {
        child,
        addr,
        _dir: dir,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dts2018,
    Dts2021,
    OmsList,
}

const KINDS: [Kind; 3] = [Kind::Dts2018, Kind::Dts2021, Kind::OmsList];

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Builds signed requests; signatures are reused within the same second (the server
/// still verifies every request in full).
struct Signer {
    host: String,
    limit: usize,
    cache: Vec<Signed>,
}

/// A signed request for one second: (second, headers, body, URI).
type Signed = (u64, Vec<(String, String)>, Bytes, String);

impl Signer {
    fn new(addr: SocketAddr, limit: usize) -> Self {
        Self {
            host: addr.to_string(),
            limit,
            cache: Vec::new(),
        }
    }

    fn tencent(
        &self,
        secs: u64,
        version: &str,
        action: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let tc3 = common::Tc3 {
            secret_id: DEFAULT_TENCENT_SECRET_ID.to_owned(),
            secret_key: DEFAULT_TENCENT_SECRET_KEY.to_owned(),
            timestamp: secs,
            method: Method::POST,
            query: String::new(),
            content_type: "application/json".to_owned(),
            host: self.host.clone(),
            service: "dts".to_owned(),
            sign_action: false,
        };
        vec![
            ("host".to_owned(), self.host.clone()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-tc-action".to_owned(), action.to_owned()),
            ("x-tc-version".to_owned(), version.to_owned()),
            ("x-tc-region".to_owned(), common::REGION.to_owned()),
            ("x-tc-timestamp".to_owned(), secs.to_string()),
            (
                "authorization".to_owned(),
                common::tc3_authorization(&tc3, action, body),
            ),
        ]
    }

    fn build(&mut self, kind: Kind) -> Result<Request<Full<Bytes>>, BoxError> {
        let secs = now_secs();
        let index = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        if self.cache.len() != KINDS.len() {
            self.cache = KINDS
                .iter()
                .map(|_| (0, Vec::new(), Bytes::new(), String::new()))
                .collect();
        }
        if self.cache[index].0 != secs {
            let limit = self.limit;
            let (headers, body, uri) = match kind {
                Kind::Dts2018 => {
                    let body = format!(
                        r#"{{"Limit": {limit}, "Order": "CreateTime", "OrderSeq": "DESC"}}"#
                    )
                    .into_bytes();
                    (
                        self.tencent(secs, common::V2018, "DescribeMigrateJobs", &body),
                        body,
                        "/".to_owned(),
                    )
                }
                Kind::Dts2021 => {
                    let body = format!(r#"{{"Limit": {limit}, "OrderSeq": "desc"}}"#).into_bytes();
                    (
                        self.tencent(secs, common::V2021, "DescribeMigrationJobs", &body),
                        body,
                        "/".to_owned(),
                    )
                }
                Kind::OmsList => {
                    let path = format!("/v2/{DEFAULT_HUAWEI_PROJECT_ID}/taskgroups");
                    let limit = limit.to_string();
                    let (query, headers) = common::sdk_sign(
                        DEFAULT_HUAWEI_AK,
                        DEFAULT_HUAWEI_SK,
                        &Method::GET,
                        &path,
                        &[("limit", &limit), ("offset", "0")],
                        &self.host,
                        &common::sdk_date(secs),
                        b"",
                    );
                    (headers, Vec::new(), format!("{path}?{query}"))
                }
            };
            self.cache[index] = (secs, headers, Bytes::from(body), uri);
        }
        let (_, headers, body, uri) = &self.cache[index];
        let method = if kind == Kind::OmsList {
            Method::GET
        } else {
            Method::POST
        };
        let mut builder = Request::builder().method(method).uri(uri.as_str());
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        Ok(builder.body(Full::new(body.clone()))?)
    }
}

async fn call(addr: SocketAddr, request: Request<Full<Bytes>>) -> Result<(u16, Bytes), BoxError> {
    let answer = common::send(addr, request).await?;
    Ok((answer.status.as_u16(), answer.body))
}

async fn tencent_call(
    addr: SocketAddr,
    version: &str,
    action: &str,
    params: &serde_json::Value,
) -> Result<serde_json::Value, BoxError> {
    let signer = Signer::new(addr, 20);
    let body = serde_json::to_vec(params)?;
    let mut builder = Request::builder().method(Method::POST).uri("/");
    for (name, value) in signer.tencent(now_secs(), version, action, &body) {
        builder = builder.header(name, value);
    }
    let (_, answer) = call(addr, builder.body(Full::new(Bytes::from(body)))?).await?;
    if answer.starts_with(TENCENT_ERROR_PREFIX) {
        return Err(format!(
            "seeding failed: {action}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(serde_json::from_slice::<serde_json::Value>(&answer)?["Response"].take())
}

/// Creates the jobs and groups; with `running`, checks and starts every job so that
/// every describe answer is built from live, changing progress.
async fn seed(addr: SocketAddr, jobs: usize, running: bool) -> Result<(), BoxError> {
    let pause = || tokio::time::sleep(Duration::from_millis(100));
    let mut old = Vec::new();
    for index in 0..jobs {
        let response = tencent_call(
            addr,
            common::V2018,
            "CreateMigrateJob",
            &common::create_2018(&format!("bench-{index}")),
        )
        .await?;
        old.push(response["JobId"].as_str().unwrap_or_default().to_owned());
    }
    let mut new = Vec::new();
    while new.len() < jobs {
        let count = (jobs - new.len()).min(15);
        let params = serde_json::json!({"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": common::REGION,
            "DstRegion": common::REGION, "InstanceClass": "small", "Count": count, "JobName": "bench"});
        let response = tencent_call(addr, common::V2021, "CreateMigrationService", &params).await?;
        new.extend(
            response["JobIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|id| id.as_str())
                .map(str::to_owned),
        );
    }
    if running {
        pause().await;
        for job_id in &new {
            tencent_call(
                addr,
                common::V2021,
                "ModifyMigrationJob",
                &common::modify_2021(job_id, "fullAndIncrement"),
            )
            .await?;
        }
        for (version, ids) in [(common::V2018, &old), (common::V2021, &new)] {
            for job_id in ids {
                tencent_call(
                    addr,
                    version,
                    "CreateMigrateCheckJob",
                    &serde_json::json!({"JobId": job_id}),
                )
                .await?;
            }
        }
        pause().await;
        for (version, ids) in [(common::V2018, &old), (common::V2021, &new)] {
            for job_id in ids {
                tencent_call(
                    addr,
                    version,
                    "StartMigrateJob",
                    &serde_json::json!({"JobId": job_id}),
                )
                .await?;
            }
        }
    }
    for index in 0..jobs {
        let path = format!("/v2/{DEFAULT_HUAWEI_PROJECT_ID}/taskgroups");
        let body = serde_json::to_vec(&common::create_group(&format!("bench-{index}")))?;
        let (_, headers) = common::sdk_sign(
            DEFAULT_HUAWEI_AK,
            DEFAULT_HUAWEI_SK,
            &Method::POST,
            &path,
            &[],
            &addr.to_string(),
            &common::sdk_date(now_secs()),
            &body,
        );
        let mut builder = Request::builder().method(Method::POST).uri(&path);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let (status, answer) = call(addr, builder.body(Full::new(Bytes::from(body)))?).await?;
        if status != 200 {
            return Err(format!(
                "seeding OMS failed: {status} {}",
                String::from_utf8_lossy(&answer)
            )
            .into());
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct WorkerResult {
    latencies_us: Vec<u32>,
    per_kind: [u64; 3],
    errors: u64,
    first_error: Option<String>,
}

async fn worker(
    addr: SocketAddr,
    offset: usize,
    limit: usize,
    measure_from: Instant,
    stop: Arc<AtomicBool>,
) -> Result<WorkerResult, BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut signer = Signer::new(addr, limit);
    let mut result = WorkerResult::default();
    let mut sequence = offset;
    while !stop.load(Ordering::Relaxed) {
        let kind_index = sequence % KINDS.len();
        let kind = KINDS[kind_index];
        sequence += 1;
        let request = signer.build(kind)?;
        let started = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed();
        if started < measure_from {
            continue;
        }
        let failed =
            status != 200 || (kind != Kind::OmsList && body.starts_with(TENCENT_ERROR_PREFIX));
        if failed {
            result.errors += 1;
            if result.first_error.is_none() {
                result.first_error = Some(format!(
                    "{kind:?}: {status} {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
        }
        result.per_kind[kind_index] += 1;
        result
            .latencies_us
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }
    Ok(result)
}

fn percentile(sorted: &[u32], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "index arithmetic on a small vector"
    )]
    let index = (((sorted.len() - 1) as f64) * fraction).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

async fn bench(options: &Options) -> Result<(), BoxError> {
    let emulator = spawn_emulator(options)?;
    let addr = emulator.addr;
    seed(addr, options.jobs, options.running).await?;
    println!(
        "seeded {} {}jobs per DTS version and {} OMS task groups; {} connections, {:.0} s warm-up + {:.0} s measured, page size {}",
        options.jobs,
        if options.running { "running " } else { "" },
        options.jobs,
        options.connections,
        options.warmup,
        options.seconds,
        options.limit
    );
    let stop = Arc::new(AtomicBool::new(false));
    let measure_from = Instant::now() + Duration::from_secs_f64(options.warmup);
    let workers: Vec<_> = (0..options.connections)
        .map(|index| {
            tokio::spawn(worker(
                addr,
                index,
                options.limit,
                measure_from,
                Arc::clone(&stop),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(options.warmup + options.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let measured = Instant::now().duration_since(measure_from).as_secs_f64();
    let mut latencies = Vec::new();
    let mut per_kind = [0u64; 3];
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let result = worker.await??;
        latencies.extend(result.latencies_us);
        for (total, count) in per_kind.iter_mut().zip(result.per_kind) {
            *total += count;
        }
        errors += result.errors;
        first_error = first_error.or(result.first_error);
    }
    latencies.sort_unstable();
    #[expect(
        clippy::cast_precision_loss,
        reason = "request counts are far below 2^52"
    )]
    let rate = latencies.len() as f64 / measured;
    println!(
        "requests: {} in {measured:.2} s = {rate:.0} req/s (errors: {errors})",
        latencies.len()
    );
    println!(
        "  DescribeMigrateJobs {} / DescribeMigrationJobs {} / ListTaskGroup {}",
        per_kind[0], per_kind[1], per_kind[2]
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0)
    );
    if let Some(error) = first_error {
        eprintln!("first error: {error}");
        return Err(format!("{errors} requests failed").into());
    }
    drop(emulator);
    Ok(())
}
