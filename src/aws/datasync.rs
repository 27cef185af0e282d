//! AWS DataSync calls: the two FSx for Windows locations, the task, and its executions.
//!
//! None of these create calls takes an idempotency token, so the SDK resends them only after throttling
//! ([`retries`]), everything is tagged with the plan id and looked up by tag ([`find_transfer_resources`])
//! before the core creates anything again, and the executions the checkpoint does not know are listed with
//! their tags ([`find_execution`]) for the core to choose from.
//! The SMB password is resolved right before CreateLocationFsxWindows and never leaves this module.

use std::collections::BTreeMap;

use aws_sdk_datasync::types as ds;

use crate::aws::errors;
use crate::aws::retries;
use crate::aws::secrets;
use crate::cloud::model::{ExecutionCounters, ExecutionInfo, ExecutionStatus, PhaseDurations, TaskReport};
use crate::cloud::port::{
    CloudError, CreateLocationRequest, CreateTaskRequest, ExecutionCandidate, MigrationResource, PLAN_TAG,
    PreserveDeletedFiles, ResourceKind, SIDE_TAG, SOURCE_TAG, StartExecutionRequest, TaskOptions,
    TransferMode, TransferResources, is_reverse, lane_of,
};

const LIST_LOCATIONS: &str = "datasync:ListLocations";
const LIST_TASKS: &str = "datasync:ListTasks";
const LIST_TAGS: &str = "datasync:ListTagsForResource";
const CREATE_LOCATION: &str = "datasync:CreateLocationFsxWindows";
const CREATE_TASK: &str = "datasync:CreateTask";
const LIST_EXECUTIONS: &str = "datasync:ListTaskExecutions";
const START_EXECUTION: &str = "datasync:StartTaskExecution";
const UPDATE_EXECUTION: &str = "datasync:UpdateTaskExecution";
const DESCRIBE_EXECUTION: &str = "datasync:DescribeTaskExecution";
const CANCEL_EXECUTION: &str = "datasync:CancelTaskExecution";
const DELETE_TASK: &str = "datasync:DeleteTask";
const DELETE_LOCATION: &str = "datasync:DeleteLocation";

/// DataSync's one filter rule: SIMPLE_PATTERN patterns joined with `|`.
fn simple_pattern(patterns: &[String]) -> ds::FilterRule {
    ds::FilterRule::builder()
        .filter_type(ds::FilterType::SimplePattern)
        .value(patterns.join("|"))
        .build()
}

/// Finds the locations and the task carrying `PLAN_TAG = plan_id` (locations also by `SIDE_TAG`).
pub async fn find_transfer_resources(
    client: &aws_sdk_datasync::Client,
    plan_id: &str,
) -> Result<TransferResources, CloudError> {
    let mut found = TransferResources::default();

    let locations = client
        .list_locations()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST_LOCATIONS, e))?;
    for location in &locations {
        let Some(arn) = location.location_arn() else {
            continue;
        };
        let tags = tags_of(client, arn).await?;
        if tags.get(PLAN_TAG).map(String::as_str) != Some(plan_id) {
            continue;
        }
        let slot = match tags.get(SIDE_TAG).map(String::as_str) {
            Some("source") => &mut found.source_location_arn,
            Some("target") => &mut found.target_location_arn,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(arn.to_string());
        } else {
            tracing::warn!(
                location = arn,
                plan_id,
                "a second DataSync location is tagged for this plan and side"
            );
        }
    }

    for (arn, tags) in tasks_with_tags(client).await? {
        if tags.get(PLAN_TAG).map(String::as_str) != Some(plan_id) {
            continue;
        }
        let lane = lane_of(&tags);
        let tasks = if is_reverse(&tags) {
            &mut found.reverse_tasks
        } else {
            &mut found.tasks
        };
        if let Some(first) = tasks.get(&lane) {
            tracing::warn!(
                task = arn.as_str(),
                first = first.as_str(),
                plan_id,
                lane = lane.as_str(),
                "a second DataSync task is tagged for this plan and lane"
            );
        } else {
            tasks.insert(lane, arn);
        }
    }
    Ok(found)
}

