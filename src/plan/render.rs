//! Writes a new plan file: the intent with a comment on every field, so the reviewer knows what each value
//! does without opening the docs. `parse(render(intent)) == intent` is tested.

use std::fmt::Write as _;

use super::file::CHECKPOINT_MARKER;
use super::intent::{
    CutoverWindow, DEFAULT_ENTRIES_PER_EXECUTION, DEFAULT_MAX_PARALLEL_TASKS, FreezeKind, Intent,
    SCHEMA_VERSION, Transfer,
};
use crate::cloud::model::ActiveDirectory;
use crate::plan::units::Bytes;

/// `text` as a TOML basic string on one line: `"`, `\\` and every control character escaped.
///
/// Written by hand rather than with the toml crate's encoder, which may choose a multi-line string: a value
/// must never span lines, or a line of it could pass for the checkpoint marker or for TOML of its own.
pub fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` fit for a `#` comment: one line, control characters (newlines included) shown as spaces.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| q(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn opt_line(out: &mut String, comment: &str, key: &str, value: Option<&str>) {
    let _ = writeln!(out, "# {comment}");
    match value {
        Some(v) => {
            let _ = writeln!(out, "{key} = {}", q(v));
        }
        None => {
            let _ = writeln!(out, "# {key} = \"\"   (not set on the source)");
        }
    }
}

/// `key = "value"`, or an example commented out when the plan leaves it unset.
fn opt_quoted(out: &mut String, key: &str, value: Option<String>, example: &str) {
    let _ = match value {
        Some(v) => writeln!(out, "{key} = {}", q(&v)),
        None => writeln!(out, "# {key} = {}", q(example)),
    };
}

/// The table of weekly hours (`time_zone`, `opens`, `duration`).
fn weekly_hours(out: &mut String, table: &str, hours: &CutoverWindow) {
    let opens: Vec<String> = hours.opens.iter().map(|x| q(x)).collect();
    let _ = writeln!(out, "[{table}]");
    let _ = writeln!(out, "time_zone = {}", q(&hours.time_zone));
    let _ = writeln!(out, "opens = [{}]", opens.join(", "));
    let _ = writeln!(out, "duration = {}", q(&hours.duration.to_string()));
}

/// `key = value`, or the default commented out when the plan leaves it unset.
fn opt_number(out: &mut String, key: &str, value: Option<u64>, default: u64) {
    match value {
        Some(v) => {
            let _ = writeln!(out, "{key} = {v}");
        }
        None => {
            let _ = writeln!(out, "# {key} = {default}");
        }
    }
}

