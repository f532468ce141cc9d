//! Batched observation: one describe call per (region, API version) per 100 addresses.
//!
//! Jobs are found by their `migspec:address` tag (`TagFilters` with up to 100 values per
//! call, paged), which is also how a job whose create crashed before its id was recorded
//! is found again. A job known by id but without the tag (an imported job) is looked up by
//! id, one call each. For 2021 jobs a full observation also reads `DescribeMigrationDetail`
//! (the only call that returns `MigrateOption`); a poll reuses the options last read. A job
//! whose check failed also gets its check result, for the failure message.

use std::collections::BTreeMap;

use migspec_provider::{Address, Failure, Observed, Phase, ProviderError, RemoteId, RemoteObject};
use serde_json::Value;

use crate::client::{ApiVersion, DtsClient, Retry};
use crate::error::{ClientError, ErrorClass};
use crate::job::{ADDRESS_TAG, ObservedJob, Trade, location};
use crate::wire::{JobIdRequest, TagFilter};
use crate::{v2018, v2021};

/// The most jobs one describe call returns (and the most tag values one filter takes).
pub(crate) const PAGE: usize = 100;

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Everything a plan needs (2021: also `DescribeMigrationDetail` per job).
    Full,
    /// Status, progress and failures only (polling).
    Status,
}

/// One address to observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) address: Address,
    pub(crate) version: ApiVersion,
    pub(crate) region: String,
    pub(crate) remote_id: Option<String>,
    /// The revision and view the state recorded at the last apply (2021: a listing with the
    /// same `UpdateTime` means the recorded `MigrateOption` is still current).
    pub(crate) recorded: Option<(String, Value)>,
}

/// A described job with the raw item the view was built from.
#[derive(Debug, Clone)]
pub(crate) enum Raw {
    V2018(Box<v2018::MigrateJobInfo>),
    V2021(Box<v2021::JobItem>),
}

impl Raw {
    fn id(&self) -> &str {
        match self {
            Self::V2018(info) => &info.job_id,
            Self::V2021(item) => &item.job_id,
        }
    }

    pub(crate) fn map(&self, region: &str) -> ObservedJob {
        match self {
            Self::V2018(info) => v2018::observed(info, region),
            Self::V2021(item) => v2021::observed(item, region, None),
        }
    }
}

/// Lists the jobs of `version` in `region` tagged with one of `addresses` (≤ 100), paged.
async fn list_tagged(
    client: &DtsClient,
    version: ApiVersion,
    region: &str,
    addresses: &[String],
) -> Result<Vec<Raw>, ClientError> {
    let filter = vec![TagFilter {
        tag_key: ADDRESS_TAG.to_owned(),
        tag_value: addresses.to_vec(),
    }];
    list_pages(client, version, region, &filter).await
}

/// Lists every job of `version` in `region` that passes `filter` (the API ANDs the filters),
/// `Limit` 100 (its maximum) and paged by `Offset`.
pub(crate) async fn list_pages(
    client: &DtsClient,
    version: ApiVersion,
    region: &str,
    filter: &[TagFilter],
) -> Result<Vec<Raw>, ClientError> {
    let mut jobs = Vec::new();
    let mut offset = 0_i64;
    loop {
        let (page, total): (Vec<Raw>, i64) = match version {
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
                            tag_filters: filter.to_vec(),
                        },
                        Retry::Safe,
                    )
                    .await?;
                (
                    response
                        .job_list
                        .into_iter()
                        .map(|info| Raw::V2018(Box::new(info)))
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
                            tag_filters: filter.to_vec(),
                        },
                        Retry::Safe,
                    )
                    .await?;
                (
                    response
                        .job_list
                        .into_iter()
                        .map(|item| Raw::V2021(Box::new(item)))
                        .collect(),
                    response.total_count,
                )
            }
        };
        let count = page.len();
        jobs.extend(page);
        offset += count as i64;
        if count == 0 || offset >= total {
            return Ok(jobs);
        }
    }
}

