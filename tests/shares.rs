//! The copy of the source's shares and in-server settings to the target (`[windows]`, copy_shares): which
//! shares the plan's copy carries, what apply.ps1 is given, and how the run stops when the target does not
//! match — in the pure rules (`core::service`) and through whole migrations on the simulator.

use fsx_migrate::cloud::windows::{ServiceExport, ShareAccess, ShareConfig, WindowsScript};
use fsx_migrate::core::Halt;
use fsx_migrate::core::service::{keep_writer, setting_differences, share_differences, uncovered_shares};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::intent::{FreezeKind, Windows};
use fsx_migrate::plan::{Checkpoint, Intent, Phase};
use fsx_migrate::sim::SimPort;
use fsx_migrate::sim::world::default_source_service;

use crate::support::*;

fn share(name: &str, path: &str) -> ShareConfig {
    ShareConfig {
        name: name.into(),
        path: path.into(),
        description: String::new(),
        folder_enumeration_mode: "Unrestricted".into(),
        caching_mode: "Manual".into(),
        encrypt_data: false,
        continuously_available: false,
        concurrent_user_limit: 0,
        access: vec![ShareAccess {
            account: "Everyone".into(),
            control: "Allow".into(),
            right: "Change".into(),
        }],
    }
}

fn export_of(shares: Vec<ShareConfig>) -> ServiceExport {
    ServiceExport {
        shares,
        shadow_copies: None,
        dedup: None,
        user_quotas: None,
        smb_server: None,
        not_exported: vec![],
    }
}

async fn windows_intent(port: &mut SimPort, left_behind: &[&str]) -> Intent {
    let mut req = plan_request();
    req.freeze = FreezeKind::Ssm;
    req.freeze_command = None;
    req.unfreeze_command = None;
    req.windows = Some(Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec![],
        copy_shares: true,
        shares_left_behind: left_behind.iter().map(|s| s.to_string()).collect(),
    });
    let mut intent = intent_for(port, &req).await;
    intent.sync.poll_interval = fsx_migrate::plan::units::Duration::mins(5);
    intent
}

fn source_endpoint(port: &SimPort) -> String {
    port.world.source.remote_administration_endpoint.clone().unwrap()
}

/// The simulated source with one more share, outside the folder the plan copies.
fn with_share_outside(port: &mut SimPort) {
    let mut service = default_source_service();
    service.shares.push(share("home$", "D:\\home"));
    let endpoint = source_endpoint(port);
    port.world.file_services.insert(endpoint, service);
}

/// `check` probes the folders of the shares the copy carries: not the root share, one left behind, or one in
/// an excluded folder (DataSync would not look there), whatever the letter case.
#[tokio::test]
async fn the_share_folders_a_check_probes_are_those_the_copy_carries() {
    use fsx_migrate::core::service::share_folders;
    let export = export_of(vec![
        share("share", "D:\\share"),
        share("finance", "D:\\share\\Finance"),
        share("scratch", "D:\\share\\scratch\\tmp"),
        share("old", "D:\\share\\old"),
        share("home$", "D:\\home"),
    ]);
    let mut transfer = intent_for(&mut sim(world("small")), &plan_request())
        .await
        .transfer;
    transfer.excludes = vec!["/Scratch".into()];
    assert_eq!(share_folders(&export, &transfer, &["old".into()]), ["/Finance"]);
    transfer.excludes.clear();
    assert_eq!(
        share_folders(&export, &transfer, &[]),
        ["/Finance", "/scratch/tmp", "/old"]
    );
}

/// DataSync compares excludes with the folder's name on disk, case-sensitively; a share's path may spell that
/// name otherwise (Windows does not care), so an exclude that matches but for case may leave its folder out.
#[tokio::test]
async fn a_share_an_exclude_matches_but_for_case_is_not_called_carried() {
    let export = export_of(vec![
        share("share", "D:\\share"),
        share("scratch", "D:\\share\\scratch\\tmp"),
        share("projects", "D:\\share\\Projects"),
    ]);
    let mut transfer = intent_for(&mut sim(world("small")), &plan_request())
        .await
        .transfer;
    transfer.excludes = vec!["/Scratch".into()];
    let uncovered = uncovered_shares(&export, &transfer, &[]);
    assert_eq!(uncovered.len(), 1, "{uncovered:?}");
    assert_eq!(uncovered[0].name, "scratch");
    assert!(
        uncovered[0].reason.contains("but for letter case"),
        "{}",
        uncovered[0]
    );
    // Left behind deliberately, it is not reported; an exclude of another folder reports nothing.
    assert!(uncovered_shares(&export, &transfer, &["scratch".into()]).is_empty());
    transfer.excludes = vec!["/Archive".into()];
    assert!(uncovered_shares(&export, &transfer, &[]).is_empty());
}

