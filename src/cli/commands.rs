//! One function per command: load, act, print. Messages and exit codes come from `report`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::MultiProgress;
use serde::Serialize;

use super::backend::AnyPort;
use super::heartbeat::Heartbeat;
use super::{Cli, CommandLine, Global, Output, PlanArgs, ReportArgs, ReportFormat, RunArgs, SimCommand};
use crate::cli::progress::Progress;
use crate::cli::report::{self, Replay, halt_failure, needs_operator_failure};
use crate::cloud::port::{CloudPort, Command, Environment, InspectRequest, Response};
use crate::core::preflight::{self, Finding};
use crate::core::{CheckRefusal, RunOptions};
use crate::engine::driver::{Answers, Driver, Interrupt, Outcome};
use crate::engine::dry_run;
use crate::error::Failure;
use crate::plan::file::{PlanFile, PlanLock};
use crate::plan::intent::{check_entries_per_execution, check_max_parallel_tasks};
use crate::plan::inventory;
use crate::plan::planner::{InventoryInput, NO_INVENTORY_NOTE, PlanRequest, apply_inventory, intent_from};
use crate::plan::units::Bytes;
use crate::plan::{Checkpoint, Intent};
use crate::sim::faults::FaultRule;
use crate::sim::scenario::{self, DataAssumptions, ScenarioSpec};
use crate::sim::{self as simulator};

/// Runs the command; its exit code on success (0, or the state `status` reports).
pub async fn dispatch(cli: Cli, multi: MultiProgress) -> Result<u8, Failure> {
    let global = cli.global;
    let done = match cli.command {
        CommandLine::Plan(args) => plan(&global, args).await,
        CommandLine::Run(args) => run(&global, args, RunMode::Run, multi).await,
        CommandLine::Resume(args) => run(&global, args, RunMode::Resume, multi).await,
        CommandLine::Rollback(args) => run(&global, args, RunMode::Rollback, multi).await,
        CommandLine::Postpone { plan } => postpone(&plan),
        CommandLine::Abort(args) => {
            let mode = RunMode::Abort {
                delete_resources: args.delete_resources,
            };
            run(&global, args.run, mode, multi).await
        }
        CommandLine::Check { plan } => {
            let args = RunArgs {
                plan,
                dry_run: false,
                yes: false,
                until: None,
                accept_delta: false,
                more_incrementals: 0,
                accept_deletes: false,
                accept_skipped: false,
                confirm_frozen: false,
                confirm_unfrozen: false,
                assume: Default::default(),
            };
            run(&global, args, RunMode::Check, multi).await
        }
        CommandLine::Status { plan } => return super::status::status(&global, &plan),
        CommandLine::Report(args) => report(&args),
        CommandLine::Compare(args) => compare(&global, &args).await,
        CommandLine::WindowsScript(args) => windows_script(&args),
        CommandLine::Demo(args) => super::demo::demo(&global, args, multi).await,
        CommandLine::Sim(SimCommand::Init(args)) => sim_init(args),
        CommandLine::Sim(SimCommand::Show { world }) => sim_show(&world),
        CommandLine::Sim(SimCommand::Inventory { world, out }) => sim_inventory(&world, out.as_deref()),
    };
    done.map(|()| 0)
}

pub(super) fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("reports serialise")
    );
}

#[derive(Serialize)]
struct PlanReport<'a> {
    plan: &'a Path,
    intent: &'a Intent,
    findings: &'a [Finding],
    /// What the partition into lanes (or its absence) means.
    notes: &'a [String],
}

/// Reads `plan --inventory FILE` and the partition settings given with it.
fn read_inventory(args: &PlanArgs) -> Result<Option<InventoryInput>, Failure> {
    let Some(path) = &args.inventory else {
        return Ok(None);
    };
    if let Some(n) = args.max_parallel_tasks {
        check_max_parallel_tasks(n).map_err(|e| Failure::user(format!("--max-parallel-tasks: {e}")))?;
    }
    if let Some(n) = args.entries_per_execution {
        check_entries_per_execution(n).map_err(|e| Failure::user(format!("--entries-per-execution: {e}")))?;
    }
    let bytes = std::fs::read(path).map_err(|e| crate::error::io_failure("read the inventory", path, e))?;
    let inventory = inventory::parse_bytes(&bytes).map_err(|e| {
        Failure::user(format!("the inventory {} is not valid", path.display()))
            .cause(e)
            .hint("write it with scripts/inventory.ps1 (docs/runbook.md, \"Take an inventory\"); no plan was written")
    })?;
    let modified_at = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .and_then(|t| t.round(jiff::Unit::Second).ok());
    Ok(Some(InventoryInput {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
        sha256: crate::plan::intent::sha256_hex(&bytes),
        modified_at,
        inventory,
        max_parallel_tasks: args.max_parallel_tasks,
        entries_per_execution: args.entries_per_execution,
    }))
}

