//! The simulated life of a DTS job, shared by both API versions.
//!
//! A job's progress is never ticked in the background: each request first calls
//! [`Timeline::advance`], which replays every phase change that became due since the
//! last request, at the exact instant it was due. The outcome is therefore a pure
//! function of the API calls made and the clock, which keeps tests deterministic.
//!
//! Migration "work" is measured in (scaled) milliseconds of the `migrating` duration:
//! the dumper step covers the first half, the loader step the second half, and an
//! incremental job then enters the sinker step (ready to complete).

use serde::{Deserialize, Serialize};

use crate::faults::{FailureKind, FaultRule};

/// Phase durations in milliseconds, already multiplied by the time scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) creating: u64,
    pub(crate) checking: u64,
    pub(crate) migrating: u64,
    pub(crate) completing: u64,
    pub(crate) stopping: u64,
    pub(crate) pausing: u64,
    pub(crate) resuming: u64,
    pub(crate) isolating: u64,
    pub(crate) offlining: u64,
    pub(crate) oms_waiting: u64,
    pub(crate) oms_task_creation: u64,
    pub(crate) oms_migration: u64,
    pub(crate) oms_pausing: u64,
    pub(crate) oms_deleting: u64,
}

impl Timing {
    pub(crate) fn new(durations: &crate::config::PhaseDurations, scale: f64) -> Self {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "durations are small and positive"
        )]
        let ms = |d: std::time::Duration| ((d.as_millis() as f64) * scale).round().max(0.0) as u64;
        Self {
            creating: ms(durations.creating),
            checking: ms(durations.checking),
            migrating: ms(durations.migrating).max(1),
            completing: ms(durations.completing),
            stopping: ms(durations.stopping),
            pausing: ms(durations.pausing),
            resuming: ms(durations.resuming),
            isolating: ms(durations.isolating),
            offlining: ms(durations.offlining),
            oms_waiting: ms(durations.oms_waiting),
            oms_task_creation: ms(durations.oms_task_creation),
            oms_migration: ms(durations.oms_migration).max(1),
            oms_pausing: ms(durations.oms_pausing),
            oms_deleting: ms(durations.oms_deleting),
        }
    }
}

/// Which API a job belongs to (it decides the status vocabulary and failure statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Api {
    V2018,
    V2021,
}

/// The internal job phase; each version maps it onto its own status vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Phase {
    Creating,
    Created,
    Checking,
    CheckPass,
    CheckNotPass,
    ReadyRun,
    Running,
    ReadyComplete,
    Completing,
    Success,
    Failed,
    Stopping,
    Canceled,
    Pausing,
    ManualPaused,
    ResumableErr,
    Resuming,
}

impl Phase {
    /// The 2018-03-30 integer status.
    pub(crate) fn status_2018(self) -> i64 {
        match self {
            Self::Creating | Self::Created => 1,
            Self::Checking => 3,
            Self::CheckPass => 4,
            Self::CheckNotPass => 5,
            Self::ReadyRun => 6,
            Self::Running | Self::Pausing | Self::ManualPaused | Self::Resuming => 7,
            Self::ReadyComplete => 8,
            Self::Success => 9,
            Self::Failed | Self::Canceled | Self::ResumableErr => 10,
            Self::Stopping => 11,
            Self::Completing => 12,
        }
    }

    /// The 2021-12-06 string status.
    pub(crate) fn status_2021(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Created => "created",
            Self::Checking => "checking",
            Self::CheckPass => "checkPass",
            Self::CheckNotPass => "checkNotPass",
            Self::ReadyRun => "readyRun",
            Self::Running => "running",
            Self::ReadyComplete => "readyComplete",
            Self::Completing => "completing",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Stopping => "stopping",
            Self::Canceled => "canceled",
            Self::Pausing => "pausing",
            Self::ManualPaused => "manualPaused",
            Self::ResumableErr => "resumableErr",
            Self::Resuming => "resuming",
        }
    }

    /// Phases that end by themselves after a duration.
    pub(crate) fn is_transitional(self) -> bool {
        matches!(
            self,
            Self::Creating
                | Self::Checking
                | Self::Completing
                | Self::Stopping
                | Self::Pausing
                | Self::Resuming
        )
    }

    /// Phases that never change without an API call (a job's answer can be cached).
    pub(crate) fn is_stable(self) -> bool {
        matches!(
            self,
            Self::Created
                | Self::CheckPass
                | Self::CheckNotPass
                | Self::ReadyComplete
                | Self::Success
                | Self::Failed
                | Self::Canceled
                | Self::ManualPaused
                | Self::ResumableErr
        )
    }

    /// Phases in which a migration has been started and not yet finished.
    pub(crate) fn is_active_migration(self) -> bool {
        matches!(
            self,
            Self::ReadyRun
                | Self::Running
                | Self::ReadyComplete
                | Self::ManualPaused
                | Self::ResumableErr
        )
    }
}

