//! Typed request tests for every DataSync call: lookups by tag, locations, the task, and executions.

use aws_sdk_datasync::operation::create_location_fsx_windows::{
    CreateLocationFsxWindowsInput, CreateLocationFsxWindowsOutput,
};
use aws_sdk_datasync::operation::create_task::{CreateTaskInput, CreateTaskOutput};
use aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput;
use aws_sdk_datasync::operation::list_locations::ListLocationsOutput;
use aws_sdk_datasync::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_datasync::operation::list_task_executions::{ListTaskExecutionsInput, ListTaskExecutionsOutput};
use aws_sdk_datasync::operation::list_tasks::ListTasksOutput;
use aws_sdk_datasync::operation::start_task_execution::{StartTaskExecutionInput, StartTaskExecutionOutput};
use aws_sdk_datasync::types as ds;
use aws_smithy_mocks::mock;

use std::collections::BTreeMap;

use fsx_migrate::cloud::model::PasswordSource;
use fsx_migrate::cloud::model::{
    ExecutionStatus, LogLevel, SecurityDescriptorCopy, Side, SyncKind, TaskReport, VerifyMode,
};
use fsx_migrate::cloud::port::{
    CloudPort, Command, CreateLocationRequest, CreateTaskRequest, ErrorClass, ExecutionCandidate, LEG_TAG,
    PLAN_TAG, PreserveDeletedFiles, REVERSE_LEG, Response, SIDE_TAG, SOURCE_TAG, SYNC_TAG,
    StartExecutionRequest, TaskOptions, TransferMode, TransferResources,
};
use fsx_migrate::core::lane::{ExecutionChoice, choose_execution};
use fsx_migrate::plan::checkpoint::CurrentSync;

use super::support::{self, PASSWORD, Recorder, Rules, SOURCE_ARN};

const TASK: &str = "arn:aws:datasync:eu-west-1:123456789012:task/task-0123456789abcdef0";
const REVERSE_TASK: &str = "arn:aws:datasync:eu-west-1:123456789012:task/task-0123456789abcdef1";

fn tag(key: &str, value: &str) -> ds::TagListEntry {
    ds::TagListEntry::builder()
        .key(key)
        .value(value)
        .build()
        .expect("tag")
}

#[tokio::test]
async fn find_transfer_resources_matches_plan_and_side_tags_across_pages() {
    let loc = |n: u32| format!("arn:aws:datasync:eu-west-1:123456789012:location/loc-{n:017}");
    let (l1, l2, l3, l4) = (loc(1), loc(2), loc(3), loc(4));
    let (a, b) = (l1.clone(), l2.clone());
    let (c, d) = (l3.clone(), l4.clone());
    let locations = mock!(aws_sdk_datasync::Client::list_locations).then_compute_output(move |r| {
        let entry = |arn: &str| {
            ds::LocationListEntry::builder()
                .location_arn(arn)
                .location_uri("fsxw://x/share/")
                .build()
        };
        if r.next_token().is_none() {
            ListLocationsOutput::builder()
                .locations(entry(&a))
                .locations(entry(&b))
                .next_token("page-2")
                .build()
        } else {
            ListLocationsOutput::builder()
                .locations(entry(&c))
                .locations(entry(&d))
                .build()
        }
    });
    let tasks = mock!(aws_sdk_datasync::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .tasks(
                ds::TaskListEntry::builder()
                    .task_arn("arn:aws:datasync:eu-west-1:123456789012:task/task-other")
                    .build(),
            )
            .tasks(ds::TaskListEntry::builder().task_arn(TASK).build())
            .tasks(ds::TaskListEntry::builder().task_arn(REVERSE_TASK).build())
            .build()
    });
    let tags_by_arn = move |arn: &str| -> Vec<ds::TagListEntry> {
        match arn {
            a if a == l1 => vec![tag(PLAN_TAG, "another-plan"), tag(SIDE_TAG, "source")],
            a if a == l2 => vec![tag(PLAN_TAG, "plan-42"), tag(SIDE_TAG, "target")],
            a if a == l3 => vec![tag("Name", "unrelated")],
            a if a == l4 => vec![tag(SIDE_TAG, "source"), tag(PLAN_TAG, "plan-42")],
            TASK => vec![tag(PLAN_TAG, "plan-42")],
            REVERSE_TASK => vec![tag(PLAN_TAG, "plan-42"), tag(LEG_TAG, REVERSE_LEG)],
            _ => vec![],
        }
    };
    let tags = mock!(aws_sdk_datasync::Client::list_tags_for_resource).then_compute_output(move |r| {
        let mut out = ListTagsForResourceOutput::builder();
        for t in tags_by_arn(r.resource_arn().unwrap_or_default()) {
            out = out.tags(t);
        }
        out.build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&locations, &tasks, &tags],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::FindTransferResources {
            plan_id: "plan-42".into(),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::TransferResources(TransferResources {
            source_location_arn: Some(loc(4)),
            target_location_arn: Some(loc(2)),
            tasks: BTreeMap::from([("all".into(), TASK.into())]),
            reverse_tasks: BTreeMap::from([("all".into(), REVERSE_TASK.into())]),
        }))
    );
    assert_eq!(locations.num_calls(), 2, "ListLocations is paginated");
    assert_eq!(tags.num_calls(), 7, "every location and task is checked by tag");
}

