//! The state benchmark `cargo xtask bench state` runs: applies N objects (1,200 by default)
//! through the real engine ([`migspec_runner::engine::apply`]) with a scripted in-memory
//! provider and the file state backend, timing every state write, twice in one run:
//!
//! - `incremental`: the engine's [`HeldState::record`], one log line per step;
//! - `whole-file`: the baseline, what `record` did before the log: apply the change in
//!   memory, then [`HeldState::write`] the whole state (read it back for the conflict
//!   check, serialize everything, fsync, rename) on every step.
//!
//! State CPU time is the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) inside each
//! `record`; the local backend does no `.await` inside one, so a step runs on one thread.
//!
//! `cargo run --release -p migspec-runner --example state_bench -- [--objects N] [--json PATH] [--dir DIR] [--modes incremental,whole-file]`
//!
//! `--modes` picks the backends (both by default): the whole-file baseline grows with the
//! square of the object count (minutes at 1,200), so `cargo xtask bench` runs only the
//! incremental one.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use migspec_provider::{
    Action, ActionKind, Address, Description, DesiredSpec, ImportRequest, Imported, InFlightTarget,
    KindDescription, ObserveRequest, Observed, Phase, PlanError, PlanRequest, Problem, Provider,
    ProviderError, ProviderFuture, RemoteId, RemoteObject, Step, StepOutcome, Wait,
};
use migspec_runner::engine::{ApplyOptions, Event, Reporter, WaitLevel, apply};
use migspec_runner::plan::{Binding, Change, Plan};
use migspec_runner::planner::Planned;
use migspec_runner::providers::Providers;
use migspec_runner::specs::{Deadlines, Spec, SpecSet};
use migspec_runner::state::{
    HeldState, LocalState, LockInfo, State, StateBackend, StateChange, StateFuture,
};

const KIND: &str = "BenchJob";

/// A cloud of many jobs: `create` → creating → configured; `start` → resuming → running.
/// Each job's view is about the size of a DTS job description.
struct Cloud {
    jobs: Mutex<HashMap<Address, Phase>>,
}

impl Cloud {
    fn observed(&self, address: &Address) -> Observed {
        let phase = self
            .jobs
            .lock()
            .expect("not poisoned")
            .get(address)
            .copied();
        match phase {
            None => Observed::Missing {
                address: address.clone(),
            },
            Some(phase) => Observed::Present {
                address: address.clone(),
                object: Box::new(RemoteObject {
                    id: RemoteId(format!("dts-{}", address.0)),
                    phase,
                    raw_status: format!("{phase:?}"),
                    location: serde_json::json!({"region": "ap-guangzhou"}),
                    view: view(address),
                    progress: None,
                    failure: None,
                    revision: None,
                    marker: None,
                }),
            },
        }
    }

    fn wait(until: Phase) -> Wait {
        Wait {
            until: vec![until],
            fail_on: vec![Phase::Failed],
            until_missing: false,
            poll_after: Duration::from_millis(1),
        }
    }
}

/// A job's configuration as a cloud reports it (about 1 KB of JSON: a state of 1,200 such
/// jobs is about the 2.2 MB the issue measured).
fn view(address: &Address) -> serde_json::Value {
    serde_json::json!({
        "JobName": address.0,
        "RunMode": "immediate",
        "MigrateOption": {
            "DatabaseTable": {"ObjectMode": "partial", "Databases": [
                {"DbName": "orders", "NewDbName": "orders", "DbMode": "list",
                 "Tables": [{"TableName": "order_items"}, {"TableName": "order_lines"}, {"TableName": "refunds"}]}]},
            "MigrateType": "full_and_incremental",
            "ConsistencyOption": {"Mode": "full"},
            "IsMigrateAccount": false,
            "IsOverrideRoot": false,
            "IsDstReadOnly": true
        },
        "SrcInfo": {"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "mysql",
                    "InstanceId": format!("cdb-src-{}", address.0), "User": "migrate", "Port": 3306,
                    "Supplier": "others", "EngineVersion": "8.0"},
        "DstInfo": {"Region": "ap-shanghai", "AccessType": "cdb", "DatabaseType": "mysql",
                    "InstanceId": format!("cdb-dst-{}", address.0), "User": "migrate", "Port": 3306,
                    "EngineVersion": "8.0"},
        "Tags": [{"TagKey": "migspec-address", "TagValue": address.0}, {"TagKey": "team", "TagValue": "data-platform"}],
        "AutoRetryTimeRangeMinutes": 30,
        "Description": "created by migspec (state benchmark)"
    })
}