#[tokio::test]
async fn a_share_is_carried_when_the_copied_folder_holds_it_and_no_exclude_names_it() {
    let export = export_of(vec![
        share("share", "D:\\share"),
        share("finance", "d:\\SHARE\\Finance\\"),
        share("scratch", "D:\\share\\Scratch\\tmp"),
        share("home$", "D:\\home"),
        share("data", "D:\\"),
        share("old", "D:\\share\\old"),
    ]);
    let mut transfer = intent_for(&mut sim(world("small")), &plan_request())
        .await
        .transfer;
    transfer.excludes = vec!["/Scratch".into()];
    let uncovered = uncovered_shares(&export, &transfer, &["old".into()]);
    let names: Vec<(&str, &str)> = uncovered
        .iter()
        .map(|u| (u.name.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "scratch",
                "its folder /Scratch/tmp is excluded by transfer.excludes"
            ),
            ("home$", "it is outside D:\\share, the folder the plan copies"),
            (
                "data",
                "it holds more than D:\\share, the only folder the plan copies"
            ),
        ],
        "case and a trailing separator do not matter; a share left behind is not reported"
    );

    // A deeper location: only what is under D:\share\finance is copied.
    transfer.source_subdirectory = "/share/finance".into();
    transfer.target_subdirectory = "/share/finance".into();
    transfer.excludes.clear();
    let names: Vec<String> = uncovered_shares(&export, &transfer, &[])
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["share", "scratch", "home$", "data", "old"]);

    // Shares are created with the source's paths: a copy into another folder on the target carries none.
    transfer.source_subdirectory = "/share".into();
    transfer.excludes = vec!["/Scratch".into()];
    transfer.target_subdirectory = "/share/from-old".into();
    let uncovered = uncovered_shares(&export, &transfer, &[]);
    assert_eq!(uncovered.len(), 6);
    assert!(uncovered[0].reason.contains("another folder"), "{}", uncovered[0]);
    transfer.target_subdirectory = "/SHARE/".into();
    assert_eq!(
        uncovered_shares(&export, &transfer, &[]).len(),
        3,
        "the same folder, spelled otherwise: scratch, home$ and data, as at first"
    );

    // A location naming a share the source does not list: nothing can be said to be carried.
    transfer.source_subdirectory = "/missing".into();
    let uncovered = uncovered_shares(&export, &transfer, &[]);
    assert_eq!(uncovered.len(), 6);
    assert!(uncovered[0].reason.contains("does not list"), "{}", uncovered[0]);
}