fn smb_secret() -> aws_smithy_mocks::Rule {
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|r| r.secret_id() == Some("datasync-smb"))
        .then_output(|| GetSecretValueOutput::builder().secret_string(PASSWORD).build())
}

fn location_request() -> CreateLocationRequest {
    CreateLocationRequest {
        side: Side::Source,
        file_system_arn: SOURCE_ARN.into(),
        security_group_ids: vec!["sg-1".into(), "sg-2".into()],
        subdirectory: "/share".into(),
        user: "svc-datasync".into(),
        domain: "CORP".into(),
        password: PasswordSource::SecretsManager("datasync-smb".into()),
        tags: support::plan_tags(&[(SIDE_TAG, "source")]),
    }
}

#[tokio::test]
async fn create_location_builds_security_group_arns_and_reads_the_password_from_the_source() {
    let requests = Recorder::<CreateLocationFsxWindowsInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_datasync::Client::create_location_fsx_windows).then_compute_output(move |r| {
        seen.record(r);
        CreateLocationFsxWindowsOutput::builder()
            .location_arn("arn:aws:datasync:eu-west-1:123456789012:location/loc-00000000000000001")
            .build()
    });
    let secret = smb_secret();
    let mut port = support::port(Rules {
        datasync: vec![&create],
        secrets: vec![&secret],
        ..Default::default()
    });
    let command = Command::CreateLocation(location_request());
    let answer = port.execute(&command).await;
    assert_eq!(
        answer,
        Ok(Response::LocationCreated {
            side: Side::Source,
            arn: "arn:aws:datasync:eu-west-1:123456789012:location/loc-00000000000000001".into()
        })
    );
    let r = requests.only();
    assert_eq!(r.fsx_filesystem_arn(), Some(SOURCE_ARN));
    assert_eq!(
        r.security_group_arns(),
        [
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1",
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-2"
        ]
    );
    assert_eq!(r.subdirectory(), Some("/share"));
    assert_eq!(r.user(), Some("svc-datasync"));
    assert_eq!(r.domain(), Some("CORP"));
    assert_eq!(r.password(), Some(PASSWORD));
    let tags: Vec<(&str, Option<&str>)> = r.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [(PLAN_TAG, Some("plan-42")), (SIDE_TAG, Some("source"))]);
    let printed = format!("{r:?} {command:?}");
    assert!(!printed.contains(PASSWORD), "password leaked into Debug output");
    let persisted = serde_json::to_string(&command).expect("commands serialise");
    assert!(
        persisted.contains("secretsmanager:datasync-smb"),
        "only the password source is kept: {persisted}"
    );
    assert!(
        !persisted.contains(PASSWORD),
        "password leaked into the serialised command"
    );
}

#[tokio::test]
async fn create_location_with_an_unset_password_variable_fails_without_calling_datasync() {
    let mut port = support::port(Rules::default());
    let mut request = location_request();
    request.password = PasswordSource::Env("FSX_MIGRATE_TEST_SURELY_UNSET_PASSWORD_VARIABLE".into());
    let err = port
        .execute(&Command::CreateLocation(request))
        .await
        .expect_err("no password");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.code, "PasswordUnavailable");
    assert!(
        err.message
            .contains("FSX_MIGRATE_TEST_SURELY_UNSET_PASSWORD_VARIABLE"),
        "{err}"
    );
}

#[tokio::test]
async fn create_location_errors_never_carry_the_password() {
    let create = mock!(aws_sdk_datasync::Client::create_location_fsx_windows).then_http_response(|| {
        support::json_error(
            400,
            "InvalidRequestException",
            &format!("Unable to authenticate with password {PASSWORD}"),
        )
    });
    let secret = smb_secret();
    let mut port = support::port(Rules {
        datasync: vec![&create],
        secrets: vec![&secret],
        ..Default::default()
    });
    let err = port
        .execute(&Command::CreateLocation(location_request()))
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.code, "InvalidRequestException");
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        serde_json::to_string(&err).unwrap(),
    ] {
        assert!(!text.contains(PASSWORD), "password leaked: {text}");
    }
    assert!(err.message.contains("Unable to authenticate with password ***"));
}

/// A port whose StartTaskExecution answers `exec-1`, and the requests it was sent.
fn recording_starts() -> (Recorder<StartTaskExecutionInput>, fsx_migrate::aws::AwsPort) {
    let requests = Recorder::<StartTaskExecutionInput>::new();
    let seen = requests.clone();
    let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_compute_output(move |r| {
        seen.record(r);
        StartTaskExecutionOutput::builder()
            .task_execution_arn(format!("{TASK}/execution/exec-1"))
            .build()
    });
    let port = support::port(Rules {
        datasync: vec![&start],
        ..Default::default()
    });
    (requests, port)
}

