//! fsx-migrate's PowerShell scripts (`scripts/windows/*.ps1`, built into the binary), how one is invoked with
//! its parameters, and how its output is read.
//!
//! The same invocation text is sent through SSM (`AWS-RunPowerShellScript`) or printed for a person to run,
//! and the same parser reads the output either way. The output contract is in `scripts/windows/README.md`:
//! progress lines, then `FSXMIGRATE-RESULT <json>` or `FSXMIGRATE-ERROR <message>` as the last line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefix of the last line of a script that succeeded.
pub const RESULT_PREFIX: &str = "FSXMIGRATE-RESULT ";
/// The prefix of the last line of a script that failed.
pub const ERROR_PREFIX: &str = "FSXMIGRATE-ERROR ";

const FREEZE_PS1: &str = include_str!("../../scripts/windows/freeze.ps1");
const UNFREEZE_PS1: &str = include_str!("../../scripts/windows/unfreeze.ps1");
const EXPORT_PS1: &str = include_str!("../../scripts/windows/export.ps1");
const APPLY_PS1: &str = include_str!("../../scripts/windows/apply.ps1");
const SPN_PS1: &str = include_str!("../../scripts/windows/spn.ps1");
const DNS_PS1: &str = include_str!("../../scripts/windows/dns.ps1");
const DFS_PS1: &str = include_str!("../../scripts/windows/dfs.ps1");
const LOGON_PS1: &str = include_str!("../../scripts/windows/logon.ps1");

/// One of the scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowsScript {
    /// Every share read-only for all but the kept accounts; other sessions closed (`freeze.ps1`).
    Freeze,
    /// The share permissions the freeze recorded, put back (`unfreeze.ps1`).
    Unfreeze,
    /// The shares and in-server settings DataSync does not copy, read (`export.ps1`).
    Export,
    /// An export made true on another file system: shares created, permissions and settings set (`apply.ps1`).
    Apply,
    /// The DNS aliases' Kerberos SPNs moved to a file system's AD computer object (`spn.ps1`).
    Spn,
    /// The users' CNAME in an AD-integrated DNS zone: read, set, or checked on every DNS server (`dns.ps1`).
    Dns,
    /// A DFS namespace folder's targets: read, switched to another file server, or checked (`dfs.ps1`).
    Dfs,
    /// The DataSync user logs on to a share and lists it, its password read from Secrets Manager on the
    /// instance (`logon.ps1`): `check` before the DataSync tasks exist.
    Logon,
}

impl WindowsScript {
    pub fn text(self) -> &'static str {
        match self {
            WindowsScript::Freeze => FREEZE_PS1,
            WindowsScript::Unfreeze => UNFREEZE_PS1,
            WindowsScript::Export => EXPORT_PS1,
            WindowsScript::Apply => APPLY_PS1,
            WindowsScript::Spn => SPN_PS1,
            WindowsScript::Dns => DNS_PS1,
            WindowsScript::Dfs => DFS_PS1,
            WindowsScript::Logon => LOGON_PS1,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            WindowsScript::Freeze => "freeze.ps1",
            WindowsScript::Unfreeze => "unfreeze.ps1",
            WindowsScript::Export => "export.ps1",
            WindowsScript::Apply => "apply.ps1",
            WindowsScript::Spn => "spn.ps1",
            WindowsScript::Dns => "dns.ps1",
            WindowsScript::Dfs => "dfs.ps1",
            WindowsScript::Logon => "logon.ps1",
        }
    }
}

impl fmt::Display for WindowsScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// A script and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptCall {
    pub script: WindowsScript,
    /// The file system's remote management endpoint (`-Endpoint`); for spn.ps1, the DNS name of the file
    /// system that gets the SPNs.
    pub endpoint: String,
    /// `-KeepAccounts` (freeze): accounts that keep write access and their sessions.
    pub keep_accounts: Vec<String>,
    /// `-SharesJson` (unfreeze): the share permissions the freeze recorded.
    pub shares_json: Option<String>,
    /// `-ServiceJson` (apply): the export to make true.
    pub service_json: Option<String>,
    /// `-FromDnsName` (spn): the DNS name of the file system that has the SPNs now.
    pub from_dns_name: Option<String>,
    /// `-Aliases` (spn): the aliases whose SPNs move.
    pub aliases: Vec<String>,
    /// dns.ps1's and dfs.ps1's arguments (they take no `-Endpoint`).
    pub name_switch: Option<NameArgs>,
    /// logon.ps1's arguments (it takes no `-Endpoint`).
    pub logon: Option<LogonArgs>,
}

