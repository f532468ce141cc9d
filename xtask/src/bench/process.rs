//! Child processes the harness measures: an emulator per scenario, and commands timed for
//! wall time, peak RSS and user CPU.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A `migspec emulator` process on 127.0.0.1; stopped with SIGTERM when dropped.
pub(crate) struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    log: PathBuf,
}

impl Emulator {
    /// Starts `migspec emulator` with `config` (the emulator's YAML config file) written to
    /// `dir/emulator.yaml`, its stderr in `dir/emulator.log`, and `--state-dir` when given.
    pub(crate) fn start(
        migspec: &Path,
        dir: &Path,
        config: &str,
        state_dir: Option<&Path>,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let config_path = dir.join("emulator.yaml");
        std::fs::write(&config_path, config)
            .map_err(|e| format!("{}: {e}", config_path.display()))?;
        let log = dir.join("emulator.log");
        let stderr = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(migspec);
        command
            .args(["emulator", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(state_dir) = state_dir {
            command.arg("--state-dir").arg(state_dir);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {} emulator: {error}", migspec.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let read = reader.read_line(&mut first);
        // Keep draining its standard output so that it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .map(str::to_owned);
        match (read, url) {
            (Ok(_), Some(url)) => Ok(Self { child, url, log }),
            (read, _) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the emulator printed no URL (first line {first:?}, {read:?}); see {}",
                    log.display()
                ))
            }
        }
    }

