//! Who drives a plan and how its last run ended: a small JSON file beside the plan (`PLAN.run.json`).
//!
//! `status` must tell a live run from a dead one, and say what a stopped run waits for, from any terminal.
//! The plan's lock says whether a process holds the plan; this record, written atomically by that process
//! while it holds the lock — when it starts, every minute (the heartbeat), when it starts or stops asking a
//! question, and when it ends — says who it is and how it ended. It is kept out of the plan file so a
//! heartbeat never rewrites the checkpoint, and nothing decides from it: losing it loses only the explanation.
//! Its times are the ops box's wall clock (a simulated run's checkpoint keeps simulated time).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Failure, status_exit};
use crate::files::{resolve, write_atomically};

/// Where a migration stands, as `status` reports it (its exit code tells scripts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// `run` has not started on this plan.
    NotStarted,
    /// A process holds the plan's lock and drives it.
    Running,
    /// A person must answer or decide (see [`Waiting`]) before it goes on.
    WaitingForOperator,
    /// Not running and not waiting for a decision: interrupted, stopped on a condition to fix, or killed.
    Stopped,
    /// The migration completed.
    Done,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::NotStarted => "not_started",
            State::Running => "running",
            State::WaitingForOperator => "waiting_for_operator",
            State::Stopped => "stopped",
            State::Done => "done",
        }
    }

    /// `status`'s exit code for this state.
    pub fn exit_code(self) -> u8 {
        match self {
            State::Done => status_exit::DONE,
            State::Running => status_exit::RUNNING,
            State::WaitingForOperator => status_exit::WAITING,
            State::Stopped => status_exit::STOPPED,
            State::NotStarted => status_exit::NOT_STARTED,
        }
    }
}

/// What a person must answer or decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// Creating the billable target (`--yes` answers it).
    BillableConfirmation,
    /// Opening the cutover gate (`--yes` answers it).
    CutoverGate,
    /// A person freezes the source and confirms it.
    ManualFreeze,
    /// A freeze command may have run; a person says whether the source is frozen.
    FreezeOutcome,
    /// The incrementals did not converge: `--accept-delta` or `--more-incrementals`.
    DeltaDecision,
    /// The delete guard tripped: `--accept-deletes`.
    DeleteAcceptance,
    /// The final sync skipped files: `--accept-skipped`.
    SkippedAcceptance,
    /// Rolling back after the swap (`--yes` answers it).
    RollbackConfirmation,
    /// A person unfreezes the source at the end of a rollback and confirms it.
    ManualUnfreeze,
    /// Parked at the gate (postponed): `resume` continues.
    Resume,
    /// Aborting before the swap (`--yes` answers it).
    AbortConfirmation,
    /// Deleting what an aborted plan created (`--yes` answers it).
    DeleteResourcesConfirmation,
}

impl Waiting {
    pub fn describe(self) -> &'static str {
        match self {
            Waiting::BillableConfirmation => "the confirmation to create billable resources",
            Waiting::CutoverGate => "the cutover gate to be opened",
            Waiting::ManualFreeze => "a person to freeze the source and confirm it",
            Waiting::FreezeOutcome => "a person to say whether the freeze command froze the source",
            Waiting::DeltaDecision => {
                "a decision: freeze although the delta did not converge, or run more incrementals"
            }
            Waiting::DeleteAcceptance => {
                "the deletions that tripped the delete guard to be checked and accepted"
            }
            Waiting::SkippedAcceptance => "the skipped files to be closed, or accepted",
            Waiting::RollbackConfirmation => "the confirmation to roll back to the source",
            Waiting::ManualUnfreeze => "a person to unfreeze the source and confirm it",
            Waiting::Resume => "`resume`: the migration is parked at the cutover gate",
            Waiting::AbortConfirmation => "the confirmation to abort before the cutover",
            Waiting::DeleteResourcesConfirmation => {
                "the confirmation to delete what the aborted plan created"
            }
        }
    }
}

/// How a run ended, as it said before exiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnd {
    pub at: Timestamp,
    /// Done, waiting for an operator, or stopped.
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<Waiting>,
    /// What the run printed: the message, its causes, and the hints that name the command to continue.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

/// The process that drives (or drove) a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub host: String,
    pub pid: u32,
    /// `user@host`, as the checkpoint records approvals.
    pub operator: String,
    /// The global flags the run was started with (`--sim`, `--profile` …), for commands that continue it.
    #[serde(default)]
    pub flags: Vec<String>,
    pub started_at: Timestamp,
    /// Refreshed about every minute while the process lives.
    pub heartbeat_at: Timestamp,
    /// The question the run is asking on its terminal now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asking: Option<Waiting>,
    /// How the run ended; absent while it runs, or when it was killed before it could say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<RunEnd>,
}

impl RunRecord {
    /// The record beside the plan file itself (through a symlink, beside its target, like the lock).
    pub fn path_for(plan: &Path) -> PathBuf {
        let real = resolve(plan);
        let mut name = real.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".run.json");
        real.with_file_name(name)
    }

    /// The plan's record, if there is one that reads (a missing or damaged record only loses the explanation).
    pub fn load(plan: &Path) -> Option<RunRecord> {
        let text = std::fs::read_to_string(RunRecord::path_for(plan)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Replaces the plan's record atomically.
    pub fn save(&self, plan: &Path) -> Result<(), Failure> {
        let json = serde_json::to_string_pretty(self).expect("a run record serialises");
        write_atomically(&RunRecord::path_for(plan), json.as_bytes())
    }
}
