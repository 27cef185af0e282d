//! The preflight check of password sources (Inspect's `password_sources`): every source that will not
//! resolve is reported as `source: why`, and no password ever appears in an answer, an error or Debug.

use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_smithy_mocks::{Rule, mock};

use fsx_migrate::cloud::model::PasswordSource;
use fsx_migrate::cloud::port::{CloudPort, Command, ErrorClass, InspectRequest, Response};

use super::support::{self, PASSWORD, Rules};

const UNSET: &str = "FSX_MIGRATE_TEST_SURELY_UNSET_PASSWORD_VARIABLE";

fn inspect(password_sources: Vec<PasswordSource>) -> Command {
    Command::Inspect(InspectRequest {
        source_file_system_id: "fs-0source000000001".into(),
        subnet_ids: vec![],
        hosted_zone_id: "Z0123456789".into(),
        record_name: "files.corp.example.com".into(),
        name_service: None,
        password_sources,
        security_group_ids: None,
    })
}

/// The other Inspect reads, answering that nothing exists (the source, the zone, earlier migrations).
struct NothingElse {
    describe: Rule,
    listing: Rule,
    subnets: Rule,
    zone: Rule,
    tasks: Rule,
}

fn nothing_else() -> NothingElse {
    use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneError;
    use aws_sdk_route53::types::error::NoSuchHostedZone;
    let (listing, tasks) = support::no_migration_resources();
    NothingElse {
        describe: mock!(aws_sdk_fsx::Client::describe_file_systems)
            .match_requests(|r| !r.file_system_ids().is_empty())
            .then_error(|| {
                DescribeFileSystemsError::FileSystemNotFound(
                    aws_sdk_fsx::types::error::FileSystemNotFound::builder()
                        .message("not found")
                        .build(),
                )
            }),
        listing,
        subnets: mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
            aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder().build()
        }),
        zone: mock!(aws_sdk_route53::Client::get_hosted_zone).then_error(|| {
            GetHostedZoneError::NoSuchHostedZone(NoSuchHostedZone::builder().message("no zone").build())
        }),
        tasks,
    }
}

/// Secrets Manager: `smb` holds the password, `json-without-key` holds it under another key, anything
/// else does not exist.
fn secrets() -> Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_compute_response(|r| {
        use aws_smithy_mocks::MockResponse;
        match r.secret_id() {
            Some("smb") => {
                MockResponse::Output(GetSecretValueOutput::builder().secret_string(PASSWORD).build())
            }
            Some("json-without-key") => MockResponse::Output(
                GetSecretValueOutput::builder()
                    .secret_string(format!(r#"{{"username":"svc","pass":"{PASSWORD}"}}"#))
                    .build(),
            ),
            _ => MockResponse::Http(support::json_error(
                400,
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            )),
        }
    })
}

#[tokio::test]
async fn inspect_reports_every_password_source_that_will_not_resolve_and_never_a_password() {
    let other = nothing_else();
    let secret = secrets();
    let mut port = support::port(Rules {
        fsx: vec![&other.describe, &other.listing],
        ec2: vec![&other.subnets],
        route53: vec![&other.zone],
        datasync: vec![&other.tasks],
        secrets: vec![&secret],
        ..Default::default()
    });
    let command = inspect(vec![
        PasswordSource::Env(UNSET.into()),
        PasswordSource::SecretsManager("missing".into()),
        PasswordSource::SecretsManager("smb".into()),
        PasswordSource::SecretsManager("json-without-key".into()),
        PasswordSource::Prompt,
    ]);
    let answer = port.execute(&command).await;
    let Ok(Response::Environment(env)) = &answer else {
        panic!("Inspect must answer with an Environment: {answer:?}")
    };
    let problems = &env.unresolved_passwords;
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!("env:{UNSET}: ")) && problems[0].contains("is not set"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].starts_with("secretsmanager:missing: ")
            && problems[1].contains("can't find the specified secret"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].starts_with("secretsmanager:json-without-key: ")
            && problems[2].contains("without a \"password\" key"),
        "{}",
        problems[2]
    );
    assert_eq!(
        secret.num_calls(),
        3,
        "each Secrets Manager source is read once, the prompt is not asked"
    );
    let printed = [
        format!("{answer:?}"),
        format!("{answer:#?}"),
        format!("{command:?}"),
        serde_json::to_string(env).unwrap(),
        serde_json::to_string(&command).unwrap(),
    ];
    for text in printed {
        assert!(!text.contains(PASSWORD), "a password leaked: {text}");
    }
}

#[tokio::test]
async fn a_password_check_that_fails_for_another_reason_is_an_error_not_a_finding() {
    for (code, status, class) in [
        ("InternalServiceError", 500, ErrorClass::Transient),
        ("ExpiredTokenException", 400, ErrorClass::Credentials),
    ] {
        let other = nothing_else();
        let secret = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .sequence()
            .http_response(move || support::json_error(status, code, "no"))
            .repeatedly()
            .build();
        let mut port = support::port(Rules {
            fsx: vec![&other.describe, &other.listing],
            ec2: vec![&other.subnets],
            route53: vec![&other.zone],
            datasync: vec![&other.tasks],
            secrets: vec![&secret],
            ..Default::default()
        });
        let err = port
            .execute(&inspect(vec![PasswordSource::SecretsManager("smb".into())]))
            .await
            .expect_err(code);
        assert_eq!(
            (err.class, err.operation.as_str()),
            (class, "secretsmanager:GetSecretValue"),
            "{code}: {err}"
        );
        assert!(!format!("{err:?}").contains(PASSWORD));
    }
}
