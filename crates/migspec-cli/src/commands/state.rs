//! `migspec status`, `migspec state list|show|rm|mv|reset-attempts|unlock` and `migspec
//! import`. Every command that changes the state holds the state lock while it does.

use migspec_provider::{Address, ImportRequest, ObserveRequest, ObserveTarget, RemoteId};
use migspec_runner::planner::{self, Selection};
use migspec_runner::state::{HeldState, LocalState, LockInfo, Resource, State, StateBackend};

use super::ExitStatus;
use super::plan::{Stopped, fail, runner_message, runtime};
use super::workspace::{Settings, Workspace, in_workspace, open_backend, postgres_backend};
use crate::args::{
    DataFormat, ImportArgs, MigrateTarget, StateCommand, StateMigrateArgs, StateMoveArgs,
    StatusArgs, WorkspaceArgs,
};
use crate::view::{self, progress, table};

pub(crate) fn status(args: &StatusArgs) -> ExitStatus {
    in_workspace(&args.workspace, async |workspace| {
        status_of(args, workspace)
            .await
            .map(|()| ExitStatus::Success)
    })
}

async fn status_of(args: &StatusArgs, workspace: &Workspace) -> Result<(), Stopped> {
    let state = read(workspace.backend.as_ref()).await?;
    let selection =
        Selection::new(&args.only, &[], false).map_err(|error| fail(&error.to_string()))?;
    let observed = planner::observe_state(&workspace.providers, &state, &selection)
        .await
        .map_err(|error| fail(&runner_message(&error)))?;
    if args.json || args.format == DataFormat::Json {
        let rows: Vec<serde_json::Value> = observed
            .iter()
            .map(|(address, observation)| {
                serde_json::json!({
                    "address": address,
                    "kind": state.resources.get(address).map(|r| r.kind.clone()),
                    "observed": observation,
                })
            })
            .collect();
        view::out(
            &serde_json::to_string_pretty(&serde_json::json!({
                "format_version": "1",
                "addresses": rows,
            }))
            .expect("status serializes"),
        );
        return Ok(());
    }
    if observed.is_empty() {
        view::out("No recorded jobs (apply some specs first).");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = observed
        .iter()
        .map(|(address, observation)| {
            vec![
                address.to_string(),
                state
                    .resources
                    .get(address)
                    .map_or_else(|| "?".to_owned(), |resource| resource.kind.clone()),
                observation
                    .object()
                    .map_or_else(|| "-".to_owned(), |object| object.id.to_string()),
                progress::where_is(observation),
            ]
        })
        .collect();
    view::out(table::render(&["ADDRESS", "KIND", "REMOTE ID", "STATUS"], &rows).trim_end());
    // Failures after the table, each under its address: a message is too long for a column.
    for (address, observation) in &observed {
        if let Some(failure) = observation.object().and_then(|o| o.failure.as_ref()) {
            view::out(&format!("\n{address} failed: {}", failure.message));
            for detail in &failure.details {
                view::out(&format!("  {detail}"));
            }
        }
    }
    Ok(())
}

pub(crate) fn state(command: &StateCommand) -> ExitStatus {
    let result = runtime().block_on(async {
        match command {
            StateCommand::List(args) => list(&args.workspace, args.format).await,
            StateCommand::Show(args) => show(&args.workspace, &args.address).await,
            StateCommand::Rm(args) => remove(&args.workspace, &args.address).await,
            StateCommand::Mv(args) => rename(args).await,
            StateCommand::ResetAttempts(args) => {
                reset_attempts(&args.workspace, &args.address).await
            }
            StateCommand::Unlock(args) => unlock(&args.workspace, args.force).await,
            StateCommand::Migrate(args) => migrate(args).await,
        }
    });
    match result {
        Ok(()) => ExitStatus::Success,
        Err(Stopped) => ExitStatus::Failure,
    }
}

/// The state backend of `migspec.yaml` (or `.migspec/`), for the state commands.
fn backend(args: &WorkspaceArgs) -> Result<Box<dyn StateBackend>, Stopped> {
    let settings = Settings::load(&args.config).map_err(|message| fail(&message))?;
    open_backend(args, &settings).map_err(|message| fail(&message))
}

/// Takes the state lock for a command, waiting up to `--lock-timeout`.
pub(crate) async fn lock(
    backend: &dyn StateBackend,
    args: &WorkspaceArgs,
    command: String,
) -> Result<Box<dyn HeldState>, Stopped> {
    backend
        .lock(LockInfo::current(command), args.lock_timeout)
        .await
        .map_err(|error| fail(&error.to_string()))
}

pub(crate) async fn read(backend: &dyn StateBackend) -> Result<State, Stopped> {
    backend
        .read()
        .await
        .map_err(|error| fail(&error.to_string()))
}

async fn list(args: &WorkspaceArgs, format: DataFormat) -> Result<(), Stopped> {
    let state = read(backend(args)?.as_ref()).await?;
    if format == DataFormat::Json {
        let rows: Vec<serde_json::Value> = state
            .resources
            .iter()
            .map(|(address, resource)| {
                serde_json::json!({
                    "address": address,
                    "kind": resource.kind,
                    "remote_id": resource.remote_id,
                    "location": resource.location,
                    "file": resource.file,
                })
            })
            .collect();
        view::out(
            &serde_json::to_string_pretty(&serde_json::json!({
                "format_version": "1",
                "resources": rows,
            }))
            .expect("the state list serializes"),
        );
        return Ok(());
    }
    if state.resources.is_empty() {
        view::out("No recorded addresses (apply or import some specs first).");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = state
        .resources
        .iter()
        .map(|(address, resource)| {
            vec![
                address.to_string(),
                resource.kind.clone(),
                resource
                    .remote_id
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), ToString::to_string),
                resource.file.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    view::out(table::render(&["ADDRESS", "KIND", "REMOTE ID", "SPEC FILE"], &rows).trim_end());
    Ok(())
}

fn recorded<'a>(
    state: &'a migspec_runner::state::State,
    address: &str,
) -> Result<&'a Resource, Stopped> {
    state
        .resources
        .get(&Address(address.to_owned()))
        .ok_or_else(|| {
            fail(&format!(
                "`{address}` is not in the state (recorded: {}); `migspec state list` shows them",
                state
                    .resources
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

async fn show(args: &WorkspaceArgs, address: &str) -> Result<(), Stopped> {
    let state = read(backend(args)?.as_ref()).await?;
    let resource = recorded(&state, address)?;
    let journal: Vec<_> = state
        .journal
        .iter()
        .filter(|entry| entry.address.0 == address)
        .collect();
    view::out(
        &serde_json::to_string_pretty(&serde_json::json!({
            "address": address,
            "resource": resource,
            "journal": journal,
        }))
        .expect("state serializes"),
    );
    Ok(())
}

async fn remove(args: &WorkspaceArgs, address: &str) -> Result<(), Stopped> {
    let backend = backend(args)?;
    let held = lock(
        backend.as_ref(),
        args,
        format!("migspec state rm {address}"),
    )
    .await?;
    let mut state = read(backend.as_ref()).await?;
    let resource = recorded(&state, address)?.clone();
    state.resources.remove(&Address(address.to_owned()));
    held.write(&mut state)
        .await
        .map_err(|error| fail(&error.to_string()))?;
    view::err(&format!(
        "Forgot {address} ({}{}); the remote job is untouched. `migspec import` adopts it again.",
        resource.kind,
        resource
            .remote_id
            .map_or_else(String::new, |id| format!(" {id}"))
    ));
    Ok(())
}

/// Whether `name` can be an address (`metadata.name`: lower-case letters, digits and `-`,
/// at most 63 characters, starting and ending with a letter or digit).
pub(crate) fn is_address(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

async fn rename(args: &StateMoveArgs) -> Result<(), Stopped> {
    let (from, to) = (&args.from, &args.to);
    if !is_address(to) {
        return Err(fail(&format!(
            "`{to}` cannot be an address: a metadata.name is lower-case letters, digits and `-`, at most 63 characters, starting and ending with a letter or digit"
        )));
    }
    let backend = backend(&args.workspace)?;
    let held = lock(
        backend.as_ref(),
        &args.workspace,
        format!("migspec state mv {from} {to}"),
    )
    .await?;
    let mut state = read(backend.as_ref()).await?;
    recorded(&state, from)?;
    if let Some(existing) = state.resources.get(&Address(to.clone())) {
        return Err(fail(&format!(
            "`{to}` is already recorded ({} {}): pick another name, or `migspec state rm {to}` first if that record is wrong",
            existing.kind,
            existing
                .remote_id
                .as_ref()
                .map_or_else(|| "(no remote id)".to_owned(), ToString::to_string)
        )));
    }
    let moved = state
        .rename(&Address(from.clone()), &Address(to.clone()))
        .expect("checked above: `from` is recorded and `to` is not")
        .clone();
    held.write(&mut state)
        .await
        .map_err(|error| fail(&error.to_string()))?;
    view::err(&format!(
        "Moved {from} to {to} ({}{}); the remote job is untouched.\n\nNext: set `metadata.name: {to}` in the spec that said `{from}` (keep it in the same paths); the next `migspec plan` then shows no create for {to}.",
        moved.kind,
        moved
            .remote_id
            .map_or_else(String::new, |id| format!(" {id}"))
    ));
    Ok(())
}

async fn reset_attempts(args: &WorkspaceArgs, address: &str) -> Result<(), Stopped> {
    let backend = backend(args)?;
    let held = lock(
        backend.as_ref(),
        args,
        format!("migspec state reset-attempts {address}"),
    )
    .await?;
    let mut state = read(backend.as_ref()).await?;
    let before = recorded(&state, address)?.attempts;
    if before == 0 {
        view::err(&format!(
            "{address}: attempts already 0; nothing was written."
        ));
        return Ok(());
    }
    if let Some(resource) = state.resources.get_mut(&Address(address.to_owned())) {
        resource.attempts = 0;
    }
    held.write(&mut state)
        .await
        .map_err(|error| fail(&error.to_string()))?;
    view::err(&format!(
        "{address}: attempts {before} → 0; the next `migspec apply` may resume or retry it again, up to onFailure.maxAttempts."
    ));
    Ok(())
}

async fn unlock(args: &WorkspaceArgs, force: bool) -> Result<(), Stopped> {
    if !force {
        return Err(fail(
            "`state unlock` needs --force: it clears the lock record of a process that is gone (a lock held by a running process is refused either way)",
        ));
    }
    // Refused with the holder while the OS lock is held: that process is alive.
    match backend(args)?.force_unlock().await {
        Ok(Some(holder)) => {
            view::err(&format!(
                "Cleared the lock record of pid {} on {} since {} (`{}`), which is no longer running (the OS had released its lock).",
                holder.pid, holder.host, holder.since, holder.command
            ));
            Ok(())
        }
        Ok(None) => {
            view::err("The state was not locked.");
            Ok(())
        }
        Err(error) => Err(fail(&error.to_string())),
    }
}

/// `migspec state migrate --to postgres|local`: copies everything (records with their
/// fingerprints, journal, applied plans, lineage, serial, fields a newer migspec wrote) from
/// one backend to the other, holding both locks. The source is left as it was (a copy that
/// fails halfway loses nothing); a destination that holds a state is refused unless
/// `--force`.
async fn migrate(args: &StateMigrateArgs) -> Result<(), Stopped> {
    let workspace = &args.workspace;
    let settings = Settings::load(&workspace.config).map_err(|message| fail(&message))?;
    let postgres: Box<dyn StateBackend> = match postgres_backend(workspace, &settings)
        .map_err(|message| fail(&message))?
    {
        Some(backend) => Box::new(backend),
        None => {
            return Err(fail(
                "`state migrate` needs a PostgreSQL state: set MIGSPEC_STATE_URL, or `state: {backend: postgres, url: {fromEnv: VAR}}` in migspec.yaml",
            ));
        }
    };
    let local: Box<dyn StateBackend> = Box::new(LocalState::new(&workspace.state_dir));
    let (source, destination) = match args.to {
        MigrateTarget::Postgres => (local, postgres),
        MigrateTarget::Local => (postgres, local),
    };
    let command = format!(
        "migspec state migrate --to {}",
        match args.to {
            MigrateTarget::Postgres => "postgres",
            MigrateTarget::Local => "local",
        }
    );
    let _source_lock = lock(source.as_ref(), workspace, command.clone()).await?;
    let destination_lock = lock(destination.as_ref(), workspace, command).await?;
    let state = read(source.as_ref()).await?;
    let existing = read(destination.as_ref()).await?;
    let holds_a_state = !existing.resources.is_empty()
        || !existing.journal.is_empty()
        || !existing.applied_plans.is_empty();
    if holds_a_state && !args.force {
        return Err(fail(&format!(
            "{} already holds a state ({} records, {} journal entries, serial {}); nothing was copied. Migrate into an empty one, or pass --force to replace it",
            destination.describe(),
            existing.resources.len(),
            existing.journal.len(),
            existing.serial
        )));
    }
    if state.resources.is_empty() && state.journal.is_empty() && state.serial == 0 {
        return Err(fail(&format!(
            "{} holds no state; nothing to migrate",
            source.describe()
        )));
    }
    let mut copy = state.clone();
    // A destination of the same lineage (an earlier copy, `--force`) is replaced, not a
    // conflict: the write continues from its serial. A saved plan stays bound to the state
    // records it touches as well, so a serial met again does not make an old plan current.
    if existing.lineage == copy.lineage {
        copy.serial = existing.serial;
    }
    destination_lock
        .write(&mut copy)
        .await
        .map_err(|error| fail(&error.to_string()))?;
    view::err(&format!(
        "Migrated the state from {} to {}: {} records, {} journal entries, {} applied plans (lineage {}, serial {}). The source is left as it was; point migspec.yaml (or MIGSPEC_STATE_URL) at the new one.",
        source.describe(),
        destination.describe(),
        copy.resources.len(),
        copy.journal.len(),
        copy.applied_plans.len(),
        copy.lineage,
        copy.serial
    ));
    Ok(())
}

/// The spec file text of an imported object: the schema comment, where it came from, the
/// fields to fill in, then the YAML.
pub(crate) fn spec_text(
    remote_id: &RemoteId,
    imported: &migspec_provider::Imported,
) -> Result<String, Stopped> {
    let yaml = serde_saphyr::to_string(&imported.document)
        .map_err(|error| fail(&format!("cannot write the spec as YAML: {error}")))?;
    let mut text = String::from("# yaml-language-server: $schema=../schemas/migspec.schema.json\n");
    text.push_str(&format!("# Imported by migspec from {remote_id}.\n"));
    if !imported.unreadable.is_empty() {
        text.push_str(
            "# The API does not return these fields; fill them in (secrets as {fromEnv: VAR}):\n",
        );
        for field in &imported.unreadable {
            text.push_str(&format!("#   {field}\n"));
        }
    }
    text.push_str(&yaml);
    Ok(text)
}

pub(crate) async fn import_one(args: &ImportArgs, workspace: &Workspace) -> Result<(), Stopped> {
    let kind = args.kind.clone();
    let (Some(name), Some(id)) = (&args.name, &args.remote_id) else {
        return Err(fail(
            "`migspec import KIND NAME ID` needs the address and the remote id (or --all)",
        ));
    };
    let address = Address(name.clone());
    let remote_id = RemoteId(id.clone());
    let Some((_, provider)) = workspace.providers.for_kind(&kind) else {
        return Err(fail(&format!(
            "no provider serves kind `{kind}` (known: {}); a plugin's kind needs the plugin pinned under `plugins:` in {}",
            workspace.providers.kinds().join(", "),
            args.workspace.config.display()
        )));
    };
    let location = args.region.as_ref().map_or(
        serde_json::Value::Null,
        |region| serde_json::json!({"region": region}),
    );
    let backend = workspace.backend.as_ref();
    let held = lock(
        backend,
        &args.workspace,
        format!("migspec import {kind} {address}"),
    )
    .await?;
    let mut state = read(backend).await?;
    if let Some(existing) = state.resources.get(&address) {
        return Err(fail(&format!(
            "`{address}` is already recorded ({} {}); pick another name, or `migspec state rm {address}` first",
            existing.kind,
            existing
                .remote_id
                .as_ref()
                .map_or_else(String::new, ToString::to_string)
        )));
    }
    // One remote object belongs to at most one address (DESIGN.md, "Safety rules").
    if let Some((owner, existing)) = state
        .resources
        .iter()
        .find(|(_, resource)| resource.remote_id.as_ref() == Some(&remote_id))
    {
        return Err(fail(&format!(
            "`{remote_id}` is already managed by `{owner}` ({}) in this state: one remote job belongs to one address; to give it the name `{address}`, run `migspec state mv {owner} {address}` (and rename metadata.name in its spec)",
            existing.kind
        )));
    }
    let imported = provider
        .import(ImportRequest {
            kind: kind.clone(),
            address: address.clone(),
            remote_id: remote_id.clone(),
            location: location.clone(),
        })
        .await
        .map_err(|error| fail(&format!("{address}: {error}")))?;
    // Observe it once to learn where it lives, for the state.
    let observed = provider
        .observe(ObserveRequest {
            targets: vec![ObserveTarget {
                address: address.clone(),
                kind: kind.clone(),
                revision: None,
                view: None,
                remote_id: Some(remote_id.clone()),
                location,
            }],
        })
        .await
        .map_err(|error| fail(&format!("{address}: {error}")))?;
    let object_location = observed
        .iter()
        .find_map(|observation| observation.object().map(|object| object.location.clone()))
        .unwrap_or(serde_json::Value::Null);
    let text = spec_text(&remote_id, &imported)?;
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|error| fail(&format!("cannot write {}: {error}", path.display())))?,
        None => view::out(text.trim_end()),
    }
    state.resources.insert(
        address.clone(),
        Resource {
            kind,
            remote_id: Some(remote_id),
            location: object_location,
            secret_fingerprints: std::collections::BTreeMap::new(),
            applied_spec_hash: None,
            deletion_policy: None,
            // The spec written with `--out` is where the address lives from now on.
            file: args
                .out
                .as_deref()
                .map(migspec_runner::scope::project_relative),
            config_hash: None,
            attempts: 0,
            applied_view: None,
            secrets_in_use: false,
            applied_revision: None,
        },
    );
    held.write(&mut state)
        .await
        .map_err(|error| fail(&error.to_string()))?;
    view::err(&format!(
        "Imported {address}: recorded in the state; `migspec plan` with the spec shows what still differs."
    ));
    Ok(())
}
