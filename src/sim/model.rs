//! The simulator's model constants and the data it moves: how long FSx creation, DataSync phases and Route 53
//! propagation take, and how the source's files change over time.
//!
//! Every constant is listed in docs/simulator.md with its source or marked as an assumption. The maths is
//! closed-form (no per-file work), so 30 million files simulate as fast as thirty.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::folders::Folder;

/// What the simulator accepts (`sim init` flags, and every world it loads): outside these ranges the closed-form
/// model breaks (a zero rate is a division by zero) or simulated time leaves the representable range.
/// docs/simulator.md lists them.
pub mod limits {
    /// `--sim-speed`: simulated seconds per real second.
    pub const MAX_SIM_SPEED: f64 = 1e6;
    /// Source throughput capacity, MB/s: FSx for Windows' own range.
    pub const MIN_THROUGHPUT_MBPS: u32 = 8;
    pub const MAX_THROUGHPUT_MBPS: u32 = 12_288;
    /// Files on the source.
    pub const MAX_FILES: u64 = 10_000_000_000;
    /// Data on the source: 1 PiB (FSx for Windows stores at most 64 TiB).
    pub const MAX_BYTES: u64 = 1 << 50;
    /// Share of files written per day (10 = every file ten times a day).
    pub const MAX_CHANGE_RATE_PER_DAY: f64 = 10.0;
    /// Entries or files per second (PREPARING listing, TRANSFERRING small-file bound).
    pub const MIN_FILES_PER_SEC: f64 = 1.0;
    pub const MAX_FILES_PER_SEC: f64 = 1e9;
    /// Listing entries per second per MB/s of throughput capacity (8 MB/s then still lists 8 entries/s).
    pub const MIN_METADATA_RATE: f64 = 1.0;
    /// Share of throughput capacity a transfer achieves.
    pub const MIN_TRANSFER_EFFICIENCY: f64 = 0.01;
    pub const MAX_TRANSFER_EFFICIENCY: f64 = 1.0;
    /// DataSync per-task cap, MB/s.
    pub const MIN_TASK_CAP_MBPS: f64 = 1.0;
    pub const MAX_TASK_CAP_MBPS: f64 = 1e6;
    /// FSx creation time, seconds (30 days).
    pub const MAX_CREATE_SECS: u64 = 30 * 86_400;
    /// LAUNCHING and Route 53 propagation, seconds (one day).
    pub const MAX_STEP_SECS: u64 = 86_400;
    /// Any stored phase duration of an execution, seconds (about 3000 years: simulated time stays before 9999).
    pub const MAX_PHASE_SECS: f64 = 1e11;
}

/// `value` is not in the range the simulator accepts: which value, and the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    /// Where the value is, e.g. `model.prepare_files_per_sec` or `--throughput`.
    pub field: String,
    pub value: String,
    /// The allowed range in words, e.g. "between 8 and 12288 MB/s".
    pub allowed: String,
}

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "{} is missing: it must be {}", self.field, self.allowed)
        } else {
            write!(
                f,
                "{} = {} is out of range: it must be {}",
                self.field, self.value, self.allowed
            )
        }
    }
}

impl std::error::Error for OutOfRange {}

