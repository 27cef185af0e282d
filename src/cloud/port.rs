//! The cloud port: the one boundary between the migration logic and the outside world.
//!
//! The core asks for [`Command`]s; an adapter (the simulator, or the AWS SDK) carries each one out and answers
//! with a [`Response`] or a [`CloudError`]. Everything above this trait is the same code path for both, which
//! is what lets the simulator prove the orchestration.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cloud::model::PasswordSource;
use crate::cloud::model::{
    ChangeStatus, DnsRecord, ExecutionInfo, ExecutionStatus, FileSystemInfo, FileSystemSettings, LogLevel,
    SecurityDescriptorCopy, Side, SubnetInfo, SyncKind, TaskReport, VerifyMode,
};

/// The tag key every created resource carries; its value is the plan id.
pub const PLAN_TAG: &str = "fsx-migrate:plan-id";
/// The tag key naming the source file system a created resource migrates (one migration per source).
pub const SOURCE_TAG: &str = "fsx-migrate:source-id";
/// The tag key that tells the source location from the target location (`source` or `target`).
pub const SIDE_TAG: &str = "fsx-migrate:side";
/// The tag key of an execution: the id of the one sync request it was started for (see `CurrentSync::sync_id`).
pub const SYNC_TAG: &str = "fsx-migrate:sync";
/// The tag key of a DataSync task: the name of the lane (partition) it carries.
pub const LANE_TAG: &str = "fsx-migrate:lane";
/// The tag key fsx-migrate puts on the source once the operator's freeze has taken effect; its value is the
/// plan id. It records the freeze on AWS, where other administrators, other plans and the swap's re-check see
/// it, and the simulator's users stop writing when it appears (see docs/simulator.md).
pub const FROZEN_TAG: &str = "fsx-migrate:frozen-by";
/// The tag key of a DataSync task that copies back, target to source, for a rollback (value [`REVERSE_LEG`]);
/// a task without it copies forward.
pub const LEG_TAG: &str = "fsx-migrate:leg";
pub const REVERSE_LEG: &str = "reverse";
/// The lane over the whole share when the plan has no partition (and of a task without a lane tag, which
/// plans made before lanes created).
pub const WHOLE_SHARE_LANE: &str = "all";
/// The lane that excludes every other lane's folders: root files and folders created after planning.
pub const REST_LANE: &str = "rest";

/// The lane a task carries, from its tags.
pub fn lane_of(tags: &BTreeMap<String, String>) -> String {
    tags.get(LANE_TAG)
        .cloned()
        .unwrap_or_else(|| WHOLE_SHARE_LANE.to_string())
}

/// Whether a task copies back, target to source (a rollback's), from its tags.
pub fn is_reverse(tags: &BTreeMap<String, String>) -> bool {
    tags.get(LEG_TAG).map(String::as_str) == Some(REVERSE_LEG)
}

/// The operations that have no client token: sent twice, they act twice (see [`Command::is_idempotent`]).
pub const NON_IDEMPOTENT_OPERATIONS: &[&str] = &[
    "datasync:CreateLocationFsxWindows",
    "datasync:CreateTask",
    "datasync:StartTaskExecution",
    "ssm:SendCommand",
];

/// Every `service:Operation` a command makes (see [`Command::operations`]); fault rules name these.
pub const ALL_OPERATIONS: &[&str] = &[
    "fsx:DescribeFileSystems",
    "fsx:CreateFileSystem",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "route53:ChangeResourceRecordSets",
    "route53:GetChange",
    "datasync:ListLocations",
    "datasync:ListTasks",
    "datasync:ListTagsForResource",
    "datasync:CreateLocationFsxWindows",
    "datasync:CreateTask",
    "datasync:ListTaskExecutions",
    "datasync:StartTaskExecution",
    "datasync:DescribeTaskExecution",
    "datasync:UpdateTaskExecution",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:PutResourcePolicy",
    "fsx:TagResource",
    "fsx:UntagResource",
    "datasync:CancelTaskExecution",
    "datasync:DeleteTask",
    "datasync:DeleteLocation",
    "fsx:DeleteFileSystem",
    "ssm:SendCommand",
    "ssm:ListCommands",
    "ssm:GetCommandInvocation",
    "fsx:DescribeFileSystemAliases",
    "fsx:AssociateFileSystemAliases",
    "fsx:DisassociateFileSystemAliases",
];

/// How many of the newest unknown executions FindExecution describes: a task runs one at a time, and the
/// checkpoint knows every execution but the last few, so older ones cannot be this plan's current request.
pub const EXECUTION_CANDIDATES: usize = 5;