impl Provider for Cloud {
    fn describe(&self) -> Description {
        Description {
            name: "bench".into(),
            version: "0".into(),
            kinds: vec![KindDescription {
                kind: KIND.into(),
                schema: serde_json::json!({}),
            }],
            rate_limits: vec![],
        }
    }
    fn validate(&self, _: &str, _: &serde_json::Value) -> Vec<Problem> {
        Vec::new()
    }
    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        let observed = request
            .targets
            .iter()
            .map(|target| self.observed(&target.address))
            .collect();
        Box::pin(async move { Ok(observed) })
    }
    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let action = |kind| Action::new(kind, "bench");
        Ok(match request.observed.object().map(|o| o.phase) {
            None => vec![action(ActionKind::Create), action(ActionKind::Start)],
            Some(Phase::Configured) => vec![action(ActionKind::Start)],
            _ => vec![],
        })
    }
    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        let wait = {
            let mut jobs = self.jobs.lock().expect("not poisoned");
            match (step.action.kind, jobs.get(&step.address).copied()) {
                (ActionKind::Create, None) => {
                    jobs.insert(step.address.clone(), Phase::Creating);
                    Some(Self::wait(Phase::Configured))
                }
                (ActionKind::Start, Some(Phase::Configured)) => {
                    jobs.insert(step.address.clone(), Phase::Resuming);
                    Some(Self::wait(Phase::Running))
                }
                _ => None,
            }
        };
        let observed = self.observed(&step.address);
        Box::pin(async move {
            Ok(match wait {
                Some(wait) => StepOutcome::InFlight { observed, wait },
                None => StepOutcome::Done { observed },
            })
        })
    }
    fn poll(&self, targets: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        {
            let mut jobs = self.jobs.lock().expect("not poisoned");
            for target in &targets {
                if let Some(phase) = jobs.get_mut(&target.object.address) {
                    *phase = match *phase {
                        Phase::Creating => Phase::Configured,
                        Phase::Resuming => Phase::Running,
                        other => other,
                    };
                }
            }
        }
        let observed = targets
            .iter()
            .map(|target| self.observed(&target.object.address))
            .collect();
        Box::pin(async move { Ok(observed) })
    }
    fn import(&self, _: ImportRequest) -> ProviderFuture<'_, Imported> {
        Box::pin(async {
            Err(ProviderError::Config {
                message: "the benchmark imports nothing".into(),
            })
        })
    }
}

struct Quiet;
impl Reporter for Quiet {
    fn report(&self, _: Event) {}
}

/// How a step is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `HeldState::record`: one log line.
    Incremental,
    /// The old way: the change in memory, then `HeldState::write` of the whole state.
    WholeFile,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Incremental => "incremental",
            Self::WholeFile => "whole-file",
        }
    }
}

/// What one step's state write cost.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    cpu: Duration,
    wall: Duration,
}

#[derive(Default)]
struct Samples {
    steps: Vec<Sample>,
    release: Sample,
    largest_log: u64,
}

/// The backend's held state, timing every write.
struct Timed {
    inner: Option<Box<dyn HeldState>>,
    mode: Mode,
    log: PathBuf,
    samples: Arc<Mutex<Samples>>,
}

fn thread_cpu() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(time.tv_sec).expect("CPU time is positive"),
        u32::try_from(time.tv_nsec).expect("nanoseconds fit"),
    )
}

impl HeldState for Timed {
    fn write<'a>(&'a self, state: &'a mut State) -> StateFuture<'a, ()> {
        self.inner
            .as_ref()
            .expect("held until dropped")
            .write(state)
    }

    fn record<'a>(&'a self, state: &'a mut State, change: &'a StateChange) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let inner = self.inner.as_ref().expect("held until dropped");
            let (cpu, wall) = (thread_cpu(), Instant::now());
            let result = match self.mode {
                Mode::Incremental => inner.record(state, change).await,
                Mode::WholeFile => {
                    state.apply(change);
                    inner.write(state).await
                }
            };
            let sample = Sample {
                cpu: thread_cpu().saturating_sub(cpu),
                wall: wall.elapsed(),
            };
            let log = std::fs::metadata(&self.log).map_or(0, |metadata| metadata.len());
            let mut samples = self.samples.lock().expect("not poisoned");
            samples.steps.push(sample);
            samples.largest_log = samples.largest_log.max(log);
            result
        })
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        // Releasing the lock compacts the log: part of the state's cost.
        let (cpu, wall) = (thread_cpu(), Instant::now());
        drop(self.inner.take());
        self.samples.lock().expect("not poisoned").release = Sample {
            cpu: thread_cpu().saturating_sub(cpu),
            wall: wall.elapsed(),
        };
    }
}