#[test]
fn shares_differ_by_property_or_access_set_never_by_order_or_the_case_of_an_account() {
    let source = share("finance", "D:\\share\\finance");
    let mut same = source.clone();
    same.path = "d:\\share\\FINANCE".into();
    same.access[0].account = "EVERYONE".into();
    same.access.push(same.access[0].clone());
    assert!(share_differences(std::slice::from_ref(&source), &[same]).is_empty());

    let mut other = source.clone();
    other.folder_enumeration_mode = "AccessBased".into();
    other.access[0].right = "Read".into();
    let differences = share_differences(std::slice::from_ref(&source), &[other]);
    assert_eq!(differences.len(), 2, "{differences:?}");
    assert!(
        differences[0].contains("folder enumeration mode"),
        "{}",
        differences[0]
    );
    assert!(
        differences[1].contains("everyone Allow Change") && differences[1].contains("everyone Allow Read"),
        "{}",
        differences[1]
    );
    assert_eq!(
        share_differences(&[source], &[]),
        ["share finance is missing on the target"]
    );

    // The NetBIOS and DNS spellings of a domain are the same account.
    let mut netbios = share("finance", "D:\\share\\finance");
    netbios.access[0].account = "CORP\\svc-datasync".into();
    let mut dns = netbios.clone();
    dns.access[0].account = "corp.example.com\\SVC-DataSync".into();
    assert!(share_differences(&[netbios], &[dns]).is_empty());

    let mut with_settings = export_of(vec![]);
    with_settings.dedup = Some(serde_json::json!({"MinimumFileAgeDays": 3}));
    let differences = setting_differences(&with_settings, &export_of(vec![]));
    assert_eq!(
        differences,
        [r#"dedup: not set on the target, {"MinimumFileAgeDays":3} on the source"#]
    );
    assert!(
        setting_differences(&export_of(vec![]), &with_settings).is_empty(),
        "a setting the source does not use is not compared"
    );
}

/// A whole migration with `[windows]`: before the gate the source's shares are read, applied to the target
/// and read back; the target then has the source's shares, permissions and settings, and each script was
/// sent once.
#[tokio::test]
async fn a_migration_copies_the_shares_and_settings_before_the_gate_and_verifies_them() {
    let mut port = sim(world("small"));
    let intent = windows_intent(&mut port, &[]).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);

    let copy = cp.shares.as_ref().expect("the copy is recorded");
    assert!(copy.verified_at.is_some());
    assert_eq!(copy.created, ["finance", "projects"]);
    assert_eq!(
        copy.updated,
        ["share"],
        "the new file system's default share takes the source's access"
    );
    assert_eq!(copy.applied, ["shadow_copies", "smb_server"]);
    assert!(copy.differences.is_empty(), "{:?}", copy.differences);
    assert!(
        copy.not_carried.iter().any(|n| n.contains("FSRM")),
        "{:?}",
        copy.not_carried
    );
    let gate = cp.entered(Phase::CutoverGate).unwrap();
    let copied = cp.entered(Phase::CopyShares).unwrap();
    assert!(copied < gate);

    let on_target = &port.world.file_services[&endpoint_of_target(&port, &cp)];
    // The source's shares, and the DataSync user keeps write access to the share the final sync writes through.
    let mut wanted = default_source_service();
    wanted.shares[0].access.push(ShareAccess {
        account: format!("{}\\{}", intent.transfer.smb_domain, intent.transfer.smb_user),
        control: "Allow".into(),
        right: "Full".into(),
    });
    assert_eq!(on_target.shares, wanted.shares);
    let source = default_source_service();
    assert_eq!(on_target.shadow_copies, source.shadow_copies);

    let scripts: Vec<WindowsScript> = port.world.ssm_commands.iter().map(|c| c.script).collect();
    assert_eq!(
        scripts,
        [
            WindowsScript::Export,
            WindowsScript::Apply,
            WindowsScript::Export,
            WindowsScript::Freeze
        ]
    );
}

/// A share outside the copied folder stops the run before the gate, naming it, with nothing frozen; once the
/// operator names it in `shares_left_behind` (a live edit), the run goes on without it.
#[tokio::test]
async fn a_share_the_copy_does_not_carry_stops_before_the_gate_until_it_is_left_behind() {
    let mut port = sim(world("small"));
    with_share_outside(&mut port);
    let intent = windows_intent(&mut port, &[]).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    let Outcome::Halted(Halt::SharesNotCopied(problems)) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("home$ (D:\\home): it is outside D:\\share"),
        "{}",
        problems[0]
    );
    assert_eq!(cp.phase(), Phase::CopyShares);
    let stopped = cp.shares.as_ref().unwrap();
    assert!(stopped.stopped_at.is_some());
    assert_eq!(
        stopped.uncovered.len(),
        1,
        "the stopped attempt stays on record: {stopped:?}"
    );
    assert!(cp.freeze_requested_at.is_none() && cp.frozen_at.is_none());
    assert!(
        port.world
            .ssm_commands
            .iter()
            .all(|c| c.script == WindowsScript::Export),
        "nothing was applied"
    );

    let mut edited = intent.clone();
    edited.windows.as_mut().unwrap().shares_left_behind = vec!["HOME$".into()];
    let (outcome, cp, _) = drive_mem(&mut port, &edited, &cp, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let copy = cp.shares.unwrap();
    assert_eq!(copy.created, ["finance", "projects"]);
    let exports = port
        .world
        .ssm_commands
        .iter()
        .filter(|c| c.script == WindowsScript::Export && c.endpoint == source_endpoint(&port))
        .count();
    assert_eq!(exports, 2, "the resumed run read the source again");
}

