//! The simulated world: a Single-AZ source with its data and users, subnets, a hosted zone, and whatever
//! fsx-migrate created in it — plus the accounting that proves a migration lost nothing.
//!
//! The world is plain data (it is persisted as JSON); its state at any time is derived from it by the
//! functions here, so a world file can be reopened hours of simulated time later and still be exact.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::faults::FaultRule;
use super::model::{
    DataProfile, ExecutionSchedule, ModelConstants, OutOfRange, WriteProcess, check_sim_speed, check_u64,
    limits,
};
use crate::cloud::model::dns_eq;
use crate::cloud::model::{
    ChangeStatus, DnsRecord, ExecutionCounters, ExecutionInfo, ExecutionStatus, FileSystemInfo, Lifecycle,
    PhaseDurations, SubnetInfo, SyncKind, VerifyMode,
};
use crate::cloud::port::{CreateTargetRequest, MigrationResource, PLAN_TAG, ResourceKind, SOURCE_TAG};
use crate::cloud::windows::{NotCarried, ServiceExport, ShareAccess, ShareConfig};

/// Version 2: the data's folder tree, tasks with filters, executions sharing the hardware.
pub const WORLD_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub version: u32,
    pub scenario: String,
    pub region: String,
    pub account: String,
    /// Real and simulated time at the last anchoring, for `--sim-speed` (see [`crate::engine::clock::Clock::Scaled`]).
    /// `None` until the first `run`: a new world's clock stands still, so plans and dry runs are repeatable.
    pub anchor_real: Option<Timestamp>,
    pub anchor_sim: Timestamp,
    pub speed: f64,
    /// `--sim-speed max`: event time. The clock stands at `last_seen` between calls and jumps to each wake-up
    /// the driver sleeps until (`anchor_real` is `None`).
    #[serde(default)]
    pub event_time: bool,
    /// The latest simulated time any call saw; the clock never goes back behind it.
    pub last_seen: Timestamp,
    pub rng: u64,
    pub model: ModelConstants,
    pub data: DataProfile,
    pub writes: WriteProcess,
    /// Users' writes to the target, from the swap on (they follow the record), until it is frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_writes: Option<WriteProcess>,
    pub source: FileSystemInfo,
    /// Other file systems that exist in the account (not ours), for preflight tests.
    #[serde(default)]
    pub other_file_systems: Vec<FileSystemInfo>,
    pub subnets: Vec<SubnetInfo>,
    /// The security groups' rules. A world written before they were modelled has none, and answers every
    /// group asked for as one that allows all traffic within itself and out ([`World::security_groups_for`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<crate::cloud::model::SecurityGroup>,
    pub hosted_zone_id: String,
    pub hosted_zone_name: String,
    pub records: Vec<DnsRecord>,
    #[serde(default)]
    pub targets: Vec<SimTarget>,
    #[serde(default)]
    pub locations: Vec<SimResource>,
    #[serde(default)]
    pub tasks: Vec<SimTask>,
    #[serde(default)]
    pub executions: Vec<SimExecution>,
    #[serde(default)]
    pub changes: Vec<SimChange>,
    /// SSM commands sent to the Windows instance (the freeze's and unfreeze's PowerShell).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssm_commands: Vec<SimCommand>,
    /// Each file system's shares and in-server settings, by its PowerShell endpoint, once a script read or
    /// changed them (before that: [`default_source_service`] for the source, [`new_file_system_service`] else).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub file_services: BTreeMap<String, ServiceExport>,
    /// logon.ps1 fails with this message, as a wrong password or a locked account makes it (none: it logs on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasync_logon_error: Option<String>,
    /// DNS aliases associated or disassociated since the world began (the source's `aliases` are on it from
    /// the start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<SimAlias>,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    #[serde(default)]
    pub api_pacing: BTreeMap<String, ApiPacing>,
    /// Invariant breaches seen from the cloud's side (must stay empty).
    #[serde(default)]
    pub violations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTarget {
    pub info: FileSystemInfo,
    pub client_request_token: String,
    /// The request's parameters as JSON, to answer a reused token with different parameters like FSx does.
    pub request_json: String,
    pub created_at: Timestamp,
    pub fails: bool,
    /// DeleteFileSystem: DELETING for [`TARGET_DELETE_SECS`], then gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
}

impl SimTarget {
    /// Whether FSx no longer knows it at `now`.
    pub fn gone_at(&self, now: Timestamp) -> bool {
        self.deleted_at
            .is_some_and(|d| now >= after(d, TARGET_DELETE_SECS as f64))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimResource {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    pub created_at: Timestamp,
}

/// A DataSync task: what it copies is fixed by its filters when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTask {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub includes: Vec<String>,
    #[serde(default)]
    pub excludes: Vec<String>,
    /// The indices of `data.folders` the filters select (see [`super::folders::covered`]).
    pub folders: Vec<u32>,
    /// It copies from the target's location to the source's (a rollback's task).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimExecution {
    pub arn: String,
    pub task_arn: String,
    pub kind: SyncKind,
    pub started_at: Timestamp,
    /// The tags StartTaskExecution was given.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub remove_deleted: bool,
    pub verify_mode: VerifyMode,
    /// Fault `execution_error`: the execution ends in ERROR during TRANSFERRING.
    #[serde(default)]
    pub fault_error: bool,
    /// An execution of a reverse task: it copies the target's writes back to the source.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
    /// Its bandwidth limit (StartTaskExecution's or UpdateTaskExecution's `BytesPerSecond`); none: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<u64>,
    /// CancelTaskExecution: it stops where it was, is CANCELLING for [`CANCEL_SECS`], then ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
    /// The folders its own Includes select, when StartTaskExecution gave some (a check's probes select none);
    /// none: its task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folders: Option<Vec<u32>>,
    pub schedule: ExecutionSchedule,
}

/// How long a cancelled execution is CANCELLING before it ends in ERROR. Assumption: DataSync gives no figure.
pub const CANCEL_SECS: f64 = 20.0;
/// DeleteFileSystem to the file system being gone (DELETING until then). Assumption: FSx gives no figure.
pub const TARGET_DELETE_SECS: u64 = 900;

/// What the target holds of one folder (see [`World::folder_state_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FolderState {
    /// A task covering the folder has copied it in full.
    pub seeded: bool,
    /// Source writes (counted share-wide) the target holds for this folder.
    pub synced_writes: f64,
    /// Source writes whose deletes reached the target for this folder.
    pub delete_synced_writes: f64,
}

/// An SSM command: Pending, then InProgress, then Success after [`SSM_COMMAND_SECS`], with the output the
/// script prints on a file system shaped like the world's (one share, `share`, users with Change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimCommand {
    pub id: String,
    pub instance_id: String,
    pub comment: String,
    pub script: crate::cloud::windows::WindowsScript,
    pub endpoint: String,
    /// `-SharesJson` of an unfreeze: the permissions it puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares_json: Option<String>,
    /// `-ServiceJson` of an apply: the export it makes true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_json: Option<String>,
    /// The RESULT JSON the script prints when it ends (an export's or an apply's, worked out when sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The ERROR line it prints instead, and ends Failed (a logon refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub sent_at: Timestamp,
}

