//! `migspec import --all KIND --region R [--tag K=V] --out DIR`: adopt every existing job or
//! task group of a kind at once, for teams whose migrations already exist (Terraform's
//! `query -generate-config-out`). The provider lists them in batched, paged calls; objects
//! an address in the state already owns are skipped (and named); each other object gets one
//! spec file in DIR, named after its address, never overwriting a file; all are recorded in
//! the state in one write, under the state lock.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use migspec_provider::{Address, ImportRequest, ListRequest, Listed, RemoteId};
use migspec_runner::state::Resource;

use super::ExitStatus;
use super::plan::{Stopped, fail};
use super::state::{is_address, lock, read, spec_text};
use super::workspace::Workspace;
use crate::args::ImportArgs;
use crate::view;

pub(crate) async fn run(args: &ImportArgs, workspace: &Workspace) -> Result<ExitStatus, Stopped> {
    let kind = args.kind.clone();
    let (Some(region), Some(dir)) = (&args.region, &args.out) else {
        return Err(fail("`import --all` needs --region and --out DIR"));
    };
    let tags = parse_tags(&args.tag)?;
    let Some((_, provider)) = workspace.providers.for_kind(&kind) else {
        return Err(fail(&format!("no provider serves kind `{kind}`")));
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail(&format!(
            "--out {}: exists and is not a directory; `import --all` writes one spec per object into a directory",
            dir.display()
        )));
    }
    let backend = workspace.backend.as_ref();
    let held = lock(
        backend,
        &args.workspace,
        format!("migspec import --all {kind} --region {region}"),
    )
    .await?;
    let mut state = read(backend).await?;
    let listed = provider
        .list(ListRequest {
            kind: kind.clone(),
            location: serde_json::json!({"region": region}),
            tags,
        })
        .await
        .map_err(|error| fail(&format!("cannot list {kind} in {region}: {error}")))?;
    let owners: BTreeMap<&RemoteId, &Address> = state
        .resources
        .iter()
        .filter_map(|(address, resource)| resource.remote_id.as_ref().map(|id| (id, address)))
        .collect();
    let mut skipped = Vec::new();
    let mut taken: BTreeSet<Address> = state.resources.keys().cloned().collect();
    let mut chosen: Vec<(Address, Listed)> = Vec::new();
    for object in listed {
        if let Some(owner) = owners.get(&object.remote_id) {
            skipped.push(format!(
                "{} (already managed by `{owner}`)",
                object.remote_id
            ));
            continue;
        }
        let address = address_for(&object, &taken);
        taken.insert(address.clone());
        chosen.push((address, object));
    }
    // Every file is checked before anything is written: a refused file leaves the state and
    // the directory as they were.
    let existing: Vec<String> = chosen
        .iter()
        .map(|(address, _)| dir.join(format!("{address}.yaml")))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(fail(&format!(
            "{} exist(s) already: nothing was imported or written. Move them away, or import into another --out directory",
            existing.join(", ")
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|error| fail(&format!("cannot create {}: {error}", dir.display())))?;
    // One batched read for every chosen object (the provider reads them from its listing),
    // not one read per object.
    let documents = provider
        .import_many(
            chosen
                .iter()
                .map(|(address, object)| ImportRequest {
                    kind: kind.clone(),
                    address: address.clone(),
                    remote_id: object.remote_id.clone(),
                    location: object.location.clone(),
                })
                .collect(),
        )
        .await
        .map_err(|error| fail(&format!("cannot import {kind} from {region}: {error}")))?;
    if documents.len() != chosen.len() {
        return Err(fail(&format!(
            "the provider of {kind} answered {} imports for {} objects; nothing was written",
            documents.len(),
            chosen.len()
        )));
    }
    let mut imported = Vec::new();
    for ((address, object), document) in chosen.iter().zip(documents) {
        let path = dir.join(format!("{address}.yaml"));
        write_new(&path, &spec_text(&object.remote_id, &document)?)?;
        state.resources.insert(
            address.clone(),
            Resource {
                kind: kind.clone(),
                remote_id: Some(object.remote_id.clone()),
                location: object.location.clone(),
                secret_fingerprints: BTreeMap::new(),
                applied_spec_hash: None,
                deletion_policy: None,
                file: Some(migspec_runner::scope::project_relative(&path)),
                config_hash: None,
                attempts: 0,
                applied_view: None,
                secrets_in_use: args.secrets_in_use,
                applied_revision: None,
            },
        );
        imported.push(format!("{address} ({})", object.remote_id));
    }
    if !imported.is_empty() {
        held.write(&mut state)
            .await
            .map_err(|error| fail(&error.to_string()))?;
    }
    for line in &skipped {
        view::err(&format!("Skipped {line}."));
    }
    view::err(&format!(
        "Imported {} {kind} object(s) from {region} into {}{}{}",
        imported.len(),
        dir.display(),
        if imported.is_empty() { "" } else { ": " },
        imported.join(", ")
    ));
    if !imported.is_empty() {
        view::err(&format!(
            "Next: fill in the fields each file lists (secrets the API never returns), then `migspec plan {}`.{}",
            dir.display(),
            if args.secrets_in_use {
                " Their secrets are taken as the ones in use (--secrets-in-use): they plan unchanged until migspec sends them."
            } else {
                " Their secrets plan as `(sensitive, unknown: will be sent)` until migspec sends them (--secrets-in-use vouches for them instead)."
            }
        ));
    }
    Ok(ExitStatus::Success)
}

/// `--tag key=value` pairs.
fn parse_tags(tags: &[String]) -> Result<BTreeMap<String, String>, Stopped> {
    tags.iter()
        .map(|text| match text.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(fail(&format!(
                "--tag `{text}`: write `key=value` (e.g. `--tag owner=payments`)"
            ))),
        })
        .collect()
}

