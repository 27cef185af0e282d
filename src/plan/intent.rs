//! The intent half of the plan file: what the operator asked for, reviewed by people and never rewritten by
//! the tool. Every section denies unknown fields so a typo is an error naming the field and its line; every
//! AWS enum is parsed strictly (an unknown value is an error, not `Unknown`); and [`Intent::problems`] checks
//! the ranges AWS and the tool accept, so a plan that loads is a plan that can run.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::cloud::model::{
    ActiveDirectory, AuditLog, AuditLogLevel, DiskIops, DiskIopsMode, FileSystemSettings, Fsrm, LogLevel,
    NetworkType, PasswordSource, SecurityDescriptorCopy, StorageType, TaskReport, VerifyMode, strict,
};
use crate::cloud::port::{InspectRequest, NameService};
use crate::plan::units::{Bytes, Duration};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<Windows>,
}

/// Where fsx-migrate runs its PowerShell (`[windows]`): `freeze = "ssm"` needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Windows {
    /// A domain-joined Windows EC2 instance (or managed node) with the SSM agent, whose identity is an FSx
    /// administrator, and TCP 5985 open to the file systems: SendCommand runs the scripts there.
    pub ssm_instance_id: String,
    /// Accounts that keep write access and their SMB sessions during the freeze (`DOMAIN\name`), besides the
    /// DataSync user, which is always kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_accounts: Vec<String>,
    /// Before the cutover gate, copy the source's shares (with their permissions) and the in-server settings
    /// DataSync does not carry (shadow copies, deduplication, user quotas, SMB server settings) to the target,
    /// and verify them (scripts/windows/export.ps1 and apply.ps1). Default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub copy_shares: bool,
    /// Shares deliberately not moved (by name): the copy of shares neither stops for them nor creates them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares_left_behind: Vec<String>,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// Commands told about the migration's events (`[hooks]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    /// Run with one JSON event on stdin for every phase change, the gate, every stop and the end; a failure is
    /// logged, never fatal.
    pub on_event: String,
    /// How long the hook may run (1s–10m, default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
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
    #[serde(deserialize_with = "strict_settings")]
    pub settings: FileSystemSettings,
}

/// `[target.settings]` as the operator writes it: [`FileSystemSettings`] with its enums parsed strictly.
/// (`FileSystemSettings`' own `Deserialize` stays lenient: it also describes what AWS returns.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanSettings {
    storage_capacity_gib: u32,
    #[serde(deserialize_with = "strict::value")]
    storage_type: StorageType,
    throughput_capacity_mbps: u32,
    #[serde(default)]
    active_directory: Option<ActiveDirectory>,
    automatic_backup_retention_days: u32,
    #[serde(default)]
    daily_automatic_backup_start_time: Option<String>,
    #[serde(default)]
    weekly_maintenance_start_time: Option<String>,
    copy_tags_to_backups: bool,
    #[serde(default)]
    kms_key_id: Option<String>,
    #[serde(default)]
    audit_log: Option<PlanAuditLog>,
    #[serde(default)]
    disk_iops: Option<PlanDiskIops>,
    #[serde(default)]
    fsrm: Option<Fsrm>,
    #[serde(default, deserialize_with = "strict::optional_string_of::<_, NetworkType>")]
    network_type: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanAuditLog {
    #[serde(deserialize_with = "strict::string_of::<_, AuditLogLevel>")]
    file_access: String,
    #[serde(deserialize_with = "strict::string_of::<_, AuditLogLevel>")]
    file_share_access: String,
    #[serde(default)]
    destination: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanDiskIops {
    #[serde(deserialize_with = "strict::string_of::<_, DiskIopsMode>")]
    mode: String,
    #[serde(default)]
    iops: Option<u64>,
}

fn strict_settings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FileSystemSettings, D::Error> {
    let s = PlanSettings::deserialize(d)?;
    // A struct literal, not `..`: a field added to FileSystemSettings must be added here too.
    Ok(FileSystemSettings {
        storage_capacity_gib: s.storage_capacity_gib,
        storage_type: s.storage_type,
        throughput_capacity_mbps: s.throughput_capacity_mbps,
        active_directory: s.active_directory,
        automatic_backup_retention_days: s.automatic_backup_retention_days,
        daily_automatic_backup_start_time: s.daily_automatic_backup_start_time,
        weekly_maintenance_start_time: s.weekly_maintenance_start_time,
        copy_tags_to_backups: s.copy_tags_to_backups,
        kms_key_id: s.kms_key_id,
        audit_log: s.audit_log.map(|a| AuditLog {
            file_access: a.file_access,
            file_share_access: a.file_share_access,
            destination: a.destination,
        }),
        disk_iops: s.disk_iops.map(|d| DiskIops {
            mode: d.mode,
            iops: d.iops,
        }),
        fsrm: s.fsrm,
        network_type: s.network_type,
        tags: s.tags,
    })
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
    #[serde(deserialize_with = "strict::value")]
    pub security_descriptor_copy: SecurityDescriptorCopy,
    /// Verification for the initial and incremental runs, while users still write.
    #[serde(deserialize_with = "strict::value")]
    pub verify_mode_live: VerifyMode,
    /// Verification for the final run, after the freeze. POINT_IN_TIME_CONSISTENT re-reads everything.
    #[serde(deserialize_with = "strict::value")]
    pub verify_mode_final: VerifyMode,
    /// The CloudWatch log group DataSync logs to; its BASIC log lists every skipped or failed file.
    /// fsx-migrate creates it if it does not exist. Remove it (or set `log_level = "OFF"`) to opt out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_log_group_arn: Option<String>,
    /// DataSync's LogLevel: BASIC (errors and skipped files, the default with a log group), TRANSFER or OFF.
    #[serde(
        default,
        deserialize_with = "strict::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub log_level: Option<LogLevel>,
    /// Optional DataSync task report to S3 (ERRORS_ONLY): the list of skipped and failed files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_report: Option<TaskReport>,
    /// DataSync exclude patterns (SIMPLE_PATTERN), joined with `|` in the task.
    pub excludes: Vec<String>,
    /// The partition of the share into lanes (one DataSync task each), from an inventory. Empty: one lane
    /// (`all`) over the whole share. Otherwise a `rest` lane is added that excludes every lane's folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lanes: Vec<LaneSpec>,
    /// At most this many DataSync executions run at once (each uses network interfaces in the preferred
    /// subnet). Default [`DEFAULT_MAX_PARALLEL_TASKS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_tasks: Option<u32>,
    /// The budget of source plus destination files and directories one execution may count (DataSync's
    /// quota is 25 million). Default [`DEFAULT_ENTRIES_PER_EXECUTION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries_per_execution: Option<u64>,
    /// The inventory `lanes` were computed from (`plan --inventory`), with what the rest lane held then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventorySummary>,
}

/// `[transfer.inventory]`: where the lanes came from, for the reviewer and for forecasting the rest lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySummary {
    /// The inventory file's name, as given to `plan --inventory`.
    pub file: String,
    /// SHA-256 of the file: which inventory exactly.
    pub sha256: String,
    /// When the file was last written: about when the inventory was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<jiff::Timestamp>,
    /// Files plus directories in the whole share (the folders themselves included), and their bytes.
    pub entries: u64,
    pub bytes: u64,
    /// Source files plus directories the rest lane copied, and their bytes.
    pub rest_entries: u64,
    pub rest_bytes: u64,
}

