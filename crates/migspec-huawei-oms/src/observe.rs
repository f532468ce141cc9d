//! Observation of task groups: one paged listing per location for a batch, and the reads
//! a step falls back on when the host sent no observation.

use std::collections::{HashMap, HashSet};

use migspec_provider::{Address, Observed, ProviderError, RemoteId, RemoteObject};
use serde_json::Value;

use crate::convert;
use crate::marker;
use crate::provider::{HuaweiOmsProvider, Location};
use crate::status::GroupStatus;
use crate::wire::TaskGroup;

impl HuaweiOmsProvider {
    pub(crate) fn observed(
        address: &Address,
        group: Option<&TaskGroup>,
        location: &Location,
    ) -> Observed {
        match group {
            None => Observed::Missing {
                address: address.clone(),
            },
            Some(group) => Observed::Present {
                address: address.clone(),
                object: Box::new(RemoteObject {
                    id: RemoteId(group.group_id.clone()),
                    phase: convert::phase(group.status),
                    raw_status: group
                        .status
                        .map_or_else(|| "unknown".to_owned(), |status| status.to_string()),
                    location: location.to_value(),
                    view: convert::observed_view(group, &location.region),
                    progress: convert::progress(group),
                    failure: convert::failure(group),
                    revision: None,
                    marker: group
                        .description
                        .as_deref()
                        .and_then(marker::address_of)
                        .map(|address| Address(address.to_owned())),
                }),
            },
        }
    }

    /// One paged listing per location for the whole batch. `by_marker` lets a recorded id
    /// that is gone fall back to the address marker (observe); the poller tracks one
    /// object and never does (a delete waits for exactly that group to disappear).
    pub(crate) async fn observe_batch(
        &self,
        targets: Vec<(Address, Option<RemoteId>, Value)>,
        by_marker: Fallback,
    ) -> Result<Vec<Observed>, ProviderError> {
        let mut located = Vec::with_capacity(targets.len());
        for (address, remote_id, location) in targets {
            let location = self.parse_location(&address, &location)?;
            located.push((address, remote_id, location));
        }
        let mut listings: HashMap<Location, Vec<TaskGroup>> = HashMap::new();
        for (_, _, location) in &located {
            if !listings.contains_key(location) {
                let groups = match by_marker {
                    Fallback::Marker => self.client.list_all(location.target()).await?,
                    Fallback::None => {
                        let wanted: HashSet<&str> = located
                            .iter()
                            .filter(|(_, _, at)| at == location)
                            .filter_map(|(_, id, _)| id.as_ref().map(|id| id.0.as_str()))
                            .collect();
                        self.list_until_found(location, &wanted).await?
                    }
                };
                listings.insert(location.clone(), groups);
            }
        }
        Ok(located
            .into_iter()
            .map(|(address, remote_id, location)| {
                let groups = listings.get(&location).map_or(&[][..], Vec::as_slice);
                // By id; a recorded id that is gone falls back to the marker, which finds
                // the group a crashed re-create made before its new id was recorded.
                let group = match &remote_id {
                    None => find_by_marker(groups, &address),
                    Some(id) => groups
                        .iter()
                        .find(|group| group.group_id == id.0)
                        .or_else(|| match by_marker {
                            Fallback::Marker => find_by_marker(groups, &address),
                            Fallback::None => None,
                        }),
                };
                Self::observed(&address, group, &location)
            })
            .collect())
    }

    /// The groups of a location, paged only as far as the last of `wanted` (a poll's
    /// in-flight groups): OMS lists the newest first, and the groups an apply waits for are
    /// the ones it just created or acted on, so a poll does not page through a whole large
    /// project. A wanted id not found pages to the end (it is gone).
    async fn list_until_found(
        &self,
        location: &Location,
        wanted: &HashSet<&str>,
    ) -> Result<Vec<TaskGroup>, ProviderError> {
        let mut groups = Vec::new();
        let mut missing = wanted.len();
        let mut offset = 0;
        // Bounded like `OmsClient::list_all`, so a misbehaving server cannot page forever.
        for _ in 0..1_000 {
            let page = self
                .client
                .list_page(location.target(), crate::client::PAGE_SIZE, offset)
                .await?;
            let length = page.taskgroups.len() as u64;
            missing -= page
                .taskgroups
                .iter()
                .filter(|group| wanted.contains(group.group_id.as_str()))
                .count()
                .min(missing);
            groups.extend(page.taskgroups);
            offset += length;
            let total_reached = page.count.is_some_and(|count| offset >= count);
            if missing == 0 || length < crate::client::PAGE_SIZE || total_reached {
                break;
            }
        }
        Ok(groups)
    }

    /// The group a step acts on, read afresh: by id when known, else by marker.
    pub(crate) async fn current(
        &self,
        location: &Location,
        address: &Address,
        remote_id: Option<&RemoteId>,
    ) -> Result<Option<TaskGroup>, ProviderError> {
        match remote_id {
            Some(id) => match self.client.show(location.target(), &id.0).await {
                Ok(group) => Ok(Some(group)),
                Err(ProviderError::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            },
            None => {
                let groups = self.client.list_all(location.target()).await?;
                Ok(find_by_marker(&groups, address).cloned())
            }
        }
    }

    pub(crate) async fn show_now(
        &self,
        location: &Location,
        address: &Address,
        group_id: &str,
    ) -> Result<Observed, ProviderError> {
        match self.client.show(location.target(), group_id).await {
            Ok(group) => Ok(Self::observed(address, Some(&group), location)),
            Err(ProviderError::NotFound { .. }) => Ok(Self::observed(address, None, location)),
            Err(error) => Err(error),
        }
    }
}

/// What an observation by id does when the id is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Look for the address marker.
    Marker,
    /// Report the object missing.
    None,
}

/// The group a marker names: the first listed that is not being deleted.
pub(crate) fn find_by_marker<'a>(
    groups: &'a [TaskGroup],
    address: &Address,
) -> Option<&'a TaskGroup> {
    groups.iter().find(|group| {
        !GroupStatus::of(group.status).is_some_and(GroupStatus::is_deleting)
            && group.description.as_deref().and_then(marker::address_of) == Some(address.0.as_str())
    })
}
