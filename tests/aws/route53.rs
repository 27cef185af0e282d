//! Typed request tests for the DNS swap: one UPSERT of the CNAME, then GetChange.

use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsInput, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::get_change::GetChangeOutput;
use aws_sdk_route53::types::{ChangeAction, ChangeInfo, ChangeStatus as R53Status, RrType};
use aws_smithy_mocks::mock;
use aws_smithy_types::DateTime;

use fsx_migrate::cloud::model::ChangeStatus;
use fsx_migrate::cloud::port::{CloudPort, Command, Response, UpsertCnameRequest};

use super::support::{self, Recorder, Rules};

fn change_info(status: R53Status) -> ChangeInfo {
    ChangeInfo::builder()
        .id("/change/C0123456789ABCDEF")
        .status(status)
        .submitted_at(DateTime::from_secs(1_700_000_000))
        .build()
        .expect("change info")
}

#[tokio::test]
async fn upsert_cname_points_the_record_at_the_target_with_the_plan_ttl() {
    let requests = Recorder::<ChangeResourceRecordSetsInput>::new();
    let seen = requests.clone();
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets).then_compute_output(move |r| {
        seen.record(r);
        ChangeResourceRecordSetsOutput::builder()
            .change_info(change_info(R53Status::Pending))
            .build()
    });
    let mut port = support::port(Rules {
        route53: vec![&change],
        ..Default::default()
    });
    let request = UpsertCnameRequest {
        hosted_zone_id: "Z0123456789".into(),
        record_name: "files.corp.example.com".into(),
        value: "amznfsxtarget01.corp.example.com".into(),
        ttl: 60,
        comment: "fsx-migrate plan-42: cut over to fs-0target000000001".into(),
        name_service: None,
    };
    let answer = port.execute(&Command::UpsertCname(request)).await;
    assert_eq!(
        answer,
        Ok(Response::Change {
            id: "C0123456789ABCDEF".into(),
            status: ChangeStatus::Pending
        })
    );

    let r = requests.only();
    assert_eq!(r.hosted_zone_id(), Some("Z0123456789"));
    let batch = r.change_batch().expect("change batch");
    assert_eq!(
        batch.comment(),
        Some("fsx-migrate plan-42: cut over to fs-0target000000001")
    );
    assert_eq!(batch.changes().len(), 1, "exactly one change: the swap is atomic");
    let c = &batch.changes()[0];
    assert_eq!(c.action(), &ChangeAction::Upsert);
    let set = c.resource_record_set().expect("record set");
    assert_eq!(set.name(), "files.corp.example.com");
    assert_eq!(set.r#type(), &RrType::Cname);
    assert_eq!(set.ttl(), Some(60));
    let values: Vec<&str> = set.resource_records().iter().map(|v| v.value()).collect();
    assert_eq!(values, ["amznfsxtarget01.corp.example.com"]);
}

#[tokio::test]
async fn get_change_reports_insync_with_the_bare_change_id() {
    let get = mock!(aws_sdk_route53::Client::get_change)
        .match_requests(|r| r.id() == Some("C0123456789ABCDEF"))
        .sequence()
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change_info(R53Status::Pending))
                .build()
        })
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change_info(R53Status::Insync))
                .build()
        })
        .build();
    let mut port = support::port(Rules {
        route53: vec![&get],
        ..Default::default()
    });
    let command = Command::GetChange {
        change_id: "C0123456789ABCDEF".into(),
        name_service: None,
    };
    assert_eq!(
        port.execute(&command).await,
        Ok(Response::Change {
            id: "C0123456789ABCDEF".into(),
            status: ChangeStatus::Pending
        })
    );
    assert_eq!(
        port.execute(&command).await,
        Ok(Response::Change {
            id: "C0123456789ABCDEF".into(),
            status: ChangeStatus::InSync
        })
    );
}
