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

fn windows() -> Option<Windows> {
    Some(Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec![],
        copy_shares: false,
        shares_left_behind: vec![],
    })
}

const FOLDER: &str = "\\\\corp.example.com\\files\\data";

/// The small world whose users reach the source through the DFS folder `\\corp.example.com\files\data`.
fn world_with_dfs_folder() -> SimPort {
    let mut w = world("small");
    w.records.push(fsx_migrate::cloud::model::DnsRecord {
        name: FOLDER.into(),
        record_type: "DFS".into(),
        values: vec![w.source.dns_name.clone()],
        ttl: Some(300),
    });
    sim(w)
}

async fn dfs_intent(port: &mut SimPort) -> Intent {
    let mut req = plan_request();
    req.name_provider = NameProvider::Dfs;
    req.hosted_zone_id = String::new();
    req.record_name = FOLDER.into();
    req.share_path = Some("share\\data".into());
    req.windows = windows();
    let mut intent = intent_for(port, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    intent
}

fn record(port: &SimPort, name: &str) -> fsx_migrate::cloud::model::DnsRecord {
    port.world
        .records
        .iter()
        .find(|r| dns_eq(&r.name, name))
        .cloned()
        .unwrap()
}

async fn ad_dns_intent(port: &mut SimPort) -> Intent {
    let mut req = plan_request();
    req.name_provider = NameProvider::AdDns;
    req.hosted_zone_id = String::new();
    req.zone_name = Some("corp.example.com".into());
    req.dns_servers = vec!["dc1.corp.example.com".into(), "dc2.corp.example.com".into()];
    req.windows = windows();
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

/// A migration whose users reach the file server through a DFS folder moves the folder's target to the
/// target file system (the same phases and checks: the "record" is the folder, its value the file server),
/// and a rollback moves it back.
#[tokio::test]
async fn a_dfs_folder_target_is_switched_and_switched_back() {
    let mut port = world_with_dfs_folder();
    let intent = dfs_intent(&mut port).await;
    assert!(intent.problems().is_empty(), "{:?}", intent.problems());
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let folder = record(&port, FOLDER);
    assert_eq!(folder.record_type, "DFS", "a folder stays a folder");
    assert!(dns_eq(&folder.values[0], cp.target_dns_name.as_ref().unwrap()));
    assert_eq!(
        folder.ttl,
        Some(intent.dns.ttl),
        "the referral TTL was lowered first"
    );

    port.clock().advance(fsx_migrate::plan::units::Duration::hours(1));
    let rollback = fsx_migrate::core::RunOptions {
        rollback: true,
        ..options()
    };
    let (outcome, _, _) = drive_in_memory(&mut port, &intent, &cp, rollback, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::RolledBack));
    let folder = record(&port, FOLDER);
    assert!(dns_eq(&folder.values[0], &port.world.source.dns_name));
    assert_eq!(folder.ttl, Some(300));
}

#[tokio::test]
async fn a_dfs_plan_round_trips_and_names_what_it_lacks() {
    let mut port = world_with_dfs_folder();
    let intent = dfs_intent(&mut port).await;
    let text = fsx_migrate::plan::render::render(&intent, "test");
    assert!(text.contains("provider = \"dfs\""), "{text}");
    let (parsed, _) = fsx_migrate::plan::file::parse(&text).unwrap();
    assert_eq!(parsed, intent);
    let mut broken = intent.clone();
    broken.dns.record_name = "files.corp.example.com".into();
    broken.dns.share_path = None;
    let fields: Vec<String> = broken.problems().into_iter().map(|p| p.field).collect();
    assert!(fields.contains(&"dns.record_name".to_string()), "{fields:?}");
    assert!(fields.contains(&"dns.share_path".to_string()), "{fields:?}");

    // A plan naming a folder that is not one is stopped by preflight.
    let mut cname = world("small");
    cname.records.push(fsx_migrate::cloud::model::DnsRecord {
        name: FOLDER.into(),
        record_type: "CNAME".into(),
        values: vec![cname.source.dns_name.clone()],
        ttl: Some(300),
    });
    let mut port = sim(cname);
    let env = environment(&mut port, intent.inspect_request()).await;
    let findings = fsx_migrate::core::preflight::check(&intent, &env);
    assert!(
        findings
            .iter()
            .any(|f| f.message.contains("is a CNAME record, not a DFS")),
        "{findings:?}"
    );
}