/// Default of `transfer.max_parallel_tasks`.
pub const DEFAULT_MAX_PARALLEL_TASKS: u32 = 24;
/// Default of `transfer.entries_per_execution`: DataSync's 25 M quota with a margin.
pub const DEFAULT_ENTRIES_PER_EXECUTION: u64 = 20_000_000;
pub use crate::cloud::port::{REST_LANE, WHOLE_SHARE_LANE};

/// One lane of the partition: a DataSync task whose Includes filter names these folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneSpec {
    pub name: String,
    /// Folders relative to the location's subdirectory, each starting with `/` (e.g. `/Projects/A`).
    pub includes: Vec<String>,
    /// Source files plus directories under these folders (the folders themselves included) when the
    /// inventory was taken. Twice this (source and destination) must fit `entries_per_execution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// Bytes under these folders when the inventory was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Transfer {
    pub fn max_parallel_tasks(&self) -> u32 {
        self.max_parallel_tasks.unwrap_or(DEFAULT_MAX_PARALLEL_TASKS)
    }

    pub fn entries_per_execution(&self) -> u64 {
        self.entries_per_execution
            .unwrap_or(DEFAULT_ENTRIES_PER_EXECUTION)
    }
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
    /// The bandwidth initial and incremental syncs may use (DataSync `BytesPerSecond`); unset: unlimited.
    /// The final and reverse syncs, inside the downtime, are never limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<Bytes>,
    /// A lower limit while the business works, so the copy does not starve the users of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHours>,
}

/// Weekly hours (like a cutover window) with their own bandwidth limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub time_zone: String,
    /// When each working day starts: "Mon 08:00", …
    pub opens: Vec<String>,
    pub duration: Duration,
    pub bytes_per_second: Bytes,
}

impl BusinessHours {
    /// The hours as a window (the same weekly openings).
    pub fn hours(&self) -> CutoverWindow {
        CutoverWindow {
            time_zone: self.time_zone.clone(),
            opens: self.opens.clone(),
            duration: self.duration,
        }
    }
}

/// How the source stops accepting writes before the final sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezeKind {
    /// The operator freezes the source by hand and confirms.
    Manual,
    /// fsx-migrate runs `freeze_command`; a non-zero exit stops the run.
    Command,
    /// fsx-migrate runs `scripts/windows/freeze.ps1` through SSM on `windows.ssm_instance_id` (and
    /// `unfreeze.ps1` with the permissions it recorded, to undo it).
    Ssm,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoverPolicy {
    pub freeze: FreezeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_command: Option<String>,
    /// Undoes `freeze_command` at the end of a rollback (with `freeze = "command"`); without it, a person
    /// unfreezes the source and confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfreeze_command: Option<String>,
    /// How long the freeze or unfreeze command may run before it is stopped (and the run stops); default 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeout: Option<Duration>,
    /// When the business allows the freeze; outside it the run holds at the gate and keeps the copy warm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<CutoverWindow>,
    /// The downtime budget: the freeze starts only when the predicted downtime users see fits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_downtime: Option<Duration>,
    /// While holding for the window, an incremental on every lane whose last sync is older than this;
    /// default `sync.max_delta_age`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_warm_interval: Option<Duration>,
    /// The delete guard: the final sync may remove at most this many files from the target before the DNS swap.
    pub max_final_deletes: u64,
}

