//! Every transition of the core, one at a time, with a virtual clock and no I/O.

use fsx_migrate::cloud::model::*;
use fsx_migrate::cloud::port::{
    CloudError, Command, ErrorClass, ExecutionCandidate, FROZEN_TAG, PLAN_TAG, PreserveDeletedFiles,
    Response, SYNC_TAG, TransferResources,
};
use fsx_migrate::core::{Action, ConfirmKind, Event, Halt, Input, RunOptions, step};
use fsx_migrate::plan::checkpoint::CHECKPOINT_SCHEMA;
use fsx_migrate::plan::intent::FreezeKind;
use fsx_migrate::plan::{Checkpoint, CurrentSync, Intent, LaneState, Phase, PhaseEntry, SyncRecord};
use jiff::Timestamp;

use crate::support::*;

fn t0() -> Timestamp {
    "2026-12-01T08:00:00Z".parse().unwrap()
}

fn intent() -> Intent {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let mut port = sim(world("small"));
            intent_for(&mut port, &plan_request()).await
        })
}

fn opts() -> RunOptions {
    RunOptions {
        ..RunOptions::default()
    }
}

/// A checkpoint in `phase` with everything earlier phases would have recorded.
fn at(intent: &Intent, phase: Phase) -> Checkpoint {
    let mut cp = Checkpoint {
        schema: CHECKPOINT_SCHEMA,
        phase: Some(phase),
        runs: 1,
        started_at: Some(t0()),
        intent_sha256: Some(intent.sha256()),
        intent_at_start: Some(intent.canonical_json()),
        timeline: vec![PhaseEntry { phase, at: t0() }],
        ..Checkpoint::default()
    };
    if phase > Phase::CreateTarget {
        cp.billable_confirmed_at = Some(t0());
        cp.target_requested_at = Some(t0());
        cp.target_file_system_id = Some("fs-target".into());
        cp.target_arn = Some("arn:aws:fsx:us-east-1:111122223333:file-system/fs-target".into());
        cp.target_dns_name = Some("amznfsxtarget.corp.example.com".into());
    }
    if phase > Phase::PrepareTransfer {
        cp.forward.from_location_arn = Some("loc-s".into());
        cp.forward.to_location_arn = Some("loc-t".into());
        cp.forward.lanes = vec![LaneState {
            task_arn: Some("task".into()),
            ..LaneState::new("all")
        }];
    }
    if phase > Phase::CutoverGate {
        cp.gate_opened_at = Some(t0());
    }
    if phase > Phase::Freeze {
        cp.freeze_requested_at = Some(t0());
        cp.frozen_at = Some(t0());
        cp.frozen_marked_at = Some(t0());
    }
    cp
}

fn record(kind: SyncKind, status: ExecutionStatus, files: u64, secs: i64, run: u32) -> SyncRecord {
    let failed = status == ExecutionStatus::Error;
    SyncRecord {
        kind,
        execution_arn: format!("exec-{kind}-{files}-{secs}"),
        run,
        started_at: t0(),
        ended_at: t0() + jiff::SignedDuration::from_secs(secs),
        status,
        counters: ExecutionCounters {
            files_transferred: files,
            bytes_transferred: files * 100_000,
            files_deleted: files / 10,
            ..Default::default()
        },
        // DataSync's own measure of the run: the same `secs`, six tenths of it listing.
        durations: PhaseDurations {
            prepare_ms: secs as u64 * 600,
            transfer_ms: secs as u64 * 300,
            verify_ms: secs as u64 * 100,
            total_ms: secs as u64 * 1000,
        },
        execution_started_at: Some(t0()),
        error_code: failed.then(|| "SmbError".into()),
        error_detail: failed.then(|| "access denied".into()),
    }
}

fn info(status: ExecutionStatus, files: u64) -> ExecutionInfo {
    ExecutionInfo {
        arn: "exec-1".into(),
        status,
        started_at: Some(t0()),
        counters: ExecutionCounters {
            files_transferred: files,
            bytes_transferred: files * 1000,
            files_deleted: 0,
            ..Default::default()
        },
        durations: PhaseDurations::default(),
        error_code: None,
        error_detail: None,
    }
}

/// An execution as FindExecution lists it, tagged with this plan and `sync` (when given).
fn candidate(
    arn: &str,
    status: ExecutionStatus,
    i: &Intent,
    sync: Option<&str>,
    started_at: Timestamp,
) -> ExecutionCandidate {
    let mut tags = std::collections::BTreeMap::from([(PLAN_TAG.to_string(), i.migration.id.clone())]);
    if let Some(sync) = sync {
        tags.insert(SYNC_TAG.to_string(), sync.to_string());
    }
    ExecutionCandidate {
        arn: arn.into(),
        status,
        started_at: Some(started_at),
        tags,
    }
}

fn candidates(list: Vec<ExecutionCandidate>) -> Input {
    Input::Response(Response::ExecutionCandidates(list))
}

fn fs(lifecycle: Lifecycle) -> FileSystemInfo {
    target_file_system(lifecycle, intent().target.settings)
}

/// An initial execution that was started and is being watched.
fn watching_initial() -> CurrentSync {
    CurrentSync {
        execution_arn: Some("exec-1".into()),
        ..CurrentSync::requested(SyncKind::Initial, t0(), 1)
    }
}

#[test]
fn a_first_start_inspects_the_environment_and_the_billable_yes_pins_the_intent() {
    let i = intent();
    let s = step(&i, &Checkpoint::default(), Input::Start, t0(), &opts());
    assert_eq!(s.checkpoint.phase, Some(Phase::Preflight));
    assert_eq!(s.checkpoint.runs, 1);
    assert_eq!(
        s.checkpoint.intent_sha256, None,
        "nothing approved yet: the plan may still be edited"
    );
    assert!(matches!(s.action, Action::Call(Command::Inspect(_))));

    let mut cp = at(&i, Phase::CreateTarget);
    (cp.billable_confirmed_at, cp.intent_sha256, cp.intent_at_start) = (None, None, None);
    let declined = step(&i, &cp, Input::Confirmed(false), t0(), &opts());
    assert!(matches!(
        declined.action,
        Action::Halt(Halt::Declined(ConfirmKind::Billable))
    ));
    assert_eq!(
        declined.checkpoint.intent_sha256, None,
        "a declined prompt pins nothing"
    );
    let approved = step(&i, &cp, Input::Confirmed(true), t0(), &opts());
    assert_eq!(approved.checkpoint.intent_sha256, Some(i.sha256()));
}

#[test]
fn settings_that_change_no_resource_may_be_edited_mid_run_and_are_named() {
    let i = intent();
    let cp = at(&i, Phase::IncrementalSync);
    let mut edited = i.clone();
    edited.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(2);
    edited.cutover.max_downtime = Some(fsx_migrate::plan::units::Duration::mins(20));
    let s = step(&edited, &cp, Input::Start, t0(), &opts());
    assert!(!matches!(s.action, Action::Halt(_)), "{:?}", s.action);
    let notes: Vec<&String> = s
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Note(n) if n.starts_with("picked up") => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("sync.poll_interval")),
        "{notes:?}"
    );
    assert_eq!(
        s.checkpoint.intent_sha256,
        Some(edited.sha256()),
        "the edit is the new pin"
    );
    // A resource's description still may not change.
    let mut resource = edited.clone();
    resource.transfer.smb_user = "someone-else".into();
    let s = step(&resource, &s.checkpoint, Input::Start, t0(), &opts());
    assert!(
        matches!(s.action, Action::Halt(Halt::IntentChanged(_))),
        "{:?}",
        s.action
    );
}

