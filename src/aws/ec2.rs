//! Amazon EC2 reads that FSx cannot answer itself: a file system's security groups and the target subnets.
//!
//! FSx does not return the security groups a file system was created with ("this list isn't returned in
//! later requests to describe the file system"), so they are read from its network interfaces. Subnets are
//! described through a `subnet-id` filter, which simply leaves out ids that do not exist instead of failing
//! the whole call with InvalidSubnetID.NotFound.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;

use crate::aws::errors;
use crate::cloud::model::{SecurityGroup, SecurityRule, SubnetInfo};
use crate::cloud::port::CloudError;

const DESCRIBE_ENIS: &str = "ec2:DescribeNetworkInterfaces";
const DESCRIBE_SUBNETS: &str = "ec2:DescribeSubnets";
const DESCRIBE_GROUPS: &str = "ec2:DescribeSecurityGroups";

/// The rules of the security groups that exist among `group_ids` (a `group-id` filter, so a missing one is
/// left out rather than failing the call), in the order asked for.
pub async fn security_group_rules(
    client: &aws_sdk_ec2::Client,
    group_ids: &[String],
) -> Result<Vec<SecurityGroup>, CloudError> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::builder()
        .name("group-id")
        .set_values(Some(group_ids.to_vec()))
        .build();
    let found: Vec<aws_sdk_ec2::types::SecurityGroup> = client
        .describe_security_groups()
        .filters(filter)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE_GROUPS, e))?;
    let rules = |permissions: &[aws_sdk_ec2::types::IpPermission]| -> Vec<SecurityRule> {
        permissions
            .iter()
            .map(|p| SecurityRule {
                protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                from_port: p.from_port(),
                to_port: p.to_port(),
                cidrs: p
                    .ip_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ip().map(str::to_string))
                    .chain(
                        p.ipv6_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ipv6().map(str::to_string)),
                    )
                    .collect(),
                groups: p
                    .user_id_group_pairs()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_string))
                    .collect(),
                prefix_lists: p
                    .prefix_list_ids()
                    .iter()
                    .filter_map(|l| l.prefix_list_id().map(str::to_string))
                    .collect(),
            })
            .collect()
    };
    Ok(group_ids
        .iter()
        .filter_map(|id| found.iter().find(|g| g.group_id() == Some(id.as_str())))
        .map(|g| SecurityGroup {
            id: g.group_id().unwrap_or_default().to_string(),
            inbound: rules(g.ip_permissions()),
            outbound: rules(g.ip_permissions_egress()),
        })
        .collect())
}

/// The union of the security groups on these network interfaces, sorted and without duplicates.
pub async fn security_groups(
    client: &aws_sdk_ec2::Client,
    network_interface_ids: &[String],
) -> Result<Vec<String>, CloudError> {
    if network_interface_ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = client
        .describe_network_interfaces()
        .set_network_interface_ids(Some(network_interface_ids.to_vec()))
        .send()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE_ENIS, e))?;
    let groups: BTreeSet<String> = out
        .network_interfaces()
        .iter()
        .flat_map(|eni| eni.groups())
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    Ok(groups.into_iter().collect())
}

/// The requested subnets that exist, in the order they were asked for.
pub async fn subnets(
    client: &aws_sdk_ec2::Client,
    subnet_ids: &[String],
) -> Result<Vec<SubnetInfo>, CloudError> {
    if subnet_ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::builder()
        .name("subnet-id")
        .set_values(Some(subnet_ids.to_vec()))
        .build();
    let out = client
        .describe_subnets()
        .filters(filter)
        .send()
        .await
        .map_err(|e| errors::from_sdk(DESCRIBE_SUBNETS, e))?;
    let found: Vec<SubnetInfo> = out
        .subnets()
        .iter()
        .filter_map(|s| {
            Some(SubnetInfo {
                id: s.subnet_id()?.to_string(),
                availability_zone: s.availability_zone().unwrap_or_default().to_string(),
                vpc_id: s.vpc_id().unwrap_or_default().to_string(),
                available_ip_addresses: s.available_ip_address_count().and_then(|n| u32::try_from(n).ok()),
            })
        })
        .collect();
    Ok(subnet_ids
        .iter()
        .filter_map(|id| found.iter().find(|s| &s.id == id).cloned())
        .collect())
}