/// Weekly openings in a time zone, each lasting `duration`: e.g. Saturday 22:00 for 4h, Asia/Tokyo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoverWindow {
    /// An IANA time zone name, e.g. "Asia/Tokyo" or "UTC".
    pub time_zone: String,
    /// When each opening starts: a weekday and a 24-hour local time, e.g. "Sat 22:00".
    pub opens: Vec<String>,
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// Where the record lives: Route 53 (the default) or an Active Directory-integrated DNS zone.
    #[serde(default, skip_serializing_if = "NameProvider::is_route53")]
    pub provider: NameProvider,
    /// Route 53: the hosted zone holding the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hosted_zone_id: String,
    pub record_name: String,
    pub ttl: u64,
    /// AD DNS: the zone holding the record (e.g. `corp.example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
    /// AD DNS: the DNS servers (domain controllers) clients ask. The record is changed on the first; the
    /// swap is in sync once every one answers the new value (AD replicates the zone between them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<String>,
    /// DFS: the path below the file server the folder's target names (e.g. `share\data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_path: Option<String>,
}

impl Dns {
    /// The service holding the name when it is not Route 53; `windows` is where its script runs.
    pub fn service(&self, windows: Option<&Windows>) -> Option<NameService> {
        let ssm_instance_id = windows.map(|w| w.ssm_instance_id.clone()).unwrap_or_default();
        match self.provider {
            NameProvider::Route53 => None,
            NameProvider::AdDns => Some(NameService::AdDns {
                zone_name: self.zone_name.clone().unwrap_or_default(),
                dns_servers: self.dns_servers.clone(),
                ssm_instance_id,
            }),
            NameProvider::Dfs => Some(NameService::Dfs {
                share_path: self.share_path.clone().unwrap_or_default(),
                ssm_instance_id,
            }),
        }
    }

    /// The type the users' record has: a CNAME, or (DFS) a namespace folder.
    pub fn record_type(&self) -> &'static str {
        match self.provider {
            NameProvider::Dfs => "DFS",
            NameProvider::Route53 | NameProvider::AdDns => "CNAME",
        }
    }
}

/// Where the users' record lives (`[dns] provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameProvider {
    /// An Amazon Route 53 hosted zone (`hosted_zone_id`).
    #[default]
    Route53,
    /// An Active Directory-integrated DNS zone (`zone_name`, `dns_servers`), changed through SSM on
    /// `[windows] ssm_instance_id` with scripts/windows/dns.ps1.
    AdDns,
    /// A DFS namespace folder (`record_name` is its path, e.g. `\\corp.example.com\files\data`) whose target
    /// moves to `\\<target DNS name>\<share_path>`, through SSM with scripts/windows/dfs.ps1.
    Dfs,
}

impl NameProvider {
    fn is_route53(&self) -> bool {
        *self == NameProvider::Route53
    }
}

impl Intent {
    /// The facts preflight needs for this intent (the password sources are checked, never read out).
    pub fn inspect_request(&self) -> InspectRequest {
        InspectRequest {
            source_file_system_id: self.source.file_system_id.clone(),
            subnet_ids: self.target.subnet_ids.clone(),
            hosted_zone_id: self.dns.hosted_zone_id.clone(),
            record_name: self.dns.record_name.clone(),
            name_service: self.name_service(),
            password_sources: std::iter::once(self.transfer.smb_password.clone())
                .chain(self.target.ad_join_password.clone())
                .collect(),
            security_group_ids: Some(self.target.security_group_ids.clone()),
        }
    }

    /// Where the users' name lives when it is not in Route 53 (the name-switch seam).
    pub fn name_service(&self) -> Option<NameService> {
        self.dns.service(self.windows.as_ref())
    }

    /// The same facts without the password sources: the re-checks before irreversible steps.
    pub fn recheck_request(&self) -> InspectRequest {
        InspectRequest {
            password_sources: Vec::new(),
            security_group_ids: None,
            ..self.inspect_request()
        }
    }

    /// SHA-256 of the intent's canonical JSON: comments and formatting do not change it, values do.
    pub fn sha256(&self) -> String {
        sha256_hex(self.canonical_json().as_bytes())
    }

    /// One-line JSON with the keys of every object sorted (byte order), at every depth.
    ///
    /// The sorting is done here, explicitly: `serde_json::Value` keeps insertion order when serde_json's
    /// `preserve_order` feature is on, and the AWS SDK turns it on in this dependency graph. Stored at run
    /// start (`intent_at_start`) so a later edit can be named field by field.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self).expect("intent always serialises");
        let mut out = String::new();
        write_canonical(&value, &mut out);
        out
    }

    /// The hash that fsx-migrate releases before the canonical one pinned (`intent_sha256`): the JSON of the
    /// intent with its keys in declaration order (what `Value::to_string` gave with `preserve_order` on).
    /// A plan whose run started with such a release stores this hash; see [`Intent::sha256_matches`].
    pub fn legacy_sha256(&self) -> String {
        let json = serde_json::to_string(self).expect("intent always serialises");
        sha256_hex(json.as_bytes())
    }

    /// True if `pinned` (a checkpoint's `intent_sha256`) is this intent's hash, canonical or legacy.
    pub fn sha256_matches(&self, pinned: &str) -> bool {
        pinned == self.sha256() || pinned == self.legacy_sha256()
    }

    /// The idempotency token for CreateFileSystem: derived from the plan id, so it is the same on every
    /// resume and in every process. See [`client_token`].
    pub fn target_client_token(&self) -> String {
        client_token(&self.migration.id, "target")
    }
}

