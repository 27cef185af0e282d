//! The plan file: round trips, comments kept byte for byte, the checkpoint rewritten atomically.

use fsx_migrate::plan::file::{CHECKPOINT_MARKER, PlanFile, parse, with_checkpoint};
use fsx_migrate::plan::render::render;
use fsx_migrate::plan::{Checkpoint, Phase};

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
        phase: Some(Phase::InitialSync),
        runs: 1,
        task_arn: Some("task".into()),
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
    use fsx_migrate::model::*;
    use fsx_migrate::plan::{CurrentSync, PhaseEntry, SyncRecord};
    let t: jiff::Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
    let cp = Checkpoint {
        phase: Some(Phase::FinalSync),
        runs: 3,
        started_at: Some(t),
        intent_sha256: Some("abc".into()),
        intent_at_start: Some("{\"a\":1}".into()),
        target_file_system_id: Some("fs-1".into()),
        current_sync: Some(CurrentSync {
            kind: SyncKind::Final,
            requested_at: t,
            execution_arn: Some("exec".into()),
            run: 3,
            last_status: Some(ExecutionStatus::Unknown("INITIALIZING".into())),
            last_counters: Some(ExecutionCounters::default()),
        }),
        timeline: vec![PhaseEntry {
            phase: Phase::Preflight,
            at: t,
        }],
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
