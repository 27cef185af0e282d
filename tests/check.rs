//! `fsx-migrate check`: one execution whose Includes match no file proves that DataSync reaches the shares
//! with the plan's user; it copies nothing, is never adopted as a migration's sync, refuses when the tasks
//! do not exist or are busy, and re-attaches after a crash instead of starting twice.

use fsx_migrate::cloud::model::{ExecutionStatus, SyncKind};
use fsx_migrate::cloud::port::{
    CloudPort, Command, PLAN_TAG, PreserveDeletedFiles, Response, SYNC_TAG, StartExecutionRequest,
    TaskOptions, TransferMode,
};
use fsx_migrate::core::{CheckRefusal, Halt, PROBE_NAME, RunOptions, check_probes};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::intent::LaneSpec;
use fsx_migrate::plan::partition::MAX_FILTER_CHARS;
use fsx_migrate::plan::{Checkpoint, Intent, Phase};
use fsx_migrate::sim::SimPort;

use crate::support::*;

fn check() -> RunOptions {
    RunOptions {
        check: true,
        ..options()
    }
}

/// The small world's plan, driven until its tasks exist (`run --until initial_sync`).
async fn with_tasks(port: &mut SimPort) -> (Intent, Checkpoint) {
    let intent = intent_for(port, &plan_request()).await;
    let (outcome, cp) = drive_opts(port, &intent, &Checkpoint::default(), until(Phase::InitialSync)).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::InitialSync)));
    (intent, cp)
}

fn check_executions(port: &SimPort) -> Vec<&fsx_migrate::sim::world::SimExecution> {
    port.world
        .executions
        .iter()
        .filter(|e| e.kind == SyncKind::Check)
        .collect()
}

#[tokio::test]
async fn a_check_before_the_tasks_exist_is_refused_and_creates_nothing() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), check()).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::CheckRefused(CheckRefusal::NoTasks(Phase::Preflight)))
    );
    assert!(cp.access_checks.is_empty());
    assert!(port.world.tasks.is_empty() && port.world.targets.is_empty());
    assert!(port.world.executions.is_empty());
}

#[tokio::test]
async fn a_check_lists_the_shares_copies_nothing_and_the_migration_then_completes_as_without_it() {
    let mut port = sim(world("small"));
    let (intent, cp) = with_tasks(&mut port).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Checked));
    assert_eq!(cp.phase(), Phase::PrepareTransfer, "a check moves no phase");
    let done = cp.access_checks.last().expect("the check is recorded");
    assert_eq!(done.probes, [format!("/{PROBE_NAME}")]);
    assert!(done.current.is_none());
    let result = done.result.as_ref().expect("its result");
    assert_eq!(result.status, ExecutionStatus::Success);
    assert_eq!(result.counters.files_transferred, 0);

    let checks = check_executions(&port);
    assert_eq!(checks.len(), 1);
    let e = checks[0];
    assert_eq!(e.folders.as_deref(), Some(&[][..]), "the probes select no folder");
    assert_eq!(e.tags.get(PLAN_TAG), Some(&intent.migration.id));
    assert!(e.tags[SYNC_TAG].starts_with("check-"), "{:?}", e.tags);
    assert!(!e.remove_deleted, "a check never deletes on the target");

    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    let syncs = cp.syncs();
    assert!(syncs.iter().all(|s| s.kind != SyncKind::Check));
    assert!(syncs.iter().all(|s| s.execution_arn != result.execution_arn));
    let initial = syncs.iter().find(|s| s.kind == SyncKind::Initial).unwrap();
    let files = port.world.data.folders.iter().map(|f| f.files).sum::<u64>();
    assert_eq!(
        initial.counters.files_transferred, files,
        "the initial sync still copies every file"
    );
}