/// An idempotency token `fsx-migrate-<id>-<what>` for the plan id `id`, within FSx's limits (1–63 characters
/// of `[A-Za-z0-9_.-]`).
///
/// A valid plan id (see [`check_plan_id`]) always fits, and gives exactly that text, as every release did, so
/// migrations in flight keep their token. Any other id (too long, or with other characters) gives
/// `fsx-migrate-<up to 27 allowed characters of the id>-<16 hex digits of the SHA-256 of the whole id>-<what>`:
/// two ids never share a token because they share a prefix.
pub fn client_token(id: &str, what: &str) -> String {
    let token = format!("fsx-migrate-{id}-{what}");
    if token.len() <= MAX_CLIENT_TOKEN_LEN && token.chars().all(is_token_char) {
        return token;
    }
    let digest = sha256_hex(id.as_bytes());
    let room = MAX_CLIENT_TOKEN_LEN.saturating_sub("fsx-migrate-".len() + 1 + 16 + 1 + what.len());
    let prefix: String = id.chars().filter(|c| is_token_char(*c)).take(room).collect();
    format!("fsx-migrate-{prefix}-{}-{what}", &digest[..16])
}

/// FSx's `ClientRequestToken` limit.
pub const MAX_CLIENT_TOKEN_LEN: usize = 63;

/// The longest plan id: `fsx-migrate-<id>-target` must fit in a `ClientRequestToken`.
pub const MAX_PLAN_ID_LEN: usize = MAX_CLIENT_TOKEN_LEN - "fsx-migrate-".len() - "-target".len();

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a plan id: 1–44 characters of `A-Z a-z 0-9 _ . -` (it goes into tags, names and tokens).
pub fn check_plan_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the plan id is empty".into());
    }
    if let Some(bad) = id.chars().find(|c| !is_token_char(*c)) {
        return Err(format!(
            "the plan id contains {bad:?}: use only letters, digits, '_', '.' and '-'"
        ));
    }
    if id.len() > MAX_PLAN_ID_LEN {
        return Err(format!(
            "the plan id is {} characters long; at most {MAX_PLAN_ID_LEN} fit in FSx's 63-character ClientRequestToken",
            id.len()
        ));
    }
    Ok(())
}

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

// ---- validation ---------------------------------------------------------------------------------------------

/// Route 53's largest TTL (seconds).
pub const MAX_DNS_TTL: u64 = 2_147_483_647;

/// Throughput capacities (MB/s) a MULTI_AZ_1 FSx for Windows file system can be created with. Multi-AZ starts
/// at 32 MB/s (8 and 16 are Single-AZ only); 2023's guide stops at 2048, today's FSx also offers the larger
/// sizes.
pub const MULTI_AZ_THROUGHPUT_MBPS: [u32; 12] =
    [32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288];

/// FSx takes at most 50 tags per file system.
pub const MAX_TAGS: usize = 50;

/// Tags fsx-migrate adds to the target itself: `fsx-migrate:plan-id` and `fsx-migrate:source-id`.
pub const TOOL_TAGS: usize = 2;

/// Tag keys starting with this are fsx-migrate's own.
pub const TOOL_TAG_PREFIX: &str = "fsx-migrate:";

/// Storage capacity limits (GiB) per storage type for FSx for Windows.
pub fn storage_limits(storage_type: &StorageType) -> Option<(u32, u32)> {
    match storage_type {
        StorageType::Ssd => Some((32, 65_536)),
        StorageType::Hdd => Some((2_000, 65_536)),
        _ => None,
    }
}

/// The smallest Multi-AZ throughput capacity of at least `mbps` (the largest one if none is).
pub fn multi_az_throughput(mbps: u32) -> u32 {
    MULTI_AZ_THROUGHPUT_MBPS
        .into_iter()
        .find(|t| *t >= mbps)
        .unwrap_or(MULTI_AZ_THROUGHPUT_MBPS[MULTI_AZ_THROUGHPUT_MBPS.len() - 1])
}

/// The bounds of each duration in `[sync]`: (field, least, most).
pub const DURATION_BOUNDS: [(&str, Duration, Duration); 4] = [
    ("poll_interval", Duration::secs(1), Duration::hours(1)),
    ("pause_between_runs", Duration::secs(0), Duration::hours(7 * 24)),
    ("converged_duration", Duration::secs(1), Duration::hours(7 * 24)),
    ("max_delta_age", Duration::mins(1), Duration::hours(30 * 24)),
];

/// The most incremental runs a plan may allow.
pub const MAX_INCREMENTAL_RUNS: u32 = 1000;

/// The most times a failed execution may be started again.
pub const MAX_RETRY_FAILED_EXECUTIONS: u32 = 100;

