//! `fsx-migrate plan`: turns what discovery found about the source into a reviewable intent.
//!
//! The target copies the source's settings; the policies get defaults an operator can defend.

use crate::cloud::model::{
    ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS, PasswordSource, SecurityDescriptorCopy, VerifyMode,
};
use crate::cloud::port::{Environment, InspectRequest, PLAN_TAG};
use crate::plan::Intent;
use crate::plan::intent::{
    CutoverPolicy, DEFAULT_ENTRIES_PER_EXECUTION, DEFAULT_MAX_PARALLEL_TASKS, Dns, FreezeKind,
    InventorySummary, Migration, NameProvider, Source, SyncPolicy, TOOL_TAG_PREFIX, Target, Transfer,
    multi_az_throughput,
};
use crate::plan::inventory::Inventory;
use crate::plan::partition::{PartitionError, PartitionRequest, partition};
use crate::plan::units::{Bytes, Duration};

/// What the operator passes to `plan`.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub source_file_system_id: String,
    pub subnet_ids: Vec<String>,
    pub preferred_subnet_id: String,
    pub hosted_zone_id: String,
    pub record_name: String,
    /// Where the record lives, and for AD DNS its zone and servers.
    pub name_provider: NameProvider,
    pub zone_name: Option<String>,
    pub dns_servers: Vec<String>,
    pub share_path: Option<String>,
    pub name: Option<String>,
    pub freeze: FreezeKind,
    pub freeze_command: Option<String>,
    pub unfreeze_command: Option<String>,
    /// `[windows]`: where the PowerShell runs for `freeze = "ssm"`.
    pub windows: Option<crate::plan::intent::Windows>,
    pub smb_user: String,
    pub smb_password: PasswordSource,
    pub ttl: u64,
    /// A fixed plan id (tests and the demo); otherwise a random one.
    pub plan_id: Option<String>,
}

impl PlanRequest {
    /// The plan's `[dns]`: where the users' name lives.
    pub fn dns(&self) -> Dns {
        Dns {
            provider: self.name_provider,
            hosted_zone_id: self.hosted_zone_id.clone(),
            record_name: self.record_name.clone(),
            ttl: self.ttl,
            zone_name: self.zone_name.clone(),
            dns_servers: self.dns_servers.clone(),
            share_path: self.share_path.clone(),
        }
    }

    /// What discovery must look at for this request.
    pub fn inspect_request(&self) -> InspectRequest {
        InspectRequest {
            source_file_system_id: self.source_file_system_id.clone(),
            subnet_ids: self.subnet_ids.clone(),
            hosted_zone_id: self.hosted_zone_id.clone(),
            record_name: self.record_name.clone(),
            name_service: self.dns().service(self.windows.as_ref()),
            password_sources: vec![self.smb_password.clone()],
            // The source's: the target copies them.
            security_group_ids: Some(Vec::new()),
        }
    }
}

/// System folders DataSync should not copy between FSx for Windows file systems.
pub const DEFAULT_EXCLUDES: [&str; 2] = ["*/System Volume Information", "*/$RECYCLE.BIN"];

/// Builds the intent. `None` when the source does not exist (preflight reports it).
pub fn intent_from(env: &Environment, req: &PlanRequest) -> Option<Intent> {
    let source = env.source.as_ref()?;
    let id = req.plan_id.clone().unwrap_or_else(|| {
        let uuid = uuid::Uuid::new_v4().simple().to_string();
        format!("fxm-{}", &uuid[..12])
    });
    let mut settings = source.settings.clone();
    // fsx-migrate's own tags (fsx-migrate:plan-id, …) are the target's to get from this plan, not to copy.
    debug_assert!(PLAN_TAG.starts_with(TOOL_TAG_PREFIX));
    settings.tags.retain(|key, _| !key.starts_with(TOOL_TAG_PREFIX));
    // Single-AZ offers 8 and 16 MB/s, Multi-AZ starts at 32: the smallest Multi-AZ size at least the source's.
    settings.throughput_capacity_mbps = multi_az_throughput(settings.throughput_capacity_mbps);
    let domain = settings
        .active_directory
        .as_ref()
        .and_then(|ad| ad.domain_name())
        .unwrap_or("corp.example.com")
        .to_string();
    let ad_join_password = match &settings.active_directory {
        // Joined with a secret: the target joins with the same secret, no password to ask for.
        Some(crate::cloud::model::ActiveDirectory::SelfManaged {
            domain_join_service_account_secret: None,
            ..
        }) => Some(PasswordSource::Env("FSX_MIGRATE_AD_PASSWORD".into())),
        _ => None,
    };
    Some(Intent {
        migration: Migration {
            id,
            name: req
                .name
                .clone()
                .unwrap_or_else(|| format!("{} to Multi-AZ", source.id)),
        },
        source: Source {
            file_system_id: source.id.clone(),
        },
        target: Target {
            subnet_ids: req.subnet_ids.clone(),
            preferred_subnet_id: req.preferred_subnet_id.clone(),
            security_group_ids: source.security_group_ids.clone(),
            ad_join_password,
            settings,
        },
        transfer: Transfer {
            source_subdirectory: "/share".into(),
            target_subdirectory: "/share".into(),
            smb_user: req.smb_user.clone(),
            smb_domain: domain,
            smb_password: req.smb_password.clone(),
            security_descriptor_copy: SecurityDescriptorCopy::OwnerDacl,
            verify_mode_live: VerifyMode::OnlyFilesTransferred,
            verify_mode_final: VerifyMode::OnlyFilesTransferred,
            cloudwatch_log_group_arn: datasync_log_group_arn(&source.arn),
            log_level: None,
            task_report: None,
            excludes: DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect(),
            lanes: Vec::new(),
            max_parallel_tasks: None,
            entries_per_execution: None,
            inventory: None,
        },
        sync: SyncPolicy {
            converged_changed_files: 50_000,
            converged_changed_bytes: Bytes(20 << 30),
            converged_duration: Duration::hours(1),
            max_incremental_runs: 10,
            pause_between_runs: Duration::mins(0),
            max_delta_age: Duration::hours(1),
            retry_failed_executions: 2,
            poll_interval: Duration::secs(30),
            bytes_per_second: None,
            business_hours: None,
        },
        cutover: CutoverPolicy {
            freeze: req.freeze,
            freeze_command: req.freeze_command.clone(),
            unfreeze_command: req.unfreeze_command.clone(),
            command_timeout: None,
            window: None,
            max_downtime: None,
            keep_warm_interval: None,
            max_final_deletes: 100_000,
        },
        dns: req.dns(),
        hooks: None,
        windows: req.windows.clone(),
    })
}