/// One mode's figures.
struct Figures {
    mode: Mode,
    objects: usize,
    samples: Samples,
    apply_wall: Duration,
    snapshot_bytes: u64,
}

impl Figures {
    fn total_cpu(&self) -> Duration {
        self.samples.steps.iter().map(|s| s.cpu).sum::<Duration>() + self.samples.release.cpu
    }
    fn total_wall(&self) -> Duration {
        self.samples.steps.iter().map(|s| s.wall).sum::<Duration>() + self.samples.release.wall
    }
    /// Mean CPU and wall µs of `steps`.
    fn mean(steps: &[Sample]) -> (f64, f64) {
        let count = steps.len().max(1) as f64;
        (
            steps.iter().map(|s| s.cpu.as_secs_f64()).sum::<f64>() * 1e6 / count,
            steps.iter().map(|s| s.wall.as_secs_f64()).sum::<f64>() * 1e6 / count,
        )
    }
    fn first(&self, window: usize) -> (f64, f64) {
        Self::mean(&self.samples.steps[..window.min(self.samples.steps.len())])
    }
    fn last(&self, window: usize) -> (f64, f64) {
        let steps = &self.samples.steps;
        Self::mean(&steps[steps.len().saturating_sub(window)..])
    }
    fn json(&self, window: usize) -> serde_json::Value {
        let (first_cpu, first_wall) = self.first(window);
        let (last_cpu, last_wall) = self.last(window);
        serde_json::json!({
            "mode": self.mode.name(),
            "objects": self.objects,
            "steps": self.samples.steps.len(),
            "state_cpu_total_s": self.total_cpu().as_secs_f64(),
            "state_wall_total_s": self.total_wall().as_secs_f64(),
            "release_cpu_ms": self.samples.release.cpu.as_secs_f64() * 1e3,
            "window": window,
            "first_cpu_us": first_cpu,
            "last_cpu_us": last_cpu,
            "first_wall_us": first_wall,
            "last_wall_us": last_wall,
            "snapshot_bytes": self.snapshot_bytes,
            "largest_log_bytes": self.samples.largest_log,
            "apply_wall_s": self.apply_wall.as_secs_f64(),
        })
    }
}

fn spec(address: &Address) -> Spec {
    Spec {
        desired: DesiredSpec {
            address: address.clone(),
            kind: KIND.into(),
            document: serde_json::json!({"name": address.0}),
            secrets: BTreeMap::new(),
        },
        file: format!("specs/{}.yaml", address.0).into(),
        line: 4,
        hash: format!("hash-{}", address.0),
        config_hash: format!("config-{}", address.0),
        timeouts: Deadlines::default(),
        deletion_policy: None,
    }
}