/// A share apply.ps1 could not create (a share of that name with another path on the target) stops the run;
/// once fixed on the target, the next run applies again and verifies.
#[tokio::test]
async fn a_share_not_created_on_the_target_stops_the_run_and_the_next_run_applies_again() {
    let mut port = sim(world("small"));
    let intent = windows_intent(&mut port, &[]).await;
    let mut clash = fsx_migrate::sim::world::new_file_system_service();
    clash.shares.push(share("finance", "D:\\share\\elsewhere"));
    let (outcome, cp) = drive_opts(
        &mut port,
        &intent,
        &Checkpoint::default(),
        until(Phase::CopyShares),
    )
    .await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::CopyShares)));
    let target = endpoint_of_target(&port, &cp);
    port.world.file_services.insert(target.clone(), clash);

    let (outcome, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
    let Outcome::Halted(Halt::SharesNotCopied(problems)) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.contains("share finance was not created on the target: a share of that name has the path D:\\share\\elsewhere")),
        "{problems:?}"
    );
    assert!(cp.frozen_at.is_none());

    // The operator removes the stray share on the target; the next run applies again and goes on.
    port.world
        .file_services
        .get_mut(&target)
        .unwrap()
        .shares
        .retain(|s| s.name != "finance");
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert!(cp.shares.unwrap().created.contains(&"finance".to_string()));
}

fn endpoint_of_target(port: &SimPort, cp: &Checkpoint) -> String {
    let id = cp.target_file_system_id.as_ref().unwrap();
    port.world
        .targets
        .iter()
        .find(|t| &t.info.id == id)
        .and_then(|t| t.info.remote_administration_endpoint.clone())
        .unwrap()
}

const ALIAS: &str = "finance.corp.example.com";

/// The small world whose source answers to the alias `finance.corp.example.com`, with its CNAME in the
/// plan's hosted zone.
fn world_with_alias() -> SimPort {
    let mut w = world("small");
    w.source.aliases = vec![ALIAS.into()];
    w.records.push(fsx_migrate::cloud::model::DnsRecord {
        name: format!("{ALIAS}."),
        record_type: "CNAME".into(),
        values: vec![w.source.dns_name.clone()],
        ttl: Some(300),
    });
    sim(w)
}

fn alias_record(port: &SimPort) -> String {
    let record = port
        .world
        .records
        .iter()
        .find(|r| fsx_migrate::cloud::model::dns_eq(&r.name, ALIAS))
        .unwrap();
    record.values[0].clone()
}

fn aliases_on(port: &SimPort, file_system_id: &str) -> Vec<(String, String)> {
    port.world
        .aliases_at(file_system_id, port.now())
        .into_iter()
        .map(|a| (a.name, a.lifecycle.as_str().to_string()))
        .collect()
}