    /// The request counts of `GET /_emulator/stats`.
    pub(crate) fn stats(&self, runtime: &tokio::runtime::Runtime) -> Result<Stats, String> {
        let url = format!("{}/_emulator/stats", self.url);
        let value: serde_json::Value = runtime.block_on(async {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|error| format!("cannot build an HTTP client: {error}"))?;
            let response = client
                .get(&url)
                .send()
                .await
                .map_err(|error| format!("GET {url}: {error}"))?;
            response
                .json()
                .await
                .map_err(|error| format!("GET {url}: not JSON: {error}"))
        })?;
        Stats::from_json(&value).map_err(|error| {
            format!(
                "GET {url}: {error} (see {}); the answer was {value}",
                self.log.display()
            )
        })
    }

    /// Stops it (SIGTERM, so that a `--state-dir` is left complete) and waits.
    pub(crate) fn stop(mut self) -> Result<(), String> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<(), String> {
        if self.child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        // `kill(1)` rather than libc: the workspace denies unsafe code, and std can only
        // send SIGKILL, which would cut a state-dir save short.
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if !sent.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        self.child
            .wait()
            .map(drop)
            .map_err(|error| format!("waiting for the emulator: {error}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

/// Request counts of one action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Count {
    pub(crate) requests: u64,
    pub(crate) throttled: u64,
    pub(crate) ok: u64,
}

/// The emulator's counters, keyed by action (`CreateMigrateJob (2018-03-30)` for Tencent,
/// `CreateTaskGroup` for Huawei).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) actions: BTreeMap<String, Count>,
    /// The list calls of each OMS listing round, in order: the emulator records the query
    /// string of every `ListTaskGroup`, and each round (a poll, a plan's listing) starts
    /// with the newest page (`offset=0`).
    pub(crate) oms_list_rounds: Vec<u64>,
}

impl Stats {
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let services = value["services"]
            .as_object()
            .ok_or("no `services` object in the stats")?;
        let mut actions = BTreeMap::new();
        for (service, service_stats) in services {
            let versions = service_stats["versions"]
                .as_object()
                .ok_or_else(|| format!("no `versions` under service `{service}`"))?;
            for (version, version_stats) in versions {
                let by_action = version_stats
                    .as_object()
                    .ok_or_else(|| format!("`{service}.{version}` is not an object"))?;
                for (action, counts) in by_action {
                    let number = |field: &str| {
                        counts[field].as_u64().ok_or_else(|| {
                            format!("`{service}.{version}.{action}.{field}` is not a count")
                        })
                    };
                    let key = if service == "tencent" {
                        format!("{action} ({version})")
                    } else {
                        action.clone()
                    };
                    actions.insert(
                        key,
                        Count {
                            requests: number("requests")?,
                            throttled: number("throttled")?,
                            ok: number("ok")?,
                        },
                    );
                }
            }
        }
        let mut oms_list_rounds = Vec::new();
        let queries = value["queries"]["huawei"]["ListTaskGroup"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for query in queries.iter().filter_map(serde_json::Value::as_str) {
            let first_page = query.split('&').any(|pair| pair == "offset=0");
            match oms_list_rounds.last_mut() {
                Some(calls) if !first_page => *calls += 1,
                _ => oms_list_rounds.push(1),
            }
        }
        Ok(Self {
            actions,
            oms_list_rounds,
        })
    }

    pub(crate) fn requests(&self) -> u64 {
        self.actions.values().map(|count| count.requests).sum()
    }

    pub(crate) fn throttled(&self) -> u64 {
        self.actions.values().map(|count| count.throttled).sum()
    }

    /// Successful answers of the action whose key starts with `action`.
    pub(crate) fn ok(&self, action: &str) -> u64 {
        self.actions
            .iter()
            .filter(|(key, _)| key.split(' ').next() == Some(action))
            .map(|(_, count)| count.ok)
            .sum()
    }

    /// The shortest time these calls can take at `limit` requests per second per action
    /// when the actions run in parallel (pipelined): the busiest action's accepted calls ÷
    /// the limit. Throttled answers took no token, so they are left out.
    pub(crate) fn call_floor(&self, limit: u32) -> Duration {
        let busiest = self
            .actions
            .values()
            .map(|count| count.requests - count.throttled)
            .max()
            .unwrap_or(0);
        Duration::from_secs_f64(busiest as f64 / f64::from(limit))
    }
}

/// What one measured command did.
#[derive(Debug)]
pub(crate) struct Measured {
    pub(crate) wall: Duration,
    /// Highest `VmHWM` seen in `/proc/PID/status`, in KiB.
    pub(crate) peak_rss_kib: Option<u64>,
    /// User CPU of the command and the children it waited for.
    pub(crate) user_cpu: Option<Duration>,
    pub(crate) success: bool,
    pub(crate) status: String,
    /// Its stdout and stderr, interleaved (also in the log file).
    pub(crate) output: String,
    pub(crate) log: PathBuf,
}

impl Measured {
    pub(crate) fn peak_rss_mb(&self) -> Option<f64> {
        self.peak_rss_kib.map(|kib| kib as f64 / 1024.0)
    }

    /// An error naming the command's log when it failed.
    pub(crate) fn check(&self, what: &str) -> Result<(), String> {
        if self.success {
            return Ok(());
        }
        let tail: Vec<&str> = self.output.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{what} failed ({}); its output is in {}; it ended:\n{}",
            self.status,
            self.log.display(),
            tail.join("\n")
        ))
    }
}

/// Runs `command` to its end with stdout and stderr in `log`, measuring wall time, peak RSS
/// and user CPU.
///
/// Peak RSS is sampled from `/proc/PID/status` every 5 ms (`VmHWM` is the kernel's own
/// high-water mark, so a sample misses only growth in the last few milliseconds), because
/// `wait4`'s rusage needs libc and unsafe code, which the workspace denies. User CPU is the
/// growth of this process's `cutime` (`/proc/self/stat`) across the wait, for the same
/// reason; the harness waits for one child at a time.
pub(crate) fn measure(command: &mut Command, log: &Path) -> Result<Measured, String> {
    let file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let copy = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    command.stdin(Stdio::null()).stdout(copy).stderr(file);
    let before = children_user_ticks();
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run {:?}: {error}", command.get_program()))?;
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let done = Arc::clone(&done);
        let peak = Arc::clone(&peak);
        std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| vm_hwm_kib(&text))
                {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let status = child.wait();
    let wall = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let status = status.map_err(|error| format!("waiting for {pid}: {error}"))?;
    let user_cpu = match (before, children_user_ticks()) {
        (Some(before), Some(after)) => Some(Duration::from_secs_f64(
            after.saturating_sub(before) as f64 / USER_HZ,
        )),
        _ => None,
    };
    let output = std::fs::read_to_string(log).unwrap_or_default();
    let peak = peak.load(Ordering::Relaxed);
    Ok(Measured {
        wall,
        peak_rss_kib: (peak > 0).then_some(peak),
        user_cpu,
        success: status.success(),
        status: status.to_string(),
        output,
        log: log.to_path_buf(),
    })
}