/// Every task in the Region with its tags (ListTasks, then ListTagsForResource per task).
async fn tasks_with_tags(
    client: &aws_sdk_datasync::Client,
) -> Result<Vec<(String, BTreeMap<String, String>)>, CloudError> {
    let tasks = client
        .list_tasks()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST_TASKS, e))?;
    let mut out = Vec::with_capacity(tasks.len());
    for arn in tasks.iter().filter_map(|t| t.task_arn()) {
        out.push((arn.to_string(), tags_of(client, arn).await?));
    }
    Ok(out)
}

async fn tags_of(
    client: &aws_sdk_datasync::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, CloudError> {
    let entries = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST_TAGS, e))?;
    Ok(entries
        .iter()
        .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
        .collect())
}

fn tag_list(operation: &str, tags: &BTreeMap<String, String>) -> Result<Vec<ds::TagListEntry>, CloudError> {
    tags.iter()
        .map(|(k, v)| {
            ds::TagListEntry::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| errors::rejected(operation, "InvalidParameter", format!("tag {k:?}: {e}")))
        })
        .collect()
}

/// `arn:aws:ec2:REGION:ACCOUNT:security-group/sg-…` for each group, with the partition, Region and
/// account taken from the file system's ARN (`arn:aws:fsx:REGION:ACCOUNT:file-system/fs-…`).
pub fn security_group_arns(file_system_arn: &str, group_ids: &[String]) -> Result<Vec<String>, CloudError> {
    let parts: Vec<&str> = file_system_arn.splitn(6, ':').collect();
    let (partition, region, account) = match parts.as_slice() {
        ["arn", partition, "fsx", region, account, _] if !region.is_empty() && !account.is_empty() => {
            (*partition, *region, *account)
        }
        _ => {
            return Err(errors::rejected(
                CREATE_LOCATION,
                "InvalidParameter",
                format!("{file_system_arn:?} is not an FSx file system ARN"),
            ));
        }
    };
    Ok(group_ids
        .iter()
        .map(|sg| format!("arn:{partition}:ec2:{region}:{account}:security-group/{sg}"))
        .collect())
}

/// CreateLocationFsxWindows for one side, tagged with the plan and the side.
pub async fn create_location(
    client: &aws_sdk_datasync::Client,
    secrets_client: &aws_sdk_secretsmanager::Client,
    request: &CreateLocationRequest,
) -> Result<String, CloudError> {
    let sg_arns = security_group_arns(&request.file_system_arn, &request.security_group_ids)?;
    let tags = tag_list(CREATE_LOCATION, &request.tags)?;
    let who = if request.domain.is_empty() {
        request.user.clone()
    } else {
        format!("{}\\{}", request.domain, request.user)
    };
    let purpose = format!("the DataSync SMB user {who} ({} location)", request.side);
    let password = secrets::resolve(secrets_client, &request.password, &purpose).await?;
    let mut call = client
        .create_location_fsx_windows()
        .fsx_filesystem_arn(&request.file_system_arn)
        .set_security_group_arns(Some(sg_arns))
        .subdirectory(&request.subdirectory)
        .user(&request.user)
        .password(password.expose())
        .set_tags(Some(tags));
    if !request.domain.is_empty() {
        call = call.domain(&request.domain);
    }
    let out = call
        .customize()
        .config_override(retries::datasync_create())
        .send()
        .await
        .map_err(|e| errors::redact(errors::from_sdk(CREATE_LOCATION, e), password.expose()))?;
    out.location_arn()
        .map(str::to_string)
        .ok_or_else(|| errors::missing_field(CREATE_LOCATION, "LocationArn"))
}

/// The task options fsx-migrate sets deliberately, plus the fixed ones an SMB→SMB copy needs.
pub fn task_options(options: &TaskOptions) -> ds::Options {
    ds::Options::builder()
        .transfer_mode(transfer_mode(options.transfer_mode))
        .verify_mode(ds::VerifyMode::from(options.verify_mode.as_str()))
        .preserve_deleted_files(preserve_deleted(options.preserve_deleted_files))
        .security_descriptor_copy_flags(ds::SmbSecurityDescriptorCopyFlags::from(
            options.security_descriptor_copy.as_str(),
        ))
        .log_level(ds::LogLevel::from(options.log_level.as_str()))
        .overwrite_mode(ds::OverwriteMode::Always)
        .mtime(ds::Mtime::Preserve)
        .atime(ds::Atime::BestEffort)
        .posix_permissions(ds::PosixPermissions::None)
        .uid(ds::Uid::None)
        .gid(ds::Gid::None)
        .task_queueing(ds::TaskQueueing::Enabled)
        .build()
}

