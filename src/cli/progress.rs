//! Progress on the terminal: a line for the phase and a bar per lane's running DataSync execution (files, bytes, rate,
//! ETA, all in the migration's own time), drawn with indicatif; logs go through tracing above the bars.
//! When stderr is not a terminal, indicatif draws nothing and only the log lines remain.

use std::collections::BTreeMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

use super::heartbeat::Heartbeat;
use crate::cloud::model::{ExecutionInfo, SyncKind};
use crate::cloud::port::CloudError;
use crate::core::{Action, Event};
use crate::engine::driver::Observer;
use crate::plan::Checkpoint;
use crate::plan::units::{Bytes, Duration};

/// The terminal observer.
pub struct Progress {
    multi: MultiProgress,
    phase: ProgressBar,
    /// Per lane: the execution shown and its bar.
    executions: BTreeMap<String, (String, ProgressBar)>,
    /// The run record `status` reads: told when the run starts or stops asking a question.
    heartbeat: Option<Heartbeat>,
    /// Without a terminal the bars draw nothing: each lane's progress is logged this often instead.
    log_every: Option<Duration>,
    /// Per lane: when its progress was last logged.
    logged_at: BTreeMap<String, Timestamp>,
}

impl Progress {
    pub fn new(multi: MultiProgress) -> Progress {
        let phase = multi.add(ProgressBar::new_spinner());
        phase.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        Progress {
            multi,
            phase,
            executions: BTreeMap::new(),
            heartbeat: None,
            log_every: (!std::io::IsTerminal::is_terminal(&std::io::stderr())).then_some(LOG_EVERY),
            logged_at: BTreeMap::new(),
        }
    }

    /// Keeps `heartbeat` told of the questions the run asks.
    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Progress {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// A MultiProgress on stderr (hidden when stderr is not a terminal).
    pub fn stderr_target() -> MultiProgress {
        MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8))
    }

    fn execution_bar(&mut self, lane: &str, kind: SyncKind, info: &ExecutionInfo) -> &ProgressBar {
        let fresh = self.executions.get(lane).is_none_or(|(arn, _)| *arn != info.arn);
        if fresh {
            if let Some((_, old)) = self.executions.remove(lane) {
                old.finish_and_clear();
            }
            let bar = self.multi.add(ProgressBar::new(1));
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<12} [{bar:30}] {percent:>3}% {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{lane} {kind}"));
            self.executions.insert(lane.to_string(), (info.arn.clone(), bar));
        }
        &self.executions[lane].1
    }

    fn show_execution(
        &mut self,
        lane: &str,
        kind: SyncKind,
        info: &ExecutionInfo,
        cp: &Checkpoint,
        now: Timestamp,
    ) {
        let message = execution_line(lane, kind, info, cp, now);
        let c = &info.counters;
        if let Some(every) = self.log_every {
            let due = self
                .logged_at
                .get(lane)
                .is_none_or(|at| crate::core::lane::secs_between(*at, now) >= every);
            if due {
                self.logged_at.insert(lane.to_string(), now);
                tracing::info!("{now} lane {lane} {kind}: {message}");
            }
        }
        let bar = self.execution_bar(lane, kind, info);
        bar.set_length(c.estimated_bytes_to_transfer.max(1));
        bar.set_position(c.bytes_transferred);
        bar.set_message(message);
    }
}

/// How often a lane's progress is logged when there is no terminal to draw bars on.
const LOG_EVERY: Duration = Duration::mins(5);

