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
            duration_secs: (run.elapsed_secs(), sync.converged_duration.as_secs()),
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

/// Predicted downtime (freeze to DNS in sync) from the last successful live run, if there is one.
///
/// The final sync re-scans like the last incremental and moves a similar delta. If the final verification is
/// POINT_IN_TIME_CONSISTENT while live runs verified less, it re-reads every file: we budget the initial
/// sync's transfer time for that read-back (an assumption, stated in `status`).
pub fn predicted_downtime(intent: &Intent, cp: &Checkpoint) -> Option<Duration> {
    let last = cp
        .last_success(SyncKind::Incremental)
        .or_else(|| cp.last_success(SyncKind::Initial))?;
    let d = &last.durations;
    let mut ms = d.prepare_ms + d.transfer_ms + d.verify_ms;
    if last.kind == SyncKind::Initial {
        // No incremental yet: the delta is unknown, budget the scan only.
        ms = d.prepare_ms;
    }
    let full_verify = intent.transfer.verify_mode_final == VerifyMode::PointInTimeConsistent
        && intent.transfer.verify_mode_live != VerifyMode::PointInTimeConsistent;
    if full_verify && let Some(initial) = cp.last_success(SyncKind::Initial) {
        ms += initial.durations.transfer_ms;
    }
    Some(Duration(ms / 1000 + DNS_PROPAGATION_SECS))
}
