//! The plan file: round trips, comments kept byte for byte, the checkpoint rewritten atomically.

use fsx_migrate::plan::checkpoint::CHECKPOINT_SCHEMA;
use fsx_migrate::plan::file::{CHECKPOINT_MARKER, PlanFile, parse, with_checkpoint};
use fsx_migrate::plan::render::render;
use fsx_migrate::plan::{Checkpoint, LaneState, Leg, Phase};

use crate::support::*;

#[tokio::test]
async fn a_rendered_plan_parses_back_to_the_same_intent() {
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let (parsed, checkpoint) = parse(&render(&intent, "header")).expect("parses");
    assert_eq!(parsed, intent);
    assert_eq!(checkpoint, Checkpoint::default());
}

#[test]
fn the_example_plan_is_valid_and_has_not_started() {
    let file =
        PlanFile::load(std::path::Path::new("plans/example.toml")).expect("plans/example.toml is valid");
    assert_eq!(file.intent.migration.id, "fxm-example");
    assert!(!file.checkpoint.has_started());
}

#[tokio::test]
async fn saving_a_checkpoint_keeps_the_operators_text_and_comments() {
    let dir = tempfile::tempdir().unwrap();
    let mut port = sim(world("small"));
    let path = write_plan(&mut port, dir.path(), &plan_request()).await;
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original.replace("[dns]", "# reviewed by ops on Tuesday\n[dns]");
    std::fs::write(&path, &edited).unwrap();
    let mut file = PlanFile::load(&path).unwrap();
    let mut cp = Checkpoint {
        schema: CHECKPOINT_SCHEMA,
        phase: Some(Phase::InitialSync),
        runs: 1,
        forward: Leg {
            lanes: vec![LaneState {
                task_arn: Some("task".into()),
                ..LaneState::new("all")
            }],
            ..Leg::default()
        },
        ..Checkpoint::default()
    };
    file.save_checkpoint(&cp).unwrap();
    cp.runs = 2;
    file.save_checkpoint(&cp).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    let intent_part = &saved[..saved.find(CHECKPOINT_MARKER).unwrap()];
    assert_eq!(
        intent_part.trim_end(),
        edited[..edited.find(CHECKPOINT_MARKER).unwrap()].trim_end()
    );
    assert_eq!(saved.matches(CHECKPOINT_MARKER).count(), 1);
    let reloaded = PlanFile::load(&path).unwrap();
    assert_eq!(reloaded.checkpoint, cp);
    assert!(
        !dir.path()
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp"))
    );
}

#[test]
fn a_checkpoint_with_every_field_round_trips_through_toml() {
    use fsx_migrate::cloud::model::*;
    use fsx_migrate::plan::{CurrentSync, PhaseEntry, SyncRecord};
    let t: jiff::Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
    let cp = Checkpoint {
        schema: CHECKPOINT_SCHEMA,
        phase: Some(Phase::FinalSync),
        runs: 3,
        started_at: Some(t),
        intent_sha256: Some("abc".into()),
        intent_at_start: Some("{\"a\":1}".into()),
        target_file_system_id: Some("fs-1".into()),
        forward: Leg {
            from_location_arn: Some("loc-s".into()),
            to_location_arn: Some("loc-t".into()),
            awaiting: Some("lane-01".into()),
            lanes: vec![LaneState {
                name: "lane-01".into(),
                task_arn: Some("task".into()),
                next_check_at: Some(t),
                current: Some(CurrentSync {
                    kind: SyncKind::Final,
                    requested_at: t,
                    execution_arn: Some("exec".into()),
                    run: 3,
                    last_status: Some(ExecutionStatus::Unknown("INITIALIZING".into())),
                    last_counters: Some(ExecutionCounters::default()),
                    bytes_per_second: Some(50 << 20),
                }),
                syncs: vec![SyncRecord {
                    kind: SyncKind::Initial,
                    execution_arn: "exec-0".into(),
                    run: 1,
                    started_at: t,
                    ended_at: t,
                    status: ExecutionStatus::Error,
                    counters: ExecutionCounters {
                        files_transferred: 5,
                        ..Default::default()
                    },
                    durations: PhaseDurations {
                        prepare_ms: 1,
                        transfer_ms: 2,
                        verify_ms: 3,
                        total_ms: 6,
                    },
                    execution_started_at: Some(t),
                    error_code: Some("SmbError".into()),
                    error_detail: Some("denied".into()),
                }],
            }],
        },
        timeline: vec![PhaseEntry {
            phase: Phase::Preflight,
            at: t,
        }],
        ..Checkpoint::default()
    };
    let plan = std::fs::read_to_string("plans/example.toml").unwrap();
    let (_, back) = parse(&with_checkpoint(&plan, &cp)).unwrap();
    assert_eq!(back, cp);
}