/// After the record's swap the alias moves: disassociated from the source, associated with the target (each
/// waited for), its SPNs moved by spn.ps1, its CNAME pointed at the target; a rollback moves it back.
#[tokio::test]
async fn the_aliases_follow_the_swap_with_their_spns_and_records_and_a_rollback_moves_them_back() {
    let mut port = world_with_alias();
    let intent = windows_intent(&mut port, &[]).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    assert_invariants(&port, &cp, true);
    let target = cp.target_file_system_id.clone().unwrap();
    let target_dns = cp.target_dns_name.clone().unwrap();
    assert!(aliases_on(&port, &intent.source.file_system_id).is_empty());
    assert_eq!(
        aliases_on(&port, &target),
        [(ALIAS.to_string(), "AVAILABLE".to_string())]
    );
    assert!(fsx_migrate::cloud::model::dns_eq(
        &alias_record(&port),
        &target_dns
    ));
    let moved = cp.aliases.as_ref().unwrap();
    assert_eq!(moved.names.as_deref(), Some(&[ALIAS.to_string()][..]));
    assert!(moved.done_at.is_some() && !moved.spns_by_hand);
    assert!(cp.entered(Phase::MoveAliases).unwrap() > cp.entered(Phase::DnsWait).unwrap());
    let spn = port
        .world
        .ssm_commands
        .iter()
        .find(|c| c.script == WindowsScript::Spn)
        .expect("spn.ps1 was sent");
    assert_eq!(spn.endpoint, target_dns, "the SPNs go to the target's computer");
    assert!(
        spn.result.as_deref().unwrap().contains("HOST/finance"),
        "{:?}",
        spn.result
    );

    port.clock().advance(fsx_migrate::plan::units::Duration::hours(1));
    let rollback = fsx_migrate::core::RunOptions {
        rollback: true,
        ..options()
    };
    let (outcome, cp, _) = drive_in_memory(&mut port, &intent, &cp, rollback, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::RolledBack));
    assert_invariants(&port, &cp, true);
    assert!(aliases_on(&port, &target).is_empty());
    assert_eq!(
        aliases_on(&port, &intent.source.file_system_id),
        [(ALIAS.to_string(), "AVAILABLE".to_string())]
    );
    assert!(fsx_migrate::cloud::model::dns_eq(
        &alias_record(&port),
        &port.world.source.dns_name
    ));
    let back = cp.rollback.as_ref().unwrap().aliases_back.as_ref().unwrap();
    assert!(back.done_at.is_some());
    assert!(
        cp.entered(Phase::MoveAliasesBack).unwrap() > cp.entered(Phase::UnfreezeSource).unwrap(),
        "the source takes writes again first: a stop in the move back never leaves both file systems frozen"
    );
    let spns: Vec<&str> = port
        .world
        .ssm_commands
        .iter()
        .filter(|c| c.script == WindowsScript::Spn)
        .map(|c| c.endpoint.as_str())
        .collect();
    assert_eq!(spns, [target_dns.as_str(), port.world.source.dns_name.as_str()]);
}

/// A crash at every boundary of the alias move resumes to one clean move: each FSx call sent once (a
/// disassociate sent again would be refused: the alias is no longer there), the alias on the target only.
#[tokio::test]
async fn a_crash_at_every_boundary_of_the_alias_move_resumes_to_one_clean_move() {
    let mut probe = world_with_alias();
    let mut intent = windows_intent(&mut probe, &[]).await;
    intent.migration.id = "fxm-crash-alias".into();
    let (outcome, at_swap) = drive_opts(
        &mut probe,
        &intent,
        &Checkpoint::default(),
        until(Phase::MoveAliases),
    )
    .await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::MoveAliases)));
    let (outcome, _, boundaries) = drive_mem(&mut probe, &intent, &at_swap, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    eprintln!("walking {boundaries} crash boundaries of an alias move");
    assert!(boundaries > 8, "only {boundaries}");

    for k in 0..boundaries {
        let mut port = world_with_alias();
        let (outcome, at_swap) = drive_opts(
            &mut port,
            &intent,
            &Checkpoint::default(),
            until(Phase::MoveAliases),
        )
        .await;
        assert_eq!(
            outcome,
            Outcome::Halted(Halt::UntilReached(Phase::MoveAliases)),
            "boundary {k}"
        );
        let (first, cp, _) = drive_mem(&mut port, &intent, &at_swap, Some(k)).await;
        assert!(matches!(first, Outcome::Crashed(_)), "boundary {k}: {first:?}");
        let (second, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
        assert_eq!(second, Outcome::Halted(Halt::Completed), "boundary {k}");
        assert_invariants(&port, &cp, true);
        let target = cp.target_file_system_id.clone().unwrap();
        assert_eq!(
            aliases_on(&port, &target),
            [(ALIAS.to_string(), "AVAILABLE".to_string())],
            "boundary {k}"
        );
        assert!(
            aliases_on(&port, &intent.source.file_system_id).is_empty(),
            "boundary {k}"
        );
        let spns = port
            .world
            .ssm_commands
            .iter()
            .filter(|c| c.script == WindowsScript::Spn)
            .count();
        assert_eq!(spns, 1, "boundary {k}: spn.ps1 sent {spns} times");
        assert!(fsx_migrate::cloud::model::dns_eq(
            &alias_record(&port),
            cp.target_dns_name.as_ref().unwrap()
        ));
    }
}

/// Without `[windows]`, the alias still moves; the SPNs are left to a person, told the exact commands, and
/// the checkpoint says so.
#[tokio::test]
async fn without_an_instance_the_alias_moves_and_the_spn_commands_are_printed() {
    let mut port = world_with_alias();
    let intent = intent_for(&mut port, &plan_request()).await;
    let (outcome, cp, _) = drive_mem(&mut port, &intent, &Checkpoint::default(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let moved = cp.aliases.unwrap();
    assert!(moved.spns_by_hand && moved.done_at.is_some());
    assert!(port.world.ssm_commands.is_empty());
    let target = cp.target_file_system_id.unwrap();
    assert_eq!(
        aliases_on(&port, &target),
        [(ALIAS.to_string(), "AVAILABLE".to_string())]
    );
}

/// A share created on the source after the copy (while the run waited at the gate) shows in the freeze's
/// record of the shares: the run reports it, and the copy's record keeps it, for a person to create it.
#[tokio::test]
async fn a_share_created_after_the_copy_is_reported_at_the_freeze() {
    let mut port = sim(world("small"));
    let intent = windows_intent(&mut port, &[]).await;
    let (outcome, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::Freeze)).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::Freeze)));
    assert!(cp.shares.as_ref().unwrap().verified_at.is_some());
    let endpoint = source_endpoint(&port);
    let mut service = port.world.file_services[&endpoint].clone();
    service.shares.push(share("late", "D:\\share\\late"));
    port.world.file_services.insert(endpoint, service);

    let (outcome, cp, _) = drive_mem(&mut port, &intent, &cp, None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let differences = &cp.shares.as_ref().unwrap().differences;
    assert_eq!(
        differences,
        &["share late was created on the source after the copy of shares: it is not on the target"]
    );
}