/// The simulated source's shares and settings: the default share, two shares inside it (one with
/// access-based enumeration and a Deny entry), shadow copies and an SMB server setting.
pub fn default_source_service() -> ServiceExport {
    let entry = |account: &str, control: &str, right: &str| ShareAccess {
        account: account.into(),
        control: control.into(),
        right: right.into(),
    };
    let share = |name: &str, path: &str, abe: bool, access: Vec<ShareAccess>| ShareConfig {
        name: name.into(),
        path: path.into(),
        description: String::new(),
        folder_enumeration_mode: if abe { "AccessBased" } else { "Unrestricted" }.into(),
        caching_mode: "Manual".into(),
        encrypt_data: false,
        continuously_available: false,
        concurrent_user_limit: 0,
        access,
    };
    ServiceExport {
        shares: vec![
            share(
                "share",
                "D:\\share",
                false,
                vec![entry("Everyone", "Allow", "Change")],
            ),
            share(
                "finance",
                "D:\\share\\finance",
                true,
                vec![
                    entry("CORP\\Finance", "Allow", "Change"),
                    entry("CORP\\Interns", "Deny", "Full"),
                ],
            ),
            share(
                "projects",
                "D:\\share\\projects",
                false,
                vec![entry("CORP\\Staff", "Allow", "Change")],
            ),
        ],
        shadow_copies: Some(serde_json::json!({
            "max_size": "10%",
            "schedule": [{"days_of_week": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "time": "07:00"}]
        })),
        dedup: None,
        user_quotas: None,
        smb_server: Some(serde_json::json!({"EncryptData": false, "RejectUnencryptedAccess": true})),
        not_exported: Vec::new(),
    }
}

/// A new FSx file system's shares and settings: the default share `share` only. Assumption: its access is
/// Everyone Full (AWS does not document the default share's access entries).
pub fn new_file_system_service() -> ServiceExport {
    let mut service = default_source_service();
    service.shares.truncate(1);
    service.shares[0].access[0].right = "Full".into();
    service.shadow_copies = None;
    service.smb_server = Some(serde_json::json!({"EncryptData": false, "RejectUnencryptedAccess": true}));
    service
}

/// What FSx has no PowerShell command for, as export.ps1 reports it.
fn not_exported() -> Vec<NotCarried> {
    vec![NotCarried {
        setting: "FSRM quotas, file screens and classification".into(),
        reason: "Amazon FSx has no PowerShell commands for them; copy them with the FSRM snap-in".into(),
    }]
}

/// export.ps1 on a file system: its shares and settings.
pub fn simulated_export(service: &ServiceExport) -> String {
    let mut export = service.clone();
    export.not_exported = not_exported();
    serde_json::to_string(&export).expect("an export serialises")
}

/// apply.ps1 on a file system whose folders are those under its share `share` (what the copy carries):
/// shares created or updated with their access set exactly, the settings copied; its result JSON.
pub fn simulated_apply(service: &mut ServiceExport, wanted: &ServiceExport) -> String {
    let root = service
        .shares
        .iter()
        .find(|s| s.name == "share")
        .map(|s| s.path.to_lowercase())
        .unwrap_or_default();
    let (mut created, mut updated, mut unchanged, mut skipped) = (vec![], vec![], vec![], vec![]);
    for share in &wanted.shares {
        let path = share.path.to_lowercase();
        let exists = !root.is_empty() && (path == root || path.starts_with(&format!("{root}\\")));
        match service
            .shares
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(&share.name))
        {
            Some(have) if !have.path.eq_ignore_ascii_case(&share.path) => skipped.push(serde_json::json!({
                "name": share.name,
                "reason": format!("a share of that name has the path {}", have.path),
            })),
            Some(have) if have == share => unchanged.push(share.name.clone()),
            Some(have) => {
                *have = share.clone();
                updated.push(share.name.clone());
            }
            None if !exists => skipped.push(serde_json::json!({
                "name": share.name,
                "reason": format!("Cannot find path '{}' because it does not exist.", share.path),
            })),
            None => {
                service.shares.push(share.clone());
                created.push(share.name.clone());
            }
        }
    }
    let mut applied = vec![];
    for (name, value) in wanted.settings() {
        if value.is_none() {
            continue;
        }
        match name {
            "shadow_copies" => service.shadow_copies = wanted.shadow_copies.clone(),
            "dedup" => service.dedup = wanted.dedup.clone(),
            "user_quotas" => service.user_quotas = wanted.user_quotas.clone(),
            _ => service.smb_server = wanted.smb_server.clone(),
        }
        applied.push(name);
    }
    serde_json::json!({
        "created": created, "updated": updated, "unchanged": unchanged, "skipped": skipped,
        "applied": applied, "not_applied": [],
    })
    .to_string()
}

/// A DNS alias on a file system: CREATING for [`ALIAS_SECS`] after its association, then AVAILABLE; DELETING
/// for [`ALIAS_SECS`] after its disassociation, then gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAlias {
    pub name: String,
    pub file_system_id: String,
    pub associated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociated_at: Option<Timestamp>,
}

/// An alias association or disassociation "takes up to 2.5 minutes" (FSx for Windows User Guide, "Managing
/// DNS aliases"); the simulator takes the whole of it.
pub const ALIAS_SECS: f64 = 150.0;

/// How long one of fsx-migrate's scripts runs on the simulated instance. Assumption: a freeze of a few
/// shares through FSxRemoteAdmin takes seconds to a minute.
pub const SSM_COMMAND_SECS: f64 = 30.0;