#[test]
fn an_edited_intent_stops_the_run_and_names_the_fields() {
    let i = intent();
    let cp = at(&i, Phase::InitialSync);
    let mut edited = i.clone();
    edited.dns.ttl = 300;
    let s = step(&edited, &cp, Input::Start, t0(), &opts());
    let Action::Halt(Halt::IntentChanged(fields)) = s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(fields, ["dns.ttl: 60 → 300"]);
}

#[test]
fn preflight_passes_to_the_billable_confirmation() {
    let i = intent();
    let env = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let mut port = sim(world("small"));
            environment(&mut port, i.inspect_request()).await
        });
    let s = step(
        &i,
        &at(&i, Phase::Preflight),
        Input::Response(Response::Environment(env.clone())),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.phase, Some(Phase::CreateTarget));
    let Action::Confirm(c) = s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(c.kind, ConfirmKind::Billable);
    // The TTL warning is reported, not blocking.
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::Finding(f) if f.message.contains("TTL 300s")))
    );

    let mut broken = env;
    broken.source = None;
    let s = step(
        &i,
        &at(&i, Phase::Preflight),
        Input::Response(Response::Environment(broken)),
        t0(),
        &opts(),
    );
    assert!(matches!(s.action, Action::Halt(Halt::PreflightFailed(_))));
}

#[test]
fn the_target_is_created_with_the_plans_token_only_after_confirmation() {
    let i = intent();
    let cp = at(&i, Phase::CreateTarget);
    let declined = step(&i, &cp, Input::Confirmed(false), t0(), &opts());
    assert_eq!(
        declined.action,
        Action::Halt(Halt::Declined(ConfirmKind::Billable))
    );
    assert!(declined.checkpoint.target_requested_at.is_none());

    let s = step(&i, &cp, Input::Confirmed(true), t0(), &opts());
    assert!(
        s.checkpoint.target_requested_at.is_none(),
        "nothing is requested before the lookup"
    );
    let Action::Call(Command::FindMigrationResources { .. }) = &s.action else {
        panic!("first looks for resources made for this source: {:?}", s.action)
    };
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::MigrationResources(vec![])),
        t0(),
        &opts(),
    );
    let Action::Call(Command::CreateTarget(req)) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(req.client_request_token, i.target_client_token());
    assert_eq!(req.subnet_ids, i.target.subnet_ids);
    assert_eq!(req.preferred_subnet_id, i.target.preferred_subnet_id);
    assert_eq!(req.tags.get("fsx-migrate:plan-id"), Some(&i.migration.id));
    assert_eq!(
        s.checkpoint.target_requested_at,
        Some(t0()),
        "write-ahead before the call"
    );

    // A resume after the call but before its answer was recorded looks again, then sends the same token.
    let again = step(&i, &s.checkpoint, Input::Start, t0(), &opts());
    let again = step(
        &i,
        &again.checkpoint,
        Input::Response(Response::MigrationResources(vec![])),
        t0(),
        &opts(),
    );
    let Action::Call(Command::CreateTarget(req2)) = &again.action else {
        panic!("{:?}", again.action)
    };
    assert_eq!(req2.client_request_token, req.client_request_token);

    let created = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::FileSystem(fs(Lifecycle::Creating))),
        t0(),
        &opts(),
    );
    assert_eq!(created.checkpoint.phase, Some(Phase::WaitTarget));
    assert_eq!(
        created.checkpoint.target_file_system_id.as_deref(),
        Some("fs-target")
    );
    assert!(matches!(
        created.action,
        Action::Call(Command::DescribeFileSystem { .. })
    ));
}

#[test]
fn waiting_for_the_target_polls_until_available_and_stops_on_failure() {
    let i = intent();
    let cp = at(&i, Phase::WaitTarget);
    for lifecycle in [
        Lifecycle::Creating,
        Lifecycle::Updating,
        Lifecycle::Unknown("HIBERNATING".into()),
    ] {
        let s = step(
            &i,
            &cp,
            Input::Response(Response::FileSystem(fs(lifecycle))),
            t0(),
            &opts(),
        );
        assert!(matches!(s.action, Action::WaitUntil { .. }));
    }
    let s = step(
        &i,
        &cp,
        Input::Response(Response::FileSystem(fs(Lifecycle::Available))),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.phase, Some(Phase::PrepareTransfer));
    assert!(matches!(
        s.action,
        Action::Call(Command::FindTransferResources { .. })
    ));
    for lifecycle in [Lifecycle::Failed, Lifecycle::Misconfigured] {
        let s = step(
            &i,
            &cp,
            Input::Response(Response::FileSystem(fs(lifecycle.clone()))),
            t0(),
            &opts(),
        );
        let Action::Halt(Halt::TargetFailed { message, .. }) = s.action else {
            panic!()
        };
        assert_eq!(message.as_deref(), Some("the AD domain could not be reached"));
    }
}

#[test]
fn transfer_resources_found_by_tag_are_reused_and_missing_ones_created_in_order() {
    let i = intent();
    let mut cp = at(&i, Phase::PrepareTransfer);
    let found = TransferResources {
        source_location_arn: Some("loc-s".into()),
        target_location_arn: None,
        tasks: Default::default(),
        reverse_tasks: Default::default(),
    };
    let s = step(
        &i,
        &cp,
        Input::Response(Response::TransferResources(found)),
        t0(),
        &opts(),
    );
    let Action::Call(Command::CreateLocation(req)) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(req.side, Side::Target);
    assert_eq!(
        req.tags.get("fsx-migrate:side").map(String::as_str),
        Some("target")
    );
    assert_eq!(s.checkpoint.forward.from_location_arn.as_deref(), Some("loc-s"));
    cp = s.checkpoint;
    let s = step(
        &i,
        &cp,
        Input::Response(Response::LocationCreated {
            side: Side::Target,
            arn: "loc-t".into(),
        }),
        t0(),
        &opts(),
    );
    // The plan logs DataSync to a log group by default: it is made ready before the task that uses it.
    let Action::Call(Command::EnsureLogGroup { arn }) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(Some(arn), i.transfer.cloudwatch_log_group_arn.as_ref());
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::LogGroupReady),
        t0(),
        &opts(),
    );
    assert!(s.checkpoint.log_group_ready_at.is_some());
    let Action::Call(Command::CreateTask(task)) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(
        task.options.preserve_deleted_files,
        PreserveDeletedFiles::Preserve
    );
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::TaskCreated { arn: "task".into() }),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.phase, Some(Phase::InitialSync));
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "looks for a running execution first"
    );
}

#[test]
fn a_sync_reattaches_to_the_execution_started_for_its_request_instead_of_starting_one() {
    let i = intent();
    let cp = at(&i, Phase::InitialSync);
    // Write-ahead: the request is recorded before the lookup, so its sync tag exists before any start.
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert!(matches!(s.action, Action::Call(Command::FindExecution { .. })));
    let requested = s.checkpoint.clone();
    let request = requested.forward.lanes[0]
        .current
        .clone()
        .expect("write-ahead record");
    let ours = candidate(
        "exec-1",
        ExecutionStatus::Transferring,
        &i,
        Some(&request.sync_id()),
        t0(),
    );
    let s = step(&i, &requested, candidates(vec![ours]), t0(), &opts());
    assert_eq!(
        s.action,
        Action::Call(Command::DescribeExecution {
            execution_arn: "exec-1".into()
        })
    );
    assert_eq!(
        s.checkpoint.forward.lanes[0]
            .current
            .as_ref()
            .unwrap()
            .execution_arn
            .as_deref(),
        Some("exec-1")
    );

    let s = step(&i, &requested, candidates(vec![]), t0(), &opts());
    let Action::Call(Command::StartExecution(req)) = &s.action else {
        panic!()
    };
    assert_eq!(req.kind, SyncKind::Initial);
    assert_eq!(req.tags.get(SYNC_TAG), Some(&request.sync_id()));
    assert_eq!(req.tags.get(PLAN_TAG), Some(&i.migration.id));
    let started = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::ExecutionStarted { arn: "exec-1".into() }),
        t0(),
        &opts(),
    );
    assert!(matches!(started.action, Action::WaitUntil { .. }));
    // Resume with the execution recorded: describe it, never start another.
    let resumed = step(&i, &started.checkpoint, Input::Start, t0(), &opts());
    assert_eq!(
        resumed.action,
        Action::Call(Command::DescribeExecution {
            execution_arn: "exec-1".into()
        })
    );
    // Resume with only the write-ahead record: look for it first.
    let resumed = step(&i, &s.checkpoint, Input::Start, t0(), &opts());
    assert!(matches!(
        resumed.action,
        Action::Call(Command::FindExecution { .. })
    ));
}