/// `[transfer.inventory]` and one `[[transfer.lanes]]` table per lane, or how to get them.
fn render_lanes(o: &mut String, tr: &Transfer) {
    if let Some(inv) = &tr.inventory {
        let _ = writeln!(
            o,
            "\n# The inventory the lanes were computed from (`fsx-migrate plan --inventory`)."
        );
        let _ = writeln!(o, "[transfer.inventory]");
        let _ = writeln!(o, "file = {}\nsha256 = {}", q(&inv.file), q(&inv.sha256));
        if let Some(t) = &inv.modified_at {
            let _ = writeln!(o, "# When the file was last written.");
            let _ = writeln!(o, "modified_at = {}", q(&t.to_string()));
        }
        let _ = writeln!(
            o,
            "# The whole share: files plus directories, and bytes ({}).",
            Bytes(inv.bytes)
        );
        let _ = writeln!(o, "entries = {}\nbytes = {}", inv.entries, inv.bytes);
        let _ = writeln!(
            o,
            "# The rest lane (Excludes = transfer.excludes and every lane's folders) copies the files at the"
        );
        let _ = writeln!(
            o,
            "# root and directly in split folders, folders no include can name, and folders made later: at"
        );
        let _ = writeln!(
            o,
            "# inventory time, these source files and directories ({}).",
            Bytes(inv.rest_bytes)
        );
        let _ = writeln!(
            o,
            "rest_entries = {}\nrest_bytes = {}",
            inv.rest_entries, inv.rest_bytes
        );
    }
    if tr.lanes.is_empty() {
        let _ = writeln!(
            o,
            "\n# One DataSync task copies the whole share (lane \"all\"). To split it into lanes that run in"
        );
        let _ = writeln!(
            o,
            "# parallel, take an inventory (scripts/inventory.ps1) and run `fsx-migrate plan --inventory FILE`."
        );
        return;
    }
    for (i, lane) in tr.lanes.iter().enumerate() {
        let _ = writeln!(
            o,
            "\n# Lane {} of {}: one DataSync task, Includes = these folders, Excludes = transfer.excludes.",
            i + 1,
            tr.lanes.len()
        );
        if let (Some(entries), Some(bytes)) = (lane.entries, lane.bytes) {
            let _ = writeln!(
                o,
                "# At inventory time: {entries} source files and directories, {}.",
                Bytes(bytes)
            );
        }
        let _ = writeln!(o, "[[transfer.lanes]]");
        let _ = writeln!(o, "name = {}", q(&lane.name));
        if lane.includes.len() <= 1 {
            let _ = writeln!(o, "includes = {}", list(&lane.includes));
        } else {
            let _ = writeln!(o, "includes = [");
            for include in &lane.includes {
                let _ = writeln!(o, "    {},", q(include));
            }
            let _ = writeln!(o, "]");
        }
        if let Some(entries) = lane.entries {
            let _ = writeln!(o, "entries = {entries}");
        }
        if let Some(bytes) = lane.bytes {
            let _ = writeln!(o, "bytes = {bytes}");
        }
    }
}

