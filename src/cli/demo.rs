//! `fsx-migrate demo`: a complete Single-AZ → Multi-AZ migration in the simulator, in well under a minute,
//! ending with a report a newcomer can read: timeline, sync history, downtime, and the data check.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::MultiProgress;

use super::{Global, Output};
use crate::cloud::model::PasswordSource;
use crate::core::evidence::evidence;
use crate::core::{Halt, RunOptions};
use crate::engine::clock::Clock;
use crate::engine::driver::{Answers, Driver, Interrupt, Outcome};
use crate::engine::dry_run::forecast;
use crate::error::Failure;
use crate::plan::Phase;
use crate::plan::file::PlanFile;
use crate::plan::intent::FreezeKind;

/// The demo's simulated DataSync user reads its password from this variable, which `main` sets for the demo
/// (the simulator checks that a plan's password source resolves, as a real run does).
pub const DEMO_PASSWORD_VARIABLE: &str = "FSX_MIGRATE_DEMO_PASSWORD";
use crate::cli::progress::Progress;
use crate::cli::report;
use crate::plan::planner::{PlanRequest, intent_from};
use crate::sim::scenario::{self, ScenarioSpec};
use crate::sim::{self as simulator, SimPort};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo's world and plan (default: a new directory under the system temp dir, kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The simulated world: reference, demo or small.
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    /// Real seconds the migration should take on screen.
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
}