/// What logon.ps1 logs on to, as whom, and what it lists. The password stays in Secrets Manager: only the
/// secret's id crosses SSM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogonArgs {
    /// `\\<file system DNS name>\<share>`.
    pub share: String,
    /// `DOMAIN\name`.
    pub user_name: String,
    /// The Secrets Manager secret (ARN or name) holding the password.
    pub secret_id: String,
    /// Folders below the share to list too (`/finance`).
    pub folders: Vec<String>,
}

/// What dns.ps1 (AD DNS: `zone_name`, `dns_servers`) or dfs.ps1 (DFS: `share_path`) does with the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameArgs {
    /// `Read`, `Set` or `Check`.
    pub action: &'static str,
    /// The record's name, or the DFS folder's path.
    pub name: String,
    pub zone_name: Option<String>,
    pub dns_servers: Vec<String>,
    pub share_path: Option<String>,
    /// Set and Check: the file system's DNS name the name should lead to.
    pub value: Option<String>,
    /// Set: the TTL in seconds.
    pub ttl: Option<u64>,
}

impl ScriptCall {
    /// `script` with no arguments yet (`..ScriptCall::new(script)` fills what a call does not pass).
    pub fn new(script: WindowsScript) -> ScriptCall {
        ScriptCall {
            script,
            endpoint: String::new(),
            keep_accounts: Vec::new(),
            shares_json: None,
            service_json: None,
            from_dns_name: None,
            aliases: Vec::new(),
            name_switch: None,
            logon: None,
        }
    }

    /// The PowerShell that runs the script with its arguments: the script as a script block, invoked with
    /// named parameters (single-quoted strings; the recorded permissions as a here-string, which needs no
    /// escaping).
    pub fn invocation(&self) -> String {
        let mut text = format!("& {{\n{}\n}}", self.script.text());
        if !self.endpoint.is_empty() {
            text.push_str(&format!(" -Endpoint {}", quote(&self.endpoint)));
        }
        if let Some(dns) = &self.name_switch {
            text.push_str(&format!(
                " -Action {} -Name {}",
                quote(dns.action),
                quote(&dns.name)
            ));
            if let Some(zone) = &dns.zone_name {
                text.push_str(&format!(" -ZoneName {}", quote(zone)));
            }
            if !dns.dns_servers.is_empty() {
                let servers: Vec<String> = dns.dns_servers.iter().map(|s| quote(s)).collect();
                text.push_str(&format!(" -DnsServers {}", servers.join(",")));
            }
            if let Some(path) = &dns.share_path {
                text.push_str(&format!(" -SharePath {}", quote(path)));
            }
            if let Some(value) = &dns.value {
                text.push_str(&format!(" -Value {}", quote(value)));
            }
            if let Some(ttl) = dns.ttl {
                text.push_str(&format!(" -Ttl {ttl}"));
            }
        }
        if let Some(logon) = &self.logon {
            text.push_str(&format!(
                " -Share {} -UserName {} -SecretId {}",
                quote(&logon.share),
                quote(&logon.user_name),
                quote(&logon.secret_id)
            ));
            if !logon.folders.is_empty() {
                let folders: Vec<String> = logon.folders.iter().map(|f| quote(f)).collect();
                text.push_str(&format!(" -Folders {}", folders.join(",")));
            }
        }
        if let Some(from) = &self.from_dns_name {
            text.push_str(&format!(" -FromDnsName {}", quote(from)));
        }
        if !self.aliases.is_empty() {
            let aliases: Vec<String> = self.aliases.iter().map(|a| quote(a)).collect();
            text.push_str(&format!(" -Aliases {}", aliases.join(",")));
        }
        if !self.keep_accounts.is_empty() {
            let accounts: Vec<String> = self.keep_accounts.iter().map(|a| quote(a)).collect();
            text.push_str(&format!(" -KeepAccounts {}", accounts.join(",")));
        }
        // JSON as here-strings, which need no escaping (the JSON is one line).
        if let Some(json) = &self.shares_json {
            text.push_str(&format!(" -SharesJson @'\n{json}\n'@"));
        }
        if let Some(json) = &self.service_json {
            text.push_str(&format!(" -ServiceJson @'\n{json}\n'@"));
        }
        text.push('\n');
        text
    }
}

/// A single-quoted PowerShell string: `'` (and the typographic quotes PowerShell also takes as quotes) doubled.
fn quote(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// What freeze.ps1 reports: the share permissions as they were before, how many it made read-only, and the
/// sessions of accounts not kept that were still open at the end (clients reconnect, read-only now).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FreezeResult {
    pub shares: Vec<serde_json::Value>,
    pub changed: u64,
    pub sessions_left: u64,
}

