//! Amazon FSx calls: describe the source or target, and create the Multi-AZ target.
//!
//! Reading maps SDK shapes into our own [`FileSystemInfo`]/[`FileSystemSettings`] (every enum through
//! `as_str()` and our `parse`, so values this build does not know become `Unknown`, never a crash).
//! Creating sends exactly what the plan says, with the plan's ClientRequestToken: the same token on a
//! resume makes FSx return the file system it already created instead of a second one (invariant 1).

use std::collections::BTreeMap;

use aws_sdk_fsx::types as fsx;

use crate::aws::errors;
use crate::aws::secrets;
use crate::cloud::model::{
    ActiveDirectory, AliasInfo, AliasLifecycle, AuditLog, DeploymentType, DiskIops, FileSystemInfo,
    FileSystemSettings, FileSystemType, Fsrm, Lifecycle, StorageType,
};
use crate::cloud::port::{
    CloudError, CreateTargetRequest, ErrorClass, FROZEN_TAG, MigrationResource, PLAN_TAG, ResourceKind,
    SOURCE_TAG,
};

const DESCRIBE: &str = "fsx:DescribeFileSystems";
const CREATE: &str = "fsx:CreateFileSystem";
const TAG: &str = "fsx:TagResource";
const UNTAG: &str = "fsx:UntagResource";
const DELETE: &str = "fsx:DeleteFileSystem";
const DESCRIBE_ALIASES: &str = "fsx:DescribeFileSystemAliases";
const ASSOCIATE_ALIASES: &str = "fsx:AssociateFileSystemAliases";
const DISASSOCIATE_ALIASES: &str = "fsx:DisassociateFileSystemAliases";
/// DescribeFileSystemAliases pages read at most (a file system has at most 50 aliases).
const MAX_ALIAS_PAGES: usize = 20;

/// What a lifecycle or type is shown as when FSx (or an emulator) does not return the field.
const NOT_RETURNED: &str = "(not returned)";

/// The raw facts of one file system, before the security groups are filled in from EC2.
pub struct Described {
    pub info: FileSystemInfo,
    /// The file system's ENIs: the only place its security groups can be read from.
    pub network_interface_ids: Vec<String>,
}

/// DescribeFileSystems for one id. `Ok(None)` when FSx says FileSystemNotFound or returns no match.
///
/// The result is filtered by id as well, because some emulators ignore `FileSystemIds`.
pub async fn describe(client: &aws_sdk_fsx::Client, id: &str) -> Result<Option<Described>, CloudError> {
    let result = client.describe_file_systems().file_system_ids(id).send().await;
    let out = match result {
        Ok(out) => out,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_file_system_not_found()) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(errors::from_sdk(DESCRIBE, err)),
    };
    let found = out
        .file_systems()
        .iter()
        .find(|fs| fs.file_system_id() == Some(id));
    Ok(found.map(|fs| Described {
        info: to_info(fs),
        network_interface_ids: fs.network_interface_ids().to_vec(),
    }))
}

/// Every file system tagged as created by fsx-migrate for `source_id`, of any plan.
pub async fn migration_file_systems(
    client: &aws_sdk_fsx::Client,
    source_id: &str,
) -> Result<Vec<MigrationResource>, CloudError> {
    let pages: Vec<_> = client
        .describe_file_systems()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE, e))?;
    Ok(pages
        .iter()
        .flat_map(|page| page.file_systems())
        .filter_map(|fs| {
            let tag = |key: &str| {
                fs.tags()
                    .iter()
                    .find(|t| t.key() == Some(key))
                    .and_then(|t| t.value())
            };
            let plan_id = tag(PLAN_TAG)?;
            (tag(SOURCE_TAG) == Some(source_id)).then(|| MigrationResource {
                kind: ResourceKind::FileSystem,
                id: fs.file_system_id().unwrap_or_default().to_string(),
                plan_id: plan_id.to_string(),
                source_file_system_id: source_id.to_string(),
            })
        })
        .collect())
}

