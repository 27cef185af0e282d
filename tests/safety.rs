//! Cutover safety: every path that could swap DNS to an incomplete target, or act twice, is refused.
//! One test per rule (docs/ARCHITECTURE.md, "Irreversible steps re-check the world"); the core tests in
//! `core.rs` pin single transitions, these drive whole migrations against the simulated cloud.

use fsx_migrate::cloud::model::SyncKind;
use fsx_migrate::cloud::port::{PLAN_TAG, SYNC_TAG};
use fsx_migrate::core::{Halt, IrreversibleStep, RunOptions};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::{Checkpoint, Phase};

use fsx_migrate::cloud::port::CloudPort;

use crate::support::*;

/// Rule 1: a plan whose checkpoint lost its history (restored from a backup taken at the gate) never adopts
/// the final sync that already ran as its own: it starts a new one after its own freeze.
#[tokio::test]
async fn an_old_final_execution_is_not_adopted_by_a_checkpoint_that_lost_its_history() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, at_gate) =
        drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::Freeze)).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::Freeze)));
    let (outcome, _) = drive_opts(&mut port, &intent, &at_gate, until(Phase::DnsSwap)).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::DnsSwap)));
    let old_final = port
        .world
        .executions
        .iter()
        .find(|e| e.kind == SyncKind::Final)
        .expect("a final sync ran")
        .arn
        .clone();

    // The plan file is restored from the copy taken at the gate: it knows nothing of that final sync.
    let (outcome, cp) = drive_opts(&mut port, &intent, &at_gate, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let final_record = cp.forward.lanes[0]
        .last_success(SyncKind::Final)
        .expect("a final sync");
    assert_ne!(
        final_record.execution_arn, old_final,
        "the old execution was adopted"
    );
    assert!(final_record.started_at >= cp.frozen_at.unwrap());
    assert_eq!(executions_of(&port, SyncKind::Final), 2);
    let new_final = port
        .world
        .executions
        .iter()
        .rev()
        .find(|e| e.kind == SyncKind::Final)
        .unwrap();
    assert_eq!(new_final.tags.get(PLAN_TAG), Some(&intent.migration.id));
    assert!(
        new_final
            .tags
            .get(SYNC_TAG)
            .is_some_and(|t| t.starts_with("final-"))
    );
}

/// Rule 1: an execution still running that this request did not start is waited for, never adopted and
/// never doubled (a deleted checkpoint section while the initial sync runs).
#[tokio::test]
async fn a_running_execution_of_a_lost_request_is_waited_for_not_adopted() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (_, cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::InitialSync),
    )
    .await;
    // An initial sync this plan started for a request its checkpoint no longer has.
    let task_arn = cp.forward.lanes[0].task_arn.clone().unwrap();
    let lost = fsx_migrate::cloud::port::StartExecutionRequest {
        task_arn,
        kind: SyncKind::Initial,
        overrides: fsx_migrate::cloud::port::TaskOptions {
            transfer_mode: fsx_migrate::cloud::port::TransferMode::Changed,
            verify_mode: fsx_migrate::cloud::model::VerifyMode::OnlyFilesTransferred,
            preserve_deleted_files: fsx_migrate::cloud::port::PreserveDeletedFiles::Preserve,
            security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
            log_level: fsx_migrate::cloud::model::LogLevel::Off,
        },
        tags: [
            (PLAN_TAG.to_string(), intent.migration.id.clone()),
            (SYNC_TAG.to_string(), "initial-r1-0".to_string()),
        ]
        .into(),
        bytes_per_second: None,
        includes: None,
    };
    let started = port
        .execute(&fsx_migrate::cloud::port::Command::StartExecution(lost))
        .await;
    assert!(started.is_ok(), "{started:?}");
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, false);
    assert_eq!(
        executions_of(&port, SyncKind::Initial),
        2,
        "the lost one, then this request's own"
    );
}

/// Rule 2: `--until incremental_sync` after the initial sync, then a resume: no second initial sync;
/// `--until dns_swap` after the final sync, then a resume: no second final sync inside the downtime.
#[tokio::test]
async fn a_sync_kind_that_succeeded_is_not_run_again_after_a_stop() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::IncrementalSync),
    )
    .await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::UntilReached(Phase::IncrementalSync))
    );
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, until(Phase::DnsSwap)).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::DnsSwap)));
    assert_eq!(executions_of(&port, SyncKind::Initial), 1);
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_eq!(executions_of(&port, SyncKind::Initial), 1);
    assert_eq!(executions_of(&port, SyncKind::Final), 1);
    assert_invariants(&port, &cp, true);
}