/// Looks a job up by id (for jobs without the address tag).
async fn find_by_id(
    client: &DtsClient,
    version: ApiVersion,
    region: &str,
    id: &str,
) -> Result<Option<Raw>, ClientError> {
    let found = match version {
        ApiVersion::V2018 => {
            let response: v2018::DescribeMigrateJobsResponse = client
                .call(
                    version,
                    "DescribeMigrateJobs",
                    region,
                    Some(id),
                    &v2018::DescribeMigrateJobs {
                        job_id: Some(id.to_owned()),
                        offset: 0,
                        limit: 1,
                        tag_filters: Vec::new(),
                    },
                    Retry::Safe,
                )
                .await?;
            response
                .job_list
                .into_iter()
                .find(|info| info.job_id == id)
                .map(|info| Raw::V2018(Box::new(info)))
        }
        ApiVersion::V2021 => {
            let response: v2021::DescribeMigrationJobsResponse = client
                .call(
                    version,
                    "DescribeMigrationJobs",
                    region,
                    Some(id),
                    &v2021::DescribeMigrationJobs {
                        job_id: Some(id.to_owned()),
                        offset: 0,
                        limit: 1,
                        tag_filters: Vec::new(),
                    },
                    Retry::Safe,
                )
                .await?;
            response
                .job_list
                .into_iter()
                .find(|item| item.job_id == id)
                .map(|item| Raw::V2021(Box::new(item)))
        }
    };
    Ok(found)
}

/// The job an address refers to among the tagged jobs: the recorded id if given, else the
/// newest live job carrying its tag.
fn pick<'a>(
    candidates: &[&'a (Raw, ObservedJob)],
    remote_id: Option<&str>,
) -> Option<&'a (Raw, ObservedJob)> {
    if let Some(id) = remote_id {
        return candidates.iter().copied().find(|(raw, _)| raw.id() == id);
    }
    let mut live: Vec<&(Raw, ObservedJob)> = candidates
        .iter()
        .copied()
        .filter(|(_, job)| job.trade == Trade::Normal)
        .collect();
    if live.is_empty() {
        live = candidates
            .iter()
            .copied()
            .filter(|(_, job)| !job.is_gone())
            .collect();
    }
    live.into_iter()
        .max_by(|(_, a), (_, b)| a.create_time.cmp(&b.create_time).then(a.id.cmp(&b.id)))
}

/// Observes `targets` with as few calls as the API allows; answers in the same order.
pub(crate) async fn observe(
    client: &DtsClient,
    targets: &[Target],
    depth: Depth,
) -> Result<Vec<Option<ObservedJob>>, ProviderError> {
    // 1. One tag-filtered listing per (region, version) per 100 addresses.
    let mut groups: BTreeMap<(String, ApiVersion), Vec<String>> = BTreeMap::new();
    for target in targets {
        let names = groups
            .entry((target.region.clone(), target.version))
            .or_default();
        if !names.contains(&target.address.0) {
            names.push(target.address.0.clone());
        }
    }
    let mut listed: BTreeMap<(String, ApiVersion), Vec<(Raw, ObservedJob)>> = BTreeMap::new();
    for ((region, version), names) in &groups {
        let mut jobs = Vec::new();
        for chunk in names.chunks(PAGE) {
            for raw in list_tagged(client, *version, region, chunk)
                .await
                .map_err(|error| error.to_provider_error(None))?
            {
                let job = raw.map(region);
                jobs.push((raw, job));
            }
        }
        listed.insert((region.clone(), *version), jobs);
    }

    // 2. Match each target; look up by id what the tags did not find.
    let mut answers = Vec::with_capacity(targets.len());
    for target in targets {
        let group = listed
            .get(&(target.region.clone(), target.version))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let candidates: Vec<&(Raw, ObservedJob)> = group
            .iter()
            .filter(|(_, job)| job.address_tag.as_deref() == Some(target.address.0.as_str()))
            .collect();
        let found = match pick(&candidates, target.remote_id.as_deref()) {
            Some((raw, _)) => Some(raw.clone()),
            None => match &target.remote_id {
                Some(id) => find_by_id(client, target.version, &target.region, id)
                    .await
                    .map_err(|error| error.to_provider_error(None))?,
                None => None,
            },
        };
        let Some(raw) = found else {
            answers.push(None);
            continue;
        };
        // A destroyed 2021 job stays listed as `offlined`: for every purpose it is gone.
        let job = enrich(client, &raw, target, depth).await?;
        answers.push((!job.is_gone()).then_some(job));
    }
    Ok(answers)
}