async fn plan(global: &Global, args: PlanArgs) -> Result<(), Failure> {
    // The error never repeats the text: it may be the password itself.
    let smb_password = args
        .smb_password
        .parse()
        .map_err(|e: String| Failure::user(format!("--smb-password: {e}")))?;
    if let Some(id) = &args.plan_id {
        crate::plan::intent::check_plan_id(id).map_err(|e| {
            Failure::user(format!("invalid --plan-id: {e}"))
                .hint("omit --plan-id for a random one, or use at most 44 of A-Z a-z 0-9 _ . -")
        })?;
    }
    let request = PlanRequest {
        source_file_system_id: args.source.clone(),
        subnet_ids: args.subnets.clone(),
        preferred_subnet_id: args.preferred_subnet.clone(),
        hosted_zone_id: args.hosted_zone.clone(),
        record_name: args.record_name.clone(),
        name_provider: args.name_provider.into(),
        zone_name: args.zone_name.clone(),
        dns_servers: args.dns_server.clone(),
        share_path: args.share_path.clone(),
        name: args.name.clone(),
        freeze: args.freeze.into(),
        freeze_command: args.freeze_command.clone(),
        unfreeze_command: args.unfreeze_command.clone(),
        windows: args
            .ssm_instance_id
            .clone()
            .map(|ssm_instance_id| crate::plan::intent::Windows {
                ssm_instance_id,
                keep_accounts: args.keep_account.clone(),
                copy_shares: true,
                shares_left_behind: Vec::new(),
            }),
        smb_user: args.smb_user.clone(),
        smb_password,
        ttl: args.ttl,
        plan_id: args.plan_id.clone(),
    };
    match args.name_provider {
        super::NameProviderArg::Route53 if args.hosted_zone.is_empty() => {
            return Err(Failure::user("--hosted-zone is required with --name-provider route53 (the default)")
                .hint("or --name-provider ad-dns --zone-name ZONE --dns-server HOST for a record in Active Directory DNS"));
        }
        super::NameProviderArg::AdDns
            if args.zone_name.is_none() || args.dns_server.is_empty() || args.ssm_instance_id.is_none() =>
        {
            return Err(Failure::user(
                "--name-provider ad-dns needs --zone-name, at least one --dns-server and --ssm-instance-id",
            )
            .hint("dns.ps1 changes the record on the first DNS server through SSM on that instance"));
        }
        super::NameProviderArg::Dfs if args.share_path.is_none() || args.ssm_instance_id.is_none() => {
            return Err(
                Failure::user("--name-provider dfs needs --share-path and --ssm-instance-id")
                    .hint("--record-name is the DFS folder's path, e.g. \\\\corp.example.com\\files\\data"),
            );
        }
        _ => {}
    }
    let inventory = read_inventory(&args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.source)));
    // Held until the plan is written: --force must not overwrite a plan a run is driving.
    let _lock = PlanLock::acquire(&out)?;
    if out.exists() && !args.force {
        return Err(Failure::user(format!("{} already exists", out.display())).hint(
            "a plan file may hold a running migration's checkpoint; choose another --out, or pass --force",
        ));
    }
    let mut port = AnyPort::open(global, false).await?;
    let env = inspect(&mut port, request.inspect_request()).await?;
    let mut intent = intent_from(&env, &request).ok_or_else(|| {
        Failure::user(format!(
            "source file system {} does not exist",
            request.source_file_system_id
        ))
        .hint("check the id, the --region and the --profile")
    })?;
    let mut findings = preflight::check(&intent, &env);
    if preflight::has_errors(&findings) {
        let mut failure = Failure::user(format!(
            "preflight found problems with {}; no plan was written",
            args.source
        ));
        for f in findings
            .iter()
            .filter(|f| f.severity == preflight::Severity::Error)
        {
            failure = failure.cause(f);
        }
        return Err(failure.hint("fix the arguments or the environment and run `fsx-migrate plan` again"));
    }
    let mut notes = match &inventory {
        None => vec![NO_INVENTORY_NOTE.to_string()],
        Some(input) => apply_inventory(&mut intent, input).map_err(|e| {
            Failure::user(format!(
                "the share cannot be split into lanes from {}; no plan was written",
                input.file
            ))
            .cause(e.message)
            .hint(e.hint)
        })?,
    };
    let problems = intent.problems();
    if !problems.is_empty() {
        return Err(crate::plan::file::problems_failure(&problems, None).hint(
            "no plan was written; fix the arguments (or the source) and run `fsx-migrate plan` again",
        ));
    }
    findings.extend(shares_at_plan(&mut port, &intent, &env).await);
    match super::check::logon_at_plan(&mut port, &intent, &env).await {
        Some(Ok(note)) => notes.push(note),
        Some(Err(finding)) => findings.push(finding),
        None => {}
    }
    let header = format!(
        "Written by `fsx-migrate plan` from the discovered source {}.",
        intent.source.file_system_id
    );
    let text = crate::plan::render::render(&intent, &header);
    // What is written must read back as this intent, or `run` would execute something else.
    match crate::plan::file::parse(&text) {
        Ok((parsed, _)) if parsed == intent => {}
        Ok(_) => {
            return Err(Failure::internal(
                "the rendered plan reads back as another intent; no plan was written",
            ));
        }
        Err(e) => {
            return Err(
                Failure::internal("the rendered plan does not read back; no plan was written")
                    .cause(e.message),
            );
        }
    }
    crate::files::write_atomically(&out, text.as_bytes())?;
    match global.output {
        Output::Json => print_json(&PlanReport {
            plan: &out,
            intent: &intent,
            findings: &findings,
            notes: &notes,
        }),
        Output::Text => {
            for f in &findings {
                eprintln!("{f}");
            }
            for note in &notes {
                eprintln!("note: {note}");
            }
            println!("Wrote {} (plan id {}).", out.display(), intent.migration.id);
            let replay = Replay::new(global.replay_flags(), &out.display().to_string());
            println!("Review it, then: {} --dry-run", replay.command("run"));
        }
    }
    Ok(())
}

