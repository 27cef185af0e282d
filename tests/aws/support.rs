//! Shared helpers for the AWS adapter tests: mocked clients with fast retries, request recorders, raw
//! HTTP responses for error and unknown-value cases, and sample plan data.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;

use fsx_migrate::aws::AwsPort;
use fsx_migrate::cloud::model::{ActiveDirectory, AuditLog, DiskIops, FileSystemSettings, StorageType};

/// Retries like production (standard mode) but with 1 ms backoff, so retry tests take no time.
pub fn fast_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

/// Rules for each of the six clients; a client with no rules panics if it is called at all.
#[derive(Default)]
pub struct Rules<'a> {
    pub fsx: Vec<&'a Rule>,
    pub datasync: Vec<&'a Rule>,
    pub route53: Vec<&'a Rule>,
    pub ec2: Vec<&'a Rule>,
    pub secrets: Vec<&'a Rule>,
    pub logs: Vec<&'a Rule>,
    pub ssm: Vec<&'a Rule>,
}

/// An [`AwsPort`] whose clients answer from mock rules (tried in any order).
pub fn port(mut rules: Rules<'_>) -> AwsPort {
    let fsx = mock_client!(
        aws_sdk_fsx,
        RuleMode::MatchAny,
        std::mem::take(&mut rules.fsx),
        |c| c.retry_config(fast_retries())
    );
    port_with_fsx_and(fsx, rules)
}

/// An [`AwsPort`] with this FSx client and mock clients without rules for the other services.
pub fn port_with_fsx(fsx: aws_sdk_fsx::Client) -> AwsPort {
    port_with_fsx_and(fsx, Rules::default())
}

fn port_with_fsx_and(fsx: aws_sdk_fsx::Client, rules: Rules<'_>) -> AwsPort {
    let datasync = mock_client!(aws_sdk_datasync, RuleMode::MatchAny, rules.datasync, |c| c
        .retry_config(fast_retries()));
    let route53 = mock_client!(aws_sdk_route53, RuleMode::MatchAny, rules.route53, |c| c
        .retry_config(fast_retries()));
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules.ec2, |c| c
        .retry_config(fast_retries()));
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, rules.secrets, |c| c
        .retry_config(fast_retries()));
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules.logs, |c| c
        .retry_config(fast_retries()));
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, rules.ssm, |c| c
        .retry_config(fast_retries()));
    AwsPort::from_clients(fsx, datasync, route53, ec2, secrets, logs, ssm)
}

/// Keeps a copy of every request a mock rule saw, for assertions after the call.
pub struct Recorder<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Clone> Recorder<T> {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Vec::new())))
    }
    pub fn record(&self, request: &T) {
        self.0.lock().expect("recorder lock").push(request.clone());
    }
    pub fn all(&self) -> Vec<T> {
        self.0.lock().expect("recorder lock").clone()
    }
    pub fn only(&self) -> T {
        let all = self.all();
        assert_eq!(all.len(), 1, "expected exactly one request");
        all[0].clone()
    }
}

/// A raw HTTP response (status + body) for the SDK to parse, like the service would send it.
pub fn http(status: u16, body: &str) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        SdkBody::from(body.to_string()),
    )
}

/// A JSON-protocol error body (FSx, DataSync, Secrets Manager).
pub fn json_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(status, &format!(r#"{{"__type":"{code}","Message":"{message}"}}"#))
}

/// A Route 53 (REST-XML) error body.
pub fn xml_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(
        status,
        &format!(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>r-1</RequestId></ErrorResponse>"
        ),
    )
}

/// The listings Inspect makes to find what fsx-migrate created for the source (FindMigrationResources),
/// answering that nothing was: FSx DescribeFileSystems without ids, and DataSync ListTasks.
pub fn no_migration_resources() -> (Rule, Rule) {
    use aws_sdk_datasync::operation::list_tasks::ListTasksOutput;
    use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsOutput;
    let file_systems = aws_smithy_mocks::mock!(aws_sdk_fsx::Client::describe_file_systems)
        .match_requests(|r| r.file_system_ids().is_empty())
        .then_output(|| DescribeFileSystemsOutput::builder().build());
    let tasks = aws_smithy_mocks::mock!(aws_sdk_datasync::Client::list_tasks)
        .then_output(|| ListTasksOutput::builder().build());
    (file_systems, tasks)
}

pub const PASSWORD: &str = "S3cr3t-Pa55w0rd!";
pub const SOURCE_ARN: &str = "arn:aws:fsx:eu-west-1:123456789012:file-system/fs-0source000000001";

/// Settings as `plan` would have copied them from a self-managed-AD source.
pub fn settings() -> FileSystemSettings {
    FileSystemSettings {
        storage_capacity_gib: 2048,
        storage_type: StorageType::Ssd,
        throughput_capacity_mbps: 64,
        active_directory: Some(ActiveDirectory::SelfManaged {
            domain_name: "corp.example.com".into(),
            organizational_unit: Some("OU=FSx,DC=corp,DC=example,DC=com".into()),
            administrators_group: Some("FSxAdmins".into()),
            user_name: "svc-fsx-join".into(),
            dns_ips: vec!["10.0.0.10".into(), "10.0.1.10".into()],
            domain_join_service_account_secret: None,
        }),
        automatic_backup_retention_days: 14,
        daily_automatic_backup_start_time: Some("02:30".into()),
        weekly_maintenance_start_time: Some("6:03:00".into()),
        copy_tags_to_backups: true,
        kms_key_id: Some("arn:aws:kms:eu-west-1:123456789012:key/k-1".into()),
        audit_log: Some(AuditLog {
            file_access: "SUCCESS_AND_FAILURE".into(),
            file_share_access: "FAILURE_ONLY".into(),
            destination: Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/audit".into()),
        }),
        disk_iops: Some(DiskIops {
            mode: "USER_PROVISIONED".into(),
            iops: Some(12_000),
        }),
        fsrm: Some(fsx_migrate::cloud::model::Fsrm {
            service_enabled: true,
            event_log_destination: Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/fsrm".into()),
        }),
        network_type: Some("DUAL".into()),
        tags: BTreeMap::from([("Name".to_string(), "files".to_string())]),
    }
}

pub fn plan_tags(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([(
        fsx_migrate::cloud::port::PLAN_TAG.to_string(),
        "plan-42".to_string(),
    )]);
    for (k, v) in extra {
        tags.insert(k.to_string(), v.to_string());
    }
    tags
}
