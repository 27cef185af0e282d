//! Plans DataSync executions that run at the same time on shared hardware (lanes run in parallel).
//!
//! Each running execution moves through LAUNCHING → PREPARING → TRANSFERRING → VERIFYING. Two phases share
//! the file systems among the executions in them at each moment:
//! - PREPARING lists entries at most `prepare_files_per_sec` per execution, and all listings together at
//!   most the file systems' metadata rate (`metadata_entries_per_sec_per_mbps` × the source's plus the
//!   target's throughput capacity), split equally;
//! - TRANSFERRING moves bytes within the slower file system's throughput × `transfer_efficiency`, shared
//!   max-min fairly (an execution bound by its own cap, `task_cap_mbps`, or by its small-file rate,
//!   `transfer_files_per_sec`, leaves the rest to the others).
//!
//! LAUNCHING and VERIFYING take their own time. The plan is exact (processor sharing, event by event): every
//! time one execution changes phase the shares are recomputed. It is made when an execution starts, from
//! then on, for every execution then running; until the next start, nothing changes it, so the stored
//! phase durations are the executions' real future and every state stays a closed-form function of the
//! world and the time.

use jiff::{SignedDuration, Timestamp};

use super::model::{ExecutionSchedule, ProgressAnchor};
use super::world::World;
use crate::cloud::model::VerifyMode;

/// The share of its transfer an execution with the injected `execution_error` fault completes.
const FAULT_AT_TRANSFER_SHARE: f64 = 0.4;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Launch,
    Prepare,
    Transfer,
    Verify,
    Done,
}

/// One running execution as the planner moves it forward.
#[derive(Debug)]
struct Job {
    index: usize,
    step: Step,
    /// What is left of the step: seconds (LAUNCHING, VERIFYING), entries (PREPARING) or share of the
    /// transfer (TRANSFERRING).
    left: f64,
    /// Seconds after the execution's start when the step began.
    step_start: f64,
    /// Seconds after the execution's start, as the planner advances.
    clock: f64,
}

fn at(start: Timestamp, secs: f64) -> Timestamp {
    SignedDuration::try_from_secs_f64(secs.max(0.0))
        .ok()
        .and_then(|d| start.checked_add(d).ok())
        .unwrap_or(start)
}

impl Job {
    /// Where execution `index` stands at `elapsed` seconds after its start, by its current plan (which it
    /// anchors there, so its counters continue smoothly under the new plan).
    fn resume(index: usize, schedule: &mut ExecutionSchedule, elapsed: f64, fails: bool) -> Job {
        let s = schedule.clone();
        let t_prepare = s.launch_secs;
        let t_transfer = t_prepare + s.prepare_secs;
        let t_verify = t_transfer + s.transfer_secs;
        let (step, step_start, left) = if elapsed < t_prepare {
            (Step::Launch, 0.0, t_prepare - elapsed)
        } else if elapsed < t_transfer {
            let done = s.progress(t_prepare, s.prepare_secs, elapsed);
            schedule.anchor = Some(ProgressAnchor {
                secs: elapsed,
                fraction: done,
            });
            (Step::Prepare, t_prepare, (1.0 - done) * s.entries as f64)
        } else if elapsed < t_verify {
            let done = s.progress(t_transfer, s.transfer_secs, elapsed);
            schedule.anchor = Some(ProgressAnchor {
                secs: elapsed,
                fraction: done,
            });
            let goal = if fails { FAULT_AT_TRANSFER_SHARE } else { 1.0 };
            (Step::Transfer, t_transfer, (goal - done).max(0.0))
        } else {
            (Step::Verify, t_verify, t_verify + s.verify_secs - elapsed)
        };
        Job {
            index,
            step,
            left,
            step_start,
            clock: elapsed,
        }
    }
}

