//! Over the wire: the real adapter (`AwsPort::connect…`) against a moto server on loopback.
//!
//! One moto server is started per test binary on a free 127.0.0.1 port (`$FSX_MIGRATE_MOTO_SERVER`,
//! else `.venv/bin/moto_server`, installed by `scripts/test.sh`); a small watchdog
//! shell stops it when the test process exits. If moto cannot be started the tests FAIL with the reason:
//! they never skip.
//!
//! What moto 5.2.5 cannot show (see docs/aws-testing.md): FSx Lifecycle, network interfaces and
//! ClientRequestToken idempotency; DataSync CreateLocationFsxWindows, ListTagsForResource and
//! ListTaskExecutions (HTTP 500 "not implemented"), and StartTime of an execution. Those paths are covered
//! by the typed mock tests; the 500s are asserted here, so a moto that implements them is noticed.
//!
//! Because moto cannot list DataSync tags, any DataSync task in a Region makes Inspect (which looks for
//! every task fsx-migrate made for the source) fail there. The DataSync fixtures therefore live in
//! [`DATASYNC_REGION`], away from the Inspect tests in [`REGION`].

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_fsx::types as fsx;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

use aws_smithy_types::retry::RetryConfig;

use fsx_migrate::aws::{AwsOptions, AwsPort, datasync, logs};
use fsx_migrate::cloud::model::{
    ActiveDirectory, ChangeStatus, DeploymentType, ExecutionStatus, FileSystemType, Lifecycle, LogLevel,
    SecurityDescriptorCopy, StorageType, SyncKind, VerifyMode,
};
use fsx_migrate::cloud::port::{
    CloudPort, Command, CreateTargetRequest, CreateTaskRequest, ErrorClass, InspectRequest,
    MigrationResource, PLAN_TAG, PreserveDeletedFiles, ResourceKind, Response, SOURCE_TAG,
    StartExecutionRequest, TaskOptions, TransferMode, UpsertCnameRequest,
};

use super::support;

const REGION: &str = "us-east-1";
/// Where the DataSync tests create their locations and tasks (see the module doc).
const DATASYNC_REGION: &str = "eu-west-1";

/// The endpoint of the shared moto server, started on first use.
fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<Result<String, String>> = OnceLock::new();
    match ENDPOINT.get_or_init(start_moto) {
        Ok(url) => url,
        Err(why) => {
            panic!("moto is required for the over-the-wire AWS tests and could not be started: {why}")
        }
    }
}

fn start_moto() -> Result<String, String> {
    // scripts/test.sh exports FSX_MIGRATE_MOTO_SERVER; a plain `cargo test` uses the repository's .venv.
    let server = match std::env::var_os("FSX_MIGRATE_MOTO_SERVER") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
    };
    if !server.exists() {
        return Err(format!(
            "{} does not exist; install moto with scripts/test.sh",
            server.display()
        ));
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    // A watchdog: runs moto in the background and kills it once this test process is gone.
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & moto=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $moto 2>/dev/null; do sleep 1; done; kill $moto 2>/dev/null",
        parent = std::process::id()
    );
    Process::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&server)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", server.display()))?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "{} did not listen on {address} within 60 s",
        server.display()
    ))
}

fn options_in(region: &str) -> AwsOptions {
    AwsOptions {
        profile: None,
        region: Some(region.into()),
        endpoint_url: Some(moto_endpoint().to_string()),
    }
}

/// The adapter under test, built by its production constructor (retries, timeouts, endpoint, region).
async fn port() -> AwsPort {
    port_in(REGION).await
}

async fn port_in(region: &str) -> AwsPort {
    AwsPort::connect_with_static_credentials(&options_in(region), "testing", "testing")
        .await
        .expect("AwsPort against moto")
}

/// Plain SDK config for setting up fixtures in moto.
async fn fixture_config() -> aws_config::SdkConfig {
    fixture_config_in(REGION).await
}

