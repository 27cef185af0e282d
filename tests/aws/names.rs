//! The AD DNS provider of the name-switch seam: Inspect reads the record, UpsertCname sets it and GetChange
//! checks every DNS server, each by running dns.ps1 through SSM to its end (recorded outputs stand for the
//! script's answers).

use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::send_command::{SendCommandInput, SendCommandOutput};
use aws_sdk_ssm::types as ssm;
use aws_smithy_mocks::mock;

use fsx_migrate::cloud::model::ChangeStatus;
use fsx_migrate::cloud::port::{CloudPort, Command, ErrorClass, NameService, Response, UpsertCnameRequest};

use super::support::{self, Recorder, Rules};

fn zone() -> NameService {
    NameService::AdDns {
        zone_name: "corp.example.com".into(),
        dns_servers: vec!["dc1.corp.example.com".into(), "dc2.corp.example.com".into()],
        ssm_instance_id: "i-0123456789abcdef0".into(),
    }
}

/// SendCommand answers `cmd-1`; GetCommandInvocation answers `stdout` with `status`.
fn ssm_rules(
    stdout: &'static str,
    status: ssm::CommandInvocationStatus,
) -> (
    Recorder<SendCommandInput>,
    aws_smithy_mocks::Rule,
    aws_smithy_mocks::Rule,
) {
    let requests = Recorder::<SendCommandInput>::new();
    let seen = requests.clone();
    let send = mock!(aws_sdk_ssm::Client::send_command).then_compute_output(move |r| {
        seen.record(r);
        SendCommandOutput::builder()
            .command(ssm::Command::builder().command_id("cmd-1").build())
            .build()
    });
    let get = mock!(aws_sdk_ssm::Client::get_command_invocation).then_output(move || {
        GetCommandInvocationOutput::builder()
            .command_id("cmd-1")
            .status(status.clone())
            .standard_output_content(stdout)
            .build()
    });
    (requests, send, get)
}

fn command_text(requests: &Recorder<SendCommandInput>) -> String {
    let sent = requests.only();
    sent.parameters().expect("parameters")["commands"][0].clone()
}

#[tokio::test]
async fn ad_dns_reads_the_record_sets_it_and_waits_until_every_server_answers_it() {
    // Set: dns.ps1 -Action Set on the first server; the change id names the record and its value.
    let (requests, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dns-set-output.txt"),
        ssm::CommandInvocationStatus::Success,
    );
    let mut port = support::port(Rules {
        ssm: vec![&send, &get],
        ..Default::default()
    });
    let set = port
        .execute(&Command::UpsertCname(UpsertCnameRequest {
            hosted_zone_id: String::new(),
            record_name: "files.corp.example.com".into(),
            value: "amznfsxb2c3d4e5.corp.example.com".into(),
            ttl: 60,
            comment: "cutover".into(),
            name_service: Some(zone()),
        }))
        .await;
    let change_id = "ad-dns:files.corp.example.com=amznfsxb2c3d4e5.corp.example.com";
    assert_eq!(
        set,
        Ok(Response::Change {
            id: change_id.into(),
            status: ChangeStatus::Pending
        })
    );
    let text = command_text(&requests);
    assert!(
        text.ends_with(
            "} -Action 'Set' -Name 'files.corp.example.com' -ZoneName 'corp.example.com' -DnsServers \
             'dc1.corp.example.com','dc2.corp.example.com' -Value 'amznfsxb2c3d4e5.corp.example.com' -Ttl 60\n"
        ),
        "{}",
        &text[text.len() - 200..]
    );
    assert!(!text.contains("-Endpoint"), "dns.ps1 takes no endpoint");

    // Check: pending while a server still answers the old value, in sync once all answer the new one.
    for (stdout, status) in [
        (
            include_str!("../fixtures/windows/dns-check-pending-output.txt"),
            ChangeStatus::Pending,
        ),
        (
            include_str!("../fixtures/windows/dns-check-output.txt"),
            ChangeStatus::InSync,
        ),
    ] {
        let (requests, send, get) = ssm_rules(stdout, ssm::CommandInvocationStatus::Success);
        let mut port = support::port(Rules {
            ssm: vec![&send, &get],
            ..Default::default()
        });
        let checked = port
            .execute(&Command::GetChange {
                change_id: change_id.into(),
                name_service: Some(zone()),
            })
            .await;
        assert_eq!(
            checked,
            Ok(Response::Change {
                id: change_id.into(),
                status
            })
        );
        assert!(command_text(&requests).contains("-Action 'Check'"));
    }
}

