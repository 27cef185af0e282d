//! The driver: carries out the core's actions against a cloud port, one at a time.
//!
//! It is the only loop with side effects. Each round it asks the core for a step, persists the step's
//! checkpoint atomically *before* acting on it (write-ahead, invariant 4), then performs the action: a cloud
//! call (retrying throttling and transient errors with backoff), a sleep, a confirmation, or the freeze
//! command. An interrupt stops it at the next safe point with everything recorded.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::cloud::port::{CloudError, CloudPort, Command, ErrorClass, Response};
use crate::core::lane::secs_between;
use crate::core::{Action, ConfirmKind, Confirmation, Event, Halt, Input, OperatorCommand, RunOptions, step};
use crate::engine::clock::Clock;
use crate::engine::hooks;
use crate::error::Failure;
use crate::plan::file::PlanFile;
use crate::plan::units::Duration;
use crate::plan::{Checkpoint, Intent, Phase};

/// Where checkpoints go: the plan file, or memory for dry runs.
pub trait CheckpointStore {
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure>;
}

impl CheckpointStore for PlanFile {
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        self.save_checkpoint(checkpoint)
    }
}

/// Keeps checkpoints in memory (dry runs, forecasts and crash tests).
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub last: Option<Checkpoint>,
}

impl CheckpointStore for MemoryStore {
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        self.last = Some(checkpoint.clone());
        Ok(())
    }
}

/// Who answers confirmations.
#[derive(Debug)]
pub enum Answers {
    /// Ask a person: the CLI's terminal prompt; `None` from it means nobody answered.
    Ask(fn(&Confirmation) -> Option<bool>),
    /// Nobody can be asked: confirmations not covered by `--yes` stop the run.
    Nobody,
    /// Pre-recorded answers, for tests; when they run out, nobody can be asked.
    Scripted(VecDeque<bool>),
    /// Every question is answered yes (forecasts and the demo, which say so).
    AlwaysYes,
}

/// How an operator command (freeze, unfreeze) is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandRunner {
    /// `sh -c COMMAND` with the context in its environment; exit 0 within the timeout means done.
    Shell,
    /// Pretend it succeeded (dry runs).
    Pretend,
}

/// Receives what the driver does, for progress bars, logs and dry-run listings.
pub trait Observer {
    fn event(&mut self, event: &Event, checkpoint: &Checkpoint, now: Timestamp);
    fn action(&mut self, action: &Action, checkpoint: &Checkpoint, now: Timestamp);
    fn retrying(&mut self, error: &CloudError, attempt: u32, backoff: Duration);
    /// Runs `f` with progress drawing suspended (for prompts).
    fn suspend(&mut self, f: &mut dyn FnMut());
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _: &Event, _: &Checkpoint, _: Timestamp) {}
    fn action(&mut self, _: &Action, _: &Checkpoint, _: Timestamp) {}
    fn retrying(&mut self, _: &CloudError, _: u32, _: Duration) {}
    fn suspend(&mut self, f: &mut dyn FnMut()) {
        f()
    }
}

/// A shared interrupt flag: set by Ctrl-C, read at safe points.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Interrupt {
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// The places a test can make the driver "crash" (stop dead, as if the process were killed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// A cloud call returned, and its result is not yet in the checkpoint.
    AfterSideEffect,
    /// A checkpoint was just written.
    AfterCheckpoint,
}

/// Retries of throttled and transient calls: exponential backoff from 1 s, capped at 60 s.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            first_backoff: Duration::secs(1),
            max_backoff: Duration::secs(60),
        }
    }
}

/// How a drive ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The core stopped: completed, reached `--until`, or a condition to report.
    Halted(Halt),
    /// Interrupted at a safe point; everything is checkpointed and `run`/`resume` continues.
    Interrupted,
    /// A confirmation needs a person and none is available.
    NeedsOperator(Confirmation),
    /// A test-injected crash at a boundary.
    Crashed(Boundary),
}

/// Everything one drive needs.
pub struct Driver<'a, P: CloudPort> {
    pub port: &'a mut P,
    pub clock: Clock,
    pub intent: Intent,
    pub checkpoint: Checkpoint,
    pub store: &'a mut dyn CheckpointStore,
    pub options: RunOptions,
    pub answers: Answers,
    pub assume_yes: bool,
    pub command_runner: CommandRunner,
    /// The postpone flag file: while it exists, the run parks at the cutover gate (looked at before each step).
    pub postpone_flag: Option<std::path::PathBuf>,
    pub observer: &'a mut dyn Observer,
    pub interrupt: Interrupt,
    pub retry: RetryPolicy,
    /// Test hook: crash at the n-th boundary (0-based).
    pub crash_at: Option<u64>,
    boundaries: u64,
    /// The checkpoint as last written (the one a crash would resume from).
    saved: Checkpoint,
    /// When each operation was last sent: no operation is sent more than once per second.
    last_sent: BTreeMap<&'static str, Timestamp>,
    /// When this driver started. A previous process may have sent any operation just before, so an operation
    /// this one has not sent yet counts as sent at the start.
    started: Timestamp,
}

