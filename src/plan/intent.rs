//! The intent half of the plan file: what the operator asked for, reviewed by people and never rewritten by
//! the tool. Every section denies unknown fields so a typo is an error naming the field and its line.

use serde::{Deserialize, Serialize};

use crate::model::{FileSystemSettings, LogLevel, SecurityDescriptorCopy, TaskReport, VerifyMode};
use crate::units::{Bytes, Duration};

/// The version of the plan file format this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything the operator decides. Hashing it (see [`Intent::sha256`]) enforces invariant 8.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub migration: Migration,
    pub source: Source,
    pub target: Target,
    pub transfer: Transfer,
    pub sync: SyncPolicy,
    pub cutover: CutoverPolicy,
    pub dns: Dns,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// Tags every resource the tool creates (`fsx-migrate:plan-id`), and derives idempotency tokens.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub file_system_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Exactly two subnets in different Availability Zones of the source's VPC.
    pub subnet_ids: Vec<String>,
    /// The subnet of the preferred file server; one of `subnet_ids`.
    pub preferred_subnet_id: String,
    pub security_group_ids: Vec<String>,
    /// Where the self-managed AD join password comes from (required for a self-managed AD; never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_join_password: Option<PasswordSource>,
    /// Settings copied from the source by `plan` (`[target.settings]`).
    pub settings: FileSystemSettings,
}

/// Where the SMB password for DataSync comes from. It is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// An environment variable of the ops box.
    Env(String),
    /// A no-echo prompt on the terminal.
    Prompt,
    /// An AWS Secrets Manager secret (ARN or name).
    SecretsManager(String),
}

impl std::fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(var) => write!(f, "env:{var}"),
            Self::Prompt => f.write_str("prompt"),
            Self::SecretsManager(id) => write!(f, "secretsmanager:{id}"),
        }
    }
}

impl std::str::FromStr for PasswordSource {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            None if text == "prompt" => Ok(Self::Prompt),
            Some(("env", var)) if !var.is_empty() => Ok(Self::Env(var.to_string())),
            Some(("secretsmanager", id)) if !id.is_empty() => Ok(Self::SecretsManager(id.to_string())),
            _ => Err(format!(
                "invalid password source {text:?}: expected \"env:VARIABLE\", \"prompt\" or \"secretsmanager:ARN\""
            )),
        }
    }
}

impl Serialize for PasswordSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PasswordSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// SMB path DataSync mounts on the source, e.g. `/share`.
    pub source_subdirectory: String,
    pub target_subdirectory: String,
    /// The AD user DataSync connects as (member of the file system administrators group).
    pub smb_user: String,
    pub smb_domain: String,
    pub smb_password: PasswordSource,
    pub security_descriptor_copy: SecurityDescriptorCopy,
    /// Verification for the initial and incremental runs, while users still write.
    pub verify_mode_live: VerifyMode,
    /// Verification for the final run, after the freeze. POINT_IN_TIME_CONSISTENT re-reads everything.
    pub verify_mode_final: VerifyMode,
    /// The CloudWatch log group DataSync logs to; its BASIC log lists every skipped or failed file.
    /// fsx-migrate creates it if it does not exist. Remove it (or set `log_level = "OFF"`) to opt out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_log_group_arn: Option<String>,
    /// DataSync's LogLevel: BASIC (errors and skipped files, the default with a log group), TRANSFER or OFF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LogLevel>,
    /// Optional DataSync task report to S3 (ERRORS_ONLY): the list of skipped and failed files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_report: Option<TaskReport>,
    /// DataSync exclude patterns (SIMPLE_PATTERN), joined with `|` in the task.
    pub excludes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPolicy {
    /// Stop incrementals once the last one changed fewer files than this …
    pub converged_changed_files: u64,
    /// … and fewer bytes than this …
    pub converged_changed_bytes: Bytes,
    /// … and took less time than this.
    pub converged_duration: Duration,
    /// Give up converging after this many incremental runs and stop at the gate.
    pub max_incremental_runs: u32,
    /// Wait between two incremental runs.
    pub pause_between_runs: Duration,
    /// When the gate opens more than this after the last sync ended, run one more incremental first, so the
    /// freeze starts from a fresh, small delta (and the downtime prediction is current).
    pub max_delta_age: Duration,
    /// Start a failed execution again this many times before stopping the run.
    pub retry_failed_executions: u32,
    /// How often to poll a running execution.
    pub poll_interval: Duration,
}

/// How the source stops accepting writes before the final sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezeKind {
    /// The operator freezes the source by hand and confirms.
    Manual,
    /// fsx-migrate runs `freeze_command`; a non-zero exit stops the run.
    Command,
    /// The simulator's own freeze (simulator only).
    Simulator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoverPolicy {
    pub freeze: FreezeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_command: Option<String>,
    /// The delete guard: the final sync may remove at most this many files from the target before the DNS swap.
    pub max_final_deletes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    pub hosted_zone_id: String,
    pub record_name: String,
    pub ttl: u64,
}

impl Intent {
    /// SHA-256 of the intent's canonical JSON: comments and formatting do not change it, values do.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.canonical_json().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// One-line JSON with sorted keys; stored at run start so a later edit can be named field by field.
    pub fn canonical_json(&self) -> String {
        // serde_json::Value sorts object keys (BTreeMap), which makes this canonical.
        let value = serde_json::to_value(self).expect("intent always serialises");
        value.to_string()
    }

    /// The idempotency token for CreateFileSystem: derived from the plan id, so it is the same on every
    /// resume and in every process (at most 63 characters, FSx's limit).
    pub fn target_client_token(&self) -> String {
        let token = format!("fsx-migrate-{}-target", self.migration.id);
        token.chars().take(63).collect()
    }
}

/// Lists the dotted paths of fields whose values differ between two canonical intent JSONs.
pub fn changed_fields(before_json: &str, after: &Intent) -> Vec<String> {
    let before: serde_json::Value = serde_json::from_str(before_json).unwrap_or(serde_json::Value::Null);
    let after = serde_json::to_value(after).expect("intent always serialises");
    let mut out = Vec::new();
    diff_values("", &before, &after, &mut out);
    out
}

fn diff_values(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff_values(
                    &child,
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push(format!("{path}: {a} → {b}")),
        _ => {}
    }
}
