//! Dry runs and forecasts: the real engine driven against a throwaway copy of the simulated world on a
//! virtual clock. It lists every action in order with its simulated time and estimates the durations and
//! the downtime — and it cannot touch anything, because its port is a copy in memory (invariant 5).

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::clock::Clock;
use crate::core::{Action, Event, RunOptions};
use crate::driver::{Answers, Driver, FreezeRunner, MemoryStore, Observer, Outcome};
use crate::error::Failure;
use crate::plan::{Checkpoint, Intent, Phase};
use crate::port::CloudError;
use crate::report::{Predictions, predictions, render_call};
use crate::sim::SimPort;
use crate::sim::world::{Accounting, World};
use crate::units::Duration;

/// One listed action of a forecast; repeated polls are folded into one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    pub at_secs: u64,
    pub until_secs: u64,
    pub phase: Phase,
    pub action: String,
    /// How many times it repeats (polls).
    pub times: u32,
    pub mutating: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    pub start: Timestamp,
    pub end: Timestamp,
    pub steps: Vec<PlannedStep>,
    pub outcome: String,
    pub phase_secs: Vec<(Phase, u64)>,
    pub predictions: Predictions,
    pub accounting: Accounting,
}

struct Recorder {
    start: Timestamp,
    steps: Vec<PlannedStep>,
}

impl Recorder {
    fn push(&mut self, phase: Phase, now: Timestamp, action: String, mutating: bool) {
        let at = u64::try_from(now.duration_since(self.start).as_secs()).unwrap_or(0);
        if let Some(last) = self.steps.last_mut()
            && last.phase == phase
            && last.action == action
        {
            last.times += 1;
            last.until_secs = at;
            return;
        }
        self.steps.push(PlannedStep {
            at_secs: at,
            until_secs: at,
            phase,
            action,
            times: 1,
            mutating,
        });
    }
}

impl Observer for Recorder {
    fn event(&mut self, event: &Event, _checkpoint: &Checkpoint, now: Timestamp) {
        if let Event::Finding(finding) = event {
            self.push(Phase::Preflight, now, format!("preflight {finding}"), false);
        }
    }

    fn action(&mut self, action: &Action, checkpoint: &Checkpoint, now: Timestamp) {
        let phase = checkpoint.phase();
        match action {
            Action::Call(command) => self.push(phase, now, render_call(command), command.is_mutating()),
            Action::Confirm(c) => self.push(phase, now, format!("confirm: {}", c.question), false),
            Action::RunFreezeCommand(cmd) => {
                self.push(phase, now, format!("run freeze command: {cmd}"), true)
            }
            Action::Sleep { .. } | Action::Halt(_) => {}
        }
    }

    fn retrying(&mut self, _: &CloudError, _: u32, _: Duration) {}

    fn suspend(&mut self, f: &mut dyn FnMut()) {
        f()
    }
}

/// Runs the migration of `intent` from `checkpoint` against a copy of `world`, answering every question yes
/// and pretending the freeze command succeeds. Nothing outside this function changes.
pub async fn forecast(
    intent: &Intent,
    checkpoint: &Checkpoint,
    world: &World,
    start: Timestamp,
    opts: &RunOptions,
) -> Result<Forecast, Failure> {
    let mut copy = world.clone();
    copy.faults.clear();
    let clock = Clock::virtual_at(start);
    let mut port = SimPort::in_memory(copy, clock.clone());
    let mut store = MemoryStore::default();
    let mut recorder = Recorder {
        start,
        steps: Vec::new(),
    };
    let (outcome, cp) = {
        let mut driver = Driver::new(
            &mut port,
            clock.clone(),
            intent.clone(),
            checkpoint.clone(),
            &mut store,
            opts.clone(),
            &mut recorder,
        );
        driver.answers = Answers::AlwaysYes;
        driver.freeze_runner = FreezeRunner::Pretend;
        let outcome = driver.drive().await?;
        (outcome, driver.checkpoint.clone())
    };
    let end = clock.now();
    let phase_secs = crate::report::phase_rows(&cp, Some(end))
        .into_iter()
        .map(|r| (r.phase, r.duration_secs))
        .collect();
    Ok(Forecast {
        start,
        end,
        steps: recorder.steps,
        outcome: match &outcome {
            Outcome::Halted(h) => format!("{h:?}"),
            other => format!("{other:?}"),
        },
        phase_secs,
        predictions: predictions(intent, &cp),
        accounting: port.world.accounting(end),
    })
}

/// The dry run's text.
pub fn render(forecast: &Forecast, intro: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{intro}\n");
    let _ = writeln!(out, "  {:>4}  {:<12} {:<17} action", "step", "at (T+)", "phase");
    for (i, s) in forecast.steps.iter().enumerate() {
        let mut action = s.action.clone();
        if s.times > 1 {
            let _ = write!(action, "   ×{} until T+{}", s.times, Duration(s.until_secs));
        }
        let marker = if s.mutating { "*" } else { " " };
        let _ = writeln!(
            out,
            "  {:>4}{marker} {:<12} {:<17} {action}",
            i + 1,
            Duration(s.at_secs).to_string(),
            s.phase.name()
        );
    }
    let _ = writeln!(
        out,
        "\n  * changes something in the cloud (billable or visible to users)\n"
    );
    let _ = writeln!(out, "Estimates (simulated, see docs/simulator.md for the model):");
    for (phase, secs) in &forecast.phase_secs {
        if *secs > 0 {
            let _ = writeln!(out, "  {:<18} {}", phase.name(), Duration(*secs));
        }
    }
    let total = u64::try_from(forecast.end.duration_since(forecast.start).as_secs()).unwrap_or(0);
    let _ = writeln!(out, "  {:<18} {}", "total", Duration(total));
    let p = &forecast.predictions;
    let _ = writeln!(out, "  incremental runs   {}", p.incremental_runs);
    let acc = &forecast.accounting;
    match (acc.downtime_secs, acc.service_downtime_secs) {
        (Some(d), Some(service)) => {
            let _ = writeln!(
                out,
                "  downtime           {} (freeze until the last client resolves the new name; {} to DNS in sync)",
                Duration(d),
                Duration(service)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  downtime           not reached: the forecast stopped with {}",
                forecast.outcome
            );
        }
    }
    out
}