/// A check failure decided when the check started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckFailureInfo {
    pub(crate) message: String,
    pub(crate) step: String,
}

/// The last check of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckRecord {
    pub(crate) started_ms: Option<u64>,
    pub(crate) finished_ms: Option<u64>,
    /// `Some` when this check fails (decided when it starts).
    pub(crate) failure: Option<CheckFailureInfo>,
}

impl CheckRecord {
    /// `Some(true)` passed, `Some(false)` failed, `None` not finished or never run.
    pub(crate) fn result(&self) -> Option<bool> {
        self.finished_ms.map(|_| self.failure.is_none())
    }
}

/// The error of the last migration failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JobError {
    pub(crate) message: String,
    pub(crate) at_ms: u64,
    /// Index of the step that failed (0 dumper, 1 loader, 2 sinker).
    pub(crate) step: usize,
}

/// Step ids and display names (source export, data import, incremental sync).
pub(crate) const STEPS: [(&str, &str); 3] = [
    ("dumper", "源库导出"),
    ("loader", "数据导入"),
    ("sinker", "同步增量"),
];

/// Default text of an injected migration failure.
pub(crate) const DEFAULT_MIGRATION_ERROR: &str = "[loader] Error 1062 (23000): Duplicate entry '1024' for key 'PRIMARY' while importing `orders`.`order_items` (injected by the migspec emulator)";

/// The state of one job over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Timeline {
    pub(crate) phase: Phase,
    /// When the current phase began.
    pub(crate) since_ms: u64,
    /// Migration work done before `since_ms` (the current phase adds to it while running).
    pub(crate) work_ms: u64,
    /// Whether the job goes on to an incremental phase (ready to complete).
    pub(crate) incremental: bool,
    /// Start time of a timed job.
    pub(crate) expect_run_ms: Option<u64>,
    /// Work point at which the current attempt fails.
    pub(crate) fail_at_work_ms: Option<u64>,
    pub(crate) failure_kind: FailureKind,
    pub(crate) failure_message: Option<String>,
    /// Failures so far (resumes needed are counted against this).
    pub(crate) failures: u32,
    /// Checks that failed so far.
    pub(crate) checks_failed: u32,
    pub(crate) check: CheckRecord,
    pub(crate) started_ms: Option<u64>,
    pub(crate) ended_ms: Option<u64>,
    pub(crate) step_started_ms: [Option<u64>; 3],
    pub(crate) last_error: Option<JobError>,
    /// Last time the job changed because of an API call.
    pub(crate) updated_ms: u64,
}

impl Timeline {
    pub(crate) fn new(phase: Phase, now: u64) -> Self {
        Self {
            phase,
            since_ms: now,
            work_ms: 0,
            incremental: false,
            expect_run_ms: None,
            fail_at_work_ms: None,
            failure_kind: FailureKind::Resumable,
            failure_message: None,
            failures: 0,
            checks_failed: 0,
            check: CheckRecord::default(),
            started_ms: None,
            ended_ms: None,
            step_started_ms: [None; 3],
            last_error: None,
            updated_ms: now,
        }
    }

    fn enter(&mut self, phase: Phase, at: u64) {
        self.phase = phase;
        self.since_ms = at;
    }

    /// Records the step start times crossed while the work went from `from` to `to`,
    /// for a running segment that started at `since` with `base` work done.
    fn record_steps(&mut self, total: u64, from: u64, to: u64) {
        let boundaries = [0, total / 2];
        for (index, boundary) in boundaries.into_iter().enumerate() {
            if self.step_started_ms[index].is_none() && from <= boundary && boundary <= to {
                self.step_started_ms[index] =
                    Some(self.since_ms + (boundary - self.work_ms.min(boundary)));
            }
        }
    }

