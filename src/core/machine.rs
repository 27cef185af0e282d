//! The migration state machine: a pure function from (intent, checkpoint, input, now) to the next
//! checkpoint and the one action to take.
//!
//! It does no I/O and cannot fail on the network. The driver persists the returned checkpoint *before*
//! carrying out the action (write-ahead), so every side effect's intent is on disk before it happens.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::forecast::{Convergence, predicted_downtime};
use super::lane::{
    ExecutionChoice, LaneTask, after, choose_execution, lane_tasks, next_poll, predicted_run, secs_between,
};
use super::preflight::{self, Finding, Severity};
use super::service::{keep_writer, setting_differences, share_differences, to_apply, uncovered_shares};

mod aliases;
mod check;

use crate::cloud::model::{
    ChangeStatus, DeploymentType, ExecutionInfo, FileSystemInfo, Lifecycle, LogLevel, Side, SyncKind,
};
use crate::cloud::port::PowerShellRequest;
use crate::cloud::port::{
    CloudError, Command, CreateLocationRequest, CreateTargetRequest, CreateTaskRequest, Environment,
    ErrorClass, ExecutionCandidate, FROZEN_TAG, LANE_TAG, LEG_TAG, MigrationResource,
    NON_IDEMPOTENT_OPERATIONS, PLAN_TAG, PreserveDeletedFiles, REVERSE_LEG, ResourceKind, Response, SIDE_TAG,
    SOURCE_TAG, SYNC_TAG, StartExecutionRequest, TaskOptions, TransferMode, UpsertCnameRequest,
};
use crate::cloud::windows::{
    ApplyResult, FreezeResult, ScriptCall, ServiceExport, UnfreezeResult, WindowsScript, parse_result,
};
use crate::plan::checkpoint::{
    Abort, AliasMove, CHECKPOINT_SCHEMA, Deletion, GuardTrip, LaneState, PowerShellRun, Rollback, SharesCopy,
};
use crate::plan::intent::{FreezeKind, changed_fields};
use crate::plan::units::Duration;
use crate::plan::window::{WindowState, local, next_opening, window_state};
use crate::plan::{Checkpoint, CurrentSync, Intent, Leg, Phase, PhaseEntry, SyncRecord};
pub use check::{CheckRefusal, PROBE_NAME, check_probes, check_refusal};

/// How often to poll a file system that is being created.
pub const TARGET_POLL: Duration = Duration::secs(60);
/// How often to poll a Route 53 change.
pub const DNS_POLL: Duration = Duration::secs(10);
/// How often a PowerShell script running through SSM is looked at.
pub const POWERSHELL_POLL: Duration = Duration::secs(5);
/// How often a deletion looks whether the executions it cancelled ended.
pub const CANCEL_POLL: Duration = Duration::secs(15);
/// How often a deletion looks whether FSx finished deleting a file system (or creating one it must delete).
pub const DELETE_POLL: Duration = Duration::secs(60);
/// How long to wait after a create whose outcome is unknown (a timeout) before looking it up by tag:
/// DataSync's List calls may not show a resource the moment it is created.
pub const UNKNOWN_OUTCOME_WAIT: Duration = Duration::secs(30);
/// How long a freeze or unfreeze command may run when the plan does not say (`cutover.command_timeout`).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::mins(10);

/// Operator decisions for this run that are not intent (they do not change the plan's hash).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Stop before entering this phase.
    pub until: Option<Phase>,
    /// Freeze although the incrementals did not converge.
    pub accept_delta: bool,
    /// Allow this many incremental runs beyond `max_incremental_runs`.
    pub more_incrementals: u32,
    /// Swap DNS although the final sync removed more files than `max_final_deletes` (only once it tripped).
    pub accept_deletes: bool,
    /// Swap DNS although the final sync, run twice after the freeze, still skipped files (only once seen).
    pub accept_skipped: bool,
    /// Who runs this (`user@host`), recorded with every acceptance.
    pub operator: String,
    /// Roll back a migration whose DNS swap was sent (`fsx-migrate rollback`).
    pub rollback: bool,
    /// The operator checked that the file system being frozen is frozen: answers the manual freeze and the
    /// "did the freeze command run?" question (`--yes` never does).
    pub confirm_frozen: bool,
    /// The same for the source's unfreeze at the end of a rollback.
    pub confirm_unfrozen: bool,
    /// Back out before the swap (`fsx-migrate abort`).
    pub abort: bool,
    /// With the abort, delete what this plan created: tasks, locations, target (`abort --delete-resources`).
    pub delete_resources: bool,
    /// Park at the gate: the postpone flag file exists (the driver looks before each step).
    pub postpone_requested: bool,
    /// `resume`: un-park a plan parked at the gate.
    pub unpark: bool,
    /// `fsx-migrate check`: only the check (see `machine/check.rs`); no phase moves.
    pub check: bool,
    /// `check`: the folders of the source's shares (read with export.ps1 just before), probed too.
    pub check_share_folders: Vec<String>,
}

/// What happened since the last step.
#[allow(clippy::large_enum_variant)] // one per step
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A run (process) starts or resumes: decide from the checkpoint alone.
    Start,
    /// A sleep ended.
    Woke,
    /// The answer to the last [`Action::Call`].
    Response(Response),
    /// The last call failed (after the driver's retries of retryable errors).
    Failed(CloudError),
    /// The operator's answer to the last [`Action::Confirm`].
    Confirmed(bool),
    /// The operator command's outcome: `Err` carries its exit status (or timeout) and output tail.
    CommandFinished(Result<(), String>),
}

/// What the driver must do next. Exactly one per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Call(Command),
    /// Nothing to do before `at` (an absolute deadline: a resumed run keeps it).
    WaitUntil {
        at: Timestamp,
        reason: String,
    },
    Confirm(Confirmation),
    RunCommand(OperatorCommand),
    Halt(Halt),
}

/// A command from the plan (`freeze_command`, `unfreeze_command`) with the context it gets as environment
/// variables (`FSX_MIGRATE_*`) and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCommand {
    /// `freeze` or `unfreeze`.
    pub purpose: &'static str,
    pub command: String,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmKind {
    /// Before creating billable resources; `--yes` answers it.
    Billable,
    /// The cutover gate before the freeze; `--yes` answers it.
    Gate,
    /// The operator freezes the source by hand; needs a person.
    ManualFreeze,
    /// A freeze or unfreeze command started but its result was not recorded; needs a person.
    FreezeOutcomeUnknown,
    /// Roll back after the swap; `--yes` answers it.
    Rollback,
    /// Abort before the swap; `--yes` answers it.
    Abort,
    /// Delete what an aborted plan created (`abort --delete-resources`); `--yes` answers it.
    DeleteResources,
    /// The operator unfreezes the source by hand at the end of a rollback (or says whether the unfreeze
    /// command did); needs a person.
    ManualUnfreeze,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub kind: ConfirmKind,
    pub question: String,
    pub details: Vec<String>,
}

/// Why the run stops.
#[derive(Debug, Clone, PartialEq)]
pub enum Halt {
    Completed,
    /// The rollback is complete: the record points at the source again and the source takes writes.
    RolledBack,
    /// The abort is complete: the source takes writes, the record is as it was before the migration.
    Aborted,
    /// `abort` after the DNS swap was sent: `rollback` is the way back.
    SwappedAlready(Phase),
    /// `rollback` on a plan whose DNS swap was never sent: there is nothing to roll back (`abort` is the
    /// way out before the swap).
    NothingToRollBack(Phase),
    /// Parked at the gate (postponed): not a failure; `resume` continues.
    Parked {
        since: Timestamp,
        by: String,
        reason: String,
    },
    /// No cutover window is set and the predicted downtime users would see is over `cutover.max_downtime`.
    OverBudget {
        predicted: Duration,
        budget: Duration,
    },
    UntilReached(Phase),
    /// `--until PHASE` on a plan already at or past PHASE: nothing was done.
    AlreadyAt {
        until: Phase,
        phase: Phase,
    },
    IntentChanged(Vec<String>),
    PreflightFailed(Vec<Finding>),
    Declined(ConfirmKind),
    TargetFailed {
        lifecycle: Lifecycle,
        message: Option<String>,
    },
    NotConverged {
        lane: String,
        runs: u32,
        misses: Vec<String>,
        predicted_downtime: Option<Duration>,
    },
    ExecutionFailed {
        lane: String,
        kind: SyncKind,
        attempts: u32,
        code: Option<String>,
        detail: Option<String>,
    },
    FreezeFailed(String),
    /// The source's shares and settings could not be copied to the target, or the target's do not match:
    /// stopped before the cutover gate, nothing frozen.
    SharesNotCopied(Vec<String>),
    /// The DNS aliases could not be moved (FSx refused or failed, or their SPNs could not be moved): the
    /// record itself was already swapped (or swapped back); the next run goes on from the failed step.
    AliasMoveFailed(String),
    DeleteGuard {
        deleted: u64,
        limit: u64,
    },
    /// The final sync still skipped files after running again with the source frozen.
    SkippedFiles {
        lane: String,
        skipped: u64,
        execution_arn: String,
        log_group_arn: Option<String>,
    },
    /// An irreversible step's preconditions do not hold in the world or the checkpoint.
    PreconditionFailed {
        step: IrreversibleStep,
        problems: Vec<String>,
    },
    CloudFailed {
        phase: Phase,
        error: CloudError,
    },
    /// `check`: the execution on the probes succeeded: DataSync reached both shares with the plan's user.
    Checked,
    /// `check`: the execution on the probes ended in ERROR.
    CheckFailed {
        lane: String,
        execution_arn: String,
        code: Option<String>,
        detail: Option<String>,
    },
    /// `check` did nothing.
    CheckRefused(CheckRefusal),
    /// A bug: an answer that does not fit the phase.
    Unexpected {
        phase: Phase,
        input: String,
    },
}

/// The steps that cannot be taken back; each re-checks its preconditions from observation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrreversibleStep {
    CreateTarget,
    CreateTasks,
    LowerTtl,
    Freeze,
    FinalSync,
    DnsSwap,
    FreezeTarget,
    SwapBack,
    DeleteTarget,
}

impl std::fmt::Display for IrreversibleStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CreateTarget => "creating the target",
            Self::CreateTasks => "creating the DataSync tasks",
            Self::LowerTtl => "lowering the record's TTL",
            Self::Freeze => "freezing the source",
            Self::FinalSync => "starting the final sync",
            Self::DnsSwap => "swapping DNS",
            Self::FreezeTarget => "freezing the target for a rollback",
            Self::SwapBack => "swapping DNS back to the source",
            Self::DeleteTarget => "deleting the target file system",
        })
    }
}

/// Things worth telling the operator; they drive progress bars and logs, and change nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    PhaseEntered(Phase),
    TargetLifecycle(Lifecycle),
    Execution {
        lane: String,
        kind: SyncKind,
        info: ExecutionInfo,
    },
    SyncFinished {
        lane: String,
        record: SyncRecord,
    },
    Finding(Finding),
    Note(String),
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub checkpoint: Checkpoint,
    pub action: Action,
    pub events: Vec<Event>,
}

/// Advances the migration by one step. Pure and total: every input in every phase gives an action.
pub fn step(
    intent: &Intent,
    checkpoint: &Checkpoint,
    input: Input,
    now: Timestamp,
    opts: &RunOptions,
) -> Step {
    let mut machine = Machine {
        intent,
        cp: checkpoint.clone(),
        now,
        opts,
        events: Vec::new(),
    };
    let action = machine.run(input);
    Step {
        checkpoint: machine.cp,
        action,
        events: machine.events,
    }
}

/// A round of syncs every lane takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    Initial,
    Incremental,
    /// One incremental on each lane whose delta went stale while the gate or the freeze waited.
    Refresh,
    Final,
    /// A rollback's copy back, on the reverse leg.
    Reverse,
}

impl Round {
    fn kind(self) -> SyncKind {
        match self {
            Round::Initial => SyncKind::Initial,
            Round::Incremental | Round::Refresh => SyncKind::Incremental,
            Round::Final => SyncKind::Final,
            Round::Reverse => SyncKind::Reverse,
        }
    }
}

/// The leg the current phase drives: the reverse one while a rollback copies back, else the forward one.
fn leg(cp: &Checkpoint) -> &Leg {
    match cp.phase() {
        Phase::ReverseSync => &cp.reverse,
        _ => &cp.forward,
    }
}

fn leg_mut(cp: &mut Checkpoint) -> &mut Leg {
    match cp.phase() {
        Phase::ReverseSync => &mut cp.reverse,
        _ => &mut cp.forward,
    }
}

/// What an idle lane needs in a round.
#[allow(clippy::large_enum_variant)] // one per lane per step, like Flow
enum Want {
    /// A run: record the request and start (or find) it.
    Run,
    /// Nothing before this time (a pause between runs).
    NotBefore(Timestamp, String),
    /// Nothing more in this round.
    Done,
    /// The migration stops here (a guard, a budget).
    Stop(Flow),
}

/// What an operator command or confirmation does to a file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OperatorAct {
    Freeze,
    Unfreeze,
}

impl OperatorAct {
    fn name(self) -> &'static str {
        match self {
            OperatorAct::Freeze => "freeze",
            OperatorAct::Unfreeze => "unfreeze",
        }
    }
}

/// The operator's answer to a freeze or unfreeze: a yes or a command that succeeded, a no, or a command that
/// failed (its outcome is known).
enum OperatorAnswer {
    Done,
    Declined,
    Failed(String),
}

impl OperatorAnswer {
    fn of(input: &Input) -> Option<OperatorAnswer> {
        match input {
            Input::Confirmed(true) | Input::CommandFinished(Ok(())) => Some(OperatorAnswer::Done),
            Input::Confirmed(false) => Some(OperatorAnswer::Declined),
            Input::CommandFinished(Err(message)) => Some(OperatorAnswer::Failed(message.clone())),
            _ => None,
        }
    }

    /// The stop for an answer that is not `Done`.
    fn halt(self, declined: ConfirmKind) -> Flow {
        Flow::Act(Action::Halt(match self {
            OperatorAnswer::Failed(message) => Halt::FreezeFailed(message),
            OperatorAnswer::Declined | OperatorAnswer::Done => Halt::Declined(declined),
        }))
    }
}

#[allow(clippy::large_enum_variant)]
enum Flow {
    Act(Action),
    /// Enter the next phase and decide there.
    Advance(Phase),
    /// Decide again in the same phase from the checkpoint.
    Again,
}

struct Machine<'a> {
    intent: &'a Intent,
    cp: Checkpoint,
    now: Timestamp,
    opts: &'a RunOptions,
    events: Vec<Event>,
}

