//! A real PostgreSQL server for the team-state tests: `initdb` on a temporary directory,
//! `pg_ctl start` on 127.0.0.1 and a free port, trust authentication on loopback only, one
//! database per test, stopped when the last handle is dropped.
//!
//! Started once per test process (nextest runs each test in its own process, so each test
//! gets its own server and nothing leaks between them). As root, the server runs as the
//! `postgres` system user (`runuser`), because PostgreSQL refuses to run as root; the user
//! is created when missing. The binaries are `$MIGSPEC_TEST_PG_BIN`, else the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql` package), else `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, Weak};

/// A running server.
pub struct Server {
    bin: PathBuf,
    /// The data directory (and the socket directory, the log).
    dir: tempfile::TempDir,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    run_as: Option<String>,
    databases: Mutex<u32>,
}

/// One database of the server, for one test.
pub struct Database {
    /// Keeps the server running.
    pub server: Arc<Server>,
    /// The database name.
    pub name: String,
}

/// The password every URL carries (trust authentication ignores it): a test checks that it
/// never appears in migspec's output.
pub const PASSWORD: &str = "pg-secret-never-printed";

impl Database {
    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/NAME`.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{}",
            self.server.port, self.name
        )
    }

    /// Runs SQL with psql in this database; returns its unaligned, tuples-only output.
    /// Panics when psql fails.
    pub fn psql(&self, sql: &str) -> String {
        let output = self.try_psql(sql);
        assert!(
            output.status.success(),
            "psql failed on {sql}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Runs SQL with psql in this database.
    pub fn try_psql(&self, sql: &str) -> Output {
        self.server.psql(&self.name, sql)
    }
}

impl Server {
    fn psql(&self, database: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(database)
            .arg("-c")
            .arg(sql)
            .env_remove("PGPASSWORD")
            .output()
            .expect("psql runs")
    }

    fn command(&self, program: &str) -> Command {
        command_as(self.run_as.as_deref(), &self.bin.join(program))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("stop")
            .args(["-m", "immediate", "-w", "-D"])
            .arg(self.dir.path().join("data"))
            .output();
    }
}

fn command_as(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A fresh database on this process's server, or why no server could be started.
pub fn database() -> Result<Database, String> {
    static SERVER: Mutex<Weak<Server>> = Mutex::new(Weak::new());
    let server = {
        let mut slot = SERVER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.upgrade() {
            Some(server) => server,
            None => {
                let server = Arc::new(start()?);
                *slot = Arc::downgrade(&server);
                server
            }
        }
    };
    let name = {
        let mut count = server
            .databases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *count += 1;
        format!("test_{}_{}", std::process::id(), *count)
    };
    let output = server.psql("postgres", &format!("CREATE DATABASE {name}"));
    if !output.status.success() {
        return Err(format!(
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(Database { server, name })
}

/// A database, or `None` after printing why the test is skipped.
#[expect(clippy::print_stderr, reason = "a skipped test says why")]
pub fn database_or_skip(test: &str) -> Option<Database> {
    match database() {
        Ok(database) => Some(database),
        Err(why) => {
            eprintln!("SKIPPED {test}: no PostgreSQL server could be started: {why}");
            None
        }
    }
}

fn binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MIGSPEC_TEST_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let found = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .map_err(|error| format!("cannot look for initdb: {error}"))?;
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    if path.is_empty() {
        return Err(
            "initdb is not installed (apt-get install postgresql, or set MIGSPEC_TEST_PG_BIN)"
                .to_owned(),
        );
    }
    Ok(PathBuf::from(path)
        .parent()
        .expect("a path has a parent")
        .to_path_buf())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn uid_of(user: Option<&str>) -> Result<u32, String> {
    let mut command = Command::new("id");
    command.arg("-u");
    if let Some(user) = user {
        command.arg(user);
    }
    let output = command
        .output()
        .map_err(|error| format!("cannot run id: {error}"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("id -u {}: {}", user.unwrap_or(""), text(&output)))
}

fn start() -> Result<Server, String> {
    let bin = binaries()?;
    let dir = tempfile::tempdir().map_err(|error| format!("no temporary directory: {error}"))?;
    let run_as = if uid_of(None)? == 0 {
        if uid_of(Some("postgres")).is_err() {
            let output = Command::new("useradd")
                .args(["--system", "--no-create-home", "postgres"])
                .output()
                .map_err(|error| format!("cannot run useradd: {error}"))?;
            if !output.status.success() {
                return Err(format!(
                    "cannot create the postgres user: {}",
                    text(&output)
                ));
            }
        }
        let uid = uid_of(Some("postgres"))?;
        std::os::unix::fs::chown(dir.path(), Some(uid), None).map_err(|error| {
            format!("cannot hand {} to postgres: {error}", dir.path().display())
        })?;
        Some("postgres".to_owned())
    } else {
        None
    };
    let data = dir.path().join("data");
    let output = command_as(run_as.as_deref(), &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .output()
        .map_err(|error| format!("cannot run initdb: {error}"))?;
    if !output.status.success() {
        return Err(format!("initdb failed: {}", text(&output)));
    }
    // A free port: bind, note, release (a race with another process is retried below).
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free port: {error}"))?
            .port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=50",
            dir.path().display()
        );
        let output = command_as(run_as.as_deref(), &bin.join("pg_ctl"))
            .arg("start")
            .args(["-w", "-t", "30", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("server.log"))
            .arg("-o")
            .arg(options)
            .output()
            .map_err(|error| format!("cannot run pg_ctl: {error}"))?;
        if output.status.success() {
            return Ok(Server {
                bin,
                dir,
                port,
                run_as,
                databases: Mutex::new(0),
            });
        }
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        if !log.contains("could not bind") {
            return Err(format!("pg_ctl start failed: {}\n{log}", text(&output)));
        }
    }
    Err("pg_ctl start failed five times: no free port".to_owned())
}