#[test]
fn unknown_execution_statuses_are_treated_as_still_running() {
    let i = intent();
    let mut cp = at(&i, Phase::InitialSync);
    cp.forward.lanes[0].current = Some(watching_initial());
    let s = step(
        &i,
        &cp,
        Input::Response(Response::Execution(info(
            ExecutionStatus::Unknown("INITIALIZING".into()),
            0,
        ))),
        t0(),
        &opts(),
    );
    assert!(matches!(s.action, Action::WaitUntil { .. }));
    assert_eq!(
        s.checkpoint.forward.lanes[0].current.clone().unwrap().last_status,
        Some(ExecutionStatus::Unknown("INITIALIZING".into()))
    );
}

#[test]
fn failed_executions_are_retried_then_stop_the_run_with_code_and_detail() {
    let mut i = intent();
    i.sync.retry_failed_executions = 1;
    let mut cp = at(&i, Phase::InitialSync);
    cp.forward.lanes[0]
        .syncs
        .push(record(SyncKind::Initial, ExecutionStatus::Error, 0, 60, 1));
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    // A new run gets a fresh retry budget: it looks for / starts an execution.
    assert!(matches!(s.action, Action::Call(Command::FindExecution { .. })));

    cp.forward.lanes[0].current = Some(watching_initial());
    let mut failed = info(ExecutionStatus::Error, 0);
    failed.error_code = Some("SmbError".into());
    failed.error_detail = Some("access denied".into());
    let s = step(
        &i,
        &cp,
        Input::Response(Response::Execution(failed)),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::ExecutionFailed {
        code,
        detail,
        attempts,
        ..
    }) = s.action
    else {
        panic!("{:?}", s.action)
    };
    assert_eq!(
        (code.as_deref(), detail.as_deref(), attempts),
        (Some("SmbError"), Some("access denied"), 2)
    );
}

#[test]
fn incrementals_stop_when_converged_or_when_out_of_runs() {
    let i = intent();
    let mut cp = at(&i, Phase::IncrementalSync);
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Initial,
        ExecutionStatus::Success,
        200_000,
        3600,
        1,
    ));
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Incremental,
        ExecutionStatus::Success,
        100,
        600,
        1,
    ));
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert_eq!(s.checkpoint.phase, Some(Phase::CutoverGate));
    assert!(matches!(s.action, Action::Confirm(ref c) if c.kind == ConfirmKind::Gate));

    // Not converged (too many files), with runs left: another incremental.
    let mut cp = at(&i, Phase::IncrementalSync);
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Incremental,
        ExecutionStatus::Success,
        90_000,
        600,
        1,
    ));
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert!(matches!(s.action, Action::Call(Command::FindExecution { .. })));

    // Out of runs: stop at the gate and say why.
    for _ in 1..i.sync.max_incremental_runs {
        cp.forward.lanes[0].syncs.push(record(
            SyncKind::Incremental,
            ExecutionStatus::Success,
            90_000,
            600,
            1,
        ));
    }
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    let Action::Halt(Halt::NotConverged { runs, misses, .. }) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(*runs, i.sync.max_incremental_runs);
    assert!(misses[0].contains("90000 files changed"), "{misses:?}");

    // The operator accepts the delta, or asks for more runs.
    let accept = RunOptions {
        accept_delta: true,
        ..opts()
    };
    assert_eq!(
        step(&i, &cp, Input::Start, t0(), &accept).checkpoint.phase,
        Some(Phase::CutoverGate)
    );
    let more = RunOptions {
        more_incrementals: 2,
        ..opts()
    };
    assert!(matches!(
        step(&i, &cp, Input::Start, t0(), &more).action,
        Action::Call(Command::FindExecution { .. })
    ));
}

#[test]
fn the_gate_needs_a_yes_and_declining_parks_before_the_freeze() {
    let i = intent();
    let cp = at(&i, Phase::CutoverGate);
    let declined = step(&i, &cp, Input::Confirmed(false), t0(), &opts());
    let Action::Halt(Halt::Parked { reason, .. }) = &declined.action else {
        panic!("{:?}", declined.action)
    };
    assert!(reason.contains("declined"), "{reason}");
    assert_eq!(declined.checkpoint.parked_at, Some(t0()));
    assert_eq!(
        declined.checkpoint.phase,
        Some(Phase::CutoverGate),
        "nothing after the gate"
    );
    let s = step(&i, &cp, Input::Confirmed(true), t0(), &opts());
    assert_eq!(s.checkpoint.phase, Some(Phase::Freeze));
    let s = after_freeze_checks(&i, &s);
    let Action::RunCommand(command) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(command.command, FREEZE_COMMAND);
    assert_eq!(s.checkpoint.freeze_requested_at, Some(t0()));
    let until = RunOptions {
        until: Some(Phase::Freeze),
        ..opts()
    };
    assert_eq!(
        step(&i, &cp, Input::Confirmed(true), t0(), &until).action,
        Action::Halt(Halt::UntilReached(Phase::Freeze))
    );
}

#[test]
fn freeze_actions_manual_command_and_an_uncertain_command() {
    let mut i = intent();
    i.cutover.freeze = FreezeKind::Manual;
    let cp = at(&i, Phase::Freeze);
    let s = after_freeze_checks(&i, &step(&i, &cp, Input::Start, t0(), &opts()));
    assert!(matches!(s.action, Action::Confirm(ref c) if c.kind == ConfirmKind::ManualFreeze));
    let frozen = step(&i, &s.checkpoint, Input::Confirmed(true), t0(), &opts());
    assert_eq!(frozen.checkpoint.frozen_at, Some(t0()));
    // The freeze is recorded on the source (a tag) before anything else happens.
    assert_eq!(frozen.checkpoint.phase, Some(Phase::Freeze));
    let Action::Call(Command::MarkFrozen {
        file_system_arn,
        plan_id,
    }) = &frozen.action
    else {
        panic!("{:?}", frozen.action);
    };
    assert!(file_system_arn.ends_with(&format!("file-system/{}", i.source.file_system_id)));
    assert_eq!(plan_id, &i.migration.id);
    let crashed = step(&i, &frozen.checkpoint, Input::Start, t0(), &opts());
    assert_eq!(
        crashed.action, frozen.action,
        "after a crash the tag is sent again, not the freeze"
    );
    let done = step(
        &i,
        &frozen.checkpoint,
        Input::Response(Response::MarkedFrozen),
        t0(),
        &opts(),
    );
    assert_eq!(done.checkpoint.phase, Some(Phase::FinalSync));
    assert_eq!(done.checkpoint.frozen_marked_at, Some(t0()));

    i.cutover.freeze = FreezeKind::Command;
    i.cutover.freeze_command = Some("./freeze.ps1".into());
    let cp = at(&i, Phase::Freeze);
    let s = after_freeze_checks(&i, &step(&i, &cp, Input::Start, t0(), &opts()));
    let Action::RunCommand(command) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(command.command, "./freeze.ps1");
    let failed = step(
        &i,
        &s.checkpoint,
        Input::CommandFinished(Err("exit status 1".into())),
        t0(),
        &opts(),
    );
    assert_eq!(
        failed.action,
        Action::Halt(Halt::FreezeFailed("exit status 1".into()))
    );
    assert!(failed.checkpoint.frozen_at.is_none());
    assert_eq!(
        failed.checkpoint.phase,
        Some(Phase::Freeze),
        "nothing after the freeze happens"
    );
    // Started but not recorded: never re-run blindly, ask.
    let uncertain = after_freeze_checks(&i, &step(&i, &s.checkpoint, Input::Start, t0(), &opts()));
    assert!(
        matches!(uncertain.action, Action::Confirm(ref c) if c.kind == ConfirmKind::FreezeOutcomeUnknown)
    );
    let ok = step(&i, &s.checkpoint, Input::CommandFinished(Ok(())), t0(), &opts());
    assert_eq!(ok.checkpoint.frozen_at, Some(t0()));
    assert!(matches!(ok.action, Action::Call(Command::MarkFrozen { .. })));
}

