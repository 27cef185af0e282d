//! The AWS adapter: the cloud port carried out with the AWS SDK for Rust (FSx, DataSync, Route 53, EC2,
//! Secrets Manager, CloudWatch Logs).
//!
//! It is a thin translation layer: each [`Command`] becomes one or a few SDK calls, each answer is mapped
//! into our own model types, and each SDK error into a classified [`CloudError`]. No SDK type leaves this
//! module. Decisions (what to create, when to retry, when to stop) belong to the core above the port.

pub mod datasync;
pub mod ec2;
pub mod errors;
pub mod fsx;
pub mod logs;
pub mod names;
pub mod retries;
pub mod route53;
pub mod secrets;
pub mod ssm;

use std::time::Duration;

use anyhow::bail;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::cloud::model::ChangeStatus;
use crate::cloud::port::{CloudError, CloudPort, Command, Environment, ErrorClass, Response};

/// The Region used with `--endpoint-url` when nothing else names one (emulators accept any).
const EMULATOR_DEFAULT_REGION: &str = "us-east-1";

/// How to reach AWS: the CLI's global `--profile`, `--region` and `--endpoint-url`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// One endpoint for every service (an emulator such as moto). Per-service `AWS_ENDPOINT_URL_FSX`,
    /// `AWS_ENDPOINT_URL_DATASYNC`, `AWS_ENDPOINT_URL_ROUTE_53`, … are honoured by aws-config when unset.
    pub endpoint_url: Option<String>,
}

/// The SDK retry policy for long, unattended runs: standard mode with 8 attempts (the SDK default is
/// 3) and backoff capped at 20 s, so a burst of throttling (Route 53 allows 5 requests/s per account)
/// is absorbed inside one call.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

/// Timeouts: a short connect timeout, a generous per-attempt timeout, and an overall cap that leaves
/// room for all the retries above.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .operation_attempt_timeout(Duration::from_secs(60))
        .operation_timeout(Duration::from_secs(600))
        .build()
}

/// The SDK clients behind the port.
#[derive(Debug, Clone)]
pub struct AwsPort {
    fsx: aws_sdk_fsx::Client,
    datasync: aws_sdk_datasync::Client,
    route53: aws_sdk_route53::Client,
    ec2: aws_sdk_ec2::Client,
    secrets: aws_sdk_secretsmanager::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    ssm: aws_sdk_ssm::Client,
}

impl AwsPort {
    /// Loads the default credential chain (environment, profile, SSO, instance role) with the CLI's
    /// options, the raised retry policy and the timeouts.
    pub async fn connect(opts: &AwsOptions) -> anyhow::Result<AwsPort> {
        let config = load_config(opts, None).await?;
        Ok(Self::from_config(&config))
    }

    /// Like [`AwsPort::connect`], but with fixed credentials instead of the default chain: for emulators
    /// such as moto, which accept any key. Never use it with real keys on the command line.
    pub async fn connect_with_static_credentials(
        opts: &AwsOptions,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> anyhow::Result<AwsPort> {
        let credentials = aws_sdk_fsx::config::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "fsx-migrate-static",
        );
        let config = load_config(opts, Some(credentials)).await?;
        Ok(Self::from_config(&config))
    }

    /// Wraps clients built elsewhere (tests use mocked clients).
    pub fn from_clients(
        fsx: aws_sdk_fsx::Client,
        datasync: aws_sdk_datasync::Client,
        route53: aws_sdk_route53::Client,
        ec2: aws_sdk_ec2::Client,
        secrets: aws_sdk_secretsmanager::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        ssm: aws_sdk_ssm::Client,
    ) -> AwsPort {
        AwsPort {
            fsx,
            datasync,
            route53,
            ec2,
            secrets,
            logs,
            ssm,
        }
    }

