//! End-to-end migrations in the simulator with a virtual clock.

use fsx_migrate::core::Halt;
use fsx_migrate::driver::Outcome;
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
    eprintln!("{acc:#?}\n{cp:#?}");
}