#[test]
fn the_swap_needs_the_freeze_recorded_on_the_source() {
    let i = intent();
    let mut cp = at(&i, Phase::DnsSwap);
    cp.forward.lanes[0]
        .syncs
        .push(record(SyncKind::Final, ExecutionStatus::Success, 10, 60, 1));
    let started = step(&i, &cp, Input::Start, t0(), &opts());
    let checked = step(
        &i,
        &started.checkpoint,
        Input::Response(Response::FileSystem(tagged_target(&i))),
        t0(),
        &opts(),
    );
    assert!(matches!(checked.action, Action::Call(Command::Inspect(_))));
    let mut untagged = env_with_record(&i, "amznfsxsource.corp.example.com");
    untagged.source.as_mut().unwrap().settings.tags.remove(FROZEN_TAG);
    let mut other = untagged.clone();
    other
        .source
        .as_mut()
        .unwrap()
        .settings
        .tags
        .insert(FROZEN_TAG.into(), "fxm-other".into());
    for (env, says) in [
        (untagged, "carries no fsx-migrate:frozen-by tag"),
        (other, "another plan froze it"),
    ] {
        let s = step(
            &i,
            &checked.checkpoint,
            Input::Response(Response::Environment(env)),
            t0(),
            &opts(),
        );
        let Action::Halt(Halt::PreconditionFailed { problems, .. }) = &s.action else {
            panic!("{:?}", s.action);
        };
        assert!(problems.iter().any(|p| p.contains(says)), "{problems:?}");
        assert!(s.checkpoint.dns_requested_at.is_none(), "nothing was sent");
    }
}

#[test]
fn a_freeze_recorded_before_freezes_were_tagged_is_tagged_before_the_swap() {
    let i = intent();
    let mut cp = at(&i, Phase::DnsSwap);
    cp.forward.lanes[0]
        .syncs
        .push(record(SyncKind::Final, ExecutionStatus::Success, 10, 60, 1));
    cp.frozen_marked_at = None;
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert!(
        matches!(s.action, Action::Call(Command::MarkFrozen { .. })),
        "{:?}",
        s.action
    );
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::MarkedFrozen),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.frozen_marked_at, Some(t0()));
    assert!(
        matches!(s.action, Action::Call(Command::DescribeFileSystem { .. })),
        "{:?}",
        s.action
    );
}

#[test]
fn the_final_sync_removes_deletes_and_the_delete_guard_holds_the_swap() {
    let mut i = intent();
    i.cutover.max_final_deletes = 5;
    let cp = at(&i, Phase::FinalSync);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    let s = step(&i, &s.checkpoint, candidates(vec![]), t0(), &opts());
    let Action::Call(Command::StartExecution(req)) = &s.action else {
        panic!()
    };
    assert_eq!(req.overrides.preserve_deleted_files, PreserveDeletedFiles::Remove);
    assert_eq!(req.overrides.verify_mode, i.transfer.verify_mode_final);

    let mut watching = s.checkpoint.clone();
    watching.forward.lanes[0].current.as_mut().unwrap().execution_arn = Some("exec-1".into());
    let mut done = info(ExecutionStatus::Success, 10);
    done.counters.files_deleted = 6;
    let s = step(
        &i,
        &watching,
        Input::Response(Response::Execution(done.clone())),
        t0(),
        &opts(),
    );
    assert_eq!(s.action, Action::Halt(Halt::DeleteGuard { deleted: 6, limit: 5 }));
    let accepted = RunOptions {
        accept_deletes: true,
        ..opts()
    };
    let mut again = watching.clone();
    again.deletes_accepted_at = Some(t0());
    let s = step(
        &i,
        &again,
        Input::Response(Response::Execution(done)),
        t0(),
        &accepted,
    );
    assert_eq!(s.checkpoint.phase, Some(Phase::DnsSwap));
    let up = swap_after_checks(&i, &s);
    assert_eq!(
        (up.value.as_str(), up.ttl),
        ("amznfsxtarget.corp.example.com", 60)
    );
}

/// From the freeze's first step: the source and the record are checked, then the freeze action comes.
fn after_freeze_checks(i: &Intent, s: &fsx_migrate::core::Step) -> fsx_migrate::core::Step {
    assert!(
        matches!(s.action, Action::Call(Command::Inspect(_))),
        "the freeze first re-checks the source and the record: {:?}",
        s.action
    );
    step(
        i,
        &s.checkpoint,
        Input::Response(Response::Environment(env_with_record(
            i,
            "amznfsxsource.corp.example.com",
        ))),
        t0(),
        &opts(),
    )
}

/// The source as Inspect sees it.
fn source_fs(i: &Intent) -> FileSystemInfo {
    FileSystemInfo {
        id: i.source.file_system_id.clone(),
        arn: format!(
            "arn:aws:fsx:us-east-1:111122223333:file-system/{}",
            i.source.file_system_id
        ),
        deployment_type: DeploymentType::SingleAz2,
        dns_name: "amznfsxsource.corp.example.com".into(),
        ..fs(Lifecycle::Available)
    }
}

/// This plan's target as DescribeFileSystems sees it: Multi-AZ, available, tagged with the plan.
fn tagged_target(i: &Intent) -> FileSystemInfo {
    let mut target = fs(Lifecycle::Available);
    target
        .settings
        .tags
        .insert(PLAN_TAG.into(), i.migration.id.clone());
    target
}

/// What Inspect finds when the record points at `value`.
/// The world as the freeze and the swap re-check it: the source (tagged frozen for this plan) and the record.
fn env_with_record(i: &Intent, value: &str) -> fsx_migrate::cloud::port::Environment {
    let mut source = source_fs(i);
    source
        .settings
        .tags
        .insert(FROZEN_TAG.into(), i.migration.id.clone());
    fsx_migrate::cloud::port::Environment {
        source: Some(source),
        subnets: vec![],
        hosted_zone_name: Some("corp.example.com.".into()),
        record: Some(DnsRecord {
            name: format!("{}.", i.dns.record_name),
            record_type: "CNAME".into(),
            values: vec![value.into()],
            ttl: Some(300),
        }),
        migration_resources: vec![],
        unresolved_passwords: vec![],
        security_groups: vec![],
    }
}

