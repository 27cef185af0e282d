//! Reading and writing the plan file on disk: parse errors with line and column, atomic checkpoint writes
//! that keep the operator's text byte for byte, and the lock that keeps two runs off one plan.
//!
//! The file is the operator's intent followed by a marker line and the tool-managed `[checkpoint]` table.
//! Saving a checkpoint re-reads the file, keeps everything above the marker unchanged, and replaces what is
//! below it — so comments and formatting in the intent survive every write.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::intent::{
    CutoverPolicy, Dns, Intent, Migration, SCHEMA_VERSION, Source, SyncPolicy, Target, Transfer,
};
use crate::error::{Failure, io_failure};

/// Everything below this line is rewritten by the tool.
pub const CHECKPOINT_MARKER: &str =
    "# ---- checkpoint: managed by fsx-migrate; edits below this line are overwritten ----";

/// A plan file as loaded: the intent, the checkpoint and where it lives.
#[derive(Debug, Clone)]
pub struct PlanFile {
    pub path: PathBuf,
    pub intent: Intent,
    pub checkpoint: Checkpoint,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    schema_version: u32,
    migration: Migration,
    source: Source,
    target: Target,
    transfer: Transfer,
    sync: SyncPolicy,
    cutover: CutoverPolicy,
    dns: Dns,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<toml::Value>,
}

#[derive(Serialize)]
struct CheckpointDocument<'a> {
    checkpoint: &'a Checkpoint,
}

impl PlanFile {
    /// Reads and validates a plan file. Errors name the field and its line.
    pub fn load(path: &Path) -> Result<PlanFile, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| io_failure("read plan file", path, e))?;
        let (intent, checkpoint) = parse(&text).map_err(|f| Failure {
            message: format!("invalid plan file {}: {}", path.display(), f.message),
            ..f
        })?;
        Ok(PlanFile {
            path: path.to_path_buf(),
            intent,
            checkpoint,
        })
    }

    /// Atomically replaces the checkpoint section (write temp, fsync, rename, fsync dir).
    pub fn save_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let text =
            std::fs::read_to_string(&self.path).map_err(|e| io_failure("read plan file", &self.path, e))?;
        let new_text = with_checkpoint(&text, checkpoint);
        write_atomically(&self.path, new_text.as_bytes())?;
        self.checkpoint = checkpoint.clone();
        Ok(())
    }
}

/// Parses plan text into its intent and checkpoint.
pub fn parse(text: &str) -> Result<(Intent, Checkpoint), Failure> {
    let version: VersionOnly = toml::from_str(text).map_err(|e| toml_failure(text, &e))?;
    match version.schema_version {
        None => {
            return Err(Failure::user("missing field `schema_version`").hint(format!(
                "add `schema_version = {SCHEMA_VERSION}` at the top of the plan file"
            )));
        }
        Some(toml::Value::Integer(v)) if v == i64::from(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(Failure::user(format!(
                "unsupported schema_version {other}: this fsx-migrate reads version {SCHEMA_VERSION}"
            ))
            .hint("use the fsx-migrate release that wrote this plan, or create a new plan with `fsx-migrate plan`"));
        }
    }
    let doc: Document = toml::from_str(text).map_err(|e| toml_failure(text, &e))?;
    let _ = doc.schema_version;
    let intent = Intent {
        migration: doc.migration,
        source: doc.source,
        target: doc.target,
        transfer: doc.transfer,
        sync: doc.sync,
        cutover: doc.cutover,
        dns: doc.dns,
    };
    Ok((intent, doc.checkpoint.unwrap_or_default()))
}

/// Keeps the toml crate's message (it names the field) and adds the line and column of the problem.
fn toml_failure(text: &str, err: &toml::de::Error) -> Failure {
    let message = match err.span() {
        Some(span) => {
            let (line, column) = line_and_column(text, span.start);
            format!("{} at line {line}, column {column}", err.message().trim_end())
        }
        None => err.message().trim_end().to_string(),
    };
    Failure::user(message).cause(err.to_string().trim_end())
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, column)
}

/// Returns `text` with its checkpoint section replaced by `checkpoint`.
pub fn with_checkpoint(text: &str, checkpoint: &Checkpoint) -> String {
    let intent_part = match text.find(CHECKPOINT_MARKER) {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = intent_part.trim_end().to_string();
    out.push_str("\n\n");
    out.push_str(CHECKPOINT_MARKER);
    out.push('\n');
    if checkpoint.has_started() {
        out.push_str(&toml::to_string(&CheckpointDocument { checkpoint }).expect("checkpoint serialises"));
    }
    out
}

/// Writes a file so that a reader sees the old or the new content, never a mix (invariant 4).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut file =
        atomic_write_file::AtomicWriteFile::open(path).map_err(|e| io_failure("write", path, e))?;
    file.write_all(bytes).map_err(|e| io_failure("write", path, e))?;
    file.commit().map_err(|e| io_failure("write", path, e))
}

/// An exclusive lock on a plan, held for the whole run (released when dropped or when the process dies).
#[derive(Debug)]
pub struct PlanLock {
    _file: File,
}

impl PlanLock {
    /// The lock file that sits beside the plan.
    pub fn path_for(plan: &Path) -> PathBuf {
        let mut name = plan.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".lock");
        plan.with_file_name(name)
    }

    pub fn acquire(plan: &Path) -> Result<PlanLock, Failure> {
        let path = Self::path_for(plan);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_failure("open lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Failure::user(format!(
                    "another fsx-migrate run holds the lock on {}",
                    plan.display()
                ))
                .cause(format!(
                    "lock file {} is held by {}",
                    path.display(),
                    holder.trim()
                ))
                .hint("wait for that run to finish, or stop it (Ctrl-C) and run this command again"));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_failure("lock", &path, e)),
        }
        file.set_len(0)
            .map_err(|e| io_failure("write lock file", &path, e))?;
        let _ = write!(file, "pid {}", std::process::id());
        Ok(PlanLock { _file: file })
    }
}
