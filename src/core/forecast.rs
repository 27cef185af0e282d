//! Predictions from measured history: is the delta small enough, and how long will users be frozen?
//!
//! DataSync's PREPARING phase scans both file systems on every run, so an incremental's duration is not
//! proportional to the bytes changed; the measured phase durations of the last incremental are the best
//! forecast of the final sync (peers-and-pain-points §3.1).

use jiff::Timestamp;
use serde::Serialize;

use super::lane::{after, predicted_run};
use crate::cloud::model::{SyncKind, VerifyMode};
use crate::plan::units::Duration;
use crate::plan::{Checkpoint, Intent, Phase, SyncRecord};

/// Route 53 propagation we budget for after the UPSERT ("generally within 60 seconds").
pub const DNS_PROPAGATION_SECS: u64 = 60;

/// Why the last incremental did or did not converge, threshold by threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Convergence {
    pub changed_files: (u64, u64),
    pub changed_bytes: (u64, u64),
    pub duration_secs: (u64, u64),
}

impl Convergence {
    pub fn of(intent: &Intent, run: &SyncRecord) -> Convergence {
        let sync = &intent.sync;
        Convergence {
            changed_files: (run.counters.files_transferred, sync.converged_changed_files),
            changed_bytes: (run.counters.bytes_transferred, sync.converged_changed_bytes.0),
            duration_secs: (run.run_secs(), sync.converged_duration.as_secs()),
        }
    }

    /// All three measures are under their thresholds.
    pub fn converged(&self) -> bool {
        self.changed_files.0 < self.changed_files.1
            && self.changed_bytes.0 < self.changed_bytes.1
            && self.duration_secs.0 < self.duration_secs.1
    }

    /// The measures still over their thresholds, for messages.
    pub fn misses(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.changed_files.0 >= self.changed_files.1 {
            out.push(format!(
                "{} files changed (threshold {})",
                self.changed_files.0, self.changed_files.1
            ));
        }
        if self.changed_bytes.0 >= self.changed_bytes.1 {
            out.push(format!(
                "{} changed (threshold {})",
                crate::plan::units::Bytes(self.changed_bytes.0),
                crate::plan::units::Bytes(self.changed_bytes.1)
            ));
        }
        if self.duration_secs.0 >= self.duration_secs.1 {
            out.push(format!(
                "took {} (threshold {})",
                Duration(self.duration_secs.0),
                Duration(self.duration_secs.1)
            ));
        }
        out
    }
}

/// Predicted downtime users see: from the freeze until the last client resolves the new name.
///
/// Every lane's final sync starts at the freeze and re-scans like its last incremental, moving a similar
/// delta, so the slowest lane sets the pace (launch included: DataSync's total duration). If the final
/// verification is POINT_IN_TIME_CONSISTENT while live runs verified less, it re-reads every file: we budget
/// the lane's initial transfer time for that read-back (an assumption, stated in `status`). Then Route 53
/// propagation, then the TTL clients cached (the plan's once it was lowered ahead of time, else the record's).
/// The same definition as the simulator's `downtime_secs`.
pub fn predicted_downtime(intent: &Intent, cp: &Checkpoint) -> Option<Duration> {
    let full_verify = intent.transfer.verify_mode_final == VerifyMode::PointInTimeConsistent
        && intent.transfer.verify_mode_live != VerifyMode::PointInTimeConsistent;
    let lanes = &cp.forward.lanes;
    let slowest = lanes
        .iter()
        .map(|lane| {
            let last = lane
                .last_success(SyncKind::Incremental)
                .or_else(|| lane.last_success(SyncKind::Initial))?;
            let d = &last.durations;
            // Launch and listing do not depend on the delta; they are what the final sync pays in full. At the
            // freeze every lane lists at once, as in the initial round, but both sides: twice the initial
            // listing is the contended figure when incrementals ran staggered.
            let mut fixed = d.total_ms.saturating_sub(d.transfer_ms + d.verify_ms) / 1000;
            if last.kind != SyncKind::Initial
                && let Some(initial) = lane.last_success(SyncKind::Initial)
            {
                let launch = d
                    .total_ms
                    .saturating_sub(d.prepare_ms + d.transfer_ms + d.verify_ms)
                    / 1000;
                fixed = fixed.max(launch + 2 * initial.durations.prepare_ms / 1000);
            }
            let mut secs = match last.kind {
                // No incremental yet: the delta is unknown, budget the launch and the scan only.
                SyncKind::Initial => fixed,
                _ => fixed + delta_secs(lane, last),
            };
            if full_verify && let Some(initial) = lane.last_success(SyncKind::Initial) {
                secs += initial.durations.transfer_ms / 1000;
            }
            Some(secs)
        })
        .collect::<Option<Vec<u64>>>()?
        .into_iter()
        .max()?;
    // The lanes' final syncs are started one after another, at most one start per second.
    let starts = u64::try_from(lanes.len()).unwrap_or(0);
    Some(Duration(
        slowest + starts + DNS_PROPAGATION_SECS + cached_ttl(intent, cp),
    ))
}