fn live_options() -> TaskOptions {
    TaskOptions {
        transfer_mode: TransferMode::Changed,
        verify_mode: VerifyMode::OnlyFilesTransferred,
        preserve_deleted_files: PreserveDeletedFiles::Preserve,
        security_descriptor_copy: SecurityDescriptorCopy::OwnerDaclSacl,
        log_level: LogLevel::Basic,
    }
}

#[tokio::test]
async fn create_task_is_basic_mode_with_deliberate_options_one_exclude_rule_and_tags() {
    let requests = Recorder::<CreateTaskInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_datasync::Client::create_task).then_compute_output(move |r| {
        seen.record(r);
        CreateTaskOutput::builder().task_arn(TASK).build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&create],
        ..Default::default()
    });
    let request = CreateTaskRequest {
        lane: "all".into(),
        name: "fsx-migrate plan-42".into(),
        source_location_arn: "arn:src".into(),
        target_location_arn: "arn:dst".into(),
        options: live_options(),
        includes: vec!["/Projects/A".into(), "/Home".into()],
        excludes: vec![
            "*/~$*".into(),
            "/System Volume Information".into(),
            "/$RECYCLE.BIN".into(),
        ],
        cloudwatch_log_group_arn: Some(
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*".into(),
        ),
        task_report: None,
        tags: support::plan_tags(&[]),
    };
    assert_eq!(
        port.execute(&Command::CreateTask(request)).await,
        Ok(Response::TaskCreated { arn: TASK.into() })
    );

    let r = requests.only();
    assert_eq!(r.name(), Some("fsx-migrate plan-42"));
    assert_eq!(r.source_location_arn(), Some("arn:src"));
    assert_eq!(r.destination_location_arn(), Some("arn:dst"));
    assert_eq!(r.task_mode(), Some(&ds::TaskMode::Basic));
    assert_eq!(
        r.cloud_watch_log_group_arn(),
        Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*")
    );
    assert_eq!(r.includes().len(), 1, "DataSync takes one filter rule");
    assert_eq!(r.includes()[0].value(), Some("/Projects/A|/Home"));
    assert_eq!(r.excludes().len(), 1, "DataSync takes one filter rule");
    assert_eq!(
        r.excludes()[0].filter_type(),
        Some(&ds::FilterType::SimplePattern)
    );
    assert_eq!(
        r.excludes()[0].value(),
        Some("*/~$*|/System Volume Information|/$RECYCLE.BIN")
    );
    let o = r.options().expect("options");
    assert_eq!(o.transfer_mode(), Some(&ds::TransferMode::Changed));
    assert_eq!(o.verify_mode(), Some(&ds::VerifyMode::OnlyFilesTransferred));
    assert_eq!(
        o.preserve_deleted_files(),
        Some(&ds::PreserveDeletedFiles::Preserve)
    );
    assert_eq!(
        o.security_descriptor_copy_flags(),
        Some(&ds::SmbSecurityDescriptorCopyFlags::OwnerDaclSacl)
    );
    assert_eq!(o.log_level(), Some(&ds::LogLevel::Basic));
    assert_eq!(o.overwrite_mode(), Some(&ds::OverwriteMode::Always));
    assert_eq!(o.mtime(), Some(&ds::Mtime::Preserve));
    assert_eq!(o.atime(), Some(&ds::Atime::BestEffort));
    assert_eq!(o.posix_permissions(), Some(&ds::PosixPermissions::None));
    assert_eq!(o.uid(), Some(&ds::Uid::None));
    assert_eq!(o.gid(), Some(&ds::Gid::None));
    assert_eq!(o.task_queueing(), Some(&ds::TaskQueueing::Enabled));
    assert_eq!(r.tags().len(), 1);
    assert_eq!(r.tags()[0].key(), PLAN_TAG);
}

#[tokio::test]
async fn create_task_without_excludes_or_log_group_sends_neither() {
    let requests = Recorder::<CreateTaskInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_datasync::Client::create_task).then_compute_output(move |r| {
        seen.record(r);
        CreateTaskOutput::builder().task_arn(TASK).build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&create],
        ..Default::default()
    });
    let request = CreateTaskRequest {
        lane: "all".into(),
        name: "t".into(),
        source_location_arn: "arn:src".into(),
        target_location_arn: "arn:dst".into(),
        options: TaskOptions {
            log_level: LogLevel::Off,
            ..live_options()
        },
        includes: vec![],
        excludes: vec![],
        cloudwatch_log_group_arn: None,
        task_report: None,
        tags: support::plan_tags(&[]),
    };
    port.execute(&Command::CreateTask(request))
        .await
        .expect("created");
    let r = requests.only();
    assert!(r.excludes().is_empty());
    assert!(r.includes().is_empty());
    assert_eq!(r.cloud_watch_log_group_arn(), None);
    assert_eq!(r.options().and_then(|o| o.log_level()), Some(&ds::LogLevel::Off));
}

