//! Lanes: the share split into several DataSync tasks that run in parallel, each converging on its own.
//! Driven step by step through the core (virtual time, no I/O) and end to end on the simulator.

use fsx_migrate::cloud::model::*;
use fsx_migrate::cloud::port::{Command, LANE_TAG, Response};
use fsx_migrate::core::lane::lane_tasks;
use fsx_migrate::core::{Action, Halt, Input, RunOptions, step};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::checkpoint::CHECKPOINT_SCHEMA;
use fsx_migrate::plan::intent::LaneSpec;
use fsx_migrate::plan::{Checkpoint, Intent, LaneState, Phase, PhaseEntry, SyncRecord};
use jiff::Timestamp;

use crate::support::*;

fn t0() -> Timestamp {
    "2026-12-01T08:00:00Z".parse().unwrap()
}

fn opts() -> RunOptions {
    RunOptions {
        ..RunOptions::default()
    }
}

/// The small world's plan split into `n` lanes (plus the rest lane), at most `parallel` at once.
async fn lanes_intent(port: &mut fsx_migrate::sim::SimPort, n: usize, parallel: u32) -> Intent {
    let mut intent = intent_for(port, &plan_request()).await;
    intent.transfer.lanes = (1..=n)
        .map(|k| LaneSpec {
            name: format!("lane-{k:02}"),
            includes: vec![format!("/Dept{k}")],
            entries: None,
            bytes: None,
        })
        .collect();
    intent.transfer.max_parallel_tasks = Some(parallel);
    intent
}

/// A checkpoint at `phase` whose lanes all have their task.
fn at(intent: &Intent, phase: Phase) -> Checkpoint {
    Checkpoint {
        schema: CHECKPOINT_SCHEMA,
        phase: Some(phase),
        runs: 1,
        started_at: Some(t0()),
        intent_sha256: Some(intent.sha256()),
        intent_at_start: Some(intent.canonical_json()),
        target_file_system_id: Some("fs-target".into()),
        target_arn: Some("arn:aws:fsx:us-east-1:111122223333:file-system/fs-target".into()),
        target_dns_name: Some("amznfsxtarget.corp.example.com".into()),
        forward: fsx_migrate::plan::Leg {
            from_location_arn: Some("loc-s".into()),
            to_location_arn: Some("loc-t".into()),
            awaiting: None,
            lanes: lane_tasks(intent)
                .into_iter()
                .map(|t| LaneState {
                    task_arn: Some(format!("task-{}", t.name)),
                    ..LaneState::new(&t.name)
                })
                .collect(),
        },
        timeline: vec![PhaseEntry { phase, at: t0() }],
        ..Checkpoint::default()
    }
}

fn info(arn: &str, status: ExecutionStatus) -> ExecutionInfo {
    ExecutionInfo {
        arn: arn.into(),
        status,
        started_at: Some(t0()),
        counters: ExecutionCounters::default(),
        durations: PhaseDurations {
            prepare_ms: 60_000,
            transfer_ms: 0,
            verify_ms: 0,
            total_ms: 90_000,
        },
        error_code: None,
        error_detail: None,
    }
}

/// Answers lookups with nothing and starts with `exec-<task>`, until the core waits; returns the started
/// executions in order and the checkpoint.
fn start_all(i: &Intent, cp: Checkpoint, now: Timestamp) -> (Vec<String>, Checkpoint, Action) {
    let mut s = step(i, &cp, Input::Start, now, &opts());
    let mut started = Vec::new();
    for _ in 0..100 {
        let input = match &s.action {
            Action::Call(Command::FindExecution { .. }) => {
                Input::Response(Response::ExecutionCandidates(vec![]))
            }
            Action::Call(Command::StartExecution(req)) => {
                let arn = format!("exec-{}-{}", req.task_arn, started.len());
                started.push(req.task_arn.clone());
                Input::Response(Response::ExecutionStarted { arn })
            }
            _ => return (started, s.checkpoint, s.action),
        };
        s = step(i, &s.checkpoint, input, now, &opts());
    }
    panic!("no wait after 100 steps")
}