/// The per-run overrides: only the options that differ between initial, incremental and final runs.
pub fn override_options(options: &TaskOptions) -> ds::Options {
    ds::Options::builder()
        .transfer_mode(transfer_mode(options.transfer_mode))
        .verify_mode(ds::VerifyMode::from(options.verify_mode.as_str()))
        .preserve_deleted_files(preserve_deleted(options.preserve_deleted_files))
        .security_descriptor_copy_flags(ds::SmbSecurityDescriptorCopyFlags::from(
            options.security_descriptor_copy.as_str(),
        ))
        .log_level(ds::LogLevel::from(options.log_level.as_str()))
        .build()
}

fn transfer_mode(mode: TransferMode) -> ds::TransferMode {
    match mode {
        TransferMode::Changed => ds::TransferMode::Changed,
        TransferMode::All => ds::TransferMode::All,
    }
}

fn preserve_deleted(mode: PreserveDeletedFiles) -> ds::PreserveDeletedFiles {
    match mode {
        PreserveDeletedFiles::Preserve => ds::PreserveDeletedFiles::Preserve,
        PreserveDeletedFiles::Remove => ds::PreserveDeletedFiles::Remove,
    }
}

/// CreateTask in BASIC mode (FSx for Windows ↔ FSx for Windows has no Enhanced mode).
pub async fn create_task(
    client: &aws_sdk_datasync::Client,
    request: &CreateTaskRequest,
) -> Result<String, CloudError> {
    let mut call = client
        .create_task()
        .name(&request.name)
        .source_location_arn(&request.source_location_arn)
        .destination_location_arn(&request.target_location_arn)
        .task_mode(ds::TaskMode::Basic)
        .options(task_options(&request.options))
        .set_cloud_watch_log_group_arn(request.cloudwatch_log_group_arn.clone())
        .set_tags(Some(tag_list(CREATE_TASK, &request.tags)?));
    if let Some(report) = &request.task_report {
        call = call.task_report_config(task_report_config(report)?);
    }
    if !request.includes.is_empty() {
        call = call.includes(simple_pattern(&request.includes));
    }
    if !request.excludes.is_empty() {
        call = call.excludes(simple_pattern(&request.excludes));
    }
    let out = call
        .customize()
        .config_override(retries::datasync_create())
        .send()
        .await
        .map_err(|e| errors::from_sdk(CREATE_TASK, e))?;
    out.task_arn()
        .map(str::to_string)
        .ok_or_else(|| errors::missing_field(CREATE_TASK, "TaskArn"))
}

/// The task report: only the files DataSync skipped or failed on (ERRORS_ONLY, STANDARD output), to S3.
pub fn task_report_config(report: &TaskReport) -> Result<ds::TaskReportConfig, CloudError> {
    let s3 = ds::ReportDestinationS3::builder()
        .s3_bucket_arn(&report.s3_bucket_arn)
        .bucket_access_role_arn(&report.bucket_access_role_arn)
        .set_subdirectory(report.subdirectory.clone())
        .build()
        .map_err(|e| errors::rejected(CREATE_TASK, "InvalidParameter", format!("task report: {e}")))?;
    Ok(ds::TaskReportConfig::builder()
        .destination(ds::ReportDestination::builder().s3(s3).build())
        .output_type(ds::ReportOutputType::Standard)
        .report_level(ds::ReportLevel::ErrorsOnly)
        .build())
}

use crate::cloud::port::EXECUTION_CANDIDATES as CANDIDATES;