/// One thing wrong with an intent: the field (dotted path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl Intent {
    /// Every value outside what AWS or fsx-migrate accepts, with its field. Empty for a valid intent.
    ///
    /// The types already refuse what cannot be parsed; this checks ranges, formats and limits, so that a plan
    /// that loads does not fail at CreateFileSystem, hang the dry run or never converge.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut problem = |field: &str, message: String| {
            out.push(Problem {
                field: field.to_string(),
                message,
            })
        };

        if let Err(e) = check_plan_id(&self.migration.id) {
            problem("migration.id", e);
        }

        let s = &self.target.settings;
        match storage_limits(&s.storage_type) {
            Some((least, most)) => {
                if !(least..=most).contains(&s.storage_capacity_gib) {
                    problem(
                        "target.settings.storage_capacity_gib",
                        format!(
                            "{} GiB is outside {least}-{most} GiB, the range of {} storage",
                            s.storage_capacity_gib, s.storage_type
                        ),
                    );
                }
            }
            None => problem(
                "target.settings.storage_type",
                format!(
                    "{} is not available for FSx for Windows: use SSD or HDD",
                    s.storage_type
                ),
            ),
        }
        if !MULTI_AZ_THROUGHPUT_MBPS.contains(&s.throughput_capacity_mbps) {
            let values: Vec<String> = MULTI_AZ_THROUGHPUT_MBPS.iter().map(u32::to_string).collect();
            problem(
                "target.settings.throughput_capacity_mbps",
                format!(
                    "{} MB/s is not a Multi-AZ throughput capacity: use one of {} (the nearest is {})",
                    s.throughput_capacity_mbps,
                    values.join(", "),
                    multi_az_throughput(s.throughput_capacity_mbps)
                ),
            );
        }
        if s.automatic_backup_retention_days > 90 {
            problem(
                "target.settings.automatic_backup_retention_days",
                format!("{} days is more than 90", s.automatic_backup_retention_days),
            );
        }
        if let Some(t) = &s.daily_automatic_backup_start_time
            && !is_hh_mm(t)
        {
            problem(
                "target.settings.daily_automatic_backup_start_time",
                format!("{} is not a time of day written HH:MM (UTC)", shorten(t)),
            );
        }
        if let Some(t) = &s.weekly_maintenance_start_time
            && !t.split_once(':').is_some_and(|(day, time)| {
                matches!(day, "1" | "2" | "3" | "4" | "5" | "6" | "7") && is_hh_mm(time)
            })
        {
            problem(
                "target.settings.weekly_maintenance_start_time",
                format!(
                    "{} is not written d:HH:MM (UTC, d = 1 for Monday to 7)",
                    shorten(t)
                ),
            );
        }
        if let Some(audit) = &s.audit_log
            && audit.destination.is_some()
            && audit.file_access == "DISABLED"
            && audit.file_share_access == "DISABLED"
        {
            problem(
                "target.settings.audit_log.destination",
                "FSx refuses a destination when both audit levels are DISABLED".into(),
            );
        }
        let user_tags = MAX_TAGS - TOOL_TAGS;
        if s.tags.len() > user_tags {
            problem(
                "target.settings.tags",
                format!(
                    "{} tags: FSx takes {MAX_TAGS} per file system and fsx-migrate adds {TOOL_TAGS} \
                     (fsx-migrate:plan-id, fsx-migrate:source-id), so at most {user_tags}",
                    s.tags.len()
                ),
            );
        }
        for (key, value) in &s.tags {
            let field = format!("target.settings.tags.{}", toml_key(key));
            let chars = key.chars().count();
            if chars == 0 || chars > 128 {
                problem(
                    &field,
                    format!("a tag key has 1-128 characters, this one {chars}"),
                );
            }
            if key.starts_with("aws:") {
                problem(&field, "tag keys starting with aws: are reserved for AWS".into());
            }
            if key.starts_with(TOOL_TAG_PREFIX) {
                problem(
                    &field,
                    format!("tag keys starting with {TOOL_TAG_PREFIX} are fsx-migrate's own"),
                );
            }
            if value.chars().count() > 256 {
                problem(
                    &field,
                    format!(
                        "a tag value has at most 256 characters, this one {}",
                        value.chars().count()
                    ),
                );
            }
        }

        let sync = &self.sync;
        for (name, least, most) in DURATION_BOUNDS {
            let value = match name {
                "poll_interval" => sync.poll_interval,
                "pause_between_runs" => sync.pause_between_runs,
                "converged_duration" => sync.converged_duration,
                _ => sync.max_delta_age,
            };
            if value < least || value > most {
                problem(
                    &format!("sync.{name}"),
                    format!("{value} is outside {least} to {most}"),
                );
            }
        }
        if let Some(hours) = &self.sync.business_hours {
            for p in crate::plan::window::window_problems(&hours.hours()) {
                problem("sync.business_hours", p);
            }
        }
        for (name, limit) in [
            ("sync.bytes_per_second", self.sync.bytes_per_second),
            (
                "sync.business_hours.bytes_per_second",
                self.sync.business_hours.as_ref().map(|h| h.bytes_per_second),
            ),
        ] {
            // DataSync takes at least 1 MiB/s (1048576 bytes).
            if let Some(limit) = limit
                && limit.0 < 1 << 20
            {
                problem(
                    name,
                    format!("{limit} is under DataSync's least limit, 1 MiB (per second)"),
                );
            }
        }
        if let Some(timeout) = self.cutover.command_timeout
            && (timeout < Duration::secs(1) || timeout > Duration::hours(24))
        {
            problem(
                "cutover.command_timeout",
                format!("{timeout} is outside 1s to 1d"),
            );
        }
        if let Some(hooks) = &self.hooks {
            if hooks.on_event.trim().is_empty() {
                problem(
                    "hooks.on_event",
                    "is empty: remove [hooks] or name a command".into(),
                );
            }
            if let Some(t) = hooks.timeout
                && (t < Duration::secs(1) || t > Duration::mins(10))
            {
                problem("hooks.timeout", format!("{t} is outside 1s to 10m"));
            }
        }
        if let Some(window) = &self.cutover.window {
            for p in crate::plan::window::window_problems(window) {
                problem("cutover.window", p);
            }
        }
        for (name, value) in [
            ("cutover.max_downtime", self.cutover.max_downtime),
            ("cutover.keep_warm_interval", self.cutover.keep_warm_interval),
        ] {
            if let Some(d) = value
                && (d < Duration::mins(1) || d > Duration::hours(7 * 24))
            {
                problem(name, format!("{d} is outside 1m to 7d"));
            }
        }
        match (&self.windows, self.cutover.freeze) {
            (None, FreezeKind::Ssm) => problem(
                "cutover.freeze",
                "is \"ssm\", but the plan has no [windows] section naming windows.ssm_instance_id".into(),
            ),
            (Some(windows), _) => {
                if !is_managed_node_id(&windows.ssm_instance_id) {
                    problem(
                        "windows.ssm_instance_id",
                        format!(
                            "{:?} is not an EC2 instance id (i-0123456789abcdef0) or an SSM managed node id (mi-…)",
                            windows.ssm_instance_id
                        ),
                    );
                }
                if windows.keep_accounts.iter().any(|a| a.trim().is_empty()) {
                    problem("windows.keep_accounts", "holds an empty account name".into());
                }
                if windows.shares_left_behind.iter().any(|a| a.trim().is_empty()) {
                    problem("windows.shares_left_behind", "holds an empty share name".into());
                }
            }
            (None, _) => {}
        }
        if self.cutover.unfreeze_command.is_some() && self.cutover.freeze != FreezeKind::Command {
            problem(
                "cutover.unfreeze_command",
                "is set, but cutover.freeze is not \"command\": the freeze and the unfreeze are done the same way"
                    .into(),
            );
        }
        if sync.max_delta_age.as_secs() < 2 * sync.poll_interval.as_secs() {
            problem(
                "sync.max_delta_age",
                format!(
                    "{} is less than twice sync.poll_interval ({}): every sync would look stale by the time \
                     its end is seen, and the gate would never open",
                    sync.max_delta_age, sync.poll_interval
                ),
            );
        }
        if sync.converged_changed_files == 0 {
            problem(
                "sync.converged_changed_files",
                "0 can never be reached (a sync converges when it changed fewer files than this)".into(),
            );
        }
        if sync.converged_changed_bytes.0 == 0 {
            problem(
                "sync.converged_changed_bytes",
                "0 can never be reached (a sync converges when it changed fewer bytes than this)".into(),
            );
        }
        if !(1..=MAX_INCREMENTAL_RUNS).contains(&sync.max_incremental_runs) {
            problem(
                "sync.max_incremental_runs",
                format!(
                    "{} is outside 1-{MAX_INCREMENTAL_RUNS}",
                    sync.max_incremental_runs
                ),
            );
        }
        if sync.retry_failed_executions > MAX_RETRY_FAILED_EXECUTIONS {
            problem(
                "sync.retry_failed_executions",
                format!(
                    "{} is more than {MAX_RETRY_FAILED_EXECUTIONS}",
                    sync.retry_failed_executions
                ),
            );
        }

        self.transfer.lane_problems(&mut problem);

        match self.dns.provider {
            NameProvider::Route53 if self.dns.hosted_zone_id.trim().is_empty() => {
                problem(
                    "dns.hosted_zone_id",
                    "is required with the Route 53 provider (the default)".into(),
                );
            }
            NameProvider::Route53 => {}
            NameProvider::AdDns => {
                let zone = self
                    .dns
                    .zone_name
                    .as_deref()
                    .unwrap_or_default()
                    .trim_end_matches('.');
                if zone.is_empty() {
                    problem("dns.zone_name", "is required with provider = \"ad_dns\"".into());
                } else if !self
                    .dns
                    .record_name
                    .trim_end_matches('.')
                    .to_lowercase()
                    .ends_with(&format!(".{}", zone.to_lowercase()))
                {
                    problem(
                        "dns.record_name",
                        format!("{} is not a name in the zone {zone}", self.dns.record_name),
                    );
                }
                if self.dns.dns_servers.is_empty() || self.dns.dns_servers.iter().any(|s| s.trim().is_empty())
                {
                    problem(
                        "dns.dns_servers",
                        "must name the DNS servers clients ask (the record is changed on the first)".into(),
                    );
                }
                if self.windows.is_none() {
                    problem(
                        "dns.provider",
                        "\"ad_dns\" needs a [windows] section: dns.ps1 runs through SSM on its instance"
                            .into(),
                    );
                }
            }
            NameProvider::Dfs => {
                let path = &self.dns.record_name;
                let parts = path.split('\\').filter(|p| !p.is_empty()).count();
                if !path.starts_with("\\\\") || parts < 3 {
                    problem(
                        "dns.record_name",
                        format!("{path} is not a DFS folder path (\\\\domain\\namespace\\folder)"),
                    );
                }
                if self
                    .dns
                    .share_path
                    .as_deref()
                    .is_none_or(|p| p.trim_matches('\\').is_empty())
                {
                    problem(
                        "dns.share_path",
                        "is required with provider = \"dfs\": the path below the file server the target names \
                         (e.g. share\\data)"
                            .into(),
                    );
                }
                if self.windows.is_none() {
                    problem(
                        "dns.provider",
                        "\"dfs\" needs a [windows] section: dfs.ps1 runs through SSM on its instance".into(),
                    );
                }
            }
        }
        if self.dns.ttl > MAX_DNS_TTL {
            problem(
                "dns.ttl",
                format!(
                    "{} is more than Route 53's largest TTL, {MAX_DNS_TTL} seconds",
                    self.dns.ttl
                ),
            );
        }
        out
    }
}

