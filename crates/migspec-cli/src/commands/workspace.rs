//! What every command that talks to a cloud shares: the settings file (`migspec.yaml`), the
//! providers (built-in and plugins), the state backend, secret resolution and, with
//! `--emulator`, the in-process emulator.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use migspec_emulator::{
    ConfigFile, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig, RunningEmulator,
};
use migspec_huawei_oms::{HuaweiConfig, HuaweiOmsProvider};
use migspec_provider::plugin::host::PluginProvider;
use migspec_provider::plugin::messages::{Configuration, WireValue};
use migspec_runner::providers::Providers;
use migspec_runner::state::{DEFAULT_SCHEMA, LocalState, PostgresState, StateBackend};
use migspec_schema::Validator;
use migspec_spec::model::SecretRef;
use migspec_spec::secret::{
    EnvPattern, EnvironmentSecrets, Secret, SecretError, SecretPolicy, SecretSource,
};
use migspec_tencent_dts::{Credentials, Endpoint, TencentConfig, TencentDtsProvider};

use super::ExitStatus;
use super::{Stopped, fail, runtime};
use crate::args::WorkspaceArgs;

/// `migspec.yaml`: settings that are not specs. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Settings {
    /// Tencent DTS settings.
    #[serde(default)]
    pub(crate) tencent: TencentSettings,
    /// Huawei OMS settings.
    #[serde(default)]
    pub(crate) huawei: HuaweiSettings,
    /// Provider plugins, each pinned by the SHA-256 of its library.
    #[serde(default)]
    pub(crate) plugins: Vec<PluginSetting>,
    /// What secret references may name.
    #[serde(default)]
    pub(crate) secrets: SecretSettings,
    /// How often in-flight jobs are polled (`3s` by default; one batched call per provider
    /// per interval, however many jobs move).
    pub(crate) poll_interval: Option<String>,
    /// Where the state lives (`.migspec/` when absent).
    #[serde(default)]
    pub(crate) state: StateSettings,
    /// The in-process emulator of `--emulator`.
    #[serde(default)]
    pub(crate) emulator: EmulatorSettings,
    /// The directory of the settings file (what relative paths in it are relative to).
    #[serde(skip)]
    base: Option<PathBuf>,
}

/// `emulator:` in `migspec.yaml`: how the in-process emulator of `--emulator` behaves.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct EmulatorSettings {
    /// Multiplies every simulated phase (`20` makes the quickstart's progress watchable;
    /// `--emulator-time-scale` wins).
    time_scale: Option<f64>,
    /// An emulator configuration file (phase durations, fault injection; the format of
    /// `migspec emulator --config`), relative to `migspec.yaml`.
    config: Option<PathBuf>,
}

/// `state:` in `migspec.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StateSettings {
    /// `local` (the default: `--state-dir`) or `postgres`.
    #[serde(default)]
    backend: StateBackendKind,
    /// The database URL (`postgres` only): a plain string, or `{fromEnv: VAR}` (it holds a
    /// password, so keep it out of the file).
    url: Option<UrlSetting>,
    /// The schema the tables live in (`migspec` by default).
    schema: Option<String>,
}

/// `state.backend`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StateBackendKind {
    /// `.migspec/state.json`.
    #[default]
    Local,
    /// A PostgreSQL database.
    Postgres,
}

/// `state.url`: a string, or the environment variable that holds it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UrlSetting {
    Plain(String),
    Env {
        #[serde(rename = "fromEnv")]
        from_env: String,
    },
}

/// The environment variable that selects the PostgreSQL state (wins over `migspec.yaml`).
pub(crate) const STATE_URL_ENV: &str = "MIGSPEC_STATE_URL";

/// `tencent:` in `migspec.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TencentSettings {
    /// `https://…` (or `http://` on loopback), `regional`, `international`.
    endpoint: Option<String>,
    /// The default region.
    region: Option<String>,
    /// Client-side requests per second per action (documented limit: 20).
    rate_limit_per_second: Option<u32>,
}

/// `huawei:` in `migspec.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HuaweiSettings {
    /// `https://…` for every region.
    endpoint: Option<String>,
    /// The default project id.
    project_id: Option<String>,
    /// Client-side requests per second per operation.
    rate_limit_per_second: Option<u32>,
}