/// A request to the cloud. Read-only commands are marked by [`Command::is_mutating`].
// One command exists per step; its size does not matter, boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Gather the facts preflight checks: the source, the subnets, the hosted zone and the record.
    Inspect(InspectRequest),
    /// FSx CreateFileSystem (MULTI_AZ_1) with the plan's ClientRequestToken.
    CreateTarget(CreateTargetRequest),
    /// FSx DescribeFileSystems for one id.
    DescribeFileSystem { file_system_id: String },
    /// Look up DataSync locations and the task tagged with this plan id.
    FindTransferResources { plan_id: String },
    /// Every file system and DataSync task any fsx-migrate plan created for this source (by tag).
    FindMigrationResources { source_file_system_id: String },
    /// Make sure the CloudWatch log group DataSync writes to exists and DataSync may write to it.
    EnsureLogGroup { arn: String },
    /// DataSync CreateLocationFsxWindows.
    CreateLocation(CreateLocationRequest),
    /// DataSync CreateTask.
    CreateTask(CreateTaskRequest),
    /// The task's executions that are not in `known`, newest first, with their status, start time and
    /// tags: the core decides which one (if any) is this plan's (DescribeTask, ListTaskExecutions, …).
    FindExecution { task_arn: String, known: Vec<String> },
    /// DataSync StartTaskExecution with per-kind override options.
    StartExecution(StartExecutionRequest),
    /// DataSync DescribeTaskExecution.
    DescribeExecution { execution_arn: String },
    /// DataSync UpdateTaskExecution: a running execution's bandwidth limit (`None`: unlimited).
    LimitExecution {
        execution_arn: String,
        bytes_per_second: Option<u64>,
    },
    /// Route 53 ChangeResourceRecordSets, one UPSERT of a CNAME.
    UpsertCname(UpsertCnameRequest),
    /// Route 53 GetChange; with `ad_dns`, whether every listed DNS server answers the change's value.
    GetChange {
        change_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        name_service: Option<NameService>,
    },
    /// FSx TagResource: record on a file system that it is frozen for this plan ([`FROZEN_TAG`]).
    MarkFrozen {
        file_system_arn: String,
        plan_id: String,
    },
    /// FSx UntagResource of [`FROZEN_TAG`]: the file system was unfrozen (a rollback's end).
    UnmarkFrozen { file_system_arn: String },
    /// DataSync ListTaskExecutions: the task's executions that have not ended (any status but SUCCESS and
    /// ERROR), oldest first.
    RunningExecutions { task_arn: String },
    /// DataSync CancelTaskExecution.
    CancelExecution { execution_arn: String },
    /// DataSync DeleteTask. A task already gone is answered as deleted.
    DeleteTask { task_arn: String },
    /// DataSync DeleteLocation. A location already gone is answered as deleted.
    DeleteLocation { location_arn: String },
    /// FSx DeleteFileSystem without a final backup (the source still holds every file), with a client token.
    /// A file system already gone is answered as deleted; the deletion goes on in AWS (lifecycle DELETING).
    DeleteFileSystem {
        file_system_id: String,
        client_request_token: String,
    },
    /// SSM SendCommand (`AWS-RunPowerShellScript`): one of fsx-migrate's scripts on the plan's Windows
    /// instance. No client token: a send whose answer was lost is looked up by its comment ([`Command::FindPowerShell`]).
    RunPowerShell(PowerShellRequest),
    /// SSM ListCommands: the ids of the commands sent to the instance with this comment, newest first.
    FindPowerShell { instance_id: String, comment: String },
    /// SSM GetCommandInvocation.
    GetPowerShell { command_id: String, instance_id: String },
    /// FSx DescribeFileSystemAliases (every page).
    DescribeAliases { file_system_id: String },
    /// FSx AssociateFileSystemAliases with a client token; answered with the aliases as FSx returns them.
    AssociateAliases {
        file_system_id: String,
        aliases: Vec<String>,
        client_request_token: String,
    },
    /// FSx DisassociateFileSystemAliases with a client token.
    DisassociateAliases {
        file_system_id: String,
        aliases: Vec<String>,
        client_request_token: String,
    },
    /// Route 53 ListResourceRecordSets for one name: the record set, of any type, if the zone holds it.
    FindRecord {
        hosted_zone_id: String,
        record_name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerShellRequest {
    pub instance_id: String,
    pub call: crate::cloud::windows::ScriptCall,
    /// Names this send (plan, purpose, request time), so a lost answer is found again; at most 100 characters.
    pub comment: String,
    /// The script's `executionTimeout`, seconds.
    pub timeout_secs: u64,
}

impl Command {
    /// True for commands that change something in the cloud; dry runs and `status` never send these.
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Command::CreateTarget(_)
                | Command::EnsureLogGroup { .. }
                | Command::CreateLocation(_)
                | Command::CreateTask(_)
                | Command::StartExecution(_)
                | Command::UpsertCname(_)
                | Command::MarkFrozen { .. }
                | Command::UnmarkFrozen { .. }
                | Command::LimitExecution { .. }
                | Command::CancelExecution { .. }
                | Command::DeleteTask { .. }
                | Command::DeleteLocation { .. }
                | Command::DeleteFileSystem { .. }
                | Command::RunPowerShell(_)
                | Command::AssociateAliases { .. }
                | Command::DisassociateAliases { .. }
        )
    }

    /// False for commands that may do their work twice if sent twice (no client token): an unknown outcome
    /// of these (a timeout) is resolved by looking the resource up by tag, never by sending them again.
    pub fn is_idempotent(&self) -> bool {
        !self
            .operations()
            .iter()
            .any(|op| NON_IDEMPOTENT_OPERATIONS.contains(op))
    }

    /// The AWS operations this command makes, as `service:Operation`.
    pub fn operations(&self) -> &'static [&'static str] {
        match self {
            Command::Inspect(_) => &[
                "fsx:DescribeFileSystems",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "route53:GetHostedZone",
                "route53:ListResourceRecordSets",
            ],
            Command::CreateTarget(_) => &["fsx:CreateFileSystem"],
            Command::DescribeFileSystem { .. } => &["fsx:DescribeFileSystems"],
            Command::FindTransferResources { .. } => &[
                "datasync:ListLocations",
                "datasync:ListTasks",
                "datasync:ListTagsForResource",
            ],
            Command::FindMigrationResources { .. } => &[
                "fsx:DescribeFileSystems",
                "datasync:ListTasks",
                "datasync:ListTagsForResource",
            ],
            Command::EnsureLogGroup { .. } => &[
                "logs:DescribeLogGroups",
                "logs:CreateLogGroup",
                "logs:PutResourcePolicy",
            ],
            Command::CreateLocation(_) => &["datasync:CreateLocationFsxWindows"],
            Command::CreateTask(_) => &["datasync:CreateTask"],
            Command::FindExecution { .. } => &[
                "datasync:ListTaskExecutions",
                "datasync:DescribeTaskExecution",
                "datasync:ListTagsForResource",
            ],
            Command::StartExecution(_) => &["datasync:StartTaskExecution"],
            Command::DescribeExecution { .. } => &["datasync:DescribeTaskExecution"],
            Command::LimitExecution { .. } => &["datasync:UpdateTaskExecution"],
            Command::UpsertCname(_) => &["route53:ChangeResourceRecordSets"],
            Command::GetChange { .. } => &["route53:GetChange"],
            Command::MarkFrozen { .. } => &["fsx:TagResource"],
            Command::UnmarkFrozen { .. } => &["fsx:UntagResource"],
            Command::RunningExecutions { .. } => &["datasync:ListTaskExecutions"],
            Command::CancelExecution { .. } => &["datasync:CancelTaskExecution"],
            Command::DeleteTask { .. } => &["datasync:DeleteTask"],
            Command::DeleteLocation { .. } => &["datasync:DeleteLocation"],
            Command::DeleteFileSystem { .. } => &["fsx:DeleteFileSystem"],
            Command::RunPowerShell(_) => &["ssm:SendCommand"],
            Command::FindPowerShell { .. } => &["ssm:ListCommands"],
            Command::GetPowerShell { .. } => &["ssm:GetCommandInvocation"],
            Command::DescribeAliases { .. } => &["fsx:DescribeFileSystemAliases"],
            Command::AssociateAliases { .. } => &["fsx:AssociateFileSystemAliases"],
            Command::DisassociateAliases { .. } => &["fsx:DisassociateFileSystemAliases"],
            Command::FindRecord { .. } => &["route53:ListResourceRecordSets"],
        }
    }
}