#[test]
fn a_newer_schema_version_is_refused_with_a_hint() {
    let plan = std::fs::read_to_string("plans/example.toml")
        .unwrap()
        .replace("schema_version = 1", "schema_version = 2");
    let err = parse(&plan).unwrap_err();
    assert!(err.message.contains("unsupported schema_version 2"), "{err}");
    let err = parse(&plan.replace("schema_version = 2\n", "")).unwrap_err();
    assert!(err.message.contains("missing field `schema_version`"), "{err}");
}

// ---- helpers ------------------------------------------------------------------------------------------------

fn example() -> String {
    std::fs::read_to_string("plans/example.toml").unwrap()
}

/// `text` with the first `from` replaced by `to` (which must be there).
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the plan");
    text.replacen(from, to, 1)
}

/// The 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

/// The whole failure as printed (message, causes, hints).
#[track_caller]
fn refused(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("the plan was accepted"),
        Err(f) => {
            assert_eq!(f.kind, fsx_migrate::error::ExitKind::User, "{f}");
            f.to_string()
        }
    }
}

fn started(runs: u32) -> Checkpoint {
    Checkpoint {
        schema: CHECKPOINT_SCHEMA,
        phase: Some(Phase::InitialSync),
        runs,
        forward: Leg {
            lanes: vec![LaneState {
                task_arn: Some("task".into()),
                ..LaneState::new("all")
            }],
            ..Leg::default()
        },
        ..Checkpoint::default()
    }
}

// ---- 10: enumerations are checked at load -------------------------------------------------------------------

#[test]
fn a_misspelled_enum_is_refused_with_its_field_line_and_the_allowed_values() {
    let plan = example();
    let audit = |file: &str, share: &str| {
        format!(
            "[target.settings.audit_log]\nfile_access = \"{file}\"\nfile_share_access = \"{share}\"\n\n[target.settings.tags]"
        )
    };
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            edit(
                &plan,
                "verify_mode_final = \"ONLY_FILES_TRANSFERRED\"",
                "verify_mode_final = \"ONLY_FILES_TRANSFERED\"",
            ),
            "ONLY_FILES_TRANSFERED",
            "transfer.verify_mode_final",
            "POINT_IN_TIME_CONSISTENT",
        ),
        (
            edit(
                &plan,
                "verify_mode_live = \"ONLY_FILES_TRANSFERRED\"",
                "verify_mode_live = \"only_files_transferred\"",
            ),
            "only_files_transferred",
            "transfer.verify_mode_live",
            "ONLY_FILES_TRANSFERRED",
        ),
        (
            edit(&plan, "storage_type = \"SSD\"", "storage_type = \"SDD\""),
            "SDD",
            "target.settings.storage_type",
            "HDD",
        ),
        (
            edit(
                &plan,
                "security_descriptor_copy = \"OWNER_DACL\"",
                "security_descriptor_copy = \"OWNER_DACLS\"",
            ),
            "OWNER_DACLS",
            "transfer.security_descriptor_copy",
            "OWNER_DACL_SACL",
        ),
        (
            edit(&plan, "[target.settings.tags]", &audit("SUCCESS", "DISABLED")),
            "SUCCESS\"",
            "target.settings.audit_log.file_access",
            "SUCCESS_AND_FAILURE",
        ),
        (
            edit(
                &plan,
                "[target.settings.tags]",
                &audit("DISABLED", "FAILURES_ONLY"),
            ),
            "FAILURES_ONLY",
            "target.settings.audit_log.file_share_access",
            "FAILURE_ONLY",
        ),
        (
            edit(
                &plan,
                "[target.settings.tags]",
                "[target.settings.disk_iops]\nmode = \"AUTO\"\n\n[target.settings.tags]",
            ),
            "AUTO",
            "target.settings.disk_iops.mode",
            "USER_PROVISIONED",
        ),
        (
            edit(&plan, "freeze = \"command\"", "freeze = \"commando\""),
            "commando",
            "cutover.freeze",
            "manual",
        ),
    ];
    for (text, bad, field, allowed) in cases {
        let err = refused(&text);
        assert!(err.contains(field), "{field} not named: {err}");
        assert!(err.contains(allowed), "{allowed} not listed: {err}");
        let line = line_of(&text, bad);
        assert!(
            err.contains(&format!("line {line}, column")),
            "line {line} not named: {err}"
        );
    }
}

#[tokio::test]
async fn known_enum_values_in_every_optional_setting_load() {
    use fsx_migrate::cloud::model::*;
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    let s = &mut intent.target.settings;
    s.storage_type = StorageType::Hdd;
    s.storage_capacity_gib = 2000;
    s.audit_log = Some(AuditLog {
        file_access: "SUCCESS_AND_FAILURE".into(),
        file_share_access: "FAILURE_ONLY".into(),
        destination: Some("arn:aws:logs:us-east-1:111122223333:log-group:/aws/fsx/audit".into()),
    });
    s.disk_iops = Some(DiskIops {
        mode: "USER_PROVISIONED".into(),
        iops: Some(6000),
    });
    intent.transfer.security_descriptor_copy = SecurityDescriptorCopy::OwnerDaclSacl;
    intent.transfer.verify_mode_final = VerifyMode::PointInTimeConsistent;
    intent.transfer.verify_mode_live = VerifyMode::None;
    let (parsed, _) = parse(&render(&intent, "header")).expect("parses");
    assert_eq!(parsed, intent);
}

