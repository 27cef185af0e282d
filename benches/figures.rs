//! The figures issue 7 asks for, measured on the simulator and printed (never asserted: a benchmark, not a
//! timed test). Run with `cargo bench --bench figures --profile dev` (a debug build is fast enough: the
//! simulator works per folder, not per file) or `--release`.
//!
//! Every plan here is the one an operator would write: `sim inventory` of the share, then
//! `plan --inventory` with the default budget (20 M entries per execution) and parallelism (24).

use std::time::Instant;

use fsx_migrate::cloud::model::{PasswordSource, StorageType};
use fsx_migrate::cloud::port::{CloudPort, Command, Response};
use fsx_migrate::core::RunOptions;
use fsx_migrate::core::forecast::predicted_downtime;
use fsx_migrate::engine::driver::{Driver, MemoryStore, Outcome, Quiet};
use fsx_migrate::engine::dry_run;
use fsx_migrate::plan::intent::FreezeKind;
use fsx_migrate::plan::planner::{InventoryInput, PlanRequest, apply_inventory, intent_from};
use fsx_migrate::plan::{Checkpoint, Intent, Phase};
use fsx_migrate::sim::SimPort;
use fsx_migrate::sim::scenario::{self, ScenarioSpec};
use fsx_migrate::sim::world::World;

const TIB: u64 = 1 << 40;

/// Stands in for the operator's freeze script (freeze = "command"); the simulated users stop writing when
/// fsx-migrate then tags the source frozen.
const FREEZE_COMMAND: &str = "true";
const UNFREEZE_COMMAND: &str = "true";

fn spec(name: &str, files: u64, bytes: u64, rate: f64, mbps: u32, seed: u64) -> ScenarioSpec {
    ScenarioSpec {
        name: name.into(),
        files,
        bytes,
        change_rate_per_day: rate,
        throughput_mbps: mbps,
        storage_type: StorageType::Ssd,
        seed,
    }
}

fn request() -> PlanRequest {
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
        name: Some("figures".into()),
        freeze: FreezeKind::Command,
        freeze_command: Some(FREEZE_COMMAND.into()),
        unfreeze_command: Some(UNFREEZE_COMMAND.into()),
        windows: None,
        smb_user: "svc-datasync".into(),
        smb_password: PasswordSource::Env("FSX_MIGRATE_TEST_SMB_PASSWORD".into()),
        ttl: 60,
        plan_id: Some("fxm-figures".into()),
    }
}

/// The plan from the world's inventory, with the default budget and parallelism.
async fn plan(world: &World) -> Intent {
    let clock = fsx_migrate::engine::clock::Clock::virtual_at(fsx_migrate::sim::now_of(world));
    let mut port = SimPort::in_memory(world.clone(), clock);
    let Ok(Response::Environment(env)) = port.execute(&Command::Inspect(request().inspect_request())).await
    else {
        panic!("discovery failed")
    };
    let mut intent = intent_from(&env, &request()).expect("source");
    let csv = fsx_migrate::sim::folders::inventory_csv(&world.data.folders);
    let input = InventoryInput {
        file: "share.csv".into(),
        sha256: String::new(),
        modified_at: None,
        inventory: fsx_migrate::plan::inventory::parse(&csv).expect("inventory"),
        max_parallel_tasks: None,
        entries_per_execution: None,
    };
    apply_inventory(&mut intent, &input).expect("partition");
    intent
}

/// One migration, stopped at the gate for its prediction, then to the end.
struct Measured {
    lanes: usize,
    outcome: String,
    gate_prediction_secs: Option<u64>,
    downtime_secs: Option<u64>,
    service_downtime_secs: Option<u64>,
    total_secs: u64,
    api_calls: u64,
    max_per_sec: u64,
    /// Operations called more than once in one simulated second.
    bursts: Vec<String>,
    max_entries: u64,
    quota_errors: usize,
    writes_lost: Option<u64>,
    targets: usize,
}

