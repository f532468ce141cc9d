//! Arguments and entry point of `migspec emulator`.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::config::{
    ConfigFile, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK,
    DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig,
    HuaweiCredential, TencentCredential,
};
use crate::error::EmulatorError;
use crate::faults::{ActionFaults, FaultConfig, Latency};

/// Arguments of `migspec emulator`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Allow a listen address that is not loopback
    #[arg(long)]
    pub allow_remote: bool,

    /// Tencent credential to accept (repeatable); without it the documented default pair is accepted
    #[arg(long = "tencent-credential", value_name = "ID:KEY")]
    pub tencent_credentials: Vec<TencentCredential>,

    /// Huawei AK/SK pair to accept (repeatable); without this and --huawei-token the default pair and token are accepted
    #[arg(long = "huawei-credential", value_name = "AK:SK")]
    pub huawei_credentials: Vec<HuaweiCredential>,

    /// Huawei X-Auth-Token value to accept (repeatable)
    #[arg(long = "huawei-token", value_name = "TOKEN")]
    pub huawei_tokens: Vec<String>,

    /// Config file (YAML, or JSON for *.json): durations, rate limit, fault injection
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Keep jobs and task groups in this directory across restarts (default: in memory)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Multiply every phase duration by X (e.g. 60 for a slow, realistic demo)
    #[arg(long, value_name = "X")]
    pub time_scale: Option<f64>,

    /// Request fault injection (overrides the config file's `faults:` values)
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Request fault flags of `migspec emulator`; each overrides the config file's value.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Fault injection")]
pub struct FaultArgs {
    /// Seed of the random faults: the same seed and requests meet the same faults
    #[arg(long, value_name = "N")]
    pub fault_seed: Option<u64>,

    /// Probability (0..=1) of an InternalError / HTTP 500 answer before processing
    #[arg(long, value_name = "P", value_parser = parse_rate)]
    pub internal_error_rate: Option<f64>,

    /// Probability (0..=1) of a throttled answer before processing, whatever the rate limit
    #[arg(long, value_name = "P", value_parser = parse_rate)]
    pub throttle_rate: Option<f64>,

    /// Probability (0..=1) that the connection closes without an answer, before processing
    #[arg(long, value_name = "P", value_parser = parse_rate)]
    pub drop_connection_rate: Option<f64>,

    /// Probability (0..=1) that the request is processed and then the connection closes
    /// without an answer (the client cannot know whether it took effect)
    #[arg(long, value_name = "P", value_parser = parse_rate)]
    pub drop_response_rate: Option<f64>,

    /// Delay added to every API answer: 20ms, a uniform range 0ms..200ms, or exp:40ms
    /// (exponential with that mean, capped at ten times it)
    #[arg(long, value_name = "LATENCY")]
    pub latency: Option<Latency>,

    /// Faults of one action, e.g. `CreateMigrateJob:drop_response_rate=0.1,latency=50ms`
    /// (repeatable; `VERSION/ACTION` names one API version)
    #[arg(long = "action-fault", value_name = "ACTION:KEY=VALUE,...", value_parser = parse_action_fault)]
    pub action_faults: Vec<(String, ActionFaults)>,
}

impl FaultArgs {
    /// Puts the flags given over `faults`.
    fn apply(&self, faults: &mut FaultConfig) {
        if let Some(seed) = self.fault_seed {
            faults.seed = Some(seed);
        }
        for (flag, target) in [
            (self.internal_error_rate, &mut faults.internal_error_rate),
            (self.throttle_rate, &mut faults.throttle_rate),
            (self.drop_connection_rate, &mut faults.drop_connection_rate),
            (self.drop_response_rate, &mut faults.drop_response_rate),
        ] {
            if let Some(rate) = flag {
                *target = rate;
            }
        }
        if let Some(latency) = self.latency {
            faults.latency = latency;
        }
        for (action, own) in &self.action_faults {
            let entry = faults.actions.entry(action.clone()).or_default();
            let ActionFaults {
                internal_error_rate,
                throttle_rate,
                drop_connection_rate,
                drop_response_rate,
                latency,
            } = own.clone();
            entry.internal_error_rate = internal_error_rate.or(entry.internal_error_rate);
            entry.throttle_rate = throttle_rate.or(entry.throttle_rate);
            entry.drop_connection_rate = drop_connection_rate.or(entry.drop_connection_rate);
            entry.drop_response_rate = drop_response_rate.or(entry.drop_response_rate);
            entry.latency = latency.or(entry.latency);
        }
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number; give a probability such as 0.1"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "`{text}` is not a probability; give a number from 0 to 1 (0.1 = 10 %)"
        ))
    }
}

