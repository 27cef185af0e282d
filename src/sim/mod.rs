//! The simulator: a product feature, not a test fake. It implements the cloud port over a simulated world
//! so the demo, rehearsals and most tests run the exact code path a real migration runs.
//!
//! A world lives in memory (tests, with a virtual clock) or in a JSON file (`--sim WORLD.json`), in which
//! case simulated time keeps flowing at `--sim-speed` × real time even while no process runs, or, with
//! `--sim-speed max`, jumps from one wake-up to the next (event time) and stands still between processes.

pub mod faults;
pub mod folders;
pub mod model;
pub mod scenario;
pub mod schedule;
pub mod world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use self::faults::FaultKind;
use self::model::{ExecutionSchedule, WriteProcess, check_sim_speed};
use self::world::{SimAlias, SimChange, SimCommand, SimExecution, SimResource, SimTarget, SimTask, World};
use crate::cloud::model::PasswordSource;
use crate::cloud::model::dns_eq;
use crate::cloud::model::{ChangeStatus, DeploymentType, FileSystemInfo, Lifecycle, Side, SyncKind};
use crate::cloud::port::{
    CloudError, CloudPort, Command, CreateTargetRequest, Environment, ErrorClass, ExecutionCandidate,
    FROZEN_TAG, PLAN_TAG, PreserveDeletedFiles, Response, SIDE_TAG, StartExecutionRequest, TransferResources,
    is_reverse, lane_of,
};
use crate::engine::clock::Clock;
use crate::error::{Failure, io_failure};
use crate::files::{Durability, FileLock, write_atomically_with};

/// How a persisted world's clock runs (`--sim-speed`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimSpeed {
    /// Simulated seconds per real second: the clock flows with real time, also between processes.
    Scaled(f64),
    /// Event time: the clock jumps to the next wake-up, so a rehearsal takes as long as its computation and
    /// gives the same result as a dry run; it stands still between processes.
    Max,
}

impl std::str::FromStr for SimSpeed {
    type Err = String;

    fn from_str(text: &str) -> Result<SimSpeed, String> {
        if text.eq_ignore_ascii_case("max") {
            return Ok(SimSpeed::Max);
        }
        text.parse().map(SimSpeed::Scaled).map_err(|_| {
            format!("{text:?} is neither a number of simulated seconds per real second nor `max`")
        })
    }
}

/// The simulated start of every world, so reports and snapshots are reproducible.
pub fn epoch() -> Timestamp {
    "2026-12-01T08:00:00Z".parse().expect("valid timestamp")
}

/// The simulator behind the cloud port.
#[derive(Debug)]
pub struct SimPort {
    pub world: World,
    path: Option<PathBuf>,
    clock: Clock,
    /// Held for the port's lifetime when it writes a world file (`path`); `None` in memory and read-only.
    lock: Option<WorldLock>,
    /// A snapshot of a world another process holds: answers read-only commands, never writes the file.
    read_only: bool,
    /// Set by the fault preamble of one call: the response to hand back instead of the answer.
    lost_response: Option<CloudError>,
    /// Set by the fault preamble of one call: files the execution it starts skips.
    skip_files: u64,
    /// Calls that only observed (and counted) since the world was last written: written before the next
    /// checkpoint, the next change, or when the port is dropped.
    unwritten: bool,
}

/// An exclusive lock on a world file, held while a process may write it (released when dropped or when the
/// process dies). Two processes writing one world would each believe they created the same target.
#[derive(Debug)]
pub struct WorldLock {
    _lock: FileLock,
}

impl WorldLock {
    /// Takes the lock, or fails saying another process uses the world.
    pub fn acquire(world: &Path) -> Result<WorldLock, Failure> {
        WorldLock::try_acquire(world)?.ok_or_else(|| WorldLock::in_use(world))
    }

    /// The failure of a process that finds `world` locked by another.
    fn in_use(world: &Path) -> Failure {
        FileLock::in_use(
            world,
            format!(
                "another fsx-migrate process uses the simulated world {}",
                world.display()
            ),
        )
        .hint("wait for that process to finish, or stop it (Ctrl-C) and run this command again")
    }

    /// Takes the lock if no other process holds it.
    pub fn try_acquire(world: &Path) -> Result<Option<WorldLock>, Failure> {
        Ok(FileLock::try_acquire(world)?.map(|lock| WorldLock { _lock: lock }))
    }
}

fn rejected(operation: &str, code: &str, message: impl Into<String>) -> CloudError {
    CloudError {
        class: ErrorClass::Rejected,
        operation: operation.into(),
        code: code.into(),
        message: message.into(),
    }
}

fn not_found(operation: &str, code: &str, message: impl Into<String>) -> CloudError {
    CloudError {
        class: ErrorClass::NotFound,
        ..rejected(operation, code, message)
    }
}

impl SimPort {
    /// A world in memory, on `clock` (usually virtual).
    pub fn in_memory(world: World, clock: Clock) -> SimPort {
        SimPort {
            world,
            path: None,
            clock,
            lock: None,
            read_only: false,
            lost_response: None,
            skip_files: 0,
            unwritten: false,
        }
    }

    /// Opens a persisted world for this process alone: takes the world's lock (see [`WorldLock`]) for the
    /// port's lifetime, or fails when another process holds it. `start_clock` starts a standing clock (the
    /// first `run`); with `speed`, simulated time is re-anchored to run at that speed from now on.
    pub fn open(path: &Path, speed: Option<SimSpeed>, start_clock: bool) -> Result<SimPort, Failure> {
        let speed = validated_speed(speed)?;
        let lock = WorldLock::acquire(path)?;
        SimPort::open_locked(path, speed, start_clock, lock)
    }

