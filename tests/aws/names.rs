//! The name-switch seam's services besides Route 53: Inspect reads the record, UpsertCname points it at the
//! target and GetChange checks it, each by running dns.ps1 (AD DNS) or dfs.ps1 (DFS) through SSM to its end
//! (recorded outputs stand for the scripts' answers).

use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::send_command::{SendCommandInput, SendCommandOutput};
use aws_sdk_ssm::types as ssm;
use aws_smithy_mocks::{RuleMode, mock, mock_client};

use fsx_migrate::cloud::model::{ChangeStatus, DnsRecord};
use fsx_migrate::cloud::port::{
    CloudError, CloudPort, Command, ErrorClass, NameService, Response, UpsertCnameRequest,
};

use super::support::{self, Recorder, Rules};

const TARGET: &str = "amznfsxb2c3d4e5.corp.example.com";
const FOLDER: &str = "\\\\corp.example.com\\files\\data";

fn ad_dns() -> NameService {
    NameService::AdDns {
        zone_name: "corp.example.com".into(),
        dns_servers: vec!["dc1.corp.example.com".into(), "dc2.corp.example.com".into()],
        ssm_instance_id: "i-0123456789abcdef0".into(),
    }
}

fn dfs() -> NameService {
    NameService::Dfs {
        share_path: "share\\data".into(),
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

/// `command` against a port whose script prints `stdout` and ends `status`: the script text sent, and the answer.
async fn answer(
    stdout: &'static str,
    status: ssm::CommandInvocationStatus,
    command: Command,
) -> (String, Result<Response, CloudError>) {
    let (requests, send, get) = ssm_rules(stdout, status);
    let mut port = support::port(Rules {
        ssm: vec![&send, &get],
        ..Default::default()
    });
    let answered = port.execute(&command).await;
    let sent = requests.only();
    (
        sent.parameters().expect("parameters")["commands"][0].clone(),
        answered,
    )
}

/// The record as the service's Read reports it (through the adapter function Inspect uses).
async fn read(stdout: &'static str, service: NameService, name: &str) -> (String, DnsRecord) {
    let (requests, send, get) = ssm_rules(stdout, ssm::CommandInvocationStatus::Success);
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&send, &get]);
    let record = fsx_migrate::aws::names::read(&client, &service, name)
        .await
        .unwrap()
        .expect("the record");
    let sent = requests.only();
    (
        sent.parameters().expect("parameters")["commands"][0].clone(),
        record,
    )
}

fn point_at_target(name: &str, service: NameService) -> Command {
    Command::UpsertCname(UpsertCnameRequest {
        hosted_zone_id: String::new(),
        record_name: name.into(),
        value: TARGET.into(),
        ttl: 60,
        comment: "cutover".into(),
        name_service: Some(service),
    })
}