/// With `[windows]`, `plan` reads the source's shares (export.ps1 through SSM, read-only) and names every share
/// the plan's copy would not carry, days before the copy of shares would stop the run for it.
async fn shares_at_plan(
    port: &mut AnyPort,
    intent: &crate::plan::Intent,
    env: &Environment,
) -> Vec<preflight::Finding> {
    let Some(windows) = intent.windows.as_ref().filter(|w| w.copy_shares) else {
        return Vec::new();
    };
    let endpoint = env
        .source
        .as_ref()
        .and_then(|s| s.remote_administration_endpoint.clone());
    let export = match read_source_export(port, intent, endpoint, "plan").await {
        Ok(export) => export,
        Err(why) => {
            return vec![preflight::warning(
                format!("the source's shares were not read at plan time: {why}"),
                Some(
                    "the copy of shares before the gate needs the same access: check the instance (runbook §6.1) before the window",
                ),
            )];
        }
    };
    crate::core::service::uncovered_shares(&export, &intent.transfer, &windows.shares_left_behind)
        .into_iter()
        .map(|u| {
            preflight::warning(
                format!("{u}: the plan's copy does not carry it, so the run will stop before the gate"),
                Some("migrate it another way and list it in [windows] shares_left_behind, or widen transfer.source_subdirectory / transfer.excludes"),
            )
        })
        .collect()
}

/// The source's shares and settings: export.ps1 on the plan's Windows instance through SSM (read-only, so a
/// lost answer costs only a second read), `purpose` naming the command that asked in the SSM comment.
pub(super) async fn read_source_export(
    port: &mut AnyPort,
    intent: &crate::plan::Intent,
    endpoint: Option<String>,
    purpose: &str,
) -> Result<crate::cloud::windows::ServiceExport, String> {
    use crate::cloud::windows::{ScriptCall, WindowsScript, parse_result};
    let windows = intent
        .windows
        .as_ref()
        .ok_or("the plan has no [windows] section")?;
    let endpoint = endpoint.ok_or("DescribeFileSystems gives no RemoteAdministrationEndpoint")?;
    let call = ScriptCall {
        endpoint,
        ..ScriptCall::new(WindowsScript::Export)
    };
    let timeout = crate::plan::units::Duration::mins(10);
    let json = run_read_only(port, intent, &windows.ssm_instance_id, call, purpose, timeout).await?;
    parse_result(WindowsScript::Export, &json)
}

/// A read-only script (export.ps1, logon.ps1) on the plan's instance, outside a migration's steps: its SSM
/// comment names the plan, the command that asked (`purpose`), the script and the source.
pub(super) async fn run_read_only(
    port: &mut AnyPort,
    intent: &crate::plan::Intent,
    instance_id: &str,
    call: crate::cloud::windows::ScriptCall,
    purpose: &str,
    timeout: crate::plan::units::Duration,
) -> Result<String, String> {
    let mut comment = format!(
        "fsx-migrate {} {purpose} {} {}",
        intent.migration.id, call.script, intent.source.file_system_id
    );
    comment.truncate(100);
    let clock = port.clock();
    crate::engine::script::run_read_only(port, &clock, instance_id, call, comment, timeout).await
}

/// Discovery: the facts about the source, subnets and DNS record (read-only).
pub(super) async fn inspect<P: CloudPort>(
    port: &mut P,
    request: InspectRequest,
) -> Result<Environment, Failure> {
    match port.execute(&Command::Inspect(request)).await {
        Ok(Response::Environment(env)) => Ok(env),
        Ok(other) => Err(Failure::internal(format!(
            "unexpected answer to Inspect: {other:?}"
        ))),
        Err(e) => Err(Failure::user("discovery failed").cause(e)),
    }
}