/// The name-switch seam: the users' name is a Route 53 record (`hosted_zone_id`) unless a request names
/// another service, which the adapter reads, changes and checks with a script through SSM on
/// `ssm_instance_id`. The core asks the same of all: the record, an UPSERT to a value, whether it is in sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "service", rename_all = "snake_case")]
pub enum NameService {
    /// A CNAME in an Active Directory-integrated DNS zone (scripts/windows/dns.ps1): changed on the first
    /// server, in sync once every one answers the new value.
    AdDns {
        zone_name: String,
        dns_servers: Vec<String>,
        ssm_instance_id: String,
    },
    /// A DFS namespace folder (the record's name is its path) whose one online target is
    /// `\\<value>\<share_path>` (scripts/windows/dfs.ps1); the old targets go offline, never away.
    Dfs {
        share_path: String,
        ssm_instance_id: String,
    },
}

impl NameService {
    pub fn ssm_instance_id(&self) -> &str {
        match self {
            NameService::AdDns { ssm_instance_id, .. } | NameService::Dfs { ssm_instance_id, .. } => {
                ssm_instance_id
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectRequest {
    pub source_file_system_id: String,
    pub subnet_ids: Vec<String>,
    pub hosted_zone_id: String,
    pub record_name: String,
    /// The record is in this AD DNS zone, not in Route 53.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_service: Option<NameService>,
    /// Password sources to resolve now (never returned, only whether they resolve), so a missing one
    /// stops the run before anything billable exists.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub password_sources: Vec<PasswordSource>,
    /// Describe these security groups' rules (the target's, which DataSync's locations use too); `None`:
    /// none; an empty list: the source's (at `plan`, before the target's are chosen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateTargetRequest {
    pub client_request_token: String,
    pub subnet_ids: Vec<String>,
    pub preferred_subnet_id: String,
    pub security_group_ids: Vec<String>,
    /// For a self-managed AD: where the adapter reads the join password. Never the password itself.
    pub ad_join_password: Option<PasswordSource>,
    pub settings: FileSystemSettings,
    /// Tags applied to the file system: the copied tags plus the plan tag.
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateLocationRequest {
    pub side: Side,
    pub file_system_arn: String,
    pub security_group_ids: Vec<String>,
    pub subdirectory: String,
    pub user: String,
    pub domain: String,
    /// Where the adapter reads the password from; the password itself never crosses this boundary.
    pub password: PasswordSource,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateTaskRequest {
    /// The lane this task carries (also tagged [`LANE_TAG`]).
    pub lane: String,
    pub name: String,
    pub source_location_arn: String,
    pub target_location_arn: String,
    pub options: TaskOptions,
    /// The folders this task copies (empty: everything not excluded); one Includes filter.
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub cloudwatch_log_group_arn: Option<String>,
    /// DataSync task report (ERRORS_ONLY) to S3: where skipped and failed files are listed.
    pub task_report: Option<TaskReport>,
    pub tags: BTreeMap<String, String>,
}

/// The DataSync task options fsx-migrate sets deliberately (the rest keep DataSync's defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskOptions {
    pub transfer_mode: TransferMode,
    pub verify_mode: VerifyMode,
    pub preserve_deleted_files: PreserveDeletedFiles,
    pub security_descriptor_copy: SecurityDescriptorCopy,
    pub log_level: LogLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferMode {
    Changed,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PreserveDeletedFiles {
    Preserve,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartExecutionRequest {
    pub task_arn: String,
    pub kind: SyncKind,
    pub overrides: TaskOptions,
    pub tags: BTreeMap<String, String>,
    /// The bandwidth limit the execution starts with (DataSync `BytesPerSecond`); `None`: unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<u64>,
    /// This execution's own Includes filter in place of the task's (`check`'s probes); `None`: the task's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub includes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpsertCnameRequest {
    pub hosted_zone_id: String,
    pub record_name: String,
    pub value: String,
    pub ttl: u64,
    pub comment: String,
    /// The record is in this AD DNS zone, not in Route 53.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_service: Option<NameService>,
}

/// The facts preflight needs; absent things are `None` or missing from the lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub source: Option<FileSystemInfo>,
    /// The requested subnets that exist.
    pub subnets: Vec<SubnetInfo>,
    pub hosted_zone_name: Option<String>,
    /// The record set with the requested name, of any type.
    pub record: Option<DnsRecord>,
    /// Resources fsx-migrate created for this source, of any plan (one migration per source).
    #[serde(default)]
    pub migration_resources: Vec<MigrationResource>,
    /// Password sources that do not resolve, each as `source: why` (never the password).
    #[serde(default)]
    pub unresolved_passwords: Vec<String>,
    /// The rules of the security groups asked for (`InspectRequest::security_group_ids`) that exist.
    #[serde(default)]
    pub security_groups: Vec<crate::cloud::model::SecurityGroup>,
}

/// A resource fsx-migrate created, found by its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationResource {
    pub kind: ResourceKind,
    /// The file system id or the task ARN.
    pub id: String,
    pub plan_id: String,
    pub source_file_system_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    FileSystem,
    Task,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FileSystem => "file system",
            Self::Task => "DataSync task",
        })
    }
}

/// One execution of a task as FindExecution sees it; the core decides whether it is this plan's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionCandidate {
    pub arn: String,
    pub status: ExecutionStatus,
    /// DescribeTaskExecution's StartTime; `None` when AWS did not say.
    pub started_at: Option<Timestamp>,
    pub tags: BTreeMap<String, String>,
}

/// DataSync resources found by the plan tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransferResources {
    pub source_location_arn: Option<String>,
    pub target_location_arn: Option<String>,
    /// This plan's forward tasks by lane (see [`lane_of`]).
    pub tasks: BTreeMap<String, String>,
    /// This plan's reverse (rollback) tasks by lane: tagged [`LEG_TAG`] = [`REVERSE_LEG`].
    pub reverse_tasks: BTreeMap<String, String>,
}

/// A successful answer to a [`Command`].
#[allow(clippy::large_enum_variant)] // one per step, like Command
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Environment(Environment),
    FileSystem(FileSystemInfo),
    TransferResources(TransferResources),
    LocationCreated {
        side: Side,
        arn: String,
    },
    TaskCreated {
        arn: String,
    },
    /// Executions not yet known to the checkpoint, newest first.
    ExecutionCandidates(Vec<ExecutionCandidate>),
    MigrationResources(Vec<MigrationResource>),
    LogGroupReady,
    ExecutionStarted {
        arn: String,
    },
    Execution(ExecutionInfo),
    Change {
        id: String,
        status: ChangeStatus,
    },
    MarkedFrozen,
    UnmarkedFrozen,
    ExecutionLimited {
        execution_arn: String,
        bytes_per_second: Option<u64>,
    },
    /// The executions of a task that have not ended.
    RunningExecutions(Vec<String>),
    ExecutionCancelled,
    /// A task, location or file system was deleted (or its deletion began), or it was already gone.
    Deleted {
        id: String,
    },
    PowerShellSent {
        command_id: String,
    },
    /// Commands found by comment, newest first.
    PowerShellCommands(Vec<String>),
    PowerShellInvocation(PowerShellInvocation),
    /// An associate or disassociate FSx took (it shows in DescribeFileSystemAliases shortly).
    AliasesChanged {
        file_system_id: String,
    },
    /// A file system's aliases, described.
    Aliases {
        file_system_id: String,
        aliases: Vec<crate::cloud::model::AliasInfo>,
    },
    /// The record set with the asked name, if any.
    Record(Option<crate::cloud::model::DnsRecord>),
}