#[tokio::test]
async fn a_refused_set_is_a_rejected_call_with_the_scripts_words() {
    let (_, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dns-set-error-output.txt"),
        ssm::CommandInvocationStatus::Failed,
    );
    let mut port = support::port(Rules {
        ssm: vec![&send, &get],
        ..Default::default()
    });
    let error = port
        .execute(&Command::UpsertCname(UpsertCnameRequest {
            hosted_zone_id: String::new(),
            record_name: "files.corp.example.com".into(),
            value: "amznfsxb2c3d4e5.corp.example.com".into(),
            ttl: 60,
            comment: "cutover".into(),
            name_service: Some(zone()),
        }))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert!(
        error.message.contains("No record was changed"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn ad_dns_reads_the_record_the_first_server_has() {
    use aws_smithy_mocks::{RuleMode, mock_client};
    let (requests, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dns-read-output.txt"),
        ssm::CommandInvocationStatus::Success,
    );
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&send, &get]);
    let record = fsx_migrate::aws::names::read(&client, &zone(), "files.corp.example.com")
        .await
        .unwrap()
        .expect("the record");
    assert_eq!(record.record_type, "CNAME");
    assert_eq!(record.values, ["amznfsxa1b2c3d4.corp.example.com."]);
    assert_eq!(record.ttl, Some(300));
    assert!(command_text(&requests).contains("-Action 'Read' -Name 'files.corp.example.com'"));
}

fn dfs() -> NameService {
    NameService::Dfs {
        share_path: "share\\data".into(),
        ssm_instance_id: "i-0123456789abcdef0".into(),
    }
}

/// DFS: the folder's targets read (the online target's server is the value), the switch sent with the
/// share path and no endpoint, and in sync only once the namespace shows the new target alone online.
#[tokio::test]
async fn dfs_reads_the_folder_switches_its_target_and_waits_until_only_the_new_one_is_online() {
    use aws_smithy_mocks::{RuleMode, mock_client};
    let folder = "\\\\corp.example.com\\files\\data";
    let (requests, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dfs-read-output.txt"),
        ssm::CommandInvocationStatus::Success,
    );
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&send, &get]);
    let record = fsx_migrate::aws::names::read(&client, &dfs(), folder)
        .await
        .unwrap()
        .expect("the folder");
    assert_eq!(record.record_type, "DFS");
    assert_eq!(record.values.len(), 1, "{:?}", record.values);
    assert!(command_text(&requests).contains("-SharePath 'share\\data'"));

    let (requests, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dfs-set-output.txt"),
        ssm::CommandInvocationStatus::Success,
    );
    let mut port = support::port(Rules {
        ssm: vec![&send, &get],
        ..Default::default()
    });
    let set = port
        .execute(&Command::UpsertCname(UpsertCnameRequest {
            hosted_zone_id: String::new(),
            record_name: folder.into(),
            value: "amznfsxb2c3d4e5.corp.example.com".into(),
            ttl: 60,
            comment: "cutover".into(),
            name_service: Some(dfs()),
        }))
        .await;
    let change_id = format!("dfs:{folder}=amznfsxb2c3d4e5.corp.example.com");
    assert_eq!(
        set,
        Ok(Response::Change {
            id: change_id.clone(),
            status: ChangeStatus::Pending
        })
    );
    let text = command_text(&requests);
    assert!(
        text.contains("-Action 'Set'") && !text.contains("-Endpoint"),
        "{text}"
    );

    for (stdout, status) in [
        (
            include_str!("../fixtures/windows/dfs-check-pending-output.txt"),
            ChangeStatus::Pending,
        ),
        (
            include_str!("../fixtures/windows/dfs-check-output.txt"),
            ChangeStatus::InSync,
        ),
    ] {
        let (_, send, get) = ssm_rules(stdout, ssm::CommandInvocationStatus::Success);
        let mut port = support::port(Rules {
            ssm: vec![&send, &get],
            ..Default::default()
        });
        let checked = port
            .execute(&Command::GetChange {
                change_id: change_id.clone(),
                name_service: Some(dfs()),
            })
            .await;
        assert_eq!(
            checked,
            Ok(Response::Change {
                id: change_id.clone(),
                status
            })
        );
    }
    let (_, send, get) = ssm_rules(
        include_str!("../fixtures/windows/dfs-set-error-output.txt"),
        ssm::CommandInvocationStatus::Failed,
    );
    let mut port = support::port(Rules {
        ssm: vec![&send, &get],
        ..Default::default()
    });
    let refused = port
        .execute(&Command::UpsertCname(UpsertCnameRequest {
            hosted_zone_id: String::new(),
            record_name: folder.into(),
            value: "amznfsxb2c3d4e5.corp.example.com".into(),
            ttl: 60,
            comment: "cutover".into(),
            name_service: Some(dfs()),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::Rejected);
}
