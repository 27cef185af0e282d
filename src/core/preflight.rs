//! Preflight: every check that can be made before anything is created, all reported together.
//!
//! Pure: it looks at the intent and the facts the port gathered ([`Environment`]) and lists findings.

use std::fmt;

use serde::Serialize;

use crate::cloud::model::{DeploymentType, FileSystemType, Lifecycle, StorageType, SubnetInfo};
use crate::cloud::port::Environment;
use crate::plan::intent::{FreezeKind, Intent};

/// The longest AD domain name Single-AZ 2 and Multi-AZ file systems accept (FSx docs).
pub const MAX_MULTI_AZ_DOMAIN_LEN: usize = 47;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks the run.
    Error,
    /// Shown, does not block.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

fn error(message: String, hint: Option<&str>) -> Finding {
    Finding {
        severity: Severity::Error,
        message,
        hint: hint.map(str::to_string),
    }
}

pub fn warning(message: String, hint: Option<&str>) -> Finding {
    Finding {
        severity: Severity::Warning,
        message,
        hint: hint.map(str::to_string),
    }
}

/// All findings for `intent` against `env`. Errors block the run.
pub fn check(intent: &Intent, env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    check_source(intent, env, &mut out);
    check_subnets(intent, env, &mut out);
    check_security_groups(intent, &mut out);
    check_security_group_rules(intent, env, &mut out);
    check_dns(intent, env, &mut out);
    check_policy(intent, &mut out);
    check_other_migrations(intent, env, &mut out);
    check_partition(intent, &mut out);
    check_capacity(intent, &mut out);
    for problem in &env.unresolved_passwords {
        out.push(error(
            format!("password source {problem}"),
            Some("set the variable or fix the secret before the run: nothing billable exists yet"),
        ));
    }
    out
}

/// One migration per source: resources another plan created for this source block this plan.
fn check_other_migrations(intent: &Intent, env: &Environment, out: &mut Vec<Finding>) {
    for problem in super::machine::other_plans(&env.migration_resources, &intent.migration.id) {
        out.push(error(
            problem,
            Some(
                "one migration per source: finish or abandon that plan (and delete its resources) first, or                  run that plan instead",
            ),
        ));
    }
}

fn check_source(intent: &Intent, env: &Environment, out: &mut Vec<Finding>) {
    let id = &intent.source.file_system_id;
    let Some(source) = &env.source else {
        out.push(error(
            format!("source file system {id} does not exist"),
            Some("check the id, the --region and the --profile (fsx:DescribeFileSystems found nothing)"),
        ));
        return;
    };
    if source.file_system_type != FileSystemType::Windows {
        out.push(error(
            format!(
                "source {id} is a {} file system, not WINDOWS",
                source.file_system_type
            ),
            Some("fsx-migrate moves FSx for Windows File Server file systems only"),
        ));
    }
    match &source.deployment_type {
        DeploymentType::SingleAz1 | DeploymentType::SingleAz2 => {}
        DeploymentType::MultiAz1 => out.push(error(
            format!("source {id} is already MULTI_AZ_1"),
            Some("there is nothing to migrate"),
        )),
        DeploymentType::Unknown(raw) => out.push(error(
            format!("source {id} has deployment type {raw}, which fsx-migrate does not know"),
            Some("only SINGLE_AZ_1 and SINGLE_AZ_2 sources are supported"),
        )),
    }
    if source.lifecycle != Lifecycle::Available {
        out.push(error(
            format!("source {id} is {}, not AVAILABLE", source.lifecycle),
            Some("wait until the source is AVAILABLE"),
        ));
    }
    if source
        .aliases
        .iter()
        .any(|a| crate::cloud::model::dns_eq(a, &intent.dns.record_name))
    {
        out.push(warning(
            format!(
                "{} is also a DNS alias of source {id}: after the swap clients reach the target by that name only \
                 once the alias has moved to it (FSx takes up to 2.5 minutes to disassociate it and as long to \
                 associate it, then the SPNs move)",
                intent.dns.record_name
            ),
            Some("count those minutes in the window (runbook §8.2)"),
        ));
    }
    if !source.aliases.is_empty() && intent.windows.is_none() {
        out.push(warning(
            format!(
                "source {id} answers to the DNS aliases {}: after the swap of {} fsx-migrate moves them to the \
                 target, but without a [windows] instance their Kerberos SPNs must be moved by hand",
                source.aliases.join(", "),
                intent.dns.record_name
            ),
            Some("add [windows] ssm_instance_id (spn.ps1 moves them), or follow the setspn commands the run prints (runbook §8.3)"),
        ));
    }
    if source.settings.storage_type == StorageType::Hdd {
        out.push(warning(
            format!("source {id} uses HDD storage; DataSync transfers from HDD are slow"),
            Some("AWS recommends SSD storage for large migrations (docs: migrate-files-fsx)"),
        ));
    }
    let domain = intent
        .target
        .settings
        .active_directory
        .as_ref()
        .and_then(|ad| ad.domain_name());
    if let Some(domain) = domain
        && domain.len() > MAX_MULTI_AZ_DOMAIN_LEN
    {
        out.push(error(
            format!(
                "Active Directory domain {domain} is {} characters; Multi-AZ allows at most {MAX_MULTI_AZ_DOMAIN_LEN}",
                domain.len()
            ),
            Some("a Multi-AZ file system cannot join this domain"),
        ));
    }
}

