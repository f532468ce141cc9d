//! A test bed for plan/apply: a `migspec emulator` process on a free loopback port and a
//! workspace directory (specs, `migspec.yaml`, `.migspec/`) whose `migspec` commands talk to
//! it through the real configuration path (environment endpoints and credentials).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::{built, ensure_built, workspace_dir};

/// The emulator's documented default credentials.
pub const TENCENT_ID: &str = "AKIDMIGSPECEMULATOR0000000000000000";
/// The emulator's documented default credentials.
pub const TENCENT_KEY: &str = "migspecEmulatorSecretKey00000000";
/// The emulator's documented default credentials.
pub const HUAWEI_AK: &str = "MIGSPECEMULATORAK000";
/// The emulator's documented default credentials.
pub const HUAWEI_SK: &str = "migspecEmulatorSecretKey0000000000000000";

/// An emulator process and a workspace.
pub struct Cloud {
    child: Child,
    /// The emulator's base URL.
    pub url: String,
    dir: tempfile::TempDir,
    variables: BTreeSet<String>,
}

impl Cloud {
    /// Starts an emulator (with an emulator configuration file, see
    /// `crates/migspec-emulator/README.md`, when given) and an empty workspace whose
    /// `migspec.yaml` polls every 50 ms.
    pub fn start(emulator_config: Option<&str>) -> Self {
        ensure_built(&["migspec-cli"]);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(built("migspec"));
        command
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(config) = emulator_config {
            let path = dir.path().join("emulator.yaml");
            std::fs::write(&path, config).expect("write the emulator configuration");
            command.arg("--config").arg(path);
        }
        let mut child = command.spawn().expect("the emulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader
            .read_line(&mut first)
            .expect("the emulator prints its URL");
        // Keep draining its standard output, so that it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in the emulator's first line: {first:?}"))
            .to_owned();
        std::fs::write(dir.path().join("migspec.yaml"), "pollInterval: 50ms\n")
            .expect("write migspec.yaml");
        Self {
            child,
            url,
            dir,
            variables: BTreeSet::new(),
        }
    }

    /// The workspace directory (the commands' working directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the shipped `specs/` into the workspace (as `specs/`).
    pub fn copy_specs(&mut self) {
        let source = workspace_dir().join("specs");
        for entry in std::fs::read_dir(&source).expect("specs/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|ext| ext == "yaml") {
                let text = std::fs::read_to_string(&path).expect("a spec file");
                self.write(
                    &format!(
                        "specs/{}",
                        path.file_name().expect("a file name").to_string_lossy()
                    ),
                    &text,
                );
            }
        }
    }