/// What unfreeze.ps1 reports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnfreezeResult {
    pub restored: u64,
    #[serde(default)]
    pub missing_shares: Vec<String>,
}

/// What export.ps1 reads from a file system: its shares and the in-server settings DataSync does not copy.
/// The settings stay JSON: fsx-migrate hands them back to apply.ps1 and compares them, nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceExport {
    pub shares: Vec<ShareConfig>,
    /// Shadow copies' storage and schedule; null when not configured.
    pub shadow_copies: Option<serde_json::Value>,
    /// Data deduplication's configuration; null when not enabled.
    pub dedup: Option<serde_json::Value>,
    /// User storage quotas; null when neither tracked nor enforced.
    pub user_quotas: Option<serde_json::Value>,
    /// The SMB server settings FSx lets an administrator set.
    pub smb_server: Option<serde_json::Value>,
    /// What the script knowingly does not carry, with why.
    #[serde(default)]
    pub not_exported: Vec<NotCarried>,
}

impl ServiceExport {
    /// The in-server settings by name, as compared and applied.
    pub fn settings(&self) -> [(&'static str, Option<&serde_json::Value>); 4] {
        [
            ("shadow_copies", self.shadow_copies.as_ref()),
            ("dedup", self.dedup.as_ref()),
            ("user_quotas", self.user_quotas.as_ref()),
            ("smb_server", self.smb_server.as_ref()),
        ]
    }
}

/// One SMB share as `Get-FSxSmbShare` and `Get-FSxSmbShareAccess` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareConfig {
    pub name: String,
    /// On the file system, e.g. `D:\share\finance`.
    pub path: String,
    #[serde(default)]
    pub description: String,
    pub folder_enumeration_mode: String,
    pub caching_mode: String,
    pub encrypt_data: bool,
    pub continuously_available: bool,
    pub concurrent_user_limit: u64,
    pub access: Vec<ShareAccess>,
}

/// One access entry of a share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShareAccess {
    pub account: String,
    /// `Allow` or `Deny`.
    pub control: String,
    /// `Full`, `Change`, `Read` or `Custom`.
    pub right: String,
}

/// A setting a script did not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCarried {
    pub setting: String,
    pub reason: String,
}

/// What apply.ps1 did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApplyResult {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    #[serde(default)]
    pub unchanged: Vec<String>,
    /// Shares left alone (their folder is missing on the target, or a share of that name has another path).
    pub skipped: Vec<SkippedShare>,
    pub applied: Vec<String>,
    pub not_applied: Vec<NotCarried>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SkippedShare {
    pub name: String,
    pub reason: String,
}

/// dns.ps1's Read and Set: the record as the first DNS server has it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DnsReadResult {
    pub record: Option<DnsRecordJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DnsRecordJson {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub values: Vec<String>,
    pub ttl: Option<u64>,
}

/// dns.ps1's Check: what each DNS server answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DnsCheckResult {
    pub servers: Vec<serde_json::Value>,
    pub all_answer_value: bool,
}

/// What logon.ps1 reports: the share's root was listed as the user (else it ends in an error), and each folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogonResult {
    pub share: String,
    pub user: String,
    /// `aws-tools` or `aws-cli`: how the instance read the password.
    pub password_from: String,
    pub root_listed: bool,
    pub folders: Vec<FolderListed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FolderListed {
    pub path: String,
    pub listed: bool,
    pub error: Option<String>,
}

/// What spn.ps1 reports: the computer object that holds the aliases' SPNs now, and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpnResult {
    pub computer: String,
    pub moved: Vec<serde_json::Value>,
    pub added: Vec<String>,
    pub already: Vec<String>,
}

/// How a script's output ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptEnd {
    /// `FSXMIGRATE-RESULT`: the result's JSON text.
    Result(String),
    /// `FSXMIGRATE-ERROR`: the script's own message.
    Error(String),
    /// Neither: the output was cut short (SSM keeps 24,000 characters) or the script did not end.
    Missing(String),
}

/// The script's last non-empty line, read by the contract. Lines end in CRLF on Windows.
pub fn last_line(stdout: &str) -> ScriptEnd {
    let Some(last) = stdout.lines().map(str::trim_end).rfind(|l| !l.is_empty()) else {
        return ScriptEnd::Missing("the script printed nothing".into());
    };
    if let Some(json) = last.strip_prefix(RESULT_PREFIX) {
        return ScriptEnd::Result(json.trim().to_string());
    }
    if let Some(message) = last.strip_prefix(ERROR_PREFIX) {
        return ScriptEnd::Error(message.trim().to_string());
    }
    ScriptEnd::Missing(format!(
        "the script's last line is neither {RESULT_PREFIX}nor {ERROR_PREFIX}(its output was cut short, e.g. by \
         SSM's 24,000-character limit, or the script did not end): {last}"
    ))
}

