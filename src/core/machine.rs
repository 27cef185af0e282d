//! The migration state machine: a pure function from (intent, checkpoint, input, now) to the next
//! checkpoint and the one action to take.
//!
//! It does no I/O and cannot fail on the network. The driver persists the returned checkpoint *before*
//! carrying out the action (write-ahead), so every side effect's intent is on disk before it happens.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::forecast::{Convergence, predicted_downtime};
use super::preflight::{self, Backend, Finding, Severity};
use crate::model::{
    ChangeStatus, DeploymentType, ExecutionInfo, FileSystemInfo, Lifecycle, LogLevel, Side, SyncKind,
};
use crate::plan::checkpoint::GuardTrip;
use crate::plan::intent::{FreezeKind, WHOLE_SHARE_LANE, changed_fields};
use crate::plan::{Checkpoint, CurrentSync, Intent, Phase, PhaseEntry, SyncRecord};
use crate::port::{
    CloudError, Command, CreateLocationRequest, CreateTargetRequest, CreateTaskRequest, Environment,
    ErrorClass, ExecutionCandidate, InspectRequest, LANE_TAG, MigrationResource, NON_IDEMPOTENT_OPERATIONS,
    PLAN_TAG, PreserveDeletedFiles, ResourceKind, Response, SIDE_TAG, SOURCE_TAG, SYNC_TAG,
    StartExecutionRequest, TaskOptions, TransferMode, UpsertCnameRequest,
};
use crate::units::Duration;

/// How often to poll a file system that is being created.
pub const TARGET_POLL: Duration = Duration::secs(60);
/// How often to poll a Route 53 change.
pub const DNS_POLL: Duration = Duration::secs(10);
/// How long to wait after a create whose outcome is unknown (a timeout) before looking it up by tag:
/// DataSync's List calls may not show a resource the moment it is created.
pub const UNKNOWN_OUTCOME_WAIT: Duration = Duration::secs(30);
/// How far DataSync's StartTime may be before our write-ahead `requested_at` and still be ours: the ops
/// box's clock and AWS's may disagree a little. The per-request sync tag is the primary proof.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::mins(5);

/// Operator decisions for this run that are not intent (they do not change the plan's hash).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    pub backend: Option<Backend>,
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
    /// The freeze command's outcome: `Err` carries its exit status and output tail.
    FreezeFinished(Result<(), String>),
}

/// What the driver must do next. Exactly one per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Call(Command),
    Sleep { duration: Duration, reason: String },
    Confirm(Confirmation),
    RunFreezeCommand(String),
    Halt(Halt),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmKind {
    /// Before creating billable resources; `--yes` answers it.
    Billable,
    /// The cutover gate before the freeze; `--yes` answers it.
    Gate,
    /// The operator freezes the source by hand; needs a person.
    ManualFreeze,
    /// A freeze command started but its result was not recorded; needs a person.
    FreezeOutcomeUnknown,
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
        runs: u32,
        misses: Vec<String>,
        predicted_downtime: Option<Duration>,
    },
    ExecutionFailed {
        kind: SyncKind,
        attempts: u32,
        code: Option<String>,
        detail: Option<String>,
    },
    FreezeFailed(String),
    DeleteGuard {
        deleted: u64,
        limit: u64,
    },
    /// The final sync still skipped files after running again with the source frozen.
    SkippedFiles {
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
    Freeze,
    FinalSync,
    DnsSwap,
}

impl std::fmt::Display for IrreversibleStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CreateTarget => "creating the target",
            Self::Freeze => "freezing the source",
            Self::FinalSync => "starting the final sync",
            Self::DnsSwap => "swapping DNS",
        })
    }
}

