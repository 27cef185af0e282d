//! AWS Systems Manager: runs fsx-migrate's PowerShell scripts on the plan's Windows instance
//! (`AWS-RunPowerShellScript`) and reads how they ended.
//!
//! SendCommand has no client token. Each send carries a comment naming the plan, the script, the file system
//! and the time it was asked for, so a send whose answer was lost is found again with ListCommands instead
//! of being sent twice (the core decides; see `Machine::powershell`).

use std::collections::HashMap;

use aws_sdk_ssm::types as ssm;

use crate::aws::errors;
use crate::cloud::model::InvocationStatus;
use crate::cloud::port::{CloudError, PowerShellInvocation, PowerShellRequest};

const SEND: &str = "ssm:SendCommand";
const LIST: &str = "ssm:ListCommands";
const GET: &str = "ssm:GetCommandInvocation";

/// The SSM document that runs PowerShell on Windows.
pub const DOCUMENT: &str = "AWS-RunPowerShellScript";

/// How long SSM tries to deliver the command to an instance that is not connected (SendCommand's
/// `TimeoutSeconds`); after it the command ends TimedOut (DeliveryTimedOut).
const DELIVERY_TIMEOUT_SECS: i32 = 600;

/// SendCommand of the script's invocation; answers the command id.
pub async fn send(client: &aws_sdk_ssm::Client, request: &PowerShellRequest) -> Result<String, CloudError> {
    let parameters = HashMap::from([
        ("commands".to_string(), vec![request.call.invocation()]),
        (
            "executionTimeout".to_string(),
            vec![request.timeout_secs.to_string()],
        ),
    ]);
    let out = client
        .send_command()
        .document_name(DOCUMENT)
        .instance_ids(&request.instance_id)
        .comment(&request.comment)
        .timeout_seconds(DELIVERY_TIMEOUT_SECS)
        .set_parameters(Some(parameters))
        .customize()
        .config_override(crate::aws::retries::ssm_send())
        .send()
        .await
        .map_err(|e| errors::from_sdk(SEND, e))?;
    out.command()
        .and_then(|c| c.command_id())
        .map(str::to_string)
        .ok_or_else(|| CloudError {
            class: crate::cloud::port::ErrorClass::Transient,
            operation: SEND.into(),
            code: "NoCommandId".into(),
            message: "SendCommand answered without a command id".into(),
        })
}

/// ListCommands for the instance: the ids of the commands sent with `comment`, newest first.
pub async fn find(
    client: &aws_sdk_ssm::Client,
    instance_id: &str,
    comment: &str,
) -> Result<Vec<String>, CloudError> {
    let commands: Vec<ssm::Command> = client
        .list_commands()
        .instance_id(instance_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST, e))?;
    let mut found: Vec<(Option<aws_smithy_types::DateTime>, String)> = commands
        .iter()
        .filter(|c| c.comment() == Some(comment))
        .filter_map(|c| Some((c.requested_date_time().copied(), c.command_id()?.to_string())))
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(found.into_iter().map(|(_, id)| id).collect())
}

/// GetCommandInvocation: the status and the output SSM kept (the first 24,000 characters of stdout).
pub async fn get(
    client: &aws_sdk_ssm::Client,
    command_id: &str,
    instance_id: &str,
) -> Result<PowerShellInvocation, CloudError> {
    let out = client
        .get_command_invocation()
        .command_id(command_id)
        .instance_id(instance_id)
        .send()
        .await
        .map_err(|e| errors::from_sdk(GET, e))?;
    Ok(PowerShellInvocation {
        status: out
            .status()
            .map_or(InvocationStatus::Unknown("(not returned)".into()), |s| {
                InvocationStatus::parse(s.as_str())
            }),
        status_details: out.status_details().map(str::to_string),
        stdout: out.standard_output_content().unwrap_or_default().to_string(),
        stderr: out.standard_error_content().unwrap_or_default().to_string(),
    })
}
