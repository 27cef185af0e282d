//! Named starting worlds: the reference scenario of the issues, the demo, and a small one for tests.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::folders;
use super::model::{DataProfile, ModelConstants, OutOfRange, WriteProcess, check_f64, check_u64, limits};
use super::world::{WORLD_VERSION, World};
use crate::cloud::model::{
    ActiveDirectory, DeploymentType, DnsRecord, FileSystemInfo, FileSystemSettings, FileSystemType,
    Lifecycle, SecurityGroup, SecurityRule, StorageType, SubnetInfo,
};

/// Ids the simulated account always has, so plans and docs can name them.
pub const SOURCE_ID: &str = "fs-0123456789abcdef0";
pub const SUBNET_A: &str = "subnet-0aaa1111aaaa1111a";
pub const SUBNET_B: &str = "subnet-0bbb2222bbbb2222b";
/// In the same AZ as SUBNET_A.
pub const SUBNET_C: &str = "subnet-0ccc3333cccc3333c";
/// In another VPC.
pub const SUBNET_OTHER_VPC: &str = "subnet-0ddd4444dddd4444d";
pub const HOSTED_ZONE_ID: &str = "Z0123456789EXAMPLE";
pub const RECORD_NAME: &str = "files.corp.example.com";
/// A record that is not a CNAME, for preflight tests.
pub const A_RECORD_NAME: &str = "intranet.corp.example.com";
/// A Lustre and a Multi-AZ file system, for preflight tests.
pub const LUSTRE_ID: &str = "fs-0feedfacecafe0001";
pub const MULTI_AZ_ID: &str = "fs-0feedfacecafe0002";

/// What `sim init` varies.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    pub name: String,
    pub files: u64,
    pub bytes: u64,
    /// Share of files written per day, e.g. 0.01.
    pub change_rate_per_day: f64,
    pub throughput_mbps: u32,
    pub storage_type: StorageType,
    pub seed: u64,
}

impl ScenarioSpec {
    /// The scenarios `sim init --scenario` knows.
    pub fn named(name: &str) -> Option<ScenarioSpec> {
        let tib = 1u64 << 40;
        let (files, bytes, rate, throughput) = match name {
            // The issues' reference: 15 TiB, 30 M files, 1 % of files changed per day, 512 MB/s.
            "reference" => (30_000_000, 15 * tib, 0.01, 512),
            // The demo: a 2 TiB departmental share; a whole migration in about a simulated day.
            "demo" => (4_000_000, 2 * tib, 0.02, 256),
            // Tests: small enough that a migration is a few simulated hours.
            "small" => (200_000, 100 << 30, 0.05, 128),
            _ => return None,
        };
        Some(ScenarioSpec {
            name: name.to_string(),
            files,
            bytes,
            change_rate_per_day: rate,
            throughput_mbps: throughput,
            storage_type: StorageType::Ssd,
            seed: 42,
        })
    }