// ---- 11: ranges are checked at load -------------------------------------------------------------------------

#[test]
fn out_of_range_values_are_refused_at_load_with_their_field() {
    let plan = example();
    let cases = [
        ("ttl = 60", "ttl = 1099511627776", "dns.ttl"),
        ("ttl = 60", "ttl = 2147483648", "dns.ttl"),
        (
            "poll_interval = \"30s\"",
            "poll_interval = \"3000000d\"",
            "sync.poll_interval",
        ),
        (
            "poll_interval = \"30s\"",
            "poll_interval = \"0s\"",
            "sync.poll_interval",
        ),
        (
            "pause_between_runs = \"0s\"",
            "pause_between_runs = \"8d\"",
            "sync.pause_between_runs",
        ),
        (
            "max_delta_age = \"1h\"",
            "max_delta_age = \"31d\"",
            "sync.max_delta_age",
        ),
        (
            "max_delta_age = \"1h\"",
            "max_delta_age = \"30s\"",
            "sync.max_delta_age",
        ),
        (
            "converged_duration = \"1h\"",
            "converged_duration = \"0s\"",
            "sync.converged_duration",
        ),
        (
            "converged_duration = \"1h\"",
            "converged_duration = \"8d\"",
            "sync.converged_duration",
        ),
        (
            "converged_changed_files = 50000",
            "converged_changed_files = 0",
            "sync.converged_changed_files",
        ),
        (
            "converged_changed_bytes = \"20.0 GiB\"",
            "converged_changed_bytes = \"0 B\"",
            "sync.converged_changed_bytes",
        ),
        (
            "max_incremental_runs = 10",
            "max_incremental_runs = 0",
            "sync.max_incremental_runs",
        ),
        (
            "retry_failed_executions = 2",
            "retry_failed_executions = 100000",
            "sync.retry_failed_executions",
        ),
        (
            "throughput_capacity_mbps = 512",
            "throughput_capacity_mbps = 16",
            "target.settings.throughput_capacity_mbps",
        ),
        (
            "throughput_capacity_mbps = 512",
            "throughput_capacity_mbps = 500",
            "target.settings.throughput_capacity_mbps",
        ),
        (
            "storage_capacity_gib = 19200",
            "storage_capacity_gib = 31",
            "target.settings.storage_capacity_gib",
        ),
        (
            "storage_capacity_gib = 19200",
            "storage_capacity_gib = 65537",
            "target.settings.storage_capacity_gib",
        ),
        (
            "storage_type = \"SSD\"",
            "storage_type = \"HDD\"\nstorage_capacity_gib = 1999",
            "target.settings.storage_capacity_gib",
        ),
        (
            "storage_type = \"SSD\"",
            "storage_type = \"INTELLIGENT_TIERING\"",
            "target.settings.storage_type",
        ),
        (
            "automatic_backup_retention_days = 7",
            "automatic_backup_retention_days = 91",
            "target.settings.automatic_backup_retention_days",
        ),
        (
            "\"03:00\"",
            "\"25:00\"",
            "target.settings.daily_automatic_backup_start_time",
        ),
        (
            "\"6:04:30\"",
            "\"8:04:30\"",
            "target.settings.weekly_maintenance_start_time",
        ),
        ("id = \"fxm-example\"", "id = \"fxm example\"", "migration.id"),
        ("id = \"fxm-example\"", "id = \"\"", "migration.id"),
        (
            "id = \"fxm-example\"",
            &format!("id = \"{}\"", "x".repeat(45)),
            "migration.id",
        ),
        (
            "\"Name\" = \"finance-share\"",
            "\"aws:Name\" = \"finance-share\"",
            "target.settings.tags.\"aws:Name\"",
        ),
        (
            "\"Name\" = \"finance-share\"",
            "\"fsx-migrate:plan-id\" = \"other\"",
            "target.settings.tags.\"fsx-migrate:plan-id\"",
        ),
    ];
    for (from, to, field) in cases {
        // The storage-type case writes storage_capacity_gib twice otherwise.
        let text = if to.contains("1999") {
            edit(&edit(&plan, "storage_capacity_gib = 19200\n", ""), from, to)
        } else {
            edit(&plan, from, to)
        };
        let err = refused(&text);
        assert!(
            err.contains(&format!("{field}: ")),
            "{field} not named for {to:?}: {err}"
        );
    }
}

