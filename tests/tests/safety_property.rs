//! Issue 9: a randomized safety test. Seeded random sequences of what users do to a spec
//! set (edit fields, change a region, rename with or without `state mv`, remove, add,
//! replace a file by a symlink, import an existing id, apply a sub-directory, `--prune`,
//! `--replace`, tamper with a saved plan, kill -9 an apply) run against the emulator, and
//! after every step the safety rules of `DESIGN.md` are checked from the emulator's own
//! view (`GET /_emulator/objects`, which keeps deleted objects and their history) and
//! `.migspec/state.json`:
//!
//! - **owned once**: no remote object is recorded under two addresses;
//! - **planned deletes only**: no object is deleted (or isolated) unless a plan that was
//!   applied in that step listed a delete for it, and not then either when the rules say
//!   it must not be (no `--prune`, `deletionPolicy: orphan`, an address outside the applied
//!   path, a tampered plan);
//! - **planned creates only**: every object created in a step carries the marker of an
//!   address the applied plan listed a create for;
//! - **nothing untracked**: every live object is in the state, or was let go on purpose
//!   (listed under `forget` by an applied plan, or its spec said `deletionPolicy: orphan`);
//! - **state agrees with the remote**: every recorded id is a live object of the recorded
//!   kind in the recorded region, and after a successful apply every address of the applied
//!   specs is recorded;
//! - plus what each operation promises (a tampered plan is refused and changes nothing,
//!   `import` of an owned id is refused, `state mv` moves the record, addresses outside an
//!   applied sub-directory keep their records).
//!
//! `MIGSPEC_SAFETY_SEED` (one seed, or a comma-separated list) and `MIGSPEC_SAFETY_STEPS`
//! choose the run; by default three fixed seeds of a length that keeps this test within
//! two minutes on a 2-core machine. `cargo xtask bench safety` runs more seeds, longer. A
//! failure names the seed, the step, every operation so far and the violated invariant;
//! re-run with that seed to reproduce it. For diagnosis, `MIGSPEC_SAFETY_KEEP_GOING=1`
//! reports every violating step instead of stopping at the first, and
//! `MIGSPEC_SAFETY_OPS=apply,edit,kill` restricts the operations (names in `OPERATIONS`).
//!
//! The model ([`Model`]) keeps the spec files it wrote, the ids the user let go of on
//! purpose, the addresses whose applied spec said orphan, and the directory of every
//! address; each step snapshots the emulator's objects (with their event history) and the
//! state before, and compares after, against the plan documents the step applied (the
//! JSON plan `apply --format json` showed, or the saved `plan.json`).
//!
//! Deterministic for a seed except where the emulator cannot be: remote ids are random,
//! phases move with the wall clock (a job may be a phase further when it is planned), and
//! where a kill -9 lands is a timing, so a kill step may play out differently on a re-run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::cloud::Cloud;
use support::objects::{Record, Remote};

/// Short phases, so that a whole apply takes well under a second, but long enough that a
/// kill lands inside one; no throttling (the test makes few calls anyway).
const EMULATOR: &str = r#"
durations:
  creating: 40ms
  checking: 60ms
  migrating: 240ms
  completing: 40ms
  stopping: 40ms
  pausing: 40ms
  resuming: 40ms
  isolating: 40ms
  offlining: 40ms
  oms_waiting: 30ms
  oms_task_creation: 60ms
  oms_migration: 240ms
  oms_pausing: 40ms
  oms_deleting: 40ms
rate_limit_per_second: 0
"#;

/// The seeds CI runs when `MIGSPEC_SAFETY_SEED` is unset.
const DEFAULT_SEEDS: &[u64] = &[1, 20_260_901, 777];
/// The sequence length CI runs when `MIGSPEC_SAFETY_STEPS` is unset.
const DEFAULT_STEPS: usize = 40;

/// The spec directories (so that "apply a sub-directory" leaves others out).
const DIRS: &[&str] = &["dts", "mixed", "oms"];

/// The base set: shipped specs of every kind, spread over the directories.
const BASE: &[(&str, &str)] = &[
    ("dts", "orders-mysql.yaml"),
    ("dts", "sessions-redis.yaml"),
    ("mixed", "catalog-mongodb.yaml"),
    ("mixed", "inventory-2021.yaml"),
    ("oms", "invoices-oms-list.yaml"),
    ("oms", "media-archive-oms.yaml"),
];

/// DTS regions a region change moves between.
const REGIONS: &[&str] = &["ap-guangzhou", "ap-shanghai", "ap-beijing"];

/// splitmix64: small, seedable, good enough to pick operations.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len()))
        }
    }
}

/// One spec file of the workspace, as the model wrote it.
#[derive(Debug, Clone)]
struct SpecFile {
    text: String,
    /// The file is a symlink to `library/…` (which holds the text).
    symlink: bool,
}

impl SpecFile {
    fn address(&self) -> String {
        name_of(&self.text)
    }

    fn orphan(&self) -> bool {
        self.text.contains("deletionPolicy: orphan")
    }
}

/// `metadata.name` of a spec text.
fn name_of(text: &str) -> String {
    let mut in_metadata = false;
    for line in text.lines() {
        if line.starts_with("metadata:") {
            in_metadata = true;
            if let Some((_, rest)) = line.split_once("name:") {
                return rest
                    .trim()
                    .trim_end_matches('}')
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
        } else if in_metadata && let Some(rest) = line.strip_prefix("  name:") {
            return rest.trim().trim_matches('"').to_owned();
        } else if !line.starts_with(' ') {
            in_metadata = false;
        }
    }
    String::new()
}

/// The value of the spec's `  region:` line (DTS and OMS specs have one).
fn region_of(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("  region: "))
        .map(|region| region.trim().to_owned())
}