/// A number as an operator would write it: `1e308`, not 309 digits.
pub fn show_f64(value: f64) -> String {
    if value.is_finite() && value != 0.0 && !(1e-4..1e16).contains(&value.abs()) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// Checks `min <= value <= max` (and that `value` is a number).
pub fn check_f64(field: &str, value: f64, min: f64, max: f64, unit: &str) -> Result<(), OutOfRange> {
    if value.is_finite() && value >= min && value <= max {
        return Ok(());
    }
    Err(OutOfRange {
        field: field.to_string(),
        value: show_f64(value),
        allowed: format!("between {} and {}{unit}", show_f64(min), show_f64(max)),
    })
}

/// Checks a `--sim-speed`: greater than 0, at most [`limits::MAX_SIM_SPEED`].
pub fn check_sim_speed(field: &str, speed: f64) -> Result<(), OutOfRange> {
    if speed.is_finite() && speed > 0.0 && speed <= limits::MAX_SIM_SPEED {
        return Ok(());
    }
    Err(OutOfRange {
        field: field.to_string(),
        value: show_f64(speed),
        allowed: format!(
            "greater than 0 and at most {} (simulated seconds per real second)",
            show_f64(limits::MAX_SIM_SPEED)
        ),
    })
}

/// Checks `min <= value <= max`.
pub fn check_u64(field: &str, value: u64, min: u64, max: u64, unit: &str) -> Result<(), OutOfRange> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(OutOfRange {
        field: field.to_string(),
        value: value.to_string(),
        allowed: format!("between {min} and {max}{unit}"),
    })
}

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
    /// Per-task cap, MB/s: agentless (AWS storage to AWS storage) DataSync tasks move at most 5 Gbps.
    pub task_cap_mbps: f64,
    /// Small-file bound on transfer: files per second. Assumption.
    pub transfer_files_per_sec: f64,
    /// Route 53 PENDING to INSYNC, seconds ("generally within 60 seconds").
    pub dns_propagation_secs: u64,
    /// Listing entries per second a file system serves to all DataSync executions together, per MB/s of its
    /// throughput capacity. Assumption (nothing public gives a file server's aggregate listing rate).
    pub metadata_entries_per_sec_per_mbps: f64,
    /// DataSync's quota of source plus destination files and directories per task execution (Basic mode,
    /// AWS storage to AWS storage): an execution over more ends in ERROR after PREPARING.
    pub entries_per_execution_quota: u64,
}

impl ModelConstants {
    /// Every constant in its range (a zero rate would divide by zero).
    pub fn validate(&self) -> Result<(), OutOfRange> {
        use limits::*;
        check_u64(
            "model.target_create_secs",
            self.target_create_secs,
            0,
            MAX_CREATE_SECS,
            " s",
        )?;
        check_u64("model.launch_secs", self.launch_secs, 0, MAX_STEP_SECS, " s")?;
        check_f64(
            "model.prepare_files_per_sec",
            self.prepare_files_per_sec,
            MIN_FILES_PER_SEC,
            MAX_FILES_PER_SEC,
            "",
        )?;
        check_f64(
            "model.transfer_efficiency",
            self.transfer_efficiency,
            MIN_TRANSFER_EFFICIENCY,
            MAX_TRANSFER_EFFICIENCY,
            "",
        )?;
        check_f64(
            "model.task_cap_mbps",
            self.task_cap_mbps,
            MIN_TASK_CAP_MBPS,
            MAX_TASK_CAP_MBPS,
            " MB/s",
        )?;
        check_f64(
            "model.transfer_files_per_sec",
            self.transfer_files_per_sec,
            MIN_FILES_PER_SEC,
            MAX_FILES_PER_SEC,
            "",
        )?;
        check_u64(
            "model.dns_propagation_secs",
            self.dns_propagation_secs,
            0,
            MAX_STEP_SECS,
            " s",
        )?;
        check_f64(
            "model.metadata_entries_per_sec_per_mbps",
            self.metadata_entries_per_sec_per_mbps,
            MIN_METADATA_RATE,
            MAX_FILES_PER_SEC,
            " entries/s per MB/s",
        )?;
        check_u64(
            "model.entries_per_execution_quota",
            self.entries_per_execution_quota,
            1,
            u64::MAX,
            " entries",
        )
    }
}

impl Default for ModelConstants {
    fn default() -> Self {
        ModelConstants {
            target_create_secs: 45 * 60,
            launch_secs: 90,
            prepare_files_per_sec: 20_000.0,
            transfer_efficiency: 0.8,
            task_cap_mbps: 625.0,
            transfer_files_per_sec: 1_500.0,
            dns_propagation_secs: 45,
            metadata_entries_per_sec_per_mbps: crate::cloud::model::ASSUMED_METADATA_ENTRIES_PER_SEC_PER_MBPS,
            entries_per_execution_quota: 25_000_000,
        }
    }
}

/// The files on the source and how users change them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProfile {
    pub files: u64,
    pub bytes: u64,
    /// File writes per day (a write creates, modifies or deletes one file).
    pub writes_per_day: f64,
    /// Share of writes that delete a file (a create replaces it, so the file count stays level).
    pub delete_share: f64,
    /// The folder tree to depth 2 (see [`super::folders`]): its files and bytes add up to `files` and `bytes`.
    pub folders: Vec<Folder>,
}