/// The most DataSync executions a plan may run at once. Every lane is a DataSync task, the account's quota
/// is 100 tasks per Region (adjustable), and DataSync places the tasks' network interfaces in the preferred
/// subnet: more than 100 at once is a typo rather than a plan (docs/aws-facts.md).
pub const MAX_PARALLEL_TASKS: u32 = 100;

/// DataSync's quota of source plus destination files and directories per execution (Basic mode, between
/// AWS storage services).
pub const DATASYNC_ENTRIES_PER_EXECUTION: u64 = 25_000_000;

/// Checks `transfer.max_parallel_tasks`.
pub fn check_max_parallel_tasks(n: u32) -> Result<(), String> {
    if (1..=MAX_PARALLEL_TASKS).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "{n} is outside 1-{MAX_PARALLEL_TASKS} (DataSync's default quota is 100 tasks per Region)"
        ))
    }
}

/// Checks `transfer.entries_per_execution`.
pub fn check_entries_per_execution(n: u64) -> Result<(), String> {
    if (1..=DATASYNC_ENTRIES_PER_EXECUTION).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "{n} is outside 1-{DATASYNC_ENTRIES_PER_EXECUTION}, DataSync's quota of source plus destination \
             files and directories per execution"
        ))
    }
}

/// A lane name: `^[a-z0-9][a-z0-9-]{0,31}$` (it goes into tags and task names).
fn is_lane_name(name: &str) -> bool {
    let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.len() <= 32 && name.chars().next().is_some_and(lower) && name.chars().all(|c| lower(c) || c == '-')
}

