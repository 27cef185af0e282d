//! Error handling: throttling retried by the SDK, refusals surfaced with AWS's code and message,
//! failed and unknown-status executions reported without a crash.

use aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput;
use aws_sdk_datasync::types as ds;
use aws_sdk_fsx::operation::create_file_system::CreateFileSystemError;
use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_fsx::types as fsx;
use aws_sdk_route53::operation::get_change::GetChangeOutput;
use aws_sdk_route53::types::{ChangeInfo, ChangeStatus as R53Status};
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;

use fsx_migrate::cloud::model::{ChangeStatus, ExecutionStatus, Lifecycle};
use fsx_migrate::cloud::port::{CloudPort, Command, CreateTargetRequest, ErrorClass, Response};

use super::support::{self, Rules};

fn describe_command() -> Command {
    Command::DescribeFileSystem {
        file_system_id: "fs-0target000000001".into(),
    }
}

fn available() -> DescribeFileSystemsOutput {
    DescribeFileSystemsOutput::builder()
        .file_systems(
            fsx::FileSystem::builder()
                .file_system_id("fs-0target000000001")
                .lifecycle(fsx::FileSystemLifecycle::Available)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_succeeds() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .sequence()
        .http_response(|| support::json_error(400, "ThrottlingException", "Rate exceeded"))
        .times(2)
        .output(available)
        .build();
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let Ok(Response::FileSystem(fs)) = port.execute(&describe_command()).await else {
        panic!("retried to success")
    };
    assert_eq!(fs.lifecycle, Lifecycle::Available);
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn route53_throttling_and_5xx_are_retried_too() {
    let get = mock!(aws_sdk_route53::Client::get_change)
        .sequence()
        .http_response(|| support::xml_error(400, "Throttling", "Rate exceeded"))
        .http_status(503, None)
        .output(|| {
            GetChangeOutput::builder()
                .change_info(
                    ChangeInfo::builder()
                        .id("/change/C1")
                        .status(R53Status::Insync)
                        .submitted_at(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .build();
    let mut port = support::port(Rules {
        route53: vec![&get],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::GetChange {
            change_id: "C1".into(),
            name_service: None,
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::Change {
            id: "C1".into(),
            status: ChangeStatus::InSync
        })
    );
    assert_eq!(get.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_never_stops_is_reported_as_throttled() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .sequence()
        .http_response(|| support::json_error(400, "ThrottlingException", "Rate exceeded"))
        .repeatedly()
        .build();
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let err = port.execute(&describe_command()).await.expect_err("gives up");
    assert_eq!(err.class, ErrorClass::Throttled);
    assert!(err.class.is_retryable());
    assert_eq!(err.code, "ThrottlingException");
    assert_eq!(err.operation, "fsx:DescribeFileSystems");
    assert_eq!(describe.num_calls(), 3, "max attempts of the test retry policy");
}

#[tokio::test]
async fn server_errors_that_persist_are_transient() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .sequence()
        .http_response(|| support::json_error(500, "InternalServerError", "Something broke"))
        .repeatedly()
        .build();
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let err = port.execute(&describe_command()).await.expect_err("gives up");
    assert_eq!(err.class, ErrorClass::Transient);
    assert_eq!(err.code, "InternalServerError");
}

fn create_request() -> CreateTargetRequest {
    let mut settings = support::settings();
    settings.active_directory = None;
    CreateTargetRequest {
        client_request_token: "fsx-migrate-plan-42-target".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        preferred_subnet_id: "subnet-a".into(),
        security_group_ids: vec!["sg-1".into()],
        ad_join_password: None,
        settings,
        tags: support::plan_tags(&[]),
    }
}

#[tokio::test]
async fn bad_request_is_rejected_with_the_aws_message_and_not_retried() {
    let create = mock!(aws_sdk_fsx::Client::create_file_system).then_http_response(|| {
        support::json_error(
            400,
            "BadRequest",
            "Multi-AZ file systems are not supported in this Availability Zone.",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&create],
        ..Default::default()
    });
    let err = port
        .execute(&Command::CreateTarget(create_request()))
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert!(!err.class.is_retryable());
    assert_eq!(err.operation, "fsx:CreateFileSystem");
    assert_eq!(err.code, "BadRequest");
    assert_eq!(
        err.message,
        "Multi-AZ file systems are not supported in this Availability Zone."
    );
    assert_eq!(
        err.to_string(),
        "fsx:CreateFileSystem failed: BadRequest: Multi-AZ file systems are not supported in this Availability Zone."
    );
    assert_eq!(create.num_calls(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn incompatible_parameter_error_on_a_reused_token_is_rejected_with_the_aws_message() {
    let create = mock!(aws_sdk_fsx::Client::create_file_system).then_error(|| {
        CreateFileSystemError::IncompatibleParameterError(
            fsx::error::IncompatibleParameterError::builder()
                .parameter("ClientRequestToken")
                .message("The client request token matches a file system created with different parameters.")
                .meta(
                    ErrorMetadata::builder()
                        .code("IncompatibleParameterError")
                        .message("The client request token matches a file system created with different parameters.")
                        .build(),
                )
                .build(),
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&create],
        ..Default::default()
    });
    let err = port
        .execute(&Command::CreateTarget(create_request()))
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.code, "IncompatibleParameterError");
    assert_eq!(
        err.message,
        "The client request token matches a file system created with different parameters."
    );
}

#[tokio::test]
async fn access_denied_carries_a_hint_about_the_iam_policy() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_http_response(|| {
        support::json_error(
            400,
            "AccessDeniedException",
            "User is not authorized to perform fsx:DescribeFileSystems",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let err = port.execute(&describe_command()).await.expect_err("denied");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.code, "AccessDeniedException");
    assert!(
        err.message
            .starts_with("User is not authorized to perform fsx:DescribeFileSystems")
    );
    assert!(err.message.contains("docs/aws-permissions.md"), "{}", err.message);
}

#[tokio::test]
async fn datasync_invalid_request_is_rejected() {
    let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_http_response(|| {
        support::json_error(400, "InvalidRequestException", "Task is already running.")
    });
    let mut port = support::port(Rules {
        datasync: vec![&start],
        ..Default::default()
    });
    let request = fsx_migrate::cloud::port::StartExecutionRequest {
        task_arn: "arn:task".into(),
        kind: fsx_migrate::cloud::model::SyncKind::Incremental,
        overrides: fsx_migrate::cloud::port::TaskOptions {
            transfer_mode: fsx_migrate::cloud::port::TransferMode::Changed,
            verify_mode: fsx_migrate::cloud::model::VerifyMode::OnlyFilesTransferred,
            preserve_deleted_files: fsx_migrate::cloud::port::PreserveDeletedFiles::Preserve,
            security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
            log_level: fsx_migrate::cloud::model::LogLevel::Off,
        },
        tags: support::plan_tags(&[]),
        bytes_per_second: None,
        includes: None,
    };
    let err = port
        .execute(&Command::StartExecution(request))
        .await
        .expect_err("refused");
    assert_eq!(
        (
            err.class,
            err.operation.as_str(),
            err.code.as_str(),
            err.message.as_str()
        ),
        (
            ErrorClass::Rejected,
            "datasync:StartTaskExecution",
            "InvalidRequestException",
            "Task is already running."
        )
    );
}

#[tokio::test]
async fn an_execution_that_ended_in_error_is_reported_with_its_code_and_detail() {
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution).then_output(|| {
        DescribeTaskExecutionOutput::builder()
            .task_execution_arn("arn:exec-9")
            .status(ds::TaskExecutionStatus::Error)
            .result(
                ds::TaskExecutionResultDetail::builder()
                    .prepare_duration(1_000)
                    .prepare_status(ds::PhaseStatus::Error)
                    .error_code("SmbAuthenticationFailed")
                    .error_detail(
                        "Unable to connect to the SMB server: the user name or password is incorrect.",
                    )
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
            execution_arn: "arn:exec-9".into(),
        })
        .await
    else {
        panic!("an ERROR execution is an answer, not a failed call");
    };
    assert_eq!(info.status, ExecutionStatus::Error);
    assert!(info.status.is_terminal());
    assert_eq!(info.error_code.as_deref(), Some("SmbAuthenticationFailed"));
    assert_eq!(
        info.error_detail.as_deref(),
        Some("Unable to connect to the SMB server: the user name or password is incorrect.")
    );
    assert_eq!(info.durations.prepare_ms, 1_000);
}

#[tokio::test]
async fn an_unknown_execution_status_is_unknown_not_a_crash() {
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution).then_http_response(|| {
        support::http(
            200,
            r#"{"TaskExecutionArn":"arn:exec-1","Status":"INITIALIZING","BytesTransferred":0}"#,
        )
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
    assert_eq!(info.status, ExecutionStatus::Unknown("INITIALIZING".into()));
    assert!(
        !info.status.is_terminal(),
        "unknown statuses count as still running"
    );
}

#[tokio::test]
async fn an_ec2_refusal_during_inspect_names_the_ec2_operation() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(
                fsx::FileSystem::builder()
                    .file_system_id("fs-0source000000001")
                    .network_interface_ids("eni-1")
                    .build(),
            )
            .build()
    });
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_http_response(|| {
        support::http(
            403,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code>\
             <Message>You are not authorized to perform this operation.</Message></Error></Errors>\
             <RequestID>r-1</RequestID></Response>",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ec2: vec![&enis],
        ..Default::default()
    });
    let request = fsx_migrate::cloud::port::InspectRequest {
        source_file_system_id: "fs-0source000000001".into(),
        subnet_ids: vec![],
        hosted_zone_id: "Z1".into(),
        record_name: "files.corp.example.com".into(),
        name_service: None,
        password_sources: vec![],
        security_group_ids: None,
    };
    let err = port
        .execute(&Command::Inspect(request))
        .await
        .expect_err("denied");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.operation, "ec2:DescribeNetworkInterfaces");
    assert_eq!(err.code, "UnauthorizedOperation");
    assert!(
        err.message
            .starts_with("You are not authorized to perform this operation."),
        "{}",
        err.message
    );
    assert!(err.message.contains("docs/aws-permissions.md"));
}

#[tokio::test]
async fn a_missing_password_secret_stops_before_datasync_is_called() {
    let secret = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_http_response(|| {
        support::json_error(
            400,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        )
    });
    let mut port = support::port(Rules {
        secrets: vec![&secret],
        ..Default::default()
    });
    let request = fsx_migrate::cloud::port::CreateLocationRequest {
        side: fsx_migrate::cloud::model::Side::Target,
        file_system_arn: support::SOURCE_ARN.into(),
        security_group_ids: vec!["sg-1".into()],
        subdirectory: "/share".into(),
        user: "svc-datasync".into(),
        domain: "CORP".into(),
        password: fsx_migrate::cloud::model::PasswordSource::SecretsManager("missing".into()),
        tags: support::plan_tags(&[]),
    };
    let err = port
        .execute(&Command::CreateLocation(request))
        .await
        .expect_err("no secret");
    assert_eq!(err.operation, "secretsmanager:GetSecretValue");
    assert_eq!(err.code, "ResourceNotFoundException");
    assert!(!err.class.is_retryable());
}

fn task_request() -> fsx_migrate::cloud::port::CreateTaskRequest {
    fsx_migrate::cloud::port::CreateTaskRequest {
        lane: "all".into(),
        name: "fsx-migrate plan-42".into(),
        source_location_arn: "arn:src".into(),
        target_location_arn: "arn:dst".into(),
        options: sync_options(),
        includes: vec![],
        excludes: vec![],
        cloudwatch_log_group_arn: None,
        task_report: None,
        tags: support::plan_tags(&[]),
    }
}

fn sync_options() -> fsx_migrate::cloud::port::TaskOptions {
    fsx_migrate::cloud::port::TaskOptions {
        transfer_mode: fsx_migrate::cloud::port::TransferMode::Changed,
        verify_mode: fsx_migrate::cloud::model::VerifyMode::OnlyFilesTransferred,
        preserve_deleted_files: fsx_migrate::cloud::port::PreserveDeletedFiles::Preserve,
        security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
        log_level: fsx_migrate::cloud::model::LogLevel::Off,
    }
}

/// The three DataSync commands whose operation has no client token, each with the mock rule answering it
/// with `error` every time.
fn creates_without_a_token(
    error: fn() -> aws_smithy_runtime_api::client::orchestrator::HttpResponse,
) -> Vec<(Command, &'static str, aws_smithy_mocks::Rule)> {
    let location = fsx_migrate::cloud::port::CreateLocationRequest {
        side: fsx_migrate::cloud::model::Side::Source,
        file_system_arn: support::SOURCE_ARN.into(),
        security_group_ids: vec!["sg-1".into()],
        subdirectory: "/share".into(),
        user: "svc-datasync".into(),
        domain: "CORP".into(),
        password: fsx_migrate::cloud::model::PasswordSource::SecretsManager("smb".into()),
        tags: support::plan_tags(&[]),
    };
    let start = fsx_migrate::cloud::port::StartExecutionRequest {
        task_arn: "arn:task".into(),
        kind: fsx_migrate::cloud::model::SyncKind::Final,
        overrides: sync_options(),
        tags: support::plan_tags(&[]),
        bytes_per_second: None,
        includes: None,
    };
    vec![
        (
            Command::CreateLocation(location),
            "datasync:CreateLocationFsxWindows",
            mock!(aws_sdk_datasync::Client::create_location_fsx_windows)
                .sequence()
                .http_response(error)
                .repeatedly()
                .build(),
        ),
        (
            Command::CreateTask(task_request()),
            "datasync:CreateTask",
            mock!(aws_sdk_datasync::Client::create_task)
                .sequence()
                .http_response(error)
                .repeatedly()
                .build(),
        ),
        (
            Command::StartExecution(start),
            "datasync:StartTaskExecution",
            mock!(aws_sdk_datasync::Client::start_task_execution)
                .sequence()
                .http_response(error)
                .repeatedly()
                .build(),
        ),
    ]
}

fn smb_password() -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(|| {
        aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput::builder()
            .secret_string(support::PASSWORD)
            .build()
    })
}

#[tokio::test]
async fn a_5xx_on_a_create_without_a_token_is_sent_once_and_left_to_the_core() {
    for error in [
        (|| support::json_error(500, "InternalException", "We encountered an internal error.")) as fn() -> _,
        || support::http(503, ""),
    ] {
        for (command, operation, rule) in creates_without_a_token(error) {
            assert!(!command.is_idempotent(), "{operation}");
            let secret = smb_password();
            let mut port = support::port(Rules {
                datasync: vec![&rule],
                secrets: vec![&secret],
                ..Default::default()
            });
            let err = port.execute(&command).await.expect_err("a server error");
            assert_eq!(rule.num_calls(), 1, "{operation} was resent by the SDK");
            assert_eq!(err.class, ErrorClass::Transient, "{operation}: {err}");
            assert_eq!(err.operation, operation);
        }
    }
}

#[tokio::test]
async fn the_same_5xx_on_an_idempotent_read_is_retried_by_the_sdk() {
    let describe = mock!(aws_sdk_datasync::Client::describe_task_execution)
        .sequence()
        .http_response(|| support::json_error(500, "InternalException", "internal error"))
        .repeatedly()
        .build();
    let mut port = support::port(Rules {
        datasync: vec![&describe],
        ..Default::default()
    });
    let err = port
        .execute(&Command::DescribeExecution {
            execution_arn: "arn:exec-1".into(),
        })
        .await
        .expect_err("gives up");
    assert_eq!(err.class, ErrorClass::Transient);
    assert_eq!(describe.num_calls(), 3, "max attempts of the test retry policy");
}

#[tokio::test]
async fn throttling_on_a_create_without_a_token_is_still_retried_by_the_sdk() {
    let create = mock!(aws_sdk_datasync::Client::create_task)
        .sequence()
        .http_response(|| support::json_error(400, "ThrottlingException", "Rate exceeded"))
        .output(|| {
            aws_sdk_datasync::operation::create_task::CreateTaskOutput::builder()
                .task_arn("arn:task")
                .build()
        })
        .build();
    let mut port = support::port(Rules {
        datasync: vec![&create],
        ..Default::default()
    });
    assert_eq!(
        port.execute(&Command::CreateTask(task_request())).await,
        Ok(Response::TaskCreated {
            arn: "arn:task".into()
        })
    );
    assert_eq!(create.num_calls(), 2, "a throttled request did not act: resent");
}

/// An HTTP client whose requests never get an answer; counts how many were sent.
#[derive(Debug, Clone, Default)]
struct Unanswered(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_smithy_runtime_api::client::http::HttpConnector for Unanswered {
    fn call(
        &self,
        _request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(std::future::pending())
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for Unanswered {
    fn http_connector(
        &self,
        _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

/// A DataSync client (standard retries, 1 ms backoff) whose every attempt times out after 50 ms.
fn timing_out_datasync(sent: &Unanswered) -> aws_sdk_datasync::Client {
    let sent = sent.clone();
    let any = mock!(aws_sdk_datasync::Client::create_task).then_http_response(|| support::http(200, "{}"));
    let read = mock!(aws_sdk_datasync::Client::describe_task_execution)
        .then_http_response(|| support::http(200, "{}"));
    aws_smithy_mocks::mock_client!(
        aws_sdk_datasync,
        aws_smithy_mocks::RuleMode::MatchAny,
        [&any, &read],
        |c| c
            .retry_config(support::fast_retries())
            .http_client(sent.clone())
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(std::time::Duration::from_millis(50))
                    .build()
            )
    )
}

#[tokio::test]
async fn a_timeout_on_create_task_is_attempted_once_and_reported_transient() {
    let sent = Unanswered::default();
    let client = timing_out_datasync(&sent);
    let err = fsx_migrate::aws::datasync::create_task(&client, &task_request())
        .await
        .expect_err("timed out");
    assert_eq!(
        sent.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "CreateTask was resent after a timeout"
    );
    assert_eq!(
        (err.class, err.operation.as_str(), err.code.as_str()),
        (ErrorClass::Transient, "datasync:CreateTask", "Timeout")
    );
    assert!(err.message.contains("timed out"), "{}", err.message);

    // The same timeout on a read is retried (3 attempts in the test policy).
    let sent = Unanswered::default();
    let client = timing_out_datasync(&sent);
    let err = fsx_migrate::aws::datasync::describe_execution(&client, "arn:exec-1")
        .await
        .expect_err("timed out");
    assert_eq!(err.class, ErrorClass::Transient);
    assert_eq!(sent.0.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// An FSx client whose credentials provider fails with `error` (counting the calls), answering
/// DescribeFileSystems if a request were ever signed.
fn fsx_with_credentials(
    error: fn() -> aws_credential_types::provider::error::CredentialsError,
    calls: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> (aws_sdk_fsx::Client, aws_smithy_mocks::Rule) {
    // An HTTP answer, not a modeled output: the mock sets modeled outputs even on a request that failed
    // before it was sent, which would hide the credentials error.
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .then_http_response(|| support::http(200, r#"{"FileSystems":[]}"#));
    let calls = std::sync::Arc::clone(calls);
    let provider = aws_credential_types::provider::SharedCredentialsProvider::new(
        aws_credential_types::credential_fn::provide_credentials_fn(move || {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Err(error()) }
        }),
    );
    let client = aws_smithy_mocks::mock_client!(
        aws_sdk_fsx,
        aws_smithy_mocks::RuleMode::MatchAny,
        [&describe],
        |c| c
            .retry_config(support::fast_retries())
            .credentials_provider(provider.clone())
    );
    (client, describe)
}

async fn describe_with(client: aws_sdk_fsx::Client) -> fsx_migrate::cloud::port::CloudError {
    let mut port = support::port_with_fsx(client);
    port.execute(&describe_command())
        .await
        .expect_err("no credentials")
}

#[tokio::test]
async fn no_credentials_in_the_chain_is_a_credentials_error_not_a_network_one() {
    let calls = std::sync::Arc::default();
    let (client, _) = fsx_with_credentials(
        || {
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )
        },
        &calls,
    );
    let err = describe_with(client).await;
    assert_eq!(err.class, ErrorClass::Credentials, "{err}");
    assert!(!err.class.is_retryable());
    assert_eq!(err.operation, "fsx:DescribeFileSystems");
    assert_eq!(err.code, "NoCredentials");
    assert!(
        err.message.contains("no valid AWS credentials")
            && err.message.contains("no providers in chain provided credentials"),
        "{}",
        err.message
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the SDK does not retry a missing credential"
    );
}

#[tokio::test]
async fn an_expired_sso_token_is_a_credentials_error() {
    let calls = std::sync::Arc::default();
    let (client, _) = fsx_with_credentials(
        || {
            aws_credential_types::provider::error::CredentialsError::provider_error(
                "the SSO token has expired and cannot be refreshed",
            )
        },
        &calls,
    );
    let err = describe_with(client).await;
    assert_eq!(
        (err.class, err.code.as_str()),
        (ErrorClass::Credentials, "CredentialsError")
    );
    assert!(
        err.message.contains("the SSO token has expired"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_client_without_any_credentials_provider_is_a_credentials_error() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .then_http_response(|| support::http(200, r#"{"FileSystems":[]}"#));
    let config = aws_sdk_fsx::Config::builder()
        .behavior_version(aws_sdk_fsx::config::BehaviorVersion::latest())
        .region(aws_sdk_fsx::config::Region::new("eu-west-1"))
        .retry_config(support::fast_retries())
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(aws_smithy_mocks::MockResponseInterceptor::new().with_rule(&describe))
        .build();
    let err = describe_with(aws_sdk_fsx::Client::from_conf(config)).await;
    assert_eq!(
        (err.class, err.code.as_str()),
        (ErrorClass::Credentials, "NoCredentials"),
        "{err}"
    );
    assert!(
        err.message.contains("no AWS credentials could be loaded"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn expired_or_unknown_credentials_answered_by_aws_are_credentials_errors() {
    for (code, message) in [
        (
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        ("ExpiredToken", "The provided token has expired."),
    ] {
        let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
            .sequence()
            .http_response(move || support::json_error(400, code, message))
            .repeatedly()
            .build();
        let mut port = support::port(Rules {
            fsx: vec![&describe],
            ..Default::default()
        });
        let err = port.execute(&describe_command()).await.expect_err(code);
        assert_eq!((err.class, err.code.as_str()), (ErrorClass::Credentials, code));
        assert!(err.message.starts_with(message), "{}", err.message);
        assert!(
            err.message.contains("expired or not recognised"),
            "{}",
            err.message
        );
        assert_eq!(describe.num_calls(), 1, "{code} is not retried");
    }
    // Route 53 answers in XML with HTTP 403.
    let get = mock!(aws_sdk_route53::Client::get_change).then_http_response(|| {
        let mut response = support::xml_error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
        *response.status_mut() = 403.try_into().unwrap();
        response
    });
    let mut port = support::port(Rules {
        route53: vec![&get],
        ..Default::default()
    });
    let err = port
        .execute(&Command::GetChange {
            change_id: "C1".into(),
            name_service: None,
        })
        .await
        .expect_err("expired");
    assert_eq!(err.class, ErrorClass::Credentials);
}
