//! Command-line arguments (clap declarations only).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Turn version-controlled YAML migration specs into Tencent DTS and Huawei OMS migration jobs.
#[derive(Debug, Parser)]
#[command(name = "migspec", version = env!("MIGSPEC_VERSION_LINE"), about, max_term_width = 100)]
pub(crate) struct Cli {
    /// Log to stderr: `-v` retries, throttling and credential sources, `-vv` every API
    /// call, `-vvv` everything (`MIGSPEC_LOG` takes an env-filter directive instead)
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check spec files offline against the JSON Schemas and the API's cross-field rules
    Validate(ValidateArgs),
    /// Print the JSON Schema of every kind (the umbrella schema), or of one kind
    Schema(SchemaArgs),
    /// Show what apply would do: per address, the actions, their reasons and disruptions
    Plan(PlanArgs),
    /// Create, configure, check, start, resume, complete or delete jobs until they match the specs
    Apply(ApplyArgs),
    /// Render a saved plan file
    Show(ShowArgs),
    /// Show where every recorded job is (phase, progress), e.g. after `apply --wait none`
    Status(StatusArgs),
    /// Adopt an existing job or task group and print the spec that manages it
    Import(ImportArgs),
    /// Inspect or edit the recorded state
    #[command(subcommand)]
    State(StateCommand),
    /// Serve a local emulator of the Tencent DTS and Huawei OMS APIs
    Emulator(migspec_emulator::cli::Args),
    /// Plan safe deletes of every selected job (stop/pause first), confirm, and apply them
    Destroy(DestroyArgs),
    /// Print the version and the commit it was built from
    Version(VersionArgs),
    /// Print a shell completion script (e.g. `migspec completions bash > /etc/bash_completion.d/migspec`)
    Completions(CompletionsArgs),
    /// Write the man pages (`cargo xtask man` runs this)
    #[command(hide = true)]
    Man(ManArgs),
}

/// Arguments of `migspec destroy`.
#[derive(Debug, clap::Args)]
pub(crate) struct DestroyArgs {
    /// Spec files or directories (their addresses, and the recorded ones whose spec lived
    /// there), or one saved destroy plan (from `destroy --out`)
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    /// Only addresses matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) only: Vec<String>,
    /// Leave out addresses matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Only specs whose `metadata.labels` match: `key=value`, `key!=value` or `key`
    /// (repeatable; all must hold)
    #[arg(short = 'l', long = "selector", value_name = "LABEL")]
    pub(crate) labels: Vec<String>,
    /// Delete without asking for confirmation (CI)
    #[arg(long)]
    pub(crate) auto_approve: bool,
    /// Save the destroy plan instead of applying it; `migspec apply FILE` applies exactly it
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// API calls in flight at once (a job waiting for its check or migration holds none)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// Output format of the plan
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
}

/// Arguments of `migspec version`.
#[derive(Debug, clap::Args)]
pub(crate) struct VersionArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = DataFormat::Table)]
    pub(crate) format: DataFormat,
}

/// Arguments of `migspec completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// Arguments of `migspec man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// The directory to write `migspec.1` and one page per subcommand into
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

/// Output formats of commands that print data (`status`, `state list`, `version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DataFormat {
    /// Aligned columns with a header row, for people
    Table,
    /// One JSON document on stdout
    Json,
}

/// Where the state and settings are, and which cloud to talk to.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WorkspaceArgs {
    /// The state directory (state.json, its lock, the emulator's data)
    #[arg(long, default_value = ".migspec")]
    pub(crate) state_dir: PathBuf,
    /// Settings file (endpoints, rate limits, plugin pins); read when it exists
    #[arg(long, default_value = "migspec.yaml")]
    pub(crate) config: PathBuf,
    /// Run against an in-process emulator keeping its data under the state directory
    /// (no cloud account needed; unset secrets get placeholder values)
    #[arg(long)]
    pub(crate) emulator: bool,
    /// With --emulator: multiply every simulated phase by X (e.g. 20 to watch the progress;
    /// wins over `emulator.timeScale` in migspec.yaml)
    #[arg(long, value_name = "X", requires = "emulator", value_parser = parse_time_scale)]
    pub(crate) emulator_time_scale: Option<f64>,
    /// How long to wait for another run's state lock (`0s`: fail at once, naming the holder)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub(crate) lock_timeout: std::time::Duration,
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale > 0.0 => Ok(scale),
        _ => Err(format!(
            "`{text}` is not a positive number (1 is real emulator speed, 20 twenty times slower)"
        )),
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("`{text}`: {error} (e.g. `30s`, `5m`)"))
}