#[tokio::test]
async fn the_partition_is_every_lane_and_a_rest_lane_that_excludes_their_folders() {
    let mut port = sim(world("small"));
    let intent = lanes_intent(&mut port, 3, 24).await;
    let tasks = lane_tasks(&intent);
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["lane-01", "lane-02", "lane-03", "rest"]);
    assert_eq!(tasks[1].includes, ["/Dept2"]);
    let rest = &tasks[3];
    assert!(rest.includes.is_empty());
    for dept in ["/Dept1", "/Dept2", "/Dept3"] {
        assert!(rest.excludes.contains(&dept.to_string()));
    }
    // Every path lands in exactly one lane: the lanes' folders, root files, a folder created later.
    for path in [
        "/Dept1/a.docx",
        "/Dept3/x/y",
        "/root.txt",
        "/NewDept/f",
        "/Dept10/f",
    ] {
        let copying: Vec<&str> = tasks
            .iter()
            .filter(|t| task_copies(&t.includes, &t.excludes, path))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(copying.len(), 1, "{path} is copied by {copying:?}");
    }
    // Without a partition: one lane over everything.
    let mut whole = intent.clone();
    whole.transfer.lanes.clear();
    assert_eq!(lane_tasks(&whole)[0].name, "all");
}

#[tokio::test]
async fn each_lane_gets_its_own_task_with_its_filters_and_lane_tag() {
    let mut port = sim(world("small"));
    let intent = lanes_intent(&mut port, 2, 24).await;
    let (outcome, cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::InitialSync),
    )
    .await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::InitialSync)));
    let lanes: Vec<(&str, bool)> = cp
        .forward
        .lanes
        .iter()
        .map(|l| (l.name.as_str(), l.task_arn.is_some()))
        .collect();
    assert_eq!(lanes, [("lane-01", true), ("lane-02", true), ("rest", true)]);
    assert_eq!(port.world.tasks.len(), 3);
    for lane in &cp.forward.lanes {
        let task = port
            .world
            .tasks
            .iter()
            .find(|t| Some(&t.arn) == lane.task_arn.as_ref())
            .unwrap();
        assert_eq!(task.tags.get(LANE_TAG), Some(&lane.name));
    }
    // Found again by tag on a resume: no second task per lane.
    let (_, again) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::InitialSync),
    )
    .await;
    assert_eq!(port.world.tasks.len(), 3);
    assert_eq!(again.forward.lanes.len(), 3);
}

#[tokio::test]
async fn lanes_run_in_parallel_up_to_the_limit_and_a_freed_slot_starts_the_next() {
    let mut port = sim(world("small"));
    let i = lanes_intent(&mut port, 4, 3).await;
    let cp = at(&i, Phase::InitialSync);
    let (started, cp, action) = start_all(&i, cp, t0());
    assert_eq!(started, ["task-lane-01", "task-lane-02", "task-lane-03"]);
    let Action::WaitUntil { at, .. } = action else {
        panic!("{action:?}")
    };
    assert!(at > t0());
    assert_eq!(cp.forward.in_flight(), 3);

    // Lane 2 ends first; the others are still running: the freed slot goes to lane 4.
    let mut s = step(&i, &cp, Input::Woke, at, &opts());
    let mut ended = false;
    for _ in 0..20 {
        let input = match &s.action {
            Action::Call(Command::DescribeExecution { execution_arn }) => {
                let done = execution_arn.contains("lane-02");
                ended |= done;
                let status = if done {
                    ExecutionStatus::Success
                } else {
                    ExecutionStatus::Transferring
                };
                Input::Response(Response::Execution(info(execution_arn, status)))
            }
            Action::Call(Command::FindExecution { .. }) => {
                Input::Response(Response::ExecutionCandidates(vec![]))
            }
            Action::Call(Command::StartExecution(req)) => {
                assert_eq!(
                    req.task_arn, "task-lane-04",
                    "the freed slot goes to the next lane"
                );
                Input::Response(Response::ExecutionStarted {
                    arn: "exec-lane-04".into(),
                })
            }
            _ => break,
        };
        s = step(&i, &s.checkpoint, input, at, &opts());
    }
    assert!(ended);
    let running: Vec<&str> = s
        .checkpoint
        .forward
        .lanes
        .iter()
        .filter(|l| l.current.is_some())
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(running, ["lane-01", "lane-03", "lane-04"]);
    assert!(matches!(s.action, Action::WaitUntil { .. }), "{:?}", s.action);
    assert_eq!(s.checkpoint.phase, Some(Phase::InitialSync));
}

