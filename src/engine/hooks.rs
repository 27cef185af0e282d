//! The event hook (`[hooks] on_event`): one JSON event on the command's stdin for every phase change, the
//! cutover gate, every stop and the end, the way gh-ost's hooks let a team post to chat or page someone. A hook
//! that fails is logged and never stops the migration.

use jiff::Timestamp;
use serde::Serialize;

use crate::core::{Action, ConfirmKind, Event, Halt};
use crate::engine::driver::Outcome;
use crate::plan::Phase;
use crate::plan::intent::Hooks;
use crate::plan::units::Duration;

/// How long a hook may run when the plan does not say.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::secs(30);

/// One event, as the hook reads it on stdin (stable field names).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookEvent {
    pub plan_id: String,
    /// `phase_entered`, `gate`, `completed`, `rolled_back`, `waiting_for_operator`, `stopped`, `interrupted`.
    pub event: &'static str,
    pub phase: Phase,
    pub at: Timestamp,
    /// What happened, in words.
    pub detail: String,
}

/// The hook events a step produces: its phase changes, and the gate's question.
pub fn step_events(events: &[Event], action: &Action) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseEntered(phase) => Some(("phase_entered", format!("entered {phase}"))),
            _ => None,
        })
        .collect();
    if let Action::Confirm(c) = action
        && c.kind == ConfirmKind::Gate
    {
        out.push(("gate", c.question.clone()));
    }
    out
}

/// The hook event for how a drive ended.
pub fn outcome_event(outcome: &Outcome) -> Option<(&'static str, String)> {
    Some(match outcome {
        Outcome::Halted(Halt::Completed) => ("completed", "the migration completed".to_string()),
        Outcome::Halted(Halt::RolledBack) => ("rolled_back", "the rollback completed".to_string()),
        Outcome::Halted(halt) => ("stopped", format!("{halt:?}")),
        Outcome::NeedsOperator(c) => ("waiting_for_operator", c.question.clone()),
        Outcome::Interrupted => ("interrupted", "interrupted; resume continues".to_string()),
        Outcome::Crashed(_) => return None,
    })
}

/// Runs the hook with `event` on stdin. An error is for the log only.
pub async fn fire(hooks: &Hooks, event: &HookEvent) -> Result<(), String> {
    let json = serde_json::to_vec(event).map_err(|e| format!("could not encode the event: {e}"))?;
    let env = vec![
        ("FSX_MIGRATE_PLAN_ID".to_string(), event.plan_id.clone()),
        ("FSX_MIGRATE_EVENT".to_string(), event.event.to_string()),
    ];
    let timeout = hooks.timeout.unwrap_or(DEFAULT_HOOK_TIMEOUT);
    super::shell::run_shell(&hooks.on_event, &env, Some(&json), timeout, "hooks.timeout").await
}