#[tokio::test]
async fn create_task_sends_the_task_report_of_errors_only_to_s3() {
    let requests = Recorder::<CreateTaskInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_datasync::Client::create_task).then_compute_output(move |r| {
        seen.record(r);
        CreateTaskOutput::builder().task_arn(TASK).build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&create],
        ..Default::default()
    });
    let mut request = CreateTaskRequest {
        lane: "all".into(),
        name: "t".into(),
        source_location_arn: "arn:src".into(),
        target_location_arn: "arn:dst".into(),
        options: live_options(),
        includes: vec![],
        excludes: vec![],
        cloudwatch_log_group_arn: None,
        task_report: Some(TaskReport {
            s3_bucket_arn: "arn:aws:s3:::fsx-migrate-reports".into(),
            bucket_access_role_arn: "arn:aws:iam::123456789012:role/datasync-reports".into(),
            subdirectory: Some("plan-42/".into()),
        }),
        tags: support::plan_tags(&[]),
    };
    port.execute(&Command::CreateTask(request.clone()))
        .await
        .expect("created");
    request.task_report = Some(TaskReport {
        subdirectory: None,
        ..request.task_report.clone().unwrap()
    });
    port.execute(&Command::CreateTask(request))
        .await
        .expect("created");

    let sent = requests.all();
    let report = sent[0].task_report_config().expect("task report config");
    assert_eq!(report.output_type(), Some(&ds::ReportOutputType::Standard));
    assert_eq!(report.report_level(), Some(&ds::ReportLevel::ErrorsOnly));
    let s3 = report.destination().and_then(|d| d.s3()).expect("S3 destination");
    assert_eq!(s3.s3_bucket_arn(), "arn:aws:s3:::fsx-migrate-reports");
    assert_eq!(
        s3.bucket_access_role_arn(),
        "arn:aws:iam::123456789012:role/datasync-reports"
    );
    assert_eq!(s3.subdirectory(), Some("plan-42/"));
    let s3 = sent[1]
        .task_report_config()
        .and_then(|r| r.destination())
        .and_then(|d| d.s3())
        .expect("S3 destination");
    assert_eq!(s3.subdirectory(), None);
}

#[tokio::test]
async fn create_task_without_a_task_report_sends_none() {
    let requests = Recorder::<CreateTaskInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_datasync::Client::create_task).then_compute_output(move |r| {
        seen.record(r);
        CreateTaskOutput::builder().task_arn(TASK).build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&create],
        ..Default::default()
    });
    let request = CreateTaskRequest {
        lane: "all".into(),
        name: "t".into(),
        source_location_arn: "arn:src".into(),
        target_location_arn: "arn:dst".into(),
        options: live_options(),
        includes: vec![],
        excludes: vec![],
        cloudwatch_log_group_arn: None,
        task_report: None,
        tags: support::plan_tags(&[]),
    };
    port.execute(&Command::CreateTask(request))
        .await
        .expect("created");
    assert_eq!(requests.only().task_report_config(), None);
}

#[tokio::test]
async fn start_execution_sends_per_kind_overrides_final_removes_deleted_files() {
    let (requests, mut port) = recording_starts();
    let runs = [
        (
            SyncKind::Initial,
            TaskOptions {
                transfer_mode: TransferMode::All,
                ..live_options()
            },
        ),
        (SyncKind::Incremental, live_options()),
        (
            SyncKind::Final,
            TaskOptions {
                preserve_deleted_files: PreserveDeletedFiles::Remove,
                verify_mode: VerifyMode::PointInTimeConsistent,
                ..live_options()
            },
        ),
    ];
    for (kind, overrides) in runs {
        let request = StartExecutionRequest {
            task_arn: TASK.into(),
            kind,
            overrides,
            tags: support::plan_tags(&[("fsx-migrate:sync", &kind.to_string())]),
            bytes_per_second: None,
            includes: None,
        };
        let answer = port.execute(&Command::StartExecution(request)).await;
        assert_eq!(
            answer,
            Ok(Response::ExecutionStarted {
                arn: format!("{TASK}/execution/exec-1")
            })
        );
    }
    let sent = requests.all();
    let summary: Vec<_> = sent
        .iter()
        .map(|r| {
            let o = r.override_options().expect("override options");
            (
                o.transfer_mode().cloned(),
                o.preserve_deleted_files().cloned(),
                o.verify_mode().cloned(),
                o.security_descriptor_copy_flags().cloned(),
                o.log_level().cloned(),
            )
        })
        .collect();
    use ds::{
        LogLevel as L, PreserveDeletedFiles as P, SmbSecurityDescriptorCopyFlags as S, TransferMode as T,
        VerifyMode as V,
    };
    assert_eq!(
        summary,
        [
            (
                Some(T::All),
                Some(P::Preserve),
                Some(V::OnlyFilesTransferred),
                Some(S::OwnerDaclSacl),
                Some(L::Basic)
            ),
            (
                Some(T::Changed),
                Some(P::Preserve),
                Some(V::OnlyFilesTransferred),
                Some(S::OwnerDaclSacl),
                Some(L::Basic)
            ),
            (
                Some(T::Changed),
                Some(P::Remove),
                Some(V::PointInTimeConsistent),
                Some(S::OwnerDaclSacl),
                Some(L::Basic)
            ),
        ]
    );
    assert!(sent.iter().all(|r| r.task_arn() == Some(TASK)));
    assert_eq!(
        sent[2]
            .tags()
            .iter()
            .find(|t| t.key() == "fsx-migrate:sync")
            .and_then(|t| t.value()),
        Some("final")
    );
}