/// `/proc` reports times in clock ticks of `USER_HZ`, which is 100 on every Linux
/// architecture (`sysconf(_SC_CLK_TCK)` would need libc).
const USER_HZ: f64 = 100.0;

/// `VmHWM` (peak resident set) of a `/proc/PID/status` text, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// `cutime` of `/proc/self/stat`: user CPU of the waited-for children, in ticks.
fn children_user_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cutime(&stat)
}

fn parse_cutime(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces and parentheses): the state is
    // field 3, so cutime (field 16) is the 14th after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(13)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_parse() {
        let status = "Name:\tmigspec\nVmPeak:\t  20000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(12345));
        assert_eq!(vm_hwm_kib("Name:\tzombie\n"), None);
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 777 13 14";
        assert_eq!(parse_cutime(stat), Some(777));
    }

    #[test]
    fn a_measured_child_reports_its_rss_and_cpu() {
        let dir = std::env::temp_dir().join(format!("xtask-measure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let log = dir.join("out.log");
        // A shell that burns a little CPU and prints.
        let measured = measure(
            Command::new("sh").args([
                "-c",
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done $i",
            ]),
            &log,
        )
        .expect("sh runs");
        assert!(measured.success, "{measured:?}");
        assert_eq!(measured.output.trim(), "done 20000");
        assert!(
            measured.peak_rss_kib.is_some_and(|kib| kib > 0),
            "{measured:?}"
        );
        assert!(measured.user_cpu.is_some(), "{measured:?}");
        let failed =
            measure(Command::new("sh").args(["-c", "echo nope; exit 3"]), &log).expect("sh runs");
        let error = failed.check("the shell").expect_err("exit 3 is a failure");
        assert!(
            error.contains("nope") && error.contains("out.log"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stats_are_keyed_by_action_and_give_the_floor() {
        let value = serde_json::json!({"total": {}, "services": {
            "tencent": {"total": {}, "versions": {"2018-03-30": {
                "CreateMigrateJob": {"requests": 200, "ok": 200, "throttled": 0},
                "DescribeMigrateJobs": {"requests": 700, "ok": 600, "throttled": 100}}}},
            "huawei": {"total": {}, "versions": {"v2": {
                "CreateTaskGroup": {"requests": 5, "ok": 5, "throttled": 0}}}}}});
        let stats = Stats::from_json(&value).expect("valid stats");
        assert_eq!(stats.requests(), 905);
        assert_eq!(stats.throttled(), 100);
        assert_eq!(stats.ok("CreateMigrateJob"), 200);
        assert_eq!(stats.ok("CreateTaskGroup"), 5);
        assert_eq!(stats.call_floor(20), Duration::from_secs(30));
        assert!(Stats::from_json(&serde_json::json!({})).is_err());
        assert!(stats.oms_list_rounds.is_empty());
    }

    #[test]
    fn oms_listing_rounds_start_at_the_newest_page() {
        let value = serde_json::json!({"services": {}, "queries": {"huawei": {"ListTaskGroup": [
            "limit=100&offset=0", "limit=100&offset=0", "limit=100&offset=100",
            "offset=0&limit=100", "limit=100&offset=200", "limit=100&offset=300"]}}});
        let stats = Stats::from_json(&value).expect("valid stats");
        assert_eq!(stats.oms_list_rounds, [1, 2, 3]);
    }
}