/// Set answers a change id naming the record and its value; Check says pending while a server still answers
/// the old value and in sync once all answer the new one; a refused Set is a Rejected call with the script's words.
async fn sets_and_checks(service: NameService, name: &str, fixtures: [&'static str; 4]) -> String {
    let [set, pending, in_sync, refused] = fixtures;
    let success = ssm::CommandInvocationStatus::Success;
    let (text, answered) = answer(set, success.clone(), point_at_target(name, service.clone())).await;
    let prefix = match service {
        NameService::AdDns { .. } => "ad-dns",
        NameService::Dfs { .. } => "dfs",
    };
    let change_id = format!("{prefix}:{name}={TARGET}");
    assert_eq!(
        answered,
        Ok(Response::Change {
            id: change_id.clone(),
            status: ChangeStatus::Pending
        })
    );
    assert!(!text.contains("-Endpoint"), "the name scripts take no endpoint");
    for (stdout, status) in [(pending, ChangeStatus::Pending), (in_sync, ChangeStatus::InSync)] {
        let check = Command::GetChange {
            change_id: change_id.clone(),
            name_service: Some(service.clone()),
        };
        let (check_text, checked) = answer(stdout, success.clone(), check).await;
        assert!(check_text.contains("-Action 'Check'"), "{check_text}");
        assert_eq!(
            checked,
            Ok(Response::Change {
                id: change_id.clone(),
                status
            })
        );
    }
    let failed = ssm::CommandInvocationStatus::Failed;
    let (_, refusal) = answer(refused, failed, point_at_target(name, service)).await;
    let error = refusal.unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert!(error.message.contains("changed"), "{}", error.message);
    text
}

#[tokio::test]
async fn ad_dns_reads_the_record_sets_it_and_waits_until_every_server_answers_it() {
    let (text, record) = read(
        include_str!("../fixtures/windows/dns-read-output.txt"),
        ad_dns(),
        "files.corp.example.com",
    )
    .await;
    assert!(
        text.contains("-Action 'Read' -Name 'files.corp.example.com'"),
        "{text}"
    );
    assert_eq!(record.record_type, "CNAME");
    assert_eq!(record.values, ["amznfsxa1b2c3d4.corp.example.com."]);
    assert_eq!(record.ttl, Some(300));

    let text = sets_and_checks(
        ad_dns(),
        "files.corp.example.com",
        [
            include_str!("../fixtures/windows/dns-set-output.txt"),
            include_str!("../fixtures/windows/dns-check-pending-output.txt"),
            include_str!("../fixtures/windows/dns-check-output.txt"),
            include_str!("../fixtures/windows/dns-set-error-output.txt"),
        ],
    )
    .await;
    assert!(
        text.ends_with(
            "} -Action 'Set' -Name 'files.corp.example.com' -ZoneName 'corp.example.com' -DnsServers \
             'dc1.corp.example.com','dc2.corp.example.com' -Value 'amznfsxb2c3d4e5.corp.example.com' -Ttl 60\n"
        ),
        "{}",
        &text[text.len() - 200..]
    );
}

/// DFS: the folder's targets read (the online target's server is the value), switched with the share path,
/// and in sync only once the namespace shows the new target alone online.
#[tokio::test]
async fn dfs_reads_the_folder_switches_its_target_and_waits_until_only_the_new_one_is_online() {
    let (text, record) = read(
        include_str!("../fixtures/windows/dfs-read-output.txt"),
        dfs(),
        FOLDER,
    )
    .await;
    assert!(text.contains("-SharePath 'share\\data'"), "{text}");
    assert_eq!(record.record_type, "DFS");
    assert_eq!(record.values, ["amznfsxa1b2c3d4.corp.example.com"]);

    let text = sets_and_checks(
        dfs(),
        FOLDER,
        [
            include_str!("../fixtures/windows/dfs-set-output.txt"),
            include_str!("../fixtures/windows/dfs-check-pending-output.txt"),
            include_str!("../fixtures/windows/dfs-check-output.txt"),
            include_str!("../fixtures/windows/dfs-set-error-output.txt"),
        ],
    )
    .await;
    assert!(
        text.contains("-Action 'Set' -Name '\\\\corp.example.com\\files\\data' -SharePath 'share\\data'"),
        "{text}"
    );
}

/// dfs.ps1's Check asks each namespace server: one it cannot read keeps the switch pending (and the
/// output says which server and why).
#[tokio::test]
async fn a_dfs_namespace_server_that_cannot_be_read_keeps_the_switch_pending() {
    let stdout = include_str!("../fixtures/windows/dfs-check-server-unreadable-output.txt");
    assert!(
        stdout.contains("\"error\":"),
        "the fixture names the unreadable server"
    );
    let check = Command::GetChange {
        change_id: format!("dfs:{FOLDER}={TARGET}"),
        name_service: Some(dfs()),
    };
    let (_, checked) = answer(stdout, ssm::CommandInvocationStatus::Success, check).await;
    assert_eq!(
        checked,
        Ok(Response::Change {
            id: format!("dfs:{FOLDER}={TARGET}"),
            status: ChangeStatus::Pending
        })
    );
}