fn parse_action_fault(text: &str) -> Result<(String, ActionFaults), String> {
    let (action, settings) = text.split_once(':').ok_or_else(|| {
        format!("`{text}` names no action; write ACTION:KEY=VALUE,… e.g. StartMigrateJob:internal_error_rate=0.5")
    })?;
    let action = action.trim();
    if action.is_empty() {
        return Err(format!("`{text}` has an empty action name"));
    }
    let mut own = ActionFaults::default();
    for setting in settings.split(',').filter(|s| !s.trim().is_empty()) {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("`{setting}` in `{text}` is not KEY=VALUE"))?;
        let value = value.trim();
        match key.trim() {
            "internal_error_rate" => own.internal_error_rate = Some(parse_rate(value)?),
            "throttle_rate" => own.throttle_rate = Some(parse_rate(value)?),
            "drop_connection_rate" => own.drop_connection_rate = Some(parse_rate(value)?),
            "drop_response_rate" => own.drop_response_rate = Some(parse_rate(value)?),
            "latency" => own.latency = Some(value.parse()?),
            other => {
                return Err(format!(
                    "unknown fault `{other}` in `{text}`; use internal_error_rate, throttle_rate, drop_connection_rate, drop_response_rate or latency"
                ));
            }
        }
    }
    if own == ActionFaults::default() {
        return Err(format!("`{text}` sets no fault for {action}"));
    }
    Ok((action.to_owned(), own))
}

fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|error| format!("invalid listen address `{text}`: {error}"))?
        .find(SocketAddr::is_ipv4)
        .or_else(|| {
            text.to_socket_addrs()
                .ok()
                .and_then(|mut addrs| addrs.next())
        })
        .ok_or_else(|| format!("`{text}` does not resolve to an address"))
}

/// Which default credentials a configuration uses (they are printed on start).
#[derive(Debug, Clone, Copy, Default)]
struct Defaults {
    tencent: bool,
    huawei: bool,
}

impl Args {
    /// Builds the emulator configuration: defaults, then the config file, then the flags.
    ///
    /// # Errors
    /// The config file cannot be read or parsed.
    pub fn to_config(&self) -> Result<EmulatorConfig, EmulatorError> {
        self.config_and_defaults().map(|(config, _)| config)
    }

    fn config_and_defaults(&self) -> Result<(EmulatorConfig, Defaults), EmulatorError> {
        let mut config = EmulatorConfig::default();
        if let Some(path) = &self.config {
            config.apply_file(ConfigFile::load(path)?);
        }
        config.listen = self.listen;
        config.allow_remote = self.allow_remote;
        let mut defaults = Defaults {
            tencent: true,
            huawei: true,
        };
        if !self.tencent_credentials.is_empty() {
            config
                .tencent_credentials
                .clone_from(&self.tencent_credentials);
            defaults.tencent = false;
        }
        if !self.huawei_credentials.is_empty() || !self.huawei_tokens.is_empty() {
            config
                .huawei_credentials
                .clone_from(&self.huawei_credentials);
            config.huawei_tokens.clone_from(&self.huawei_tokens);
            defaults.huawei = false;
        }
        if let Some(scale) = self.time_scale {
            config.time_scale = scale;
        }
        self.faults.apply(&mut config.faults);
        config.state_dir.clone_from(&self.state_dir);
        Ok((config, defaults))
    }
}

