//! The checkpoint half of the plan file: what the tool has done so far, written by the tool only.
//!
//! The checkpoint is the migration's memory across crashes. Every side effect's intent (a token, a "requested
//! at" time) is recorded here before the side effect, and its result after (invariant 4).
//!
//! Schema 2 keeps the sync state per lane (one DataSync task over one partition of the share) inside a leg
//! (one direction of copying). A schema-1 checkpoint — one task, one history — is upgraded on load into a
//! forward leg with the single lane `all` (see [`Checkpoint::upgrade`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cloud::model::{DnsRecord, ExecutionCounters, ExecutionStatus, PhaseDurations, SyncKind};
use crate::cloud::port::WHOLE_SHARE_LANE;

/// The checkpoint schema this release writes.
pub const CHECKPOINT_SCHEMA: u32 = 2;

/// The phases of product.md §2, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Preflight,
    CreateTarget,
    WaitTarget,
    PrepareTransfer,
    InitialSync,
    LowerTtl,
    IncrementalSync,
    /// The source's shares and in-server settings copied to the target and verified (`[windows]`).
    CopyShares,
    CutoverGate,
    Freeze,
    FinalSync,
    DnsSwap,
    DnsWait,
    /// The source's DNS aliases (and their SPNs and Route 53 records) moved to the target.
    MoveAliases,
    Complete,
    /// Rollback (after the swap): the target stops taking writes.
    FreezeTarget,
    /// Rollback: one reverse task per lane (target → source).
    PrepareReverse,
    /// Rollback: what users wrote to the target since the swap is copied back.
    ReverseSync,
    /// Rollback: the record goes back to its value and TTL before fsx-migrate touched it.
    SwapBack,
    SwapBackWait,
    /// Rollback: the source takes writes again.
    UnfreezeSource,
    /// Rollback: the aliases moved back to the source (after its unfreeze: a stop here never leaves both
    /// file systems frozen).
    MoveAliasesBack,
    RolledBack,
    /// Abort (before the swap): the source unfrozen, the record's TTL put back.
    Aborting,
    Aborted,
}

