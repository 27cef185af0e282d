//! Text the operator reads: API calls with their parameters, phase timelines, sync histories, the message
//! for every way a run can stop (with the command that continues it), and the evidence report. Shared by
//! `run --dry-run`, `status`, `run`, `report` and `demo`.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::cloud::port::{Command, FROZEN_TAG};
use crate::core::evidence::Evidence;
use crate::core::{CheckRefusal, ConfirmKind, Confirmation, Halt};
use crate::engine::dry_run::{Alternative, Forecast, PlannedAction};
use crate::error::{ExitKind, Failure};
use crate::plan::units::{Bytes, Duration};
use crate::plan::{Checkpoint, Leg, Phase, SyncRecord};

/// A command for the operator to paste: `fsx-migrate`, the global flags of the command they typed (so it
/// talks to the same account or simulated world), a subcommand and the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    flags: Vec<String>,
    plan: String,
}

impl Replay {
    /// `flags` as separate words (`["--sim", "world.json"]`), `plan` as the operator named it.
    pub fn new(flags: Vec<String>, plan: &str) -> Replay {
        Replay {
            flags,
            plan: plan.to_string(),
        }
    }

    /// `fsx-migrate FLAGS SUBCOMMAND PLAN`, each word quoted for a POSIX shell where it needs it.
    pub fn command(&self, subcommand: &str) -> String {
        let mut words = vec!["fsx-migrate".to_string()];
        words.extend(self.flags.iter().map(|f| shell_word(f)));
        words.push(subcommand.to_string());
        words.push(shell_word(&self.plan));
        words.join(" ")
    }

    /// `fsx-migrate FLAGS resume PLAN`.
    pub fn resume(&self) -> String {
        self.command("resume")
    }
}

/// A word as a POSIX shell reads it back: as is when it holds only safe characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A name service's script as a dry run shows it: run through SSM to its end.
fn name_script(service: &crate::cloud::port::NameService, action: &str, name: &str, rest: &str) -> String {
    use crate::cloud::port::NameService;
    let (script, args) = match service {
        NameService::AdDns {
            zone_name,
            dns_servers,
            ..
        } => (
            "dns.ps1",
            format!(" -ZoneName {zone_name} -DnsServers {}", list(dns_servers)),
        ),
        NameService::Dfs { share_path, .. } => ("dfs.ps1", format!(" -SharePath {share_path}")),
    };
    format!(
        "ssm:SendCommand + GetCommandInvocation on {}: {script} -Action {action} -Name {name}{args}{rest}",
        service.ssm_instance_id()
    )
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(","))
}

