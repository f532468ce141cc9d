//! Issue 12 item 2 for plugins: the runner paces a plugin's requests **one by one**, through
//! the same call gate as a built-in provider's, not once per trait call. The OMS plugin
//! (the cdylib `migspec-huawei-oms-plugin`, loaded with the host's pinned loader and
//! registered as the runner registers providers) asks the host for a permit before each
//! request over the ABI's host channel (protocol 3) and reports each answer back.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use migspec_emulator::{
    Clock, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, EmulatorConfig,
    PhaseDurations, RunningEmulator, SystemClock,
};
use migspec_provider::plugin::guest::HostGate;
use migspec_provider::plugin::host::{HostGateway, PluginProvider, sha256_file};
use migspec_provider::plugin::messages::{Configuration, WireValue};
use migspec_provider::testing::EmulatorAdmin;
use migspec_provider::{
    Action, ActionKind, Address, CallGate, CallKey, CallReport, CallResult, DesiredSpec,
    ObserveRequest, ObserveTarget, Observed, Provider, RateLimit, Step, StepOutcome,
};
use migspec_runner::limits::RunnerGate;
use migspec_runner::providers::Providers;

const KIND: &str = "HuaweiOmsTaskGroup";

/// The emulator's quota and the plugin's declared limit: requests per second per action.
const RATE: u32 = 5;

/// More groups than five pages of `ListTaskGroup` (100 a page) hold: observing them all by
/// marker pages six times inside one `observe`, more than the quota's burst of `RATE`.
const GROUPS: usize = 550;

/// A fresh copy of the built plugin (its own library, so its own provider instance),
/// configured for `emulator` as `migspec --emulator` configures it, with `settings`.
fn plugin(
    dir: &tempfile::TempDir,
    name: &str,
    emulator: &RunningEmulator,
    settings: &[(&str, &str)],
) -> PluginProvider {
    support::ensure_built(&["migspec-huawei-oms-plugin"]);
    let built = support::built("libmigspec_huawei_oms_plugin.so");
    let copy: PathBuf = dir.path().join(format!("lib{name}.so"));
    std::fs::copy(&built, &copy).expect("the built plugin copies");
    let pin = sha256_file(&copy).expect("the copy reads");
    let text = |value: &str| WireValue::Value(value.into());
    let configuration = Configuration {
        settings: settings
            .iter()
            .map(|(key, value)| ((*key).to_owned(), text(value)))
            .collect(),
        credentials: BTreeMap::new(),
        emulator: Some(BTreeMap::from([
            ("endpoint".to_owned(), text(&emulator.url())),
            ("huawei_ak".to_owned(), text(DEFAULT_HUAWEI_AK)),
            (
                "huawei_sk".to_owned(),
                WireValue::Sensitive(DEFAULT_HUAWEI_SK.into()),
            ),
            (
                "huawei_project_id".to_owned(),
                text(DEFAULT_HUAWEI_PROJECT_ID),
            ),
        ])),
    };
    PluginProvider::load_configured(&copy, &pin, &configuration).expect("the plugin loads")
}

fn name(index: usize) -> String {
    format!("paced-{index:03}")
}

fn spec(name: &str) -> DesiredSpec {
    support::oms::task_group(name, "pacing through the plugin ABI", "running")
}

/// The real clock, ahead by a growing offset: the seeding moves the emulator's clock (and so
/// its token buckets) forward instead of waiting for them to refill, while later requests see
/// time pass as it really does. The offset stays far within the 15 minutes of clock skew
/// the emulator allows a signature.
#[derive(Debug, Default)]
struct Ahead {
    offset_ms: std::sync::atomic::AtomicU64,
}

