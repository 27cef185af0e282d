//! Typed request tests for the FSx, EC2 and Route 53 reads behind `Inspect`, and for CreateTarget /
//! DescribeFileSystem.

use aws_sdk_fsx::operation::create_file_system::{CreateFileSystemInput, CreateFileSystemOutput};
use aws_sdk_fsx::operation::describe_file_systems::{DescribeFileSystemsError, DescribeFileSystemsOutput};
use aws_sdk_fsx::types as fsx;
use aws_smithy_mocks::mock;

use fsx_migrate::cloud::model::PasswordSource;
use fsx_migrate::cloud::model::{
    ActiveDirectory, DeploymentType, DnsRecord, FileSystemType, Lifecycle, StorageType, SubnetInfo,
};
use fsx_migrate::cloud::port::{
    CloudPort, Command, CreateTargetRequest, ErrorClass, FROZEN_TAG, InspectRequest, MigrationResource,
    PLAN_TAG, ResourceKind, Response, SOURCE_TAG,
};

use super::support::{self, PASSWORD, Recorder, Rules, SOURCE_ARN};

pub(super) fn source_file_system() -> fsx::FileSystem {
    fsx::FileSystem::builder()
        .file_system_id("fs-0source000000001")
        .resource_arn(SOURCE_ARN)
        .file_system_type(fsx::FileSystemType::Windows)
        .lifecycle(fsx::FileSystemLifecycle::Available)
        .storage_capacity(2048)
        .storage_type(fsx::StorageType::Ssd)
        .vpc_id("vpc-1")
        .subnet_ids("subnet-a")
        .network_interface_ids("eni-1")
        .network_interface_ids("eni-2")
        .dns_name("amznfsxabcd1234.corp.example.com")
        .kms_key_id("arn:aws:kms:eu-west-1:123456789012:key/k-1")
        .tags(fsx::Tag::builder().key("Name").value("files").build())
        .tags(
            fsx::Tag::builder()
                .key("aws:cloudformation:stack-name")
                .value("stack")
                .build(),
        )
        .windows_configuration(
            fsx::WindowsFileSystemConfiguration::builder()
                .deployment_type(fsx::WindowsDeploymentType::SingleAz2)
                .throughput_capacity(64)
                .self_managed_active_directory_configuration(
                    fsx::SelfManagedActiveDirectoryAttributes::builder()
                        .domain_name("corp.example.com")
                        .organizational_unit_distinguished_name("OU=FSx,DC=corp,DC=example,DC=com")
                        .file_system_administrators_group("FSxAdmins")
                        .user_name("svc-fsx-join")
                        .dns_ips("10.0.0.10")
                        .dns_ips("10.0.1.10")
                        .build(),
                )
                .automatic_backup_retention_days(14)
                .daily_automatic_backup_start_time("02:30")
                .weekly_maintenance_start_time("6:03:00")
                .copy_tags_to_backups(true)
                .audit_log_configuration(
                    fsx::WindowsAuditLogConfiguration::builder()
                        .file_access_audit_log_level(fsx::WindowsAccessAuditLogLevel::SuccessAndFailure)
                        .file_share_access_audit_log_level(fsx::WindowsAccessAuditLogLevel::FailureOnly)
                        .audit_log_destination("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/audit")
                        .build(),
                )
                .disk_iops_configuration(
                    fsx::DiskIopsConfiguration::builder()
                        .mode(fsx::DiskIopsConfigurationMode::UserProvisioned)
                        .iops(12_000)
                        .build(),
                )
                .fsrm_configuration(
                    fsx::WindowsFsrmConfiguration::builder()
                        .fsrm_service_enabled(true)
                        .event_log_destination("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/fsrm")
                        .build(),
                )
                .build(),
        )
        .network_type(fsx::NetworkType::Dual)
        .build()
}

/// A file system with only an id and these tags, as DescribeFileSystems lists it.
fn tagged_file_system(id: &str, tags: &[(&str, &str)]) -> fsx::FileSystem {
    let mut fs = fsx::FileSystem::builder().file_system_id(id);
    for (k, v) in tags {
        fs = fs.tags(fsx::Tag::builder().key(*k).value(*v).build());
    }
    fs.build()
}

fn inspect_request() -> InspectRequest {
    InspectRequest {
        source_file_system_id: "fs-0source000000001".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        hosted_zone_id: "Z0123456789".into(),
        record_name: "files.corp.example.com".into(),
        name_service: None,
        password_sources: vec![],
        security_group_ids: None,
    }
}