/// A command as the AWS requests it makes, with the parameters that matter.
pub fn render_call(command: &Command) -> String {
    match command {
        Command::Inspect(r) => {
            let groups = match &r.security_group_ids {
                None => String::new(),
                Some(ids) if ids.is_empty() => "; ec2:DescribeSecurityGroups (the source's)".into(),
                Some(ids) => format!("; ec2:DescribeSecurityGroups GroupIds={}", list(ids)),
            };
            format!(
                "fsx:DescribeFileSystems FileSystemIds=[{}]; ec2:DescribeNetworkInterfaces (source ENIs); \
                 ec2:DescribeSubnets SubnetIds={}{groups}; {}",
                r.source_file_system_id,
                list(&r.subnet_ids),
                match &r.name_service {
                    None => format!(
                        "route53:GetHostedZone Id={}; route53:ListResourceRecordSets StartRecordName={}",
                        r.hosted_zone_id, r.record_name
                    ),
                    Some(service) => name_script(service, "Read", &r.record_name, ""),
                }
            )
        }
        Command::CreateTarget(r) => {
            let s = &r.settings;
            let mut windows = format!(
                "DeploymentType=MULTI_AZ_1, PreferredSubnetId={}, ThroughputCapacity={}, \
                 AutomaticBackupRetentionDays={}, CopyTagsToBackups={}",
                r.preferred_subnet_id,
                s.throughput_capacity_mbps,
                s.automatic_backup_retention_days,
                s.copy_tags_to_backups
            );
            if let Some(t) = &s.daily_automatic_backup_start_time {
                let _ = write!(windows, ", DailyAutomaticBackupStartTime={t}");
            }
            if let Some(t) = &s.weekly_maintenance_start_time {
                let _ = write!(windows, ", WeeklyMaintenanceStartTime={t}");
            }
            match &s.active_directory {
                Some(crate::cloud::model::ActiveDirectory::Managed { directory_id, .. }) => {
                    let _ = write!(windows, ", ActiveDirectoryId={directory_id}");
                }
                Some(crate::cloud::model::ActiveDirectory::SelfManaged {
                    domain_name,
                    domain_join_service_account_secret: Some(secret),
                    ..
                }) => {
                    let _ = write!(
                        windows,
                        ", SelfManagedActiveDirectoryConfiguration={{DomainName={domain_name}, \
                         DomainJoinServiceAccountSecret={secret}}}"
                    );
                }
                Some(crate::cloud::model::ActiveDirectory::SelfManaged { domain_name, .. }) => {
                    let _ = write!(
                        windows,
                        ", SelfManagedActiveDirectoryConfiguration={{DomainName={domain_name}, Password=<from {}>}}",
                        r.ad_join_password
                            .as_ref()
                            .map_or("?".to_string(), |p| p.to_string())
                    );
                }
                None => {}
            }
            let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "fsx:CreateFileSystem ClientRequestToken={} FileSystemType=WINDOWS StorageCapacity={} StorageType={} \
                 SubnetIds={} SecurityGroupIds={}{} WindowsConfiguration={{{windows}}} Tags={}",
                r.client_request_token,
                s.storage_capacity_gib,
                s.storage_type,
                list(&r.subnet_ids),
                list(&r.security_group_ids),
                s.kms_key_id
                    .as_ref()
                    .map_or(String::new(), |k| format!(" KmsKeyId={k}")),
                list(&tags)
            )
        }
        Command::DescribeFileSystem { file_system_id } => {
            format!("fsx:DescribeFileSystems FileSystemIds=[{file_system_id}]")
        }
        Command::FindTransferResources { plan_id } => format!(
            "datasync:ListLocations, datasync:ListTasks, datasync:ListTagsForResource (look for tag {}={plan_id})",
            crate::cloud::port::PLAN_TAG
        ),
        Command::CreateLocation(r) => format!(
            "datasync:CreateLocationFsxWindows FsxFilesystemArn={} Subdirectory={} User={} Domain={} \
             Password=<from {}> SecurityGroupArns={} ({} location)",
            r.file_system_arn,
            r.subdirectory,
            r.user,
            r.domain,
            r.password,
            list(&r.security_group_ids),
            r.side
        ),
        Command::CreateTask(r) => format!(
            "datasync:CreateTask Name=\"{}\" TaskMode=BASIC SourceLocationArn={} DestinationLocationArn={} \
             Options={{{}}} Excludes={}{}",
            r.name,
            r.source_location_arn,
            r.target_location_arn,
            render_options(&r.options),
            r.excludes.join("|"),
            r.cloudwatch_log_group_arn
                .as_ref()
                .map_or(String::new(), |g| format!(" CloudWatchLogGroupArn={g}"))
        ),
        Command::FindExecution { task_arn, .. } => format!(
            "datasync:ListTaskExecutions TaskArn={task_arn}, then datasync:DescribeTaskExecution and \
             datasync:ListTagsForResource of each execution the checkpoint does not know"
        ),
        Command::FindMigrationResources {
            source_file_system_id,
        } => format!(
            "fsx:DescribeFileSystems, datasync:ListTasks, datasync:ListTagsForResource (look for tag {}={source_file_system_id})",
            crate::cloud::port::SOURCE_TAG
        ),
        Command::EnsureLogGroup { arn } => format!(
            "logs:DescribeLogGroups, logs:CreateLogGroup (if missing), logs:PutResourcePolicy (DataSync may write) {arn}"
        ),
        Command::StartExecution(r) => format!(
            "datasync:StartTaskExecution TaskArn={} OverrideOptions={{{}}}{} ({} sync)",
            r.task_arn,
            render_options(&r.overrides),
            r.includes
                .as_ref()
                .map(|i| format!(" Includes={}", i.join("|")))
                .unwrap_or_default(),
            r.kind
        ),
        Command::DescribeExecution { execution_arn } => {
            format!("datasync:DescribeTaskExecution TaskExecutionArn={execution_arn}")
        }
        Command::LimitExecution {
            execution_arn,
            bytes_per_second,
        } => format!(
            "datasync:UpdateTaskExecution TaskExecutionArn={execution_arn} Options={{BytesPerSecond={}}}",
            bytes_per_second.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX))
        ),
        Command::UpsertCname(r) => match &r.name_service {
            None => format!(
                "route53:ChangeResourceRecordSets HostedZoneId={} Action=UPSERT Name={} Type=CNAME TTL={} Value={}",
                r.hosted_zone_id, r.record_name, r.ttl, r.value
            ),
            Some(service) => name_script(
                service,
                "Set",
                &r.record_name,
                &format!(" -Value {} -Ttl {}", r.value, r.ttl),
            ),
        },
        Command::GetChange {
            change_id,
            name_service,
        } => match name_service {
            None => format!("route53:GetChange Id={change_id}"),
            Some(service) => format!(
                "{} (does every server answer the new value?)",
                name_script(service, "Check", change_id, "")
            ),
        },
        Command::MarkFrozen {
            file_system_arn,
            plan_id,
        } => format!("fsx:TagResource ResourceARN={file_system_arn} Tags=[{FROZEN_TAG}={plan_id}]"),
        Command::UnmarkFrozen { file_system_arn } => {
            format!("fsx:UntagResource ResourceARN={file_system_arn} TagKeys=[{FROZEN_TAG}]")
        }
        Command::RunningExecutions { task_arn } => {
            format!("datasync:ListTaskExecutions TaskArn={task_arn} (the ones not ended)")
        }
        Command::CancelExecution { execution_arn } => {
            format!("datasync:CancelTaskExecution TaskExecutionArn={execution_arn}")
        }
        Command::DeleteTask { task_arn } => format!("datasync:DeleteTask TaskArn={task_arn}"),
        Command::RunPowerShell(r) => {
            let c = &r.call;
            let mut args = format!("-Endpoint {}", c.endpoint);
            if !c.keep_accounts.is_empty() {
                let _ = write!(args, " -KeepAccounts {}", c.keep_accounts.join(","));
            }
            if c.shares_json.is_some() {
                args.push_str(" -SharesJson <the permissions the freeze recorded>");
            }
            if c.service_json.is_some() {
                args.push_str(" -ServiceJson <the source's shares and settings>");
            }
            if let Some(from) = &c.from_dns_name {
                let _ = write!(args, " -FromDnsName {from} -Aliases {}", c.aliases.join(","));
            }
            format!(
                "ssm:SendCommand DocumentName=AWS-RunPowerShellScript, InstanceIds=[{}], Comment={:?}, \
                 Parameters={{commands=[{} {args}], executionTimeout=[{}]}}",
                r.instance_id, r.comment, c.script, r.timeout_secs
            )
        }
        Command::FindPowerShell { instance_id, comment } => {
            format!("ssm:ListCommands InstanceId={instance_id} (the one with Comment={comment:?})")
        }
        Command::GetPowerShell {
            command_id,
            instance_id,
        } => format!("ssm:GetCommandInvocation CommandId={command_id}, InstanceId={instance_id}"),
        Command::DeleteLocation { location_arn } => {
            format!("datasync:DeleteLocation LocationArn={location_arn}")
        }
        Command::DescribeAliases { file_system_id } => {
            format!("fsx:DescribeFileSystemAliases FileSystemId={file_system_id}")
        }
        Command::AssociateAliases {
            file_system_id,
            aliases,
            client_request_token,
        } => format!(
            "fsx:AssociateFileSystemAliases FileSystemId={file_system_id}, Aliases={}, ClientRequestToken={client_request_token}",
            list(aliases)
        ),
        Command::DisassociateAliases {
            file_system_id,
            aliases,
            client_request_token,
        } => format!(
            "fsx:DisassociateFileSystemAliases FileSystemId={file_system_id}, Aliases={}, ClientRequestToken={client_request_token}",
            list(aliases)
        ),
        Command::FindRecord {
            hosted_zone_id,
            record_name,
        } => format!(
            "route53:ListResourceRecordSets HostedZoneId={hosted_zone_id}, StartRecordName={record_name}"
        ),
        Command::DeleteFileSystem {
            file_system_id,
            client_request_token,
        } => format!(
            "fsx:DeleteFileSystem FileSystemId={file_system_id}, ClientRequestToken={client_request_token}, \
             WindowsConfiguration={{SkipFinalBackup=true}}"
        ),
    }
}