impl Clock for Ahead {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms() + self.offset_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// An emulator throttling at `RATE` per second and action, holding `GROUPS` task groups made
/// through another copy of the plugin (unpaced: no runner gate), four creates per second of
/// the emulator's clock, so that the seeding is never throttled and takes no real wait.
async fn seeded(dir: &tempfile::TempDir) -> RunningEmulator {
    let clock = Arc::new(Ahead::default());
    let emulator = EmulatorConfig::default()
        .with_rate_limit_per_second(RATE)
        .with_durations(PhaseDurations::uniform(Duration::from_secs(3600)))
        .with_clock(clock.clone())
        .start()
        .await
        .expect("the emulator starts");
    let seeder = plugin(dir, "oms_seeder", &emulator, &[]);
    for index in 0..GROUPS {
        if index % 4 == 0 {
            clock
                .offset_ms
                .fetch_add(1000, std::sync::atomic::Ordering::SeqCst);
        }
        let desired = spec(&name(index));
        let location = seeder.location(&desired).expect("a location");
        let address = desired.address.clone();
        let outcome = seeder
            .apply(Step {
                address: address.clone(),
                action: Action::new(ActionKind::Create, "seed"),
                remote_id: None,
                location,
                desired: Some(desired),
                idempotency_key: format!("seed/{index}"),
                // Known missing: the create is one request, no look-up first.
                observed: Some(Observed::Missing { address }),
            })
            .await;
        assert_created(outcome);
    }
    // A full second of tokens for the lists that follow.
    clock
        .offset_ms
        .fetch_add(1000, std::sync::atomic::Ordering::SeqCst);
    emulator
}

fn assert_created(outcome: Result<StepOutcome, migspec_provider::ProviderError>) {
    let outcome = outcome.expect("the create succeeded");
    assert!(
        matches!(
            outcome,
            StepOutcome::InFlight { .. } | StepOutcome::Done { .. }
        ),
        "{outcome:?}"
    );
}

/// Six `ListTaskGroup` pages inside one `observe`, with the server's quota and the plugin's
/// declared limit both 5/s: each page waits for its own permit from the runner's gate, so
/// the server throttles none of them, and the gate counts every one under the plugin's
/// (`list_task_group`, region, credential) key. Before protocol 3 the runner admitted the
/// `observe` once and the plugin sent its six pages back to back: the sixth was throttled
/// and the observe failed with `APIGW.0308`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oms_plugin_pages_of_one_observe_are_each_paced_by_the_host_gate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let emulator = seeded(&dir).await;
    let admin = EmulatorAdmin::new(&emulator.url());
    let loaded = plugin(
        &dir,
        "oms_paced",
        &emulator,
        &[("rateLimitPerSecond", &RATE.to_string())],
    );
    assert!(
        loaded.admits_requests(),
        "the plugin takes the host's gate over the ABI"
    );
    let description = loaded.describe();
    assert!(
        description
            .rate_limits
            .iter()
            .all(|limit| limit.per_second == RATE),
        "the declared limit follows the setting: {:?}",
        description.rate_limits
    );
    let mut providers = Providers::new();
    providers
        .register(Arc::new(loaded))
        .expect("the plugin registers");
    let gate = Arc::clone(providers.gate());
    let (_, provider) = providers
        .for_kind(KIND)
        .expect("the plugin serves its kind");
    let probe = spec(&name(0));
    let location = provider.location(&probe).expect("a location");
    let targets = (0..GROUPS)
        .map(|index| ObserveTarget {
            address: Address(name(index)),
            kind: KIND.into(),
            revision: None,
            view: None,
            remote_id: None,
            location: location.clone(),
        })
        .collect();

    let started = Instant::now();
    let observed = provider
        .observe(ObserveRequest { targets })
        .await
        .expect("one observe of every group, paced page by page");
    let elapsed = started.elapsed();
    let found = observed
        .iter()
        .filter(|observed| matches!(observed, Observed::Present { .. }))
        .count();
    assert_eq!(found, GROUPS, "every seeded group is found by its marker");

    let stats = admin.calls().await.expect("the emulator's stats");
    let lists = stats.get("ListTaskGroup").copied().unwrap_or_default();
    assert_eq!(lists, 6, "{GROUPS} groups are six pages: {stats:?}");
    let total: serde_json::Value =
        serde_json::from_str(&admin_get(&emulator.url(), "/_emulator/stats").await)
            .expect("stats JSON");
    assert_eq!(
        total["total"]["throttled"], 0,
        "the server throttled a paced request: {total}"
    );
    // The host's gate saw every request, under the plugin's own key …
    let counts = gate.counts();
    assert_eq!(counts.calls, lists, "{counts:?}");
    assert_eq!(counts.throttled, 0, "{counts:?}");
    let key = CallKey::new(
        description.name.as_str(),
        "list_task_group",
        "cn-north-4",
        "explicit configuration",
    );
    assert_eq!(gate.rate(&key), Some(f64::from(RATE)), "paced under {key}");
    // … and spaced them 1/RATE apart: five gaps of 200 ms.
    assert!(
        elapsed >= Duration::from_millis(950),
        "six pages in {elapsed:?}: not paced"
    );
    eprintln!(
        "{lists} ListTaskGroup pages of {GROUPS} groups in one observe: {elapsed:?}, 0 throttled"
    );
    emulator.shutdown().await;
}