impl SimCommand {
    pub fn invocation_at(&self, now: Timestamp) -> crate::cloud::port::PowerShellInvocation {
        use crate::cloud::model::InvocationStatus;
        use crate::cloud::windows::{RESULT_PREFIX, WindowsScript};
        let elapsed = now.duration_since(self.sent_at).as_secs_f64();
        let (status, stdout) = if elapsed < 2.0 {
            (InvocationStatus::Pending, String::new())
        } else if elapsed < SSM_COMMAND_SECS {
            (
                InvocationStatus::InProgress,
                format!("fsx-migrate {} on {}\r\n", self.script, self.endpoint),
            )
        } else if let Some(error) = &self.error {
            (
                InvocationStatus::Failed,
                format!(
                    "fsx-migrate {} on {}\r\n{}{error}\r\n",
                    self.script,
                    self.endpoint,
                    crate::cloud::windows::ERROR_PREFIX
                ),
            )
        } else {
            let result = match self.script {
                _ if self.result.is_some() => self.result.as_deref().unwrap_or_default(),
                WindowsScript::Export
                | WindowsScript::Apply
                | WindowsScript::Spn
                | WindowsScript::Dns
                | WindowsScript::Dfs
                | WindowsScript::Logon => "{}",
                WindowsScript::Freeze => {
                    r#"{"shares":[{"name":"share","path":"D:\\share","access":[{"account":"Everyone","control":"Allow","right":"Change"}]}],"changed":1,"sessions_left":0}"#
                }
                WindowsScript::Unfreeze => r#"{"restored":1,"missing_shares":[]}"#,
            };
            (
                InvocationStatus::Success,
                format!(
                    "fsx-migrate {} on {}\r\n{RESULT_PREFIX}{result}\r\n",
                    self.script, self.endpoint
                ),
            )
        };
        crate::cloud::port::PowerShellInvocation {
            status,
            status_details: None,
            stdout,
            stderr: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimChange {
    pub id: String,
    pub record_name: String,
    pub value: String,
    pub ttl: u64,
    pub submitted_at: Timestamp,
    /// The record's value and TTL before this change (`None`: it did not exist).
    #[serde(default)]
    pub previous_value: Option<String>,
    #[serde(default)]
    pub previous_ttl: Option<u64>,
}

fn after(t: Timestamp, secs: f64) -> Timestamp {
    SignedDuration::try_from_secs_f64(secs.max(0.0))
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(t)
}

fn ms(secs: f64) -> u64 {
    (secs * 1000.0).round() as u64
}

impl SimExecution {
    pub fn end(&self) -> Timestamp {
        let s = &self.schedule;
        let total = match s.error_after_secs {
            Some(e) => e,
            None => s.launch_secs + s.prepare_secs + s.transfer_secs + s.verify_secs,
        };
        after(self.started_at, total)
    }

    pub fn status_at(&self, now: Timestamp) -> ExecutionStatus {
        self.info_at(now).status
    }

    pub fn succeeded_by(&self, now: Timestamp) -> bool {
        self.schedule.error_after_secs.is_none() && self.end() <= now
    }

    /// DescribeTaskExecution at `now`.
    pub fn info_at(&self, now: Timestamp) -> ExecutionInfo {
        let s = &self.schedule;
        let elapsed = now.duration_since(self.started_at).as_secs_f64().max(0.0);
        let t_prepare = s.launch_secs;
        let t_transfer = t_prepare + s.prepare_secs;
        let t_verify = t_transfer + s.transfer_secs;
        let t_done = t_verify + s.verify_secs;
        let failed = s.error_after_secs.filter(|e| elapsed >= *e);
        // A cancelled execution stops where it was when cancelled.
        let cancelled = self
            .cancelled_at
            .map(|c| c.duration_since(self.started_at).as_secs_f64().max(0.0));
        let clock = failed.unwrap_or(elapsed).min(cancelled.unwrap_or(f64::INFINITY));
        let status = if failed.is_some() {
            ExecutionStatus::Error
        } else if cancelled.is_some() {
            ExecutionStatus::Cancelling
        } else if clock < t_prepare {
            ExecutionStatus::Launching
        } else if clock < t_transfer {
            ExecutionStatus::Preparing
        } else if clock < t_verify {
            ExecutionStatus::Transferring
        } else if clock < t_done {
            ExecutionStatus::Verifying
        } else {
            ExecutionStatus::Success
        };
        let fraction = |start: f64, len: f64| s.progress(start, len, clock);
        let mut counters = ExecutionCounters::default();
        // Skipped files are counted (like DataSync's FilesSkipped) but neither transferred nor verified.
        let skipped = s.skipped_files.min(s.files);
        let copied_files = (s.files - skipped) as f64;
        let copied_bytes = if s.files == 0 {
            s.bytes as f64
        } else {
            s.bytes as f64 * copied_files / s.files as f64
        };
        if clock >= t_transfer {
            let moved = fraction(t_transfer, s.transfer_secs);
            counters.estimated_files_to_transfer = s.files;
            counters.estimated_bytes_to_transfer = s.bytes;
            counters.estimated_files_to_delete = s.deletes;
            counters.files_transferred = (copied_files * moved).round() as u64;
            counters.bytes_transferred = (copied_bytes * moved).round() as u64;
            counters.files_deleted = (s.deletes as f64 * moved).round() as u64;
            counters.files_skipped = (skipped as f64 * moved).round() as u64;
        }
        if clock >= t_verify && s.verify_secs > 0.0 {
            counters.files_verified = (copied_files * fraction(t_verify, s.verify_secs)).round() as u64;
        }
        let spent = |start: f64, len: f64| ms((clock - start).clamp(0.0, len));
        let durations = PhaseDurations {
            prepare_ms: spent(t_prepare, s.prepare_secs),
            transfer_ms: spent(t_transfer, s.transfer_secs),
            verify_ms: spent(t_verify, s.verify_secs),
            total_ms: ms(clock.min(t_done)),
        };
        let (error_code, error_detail) = match (failed, s.exceeded_quota) {
            (None, _) => (None, None),
            // Paraphrased: DataSync's own wording for this error is not published.
            (Some(_), Some(quota)) => (
                Some("QuotaExceeded".to_string()),
                Some(format!(
                    "The task execution found {} files, objects and directories at the source and destination \
                     locations, more than the quota of {} per task execution. Use filters or a manifest to \
                     split the transfer into task executions under the quota.",
                    s.entries, quota
                )),
            ),
            (Some(_), None) => (
                Some("SimulatedTransferError".to_string()),
                Some("simulated fault: the transfer was interrupted (fault injection)".to_string()),
            ),
        };
        ExecutionInfo {
            arn: self.arn.clone(),
            status,
            started_at: Some(self.started_at),
            counters,
            durations,
            error_code,
            error_detail,
        }
    }
}

/// The accounting of product.md §6, derived at `now`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accounting {
    pub now: Timestamp,
    pub target_file_systems_created: usize,
    pub executions_started: usize,
    pub executions_by_kind: BTreeMap<String, usize>,
    pub source_writes_total: u64,
    /// When users stopped being able to write: the simulator's freeze, else the first final sync's start.
    pub freeze_at: Option<Timestamp>,
    pub dns_swapped_at: Option<Timestamp>,
    pub dns_insync_at: Option<Timestamp>,
    /// Source writes made before the freeze that the target did not have at the swap (must be 0), including
    /// `files_missing_at_swap`.
    pub writes_lost_at_swap: Option<u64>,
    /// Files the target still lacked at the swap: skipped by an execution (fault `skipped_files`) and not
    /// copied since, or in a folder no task had copied (a gap in the partition).
    pub files_missing_at_swap: Option<u64>,
    /// Files in folders no task copies (`None` before any task exists): a gap in the partition.
    pub files_not_covered: Option<u64>,
    /// Files in folders two or more tasks copy (counted once in the other figures): an overlap.
    pub files_covered_twice: Option<u64>,
    /// Writes the source accepted between the freeze and the swap (0 when the freeze really froze).
    pub writes_during_freeze: Option<u64>,
    /// Downtime users see, seconds: from when the source stopped taking writes until the last client can
    /// resolve the new name (Route 53 INSYNC plus the TTL resolvers had cached; see
    /// [`World::last_resolve_at`]).
    pub downtime_secs: Option<u64>,
    /// Freeze to Route 53 INSYNC, seconds.
    pub service_downtime_secs: Option<u64>,
    /// The record's TTL before the swap's UPSERT: how long resolvers may keep the old answer.
    pub dns_cached_ttl_secs: Option<u64>,
    pub api_calls: BTreeMap<String, u64>,
    pub api_calls_total: u64,
    /// Per operation, the most calls made within one simulated second (API rate limits are per second).
    pub api_calls_max_per_sec: BTreeMap<String, u64>,
    pub violations: Vec<String>,
    /// After a rollback: writes users made to the target after the swap (they followed the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_writes_total: Option<u64>,
    /// After a rollback: when the record was swapped back to the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_back_at: Option<Timestamp>,
    /// Writes users made to the target that the source did not have when the record went back (must be 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_lost_at_swap_back: Option<u64>,
}

/// Calls of one operation per simulated second.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiPacing {
    /// The simulated second (Unix) the last call fell in, and the calls in it so far.
    pub second: i64,
    pub in_second: u64,
    pub max_per_sec: u64,
}

impl World {
    /// Everything the model divides by, multiplies with or turns into time is in range: a world that passes
    /// never panics the simulator. Checked by `sim init` and on every load (a world file can be hand-edited).
    pub fn validate(&self) -> Result<(), OutOfRange> {
        if self.version != WORLD_VERSION {
            return Err(OutOfRange {
                field: "version".into(),
                value: self.version.to_string(),
                allowed: format!("{WORLD_VERSION} (the version this fsx-migrate reads)"),
            });
        }
        check_sim_speed("speed", self.speed)?;
        self.model.validate()?;
        self.data.validate()?;
        check_u64(
            "source.settings.throughput_capacity_mbps",
            u64::from(self.source.settings.throughput_capacity_mbps),
            u64::from(limits::MIN_THROUGHPUT_MBPS),
            u64::from(limits::MAX_THROUGHPUT_MBPS),
            " MB/s",
        )?;
        for (i, rule) in self.faults.iter().enumerate() {
            rule.validate().map_err(|e| OutOfRange {
                field: format!("faults[{i}].{}", e.field),
                ..e
            })?;
        }
        for (i, e) in self.executions.iter().enumerate() {
            e.schedule.validate(&format!("executions[{i}].schedule"))?;
        }
        let parts = self.data.folders.len() as u64;
        for (i, t) in self.tasks.iter().enumerate() {
            for (k, &f) in t.folders.iter().enumerate() {
                check_u64(
                    &format!("tasks[{i}].folders[{k}]"),
                    u64::from(f),
                    0,
                    parts.saturating_sub(1),
                    " (an index into data.folders)",
                )?;
            }
        }
        Ok(())
    }