async fn drive(
    port: &mut SimPort,
    intent: &Intent,
    cp: Checkpoint,
    until: Option<Phase>,
) -> (Outcome, Checkpoint) {
    let mut store = MemoryStore {
        last: Some(cp.clone()),
    };
    let clock = port.clock();
    let mut quiet = Quiet;
    let opts = RunOptions {
        until,
        operator: "bench@figures".into(),
        ..RunOptions::default()
    };
    let mut driver = Driver::new(port, clock, intent.clone(), cp, &mut store, opts, &mut quiet);
    driver.assume_yes = true;
    let outcome = driver.drive().await.expect("drive");
    drop(driver);
    (outcome, store.last.unwrap_or_default())
}

async fn measure(world: &World, intent: &Intent) -> Measured {
    let start = fsx_migrate::sim::now_of(world);
    let mut port = SimPort::in_memory(
        world.clone(),
        fsx_migrate::engine::clock::Clock::virtual_at(start),
    );
    let (_, at_gate) = drive(&mut port, intent, Checkpoint::default(), Some(Phase::Freeze)).await;
    let gate_prediction_secs = predicted_downtime(intent, &at_gate).map(|d| d.as_secs());
    let (outcome, _) = drive(&mut port, intent, at_gate, None).await;
    let w = &port.world;
    let acc = w.accounting(port.now());
    Measured {
        lanes: fsx_migrate::core::lane::lane_tasks(intent).len(),
        outcome: format!("{outcome:?}"),
        gate_prediction_secs,
        downtime_secs: acc.downtime_secs,
        service_downtime_secs: acc.service_downtime_secs,
        total_secs: u64::try_from(port.now().duration_since(start).as_secs()).unwrap_or(0),
        api_calls: acc.api_calls_total,
        max_per_sec: acc.api_calls_max_per_sec.values().copied().max().unwrap_or(0),
        bursts: acc
            .api_calls_max_per_sec
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(op, n)| format!("{op} {n}/s"))
            .collect(),
        max_entries: w.executions.iter().map(|e| e.schedule.entries).max().unwrap_or(0),
        quota_errors: w
            .executions
            .iter()
            .filter(|e| e.schedule.exceeded_quota.is_some())
            .count(),
        writes_lost: acc.writes_lost_at_swap,
        targets: acc.target_file_systems_created,
    }
}

fn mins(secs: Option<u64>) -> String {
    secs.map_or("-".into(), |s| format!("{:.1} min", s as f64 / 60.0))
}

fn row(name: &str, m: &Measured) {
    println!(
        "| {name} | {} | {} | {} | {} | {:.1} h | {} | {} | {} | {} | {:?} | {} |",
        m.lanes,
        mins(m.downtime_secs),
        mins(m.service_downtime_secs),
        mins(m.gate_prediction_secs),
        m.total_secs as f64 / 3600.0,
        m.api_calls,
        m.max_per_sec,
        m.max_entries,
        m.quota_errors,
        m.writes_lost,
        if m.outcome.contains("Completed") {
            format!("{} target", m.targets)
        } else {
            m.outcome.clone()
        },
    );
}