/// A plan without an inventory copies the share with one task: nothing says it fits DataSync's quota. (A
/// partition's lanes were checked against the quota when the plan was loaded, `Intent::problems`.)
/// The share as the inventory counted it (file sizes: what DataSync writes, deduplicated data rehydrated)
/// against the target's storage capacity.
fn check_capacity(intent: &Intent, out: &mut Vec<Finding>) {
    let Some(inventory) = &intent.transfer.inventory else {
        return;
    };
    let capacity = u64::from(intent.target.settings.storage_capacity_gib) << 30;
    let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
    let used = inventory.bytes as f64 / capacity.max(1) as f64;
    let message = format!(
        "the share holds {:.0} GiB as files (what DataSync writes: deduplicated data arrives rehydrated), {:.0} % \
         of the target's {} GiB",
        gib(inventory.bytes),
        used * 100.0,
        intent.target.settings.storage_capacity_gib
    );
    let hint = Some(
        "raise target.settings.storage_capacity_gib (a Multi-AZ file system takes 32 to 65,536 GiB of SSD); \
         users keep writing until the freeze",
    );
    if used > 0.95 {
        out.push(error(message, hint));
    } else if used > 0.85 {
        out.push(warning(message, hint));
    }
}

fn check_partition(intent: &Intent, out: &mut Vec<Finding>) {
    let transfer = &intent.transfer;
    if transfer.lanes.is_empty() && transfer.inventory.is_none() {
        out.push(warning(
            "one DataSync task copies the whole share and FSx reports no file counts: whether it stays under \
             DataSync's 25 million source plus destination files and directories per execution is not known, \
             and listing the whole share floors the downtime"
                .into(),
            Some("run scripts/inventory.ps1 against the share and plan again with --inventory FILE"),
        ));
    }
}

/// IP addresses a Multi-AZ FSx for Windows file system takes in each of its two subnets (2 ENIs, 4 addresses).
pub const FSX_MULTI_AZ_ADDRESSES_PER_SUBNET: u32 = 2;
/// Network interfaces DataSync places in a location's preferred subnet, per task, for an FSx for Windows
/// location in an AWS-to-AWS transfer.
pub const DATASYNC_ADDRESSES_PER_TASK: u32 = 2;

/// The target's subnets must have room for the file system, and its preferred subnet for the network
/// interfaces of every lane's task (DataSync puts them in the file system's preferred subnet; when the
/// source sits in the same subnet, its location's interfaces too).
fn check_free_addresses(intent: &Intent, env: &Environment, found: &[&SubnetInfo], out: &mut Vec<Finding>) {
    let tasks = u32::try_from(crate::core::lane::lane_tasks(intent).len()).unwrap_or(u32::MAX);
    for subnet in found {
        let Some(free) = subnet.available_ip_addresses else {
            continue;
        };
        let mut needed = FSX_MULTI_AZ_ADDRESSES_PER_SUBNET;
        if subnet.id == intent.target.preferred_subnet_id {
            let sides = match &env.source {
                Some(source) if source.subnet_ids.contains(&subnet.id) => 2,
                _ => 1,
            };
            needed += tasks.saturating_mul(DATASYNC_ADDRESSES_PER_TASK * sides);
        }
        if free < needed {
            out.push(error(
                format!(
                    "subnet {} has {free} free IP addresses; the Multi-AZ file system and {tasks} DataSync task(s) need {needed}",
                    subnet.id
                ),
                Some("free addresses in the subnet, pick another preferred subnet, or plan fewer lanes (plan --inventory … --max-parallel-tasks N)"),
            ));
        }
    }
}