fn execution(n: u32) -> String {
    format!("{TASK}/execution/exec-{n:017}")
}

/// 2027-01-15T08:00:00Z plus `n` minutes: when execution `n` started.
fn started(n: u32) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_800_000_000 + i64::from(n) * 60).expect("timestamp")
}

fn start_time(n: u32) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(started(n).as_second())
}

/// The write-ahead record execution `n` was started for, 30 s before it started.
fn request_for(n: u32) -> CurrentSync {
    CurrentSync::requested(
        SyncKind::Incremental,
        started(n) - jiff::SignedDuration::from_secs(30),
        1,
    )
}

/// A task with executions 1..=8 listed oldest first over two pages; each is described with its own status
/// and StartTime and carries its own tags. Counts every DescribeTaskExecution and ListTagsForResource by ARN.
struct ExecutionHistory {
    list: aws_smithy_mocks::Rule,
    describe: aws_smithy_mocks::Rule,
    tags: aws_smithy_mocks::Rule,
    listed: Recorder<ListTaskExecutionsInput>,
    described: Recorder<String>,
    tagged: Recorder<String>,
}

fn execution_history() -> ExecutionHistory {
    let listed = Recorder::<ListTaskExecutionsInput>::new();
    let seen = listed.clone();
    let list = mock!(aws_sdk_datasync::Client::list_task_executions).then_compute_output(move |r| {
        seen.record(r);
        let entry = |n: u32| {
            ds::TaskExecutionListEntry::builder()
                .task_execution_arn(execution(n))
                .status(ds::TaskExecutionStatus::Success)
                .build()
        };
        let mut out = ListTaskExecutionsOutput::builder();
        match r.next_token() {
            None => {
                for n in 1..=3 {
                    out = out.task_executions(entry(n));
                }
                out.next_token("page-2").build()
            }
            Some(_) => {
                for n in 4..=8 {
                    out = out.task_executions(entry(n));
                }
                out.build()
            }
        }
    });
    let described = Recorder::<String>::new();
    let seen = described.clone();
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution).then_compute_output(move |r| {
        let arn = r.task_execution_arn().unwrap_or_default().to_string();
        seen.record(&arn);
        let n: u32 = arn
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("exec number");
        let out = DescribeTaskExecutionOutput::builder()
            .task_execution_arn(&arn)
            .status(if n == 8 {
                ds::TaskExecutionStatus::Transferring
            } else {
                ds::TaskExecutionStatus::Success
            });
        // Execution 5 has no StartTime (AWS did not say).
        if n == 5 {
            out.build()
        } else {
            out.start_time(start_time(n)).build()
        }
    });
    let tagged = Recorder::<String>::new();
    let seen = tagged.clone();
    let tags = mock!(aws_sdk_datasync::Client::list_tags_for_resource).then_compute_output(move |r| {
        let arn = r.resource_arn().unwrap_or_default().to_string();
        seen.record(&arn);
        let n: u32 = arn
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("exec number");
        ListTagsForResourceOutput::builder()
            .tags(tag(PLAN_TAG, "plan-42"))
            .tags(tag(SYNC_TAG, &request_for(n).sync_id()))
            .build()
    });
    ExecutionHistory {
        list,
        describe,
        tags,
        listed,
        described,
        tagged,
    }
}

#[tokio::test]
async fn find_execution_describes_the_newest_unknown_executions_newest_first_across_pages() {
    let history = execution_history();
    let mut port = support::port(Rules {
        datasync: vec![&history.list, &history.describe, &history.tags],
        ..Default::default()
    });
    let command = Command::FindExecution {
        task_arn: TASK.into(),
        known: vec![execution(1), execution(7)],
    };
    let began = std::time::Instant::now();
    let Ok(Response::ExecutionCandidates(candidates)) = port.execute(&command).await else {
        panic!("candidates")
    };
    // Five describes, never two in one second (a lower bound: it cannot flake).
    assert!(
        began.elapsed() >= std::time::Duration::from_secs(4),
        "{:?}",
        began.elapsed()
    );

    let candidate = |n: u32, status: ExecutionStatus, started_at: Option<u32>| ExecutionCandidate {
        arn: execution(n),
        status,
        started_at: started_at.map(started),
        tags: BTreeMap::from([
            (PLAN_TAG.to_string(), "plan-42".to_string()),
            (SYNC_TAG.to_string(), request_for(n).sync_id()),
        ]),
    };
    // Newest first; 7 and 1 are known; only the five newest unknown ones (8, 6, 5, 4, 3) are described.
    assert_eq!(
        candidates,
        [
            candidate(8, ExecutionStatus::Transferring, Some(8)),
            candidate(6, ExecutionStatus::Success, Some(6)),
            candidate(5, ExecutionStatus::Success, None),
            candidate(4, ExecutionStatus::Success, Some(4)),
            candidate(3, ExecutionStatus::Success, Some(3)),
        ]
    );
    let listed = history.listed.all();
    assert_eq!(listed.len(), 2, "ListTaskExecutions is paginated");
    assert!(listed.iter().all(|r| r.task_arn() == Some(TASK)));
    let expected: Vec<String> = [8, 6, 5, 4, 3].into_iter().map(execution).collect();
    assert_eq!(
        history.described.all(),
        expected,
        "known and older executions are not described"
    );
    assert_eq!(history.tagged.all(), expected, "each candidate's tags are read");
}