    /// Replays every phase change due by `now`.
    pub(crate) fn advance(&mut self, now: u64, timing: &Timing, api: Api) {
        let total = timing.migrating;
        for _ in 0..64 {
            let since = self.since_ms;
            match self.phase {
                Phase::Creating if now >= since + timing.creating => {
                    self.enter(Phase::Created, since + timing.creating)
                }
                Phase::Checking if now >= since + timing.checking => {
                    let at = since + timing.checking;
                    self.check.finished_ms = Some(at);
                    if self.check.failure.is_some() {
                        self.checks_failed += 1;
                        self.enter(Phase::CheckNotPass, at);
                    } else {
                        self.enter(Phase::CheckPass, at);
                    }
                }
                Phase::ReadyRun => match self.expect_run_ms {
                    Some(at) if now >= at => {
                        let at = at.max(since);
                        self.started_ms = Some(at);
                        self.enter(Phase::Running, at);
                    }
                    Some(_) => return,
                    None => {
                        self.started_ms = Some(since);
                        self.enter(Phase::Running, since);
                    }
                },
                Phase::Running => {
                    let base = self.work_ms;
                    let reached = base + (now - since.min(now));
                    if let Some(fail_at) = self
                        .fail_at_work_ms
                        .filter(|fail_at| reached >= *fail_at && *fail_at <= total)
                    {
                        let at = since + (fail_at - base.min(fail_at));
                        self.record_steps(total, base, fail_at);
                        self.work_ms = fail_at;
                        self.failures += 1;
                        self.fail_at_work_ms = None;
                        let step = usize::from(fail_at >= total / 2);
                        let message = self
                            .failure_message
                            .clone()
                            .unwrap_or_else(|| DEFAULT_MIGRATION_ERROR.to_owned());
                        self.last_error = Some(JobError {
                            message,
                            at_ms: at,
                            step,
                        });
                        let phase = match (api, self.failure_kind) {
                            (Api::V2021, FailureKind::Resumable) => Phase::ResumableErr,
                            _ => Phase::Failed,
                        };
                        if phase == Phase::Failed {
                            self.ended_ms = Some(at);
                        }
                        self.enter(phase, at);
                    } else if reached >= total {
                        let at = since + (total - base.min(total));
                        self.record_steps(total, base, total);
                        self.work_ms = total;
                        if self.incremental {
                            if self.step_started_ms[2].is_none() {
                                self.step_started_ms[2] = Some(at);
                            }
                            self.enter(Phase::ReadyComplete, at);
                        } else {
                            self.ended_ms = Some(at);
                            self.enter(Phase::Success, at);
                        }
                    } else {
                        self.record_steps(total, base, reached);
                        return;
                    }
                }
                Phase::Completing if now >= since + timing.completing => {
                    let at = since + timing.completing;
                    self.ended_ms = Some(at);
                    self.enter(Phase::Success, at);
                }
                Phase::Stopping if now >= since + timing.stopping => {
                    let at = since + timing.stopping;
                    self.ended_ms = Some(at);
                    self.enter(
                        if api == Api::V2018 {
                            Phase::Failed
                        } else {
                            Phase::Canceled
                        },
                        at,
                    );
                }
                Phase::Pausing if now >= since + timing.pausing => {
                    self.enter(Phase::ManualPaused, since + timing.pausing)
                }
                Phase::Resuming if now >= since + timing.resuming => {
                    self.enter(Phase::Running, since + timing.resuming)
                }
                _ => return,
            }
        }
    }

    /// Migration work done at `now` (after [`Timeline::advance`]).
    pub(crate) fn work_at(&self, now: u64, timing: &Timing) -> u64 {
        if self.phase == Phase::Running {
            (self.work_ms + now.saturating_sub(self.since_ms)).min(timing.migrating)
        } else {
            self.work_ms
        }
    }

    /// Starts a check, deciding now whether it will fail.
    pub(crate) fn start_check(&mut self, now: u64, rule: Option<&FaultRule>) {
        let failure = rule
            .and_then(|rule| rule.check_fail.as_ref())
            .filter(|fail| fail.times.is_none_or(|times| self.checks_failed < times));
        self.check = CheckRecord {
            started_ms: Some(now),
            finished_ms: None,
            failure: failure.map(|fail| CheckFailureInfo {
                message: fail
                    .message
                    .clone()
                    .unwrap_or_else(|| default_check_message().to_owned()),
                step: fail
                    .step
                    .clone()
                    .unwrap_or_else(|| "DstEmptyCheck".to_owned()),
            }),
        };
        self.updated_ms = now;
        self.enter(Phase::Checking, now);
    }

    /// Forgets a finished check (a modification requires a new one).
    pub(crate) fn reset_check(&mut self) {
        self.check = CheckRecord::default();
    }

