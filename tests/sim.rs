//! The simulator's own behaviour behind the port: faults that change what happened (lost responses, skipped
//! files) and the operations fault rules may name.

use fsx_migrate::cloud::model::{ExecutionStatus, Side, SyncKind};
use fsx_migrate::cloud::port::ALL_OPERATIONS;
use fsx_migrate::cloud::port::{CloudError, CloudPort, Command, ErrorClass, Response};
use fsx_migrate::engine::driver::{Driver, MemoryStore, Outcome, Quiet};
use fsx_migrate::plan::units::Duration;
use fsx_migrate::sim::faults::FaultRule;
use fsx_migrate::sim::scenario::{self, ScenarioSpec};
use fsx_migrate::sim::{SimPort, epoch, folders};

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

/// Creates a target (with the source's throughput capacity), both locations and one task per lane
/// (Includes, Excludes) in `port` from `recorded` requests; returns the task ARNs.
async fn lanes_in(port: &mut SimPort, recorded: &[Command], lanes: &[(&[&str], &[&str])]) -> Vec<String> {
    let find = |f: &dyn Fn(&Command) -> bool| recorded.iter().find(|c| f(c)).cloned().unwrap();
    let Command::CreateTarget(mut create_target) = find(&|c| matches!(c, Command::CreateTarget(_))) else {
        unreachable!()
    };
    create_target.settings.throughput_capacity_mbps = port.world.source.settings.throughput_capacity_mbps;
    let target_arn = arn_of(port.execute(&Command::CreateTarget(create_target)).await.unwrap());
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
    let Command::CreateTask(template) = find(&|c| matches!(c, Command::CreateTask(_))) else {
        unreachable!()
    };
    let mut tasks = Vec::new();
    for (i, (includes, excludes)) in lanes.iter().enumerate() {
        let mut req = template.clone();
        req.lane = format!("lane-{i}");
        req.source_location_arn = locations[0].clone();
        req.target_location_arn = locations[1].clone();
        req.includes = includes.iter().map(|s| s.to_string()).collect();
        req.excludes = excludes.iter().map(|s| s.to_string()).collect();
        tasks.push(arn_of(port.execute(&Command::CreateTask(req)).await.unwrap()));
    }
    tasks
}

/// Creates a target, both locations and a task over the whole share; returns the task ARN.
async fn task_in(port: &mut SimPort, recorded: &[Command]) -> String {
    lanes_in(port, recorded, &[(&[], &[])]).await.remove(0)
}

/// Starts an execution of `kind` (with the options the engine sends for it) on `task_arn`.
async fn start_kind(port: &mut SimPort, recorded: &[Command], task_arn: &str, kind: SyncKind) -> String {
    let Some(Command::StartExecution(mut req)) = recorded
        .iter()
        .find(|c| matches!(c, Command::StartExecution(r) if r.kind == kind))
        .cloned()
    else {
        unreachable!()
    };
    req.task_arn = task_arn.to_string();
    arn_of(port.execute(&Command::StartExecution(req)).await.unwrap())
}

async fn start(port: &mut SimPort, recorded: &[Command], task_arn: &str) -> String {
    start_kind(port, recorded, task_arn, SyncKind::Initial).await
}