#[tokio::test]
async fn a_failed_check_names_datasyncs_error_and_the_next_check_runs_anew() {
    let mut port = world_with_faults(&["execution_error"]);
    let (intent, cp) = with_tasks(&mut port).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    let Outcome::Halted(Halt::CheckFailed {
        lane,
        execution_arn,
        code,
        ..
    }) = outcome
    else {
        panic!("expected a failed check, got {outcome:?}");
    };
    assert_eq!(lane, "all");
    assert_eq!(code.as_deref(), Some("SimulatedTransferError"));
    let failed = cp.access_checks.last().unwrap().result.clone().unwrap();
    assert_eq!(failed.execution_arn, execution_arn);
    assert_eq!(failed.status, ExecutionStatus::Error);

    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Checked));
    assert_eq!(cp.access_checks.len(), 2, "both checks are kept for the report");
    assert_eq!(check_executions(&port).len(), 2);
}

#[tokio::test]
async fn a_crash_at_every_boundary_of_a_check_resumes_to_one_execution() {
    let mut probe = sim(world("small"));
    let (intent, at_tasks) = with_tasks(&mut probe).await;
    let (outcome, _, boundaries) = drive_in_memory(&mut probe, &intent, &at_tasks, check(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Checked));
    eprintln!("walking {boundaries} crash boundaries of a check");
    assert!(boundaries >= 4, "only {boundaries}");
    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (_, at_tasks) = with_tasks(&mut port).await;
        let (first, cp, _) = drive_in_memory(&mut port, &intent, &at_tasks, check(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        // A check whose result was recorded before the crash is done: running `check` again is a new one.
        let finished_before = cp.access_checks.iter().filter(|c| c.result.is_some()).count();
        let (second, cp, _) = drive_in_memory(&mut port, &intent, &cp, check(), None).await;
        assert_eq!(second, Outcome::Halted(Halt::Checked), "boundary {k}");
        assert_eq!(cp.access_checks.len(), 1 + finished_before, "boundary {k}");
        assert_eq!(
            check_executions(&port).len(),
            cp.access_checks.len(),
            "boundary {k}: a check started twice"
        );
        assert!(
            cp.access_checks.iter().all(|c| c.result.is_some()),
            "boundary {k}"
        );
        for e in check_executions(&port) {
            let recorded = cp
                .access_checks
                .iter()
                .any(|c| c.result.as_ref().unwrap().execution_arn == e.arn);
            assert!(recorded, "boundary {k}: {} is not in the checkpoint", e.arn);
        }
        assert!(port.world.violations.is_empty(), "{:?}", port.world.violations);
    }
}

#[tokio::test]
async fn a_check_left_running_is_waited_for_by_the_syncs_holds_the_gate_and_is_never_adopted() {
    let mut port = sim(world("small"));
    let (intent, at_tasks) = with_tasks(&mut port).await;
    // The check process dies right after StartTaskExecution answered.
    let mut cp = at_tasks;
    for k in 0.. {
        let mut trial = sim(world("small"));
        let (_, at) = with_tasks(&mut trial).await;
        let (first, crashed, _) = drive_in_memory(&mut trial, &intent, &at, check(), Some(k)).await;
        assert!(
            matches!(first, Outcome::Crashed(_)),
            "no boundary after the start"
        );
        if !check_executions(&trial).is_empty() {
            port = trial;
            cp = crashed;
            break;
        }
    }
    let check_arn = check_executions(&port)[0].arn.clone();
    // The syncs wait for it; the gate does not open while its result was never read.
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    let Outcome::Halted(Halt::PreconditionFailed { step, problems }) = outcome else {
        panic!("expected the gate to refuse, got {outcome:?}");
    };
    assert_eq!(step, fsx_migrate::core::IrreversibleStep::Freeze);
    assert!(problems[0].contains("`check` re-attaches to it"), "{problems:?}");
    assert!(port.world.writes.frozen_at.is_none(), "nothing frozen");
    // `check` re-attaches to it and reads it; then the migration goes on.
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Checked));
    assert_eq!(
        cp.access_checks[0].result.as_ref().unwrap().execution_arn,
        check_arn
    );
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert!(port.world.violations.is_empty(), "{:?}", port.world.violations);
    assert!(cp.syncs().iter().all(|s| s.execution_arn != check_arn));
    let check_ended = port
        .world
        .executions
        .iter()
        .find(|e| e.arn == check_arn)
        .unwrap()
        .end();
    let initial = port
        .world
        .executions
        .iter()
        .find(|e| e.kind == SyncKind::Initial)
        .unwrap();
    assert!(
        initial.started_at >= check_ended,
        "the initial sync waited for the check"
    );
}

