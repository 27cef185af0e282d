//! Runs one read-only PowerShell script through SSM to its end, outside a migration: `plan` reads the
//! source's shares with export.ps1 to name early the shares the plan's copy would not carry.
//!
//! A migration never uses this: its scripts are checkpointed write-ahead by the core (`Machine::powershell`),
//! because a freeze must never be sent twice. A read-only script may be sent again, so this is a plain loop.

use crate::cloud::port::{CloudPort, Command, PowerShellRequest, Response};
use crate::cloud::windows::{ScriptCall, WindowsScript, outcome};
use crate::engine::clock::Clock;
use crate::plan::units::Duration;

/// How often the command is asked about.
const POLL: Duration = Duration::secs(5);

/// Sends `call` to `instance_id` and waits (on `clock`) for its RESULT JSON, or why there is none.
pub async fn run_read_only<P: CloudPort>(
    port: &mut P,
    clock: &Clock,
    instance_id: &str,
    call: ScriptCall,
    comment: String,
    timeout: Duration,
) -> Result<String, String> {
    debug_assert!(
        matches!(call.script, WindowsScript::Export | WindowsScript::Logon),
        "only read-only scripts run outside a migration"
    );
    let script = call.script;
    let request = PowerShellRequest {
        instance_id: instance_id.to_string(),
        call,
        comment,
        timeout_secs: timeout.as_secs(),
    };
    let command_id = match port.execute(&Command::RunPowerShell(request)).await {
        Ok(Response::PowerShellSent { command_id }) => command_id,
        Ok(other) => return Err(format!("unexpected answer to SendCommand: {other:?}")),
        Err(e) => return Err(e.to_string()),
    };
    let deadline = crate::core::lane::after(clock.now(), Duration::secs(timeout.as_secs() + 120));
    while clock.now() < deadline {
        clock.sleep(POLL).await;
        let get = Command::GetPowerShell {
            command_id: command_id.clone(),
            instance_id: instance_id.to_string(),
        };
        match port.execute(&get).await {
            Ok(Response::PowerShellInvocation(invocation)) if invocation.status.is_terminal() => {
                return outcome(script, &invocation);
            }
            Ok(Response::PowerShellInvocation(_)) => {}
            // SSM may not know the invocation for a moment after the send.
            Err(e) if e.code == "InvocationDoesNotExist" => {}
            Err(e) if e.class.is_retryable() => {}
            Err(e) => return Err(e.to_string()),
            Ok(other) => return Err(format!("unexpected answer to GetCommandInvocation: {other:?}")),
        }
    }
    Err(format!(
        "{script} did not end within {timeout} (SSM command {command_id})"
    ))
}
