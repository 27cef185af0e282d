//! A plan written by a release before lanes (checkpoint schema 1: one task, one history) resumes.

use std::collections::BTreeMap;

use fsx_migrate::cloud::model::SyncKind;
use fsx_migrate::cloud::port::{
    CloudPort, Command, PLAN_TAG, PreserveDeletedFiles, Response, SYNC_TAG, StartExecutionRequest,
    TaskOptions, TransferMode,
};
use fsx_migrate::core::{Halt, RunOptions};
use fsx_migrate::engine::driver::Outcome;
use fsx_migrate::plan::checkpoint::CHECKPOINT_SCHEMA;
use fsx_migrate::plan::file::{CHECKPOINT_MARKER, PlanFile};
use fsx_migrate::plan::{CurrentSync, Phase};

use crate::support::*;

/// Rewrites a schema-2 checkpoint table into the shape schema 1 had: the forward leg's only lane becomes the
/// top-level `task_arn`, `current_sync` and `syncs`; the lowered TTL and `schema` did not exist.
fn as_schema_1(checkpoint: &mut toml::Table) {
    checkpoint.remove("schema");
    for field in [
        "dns_original_record",
        "ttl_lowering_requested_at",
        "ttl_change_id",
        "ttl_lowered_at",
    ] {
        checkpoint.remove(field);
    }
    let mut forward = checkpoint.remove("forward").expect("a forward leg");
    let forward = forward.as_table_mut().unwrap();
    for (from, to) in [
        ("from_location_arn", "source_location_arn"),
        ("to_location_arn", "target_location_arn"),
    ] {
        checkpoint.insert(to.into(), forward.remove(from).unwrap());
    }
    let lanes = forward.remove("lanes").unwrap();
    let [lane] = lanes.as_array().unwrap().as_slice() else {
        panic!("one lane: {lanes:?}")
    };
    let lane = lane.as_table().unwrap();
    assert_eq!(lane["name"].as_str(), Some("all"));
    checkpoint.insert("task_arn".into(), lane["task_arn"].clone());
    checkpoint.insert("syncs".into(), lane["syncs"].clone());
    let timeline = checkpoint.get_mut("timeline").unwrap().as_array_mut().unwrap();
    timeline.retain(|entry| entry["phase"].as_str() != Some("lower_ttl"));
}

/// Captured mid-migration: the incrementals ran, and the next one was requested and started in DataSync
/// but its answer was lost (the process died). The upgraded plan re-attaches to that execution by its sync
/// tag, keeps the history, and completes with one target and nothing lost.
#[tokio::test]
async fn a_schema_1_plan_captured_mid_migration_resumes_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mut port = sim(world("small"));
    let plan = write_plan(&mut port, dir.path(), &plan_request()).await;
    let until_gate = RunOptions {
        until: Some(Phase::CutoverGate),
        ..options()
    };
    let (outcome, _) = drive(&mut port, &plan, until_gate, yes(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::UntilReached(Phase::CutoverGate)));
    let before = PlanFile::load(&plan).unwrap().checkpoint;
    let history = before.syncs().len();
    let task_arn = before.forward.lanes[0].task_arn.clone().unwrap();

    // The lost request: recorded write-ahead, then started in DataSync with its tags.
    let request = CurrentSync::requested(SyncKind::Incremental, port.now(), before.runs);
    let started = port
        .execute(&Command::StartExecution(StartExecutionRequest {
            task_arn: task_arn.clone(),
            kind: SyncKind::Incremental,
            overrides: TaskOptions {
                transfer_mode: TransferMode::Changed,
                verify_mode: fsx_migrate::cloud::model::VerifyMode::OnlyFilesTransferred,
                preserve_deleted_files: PreserveDeletedFiles::Preserve,
                security_descriptor_copy: fsx_migrate::cloud::model::SecurityDescriptorCopy::OwnerDacl,
                log_level: fsx_migrate::cloud::model::LogLevel::Basic,
            },
            tags: BTreeMap::from([
                (PLAN_TAG.to_string(), before_plan_id(&plan)),
                (SYNC_TAG.to_string(), request.sync_id()),
            ]),
            bytes_per_second: None,
            includes: None,
        }))
        .await;
    let Ok(Response::ExecutionStarted { arn: lost }) = started else {
        panic!("{started:?}")
    };

    let text = std::fs::read_to_string(&plan).unwrap();
    let at = text.find(CHECKPOINT_MARKER).unwrap() + CHECKPOINT_MARKER.len();
    let mut doc: toml::Table = toml::from_str(&text[at..]).unwrap();
    let checkpoint = doc.get_mut("checkpoint").unwrap().as_table_mut().unwrap();
    as_schema_1(checkpoint);
    checkpoint.insert("phase".into(), "incremental_sync".into());
    checkpoint.insert("current_sync".into(), toml::Value::try_from(&request).unwrap());
    let v1 = format!("{}\n{}", &text[..at], toml::to_string(&doc).unwrap());
    assert!(
        v1.contains("\ntask_arn = ") && !v1.contains("\nschema = "),
        "{v1}"
    );
    std::fs::write(&plan, &v1).unwrap();

    // Loading upgrades it: the single task and its history are lane `all`, with the request in flight.
    let upgraded = PlanFile::load(&plan).unwrap().checkpoint;
    assert_eq!(upgraded.schema, CHECKPOINT_SCHEMA);
    let lane = &upgraded.forward.lanes[0];
    assert_eq!(
        (lane.name.as_str(), lane.task_arn.as_deref()),
        ("all", Some(task_arn.as_str()))
    );
    assert_eq!(lane.syncs.len(), history);
    assert_eq!(lane.current.as_ref(), Some(&request));
    assert_eq!(
        upgraded.forward.from_location_arn,
        before.forward.from_location_arn
    );

    let (outcome, _) = drive(&mut port, &plan, options(), yes(), None).await;
    assert_eq!(outcome, Outcome::Halted(Halt::Completed));
    let done = PlanFile::load(&plan).unwrap().checkpoint;
    assert_eq!(done.forward.lanes.len(), 1);
    let lane = &done.forward.lanes[0];
    assert!(
        lane.syncs.iter().any(|s| s.execution_arn == lost),
        "the execution started for the v1 request was adopted, not doubled"
    );
    assert!(lane.syncs.len() > history);
    assert_eq!(executions_of(&port, SyncKind::Initial), 1);
    assert_invariants(&port, &done, true);
    let written = std::fs::read_to_string(&plan).unwrap();
    assert!(written.contains("schema = 2"), "the next write stores schema 2");
}

fn before_plan_id(plan: &std::path::Path) -> String {
    PlanFile::load(plan).unwrap().intent.migration.id
}