/// Rule 3: a tripped delete guard is recorded and stops every later run until `--accept-deletes`, whose
/// acceptance is recorded with who and when; nothing runs meanwhile. Deletes propagate in every run since
/// lanes, so with a limit of 0 each run that deletes trips it anew, and each trip needs its own acceptance.
#[tokio::test]
async fn the_delete_guard_sticks_until_accepted_and_the_acceptance_is_recorded() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.max_final_deletes = 0;
    let (mut outcome, mut cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    let accept = RunOptions {
        accept_deletes: true,
        operator: "ops@bastion".into(),
        ..options()
    };
    let mut trips = Vec::new();
    while let Outcome::Halted(Halt::DeleteGuard { deleted, limit: 0 }) = outcome {
        assert!(deleted > 0);
        let trip = cp.delete_guard.clone().expect("the trip is recorded");
        assert_eq!(trip.count, deleted);
        assert!(
            cp.deletes_accepted_at.is_none(),
            "a new trip is not covered by an earlier acceptance"
        );
        assert!(!trips.contains(&trip.execution_arn), "one trip per run");
        trips.push(trip.execution_arn.clone());

        // A plain resume stops at the guard again: nothing new runs, no swap.
        let executions = port.world.executions.len();
        let (again, same) = drive_opts(&mut port, &intent, &cp, options()).await;
        assert_eq!(again, Outcome::Halted(Halt::DeleteGuard { deleted, limit: 0 }));
        assert_eq!(port.world.executions.len(), executions);
        assert!(swaps(&port).is_empty(), "DNS was swapped");

        (outcome, cp) = drive_opts(&mut port, &intent, &same, accept.clone()).await;
        assert!(trips.len() < 30, "the guard keeps tripping");
    }
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert!(!trips.is_empty(), "the guard never tripped");
    assert_eq!(cp.deletes_accepted_by.as_deref(), Some("ops@bastion"));
    assert!(cp.deletes_accepted_at.is_some());
    assert_eq!(executions_of(&port, SyncKind::Final), 1);
    assert_invariants(&port, &cp, true);
}

/// Rule 3: `--accept-deletes` given before anything tripped accepts nothing.
#[tokio::test]
async fn accepting_deletes_before_the_guard_tripped_accepts_nothing() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.max_final_deletes = 0;
    let early = RunOptions {
        accept_deletes: true,
        ..options()
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), early).await;
    assert!(
        matches!(outcome, Outcome::Halted(Halt::DeleteGuard { .. })),
        "{outcome:?}"
    );
    assert!(cp.deletes_accepted_at.is_none());
}

/// Rule 4: `--until` a phase the plan already reached does nothing and says where the plan stands.
#[tokio::test]
async fn until_a_phase_already_reached_does_nothing() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (_, parked) = drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::Freeze)).await;
    assert_eq!(parked.phase, Some(Phase::CutoverGate));
    let calls = port.world.api_calls.clone();
    let (outcome, cp) = drive_opts(&mut port, &intent, &parked, until(Phase::CutoverGate)).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::AlreadyAt {
            until: Phase::CutoverGate,
            phase: Phase::CutoverGate
        })
    );
    assert_eq!(cp, parked, "nothing recorded");
    assert_eq!(port.world.api_calls, calls, "nothing called");
    assert!(port.world.writes.frozen_at.is_none(), "the source was frozen");

    // `--until preflight` on a new plan stops before anything is created or called.
    let mut fresh = sim(world("small"));
    let (outcome, cp) = drive_opts(
        &mut fresh,
        &intent,
        &Checkpoint::default(),
        until(Phase::Preflight),
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Halted(Halt::AlreadyAt { .. })),
        "{outcome:?}"
    );
    assert!(!cp.has_started());
    assert!(fresh.world.targets.is_empty());
}