#[tokio::test]
async fn a_check_refuses_while_a_sync_is_in_flight_and_after_the_cutover() {
    let mut port = sim(world("small"));
    let (intent, at_tasks) = with_tasks(&mut port).await;
    // A run stopped while its initial sync ran.
    let mut k = 0;
    let in_flight = loop {
        let mut trial = sim(world("small"));
        let (_, at) = with_tasks(&mut trial).await;
        let (_, cp, _) = drive_in_memory(&mut trial, &intent, &at, options(), Some(k)).await;
        if cp.forward.lanes[0].current.is_some() {
            port = trial;
            break cp;
        }
        k += 1;
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &in_flight, check()).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::CheckRefused(CheckRefusal::SyncInFlight {
            lane: "all".into(),
            kind: SyncKind::Initial
        }))
    );
    assert!(cp.access_checks.is_empty());
    assert!(check_executions(&port).is_empty());

    let (outcome, done) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let (outcome, _) = drive_opts(&mut port, &intent, &done, check()).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::CheckRefused(CheckRefusal::CutoverStarted(Phase::Complete)))
    );
    assert!(check_executions(&port).is_empty());
    let _ = at_tasks;
}

#[tokio::test]
async fn a_task_running_an_execution_no_check_started_is_not_checked() {
    let mut port = sim(world("small"));
    let (intent, cp) = with_tasks(&mut port).await;
    let task_arn = cp.forward.lanes[0].task_arn.clone().unwrap();
    let foreign = StartExecutionRequest {
        task_arn: task_arn.clone(),
        kind: SyncKind::Incremental,
        overrides: TaskOptions {
            transfer_mode: TransferMode::Changed,
            verify_mode: fsx_migrate::cloud::model::VerifyMode::None,
            preserve_deleted_files: PreserveDeletedFiles::Preserve,
            security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
            log_level: fsx_migrate::cloud::model::LogLevel::Off,
        },
        tags: Default::default(),
        bytes_per_second: None,
        includes: None,
    };
    let Ok(Response::ExecutionStarted { arn }) = port.execute(&Command::StartExecution(foreign)).await else {
        panic!("the simulator starts it");
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::CheckRefused(CheckRefusal::TaskBusy {
            lane: "all".into(),
            execution_arn: arn
        }))
    );
    assert!(cp.access_checks.is_empty(), "nothing was started for it");
    assert!(check_executions(&port).is_empty());
}

#[tokio::test]
async fn a_partitioned_plan_probes_every_lane_folder_and_still_copies_nothing() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    let folders: Vec<String> = port
        .world
        .data
        .folders
        .iter()
        .map(|f| f.path.clone())
        .filter(|p| p.len() > 1 && p.matches('/').count() == 1)
        .take(2)
        .collect();
    assert_eq!(folders.len(), 2, "the small world has top-level folders");
    intent.transfer.lanes = folders
        .iter()
        .enumerate()
        .map(|(k, folder)| LaneSpec {
            name: format!("lane-{k}"),
            includes: vec![folder.clone()],
            entries: None,
            bytes: None,
        })
        .collect();
    let (outcome, cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::InitialSync),
    )
    .await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::InitialSync)));
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Checked));
    let probes = &cp.access_checks[0].probes;
    assert_eq!(probes.len(), folders.len() + 1);
    for folder in &folders {
        assert!(
            probes.contains(&format!("{folder}/{PROBE_NAME}")),
            "{folder} not probed"
        );
    }
    assert_eq!(check_executions(&port)[0].folders.as_deref(), Some(&[][..]));
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
}

