//! Lanes: the partition of the share into DataSync tasks, and the rules one lane follows on its own.
//!
//! A lane is one task over one partition (its Includes filter names its folders; the rest lane excludes
//! them all). The phase machine drives every lane of a leg the way an endpoint drives its connections: each
//! lane says what it needs now (a call, or nothing before a deadline), the machine serves the first lane that
//! needs a call and sleeps until the earliest deadline otherwise. Everything here is pure.

use jiff::{SignedDuration, Timestamp};

use crate::cloud::model::SyncKind;
use crate::cloud::port::{ExecutionCandidate, PLAN_TAG, SYNC_TAG};
use crate::plan::checkpoint::{CurrentSync, LaneState};
use crate::plan::intent::{Intent, REST_LANE, WHOLE_SHARE_LANE};
use crate::plan::units::Duration;

/// How far DataSync's StartTime may be before our write-ahead `requested_at` and still be ours: the ops
/// box's clock and AWS's may disagree a little. The per-request sync tag is the primary proof.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::mins(5);
/// The longest wait between two polls of a running execution, however long it is predicted to run.
pub const MAX_POLL: Duration = Duration::mins(30);
/// The fastest a final sync is polled: users wait for it.
pub const FINAL_POLL: Duration = Duration::secs(5);

/// One lane's task as the plan defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneTask {
    pub name: String,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
}

/// The lanes of a plan, in order: one `all` lane without a partition; else each lane of the partition and
/// the rest lane, which excludes every lane's folders so every file is in exactly one lane.
pub fn lane_tasks(intent: &Intent) -> Vec<LaneTask> {
    let tr = &intent.transfer;
    if tr.lanes.is_empty() {
        return vec![LaneTask {
            name: WHOLE_SHARE_LANE.to_string(),
            includes: Vec::new(),
            excludes: tr.excludes.clone(),
        }];
    }
    let mut tasks: Vec<LaneTask> = tr
        .lanes
        .iter()
        .map(|lane| LaneTask {
            name: lane.name.clone(),
            includes: lane.includes.clone(),
            excludes: tr.excludes.clone(),
        })
        .collect();
    let mut rest_excludes = tr.excludes.clone();
    rest_excludes.extend(tr.lanes.iter().flat_map(|l| l.includes.iter().cloned()));
    tasks.push(LaneTask {
        name: REST_LANE.to_string(),
        includes: Vec::new(),
        excludes: rest_excludes,
    });
    tasks
}

/// What to do with the executions a task has that the checkpoint does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionChoice {
    /// This one was started for the current request: watch it.
    Adopt(String),
    /// This one is not ours but still runs: starting another now would queue behind it or fail.
    WaitFor(String),
    /// Nothing is ours and nothing runs: start one.
    Start,
}

/// The one rule for adopting an execution, whichever adapter found it: it carries this plan's tag and the
/// request's sync tag, and DataSync started it after the request was recorded (less a clock-skew allowance).
/// An old finished execution — a plan regenerated with the same id, a restored plan file, a lost checkpoint
/// — is never counted as this request's sync.
pub fn choose_execution(
    candidates: &[ExecutionCandidate],
    request: &CurrentSync,
    plan_id: &str,
) -> ExecutionChoice {
    let earliest = before(request.requested_at, CLOCK_SKEW_ALLOWANCE);
    let sync_id = request.sync_id();
    let ours = candidates.iter().find(|c| {
        c.tags.get(PLAN_TAG).map(String::as_str) == Some(plan_id)
            && c.tags.get(SYNC_TAG) == Some(&sync_id)
            && c.started_at.is_some_and(|t| t >= earliest)
    });
    if let Some(ours) = ours {
        return ExecutionChoice::Adopt(ours.arn.clone());
    }
    match candidates.iter().find(|c| !c.status.is_terminal()) {
        Some(running) => ExecutionChoice::WaitFor(running.arn.clone()),
        None => ExecutionChoice::Start,
    }
}

/// When to look at a running execution again: a fraction of its predicted remaining time, bounded, so a
/// nine-hour initial sync costs a few dozen calls and a final sync is seen ending within seconds.
///
/// `predicted` is how long the lane's previous run of the same kind took (none, or overrun: a quarter of the
/// elapsed time, which backs off geometrically and overshoots the end by at most a quarter). `lanes` spaces the polls so that all lanes together stay under one call
/// per second.
pub fn next_poll(
    kind: SyncKind,
    elapsed: Duration,
    predicted: Option<Duration>,
    poll_interval: Duration,
    lanes: usize,
) -> Duration {
    let spacing = Duration(u64::try_from(lanes).unwrap_or(u64::MAX).saturating_add(1));
    if matches!(kind, SyncKind::Final | SyncKind::Reverse | SyncKind::Check) {
        let floor = FINAL_POLL.max(spacing);
        let remaining = predicted.map(|p| p.as_secs().saturating_sub(elapsed.as_secs()) / 3);
        return Duration(remaining.unwrap_or(0)).clamp(floor, poll_interval.max(floor));
    }
    let floor = poll_interval.max(spacing);
    let wait = match predicted {
        Some(p) if p.as_secs() > elapsed.as_secs() => (p.as_secs() - elapsed.as_secs()) / 3,
        _ => elapsed.as_secs() / 4,
    };
    Duration(wait).clamp(floor, MAX_POLL.max(floor))
}

/// How long the lane's last successful run of `kind` took, the forecast of the next one.
pub fn predicted_run(lane: &LaneState, kind: SyncKind) -> Option<Duration> {
    let last = match kind {
        SyncKind::Initial => lane.last_success(SyncKind::Initial),
        SyncKind::Check => None,
        SyncKind::Incremental | SyncKind::Final | SyncKind::Reverse => lane
            .last_success(SyncKind::Incremental)
            .or_else(|| lane.last_success(SyncKind::Final)),
    }?;
    Some(Duration(last.elapsed_secs()))
}

/// `at` plus `d`.
pub fn after(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_add(SignedDuration::from_secs(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
    ))
    .unwrap_or(at)
}

/// `at` minus `d`.
pub fn before(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_sub(SignedDuration::from_secs(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
    ))
    .unwrap_or(at)
}

/// Whole seconds from `from` to `to` (0 if `to` is earlier).
pub fn secs_between(from: Timestamp, to: Timestamp) -> Duration {
    Duration(u64::try_from((to - from).as_secs()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_with_the_remaining_time_and_stay_bounded() {
        let p = Duration::secs(30);
        // Nine hours predicted, just started: a third of the remaining time, capped.
        assert_eq!(
            next_poll(SyncKind::Initial, Duration(0), Some(Duration::hours(9)), p, 1),
            MAX_POLL
        );
        // Nothing predicted: a quarter of the elapsed time, at least the poll interval.
        assert_eq!(next_poll(SyncKind::Initial, Duration(10), None, p, 1), p);
        assert_eq!(
            next_poll(SyncKind::Initial, Duration::mins(20), None, p, 1),
            Duration::mins(5)
        );
        // A final sync is watched closely, but 24 lanes together stay under one call per second.
        assert_eq!(next_poll(SyncKind::Final, Duration(0), None, p, 1), FINAL_POLL);
        assert_eq!(next_poll(SyncKind::Final, Duration(0), None, p, 24), Duration(25));
        assert_eq!(
            next_poll(SyncKind::Final, Duration(0), Some(Duration::mins(5)), p, 1),
            p
        );
    }
}
