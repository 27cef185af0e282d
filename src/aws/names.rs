//! The name-switch seam's services besides Route 53: the users' record in an Active Directory-integrated DNS
//! zone (scripts/windows/dns.ps1) or a DFS namespace folder's target (scripts/windows/dfs.ps1), each read,
//! changed and checked by running its script through SSM on the plan's Windows instance.
//!
//! Each call runs the script to its end (seconds) before answering. Reading and checking change nothing, and
//! pointing a name at a value is idempotent, so a call whose answer was lost is simply made again (unlike the
//! freeze, which the core records write-ahead). A change's id names the record and its new value
//! (`<service>:<record>=<value>`); it is in sync once every server the script asks answers that value.

use std::time::Duration;

use crate::aws::{errors, ssm};
use crate::cloud::model::{ChangeStatus, DnsRecord};
use crate::cloud::port::{CloudError, ErrorClass, NameService, PowerShellRequest};
use crate::cloud::windows::{
    DnsCheckResult, DnsReadResult, NameArgs, ScriptCall, WindowsScript, outcome, parse_result,
};

/// How long one script may take (SSM's `executionTimeout`), and how long we wait for it.
const SCRIPT_TIMEOUT_SECS: u64 = 300;
const POLL: Duration = Duration::from_secs(2);

fn script(service: &NameService) -> WindowsScript {
    match service {
        NameService::AdDns { .. } => WindowsScript::Dns,
        NameService::Dfs { .. } => WindowsScript::Dfs,
    }
}

fn operation(service: &NameService) -> String {
    format!("ssm:SendCommand ({})", script(service))
}

fn change_prefix(service: &NameService) -> &'static str {
    match service {
        NameService::AdDns { .. } => "ad-dns:",
        NameService::Dfs { .. } => "dfs:",
    }
}

/// The record (or folder) as the service has it (`None`: no record of that name).
pub async fn read(
    client: &aws_sdk_ssm::Client,
    service: &NameService,
    name: &str,
) -> Result<Option<DnsRecord>, CloudError> {
    let json = run(client, service, args(service, "Read", name, None, None)).await?;
    let read: DnsReadResult = parse_result(script(service), &json).map_err(|e| invalid(service, e))?;
    Ok(read.record.map(|r| DnsRecord {
        name: r.name,
        record_type: r.record_type,
        values: r.values,
        ttl: r.ttl,
    }))
}

/// Points `name` at `value` with `ttl`; answers the change's id.
pub async fn set(
    client: &aws_sdk_ssm::Client,
    service: &NameService,
    name: &str,
    value: &str,
    ttl: u64,
) -> Result<String, CloudError> {
    run(
        client,
        service,
        args(service, "Set", name, Some(value), Some(ttl)),
    )
    .await?;
    Ok(format!("{}{name}={value}", change_prefix(service)))
}

/// Whether every server answers the change's value yet.
pub async fn check(
    client: &aws_sdk_ssm::Client,
    service: &NameService,
    change_id: &str,
) -> Result<ChangeStatus, CloudError> {
    let Some((name, value)) = change_id
        .strip_prefix(change_prefix(service))
        .and_then(|c| c.rsplit_once('='))
    else {
        return Err(errors::rejected(
            &operation(service),
            "NotThisServicesChange",
            format!(
                "{change_id} is not the id of a change of this name service (the plan's [dns] provider changed?)"
            ),
        ));
    };
    let json = run(client, service, args(service, "Check", name, Some(value), None)).await?;
    let checked: DnsCheckResult = parse_result(script(service), &json).map_err(|e| invalid(service, e))?;
    Ok(if checked.all_answer_value {
        ChangeStatus::InSync
    } else {
        ChangeStatus::Pending
    })
}

fn args(
    service: &NameService,
    action: &'static str,
    name: &str,
    value: Option<&str>,
    ttl: Option<u64>,
) -> ScriptCall {
    let (zone_name, dns_servers, share_path) = match service {
        NameService::AdDns {
            zone_name,
            dns_servers,
            ..
        } => (Some(zone_name.clone()), dns_servers.clone(), None),
        NameService::Dfs { share_path, .. } => (None, Vec::new(), Some(share_path.clone())),
    };
    ScriptCall {
        name_switch: Some(NameArgs {
            action,
            name: name.to_string(),
            zone_name,
            dns_servers,
            share_path,
            value: value.map(str::to_string),
            ttl,
        }),
        ..ScriptCall::new(script(service))
    }
}

/// Sends the script and waits for its RESULT JSON; the script's own error is a refused call.
async fn run(
    client: &aws_sdk_ssm::Client,
    service: &NameService,
    call: ScriptCall,
) -> Result<String, CloudError> {
    let action = call.name_switch.as_ref().map_or("", |d| d.action);
    let mut comment = format!("fsx-migrate {} {action}", script(service));
    comment.truncate(100);
    let instance_id = service.ssm_instance_id().to_string();
    let request = PowerShellRequest {
        instance_id: instance_id.clone(),
        call,
        comment,
        timeout_secs: SCRIPT_TIMEOUT_SECS,
    };
    let command_id = ssm::send(client, &request).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(SCRIPT_TIMEOUT_SECS + 120);
    loop {
        match ssm::get(client, &command_id, &instance_id).await {
            Ok(invocation) if invocation.status.is_terminal() => {
                return outcome(script(service), &invocation)
                    .map_err(|message| errors::rejected(&operation(service), "ScriptFailed", message));
            }
            Ok(_) => {}
            // SSM may not know the invocation for a moment after the send.
            Err(e) if e.class == ErrorClass::NotFound => {}
            Err(e) => return Err(e),
        }
        if std::time::Instant::now() >= deadline {
            return Err(CloudError {
                class: ErrorClass::Transient,
                operation: operation(service),
                code: "ScriptDidNotEnd".into(),
                message: format!(
                    "{} (SSM command {command_id}) did not end within {SCRIPT_TIMEOUT_SECS} s",
                    script(service)
                ),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

fn invalid(service: &NameService, message: String) -> CloudError {
    errors::rejected(&operation(service), "InvalidScriptResult", message)
}