#[tokio::test]
async fn find_execution_with_every_execution_known_answers_no_candidates() {
    let history = execution_history();
    let mut port = support::port(Rules {
        datasync: vec![&history.list, &history.describe, &history.tags],
        ..Default::default()
    });
    let command = Command::FindExecution {
        task_arn: TASK.into(),
        known: (1..=8).map(execution).collect(),
    };
    assert_eq!(
        port.execute(&command).await,
        Ok(Response::ExecutionCandidates(vec![]))
    );
    assert_eq!(history.describe.num_calls(), 0);
    assert_eq!(history.tags.num_calls(), 0);
}

#[tokio::test]
async fn find_execution_of_a_task_without_executions_answers_no_candidates() {
    let list = mock!(aws_sdk_datasync::Client::list_task_executions)
        .then_output(|| ListTaskExecutionsOutput::builder().build());
    let mut port = support::port(Rules {
        datasync: vec![&list],
        ..Default::default()
    });
    let command = Command::FindExecution {
        task_arn: TASK.into(),
        known: vec![],
    };
    assert_eq!(
        port.execute(&command).await,
        Ok(Response::ExecutionCandidates(vec![]))
    );
}

#[tokio::test]
async fn find_execution_candidates_feed_the_core_adoption_rule() {
    // The adapter only reports; `choose_execution` (the core) adopts the execution tagged with this
    // request's sync id that started after the request: here execution 8.
    let history = execution_history();
    let mut port = support::port(Rules {
        datasync: vec![&history.list, &history.describe, &history.tags],
        ..Default::default()
    });
    let Ok(Response::ExecutionCandidates(candidates)) = port
        .execute(&Command::FindExecution {
            task_arn: TASK.into(),
            known: vec![],
        })
        .await
    else {
        panic!("candidates")
    };
    assert_eq!(
        choose_execution(&candidates, &request_for(8), "plan-42"),
        ExecutionChoice::Adopt(execution(8))
    );
    assert_eq!(
        choose_execution(&candidates, &request_for(8), "another-plan"),
        ExecutionChoice::WaitFor(execution(8)),
        "another plan's running execution is waited for, never adopted"
    );
    assert_eq!(
        choose_execution(&candidates, &request_for(9), "plan-42"),
        ExecutionChoice::WaitFor(execution(8)),
        "a newer request is not satisfied by an older execution"
    );
}

#[tokio::test]
async fn describe_execution_maps_start_time() {
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution).then_output(|| {
        DescribeTaskExecutionOutput::builder()
            .task_execution_arn("arn:exec-1")
            .status(ds::TaskExecutionStatus::Launching)
            .start_time(aws_smithy_types::DateTime::from_millis(1_800_000_000_250))
            .build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&describe],
        ..Default::default()
    });
    let Ok(Response::Execution(info)) = port
        .execute(&Command::DescribeExecution {
            execution_arn: "arn:exec-1".into(),
        })
        .await
    else {
        panic!("an execution");
    };
    assert_eq!(info.status, ExecutionStatus::Launching);
    assert_eq!(info.started_at, Some("2027-01-15T08:00:00.25Z".parse().unwrap()));
}

#[tokio::test]
async fn start_execution_sends_the_plan_source_and_sync_tags_it_is_given() {
    let requests = Recorder::<StartTaskExecutionInput>::new();
    let seen = requests.clone();
    let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_compute_output(move |r| {
        seen.record(r);
        StartTaskExecutionOutput::builder()
            .task_execution_arn(execution(1))
            .build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&start],
        ..Default::default()
    });
    let request = StartExecutionRequest {
        task_arn: TASK.into(),
        kind: SyncKind::Final,
        overrides: live_options(),
        tags: support::plan_tags(&[
            (SOURCE_TAG, "fs-0source000000001"),
            (SYNC_TAG, "final-r2-1800000000"),
        ]),
        bytes_per_second: None,
        includes: None,
    };
    port.execute(&Command::StartExecution(request))
        .await
        .expect("started");
    let tags: Vec<(String, Option<String>)> = requests
        .only()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().map(str::to_string)))
        .collect();
    assert_eq!(
        tags,
        [
            (PLAN_TAG.to_string(), Some("plan-42".to_string())),
            (SOURCE_TAG.to_string(), Some("fs-0source000000001".to_string())),
            (SYNC_TAG.to_string(), Some("final-r2-1800000000".to_string())),
        ]
    );
}