/// `secrets:` in `migspec.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SecretSettings {
    /// Directories besides the spec set's root (the directory of `migspec.yaml`) that
    /// `fromFile` may read, relative to `migspec.yaml`.
    #[serde(default)]
    file_dirs: Vec<PathBuf>,
    /// Patterns (`*`, `?`) of the variables `fromEnv` may name; when set, only these. A
    /// credential variable of migspec's own is allowed only by its exact name.
    #[serde(default)]
    allow_env: Vec<String>,
    /// Patterns of the variables `fromEnv` may not name (wins over `allowEnv`).
    #[serde(default)]
    deny_env: Vec<String>,
}

/// One plugin in `migspec.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PluginSetting {
    /// The library, relative to `migspec.yaml`.
    path: PathBuf,
    /// Its SHA-256 (hex), checked before it is loaded.
    sha256: String,
    /// Plain settings sent to the plugin in `configure` (endpoints, directories…).
    #[serde(default)]
    settings: std::collections::BTreeMap<String, serde_json::Value>,
    /// Credentials sent to the plugin in `configure`, each `{fromEnv: VAR}` or
    /// `{fromFile: path}` (relative to migspec.yaml), resolved here: the plugin never reads
    /// the environment for them.
    #[serde(default)]
    credentials: std::collections::BTreeMap<String, SecretRef>,
}

impl PluginSetting {
    /// The `configure` message for this plugin: settings as plain values, credentials
    /// resolved and marked sensitive, an unset variable or missing file as absent (the
    /// plugin says which credential it needs).
    fn configuration(
        &self,
        base: &Path,
        emulator: Option<&RunningEmulator>,
    ) -> Result<Configuration, String> {
        let settings = self
            .settings
            .iter()
            .map(|(key, value)| (key.clone(), WireValue::Value(value.clone())))
            .collect();
        let mut credentials = std::collections::BTreeMap::new();
        for (key, reference) in &self.credentials {
            let value = {
                let value = match reference {
                    SecretRef::Env(env) => std::env::var(&env.from_env).ok(),
                    SecretRef::File(file) => std::fs::read_to_string(base.join(&file.from_file))
                        .ok()
                        .map(|text| text.strip_suffix('\n').unwrap_or(&text).to_owned()),
                    SecretRef::Literal(_) => {
                        return Err(format!(
                            "plugin {}: credentials.{key} is written in clear text; write `{{fromEnv: VAR}}` or `{{fromFile: path}}`",
                            self.path.display()
                        ));
                    }
                };
                value
                    .filter(|text| !text.is_empty())
                    .map_or_else(WireValue::absent, WireValue::Sensitive)
            };
            credentials.insert(key.clone(), value);
        }
        let emulator = emulator.map(|running| {
            let sensitive = |text: &str| WireValue::Sensitive(text.to_owned());
            std::collections::BTreeMap::from([
                (
                    "endpoint".to_owned(),
                    WireValue::Value(running.url().into()),
                ),
                ("huawei_ak".to_owned(), sensitive(DEFAULT_HUAWEI_AK)),
                ("huawei_sk".to_owned(), sensitive(DEFAULT_HUAWEI_SK)),
                (
                    "huawei_project_id".to_owned(),
                    WireValue::Value(DEFAULT_HUAWEI_PROJECT_ID.into()),
                ),
                (
                    "tencent_secret_id".to_owned(),
                    sensitive(DEFAULT_TENCENT_SECRET_ID),
                ),
                (
                    "tencent_secret_key".to_owned(),
                    sensitive(DEFAULT_TENCENT_SECRET_KEY),
                ),
            ])
        });
        Ok(Configuration {
            settings,
            credentials,
            emulator,
        })
    }
}

impl Settings {
    /// The secret policy: files under the directory of `path` (the spec set's root) and
    /// `secrets.fileDirs`; environment variables per `secrets.allowEnv`/`denyEnv`, never
    /// the built-in providers' credential variables unless allowed by exact name.
    pub(crate) fn secret_policy(&self, path: &Path) -> Result<SecretPolicy, String> {
        let base = path.parent().unwrap_or_else(|| Path::new(""));
        let root = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        let mut policy = SecretPolicy::new(root).map_err(|error| {
            format!(
                "{}: cannot use the spec set's root {}: {error}",
                path.display(),
                root.display()
            )
        })?;
        for dir in &self.secrets.file_dirs {
            policy = policy.with_file_dir(&root.join(dir)).map_err(|error| {
                format!(
                    "{}: secrets.fileDirs: cannot use directory `{}`: {error}; list existing directories (relative to {})",
                    path.display(),
                    dir.display(),
                    path.display()
                )
            })?;
        }
        let patterns = |key: &str, list: &[String]| -> Result<Vec<EnvPattern>, String> {
            list.iter()
                .map(|pattern| {
                    EnvPattern::new(pattern)
                        .map_err(|error| format!("{}: secrets.{key}: {error}", path.display()))
                })
                .collect()
        };
        Ok(policy
            .with_allowed_env(patterns("allowEnv", &self.secrets.allow_env)?)
            .with_denied_env(patterns("denyEnv", &self.secrets.deny_env)?)
            .with_credential_variables(
                migspec_tencent_dts::credentials::CREDENTIAL_ENV
                    .iter()
                    .chain(migspec_huawei_oms::config::CREDENTIAL_ENV),
            ))
    }