/// Shares `pool` among `demands` max-min fairly: each gets its demand or an equal share of what is left.
fn fair_shares(pool: f64, demands: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by(|&a, &b| demands[a].total_cmp(&demands[b]));
    let mut shares = vec![0.0; demands.len()];
    let (mut left, mut count) = (pool, demands.len() as f64);
    for i in order {
        shares[i] = demands[i].min(left / count);
        left -= shares[i];
        count -= 1.0;
    }
    shares
}

impl World {
    /// Target throughput capacity (the first target's), MB/s; the source's when there is none yet.
    fn target_mbps(&self) -> f64 {
        f64::from(
            self.targets
                .first()
                .map_or(self.source.settings.throughput_capacity_mbps, |t| {
                    t.info.settings.throughput_capacity_mbps
                }),
        )
    }

    /// Bytes per second all transfers share: the slower file system's throughput × efficiency.
    fn transfer_pool(&self) -> f64 {
        let slower = f64::from(self.source.settings.throughput_capacity_mbps).min(self.target_mbps());
        slower.max(1.0) * self.model.transfer_efficiency * 1e6
    }

    /// Bytes per second one execution may move on its own.
    fn execution_bandwidth(&self) -> f64 {
        self.transfer_pool().min(self.model.task_cap_mbps * 1e6)
    }

    /// Listing entries per second all executions in PREPARING share.
    fn listing_pool(&self) -> f64 {
        let mbps = f64::from(self.source.settings.throughput_capacity_mbps) + self.target_mbps();
        self.model.metadata_entries_per_sec_per_mbps * mbps
    }

    /// Plans, from `now` on, every execution running at `now` (`fresh`: the one that starts now).
    pub fn replan(&mut self, now: Timestamp, fresh: Option<usize>) {
        let mut jobs: Vec<Job> = Vec::new();
        for index in 0..self.executions.len() {
            let e = &mut self.executions[index];
            if Some(index) == fresh {
                jobs.push(Job {
                    index,
                    step: Step::Launch,
                    left: e.schedule.launch_secs,
                    step_start: 0.0,
                    clock: 0.0,
                });
            } else if !e.status_at(now).is_terminal() && e.cancelled_at.is_none() {
                let elapsed = now.duration_since(e.started_at).as_secs_f64().max(0.0);
                jobs.push(Job::resume(index, &mut e.schedule, elapsed, e.fault_error));
            }
        }
        while jobs.iter().any(|j| j.step != Step::Done) {
            let rates = self.rates(&jobs);
            let dt = jobs
                .iter()
                .zip(&rates)
                .filter(|(j, _)| j.step != Step::Done)
                .map(|(j, r)| j.left / r)
                .fold(f64::INFINITY, f64::min);
            for (job, rate) in jobs.iter_mut().zip(&rates) {
                if job.step == Step::Done {
                    continue;
                }
                job.clock += dt;
                let ends = job.left / rate <= dt * (1.0 + 1e-12);
                job.left = if ends { 0.0 } else { job.left - rate * dt };
                if ends {
                    self.next_step(job);
                }
            }
        }
    }

    /// How fast each job's step goes down: 1/s (LAUNCHING, VERIFYING), entries/s (PREPARING) or share of the
    /// transfer per second (TRANSFERRING).
    fn rates(&self, jobs: &[Job]) -> Vec<f64> {
        let preparing = jobs.iter().filter(|j| j.step == Step::Prepare).count().max(1);
        let listing = self
            .model
            .prepare_files_per_sec
            .min(self.listing_pool() / preparing as f64);
        let per_file = self.model.transfer_files_per_sec;
        let task_cap = self.model.task_cap_mbps * 1e6;
        let transferring: Vec<&Job> = jobs.iter().filter(|j| j.step == Step::Transfer).collect();
        // The bandwidth each transfer could use: its cap (and its limit), or less when it is bound by its
        // files per second.
        let demands: Vec<f64> = transferring
            .iter()
            .map(|j| {
                let e = &self.executions[j.index];
                let cap = e.bytes_per_second.map_or(task_cap, |b| task_cap.min(b as f64));
                let s = &e.schedule;
                if s.files == 0 {
                    cap
                } else {
                    cap.min(s.bytes as f64 * per_file / s.files as f64)
                }
            })
            .collect();
        let shares = fair_shares(self.transfer_pool(), &demands);
        jobs.iter()
            .map(|j| match j.step {
                Step::Launch | Step::Verify | Step::Done => 1.0,
                Step::Prepare => listing,
                Step::Transfer => {
                    let k = transferring
                        .iter()
                        .position(|t| t.index == j.index)
                        .expect("a transferring job");
                    let s = &self.executions[j.index].schedule;
                    match (s.bytes, s.files) {
                        (0, 0) => f64::INFINITY,
                        (0, files) => per_file / files as f64,
                        (bytes, _) if shares[k] > 0.0 => shares[k] / bytes as f64,
                        _ => f64::INFINITY,
                    }
                }
            })
            .collect()
    }