impl Phase {
    pub const ALL: [Phase; 25] = [
        Phase::Preflight,
        Phase::CreateTarget,
        Phase::WaitTarget,
        Phase::PrepareTransfer,
        Phase::InitialSync,
        Phase::LowerTtl,
        Phase::IncrementalSync,
        Phase::CopyShares,
        Phase::CutoverGate,
        Phase::Freeze,
        Phase::FinalSync,
        Phase::DnsSwap,
        Phase::DnsWait,
        Phase::MoveAliases,
        Phase::Complete,
        Phase::FreezeTarget,
        Phase::PrepareReverse,
        Phase::ReverseSync,
        Phase::SwapBack,
        Phase::SwapBackWait,
        Phase::UnfreezeSource,
        Phase::MoveAliasesBack,
        Phase::RolledBack,
        Phase::Aborting,
        Phase::Aborted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::CreateTarget => "create_target",
            Phase::WaitTarget => "wait_target",
            Phase::PrepareTransfer => "prepare_transfer",
            Phase::InitialSync => "initial_sync",
            Phase::LowerTtl => "lower_ttl",
            Phase::IncrementalSync => "incremental_sync",
            Phase::CopyShares => "copy_shares",
            Phase::CutoverGate => "cutover_gate",
            Phase::Freeze => "freeze",
            Phase::FinalSync => "final_sync",
            Phase::DnsSwap => "dns_swap",
            Phase::DnsWait => "dns_wait",
            Phase::MoveAliases => "move_aliases",
            Phase::Complete => "complete",
            Phase::FreezeTarget => "freeze_target",
            Phase::PrepareReverse => "prepare_reverse",
            Phase::ReverseSync => "reverse_sync",
            Phase::SwapBack => "swap_back",
            Phase::SwapBackWait => "swap_back_wait",
            Phase::MoveAliasesBack => "move_aliases_back",
            Phase::UnfreezeSource => "unfreeze_source",
            Phase::RolledBack => "rolled_back",
            Phase::Aborting => "aborting",
            Phase::Aborted => "aborted",
        }
    }

    pub fn parse(text: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == text)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The tool-managed state of one migration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The checkpoint's schema: absent in schema 1 (upgraded on load), [`CHECKPOINT_SCHEMA`] since.
    #[serde(default)]
    pub schema: u32,
    pub phase: Option<Phase>,
    /// How many times `run`/`resume` has started on this plan; each sync records the run that started it.
    #[serde(default)]
    pub runs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// Hash of the intent when execution started (invariant 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_sha256: Option<String>,
    /// The intent when execution started, as canonical JSON, so an edit can be named field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_at_start: Option<String>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_confirmed_at: Option<Timestamp>,
    /// Who confirmed creating billable resources (`user@host`; with `--yes`, who passed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_confirmed_by: Option<String>,
    /// Write-ahead: set before CreateFileSystem is called with the plan's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_file_system_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_dns_name: Option<String>,
    /// The DataSync log group was found or created (and DataSync may write to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_ready_at: Option<Timestamp>,

    /// Source → target: the locations, and each lane's task and syncs.
    #[serde(default, skip_serializing_if = "Leg::is_empty")]
    pub forward: Leg,

    /// The record as it was before fsx-migrate lowered its TTL (for rollback and the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_original_record: Option<DnsRecord>,
    /// Write-ahead: set before the UPSERT that lowers the record's TTL (same value, the plan's TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_lowering_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_change_id: Option<String>,
    /// The lowered TTL is in sync; resolvers may cache the old TTL for one old TTL after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_lowered_at: Option<Timestamp>,

    /// When the current (or last) refresh round began: each lane whose delta went stale is refreshed once
    /// per round, so a round that takes longer than `sync.max_delta_age` still ends. Cleared when the
    /// operator answers the gate (time under human control starts a new round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_round_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_opened_at: Option<Timestamp>,
    /// Who opened the cutover gate (`user@host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_opened_by: Option<String>,
    /// The operator accepted freezing although the incrementals did not converge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_accepted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_accepted_by: Option<String>,
    /// Parked at the gate (postponed): no freeze until `resume` un-parks it. Not a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park_reason: Option<String>,
    /// Extra incremental runs (per lane) the operator allowed beyond `max_incremental_runs`.
    #[serde(default)]
    pub extra_incremental_runs: u32,
    /// Write-ahead: set before the freeze action runs. Never re-run blindly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_requested_at: Option<Timestamp>,
    /// When the operator's freeze (confirmed, or its command succeeded) took effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_at: Option<Timestamp>,
    /// When the source was tagged frozen for this plan (`fsx-migrate:frozen-by`), the freeze's record on AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_marked_at: Option<Timestamp>,
    /// Who confirmed a manual freeze (`user@host`); none for a freeze command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_by: Option<String>,
    /// The delete guard tripped (one run, or the final syncs together, removed more than the limit); it
    /// stops every later run until accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_guard: Option<GuardTrip>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_accepted_at: Option<Timestamp>,
    /// Who accepted the deletes (`user@host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_accepted_by: Option<String>,
    /// A lane's final sync skipped files even when run again after the freeze; stops until accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_files: Option<GuardTrip>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_accepted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_accepted_by: Option<String>,
    /// The record as it was before the swap (observed right before it), for the report and rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_previous_record: Option<DnsRecord>,
    /// Write-ahead: set before the Route 53 UPSERT (idempotent, so resent on resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_change_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_insync_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,

    /// A rollback after the swap: who asked, and each of its steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// The source's unfreeze (a rollback's last step, or an abort's).
    #[serde(default, skip_serializing_if = "Unfreeze::is_empty")]
    pub unfreeze: Unfreeze,
    /// The PowerShell scripts run through SSM (`freeze = "ssm"`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub powershell: Vec<PowerShellRun>,
    /// The source's DNS aliases moved to the target after the swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<AliasMove>,
    /// The copy of the source's shares and in-server settings to the target (`[windows]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<SharesCopy>,
    /// `fsx-migrate check`: each no-op execution that proved (or not) the DataSync user reaches the shares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_checks: Vec<AccessCheck>,
    /// An abort before the swap: who asked, and its steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<Abort>,
    /// The rollback's copy back, target → source (same lanes as the forward leg).
    #[serde(default, skip_serializing_if = "Leg::is_empty")]
    pub reverse: Leg,

    /// When each phase was entered, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<PhaseEntry>,

    /// Schema 1's single-task fields, read only to upgrade them into the forward leg's `all` lane.
    #[serde(default, rename = "source_location_arn", skip_serializing)]
    pub v1_source_location_arn: Option<String>,
    #[serde(default, rename = "target_location_arn", skip_serializing)]
    pub v1_target_location_arn: Option<String>,
    #[serde(default, rename = "task_arn", skip_serializing)]
    pub v1_task_arn: Option<String>,
    #[serde(default, rename = "current_sync", skip_serializing)]
    pub v1_current_sync: Option<CurrentSync>,
    #[serde(default, rename = "syncs", skip_serializing)]
    pub v1_syncs: Vec<SyncRecord>,
}

