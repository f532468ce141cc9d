//! Issue 13, items 1–6 and 18, in a real terminal: `migspec` runs under a pty
//! (portable-pty) whose output feeds a terminal emulator (vt100), and the tests look at what
//! a person would see (the screen and its scrollback, with colours), not at the bytes.
//!
//! Every run uses `--emulator` with an `emulator:` section in `migspec.yaml`, so phases are
//! slow enough to watch and faults are injected where a test needs them.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use support::{built, ensure_built, workspace_dir};

/// A `migspec` process on a pty of a fixed size, and the screen it draws.
struct Terminal {
    parser: Arc<Mutex<vt100::Parser>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    // Kept open for the reader thread: dropping the master hangs the line up.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Terminal {
    /// Runs `migspec ARGS…` in `dir` on a `cols`×`rows` terminal, with `env` set (and the
    /// colour variables of the test's own environment removed).
    fn spawn(dir: &Path, args: &[&str], (cols, rows): (u16, u16), env: &[(&str, &str)]) -> Self {
        ensure_built(&["migspec-cli"]);
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty opens");
        let mut command = CommandBuilder::new(built("migspec"));
        command.args(args);
        command.cwd(dir);
        for variable in [
            "NO_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "CI",
            "MIGSPEC_LOG",
        ] {
            command.env_remove(variable);
        }
        command.env("TERM", "xterm-256color");
        command.env("HOME", dir);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pair
            .slave
            .spawn_command(command)
            .expect("migspec starts on the pty");
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().expect("rows > 0"),
            cols.try_into().expect("cols > 0"),
            10_000,
        )));
        let mut reader = pair.master.try_clone_reader().expect("a pty reader");
        let screen = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buffer = [0_u8; 8192];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                screen
                    .lock()
                    .expect("the screen lock")
                    .process(&buffer[..read]);
            }
        });
        let writer = pair.master.take_writer().expect("a pty writer");
        Self {
            parser,
            child,
            writer,
            _master: pair.master,
        }
    }

    /// Types bytes (`\x03` is Ctrl-C: the terminal sends SIGINT to the foreground job).
    fn type_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Every line the terminal shows or scrolled away, oldest first, without trailing blanks.
    fn transcript(&self) -> Vec<String> {
        let mut parser = self.parser.lock().expect("the screen lock");
        let screen = parser.screen_mut();
        let (_, cols) = screen.size();
        let mut lines = Vec::new();
        screen.set_scrollback(usize::MAX);
        let scrolled = screen.scrollback();
        for offset in (1..=scrolled).rev() {
            screen.set_scrollback(offset);
            if let Some(first) = screen.rows(0, cols.get()).next() {
                lines.push(first.trim_end().to_owned());
            }
        }
        screen.set_scrollback(0);
        lines.extend(
            screen
                .rows(0, cols.get())
                .map(|row| row.trim_end().to_owned()),
        );
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }

    /// What the screen shows now, rows joined, trailing blanks cut.
    fn screen(&self) -> String {
        let parser = self.parser.lock().expect("the screen lock");
        let screen = parser.screen();
        let (_, cols) = screen.size();
        let mut rows: Vec<String> = screen
            .rows(0, cols.get())
            .map(|row| row.trim_end().to_owned())
            .collect();
        while rows.last().is_some_and(String::is_empty) {
            rows.pop();
        }
        rows.join("\n")
    }

    /// The visible progress rows (a job's bar, the overall line) that the terminal wrapped
    /// onto the next row.
    fn wrapped_bars(&self) -> Vec<String> {
        let parser = self.parser.lock().expect("the screen lock");
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let texts: Vec<String> = screen.rows(0, cols.get()).collect();
        let is_progress = |text: &str| {
            text.contains("jobs done")
                || (text.starts_with("  ") && text.contains("] ") && text.contains('%'))
        };
        // indicatif pads every line to the full width and lets the terminal's pending wrap
        // move on, so a full row counts as wrapped: a bar really wrapped when the row after it
        // is a piece of text instead of the next bar, the overall line or nothing.
        (0..rows.get().saturating_sub(1))
            .filter(|&row| screen.row_wrapped(row) && is_progress(&texts[usize::from(row)]))
            .filter(|&row| {
                let next = texts[usize::from(row) + 1].trim_end();
                !(next.is_empty() || is_progress(next))
            })
            .map(|row| texts[usize::from(row)].clone())
            .collect()
    }

    /// The colours (foreground) used on the visible rows that contain `text`.
    fn colours_on_rows_with(&self, text: &str) -> Vec<vt100::Color> {
        let parser = self.parser.lock().expect("the screen lock");
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let texts: Vec<String> = screen.rows(0, cols.get()).collect();
        let mut colours = Vec::new();
        for row in 0..rows.get() {
            if !texts[usize::from(row)].contains(text) {
                continue;
            }
            for col in 0..cols.get() {
                if let Some(cell) = screen.cell(row, col)
                    && cell.has_contents()
                    && cell.fgcolor() != vt100::Color::Default
                {
                    colours.push(cell.fgcolor());
                }
            }
        }
        colours
    }

    /// Whether any cell of the screen or the scrollback has a colour or is bold.
    fn any_colour(&self) -> bool {
        let mut parser = self.parser.lock().expect("the screen lock");
        let screen = parser.screen_mut();
        let (rows, cols) = screen.size();
        screen.set_scrollback(usize::MAX);
        let scrolled = screen.scrollback();
        let mut found = false;
        for offset in (0..=scrolled).rev() {
            screen.set_scrollback(offset);
            for row in 0..rows.get() {
                for col in 0..cols.get() {
                    if let Some(cell) = screen.cell(row, col)
                        && cell.has_contents()
                        && (cell.fgcolor() != vt100::Color::Default || cell.bold() || cell.dim())
                    {
                        found = true;
                    }
                }
            }
        }
        screen.set_scrollback(0);
        found
    }

    /// Waits until the screen and scrollback hold `text`; panics with the screen after
    /// `timeout`.
    fn wait_for(&mut self, text: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.transcript().iter().any(|line| line.contains(text)) {
                return;
            }
            if self.child.try_wait().expect("the child's status").is_some() {
                // Let the reader take the last output.
                std::thread::sleep(Duration::from_millis(200));
                if self.transcript().iter().any(|line| line.contains(text)) {
                    return;
                }
                panic!(
                    "migspec exited before showing {text:?}:\n{}",
                    self.transcript().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no {text:?} after {timeout:?}:\n{}",
            self.transcript().join("\n")
        );
    }

    /// Waits for the exit (at most `timeout`) and returns the exit code and how long it took.
    fn wait_exit(&mut self, timeout: Duration) -> (u32, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                // The reader drains what the process wrote last.
                std::thread::sleep(Duration::from_millis(300));
                return (status.exit_code(), start.elapsed());
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "migspec still runs after {timeout:?}:\n{}",
                    self.transcript().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A workspace with shipped specs (by file name) and a `migspec.yaml` with `settings`.
fn workspace(specs: &[&str], settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir_all(dir.path().join("specs")).expect("specs/");
    for name in specs {
        std::fs::copy(
            workspace_dir().join("specs").join(name),
            dir.path().join("specs").join(name),
        )
        .expect("copy a shipped spec");
    }
    std::fs::write(dir.path().join("migspec.yaml"), settings).expect("migspec.yaml");
    dir
}

/// The screen with what changes from run to run replaced: remote ids, the emulator's
/// timestamps, the `… done` lines (whose order follows the jobs' race) and what a converged
/// job's bar says after its ✔ (the step the last poll happened to see; tests check it).
fn stable(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.ends_with(" done") && !line.starts_with(' ') {
            continue;
        }
        let mut line = line.to_owned();
        if line.starts_with("  ")
            && line.contains("] ")
            && let Some(at) = line.find("✔ ")
        {
            line.replace_range(at.., "✔ <where it was>");
        }
        // `2026-12-01 23:02:40`
        let bytes = line.as_bytes();
        if let Some(at) = (0..bytes.len().saturating_sub(18)).find(|&at| {
            let window = &bytes[at..at + 19];
            window[4] == b'-'
                && window[7] == b'-'
                && window[10] == b' '
                && window[13] == b':'
                && window[16] == b':'
                && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
                    .iter()
                    .all(|&index| window[index].is_ascii_digit())
        }) {
            line.replace_range(at..at + 19, "<time>");
        }
        let mut from = 0;
        while let Some(at) = line[from..].find("dts-") {
            let start = from + at + "dts-".len();
            let end = line[start..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .map_or(line.len(), |end| start + end);
            line.replace_range(start..end, "ID");
            from = start + 2;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Slow enough phases to see the bars move; the catalog job's check fails.
const FAILING_CHECK: &str = "emulator: {config: emulator.yaml}\n";
const FAILING_CHECK_EMULATOR: &str = r#"
durations: {checking: 1s, migrating: 1s, oms_task_creation: 1s, oms_migration: 1s}
faults:
  rules:
    - {match: "catalog-*", check_fail: {message: "source MongoDB unreachable from the DTS network"}}
"#;

#[test]
fn issue_13_bars_fit_80_columns_end_where_each_job_is_and_failures_follow_the_summary() {
    let dir = workspace(
        &[
            "orders-mysql.yaml",
            "catalog-mongodb.yaml",
            "invoices-oms-list.yaml",
        ],
        FAILING_CHECK,
    );
    std::fs::write(dir.path().join("emulator.yaml"), FAILING_CHECK_EMULATOR).expect("write");
    let mut terminal = Terminal::spawn(
        dir.path(),
        &["apply", "specs/", "--emulator", "--auto-approve"],
        (80, 30),
        &[],
    );
    terminal.wait_for("jobs done", Duration::from_secs(20));
    // While the bars draw, no row wraps (a wrapped bar leaves a stale line per redraw).
    let mut samples = 0;
    while terminal.child.try_wait().expect("status").is_none() && samples < 50 {
        assert_eq!(
            terminal.wrapped_bars(),
            Vec::<String>::new(),
            "a bar wrapped:\n{}",
            terminal.screen()
        );
        samples += 1;
        std::thread::sleep(Duration::from_millis(40));
    }
    let (code, _) = terminal.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 1, "{}", terminal.transcript().join("\n"));
    let screen = terminal.screen();
    let catalog = screen
        .lines()
        .find(|line| line.starts_with("  catalog-mongodb"))
        .unwrap_or_else(|| panic!("no catalog bar:\n{screen}"));
    assert!(
        catalog.contains("✘ check failed") && !catalog.contains("100%"),
        "the failed job's bar is not full and says why: {catalog}\n{screen}"
    );
    let bar_of = |address: &str| {
        screen
            .lines()
            .find(|line| line.starts_with(&format!("  {address} ")))
            .unwrap_or_else(|| panic!("no {address} bar:\n{screen}"))
            .to_owned()
    };
    // Converged: where the job is (a full bar only for a job that got there).
    let orders = bar_of("orders-to-cdb");
    assert!(
        orders.contains("[====================] 100%  ✔ ready_to_complete"),
        "{orders}"
    );
    let invoices = bar_of("invoices-list");
    assert!(
        invoices.contains("]   0%  ✔ running") && !invoices.contains("100%"),
        "{invoices}"
    );
    // Red: the address and the reason.
    assert!(
        terminal
            .colours_on_rows_with("✘ check failed")
            .contains(&vt100::Color::Idx(1)),
        "{screen}"
    );
    insta::assert_snapshot!("bars_80x30_failed_check", stable(&screen));
}

#[test]
fn issue_13_ctrl_c_is_said_above_the_bars_and_a_second_one_exits_at_once() {
    // Every answer takes 4 s, so the first Ctrl-C lands while a call is in progress.
    let dir = workspace(
        &["orders-mysql.yaml"],
        "emulator: {config: emulator.yaml}\n",
    );
    std::fs::write(dir.path().join("emulator.yaml"), "faults: {latency: 4s}\n").expect("write");
    let mut terminal = Terminal::spawn(
        dir.path(),
        &["apply", "specs/", "--emulator", "--auto-approve"],
        (120, 45),
        &[],
    );
    terminal.wait_for("+ create (1/", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    terminal.type_bytes(b"\x03");
    terminal.wait_for("Interrupted: no new steps start", Duration::from_secs(5));
    // The notice is printed through the bars: redraws leave it in place.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        terminal
            .transcript()
            .iter()
            .any(|line| line.starts_with("Interrupted: no new steps start")),
        "{}",
        terminal.transcript().join("\n")
    );
    terminal.type_bytes(b"\x03");
    let (code, took) = terminal.wait_exit(Duration::from_secs(10));
    assert_eq!(code, 130, "{}", terminal.transcript().join("\n"));
    assert!(
        took < Duration::from_millis(1500),
        "the second Ctrl-C took {took:?} to exit:\n{}",
        terminal.transcript().join("\n")
    );
    let screen = terminal.screen();
    assert!(
        screen.contains("Interrupted again: exiting now; steps in progress, which may have reached the cloud: orders-to-cdb (+ create)"),
        "{screen}"
    );
    insta::assert_snapshot!("ctrl_c_twice_120x45", stable(&screen));

    // The state loads, and a re-run (at full speed) converges and then plans nothing.
    std::fs::write(dir.path().join("emulator.yaml"), "").expect("write");
    let state = std::fs::read_to_string(dir.path().join(".migspec/state.json"));
    if let Ok(text) = state {
        let _: serde_json::Value = serde_json::from_str(&text).expect("the state is JSON");
    }
    let run = |args: &[&str]| {
        std::process::Command::new(built("migspec"))
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("HOME", dir.path())
            .output()
            .expect("migspec runs")
    };
    let apply = run(&["apply", "specs/", "--emulator", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", support::render(&apply));
    let plan = run(&["plan", "specs/", "--emulator", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", support::render(&plan));
}

#[test]
fn issue_13_plan_columns_align_on_a_coloured_terminal() {
    let dir = workspace(&["orders-mysql.yaml", "invoices-oms-list.yaml"], "");
    let mut terminal = Terminal::spawn(
        dir.path(),
        &["plan", "specs/", "--emulator"],
        (120, 45),
        &[],
    );
    let (code, _) = terminal.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{}", terminal.transcript().join("\n"));
    assert!(terminal.any_colour(), "a terminal gets colour");
    let transcript = terminal.transcript();
    // Every action's reason starts in the same column.
    let columns: Vec<usize> = transcript
        .iter()
        .filter(|line| {
            ["+ create", "✓ check", "▶ start"]
                .iter()
                .any(|verb| line.trim_start().starts_with(verb))
        })
        .map(|line| {
            let verb_end = line
                .char_indices()
                .skip(4)
                .find(|(_, c)| *c == ' ')
                .map_or(0, |(at, _)| at);
            line[verb_end..].chars().take_while(|c| *c == ' ').count()
                + line[..verb_end].chars().count()
        })
        .collect();
    assert!(columns.len() >= 4, "{}", transcript.join("\n"));
    assert!(
        columns.iter().all(|column| *column == columns[0]),
        "reasons start in columns {columns:?}:\n{}",
        transcript.join("\n")
    );
    insta::assert_snapshot!("plan_120x45", stable(&terminal.screen()));
}

#[test]
fn issue_13_one_colour_policy_no_color_clicolor_and_clicolor_force() {
    let dir = workspace(&["orders-mysql.yaml"], "");
    // NO_COLOR on a terminal: no colour anywhere.
    let mut plain = Terminal::spawn(
        dir.path(),
        &["plan", "specs/", "--emulator"],
        (120, 45),
        &[("NO_COLOR", "1")],
    );
    assert_eq!(plain.wait_exit(Duration::from_secs(20)).0, 0);
    assert!(
        !plain.any_colour(),
        "NO_COLOR:\n{}",
        plain.transcript().join("\n")
    );
    // CLICOLOR=0 on a terminal: none either.
    let mut off = Terminal::spawn(
        dir.path(),
        &["plan", "specs/", "--emulator"],
        (120, 45),
        &[("CLICOLOR", "0")],
    );
    assert_eq!(off.wait_exit(Duration::from_secs(20)).0, 0);
    assert!(
        !off.any_colour(),
        "CLICOLOR=0:\n{}",
        off.transcript().join("\n")
    );
    // CLICOLOR_FORCE through pipes: colour on both streams (a diagnostic on stderr, a plan
    // on stdout).
    std::fs::write(
        dir.path().join("specs/broken.yaml"),
        "apiVersion: migspec/v1\nkind: TencentDtsMigrateJob\nmetadata: {name: broken}\nspec: {region: ap-guangzhou}\n",
    )
    .expect("write");
    let forced = std::process::Command::new(built("migspec"))
        .args(["validate", "specs/broken.yaml"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("migspec runs");
    assert_eq!(
        forced.status.code(),
        Some(1),
        "{}",
        support::render(&forced)
    );
    assert!(
        String::from_utf8_lossy(&forced.stderr).contains("\u{1b}["),
        "{}",
        support::render(&forced)
    );
    std::fs::remove_file(dir.path().join("specs/broken.yaml")).expect("remove");
    let piped = |force: bool| {
        let mut command = std::process::Command::new(built("migspec"));
        command
            .args(["plan", "specs/", "--emulator"])
            .current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR");
        if force {
            command.env("CLICOLOR_FORCE", "1");
        } else {
            command.env_remove("CLICOLOR_FORCE");
        }
        command.output().expect("migspec runs")
    };
    let forced = piped(true);
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\u{1b}["));
    // Not a terminal, nothing forced: no colour.
    let auto = piped(false);
    assert_eq!(auto.status.code(), Some(0), "{}", support::render(&auto));
    assert!(!String::from_utf8_lossy(&auto.stdout).contains('\u{1b}'));
    assert!(!String::from_utf8_lossy(&auto.stderr).contains('\u{1b}'));
}

#[test]
fn issue_13_log_lines_carry_the_time_zone() {
    let dir = workspace(&["orders-mysql.yaml"], "");
    let output = std::process::Command::new(built("migspec"))
        .args(["apply", "specs/", "--emulator", "--auto-approve"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("migspec runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::render(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stamped: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with('['))
        .collect();
    assert!(stamped.len() >= 3, "{stderr}");
    for line in stamped {
        let stamp = &line[1..line.find(']').expect("a closing bracket")];
        let bytes = stamp.as_bytes();
        assert!(
            stamp.len() == 9
                && bytes[2] == b':'
                && bytes[5] == b':'
                && stamp.ends_with('Z')
                && stamp[..8].chars().all(|c| c.is_ascii_digit() || c == ':'),
            "`{stamp}` is HH:MM:SSZ: {line}"
        );
    }
}

#[test]
fn issue_13_the_emulator_can_be_slowed_from_the_command_line_and_migspec_yaml() {
    let timed = |dir: &Path, extra: &[&str]| {
        let start = Instant::now();
        let output = std::process::Command::new(built("migspec"))
            .args(["apply", "specs/", "--emulator", "--auto-approve"])
            .args(extra)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("migspec runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            support::render(&output)
        );
        start.elapsed()
    };
    // At full speed the check and the full migration take 0.8 s; scaled by 6, 4.8 s: the
    // scaled runs take at least 2 s longer than one at full speed, however loaded the machine.
    let baseline = timed(workspace(&["orders-mysql.yaml"], "").path(), &[]);
    let flag = workspace(&["orders-mysql.yaml"], "");
    let took = timed(flag.path(), &["--emulator-time-scale", "6"]);
    assert!(
        took >= Duration::from_millis(1200) && took >= baseline + Duration::from_secs(2),
        "{took:?} scaled, {baseline:?} at full speed"
    );
    let settings = workspace(&["orders-mysql.yaml"], "emulator: {timeScale: 6}\n");
    let took = timed(settings.path(), &[]);
    assert!(
        took >= Duration::from_millis(1200) && took >= baseline + Duration::from_secs(2),
        "{took:?} scaled, {baseline:?} at full speed"
    );

    let refused = std::process::Command::new(built("migspec"))
        .args(["plan", "specs/", "--emulator", "--emulator-time-scale", "0"])
        .current_dir(flag.path())
        .output()
        .expect("migspec runs");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        support::render(&refused)
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`0` is not a positive number"),
        "{}",
        support::render(&refused)
    );
}

#[test]
fn issue_13_the_emulator_note_lists_every_unset_reference_with_its_field() {
    let dir = workspace(
        &[
            "orders-mysql.yaml",
            "ledger-postgres.yaml",
            "media-archive-oms.yaml",
        ],
        "",
    );
    let output = std::process::Command::new(built("migspec"))
        .args(["plan", "specs/", "--emulator"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("migspec runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::render(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let count: usize = stderr
        .lines()
        .find_map(|line| line.strip_prefix("note: --emulator: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no note: {stderr}"));
    let listed = stderr.lines().filter(|line| line.starts_with("  ")).count();
    assert_eq!(count, listed, "{stderr}");
    insta::assert_snapshot!("emulator_placeholders", stderr);
}
