//! Predictions from measured history: is the delta small enough, and how long will users be frozen?
//!
//! DataSync's PREPARING phase scans both file systems on every run, so an incremental's duration is not
//! proportional to the bytes changed; the measured phase durations of the last incremental are the best
//! forecast of the final sync (peers-and-pain-points §3.1).

use crate::model::{SyncKind, VerifyMode};
use crate::plan::{Checkpoint, Intent, SyncRecord};
use crate::units::Duration;

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
                crate::units::Bytes(self.changed_bytes.0),
                crate::units::Bytes(self.changed_bytes.1)
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
            let mut secs = match last.kind {
                // No incremental yet: the delta is unknown, budget the launch and the scan only.
                SyncKind::Initial => {
                    let d = &last.durations;
                    (d.total_ms.saturating_sub(d.transfer_ms + d.verify_ms)) / 1000
                }
                _ => last.run_secs(),
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
