//! Listing every live job of one API version in a region (`migspec import --all`): the
//! describe call of that version, `Limit` 100 (its maximum) and paged by `Offset`, with
//! `TagFilters` when tags are asked for (one filter per tag: the API ANDs filters).

use std::collections::BTreeMap;

use migspec_provider::{Address, Listed, RemoteId};

use crate::client::{ApiVersion, DtsClient, Retry};
use crate::error::ClientError;
use crate::job::ObservedJob;
use crate::observe::PAGE;
use crate::wire::TagFilter;
use crate::{v2018, v2021};

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
    let mut jobs: Vec<ObservedJob> = Vec::new();
    let mut offset = 0_i64;
    loop {
        let (page, total): (Vec<ObservedJob>, i64) = match version {
            ApiVersion::V2018 => {
                let response: v2018::DescribeMigrateJobsResponse = client
                    .call(
                        version,
                        "DescribeMigrateJobs",
                        region,
                        None,
                        &v2018::DescribeMigrateJobs {
                            job_id: None,
                            offset,
                            limit: PAGE as i64,
                            tag_filters: filters.clone(),
                        },
                        Retry::Safe,
                    )
                    .await?;
                (
                    response
                        .job_list
                        .iter()
                        .map(|info| v2018::observed(info, region))
                        .collect(),
                    response.total_count,
                )
            }
            ApiVersion::V2021 => {
                let response: v2021::DescribeMigrationJobsResponse = client
                    .call(
                        version,
                        "DescribeMigrationJobs",
                        region,
                        None,
                        &v2021::DescribeMigrationJobs {
                            job_id: None,
                            offset,
                            limit: PAGE as i64,
                            tag_filters: filters.clone(),
                        },
                        Retry::Safe,
                    )
                    .await?;
                (
                    response
                        .job_list
                        .iter()
                        .map(|item| v2021::observed(item, region, None))
                        .collect(),
                    response.total_count,
                )
            }
        };
        let count = page.len();
        jobs.extend(page);
        offset += count as i64;
        if count == 0 || offset >= total {
            break;
        }
    }
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