/// From the swap's first step: the target and the record are checked, then the UPSERT is sent.
fn swap_after_checks(
    i: &Intent,
    s: &fsx_migrate::core::Step,
) -> fsx_migrate::cloud::port::UpsertCnameRequest {
    let Action::Call(Command::DescribeFileSystem { file_system_id }) = &s.action else {
        panic!("the swap first describes the target: {:?}", s.action)
    };
    assert_eq!(file_system_id, "fs-target");
    let s = step(
        i,
        &s.checkpoint,
        Input::Response(Response::FileSystem(tagged_target(i))),
        t0(),
        &opts(),
    );
    assert!(
        matches!(s.action, Action::Call(Command::Inspect(_))),
        "then looks at the record: {:?}",
        s.action
    );
    let s = step(
        i,
        &s.checkpoint,
        Input::Response(Response::Environment(env_with_record(
            i,
            "amznfsxsource.corp.example.com",
        ))),
        t0(),
        &opts(),
    );
    assert!(
        s.checkpoint.dns_requested_at.is_some(),
        "write-ahead before the UPSERT"
    );
    let Action::Call(Command::UpsertCname(up)) = s.action else {
        panic!("{:?}", s.action)
    };
    up
}

#[test]
fn the_dns_swap_waits_for_insync_then_completes() {
    let i = intent();
    let mut cp = at(&i, Phase::DnsSwap);
    cp.forward.lanes[0]
        .syncs
        .push(record(SyncKind::Final, ExecutionStatus::Success, 10, 60, 1));
    let s = step(
        &i,
        &cp,
        Input::Response(Response::Change {
            id: "C1".into(),
            status: ChangeStatus::Pending,
        }),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.phase, Some(Phase::DnsWait));
    assert_eq!(
        s.action,
        Action::Call(Command::GetChange {
            change_id: "C1".into(),
            name_service: None
        })
    );
    let pending = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::Change {
            id: "C1".into(),
            status: ChangeStatus::Pending,
        }),
        t0(),
        &opts(),
    );
    assert!(matches!(pending.action, Action::WaitUntil { .. }));
    let done = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::Change {
            id: "C1".into(),
            status: ChangeStatus::InSync,
        }),
        t0(),
        &opts(),
    );
    assert_eq!(done.action, Action::Halt(Halt::Completed));
    assert_eq!(done.checkpoint.phase, Some(Phase::Complete));
}

#[test]
fn a_failed_call_stops_with_the_operation_and_aws_message() {
    let i = intent();
    let cp = at(&i, Phase::CreateTarget);
    let error = CloudError {
        class: ErrorClass::Rejected,
        operation: "fsx:CreateFileSystem".into(),
        code: "IncompatibleParameterError".into(),
        message: "token reused".into(),
    };
    let s = step(&i, &cp, Input::Failed(error.clone()), t0(), &opts());
    assert_eq!(
        s.action,
        Action::Halt(Halt::CloudFailed {
            phase: Phase::CreateTarget,
            error
        })
    );
}

#[test]
fn answers_that_do_not_fit_the_phase_are_reported_not_acted_on() {
    let i = intent();
    let cp = at(&i, Phase::WaitTarget);
    let s = step(
        &i,
        &cp,
        Input::Response(Response::TaskCreated { arn: "task".into() }),
        t0(),
        &opts(),
    );
    assert!(matches!(s.action, Action::Halt(Halt::Unexpected { .. })));
    assert_eq!(s.checkpoint, cp);
}

#[test]
fn a_stale_delta_at_the_gate_runs_one_more_incremental_before_asking() {
    let i = intent();
    let mut cp = at(&i, Phase::CutoverGate);
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Incremental,
        ExecutionStatus::Success,
        100,
        600,
        1,
    ));
    let later = t0() + jiff::SignedDuration::from_hours(30);
    let s = step(&i, &cp, Input::Start, later, &opts());
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "{:?}",
        s.action
    );
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::Note(n) if n.contains("one more incremental")))
    );
    let s = step(&i, &s.checkpoint, candidates(vec![]), later, &opts());
    let Action::Call(Command::StartExecution(req)) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(req.kind, SyncKind::Incremental);
    assert_eq!(s.checkpoint.phase, Some(Phase::CutoverGate));
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::ExecutionStarted { arn: "exec-1".into() }),
        later,
        &opts(),
    );
    // The core names the deadline; the driver wakes it then.
    let Action::WaitUntil { at: wake, .. } = s.action else {
        panic!("{:?}", s.action)
    };
    assert!(wake > later);
    let s = step(&i, &s.checkpoint, Input::Woke, wake, &opts());
    assert_eq!(
        s.action,
        Action::Call(Command::DescribeExecution {
            execution_arn: "exec-1".into()
        })
    );
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::Execution(info(ExecutionStatus::Success, 50))),
        wake,
        &opts(),
    );
    assert!(
        matches!(s.action, Action::Confirm(ref c) if c.kind == ConfirmKind::Gate),
        "{:?}",
        s.action
    );
    assert_eq!(s.checkpoint.syncs().len(), 2);
}

#[test]
fn a_gate_answered_hours_later_refreshes_the_delta_then_freezes_without_asking_again() {
    let i = intent();
    let mut cp = at(&i, Phase::CutoverGate);
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Incremental,
        ExecutionStatus::Success,
        100,
        600,
        1,
    ));
    let later = t0() + jiff::SignedDuration::from_hours(14);
    let s = step(&i, &cp, Input::Confirmed(true), later, &opts());
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "{:?}",
        s.action
    );
    assert_eq!(s.checkpoint.gate_opened_at, Some(later));
    let mut done = s.checkpoint.clone();
    done.forward.lanes[0].current = None;
    done.forward.lanes[0].syncs.push(SyncRecord {
        ended_at: later,
        ..record(SyncKind::Incremental, ExecutionStatus::Success, 5, 60, 1)
    });
    let s = step(&i, &done, Input::Start, later, &opts());
    assert_eq!(s.checkpoint.phase, Some(Phase::Freeze));
}

/// A final sync after the freeze, recorded as finished.
fn final_after_freeze(cp: &Checkpoint, arn: &str, skipped: u64) -> SyncRecord {
    let mut r = record(SyncKind::Final, ExecutionStatus::Success, 10, 60, 1);
    r.execution_arn = arn.into();
    r.started_at = cp.frozen_at.unwrap();
    r.counters.files_deleted = 0;
    r.counters.files_skipped = skipped;
    r
}

#[test]
fn a_final_sync_that_skipped_files_runs_once_more_then_stops_until_accepted() {
    let i = intent();
    let mut cp = at(&i, Phase::FinalSync);
    let f = final_after_freeze(&cp, "exec-f1", 3);
    cp.forward.lanes[0].syncs.push(f);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "runs the final sync once more: {:?}",
        s.action
    );
    assert_eq!(
        s.checkpoint.forward.lanes[0].current.as_ref().unwrap().kind,
        SyncKind::Final
    );

    let f = final_after_freeze(&cp, "exec-f2", 2);
    cp.forward.lanes[0].syncs.push(f);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    let Action::Halt(Halt::SkippedFiles {
        skipped: 2,
        execution_arn,
        ..
    }) = &s.action
    else {
        panic!("{:?}", s.action)
    };
    assert_eq!(execution_arn, "exec-f2");
    assert_eq!(s.checkpoint.skipped_files.as_ref().unwrap().count, 2);
    // It sticks: the next run stops there too, and starts nothing.
    let again = step(&i, &s.checkpoint, Input::Start, t0(), &opts());
    assert!(matches!(again.action, Action::Halt(Halt::SkippedFiles { .. })));

    let accept = RunOptions {
        accept_skipped: true,
        operator: "ops@bastion".into(),
        ..opts()
    };
    let accepted = step(&i, &s.checkpoint, Input::Start, t0(), &accept);
    assert_eq!(
        accepted.checkpoint.skipped_accepted_by.as_deref(),
        Some("ops@bastion")
    );
    assert_eq!(accepted.checkpoint.phase, Some(Phase::DnsSwap));
    assert!(matches!(
        accepted.action,
        Action::Call(Command::DescribeFileSystem { .. })
    ));
}

