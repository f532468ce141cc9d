//! Command-line arguments (clap declarations only).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Turn version-controlled YAML migration specs into Tencent DTS and Huawei OMS migration jobs.
#[derive(Debug, Parser)]
#[command(name = "migspec", version, about, max_term_width = 100)]
pub(crate) struct Cli {
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
    /// Serve a local emulator of the Tencent DTS and Huawei OMS APIs
    Emulator(migspec_emulator::cli::Args),
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
}

/// Arguments of `migspec schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    /// Print only this kind's schema
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
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
