//! The name-switch seam: the users' record in Route 53 (every other test) or in an Active Directory DNS zone,
//! changed through SSM with dns.ps1. The core asks the same of both; these tests drive a whole migration, a
//! rollback and the plan file with the AD DNS provider.

use fsx_migrate::cloud::model::dns_eq;
use fsx_migrate::core::Halt;
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::intent::{NameProvider, Windows};
use fsx_migrate::plan::{Checkpoint, Intent};
use fsx_migrate::sim::SimPort;

use crate::support::*;

async fn ad_dns_intent(port: &mut SimPort) -> Intent {
    let mut req = plan_request();
    req.name_provider = NameProvider::AdDns;
    req.hosted_zone_id = String::new();
    req.zone_name = Some("corp.example.com".into());
    req.dns_servers = vec!["dc1.corp.example.com".into(), "dc2.corp.example.com".into()];
    req.windows = Some(Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec![],
        copy_shares: false,
        shares_left_behind: vec![],
    });
    let mut intent = intent_for(port, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    intent
}

/// A migration whose record is in AD DNS swaps it (and lowers its TTL first) through the same phases and
/// checks as a Route 53 record, and a rollback puts it back as it was.
#[tokio::test]
async fn a_record_in_ad_dns_is_swapped_and_swapped_back_like_a_route53_record() {
    let mut port = sim(world("small"));
    let intent = ad_dns_intent(&mut port).await;
    assert!(intent.problems().is_empty(), "{:?}", intent.problems());
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    assert!(dns_eq(
        &users_record(&port).values[0],
        cp.target_dns_name.as_ref().unwrap()
    ));
    assert!(cp.dns_insync_at.is_some());

    port.clock().advance(fsx_migrate::plan::units::Duration::hours(1));
    let rollback = fsx_migrate::core::RunOptions {
        rollback: true,
        ..options()
    };
    let (outcome, cp, _) = drive_in_memory(&mut port, &intent, &cp, rollback, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::RolledBack));
    assert_invariants(&port, &cp, true);
    let record = users_record(&port);
    assert!(dns_eq(&record.values[0], &port.world.source.dns_name));
    assert_eq!(record.ttl, Some(300), "the TTL from before the migration");
}

/// The plan file says where the record lives; an AD DNS plan without its zone, its servers or a [windows]
/// instance is refused with each field named, and an unknown provider is a typo.
#[tokio::test]
async fn an_ad_dns_plan_round_trips_and_is_checked_strictly() {
    let mut port = sim(world("small"));
    let intent = ad_dns_intent(&mut port).await;
    let text = fsx_migrate::plan::render::render(&intent, "test");
    assert!(text.contains("provider = \"ad_dns\""), "{text}");
    assert!(!text.contains("hosted_zone_id"), "{text}");
    let (parsed, _) = fsx_migrate::plan::file::parse(&text).unwrap();
    assert_eq!(parsed, intent);

    let mut broken = intent.clone();
    broken.dns.zone_name = None;
    broken.dns.dns_servers.clear();
    broken.windows = None;
    let fields: Vec<String> = broken.problems().into_iter().map(|p| p.field).collect();
    for field in ["dns.zone_name", "dns.dns_servers", "dns.provider"] {
        assert!(fields.iter().any(|f| f == field), "{field} not named: {fields:?}");
    }
    let mut outside = intent.clone();
    outside.dns.record_name = "files.other.example.com".into();
    assert!(outside.problems().iter().any(|p| p.field == "dns.record_name"));

    let typo = text.replace("provider = \"ad_dns\"", "provider = \"addns\"");
    assert!(fsx_migrate::plan::file::parse(&typo).is_err());
}