/// SSM GetCommandInvocation: where the command stands, and its output so far (SSM keeps the first 24,000
/// characters of standard output and 8,000 of standard error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerShellInvocation {
    pub status: crate::cloud::model::InvocationStatus,
    /// `StatusDetails` (e.g. `DeliveryTimedOut`, `Undeliverable`).
    pub status_details: Option<String>,
    pub stdout: String,
    pub stderr: String,
}

/// Why a command failed, classified so the caller knows whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Throttling: retry with backoff.
    Throttled,
    /// 5xx, timeouts, connection resets: retry with backoff.
    Transient,
    /// The request was refused (BadRequest, IncompatibleParameterError, InvalidRequestException, …).
    Rejected,
    /// The named resource does not exist.
    NotFound,
    /// The ops box has no valid credentials (expired SSO session, no profile): retrying cannot help.
    Credentials,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Throttled | ErrorClass::Transient)
    }
}

/// A failed cloud call: which operation, AWS's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudError {
    pub class: ErrorClass,
    pub operation: String,
    pub code: String,
    pub message: String,
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}: {}", self.operation, self.code, self.message)
    }
}

impl std::error::Error for CloudError {}

/// An adapter that carries out [`Command`]s: the simulator or AWS.
#[allow(async_fn_in_trait)]
pub trait CloudPort {
    async fn execute(&mut self, command: &Command) -> Result<Response, CloudError>;

    /// Called before the driver writes a checkpoint: an adapter that keeps state of its own (the simulator's
    /// world) makes what the checkpoint is about to rely on as durable as the checkpoint. AWS needs nothing.
    fn settle(&mut self) -> Result<(), CloudError> {
        Ok(())
    }
}