#[tokio::test]
async fn probes_leave_out_wildcards_and_stay_within_the_filter_quota() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    let long = "x".repeat(1000);
    let mut includes: Vec<String> = (0..200).map(|i| format!("/{long}{i}")).collect();
    includes.push("/Home*".into());
    intent.transfer.lanes = vec![LaneSpec {
        name: "wide".into(),
        includes,
        entries: None,
        bytes: None,
    }];
    let shares = ["/Finance".to_string(), format!("/{long}0")];
    let (probes, unprobed) = check_probes(&intent, &shares);
    assert_eq!(probes[0], format!("/{PROBE_NAME}"));
    assert!(probes.iter().all(|p| !p.contains('*')));
    assert!(probes.join("|").len() <= MAX_FILTER_CHARS);
    assert_eq!(
        probes.len() - 1 + unprobed as usize,
        202,
        "every folder is probed or counted, a share's folder a lane names once"
    );
    let long0 = format!("/{long}0/");
    assert_eq!(probes.iter().filter(|p| p.starts_with(&long0)).count(), 1);
    assert!(probes.contains(&format!("/Finance/{PROBE_NAME}")));
    assert!(
        unprobed >= 2,
        "the wildcard and what passes the quota: {unprobed}"
    );
}

/// The intent and the checkpoint of a plan whose tasks exist, computed once for the property below.
fn at_tasks() -> &'static (Intent, Checkpoint) {
    static AT_TASKS: std::sync::OnceLock<(Intent, Checkpoint)> = std::sync::OnceLock::new();
    AT_TASKS.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { with_tasks(&mut sim(world("small"))).await })
    })
}

