//! The simulator's own behaviour behind the port: faults that change what happened (lost responses, skipped
//! files) and the operations fault rules may name.

use fsx_migrate::driver::{Driver, MemoryStore, Outcome, Quiet};
use fsx_migrate::model::{ExecutionStatus, Side};
use fsx_migrate::port::ALL_OPERATIONS;
use fsx_migrate::port::{CloudError, CloudPort, Command, ErrorClass, Response};
use fsx_migrate::sim::SimPort;
use fsx_migrate::sim::faults::FaultRule;
use fsx_migrate::units::Duration;

use crate::support::*;

/// A port that passes every command to the simulator and remembers what it saw.
struct Recorder {
    sim: SimPort,
    commands: Vec<Command>,
    /// Each failed call, with the number of DataSync tasks and CreateTask calls in the world right after it.
    errors: Vec<(CloudError, usize, u64)>,
}

impl Recorder {
    fn new(sim: SimPort) -> Recorder {
        Recorder {
            sim,
            commands: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl CloudPort for Recorder {
    async fn execute(&mut self, command: &Command) -> Result<Response, CloudError> {
        self.commands.push(command.clone());
        let result = self.sim.execute(command).await;
        if let Err(e) = &result {
            let w = &self.sim.world;
            let creates = w.api_calls.get("datasync:CreateTask").copied().unwrap_or(0);
            self.errors.push((e.clone(), w.tasks.len(), creates));
        }
        result
    }
}

/// Plans on a fault-free copy, then drives the migration on `port` (answers yes) until it stops.
async fn migrate(port: SimPort) -> (Recorder, Outcome) {
    let mut planner = sim(port.world.clone());
    planner.world.faults.clear();
    let intent = intent_for(&mut planner, &plan_request()).await;
    let mut recorder = Recorder::new(port);
    let clock = recorder.sim.clock();
    let mut store = MemoryStore::default();
    let mut quiet = Quiet;
    let mut driver = Driver::new(
        &mut recorder,
        clock,
        intent,
        Default::default(),
        &mut store,
        options(),
        &mut quiet,
    );
    driver.assume_yes = true;
    driver.answers = yes();
    let outcome = driver.drive().await.expect("drive");
    drop(driver);
    (recorder, outcome)
}

#[tokio::test]
async fn every_operation_a_migration_calls_is_a_valid_fault_operation() {
    let (recorder, outcome) = migrate(sim(world("small"))).await;
    assert_eq!(outcome, Outcome::Halted(fsx_migrate::core::Halt::Completed));
    let mut called: Vec<&str> = recorder
        .commands
        .iter()
        .flat_map(|c| c.operations().iter().copied())
        .collect();
    called.sort_unstable();
    called.dedup();
    for op in called {
        assert!(
            ALL_OPERATIONS.contains(&op),
            "{op} is called but not in port::ALL_OPERATIONS"
        );
        FaultRule::parse(&format!("throttle,op={op}")).unwrap();
    }
}

#[tokio::test]
async fn a_lost_create_task_response_leaves_the_task_created() {
    let (recorder, _) = migrate(world_with_faults(&["lost_response,op=datasync:CreateTask"])).await;
    let (error, tasks, creates) = recorder
        .errors
        .iter()
        .find(|(e, ..)| e.operation == "datasync:CreateTask")
        .expect("CreateTask failed once");
    assert_eq!(error.class, ErrorClass::Transient);
    assert!(error.class.is_retryable());
    assert_eq!(error.code, "RequestTimeout");
    assert!(error.message.contains("response was lost"), "{}", error.message);
    assert_eq!(*creates, 1, "api_calls counts the call once");
    assert_eq!(*tasks, 1, "the task exists although the caller got an error");
    assert_eq!(recorder.sim.world.faults[0].fired, 1);
}

#[tokio::test]
async fn a_lost_create_file_system_response_is_recovered_by_the_client_token() {
    let (recorder, outcome) = migrate(world_with_faults(&["lost_response,op=fsx:CreateFileSystem"])).await;
    assert_eq!(outcome, Outcome::Halted(fsx_migrate::core::Halt::Completed));
    let w = &recorder.sim.world;
    assert_eq!(w.faults[0].fired, 1);
    assert_eq!(
        w.api_calls["fsx:CreateFileSystem"], 2,
        "the lost call and its retry"
    );
    assert_eq!(w.targets.len(), 1, "the retry's token found the first target");
}

/// The requests a clean migration of the small world sends, to replay against a faulty world.
async fn recorded_requests() -> Vec<Command> {
    let (recorder, _) = migrate(sim(world("small"))).await;
    recorder.commands
}

fn arn_of(response: Response) -> String {
    match response {
        Response::FileSystem(fs) => fs.arn,
        Response::LocationCreated { arn, .. }
        | Response::TaskCreated { arn }
        | Response::ExecutionStarted { arn } => arn,
        other => panic!("unexpected {other:?}"),
    }
}

/// Creates a target, both locations and a task in `port` from `recorded` requests; returns the task ARN.
async fn task_in(port: &mut SimPort, recorded: &[Command]) -> String {
    let find = |f: &dyn Fn(&Command) -> bool| recorded.iter().find(|c| f(c)).cloned().unwrap();
    let create_target = find(&|c| matches!(c, Command::CreateTarget(_)));
    let target_arn = arn_of(port.execute(&create_target).await.unwrap());
    let mut locations = Vec::new();
    for side in [Side::Source, Side::Target] {
        let Command::CreateLocation(mut req) =
            find(&|c| matches!(c, Command::CreateLocation(r) if r.side == side))
        else {
            unreachable!()
        };
        if side == Side::Target {
            req.file_system_arn = target_arn.clone();
        }
        locations.push(arn_of(port.execute(&Command::CreateLocation(req)).await.unwrap()));
    }
    let Command::CreateTask(mut req) = find(&|c| matches!(c, Command::CreateTask(_))) else {
        unreachable!()
    };
    req.source_location_arn = locations[0].clone();
    req.target_location_arn = locations[1].clone();
    arn_of(port.execute(&Command::CreateTask(req)).await.unwrap())
}

async fn start(port: &mut SimPort, recorded: &[Command], task_arn: &str) -> String {
    let Some(Command::StartExecution(mut req)) = recorded
        .iter()
        .find(|c| matches!(c, Command::StartExecution(_)))
        .cloned()
    else {
        unreachable!()
    };
    req.task_arn = task_arn.to_string();
    arn_of(port.execute(&Command::StartExecution(req)).await.unwrap())
}

async fn describe(port: &mut SimPort, arn: &str) -> fsx_migrate::model::ExecutionInfo {
    let command = Command::DescribeExecution {
        execution_arn: arn.to_string(),
    };
    match port.execute(&command).await.unwrap() {
        Response::Execution(info) => info,
        other => panic!("unexpected {other:?}"),
    }
}

/// Moves the port's virtual clock to just after the last execution's end.
fn finish_last_execution(port: &SimPort) {
    let end = port.world.executions.last().unwrap().end();
    let secs = end.duration_since(port.now()).as_secs().max(0) as u64 + 1;
    port.clock().advance(Duration::secs(secs));
}

#[tokio::test]
async fn skipped_files_end_in_success_and_stay_missing_until_a_later_run_copies_them() {
    let recorded = recorded_requests().await;
    let mut port = world_with_faults(&["skipped_files,count=50"]);
    let task = task_in(&mut port, &recorded).await;

    let first = start(&mut port, &recorded, &task).await;
    assert_eq!(describe(&mut port, &first).await.counters.files_skipped, 0);
    finish_last_execution(&port);
    let info = describe(&mut port, &first).await;
    assert_eq!(info.status, ExecutionStatus::Success);
    assert_eq!(info.counters.files_skipped, 50);
    assert_eq!(
        info.counters.files_transferred,
        info.counters.estimated_files_to_transfer - 50
    );
    assert_eq!(port.world.missing_files_at(port.now()), 50);
    assert_eq!(port.world.faults[0].fired, 1);

    // The fault fired once: the next run skips nothing and copies the 50 with the changes.
    let second = start(&mut port, &recorded, &task).await;
    let schedule = &port.world.executions[1].schedule;
    assert_eq!(schedule.skipped_files, 0);
    assert!(schedule.files >= 50, "the missing files are copied: {schedule:?}");
    finish_last_execution(&port);
    let info = describe(&mut port, &second).await;
    assert_eq!(info.status, ExecutionStatus::Success);
    assert_eq!(info.counters.files_skipped, 0);
    assert_eq!(port.world.missing_files_at(port.now()), 0);
}
