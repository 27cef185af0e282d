//! `status PLAN`: where a migration stands, read from the plan, its lock and its run record, touching nothing
//! in the cloud — whether a process drives it (host, pid, last heartbeat), waits for an operator (and for
//! what), stopped (why, and the command that continues) or is done; the ETA, each lane, the guards and the
//! predictions. The exit code tells scripts the state (`error::status_exit`).

use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use super::commands::print_json;
use super::report::{self, Replay};
use super::{Global, Output};
use crate::core::evidence::{Guard, guards};
use crate::core::forecast::{Eta, Predictions, eta, predictions};
use crate::error::Failure;
use crate::files::FileLock;
use crate::plan::checkpoint::PhaseRow;
use crate::plan::file::PlanFile;
use crate::plan::run_record::{RunRecord, State, Waiting};
use crate::plan::units::{Bytes, Duration};
use crate::plan::{LaneState, Leg, Phase};

/// The status as printed; its field names are a contract (docs/runbook.md, "Where it stands").
#[derive(Serialize)]
struct StatusReport<'a> {
    plan: &'a Path,
    migration_id: &'a str,
    name: &'a str,
    source: &'a str,
    state: State,
    /// What a person must answer or decide, when `state` is `waiting_for_operator`.
    waiting_for: Option<Waiting>,
    /// Why it stands there: what the last run said when it ended, or what is known of it.
    reason: Option<String>,
    causes: Vec<String>,
    /// What to do next, with the commands to paste.
    hints: Vec<String>,
    /// The process that drives the plan now, or the last one that did (its record beside the plan).
    run: Option<RunRecord>,
    exit_code: u8,
    phase: Option<Phase>,
    runs: u32,
    started_at: Option<Timestamp>,
    completed_at: Option<Timestamp>,
    target_file_system_id: Option<&'a str>,
    target_dns_name: Option<&'a str>,
    eta: Eta,
    /// Each lane: its task, the sync in flight, and its history.
    lanes: &'a [LaneState],
    /// The guards on the final sync that tripped, and who accepted them.
    guards: Vec<Guard>,
    phases: Vec<PhaseRow>,
    predictions: Predictions,
    /// The downtime budget (`cutover.max_downtime`), seconds, if the plan sets one.
    max_downtime_secs: Option<u64>,
    /// Parked at the gate: since when, by whom, why.
    parked: Option<String>,
    /// The last `fsx-migrate check`, if one ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_check: Option<&'a crate::plan::checkpoint::AccessCheck>,
}

/// Where the plan stands and why, with what continues it.
struct Standing {
    state: State,
    waiting_for: Option<Waiting>,
    reason: Option<String>,
    causes: Vec<String>,
    hints: Vec<String>,
}