fn check_input() -> impl proptest::strategy::Strategy<Value = fsx_migrate::core::Input> {
    use fsx_migrate::cloud::model::ExecutionInfo;
    use fsx_migrate::cloud::port::{CloudError, ErrorClass, ExecutionCandidate};
    use fsx_migrate::core::Input;
    use proptest::prelude::*;
    let candidate = |sync: &str, status: ExecutionStatus| ExecutionCandidate {
        arn: "exec-found".into(),
        status,
        started_at: Some("2026-12-01T09:00:00Z".parse().unwrap()),
        tags: [
            (PLAN_TAG.to_string(), "fxm-test0001".to_string()),
            (SYNC_TAG.to_string(), sync.to_string()),
        ]
        .into(),
    };
    let statuses = prop_oneof![
        Just(ExecutionStatus::Launching),
        Just(ExecutionStatus::Success),
        Just(ExecutionStatus::Error),
        Just(ExecutionStatus::Unknown("QUEUED".into())),
    ];
    prop_oneof![
        Just(Input::Start),
        Just(Input::Woke),
        Just(Input::Response(Response::ExecutionCandidates(Vec::new()))),
        Just(Input::Response(Response::ExecutionCandidates(vec![candidate(
            "initial-r1-0",
            ExecutionStatus::Transferring
        )]))),
        Just(Input::Response(Response::ExecutionCandidates(vec![candidate(
            "check-r1-1796115600",
            ExecutionStatus::Launching
        )]))),
        (0..100u32).prop_map(|n| Input::Response(Response::ExecutionStarted {
            arn: format!("exec-{n}")
        })),
        statuses.prop_map(|status| Input::Response(Response::Execution(ExecutionInfo {
            arn: "exec-x".into(),
            status,
            started_at: None,
            counters: Default::default(),
            durations: Default::default(),
            error_code: None,
            error_detail: None,
        }))),
        prop_oneof![Just(ErrorClass::Rejected), Just(ErrorClass::Transient)].prop_map(|class| Input::Failed(
            CloudError {
                class,
                operation: "datasync:StartTaskExecution".into(),
                code: "InvalidRequestException".into(),
                message: "no".into(),
            }
        )),
        Just(Input::CommandFinished(Ok(()))),
        Just(Input::Confirmed(true)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xc4ec_0001),
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever it hears, in whatever phase: a check never moves the phase or touches the migration's lanes,
    /// its only change to the cloud is a start of its own kind (probes, PRESERVE, no verify, check tag),
    /// recorded write-ahead, never while a lane's sync is in flight or the cutover began.
    #[test]
    fn a_check_changes_nothing_but_its_own_execution_under_any_inputs(
        phase in proptest::sample::select(Phase::ALL.to_vec()),
        in_flight in proptest::prelude::any::<bool>(),
        pending in 0..3u8,
        inputs in proptest::collection::vec(check_input(), 1..40),
    ) {
        let (intent, base) = at_tasks();
        let mut cp = base.clone();
        cp.phase = Some(phase);
        if in_flight {
            cp.forward.lanes[0].current = Some(fsx_migrate::plan::CurrentSync::requested(
                SyncKind::Initial, "2026-12-01T08:50:00Z".parse().unwrap(), 1));
        }
        // A check recorded before (its process died), without or with its execution.
        if pending > 0 {
            let mut current = fsx_migrate::plan::CurrentSync::requested(
                SyncKind::Check, "2026-12-01T08:55:00Z".parse().unwrap(), 1);
            current.execution_arn = (pending == 2).then(|| "exec-check".to_string());
            cp.access_checks.push(fsx_migrate::plan::checkpoint::AccessCheck {
                lane: "all".into(),
                task_arn: cp.forward.lanes[0].task_arn.clone().unwrap(),
                probes: vec![format!("/{PROBE_NAME}")],
                unprobed_folders: 0,
                current: Some(current),
                result: None,
            });
        }
        let (phase_before, lanes_before) = (cp.phase, cp.forward.clone());
        let mut now: jiff::Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        for input in inputs {
            now += jiff::SignedDuration::from_secs(15);
            let s = fsx_migrate::core::step(intent, &cp, input, now, &check());
            proptest::prop_assert_eq!(s.checkpoint.phase, phase_before);
            proptest::prop_assert_eq!(&s.checkpoint.forward, &lanes_before);
            if let fsx_migrate::core::Action::Call(command) = &s.action
                && command.is_mutating()
            {
                let Command::StartExecution(req) = command else {
                    return Err(proptest::test_runner::TestCaseError::fail(format!("{command:?}")));
                };
                proptest::prop_assert_eq!(req.kind, SyncKind::Check);
                proptest::prop_assert!(req.includes.as_ref().is_some_and(|p| !p.is_empty()));
                proptest::prop_assert_eq!(&req.overrides.preserve_deleted_files, &PreserveDeletedFiles::Preserve);
                proptest::prop_assert_eq!(&req.overrides.verify_mode, &fsx_migrate::cloud::model::VerifyMode::None);
                proptest::prop_assert!(req.tags[SYNC_TAG].starts_with("check-"));
                let pending = s.checkpoint.access_checks.last().and_then(|c| c.current.as_ref());
                proptest::prop_assert!(pending.is_some_and(|c| c.execution_arn.is_none()), "write-ahead missing");
                proptest::prop_assert!(!in_flight && phase < Phase::Freeze && phase >= Phase::PrepareTransfer);
            }
            cp = s.checkpoint;
        }
    }
}

#[tokio::test]
async fn a_check_recorded_before_is_not_started_past_the_gate() {
    let mut port = sim(world("small"));
    let (intent, mut cp) = with_tasks(&mut port).await;
    // A check recorded write-ahead whose process died before the start; the plan went on to the freeze.
    cp.access_checks.push(fsx_migrate::plan::checkpoint::AccessCheck {
        lane: "all".into(),
        task_arn: cp.forward.lanes[0].task_arn.clone().unwrap(),
        probes: vec![format!("/{PROBE_NAME}")],
        unprobed_folders: 0,
        current: Some(fsx_migrate::plan::CurrentSync::requested(
            SyncKind::Check,
            port.now(),
            1,
        )),
        result: None,
    });
    cp.phase = Some(Phase::FinalSync);
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, check()).await;
    assert_eq!(
        outcome,
        Outcome::Halted(Halt::CheckRefused(CheckRefusal::CutoverStarted(Phase::FinalSync)))
    );
    assert!(
        cp.access_checks.is_empty(),
        "nothing was started for it: forgotten"
    );
    assert!(check_executions(&port).is_empty());
}