#[test]
fn every_problem_is_listed_at_once_with_its_line() {
    let text = edit(&example(), "ttl = 60", "ttl = 1099511627776");
    let text = edit(&text, "poll_interval = \"30s\"", "poll_interval = \"0s\"");
    let text = edit(
        &text,
        "throughput_capacity_mbps = 512",
        "throughput_capacity_mbps = 8",
    );
    let err = refused(&text);
    assert!(err.contains("3 value(s)"), "{err}");
    for (field, needle) in [
        ("dns.ttl", "ttl = 1099511627776"),
        ("sync.poll_interval", "poll_interval = \"0s\""),
        (
            "target.settings.throughput_capacity_mbps",
            "throughput_capacity_mbps = 8",
        ),
    ] {
        let line = line_of(&text, needle);
        let cause = err
            .lines()
            .find(|l| l.contains(field))
            .unwrap_or_else(|| panic!("{field}: {err}"));
        assert!(cause.contains(&format!("(line {line})")), "{cause}");
    }
}

#[test]
fn tags_leave_room_for_fsx_migrates_own_two() {
    let tags = |n: usize| {
        let lines: Vec<String> = (0..n).map(|i| format!("\"k{i}\" = \"v\"")).collect();
        edit(
            &example(),
            "\"CostCenter\" = \"finance\"\n\"Name\" = \"finance-share\"",
            &lines.join("\n"),
        )
    };
    parse(&tags(48)).expect("48 tags fit");
    let err = refused(&tags(49));
    assert!(err.contains("target.settings.tags: 49 tags"), "{err}");
}

#[test]
fn the_target_client_token_is_pinned_and_collision_free() {
    let (mut intent, _) = parse(&example()).unwrap();
    // Today's token for a normal id: migrations in flight keep theirs.
    assert_eq!(intent.target_client_token(), "fsx-migrate-fxm-example-target");
    intent.migration.id = "x".repeat(44);
    assert_eq!(
        intent.target_client_token(),
        format!("fsx-migrate-{}-target", "x".repeat(44))
    );
    // Longer ids (not valid in a plan, but the token must not collide): same 50-character prefix.
    let prefix = "p".repeat(50);
    let mut tokens = Vec::new();
    for tail in ["-first", "-second", "-second-and-more"] {
        intent.migration.id = format!("{prefix}{tail}");
        let token = intent.target_client_token();
        assert!(token.len() <= 63, "{token}");
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
            "{token}"
        );
        tokens.push(token);
    }
    assert_eq!(
        tokens[0],
        "fsx-migrate-ppppppppppppppppppppppppppp-d7b8fc0d077315e0-target"
    );
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    // Characters FSx refuses never reach the token.
    intent.migration.id = "a b/c".into();
    let token = intent.target_client_token();
    assert!(token.starts_with("fsx-migrate-abc-"), "{token}");
}

// ---- 12: the tool cannot destroy the plan file --------------------------------------------------------------

const AWKWARD_NAMES: [&str; 6] = [
    "finance\n# ---- checkpoint: managed by fsx-migrate; edits below this line are overwritten ----\nshare",
    "# ---- checkpoint: managed by fsx-migrate; edits below this line are overwritten ----",
    "quote \" backslash \\ tab \t and ''' and \"\"\"",
    "cr\r\n[dns]\nttl = 1",
    "controls \u{0}\u{1}\u{7f}\u{85} and unicode é ✓",
    "line\n\n\nend\n",
];

#[tokio::test]
async fn names_with_newlines_quotes_or_the_marker_round_trip_and_survive_checkpoints() {
    for name in AWKWARD_NAMES {
        let dir = tempfile::tempdir().unwrap();
        let mut port = sim(world("small"));
        let mut req = plan_request();
        req.name = Some(name.to_string());
        let path = write_plan(&mut port, dir.path(), &req).await;
        let text = std::fs::read_to_string(&path).unwrap();
        let marker_lines = text.lines().filter(|l| *l == CHECKPOINT_MARKER).count();
        assert_eq!(marker_lines, 1, "{name:?}:\n{text}");
        let mut file = PlanFile::load(&path).unwrap_or_else(|e| panic!("{name:?}: {e}\n{text}"));
        assert_eq!(file.intent.migration.name, name);
        let intent = file.intent.clone();
        file.save_checkpoint(&started(1)).unwrap();
        file.save_checkpoint(&started(2)).unwrap();
        let reloaded = PlanFile::load(&path).unwrap();
        assert_eq!(reloaded.intent, intent, "{name:?}");
        assert_eq!(reloaded.checkpoint, started(2));
    }
}