    /// Plans the failure of the next migration attempt from the job's fault rule.
    fn plan_failure(&mut self, rule: Option<&FaultRule>, total: u64) {
        self.fail_at_work_ms = None;
        let Some(rule) = rule else { return };
        let Some((percent, count)) = rule.migration_failures() else {
            return;
        };
        if self.failures >= count {
            return;
        }
        // Attempt k of n fails at p + (100 - p) * k / n percent, so resumed jobs keep moving.
        let percent = u64::from(percent);
        let point = percent + (100 - percent) * u64::from(self.failures) / u64::from(count);
        let fail_at = (total * point / 100).max(self.work_ms);
        self.fail_at_work_ms = Some(fail_at);
        self.failure_kind = rule.failure;
        self.failure_message.clone_from(&rule.error_message);
    }

    /// Starts a migration from scratch (timed jobs wait until `expect_run_ms`).
    pub(crate) fn start(
        &mut self,
        now: u64,
        incremental: bool,
        expect_run_ms: Option<u64>,
        rule: Option<&FaultRule>,
        timing: &Timing,
    ) {
        self.work_ms = 0;
        self.incremental = incremental;
        self.step_started_ms = [None; 3];
        self.last_error = None;
        self.ended_ms = None;
        self.started_ms = Some(now);
        self.plan_failure(rule, timing.migrating);
        self.updated_ms = now;
        match expect_run_ms.filter(|at| *at > now) {
            Some(at) => {
                self.expect_run_ms = Some(at);
                self.enter(Phase::ReadyRun, now);
            }
            None => {
                self.expect_run_ms = None;
                self.enter(Phase::Running, now);
            }
        }
    }

    /// Freezes the work done and starts pausing.
    pub(crate) fn pause(&mut self, now: u64, timing: &Timing) {
        self.work_ms = self.work_at(now, timing);
        self.updated_ms = now;
        self.enter(Phase::Pausing, now);
    }

    /// Continues a paused job.
    pub(crate) fn continue_running(&mut self, now: u64) {
        self.updated_ms = now;
        self.enter(Phase::Running, now);
    }

    /// Resumes a failed attempt where it stopped.
    pub(crate) fn resume(&mut self, now: u64, rule: Option<&FaultRule>, timing: &Timing) {
        self.ended_ms = None;
        self.plan_failure(rule, timing.migrating);
        self.updated_ms = now;
        self.enter(Phase::Resuming, now);
    }

    /// Starts stopping (the work done so far is kept for display).
    pub(crate) fn stop(&mut self, now: u64, timing: &Timing) {
        self.work_ms = self.work_at(now, timing);
        self.fail_at_work_ms = None;
        self.updated_ms = now;
        self.enter(Phase::Stopping, now);
    }

    /// Moves to `phase` now because of an API call.
    pub(crate) fn set(&mut self, phase: Phase, now: u64) {
        self.updated_ms = now;
        self.enter(phase, now);
    }

    /// Overall progress in percent, and the index of the current step with its percent.
    pub(crate) fn progress(&self, now: u64, timing: &Timing) -> Progress {
        let total = timing.migrating;
        let work = self.work_at(now, timing);
        let half = (total / 2).max(1);
        let steps = if self.incremental { 3 } else { 2 };
        let step_percent = |index: usize| -> u64 {
            match index {
                0 => (work.min(half) * 100 / half).min(100),
                1 => (work.saturating_sub(half) * 100 / (total - half).max(1)).min(100),
                _ => 0,
            }
        };
        let started = self.started_ms.is_some() && !matches!(self.phase, Phase::ReadyRun);
        let current = if !started || work < half {
            0
        } else if work < total || !self.incremental {
            1
        } else {
            2
        };
        Progress {
            overall: work * 100 / total.max(1),
            steps,
            current,
            started,
            step_percent: [step_percent(0), step_percent(1), step_percent(2)],
        }
    }
}

/// A snapshot of a job's migration progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    pub(crate) overall: u64,
    pub(crate) steps: usize,
    pub(crate) current: usize,
    pub(crate) started: bool,
    pub(crate) step_percent: [u64; 3],
}

/// What a step looks like at some point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepState {
    NotStarted,
    Running,
    Done,
    Failed,
}

