//! Typed request tests for EnsureLogGroup: CloudWatch Logs DescribeLogGroups, CreateLogGroup and
//! PutResourcePolicy. The mocked clients work in us-east-1.

use aws_sdk_cloudwatchlogs::operation::create_log_group::{CreateLogGroupInput, CreateLogGroupOutput};
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::{
    DescribeLogGroupsInput, DescribeLogGroupsOutput,
};
use aws_sdk_cloudwatchlogs::operation::put_resource_policy::{
    PutResourcePolicyInput, PutResourcePolicyOutput,
};
use aws_sdk_cloudwatchlogs::types::LogGroup;
use aws_smithy_mocks::{Rule, mock};

use fsx_migrate::aws::logs::{LogGroupArn, policy_name};
use fsx_migrate::cloud::port::{CloudPort, Command, ErrorClass, Response};

use super::support::{self, Recorder, Rules};

const GROUP: &str = "/aws/datasync";
const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync:*";

fn group(name: &str) -> LogGroup {
    LogGroup::builder().log_group_name(name).build()
}

/// DescribeLogGroups answering `pages` in turn (by the page number in NextToken).
fn describe(pages: Vec<Vec<&'static str>>) -> (Rule, Recorder<DescribeLogGroupsInput>) {
    let requests = Recorder::new();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_compute_output(move |r| {
        seen.record(r);
        let page: usize = r.next_token().map_or(0, |t| t.parse().expect("page token"));
        let mut out = DescribeLogGroupsOutput::builder();
        for name in &pages[page] {
            out = out.log_groups(group(name));
        }
        if page + 1 < pages.len() {
            out = out.next_token((page + 1).to_string());
        }
        out.build()
    });
    (rule, requests)
}

fn put_policy() -> (Rule, Recorder<PutResourcePolicyInput>) {
    let requests = Recorder::new();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_cloudwatchlogs::Client::put_resource_policy).then_compute_output(move |r| {
        seen.record(r);
        PutResourcePolicyOutput::builder().build()
    });
    (rule, requests)
}

async fn ensure(rules: Vec<&Rule>, arn: &str) -> Result<Response, fsx_migrate::cloud::port::CloudError> {
    let mut port = support::port(Rules {
        logs: rules,
        ..Default::default()
    });
    port.execute(&Command::EnsureLogGroup { arn: arn.into() }).await
}

#[tokio::test]
async fn a_missing_group_is_created_and_datasync_is_allowed_to_write_to_it() {
    // The prefix also lists longer names, over two pages: none is the group itself.
    let (describe, described) = describe(vec![vec!["/aws/datasync-old"], vec!["/aws/datasync/x"]]);
    let created = Recorder::<CreateLogGroupInput>::new();
    let seen = created.clone();
    let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group).then_compute_output(move |r| {
        seen.record(r);
        CreateLogGroupOutput::builder().build()
    });
    let (put, policies) = put_policy();
    assert_eq!(
        ensure(vec![&describe, &create, &put], ARN).await,
        Ok(Response::LogGroupReady)
    );

    let pages = described.all();
    assert_eq!(pages.len(), 2, "DescribeLogGroups is paginated");
    assert!(pages.iter().all(|p| p.log_group_name_prefix() == Some(GROUP)));
    assert_eq!(created.only().log_group_name(), Some(GROUP));

    let policy = policies.only();
    let expected_name = policy_name(&LogGroupArn::parse(ARN).unwrap());
    assert_eq!(policy.policy_name(), Some(expected_name.as_str()));
    assert!(expected_name.starts_with("fsx-migrate-datasync-"));
    let document: serde_json::Value =
        serde_json::from_str(policy.policy_document().expect("document")).expect("JSON");
    let statement = &document["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Principal"]["Service"], "datasync.amazonaws.com");
    assert_eq!(
        statement["Action"],
        serde_json::json!(["logs:PutLogEvents", "logs:CreateLogStream"])
    );
    assert_eq!(
        statement["Resource"],
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync:*"
    );
    assert_eq!(
        statement["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:datasync:us-east-1:123456789012:task/*"
    );
    assert_eq!(policy.resource_arn(), None, "an account policy, replaced by name");
}

#[tokio::test]
async fn an_existing_group_is_kept_and_the_policy_put_again() {
    let (describe, _) = describe(vec![vec!["/aws/datasync", "/aws/datasync-old"]]);
    let (put, policies) = put_policy();
    // No CreateLogGroup rule: the mock would panic if it were called.
    for arn in [ARN, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync"] {
        assert_eq!(
            ensure(vec![&describe, &put], arn).await,
            Ok(Response::LogGroupReady)
        );
    }
    let names: Vec<_> = policies
        .all()
        .iter()
        .map(|p| p.policy_name().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(
        names[0], names[1],
        "with or without :*, the same group gets the same policy (an upsert)"
    );
}

#[tokio::test]
async fn a_group_created_meanwhile_counts_as_created() {
    let (describe, _) = describe(vec![vec![]]);
    let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group).then_http_response(|| {
        support::json_error(
            400,
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        )
    });
    let (put, policies) = put_policy();
    assert_eq!(
        ensure(vec![&describe, &create, &put], ARN).await,
        Ok(Response::LogGroupReady)
    );
    assert_eq!(create.num_calls(), 1);
    assert_eq!(policies.all().len(), 1);
}

#[tokio::test]
async fn a_log_group_in_another_region_is_refused_before_any_call() {
    let err = ensure(
        vec![],
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*",
    )
    .await
    .expect_err("another Region");
    assert_eq!(err.class, ErrorClass::Rejected);
    assert_eq!(err.code, "InvalidParameter");
    assert!(
        err.message.contains("eu-west-1") && err.message.contains("us-east-1"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_malformed_log_group_arn_is_refused_before_any_call() {
    for arn in [
        "/aws/datasync",
        "arn:aws:logs:us-east-1:123456789012:destination:d",
        "arn:aws:logs:us-east-1:123456789012:log-group:",
    ] {
        let err = ensure(vec![], arn).await.expect_err(arn);
        assert_eq!(
            (err.class, err.code.as_str()),
            (ErrorClass::Rejected, "InvalidParameter"),
            "{arn}"
        );
        assert!(err.message.contains("log group ARN"), "{}", err.message);
    }
}

#[tokio::test]
async fn a_full_resource_policy_quota_is_a_refusal_with_a_hint_not_throttling() {
    let (describe, _) = describe(vec![vec!["/aws/datasync"]]);
    let put = mock!(aws_sdk_cloudwatchlogs::Client::put_resource_policy).then_http_response(|| {
        support::json_error(400, "LimitExceededException", "Resource limit exceeded.")
    });
    let err = ensure(vec![&describe, &put], ARN).await.expect_err("quota");
    assert_eq!(err.operation, "logs:PutResourcePolicy");
    assert_eq!(err.code, "LimitExceededException");
    assert_eq!(err.class, ErrorClass::Rejected, "waiting cannot free a slot");
    assert!(
        err.message.contains("describe-resource-policies"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn access_denied_on_create_log_group_names_the_operation_and_the_iam_hint() {
    let (describe, _) = describe(vec![vec![]]);
    let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group).then_http_response(|| {
        support::json_error(
            400,
            "AccessDeniedException",
            "User is not authorized to perform: logs:CreateLogGroup",
        )
    });
    let err = ensure(vec![&describe, &create], ARN).await.expect_err("denied");
    assert_eq!(
        (err.class, err.operation.as_str()),
        (ErrorClass::Rejected, "logs:CreateLogGroup")
    );
    assert!(err.message.contains("docs/aws-permissions.md"), "{}", err.message);
}