/// The address an object gets: its `migspec:address` marker (it was made by migspec under
/// that name), else its cloud name, else its id, each made a valid `metadata.name`; the id
/// when the name is taken.
fn address_for(object: &Listed, taken: &BTreeSet<Address>) -> Address {
    let candidates = [
        object.marker.as_ref().map(|marker| marker.0.clone()),
        object.name.as_deref().map(to_address),
        Some(to_address(&object.remote_id.0)),
    ];
    let mut fallback = Address(to_address(&object.remote_id.0));
    for candidate in candidates.into_iter().flatten() {
        let address = Address(candidate);
        if is_address(&address.0) && !taken.contains(&address) {
            return address;
        }
        if is_address(&address.0) {
            fallback = Address(format!(
                "{}-{}",
                address.0.chars().take(40).collect::<String>(),
                to_address(&object.remote_id.0)
            ));
        }
    }
    fallback.0 = to_address(&fallback.0);
    fallback
}

/// A cloud name or id as a `metadata.name`: lower-case ASCII letters and digits, every other
/// run of characters one `-`, at most 63 characters, no `-` at either end.
fn to_address(text: &str) -> String {
    let mut address = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            address.push(c.to_ascii_lowercase());
        } else if !address.ends_with('-') && !address.is_empty() {
            address.push('-');
        }
    }
    let mut address: String = address.chars().take(63).collect();
    while address.ends_with('-') {
        address.pop();
    }
    if address.is_empty() {
        address.push_str("imported");
    }
    address
}

/// Writes a new file; an existing one is refused, never replaced (checked again here: the
/// directory may have changed since the check above).
fn write_new(path: &Path, text: &str) -> Result<(), Stopped> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            fail(&format!(
                "cannot write {}: {error} (an existing file is never overwritten)",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, name: Option<&str>, marker: Option<&str>) -> Listed {
        Listed {
            remote_id: RemoteId(id.to_owned()),
            name: name.map(str::to_owned),
            marker: marker.map(|m| Address(m.to_owned())),
            location: serde_json::Value::Null,
        }
    }

    #[test]
    fn names_become_addresses() {
        assert_eq!(to_address("Orders to CDB (prod)"), "orders-to-cdb-prod");
        assert_eq!(to_address("--__--"), "imported");
        assert_eq!(to_address(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn the_marker_wins_then_the_name_then_the_id() {
        let none = BTreeSet::new();
        let marked = listed("dts-1", Some("Other Name"), Some("orders"));
        assert_eq!(address_for(&marked, &none).0, "orders");
        let named = listed("dts-1", Some("Billing Sync"), None);
        assert_eq!(address_for(&named, &none).0, "billing-sync");
        let bare = listed("4C9956DE-c0c6", None, None);
        assert_eq!(address_for(&bare, &none).0, "4c9956de-c0c6");
        let taken: BTreeSet<Address> = [Address("billing-sync".into())].into();
        assert_eq!(address_for(&named, &taken).0, "dts-1");
    }
}
