//! The baseline: DTS 2018 jobs applied the way a Terraform provider applies them.
//!
//! Each job goes through its steps one after another, as a resource's `Create` does:
//! `CreateMigrateJob` → wait until created → `CreateMigrateCheckJob` → wait until the check
//! passed → `StartMigrateJob` → wait until running. Every wait is Terraform's
//! `StateChangeConf` as providers configure it: a 1 s delay before the first refresh, then
//! 3 s, 6 s and every 10 s after (one wait per job, no batching). Ten jobs at a time
//! (`terraform apply -parallelism=10`), a client-side limiter of 15 requests/s per action (the
//! Tencent provider's own), and a retry of `RequestLimitExceeded` after 0.5 s, doubling to at
//! most 10 s (`resource.Retry`'s schedule). Requests are signed with the Tencent client's
//! TC3 signer; nothing of migspec's engine or runner is used.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use migspec_tencent_dts::sign::{SigningRequest, sign};
use serde_json::{Value, json};

const VERSION: &str = "2018-03-30";
const REGION: &str = "ap-guangzhou";
const CONTENT_TYPE: &str = "application/json";
/// How long one wait may last before the job fails (Terraform's create timeout is longer;
/// a benchmark must end).
const WAIT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long throttled calls are retried before the job fails.
const RETRY_BUDGET: Duration = Duration::from_secs(120);

/// How the driver runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) url: String,
    pub(crate) jobs: usize,
    pub(crate) parallelism: usize,
    pub(crate) per_action_per_second: u32,
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    /// Multiplies the refresh and retry waits (1.0 in the benchmark; tests shorten them).
    pub(crate) time_scale: f64,
}

/// What a run did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub(crate) wall: Duration,
    /// `RequestLimitExceeded` answers the driver received (and retried).
    pub(crate) throttled: u64,
    /// Requests the driver sent, retries included.
    pub(crate) requests: u64,
}

/// `StateChangeConf`'s wait before refresh number `attempt` (0-based).
pub(crate) fn refresh_wait(attempt: usize) -> Duration {
    Duration::from_secs(match attempt {
        0 => 1,
        1 => 3,
        2 => 6,
        _ => 10,
    })
}

/// The wait before retry number `attempt` (0-based) of a throttled call.
pub(crate) fn retry_wait(attempt: u32) -> Duration {
    Duration::from_millis(500)
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(Duration::from_secs(10))
}

/// What a wait waits for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Listed with status 1 (created).
    Created,
    /// `DescribeMigrateCheckJob` finished with `CheckFlag` 1.
    CheckPassed,
    /// Status 7 (running) or 8 (ready to complete).
    Running,
}

struct Driver {
    settings: Settings,
    host: String,
    client: reqwest::Client,
    limiter: DefaultKeyedRateLimiter<&'static str>,
    next: AtomicUsize,
    throttled: AtomicU64,
    requests: AtomicU64,
}

