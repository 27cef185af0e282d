//! Shared helpers: simulated worlds, plans written to temp dirs, and a driver wired for tests.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use fsx_migrate::cloud::model::PasswordSource;
use fsx_migrate::cloud::port::{CloudPort, Command, InspectRequest, Response};
use fsx_migrate::core::RunOptions;
use fsx_migrate::engine::clock::Clock;
use fsx_migrate::engine::driver::{Answers, Driver, Outcome, Quiet};
use fsx_migrate::plan::file::PlanFile;
use fsx_migrate::plan::intent::FreezeKind;
use fsx_migrate::plan::planner::{PlanRequest, intent_from};
use fsx_migrate::plan::render::render;
use fsx_migrate::sim::scenario::{self, ScenarioSpec};
use fsx_migrate::sim::world::World;
use fsx_migrate::sim::{SimPort, epoch};

/// The freeze script the test plans run (freeze = "command"): it stands in for the operator's PowerShell and
/// succeeds; fsx-migrate then tags the source frozen, which is when the simulated users stop writing.
pub const FREEZE_COMMAND: &str = "echo shares read-only, sessions closed";
/// The unfreeze script a rollback runs at its end (it stands in for restoring the recorded permissions).
pub const UNFREEZE_COMMAND: &str = "echo share permissions restored";

pub fn world(name: &str) -> World {
    scenario::build(&ScenarioSpec::named(name).expect("known scenario"), epoch())
}

pub fn sim(world: World) -> SimPort {
    SimPort::in_memory(world, Clock::virtual_at(epoch()))
}

pub fn plan_request() -> PlanRequest {
    PlanRequest {
        source_file_system_id: scenario::SOURCE_ID.into(),
        subnet_ids: vec![scenario::SUBNET_A.into(), scenario::SUBNET_B.into()],
        preferred_subnet_id: scenario::SUBNET_A.into(),
        hosted_zone_id: scenario::HOSTED_ZONE_ID.into(),
        record_name: scenario::RECORD_NAME.into(),
        name_provider: fsx_migrate::plan::intent::NameProvider::Route53,
        zone_name: None,
        dns_servers: Vec::new(),
        share_path: None,
        name: Some("finance share".into()),
        freeze: FreezeKind::Command,
        freeze_command: Some(FREEZE_COMMAND.into()),
        unfreeze_command: Some(UNFREEZE_COMMAND.into()),
        windows: None,
        smb_user: "svc-datasync".into(),
        // Set for every test process by .cargo/config.toml: the simulator checks it resolves.
        smb_password: PasswordSource::Env("FSX_MIGRATE_TEST_SMB_PASSWORD".into()),
        ttl: 60,
        plan_id: Some("fxm-test0001".into()),
    }
}

/// Discovers the source in the simulated world and writes a plan file for `req` into `dir`.
pub async fn write_plan(port: &mut SimPort, dir: &Path, req: &PlanRequest) -> PathBuf {
    let intent = intent_for(port, req).await;
    let path = dir.join("plan.toml");
    std::fs::write(&path, render(&intent, "test plan")).unwrap();
    path
}

/// The simulator's options with `--until phase`.
pub fn until(phase: fsx_migrate::plan::Phase) -> RunOptions {
    RunOptions {
        until: Some(phase),
        ..options()
    }
}

pub fn options() -> RunOptions {
    RunOptions {
        ..RunOptions::default()
    }
}

/// Loads the plan and drives it against `port` until it stops; `crash_at` injects a crash.
pub async fn drive(
    port: &mut SimPort,
    plan: &Path,
    opts: RunOptions,
    answers: Answers,
    crash_at: Option<u64>,
) -> (Outcome, u64) {
    let mut file = PlanFile::load(plan).expect("plan loads");
    let clock = port.clock();
    let mut quiet = Quiet;
    let (intent, checkpoint) = (file.intent.clone(), file.checkpoint.clone());
    let mut driver = Driver::new(port, clock, intent, checkpoint, &mut file, opts, &mut quiet);
    driver.answers = answers;
    driver.assume_yes = true;
    // The harness's operator answers yes, e.g. "is the source frozen?" after a crash while the freeze
    // command ran (its stand-in always succeeds).
    driver.answers = Answers::AlwaysYes;
    driver.crash_at = crash_at;
    let outcome = driver.drive().await.expect("drive");
    let passed = driver.boundaries_passed();
    (outcome, passed)
}