fn render_options(o: &crate::cloud::port::TaskOptions) -> String {
    format!(
        "TransferMode={:?}, VerifyMode={}, PreserveDeletedFiles={:?}, SecurityDescriptorCopyFlags={}, LogLevel={}",
        o.transfer_mode, o.verify_mode, o.preserve_deleted_files, o.security_descriptor_copy, o.log_level
    )
    .replace("Changed", "CHANGED")
    .replace("Preserve,", "PRESERVE,")
    .replace("Remove,", "REMOVE,")
}

pub fn timeline_text(cp: &Checkpoint, now: Option<Timestamp>) -> String {
    let mut out = String::new();
    for row in cp.phase_rows(now) {
        let _ = writeln!(
            out,
            "  {:<18} {}  {}",
            row.phase.name(),
            row.entered_at,
            Duration(row.duration_secs)
        );
    }
    out
}

/// Every lane's syncs, in the order they ended.
pub fn syncs_text(leg: &Leg) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<3} {:<8} {:<12} {:<8} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "#",
        "lane",
        "kind",
        "status",
        "files",
        "bytes",
        "deleted",
        "prepare",
        "transfer",
        "verify",
        "elapsed"
    );
    let mut rows: Vec<(&str, &SyncRecord)> = leg
        .lanes
        .iter()
        .flat_map(|l| l.syncs.iter().map(move |s| (l.name.as_str(), s)))
        .collect();
    rows.sort_by_key(|(_, s)| s.ended_at);
    for (i, (lane, s)) in rows.into_iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:<3} {:<8} {:<12} {:<8} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9}",
            i + 1,
            lane,
            s.kind.to_string(),
            s.status.as_str(),
            s.counters.files_transferred,
            Bytes(s.counters.bytes_transferred).to_string(),
            s.counters.files_deleted,
            Duration(s.durations.prepare_ms / 1000).to_string(),
            Duration(s.durations.transfer_ms / 1000).to_string(),
            Duration(s.durations.verify_ms / 1000).to_string(),
            Duration(s.elapsed_secs()).to_string(),
        );
        if let Some(code) = &s.error_code {
            let _ = writeln!(
                out,
                "      error {code}: {}",
                s.error_detail.as_deref().unwrap_or("")
            );
        }
    }
    out
}

fn confirm_name(kind: ConfirmKind) -> &'static str {
    match kind {
        ConfirmKind::Billable => "creating the billable target",
        ConfirmKind::Gate => "opening the cutover gate",
        ConfirmKind::ManualFreeze => "the manual freeze",
        ConfirmKind::FreezeOutcomeUnknown => "the freeze outcome",
        ConfirmKind::Rollback => "the rollback",
        ConfirmKind::Abort => "the abort",
        ConfirmKind::DeleteResources => "deleting the plan's resources",
        ConfirmKind::ManualUnfreeze => "the manual unfreeze",
    }
}

/// The message and exit code for a run that needs a person who is not there.
pub fn needs_operator_failure(confirmation: &Confirmation, replay: &Replay) -> Failure {
    let mut failure = Failure::user(format!(
        "stopped before {}: nobody to confirm it",
        confirm_name(confirmation.kind)
    ))
    .cause(confirmation.question.clone());
    for detail in &confirmation.details {
        failure = failure.cause(detail);
    }
    match confirmation.kind {
        ConfirmKind::Billable | ConfirmKind::Gate => failure.hint(format!(
            "run `{}` on a terminal to answer, or add --yes to approve",
            replay.command("run")
        )),
        ConfirmKind::Abort => failure.hint(format!(
            "run `{}` on a terminal to answer, or add --yes to approve",
            replay.command("abort")
        )),
        ConfirmKind::DeleteResources => failure.hint(format!(
            "run `{}` on a terminal to answer, or add --yes to approve",
            replay.command("abort --delete-resources")
        )),
        ConfirmKind::Rollback => failure.hint(format!(
            "run `{}` on a terminal to answer, or add --yes to approve",
            replay.command("rollback")
        )),
        ConfirmKind::ManualFreeze | ConfirmKind::FreezeOutcomeUnknown => failure.hint(format!(
            "a person must confirm it (--yes does not): answer on a terminal with `{0}`, or once you have \
             checked the file system is frozen, `{0} --confirm-frozen`",
            replay.resume()
        )),
        ConfirmKind::ManualUnfreeze => failure.hint(format!(
            "a person must confirm it (--yes does not): answer on a terminal with `{0}`, or once you have \
             checked the source takes writes again, `{0} --confirm-unfrozen`",
            replay.resume()
        )),
    }
}