async fn run(mode: Mode, objects: usize, dir: &std::path::Path) -> Result<Figures, String> {
    let cloud = Arc::new(Cloud {
        jobs: Mutex::new(HashMap::new()),
    });
    let mut providers = Providers::new();
    providers
        .register(cloud)
        .map_err(|error| format!("cannot register the provider: {error}"))?;
    let backend = LocalState::new(dir.join(mode.name()).join(".migspec"));
    let state = StateBackend::read(&backend)
        .await
        .map_err(|error| error.to_string())?;
    let addresses: Vec<Address> = (0..objects)
        .map(|index| Address(format!("job-{index:05}")))
        .collect();
    let mut specs = SpecSet::default();
    let mut changes = Vec::new();
    let mut observed = BTreeMap::new();
    for address in &addresses {
        specs.specs.insert(address.clone(), spec(address));
        changes.push(Change {
            address: address.clone(),
            kind: KIND.into(),
            remote_id: None,
            phase: None,
            actions: vec![
                Action::new(ActionKind::Create, "missing"),
                Action::new(ActionKind::Start, "then start"),
            ],
            source: None,
        });
        observed.insert(
            address.clone(),
            Observed::Missing {
                address: address.clone(),
            },
        );
    }
    let planned = Planned {
        plan: Plan::new(Binding::default(), changes, vec![]),
        specs,
        observed,
        state,
        bindings: BTreeMap::new(),
    };
    let held = StateBackend::lock(&backend, LockInfo::current("state bench"), Duration::ZERO)
        .await
        .map_err(|error| error.to_string())?;
    let samples = Arc::new(Mutex::new(Samples::default()));
    let timed: Box<dyn HeldState> = Box::new(Timed {
        inner: Some(held),
        mode,
        log: backend.log_path(),
        samples: Arc::clone(&samples),
    });
    let options = ApplyOptions {
        wait: WaitLevel::Completed,
        poll_interval: Duration::from_millis(1),
        ..ApplyOptions::default()
    };
    let started = Instant::now();
    let report = apply(&providers, timed, planned, Arc::new(Quiet), options)
        .await
        .map_err(|error| error.to_string())?;
    let apply_wall = started.elapsed();
    if report.outcomes.len() != objects || report.failed() {
        return Err(format!(
            "{}: {} of {objects} objects applied, failed: {}",
            mode.name(),
            report.outcomes.len(),
            report.failed()
        ));
    }
    let state = backend.read().map_err(|error| error.to_string())?;
    if state.resources.len() != objects || backend.log_path().exists() {
        return Err(format!(
            "{}: the state holds {} of {objects} objects",
            mode.name(),
            state.resources.len()
        ));
    }
    let snapshot_bytes = std::fs::metadata(backend.path()).map_or(0, |metadata| metadata.len());
    let samples = std::mem::take(&mut *samples.lock().expect("not poisoned"));
    Ok(Figures {
        mode,
        objects,
        samples,
        apply_wall,
        snapshot_bytes,
    })
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn say(text: &str) {
    println!("{text}");
}

fn table(figures: &[Figures], window: usize) {
    say(&format!(
        "{:<12} {:>7} {:>6} {:>14} {:>14} {:>14} {:>14} {:>14} {:>12} {:>12}",
        "backend",
        "objects",
        "steps",
        "state CPU s",
        "state wall s",
        format!("CPU µs 1st {window}"),
        format!("CPU µs last {window}"),
        format!("wall µs last {window}"),
        "state.json",
        "largest log"
    ));
    for figure in figures {
        let (first_cpu, _) = figure.first(window);
        let (last_cpu, last_wall) = figure.last(window);
        say(&format!(
            "{:<12} {:>7} {:>6} {:>14.3} {:>14.3} {:>14.0} {:>14.0} {:>14.0} {:>12} {:>12}",
            figure.mode.name(),
            figure.objects,
            figure.samples.steps.len(),
            figure.total_cpu().as_secs_f64(),
            figure.total_wall().as_secs_f64(),
            first_cpu,
            last_cpu,
            last_wall,
            megabytes(figure.snapshot_bytes),
            megabytes(figure.samples.largest_log),
        ));
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn main() -> std::process::ExitCode {
    match main_result() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            say(&format!("state bench: {message}"));
            std::process::ExitCode::FAILURE
        }
    }
}

fn main_result() -> Result<(), String> {
    let mut objects = 1200;
    let mut json = None;
    let mut dir = None;
    let mut modes = vec![Mode::Incremental, Mode::WholeFile];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--objects" => {
                objects = value()?
                    .parse()
                    .map_err(|error| format!("--objects: {error}"))?;
            }
            "--json" => json = Some(PathBuf::from(value()?)),
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--modes" => {
                modes = value()?
                    .split(',')
                    .map(|name| match name {
                        "incremental" => Ok(Mode::Incremental),
                        "whole-file" => Ok(Mode::WholeFile),
                        other => Err(format!(
                            "--modes: unknown backend `{other}`; write incremental, whole-file or both"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    // On the disk a project's `.migspec/` is on (a tmpfs would make fsync free).
    let parent =
        dir.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&parent).map_err(|error| format!("{}: {error}", parent.display()))?;
    let scratch = tempfile::tempdir_in(&parent)
        .map_err(|error| format!("cannot make a directory in {}: {error}", parent.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    let mut figures = Vec::new();
    for mode in modes {
        say(&format!("applying {objects} objects ({})…", mode.name()));
        figures.push(runtime.block_on(run(mode, objects, scratch.path()))?);
    }
    let window = 100;
    table(&figures, window);
    if let Some(path) = json {
        let value = serde_json::json!({
            "objects": objects,
            "results": figures.iter().map(|figure| figure.json(window)).collect::<Vec<_>>(),
        });
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&value).expect("figures serialize") + "\n",
        )
        .map_err(|error| format!("{}: {error}", path.display()))?;
        say(&format!("written to {}", path.display()));
    }
    Ok(())
}