    /// `job` finished its step at its clock: record the step's duration and start the next.
    fn next_step(&mut self, job: &mut Job) {
        let now = job.clock;
        let e = &self.executions[job.index];
        let (started_at, fails, verify_mode, reverse) =
            (e.started_at, e.fault_error, e.verify_mode.clone(), e.reverse);
        match job.step {
            Step::Launch => {
                let entries = e.schedule.entries as f64;
                job.step = Step::Prepare;
                job.left = entries;
            }
            Step::Prepare => {
                let quota = self.model.entries_per_execution_quota;
                // The listing ends here: what it copies is what its source side held at this moment.
                let snapshot = if reverse {
                    self.target_writes_by(at(started_at, now))
                } else {
                    self.writes.writes_by(&self.data, at(started_at, now))
                };
                let work = self.transfer_work(job.index, snapshot);
                let s = &mut self.executions[job.index].schedule;
                s.prepare_secs = now - job.step_start;
                if s.entries > quota {
                    s.error_after_secs = Some(now);
                    s.exceeded_quota = Some(quota);
                    (s.transfer_secs, s.verify_secs, s.skipped_files) = (0.0, 0.0, 0);
                    job.step = Step::Done;
                    return;
                }
                s.snapshot_writes = snapshot;
                (s.files, s.bytes, s.deletes) = work;
                s.skipped_files = s.skipped_files.min(s.files);
                job.step = Step::Transfer;
                job.left = if fails { FAULT_AT_TRANSFER_SHARE } else { 1.0 };
            }
            Step::Transfer => {
                let spent = now - job.step_start;
                let verify_secs = match verify_mode {
                    VerifyMode::None => 0.0,
                    VerifyMode::OnlyFilesTransferred => spent * 0.5,
                    // Lists both sides again and reads every file back (DataSync: "can take a significant
                    // amount of time").
                    VerifyMode::PointInTimeConsistent | VerifyMode::Unknown(_) => {
                        let (entries, bytes) = self.coverage_size(job.index);
                        (2 * entries) as f64 / self.model.prepare_files_per_sec
                            + bytes as f64 / self.execution_bandwidth()
                    }
                };
                let s = &mut self.executions[job.index].schedule;
                if fails {
                    s.transfer_secs = spent / FAULT_AT_TRANSFER_SHARE;
                    s.error_after_secs = Some(now);
                    job.step = Step::Done;
                    return;
                }
                s.transfer_secs = spent;
                s.verify_secs = verify_secs;
                job.step = Step::Verify;
                job.left = verify_secs;
            }
            Step::Verify | Step::Done => job.step = Step::Done,
        }
        job.step_start = now;
    }
}

#[cfg(test)]
mod tests {
    use super::fair_shares;

    #[test]
    fn fair_shares_give_the_rest_to_those_that_want_more() {
        assert_eq!(fair_shares(300.0, &[100.0, 100.0, 100.0]), [100.0, 100.0, 100.0]);
        assert_eq!(fair_shares(300.0, &[1000.0, 1000.0]), [150.0, 150.0]);
        assert_eq!(fair_shares(300.0, &[50.0, 1000.0, 1000.0]), [50.0, 125.0, 125.0]);
    }
}