/// Rule 5: a checkpoint edited by hand to skip ahead to the swap stops with the reasons, and nothing moves.
#[tokio::test]
async fn a_checkpoint_moved_forward_by_hand_does_not_swap() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (_, mut cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::CutoverGate),
    )
    .await;
    cp.phase = Some(Phase::DnsSwap);
    let (outcome, _) = drive_opts(&mut port, &intent, &cp, options()).await;
    let Outcome::Halted(Halt::PreconditionFailed {
        step: IrreversibleStep::DnsSwap,
        problems,
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(problems.iter().any(|p| p.contains("no freeze")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("no final sync")),
        "{problems:?}"
    );
    assert!(swaps(&port).is_empty(), "DNS was swapped");
}

/// Rule 5: the target id replaced by the source's in a checkpoint about to swap: refused from observation.
#[tokio::test]
async fn a_checkpoint_naming_the_source_as_target_does_not_swap() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (_, mut cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::DnsSwap)).await;
    cp.target_file_system_id = Some(intent.source.file_system_id.clone());
    let (outcome, _) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert!(
        matches!(
            outcome,
            Outcome::Halted(Halt::PreconditionFailed {
                step: IrreversibleStep::DnsSwap,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert!(swaps(&port).is_empty(), "DNS was swapped");
}

/// Rule 5: the record was moved by someone else before the swap: refused, not overwritten.
#[tokio::test]
async fn a_record_changed_by_someone_else_is_not_overwritten() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (_, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::DnsSwap)).await;
    let record = port
        .world
        .records
        .iter_mut()
        .find(|r| fsx_migrate::cloud::model::dns_eq(&r.name, &intent.dns.record_name))
        .expect("the plan's record");
    record.values = vec!["someone-elses-server.corp.example.com".into()];
    let (outcome, _) = drive_opts(&mut port, &intent, &cp, options()).await;
    let Outcome::Halted(Halt::PreconditionFailed { problems, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(problems[0].contains("someone-elses-server"), "{problems:?}");
    assert!(swaps(&port).is_empty(), "DNS was swapped");
}

/// Rule 6: a second plan for the same source is refused at preflight, naming the first plan's resources.
#[tokio::test]
async fn a_second_plan_for_the_same_source_is_refused() {
    let mut port = sim(world("small"));
    let first = intent_for(&mut port, &plan_request()).await;
    let (_, _) = drive_opts(
        &mut port,
        &first,
        &Checkpoint::default(),
        until(Phase::InitialSync),
    )
    .await;
    let mut req = plan_request();
    req.plan_id = Some("fxm-second".into());
    let second = intent_for(&mut port, &req).await;
    let (outcome, _) = drive_opts(&mut port, &second, &Checkpoint::default(), options()).await;
    let Outcome::Halted(halt @ Halt::PreflightFailed(_)) = outcome else {
        panic!("{outcome:?}")
    };
    let named: Vec<String> = halt.findings().iter().map(|f| f.message.clone()).collect();
    assert!(
        named
            .iter()
            .any(|m| m.contains("file system") && m.contains(&first.migration.id)),
        "{named:?}"
    );
    assert!(named.iter().any(|m| m.contains("DataSync task")), "{named:?}");
    assert_eq!(port.world.targets.len(), 1);
}

/// Rule 8: a create whose answer was lost (it happened) is found by tag, not sent again; a create that
/// failed on the server is looked up first, then sent again once.
#[tokio::test]
async fn a_create_that_failed_on_the_server_is_looked_up_before_it_is_sent_again() {
    let mut w = world("small");
    w.faults = vec![
        fsx_migrate::sim::faults::FaultRule::parse("server_error,op=datasync:CreateTask,times=1").unwrap(),
        fsx_migrate::sim::faults::FaultRule::parse("server_error,op=datasync:StartTaskExecution,times=1")
            .unwrap(),
    ];
    let mut port = sim(w);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert_eq!(
        port.world.api_calls["datasync:CreateTask"], 2,
        "not retried blindly, then sent once more"
    );
    assert_eq!(port.world.tasks.len(), 1);
    assert_eq!(
        port.world.api_calls["datasync:ListLocations"], 2,
        "the unknown outcome was looked up by tag before CreateTask was sent again"
    );
}

/// Rule 14: a password source that does not resolve fails preflight, before anything billable exists.
#[tokio::test]
async fn an_unset_password_variable_fails_before_anything_is_created() {
    let mut port = sim(world("small"));
    let mut req = plan_request();
    req.smb_password =
        fsx_migrate::cloud::model::PasswordSource::Env("FSX_MIGRATE_TEST_UNSET_VARIABLE".into());
    let intent = intent_for(&mut port, &req).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    let Outcome::Halted(halt @ Halt::PreflightFailed(_)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        halt.findings()[0]
            .message
            .contains("FSX_MIGRATE_TEST_UNSET_VARIABLE is not set")
    );
    assert!(port.world.targets.is_empty());
    assert!(!cp.has_started() || cp.target_requested_at.is_none());
}

/// Rule 8: creates whose answers were lost (they happened) are found by tag: one task, one execution per
/// request, no StartTaskExecution while one runs.
#[tokio::test]
async fn creates_whose_answers_were_lost_are_found_by_tag_not_sent_again() {
    let mut port = world_with_faults(&[
        "lost_response,op=datasync:CreateLocationFsxWindows,times=1",
        "lost_response,op=datasync:CreateTask,times=1",
        "lost_response,op=datasync:StartTaskExecution,times=2",
        "lost_response,op=fsx:CreateFileSystem,times=1",
    ]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert_eq!(port.world.faults.iter().map(|f| f.fired).sum::<u64>(), 5);
    assert_eq!(port.world.locations.len(), 2);
    assert_eq!(port.world.tasks.len(), 1);
    assert_eq!(port.world.api_calls["datasync:CreateTask"], 1);
    assert_eq!(
        port.world.executions.len(),
        cp.syncs().len(),
        "every execution is one of the checkpoint's syncs"
    );
}

/// Rule 7: a final sync that skipped files (open at the freeze) runs once more; the files are copied and
/// nothing is lost at the swap.
#[tokio::test]
async fn a_final_sync_that_skipped_files_runs_again_and_nothing_is_lost() {
    // The initial, one incremental, then the final: the third execution skips files.
    let mut port = world_with_faults(&["skipped_files,count=7,after=2"]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    let finals = cp.finals_after_freeze();
    assert_eq!(finals.len(), 2, "{finals:?}");
    assert!(finals[0].counters.files_skipped > 0, "{finals:?}");
    assert_eq!(finals[1].counters.files_skipped, 0);
}

/// Rule 7: skipped files on both final runs stop the run before the swap until `--accept-skipped`; a swap
/// with them accepted counts them as lost, as the operator was told.
#[tokio::test]
async fn files_skipped_twice_stop_the_swap_until_accepted() {
    let mut port = world_with_faults(&["skipped_files,count=7,after=2,times=2"]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    // The simulator skips at most the files the final sync copies.
    let Outcome::Halted(Halt::SkippedFiles { skipped, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(skipped > 0);
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert!(
        matches!(outcome, Outcome::Halted(Halt::SkippedFiles { .. })),
        "{outcome:?}"
    );
    assert!(swaps(&port).is_empty(), "DNS was swapped");
    assert_eq!(executions_of(&port, SyncKind::Final), 2);
    let accept = RunOptions {
        accept_skipped: true,
        operator: "ops@bastion".into(),
        ..options()
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, accept).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_eq!(cp.skipped_accepted_by.as_deref(), Some("ops@bastion"));
    let acc = port.world.accounting(port.now());
    assert_eq!(acc.files_missing_at_swap, Some(skipped));
}

/// The crash-anywhere walk again, with lost answers and a skipped-files retry in the way: every boundary
/// of those new paths resumes to one clean migration.
#[tokio::test]
async fn a_crash_at_every_boundary_of_the_lookup_and_retry_paths_resumes_cleanly() {
    let faults = [
        "lost_response,op=datasync:CreateTask,times=1",
        "lost_response,op=datasync:StartTaskExecution,times=1",
        "lost_response,op=fsx:CreateFileSystem,times=1",
        "skipped_files,count=3,after=2",
    ];
    let mut probe = world_with_faults(&faults);
    let mut intent = intent_for(&mut probe, &plan_request()).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    for k in 0..boundaries {
        let mut port = world_with_faults(&faults);
        let (first, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        assert_invariants(&port, &cp, false);
        let (second, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        assert_eq!(port.world.tasks.len(), 1, "boundary {k}");
    }
}