pub fn yes() -> Answers {
    Answers::Scripted(VecDeque::new())
}

/// What `plan --inventory` reads for the simulated share: its `sim inventory`, default budget and parallelism.
pub fn inventory_input(port: &SimPort) -> fsx_migrate::plan::planner::InventoryInput {
    let csv = fsx_migrate::sim::folders::inventory_csv(&port.world.data.folders);
    fsx_migrate::plan::planner::InventoryInput {
        file: "share.csv".into(),
        sha256: "test".into(),
        modified_at: None,
        inventory: fsx_migrate::plan::inventory::parse(&csv).expect("the simulator's inventory parses"),
        max_parallel_tasks: None,
        entries_per_execution: None,
    }
}

/// The plan an operator would write from the simulated share's inventory (`sim inventory`, then
/// `plan --inventory` with the default budget and parallelism).
pub async fn partitioned_intent(port: &mut SimPort, req: &PlanRequest) -> fsx_migrate::plan::Intent {
    let mut intent = intent_for(port, req).await;
    fsx_migrate::plan::planner::apply_inventory(&mut intent, &inventory_input(port))
        .expect("the share partitions");
    intent
}

/// A plan's intent for the small world, without touching disk.
pub async fn intent_for(port: &mut SimPort, req: &PlanRequest) -> fsx_migrate::plan::Intent {
    intent_from(&environment(port, req.inspect_request()).await, req).expect("source exists")
}

/// What discovery finds for `request` in the simulated world.
pub async fn environment(
    port: &mut SimPort,
    request: InspectRequest,
) -> fsx_migrate::cloud::port::Environment {
    match port.execute(&Command::Inspect(request)).await {
        Ok(Response::Environment(env)) => env,
        other => panic!("inspect failed: {other:?}"),
    }
}

/// A Multi-AZ target file system as DescribeFileSystems would show it.
pub fn target_file_system(
    lifecycle: fsx_migrate::cloud::model::Lifecycle,
    settings: fsx_migrate::cloud::model::FileSystemSettings,
) -> fsx_migrate::cloud::model::FileSystemInfo {
    use fsx_migrate::cloud::model::*;
    FileSystemInfo {
        id: "fs-target".into(),
        arn: "arn:aws:fsx:us-east-1:111122223333:file-system/fs-target".into(),
        file_system_type: FileSystemType::Windows,
        deployment_type: DeploymentType::MultiAz1,
        lifecycle,
        failure_message: Some("the AD domain could not be reached".into()),
        dns_name: "amznfsxtarget.corp.example.com".into(),
        vpc_id: "vpc-0a1b2c3d".into(),
        subnet_ids: vec![],
        security_group_ids: vec![],
        remote_administration_endpoint: Some("amznfsxadmintarget.corp.example.com".into()),
        aliases: vec![],
        settings,
    }
}

/// Drives with the checkpoint kept in memory; returns the outcome, the last checkpoint and boundaries passed.
pub async fn drive_mem(
    port: &mut SimPort,
    intent: &fsx_migrate::plan::Intent,
    checkpoint: &fsx_migrate::plan::Checkpoint,
    crash_at: Option<u64>,
) -> (Outcome, fsx_migrate::plan::Checkpoint, u64) {
    drive_in_memory(port, intent, checkpoint, options(), crash_at).await
}

/// Like [`drive_mem`], with the run's options (e.g. `--until`, acceptances) and no crash.
pub async fn drive_opts(
    port: &mut SimPort,
    intent: &fsx_migrate::plan::Intent,
    checkpoint: &fsx_migrate::plan::Checkpoint,
    opts: RunOptions,
) -> (Outcome, fsx_migrate::plan::Checkpoint) {
    let (outcome, cp, _) = drive_in_memory(port, intent, checkpoint, opts, None).await;
    (outcome, cp)
}