    /// Reads the settings file when it exists.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let mut settings: Self = serde_saphyr::from_str(&text).map_err(|error| {
            format!(
                "{}: {error}\n  help: keys are `tencent`, `huawei`, `plugins`, `secrets`, `pollInterval`, `state` and `emulator` (see README, \"Settings\")",
                path.display()
            )
        })?;
        if let Some(text) = &settings.poll_interval {
            humantime::parse_duration(text).map_err(|error| {
                format!(
                    "{}: pollInterval `{text}`: {error}; write a duration such as `500ms` or `3s`",
                    path.display()
                )
            })?;
        }
        if let Some(scale) = settings.emulator.time_scale
            && !(scale.is_finite() && scale > 0.0)
        {
            return Err(format!(
                "{}: emulator.timeScale {scale}: write a positive number (1 is real emulator speed, 20 twenty times slower)",
                path.display()
            ));
        }
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        if let Some(config) = &mut settings.emulator.config
            && config.is_relative()
        {
            *config = base.join(&*config);
        }
        settings.base = Some(base.to_path_buf());
        for plugin in &mut settings.plugins {
            if plugin.path.is_relative() {
                plugin.path = base.join(&plugin.path);
            }
        }
        Ok(settings)
    }
}

/// Everything a cloud-facing command needs.
pub(crate) struct Workspace {
    /// The providers.
    pub(crate) providers: Providers,
    /// The validator of every kind the providers serve (built-in and plugins).
    pub(crate) validator: Validator,
    /// The state backend.
    pub(crate) backend: Box<dyn StateBackend>,
    /// Whether this runs against the emulator.
    pub(crate) emulated: bool,
    /// The shared pollers' interval.
    pub(crate) poll_interval: Duration,
    /// What secret references may name.
    secret_policy: SecretPolicy,
    /// The emulator, while it runs.
    emulator: Option<RunningEmulator>,
}

