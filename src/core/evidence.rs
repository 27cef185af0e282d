//! What a migration did, as evidence for its change ticket: who approved each step and when, every sync's
//! counters per lane, the freeze, the DNS change, downtime against the forecast, and the data check.
//!
//! Built from the plan alone (intent and checkpoint), so `report` runs during or after a migration, on any
//! machine, and touches nothing; `status` shows the same guards. Pure: the CLI renders it as Markdown or JSON.

use jiff::Timestamp;
use serde::Serialize;

use super::forecast;
use crate::cloud::model::{ExecutionStatus, VerifyMode};
use crate::plan::checkpoint::{GuardTrip, PhaseRow};
use crate::plan::intent::FreezeKind;
use crate::plan::{Checkpoint, Intent, Phase, SyncRecord};

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub migration_id: String,
    pub name: String,
    pub source_file_system_id: String,
    pub target_file_system_id: Option<String>,
    pub target_dns_name: Option<String>,
    pub phase: Option<Phase>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// Each phase, when it was entered and the time spent in it (the current one: 0, the plan holds no "now").
    pub timeline: Vec<PhaseRow>,
    /// Every confirmation and acceptance, in the order given.
    pub approvals: Vec<Approval>,
    pub guards: Vec<Guard>,
    pub lanes: Vec<LaneEvidence>,
    pub freeze: Option<Freeze>,
    pub ttl_lowering: Option<TtlLowering>,
    pub dns_change: Option<DnsChange>,
    pub downtime: Downtime,
    pub data_check: DataCheck,
    /// The rollback after the swap, if one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackEvidence>,
    /// The abort before the swap, if one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<AbortEvidence>,
    /// Each `fsx-migrate check`: whether DataSync reached the shares with the plan's user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_checks: Vec<crate::plan::checkpoint::AccessCheck>,
    /// The source's shares and in-server settings copied to the target (`[windows]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<crate::plan::checkpoint::SharesCopy>,
    /// The DNS aliases moved to the target after the swap, and back in a rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases: Option<crate::plan::checkpoint::AliasMove>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases_back: Option<crate::plan::checkpoint::AliasMove>,
}

/// What an abort did: the source's unfreeze, the TTL put back, and what `--delete-resources` deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbortEvidence {
    pub requested_at: Timestamp,
    pub requested_by: String,
    pub source_unfrozen_at: Option<Timestamp>,
    pub ttl_restored_at: Option<Timestamp>,
    pub aborted_at: Option<Timestamp>,
    /// `--delete-resources`: who asked, what was cancelled and deleted (ARNs and file system ids), when done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion: Option<DeletionEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletionEvidence {
    pub requested_at: Timestamp,
    pub requested_by: String,
    pub cancelled: Vec<String>,
    pub deleted: Vec<String>,
    pub done_at: Option<Timestamp>,
}

/// What a rollback did: the target's freeze, the copy back per lane, the swap back, the source's unfreeze.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackEvidence {
    pub requested_at: Timestamp,
    pub requested_by: String,
    pub target_frozen_at: Option<Timestamp>,
    /// Each lane's reverse syncs (target → source).
    pub lanes: Vec<LaneEvidence>,
    pub swap_back_change_id: Option<String>,
    pub swap_back_in_sync_at: Option<Timestamp>,
    pub source_unfrozen_at: Option<Timestamp>,
    pub rolled_back_at: Option<Timestamp>,
}

/// A decision a person made, with who (`user@host`; absent in plans written before it was recorded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    /// `billable_confirmation`, `delta_acceptance`, `cutover_gate`, `manual_freeze`, `delete_acceptance`,
    /// `skipped_acceptance`, `rollback`, `abort` or `delete_resources`.
    pub decision: &'static str,
    pub at: Timestamp,
    pub by: Option<String>,
}

/// A guard on the final sync that tripped, and who accepted it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guard {
    /// `delete_guard` or `skipped_files`.
    pub guard: &'static str,
    pub tripped: GuardTrip,
    pub accepted_at: Option<Timestamp>,
    pub accepted_by: Option<String>,
    /// The flag that accepts it.
    pub accept_with: &'static str,
}

/// One lane's task, its syncs, and their totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaneEvidence {
    pub name: String,
    pub task_arn: Option<String>,
    pub syncs: Vec<SyncRecord>,
    pub files_transferred: u64,
    pub bytes_transferred: u64,
    pub files_deleted: u64,
    pub files_skipped: u64,
}

/// The freeze of the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freeze {
    pub method: FreezeKind,
    pub requested_at: Option<Timestamp>,
    pub frozen_at: Timestamp,
    /// Who confirmed a manual freeze.
    pub confirmed_by: Option<String>,
    /// From the freeze until DNS was in sync: users could write nowhere (then the TTL clients cached).
    pub until_dns_in_sync_secs: Option<u64>,
}

/// The record's TTL lowered ahead of the swap, so clients drop the old answer quickly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtlLowering {
    pub from_ttl: Option<u64>,
    pub to_ttl: u64,
    pub change_id: Option<String>,
    pub in_sync_at: Option<Timestamp>,
}

