//! The OMS task-group status (`TaskGroupResp.status`, 0–9): one typed mapping onto
//! [`Phase`]s and message texts, so no code elsewhere matches on integers.

use migspec_provider::Phase;

/// A documented task-group status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupStatus {
    /// 0: waiting to create its tasks.
    Waiting,
    /// 1: creating its migration tasks.
    CreatingTasks,
    /// 2: migrating.
    Migrating,
    /// 3: paused.
    Paused,
    /// 4: failed to create its tasks.
    TaskCreationFailed,
    /// 5: failed to migrate.
    MigrationFailed,
    /// 6: completed.
    Completed,
    /// 7: pausing.
    Pausing,
    /// 8: waiting for deletion.
    WaitingForDeletion,
    /// 9: being deleted.
    Deleting,
}

impl GroupStatus {
    /// Every status, in code order.
    #[cfg(test)]
    const ALL: [Self; 10] = [
        Self::Waiting,
        Self::CreatingTasks,
        Self::Migrating,
        Self::Paused,
        Self::TaskCreationFailed,
        Self::MigrationFailed,
        Self::Completed,
        Self::Pausing,
        Self::WaitingForDeletion,
        Self::Deleting,
    ];

    /// The status of a code; `None` for a code OMS does not document.
    pub(crate) const fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            0 => Self::Waiting,
            1 => Self::CreatingTasks,
            2 => Self::Migrating,
            3 => Self::Paused,
            4 => Self::TaskCreationFailed,
            5 => Self::MigrationFailed,
            6 => Self::Completed,
            7 => Self::Pausing,
            8 => Self::WaitingForDeletion,
            9 => Self::Deleting,
            _ => return None,
        })
    }

    /// The status of a wire value (`None`: absent or undocumented).
    pub(crate) fn of(code: Option<u64>) -> Option<Self> {
        code.and_then(Self::from_code)
    }

    /// The status an observation's `raw_status` names (the code as text).
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok().and_then(Self::from_code)
    }

    /// The wire code.
    pub(crate) const fn code(self) -> u64 {
        match self {
            Self::Waiting => 0,
            Self::CreatingTasks => 1,
            Self::Migrating => 2,
            Self::Paused => 3,
            Self::TaskCreationFailed => 4,
            Self::MigrationFailed => 5,
            Self::Completed => 6,
            Self::Pausing => 7,
            Self::WaitingForDeletion => 8,
            Self::Deleting => 9,
        }
    }

    /// The lifecycle phase.
    pub(crate) const fn phase(self) -> Phase {
        match self {
            Self::Waiting => Phase::Creating,
            Self::CreatingTasks | Self::Migrating => Phase::Running,
            Self::Paused => Phase::Paused,
            Self::TaskCreationFailed | Self::MigrationFailed => Phase::Failed,
            Self::Completed => Phase::Completed,
            Self::Pausing => Phase::Pausing,
            Self::WaitingForDeletion | Self::Deleting => Phase::Deleting,
        }
    }

    /// What the status means, for messages.
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Self::Waiting => "waiting (status 0)",
            Self::CreatingTasks => "creating its migration tasks (status 1)",
            Self::Migrating => "migrating (status 2)",
            Self::Paused => "paused (status 3)",
            Self::TaskCreationFailed => "failed to create its tasks (status 4)",
            Self::MigrationFailed => "failed to migrate (status 5)",
            Self::Completed => "completed (status 6)",
            Self::Pausing => "pausing (status 7)",
            Self::WaitingForDeletion => "waiting for deletion (status 8)",
            Self::Deleting => "being deleted (status 9)",
        }
    }

    /// Migrating or creating its tasks (what OMS calls running).
    pub(crate) const fn is_running(self) -> bool {
        matches!(self, Self::CreatingTasks | Self::Migrating)
    }

    /// Failed (tasks or migration).
    pub(crate) const fn is_failed(self) -> bool {
        matches!(self, Self::TaskCreationFailed | Self::MigrationFailed)
    }

    /// On its way out (8 or 9): no group to act on or adopt.
    pub(crate) const fn is_deleting(self) -> bool {
        matches!(self, Self::WaitingForDeletion | Self::Deleting)
    }
}

/// The phase of an optional status (`Unknown` when absent or undocumented).
pub(crate) fn phase(status: Option<GroupStatus>) -> Phase {
    status.map_or(Phase::Unknown, GroupStatus::phase)
}

/// The text of an optional status.
pub(crate) fn text(status: Option<GroupStatus>) -> &'static str {
    status.map_or("in an unknown status", GroupStatus::text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_undocumented_codes_are_none() {
        for status in GroupStatus::ALL {
            assert_eq!(GroupStatus::from_code(status.code()), Some(status));
            assert_eq!(GroupStatus::parse(&status.code().to_string()), Some(status));
            assert!(status.text().contains(&format!("status {}", status.code())));
        }
        assert_eq!(GroupStatus::from_code(10), None);
        assert_eq!(GroupStatus::parse("unknown"), None);
        assert_eq!(phase(None), Phase::Unknown);
    }

    #[test]
    fn statuses_map_onto_the_documented_phases() {
        let phases: Vec<Phase> = GroupStatus::ALL.iter().map(|s| s.phase()).collect();
        assert_eq!(
            phases,
            [
                Phase::Creating,
                Phase::Running,
                Phase::Running,
                Phase::Paused,
                Phase::Failed,
                Phase::Failed,
                Phase::Completed,
                Phase::Pausing,
                Phase::Deleting,
                Phase::Deleting,
            ]
        );
    }
}