#[test]
fn the_datasync_user_keeps_write_access_to_the_share_it_writes_through() {
    let mut read_only = share("share", "D:\\share");
    read_only.access.push(ShareAccess {
        account: "CORP\\svc-datasync".into(),
        control: "Allow".into(),
        right: "Read".into(),
    });
    let mut apply = export_of(vec![read_only, share("finance", "D:\\share\\finance")]);
    keep_writer(&mut apply, "/share", "corp.example.com\\svc-datasync");
    let accounts: Vec<(&str, &str)> = apply.shares[0]
        .access
        .iter()
        .map(|a| (a.account.as_str(), a.right.as_str()))
        .collect();
    assert_eq!(
        accounts,
        [("Everyone", "Change"), ("corp.example.com\\svc-datasync", "Full")],
        "its Read entry is replaced by Full"
    );
    assert_eq!(
        apply.shares[1].access.len(),
        1,
        "other shares keep the source's access"
    );
    let before = apply.clone();
    keep_writer(&mut apply, "/share", "CORP\\svc-datasync");
    assert_eq!(apply, before, "already a writer: unchanged");
}

/// Editing `shares_left_behind` after the copy was verified is taken (it is live-editable) but changes
/// nothing, and the run says so rather than "picked up".
#[tokio::test]
async fn a_live_edit_of_the_shares_after_the_copy_says_it_has_no_effect() {
    let mut port = sim(world("small"));
    let intent = windows_intent(&mut port, &[]).await;
    let (_, cp) = drive_opts(&mut port, &intent, &Checkpoint::default(), until(Phase::Freeze)).await;
    assert!(cp.shares.as_ref().unwrap().verified_at.is_some());
    let mut edited = intent.clone();
    edited.windows.as_mut().unwrap().shares_left_behind = vec!["projects".into()];
    let s = fsx_migrate::core::step(
        &edited,
        &cp,
        fsx_migrate::core::Input::Start,
        port.now(),
        &options(),
    );
    let notes: Vec<String> = s
        .events
        .iter()
        .filter_map(|e| match e {
            fsx_migrate::core::Event::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("windows.shares_left_behind") && n.contains("has no effect")),
        "{notes:?}"
    );
    assert!(!matches!(
        s.action,
        fsx_migrate::core::Action::Halt(fsx_migrate::core::Halt::IntentChanged(_))
    ));
}
