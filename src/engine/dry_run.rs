//! Dry runs and forecasts: the real engine driven against a throwaway copy of the simulated world on a
//! virtual clock. It lists every action in order with its simulated time and estimates the durations and
//! the downtime — and it cannot touch anything, because its port is a copy in memory (invariant 5).

use jiff::Timestamp;
use serde::Serialize;

use crate::cloud::model::dns_eq;
use crate::cloud::port::{CloudError, Command};
use crate::core::forecast::{Predictions, predictions};
use crate::core::{Action, Event, RunOptions};
use crate::engine::clock::Clock;
use crate::engine::driver::{Answers, CommandRunner, Driver, MemoryStore, Observer, Outcome};
use crate::error::Failure;
use crate::plan::units::Duration;
use crate::plan::{Checkpoint, Intent, Phase};
use crate::sim::SimPort;
use crate::sim::world::{Accounting, World};

/// What a forecast step does, as data (the CLI renders it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedAction {
    Call(Box<Command>),
    Confirm(String),
    RunCommand {
        purpose: &'static str,
        command: String,
    },
    /// A preflight finding, as the operator would read it.
    Finding(String),
}

/// One listed action of a forecast; repeated polls are folded into one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    pub at_secs: u64,
    pub until_secs: u64,
    pub phase: Phase,
    pub action: PlannedAction,
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
    fn push(&mut self, phase: Phase, now: Timestamp, action: PlannedAction, mutating: bool) {
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
            self.push(
                Phase::Preflight,
                now,
                PlannedAction::Finding(finding.to_string()),
                false,
            );
        }
    }

    fn action(&mut self, action: &Action, checkpoint: &Checkpoint, now: Timestamp) {
        let phase = checkpoint.phase();
        match action {
            Action::Call(command) => self.push(
                phase,
                now,
                PlannedAction::Call(Box::new(command.clone())),
                command.is_mutating(),
            ),
            Action::Confirm(c) => self.push(phase, now, PlannedAction::Confirm(c.question.clone()), false),
            Action::RunCommand(cmd) => {
                let planned = PlannedAction::RunCommand {
                    purpose: cmd.purpose,
                    command: cmd.command.clone(),
                };
                self.push(phase, now, planned, true)
            }
            Action::WaitUntil { .. } | Action::Halt(_) => {}
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
        driver.command_runner = CommandRunner::Pretend;
        let outcome = driver.drive().await?;
        (outcome, driver.checkpoint.clone())
    };
    let end = clock.now();
    let phase_secs = cp
        .phase_rows(Some(end))
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

/// One way to do the same migration, forecast on the same world.
#[derive(Debug, Clone, Serialize)]
pub struct Alternative {
    pub name: String,
    /// What it is, and what it cannot do.
    pub note: String,
    /// Client-perceived downtime: from the freeze until the last client resolves the new name.
    pub downtime_secs: Option<u64>,
    /// From the start to the name in sync.
    pub total_secs: u64,
    pub executions: usize,
    pub api_calls: u64,
    pub outcome: String,
}

/// The plan beside what an operator would otherwise do, each forecast on a copy of `world`: this plan; the
/// same without a partition (one lane); a naive runbook (one full sync, freeze, one more sync, swap, the
/// record's TTL untouched); and backup-and-restore, which cannot change the deployment type, so the nearest
/// thing — a new file system filled by one full copy while users are frozen — is shown instead.
pub async fn compare(intent: &Intent, world: &World, start: Timestamp) -> Result<Vec<Alternative>, Failure> {
    let yes = RunOptions::default();
    let mut one_lane = intent.clone();
    one_lane.transfer.lanes.clear();
    let mut naive = one_lane.clone();
    naive.sync.max_incremental_runs = 0;
    if let Some(ttl) = world
        .records
        .iter()
        .find(|r| dns_eq(&r.name, &intent.dns.record_name))
        .and_then(|r| r.ttl)
    {
        naive.dns.ttl = ttl;
    }
    let naive_opts = RunOptions {
        accept_delta: true,
        ..yes.clone()
    };
    let lanes = crate::core::lane::lane_tasks(intent).len();
    let mut out = Vec::new();
    for (name, note, intent, opts) in [
        (
            "this plan",
            format!("{lanes} lane(s) in parallel, incrementals until converged, TTL lowered ahead of time"),
            intent,
            &yes,
        ),
        (
            "one lane",
            "the same without a partition: one DataSync task lists the whole share".to_string(),
            &one_lane,
            &yes,
        ),
        (
            "naive runbook",
            "one full sync, freeze, one more sync, swap; the record's TTL left as it is".to_string(),
            &naive,
            &naive_opts,
        ),
    ] {
        let f = forecast(intent, &Checkpoint::default(), world, start, opts).await?;
        out.push(alternative(name, note, &f));
    }
    // Rebuild and copy: users are frozen from the start of the one full copy to the swap.
    let naive_run = &out[2];
    let one = forecast(&one_lane, &Checkpoint::default(), world, start, &yes).await?;
    let initial = one
        .phase_secs
        .iter()
        .find(|(p, _)| *p == Phase::InitialSync)
        .map_or(0, |(_, s)| *s);
    let create = one
        .phase_secs
        .iter()
        .filter(|(p, _)| {
            matches!(
                p,
                Phase::CreateTarget | Phase::WaitTarget | Phase::PrepareTransfer
            )
        })
        .map(|(_, s)| s)
        .sum::<u64>();
    let dns = crate::core::forecast::DNS_PROPAGATION_SECS + naive.dns.ttl;
    out.push(Alternative {
        name: "backup and restore".into(),
        note: "a backup restores only to the same deployment type (Single-AZ): it cannot make the Multi-AZ file \
               system. Shown instead: a new Multi-AZ file system filled by one full copy with users frozen"
            .into(),
        downtime_secs: Some(initial + dns),
        total_secs: create + initial + dns,
        executions: 1,
        api_calls: naive_run.api_calls,
        outcome: "estimate from the one-lane forecast's full copy".into(),
    });
    Ok(out)
}

fn alternative(name: &str, note: String, f: &Forecast) -> Alternative {
    Alternative {
        name: name.to_string(),
        note,
        downtime_secs: f.accounting.downtime_secs,
        total_secs: u64::try_from(f.end.duration_since(f.start).as_secs()).unwrap_or(0),
        executions: f.accounting.executions_started,
        api_calls: f.accounting.api_calls_total,
        outcome: f.outcome.clone(),
    }
}
