//! Amazon Route 53 calls: find the record users resolve, swap it to the target with one UPSERT, and
//! follow the change until INSYNC.
//!
//! ListResourceRecordSets has no paginator in the SDK (the model has no `@paginated` trait), so it is
//! paged by hand with IsTruncated / NextRecordName / NextRecordType / NextRecordIdentifier.

use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

use crate::aws::errors;
use crate::cloud::model::{ChangeStatus, DnsRecord};
use crate::cloud::port::{CloudError, UpsertCnameRequest};

const GET_ZONE: &str = "route53:GetHostedZone";
const LIST_RECORDS: &str = "route53:ListResourceRecordSets";
const CHANGE: &str = "route53:ChangeResourceRecordSets";
const GET_CHANGE: &str = "route53:GetChange";

/// A safety stop for a server that keeps saying "truncated" (300 records a page: 3 million records).
const MAX_PAGES: usize = 10_000;

/// GetHostedZone's name, or `None` when the zone does not exist.
pub async fn hosted_zone_name(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<Option<String>, CloudError> {
    match client.get_hosted_zone().id(zone_id).send().await {
        Ok(out) => Ok(out.hosted_zone().map(|z| z.name().to_string())),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_hosted_zone()) => Ok(None),
        Err(err) => Err(errors::from_sdk(GET_ZONE, err)),
    }
}

/// Lowercase, without the trailing dot: how two DNS names are compared.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Walks every page of the zone and returns the first record set named `record_name`, of any type.
pub async fn find_record(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    record_name: &str,
) -> Result<Option<DnsRecord>, CloudError> {
    let wanted = normalize(record_name);
    let mut start: Option<(String, RrType, Option<String>)> = None;
    for _ in 0..MAX_PAGES {
        let mut request = client.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, kind, identifier)) = &start {
            request = request
                .start_record_name(name)
                .start_record_type(kind.clone())
                .set_start_record_identifier(identifier.clone());
        }
        let page = request
            .send()
            .await
            .map_err(|e| errors::from_sdk(LIST_RECORDS, e))?;
        if let Some(set) = page
            .resource_record_sets()
            .iter()
            .find(|set| normalize(set.name()) == wanted)
        {
            return Ok(Some(to_record(set)));
        }
        if !page.is_truncated() {
            return Ok(None);
        }
        let (Some(name), Some(kind)) = (page.next_record_name(), page.next_record_type()) else {
            return Err(errors::missing_field(
                LIST_RECORDS,
                "NextRecordName/NextRecordType of a truncated page",
            ));
        };
        let next = (
            name.to_string(),
            kind.clone(),
            page.next_record_identifier().map(str::to_string),
        );
        if start.as_ref() == Some(&next) {
            return Err(errors::rejected(
                LIST_RECORDS,
                "PaginationStuck",
                format!(
                    "Route 53 returned the same next record ({name} {}) twice",
                    kind.as_str()
                ),
            ));
        }
        start = Some(next);
    }
    Err(errors::rejected(
        LIST_RECORDS,
        "PaginationStuck",
        format!("more than {MAX_PAGES} pages of records"),
    ))
}

fn to_record(set: &ResourceRecordSet) -> DnsRecord {
    let values = match set.alias_target() {
        // An alias record has no ResourceRecords; show where it points.
        Some(alias) if set.resource_records().is_empty() => vec![alias.dns_name().to_string()],
        _ => set
            .resource_records()
            .iter()
            .map(|r| r.value().to_string())
            .collect(),
    };
    DnsRecord {
        name: set.name().to_string(),
        record_type: set.r#type().as_str().to_string(),
        values,
        ttl: set.ttl().and_then(|t| u64::try_from(t).ok()),
    }
}

/// ChangeResourceRecordSets with one UPSERT of `record_name CNAME value`.
pub async fn upsert_cname(
    client: &aws_sdk_route53::Client,
    request: &UpsertCnameRequest,
) -> Result<(String, ChangeStatus), CloudError> {
    let build =
        |e: aws_sdk_route53::error::BuildError| errors::rejected(CHANGE, "InvalidParameter", e.to_string());
    let ttl = i64::try_from(request.ttl).map_err(|_| {
        errors::rejected(
            CHANGE,
            "InvalidParameter",
            format!("TTL {} is too large", request.ttl),
        )
    })?;
    let record = ResourceRecordSet::builder()
        .name(&request.record_name)
        .r#type(RrType::Cname)
        .ttl(ttl)
        .resource_records(
            ResourceRecord::builder()
                .value(&request.value)
                .build()
                .map_err(build)?,
        )
        .build()
        .map_err(build)?;
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(record)
        .build()
        .map_err(build)?;
    let batch = ChangeBatch::builder()
        .comment(&request.comment)
        .changes(change)
        .build()
        .map_err(build)?;
    let out = client
        .change_resource_record_sets()
        .hosted_zone_id(&request.hosted_zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| errors::from_sdk(CHANGE, e))?;
    let info = out
        .change_info()
        .ok_or_else(|| errors::missing_field(CHANGE, "ChangeInfo"))?;
    Ok((
        strip_change_prefix(info.id()),
        ChangeStatus::parse(info.status().as_str()),
    ))
}

/// GetChange: PENDING until every Route 53 name server has the change, then INSYNC.
pub async fn get_change(
    client: &aws_sdk_route53::Client,
    change_id: &str,
) -> Result<(String, ChangeStatus), CloudError> {
    let out = client
        .get_change()
        .id(change_id)
        .send()
        .await
        .map_err(|e| errors::from_sdk(GET_CHANGE, e))?;
    let info = out
        .change_info()
        .ok_or_else(|| errors::missing_field(GET_CHANGE, "ChangeInfo"))?;
    Ok((
        strip_change_prefix(info.id()),
        ChangeStatus::parse(info.status().as_str()),
    ))
}

/// Route 53 returns change ids as `/change/C123…`; the plan keeps the bare id.
pub fn strip_change_prefix(id: &str) -> String {
    id.strip_prefix("/change/").unwrap_or(id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_or_trailing_dot() {
        assert_eq!(
            normalize("Files.Corp.Example.com."),
            normalize("files.corp.example.com")
        );
        assert_eq!(strip_change_prefix("/change/C123"), "C123");
        assert_eq!(strip_change_prefix("C123"), "C123");
    }
}
