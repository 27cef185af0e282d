//! Domain types shared by the plan file, the core, the simulator and the AWS adapter.
//!
//! These are our own types, not the SDK's: the plan file and the core must not change when the SDK does.
//! Every AWS enum we read has an explicit `Unknown(String)` case, because AWS adds values without notice and
//! an unexpected value must be shown to the operator, never crash the run.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An AWS enum as the operator writes it: only the known values are accepted.
///
/// The `Deserialize` impls of the enums below are lenient (an unknown value becomes `Unknown`), which is right
/// for what AWS returns. What the operator writes in the plan goes through [`strict`] instead, so a typo is an
/// error naming the field, its line and the allowed values, never a silent `Unknown`.
pub trait StrictEnum: Sized {
    /// Every value this build knows, as AWS spells it.
    const VALUES: &'static [&'static str];
    /// The known value spelled `raw`, if any.
    fn parse_known(raw: &str) -> Option<Self>;
}

/// `deserialize_with` helpers that refuse values outside [`StrictEnum::VALUES`].
pub mod strict {
    use serde::{Deserialize, Deserializer};

    use super::StrictEnum;

    /// The message for a value that is not one of `values` (the value is shortened if long).
    pub fn unknown_value(raw: &str, values: &[&str]) -> String {
        let shown: String = raw.chars().take(64).collect();
        let ellipsis = if shown.len() < raw.len() { "…" } else { "" };
        format!(
            "unknown value {:?}{ellipsis}: expected one of {}",
            shown,
            values.join(", ")
        )
    }

    /// Checks that a string is one of `values` and returns it.
    pub fn one_of<'de, D: Deserializer<'de>>(d: D, values: &[&str]) -> Result<String, D::Error> {
        let raw = String::deserialize(d)?;
        if values.contains(&raw.as_str()) {
            Ok(raw)
        } else {
            Err(serde::de::Error::custom(unknown_value(&raw, values)))
        }
    }

    /// A required enum field.
    pub fn value<'de, D: Deserializer<'de>, T: StrictEnum>(d: D) -> Result<T, D::Error> {
        let raw = String::deserialize(d)?;
        T::parse_known(&raw).ok_or_else(|| serde::de::Error::custom(unknown_value(&raw, T::VALUES)))
    }

    /// An optional enum field (use with `#[serde(default)]`).
    pub fn option<'de, D: Deserializer<'de>, T: StrictEnum>(d: D) -> Result<Option<T>, D::Error> {
        value(d).map(Some)
    }

    /// A string field that must hold one of `T`'s values (the model keeps some AWS enums as strings).
    pub fn string_of<'de, D: Deserializer<'de>, T: StrictEnum>(d: D) -> Result<String, D::Error> {
        one_of(d, T::VALUES)
    }

    /// An optional [`string_of`] field (use with `#[serde(default)]`).
    pub fn optional_string_of<'de, D: Deserializer<'de>, T: StrictEnum>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        string_of::<D, T>(d).map(Some)
    }
}

/// Declares an AWS string enum with a catch-all `Unknown` case that round-trips the raw value.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version of fsx-migrate does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The AWS wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(raw) => raw,
                }
            }

            /// Parses an AWS wire value; never fails.
            pub fn parse(raw: &str) -> Self {
                match raw {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl StrictEnum for $name {
            const VALUES: &'static [&'static str] = &[$($text),+];

            fn parse_known(raw: &str) -> Option<Self> {
                match raw {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Ok(Self::parse(&raw))
            }
        }
    };
}

aws_enum!(
    /// `FileSystemType` of FSx.
    FileSystemType { Windows = "WINDOWS", Lustre = "LUSTRE", Ontap = "ONTAP", OpenZfs = "OPENZFS" }
);

aws_enum!(
    /// `WindowsDeploymentType` of FSx for Windows.
    DeploymentType { SingleAz1 = "SINGLE_AZ_1", SingleAz2 = "SINGLE_AZ_2", MultiAz1 = "MULTI_AZ_1" }
);

