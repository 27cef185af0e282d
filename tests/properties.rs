//! Property tests: random observation sequences, errors and restarts never break invariants 1-5.

use std::collections::BTreeMap;

use fsx_migrate::cloud::model::*;
use fsx_migrate::cloud::port::{CloudError, Command, Environment, ErrorClass, Response, TransferResources};
use fsx_migrate::core::Halt;
use fsx_migrate::core::{Action, Input, RunOptions, step};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::{Checkpoint, Intent, Phase};
use fsx_migrate::sim::faults::{FaultKind, FaultRule};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use crate::support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn base_intent() -> (Intent, Environment) {
    runtime().block_on(async {
        let mut port = sim(world("small"));
        let intent = intent_for(&mut port, &plan_request()).await;
        let env = environment(&mut port, intent.inspect_request()).await;
        (intent, env)
    })
}

const OPS: [&str; 7] = [
    "fsx:CreateFileSystem",
    "fsx:DescribeFileSystems",
    "datasync:CreateTask",
    "datasync:StartTaskExecution",
    "datasync:DescribeTaskExecution",
    "route53:ChangeResourceRecordSets",
    "route53:GetChange",
];

fn fault_strategy() -> impl Strategy<Value = FaultRule> {
    (0..4usize, 0..OPS.len(), 0..20u64, 1..3u64).prop_map(|(kind, op, after, times)| {
        let kind = [
            FaultKind::Throttle,
            FaultKind::ServerError,
            FaultKind::Timeout,
            FaultKind::ExecutionError,
        ][kind];
        let operation = if kind == FaultKind::ExecutionError {
            "datasync:StartTaskExecution".to_string()
        } else {
            OPS[op].to_string()
        };
        FaultRule {
            kind,
            operation,
            after,
            times,
            probability: 1.0,
            seen: 0,
            fired: 0,
            count: None,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, rng_seed: RngSeed::Fixed(0x5eed_f5c0), ..ProptestConfig::default() })]

    /// Faults, crashes at random boundaries and restarts: the migration still completes exactly once.
    #[test]
    fn faults_crashes_and_restarts_keep_the_invariants(
        seed in any::<u64>(),
        faults in proptest::collection::vec(fault_strategy(), 0..4),
        crashes in proptest::collection::vec(0..120u64, 0..4),
    ) {
        runtime().block_on(async {
            let mut w = world("small");
            w.rng = seed;
            let mut port = sim(w);
            let mut intent = intent_for(&mut port, &plan_request()).await;
            // Faults start after planning: `plan` is a separate command with its own error handling.
            port.world.faults = faults;
            intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
            let mut cp = Checkpoint::default();
            let plan = crashes.into_iter().map(Some).chain(std::iter::repeat_n(None, 6));
            let mut completed = false;
            for crash_at in plan {
                let (outcome, next, _) = drive_mem(&mut port, &intent, &cp, crash_at).await;
                cp = next;
                match outcome {
                    Outcome::Halted(Halt::Completed) => { completed = true; break; }
                    Outcome::Crashed(_) | Outcome::Halted(Halt::ExecutionFailed { .. }) => {}
                    Outcome::Halted(Halt::CloudFailed { error, .. }) if error.class.is_retryable() => {}
                    other => panic!("unexpected stop: {other:?}"),
                }
                assert_invariants(&port, &cp, false);
            }
            assert!(completed, "did not complete: {:?}", cp.phase);
            assert_invariants(&port, &cp, true);
        });
    }
}

fn execution(arn: &str, status: ExecutionStatus, files: u64) -> ExecutionInfo {
    ExecutionInfo {
        arn: arn.into(),
        status,
        started_at: None,
        counters: ExecutionCounters {
            files_transferred: files,
            bytes_transferred: files * 1000,
            ..Default::default()
        },
        durations: PhaseDurations::default(),
        error_code: None,
        error_detail: None,
    }
}

fn file_system(lifecycle: Lifecycle) -> FileSystemInfo {
    target_file_system(lifecycle, base_intent().0.target.settings)
}