/// Who is running this, as `user@host`, for the approvals the checkpoint records.
pub(super) fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown-user".into());
    format!("{user}@{}", super::heartbeat::host())
}

fn run_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        until: args.until,
        accept_delta: args.accept_delta,
        more_incrementals: args.more_incrementals,
        accept_deletes: args.accept_deletes,
        accept_skipped: args.accept_skipped,
        operator: operator(),
        rollback: false,
        confirm_frozen: args.confirm_frozen,
        confirm_unfrozen: args.confirm_unfrozen,
        postpone_requested: false,
        unpark: false,
        abort: false,
        delete_resources: false,
        check: false,
        check_share_folders: Vec::new(),
    }
}

/// The postpone flag file beside a plan (`PLAN.postpone`): while it exists, runs park at the cutover gate.
pub fn postpone_flag(plan: &std::path::Path) -> PathBuf {
    let mut name = plan.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".postpone");
    plan.with_file_name(name)
}

/// `windows-script`: the invocation of a built-in script, as SSM would run it, for a person to run.
fn windows_script(args: &super::WindowsScriptArgs) -> Result<(), Failure> {
    use crate::cloud::windows::{ScriptCall, WindowsScript};
    let script = match args.script {
        super::ScriptArg::Freeze => WindowsScript::Freeze,
        super::ScriptArg::Unfreeze => WindowsScript::Unfreeze,
        super::ScriptArg::Export => WindowsScript::Export,
        super::ScriptArg::Apply => WindowsScript::Apply,
        super::ScriptArg::Spn => WindowsScript::Spn,
        super::ScriptArg::Logon => WindowsScript::Logon,
    };
    let logon = match (script, &args.user_name, &args.secret_id) {
        (WindowsScript::Logon, Some(user_name), Some(secret_id)) => Some(crate::cloud::windows::LogonArgs {
            share: format!("\\\\{}\\{}", args.endpoint, args.share_name),
            user_name: user_name.clone(),
            secret_id: secret_id.clone(),
            folders: args.folder.clone(),
        }),
        (WindowsScript::Logon, _, _) => {
            return Err(Failure::user("logon needs the DataSync user and the secret holding its password")
                .hint("pass --user-name DOMAIN\\svc-datasync --secret-id SECRET_ARN; --endpoint is the file system's DNS name"));
        }
        _ => None,
    };
    if script == WindowsScript::Spn && (args.alias.is_empty() || args.from_dns_name.is_none()) {
        return Err(Failure::user("spn needs the aliases and the file system that has their SPNs now")
            .hint("pass --from-dns-name OLD_FS_DNS_NAME --alias ALIAS (repeatable); --endpoint is the new file system's DNS name"));
    }
    let read = |path: &PathBuf| -> Result<String, Failure> {
        Ok(std::fs::read_to_string(path)
            .map_err(|e| crate::error::io_failure("read", path, e))?
            .trim()
            .to_string())
    };
    let service_json = match (&args.service_json, script) {
        (Some(path), WindowsScript::Apply) => Some(read(path)?),
        (None, WindowsScript::Apply) => {
            return Err(Failure::user("apply needs the export to make true")
                .hint("pass --service-json FILE: the source's export FSXMIGRATE-RESULT JSON"));
        }
        _ => None,
    };
    let shares_json = match (&args.shares_json, script) {
        (Some(path), WindowsScript::Unfreeze) => Some(read(path)?),
        (None, WindowsScript::Unfreeze) => {
            return Err(
                Failure::user("unfreeze needs the permissions the freeze recorded")
                    .hint("pass --shares-json FILE: the freeze's FSXMIGRATE-RESULT JSON"),
            );
        }
        (_, WindowsScript::Freeze) if args.keep_account.is_empty() => {
            return Err(
                Failure::user("freeze needs the accounts that keep write access").hint(
                    "pass --keep-account DOMAIN\\svc-datasync (the DataSync user) and any administrators",
                ),
            );
        }
        _ => None,
    };
    let call = ScriptCall {
        script,
        // logon.ps1 takes the share's UNC path instead.
        endpoint: if logon.is_some() {
            String::new()
        } else {
            args.endpoint.clone()
        },
        keep_accounts: args.keep_account.clone(),
        shares_json,
        service_json,
        from_dns_name: args.from_dns_name.clone(),
        aliases: args.alias.clone(),
        name_switch: None,
        logon,
    };
    print!("{}", call.invocation());
    Ok(())
}