impl Workspace {
    /// Sets up providers and state; with `--emulator`, starts the emulator first.
    pub(crate) async fn open(args: &WorkspaceArgs) -> Result<Self, String> {
        let settings = Settings::load(&args.config)?;
        let secret_policy = settings.secret_policy(&args.config)?;
        let backend = open_backend(args, &settings)?;
        let mut emulator = None;
        let mut tencent = TencentConfig::from_env().map_err(|error| error.to_string())?;
        let mut huawei = HuaweiConfig::from_env().map_err(|error| error.to_string())?;
        if let Some(endpoint) = &settings.tencent.endpoint {
            tencent = tencent.with_endpoint(match endpoint.as_str() {
                "regional" => Endpoint::Regional,
                "international" => Endpoint::International,
                url => Endpoint::Custom(url.to_owned()),
            });
        }
        if let Some(region) = &settings.tencent.region {
            tencent = tencent.with_default_region(region);
        }
        if let Some(limit) = settings.tencent.rate_limit_per_second {
            tencent = tencent.with_rate_limit_per_second(limit);
        }
        if let Some(endpoint) = &settings.huawei.endpoint {
            huawei = huawei.with_endpoint(endpoint);
        }
        if let Some(project) = &settings.huawei.project_id {
            huawei = huawei.with_project_id(project);
        }
        if let Some(limit) = settings.huawei.rate_limit_per_second {
            huawei = huawei.with_rate_limit_per_second(limit);
        }
        let mut poll_interval = settings
            .poll_interval
            .as_deref()
            .and_then(|text| humantime::parse_duration(text).ok())
            .unwrap_or(Duration::from_secs(3));
        if args.emulator && settings.poll_interval.is_none() {
            poll_interval = Duration::from_millis(200);
        }
        // `pollInterval` is the longest interval between polls; the first poll of a wait is
        // the provider's expected duration of the phase, and polls back off up to this.
        if args.emulator {
            let mut config = EmulatorConfig::default();
            if let Some(path) = &settings.emulator.config {
                config.apply_file(ConfigFile::load(path).map_err(|error| {
                    format!("{}: emulator.config: {error}", args.config.display())
                })?);
            }
            if let Some(scale) = args.emulator_time_scale.or(settings.emulator.time_scale) {
                config.time_scale = scale;
            }
            let running = start_emulator(config, &args.state_dir.join("emulator")).await?;
            let url = running.url();
            tencent = tencent
                .with_endpoint(Endpoint::Custom(url.clone()))
                .with_credentials(Credentials::new(
                    DEFAULT_TENCENT_SECRET_ID,
                    DEFAULT_TENCENT_SECRET_KEY,
                ));
            huawei = huawei
                .with_endpoint(url)
                .with_credentials(migspec_huawei_oms::config::Credentials::access_key(
                    DEFAULT_HUAWEI_AK,
                    DEFAULT_HUAWEI_SK,
                ))
                .with_project_id(DEFAULT_HUAWEI_PROJECT_ID);
            emulator = Some(running);
        }
        // Which credentials a run uses, never what they are.
        tracing::info!(
            provider = "tencent-dts",
            source = %tencent
                .credentials
                .as_ref()
                .map_or_else(|| "none found".to_owned(), |c| c.source().to_string()),
            "credentials"
        );
        tracing::info!(
            provider = "huawei-oms",
            source = %huawei.credential_source,
            "credentials"
        );
        let providers = build_providers(&settings, tencent, huawei, emulator.as_ref())?;
        let validator = validator(&providers)?;
        Ok(Self {
            providers,
            validator,
            backend,
            emulated: args.emulator,
            poll_interval,
            secret_policy,
            emulator,
        })
    }

    /// The secret source: the environment and files, plus the emulator's project id.
    pub(crate) fn secrets(&self) -> Box<dyn SecretSource> {
        let secrets = EnvironmentSecrets::new(self.secret_policy.clone());
        if self.emulated {
            Box::new(EmulatorSecrets(secrets))
        } else {
            Box::new(secrets)
        }
    }