/// What a step did that the invariants need.
#[derive(Debug, Default)]
struct Effect {
    /// The plan documents applied in this step (what the user saw or reviewed).
    plans: Vec<serde_json::Value>,
    /// The spec directories an apply read (`None`: no apply); `specs` is the whole set.
    applied: Option<Vec<String>>,
    prune: bool,
    /// The final apply exited 0 and was not killed.
    succeeded: bool,
    /// A tampered plan was applied: it must be refused and change nothing.
    tampered: bool,
    /// `import` ran (it must create and delete nothing); `Some(owner)` when the id was owned.
    import: Option<(String, Option<String>)>,
    /// `state mv OLD NEW` ran.
    moved: Option<(String, String)>,
}

/// The model: the spec files, and what the user let go of on purpose.
struct Model {
    cloud: Cloud,
    random: Random,
    files: BTreeMap<String, SpecFile>,
    /// Remote ids intentionally left running untracked, with why.
    released: BTreeMap<String, String>,
    /// Addresses whose last successfully applied spec said `deletionPolicy: orphan`.
    orphan: BTreeSet<String>,
    /// The directory each address's spec was last seen in.
    last_dir: BTreeMap<String, String>,
    counter: u64,
    /// The step being run, and what every step did.
    step: usize,
    log: Vec<String>,
}

/// The directory (`dts`, …) of a spec path `specs/DIR/FILE`.
fn dir_of(path: &str) -> String {
    path.split('/').nth(1).unwrap_or_default().to_owned()
}

/// The plan document an `apply --format json` printed first on standard output (`None`
/// when it printed none, e.g. killed before it planned, or refused before showing one).
fn plan_in(stdout: &[u8]) -> Option<serde_json::Value> {
    serde_json::Deserializer::from_slice(stdout)
        .into_iter::<serde_json::Value>()
        .map_while(Result::ok)
        .find(|value| value.get("changes").is_some())
}

fn exit_of(output: &Output) -> Option<i32> {
    output.status.code()
}

/// `exit 0`, or the exit code and the last lines of standard error, for the operation log.
fn outcome(output: &Output) -> String {
    match exit_of(output) {
        Some(0) => "exit 0".to_owned(),
        Some(code) => format!("exit {code} ({})", tail(output)),
        None => format!("killed ({})", tail(output)),
    }
}