#[tokio::test]
async fn describe_execution_maps_counters_and_phase_durations() {
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution)
        .match_requests(|r| r.task_execution_arn() == Some("arn:exec-1"))
        .then_output(|| {
            DescribeTaskExecutionOutput::builder()
                .task_execution_arn("arn:exec-1")
                .status(ds::TaskExecutionStatus::Success)
                .estimated_files_to_transfer(1000)
                .estimated_bytes_to_transfer(5_000_000)
                .estimated_files_to_delete(7)
                .files_transferred(990)
                .bytes_transferred(4_900_000)
                .files_deleted(7)
                .files_verified(990)
                .files_skipped(10)
                .result(
                    ds::TaskExecutionResultDetail::builder()
                        .prepare_duration(60_000)
                        .transfer_duration(120_000)
                        .verify_duration(30_000)
                        .total_duration(215_000)
                        .build(),
                )
                .build()
        });
    let mut port = support::port(Rules {
        datasync: vec![&describe],
        ..Default::default()
    });
    let Ok(Response::Execution(info)) = port
        .execute(&Command::DescribeExecution {
            execution_arn: "arn:exec-1".into(),
        })
        .await
    else {
        panic!("an execution");
    };
    assert_eq!(info.arn, "arn:exec-1");
    assert_eq!(info.status, ExecutionStatus::Success);
    let c = &info.counters;
    assert_eq!(
        (
            c.estimated_files_to_transfer,
            c.estimated_bytes_to_transfer,
            c.estimated_files_to_delete
        ),
        (1000, 5_000_000, 7)
    );
    assert_eq!(
        (c.files_transferred, c.bytes_transferred, c.files_deleted),
        (990, 4_900_000, 7)
    );
    assert_eq!((c.files_verified, c.files_skipped), (990, 10));
    let d = &info.durations;
    assert_eq!(
        (d.prepare_ms, d.transfer_ms, d.verify_ms, d.total_ms),
        (60_000, 120_000, 30_000, 215_000)
    );
    assert_eq!((info.error_code, info.error_detail), (None, None));
}

#[tokio::test]
async fn a_limit_goes_out_as_bytes_per_second_on_start_and_on_update() {
    use aws_sdk_datasync::operation::start_task_execution::{
        StartTaskExecutionInput, StartTaskExecutionOutput,
    };
    use aws_sdk_datasync::operation::update_task_execution::{
        UpdateTaskExecutionInput, UpdateTaskExecutionOutput,
    };
    let starts = Recorder::<StartTaskExecutionInput>::new();
    let seen = starts.clone();
    let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_compute_output(move |r| {
        seen.record(r);
        StartTaskExecutionOutput::builder()
            .task_execution_arn(format!("{TASK}/execution/exec-1"))
            .build()
    });
    let updates = Recorder::<UpdateTaskExecutionInput>::new();
    let seen = updates.clone();
    let update = mock!(aws_sdk_datasync::Client::update_task_execution).then_compute_output(move |r| {
        seen.record(r);
        UpdateTaskExecutionOutput::builder().build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&start, &update],
        ..Default::default()
    });
    let request = StartExecutionRequest {
        task_arn: TASK.into(),
        kind: SyncKind::Initial,
        overrides: TaskOptions {
            transfer_mode: TransferMode::Changed,
            verify_mode: VerifyMode::OnlyFilesTransferred,
            preserve_deleted_files: PreserveDeletedFiles::Preserve,
            security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
            log_level: fsx_migrate::cloud::model::LogLevel::Off,
        },
        tags: BTreeMap::new(),
        bytes_per_second: Some(50 << 20),
        includes: None,
    };
    assert!(port.execute(&Command::StartExecution(request)).await.is_ok());
    let sent = starts.only();
    assert_eq!(
        sent.override_options().and_then(|o| o.bytes_per_second()),
        Some(50 << 20)
    );
    for (limit, expected) in [(Some(10u64 << 20), 10 << 20), (None, -1)] {
        let answer = port
            .execute(&Command::LimitExecution {
                execution_arn: format!("{TASK}/execution/exec-1"),
                bytes_per_second: limit,
            })
            .await;
        assert!(
            matches!(answer, Ok(Response::ExecutionLimited { .. })),
            "{answer:?}"
        );
        let last = updates.all().last().cloned().unwrap();
        assert_eq!(last.options().and_then(|o| o.bytes_per_second()), Some(expected));
    }
}

#[tokio::test]
async fn running_executions_lists_only_those_not_ended_and_an_unknown_status_counts_as_running() {
    let list = mock!(aws_sdk_datasync::Client::list_task_executions).then_output(|| {
        let entry = |id: &str, status: &str| {
            ds::TaskExecutionListEntry::builder()
                .task_execution_arn(format!("{TASK}/execution/{id}"))
                .status(ds::TaskExecutionStatus::from(status))
                .build()
        };
        ListTaskExecutionsOutput::builder()
            .task_executions(entry("exec-old", "SUCCESS"))
            .task_executions(entry("exec-failed", "ERROR"))
            .task_executions(entry("exec-cancelling", "CANCELLING"))
            .task_executions(entry("exec-new", "SOMETHING_NEW"))
            .build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&list],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::RunningExecutions {
            task_arn: TASK.into(),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::RunningExecutions(vec![
            format!("{TASK}/execution/exec-cancelling"),
            format!("{TASK}/execution/exec-new"),
        ]))
    );
}