/// Things worth telling the operator; they drive progress bars and logs, and change nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    PhaseEntered(Phase),
    TargetLifecycle(Lifecycle),
    Execution { kind: SyncKind, info: ExecutionInfo },
    SyncFinished(SyncRecord),
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
        if input == Input::Start
            && let Some(halt) = self.begin_run()
        {
            return Action::Halt(halt);
        }
        let mut input = input;
        // Each phase handles an input in a bounded number of passes; 64 guards against a bug looping forever.
        for _ in 0..64 {
            let phase = self.cp.phase();
            let flow = match input {
                Input::Failed(error) => self.failed(error),
                input => match phase {
                    Phase::Preflight => self.preflight(input),
                    Phase::CreateTarget => self.create_target(input),
                    Phase::WaitTarget => self.wait_target(input),
                    Phase::PrepareTransfer => self.prepare_transfer(input),
                    Phase::InitialSync => self.sync(SyncKind::Initial, input),
                    Phase::IncrementalSync => self.sync(SyncKind::Incremental, input),
                    Phase::CutoverGate => self.cutover_gate(input),
                    Phase::Freeze => self.freeze(input),
                    Phase::FinalSync => self.sync(SyncKind::Final, input),
                    Phase::DnsSwap => self.dns_swap(input),
                    Phase::DnsWait => self.dns_wait(input),
                    Phase::Complete => {
                        self.cp.completed_at.get_or_insert(self.now);
                        Flow::Act(Action::Halt(Halt::Completed))
                    }
                },
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

    /// A new process starts on this plan: check the intent and `--until`, count the run, pin the intent,
    /// and record operator decisions.
    fn begin_run(&mut self) -> Option<Halt> {
        let hash = self.intent.sha256();
        match &self.cp.intent_sha256 {
            Some(pinned) if *pinned != hash => {
                let before = self.cp.intent_at_start.clone().unwrap_or_default();
                return Some(Halt::IntentChanged(changed_fields(&before, self.intent)));
            }
            _ => {}
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
        if self.cp.intent_sha256.is_none() {
            self.cp.intent_sha256 = Some(hash);
            self.cp.intent_at_start = Some(self.intent.canonical_json());
        }
        self.cp.runs = self.cp.runs.saturating_add(1);
        self.cp.started_at.get_or_insert(self.now);
        if self.cp.phase.is_none() {
            self.enter(Phase::Preflight);
        }
        if self.cp.phase() <= Phase::IncrementalSync {
            if self.opts.accept_delta {
                self.cp.delta_accepted_at = Some(self.now);
            }
            self.cp.extra_incremental_runs = self
                .cp
                .extra_incremental_runs
                .saturating_add(self.opts.more_incrementals);
        }
        self.record_acceptances();
        None
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
        let unknown_outcome = error.class == ErrorClass::Transient
            && NON_IDEMPOTENT_OPERATIONS.contains(&error.operation.as_str());
        if unknown_outcome {
            self.events.push(Event::Note(format!(
                "{} may or may not have happened ({}): looking it up by tag before trying again",
                error.operation, error.code
            )));
            return Flow::Act(Action::Sleep {
                duration: UNKNOWN_OUTCOME_WAIT,
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
            Input::Start | Input::Woke => Flow::Act(Action::Call(Command::Inspect(
                InspectRequest::for_intent(self.intent),
            ))),
            Input::Response(Response::Environment(env)) => {
                let backend = self.opts.backend.unwrap_or(Backend::Aws);
                let findings = preflight::check(self.intent, &env, backend);
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
            question: "Create the Multi-AZ target file system and the DataSync task (billable)?".into(),
            details: vec![
                format!(
                    "FSx for Windows MULTI_AZ_1: {} GiB {}, {} MB/s, subnets {} (preferred {})",
                    s.storage_capacity_gib,
                    s.storage_type,
                    s.throughput_capacity_mbps,
                    t.subnet_ids.join(", "),
                    t.preferred_subnet_id
                ),
                "DataSync: two FSx for Windows locations and one task, billed per GB copied".into(),
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
                        Flow::Act(Action::Sleep {
                            duration: TARGET_POLL,
                            reason: format!("target {} is {}", fs.id, fs.lifecycle),
                        })
                    }
                }
            }
            other => self.unexpected(&other),
        }
    }

    fn prepare_transfer(&mut self, input: Input) -> Flow {
        match input {
            // Locations and tasks have no client token: look them up by tag before creating any.
            Input::Start | Input::Woke => Flow::Act(Action::Call(Command::FindTransferResources {
                plan_id: self.intent.migration.id.clone(),
            })),
            Input::Response(Response::TransferResources(found)) => {
                let cp = &mut self.cp;
                if cp.source_location_arn.is_none() {
                    cp.source_location_arn = found.source_location_arn;
                }
                if cp.target_location_arn.is_none() {
                    cp.target_location_arn = found.target_location_arn;
                }
                if cp.task_arn.is_none() {
                    cp.task_arn = found.tasks.get(WHOLE_SHARE_LANE).cloned();
                }
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::LocationCreated { side, arn }) => {
                match side {
                    Side::Source => self.cp.source_location_arn = Some(arn),
                    Side::Target => self.cp.target_location_arn = Some(arn),
                }
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::LogGroupReady) => {
                self.cp.log_group_ready_at = Some(self.now);
                self.create_missing_transfer_resource()
            }
            Input::Response(Response::TaskCreated { arn }) => {
                self.cp.task_arn = Some(arn);
                self.create_missing_transfer_resource()
            }
            other => self.unexpected(&other),
        }
    }

    fn create_missing_transfer_resource(&mut self) -> Flow {
        let (Some(source_fs), Some(target_fs)) = (self.source_arn(), self.cp.target_arn.clone()) else {
            return self.missing("file system ARNs missing from the checkpoint");
        };
        if self.cp.source_location_arn.is_none() {
            return Flow::Act(Action::Call(Command::CreateLocation(
                self.location_request(Side::Source, source_fs),
            )));
        }
        if self.cp.target_location_arn.is_none() {
            return Flow::Act(Action::Call(Command::CreateLocation(
                self.location_request(Side::Target, target_fs),
            )));
        }
        let tr = &self.intent.transfer;
        match (
            &self.cp.task_arn,
            &self.cp.source_location_arn,
            &self.cp.target_location_arn,
        ) {
            (None, Some(src), Some(dst)) => {
                // DataSync's BASIC log level is what lists skipped files: the log group must exist first.
                if let Some(arn) = &tr.cloudwatch_log_group_arn
                    && self.cp.log_group_ready_at.is_none()
                {
                    return Flow::Act(Action::Call(Command::EnsureLogGroup { arn: arn.clone() }));
                }
                let mut tags = self.plan_tags();
                tags.insert(LANE_TAG.to_string(), WHOLE_SHARE_LANE.to_string());
                Flow::Act(Action::Call(Command::CreateTask(CreateTaskRequest {
                    lane: WHOLE_SHARE_LANE.to_string(),
                    name: format!("fsx-migrate {}", self.intent.migration.id),
                    source_location_arn: src.clone(),
                    target_location_arn: dst.clone(),
                    options: self.task_options(SyncKind::Incremental),
                    includes: Vec::new(),
                    excludes: tr.excludes.clone(),
                    cloudwatch_log_group_arn: tr.cloudwatch_log_group_arn.clone(),
                    task_report: tr.task_report.clone(),
                    tags,
                })))
            }
            _ => Flow::Advance(Phase::InitialSync),
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

    /// The options each kind of run overrides: only the final run removes deleted files and uses the
    /// final verify mode.
    fn task_options(&self, kind: SyncKind) -> TaskOptions {
        let tr = &self.intent.transfer;
        let is_final = kind == SyncKind::Final;
        TaskOptions {
            transfer_mode: TransferMode::Changed,
            verify_mode: if is_final {
                tr.verify_mode_final.clone()
            } else {
                tr.verify_mode_live.clone()
            },
            preserve_deleted_files: if is_final {
                PreserveDeletedFiles::Remove
            } else {
                PreserveDeletedFiles::Preserve
            },
            security_descriptor_copy: tr.security_descriptor_copy.clone(),
            log_level: match (&tr.log_level, &tr.cloudwatch_log_group_arn) {
                (Some(level), _) => level.clone(),
                (None, Some(_)) => LogLevel::Basic,
                (None, None) => LogLevel::Off,
            },
        }
    }

    /// The sync sub-machine: decide whether a run of `kind` is needed, record the request (write-ahead),
    /// find an execution already started for it, or start one, then watch it to its end.
    fn sync(&mut self, kind: SyncKind, input: Input) -> Flow {
        if self.cp.task_arn.is_none() {
            return self.missing("no DataSync task in the checkpoint");
        }
        if let Some(current) = &self.cp.current_sync
            && current.kind != kind
        {
            return self.missing(&format!(
                "a {} sync is recorded as in flight during the {kind} sync",
                current.kind
            ));
        }
        let watching = self
            .cp
            .current_sync
            .as_ref()
            .is_some_and(|c| c.execution_arn.is_some());
        match input {
            // Answers to a lookup or a start only make sense while no execution is being watched.
            Input::Response(Response::ExecutionCandidates(_) | Response::ExecutionStarted { .. })
                if watching =>
            {
                self.unexpected(&input)
            }
            Input::Start | Input::Woke => {
                if let Some(current) = &self.cp.current_sync {
                    if let Some(arn) = &current.execution_arn {
                        return Flow::Act(Action::Call(Command::DescribeExecution {
                            execution_arn: arn.clone(),
                        }));
                    }
                    // Requested, not known to have started: look for it before starting anything.
                    return self.find_execution();
                }
                let decided = match kind {
                    // A kind that already succeeded is not run again after a stop (--until, a resume).
                    SyncKind::Initial if self.cp.last_success(SyncKind::Initial).is_some() => {
                        Some(Flow::Advance(Phase::IncrementalSync))
                    }
                    SyncKind::Initial => None,
                    SyncKind::Incremental => self.incremental_decision(),
                    SyncKind::Final => self.final_decision(),
                };
                if let Some(flow) = decided {
                    return flow;
                }
                if kind == SyncKind::Final && self.cp.frozen_at.is_none() {
                    return Self::refuse(
                        IrreversibleStep::FinalSync,
                        vec!["no freeze of the source is recorded: the final sync runs only after it".into()],
                    );
                }
                self.request_sync(kind)
            }
            Input::Response(Response::ExecutionCandidates(candidates)) => {
                let Some(current) = self.cp.current_sync.clone() else {
                    return self.unexpected(&Input::Response(Response::ExecutionCandidates(candidates)));
                };
                match choose_execution(&candidates, &current, &self.intent.migration.id) {
                    ExecutionChoice::Adopt(arn) => {
                        self.events.push(Event::Note(format!(
                            "re-attached to {kind} execution {arn}, started for this request"
                        )));
                        if let Some(current) = &mut self.cp.current_sync {
                            current.execution_arn = Some(arn.clone());
                        }
                        Flow::Act(Action::Call(Command::DescribeExecution { execution_arn: arn }))
                    }
                    ExecutionChoice::WaitFor(arn) => Flow::Act(Action::Sleep {
                        duration: self.intent.sync.poll_interval,
                        reason: format!(
                            "execution {arn} of this task is running but was not started for this {kind} sync: \
                             waiting for it to end before starting one"
                        ),
                    }),
                    ExecutionChoice::Start => {
                        let mut tags = self.plan_tags();
                        tags.insert(SYNC_TAG.to_string(), current.sync_id());
                        Flow::Act(Action::Call(Command::StartExecution(StartExecutionRequest {
                            task_arn: self.cp.task_arn.clone().unwrap_or_default(),
                            kind,
                            overrides: self.task_options(kind),
                            tags,
                        })))
                    }
                }
            }
            Input::Response(Response::ExecutionStarted { arn }) => {
                let Some(current) = &mut self.cp.current_sync else {
                    return self.unexpected(&Input::Response(Response::ExecutionStarted { arn }));
                };
                current.execution_arn = Some(arn.clone());
                self.events
                    .push(Event::Note(format!("started {kind} execution {arn}")));
                Flow::Act(self.poll_execution())
            }
            Input::Response(Response::Execution(info)) => self.observe_execution(kind, info),
            other => self.unexpected(&other),
        }
    }

    /// Write-ahead: records the request for a run of `kind` (its time and run give the sync tag), then looks
    /// for an execution already started for it.
    fn request_sync(&mut self, kind: SyncKind) -> Flow {
        self.cp.current_sync = Some(CurrentSync::requested(kind, self.now, self.cp.runs));
        self.find_execution()
    }

    fn find_execution(&self) -> Flow {
        Flow::Act(Action::Call(Command::FindExecution {
            task_arn: self.cp.task_arn.clone().unwrap_or_default(),
            known: self.cp.known_execution_arns(),
        }))
    }

    fn poll_execution(&self) -> Action {
        Action::Sleep {
            duration: self.intent.sync.poll_interval,
            reason: "DataSync execution running".into(),
        }
    }

    fn observe_execution(&mut self, kind: SyncKind, info: ExecutionInfo) -> Flow {
        self.events.push(Event::Execution {
            kind,
            info: info.clone(),
        });
        let Some(current) = &mut self.cp.current_sync else {
            return self.unexpected(&Input::Response(Response::Execution(info)));
        };
        current.last_status = Some(info.status.clone());
        current.last_counters = Some(info.counters.clone());
        if !info.status.is_terminal() {
            return Flow::Act(self.poll_execution());
        }
        let record = SyncRecord {
            kind: current.kind,
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
        self.cp.current_sync = None;
        self.cp.syncs.push(record.clone());
        self.events.push(Event::SyncFinished(record.clone()));
        if !record.succeeded() {
            let attempts = self.cp.trailing_failures(kind, self.cp.runs);
            if attempts <= self.intent.sync.retry_failed_executions {
                self.events.push(Event::Note(format!(
                    "{kind} execution failed ({}): starting it again ({attempts} of {} retries)",
                    record.error_code.as_deref().unwrap_or("no error code"),
                    self.intent.sync.retry_failed_executions
                )));
                return Flow::Again;
            }
            return Flow::Act(Action::Halt(Halt::ExecutionFailed {
                kind,
                attempts,
                code: record.error_code,
                detail: record.error_detail,
            }));
        }
        match kind {
            SyncKind::Initial => Flow::Advance(Phase::IncrementalSync),
            SyncKind::Incremental | SyncKind::Final => Flow::Again,
        }
    }

    /// With no final sync in flight: is the copy after the freeze complete? `None` means run one (again).
    /// The delete guard and the skipped-files guard, once tripped, stop every run until accepted.
    fn final_decision(&mut self) -> Option<Flow> {
        let finals: Vec<SyncRecord> = self.cp.finals_after_freeze().into_iter().cloned().collect();
        let last = finals.last().filter(|s| s.succeeded())?;
        let deleted: u64 = finals.iter().map(|s| s.counters.files_deleted).sum();
        let limit = self.intent.cutover.max_final_deletes;
        let beyond_accepted = self.cp.delete_guard.as_ref().is_some_and(|t| deleted > t.count);
        if beyond_accepted {
            self.cp.deletes_accepted_at = None;
            self.cp.deletes_accepted_by = None;
        }
        if deleted > limit && (self.cp.delete_guard.is_none() || beyond_accepted) {
            self.cp.delete_guard = Some(GuardTrip {
                at: self.now,
                execution_arn: last.execution_arn.clone(),
                count: deleted,
                limit,
            });
        }
        if let Some(trip) = &self.cp.delete_guard
            && self.cp.deletes_accepted_at.is_none()
        {
            return Some(Flow::Act(Action::Halt(Halt::DeleteGuard {
                deleted: trip.count,
                limit: trip.limit,
            })));
        }
        let skipped = last.counters.files_skipped;
        if skipped > 0 && self.cp.skipped_accepted_at.is_none() {
            let successes = finals.iter().filter(|s| s.succeeded()).count();
            if successes < 2 {
                // Locked or open files are skipped; the freeze closed the sessions, so once more gets them.
                self.events.push(Event::Note(format!(
                    "the final sync skipped {skipped} files (locked or open at the freeze): running it once more"
                )));
                return None;
            }
            self.cp.skipped_files = Some(GuardTrip {
                at: self.now,
                execution_arn: last.execution_arn.clone(),
                count: skipped,
                limit: 0,
            });
            return Some(Flow::Act(Action::Halt(Halt::SkippedFiles {
                skipped,
                execution_arn: last.execution_arn.clone(),
                log_group_arn: self.intent.transfer.cloudwatch_log_group_arn.clone(),
            })));
        }
        Some(Flow::Advance(Phase::DnsSwap))
    }

    /// With no execution in flight during the incremental phase: go to the gate, stop, pause, or start one.
    fn incremental_decision(&mut self) -> Option<Flow> {
        let last = self
            .cp
            .syncs
            .last()
            .filter(|s| s.kind == SyncKind::Incremental && s.succeeded())?;
        let convergence = Convergence::of(self.intent, last);
        if convergence.converged() {
            self.events
                .push(Event::Note("incremental syncs converged".into()));
            return Some(Flow::Advance(Phase::CutoverGate));
        }
        let runs = self.cp.incremental_successes();
        let allowed = self.intent.sync.max_incremental_runs + self.cp.extra_incremental_runs;
        if runs >= allowed {
            if self.cp.delta_accepted_at.is_some() {
                self.events.push(Event::Note(
                    "not converged; the operator accepted the delta".into(),
                ));
                return Some(Flow::Advance(Phase::CutoverGate));
            }
            return Some(Flow::Act(Action::Halt(Halt::NotConverged {
                runs,
                misses: convergence.misses(),
                predicted_downtime: predicted_downtime(self.intent, &self.cp),
            })));
        }
        let pause = self.intent.sync.pause_between_runs.as_secs();
        let since = u64::try_from((self.now - last.ended_at).as_secs()).unwrap_or(0);
        if since < pause {
            return Some(Flow::Act(Action::Sleep {
                duration: Duration(pause - since),
                reason: "pause between incremental runs".into(),
            }));
        }
        None
    }

    /// While the gate or the freeze waits: a refresh incremental in flight, or an answer about one, goes
    /// through the sync sub-machine.
    fn refresh_in_flight(&self, input: &Input) -> bool {
        let sync_answer = matches!(
            input,
            Input::Response(
                Response::ExecutionCandidates(_) | Response::ExecutionStarted { .. } | Response::Execution(_)
            )
        );
        self.cp.current_sync.is_some() || sync_answer
    }

    /// Starts one more incremental when the last sync is older than `sync.max_delta_age`.
    fn refresh_if_stale(&mut self) -> Option<Flow> {
        let age = self.stale_delta_age()?;
        self.events.push(Event::Note(format!(
            "the last sync ended {age} ago (sync.max_delta_age {}): one more incremental first",
            self.intent.sync.max_delta_age
        )));
        Some(self.request_sync(SyncKind::Incremental))
    }

    fn cutover_gate(&mut self, input: Input) -> Flow {
        if self.refresh_in_flight(&input) {
            return self.sync(SyncKind::Incremental, input);
        }
        match input {
            Input::Start | Input::Woke => {
                if let Some(flow) = self.refresh_if_stale() {
                    return flow;
                }
                if self.cp.gate_opened_at.is_some() {
                    return Flow::Advance(Phase::Freeze);
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
                Flow::Again
            }
            Input::Confirmed(false) => Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::Gate))),
            other => self.unexpected(&other),
        }
    }

    /// The last sync and the downtime it predicts, for the gate and freeze prompts.
    fn delta_details(&self) -> Vec<String> {
        let mut details = Vec::new();
        if let Some(last) = self.cp.syncs.iter().rev().find(|s| s.succeeded()) {
            let age = Duration(u64::try_from((self.now - last.ended_at).as_secs()).unwrap_or(0));
            details.push(format!(
                "last {} sync: {} files, {} in {}, ended {age} ago",
                last.kind,
                last.counters.files_transferred,
                crate::units::Bytes(last.counters.bytes_transferred),
                Duration(last.elapsed_secs())
            ));
        }
        if let Some(d) = predicted_downtime(self.intent, &self.cp) {
            details.push(format!("predicted downtime (freeze to DNS in sync): about {d}"));
        }
        details
    }

    /// How long ago the last successful sync ended, if that is longer than `sync.max_delta_age`.
    fn stale_delta_age(&self) -> Option<Duration> {
        let last = self.cp.syncs.iter().rev().find(|s| s.succeeded())?;
        let age = Duration(u64::try_from((self.now - last.ended_at).as_secs()).unwrap_or(0));
        (age > self.intent.sync.max_delta_age).then_some(age)
    }

    /// The freeze: refresh a stale delta first, re-check the world (source available, record still on the
    /// source), then the configured freeze action. A command freeze that may have run is never re-run.
    fn freeze(&mut self, input: Input) -> Flow {
        if self.cp.frozen_at.is_some() {
            return Flow::Advance(Phase::FinalSync);
        }
        if self.refresh_in_flight(&input) {
            return self.sync(SyncKind::Incremental, input);
        }
        let cutover = &self.intent.cutover;
        let command_may_have_run =
            cutover.freeze == FreezeKind::Command && self.cp.freeze_requested_at.is_some();
        match input {
            Input::Start | Input::Woke => {
                if !command_may_have_run && let Some(flow) = self.refresh_if_stale() {
                    return flow;
                }
                Flow::Act(Action::Call(Command::Inspect(InspectRequest::without_passwords(
                    self.intent,
                ))))
            }
            Input::Response(Response::Environment(env)) => {
                let problems = self.record_problems(&env, false);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::Freeze, problems);
                }
                self.cp.freeze_requested_at.get_or_insert(self.now);
                Flow::Act(self.freeze_action(command_may_have_run))
            }
            Input::Response(Response::SourceFrozen)
            | Input::Confirmed(true)
            | Input::FreezeFinished(Ok(())) => {
                self.cp.frozen_at = Some(self.now);
                Flow::Advance(Phase::FinalSync)
            }
            Input::Confirmed(false) => {
                self.cp.freeze_requested_at = None;
                Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::ManualFreeze)))
            }
            Input::FreezeFinished(Err(message)) => {
                // The command's outcome is known: it failed. Running it again later is the operator's call.
                self.cp.freeze_requested_at = None;
                Flow::Act(Action::Halt(Halt::FreezeFailed(message)))
            }
            other => self.unexpected(&other),
        }
    }

    fn freeze_action(&self, command_may_have_run: bool) -> Action {
        let cutover = &self.intent.cutover;
        let source = self.intent.source.file_system_id.clone();
        match cutover.freeze {
            // The simulator's freeze is idempotent, so it may run again.
            FreezeKind::Simulator => Action::Call(Command::FreezeSource {
                file_system_id: source,
            }),
            FreezeKind::Manual => {
                let mut details = self.delta_details();
                details.extend([
                    "make the shares read-only for users (keep the DataSync user's access), then".into(),
                    "close open sessions and files (Close-FSxSmbSession, Close-FSxSmbOpenFile)".into(),
                ]);
                Action::Confirm(Confirmation {
                    kind: ConfirmKind::ManualFreeze,
                    question: format!(
                        "Freeze {source} now, then confirm: is the source frozen (no more writes)?"
                    ),
                    details,
                })
            }
            FreezeKind::Command if command_may_have_run => Action::Confirm(Confirmation {
                kind: ConfirmKind::FreezeOutcomeUnknown,
                question: format!(
                    "The freeze command was started but its result was not recorded. Is {source} frozen?"
                ),
                details: vec!["fsx-migrate does not re-run a freeze command blindly".into()],
            }),
            FreezeKind::Command => {
                Action::RunFreezeCommand(cutover.freeze_command.clone().unwrap_or_default())
            }
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
            !name.is_empty() && record.values.len() == 1 && preflight::dns_eq(&record.values[0], name)
        };
        let mut problems = Vec::new();
        if !record.record_type.eq_ignore_ascii_case("CNAME") {
            problems.push(format!(
                "{} is now a {} record, not a CNAME",
                record.name, record.record_type
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
        match cp.finals_after_freeze().last() {
            Some(last) if last.succeeded() => {
                if last.counters.files_skipped > 0 && cp.skipped_accepted_at.is_none() {
                    problems.push(format!(
                        "the last final sync skipped {} files and nobody accepted that",
                        last.counters.files_skipped
                    ));
                }
            }
            _ => problems.push("no final sync succeeded after the freeze".into()),
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
                let Some(id) = self.cp.target_file_system_id.clone() else {
                    return self.missing("no target file system id in the checkpoint");
                };
                Flow::Act(Action::Call(Command::DescribeFileSystem { file_system_id: id }))
            }
            Input::Response(Response::FileSystem(fs)) => {
                let problems = self.target_problems(&fs);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DnsSwap, problems);
                }
                // The name users get is the one the target has now.
                self.record_target(&fs);
                Flow::Act(Action::Call(Command::Inspect(InspectRequest::without_passwords(
                    self.intent,
                ))))
            }
            Input::Response(Response::Environment(env)) => {
                let swap_sent = self.cp.dns_requested_at.is_some();
                let problems = self.record_problems(&env, swap_sent);
                if !problems.is_empty() {
                    return Self::refuse(IrreversibleStep::DnsSwap, problems);
                }
                let Some(value) = self.cp.target_dns_name.clone() else {
                    return self.missing("no target DNS name in the checkpoint");
                };
                if self.cp.dns_previous_record.is_none() && !swap_sent {
                    self.cp.dns_previous_record = env.record.clone();
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
        match input {
            Input::Start | Input::Woke => Flow::Act(Action::Call(Command::GetChange { change_id })),
            Input::Response(Response::Change {
                status: ChangeStatus::InSync,
                ..
            }) => {
                self.cp.dns_insync_at = Some(self.now);
                Flow::Advance(Phase::Complete)
            }
            Input::Response(Response::Change { status, .. }) => Flow::Act(Action::Sleep {
                duration: DNS_POLL,
                reason: format!("Route 53 change {change_id} is {status}"),
            }),
            other => self.unexpected(&other),
        }
    }
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
    let earliest = request
        .requested_at
        .checked_sub(jiff::SignedDuration::from_secs(
            i64::try_from(CLOCK_SKEW_ALLOWANCE.as_secs()).unwrap_or(0),
        ))
        .unwrap_or(request.requested_at);
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
