//! Observation of task groups: one paged listing per location for a batch, and the reads
//! a step falls back on when the host sent no observation.

use std::collections::HashMap;

use migspec_provider::{Address, Observed, ProviderError, RemoteId, RemoteObject};
use serde_json::Value;

use crate::client::PAGE_SIZE;
use crate::convert;
use crate::cursor::PollCursor;
use crate::location::Location;
use crate::marker;
use crate::provider::HuaweiOmsProvider;
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

    /// One paged listing per location for the whole batch; a recorded id that is gone
    /// falls back to the address marker, which finds the group a crashed re-create made
    /// before its new id was recorded.
    pub(crate) async fn observe_batch(
        &self,
        targets: Vec<(Address, Option<RemoteId>, Value)>,
    ) -> Result<Vec<Observed>, ProviderError> {
        let mut located = Vec::with_capacity(targets.len());
        for (address, remote_id, location) in targets {
            let location = self.parse_location(&address, &location)?;
            located.push((address, remote_id, location));
        }
        let mut listings: HashMap<Location, Vec<TaskGroup>> = HashMap::new();
        for (_, _, location) in &located {
            if !listings.contains_key(location) {
                let groups = self.client.list_all(location.target()).await?;
                listings.insert(location.clone(), groups);
            }
        }
        Ok(located
            .into_iter()
            .map(|(address, remote_id, location)| {
                let groups = listings.get(&location).map_or(&[][..], Vec::as_slice);
                let group = match &remote_id {
                    None => find_by_marker(groups, &address),
                    Some(id) => groups
                        .iter()
                        .find(|group| group.group_id == id.0)
                        .or_else(|| find_by_marker(groups, &address)),
                };
                Self::observed(&address, group, &location)
            })
            .collect())
    }

    /// The poll of the in-flight groups: at most two list calls per location per
    /// round, however many groups are in flight (OMS lists at most 100 groups per call and
    /// filters by one status only, so more than 200 in-flight groups cannot all be seen in
    /// two calls). The first page is the newest 100 — OMS lists the newest first, and the
    /// groups an apply waits for are mostly the ones it just created or acted on; the second
    /// continues a sweep through the rest of the listing from where the last round's second
    /// page ended ([`PollCursor`]). A group on neither page gets no observation this round
    /// (the runner's poller polls it again next round). A group is reported missing when
    /// the pages read covered the whole listing, or — in a project too large for that —
    /// when it was not seen for a whole sweep, after one `ShowTaskGroup` by id says it is
    /// gone: the listing cannot prove that a group is absent, and OMS has no read of several
    /// groups by id, so that read is one per group and only for groups the sweep missed.
    pub(crate) async fn poll_batch(
        &self,
        targets: Vec<(Address, RemoteId, Value)>,
    ) -> Result<Vec<Observed>, ProviderError> {
        let mut located = Vec::with_capacity(targets.len());
        for (address, remote_id, location) in targets {
            let location = self.parse_location(&address, &location)?;
            located.push((address, remote_id, location));
        }
        let mut locations: Vec<Location> = Vec::new();
        for (_, _, location) in &located {
            if !locations.contains(location) {
                locations.push(location.clone());
            }
        }
        let mut answer = Vec::with_capacity(located.len());
        for location in locations {
            let wanted: Vec<(&Address, &RemoteId)> = located
                .iter()
                .filter(|(_, _, at)| *at == location)
                .map(|(address, id, _)| (address, id))
                .collect();
            answer.extend(self.poll_location(&location, &wanted).await?);
        }
        Ok(answer)
    }

    async fn poll_location(
        &self,
        location: &Location,
        wanted: &[(&Address, &RemoteId)],
    ) -> Result<Vec<Observed>, ProviderError> {
        let target = location.target();
        let first = self.client.list_page(target, PAGE_SIZE, 0).await?;
        let count = first.count.unwrap_or(first.taskgroups.len() as u64);
        let mut groups = first.taskgroups;
        let mut complete = (groups.len() as u64) < PAGE_SIZE || count <= PAGE_SIZE;
        let found = |groups: &[TaskGroup]| {
            wanted
                .iter()
                .all(|(_, id)| groups.iter().any(|group| group.group_id == id.0))
        };
        if !complete && !found(&groups) {
            let offset = self.cursor().next_offset(location, count);
            let page = self.client.list_page(target, PAGE_SIZE, offset).await?;
            let length = page.taskgroups.len() as u64;
            complete = offset == PAGE_SIZE && (length < PAGE_SIZE || offset + length >= count);
            self.cursor().advance(location, offset + length, count);
            groups.extend(page.taskgroups);
        }
        let sweep_rounds = count.saturating_sub(PAGE_SIZE).div_ceil(PAGE_SIZE).max(1);
        let mut observed = Vec::with_capacity(wanted.len());
        let mut unseen_for_a_sweep = Vec::new();
        for (address, id) in wanted {
            match groups.iter().find(|group| group.group_id == id.0) {
                Some(group) => {
                    self.cursor().seen(&id.0);
                    observed.push(Self::observed(address, Some(group), location));
                }
                None if complete => {
                    self.cursor().seen(&id.0);
                    observed.push(Self::observed(address, None, location));
                }
                None => {
                    if self.cursor().unseen(&id.0) > sweep_rounds {
                        unseen_for_a_sweep.push((*address, *id));
                    }
                }
            }
        }
        // Only groups a whole sweep did not find: normally none (each is seen within a
        // sweep), one per deleted group in a project of more than two pages.
        for (address, id) in unseen_for_a_sweep {
            self.cursor().seen(&id.0);
            observed.push(self.show_now(location, address, &id.0).await?);
        }
        Ok(observed)
    }

    fn cursor(&self) -> std::sync::MutexGuard<'_, PollCursor> {
        self.poll_cursor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