/// The message and exit code for a halt; `None` for a successful stop.
pub fn halt_failure(halt: &Halt, replay: &Replay) -> Option<Failure> {
    let resume = replay.resume();
    let status = replay.command("status");
    Some(match halt {
        Halt::Completed | Halt::RolledBack | Halt::Aborted | Halt::UntilReached(_) => return None,
        Halt::SwappedAlready(phase) => Failure::user(format!(
            "not aborted: the plan is at {phase}, and the DNS swap to the target was already sent"
        ))
        .cause("users may already write to the target; backing out now must copy that back")
        .hint(format!("`{}` copies it back and swaps the record back", replay.command("rollback"))),
        Halt::Parked { since, by, reason } => Failure::parked(format!(
            "parked at the cutover gate since {since} ({reason}, {by}): nothing was frozen"
        ))
        .cause("the copy is complete up to the last incremental; a run that resumes refreshes it first")
        .hint(format!("`{resume}` continues (it removes the postpone flag file); `run --yes` does not")),
        Halt::OverBudget { predicted, budget } => Failure::user(format!(
            "stopped at the gate: the predicted downtime users would see, {predicted}, is over cutover.max_downtime {budget}"
        ))
        .cause("nothing was frozen")
        .hint(format!("later (off-hours) `{resume}` refreshes stale lanes first, and the prediction follows the last sync"))
        .hint(format!("to freeze anyway: `{resume} --accept-delta`")),
        Halt::NothingToRollBack(phase) => Failure::user(format!(
            "nothing to roll back: the plan is at {phase}, and DNS was never swapped to the target"
        ))
        .cause("before the swap users still work on the source; nothing fsx-migrate did needs undoing there")
        .hint(format!("`{status}` shows where it stands")),
        Halt::AlreadyAt { until, phase } if until == phase => return None,
        Halt::AlreadyAt { until, phase } => Failure::user(format!(
            "nothing done: --until {until}, but the plan is already at {phase}, past {until}"
        ))
        .hint(format!("`{status}` shows where it stands; `{resume}` without --until continues")),
        Halt::IntentChanged(fields) => {
            let mut f = Failure::user(format!("the plan's intent changed after the migration started ({} fields)", fields.len()));
            for field in fields {
                f = f.cause(field);
            }
            f.hint("undo the edits above: what describes resources is frozen once billable work was approved ([sync], [cutover] and [hooks] may change)")
                .hint("to migrate with different settings, write a new plan with `fsx-migrate plan`")
        }
        Halt::PreflightFailed(findings) => {
            let errors = findings.iter().filter(|f| f.severity == crate::core::preflight::Severity::Error).count();
            let mut f = Failure::user(format!("preflight found {errors} problem(s); nothing was created"));
            for finding in halt.findings() {
                f = f.cause(finding);
            }
            f.hint("fix the plan or the environment, then run again")
        }
        Halt::Declined(kind) => Failure::user(format!("stopped: you declined {}", confirm_name(*kind)))
            .hint(format!("nothing after that point was done; run `{resume}` when ready")),
        Halt::TargetFailed { lifecycle, message } => Failure::user(format!("the target file system is {lifecycle}"))
            .cause(message.clone().unwrap_or_else(|| "FSx gave no FailureDetails message".into()))
            .hint("fix the cause (Active Directory, subnets, security groups), delete the failed file system, and write a new plan"),
        Halt::NotConverged { lane, runs, misses, predicted_downtime } => {
            let mut f = Failure::user(format!("lane {lane}: incremental syncs did not converge after {runs} runs; stopped before the cutover gate"));
            for miss in misses {
                f = f.cause(format!("the last incremental {miss}"));
            }
            if let Some(d) = predicted_downtime {
                f = f.cause(format!("freezing now would mean about {d} of downtime"));
            }
            f.hint(format!("to freeze anyway: `{resume} --accept-delta`"))
                .hint(format!("to try more incrementals (e.g. off-hours): `{resume} --more-incrementals 3`"))
        }
        Halt::ExecutionFailed { lane, kind, attempts, code, detail } => Failure::user(format!(
            "lane {lane}: the {kind} DataSync execution ended in ERROR ({attempts} attempt(s) in this run)"
        ))
        .cause(format!("{}: {}", code.as_deref().unwrap_or("no error code"), detail.as_deref().unwrap_or("no detail")))
        .hint("check the task's CloudWatch logs and the SMB user's permissions")
        .hint(format!("`{resume}` starts the sync again")),
        Halt::FreezeFailed(message) => Failure::user("the freeze (or unfreeze) command failed; nothing after it was done")
            .cause(message)
            .hint(format!("the file system may be partly frozen: check it, then `{resume}` runs the command again")),
        Halt::SharesNotCopied(problems) => {
            let mut f = Failure::user("the source's shares were not copied to the target; stopped before the cutover gate, nothing frozen");
            for problem in problems {
                f = f.cause(problem);
            }
            f.hint(format!("fix the causes, then `{resume}` reads the source again and applies it to the target again (each step may be repeated)"))
                .hint("a share deliberately not moved: name it in [windows] shares_left_behind; to copy shares by hand instead: [windows] copy_shares = false")
        }
        Halt::AliasMoveFailed(message) => Failure::user("the DNS aliases were not moved; the record itself was already swapped")
            .cause(message)
            .hint("users of the record are not affected; users of an alias reach neither file system by it until the move ends")
            .hint(format!("fix the cause, then `{resume}` goes on from the step that failed (each step is re-checked with FSx first)")),
        Halt::DeleteGuard { deleted, limit } => Failure::user(format!(
            "delete guard: a sync removed {deleted} files from the target (limit {limit}); DNS was not swapped"
        ))
        .cause("the source is untouched: deletes only ever go from the source to the target (before the freeze users keep working on it; after the freeze they stay frozen)")
        .hint(format!("check the deletions on the source (a mass delete, ransomware?), then `{resume} --accept-deletes` to go on; after the freeze, unfreezing the source rolls back")),
        Halt::SkippedFiles { lane, skipped, execution_arn, log_group_arn } => Failure::user(format!(
            "lane {lane}: the final sync skipped {skipped} files, also when run again with the source frozen; DNS was not swapped"
        ))
        .cause(format!("execution {execution_arn} ended SUCCESS with FilesSkipped = {skipped}"))
        .cause(match log_group_arn {
            Some(group) => format!("DataSync logged each skipped file to the CloudWatch log group {group}"),
            None => "no CloudWatch log group is configured, so DataSync did not list them (set transfer.cloudwatch_log_group_arn)".into(),
        })
        .hint(format!("close whatever still holds those files open (Close-FSxSmbOpenFile), then `{resume}` runs the final sync again"))
        .hint(format!("to swap with those files missing on the target: `{resume} --accept-skipped` (recorded with your name)")),
        Halt::PreconditionFailed { step, problems } => {
            let mut f = Failure::user(format!("stopped before {step}: the world or the checkpoint does not allow it"));
            for problem in problems {
                f = f.cause(problem);
            }
            f.hint("nothing irreversible was done; check the causes above (a hand-edited checkpoint, another plan, a changed record)")
                .hint(format!("`{status}` shows what the checkpoint holds"))
        }
        Halt::CloudFailed { phase, error } => {
            let f = Failure::user(format!("{} failed during {phase}", error.operation))
                .cause(format!("{}: {}", error.code, error.message));
            if error.class == crate::cloud::port::ErrorClass::Credentials {
                f.hint("the ops box has no valid AWS credentials: run `aws sso login` (with --profile if you use one), or pass --profile / set AWS_PROFILE")
                    .hint(format!("then `{resume}` continues from {phase}"))
            } else if error.class.is_retryable() {
                Failure { kind: ExitKind::Interrupted, ..f.hint(format!("the error is transient: `{resume}` continues")) }
            } else {
                f.hint(format!("fix the cause, then `{resume}` continues from {phase}"))
            }
        }
        Halt::Checked => return None,
        Halt::CheckFailed { lane, execution_arn, code, detail } => Failure::user(format!(
            "check failed: DataSync could not reach or list the shares with the plan's user (lane {lane}'s task)"
        ))
        .cause(format!("execution {execution_arn} ended in ERROR"))
        .cause(format!("{}: {}", code.as_deref().unwrap_or("no error code"), detail.as_deref().unwrap_or("no detail")))
        .hint("check transfer.smb_user, transfer.smb_domain and the password's secret; the user must be in the file \
               systems' administrators group, with SE_RESTORE_NAME (and SE_SECURITY_NAME to copy SACLs): \
               docs/aws-permissions.md §4")
        .hint("check the security groups: SMB (445) and the AD ports between DataSync's interfaces and both file systems")
        .hint(format!("nothing was copied; fix the cause, then `{}` runs a new check", replay.command("check"))),
        Halt::CheckRefused(refusal) => check_refused(refusal, replay),
        Halt::Unexpected { phase, input } => Failure::internal(format!("fsx-migrate got an answer it did not expect in {phase}"))
            .cause(input)
            .hint("this is a bug; the checkpoint is intact, so `resume` may get past it. Please report it with the plan file"),
    })
}