    /// Opens a persisted world for read-only commands (`plan`): like [`SimPort::open`] when the world is free;
    /// when another process holds it, a snapshot that answers read-only commands and never writes the file.
    pub fn open_for_reading(path: &Path, speed: Option<SimSpeed>) -> Result<SimPort, Failure> {
        let speed = validated_speed(speed)?;
        if let Some(lock) = WorldLock::try_acquire(path)? {
            return SimPort::open_locked(path, speed, false, lock);
        }
        if speed.is_some() {
            return Err(WorldLock::in_use(path).hint(
                "--sim-speed changes the world's clock: pass it to the process that runs the world instead",
            ));
        }
        tracing::info!(
            "{} is in use by another process: reading a snapshot of it",
            path.display()
        );
        let world = load_world(path)?;
        let clock = scaled_clock(&world);
        Ok(SimPort {
            world,
            path: None,
            clock,
            lock: None,
            read_only: true,
            lost_response: None,
            skip_files: 0,
            unwritten: false,
        })
    }

    fn open_locked(
        path: &Path,
        speed: Option<SimSpeed>,
        start_clock: bool,
        lock: WorldLock,
    ) -> Result<SimPort, Failure> {
        // Read under the lock: the last holder may have written the world since this process last saw it.
        let mut world = load_world(path)?;
        match speed {
            Some(SimSpeed::Max) => {
                world.anchor_sim = now_of(&world);
                world.anchor_real = None;
                world.event_time = true;
            }
            Some(SimSpeed::Scaled(speed)) => world.start_clock(speed),
            None if start_clock && world.anchor_real.is_none() && !world.event_time => {
                world.start_clock(world.speed);
            }
            None => {}
        }
        let clock = scaled_clock(&world);
        let port = SimPort {
            world,
            path: Some(path.to_path_buf()),
            clock,
            lock: Some(lock),
            read_only: false,
            lost_response: None,
            skip_files: 0,
            unwritten: false,
        };
        port.persist(Layout::Readable)
            .map_err(|e| Failure::internal("cannot write the simulated world").cause(e))?;
        Ok(port)
    }

    /// A persisted world on a clock chosen by the caller (the demo's paced virtual clock). The caller keeps
    /// other processes off `path` (see [`WorldLock`]).
    pub fn persisted(world: World, path: &Path, clock: Clock) -> SimPort {
        SimPort {
            world,
            path: Some(path.to_path_buf()),
            clock,
            lock: None,
            read_only: false,
            lost_response: None,
            skip_files: 0,
            unwritten: false,
        }
    }

    /// Keeps `lock` for the port's lifetime (for [`SimPort::persisted`]: take the lock before writing the world).
    pub fn holding(mut self, lock: WorldLock) -> SimPort {
        self.lock = Some(lock);
        self
    }

    /// Whether this port holds its world file's lock.
    pub fn holds_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// Stops the world's clock at the last simulated time; a later `run` starts it again at 1× (or --sim-speed).
    pub fn anchor_to_real_time(&mut self) {
        self.world.anchor_sim = self.now();
        self.world.last_seen = self.world.anchor_sim;
        self.world.anchor_real = None;
        self.world.speed = 1.0;
        self.world.event_time = false;
        let _ = self.persist(Layout::Readable);
    }

    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Simulated now: the clock, never behind what a call already saw.
    pub fn now(&self) -> Timestamp {
        self.clock.now().max(self.world.last_seen)
    }

    fn persist(&self, layout: Layout) -> Result<(), CloudError> {
        let Some(path) = &self.path else { return Ok(()) };
        write_world(path, &self.world, layout)
            .map_err(|f| rejected("simulator", "SimulatorIoError", f.to_string()))
    }