/// `postpone PLAN`: creates the flag file; a running process parks at the gate when it gets there.
fn postpone(plan: &std::path::Path) -> Result<(), Failure> {
    PlanFile::load(plan)?;
    let flag = postpone_flag(plan);
    let note = format!("postponed by {} at {}\n", operator(), jiff::Timestamp::now());
    crate::files::write_atomically(&flag, note.as_bytes())?;
    println!(
        "Postponed: {} exists, so the migration parks at the cutover gate (before any freeze) and stays there. \
         `fsx-migrate resume {}` removes the file and continues.",
        flag.display(),
        plan.display()
    );
    Ok(())
}

/// Which command drives the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunMode {
    Run,
    /// Refuses a plan that never ran.
    Resume,
    /// Refuses a plan that never ran; the core refuses one whose DNS was never swapped.
    Rollback,
    /// Refuses a plan that never ran; the core refuses one whose DNS was swapped.
    Abort {
        delete_resources: bool,
    },
    /// `check`: the core refuses a plan without tasks.
    Check,
}

async fn run(global: &Global, args: RunArgs, mode: RunMode, multi: MultiProgress) -> Result<(), Failure> {
    let plan_display = args.plan.display().to_string();
    let replay = Replay::new(global.replay_flags(), &plan_display);
    let mut file = PlanFile::load(&args.plan)?;
    if !matches!(mode, RunMode::Run | RunMode::Check) && !file.checkpoint.has_started() {
        let what = match mode {
            RunMode::Resume => "resume",
            RunMode::Rollback => "roll back",
            RunMode::Run | RunMode::Check | RunMode::Abort { .. } => "abort",
        };
        return Err(
            Failure::user(format!("nothing to {what}: {plan_display} has never run"))
                .hint(format!("start it with `{}`", replay.command("run"))),
        );
    }
    let mut options = run_options(&args);
    options.rollback = mode == RunMode::Rollback;
    if let RunMode::Abort { delete_resources } = mode {
        options.abort = true;
        options.delete_resources = delete_resources;
    }
    options.unpark = mode == RunMode::Resume;
    options.check = mode == RunMode::Check;
    let flag = postpone_flag(&args.plan);
    if options.unpark && !args.dry_run && flag.exists() {
        std::fs::remove_file(&flag).map_err(|e| crate::error::io_failure("remove", &flag, e))?;
        eprintln!(
            "Removed the postpone flag file {}: the run continues past the gate.",
            flag.display()
        );
    }
    if args.assume.any() && !args.dry_run {
        return Err(Failure::user(
            "--assume-files, --assume-bytes and --assume-change-rate describe a forecast",
        )
        .hint(format!("add --dry-run: `{} --dry-run …`", replay.command("run"))));
    }
    if args.dry_run {
        return dry_run(global, &args, &file, &options, &plan_display).await;
    }
    let _lock = PlanLock::acquire(&args.plan)?;
    // `check` moves no phase: the run record is put back as it was when it ends.
    let (heartbeat, record_before) = if mode == RunMode::Check {
        Heartbeat::start_errand(args.plan.clone(), options.operator.clone(), global.replay_flags())
    } else {
        let heartbeat = Heartbeat::start(args.plan.clone(), options.operator.clone(), global.replay_flags());
        (heartbeat, None)
    };
    let outcome = drive_plan(global, &args, &mut file, options, multi, &heartbeat, &replay).await;
    let result = match &outcome {
        Ok(Outcome::Halted(crate::core::Halt::CheckRefused(CheckRefusal::NoTasks(_))))
            if mode == RunMode::Check =>
        {
            super::check::before_the_tasks(global, &file, &replay).await
        }
        Ok(outcome) if mode == RunMode::Check => super::check::finish(outcome, &file, &replay),
        Ok(outcome) => finish(outcome, &file, &replay),
        Err(failure) => Err(failure.clone()),
    };
    if mode == RunMode::Check {
        heartbeat.end_errand(record_before, outcome.as_ref().ok(), &result);
    } else {
        heartbeat.end(outcome.as_ref().ok(), &result);
    }
    print!("{}", result?);
    Ok(())
}

/// Drives the plan under its lock until the core halts, an interrupt, or a question nobody can answer.
async fn drive_plan(
    global: &Global,
    args: &RunArgs,
    file: &mut PlanFile,
    options: RunOptions,
    multi: MultiProgress,
    heartbeat: &Heartbeat,
    replay: &Replay,
) -> Result<Outcome, Failure> {
    // Re-read under the lock: another run may have written a checkpoint since.
    *file = PlanFile::load(&args.plan)?;
    let mut port = AnyPort::open(global, true).await?;
    let mut options = options;
    // The shares' folders are probed by a new DataSync check only: not before the tasks exist, nor where the
    // core would refuse one, nor for a check in flight (its probes are recorded).
    let pending = file
        .checkpoint
        .access_checks
        .last()
        .is_some_and(|c| c.current.is_some());
    if options.check && !pending && crate::core::check_refusal(&file.checkpoint).is_none() {
        options.check_share_folders = super::check::share_folders(&mut port, &file.intent).await;
    }
    let clock = port.clock();
    let interrupt = Interrupt::default();
    spawn_interrupt_handler(interrupt.clone(), replay.resume());
    let mut progress = Progress::new(multi).with_heartbeat(heartbeat.clone());
    let (intent, checkpoint) = (file.intent.clone(), file.checkpoint.clone());
    let mut driver = Driver::new(&mut port, clock, intent, checkpoint, file, options, &mut progress);
    driver.assume_yes = args.yes;
    driver.postpone_flag = Some(postpone_flag(&args.plan));
    driver.answers = if std::io::stdin().is_terminal() {
        Answers::Ask(ask_terminal)
    } else {
        Answers::Nobody
    };
    driver.interrupt = interrupt;
    driver.drive().await
}