/// Why `check` did nothing, and what to do instead.
fn check_refused(refusal: &CheckRefusal, replay: &Replay) -> Failure {
    let status = replay.command("status");
    match refusal {
        CheckRefusal::NoTasks(phase) => Failure::user(format!(
            "nothing checked: the plan's DataSync tasks do not exist yet (the plan is at {phase})"
        ))
        .cause("a DataSync task needs the target's location, so the target comes first; fsx-migrate never makes the source a DataSync destination")
        .hint(format!(
            "`{}` creates the target (billable) and the tasks, copies nothing, and stops; then `{}`",
            replay.command("run --until initial_sync"),
            replay.command("check")
        )),
        CheckRefusal::CutoverStarted(phase) => Failure::user(match phase {
            Phase::Aborting | Phase::Aborted => format!("nothing checked: the plan is at {phase}: it was aborted"),
            Phase::Complete => format!("nothing checked: the plan is at {phase}: the migration is done"),
            _ => format!(
                "nothing checked: the plan is at {phase}, past the cutover gate; its tasks belong to the cutover (or the rollback) now"
            ),
        })
        .hint(format!("`{status}` shows where it stands")),
        CheckRefusal::SyncInFlight { lane, kind } => Failure::user(format!(
            "nothing checked: lane {lane}'s {kind} sync is in flight (a run stopped while it ran)"
        ))
        .cause("a task runs one execution at a time, and this one already proves what a check would")
        .hint(format!("`{}` re-attaches to it; `{status}` shows how it does", replay.resume())),
        CheckRefusal::TaskBusy { lane, execution_arn } => Failure::user(format!(
            "nothing checked: lane {lane}'s task runs execution {execution_arn}, which this check did not start"
        ))
        .cause("it may be one of this migration's syncs whose run stopped: never cancel it without knowing whose it is")
        .hint(format!(
            "`{status}` shows the syncs in flight; let it end, then `{}`",
            replay.command("check")
        )),
    }
}

/// A forecast step as the dry run lists it.
fn planned_text(action: &PlannedAction) -> String {
    match action {
        PlannedAction::Call(command) => render_call(command),
        PlannedAction::Confirm(question) => format!("confirm: {question}"),
        PlannedAction::RunCommand { purpose, command } => format!("run {purpose} command: {command}"),
        PlannedAction::Finding(finding) => format!("preflight {finding}"),
    }
}