impl Transfer {
    /// The problems of `lanes`, `max_parallel_tasks`, `entries_per_execution` and `inventory`.
    fn lane_problems(&self, problem: &mut impl FnMut(&str, String)) {
        if let Some(n) = self.max_parallel_tasks
            && let Err(e) = check_max_parallel_tasks(n)
        {
            problem("transfer.max_parallel_tasks", e);
        }
        if let Some(n) = self.entries_per_execution
            && let Err(e) = check_entries_per_execution(n)
        {
            problem("transfer.entries_per_execution", e);
        }
        let budget = self.entries_per_execution();
        let slots = self.max_parallel_tasks();
        if !self.lanes.is_empty() && self.lanes.len() as u64 >= u64::from(slots) {
            problem(
                "transfer.lanes",
                format!(
                    "{} lanes and the rest lane need {} parallel tasks; max_parallel_tasks is {slots}",
                    self.lanes.len(),
                    self.lanes.len() + 1
                ),
            );
        }
        let mut names = HashSet::new();
        for (i, lane) in self.lanes.iter().enumerate() {
            let field = format!("transfer.lanes[{}]", i + 1);
            if !is_lane_name(&lane.name) {
                problem(
                    &format!("{field}.name"),
                    format!(
                        "{} is not a lane name: 1-32 of a-z 0-9 -, starting with a letter or digit",
                        shorten(&lane.name)
                    ),
                );
            } else if lane.name == WHOLE_SHARE_LANE || lane.name == REST_LANE {
                problem(
                    &format!("{field}.name"),
                    format!("{:?} is reserved for fsx-migrate's own lane", lane.name),
                );
            } else if !names.insert(lane.name.as_str()) {
                problem(
                    &format!("{field}.name"),
                    format!("{:?} names two lanes", lane.name),
                );
            }
            if lane.includes.is_empty() {
                problem(
                    &format!("{field}.includes"),
                    "is empty: a lane names at least one folder".into(),
                );
            }
            for include in &lane.includes {
                if let Err(e) = check_include(include) {
                    problem(&format!("{field}.includes"), e);
                }
            }
            if let Some(entries) = lane.entries
                && entries.saturating_mul(2) > budget
            {
                problem(
                    &format!("{field}.entries"),
                    format!(
                        "{entries} source entries count {} with the destination's, more than \
                         entries_per_execution ({budget})",
                        entries.saturating_mul(2)
                    ),
                );
            }
        }
        for (a, b) in overlapping_includes(&self.lanes) {
            problem(
                "transfer.lanes",
                format!(
                    "{} ({}) and {} ({}) overlap: a path under both would be copied twice; name each \
                     folder in one lane, once",
                    shorten(a.include),
                    a.lane,
                    shorten(b.include),
                    b.lane
                ),
            );
        }
        // The rest lane's Excludes holds every pattern any other filter of the plan holds: the one to check.
        let mut rest_excludes = self.excludes.clone();
        rest_excludes.extend(self.lanes.iter().flat_map(|l| l.includes.iter().cloned()));
        let length = super::partition::filter_len(&rest_excludes);
        if length > super::partition::MAX_FILTER_CHARS {
            problem(
                "transfer.lanes",
                format!(
                    "the rest lane's Excludes (transfer.excludes and every lane's includes, joined with |) \
                     is {length} characters; DataSync takes {}",
                    super::partition::MAX_FILTER_CHARS
                ),
            );
        }
        if let Some(inventory) = &self.inventory
            && inventory.rest_entries.saturating_mul(2) > budget
        {
            problem(
                "transfer.inventory.rest_entries",
                format!(
                    "the rest lane's {} source entries count {} with the destination's, more than \
                     entries_per_execution ({budget})",
                    inventory.rest_entries,
                    inventory.rest_entries.saturating_mul(2)
                ),
            );
        }
    }
}