/// Adds what the listing does not carry: 2021 `MigrateOption` (full depth), check results.
pub(crate) async fn enrich(
    client: &DtsClient,
    raw: &Raw,
    target: &Target,
    depth: Depth,
) -> Result<ObservedJob, ProviderError> {
    let region = target.region.as_str();
    let mut job = match raw {
        // Unchanged since the last apply (the same revision: started then and since, see
        // `v2021::revision`): the options recorded then are current, so the per-job
        // DescribeMigrationDetail is skipped.
        Raw::V2021(item)
            if depth == Depth::Full
                && let Some(revision) = v2021::revision(item)
                && let Some(option) = unchanged_option(target, &revision) =>
        {
            client.remember_migrate_option(&item.job_id, &option);
            let mut job = raw.map(region);
            job.view = v2021::view(item, region, Some(&option));
            job
        }
        // A poll reads the options once per job (the first time it sees the job configured
        // in this process, e.g. right after its create), then keeps them: the view it returns
        // is what the runner records as applied.
        Raw::V2021(item)
            if !raw.map(region).is_gone()
                && (depth == Depth::Full
                    || (!item.run_mode.is_empty()
                        && client.remembered_migrate_option(&item.job_id).is_none())) =>
        {
            let detail: Result<v2021::DescribeMigrationDetailResponse, ClientError> = client
                .call(
                    ApiVersion::V2021,
                    "DescribeMigrationDetail",
                    region,
                    Some(&item.job_id),
                    &JobIdRequest {
                        job_id: item.job_id.clone(),
                    },
                    Retry::Safe,
                )
                .await;
            match detail {
                Ok(detail) => {
                    client.remember_migrate_option(&item.job_id, &detail.migrate_option);
                    v2021::observed(item, region, Some(&detail))
                }
                Err(error)
                    if error
                        .api()
                        .is_some_and(|api| api.class() == ErrorClass::NotFound) =>
                {
                    // Destroyed between the two calls.
                    let mut job = raw.map(region);
                    job.trade = Trade::Offlined;
                    job
                }
                Err(error) => return Err(error.to_provider_error(None)),
            }
        }
        Raw::V2021(item) => {
            // Polling skips the per-job detail call: keep the options last read.
            let mut job = raw.map(region);
            if let Some(option) = client.remembered_migrate_option(&item.job_id) {
                job.view = v2021::view(item, region, Some(&option));
            }
            job
        }
        Raw::V2018(_) => raw.map(region),
    };
    if job.phase == Phase::CheckFailed {
        job.failure = check_failure(client, &job).await?.or(job.failure);
    }
    Ok(job)
}

/// The `MigrateOption` of the view the state recorded, when the job's revision is still the
/// one recorded with it.
fn unchanged_option(target: &Target, current: &str) -> Option<Value> {
    let (revision, view) = target.recorded.as_ref()?;
    if revision != current {
        return None;
    }
    view.get("MigrateOption")
        .filter(|option| option.is_object())
        .cloned()
}

/// The failure of the job's last check.
pub(crate) async fn check_failure(
    client: &DtsClient,
    job: &ObservedJob,
) -> Result<Option<Failure>, ProviderError> {
    let request = JobIdRequest {
        job_id: job.id.clone(),
    };
    match job.version {
        ApiVersion::V2018 => {
            let check: v2018::DescribeMigrateCheckJobResponse = client
                .call(
                    job.version,
                    "DescribeMigrateCheckJob",
                    &job.region,
                    Some(&job.id),
                    &request,
                    Retry::Safe,
                )
                .await
                .map_err(|error| error.to_provider_error(None))?;
            Ok(v2018::check_failure(&check, job.failure.clone()))
        }
        ApiVersion::V2021 => {
            let check: v2021::DescribeMigrationCheckJobResponse = client
                .call(
                    job.version,
                    "DescribeMigrationCheckJob",
                    &job.region,
                    Some(&job.id),
                    &request,
                    Retry::Safe,
                )
                .await
                .map_err(|error| error.to_provider_error(None))?;
            Ok(v2021::check_failure(&check))
        }
    }
}

/// The observation of an address from what was found.
pub(crate) fn to_observed(address: &Address, job: Option<&ObservedJob>) -> Observed {
    match job {
        Some(job) => job.to_observed(address),
        None => Observed::Missing {
            address: address.clone(),
        },
    }
}

/// An observation of a job known only by id (right after a create that the listing does
/// not show yet): present, creating.
pub(crate) fn just_created(
    address: &Address,
    id: &str,
    region: &str,
    version: ApiVersion,
) -> Observed {
    Observed::Present {
        address: address.clone(),
        object: Box::new(RemoteObject {
            id: RemoteId(id.to_owned()),
            phase: Phase::Creating,
            raw_status: String::new(),
            location: location(region, version),
            view: Value::Null,
            progress: None,
            failure: None,
            // Created with the address tag.
            revision: None,
            marker: Some(address.clone()),
        }),
    }
}