/// Which addresses to consider.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SelectionArgs {
    /// Only addresses matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) only: Vec<String>,
    /// Leave out addresses matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Only specs whose `metadata.labels` match: `key=value`, `key!=value` or `key`
    /// (repeatable; all must hold)
    #[arg(short = 'l', long = "selector", value_name = "LABEL")]
    pub(crate) labels: Vec<String>,
    /// Delete remote jobs whose spec left the given paths (otherwise they are forgotten;
    /// `lifecycle.deletionPolicy: orphan` always keeps them)
    #[arg(long)]
    pub(crate) prune: bool,
    /// Delete this address's remote job safely and create it again; also allows a planned
    /// re-create that overwrites target data (repeatable)
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) replace: Vec<String>,
    /// Converge to the specs, or destroy (set by `migspec destroy`, and by a saved plan)
    #[arg(skip)]
    pub(crate) mode: migspec_runner::plan::PlanMode,
}

/// Arguments of `migspec plan`.
#[derive(Debug, clap::Args)]
pub(crate) struct PlanArgs {
    /// Spec files or directories
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    /// Save the plan, for `migspec apply FILE` (it holds no secret)
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
}

/// Arguments of `migspec apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// Spec files or directories, or one saved plan file (from `plan --out`)
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    /// Apply without asking for confirmation (CI)
    #[arg(long)]
    pub(crate) auto_approve: bool,
    /// How far to follow each job before returning
    #[arg(long, value_enum, default_value_t = WaitArg::Completed)]
    pub(crate) wait: WaitArg,
    /// API calls in flight at once (a job waiting for its check or migration holds none) (a job waiting for its check or migration holds none)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// Output format of the plan shown before applying
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
}

/// Arguments of `migspec show`.
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The plan file
    pub(crate) plan: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
}

/// Arguments of `migspec status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    /// Only addresses matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) only: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DataFormat::Table)]
    pub(crate) format: DataFormat,
    /// The same as `--format json` (kept for scripts written before `--format`)
    #[arg(long, hide = true, conflicts_with = "format")]
    pub(crate) json: bool,
}

/// Arguments of `migspec import`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The kind to import as: a built-in kind (TencentDtsMigrateJob, TencentDtsMigrationJob,
    /// HuaweiOmsTaskGroup) or one a plugin pinned in migspec.yaml serves
    pub(crate) kind: String,
    /// The address to give it (metadata.name)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) name: Option<String>,
    /// The cloud's id (`dts-1kl0iy0v`, an OMS task group id)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) remote_id: Option<String>,
    /// Adopt every existing job or task group of KIND in --region (listed in batched, paged
    /// calls), writing one spec per object into the --out directory
    #[arg(long, requires_all = ["region", "out"])]
    pub(crate) all: bool,
    /// With --all: only objects carrying this tag, `key=value` (repeatable; all must hold)
    #[arg(long, value_name = "KEY=VALUE", requires = "all")]
    pub(crate) tag: Vec<String>,
    /// With --all: vouch that the values the specs' secret references will resolve to are
    /// the ones the objects use now, so they plan as unchanged rather than
    /// `(sensitive, unknown: will be sent)`; migspec detects their changes from the first
    /// time it sends them
    #[arg(long, requires = "all")]
    pub(crate) secrets_in_use: bool,
    /// The region it lives in (default: the provider's configured region)
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// Write the spec to this file instead of standard output (with --all: the directory
    /// the specs go into, one file per address; an existing file is never overwritten)
    #[arg(long, value_name = "FILE|DIR")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
}

