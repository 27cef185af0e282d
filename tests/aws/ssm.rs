//! The SSM adapter: SendCommand of a script's invocation, ListCommands by comment, GetCommandInvocation.

use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::operation::send_command::{SendCommandInput, SendCommandOutput};
use aws_sdk_ssm::types as ssm;
use aws_smithy_mocks::mock;

use fsx_migrate::cloud::model::InvocationStatus;
use fsx_migrate::cloud::port::{CloudPort, Command, ErrorClass, PowerShellRequest, Response};
use fsx_migrate::cloud::windows::{ScriptCall, WindowsScript};

use super::support::{self, Recorder, Rules};

const INSTANCE: &str = "i-0123456789abcdef0";

fn freeze_request() -> PowerShellRequest {
    PowerShellRequest {
        instance_id: INSTANCE.into(),
        call: ScriptCall {
            script: WindowsScript::Freeze,
            endpoint: "amznfsxa1b2c3d4.corp.example.com".into(),
            keep_accounts: vec!["CORP\\svc-datasync".into(), "CORP\\O'Brien".into()],
            shares_json: None,
            service_json: None,
            from_dns_name: None,
            aliases: vec![],
            name_switch: None,
            logon: None,
        },
        comment: "fsx-migrate fxm-1 freeze.ps1 fs-0123456789abcdef0 1764800000".into(),
        timeout_secs: 600,
    }
}

#[tokio::test]
async fn send_runs_the_embedded_script_with_its_parameters_through_aws_run_powershell_script() {
    let requests = Recorder::<SendCommandInput>::new();
    let seen = requests.clone();
    let send = mock!(aws_sdk_ssm::Client::send_command).then_compute_output(move |r| {
        seen.record(r);
        SendCommandOutput::builder()
            .command(ssm::Command::builder().command_id("cmd-1").build())
            .build()
    });
    let mut port = support::port(Rules {
        ssm: vec![&send],
        ..Default::default()
    });
    let answer = port.execute(&Command::RunPowerShell(freeze_request())).await;
    assert_eq!(
        answer,
        Ok(Response::PowerShellSent {
            command_id: "cmd-1".into()
        })
    );
    let sent = requests.only();
    assert_eq!(sent.document_name(), Some("AWS-RunPowerShellScript"));
    assert_eq!(sent.instance_ids(), [INSTANCE]);
    assert_eq!(sent.comment(), Some(freeze_request().comment.as_str()));
    let parameters = sent.parameters().expect("parameters");
    let commands = &parameters["commands"];
    assert_eq!(commands.len(), 1);
    assert!(commands[0].starts_with("& {\n"), "{}", &commands[0][..40]);
    assert!(
        commands[0].contains("[string[]] $KeepAccounts"),
        "the whole freeze.ps1"
    );
    assert!(
        commands[0].ends_with(
            "} -Endpoint 'amznfsxa1b2c3d4.corp.example.com' -KeepAccounts 'CORP\\svc-datasync','CORP\\O''Brien'\n"
        ),
        "{}",
        &commands[0][commands[0].len() - 120..]
    );
    assert_eq!(parameters["executionTimeout"], ["600"]);
}

#[tokio::test]
async fn an_instance_ssm_does_not_manage_is_a_refusal_not_retried() {
    let send = mock!(aws_sdk_ssm::Client::send_command).then_http_response(|| {
        support::json_error(
            400,
            "InvalidInstanceId",
            "Instances [[i-0123456789abcdef0]] not in a valid state",
        )
    });
    let mut port = support::port(Rules {
        ssm: vec![&send],
        ..Default::default()
    });
    let err = port
        .execute(&Command::RunPowerShell(freeze_request()))
        .await
        .expect_err("not managed");
    assert_eq!(
        (err.class, err.code.as_str()),
        (ErrorClass::Rejected, "InvalidInstanceId")
    );
    assert_eq!(send.num_calls(), 1);
}

