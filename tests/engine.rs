//! End-to-end migrations in the simulator with a virtual clock.

use fsx_migrate::core::Halt;
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::Phase;
use fsx_migrate::plan::file::PlanFile;

use crate::support::*;

#[tokio::test]
async fn a_small_migration_runs_end_to_end_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut port = sim(world("small"));
    let plan = write_plan(&mut port, dir.path(), &plan_request()).await;
    let (outcome, _) = drive(&mut port, &plan, options(), yes(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let cp = PlanFile::load(&plan).unwrap().checkpoint;
    assert_eq!(cp.phase, Some(Phase::Complete));
    let acc = port.world.accounting(port.now());
    assert_eq!(acc.target_file_systems_created, 1);
    assert_eq!(acc.writes_lost_at_swap, Some(0));
    assert_eq!(acc.writes_during_freeze, Some(0));
    assert!(acc.violations.is_empty(), "{:?}", acc.violations);
}

#[tokio::test]
async fn throttled_and_failing_calls_are_retried_with_backoff() {
    let mut port = world_with_faults(&[
        "throttle,op=datasync:DescribeTaskExecution,times=3",
        "server_error,op=fsx:CreateFileSystem,times=2",
    ]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Default::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert_eq!(port.world.faults.iter().map(|f| f.fired).sum::<u64>(), 5);
    assert_eq!(
        port.world.api_calls["fsx:CreateFileSystem"], 3,
        "two 500s, then the same token succeeds"
    );
}

#[tokio::test]
async fn an_execution_ending_in_error_is_started_again() {
    let mut port = world_with_faults(&["execution_error,times=1"]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Default::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    let syncs = cp.syncs();
    let failed: Vec<_> = syncs.iter().filter(|s| !s.succeeded()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("SimulatedTransferError"));
}

#[tokio::test]
async fn repeated_execution_errors_stop_the_run_with_the_error_and_a_rerun_resumes() {
    let mut port = world_with_faults(&["execution_error,times=4"]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Default::default(), None).await;
    let Outcome::Halted(Halt::ExecutionFailed {
        attempts,
        code,
        detail,
        ..
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(attempts, 3, "the first try and two retries");
    assert_eq!(code.as_deref(), Some("SimulatedTransferError"));
    assert!(detail.unwrap().contains("interrupted"));
    assert_invariants(&port, &cp, false);
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert_eq!(cp.syncs().iter().filter(|s| !s.succeeded()).count(), 4);
}

#[tokio::test]
async fn a_target_that_fails_to_create_stops_with_fsx_failure_details() {
    let mut port = world_with_faults(&["creation_failed"]);
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, _, _) = drive_mem(&mut port, &intent, &Default::default(), None).await;
    let Outcome::Halted(Halt::TargetFailed { lifecycle, message }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(lifecycle, fsx_migrate::cloud::model::Lifecycle::Failed);
    assert!(message.unwrap().contains("unable to create"));
}

#[tokio::test]
async fn a_manual_freeze_that_does_not_stop_writers_shows_up_in_the_accounting() {
    // The operator confirms a freeze, but the simulated users keep writing: the simulator must count it.
    let mut req = plan_request();
    req.freeze = fsx_migrate::plan::intent::FreezeKind::Manual;
    let mut port = world_with_faults(&["ignored_freeze"]);
    let intent = intent_for(&mut port, &req).await;
    let mut store = fsx_migrate::engine::driver::MemoryStore::default();
    let clock = port.clock();
    let mut quiet = fsx_migrate::engine::driver::Quiet;
    let mut driver = fsx_migrate::engine::driver::Driver::new(
        &mut port,
        clock,
        intent,
        Default::default(),
        &mut store,
        options(),
        &mut quiet,
    );
    driver.answers = fsx_migrate::engine::driver::Answers::AlwaysYes;
    assert_eq!(driver.drive().await.unwrap(), Outcome::Halted(Halt::Completed));
    let acc = port.world.accounting(port.now());
    assert!(acc.writes_during_freeze.unwrap() > 0, "{acc:?}");
    assert_eq!(
        acc.writes_lost_at_swap,
        Some(0),
        "writes before the (claimed) freeze all made it"
    );
}

#[tokio::test]
async fn the_reference_scenario_simulates_in_virtual_time() {
    // The user's own share (30 M files) planned from its inventory: lanes under DataSync's quota.
    let mut port = sim(world("reference"));
    let intent = partitioned_intent(&mut port, &plan_request()).await;
    let lanes = intent.transfer.lanes.len() + 1;
    assert!(lanes > 1, "the reference share needs lanes");
    let wall = std::time::Instant::now();
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Default::default(), None).await;
    let elapsed = wall.elapsed();
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    let acc = port.world.accounting(port.now());
    assert_eq!(acc.files_not_covered, Some(0));
    assert_eq!(acc.files_covered_twice, Some(0));
    assert!(
        port.world
            .executions
            .iter()
            .all(|e| e.schedule.exceeded_quota.is_none() && !e.fault_error),
        "an execution ended in error (quota?)"
    );
    eprintln!(
        "reference scenario: {lanes} lanes, downtime {}s (service {}s), {} API calls, simulated in {:?}",
        acc.downtime_secs.unwrap(),
        acc.service_downtime_secs.unwrap(),
        acc.api_calls_total,
        elapsed
    );
}

/// Polls are not written ahead: only steps that decide something reach the plan file, so a three-day
/// migration does not fsync the plan on every look at a running execution.
#[tokio::test]
async fn only_decisions_are_written_not_observations() {
    struct Recording(Vec<fsx_migrate::plan::Checkpoint>);
    impl fsx_migrate::engine::driver::CheckpointStore for Recording {
        fn save(&mut self, cp: &fsx_migrate::plan::Checkpoint) -> Result<(), fsx_migrate::error::Failure> {
            self.0.push(cp.clone());
            Ok(())
        }
    }
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let mut store = Recording(Vec::new());
    let clock = port.clock();
    let mut quiet = fsx_migrate::engine::driver::Quiet;
    let mut driver = fsx_migrate::engine::driver::Driver::new(
        &mut port,
        clock,
        intent,
        Default::default(),
        &mut store,
        options(),
        &mut quiet,
    );
    driver.assume_yes = true;
    assert_eq!(driver.drive().await.unwrap(), Outcome::Halted(Halt::Completed));
    drop(driver);
    let polls = port.world.api_calls["datasync:DescribeTaskExecution"];
    assert!(
        (store.0.len() as u64) < polls,
        "{} writes for {polls} polls",
        store.0.len()
    );
    for pair in store.0.windows(2) {
        assert!(!pair[1].same_decisions(&pair[0]), "a write that decided nothing");
    }
    assert_eq!(store.0.last().unwrap().phase, Some(Phase::Complete));
}