/// The most security groups a DataSync FSx for Windows location takes (CreateLocationFsxWindows
/// `SecurityGroupArns`: 1 to 5); the locations use the target's groups.
pub const DATASYNC_MAX_SECURITY_GROUPS: usize = 5;

fn check_security_groups(intent: &Intent, out: &mut Vec<Finding>) {
    let groups = &intent.target.security_group_ids;
    if groups.is_empty() || groups.len() > DATASYNC_MAX_SECURITY_GROUPS {
        out.push(error(
            format!(
                "target.security_group_ids lists {} groups; DataSync's FSx for Windows locations use them and take 1 to {DATASYNC_MAX_SECURITY_GROUPS}",
                groups.len()
            ),
            Some("keep the groups the file systems need (SMB 445 and the AD ports), at most five, one that lets the group reach itself"),
        ));
    }
}

/// The target's groups (DataSync's locations use the same ones) against what Multi-AZ FSx for Windows and
/// DataSync need (docs/aws-facts.md, "Network"): DataSync's network interfaces reach the file system on
/// SMB (TCP 445), in and out, which with shared groups means a rule naming the group itself (or an address
/// range); the file servers reach the AD domain controllers; with `freeze = "ssm"` the Windows instance
/// reaches the PowerShell endpoint on TCP 5985.
fn check_security_group_rules(intent: &Intent, env: &Environment, out: &mut Vec<Finding>) {
    let wanted = &intent.target.security_group_ids;
    let groups = &env.security_groups;
    for id in wanted {
        if !groups.iter().any(|g| &g.id == id) {
            out.push(error(
                format!("security group {id} (target.security_group_ids) does not exist in this account and Region"),
                Some("name groups of the target's VPC"),
            ));
        }
    }
    if groups.is_empty() {
        return;
    }
    let inbound = |port: i32| {
        groups
            .iter()
            .flat_map(|g| &g.inbound)
            .any(|r| r.allows_tcp(port) && r.reaches(wanted))
    };
    let outbound = |port: i32| {
        groups
            .iter()
            .flat_map(|g| &g.outbound)
            .any(|r| r.allows_tcp(port) && r.reaches(wanted))
    };
    let list = wanted.join(", ");
    if !inbound(445) {
        out.push(error(
            format!(
                "no inbound rule of {list} allows SMB (TCP 445) from the groups themselves or an address range: \
                 DataSync's network interfaces, which use the same groups, could not reach the file systems"
            ),
            Some("add an inbound rule TCP 445 whose source is the group itself (and your clients' ranges)"),
        ));
    }
    if !outbound(445) {
        out.push(error(
            format!("no outbound rule of {list} allows SMB (TCP 445): DataSync's network interfaces could not reach the file systems"),
            Some("allow outbound TCP 445 to the group itself (the default rule allows all traffic out)"),
        ));
    }
    let ad_ports = [53, 88, 135, 389, 445, 464, 636, 3268, 9389];
    let closed: Vec<String> = ad_ports
        .iter()
        .filter(|p| !outbound(**p))
        .map(|p| p.to_string())
        .collect();
    if !closed.is_empty() {
        out.push(warning(
            format!(
                "{list} allow no outbound TCP {}: the Multi-AZ file servers join the Active Directory through them",
                closed.join(", ")
            ),
            Some("allow outbound TCP/UDP 53, 88, 123, 135, 389, 445, 464, 636, 3268-3269, 9389 and 49152-65535 to the domain controllers"),
        ));
    }
    if intent.cutover.freeze == FreezeKind::Ssm && !inbound(5985) {
        out.push(warning(
            format!("no inbound rule of {list} allows TCP 5985: the Windows instance reaches the file systems' PowerShell (FSxRemoteAdmin) through it"),
            Some("allow inbound TCP 5985 from the instance windows.ssm_instance_id"),
        ));
    }
}