/// The other direction of the channel, with the real plugin: a throttle the server sends
/// reaches the host's gate. The plugin declares 100/s while the server's quota is 5/s, so
/// the sixth page of the observe, sent 10 ms after the fifth, is throttled; the plugin's
/// report halves the host's rate for its `list_task_group` key (and no other), as the
/// runner's gate does for a built-in provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_of_a_plugin_request_reaches_the_host_gate_and_slows_that_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let emulator = seeded(&dir).await;
    let loaded = plugin(
        &dir,
        "oms_optimistic",
        &emulator,
        &[("rateLimitPerSecond", "100")],
    );
    let provider_name = loaded.describe().name;
    let mut providers = Providers::new();
    providers
        .register(Arc::new(loaded))
        .expect("the plugin registers");
    let gate = Arc::clone(providers.gate());
    let (_, provider) = providers
        .for_kind(KIND)
        .expect("the plugin serves its kind");
    let location = provider.location(&spec(&name(0))).expect("a location");
    let targets = vec![ObserveTarget {
        address: Address("not-seeded".into()),
        kind: KIND.into(),
        revision: None,
        view: None,
        remote_id: None,
        location,
    }];
    let error = provider
        .observe(ObserveRequest { targets })
        .await
        .expect_err("the server's quota is below the declared rate");
    assert!(
        matches!(error, migspec_provider::ProviderError::Throttled { .. }),
        "{error:?}"
    );
    let counts = gate.counts();
    assert_eq!((counts.calls, counts.throttled), (6, 1), "{counts:?}");
    let key = |action: &str| {
        CallKey::new(
            provider_name.as_str(),
            action,
            "cn-north-4",
            "explicit configuration",
        )
    };
    assert_eq!(gate.rate(&key("list_task_group")), Some(50.0), "halved");
    assert_eq!(gate.rate(&key("create_task_group")), None, "never called");
    emulator.shutdown().await;
}

/// `GET path` on the emulator over a plain socket (127.0.0.1), the body as text.
async fn admin_get(url: &str, path: &str) -> String {
    let address = url.trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).expect("connect to the emulator");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    })
    .await
    .expect("the request ran")
}

/// The callback round trip with the runner's own gate: the guest's permit is the host
/// gate's admission under the plugin's name, and a throttle the guest reports halves the
/// host's rate for that key (and only that key).
#[tokio::test]
async fn a_throttle_the_plugin_reports_slows_the_host_gate_for_that_key() {
    let gate = Arc::new(RunnerGate::new());
    gate.declare(
        "oms-plugin",
        &[RateLimit {
            action: "*".into(),
            per_second: 8,
        }],
    );
    let gateway = HostGateway::new("oms-plugin");
    gateway.attach(gate.clone());
    gateway.enter();
    let guest = HostGate::new(gateway.channel(), 3);
    let list = CallKey::new("huawei-oms", "list_task_group", "cn-north-4", "env");
    let create = CallKey::new("huawei-oms", "create_task_group", "cn-north-4", "env");
    let host_key = |key: &CallKey| CallKey {
        provider: "oms-plugin".into(),
        ..key.clone()
    };
    guest.admit(&list).await;
    guest.admit(&create).await;
    assert_eq!(gate.rate(&host_key(&list)), Some(8.0));
    guest.report(
        &list,
        &CallReport {
            result: CallResult::Throttled {
                code: "APIGW.0308".into(),
                retry_after: None,
            },
            request_id: None,
            duration: Duration::from_millis(3),
        },
    );
    assert_eq!(
        gate.rate(&host_key(&list)),
        Some(4.0),
        "halved by the report"
    );
    assert_eq!(
        gate.rate(&host_key(&create)),
        Some(8.0),
        "another key is not"
    );
    assert_eq!(gate.counts().throttled, 1);
    // The guest's provider name is never used: the plugin cannot borrow another's limits.
    assert_eq!(gate.rate(&list), None);
}

/// A plugin that speaks only protocol 2 (no host channel) still loads; it does not take the
/// host's gate, so the runner admits each of its trait calls as a whole, as before.
#[test]
#[expect(
    unsafe_code,
    reason = "set_var is unsafe in edition 2024; nextest runs each test in its own process"
)]
fn a_protocol_2_plugin_still_loads_and_is_admitted_per_trait_call() {
    // SAFETY: this test runs in its own process (nextest) and no other thread reads the
    // environment while it is set.
    unsafe { std::env::set_var("MIGSPEC_FIXTURE_PLUGIN_PROTOCOL", "2") };
    support::ensure_built(&["migspec-fixture-plugin"]);
    let built = support::built("libmigspec_fixture_plugin.so");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let copy = dir.path().join("libfixture-protocol-2.so");
    std::fs::copy(&built, &copy).expect("the fixture copies");
    let pin = sha256_file(&copy).expect("the copy reads");
    let plugin = PluginProvider::load(&copy, &pin).expect("a protocol 2 plugin loads");
    assert!(!plugin.admits_requests());
    assert!(!plugin.attach_gate(Arc::new(RunnerGate::new())));
    assert_eq!(plugin.describe().name, "fixture");
}