#[tokio::test]
async fn a_failed_lane_is_retried_alone() {
    let mut port = sim(world("small"));
    let mut i = lanes_intent(&mut port, 2, 24).await;
    i.sync.retry_failed_executions = 1;
    let (started, cp, action) = start_all(&i, at(&i, Phase::InitialSync), t0());
    assert_eq!(started.len(), 3);
    let Action::WaitUntil { at: wake, .. } = action else {
        panic!("{action:?}")
    };
    let mut s = step(&i, &cp, Input::Woke, wake, &opts());
    let mut restarted = Vec::new();
    for _ in 0..20 {
        let input = match &s.action {
            Action::Call(Command::DescribeExecution { execution_arn }) => {
                let status = if execution_arn.contains("lane-02") {
                    ExecutionStatus::Error
                } else {
                    ExecutionStatus::Transferring
                };
                Input::Response(Response::Execution(info(execution_arn, status)))
            }
            Action::Call(Command::FindExecution { task_arn, .. }) => {
                restarted.push(task_arn.clone());
                Input::Response(Response::ExecutionCandidates(vec![]))
            }
            Action::Call(Command::StartExecution(_)) => Input::Response(Response::ExecutionStarted {
                arn: "exec-lane-02-again".into(),
            }),
            _ => break,
        };
        s = step(&i, &s.checkpoint, input, wake, &opts());
    }
    assert_eq!(restarted, ["task-lane-02"], "only the failed lane starts again");
    let lane = s.checkpoint.forward.lane("lane-02").unwrap();
    assert_eq!(lane.syncs.len(), 1);
    assert_eq!(
        lane.current.as_ref().and_then(|c| c.execution_arn.as_deref()),
        Some("exec-lane-02-again")
    );
    for other in ["lane-01", "rest"] {
        let l = s.checkpoint.forward.lane(other).unwrap();
        assert!(l.syncs.is_empty() && l.current.is_some(), "{other} kept running");
    }
}

#[tokio::test]
async fn finals_start_at_the_freeze_within_the_limit_and_dns_waits_for_the_last_lane() {
    let mut port = sim(world("small"));
    let i = lanes_intent(&mut port, 3, 2).await;
    let mut cp = at(&i, Phase::FinalSync);
    cp.gate_opened_at = Some(t0());
    cp.freeze_requested_at = Some(t0());
    cp.frozen_at = Some(t0());
    // At the freeze every lane's final starts, whatever the limit on live runs.
    let (started, cp, action) = start_all(&i, cp, t0());
    assert_eq!(started.len(), 2, "max_parallel_tasks holds at the freeze too");
    assert!(matches!(action, Action::WaitUntil { .. }));
    // Finish lanes one by one: no swap until every lane's final succeeded.
    let mut s = fsx_migrate::core::Step {
        checkpoint: cp,
        action,
        events: vec![],
    };
    let mut now = t0();
    for _ in 0..200 {
        let input = match &s.action {
            Action::WaitUntil { at, .. } => {
                now = *at;
                Input::Woke
            }
            Action::Call(Command::DescribeExecution { execution_arn }) => {
                Input::Response(Response::Execution(info(execution_arn, ExecutionStatus::Success)))
            }
            Action::Call(Command::FindExecution { .. }) => {
                Input::Response(Response::ExecutionCandidates(vec![]))
            }
            Action::Call(Command::StartExecution(req)) => Input::Response(Response::ExecutionStarted {
                arn: format!("exec-{}-final", req.task_arn),
            }),
            _ => break,
        };
        if s.checkpoint.phase == Some(Phase::FinalSync) {
            assert!(s.checkpoint.dns_requested_at.is_none());
        }
        s = step(&i, &s.checkpoint, input, now, &opts());
    }
    assert_eq!(s.checkpoint.phase, Some(Phase::DnsSwap), "{:?}", s.action);
    let finals = s.checkpoint.finals_after_freeze();
    assert_eq!(finals.len(), 4, "one final per lane");
    assert!(finals.iter().all(|f| f.succeeded()));
}