    pub const NAMES: [&'static str; 3] = ["reference", "demo", "small"];

    /// The values `sim init` accepts; errors name the flag.
    pub fn validate(&self) -> Result<(), OutOfRange> {
        use limits::*;
        check_u64("--files", self.files, 0, MAX_FILES, "")?;
        check_u64("--bytes", self.bytes, 0, MAX_BYTES, " bytes (1 PiB)")?;
        check_f64(
            "--change-rate",
            self.change_rate_per_day,
            0.0,
            MAX_CHANGE_RATE_PER_DAY,
            " per day (0% to 1000%)",
        )?;
        check_u64(
            "--throughput",
            u64::from(self.throughput_mbps),
            u64::from(MIN_THROUGHPUT_MBPS),
            u64::from(MAX_THROUGHPUT_MBPS),
            " MB/s (FSx for Windows' range)",
        )
    }
}

fn fs_arn(id: &str) -> String {
    format!("arn:aws:fsx:us-east-1:111122223333:file-system/{id}")
}

fn source_settings(spec: &ScenarioSpec) -> FileSystemSettings {
    let needed_gib = (spec.bytes as f64 * 1.25 / (1u64 << 30) as f64).ceil() as u32;
    FileSystemSettings {
        storage_capacity_gib: needed_gib.max(32),
        storage_type: spec.storage_type.clone(),
        throughput_capacity_mbps: spec.throughput_mbps,
        active_directory: Some(ActiveDirectory::Managed {
            directory_id: "d-0123456789".into(),
            domain_name: Some("corp.example.com".into()),
        }),
        automatic_backup_retention_days: 7,
        daily_automatic_backup_start_time: Some("03:00".into()),
        weekly_maintenance_start_time: Some("6:04:30".into()),
        copy_tags_to_backups: true,
        kms_key_id: Some(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        ),
        audit_log: None,
        disk_iops: None,
        fsrm: None,
        network_type: None,
        tags: BTreeMap::from([
            ("CostCenter".to_string(), "finance".to_string()),
            ("Name".to_string(), "finance-share".to_string()),
        ]),
    }
}

/// The source's group, as AWS's FSx for Windows and DataSync network pages ask: SMB (445) and the remote
/// PowerShell (5985) from the VPC, everything within the group itself (DataSync's network interfaces share
/// it), and all traffic out (the AD domain controllers' ports among it).
fn file_server_group() -> SecurityGroup {
    let rule = |protocol: &str, ports: Option<(i32, i32)>, cidrs: &[&str], groups: &[&str]| SecurityRule {
        protocol: protocol.into(),
        from_port: ports.map(|p| p.0),
        to_port: ports.map(|p| p.1),
        cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        prefix_lists: Vec::new(),
    };
    SecurityGroup {
        id: "sg-0fsx000000000001".into(),
        inbound: vec![
            rule("tcp", Some((445, 445)), &["10.0.0.0/16"], &[]),
            rule("tcp", Some((5985, 5985)), &["10.0.0.0/16"], &[]),
            rule("-1", None, &[], &["sg-0fsx000000000001"]),
        ],
        outbound: vec![rule("-1", None, &["0.0.0.0/0"], &[])],
    }
}

fn file_system(
    id: &str,
    kind: FileSystemType,
    deployment: DeploymentType,
    settings: FileSystemSettings,
) -> FileSystemInfo {
    FileSystemInfo {
        id: id.to_string(),
        arn: fs_arn(id),
        file_system_type: kind,
        deployment_type: deployment,
        lifecycle: Lifecycle::Available,
        failure_message: None,
        dns_name: format!("amznfsx{}.corp.example.com", &id[3..11]),
        vpc_id: "vpc-0a1b2c3d".into(),
        subnet_ids: vec![SUBNET_A.into()],
        security_group_ids: vec!["sg-0fsx000000000001".into()],
        remote_administration_endpoint: Some(format!("amznfsx{}.corp.example.com", &id[3..11])),
        aliases: Vec::new(),
        settings,
    }
}

/// Builds the world for `spec`, with simulated time starting at `start`.
pub fn build(spec: &ScenarioSpec, start: Timestamp) -> World {
    let settings = source_settings(spec);
    let source = file_system(
        SOURCE_ID,
        FileSystemType::Windows,
        DeploymentType::SingleAz2,
        settings.clone(),
    );
    let subnet = |id: &str, az: &str, vpc: &str| SubnetInfo {
        id: id.into(),
        availability_zone: az.into(),
        vpc_id: vpc.into(),
        // A /24 with the source and a few servers in it.
        available_ip_addresses: Some(240),
    };
    World {
        version: WORLD_VERSION,
        scenario: spec.name.clone(),
        region: "us-east-1".into(),
        account: "111122223333".into(),
        anchor_real: None,
        anchor_sim: start,
        speed: 1.0,
        event_time: false,
        last_seen: start,
        rng: spec.seed,
        model: ModelConstants::default(),
        data: DataProfile {
            files: spec.files,
            bytes: spec.bytes,
            writes_per_day: spec.files as f64 * spec.change_rate_per_day,
            delete_share: 0.05,
            folders: folders::generate(spec.files, spec.bytes, spec.seed),
        },
        writes: WriteProcess::starting(start),
        target_writes: None,
        records: vec![
            DnsRecord {
                name: format!("{RECORD_NAME}."),
                record_type: "CNAME".into(),
                values: vec![source.dns_name.clone()],
                ttl: Some(300),
            },
            DnsRecord {
                name: format!("{A_RECORD_NAME}."),
                record_type: "A".into(),
                values: vec!["10.0.1.20".into()],
                ttl: Some(300),
            },
        ],
        source,
        other_file_systems: vec![
            file_system(
                LUSTRE_ID,
                FileSystemType::Lustre,
                DeploymentType::Unknown("PERSISTENT_2".into()),
                settings.clone(),
            ),
            file_system(
                MULTI_AZ_ID,
                FileSystemType::Windows,
                DeploymentType::MultiAz1,
                settings,
            ),
        ],
        subnets: vec![
            subnet(SUBNET_A, "us-east-1a", "vpc-0a1b2c3d"),
            subnet(SUBNET_B, "us-east-1b", "vpc-0a1b2c3d"),
            subnet(SUBNET_C, "us-east-1a", "vpc-0a1b2c3d"),
            subnet(SUBNET_OTHER_VPC, "us-east-1c", "vpc-0ffff000"),
        ],
        security_groups: vec![file_server_group()],
        hosted_zone_id: HOSTED_ZONE_ID.into(),
        hosted_zone_name: "corp.example.com.".into(),
        targets: Vec::new(),
        locations: Vec::new(),
        tasks: Vec::new(),
        executions: Vec::new(),
        changes: Vec::new(),
        ssm_commands: Vec::new(),
        file_services: BTreeMap::new(),
        datasync_logon_error: None,
        aliases: Vec::new(),
        faults: Vec::new(),
        api_calls: BTreeMap::new(),
        api_pacing: BTreeMap::new(),
        violations: Vec::new(),
    }
}

/// What a rehearsal assumes about data AWS does not report (FSx has no file count).
#[derive(Debug, Clone, PartialEq)]
pub struct DataAssumptions {
    pub files: u64,
    pub bytes: u64,
    pub change_rate_per_day: f64,
}

impl DataAssumptions {
    /// Defaults from the source's size: 60 % used, 512 KiB per file, 1 % of files written per day.
    pub fn from_capacity(storage_capacity_gib: u32) -> DataAssumptions {
        let bytes = (f64::from(storage_capacity_gib) * 0.6 * (1u64 << 30) as f64) as u64;
        DataAssumptions {
            files: (bytes / (512 << 10)).max(1),
            bytes,
            change_rate_per_day: 0.01,
        }
    }
}

/// A world built from what discovery found in a real account, for forecasting a real migration: the same
/// source, subnets and record, with the data profile `data` assumes.
pub fn world_from_environment(
    env: &crate::cloud::port::Environment,
    hosted_zone_id: &str,
    data: &DataAssumptions,
    start: Timestamp,
) -> Option<World> {
    let source = env.source.clone()?;
    let spec = ScenarioSpec {
        name: "discovered".into(),
        files: data.files,
        bytes: data.bytes,
        change_rate_per_day: data.change_rate_per_day,
        throughput_mbps: source.settings.throughput_capacity_mbps,
        storage_type: source.settings.storage_type.clone(),
        seed: 42,
    };
    let mut world = build(&spec, start);
    world.region = source.arn.split(':').nth(3).unwrap_or("us-east-1").to_string();
    world.account = source.arn.split(':').nth(4).unwrap_or("000000000000").to_string();
    world.source = source;
    world.other_file_systems.clear();
    world.subnets = env.subnets.clone();
    world.hosted_zone_id = hosted_zone_id.to_string();
    world.hosted_zone_name = env.hosted_zone_name.clone().unwrap_or_default();
    world.records = env.record.clone().into_iter().collect();
    Some(world)
}
