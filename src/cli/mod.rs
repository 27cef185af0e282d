//! The command line of product.md §4: parsing, choosing the backend, and turning outcomes into messages
//! and exit codes. The migration logic lives in the library; this is the shell around it.

mod backend;
mod check;
mod commands;
mod demo;
mod heartbeat;
pub mod progress;
pub mod report;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Failure;
use crate::plan::Phase;
use crate::plan::intent::FreezeKind;

#[derive(Debug, Parser)]
#[command(
    name = "fsx-migrate",
    version,
    about = "Move an FSx for Windows file system from Single-AZ to Multi-AZ with minutes of downtime"
)]
#[command(
    after_help = "Exit codes: 0 success; 1 stopped on a condition to fix or confirm; 2 usage error; \
3 interrupted, resume continues; 4 internal error. `status` also: 10 running, 11 waiting for an operator, \
12 stopped, 13 not started."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: CommandLine,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// AWS profile for the default credential chain.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS Region.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (an emulator).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Run against a simulated world file instead of AWS.
    #[arg(long, global = true, value_name = "WORLD.json")]
    pub sim: Option<PathBuf>,
    /// Simulated seconds per real second for --sim, or `max`: event time (the clock jumps to the next wake-up).
    #[arg(long, global = true, requires = "sim", value_name = "N|max")]
    pub sim_speed: Option<crate::sim::SimSpeed>,
    /// Output format of plan, status, sim show and run --dry-run.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// More log output.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl Global {
    /// The flags that choose the account or world, as words, for commands the operator is told to paste.
    pub fn replay_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        let mut add = |flag: &str, value: Option<String>| {
            if let Some(value) = value {
                flags.extend([flag.to_string(), value]);
            }
        };
        add("--sim", self.sim.as_ref().map(|p| p.display().to_string()));
        add(
            "--sim-speed",
            self.sim_speed.map(|speed| match speed {
                crate::sim::SimSpeed::Max => "max".to_string(),
                crate::sim::SimSpeed::Scaled(n) => n.to_string(),
            }),
        );
        add("--profile", self.profile.clone());
        add("--region", self.region.clone());
        add("--endpoint-url", self.endpoint_url.clone());
        flags
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