fn spawn_interrupt_handler(interrupt: Interrupt, resume: String) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: recording the current step, then stopping. AWS work keeps running. Press Ctrl-C again to abort now."
            );
            interrupt.trigger();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("Aborted. The checkpoint is consistent (write-ahead); `{resume}` continues.");
            std::process::exit(130);
        }
    });
}

/// What an abort left: the source as before, and what this plan created, kept or deleted.
fn aborted_text(
    intent: &crate::plan::Intent,
    checkpoint: &crate::plan::Checkpoint,
    replay: &Replay,
) -> String {
    let mut text = format!(
        "Aborted before the cutover: {} takes writes and {} points at it, as before.\n",
        intent.source.file_system_id, intent.dns.record_name
    );
    match checkpoint.abort.as_ref().and_then(|a| a.deletion.as_ref()) {
        Some(deletion) if deletion.done_at.is_some() => {
            text.push_str("Deleted what this plan created (found by its tag):\n");
            if deletion.deleted.is_empty() {
                text.push_str("  nothing was left\n");
            }
            for id in &deletion.deleted {
                text.push_str(&format!("  {id}\n"));
            }
            for execution in &deletion.cancelled {
                text.push_str(&format!("  (cancelled {execution})\n"));
            }
            text.push_str("Kept: the source, the record, the CloudWatch log group with the syncs' logs.\n");
        }
        _ => text.push_str(&format!(
            "The target, the DataSync tasks and locations are kept: `{}` deletes them.\n",
            replay.command("abort --delete-resources")
        )),
    }
    text
}

/// What a drive's outcome means for the operator: the text to print, or the failure with its exit code.
pub(super) fn finish(outcome: &Outcome, file: &PlanFile, replay: &Replay) -> Result<String, Failure> {
    let resume = replay.resume();
    match outcome {
        Outcome::Halted(halt) => match halt_failure(halt, replay) {
            Some(failure) => Err(failure),
            None => Ok(match halt {
                crate::core::Halt::UntilReached(phase) => {
                    format!("Stopped before {phase} as asked (--until). `{resume}` continues.\n")
                }
                crate::core::Halt::AlreadyAt { phase, .. } => {
                    format!("Nothing done: the plan is already at {phase} (--until). `{resume}` continues.\n")
                }
                crate::core::Halt::RolledBack => rolled_back_text(&file.intent, &file.checkpoint),
                crate::core::Halt::Aborted => aborted_text(&file.intent, &file.checkpoint, replay),
                _ => completion_text(&file.intent, &file.checkpoint),
            }),
        },
        Outcome::Interrupted => Err(Failure::interrupted(format!("interrupted during {}", file.checkpoint.phase()))
            .cause("the checkpoint holds everything done so far; DataSync and FSx work already started keeps running")
            .hint(format!("`{resume}` re-attaches and continues"))),
        Outcome::NeedsOperator(confirmation) => Err(needs_operator_failure(confirmation, replay)),
        Outcome::Crashed(_) => Err(Failure::internal("test crash hook fired outside a test")),
    }
}

/// The summary printed when a rollback completes.
fn rolled_back_text(intent: &Intent, cp: &Checkpoint) -> String {
    format!(
        "Rolled back: {} points at the source {} again, and it takes writes. The target {} is kept, frozen: \
         delete it (and the DataSync tasks) once you are sure.\n",
        intent.dns.record_name,
        intent.source.file_system_id,
        cp.target_file_system_id.as_deref().unwrap_or("?"),
    )
}