#[tokio::test]
async fn inspect_copies_every_setting_reads_security_groups_subnets_and_pages_records_by_hand() {
    use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
    use aws_sdk_ec2::operation::describe_subnets::{DescribeSubnetsInput, DescribeSubnetsOutput};
    use aws_sdk_ec2::types::{GroupIdentifier, NetworkInterface, Subnet};
    use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
    use aws_sdk_route53::operation::list_resource_record_sets::{
        ListResourceRecordSetsInput, ListResourceRecordSetsOutput,
    };
    use aws_sdk_route53::types::{HostedZone, ResourceRecord, ResourceRecordSet, RrType};

    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .match_requests(|r| r.file_system_ids() == ["fs-0source000000001"])
        .then_output(|| {
            DescribeFileSystemsOutput::builder()
                .file_systems(source_file_system())
                .build()
        });
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
        .match_requests(|r| r.network_interface_ids() == ["eni-1", "eni-2"])
        .then_output(|| {
            let eni = |groups: &[&str]| {
                let mut b = NetworkInterface::builder();
                for g in groups {
                    b = b.groups(GroupIdentifier::builder().group_id(*g).build());
                }
                b.build()
            };
            DescribeNetworkInterfacesOutput::builder()
                .network_interfaces(eni(&["sg-2", "sg-1"]))
                .network_interfaces(eni(&["sg-1", "sg-3"]))
                .build()
        });
    let subnet_requests = Recorder::<DescribeSubnetsInput>::new();
    let seen = subnet_requests.clone();
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets).then_compute_output(move |r| {
        seen.record(r);
        let subnet = |id: &str, az: &str| {
            Subnet::builder()
                .subnet_id(id)
                .availability_zone(az)
                .vpc_id("vpc-1")
                .available_ip_address_count(if az.ends_with('a') { 200 } else { 7 })
                .build()
        };
        // Answered out of order: the adapter returns them in the order asked.
        DescribeSubnetsOutput::builder()
            .subnets(subnet("subnet-b", "eu-west-1b"))
            .subnets(subnet("subnet-a", "eu-west-1a"))
            .build()
    });
    let zone = mock!(aws_sdk_route53::Client::get_hosted_zone)
        .match_requests(|r| r.id() == Some("Z0123456789"))
        .then_output(|| {
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
    let rrset = |name: &str, kind: RrType, value: &str| {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(kind)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap())
            .build()
            .unwrap()
    };
    let list_requests = Recorder::<ListResourceRecordSetsInput>::new();
    let seen = list_requests.clone();
    let records = mock!(aws_sdk_route53::Client::list_resource_record_sets).then_compute_output(move |r| {
        seen.record(r);
        if r.start_record_name().is_none() {
            ListResourceRecordSetsOutput::builder()
                .resource_record_sets(rrset(
                    "corp.example.com.",
                    RrType::Soa,
                    "ns.example.com. 1 2 3 4 5",
                ))
                .resource_record_sets(rrset("apps.corp.example.com.", RrType::A, "10.0.0.5"))
                .is_truncated(true)
                .next_record_name("Files.corp.example.com.")
                .next_record_type(RrType::Cname)
                .max_items(2)
                .build()
                .unwrap()
        } else {
            ListResourceRecordSetsOutput::builder()
                .resource_record_sets(rrset(
                    "Files.corp.example.com.",
                    RrType::Cname,
                    "amznfsxabcd1234.corp.example.com",
                ))
                .is_truncated(false)
                .max_items(2)
                .build()
                .unwrap()
        }
    });

    // Another plan already made a target for this source: Inspect reports it (preflight refuses).
    let listing = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .match_requests(|r| r.file_system_ids().is_empty())
        .then_output(|| {
            DescribeFileSystemsOutput::builder()
                .file_systems(source_file_system())
                .file_systems(tagged_file_system(
                    "fs-0earlier00000001",
                    &[(PLAN_TAG, "plan-old"), (SOURCE_TAG, "fs-0source000000001")],
                ))
                .build()
        });
    let (_, no_tasks) = support::no_migration_resources();
    let mut port = support::port(Rules {
        fsx: vec![&describe, &listing],
        ec2: vec![&enis, &subnets],
        route53: vec![&zone, &records],
        datasync: vec![&no_tasks],
        ..Default::default()
    });
    let Ok(Response::Environment(env)) = port.execute(&Command::Inspect(inspect_request())).await else {
        panic!("Inspect must answer with an Environment");
    };
    assert_eq!(
        env.migration_resources,
        [MigrationResource {
            kind: ResourceKind::FileSystem,
            id: "fs-0earlier00000001".into(),
            plan_id: "plan-old".into(),
            source_file_system_id: "fs-0source000000001".into(),
        }]
    );
    assert!(env.unresolved_passwords.is_empty());

    let source = env.source.expect("the source exists");
    assert_eq!(source.id, "fs-0source000000001");
    assert_eq!(source.arn, SOURCE_ARN);
    assert_eq!(source.file_system_type, FileSystemType::Windows);
    assert_eq!(source.deployment_type, DeploymentType::SingleAz2);
    assert_eq!(source.lifecycle, Lifecycle::Available);
    assert_eq!(source.vpc_id, "vpc-1");
    assert_eq!(source.dns_name, "amznfsxabcd1234.corp.example.com");
    assert_eq!(source.security_group_ids, ["sg-1", "sg-2", "sg-3"]);
    // Every copied setting equals what plan would write (the shared sample), aws: tags left out.
    assert_eq!(source.settings, support::settings());

    assert_eq!(
        env.subnets,
        [
            SubnetInfo {
                id: "subnet-a".into(),
                availability_zone: "eu-west-1a".into(),
                vpc_id: "vpc-1".into(),
                available_ip_addresses: Some(200),
            },
            SubnetInfo {
                id: "subnet-b".into(),
                availability_zone: "eu-west-1b".into(),
                vpc_id: "vpc-1".into(),
                available_ip_addresses: Some(7),
            },
        ]
    );
    let subnet_request = subnet_requests.only();
    let filter = &subnet_request.filters()[0];
    assert_eq!(filter.name(), Some("subnet-id"));
    assert_eq!(filter.values(), ["subnet-a", "subnet-b"]);

    assert_eq!(env.hosted_zone_name.as_deref(), Some("corp.example.com."));
    assert_eq!(
        env.record,
        Some(DnsRecord {
            name: "Files.corp.example.com.".into(),
            record_type: "CNAME".into(),
            values: vec!["amznfsxabcd1234.corp.example.com".into()],
            ttl: Some(300),
        })
    );
    let pages = list_requests.all();
    assert_eq!(pages.len(), 2, "the second page is fetched by hand");
    assert_eq!(pages[1].start_record_name(), Some("Files.corp.example.com."));
    assert_eq!(pages[1].start_record_type(), Some(&RrType::Cname));
    assert!(pages.iter().all(|p| p.hosted_zone_id() == Some("Z0123456789")));
}

