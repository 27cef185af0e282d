//! CloudWatch Logs: the log group DataSync writes a task's errors to, and the resource policy that lets it.
//!
//! DataSync (Basic mode) logs only to a group that exists and whose account-level resource policy allows
//! `datasync.amazonaws.com` to create streams and put events. [`ensure_log_group`] makes both true and is
//! safe to repeat: the group is created only when DescribeLogGroups does not list it (a concurrent creation,
//! `ResourceAlreadyExistsException`, counts as success), and PutResourcePolicy replaces the policy of the
//! same name.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aws::errors;
use crate::cloud::port::{CloudError, ErrorClass};

const DESCRIBE: &str = "logs:DescribeLogGroups";
const CREATE: &str = "logs:CreateLogGroup";
const PUT_POLICY: &str = "logs:PutResourcePolicy";

/// The prefix of the resource policy fsx-migrate writes; the rest names the log group (see [`policy_name`]).
pub const POLICY_PREFIX: &str = "fsx-migrate-datasync-";

/// The parts of `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl LogGroupArn {
    /// Parses a log group ARN, with or without the `:*` DataSync accepts at the end.
    pub fn parse(arn: &str) -> Result<LogGroupArn, CloudError> {
        let invalid = |why: &str| {
            errors::rejected(
                DESCRIBE,
                "InvalidParameter",
                format!(
                    "{arn:?} is not a CloudWatch Logs log group ARN \
                     (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME): {why}"
                ),
            )
        };
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        let ["arn", partition, "logs", region, account, "log-group", rest] = parts.as_slice() else {
            return Err(invalid("it does not name a log group"));
        };
        let name = rest.strip_suffix(":*").unwrap_or(rest);
        if partition.is_empty() || region.is_empty() {
            return Err(invalid("the partition or Region is missing"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the account is not 12 digits"));
        }
        if name.is_empty() || name.contains([':', '*']) {
            return Err(invalid("the log group name is empty or has ':' or '*'"));
        }
        Ok(LogGroupArn {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }

    /// `arn:…:log-group:NAME:*`: the group and every stream in it.
    fn streams(&self) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}:*",
            self.partition, self.region, self.account, self.name
        )
    }
}

/// The resource policy's name: fixed for a log group, so writing it again replaces it (an upsert), and
/// different for each group, so two plans that log to different groups never overwrite each other's grant.
pub fn policy_name(group: &LogGroupArn) -> String {
    let digest = Sha256::digest(group.streams().as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{POLICY_PREFIX}{hex}")
}

/// The policy DataSync needs to log to `group`: CreateLogStream and PutLogEvents for the DataSync service,
/// only on behalf of this account's tasks (the AWS DataSync User Guide's example, narrowed to one group).
pub fn policy_document(group: &LogGroupArn) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DataSyncLogsToCloudWatchLogs",
            "Effect": "Allow",
            "Principal": { "Service": "datasync.amazonaws.com" },
            "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
            "Resource": group.streams(),
            "Condition": {
                "ArnLike": {
                    "aws:SourceArn": format!(
                        "arn:{}:datasync:{}:{}:task/*",
                        group.partition, group.region, group.account
                    )
                },
                "StringEquals": { "aws:SourceAccount": group.account }
            }
        }]
    })
    .to_string()
}

/// Makes sure the log group `arn` exists in the client's Region and DataSync may write to it.
pub async fn ensure_log_group(client: &aws_sdk_cloudwatchlogs::Client, arn: &str) -> Result<(), CloudError> {
    let group = LogGroupArn::parse(arn)?;
    let region = client.config().region().map(|r| r.as_ref().to_string());
    if region.as_deref() != Some(group.region.as_str()) {
        return Err(errors::rejected(
            DESCRIBE,
            "InvalidParameter",
            format!(
                "the log group {arn} is in {}, but fsx-migrate works in {}: DataSync logs only to a group in \
                 the task's Region",
                group.region,
                region.as_deref().unwrap_or("no Region")
            ),
        ));
    }
    if !exists(client, &group.name).await? {
        create(client, &group.name).await?;
    }
    client
        .put_resource_policy()
        .policy_name(policy_name(&group))
        .policy_document(policy_document(&group))
        .send()
        .await
        .map_err(|e| policy_error(errors::from_sdk(PUT_POLICY, e)))?;
    Ok(())
}

/// DescribeLogGroups by name prefix, every page: the prefix also lists longer names.
async fn exists(client: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<bool, CloudError> {
    let groups = client
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE, e))?;
    Ok(groups.iter().any(|g| g.log_group_name() == Some(name)))
}

async fn create(client: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<(), CloudError> {
    match client.create_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(errors::from_sdk(CREATE, err)),
    }
}

/// CloudWatch Logs answers LimitExceededException when the Region already holds its quota of resource
/// policies (10): not throttling, whatever the code suggests, so waiting cannot help.
fn policy_error(mut error: CloudError) -> CloudError {
    if error.code == "LimitExceededException" {
        error.class = ErrorClass::Rejected;
        error.message = format!(
            "{} (hint: the Region holds the most CloudWatch Logs resource policies it allows; remove one \
             (aws logs describe-resource-policies), or grant datasync.amazonaws.com logs:CreateLogStream and \
             logs:PutLogEvents in an existing policy and leave transfer.cloudwatch_log_group_arn pointing at the group)",
            error.message
        );
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_parse_with_and_without_the_stream_wildcard() {
        let arn =
            LogGroupArn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*").unwrap();
        assert_eq!(
            arn,
            LogGroupArn {
                partition: "aws".into(),
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                name: "/aws/datasync".into(),
            }
        );
        let bare =
            LogGroupArn::parse("arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:dsync").unwrap();
        assert_eq!(
            (bare.partition.as_str(), bare.name.as_str()),
            ("aws-us-gov", "dsync")
        );
        for bad in [
            "/aws/datasync",
            "arn:aws:logs:eu-west-1:123456789012:log-group:",
            "arn:aws:logs:eu-west-1:123456789012:destination:d",
            "arn:aws:s3:eu-west-1:123456789012:log-group:x",
            "arn:aws:logs:eu-west-1:1234:log-group:x",
            "arn:aws:logs::123456789012:log-group:x",
            "arn:aws:logs:eu-west-1:123456789012:log-group:a:log-stream:b",
        ] {
            let err = LogGroupArn::parse(bad).expect_err(bad);
            assert_eq!(err.class, ErrorClass::Rejected, "{bad}");
        }
    }

    #[test]
    fn the_policy_is_named_per_group_and_grants_datasync_only_that_group() {
        let a = LogGroupArn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync").unwrap();
        let a_star =
            LogGroupArn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*").unwrap();
        let b = LogGroupArn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:/fsx-migrate/b").unwrap();
        assert_eq!(
            policy_name(&a),
            policy_name(&a_star),
            "the same group, the same policy"
        );
        assert_ne!(policy_name(&a), policy_name(&b), "another group, another policy");
        assert!(policy_name(&a).starts_with(POLICY_PREFIX));
        assert_eq!(policy_name(&a).len(), POLICY_PREFIX.len() + 12);

        let doc: serde_json::Value = serde_json::from_str(&policy_document(&a)).unwrap();
        let statement = &doc["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "datasync.amazonaws.com");
        assert_eq!(
            statement["Action"],
            json!(["logs:PutLogEvents", "logs:CreateLogStream"])
        );
        assert_eq!(
            statement["Resource"],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/datasync:*"
        );
        assert_eq!(
            statement["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:datasync:eu-west-1:123456789012:task/*"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
    }
}