#[test]
fn the_marker_counts_only_as_a_whole_line_outside_strings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    let inline = format!("freeze_command = \"echo '{CHECKPOINT_MARKER}'\"");
    let multi_line = format!("freeze_command = \"\"\"\necho\n{CHECKPOINT_MARKER}\n\"\"\"");
    for command in [inline, multi_line] {
        let text = edit(
            &example(),
            "freeze_command = \"pwsh -File ./freeze-shares.ps1 -FileSystem fs-0123456789abcdef0\"",
            &command,
        );
        std::fs::write(&path, &text).unwrap();
        let mut file = PlanFile::load(&path).unwrap();
        let intent = file.intent.clone();
        assert!(
            intent
                .cutover
                .freeze_command
                .as_deref()
                .unwrap()
                .contains(CHECKPOINT_MARKER)
        );
        file.save_checkpoint(&started(1)).unwrap();
        file.save_checkpoint(&started(2)).unwrap();
        let saved = std::fs::read_to_string(&path).unwrap();
        assert!(
            saved.starts_with(text.trim_end()),
            "the intent text changed:\n{saved}"
        );
        let reloaded = PlanFile::load(&path).unwrap();
        assert_eq!(reloaded.intent, intent);
        assert_eq!(reloaded.checkpoint, started(2));
    }
}

#[test]
fn a_checkpoint_that_would_not_read_back_is_refused_and_the_file_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    // Someone deleted the marker line of a started plan: its [checkpoint] table is now part of the "intent".
    let text = with_checkpoint(&example(), &started(1)).replace(&format!("{CHECKPOINT_MARKER}\n"), "");
    std::fs::write(&path, &text).unwrap();
    let mut file = PlanFile::load(&path).unwrap();
    assert_eq!(file.checkpoint, started(1));
    let err = file.save_checkpoint(&started(2)).unwrap_err();
    assert_eq!(err.kind, fsx_migrate::error::ExitKind::Internal, "{err}");
    assert!(err.message.contains("left untouched"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[cfg(unix)]
#[test]
fn a_symlinked_plan_is_locked_and_written_through_the_link_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plans")).unwrap();
    let real = dir.path().join("plans/real.toml");
    let link = dir.path().join("plan.toml");
    std::fs::write(&real, example()).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("plans/real.toml", &link).unwrap();

    let lock = fsx_migrate::plan::file::PlanLock::acquire(&link).unwrap();
    let err = fsx_migrate::plan::file::PlanLock::acquire(&real).unwrap_err();
    assert!(err.message.contains("holds the lock"), "{err}");
    drop(lock);

    let mut file = PlanFile::load(&link).unwrap();
    file.save_checkpoint(&started(1)).unwrap();
    assert!(
        std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link was replaced"
    );
    assert_eq!(PlanFile::load(&real).unwrap().checkpoint, started(1));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640, "mode {mode:o}");
}

#[cfg(unix)]
#[test]
fn a_plan_keeps_its_mode_across_checkpoints() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, example()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut file = PlanFile::load(&path).unwrap();
    file.save_checkpoint(&started(1)).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[test]
fn a_plan_moved_over_a_running_plan_does_not_get_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, example()).unwrap();
    let mut file = PlanFile::load(&path).unwrap();
    file.save_checkpoint(&started(1)).unwrap();

    // Another plan is moved over this one while the run goes on.
    let other = edit(&example(), "id = \"fxm-example\"", "id = \"fxm-other\"");
    std::fs::write(&path, &other).unwrap();
    let err = file.save_checkpoint(&started(2)).unwrap_err();
    assert!(err.message.contains("now holds plan fxm-other"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), other);

    // The same plan with an edited value: refused too, naming the field.
    let edited = edit(&with_checkpoint(&example(), &started(1)), "ttl = 60", "ttl = 300");
    std::fs::write(&path, &edited).unwrap();
    let err = file.save_checkpoint(&started(2)).unwrap_err();
    assert!(err.message.contains("changed during the run"), "{err}");
    assert!(err.to_string().contains("dns.ttl: 60 → 300"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);

    // Comments may change: the intent is the same.
    let commented = edit(
        &with_checkpoint(&example(), &started(1)),
        "[dns]",
        "# checked\n[dns]",
    );
    std::fs::write(&path, &commented).unwrap();
    file.save_checkpoint(&started(2)).unwrap();
    assert_eq!(PlanFile::load(&path).unwrap().checkpoint, started(2));
}

// ---- 13: the intent hash is canonical -----------------------------------------------------------------------

/// Every object's keys, at every depth, in sorted order (serde_json keeps the text's order here).
fn assert_sorted(value: &serde_json::Value, path: &str) {
    match value {
        serde_json::Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "keys of {path:?} not sorted");
            for (k, v) in map {
                assert_sorted(v, &format!("{path}.{k}"));
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| assert_sorted(v, path)),
        _ => {}
    }
}

#[test]
fn the_intent_hash_is_canonical_and_pinned() {
    let (intent, _) = parse(&example()).unwrap();
    let json = intent.canonical_json();
    assert!(json.starts_with("{\"cutover\":{\"freeze\":\"command\""), "{json}");
    assert_sorted(&serde_json::from_str(&json).unwrap(), "");
    // Checked independently: Python's json.dumps(sort_keys=True, separators=(",", ":")) of the same intent.
    assert_eq!(
        intent.sha256(),
        "85706a475bfb8b18deab97eb17f1b8b2e7b66e60bd46f6455c1d3dd75fb4e9da"
    );
    // Formatting and comments do not change it.
    let reformatted = edit(&example(), "ttl = 60", "# the TTL\nttl     =   60");
    assert_eq!(parse(&reformatted).unwrap().0.sha256(), intent.sha256());
}

