//! Crash anywhere: stop the driver dead at every checkpoint boundary and between every side effect and the
//! checkpoint that records it, resume, and check that the migration still ends exactly once and loses nothing.

use fsx_migrate::cloud::windows::WindowsScript;
use fsx_migrate::core::Halt;
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::Checkpoint;

use crate::support::*;

#[tokio::test]
async fn a_crash_at_every_boundary_resumes_to_one_clean_migration() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash".into());
    // A clean run tells how many boundaries there are.
    let mut probe = sim(world("small"));
    let mut intent = intent_for(&mut probe, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert!(boundaries > 40, "only {boundaries} boundaries");
    eprintln!("walking {boundaries} crash boundaries");

    crash_at_every_boundary(&intent, boundaries, 1).await;
}

/// The same with the share split into lanes from its inventory (a budget small enough for a dozen lanes),
/// all running at once: a crash between any write-ahead record and its side effect in any lane resumes
/// without doubling anything.
#[tokio::test]
async fn a_crash_at_every_boundary_of_a_partitioned_migration_resumes_to_one_clean_migration() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-lanes".into());
    let mut probe = sim(world("small"));
    let mut intent = intent_for(&mut probe, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    let mut input = inventory_input(&probe);
    input.entries_per_execution = Some(80_000);
    input.max_parallel_tasks = Some(13);
    fsx_migrate::plan::planner::apply_inventory(&mut intent, &input).unwrap();
    let tasks = intent.transfer.lanes.len() + 1;
    assert!(tasks >= 8, "{tasks} tasks");
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    eprintln!("walking {boundaries} crash boundaries of a migration with {tasks} tasks");

    crash_at_every_boundary(&intent, boundaries, tasks).await;
}

