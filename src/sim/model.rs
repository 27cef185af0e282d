//! The simulator's model constants and the data it moves: how long FSx creation, DataSync phases and Route 53
//! propagation take, and how the source's files change over time.
//!
//! Every constant is listed in docs/simulator.md with its source or marked as an assumption. The maths is
//! closed-form (no per-file work), so 30 million files simulate as fast as thirty.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::VerifyMode;

/// Durations and rates of the simulated services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConstants {
    /// FSx CreateFileSystem to AVAILABLE for MULTI_AZ_1, seconds. Assumption: AWS publishes no figure;
    /// Terraform's acceptance tests took ~75 min for a Multi-AZ create + delete.
    pub target_create_secs: u64,
    /// DataSync LAUNCHING, seconds ("usually goes quickly, but can take up to a few minutes").
    pub launch_secs: u64,
    /// DataSync PREPARING lists both sides: entries per second. Assumption within "a few minutes to a few hours".
    pub prepare_files_per_sec: f64,
    /// Share of the slower file system's throughput capacity a DataSync transfer achieves. Assumption.
    pub transfer_efficiency: f64,
    /// Per-task cap, MB/s: DataSync's 10 Gbps per task.
    pub task_cap_mbps: f64,
    /// Small-file bound on transfer: files per second. Assumption.
    pub transfer_files_per_sec: f64,
    /// Route 53 PENDING to INSYNC, seconds ("generally within 60 seconds").
    pub dns_propagation_secs: u64,
}

impl Default for ModelConstants {
    fn default() -> Self {
        ModelConstants {
            target_create_secs: 45 * 60,
            launch_secs: 90,
            prepare_files_per_sec: 20_000.0,
            transfer_efficiency: 0.8,
            task_cap_mbps: 1250.0,
            transfer_files_per_sec: 1_500.0,
            dns_propagation_secs: 45,
        }
    }
}

/// The files on the source and how users change them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProfile {
    pub files: u64,
    pub bytes: u64,
    /// Top-level folders the files are spread over (shown, and used by folder-level reports).
    pub folders: u32,
    /// File writes per day (a write creates, modifies or deletes one file).
    pub writes_per_day: f64,
    /// Share of writes that delete a file (a create replaces it, so the file count stays level).
    pub delete_share: f64,
}

impl DataProfile {
    pub fn average_file_bytes(&self) -> f64 {
        if self.files == 0 {
            0.0
        } else {
            self.bytes as f64 / self.files as f64
        }
    }

    /// Distinct files touched by `writes` random writes: F·(1 − e^(−w/F)).
    pub fn distinct_files(&self, writes: f64) -> f64 {
        let f = self.files as f64;
        if f == 0.0 || writes <= 0.0 {
            0.0
        } else {
            f * (1.0 - (-writes / f).exp())
        }
    }
}

/// The source's write process: a constant rate from `origin` until `frozen_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteProcess {
    pub origin: Timestamp,
    /// Set by the simulator's own freeze: no write is accepted after it.
    pub frozen_at: Option<Timestamp>,
}

impl WriteProcess {
    /// Cumulative writes to the source by time `t`.
    pub fn writes_by(&self, profile: &DataProfile, t: Timestamp) -> f64 {
        let end = match self.frozen_at {
            Some(f) if f < t => f,
            _ => t,
        };
        let secs = end.duration_since(self.origin).as_secs_f64().max(0.0);
        profile.writes_per_day / 86_400.0 * secs
    }
}

/// What one DataSync execution will do, fixed when it starts (only one runs at a time and the source's
/// freeze never happens during one, so its future is known).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSchedule {
    pub launch_secs: f64,
    pub prepare_secs: f64,
    pub transfer_secs: f64,
    pub verify_secs: f64,
    /// Source writes included once this execution succeeds (its listing ends with PREPARING).
    pub snapshot_writes: f64,
    pub files: u64,
    pub bytes: u64,
    pub deletes: u64,
    /// Seconds after start at which an injected fault ends the execution in ERROR.
    pub error_after_secs: Option<f64>,
}

/// Inputs to [`schedule_execution`].
pub struct ScheduleInput<'a> {
    pub model: &'a ModelConstants,
    pub profile: &'a DataProfile,
    pub writes: &'a WriteProcess,
    pub start: Timestamp,
    /// Writes the target already has (0 before the first success).
    pub synced_writes: f64,
    /// Whether the target has had a full copy.
    pub target_seeded: bool,
    /// Writes already propagated as deletes (only REMOVE runs propagate deletes).
    pub deletes_synced_writes: f64,
    pub remove_deleted: bool,
    pub verify_mode: VerifyMode,
    pub throughput_mbps: f64,
}

/// Plans an execution: phase durations follow the data (prepare with file count, transfer with changed
/// files and bytes, verify with the verify mode).
pub fn schedule_execution(input: &ScheduleInput<'_>) -> ExecutionSchedule {
    let m = input.model;
    let p = input.profile;
    let target_files = if input.target_seeded { p.files } else { 0 };
    let prepare_secs = (p.files + target_files) as f64 / m.prepare_files_per_sec;
    let snapshot_time =
        input.start + jiff::SignedDuration::from_secs_f64(m.launch_secs as f64 + prepare_secs);
    let snapshot_writes = input.writes.writes_by(p, snapshot_time);
    let (files, bytes) = if input.target_seeded {
        let changed = p.distinct_files(snapshot_writes - input.synced_writes);
        (changed, changed * p.average_file_bytes())
    } else {
        (p.files as f64, p.bytes as f64)
    };
    let deletes = if input.remove_deleted {
        p.distinct_files(snapshot_writes - input.deletes_synced_writes) * p.delete_share
    } else {
        0.0
    };
    let bytes_per_sec = (input.throughput_mbps * m.transfer_efficiency).min(m.task_cap_mbps) * 1e6;
    let transfer_secs = (bytes / bytes_per_sec).max(files / m.transfer_files_per_sec);
    let verify_secs = match input.verify_mode {
        VerifyMode::None => 0.0,
        VerifyMode::OnlyFilesTransferred => transfer_secs * 0.5,
        // Re-lists both sides and reads back every file (DataSync docs: "can take a significant amount of time").
        VerifyMode::PointInTimeConsistent | VerifyMode::Unknown(_) => {
            (2 * p.files) as f64 / m.prepare_files_per_sec + p.bytes as f64 / bytes_per_sec
        }
    };
    ExecutionSchedule {
        launch_secs: m.launch_secs as f64,
        prepare_secs,
        transfer_secs,
        verify_secs,
        snapshot_writes,
        files: files.round() as u64,
        bytes: bytes.round() as u64,
        deletes: deletes.round() as u64,
        error_after_secs: None,
    }
}