// Parsed once per process; boxing a variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Discover the source, run preflight, and write a reviewable plan file.
    Plan(PlanArgs),
    /// Start the migration, or resume it if the plan holds a checkpoint.
    Run(RunArgs),
    /// Like run, but refuses when the plan has never run.
    Resume(RunArgs),
    /// Before the DNS swap: back out. Unfreezes the source if it was frozen (the unfreeze command, or you),
    /// puts the record's TTL back, leaves DNS on the source. Resources are kept unless --delete-resources.
    Abort(AbortArgs),
    /// Park the migration at the cutover gate (a flag file beside the plan, which a running process sees):
    /// nothing is frozen until `resume`.
    Postpone { plan: PathBuf },
    /// After the DNS swap: freeze the target, copy what users wrote to it back to the source, swap the record
    /// back to its recorded value and TTL, and unfreeze the source. Resumable like run.
    Rollback(RunArgs),
    /// Prove that DataSync reaches the shares with the plan's user, copying nothing: one execution of the
    /// first lane's task whose Includes match no file. Needs the plan's tasks (`run --until initial_sync`).
    Check { plan: PathBuf },
    /// Where a migration stands: running, waiting for an operator, stopped or done; phase, ETA, lanes,
    /// predictions. The exit code tells scripts the state.
    Status { plan: PathBuf },
    /// Evidence of the migration for a change ticket: approvals, syncs, freeze, DNS change, downtime, data check.
    Report(ReportArgs),
    /// This plan beside one lane, a naive runbook and backup-and-restore, forecast on the same world.
    Compare(CompareArgs),
    /// Print one of the built-in PowerShell scripts with its arguments (the text fsx-migrate sends through
    /// SSM): freeze, unfreeze, export, apply, spn or logon, to run by hand on a domain-joined Windows host.
    WindowsScript(WindowsScriptArgs),
    /// A whole migration in the embedded simulator, with a report.
    Demo(demo::DemoArgs),
    /// Create and inspect simulated worlds.
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The Single-AZ source file system.
    #[arg(long)]
    pub source: String,
    /// The two target subnets, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub subnets: Vec<String>,
    #[arg(long)]
    pub preferred_subnet: String,
    /// The Route 53 hosted zone holding the record (with --name-provider route53, the default).
    #[arg(long, default_value = "")]
    pub hosted_zone: String,
    /// The CNAME users resolve, e.g. files.corp.example.com.
    #[arg(long)]
    pub record_name: String,
    /// Where the record lives: route53, ad-dns (Active Directory DNS, changed through SSM with dns.ps1; needs
    /// --zone-name, --dns-server and --ssm-instance-id) or dfs (a DFS namespace folder, dfs.ps1; needs
    /// --share-path and --ssm-instance-id).
    #[arg(long, value_enum, default_value_t = NameProviderArg::Route53)]
    pub name_provider: NameProviderArg,
    /// ad-dns: the zone holding the record, e.g. corp.example.com.
    #[arg(long)]
    pub zone_name: Option<String>,
    /// ad-dns: a DNS server clients ask (repeatable; the record is changed on the first).
    #[arg(long, value_name = "HOST")]
    pub dns_server: Vec<String>,
    /// dfs: the path below the file server the DFS folder's target names (e.g. share\data); --record-name is
    /// then the folder's path (\\corp.example.com\files\data).
    #[arg(long)]
    pub share_path: Option<String>,
    /// Where to write the plan (default: <source>.toml).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite an existing plan file (it may hold a checkpoint!).
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_enum, default_value_t = FreezeArg::Manual)]
    pub freeze: FreezeArg,
    #[arg(long)]
    pub freeze_command: Option<String>,
    /// With --freeze command: the command a rollback runs at its end to undo the freeze.
    #[arg(long)]
    pub unfreeze_command: Option<String>,
    /// A domain-joined Windows instance with the SSM agent where fsx-migrate runs its PowerShell
    /// (needed by --freeze ssm).
    #[arg(long, value_name = "INSTANCE_ID")]
    pub ssm_instance_id: Option<String>,
    /// With --ssm-instance-id: an account that keeps write access during the freeze, besides the DataSync
    /// user (DOMAIN\name; repeatable).
    #[arg(long, value_name = "ACCOUNT")]
    pub keep_account: Vec<String>,
    #[arg(long, default_value = "svc-datasync")]
    pub smb_user: String,
    /// env:VARIABLE, prompt, or secretsmanager:ARN.
    #[arg(long, default_value = "env:FSX_MIGRATE_SMB_PASSWORD")]
    pub smb_password: String,
    /// A fixed plan id instead of a random one (it tags every resource and derives the tokens).
    #[arg(long)]
    pub plan_id: Option<String>,
    /// TTL of the swapped CNAME, seconds.
    #[arg(long, default_value_t = 60)]
    pub ttl: u64,
    /// The share's inventory (scripts/inventory.ps1): split the copy into lanes, one DataSync task each.
    #[arg(long, value_name = "FILE.csv")]
    pub inventory: Option<PathBuf>,
    /// With --inventory: executions run at once, the rest lane included (default 24).
    #[arg(long, requires = "inventory")]
    pub max_parallel_tasks: Option<u32>,
    /// With --inventory: source plus destination files and directories one execution may count
    /// (default 20000000; DataSync's quota is 25000000).
    #[arg(long, requires = "inventory")]
    pub entries_per_execution: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NameProviderArg {
    Route53,
    AdDns,
    Dfs,
}