/// The second leg: after the swap, back to the source without losing what users wrote to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub requested_at: Timestamp,
    /// Who confirmed the rollback (`user@host`).
    pub requested_by: String,
    /// Write-ahead: set before the target's freeze action runs. Never re-run blindly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_freeze_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_frozen_at: Option<Timestamp>,
    /// When the target was tagged frozen (`fsx-migrate:frozen-by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_frozen_marked_at: Option<Timestamp>,
    /// Write-ahead: set before the Route 53 UPSERT back to the recorded record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_back_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_back_change_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_back_insync_at: Option<Timestamp>,
    /// The aliases moved back to the source after the swap back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases_back: Option<AliasMove>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_at: Option<Timestamp>,
}

/// The source taking writes again, at the end of a rollback or an abort.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unfreeze {
    /// Write-ahead: set before the unfreeze action runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfrozen_at: Option<Timestamp>,
    /// When the source's `fsx-migrate:frozen-by` tag was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmarked_at: Option<Timestamp>,
}

impl Unfreeze {
    pub fn is_empty(&self) -> bool {
        *self == Unfreeze::default()
    }
}

/// One of fsx-migrate's PowerShell scripts run through SSM on the plan's Windows instance (`freeze = "ssm"`),
/// recorded write-ahead: a resumed run re-attaches to the command (by its id, or by its comment when the
/// send's answer was lost) and never sends a freeze blindly again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerShellRun {
    pub script: crate::cloud::windows::WindowsScript,
    /// The file system it acts on (the source, or the target in a rollback).
    pub file_system_id: String,
    pub requested_at: Timestamp,
    /// Names the send (plan, script, file system, time), so a lost answer is found again (SSM ListCommands).
    pub comment: String,
    /// The file system's PowerShell endpoint, from DescribeFileSystems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Write-ahead: set before SendCommand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// Lookups by comment that found nothing, after a send whose answer was lost.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lookups: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// SSM's final status (Success, Failed, TimedOut, Cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The script's result (its RESULT JSON: the freeze's holds the share permissions before it, which the
    /// unfreeze puts back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// DNS aliases moved from one file system to the other: disassociated from `from`, associated with `to`