/// An include filter DataSync takes and that names folders: starts with `/`, no `|` (it separates
/// patterns), `*` only as the rightmost character, no control characters.
fn check_include(include: &str) -> Result<(), String> {
    let shown = shorten(include);
    if !include.starts_with('/') {
        Err(format!("{shown} does not start with /"))
    } else if include.contains('|') {
        Err(format!(
            "{shown} contains |, which separates patterns in a DataSync filter"
        ))
    } else if include.find('*').is_some_and(|i| i + 1 != include.len()) {
        Err(format!(
            "{shown} has a * that is not its last character (DataSync include filters allow no other)"
        ))
    } else if include.chars().any(char::is_control) {
        Err(format!("{shown} contains a control character"))
    } else {
        Ok(())
    }
}

/// One include of one lane.
#[derive(Debug, Clone, Copy)]
struct LaneInclude<'a> {
    lane: &'a str,
    include: &'a str,
}

/// Pairs of includes of which one equals or contains the other.
fn overlapping_includes(lanes: &[LaneSpec]) -> Vec<(LaneInclude<'_>, LaneInclude<'_>)> {
    let all: Vec<LaneInclude> = lanes
        .iter()
        .flat_map(|l| {
            l.includes.iter().map(|i| LaneInclude {
                lane: &l.name,
                include: i,
            })
        })
        .collect();
    let key = |include: &str| include.trim_end_matches('/').to_string();
    let mut seen: HashMap<String, LaneInclude> = HashMap::new();
    let mut out = Vec::new();
    let mut plain: Vec<LaneInclude> = all.iter().copied().filter(|i| !i.include.contains('*')).collect();
    // Byte order puts every folder before the folders under it.
    plain.sort_by_key(|i| key(i.include));
    for this in plain {
        let path = key(this.include);
        // The path and each folder above it ("" is the share root, written "/").
        let ancestors = std::iter::once(path.clone()).chain(
            path.char_indices()
                .filter(|&(_, c)| c == '/')
                .map(|(i, _)| path[..i].to_string()),
        );
        for ancestor in ancestors {
            if let Some(&other) = seen.get(&ancestor) {
                out.push((other, this));
            }
        }
        seen.entry(path).or_insert(this);
    }
    // Includes with a trailing `*` match by pattern, against every other include (each pair once).
    for (i, wild) in all.iter().enumerate().filter(|(_, w)| w.include.contains('*')) {
        let pattern = [wild.include.to_string()];
        let stem = wild.include.trim_end_matches('*');
        for (j, other) in all.iter().enumerate() {
            if i != j
                && (j > i || !other.include.contains('*'))
                && (crate::cloud::model::filter_matches(&pattern, &key(other.include))
                    || crate::cloud::model::filter_matches(&[other.include.to_string()], stem))
            {
                out.push((*wild, *other));
            }
        }
    }
    out
}

/// `HH:MM` with HH 00-23 and MM 00-59 (FSx also takes `HHMM`).
fn is_hh_mm(text: &str) -> bool {
    let digits: Vec<u32> = text
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_digit(10).unwrap_or(99))
        .collect();
    let colons = text.matches(':').count();
    let shape = match colons {
        0 => text.len() == 4,
        1 => text.len() == 5 && text.as_bytes()[2] == b':',
        _ => false,
    };
    shape
        && digits.len() == 4
        && digits.iter().all(|d| *d < 10)
        && digits[0] * 10 + digits[1] < 24
        && digits[2] < 6
}

/// A value for a message: quoted, and cut after 64 characters.
fn shorten(text: &str) -> String {
    let shown: String = text.chars().take(64).collect();
    if shown.len() < text.len() {
        format!("{shown:?}…")
    } else {
        format!("{shown:?}")
    }
}

/// A key as a dotted path shows it: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        shorten(key)
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

/// An EC2 instance id (`i-` and 8 or 17 hex digits) or an SSM managed node id (`mi-` and 17).
fn is_managed_node_id(id: &str) -> bool {
    let hex = |s: &str, lens: &[usize]| lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    match id.split_once('-') {
        Some(("i", rest)) => hex(rest, &[8, 17]),
        Some(("mi", rest)) => hex(rest, &[17]),
        _ => false,
    }
}