#[test]
fn the_swap_refuses_a_final_sync_with_unaccepted_skipped_files() {
    let i = intent();
    let mut cp = at(&i, Phase::DnsSwap);
    let f = final_after_freeze(&cp, "exec-f1", 4);
    cp.forward.lanes[0].syncs.push(f);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    let Action::Halt(Halt::PreconditionFailed { problems, .. }) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert!(problems[0].contains("skipped 4 files"), "{problems:?}");
}

#[test]
fn the_swap_refuses_a_target_that_is_not_this_plans_multi_az_file_system() {
    let i = intent();
    let mut cp = at(&i, Phase::DnsSwap);
    let f = final_after_freeze(&cp, "exec-f1", 0);
    cp.forward.lanes[0].syncs.push(f);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    let mut single_az = tagged_target(&i);
    single_az.deployment_type = DeploymentType::SingleAz2;
    single_az.settings.tags.remove(PLAN_TAG);
    let refused = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::FileSystem(single_az)),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::PreconditionFailed { problems, .. }) = &refused.action else {
        panic!("{:?}", refused.action)
    };
    assert!(
        problems.iter().any(|p| p.contains("not MULTI_AZ_1")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("did not create it")),
        "{problems:?}"
    );
    // After a crash between the UPSERT and its answer, the record already points at the target: allowed.
    let mut sent = s.checkpoint.clone();
    sent.dns_requested_at = Some(t0());
    let s = step(
        &i,
        &sent,
        Input::Response(Response::FileSystem(tagged_target(&i))),
        t0(),
        &opts(),
    );
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::Environment(env_with_record(
            &i,
            "amznfsxtarget.corp.example.com",
        ))),
        t0(),
        &opts(),
    );
    assert!(
        matches!(s.action, Action::Call(Command::UpsertCname(_))),
        "{:?}",
        s.action
    );
}

#[test]
fn a_stale_delta_is_refreshed_before_the_freeze_and_the_prompt_shows_its_age() {
    let mut i = intent();
    i.cutover.freeze = FreezeKind::Manual;
    let mut cp = at(&i, Phase::Freeze);
    cp.frozen_at = None;
    cp.freeze_requested_at = None;
    cp.forward.lanes[0].syncs.push(record(
        SyncKind::Incremental,
        ExecutionStatus::Success,
        100,
        600,
        1,
    ));
    let later = t0() + jiff::SignedDuration::from_hours(20);
    let s = step(&i, &cp, Input::Start, later, &opts());
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "one more incremental first: {:?}",
        s.action
    );
    assert_eq!(
        s.checkpoint.forward.lanes[0].current.as_ref().unwrap().kind,
        SyncKind::Incremental
    );
    assert!(s.checkpoint.freeze_requested_at.is_none(), "nothing frozen yet");

    // Fresh: the prompt names the delta's age and the predicted downtime.
    let fresh = t0() + jiff::SignedDuration::from_mins(30);
    let s = after_freeze_checks(&i, &step(&i, &cp, Input::Start, fresh, &opts()));
    let Action::Confirm(c) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert!(c.details.iter().any(|d| d.contains("ago")), "{:?}", c.details);
    assert!(
        c.details.iter().any(|d| d.contains("predicted downtime")),
        "{:?}",
        c.details
    );
}

#[test]
fn only_an_execution_started_for_this_request_is_adopted() {
    use fsx_migrate::core::lane::{ExecutionChoice, choose_execution};
    let i = intent();
    let request = CurrentSync::requested(SyncKind::Final, t0(), 2);
    let id = request.sync_id();
    let before = t0() - jiff::SignedDuration::from_hours(2);
    let ours = candidate("exec-ours", ExecutionStatus::Launching, &i, Some(&id), t0());
    let old_final = candidate(
        "exec-old",
        ExecutionStatus::Success,
        &i,
        Some("final-r1-100"),
        before,
    );
    let same_tag_too_early = candidate("exec-early", ExecutionStatus::Success, &i, Some(&id), before);
    let mut other_plan = ours.clone();
    other_plan.tags.insert(PLAN_TAG.into(), "fxm-other".into());
    let untagged = ExecutionCandidate {
        tags: Default::default(),
        ..candidate("exec-untagged", ExecutionStatus::Transferring, &i, None, t0())
    };

    let choose = |list: Vec<ExecutionCandidate>| choose_execution(&list, &request, &i.migration.id);
    assert_eq!(
        choose(vec![old_final.clone(), ours.clone()]),
        ExecutionChoice::Adopt("exec-ours".into())
    );
    assert_eq!(choose(vec![old_final.clone()]), ExecutionChoice::Start);
    assert_eq!(choose(vec![same_tag_too_early]), ExecutionChoice::Start);
    assert_eq!(
        choose(vec![other_plan]),
        ExecutionChoice::WaitFor("exec-ours".into()),
        "another plan's running execution is waited for, never adopted"
    );
    assert_eq!(
        choose(vec![untagged]),
        ExecutionChoice::WaitFor("exec-untagged".into())
    );
    assert_eq!(choose(vec![]), ExecutionChoice::Start);
}

#[test]
fn a_start_whose_outcome_is_unknown_is_looked_up_not_sent_again() {
    let i = intent();
    let mut cp = at(&i, Phase::InitialSync);
    cp.forward.lanes[0].current = Some(CurrentSync::requested(SyncKind::Initial, t0(), 1));
    let timeout = CloudError {
        class: ErrorClass::Transient,
        operation: "datasync:StartTaskExecution".into(),
        code: "RequestTimeout".into(),
        message: "the response was lost".into(),
    };
    let s = step(&i, &cp, Input::Failed(timeout.clone()), t0(), &opts());
    assert!(matches!(s.action, Action::WaitUntil { .. }), "{:?}", s.action);
    let s = step(&i, &s.checkpoint, Input::Woke, t0(), &opts());
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "{:?}",
        s.action
    );
    // A read that keeps failing is not a create: the run stops and says so.
    let read = CloudError {
        operation: "datasync:DescribeTaskExecution".into(),
        ..timeout
    };
    let s = step(&i, &cp, Input::Failed(read), t0(), &opts());
    assert!(matches!(s.action, Action::Halt(Halt::CloudFailed { .. })));
}

#[test]
fn another_plans_target_for_the_same_source_stops_the_create() {
    let i = intent();
    let mut cp = at(&i, Phase::CreateTarget);
    cp.billable_confirmed_at = Some(t0());
    let theirs = fsx_migrate::cloud::port::MigrationResource {
        kind: fsx_migrate::cloud::port::ResourceKind::FileSystem,
        id: "fs-0theirs".into(),
        plan_id: "fxm-other".into(),
        source_file_system_id: i.source.file_system_id.clone(),
    };
    let s = step(
        &i,
        &cp,
        Input::Response(Response::MigrationResources(vec![theirs.clone()])),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::PreconditionFailed {
        step: fsx_migrate::core::IrreversibleStep::CreateTarget,
        problems,
    }) = &s.action
    else {
        panic!("{:?}", s.action)
    };
    assert!(problems[0].contains("fs-0theirs") && problems[0].contains("fxm-other"));
    // This plan's own target, found by tag (a token FSx no longer remembers): adopted, not created again.
    let ours = fsx_migrate::cloud::port::MigrationResource {
        id: "fs-0ours".into(),
        plan_id: i.migration.id.clone(),
        ..theirs
    };
    let s = step(
        &i,
        &cp,
        Input::Response(Response::MigrationResources(vec![ours])),
        t0(),
        &opts(),
    );
    assert_eq!(s.checkpoint.target_file_system_id.as_deref(), Some("fs-0ours"));
    assert!(matches!(
        s.action,
        Action::Call(Command::DescribeFileSystem { .. })
    ));
}

