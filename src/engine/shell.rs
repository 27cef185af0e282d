//! Commands from the plan (the freeze and unfreeze commands, the event hook) run through `sh -c`, with their
//! context in the environment, optional input on stdin, and a time limit. One runner for all of them.

use tokio::io::AsyncWriteExt;

use crate::plan::units::Duration;

/// Runs `command`; `Ok` if it exits 0 within `timeout`. An error says why, with the last lines it printed.
pub async fn run_shell(
    command: &str,
    env: &[(String, String)],
    stdin: Option<&[u8]>,
    timeout: Duration,
    timeout_setting: &str,
) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start `{command}`: {e}"))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A command that does not read its input is not an error.
        let _ = pipe.write_all(bytes).await;
    }
    let limit = std::time::Duration::from_secs(timeout.as_secs());
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| format!("`{command}` could not be waited for: {e}"))?,
        Err(_) => {
            return Err(format!(
                "`{command}` did not finish within {timeout} ({timeout_setting}) and was stopped: what it did \
                 is unknown"
            ));
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let mut tail: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&output.stdout).lines())
        .map(str::to_string)
        .collect();
    let keep = tail.len().saturating_sub(5);
    tail.drain(..keep);
    Err(format!(
        "`{command}` exited with {}{}",
        output.status,
        tail.iter().map(|l| format!("\n  {l}")).collect::<String>()
    ))
}