#[tokio::test]
async fn inspect_reports_missing_things_as_absent_not_as_errors() {
    use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
    use aws_sdk_ec2::types::Subnet;
    use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneError;
    use aws_sdk_route53::types::error::NoSuchHostedZone;

    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .match_requests(|r| !r.file_system_ids().is_empty())
        .then_error(|| {
            DescribeFileSystemsError::FileSystemNotFound(
                fsx::error::FileSystemNotFound::builder()
                    .message("File system 'fs-0source000000001' does not exist.")
                    .build(),
            )
        });
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
        DescribeSubnetsOutput::builder()
            .subnets(
                Subnet::builder()
                    .subnet_id("subnet-b")
                    .availability_zone("eu-west-1b")
                    .vpc_id("vpc-1")
                    .build(),
            )
            .build()
    });
    let zone = mock!(aws_sdk_route53::Client::get_hosted_zone).then_error(|| {
        GetHostedZoneError::NoSuchHostedZone(
            NoSuchHostedZone::builder()
                .message("No hosted zone found")
                .build(),
        )
    });
    let (listing, no_tasks) = support::no_migration_resources();
    let mut port = support::port(Rules {
        fsx: vec![&describe, &listing],
        ec2: vec![&subnets],
        route53: vec![&zone],
        datasync: vec![&no_tasks],
        ..Default::default()
    });
    let Ok(Response::Environment(env)) = port.execute(&Command::Inspect(inspect_request())).await else {
        panic!("Inspect must answer with an Environment");
    };
    assert_eq!(env.source, None);
    assert_eq!(env.subnets.len(), 1);
    assert_eq!(env.subnets[0].id, "subnet-b");
    assert_eq!(env.hosted_zone_name, None);
    assert_eq!(
        env.record, None,
        "no ListResourceRecordSets without a zone (the mock would panic)"
    );
}

#[tokio::test]
async fn inspect_filters_by_id_when_the_service_ignores_file_system_ids() {
    use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
    use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
    use aws_sdk_route53::types::HostedZone;

    // An emulator answering with every file system: only the requested one may be taken.
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(fsx::FileSystem::builder().file_system_id("fs-other").build())
            .build()
    });
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets)
        .then_output(|| aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder().build());
    let zone = mock!(aws_sdk_route53::Client::get_hosted_zone).then_output(|| {
        GetHostedZoneOutput::builder()
            .hosted_zone(
                HostedZone::builder()
                    .id("Z0123456789")
                    .name("corp.example.com.")
                    .caller_reference("r")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let records = mock!(aws_sdk_route53::Client::list_resource_record_sets).then_output(|| {
        ListResourceRecordSetsOutput::builder()
            .set_resource_record_sets(Some(vec![]))
            .is_truncated(false)
            .max_items(300)
            .build()
            .unwrap()
    });
    let (_, no_tasks) = support::no_migration_resources();
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ec2: vec![&subnets],
        route53: vec![&zone, &records],
        datasync: vec![&no_tasks],
        ..Default::default()
    });
    let Ok(Response::Environment(env)) = port.execute(&Command::Inspect(inspect_request())).await else {
        panic!("Inspect must answer with an Environment");
    };
    assert_eq!(env.source, None);
    assert!(env.subnets.is_empty());
    assert_eq!(env.record, None);
}

fn create_request() -> CreateTargetRequest {
    CreateTargetRequest {
        client_request_token: "fsx-migrate-plan-42-target".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        preferred_subnet_id: "subnet-a".into(),
        security_group_ids: vec!["sg-1".into(), "sg-2".into()],
        ad_join_password: Some(PasswordSource::SecretsManager(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:join".into(),
        )),
        settings: support::settings(),
        tags: support::plan_tags(&[("Name", "files")]),
    }
}

fn created_output(input: &CreateFileSystemInput) -> CreateFileSystemOutput {
    CreateFileSystemOutput::builder()
        .file_system(
            fsx::FileSystem::builder()
                .file_system_id("fs-0target000000001")
                .resource_arn("arn:aws:fsx:eu-west-1:123456789012:file-system/fs-0target000000001")
                .file_system_type(fsx::FileSystemType::Windows)
                .lifecycle(fsx::FileSystemLifecycle::Creating)
                .storage_capacity(input.storage_capacity().unwrap_or_default())
                .subnet_ids("subnet-a")
                .subnet_ids("subnet-b")
                .windows_configuration(
                    fsx::WindowsFileSystemConfiguration::builder()
                        .deployment_type(fsx::WindowsDeploymentType::MultiAz1)
                        .build(),
                )
                .build(),
        )
        .build()
}

fn join_secret() -> aws_smithy_mocks::Rule {
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|r| {
            r.secret_id() == Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:join")
        })
        .then_output(|| {
            GetSecretValueOutput::builder()
                .secret_string(format!(
                    r#"{{"username":"svc-fsx-join","password":"{PASSWORD}"}}"#
                ))
                .build()
        })
}