    fn from_config(config: &SdkConfig) -> AwsPort {
        AwsPort {
            fsx: aws_sdk_fsx::Client::new(config),
            datasync: aws_sdk_datasync::Client::new(config),
            route53: aws_sdk_route53::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }

    /// Preflight facts: the source (with its security groups from EC2), the subnets, the zone and record.
    async fn inspect(&self, request: &crate::cloud::port::InspectRequest) -> Result<Environment, CloudError> {
        let source = match fsx::describe(&self.fsx, &request.source_file_system_id).await? {
            Some(described) => {
                let mut info = described.info;
                info.security_group_ids =
                    ec2::security_groups(&self.ec2, &described.network_interface_ids).await?;
                Some(info)
            }
            None => None,
        };
        let subnets = ec2::subnets(&self.ec2, &request.subnet_ids).await?;
        let security_groups = match &request.security_group_ids {
            None => Vec::new(),
            Some(ids) if ids.is_empty() => {
                let of_source = source
                    .as_ref()
                    .map(|s| s.security_group_ids.clone())
                    .unwrap_or_default();
                ec2::security_group_rules(&self.ec2, &of_source).await?
            }
            Some(ids) => ec2::security_group_rules(&self.ec2, ids).await?,
        };
        let (hosted_zone_name, record) = match &request.name_service {
            Some(service) => {
                let zone = match service {
                    crate::cloud::port::NameService::AdDns { zone_name, .. } => zone_name.clone(),
                    crate::cloud::port::NameService::Dfs { .. } => "the DFS namespace".to_string(),
                };
                let record = names::read(&self.ssm, service, &request.record_name).await?;
                (Some(zone), record)
            }
            None => {
                let name = route53::hosted_zone_name(&self.route53, &request.hosted_zone_id).await?;
                let record = match name {
                    Some(_) => {
                        route53::find_record(&self.route53, &request.hosted_zone_id, &request.record_name)
                            .await?
                    }
                    None => None,
                };
                (name, record)
            }
        };
        let mut unresolved_passwords = Vec::new();
        for source in &request.password_sources {
            if let Some(problem) = secrets::check(&self.secrets, source).await? {
                unresolved_passwords.push(problem);
            }
        }
        Ok(Environment {
            source,
            subnets,
            hosted_zone_name,
            record,
            migration_resources: self.migration_resources(&request.source_file_system_id).await?,
            unresolved_passwords,
            security_groups,
        })
    }

    /// Every target and task any fsx-migrate plan created for `source_id` (one migration per source).
    async fn migration_resources(
        &self,
        source_id: &str,
    ) -> Result<Vec<crate::cloud::port::MigrationResource>, CloudError> {
        let mut found = fsx::migration_file_systems(&self.fsx, source_id).await?;
        found.extend(datasync::migration_tasks(&self.datasync, source_id).await?);
        Ok(found)
    }
}

async fn load_config(
    opts: &AwsOptions,
    credentials: Option<aws_sdk_fsx::config::Credentials>,
) -> anyhow::Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return Ok(config);
    }
    if opts.endpoint_url.is_some() {
        return Ok(config
            .to_builder()
            .region(Region::new(EMULATOR_DEFAULT_REGION))
            .build());
    }
    let profile = opts
        .profile
        .as_deref()
        .map(|p| format!(" (profile {p})"))
        .unwrap_or_default();
    bail!("no AWS Region configured{profile}: pass --region, set AWS_REGION, or set `region` in the profile")
}