/// The task's newest executions that are not in `known`, each with its status, StartTime and tags, for the
/// core to decide which (if any) is this plan's (`core::machine::choose_execution`).
pub async fn find_execution(
    client: &aws_sdk_datasync::Client,
    task_arn: &str,
    known: &[String],
) -> Result<Vec<ExecutionCandidate>, CloudError> {
    let executions = client
        .list_task_executions()
        .task_arn(task_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST_EXECUTIONS, e))?;
    // ListTaskExecutions lists the oldest first.
    let unknown: Vec<String> = executions
        .iter()
        .rev()
        .filter_map(|e| e.task_execution_arn())
        .filter(|arn| !known.iter().any(|k| k == arn))
        .take(CANDIDATES)
        .map(str::to_string)
        .collect();
    let mut candidates = Vec::with_capacity(unknown.len());
    for (i, arn) in unknown.into_iter().enumerate() {
        // No operation more than once a second, also inside one lookup.
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        let info = describe_execution(client, &arn).await?;
        candidates.push(ExecutionCandidate {
            tags: tags_of(client, &arn).await?,
            status: info.status,
            started_at: info.started_at,
            arn,
        });
    }
    Ok(candidates)
}

/// Every task tagged as created by fsx-migrate for `source_id`, of any plan.
pub async fn migration_tasks(
    client: &aws_sdk_datasync::Client,
    source_id: &str,
) -> Result<Vec<MigrationResource>, CloudError> {
    let mut found = Vec::new();
    for (arn, tags) in tasks_with_tags(client).await? {
        if let (Some(plan_id), Some(source)) = (tags.get(PLAN_TAG), tags.get(SOURCE_TAG))
            && source == source_id
        {
            found.push(MigrationResource {
                kind: ResourceKind::Task,
                id: arn,
                plan_id: plan_id.clone(),
                source_file_system_id: source.clone(),
            });
        }
    }
    Ok(found)
}

/// StartTaskExecution with the run's override options and tags (and its own Includes, for a check).
pub async fn start_execution(
    client: &aws_sdk_datasync::Client,
    request: &StartExecutionRequest,
) -> Result<String, CloudError> {
    let mut call = client
        .start_task_execution()
        .task_arn(&request.task_arn)
        .override_options(with_limit(
            override_options(&request.overrides),
            request.bytes_per_second,
        ))
        .set_tags(Some(tag_list(START_EXECUTION, &request.tags)?));
    if let Some(includes) = &request.includes {
        call = call.includes(simple_pattern(includes));
    }
    let out = call
        .customize()
        .config_override(retries::datasync_create())
        .send()
        .await
        .map_err(|e| errors::from_sdk(START_EXECUTION, e))?;
    out.task_execution_arn()
        .map(str::to_string)
        .ok_or_else(|| errors::missing_field(START_EXECUTION, "TaskExecutionArn"))
}

/// DataSync's `BytesPerSecond`: -1 is unlimited.
fn bytes_per_second(limit: Option<u64>) -> i64 {
    limit.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX))
}

/// The overrides with a bandwidth limit, when there is one.
fn with_limit(mut options: ds::Options, limit: Option<u64>) -> ds::Options {
    if limit.is_some() {
        options.bytes_per_second = Some(bytes_per_second(limit));
    }
    options
}

/// UpdateTaskExecution of a running execution's bandwidth limit (the one option it may change).
pub async fn limit_execution(
    client: &aws_sdk_datasync::Client,
    execution_arn: &str,
    limit: Option<u64>,
) -> Result<(), CloudError> {
    client
        .update_task_execution()
        .task_execution_arn(execution_arn)
        .options(
            ds::Options::builder()
                .bytes_per_second(bytes_per_second(limit))
                .build(),
        )
        .send()
        .await
        .map_err(|e| errors::from_sdk(UPDATE_EXECUTION, e))?;
    Ok(())
}

/// ListTaskExecutions: the task's executions whose status is not SUCCESS or ERROR (one this build does not
/// know counts as running), oldest first.
pub async fn running_executions(
    client: &aws_sdk_datasync::Client,
    task_arn: &str,
) -> Result<Vec<String>, CloudError> {
    let executions: Vec<ds::TaskExecutionListEntry> = client
        .list_task_executions()
        .task_arn(task_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(LIST_EXECUTIONS, e))?;
    Ok(executions
        .iter()
        .filter(|e| {
            let status = e.status().map_or(ExecutionStatus::Unknown(String::new()), |s| {
                ExecutionStatus::parse(s.as_str())
            });
            !status.is_terminal()
        })
        .filter_map(|e| e.task_execution_arn().map(str::to_string))
        .collect())
}