/// Maps an SDK file system into ours. Security groups are left empty: FSx does not return them.
pub fn to_info(fs: &fsx::FileSystem) -> FileSystemInfo {
    let windows = fs.windows_configuration();
    FileSystemInfo {
        id: fs.file_system_id().unwrap_or_default().to_string(),
        arn: fs.resource_arn().unwrap_or_default().to_string(),
        file_system_type: fs
            .file_system_type()
            .map(|t| FileSystemType::parse(t.as_str()))
            .unwrap_or_else(|| FileSystemType::Unknown(NOT_RETURNED.into())),
        deployment_type: windows
            .and_then(|w| w.deployment_type())
            .map(|d| DeploymentType::parse(d.as_str()))
            .unwrap_or_else(|| DeploymentType::Unknown(NOT_RETURNED.into())),
        lifecycle: fs
            .lifecycle()
            .map(|l| Lifecycle::parse(l.as_str()))
            .unwrap_or_else(|| Lifecycle::Unknown(NOT_RETURNED.into())),
        failure_message: fs.failure_details().and_then(|d| d.message()).map(str::to_string),
        dns_name: fs.dns_name().unwrap_or_default().to_string(),
        vpc_id: fs.vpc_id().unwrap_or_default().to_string(),
        subnet_ids: fs.subnet_ids().to_vec(),
        security_group_ids: Vec::new(),
        remote_administration_endpoint: windows
            .and_then(|w| w.remote_administration_endpoint())
            .map(str::to_string),
        aliases: windows
            .map(|w| {
                w.aliases()
                    .iter()
                    .filter_map(|a| a.name().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        settings: to_settings(fs),
    }
}

fn to_settings(fs: &fsx::FileSystem) -> FileSystemSettings {
    let windows = fs.windows_configuration();
    FileSystemSettings {
        storage_capacity_gib: to_u32(fs.storage_capacity()),
        // FSx's default for Windows when the field is absent.
        storage_type: fs
            .storage_type()
            .map(|t| StorageType::parse(t.as_str()))
            .unwrap_or(StorageType::Ssd),
        throughput_capacity_mbps: to_u32(windows.and_then(|w| w.throughput_capacity())),
        active_directory: windows.and_then(|w| active_directory(w, fs.dns_name())),
        // FSx's default (30) when absent: the same as leaving it out of CreateFileSystem.
        automatic_backup_retention_days: windows
            .and_then(|w| w.automatic_backup_retention_days())
            .map(|d| to_u32(Some(d)))
            .unwrap_or(30),
        daily_automatic_backup_start_time: windows
            .and_then(|w| w.daily_automatic_backup_start_time())
            .map(str::to_string),
        weekly_maintenance_start_time: windows
            .and_then(|w| w.weekly_maintenance_start_time())
            .map(str::to_string),
        copy_tags_to_backups: windows.and_then(|w| w.copy_tags_to_backups()).unwrap_or(false),
        kms_key_id: fs.kms_key_id().map(str::to_string),
        audit_log: windows
            .and_then(|w| w.audit_log_configuration())
            .map(|a| AuditLog {
                file_access: a
                    .file_access_audit_log_level()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default(),
                file_share_access: a
                    .file_share_access_audit_log_level()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default(),
                destination: a.audit_log_destination().map(str::to_string),
            }),
        disk_iops: windows
            .and_then(|w| w.disk_iops_configuration())
            .map(|d| DiskIops {
                mode: d.mode().map(|m| m.as_str().to_string()).unwrap_or_default(),
                iops: d.iops().and_then(|i| u64::try_from(i).ok()),
            }),
        fsrm: windows.and_then(|w| w.fsrm_configuration()).map(|f| Fsrm {
            service_enabled: f.fsrm_service_enabled().unwrap_or(false),
            event_log_destination: f.event_log_destination().map(str::to_string),
        }),
        network_type: fs.network_type().map(|n| n.as_str().to_string()),
        tags: copyable_tags(fs.tags()),
    }
}

/// The AD the file system is joined to. For AWS Managed AD, FSx returns only the directory id; the
/// domain is taken from the DNS name (`amznfsx….corp.example.com` → `corp.example.com`), because FSx
/// file systems are named inside their AD domain.
fn active_directory(
    w: &fsx::WindowsFileSystemConfiguration,
    dns_name: Option<&str>,
) -> Option<ActiveDirectory> {
    if let Some(directory_id) = w.active_directory_id() {
        let domain_name = dns_name
            .and_then(|name| name.split_once('.'))
            .map(|(_, domain)| domain.trim_end_matches('.').to_string())
            .filter(|domain| !domain.is_empty());
        return Some(ActiveDirectory::Managed {
            directory_id: directory_id.to_string(),
            domain_name,
        });
    }
    let ad = w.self_managed_active_directory_configuration()?;
    Some(ActiveDirectory::SelfManaged {
        domain_name: ad.domain_name().unwrap_or_default().to_string(),
        organizational_unit: ad.organizational_unit_distinguished_name().map(str::to_string),
        administrators_group: ad.file_system_administrators_group().map(str::to_string),
        user_name: ad.user_name().unwrap_or_default().to_string(),
        dns_ips: ad.dns_ips().to_vec(),
        domain_join_service_account_secret: ad.domain_join_service_account_secret().map(str::to_string),
    })
}

/// User tags, without the `aws:` ones AWS manages itself (CreateFileSystem refuses those).
fn copyable_tags(tags: &[fsx::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .filter(|(key, _)| !key.starts_with("aws:"))
        .collect()
}

fn to_u32(value: Option<i32>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

fn to_i32(field: &str, value: u32) -> Result<i32, CloudError> {
    i32::try_from(value).map_err(|_| {
        errors::rejected(
            CREATE,
            "InvalidParameter",
            format!("{field} {value} is too large"),
        )
    })
}

/// Tags the source frozen for `plan_id` (TagResource sets the same value again harmlessly).
pub async fn mark_frozen(
    client: &aws_sdk_fsx::Client,
    file_system_arn: &str,
    plan_id: &str,
) -> Result<(), CloudError> {
    client
        .tag_resource()
        .resource_arn(file_system_arn)
        .tags(fsx::Tag::builder().key(FROZEN_TAG).value(plan_id).build())
        .send()
        .await
        .map_err(|e| errors::from_sdk(TAG, e))?;
    Ok(())
}

/// Removes the freeze tag (UntagResource of a key that is not there succeeds too).
pub async fn unmark_frozen(client: &aws_sdk_fsx::Client, file_system_arn: &str) -> Result<(), CloudError> {
    client
        .untag_resource()
        .resource_arn(file_system_arn)
        .tag_keys(FROZEN_TAG)
        .send()
        .await
        .map_err(|e| errors::from_sdk(UNTAG, e))?;
    Ok(())
}

/// DeleteFileSystem of a Windows file system without a final backup, with a client token (a repeat is
/// answered like the first). A file system FSx does not know is taken as deleted.
pub async fn delete_file_system(
    client: &aws_sdk_fsx::Client,
    file_system_id: &str,
    client_request_token: &str,
) -> Result<(), CloudError> {
    let sent = client
        .delete_file_system()
        .file_system_id(file_system_id)
        .client_request_token(client_request_token)
        .windows_configuration(
            fsx::DeleteFileSystemWindowsConfiguration::builder()
                .skip_final_backup(true)
                .build(),
        )
        .send()
        .await;
    match sent.map_err(|e| errors::from_sdk(DELETE, e)) {
        Ok(_) => Ok(()),
        Err(e) if e.class == ErrorClass::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Our view of an FSx alias (an unknown or missing lifecycle is kept as Unknown, never a crash).
fn to_alias(alias: &fsx::Alias) -> AliasInfo {
    AliasInfo {
        name: alias.name().unwrap_or_default().to_lowercase(),
        lifecycle: alias
            .lifecycle()
            .map_or(AliasLifecycle::Unknown(NOT_RETURNED.into()), |l| {
                AliasLifecycle::parse(l.as_str())
            }),
    }
}

/// DescribeFileSystemAliases, every page.
pub async fn describe_aliases(
    client: &aws_sdk_fsx::Client,
    file_system_id: &str,
) -> Result<Vec<AliasInfo>, CloudError> {
    let mut aliases = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_ALIAS_PAGES {
        let page = client
            .describe_file_system_aliases()
            .file_system_id(file_system_id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| errors::from_sdk(DESCRIBE_ALIASES, e))?;
        aliases.extend(page.aliases().iter().map(to_alias));
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
            Some(_) => {
                return Err(errors::rejected(
                    DESCRIBE_ALIASES,
                    "PaginationStuck",
                    "FSx returned the same NextToken twice".to_string(),
                ));
            }
            None => return Ok(aliases),
        }
    }
    Err(errors::rejected(
        DESCRIBE_ALIASES,
        "PaginationStuck",
        format!("more than {MAX_ALIAS_PAGES} pages of aliases"),
    ))
}

/// AssociateFileSystemAliases (`associate`) or DisassociateFileSystemAliases with a client token. The
/// answer lists only the aliases of the request, so the caller describes them again rather than read it.
pub async fn change_aliases(
    client: &aws_sdk_fsx::Client,
    associate: bool,
    file_system_id: &str,
    aliases: &[String],
    client_request_token: &str,
) -> Result<(), CloudError> {
    if associate {
        client
            .associate_file_system_aliases()
            .file_system_id(file_system_id)
            .set_aliases(Some(aliases.to_vec()))
            .client_request_token(client_request_token)
            .send()
            .await
            .map_err(|e| errors::from_sdk(ASSOCIATE_ALIASES, e))?;
    } else {
        client
            .disassociate_file_system_aliases()
            .file_system_id(file_system_id)
            .set_aliases(Some(aliases.to_vec()))
            .client_request_token(client_request_token)
            .send()
            .await
            .map_err(|e| errors::from_sdk(DISASSOCIATE_ALIASES, e))?;
    }
    Ok(())
}

/// CreateFileSystem: a MULTI_AZ_1 Windows file system with the copied settings and the plan's token.
pub async fn create_target(
    client: &aws_sdk_fsx::Client,
    secrets_client: &aws_sdk_secretsmanager::Client,
    request: &CreateTargetRequest,
) -> Result<FileSystemInfo, CloudError> {
    let settings = &request.settings;
    let mut windows = fsx::CreateFileSystemWindowsConfiguration::builder()
        .deployment_type(fsx::WindowsDeploymentType::MultiAz1)
        .preferred_subnet_id(&request.preferred_subnet_id)
        .throughput_capacity(to_i32("throughput capacity", settings.throughput_capacity_mbps)?)
        .automatic_backup_retention_days(to_i32(
            "backup retention",
            settings.automatic_backup_retention_days,
        )?)
        .copy_tags_to_backups(settings.copy_tags_to_backups)
        .set_daily_automatic_backup_start_time(settings.daily_automatic_backup_start_time.clone())
        .set_weekly_maintenance_start_time(settings.weekly_maintenance_start_time.clone());

    let mut password: Option<secrets::Secret> = None;
    match &settings.active_directory {
        Some(ActiveDirectory::Managed { directory_id, .. }) => {
            windows = windows.active_directory_id(directory_id);
        }
        Some(ActiveDirectory::SelfManaged {
            domain_name,
            organizational_unit,
            administrators_group,
            dns_ips,
            domain_join_service_account_secret: Some(secret_arn),
            ..
        }) => {
            // The source joined with a secret: the target joins with the same one, no password crosses here.
            let ad = fsx::SelfManagedActiveDirectoryConfiguration::builder()
                .domain_name(domain_name)
                .set_organizational_unit_distinguished_name(organizational_unit.clone())
                .set_file_system_administrators_group(administrators_group.clone())
                .domain_join_service_account_secret(secret_arn)
                .set_dns_ips(Some(dns_ips.clone()))
                .build();
            windows = windows.self_managed_active_directory_configuration(ad);
        }
        Some(ActiveDirectory::SelfManaged {
            domain_name,
            organizational_unit,
            administrators_group,
            user_name,
            dns_ips,
            domain_join_service_account_secret: None,
        }) => {
            let Some(source) = &request.ad_join_password else {
                return Err(errors::rejected(
                    CREATE,
                    "PasswordUnavailable",
                    format!(
                        "the target joins the self-managed AD {domain_name}: set target.ad_join_password \
                         (env:VARIABLE, prompt or secretsmanager:ARN) for the user {user_name}"
                    ),
                ));
            };
            let purpose = format!("joining {domain_name} as {user_name}");
            let secret = secrets::resolve(secrets_client, source, &purpose).await?;
            let ad = fsx::SelfManagedActiveDirectoryConfiguration::builder()
                .domain_name(domain_name)
                .set_organizational_unit_distinguished_name(organizational_unit.clone())
                .set_file_system_administrators_group(administrators_group.clone())
                .user_name(user_name)
                .password(secret.expose())
                .set_dns_ips(Some(dns_ips.clone()))
                .build();
            windows = windows.self_managed_active_directory_configuration(ad);
            password = Some(secret);
        }
        None => {}
    }
    if let Some(audit) = &settings.audit_log {
        windows = windows.audit_log_configuration(
            fsx::WindowsAuditLogCreateConfiguration::builder()
                .file_access_audit_log_level(fsx::WindowsAccessAuditLogLevel::from(
                    audit.file_access.as_str(),
                ))
                .file_share_access_audit_log_level(fsx::WindowsAccessAuditLogLevel::from(
                    audit.file_share_access.as_str(),
                ))
                .set_audit_log_destination(audit.destination.clone())
                .build(),
        );
    }
    // SSD IOPS only exist on SSD; an explicit number only in USER_PROVISIONED mode.
    if let Some(iops) = &settings.disk_iops
        && settings.storage_type != StorageType::Hdd
    {
        let user_provisioned = iops.mode == "USER_PROVISIONED";
        let iops_value = if user_provisioned {
            iops.iops.and_then(|i| i64::try_from(i).ok())
        } else {
            None
        };
        windows = windows.disk_iops_configuration(
            fsx::DiskIopsConfiguration::builder()
                .mode(fsx::DiskIopsConfigurationMode::from(iops.mode.as_str()))
                .set_iops(iops_value)
                .build(),
        );
    }

    if let Some(fsrm) = &settings.fsrm {
        windows = windows.fsrm_configuration(
            fsx::WindowsFsrmConfiguration::builder()
                .fsrm_service_enabled(fsrm.service_enabled)
                .set_event_log_destination(fsrm.event_log_destination.clone())
                .build(),
        );
    }

    let tags: Vec<fsx::Tag> = request
        .tags
        .iter()
        .filter(|(key, _)| !key.starts_with("aws:"))
        .map(|(k, v)| fsx::Tag::builder().key(k).value(v).build())
        .collect();

    let result = client
        .create_file_system()
        .client_request_token(&request.client_request_token)
        .file_system_type(fsx::FileSystemType::Windows)
        .storage_capacity(to_i32("storage capacity", settings.storage_capacity_gib)?)
        .storage_type(fsx::StorageType::from(settings.storage_type.as_str()))
        .set_subnet_ids(Some(request.subnet_ids.clone()))
        .set_security_group_ids(Some(request.security_group_ids.clone()))
        .set_tags(Some(tags))
        .set_kms_key_id(settings.kms_key_id.clone())
        .set_network_type(settings.network_type.as_deref().map(fsx::NetworkType::from))
        .windows_configuration(windows.build())
        .send()
        .await;
    let out = result.map_err(|e| {
        let err = errors::from_sdk(CREATE, e);
        match &password {
            Some(secret) => errors::redact(err, secret.expose()),
            None => err,
        }
    })?;
    let fs = out
        .file_system()
        .ok_or_else(|| errors::missing_field(CREATE, "FileSystem"))?;
    let mut info = to_info(fs);
    info.security_group_ids = request.security_group_ids.clone();
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_ad_domain_comes_from_the_dns_name() {
        let w = fsx::WindowsFileSystemConfiguration::builder()
            .active_directory_id("d-1234567890")
            .build();
        let ad = active_directory(&w, Some("amznfsxabcd1234.corp.example.com")).unwrap();
        assert_eq!(ad.domain_name(), Some("corp.example.com"));
    }

    #[test]
    fn aws_tags_are_not_copied() {
        let tags = vec![
            fsx::Tag::builder().key("Name").value("files").build(),
            fsx::Tag::builder()
                .key("aws:cloudformation:stack-name")
                .value("x")
                .build(),
        ];
        let copied = copyable_tags(&tags);
        assert_eq!(copied.len(), 1);
        assert_eq!(copied["Name"], "files");
    }
}
