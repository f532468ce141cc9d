//! `migspec schema`: print the JSON Schemas.

use migspec_schema::generate;

use super::ExitStatus;
use crate::args::SchemaArgs;
use crate::view;

pub(crate) fn run(args: &SchemaArgs) -> ExitStatus {
    let schema = match args.kind {
        Some(kind) => generate::kind_schema(kind.into()),
        None => generate::umbrella_schema(),
    };
    view::out(&serde_json::to_string_pretty(&schema).expect("a JSON value always serializes"));
    ExitStatus::Success
}