fn check_subnets(intent: &Intent, env: &Environment, out: &mut Vec<Finding>) {
    let target = &intent.target;
    if target.subnet_ids.len() != 2 {
        out.push(error(
            format!(
                "target.subnet_ids has {} subnets; MULTI_AZ_1 needs exactly two",
                target.subnet_ids.len()
            ),
            Some("list one subnet for the preferred and one for the standby file server"),
        ));
    }
    if !target.subnet_ids.contains(&target.preferred_subnet_id) {
        out.push(error(
            format!(
                "preferred subnet {} is not among the target subnets {}",
                target.preferred_subnet_id,
                target.subnet_ids.join(", ")
            ),
            Some("set target.preferred_subnet_id to one of target.subnet_ids"),
        ));
    }
    let mut found = Vec::new();
    for id in &target.subnet_ids {
        match env.subnets.iter().find(|s| &s.id == id) {
            Some(subnet) => found.push(subnet),
            None => out.push(error(format!("subnet {id} does not exist"), None)),
        }
    }
    check_free_addresses(intent, env, &found, out);
    if let [a, b] = found.as_slice() {
        if a.id == b.id {
            out.push(error(format!("target.subnet_ids lists {} twice", a.id), None));
        } else if a.availability_zone == b.availability_zone {
            out.push(error(
                format!(
                    "subnets {} and {} are both in {}",
                    a.id, b.id, a.availability_zone
                ),
                Some("MULTI_AZ_1 needs two subnets in different Availability Zones"),
            ));
        }
    }
    if let Some(source) = &env.source {
        for subnet in &found {
            if subnet.vpc_id != source.vpc_id {
                out.push(error(
                    format!(
                        "subnet {} is in {}, not in the source's VPC {}",
                        subnet.id, subnet.vpc_id, source.vpc_id
                    ),
                    None,
                ));
            }
        }
    }
}

fn check_dns(intent: &Intent, env: &Environment, out: &mut Vec<Finding>) {
    let dns = &intent.dns;
    let zone = match &dns.zone_name {
        Some(name) if dns.provider == crate::plan::intent::NameProvider::AdDns => {
            format!("AD DNS zone {name}")
        }
        _ => format!("hosted zone {}", dns.hosted_zone_id),
    };
    if env.hosted_zone_name.is_none() {
        out.push(error(format!("{zone} does not exist"), None));
        return;
    }
    let Some(record) = &env.record else {
        out.push(error(
            format!("DNS record {} does not exist in {zone}", dns.record_name),
            Some("users must reach the source through a CNAME in this zone; create it first, pointing at the source's DNS name"),
        ));
        return;
    };
    if record.record_type != dns.record_type() {
        out.push(error(
            format!(
                "DNS record {} is a {} record, not a {}",
                dns.record_name,
                record.record_type,
                dns.record_type()
            ),
            Some("fsx-migrate swaps a CNAME; point users at a CNAME to the source's DNS name first"),
        ));
        return;
    }
    if let Some(source) = &env.source {
        let points_at_source = record
            .values
            .iter()
            .any(|v| crate::cloud::model::dns_eq(v, &source.dns_name));
        if !points_at_source {
            out.push(error(
                format!(
                    "DNS record {} points at {}, not at the source's DNS name {}",
                    dns.record_name,
                    record.values.join(", "),
                    source.dns_name
                ),
                Some("check record_name: swapping it would move users who are not on this file system"),
            ));
        }
    }
    if let Some(ttl) = record.ttl
        && ttl > dns.ttl
    {
        out.push(warning(
            format!(
                "DNS record {} has TTL {ttl}s: after the initial sync fsx-migrate lowers it to {}s (same value) \
                 and opens the gate only {ttl}s later, so clients cache the old answer for {}s at the swap",
                dns.record_name, dns.ttl, dns.ttl
            ),
            None,
        ));
    }
}

fn check_policy(intent: &Intent, out: &mut Vec<Finding>) {
    let cutover = &intent.cutover;
    match cutover.freeze {
        FreezeKind::Command
            if cutover
                .freeze_command
                .as_deref()
                .is_none_or(|c| c.trim().is_empty()) =>
        {
            out.push(error(
                "cutover.freeze = \"command\" but cutover.freeze_command is not set".to_string(),
                None,
            ))
        }
        _ => {}
    }
    if intent.sync.poll_interval.as_secs() == 0 {
        out.push(error("sync.poll_interval must be at least 1s".to_string(), None));
    }
}

/// True if any finding blocks the run.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