/// Drives with the run's options, crashing at boundary `crash_at` (if any): the outcome, the checkpoint as
/// last written, and the boundaries passed.
pub async fn drive_in_memory(
    port: &mut SimPort,
    intent: &fsx_migrate::plan::Intent,
    checkpoint: &fsx_migrate::plan::Checkpoint,
    opts: RunOptions,
    crash_at: Option<u64>,
) -> (Outcome, fsx_migrate::plan::Checkpoint, u64) {
    let mut store = fsx_migrate::engine::driver::MemoryStore {
        last: Some(checkpoint.clone()),
    };
    let clock = port.clock();
    let mut quiet = Quiet;
    let mut driver = Driver::new(
        port,
        clock,
        intent.clone(),
        checkpoint.clone(),
        &mut store,
        opts,
        &mut quiet,
    );
    driver.assume_yes = true;
    // The harness's operator answers yes, e.g. "is the source frozen?" after a crash while the freeze
    // command ran (its stand-in always succeeds).
    driver.answers = Answers::AlwaysYes;
    driver.crash_at = crash_at;
    let outcome = driver.drive().await.expect("drive");
    let passed = driver.boundaries_passed();
    drop(driver);
    (outcome, store.last.unwrap_or_default(), passed)
}

/// The small world with fault rules (`sim init --fault` syntax).
pub fn world_with_faults(specs: &[&str]) -> SimPort {
    let mut w = world("small");
    w.faults = specs
        .iter()
        .map(|s| fsx_migrate::sim::faults::FaultRule::parse(s).unwrap())
        .collect();
    sim(w)
}

/// Checks the invariants of product.md §3 from the simulated cloud's side and the checkpoint's.
pub fn assert_invariants(port: &SimPort, cp: &fsx_migrate::plan::Checkpoint, completed: bool) {
    use fsx_migrate::cloud::model::SyncKind;
    let w = &port.world;
    let now = port.now();
    let acc = w.accounting(now);
    assert!(
        acc.violations.is_empty(),
        "cloud-side violations: {:?}",
        acc.violations
    );
    assert!(w.targets.len() <= 1, "{} target file systems", w.targets.len());
    // Right after a crash the checkpoint may not yet know the last side effect; after a resume it must.
    if let (Some(t), Some(id)) = (w.targets.first(), &cp.target_file_system_id) {
        assert_eq!(id, &t.info.id, "checkpoint names another target");
    }
    if completed {
        let known: Vec<String> = cp
            .forward
            .lanes
            .iter()
            .chain(&cp.reverse.lanes)
            .flat_map(|l| l.known_execution_arns())
            .chain(cp.access_checks.iter().flat_map(|c| {
                let started = c.current.as_ref().and_then(|s| s.execution_arn.clone());
                started
                    .into_iter()
                    .chain(c.result.as_ref().map(|r| r.execution_arn.clone()))
            }))
            .collect();
        for e in &w.executions {
            assert!(
                known.contains(&e.arn),
                "orphaned execution {} ({})",
                e.arn,
                e.kind
            );
        }
    }
    // At most one execution of each task ran at a time.
    for task in &w.tasks {
        let mut spans: Vec<_> = w
            .executions
            .iter()
            .filter(|e| e.task_arn == task.arn)
            .map(|e| (e.started_at, e.end()))
            .collect();
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "executions of {} overlap: {pair:?}",
                task.arn
            );
        }
    }
    // Cutover order: final starts after the freeze, DNS after the final sync succeeded.
    for e in w.executions.iter().filter(|e| e.kind == SyncKind::Final) {
        let frozen = w.writes.frozen_at.expect("final sync with the source not frozen");
        assert!(e.started_at >= frozen, "final sync before the freeze");
    }
    // The swap is the first change that moves the name away from the source (lowering the TTL is not).
    let swap = w
        .changes
        .iter()
        .find(|c| !fsx_migrate::cloud::model::dns_eq(&c.value, &w.source.dns_name));
    if let Some(change) = swap {
        for task in w.tasks.iter().filter(|t| !t.reverse) {
            assert!(
                w.executions.iter().any(|e| e.task_arn == task.arn
                    && e.kind == SyncKind::Final
                    && e.succeeded_by(change.submitted_at)),
                "DNS swapped before task {} had a successful final sync",
                task.arn
            );
        }
        assert_eq!(acc.writes_lost_at_swap, Some(0), "writes lost at the swap");
    }
    // Rollback order: reverse syncs start after the target's freeze; the swap back loses no target write.
    for e in w.executions.iter().filter(|e| e.kind == SyncKind::Reverse) {
        let frozen = w.target_writes.as_ref().and_then(|t| t.frozen_at);
        assert!(
            frozen.is_some_and(|f| e.started_at >= f),
            "reverse sync before the target's freeze"
        );
    }
    if acc.swap_back_at.is_some() {
        assert_eq!(
            acc.writes_lost_at_swap_back,
            Some(0),
            "writes lost at the swap back"
        );
    }
    if completed {
        assert_eq!(w.targets.len(), 1);
        assert_eq!(acc.writes_lost_at_swap, Some(0));
        assert_eq!(acc.writes_during_freeze, Some(0));
        assert!(acc.dns_insync_at.is_some());
    }
}