pub async fn demo(global: &Global, args: DemoArgs, multi: MultiProgress) -> Result<(), Failure> {
    let wall = Instant::now();
    let spec = ScenarioSpec::named(&args.scenario).ok_or_else(|| {
        Failure::user(format!("unknown scenario {:?}", args.scenario))
            .hint(format!("choose one of {}", ScenarioSpec::NAMES.join(", ")))
    })?;
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("fsx-migrate-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| crate::error::io_failure("create", &dir, e))?;
    let world_path = dir.join("world.json");
    let plan_path = dir.join("plan.toml");

    let start = simulator::epoch();
    let world = scenario::build(&spec, start);
    let request = PlanRequest {
        source_file_system_id: scenario::SOURCE_ID.into(),
        subnet_ids: vec![scenario::SUBNET_A.into(), scenario::SUBNET_B.into()],
        preferred_subnet_id: scenario::SUBNET_A.into(),
        hosted_zone_id: scenario::HOSTED_ZONE_ID.into(),
        record_name: scenario::RECORD_NAME.into(),
        name_provider: crate::plan::intent::NameProvider::Route53,
        zone_name: None,
        dns_servers: Vec::new(),
        share_path: None,
        name: Some(format!("demo: {} scenario to Multi-AZ", spec.name)),
        freeze: FreezeKind::Manual,
        freeze_command: None,
        unfreeze_command: None,
        windows: None,
        smb_user: "svc-datasync".into(),
        smb_password: PasswordSource::Env(DEMO_PASSWORD_VARIABLE.into()),
        ttl: 60,
        plan_id: Some("fxm-demo".into()),
    };
    let mut discovery = SimPort::in_memory(world.clone(), Clock::virtual_at(start));
    let env = super::commands::inspect(&mut discovery, request.inspect_request()).await?;
    let mut intent = intent_from(&env, &request).ok_or_else(|| Failure::internal("demo source missing"))?;
    // As an operator would: plan from the share's inventory, so the copy runs in lanes.
    let csv = crate::sim::folders::inventory_csv(&world.data.folders);
    let inventory = crate::plan::inventory::parse(&csv).map_err(|e| {
        Failure::internal("the simulated share's inventory does not parse").cause(e.to_string())
    })?;
    let input = crate::plan::planner::InventoryInput {
        file: "sim inventory".into(),
        sha256: crate::plan::intent::sha256_hex(csv.as_bytes()),
        modified_at: None,
        inventory,
        max_parallel_tasks: None,
        entries_per_execution: None,
    };
    crate::plan::planner::apply_inventory(&mut intent, &input)
        .map_err(|e| Failure::internal("the simulated share does not partition").cause(e.message))?;
    let header = "Written by `fsx-migrate demo` against its simulated world.";
    crate::files::write_atomically(
        &plan_path,
        crate::plan::render::render(&intent, header).as_bytes(),
    )?;
    let lock = simulator::WorldLock::acquire(&world_path)?;
    simulator::save_world(&world_path, &world)?;

    let options = RunOptions {
        operator: super::commands::operator(),
        ..RunOptions::default()
    };
    let preview = forecast(&intent, &Default::default(), &world, start, &options).await?;
    let simulated = preview.end.duration_since(preview.start).as_secs_f64().max(1.0);
    let pace = simulated / args.seconds.max(1.0);

    eprintln!(
        "fsx-migrate demo: {} files, {} on {} ({} MB/s), {:.1}% of files written per day.",
        spec.files,
        crate::plan::units::Bytes(spec.bytes),
        scenario::SOURCE_ID,
        spec.throughput_mbps,
        spec.change_rate_per_day * 100.0
    );
    eprintln!("World {}, plan {}.", world_path.display(), plan_path.display());
    eprintln!(
        "Gates and the manual freeze are auto-approved for the demo; the simulated users stop writing when \
         fsx-migrate tags the source frozen."
    );
    eprintln!("Simulated time runs {pace:.0}x faster than real time.\n");

    let clock = Clock::paced_at(start, pace);
    let mut port = SimPort::persisted(world, &world_path, clock.clone()).holding(lock);
    let mut file = PlanFile::load(&plan_path)?;
    let mut progress = Progress::new(multi);
    let interrupt = Interrupt::default();
    let watcher = interrupt.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            watcher.trigger();
        }
    });
    // As an operator would: the target and the tasks, then `check` (DataSync reaches both shares, copying
    // nothing), then the migration.
    let stages = [
        (
            RunOptions {
                until: Some(Phase::InitialSync),
                ..options.clone()
            },
            Halt::UntilReached(Phase::InitialSync),
        ),
        (
            RunOptions {
                check: true,
                ..options.clone()
            },
            Halt::Checked,
        ),
        (options, Halt::Completed),
    ];
    for (stage_options, expected) in stages {
        let (plan_intent, checkpoint) = (file.intent.clone(), file.checkpoint.clone());
        let outcome = {
            let mut driver = Driver::new(
                &mut port,
                clock.clone(),
                plan_intent,
                checkpoint,
                &mut file,
                stage_options,
                &mut progress,
            );
            driver.answers = Answers::AlwaysYes;
            driver.interrupt = interrupt.clone();
            driver.drive().await?
        };
        if outcome != Outcome::Halted(expected.clone()) {
            return Err(
                Failure::internal(format!("the demo migration stopped early: {outcome:?}")).hint(format!(
                    "inspect it with `fsx-migrate status {}`",
                    plan_path.display()
                )),
            );
        }
    }
    drop(progress);
    port.anchor_to_real_time();
    let now = clock.now();
    let accounting = port.world.accounting(now);
    if global.output == Output::Json {
        let value = serde_json::json!({
            "world": world_path, "plan": plan_path,
            "wall_secs": wall.elapsed().as_secs_f64(),
            "report": evidence(&file.intent, &file.checkpoint),
            "accounting": accounting,
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
        return Ok(());
    }
    println!();
    print!(
        "{}",
        report::evidence_markdown(&evidence(&file.intent, &file.checkpoint))
    );
    println!("\nThe simulator's accounting:");
    println!(
        "  source writes during the migration   {}",
        accounting.source_writes_total
    );
    println!(
        "  writes lost at the DNS swap          {}",
        accounting.writes_lost_at_swap.unwrap_or(0)
    );
    println!(
        "  writes accepted during the freeze    {}",
        accounting.writes_during_freeze.unwrap_or(0)
    );
    println!(
        "  target file systems created          {}",
        accounting.target_file_systems_created
    );
    println!(
        "  DataSync executions                  {} {:?}",
        accounting.executions_started, accounting.executions_by_kind
    );
    println!(
        "  API calls                            {}",
        accounting.api_calls_total
    );
    println!(
        "  invariant violations                 {}",
        accounting.violations.len()
    );
    println!(
        "\nDone in {:.1} s of wall time. Inspect: fsx-migrate status {plan} ; fsx-migrate report {plan} ; \
         fsx-migrate sim show {}",
        wall.elapsed().as_secs_f64(),
        world_path.display(),
        plan = plan_path.display()
    );
    Ok(())
}
