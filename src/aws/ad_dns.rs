//! The users' record in an Active Directory-integrated DNS zone (the name-switch seam's AD DNS provider):
//! read, changed and checked with scripts/windows/dns.ps1, run through SSM on the plan's Windows instance.
//!
//! Each call runs the script to its end (seconds) before answering. Reading and checking change nothing, and
//! setting a CNAME to a value is idempotent, so a call whose answer was lost is simply made again (unlike the
//! freeze, which the core records write-ahead). A change's id names the record and its new value
//! (`ad-dns:<record>=<value>`); it is in sync once every listed DNS server answers that value.

use std::time::Duration;

use crate::aws::{errors, ssm};
use crate::cloud::model::{ChangeStatus, DnsRecord};
use crate::cloud::port::{AdDnsZone, CloudError, ErrorClass, PowerShellRequest};
use crate::cloud::windows::{
    DnsArgs, DnsCheckResult, DnsReadResult, ScriptCall, WindowsScript, outcome, parse_result,
};

const OPERATION: &str = "ssm:SendCommand (dns.ps1)";
/// The change id's prefix: the core stores it like a Route 53 change id.
const CHANGE_PREFIX: &str = "ad-dns:";
/// How long one dns.ps1 may take (SSM's `executionTimeout`), and how long we wait for it.
const SCRIPT_TIMEOUT_SECS: u64 = 300;
const POLL: Duration = Duration::from_secs(2);

/// The record as the first DNS server has it (`None`: no record of that name).
pub async fn read(
    client: &aws_sdk_ssm::Client,
    zone: &AdDnsZone,
    name: &str,
) -> Result<Option<DnsRecord>, CloudError> {
    let json = run(client, zone, args(zone, "Read", name, None, None)).await?;
    let read: DnsReadResult = parse_result(WindowsScript::Dns, &json).map_err(invalid)?;
    Ok(read.record.map(|r| DnsRecord {
        name: r.name,
        record_type: r.record_type,
        values: r.values,
        ttl: r.ttl,
    }))
}

/// Points the CNAME `name` at `value` with `ttl` on the first DNS server; answers the change's id.
pub async fn set(
    client: &aws_sdk_ssm::Client,
    zone: &AdDnsZone,
    name: &str,
    value: &str,
    ttl: u64,
) -> Result<String, CloudError> {
    run(client, zone, args(zone, "Set", name, Some(value), Some(ttl))).await?;
    Ok(format!("{CHANGE_PREFIX}{name}={value}"))
}

/// Whether every DNS server answers the change's value yet.
pub async fn check(
    client: &aws_sdk_ssm::Client,
    zone: &AdDnsZone,
    change_id: &str,
) -> Result<ChangeStatus, CloudError> {
    let Some((name, value)) = change_id
        .strip_prefix(CHANGE_PREFIX)
        .and_then(|c| c.split_once('='))
    else {
        return Err(errors::rejected(
            OPERATION,
            "NotAnAdDnsChange",
            format!("{change_id} is not the id of an AD DNS change (the plan's [dns] provider changed?)"),
        ));
    };
    let json = run(client, zone, args(zone, "Check", name, Some(value), None)).await?;
    let checked: DnsCheckResult = parse_result(WindowsScript::Dns, &json).map_err(invalid)?;
    Ok(if checked.all_answer_value {
        ChangeStatus::InSync
    } else {
        ChangeStatus::Pending
    })
}

fn args(
    zone: &AdDnsZone,
    action: &'static str,
    name: &str,
    value: Option<&str>,
    ttl: Option<u64>,
) -> ScriptCall {
    ScriptCall {
        script: WindowsScript::Dns,
        endpoint: String::new(),
        keep_accounts: Vec::new(),
        shares_json: None,
        service_json: None,
        from_dns_name: None,
        aliases: Vec::new(),
        dns: Some(DnsArgs {
            action,
            name: name.to_string(),
            zone_name: zone.zone_name.clone(),
            dns_servers: zone.dns_servers.clone(),
            value: value.map(str::to_string),
            ttl,
        }),
    }
}

/// Sends dns.ps1 and waits for its RESULT JSON; the script's own error is a refused call.
async fn run(client: &aws_sdk_ssm::Client, zone: &AdDnsZone, call: ScriptCall) -> Result<String, CloudError> {
    let action = call.dns.as_ref().map_or("", |d| d.action);
    let mut comment = format!("fsx-migrate dns.ps1 {action} {}", zone.zone_name);
    comment.truncate(100);
    let request = PowerShellRequest {
        instance_id: zone.ssm_instance_id.clone(),
        call,
        comment,
        timeout_secs: SCRIPT_TIMEOUT_SECS,
    };
    let command_id = ssm::send(client, &request).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(SCRIPT_TIMEOUT_SECS + 120);
    loop {
        match ssm::get(client, &command_id, &zone.ssm_instance_id).await {
            Ok(invocation) if invocation.status.is_terminal() => {
                return outcome(WindowsScript::Dns, &invocation)
                    .map_err(|message| errors::rejected(OPERATION, "ScriptFailed", message));
            }
            Ok(_) => {}
            // SSM may not know the invocation for a moment after the send.
            Err(e) if e.class == ErrorClass::NotFound => {}
            Err(e) => return Err(e),
        }
        if std::time::Instant::now() >= deadline {
            return Err(CloudError {
                class: ErrorClass::Transient,
                operation: OPERATION.into(),
                code: "ScriptDidNotEnd".into(),
                message: format!(
                    "dns.ps1 (SSM command {command_id}) did not end within {SCRIPT_TIMEOUT_SECS} s"
                ),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

fn invalid(message: String) -> CloudError {
    errors::rejected(OPERATION, "InvalidScriptResult", message)
}