    /// Writes a file under the workspace; the secrets its specs reference (`fromEnv`,
    /// `fromFile`) are provided to every later command.
    pub fn write(&mut self, relative: &str, text: &str) {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
        std::fs::write(&path, text).expect("write a file");
        for line in text.lines() {
            if let Some((_, rest)) = line.split_once("fromEnv:") {
                let name: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    self.variables.insert(name);
                }
            }
            if let Some((_, rest)) = line.split_once("fromFile:") {
                let file: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| !matches!(c, '}' | ',' | ' ' | '#'))
                    .collect();
                let secret = path.parent().expect("a parent").join(file);
                std::fs::create_dir_all(secret.parent().expect("a parent"))
                    .expect("create directories");
                std::fs::write(&secret, "file-secret\n").expect("write a secret file");
            }
        }
    }

    /// `migspec` in the workspace, pointed at the emulator through the environment, with a
    /// value for every secret variable the written specs reference.
    pub fn migspec(&self) -> Command {
        let mut command = Command::new(built("migspec"));
        command
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("HOME", self.dir.path())
            .env("MIGSPEC_TENCENT_ENDPOINT", &self.url)
            .env("TENCENTCLOUD_SECRET_ID", TENCENT_ID)
            .env("TENCENTCLOUD_SECRET_KEY", TENCENT_KEY)
            .env_remove("TENCENTCLOUD_TOKEN")
            .env("MIGSPEC_HUAWEI_OMS_ENDPOINT", &self.url)
            .env("HUAWEICLOUD_SDK_AK", HUAWEI_AK)
            .env("HUAWEICLOUD_SDK_SK", HUAWEI_SK)
            .env(
                "HUAWEICLOUD_SDK_PROJECT_ID",
                "0123456789abcdef0123456789abcdef",
            );
        for variable in &self.variables {
            if !variable.starts_with("HUAWEICLOUD_SDK_") {
                command.env(variable, format!("secret-{variable}"));
            }
        }
        command
    }

    /// Runs `migspec ARGS…` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.migspec().args(args).output().expect("migspec runs")
    }

    /// The state file, parsed (`Value::Null` when there is none), with the steps of
    /// `.migspec/state.log` a running (or killed) apply recorded since applied over it.
    pub fn state(&self) -> serde_json::Value {
        let path = self.state_path();
        let mut state: serde_json::Value = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).expect("the state file is valid JSON"),
            Err(_) => return serde_json::Value::Null,
        };
        let log = std::fs::read_to_string(path.with_file_name("state.log")).unwrap_or_default();
        // Whole lines only (a running apply may be writing the last one); each the next serial.
        let whole = log.rfind('\n').map_or("", |end| &log[..end]);
        for line in whole.lines() {
            let Ok(line) = serde_json::from_str::<serde_json::Value>(line) else {
                break;
            };
            if line["lineage"] != state["lineage"] {
                continue;
            }
            let (Some(serial), Some(current)) = (line["serial"].as_u64(), state["serial"].as_u64())
            else {
                break;
            };
            if serial <= current {
                continue;
            }
            if serial != current + 1 {
                break;
            }
            let address = line["address"].as_str().expect("a log line has an address");
            let resources = state["resources"]
                .as_object_mut()
                .expect("the state has resources");
            if line["resource"].is_null() {
                resources.remove(address);
            } else {
                resources.insert(address.to_owned(), line["resource"].clone());
            }
            if let (Some(journal), Some(entries)) =
                (state["journal"].as_array_mut(), line["journal"].as_array())
            {
                journal.extend(entries.iter().cloned());
            }
            state["serial"] = serial.into();
        }
        state
    }

    /// `.migspec/state.json` of the workspace.
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join(".migspec").join("state.json")
    }

    /// The emulator's statistics (`GET /_emulator/stats`).
    pub fn stats(&self) -> serde_json::Value {
        self.admin("stats")
    }

    /// `GET /_emulator/NAME`, parsed as JSON.
    pub fn admin(&self, name: &str) -> serde_json::Value {
        let address = self.url.trim_start_matches("http://").to_owned();
        let (_, body) = self.request(&format!(
            "GET /_emulator/{name} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        ));
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("{name} JSON: {error}: {body}"))
    }

    /// Sends one raw HTTP/1.1 request (request line, headers and body, as written) to the
    /// emulator and returns the answer's status code (0 when there is none) and body.
    pub fn request(&self, raw: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the emulator");
        stream.write_all(raw.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard output and error of a command, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

impl Cloud {
    /// Sends one Huawei OMS request with the emulator's token (no signature needed), as a
    /// change made outside migspec. Returns the status code and body.
    pub fn oms(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let address = self.url.trim_start_matches("http://").to_owned();
        self.request(&format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nX-Auth-Token: migspec-emulator-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    }

    /// How many requests of a (service, action) the emulator accepted, e.g.
    /// `("tencent", "CreateMigrateJob")`, over every API version.
    pub fn accepted(&self, service: &str, action: &str) -> u64 {
        let stats = self.stats();
        stats["services"][service]["versions"]
            .as_object()
            .map_or(0, |versions| {
                versions
                    .values()
                    .filter_map(|actions| actions[action]["ok"].as_u64())
                    .sum()
            })
    }

    /// Creates accepted by the emulator, every kind.
    pub fn creates(&self) -> u64 {
        self.accepted("tencent", "CreateMigrateJob")
            + self.accepted("tencent", "CreateMigrationService")
            + self.accepted("huawei", "CreateTaskGroup")
    }

    /// A shipped spec's text (`specs/NAME`).
    pub fn shipped(name: &str) -> String {
        std::fs::read_to_string(workspace_dir().join("specs").join(name)).expect("a shipped spec")
    }
}