/// (FSx, with client tokens, each waited for), their Kerberos SPNs moved (spn.ps1 through SSM, or by a
/// person), and their Route 53 CNAMEs that pointed at `from` pointed at `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasMove {
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_dns_name: Option<String>,
    /// The aliases moved, read from `from` before anything changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    /// Write-ahead: set before each DisassociateFileSystemAliases (FSx is re-read first), and when FSx
    /// answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociate_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociate_answered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociated_at: Option<Timestamp>,
    /// Write-ahead: set before each AssociateFileSystemAliases, and when FSx answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associate_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associate_answered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_at: Option<Timestamp>,
    /// When the SPNs were moved (by spn.ps1, or left to a person: `spns_by_hand`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spns_moved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spns_by_hand: bool,
    /// Why spn.ps1 could not move them (then they are left to a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spn_error: Option<String>,
    /// The last step forward (reset when a process starts): no progress for 15 minutes stops the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_progress_at: Option<Timestamp>,
    /// How many aliases' records were looked up in the hosted zone.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub records_looked_up: u32,
    /// The aliases' CNAMEs in the hosted zone that pointed at `from`, and their UPSERTs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<AliasRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<Timestamp>,
}

impl AliasMove {
    pub fn new(from: String, to: String) -> AliasMove {
        AliasMove {
            from,
            to,
            from_dns_name: None,
            to_dns_name: None,
            names: None,
            disassociate_requested_at: None,
            disassociate_answered_at: None,
            disassociated_at: None,
            associate_requested_at: None,
            associate_answered_at: None,
            associated_at: None,
            spns_moved_at: None,
            spns_by_hand: false,
            spn_error: None,
            last_progress_at: None,
            records_looked_up: 0,
            records: Vec::new(),
            done_at: None,
        }
    }
}

/// An alias's CNAME in the plan's hosted zone, pointed at the other file system (UPSERT, idempotent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasRecord {
    pub name: String,
    pub ttl: u64,
    /// Write-ahead: set before the UPSERT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insync_at: Option<Timestamp>,
}

/// The copy of the shares and in-server settings: export.ps1 on the source, apply.ps1 on the target, export.ps1
/// on the target to verify. The scripts' results are in `powershell`: the copy's steps are the runs that
/// succeeded since `started_at`, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharesCopy {
    pub started_at: Timestamp,
    /// Shares the plan's copy does not carry (and not left behind): the copy stops for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncovered: Vec<String>,
    /// Shares apply.ps1 created, updated or left alone on the target (with why).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updated: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// In-server settings set on the target, and those not carried (with why): reported, not fatal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_carried: Vec<String>,
    /// What still differs after the apply, from the target's own export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
    /// The shares matched the source's on the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
    /// This attempt stopped (a script failed, or a share was not carried or does not match): the next run
    /// starts a new one, from a fresh export of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<Timestamp>,
}