#[tokio::test]
async fn a_check_looks_past_the_executions_the_plan_knows_and_forgets_one_that_is_gone() {
    use fsx_migrate::cloud::port::{CloudError, ErrorClass};
    use fsx_migrate::core::{Action, Input, step};
    let mut port = sim(world("small"));
    let (intent, at_tasks) = with_tasks(&mut port).await;
    let (_, done) = drive_opts(&mut port, &intent, &at_tasks, check()).await;
    let (_, mut cp) = drive_opts(&mut port, &intent, &done, until(Phase::LowerTtl)).await;
    let known_syncs = cp.forward.lanes[0].known_execution_arns();
    assert!(!known_syncs.is_empty());
    cp.phase = Some(Phase::IncrementalSync);
    let now = port.now();
    let s = step(&intent, &cp, Input::Start, now, &check());
    let Action::Call(Command::FindExecution { known, .. }) = &s.action else {
        panic!("{:?}", s.action);
    };
    let first_check = done.access_checks[0]
        .result
        .as_ref()
        .unwrap()
        .execution_arn
        .clone();
    for arn in known_syncs.iter().chain([&first_check]) {
        assert!(
            known.contains(arn),
            "{arn} not passed as known: DataSync describes only the newest few"
        );
    }

    // Its execution gone (the task deleted, or DataSync's 30 days past): forgotten, and a new check begins.
    let mut pending = s.checkpoint.clone();
    pending
        .access_checks
        .last_mut()
        .unwrap()
        .current
        .as_mut()
        .unwrap()
        .execution_arn = Some("exec-gone".into());
    let gone = Input::Failed(CloudError {
        class: ErrorClass::Rejected,
        operation: "datasync:DescribeTaskExecution".into(),
        code: "InvalidRequestException".into(),
        message: "exec-gone not found".into(),
    });
    let s = step(&intent, &pending, gone, now, &check());
    assert_eq!(
        s.checkpoint.access_checks.len(),
        pending.access_checks.len(),
        "the gone one popped, a new one recorded"
    );
    assert!(
        s.checkpoint
            .access_checks
            .last()
            .unwrap()
            .current
            .as_ref()
            .unwrap()
            .execution_arn
            .is_none()
    );
    assert!(
        matches!(s.action, Action::Call(Command::FindExecution { .. })),
        "{:?}",
        s.action
    );
}

#[tokio::test]
async fn a_check_of_an_edited_intent_is_refused() {
    let mut port = sim(world("small"));
    let (mut intent, cp) = with_tasks(&mut port).await;
    intent.transfer.smb_user = "someone-else".into();
    let (outcome, _) = drive_opts(&mut port, &intent, &cp, check()).await;
    let Outcome::Halted(Halt::IntentChanged(fields)) = outcome else {
        panic!("expected the edit to be refused, got {outcome:?}");
    };
    assert!(fields.iter().any(|f| f.contains("smb_user")), "{fields:?}");
    assert!(check_executions(&port).is_empty());
}