/// The swap of the record users resolve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsChange {
    pub hosted_zone_id: String,
    pub record_name: String,
    /// The record right before the swap (as first seen when the swap was not reached yet).
    pub old_values: Vec<String>,
    pub old_ttl: Option<u64>,
    pub new_value: Option<String>,
    pub new_ttl: u64,
    pub change_id: Option<String>,
    pub requested_at: Option<Timestamp>,
    pub in_sync_at: Option<Timestamp>,
}

/// Client-perceived downtime: measured once DNS is in sync, against the forecast from the syncs before the
/// freeze (the same definition, `core::forecast`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Downtime {
    pub forecast_secs: Option<u64>,
    pub measured_secs: Option<u64>,
    /// Freeze to DNS in sync.
    pub service_secs: Option<u64>,
    /// Measured minus forecast.
    pub difference_secs: Option<i64>,
}

/// DataSync's verification of the final syncs after the freeze.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataCheck {
    pub verify_mode: VerifyMode,
    pub finals: Vec<Verification>,
    /// Every lane's last final sync after the freeze succeeded (DataSync verified what it copied) and skipped
    /// nothing; none before every lane ran one.
    pub passed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub lane: String,
    pub execution_arn: String,
    pub status: ExecutionStatus,
    pub files_transferred: u64,
    pub files_verified: u64,
    pub files_deleted: u64,
    pub files_skipped: u64,
}

/// The evidence of the plan's migration so far.
pub fn evidence(intent: &Intent, cp: &Checkpoint) -> Evidence {
    let predictions = forecast::predictions(intent, cp);
    let measured = predictions.downtime_secs;
    let forecast = predictions.predicted_downtime_secs;
    Evidence {
        migration_id: intent.migration.id.clone(),
        name: intent.migration.name.clone(),
        source_file_system_id: intent.source.file_system_id.clone(),
        target_file_system_id: cp.target_file_system_id.clone(),
        target_dns_name: cp.target_dns_name.clone(),
        phase: cp.phase,
        started_at: cp.started_at,
        completed_at: cp.completed_at,
        timeline: cp.phase_rows(None),
        approvals: approvals(cp),
        guards: guards(cp),
        lanes: cp.forward.lanes.iter().map(lane_evidence).collect(),
        freeze: cp.frozen_at.map(|frozen_at| Freeze {
            method: intent.cutover.freeze,
            requested_at: cp.freeze_requested_at,
            frozen_at,
            confirmed_by: cp.frozen_by.clone(),
            until_dns_in_sync_secs: predictions.service_downtime_secs,
        }),
        ttl_lowering: cp.ttl_lowering_requested_at.map(|_| TtlLowering {
            from_ttl: cp.dns_original_record.as_ref().and_then(|r| r.ttl),
            to_ttl: intent.dns.ttl,
            change_id: cp.ttl_change_id.clone(),
            in_sync_at: cp.ttl_lowered_at,
        }),
        dns_change: dns_change(intent, cp),
        downtime: Downtime {
            forecast_secs: forecast,
            measured_secs: measured,
            service_secs: predictions.service_downtime_secs,
            difference_secs: measured
                .zip(forecast)
                .map(|(m, f)| i64::try_from(m).unwrap_or(i64::MAX) - i64::try_from(f).unwrap_or(i64::MAX)),
        },
        data_check: data_check(intent, cp),
        rollback: cp.rollback.as_ref().map(|r| RollbackEvidence {
            requested_at: r.requested_at,
            requested_by: r.requested_by.clone(),
            target_frozen_at: r.target_frozen_at,
            lanes: cp.reverse.lanes.iter().map(lane_evidence).collect(),
            swap_back_change_id: r.swap_back_change_id.clone(),
            swap_back_in_sync_at: r.swap_back_insync_at,
            source_unfrozen_at: cp.unfreeze.unfrozen_at,
            rolled_back_at: r.rolled_back_at,
        }),
        abort: cp.abort.as_ref().map(|a| AbortEvidence {
            requested_at: a.requested_at,
            requested_by: a.requested_by.clone(),
            source_unfrozen_at: cp.unfreeze.unfrozen_at,
            ttl_restored_at: a.ttl_restored_at,
            aborted_at: a.aborted_at,
            deletion: a.deletion.as_ref().map(|d| DeletionEvidence {
                requested_at: d.requested_at,
                requested_by: d.requested_by.clone(),
                cancelled: d.cancelled.clone(),
                deleted: d.deleted.clone(),
                done_at: d.done_at,
            }),
        }),
        access_checks: cp.access_checks.clone(),
        shares: cp.shares.clone(),
        aliases: cp.aliases.clone(),
        aliases_back: cp.rollback.as_ref().and_then(|r| r.aliases_back.clone()),
    }
}

