//! Crash anywhere: stop the driver dead at every checkpoint boundary and between every side effect and the
//! checkpoint that records it, resume, and check that the migration still ends exactly once and loses nothing.

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

    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (first, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        assert_invariants(&port, &cp, false);
        let (second, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        assert!(matches!(cp.runs, 1 | 2), "boundary {k}: {} runs", cp.runs);
    }
}

/// The same with the share split into 12 lanes (13 tasks with the rest lane), run 6 at a time: a crash
/// between any write-ahead record and its side effect in any lane resumes without doubling anything.
#[tokio::test]
async fn a_crash_at_every_boundary_of_a_twelve_lane_migration_resumes_to_one_clean_migration() {
    let mut req = plan_request();
    req.plan_id = Some("fxm-crash-lanes".into());
    let mut probe = sim(world("small"));
    let mut intent = intent_for(&mut probe, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    intent.transfer.max_parallel_tasks = Some(6);
    intent.transfer.lanes = (1..=12)
        .map(|k| fsx_migrate::plan::intent::LaneSpec {
            name: format!("lane-{k:02}"),
            includes: vec![format!("/Dept{k}")],
            entries: None,
            bytes: None,
        })
        .collect();
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    eprintln!("walking {boundaries} crash boundaries of a 12-lane migration");

    for k in 0..boundaries {
        let mut port = sim(world("small"));
        let (first, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        assert_invariants(&port, &cp, false);
        let (second, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        assert_eq!(port.world.tasks.len(), 13, "boundary {k}: one task per lane");
    }
}