impl<'a, P: CloudPort> Driver<'a, P> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        port: &'a mut P,
        clock: Clock,
        intent: Intent,
        checkpoint: Checkpoint,
        store: &'a mut dyn CheckpointStore,
        options: RunOptions,
        observer: &'a mut dyn Observer,
    ) -> Self {
        Driver {
            port,
            intent,
            saved: checkpoint.clone(),
            checkpoint,
            store,
            options,
            answers: Answers::Nobody,
            assume_yes: false,
            command_runner: CommandRunner::Shell,
            postpone_flag: None,
            observer,
            interrupt: Interrupt::default(),
            retry: RetryPolicy::default(),
            crash_at: None,
            boundaries: 0,
            last_sent: BTreeMap::new(),
            started: clock.now(),
            clock,
        }
    }

    fn crash_here(&mut self) -> bool {
        let hit = self.crash_at == Some(self.boundaries);
        self.boundaries += 1;
        hit
    }

    /// Boundaries passed so far (for crash tests that walk every boundary).
    pub fn boundaries_passed(&self) -> u64 {
        self.boundaries
    }

    /// Runs until the core halts, an interrupt, or a confirmation nobody can give; tells the event hook how
    /// it ended.
    pub async fn drive(&mut self) -> Result<Outcome, Failure> {
        let outcome = self.drive_steps().await;
        if let Ok(outcome) = &outcome
            && let Some((event, detail)) = hooks::outcome_event(outcome)
        {
            self.hook(event, detail).await;
        }
        outcome
    }

    /// Runs the plan's event hook, if any (not in dry runs); a failure is logged, never fatal.
    async fn hook(&mut self, event: &'static str, detail: String) {
        let Some(hooks) = self.intent.hooks.clone() else {
            return;
        };
        // Dry runs, and `check`, which moves no phase, tell the team nothing.
        if self.command_runner == CommandRunner::Pretend || self.options.check {
            return;
        }
        let event = hooks::HookEvent {
            plan_id: self.intent.migration.id.clone(),
            event,
            phase: self.checkpoint.phase(),
            at: self.clock.now(),
            detail,
        };
        if let Err(error) = hooks::fire(&hooks, &event).await {
            tracing::warn!(
                "the event hook failed on {} (the migration goes on): {error}",
                event.event
            );
        }
    }

    async fn drive_steps(&mut self) -> Result<Outcome, Failure> {
        let mut input = Input::Start;
        loop {
            let now = self.clock.now();
            if let Some(flag) = &self.postpone_flag {
                self.options.postpone_requested = flag.exists();
            }
            let step = step(&self.intent, &self.checkpoint, input, now, &self.options);
            // Preflight is read-only and may fail on intent the operator will then fix: nothing is written
            // until it passes, so a failed preflight leaves the plan file untouched and the intent unpinned.
            // A step that only observed (a poll) is not written: what it saw is written with the next decision.
            let worth_saving =
                step.checkpoint.phase() != Phase::Preflight && !step.checkpoint.same_decisions(&self.saved);
            if worth_saving {
                self.port.settle().map_err(|e| {
                    Failure::internal("the cloud's state could not be written before the checkpoint")
                        .cause(e.to_string())
                })?;
                self.store.save(&step.checkpoint)?;
                self.saved = step.checkpoint.clone();
                self.checkpoint = step.checkpoint;
                if self.crash_here() {
                    return Ok(Outcome::Crashed(Boundary::AfterCheckpoint));
                }
            } else {
                self.checkpoint = step.checkpoint;
            }
            for event in &step.events {
                self.observer.event(event, &self.checkpoint, now);
            }
            self.observer.action(&step.action, &self.checkpoint, now);
            for (event, detail) in hooks::step_events(&step.events, &step.action) {
                self.hook(event, detail).await;
            }
            if let Action::Halt(halt) = step.action {
                return Ok(Outcome::Halted(halt));
            }
            if self.interrupt.is_set() {
                return Ok(Outcome::Interrupted);
            }
            input = match step.action {
                Action::Call(command) => {
                    let Some(result) = self.call(&command).await else {
                        return Ok(Outcome::Interrupted);
                    };
                    if self.crash_here() {
                        return Ok(Outcome::Crashed(Boundary::AfterSideEffect));
                    }
                    match result {
                        Ok(response) => Input::Response(response),
                        Err(error) => Input::Failed(error),
                    }
                }
                Action::WaitUntil { at, .. } => {
                    tokio::select! {
                        _ = self.clock.sleep_until(at) => Input::Woke,
                        _ = self.interrupt.wait() => return Ok(Outcome::Interrupted),
                    }
                }
                Action::Confirm(confirmation) => match self.confirm(&confirmation) {
                    Some(answer) => Input::Confirmed(answer),
                    None => return Ok(Outcome::NeedsOperator(confirmation)),
                },
                Action::RunCommand(command) => Input::CommandFinished(self.run_command(&command).await),
                Action::Halt(_) => unreachable!("handled above"),
            };
        }
    }

    /// One cloud call with retries of retryable errors. `None` if interrupted while backing off.
    async fn call(&mut self, command: &Command) -> Option<Result<Response, CloudError>> {
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        loop {
            if !self.pace(command).await {
                return None;
            }
            match self.port.execute(command).await {
                Err(error) if self.may_retry(command, &error) && attempt < self.retry.max_attempts => {
                    self.observer.retrying(&error, attempt, backoff);
                    tokio::select! {
                        _ = self.clock.sleep(backoff) => {}
                        _ = self.interrupt.wait() => return None,
                    }
                    backoff = Duration(
                        backoff
                            .as_secs()
                            .saturating_mul(2)
                            .min(self.retry.max_backoff.as_secs()),
                    );
                    attempt += 1;
                }
                result => return Some(result),
            }
        }
    }

    /// Waits until the command's operations were last sent at least a second ago, so that however many lanes
    /// are due at once, and across a restart, no operation is sent more than once per second. False if
    /// interrupted.
    async fn pace(&mut self, command: &Command) -> bool {
        let now = self.clock.now();
        let busy = command.operations().iter().any(|op| {
            let sent = self.last_sent.get(op).copied().unwrap_or(self.started);
            secs_between(sent, now) < Duration(1)
        });
        if busy {
            tokio::select! {
                _ = self.clock.sleep(Duration(1)) => {}
                _ = self.interrupt.wait() => return false,
            }
        }
        let sent = self.clock.now();
        for op in command.operations() {
            self.last_sent.insert(op, sent);
        }
        true
    }

    /// Throttling means the call was refused, so it is always safe to send again. A timeout or a 5xx may
    /// hide a call that happened: only idempotent commands are sent again; the core resolves the others
    /// by a lookup.
    fn may_retry(&self, command: &Command, error: &CloudError) -> bool {
        match error.class {
            ErrorClass::Throttled => true,
            ErrorClass::Transient => command.is_idempotent(),
            ErrorClass::Rejected | ErrorClass::NotFound | ErrorClass::Credentials => false,
        }
    }

    fn confirm(&mut self, confirmation: &Confirmation) -> Option<bool> {
        let auto = matches!(
            confirmation.kind,
            ConfirmKind::Billable
                | ConfirmKind::Gate
                | ConfirmKind::Rollback
                | ConfirmKind::Abort
                | ConfirmKind::DeleteResources
        );
        if auto && self.assume_yes {
            return Some(true);
        }
        let checked = match confirmation.kind {
            ConfirmKind::ManualFreeze | ConfirmKind::FreezeOutcomeUnknown => self.options.confirm_frozen,
            ConfirmKind::ManualUnfreeze => self.options.confirm_unfrozen,
            ConfirmKind::Billable
            | ConfirmKind::Gate
            | ConfirmKind::Rollback
            | ConfirmKind::Abort
            | ConfirmKind::DeleteResources => false,
        };
        if checked {
            return Some(true);
        }
        match &mut self.answers {
            Answers::AlwaysYes => Some(true),
            Answers::Nobody => None,
            Answers::Scripted(answers) => answers.pop_front(),
            Answers::Ask(ask) => {
                let ask = *ask;
                let mut answer = None;
                self.observer.suspend(&mut || answer = ask(confirmation));
                answer
            }
        }
    }

    async fn run_command(&mut self, operator: &OperatorCommand) -> Result<(), String> {
        if self.command_runner == CommandRunner::Pretend {
            return Ok(());
        }
        let context = "cutover.command_timeout";
        super::shell::run_shell(&operator.command, &operator.env, None, operator.timeout, context).await
    }
}