#[tokio::test]
async fn cancel_and_deletes_send_the_arn_they_name() {
    use aws_sdk_datasync::operation::cancel_task_execution::{
        CancelTaskExecutionInput, CancelTaskExecutionOutput,
    };
    use aws_sdk_datasync::operation::delete_location::{DeleteLocationInput, DeleteLocationOutput};
    use aws_sdk_datasync::operation::delete_task::{DeleteTaskInput, DeleteTaskOutput};
    let cancels = Recorder::<CancelTaskExecutionInput>::new();
    let seen = cancels.clone();
    let cancel = mock!(aws_sdk_datasync::Client::cancel_task_execution).then_compute_output(move |r| {
        seen.record(r);
        CancelTaskExecutionOutput::builder().build()
    });
    let tasks = Recorder::<DeleteTaskInput>::new();
    let seen = tasks.clone();
    let delete_task = mock!(aws_sdk_datasync::Client::delete_task).then_compute_output(move |r| {
        seen.record(r);
        DeleteTaskOutput::builder().build()
    });
    let locations = Recorder::<DeleteLocationInput>::new();
    let seen = locations.clone();
    let delete_location = mock!(aws_sdk_datasync::Client::delete_location).then_compute_output(move |r| {
        seen.record(r);
        DeleteLocationOutput::builder().build()
    });
    let mut port = support::port(Rules {
        datasync: vec![&cancel, &delete_task, &delete_location],
        ..Default::default()
    });
    let execution = format!("{TASK}/execution/exec-1");
    let location = "arn:aws:datasync:us-east-1:111122223333:location/loc-0123456789abcdef0";
    assert_eq!(
        port.execute(&Command::CancelExecution {
            execution_arn: execution.clone()
        })
        .await,
        Ok(Response::ExecutionCancelled)
    );
    assert_eq!(
        port.execute(&Command::DeleteTask {
            task_arn: TASK.into()
        })
        .await,
        Ok(Response::Deleted { id: TASK.into() })
    );
    assert_eq!(
        port.execute(&Command::DeleteLocation {
            location_arn: location.into()
        })
        .await,
        Ok(Response::Deleted { id: location.into() })
    );
    assert_eq!(cancels.only().task_execution_arn(), Some(execution.as_str()));
    assert_eq!(tasks.only().task_arn(), Some(TASK));
    assert_eq!(locations.only().location_arn(), Some(location));
}

#[tokio::test]
async fn a_refused_delete_is_an_error_the_core_checks_by_tag_not_a_success() {
    let delete_task = mock!(aws_sdk_datasync::Client::delete_task).then_http_response(|| {
        support::json_error(
            400,
            "InvalidRequestException",
            "Request references a resource which does not exist.",
        )
    });
    let mut port = support::port(Rules {
        datasync: vec![&delete_task],
        ..Default::default()
    });
    let err = port
        .execute(&Command::DeleteTask {
            task_arn: TASK.into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.operation, "datasync:DeleteTask");
    assert_eq!(delete_task.num_calls(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn a_checks_probes_go_out_as_the_executions_own_includes_and_a_syncs_keep_the_tasks() {
    let (starts, mut port) = recording_starts();
    let probes = vec![
        "/.fsx-migrate-check".to_string(),
        "/Dept1/.fsx-migrate-check".to_string(),
    ];
    let options = TaskOptions {
        verify_mode: VerifyMode::None,
        ..live_options()
    };
    let check = StartExecutionRequest {
        task_arn: TASK.into(),
        kind: SyncKind::Check,
        overrides: options.clone(),
        tags: BTreeMap::new(),
        bytes_per_second: None,
        includes: Some(probes),
    };
    assert!(
        port.execute(&Command::StartExecution(check.clone()))
            .await
            .is_ok()
    );
    let sent = starts.all()[0].clone();
    let rules = sent.includes();
    assert_eq!(rules.len(), 1, "DataSync takes one filter rule");
    assert_eq!(rules[0].filter_type(), Some(&ds::FilterType::SimplePattern));
    assert_eq!(
        rules[0].value(),
        Some("/.fsx-migrate-check|/Dept1/.fsx-migrate-check")
    );
    let o = sent.override_options().unwrap();
    assert_eq!(o.verify_mode(), Some(&ds::VerifyMode::None));
    assert_eq!(
        o.preserve_deleted_files(),
        Some(&ds::PreserveDeletedFiles::Preserve)
    );

    let sync = StartExecutionRequest {
        kind: SyncKind::Initial,
        includes: None,
        ..check
    };
    assert!(port.execute(&Command::StartExecution(sync)).await.is_ok());
    let sent = starts.all();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].includes().is_empty(),
        "a sync runs on its task's own filters"
    );
}