aws_enum!(
    /// `FileSystemLifecycle` of FSx.
    Lifecycle {
        Available = "AVAILABLE",
        Creating = "CREATING",
        Failed = "FAILED",
        Deleting = "DELETING",
        Misconfigured = "MISCONFIGURED",
        Updating = "UPDATING",
        MisconfiguredUnavailable = "MISCONFIGURED_UNAVAILABLE",
    }
);

aws_enum!(
    /// `StorageType` of FSx.
    StorageType { Ssd = "SSD", Hdd = "HDD", IntelligentTiering = "INTELLIGENT_TIERING" }
);

aws_enum!(
    /// DataSync `TaskExecutionStatus`.
    ExecutionStatus {
        Queued = "QUEUED",
        Cancelling = "CANCELLING",
        Launching = "LAUNCHING",
        Preparing = "PREPARING",
        Transferring = "TRANSFERRING",
        Verifying = "VERIFYING",
        Success = "SUCCESS",
        Error = "ERROR",
    }
);

aws_enum!(
    /// DataSync `VerifyMode`.
    VerifyMode {
        PointInTimeConsistent = "POINT_IN_TIME_CONSISTENT",
        OnlyFilesTransferred = "ONLY_FILES_TRANSFERRED",
        None = "NONE",
    }
);

aws_enum!(
    /// DataSync `SecurityDescriptorCopyFlags`.
    SecurityDescriptorCopy { None = "NONE", OwnerDacl = "OWNER_DACL", OwnerDaclSacl = "OWNER_DACL_SACL" }
);

aws_enum!(
    /// DataSync `LogLevel`.
    LogLevel { Off = "OFF", Basic = "BASIC", Transfer = "TRANSFER" }
);

aws_enum!(
    /// FSx `WindowsAccessAuditLogLevel` (the levels of [`AuditLog`]).
    AuditLogLevel {
        Disabled = "DISABLED",
        SuccessOnly = "SUCCESS_ONLY",
        FailureOnly = "FAILURE_ONLY",
        SuccessAndFailure = "SUCCESS_AND_FAILURE",
    }
);

aws_enum!(
    /// FSx `DiskIopsConfigurationMode` (the mode of [`DiskIops`]).
    DiskIopsMode { Automatic = "AUTOMATIC", UserProvisioned = "USER_PROVISIONED" }
);

aws_enum!(
    /// FSx `NetworkType`.
    NetworkType { Ipv4 = "IPV4", Dual = "DUAL" }
);

aws_enum!(
    /// FSx `AliasLifecycle`: an alias being associated (CREATING) or disassociated (DELETING).
    AliasLifecycle {
        Available = "AVAILABLE",
        Creating = "CREATING",
        Deleting = "DELETING",
        CreateFailed = "CREATE_FAILED",
        DeleteFailed = "DELETE_FAILED",
    }
);

/// One of a file system's DNS aliases (FSx DescribeFileSystemAliases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasInfo {
    /// The FQDN, lowercase as FSx stores it.
    pub name: String,
    pub lifecycle: AliasLifecycle,
}

aws_enum!(
    /// Route 53 `ChangeStatus`.
    ChangeStatus { Pending = "PENDING", InSync = "INSYNC" }
);

aws_enum!(
    /// SSM `CommandInvocationStatus` (GetCommandInvocation's `Status`).
    InvocationStatus {
        Pending = "Pending",
        InProgress = "InProgress",
        Delayed = "Delayed",
        Success = "Success",
        Cancelled = "Cancelled",
        TimedOut = "TimedOut",
        Failed = "Failed",
        Cancelling = "Cancelling",
    }
);

impl InvocationStatus {
    /// True once the command will not change any more (an unknown status is taken as still running).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Cancelled | Self::TimedOut | Self::Failed
        )
    }
}