/// The log group a plan logs DataSync to by default, in the source's partition, Region and account: its
/// BASIC log is where skipped files are listed. `None` when the source ARN cannot be read.
fn datasync_log_group_arn(source_arn: &str) -> Option<String> {
    let parts: Vec<&str> = source_arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "fsx", region, account, _] if !region.is_empty() && !account.is_empty() => Some(
            format!("arn:{partition}:logs:{region}:{account}:log-group:/aws/datasync/fsx-migrate"),
        ),
        _ => None,
    }
}

/// What `plan --inventory` read, and the partition settings it was given.
#[derive(Debug, Clone)]
pub struct InventoryInput {
    /// The file's name (not its directory: that is the ops box's business).
    pub file: String,
    pub sha256: String,
    pub modified_at: Option<jiff::Timestamp>,
    pub inventory: Inventory,
    /// `--max-parallel-tasks`; default [`DEFAULT_MAX_PARALLEL_TASKS`].
    pub max_parallel_tasks: Option<u32>,
    /// `--entries-per-execution`; default [`DEFAULT_ENTRIES_PER_EXECUTION`].
    pub entries_per_execution: Option<u64>,
}

/// What `plan` says when it has no inventory: one lane, and what that costs.
pub const NO_INVENTORY_NOTE: &str = "no inventory: one DataSync task (lane \"all\") copies the whole share. FSx \
     reports no file counts, so DataSync's quota of 25 million source plus destination files and directories \
     per execution cannot be checked, and listing the whole share floors the final sync, i.e. the downtime. \
     Run scripts/inventory.ps1 against the share and plan again with --inventory FILE (docs/runbook.md, \
     \"Take an inventory\")";

/// Partitions the share into lanes and records them, the settings used and the inventory in the intent.
/// Returns the partition's notes for the operator.
pub fn apply_inventory(intent: &mut Intent, input: &InventoryInput) -> Result<Vec<String>, PartitionError> {
    let transfer = &mut intent.transfer;
    let max_parallel_tasks = input.max_parallel_tasks.unwrap_or(DEFAULT_MAX_PARALLEL_TASKS);
    let entries_per_execution = input
        .entries_per_execution
        .unwrap_or(DEFAULT_ENTRIES_PER_EXECUTION);
    let parts = partition(
        &input.inventory,
        &PartitionRequest {
            entries_per_execution,
            max_parallel_tasks,
            excludes: &transfer.excludes,
        },
    )?;
    let root = input.inventory.root();
    let mut notes = parts.notes;
    notes.extend(listing_advice(
        root.entries(),
        intent.target.settings.throughput_capacity_mbps,
    ));
    let transfer = &mut intent.transfer;
    transfer.lanes = parts.lanes;
    transfer.max_parallel_tasks = Some(max_parallel_tasks);
    transfer.entries_per_execution = Some(entries_per_execution);
    transfer.inventory = Some(InventorySummary {
        file: input.file.clone(),
        sha256: input.sha256.clone(),
        modified_at: input.modified_at,
        entries: root.entries(),
        bytes: root.bytes,
        rest_entries: parts.rest_entries,
        rest_bytes: parts.rest_bytes,
    });
    Ok(notes)
}

/// The final sync lists the whole share on both sides while users are frozen. At the assumed aggregate
/// listing rate of the two file systems ([`ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS`]), say how long that takes,
/// and when it is most of the downtime budget, what throughput would halve it.
fn listing_advice(entries: u64, throughput_mbps: u32) -> Option<String> {
    let rate = |mbps: u32| 2.0 * f64::from(mbps) * ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS;
    let listing = |mbps: u32| Duration((2.0 * entries as f64 / rate(mbps)).ceil() as u64);
    let now = listing(throughput_mbps);
    if now.as_secs() < LISTING_ADVICE_SECS {
        return None;
    }
    let raised = multi_az_throughput(throughput_mbps.saturating_mul(2));
    Some(format!(
        "the final sync lists {entries} entries on each side while users are frozen: about {now} at {throughput_mbps} \
         MB/s (assuming {} listed entries/s per MB/s of throughput; measure it in a pilot, docs/simulator.md). \
         Raising the source's throughput capacity to {raised} MB/s before the cutover (on Single-AZ a short outage \
         of its own, days ahead) and planning again, so the target is created at that size too, brings it to \
         about {}; both can be lowered after the migration",
        ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS,
        listing(raised)
    ))
}

/// Above this predicted listing time the plan advises more throughput for the cutover.
const LISTING_ADVICE_SECS: u64 = 6 * 60;