/// A small deterministic generator for the random worlds.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.next() * (hi.ln() - lo.ln())).exp()
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let start: jiff::Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        println!("| scenario | lanes | downtime (users) | freeze→INSYNC | gate prediction | total | API calls | max calls/s/op | max entries/execution | quota errors | writes lost | result |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");

        let reference = scenario::build(&ScenarioSpec::named("reference").unwrap(), start);
        let intent = plan(&reference).await;
        let wall = Instant::now();
        let measured = measure(&reference, &intent).await;
        let reference_wall = wall.elapsed();
        row("reference, plan from inventory", &measured);
        let reference_bursts = measured.bursts;

        let mut half = reference.clone();
        half.model.metadata_entries_per_sec_per_mbps /= 2.0;
        row("reference, half the metadata rate", &measure(&half, &intent).await);

        let fast = scenario::build(&spec("reference-1024", 30_000_000, 15 * TIB, 0.01, 1024, 42), start);
        let fast_intent = plan(&fast).await;
        row("reference at 1024 MB/s (throughput raised before the cutover)", &measure(&fast, &fast_intent).await);

        let mut one_lane = intent.clone();
        one_lane.transfer.lanes.clear();
        let mut lifted = reference.clone();
        lifted.model.entries_per_execution_quota = u64::MAX;
        row("reference, one lane (quota lifted)", &measure(&lifted, &one_lane).await);
        row("reference, one lane (real quota)", &measure(&reference, &one_lane).await);

        let big = scenario::build(&spec("100M", 100_000_000, 50 * TIB, 0.02, 2048, 7), start);
        let big_intent = plan(&big).await;
        row("100 M files, 50 TiB, 2 %/day, 2048 MB/s", &measure(&big, &big_intent).await);
        println!("\nreference simulated in {reference_wall:?} (in memory, event time)");
        println!("operations called more than once in a simulated second (reference): {:?}", reference_bursts);

        // Forecast error over random worlds: the gate's prediction and the dry run against the rehearsal.
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut gate_errors = Vec::new();
        let mut dry_errors = Vec::new();
        let mut failed = Vec::new();
        for k in 0..50 {
            let files = rng.log_uniform(1e5, 1e8) as u64;
            let rate = rng.log_uniform(0.001, 0.2);
            let mbps = [32, 64, 128, 256, 512, 1024, 2048][(rng.next() * 7.0) as usize % 7];
            let bytes = files * (rng.log_uniform(64e3, 2e6) as u64);
            let world = scenario::build(&spec(&format!("random-{k}"), files, bytes, rate, mbps, 100 + k), start);
            if world.validate().is_err() {
                continue;
            }
            let intent = plan(&world).await;
            let m = measure(&world, &intent).await;
            let dry = dry_run::forecast(&intent, &Checkpoint::default(), &world, start, &RunOptions {
                ..RunOptions::default()
            })
            .await
            .expect("forecast");
            let (Some(actual), Some(gate)) = (m.downtime_secs, m.gate_prediction_secs) else {
                failed.push(format!("{k}: {files} files {rate:.3}/day {mbps} MB/s: {}", m.outcome));
                continue;
            };
            let err = |p: u64| (p as f64 - actual as f64).abs() / actual as f64;
            gate_errors.push((err(gate), k, files, rate, mbps, gate, actual));
            if let Some(d) = dry.accounting.downtime_secs {
                dry_errors.push(err(d));
            }
        }
        gate_errors.sort_by(|a, b| b.0.total_cmp(&a.0));
        let within = gate_errors.iter().filter(|e| e.0 <= 0.15).count();
        println!(
            "\nforecast error over {} random worlds (files 100 k–100 M, 0.1–20 %/day, 32–2048 MB/s):",
            gate_errors.len()
        );
        println!(
            "  gate prediction within 15 % of the rehearsal: {within} of {}; worst {:.0} %",
            gate_errors.len(),
            gate_errors.first().map_or(0.0, |e| e.0 * 100.0)
        );
        for e in gate_errors.iter().take(5) {
            println!(
                "    world {}: {} files, {:.3}/day, {} MB/s: predicted {} s, saw {} s ({:.0} %)",
                e.1, e.2, e.3, e.4, e.5, e.6, e.0 * 100.0
            );
        }
        let dry_within = dry_errors.iter().filter(|e| **e <= 0.15).count();
        println!(
            "  dry run within 15 % of the rehearsal: {dry_within} of {}; worst {:.0} %",
            dry_errors.len(),
            dry_errors.iter().copied().fold(0.0, f64::max) * 100.0
        );
        for f in &failed {
            println!("  did not complete: {f}");
        }
    });
}