/// Renders a fully commented plan file for `intent`, with an empty checkpoint section.
pub fn render(intent: &Intent, header: &str) -> String {
    let mut o = String::new();
    let t = &intent.target;
    let s = &t.settings;
    let _ = writeln!(o, "# fsx-migrate plan: {}", comment(&intent.migration.name));
    for line in header.lines() {
        let _ = writeln!(o, "# {}", comment(line));
    }
    let _ = writeln!(
        o,
        "#\n# Review every value below. Once `fsx-migrate run` has started, the intent (everything above the\n\
         # checkpoint marker) is frozen: editing it stops the run (invariant 8). See docs/plan-file.md.\n"
    );
    let _ = writeln!(
        o,
        "# Format version of this file.\nschema_version = {SCHEMA_VERSION}\n"
    );

    let _ = writeln!(o, "[migration]");
    let _ = writeln!(
        o,
        "# Tags every resource fsx-migrate creates (fsx-migrate:plan-id) and derives its idempotency tokens."
    );
    let _ = writeln!(o, "id = {}", q(&intent.migration.id));
    let _ = writeln!(o, "# A name for people, shown by status (any text).");
    let _ = writeln!(o, "name = {}\n", q(&intent.migration.name));

    let _ = writeln!(o, "[source]");
    let _ = writeln!(
        o,
        "# The Single-AZ FSx for Windows file system to move. It is never modified or deleted."
    );
    let _ = writeln!(o, "file_system_id = {}\n", q(&intent.source.file_system_id));

    let _ = writeln!(o, "[target]");
    let _ = writeln!(
        o,
        "# The new MULTI_AZ_1 file system: exactly two subnets, in different AZs of the source's VPC."
    );
    let _ = writeln!(o, "subnet_ids = {}", list(&t.subnet_ids));
    let _ = writeln!(
        o,
        "# The preferred file server's subnet; one of subnet_ids. DataSync also runs in it."
    );
    let _ = writeln!(o, "preferred_subnet_id = {}", q(&t.preferred_subnet_id));
    let _ = writeln!(
        o,
        "# Copied from the source's network interfaces (FSx does not return them)."
    );
    let _ = writeln!(o, "security_group_ids = {}", list(&t.security_group_ids));
    if let Some(source) = &t.ad_join_password {
        let _ = writeln!(
            o,
            "# Where the self-managed AD join password comes from: env:VAR, prompt or secretsmanager:ARN."
        );
        let _ = writeln!(o, "ad_join_password = {}", q(&source.to_string()));
    }
    let _ = writeln!(o);

    let _ = writeln!(
        o,
        "# Settings copied from the source by `fsx-migrate plan`. Change them here if the target should differ."
    );
    let _ = writeln!(o, "[target.settings]");
    let _ = writeln!(o, "# GiB. SSD: 32-65536, HDD: 2000-65536.");
    let _ = writeln!(o, "storage_capacity_gib = {}", s.storage_capacity_gib);
    let _ = writeln!(
        o,
        "# SSD or HDD. AWS recommends SSD for large DataSync transfers."
    );
    let _ = writeln!(o, "storage_type = {}", q(s.storage_type.as_str()));
    let _ = writeln!(
        o,
        "# MB/s, one of 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288 (Multi-AZ);"
    );
    let _ = writeln!(
        o,
        "# DataSync's speed is bounded by the source's and the target's throughput."
    );
    let _ = writeln!(o, "throughput_capacity_mbps = {}", s.throughput_capacity_mbps);
    let _ = writeln!(o, "# 0 disables automatic backups (0-90).");
    let _ = writeln!(
        o,
        "automatic_backup_retention_days = {}",
        s.automatic_backup_retention_days
    );
    opt_line(
        &mut o,
        "HH:MM, UTC.",
        "daily_automatic_backup_start_time",
        s.daily_automatic_backup_start_time.as_deref(),
    );
    opt_line(
        &mut o,
        "d:HH:MM, UTC, d = 1 (Monday) to 7.",
        "weekly_maintenance_start_time",
        s.weekly_maintenance_start_time.as_deref(),
    );
    let _ = writeln!(o, "copy_tags_to_backups = {}", s.copy_tags_to_backups);
    opt_line(
        &mut o,
        "IPV4, or DUAL (IPv4 and IPv6), as on the source.",
        "network_type",
        s.network_type.as_deref(),
    );
    opt_line(
        &mut o,
        "KMS key for encryption at rest; unset means the AWS managed key.",
        "kms_key_id",
        s.kms_key_id.as_deref(),
    );
    if let Some(ad) = &s.active_directory {
        let _ = writeln!(
            o,
            "\n# The Active Directory the target joins (the same as the source's)."
        );
        let _ = writeln!(o, "[target.settings.active_directory]");
        match ad {
            ActiveDirectory::Managed {
                directory_id,
                domain_name,
            } => {
                let _ = writeln!(o, "kind = \"managed\"\ndirectory_id = {}", q(directory_id));
                if let Some(d) = domain_name {
                    let _ = writeln!(o, "domain_name = {}", q(d));
                }
            }
            ActiveDirectory::SelfManaged {
                domain_name,
                organizational_unit,
                administrators_group,
                user_name,
                dns_ips,
                domain_join_service_account_secret,
            } => {
                let _ = writeln!(o, "kind = \"self_managed\"\ndomain_name = {}", q(domain_name));
                if let Some(ou) = organizational_unit {
                    let _ = writeln!(o, "organizational_unit = {}", q(ou));
                }
                if let Some(g) = administrators_group {
                    let _ = writeln!(o, "administrators_group = {}", q(g));
                }
                if !user_name.is_empty() {
                    let _ = writeln!(o, "user_name = {}", q(user_name));
                }
                let _ = writeln!(o, "dns_ips = {}", list(dns_ips));
                if let Some(arn) = domain_join_service_account_secret {
                    let _ = writeln!(
                        o,
                        "# The source joined with this secret (user name and password): so does the target.\n\
                         domain_join_service_account_secret = {}",
                        q(arn)
                    );
                }
            }
        }
    }
    if let Some(audit) = &s.audit_log {
        let _ = writeln!(o, "\n[target.settings.audit_log]");
        let _ = writeln!(
            o,
            "file_access = {}\nfile_share_access = {}",
            q(&audit.file_access),
            q(&audit.file_share_access)
        );
        if let Some(d) = &audit.destination {
            let _ = writeln!(o, "destination = {}", q(d));
        }
    }
    if let Some(fsrm) = &s.fsrm {
        let _ = writeln!(
            o,
            "\n# File Server Resource Manager, as on the source.\n[target.settings.fsrm]\nservice_enabled = {}",
            fsrm.service_enabled
        );
        if let Some(d) = &fsrm.event_log_destination {
            let _ = writeln!(o, "event_log_destination = {}", q(d));
        }
    }
    if let Some(iops) = &s.disk_iops {
        let _ = writeln!(o, "\n[target.settings.disk_iops]\nmode = {}", q(&iops.mode));
        if let Some(n) = iops.iops {
            let _ = writeln!(o, "iops = {n}");
        }
    }
    let _ = writeln!(
        o,
        "\n# Tags copied from the source (at most 48); fsx-migrate adds its own fsx-migrate:* tags."
    );
    let _ = writeln!(o, "[target.settings.tags]");
    for (k, v) in &s.tags {
        let _ = writeln!(o, "{} = {}", q(k), q(v));
    }

    let tr = &intent.transfer;
    let _ = writeln!(o, "\n[transfer]");
    let _ = writeln!(
        o,
        "# SMB paths DataSync mounts on each file system (the default share is /share)."
    );
    let _ = writeln!(o, "source_subdirectory = {}", q(&tr.source_subdirectory));
    let _ = writeln!(o, "target_subdirectory = {}", q(&tr.target_subdirectory));
    let _ = writeln!(
        o,
        "# The AD user DataSync connects as: a member of the file system administrators group,"
    );
    let _ = writeln!(
        o,
        "# with SE_RESTORE_NAME (Backup Operators) and SE_SECURITY_NAME to copy SACLs."
    );
    let _ = writeln!(
        o,
        "smb_user = {}\nsmb_domain = {}",
        q(&tr.smb_user),
        q(&tr.smb_domain)
    );
    let _ = writeln!(
        o,
        "# Where the SMB password comes from: env:VARIABLE, prompt, or secretsmanager:ARN. Never stored."
    );
    let _ = writeln!(o, "smb_password = {}", q(&tr.smb_password.to_string()));
    let _ = writeln!(
        o,
        "# NONE, OWNER_DACL or OWNER_DACL_SACL (needs SE_SECURITY_NAME)."
    );
    let _ = writeln!(
        o,
        "security_descriptor_copy = {}",
        q(tr.security_descriptor_copy.as_str())
    );
    let _ = writeln!(
        o,
        "# Verification while users still write: ONLY_FILES_TRANSFERRED (recommended) or NONE."
    );
    let _ = writeln!(o, "verify_mode_live = {}", q(tr.verify_mode_live.as_str()));
    let _ = writeln!(
        o,
        "# Verification of the final sync, inside the downtime. POINT_IN_TIME_CONSISTENT re-reads every"
    );
    let _ = writeln!(
        o,
        "# file on both sides: the strongest check, and hours of downtime on large volumes."
    );
    let _ = writeln!(o, "verify_mode_final = {}", q(tr.verify_mode_final.as_str()));
    opt_line(
        &mut o,
        "CloudWatch log group DataSync logs to (created if missing, with a policy letting DataSync write).\n\
         # Its BASIC log lists every skipped or failed file: the list the final sync's skipped-files guard\n\
         # points to. Remove this line to run without logs.",
        "cloudwatch_log_group_arn",
        tr.cloudwatch_log_group_arn.as_deref(),
    );
    let _ = writeln!(
        o,
        "# DataSync LogLevel: BASIC (errors and skipped files; the default with a log group), TRANSFER or OFF."
    );
    match &tr.log_level {
        Some(level) => {
            let _ = writeln!(o, "log_level = {}", q(level.as_str()));
        }
        None => {
            let _ = writeln!(o, "# log_level = \"BASIC\"");
        }
    }
    let _ = writeln!(o, "# Paths DataSync skips (SIMPLE_PATTERN, case sensitive).");
    let _ = writeln!(o, "excludes = {}", list(&tr.excludes));
    let _ = writeln!(
        o,
        "# Lanes run at once: one DataSync execution each, the rest lane included (1-100)."
    );
    opt_number(
        &mut o,
        "max_parallel_tasks",
        tr.max_parallel_tasks.map(u64::from),
        DEFAULT_MAX_PARALLEL_TASKS.into(),
    );
    let _ = writeln!(
        o,
        "# Source plus destination files and directories one execution may count; DataSync's quota is"
    );
    let _ = writeln!(o, "# 25000000. Each lane's entries, doubled, must fit.");
    opt_number(
        &mut o,
        "entries_per_execution",
        tr.entries_per_execution,
        DEFAULT_ENTRIES_PER_EXECUTION,
    );
    let _ = writeln!(
        o,
        "# Optional DataSync task report (ERRORS_ONLY) to S3: skipped and failed files, per execution."
    );
    match &tr.task_report {
        Some(report) => {
            let _ = writeln!(o, "[transfer.task_report]");
            let _ = writeln!(o, "s3_bucket_arn = {}", q(&report.s3_bucket_arn));
            let _ = writeln!(
                o,
                "bucket_access_role_arn = {}",
                q(&report.bucket_access_role_arn)
            );
            if let Some(sub) = &report.subdirectory {
                let _ = writeln!(o, "subdirectory = {}", q(sub));
            }
        }
        None => {
            let _ = writeln!(o, "# [transfer.task_report]");
            let _ = writeln!(o, "# s3_bucket_arn = \"arn:aws:s3:::my-datasync-reports\"");
            let _ = writeln!(
                o,
                "# bucket_access_role_arn = \"arn:aws:iam::111122223333:role/datasync-reports\""
            );
        }
    }

    render_lanes(&mut o, tr);

    let sy = &intent.sync;
    let _ = writeln!(
        o,
        "\n# Incremental syncs repeat while users work, until the last one is small: all three of"
    );
    let _ = writeln!(
        o,
        "# changed files, changed bytes and duration under the thresholds."
    );
    let _ = writeln!(o, "[sync]");
    let _ = writeln!(o, "converged_changed_files = {}", sy.converged_changed_files);
    let _ = writeln!(
        o,
        "converged_changed_bytes = {}",
        q(&sy.converged_changed_bytes.to_string())
    );
    let _ = writeln!(
        o,
        "converged_duration = {}",
        q(&sy.converged_duration.to_string())
    );
    let _ = writeln!(
        o,
        "# Without convergence after this many incrementals, stop at the gate and say why."
    );
    let _ = writeln!(o, "max_incremental_runs = {}", sy.max_incremental_runs);
    let _ = writeln!(
        o,
        "pause_between_runs = {}",
        q(&sy.pause_between_runs.to_string())
    );
    let _ = writeln!(
        o,
        "# If the gate opens longer than this after the last sync ended, one more incremental runs first."
    );
    let _ = writeln!(o, "max_delta_age = {}", q(&sy.max_delta_age.to_string()));
    let _ = writeln!(
        o,
        "# A failed execution is started again this many times before the run stops."
    );
    let _ = writeln!(o, "retry_failed_executions = {}", sy.retry_failed_executions);
    let _ = writeln!(o, "poll_interval = {}", q(&sy.poll_interval.to_string()));
    let _ = writeln!(
        o,
        "# Bandwidth of initial and incremental syncs (DataSync BytesPerSecond, at least 1 MiB); the final sync,\n\
         # inside the downtime, is never limited. A running sync follows business hours as they begin and end."
    );
    opt_quoted(
        &mut o,
        "bytes_per_second",
        sy.bytes_per_second.map(|b| b.to_string()),
        "200 MiB",
    );
    match &sy.business_hours {
        Some(h) => {
            weekly_hours(&mut o, "sync.business_hours", &h.hours());
            let _ = writeln!(o, "bytes_per_second = {}", q(&h.bytes_per_second.to_string()));
        }
        None => {
            let _ = writeln!(
                o,
                "# [sync.business_hours]\n# time_zone = \"Europe/Berlin\"\n\
                 # opens = [\"Mon 08:00\", \"Tue 08:00\", \"Wed 08:00\", \"Thu 08:00\", \"Fri 08:00\"]\n\
                 # duration = \"10h\"\n# bytes_per_second = \"50 MiB\""
            );
        }
    }

    let cu = &intent.cutover;
    let _ = writeln!(o, "\n[cutover]");
    let _ = writeln!(
        o,
        "# How the source stops taking writes: \"manual\" (you freeze it and confirm), \"command\""
    );
    let _ = writeln!(
        o,
        "# (fsx-migrate runs freeze_command; non-zero exit stops the run). Either way fsx-migrate then tags"
    );
    let _ = writeln!(
        o,
        "# the source fsx-migrate:frozen-by = <plan id>, and swaps DNS only while that tag is there."
    );
    let freeze = match cu.freeze {
        FreezeKind::Manual => "manual",
        FreezeKind::Command => "command",
        FreezeKind::Ssm => "ssm",
    };
    let _ = writeln!(o, "freeze = {}", q(freeze));
    opt_line(
        &mut o,
        "Command run for freeze = \"command\", e.g. a PowerShell script that makes the shares read-only.",
        "freeze_command",
        cu.freeze_command.as_deref(),
    );
    opt_line(
        &mut o,
        "Command a rollback runs at its end to undo freeze_command (else you unfreeze by hand and confirm).",
        "unfreeze_command",
        cu.unfreeze_command.as_deref(),
    );
    let _ = writeln!(
        o,
        "# How long freeze_command or unfreeze_command may run before it is stopped (and the run stops). They get\n\
         # FSX_MIGRATE_PLAN_ID, _ACTION (freeze|unfreeze), _FILE_SYSTEM_ID, _SOURCE_ID, _TARGET_ID, _TARGET_DNS_NAME\n\
         # and _PHASE in their environment."
    );
    opt_quoted(
        &mut o,
        "command_timeout",
        cu.command_timeout.map(|d| d.to_string()),
        "10m",
    );
    let _ = writeln!(
        o,
        "# Delete guard: stop before the DNS swap if the final sync removed more files than this."
    );
    let _ = writeln!(o, "max_final_deletes = {}", cu.max_final_deletes);
    let _ = writeln!(
        o,
        "# The downtime budget: freeze only when the predicted downtime users see fits it (and, with a window,\n\
         # what is left of the window); over it, the run holds (window) or stops (no window)."
    );
    opt_quoted(
        &mut o,
        "max_downtime",
        cu.max_downtime.map(|d| d.to_string()),
        "30m",
    );
    let _ = writeln!(
        o,
        "# While holding for the window: an incremental on every lane older than this (default sync.max_delta_age)."
    );
    opt_quoted(
        &mut o,
        "keep_warm_interval",
        cu.keep_warm_interval.map(|d| d.to_string()),
        "6h",
    );
    let _ = writeln!(
        o,
        "# When the business allows the freeze: weekly openings (\"Sat 22:00\") in a time zone, each lasting\n\
         # duration. Outside it the run holds at the gate (alive, polling slowly) and keeps the copy warm."
    );
    match &cu.window {
        Some(w) => weekly_hours(&mut o, "cutover.window", w),
        None => {
            let _ = writeln!(
                o,
                "# [cutover.window]\n# time_zone = \"Asia/Tokyo\"\n# opens = [\"Sat 22:00\"]\n# duration = \"4h\""
            );
        }
    }

    let d = &intent.dns;
    let _ = writeln!(
        o,
        "\n# The CNAME users resolve; it is swapped (UPSERT) to the target's DNS name at cutover."
    );
    let _ = writeln!(o, "[dns]");
    match d.provider {
        crate::plan::intent::NameProvider::Route53 => {
            let _ = writeln!(
                o,
                "hosted_zone_id = {}\nrecord_name = {}",
                q(&d.hosted_zone_id),
                q(&d.record_name)
            );
        }
        crate::plan::intent::NameProvider::Dfs => {
            let _ = writeln!(
                o,
                "# Users reach the file server through this DFS namespace folder: its target moves to\n\
                 # \\\\<the target's DNS name>\\<share_path> through SSM (dfs.ps1); the old target goes offline.\n\
                 provider = \"dfs\"\nrecord_name = {}\nshare_path = {}",
                q(&d.record_name),
                q(d.share_path.as_deref().unwrap_or_default())
            );
        }
        crate::plan::intent::NameProvider::AdDns => {
            let servers: Vec<String> = d.dns_servers.iter().map(|s| q(s)).collect();
            let _ = writeln!(
                o,
                "# The record is in Active Directory DNS: changed on the first server through SSM (dns.ps1), in\n\
                 # sync once every server answers the new value.\n\
                 provider = \"ad_dns\"\nzone_name = {}\ndns_servers = [{}]\nrecord_name = {}",
                q(d.zone_name.as_deref().unwrap_or_default()),
                servers.join(", "),
                q(&d.record_name)
            );
        }
    }
    let _ = writeln!(
        o,
        "# Seconds. Lower the record's TTL to this at least one old TTL before the cutover."
    );
    let _ = writeln!(o, "ttl = {}", d.ttl);
    let _ = writeln!(
        o,
        "\n# Event hook (optional): run with one JSON event on stdin (plan_id, event, phase, at, detail) for every\n\
         # phase change, the cutover gate, every stop and the end. A failing hook is logged, never fatal."
    );
    match &intent.hooks {
        Some(h) => {
            let _ = writeln!(o, "[hooks]\non_event = {}", q(&h.on_event));
            if let Some(t) = &h.timeout {
                let _ = writeln!(o, "timeout = {}", q(&t.to_string()));
            }
        }
        None => {
            let _ = writeln!(
                o,
                "# [hooks]\n# on_event = \"curl -s -H 'Content-Type: application/json' --data-binary @- https://chat.example.com/hook\"\n# timeout = \"30s\""
            );
        }
    }
    let _ = writeln!(
        o,
        "\n# Where fsx-migrate runs its PowerShell (scripts/windows/*.ps1) for freeze = \"ssm\": a domain-joined\n\
         # Windows instance with the SSM agent, whose identity administers the file systems (FSxRemoteAdmin over\n\
         # TCP 5985). keep_accounts keep write access during the freeze, besides the DataSync user.\n\
         # With [windows], the source's shares (and their permissions), shadow copies, deduplication, user quotas\n\
         # and SMB server settings are copied to the target and verified before the cutover gate\n\
         # (copy_shares = false turns that off); shares_left_behind names shares deliberately not moved."
    );
    match &intent.windows {
        Some(w) => {
            let _ = writeln!(o, "[windows]\nssm_instance_id = {}", q(&w.ssm_instance_id));
            if !w.keep_accounts.is_empty() {
                let accounts: Vec<String> = w.keep_accounts.iter().map(|a| q(a)).collect();
                let _ = writeln!(o, "keep_accounts = [{}]", accounts.join(", "));
            }
            if !w.copy_shares {
                let _ = writeln!(o, "copy_shares = false");
            }
            if !w.shares_left_behind.is_empty() {
                let shares: Vec<String> = w.shares_left_behind.iter().map(|a| q(a)).collect();
                let _ = writeln!(o, "shares_left_behind = [{}]", shares.join(", "));
            }
        }
        None => {
            let _ = writeln!(
                o,
                "# [windows]\n# ssm_instance_id = \"i-0123456789abcdef0\"\n# keep_accounts = [\"CORP\\\\AWS Delegated FSx Administrators\"]\n# shares_left_behind = []"
            );
        }
    }
    let _ = writeln!(o, "\n{CHECKPOINT_MARKER}");
    o
}