/// Crashes a fresh migration of the small world at boundary k, for every k, then resumes it: it completes once,
/// with `tasks` DataSync tasks, nothing lost, no orphan, in one or two runs.
async fn crash_at_every_boundary(intent: &fsx_migrate::plan::Intent, boundaries: u64, tasks: usize) {
    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (first, cp, _) = drive_mem(&mut port, intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        assert_invariants(&port, &cp, false);
        let (second, cp, _) = drive_mem(&mut port, intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        assert!(matches!(cp.runs, 1 | 2), "boundary {k}: {} runs", cp.runs);
        assert_eq!(port.world.tasks.len(), tasks, "boundary {k}: one task per lane");
    }
}

/// The rollback leg: a migration of the small world completes, users work on the target for an hour, then
/// a rollback crashes at each of its boundaries and is resumed. It rolls back once, with one reverse task,
/// nothing users wrote on the target lost, and the record back on the source.
#[tokio::test]
async fn a_crash_at_every_boundary_of_a_rollback_resumes_to_one_clean_rollback() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-back".into());
    let mut probe = sim(world("small"));
    let mut intent = intent_for(&mut probe, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    let rollback = fsx_migrate::core::RunOptions {
        rollback: true,
        ..options()
    };
    let an_hour = fsx_migrate::plan::units::Duration::hours(1);
    let (outcome, done, _) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    probe.clock().advance(an_hour);
    let (outcome, _, boundaries) = drive_in_memory(&mut probe, &intent, &done, rollback.clone(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::RolledBack));
    assert!(boundaries > 10, "only {boundaries} boundaries");
    eprintln!("walking {boundaries} crash boundaries of a rollback");

    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (outcome, done, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
        assert_eq!(outcome, Outcome::Halted(Halt::Completed));
        port.clock().advance(an_hour);
        let (first, cp, _) = drive_in_memory(&mut port, &intent, &done, rollback.clone(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        assert_invariants(&port, &cp, false);
        // `resume` continues a rollback in progress; a rollback that never got going needs `rollback` again.
        let again = if cp.rollback.is_some() {
            options()
        } else {
            rollback.clone()
        };
        let (second, cp, _) = drive_in_memory(&mut port, &intent, &cp, again, None).await;
        assert_eq!(second, Outcome::Halted(Halt::RolledBack), "boundary {k}");
        assert_invariants(&port, &cp, true);
        let acc = port.world.accounting(port.now());
        assert!(
            acc.target_writes_total.unwrap() > 0,
            "boundary {k}: users wrote to the target"
        );
        assert_eq!(acc.writes_lost_at_swap_back, Some(0), "boundary {k}");
        assert_eq!(
            port.world.tasks.len(),
            2,
            "boundary {k}: one forward and one reverse task"
        );
        let record = users_record(&port);
        assert!(
            fsx_migrate::cloud::model::dns_eq(&record.values[0], &port.world.source.dns_name),
            "boundary {k}: the record is back on the source"
        );
        assert!(
            port.world.writes.resumed_at.is_some(),
            "boundary {k}: the source takes writes again"
        );
    }
}

/// Abort after the freeze: a crash at each of its boundaries, then a resume, unfreezes the source once and
/// puts the record's TTL back.
#[tokio::test]
async fn a_crash_at_every_boundary_of_an_abort_resumes_to_one_clean_abort() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-abort".into());
    let mut probe = sim(world("small"));
    let intent = intent_for(&mut probe, &req).await;
    let until_final = fsx_migrate::core::RunOptions {
        until: Some(fsx_migrate::plan::Phase::FinalSync),
        ..options()
    };
    let abort = fsx_migrate::core::RunOptions {
        abort: true,
        ..options()
    };
    let (outcome, frozen, _) = drive_in_memory(
        &mut probe,
        &intent,
        &Checkpoint::default(),
        until_final.clone(),
        None,
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Halted(Halt::UntilReached(_))),
        "{outcome:?}"
    );
    let (outcome, _, boundaries) = drive_in_memory(&mut probe, &intent, &frozen, abort.clone(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Aborted));
    eprintln!("walking {boundaries} crash boundaries of an abort");

    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (_, frozen, _) = drive_in_memory(
            &mut port,
            &intent,
            &Checkpoint::default(),
            until_final.clone(),
            None,
        )
        .await;
        let (first, cp, _) = drive_in_memory(&mut port, &intent, &frozen, abort.clone(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        let again = if cp.abort.is_some() {
            options()
        } else {
            abort.clone()
        };
        let (second, cp, _) = drive_in_memory(&mut port, &intent, &cp, again, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Aborted), "boundary {k}");
        assert_invariants(&port, &cp, false);
        assert!(
            port.world.writes.resumed_at.is_some(),
            "boundary {k}: the source takes writes again"
        );
        let record = users_record(&port);
        assert_eq!(record.ttl, Some(300), "boundary {k}: the TTL is back");
        assert!(
            fsx_migrate::cloud::model::dns_eq(&record.values[0], &port.world.source.dns_name),
            "boundary {k}: DNS stayed on the source"
        );
    }
}

/// A migration of the small world stopped dead at boundary `k` of its run.
async fn stopped_at(intent: &fsx_migrate::plan::Intent, k: u64) -> (fsx_migrate::sim::SimPort, Checkpoint) {
    let mut port = sim(world("small"));
    let (outcome, cp, _) = drive_mem(&mut port, intent, &Checkpoint::default(), Some(k)).await;
    assert!(
        matches!(outcome, Outcome::Crashed(_)),
        "boundary {k}: {outcome:?}"
    );
    (port, cp)
}

/// The first boundary at which a migration of the small world stopped dead has an execution running.
async fn first_boundary_with_a_running_execution(intent: &fsx_migrate::plan::Intent) -> u64 {
    for k in 0..1000 {
        let (port, _) = stopped_at(intent, k).await;
        let now = port.now();
        if port
            .world
            .executions
            .iter()
            .any(|e| !e.status_at(now).is_terminal())
        {
            return k;
        }
    }
    panic!("no execution ran in the first 1000 boundaries")
}

/// `abort --delete-resources` while the initial sync runs: a crash at each of its boundaries, then a resume,
/// cancels the running execution, deletes the task, both locations and the target once each, and never
/// touches the source or the record.
#[tokio::test]
async fn a_crash_at_every_boundary_of_a_deletion_resumes_to_one_clean_deletion() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-delete".into());
    let mut probe = sim(world("small"));
    let intent = intent_for(&mut probe, &req).await;
    let delete = fsx_migrate::core::RunOptions {
        abort: true,
        delete_resources: true,
        ..options()
    };
    let running = first_boundary_with_a_running_execution(&intent).await;
    let (mut probe, cp) = stopped_at(&intent, running).await;
    let (outcome, _, boundaries) = drive_in_memory(&mut probe, &intent, &cp, delete.clone(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Aborted));
    assert!(boundaries > 8, "only {boundaries} boundaries");
    eprintln!("walking {boundaries} crash boundaries of a deletion");

    for k in 0..boundaries {
        let (mut port, cp) = stopped_at(&intent, running).await;
        let (first, cp, _) = drive_in_memory(&mut port, &intent, &cp, delete.clone(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        // A deletion recorded goes on with a plain `resume`; one never confirmed needs the command again.
        let recorded = cp.abort.as_ref().is_some_and(|a| a.deletion.is_some());
        let again = if recorded { options() } else { delete.clone() };
        let (second, cp, _) = drive_in_memory(&mut port, &intent, &cp, again, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Aborted), "boundary {k}");
        let w = &port.world;
        let now = port.now();
        let acc = w.accounting(now);
        assert!(acc.violations.is_empty(), "boundary {k}: {:?}", acc.violations);
        assert!(w.tasks.is_empty(), "boundary {k}: tasks left {:?}", w.tasks);
        assert!(w.locations.is_empty(), "boundary {k}: locations left");
        assert_eq!(w.targets.len(), 1, "boundary {k}: one target was ever created");
        assert!(w.targets[0].gone_at(now), "boundary {k}: the target is gone");
        assert!(
            w.executions.iter().all(|e| e.status_at(now).is_terminal()),
            "boundary {k}: an execution still runs"
        );
        assert!(
            w.file_system_at(&w.source.id, now).is_some(),
            "boundary {k}: the source is kept"
        );
        let deletion = cp.abort.unwrap().deletion.unwrap();
        assert!(deletion.done_at.is_some(), "boundary {k}");
        assert_eq!(
            deletion.cancelled.len(),
            1,
            "boundary {k}: {:?}",
            deletion.cancelled
        );
        let record = users_record(&port);
        assert!(
            fsx_migrate::cloud::model::dns_eq(&record.values[0], &port.world.source.dns_name),
            "boundary {k}: DNS stayed on the source"
        );
    }
}

/// `freeze = "ssm"` with the shares copied: a crash at every boundary, including between the write-ahead of SendCommand and the send
/// and between the send and the checkpoint of its command id, resumes to one clean migration that sent the
/// freeze script exactly once (a lost answer is found again by the command's comment).
#[tokio::test]
async fn a_crash_at_every_boundary_of_an_ssm_freeze_sends_the_freeze_once() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-ssm".into());
    req.freeze = fsx_migrate::plan::intent::FreezeKind::Ssm;
    req.freeze_command = None;
    req.unfreeze_command = None;
    req.windows = Some(fsx_migrate::plan::intent::Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec!["CORP\\AWS Delegated FSx Administrators".into()],
        copy_shares: true,
        shares_left_behind: vec![],
    });
    let mut probe = sim(world("small"));
    let mut intent = intent_for(&mut probe, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    // The copy of the shares (export, apply, export) before the gate, then the freeze.
    assert_eq!(probe.world.ssm_commands.len(), 4);
    eprintln!(
        "walking {boundaries} crash boundaries of a migration that copies its shares and freezes through SSM"
    );

    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (first, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        let (second, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        let scripts: Vec<_> = port.world.ssm_commands.iter().map(|c| c.script).collect();
        assert_eq!(
            scripts,
            [
                WindowsScript::Export,
                WindowsScript::Apply,
                WindowsScript::Export,
                WindowsScript::Freeze
            ],
            "boundary {k}: every script sent once"
        );
        assert!(
            cp.shares.as_ref().is_some_and(|s| s.verified_at.is_some()),
            "boundary {k}"
        );
        assert!(
            cp.powershell
                .iter()
                .all(|r| r.status.as_deref() == Some("Success")),
            "boundary {k}"
        );
    }
}