#[tokio::test]
async fn create_target_sends_multi_az_both_subnets_copied_settings_and_the_plan_token_again_on_resume() {
    let requests = Recorder::<CreateFileSystemInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_fsx::Client::create_file_system).then_compute_output(move |r| {
        seen.record(r);
        created_output(r)
    });
    let secret = join_secret();
    let mut port = support::port(Rules {
        fsx: vec![&create],
        secrets: vec![&secret],
        ..Default::default()
    });

    let command = Command::CreateTarget(create_request());
    for _ in 0..2 {
        let Ok(Response::FileSystem(target)) = port.execute(&command).await else {
            panic!("CreateTarget must answer with the file system");
        };
        assert_eq!(target.id, "fs-0target000000001");
        assert_eq!(target.lifecycle, Lifecycle::Creating);
        assert_eq!(target.deployment_type, DeploymentType::MultiAz1);
        assert_eq!(target.security_group_ids, ["sg-1", "sg-2"]);
    }

    let sent = requests.all();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "a resumed create sends the very same request");
    let r = &sent[0];
    assert_eq!(r.client_request_token(), Some("fsx-migrate-plan-42-target"));
    assert_eq!(r.file_system_type(), Some(&fsx::FileSystemType::Windows));
    assert_eq!(r.storage_capacity(), Some(2048));
    assert_eq!(r.storage_type(), Some(&fsx::StorageType::Ssd));
    assert_eq!(r.subnet_ids(), ["subnet-a", "subnet-b"]);
    assert_eq!(r.security_group_ids(), ["sg-1", "sg-2"]);
    assert_eq!(r.kms_key_id(), Some("arn:aws:kms:eu-west-1:123456789012:key/k-1"));
    let tags: Vec<(&str, &str)> = r
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags, [("Name", "files"), ("fsx-migrate:plan-id", "plan-42")]);

    let w = r.windows_configuration().expect("WindowsConfiguration");
    assert_eq!(w.deployment_type(), Some(&fsx::WindowsDeploymentType::MultiAz1));
    assert_eq!(w.preferred_subnet_id(), Some("subnet-a"));
    assert_eq!(w.throughput_capacity(), Some(64));
    assert_eq!(w.automatic_backup_retention_days(), Some(14));
    assert_eq!(w.daily_automatic_backup_start_time(), Some("02:30"));
    assert_eq!(w.weekly_maintenance_start_time(), Some("6:03:00"));
    assert_eq!(w.copy_tags_to_backups(), Some(true));
    assert_eq!(w.active_directory_id(), None);
    let ad = w
        .self_managed_active_directory_configuration()
        .expect("self-managed AD");
    assert_eq!(ad.domain_name(), Some("corp.example.com"));
    assert_eq!(
        ad.organizational_unit_distinguished_name(),
        Some("OU=FSx,DC=corp,DC=example,DC=com")
    );
    assert_eq!(ad.file_system_administrators_group(), Some("FSxAdmins"));
    assert_eq!(ad.user_name(), Some("svc-fsx-join"));
    assert_eq!(
        ad.password(),
        Some(PASSWORD),
        "the join password comes from the secret's password key"
    );
    assert_eq!(ad.dns_ips(), ["10.0.0.10", "10.0.1.10"]);
    let audit = w.audit_log_configuration().expect("audit log");
    assert_eq!(
        audit.file_access_audit_log_level(),
        Some(&fsx::WindowsAccessAuditLogLevel::SuccessAndFailure)
    );
    assert_eq!(
        audit.file_share_access_audit_log_level(),
        Some(&fsx::WindowsAccessAuditLogLevel::FailureOnly)
    );
    assert_eq!(
        audit.audit_log_destination(),
        Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/audit")
    );
    let iops = w.disk_iops_configuration().expect("disk IOPS");
    assert_eq!(
        iops.mode(),
        Some(&fsx::DiskIopsConfigurationMode::UserProvisioned)
    );
    assert_eq!(iops.iops(), Some(12_000));

    // The password is in the request, but never in anything printed.
    let printed = format!("{r:?} {command:?}");
    assert!(!printed.contains(PASSWORD), "password leaked into Debug output");
}

#[tokio::test]
async fn create_target_with_managed_ad_and_automatic_iops_sends_only_what_fsx_accepts() {
    let requests = Recorder::<CreateFileSystemInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_fsx::Client::create_file_system).then_compute_output(move |r| {
        seen.record(r);
        created_output(r)
    });
    let mut port = support::port(Rules {
        fsx: vec![&create],
        ..Default::default()
    });
    let mut request = create_request();
    request.ad_join_password = None;
    request.settings.active_directory = Some(ActiveDirectory::Managed {
        directory_id: "d-1234567890".into(),
        domain_name: Some("corp.example.com".into()),
    });
    request.settings.disk_iops = Some(fsx_migrate::cloud::model::DiskIops {
        mode: "AUTOMATIC".into(),
        iops: Some(6144),
    });
    request.settings.audit_log = None;
    request.settings.kms_key_id = None;
    port.execute(&Command::CreateTarget(request))
        .await
        .expect("created");

    let w = requests
        .only()
        .windows_configuration()
        .cloned()
        .expect("WindowsConfiguration");
    assert_eq!(w.active_directory_id(), Some("d-1234567890"));
    assert!(w.self_managed_active_directory_configuration().is_none());
    assert_eq!(
        w.disk_iops_configuration().and_then(|d| d.mode()),
        Some(&fsx::DiskIopsConfigurationMode::Automatic)
    );
    assert_eq!(
        w.disk_iops_configuration().and_then(|d| d.iops()),
        None,
        "no IOPS number in AUTOMATIC mode"
    );
    assert!(w.audit_log_configuration().is_none());

    // HDD: no SSD IOPS configuration at all.
    let mut hdd = create_request();
    hdd.ad_join_password = None;
    hdd.settings.active_directory = None;
    hdd.settings.storage_type = StorageType::Hdd;
    port.execute(&Command::CreateTarget(hdd)).await.expect("created");
    let last = requests.all().pop().expect("second request");
    assert_eq!(last.storage_type(), Some(&fsx::StorageType::Hdd));
    assert!(
        last.windows_configuration()
            .and_then(|w| w.disk_iops_configuration())
            .is_none()
    );
}

#[tokio::test]
async fn create_target_for_a_self_managed_ad_without_a_password_source_is_rejected_before_any_call() {
    let mut port = support::port(Rules::default());
    let mut request = create_request();
    request.ad_join_password = None;
    let err = port
        .execute(&Command::CreateTarget(request))
        .await
        .expect_err("must be refused");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.operation, "fsx:CreateFileSystem");
    assert!(err.message.contains("ad_join_password"), "{err}");
}