impl Standing {
    fn plain(state: State) -> Standing {
        Standing {
            state,
            waiting_for: None,
            reason: None,
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }
}

pub fn status(global: &Global, path: &Path) -> Result<u8, Failure> {
    let file = PlanFile::load(path)?;
    let (intent, cp) = (&file.intent, &file.checkpoint);
    let record = RunRecord::load(path);
    let held = FileLock::is_held(&crate::files::resolve(path));
    // Commands to paste talk to what the last run talked to; without a record, to what `status` was given.
    let flags = record
        .as_ref()
        .map_or_else(|| global.replay_flags(), |r| r.flags.clone());
    let replay = Replay::new(flags, &path.display().to_string());
    let standing = standing(cp, record.as_ref(), held, &replay);
    let report = StatusReport {
        plan: path,
        migration_id: &intent.migration.id,
        name: &intent.migration.name,
        source: &intent.source.file_system_id,
        state: standing.state,
        waiting_for: standing.waiting_for,
        reason: standing.reason,
        causes: standing.causes,
        hints: standing.hints,
        run: record,
        exit_code: standing.state.exit_code(),
        phase: cp.phase,
        runs: cp.runs,
        started_at: cp.started_at,
        completed_at: cp.completed_at,
        target_file_system_id: cp.target_file_system_id.as_deref(),
        target_dns_name: cp.target_dns_name.as_deref(),
        eta: eta(intent, cp),
        lanes: &cp.forward.lanes,
        access_check: cp.access_checks.last(),
        guards: guards(cp),
        phases: cp.phase_rows(None),
        predictions: predictions(intent, cp),
        max_downtime_secs: intent.cutover.max_downtime.map(|d| d.as_secs()),
        parked: cp.parked_at.map(|since| {
            format!(
                "since {since} by {} ({})",
                cp.parked_by.as_deref().unwrap_or("?"),
                cp.park_reason.as_deref().unwrap_or("postponed")
            )
        }),
    };
    match global.output {
        Output::Json => print_json(&report),
        Output::Text => print!("{}", status_text(&report, &replay)),
    }
    Ok(report.exit_code)
}

/// The state from the lock (is a process driving it?), the checkpoint, and how the last run said it ended.
fn standing(
    cp: &crate::plan::Checkpoint,
    record: Option<&RunRecord>,
    held: bool,
    replay: &Replay,
) -> Standing {
    let ended = record.and_then(|r| r.ended.as_ref());
    if held && ended.is_none() {
        return match record.and_then(|r| r.asking.map(|w| (r, w))) {
            Some((r, waiting)) => Standing {
                waiting_for: Some(waiting),
                reason: Some(format!(
                    "the run on {} (pid {}) asks on its terminal for {}",
                    r.host,
                    r.pid,
                    waiting.describe()
                )),
                ..Standing::plain(State::WaitingForOperator)
            },
            None => Standing::plain(State::Running),
        };
    }
    if !cp.has_started() {
        return Standing {
            hints: vec![format!(
                "`{} --dry-run` shows what would happen",
                replay.command("run")
            )],
            ..Standing::plain(State::NotStarted)
        };
    }
    if matches!(cp.phase(), Phase::Complete | Phase::RolledBack | Phase::Aborted) {
        return Standing::plain(State::Done);
    }
    if let Some(end) = ended {
        return Standing {
            state: end.state,
            waiting_for: end.waiting_for,
            reason: Some(end.message.clone()),
            causes: end.causes.clone(),
            hints: end.hints.clone(),
        };
    }
    let reason = match record {
        Some(r) => format!(
            "the run on {} (pid {}) ended without saying why: killed, crashed, or its machine restarted \
             (last heartbeat {})",
            r.host, r.pid, r.heartbeat_at
        ),
        None => "the last run left no record of how it ended (killed, or an older fsx-migrate)".to_string(),
    };
    Standing {
        reason: Some(reason),
        hints: vec![format!("`{}` re-attaches and continues", replay.resume())],
        ..Standing::plain(State::Stopped)
    }
}

fn state_line(r: &StatusReport<'_>) -> String {
    match (r.state, &r.run) {
        (State::Running, Some(run)) => format!(
            "running: pid {} on {} (operator {}) since {}; last heartbeat {}",
            run.pid, run.host, run.operator, run.started_at, run.heartbeat_at
        ),
        (State::Running, None) => "running: another process holds the plan's lock".to_string(),
        (State::WaitingForOperator, _) => format!(
            "waiting for an operator: {}",
            r.waiting_for.map_or("a decision", Waiting::describe)
        ),
        (state, _) => state.name().replace('_', " "),
    }
}

fn status_text(r: &StatusReport<'_>, replay: &Replay) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Plan {}: {} ({})", r.plan.display(), r.name, r.migration_id);
    let _ = writeln!(o, "State: {}", state_line(r));
    if let Some(reason) = &r.reason {
        let _ = writeln!(o, "  {reason}");
    }
    for cause in &r.causes {
        let _ = writeln!(o, "  Caused by: {cause}");
    }
    for hint in &r.hints {
        let _ = writeln!(o, "  Hint: {hint}");
    }
    let Some(phase) = r.phase else {
        return o;
    };
    let _ = writeln!(o, "Phase: {phase} (runs: {})", r.runs);
    let _ = writeln!(
        o,
        "Source {} -> target {} {}",
        r.source,
        r.target_file_system_id.unwrap_or("(not created)"),
        r.target_dns_name.map(|d| format!("({d})")).unwrap_or_default()
    );
    if phase != Phase::Complete {
        let show = |t: Option<Timestamp>| t.map_or("unknown".to_string(), |t| format!("about {t}"));
        let _ = writeln!(
            o,
            "ETA: {phase} ends {}; DNS in sync {}",
            show(r.eta.phase_ends_at),
            show(r.eta.dns_in_sync_at)
        );
    }
    for lane in r.lanes {
        lane_text(&mut o, lane);
    }
    if let Some(check) = r.access_check {
        let _ = match (&check.result, &check.current) {
            (Some(done), _) if done.succeeded() => writeln!(
                o,
                "Check (DataSync user): passed at {} (execution {})",
                done.ended_at, done.execution_arn
            ),
            (Some(done), _) => writeln!(
                o,
                "Check (DataSync user): FAILED at {}: {}: {} (execution {})",
                done.ended_at,
                done.error_code.as_deref().unwrap_or("no error code"),
                done.error_detail.as_deref().unwrap_or("no detail"),
                done.execution_arn
            ),
            (None, Some(current)) => writeln!(
                o,
                "Check (DataSync user): requested at {} (execution {}), its result not read yet: `{}` reads it",
                current.requested_at,
                current.execution_arn.as_deref().unwrap_or("not seen yet"),
                replay.command("check")
            ),
            (None, None) => Ok(()),
        };
    }
    for g in &r.guards {
        let t = &g.tripped;
        let _ = write!(
            o,
            "Guard {}: tripped at {} ({} files, limit {}, execution {}); ",
            g.guard, t.at, t.count, t.limit, t.execution_arn
        );
        let _ = match (g.accepted_at, &g.accepted_by) {
            (Some(at), by) => writeln!(o, "accepted by {} at {at}", by.as_deref().unwrap_or("?")),
            (None, _) => writeln!(
                o,
                "not accepted: the run stops here until `{} {}`",
                replay.resume(),
                g.accept_with
            ),
        };
    }
    let _ = writeln!(o, "\nPhases (entered at, time spent):");
    for (i, row) in r.phases.iter().enumerate() {
        // The current phase has no end yet; status reads only the plan, so it cannot know "now".
        let current = i + 1 == r.phases.len() && row.phase != Phase::Complete;
        let spent = if current {
            "(current)".to_string()
        } else {
            Duration(row.duration_secs).to_string()
        };
        let _ = writeln!(o, "  {:<18} {}  {spent}", row.phase.name(), row.entered_at);
    }
    if r.lanes.iter().any(|l| !l.syncs.is_empty()) {
        let _ = writeln!(o, "\nSyncs:");
        o.push_str(&report::syncs_text(&Leg {
            lanes: r.lanes.to_vec(),
            ..Default::default()
        }));
    }
    predictions_text(&mut o, &r.predictions);
    if let Some(budget) = r.max_downtime_secs {
        let verdict = match r.predictions.predicted_downtime_secs {
            Some(p) if p <= budget => "the prediction fits",
            Some(_) => "the prediction is OVER it: the gate holds (window) or stops (no window)",
            None => "no prediction yet",
        };
        let _ = writeln!(
            o,
            "Downtime budget (cutover.max_downtime): {}; {verdict}.",
            Duration(budget)
        );
    }
    if let Some(parked) = &r.parked {
        let _ = writeln!(o, "Parked at the cutover gate {parked}: `resume` continues.");
    }
    o
}

fn lane_text(o: &mut String, lane: &LaneState) {
    let last = lane.syncs.last().map_or(String::new(), |s| {
        format!(
            "; last {} {} ({} files, {})",
            s.kind,
            s.status.as_str(),
            s.counters.files_transferred,
            Duration(s.run_secs())
        )
    });
    let _ = writeln!(
        o,
        "Lane {}: DataSync task {}{last}",
        lane.name,
        lane.task_arn.as_deref().unwrap_or("(not created)")
    );
    let Some(c) = &lane.current else {
        return;
    };
    let counters = c.last_counters.clone().unwrap_or_default();
    let _ = writeln!(
        o,
        "  running: {} sync {} {}: {}/{} files, {}/{}",
        c.kind,
        c.execution_arn.as_deref().unwrap_or("(being started)"),
        c.last_status.as_ref().map_or("?", |s| s.as_str()),
        counters.files_transferred,
        counters.estimated_files_to_transfer,
        Bytes(counters.bytes_transferred),
        Bytes(counters.estimated_bytes_to_transfer)
    );
}

fn predictions_text(o: &mut String, p: &Predictions) {
    let _ = writeln!(o, "\nIncremental runs: {}", p.incremental_runs);
    match p.converged {
        Some(true) => {
            let _ = writeln!(o, "Last incremental: converged (under every threshold).");
        }
        Some(false) => {
            let _ = writeln!(o, "Last incremental: not converged: {}.", p.still_over.join("; "));
        }
        None => {}
    }
    if let (Some(d), Some(service)) = (p.downtime_secs, p.service_downtime_secs) {
        let _ = writeln!(
            o,
            "Downtime users saw: {} (freeze to DNS in sync: {}, then the TTL clients cached).",
            Duration(d),
            Duration(service)
        );
    } else if let Some(d) = p.predicted_downtime_secs {
        let _ = writeln!(
            o,
            "Predicted downtime users see: about {} (the slowest lane's last sync, DNS propagation, the TTL clients cache).",
            Duration(d)
        );
    }
}
