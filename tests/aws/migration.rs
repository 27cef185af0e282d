//! A whole migration through the AWS adapter: the real core and driver against mocked FSx, DataSync,
//! Route 53, EC2 and Secrets Manager that behave like the services (lifecycles, one execution per task,
//! change propagation). It crashes at every boundary and resumes, like the simulator's crash test.

use std::sync::{Arc, Mutex};

use aws_sdk_datasync::operation::create_location_fsx_windows::CreateLocationFsxWindowsOutput;
use aws_sdk_datasync::operation::create_task::CreateTaskOutput;
use aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput;
use aws_sdk_datasync::operation::list_locations::ListLocationsOutput;
use aws_sdk_datasync::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_datasync::operation::list_task_executions::ListTaskExecutionsOutput;
use aws_sdk_datasync::operation::list_tasks::ListTasksOutput;
use aws_sdk_datasync::operation::start_task_execution::{StartTaskExecutionInput, StartTaskExecutionOutput};
use aws_sdk_datasync::types as ds;
use aws_sdk_fsx::operation::create_file_system::{CreateFileSystemInput, CreateFileSystemOutput};
use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_fsx::types as fsx;
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsInput, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::get_change::GetChangeOutput;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{
    ChangeInfo, ChangeStatus, HostedZone, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_smithy_mocks::{Rule, mock};

use fsx_migrate::cloud::model::PasswordSource;
use fsx_migrate::cloud::port::{CloudPort, Command, FROZEN_TAG, Response};
use fsx_migrate::core::{Halt, RunOptions};
use fsx_migrate::engine::clock::Clock;
use fsx_migrate::engine::driver::{Driver, MemoryStore, Outcome, Quiet};
use fsx_migrate::plan::intent::FreezeKind;
use fsx_migrate::plan::planner::{PlanRequest, intent_from};
use fsx_migrate::plan::{Checkpoint, Intent};

use super::fsx::source_file_system;
use super::support::{self, PASSWORD, Rules};

const SOURCE: &str = "fs-0source000000001";
const SOURCE_DNS: &str = "amznfsxabcd1234.corp.example.com";
const TARGET: &str = "fs-0target000000001";
const TARGET_DNS: &str = "amznfsxtarget01.corp.example.com";
const TASK: &str = "arn:aws:datasync:eu-west-1:123456789012:task/task-0000000000000001";
const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fsx";

/// What the mocked services remember between calls.
#[derive(Default)]
struct Cloud {
    creates: Vec<CreateFileSystemInput>,
    target_describes: u32,
    locations: Vec<(String, Vec<ds::TagListEntry>)>,
    task_tags: Option<Vec<ds::TagListEntry>>,
    executions: Vec<Execution>,
    starts: Vec<StartTaskExecutionInput>,
    started_while_running: u32,
    upserts: Vec<ChangeResourceRecordSetsInput>,
    change_polls: u32,
    /// Tags TagResource put on the source (the freeze's record).
    source_tags: Vec<fsx::Tag>,
}

/// One execution: it succeeds once it has been described twice.
#[derive(Debug)]
struct Execution {
    arn: String,
    describes: u32,
    started_at: aws_smithy_types::DateTime,
    tags: Vec<ds::TagListEntry>,
}

impl Cloud {
    fn source(&self) -> fsx::FileSystem {
        let mut source = source_file_system();
        let tags = source.tags.get_or_insert_with(Vec::new);
        tags.retain(|t| !self.source_tags.iter().any(|n| n.key() == t.key()));
        tags.extend(self.source_tags.iter().cloned());
        source
    }

    fn running(&self) -> Option<String> {
        self.executions
            .iter()
            .find(|e| e.describes < 2)
            .map(|e| e.arn.clone())
    }
}

fn target(lifecycle: fsx::FileSystemLifecycle) -> fsx::FileSystem {
    fsx::FileSystem::builder()
        .file_system_id(TARGET)
        .resource_arn(format!("arn:aws:fsx:eu-west-1:123456789012:file-system/{TARGET}"))
        .file_system_type(fsx::FileSystemType::Windows)
        .lifecycle(lifecycle)
        .dns_name(TARGET_DNS)
        .vpc_id("vpc-1")
        .windows_configuration(
            fsx::WindowsFileSystemConfiguration::builder()
                .deployment_type(fsx::WindowsDeploymentType::MultiAz1)
                .build(),
        )
        .build()
}

fn change_info(status: ChangeStatus) -> ChangeInfo {
    ChangeInfo::builder()
        .id("/change/C0000000001")
        .status(status)
        .submitted_at(aws_smithy_types::DateTime::from_secs(1_800_000_000))
        .build()
        .expect("change info")
}

/// The mocked services; every rule answers from the shared `Cloud`, at the time `clock` tells.
fn services(cloud: &Arc<Mutex<Cloud>>, clock: &Clock) -> Vec<(&'static str, Rule)> {
    let c = Arc::clone(cloud);
    let describe_fs = mock!(aws_sdk_fsx::Client::describe_file_systems).then_compute_output(move |r| {
        let out = DescribeFileSystemsOutput::builder();
        match r.file_system_ids() {
            // The listing FindMigrationResources reads: the source, and the target once created, with the
            // tags CreateFileSystem sent.
            [] => {
                let cloud = c.lock().unwrap();
                let out = out.file_systems(cloud.source());
                match cloud.creates.first() {
                    Some(create) => {
                        let mut target = target(fsx::FileSystemLifecycle::Creating);
                        target.tags = Some(create.tags().to_vec());
                        out.file_systems(target).build()
                    }
                    None => out.build(),
                }
            }
            [id] if id == SOURCE => out.file_systems(c.lock().unwrap().source()).build(),
            [id] if id == TARGET => {
                let mut cloud = c.lock().unwrap();
                cloud.target_describes += 1;
                let lifecycle = if cloud.target_describes < 3 {
                    fsx::FileSystemLifecycle::Creating
                } else {
                    fsx::FileSystemLifecycle::Available
                };
                let mut target = target(lifecycle);
                target.tags = cloud.creates.first().map(|c| c.tags().to_vec());
                out.file_systems(target).build()
            }
            other => panic!("unexpected DescribeFileSystems {other:?}"),
        }
    });
    let c = Arc::clone(cloud);
    let create_fs = mock!(aws_sdk_fsx::Client::create_file_system).then_compute_output(move |r| {
        c.lock().unwrap().creates.push(r.clone());
        CreateFileSystemOutput::builder()
            .file_system(target(fsx::FileSystemLifecycle::Creating))
            .build()
    });
    let c = Arc::clone(cloud);
    let tag_fs = mock!(aws_sdk_fsx::Client::tag_resource).then_compute_output(move |r| {
        assert!(r.resource_arn().is_some_and(|arn| arn.ends_with(SOURCE)), "{r:?}");
        let mut cloud = c.lock().unwrap();
        for tag in r.tags() {
            cloud.source_tags.retain(|t| t.key() != tag.key());
            cloud.source_tags.push(tag.clone());
        }
        aws_sdk_fsx::operation::tag_resource::TagResourceOutput::builder().build()
    });
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_output(|| {
        use aws_sdk_ec2::types::{GroupIdentifier, NetworkInterface};
        aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput::builder()
            .network_interfaces(
                NetworkInterface::builder()
                    .groups(GroupIdentifier::builder().group_id("sg-1").build())
                    .build(),
            )
            .build()
    });
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
        use aws_sdk_ec2::types::Subnet;
        let subnet = |id: &str, az: &str| {
            Subnet::builder()
                .subnet_id(id)
                .availability_zone(az)
                .vpc_id("vpc-1")
                .build()
        };
        aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder()
            .subnets(subnet("subnet-a", "eu-west-1a"))
            .subnets(subnet("subnet-b", "eu-west-1b"))
            .build()
    });
    // The source's group, copied to the target: SMB within itself (DataSync's interfaces), all traffic out.
    let groups = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        use aws_sdk_ec2::types::{IpPermission, IpRange, SecurityGroup, UserIdGroupPair};
        aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder()
            .security_groups(
                SecurityGroup::builder()
                    .group_id("sg-1")
                    .ip_permissions(
                        IpPermission::builder()
                            .ip_protocol("tcp")
                            .from_port(445)
                            .to_port(445)
                            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
                            .build(),
                    )
                    .ip_permissions_egress(
                        IpPermission::builder()
                            .ip_protocol("-1")
                            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let zone = mock!(aws_sdk_route53::Client::get_hosted_zone).then_output(|| {
        GetHostedZoneOutput::builder()
            .hosted_zone(
                HostedZone::builder()
                    .id("/hostedzone/Z0123456789")
                    .name("corp.example.com.")
                    .caller_reference("ref")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let records = mock!(aws_sdk_route53::Client::list_resource_record_sets).then_output(|| {
        ListResourceRecordSetsOutput::builder()
            .resource_record_sets(
                ResourceRecordSet::builder()
                    .name("files.corp.example.com.")
                    .r#type(RrType::Cname)
                    .ttl(60)
                    .resource_records(ResourceRecord::builder().value(SOURCE_DNS).build().unwrap())
                    .build()
                    .unwrap(),
            )
            .is_truncated(false)
            .max_items(300)
            .build()
            .unwrap()
    });
    let c = Arc::clone(cloud);
    let upsert = mock!(aws_sdk_route53::Client::change_resource_record_sets).then_compute_output(move |r| {
        c.lock().unwrap().upserts.push(r.clone());
        ChangeResourceRecordSetsOutput::builder()
            .change_info(change_info(ChangeStatus::Pending))
            .build()
    });
    let c = Arc::clone(cloud);
    let get_change = mock!(aws_sdk_route53::Client::get_change).then_compute_output(move |_| {
        let mut cloud = c.lock().unwrap();
        cloud.change_polls += 1;
        let status = if cloud.change_polls < 2 {
            ChangeStatus::Pending
        } else {
            ChangeStatus::Insync
        };
        GetChangeOutput::builder()
            .change_info(change_info(status))
            .build()
    });
    let c = Arc::clone(cloud);
    let list_locations = mock!(aws_sdk_datasync::Client::list_locations).then_compute_output(move |_| {
        let mut out = ListLocationsOutput::builder();
        for (arn, _) in &c.lock().unwrap().locations {
            out = out.locations(
                ds::LocationListEntry::builder()
                    .location_arn(arn)
                    .location_uri("fsxw://x/share/")
                    .build(),
            );
        }
        out.build()
    });
    let c = Arc::clone(cloud);
    let list_tasks = mock!(aws_sdk_datasync::Client::list_tasks).then_compute_output(move |_| {
        let mut out = ListTasksOutput::builder();
        if c.lock().unwrap().task_tags.is_some() {
            out = out.tasks(ds::TaskListEntry::builder().task_arn(TASK).build());
        }
        out.build()
    });
    let c = Arc::clone(cloud);
    let tags = mock!(aws_sdk_datasync::Client::list_tags_for_resource).then_compute_output(move |r| {
        let cloud = c.lock().unwrap();
        let arn = r.resource_arn().unwrap_or_default();
        let tags = if arn == TASK {
            cloud.task_tags.clone().unwrap_or_default()
        } else if let Some(execution) = cloud.executions.iter().find(|e| e.arn == arn) {
            execution.tags.clone()
        } else {
            cloud
                .locations
                .iter()
                .find(|(a, _)| a == arn)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        ListTagsForResourceOutput::builder().set_tags(Some(tags)).build()
    });
    let c = Arc::clone(cloud);
    let create_location =
        mock!(aws_sdk_datasync::Client::create_location_fsx_windows).then_compute_output(move |r| {
            let mut cloud = c.lock().unwrap();
            let arn = format!(
                "arn:aws:datasync:eu-west-1:123456789012:location/loc-{:017}",
                cloud.locations.len() + 1
            );
            cloud.locations.push((arn.clone(), r.tags().to_vec()));
            CreateLocationFsxWindowsOutput::builder()
                .location_arn(arn)
                .build()
        });
    let c = Arc::clone(cloud);
    let create_task = mock!(aws_sdk_datasync::Client::create_task).then_compute_output(move |r| {
        let mut cloud = c.lock().unwrap();
        assert!(cloud.task_tags.is_none(), "a second task was created");
        cloud.task_tags = Some(r.tags().to_vec());
        CreateTaskOutput::builder().task_arn(TASK).build()
    });
    let c = Arc::clone(cloud);
    let list_executions =
        mock!(aws_sdk_datasync::Client::list_task_executions).then_compute_output(move |_| {
            let mut out = ListTaskExecutionsOutput::builder();
            for execution in &c.lock().unwrap().executions {
                out = out.task_executions(
                    ds::TaskExecutionListEntry::builder()
                        .task_execution_arn(&execution.arn)
                        .build(),
                );
            }
            out.build()
        });
    let c = Arc::clone(cloud);
    let now = clock.clone();
    let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_compute_output(move |r| {
        let mut cloud = c.lock().unwrap();
        if cloud.running().is_some() {
            cloud.started_while_running += 1;
        }
        cloud.starts.push(r.clone());
        let arn = format!("{TASK}/execution/exec-{:017}", cloud.executions.len() + 1);
        cloud.executions.push(Execution {
            arn: arn.clone(),
            describes: 0,
            started_at: aws_smithy_types::DateTime::from_secs(now.now().as_second()),
            tags: r.tags().to_vec(),
        });
        StartTaskExecutionOutput::builder()
            .task_execution_arn(arn)
            .build()
    });
    let c = Arc::clone(cloud);
    let describe_execution =
        mock!(aws_sdk_datasync::Client::describe_task_execution).then_compute_output(move |r| {
            let mut cloud = c.lock().unwrap();
            let arn = r.task_execution_arn().unwrap_or_default().to_string();
            let entry = cloud
                .executions
                .iter_mut()
                .find(|e| e.arn == arn)
                .expect("known execution");
            entry.describes += 1;
            let done = entry.describes >= 2;
            DescribeTaskExecutionOutput::builder()
                .task_execution_arn(arn)
                .start_time(entry.started_at)
                .status(if done {
                    ds::TaskExecutionStatus::Success
                } else {
                    ds::TaskExecutionStatus::Transferring
                })
                .files_transferred(10)
                .bytes_transferred(10_000)
                .result(
                    ds::TaskExecutionResultDetail::builder()
                        .prepare_duration(5_000)
                        .transfer_duration(1_000)
                        .build(),
                )
                .build()
        });
    let secret = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(|| {
        aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput::builder()
            .secret_string(PASSWORD)
            .build()
    });
    vec![
        ("fsx", describe_fs),
        ("fsx", create_fs),
        ("fsx", tag_fs),
        ("ec2", enis),
        ("ec2", subnets),
        ("ec2", groups),
        ("route53", zone),
        ("route53", records),
        ("route53", upsert),
        ("route53", get_change),
        ("datasync", list_locations),
        ("datasync", list_tasks),
        ("datasync", tags),
        ("datasync", create_location),
        ("datasync", create_task),
        ("datasync", list_executions),
        ("datasync", start),
        ("datasync", describe_execution),
        ("secrets", secret),
    ]
}

fn port(rules: &[(&'static str, Rule)]) -> fsx_migrate::aws::AwsPort {
    let pick = |service: &str| {
        rules
            .iter()
            .filter(|(s, _)| *s == service)
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
    };
    support::port(Rules {
        fsx: pick("fsx"),
        datasync: pick("datasync"),
        route53: pick("route53"),
        ec2: pick("ec2"),
        secrets: pick("secrets"),
        logs: pick("logs"),
        ssm: pick("ssm"),
    })
}

async fn plan(port: &mut fsx_migrate::aws::AwsPort) -> Intent {
    let request = PlanRequest {
        source_file_system_id: SOURCE.into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        preferred_subnet_id: "subnet-a".into(),
        hosted_zone_id: "Z0123456789".into(),
        record_name: "files.corp.example.com".into(),
        name_provider: fsx_migrate::plan::intent::NameProvider::Route53,
        zone_name: None,
        dns_servers: Vec::new(),
        share_path: None,
        name: None,
        freeze: FreezeKind::Manual,
        freeze_command: None,
        unfreeze_command: None,
        windows: None,
        smb_user: "svc-datasync".into(),
        smb_password: PasswordSource::SecretsManager(SECRET.into()),
        ttl: 60,
        plan_id: Some("fxm-aws".into()),
    };
    let Ok(Response::Environment(env)) = port.execute(&Command::Inspect(request.inspect_request())).await
    else {
        panic!("inspect failed")
    };
    let mut intent = intent_from(&env, &request).expect("source found");
    intent.target.ad_join_password = Some(PasswordSource::SecretsManager(SECRET.into()));
    intent
}

async fn drive(
    port: &mut fsx_migrate::aws::AwsPort,
    clock: &Clock,
    intent: &Intent,
    checkpoint: &Checkpoint,
    crash_at: Option<u64>,
) -> (Outcome, Checkpoint, u64) {
    let mut store = MemoryStore {
        last: Some(checkpoint.clone()),
    };
    let mut quiet = Quiet;
    let options = RunOptions {
        ..RunOptions::default()
    };
    let mut driver = Driver::new(
        port,
        clock.clone(),
        intent.clone(),
        checkpoint.clone(),
        &mut store,
        options,
        &mut quiet,
    );
    driver.answers = fsx_migrate::engine::driver::Answers::AlwaysYes;
    driver.crash_at = crash_at;
    let outcome = driver.drive().await.expect("drive");
    let passed = driver.boundaries_passed();
    drop(driver);
    (outcome, store.last.unwrap_or_default(), passed)
}

#[tokio::test]
async fn a_whole_migration_through_the_aws_adapter_survives_a_crash_at_every_boundary() {
    let probe_cloud = Arc::new(Mutex::new(Cloud::default()));
    let probe_clock = start();
    let rules = services(&probe_cloud, &probe_clock);
    let mut probe = port(&rules);
    let mut intent = plan(&mut probe).await;
    // These stateful mocks have no CloudWatch Logs (tests/aws/logs.rs covers EnsureLogGroup).
    intent.transfer.cloudwatch_log_group_arn = None;
    assert!(
        intent.target.security_group_ids == ["sg-1"],
        "security groups come from the source's ENIs"
    );
    let (outcome, _, boundaries) =
        drive(&mut probe, &probe_clock, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert!(boundaries > 20, "{boundaries}");

    for k in 0..boundaries {
        let cloud = Arc::new(Mutex::new(Cloud::default()));
        let clock = start();
        let rules = services(&cloud, &clock);
        let mut aws = port(&rules);
        let (first, cp, _) = drive(&mut aws, &clock, &intent, &Checkpoint::default(), Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        let (second, cp, _) = drive(&mut aws, &clock, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");

        let cloud = cloud.lock().unwrap();
        // One target: every CreateFileSystem carried the plan's token and the same request.
        assert!(!cloud.creates.is_empty());
        for create in &cloud.creates {
            assert_eq!(
                create.client_request_token(),
                Some(intent.target_client_token().as_str())
            );
            assert_eq!(
                create, &cloud.creates[0],
                "boundary {k}: a resent CreateFileSystem differs"
            );
        }
        assert_eq!(
            create_summary(&cloud.creates[0]),
            ("MULTI_AZ_1".to_string(), 2, Some("subnet-a".to_string()))
        );
        // Two locations, one task, three executions (initial, incremental, final), never two at once.
        assert_eq!(cloud.locations.len(), 2, "boundary {k}");
        assert_eq!(cloud.executions.len(), 3, "boundary {k}: {:?}", cloud.executions);
        assert_eq!(cloud.started_while_running, 0, "boundary {k}");
        let last = cloud.starts.last().unwrap().override_options().unwrap();
        assert_eq!(
            last.preserve_deleted_files(),
            Some(&ds::PreserveDeletedFiles::Remove)
        );
        // The DNS swap pointed the CNAME at the target with the plan's TTL.
        let upsert = cloud.upserts.last().expect("DNS swapped");
        let set = upsert.change_batch().unwrap().changes()[0]
            .resource_record_set()
            .unwrap();
        assert_eq!(
            (set.ttl(), set.resource_records()[0].value()),
            (Some(60), TARGET_DNS)
        );
        // The freeze is recorded on the source, for this plan.
        let frozen: Vec<_> = cloud.source_tags.iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(
            frozen,
            [(Some(FROZEN_TAG), Some(intent.migration.id.as_str()))],
            "boundary {k}"
        );
        assert_eq!(cp.target_file_system_id.as_deref(), Some(TARGET));
        assert_eq!(cp.syncs().len(), 3);
        let persisted = toml::to_string(&cp).unwrap();
        assert!(!persisted.contains(PASSWORD), "a password reached the checkpoint");
    }
}

/// Simulated time shared by the runs of one test, like the wall clock across process restarts.
fn start() -> Clock {
    Clock::virtual_at("2026-12-01T08:00:00Z".parse().unwrap())
}

fn create_summary(create: &CreateFileSystemInput) -> (String, usize, Option<String>) {
    let windows = create.windows_configuration().unwrap();
    (
        windows
            .deployment_type()
            .map(|d| d.as_str().to_string())
            .unwrap_or_default(),
        create.subnet_ids().len(),
        windows.preferred_subnet_id().map(str::to_string),
    )
}