    /// Runs the clock at `speed` × real time from now on (anchored at the current simulated time).
    pub fn start_clock(&mut self, speed: f64) {
        self.anchor_sim = super::now_of(self);
        self.anchor_real = Some(Timestamp::now());
        self.speed = speed;
        self.event_time = false;
    }

    /// The file system `id` at `now`, source or target.
    pub fn file_system_at(&self, id: &str, now: Timestamp) -> Option<FileSystemInfo> {
        if self.source.id == id {
            return Some(self.source.clone());
        }
        if let Some(other) = self.other_file_systems.iter().find(|f| f.id == id) {
            return Some(other.clone());
        }
        let target = self.targets.iter().find(|t| t.info.id == id && !t.gone_at(now))?;
        let mut info = target.info.clone();
        let ready = after(target.created_at, self.model.target_create_secs as f64);
        info.lifecycle = match (now >= ready, target.fails) {
            _ if target.deleted_at.is_some() => Lifecycle::Deleting,
            (false, _) => Lifecycle::Creating,
            (true, false) => Lifecycle::Available,
            (true, true) => {
                info.failure_message = Some(
                    "simulated fault: Amazon FSx was unable to create the file system (fault injection)"
                        .into(),
                );
                Lifecycle::Failed
            }
        };
        Some(info)
    }

    /// Whether a request names the world's zone: its Route 53 hosted zone, the same zone by name in AD DNS,
    /// or (DFS) any namespace: the simulator keeps one set of records for every name service, and a change
    /// is in sync after the same propagation time (standing for AD's replication between the DNS servers, or
    /// the namespace servers' view of a DFS folder).
    pub fn zone_matches(
        &self,
        hosted_zone_id: &str,
        service: Option<&crate::cloud::port::NameService>,
    ) -> bool {
        use crate::cloud::port::NameService;
        match service {
            Some(NameService::AdDns {
                zone_name,
                dns_servers,
                ..
            }) => dns_eq(zone_name, &self.hosted_zone_name) && !dns_servers.is_empty(),
            Some(NameService::Dfs { share_path, .. }) => !share_path.is_empty(),
            None => self.hosted_zone_id == hosted_zone_id,
        }
    }

    /// Whether `name` is the record of a DNS alias (and not the users' record, which may be an alias too):
    /// its changes are not the swap.
    pub fn is_alias_name(&self, name: &str) -> bool {
        !dns_eq(name, super::scenario::RECORD_NAME)
            && (self.source.aliases.iter().any(|a| dns_eq(a, name))
                || self.aliases.iter().any(|a| dns_eq(&a.name, name)))
    }

    /// The aliases of `file_system_id` at `now`, with their lifecycle.
    pub fn aliases_at(&self, file_system_id: &str, now: Timestamp) -> Vec<crate::cloud::model::AliasInfo> {
        use crate::cloud::model::{AliasInfo, AliasLifecycle};
        let mut out = Vec::new();
        if file_system_id == self.source.id {
            for name in &self.source.aliases {
                if !self.aliases.iter().any(|a| dns_eq(&a.name, name)) {
                    out.push(AliasInfo {
                        name: name.to_lowercase(),
                        lifecycle: AliasLifecycle::Available,
                    });
                }
            }
        }
        for alias in self.aliases.iter().filter(|a| a.file_system_id == file_system_id) {
            let lifecycle = match alias.disassociated_at {
                Some(at) if now >= after(at, ALIAS_SECS) => continue,
                Some(_) => AliasLifecycle::Deleting,
                None if now < after(alias.associated_at, ALIAS_SECS) => AliasLifecycle::Creating,
                None => AliasLifecycle::Available,
            };
            out.push(AliasInfo {
                name: alias.name.clone(),
                lifecycle,
            });
        }
        out
    }

    /// The shares and settings of the file system behind `endpoint`.
    fn service_at(&self, endpoint: &str) -> ServiceExport {
        if let Some(service) = self.file_services.get(endpoint) {
            return service.clone();
        }
        if self.source.remote_administration_endpoint.as_deref() == Some(endpoint) {
            default_source_service()
        } else {
            new_file_system_service()
        }
    }

    /// What logon.ps1 ends with: the share listed (and every folder asked for that the share holds), or the
    /// world's `datasync_logon_error`.
    pub fn run_logon_script(&self, call: &crate::cloud::windows::ScriptCall) -> Result<String, String> {
        let args = call.logon.as_ref().ok_or("logon.ps1 without its arguments")?;
        if let Some(error) = &self.datasync_logon_error {
            return Err(format!(
                "logging on to {} as {}: {error} Nothing was changed (the check only reads).",
                args.share, args.user_name
            ));
        }
        let folders: Vec<serde_json::Value> = args
            .folders
            .iter()
            .map(|f| serde_json::json!({"path": f, "listed": true, "error": null}))
            .collect();
        Ok(serde_json::json!({
            "share": args.share, "user": args.user_name, "password_from": "aws-tools",
            "root_listed": true, "folders": folders,
        })
        .to_string())
    }

