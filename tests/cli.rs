//! The binary as operators use it: bad inputs, dry runs, status, interrupts, and kills across processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{FREEZE_COMMAND, UNFREEZE_COMMAND};

const SOURCE: &str = "fs-0123456789abcdef0";
const SUBNET_A: &str = "subnet-0aaa1111aaaa1111a";
const SUBNET_B: &str = "subnet-0bbb2222bbbb2222b";
const SUBNET_C: &str = "subnet-0ccc3333cccc3333c";
const ZONE: &str = "Z0123456789EXAMPLE";
const RECORD: &str = "files.corp.example.com";

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fsx-migrate"));
    cmd.stdin(Stdio::null())
        .env_remove("AWS_PROFILE")
        // The plans' default SMB password source; the simulator checks that it resolves.
        .env("FSX_MIGRATE_SMB_PASSWORD", "test-only-password")
        // Approvals are recorded as user@host: the user is fixed, the host replaced in snapshots.
        .env("USER", "ops")
        .env("NO_COLOR", "1");
    cmd
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains(needle),
        "expected {needle:?} in stderr:\n{stderr}"
    );
}

/// A temp dir with a small world and a plan with a fixed id.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup::bare();
        let out = setup.plan(&[SOURCE, &format!("{SUBNET_A},{SUBNET_B}"), SUBNET_A, RECORD]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        setup
    }

    fn bare() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), &["sim", "init", "w.json", "--scenario", "small"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `plan` with [source, subnets, preferred, record].
    fn plan(&self, a: &[&str; 4]) -> Output {
        run_in(
            self.dir.path(),
            &[
                "--sim",
                "w.json",
                "plan",
                "--source",
                a[0],
                "--subnets",
                a[1],
                "--preferred-subnet",
                a[2],
                "--hosted-zone",
                ZONE,
                "--record-name",
                a[3],
                "--out",
                "plan.toml",
                "--freeze",
                "command",
                "--freeze-command",
                FREEZE_COMMAND,
                "--unfreeze-command",
                UNFREEZE_COMMAND,
                "--plan-id",
                "fxm-cli",
            ],
        )
    }

    /// `plan` of the small world's source with its subnets and record, written to `out`, and only `extra`
    /// besides (no freeze command, no plan id).
    fn plan_sim(&self, out: &str, extra: &[&str]) -> Output {
        let subnets = format!("{SUBNET_A},{SUBNET_B}");
        let mut args = vec![
            "--sim",
            "w.json",
            "plan",
            "--source",
            SOURCE,
            "--subnets",
            &subnets,
            "--preferred-subnet",
            SUBNET_A,
            "--record-name",
            RECORD,
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        run_in(self.dir.path(), &args)
    }

    /// `plan` of the small world's source into `plan.toml` with `[windows]` (the SSM freeze and instance).
    fn plan_windows(&self) -> Output {
        let windows = [
            "--hosted-zone",
            ZONE,
            "--freeze",
            "ssm",
            "--ssm-instance-id",
            "i-0123456789abcdef0",
        ];
        self.plan_sim("plan.toml", &windows)
    }

    /// Like [`Setup::plan_windows`], with the DataSync password in Secrets Manager.
    fn plan_windows_with_secret(&self) -> Output {
        let windows = [
            "--hosted-zone",
            ZONE,
            "--freeze",
            "ssm",
            "--ssm-instance-id",
            "i-0123456789abcdef0",
            "--smb-password",
            "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:datasync-AbCdEf",
        ];
        self.plan_sim("plan.toml", &windows)
    }

    /// `plan` for the small world's source with `--plan-id plan_id` and `extra` arguments.
    fn plan_with(&self, plan_id: &str, extra: &[&str]) -> Output {
        let subnets = format!("{SUBNET_A},{SUBNET_B}");
        let mut args = vec![
            "--sim",
            "w.json",
            "plan",
            "--source",
            SOURCE,
            "--subnets",
            &subnets,
            "--preferred-subnet",
            SUBNET_A,
            "--hosted-zone",
            ZONE,
            "--record-name",
            RECORD,
            "--out",
            "plan.toml",
            "--freeze",
            "command",
            "--freeze-command",
            FREEZE_COMMAND,
            "--unfreeze-command",
            UNFREEZE_COMMAND,
            "--plan-id",
            plan_id,
        ];
        args.extend_from_slice(extra);
        run_in(self.dir.path(), &args)
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--sim", "w.json"];
        all.extend_from_slice(args);
        run_in(self.dir.path(), &all)
    }

    /// `run PLAN --yes` at `--sim-speed speed`, killed (SIGKILL) after `delay_ms` of real time.
    fn run_killed_after(&self, speed: &str, delay_ms: u64) {
        let mut child = bin()
            .current_dir(self.dir.path())
            .args([
                "--sim",
                "w.json",
                "--sim-speed",
                speed,
                "run",
                "plan.toml",
                "--yes",
            ])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn edit_plan(&self, from: &str, to: &str) {
        let plan = self.read("plan.toml");
        assert!(plan.contains(from), "{from:?} not in plan");
        std::fs::write(self.path("plan.toml"), plan.replacen(from, to, 1)).unwrap();
    }

    fn world_json(&self) -> serde_json::Value {
        let out = run_in(self.dir.path(), &["sim", "show", "w.json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn assert_world_untouched(&self) {
        let w = self.world_json();
        assert_eq!(w["targets"].as_array().unwrap().len(), 0, "a target was created");
        assert_eq!(w["datasync"]["tasks"], 0);
        assert_eq!(w["executions"].as_array().unwrap().len(), 0);
    }
}

/// A bad plan file: exit 1, a message naming the problem, nothing changed.
#[track_caller]
fn assert_bad_plan(setup: &Setup, needle: &str) {
    let before = setup.read("plan.toml");
    let out = setup.run(&["run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, needle);
    assert_eq!(setup.read("plan.toml"), before, "the plan file changed");
    setup.assert_world_untouched();
}

#[test]
fn malformed_toml_names_line_and_column() {
    let s = Setup::new();
    s.edit_plan("[dns]", "[dns");
    assert_bad_plan(&s, "line ");
    let out = s.run(&["run", "plan.toml"]);
    assert!(text(&out.stderr).contains("column"), "{}", text(&out.stderr));
}

#[test]
fn an_unknown_field_is_named() {
    let s = Setup::new();
    s.edit_plan("ttl = 60", "ttl = 60\ncolour = \"blue\"");
    assert_bad_plan(&s, "unknown field `colour`");
}

#[test]
fn a_missing_field_is_named() {
    let s = Setup::new();
    s.edit_plan("ttl = 60\n", "");
    assert_bad_plan(&s, "missing field `ttl`");
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let s = Setup::new();
    s.edit_plan("ttl = 60", "ttl = \"sixty\"");
    let out = s.run(&["run", "plan.toml"]);
    assert_exit(&out, 1, "invalid type");
    assert!(text(&out.stderr).contains("line "), "{}", text(&out.stderr));
}

#[test]
fn plan_rejects_bad_sources_subnets_and_records_and_writes_nothing() {
    let cases: [([&str; 4], &str); 7] = [
        (["fs-0000000000000dead", "x", SUBNET_A, RECORD], "does not exist"),
        (
            [
                "fs-0feedfacecafe0001",
                &format!("{SUBNET_A},{SUBNET_B}"),
                SUBNET_A,
                RECORD,
            ],
            "not WINDOWS",
        ),
        (
            [
                "fs-0feedfacecafe0002",
                &format!("{SUBNET_A},{SUBNET_B}"),
                SUBNET_A,
                RECORD,
            ],
            "already MULTI_AZ_1",
        ),
        (
            [SOURCE, &format!("{SUBNET_A},{SUBNET_B}"), SUBNET_C, RECORD],
            "is not among the target subnets",
        ),
        (
            [SOURCE, &format!("{SUBNET_A},{SUBNET_C}"), SUBNET_A, RECORD],
            "are both in us-east-1a",
        ),
        (
            [
                SOURCE,
                &format!("{SUBNET_A},{SUBNET_B}"),
                SUBNET_A,
                "nothere.corp.example.com",
            ],
            "does not exist in hosted zone",
        ),
        (
            [
                SOURCE,
                &format!("{SUBNET_A},{SUBNET_B}"),
                SUBNET_A,
                "intranet.corp.example.com",
            ],
            "is a A record, not a CNAME",
        ),
    ];
    for (args, needle) in cases {
        let s = Setup::bare();
        let out = s.plan(&args);
        assert_exit(&out, 1, needle);
        assert!(!s.path("plan.toml").exists(), "a plan was written for {args:?}");
        s.assert_world_untouched();
    }
}

#[test]
fn run_preflight_catches_an_edited_plan_and_lists_every_problem() {
    let s = Setup::new();
    s.edit_plan(&format!("\"{SUBNET_B}\"]"), &format!("\"{SUBNET_C}\"]"));
    s.edit_plan(
        &format!("preferred_subnet_id = \"{SUBNET_A}\""),
        &format!("preferred_subnet_id = \"{SUBNET_B}\""),
    );
    let before = s.read("plan.toml");
    let out = s.run(&["run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "preflight found 2 problem(s)");
    assert!(text(&out.stderr).contains("both in us-east-1a"));
    assert!(text(&out.stderr).contains("is not among the target subnets"));
    assert_eq!(s.read("plan.toml"), before);
    s.assert_world_untouched();
}

#[test]
fn editing_the_intent_after_the_run_started_is_refused_with_the_field() {
    let s = Setup::new();
    let out = s.run(&["run", "plan.toml", "--yes", "--until", "wait_target"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    s.edit_plan("ttl = 60", "ttl = 300");
    let before = s.read("plan.toml");
    let out = s.run(&["resume", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "dns.ttl: 60 → 300");
    assert_eq!(s.read("plan.toml"), before);
    assert_eq!(s.world_json()["targets"].as_array().unwrap().len(), 1);
}

#[test]
fn a_second_run_of_a_locked_plan_is_refused() {
    let s = Setup::new();
    let _lock = fsx_migrate::plan::file::PlanLock::acquire(&s.path("plan.toml")).unwrap();
    let before = s.read("plan.toml");
    let out = s.run(&["run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "another fsx-migrate run holds the lock");
    assert_eq!(s.read("plan.toml"), before);
    s.assert_world_untouched();
}

#[test]
fn resume_of_a_plan_that_never_ran_is_refused() {
    let s = Setup::new();
    let out = s.run(&["resume", "plan.toml"]);
    assert_exit(&out, 1, "nothing to resume");
    s.assert_world_untouched();
}

#[test]
fn without_yes_and_without_a_terminal_the_run_stops_before_billable_work() {
    let s = Setup::new();
    let out = s.run(&["run", "plan.toml"]);
    assert_exit(&out, 1, "nobody to confirm it");
    assert!(text(&out.stderr).contains("--yes"));
    s.assert_world_untouched();
}

#[test]
fn the_dry_run_lists_every_call_and_touches_nothing() {
    let s = Setup::new();
    let (plan, world) = (s.read("plan.toml"), s.read("w.json"));
    let out = s.run(&["run", "plan.toml", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.read("plan.toml"), plan);
    assert_eq!(s.read("w.json"), world);
    insta::assert_snapshot!("dry_run", text(&out.stdout));
    let json = s.run(&["run", "plan.toml", "--dry-run", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["accounting"]["writes_lost_at_swap"], 0);
    assert_eq!(s.read("w.json"), world);
}

#[test]
fn status_shows_phases_syncs_and_downtime() {
    let s = Setup::new();
    let out = s.run(&["status", "plan.toml"]);
    assert!(text(&out.stdout).contains("State: not started"));
    assert_eq!(out.status.code(), Some(13));
    let demo = run_in(
        s.dir.path(),
        &["demo", "--dir", "d", "--scenario", "small", "--seconds", "1"],
    );
    assert_eq!(demo.status.code(), Some(0), "{}", text(&demo.stderr));
    let report = text(&demo.stdout);
    assert!(
        report.contains("writes lost at the DNS swap          0"),
        "{report}"
    );
    let out = run_in(&s.path("d"), &["status", "plan.toml"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("status_after_demo", text(&out.stdout));
    let json = run_in(&s.path("d"), &["status", "plan.toml", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["phase"], "complete");
    let lane = &value["lanes"][0];
    assert_eq!(lane["name"], "all");
    assert_eq!(lane["syncs"].as_array().unwrap().len(), 3);
    assert!(lane["syncs"][0]["durations"]["prepare_ms"].as_u64().unwrap() > 0);
    let downtime = value["predictions"]["downtime_secs"].as_u64().unwrap();
    let service = value["predictions"]["service_downtime_secs"].as_u64().unwrap();
    assert_eq!(
        downtime,
        service + 60,
        "client-perceived = in sync + the plan's 60 s TTL"
    );
}

/// The accounting figures a rehearsal and a dry run of the same world must agree on.
fn outcome(accounting: &serde_json::Value) -> serde_json::Value {
    let keys = [
        "freeze_at",
        "dns_swapped_at",
        "dns_insync_at",
        "downtime_secs",
        "service_downtime_secs",
        "executions_by_kind",
        "writes_lost_at_swap",
        "target_file_systems_created",
    ];
    keys.iter()
        .map(|k| (k.to_string(), accounting[k].clone()))
        .collect()
}

#[test]
fn a_max_speed_rehearsal_runs_in_event_time_and_matches_the_dry_run() {
    let s = Setup::new();
    let dry = s.run(&["run", "plan.toml", "--dry-run", "--output", "json"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let dry: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    // Two processes: the first stops after the initial sync, the second resumes without --sim-speed (the
    // world stays in event time, its clock persisted in between).
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "incremental_sync",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let between = s.world_json();
    assert_eq!(between["speed"], "max");
    let paused_at = between["now"].clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        s.world_json()["now"],
        paused_at,
        "event time stands still between processes"
    );
    let out = s.run(&["resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let acc = &s.world_json()["accounting"];
    assert_eq!(acc["writes_lost_at_swap"], 0);
    assert!(acc["downtime_secs"].as_u64().unwrap() > 0);
    assert_eq!(outcome(acc), outcome(&dry["accounting"]), "rehearsal vs dry run");
    // Three processes (plan, run, resume) in a world whose clock stands still between them: no operation
    // was sent twice in one simulated second, not even across a restart.
    for (operation, per_sec) in acc["api_calls_max_per_sec"].as_object().unwrap() {
        assert!(per_sec.as_u64().unwrap() <= 1, "{operation}: {per_sec}/s");
    }
}

#[test]
fn a_max_speed_run_killed_at_any_moment_resumes_on_a_clock_that_never_goes_back() {
    let s = Setup::new();
    let mut last = String::new();
    for delay in [40, 120, 250, 400] {
        s.run_killed_after("max", delay);
        let now = s.world_json()["now"].as_str().unwrap().to_string();
        let parsed = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
        assert!(
            last.is_empty() || parsed(&now) >= parsed(&last),
            "{now} before {last}"
        );
        last = now;
    }
    let out = s.run(&["run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let acc = &s.world_json()["accounting"];
    assert_eq!(acc["writes_lost_at_swap"], 0);
    assert_eq!(acc["violations"].as_array().unwrap().len(), 0, "{acc}");
    assert_eq!(acc["target_file_systems_created"], 1);
}

#[test]
fn sim_inventory_prints_the_folders_as_csv_that_sums_up() {
    let s = Setup::bare();
    let out = run_in(s.dir.path(), &["sim", "inventory", "w.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("path,depth,files,directories,bytes"));
    let rows: Vec<(String, u64, [u64; 3])> = lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 5, "{line}");
            let n = |i: usize| f[i].parse::<u64>().unwrap();
            (f[0].to_string(), n(1), [n(2), n(3), n(4)])
        })
        .collect();
    let (root, rest) = rows.split_first().unwrap();
    assert_eq!((root.0.as_str(), root.1), ("/", 0));
    assert_eq!(root.2[0], 200_000, "the small scenario's files");
    assert_eq!(root.2[2], 100 << 30, "and bytes");
    // Each top-level folder's subtree is its subfolders' plus its own loose files.
    for (path, depth, totals) in rest.iter().filter(|r| r.1 == 1) {
        let children: Vec<&[u64; 3]> = rest
            .iter()
            .filter(|r| r.1 == 2 && r.0.starts_with(&format!("{path}/")))
            .map(|r| &r.2)
            .collect();
        assert!(!children.is_empty(), "{path} has subfolders");
        assert!(children.iter().map(|c| c[0]).sum::<u64>() <= totals[0]);
        assert_eq!(
            children.iter().map(|c| c[1] + 1).sum::<u64>(),
            totals[1],
            "{path}: directories under it"
        );
        assert_eq!(*depth, 1);
    }
    let tops = rest.iter().filter(|r| r.1 == 1);
    let top_files: u64 = tops.clone().map(|r| r.2[0]).sum();
    assert!(
        top_files <= root.2[0] && top_files > root.2[0] * 99 / 100,
        "root files are few"
    );
    assert_eq!(tops.map(|r| r.2[1] + 1).sum::<u64>(), root.2[1]);
    let file = run_in(s.dir.path(), &["sim", "inventory", "w.json", "--out", "inv.csv"]);
    assert_eq!(file.status.code(), Some(0), "{}", text(&file.stderr));
    assert_eq!(s.read("inv.csv"), csv);
}

#[test]
fn a_world_of_an_older_version_is_refused_with_a_hint() {
    let s = Setup::bare();
    let mut world: serde_json::Value = serde_json::from_str(&s.read("w.json")).unwrap();
    world["version"] = 1.into();
    std::fs::write(s.path("w.json"), world.to_string()).unwrap();
    let out = run_in(s.dir.path(), &["sim", "show", "w.json"]);
    assert_exit(&out, 1, "is version 1; this fsx-migrate reads version 2");
    assert!(text(&out.stderr).contains("sim init"), "{}", text(&out.stderr));
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

#[test]
fn ctrl_c_checkpoints_exits_3_and_resume_finishes() {
    let s = Setup::new();
    let child = bin()
        .current_dir(s.dir.path())
        .args([
            "--sim",
            "w.json",
            "--sim-speed",
            "2000",
            "run",
            "plan.toml",
            "--yes",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run has written a checkpoint past preflight (its Ctrl-C handler is installed by then).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !s.read("plan.toml").contains("phase = \"wait_target\"") {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached wait_target"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    signal(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 3, "resume");
    // Event time: how long the resumed run takes in simulated time does not depend on the host's load.
    let out = s.run(&["--sim-speed", "max", "resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let acc = &s.world_json()["accounting"];
    assert_eq!(acc["target_file_systems_created"], 1);
    assert_eq!(acc["writes_lost_at_swap"], 0);
}

#[test]
fn sigkill_at_random_moments_then_rerun_until_done() {
    sigkill_until_done(&Setup::new());
}

/// The same with the share split into lanes: many DataSync tasks running in parallel.
#[test]
fn sigkill_at_random_moments_of_a_partitioned_migration_then_rerun_until_done() {
    // The plan's lanes come from the simulated share's own inventory, as an operator's would.
    let s = Setup::bare();
    let out = s.run(&["sim", "inventory", "w.json", "--out", "share.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.plan_with(
        "fxm-cli",
        &[
            "--inventory",
            "share.csv",
            "--entries-per-execution",
            "80000",
            "--max-parallel-tasks",
            "13",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lanes = s.read("plan.toml").matches("[[transfer.lanes]]").count();
    assert!(lanes >= 6, "{lanes} lanes");
    sigkill_until_done(&s);
    let w = s.world_json();
    assert_eq!(
        w["datasync"]["tasks"],
        lanes + 1,
        "one task per lane and the rest lane"
    );
    let acc = &w["accounting"];
    assert_eq!(acc["files_not_covered"], 0, "{acc}");
    assert_eq!(acc["files_covered_twice"], 0, "{acc}");
}

fn sigkill_until_done(s: &Setup) {
    // A fixed pseudo-random sequence of kill delays (ms): reproducible, yet spread over the whole run.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut delays = Vec::new();
    for _ in 0..5 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        delays.push(60 + x % 500);
    }
    for delay in delays {
        s.run_killed_after("20000", delay);
    }
    let mut done = false;
    for _ in 0..5 {
        // A kill while the freeze command ran leaves its outcome unknown: the operator checks the source and
        // says it is frozen (the command is never re-run blindly).
        let out = s.run(&[
            "--sim-speed",
            "20000",
            "run",
            "plan.toml",
            "--yes",
            "--confirm-frozen",
        ]);
        if out.status.code() == Some(0) {
            done = true;
            break;
        }
    }
    assert!(done, "never completed");
    let w = s.world_json();
    let acc = &w["accounting"];
    assert_eq!(acc["target_file_systems_created"], 1);
    assert_eq!(acc["violations"].as_array().unwrap().len(), 0, "{acc}");
    assert_eq!(acc["writes_lost_at_swap"], 0);
    assert_eq!(acc["writes_during_freeze"], 0);
    assert!(acc["dns_insync_at"].is_string());
    let status: serde_json::Value =
        serde_json::from_slice(&run_in(s.dir.path(), &["status", "plan.toml", "--output", "json"]).stdout)
            .unwrap();
    assert_eq!(status["phase"], "complete");
    // Every execution the world ran is in the plan's history: none orphaned, none duplicated.
    let known: Vec<&str> = status["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|lane| lane["syncs"].as_array().unwrap())
        .map(|s| s["execution_arn"].as_str().unwrap())
        .collect();
    for e in w["executions"].as_array().unwrap() {
        assert!(
            known.contains(&e["info"]["arn"].as_str().unwrap()),
            "orphaned execution {e}"
        );
    }
    assert!(status["runs"].as_u64().unwrap() >= 2);
}

// ---- cutover safety through the binary ------------------------------------------------------------------

impl Setup {
    /// A run whose simulated clock runs fast enough to reach the cutover in well under a second per hour.
    fn fast(&self, args: &[&str]) -> Output {
        let mut all = vec!["--sim-speed", "5000"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Replaces the whole line that starts with `key` (plan fields and checkpoint fields alike).
    fn set_line(&self, key: &str, line: &str) {
        let plan = self.read("plan.toml");
        let edited: Vec<String> = plan
            .lines()
            .map(|l| {
                if l.starts_with(key) {
                    line.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert_ne!(edited.join("\n"), plan.trim_end(), "no line starts with {key:?}");
        std::fs::write(self.path("plan.toml"), edited.join("\n") + "\n").unwrap();
    }

    fn executions_of(&self, kind: &str) -> usize {
        let w = self.world_json();
        w["executions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind)
            .count()
    }
}

#[test]
fn until_the_gate_on_a_plan_parked_at_the_gate_freezes_nothing() {
    let setup = Setup::new();
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "freeze"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let parked = setup.read("plan.toml");
    assert!(parked.contains("phase = \"cutover_gate\""));
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "cutover_gate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already at cutover_gate"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(setup.read("plan.toml"), parked, "the checkpoint changed");
    let w = setup.world_json();
    assert!(w["source_frozen_at"].is_null(), "the source was frozen");
    assert_eq!(setup.executions_of("final"), 0);
    // Past the phase asked for: nothing done either, and the exit code says the plan is elsewhere.
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "initial_sync"]);
    assert_exit(&out, 1, "already at cutover_gate, past initial_sync");
}

#[test]
fn until_preflight_creates_nothing() {
    let setup = Setup::new();
    let before = setup.read("plan.toml");
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "preflight"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(setup.read("plan.toml"), before);
    setup.assert_world_untouched();
}

#[test]
fn the_delete_guard_sticks_across_resumes_until_accepted() {
    let setup = Setup::new();
    setup.set_line("max_final_deletes", "max_final_deletes = 0");
    let out = setup.fast(&["run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "delete guard");
    let executions = setup.world_json()["executions"].as_array().unwrap().len();
    let out = setup.fast(&["resume", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "delete guard");
    assert_eq!(
        setup.world_json()["executions"].as_array().unwrap().len(),
        executions,
        "a sync ran past the guard"
    );
    assert_eq!(
        setup.world_json()["accounting"]["dns_swapped_at"],
        serde_json::Value::Null
    );
    let status = text(&setup.run(&["status", "plan.toml"]).stdout);
    assert!(status.contains("Guard delete_guard: tripped"), "{status}");
    assert!(status.contains("--accept-deletes"), "{status}");
    // Deletes propagate in every run: with a limit of 0 each run that deletes trips anew and is accepted anew.
    let mut accepted = 0;
    loop {
        let out = setup.fast(&["resume", "plan.toml", "--yes", "--accept-deletes"]);
        accepted += 1;
        if out.status.code() == Some(0) {
            break;
        }
        assert_exit(&out, 1, "delete guard");
        assert!(accepted < 30, "the guard keeps tripping");
    }
    let plan = setup.read("plan.toml");
    assert!(plan.contains("deletes_accepted_by = "), "{plan}");
    let status = text(&setup.run(&["status", "plan.toml"]).stdout);
    assert!(status.contains("accepted by "), "{status}");
    assert_eq!(setup.executions_of("final"), 1);
}

#[test]
fn a_checkpoint_edited_to_skip_to_the_swap_stops_before_it() {
    let setup = Setup::new();
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "freeze"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    setup.set_line("phase = ", "phase = \"dns_swap\"");
    let records = setup.world_json()["records"].clone();
    let out = setup.fast(&["resume", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "stopped before swapping DNS");
    assert!(text(&out.stderr).contains("no final sync succeeded after the freeze"));
    assert_eq!(setup.world_json()["records"], records, "the record changed");
}

#[test]
fn a_second_plan_for_the_same_source_is_refused_naming_the_first() {
    let setup = Setup::new();
    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "initial_sync"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = setup.run(&[
        "plan",
        "--source",
        SOURCE,
        "--subnets",
        &format!("{SUBNET_A},{SUBNET_B}"),
        "--preferred-subnet",
        SUBNET_A,
        "--hosted-zone",
        ZONE,
        "--record-name",
        RECORD,
        "--out",
        "second.toml",
        "--plan-id",
        "fxm-second",
    ]);
    assert_exit(&out, 1, "belongs to fsx-migrate plan fxm-cli");
    assert!(!setup.path("second.toml").exists());
}

#[test]
fn an_unset_password_variable_stops_the_run_before_anything_billable() {
    let setup = Setup::new();
    setup.set_line("smb_password", "smb_password = \"env:FSX_MIGRATE_TEST_NOT_SET\"");
    let out = setup.fast(&["run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "FSX_MIGRATE_TEST_NOT_SET is not set");
    setup.assert_world_untouched();
}

/// `sim init` with `args` in a fresh dir: exit 1 naming the problem, a hint, and no world written.
#[track_caller]
fn assert_sim_init_refused(args: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["sim", "init", "w.json", "--scenario", "small"];
    all.extend_from_slice(args);
    let out = run_in(dir.path(), &all);
    assert_exit(&out, 1, "Error: ");
    let stderr = text(&out.stderr);
    for needle in needles.iter().chain(&["Caused by: ", "Hint: "]) {
        assert!(
            stderr.contains(needle),
            "{args:?}: expected {needle:?} in:\n{stderr}"
        );
    }
    assert!(!dir.path().join("w.json").exists(), "{args:?} wrote a world");
}

#[test]
fn sim_init_refuses_values_the_simulator_cannot_use() {
    let cases: [(&[&str], &[&str]); 10] = [
        (
            &["--throughput", "0"],
            &["--throughput 0 is out of range", "between 8 and 12288 MB/s"],
        ),
        (
            &["--change-rate", "1e308"],
            &["--change-rate 1e308 is out of range", "between 0 and 10 per day"],
        ),
        (
            &["--files", "99999999999"],
            &["--files 99999999999 is out of range"],
        ),
        (
            &["--fault", "throttle,p=nan"],
            &[
                "invalid --fault \"throttle,p=nan\"",
                "p=NaN",
                "greater than 0 and at most 1",
            ],
        ),
        (
            &["--fault", "throttle,p=7"],
            &["p=7 is out of range", "at most 1"],
        ),
        (
            &["--fault", "timeout,times=0"],
            &["times=0 is out of range", "at least 1"],
        ),
        (
            &["--fault", "server_error,op=bogus:Op"],
            &["op=bogus:Op is not allowed", "datasync:StartTaskExecution"],
        ),
        (&["--fault", "skipped_files"], &["count is missing"]),
        (
            &["--fault", "throttle,count=5"],
            &["count applies to skipped_files only"],
        ),
        (
            &["--fault", "execution_error,op=route53:GetChange"],
            &["the only call execution_error applies to"],
        ),
    ];
    for (args, needles) in cases {
        assert_sim_init_refused(args, needles);
    }
}

#[test]
fn sim_init_accepts_the_new_faults() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "sim",
            "init",
            "w.json",
            "--fault",
            "skipped_files,count=50",
            "--fault",
            "lost_response,op=datasync:CreateTask,after=1,p=0.5",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let show = run_in(dir.path(), &["sim", "show", "w.json"]);
    let w: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(w["faults"][0]["kind"], "skipped_files");
    assert_eq!(w["faults"][0]["count"], 50);
    assert_eq!(w["faults"][1]["kind"], "lost_response");
    assert_eq!(w["accounting"]["files_missing_at_swap"], serde_json::Value::Null);
}

/// Edits the world file as JSON.
fn edit_world(s: &Setup, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut w: serde_json::Value = serde_json::from_str(&s.read("w.json")).unwrap();
    edit(&mut w);
    std::fs::write(s.path("w.json"), serde_json::to_string_pretty(&w).unwrap()).unwrap();
}

type WorldEdit = fn(&mut serde_json::Value);

#[test]
fn a_hand_edited_world_with_a_bad_value_is_refused_not_a_panic() {
    let cases: [(WorldEdit, &str); 5] = [
        (
            |w| w["model"]["prepare_files_per_sec"] = 0.0.into(),
            "model.prepare_files_per_sec = 0 is out of range: it must be between 1 and 1000000000",
        ),
        (
            |w| w["model"]["transfer_files_per_sec"] = 0.into(),
            "model.transfer_files_per_sec = 0",
        ),
        (
            |w| w["speed"] = 1e15.into(),
            "speed = 1000000000000000 is out of range",
        ),
        (
            |w| {
                w["faults"] = serde_json::json!([{"kind": "throttle", "operation": "*", "times": 1, "probability": 7.0}])
            },
            "faults[0].probability = 7 is out of range",
        ),
        (
            |w| w["source"]["settings"]["throughput_capacity_mbps"] = 0.into(),
            "source.settings.throughput_capacity_mbps = 0",
        ),
    ];
    for (edit, needle) in cases {
        let s = Setup::new();
        edit_world(&s, edit);
        let world = s.read("w.json");
        for args in [
            &["sim", "show", "w.json"][..],
            &["--sim", "w.json", "run", "plan.toml", "--yes"],
            &["--sim", "w.json", "run", "plan.toml", "--dry-run"],
        ] {
            let out = run_in(s.dir.path(), args);
            assert_exit(&out, 1, "invalid simulated world");
            assert!(
                text(&out.stderr).contains(needle),
                "{args:?}: {}",
                text(&out.stderr)
            );
            assert!(text(&out.stderr).contains("Hint: "), "{}", text(&out.stderr));
        }
        assert_eq!(s.read("w.json"), world, "the world changed");
    }
}

#[test]
fn a_sim_speed_out_of_range_is_refused() {
    let s = Setup::new();
    let world = s.read("w.json");
    let out = s.run(&["--sim-speed", "1e15", "run", "plan.toml", "--yes"]);
    assert_exit(&out, 1, "--sim-speed 1000000000000000 is out of range");
    assert!(
        text(&out.stderr).contains("at most 1000000"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.read("w.json"), world);
}

#[test]
fn a_world_in_use_by_another_process_is_refused_and_left_untouched() {
    let s = Setup::new();
    let _lock = fsx_migrate::sim::WorldLock::acquire(&s.path("w.json")).unwrap();
    let (world, plan) = (s.read("w.json"), s.read("plan.toml"));
    let out = s.run(&["run", "plan.toml", "--yes"]);
    assert_exit(
        &out,
        1,
        "another fsx-migrate process uses the simulated world w.json",
    );
    assert!(text(&out.stderr).contains(&format!("pid {}", std::process::id())));
    assert_eq!(s.read("w.json"), world, "the world changed");
    assert_eq!(s.read("plan.toml"), plan, "the plan changed");
    let out = run_in(s.dir.path(), &["sim", "init", "w.json", "--force"]);
    assert_exit(&out, 1, "another fsx-migrate process uses the simulated world");
    // Read-only commands still work on a snapshot, and never write it.
    let out = s.plan(&[SOURCE, &format!("{SUBNET_A},{SUBNET_B}"), SUBNET_A, RECORD]);
    assert_exit(&out, 1, "already exists");
    let out = run_in(
        s.dir.path(),
        &[
            "--sim",
            "w.json",
            "plan",
            "--source",
            SOURCE,
            "--subnets",
            &format!("{SUBNET_A},{SUBNET_B}"),
            "--preferred-subnet",
            SUBNET_A,
            "--hosted-zone",
            ZONE,
            "--record-name",
            RECORD,
            "--out",
            "plan2.toml",
            "--freeze",
            "command",
            "--freeze-command",
            FREEZE_COMMAND,
            "--unfreeze-command",
            UNFREEZE_COMMAND,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.run(&["run", "plan.toml", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run_in(s.dir.path(), &["sim", "show", "w.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.read("w.json"), world, "a read-only command wrote the world");
}

// ---- plan-file defects: enums, ranges, the file's safety, secrets, junk ------------------------------------

#[test]
fn a_misspelled_enum_is_refused_with_its_field_and_the_allowed_values() {
    let s = Setup::new();
    s.edit_plan(
        "verify_mode_final = \"ONLY_FILES_TRANSFERRED\"",
        "verify_mode_final = \"ONLY_FILES_TRANSFERED\"",
    );
    assert_bad_plan(&s, "transfer.verify_mode_final");
    let out = s.run(&["run", "plan.toml", "--dry-run"]);
    assert_exit(&out, 1, "POINT_IN_TIME_CONSISTENT");
    assert!(text(&out.stderr).contains("line "), "{}", text(&out.stderr));
}

#[test]
fn plan_refuses_a_bad_plan_id_or_ttl_and_writes_nothing() {
    let cases: [(&str, &[&str], &str); 4] = [
        ("fxm cli", &[], "invalid --plan-id"),
        ("fxm/cli", &[], "invalid --plan-id"),
        (&"x".repeat(45), &[], "at most 44"),
        ("fxm-cli", &["--ttl", "1099511627776"], "dns.ttl"),
    ];
    for (id, extra, needle) in cases {
        let s = Setup::bare();
        let out = s.plan_with(id, extra);
        assert_exit(&out, 1, needle);
        assert!(
            !s.path("plan.toml").exists(),
            "a plan was written for {id:?} {extra:?}"
        );
    }
}

#[test]
fn a_huge_poll_interval_is_refused_instead_of_hanging_the_dry_run() {
    let s = Setup::new();
    s.edit_plan("poll_interval = \"30s\"", "poll_interval = \"3000000d\"");
    let mut child = bin()
        .current_dir(s.dir.path())
        .args(["--sim", "w.json", "run", "plan.toml", "--dry-run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the dry run still runs after 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 1, "sync.poll_interval");
}

#[test]
fn a_name_holding_the_marker_or_newlines_survives_plan_and_run() {
    let s = Setup::bare();
    let name = format!(
        "finance\n{}\n[dns]\nttl = 1 \"quoted\"",
        fsx_migrate::plan::file::CHECKPOINT_MARKER
    );
    let out = s.plan_with("fxm-cli", &["--name", &name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.run(&["run", "plan.toml", "--yes", "--until", "wait_target"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = fsx_migrate::plan::file::PlanFile::load(&s.path("plan.toml")).expect("the plan still loads");
    assert_eq!(file.intent.migration.name, name);
    assert_eq!(file.intent.dns.ttl, 60);
    assert!(file.checkpoint.has_started());
    let out = s.run(&["status", "plan.toml"]);
    assert_eq!(
        out.status.code(),
        Some(12),
        "stopped (--until): {}",
        text(&out.stderr)
    );
}

#[test]
fn plan_force_does_not_overwrite_a_plan_a_run_holds() {
    let s = Setup::new();
    let before = s.read("plan.toml");
    let _lock = fsx_migrate::plan::file::PlanLock::acquire(&s.path("plan.toml")).unwrap();
    let out = s.plan_with("fxm-other", &["--force"]);
    assert_exit(&out, 1, "another fsx-migrate run holds the lock");
    assert_eq!(s.read("plan.toml"), before);
}

#[test]
fn a_plan_pinned_with_the_legacy_intent_hash_resumes() {
    let s = Setup::new();
    let out = s.run(&["run", "plan.toml", "--yes", "--until", "wait_target"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = fsx_migrate::plan::file::PlanFile::load(&s.path("plan.toml")).unwrap();
    let (canonical, legacy) = (file.intent.sha256(), file.intent.legacy_sha256());
    assert_ne!(canonical, legacy);
    // What a run started by an earlier release left in the file.
    s.edit_plan(
        &format!("intent_sha256 = \"{canonical}\""),
        &format!("intent_sha256 = \"{legacy}\""),
    );
    let out = s.fast(&["resume", "plan.toml", "--yes", "--until", "prepare_transfer"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        s.read("plan.toml")
            .contains(&format!("intent_sha256 = \"{canonical}\""))
    );
}

#[test]
fn a_password_typed_instead_of_its_source_is_never_echoed() {
    let secret = "hunter2-Sup3rS3cret";
    let s = Setup::bare();
    let out = s.plan_with("fxm-cli", &["--smb-password", secret]);
    assert_exit(&out, 1, "password source");
    assert!(!text(&out.stderr).contains(secret) && !text(&out.stdout).contains(secret));
    assert!(!s.path("plan.toml").exists());

    let s = Setup::new();
    let plan = s.read("plan.toml");
    let line = "smb_password = \"env:FSX_MIGRATE_SMB_PASSWORD\"";
    for (bad, secret) in [
        (format!("smb_password = \"{secret}\""), secret),
        ("smb_password = 31337420".to_string(), "31337420"),
        (
            format!("{line}\n[target]\nad_join_password = \"{secret}\""),
            secret,
        ),
    ] {
        let edited = if bad.contains("ad_join_password") {
            plan.replacen(
                "security_group_ids",
                &format!("ad_join_password = \"{secret}\"\nsecurity_group_ids"),
                1,
            )
        } else {
            plan.replacen(line, &bad, 1)
        };
        assert_ne!(edited, plan);
        std::fs::write(s.path("plan.toml"), &edited).unwrap();
        for args in [
            &["run", "plan.toml", "--yes"][..],
            &["status", "plan.toml"],
            &["run", "plan.toml", "--dry-run"],
        ] {
            let out = s.run(args);
            assert_exit(&out, 1, "password source");
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(!all.contains(secret), "the secret was printed:\n{all}");
        }
    }
    s.assert_world_untouched();
}

#[test]
fn a_directory_or_junk_given_as_a_plan_is_a_user_error() {
    let s = Setup::new();
    std::fs::create_dir(s.path("dir.toml")).unwrap();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    std::fs::write(s.path("junk.toml"), &junk).unwrap();
    std::fs::write(s.path("nul.toml"), b"\0\0\0\x01 = 2\n").unwrap();
    for plan in ["dir.toml", "junk.toml", "nul.toml"] {
        for command in [
            &["run", plan, "--yes"][..],
            &["run", plan, "--dry-run"],
            &["resume", plan, "--yes"],
            &["status", plan],
        ] {
            let out = s.run(command);
            assert_exit(&out, 1, plan);
        }
    }
    let out = s.run(&["status", "dir.toml"]);
    assert_exit(&out, 1, "is a directory");
    s.assert_world_untouched();
}

#[test]
fn a_huge_plan_file_is_refused_by_its_size_and_errors_stay_short() {
    let s = Setup::new();
    std::fs::write(s.path("huge.toml"), vec![b'x'; 3 << 20]).unwrap();
    for command in [&["run", "huge.toml", "--yes"][..], &["status", "huge.toml"]] {
        let out = s.run(command);
        assert_exit(&out, 1, "is 3.1 MB; a plan is a few KB");
        assert!(out.stderr.len() < 1000, "{} bytes of error", out.stderr.len());
    }
    // Under the size limit, a long bad line still prints a short error.
    s.edit_plan("ttl = 60", &format!("ttl = \"{}\"", "9".repeat(200_000)));
    let out = s.run(&["status", "plan.toml"]);
    assert_exit(&out, 1, "dns.ttl");
    assert!(out.stderr.len() < 2000, "{} bytes of error", out.stderr.len());
    let plan = s.read("plan.toml");
    std::fs::write(s.path("plan.toml"), format!("{}\n{}", "y".repeat(500_000), plan)).unwrap();
    let out = s.run(&["status", "plan.toml"]);
    assert_exit(&out, 1, "line 1");
    assert!(out.stderr.len() < 2000, "{} bytes of error", out.stderr.len());
}

// ---- plan --inventory -----------------------------------------------------------------------------------------

/// A share of 2,210 files: /Projects (over a 2,000-entry budget, so split), /Home, and /$RECYCLE.BIN (excluded).
const INVENTORY: &str = "path,depth,files,directories,bytes,errors\n\
    /,0,2210,6,2317352960,0\n\
    /Projects,1,1500,3,1572864000,0\n\
    /Projects/A,2,700,0,734003200,0\n\
    /Projects/B,2,500,0,524288000,0\n\
    /Projects/C,2,290,0,304087040,0\n\
    /Home,1,600,0,629145600,0\n\
    /$RECYCLE.BIN,1,100,0,104857600,0\n";

#[test]
fn plan_with_an_inventory_writes_lanes_that_read_back() {
    let s = Setup::bare();
    std::fs::write(s.path("share.csv"), INVENTORY).unwrap();
    let out = s.plan_with(
        "fxm-cli",
        &[
            "--inventory",
            "share.csv",
            "--entries-per-execution",
            "2000",
            "--max-parallel-tasks",
            "6",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = s.read("plan.toml");
    let lanes = &plan[plan.find("# Lanes run at once").unwrap()..plan.find("[sync]").unwrap()];
    let notes: String = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("note:"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::with_settings!({filters => vec![(r#"modified_at = "[^"]*""#, r#"modified_at = "[mtime]""#)]}, {
        insta::assert_snapshot!("plan_inventory", format!("{notes}\n{lanes}"));
    });
    let file = fsx_migrate::plan::file::PlanFile::load(&s.path("plan.toml")).expect("the plan loads");
    let transfer = &file.intent.transfer;
    let includes: Vec<&[String]> = transfer.lanes.iter().map(|l| l.includes.as_slice()).collect();
    assert_eq!(
        includes,
        [["/Projects/A"], ["/Home"], ["/Projects/B"], ["/Projects/C"]]
    );
    assert_eq!(transfer.max_parallel_tasks, Some(6));
    assert_eq!(transfer.entries_per_execution, Some(2000));
    let inventory = transfer.inventory.as_ref().unwrap();
    assert_eq!(
        (inventory.file.as_str(), inventory.rest_entries),
        ("share.csv", 22)
    );
    assert!(inventory.modified_at.is_some());
    // JSON output carries the notes and the lanes.
    let out = s.plan_with(
        "fxm-cli",
        &[
            "--inventory",
            "share.csv",
            "--entries-per-execution",
            "2000",
            "--force",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("lanes plus the rest lane"),
        "{report}"
    );
    assert_eq!(
        report["intent"]["transfer"]["lanes"][0]["includes"][0],
        "/Projects/A"
    );
}

#[test]
fn plan_without_an_inventory_says_what_one_lane_costs() {
    let s = Setup::bare();
    let out = s.plan_with("fxm-cli", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note: no inventory: one DataSync task"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/inventory.ps1"), "{stderr}");
    let plan = s.read("plan.toml");
    assert!(plan.contains("# max_parallel_tasks = 24") && !plan.contains("[[transfer.lanes]]"));
    let out = s.plan_with("fxm-cli", &["--max-parallel-tasks", "4"]);
    assert_eq!(out.status.code(), Some(2), "clap: needs --inventory");
}

#[test]
fn plan_refuses_a_bad_inventory_or_one_that_cannot_be_split_and_writes_nothing() {
    let deep = "path,depth,files,directories,bytes\n/,0,2000,2,0\n/Big,1,2000,1,0\n";
    let cases: [(&str, &[&str], &str); 5] = [
        (
            &INVENTORY.replace("/Home,1,600", "/Home,1,-600"),
            &[],
            "line 7: files is \"-600\", not a whole number",
        ),
        (
            INVENTORY,
            &["--entries-per-execution", "30000000"],
            "--entries-per-execution",
        ),
        (INVENTORY, &["--max-parallel-tasks", "0"], "--max-parallel-tasks"),
        (deep, &["--entries-per-execution", "2000"], "-Depth 2"),
        (
            INVENTORY,
            &["--entries-per-execution", "2000", "--max-parallel-tasks", "2"],
            "do not fit max_parallel_tasks = 2 executions",
        ),
    ];
    for (csv, extra, needle) in cases {
        let s = Setup::bare();
        std::fs::write(s.path("share.csv"), csv).unwrap();
        let mut args = vec!["--inventory", "share.csv"];
        args.extend_from_slice(extra);
        let out = s.plan_with("fxm-cli", &args);
        assert_exit(&out, 1, needle);
        assert!(!s.path("plan.toml").exists(), "a plan was written for {extra:?}");
    }
    let s = Setup::bare();
    let out = s.plan_with("fxm-cli", &["--inventory", "missing.csv"]);
    assert_exit(&out, 1, "missing.csv");
}

#[test]
fn compare_puts_the_plan_beside_one_lane_a_naive_runbook_and_backup_and_restore() {
    let s = Setup::new();
    let before = s.read("plan.toml");
    let out = s.run(&["compare", "plan.toml", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["this plan", "one lane", "naive runbook", "backup and restore"]
    );
    for row in rows.as_array().unwrap() {
        assert!(row["downtime_secs"].as_u64().unwrap() > 0, "{row}");
        assert!(
            row["total_secs"].as_u64().unwrap() >= row["downtime_secs"].as_u64().unwrap(),
            "{row}"
        );
    }
    assert!(
        rows[3]["note"]
            .as_str()
            .unwrap()
            .contains("cannot make the Multi-AZ")
    );
    // Users are frozen for the whole copy when a new file system is filled in one go.
    assert!(rows[3]["downtime_secs"].as_u64() > rows[0]["downtime_secs"].as_u64());
    let text_out = text(&s.run(&["compare", "plan.toml"]).stdout);
    assert!(text_out.contains("naive runbook"), "{text_out}");
    // A comparison is a forecast: nothing was created and the plan did not change.
    assert_eq!(s.read("plan.toml"), before);
    s.assert_world_untouched();
}

/// The CNAME users resolve, from `sim show`.
fn users_record(world: &serde_json::Value) -> &serde_json::Value {
    world["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == format!("{RECORD}."))
        .unwrap()
}

#[test]
fn rollback_after_a_day_on_the_target_copies_it_back_swaps_back_and_loses_nothing() {
    let s = Setup::new();
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Rolling back before anything was swapped is refused; here the swap is done, so users now work on the
    // target: let a day of their writes pass (the world's clock stands still between processes).
    let path = s.path("w.json");
    let mut world: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let now: jiff::Timestamp = world["last_seen"].as_str().unwrap().parse().unwrap();
    world["last_seen"] = serde_json::json!((now + jiff::SignedDuration::from_hours(24)).to_string());
    std::fs::write(&path, serde_json::to_string_pretty(&world).unwrap()).unwrap();

    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nobody to confirm: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("rollback"), "{}", text(&out.stderr));
    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let w = s.world_json();
    let acc = &w["accounting"];
    assert!(acc["target_writes_total"].as_u64().unwrap() > 0, "{acc}");
    assert!(acc["swap_back_at"].is_string(), "{acc}");
    assert_eq!(acc["writes_lost_at_swap_back"], 0, "{acc}");
    assert_eq!(acc["violations"].as_array().unwrap().len(), 0, "{acc}");
    assert_eq!(acc["executions_by_kind"]["reverse"], 1, "{acc}");
    let record = users_record(&w);
    assert_eq!(
        record["values"][0], w["source"]["dns_name"],
        "the record is back on the source"
    );
    assert_eq!(record["ttl"], 300, "with its TTL from before the migration");
    let frozen_tag = &w["source"]["settings"]["tags"]["fsx-migrate:frozen-by"];
    assert!(frozen_tag.is_null(), "the source is unfrozen: {frozen_tag}");

    // The evidence report tells the rollback too.
    let report = text(&s.run(&["report", "plan.toml"]).stdout);
    assert!(report.contains("## Rollback"), "{report}");
    assert!(report.contains("copied back (reverse syncs)"), "{report}");
    assert!(
        report.contains("| rollback |"),
        "the approval is listed: {report}"
    );

    // Done is done: rolling back again changes nothing.
    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.world_json()["accounting"]["executions_by_kind"]["reverse"], 1);
}

#[test]
fn rollback_before_the_swap_is_refused_and_changes_nothing() {
    let s = Setup::new();
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "cutover_gate",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let before = s.world_json()["accounting"]["api_calls_total"].clone();
    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing to roll back"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        s.world_json()["accounting"]["api_calls_total"],
        before,
        "no call was made"
    );
}

// ---- status and report ------------------------------------------------------------------------------------

/// Text with this machine's host name replaced, so snapshots hold on any machine.
fn without_host(text: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    match host.trim() {
        "" => text.to_string(),
        host => text.replace(host, "[host]"),
    }
}

/// `status PLAN` (text), its exit code, and the JSON status.
fn status_of(s: &Setup) -> (String, i32, serde_json::Value) {
    let out = s.run(&["status", "plan.toml"]);
    let json = s.run(&["status", "plan.toml", "--output", "json"]);
    assert_eq!(json.status.code(), out.status.code(), "{}", text(&json.stderr));
    let value = serde_json::from_slice(&json.stdout).unwrap();
    (
        without_host(&text(&out.stdout)),
        out.status.code().unwrap(),
        value,
    )
}

/// The status's first block: the plan, the state and why, the phase and the ETA.
fn state_block(status: &str) -> String {
    status
        .lines()
        .take_while(|l| !l.is_empty() && !l.starts_with("Lane "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn status_says_waiting_at_the_gate_then_done_and_the_report_has_the_evidence() {
    let s = Setup::new();
    let (status, code, json) = status_of(&s);
    assert_eq!(code, 13, "not started: {status}");
    assert_eq!(json["state"], "not_started");
    let max = |args: &[&str]| {
        let mut all = vec!["--sim-speed", "max"];
        all.extend_from_slice(args);
        s.run(&all)
    };
    let out = max(&["run", "plan.toml", "--yes", "--until", "cutover_gate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Without --yes and without a terminal nobody opens the gate: the run waits for an operator.
    let out = max(&["resume", "plan.toml"]);
    assert_exit(&out, 1, "--sim w.json --sim-speed max run plan.toml");
    let (status, code, json) = status_of(&s);
    assert_eq!(code, 11, "waiting: {status}");
    assert_eq!(json["state"], "waiting_for_operator");
    assert_eq!(json["waiting_for"], "cutover_gate");
    assert_eq!(json["exit_code"], 11);
    assert_eq!(
        json["run"]["operator"].as_str().map(without_host).as_deref(),
        Some("ops@[host]")
    );
    assert_eq!(json["run"]["ended"]["state"], "waiting_for_operator");
    assert!(json["eta"]["dns_in_sync_at"].is_null(), "no freeze yet");
    insta::assert_snapshot!("status_waiting_at_the_gate", state_block(&status));
    let out = max(&["resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (status, code, json) = status_of(&s);
    assert_eq!(code, 0, "done: {status}");
    assert_eq!(json["state"], "done");
    assert!(status.contains("State: done"), "{status}");

    let markdown = s.run(&["report", "plan.toml"]);
    assert_eq!(markdown.status.code(), Some(0), "{}", text(&markdown.stderr));
    insta::assert_snapshot!("report_markdown", without_host(&text(&markdown.stdout)));
    let json = s.run(&["report", "plan.toml", "--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let decisions: Vec<&str> = value["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["billable_confirmation", "cutover_gate"]);
    assert_eq!(value["data_check"]["passed"], true);
    assert_eq!(
        value["dns_change"]["new_value"], value["target_dns_name"],
        "the record now names the target"
    );
    insta::assert_snapshot!("report_json", without_host(&text(&json.stdout)));
}

#[test]
fn status_names_the_process_driving_the_plan_then_why_it_stopped() {
    let s = Setup::new();
    // At real-time speed the target takes 45 minutes: the run is alive while status looks.
    let child = bin()
        .current_dir(s.dir.path())
        .args(["--sim", "w.json", "--sim-speed", "1", "run", "plan.toml", "--yes"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !s.read("plan.toml").contains("phase = \"wait_target\"") || !s.path("plan.toml.run.json").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached wait_target"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (status, code, json) = status_of(&s);
    assert_eq!(code, 10, "running: {status}");
    assert_eq!(json["state"], "running");
    assert_eq!(json["run"]["pid"], child.id());
    assert!(json["run"]["heartbeat_at"].is_string());
    let redactions = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
        (r"pid \d+", "pid [pid]"),
    ];
    insta::with_settings!({filters => redactions.clone()}, {
        insta::assert_snapshot!("status_running", state_block(&status));
    });
    signal(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 3, "--sim w.json --sim-speed 1 resume plan.toml");
    let (status, code, json) = status_of(&s);
    assert_eq!(code, 12, "stopped: {status}");
    assert_eq!(json["state"], "stopped");
    assert!(
        json["hints"][0]
            .as_str()
            .unwrap()
            .contains("fsx-migrate --sim w.json --sim-speed 1 resume plan.toml")
    );
    insta::with_settings!({filters => redactions}, {
        insta::assert_snapshot!("status_stopped", state_block(&status));
    });
}

#[test]
fn a_manual_freeze_is_confirmed_with_confirm_frozen_never_with_yes_and_who_is_recorded() {
    let s = Setup::new();
    s.set_line("freeze = ", "freeze = \"manual\"");
    s.set_line("freeze_command = ", "");
    s.set_line("unfreeze_command = ", "");
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--confirm-frozen"),
        "the hint names the flag: {stderr}"
    );
    let prompt = &stderr[stderr.find("Error:").expect("an error block")..];
    insta::assert_snapshot!("manual_freeze_without_a_terminal", prompt);
    assert_eq!(
        s.world_json()["accounting"]["writes_during_freeze"],
        serde_json::Value::Null
    );
    let out = s.run(&[
        "--sim-speed",
        "max",
        "resume",
        "plan.toml",
        "--yes",
        "--confirm-frozen",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let acc = &s.world_json()["accounting"];
    assert_eq!(acc["writes_lost_at_swap"], 0, "{acc}");
    assert!(
        s.read("plan.toml").contains("frozen_by = "),
        "the confirmation is recorded"
    );
}

#[test]
fn postpone_parks_the_run_at_the_gate_with_its_own_exit_code_and_resume_continues() {
    let s = Setup::new();
    let out = s.run(&["postpone", "plan.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(s.path("plan.toml.postpone").exists());
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(5), "parked: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("parked at the cutover gate"), "{stderr}");
    assert!(
        stderr.contains("resume plan.toml"),
        "the hint names resume: {stderr}"
    );
    assert_eq!(
        s.world_json()["accounting"]["freeze_at"],
        serde_json::Value::Null,
        "nothing frozen"
    );
    let status = run_in(s.dir.path(), &["status", "plan.toml"]);
    assert_eq!(
        status.status.code(),
        Some(11),
        "status says waiting: {}",
        text(&status.stdout)
    );
    assert!(
        text(&status.stdout).contains("Parked at the cutover gate"),
        "{}",
        text(&status.stdout)
    );
    // `run --yes` never carries a parked run past the gate.
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let out = s.run(&["--sim-speed", "max", "resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !s.path("plan.toml.postpone").exists(),
        "resume removed the flag file"
    );
    assert_eq!(s.world_json()["accounting"]["writes_lost_at_swap"], 0);
}

#[test]
fn the_event_hook_hears_every_phase_the_gate_and_the_end_and_a_failing_hook_is_not_fatal() {
    let s = Setup::new();
    let plan = s.read("plan.toml");
    let hook = "[hooks]\non_event = \"cat >> events.jsonl; echo >> events.jsonl; exit 3\"\n";
    let marker = plan.find("\n# Event hook").expect("the plan documents the hook");
    std::fs::write(
        s.path("plan.toml"),
        format!("{}\n{hook}{}", &plan[..marker], &plan[marker..]),
    )
    .unwrap();
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a failing hook is not fatal: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("event hook failed"),
        "and it is logged"
    );
    let events: Vec<serde_json::Value> = s
        .read("events.jsonl")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let phases: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "phase_entered")
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            "preflight",
            "create_target",
            "wait_target",
            "prepare_transfer",
            "initial_sync",
            "lower_ttl",
            "incremental_sync",
            "cutover_gate",
            "freeze",
            "final_sync",
            "dns_swap",
            "dns_wait",
            "complete"
        ]
    );
    assert!(kinds.contains(&"gate"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"completed"), "{kinds:?}");
    assert!(
        events
            .iter()
            .all(|e| e["plan_id"] == "fxm-cli" && e["at"].is_string())
    );
}

#[test]
fn abort_after_the_freeze_unfreezes_the_source_puts_the_ttl_back_and_after_the_swap_is_refused() {
    let s = Setup::new();
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "final_sync",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let w = s.world_json();
    assert!(
        w["source"]["settings"]["tags"]["fsx-migrate:frozen-by"].is_string(),
        "frozen"
    );
    let out = s.run(&["--sim-speed", "max", "abort", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Aborted before the cutover"),
        "{}",
        text(&out.stdout)
    );
    let w = s.world_json();
    assert!(
        w["source"]["settings"]["tags"]["fsx-migrate:frozen-by"].is_null(),
        "unfrozen"
    );
    assert!(
        w["source_writes_resumed_at"].is_string(),
        "users write to the source again"
    );
    let record = users_record(&w);
    assert_eq!(record["values"][0], w["source"]["dns_name"]);
    assert_eq!(record["ttl"], 300, "the TTL from before the migration");
    assert_eq!(w["accounting"]["violations"].as_array().unwrap().len(), 0);
    let status = run_in(s.dir.path(), &["status", "plan.toml"]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "aborted is done: {}",
        text(&status.stdout)
    );

    let swapped = Setup::new();
    let out = swapped.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = swapped.run(&["--sim-speed", "max", "abort", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("rollback"), "{}", text(&out.stderr));
}

#[test]
fn without_a_terminal_each_lanes_progress_is_logged_in_words_never_as_zero_counts() {
    let s = Setup::new();
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("lane all initial: "))
        .collect();
    assert!(
        lines.len() >= 3,
        "a line every few minutes of the initial sync: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TRANSFERRING |") && l.contains("ETA")),
        "{lines:?}"
    );
    // Before DataSync counts anything, the line says how long it has been listing, not "0/0 files".
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("LAUNCHING") || l.contains("PREPARING"))
            .all(|l| l.contains(" for ")),
        "{lines:?}"
    );
    assert!(!stderr.contains("0/0 files"), "{stderr}");
}

#[test]
fn the_prompts_a_run_without_a_terminal_stops_at_say_what_they_ask_and_how_to_answer() {
    let s = Setup::new();
    let error_block = |out: &Output| {
        let stderr = text(&out.stderr);
        stderr[stderr.find("Error:").expect("an error block")..].to_string()
    };
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    insta::assert_snapshot!("prompt_billable", error_block(&out));
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "cutover_gate",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.run(&["--sim-speed", "max", "resume", "plan.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    insta::assert_snapshot!("prompt_gate", error_block(&out));
    let out = s.run(&["--sim-speed", "max", "resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    insta::assert_snapshot!("prompt_rollback", error_block(&out));
}

#[test]
fn abort_with_delete_resources_deletes_what_the_plan_created_and_never_the_source() {
    let s = Setup::new();
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "incremental_sync",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // An abort keeps everything, and says how to delete it.
    let out = s.run(&["--sim-speed", "max", "abort", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("abort --delete-resources plan.toml"),
        "{}",
        text(&out.stdout)
    );
    let w = s.world_json();
    assert_eq!(w["targets"].as_array().unwrap().len(), 1);
    assert_eq!(w["datasync"]["tasks"], 1);

    // Deleting asks first; without a terminal, nobody answers.
    let out = s.run(&["--sim-speed", "max", "abort", "plan.toml", "--delete-resources"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    insta::assert_snapshot!(
        "prompt_delete_resources",
        stderr[stderr.find("Error:").expect("an error block")..].to_string()
    );
    assert_eq!(s.world_json()["datasync"]["tasks"], 1, "nothing deleted unasked");

    let out = s.run(&[
        "--sim-speed",
        "max",
        "abort",
        "plan.toml",
        "--delete-resources",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Deleted what this plan created"), "{stdout}");
    let w = s.world_json();
    assert_eq!(w["targets"].as_array().unwrap().len(), 0, "the target is gone");
    assert_eq!(w["datasync"]["tasks"], 0);
    assert_eq!(w["datasync"]["locations"], 0);
    assert_eq!(w["source"]["lifecycle"], "AVAILABLE", "the source is kept");
    assert_eq!(w["accounting"]["violations"].as_array().unwrap().len(), 0);
    let record = users_record(&w);
    assert_eq!(record["values"][0], w["source"]["dns_name"]);
    let plan = std::fs::read_to_string(s.dir.path().join("plan.toml")).unwrap();
    assert!(plan.contains("[checkpoint.abort.deletion]"), "{plan}");

    // Again: nothing left to do, and it says what was deleted.
    let out = s.run(&[
        "--sim-speed",
        "max",
        "abort",
        "plan.toml",
        "--delete-resources",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Deleted what this plan created"));

    // The evidence names who aborted, who asked for the deletion, and what was deleted.
    let report = run_in(s.dir.path(), &["report", "plan.toml", "--format", "json"]);
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let deletion = &report["abort"]["deletion"];
    assert_eq!(deletion["deleted"].as_array().unwrap().len(), 4, "{deletion}");
    let decisions: Vec<&str> = report["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["decision"].as_str().unwrap())
        .collect();
    assert!(
        decisions.contains(&"abort") && decisions.contains(&"delete_resources"),
        "{decisions:?}"
    );
}

impl Setup {
    /// The plan freezes through SSM on a Windows instance instead of a command.
    fn use_ssm_freeze(&self) {
        let plan = self.read("plan.toml");
        let plan: String = plan
            .lines()
            .filter(|l| !l.starts_with("freeze_command") && !l.starts_with("unfreeze_command"))
            .map(|l| format!("{l}\n"))
            .collect();
        let plan = plan
            .replacen("freeze = \"command\"", "freeze = \"ssm\"", 1)
            .replacen(
                "# [windows]\n# ssm_instance_id = \"i-0123456789abcdef0\"",
                "[windows]\nssm_instance_id = \"i-0123456789abcdef0\"",
                1,
            );
        assert!(plan.contains("[windows]"), "{plan}");
        std::fs::write(self.path("plan.toml"), plan).unwrap();
    }

    /// The SSM commands the simulated instance received.
    fn ssm_commands(&self) -> Vec<serde_json::Value> {
        let world: serde_json::Value = serde_json::from_str(&self.read("w.json")).unwrap();
        world["ssm_commands"].as_array().cloned().unwrap_or_default()
    }
}

#[test]
fn an_ssm_freeze_runs_the_scripts_on_the_instance_and_a_rollback_puts_back_what_the_freeze_recorded() {
    let s = Setup::new();
    s.use_ssm_freeze();
    let out = s.run(&["--sim-speed", "max", "run", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let w = s.world_json();
    assert_eq!(w["accounting"]["violations"].as_array().unwrap().len(), 0);
    let commands = s.ssm_commands();
    let scripts: Vec<&str> = commands.iter().map(|c| c["script"].as_str().unwrap()).collect();
    assert_eq!(
        scripts,
        ["export", "apply", "export", "freeze"],
        "the shares are copied before the gate, then the freeze"
    );
    let freeze = &commands[3];
    assert_eq!(freeze["instance_id"], "i-0123456789abcdef0");
    assert_eq!(
        freeze["endpoint"], w["source"]["remote_administration_endpoint"],
        "the source's PowerShell endpoint"
    );
    let plan = s.read("plan.toml");
    assert!(plan.contains("[[checkpoint.powershell]]"), "{plan}");
    assert!(plan.contains("status = \"Success\""), "{plan}");
    assert!(
        text(&out.stderr).contains("frozen: 3 share permission(s) made read-only"),
        "{}",
        text(&out.stderr)
    );
    let report = text(&s.run(&["report", "plan.toml"]).stdout);
    assert!(report.contains("## Shares and in-server settings"), "{report}");
    assert!(
        report.contains("| created on the target | finance, projects |"),
        "{report}"
    );
    assert!(report.contains("| left to a person | FSRM quotas"), "{report}");
    let json: serde_json::Value =
        serde_json::from_slice(&s.run(&["report", "plan.toml", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["shares"]["updated"][0], "share");

    let out = s.run(&["--sim-speed", "max", "rollback", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let commands: Vec<serde_json::Value> = s
        .ssm_commands()
        .into_iter()
        .filter(|c| c["script"] == "freeze" || c["script"] == "unfreeze")
        .collect();
    let scripts: Vec<(&str, &str)> = commands
        .iter()
        .map(|c| (c["script"].as_str().unwrap(), c["endpoint"].as_str().unwrap()))
        .collect();
    let w = s.world_json();
    let source = w["source"]["remote_administration_endpoint"].as_str().unwrap();
    assert_eq!(scripts.len(), 3, "{scripts:?}");
    assert_eq!(scripts[0], ("freeze", source));
    assert_eq!(scripts[1].0, "freeze");
    assert_ne!(scripts[1].1, source, "the rollback freezes the target");
    assert_eq!(scripts[2], ("unfreeze", source));
    let shares: serde_json::Value =
        serde_json::from_str(commands[2]["shares_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        shares[0]["name"], "share",
        "the permissions the source's freeze recorded: {shares}"
    );
    assert_eq!(shares[0]["access"][0]["right"], "Change");
    assert_eq!(w["accounting"]["violations"].as_array().unwrap().len(), 0);
}

#[test]
fn windows_script_prints_the_freeze_ssm_would_run_and_the_unfreeze_needs_the_recorded_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "windows-script",
            "freeze",
            "--endpoint",
            "amznfsxa1b2c3d4.corp.example.com",
            "--keep-account",
            "CORP\\svc-datasync",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.starts_with("& {\n"), "{script}");
    assert!(
        script.contains("Revoke-FSxSmbShareAccess"),
        "the whole freeze.ps1"
    );
    assert!(
        script
            .ends_with("} -Endpoint 'amznfsxa1b2c3d4.corp.example.com' -KeepAccounts 'CORP\\svc-datasync'\n"),
        "{}",
        &script[script.len() - 100..]
    );

    let out = run_in(
        dir.path(),
        &[
            "windows-script",
            "unfreeze",
            "--endpoint",
            "amznfsxa1b2c3d4.corp.example.com",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--shares-json"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        dir.path().join("result.json"),
        r#"{"shares":[{"name":"share","path":"D:\\share","access":[]}],"changed":1,"sessions_left":0}"#,
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "windows-script",
            "unfreeze",
            "--endpoint",
            "amznfsxa1b2c3d4.corp.example.com",
            "--shares-json",
            "result.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("-SharesJson @'\n{\"shares\""),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn windows_script_logon_prints_the_share_user_and_secret_never_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "windows-script",
        "logon",
        "--endpoint",
        "amznfsxa1b2c3d4.corp.example.com",
    ];
    let out = run_in(dir.path(), &args);
    assert_exit(&out, 1, "logon needs the DataSync user and the secret");
    args.extend([
        "--user-name",
        "CORP\\svc-datasync",
        "--secret-id",
        "datasync-pw",
        "--folder",
        "/finance",
    ]);
    let out = run_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("Get-SECSecretValue"), "the whole logon.ps1");
    assert!(
        script.ends_with(
            "} -Share '\\\\amznfsxa1b2c3d4.corp.example.com\\share' -UserName 'CORP\\svc-datasync' -SecretId 'datasync-pw' -Folders '/finance'\n"
        ),
        "{}",
        &script[script.len() - 150..]
    );
}

#[test]
fn an_abort_after_an_ssm_freeze_puts_back_the_permissions_the_freeze_recorded() {
    let s = Setup::new();
    s.use_ssm_freeze();
    let out = s.run(&[
        "--sim-speed",
        "max",
        "run",
        "plan.toml",
        "--yes",
        "--until",
        "final_sync",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.run(&["--sim-speed", "max", "abort", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let commands = s.ssm_commands();
    let scripts: Vec<&str> = commands.iter().map(|c| c["script"].as_str().unwrap()).collect();
    assert_eq!(scripts, ["export", "apply", "export", "freeze", "unfreeze"]);
    let shares: serde_json::Value =
        serde_json::from_str(commands[4]["shares_json"].as_str().unwrap()).unwrap();
    assert_eq!(shares[0]["access"][0]["account"], "Everyone");
    let w = s.world_json();
    assert!(
        w["source_writes_resumed_at"].is_string(),
        "users write to the source again"
    );
    assert_eq!(w["accounting"]["violations"].as_array().unwrap().len(), 0);
}

/// With `--ssm-instance-id`, `plan` reads the source's shares (export.ps1 through SSM, read-only) and names a
/// share the plan's copy would not carry, days before the copy of shares would stop the run for it.
#[test]
fn plan_names_a_share_the_copy_would_not_carry() {
    let s = Setup::bare();
    let source = s.world_json()["source"]["remote_administration_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let mut service = serde_json::to_value(fsx_migrate::sim::world::default_source_service()).unwrap();
    let mut home = service["shares"][0].clone();
    home["name"] = "home$".into();
    home["path"] = "D:\\home".into();
    service["shares"].as_array_mut().unwrap().push(home);
    edit_world(&s, |w| {
        w["file_services"] = serde_json::json!({ source: service })
    });
    let out = s.plan_windows();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("share home$ (D:\\home): it is outside D:\\share, the folder the plan copies: the plan's copy does not carry it"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("share finance"),
        "finance is inside the copied folder: {stderr}"
    );
    assert!(s.read("plan.toml").contains("[windows]"));
}

/// `plan --name-provider ad-dns` reads the record where it lives (no Route 53 zone needed), writes a plan
/// that says so, and the dry run lists dns.ps1 through SSM where a Route 53 plan lists ChangeResourceRecordSets.
#[test]
fn plan_with_the_record_in_ad_dns_and_its_dry_run() {
    let s = Setup::bare();
    let out = s.plan_sim(
        "plan.toml",
        &[
            "--name-provider",
            "ad-dns",
            "--zone-name",
            "corp.example.com",
            "--dns-server",
            "dc1.corp.example.com",
            "--dns-server",
            "dc2.corp.example.com",
            "--ssm-instance-id",
            "i-0123456789abcdef0",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = s.read("plan.toml");
    assert!(plan.contains("provider = \"ad_dns\""), "{plan}");
    assert!(
        plan.contains("dns_servers = [\"dc1.corp.example.com\", \"dc2.corp.example.com\"]"),
        "{plan}"
    );
    let dry = s.run(&["run", "plan.toml", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let listing = text(&dry.stdout);
    assert!(
        listing.contains("dns.ps1 -Action Set -Name files.corp.example.com"),
        "{listing}"
    );
    assert!(!listing.contains("route53:ChangeResourceRecordSets"), "{listing}");

    // Without its zone and servers the provider is refused before anything is read.
    let out = s.plan_sim("other.toml", &["--name-provider", "ad-dns"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--zone-name"), "{}", text(&out.stderr));
}

#[test]
fn check_proves_the_datasync_user_after_the_tasks_exist_and_refuses_before() {
    let setup = Setup::new();
    let before = setup.read("plan.toml");
    let out = setup.fast(&["check", "plan.toml"]);
    assert_exit(
        &out,
        1,
        "nothing checked: the plan's DataSync tasks do not exist yet",
    );
    assert_exit(&out, 1, "run --until initial_sync plan.toml");
    assert_exit(&out, 1, "the DataSync password in Secrets Manager");
    assert_eq!(setup.read("plan.toml"), before, "a refused check wrote nothing");

    let out = setup.fast(&["run", "plan.toml", "--yes", "--until", "initial_sync"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = setup.fast(&["check", "plan.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("check_passed", text(&out.stdout));
    assert_eq!(setup.executions_of("check"), 1);
    let status = run_in(setup.dir.path(), &["status", "plan.toml"]);
    let said = text(&status.stdout);
    assert!(said.contains("Check (DataSync user): passed at"), "{said}");
    // The check moved nothing: status still says how the last run stopped and what continues it.
    assert!(said.contains("Stopped before initial_sync as asked"), "{said}");
    assert!(setup.read("plan.toml").contains("[[checkpoint.access_checks]]"));

    // The migration goes on as if no check had run, and the report shows the check.
    let out = setup.fast(&["resume", "plan.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(setup.executions_of("initial"), 1);
    let report = setup.fast(&["report", "plan.toml"]);
    assert!(text(&report.stdout).contains("## Access checks (`fsx-migrate check`)"));
    let out = setup.fast(&["check", "plan.toml"]);
    assert_exit(&out, 1, "the migration is done");
    assert_eq!(setup.executions_of("check"), 1);
}

/// With `[windows]`, `check` reads the source's shares first (export.ps1, read-only) and probes each share's
/// folder under the copied one too.
#[test]
fn check_with_windows_probes_every_share_folder() {
    let s = Setup::bare();
    let out = s.plan_windows();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.fast(&["run", "plan.toml", "--yes", "--until", "initial_sync"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = s.fast(&["check", "plan.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("and probed 2 folder(s) the lanes and the source's shares name"),
        "{}",
        text(&out.stdout)
    );
    let plan = s.read("plan.toml");
    assert!(
        plan.contains(r#"probes = ["/.fsx-migrate-check", "/finance/.fsx-migrate-check", "/projects/.fsx-migrate-check"]"#),
        "{plan}"
    );
    assert_eq!(s.executions_of("check"), 1);
}

/// Before the target exists, with `[windows]` and the password in Secrets Manager, `check` logs on to the
/// source's share as the DataSync user from the instance (logon.ps1): nothing billable, nothing written.
#[test]
fn check_before_the_target_logs_on_as_the_datasync_user() {
    let s = Setup::bare();
    let out = s.plan_windows_with_secret();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("note: the DataSync user corp.example.com\\svc-datasync logged on to \\\\amznfsx"),
        "plan logs on already: {}",
        text(&out.stderr)
    );
    let before = s.read("plan.toml");
    let out = s.fast(&["check", "plan.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Logon checked: corp.example.com\\svc-datasync logged on to \\\\amznfsx"),
        "{said}"
    );
    assert!(said.contains("listed its root and 2 folder(s)"), "{said}");
    assert!(said.contains("run --until initial_sync plan.toml"), "{said}");
    assert_eq!(s.read("plan.toml"), before, "the plan is untouched");
    let w = s.world_json();
    assert!(
        w["targets"].as_array().is_none_or(|t| t.is_empty()),
        "nothing billable"
    );
    // `sim show` leaves out the SSM commands: the world file has them.
    let w: serde_json::Value = serde_json::from_str(&s.read("w.json")).unwrap();
    let scripts: Vec<&str> = w["ssm_commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["script"].as_str())
        .collect();
    assert_eq!(
        scripts,
        ["export", "logon", "export", "logon"],
        "plan's, then check's"
    );

    edit_world(&s, |w| {
        w["datasync_logon_error"] = "The user name or password is incorrect.".into()
    });
    let out = s.fast(&["check", "plan.toml"]);
    assert_exit(&out, 1, "could not log on to");
    assert_exit(&out, 1, "The user name or password is incorrect.");
    assert_exit(&out, 1, "secretsmanager:GetSecretValue");
    // At plan time a refused logon is a warning: the plan is still written.
    std::fs::remove_file(s.path("plan.toml")).unwrap();
    let out = s.plan_windows_with_secret();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: the DataSync user could not log on to the source's share"),
        "{}",
        text(&out.stderr)
    );
}