impl Machine<'_> {
    fn run(&mut self, input: Input) -> Action {
        if self.opts.check {
            return self.check(input);
        }
        if input == Input::Start
            && let Some(halt) = self.begin_run()
        {
            return Action::Halt(halt);
        }
        let mut input = input;
        // Each phase handles an input in a bounded number of passes; 64 guards against a bug looping forever.
        for _ in 0..64 {
            let flow = match self.powershell_in_flight() {
                Some(run) => self.powershell(run, input),
                None => self.dispatch(input),
            };
            match flow {
                Flow::Act(action) => return action,
                Flow::Again => input = Input::Start,
                Flow::Advance(next) => {
                    if self.opts.until == Some(next) {
                        return Action::Halt(Halt::UntilReached(next));
                    }
                    self.enter(next);
                    input = Input::Start;
                }
            }
        }
        Action::Halt(Halt::Unexpected {
            phase: self.cp.phase(),
            input: "no decision after 64 passes".into(),
        })
    }

    /// The PowerShell run that has not ended, if any (at most the last one).
    fn powershell_in_flight(&self) -> Option<PowerShellRun> {
        self.cp
            .powershell
            .last()
            .filter(|r| r.finished_at.is_none())
            .cloned()
    }

    /// A PowerShell script in flight through SSM takes every input until it ends; then the phase that asked
    /// for it hears how it ended, as from a freeze command (`Input::CommandFinished`).
    fn powershell(&mut self, run: PowerShellRun, input: Input) -> Flow {
        let now = self.now;
        let Some(instance_id) = self.intent.windows.as_ref().map(|w| w.ssm_instance_id.clone()) else {
            return self.powershell_finished(Err(
                "the plan has no [windows] section naming the instance the script runs on".into(),
            ));
        };
        let awaiting = format!("{} on {} ({instance_id})", run.script, run.file_system_id);
        let Some(current) = self.cp.powershell.last_mut() else {
            return self.missing("no PowerShell run in the checkpoint");
        };
        match input {
            Input::Start | Input::Woke => match (&run.endpoint, &run.command_id, run.sent_at) {
                (None, _, _) => Flow::Act(Action::Call(Command::DescribeFileSystem {
                    file_system_id: run.file_system_id.clone(),
                })),
                (Some(endpoint), None, None) => {
                    current.sent_at = Some(now);
                    let request = self.powershell_request(&run, endpoint, instance_id);
                    Flow::Act(Action::Call(Command::RunPowerShell(request)))
                }
                // Sent, but the answer was lost: look it up by its comment before anything else.
                (Some(_), None, Some(_)) => Flow::Act(Action::Call(Command::FindPowerShell {
                    instance_id,
                    comment: run.comment.clone(),
                })),
                (Some(_), Some(command_id), _) => Flow::Act(Action::Call(Command::GetPowerShell {
                    command_id: command_id.clone(),
                    instance_id,
                })),
            },
            Input::Response(Response::FileSystem(fs)) => {
                // spn.ps1 talks to AD about the file system's computer, named by its DNS name.
                let endpoint = match run.script {
                    WindowsScript::Spn => Some(fs.dns_name),
                    _ => fs.remote_administration_endpoint,
                };
                match endpoint.filter(|e| !e.is_empty()) {
                    Some(endpoint) => {
                        current.endpoint = Some(endpoint);
                        Flow::Again
                    }
                    None => self.powershell_finished(Err(format!(
                        "DescribeFileSystems gives no RemoteAdministrationEndpoint for {}",
                        run.file_system_id
                    ))),
                }
            }
            Input::Response(Response::PowerShellSent { command_id }) => {
                current.command_id = Some(command_id);
                Flow::Act(Action::WaitUntil {
                    at: after(now, POWERSHELL_POLL),
                    reason: format!("{awaiting} was sent"),
                })
            }
            Input::Response(Response::PowerShellCommands(found)) => match found.first() {
                Some(id) => {
                    current.command_id = Some(id.clone());
                    Flow::Again
                }
                // SSM may list a command a moment after it was sent: look twice before sending again.
                None if run.lookups < 2 => {
                    current.lookups += 1;
                    Flow::Act(Action::WaitUntil {
                        at: after(now, UNKNOWN_OUTCOME_WAIT),
                        reason: format!("looking for {awaiting}, whose send may have failed"),
                    })
                }
                None => {
                    self.events.push(Event::Note(format!(
                        "{awaiting}: SSM has no command with the comment {:?}: it was never sent; sending it",
                        run.comment
                    )));
                    current.sent_at = None;
                    current.lookups = 0;
                    Flow::Again
                }
            },
            Input::Response(Response::PowerShellInvocation(invocation)) => {
                if !invocation.status.is_terminal() {
                    return Flow::Act(Action::WaitUntil {
                        at: after(now, POWERSHELL_POLL),
                        reason: format!("{awaiting} is {}", invocation.status.as_str()),
                    });
                }
                current.status = Some(invocation.status.as_str().to_string());
                let outcome = crate::cloud::windows::outcome(run.script, &invocation);
                if let Ok(result) = &outcome {
                    current.result = Some(result.clone());
                    self.note_powershell_result(&run, result);
                }
                self.powershell_finished(outcome)
            }
            // GetCommandInvocation right after SendCommand may not know the invocation yet.
            Input::Failed(error) if error.code == "InvocationDoesNotExist" => Flow::Act(Action::WaitUntil {
                at: after(now, POWERSHELL_POLL),
                reason: format!("{awaiting}: SSM does not list the invocation yet"),
            }),
            // Refused (a wrong instance id, say): nothing ran, so the next run sends without looking first.
            Input::Failed(error) if error.operation == "ssm:SendCommand" && !error.class.is_retryable() => {
                current.sent_at = None;
                self.failed(error)
            }
            Input::Failed(error) => self.failed(error),
            other => self.unexpected(&other),
        }
    }

    /// The run ends: recorded, then the phase that asked hears it as a command's outcome.
    fn powershell_finished(&mut self, outcome: Result<String, String>) -> Flow {
        if let Some(run) = self.cp.powershell.last_mut() {
            run.finished_at = Some(self.now);
            if let Err(error) = &outcome {
                run.error = Some(error.clone());
            }
        }
        self.phase_step(Input::CommandFinished(outcome.map(|_| ())))
    }

    /// The DataSync user as the FSx cmdlets name it (`DOMAIN\\user`): the freeze always keeps its access.
    fn datasync_account(&self) -> String {
        let transfer = &self.intent.transfer;
        format!("{}\\{}", transfer.smb_domain, transfer.smb_user)
    }

    fn powershell_request(
        &self,
        run: &PowerShellRun,
        endpoint: &str,
        instance_id: String,
    ) -> PowerShellRequest {
        let mut keep_accounts = vec![self.datasync_account()];
        if let Some(windows) = &self.intent.windows {
            keep_accounts.extend(windows.keep_accounts.iter().cloned());
        }
        let (from_dns_name, aliases) = match run.script {
            WindowsScript::Spn => self.spn_arguments(),
            _ => (None, Vec::new()),
        };
        let call = ScriptCall {
            script: run.script,
            endpoint: endpoint.to_string(),
            keep_accounts: if run.script == WindowsScript::Freeze {
                keep_accounts
            } else {
                Vec::new()
            },
            shares_json: (run.script == WindowsScript::Unfreeze)
                .then(|| self.recorded_shares(&run.file_system_id))
                .flatten(),
            service_json: (run.script == WindowsScript::Apply)
                .then(|| self.shares_to_apply())
                .flatten()
                .map(|export| serde_json::to_string(&export).expect("an export always serialises")),
            from_dns_name,
            aliases,
            name_switch: None,
            logon: None,
        };
        PowerShellRequest {
            instance_id,
            call,
            comment: run.comment.clone(),
            timeout_secs: self
                .intent
                .cutover
                .command_timeout
                .unwrap_or(DEFAULT_COMMAND_TIMEOUT)
                .as_secs(),
        }
    }

    /// The share permissions the first successful SSM freeze of `file_system_id` recorded (a later freeze
    /// would record them read-only), as the JSON array unfreeze.ps1 takes.
    fn recorded_shares(&self, file_system_id: &str) -> Option<String> {
        self.cp
            .powershell
            .iter()
            .filter(|r| r.script == WindowsScript::Freeze && r.file_system_id == file_system_id)
            .find_map(|r| r.result.as_deref())
            .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .and_then(|v| v.get("shares").map(|s| s.to_string()))
    }

    fn note_powershell_result(&mut self, run: &PowerShellRun, result: &str) {
        let note = match run.script {
            WindowsScript::Freeze => match serde_json::from_str::<FreezeResult>(result) {
                Ok(r) if r.sessions_left > 0 => format!(
                    "{} frozen: {} share permission(s) made read-only; {} SMB session(s) of other accounts \
                     reconnected (read-only now)",
                    run.file_system_id, r.changed, r.sessions_left
                ),
                Ok(r) => format!(
                    "{} frozen: {} share permission(s) made read-only, no other SMB session left",
                    run.file_system_id, r.changed
                ),
                Err(_) => return,
            },
            WindowsScript::Unfreeze => match serde_json::from_str::<UnfreezeResult>(result) {
                Ok(r) if !r.missing_shares.is_empty() => format!(
                    "{} unfrozen: {} permission(s) put back; shares gone since the freeze: {}",
                    run.file_system_id,
                    r.restored,
                    r.missing_shares.join(", ")
                ),
                Ok(r) => format!(
                    "{} unfrozen: {} permission(s) put back",
                    run.file_system_id, r.restored
                ),
                Err(_) => return,
            },
            WindowsScript::Export => match serde_json::from_str::<ServiceExport>(result) {
                Ok(export) => format!(
                    "{}: {} share(s) and the in-server settings read",
                    run.file_system_id,
                    export.shares.len()
                ),
                Err(_) => return,
            },
            WindowsScript::Apply
            | WindowsScript::Spn
            | WindowsScript::Dns
            | WindowsScript::Dfs
            | WindowsScript::Logon => return,
        };
        self.events.push(Event::Note(note));
        if run.script == WindowsScript::Freeze && run.file_system_id == self.intent.source.file_system_id {
            self.shares_created_since_the_copy(result);
        }
    }

    /// The phase's handler for `input`.
    fn dispatch(&mut self, input: Input) -> Flow {
        let phase = self.cp.phase();
        match input {
            Input::Failed(error) => self.failed(error),
            input if self.opts.abort && phase < Phase::Aborting => self.start_abort(input),
            input => self.phase_step(input),
        }
    }

    /// The current phase's handler for `input`.
    fn phase_step(&mut self, input: Input) -> Flow {
        match self.cp.phase() {
            Phase::Preflight => self.preflight(input),
            Phase::CreateTarget => self.create_target(input),
            Phase::WaitTarget => self.wait_target(input),
            Phase::PrepareTransfer => self.prepare_transfer(input),
            Phase::InitialSync => self.drive(Round::Initial, input),
            Phase::LowerTtl => self.lower_ttl(input),
            Phase::IncrementalSync => self.drive(Round::Incremental, input),
            Phase::CopyShares => self.copy_shares(input),
            Phase::CutoverGate => self.cutover_gate(input),
            Phase::Freeze => self.freeze(input),
            Phase::FinalSync => self.drive(Round::Final, input),
            Phase::DnsSwap => self.dns_swap(input),
            Phase::DnsWait if self.opts.rollback => self.start_rollback(input),
            Phase::DnsWait => self.dns_wait(input),
            Phase::MoveAliases if self.opts.rollback => self.start_rollback(input),
            Phase::MoveAliases => self.move_aliases(false, input, Phase::Complete),
            Phase::Complete => {
                self.cp.completed_at.get_or_insert(self.now);
                if self.opts.rollback {
                    self.start_rollback(input)
                } else {
                    Flow::Act(Action::Halt(Halt::Completed))
                }
            }
            Phase::FreezeTarget => self.freeze_target(input),
            Phase::PrepareReverse => self.prepare_reverse(input),
            Phase::ReverseSync => self.drive(Round::Reverse, input),
            Phase::SwapBack => self.swap_back(input),
            Phase::SwapBackWait => self.swap_back_wait(input),
            Phase::MoveAliasesBack => self.move_aliases(true, input, Phase::RolledBack),
            Phase::UnfreezeSource => {
                // The aliases go back only if they were moved (or began to be).
                let next = match self.cp.aliases.as_ref().and_then(|m| m.names.as_ref()) {
                    Some(names) if !names.is_empty() => Phase::MoveAliasesBack,
                    _ => Phase::RolledBack,
                };
                self.unfreeze_source(input, Some(next))
            }
            Phase::Aborting => self.aborting(input),
            Phase::Aborted => self.aborted(input),
            Phase::RolledBack => {
                if let Some(rollback) = &mut self.cp.rollback {
                    rollback.rolled_back_at.get_or_insert(self.now);
                }
                Flow::Act(Action::Halt(Halt::RolledBack))
            }
        }
    }

    /// A new process starts on this plan: check the intent and `--until`, count the run, pin the intent,
    /// and record operator decisions.
    /// The fields of the pinned intent the plan changed that may not change once billable work was approved.
    fn frozen_intent_changes(&self) -> Vec<String> {
        match &self.cp.intent_sha256 {
            Some(pinned) if *pinned != self.intent.sha256() => {
                let before = self.cp.intent_at_start.clone().unwrap_or_default();
                changed_fields(&before, self.intent)
                    .into_iter()
                    .filter(|field| !is_live_editable(field))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn begin_run(&mut self) -> Option<Halt> {
        let hash = self.intent.sha256();
        if let Some(pinned) = &self.cp.intent_sha256
            && *pinned != hash
        {
            let frozen = self.frozen_intent_changes();
            if !frozen.is_empty() {
                return Some(Halt::IntentChanged(frozen));
            }
            let before = self.cp.intent_at_start.clone().unwrap_or_default();
            let live: Vec<String> = changed_fields(&before, self.intent)
                .into_iter()
                .filter(|field| is_live_editable(field))
                .collect();
            // Settings that change no resource (thresholds, polling, the window, the hooks): taken as edited.
            let shares_verified = self.cp.shares.as_ref().is_some_and(|s| s.verified_at.is_some());
            for field in live {
                let note = if field.starts_with("windows.") && shares_verified {
                    format!("the plan's new {field} has no effect: the copy of shares was verified already")
                } else {
                    format!("picked up the plan's new {field}")
                };
                self.events.push(Event::Note(note));
            }
            self.pin_intent();
        }
        // `--until` a phase the plan already reached: stop before doing anything, and say where it stands.
        if let Some(until) = self.opts.until
            && until <= self.cp.phase()
        {
            return Some(Halt::AlreadyAt {
                until,
                phase: self.cp.phase(),
            });
        }
        self.cp.schema = CHECKPOINT_SCHEMA;
        // The intent is pinned once the operator approved billable work (a declined prompt pins nothing).
        if self.cp.intent_sha256.is_none() && self.cp.billable_confirmed_at.is_some() {
            self.pin_intent();
        }
        self.cp.runs = self.cp.runs.saturating_add(1);
        // A new process gives an alias move in flight its full time again (the stop that ended the last one
        // may have been fixed since).
        let now = self.now;
        let back = self.cp.rollback.as_mut().and_then(|r| r.aliases_back.as_mut());
        for moving in self.cp.aliases.as_mut().into_iter().chain(back) {
            if moving.done_at.is_none() {
                moving.last_progress_at = Some(now);
            }
        }
        // `rollback` needs a swap to undo; before it, `abort` is the way out.
        if self.opts.rollback && self.cp.phase() < Phase::DnsWait {
            return Some(Halt::NothingToRollBack(self.cp.phase()));
        }
        if self.opts.abort && self.cp.dns_requested_at.is_some() && self.cp.phase() < Phase::Aborting {
            return Some(Halt::SwappedAlready(self.cp.phase()));
        }
        if let Some(check) = self.cp.access_checks.last().and_then(|c| c.current.as_ref()) {
            let execution = check.execution_arn.as_deref().unwrap_or("not seen yet");
            self.events.push(Event::Note(format!(
                "a check's result was never read (execution {execution}): a sync waits while it runs; `check` reads it"
            )));
        }
        // A new process looks at every running execution once before trusting any recorded deadline.
        for lane in self.cp.forward.lanes.iter_mut().chain(&mut self.cp.reverse.lanes) {
            lane.next_check_at = None;
        }
        self.cp.started_at.get_or_insert(self.now);
        if self.cp.phase.is_none() {
            self.enter(Phase::Preflight);
        }
        // Accepting the delta also accepts a predicted downtime over the budget, at the gate.
        if self.cp.phase() <= Phase::CutoverGate && self.opts.accept_delta {
            self.cp.delta_accepted_at = Some(self.now);
            self.cp.delta_accepted_by = Some(self.opts.operator.clone());
        }
        if self.cp.phase() <= Phase::IncrementalSync {
            self.cp.extra_incremental_runs = self
                .cp
                .extra_incremental_runs
                .saturating_add(self.opts.more_incrementals);
        }
        self.record_acceptances();
        None
    }

    /// Records the intent the run drives: later edits of what describes resources stop the run.
    fn pin_intent(&mut self) {
        self.cp.intent_sha256 = Some(self.intent.sha256());
        self.cp.intent_at_start = Some(self.intent.canonical_json());
    }

    /// `--accept-deletes` and `--accept-skipped` accept a guard that tripped, recorded with who and when.
    /// Given before anything tripped they accept nothing: an acceptance is of a known count, never blanket.
    fn record_acceptances(&mut self) {
        let operator = self.opts.operator.clone();
        let now = self.now;
        let guards = [
            (
                self.opts.accept_deletes,
                "--accept-deletes",
                "the delete guard",
                self.cp.delete_guard.is_some(),
                &mut self.cp.deletes_accepted_at,
                &mut self.cp.deletes_accepted_by,
            ),
            (
                self.opts.accept_skipped,
                "--accept-skipped",
                "the skipped-files guard",
                self.cp.skipped_files.is_some(),
                &mut self.cp.skipped_accepted_at,
                &mut self.cp.skipped_accepted_by,
            ),
        ];
        let mut notes = Vec::new();
        for (given, flag, guard, tripped, at, by) in guards {
            if !given || at.is_some() {
                continue;
            }
            if tripped {
                *at = Some(now);
                *by = Some(operator.clone());
                notes.push(format!("{flag}: {operator} accepted {guard} at {now}"));
            } else {
                notes.push(format!(
                    "{flag}: {guard} has not tripped, so there is nothing to accept"
                ));
            }
        }
        self.events.extend(notes.into_iter().map(Event::Note));
    }

    fn enter(&mut self, phase: Phase) {
        self.cp.phase = Some(phase);
        self.cp.timeline.push(PhaseEntry { phase, at: self.now });
        self.events.push(Event::PhaseEntered(phase));
    }

    /// The checkpoint lacks what this phase needs: a bug or a hand-edited checkpoint, never guessed around.
    fn missing(&self, what: &str) -> Flow {
        Flow::Act(Action::Halt(Halt::Unexpected {
            phase: self.cp.phase(),
            input: what.to_string(),
        }))
    }

    fn unexpected(&self, input: &Input) -> Flow {
        Flow::Act(Action::Halt(Halt::Unexpected {
            phase: self.cp.phase(),
            input: format!("{input:?}"),
        }))
    }

    fn refuse(step: IrreversibleStep, problems: Vec<String>) -> Flow {
        Flow::Act(Action::Halt(Halt::PreconditionFailed { step, problems }))
    }

    /// Tags of everything this plan creates: the plan and the source it migrates.
    fn plan_tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (PLAN_TAG.to_string(), self.intent.migration.id.clone()),
            (SOURCE_TAG.to_string(), self.intent.source.file_system_id.clone()),
        ])
    }

    /// A call failed after the driver's retries. A create without a client token that timed out or failed
    /// on the server may have happened anyway: it is resolved by a lookup by tag, never sent again blindly.
    fn failed(&mut self, error: CloudError) -> Flow {
        if self.deletion().is_some_and(|d| d.done_at.is_none()) {
            return self.deletion_failed(error);
        }
        // A limit refused (the execution just ended, say) changes nothing that matters: the lane goes on
        // without it, and its next look at the execution tells what happened.
        if error.operation == "datasync:UpdateTaskExecution" {
            let awaiting = leg(&self.cp).awaiting.clone();
            let kind = leg(&self.cp)
                .lanes
                .iter()
                .find(|l| Some(&l.name) == awaiting.as_ref())
                .and_then(|l| l.current.as_ref())
                .map(|c| c.kind);
            if let Some(kind) = kind {
                // Taken as set, so it is not asked again for this execution.
                let limit = self.bandwidth_limit(kind);
                let lane = leg_mut(&mut self.cp)
                    .lanes
                    .iter_mut()
                    .find(|l| Some(&l.name) == awaiting.as_ref());
                if let Some(current) = lane.and_then(|l| l.current.as_mut()) {
                    current.bytes_per_second = limit;
                }
                self.events.push(Event::Note(format!(
                    "lane {}: the bandwidth limit was not changed ({}: {}); going on",
                    awaiting.unwrap_or_default(),
                    error.code,
                    error.message
                )));
                return Flow::Again;
            }
        }
        let unknown_outcome = error.class == ErrorClass::Transient
            && NON_IDEMPOTENT_OPERATIONS.contains(&error.operation.as_str());
        if unknown_outcome {
            self.events.push(Event::Note(format!(
                "{} may or may not have happened ({}): looking it up by tag before trying again",
                error.operation, error.code
            )));
            return Flow::Act(Action::WaitUntil {
                at: after(self.now, UNKNOWN_OUTCOME_WAIT),
                reason: format!("the outcome of {} is unknown", error.operation),
            });
        }
        Flow::Act(Action::Halt(Halt::CloudFailed {
            phase: self.cp.phase(),
            error,
        }))
    }

    // ---- phases -------------------------------------------------------------------------------------

    fn preflight(&mut self, input: Input) -> Flow {
        match input {
            Input::Start | Input::Woke => {
                Flow::Act(Action::Call(Command::Inspect(self.intent.inspect_request())))
            }
            Input::Response(Response::Environment(env)) => {
                let findings = preflight::check(self.intent, &env);
                if preflight::has_errors(&findings) {
                    return Flow::Act(Action::Halt(Halt::PreflightFailed(findings)));
                }
                for finding in findings {
                    self.events.push(Event::Finding(finding));
                }
                Flow::Advance(Phase::CreateTarget)
            }
            other => self.unexpected(&other),
        }
    }

    /// Before CreateFileSystem: the billable confirmation, then a lookup of every resource fsx-migrate made
    /// for this source (another plan's → refuse; this plan's target → adopt it, whatever the token says).
    fn create_target(&mut self, input: Input) -> Flow {
        if self.cp.target_file_system_id.is_some() {
            return Flow::Advance(Phase::WaitTarget);
        }
        match input {
            Input::Start | Input::Woke => {
                if self.cp.billable_confirmed_at.is_none() {
                    return Flow::Act(Action::Confirm(self.billable_confirmation()));
                }
                Flow::Act(Action::Call(Command::FindMigrationResources {
                    source_file_system_id: self.intent.source.file_system_id.clone(),
                }))
            }
            Input::Confirmed(true) => {
                self.cp.billable_confirmed_at = Some(self.now);
                self.cp.billable_confirmed_by = Some(self.opts.operator.clone());
                self.pin_intent();
                Flow::Again
            }
            Input::Confirmed(false) => Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::Billable))),
            Input::Response(Response::MigrationResources(found))
                if self.cp.billable_confirmed_at.is_some() =>
            {
                let plan = &self.intent.migration.id;
                let others = other_plans(&found, plan);
                if !others.is_empty() {
                    return Self::refuse(IrreversibleStep::CreateTarget, others);
                }
                if let Some(ours) = found
                    .iter()
                    .find(|r| r.kind == ResourceKind::FileSystem && &r.plan_id == plan)
                {
                    self.events.push(Event::Note(format!(
                        "found this plan's target file system {} by its tag: using it",
                        ours.id
                    )));
                    self.cp.target_file_system_id = Some(ours.id.clone());
                    return Flow::Advance(Phase::WaitTarget);
                }
                // Write-ahead: the token is derived from the plan id, the request time is recorded now.
                self.cp.target_requested_at.get_or_insert(self.now);
                let t = &self.intent.target;
                let mut tags = t.settings.tags.clone();
                tags.extend(self.plan_tags());
                Flow::Act(Action::Call(Command::CreateTarget(CreateTargetRequest {
                    client_request_token: self.intent.target_client_token(),
                    subnet_ids: t.subnet_ids.clone(),
                    preferred_subnet_id: t.preferred_subnet_id.clone(),
                    security_group_ids: t.security_group_ids.clone(),
                    ad_join_password: t.ad_join_password.clone(),
                    settings: t.settings.clone(),
                    tags,
                })))
            }
            Input::Response(Response::FileSystem(fs)) => {
                self.record_target(&fs);
                self.events
                    .push(Event::Note(format!("target file system {} requested", fs.id)));
                Flow::Advance(Phase::WaitTarget)
            }
            other => self.unexpected(&other),
        }
    }
    fn billable_confirmation(&self) -> Confirmation {
        let t = &self.intent.target;
        let s = &t.settings;
        Confirmation {
            kind: ConfirmKind::Billable,
            question: "Create the Multi-AZ target file system and the DataSync tasks (billable)?".into(),
            details: vec![
                format!(
                    "FSx for Windows MULTI_AZ_1: {} GiB {}, {} MB/s, subnets {} (preferred {})",
                    s.storage_capacity_gib,
                    s.storage_type,
                    s.throughput_capacity_mbps,
                    t.subnet_ids.join(", "),
                    t.preferred_subnet_id
                ),
                format!(
                    "DataSync: two FSx for Windows locations and {} task(s), billed per GB copied",
                    lane_tasks(self.intent).len()
                ),
                format!("everything tagged {PLAN_TAG}={}", self.intent.migration.id),
            ],
        }
    }

    fn record_target(&mut self, fs: &FileSystemInfo) {
        self.cp.target_file_system_id = Some(fs.id.clone());
        self.cp.target_arn = Some(fs.arn.clone());
        if !fs.dns_name.is_empty() {
            self.cp.target_dns_name = Some(fs.dns_name.clone());
        }
    }

    fn wait_target(&mut self, input: Input) -> Flow {
        let Some(id) = self.cp.target_file_system_id.clone() else {
            return self.missing("no target file system id in the checkpoint");
        };
        match input {
            Input::Start | Input::Woke => {
                Flow::Act(Action::Call(Command::DescribeFileSystem { file_system_id: id }))
            }
            Input::Response(Response::FileSystem(fs)) => {
                self.record_target(&fs);
                self.events.push(Event::TargetLifecycle(fs.lifecycle.clone()));
                match fs.lifecycle {
                    Lifecycle::Available => Flow::Advance(Phase::PrepareTransfer),
                    Lifecycle::Failed
                    | Lifecycle::Misconfigured
                    | Lifecycle::MisconfiguredUnavailable
                    | Lifecycle::Deleting => Flow::Act(Action::Halt(Halt::TargetFailed {
                        lifecycle: fs.lifecycle,
                        message: fs.failure_message,
                    })),
                    Lifecycle::Creating | Lifecycle::Updating | Lifecycle::Unknown(_) => {
                        Flow::Act(Action::WaitUntil {
                            at: after(self.now, TARGET_POLL),
                            reason: format!("target {} is {}", fs.id, fs.lifecycle),
                        })
                    }
                }
            }
            other => self.unexpected(&other),
        }
    }

    fn prepare_transfer(&mut self, input: Input) -> Flow {
        self.ensure_lanes();
        match input {
            // Locations and tasks have no client token: look them up by tag before creating any.
            Input::Start | Input::Woke => Flow::Act(Action::Call(Command::FindTransferResources {
                plan_id: self.intent.migration.id.clone(),
            })),
            Input::Response(Response::TransferResources(found)) => {
                let leg = &mut self.cp.forward;
                if leg.from_location_arn.is_none() {
                    leg.from_location_arn = found.source_location_arn;
                }
                if leg.to_location_arn.is_none() {
                    leg.to_location_arn = found.target_location_arn;
                }
                for lane in &mut leg.lanes {
                    if lane.task_arn.is_none() {
                        lane.task_arn = found.tasks.get(&lane.name).cloned();
                    }
                }
                let unplanned: Vec<&String> = found
                    .tasks
                    .keys()
                    .filter(|name| leg.lane(name).is_none())
                    .collect();
                if !unplanned.is_empty() {
                    let problems = unplanned
                        .iter()
                        .map(|name| {
                            format!(
                                "DataSync task {} is tagged for this plan's lane {name}, which the plan does not have",
                                found.tasks[*name]
                            )
                        })
                        .collect();
                    return Flow::Act(Action::Halt(Halt::PreconditionFailed {
                        step: IrreversibleStep::CreateTasks,
                        problems,
                    }));
                }
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::LocationCreated { side, arn }) => {
                match side {
                    Side::Source => self.cp.forward.from_location_arn = Some(arn),
                    Side::Target => self.cp.forward.to_location_arn = Some(arn),
                }
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::LogGroupReady) => {
                self.cp.log_group_ready_at = Some(self.now);
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::TaskCreated { arn }) => self.task_created(arn),
            other => self.unexpected(&other),
        }
    }

    /// Tasks are created one at a time, in lane order: a created task is the first lane's without one, on the
    /// leg this phase prepares; then the next missing resource.
    fn task_created(&mut self, arn: String) -> Flow {
        let reverse = self.cp.phase() == Phase::PrepareReverse;
        let leg = if reverse {
            &mut self.cp.reverse
        } else {
            &mut self.cp.forward
        };
        let Some(lane) = leg.lanes.iter_mut().find(|l| l.task_arn.is_none()) else {
            return self.unexpected(&Input::Response(Response::TaskCreated { arn }));
        };
        lane.task_arn = Some(arn);
        if reverse {
            self.create_missing_reverse_task()
        } else {
            self.create_missing_transfer_resource()
        }
    }

    /// The forward leg has one lane state per lane of the plan, in the plan's order.
    fn ensure_lanes(&mut self) {
        for task in lane_tasks(self.intent) {
            if self.cp.forward.lane(&task.name).is_none() {
                self.cp.forward.lanes.push(LaneState::new(&task.name));
            }
        }
    }

    fn create_missing_transfer_resource(&mut self) -> Flow {
        let (Some(source_fs), Some(target_fs)) = (self.source_arn(), self.cp.target_arn.clone()) else {
            return self.missing("file system ARNs missing from the checkpoint");
        };
        let leg = &self.cp.forward;
        let (Some(from), Some(to)) = (leg.from_location_arn.clone(), leg.to_location_arn.clone()) else {
            let side = if leg.from_location_arn.is_none() {
                (Side::Source, source_fs)
            } else {
                (Side::Target, target_fs)
            };
            return Flow::Act(Action::Call(Command::CreateLocation(
                self.location_request(side.0, side.1),
            )));
        };
        let Some(task) = lane_tasks(self.intent)
            .into_iter()
            .find(|t| leg.lane(&t.name).is_some_and(|l| l.task_arn.is_none()))
        else {
            return Flow::Advance(Phase::InitialSync);
        };
        let tr = &self.intent.transfer;
        // DataSync's BASIC log level is what lists skipped files: the log group must exist first.
        if let Some(arn) = &tr.cloudwatch_log_group_arn
            && self.cp.log_group_ready_at.is_none()
        {
            return Flow::Act(Action::Call(Command::EnsureLogGroup { arn: arn.clone() }));
        }
        Flow::Act(Action::Call(Command::CreateTask(
            self.task_request(task, from, to),
        )))
    }

    /// The task of one lane between two locations, tagged with the plan and the lane.
    fn task_request(&self, task: LaneTask, from: String, to: String) -> CreateTaskRequest {
        let tr = &self.intent.transfer;
        let mut tags = self.plan_tags();
        tags.insert(LANE_TAG.to_string(), task.name.clone());
        CreateTaskRequest {
            name: format!("fsx-migrate {} {}", self.intent.migration.id, task.name),
            lane: task.name,
            source_location_arn: from,
            target_location_arn: to,
            // Every execution overrides these; the task's own defaults are the safest (keep deleted files).
            options: self.task_options(SyncKind::Initial),
            includes: task.includes,
            excludes: task.excludes,
            cloudwatch_log_group_arn: tr.cloudwatch_log_group_arn.clone(),
            task_report: tr.task_report.clone(),
            tags,
        }
    }

    /// The source's ARN, derived from the target's (same partition, region and account).
    fn source_arn(&self) -> Option<String> {
        let target_arn = self.cp.target_arn.as_ref()?;
        let prefix = target_arn.rsplit_once('/')?.0;
        Some(format!("{prefix}/{}", self.intent.source.file_system_id))
    }

    fn location_request(&self, side: Side, file_system_arn: String) -> CreateLocationRequest {
        let tr = &self.intent.transfer;
        let subdirectory = match side {
            Side::Source => tr.source_subdirectory.clone(),
            Side::Target => tr.target_subdirectory.clone(),
        };
        let mut tags = self.plan_tags();
        tags.insert(SIDE_TAG.to_string(), side.to_string());
        CreateLocationRequest {
            side,
            file_system_arn,
            security_group_ids: self.intent.target.security_group_ids.clone(),
            subdirectory,
            user: tr.smb_user.clone(),
            domain: tr.smb_domain.clone(),
            password: tr.smb_password.clone(),
            tags,
        }
    }

    /// The options each kind of run overrides: incrementals and the final remove what users deleted (so the
    /// final sync carries only the last delta); only the final uses the final verify mode.
    fn task_options(&self, kind: SyncKind) -> TaskOptions {
        let tr = &self.intent.transfer;
        let is_final = matches!(kind, SyncKind::Final | SyncKind::Reverse);
        TaskOptions {
            transfer_mode: TransferMode::Changed,
            verify_mode: if is_final {
                tr.verify_mode_final.clone()
            } else {
                tr.verify_mode_live.clone()
            },
            preserve_deleted_files: if kind == SyncKind::Initial {
                PreserveDeletedFiles::Preserve
            } else {
                PreserveDeletedFiles::Remove
            },
            security_descriptor_copy: tr.security_descriptor_copy.clone(),
            log_level: match (&tr.log_level, &tr.cloudwatch_log_group_arn) {
                (Some(level), _) => level.clone(),
                (None, Some(_)) => LogLevel::Basic,
                (None, None) => LogLevel::Off,
            },
        }
    }

    // ---- lanes ----------------------------------------------------------------------------------------

    /// Drives every lane through a round of syncs: routes an answer to its lane, then serves the first lane
    /// that needs a call; with none, waits until the earliest lane deadline; with no lane left to run, the
    /// round is complete.
    fn drive(&mut self, round: Round, input: Input) -> Flow {
        self.ensure_lanes();
        let answered = match input {
            Input::Start | Input::Woke => None,
            Input::Response(Response::ExecutionCandidates(candidates)) => {
                let Some(i) = self.awaiting_lane_without_execution() else {
                    return self.unexpected(&Input::Response(Response::ExecutionCandidates(candidates)));
                };
                self.on_candidates(round, i, candidates)
            }
            Input::Response(Response::ExecutionStarted { arn }) => {
                let Some(i) = self.awaiting_lane_without_execution() else {
                    return self.unexpected(&Input::Response(Response::ExecutionStarted { arn }));
                };
                self.on_started(round, i, arn);
                None
            }
            Input::Response(Response::ExecutionLimited {
                execution_arn,
                bytes_per_second,
            }) => {
                let lane = leg_mut(&mut self.cp).lanes.iter_mut().find(|l| {
                    l.current.as_ref().and_then(|c| c.execution_arn.as_deref())
                        == Some(execution_arn.as_str())
                });
                match lane.and_then(|l| l.current.as_mut()) {
                    Some(current) => current.bytes_per_second = bytes_per_second,
                    None => {
                        return self.unexpected(&Input::Response(Response::ExecutionLimited {
                            execution_arn,
                            bytes_per_second,
                        }));
                    }
                }
                None
            }
            Input::Response(Response::Execution(info)) => {
                let lanes = &leg(&self.cp).lanes;
                let Some(i) = lanes.iter().position(|l| {
                    l.current.as_ref().and_then(|c| c.execution_arn.as_deref()) == Some(info.arn.as_str())
                }) else {
                    return self.unexpected(&Input::Response(Response::Execution(info)));
                };
                self.on_execution(i, info)
            }
            other => return self.unexpected(&other),
        };
        if let Some(flow) = answered {
            return flow;
        }
        self.next_lane_call(round)
    }

    /// The lane the last call was for, if it is between its write-ahead request and a known execution.
    fn awaiting_lane_without_execution(&self) -> Option<usize> {
        let leg = leg(&self.cp);
        let name = leg.awaiting.as_deref()?;
        leg.lanes
            .iter()
            .position(|l| l.name == name && l.current.as_ref().is_some_and(|c| c.execution_arn.is_none()))
    }

    /// Records which lane a call is for, then makes it.
    fn lane_call(&mut self, i: usize, command: Command) -> Flow {
        let leg = leg_mut(&mut self.cp);
        leg.awaiting = Some(leg.lanes[i].name.clone());
        Flow::Act(Action::Call(command))
    }

    fn next_lane_call(&mut self, round: Round) -> Flow {
        let limit = usize::try_from(self.intent.transfer.max_parallel_tasks()).unwrap_or(usize::MAX);
        let mut earliest: Option<(Timestamp, String)> = None;
        let mut wait = |at: Timestamp, reason: String| {
            if earliest.as_ref().is_none_or(|(t, _)| at < *t) {
                earliest = Some((at, reason));
            }
        };
        for i in 0..leg(&self.cp).lanes.len() {
            let lane = &leg(&self.cp).lanes[i];
            if let Some(current) = &lane.current {
                if current.kind != round.kind() {
                    return self.missing(&format!(
                        "lane {}: a {} sync is recorded as in flight during the {} round",
                        lane.name,
                        current.kind,
                        round.kind()
                    ));
                }
                // Business hours beginning or ending change its limit then, not at the next poll.
                let at = match (lane.next_check_at, self.bandwidth_changes_at(current.kind)) {
                    (Some(poll), Some(change)) => Some(poll.min(change)),
                    (poll, _) => poll,
                };
                if let Some(at) = at
                    && at > self.now
                {
                    wait(at, format!("lane {}: {} sync running", lane.name, current.kind));
                    continue;
                }
                let limit = self.bandwidth_limit(current.kind);
                let command = match &current.execution_arn {
                    // Business hours began or ended since it started: its limit follows.
                    Some(arn) if limit != current.bytes_per_second => Command::LimitExecution {
                        execution_arn: arn.clone(),
                        bytes_per_second: limit,
                    },
                    Some(arn) => Command::DescribeExecution {
                        execution_arn: arn.clone(),
                    },
                    // Requested, not known to have started: look for it before starting anything.
                    None => self.find_execution(i),
                };
                return self.lane_call(i, command);
            }
            match self.lane_wants(round, i) {
                Want::Done => {}
                Want::NotBefore(at, reason) => wait(at, reason),
                Want::Stop(flow) => return flow,
                Want::Run if leg(&self.cp).in_flight() >= limit => {}
                Want::Run => {
                    if round == Round::Refresh {
                        self.cp.refresh_round_at.get_or_insert(self.now);
                    }
                    if round == Round::Refresh
                        && let Some(age) = self.stale_age(&leg(&self.cp).lanes[i])
                    {
                        self.events.push(Event::Note(format!(
                            "lane {}: the last sync ended {age} ago (sync.max_delta_age {}): one more incremental first",
                            leg(&self.cp).lanes[i].name, self.intent.sync.max_delta_age
                        )));
                    }
                    if round == Round::Final && self.cp.frozen_at.is_none() {
                        return Self::refuse(
                            IrreversibleStep::FinalSync,
                            vec![
                                "no freeze of the source is recorded: the final sync runs only after it"
                                    .into(),
                            ],
                        );
                    }
                    // Write-ahead: the request (its time and run give the sync tag) before the lookup.
                    let runs = self.cp.runs;
                    let lane = &mut leg_mut(&mut self.cp).lanes[i];
                    lane.current = Some(CurrentSync::requested(round.kind(), self.now, runs));
                    lane.next_check_at = None;
                    let command = self.find_execution(i);
                    return self.lane_call(i, command);
                }
            }
        }
        match earliest {
            Some((at, reason)) => Flow::Act(Action::WaitUntil { at, reason }),
            None => self.round_complete(round),
        }
    }

    fn find_execution(&self, i: usize) -> Command {
        let lane = &leg(&self.cp).lanes[i];
        Command::FindExecution {
            task_arn: lane.task_arn.clone().unwrap_or_default(),
            known: lane.known_execution_arns(),
        }
    }

    /// Whether an idle lane needs a run in this round.
    fn lane_wants(&mut self, round: Round, i: usize) -> Want {
        let lane = &leg(&self.cp).lanes[i];
        if lane.task_arn.is_none() {
            return Want::Stop(
                self.missing(&format!("lane {}: no DataSync task in the checkpoint", lane.name)),
            );
        }
        match round {
            Round::Initial if lane.last_success(SyncKind::Initial).is_some() => Want::Done,
            Round::Initial => Want::Run,
            Round::Incremental => self.incremental_wants(i),
            Round::Refresh => match self.stale_age(lane) {
                Some(_) => Want::Run,
                None => Want::Done,
            },
            Round::Final => self.final_wants(i),
            Round::Reverse => self.reverse_wants(i),
        }
    }

    /// A lane runs incrementals until its last one converged (or the operator accepted the delta).
    fn incremental_wants(&self, i: usize) -> Want {
        let lane = &leg(&self.cp).lanes[i];
        let allowed = self.intent.sync.max_incremental_runs + self.cp.extra_incremental_runs;
        // No incremental allowed and the delta accepted: straight to the gate (the naive runbook).
        if allowed == 0 && self.cp.delta_accepted_at.is_some() {
            return Want::Done;
        }
        let Some(last) = lane.syncs.last().filter(|s| s.succeeded()) else {
            return Want::Run;
        };
        if last.kind != SyncKind::Incremental {
            return Want::Run;
        }
        let convergence = Convergence::of(self.intent, last);
        if convergence.converged() {
            return Want::Done;
        }
        let runs = lane.incremental_successes();
        if runs >= allowed {
            if self.cp.delta_accepted_at.is_some() {
                return Want::Done;
            }
            return Want::Stop(Flow::Act(Action::Halt(Halt::NotConverged {
                lane: lane.name.clone(),
                runs,
                misses: convergence.misses(),
                predicted_downtime: predicted_downtime(self.intent, &self.cp),
            })));
        }
        let pause = self.intent.sync.pause_between_runs;
        let resume_at = after(last.ended_at, pause);
        if pause.as_secs() > 0 && resume_at > self.now {
            return Want::NotBefore(
                resume_at,
                format!("lane {}: pause between incremental runs", lane.name),
            );
        }
        Want::Run
    }

    /// A lane's final sync is complete once one succeeded after the freeze; skipped files (locked or open at
    /// the freeze) make it run once more, then stop until accepted.
    fn final_wants(&mut self, i: usize) -> Want {
        let Some(frozen) = self.cp.frozen_at else {
            return Want::Run;
        };
        let lane = &leg(&self.cp).lanes[i];
        let finals = lane.runs_after(SyncKind::Final, frozen);
        let Some(last) = finals.last().filter(|s| s.succeeded()) else {
            return Want::Run;
        };
        let skipped = last.counters.files_skipped;
        if skipped == 0 || self.cp.skipped_accepted_at.is_some() {
            return Want::Done;
        }
        if finals.iter().filter(|s| s.succeeded()).count() < 2 {
            let note = format!(
                "lane {}: the final sync skipped {skipped} files (locked or open at the freeze): running it once more",
                lane.name
            );
            self.events.push(Event::Note(note));
            return Want::Run;
        }
        let (name, arn) = (lane.name.clone(), last.execution_arn.clone());
        self.cp.skipped_files = Some(GuardTrip {
            at: self.now,
            execution_arn: arn.clone(),
            count: skipped,
            limit: 0,
        });
        Want::Stop(Flow::Act(Action::Halt(Halt::SkippedFiles {
            lane: name,
            skipped,
            execution_arn: arn,
            log_group_arn: self.intent.transfer.cloudwatch_log_group_arn.clone(),
        })))
    }

    fn on_candidates(&mut self, round: Round, i: usize, candidates: Vec<ExecutionCandidate>) -> Option<Flow> {
        let lane = &leg(&self.cp).lanes[i];
        let current = lane.current.clone()?;
        let kind = current.kind;
        match choose_execution(&candidates, &current, &self.intent.migration.id) {
            ExecutionChoice::Adopt(arn) => {
                self.events.push(Event::Note(format!(
                    "lane {}: re-attached to {kind} execution {arn}, started for this request",
                    lane.name
                )));
                let lane = &mut leg_mut(&mut self.cp).lanes[i];
                if let Some(current) = &mut lane.current {
                    current.execution_arn = Some(arn.clone());
                }
                Some(self.lane_call(i, Command::DescribeExecution { execution_arn: arn }))
            }
            ExecutionChoice::WaitFor(arn) => {
                let reason = format!(
                    "lane {}: execution {arn} of its task runs but was not started for this {kind} sync: \
                     waiting for it to end before starting one",
                    lane.name
                );
                self.events.push(Event::Note(reason));
                leg_mut(&mut self.cp).lanes[i].next_check_at =
                    Some(after(self.now, self.intent.sync.poll_interval));
                None
            }
            ExecutionChoice::Start => {
                let mut tags = self.plan_tags();
                tags.insert(SYNC_TAG.to_string(), current.sync_id());
                tags.insert(LANE_TAG.to_string(), lane.name.clone());
                let bytes_per_second = self.bandwidth_limit(round.kind());
                let request = StartExecutionRequest {
                    task_arn: lane.task_arn.clone().unwrap_or_default(),
                    kind: round.kind(),
                    overrides: self.task_options(round.kind()),
                    tags,
                    bytes_per_second,
                    includes: None,
                };
                if let Some(current) = &mut leg_mut(&mut self.cp).lanes[i].current {
                    current.bytes_per_second = bytes_per_second;
                }
                Some(self.lane_call(i, Command::StartExecution(request)))
            }
        }
    }

    fn on_started(&mut self, round: Round, i: usize, arn: String) {
        let lanes = leg(&self.cp).lanes.len();
        let poll = self.intent.sync.poll_interval;
        let lane = &mut leg_mut(&mut self.cp).lanes[i];
        let predicted = predicted_run(lane, round.kind());
        if let Some(current) = &mut lane.current {
            current.execution_arn = Some(arn.clone());
        }
        let wait = next_poll(round.kind(), Duration(0), predicted, poll, lanes);
        lane.next_check_at = Some(after(self.now, wait));
        let note = format!("lane {}: started {} execution {arn}", lane.name, round.kind());
        self.events.push(Event::Note(note));
    }

    fn on_execution(&mut self, i: usize, info: ExecutionInfo) -> Option<Flow> {
        let lanes = leg(&self.cp).lanes.len();
        let poll = self.intent.sync.poll_interval;
        let runs = self.cp.runs;
        let lane = &mut leg_mut(&mut self.cp).lanes[i];
        let current = lane.current.as_mut()?;
        let kind = current.kind;
        self.events.push(Event::Execution {
            lane: lane.name.clone(),
            kind,
            info: info.clone(),
        });
        current.last_status = Some(info.status.clone());
        current.last_counters = Some(info.counters.clone());
        if !info.status.is_terminal() {
            let elapsed = secs_between(current.requested_at, self.now);
            let predicted = predicted_run(lane, kind);
            lane.next_check_at = Some(after(self.now, next_poll(kind, elapsed, predicted, poll, lanes)));
            return None;
        }
        let record = SyncRecord {
            kind,
            execution_arn: info.arn,
            run: current.run,
            started_at: current.requested_at,
            ended_at: self.now,
            status: info.status,
            counters: info.counters,
            durations: info.durations,
            execution_started_at: info.started_at,
            error_code: info.error_code,
            error_detail: info.error_detail,
        };
        lane.current = None;
        lane.next_check_at = None;
        lane.syncs.push(record.clone());
        let name = lane.name.clone();
        let attempts = lane.trailing_failures(kind, runs);
        self.events.push(Event::SyncFinished {
            lane: name.clone(),
            record: record.clone(),
        });
        if !record.succeeded() {
            let retries = self.intent.sync.retry_failed_executions;
            if attempts <= retries {
                self.events.push(Event::Note(format!(
                    "lane {name}: {kind} execution failed ({}): starting it again ({attempts} of {retries} retries)",
                    record.error_code.as_deref().unwrap_or("no error code"),
                )));
                return None;
            }
            return Some(Flow::Act(Action::Halt(Halt::ExecutionFailed {
                lane: name,
                kind,
                attempts,
                code: record.error_code,
                detail: record.error_detail,
            })));
        }
        // Incrementals propagate deletes too: one run that removed more than the limit stops the migration
        // until someone accepts it (final syncs are counted together, after the round).
        let limit = self.intent.cutover.max_final_deletes;
        if kind == SyncKind::Incremental && record.counters.files_deleted > limit {
            self.trip_delete_guard(&record, record.counters.files_deleted);
            return Some(self.delete_guard_halt());
        }
        None
    }

    /// Records a trip; an acceptance of an earlier trip does not cover it.
    fn trip_delete_guard(&mut self, record: &SyncRecord, count: u64) {
        let earlier = self.cp.delete_guard.replace(GuardTrip {
            at: self.now,
            execution_arn: record.execution_arn.clone(),
            count,
            limit: self.intent.cutover.max_final_deletes,
        });
        if earlier.is_some() {
            self.cp.deletes_accepted_at = None;
            self.cp.deletes_accepted_by = None;
        }
    }

    /// Stops while a tripped delete guard is not accepted.
    fn delete_guard_halt(&self) -> Flow {
        match &self.cp.delete_guard {
            Some(trip) if self.cp.deletes_accepted_at.is_none() => {
                Flow::Act(Action::Halt(Halt::DeleteGuard {
                    deleted: trip.count,
                    limit: trip.limit,
                }))
            }
            _ => Flow::Again,
        }
    }

    /// Every lane is done with this round.
    fn round_complete(&mut self, round: Round) -> Flow {
        match round {
            Round::Initial => Flow::Advance(Phase::LowerTtl),
            Round::Incremental => {
                if let Flow::Act(halt) = self.delete_guard_halt() {
                    return Flow::Act(halt);
                }
                self.events.push(Event::Note(if self.all_lanes_converged() {
                    "incremental syncs converged in every lane".into()
                } else {
                    "not converged; the operator accepted the delta".into()
                }));
                match &self.intent.windows {
                    Some(windows) if windows.copy_shares => Flow::Advance(Phase::CopyShares),
                    _ => Flow::Advance(Phase::CutoverGate),
                }
            }
            Round::Refresh => Flow::Again,
            Round::Final => self.last_copy_guards(SyncKind::Final, self.cp.frozen_at, Phase::DnsSwap),
            Round::Reverse => {
                let frozen = self.cp.rollback.as_ref().and_then(|r| r.target_frozen_at);
                self.last_copy_guards(SyncKind::Reverse, frozen, Phase::SwapBack)
            }
        }
    }

    fn all_lanes_converged(&self) -> bool {
        self.cp.forward.lanes.iter().all(|lane| {
            lane.syncs
                .last()
                .filter(|s| s.succeeded() && s.kind == SyncKind::Incremental)
                .is_some_and(|s| Convergence::of(self.intent, s).converged())
        })
    }

    /// After a leg's last copy — every lane's final sync after the source's freeze, or its reverse sync after
    /// the target's — the deletes of them all together against the guard (a trip before the freeze does not
    /// cover them; an accepted trip covers no more than it counted), then `next`.
    fn last_copy_guards(&mut self, kind: SyncKind, frozen: Option<Timestamp>, next: Phase) -> Flow {
        let Some(frozen) = frozen else {
            return self.missing("no freeze is recorded before the last copy");
        };
        let leg = if kind == SyncKind::Reverse {
            &self.cp.reverse
        } else {
            &self.cp.forward
        };
        let runs: Vec<SyncRecord> = leg.runs_after(kind, frozen).into_iter().cloned().collect();
        let deleted: u64 = runs.iter().map(|s| s.counters.files_deleted).sum();
        let covered = self
            .cp
            .delete_guard
            .as_ref()
            .is_some_and(|t| t.at >= frozen && deleted <= t.count);
        if deleted > self.intent.cutover.max_final_deletes
            && !covered
            && let Some(last) = runs.last()
        {
            self.trip_delete_guard(last, deleted);
        }
        if let Flow::Act(halt) = self.delete_guard_halt() {
            return Flow::Act(halt);
        }
        Flow::Advance(next)
    }

    /// How long ago the lane's last successful sync ended, if longer than `sync.max_delta_age` and the lane
    /// was not refreshed in the current refresh round.
    fn stale_age(&self, lane: &LaneState) -> Option<Duration> {
        let last = lane.last_good()?;
        let age = secs_between(last.ended_at, self.now);
        let refreshed = self
            .cp
            .refresh_round_at
            .is_some_and(|round| last.ended_at >= round);
        (age > self.freshness() && !refreshed).then_some(age)
    }

    /// While the gate or the freeze waits: a refresh in flight, an answer about one, or a lane whose delta
    /// is older than `sync.max_delta_age` goes through the lanes first.
    fn needs_refresh(&self, input: &Input) -> bool {
        let sync_answer = matches!(
            input,
            Input::Response(
                Response::ExecutionCandidates(_) | Response::ExecutionStarted { .. } | Response::Execution(_)
            )
        );
        let leg = &self.cp.forward;
        sync_answer || leg.in_flight() > 0 || leg.lanes.iter().any(|l| self.stale_age(l).is_some())
    }

    /// The last sync of each lane and the downtime they predict, for the gate and freeze prompts.
    fn delta_details(&self) -> Vec<String> {
        let mut details = Vec::new();
        let lanes = &self.cp.forward.lanes;
        let lasts: Vec<&SyncRecord> = lanes.iter().filter_map(|l| l.last_good()).collect();
        if let Some(slowest) = lasts.iter().max_by_key(|s| s.run_secs()) {
            let oldest = lasts.iter().map(|s| s.ended_at).min().unwrap_or(slowest.ended_at);
            let files: u64 = lasts.iter().map(|s| s.counters.files_transferred).sum();
            let bytes: u64 = lasts.iter().map(|s| s.counters.bytes_transferred).sum();
            details.push(format!(
                "last syncs of {} lane(s): {files} files, {} changed; the slowest took {}; the oldest ended {} ago",
                lasts.len(),
                crate::plan::units::Bytes(bytes),
                Duration(slowest.run_secs()),
                secs_between(oldest, self.now)
            ));
        }
        if let Some(d) = predicted_downtime(self.intent, &self.cp) {
            details.push(format!(
                "predicted downtime users see (freeze to the last client resolving the new name): about {d}"
            ));
        }
        details
    }

    /// After the initial sync: lower the record's TTL ahead of time (same value, the plan's TTL), so clients
    /// cache the old answer for seconds, not minutes, at the swap. The old record is kept for rollback.
    fn lower_ttl(&mut self, input: Input) -> Flow {
        if self.cp.ttl_lowered_at.is_some() {
            return Flow::Advance(Phase::IncrementalSync);
        }
        match input {
            Input::Start | Input::Woke => match self.cp.ttl_change_id.clone() {
                Some(change_id) => Flow::Act(Action::Call(Command::GetChange {
                    change_id,
                    name_service: self.intent.name_service(),
                })),
                None => Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request()))),
            },
            Input::Response(Response::Environment(env)) => {
                let problems = self.record_problems(&env, false);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::LowerTtl, problems);
                }
                let Some(record) = env.record else {
                    return self.missing("no record in the inspection");
                };
                self.cp.dns_original_record.get_or_insert(record.clone());
                let ttl = self.intent.dns.ttl;
                if record.ttl.is_none_or(|old| old <= ttl) {
                    self.cp.ttl_lowered_at = Some(self.now);
                    return Flow::Advance(Phase::IncrementalSync);
                }
                self.cp.ttl_lowering_requested_at.get_or_insert(self.now);
                let dns = &self.intent.dns;
                Flow::Act(Action::Call(Command::UpsertCname(UpsertCnameRequest {
                    hosted_zone_id: dns.hosted_zone_id.clone(),
                    record_name: dns.record_name.clone(),
                    value: record.values.first().cloned().unwrap_or_default(),
                    ttl,
                    comment: format!(
                        "fsx-migrate {}: lower the TTL before the cutover (same value)",
                        self.intent.migration.id
                    ),
                    name_service: self.intent.name_service(),
                })))
            }
            Input::Response(Response::Change { id, status }) => {
                self.cp.ttl_change_id.get_or_insert(id.clone());
                if status == ChangeStatus::InSync {
                    self.cp.ttl_lowered_at = Some(self.now);
                    return Flow::Advance(Phase::IncrementalSync);
                }
                Flow::Act(Action::WaitUntil {
                    at: after(self.now, DNS_POLL),
                    reason: format!("Route 53 change {id} (lower the TTL) is {status}"),
                })
            }
            other => self.unexpected(&other),
        }
    }

    /// When clients can no longer hold the record's old TTL: one old TTL after the lowered one was in sync.
    fn old_ttl_expires_at(&self) -> Option<Timestamp> {
        let lowered = self.cp.ttl_lowered_at?;
        let old = self.cp.dns_original_record.as_ref()?.ttl?;
        (old > self.intent.dns.ttl).then(|| after(lowered, Duration(old)))
    }

    /// The source's shares and in-server settings onto the target, before the gate: export.ps1 on the source,
    /// apply.ps1 on the target (idempotent: created, updated, access set exactly), export.ps1 on the target
    /// to verify. A share the copy does not carry, a share not created, one that differs afterwards, or a
    /// script that failed stops the run (nothing frozen); settings that differ are reported. The stopped
    /// attempt stays on record; the next run starts over from a fresh export of the source.
    fn copy_shares(&mut self, input: Input) -> Flow {
        if self.intent.windows.as_ref().is_none_or(|w| !w.copy_shares)
            || self.cp.shares.as_ref().is_some_and(|s| s.verified_at.is_some())
        {
            return Flow::Advance(Phase::CutoverGate);
        }
        let Some(target) = self.cp.target_file_system_id.clone() else {
            return self.missing("the target file system's id");
        };
        let source = self.intent.source.file_system_id.clone();
        match input {
            Input::CommandFinished(Ok(())) => Flow::Again,
            Input::CommandFinished(Err(error)) => self.shares_stopped(vec![error]),
            Input::Start | Input::Woke => {
                let now = self.now;
                // A stopped attempt is kept until the next one starts, from a fresh export.
                if self.cp.shares.as_ref().is_none_or(|s| s.stopped_at.is_some()) {
                    self.cp.shares = Some(SharesCopy::new(now));
                }
                let (source_export, applied, target_export) = self.shares_copy_steps();
                match (source_export, applied, target_export) {
                    (None, _, _) => Flow::Act(self.start_powershell(WindowsScript::Export, &source)),
                    (Some(export), None, _) => {
                        let windows = self.intent.windows.as_ref().expect("checked above");
                        let uncovered =
                            uncovered_shares(&export, &self.intent.transfer, &windows.shares_left_behind);
                        if !uncovered.is_empty() {
                            let problems: Vec<String> = uncovered
                                .iter()
                                .map(|u| format!("{u}: the plan's copy does not carry it"))
                                .collect();
                            if let Some(copy) = self.cp.shares.as_mut() {
                                copy.uncovered = uncovered.iter().map(|u| u.to_string()).collect();
                            }
                            return self.shares_stopped(problems);
                        }
                        Flow::Act(self.start_powershell(WindowsScript::Apply, &target))
                    }
                    (Some(_), Some(_), None) => {
                        Flow::Act(self.start_powershell(WindowsScript::Export, &target))
                    }
                    (Some(export), Some(applied), Some(on_target)) => {
                        self.shares_verified(&export, applied, &on_target)
                    }
                }
            }
            other => self.unexpected(&other),
        }
    }

    /// The copy stops: recorded as stopped (what it found stays on record), the run halts.
    fn shares_stopped(&mut self, problems: Vec<String>) -> Flow {
        let now = self.now;
        if let Some(copy) = self.cp.shares.as_mut() {
            copy.stopped_at = Some(now);
        }
        Flow::Act(Action::Halt(Halt::SharesNotCopied(problems)))
    }

    /// The copy's steps so far, each the result of a run that succeeded after the one before it: the
    /// source's export, the apply on the target, the target's export.
    fn shares_copy_steps(&self) -> (Option<ServiceExport>, Option<ApplyResult>, Option<ServiceExport>) {
        let Some(copy) = &self.cp.shares else {
            return (None, None, None);
        };
        let source = &self.intent.source.file_system_id;
        let runs: Vec<&PowerShellRun> = self
            .cp
            .powershell
            .iter()
            .filter(|r| r.requested_at >= copy.started_at && r.result.is_some())
            .collect();
        let find = |from: usize, script: WindowsScript, on_source: bool| {
            runs.iter()
                .enumerate()
                .skip(from)
                .rfind(|(_, r)| r.script == script && (r.file_system_id == *source) == on_source)
                .map(|(i, r)| (i, r.result.as_deref().unwrap_or_default()))
        };
        let Some((i, json)) = find(0, WindowsScript::Export, true) else {
            return (None, None, None);
        };
        let export = parse_result(WindowsScript::Export, json).ok();
        let Some((j, json)) = find(i + 1, WindowsScript::Apply, false) else {
            return (export, None, None);
        };
        let applied = parse_result(WindowsScript::Apply, json).ok();
        let on_target = find(j + 1, WindowsScript::Export, false)
            .and_then(|(_, json)| parse_result(WindowsScript::Export, json).ok());
        (export, applied, on_target)
    }

    /// The freeze lists the source's shares as they are at the freeze: one the copy before the gate did not
    /// see was created since, and is not on the target. Reported (and kept in the copy's record), not fatal:
    /// the final sync carries its files, and a person creates the share during the window.
    fn shares_created_since_the_copy(&mut self, freeze_result: &str) {
        let Ok(frozen) = serde_json::from_str::<FreezeResult>(freeze_result) else {
            return;
        };
        let Some(export) = self.shares_copy_steps().0 else {
            return;
        };
        let left_behind = self
            .intent
            .windows
            .as_ref()
            .map(|w| w.shares_left_behind.clone())
            .unwrap_or_default();
        let new: Vec<String> = frozen
            .shares
            .iter()
            .filter_map(|s| s.get("name").and_then(|n| n.as_str()))
            .filter(|name| !export.shares.iter().any(|s| s.name.eq_ignore_ascii_case(name)))
            .filter(|name| !left_behind.iter().any(|l| l.eq_ignore_ascii_case(name)))
            .map(str::to_string)
            .collect();
        for name in new {
            let difference = format!(
                "share {name} was created on the source after the copy of shares: it is not on the target"
            );
            self.events.push(Event::Finding(preflight::warning(
                difference.clone(),
                Some("create it on the target during the window: fsx-migrate windows-script apply (runbook §8.1)"),
            )));
            if let Some(copy) = self.cp.shares.as_mut() {
                copy.differences.push(difference);
            }
        }
    }

    /// What apply.ps1 is to make true on the target: the source's export, without the shares left behind,
    /// the DataSync user keeping write access to the share it copies through.
    fn shares_to_apply(&self) -> Option<ServiceExport> {
        let (export, _, _) = self.shares_copy_steps();
        let left_behind = &self.intent.windows.as_ref()?.shares_left_behind;
        let mut apply = to_apply(&export?, left_behind);
        keep_writer(
            &mut apply,
            &self.intent.transfer.target_subdirectory,
            &self.datasync_account(),
        );
        Some(apply)
    }

    /// The target's own export against what was applied: the copy is verified, or the run stops.
    fn shares_verified(
        &mut self,
        export: &ServiceExport,
        applied: ApplyResult,
        on_target: &ServiceExport,
    ) -> Flow {
        let Some(wanted) = self.shares_to_apply() else {
            return self.missing("the source's export");
        };
        let mut problems: Vec<String> = applied
            .skipped
            .iter()
            .map(|s| format!("share {} was not created on the target: {}", s.name, s.reason))
            .collect();
        problems.extend(share_differences(&wanted.shares, &on_target.shares));
        let settings = setting_differences(export, on_target);
        let mut not_carried: Vec<String> = export
            .not_exported
            .iter()
            .chain(&applied.not_applied)
            .map(|n| format!("{}: {}", n.setting, n.reason))
            .collect();
        not_carried.dedup();
        let now = self.now;
        let Some(copy) = self.cp.shares.as_mut() else {
            return self.missing("the copy of the shares");
        };
        copy.created = applied.created.clone();
        copy.updated = applied.updated.clone();
        copy.skipped = applied
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.name, s.reason))
            .collect();
        copy.applied = applied.applied.clone();
        copy.not_carried = not_carried.clone();
        copy.differences = problems.iter().chain(&settings).cloned().collect();
        if !problems.is_empty() {
            return self.shares_stopped(problems);
        }
        copy.verified_at = Some(now);
        self.events.push(Event::Note(format!(
            "{} share(s) on the target match the source's (created: {}; updated: {}); settings applied: {}",
            wanted.shares.len(),
            list_or_none(&applied.created),
            list_or_none(&applied.updated),
            list_or_none(&applied.applied)
        )));
        for difference in settings {
            self.events.push(Event::Finding(preflight::warning(
                format!("{difference} (not fatal: set it by hand before the cutover if users rely on it)"),
                None,
            )));
        }
        for item in not_carried {
            self.events.push(Event::Finding(preflight::warning(
                format!("not copied to the target: {item}"),
                Some("docs/runbook.md §8 lists what to carry by hand"),
            )));
        }
        Flow::Advance(Phase::CutoverGate)
    }

    fn cutover_gate(&mut self, input: Input) -> Flow {
        if !matches!(input, Input::Confirmed(_)) && self.needs_refresh(&input) {
            return self.drive(Round::Refresh, input);
        }
        match input {
            Input::Start | Input::Woke => {
                if self.cp.gate_opened_at.is_some() {
                    return Flow::Advance(Phase::Freeze);
                }
                if let Some(at) = self.old_ttl_expires_at()
                    && at > self.now
                {
                    return Flow::Act(Action::WaitUntil {
                        at,
                        reason: "resolvers may still cache the record's old TTL".into(),
                    });
                }
                if let Some(halt) = self.parked() {
                    return Flow::Act(Action::Halt(halt));
                }
                // A check left running would hold its lane's final sync (and the downtime) until it ends.
                if let Some(check) = self.cp.access_checks.last().and_then(|c| c.current.as_ref()) {
                    let execution = check.execution_arn.as_deref().unwrap_or("not seen yet");
                    return Self::refuse(
                        IrreversibleStep::Freeze,
                        vec![format!(
                            "a check's execution ({execution}) may still run, and its result was never read: \
                             `check` re-attaches to it and reads it (it copies nothing; left running, it would \
                             hold its lane's final sync)"
                        )],
                    );
                }
                if let Some(flow) = self.window_hold() {
                    return flow;
                }
                let mut details = self.delta_details();
                details.push(format!("freeze action: {:?}", self.intent.cutover.freeze).to_lowercase());
                Flow::Act(Action::Confirm(Confirmation {
                    kind: ConfirmKind::Gate,
                    question: "Open the cutover gate: freeze the source and run the final sync now?".into(),
                    details,
                }))
            }
            Input::Confirmed(true) => {
                // An answer given long after the question (overnight) first refreshes the delta.
                self.cp.gate_opened_at = Some(self.now);
                self.cp.gate_opened_by = Some(self.opts.operator.clone());
                self.cp.refresh_round_at = None;
                Flow::Again
            }
            Input::Confirmed(false) => {
                // Declining is postponing: the run parks at the gate, and `resume` continues.
                self.park("declined the cutover gate prompt");
                Flow::Again
            }
            other => self.unexpected(&other),
        }
    }

    /// Parks at the gate when asked to (a postpone flag file, a declined prompt), un-parks on `resume`; the
    /// stop while parked. `--yes` and `--until` never carry a parked run past the gate.
    fn parked(&mut self) -> Option<Halt> {
        if self.opts.unpark
            && let Some(since) = self.cp.parked_at.take()
        {
            let by = self.cp.parked_by.take().unwrap_or_default();
            self.cp.park_reason = None;
            self.events.push(Event::Note(format!(
                "resumed by {}: parked at the gate since {since} by {by}",
                self.opts.operator
            )));
        }
        if self.opts.postpone_requested && !self.opts.unpark {
            self.park("the postpone flag file exists");
        }
        Some(Halt::Parked {
            since: self.cp.parked_at?,
            by: self.cp.parked_by.clone().unwrap_or_default(),
            reason: self.cp.park_reason.clone().unwrap_or_default(),
        })
    }

    fn park(&mut self, reason: &str) {
        if self.cp.parked_at.is_none() {
            self.cp.parked_at = Some(self.now);
            self.cp.parked_by = Some(self.opts.operator.clone());
            self.cp.park_reason = Some(reason.to_string());
        }
    }

    /// Holds at the gate until the cutover window is open and the predicted downtime fits both the budget
    /// and what is left of the window, keeping the copy warm meanwhile; without a window, a prediction over
    /// the budget stops the run (`--accept-delta` accepts it).
    fn window_hold(&mut self) -> Option<Flow> {
        let cutover = &self.intent.cutover;
        let predicted = predicted_downtime(self.intent, &self.cp);
        let over_budget = match (cutover.max_downtime, predicted) {
            (Some(budget), Some(p)) if p > budget && self.cp.delta_accepted_at.is_none() => Some((p, budget)),
            _ => None,
        };
        let Some(window) = &cutover.window else {
            let (predicted, budget) = over_budget?;
            return Some(Flow::Act(Action::Halt(Halt::OverBudget { predicted, budget })));
        };
        let (reason, reopens) = match window_state(window, self.now) {
            WindowState::Closed { opens_at } => (
                format!(
                    "holding at the gate: the cutover window opens {}",
                    local(window, opens_at)
                ),
                opens_at,
            ),
            WindowState::Open { closes_at } => {
                let left = secs_between(self.now, closes_at);
                let misfit = match (over_budget, predicted) {
                    (Some((p, budget)), _) => Some(format!(
                        "the predicted downtime {p} is over cutover.max_downtime {budget}"
                    )),
                    (None, Some(p)) if p > left => Some(format!(
                        "the predicted downtime {p} does not fit the {left} left in this window"
                    )),
                    _ => None,
                };
                let misfit = misfit?;
                let next = next_opening(window, self.now);
                let reason = format!("{misfit}: waiting for the next window, {}", local(window, next));
                self.events.push(Event::Note(reason.clone()));
                (reason, next)
            }
        };
        // A new keep-warm round may start once this one is over.
        self.cp.refresh_round_at = None;
        let warm = self.next_keep_warm().filter(|t| *t < reopens);
        Some(Flow::Act(Action::WaitUntil {
            at: warm.unwrap_or(reopens),
            reason,
        }))
    }

    /// The bandwidth a sync of `kind` may use now: the business hours' limit while they are open, else
    /// `sync.bytes_per_second`; the final and reverse syncs, inside the downtime, are never limited.
    fn bandwidth_limit(&self, kind: SyncKind) -> Option<u64> {
        if matches!(kind, SyncKind::Final | SyncKind::Reverse) {
            return None;
        }
        let sync = &self.intent.sync;
        let base = sync.bytes_per_second.map(|b| b.0);
        let working = sync
            .business_hours
            .as_ref()
            .filter(|b| matches!(window_state(&b.hours(), self.now), WindowState::Open { .. }));
        match (working, base) {
            (Some(hours), Some(base)) => Some(hours.bytes_per_second.0.min(base)),
            (Some(hours), None) => Some(hours.bytes_per_second.0),
            (None, base) => base,
        }
    }

    /// When the business hours next begin or end, if that changes the limit of a sync of `kind`.
    fn bandwidth_changes_at(&self, kind: SyncKind) -> Option<Timestamp> {
        if matches!(kind, SyncKind::Final | SyncKind::Reverse) {
            return None;
        }
        let hours = self.intent.sync.business_hours.as_ref()?;
        Some(match window_state(&hours.hours(), self.now) {
            WindowState::Open { closes_at } => closes_at,
            WindowState::Closed { opens_at } => opens_at,
        })
    }

    /// How fresh the lanes are kept while the gate holds for a window (else `sync.max_delta_age`).
    fn freshness(&self) -> Duration {
        let max_age = self.intent.sync.max_delta_age;
        let cutover = &self.intent.cutover;
        let holding = cutover.window.is_some() && self.cp.gate_opened_at.is_none();
        match cutover.keep_warm_interval {
            Some(warm) if holding => warm,
            _ => max_age,
        }
    }

    /// When the stalest lane needs its keep-warm incremental: just past `freshness` (a lane is stale once
    /// older than it).
    fn next_keep_warm(&self) -> Option<Timestamp> {
        let freshness = Duration(self.freshness().as_secs().saturating_add(1));
        self.cp
            .forward
            .lanes
            .iter()
            .filter_map(|l| l.last_good())
            .map(|s| after(s.ended_at, freshness))
            .min()
    }

    /// The freeze: refresh a stale delta first, re-check the world (source available, record still on the
    /// source), then the configured freeze action. A command freeze that may have run is never re-run.
    fn freeze(&mut self, input: Input) -> Flow {
        if self.cp.frozen_at.is_some() {
            return self.mark_frozen(input);
        }
        let command_may_have_run =
            matches!(self.intent.cutover.freeze, FreezeKind::Command | FreezeKind::Ssm)
                && self.cp.freeze_requested_at.is_some();
        // A stale delta is refreshed first, unless a freeze command may already have run.
        if !command_may_have_run && self.needs_refresh(&input) {
            return self.drive(Round::Refresh, input);
        }
        match input {
            Input::Start | Input::Woke => {
                Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request())))
            }
            Input::Response(Response::Environment(env)) => {
                let problems = self.record_problems(&env, false);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::Freeze, problems);
                }
                self.cp.freeze_requested_at.get_or_insert(self.now);
                let source = self.intent.source.file_system_id.clone();
                let mut details = self.delta_details();
                let endpoint = env
                    .source
                    .as_ref()
                    .map(|s| s.remote_administration_endpoint.as_deref().unwrap_or(&s.dns_name));
                details.extend(manual_freeze_steps(endpoint, &self.datasync_account()));
                Flow::Act(self.operator_action(OperatorAct::Freeze, &source, command_may_have_run, details))
            }
            input => match OperatorAnswer::of(&input) {
                Some(OperatorAnswer::Done) => {
                    if input == Input::Confirmed(true) {
                        self.cp.frozen_by = Some(self.opts.operator.clone());
                    }
                    self.cp.frozen_at = Some(self.now);
                    Flow::Again
                }
                Some(answer) => {
                    // Declined, or the command failed (its outcome is known): trying again is the operator's call.
                    self.cp.freeze_requested_at = None;
                    answer.halt(ConfirmKind::ManualFreeze)
                }
                None => self.unexpected(&input),
            },
        }
    }

    /// Records the freeze on the source (an idempotent tag, so sent again after a crash), then the final sync.
    fn mark_frozen(&mut self, input: Input) -> Flow {
        if self.cp.frozen_marked_at.is_some() {
            return Flow::Advance(Phase::FinalSync);
        }
        match input {
            Input::Start | Input::Woke => match self.source_arn() {
                Some(file_system_arn) => Flow::Act(Action::Call(Command::MarkFrozen {
                    file_system_arn,
                    plan_id: self.intent.migration.id.clone(),
                })),
                None => self.unexpected(&input),
            },
            Input::Response(Response::MarkedFrozen) => {
                self.cp.frozen_marked_at = Some(self.now);
                match self.cp.phase() {
                    Phase::Freeze => Flow::Advance(Phase::FinalSync),
                    _ => Flow::Again,
                }
            }
            other => self.unexpected(&other),
        }
    }

    /// The action that freezes or unfreezes `file_system_id` as the plan says: with `freeze = "command"` the
    /// plan's command runs (never twice blindly: a command that may have run is asked about instead); else a
    /// person does it and confirms.
    fn operator_action(
        &mut self,
        act: OperatorAct,
        file_system_id: &str,
        may_have_run: bool,
        mut details: Vec<String>,
    ) -> Action {
        let unrecorded = act == OperatorAct::Unfreeze && self.recorded_shares(file_system_id).is_none();
        if self.intent.cutover.freeze == FreezeKind::Ssm {
            if !unrecorded {
                let script = match act {
                    OperatorAct::Freeze => WindowsScript::Freeze,
                    OperatorAct::Unfreeze => WindowsScript::Unfreeze,
                };
                return self.start_powershell(script, file_system_id);
            }
            details.push(format!(
                "no SSM freeze of {file_system_id} recorded its share permissions, so fsx-migrate cannot put them back"
            ));
        }
        let cutover = &self.intent.cutover;
        let command = match act {
            OperatorAct::Freeze => cutover.freeze_command.as_ref(),
            OperatorAct::Unfreeze => cutover.unfreeze_command.as_ref(),
        }
        .filter(|_| cutover.freeze == FreezeKind::Command);
        let role = if file_system_id == self.intent.source.file_system_id {
            "source"
        } else {
            "target"
        };
        match (command, act) {
            (Some(_), _) if may_have_run => Action::Confirm(Confirmation {
                kind: match act {
                    OperatorAct::Freeze => ConfirmKind::FreezeOutcomeUnknown,
                    OperatorAct::Unfreeze => ConfirmKind::ManualUnfreeze,
                },
                question: match act {
                    OperatorAct::Freeze => format!(
                        "The freeze command was started but its result was not recorded. Is {file_system_id} frozen?"
                    ),
                    OperatorAct::Unfreeze => format!(
                        "The unfreeze command was started but its result was not recorded. Does {file_system_id} \
                         take writes again?"
                    ),
                },
                details: vec!["fsx-migrate does not re-run a freeze or unfreeze command blindly".into()],
            }),
            (Some(command), _) => Action::RunCommand(OperatorCommand {
                purpose: act.name(),
                command: command.clone(),
                env: self.command_env(act, file_system_id),
                timeout: cutover.command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            }),
            (None, OperatorAct::Freeze) => {
                if !details.iter().any(|d| d.contains("FSxRemoteAdmin")) {
                    details.extend(manual_freeze_steps(None, &self.datasync_account()));
                }
                Action::Confirm(Confirmation {
                    kind: ConfirmKind::ManualFreeze,
                    question: format!(
                        "Freeze {file_system_id} now, then confirm: is the {role} frozen (no more writes)?"
                    ),
                    details,
                })
            }
            (None, OperatorAct::Unfreeze) => {
                details.push(
                    "restore the share permissions you recorded before the freeze (keep the DataSync user's \
                     access)"
                        .into(),
                );
                Action::Confirm(Confirmation {
                    kind: ConfirmKind::ManualUnfreeze,
                    question: format!(
                        "Unfreeze {file_system_id} now, then confirm: does the {role} take writes again?"
                    ),
                    details,
                })
            }
        }
    }

    /// Records a PowerShell run write-ahead and takes its first step (its file system's endpoint).
    fn start_powershell(&mut self, script: WindowsScript, file_system_id: &str) -> Action {
        let mut comment = format!(
            "fsx-migrate {} {script} {file_system_id} {}",
            self.intent.migration.id,
            self.now.as_second()
        );
        comment.truncate(100);
        self.cp.powershell.push(PowerShellRun {
            script,
            file_system_id: file_system_id.to_string(),
            requested_at: self.now,
            comment,
            endpoint: None,
            sent_at: None,
            command_id: None,
            lookups: 0,
            finished_at: None,
            status: None,
            result: None,
            error: None,
        });
        Action::Call(Command::DescribeFileSystem {
            file_system_id: file_system_id.to_string(),
        })
    }

    /// What a freeze or unfreeze command learns from its environment.
    fn command_env(&self, act: OperatorAct, file_system_id: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("FSX_MIGRATE_PLAN_ID", self.intent.migration.id.clone()),
            ("FSX_MIGRATE_ACTION", act.name().to_string()),
            ("FSX_MIGRATE_FILE_SYSTEM_ID", file_system_id.to_string()),
            ("FSX_MIGRATE_SOURCE_ID", self.intent.source.file_system_id.clone()),
            ("FSX_MIGRATE_PHASE", self.cp.phase().name().to_string()),
        ];
        if let Some(target) = &self.cp.target_file_system_id {
            env.push(("FSX_MIGRATE_TARGET_ID", target.clone()));
        }
        if let Some(dns) = &self.cp.target_dns_name {
            env.push(("FSX_MIGRATE_TARGET_DNS_NAME", dns.clone()));
        }
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The swap needs the freeze recorded on the source itself, not only in the checkpoint.
    fn freeze_record_problem(&self, env: &Environment) -> Option<String> {
        let source = env.source.as_ref()?;
        let plan_id = &self.intent.migration.id;
        match source.settings.tags.get(FROZEN_TAG) {
            Some(value) if value == plan_id => None,
            Some(other) => Some(format!(
                "the source {} is tagged {FROZEN_TAG}={other}, not {plan_id}: another plan froze it",
                source.id
            )),
            None => Some(format!(
                "the source {} carries no {FROZEN_TAG} tag: the freeze is not recorded on AWS (was it undone?)",
                source.id
            )),
        }
    }

    /// What is wrong with the source and the record for a freeze or a swap: the source must be there, and the
    /// record must still point at it (or, once the swap was sent, at this plan's target).
    fn record_problems(&self, env: &Environment, swap_sent: bool) -> Vec<String> {
        let source_id = &self.intent.source.file_system_id;
        let Some(source) = &env.source else {
            return vec![format!("the source file system {source_id} no longer exists")];
        };
        let dns = &self.intent.dns;
        let Some(record) = &env.record else {
            return vec![format!(
                "the record {} no longer exists in hosted zone {}",
                dns.record_name, dns.hosted_zone_id
            )];
        };
        let target = self.cp.target_dns_name.as_deref().unwrap_or_default();
        let points_at = |name: &str| {
            !name.is_empty()
                && record.values.len() == 1
                && crate::cloud::model::dns_eq(&record.values[0], name)
        };
        let mut problems = Vec::new();
        if !record
            .record_type
            .eq_ignore_ascii_case(self.intent.dns.record_type())
        {
            problems.push(format!(
                "{} is now a {} record, not a {}",
                record.name,
                record.record_type,
                self.intent.dns.record_type()
            ));
        } else if !(points_at(&source.dns_name) || (swap_sent && points_at(target))) {
            problems.push(format!(
                "{} now points at {}, not at the source {} ({}): someone else changed it",
                record.name,
                record.values.join(", "),
                source_id,
                source.dns_name
            ));
        }
        problems
    }

    /// What the checkpoint must show before the swap: frozen, a complete final sync after the freeze, the
    /// guards passed or accepted, a target that is not the source.
    fn swap_checkpoint_problems(&self) -> Vec<String> {
        let cp = &self.cp;
        let mut problems = Vec::new();
        if cp.frozen_at.is_none() {
            problems.push("no freeze of the source is recorded".into());
        }
        if cp.forward.lanes.is_empty() {
            problems.push("the checkpoint holds no lane".into());
        }
        for lane in &cp.forward.lanes {
            let finals = cp
                .frozen_at
                .map(|t| lane.runs_after(SyncKind::Final, t))
                .unwrap_or_default();
            match finals.last() {
                Some(last) if last.succeeded() => {
                    if last.counters.files_skipped > 0 && cp.skipped_accepted_at.is_none() {
                        problems.push(format!(
                            "lane {}: the last final sync skipped {} files and nobody accepted that",
                            lane.name, last.counters.files_skipped
                        ));
                    }
                }
                _ => problems.push(format!(
                    "lane {}: no final sync succeeded after the freeze",
                    lane.name
                )),
            }
            if lane.current.is_some() {
                problems.push(format!("lane {}: a sync is still in flight", lane.name));
            }
        }
        if cp.delete_guard.is_some() && cp.deletes_accepted_at.is_none() {
            problems.push("the delete guard tripped and nobody accepted the deletes".into());
        }
        if cp.target_file_system_id.as_deref() == Some(self.intent.source.file_system_id.as_str()) {
            problems.push("the checkpoint names the source itself as the target".into());
        }
        problems
    }

    /// What DescribeFileSystems must show of the target before the swap.
    fn target_problems(&self, fs: &FileSystemInfo) -> Vec<String> {
        let mut problems = Vec::new();
        if fs.id == self.intent.source.file_system_id {
            problems.push(format!("{} is the source, not a target", fs.id));
        }
        if fs.deployment_type != DeploymentType::MultiAz1 {
            problems.push(format!("{} is {}, not MULTI_AZ_1", fs.id, fs.deployment_type));
        }
        if fs.settings.tags.get(PLAN_TAG) != Some(&self.intent.migration.id) {
            problems.push(format!(
                "{} is not tagged {PLAN_TAG}={}: this plan did not create it",
                fs.id, self.intent.migration.id
            ));
        }
        if fs.lifecycle != Lifecycle::Available {
            problems.push(format!("{} is {}, not AVAILABLE", fs.id, fs.lifecycle));
        }
        problems
    }

    /// The swap re-checks the checkpoint, then the target and the record as they are now, then UPSERTs.
    fn dns_swap(&mut self, input: Input) -> Flow {
        match input {
            Input::Start | Input::Woke => {
                let problems = self.swap_checkpoint_problems();
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DnsSwap, problems);
                }
                if self.cp.frozen_marked_at.is_none() {
                    // A checkpoint written before freezes were tagged: record the freeze now.
                    return self.mark_frozen(input);
                }
                let Some(id) = self.cp.target_file_system_id.clone() else {
                    return self.missing("no target file system id in the checkpoint");
                };
                Flow::Act(Action::Call(Command::DescribeFileSystem { file_system_id: id }))
            }
            Input::Response(Response::MarkedFrozen) => self.mark_frozen(input),
            Input::Response(Response::FileSystem(fs)) => {
                let problems = self.target_problems(&fs);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DnsSwap, problems);
                }
                // The name users get is the one the target has now.
                self.record_target(&fs);
                Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request())))
            }
            Input::Response(Response::Environment(env)) => {
                let swap_sent = self.cp.dns_requested_at.is_some();
                let mut problems = self.record_problems(&env, swap_sent);
                problems.extend(self.freeze_record_problem(&env));
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DnsSwap, problems);
                }
                let Some(value) = self.cp.target_dns_name.clone() else {
                    return self.missing("no target DNS name in the checkpoint");
                };
                if self.cp.dns_previous_record.is_none() && !swap_sent {
                    self.cp.dns_previous_record = env.record.clone();
                }
                // The source's DNS aliases follow the record once it is in sync (phase move_aliases).
                if !swap_sent
                    && self.cp.aliases.is_none()
                    && let Some(source) = env.source.as_ref().filter(|s| !s.aliases.is_empty())
                {
                    self.cp.aliases = Some(AliasMove::new(
                        source.id.clone(),
                        self.cp.target_file_system_id.clone().unwrap_or_default(),
                    ));
                }
                // Write-ahead; UPSERT is idempotent, so after a crash it is simply sent again.
                self.cp.dns_requested_at.get_or_insert(self.now);
                let dns = &self.intent.dns;
                Flow::Act(Action::Call(Command::UpsertCname(UpsertCnameRequest {
                    hosted_zone_id: dns.hosted_zone_id.clone(),
                    record_name: dns.record_name.clone(),
                    value,
                    ttl: dns.ttl,
                    comment: format!(
                        "fsx-migrate {}: cut over to the Multi-AZ file system",
                        self.intent.migration.id
                    ),
                    name_service: self.intent.name_service(),
                })))
            }
            Input::Response(Response::Change { id, .. }) => {
                self.cp.dns_change_id = Some(id);
                Flow::Advance(Phase::DnsWait)
            }
            other => self.unexpected(&other),
        }
    }
    fn dns_wait(&mut self, input: Input) -> Flow {
        let Some(change_id) = self.cp.dns_change_id.clone() else {
            return self.missing("no Route 53 change id in the checkpoint");
        };
        if let Some(flow) = self.change_wait(change_id, "", input) {
            return flow;
        }
        self.cp.dns_insync_at = Some(self.now);
        match self.cp.aliases {
            Some(_) => Flow::Advance(Phase::MoveAliases),
            None => Flow::Advance(Phase::Complete),
        }
    }

    /// Waits for a Route 53 change: `None` once it is INSYNC, else the flow that asks again or waits.
    fn change_wait(&self, change_id: String, what: &str, input: Input) -> Option<Flow> {
        match input {
            Input::Start | Input::Woke => Some(Flow::Act(Action::Call(Command::GetChange {
                change_id,
                name_service: self.intent.name_service(),
            }))),
            Input::Response(Response::Change {
                status: ChangeStatus::InSync,
                ..
            }) => None,
            Input::Response(Response::Change { status, .. }) => Some(Flow::Act(Action::WaitUntil {
                at: after(self.now, DNS_POLL),
                reason: format!("Route 53 change {change_id}{what} is {status}"),
            })),
            other => Some(self.unexpected(&other)),
        }
    }

    // ---- rollback: the reverse leg ----------------------------------------------------------------------

    /// `rollback` after the swap: confirmed (`--yes` answers), recorded with who asked, then the target's freeze.
    fn start_rollback(&mut self, input: Input) -> Flow {
        match input {
            Input::Confirmed(true) => {
                self.cp.rollback = Some(Rollback::new(self.now, self.opts.operator.clone()));
                Flow::Advance(Phase::FreezeTarget)
            }
            Input::Confirmed(false) => Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::Rollback))),
            _ => {
                let target = self.cp.target_file_system_id.clone().unwrap_or_default();
                let source = &self.intent.source.file_system_id;
                Flow::Act(Action::Confirm(Confirmation {
                    kind: ConfirmKind::Rollback,
                    question: format!(
                        "Roll back to {source}: freeze {target}, copy what users wrote to it since the swap back \
                         to {source}, and point {} at {source} again?",
                        self.intent.dns.record_name
                    ),
                    details: vec![
                        format!("users cannot write from the target's freeze until the source is unfrozen"),
                        format!("{target} is kept (frozen): delete it yourself once you are sure"),
                    ],
                }))
            }
        }
    }

    fn rollback_mut(&mut self) -> &mut Rollback {
        self.cp
            .rollback
            .get_or_insert_with(|| Rollback::new(self.now, self.opts.operator.clone()))
    }

    /// The target stops taking writes: the record must still point at it (this plan's swap), then the
    /// operator's freeze of the target, recorded on it with the freeze tag.
    fn freeze_target(&mut self, input: Input) -> Flow {
        let Some(target_arn) = self.cp.target_arn.clone() else {
            return self.missing("no target ARN in the checkpoint");
        };
        let target = self.cp.target_file_system_id.clone().unwrap_or_default();
        let rollback = self.rollback_mut().clone();
        if rollback.target_frozen_marked_at.is_some() {
            return Flow::Advance(Phase::PrepareReverse);
        }
        if rollback.target_frozen_at.is_some() {
            return match input {
                Input::Response(Response::MarkedFrozen) => {
                    self.rollback_mut().target_frozen_marked_at = Some(self.now);
                    Flow::Advance(Phase::PrepareReverse)
                }
                Input::Start | Input::Woke => Flow::Act(Action::Call(Command::MarkFrozen {
                    file_system_arn: target_arn,
                    plan_id: self.intent.migration.id.clone(),
                })),
                other => self.unexpected(&other),
            };
        }
        let command_may_have_run = self.intent.cutover.freeze == FreezeKind::Command
            && rollback.target_freeze_requested_at.is_some();
        match input {
            Input::Start | Input::Woke => {
                Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request())))
            }
            Input::Response(Response::Environment(env)) => {
                let problems = self.points_at_target_problems(&env);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::FreezeTarget, problems);
                }
                let now = self.now;
                self.rollback_mut().target_freeze_requested_at.get_or_insert(now);
                let details = vec![format!(
                    "users have written to {target} since the swap; after the freeze fsx-migrate copies that back"
                )];
                Flow::Act(self.operator_action(OperatorAct::Freeze, &target, command_may_have_run, details))
            }
            input => match OperatorAnswer::of(&input) {
                Some(OperatorAnswer::Done) => {
                    self.rollback_mut().target_frozen_at = Some(self.now);
                    Flow::Again
                }
                Some(answer) => {
                    self.rollback_mut().target_freeze_requested_at = None;
                    answer.halt(ConfirmKind::ManualFreeze)
                }
                None => self.unexpected(&input),
            },
        }
    }

    /// What is wrong with the record for a rollback step: it must point at this plan's target.
    fn points_at_target_problems(&self, env: &Environment) -> Vec<String> {
        let dns = &self.intent.dns;
        let target = self.cp.target_dns_name.as_deref().unwrap_or_default();
        match &env.record {
            None => vec![format!(
                "the record {} no longer exists in hosted zone {}",
                dns.record_name, dns.hosted_zone_id
            )],
            Some(record)
                if record
                    .record_type
                    .eq_ignore_ascii_case(self.intent.dns.record_type())
                    && record.values.len() == 1
                    && crate::cloud::model::dns_eq(&record.values[0], target) =>
            {
                Vec::new()
            }
            Some(record) => vec![format!(
                "{} points at {}, not at this plan's target {target}: someone else changed it",
                record.name,
                record.values.join(", ")
            )],
        }
    }

    /// One reverse task per lane, target → source over the forward leg's locations, found by tag first.
    fn prepare_reverse(&mut self, input: Input) -> Flow {
        for task in lane_tasks(self.intent) {
            if self.cp.reverse.lane(&task.name).is_none() {
                self.cp.reverse.lanes.push(LaneState::new(&task.name));
            }
        }
        match input {
            Input::Start | Input::Woke => Flow::Act(Action::Call(Command::FindTransferResources {
                plan_id: self.intent.migration.id.clone(),
            })),
            Input::Response(Response::TransferResources(found)) => {
                let (forward, reverse) = (&self.cp.forward, &mut self.cp.reverse);
                reverse.from_location_arn = forward.to_location_arn.clone();
                reverse.to_location_arn = forward.from_location_arn.clone();
                for lane in &mut reverse.lanes {
                    if lane.task_arn.is_none() {
                        lane.task_arn = found.reverse_tasks.get(&lane.name).cloned();
                    }
                }
                self.create_missing_reverse_task()
            }
            Input::Response(Response::TaskCreated { arn }) => self.task_created(arn),
            other => self.unexpected(&other),
        }
    }

    fn create_missing_reverse_task(&mut self) -> Flow {
        let leg = &self.cp.reverse;
        let (Some(from), Some(to)) = (leg.from_location_arn.clone(), leg.to_location_arn.clone()) else {
            return self.missing("the forward leg's locations are missing from the checkpoint");
        };
        let Some(task) = lane_tasks(self.intent)
            .into_iter()
            .find(|t| leg.lane(&t.name).is_some_and(|l| l.task_arn.is_none()))
        else {
            return Flow::Advance(Phase::ReverseSync);
        };
        let mut request = self.task_request(task, from, to);
        request.name.push_str(" reverse");
        request.tags.insert(LEG_TAG.to_string(), REVERSE_LEG.to_string());
        Flow::Act(Action::Call(Command::CreateTask(request)))
    }

    /// A lane's reverse sync is complete once one succeeded after the target's freeze.
    fn reverse_wants(&self, i: usize) -> Want {
        let Some(frozen) = self.cp.rollback.as_ref().and_then(|r| r.target_frozen_at) else {
            return Want::Stop(Self::refuse(
                IrreversibleStep::SwapBack,
                vec!["no freeze of the target is recorded: the reverse sync runs only after it".into()],
            ));
        };
        let lane = &self.cp.reverse.lanes[i];
        match lane.runs_after(SyncKind::Reverse, frozen).last() {
            Some(last) if last.succeeded() => Want::Done,
            _ => Want::Run,
        }
    }

    /// The record goes back to what it was before fsx-migrate touched it (value and TTL), after every lane's
    /// reverse sync succeeded; an interrupted swap back is sent again (UPSERT is idempotent).
    fn swap_back(&mut self, input: Input) -> Flow {
        let Some(original) = self
            .cp
            .dns_original_record
            .clone()
            .or_else(|| self.cp.dns_previous_record.clone())
        else {
            return self.missing("no record from before the swap in the checkpoint");
        };
        let rollback = self.rollback_mut().clone();
        match input {
            Input::Start | Input::Woke => {
                if rollback.swap_back_change_id.is_some() {
                    return Flow::Advance(Phase::SwapBackWait);
                }
                let problems = self.reverse_checkpoint_problems();
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::SwapBack, problems);
                }
                Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request())))
            }
            Input::Response(Response::Environment(env)) => {
                let value = original.values.first().cloned().unwrap_or_default();
                let already_back = env.record.as_ref().is_some_and(|r| {
                    r.values.len() == 1 && crate::cloud::model::dns_eq(&r.values[0], &value)
                });
                if !(rollback.swap_back_requested_at.is_some() && already_back) {
                    let problems = self.points_at_target_problems(&env);
                    if !problems.is_empty() {
                        return Self::refuse(IrreversibleStep::SwapBack, problems);
                    }
                }
                let now = self.now;
                self.rollback_mut().swap_back_requested_at.get_or_insert(now);
                Flow::Act(self.upsert_as_before(value, &original, "roll back to the source"))
            }
            Input::Response(Response::Change { id, .. }) => {
                self.rollback_mut().swap_back_change_id = Some(id);
                Flow::Advance(Phase::SwapBackWait)
            }
            other => self.unexpected(&other),
        }
    }

    /// The checkpoint must show the target frozen and every lane's reverse sync succeeded after it.
    fn reverse_checkpoint_problems(&self) -> Vec<String> {
        let Some(frozen) = self.cp.rollback.as_ref().and_then(|r| r.target_frozen_at) else {
            return vec!["no freeze of the target is recorded".into()];
        };
        let mut problems = Vec::new();
        if self.cp.reverse.lanes.is_empty() {
            problems.push("the checkpoint holds no reverse lane".into());
        }
        for lane in &self.cp.reverse.lanes {
            if !lane
                .runs_after(SyncKind::Reverse, frozen)
                .last()
                .is_some_and(|s| s.succeeded())
            {
                problems.push(format!(
                    "lane {}: no reverse sync succeeded after the target's freeze",
                    lane.name
                ));
            }
        }
        if self.cp.delete_guard.is_some() && self.cp.deletes_accepted_at.is_none() {
            problems.push("the delete guard tripped and nobody accepted the deletes".into());
        }
        problems
    }

    fn swap_back_wait(&mut self, input: Input) -> Flow {
        let Some(change_id) = self.rollback_mut().swap_back_change_id.clone() else {
            return self.missing("no Route 53 change id of the swap back in the checkpoint");
        };
        if let Some(flow) = self.change_wait(change_id, " (swap back)", input) {
            return flow;
        }
        self.rollback_mut().swap_back_insync_at = Some(self.now);
        Flow::Advance(Phase::UnfreezeSource)
    }

    /// The source takes writes again: the operator's unfreeze, then the freeze tag removed; then `next` (or
    /// the same phase again).
    fn unfreeze_source(&mut self, input: Input, next: Option<Phase>) -> Flow {
        let done = || next.map_or(Flow::Again, Flow::Advance);
        let Some(source_arn) = self.source_arn() else {
            return self.missing("no target ARN in the checkpoint");
        };
        let source = self.intent.source.file_system_id.clone();
        let unfreeze = self.cp.unfreeze.clone();
        if unfreeze.unmarked_at.is_some() {
            return done();
        }
        if unfreeze.unfrozen_at.is_some() {
            return match input {
                Input::Response(Response::UnmarkedFrozen) => {
                    self.cp.unfreeze.unmarked_at = Some(self.now);
                    done()
                }
                Input::Start | Input::Woke => Flow::Act(Action::Call(Command::UnmarkFrozen {
                    file_system_arn: source_arn,
                })),
                other => self.unexpected(&other),
            };
        }
        let command_may_have_run = self.intent.cutover.freeze == FreezeKind::Command
            && self.intent.cutover.unfreeze_command.is_some()
            && unfreeze.requested_at.is_some();
        match input {
            Input::Start | Input::Woke => {
                self.cp.unfreeze.requested_at.get_or_insert(self.now);
                Flow::Act(self.operator_action(
                    OperatorAct::Unfreeze,
                    &source,
                    command_may_have_run,
                    Vec::new(),
                ))
            }
            input => match OperatorAnswer::of(&input) {
                Some(OperatorAnswer::Done) => {
                    self.cp.unfreeze.unfrozen_at = Some(self.now);
                    Flow::Again
                }
                Some(answer) => {
                    self.cp.unfreeze.requested_at = None;
                    answer.halt(ConfirmKind::ManualUnfreeze)
                }
                None => self.unexpected(&input),
            },
        }
    }

    // ---- abort: backing out before the swap --------------------------------------------------------------

    /// `abort` before the swap: confirmed (`--yes` answers), recorded with who asked, then the unwinding.
    fn start_abort(&mut self, input: Input) -> Flow {
        match input {
            Input::Confirmed(true) => {
                self.cp.abort = Some(Abort {
                    requested_at: self.now,
                    requested_by: self.opts.operator.clone(),
                    ttl_restore_requested_at: None,
                    ttl_restore_change_id: None,
                    ttl_restored_at: None,
                    aborted_at: None,
                    deletion: self.opts.delete_resources.then(|| self.new_deletion()),
                });
                Flow::Advance(Phase::Aborting)
            }
            Input::Confirmed(false) => Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::Abort))),
            _ => {
                let mut details = vec![
                    "DNS stays on the source; DataSync executions already running finish on their own (they only \
                     write to the target)"
                        .to_string(),
                ];
                if self.opts.delete_resources {
                    details.extend(self.deletion_details());
                } else {
                    details.push(
                        "the target, the DataSync tasks and locations are kept (`abort --delete-resources` deletes \
                         them)"
                            .into(),
                    );
                }
                if self.cp.frozen_at.is_some() {
                    details.insert(0, "the source was frozen: it is unfrozen first".into());
                }
                if self.cp.ttl_lowering_requested_at.is_some() {
                    details.insert(
                        0,
                        "the record's TTL is put back to its value before the migration".into(),
                    );
                }
                Flow::Act(Action::Confirm(Confirmation {
                    kind: ConfirmKind::Abort,
                    question: format!(
                        "Abort the migration of {} before the cutover?",
                        self.intent.source.file_system_id
                    ),
                    details,
                }))
            }
        }
    }

    /// Unwinds what users would notice: the source's freeze, then the record's lowered TTL.
    fn aborting(&mut self, input: Input) -> Flow {
        if self.cp.frozen_at.is_some() && self.cp.unfreeze.unmarked_at.is_none() {
            return self.unfreeze_source(input, None);
        }
        let Some(abort) = self.cp.abort.clone() else {
            return self.missing("no abort recorded in the checkpoint");
        };
        if self.cp.ttl_lowering_requested_at.is_none() || abort.ttl_restored_at.is_some() {
            return Flow::Advance(Phase::Aborted);
        }
        let Some(original) = self.cp.dns_original_record.clone() else {
            return Flow::Advance(Phase::Aborted);
        };
        let value = original.values.first().cloned().unwrap_or_default();
        let now = self.now;
        let Some(record) = self.cp.abort.as_mut() else {
            return self.missing("no abort recorded in the checkpoint");
        };
        match input {
            Input::Start | Input::Woke => match &abort.ttl_restore_change_id {
                Some(change_id) => Flow::Act(Action::Call(Command::GetChange {
                    change_id: change_id.clone(),
                    name_service: self.intent.name_service(),
                })),
                None => Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request()))),
            },
            Input::Response(Response::Environment(env)) => {
                let on_source = env.record.as_ref().is_some_and(|r| {
                    r.values.len() == 1 && crate::cloud::model::dns_eq(&r.values[0], &value)
                });
                if !on_source {
                    record.ttl_restored_at = Some(now);
                    self.events.push(Event::Note(format!(
                        "the record {} no longer points at the source: left as it is",
                        self.intent.dns.record_name
                    )));
                    return Flow::Again;
                }
                record.ttl_restore_requested_at.get_or_insert(now);
                Flow::Act(self.upsert_as_before(value, &original, "aborted, the record's TTL as before"))
            }
            Input::Response(Response::Change { id, status }) => {
                record.ttl_restore_change_id.get_or_insert(id.clone());
                if status == ChangeStatus::InSync {
                    record.ttl_restored_at = Some(now);
                    return Flow::Again;
                }
                Flow::Act(Action::WaitUntil {
                    at: after(self.now, DNS_POLL),
                    reason: format!("Route 53 change {id} (the TTL put back) is {status}"),
                })
            }
            other => self.unexpected(&other),
        }
    }
    /// The UPSERT that puts the record back to `value` with its TTL from before the migration (`original`).
    fn upsert_as_before(
        &self,
        value: String,
        original: &crate::cloud::model::DnsRecord,
        why: &str,
    ) -> Action {
        let dns = &self.intent.dns;
        Action::Call(Command::UpsertCname(UpsertCnameRequest {
            hosted_zone_id: dns.hosted_zone_id.clone(),
            record_name: dns.record_name.clone(),
            value,
            ttl: original.ttl.unwrap_or(dns.ttl),
            comment: format!("fsx-migrate {}: {why}", self.intent.migration.id),
            name_service: self.intent.name_service(),
        }))
    }

    // ---- abort --delete-resources: deleting what this plan created -----------------------------------

    fn new_deletion(&self) -> Deletion {
        Deletion {
            requested_at: self.now,
            requested_by: self.opts.operator.clone(),
            pending: None,
            pending_file_systems: None,
            cancelled: Vec::new(),
            deleted: Vec::new(),
            checked_file_system: None,
            deleting_file_system: None,
            failed_once: None,
            done_at: None,
        }
    }

    /// What the deletion prompt says it deletes, from the checkpoint (the deletion itself looks up by tag).
    fn deletion_details(&self) -> Vec<String> {
        let plan = &self.intent.migration.id;
        let mut details = vec![format!(
            "deletes what this plan created, found by its tag {PLAN_TAG}={plan}: it cancels running \
             executions, then deletes the DataSync tasks and locations, then the target file system"
        )];
        let tasks: Vec<&str> = self
            .cp
            .forward
            .lanes
            .iter()
            .filter_map(|l| l.task_arn.as_deref())
            .collect();
        if !tasks.is_empty() {
            details.push(format!("DataSync tasks: {}", tasks.join(", ")));
        }
        if let Some(target) = &self.cp.target_file_system_id {
            details.push(format!(
                "target file system: {target}, deleted without a final backup (the source still holds every file)"
            ));
        }
        details.push(format!(
            "never deleted: the source {}, the record, the CloudWatch log group (the syncs' logs)",
            self.intent.source.file_system_id
        ));
        details
    }

    fn deletion(&self) -> Option<&Deletion> {
        self.cp.abort.as_ref().and_then(|a| a.deletion.as_ref())
    }

    fn deletion_mut(&mut self) -> Option<&mut Deletion> {
        self.cp.abort.as_mut().and_then(|a| a.deletion.as_mut())
    }

    /// The abort is done; with `--delete-resources` (now or recorded earlier), the deletion comes after.
    fn aborted(&mut self, input: Input) -> Flow {
        let now = self.now;
        let Some(abort) = self.cp.abort.as_mut() else {
            return self.missing("no abort recorded in the checkpoint");
        };
        abort.aborted_at.get_or_insert(now);
        match (&abort.deletion, self.opts.delete_resources) {
            (Some(deletion), _) if deletion.done_at.is_none() => self.delete_resources(input),
            (None, true) => match input {
                Input::Confirmed(true) => {
                    let deletion = self.new_deletion();
                    if let Some(abort) = self.cp.abort.as_mut() {
                        abort.deletion = Some(deletion);
                    }
                    Flow::Again
                }
                Input::Confirmed(false) => {
                    Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::DeleteResources)))
                }
                _ => Flow::Act(Action::Confirm(Confirmation {
                    kind: ConfirmKind::DeleteResources,
                    question: format!(
                        "Delete what the aborted migration of {} created?",
                        self.intent.source.file_system_id
                    ),
                    details: self.deletion_details(),
                })),
            },
            _ => Flow::Act(Action::Halt(Halt::Aborted)),
        }
    }

    /// One step of the deletion: look up by tag, then per task cancel its running executions and delete it,
    /// then the locations, then each file system after re-checking it is this plan's target and that the
    /// record does not point at it, waiting until FSx no longer knows it.
    fn delete_resources(&mut self, input: Input) -> Flow {
        let Some(d) = self.deletion().cloned() else {
            return self.missing("no deletion recorded in the checkpoint");
        };
        let plan_id = self.intent.migration.id.clone();
        let source_id = self.intent.source.file_system_id.clone();
        let now = self.now;
        match input {
            Input::Start | Input::Woke => {
                if let Some(id) = &d.deleting_file_system {
                    return Flow::Act(Action::Call(Command::DescribeFileSystem {
                        file_system_id: id.clone(),
                    }));
                }
                let Some(pending) = &d.pending else {
                    return Flow::Act(Action::Call(Command::FindTransferResources { plan_id }));
                };
                let Some(file_systems) = &d.pending_file_systems else {
                    return Flow::Act(Action::Call(Command::FindMigrationResources {
                        source_file_system_id: source_id,
                    }));
                };
                if let Some(arn) = pending.first() {
                    return Flow::Act(Action::Call(if is_task_arn(arn) {
                        Command::RunningExecutions {
                            task_arn: arn.clone(),
                        }
                    } else {
                        Command::DeleteLocation {
                            location_arn: arn.clone(),
                        }
                    }));
                }
                if let Some(id) = file_systems.first() {
                    return Flow::Act(Action::Call(Command::DescribeFileSystem {
                        file_system_id: id.clone(),
                    }));
                }
                if let Some(d) = self.deletion_mut() {
                    d.done_at = Some(now);
                }
                self.events.push(Event::Note(format!(
                    "deleted what this plan created: {}",
                    if d.deleted.is_empty() {
                        "nothing was left".to_string()
                    } else {
                        d.deleted.join(", ")
                    }
                )));
                Flow::Act(Action::Halt(Halt::Aborted))
            }
            Input::Response(Response::TransferResources(found)) => {
                let mut pending: Vec<String> = found.tasks.into_values().collect();
                pending.extend(found.reverse_tasks.into_values());
                pending.extend(found.source_location_arn);
                pending.extend(found.target_location_arn);
                if let Some(d) = self.deletion_mut() {
                    d.pending = Some(pending);
                }
                Flow::Again
            }
            Input::Response(Response::MigrationResources(found)) => {
                let file_systems = found
                    .into_iter()
                    .filter(|r| {
                        r.kind == ResourceKind::FileSystem && r.plan_id == plan_id && r.id != source_id
                    })
                    .map(|r| r.id)
                    .collect();
                if let Some(d) = self.deletion_mut() {
                    d.pending_file_systems = Some(file_systems);
                }
                Flow::Again
            }
            Input::Response(Response::RunningExecutions(running)) => {
                let task = d
                    .pending
                    .as_ref()
                    .and_then(|p| p.first())
                    .cloned()
                    .unwrap_or_default();
                if running.is_empty() {
                    return Flow::Act(Action::Call(Command::DeleteTask { task_arn: task }));
                }
                match running.iter().find(|arn| !d.cancelled.contains(arn)) {
                    Some(arn) => {
                        if let Some(d) = self.deletion_mut() {
                            d.cancelled.push(arn.clone());
                        }
                        Flow::Act(Action::Call(Command::CancelExecution {
                            execution_arn: arn.clone(),
                        }))
                    }
                    None => Flow::Act(Action::WaitUntil {
                        at: after(now, CANCEL_POLL),
                        reason: format!("{} cancelled execution(s) of {task} to end", running.len()),
                    }),
                }
            }
            Input::Response(Response::ExecutionCancelled) => Flow::Again,
            Input::Response(Response::FileSystem(fs)) => {
                if d.deleting_file_system.as_deref() == Some(fs.id.as_str()) {
                    if fs.lifecycle != Lifecycle::Deleting {
                        // The DeleteFileSystem was recorded but not sent (a crash in between): check again, send.
                        if let Some(d) = self.deletion_mut() {
                            d.deleting_file_system = None;
                        }
                        return Flow::Again;
                    }
                    return Flow::Act(Action::WaitUntil {
                        at: after(now, DELETE_POLL),
                        reason: format!("{} is {} (being deleted)", fs.id, fs.lifecycle),
                    });
                }
                let mut problems = Vec::new();
                if fs.id == source_id {
                    problems.push(format!("{} is the source", fs.id));
                }
                if fs.settings.tags.get(PLAN_TAG) != Some(&plan_id) {
                    problems.push(format!("{} is not tagged {PLAN_TAG}={plan_id}", fs.id));
                }
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DeleteTarget, problems);
                }
                match fs.lifecycle {
                    Lifecycle::Creating | Lifecycle::Updating => Flow::Act(Action::WaitUntil {
                        at: after(now, DELETE_POLL),
                        reason: format!("{} is {}: FSx deletes it once that ends", fs.id, fs.lifecycle),
                    }),
                    Lifecycle::Deleting => {
                        if let Some(d) = self.deletion_mut() {
                            d.deleting_file_system = Some(fs.id);
                        }
                        Flow::Again
                    }
                    _ => {
                        if let Some(d) = self.deletion_mut() {
                            d.checked_file_system = Some((fs.id, fs.dns_name));
                        }
                        Flow::Act(Action::Call(Command::Inspect(self.intent.recheck_request())))
                    }
                }
            }
            Input::Response(Response::Environment(env)) => {
                let Some((id, dns_name)) = d.checked_file_system.clone() else {
                    return self.unexpected(&Input::Response(Response::Environment(env)));
                };
                let points_at_it = env
                    .record
                    .as_ref()
                    .is_some_and(|r| r.values.iter().any(|v| crate::cloud::model::dns_eq(v, &dns_name)));
                if points_at_it {
                    return Self::refuse(
                        IrreversibleStep::DeleteTarget,
                        vec![format!(
                            "the record {} points at {id}: users may be using it",
                            self.intent.dns.record_name
                        )],
                    );
                }
                if let Some(d) = self.deletion_mut() {
                    d.checked_file_system = None;
                    d.deleting_file_system = Some(id.clone());
                }
                Flow::Act(Action::Call(Command::DeleteFileSystem {
                    client_request_token: format!("fsx-migrate-delete-{id}"),
                    file_system_id: id,
                }))
            }
            Input::Response(Response::Deleted { id }) => {
                if let Some(d) = self.deletion_mut() {
                    d.failed_once = None;
                    if d.deleting_file_system.as_deref() == Some(id.as_str()) {
                        // DeleteFileSystem only began it: the file system is gone when FSx no longer knows it.
                        return Flow::Again;
                    }
                    if let Some(pending) = &mut d.pending {
                        pending.retain(|arn| *arn != id);
                    }
                    d.deleted.push(id);
                }
                Flow::Again
            }
            other => self.unexpected(&other),
        }
    }

    /// A failed call of the deletion: a file system FSx no longer knows is deleted; a delete refused once is
    /// looked up by tag again (it may be gone already); refused twice, the run stops with the error.
    fn deletion_failed(&mut self, error: CloudError) -> Flow {
        let phase = self.cp.phase();
        let Some(d) = self.deletion_mut() else {
            return Flow::Act(Action::Halt(Halt::CloudFailed { phase, error }));
        };
        if error.class == ErrorClass::NotFound
            && error.operation == "fsx:DescribeFileSystems"
            && let Some(id) = d.deleting_file_system.take()
        {
            if let Some(file_systems) = &mut d.pending_file_systems {
                file_systems.retain(|f| *f != id);
            }
            d.deleted.push(id);
            return Flow::Again;
        }
        let refused = matches!(error.class, ErrorClass::Rejected | ErrorClass::NotFound);
        let key = format!("{}: {}", error.operation, error.code);
        if refused && d.failed_once.as_ref() != Some(&key) {
            d.failed_once = Some(key);
            d.pending = None;
            d.pending_file_systems = None;
            d.checked_file_system = None;
            self.events.push(Event::Note(format!(
                "{} was refused ({}: {}): looking up what is left by tag",
                error.operation, error.code, error.message
            )));
            return Flow::Again;
        }
        Flow::Act(Action::Halt(Halt::CloudFailed { phase, error }))
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Whether a DataSync ARN names a task (else a location).
fn is_task_arn(arn: &str) -> bool {
    arn.contains(":task/")
}

/// What a person does for a manual freeze, and what each answer leads to: against `endpoint` (the file
/// system's remote management endpoint) when known.
fn manual_freeze_steps(endpoint: Option<&str>, datasync_account: &str) -> Vec<String> {
    let endpoint = endpoint.unwrap_or("<its WindowsConfiguration.RemoteAdministrationEndpoint>");
    vec![
        format!(
            "the whole freeze as one script (it records the permissions it changes; keep its FSXMIGRATE-RESULT \
             line, `windows-script unfreeze --shares-json` puts them back): `fsx-migrate windows-script freeze \
             --endpoint {endpoint} --keep-account '{datasync_account}'` prints it"
        ),
        format!(
            "on a domain-joined Windows host, as an FSx administrator (TCP 5985 open to {endpoint}): \
             Invoke-Command -ComputerName {endpoint} -ConfigurationName FSxRemoteAdmin -ScriptBlock {{ \
             Get-FSxSmbShare; Revoke-FSxSmbShareAccess -Name <share> -AccountName <users> -Force; \
             Grant-FSxSmbShareAccess -Name <share> -AccountName <users> -AccessRight Read -Force; \
             Get-FSxSmbSession | Close-FSxSmbSession -Force; Get-FSxSmbOpenFile | Close-FSxSmbOpenFile -Force }}"
        ),
        "keep the DataSync user's and the administrators' access; note the permissions you changed (to undo them)"
            .into(),
        "yes: fsx-migrate tags it frozen and runs the last copy from it (the final or the reverse sync)".into(),
        "no: nothing after the freeze happens; `resume` asks again".into(),
    ]
}

/// Whether a changed intent field (as [`changed_fields`] names it) may change while a migration runs: the
/// `[sync]`, `[cutover]` and `[hooks]` sections change no resource (thresholds, polling, the freeze action,
/// the window and budget, the hooks). Everything else describes resources and stays as the run started.
fn is_live_editable(field: &str) -> bool {
    [
        "sync.",
        "cutover.",
        "hooks",
        "windows.copy_shares",
        "windows.shares_left_behind",
    ]
    .iter()
    .any(|section| field.starts_with(section))
}

/// Another plan's resources for the same source, as problems naming them (one migration per source).
pub fn other_plans(found: &[MigrationResource], plan_id: &str) -> Vec<String> {
    found
        .iter()
        .filter(|r| r.plan_id != plan_id)
        .map(|r| {
            format!(
                "{} {} belongs to fsx-migrate plan {}, which migrates the same source {}",
                r.kind, r.id, r.plan_id, r.source_file_system_id
            )
        })
        .collect()
}

impl Halt {
    /// Findings of a failed preflight, errors first.
    pub fn findings(&self) -> Vec<&Finding> {
        match self {
            Halt::PreflightFailed(findings) => {
                let mut out: Vec<&Finding> = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .collect();
                out.extend(findings.iter().filter(|f| f.severity == Severity::Warning));
                out
            }
            _ => Vec::new(),
        }
    }
}