impl DataProfile {
    /// Files, bytes, write rate and delete share in range; the folders add up to the totals.
    pub fn validate(&self) -> Result<(), OutOfRange> {
        use limits::*;
        check_u64("data.files", self.files, 0, MAX_FILES, "")?;
        check_u64("data.bytes", self.bytes, 0, MAX_BYTES, "")?;
        let max_writes = MAX_CHANGE_RATE_PER_DAY * self.files as f64;
        check_f64(
            "data.writes_per_day",
            self.writes_per_day,
            0.0,
            max_writes,
            &format!(" ({MAX_CHANGE_RATE_PER_DAY} x data.files)"),
        )?;
        check_f64("data.delete_share", self.delete_share, 0.0, 1.0, "")?;
        let sum = |field: &str, total: u64, of: fn(&Folder) -> u64| {
            let sum = self.folders.iter().map(of).fold(0u64, u64::saturating_add);
            if sum == total {
                return Ok(());
            }
            Err(OutOfRange {
                field: format!("data.folders[*].{field}"),
                value: format!("{sum} in all"),
                allowed: format!("data.{field} ({total}) in all"),
            })
        };
        sum("files", self.files, |f| f.files)?;
        sum("bytes", self.bytes, |f| f.bytes)?;
        for (i, f) in self.folders.iter().enumerate() {
            check_f64(
                &format!("data.folders[{i}].write_share"),
                f.write_share,
                0.0,
                1.0,
                "",
            )?;
        }
        Ok(())
    }

    /// Files and directories on one side (what a listing of the whole share visits).
    pub fn entries(&self) -> u64 {
        self.folders.iter().map(Folder::entries).sum()
    }
}

/// Users' writes to one file system: a constant rate from `origin` until `frozen_at`, and again from
/// `resumed_at` (a rollback unfreezes the source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteProcess {
    pub origin: Timestamp,
    /// When the file system was tagged frozen: no write is accepted after it (until `resumed_at`).
    pub frozen_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_at: Option<Timestamp>,
}

impl WriteProcess {
    pub fn starting(origin: Timestamp) -> WriteProcess {
        WriteProcess {
            origin,
            frozen_at: None,
            resumed_at: None,
        }
    }

    /// Cumulative writes by time `t`.
    pub fn writes_by(&self, profile: &DataProfile, t: Timestamp) -> f64 {
        let secs_between = |from: Timestamp, to: Timestamp| to.duration_since(from).as_secs_f64().max(0.0);
        let end = match self.frozen_at {
            Some(f) if f < t => f,
            _ => t,
        };
        let mut secs = secs_between(self.origin, end);
        if let Some(resumed) = self.resumed_at {
            secs += secs_between(resumed, t);
        }
        profile.writes_per_day / 86_400.0 * secs
    }
}

/// What one DataSync execution does: its phases' durations and what it copies. Planned when it starts and
/// planned again, from then on, whenever another execution starts: executions share the file systems'
/// throughput and metadata rate (see [`super::schedule`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSchedule {
    pub launch_secs: f64,
    pub prepare_secs: f64,
    pub transfer_secs: f64,
    pub verify_secs: f64,
    /// Source writes included once this execution succeeds (its listing ends with PREPARING).
    pub snapshot_writes: f64,
    /// Source plus destination files and directories PREPARING lists (what DataSync's quota counts).
    #[serde(default)]
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
    pub deletes: u64,
    /// Seconds after start at which the execution ends in ERROR (an injected fault, or the quota).
    pub error_after_secs: Option<f64>,
    /// The ERROR is DataSync's per-execution quota, this one (else the injected transfer fault).
    #[serde(default)]
    pub exceeded_quota: Option<u64>,
    /// Files of `files` this execution skips (fault `skipped_files`): it still ends SUCCESS, reports them in
    /// `files_skipped`, and they stay missing on the target until a later execution succeeds without skips.
    #[serde(default)]
    pub skipped_files: u64,
    /// Where the last re-planning found the phase then running (seconds after start, share of the phase
    /// done): counters stay continuous when the phase's end moves.
    #[serde(default)]
    pub anchor: Option<ProgressAnchor>,
}

/// A point of a phase's progress: `fraction` of it was done `secs` after the execution started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressAnchor {
    pub secs: f64,
    pub fraction: f64,
}