/// An aborted plan whose deletion found nothing left but one file system.
fn deleting(i: &Intent, file_system: &str) -> Checkpoint {
    let mut cp = at(i, Phase::Aborted);
    cp.abort = Some(fsx_migrate::plan::checkpoint::Abort {
        requested_at: t0(),
        requested_by: "ops@box".into(),
        ttl_restore_requested_at: None,
        ttl_restore_change_id: None,
        ttl_restored_at: None,
        aborted_at: Some(t0()),
        deletion: Some(fsx_migrate::plan::checkpoint::Deletion {
            requested_at: t0(),
            requested_by: "ops@box".into(),
            pending: Some(vec![]),
            pending_file_systems: Some(vec![file_system.into()]),
            cancelled: vec![],
            deleted: vec![],
            checked_file_system: None,
            deleting_file_system: None,
            failed_once: None,
            done_at: None,
        }),
    });
    cp
}

#[test]
fn a_deletion_refuses_the_source_an_untagged_file_system_and_one_the_record_points_at() {
    let i = intent();
    let target = tagged_target(&i);
    let cp = deleting(&i, &target.id);
    let s = step(&i, &cp, Input::Start, t0(), &opts());
    assert!(
        matches!(s.action, Action::Call(Command::DescribeFileSystem { .. })),
        "{:?}",
        s.action
    );

    // Not this plan's: the source itself, or a file system without the plan's tag.
    let mut untagged = target.clone();
    untagged.settings.tags.clear();
    for (fs, says) in [(source_fs(&i), "is the source"), (untagged, "is not tagged")] {
        let s = step(&i, &cp, Input::Response(Response::FileSystem(fs)), t0(), &opts());
        let Action::Halt(Halt::PreconditionFailed { problems, .. }) = &s.action else {
            panic!("{:?}", s.action);
        };
        assert!(problems.iter().any(|p| p.contains(says)), "{problems:?}");
    }

    // This plan's target, but the record points at it: users may be on it.
    let checked = step(
        &i,
        &cp,
        Input::Response(Response::FileSystem(target.clone())),
        t0(),
        &opts(),
    );
    assert!(
        matches!(checked.action, Action::Call(Command::Inspect(_))),
        "{:?}",
        checked.action
    );
    let s = step(
        &i,
        &checked.checkpoint,
        Input::Response(Response::Environment(env_with_record(&i, &target.dns_name))),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::PreconditionFailed { problems, .. }) = &s.action else {
        panic!("{:?}", s.action);
    };
    assert!(problems.iter().any(|p| p.contains("points at")), "{problems:?}");

    // The record on the source: deleted without a final backup, then watched until FSx no longer knows it.
    let s = step(
        &i,
        &checked.checkpoint,
        Input::Response(Response::Environment(env_with_record(
            &i,
            "amznfsxsource.corp.example.com",
        ))),
        t0(),
        &opts(),
    );
    let Action::Call(Command::DeleteFileSystem { file_system_id, .. }) = &s.action else {
        panic!("{:?}", s.action);
    };
    assert_eq!(*file_system_id, target.id);
    let deletion = s.checkpoint.abort.as_ref().unwrap().deletion.as_ref().unwrap();
    assert_eq!(
        deletion.deleting_file_system.as_deref(),
        Some(target.id.as_str()),
        "write-ahead"
    );
    let gone = CloudError {
        class: ErrorClass::NotFound,
        operation: "fsx:DescribeFileSystems".into(),
        code: "FileSystemNotFound".into(),
        message: "gone".into(),
    };
    let s = step(&i, &s.checkpoint, Input::Failed(gone), t0(), &opts());
    assert_eq!(s.action, Action::Halt(Halt::Aborted));
    let deletion = s.checkpoint.abort.as_ref().unwrap().deletion.as_ref().unwrap();
    assert!(deletion.done_at.is_some());
    assert_eq!(deletion.deleted, vec![target.id.clone()]);
}

#[test]
fn an_ssm_freeze_reattaches_after_a_lost_send_and_a_failed_script_stops_with_its_error() {
    use fsx_migrate::cloud::port::PowerShellInvocation;
    let mut i = intent();
    i.cutover.freeze = FreezeKind::Ssm;
    i.cutover.freeze_command = None;
    i.cutover.unfreeze_command = None;
    i.windows = Some(fsx_migrate::plan::intent::Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec![],
        copy_shares: true,
        shares_left_behind: vec![],
    });
    let cp = at(&i, Phase::Freeze);
    let s = after_freeze_checks(&i, &step(&i, &cp, Input::Start, t0(), &opts()));
    assert!(
        matches!(s.action, Action::Call(Command::DescribeFileSystem { ref file_system_id }) if *file_system_id == i.source.file_system_id),
        "{:?}",
        s.action
    );
    let mut source = source_fs(&i);
    source.remote_administration_endpoint = Some("amznfsxadmin.corp.example.com".into());
    let s = step(
        &i,
        &s.checkpoint,
        Input::Response(Response::FileSystem(source)),
        t0(),
        &opts(),
    );
    let Action::Call(Command::RunPowerShell(request)) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(request.call.endpoint, "amznfsxadmin.corp.example.com");
    assert_eq!(
        request.call.keep_accounts,
        [format!("{}\\{}", i.transfer.smb_domain, i.transfer.smb_user)]
    );
    let run = s.checkpoint.powershell.last().unwrap();
    assert!(
        run.sent_at.is_some() && run.command_id.is_none(),
        "write-ahead before the send"
    );

    // Refused (the instance is not managed): nothing ran, so the next run sends without looking it up first.
    let refused = step(
        &i,
        &s.checkpoint,
        Input::Failed(CloudError {
            class: ErrorClass::Rejected,
            operation: "ssm:SendCommand".into(),
            code: "InvalidInstanceId".into(),
            message: "not managed".into(),
        }),
        t0(),
        &opts(),
    );
    assert!(
        matches!(refused.action, Action::Halt(Halt::CloudFailed { .. })),
        "{:?}",
        refused.action
    );
    assert!(refused.checkpoint.powershell[0].sent_at.is_none());
    let again = step(&i, &refused.checkpoint, Input::Start, t0(), &opts());
    assert!(
        matches!(again.action, Action::Call(Command::RunPowerShell(_))),
        "{:?}",
        again.action
    );

    // The process died after the send: the next one looks the command up by its comment, never sends again.
    let resumed = step(&i, &s.checkpoint, Input::Start, t0(), &opts());
    assert_eq!(
        resumed.action,
        Action::Call(Command::FindPowerShell {
            instance_id: "i-0123456789abcdef0".into(),
            comment: run.comment.clone(),
        })
    );
    let found = step(
        &i,
        &resumed.checkpoint,
        Input::Response(Response::PowerShellCommands(vec!["cmd-1".into()])),
        t0(),
        &opts(),
    );
    assert!(
        matches!(found.action, Action::Call(Command::GetPowerShell { ref command_id, .. }) if command_id == "cmd-1")
    );

    // The script refused: the run stops with the script's own words, nothing is recorded as frozen.
    let failed = step(
        &i,
        &found.checkpoint,
        Input::Response(Response::PowerShellInvocation(PowerShellInvocation {
            status: InvocationStatus::Failed,
            status_details: Some("Failed".into()),
            stdout:
                "fsx-migrate freeze\r\nFSXMIGRATE-ERROR Access is denied. No share access was changed.\r\n"
                    .into(),
            stderr: String::new(),
        })),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::FreezeFailed(message)) = &failed.action else {
        panic!("{:?}", failed.action)
    };
    assert!(
        message.contains("Access is denied. No share access was changed."),
        "{message}"
    );
    assert!(failed.checkpoint.frozen_at.is_none());
    assert!(
        failed.checkpoint.freeze_requested_at.is_none(),
        "a new run may try again"
    );
    assert!(failed.checkpoint.powershell[0].finished_at.is_some());

    // A successful freeze records the permissions it changed, then the tag.
    let ok = step(
        &i,
        &found.checkpoint,
        Input::Response(Response::PowerShellInvocation(PowerShellInvocation {
            status: InvocationStatus::Success,
            status_details: None,
            stdout: include_str!("fixtures/windows/freeze-output.txt").into(),
            stderr: String::new(),
        })),
        t0(),
        &opts(),
    );
    assert!(
        matches!(ok.action, Action::Call(Command::MarkFrozen { .. })),
        "{:?}",
        ok.action
    );
    assert_eq!(ok.checkpoint.frozen_at, Some(t0()));
    assert!(
        ok.checkpoint.powershell[0]
            .result
            .as_deref()
            .unwrap()
            .contains("CORP\\\\Finance Managers")
    );
}