    /// export.ps1, apply.ps1 and spn.ps1 act when sent, and freeze.ps1 records the shares as they are then
    /// (their result shows when the command ends); None for the unfreeze, whose result is fixed.
    pub fn run_service_script(&mut self, call: &crate::cloud::windows::ScriptCall) -> Option<String> {
        use crate::cloud::windows::WindowsScript;
        if call.script == WindowsScript::Spn {
            // Every alias's two HOST SPNs move from the other file system's computer object.
            let computer = |dns: &str| dns.split('.').next().unwrap_or_default().to_uppercase();
            let from = computer(call.from_dns_name.as_deref().unwrap_or_default());
            let moved: Vec<serde_json::Value> = call
                .aliases
                .iter()
                .flat_map(|a| [a.clone(), a.split('.').next().unwrap_or_default().to_string()])
                .map(|a| serde_json::json!({"spn": format!("HOST/{a}"), "from": from}))
                .collect();
            let result = serde_json::json!({
                "computer": computer(&call.endpoint), "moved": moved, "added": [], "already": [],
            });
            return Some(result.to_string());
        }
        let mut service = self.service_at(&call.endpoint);
        let result = match call.script {
            WindowsScript::Export => simulated_export(&service),
            WindowsScript::Apply => {
                let wanted = call
                    .service_json
                    .as_deref()
                    .and_then(|json| serde_json::from_str::<ServiceExport>(json).ok())?;
                simulated_apply(&mut service, &wanted)
            }
            // The permissions before the freeze, as freeze.ps1 records them (the simulator keeps no session).
            WindowsScript::Freeze => {
                let shares: Vec<serde_json::Value> = service
                    .shares
                    .iter()
                    .map(|s| serde_json::json!({"name": s.name, "path": s.path, "access": s.access}))
                    .collect();
                let changed = service
                    .shares
                    .iter()
                    .flat_map(|s| &s.access)
                    .filter(|a| a.control == "Allow" && matches!(a.right.as_str(), "Full" | "Change"))
                    .count();
                return Some(
                    serde_json::json!({"shares": shares, "changed": changed, "sessions_left": 0}).to_string(),
                );
            }
            WindowsScript::Unfreeze
            | WindowsScript::Spn
            | WindowsScript::Dns
            | WindowsScript::Dfs
            | WindowsScript::Logon => {
                return None;
            }
        };
        self.file_services.insert(call.endpoint.clone(), service);
        Some(result)
    }

    /// DescribeSecurityGroups of `ids` (the source's when empty): those that exist, in the order asked.
    pub fn security_groups_for(&self, ids: &[String]) -> Vec<crate::cloud::model::SecurityGroup> {
        use crate::cloud::model::{SecurityGroup, SecurityRule};
        let ids = if ids.is_empty() {
            self.source.security_group_ids.as_slice()
        } else {
            ids
        };
        if self.security_groups.is_empty() {
            let all = |groups: Vec<String>, cidrs: Vec<String>| SecurityRule {
                protocol: "-1".into(),
                from_port: None,
                to_port: None,
                cidrs,
                groups,
                prefix_lists: Vec::new(),
            };
            return ids
                .iter()
                .map(|id| SecurityGroup {
                    id: id.clone(),
                    inbound: vec![all(vec![id.clone()], Vec::new())],
                    outbound: vec![all(Vec::new(), vec!["0.0.0.0/0".into()])],
                })
                .collect();
        }
        ids.iter()
            .filter_map(|id| self.security_groups.iter().find(|g| &g.id == id).cloned())
            .collect()
    }

    /// The folders an execution covers: its own Includes' if it had some, else its task's.
    pub fn execution_folders<'a>(&'a self, e: &'a SimExecution) -> &'a [u32] {
        e.folders
            .as_deref()
            .unwrap_or_else(|| self.task_folders(&e.task_arn))
    }

    /// The folders task `task_arn` copies (none for a task this world does not know).
    pub fn task_folders(&self, task_arn: &str) -> &[u32] {
        self.tasks
            .iter()
            .find(|t| t.arn == task_arn)
            .map_or(&[], |t| t.folders.as_slice())
    }

    /// What the target holds of each folder at `now`, from the executions that succeeded by then: a folder is
    /// as fresh as the latest listing of any task covering it; deletes reach it from the first full copy on
    /// and then only through REMOVE runs.
    pub fn folder_state_at(&self, now: Timestamp) -> Vec<FolderState> {
        let mut state = vec![FolderState::default(); self.data.folders.len()];
        let mut first = vec![f64::INFINITY; state.len()];
        for e in self
            .executions
            .iter()
            .filter(|e| !e.reverse && e.succeeded_by(now))
        {
            let snapshot = e.schedule.snapshot_writes;
            for &i in self.execution_folders(e) {
                let (f, s) = (i as usize, &mut state[i as usize]);
                s.seeded = true;
                s.synced_writes = s.synced_writes.max(snapshot);
                first[f] = first[f].min(snapshot);
                if e.remove_deleted {
                    s.delete_synced_writes = s.delete_synced_writes.max(snapshot);
                }
            }
        }
        for (s, first) in state.iter_mut().zip(first) {
            if s.seeded {
                s.delete_synced_writes = s.delete_synced_writes.max(first);
            }
        }
        state
    }

    /// Files the target lacks at `now` because an execution skipped them: for each task, the skips of its
    /// latest execution that succeeded by `now` (a later success of the task copies what it skipped).
    pub fn missing_files_at(&self, now: Timestamp) -> u64 {
        self.skipped_by_task_at(now).values().sum()
    }

    fn skipped_by_task_at(&self, now: Timestamp) -> BTreeMap<&str, u64> {
        let mut latest: BTreeMap<&str, &SimExecution> = BTreeMap::new();
        // A check copies nothing, so it leaves a skipped file as skipped.
        for e in self
            .executions
            .iter()
            .filter(|e| !e.reverse && e.kind != SyncKind::Check && e.succeeded_by(now))
        {
            let slot = latest.entry(e.task_arn.as_str()).or_insert(e);
            if e.end() >= slot.end() {
                *slot = e;
            }
        }
        latest
            .into_iter()
            .map(|(task, e)| (task, e.schedule.skipped_files.min(e.schedule.files)))
            .collect()
    }

    /// Source files and directories a task with these filters would list on one side (the source; the
    /// destination holds as many once seeded, and DataSync's quota counts both sides).
    pub fn entries_for(&self, includes: &[String], excludes: &[String]) -> u64 {
        super::folders::covered(&self.data.folders, includes, excludes)
            .into_iter()
            .map(|i| self.data.folders[i as usize].entries())
            .sum()
    }

    /// Entries an execution covering `folders` starting at `now` lists: its folders on the source, and on
    /// the target those already copied there.
    pub fn listing_entries(&self, folders: &[u32], now: Timestamp) -> u64 {
        let state = self.folder_state_at(now);
        folders
            .iter()
            .map(|&i| {
                let entries = self.data.folders[i as usize].entries();
                entries + if state[i as usize].seeded { entries } else { 0 }
            })
            .sum()
    }

    /// Entries and bytes of execution `index`'s folders on one side.
    pub fn coverage_size(&self, index: usize) -> (u64, u64) {
        let folders = self.execution_folders(&self.executions[index]);
        folders.iter().fold((0, 0), |(entries, bytes), &i| {
            let f = &self.data.folders[i as usize];
            (entries + f.entries(), bytes + f.bytes)
        })
    }