#[tokio::test]
async fn describe_file_system_maps_lifecycle_and_failure_details() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems)
        .match_requests(|r| r.file_system_ids() == ["fs-0target000000001"])
        .then_output(|| {
            DescribeFileSystemsOutput::builder()
                .file_systems(
                    fsx::FileSystem::builder()
                        .file_system_id("fs-0target000000001")
                        .lifecycle(fsx::FileSystemLifecycle::Failed)
                        .failure_details(
                            fsx::FileSystemFailureDetails::builder()
                                .message("Amazon FSx is unable to reach the DNS servers for the domain.")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let command = Command::DescribeFileSystem {
        file_system_id: "fs-0target000000001".into(),
    };
    let Ok(Response::FileSystem(fs)) = port.execute(&command).await else {
        panic!("a file system")
    };
    assert_eq!(fs.lifecycle, Lifecycle::Failed);
    assert_eq!(
        fs.failure_message.as_deref(),
        Some("Amazon FSx is unable to reach the DNS servers for the domain.")
    );
}

#[tokio::test]
async fn describe_file_system_shows_unknown_lifecycle_values_verbatim() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_http_response(|| {
        support::http(
            200,
            r#"{"FileSystems":[{"FileSystemId":"fs-0target000000001","Lifecycle":"HIBERNATING","FileSystemType":"WINDOWS"}]}"#,
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let command = Command::DescribeFileSystem {
        file_system_id: "fs-0target000000001".into(),
    };
    let Ok(Response::FileSystem(fs)) = port.execute(&command).await else {
        panic!("a file system")
    };
    assert_eq!(fs.lifecycle, Lifecycle::Unknown("HIBERNATING".into()));
}

#[tokio::test]
async fn describe_file_system_that_does_not_exist_is_not_found() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_http_response(|| {
        support::json_error(
            400,
            "FileSystemNotFound",
            "File system 'fs-0gone' does not exist.",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let command = Command::DescribeFileSystem {
        file_system_id: "fs-0gone".into(),
    };
    let err = port.execute(&command).await.expect_err("not found");
    assert_eq!(err.class, ErrorClass::NotFound);
    assert_eq!(err.code, "FileSystemNotFound");
    assert_eq!(err.operation, "fsx:DescribeFileSystems");
}

#[tokio::test]
async fn find_migration_resources_returns_every_plans_target_and_task_for_the_source_only() {
    use aws_sdk_datasync::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_datasync::operation::list_tasks::ListTasksOutput;
    use aws_sdk_datasync::types::{TagListEntry, TaskListEntry};
    use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsInput;

    const SOURCE: &str = "fs-0source000000001";
    let listed = Recorder::<DescribeFileSystemsInput>::new();
    let seen = listed.clone();
    let file_systems = mock!(aws_sdk_fsx::Client::describe_file_systems).then_compute_output(move |r| {
        seen.record(r);
        match r.next_token() {
            None => DescribeFileSystemsOutput::builder()
                .file_systems(source_file_system())
                .file_systems(tagged_file_system(
                    "fs-0plana000000001",
                    &[(PLAN_TAG, "plan-a"), (SOURCE_TAG, SOURCE)],
                ))
                .file_systems(tagged_file_system(
                    "fs-0othersource001",
                    &[(PLAN_TAG, "plan-c"), (SOURCE_TAG, "fs-0another0000001")],
                ))
                .next_token("page-2")
                .build(),
            Some(_) => DescribeFileSystemsOutput::builder()
                .file_systems(tagged_file_system(
                    "fs-0planb000000001",
                    &[("Name", "files"), (SOURCE_TAG, SOURCE), (PLAN_TAG, "plan-b")],
                ))
                .file_systems(tagged_file_system("fs-0noplantag00001", &[(SOURCE_TAG, SOURCE)]))
                .file_systems(tagged_file_system("fs-0nosourcetag001", &[(PLAN_TAG, "plan-d")]))
                .build(),
        }
    });
    let task = |name: &str| format!("arn:aws:datasync:eu-west-1:123456789012:task/task-{name}");
    let (a, x, b, untagged) = (task("a"), task("x"), task("b"), task("untagged"));
    let (a2, x2, b2, u2) = (a.clone(), x.clone(), b.clone(), untagged.clone());
    let tasks = mock!(aws_sdk_datasync::Client::list_tasks).then_compute_output(move |r| {
        let entry = |arn: &str| TaskListEntry::builder().task_arn(arn).build();
        match r.next_token() {
            None => ListTasksOutput::builder()
                .tasks(entry(&a2))
                .tasks(entry(&x2))
                .next_token("page-2")
                .build(),
            Some(_) => ListTasksOutput::builder()
                .tasks(entry(&b2))
                .tasks(entry(&u2))
                .build(),
        }
    });
    let (ta, tx, tb) = (a.clone(), x.clone(), b.clone());
    let tags = mock!(aws_sdk_datasync::Client::list_tags_for_resource).then_compute_output(move |r| {
        let tag = |k: &str, v: &str| TagListEntry::builder().key(k).value(v).build().unwrap();
        let arn = r.resource_arn().unwrap_or_default();
        let tags = if arn == ta {
            vec![tag(PLAN_TAG, "plan-a"), tag(SOURCE_TAG, SOURCE)]
        } else if arn == tx {
            vec![tag(PLAN_TAG, "plan-x"), tag(SOURCE_TAG, "fs-0another0000001")]
        } else if arn == tb {
            vec![tag(SOURCE_TAG, SOURCE), tag(PLAN_TAG, "plan-b")]
        } else {
            vec![tag("Name", "someone else's task")]
        };
        ListTagsForResourceOutput::builder().set_tags(Some(tags)).build()
    });
    let mut port = support::port(Rules {
        fsx: vec![&file_systems],
        datasync: vec![&tasks, &tags],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::FindMigrationResources {
            source_file_system_id: SOURCE.into(),
        })
        .await;
    let resource = |kind, id: &str, plan: &str| MigrationResource {
        kind,
        id: id.into(),
        plan_id: plan.into(),
        source_file_system_id: SOURCE.into(),
    };
    assert_eq!(
        answer,
        Ok(Response::MigrationResources(vec![
            resource(ResourceKind::FileSystem, "fs-0plana000000001", "plan-a"),
            resource(ResourceKind::FileSystem, "fs-0planb000000001", "plan-b"),
            resource(ResourceKind::Task, &a, "plan-a"),
            resource(ResourceKind::Task, &b, "plan-b"),
        ]))
    );
    let requests = listed.all();
    assert_eq!(requests.len(), 2, "DescribeFileSystems is paginated");
    assert!(
        requests.iter().all(|r| r.file_system_ids().is_empty()),
        "every file system is listed, not only the source"
    );
    assert_eq!(tasks.num_calls(), 2, "ListTasks is paginated");
    assert_eq!(tags.num_calls(), 4, "every task's tags are read");
}

#[tokio::test]
async fn mark_frozen_tags_the_source_with_the_plan_id() {
    use aws_sdk_fsx::operation::tag_resource::{TagResourceInput, TagResourceOutput};
    let requests = Recorder::<TagResourceInput>::new();
    let seen = requests.clone();
    let tag = mock!(aws_sdk_fsx::Client::tag_resource).then_compute_output(move |r| {
        seen.record(r);
        TagResourceOutput::builder().build()
    });
    let mut port = support::port(Rules {
        fsx: vec![&tag],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::MarkFrozen {
            file_system_arn: SOURCE_ARN.into(),
            plan_id: "fxm-finance".into(),
        })
        .await;
    assert_eq!(answer, Ok(Response::MarkedFrozen));
    let sent = requests.only();
    assert_eq!(sent.resource_arn(), Some(SOURCE_ARN));
    let tags: Vec<(&str, &str)> = sent
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags, [(FROZEN_TAG, "fxm-finance")]);
}

#[tokio::test]
async fn unmark_frozen_removes_only_the_freeze_tag() {
    use aws_sdk_fsx::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
    let requests = Recorder::<UntagResourceInput>::new();
    let seen = requests.clone();
    let untag = mock!(aws_sdk_fsx::Client::untag_resource).then_compute_output(move |r| {
        seen.record(r);
        UntagResourceOutput::builder().build()
    });
    let mut port = support::port(Rules {
        fsx: vec![&untag],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::UnmarkFrozen {
            file_system_arn: SOURCE_ARN.into(),
        })
        .await;
    assert_eq!(answer, Ok(Response::UnmarkedFrozen));
    let sent = requests.only();
    assert_eq!(sent.resource_arn(), Some(SOURCE_ARN));
    assert_eq!(sent.tag_keys(), [FROZEN_TAG]);
}

#[tokio::test]
async fn delete_file_system_skips_the_final_backup_with_a_token_and_takes_not_found_as_deleted() {
    use aws_sdk_fsx::operation::delete_file_system::{DeleteFileSystemInput, DeleteFileSystemOutput};
    let requests = Recorder::<DeleteFileSystemInput>::new();
    let seen = requests.clone();
    let delete = mock!(aws_sdk_fsx::Client::delete_file_system).then_compute_output(move |r| {
        seen.record(r);
        DeleteFileSystemOutput::builder()
            .file_system_id("fs-0fedcba9876543210")
            .lifecycle(aws_sdk_fsx::types::FileSystemLifecycle::Deleting)
            .build()
    });
    let gone = mock!(aws_sdk_fsx::Client::delete_file_system).then_http_response(|| {
        support::json_error(
            400,
            "FileSystemNotFound",
            "File system 'fs-0fedcba9876543210' does not exist.",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&delete],
        ..Default::default()
    });
    let command = Command::DeleteFileSystem {
        file_system_id: "fs-0fedcba9876543210".into(),
        client_request_token: "fsx-migrate-delete-fs-0fedcba9876543210".into(),
    };
    let deleted = Ok(Response::Deleted {
        id: "fs-0fedcba9876543210".into(),
    });
    assert_eq!(port.execute(&command).await, deleted);
    let sent = requests.only();
    assert_eq!(sent.file_system_id(), Some("fs-0fedcba9876543210"));
    assert_eq!(
        sent.client_request_token(),
        Some("fsx-migrate-delete-fs-0fedcba9876543210")
    );
    assert_eq!(
        sent.windows_configuration().and_then(|w| w.skip_final_backup()),
        Some(true)
    );
    let mut port = support::port(Rules {
        fsx: vec![&gone],
        ..Default::default()
    });
    assert_eq!(port.execute(&command).await, deleted, "already gone");
    assert_eq!(gone.num_calls(), 1);
}

#[tokio::test]
async fn create_target_copies_fsrm_the_network_type_and_joins_with_the_sources_secret_without_a_password() {
    let requests = Recorder::<CreateFileSystemInput>::new();
    let seen = requests.clone();
    let create = mock!(aws_sdk_fsx::Client::create_file_system).then_compute_output(move |r| {
        seen.record(r);
        created_output(r)
    });
    // No Secrets Manager rule: a join with the source's secret reads no password at all.
    let mut port = support::port(Rules {
        fsx: vec![&create],
        ..Default::default()
    });
    let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fsx-join-AbCdEf";
    let mut request = create_request();
    request.ad_join_password = None;
    request.settings.active_directory = Some(ActiveDirectory::SelfManaged {
        domain_name: "corp.example.com".into(),
        organizational_unit: None,
        administrators_group: Some("FSxAdmins".into()),
        user_name: String::new(),
        dns_ips: vec!["10.0.0.10".into()],
        domain_join_service_account_secret: Some(secret.into()),
    });
    port.execute(&Command::CreateTarget(request))
        .await
        .expect("created");
    let sent = requests.only();
    assert_eq!(sent.network_type(), Some(&fsx::NetworkType::Dual));
    let w = sent.windows_configuration().expect("WindowsConfiguration");
    let fsrm = w.fsrm_configuration().expect("FsrmConfiguration");
    assert_eq!(fsrm.fsrm_service_enabled(), Some(true));
    assert_eq!(
        fsrm.event_log_destination(),
        Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/fsx/fsrm")
    );
    let ad = w
        .self_managed_active_directory_configuration()
        .expect("self-managed AD");
    assert_eq!(ad.domain_join_service_account_secret(), Some(secret));
    assert_eq!(ad.user_name(), None);
    assert_eq!(ad.password(), None);
    assert_eq!(ad.file_system_administrators_group(), Some("FSxAdmins"));
}

#[tokio::test]
async fn describe_reads_fsrm_the_network_type_the_join_secret_and_the_aliases() {
    let describe = mock!(aws_sdk_fsx::Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(
                fsx::FileSystem::builder()
                    .file_system_id("fs-0source000000001")
                    .file_system_type(fsx::FileSystemType::Windows)
                    .network_type(fsx::NetworkType::Dual)
                    .windows_configuration(
                        fsx::WindowsFileSystemConfiguration::builder()
                            .deployment_type(fsx::WindowsDeploymentType::SingleAz2)
                            .remote_administration_endpoint("amznfsxadmin1.corp.example.com")
                            .aliases(
                                fsx::Alias::builder()
                                    .name("files.corp.example.com")
                                    .lifecycle(fsx::AliasLifecycle::Available)
                                    .build(),
                            )
                            .fsrm_configuration(
                                fsx::WindowsFsrmConfiguration::builder()
                                    .fsrm_service_enabled(true)
                                    .build(),
                            )
                            .self_managed_active_directory_configuration(
                                fsx::SelfManagedActiveDirectoryAttributes::builder()
                                    .domain_name("corp.example.com")
                                    .domain_join_service_account_secret(
                                        "arn:aws:secretsmanager:eu-west-1:1:secret:j",
                                    )
                                    .dns_ips("10.0.0.10")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let mut port = support::port(Rules {
        fsx: vec![&describe],
        ..Default::default()
    });
    let Ok(Response::FileSystem(fs)) = port
        .execute(&Command::DescribeFileSystem {
            file_system_id: "fs-0source000000001".into(),
        })
        .await
    else {
        panic!("described")
    };
    assert_eq!(fs.settings.network_type.as_deref(), Some("DUAL"));
    assert_eq!(fs.aliases, ["files.corp.example.com"]);
    assert_eq!(
        fs.remote_administration_endpoint.as_deref(),
        Some("amznfsxadmin1.corp.example.com")
    );
    assert_eq!(
        fs.settings.fsrm,
        Some(fsx_migrate::cloud::model::Fsrm {
            service_enabled: true,
            event_log_destination: None
        })
    );
    let Some(ActiveDirectory::SelfManaged {
        domain_join_service_account_secret,
        user_name,
        ..
    }) = fs.settings.active_directory
    else {
        panic!("self-managed AD")
    };
    assert_eq!(
        domain_join_service_account_secret.as_deref(),
        Some("arn:aws:secretsmanager:eu-west-1:1:secret:j")
    );
    assert_eq!(user_name, "");
}

#[tokio::test]
async fn security_group_rules_are_read_with_a_filter_and_mapped_in_the_order_asked() {
    use aws_sdk_ec2::operation::describe_security_groups::{
        DescribeSecurityGroupsInput, DescribeSecurityGroupsOutput,
    };
    use aws_sdk_ec2::types as ec2;
    use aws_smithy_mocks::{RuleMode, mock_client};
    let requests = Recorder::<DescribeSecurityGroupsInput>::new();
    let seen = requests.clone();
    let describe = mock!(aws_sdk_ec2::Client::describe_security_groups).then_compute_output(move |r| {
        seen.record(r);
        let smb = ec2::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(445)
            .to_port(445)
            .user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id("sg-1").build())
            .ip_ranges(ec2::IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .ipv6_ranges(ec2::Ipv6Range::builder().cidr_ipv6("2001:db8::/56").build())
            .build();
        let all_out = ec2::IpPermission::builder()
            .ip_protocol("-1")
            .prefix_list_ids(ec2::PrefixListId::builder().prefix_list_id("pl-1").build())
            .build();
        DescribeSecurityGroupsOutput::builder()
            .security_groups(ec2::SecurityGroup::builder().group_id("sg-2").build())
            .security_groups(
                ec2::SecurityGroup::builder()
                    .group_id("sg-1")
                    .ip_permissions(smb)
                    .ip_permissions_egress(all_out)
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe]);
    let ids = vec!["sg-1".to_string(), "sg-2".to_string(), "sg-missing".to_string()];
    let groups = fsx_migrate::aws::ec2::security_group_rules(&client, &ids)
        .await
        .expect("described");
    let sent = requests.only();
    let filter = &sent.filters()[0];
    assert_eq!(filter.name(), Some("group-id"));
    assert_eq!(filter.values(), ids);
    let found: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        found,
        ["sg-1", "sg-2"],
        "in the order asked; a missing group left out"
    );
    let smb = &groups[0].inbound[0];
    assert!(smb.allows_tcp(445) && !smb.allows_tcp(446));
    assert_eq!(smb.groups, ["sg-1"]);
    assert_eq!(smb.cidrs, ["10.0.0.0/16", "2001:db8::/56"]);
    let out = &groups[0].outbound[0];
    assert!(
        out.allows_tcp(88) && out.reaches(&[]),
        "all traffic to a prefix list"
    );
}

#[tokio::test]
async fn describe_aliases_reads_every_page_and_keeps_an_unknown_lifecycle() {
    use aws_sdk_fsx::operation::describe_file_system_aliases::{
        DescribeFileSystemAliasesInput, DescribeFileSystemAliasesOutput,
    };
    use fsx_migrate::cloud::model::{AliasInfo, AliasLifecycle};
    let requests = Recorder::<DescribeFileSystemAliasesInput>::new();
    let seen = requests.clone();
    let pages = mock!(aws_sdk_fsx::Client::describe_file_system_aliases).then_compute_output(move |r| {
        seen.record(r);
        match r.next_token() {
            None => DescribeFileSystemAliasesOutput::builder()
                .aliases(
                    fsx::Alias::builder()
                        .name("Finance.corp.example.com")
                        .lifecycle(fsx::AliasLifecycle::Available)
                        .build(),
                )
                .next_token("page-2")
                .build(),
            Some(_) => DescribeFileSystemAliasesOutput::builder()
                .aliases(
                    fsx::Alias::builder()
                        .name("hr.corp.example.com")
                        .lifecycle(fsx::AliasLifecycle::from("MOVING_SIDEWAYS"))
                        .build(),
                )
                .build(),
        }
    });
    let mut port = support::port(Rules {
        fsx: vec![&pages],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::DescribeAliases {
            file_system_id: "fs-0123456789abcdef0".into(),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::Aliases {
            file_system_id: "fs-0123456789abcdef0".into(),
            aliases: vec![
                AliasInfo {
                    name: "finance.corp.example.com".into(),
                    lifecycle: AliasLifecycle::Available,
                },
                AliasInfo {
                    name: "hr.corp.example.com".into(),
                    lifecycle: AliasLifecycle::Unknown("MOVING_SIDEWAYS".into()),
                },
            ],
        })
    );
    let sent = requests.all();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].next_token(), Some("page-2"));
    assert!(
        sent.iter()
            .all(|r| r.file_system_id() == Some("fs-0123456789abcdef0"))
    );
}

#[tokio::test]
async fn associate_and_disassociate_send_the_aliases_with_the_token_and_an_alias_in_use_is_refused_once() {
    use aws_sdk_fsx::operation::associate_file_system_aliases::{
        AssociateFileSystemAliasesInput, AssociateFileSystemAliasesOutput,
    };
    use aws_sdk_fsx::operation::disassociate_file_system_aliases::{
        DisassociateFileSystemAliasesInput, DisassociateFileSystemAliasesOutput,
    };
    let associated = Recorder::<AssociateFileSystemAliasesInput>::new();
    let seen = associated.clone();
    let associate = mock!(aws_sdk_fsx::Client::associate_file_system_aliases).then_compute_output(move |r| {
        seen.record(r);
        AssociateFileSystemAliasesOutput::builder()
            .aliases(
                fsx::Alias::builder()
                    .name("finance.corp.example.com")
                    .lifecycle(fsx::AliasLifecycle::Creating)
                    .build(),
            )
            .build()
    });
    let disassociated = Recorder::<DisassociateFileSystemAliasesInput>::new();
    let seen = disassociated.clone();
    let disassociate =
        mock!(aws_sdk_fsx::Client::disassociate_file_system_aliases).then_compute_output(move |r| {
            seen.record(r);
            DisassociateFileSystemAliasesOutput::builder()
                .aliases(
                    fsx::Alias::builder()
                        .name("finance.corp.example.com")
                        .lifecycle(fsx::AliasLifecycle::Deleting)
                        .build(),
                )
                .build()
        });
    let mut port = support::port(Rules {
        fsx: vec![&associate, &disassociate],
        ..Default::default()
    });
    let off = port
        .execute(&Command::DisassociateAliases {
            file_system_id: "fs-0123456789abcdef0".into(),
            aliases: vec!["finance.corp.example.com".into()],
            client_request_token: "fsx-migrate-p-off-fs-0123456789abcdef0-0badcafe".into(),
        })
        .await;
    assert_eq!(
        off,
        Ok(Response::AliasesChanged {
            file_system_id: "fs-0123456789abcdef0".into()
        }),
        "the answer lists only the request's aliases: the core describes them again"
    );
    let sent = disassociated.only();
    assert_eq!(sent.aliases(), ["finance.corp.example.com"]);
    assert_eq!(
        sent.client_request_token(),
        Some("fsx-migrate-p-off-fs-0123456789abcdef0-0badcafe")
    );
    let on = port
        .execute(&Command::AssociateAliases {
            file_system_id: "fs-0fedcba9876543210".into(),
            aliases: vec!["finance.corp.example.com".into()],
            client_request_token: "fsx-migrate-p-on-fs-0fedcba9876543210-0badcafe".into(),
        })
        .await;
    assert!(
        matches!(on, Ok(Response::AliasesChanged { ref file_system_id }) if file_system_id == "fs-0fedcba9876543210")
    );
    assert_eq!(associated.only().file_system_id(), Some("fs-0fedcba9876543210"));

    // An alias another file system still has: FSx answers BadRequest; refused, and not retried.
    let in_use = mock!(aws_sdk_fsx::Client::associate_file_system_aliases).then_http_response(|| {
        support::json_error(
            400,
            "BadRequest",
            "Alias finance.corp.example.com is already associated with another file system",
        )
    });
    let mut port = support::port(Rules {
        fsx: vec![&in_use],
        ..Default::default()
    });
    let refused = port
        .execute(&Command::AssociateAliases {
            file_system_id: "fs-0fedcba9876543210".into(),
            aliases: vec!["finance.corp.example.com".into()],
            client_request_token: "t".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::Rejected);
    assert_eq!(refused.operation, "fsx:AssociateFileSystemAliases");
    assert!(
        refused.message.contains("already associated"),
        "{}",
        refused.message
    );
    assert_eq!(in_use.num_calls(), 1);
}