/// The alias move re-reads FSx before each call: a lost disassociate is asked again with the same token (FSx
/// answers it as the first time), an alias FSx failed to disassociate stops the run naming it, and spn.ps1's
/// failure leaves the SPNs to a person without stopping the move.
#[test]
fn the_alias_move_asks_fsx_first_resends_a_lost_request_and_stops_on_a_failed_alias_not_on_a_failed_spn_move()
{
    use fsx_migrate::cloud::model::{AliasInfo, AliasLifecycle};
    let i = intent();
    let cp = at(&i, Phase::MoveAliases);
    let alias = |lifecycle| AliasInfo {
        name: "finance.corp.example.com".into(),
        lifecycle,
    };
    let source_aliases = |lifecycle| {
        Input::Response(Response::Aliases {
            file_system_id: i.source.file_system_id.clone(),
            aliases: vec![alias(lifecycle)],
        })
    };
    let mut target = source_fs(&i);
    target.id = "fs-target".into();
    target.dns_name = "amznfsxtarget.corp.example.com".into();
    let mut s = step(&i, &cp, Input::Start, t0(), &opts());
    for answer in [
        Input::Response(Response::FileSystem(source_fs(&i))),
        Input::Response(Response::FileSystem(target)),
    ] {
        assert!(
            matches!(s.action, Action::Call(Command::DescribeFileSystem { .. })),
            "{:?}",
            s.action
        );
        s = step(&i, &s.checkpoint, answer, t0(), &opts());
    }
    assert!(
        matches!(s.action, Action::Call(Command::DescribeAliases { .. })),
        "{:?}",
        s.action
    );
    let s = step(
        &i,
        &s.checkpoint,
        source_aliases(AliasLifecycle::Available),
        t0(),
        &opts(),
    );
    let s = step(
        &i,
        &s.checkpoint,
        source_aliases(AliasLifecycle::Available),
        t0(),
        &opts(),
    );
    let Action::Call(Command::DisassociateAliases {
        aliases,
        client_request_token,
        ..
    }) = &s.action
    else {
        panic!("{:?}", s.action)
    };
    assert_eq!(aliases, &["finance.corp.example.com"]);
    assert!(client_request_token.len() <= 63, "{client_request_token}");
    assert!(
        s.checkpoint
            .aliases
            .as_ref()
            .unwrap()
            .disassociate_requested_at
            .is_some()
    );

    // The answer was lost: the next run asks FSx first; the alias is still AVAILABLE, so it is asked again
    // with the same token.
    let resumed = step(&i, &s.checkpoint, Input::Start, t0(), &opts());
    assert!(matches!(
        resumed.action,
        Action::Call(Command::DescribeAliases { .. })
    ));
    let again = step(
        &i,
        &resumed.checkpoint,
        source_aliases(AliasLifecycle::Available),
        t0(),
        &opts(),
    );
    assert_eq!(again.action, s.action, "the same request, the same token");

    // A process that starts long after (the operator fixed IAM overnight) has its full time again: it asks
    // once more instead of stopping for lack of progress.
    let later = t0() + jiff::SignedDuration::from_mins(20);
    let next_day = step(&i, &s.checkpoint, Input::Start, later, &opts());
    assert!(matches!(
        next_day.action,
        Action::Call(Command::DescribeAliases { .. })
    ));
    let next_day = step(
        &i,
        &next_day.checkpoint,
        source_aliases(AliasLifecycle::Available),
        later,
        &opts(),
    );
    assert_eq!(next_day.action, s.action, "asked again, not stopped");
    // Within one process, no progress for 15 minutes stops the run.
    let stuck_at = later + jiff::SignedDuration::from_mins(16);
    let stuck = step(
        &i,
        &next_day.checkpoint,
        Input::Response(Response::AliasesChanged {
            file_system_id: i.source.file_system_id.clone(),
        }),
        later,
        &opts(),
    );
    let stuck = step(
        &i,
        &stuck.checkpoint,
        source_aliases(AliasLifecycle::Deleting),
        stuck_at,
        &opts(),
    );
    assert!(
        matches!(stuck.action, Action::Halt(Halt::AliasMoveFailed(ref m)) if m.contains("no progress")),
        "{:?}",
        stuck.action
    );

    // FSx could not disassociate it: the run stops, naming the alias.
    let failed = step(
        &i,
        &again.checkpoint,
        source_aliases(AliasLifecycle::DeleteFailed),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::AliasMoveFailed(message)) = &failed.action else {
        panic!("{:?}", failed.action)
    };
    assert!(
        message.contains("finance.corp.example.com") && message.contains("DELETE_FAILED"),
        "{message}"
    );

    // Disassociated, associated: then the SPNs; spn.ps1's failure stops the run with its words.
    let mut moved = again.checkpoint.clone();
    let m = moved.aliases.as_mut().unwrap();
    m.disassociated_at = Some(t0());
    m.associated_at = Some(t0());
    let spn = step(&i, &moved, Input::Start, t0(), &opts());
    assert!(
        matches!(spn.action, Action::Call(Command::FindRecord { .. })),
        "no [windows]: the SPNs are left to a person: {:?}",
        spn.action
    );
    assert!(spn.checkpoint.aliases.as_ref().unwrap().spns_by_hand);
    assert!(spn.events.iter().any(|e| matches!(e, Event::Finding(f) if f.message.contains("setspn -S HOST/finance.corp.example.com amznfsxtarget"))));
    let refused = step(
        &i,
        &moved,
        Input::CommandFinished(Err("spn.ps1 ended Failed: Insufficient access rights".into())),
        t0(),
        &opts(),
    );
    // Not a stop: the aliases moved, the SPNs are left to a person with the exact commands, and the move goes
    // on to the aliases' records.
    assert!(
        matches!(refused.action, Action::Call(Command::FindRecord { .. })),
        "{:?}",
        refused.action
    );
    let m = refused.checkpoint.aliases.as_ref().unwrap();
    assert!(m.spns_by_hand);
    assert!(
        m.spn_error
            .as_deref()
            .unwrap()
            .contains("Insufficient access rights")
    );
    assert!(
        refused
            .events
            .iter()
            .any(|e| matches!(e, Event::Finding(f) if f.message.contains("setspn -D HOST/finance")))
    );
}