    fn handle(&mut self, command: &Command, now: Timestamp) -> Result<Response, CloudError> {
        let ops = command.operations();
        let op = ops[0];
        for name in ops {
            *self.world.api_calls.entry((*name).to_string()).or_insert(0) += 1;
            self.world.pace(name, now);
        }
        if self.read_only && command.is_mutating() {
            return Err(rejected(
                op,
                "SimulatorWorldInUse",
                "this simulated world is in use by another fsx-migrate process: it was opened read-only",
            ));
        }
        let mut injected = Vec::new();
        (self.lost_response, self.skip_files) = (None, 0);
        for i in 0..self.world.faults.len() {
            let roll = self.world.roll();
            for name in ops {
                if self.world.faults[i].fires(name, roll) {
                    let rule = &self.world.faults[i];
                    match (rule.kind, rule.error(name)) {
                        // Carried out below; the caller gets the error instead of the answer (see `execute`).
                        (FaultKind::LostResponse, error) => self.lost_response = error,
                        (_, Some(error)) => return Err(error),
                        (FaultKind::SkippedFiles, None) => self.skip_files += rule.count.unwrap_or(0),
                        (_, None) => {}
                    }
                    injected.push(self.world.faults[i].kind);
                }
            }
        }
        let w = &mut self.world;
        match command {
            Command::Inspect(req) => {
                let source = w.file_system_at(&req.source_file_system_id, now);
                let subnets = w
                    .subnets
                    .iter()
                    .filter(|s| req.subnet_ids.contains(&s.id))
                    .cloned()
                    .collect();
                let zone_ok = w.zone_matches(&req.hosted_zone_id, req.name_service.as_ref());
                let record = w
                    .records
                    .iter()
                    .find(|r| zone_ok && dns_eq(&r.name, &req.record_name))
                    .cloned();
                Ok(Response::Environment(Environment {
                    source,
                    subnets,
                    hosted_zone_name: zone_ok.then(|| w.hosted_zone_name.clone()),
                    record,
                    migration_resources: w.migration_resources(&req.source_file_system_id),
                    unresolved_passwords: req
                        .password_sources
                        .iter()
                        .filter_map(unresolved_password)
                        .collect(),
                    security_groups: req
                        .security_group_ids
                        .as_deref()
                        .map(|ids| w.security_groups_for(ids))
                        .unwrap_or_default(),
                }))
            }
            Command::CreateTarget(req) => {
                self.create_target(req, now, injected.contains(&FaultKind::CreationFailed))
            }
            Command::DescribeFileSystem { file_system_id } => w
                .file_system_at(file_system_id, now)
                .map(Response::FileSystem)
                .ok_or_else(|| {
                    not_found(
                        op,
                        "FileSystemNotFound",
                        format!("File system '{file_system_id}' does not exist."),
                    )
                }),
            Command::FindTransferResources { plan_id } => {
                let side = |s: Side| {
                    w.locations
                        .iter()
                        .filter(|r| r.tags.get(PLAN_TAG) == Some(plan_id))
                        .find(|r| r.tags.get(SIDE_TAG).map(String::as_str) == Some(&s.to_string()))
                        .map(|r| r.arn.clone())
                };
                let tasks = |reverse: bool| {
                    w.tasks
                        .iter()
                        .filter(|t| t.tags.get(PLAN_TAG) == Some(plan_id) && is_reverse(&t.tags) == reverse)
                        .rev()
                        .map(|r| (lane_of(&r.tags), r.arn.clone()))
                        .collect()
                };
                Ok(Response::TransferResources(TransferResources {
                    source_location_arn: side(Side::Source),
                    target_location_arn: side(Side::Target),
                    tasks: tasks(false),
                    reverse_tasks: tasks(true),
                }))
            }
            Command::CreateLocation(req) => {
                let known = w.source.arn == req.file_system_arn
                    || w.targets.iter().any(|t| t.info.arn == req.file_system_arn);
                if !known {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("{} not found", req.file_system_arn),
                    ));
                }
                let suffix = w.hex_id(17);
                let arn = format!(
                    "arn:aws:datasync:{}:{}:location/loc-{suffix}",
                    w.region, w.account
                );
                w.locations.push(SimResource {
                    arn: arn.clone(),
                    tags: req.tags.clone(),
                    created_at: now,
                });
                Ok(Response::LocationCreated { side: req.side, arn })
            }
            Command::CreateTask(req) => {
                for loc in [&req.source_location_arn, &req.target_location_arn] {
                    if !w.locations.iter().any(|l| &l.arn == loc) {
                        return Err(rejected(
                            op,
                            "InvalidRequestException",
                            format!("location {loc} not found"),
                        ));
                    }
                }
                let suffix = w.hex_id(17);
                let arn = format!("arn:aws:datasync:{}:{}:task/task-{suffix}", w.region, w.account);
                // A task from the target's location copies back (a rollback's).
                let reverse = w.locations.iter().any(|l| {
                    l.arn == req.source_location_arn
                        && l.tags.get(SIDE_TAG).map(String::as_str) == Some("target")
                });
                w.tasks.push(SimTask {
                    arn: arn.clone(),
                    tags: req.tags.clone(),
                    created_at: now,
                    includes: req.includes.clone(),
                    excludes: req.excludes.clone(),
                    folders: folders::covered(&w.data.folders, &req.includes, &req.excludes),
                    reverse,
                });
                Ok(Response::TaskCreated { arn })
            }
            Command::FindExecution { task_arn, known } => Ok(Response::ExecutionCandidates(
                w.executions
                    .iter()
                    .rev()
                    .filter(|e| &e.task_arn == task_arn && !known.contains(&e.arn))
                    // As the AWS adapter: only the newest few unknown executions are described.
                    .take(crate::cloud::port::EXECUTION_CANDIDATES)
                    .map(|e| ExecutionCandidate {
                        arn: e.arn.clone(),
                        status: e.status_at(now),
                        started_at: Some(e.started_at),
                        tags: e.tags.clone(),
                    })
                    .collect(),
            )),
            Command::FindMigrationResources {
                source_file_system_id,
            } => Ok(Response::MigrationResources(
                w.migration_resources(source_file_system_id),
            )),
            Command::EnsureLogGroup { arn } => {
                if !arn.starts_with("arn:") || !arn.contains(":logs:") || !arn.contains(":log-group:") {
                    return Err(rejected(
                        op,
                        "InvalidParameterException",
                        format!("{arn} is not a CloudWatch Logs log group ARN"),
                    ));
                }
                Ok(Response::LogGroupReady)
            }
            Command::StartExecution(req) => {
                self.start_execution(req, now, injected.contains(&FaultKind::ExecutionError))
            }
            Command::LimitExecution {
                execution_arn,
                bytes_per_second,
            } => {
                let Some(e) = w.executions.iter_mut().find(|e| &e.arn == execution_arn) else {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("{execution_arn} not found"),
                    ));
                };
                if e.status_at(now).is_terminal() {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("{execution_arn} is not running"),
                    ));
                }
                e.bytes_per_second = *bytes_per_second;
                // The rest of its transfer runs at the new limit.
                w.replan(now, None);
                Ok(Response::ExecutionLimited {
                    execution_arn: execution_arn.clone(),
                    bytes_per_second: *bytes_per_second,
                })
            }
            Command::DescribeExecution { execution_arn } => w
                .executions
                .iter()
                .find(|e| &e.arn == execution_arn)
                .map(|e| Response::Execution(e.info_at(now)))
                .ok_or_else(|| {
                    rejected(
                        op,
                        "InvalidRequestException",
                        format!("{execution_arn} not found"),
                    )
                }),
            Command::UpsertCname(req) => {
                if !w.zone_matches(&req.hosted_zone_id, req.name_service.as_ref()) {
                    return Err(not_found(
                        op,
                        "NoSuchHostedZone",
                        format!("No hosted zone found with ID: {}", req.hosted_zone_id),
                    ));
                }
                // A swap (the name moves away from the source) needs a successful final sync on every task;
                // an UPSERT of the same value (lowering the TTL) is not a swap, nor is an alias's record.
                let swap = !dns_eq(&req.value, &w.source.dns_name) && !w.is_alias_name(&req.record_name);
                let synced_after = |reverse: bool, kind: SyncKind, since: Option<Timestamp>| {
                    w.tasks.iter().filter(|t| t.reverse == reverse).all(|t| {
                        w.executions.iter().any(|e| {
                            e.task_arn == t.arn
                                && e.kind == kind
                                && since.is_none_or(|s| e.started_at >= s)
                                && e.succeeded_by(now)
                        })
                    })
                };
                if swap && !synced_after(false, SyncKind::Final, None) {
                    w.violations
                        .push(format!("{now}: DNS swapped before a final sync succeeded"));
                }
                // Back to the source after users wrote to the target: every reverse task must have copied
                // back since the target stopped taking writes.
                if let Some(target_writes) = &w.target_writes
                    && !swap
                    && !w.is_alias_name(&req.record_name)
                    && (target_writes.frozen_at.is_none()
                        || !synced_after(true, SyncKind::Reverse, target_writes.frozen_at))
                {
                    w.violations.push(format!(
                        "{now}: DNS swapped back before the target was frozen and copied back"
                    ));
                }
                if swap && w.target_writes.is_none() {
                    w.target_writes = Some(WriteProcess::starting(now));
                }
                let name = format!("{}.", req.record_name.trim_end_matches('.'));
                let previous = w.records.iter().find(|r| dns_eq(&r.name, &name));
                let previous_value = previous.and_then(|r| r.values.first().cloned());
                let previous_ttl = previous.and_then(|r| r.ttl);
                // A DFS folder stays a folder; anything else becomes (or stays) a CNAME.
                let record_type = previous
                    .filter(|r| r.record_type == "DFS")
                    .map_or("CNAME".to_string(), |r| r.record_type.clone());
                w.records.retain(|r| !dns_eq(&r.name, &name));
                w.records.push(crate::cloud::model::DnsRecord {
                    name: name.clone(),
                    record_type,
                    values: vec![req.value.clone()],
                    ttl: Some(req.ttl),
                });
                let id = format!("C{}", w.hex_id(20).to_uppercase());
                w.changes.push(SimChange {
                    id: id.clone(),
                    record_name: name,
                    value: req.value.clone(),
                    ttl: req.ttl,
                    submitted_at: now,
                    previous_value,
                    previous_ttl,
                });
                Ok(Response::Change {
                    id,
                    status: ChangeStatus::Pending,
                })
            }
            Command::GetChange { change_id, .. } => w
                .changes
                .iter()
                .find(|c| &c.id == change_id)
                .map(|c| Response::Change {
                    id: c.id.clone(),
                    status: w.change_status(c, now),
                })
                .ok_or_else(|| {
                    not_found(
                        op,
                        "NoSuchChange",
                        format!("A change with the specified change ID does not exist: {change_id}"),
                    )
                }),
            Command::MarkFrozen {
                file_system_arn,
                plan_id,
            } => {
                let is_source = w.source.arn == *file_system_arn;
                // The simulated users obey a freeze the moment it is recorded (docs/simulator.md), unless
                // it is faulted to have no effect.
                let obeyed = !injected.contains(&FaultKind::IgnoredFreeze);
                let tags = file_system_tags(w, op, file_system_arn)?;
                tags.insert(FROZEN_TAG.to_string(), plan_id.clone());
                let writes = if is_source {
                    Some(&mut w.writes)
                } else {
                    w.target_writes.as_mut()
                };
                if let Some(writes) = writes.filter(|_| obeyed) {
                    writes.frozen_at.get_or_insert(now);
                }
                Ok(Response::MarkedFrozen)
            }
            Command::UnmarkFrozen { file_system_arn } => {
                let is_source = w.source.arn == *file_system_arn;
                file_system_tags(w, op, file_system_arn)?.remove(FROZEN_TAG);
                // Users write to the source again (the end of a rollback or an abort).
                if is_source && w.writes.frozen_at.is_some() {
                    w.writes.resumed_at.get_or_insert(now);
                }
                Ok(Response::UnmarkedFrozen)
            }
            Command::RunningExecutions { task_arn } => Ok(Response::RunningExecutions(
                w.executions
                    .iter()
                    .filter(|e| &e.task_arn == task_arn && !e.status_at(now).is_terminal())
                    .map(|e| e.arn.clone())
                    .collect(),
            )),
            Command::CancelExecution { execution_arn } => {
                let Some(e) = w.executions.iter_mut().find(|e| &e.arn == execution_arn) else {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("{execution_arn} not found"),
                    ));
                };
                if e.status_at(now).is_terminal() || e.cancelled_at.is_some() {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("{execution_arn} is not running"),
                    ));
                }
                let cancelled = now.duration_since(e.started_at).as_secs_f64().max(0.0);
                e.cancelled_at = Some(now);
                e.schedule.error_after_secs = Some(cancelled + world::CANCEL_SECS);
                // The others share what it no longer uses.
                w.replan(now, None);
                Ok(Response::ExecutionCancelled)
            }
            Command::DeleteTask { task_arn } => {
                // Assumption (DataSync documents no answer): a task with an execution that has not ended cannot
                // be deleted; fsx-migrate cancels and waits first either way.
                if let Some(running) = w.running_execution(task_arn, now) {
                    return Err(rejected(
                        op,
                        "InvalidRequestException",
                        format!("task {task_arn} has execution {} running", running.arn),
                    ));
                }
                w.tasks.retain(|t| &t.arn != task_arn);
                Ok(Response::Deleted { id: task_arn.clone() })
            }
            Command::DeleteLocation { location_arn } => {
                w.locations.retain(|l| &l.arn != location_arn);
                Ok(Response::Deleted {
                    id: location_arn.clone(),
                })
            }
            Command::RunPowerShell(req) => {
                if !req.instance_id.starts_with("i-") && !req.instance_id.starts_with("mi-") {
                    return Err(rejected(
                        op,
                        "InvalidInstanceId",
                        format!("{} is not a valid managed node", req.instance_id),
                    ));
                }
                let id = format!(
                    "{}-{}-{}-{}-{}",
                    w.hex_id(8),
                    w.hex_id(4),
                    w.hex_id(4),
                    w.hex_id(4),
                    w.hex_id(12)
                );
                let (result, error) = if req.call.script == crate::cloud::windows::WindowsScript::Logon {
                    match w.run_logon_script(&req.call) {
                        Ok(result) => (Some(result), None),
                        Err(error) => (None, Some(error)),
                    }
                } else {
                    (w.run_service_script(&req.call), None)
                };
                w.ssm_commands.push(SimCommand {
                    id: id.clone(),
                    instance_id: req.instance_id.clone(),
                    comment: req.comment.clone(),
                    script: req.call.script,
                    endpoint: req.call.endpoint.clone(),
                    shares_json: req.call.shares_json.clone(),
                    service_json: req.call.service_json.clone(),
                    result,
                    error,
                    sent_at: now,
                });
                Ok(Response::PowerShellSent { command_id: id })
            }
            Command::FindPowerShell { instance_id, comment } => Ok(Response::PowerShellCommands(
                w.ssm_commands
                    .iter()
                    .rev()
                    .filter(|c| &c.instance_id == instance_id && &c.comment == comment)
                    .map(|c| c.id.clone())
                    .collect(),
            )),
            Command::GetPowerShell {
                command_id,
                instance_id,
            } => w
                .ssm_commands
                .iter()
                .find(|c| &c.id == command_id && &c.instance_id == instance_id)
                .map(|c| Response::PowerShellInvocation(c.invocation_at(now)))
                .ok_or_else(|| {
                    not_found(
                        op,
                        "InvocationDoesNotExist",
                        format!("no invocation of command {command_id} on {instance_id}"),
                    )
                }),
            Command::DescribeAliases { file_system_id } => {
                if w.file_system_at(file_system_id, now).is_none() {
                    return Err(not_found(
                        op,
                        "FileSystemNotFound",
                        format!("File system '{file_system_id}' does not exist."),
                    ));
                }
                Ok(Response::Aliases {
                    file_system_id: file_system_id.clone(),
                    aliases: w.aliases_at(file_system_id, now),
                })
            }
            Command::AssociateAliases {
                file_system_id,
                aliases,
                ..
            } => {
                for name in aliases {
                    let name = name.to_lowercase();
                    // Assumption: FSx refuses an alias another file system still has (also while DELETING).
                    let others = std::iter::once(w.source.id.clone())
                        .chain(w.targets.iter().map(|t| t.info.id.clone()))
                        .filter(|id| id != file_system_id);
                    let elsewhere = others
                        .into_iter()
                        .any(|id| w.aliases_at(&id, now).iter().any(|a| a.name == name));
                    if elsewhere {
                        return Err(rejected(
                            op,
                            "BadRequest",
                            format!("Alias {name} is already associated with another file system"),
                        ));
                    }
                }
                for name in aliases {
                    let name = name.to_lowercase();
                    if !w.aliases_at(file_system_id, now).iter().any(|a| a.name == name) {
                        w.aliases.push(SimAlias {
                            name,
                            file_system_id: file_system_id.clone(),
                            associated_at: now,
                            disassociated_at: None,
                        });
                    }
                }
                Ok(Response::AliasesChanged {
                    file_system_id: file_system_id.clone(),
                })
            }
            Command::DisassociateAliases {
                file_system_id,
                aliases,
                ..
            } => {
                let current = w.aliases_at(file_system_id, now);
                for name in aliases {
                    let name = name.to_lowercase();
                    match current.iter().find(|a| a.name == name) {
                        None => {
                            return Err(rejected(
                                op,
                                "BadRequest",
                                format!("Alias {name} is not associated with {file_system_id}"),
                            ));
                        }
                        Some(a) if a.lifecycle == crate::cloud::model::AliasLifecycle::Deleting => {}
                        Some(_) => match w.aliases.iter_mut().find(|a| {
                            a.name == name
                                && &a.file_system_id == file_system_id
                                && a.disassociated_at.is_none()
                        }) {
                            Some(alias) => alias.disassociated_at = Some(now),
                            None => w.aliases.push(SimAlias {
                                name,
                                file_system_id: file_system_id.clone(),
                                associated_at: Timestamp::UNIX_EPOCH,
                                disassociated_at: Some(now),
                            }),
                        },
                    }
                }
                Ok(Response::AliasesChanged {
                    file_system_id: file_system_id.clone(),
                })
            }
            Command::FindRecord {
                hosted_zone_id,
                record_name,
            } => {
                if w.hosted_zone_id != *hosted_zone_id {
                    return Err(not_found(
                        op,
                        "NoSuchHostedZone",
                        format!("No hosted zone found with ID: {hosted_zone_id}"),
                    ));
                }
                Ok(Response::Record(
                    w.records.iter().find(|r| dns_eq(&r.name, record_name)).cloned(),
                ))
            }
            Command::DeleteFileSystem { file_system_id, .. } => {
                if *file_system_id == w.source.id {
                    w.violations
                        .push(format!("{now}: DeleteFileSystem of the source {file_system_id}"));
                    return Err(rejected(op, "BadRequest", "the simulator keeps its source"));
                }
                let lifecycle = w.file_system_at(file_system_id, now).map(|f| f.lifecycle);
                let target = w.targets.iter_mut().find(|t| &t.info.id == file_system_id);
                let (Some(lifecycle), Some(target)) = (lifecycle, target) else {
                    return Err(not_found(
                        op,
                        "FileSystemNotFound",
                        format!("File system '{file_system_id}' does not exist."),
                    ));
                };
                if lifecycle == Lifecycle::Creating {
                    return Err(rejected(
                        op,
                        "BadRequest",
                        format!("File system '{file_system_id}' is CREATING and cannot be deleted yet"),
                    ));
                }
                target.deleted_at.get_or_insert(now);
                Ok(Response::Deleted {
                    id: file_system_id.clone(),
                })
            }
        }
    }

    fn create_target(
        &mut self,
        req: &CreateTargetRequest,
        now: Timestamp,
        fails: bool,
    ) -> Result<Response, CloudError> {
        let w = &mut self.world;
        let fingerprint = World::request_fingerprint(req);
        if let Some(existing) = w
            .targets
            .iter()
            .find(|t| t.client_request_token == req.client_request_token)
        {
            if existing.request_json != fingerprint {
                return Err(rejected(
                    "fsx:CreateFileSystem",
                    "IncompatibleParameterError",
                    "A file system with the same client request token exists with different parameters",
                ));
            }
            let id = existing.info.id.clone();
            return Ok(Response::FileSystem(
                w.file_system_at(&id, now).expect("target exists"),
            ));
        }
        if let Some(plan) = req.tags.get(PLAN_TAG)
            && w.targets
                .iter()
                .any(|t| t.info.settings.tags.get(PLAN_TAG) == Some(plan))
        {
            w.violations.push(format!(
                "{now}: a second target file system was created for plan {plan}"
            ));
        }
        let id = format!("fs-{}", w.hex_id(17));
        let mut settings = req.settings.clone();
        settings.tags = req.tags.clone();
        let dns_name = format!("amznfsx{}.corp.example.com", w.hex_id(8));
        let info = FileSystemInfo {
            arn: format!("arn:aws:fsx:{}:{}:file-system/{id}", w.region, w.account),
            // A Multi-AZ file system's PowerShell endpoint is a name of its own.
            remote_administration_endpoint: Some(dns_name.replacen("amznfsx", "amznfsxadmin", 1)),
            aliases: Vec::new(),
            dns_name,
            id,
            file_system_type: crate::cloud::model::FileSystemType::Windows,
            deployment_type: DeploymentType::MultiAz1,
            lifecycle: Lifecycle::Creating,
            failure_message: None,
            vpc_id: w.source.vpc_id.clone(),
            subnet_ids: req.subnet_ids.clone(),
            security_group_ids: req.security_group_ids.clone(),
            settings,
        };
        w.targets.push(SimTarget {
            info: info.clone(),
            client_request_token: req.client_request_token.clone(),
            request_json: fingerprint,
            created_at: now,
            fails,
            deleted_at: None,
        });
        Ok(Response::FileSystem(
            w.file_system_at(&info.id, now).expect("just created"),
        ))
    }

    fn start_execution(
        &mut self,
        req: &StartExecutionRequest,
        now: Timestamp,
        fails: bool,
    ) -> Result<Response, CloudError> {
        let op = "datasync:StartTaskExecution";
        let w = &mut self.world;
        if !w.tasks.iter().any(|t| t.arn == req.task_arn) {
            return Err(rejected(
                op,
                "InvalidRequestException",
                format!("{} not found", req.task_arn),
            ));
        }
        if let Some(running) = w.running_execution(&req.task_arn, now) {
            let message = format!(
                "task {} already has execution {} running",
                req.task_arn, running.arn
            );
            w.violations
                .push(format!("{now}: StartTaskExecution while {}", running.arn));
            return Err(rejected(op, "InvalidRequestException", message));
        }
        let reverse = w.tasks.iter().any(|t| t.arn == req.task_arn && t.reverse);
        if reverse != (req.kind == SyncKind::Reverse) {
            w.violations.push(format!(
                "{now}: a {} sync started on {} task {}",
                req.kind,
                if reverse { "a reverse" } else { "a forward" },
                req.task_arn
            ));
        }
        // An execution's own Includes replace its task's (its Excludes stay the task's).
        let folders = req.includes.as_ref().map(|includes| {
            let excludes = w
                .tasks
                .iter()
                .find(|t| t.arn == req.task_arn)
                .map_or(&[][..], |t| t.excludes.as_slice());
            self::folders::covered(&w.data.folders, includes, excludes)
        });
        let listed = w.listing_entries(
            folders
                .as_deref()
                .unwrap_or_else(|| w.task_folders(&req.task_arn)),
            now,
        );
        let mut schedule = ExecutionSchedule::launching(&w.model, listed);
        // A skip can only hit files the run copies (clamped once its listing says how many).
        schedule.skipped_files = std::mem::take(&mut self.skip_files);
        let arn = format!("{}/execution/exec-{}", req.task_arn, w.hex_id(17));
        w.executions.push(SimExecution {
            arn: arn.clone(),
            task_arn: req.task_arn.clone(),
            kind: req.kind,
            started_at: now,
            tags: req.tags.clone(),
            remove_deleted: req.overrides.preserve_deleted_files == PreserveDeletedFiles::Remove,
            verify_mode: req.overrides.verify_mode.clone(),
            fault_error: fails,
            reverse,
            bytes_per_second: req.bytes_per_second,
            cancelled_at: None,
            folders,
            schedule,
        });
        w.replan(now, Some(w.executions.len() - 1));
        Ok(Response::ExecutionStarted { arn })
    }
}