/// Prints the listening line (the first line on stdout, which scripts read the URL from)
/// and the default credentials in use. Write errors are ignored: a reader that closed
/// the pipe after the first line (`| head -n 1`) must not stop the emulator.
fn announce(url: &str, defaults: Defaults) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "migspec emulator listening on {url}");
    let _ = out.flush();
    let mut lines = vec![
        format!("  Tencent DTS: POST {url}/ (X-TC-Version 2018-03-30 or 2021-12-06)"),
        format!("  Huawei OMS:  {url}/v2/{{project_id}}/taskgroups"),
        format!(
            "  admin:       GET {url}/_emulator/health, GET {url}/_emulator/stats, GET|PUT {url}/_emulator/faults, POST {url}/_emulator/reset"
        ),
    ];
    if defaults.tencent {
        lines.push(format!("  default Tencent credential: SecretId={DEFAULT_TENCENT_SECRET_ID} SecretKey={DEFAULT_TENCENT_SECRET_KEY}"));
    }
    if defaults.huawei {
        lines.push(format!(
            "  default Huawei credential:  AK={DEFAULT_HUAWEI_AK} SK={DEFAULT_HUAWEI_SK} (any project id, e.g. {DEFAULT_HUAWEI_PROJECT_ID})"
        ));
        lines.push(format!(
            "  default Huawei token:       X-Auth-Token: {DEFAULT_HUAWEI_TOKEN}"
        ));
    }
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// Runs the emulator until SIGINT/SIGTERM.
///
/// Builds its own tokio runtime, prints `migspec emulator listening on http://…` as the
/// first line on stdout (then the default credentials, when they are in use), and
/// serves until a signal arrives; then it stops accepting connections and lets
/// in-flight requests finish.
///
/// # Errors
/// Invalid configuration, a listen address that cannot be bound or is not loopback
/// without `--allow-remote`, an unreadable config file or state directory.
pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (config, defaults) = args.config_and_defaults()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(EmulatorError::Runtime)?;
    runtime.block_on(async move {
        let running = crate::server::start(config).await?;
        announce(&running.url(), defaults);
        let signal = wait_for_signal().await;
        running.shutdown().await;
        signal.map_err(EmulatorError::Runtime)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn flags_build_the_configuration() {
        let command = Command::try_parse_from([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--tencent-credential",
            "AKIDa:keya",
            "--tencent-credential",
            "AKIDb:keyb",
            "--huawei-token",
            "tok",
            "--time-scale",
            "60",
        ])
        .expect("valid flags");
        let (config, defaults) = command.args.config_and_defaults().expect("config");
        assert_eq!(config.tencent_credentials.len(), 2);
        assert!(config.huawei_credentials.is_empty());
        assert_eq!(config.huawei_tokens, vec!["tok".to_owned()]);
        assert!((config.time_scale - 60.0).abs() < f64::EPSILON);
        assert!(!defaults.tencent && !defaults.huawei);
    }

    #[test]
    fn fault_flags_override_the_config_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("emulator.yaml");
        std::fs::write(
            &path,
            "faults:\n  internal_error_rate: 0.5\n  drop_response_rate: 0.2\n  actions:\n    StartMigrateJob: {throttle_rate: 0.3}\n",
        )
        .expect("write the config");
        let mut argv: Vec<std::ffi::OsString> = vec!["emulator".into(), "--config".into()];
        argv.push(path.into_os_string());
        argv.extend(
            [
                "--fault-seed",
                "9",
                "--internal-error-rate",
                "0.1",
                "--throttle-rate",
                "0.2",
                "--latency",
                "0ms..200ms",
                "--action-fault",
                "StartMigrateJob:drop_connection_rate=1,latency=exp:5ms",
            ]
            .map(std::ffi::OsString::from),
        );
        let command = Command::try_parse_from(argv).expect("valid flags");
        let faults = command.args.to_config().expect("config").faults;
        assert_eq!(faults.seed, Some(9));
        assert!((faults.internal_error_rate - 0.1).abs() < f64::EPSILON);
        assert!((faults.throttle_rate - 0.2).abs() < f64::EPSILON);
        assert!(
            (faults.drop_response_rate - 0.2).abs() < f64::EPSILON,
            "kept from the file"
        );
        assert_eq!(faults.latency.to_string(), "0s..200ms");
        let start = &faults.actions["StartMigrateJob"];
        assert_eq!(start.throttle_rate, Some(0.3), "kept from the file");
        assert_eq!(start.drop_connection_rate, Some(1.0));
        assert_eq!(
            start.latency.map(|l| l.to_string()).as_deref(),
            Some("exp:5ms")
        );
    }

    #[test]
    fn bad_fault_flags_say_what_to_write() {
        for (flags, expected) in [
            (vec!["--throttle-rate", "20"], "from 0 to 1"),
            (vec!["--latency", "soon"], "0ms..200ms"),
            (
                vec!["--action-fault", "StartMigrateJob"],
                "ACTION:KEY=VALUE",
            ),
            (
                vec!["--action-fault", "StartMigrateJob:speed=1"],
                "unknown fault `speed`",
            ),
        ] {
            let error = Command::try_parse_from(std::iter::once("emulator").chain(flags.clone()))
                .expect_err("invalid flag");
            assert!(error.to_string().contains(expected), "{flags:?}: {error}");
        }
    }

    #[test]
    fn no_credential_flags_means_defaults() {
        let command = Command::try_parse_from(["emulator"]).expect("valid");
        let (config, defaults) = command.args.config_and_defaults().expect("config");
        assert!(defaults.tencent && defaults.huawei);
        assert_eq!(
            config.tencent_credentials[0].secret_id,
            DEFAULT_TENCENT_SECRET_ID
        );
        assert_eq!(config.listen.port(), 0);
        assert!(Command::try_parse_from(["emulator", "--tencent-credential", "nocolon"]).is_err());
        let command =
            Command::try_parse_from(["emulator", "--listen", "localhost:0"]).expect("valid");
        assert!(command.args.listen.ip().is_loopback());
    }
}