impl ExecutionStatus {
    /// True once the execution will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::Error)
    }
}

/// How the target joins Active Directory, as copied from the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActiveDirectory {
    /// AWS Managed Microsoft AD.
    Managed {
        directory_id: String,
        /// The domain name, when known; used for the 47-character Multi-AZ check.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain_name: Option<String>,
    },
    /// A self-managed AD; the join password is asked for at creation time and never stored.
    SelfManaged {
        domain_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        organizational_unit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        administrators_group: Option<String>,
        /// Empty when the join uses a Secrets Manager secret.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        user_name: String,
        dns_ips: Vec<String>,
        /// `DomainJoinServiceAccountSecret`: the secret holding the join account's user name and password.
        /// With it, the target joins with the same secret: no user name, no password at all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain_join_service_account_secret: Option<String>,
    },
}

impl ActiveDirectory {
    pub fn domain_name(&self) -> Option<&str> {
        match self {
            Self::Managed { domain_name, .. } => domain_name.as_deref(),
            Self::SelfManaged { domain_name, .. } => Some(domain_name),
        }
    }
}

/// An FSx file system as the tool needs to see it (source or target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSystemInfo {
    pub id: String,
    pub arn: String,
    pub file_system_type: FileSystemType,
    pub deployment_type: DeploymentType,
    pub lifecycle: Lifecycle,
    /// `FailureDetails.Message` when the lifecycle is FAILED or MISCONFIGURED.
    pub failure_message: Option<String>,
    pub dns_name: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    /// Read from the file system's network interfaces: FSx does not return them.
    pub security_group_ids: Vec<String>,
    /// `WindowsConfiguration.RemoteAdministrationEndpoint`: where its PowerShell (FSxRemoteAdmin) answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_administration_endpoint: Option<String>,
    /// `WindowsConfiguration.Aliases`: the other DNS names it answers to. Not copied: an alias belongs to one
    /// file system at a time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub settings: FileSystemSettings,
}

/// The settings a Multi-AZ target copies from the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSystemSettings {
    pub storage_capacity_gib: u32,
    pub storage_type: StorageType,
    pub throughput_capacity_mbps: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_directory: Option<ActiveDirectory>,
    pub automatic_backup_retention_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_automatic_backup_start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly_maintenance_start_time: Option<String>,
    pub copy_tags_to_backups: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log: Option<AuditLog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_iops: Option<DiskIops>,
    /// `WindowsConfiguration.FsrmConfiguration`: File Server Resource Manager on, and where its events go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsrm: Option<Fsrm>,
    /// `NetworkType`: `IPV4` or `DUAL` (IPv4 and IPv6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// `WindowsFsrmConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fsrm {
    pub service_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_log_destination: Option<String>,
}

/// `WindowsAuditLogConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLog {
    pub file_access: String,
    pub file_share_access: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// `DiskIopsConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskIops {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iops: Option<u64>,
}

/// Where DataSync writes its task report (`TaskReportConfig`, ERRORS_ONLY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskReport {
    pub s3_bucket_arn: String,
    pub bucket_access_role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
}

/// A VPC subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    pub id: String,
    pub availability_zone: String,
    pub vpc_id: String,
    /// EC2's AvailableIpAddressCount, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_ip_addresses: Option<u32>,
}

/// A security group's rules, as preflight checks them (EC2 DescribeSecurityGroups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    pub id: String,
    pub inbound: Vec<SecurityRule>,
    pub outbound: Vec<SecurityRule>,
}

/// One permission: a protocol (`tcp`, `udp`, `icmp` or `-1` for all), a port range, and where from (or to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityRule {
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    /// IPv4 and IPv6 ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<String>,
    /// Security groups (a group naming itself lets its members reach each other).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix_lists: Vec<String>,
}