impl Timeline {
    /// The state of step `index` given the progress.
    pub(crate) fn step_state(&self, index: usize, progress: &Progress) -> StepState {
        if !progress.started {
            return StepState::NotStarted;
        }
        let finished = matches!(self.phase, Phase::Success);
        let interrupted = matches!(
            self.phase,
            Phase::Failed | Phase::Canceled | Phase::ResumableErr | Phase::Stopping
        );
        if finished {
            return StepState::Done;
        }
        match index.cmp(&progress.current) {
            std::cmp::Ordering::Less => StepState::Done,
            std::cmp::Ordering::Greater => StepState::NotStarted,
            std::cmp::Ordering::Equal if interrupted => StepState::Failed,
            std::cmp::Ordering::Equal => {
                if index < 2 && progress.step_percent[index] >= 100 {
                    StepState::Done
                } else {
                    StepState::Running
                }
            }
        }
    }
}

/// Default text of an injected check failure.
pub(crate) fn default_check_message() -> &'static str {
    "目标实例中存在与源实例同名的库表 (the target instance already has databases or tables with the same names as the source; injected by the migspec emulator)"
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::PhaseDurations;

    fn timing() -> Timing {
        Timing::new(&PhaseDurations::uniform(Duration::from_millis(100)), 1.0)
    }

    #[test]
    fn check_then_incremental_migration_reaches_ready_complete() {
        let timing = timing();
        let mut job = Timeline::new(Phase::Created, 0);
        job.start_check(0, None);
        job.advance(99, &timing, Api::V2018);
        assert_eq!(job.phase, Phase::Checking);
        job.advance(100, &timing, Api::V2018);
        assert_eq!(job.phase, Phase::CheckPass);
        job.start(150, true, None, None, &timing);
        job.advance(200, &timing, Api::V2018);
        assert_eq!(job.phase, Phase::Running);
        assert_eq!(job.progress(200, &timing).overall, 50);
        assert_eq!(job.step_started_ms, [Some(150), Some(200), None]);
        job.advance(1_000, &timing, Api::V2018);
        assert_eq!(job.phase, Phase::ReadyComplete);
        assert_eq!(job.since_ms, 250);
        assert_eq!(job.step_started_ms[2], Some(250));
    }

    #[test]
    fn failures_at_percent_then_resumes() {
        let timing = timing();
        let rule = FaultRule::matching("*").fail_at(40).resumes_needed(2);
        let mut job = Timeline::new(Phase::CheckPass, 0);
        job.start(0, false, None, Some(&rule), &timing);
        job.advance(1_000, &timing, Api::V2021);
        assert_eq!(job.phase, Phase::ResumableErr);
        assert_eq!(job.since_ms, 40);
        assert_eq!(job.work_ms, 40);
        job.resume(1_000, Some(&rule), &timing);
        // Second attempt fails at 40 + 60 * 1 / 2 = 70 %.
        job.advance(10_000, &timing, Api::V2021);
        assert_eq!(job.phase, Phase::ResumableErr);
        assert_eq!(job.work_ms, 70);
        job.resume(10_000, Some(&rule), &timing);
        job.advance(20_000, &timing, Api::V2021);
        assert_eq!(job.phase, Phase::Success);
        assert_eq!(job.failures, 2);
        // 2018 reports the same failure as Failed.
        let mut old = Timeline::new(Phase::CheckPass, 0);
        old.start(0, false, None, Some(&rule), &timing);
        old.advance(1_000, &timing, Api::V2018);
        assert_eq!(old.phase.status_2018(), 10);
        assert!(old.last_error.is_some());
    }

    #[test]
    fn timed_jobs_wait_in_ready_run() {
        let timing = timing();
        let mut job = Timeline::new(Phase::CheckPass, 0);
        job.start(0, false, Some(5_000), None, &timing);
        job.advance(4_999, &timing, Api::V2018);
        assert_eq!(job.phase.status_2018(), 6);
        job.advance(5_050, &timing, Api::V2018);
        assert_eq!(job.phase, Phase::Running);
        assert_eq!(job.started_ms, Some(5_000));
    }

    #[test]
    fn pause_freezes_work() {
        let timing = timing();
        let mut job = Timeline::new(Phase::CheckPass, 0);
        job.start(0, true, None, None, &timing);
        job.pause(30, &timing);
        job.advance(1_000, &timing, Api::V2021);
        assert_eq!(job.phase, Phase::ManualPaused);
        assert_eq!(job.work_ms, 30);
        job.continue_running(2_000);
        job.advance(2_050, &timing, Api::V2021);
        assert_eq!(job.progress(2_050, &timing).overall, 80);
    }
}
