//! The running process's heartbeat: it keeps the plan's run record (`plan::run_record`) current — who runs
//! it, a fresh `heartbeat_at` every minute, the question it is asking on its terminal, and how it ended — so
//! `status` on any terminal can tell a live run from a dead one and say what a stopped run waits for.
//!
//! A heartbeat that cannot be written is logged and never stops the migration.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::core::{ConfirmKind, Halt};
use crate::engine::driver::Outcome;
use crate::error::Failure;
use crate::plan::run_record::{RunEnd, RunRecord, State, Waiting};

/// How often a live run refreshes `heartbeat_at`.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// The record of this process's run on one plan; clones share it.
#[derive(Clone)]
pub struct Heartbeat {
    plan: PathBuf,
    record: Arc<Mutex<RunRecord>>,
    /// Set when the run ended: the refresh stops, and never touches a record put back after it.
    stopped: Arc<AtomicBool>,
}

impl Heartbeat {
    /// Writes the record of a run that starts now, and refreshes it every [`INTERVAL`] until it ends.
    /// Call it only while holding the plan's lock.
    pub fn start(plan: PathBuf, operator: String, flags: Vec<String>) -> Heartbeat {
        let now = Timestamp::now();
        let record = RunRecord {
            host: host(),
            pid: std::process::id(),
            operator,
            flags,
            started_at: now,
            heartbeat_at: now,
            asking: None,
            ended: None,
        };
        let heartbeat = Heartbeat {
            plan,
            record: Arc::new(Mutex::new(record)),
            stopped: Arc::new(AtomicBool::new(false)),
        };
        heartbeat.write(|_| {});
        let beat = heartbeat.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(INTERVAL).await;
                if beat.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let mut ended = false;
                beat.write(|r| {
                    r.heartbeat_at = Timestamp::now();
                    ended = r.ended.is_some();
                });
                if ended {
                    return;
                }
            }
        });
        heartbeat
    }

    /// Like [`Heartbeat::start`], for a command that does not move the migration (`check`): its end puts
    /// back the record of the run before it, so `status` still says where the migration stands and what
    /// continues it.
    pub fn start_errand(
        plan: PathBuf,
        operator: String,
        flags: Vec<String>,
    ) -> (Heartbeat, Option<RunRecord>) {
        let before = RunRecord::load(&plan);
        (Heartbeat::start(plan, operator, flags), before)
    }

    /// The end of an errand: the run record as it was before it (none: the errand's own, ended).
    pub fn end_errand(
        &self,
        before: Option<RunRecord>,
        outcome: Option<&Outcome>,
        result: &Result<String, Failure>,
    ) {
        self.stopped.store(true, Ordering::SeqCst);
        match before {
            Some(before) => self.write(|r| *r = before),
            None => self.end(outcome, result),
        }
    }

    /// The question the run is asking on its terminal now (none once answered); written when it changes.
    pub fn asking(&self, kind: Option<ConfirmKind>) {
        let asking = kind.map(waiting_for_answer);
        if self.record.lock().expect("run record lock").asking != asking {
            self.write(|r| r.asking = asking);
        }
    }

    /// Records how the run ended: what it printed, and whether it is done, waits for a person or stopped.
    pub fn end(&self, outcome: Option<&Outcome>, result: &Result<String, Failure>) {
        let (state, waiting_for) = match outcome.map(state_of) {
            Some(found) => found,
            None => (State::Stopped, None),
        };
        let (message, causes, hints) = match result {
            Ok(message) => (message.trim_end().to_string(), Vec::new(), Vec::new()),
            Err(f) => (f.message.clone(), f.causes.clone(), f.hints.clone()),
        };
        self.write(|r| {
            r.asking = None;
            r.heartbeat_at = Timestamp::now();
            r.ended = Some(RunEnd {
                at: Timestamp::now(),
                state,
                waiting_for,
                message,
                causes,
                hints,
            });
        });
    }

    fn write(&self, change: impl FnOnce(&mut RunRecord)) {
        let mut record = self.record.lock().expect("run record lock");
        change(&mut record);
        if let Err(e) = record.save(&self.plan) {
            tracing::warn!("the run record (status's heartbeat) was not written: {e}");
        }
    }
}

/// What a drive's outcome leaves the plan waiting for.
fn state_of(outcome: &Outcome) -> (State, Option<Waiting>) {
    let waiting = |w| (State::WaitingForOperator, Some(w));
    match outcome {
        Outcome::Halted(Halt::Completed | Halt::RolledBack | Halt::Aborted) => (State::Done, None),
        Outcome::NeedsOperator(c) => waiting(waiting_for_answer(c.kind)),
        Outcome::Halted(Halt::Declined(kind)) => waiting(waiting_for_answer(*kind)),
        Outcome::Halted(Halt::NotConverged { .. }) => waiting(Waiting::DeltaDecision),
        Outcome::Halted(Halt::DeleteGuard { .. }) => waiting(Waiting::DeleteAcceptance),
        Outcome::Halted(Halt::SkippedFiles { .. }) => waiting(Waiting::SkippedAcceptance),
        Outcome::Halted(Halt::Parked { .. }) => waiting(Waiting::Resume),
        Outcome::Halted(Halt::OverBudget { .. }) => waiting(Waiting::DeltaDecision),
        _ => (State::Stopped, None),
    }
}

fn waiting_for_answer(kind: ConfirmKind) -> Waiting {
    match kind {
        ConfirmKind::Billable => Waiting::BillableConfirmation,
        ConfirmKind::Gate => Waiting::CutoverGate,
        ConfirmKind::ManualFreeze => Waiting::ManualFreeze,
        ConfirmKind::FreezeOutcomeUnknown => Waiting::FreezeOutcome,
        ConfirmKind::Rollback => Waiting::RollbackConfirmation,
        ConfirmKind::Abort => Waiting::AbortConfirmation,
        ConfirmKind::DeleteResources => Waiting::DeleteResourcesConfirmation,
        ConfirmKind::ManualUnfreeze => Waiting::ManualUnfreeze,
    }
}

/// This machine's host name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}