#[tokio::test]
async fn a_send_that_failed_on_the_wire_is_not_sent_again_by_the_sdk() {
    let send = mock!(aws_sdk_ssm::Client::send_command)
        .then_http_response(|| support::json_error(500, "InternalServerError", "try again"));
    let mut port = support::port(Rules {
        ssm: vec![&send],
        ..Default::default()
    });
    let err = port
        .execute(&Command::RunPowerShell(freeze_request()))
        .await
        .expect_err("5xx");
    assert_eq!(err.class, ErrorClass::Transient);
    assert_eq!(
        send.num_calls(),
        1,
        "SendCommand has no client token: never resent blindly"
    );
}

#[tokio::test]
async fn find_returns_the_commands_with_the_comment_newest_first() {
    let list = mock!(aws_sdk_ssm::Client::list_commands).then_output(|| {
        let command = |id: &str, comment: &str, at: i64| {
            ssm::Command::builder()
                .command_id(id)
                .comment(comment)
                .requested_date_time(aws_smithy_types::DateTime::from_secs(at))
                .build()
        };
        ListCommandsOutput::builder()
            .commands(command("old", "fsx-migrate fxm-1 freeze.ps1 fs-1 1", 100))
            .commands(command("other", "something else", 300))
            .commands(command("new", "fsx-migrate fxm-1 freeze.ps1 fs-1 1", 200))
            .build()
    });
    let mut port = support::port(Rules {
        ssm: vec![&list],
        ..Default::default()
    });
    let answer = port
        .execute(&Command::FindPowerShell {
            instance_id: INSTANCE.into(),
            comment: "fsx-migrate fxm-1 freeze.ps1 fs-1 1".into(),
        })
        .await;
    assert_eq!(
        answer,
        Ok(Response::PowerShellCommands(vec!["new".into(), "old".into()]))
    );
}

#[tokio::test]
async fn get_maps_the_status_and_the_output_and_a_new_status_counts_as_running() {
    let get = mock!(aws_sdk_ssm::Client::get_command_invocation).then_output(|| {
        GetCommandInvocationOutput::builder()
            .status(ssm::CommandInvocationStatus::Failed)
            .status_details("Failed")
            .standard_output_content("fsx-migrate freeze\r\nFSXMIGRATE-ERROR Access is denied.\r\n")
            .standard_error_content("")
            .build()
    });
    let new = mock!(aws_sdk_ssm::Client::get_command_invocation).then_output(|| {
        GetCommandInvocationOutput::builder()
            .status(ssm::CommandInvocationStatus::from("Paused"))
            .build()
    });
    let mut port = support::port(Rules {
        ssm: vec![&get],
        ..Default::default()
    });
    let command = Command::GetPowerShell {
        command_id: "cmd-1".into(),
        instance_id: INSTANCE.into(),
    };
    let Ok(Response::PowerShellInvocation(invocation)) = port.execute(&command).await else {
        panic!("no invocation")
    };
    assert_eq!(invocation.status, InvocationStatus::Failed);
    assert!(invocation.stdout.contains("FSXMIGRATE-ERROR Access is denied."));
    let mut port = support::port(Rules {
        ssm: vec![&new],
        ..Default::default()
    });
    let Ok(Response::PowerShellInvocation(invocation)) = port.execute(&command).await else {
        panic!("no invocation")
    };
    assert_eq!(invocation.status, InvocationStatus::Unknown("Paused".into()));
    assert!(!invocation.status.is_terminal());
}

#[tokio::test]
async fn an_invocation_ssm_does_not_know_yet_is_not_found() {
    let get = mock!(aws_sdk_ssm::Client::get_command_invocation)
        .then_http_response(|| support::json_error(400, "InvocationDoesNotExist", ""));
    let mut port = support::port(Rules {
        ssm: vec![&get],
        ..Default::default()
    });
    let err = port
        .execute(&Command::GetPowerShell {
            command_id: "cmd-1".into(),
            instance_id: INSTANCE.into(),
        })
        .await
        .expect_err("not yet");
    assert_eq!(err.class, ErrorClass::NotFound);
}