/// The result's JSON text, or why there is none.
fn result_json(stdout: &str) -> Result<String, String> {
    match last_line(stdout) {
        ScriptEnd::Result(json) => Ok(json),
        ScriptEnd::Error(message) | ScriptEnd::Missing(message) => Err(message),
    }
}

pub fn parse_freeze(stdout: &str) -> Result<FreezeResult, String> {
    parse_result(WindowsScript::Freeze, &result_json(stdout)?)
}

pub fn parse_unfreeze(stdout: &str) -> Result<UnfreezeResult, String> {
    parse_result(WindowsScript::Unfreeze, &result_json(stdout)?)
}

pub fn parse_export(stdout: &str) -> Result<ServiceExport, String> {
    parse_result(WindowsScript::Export, &result_json(stdout)?)
}

pub fn parse_apply(stdout: &str) -> Result<ApplyResult, String> {
    parse_result(WindowsScript::Apply, &result_json(stdout)?)
}

pub fn parse_spn(stdout: &str) -> Result<SpnResult, String> {
    parse_result(WindowsScript::Spn, &result_json(stdout)?)
}

pub fn parse_logon(stdout: &str) -> Result<LogonResult, String> {
    parse_result(WindowsScript::Logon, &result_json(stdout)?)
}

/// A script's RESULT JSON read as its type (also from a checkpoint, which keeps the JSON).
pub fn parse_result<T: serde::de::DeserializeOwned>(script: WindowsScript, json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("{script}'s result is not what it promises: {e}: {json}"))
}

/// How a finished SSM command ended: the script's RESULT JSON, or why it failed (its ERROR line, else SSM's
/// status with the end of its standard error).
pub fn outcome(
    script: WindowsScript,
    invocation: &crate::cloud::port::PowerShellInvocation,
) -> Result<String, String> {
    let details = invocation.status_details.as_deref().map(|d| format!(" ({d})"));
    let ended = format!(
        "{script} ended {}{}",
        invocation.status.as_str(),
        details.unwrap_or_default()
    );
    if invocation.status != crate::cloud::model::InvocationStatus::Success {
        let reason = match last_line(&invocation.stdout) {
            ScriptEnd::Error(message) => message,
            ScriptEnd::Result(_) | ScriptEnd::Missing(_) => invocation
                .stderr
                .trim()
                .lines()
                .last()
                .unwrap_or("no output")
                .to_string(),
        };
        return Err(format!("{ended}: {reason}"));
    }
    let parsed = match script {
        WindowsScript::Freeze => parse_freeze(&invocation.stdout).map(|_| ()),
        WindowsScript::Unfreeze => parse_unfreeze(&invocation.stdout).map(|_| ()),
        WindowsScript::Export => parse_export(&invocation.stdout).map(|_| ()),
        WindowsScript::Apply => parse_apply(&invocation.stdout).map(|_| ()),
        WindowsScript::Spn => parse_spn(&invocation.stdout).map(|_| ()),
        WindowsScript::Logon => parse_logon(&invocation.stdout).map(|_| ()),
        WindowsScript::Dns | WindowsScript::Dfs => result_json(&invocation.stdout).map(|_| ()),
    };
    parsed.map_err(|e| format!("{ended}, but {e}"))?;
    match last_line(&invocation.stdout) {
        ScriptEnd::Result(json) => Ok(json),
        ScriptEnd::Error(message) | ScriptEnd::Missing(message) => Err(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_double_every_kind_of_single_quote() {
        assert_eq!(quote("CORP\\O'Brien"), "'CORP\\O''Brien'");
        assert_eq!(quote("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }

    #[test]
    fn the_last_non_empty_line_decides() {
        assert_eq!(
            last_line("x\r\nFSXMIGRATE-RESULT {}\r\n\r\n"),
            ScriptEnd::Result("{}".into())
        );
        assert_eq!(
            last_line("FSXMIGRATE-ERROR denied\n"),
            ScriptEnd::Error("denied".into())
        );
        assert!(
            matches!(last_line("FSXMIGRATE-RESULT {}\nmore"), ScriptEnd::Missing(m) if m.contains("neither"))
        );
        assert!(matches!(last_line(""), ScriptEnd::Missing(_)));
    }
}