impl SharesCopy {
    pub fn new(started_at: Timestamp) -> SharesCopy {
        SharesCopy {
            started_at,
            uncovered: Vec::new(),
            created: Vec::new(),
            updated: Vec::new(),
            skipped: Vec::new(),
            applied: Vec::new(),
            not_carried: Vec::new(),
            differences: Vec::new(),
            verified_at: None,
            stopped_at: None,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Backing out before the swap (`fsx-migrate abort`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abort {
    pub requested_at: Timestamp,
    /// Who confirmed it (`user@host`).
    pub requested_by: String,
    /// Write-ahead: set before the UPSERT that puts the record's TTL from before the migration back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_restore_requested_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_restore_change_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_restored_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_at: Option<Timestamp>,
    /// `abort --delete-resources`: deleting what this plan created, after the abort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
}

/// Deleting what this plan created (`abort --delete-resources`): its DataSync tasks (after cancelling their
/// running executions), its locations, then its target file system. Never the source, and never anything that
/// does not carry this plan's tag. Every resource is looked up by tag again on each run, so a crash between a
/// delete and its checkpoint only repeats a delete of something already gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    pub requested_at: Timestamp,
    /// Who confirmed it (`user@host`).
    pub requested_by: String,
    /// What the last look by tag found still to delete, in the order it is deleted: tasks, then locations.
    /// `None`: not looked yet this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<String>>,
    /// This plan's file systems the last look found (by tag), still to delete. `None`: not looked yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_file_systems: Option<Vec<String>>,
    /// Executions this deletion cancelled (CancelTaskExecution sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled: Vec<String>,
    /// What was deleted, in order (ARNs and file system ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<String>,
    /// The file system DescribeFileSystems just showed to be this plan's target (id, DNS name): the record is
    /// checked not to point at it before it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_file_system: Option<(String, String)>,
    /// Write-ahead: the file system whose DeleteFileSystem is being sent or was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting_file_system: Option<String>,
    /// A delete that failed once: the next look by tag says whether it is gone; a second failure stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_once: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<Timestamp>,
}

impl Rollback {
    pub fn new(at: Timestamp, by: String) -> Rollback {
        Rollback {
            requested_at: at,
            requested_by: by,
            target_freeze_requested_at: None,
            target_frozen_at: None,
            target_frozen_marked_at: None,
            swap_back_requested_at: None,
            swap_back_change_id: None,
            swap_back_insync_at: None,
            aliases_back: None,
            rolled_back_at: None,
        }
    }
}

/// One direction of copying: source → target (the migration), target → source (a rollback).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leg {
    /// The DataSync location tasks copy from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_location_arn: Option<String>,
    /// The DataSync location tasks copy to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_location_arn: Option<String>,
    /// The lane whose call is in flight: the answer to the last call is this lane's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<String>,
    /// The lanes in the plan's order (the rest lane last).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lanes: Vec<LaneState>,
}

/// One DataSync task over one partition of the share, and everything it ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneState {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
    /// The execution being started or watched (write-ahead: recorded before StartTaskExecution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentSync>,
    /// Do not call DataSync for this lane before this (the next poll, the end of a pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<Timestamp>,
    /// Every finished execution; DataSync forgets them after 30 days, we do not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syncs: Vec<SyncRecord>,
}

impl Leg {
    pub fn is_empty(&self) -> bool {
        *self == Leg::default()
    }

    pub fn lane(&self, name: &str) -> Option<&LaneState> {
        self.lanes.iter().find(|l| l.name == name)
    }

    /// Every finished sync of every lane, in the order they ended.
    pub fn syncs(&self) -> Vec<&SyncRecord> {
        let mut all: Vec<&SyncRecord> = self.lanes.iter().flat_map(|l| &l.syncs).collect();
        all.sort_by_key(|s| s.ended_at);
        all
    }

    /// Every lane's syncs of `kind` requested after `frozen_at`, in the order they ended.
    pub fn runs_after(&self, kind: SyncKind, frozen_at: Timestamp) -> Vec<&SyncRecord> {
        let mut runs: Vec<&SyncRecord> = self
            .lanes
            .iter()
            .flat_map(|l| l.runs_after(kind, frozen_at))
            .collect();
        runs.sort_by_key(|s| s.ended_at);
        runs
    }

    /// Executions running or being started now.
    pub fn in_flight(&self) -> usize {
        self.lanes.iter().filter(|l| l.current.is_some()).count()
    }
}

impl LaneState {
    pub fn new(name: &str) -> LaneState {
        LaneState {
            name: name.to_string(),
            ..LaneState::default()
        }
    }

    pub fn last_success(&self, kind: SyncKind) -> Option<&SyncRecord> {
        self.syncs.iter().rev().find(|s| s.kind == kind && s.succeeded())
    }

    /// The last successful sync of any kind.
    pub fn last_good(&self) -> Option<&SyncRecord> {
        self.syncs.iter().rev().find(|s| s.succeeded())
    }

