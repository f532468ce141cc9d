//! The polls' sweep through a project's listing (see `observe.rs`).

use std::collections::HashMap;

use crate::client::PAGE_SIZE;
use crate::location::Location;

/// Where the polls' sweep through a large listing stands: a hint for which page the next
/// round reads second, and how many rounds each in-flight group went unseen. Nothing
/// depends on it for correctness (a lost or stale cursor only changes which page is read).
#[derive(Debug, Default)]
pub(crate) struct PollCursor {
    /// Per location, the offset the next round's second page starts at.
    offsets: HashMap<Location, u64>,
    /// Per group id, the consecutive rounds it was polled and not found.
    unseen: HashMap<String, u64>,
}

impl PollCursor {
    /// The offset of this round's second page: after the first page, wrapping to its end
    /// once the sweep passed the end of the listing.
    pub(crate) fn next_offset(&self, location: &Location, count: u64) -> u64 {
        self.offsets
            .get(location)
            .copied()
            .filter(|offset| *offset < count)
            .unwrap_or(PAGE_SIZE)
    }

    pub(crate) fn advance(&mut self, location: &Location, end: u64, count: u64) {
        let next = if end >= count { PAGE_SIZE } else { end };
        self.offsets.insert(location.clone(), next);
    }

    pub(crate) fn seen(&mut self, group_id: &str) {
        self.unseen.remove(group_id);
    }

    /// Counts one more round in which the group was not found; returns the count.
    pub(crate) fn unseen(&mut self, group_id: &str) -> u64 {
        let rounds = self.unseen.entry(group_id.to_owned()).or_insert(0);
        *rounds += 1;
        *rounds
    }
}