impl CloudPort for AwsPort {
    async fn execute(&mut self, command: &Command) -> Result<Response, CloudError> {
        match command {
            Command::Inspect(request) => self.inspect(request).await.map(Response::Environment),
            Command::CreateTarget(request) => fsx::create_target(&self.fsx, &self.secrets, request)
                .await
                .map(Response::FileSystem),
            // Polled while the target is created: FSx only, so `security_group_ids` stays empty here.
            Command::DescribeFileSystem { file_system_id } => {
                match fsx::describe(&self.fsx, file_system_id).await? {
                    Some(described) => Ok(Response::FileSystem(described.info)),
                    None => Err(CloudError {
                        class: ErrorClass::NotFound,
                        operation: "fsx:DescribeFileSystems".to_string(),
                        code: "FileSystemNotFound".to_string(),
                        message: format!("the file system {file_system_id} does not exist"),
                    }),
                }
            }
            Command::FindTransferResources { plan_id } => {
                datasync::find_transfer_resources(&self.datasync, plan_id)
                    .await
                    .map(Response::TransferResources)
            }
            Command::CreateLocation(request) => {
                let arn = datasync::create_location(&self.datasync, &self.secrets, request).await?;
                Ok(Response::LocationCreated {
                    side: request.side,
                    arn,
                })
            }
            Command::CreateTask(request) => datasync::create_task(&self.datasync, request)
                .await
                .map(|arn| Response::TaskCreated { arn }),
            Command::FindExecution { task_arn, known } => {
                datasync::find_execution(&self.datasync, task_arn, known)
                    .await
                    .map(Response::ExecutionCandidates)
            }
            Command::FindMigrationResources {
                source_file_system_id,
            } => self
                .migration_resources(source_file_system_id)
                .await
                .map(Response::MigrationResources),
            Command::EnsureLogGroup { arn } => logs::ensure_log_group(&self.logs, arn)
                .await
                .map(|()| Response::LogGroupReady),
            Command::StartExecution(request) => datasync::start_execution(&self.datasync, request)
                .await
                .map(|arn| Response::ExecutionStarted { arn }),
            Command::LimitExecution {
                execution_arn,
                bytes_per_second,
            } => datasync::limit_execution(&self.datasync, execution_arn, *bytes_per_second)
                .await
                .map(|()| Response::ExecutionLimited {
                    execution_arn: execution_arn.clone(),
                    bytes_per_second: *bytes_per_second,
                }),
            Command::DescribeExecution { execution_arn } => {
                datasync::describe_execution(&self.datasync, execution_arn)
                    .await
                    .map(Response::Execution)
            }
            Command::UpsertCname(request) => match &request.name_service {
                None => route53::upsert_cname(&self.route53, request)
                    .await
                    .map(|(id, status)| Response::Change { id, status }),
                Some(service) => names::set(
                    &self.ssm,
                    service,
                    &request.record_name,
                    &request.value,
                    request.ttl,
                )
                .await
                .map(|id| Response::Change {
                    id,
                    status: ChangeStatus::Pending,
                }),
            },
            Command::GetChange {
                change_id,
                name_service,
            } => match name_service {
                None => route53::get_change(&self.route53, change_id)
                    .await
                    .map(|(id, status)| Response::Change { id, status }),
                Some(zone) => names::check(&self.ssm, zone, change_id)
                    .await
                    .map(|status| Response::Change {
                        id: change_id.clone(),
                        status,
                    }),
            },
            Command::MarkFrozen {
                file_system_arn,
                plan_id,
            } => fsx::mark_frozen(&self.fsx, file_system_arn, plan_id)
                .await
                .map(|()| Response::MarkedFrozen),
            Command::UnmarkFrozen { file_system_arn } => fsx::unmark_frozen(&self.fsx, file_system_arn)
                .await
                .map(|()| Response::UnmarkedFrozen),
            Command::RunningExecutions { task_arn } => datasync::running_executions(&self.datasync, task_arn)
                .await
                .map(Response::RunningExecutions),
            Command::CancelExecution { execution_arn } => {
                datasync::cancel_execution(&self.datasync, execution_arn)
                    .await
                    .map(|()| Response::ExecutionCancelled)
            }
            Command::DeleteTask { task_arn } => datasync::delete_task(&self.datasync, task_arn)
                .await
                .map(|()| Response::Deleted { id: task_arn.clone() }),
            Command::DeleteLocation { location_arn } => {
                datasync::delete_location(&self.datasync, location_arn)
                    .await
                    .map(|()| Response::Deleted {
                        id: location_arn.clone(),
                    })
            }
            Command::RunPowerShell(request) => ssm::send(&self.ssm, request)
                .await
                .map(|command_id| Response::PowerShellSent { command_id }),
            Command::FindPowerShell { instance_id, comment } => ssm::find(&self.ssm, instance_id, comment)
                .await
                .map(Response::PowerShellCommands),
            Command::GetPowerShell {
                command_id,
                instance_id,
            } => ssm::get(&self.ssm, command_id, instance_id)
                .await
                .map(Response::PowerShellInvocation),
            Command::DeleteFileSystem {
                file_system_id,
                client_request_token,
            } => fsx::delete_file_system(&self.fsx, file_system_id, client_request_token)
                .await
                .map(|()| Response::Deleted {
                    id: file_system_id.clone(),
                }),
            Command::DescribeAliases { file_system_id } => fsx::describe_aliases(&self.fsx, file_system_id)
                .await
                .map(|aliases| Response::Aliases {
                    file_system_id: file_system_id.clone(),
                    aliases,
                }),
            Command::AssociateAliases {
                file_system_id,
                aliases,
                client_request_token,
            }
            | Command::DisassociateAliases {
                file_system_id,
                aliases,
                client_request_token,
            } => {
                let associate = matches!(command, Command::AssociateAliases { .. });
                fsx::change_aliases(
                    &self.fsx,
                    associate,
                    file_system_id,
                    aliases,
                    client_request_token,
                )
                .await
                .map(|()| Response::AliasesChanged {
                    file_system_id: file_system_id.clone(),
                })
            }
            Command::FindRecord {
                hosted_zone_id,
                record_name,
            } => route53::find_record(&self.route53, hosted_zone_id, record_name)
                .await
                .map(Response::Record),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_raised_for_long_unattended_runs() {
        let retry = retry_config();
        assert_eq!(retry.max_attempts(), 8);
        assert_eq!(retry.max_backoff(), Duration::from_secs(20));
        let timeouts = timeout_config();
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(60))
        );
    }

    #[tokio::test]
    async fn an_endpoint_without_a_region_defaults_to_us_east_1() {
        let opts = AwsOptions {
            profile: None,
            region: None,
            endpoint_url: Some("http://127.0.0.1:1".into()),
        };
        let credentials = aws_sdk_fsx::config::Credentials::new("k", "s", None, None, "test");
        let config = load_config(&opts, Some(credentials)).await.expect("config");
        assert!(config.region().is_some());
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
    }
}