/// The dry run's text.
pub fn dry_run_text(forecast: &Forecast, intro: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{intro}\n");
    let _ = writeln!(out, "  {:>4}  {:<12} {:<17} action", "step", "at (T+)", "phase");
    for (i, s) in forecast.steps.iter().enumerate() {
        let mut action = planned_text(&s.action);
        if s.times > 1 {
            let _ = write!(action, "   ×{} until T+{}", s.times, Duration(s.until_secs));
        }
        let marker = if s.mutating { "*" } else { " " };
        let _ = writeln!(
            out,
            "  {:>4}{marker} {:<12} {:<17} {action}",
            i + 1,
            Duration(s.at_secs).to_string(),
            s.phase.name()
        );
    }
    let _ = writeln!(
        out,
        "\n  * changes something in the cloud (billable or visible to users)\n"
    );
    let _ = writeln!(out, "Estimates (simulated, see docs/simulator.md for the model):");
    for (phase, secs) in &forecast.phase_secs {
        if *secs > 0 {
            let _ = writeln!(out, "  {:<18} {}", phase.name(), Duration(*secs));
        }
    }
    let total = u64::try_from(forecast.end.duration_since(forecast.start).as_secs()).unwrap_or(0);
    let _ = writeln!(out, "  {:<18} {}", "total", Duration(total));
    let p = &forecast.predictions;
    let _ = writeln!(out, "  incremental runs   {}", p.incremental_runs);
    let acc = &forecast.accounting;
    match (acc.downtime_secs, acc.service_downtime_secs) {
        (Some(d), Some(service)) => {
            let _ = writeln!(
                out,
                "  downtime           {} (freeze until the last client resolves the new name; {} to DNS in sync)",
                Duration(d),
                Duration(service)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  downtime           not reached: the forecast stopped with {}",
                forecast.outcome
            );
        }
    }
    out
}

/// The comparison as a table for the operator (and their manager).
pub fn comparison_text(alternatives: &[Alternative], intro: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{intro}\n");
    let _ = writeln!(
        out,
        "  {:<20} {:>14} {:>14} {:>11} {:>10}",
        "", "downtime", "total", "executions", "API calls"
    );
    for a in alternatives {
        let downtime = a
            .downtime_secs
            .map_or_else(|| "not reached".to_string(), |d| Duration(d).to_string());
        let _ = writeln!(
            out,
            "  {:<20} {:>14} {:>14} {:>11} {:>10}",
            a.name,
            downtime,
            Duration(a.total_secs).to_string(),
            a.executions,
            a.api_calls
        );
    }
    let _ = writeln!(out);
    for a in alternatives {
        let _ = writeln!(out, "  {}: {}", a.name, a.note);
        if a.downtime_secs.is_none() {
            let _ = writeln!(out, "    (the forecast stopped: {})", a.outcome);
        }
    }
    let _ = writeln!(
        out,
        "\n  downtime: from the freeze until the last client resolves the new name (DNS in sync + the TTL clients cached)"
    );
    out
}

/// A Markdown table cell: pipes escaped, line breaks flattened.
fn cell(text: impl std::fmt::Display) -> String {
    text.to_string().replace('|', "\\|").replace('\n', " ")
}

fn when(t: Option<Timestamp>) -> String {
    t.map_or("-".to_string(), |t| t.to_string())
}

fn approval_name(decision: &str) -> &str {
    match decision {
        "billable_confirmation" => "create the billable target",
        "delta_acceptance" => "freeze although the delta did not converge",
        "cutover_gate" => "open the cutover gate",
        "manual_freeze" => "the source is frozen (manual freeze)",
        "delete_acceptance" => "accept the deletions (delete guard)",
        "skipped_acceptance" => "accept the skipped files",
        other => other,
    }
}