/// The hash releases before the canonical one pinned for plans/example.toml (keys in declaration order).
const LEGACY_EXAMPLE_SHA256: &str = "5584162034d43ec64186f0c187c67280daef4e2f083185f7bfea78b30189e88c";

#[test]
fn a_checkpoint_pinned_with_the_legacy_hash_is_accepted_and_upgraded() {
    let (intent, _) = parse(&example()).unwrap();
    assert_eq!(intent.legacy_sha256(), LEGACY_EXAMPLE_SHA256);
    assert!(intent.sha256_matches(LEGACY_EXAMPLE_SHA256));
    assert!(intent.sha256_matches(&intent.sha256()));
    assert!(!intent.sha256_matches("abc"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    let legacy_json = serde_json::to_string(&intent).unwrap();
    let cp = Checkpoint {
        intent_sha256: Some(LEGACY_EXAMPLE_SHA256.into()),
        intent_at_start: Some(legacy_json.clone()),
        ..started(1)
    };
    std::fs::write(&path, with_checkpoint(&example(), &cp)).unwrap();
    let file = PlanFile::load(&path).unwrap();
    assert_eq!(file.checkpoint.intent_sha256, Some(intent.sha256()));

    // A legacy hash of another intent is left alone, so the edit is still caught.
    let edited = edit(&with_checkpoint(&example(), &cp), "ttl = 60", "ttl = 300");
    std::fs::write(&path, edited).unwrap();
    let file = PlanFile::load(&path).unwrap();
    assert_eq!(
        file.checkpoint.intent_sha256.as_deref(),
        Some(LEGACY_EXAMPLE_SHA256)
    );
    // And the changed fields are named from either form of the stored intent.
    for before in [legacy_json, intent.canonical_json()] {
        assert_eq!(
            fsx_migrate::plan::intent::changed_fields(&before, &file.intent),
            ["dns.ttl: 60 → 300"]
        );
    }
}

// ---- lanes ----------------------------------------------------------------------------------------------------

/// The example plan's intent with lanes from a small inventory.
async fn intent_with_lanes() -> fsx_migrate::plan::Intent {
    use fsx_migrate::plan::planner::{InventoryInput, apply_inventory};
    let share = Folder::new(
        "",
        10,
        vec![
            Folder::new(
                "Projects",
                5,
                (0..6)
                    .map(|i| Folder::new(&format!("P{i}"), 300, vec![]))
                    .collect(),
            ),
            Folder::new("Home", 700, vec![]),
            Folder::new("Say \"hi\", ok", 400, vec![]),
        ],
    );
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    let input = InventoryInput {
        file: "share inventory.csv".into(),
        sha256: "ab".repeat(32),
        modified_at: Some("2026-11-27T18:00:00Z".parse().unwrap()),
        inventory: fsx_migrate::plan::inventory::parse(&inventory_csv(&share, 2)).unwrap(),
        max_parallel_tasks: Some(4),
        entries_per_execution: Some(2_000),
    };
    let notes = apply_inventory(&mut intent, &input).expect("partitions");
    assert!(notes[0].contains("lanes plus the rest lane"), "{notes:?}");
    assert!(intent.transfer.lanes.len() > 2);
    intent
}

#[tokio::test]
async fn a_plan_with_lanes_parses_back_to_the_same_intent_and_is_valid() {
    let intent = intent_with_lanes().await;
    assert_eq!(intent.problems(), []);
    let text = render(&intent, "header");
    assert!(text.contains("[[transfer.lanes]]\nname = \"lane-01\""), "{text}");
    assert!(
        text.contains("includes = [\n    \""),
        "several folders go one per line"
    );
    let (parsed, _) = parse(&text).expect("parses");
    assert_eq!(parsed, intent);
    assert_eq!(parsed.sha256(), intent.sha256());
}

#[tokio::test]
async fn a_plan_without_lanes_keeps_its_intent_hash() {
    // Lanes, max_parallel_tasks, entries_per_execution and inventory are left out when unset: plans written
    // before lanes existed hash as they did.
    let mut port = sim(world("small"));
    let intent = intent_for(&mut port, &plan_request()).await;
    let json = intent.canonical_json();
    for field in [
        "lanes",
        "max_parallel_tasks",
        "entries_per_execution",
        "inventory",
    ] {
        assert!(!json.contains(field), "{field} in {json}");
    }
    let (parsed, _) = parse(&render(&intent, "header")).unwrap();
    assert_eq!(parsed.sha256(), intent.sha256());
}

/// A lane as an operator writes it: a name and folders.
fn lane(name: &str, includes: &[&str]) -> fsx_migrate::plan::intent::LaneSpec {
    fsx_migrate::plan::intent::LaneSpec {
        name: name.into(),
        includes: includes.iter().map(|s| s.to_string()).collect(),
        entries: None,
        bytes: None,
    }
}

#[tokio::test]
async fn operator_written_lanes_are_checked_field_by_field() {
    let base = intent_with_lanes().await;
    type Edit = Box<dyn Fn(&mut fsx_migrate::plan::intent::Transfer)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|t| t.lanes[0].name = "Lane_1".into()),
            "transfer.lanes[1].name",
            "not a lane name",
        ),
        (
            Box::new(|t| t.lanes[0].name = "x".repeat(33)),
            "transfer.lanes[1].name",
            "not a lane name",
        ),
        (
            Box::new(|t| t.lanes[0].name = "-a".into()),
            "transfer.lanes[1].name",
            "not a lane name",
        ),
        (
            Box::new(|t| t.lanes[1].name = "rest".into()),
            "transfer.lanes[2].name",
            "reserved",
        ),
        (
            Box::new(|t| t.lanes[1].name = "all".into()),
            "transfer.lanes[2].name",
            "reserved",
        ),
        (
            Box::new(|t| t.lanes[1].name = "lane-01".into()),
            "transfer.lanes[2].name",
            "names two lanes",
        ),
        (
            Box::new(|t| t.lanes[0].includes = vec![]),
            "transfer.lanes[1].includes",
            "is empty",
        ),
        (
            Box::new(|t| t.lanes[0].includes.push("Home2".into())),
            "transfer.lanes[1].includes",
            "does not start with /",
        ),
        (
            Box::new(|t| t.lanes[0].includes.push("/a|b".into())),
            "transfer.lanes[1].includes",
            "contains |",
        ),
        (
            Box::new(|t| t.lanes[0].includes.push("/a*b".into())),
            "transfer.lanes[1].includes",
            "not its last character",
        ),
        (
            Box::new(|t| t.lanes.push(lane("extra", &["/Home"]))),
            "transfer.lanes",
            "overlap",
        ),
        (
            Box::new(|t| t.lanes.push(lane("extra", &["/Projects"]))),
            "transfer.lanes",
            "overlap",
        ),
        (
            Box::new(|t| t.lanes.push(lane("extra", &["/Home/sub/"]))),
            "transfer.lanes",
            "overlap",
        ),
        (
            Box::new(|t| t.lanes.push(lane("extra", &["/Proj*"]))),
            "transfer.lanes",
            "overlap",
        ),
        (
            Box::new(|t| t.lanes.push(lane("extra", &["/"]))),
            "transfer.lanes",
            "overlap",
        ),
        (
            Box::new(|t| t.max_parallel_tasks = Some(2)),
            "transfer.lanes",
            "need",
        ),
        (
            Box::new(|t| t.max_parallel_tasks = Some(0)),
            "transfer.max_parallel_tasks",
            "outside 1-100",
        ),
        (
            Box::new(|t| t.max_parallel_tasks = Some(101)),
            "transfer.max_parallel_tasks",
            "outside 1-100",
        ),
        (
            Box::new(|t| t.entries_per_execution = Some(0)),
            "transfer.entries_per_execution",
            "outside 1-25000000",
        ),
        (
            Box::new(|t| t.entries_per_execution = Some(25_000_001)),
            "transfer.entries_per_execution",
            "outside",
        ),
        (
            Box::new(|t| t.lanes[0].entries = Some(1_001)),
            "transfer.lanes[1].entries",
            "more than entries_per_execution",
        ),
        (
            Box::new(|t| t.inventory.as_mut().unwrap().rest_entries = 1_001),
            "transfer.inventory.rest_entries",
            "more than entries_per_execution",
        ),
        (
            Box::new(|t| {
                t.lanes[0].includes = (0..2_000).map(|i| format!("/{i:03}{}", "x".repeat(60))).collect()
            }),
            "transfer.lanes",
            "rest lane's Excludes",
        ),
    ];
    for (i, (change, field, needle)) in cases.into_iter().enumerate() {
        let mut intent = base.clone();
        change(&mut intent.transfer);
        let problems = intent.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.field == field && p.message.contains(needle)),
            "case {i}: expected {field}: …{needle}… in {problems:?}"
        );
    }
    // Wildcards that do not overlap, and siblings sharing a prefix, are fine.
    let mut intent = base.clone();
    intent
        .transfer
        .lanes
        .push(lane("extra", &["/Homework*", "/Projects2"]));
    intent.transfer.max_parallel_tasks = Some(20);
    assert_eq!(intent.problems(), []);
}