fn approvals(cp: &Checkpoint) -> Vec<Approval> {
    let deletion = cp.abort.as_ref().and_then(|a| a.deletion.as_ref());
    let decisions = [
        (
            "billable_confirmation",
            cp.billable_confirmed_at,
            &cp.billable_confirmed_by,
        ),
        ("delta_acceptance", cp.delta_accepted_at, &cp.delta_accepted_by),
        ("cutover_gate", cp.gate_opened_at, &cp.gate_opened_by),
        // Only a manual freeze is a person's confirmation.
        (
            "manual_freeze",
            cp.frozen_by.as_ref().and(cp.frozen_at),
            &cp.frozen_by,
        ),
        (
            "delete_acceptance",
            cp.deletes_accepted_at,
            &cp.deletes_accepted_by,
        ),
        (
            "skipped_acceptance",
            cp.skipped_accepted_at,
            &cp.skipped_accepted_by,
        ),
        (
            "rollback",
            cp.rollback.as_ref().map(|r| r.requested_at),
            &cp.rollback.as_ref().map(|r| r.requested_by.clone()),
        ),
        (
            "abort",
            cp.abort.as_ref().map(|a| a.requested_at),
            &cp.abort.as_ref().map(|a| a.requested_by.clone()),
        ),
        (
            "delete_resources",
            deletion.map(|d| d.requested_at),
            &deletion.map(|d| d.requested_by.clone()),
        ),
    ];
    let mut out: Vec<Approval> = decisions
        .into_iter()
        .filter_map(|(decision, at, by)| {
            at.map(|at| Approval {
                decision,
                at,
                by: by.clone(),
            })
        })
        .collect();
    out.sort_by_key(|a| a.at);
    out
}

/// The guards on the final sync that tripped, and who accepted them.
pub fn guards(cp: &Checkpoint) -> Vec<Guard> {
    let trips = [
        (
            "delete_guard",
            &cp.delete_guard,
            cp.deletes_accepted_at,
            &cp.deletes_accepted_by,
            "--accept-deletes",
        ),
        (
            "skipped_files",
            &cp.skipped_files,
            cp.skipped_accepted_at,
            &cp.skipped_accepted_by,
            "--accept-skipped",
        ),
    ];
    trips
        .into_iter()
        .filter_map(|(guard, trip, accepted_at, accepted_by, accept_with)| {
            trip.as_ref().map(|tripped| Guard {
                guard,
                tripped: tripped.clone(),
                accepted_at,
                accepted_by: accepted_by.clone(),
                accept_with,
            })
        })
        .collect()
}

fn lane_evidence(lane: &crate::plan::LaneState) -> LaneEvidence {
    let sum = |f: fn(&SyncRecord) -> u64| lane.syncs.iter().map(f).sum();
    LaneEvidence {
        name: lane.name.clone(),
        task_arn: lane.task_arn.clone(),
        syncs: lane.syncs.clone(),
        files_transferred: sum(|s| s.counters.files_transferred),
        bytes_transferred: sum(|s| s.counters.bytes_transferred),
        files_deleted: sum(|s| s.counters.files_deleted),
        files_skipped: sum(|s| s.counters.files_skipped),
    }
}

fn dns_change(intent: &Intent, cp: &Checkpoint) -> Option<DnsChange> {
    cp.dns_requested_at?;
    let old = cp
        .dns_previous_record
        .as_ref()
        .or(cp.dns_original_record.as_ref());
    Some(DnsChange {
        hosted_zone_id: intent.dns.hosted_zone_id.clone(),
        record_name: intent.dns.record_name.clone(),
        old_values: old.map(|r| r.values.clone()).unwrap_or_default(),
        old_ttl: old.and_then(|r| r.ttl),
        new_value: cp.target_dns_name.clone(),
        new_ttl: intent.dns.ttl,
        change_id: cp.dns_change_id.clone(),
        requested_at: cp.dns_requested_at,
        in_sync_at: cp.dns_insync_at,
    })
}

fn data_check(intent: &Intent, cp: &Checkpoint) -> DataCheck {
    let finals: Vec<Verification> = cp
        .finals_after_freeze()
        .into_iter()
        .filter_map(|record| {
            let lane = cp
                .forward
                .lanes
                .iter()
                .find(|l| l.syncs.iter().any(|s| s.execution_arn == record.execution_arn))?;
            Some(Verification {
                lane: lane.name.clone(),
                execution_arn: record.execution_arn.clone(),
                status: record.status.clone(),
                files_transferred: record.counters.files_transferred,
                files_verified: record.counters.files_verified,
                files_deleted: record.counters.files_deleted,
                files_skipped: record.counters.files_skipped,
            })
        })
        .collect();
    let passed = cp.frozen_at.and_then(|frozen| {
        cp.forward
            .lanes
            .iter()
            .map(|lane| {
                let last = lane
                    .runs_after(crate::cloud::model::SyncKind::Final, frozen)
                    .last()
                    .copied()?;
                Some(last.succeeded() && last.counters.files_skipped == 0)
            })
            .collect::<Option<Vec<bool>>>()
            .map(|lanes| !lanes.is_empty() && lanes.into_iter().all(|ok| ok))
    });
    DataCheck {
        verify_mode: intent.transfer.verify_mode_final.clone(),
        finals,
        passed,
    }
}