fn input_strategy(env: Environment) -> impl Strategy<Value = Input> {
    let statuses = prop_oneof![
        Just(ExecutionStatus::Launching),
        Just(ExecutionStatus::Transferring),
        Just(ExecutionStatus::Success),
        Just(ExecutionStatus::Error),
        Just(ExecutionStatus::Unknown("INITIALIZING".into())),
    ];
    let lifecycles = prop_oneof![
        Just(Lifecycle::Creating),
        Just(Lifecycle::Available),
        Just(Lifecycle::Failed)
    ];
    prop_oneof![
        Just(Input::Start),
        Just(Input::Woke),
        any::<bool>().prop_map(Input::Confirmed),
        Just(Input::CommandFinished(Ok(()))),
        Just(Input::CommandFinished(Err("exit 1".into()))),
        Just(Input::Failed(CloudError {
            class: ErrorClass::Rejected,
            operation: "op".into(),
            code: "BadRequest".into(),
            message: "no".into()
        })),
        Just(Input::Response(Response::Environment(env))),
        lifecycles.prop_map(|l| Input::Response(Response::FileSystem(file_system(l)))),
        Just(Input::Response(Response::TransferResources(
            TransferResources::default()
        ))),
        Just(Input::Response(Response::LocationCreated {
            side: Side::Source,
            arn: "loc-s".into()
        })),
        Just(Input::Response(Response::LocationCreated {
            side: Side::Target,
            arn: "loc-t".into()
        })),
        Just(Input::Response(Response::TaskCreated { arn: "task".into() })),
        Just(Input::Response(Response::ExecutionCandidates(Vec::new()))),
        (0..1000u32).prop_map(|n| Input::Response(Response::ExecutionStarted {
            arn: format!("exec-{n}")
        })),
        (statuses, 0..100_000u64)
            .prop_map(|(s, f)| Input::Response(Response::Execution(execution("exec-x", s, f)))),
        prop_oneof![Just(ChangeStatus::Pending), Just(ChangeStatus::InSync)].prop_map(|status| {
            Input::Response(Response::Change {
                id: "C1".into(),
                status,
            })
        }),
        Just(Input::Response(Response::MarkedFrozen)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, rng_seed: RngSeed::Fixed(0x5eed_c04e), ..ProptestConfig::default() })]

    /// Any sequence of inputs, including nonsense: the core never panics, phases only move forward, the
    /// target is always requested with the plan's token, nothing starts while an execution is watched,
    /// and the final sync and DNS swap keep their order.
    #[test]
    fn the_core_keeps_its_invariants_under_any_inputs(inputs in proptest::collection::vec(input_strategy(base_intent().1), 1..120)) {
        let (intent, _) = base_intent();
        let opts = RunOptions::default();
        let mut cp = Checkpoint::default();
        let mut now: jiff::Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for input in inputs {
            now += jiff::SignedDuration::from_secs(30);
            let before = cp.clone();
            let s = step(&intent, &cp, input, now, &opts);
            prop_assert!(s.checkpoint.phase() >= before.phase(), "phase went back: {:?} -> {:?}", before.phase, s.checkpoint.phase);
            match &s.action {
                Action::Call(Command::CreateTarget(req)) => {
                    prop_assert_eq!(&req.client_request_token, &intent.target_client_token());
                    prop_assert!(s.checkpoint.target_requested_at.is_some(), "write-ahead missing");
                    prop_assert!(s.checkpoint.billable_confirmed_at.is_some());
                }
                Action::Call(Command::StartExecution(req)) => {
                    prop_assert!(before.forward.lanes[0].current.as_ref().and_then(|c| c.execution_arn.as_ref()).is_none(), "started while watching one");
                    prop_assert!(s.checkpoint.forward.lanes[0].current.is_some(), "write-ahead missing");
                    if req.kind == SyncKind::Final {
                        prop_assert!(s.checkpoint.frozen_at.is_some(), "final sync before the freeze");
                    }
                }
                // The swap (lowering the TTL ahead of time keeps the source's name).
                Action::Call(Command::UpsertCname(req))
                    if Some(&req.value) == s.checkpoint.target_dns_name.as_ref() =>
                {
                    prop_assert!(s.checkpoint.forward.lanes[0].last_success(SyncKind::Final).is_some(), "DNS swap before the final sync succeeded");
                    prop_assert!(s.checkpoint.dns_requested_at.is_some());
                }
                Action::Call(Command::MarkFrozen { .. }) => prop_assert!(s.checkpoint.gate_opened_at.is_some() && s.checkpoint.frozen_at.is_some()),
                _ => {}
            }
            *seen.entry(s.checkpoint.phase().name()).or_default() += 1;
            cp = s.checkpoint;
        }
    }
}

