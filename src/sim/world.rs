//! The simulated world: a Single-AZ source with its data and users, subnets, a hosted zone, and whatever
//! fsx-migrate created in it — plus the accounting that proves a migration lost nothing.
//!
//! The world is plain data (it is persisted as JSON); its state at any time is derived from it by the
//! functions here, so a world file can be reopened hours of simulated time later and still be exact.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::faults::FaultRule;
use super::model::{
    DataProfile, ExecutionSchedule, ModelConstants, OutOfRange, WriteProcess, check_sim_speed, check_u64,
    limits,
};
use crate::model::{
    ChangeStatus, DnsRecord, ExecutionCounters, ExecutionInfo, ExecutionStatus, FileSystemInfo, Lifecycle,
    PhaseDurations, SubnetInfo, SyncKind,
};
use crate::port::{CreateTargetRequest, MigrationResource, PLAN_TAG, ResourceKind, SOURCE_TAG};

pub const WORLD_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub version: u32,
    pub scenario: String,
    pub region: String,
    pub account: String,
    /// Real and simulated time at the last anchoring, for `--sim-speed` (see [`crate::clock::Clock::Scaled`]).
    /// `None` until the first `run`: a new world's clock stands still, so plans and dry runs are repeatable.
    pub anchor_real: Option<Timestamp>,
    pub anchor_sim: Timestamp,
    pub speed: f64,
    /// The latest simulated time any call saw; the clock never goes back behind it.
    pub last_seen: Timestamp,
    pub rng: u64,
    pub model: ModelConstants,
    pub data: DataProfile,
    pub writes: WriteProcess,
    pub source: FileSystemInfo,
    /// Other file systems that exist in the account (not ours), for preflight tests.
    #[serde(default)]
    pub other_file_systems: Vec<FileSystemInfo>,
    pub subnets: Vec<SubnetInfo>,
    pub hosted_zone_id: String,
    pub hosted_zone_name: String,
    pub records: Vec<DnsRecord>,
    #[serde(default)]
    pub targets: Vec<SimTarget>,
    #[serde(default)]
    pub locations: Vec<SimResource>,
    #[serde(default)]
    pub tasks: Vec<SimResource>,
    #[serde(default)]
    pub executions: Vec<SimExecution>,
    #[serde(default)]
    pub changes: Vec<SimChange>,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    /// Invariant breaches seen from the cloud's side (must stay empty).
    #[serde(default)]
    pub violations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTarget {
    pub info: FileSystemInfo,
    pub client_request_token: String,
    /// The request's parameters as JSON, to answer a reused token with different parameters like FSx does.
    pub request_json: String,
    pub created_at: Timestamp,
    pub fails: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimResource {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimExecution {
    pub arn: String,
    pub task_arn: String,
    pub kind: SyncKind,
    pub started_at: Timestamp,
    /// The tags StartTaskExecution was given.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub remove_deleted: bool,
    pub schedule: ExecutionSchedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimChange {
    pub id: String,
    pub record_name: String,
    pub value: String,
    pub ttl: u64,
    pub submitted_at: Timestamp,
}

fn after(t: Timestamp, secs: f64) -> Timestamp {
    SignedDuration::try_from_secs_f64(secs.max(0.0))
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(t)
}

fn ms(secs: f64) -> u64 {
    (secs * 1000.0).round() as u64
}

impl SimExecution {
    pub fn end(&self) -> Timestamp {
        let s = &self.schedule;
        let total = match s.error_after_secs {
            Some(e) => e,
            None => s.launch_secs + s.prepare_secs + s.transfer_secs + s.verify_secs,
        };
        after(self.started_at, total)
    }

    pub fn status_at(&self, now: Timestamp) -> ExecutionStatus {
        self.info_at(now).status
    }

    pub fn succeeded_by(&self, now: Timestamp) -> bool {
        self.schedule.error_after_secs.is_none() && self.end() <= now
    }

    /// DescribeTaskExecution at `now`.
    pub fn info_at(&self, now: Timestamp) -> ExecutionInfo {
        let s = &self.schedule;
        let elapsed = now.duration_since(self.started_at).as_secs_f64().max(0.0);
        let t_prepare = s.launch_secs;
        let t_transfer = t_prepare + s.prepare_secs;
        let t_verify = t_transfer + s.transfer_secs;
        let t_done = t_verify + s.verify_secs;
        let failed = s.error_after_secs.filter(|e| elapsed >= *e);
        let clock = failed.unwrap_or(elapsed);
        let status = if failed.is_some() {
            ExecutionStatus::Error
        } else if clock < t_prepare {
            ExecutionStatus::Launching
        } else if clock < t_transfer {
            ExecutionStatus::Preparing
        } else if clock < t_verify {
            ExecutionStatus::Transferring
        } else if clock < t_done {
            ExecutionStatus::Verifying
        } else {
            ExecutionStatus::Success
        };
        let fraction = |start: f64, len: f64| {
            if len <= 0.0 {
                1.0
            } else {
                ((clock - start) / len).clamp(0.0, 1.0)
            }
        };
        let mut counters = ExecutionCounters::default();
        // Skipped files are counted (like DataSync's FilesSkipped) but neither transferred nor verified.
        let skipped = s.skipped_files.min(s.files);
        let copied_files = (s.files - skipped) as f64;
        let copied_bytes = if s.files == 0 {
            s.bytes as f64
        } else {
            s.bytes as f64 * copied_files / s.files as f64
        };
        if clock >= t_transfer {
            let moved = fraction(t_transfer, s.transfer_secs);
            counters.estimated_files_to_transfer = s.files;
            counters.estimated_bytes_to_transfer = s.bytes;
            counters.estimated_files_to_delete = s.deletes;
            counters.files_transferred = (copied_files * moved).round() as u64;
            counters.bytes_transferred = (copied_bytes * moved).round() as u64;
            counters.files_deleted = (s.deletes as f64 * moved).round() as u64;
            counters.files_skipped = (skipped as f64 * moved).round() as u64;
        }
        if clock >= t_verify && s.verify_secs > 0.0 {
            counters.files_verified = (copied_files * fraction(t_verify, s.verify_secs)).round() as u64;
        }
        let spent = |start: f64, len: f64| ms((clock - start).clamp(0.0, len));
        let durations = PhaseDurations {
            prepare_ms: spent(t_prepare, s.prepare_secs),
            transfer_ms: spent(t_transfer, s.transfer_secs),
            verify_ms: spent(t_verify, s.verify_secs),
            total_ms: ms(clock.min(t_done)),
        };
        let (error_code, error_detail) = if failed.is_some() {
            (
                Some("SimulatedTransferError".to_string()),
                Some("simulated fault: the transfer was interrupted (fault injection)".to_string()),
            )
        } else {
            (None, None)
        };
        ExecutionInfo {
            arn: self.arn.clone(),
            status,
            started_at: Some(self.started_at),
            counters,
            durations,
            error_code,
            error_detail,
        }
    }
}

/// The accounting of product.md §6, derived at `now`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accounting {
    pub now: Timestamp,
    pub target_file_systems_created: usize,
    pub executions_started: usize,
    pub executions_by_kind: BTreeMap<String, usize>,
    pub source_writes_total: u64,
    /// When users stopped being able to write: the simulator's freeze, else the first final sync's start.
    pub freeze_at: Option<Timestamp>,
    pub dns_swapped_at: Option<Timestamp>,
    pub dns_insync_at: Option<Timestamp>,
    /// Source writes made before the freeze that the target did not have at the swap (must be 0), including
    /// `files_missing_at_swap`.
    pub writes_lost_at_swap: Option<u64>,
    /// Files an execution skipped (fault `skipped_files`) that the target still lacked at the swap.
    pub files_missing_at_swap: Option<u64>,
    /// Writes the source accepted between the freeze and the swap (0 when the freeze really froze).
    pub writes_during_freeze: Option<u64>,
    /// Freeze to DNS in sync, seconds.
    pub downtime_secs: Option<u64>,
    pub api_calls: BTreeMap<String, u64>,
    pub api_calls_total: u64,
    pub violations: Vec<String>,
}

impl World {
    /// Everything the model divides by, multiplies with or turns into time is in range: a world that passes
    /// never panics the simulator. Checked by `sim init` and on every load (a world file can be hand-edited).
    pub fn validate(&self) -> Result<(), OutOfRange> {
        if self.version != WORLD_VERSION {
            return Err(OutOfRange {
                field: "version".into(),
                value: self.version.to_string(),
                allowed: format!("{WORLD_VERSION} (the version this fsx-migrate reads)"),
            });
        }
        check_sim_speed("speed", self.speed)?;
        self.model.validate()?;
        self.data.validate()?;
        check_u64(
            "source.settings.throughput_capacity_mbps",
            u64::from(self.source.settings.throughput_capacity_mbps),
            u64::from(limits::MIN_THROUGHPUT_MBPS),
            u64::from(limits::MAX_THROUGHPUT_MBPS),
            " MB/s",
        )?;
        for (i, rule) in self.faults.iter().enumerate() {
            rule.validate().map_err(|e| OutOfRange {
                field: format!("faults[{i}].{}", e.field),
                ..e
            })?;
        }
        for (i, e) in self.executions.iter().enumerate() {
            e.schedule.validate(&format!("executions[{i}].schedule"))?;
        }
        Ok(())
    }

    /// The file system `id` at `now`, source or target.
    pub fn file_system_at(&self, id: &str, now: Timestamp) -> Option<FileSystemInfo> {
        if self.source.id == id {
            return Some(self.source.clone());
        }
        if let Some(other) = self.other_file_systems.iter().find(|f| f.id == id) {
            return Some(other.clone());
        }
        let target = self.targets.iter().find(|t| t.info.id == id)?;
        let mut info = target.info.clone();
        let ready = after(target.created_at, self.model.target_create_secs as f64);
        info.lifecycle = match (now >= ready, target.fails) {
            (false, _) => Lifecycle::Creating,
            (true, false) => Lifecycle::Available,
            (true, true) => {
                info.failure_message = Some(
                    "simulated fault: Amazon FSx was unable to create the file system (fault injection)"
                        .into(),
                );
                Lifecycle::Failed
            }
        };
        Some(info)
    }

    /// Source writes the target holds at `now`: the snapshot of the last successful execution.
    pub fn synced_writes_at(&self, now: Timestamp) -> f64 {
        self.executions
            .iter()
            .filter(|e| e.succeeded_by(now))
            .map(|e| e.schedule.snapshot_writes)
            .fold(0.0, f64::max)
    }

    /// Writes whose deletes reached the target (only REMOVE runs propagate deletes).
    pub fn delete_synced_writes_at(&self, now: Timestamp) -> f64 {
        let seeded = self
            .executions
            .iter()
            .filter(|e| e.succeeded_by(now))
            .map(|e| e.schedule.snapshot_writes);
        let first = seeded.clone().fold(f64::INFINITY, f64::min);
        let removed = self
            .executions
            .iter()
            .filter(|e| e.remove_deleted && e.succeeded_by(now))
            .map(|e| e.schedule.snapshot_writes)
            .fold(0.0, f64::max);
        if first.is_finite() {
            first.max(removed)
        } else {
            0.0
        }
    }

    /// Files the target lacks at `now` because an execution skipped them: the skips of the latest execution
    /// that succeeded by `now` (a later success copies what an earlier one skipped).
    pub fn missing_files_at(&self, now: Timestamp) -> u64 {
        self.executions
            .iter()
            .filter(|e| e.succeeded_by(now))
            .max_by_key(|e| e.end())
            .map_or(0, |e| e.schedule.skipped_files.min(e.schedule.files))
    }

    pub fn target_seeded_at(&self, now: Timestamp) -> bool {
        self.executions.iter().any(|e| e.succeeded_by(now))
    }

    /// The execution of `task_arn` still running at `now`, if any.
    pub fn running_execution(&self, task_arn: &str, now: Timestamp) -> Option<&SimExecution> {
        self.executions
            .iter()
            .find(|e| e.task_arn == task_arn && !e.status_at(now).is_terminal())
    }

    pub fn change_status(&self, change: &SimChange, now: Timestamp) -> ChangeStatus {
        if now >= after(change.submitted_at, self.model.dns_propagation_secs as f64) {
            ChangeStatus::InSync
        } else {
            ChangeStatus::Pending
        }
    }

    pub fn freeze_at(&self) -> Option<Timestamp> {
        self.writes.frozen_at.or_else(|| {
            self.executions
                .iter()
                .filter(|e| e.kind == SyncKind::Final)
                .map(|e| e.started_at)
                .min()
        })
    }

    pub fn accounting(&self, now: Timestamp) -> Accounting {
        // The swap is the first change that points the name away from the source (an UPSERT of the same
        // value, e.g. to lower the TTL ahead of time, is not a swap).
        let swap = self
            .changes
            .iter()
            .find(|c| !crate::model::dns_eq(&c.value, &self.source.dns_name));
        let swapped_at = swap.map(|c| c.submitted_at);
        let insync_at = swap
            .map(|c| after(c.submitted_at, self.model.dns_propagation_secs as f64))
            .filter(|t| *t <= now);
        let freeze_at = self.freeze_at();
        let writes = |t: Timestamp| self.writes.writes_by(&self.data, t);
        let (lost, missing, during) = match swapped_at {
            Some(swap_at) => {
                let synced = self.synced_writes_at(swap_at);
                let before_freeze = writes(freeze_at.map_or(swap_at, |f| f.min(swap_at)));
                let missing = self.missing_files_at(swap_at);
                let lost = (before_freeze - synced).max(0.0).round() as u64 + missing;
                let during = freeze_at.map_or(0.0, |f| (writes(swap_at) - writes(f)).max(0.0));
                (Some(lost), Some(missing), Some(during.round() as u64))
            }
            None => (None, None, None),
        };
        let mut by_kind = BTreeMap::new();
        for e in &self.executions {
            *by_kind.entry(e.kind.to_string()).or_insert(0) += 1;
        }
        Accounting {
            now,
            target_file_systems_created: self.targets.len(),
            executions_started: self.executions.len(),
            executions_by_kind: by_kind,
            source_writes_total: writes(now).round() as u64,
            freeze_at,
            dns_swapped_at: swapped_at,
            dns_insync_at: insync_at,
            writes_lost_at_swap: lost,
            files_missing_at_swap: missing,
            writes_during_freeze: during,
            downtime_secs: match (freeze_at, insync_at) {
                (Some(f), Some(i)) => u64::try_from(i.duration_since(f).as_secs()).ok(),
                _ => None,
            },
            api_calls_total: self.api_calls.values().sum(),
            api_calls: self.api_calls.clone(),
            violations: self.violations.clone(),
        }
    }

    /// Every target and task any fsx-migrate plan created for `source_id`, found by their tags.
    pub fn migration_resources(&self, source_id: &str) -> Vec<MigrationResource> {
        let tagged = |kind: ResourceKind, id: &str, tags: &BTreeMap<String, String>| {
            let plan_id = tags.get(PLAN_TAG)?;
            (tags.get(SOURCE_TAG).map(String::as_str) == Some(source_id)).then(|| MigrationResource {
                kind,
                id: id.to_string(),
                plan_id: plan_id.clone(),
                source_file_system_id: source_id.to_string(),
            })
        };
        let file_systems = self
            .targets
            .iter()
            .filter_map(|t| tagged(ResourceKind::FileSystem, &t.info.id, &t.info.settings.tags));
        let tasks = self
            .tasks
            .iter()
            .filter_map(|t| tagged(ResourceKind::Task, &t.arn, &t.tags));
        file_systems.chain(tasks).collect()
    }

    /// A uniform number in [0, 1) from the world's seeded generator (splitmix64).
    pub fn roll(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fresh resource suffix of `len` hex digits.
    pub fn hex_id(&mut self, len: usize) -> String {
        let mut out = String::new();
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }

    /// The request a target was created with, normalised for the same-token comparison.
    pub fn request_fingerprint(request: &CreateTargetRequest) -> String {
        serde_json::to_string(request).expect("requests serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::model::ExecutionSchedule;
    use crate::sim::scenario::{self, ScenarioSpec};

    fn small() -> World {
        scenario::build(&ScenarioSpec::named("small").unwrap(), crate::sim::epoch())
    }

    fn at(world: &World, secs: i64) -> Timestamp {
        world.anchor_sim + SignedDuration::from_secs(secs)
    }

    /// An execution of one hour (10 min each of launch and prepare, 30 of transfer, 10 of verify).
    fn execution(world: &World, kind: SyncKind, start: i64, skipped: u64) -> SimExecution {
        SimExecution {
            arn: format!("exec-{start}"),
            task_arn: "task".into(),
            kind,
            started_at: at(world, start),
            tags: BTreeMap::new(),
            remove_deleted: kind == SyncKind::Final,
            schedule: ExecutionSchedule {
                launch_secs: 600.0,
                prepare_secs: 600.0,
                transfer_secs: 1800.0,
                verify_secs: 600.0,
                snapshot_writes: world.writes.writes_by(&world.data, at(world, start + 1200)),
                files: 1000,
                bytes: 1000 << 20,
                deletes: 0,
                error_after_secs: None,
                skipped_files: skipped,
            },
        }
    }

    fn swap(world: &mut World, secs: i64) {
        world.changes.push(SimChange {
            id: "C1".into(),
            record_name: "files.corp.example.com.".into(),
            value: "target".into(),
            ttl: 60,
            submitted_at: at(world, secs),
        });
    }

    #[test]
    fn skipped_files_are_reported_from_transferring_on_and_the_execution_succeeds() {
        let w = small();
        let e = execution(&w, SyncKind::Initial, 0, 50);
        let info = |secs| e.info_at(at(&w, secs));
        assert_eq!(info(1000).counters.files_skipped, 0, "PREPARING");
        let transferring = info(1200 + 900);
        assert_eq!(transferring.status, ExecutionStatus::Transferring);
        assert_eq!(
            transferring.counters.files_skipped, 25,
            "half-way through TRANSFERRING"
        );
        let done = info(3600);
        assert_eq!(done.status, ExecutionStatus::Success);
        assert_eq!(done.counters.files_skipped, 50);
        assert_eq!(done.counters.files_transferred, 950);
        assert_eq!(done.counters.files_verified, 950);
        assert_eq!(done.counters.estimated_files_to_transfer, 1000);
        assert_eq!(done.counters.bytes_transferred, 950 << 20);
    }

    #[test]
    fn skipped_files_stay_missing_until_a_later_success_without_skips() {
        let mut w = small();
        w.executions.push(execution(&w, SyncKind::Initial, 0, 50));
        w.executions.push(execution(&w, SyncKind::Incremental, 4000, 0));
        assert_eq!(w.missing_files_at(at(&w, 3599)), 0, "nothing succeeded yet");
        assert_eq!(w.missing_files_at(at(&w, 3600)), 50);
        assert_eq!(
            w.missing_files_at(at(&w, 7599)),
            50,
            "the incremental is still running"
        );
        assert_eq!(w.missing_files_at(at(&w, 7600)), 0, "the incremental copied them");
        // A failed run copies nothing.
        let mut failed = execution(&w, SyncKind::Incremental, 8000, 0);
        failed.schedule.error_after_secs = Some(2000.0);
        w.executions.push(failed);
        w.executions.push(execution(&w, SyncKind::Incremental, 12_000, 7));
        assert_eq!(w.missing_files_at(at(&w, 11_000)), 0);
        assert_eq!(
            w.missing_files_at(at(&w, 15_600)),
            7,
            "the latest success skipped 7"
        );
    }

    #[test]
    fn files_missing_at_the_swap_count_as_lost_writes() {
        let mut w = small();
        w.writes.frozen_at = Some(at(&w, 4000));
        w.executions.push(execution(&w, SyncKind::Initial, 0, 0));
        w.executions.push(execution(&w, SyncKind::Final, 4000, 50));
        swap(&mut w, 7700);
        let acc = w.accounting(at(&w, 8000));
        assert_eq!(acc.files_missing_at_swap, Some(50));
        assert_eq!(acc.writes_lost_at_swap, Some(50), "{acc:?}");

        // The same cutover without the skip loses nothing.
        let mut clean = w.clone();
        clean.executions[1].schedule.skipped_files = 0;
        let acc = clean.accounting(at(&w, 8000));
        assert_eq!(
            (acc.files_missing_at_swap, acc.writes_lost_at_swap),
            (Some(0), Some(0))
        );

        // Skipped in an earlier run, copied by the final sync: nothing missing at the swap.
        let mut healed = clean.clone();
        healed.executions[0].schedule.skipped_files = 50;
        let acc = healed.accounting(at(&w, 8000));
        assert_eq!(
            (acc.files_missing_at_swap, acc.writes_lost_at_swap),
            (Some(0), Some(0))
        );
    }

    #[test]
    fn a_world_with_a_bad_value_fails_validation_with_the_field() {
        small().validate().unwrap();
        let mut w = small();
        w.model.transfer_files_per_sec = 0.0;
        assert!(
            w.validate()
                .unwrap_err()
                .to_string()
                .starts_with("model.transfer_files_per_sec = 0")
        );
        let mut w = small();
        w.speed = 1e15;
        assert_eq!(w.validate().unwrap_err().field, "speed");
        let mut w = small();
        w.faults
            .push(crate::sim::faults::FaultRule::parse("throttle").unwrap());
        w.faults[0].probability = 7.0;
        assert_eq!(w.validate().unwrap_err().field, "faults[0].probability");
        let mut w = small();
        w.source.settings.throughput_capacity_mbps = 0;
        assert!(w.validate().unwrap_err().allowed.contains("between 8 and 12288"));
        let mut w = small();
        w.executions.push(execution(&w, SyncKind::Initial, 0, 0));
        w.executions[0].schedule.transfer_secs = 1e300;
        assert_eq!(
            w.validate().unwrap_err().field,
            "executions[0].schedule.transfer_secs"
        );
    }
}