#[tokio::test]
async fn a_hand_edited_lane_is_refused_at_load_with_its_field() {
    let text = render(&intent_with_lanes().await, "header");
    let text = edit(&text, "name = \"lane-02\"", "name = \"rest\"");
    let message = refused(&text);
    assert!(message.contains("transfer.lanes[2].name"), "{message}");
    let text = edit(&text, "name = \"rest\"", "name = \"lane-02\"\ncolour = \"blue\"");
    let message = refused(&text);
    assert!(message.contains("colour"), "{message}");
}

#[tokio::test]
async fn a_plan_with_a_window_a_budget_and_an_unfreeze_command_round_trips() {
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.window = Some(fsx_migrate::plan::intent::CutoverWindow {
        time_zone: "Asia/Tokyo".into(),
        opens: vec!["Sat 22:00".into(), "Sun 03:00".into()],
        duration: fsx_migrate::plan::units::Duration::hours(4),
    });
    intent.cutover.max_downtime = Some(fsx_migrate::plan::units::Duration::mins(30));
    intent.cutover.keep_warm_interval = Some(fsx_migrate::plan::units::Duration::hours(6));
    intent.cutover.command_timeout = Some(fsx_migrate::plan::units::Duration::mins(2));
    intent.sync.bytes_per_second = Some(fsx_migrate::plan::units::Bytes(200 << 20));
    intent.sync.business_hours = Some(fsx_migrate::plan::intent::BusinessHours {
        time_zone: "Europe/Berlin".into(),
        opens: vec!["Mon 08:00".into(), "Fri 08:00".into()],
        duration: fsx_migrate::plan::units::Duration::hours(10),
        bytes_per_second: fsx_migrate::plan::units::Bytes(50 << 20),
    });
    let (parsed, _) = parse(&render(&intent, "header")).expect("parses");
    assert_eq!(parsed, intent);
    assert!(parsed.problems().is_empty(), "{:?}", parsed.problems());

    let mut bad = intent.clone();
    bad.cutover.window.as_mut().unwrap().time_zone = "Asia/Atlantis".into();
    bad.cutover.max_downtime = Some(fsx_migrate::plan::units::Duration::secs(5));
    let problems = format!("{:?}", bad.problems());
    assert!(
        problems.contains("cutover.window") && problems.contains("Asia/Atlantis"),
        "{problems}"
    );
    assert!(problems.contains("cutover.max_downtime"), "{problems}");
    let mut slow = intent.clone();
    slow.sync.bytes_per_second = Some(fsx_migrate::plan::units::Bytes(1000));
    assert!(format!("{:?}", slow.problems()).contains("sync.bytes_per_second"));
}

