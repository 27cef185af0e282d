//! `fsx-migrate check`: before the first byte is copied, prove that DataSync reaches the shares with the
//! plan's user, password, domain and security groups. One execution of the first lane's task runs with its
//! own Includes: probes (`<folder>/.fsx-migrate-check`) that match no file, so DataSync mounts both locations
//! and lists the share's root and each folder the lanes name, and copies nothing (PRESERVE, no verify).
//!
//! It is a side errand of the checkpoint, not a phase: the migration's phases never read it, and its sync
//! tag (`check-…`) is never a migration sync's, so the migration never adopts it (a check left running makes
//! the next sync wait for it, as for any execution it did not start). Like a sync it is recorded write-ahead
//! and found again by its tags, so a check killed at any point re-attaches instead of starting twice.

use super::*;
use crate::cloud::model::VerifyMode;
use crate::plan::checkpoint::AccessCheck;
use crate::plan::partition::MAX_FILTER_CHARS;

/// How often a check's execution is looked at (it takes DataSync's launch, a minute or more).
const CHECK_POLL: Duration = Duration::secs(15);
/// The file name each probe asks for; no share is expected to hold one.
pub const PROBE_NAME: &str = ".fsx-migrate-check";

/// Why `check` did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckRefusal {
    /// The plan's DataSync tasks do not exist yet (they come after the target).
    NoTasks(Phase),
    /// The cutover (or a rollback or an abort) began: the tasks belong to it now.
    CutoverStarted(Phase),
    /// A lane's sync is in flight (a run was stopped while it ran): the run re-attaches to it.
    SyncInFlight { lane: String, kind: SyncKind },
    /// DataSync runs an execution of the task that no check started.
    TaskBusy { lane: String, execution_arn: String },
}

/// The Includes of a check: the share's root, then each folder a lane names and each folder of one of the
/// source's shares (`share_folders`; `*` patterns are left out, since DataSync allows `*` only last), as long
/// as the filter stays within DataSync's length quota; and how many folders were left out.
pub fn check_probes(intent: &Intent, share_folders: &[String]) -> (Vec<String>, u32) {
    let root = format!("/{PROBE_NAME}");
    let mut length = root.len();
    let mut probes = vec![root];
    let mut unprobed = 0u32;
    let folders = intent
        .transfer
        .lanes
        .iter()
        .flat_map(|l| &l.includes)
        .chain(share_folders);
    for folder in folders {
        let probe = format!("{}/{PROBE_NAME}", folder.trim_end_matches('/'));
        if probes.contains(&probe) {
            continue;
        }
        if folder.contains('*') || length + 1 + probe.len() > MAX_FILTER_CHARS {
            unprobed = unprobed.saturating_add(1);
            continue;
        }
        length += 1 + probe.len();
        probes.push(probe);
    }
    (probes, unprobed)
}

/// Why no check may start now: before the tasks, from the freeze on, or with a lane's sync in flight.
/// Asked before a check is recorded and again just before its start (a check recorded earlier may be
/// resumed in any phase); the CLI asks it too, before reading the shares for a check that would not run.
pub fn check_refusal(cp: &Checkpoint) -> Option<CheckRefusal> {
    let phase = cp.phase();
    let lanes = &cp.forward.lanes;
    let every_task = !lanes.is_empty() && lanes.iter().all(|l| l.task_arn.is_some());
    if phase >= Phase::Freeze {
        Some(CheckRefusal::CutoverStarted(phase))
    } else if phase < Phase::PrepareTransfer || !every_task {
        Some(CheckRefusal::NoTasks(phase))
    } else {
        lanes.iter().find_map(|l| {
            l.current.as_ref().map(|c| CheckRefusal::SyncInFlight {
                lane: l.name.clone(),
                kind: c.kind,
            })
        })
    }
}