impl CloudPort for SimPort {
    /// Every call that changes the world (or a fault rule's count) is written before its answer; a call that
    /// only observed is written with the next one, or before the next checkpoint (`settle`). A rehearsal
    /// writes its world a few hundred times instead of thousands; a process killed between a read and the
    /// next write loses only that read's counts, never a clock a checkpoint relies on.
    async fn execute(&mut self, command: &Command) -> Result<Response, CloudError> {
        let now = self.now();
        self.world.last_seen = now;
        let faults_before: Vec<u64> = self.world.faults.iter().map(|f| f.seen).collect();
        let result = self.handle(command, now);
        let faults_after: Vec<u64> = self.world.faults.iter().map(|f| f.seen).collect();
        self.unwritten = true;
        if command.is_mutating() || self.lost_response.is_some() || faults_before != faults_after {
            self.settle()?;
        }
        // Fault `lost_response`: the call was carried out (and persisted), its answer never arrives.
        match self.lost_response.take() {
            Some(lost) => Err(lost),
            None => result,
        }
    }

    fn settle(&mut self) -> Result<(), CloudError> {
        if self.unwritten && !self.read_only {
            self.persist(Layout::Compact)?;
            self.unwritten = false;
        }
        Ok(())
    }
}

impl Drop for SimPort {
    /// The last observations are written when the process ends normally (a killed one loses only them),
    /// indented for whoever reads the file next.
    fn drop(&mut self) {
        if self.path.is_some() && !self.read_only {
            let _ = self.persist(Layout::Readable);
        }
    }
}