/// The Route 53 changes that moved the name away from the source (lowering the TTL ahead of time keeps the
/// value, so it is not one).
pub fn swaps(port: &SimPort) -> Vec<&fsx_migrate::sim::world::SimChange> {
    let w = &port.world;
    w.changes
        .iter()
        .filter(|c| !fsx_migrate::cloud::model::dns_eq(&c.value, &w.source.dns_name))
        .collect()
}

/// The CNAME users resolve, as the simulated Route 53 holds it now.
pub fn users_record(port: &SimPort) -> &fsx_migrate::cloud::model::DnsRecord {
    port.world
        .records
        .iter()
        .find(|r| r.record_type == "CNAME")
        .expect("the scenario's CNAME")
}

/// Executions of `kind` the simulated cloud ran.
pub fn executions_of(port: &SimPort, kind: fsx_migrate::cloud::model::SyncKind) -> usize {
    port.world.executions.iter().filter(|e| e.kind == kind).count()
}

/// A folder of a made-up share: files directly in it (of `file_bytes` each) and subfolders.
#[derive(Debug, Clone)]
pub struct Folder {
    pub name: String,
    pub files: u64,
    pub file_bytes: u64,
    pub children: Vec<Folder>,
}

impl Folder {
    pub fn new(name: &str, files: u64, children: Vec<Folder>) -> Folder {
        Folder {
            name: name.into(),
            files,
            file_bytes: 500_000,
            children,
        }
    }

    /// (files, directories, bytes) of the whole subtree, the folder itself not counted.
    pub fn totals(&self) -> (u64, u64, u64) {
        self.children.iter().fold(
            (self.files, 0, self.files * self.file_bytes),
            |(f, d, b), child| {
                let (cf, cd, cb) = child.totals();
                (f + cf, d + cd + 1, b + cb)
            },
        )
    }
}

/// The inventory CSV of a share whose root is `root`, with rows down to `depth` (as scripts/inventory.ps1
/// writes it, `errors` column included).
pub fn inventory_csv(root: &Folder, depth: u32) -> String {
    fn field(text: &str) -> String {
        if text.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    }
    fn rows(folder: &Folder, path: &str, level: u32, depth: u32, out: &mut String) {
        let (files, dirs, bytes) = folder.totals();
        out.push_str(&format!("{},{level},{files},{dirs},{bytes},0\n", field(path)));
        if level < depth {
            for child in &folder.children {
                let child_path = if path == "/" {
                    format!("/{}", child.name)
                } else {
                    format!("{path}/{}", child.name)
                };
                rows(child, &child_path, level + 1, depth, out);
            }
        }
    }
    let mut out = String::from("path,depth,files,directories,bytes,errors\n");
    rows(root, "/", 0, depth, &mut out);
    out
}