impl ExecutionSchedule {
    /// A new execution listing `entries`: LAUNCHING; the rest is planned by [`super::schedule`].
    pub fn launching(model: &ModelConstants, entries: u64) -> ExecutionSchedule {
        ExecutionSchedule {
            launch_secs: model.launch_secs as f64,
            prepare_secs: 0.0,
            transfer_secs: 0.0,
            verify_secs: 0.0,
            snapshot_writes: 0.0,
            entries,
            files: 0,
            bytes: 0,
            deletes: 0,
            error_after_secs: None,
            exceeded_quota: None,
            skipped_files: 0,
            anchor: None,
        }
    }

    /// Share done at `clock` seconds after start of the phase from `start` lasting `len`: linear, through the
    /// anchor when it lies in this phase.
    pub fn progress(&self, start: f64, len: f64, clock: f64) -> f64 {
        if len <= 0.0 {
            return 1.0;
        }
        let end = start + len;
        let (from, done) = match self.anchor {
            Some(a) if a.secs > start && a.secs < end && clock >= a.secs => (a.secs, a.fraction),
            Some(a) if a.secs > start && a.secs < end => {
                return (a.fraction * (clock - start) / (a.secs - start)).clamp(0.0, 1.0);
            }
            _ => (start, 0.0),
        };
        (done + (1.0 - done) * (clock - from) / (end - from)).clamp(0.0, 1.0)
    }

    /// Durations that keep simulated time representable (a hand-edited world may hold anything).
    pub fn validate(&self, field: &str) -> Result<(), OutOfRange> {
        let max = limits::MAX_PHASE_SECS;
        check_f64(&format!("{field}.launch_secs"), self.launch_secs, 0.0, max, " s")?;
        check_f64(
            &format!("{field}.prepare_secs"),
            self.prepare_secs,
            0.0,
            max,
            " s",
        )?;
        check_f64(
            &format!("{field}.transfer_secs"),
            self.transfer_secs,
            0.0,
            max,
            " s",
        )?;
        check_f64(&format!("{field}.verify_secs"), self.verify_secs, 0.0, max, " s")?;
        if !(self.snapshot_writes.is_finite() && self.snapshot_writes >= 0.0) {
            return Err(OutOfRange {
                field: format!("{field}.snapshot_writes"),
                value: show_f64(self.snapshot_writes),
                allowed: "a number of writes, 0 or more".into(),
            });
        }
        if let Some(e) = self.error_after_secs {
            check_f64(&format!("{field}.error_after_secs"), e, 0.0, max, " s")?;
        }
        if let Some(a) = self.anchor {
            check_f64(&format!("{field}.anchor.secs"), a.secs, 0.0, max, " s")?;
            check_f64(&format!("{field}.anchor.fraction"), a.fraction, 0.0, 1.0, "")?;
        }
        check_u64(
            &format!("{field}.skipped_files"),
            self.skipped_files,
            0,
            self.files,
            " (its files)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_constants_are_in_range() {
        ModelConstants::default().validate().unwrap();
    }

    #[test]
    fn a_zero_rate_is_refused_with_its_name_and_range() {
        let zero_rate = |set: fn(&mut ModelConstants)| {
            let mut m = ModelConstants::default();
            set(&mut m);
            m.validate().unwrap_err().to_string()
        };
        let e = zero_rate(|m| m.prepare_files_per_sec = 0.0);
        assert_eq!(
            e,
            "model.prepare_files_per_sec = 0 is out of range: it must be between 1 and 1000000000"
        );
        assert!(zero_rate(|m| m.transfer_files_per_sec = 0.0).contains("transfer_files_per_sec = 0"));
        assert!(zero_rate(|m| m.transfer_efficiency = 0.0).contains("transfer_efficiency = 0"));
        assert!(zero_rate(|m| m.task_cap_mbps = f64::NAN).contains("task_cap_mbps = NaN"));
        assert!(zero_rate(|m| m.launch_secs = u64::MAX).contains("launch_secs"));
    }

    #[test]
    fn a_change_rate_beyond_the_limit_is_refused() {
        let profile = DataProfile {
            files: 1000,
            bytes: 1 << 30,
            writes_per_day: 1e308,
            delete_share: 0.05,
            folders: super::super::folders::generate(1000, 1 << 30, 1),
        };
        let e = profile.validate().unwrap_err();
        assert_eq!(e.field, "data.writes_per_day");
        assert!(e.allowed.contains("between 0 and 10000"), "{e}");
    }
}