    /// Stops the emulator (it persists its data under the state directory).
    pub(crate) async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// The built-in providers and the plugins `migspec.yaml` pins, in that order. A plugin that
/// serves a built-in kind replaces the built-in provider of that kind (so the OMS plugin
/// library can stand in for the linked OMS provider); two plugins serving one kind clash.
fn build_providers(
    settings: &Settings,
    tencent: TencentConfig,
    huawei: HuaweiConfig,
    emulator: Option<&RunningEmulator>,
) -> Result<Providers, String> {
    let mut plugins = Vec::new();
    for plugin in &settings.plugins {
        let base = plugin.path.parent().unwrap_or_else(|| Path::new("."));
        let base = settings.base.as_deref().unwrap_or(base);
        let configuration = plugin.configuration(base, emulator)?;
        let loaded = PluginProvider::load_configured(&plugin.path, &plugin.sha256, &configuration)
            .map_err(|e| e.to_string())?;
        plugins.push(Arc::new(loaded) as Arc<dyn migspec_provider::Provider>);
    }
    let served = |kinds: &[&str]| {
        plugins.iter().any(|plugin| {
            plugin
                .describe()
                .kinds
                .iter()
                .any(|kind| kinds.contains(&kind.kind.as_str()))
        })
    };
    let mut providers = Providers::new();
    let add = |providers: &mut Providers, provider: Arc<dyn migspec_provider::Provider>| {
        providers
            .register(provider)
            .map_err(|error| error.to_string())
    };
    let tencent_kinds = [
        migspec_spec::Kind::TencentDtsMigrateJob.as_str(),
        migspec_spec::Kind::TencentDtsMigrationJob.as_str(),
    ];
    if !served(&tencent_kinds) {
        add(
            &mut providers,
            Arc::new(TencentDtsProvider::new(tencent).map_err(|error| error.to_string())?),
        )?;
    }
    if !served(&[migspec_spec::Kind::HuaweiOmsTaskGroup.as_str()]) {
        add(
            &mut providers,
            Arc::new(HuaweiOmsProvider::new(huawei).map_err(|error| error.to_string())?),
        )?;
    }
    for plugin in plugins {
        add(&mut providers, plugin)?;
    }
    Ok(providers)
}

/// The validator of every kind `providers` serve.
fn validator(providers: &Providers) -> Result<Validator, String> {
    Validator::for_providers((0..providers.len()).map(|index| Arc::clone(providers.get(index))))
        .map_err(|error| error.to_string())
}

/// The validator `migspec validate` uses, offline: the built-in providers with no
/// credentials or endpoints (validation makes no call) and the plugins `config` pins.
pub(crate) fn offline_validator(config: &Path) -> Result<Validator, String> {
    let settings = Settings::load(config)?;
    let tencent = TencentConfig::from_environment(&|_| None, None).map_err(|e| e.to_string())?;
    let providers = build_providers(&settings, tencent, HuaweiConfig::default(), None)?;
    validator(&providers)
}

/// The state backend the settings and arguments name: PostgreSQL when
/// `MIGSPEC_STATE_URL` is set or `state.backend` is `postgres`, else `--state-dir`.
pub(crate) fn open_backend(
    args: &WorkspaceArgs,
    settings: &Settings,
) -> Result<Box<dyn StateBackend>, String> {
    match postgres_backend(args, settings)? {
        Some(backend) => Ok(Box::new(backend)),
        None => Ok(Box::new(LocalState::new(&args.state_dir))),
    }
}

/// The PostgreSQL state the environment or the settings name, if any.
pub(crate) fn postgres_backend(
    args: &WorkspaceArgs,
    settings: &Settings,
) -> Result<Option<PostgresState>, String> {
    let state = &settings.state;
    let schema = state.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
    let url = match std::env::var(STATE_URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            if state.backend != StateBackendKind::Postgres {
                if state.url.is_some() {
                    return Err(format!(
                        "{}: state.url is set but state.backend is not `postgres`; add `backend: postgres` (or remove the url)",
                        args.config.display()
                    ));
                }
                return Ok(None);
            }
            match &state.url {
                Some(UrlSetting::Plain(url)) => url.clone(),
                Some(UrlSetting::Env { from_env }) => match std::env::var(from_env) {
                    Ok(url) if !url.is_empty() => url,
                    _ => {
                        return Err(format!(
                            "{}: state.url reads the environment variable {from_env}, which is not set; export it (the database URL), or set {STATE_URL_ENV}",
                            args.config.display()
                        ));
                    }
                },
                None => {
                    return Err(format!(
                        "{}: state.backend is `postgres` but there is no state.url; add `url: {{fromEnv: MIGSPEC_PG_URL}}`, or set {STATE_URL_ENV}",
                        args.config.display()
                    ));
                }
            }
        }
    };
    PostgresState::new(&url, schema)
        .map(Some)
        .map_err(|error| error.to_string())
}

/// Runs a command's work with a workspace open (and the emulator stopped afterwards): the
/// work returns its exit status, or [`Stopped`] once it printed why it stopped.
pub(crate) fn in_workspace(
    args: &WorkspaceArgs,
    work: impl AsyncFnOnce(&Workspace) -> Result<ExitStatus, Stopped>,
) -> ExitStatus {
    runtime().block_on(async {
        let workspace = match Workspace::open(args).await {
            Ok(workspace) => workspace,
            Err(message) => {
                fail(&message);
                return ExitStatus::Failure;
            }
        };
        let status = work(&workspace).await.unwrap_or(ExitStatus::Failure);
        workspace.close().await;
        status
    })
}

async fn start_emulator(config: EmulatorConfig, dir: &Path) -> Result<RunningEmulator, String> {
    std::fs::create_dir_all(dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    config
        .with_state_dir(dir)
        .start()
        .await
        .map_err(|error| format!("cannot start the emulator: {error}"))
}

/// Secrets for `--emulator`: the environment first; the project id the emulator serves for
/// `HUAWEICLOUD_SDK_PROJECT_ID`; anything else unset gets a placeholder (said once).
struct EmulatorSecrets(EnvironmentSecrets);

impl SecretSource for EmulatorSecrets {
    fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError> {
        match self.0.value(reference, spec_dir) {
            Err(SecretError::MissingVariable { variable })
                if variable == migspec_huawei_oms::config::PROJECT_ID_ENV =>
            {
                Ok(Secret::new(DEFAULT_HUAWEI_PROJECT_ID))
            }
            other => other,
        }
    }
}