/// The evidence as Markdown, attachable to a change ticket as it is.
pub fn evidence_markdown(e: &Evidence) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Migration report: {} ({})\n", cell(&e.name), e.migration_id);
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Source (Single-AZ) | {} |", e.source_file_system_id);
    let target = match (&e.target_file_system_id, &e.target_dns_name) {
        (Some(id), Some(dns)) => format!("{id} ({dns})"),
        (Some(id), None) => id.clone(),
        _ => "not created".into(),
    };
    let _ = writeln!(o, "| Target (Multi-AZ) | {target} |");
    let _ = writeln!(o, "| Phase | {} |", e.phase.map_or("not started", |p| p.name()));
    let _ = writeln!(o, "| Started | {} |", when(e.started_at));
    let _ = writeln!(o, "| Completed | {} |", when(e.completed_at));

    let _ = writeln!(o, "\n## Approvals\n");
    if e.approvals.is_empty() {
        let _ = writeln!(o, "None recorded yet.");
    } else {
        let _ = writeln!(o, "| decision | at | by |\n|---|---|---|");
        for a in &e.approvals {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                approval_name(a.decision),
                a.at,
                cell(a.by.as_deref().unwrap_or("not recorded"))
            );
        }
    }
    if !e.guards.is_empty() {
        let _ = writeln!(o, "\n## Guards\n");
        let _ = writeln!(
            o,
            "| guard | tripped at | files | limit | execution | accepted |\n|---|---|---|---|---|---|"
        );
        for g in &e.guards {
            let accepted = match (g.accepted_at, &g.accepted_by) {
                (Some(at), by) => format!("{at} by {}", cell(by.as_deref().unwrap_or("?"))),
                (None, _) => format!("no (`{}`)", g.accept_with),
            };
            let t = &g.tripped;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {accepted} |",
                g.guard, t.at, t.count, t.limit, t.execution_arn
            );
        }
    }

    let _ = writeln!(o, "\n## Timeline\n");
    let _ = writeln!(o, "| phase | entered at | time spent |\n|---|---|---|");
    for (i, row) in e.timeline.iter().enumerate() {
        let current = i + 1 == e.timeline.len() && row.phase != crate::plan::Phase::Complete;
        let spent = if current {
            "(current)".to_string()
        } else {
            Duration(row.duration_secs).to_string()
        };
        let _ = writeln!(o, "| {} | {} | {spent} |", row.phase.name(), row.entered_at);
    }

    if !e.access_checks.is_empty() {
        let _ = writeln!(o, "\n## Access checks (`fsx-migrate check`)\n");
        let _ = writeln!(
            o,
            "| requested | ended | status | folders probed | execution | error |\n|---|---|---|---|---|---|"
        );
        for check in &e.access_checks {
            let requested = check
                .current
                .as_ref()
                .map(|c| c.requested_at)
                .or(check.result.as_ref().map(|r| r.started_at));
            let (ended, status, execution, error) = match &check.result {
                Some(r) => (
                    r.ended_at.to_string(),
                    r.status.to_string(),
                    r.execution_arn.clone(),
                    r.error_code.clone().unwrap_or_default(),
                ),
                None => (
                    "(in flight)".into(),
                    String::new(),
                    check
                        .current
                        .as_ref()
                        .and_then(|c| c.execution_arn.clone())
                        .unwrap_or_default(),
                    String::new(),
                ),
            };
            let _ = writeln!(
                o,
                "| {} | {ended} | {status} | {} | {execution} | {error} |",
                requested.map(|t| t.to_string()).unwrap_or_default(),
                check.probes.len().saturating_sub(1)
            );
        }
    }

    let _ = writeln!(o, "\n## Syncs\n");
    for lane in &e.lanes {
        let _ = writeln!(
            o,
            "### Lane {}\n\nDataSync task {}.\n",
            lane.name,
            lane.task_arn.as_deref().unwrap_or("(not created)")
        );
        let _ = writeln!(
            o,
            "| kind | status | started | ended | files | bytes | deleted | skipped | verified | prepare | transfer | verify | execution |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for s in &lane.syncs {
            let c = &s.counters;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.kind,
                s.status,
                s.started_at,
                s.ended_at,
                c.files_transferred,
                Bytes(c.bytes_transferred),
                c.files_deleted,
                c.files_skipped,
                c.files_verified,
                Duration(s.durations.prepare_ms / 1000),
                Duration(s.durations.transfer_ms / 1000),
                Duration(s.durations.verify_ms / 1000),
                s.execution_arn
            );
        }
        let _ = writeln!(
            o,
            "\nTotal: {} files, {} copied; {} files deleted on the target; {} files skipped.\n",
            lane.files_transferred,
            Bytes(lane.bytes_transferred),
            lane.files_deleted,
            lane.files_skipped
        );
    }

    let _ = writeln!(o, "## Freeze\n");
    match &e.freeze {
        None => {
            let _ = writeln!(o, "The source has not been frozen.");
        }
        Some(f) => {
            let _ = writeln!(o, "- method: {}", format!("{:?}", f.method).to_lowercase());
            let _ = writeln!(o, "- requested at: {}", when(f.requested_at));
            let _ = writeln!(o, "- frozen at: {}", f.frozen_at);
            if let Some(by) = &f.confirmed_by {
                let _ = writeln!(o, "- confirmed by: {by}");
            }
            let _ = writeln!(
                o,
                "- frozen until DNS was in sync: {}",
                f.until_dns_in_sync_secs
                    .map_or("not yet".to_string(), |d| Duration(d).to_string())
            );
        }
    }

    let _ = writeln!(o, "\n## DNS change\n");
    if let Some(t) = &e.ttl_lowering {
        let _ = writeln!(
            o,
            "- TTL lowered ahead of the swap: {} → {} s (change {}, in sync at {})",
            t.from_ttl.map_or("?".to_string(), |ttl| format!("{ttl} s")),
            t.to_ttl,
            t.change_id.as_deref().unwrap_or("-"),
            when(t.in_sync_at)
        );
    }
    match &e.dns_change {
        None => {
            let _ = writeln!(o, "- the record has not been swapped");
        }
        Some(d) => {
            let _ = writeln!(
                o,
                "- record: {} (hosted zone {})",
                d.record_name, d.hosted_zone_id
            );
            let _ = writeln!(
                o,
                "- CNAME: {} → {}",
                if d.old_values.is_empty() {
                    "?".to_string()
                } else {
                    d.old_values.join(", ")
                },
                d.new_value.as_deref().unwrap_or("?")
            );
            let _ = writeln!(
                o,
                "- TTL: {} → {} s",
                d.old_ttl.map_or("?".to_string(), |t| format!("{t} s")),
                d.new_ttl
            );
            let _ = writeln!(o, "- change id: {}", d.change_id.as_deref().unwrap_or("-"));
            let _ = writeln!(o, "- requested at: {}", when(d.requested_at));
            let _ = writeln!(o, "- INSYNC at: {}", when(d.in_sync_at));
        }
    }

    let _ = writeln!(o, "\n## Downtime\n");
    let secs = |d: Option<u64>| d.map_or("-".to_string(), |d| Duration(d).to_string());
    let d = &e.downtime;
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(
        o,
        "| forecast before the freeze (users) | {} |",
        secs(d.forecast_secs)
    );
    let _ = writeln!(
        o,
        "| measured (users: freeze until the last client resolves the new name) | {} |",
        secs(d.measured_secs)
    );
    let _ = writeln!(
        o,
        "| measured (service: freeze to DNS in sync) | {} |",
        secs(d.service_secs)
    );
    let difference = d.difference_secs.map_or("-".to_string(), |diff| {
        let sign = if diff < 0 { "-" } else { "+" };
        format!("{sign}{}", Duration(diff.unsigned_abs()))
    });
    let _ = writeln!(o, "| measured minus forecast | {difference} |");

    let _ = writeln!(o, "\n## Data check\n");
    let c = &e.data_check;
    let _ = writeln!(
        o,
        "Final syncs after the freeze, verified by DataSync ({}):\n",
        c.verify_mode
    );
    if c.finals.is_empty() {
        let _ = writeln!(o, "None yet.");
    } else {
        let _ = writeln!(
            o,
            "| lane | status | files | verified | deleted | skipped | execution |\n|---|---|---|---|---|---|---|"
        );
        for v in &c.finals {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                v.lane,
                v.status,
                v.files_transferred,
                v.files_verified,
                v.files_deleted,
                v.files_skipped,
                v.execution_arn
            );
        }
    }
    let verdict = match c.passed {
        Some(true) => "passed: every lane's last final sync succeeded and skipped nothing",
        Some(false) => "NOT passed: a lane's last final sync failed or skipped files (see Guards)",
        None => "not yet: not every lane has run its final sync after the freeze",
    };
    let _ = writeln!(o, "\nResult: {verdict}.");
    if let Some(r) = &e.rollback {
        let _ = writeln!(o, "\n## Rollback\n");
        let _ = writeln!(o, "| | |\n|---|---|");
        let _ = writeln!(o, "| asked for | {} by {} |", r.requested_at, r.requested_by);
        let _ = writeln!(o, "| target frozen | {} |", when(r.target_frozen_at));
        let copied: u64 = r.lanes.iter().map(|l| l.files_transferred).sum();
        let deleted: u64 = r.lanes.iter().map(|l| l.files_deleted).sum();
        let _ = writeln!(
            o,
            "| copied back (reverse syncs) | {copied} files, {deleted} deletes, {} lane(s) |",
            r.lanes.len()
        );
        let change = r.swap_back_change_id.as_deref().unwrap_or("-");
        let _ = writeln!(
            o,
            "| record back on the source | change {change}, in sync {} |",
            when(r.swap_back_in_sync_at)
        );
        let _ = writeln!(o, "| source unfrozen | {} |", when(r.source_unfrozen_at));
        let _ = writeln!(o, "| rolled back | {} |", when(r.rolled_back_at));
    }
    if let Some(s) = &e.shares {
        let _ = writeln!(o, "\n## Shares and in-server settings\n");
        let _ = writeln!(o, "| | |\n|---|---|");
        let _ = writeln!(o, "| started | {} |", s.started_at);
        let _ = writeln!(o, "| created on the target | {} |", join_or_dash(&s.created));
        let _ = writeln!(o, "| updated on the target | {} |", join_or_dash(&s.updated));
        let _ = writeln!(o, "| settings applied | {} |", join_or_dash(&s.applied));
        for item in s.skipped.iter().chain(&s.uncovered) {
            let _ = writeln!(o, "| not copied | {item} |");
        }
        for item in &s.not_carried {
            let _ = writeln!(o, "| left to a person | {item} |");
        }
        for item in &s.differences {
            let _ = writeln!(o, "| still differs | {item} |");
        }
        let _ = writeln!(
            o,
            "| verified (the target's own export) | {} |",
            when(s.verified_at)
        );
        if let Some(at) = s.stopped_at {
            let _ = writeln!(
                o,
                "| stopped (the next run starts again from a fresh export) | {at} |"
            );
        }
    }
    for (title, m) in [
        ("DNS aliases", &e.aliases),
        ("DNS aliases moved back", &e.aliases_back),
    ] {
        let Some(m) = m else { continue };
        let _ = writeln!(o, "\n## {title}\n");
        let _ = writeln!(o, "| | |\n|---|---|");
        let names = m.names.clone().unwrap_or_default();
        let _ = writeln!(o, "| aliases | {} |", join_or_dash(&names));
        let _ = writeln!(o, "| from → to | {} → {} |", m.from, m.to);
        let _ = writeln!(o, "| disassociated | {} |", when(m.disassociated_at));
        let _ = writeln!(o, "| associated (AVAILABLE) | {} |", when(m.associated_at));
        let spns = match (&m.spn_error, m.spns_by_hand) {
            (Some(error), _) => format!("left to a person: {error}"),
            (None, true) => "left to a person (setspn)".into(),
            (None, false) => "spn.ps1".into(),
        };
        let _ = writeln!(o, "| SPNs moved | {} ({spns}) |", when(m.spns_moved_at));
        for r in &m.records {
            let _ = writeln!(
                o,
                "| record {} | change {}, in sync {} |",
                r.name,
                r.change_id.as_deref().unwrap_or("-"),
                when(r.insync_at)
            );
        }
        let _ = writeln!(o, "| done | {} |", when(m.done_at));
    }
    if let Some(a) = &e.abort {
        let _ = writeln!(o, "\n## Abort\n");
        let _ = writeln!(o, "| | |\n|---|---|");
        let _ = writeln!(o, "| asked for | {} by {} |", a.requested_at, a.requested_by);
        let _ = writeln!(o, "| source unfrozen | {} |", when(a.source_unfrozen_at));
        let _ = writeln!(o, "| record's TTL put back | {} |", when(a.ttl_restored_at));
        let _ = writeln!(o, "| aborted | {} |", when(a.aborted_at));
        if let Some(d) = &a.deletion {
            let _ = writeln!(
                o,
                "| deletion asked for | {} by {} |",
                d.requested_at, d.requested_by
            );
            for execution in &d.cancelled {
                let _ = writeln!(o, "| cancelled | {execution} |");
            }
            for id in &d.deleted {
                let _ = writeln!(o, "| deleted | {id} |");
            }
            let _ = writeln!(o, "| deletion done | {} |", when(d.done_at));
        }
    }
    o
}

fn join_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}