impl SecurityRule {
    /// Whether it allows TCP to `port`.
    pub fn allows_tcp(&self, port: i32) -> bool {
        match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => {
                let (from, to) = (self.from_port.unwrap_or(0), self.to_port.unwrap_or(65535));
                (from..=to).contains(&port)
            }
            _ => false,
        }
    }

    /// Whether it names a peer among `groups`, or any address range.
    pub fn reaches(&self, groups: &[String]) -> bool {
        self.groups.iter().any(|g| groups.contains(g))
            || !self.cidrs.is_empty()
            || !self.prefix_lists.is_empty()
    }
}

/// A Route 53 resource record set, reduced to what a CNAME swap needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    pub record_type: String,
    pub values: Vec<String>,
    pub ttl: Option<u64>,
}

/// What DescribeTaskExecution says about one execution.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecutionCounters {
    pub estimated_files_to_transfer: u64,
    pub estimated_bytes_to_transfer: u64,
    pub estimated_files_to_delete: u64,
    pub files_transferred: u64,
    pub bytes_transferred: u64,
    pub files_deleted: u64,
    pub files_verified: u64,
    pub files_skipped: u64,
}

/// Per-phase durations of an execution (DataSync `Result`), in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PhaseDurations {
    pub prepare_ms: u64,
    pub transfer_ms: u64,
    pub verify_ms: u64,
    pub total_ms: u64,
}

/// One observation of a DataSync execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionInfo {
    pub arn: String,
    pub status: ExecutionStatus,
    /// DescribeTaskExecution's StartTime.
    #[serde(default)]
    pub started_at: Option<jiff::Timestamp>,
    pub counters: ExecutionCounters,
    pub durations: PhaseDurations,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
}

/// Which kind of DataSync run an execution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// The first, full copy.
    Initial,
    /// A catch-up copy while users keep working.
    Incremental,
    /// The copy after the freeze: deletes propagated, verified.
    Final,
    /// A rollback's copy back, target to source, after the target's freeze: deletes propagated, verified.
    Reverse,
    /// `fsx-migrate check`: an execution whose Includes match no file, so it mounts both sides and lists the
    /// folders above its probes, copying nothing. Never part of a migration's syncs.
    Check,
}

impl fmt::Display for SyncKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Initial => "initial",
            Self::Incremental => "incremental",
            Self::Final => "final",
            Self::Reverse => "reverse",
            Self::Check => "check",
        })
    }
}

/// Which side of the migration a DataSync location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Source,
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Target => "target",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_round_trip_instead_of_failing() {
        let status = ExecutionStatus::parse("INITIALIZING");
        assert_eq!(status, ExecutionStatus::Unknown("INITIALIZING".into()));
        assert_eq!(status.as_str(), "INITIALIZING");
        assert!(!status.is_terminal());
        let json = serde_json::to_string(&Lifecycle::parse("HIBERNATING")).unwrap();
        assert_eq!(json, "\"HIBERNATING\"");
        assert_eq!(
            serde_json::from_str::<Lifecycle>("\"AVAILABLE\"").unwrap(),
            Lifecycle::Available
        );
    }
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
            // Never echo the text: it may be the password itself, typed where its source belongs.
            _ => Err(PASSWORD_SOURCE_EXPECTED.to_string()),
        }
    }
}

const PASSWORD_SOURCE_EXPECTED: &str = "invalid password source (not shown, in case it is a password): expected \
     \"env:VARIABLE\", \"prompt\" or \"secretsmanager:ARN\"; the password itself never goes in the plan or on the \
     command line";

impl Serialize for PasswordSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PasswordSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PasswordSourceVisitor)
    }
}

/// Reads a password source without ever repeating the value in an error (serde's default messages quote
/// numbers and booleans: `smb_password = 12345678` must not print 12345678).
struct PasswordSourceVisitor;

impl PasswordSourceVisitor {
    fn refuse<E: serde::de::Error>(self) -> Result<PasswordSource, E> {
        Err(E::custom(PASSWORD_SOURCE_EXPECTED))
    }
}