/// The tags of the source or a target, by ARN (FSx TagResource and UntagResource).
fn file_system_tags<'w>(
    w: &'w mut World,
    op: &str,
    arn: &str,
) -> Result<&'w mut BTreeMap<String, String>, CloudError> {
    if w.source.arn == arn {
        return Ok(&mut w.source.settings.tags);
    }
    w.targets
        .iter_mut()
        .find(|t| t.info.arn == arn)
        .map(|t| &mut t.info.settings.tags)
        .ok_or_else(|| {
            not_found(
                op,
                "ResourceNotFound",
                format!("The resource ARN {arn} does not exist"),
            )
        })
}

/// Why a password source would not resolve on this ops box (the simulated DataSync needs one too).
/// `prompt` and Secrets Manager sources are taken as resolvable: the simulator has no terminal or secrets.
fn unresolved_password(source: &PasswordSource) -> Option<String> {
    match source {
        PasswordSource::Env(var) => match std::env::var_os(var) {
            Some(value) if !value.is_empty() => None,
            Some(_) => Some(format!("{source}: the environment variable {var} is empty")),
            None => Some(format!("{source}: the environment variable {var} is not set")),
        },
        PasswordSource::Prompt | PasswordSource::SecretsManager(_) => None,
    }
}

/// The current simulated time of a persisted world.
pub fn now_of(world: &World) -> Timestamp {
    scaled_clock(world).now().max(world.last_seen)
}