#[tokio::test]
async fn a_partitioned_migration_completes_on_the_simulator_with_one_task_per_lane() {
    let mut port = sim(world("small"));
    let intent = lanes_intent(&mut port, 3, 24).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_eq!(port.world.tasks.len(), 4);
    for lane in &cp.forward.lanes {
        assert!(lane.last_success(SyncKind::Initial).is_some(), "{}", lane.name);
        assert_eq!(
            lane.runs_after(SyncKind::Final, cp.frozen_at.unwrap()).len(),
            1,
            "{}",
            lane.name
        );
    }
    assert_invariants(&port, &cp, true);
}

#[tokio::test]
async fn preflight_refuses_a_preferred_subnet_without_addresses_for_every_lanes_task() {
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let intent = lanes_intent(&mut port, 12, 24).await;
    let mut env = environment(&mut port, intent.inspect_request()).await;
    let preferred = intent.target.preferred_subnet_id.clone();
    // 13 tasks × 2 interfaces, plus the file system's 2 (the source is in this subnet too: × 2 sides).
    let needed = 2 + 13 * 2 * 2;
    for (free, refused) in [(needed - 1, true), (needed, false)] {
        for subnet in &mut env.subnets {
            subnet.available_ip_addresses = Some(if subnet.id == preferred { free } else { 2 });
        }
        let findings = preflight::check(&intent, &env);
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.message.contains("free IP addresses"))
            .collect();
        assert_eq!(!errors.is_empty(), refused, "{free} free: {findings:?}");
    }
    // The standby subnet only holds the file system's interfaces.
    for subnet in &mut env.subnets {
        subnet.available_ip_addresses = Some(if subnet.id == preferred { needed } else { 1 });
    }
    let findings = preflight::check(&intent, &env);
    assert!(
        findings
            .iter()
            .any(|f| f.message.contains("has 1 free IP addresses")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn the_downtime_prediction_pays_the_contended_listing_in_full_and_scales_the_delta() {
    use fsx_migrate::core::forecast::predicted_downtime;
    let mut port = sim(world("small"));
    let i = lanes_intent(&mut port, 1, 24).await;
    let mut cp = at(&i, Phase::CutoverGate);
    let run = |kind, start: i64, secs: i64, prepare: u64, transfer: u64| SyncRecord {
        kind,
        execution_arn: format!("exec-{start}"),
        run: 1,
        started_at: t0() + jiff::SignedDuration::from_secs(start),
        ended_at: t0() + jiff::SignedDuration::from_secs(start + secs),
        status: ExecutionStatus::Success,
        counters: ExecutionCounters::default(),
        durations: PhaseDurations {
            prepare_ms: prepare * 1000,
            transfer_ms: transfer * 1000,
            verify_ms: 0,
            total_ms: (90 + prepare + transfer) * 1000,
        },
        execution_started_at: None,
        error_code: None,
        error_detail: None,
    };
    // The initial listed one side in 300 s with every lane at once; the incremental (started 4 h later,
    // listing 200 s staggered) moved 4 h of changes in 1 000 s while it ran for 1 290 s.
    let history = vec![
        run(SyncKind::Initial, 0, 14_400, 300, 14_000),
        run(SyncKind::Incremental, 14_400, 1_290, 200, 1_000),
    ];
    for lane in &mut cp.forward.lanes {
        lane.syncs = history.clone();
    }
    // Launch 90 + both sides listed at the initial's pace 600 + 1 000 × 1 290 / 14 400 = 90 transferred,
    // then one start per lane (2), Route 53 (60) and the plan's TTL (60).
    let predicted = predicted_downtime(&i, &cp).unwrap().as_secs();
    assert_eq!(predicted, 90 + 600 + 90 + 2 + 60 + 60);
}

#[tokio::test]
async fn a_plan_whose_final_listing_is_long_advises_more_throughput_for_the_cutover() {
    let notes = |name: &str| {
        let name = name.to_string();
        async move {
            let mut port = sim(world(&name));
            let mut intent = intent_for(&mut port, &plan_request()).await;
            fsx_migrate::plan::planner::apply_inventory(&mut intent, &inventory_input(&port)).unwrap()
        }
    };
    let reference = notes("reference").await;
    let advice: Vec<&String> = reference
        .iter()
        .filter(|n| n.contains("Raising the source's throughput"))
        .collect();
    assert_eq!(advice.len(), 1, "{reference:#?}");
    assert!(advice[0].contains("to 1024 MB/s"), "{}", advice[0]);
    let small = notes("small").await;
    assert!(!small.iter().any(|n| n.contains("Raising")), "{small:#?}");
}

#[tokio::test]
async fn preflight_warns_that_a_plan_without_an_inventory_cannot_be_checked_against_the_quota() {
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let whole = intent_for(&mut port, &plan_request()).await;
    let env = environment(&mut port, whole.inspect_request()).await;
    let quota = |intent: &Intent| {
        preflight::check(intent, &env)
            .into_iter()
            .filter(|f| f.message.contains("25 million"))
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    assert_eq!(quota(&whole), [Severity::Warning]);
    let partitioned = lanes_intent(&mut port, 3, 24).await;
    assert!(quota(&partitioned).is_empty());
}

#[tokio::test]
async fn a_task_tagged_for_a_lane_the_plan_does_not_have_stops_before_creating_tasks() {
    use fsx_migrate::cloud::port::TransferResources;
    use fsx_migrate::core::IrreversibleStep;
    let mut port = sim(world("small"));
    let i = lanes_intent(&mut port, 2, 24).await;
    let mut cp = at(&i, Phase::PrepareTransfer);
    for lane in &mut cp.forward.lanes {
        lane.task_arn = None;
    }
    let found = TransferResources {
        source_location_arn: Some("loc-s".into()),
        target_location_arn: Some("loc-t".into()),
        tasks: [("lane-09".to_string(), "task-stray".to_string())].into(),
        reverse_tasks: Default::default(),
    };
    let s = step(
        &i,
        &cp,
        Input::Response(Response::TransferResources(found)),
        t0(),
        &opts(),
    );
    let Action::Halt(Halt::PreconditionFailed { step, problems }) = &s.action else {
        panic!("{:?}", s.action)
    };
    assert_eq!(*step, IrreversibleStep::CreateTasks);
    assert!(
        problems[0].contains("task-stray") && problems[0].contains("lane-09"),
        "{problems:?}"
    );
}

#[tokio::test]
async fn preflight_refuses_more_security_groups_than_a_datasync_location_takes() {
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    let env = environment(&mut port, intent.inspect_request()).await;
    let refused = |intent: &Intent| {
        preflight::check(intent, &env)
            .iter()
            .any(|f| f.severity == Severity::Error && f.message.contains("security_group_ids"))
    };
    assert!(!refused(&intent), "the source's group passes");
    intent.target.security_group_ids = (1..=6).map(|n| format!("sg-{n:017}")).collect();
    assert!(refused(&intent), "six are one too many");
    intent.target.security_group_ids.clear();
    assert!(refused(&intent), "DataSync needs one");
}

#[tokio::test]
async fn preflight_checks_the_groups_let_datasync_reach_the_file_systems_on_smb() {
    use fsx_migrate::cloud::model::SecurityRule;
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let mut intent = lanes_intent(&mut port, 1, 24).await;
    let env = environment(&mut port, intent.inspect_request()).await;
    assert_eq!(
        env.security_groups.len(),
        1,
        "the source's group, copied to the target"
    );
    let errors = |findings: &[preflight::Finding]| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.clone())
            .collect()
    };
    assert!(
        errors(&preflight::check(&intent, &env)).is_empty(),
        "the simulated group is right"
    );

    // Without the rule naming the group itself (or a range), DataSync's interfaces cannot reach SMB.
    let mut closed = env.clone();
    closed.security_groups[0]
        .inbound
        .retain(|r| r.groups.is_empty() && !r.allows_tcp(445));
    let found = errors(&preflight::check(&intent, &closed));
    assert!(
        found
            .iter()
            .any(|e| e.contains("SMB (TCP 445)") && e.contains("inbound")),
        "{found:?}"
    );

    // Nothing out: no SMB to the file system (an error), no AD ports (a warning).
    let mut no_egress = env.clone();
    no_egress.security_groups[0].outbound.clear();
    let findings = preflight::check(&intent, &no_egress);
    assert!(
        errors(&findings).iter().any(|e| e.contains("outbound")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.severity == Severity::Warning && f.message.contains("Active Directory"))
    );

    // A group that does not exist is named.
    intent
        .target
        .security_group_ids
        .push("sg-0doesnotexist0001".into());
    let findings = preflight::check(&intent, &env);
    assert!(
        errors(&findings)
            .iter()
            .any(|e| e.contains("sg-0doesnotexist0001")),
        "{findings:?}"
    );

    // With the freeze through SSM, the PowerShell port must be open.
    intent.target.security_group_ids.pop();
    intent.cutover.freeze = fsx_migrate::plan::intent::FreezeKind::Ssm;
    let mut no_winrm = env.clone();
    no_winrm.security_groups[0].inbound = vec![SecurityRule {
        protocol: "tcp".into(),
        from_port: Some(445),
        to_port: Some(445),
        cidrs: vec![],
        groups: vec![no_winrm.security_groups[0].id.clone()],
        prefix_lists: vec![],
    }];
    let findings = preflight::check(&intent, &no_winrm);
    assert!(
        findings.iter().any(|f| f.message.contains("5985")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn preflight_refuses_a_target_too_small_for_the_share_as_the_inventory_counted_it() {
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let mut intent = lanes_intent(&mut port, 1, 24).await;
    let env = environment(&mut port, intent.inspect_request()).await;
    let capacity = u64::from(intent.target.settings.storage_capacity_gib) << 30;
    let capacity_finding = |intent: &Intent| {
        preflight::check(intent, &env)
            .into_iter()
            .find(|f| f.message.contains("deduplicated data arrives rehydrated"))
            .map(|f| f.severity)
    };
    assert_eq!(
        capacity_finding(&intent),
        None,
        "no inventory: nothing to compare"
    );
    for (share, expected) in [
        (capacity / 2, None),
        (capacity * 9 / 10, Some(Severity::Warning)),
        (capacity, Some(Severity::Error)),
    ] {
        intent.transfer.inventory = Some(fsx_migrate::plan::intent::InventorySummary {
            file: "share.csv".into(),
            sha256: "0".repeat(64),
            modified_at: None,
            entries: 1000,
            bytes: share,
            rest_entries: 0,
            rest_bytes: 0,
        });
        assert_eq!(capacity_finding(&intent), expected, "{share} bytes of {capacity}");
    }
}

#[tokio::test]
async fn preflight_names_the_sources_dns_aliases_it_does_not_move() {
    use fsx_migrate::core::preflight::{self, Severity};
    let mut port = sim(world("small"));
    let intent = lanes_intent(&mut port, 1, 24).await;
    let mut env = environment(&mut port, intent.inspect_request()).await;
    let about_aliases = |env: &fsx_migrate::cloud::port::Environment| {
        preflight::check(&intent, env)
            .into_iter()
            .filter(|f| f.message.contains("DNS aliases"))
            .collect::<Vec<_>>()
    };
    assert!(about_aliases(&env).is_empty());
    env.source.as_mut().unwrap().aliases = vec!["finance.corp.example.com".into()];
    let found = about_aliases(&env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].message.contains("finance.corp.example.com"));
    assert!(found[0].hint.as_deref().unwrap().contains("§8.3"));
}
