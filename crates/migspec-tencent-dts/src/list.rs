//! Listing every live job of one API version in a region (`migspec import --all`): the
//! describe call of that version, `Limit` 100 (its maximum) and paged by `Offset`, with
//! `TagFilters` when tags are asked for (one filter per tag: the API ANDs filters).

use std::collections::BTreeMap;

use migspec_provider::{Address, Listed, RemoteId};

use crate::client::{ApiVersion, DtsClient};
use crate::error::ClientError;
use crate::job::ObservedJob;
use crate::wire::TagFilter;

/// The live jobs of `version` in `region` carrying every tag of `tags`.
pub(crate) async fn list(
    client: &DtsClient,
    version: ApiVersion,
    region: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Listed>, ClientError> {
    let filters: Vec<TagFilter> = tags
        .iter()
        .map(|(key, value)| TagFilter {
            tag_key: key.clone(),
            tag_value: vec![value.clone()],
        })
        .collect();
    let jobs: Vec<ObservedJob> = crate::observe::list_pages(client, version, region, &filters)
        .await?
        .iter()
        .map(|raw| raw.map(region))
        .collect();
    Ok(jobs
        .into_iter()
        .filter(|job| !job.is_gone())
        .map(|job| listed(&job))
        .collect())
}

fn listed(job: &ObservedJob) -> Listed {
    Listed {
        remote_id: RemoteId(job.id.clone()),
        name: job
            .view
            .get("JobName")
            .and_then(serde_json::Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
        marker: job.address_tag.clone().map(Address),
        location: job.location(),
    }
}