impl serde::de::Visitor<'_> for PasswordSourceVisitor {
    type Value = PasswordSource;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a password source: \"env:VARIABLE\", \"prompt\" or \"secretsmanager:ARN\"")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<PasswordSource, E> {
        text.parse().map_err(E::custom)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_char<E: serde::de::Error>(self, _: char) -> Result<PasswordSource, E> {
        self.refuse()
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<PasswordSource, E> {
        self.refuse()
    }
}

/// Listing entries per second a file system serves to all DataSync executions together, per MB/s of its
/// throughput capacity. An assumption, chosen conservatively: public figures put one task's listing at roughly
/// 5,000–40,000 entries/s and nothing public gives a file server's aggregate. The simulator models it; the
/// planner uses it to say how long the final sync's listing may take. A pilot replaces it: one no-change
/// execution at 1, 4 and 12 parallel tasks, reading `PrepareDuration` (docs/simulator.md).
pub const ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS: f64 = 100.0;

/// Whether two DNS names are the same name: case-insensitive, trailing dot optional.
pub fn dns_eq(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Whether DataSync's SIMPLE_PATTERN filter `patterns` (joined with `|` in the API) matches `path`, a path
/// relative to the location that starts with `/`. A pattern matches the folder or file it names and
/// everything under it (`/dir` and `/dir/` alike); `*` matches any run of characters, `/` included.
/// Filters are case sensitive (DataSync User Guide, "Filtering data transferred by DataSync").
pub fn filter_matches(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|pattern| {
        let pattern = pattern.strip_suffix('/').unwrap_or(pattern);
        glob_matches(pattern.as_bytes(), path.as_bytes())
            || path
                .char_indices()
                .filter(|&(_, c)| c == '/')
                .any(|(i, _)| i > 0 && glob_matches(pattern.as_bytes(), &path.as_bytes()[..i]))
    })
}

/// Whether a task with these Includes (empty: everything) and Excludes copies `path`.
pub fn task_copies(includes: &[String], excludes: &[String], path: &str) -> bool {
    (includes.is_empty() || filter_matches(includes, path)) && !filter_matches(excludes, path)
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_matches(rest, &text[i..])),
        Some((c, rest)) => text
            .split_first()
            .is_some_and(|(t, tail)| t == c && glob_matches(rest, tail)),
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    fn p(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_folder_pattern_matches_the_folder_and_what_is_under_it_only() {
        let dir = p(&["/Projects/A"]);
        assert!(filter_matches(&dir, "/Projects/A"));
        assert!(filter_matches(&dir, "/Projects/A/x/y.txt"));
        assert!(!filter_matches(&dir, "/Projects/AB"));
        assert!(!filter_matches(&dir, "/Projects"));
        assert!(filter_matches(&p(&["/Projects/A/"]), "/Projects/A/y.txt"));
        assert!(!filter_matches(&dir, "/projects/a/y.txt"), "case sensitive");
    }

    #[test]
    fn wildcards_match_across_folders() {
        let tmp = p(&["*/tmp", "*/~$*"]);
        assert!(filter_matches(&tmp, "/a/b/tmp/file"));
        assert!(filter_matches(&tmp, "/a/~$report.docx"));
        assert!(!filter_matches(&tmp, "/a/tmpfile"));
        assert!(filter_matches(&p(&["/Home*"]), "/Home2/x"));
    }

    #[test]
    fn a_task_copies_what_its_includes_name_less_its_excludes() {
        assert!(task_copies(&[], &[], "/anything"));
        assert!(task_copies(&p(&["/A"]), &p(&["*/tmp"]), "/A/f"));
        assert!(!task_copies(&p(&["/A"]), &p(&["*/tmp"]), "/A/tmp/f"));
        assert!(!task_copies(&p(&["/A"]), &[], "/B/f"));
        assert!(task_copies(&[], &p(&["/A"]), "/B/f"));
    }
}