/// The summary printed when a migration completes.
pub fn completion_text(intent: &Intent, cp: &Checkpoint) -> String {
    let p = crate::core::forecast::predictions(intent, cp);
    let mut out = format!(
        "Migration {} complete: {} now points at {} ({}).\n",
        intent.migration.id,
        intent.dns.record_name,
        cp.target_dns_name.as_deref().unwrap_or("?"),
        cp.target_file_system_id.as_deref().unwrap_or("?")
    );
    if let (Some(d), Some(service)) = (p.downtime_secs, p.service_downtime_secs) {
        out.push_str(&format!(
            "Downtime users saw: {} (freeze to DNS in sync: {}, then the TTL clients cached).\n",
            crate::plan::units::Duration(d),
            crate::plan::units::Duration(service)
        ));
    }
    out.push_str(&format!(
        "The source {} is untouched and still frozen: keep it for rollback, delete it when you are sure.\n",
        intent.source.file_system_id
    ));
    out.push_str(&format!(
        "Clients that cached the old answer resolve the new name within {}s (the TTL fsx-migrate lowered ahead of \
         time).\n",
        crate::core::forecast::cached_ttl(intent, cp)
    ));
    out.push_str(match cp.shares.as_ref().and_then(|s| s.verified_at) {
        Some(_) => {
            "The source's shares and in-server settings were copied to the target and verified (`report`).\n"
        }
        None => {
            "fsx-migrate did not copy the source's shares ([windows] copy_shares): create them on the target \
                 (docs/runbook.md §8).\n"
        }
    });
    match cp.aliases.as_ref().and_then(|a| a.names.as_ref()) {
        Some(names) if !names.is_empty() => {
            out.push_str(&format!("DNS aliases moved to the target: {}.", names.join(", ")));
            if cp.aliases.as_ref().is_some_and(|a| a.spns_by_hand) {
                out.push_str(" Their SPNs are left to you: the run printed the setspn commands (docs/runbook.md §8.3).");
            }
            out.push('\n');
        }
        _ => {}
    }
    out
}

/// The world a forecast runs on: a copy of the `--sim` world, or a simulation of the source discovered in
/// AWS (read-only) with the operator's assumptions; and the checkpoint and words that describe it.
async fn forecast_world(
    global: &Global,
    assume: &super::Assumptions,
    file: &PlanFile,
) -> Result<(crate::sim::world::World, Checkpoint, String), Failure> {
    Ok(match &global.sim {
        Some(world_path) => {
            let world = simulator::load_world(world_path)?;
            let source = format!("a copy of {} (scenario {})", world_path.display(), world.scenario);
            (world, file.checkpoint.clone(), source)
        }
        None => {
            // Against AWS: discover (read-only), then forecast on a simulated copy of what was found.
            let mut port = AnyPort::open(global, false).await?;
            let env = inspect(&mut port, file.intent.inspect_request()).await?;
            let capacity = env.source.as_ref().map_or(0, |s| s.settings.storage_capacity_gib);
            let mut data = DataAssumptions::from_capacity(capacity);
            data.files = assume.assume_files.unwrap_or(data.files);
            if let Some(bytes) = &assume.assume_bytes {
                data.bytes = bytes.parse::<Bytes>().map_err(Failure::user)?.0;
            }
            if let Some(rate) = &assume.assume_change_rate {
                data.change_rate_per_day = parse_rate(rate).map_err(Failure::user)?;
            }
            let world =
                scenario::world_from_environment(&env, &file.intent.dns.hosted_zone_id, &data, port.now())
                    .ok_or_else(|| {
                        Failure::user(format!(
                            "source {} does not exist",
                            file.intent.source.file_system_id
                        ))
                    })?;
            world.validate().map_err(|e| {
                Failure::user("the --assume-* values describe a source the simulator cannot model")
                    .cause(e)
                    .hint("pass --assume-files, --assume-bytes and --assume-change-rate within the limits above")
            })?;
            let mut source = format!(
                "a simulation of the discovered source, assuming {} files, {} and {:.2}% of files written per day (FSx does not report these: set --assume-files, --assume-bytes, --assume-change-rate)",
                data.files,
                Bytes(data.bytes),
                data.change_rate_per_day * 100.0
            );
            if file.checkpoint.has_started() {
                source.push_str("; the plan has started, but the forecast covers the whole migration");
            }
            (world, Checkpoint::default(), source)
        }
    })
}

async fn dry_run(
    global: &Global,
    args: &RunArgs,
    file: &PlanFile,
    options: &RunOptions,
    plan: &str,
) -> Result<(), Failure> {
    let (world, checkpoint, source) = forecast_world(global, &args.assume, file).await?;
    let now = simulator::now_of(&world);
    let forecast = dry_run::forecast(&file.intent, &checkpoint, &world, now, options).await?;
    match global.output {
        Output::Json => print_json(&forecast),
        Output::Text => {
            let intro = format!(
                "Dry run of {plan}: nothing is created, changed or confirmed. Forecast against {source}; \
                 ids of resources not created yet are the forecast's own."
            );
            print!("{}", report::dry_run_text(&forecast, &intro));
        }
    }
    Ok(())
}