/// `migspec state …`.
#[derive(Debug, Subcommand)]
pub(crate) enum StateCommand {
    /// List the recorded addresses
    List(StateArgs),
    /// Show what is recorded for one address
    Show(StateAddressArgs),
    /// Forget an address (the remote job is left alone)
    Rm(StateAddressArgs),
    /// Rename an address: move its record (remote id, fingerprints, attempts) to a new name
    Mv(StateMoveArgs),
    /// Set the resume/retry attempts spent on an address's failure back to 0
    ResetAttempts(StateAddressArgs),
    /// Clear the lock record left by a process that died (refused while it runs)
    Unlock(UnlockArgs),
    /// Move the whole state between the local directory and PostgreSQL, under both locks
    Migrate(StateMigrateArgs),
}

/// Arguments of `migspec state mv`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateMoveArgs {
    /// The recorded address
    pub(crate) from: String,
    /// Its new name (the spec's new metadata.name); must not be recorded
    pub(crate) to: String,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
}

/// Arguments of `migspec state list`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateArgs {
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = DataFormat::Table)]
    pub(crate) format: DataFormat,
}

/// Arguments of `migspec state show|rm`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateAddressArgs {
    /// The address
    pub(crate) address: String,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
}

/// Arguments of `migspec state unlock`.
#[derive(Debug, clap::Args)]
pub(crate) struct UnlockArgs {
    /// Required: clear the record of a holder that is gone (a live holder is refused)
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
}

/// Arguments of `migspec state migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateMigrateArgs {
    /// Where the state goes: `postgres` (from --state-dir to the database that
    /// MIGSPEC_STATE_URL or `state:` names) or `local` (from that database to --state-dir)
    #[arg(long, value_enum)]
    pub(crate) to: MigrateTarget,
    /// Replace a destination that already holds a state (it is refused otherwise)
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
}

/// The destination of `migspec state migrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MigrateTarget {
    /// The PostgreSQL database of MIGSPEC_STATE_URL or `state:` in migspec.yaml
    Postgres,
    /// The --state-dir directory (`.migspec/`)
    Local,
}

/// Output formats of plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// For people (colour on a terminal)
    Human,
    /// The versioned plan document (docs/plan-format.md)
    Json,
    /// A summary for a pull-request comment
    Markdown,
    /// GitHub Actions workflow annotations
    Github,
}

/// `--wait` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WaitArg {
    /// Return once each job accepted its next step
    None,
    /// Return once each check passed
    Checked,
    /// Return once each migration runs
    Running,
    /// Follow every planned action to its end
    Completed,
}

/// Arguments of `migspec validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Spec files or directories (every *.yaml and *.yml below them)
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
    /// Accept secrets written in clear text (never do this in a repository)
    #[arg(long)]
    pub(crate) allow_literal_secrets: bool,
    /// Settings file: its pinned plugins are loaded to validate their kinds
    #[arg(long, default_value = "migspec.yaml")]
    pub(crate) config: PathBuf,
}

/// Arguments of `migspec schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    /// Print only this kind's schema
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    /// Print the schema of the plan document (`plan --format json`, `plan --out`) instead
    #[arg(long, conflicts_with_all = ["kind", "status"])]
    pub(crate) plan: bool,
    /// Print the schema of `status --format json` instead
    #[arg(long, conflicts_with = "kind")]
    pub(crate) status: bool,
}

/// Output formats of `migspec validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Diagnostics with source snippets, for people
    Human,
    /// A versioned JSON document on stdout
    Json,
    /// GitHub Actions workflow annotations on stdout
    Github,
}

/// The kinds, as `--kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// Tencent DTS migration job, API 2018-03-30
    #[value(name = "TencentDtsMigrateJob")]
    TencentDtsMigrateJob,
    /// Tencent DTS migration job, API 2021-12-06
    #[value(name = "TencentDtsMigrationJob")]
    TencentDtsMigrationJob,
    /// Huawei OMS v2 migration task group
    #[value(name = "HuaweiOmsTaskGroup")]
    HuaweiOmsTaskGroup,
}

impl From<KindArg> for migspec_spec::Kind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::TencentDtsMigrateJob => Self::TencentDtsMigrateJob,
            KindArg::TencentDtsMigrationJob => Self::TencentDtsMigrationJob,
            KindArg::HuaweiOmsTaskGroup => Self::HuaweiOmsTaskGroup,
        }
    }
}