/// CancelTaskExecution.
pub async fn cancel_execution(
    client: &aws_sdk_datasync::Client,
    execution_arn: &str,
) -> Result<(), CloudError> {
    client
        .cancel_task_execution()
        .task_execution_arn(execution_arn)
        .send()
        .await
        .map_err(|e| errors::from_sdk(CANCEL_EXECUTION, e))?;
    Ok(())
}

/// DeleteTask. DataSync answers a task that does not exist with InvalidRequestException, like any other
/// refusal: the core looks the task up by tag again before it believes either.
pub async fn delete_task(client: &aws_sdk_datasync::Client, task_arn: &str) -> Result<(), CloudError> {
    client
        .delete_task()
        .task_arn(task_arn)
        .send()
        .await
        .map_err(|e| errors::from_sdk(DELETE_TASK, e))?;
    Ok(())
}

/// DeleteLocation (the same about one that does not exist).
pub async fn delete_location(
    client: &aws_sdk_datasync::Client,
    location_arn: &str,
) -> Result<(), CloudError> {
    client
        .delete_location()
        .location_arn(location_arn)
        .send()
        .await
        .map_err(|e| errors::from_sdk(DELETE_LOCATION, e))?;
    Ok(())
}

/// DescribeTaskExecution mapped to [`ExecutionInfo`]. A status this build does not know (moto's
/// INITIALIZING, a value AWS adds later) becomes `ExecutionStatus::Unknown`, which the core treats as running.
pub async fn describe_execution(
    client: &aws_sdk_datasync::Client,
    execution_arn: &str,
) -> Result<ExecutionInfo, CloudError> {
    let out = client
        .describe_task_execution()
        .task_execution_arn(execution_arn)
        .send()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE_EXECUTION, e))?;
    let result = out.result();
    let ms = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(ExecutionInfo {
        arn: out.task_execution_arn().unwrap_or(execution_arn).to_string(),
        started_at: out.start_time().and_then(to_timestamp),
        status: out
            .status()
            .map(|s| ExecutionStatus::parse(s.as_str()))
            .unwrap_or_else(|| ExecutionStatus::Unknown("(not returned)".into())),
        counters: ExecutionCounters {
            estimated_files_to_transfer: count(out.estimated_files_to_transfer()),
            estimated_bytes_to_transfer: count(out.estimated_bytes_to_transfer()),
            estimated_files_to_delete: count(out.estimated_files_to_delete()),
            files_transferred: count(out.files_transferred()),
            bytes_transferred: count(out.bytes_transferred()),
            files_deleted: count(out.files_deleted()),
            files_verified: count(out.files_verified()),
            files_skipped: count(out.files_skipped()),
        },
        durations: PhaseDurations {
            prepare_ms: ms(result.and_then(|r| r.prepare_duration())),
            transfer_ms: ms(result.and_then(|r| r.transfer_duration())),
            verify_ms: ms(result.and_then(|r| r.verify_duration())),
            total_ms: ms(result.and_then(|r| r.total_duration())),
        },
        error_code: result.and_then(|r| r.error_code()).map(str::to_string),
        error_detail: result.and_then(|r| r.error_detail()).map(str::to_string),
    })
}

/// An SDK time as a [`jiff::Timestamp`], to the nanosecond; `None` outside jiff's range.
fn to_timestamp(t: &aws_smithy_types::DateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.secs(), i32::try_from(t.subsec_nanos()).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_group_arns_follow_the_file_system_arn() {
        let arns = security_group_arns(
            "arn:aws-us-gov:fsx:us-gov-west-1:123456789012:file-system/fs-0123",
            &["sg-1".into(), "sg-2".into()],
        )
        .unwrap();
        assert_eq!(
            arns,
            [
                "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:security-group/sg-1",
                "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:security-group/sg-2"
            ]
        );
        assert!(security_group_arns("fs-0123", &["sg-1".into()]).is_err());
    }
}