fn scaled_clock(world: &World) -> Clock {
    match world.anchor_real {
        Some(anchor_real) => Clock::Scaled {
            anchor_real,
            anchor_sim: world.anchor_sim,
            speed: world.speed,
        },
        None => Clock::virtual_at(world.anchor_sim.max(world.last_seen)),
    }
}

fn validated_speed(speed: Option<SimSpeed>) -> Result<Option<SimSpeed>, Failure> {
    if let Some(SimSpeed::Scaled(speed)) = speed {
        check_sim_speed("--sim-speed", speed).map_err(|e| {
            Failure::user(format!("--sim-speed {} is out of range", model::show_f64(speed)))
                .cause(format!("--sim-speed must be {}", e.allowed))
                .hint("e.g. --sim-speed 600 runs ten simulated minutes per real second")
        })?;
    }
    Ok(speed)
}

/// Reads a world file and checks it (see [`World::validate`]): a hand-edited world with a value the model
/// cannot use is refused here, never by a panic later.
pub fn load_world(path: &Path) -> Result<World, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        io_failure("read simulated world", path, e).hint("create one with `fsx-migrate sim init WORLD.json`")
    })?;
    let invalid = || Failure::user(format!("invalid simulated world {}", path.display()));
    // The version first: a world of another version has other fields, and deserialising it would only say
    // which field is wrong.
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| invalid().cause(e))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(world::WORLD_VERSION)) {
        let found = version.map_or_else(|| "no version".to_string(), |v| format!("version {v}"));
        return Err(Failure::user(format!(
            "the simulated world {} is {found}; this fsx-migrate reads version {}",
            path.display(),
            world::WORLD_VERSION
        ))
        .cause("worlds before version 2 have no folder tree, which lanes and `sim inventory` need")
        .hint("create it again with `fsx-migrate sim init WORLD.json --force` (and the same --scenario or sizes)"));
    }
    let world: World = serde_json::from_value(value).map_err(|e| invalid().cause(e))?;
    world.validate().map_err(|e| {
        Failure::user(format!("invalid simulated world {}", path.display()))
            .cause(e)
            .hint("fix the value in the world file, or create a new world with `fsx-migrate sim init`")
    })?;
    Ok(world)
}