    /// Files, bytes and deletes execution `index` moves when its listing ends with the source at `snapshot`
    /// writes: for each of its folders, everything if the target does not have it yet, else the files
    /// written since the target's copy (deletes only in REMOVE runs); plus what its task's last success
    /// skipped. The target's state is taken at the execution's start.
    pub fn transfer_work(&self, index: usize, snapshot: f64) -> (u64, u64, u64) {
        let e = &self.executions[index];
        if e.reverse {
            return self.reverse_work(index, snapshot);
        }
        let state = self.folder_state_at(e.started_at);
        let (mut files, mut bytes, mut deletes) = (0.0, 0.0, 0.0);
        let (mut all_files, mut all_bytes) = (0u64, 0u64);
        for &i in self.execution_folders(e) {
            let (f, s) = (&self.data.folders[i as usize], state[i as usize]);
            all_files += f.files;
            all_bytes += f.bytes;
            let changed = if s.seeded {
                f.distinct_files(snapshot - s.synced_writes)
            } else {
                f.files as f64
            };
            files += changed;
            bytes += changed * f.average_file_bytes();
            if e.remove_deleted && s.seeded {
                deletes += f.distinct_files(snapshot - s.delete_synced_writes) * self.data.delete_share;
            }
        }
        let skipped = self
            .skipped_by_task_at(e.started_at)
            .get(e.task_arn.as_str())
            .copied()
            .unwrap_or(0) as f64;
        let average = if all_files == 0 {
            0.0
        } else {
            all_bytes as f64 / all_files as f64
        };
        let files_copied = (files + skipped).min(all_files as f64);
        let bytes_copied = (bytes + (files_copied - files).max(0.0) * average).min(all_bytes as f64);
        (
            files_copied.round() as u64,
            bytes_copied.round() as u64,
            deletes.round() as u64,
        )
    }

    /// For each folder, the target's writes (the `target_writes` count) the source holds at `now`: the
    /// snapshot of the latest reverse execution covering it that succeeded by then.
    pub fn reverse_synced_at(&self, now: Timestamp) -> Vec<f64> {
        let mut synced = vec![0.0_f64; self.data.folders.len()];
        for e in self
            .executions
            .iter()
            .filter(|e| e.reverse && e.succeeded_by(now))
        {
            for &i in self.execution_folders(e) {
                synced[i as usize] = synced[i as usize].max(e.schedule.snapshot_writes);
            }
        }
        synced
    }

    /// What a reverse execution copies back: per folder, the files users wrote to the target since the
    /// source last got them (deletes only in REMOVE runs).
    fn reverse_work(&self, index: usize, snapshot: f64) -> (u64, u64, u64) {
        let e = &self.executions[index];
        let synced = self.reverse_synced_at(e.started_at);
        let (mut files, mut bytes, mut deletes) = (0.0, 0.0, 0.0);
        for &i in self.execution_folders(e) {
            let f = &self.data.folders[i as usize];
            let changed = f.distinct_files(snapshot - synced[i as usize]);
            files += changed;
            bytes += changed * f.average_file_bytes();
            if e.remove_deleted {
                deletes += changed * self.data.delete_share;
            }
        }
        (files.round() as u64, bytes.round() as u64, deletes.round() as u64)
    }

    /// Cumulative writes users made to the target by `t`.
    pub fn target_writes_by(&self, t: Timestamp) -> f64 {
        self.target_writes
            .as_ref()
            .map_or(0.0, |w| w.writes_by(&self.data, t))
    }

    /// The execution of `task_arn` still running at `now`, if any.
    pub fn running_execution(&self, task_arn: &str, now: Timestamp) -> Option<&SimExecution> {
        self.executions
            .iter()
            .find(|e| e.task_arn == task_arn && !e.status_at(now).is_terminal())
    }

    pub fn change_status(&self, change: &SimChange, now: Timestamp) -> ChangeStatus {
        if now >= after(change.submitted_at, self.model.dns_propagation_secs as f64) {
            ChangeStatus::InSync
        } else {
            ChangeStatus::Pending
        }
    }

    pub fn freeze_at(&self) -> Option<Timestamp> {
        self.writes.frozen_at.or_else(|| {
            self.executions
                .iter()
                .filter(|e| e.kind == SyncKind::Final)
                .map(|e| e.started_at)
                .min()
        })
    }

    /// The DNS swap: the first change that points the record somewhere else (a change that only lowers the
    /// TTL keeps the value).
    pub fn swap(&self) -> Option<&SimChange> {
        self.changes.iter().find(|c| {
            c.previous_value.as_deref() != Some(c.value.as_str()) && !self.is_alias_name(&c.record_name)
        })
    }

    /// A rollback's swap: the first change after the swap that points the record at the source again.
    pub fn swap_back(&self) -> Option<&SimChange> {
        let swap = self.swap()?;
        self.changes.iter().find(|c| {
            c.submitted_at >= swap.submitted_at
                && !std::ptr::eq(*c, swap)
                && !self.is_alias_name(&c.record_name)
                && crate::cloud::model::dns_eq(&c.value, &self.source.dns_name)
        })
    }

    /// Target writes the source lacked when the record went back: per folder, what users wrote to the
    /// target until it was frozen (or the swap back) beyond what reverse syncs had copied back by then.
    fn writes_lost_at_swap_back(&self, back_at: Timestamp) -> f64 {
        let stop = self
            .target_writes
            .as_ref()
            .and_then(|w| w.frozen_at)
            .map_or(back_at, |f| f.min(back_at));
        let written = self.target_writes_by(stop);
        self.data
            .folders
            .iter()
            .zip(self.reverse_synced_at(back_at))
            .map(|(f, synced)| (written - synced).max(0.0) * f.write_share)
            .sum()
    }

    fn insync_at(&self, change: &SimChange) -> Timestamp {
        after(change.submitted_at, self.model.dns_propagation_secs as f64)
    }

    /// When the last client resolves the swapped name: resolvers may cache an answer served until a change
    /// reached every Route 53 server (INSYNC) for the TTL it had before that change. A TTL lowered ahead of
    /// the swap only helps once the old, longer TTL has run out.
    pub fn last_resolve_at(&self, swap: &SimChange) -> Timestamp {
        self.changes
            .iter()
            .take_while(|c| c.submitted_at <= swap.submitted_at)
            .filter(|c| dns_eq(&c.record_name, &swap.record_name))
            .map(|c| after(self.insync_at(c), c.previous_ttl.unwrap_or(0) as f64))
            .chain(std::iter::once(self.insync_at(swap)))
            .max()
            .expect("the swap itself")
    }