async fn compare(global: &Global, args: &super::CompareArgs) -> Result<(), Failure> {
    let file = PlanFile::load(&args.plan)?;
    let (world, _, source) = forecast_world(global, &args.assume, &file).await?;
    let now = simulator::now_of(&world);
    let alternatives = dry_run::compare(&file.intent, &world, now).await?;
    match global.output {
        Output::Json => print_json(&alternatives),
        Output::Text => {
            let intro = format!(
                "{}: the whole migration four ways, each forecast against {source}.",
                args.plan.display()
            );
            print!("{}", report::comparison_text(&alternatives, &intro));
        }
    }
    Ok(())
}

fn report(args: &ReportArgs) -> Result<(), Failure> {
    let file = PlanFile::load(&args.plan)?;
    let evidence = crate::core::evidence::evidence(&file.intent, &file.checkpoint);
    match args.format {
        ReportFormat::Json => print_json(&evidence),
        ReportFormat::Markdown => print!("{}", report::evidence_markdown(&evidence)),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct SimInitArgs {
    pub world: PathBuf,
    /// A named starting world: reference, demo or small.
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    /// Number of files on the source.
    #[arg(long)]
    pub files: Option<u64>,
    /// Data on the source, e.g. "15 TiB".
    #[arg(long)]
    pub bytes: Option<String>,
    /// Share of files written per day, e.g. "1%" or 0.01.
    #[arg(long)]
    pub change_rate: Option<String>,
    /// Source throughput capacity, MB/s.
    #[arg(long)]
    pub throughput: Option<u32>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fault rules, e.g. "throttle,op=datasync:DescribeTaskExecution,times=3" or "execution_error".
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// Overwrite an existing world file.
    #[arg(long)]
    pub force: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let value = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.trim().parse::<f64>(),
    };
    value
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("invalid change rate {text:?}: expected e.g. \"1%\" or 0.01"))
}

fn sim_init(args: SimInitArgs) -> Result<(), Failure> {
    let mut spec = ScenarioSpec::named(&args.scenario).ok_or_else(|| {
        Failure::user(format!("unknown scenario {:?}", args.scenario))
            .hint(format!("choose one of {}", ScenarioSpec::NAMES.join(", ")))
    })?;
    if let Some(files) = args.files {
        spec.files = files;
    }
    if let Some(bytes) = &args.bytes {
        spec.bytes = bytes.parse::<Bytes>().map_err(Failure::user)?.0;
    }
    if let Some(rate) = &args.change_rate {
        spec.change_rate_per_day = parse_rate(rate).map_err(Failure::user)?;
    }
    if let Some(t) = args.throughput {
        spec.throughput_mbps = t;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    spec.validate().map_err(|e| {
        Failure::user(format!("{} {} is out of range", e.field, e.value))
            .cause(format!("{} must be {}", e.field, e.allowed))
            .hint("docs/simulator.md lists the ranges the simulator accepts")
    })?;
    let mut world = scenario::build(&spec, simulator::epoch());
    for fault in &args.faults {
        world.faults.push(FaultRule::parse(fault).map_err(|e| {
            Failure::user(format!("invalid --fault {fault:?}"))
                .cause(e)
                .hint("see docs/simulator.md for fault rules")
        })?);
    }
    // What `sim init` built must load: the same check every load makes.
    world
        .validate()
        .map_err(|e| Failure::internal("sim init built an invalid world").cause(e))?;
    // A process running this world would overwrite it, and believe in resources that are gone.
    let _lock = simulator::WorldLock::acquire(&args.world)?;
    if args.world.exists() && !args.force {
        return Err(Failure::user(format!("{} already exists", args.world.display()))
            .hint("pass --force to replace it"));
    }
    simulator::save_world(&args.world, &world)?;
    println!(
        "Wrote {}: scenario {}, {} files, {}, {:.2}% of files written per day, {} MB/s. Source {} (zone {}, record {}).",
        args.world.display(),
        spec.name,
        spec.files,
        Bytes(spec.bytes),
        spec.change_rate_per_day * 100.0,
        spec.throughput_mbps,
        scenario::SOURCE_ID,
        scenario::HOSTED_ZONE_ID,
        scenario::RECORD_NAME
    );
    Ok(())
}

fn sim_show(path: &Path) -> Result<(), Failure> {
    let world = simulator::load_world(path)?;
    let now = simulator::now_of(&world);
    print_json(&simulator::show(&world, now));
    Ok(())
}

fn sim_inventory(path: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let world = simulator::load_world(path)?;
    let csv = simulator::folders::inventory_csv(&world.data.folders);
    match out {
        Some(out) => crate::files::write_atomically(out, csv.as_bytes()),
        None => {
            print!("{csv}");
            Ok(())
        }
    }
}

/// Asks a yes/no question on the terminal; `None` if stdin is not a terminal.
fn ask_terminal(confirmation: &crate::core::Confirmation) -> Option<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(err, "\n{}", confirmation.question);
    for detail in &confirmation.details {
        let _ = writeln!(err, "  - {detail}");
    }
    let _ = write!(err, "Type yes to continue: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(line.trim().eq_ignore_ascii_case("yes"))
}