/// Protocol-aware inputs: each step answers the action the core asked for the way the simulated cloud
/// answers it, except where a random choice replaces the answer with a restart (a crash), a transient
/// failure or a "no" at a prompt. Unlike random inputs, these reach the freeze, the final sync and the swap,
/// so the cutover rules are checked on every path, and the test asserts that every phase was reached.
#[test]
fn protocol_aware_inputs_reach_every_phase_and_keep_the_cutover_rules() {
    use fsx_migrate::cloud::port::CloudPort;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    const CASES: u32 = 48;
    let rt = runtime();
    let (base, _) = base_intent();
    // Every third case copies its shares and freezes through SSM (`[windows]`).
    let mut with_windows = base.clone();
    with_windows.cutover.freeze = fsx_migrate::plan::intent::FreezeKind::Ssm;
    with_windows.cutover.freeze_command = None;
    with_windows.cutover.unfreeze_command = None;
    with_windows.windows = Some(fsx_migrate::plan::intent::Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec![],
        copy_shares: true,
        shares_left_behind: vec![],
    });
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(0xc0de_5afe),
        ..Config::default()
    });
    let choices = proptest::collection::vec(0u8..100, 2000);
    let mut reached: BTreeMap<&'static str, u32> = BTreeMap::new();
    let (mut swaps, mut completed, mut rolled_back, mut swaps_back) = (0u32, 0u32, 0u32, 0u32);
    for case in 0..CASES {
        // Every other case that completes is then rolled back, an hour of users' writes to the target later.
        let mut opts = RunOptions::default();
        let intent = if case % 3 == 0 { &with_windows } else { &base };
        let choices = choices.new_tree(&mut runner).unwrap().current();
        let mut w = world("small");
        // Those cases' source answers to a DNS alias too, which moves after the swap (and back).
        if case % 3 == 0 {
            w.source.aliases = vec!["finance.corp.example.com".into()];
        }
        let mut port = sim(w);
        let clock = port.clock();
        let mut cp = Checkpoint::default();
        let mut input = Input::Start;
        let mut phases_seen = std::collections::BTreeSet::new();
        let mut halts = 0;
        for c in choices {
            let before = cp.phase();
            let s = step(intent, &cp, input, clock.now(), &opts);
            assert!(s.checkpoint.phase() >= before, "case {case}: phase went back");
            match &s.action {
                Action::Call(Command::StartExecution(req)) => {
                    let leg = if req.kind == SyncKind::Reverse {
                        &s.checkpoint.reverse
                    } else {
                        &s.checkpoint.forward
                    };
                    let current = leg.lanes[0].current.as_ref().expect("write-ahead");
                    assert_eq!(
                        req.tags.get(fsx_migrate::cloud::port::SYNC_TAG),
                        Some(&current.sync_id())
                    );
                    if req.kind == SyncKind::Final {
                        assert!(
                            s.checkpoint.frozen_at.is_some(),
                            "case {case}: final before the freeze"
                        );
                    }
                }
                // The swap (lowering the TTL ahead of time keeps the source's name).
                Action::Call(Command::UpsertCname(req))
                    if Some(&req.value) == s.checkpoint.target_dns_name.as_ref() =>
                {
                    let last = s.checkpoint.finals_after_freeze().last().map(|r| r.succeeded());
                    assert_eq!(
                        last,
                        Some(true),
                        "case {case}: swap without a final sync after the freeze"
                    );
                    swaps += 1;
                }
                // The swap back: only once every lane copied back after the target's freeze.
                Action::Call(Command::UpsertCname(req)) if s.checkpoint.rollback.is_some() => {
                    let frozen = s.checkpoint.rollback.as_ref().and_then(|r| r.target_frozen_at);
                    let frozen = frozen.expect("swap back before the target's freeze");
                    for lane in &s.checkpoint.reverse.lanes {
                        let last = lane
                            .runs_after(SyncKind::Reverse, frozen)
                            .last()
                            .map(|r| r.succeeded());
                        assert_eq!(last, Some(true), "case {case}: swap back without a reverse sync");
                    }
                    swaps_back += 1;
                }
                _ => {}
            }
            phases_seen.insert(s.checkpoint.phase().name());
            cp = s.checkpoint;
            // Every fourth case is aborted by a new process once its final sync is under way.
            if case % 4 == 2 && cp.phase() == Phase::FinalSync && !opts.abort {
                opts.abort = true;
                input = Input::Start;
                continue;
            }
            input = match s.action {
                Action::Halt(Halt::Completed) if case % 2 == 1 && !opts.rollback => {
                    completed += 1;
                    opts.rollback = true;
                    rt.block_on(clock.sleep(fsx_migrate::plan::units::Duration::hours(1)));
                    Input::Start
                }
                Action::Halt(Halt::Completed) => {
                    completed += 1;
                    break;
                }
                Action::Halt(Halt::RolledBack) => {
                    rolled_back += 1;
                    break;
                }
                Action::Halt(Halt::Aborted) => {
                    assert!(port.world.swap().is_none(), "case {case}: aborted after a swap");
                    break;
                }
                Action::Halt(_) if halts >= 5 => break,
                Action::Halt(_) => {
                    halts += 1;
                    Input::Start
                }
                _ if c < 3 => Input::Start,
                Action::Call(command) if c < 6 => Input::Failed(CloudError {
                    class: ErrorClass::Transient,
                    operation: command.operations()[0].to_string(),
                    code: "InternalServerError".into(),
                    message: "injected by the property test".into(),
                }),
                Action::Call(command) => match rt.block_on(port.execute(&command)) {
                    Ok(response) => Input::Response(response),
                    Err(error) => Input::Failed(error),
                },
                Action::WaitUntil { at, .. } => {
                    rt.block_on(clock.sleep(fsx_migrate::core::lane::secs_between(clock.now(), at)));
                    Input::Woke
                }
                Action::Confirm(_) => Input::Confirmed(c >= 8),
                Action::RunCommand(_) => Input::CommandFinished(Ok(())),
            };
        }
        assert_invariants(&port, &cp, false);
        for phase in phases_seen {
            *reached.entry(phase).or_default() += 1;
        }
    }
    eprintln!(
        "protocol-aware cases: {CASES}; completed {completed}; swaps sent {swaps}; rolled back {rolled_back}; \
         swaps back sent {swaps_back}; phases reached: {reached:?}"
    );
    for phase in fsx_migrate::plan::Phase::ALL {
        assert!(
            reached.contains_key(phase.name()),
            "no case reached {phase}: {reached:?}"
        );
    }
    assert!(
        completed >= CASES / 4,
        "only {completed} of {CASES} cases completed"
    );
}