/// One running execution in words: while it lists (no counts yet), how long it has listed against how long
/// the lane's last run of the same kind listed; while it copies, files, bytes, rate and ETA; while it
/// verifies, how long against the last verification.
fn execution_line(
    lane: &str,
    kind: SyncKind,
    info: &ExecutionInfo,
    cp: &Checkpoint,
    now: Timestamp,
) -> String {
    use crate::cloud::model::ExecutionStatus as S;
    let last = cp
        .forward
        .lanes
        .iter()
        .chain(&cp.reverse.lanes)
        .find(|l| l.name == lane)
        .and_then(|l| l.last_success(kind));
    let elapsed = info
        .started_at
        .map(|t| crate::core::lane::secs_between(t, now))
        .unwrap_or(Duration(0));
    let against = |ms: Option<u64>| match ms {
        Some(ms) => format!(" (the last {kind} run: {})", Duration(ms / 1000)),
        None => String::new(),
    };
    match info.status {
        S::Queued | S::Launching | S::Preparing => format!(
            "{} for {elapsed}{}",
            info.status,
            against(last.map(|l| l.durations.prepare_ms))
        ),
        S::Verifying => {
            // ETA: the lane's last verification of this kind less what this one has verified for.
            let eta = last
                .map(|l| l.durations.verify_ms.saturating_sub(info.durations.verify_ms) / 1000)
                .map_or(String::new(), |secs| format!(", ETA about {}", Duration(secs)));
            format!(
                "VERIFYING {} files{}{eta}",
                info.counters.files_transferred,
                against(last.map(|l| l.durations.verify_ms))
            )
        }
        _ => transfer_line(info),
    }
}

fn transfer_line(info: &ExecutionInfo) -> String {
    let c = &info.counters;
    let transfer_secs = info.durations.transfer_ms as f64 / 1000.0;
    let rate = if transfer_secs > 0.0 {
        c.bytes_transferred as f64 / transfer_secs
    } else {
        0.0
    };
    let remaining = c.estimated_bytes_to_transfer.saturating_sub(c.bytes_transferred) as f64;
    let eta = if rate > 0.0 {
        format!("ETA {}", Duration((remaining / rate) as u64))
    } else {
        String::new()
    };
    format!(
        "{} | {}/{} files | {}/{} | {}/s {eta}",
        info.status,
        c.files_transferred,
        c.estimated_files_to_transfer,
        Bytes(c.bytes_transferred),
        Bytes(c.estimated_bytes_to_transfer),
        Bytes(rate as u64),
    )
}

impl Observer for Progress {
    fn event(&mut self, event: &Event, checkpoint: &Checkpoint, now: Timestamp) {
        match event {
            Event::PhaseEntered(phase) => {
                tracing::info!("{now} phase {phase}");
                self.phase.set_message(format!("{phase}"));
            }
            Event::TargetLifecycle(lifecycle) => self
                .phase
                .set_message(format!("wait_target: target is {lifecycle}")),
            Event::Execution { lane, kind, info } => self.show_execution(lane, *kind, info, checkpoint, now),
            Event::SyncFinished { lane, record } => {
                if let Some((_, bar)) = self.executions.remove(lane) {
                    bar.finish_and_clear();
                }
                tracing::info!(
                    "{now} lane {lane}: {} sync {}: {} files, {} in {}{}",
                    record.kind,
                    record.status,
                    record.counters.files_transferred,
                    Bytes(record.counters.bytes_transferred),
                    Duration(record.elapsed_secs()),
                    record
                        .error_code
                        .as_ref()
                        .map_or(String::new(), |c| format!(" ({c})"))
                );
            }
            Event::Finding(finding) => tracing::warn!("{finding}"),
            Event::Note(note) => tracing::info!("{now} {note}"),
        }
        self.phase.tick();
    }

    fn action(&mut self, action: &Action, checkpoint: &Checkpoint, _now: Timestamp) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.asking(match action {
                Action::Confirm(confirmation) => Some(confirmation.kind),
                _ => None,
            });
        }
        let phase = checkpoint.phase();
        match action {
            Action::WaitUntil { reason, .. } => self.phase.set_message(format!("{phase}: {reason}")),
            Action::Call(command) => {
                tracing::debug!("{}", crate::cli::report::render_call(command));
            }
            _ => {}
        }
        self.phase.tick();
    }

    fn retrying(&mut self, error: &CloudError, attempt: u32, backoff: Duration) {
        tracing::warn!("{error} (retryable; attempt {attempt}, next try in {backoff})");
    }

    fn suspend(&mut self, f: &mut dyn FnMut()) {
        self.multi.suspend(f)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        for (_, bar) in self.executions.values() {
            bar.finish_and_clear();
        }
        self.phase.finish_and_clear();
    }
}

/// A tracing writer that prints above the bars instead of through them.
#[derive(Clone)]
pub struct LogWriter(pub MultiProgress);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut result = Ok(buf.len());
        self.0.suspend(|| {
            if let Err(e) = std::io::stderr().write_all(buf) {
                result = Err(e);
            }
        });
        result
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        self.clone()
    }
}