#[tokio::test]
async fn a_plan_with_an_ssm_freeze_fsrm_a_network_type_and_a_join_secret_round_trips_and_is_checked_strictly()
{
    let mut port = sim(world("small"));
    let mut intent = intent_for(&mut port, &plan_request()).await;
    intent.cutover.freeze = fsx_migrate::plan::intent::FreezeKind::Ssm;
    intent.cutover.freeze_command = None;
    intent.cutover.unfreeze_command = None;
    intent.windows = Some(fsx_migrate::plan::intent::Windows {
        ssm_instance_id: "i-0123456789abcdef0".into(),
        keep_accounts: vec!["CORP\\AWS Delegated FSx Administrators".into()],
        copy_shares: true,
        shares_left_behind: vec![],
    });
    let settings = &mut intent.target.settings;
    settings.fsrm = Some(fsx_migrate::cloud::model::Fsrm {
        service_enabled: true,
        event_log_destination: Some("arn:aws:logs:us-east-1:111122223333:log-group:/aws/fsx/fsrm".into()),
    });
    settings.network_type = Some("DUAL".into());
    settings.active_directory = Some(fsx_migrate::cloud::model::ActiveDirectory::SelfManaged {
        domain_name: "corp.example.com".into(),
        organizational_unit: None,
        administrators_group: None,
        user_name: String::new(),
        dns_ips: vec!["10.0.0.10".into()],
        domain_join_service_account_secret: Some(
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:j".into(),
        ),
    });
    let text = render(&intent, "header");
    let (parsed, _) = parse(&text).expect("parses");
    assert_eq!(parsed, intent);
    assert!(parsed.problems().is_empty(), "{:?}", parsed.problems());

    // What the operator writes is checked strictly.
    let typo = text.replacen("network_type = \"DUAL\"", "network_type = \"IPV6\"", 1);
    let err = format!("{:?}", parse(&typo).expect_err("unknown network type"));
    assert!(err.contains("IPV6") && err.contains("DUAL"), "{err}");
    let mut no_windows = intent.clone();
    no_windows.windows = None;
    assert!(format!("{:?}", no_windows.problems()).contains("[windows]"));
    let mut bad_id = intent.clone();
    bad_id.windows.as_mut().unwrap().ssm_instance_id = "i-xyz".into();
    assert!(format!("{:?}", bad_id.problems()).contains("windows.ssm_instance_id"));
}
