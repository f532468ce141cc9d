//! `migspec schema`: print the JSON Schemas (specs; with `--plan`/`--status`, the documents
//! migspec prints for programs).

use migspec_schema::generate;

use super::ExitStatus;
use crate::args::SchemaArgs;
use crate::view;

pub(crate) fn run(args: &SchemaArgs) -> ExitStatus {
    let schema = match args.kind {
        _ if args.plan => migspec_runner::documents::plan_schema(),
        _ if args.status => migspec_runner::documents::status_schema(),
        Some(kind) => generate::kind_schema(kind.into()),
        None => generate::umbrella_schema(),
    };
    view::out(&serde_json::to_string_pretty(&schema).expect("a JSON value always serializes"));
    ExitStatus::Success
}
