//! Operator control over the cutover: the window on a simulated clock that crosses a weekend, the downtime
//! budget, and parking (postponing) at the gate.

use fsx_migrate::cloud::model::SyncKind;
use fsx_migrate::core::{Halt, RunOptions};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::intent::CutoverWindow;
use fsx_migrate::plan::units::Duration;
use fsx_migrate::plan::{Checkpoint, Phase};
use jiff::Timestamp;

use crate::support::*;

/// Saturday 22:00–02:00 in Tokyo (13:00–17:00 UTC); the simulated week starts on Tuesday 2026-12-01.
fn saturday_night_in_tokyo() -> CutoverWindow {
    CutoverWindow {
        time_zone: "Asia/Tokyo".into(),
        opens: vec!["Sat 22:00".into()],
        duration: Duration::hours(4),
    }
}

#[tokio::test]
async fn the_run_holds_at_the_gate_keeping_the_copy_warm_and_freezes_inside_the_window() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.window = Some(saturday_night_in_tokyo());
    intent.cutover.max_downtime = Some(Duration::mins(30));
    intent.cutover.keep_warm_interval = Some(Duration::hours(6));
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));

    let opens: Timestamp = "2026-12-05T13:00:00Z".parse().unwrap();
    let closes: Timestamp = "2026-12-05T17:00:00Z".parse().unwrap();
    let frozen = cp.frozen_at.expect("frozen");
    assert!(
        frozen >= opens && frozen < closes,
        "froze at {frozen}, outside the window"
    );
    let acc = port.world.accounting(port.now());
    assert!(
        acc.dns_insync_at.unwrap() < closes,
        "the cutover ended inside the window"
    );
    assert_eq!(acc.writes_lost_at_swap, Some(0));
    assert_eq!(acc.violations.len(), 0, "{:?}", acc.violations);
    // Kept warm: from the gate to the window (~4 days) an incremental about every 6 hours.
    let gate = cp.entered(Phase::CutoverGate).unwrap();
    let warm = port
        .world
        .executions
        .iter()
        .filter(|e| e.kind == SyncKind::Incremental && e.started_at > gate && e.started_at < frozen)
        .count();
    assert!((12..=20).contains(&warm), "{warm} keep-warm incrementals");
    // Holding for days stays cheap: no operation above one call a second, and few calls in all.
    let max_per_sec = acc.api_calls_max_per_sec.values().max().copied().unwrap_or(0);
    assert!(max_per_sec <= 1, "{:?}", acc.api_calls_max_per_sec);
    eprintln!(
        "window test: {} API calls, {warm} keep-warm incrementals, froze at {frozen}",
        acc.api_calls_total
    );
}

#[tokio::test]
async fn a_downtime_that_does_not_fit_the_budget_waits_for_the_next_window_and_says_why() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.window = Some(saturday_night_in_tokyo());
    // Far below anything the small world can do: inside the window the run must hold, not freeze.
    intent.cutover.max_downtime = Some(Duration::mins(1));
    intent.cutover.keep_warm_interval = Some(Duration::hours(7 * 24));
    let until_gate = RunOptions {
        until: Some(Phase::CutoverGate),
        ..options()
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), until_gate).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::CutoverGate)));
    let inside: Timestamp = "2026-12-05T13:30:00Z".parse().unwrap();
    let s = fsx_migrate::core::step(&intent, &cp, fsx_migrate::core::Input::Start, inside, &options());
    let fsx_migrate::core::Action::WaitUntil { at, reason } = &s.action else {
        panic!("{:?}", s.action)
    };
    let next_window: Timestamp = "2026-12-12T13:00:00Z".parse().unwrap();
    assert!(*at <= next_window && *at > inside, "wakes at {at}");
    assert!(
        reason.contains("max_downtime") && reason.contains("Sat 2026-12-12 22:00"),
        "{reason}"
    );
    assert!(s.checkpoint.gate_opened_at.is_none() && s.checkpoint.frozen_at.is_none());
}

#[tokio::test]
async fn without_a_window_a_prediction_over_the_budget_stops_at_the_gate_until_accepted() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.max_downtime = Some(Duration::mins(1));
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    let Outcome::Halted(Halt::OverBudget { predicted, budget }) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(predicted > budget);
    assert!(
        cp.frozen_at.is_none() && port.world.writes.frozen_at.is_none(),
        "nothing frozen"
    );
    let accept = RunOptions {
        accept_delta: true,
        ..options()
    };
    let (outcome, _) = drive_opts(&mut port, &intent, &cp, accept).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
}

#[tokio::test]
async fn a_postpone_parks_at_the_gate_yes_does_not_pass_it_and_resume_does() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let postponed = RunOptions {
        postpone_requested: true,
        ..options()
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), postponed.clone()).await;
    let Outcome::Halted(Halt::Parked { reason, .. }) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("postpone"), "{reason}");
    assert_eq!(cp.phase(), Phase::CutoverGate);
    // `run --yes` again (the flag gone or not): still parked.
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, options()).await;
    assert!(
        matches!(outcome, Outcome::Halted(Halt::Parked { .. })),
        "{outcome:?}"
    );
    assert!(port.world.writes.frozen_at.is_none());
    let resume = RunOptions {
        unpark: true,
        ..options()
    };
    let (outcome, cp) = drive_opts(&mut port, &intent, &cp, resume).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert!(cp.parked_at.is_none());
}

#[tokio::test]
async fn business_hours_limit_the_copy_and_a_running_sync_is_unleashed_when_they_end_but_never_the_final() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    // Tuesday 08:00 UTC is inside: 2 MiB/s until 18:00 stretches the 100 GiB initial copy past the evening.
    intent.sync.business_hours = Some(fsx_migrate::plan::intent::BusinessHours {
        time_zone: "UTC".into(),
        opens: ["Mon", "Tue", "Wed", "Thu", "Fri"]
            .map(|d| format!("{d} 08:00"))
            .to_vec(),
        duration: Duration::hours(10),
        bytes_per_second: fsx_migrate::plan::units::Bytes(2 << 20),
    });
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), options()).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let w = &port.world;
    let initial = w.executions.iter().find(|e| e.kind == SyncKind::Initial).unwrap();
    let evening: Timestamp = "2026-12-01T18:00:00Z".parse().unwrap();
    assert!(
        initial.end() > evening,
        "limited: the initial copy ran into the evening ({})",
        initial.end()
    );
    assert_eq!(
        initial.bytes_per_second, None,
        "and was unleashed when the business hours ended"
    );
    assert!(w.api_calls["datasync:UpdateTaskExecution"] >= 1);
    assert!(
        w.executions
            .iter()
            .filter(|e| e.kind == SyncKind::Final)
            .all(|e| e.bytes_per_second.is_none()),
        "the final sync is never limited"
    );
    let acc = w.accounting(port.now());
    assert_eq!(acc.writes_lost_at_swap, Some(0));
    assert_eq!(acc.violations.len(), 0, "{:?}", acc.violations);
    let initial_secs = cp.forward.lanes[0]
        .last_success(SyncKind::Initial)
        .unwrap()
        .elapsed_secs();
    eprintln!(
        "business hours: the initial copy took {initial_secs} s (transfer until about 18:08, then verify)"
    );
}