impl Machine<'_> {
    /// One step of `fsx-migrate check`.
    pub(super) fn check(&mut self, input: Input) -> Action {
        match input {
            Input::Start => self.check_begin(),
            Input::Woke => self.check_look(),
            Input::Response(Response::ExecutionCandidates(candidates)) => self.check_candidates(&candidates),
            Input::Response(Response::ExecutionStarted { arn }) => {
                // Only the answer to a start this check sent: one that already has its execution asked none.
                let Some(current) = self.pending_check_mut().filter(|c| c.execution_arn.is_none()) else {
                    return self.check_missing();
                };
                current.execution_arn = Some(arn.clone());
                self.events
                    .push(Event::Note(format!("check: started execution {arn}")));
                self.check_wait()
            }
            Input::Response(Response::Execution(info)) => self.check_observed(info),
            // The check's execution is gone (its task deleted, or past DataSync's 30 days of history): it
            // ended unread, and is forgotten; a new check may start where one is allowed.
            // (DataSync answers InvalidRequestException for an unknown execution; access denied is not that.)
            Input::Failed(error)
                if error.operation == "datasync:DescribeTaskExecution"
                    && self.pending_check().is_some_and(|c| c.execution_arn.is_some())
                    && (error.class == ErrorClass::NotFound || error.code == "InvalidRequestException") =>
            {
                let execution = self
                    .pending_check()
                    .and_then(|c| c.execution_arn.clone())
                    .unwrap_or_default();
                self.events.push(Event::Note(format!(
                    "check: execution {execution} is gone ({}: {}): its result was never read, and the check is forgotten",
                    error.code, error.message
                )));
                self.cp.access_checks.pop();
                self.check_begin()
            }
            Input::Failed(error) => {
                // A start DataSync refused started nothing: the check is forgotten. Any other failure may
                // hide a start that happened, so the record stays for the next check to find it.
                let refused = error.operation == "datasync:StartTaskExecution" && !error.class.is_retryable();
                if refused && self.pending_check().is_some_and(|c| c.execution_arn.is_none()) {
                    self.cp.access_checks.pop();
                }
                Action::Halt(Halt::CloudFailed {
                    phase: self.cp.phase(),
                    error,
                })
            }
            other => Action::Halt(Halt::Unexpected {
                phase: self.cp.phase(),
                input: format!("check: {other:?}"),
            }),
        }
    }

    fn pending_check(&self) -> Option<&CurrentSync> {
        self.cp.access_checks.last()?.current.as_ref()
    }

    fn pending_check_mut(&mut self) -> Option<&mut CurrentSync> {
        self.cp.access_checks.last_mut()?.current.as_mut()
    }

    fn check_missing(&self) -> Action {
        Action::Halt(Halt::Unexpected {
            phase: self.cp.phase(),
            input: "check: an answer that fits no check in flight in the checkpoint".into(),
        })
    }

    /// A process starts a check: a check in flight is looked up again; otherwise, where the checkpoint
    /// allows one, a new one is recorded (write-ahead) and the task's executions are looked at first.
    fn check_begin(&mut self) -> Action {
        // The plan's resources were made with the pinned intent: a check of an edited one would name a user
        // its locations do not have.
        let frozen = self.frozen_intent_changes();
        if !frozen.is_empty() {
            return Action::Halt(Halt::IntentChanged(frozen));
        }
        if let Some(current) = self.pending_check() {
            return match current.execution_arn.clone() {
                Some(execution_arn) => Action::Call(Command::DescribeExecution { execution_arn }),
                None => self.check_find(),
            };
        }
        if let Some(refusal) = self.check_refusal() {
            return Action::Halt(Halt::CheckRefused(refusal));
        }
        let lane = self.cp.forward.lanes.first();
        let task_arn = lane.and_then(|l| l.task_arn.clone());
        let (probes, unprobed_folders) = check_probes(self.intent, &self.opts.check_share_folders);
        self.cp.access_checks.push(AccessCheck {
            lane: lane.map(|l| l.name.clone()).unwrap_or_default(),
            task_arn: task_arn.unwrap_or_default(),
            probes,
            unprobed_folders,
            current: Some(CurrentSync::requested(SyncKind::Check, self.now, self.cp.runs)),
            result: None,
        });
        self.check_find()
    }

    fn check_refusal(&self) -> Option<CheckRefusal> {
        check_refusal(&self.cp)
    }

    /// The task's executions this plan does not know yet (DataSync answers only the newest few): ours
    /// (started for this check), another one running, or none.
    fn check_find(&self) -> Action {
        let task_arn = self
            .cp
            .access_checks
            .last()
            .map(|c| c.task_arn.clone())
            .unwrap_or_default();
        let syncs = self
            .cp
            .forward
            .lanes
            .iter()
            .filter(|l| l.task_arn.as_deref() == Some(task_arn.as_str()))
            .flat_map(|l| l.known_execution_arns());
        let checks = self.cp.access_checks.iter().filter_map(|c| {
            let current = c.current.as_ref().and_then(|s| s.execution_arn.clone());
            current.or_else(|| c.result.as_ref().map(|r| r.execution_arn.clone()))
        });
        let known = syncs.chain(checks).collect();
        Action::Call(Command::FindExecution { task_arn, known })
    }

    fn check_candidates(&mut self, candidates: &[ExecutionCandidate]) -> Action {
        let (Some(check), Some(current)) = (self.cp.access_checks.last(), self.pending_check()) else {
            return self.check_missing();
        };
        // A check that knows its execution only looks at it.
        if let Some(execution_arn) = current.execution_arn.clone() {
            return Action::Call(Command::DescribeExecution { execution_arn });
        }
        match choose_execution(candidates, current, &self.intent.migration.id) {
            ExecutionChoice::Adopt(arn) => {
                self.events.push(Event::Note(format!(
                    "check: re-attached to execution {arn}, started for this check"
                )));
                if let Some(current) = self.pending_check_mut() {
                    current.execution_arn = Some(arn.clone());
                }
                Action::Call(Command::DescribeExecution { execution_arn: arn })
            }
            ExecutionChoice::WaitFor(execution_arn) => {
                let lane = check.lane.clone();
                // Nothing was started for this check: it is forgotten.
                self.cp.access_checks.pop();
                Action::Halt(Halt::CheckRefused(CheckRefusal::TaskBusy { lane, execution_arn }))
            }
            // Nothing of this check's was found, so nothing was started: a check recorded before may be
            // resumed past the gate or beside a sync in flight, where none may start now.
            ExecutionChoice::Start if self.check_refusal().is_some() => {
                let refusal = self.check_refusal().expect("just seen");
                self.cp.access_checks.pop();
                Action::Halt(Halt::CheckRefused(refusal))
            }
            ExecutionChoice::Start => {
                let mut tags = self.plan_tags();
                tags.insert(SYNC_TAG.to_string(), current.sync_id());
                tags.insert(LANE_TAG.to_string(), check.lane.clone());
                let live = self.task_options(SyncKind::Initial);
                let request = StartExecutionRequest {
                    task_arn: check.task_arn.clone(),
                    kind: SyncKind::Check,
                    overrides: TaskOptions {
                        verify_mode: VerifyMode::None,
                        preserve_deleted_files: PreserveDeletedFiles::Preserve,
                        ..live
                    },
                    tags,
                    bytes_per_second: None,
                    includes: Some(check.probes.clone()),
                };
                Action::Call(Command::StartExecution(request))
            }
        }
    }

    fn check_look(&self) -> Action {
        match self.pending_check().and_then(|c| c.execution_arn.clone()) {
            Some(execution_arn) => Action::Call(Command::DescribeExecution { execution_arn }),
            None => self.check_find(),
        }
    }

    fn check_wait(&self) -> Action {
        Action::WaitUntil {
            at: after(self.now, CHECK_POLL),
            reason: "the check's execution to end".into(),
        }
    }

    fn check_observed(&mut self, info: ExecutionInfo) -> Action {
        let now = self.now;
        let Some(check) = self.cp.access_checks.last_mut() else {
            return self.check_missing();
        };
        // Only what DataSync says of this check's own execution.
        let Some(current) = check
            .current
            .as_mut()
            .filter(|c| c.execution_arn.as_deref() == Some(info.arn.as_str()))
        else {
            return self.check_missing();
        };
        self.events.push(Event::Execution {
            lane: check.lane.clone(),
            kind: SyncKind::Check,
            info: info.clone(),
        });
        current.last_status = Some(info.status.clone());
        current.last_counters = Some(info.counters.clone());
        if !info.status.is_terminal() {
            return self.check_wait();
        }
        let record = SyncRecord {
            kind: SyncKind::Check,
            execution_arn: info.arn,
            run: current.run,
            started_at: current.requested_at,
            ended_at: now,
            status: info.status,
            counters: info.counters,
            durations: info.durations,
            execution_started_at: info.started_at,
            error_code: info.error_code,
            error_detail: info.error_detail,
        };
        check.current = None;
        check.result = Some(record.clone());
        if record.succeeded() {
            Action::Halt(Halt::Checked)
        } else {
            Action::Halt(Halt::CheckFailed {
                lane: check.lane.clone(),
                execution_arn: record.execution_arn,
                code: record.error_code,
                detail: record.error_detail,
            })
        }
    }
}
