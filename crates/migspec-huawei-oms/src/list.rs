//! Listing every task group of a project in a region (`migspec import --all`): the paged
//! `GET /v2/{project_id}/taskgroups` the observation uses (pages of 100). Groups being
//! deleted are left out. OMS task groups carry no tags, so a tag filter is refused rather
//! than ignored.

use std::collections::BTreeMap;

use migspec_provider::{Address, Listed, Phase, ProviderError, RemoteId};
use serde_json::json;

use crate::client::{OmsClient, Target};
use crate::convert::phase;
use crate::marker::address_of;

/// The live task groups of the project in `region`.
pub(crate) async fn list(
    client: &OmsClient,
    region: &str,
    project_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Listed>, ProviderError> {
    if let Some((key, value)) = tags.iter().next() {
        return Err(ProviderError::Config {
            message: format!(
                "--tag {key}={value}: Huawei OMS task groups carry no tags, so they cannot be selected by one; leave --tag out for HuaweiOmsTaskGroup"
            ),
        });
    }
    let groups = client.list_all(Target { region, project_id }).await?;
    Ok(groups
        .into_iter()
        .filter(|group| phase(group.status) != Phase::Deleting)
        .map(|group| Listed {
            marker: group
                .description
                .as_deref()
                .and_then(address_of)
                .map(|address| Address(address.to_owned())),
            remote_id: RemoteId(group.group_id),
            name: None,
            location: json!({"region": region, "project_id": project_id}),
        })
        .collect())
}