/// The last lines of a command's standard error, for the operation log.
fn tail(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// Panics with the reason when a command is not known to this migspec (exit 2 is clap's
/// usage error): the operation cannot be tried, which must not pass silently.
fn require_command(output: &Output, command: &str) -> Result<(), String> {
    if exit_of(output) == Some(2) {
        return Err(format!(
            "operation needs `{command}`, which this migspec does not accept (exit 2, a usage error): {}",
            tail(output)
        ));
    }
    Ok(())
}

impl Model {
    fn new(seed: u64) -> Self {
        let mut model = Self {
            cloud: Cloud::start(Some(EMULATOR)),
            random: Random(seed),
            files: BTreeMap::new(),
            released: BTreeMap::new(),
            orphan: BTreeSet::new(),
            last_dir: BTreeMap::new(),
            counter: 0,
            step: 0,
            log: Vec::new(),
        };
        for (dir, file) in BASE {
            model.put(&format!("specs/{dir}/{file}"), Cloud::shipped(file));
        }
        model
    }

    fn fresh(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Writes a spec file (through its symlink when it is one).
    fn put(&mut self, path: &str, text: String) {
        let symlink = self.files.get(path).is_some_and(|file| file.symlink);
        self.cloud.write(path, &text);
        self.last_dir.insert(name_of(&text), dir_of(path));
        self.files
            .insert(path.to_owned(), SpecFile { text, symlink });
    }

    /// The spec set: address → path (addresses are unique in the set).
    fn addresses(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|(path, file)| (file.address(), path.clone()))
            .collect()
    }

    fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// `migspec apply ARGS --auto-approve --format json`, the plan it showed and its output.
    fn apply(&self, args: &[&str]) -> (Option<serde_json::Value>, Output) {
        let output = self
            .cloud
            .migspec()
            .arg("apply")
            .args(args)
            .args(["--auto-approve", "--format", "json"])
            .output()
            .expect("migspec runs");
        let plan = plan_in(&output.stdout);
        (plan, output)
    }

    /// Picks and runs one operation; returns what the invariants need.
    fn operate(&mut self, step: usize, allowed: &[&Operation]) -> Result<Effect, String> {
        if step == 0 {
            return self.apply_all();
        }
        let total: u64 = allowed.iter().map(|operation| operation.1).sum();
        let mut ticket = self.random.next() % total.max(1);
        for (_, weight, run) in allowed.iter().copied() {
            if ticket < *weight {
                return run(self);
            }
            ticket -= weight;
        }
        self.apply_all()
    }

    fn note(&mut self, text: String) {
        self.log.push(format!("step {:>3}: {text}", self.step));
    }

    fn applied(&mut self, label: &str, args: &[&str], prune: bool) -> Result<Effect, String> {
        let (plan, output) = self.apply(args);
        self.note(format!("{label}: {}", outcome(&output)));
        let dirs = args
            .iter()
            .filter(|arg| arg.starts_with("specs"))
            .map(|arg| arg.trim_end_matches('/').to_owned())
            .collect();
        Ok(Effect {
            plans: plan.into_iter().collect(),
            applied: Some(dirs),
            prune,
            succeeded: exit_of(&output) == Some(0),
            ..Effect::default()
        })
    }

    fn apply_all(&mut self) -> Result<Effect, String> {
        self.applied("apply specs/", &["specs/"], false)
    }

    fn apply_sub(&mut self) -> Result<Effect, String> {
        let dir = format!("specs/{}", self.random.pick(DIRS).expect("dirs"));
        if self.random.chance(30) {
            self.applied(&format!("apply {dir} --prune"), &[&dir, "--prune"], true)
        } else {
            self.applied(&format!("apply {dir}"), &[&dir], false)
        }
    }

    fn apply_prune(&mut self) -> Result<Effect, String> {
        self.applied("apply specs/ --prune", &["specs/", "--prune"], true)
    }

    fn replace(&mut self) -> Result<Effect, String> {
        let addresses: Vec<String> = self.addresses().into_keys().collect();
        let Some(address) = self.random.pick(&addresses).cloned() else {
            return self.apply_all();
        };
        let (plan, output) = self.apply(&["specs/", "--replace", &address]);
        self.note(format!(
            "apply specs/ --replace {address}: {}",
            outcome(&output)
        ));
        require_command(&output, &format!("apply --replace {address}"))?;
        Ok(Effect {
            plans: plan.into_iter().collect(),
            applied: Some(vec!["specs".to_owned()]),
            succeeded: exit_of(&output) == Some(0),
            ..Effect::default()
        })
    }

    /// `plan --out plan.json`, returns the saved plan (or why not).
    fn save_plan(&mut self) -> Result<serde_json::Value, String> {
        let output = self.cloud.run(&["plan", "specs/", "--out", "plan.json"]);
        let text = std::fs::read_to_string(self.cloud.dir().join("plan.json")).ok();
        match (exit_of(&output), text) {
            (Some(0 | 2), Some(text)) => serde_json::from_str(&text)
                .map_err(|error| format!("plan --out wrote no JSON plan: {error}")),
            (code, _) => {
                self.note(format!(
                    "plan specs/ --out plan.json: exit {code:?} ({})",
                    tail(&output)
                ));
                Err(String::new())
            }
        }
    }

    fn apply_saved(&mut self) -> Result<Effect, String> {
        let _ = std::fs::remove_file(self.cloud.dir().join("plan.json"));
        let plan = match self.save_plan() {
            Ok(plan) => plan,
            Err(error) if error.is_empty() => return Ok(Effect::default()),
            Err(error) => return Err(error),
        };
        let output = self
            .cloud
            .run(&["apply", "plan.json", "--auto-approve", "--format", "json"]);
        self.note(format!(
            "plan specs/ --out plan.json, apply plan.json: {}",
            outcome(&output)
        ));
        Ok(Effect {
            plans: vec![plan],
            applied: Some(vec!["specs".to_owned()]),
            succeeded: exit_of(&output) == Some(0),
            ..Effect::default()
        })
    }

    fn tamper(&mut self) -> Result<Effect, String> {
        let _ = std::fs::remove_file(self.cloud.dir().join("plan.json"));
        let plan = match self.save_plan() {
            Ok(plan) => plan,
            Err(error) if error.is_empty() => return Ok(Effect::default()),
            Err(error) => return Err(error),
        };
        let mut tampered = plan.clone();
        let records = self.cloud.records();
        let changes = tampered["changes"].as_array().cloned().unwrap_or_default();
        // Prefer an address with a remote object: a delete there would destroy something.
        let with_id: Vec<usize> = (0..changes.len())
            .filter(|&index| changes[index]["remote_id"].is_string())
            .collect();
        let target = if let Some(&index) = self.random.pick(&with_id) {
            let address = changes[index]["address"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            tampered["changes"][index]["actions"] =
                serde_json::json!([{"kind": "delete", "reason": "x"}]);
            address
        } else if let Some((address, record)) = records
            .iter()
            .find(|(_, record)| record.remote_id.is_some())
        {
            let entry = serde_json::json!({
                "address": address,
                "kind": record.kind,
                "remote_id": record.remote_id,
                "actions": [{"kind": "delete", "reason": "x"}],
            });
            match tampered["changes"].as_array_mut() {
                Some(list) => list.push(entry),
                None => tampered["changes"] = serde_json::json!([entry]),
            }
            address.clone()
        } else {
            self.note("tamper: nothing recorded to tamper with".to_owned());
            return Ok(Effect::default());
        };
        std::fs::write(
            self.cloud.dir().join("plan.json"),
            serde_json::to_vec_pretty(&tampered).expect("a plan serializes"),
        )
        .expect("write the tampered plan");
        let output = self.cloud.run(&["apply", "plan.json", "--auto-approve"]);
        self.note(format!(
            "plan --out plan.json, set the actions of {target} to [delete], apply plan.json: {}",
            outcome(&output)
        ));
        Ok(Effect {
            plans: vec![plan],
            applied: Some(vec!["specs".to_owned()]),
            succeeded: exit_of(&output) == Some(0),
            tampered: true,
            ..Effect::default()
        })
    }

    /// Starts `apply specs/`, kills it with SIGKILL after some progress lines (or a delay),
    /// and returns the plan it showed.
    fn kill_once(&mut self) -> (Option<serde_json::Value>, String) {
        let mut child = self
            .cloud
            .migspec()
            .args(["apply", "specs/", "--auto-approve", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("apply starts");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stdout.read_to_end(&mut text);
            text
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let lines_wanted = 1 + self.random.below(8);
        // Lines arrive through a channel so that a silent, hung apply cannot block the test.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = 0;
        while seen < lines_wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(line) if line.starts_with('[') => seen += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        // A stream that ended early means the apply had finished (nothing left to do).
        let running = seen == lines_wanted && child.try_wait().expect("status").is_none();
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let plan = plan_in(&reader.join().expect("stdout reader"));
        (
            plan,
            format!(
                "kill -9 apply specs/ after {seen} progress lines ({})",
                if running {
                    "mid-apply"
                } else {
                    "it had already finished: nothing was killed"
                }
            ),
        )
    }

    fn kill(&mut self) -> Result<Effect, String> {
        // Give the apply something to do first (a converged set would finish at once).
        if self.random.chance(50) {
            self.add()?;
        } else {
            self.edit()?;
        }
        let (plan, what) = self.kill_once();
        let (again, output) = self.apply(&["specs/"]);
        self.note(format!("{what}, then apply specs/: {}", outcome(&output)));
        Ok(Effect {
            plans: plan.into_iter().chain(again).collect(),
            applied: Some(vec!["specs".to_owned()]),
            succeeded: exit_of(&output) == Some(0),
            ..Effect::default()
        })
    }

    fn pick_file(&mut self) -> Option<String> {
        let paths = self.paths();
        self.random.pick(&paths).cloned()
    }

    fn edit(&mut self) -> Result<Effect, String> {
        let Some(path) = self.pick_file() else {
            return self.add();
        };
        let mut text = self.files[&path].text.clone();
        let n = self.fresh();
        let what = if text.contains("[orders, order_items, refunds]") {
            text = text.replace("[orders, order_items, refunds]", "[orders, order_items]");
            "drop table refunds"
        } else if text.contains("[orders, order_items]") {
            text = text.replace("[orders, order_items]", "[orders, order_items, refunds]");
            "add table refunds"
        } else if text.contains("            - {TableName: stock}\n") && self.random.chance(50) {
            if text.contains("{TableName: stock_history}") {
                text = text.replace("            - {TableName: stock_history}\n", "");
                "drop table stock_history"
            } else {
                text = text.replace(
                    "            - {TableName: stock}\n",
                    "            - {TableName: stock}\n            - {TableName: stock_history}\n",
                );
                "add table stock_history"
            }
        } else if text.contains("object_key: [2023/, 2024/]") && self.random.chance(50) {
            text = text.replace("object_key: [2023/, 2024/]", "object_key: [2024/]");
            "object_key [2024/] (forces a re-create)"
        } else if text.contains("object_key: [2024/]") && self.random.chance(50) {
            text = text.replace("object_key: [2024/]", "object_key: [2023/, 2024/]");
            "object_key [2023/, 2024/] (forces a re-create)"
        } else {
            let lines: Vec<String> = text
                .lines()
                .map(|line| {
                    if line.starts_with("  labels:") {
                        format!("  labels: {{team: t{n}}}")
                    } else {
                        line.to_owned()
                    }
                })
                .collect();
            text = lines.join("\n") + "\n";
            "labels"
        };
        self.note(format!("edit {path}: {what}"));
        self.put(&path, text);
        Ok(Effect::default())
    }

    fn region(&mut self) -> Result<Effect, String> {
        let dts: Vec<String> = self
            .files
            .iter()
            .filter(|(_, file)| file.text.contains("kind: TencentDts"))
            .map(|(path, _)| path.clone())
            .collect();
        let Some(path) = self.random.pick(&dts).cloned() else {
            return self.edit();
        };
        let text = self.files[&path].text.clone();
        let Some(old) = region_of(&text) else {
            return self.edit();
        };
        let others: Vec<&str> = REGIONS.iter().copied().filter(|r| *r != old).collect();
        let new = *self.random.pick(&others).expect("regions");
        self.note(format!("change region of {path}: {old} -> {new}"));
        self.put(&path, text.replace(&old, new));
        Ok(Effect::default())
    }

    fn rename(&mut self) -> Result<Effect, String> {
        let Some(path) = self.pick_file() else {
            return self.add();
        };
        let text = self.files[&path].text.clone();
        let old = name_of(&text);
        let n = self.fresh();
        // `orders-to-cdb-r3` is renamed to `orders-to-cdb-r7`, not `orders-to-cdb-r3-r7`.
        let base = match old.rsplit_once("-r") {
            Some((base, digits))
                if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) =>
            {
                base.to_owned()
            }
            _ => old.clone(),
        };
        let new = format!("{base}-r{n}");
        let renamed = text.replacen(&format!("name: {old}\n"), &format!("name: {new}\n"), 1);
        self.put(&path, renamed);
        let recorded = self
            .cloud
            .records()
            .get(&old)
            .is_some_and(|record| record.remote_id.is_some());
        if recorded && self.random.chance(60) {
            let output = self.cloud.run(&["state", "mv", &old, &new]);
            self.note(format!(
                "rename {old} -> {new} in {path}, then state mv {old} {new}: {}",
                outcome(&output)
            ));
            require_command(&output, &format!("state mv {old} {new}"))?;
            return Ok(Effect {
                moved: Some((old, new)),
                ..Effect::default()
            });
        }
        self.note(format!("rename {old} -> {new} in {path} (no state mv)"));
        Ok(Effect::default())
    }

    fn remove(&mut self) -> Result<Effect, String> {
        let Some(path) = self.pick_file() else {
            return self.add();
        };
        std::fs::remove_file(self.cloud.dir().join(&path)).expect("remove a spec file");
        let file = self.files.remove(&path).expect("a modelled file");
        self.note(format!(
            "remove {path} ({}{})",
            file.address(),
            if file.symlink { ", a symlink" } else { "" }
        ));
        Ok(Effect::default())
    }

    fn add(&mut self) -> Result<Effect, String> {
        let (base_dir, file) = *self.random.pick(BASE).expect("base specs");
        let text = Cloud::shipped(file);
        let base = name_of(&text);
        let present = self.addresses();
        let recorded = self.cloud.records();
        // A base address comes back in its own directory (an address never moves between
        // directories, so "outside the applied path" stays well defined); a copy gets a
        // new name and any directory.
        let (name, dir) = if present.contains_key(&base) || recorded.contains_key(&base) {
            let dir = *self.random.pick(DIRS).expect("dirs");
            (format!("{base}-a{}", self.fresh()), dir)
        } else {
            (base.clone(), base_dir)
        };
        let text = text
            .replacen(&format!("name: {base}\n"), &format!("name: {name}\n"), 1)
            .replacen(
                &format!("JobName: {base}\n"),
                &format!("JobName: {name}\n"),
                1,
            );
        let path = format!("specs/{dir}/{name}.yaml");
        self.note(format!("add {path} ({name}, from {file})"));
        self.put(&path, text);
        Ok(Effect::default())
    }

    fn symlink(&mut self) -> Result<Effect, String> {
        let plain: Vec<String> = self
            .files
            .iter()
            .filter(|(_, file)| !file.symlink)
            .map(|(path, _)| path.clone())
            .collect();
        let Some(path) = self.random.pick(&plain).cloned() else {
            return self.edit();
        };
        let target = format!("library/{}", path.replace('/', "-"));
        let text = self.files[&path].text.clone();
        self.cloud.write(&target, &text);
        let link = self.cloud.dir().join(&path);
        std::fs::remove_file(&link).expect("remove the spec file");
        std::os::unix::fs::symlink(format!("../../{target}"), &link).expect("symlink");
        self.files.get_mut(&path).expect("a modelled file").symlink = true;
        self.note(format!("replace {path} by a symlink to {target}"));
        Ok(Effect::default())
    }

    fn set_orphan(&mut self) -> Result<Effect, String> {
        let Some(path) = self.pick_file() else {
            return self.add();
        };
        let text = self.files[&path].text.clone();
        if text.contains("deletionPolicy:") {
            return self.edit();
        }
        self.note(format!("set lifecycle.deletionPolicy: orphan in {path}"));
        self.put(
            &path,
            text.replacen("lifecycle:\n", "lifecycle:\n  deletionPolicy: orphan\n", 1),
        );
        Ok(Effect::default())
    }

    fn import(&mut self) -> Result<Effect, String> {
        let objects = self.cloud.objects();
        let records = self.cloud.records();
        let owners: BTreeMap<String, String> = records
            .iter()
            .filter_map(|(address, record)| Some((record.remote_id.clone()?, address.clone())))
            .collect();
        let mut live: Vec<&Remote> = objects.values().filter(|remote| remote.live).collect();
        live.sort_by_key(|remote| (remote.api.clone(), remote.sequence));
        let unowned: Vec<&Remote> = live
            .iter()
            .copied()
            .filter(|remote| !owners.contains_key(&remote.id))
            .collect();
        let pool = if !unowned.is_empty() && self.random.chance(50) {
            unowned
        } else {
            live
        };
        let Some(remote) = self.random.pick(&pool).map(|remote| (*remote).clone()) else {
            return self.apply_all();
        };
        let name = format!("imported-{}", self.fresh());
        let dir = *self.random.pick(DIRS).expect("dirs");
        let path = format!("specs/{dir}/{name}.yaml");
        let output = self.cloud.run(&[
            "import",
            remote.kind(),
            &name,
            &remote.id,
            "--region",
            &remote.region,
            "--out",
            &path,
        ]);
        let owner = owners.get(&remote.id).cloned();
        self.note(format!(
            "import {} {name} {} (owned by {}) --out {path}: {}",
            remote.kind(),
            remote.id,
            owner.as_deref().unwrap_or("nobody"),
            outcome(&output)
        ));
        if let Ok(text) = std::fs::read_to_string(self.cloud.dir().join(&path)) {
            // Written by the import: now part of the spec set (its secrets get values).
            self.put(&path, text);
        }
        if exit_of(&output) == Some(0) && owner.is_none() {
            self.released.remove(&remote.id);
        }
        Ok(Effect {
            import: Some((remote.id, owner)),
            succeeded: exit_of(&output) == Some(0),
            ..Effect::default()
        })
    }
}

/// An operation: its name (for `MIGSPEC_SAFETY_OPS`), its weight, what it does.
type Operation = (&'static str, u64, fn(&mut Model) -> Result<Effect, String>);

/// Every operation and how often it is picked.
const OPERATIONS: &[Operation] = &[
    ("apply", 20, Model::apply_all),
    ("sub", 7, Model::apply_sub),
    ("prune", 5, Model::apply_prune),
    ("saved", 5, Model::apply_saved),
    ("tamper", 5, Model::tamper),
    ("kill", 5, Model::kill),
    ("edit", 9, Model::edit),
    ("region", 6, Model::region),
    ("rename", 6, Model::rename),
    ("remove", 6, Model::remove),
    ("add", 6, Model::add),
    ("symlink", 5, Model::symlink),
    ("import", 6, Model::import),
    ("orphan", 4, Model::set_orphan),
    ("replace", 5, Model::replace),
];

/// The operations `MIGSPEC_SAFETY_OPS` (comma-separated names) allows; all by default.
fn allowed_operations() -> Vec<&'static Operation> {
    match std::env::var("MIGSPEC_SAFETY_OPS") {
        Ok(text) if !text.trim().is_empty() => {
            text.split(',')
                .map(|name| {
                    OPERATIONS
                    .iter()
                    .find(|operation| operation.0 == name.trim())
                    .unwrap_or_else(|| {
                        panic!(
                            "MIGSPEC_SAFETY_OPS: no operation `{name}`; the operations are {:?}",
                            OPERATIONS.iter().map(|operation| operation.0).collect::<Vec<_>>()
                        )
                    })
                })
                .collect()
        }
        _ => OPERATIONS.iter().collect(),
    }
}

/// What a plan document says: deletes by remote id, creates and forgets by address.
#[derive(Debug, Default)]
struct Planned {
    deletes: BTreeMap<String, String>,
    creates: BTreeSet<String>,
    forgets: BTreeSet<String>,
}

/// What the applied plans listed, for a message.
fn listed(plans: &[serde_json::Value], listed: &impl std::fmt::Debug) -> String {
    if plans.is_empty() {
        "no plan document was shown or saved in this step".to_owned()
    } else {
        format!("the {} applied plan(s) listed {listed:?}", plans.len())
    }
}

fn planned(plans: &[serde_json::Value]) -> Planned {
    let mut out = Planned::default();
    for plan in plans {
        for change in plan["changes"].as_array().into_iter().flatten() {
            let address = change["address"].as_str().unwrap_or_default().to_owned();
            for action in change["actions"].as_array().into_iter().flatten() {
                match action["kind"].as_str() {
                    Some("delete") => {
                        if let Some(id) = change["remote_id"].as_str() {
                            out.deletes.insert(id.to_owned(), address.clone());
                        }
                    }
                    Some("create") => {
                        out.creates.insert(address.clone());
                    }
                    _ => {}
                }
            }
        }
        // Plan format 2: `{"address": …, "reason": …}` per forgotten address.
        for entry in plan["forget"].as_array().into_iter().flatten() {
            if let Some(address) = entry["address"].as_str() {
                out.forgets.insert(address.to_owned());
            }
        }
    }
    out
}

/// Whether an object's deletion is under way but not finished (a 2021 job isolated but not
/// destroyed, an OMS group in status 8 or 9): a failed apply may leave its record behind.
fn mid_deletion(remote: &Remote) -> bool {
    match remote.api.as_str() {
        "2021-12-06" => remote.events.last().map(String::as_str) == Some("isolated"),
        "v2" => matches!(remote.status.as_u64(), Some(8 | 9)),
        _ => false,
    }
}

/// A state record for messages: `recorded as ID (KIND in REGION)`, `recorded without an
/// id`, or `not recorded`.
fn shown(record: Option<&Record>) -> String {
    match record {
        None => "not recorded".to_owned(),
        Some(Record {
            remote_id: None, ..
        }) => "recorded without a remote id".to_owned(),
        Some(Record {
            kind,
            remote_id: Some(id),
            region,
            ..
        }) => format!(
            "recorded as {id} ({kind} in {})",
            region.as_deref().unwrap_or("?")
        ),
    }
}

/// Whether an unrecorded object will be found again by its marker: a spec of that address,
/// kind and (DTS) region is in the set, and nothing is recorded for the address.
fn adoptable(
    remote: &Remote,
    files: &BTreeMap<String, SpecFile>,
    records: &BTreeMap<String, Record>,
) -> bool {
    let Some(marker) = &remote.marker else {
        return false;
    };
    let unrecorded = records
        .get(marker)
        .is_none_or(|record| record.remote_id.is_none());
    unrecorded
        && files.values().any(|file| {
            file.address() == *marker
                && file.text.contains(&format!("kind: {}\n", remote.kind()))
                && (remote.api == "v2" || region_of(&file.text).as_deref() == Some(&remote.region))
        })
}

/// The world before a step.
struct Snapshot {
    objects: BTreeMap<String, Remote>,
    records: BTreeMap<String, Record>,
    calls: BTreeMap<String, u64>,
}

/// Requests of every state-changing API action the emulator received (any outcome), by
/// action name (reads, `Describe*`, `List*`, `Show*`, are left out).
fn calls(cloud: &Cloud) -> BTreeMap<String, u64> {
    let stats = cloud.stats();
    let mut out = BTreeMap::new();
    for service in ["tencent", "huawei"] {
        for actions in stats["services"][service]["versions"]
            .as_object()
            .into_iter()
            .flat_map(|versions| versions.values())
        {
            for (action, counts) in actions.as_object().into_iter().flatten() {
                if ["Describe", "List", "Show"]
                    .iter()
                    .any(|read| action.starts_with(read))
                {
                    continue;
                }
                *out.entry(action.clone()).or_default() += counts["requests"].as_u64().unwrap_or(0);
            }
        }
    }
    out
}

/// Whether `dir` lies inside one of the applied paths (`specs` is everything).
fn inside(applied: &[String], dir: &str) -> bool {
    applied
        .iter()
        .any(|path| path == "specs" || *path == format!("specs/{dir}"))
}

impl Model {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            objects: self.cloud.objects(),
            records: self.cloud.records(),
            calls: calls(&self.cloud),
        }
    }

    /// Checks every invariant after a step; returns the violations.
    #[expect(
        clippy::too_many_lines,
        reason = "one list of invariants, read in order"
    )]
    fn check(&mut self, before: &Snapshot, effect: &Effect) -> Vec<String> {
        let objects = self.cloud.objects();
        let records = self.cloud.records();
        let specs = self.addresses();
        let plan = planned(&effect.plans);
        let mut violations = Vec::new();
        // The spec said orphan: as last applied (the model), or as the state recorded it.
        let orphaned = |address: &str| {
            self.orphan.contains(address)
                || before
                    .records
                    .get(address)
                    .is_some_and(|record| record.deletion_policy.as_deref() == Some("orphan"))
        };
        let owner_before = |id: &str| {
            before
                .records
                .iter()
                .find(|(_, record)| record.remote_id.as_deref() == Some(id))
                .map(|(address, _)| address.clone())
        };

        // Owned once.
        let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (address, record) in &records {
            if let Some(id) = &record.remote_id {
                owners.entry(id).or_default().push(address);
            }
        }
        for (id, addresses) in &owners {
            if addresses.len() > 1 {
                violations.push(format!(
                    "owned once: remote object {id} is recorded under {} addresses: {}",
                    addresses.len(),
                    addresses.join(", ")
                ));
            }
        }

        // What happened to each object in this step.
        for (id, remote) in &objects {
            let seen = before.objects.get(id).map_or(0, |old| old.events.len());
            let new_events = &remote.events[seen.min(remote.events.len())..];
            let owner = owner_before(id);
            let owner_text = owner.as_deref().unwrap_or("no address");
            for event in new_events {
                match event.as_str() {
                    "deleted" | "isolated" | "destroyed" => {
                        let what = format!(
                            "remote object {} (recorded under {owner_text} before this step) was {event}",
                            remote.describe()
                        );
                        if effect.tampered {
                            violations.push(format!(
                                "planned deletes only: {what} by `apply` of a tampered plan file"
                            ));
                        } else if !plan.deletes.contains_key(id) {
                            violations.push(format!(
                                "planned deletes only: {what} but no plan applied in this step listed a delete for it ({})",
                                listed(&effect.plans, &plan.deletes)
                            ));
                        }
                        if let Some(owner) = &owner {
                            let left = !specs.contains_key(owner);
                            if left && !effect.prune && effect.applied.is_some() {
                                violations.push(format!(
                                    "planned deletes only: {what} although its spec left the set without --prune (it must be forgotten)"
                                ));
                            }
                            if left && orphaned(owner) {
                                violations.push(format!(
                                    "planned deletes only: {what} although its spec said deletionPolicy: orphan"
                                ));
                            }
                            if let (Some(applied), Some(dir)) =
                                (&effect.applied, self.last_dir.get(owner))
                                && !inside(applied, dir)
                            {
                                violations.push(format!(
                                    "planned deletes only: {what} although {owner} comes from specs/{dir}, outside the applied {applied:?}"
                                ));
                            }
                        }
                        if effect.import.is_some() || effect.moved.is_some() {
                            violations.push(format!(
                                "planned deletes only: {what} by an `import` or `state mv`"
                            ));
                        }
                    }
                    "created" => {
                        let marker = remote.marker.clone().unwrap_or_default();
                        let what = format!(
                            "planned creates only: remote object {} was created for {marker}",
                            remote.describe()
                        );
                        if effect.tampered {
                            violations.push(format!("{what} by `apply` of a tampered plan file"));
                        } else if effect.import.is_some() || effect.moved.is_some() {
                            violations.push(format!("{what} by an `import` or `state mv`"));
                        } else if !plan.creates.contains(&marker) {
                            violations.push(format!(
                                "{what} but no plan applied in this step listed a create for {marker} ({})",
                                listed(&effect.plans, &plan.creates)
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }

        // The state agrees with the remote.
        for (address, record) in &records {
            let Some(id) = &record.remote_id else {
                continue;
            };
            match objects.get(id) {
                None => violations.push(format!(
                    "state agrees with the remote: {address} is recorded as {id}, which the emulator never had"
                )),
                Some(remote) if !remote.live && (effect.succeeded || !mid_deletion(remote)) => {
                    violations.push(format!(
                        "state agrees with the remote: {address} is recorded as {}, which is deleted",
                        remote.describe()
                    ));
                }
                Some(remote) if !remote.live => {}
                Some(remote) => {
                    if remote.kind() != record.kind {
                        violations.push(format!(
                            "state agrees with the remote: {address} is recorded as a {} but {} is a {}",
                            record.kind,
                            id,
                            remote.kind()
                        ));
                    }
                    if remote.api != "v2"
                        && let Some(region) = &record.region
                        && *region != remote.region
                    {
                        violations.push(format!(
                            "state agrees with the remote: {address} is recorded in region {region} but {} is in {}",
                            id, remote.region
                        ));
                    }
                }
            }
        }

        // Objects let go of on purpose in this step.
        for (address, record) in &before.records {
            let Some(id) = &record.remote_id else {
                continue;
            };
            let still_recorded = records
                .values()
                .any(|after| after.remote_id.as_deref() == Some(id.as_str()));
            if still_recorded || !objects.get(id).is_some_and(|remote| remote.live) {
                continue;
            }
            if plan.forgets.contains(address) {
                self.released.insert(
                    id.clone(),
                    format!("{address} was listed under forget by an applied plan"),
                );
            } else if orphaned(address) && !specs.contains_key(address) {
                self.released.insert(
                    id.clone(),
                    format!("{address} left the set with deletionPolicy: orphan"),
                );
            }
        }
        for id in records
            .values()
            .filter_map(|record| record.remote_id.as_ref())
        {
            self.released.remove(id);
        }

        // Nothing untracked.
        {
            for (id, remote) in &objects {
                let recorded = records
                    .values()
                    .any(|record| record.remote_id.as_deref() == Some(id.as_str()));
                if !remote.live || recorded || self.released.contains_key(id) {
                    continue;
                }
                if adoptable(remote, &self.files, &records) {
                    // Its spec is in the set and the next apply finds it by its marker
                    // (e.g. created by an apply that failed before recording it).
                    continue;
                }
                let history = match owner_before(id) {
                    Some(owner) => format!(
                        "it was recorded under {owner} before this step, and no applied plan listed {owner} under forget"
                    ),
                    None if before.objects.contains_key(id) => {
                        "it was not recorded before this step either".to_owned()
                    }
                    None => "it was created in this step".to_owned(),
                };
                violations.push(format!(
                    "nothing untracked: remote object {} is running but is neither in the state nor let go on purpose: {history}",
                    remote.describe()
                ));
            }
        }

        // What each operation promises.
        if let Some(applied) = &effect.applied {
            for (address, record) in &before.records {
                let Some(dir) = self.last_dir.get(address) else {
                    continue;
                };
                if inside(applied, dir) {
                    continue;
                }
                if records.get(address) != Some(record) {
                    violations.push(format!(
                        "outside the applied path: {address} (from specs/{dir}) was {} before applying {applied:?} and is {} after",
                        shown(Some(record)),
                        shown(records.get(address))
                    ));
                }
            }
            if effect.succeeded && !effect.tampered {
                for (address, path) in &specs {
                    if !inside(applied, &dir_of(path)) {
                        continue;
                    }
                    let recorded = records
                        .get(address)
                        .is_some_and(|record| record.remote_id.is_some());
                    if !recorded {
                        violations.push(format!(
                            "state agrees with the specs: {address} ({path}{}) is in the applied spec set but has no remote id in the state after a successful apply",
                            if self.files[path].symlink {
                                ", a symlink"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
        }
        if effect.tampered {
            let sent: Vec<String> = calls(&self.cloud)
                .into_iter()
                .filter_map(|(action, count)| {
                    let more = count - before.calls.get(&action).copied().unwrap_or(0);
                    (more > 0).then(|| format!("{action} x{more}"))
                })
                .collect();
            if !sent.is_empty() {
                violations.push(format!(
                    "tampered plan refused: `apply plan.json` of a plan whose actions were changed sent state-changing requests (accepted or not): {}",
                    sent.join(", ")
                ));
            }
            if effect.succeeded {
                violations.push(
                    "tampered plan refused: `apply plan.json` of a plan whose actions were changed exited 0".to_owned(),
                );
            }
            let addresses: BTreeSet<&String> =
                before.records.keys().chain(records.keys()).collect();
            for address in addresses {
                let (old, new) = (before.records.get(address), records.get(address));
                if old != new {
                    violations.push(format!(
                        "tampered plan refused: the state of {address} changed from {} to {}",
                        shown(old),
                        shown(new)
                    ));
                }
            }
        }
        if let Some((id, Some(owner))) = &effect.import {
            let adopted: Vec<&String> = records
                .iter()
                .filter(|(address, record)| {
                    *address != owner && record.remote_id.as_deref() == Some(id.as_str())
                })
                .map(|(address, _)| address)
                .collect();
            if !adopted.is_empty() {
                violations.push(format!(
                    "import refuses an owned id: {id}, owned by {owner}, was imported as {adopted:?}"
                ));
            } else if effect.succeeded {
                violations.push(format!(
                    "import refuses an owned id: `import` of {id}, owned by {owner}, exited 0"
                ));
            }
        }
        if let Some((old, new)) = &effect.moved {
            let id = before
                .records
                .get(old)
                .and_then(|record| record.remote_id.clone());
            let after = records.get(new).and_then(|record| record.remote_id.clone());
            if after != id || records.contains_key(old) {
                violations.push(format!(
                    "state mv moves the record: before, {old} was {}; after, {old} is {} and {new} is {}",
                    shown(before.records.get(old)),
                    shown(records.get(old)),
                    shown(records.get(new))
                ));
            }
        }

        // Policies as applied.
        if effect.succeeded
            && !effect.tampered
            && let Some(applied) = &effect.applied
        {
            for (address, path) in &specs {
                if inside(applied, &dir_of(path)) {
                    if self.files[path].orphan() {
                        self.orphan.insert(address.clone());
                    } else {
                        self.orphan.remove(address);
                    }
                }
            }
        }
        violations
    }
}

/// Runs one seeded sequence; returns the failure report of the first step that breaks an
/// invariant (with `keep_going`, of every such step).
#[expect(
    clippy::print_stderr,
    reason = "the operation log, shown by the test runner on failure or with --no-capture"
)]
fn run(seed: u64, steps: usize, keep_going: bool) -> Vec<String> {
    let mut model = Model::new(seed);
    let allowed = allowed_operations();
    let mut failures = Vec::new();
    for step in 0..steps {
        model.step = step;
        let before = model.snapshot();
        let started = Instant::now();
        let operated = model.operate(step, &allowed);
        if let Some(last) = model.log.last_mut() {
            last.push_str(&format!(" [{} ms]", started.elapsed().as_millis()));
        }
        let effect = match operated {
            Ok(effect) => effect,
            Err(problem) => {
                // The operation could not be tried: the sequence cannot go on.
                failures.push(report(seed, step, &model.log, &[problem]));
                return failures;
            }
        };
        let violations = model.check(&before, &effect);
        if let Some(last) = model.log.last() {
            eprintln!("seed {seed} {last}");
        }
        if !violations.is_empty() {
            failures.push(report(seed, step, &model.log, &violations));
            if !keep_going {
                return failures;
            }
        }
    }
    failures
}

fn report(seed: u64, step: usize, log: &[String], violations: &[String]) -> String {
    let ops: Vec<String> = log.iter().map(|op| format!("  {op}")).collect();
    format!(
        "safety invariant violated: MIGSPEC_SAFETY_SEED={seed}, step {step}\n\
         operations so far:\n{}\n\
         violated:\n  - {}\n\
         (re-run: MIGSPEC_SAFETY_SEED={seed} MIGSPEC_SAFETY_STEPS={} cargo nextest run -p migspec-tests --test safety_property)",
        ops.join("\n"),
        violations.join("\n  - "),
        step + 1
    )
}

fn seeds() -> Vec<u64> {
    match std::env::var("MIGSPEC_SAFETY_SEED") {
        Ok(text) if !text.trim().is_empty() => text
            .split(',')
            .map(|seed| {
                seed.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("MIGSPEC_SAFETY_SEED: `{seed}` is not a number"))
            })
            .collect(),
        _ => DEFAULT_SEEDS.to_vec(),
    }
}

fn steps() -> usize {
    match std::env::var("MIGSPEC_SAFETY_STEPS") {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MIGSPEC_SAFETY_STEPS: `{text}` is not a number")),
        _ => DEFAULT_STEPS,
    }
}

#[test]
fn random_user_operations_keep_every_safety_invariant() {
    let steps = steps();
    // Diagnosis only: report every violating step of a sequence, not just the first (the
    // model may drift after a violation, so later reports can be consequences of it).
    let keep_going = std::env::var_os("MIGSPEC_SAFETY_KEEP_GOING").is_some();
    let started = Instant::now();
    let mut failures = Vec::new();
    for seed in seeds() {
        let found = run(seed, steps, keep_going);
        let stop = !found.is_empty() && !keep_going;
        failures.extend(found);
        if stop {
            break;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{} seeds x {steps} steps kept every invariant in {:.1?}",
        seeds().len(),
        started.elapsed()
    );
}