    /// Successful incremental runs so far.
    pub fn incremental_successes(&self) -> u32 {
        let n = self
            .syncs
            .iter()
            .filter(|s| s.kind == SyncKind::Incremental && s.succeeded())
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Syncs of `kind` requested after `frozen_at`, oldest first: the final (or reverse) syncs that count
    /// for a swap (one before the freeze does not).
    pub fn runs_after(&self, kind: SyncKind, frozen_at: Timestamp) -> Vec<&SyncRecord> {
        self.syncs
            .iter()
            .filter(|s| s.kind == kind && s.started_at >= frozen_at)
            .collect()
    }

    /// Every execution ARN this lane knows, finished or not.
    pub fn known_execution_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self.syncs.iter().map(|s| s.execution_arn.clone()).collect();
        if let Some(arn) = self.current.as_ref().and_then(|c| c.execution_arn.clone()) {
            arns.push(arn);
        }
        arns
    }

    /// Failed executions of `kind` at the end of the history that this run started (the retry budget).
    pub fn trailing_failures(&self, kind: SyncKind, run: u32) -> u32 {
        let n = self
            .syncs
            .iter()
            .rev()
            .take_while(|s| s.kind == kind && !s.succeeded() && s.run == run)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseEntry {
    pub phase: Phase,
    pub at: Timestamp,
}

/// A guard on the final sync that tripped: what it counted, against which limit, on which execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardTrip {
    pub at: Timestamp,
    pub execution_arn: String,
    pub count: u64,
    pub limit: u64,
}

/// The execution currently being started or watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentSync {
    pub kind: SyncKind,
    pub requested_at: Timestamp,
    /// None between the write-ahead record and StartTaskExecution's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// The run (process) that started it.
    pub run: u32,
    /// The last status seen, for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<ExecutionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_counters: Option<ExecutionCounters>,
    /// The bandwidth limit the execution runs with now (`None`: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<u64>,
}

impl CurrentSync {
    /// The id of this one request, tagged on the execution it starts (`fsx-migrate:sync`): an execution is
    /// this request's only if it carries it. Derived from the write-ahead record, so it survives a crash.
    pub fn sync_id(&self) -> String {
        format!("{}-r{}-{}", self.kind, self.run, self.requested_at.as_second())
    }

    /// The write-ahead record of an execution about to be started (or found) by run `run`.
    pub fn requested(kind: SyncKind, requested_at: Timestamp, run: u32) -> CurrentSync {
        CurrentSync {
            kind,
            requested_at,
            execution_arn: None,
            run,
            last_status: None,
            last_counters: None,
            bytes_per_second: None,
        }
    }
}

/// One `fsx-migrate check`: an execution of a lane's task whose Includes are probes that match no file, so
/// DataSync mounts both locations with the plan's user and lists the folders above each probe, and copies
/// nothing. Its sync tag (`check-…`) is never a migration's, so the migration never adopts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessCheck {
    pub lane: String,
    pub task_arn: String,
    /// The execution's Includes patterns.
    pub probes: Vec<String>,
    /// Folders of the plan's lanes left unprobed (the filter's length quota).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unprobed_folders: u32,
    /// Write-ahead, like a sync's; `None` once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentSync>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<SyncRecord>,
}

/// A finished execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRecord {
    pub kind: SyncKind,
    pub execution_arn: String,
    pub run: u32,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub status: ExecutionStatus,
    pub counters: ExecutionCounters,
    pub durations: PhaseDurations,
    /// DataSync's StartTime of the execution, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<String>,
}

impl SyncRecord {
    pub fn succeeded(&self) -> bool {
        self.status == ExecutionStatus::Success
    }

    /// How long the execution ran, by DataSync's own measure (launch and every phase), else our observation
    /// (which may lag by a poll interval).
    pub fn run_secs(&self) -> u64 {
        let d = &self.durations;
        let measured = d.total_ms.max(d.prepare_ms + d.transfer_ms + d.verify_ms) / 1000;
        if measured > 0 {
            measured
        } else {
            self.elapsed_secs()
        }
    }

    /// Wall time of the execution, from our own observation.
    pub fn elapsed_secs(&self) -> u64 {
        u64::try_from((self.ended_at - self.started_at).as_secs()).unwrap_or(0)
    }
}