/// The transfer and verification a final sync right after `last` would need: `last`'s own, scaled by how
/// long the final's delta accumulates (while `last` ran) against how long `last`'s delta did (since the sync
/// before it started). A long incremental that followed a longer one moved a bigger delta than the final will.
fn delta_secs(lane: &crate::plan::LaneState, last: &SyncRecord) -> u64 {
    let moved = (last.durations.transfer_ms + last.durations.verify_ms) / 1000;
    let before = lane
        .syncs
        .iter()
        .filter(|s| s.succeeded() && s.started_at < last.started_at)
        .map(|s| s.started_at)
        .max();
    let Some(before) = before else {
        return moved;
    };
    let own_window = (last.started_at - before).as_secs().max(1) as f64;
    let final_window = (last.ended_at - last.started_at).as_secs().max(0) as f64;
    let scale = (final_window / own_window).min(1.0);
    (moved as f64 * scale).ceil() as u64
}

/// The TTL clients hold the old answer for at the swap: the plan's once fsx-migrate lowered it ahead of
/// time, else the record's own TTL as last seen (the plan's when unknown).
pub fn cached_ttl(intent: &Intent, cp: &Checkpoint) -> u64 {
    let plan = intent.dns.ttl;
    match (&cp.ttl_lowered_at, &cp.dns_original_record) {
        (Some(_), _) => plan,
        (None, Some(record)) => record.ttl.unwrap_or(plan).max(plan),
        (None, None) => plan,
    }
}

/// What the operator needs to know about the cutover from the history so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predictions {
    /// Successful incremental runs of the lane that ran the most.
    pub incremental_runs: u32,
    /// Every lane's last incremental is under every threshold (None before every lane ran one).
    pub converged: Option<bool>,
    pub still_over: Vec<String>,
    /// Client-perceived downtime: freeze until the last client resolves the new name.
    pub predicted_downtime_secs: Option<u64>,
    /// Measured the same way once the swap is in sync: freeze to INSYNC plus the TTL clients cached.
    pub downtime_secs: Option<u64>,
    /// Freeze to Route 53 INSYNC.
    pub service_downtime_secs: Option<u64>,
}

pub fn predictions(intent: &Intent, cp: &Checkpoint) -> Predictions {
    let lanes = &cp.forward.lanes;
    let convergences: Vec<(String, Option<Convergence>)> = lanes
        .iter()
        .map(|l| {
            let last = l.last_success(SyncKind::Incremental);
            (l.name.clone(), last.map(|r| Convergence::of(intent, r)))
        })
        .collect();
    let converged = if lanes.is_empty() || convergences.iter().any(|(_, c)| c.is_none()) {
        None
    } else {
        Some(
            convergences
                .iter()
                .all(|(_, c)| c.as_ref().is_some_and(Convergence::converged)),
        )
    };
    let still_over = convergences
        .iter()
        .filter_map(|(name, c)| c.as_ref().map(|c| (name, c.misses())))
        .flat_map(|(name, misses)| misses.into_iter().map(move |m| format!("lane {name}: {m}")))
        .collect();
    let service = match (cp.frozen_at, cp.dns_insync_at) {
        (Some(f), Some(i)) => Some(super::lane::secs_between(f, i).as_secs()),
        _ => None,
    };
    Predictions {
        incremental_runs: lanes.iter().map(|l| l.incremental_successes()).max().unwrap_or(0),
        converged,
        still_over,
        predicted_downtime_secs: predicted_downtime(intent, cp).map(Duration::as_secs),
        downtime_secs: service.map(|s| s + cached_ttl(intent, cp)),
        service_downtime_secs: service,
    }
}

/// When the current phase and the cutover are predicted to end, from the checkpoint alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eta {
    /// The slowest running sync's predicted end (its request plus the lane's last run of the same kind), or
    /// DNS propagation after the swap; none when a running lane has nothing to go by (a first initial sync).
    pub phase_ends_at: Option<Timestamp>,
    /// When DNS is in sync: measured once it is, predicted after the freeze (the freeze plus the predicted
    /// downtime less the TTL clients cache).
    pub dns_in_sync_at: Option<Timestamp>,
}

pub fn eta(intent: &Intent, cp: &Checkpoint) -> Eta {
    let phase_ends_at = if cp.phase == Some(Phase::DnsWait) {
        cp.dns_requested_at
            .map(|at| after(at, Duration(DNS_PROPAGATION_SECS)))
    } else {
        let running: Vec<Option<Timestamp>> = cp
            .forward
            .lanes
            .iter()
            .filter_map(|lane| {
                let current = lane.current.as_ref()?;
                Some(predicted_run(lane, current.kind).map(|d| after(current.requested_at, d)))
            })
            .collect();
        running
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .and_then(|ends| ends.into_iter().max())
    };
    let dns_in_sync_at = cp.dns_insync_at.or_else(|| {
        let frozen = cp.frozen_at?;
        let downtime = predicted_downtime(intent, cp)?.as_secs();
        Some(after(
            frozen,
            Duration(downtime.saturating_sub(cached_ttl(intent, cp))),
        ))
    });
    Eta {
        phase_ends_at,
        dns_in_sync_at,
    }
}