/// How a world file is laid out: indented for people where a process leaves it, compact while one runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Readable,
    Compact,
}

pub fn save_world(path: &Path, world: &World) -> Result<(), Failure> {
    write_world(path, world, Layout::Readable)
}

fn write_world(path: &Path, world: &World, layout: Layout) -> Result<(), Failure> {
    let text = match layout {
        Layout::Readable => serde_json::to_string_pretty(world),
        Layout::Compact => serde_json::to_string(world),
    }
    .expect("worlds serialise");
    write_atomically_with(path, text.as_bytes(), Durability::ProcessCrash)
}

/// The world and its derived state as `sim show` prints it.
pub fn show(world: &World, now: Timestamp) -> serde_json::Value {
    let targets: Vec<FileSystemInfo> = world
        .targets
        .iter()
        .filter_map(|t| world.file_system_at(&t.info.id, now))
        .collect();
    let executions: Vec<serde_json::Value> = world
        .executions
        .iter()
        .map(|e| {
            serde_json::json!({
                "kind": e.kind,
                "task_arn": e.task_arn,
                "started_at": e.started_at,
                "entries_listed": e.schedule.entries,
                "info": e.info_at(now),
            })
        })
        .collect();
    // What each task copies: its lane, filters, and the files and entries (one side) of its folders.
    let tasks: Vec<serde_json::Value> = world
        .tasks
        .iter()
        .map(|t| {
            let covered = t.folders.iter().map(|&i| &world.data.folders[i as usize]);
            serde_json::json!({
                "arn": t.arn,
                "lane": lane_of(&t.tags),
                "includes": t.includes,
                "excludes": t.excludes,
                "files": covered.clone().map(|f| f.files).sum::<u64>(),
                "entries": covered.map(folders::Folder::entries).sum::<u64>(),
            })
        })
        .collect();
    let mut counts = BTreeMap::new();
    counts.insert("locations", world.locations.len());
    counts.insert("tasks", world.tasks.len());
    serde_json::json!({
        "now": now,
        "scenario": world.scenario,
        "speed": if world.event_time { serde_json::json!("max") } else { serde_json::json!(world.speed) },
        "data": world.data,
        "model": world.model,
        "source": world.source,
        "source_frozen_at": world.writes.frozen_at,
        "source_writes_resumed_at": world.writes.resumed_at,
        "targets": targets,
        "datasync": counts,
        "tasks": tasks,
        "executions": executions,
        "records": world.records,
        "faults": world.faults,
        "accounting": world.accounting(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::faults::FaultRule;
    use crate::sim::scenario::{self, ScenarioSpec};

    fn small() -> World {
        scenario::build(&ScenarioSpec::named("small").unwrap(), epoch())
    }

    fn freeze(world: &World) -> Command {
        Command::MarkFrozen {
            file_system_arn: world.source.arn.clone(),
            plan_id: "fxm-test".into(),
        }
    }

    #[tokio::test]
    async fn a_lost_response_is_carried_out_then_answered_with_a_timeout() {
        let mut world = small();
        world
            .faults
            .push(FaultRule::parse("lost_response,op=fsx:TagResource").unwrap());
        let freeze = freeze(&world);
        let mut port = SimPort::in_memory(world, Clock::virtual_at(epoch()));
        let error = port.execute(&freeze).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Transient);
        assert_eq!(error.code, "RequestTimeout");
        assert_eq!(error.operation, "fsx:TagResource");
        assert_eq!(port.world.writes.frozen_at, Some(epoch()), "the call happened");
        assert_eq!(port.world.source.settings.tags[FROZEN_TAG], "fxm-test");
        assert_eq!(port.world.api_calls["fsx:TagResource"], 1);
        assert_eq!(port.world.faults[0].fired, 1);
        // times=1: the next call gets its answer.
        assert_eq!(port.execute(&freeze).await, Ok(Response::MarkedFrozen));
    }

    #[tokio::test]
    async fn a_call_level_fault_still_stops_the_call() {
        let mut world = small();
        world
            .faults
            .push(FaultRule::parse("timeout,op=fsx:TagResource").unwrap());
        let freeze = freeze(&world);
        let mut port = SimPort::in_memory(world, Clock::virtual_at(epoch()));
        assert_eq!(port.execute(&freeze).await.unwrap_err().code, "RequestTimeout");
        assert_eq!(
            port.world.writes.frozen_at, None,
            "a plain timeout never reached the service"
        );
    }

    #[tokio::test]
    async fn one_process_at_a_time_holds_a_world_and_readers_get_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        save_world(&path, &small()).unwrap();
        let mut first = SimPort::open(&path, None, false).unwrap();
        assert!(first.holds_lock());
        let refused = SimPort::open(&path, None, true).unwrap_err();
        assert!(
            refused
                .message
                .contains("another fsx-migrate process uses the simulated world"),
            "{refused}"
        );
        assert!(
            refused.causes[0].contains(&format!("pid {}", std::process::id())),
            "{refused}"
        );
        assert!(
            SimPort::open_for_reading(&path, Some(SimSpeed::Scaled(10.0))).is_err(),
            "--sim-speed would write"
        );

        let mut reader = SimPort::open_for_reading(&path, None).unwrap();
        assert!(!reader.holds_lock());
        let before = std::fs::read_to_string(&path).unwrap();
        let found = reader
            .execute(&Command::DescribeFileSystem {
                file_system_id: scenario::SOURCE_ID.into(),
            })
            .await;
        assert!(matches!(found, Ok(Response::FileSystem(_))), "{found:?}");
        let refused = reader.execute(&freeze(&small())).await.unwrap_err();
        assert_eq!(refused.code, "SimulatorWorldInUse");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            before,
            "the reader wrote the world"
        );

        first.execute(&freeze(&small())).await.unwrap();
        drop(first);
        let second = SimPort::open(&path, None, false).unwrap();
        assert!(
            second.world.writes.frozen_at.is_some(),
            "reads what the first holder wrote"
        );
        drop(second);

        // The demo's way: lock, then write its own world on its own clock.
        let lock = WorldLock::acquire(&path).unwrap();
        let demo = SimPort::persisted(small(), &path, Clock::virtual_at(epoch())).holding(lock);
        assert!(demo.holds_lock());
        assert!(SimPort::open(&path, None, true).is_err());
    }

    #[test]
    fn a_world_file_with_a_bad_value_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let mut world = small();
        world.model.prepare_files_per_sec = 0.0;
        save_world(&path, &world).unwrap();
        let refused = load_world(&path).unwrap_err();
        assert!(refused.message.contains("invalid simulated world"), "{refused}");
        assert_eq!(
            refused.causes,
            ["model.prepare_files_per_sec = 0 is out of range: it must be between 1 and 1000000000"]
        );
        assert!(SimPort::open(&path, None, true).is_err());
    }

    #[test]
    fn a_sim_speed_out_of_range_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        save_world(&path, &small()).unwrap();
        for speed in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e15] {
            let refused = SimPort::open(&path, Some(SimSpeed::Scaled(speed)), true).unwrap_err();
            assert!(refused.message.starts_with("--sim-speed"), "{refused}");
        }
        SimPort::open(&path, Some(SimSpeed::Scaled(1e6)), true).unwrap();
    }
}