impl From<NameProviderArg> for crate::plan::intent::NameProvider {
    fn from(arg: NameProviderArg) -> Self {
        match arg {
            NameProviderArg::Route53 => crate::plan::intent::NameProvider::Route53,
            NameProviderArg::AdDns => crate::plan::intent::NameProvider::AdDns,
            NameProviderArg::Dfs => crate::plan::intent::NameProvider::Dfs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FreezeArg {
    Manual,
    Command,
    Ssm,
}

impl From<FreezeArg> for FreezeKind {
    fn from(arg: FreezeArg) -> FreezeKind {
        match arg {
            FreezeArg::Manual => FreezeKind::Manual,
            FreezeArg::Command => FreezeKind::Command,
            FreezeArg::Ssm => FreezeKind::Ssm,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    pub plan: PathBuf,
    /// Print every action with its API call and parameters, with time and downtime estimates; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Approve creating billable resources and opening the cutover gate without asking.
    #[arg(long)]
    pub yes: bool,
    /// Stop before entering this phase.
    #[arg(long, value_parser = parse_phase)]
    pub until: Option<Phase>,
    /// Freeze although the incremental syncs did not converge.
    #[arg(long)]
    pub accept_delta: bool,
    /// Allow this many more incremental runs than the plan's maximum.
    #[arg(long, default_value_t = 0)]
    pub more_incrementals: u32,
    /// Swap DNS although the final sync removed more files than the delete guard allows (once it tripped).
    #[arg(long)]
    pub accept_deletes: bool,
    /// Swap DNS although the final sync, run twice after the freeze, still skipped files (once it happened).
    #[arg(long)]
    pub accept_skipped: bool,
    /// You froze the file system being frozen (or checked that the freeze command did): answers that question
    /// without a terminal, recorded with your user@host. --yes never answers it.
    #[arg(long)]
    pub confirm_frozen: bool,
    /// The same for unfreezing the source at the end of a rollback.
    #[arg(long)]
    pub confirm_unfrozen: bool,
    #[command(flatten)]
    pub assume: Assumptions,
}

#[derive(Debug, Args)]
pub struct WindowsScriptArgs {
    #[arg(value_enum)]
    pub script: ScriptArg,
    /// The file system's RemoteAdministrationEndpoint.
    #[arg(long)]
    pub endpoint: String,
    /// freeze: an account that keeps write access (DOMAIN\name; repeatable; the DataSync user must be one).
    #[arg(long, value_name = "ACCOUNT")]
    pub keep_account: Vec<String>,
    /// unfreeze: a file holding the freeze's RESULT JSON (or its `shares` array).
    #[arg(long, value_name = "FILE")]
    pub shares_json: Option<PathBuf>,
    /// apply: a file holding an export's RESULT JSON (the source's shares and settings).
    #[arg(long, value_name = "FILE")]
    pub service_json: Option<PathBuf>,
    /// spn: the DNS name of the file system that holds the aliases' SPNs now (--endpoint: the one to get them).
    #[arg(long, value_name = "DNS_NAME")]
    pub from_dns_name: Option<String>,
    /// spn: an alias whose SPNs move (repeatable).
    #[arg(long, value_name = "ALIAS")]
    pub alias: Vec<String>,
    /// logon: the share below --endpoint (the file system's DNS name) to log on to.
    #[arg(long, default_value = "share")]
    pub share_name: String,
    /// logon: the DataSync user, DOMAIN\name.
    #[arg(long, value_name = "DOMAIN\\NAME")]
    pub user_name: Option<String>,
    /// logon: the Secrets Manager secret (ARN or name) holding its password, read on the host.
    #[arg(long, value_name = "SECRET")]
    pub secret_id: Option<String>,
    /// logon: a folder below the share to list too, e.g. /finance (repeatable).
    #[arg(long, value_name = "FOLDER")]
    pub folder: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScriptArg {
    Freeze,
    Unfreeze,
    /// Read the shares and in-server settings (read-only).
    Export,
    /// Make an export true on a file system (the target).
    Apply,
    /// Move DNS aliases' Kerberos SPNs to a file system's computer object.
    Spn,
    /// Log on to a share as the DataSync user and list it (read-only; the password read from Secrets Manager).
    Logon,
}

#[derive(Debug, Args)]
pub struct AbortArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// After the abort, delete what this plan created (found by its tag): cancel running executions, delete
    /// the DataSync tasks and locations and the target file system (without a final backup). Never the
    /// source. Asks first; --yes answers. Also works on a plan aborted earlier.
    #[arg(long)]
    pub delete_resources: bool,
}

/// What a forecast against AWS assumes about the source (FSx does not report it); `--sim` worlds know.
#[derive(Debug, Args, Default)]
pub struct Assumptions {
    /// Forecast against AWS: files on the source (FSx does not report it).
    #[arg(long)]
    pub assume_files: Option<u64>,
    /// Forecast against AWS: data on the source, e.g. "15 TiB" (default: 60 % of the storage capacity).
    #[arg(long)]
    pub assume_bytes: Option<String>,
    /// Forecast against AWS: share of files written per day, e.g. "1%".
    #[arg(long)]
    pub assume_change_rate: Option<String>,
}

impl Assumptions {
    pub fn any(&self) -> bool {
        self.assume_files.is_some() || self.assume_bytes.is_some() || self.assume_change_rate.is_some()
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub plan: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    pub plan: PathBuf,
    #[command(flatten)]
    pub assume: Assumptions,
}

fn parse_phase(text: &str) -> Result<Phase, String> {
    Phase::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
        format!("unknown phase {text:?}: expected one of {}", names.join(", "))
    })
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Create a simulated world file.
    Init(commands::SimInitArgs),
    /// Print a simulated world and its accounting as JSON.
    Show { world: PathBuf },
    /// Print the simulated share's folders as CSV (path,depth,files,directories,bytes), for `plan --inventory`.
    Inventory {
        world: PathBuf,
        /// Write the CSV to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    if matches!(cli.command, CommandLine::Demo(_)) {
        // SAFETY: no other thread exists yet (the runtime is built below), so nothing reads the environment
        // concurrently. The value is a stand-in: the demo's DataSync user is simulated.
        unsafe { std::env::set_var(demo::DEMO_PASSWORD_VARIABLE, "simulated") };
    }
    let multi = crate::cli::progress::Progress::stderr_target();
    init_logging(&cli.global, &multi);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", Failure::internal("cannot start the async runtime").cause(e));
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(commands::dispatch(cli, multi)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.kind.code())
        }
    }
}

fn init_logging(global: &Global, multi: &indicatif::MultiProgress) {
    let level = if global.quiet {
        "warn"
    } else {
        match global.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    // aws_config warns at every start on a machine without IMDS (a laptop); its errors still show.
    let filter = tracing_subscriber::EnvFilter::try_from_env("FSX_MIGRATE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("fsx_migrate={level},aws_config=error,warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::cli::progress::LogWriter(multi.clone()))
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// Rust ignores SIGPIPE; a CLI piped into `head` should end quietly instead of panicking on the write.
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