    /// How many tasks copy each folder.
    fn coverage_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.data.folders.len()];
        for t in &self.tasks {
            for &i in &t.folders {
                counts[i as usize] += 1;
            }
        }
        counts
    }

    pub fn accounting(&self, now: Timestamp) -> Accounting {
        let swap = self.swap();
        let swapped_at = swap.map(|c| c.submitted_at);
        let insync_at = swap.map(|c| self.insync_at(c)).filter(|t| *t <= now);
        let freeze_at = self.freeze_at();
        let writes = |t: Timestamp| self.writes.writes_by(&self.data, t);
        let (lost, missing, during) = match swapped_at {
            Some(swap_at) => {
                let before_freeze = writes(freeze_at.map_or(swap_at, |f| f.min(swap_at)));
                // A folder no task copied (a gap in the partition) misses all its files and writes.
                let (mut unsynced, mut not_copied) = (0.0, 0);
                for (f, s) in self.data.folders.iter().zip(self.folder_state_at(swap_at)) {
                    let synced = if s.seeded { s.synced_writes } else { 0.0 };
                    unsynced += (before_freeze - synced).max(0.0) * f.write_share;
                    not_copied += if s.seeded { 0 } else { f.files };
                }
                let missing = self.missing_files_at(swap_at) + not_copied;
                let lost = unsynced.round() as u64 + missing;
                let during = freeze_at.map_or(0.0, |f| (writes(swap_at) - writes(f)).max(0.0));
                (Some(lost), Some(missing), Some(during.round() as u64))
            }
            None => (None, None, None),
        };
        let mut by_kind = BTreeMap::new();
        for e in &self.executions {
            *by_kind.entry(e.kind.to_string()).or_insert(0) += 1;
        }
        let coverage = (!self.tasks.is_empty()).then(|| self.coverage_counts());
        let files_covered = |keep: fn(usize) -> bool| {
            coverage.as_ref().map(|counts| {
                self.data
                    .folders
                    .iter()
                    .zip(counts)
                    .filter(|(_, c)| keep(**c))
                    .map(|(f, _)| f.files)
                    .sum()
            })
        };
        let secs_since_freeze =
            |t: Timestamp| freeze_at.and_then(|f| u64::try_from(t.duration_since(f).as_secs()).ok());
        Accounting {
            now,
            target_file_systems_created: self.targets.len(),
            executions_started: self.executions.len(),
            executions_by_kind: by_kind,
            source_writes_total: writes(now).round() as u64,
            freeze_at,
            dns_swapped_at: swapped_at,
            dns_insync_at: insync_at,
            writes_lost_at_swap: lost,
            files_missing_at_swap: missing,
            files_not_covered: files_covered(|c| c == 0),
            files_covered_twice: files_covered(|c| c > 1),
            writes_during_freeze: during,
            downtime_secs: insync_at
                .and(swap)
                .and_then(|c| secs_since_freeze(self.last_resolve_at(c))),
            service_downtime_secs: insync_at.and_then(secs_since_freeze),
            dns_cached_ttl_secs: swap.and_then(|c| c.previous_ttl),
            api_calls_total: self.api_calls.values().sum(),
            api_calls: self.api_calls.clone(),
            api_calls_max_per_sec: self
                .api_pacing
                .iter()
                .map(|(op, p)| (op.clone(), p.max_per_sec))
                .collect(),
            violations: self.violations.clone(),
            target_writes_total: self
                .target_writes
                .as_ref()
                .map(|_| self.target_writes_by(now).round() as u64),
            swap_back_at: self.swap_back().map(|c| c.submitted_at),
            writes_lost_at_swap_back: self
                .swap_back()
                .map(|c| self.writes_lost_at_swap_back(c.submitted_at).round() as u64),
        }
    }

    /// Counts a call of `operation` at `now` in its simulated second (for `api_calls_max_per_sec`).
    pub fn pace(&mut self, operation: &str, now: Timestamp) {
        let second = now.as_second();
        let p = self.api_pacing.entry(operation.to_string()).or_default();
        if p.second != second {
            (p.second, p.in_second) = (second, 0);
        }
        p.in_second += 1;
        p.max_per_sec = p.max_per_sec.max(p.in_second);
    }

    /// Every target and task any fsx-migrate plan created for `source_id`, found by their tags.
    pub fn migration_resources(&self, source_id: &str) -> Vec<MigrationResource> {
        let tagged = |kind: ResourceKind, id: &str, tags: &BTreeMap<String, String>| {
            let plan_id = tags.get(PLAN_TAG)?;
            (tags.get(SOURCE_TAG).map(String::as_str) == Some(source_id)).then(|| MigrationResource {
                kind,
                id: id.to_string(),
                plan_id: plan_id.clone(),
                source_file_system_id: source_id.to_string(),
            })
        };
        let file_systems = self
            .targets
            .iter()
            .filter(|t| !t.gone_at(self.last_seen))
            .filter_map(|t| tagged(ResourceKind::FileSystem, &t.info.id, &t.info.settings.tags));
        let tasks = self
            .tasks
            .iter()
            .filter_map(|t| tagged(ResourceKind::Task, &t.arn, &t.tags));
        file_systems.chain(tasks).collect()
    }

    /// A uniform number in [0, 1) from the world's seeded generator (splitmix64).
    pub fn roll(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fresh resource suffix of `len` hex digits.
    pub fn hex_id(&mut self, len: usize) -> String {
        let mut out = String::new();
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }

    /// The request a target was created with, normalised for the same-token comparison.
    pub fn request_fingerprint(request: &CreateTargetRequest) -> String {
        serde_json::to_string(request).expect("requests serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::model::ExecutionSchedule;
    use crate::sim::scenario::{self, ScenarioSpec};

    /// The small world with one task over the whole share (ARN `task`).
    fn small() -> World {
        let mut w = scenario::build(&ScenarioSpec::named("small").unwrap(), crate::sim::epoch());
        w.tasks.push(task(&w, "task", &[], &[]));
        w
    }

    fn task(w: &World, arn: &str, includes: &[&str], excludes: &[&str]) -> SimTask {
        let includes: Vec<String> = includes.iter().map(|s| s.to_string()).collect();
        let excludes: Vec<String> = excludes.iter().map(|s| s.to_string()).collect();
        SimTask {
            arn: arn.into(),
            tags: BTreeMap::new(),
            created_at: w.anchor_sim,
            folders: crate::sim::folders::covered(&w.data.folders, &includes, &excludes),
            includes,
            excludes,
            reverse: false,
        }
    }

    fn at(world: &World, secs: i64) -> Timestamp {
        world.anchor_sim + SignedDuration::from_secs(secs)
    }

    /// An execution of one hour (10 min each of launch and prepare, 30 of transfer, 10 of verify).
    fn execution(world: &World, kind: SyncKind, start: i64, skipped: u64) -> SimExecution {
        SimExecution {
            arn: format!("exec-{start}"),
            task_arn: "task".into(),
            kind,
            started_at: at(world, start),
            tags: BTreeMap::new(),
            remove_deleted: kind == SyncKind::Final,
            verify_mode: VerifyMode::OnlyFilesTransferred,
            fault_error: false,
            reverse: kind == SyncKind::Reverse,
            bytes_per_second: None,
            cancelled_at: None,
            folders: None,
            schedule: ExecutionSchedule {
                launch_secs: 600.0,
                prepare_secs: 600.0,
                transfer_secs: 1800.0,
                verify_secs: 600.0,
                snapshot_writes: world.writes.writes_by(&world.data, at(world, start + 1200)),
                files: 1000,
                bytes: 1000 << 20,
                deletes: 0,
                error_after_secs: None,
                skipped_files: skipped,
                entries: 2000,
                exceeded_quota: None,
                anchor: None,
            },
        }
    }

    fn swap(world: &mut World, secs: i64) {
        world.changes.push(SimChange {
            id: "C1".into(),
            record_name: "files.corp.example.com.".into(),
            value: "target".into(),
            ttl: 60,
            submitted_at: at(world, secs),
            previous_value: Some("source".into()),
            previous_ttl: Some(300),
        });
    }

    #[test]
    fn skipped_files_are_reported_from_transferring_on_and_the_execution_succeeds() {
        let w = small();
        let e = execution(&w, SyncKind::Initial, 0, 50);
        let info = |secs| e.info_at(at(&w, secs));
        assert_eq!(info(1000).counters.files_skipped, 0, "PREPARING");
        let transferring = info(1200 + 900);
        assert_eq!(transferring.status, ExecutionStatus::Transferring);
        assert_eq!(
            transferring.counters.files_skipped, 25,
            "half-way through TRANSFERRING"
        );
        let done = info(3600);
        assert_eq!(done.status, ExecutionStatus::Success);
        assert_eq!(done.counters.files_skipped, 50);
        assert_eq!(done.counters.files_transferred, 950);
        assert_eq!(done.counters.files_verified, 950);
        assert_eq!(done.counters.estimated_files_to_transfer, 1000);
        assert_eq!(done.counters.bytes_transferred, 950 << 20);
    }

    #[test]
    fn skipped_files_stay_missing_until_a_later_success_without_skips() {
        let mut w = small();
        w.executions.push(execution(&w, SyncKind::Initial, 0, 50));
        w.executions.push(execution(&w, SyncKind::Incremental, 4000, 0));
        assert_eq!(w.missing_files_at(at(&w, 3599)), 0, "nothing succeeded yet");
        assert_eq!(w.missing_files_at(at(&w, 3600)), 50);
        assert_eq!(
            w.missing_files_at(at(&w, 7599)),
            50,
            "the incremental is still running"
        );
        assert_eq!(w.missing_files_at(at(&w, 7600)), 0, "the incremental copied them");
        // A failed run copies nothing.
        let mut failed = execution(&w, SyncKind::Incremental, 8000, 0);
        failed.schedule.error_after_secs = Some(2000.0);
        w.executions.push(failed);
        w.executions.push(execution(&w, SyncKind::Incremental, 12_000, 7));
        assert_eq!(w.missing_files_at(at(&w, 11_000)), 0);
        assert_eq!(
            w.missing_files_at(at(&w, 15_600)),
            7,
            "the latest success skipped 7"
        );
    }

    #[test]
    fn files_missing_at_the_swap_count_as_lost_writes() {
        let mut w = small();
        w.writes.frozen_at = Some(at(&w, 4000));
        w.executions.push(execution(&w, SyncKind::Initial, 0, 0));
        w.executions.push(execution(&w, SyncKind::Final, 4000, 50));
        swap(&mut w, 7700);
        let acc = w.accounting(at(&w, 8000));
        assert_eq!(acc.files_missing_at_swap, Some(50));
        assert_eq!(acc.writes_lost_at_swap, Some(50), "{acc:?}");

        // The same cutover without the skip loses nothing.
        let mut clean = w.clone();
        clean.executions[1].schedule.skipped_files = 0;
        let acc = clean.accounting(at(&w, 8000));
        assert_eq!(
            (acc.files_missing_at_swap, acc.writes_lost_at_swap),
            (Some(0), Some(0))
        );

        // Skipped in an earlier run, copied by the final sync: nothing missing at the swap.
        let mut healed = clean.clone();
        healed.executions[0].schedule.skipped_files = 50;
        let acc = healed.accounting(at(&w, 8000));
        assert_eq!(
            (acc.files_missing_at_swap, acc.writes_lost_at_swap),
            (Some(0), Some(0))
        );
    }

    fn change(world: &World, secs: i64, value: &str, ttl: u64, previous: (&str, u64)) -> SimChange {
        SimChange {
            id: format!("C{secs}"),
            record_name: "files.corp.example.com.".into(),
            value: value.into(),
            ttl,
            submitted_at: at(world, secs),
            previous_value: Some(previous.0.into()),
            previous_ttl: Some(previous.1),
        }
    }

    #[test]
    fn downtime_lasts_until_resolvers_drop_the_ttl_they_cached_before_the_swap() {
        let mut w = small();
        w.writes.frozen_at = Some(at(&w, 4000));
        w.executions.push(execution(&w, SyncKind::Initial, 0, 0));
        w.executions.push(execution(&w, SyncKind::Final, 4000, 0));
        // Lowered from 300 s to 60 s an hour before the swap: only the 60 s are still cached.
        w.changes.push(change(&w, 3600, "source", 60, ("source", 300)));
        w.changes.push(change(&w, 7700, "target", 60, ("source", 60)));
        let acc = w.accounting(at(&w, 9000));
        assert_eq!(
            acc.dns_swapped_at,
            Some(at(&w, 7700)),
            "the TTL change is not the swap"
        );
        assert_eq!(acc.service_downtime_secs, Some(7745 - 4000));
        assert_eq!(acc.downtime_secs, Some(7745 + 60 - 4000));
        assert_eq!(acc.dns_cached_ttl_secs, Some(60));
        // Lowered just before the swap: answers with the old 300 s are still cached.
        w.changes[0].submitted_at = at(&w, 7650);
        let acc = w.accounting(at(&w, 9000));
        assert_eq!(acc.downtime_secs, Some(7695 + 300 - 4000));
        // Not lowered at all.
        w.changes.remove(0);
        w.changes[0].previous_ttl = Some(300);
        let acc = w.accounting(at(&w, 9000));
        assert_eq!(acc.downtime_secs, Some(7745 + 300 - 4000));
    }

    #[test]
    fn api_pacing_keeps_the_busiest_simulated_second() {
        let mut w = small();
        for secs in [0, 0, 0, 1, 5, 5] {
            let t = at(&w, secs);
            w.pace("datasync:DescribeTaskExecution", t);
        }
        w.pace("route53:GetChange", at(&w, 9));
        let acc = w.accounting(at(&w, 10));
        assert_eq!(acc.api_calls_max_per_sec["datasync:DescribeTaskExecution"], 3);
        assert_eq!(acc.api_calls_max_per_sec["route53:GetChange"], 1);
    }

    #[test]
    fn a_world_with_a_bad_value_fails_validation_with_the_field() {
        small().validate().unwrap();
        let mut w = small();
        w.model.transfer_files_per_sec = 0.0;
        assert!(
            w.validate()
                .unwrap_err()
                .to_string()
                .starts_with("model.transfer_files_per_sec = 0")
        );
        let mut w = small();
        w.speed = 1e15;
        assert_eq!(w.validate().unwrap_err().field, "speed");
        let mut w = small();
        w.faults
            .push(crate::sim::faults::FaultRule::parse("throttle").unwrap());
        w.faults[0].probability = 7.0;
        assert_eq!(w.validate().unwrap_err().field, "faults[0].probability");
        let mut w = small();
        w.source.settings.throughput_capacity_mbps = 0;
        assert!(w.validate().unwrap_err().allowed.contains("between 8 and 12288"));
        let mut w = small();
        w.executions.push(execution(&w, SyncKind::Initial, 0, 0));
        w.executions[0].schedule.transfer_secs = 1e300;
        assert_eq!(
            w.validate().unwrap_err().field,
            "executions[0].schedule.transfer_secs"
        );
    }
}