async fn fixture_config_in(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(moto_endpoint())
        .credentials_provider(aws_sdk_fsx::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// A VPC `10.N.0.0/16` with one subnet in us-east-1a and one in us-east-1b.
async fn vpc_with_two_subnets(ec2: &aws_sdk_ec2::Client, n: u8) -> (String, Vec<String>) {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{n}.0.0/16"))
        .send()
        .await
        .expect("vpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let mut subnet_ids = Vec::new();
    for (i, az) in [(1, "us-east-1a"), (2, "us-east-1b")] {
        let cidr = format!("10.{n}.{i}.0/24");
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .expect("subnet");
        subnet_ids.push(
            s.subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_string(),
        );
    }
    (vpc_id, subnet_ids)
}

/// A unique suffix per test run, so tests sharing one moto server never collide.
fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn create_zone(r53: &aws_sdk_route53::Client, domain: &str) -> String {
    let zone = r53
        .create_hosted_zone()
        .name(domain)
        .caller_reference(unique("ref-"))
        .send()
        .await
        .expect("create hosted zone in moto");
    let id = zone.hosted_zone().expect("zone").id();
    id.trim_start_matches("/hostedzone/").to_string()
}

async fn change_records(r53: &aws_sdk_route53::Client, zone_id: &str, sets: Vec<ResourceRecordSet>) {
    let mut batch = ChangeBatch::builder();
    for set in sets {
        batch = batch.changes(
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .unwrap(),
        );
    }
    r53.change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch.build().unwrap())
        .send()
        .await
        .expect("create records in moto");
}

fn record(name: &str, kind: RrType, ttl: i64, value: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .ttl(ttl)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_inspect_discovers_a_windows_single_az_file_system_its_subnets_and_a_paged_record() {
    let config = fixture_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let fsx_client = aws_sdk_fsx::Client::new(&config);
    let r53 = aws_sdk_route53::Client::new(&config);

    let (vpc_id, subnet_ids) = vpc_with_two_subnets(&ec2, 20).await;

    let created = fsx_client
        .create_file_system()
        .file_system_type(fsx::FileSystemType::Windows)
        .storage_capacity(2048)
        .storage_type(fsx::StorageType::Ssd)
        .subnet_ids(&subnet_ids[0])
        .security_group_ids("sg-0123")
        .tags(fsx::Tag::builder().key("Name").value("files").build())
        .windows_configuration(
            fsx::CreateFileSystemWindowsConfiguration::builder()
                .deployment_type(fsx::WindowsDeploymentType::SingleAz2)
                .throughput_capacity(64)
                .active_directory_id("d-1234567890")
                .automatic_backup_retention_days(14)
                .daily_automatic_backup_start_time("02:30")
                .weekly_maintenance_start_time("6:03:00")
                .copy_tags_to_backups(true)
                .build(),
        )
        .send()
        .await
        .expect("create the source file system in moto");
    let source_id = created
        .file_system()
        .and_then(|f| f.file_system_id())
        .expect("fs id")
        .to_string();
    let source_dns = created
        .file_system()
        .and_then(|f| f.dns_name())
        .expect("dns name")
        .to_string();

    // 310 records before ours in Route 53 order, so finding it needs the second page (300 a page).
    let domain = format!("{}.example.com", unique("corp"));
    let zone_id = create_zone(&r53, &domain).await;
    let fillers: Vec<ResourceRecordSet> = (0..310)
        .map(|n| record(&format!("host-{n:03}.{domain}"), RrType::A, 300, "10.20.1.5"))
        .collect();
    change_records(&r53, &zone_id, fillers).await;
    let record_name = format!("www-files.{domain}");
    change_records(
        &r53,
        &zone_id,
        vec![record(&record_name, RrType::Cname, 300, &source_dns)],
    )
    .await;

    let mut port = port().await;
    let request = InspectRequest {
        source_file_system_id: source_id.clone(),
        subnet_ids: vec![
            subnet_ids[0].clone(),
            subnet_ids[1].clone(),
            "subnet-0doesnotexist".into(),
        ],
        hosted_zone_id: zone_id.clone(),
        record_name: format!("WWW-Files.{domain}."),
        name_service: None,
        password_sources: vec![],
        security_group_ids: None,
    };
    let answer = port.execute(&Command::Inspect(request)).await;
    let Ok(Response::Environment(env)) = answer else {
        panic!("Inspect against moto failed: {answer:?}")
    };

    let source = env.source.expect("moto's file system is found");
    assert_eq!(source.id, source_id);
    assert_eq!(source.file_system_type, FileSystemType::Windows);
    assert_eq!(source.deployment_type, DeploymentType::SingleAz2);
    assert_eq!(source.dns_name, source_dns);
    assert!(source.arn.starts_with("arn:aws:fsx:us-east-1:"), "{}", source.arn);
    // moto returns no Lifecycle: shown verbatim as unknown, never a crash.
    assert_eq!(source.lifecycle, Lifecycle::Unknown("(not returned)".into()));
    let s = &source.settings;
    assert_eq!(
        (
            s.storage_capacity_gib,
            s.storage_type.clone(),
            s.throughput_capacity_mbps
        ),
        (2048, StorageType::Ssd, 64)
    );
    assert_eq!(s.automatic_backup_retention_days, 14);
    assert_eq!(s.daily_automatic_backup_start_time.as_deref(), Some("02:30"));
    assert_eq!(s.weekly_maintenance_start_time.as_deref(), Some("6:03:00"));
    assert!(s.copy_tags_to_backups);
    assert!(
        matches!(&s.active_directory, Some(ActiveDirectory::Managed { directory_id, .. }) if directory_id == "d-1234567890")
    );
    assert_eq!(s.tags.get("Name").map(String::as_str), Some("files"));

    let found: Vec<(&str, &str, &str)> = env
        .subnets
        .iter()
        .map(|s| (s.id.as_str(), s.availability_zone.as_str(), s.vpc_id.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (subnet_ids[0].as_str(), "us-east-1a", vpc_id.as_str()),
            (subnet_ids[1].as_str(), "us-east-1b", vpc_id.as_str())
        ],
        "the missing subnet is simply absent"
    );

    assert_eq!(
        env.hosted_zone_name.as_deref(),
        Some(format!("{domain}.").as_str())
    );
    let record = env.record.expect("the CNAME is found on the second page");
    assert_eq!(record.record_type, "CNAME");
    assert_eq!(record.values, [source_dns]);
    assert_eq!(record.ttl, Some(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_inspect_of_a_missing_file_system_and_zone_reports_them_absent() {
    let mut port = port().await;
    let request = InspectRequest {
        source_file_system_id: "fs-0000000000doesnotexist".into(),
        subnet_ids: vec!["subnet-0doesnotexist".into()],
        hosted_zone_id: "ZDOESNOTEXIST".into(),
        record_name: "files.corp.example.com".into(),
        name_service: None,
        password_sources: vec![],
        security_group_ids: None,
    };
    let answer = port.execute(&Command::Inspect(request)).await;
    let Ok(Response::Environment(env)) = answer else {
        panic!("Inspect against moto failed: {answer:?}")
    };
    assert_eq!(env.source, None);
    assert!(env.subnets.is_empty());
    assert_eq!(env.hosted_zone_name, None);
    assert_eq!(env.record, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_create_target_sends_a_multi_az_file_system_that_describe_then_finds() {
    let mut port = port().await;
    let mut settings = support::settings();
    settings.active_directory = Some(ActiveDirectory::Managed {
        directory_id: "d-1234567890".into(),
        domain_name: None,
    });
    let request = CreateTargetRequest {
        client_request_token: unique("fsx-migrate-"),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        preferred_subnet_id: "subnet-a".into(),
        security_group_ids: vec!["sg-1".into()],
        ad_join_password: None,
        settings: settings.clone(),
        tags: support::plan_tags(&[("Name", "files")]),
    };
    let answer = port.execute(&Command::CreateTarget(request)).await;
    let Ok(Response::FileSystem(target)) = answer else {
        panic!("CreateTarget against moto failed: {answer:?}")
    };
    assert_eq!(target.deployment_type, DeploymentType::MultiAz1);
    assert_eq!(target.subnet_ids, ["subnet-a", "subnet-b"]);

    let answer = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: target.id.clone(),
        })
        .await;
    let Ok(Response::FileSystem(described)) = answer else {
        panic!("DescribeFileSystem failed: {answer:?}")
    };
    assert_eq!(described.id, target.id);
    assert_eq!(described.deployment_type, DeploymentType::MultiAz1);
    assert_eq!(
        described.settings.throughput_capacity_mbps,
        settings.throughput_capacity_mbps
    );
    assert_eq!(
        described.settings.storage_capacity_gib,
        settings.storage_capacity_gib
    );
    assert_eq!(described.settings.audit_log, settings.audit_log);
    assert_eq!(
        described
            .settings
            .tags
            .get(fsx_migrate::cloud::port::PLAN_TAG)
            .map(String::as_str),
        Some("plan-42")
    );

    // The freeze's record: TagResource over the wire, read back by DescribeFileSystems.
    let answer = port
        .execute(&Command::MarkFrozen {
            file_system_arn: described.arn.clone(),
            plan_id: "plan-42".into(),
        })
        .await;
    assert_eq!(answer, Ok(Response::MarkedFrozen));
    let Ok(Response::FileSystem(tagged)) = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: target.id.clone(),
        })
        .await
    else {
        panic!("DescribeFileSystem after TagResource failed")
    };
    assert_eq!(
        tagged
            .settings
            .tags
            .get(fsx_migrate::cloud::port::FROZEN_TAG)
            .map(String::as_str),
        Some("plan-42")
    );
    let answer = port
        .execute(&Command::UnmarkFrozen {
            file_system_arn: described.arn.clone(),
        })
        .await;
    assert_eq!(answer, Ok(Response::UnmarkedFrozen));
    let Ok(Response::FileSystem(untagged)) = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: target.id.clone(),
        })
        .await
    else {
        panic!("DescribeFileSystem after UntagResource failed")
    };
    assert!(
        !untagged
            .settings
            .tags
            .contains_key(fsx_migrate::cloud::port::FROZEN_TAG)
    );
    assert_eq!(
        untagged
            .settings
            .tags
            .get(fsx_migrate::cloud::port::PLAN_TAG)
            .map(String::as_str),
        Some("plan-42")
    );

    let err = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: "fs-0000000000doesnotexist".into(),
        })
        .await
        .expect_err("unknown id");
    assert_eq!(err.class, fsx_migrate::cloud::port::ErrorClass::NotFound);

    // `abort --delete-resources`: DeleteFileSystem over the wire, after which FSx no longer knows it.
    let answer = port
        .execute(&Command::DeleteFileSystem {
            file_system_id: target.id.clone(),
            client_request_token: format!("fsx-migrate-delete-{}", target.id),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::Deleted {
            id: target.id.clone()
        })
    );
    let err = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: target.id.clone(),
        })
        .await
        .expect_err("deleted");
    assert_eq!(err.class, fsx_migrate::cloud::port::ErrorClass::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_route53_swap_changes_the_hosted_zone_record_and_find_record_reads_it() {
    let config = fixture_config().await;
    let r53 = aws_sdk_route53::Client::new(&config);
    let domain = format!("{}.example.com", unique("swap"));
    let zone_id = create_zone(&r53, &domain).await;
    let name = format!("files.{domain}");
    change_records(
        &r53,
        &zone_id,
        vec![record(
            &name,
            RrType::Cname,
            3600,
            "amznfsxsource.corp.example.com",
        )],
    )
    .await;

    let mut port = port().await;
    let request = UpsertCnameRequest {
        hosted_zone_id: zone_id.clone(),
        record_name: name.clone(),
        value: "amznfsxtarget.corp.example.com".into(),
        ttl: 60,
        comment: "fsx-migrate plan-42 cutover".into(),
        name_service: None,
    };
    let answer = port.execute(&Command::UpsertCname(request)).await;
    let Ok(Response::Change { id, status }) = answer else {
        panic!("UpsertCname against moto failed: {answer:?}")
    };
    assert!(!id.starts_with("/change/"), "{id}");
    assert!(
        matches!(status, ChangeStatus::Pending | ChangeStatus::InSync),
        "{status}"
    );

    let answer = port
        .execute(&Command::GetChange {
            change_id: id.clone(),
            name_service: None,
        })
        .await;
    let Ok(Response::Change { id: again, status }) = answer else {
        panic!("GetChange against moto failed: {answer:?}")
    };
    assert_eq!(again, id);
    assert_eq!(status, ChangeStatus::InSync);

    // An alias's record is read back the way the alias move reads it (FindRecord), and a name the zone does
    // not hold is absent, not an error.
    let found = port
        .execute(&Command::FindRecord {
            hosted_zone_id: zone_id.clone(),
            record_name: name.clone(),
        })
        .await;
    let Ok(Response::Record(Some(found))) = found else {
        panic!("FindRecord against moto failed: {found:?}")
    };
    assert_eq!(found.values, ["amznfsxtarget.corp.example.com"]);
    let absent = port
        .execute(&Command::FindRecord {
            hosted_zone_id: zone_id.clone(),
            record_name: format!("nothing.{domain}"),
        })
        .await;
    assert_eq!(absent, Ok(Response::Record(None)));

    let listed = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .expect("list records");
    let swapped: Vec<_> = listed
        .resource_record_sets()
        .iter()
        .filter(|s| s.name().trim_end_matches('.') == name)
        .map(|s| {
            (
                s.r#type().as_str().to_string(),
                s.ttl(),
                s.resource_records()
                    .iter()
                    .map(|r| r.value().to_string())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        swapped,
        [(
            "CNAME".to_string(),
            Some(60),
            vec!["amznfsxtarget.corp.example.com".to_string()]
        )]
    );
}

fn options_for(kind: SyncKind) -> TaskOptions {
    TaskOptions {
        transfer_mode: if kind == SyncKind::Initial {
            TransferMode::All
        } else {
            TransferMode::Changed
        },
        verify_mode: if kind == SyncKind::Final {
            VerifyMode::PointInTimeConsistent
        } else {
            VerifyMode::OnlyFilesTransferred
        },
        preserve_deleted_files: if kind == SyncKind::Final {
            PreserveDeletedFiles::Remove
        } else {
            PreserveDeletedFiles::Preserve
        },
        security_descriptor_copy: SecurityDescriptorCopy::OwnerDacl,
        log_level: LogLevel::Off,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_datasync_task_execution_walks_moto_statuses_including_initializing() {
    // moto has no CreateLocationFsxWindows: two SMB locations stand in for the FSx ones.
    let config = fixture_config_in(DATASYNC_REGION).await;
    let ds = aws_sdk_datasync::Client::new(&config);
    let mut locations = Vec::new();
    for host in ["amznfsxsource.corp.example.com", "amznfsxtarget.corp.example.com"] {
        let out = ds
            .create_location_smb()
            .server_hostname(host)
            .subdirectory("/share")
            .user("svc-datasync")
            .password("not-a-real-password")
            .agent_arns("arn:aws:datasync:eu-west-1:123456789012:agent/agent-0")
            .send()
            .await
            .expect("SMB location in moto");
        locations.push(out.location_arn().expect("location arn").to_string());
    }

    let mut port = port_in(DATASYNC_REGION).await;
    let log_group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*";
    let request = CreateTaskRequest {
        lane: "all".into(),
        name: unique("fsx-migrate-"),
        source_location_arn: locations[0].clone(),
        target_location_arn: locations[1].clone(),
        options: options_for(SyncKind::Incremental),
        includes: vec![],
        excludes: vec!["/System Volume Information".into(), "/$RECYCLE.BIN".into()],
        cloudwatch_log_group_arn: Some(log_group.into()),
        task_report: None,
        tags: support::plan_tags(&[]),
    };
    let answer = port.execute(&Command::CreateTask(request)).await;
    let Ok(Response::TaskCreated { arn: task_arn }) = answer else {
        panic!("CreateTask against moto failed: {answer:?}")
    };

    // What moto stored is what the adapter sent.
    let task = ds
        .describe_task()
        .task_arn(&task_arn)
        .send()
        .await
        .expect("describe task");
    let options = task.options().expect("options stored");
    assert_eq!(
        options.transfer_mode(),
        Some(&aws_sdk_datasync::types::TransferMode::Changed)
    );
    assert_eq!(
        options.overwrite_mode(),
        Some(&aws_sdk_datasync::types::OverwriteMode::Always)
    );
    assert_eq!(
        task.excludes()[0].value(),
        Some("/System Volume Information|/$RECYCLE.BIN")
    );
    assert_eq!(task.cloud_watch_log_group_arn(), Some(log_group));

    let start = StartExecutionRequest {
        task_arn: task_arn.clone(),
        kind: SyncKind::Initial,
        overrides: options_for(SyncKind::Initial),
        tags: support::plan_tags(&[]),
        bytes_per_second: None,
        includes: None,
    };
    let answer = port.execute(&Command::StartExecution(start)).await;
    let Ok(Response::ExecutionStarted { arn: execution }) = answer else {
        panic!("StartExecution failed: {answer:?}")
    };

    // Re-attaching (FindExecution) and finding this source's tasks cannot be shown over the wire: moto
    // 5.2.5 answers ListTaskExecutions and ListTagsForResource with HTTP 500 "not implemented". The gap is
    // asserted (with SDK retries off, so it fails fast) so that a moto that implements them is noticed.
    let no_retry = aws_sdk_datasync::Client::from_conf(
        aws_sdk_datasync::config::Builder::from(&config)
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let err = datasync::find_execution(&no_retry, &task_arn, &[])
        .await
        .expect_err("moto 5.2.5 has no ListTaskExecutions");
    assert_eq!(
        (err.operation.as_str(), err.class),
        ("datasync:ListTaskExecutions", ErrorClass::Transient),
        "{err}"
    );
    let err = datasync::migration_tasks(&no_retry, "fs-0source000000001")
        .await
        .expect_err("moto 5.2.5 has no ListTagsForResource");
    assert_eq!(
        (err.operation.as_str(), err.class),
        ("datasync:ListTagsForResource", ErrorClass::Transient),
        "{err}"
    );

    let mut seen = Vec::new();
    for _ in 0..10 {
        let answer = port
            .execute(&Command::DescribeExecution {
                execution_arn: execution.clone(),
            })
            .await;
        let Ok(Response::Execution(info)) = answer else {
            panic!("DescribeExecution failed: {answer:?}")
        };
        assert_eq!(info.arn, execution);
        let done = info.status.is_terminal();
        seen.push(info.status);
        if done {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            ExecutionStatus::Unknown("INITIALIZING".into()),
            ExecutionStatus::Preparing,
            ExecutionStatus::Transferring,
            ExecutionStatus::Verifying,
            ExecutionStatus::Success,
        ]
    );

    // `abort --delete-resources`: cancel a running execution, delete the task and both locations.
    let start = StartExecutionRequest {
        task_arn: task_arn.clone(),
        kind: SyncKind::Incremental,
        overrides: options_for(SyncKind::Incremental),
        tags: support::plan_tags(&[]),
        bytes_per_second: None,
        includes: None,
    };
    let Ok(Response::ExecutionStarted { arn: running }) = port.execute(&Command::StartExecution(start)).await
    else {
        panic!("the second StartExecution failed")
    };
    let answer = port
        .execute(&Command::CancelExecution {
            execution_arn: running.clone(),
        })
        .await;
    assert_eq!(answer, Ok(Response::ExecutionCancelled));
    let answer = port
        .execute(&Command::DeleteTask {
            task_arn: task_arn.clone(),
        })
        .await;
    assert_eq!(answer, Ok(Response::Deleted { id: task_arn.clone() }));
    for location in &locations {
        let answer = port
            .execute(&Command::DeleteLocation {
                location_arn: location.clone(),
            })
            .await;
        assert_eq!(answer, Ok(Response::Deleted { id: location.clone() }));
    }
    let left = ds.list_locations().send().await.expect("list locations");
    assert!(
        left.locations().iter().all(|l| !locations
            .iter()
            .any(|ours| l.location_arn() == Some(ours.as_str()))),
        "the locations are gone"
    );
    // A task already deleted is refused (InvalidRequestException), which the core checks by tag.
    let err = port
        .execute(&Command::DeleteTask { task_arn })
        .await
        .expect_err("already deleted");
    assert_eq!(err.class, ErrorClass::Rejected, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_find_migration_resources_finds_the_targets_tagged_for_the_source() {
    let mut port = port().await;
    let source = unique("fs-0src");
    let mut targets = Vec::new();
    for tags in [
        vec![(PLAN_TAG, "plan-a"), (SOURCE_TAG, source.as_str())],
        vec![(PLAN_TAG, "plan-b"), (SOURCE_TAG, "fs-0someotherone")],
        vec![(SOURCE_TAG, source.as_str())],
    ] {
        let mut settings = support::settings();
        settings.active_directory = None;
        let request = CreateTargetRequest {
            client_request_token: unique("fsx-migrate-"),
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
            preferred_subnet_id: "subnet-a".into(),
            security_group_ids: vec!["sg-1".into()],
            ad_join_password: None,
            settings,
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let Ok(Response::FileSystem(target)) = port.execute(&Command::CreateTarget(request)).await else {
            panic!("CreateTarget against moto failed")
        };
        targets.push(target.id);
    }
    let answer = port
        .execute(&Command::FindMigrationResources {
            source_file_system_id: source.clone(),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::MigrationResources(vec![MigrationResource {
            kind: ResourceKind::FileSystem,
            id: targets[0].clone(),
            plan_id: "plan-a".into(),
            source_file_system_id: source,
        }])),
        "another source's target and a target without a plan tag are not this source's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_ensure_log_group_creates_the_group_and_the_datasync_policy_once() {
    let mut port = port().await;
    let name = format!("/fsx-migrate/{}", unique("datasync"));
    let arn = format!("arn:aws:logs:{REGION}:123456789012:log-group:{name}:*");
    for _ in 0..2 {
        assert_eq!(
            port.execute(&Command::EnsureLogGroup { arn: arn.clone() }).await,
            Ok(Response::LogGroupReady)
        );
    }
    let client = aws_sdk_cloudwatchlogs::Client::new(&fixture_config().await);
    let groups = client
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .send()
        .await
        .expect("describe log groups");
    let names: Vec<_> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, [name.as_str()]);

    let group = logs::LogGroupArn::parse(&arn).unwrap();
    let policies = client
        .describe_resource_policies()
        .send()
        .await
        .expect("describe resource policies");
    let ours: Vec<_> = policies
        .resource_policies()
        .iter()
        .filter(|p| p.policy_name() == Some(logs::policy_name(&group).as_str()))
        .collect();
    assert_eq!(ours.len(), 1, "PutResourcePolicy replaced, not added");
    let document: serde_json::Value =
        serde_json::from_str(ours[0].policy_document().expect("document")).expect("JSON");
    assert_eq!(
        document["Statement"][0]["Principal"]["Service"],
        "datasync.amazonaws.com"
    );
    assert_eq!(
        document["Statement"][0]["Resource"],
        format!("arn:aws:logs:{REGION}:123456789012:log-group:{name}:*")
    );

    // A group made by hand beforehand is used as it is.
    let existing = format!("/fsx-migrate/{}", unique("byhand"));
    client
        .create_log_group()
        .log_group_name(&existing)
        .send()
        .await
        .expect("create log group");
    assert_eq!(
        port.execute(&Command::EnsureLogGroup {
            arn: format!("arn:aws:logs:{REGION}:123456789012:log-group:{existing}")
        })
        .await,
        Ok(Response::LogGroupReady)
    );
}

/// The binary itself against moto: `plan` discovers a moto-created Windows Single-AZ file system, its
/// subnets and the CNAME through the default credential chain, `--endpoint-url` and `--region`. moto
/// returns no Lifecycle and no VpcId for FSx, so preflight must refuse the plan and say exactly that —
/// while finding everything else.
#[tokio::test]
async fn moto_plan_through_the_binary_discovers_the_source() {
    let config = fixture_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let fsx_client = aws_sdk_fsx::Client::new(&config);
    let r53 = aws_sdk_route53::Client::new(&config);
    let (_, subnet_ids) = vpc_with_two_subnets(&ec2, 30).await;
    let created = fsx_client
        .create_file_system()
        .file_system_type(fsx::FileSystemType::Windows)
        .storage_capacity(2048)
        .storage_type(fsx::StorageType::Ssd)
        .subnet_ids(&subnet_ids[0])
        .windows_configuration(
            fsx::CreateFileSystemWindowsConfiguration::builder()
                .deployment_type(fsx::WindowsDeploymentType::SingleAz2)
                .throughput_capacity(64)
                .active_directory_id("d-1234567890")
                .build(),
        )
        .send()
        .await
        .expect("source in moto");
    let fs = created.file_system().expect("file system");
    let (source_id, source_dns) = (
        fs.file_system_id().expect("id").to_string(),
        fs.dns_name().expect("dns").to_string(),
    );
    let domain = format!("{}.example.com", unique("plan"));
    let zone_id = create_zone(&r53, &domain).await;
    let name = format!("files.{domain}");
    change_records(
        &r53,
        &zone_id,
        vec![record(&name, RrType::Cname, 300, &source_dns)],
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let subnets = subnet_ids.join(",");
    let out = Process::new(env!("CARGO_BIN_EXE_fsx-migrate"))
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .args([
            "--endpoint-url",
            moto_endpoint(),
            "--region",
            REGION,
            "plan",
            "--source",
            &source_id,
        ])
        .args([
            "--subnets",
            &subnets,
            "--preferred-subnet",
            &subnet_ids[0],
            "--hosted-zone",
            &zone_id,
        ])
        .args(["--record-name", &name, "--out", "plan.toml"])
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("preflight found problems with {source_id}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("(not returned), not AVAILABLE"),
        "moto's missing Lifecycle is named: {stderr}"
    );
    for absent in [
        "does not exist",
        "not a CNAME",
        "not WINDOWS",
        "both in",
        "points at",
    ] {
        assert!(
            !stderr.contains(absent),
            "unexpected finding {absent:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("plan.toml").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_ssm_sends_the_freeze_finds_it_by_comment_and_reads_its_invocation() {
    use fsx_migrate::cloud::port::PowerShellRequest;
    use fsx_migrate::cloud::windows::{ScriptCall, WindowsScript};
    let mut port = port().await;
    let comment = unique("fsx-migrate fxm-moto freeze.ps1 fs-0123456789abcdef0 ");
    let call = ScriptCall {
        script: WindowsScript::Freeze,
        endpoint: "amznfsxa1b2c3d4.corp.example.com".into(),
        keep_accounts: vec!["CORP\\svc-datasync".into()],
        shares_json: None,
        service_json: None,
        from_dns_name: None,
        aliases: vec![],
        name_switch: None,
        logon: None,
    };
    let request = PowerShellRequest {
        instance_id: "i-0123456789abcdef0".into(),
        call: call.clone(),
        comment: comment.clone(),
        timeout_secs: 600,
    };
    let answer = port.execute(&Command::RunPowerShell(request)).await;
    let Ok(Response::PowerShellSent { command_id }) = answer else {
        panic!("SendCommand against moto failed: {answer:?}")
    };

    // A lost answer is found again by the comment.
    let answer = port
        .execute(&Command::FindPowerShell {
            instance_id: "i-0123456789abcdef0".into(),
            comment: comment.clone(),
        })
        .await;
    assert_eq!(answer, Ok(Response::PowerShellCommands(vec![command_id.clone()])));

    // What moto stored is the script's invocation, as sent.
    let config = fixture_config().await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    let listed = ssm
        .list_commands()
        .command_id(&command_id)
        .send()
        .await
        .expect("list commands");
    let stored = &listed.commands()[0];
    assert_eq!(stored.document_name(), Some("AWS-RunPowerShellScript"));
    assert_eq!(stored.comment(), Some(comment.as_str()));
    let parameters = stored.parameters().expect("parameters stored");
    assert_eq!(parameters["commands"], [call.invocation()]);
    assert_eq!(parameters["executionTimeout"], ["600"]);

    // moto answers every invocation Success with no output: mapped as it is (the core would call the missing
    // RESULT line a failure of the script).
    let answer = port
        .execute(&Command::GetPowerShell {
            command_id: command_id.clone(),
            instance_id: "i-0123456789abcdef0".into(),
        })
        .await;
    let Ok(Response::PowerShellInvocation(invocation)) = answer else {
        panic!("GetCommandInvocation failed: {answer:?}")
    };
    assert_eq!(
        invocation.status,
        fsx_migrate::cloud::model::InvocationStatus::Success
    );
    let err = port
        .execute(&Command::GetPowerShell {
            command_id,
            instance_id: "i-0fffffffffffffff0".into(),
        })
        .await
        .expect_err("no invocation on another instance");
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_security_group_rules_read_back_a_group_that_reaches_itself_on_smb() {
    let config = fixture_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let (vpc, _) = vpc_with_two_subnets(&ec2, 7).await;
    let group = ec2
        .create_security_group()
        .group_name(unique("fsx-"))
        .description("file servers")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("group")
        .group_id()
        .expect("group id")
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(445)
                .to_port(445)
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(&group)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("ingress");
    let groups = described_rules(&config, &group).await;
    assert_eq!(groups.len(), 1);
    let smb = groups[0]
        .inbound
        .iter()
        .find(|r| r.allows_tcp(445))
        .expect("the SMB rule");
    assert_eq!(smb.groups, [group.as_str()]);
    assert!(
        groups[0]
            .outbound
            .iter()
            .any(|r| r.allows_tcp(445) && r.reaches(&[])),
        "a new group allows all traffic out: {:?}",
        groups[0].outbound
    );
}

async fn described_rules(
    config: &aws_config::SdkConfig,
    group: &str,
) -> Vec<fsx_migrate::cloud::model::SecurityGroup> {
    let ec2 = aws_sdk_ec2::Client::new(config);
    fsx_migrate::aws::ec2::security_group_rules(&ec2, &[group.to_string(), "sg-0000000000missing".into()])
        .await
        .expect("described over the wire")
}
