//! The migration state machine: a pure function from (intent, checkpoint, input, now) to the next
//! checkpoint and the one action to take.
//!
//! It does no I/O and cannot fail on the network. The driver persists the returned checkpoint *before*
//! carrying out the action (write-ahead), so every side effect's intent is on disk before it happens.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::forecast::{Convergence, predicted_downtime};
use super::preflight::{self, Backend, Finding, Severity};
use crate::model::{ChangeStatus, ExecutionInfo, FileSystemInfo, Lifecycle, LogLevel, Side, SyncKind};
use crate::plan::intent::{FreezeKind, changed_fields};
use crate::plan::{Checkpoint, CurrentSync, Intent, Phase, PhaseEntry, SyncRecord};
use crate::port::{
    CloudError, Command, CreateLocationRequest, CreateTargetRequest, CreateTaskRequest, InspectRequest,
    PLAN_TAG, PreserveDeletedFiles, Response, SIDE_TAG, StartExecutionRequest, TaskOptions, TransferMode,
    UpsertCnameRequest,
};
use crate::units::Duration;

/// How often to poll a file system that is being created.
pub const TARGET_POLL: Duration = Duration::secs(60);
/// How often to poll a Route 53 change.
pub const DNS_POLL: Duration = Duration::secs(10);

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
    /// Swap DNS although the final sync removed more files than `max_final_deletes`.
    pub accept_deletes: bool,
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
            if let Input::Failed(error) = input {
                return Action::Halt(Halt::CloudFailed { phase, error });
            }
            let flow = match phase {
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

    /// A new process starts on this plan: count the run, pin or check the intent, record operator decisions.
    fn begin_run(&mut self) -> Option<Halt> {
        let hash = self.intent.sha256();
        match &self.cp.intent_sha256 {
            Some(pinned) if *pinned != hash => {
                let before = self.cp.intent_at_start.clone().unwrap_or_default();
                return Some(Halt::IntentChanged(changed_fields(&before, self.intent)));
            }
            Some(_) => {}
            None => {
                self.cp.intent_sha256 = Some(hash);
                self.cp.intent_at_start = Some(self.intent.canonical_json());
            }
        }
        self.cp.runs += 1;
        self.cp.started_at.get_or_insert(self.now);
        if self.cp.phase.is_none() {
            self.enter(Phase::Preflight);
        }
        if self.cp.phase() <= Phase::IncrementalSync {
            if self.opts.accept_delta {
                self.cp.delta_accepted_at = Some(self.now);
            }
            self.cp.extra_incremental_runs += self.opts.more_incrementals;
        }
        if self.opts.accept_deletes && self.cp.phase() <= Phase::FinalSync {
            self.cp.deletes_accepted_at = Some(self.now);
        }
        None
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

    fn plan_tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(PLAN_TAG.to_string(), self.intent.migration.id.clone())])
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

    fn create_target(&mut self, input: Input) -> Flow {
        if self.cp.target_file_system_id.is_some() {
            return Flow::Advance(Phase::WaitTarget);
        }
        match input {
            Input::Start | Input::Woke => {
                if self.cp.billable_confirmed_at.is_none() {
                    return Flow::Act(Action::Confirm(self.billable_confirmation()));
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
            Input::Confirmed(true) => {
                self.cp.billable_confirmed_at = Some(self.now);
                Flow::Again
            }
            Input::Confirmed(false) => Flow::Act(Action::Halt(Halt::Declined(ConfirmKind::Billable))),
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
                    cp.task_arn = found.task_arn;
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
        match (
            &self.cp.task_arn,
            &self.cp.source_location_arn,
            &self.cp.target_location_arn,
        ) {
            (None, Some(src), Some(dst)) => {
                let tr = &self.intent.transfer;
                Flow::Act(Action::Call(Command::CreateTask(CreateTaskRequest {
                    name: format!("fsx-migrate {}", self.intent.migration.id),
                    source_location_arn: src.clone(),
                    target_location_arn: dst.clone(),
                    options: self.task_options(SyncKind::Incremental),
                    excludes: tr.excludes.clone(),
                    cloudwatch_log_group_arn: tr.cloudwatch_log_group_arn.clone(),
                    tags: self.plan_tags(),
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
            log_level: if tr.cloudwatch_log_group_arn.is_some() {
                LogLevel::Basic
            } else {
                LogLevel::Off
            },
        }
    }

    fn sync(&mut self, kind: SyncKind, input: Input) -> Flow {
        let Some(task_arn) = self.cp.task_arn.clone() else {
            return self.missing("no DataSync task in the checkpoint");
        };
        let watching = self
            .cp
            .current_sync
            .as_ref()
            .is_some_and(|c| c.execution_arn.is_some());
        match input {
            // Answers to a lookup or a start only make sense while no execution is being watched.
            Input::Response(Response::ExecutionFound(_) | Response::ExecutionStarted { .. }) if watching => {
                self.unexpected(&input)
            }
            Input::Start | Input::Woke => {
                if let Some(current) = &self.cp.current_sync {
                    if let Some(arn) = &current.execution_arn {
                        return Flow::Act(Action::Call(Command::DescribeExecution {
                            execution_arn: arn.clone(),
                        }));
                    }
                } else if kind == SyncKind::Incremental
                    && let Some(flow) = self.incremental_decision()
                {
                    return flow;
                }
                // Before starting anything, re-attach to an execution that may already run (invariant 2).
                Flow::Act(Action::Call(Command::FindExecution {
                    task_arn,
                    known: self.cp.known_execution_arns(),
                }))
            }
            Input::Response(Response::ExecutionFound(Some(arn))) => {
                self.events.push(Event::Note(format!(
                    "re-attached to running {kind} execution {arn}"
                )));
                let fresh = CurrentSync::requested(kind, self.now, self.cp.runs);
                let current = self.cp.current_sync.get_or_insert(fresh);
                current.execution_arn = Some(arn.clone());
                Flow::Act(Action::Call(Command::DescribeExecution { execution_arn: arn }))
            }
            Input::Response(Response::ExecutionFound(None)) => {
                // Write-ahead: the start is recorded before StartTaskExecution is sent.
                self.cp.current_sync = Some(CurrentSync::requested(kind, self.now, self.cp.runs));
                let mut tags = self.plan_tags();
                tags.insert("fsx-migrate:sync".to_string(), kind.to_string());
                Flow::Act(Action::Call(Command::StartExecution(StartExecutionRequest {
                    task_arn,
                    kind,
                    overrides: self.task_options(kind),
                    tags,
                })))
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
            SyncKind::Incremental => Flow::Again,
            SyncKind::Final => {
                let limit = self.intent.cutover.max_final_deletes;
                let deleted = record.counters.files_deleted;
                if deleted > limit && self.cp.deletes_accepted_at.is_none() {
                    return Flow::Act(Action::Halt(Halt::DeleteGuard { deleted, limit }));
                }
                Flow::Advance(Phase::DnsSwap)
            }
        }
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

    fn cutover_gate(&mut self, input: Input) -> Flow {
        // A refresh incremental in flight, and the answers about it, go through the sync machinery.
        let refresh_answer = matches!(
            input,
            Input::Response(
                Response::ExecutionFound(_) | Response::ExecutionStarted { .. } | Response::Execution(_)
            )
        );
        if self.cp.current_sync.is_some() || refresh_answer {
            return self.sync(SyncKind::Incremental, input);
        }
        match input {
            Input::Start | Input::Woke => {
                if let Some(age) = self.stale_delta_age() {
                    self.events.push(Event::Note(format!(
                        "the last sync ended {age} ago (sync.max_delta_age {}): one more incremental first",
                        self.intent.sync.max_delta_age
                    )));
                    let task_arn = self.cp.task_arn.clone().unwrap_or_default();
                    let known = self.cp.known_execution_arns();
                    return Flow::Act(Action::Call(Command::FindExecution { task_arn, known }));
                }
                if self.cp.gate_opened_at.is_some() {
                    return Flow::Advance(Phase::Freeze);
                }
                let mut details = Vec::new();
                if let Some(last) = self.cp.syncs.last() {
                    details.push(format!(
                        "last {} sync: {} files, {} in {}",
                        last.kind,
                        last.counters.files_transferred,
                        crate::units::Bytes(last.counters.bytes_transferred),
                        Duration(last.elapsed_secs())
                    ));
                }
                if let Some(d) = predicted_downtime(self.intent, &self.cp) {
                    details.push(format!("predicted downtime (freeze to DNS in sync): about {d}"));
                }
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

    /// How long ago the last successful sync ended, if that is longer than `sync.max_delta_age`.
    fn stale_delta_age(&self) -> Option<Duration> {
        let last = self.cp.syncs.iter().rev().find(|s| s.succeeded())?;
        let age = Duration(u64::try_from((self.now - last.ended_at).as_secs()).unwrap_or(0));
        (age > self.intent.sync.max_delta_age).then_some(age)
    }

    fn freeze(&mut self, input: Input) -> Flow {
        let cutover = &self.intent.cutover;
        match input {
            Input::Start | Input::Woke => {
                if self.cp.frozen_at.is_some() {
                    return Flow::Advance(Phase::FinalSync);
                }
                let uncertain = self.cp.freeze_requested_at.is_some();
                self.cp.freeze_requested_at.get_or_insert(self.now);
                let source = self.intent.source.file_system_id.clone();
                Flow::Act(match cutover.freeze {
                    // The simulator's freeze is idempotent, so it may run again.
                    FreezeKind::Simulator => Action::Call(Command::FreezeSource {
                        file_system_id: source,
                    }),
                    FreezeKind::Manual => Action::Confirm(Confirmation {
                        kind: ConfirmKind::ManualFreeze,
                        question: format!(
                            "Freeze {source} now, then confirm: is the source frozen (no more writes)?"
                        ),
                        details: vec![
                            "make the shares read-only for users (keep the DataSync user's access), then"
                                .into(),
                            "close open sessions and files (Close-FSxSmbSession, Close-FSxSmbOpenFile)"
                                .into(),
                        ],
                    }),
                    FreezeKind::Command if uncertain => Action::Confirm(Confirmation {
                        kind: ConfirmKind::FreezeOutcomeUnknown,
                        question: format!(
                            "The freeze command was started but its result was not recorded. Is {source} frozen?"
                        ),
                        details: vec!["fsx-migrate does not re-run a freeze command blindly".into()],
                    }),
                    FreezeKind::Command => {
                        Action::RunFreezeCommand(cutover.freeze_command.clone().unwrap_or_default())
                    }
                })
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

    fn dns_swap(&mut self, input: Input) -> Flow {
        match input {
            Input::Start | Input::Woke => {
                let Some(value) = self.cp.target_dns_name.clone() else {
                    return self.missing("no target DNS name in the checkpoint");
                };
                // UPSERT is idempotent: after a crash it is simply sent again.
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