/// Applies `settings.jobs` jobs to running; fails on the first job that fails.
pub(crate) async fn run(settings: Settings) -> Result<Outcome, String> {
    let host = settings
        .url
        .strip_prefix("http://")
        .ok_or_else(|| format!("the emulator URL {} is not http://", settings.url))?
        .trim_end_matches('/')
        .to_owned();
    let rate = NonZeroU32::new(settings.per_action_per_second)
        .ok_or("the driver's per-action limit must be above 0")?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|error| format!("cannot build an HTTP client: {error}"))?;
    let driver = Arc::new(Driver {
        host,
        client,
        limiter: RateLimiter::keyed(Quota::per_second(rate)),
        next: AtomicUsize::new(0),
        throttled: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        settings,
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..driver.settings.parallelism.max(1))
        .map(|_| {
            let driver = Arc::clone(&driver);
            tokio::spawn(async move {
                loop {
                    let index = driver.next.fetch_add(1, Ordering::Relaxed);
                    if index >= driver.settings.jobs {
                        return Ok::<(), String>(());
                    }
                    driver.job(index).await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker
            .await
            .map_err(|error| format!("a driver worker panicked: {error}"))??;
    }
    Ok(Outcome {
        wall: started.elapsed(),
        throttled: driver.throttled.load(Ordering::Relaxed),
        requests: driver.requests.load(Ordering::Relaxed),
    })
}

impl Driver {
    async fn job(&self, index: usize) -> Result<(), String> {
        let name = format!("tf-{index:05}");
        let created = self.call("CreateMigrateJob", &create_params(&name)).await?;
        let id = created["JobId"]
            .as_str()
            .ok_or_else(|| format!("CreateMigrateJob of {name} answered no JobId: {created}"))?
            .to_owned();
        self.wait(&id, Target::Created).await?;
        self.call("CreateMigrateCheckJob", &json!({"JobId": id}))
            .await?;
        self.wait(&id, Target::CheckPassed).await?;
        self.call("StartMigrateJob", &json!({"JobId": id})).await?;
        self.wait(&id, Target::Running).await
    }

    /// Refreshes until the job reaches `target`, on `StateChangeConf`'s schedule.
    async fn wait(&self, id: &str, target: Target) -> Result<(), String> {
        let started = Instant::now();
        for attempt in 0.. {
            tokio::time::sleep(refresh_wait(attempt).mul_f64(self.settings.time_scale)).await;
            if self.reached(id, target).await? {
                return Ok(());
            }
            if started.elapsed() > WAIT_TIMEOUT {
                break;
            }
        }
        Err(format!(
            "{id} did not reach `{target:?}` within {WAIT_TIMEOUT:?}"
        ))
    }

    /// One refresh: whether the job is at `target` (an error when it can never get there).
    async fn reached(&self, id: &str, target: Target) -> Result<bool, String> {
        match target {
            Target::Created => Ok(self.status(id).await? == Some(1)),
            Target::CheckPassed => {
                let check = self
                    .call("DescribeMigrateCheckJob", &json!({"JobId": id}))
                    .await?;
                match (check["Status"].as_str(), check["CheckFlag"].as_i64()) {
                    (Some("finished"), Some(1)) => Ok(true),
                    (Some("finished"), _) => Err(format!("the check of {id} failed: {check}")),
                    _ => Ok(false),
                }
            }
            Target::Running => match self.status(id).await? {
                Some(7 | 8) => Ok(true),
                Some(10) => Err(format!("{id} failed (status 10) instead of running")),
                _ => Ok(false),
            },
        }
    }

    /// The job's 2018 status (`None` while it is not listed).
    async fn status(&self, id: &str) -> Result<Option<i64>, String> {
        let answer = self
            .call("DescribeMigrateJobs", &json!({"JobId": id}))
            .await?;
        Ok(answer["JobList"]
            .as_array()
            .and_then(|jobs| jobs.first())
            .and_then(|job| job["Status"].as_i64()))
    }

    /// One signed call; `RequestLimitExceeded` is retried, any other error fails.
    async fn call(&self, action: &'static str, params: &Value) -> Result<Value, String> {
        let body = serde_json::to_vec(params).map_err(|error| error.to_string())?;
        let started = Instant::now();
        for attempt in 0.. {
            self.limiter.until_key_ready(&action).await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| {
                    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
                });
            let signed = sign(
                &SigningRequest {
                    method: "POST",
                    host: &self.host,
                    query: "",
                    content_type: CONTENT_TYPE,
                    payload: &body,
                    service: "dts",
                    timestamp,
                    signed_action: None,
                },
                &self.settings.secret_id,
                &self.settings.secret_key,
            );
            let answer: Value = self
                .client
                .post(&self.settings.url)
                .header("Content-Type", CONTENT_TYPE)
                .header("X-TC-Action", action)
                .header("X-TC-Version", VERSION)
                .header("X-TC-Region", REGION)
                .header("X-TC-Timestamp", timestamp.to_string())
                .header("Authorization", signed.authorization)
                .body(body.clone())
                .send()
                .await
                .map_err(|error| format!("{action}: {error}"))?
                .json()
                .await
                .map_err(|error| format!("{action}: the answer is not JSON: {error}"))?;
            let mut response = answer["Response"].clone();
            let Some(code) = response["Error"]["Code"].as_str() else {
                return Ok(response.take());
            };
            if code == "RequestLimitExceeded" && started.elapsed() < RETRY_BUDGET {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(retry_wait(attempt).mul_f64(self.settings.time_scale)).await;
                continue;
            }
            return Err(format!(
                "{action} {params}: {code}: {}",
                response["Error"]["Message"].as_str().unwrap_or_default()
            ));
        }
        Err(format!("{action}: no answer"))
    }
}

/// A `CreateMigrateJob` request like the benchmark's `tencent2018.yaml` spec.
fn create_params(name: &str) -> Value {
    json!({
        "JobName": name,
        "MigrateOption": {"RunMode": 1, "MigrateType": 3, "MigrateObject": 2, "ConsistencyType": 5, "IsOverrideRoot": 0},
        "SrcDatabaseType": "mysql",
        "SrcAccessType": "cvm",
        "SrcInfo": {"CvmInstanceId": "ins-1a2b3c4d", "Port": 3306, "User": "dts", "Password": "bench-secret", "Region": REGION},
        "DstDatabaseType": "mysql",
        "DstAccessType": "cdb",
        "DstInfo": {"InstanceId": "cdb-9z8y7x6w", "Region": REGION, "User": "root", "Password": "bench-secret"},
        "DatabaseInfo": "[{\"Database\":\"orders\",\"Table\":[\"orders\",\"order_items\",\"refunds\"]},{\"Database\":\"customers\",\"Table\":[\"customers\",\"addresses\"]}]",
        "Tags": [{"TagKey": "owner", "TagValue": "payments"}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_state_change_conf_and_retries_back_off() {
        let waits: Vec<u64> = (0..6).map(|n| refresh_wait(n).as_secs()).collect();
        assert_eq!(waits, [1, 3, 6, 10, 10, 10]);
        let retries: Vec<u128> = (0..7).map(|n| retry_wait(n).as_millis()).collect();
        assert_eq!(retries, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(retry_wait(u32::MAX), Duration::from_secs(10));
    }

    /// The driver takes three jobs to running against the emulator, with the limits on and
    /// the waits shortened a hundredfold.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_driver_takes_jobs_to_running() {
        let config = migspec_emulator::EmulatorConfig::default();
        let emulator = migspec_emulator::start(config)
            .await
            .expect("the emulator starts");
        let outcome = run(Settings {
            url: emulator.url(),
            jobs: 3,
            parallelism: 2,
            per_action_per_second: 15,
            secret_id: migspec_emulator::DEFAULT_TENCENT_SECRET_ID.to_owned(),
            secret_key: migspec_emulator::DEFAULT_TENCENT_SECRET_KEY.to_owned(),
            time_scale: 0.01,
        })
        .await
        .expect("the driver applies the jobs");
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client");
        let stats: Value = client
            .get(format!("{}/_emulator/stats", emulator.url()))
            .send()
            .await
            .expect("stats answer")
            .json()
            .await
            .expect("stats are JSON");
        let actions = &stats["services"]["tencent"]["versions"]["2018-03-30"];
        for action in [
            "CreateMigrateJob",
            "CreateMigrateCheckJob",
            "StartMigrateJob",
        ] {
            assert_eq!(actions[action]["ok"], 3, "{action}: {stats}");
        }
        let describes = actions["DescribeMigrateJobs"]["ok"]
            .as_u64()
            .expect("a count");
        assert!(
            describes >= 6,
            "one wait for created and one for running per job: {stats}"
        );
        assert_eq!(
            outcome.requests,
            stats["total"]["requests"].as_u64().expect("a count"),
            "the driver counts what the emulator saw"
        );
        emulator.shutdown().await;
    }
}