async fn describe(port: &mut SimPort, arn: &str) -> fsx_migrate::cloud::model::ExecutionInfo {
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

/// Moves the port's virtual clock to just after every execution ended.
fn finish_all(port: &SimPort) {
    let end = port.world.executions.iter().map(|e| e.end()).max().unwrap();
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

// ---- lanes: coverage, shared hardware, quota ---------------------------------------------------------------

/// The small scenario at `throughput` MB/s, with `files` and `bytes` when given.
fn world_at(throughput: u32, files: Option<u64>, bytes: Option<u64>) -> SimPort {
    let mut spec = ScenarioSpec::named("small").unwrap();
    spec.throughput_mbps = throughput;
    spec.files = files.unwrap_or(spec.files);
    spec.bytes = bytes.unwrap_or(spec.bytes);
    sim(scenario::build(&spec, epoch()))
}

/// Top-level folders of the world, biggest first.
fn top_folders(port: &SimPort) -> Vec<(String, u64)> {
    let mut tops: Vec<(String, u64)> = folders::inventory(&port.world.data.folders)
        .into_iter()
        .filter(|r| r.depth == 1)
        .map(|r| (r.path, r.files))
        .collect();
    tops.sort_by_key(|t| std::cmp::Reverse(t.1));
    tops
}

/// Runs every lane's initial sync together, then (after a day of writes) `kind` on every lane together; swaps
/// DNS when `kind` is the final sync.
async fn sync_lanes(port: &mut SimPort, recorded: &[Command], tasks: &[String], kind: SyncKind) {
    for task in tasks {
        start(port, recorded, task).await;
    }
    finish_all(port);
    port.clock().advance(Duration::secs(86_400));
    if kind == SyncKind::Final {
        let file_system_arn = port.world.source.arn.clone();
        port.execute(&Command::MarkFrozen {
            file_system_arn,
            plan_id: "fxm-test".into(),
        })
        .await
        .unwrap();
    }
    for task in tasks {
        start_kind(port, recorded, task, kind).await;
    }
    finish_all(port);
    if kind == SyncKind::Final {
        let swap = recorded
            .iter()
            // The swap, not the UPSERT that lowered the TTL ahead of it (same value).
            .find(|c| {
                matches!(c, Command::UpsertCname(r)
                    if !fsx_migrate::cloud::model::dns_eq(&r.value, &port.world.source.dns_name))
            })
            .cloned()
            .unwrap();
        port.execute(&swap).await.unwrap();
        port.clock().advance(Duration::secs(600));
    }
}

#[tokio::test]
async fn a_folder_no_lane_covers_is_counted_as_lost_writes_and_missing_files() {
    let recorded = recorded_requests().await;
    let mut port = sim(world("small"));
    let tops = top_folders(&port);
    let (a, gap) = (tops[0].0.as_str(), tops[1].0.as_str());
    // The rest lane excludes `gap` as if another lane had it, but no lane includes it.
    let tasks = lanes_in(&mut port, &recorded, &[(&[a], &[]), (&[], &[a, gap])]).await;
    sync_lanes(&mut port, &recorded, &tasks, SyncKind::Final).await;
    let acc = port.world.accounting(port.now());
    assert_eq!(acc.files_not_covered, Some(tops[1].1), "{acc:?}");
    assert_eq!(acc.files_covered_twice, Some(0));
    assert!(acc.files_missing_at_swap.unwrap() >= tops[1].1, "{acc:?}");
    assert!(
        acc.writes_lost_at_swap.unwrap() > tops[1].1,
        "its writes too: {acc:?}"
    );

    // The same partition without the gap loses nothing.
    let mut port = sim(world("small"));
    let tasks = lanes_in(&mut port, &recorded, &[(&[a], &[]), (&[], &[a])]).await;
    sync_lanes(&mut port, &recorded, &tasks, SyncKind::Final).await;
    let acc = port.world.accounting(port.now());
    assert_eq!(
        (
            acc.files_not_covered,
            acc.files_missing_at_swap,
            acc.writes_lost_at_swap
        ),
        (Some(0), Some(0), Some(0)),
        "{acc:?}"
    );
    assert!(acc.violations.is_empty(), "{:?}", acc.violations);
}

#[tokio::test]
async fn files_two_lanes_cover_are_counted_as_overlap_and_once_in_the_totals() {
    let recorded = recorded_requests().await;
    let mut port = sim(world("small"));
    let tops = top_folders(&port);
    let a = tops[2].0.as_str();
    let tasks = lanes_in(&mut port, &recorded, &[(&[a], &[]), (&[], &[])]).await;
    sync_lanes(&mut port, &recorded, &tasks, SyncKind::Final).await;
    let acc = port.world.accounting(port.now());
    assert_eq!(acc.files_covered_twice, Some(tops[2].1));
    assert_eq!(acc.files_not_covered, Some(0));
    assert_eq!(acc.writes_lost_at_swap, Some(0), "{acc:?}");
}

/// The lanes of a two-way split of the top-level folders (alternating by size) and its rest lane.
fn halves(port: &SimPort) -> (Vec<String>, Vec<String>) {
    let tops = top_folders(port);
    let half: Vec<String> = tops.iter().step_by(2).map(|(p, _)| p.clone()).collect();
    (half.clone(), half)
}

/// Seconds from the first to the last end of PREPARING (or of TRANSFERRING) among executions of `kind`.
fn phase_span(port: &SimPort, kind: SyncKind, through_transfer: bool) -> f64 {
    let of_kind: Vec<_> = port.world.executions.iter().filter(|e| e.kind == kind).collect();
    let start = of_kind.iter().map(|e| e.started_at).min().unwrap();
    of_kind
        .iter()
        .map(|e| {
            let s = &e.schedule;
            let secs = s.launch_secs + s.prepare_secs + if through_transfer { s.transfer_secs } else { 0.0 };
            e.started_at.duration_since(start).as_secs_f64() + secs
        })
        .fold(0.0, f64::max)
}

#[tokio::test]
async fn two_lanes_list_faster_than_one_when_the_file_systems_have_metadata_to_spare() {
    let recorded = recorded_requests().await;
    // 512 MB/s: the file systems serve 102,400 entries/s, five times one execution's 20,000.
    let mut one = world_at(512, None, None);
    let task = task_in(&mut one, &recorded).await;
    sync_lanes(&mut one, &recorded, &[task], SyncKind::Incremental).await;
    let mut two = world_at(512, None, None);
    let (includes, excludes) = halves(&two);
    let includes: Vec<&str> = includes.iter().map(String::as_str).collect();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let tasks = lanes_in(&mut two, &recorded, &[(&includes, &[]), (&[], &excludes)]).await;
    sync_lanes(&mut two, &recorded, &tasks, SyncKind::Incremental).await;
    let single = phase_span(&one, SyncKind::Incremental, false) - 90.0;
    let parallel = phase_span(&two, SyncKind::Incremental, false) - 90.0;
    assert!(
        parallel < 0.7 * single,
        "listing: two lanes {parallel}s, one {single}s"
    );
    let entries = one.world.executions[1].schedule.entries as f64;
    assert!(
        (single - entries / 20_000.0).abs() < 1.0,
        "one lane lists at its own rate"
    );

    // At 8 MB/s the file systems serve 1,600 entries/s in all: a second lane cannot list faster.
    let mut one = world_at(8, Some(20_000), Some(1 << 30));
    let task = task_in(&mut one, &recorded).await;
    sync_lanes(&mut one, &recorded, &[task], SyncKind::Incremental).await;
    let mut two = world_at(8, Some(20_000), Some(1 << 30));
    let (includes, excludes) = halves(&two);
    let includes: Vec<&str> = includes.iter().map(String::as_str).collect();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let tasks = lanes_in(&mut two, &recorded, &[(&includes, &[]), (&[], &excludes)]).await;
    sync_lanes(&mut two, &recorded, &tasks, SyncKind::Incremental).await;
    let single = phase_span(&one, SyncKind::Incremental, false) - 90.0;
    let parallel = phase_span(&two, SyncKind::Incremental, false) - 90.0;
    assert!(
        (parallel - single).abs() < 0.01 * single,
        "metadata-bound: {parallel}s vs {single}s"
    );
}

#[tokio::test]
async fn parallel_lanes_share_the_throughput_of_the_slower_file_system() {
    let recorded = recorded_requests().await;
    // 512 MB/s × 0.8 = 409.6 MB/s for everyone: two lanes move the initial copy no faster than one.
    let mut one = world_at(512, None, None);
    let task = task_in(&mut one, &recorded).await;
    start(&mut one, &recorded, &task).await;
    let mut two = world_at(512, None, None);
    let (includes, excludes) = halves(&two);
    let includes: Vec<&str> = includes.iter().map(String::as_str).collect();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let tasks = lanes_in(&mut two, &recorded, &[(&includes, &[]), (&[], &excludes)]).await;
    for task in &tasks {
        start(&mut two, &recorded, task).await;
    }
    let single = phase_span(&one, SyncKind::Initial, true);
    let parallel = phase_span(&two, SyncKind::Initial, true);
    let bytes = one.world.data.bytes as f64;
    assert!(
        (single - 90.0 - 10.5 - bytes / 409.6e6).abs() < 2.0,
        "one lane: {single}s"
    );
    assert!(
        parallel > 0.97 * single,
        "shared: two lanes {parallel}s, one {single}s"
    );
    for e in &two.world.executions {
        let alone = e.schedule.bytes as f64 / 409.6e6;
        assert!(
            e.schedule.transfer_secs > alone * 1.1,
            "each lane is slowed by the other"
        );
    }
}

#[tokio::test]
async fn one_task_moves_at_most_625_mb_per_second_and_two_share_a_fast_file_system() {
    let recorded = recorded_requests().await;
    // 2048 MB/s × 0.8 = 1638 MB/s of file system, but an agentless task moves at most 5 Gbps.
    let (files, bytes) = (100_000, 1u64 << 40);
    let mut one = world_at(2048, Some(files), Some(bytes));
    let task = task_in(&mut one, &recorded).await;
    start(&mut one, &recorded, &task).await;
    let transfer = one.world.executions[0].schedule.transfer_secs;
    assert!((transfer - bytes as f64 / 625e6).abs() < 1.0, "{transfer}s");
    assert_eq!(one.world.model.task_cap_mbps, 625.0);

    let mut two = world_at(2048, Some(files), Some(bytes));
    let (includes, excludes) = halves(&two);
    let includes: Vec<&str> = includes.iter().map(String::as_str).collect();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let tasks = lanes_in(&mut two, &recorded, &[(&includes, &[]), (&[], &excludes)]).await;
    for task in &tasks {
        start(&mut two, &recorded, task).await;
    }
    let single = phase_span(&one, SyncKind::Initial, true);
    let parallel = phase_span(&two, SyncKind::Initial, true);
    assert!(
        parallel < 0.8 * single,
        "two capped tasks: {parallel}s, one: {single}s"
    );
}

#[tokio::test]
async fn a_later_lane_slows_a_running_one_without_its_counters_going_back() {
    let recorded = recorded_requests().await;
    let mut port = world_at(512, None, Some(2 << 40));
    let (includes, excludes) = halves(&port);
    let includes: Vec<&str> = includes.iter().map(String::as_str).collect();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let tasks = lanes_in(&mut port, &recorded, &[(&includes, &[]), (&[], &excludes)]).await;
    let first = start(&mut port, &recorded, &tasks[0]).await;
    let planned_end = port.world.executions[0].end();
    port.clock().advance(Duration::secs(600));
    let before = describe(&mut port, &first).await;
    assert_eq!(before.status, ExecutionStatus::Transferring);
    start(&mut port, &recorded, &tasks[1]).await;
    assert!(port.world.executions[0].end() > planned_end, "re-planned later");
    let after = describe(&mut port, &first).await;
    assert_eq!(
        after.counters.bytes_transferred,
        before.counters.bytes_transferred
    );
    port.clock().advance(Duration::secs(60));
    let later = describe(&mut port, &first).await;
    assert!(later.counters.bytes_transferred > after.counters.bytes_transferred);
}

#[tokio::test]
async fn an_execution_over_the_quota_ends_in_error_after_preparing() {
    let recorded = recorded_requests().await;
    let mut port = sim(world("reference"));
    let entries = port.world.entries_for(&[], &[]);
    assert_eq!(entries, 31_500_000, "30 M files and 1.5 M directories");
    let task = task_in(&mut port, &recorded).await;
    let arn = start(&mut port, &recorded, &task).await;
    let prepare_end = {
        let s = &port.world.executions[0].schedule;
        s.launch_secs + s.prepare_secs
    };
    port.clock().advance(Duration::secs(prepare_end as u64 - 10));
    assert_eq!(describe(&mut port, &arn).await.status, ExecutionStatus::Preparing);
    port.clock().advance(Duration::secs(20));
    let info = describe(&mut port, &arn).await;
    assert_eq!(info.status, ExecutionStatus::Error);
    assert_eq!(info.error_code.as_deref(), Some("QuotaExceeded"));
    let detail = info.error_detail.unwrap();
    assert!(
        detail.contains("31500000") && detail.contains("25000000"),
        "{detail}"
    );
    assert_eq!(info.counters.files_transferred, 0);

    // A lane of the biggest folder stays under the quota (and preflight can tell from entries_for).
    let biggest = top_folders(&port)[0].0.clone();
    let lane = [biggest.as_str()];
    assert!(2 * port.world.entries_for(std::slice::from_ref(&biggest), &[]) < 25_000_000);
    let mut port = sim(world("reference"));
    let tasks = lanes_in(&mut port, &recorded, &[(&lane, &[])]).await;
    let arn = start(&mut port, &recorded, &tasks[0]).await;
    finish_all(&port);
    assert_eq!(describe(&mut port, &arn).await.status, ExecutionStatus::Success);
}

#[tokio::test]
async fn the_reference_final_sync_lists_in_parallel_lanes_far_faster_than_one_task() {
    let recorded = recorded_requests().await;
    // One task over the whole share (the quota lifted, or it could not run at all).
    let mut one = sim(world("reference"));
    one.world.model.entries_per_execution_quota = u64::MAX;
    let task = task_in(&mut one, &recorded).await;
    sync_lanes(&mut one, &recorded, &[task], SyncKind::Final).await;
    // Twelve lanes and the rest lane: folders packed by size, the top-level folders over 1.5 M files split
    // into their subfolders (what the planner does from `sim inventory`).
    let mut twelve = sim(world("reference"));
    let rows = folders::inventory(&twelve.world.data.folders);
    let big = |path: &str| {
        rows.iter()
            .any(|r| r.depth == 1 && r.path == path && r.files > 1_500_000)
    };
    let mut units: Vec<(&str, u64)> = rows
        .iter()
        .filter(|r| match r.depth {
            1 => !big(&r.path),
            2 => big(&r.path[..r.path.rfind('/').unwrap()]),
            _ => false,
        })
        .map(|r| (r.path.as_str(), r.files + r.directories))
        .collect();
    units.sort_by_key(|u| std::cmp::Reverse(u.1));
    let mut lanes: Vec<(Vec<&str>, u64)> = vec![(Vec::new(), 0); 12];
    for (path, entries) in &units {
        let lightest = lanes.iter_mut().min_by_key(|l| l.1).unwrap();
        lightest.0.push(path);
        lightest.1 += entries;
    }
    let lanes: Vec<Vec<&str>> = lanes.into_iter().map(|l| l.0).collect();
    let all: Vec<&str> = units.iter().map(|u| u.0).collect();
    let mut specs: Vec<(&[&str], &[&str])> = lanes.iter().map(|l| (l.as_slice(), &[][..])).collect();
    specs.push((&[], &all));
    let tasks = lanes_in(&mut twelve, &recorded, &specs).await;
    sync_lanes(&mut twelve, &recorded, &tasks, SyncKind::Final).await;
    let (single, parallel) = (
        phase_span(&one, SyncKind::Final, false),
        phase_span(&twelve, SyncKind::Final, false),
    );
    let (a, b) = (
        one.world.accounting(one.now()),
        twelve.world.accounting(twelve.now()),
    );
    eprintln!(
        "reference final sync (a day of writes after the initial copy), end of PREPARING: one task {single:.0}s, \
         13 lanes {parallel:.0}s; service downtime {:?}s vs {:?}s; largest lane {} entries",
        a.service_downtime_secs,
        b.service_downtime_secs,
        twelve
            .world
            .executions
            .iter()
            .map(|e| e.schedule.entries)
            .max()
            .unwrap()
    );
    assert!(parallel < single / 3.0, "{parallel}s vs {single}s");
    assert_eq!(b.writes_lost_at_swap, Some(0));
    assert_eq!(b.files_not_covered, Some(0));
    assert_eq!(b.files_covered_twice, Some(0));
    assert!(
        twelve
            .world
            .executions
            .iter()
            .all(|e| e.schedule.exceeded_quota.is_none())
    );
}
