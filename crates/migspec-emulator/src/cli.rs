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
            "  admin:       GET {url}/_emulator/health, GET {url}/_emulator/stats, POST {url}/_emulator/reset"
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