impl Checkpoint {
    pub fn has_started(&self) -> bool {
        self.phase.is_some()
    }

    pub fn phase(&self) -> Phase {
        self.phase.unwrap_or(Phase::Preflight)
    }

    pub fn entered(&self, phase: Phase) -> Option<Timestamp> {
        self.timeline.iter().find(|e| e.phase == phase).map(|e| e.at)
    }

    /// Whether `other` differs from this checkpoint only in what was observed, not decided: a running
    /// execution's last status and counters, when to look at a lane again, which lane the call in flight is
    /// for. Such a step need not be written ahead: a resumed run looks at every running execution first.
    pub fn same_decisions(&self, other: &Checkpoint) -> bool {
        fn decisions(cp: &Checkpoint) -> Checkpoint {
            let mut cp = cp.clone();
            for leg in [&mut cp.forward, &mut cp.reverse] {
                leg.awaiting = None;
                for lane in &mut leg.lanes {
                    lane.next_check_at = None;
                    if let Some(current) = &mut lane.current {
                        current.last_status = None;
                        current.last_counters = None;
                    }
                }
            }
            cp
        }
        decisions(self) == decisions(other)
    }

    /// Every finished sync of the forward leg, in the order they ended.
    pub fn syncs(&self) -> Vec<&SyncRecord> {
        self.forward.syncs()
    }

    /// Final syncs of every lane requested after the freeze.
    pub fn finals_after_freeze(&self) -> Vec<&SyncRecord> {
        self.frozen_at
            .map(|frozen| self.forward.runs_after(SyncKind::Final, frozen))
            .unwrap_or_default()
    }

    /// Brings a checkpoint of an older schema to [`CHECKPOINT_SCHEMA`]; a no-op on a current one.
    ///
    /// Schema 1 had one task and one history: they become the forward leg's lane `all`, which is the lane a
    /// plan without a partition has, so a migration in flight resumes where it stood.
    pub fn upgrade(&mut self) {
        if self.schema >= CHECKPOINT_SCHEMA {
            return;
        }
        let had_started = self.has_started();
        let leg = &mut self.forward;
        leg.from_location_arn = leg
            .from_location_arn
            .take()
            .or(self.v1_source_location_arn.take());
        leg.to_location_arn = leg.to_location_arn.take().or(self.v1_target_location_arn.take());
        let v1_lane = LaneState {
            name: WHOLE_SHARE_LANE.to_string(),
            task_arn: self.v1_task_arn.take(),
            current: self.v1_current_sync.take(),
            next_check_at: None,
            syncs: std::mem::take(&mut self.v1_syncs),
        };
        if v1_lane.task_arn.is_some() || v1_lane.current.is_some() || !v1_lane.syncs.is_empty() {
            leg.lanes.push(v1_lane);
        }
        if had_started {
            self.schema = CHECKPOINT_SCHEMA;
        }
    }
}

/// One row of a phase timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseRow {
    pub phase: Phase,
    pub entered_at: Timestamp,
    /// Until the next phase, or until `now` for the current one.
    pub duration_secs: u64,
}

impl Checkpoint {
    /// The timeline as rows with the time spent in each phase (the current one until `now`).
    pub fn phase_rows(&self, now: Option<Timestamp>) -> Vec<PhaseRow> {
        let mut rows = Vec::new();
        for (i, entry) in self.timeline.iter().enumerate() {
            let end = self
                .timeline
                .get(i + 1)
                .map(|e| e.at)
                .or(if entry.phase == Phase::Complete {
                    Some(entry.at)
                } else {
                    now
                });
            rows.push(PhaseRow {
                phase: entry.phase,
                entered_at: entry.at,
                duration_secs: end.map_or(0, |e| {
                    u64::try_from(e.duration_since(entry.at).as_secs()).unwrap_or(0)
                }),
            });
        }
        rows
    }
}
