//! Reading and writing the plan file on disk: parse errors with line and column, atomic checkpoint writes
//! that keep the operator's text byte for byte, and the lock that keeps two runs off one plan.
//!
//! The file is the operator's intent followed by a marker line and the tool-managed `[checkpoint]` table.
//! Saving a checkpoint re-reads the file, keeps everything above the marker unchanged, and replaces what is
//! below it — so comments and formatting in the intent survive every write.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::intent::{
    CutoverPolicy, Dns, Hooks, Intent, Migration, Problem, SCHEMA_VERSION, Source, SyncPolicy, Target,
    Transfer, changed_fields,
};
use crate::error::Failure;
use crate::files::{FileLock, resolve, write_atomically};

/// Everything below this line is rewritten by the tool. It counts only as a whole line of its own, outside
/// any string (see [`find_marker`]).
pub const CHECKPOINT_MARKER: &str =
    "# ---- checkpoint: managed by fsx-migrate; edits below this line are overwritten ----";

/// The largest plan file read. A plan is a few KB; a checkpoint with hundreds of syncs stays far below this.
pub const MAX_PLAN_BYTES: u64 = 1 << 20;

/// The most characters of a parser message shown (it can quote a value of any length).
const MAX_MESSAGE_CHARS: usize = 300;

/// The most problems listed for an invalid intent.
const MAX_PROBLEMS_SHOWN: usize = 20;

/// A plan file as loaded: the intent, the checkpoint and where it lives.
#[derive(Debug, Clone)]
pub struct PlanFile {
    /// The path as given (for messages).
    pub path: PathBuf,
    pub intent: Intent,
    pub checkpoint: Checkpoint,
    /// The file itself, symlinks resolved at load: checkpoints are written there.
    real_path: PathBuf,
    /// The text this process last wrote, checked when written: the same text on disk needs no new parse.
    last_written: Option<String>,
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
    hooks: Option<Hooks>,
    #[serde(default)]
    windows: Option<crate::plan::intent::Windows>,
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
    ///
    /// A checkpoint pinned by an older release with the legacy intent hash (see [`Intent::legacy_sha256`]) is
    /// accepted when that hash matches the intent, and upgraded in memory to the canonical hash, so a plan in
    /// flight resumes across the upgrade; the next checkpoint write stores the canonical hash.
    pub fn load(path: &Path) -> Result<PlanFile, Failure> {
        let text = read_plan_text(path)?;
        let (intent, mut checkpoint) = parse(&text).map_err(|f| Failure {
            message: format!("invalid plan file {}: {}", path.display(), f.message),
            ..f
        })?;
        accept_legacy_hash(&intent, &mut checkpoint);
        Ok(PlanFile {
            path: path.to_path_buf(),
            real_path: resolve(path),
            intent,
            checkpoint,
            last_written: None,
        })
    }

    /// Atomically replaces the checkpoint section (write temp, fsync, rename, fsync dir).
    ///
    /// Refuses, leaving the file untouched, when the file on disk no longer holds this run's intent (edited,
    /// or another plan moved over it), or when the new text would not parse back to the same intent and
    /// checkpoint.
    pub fn save_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let text = read_plan_text(&self.real_path)?;
        if self.last_written.as_deref() != Some(text.as_str()) {
            self.check_on_disk_intent(&text)?;
        }
        let new_text = with_checkpoint(&text, checkpoint);
        let expected = if checkpoint.has_started() {
            checkpoint.clone()
        } else {
            Checkpoint::default()
        };
        match parse(&new_text) {
            Ok((intent, written)) if intent == self.intent && written == expected => {}
            other => {
                let cause = match other {
                    Ok(_) => "it parses to another intent or checkpoint".to_string(),
                    Err(f) => f.message,
                };
                return Err(Failure::internal(format!(
                    "the new checkpoint of {} does not read back as written; the plan file was left untouched",
                    self.path.display()
                ))
                .cause(cause)
                .hint(format!(
                    "check that the marker line is in the file exactly once, on a line of its own, and that \
                     the intent above it holds no [checkpoint] table:\n{CHECKPOINT_MARKER}"
                )));
            }
        }
        write_atomically(&self.real_path, new_text.as_bytes())?;
        self.checkpoint = checkpoint.clone();
        self.last_written = Some(new_text);
        Ok(())
    }

    /// Refuses a file on disk that no longer loads or holds another intent than this run's.
    fn check_on_disk_intent(&self, text: &str) -> Result<(), Failure> {
        let shown = self.path.display();
        let (on_disk, _) = parse(text).map_err(|f| {
            Failure::user(format!(
                "{shown} changed during the run and no longer loads; the checkpoint was not written"
            ))
            .cause(f.message)
            .hint("put back the plan this run started with, then `fsx-migrate resume` it")
        })?;
        if on_disk != self.intent {
            let message = if on_disk.migration.id != self.intent.migration.id {
                format!(
                    "{shown} now holds plan {}, not plan {} that this run is driving; the checkpoint was not written",
                    on_disk.migration.id, self.intent.migration.id
                )
            } else {
                format!("the intent in {shown} changed during the run; the checkpoint was not written")
            };
            let mut failure = Failure::user(message);
            for field in changed_fields(&self.intent.canonical_json(), &on_disk)
                .iter()
                .take(MAX_PROBLEMS_SHOWN)
            {
                failure = failure.cause(field);
            }
            return Err(failure.hint(
                "put back the plan this run started with, then `fsx-migrate resume` it; the file on disk keeps \
                 the checkpoint of the last step that was written",
            ));
        }
        Ok(())
    }
}

/// Replaces a pinned legacy intent hash that matches `intent` with the canonical one (see [`PlanFile::load`]).
pub fn accept_legacy_hash(intent: &Intent, checkpoint: &mut Checkpoint) {
    if let Some(pinned) = &checkpoint.intent_sha256
        && *pinned != intent.sha256()
        && *pinned == intent.legacy_sha256()
    {
        checkpoint.intent_sha256 = Some(intent.sha256());
    }
}

/// Reads a plan file's text: refuses directories, files over [`MAX_PLAN_BYTES`] and non-text before parsing.
pub fn read_plan_text(path: &Path) -> Result<String, Failure> {
    let unreadable =
        |e: std::io::Error| Failure::user(format!("cannot read plan file {}", path.display())).cause(e);
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(
            Failure::user(format!("{} is a directory, not a plan file", path.display()))
                .hint("pass the plan's .toml file (the --out of `fsx-migrate plan`)"),
        );
    }
    let too_big = |size: u64| {
        Failure::user(format!(
            "plan file {} is {:.1} MB; a plan is a few KB",
            path.display(),
            size as f64 / 1e6
        ))
        .hint("check the path: this is not a plan written by `fsx-migrate plan`")
    };
    if meta.len() > MAX_PLAN_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::user(format!(
            "{} is not a plan file: it is not UTF-8 text (byte {} is not)",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
        .hint("check the path: a plan is the TOML file `fsx-migrate plan` writes")
    })
}

/// Parses plan text into its intent and checkpoint, and checks the intent's values (see
/// [`Intent::problems`]).
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
            let shown: String = other.to_string().chars().take(40).collect();
            return Err(Failure::user(format!(
                "unsupported schema_version {shown}: this fsx-migrate reads version {SCHEMA_VERSION}"
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
        hooks: doc.hooks,
        windows: doc.windows,
    };
    let problems = intent.problems();
    if !problems.is_empty() {
        return Err(problems_failure(&problems, Some(text)));
    }
    let mut checkpoint = doc.checkpoint.unwrap_or_default();
    checkpoint.upgrade();
    Ok((intent, checkpoint))
}

/// A failure listing `problems` (at most 20), each with its line in `text` when it can be found.
pub fn problems_failure(problems: &[Problem], text: Option<&str>) -> Failure {
    let mut failure = Failure::user(format!(
        "{} value(s) outside what fsx-migrate and AWS accept",
        problems.len()
    ));
    for problem in problems.iter().take(MAX_PROBLEMS_SHOWN) {
        match text.and_then(|t| find_line(t, &problem.field)) {
            Some(line) => failure = failure.cause(format!("{problem} (line {line})")),
            None => failure = failure.cause(problem),
        }
    }
    if problems.len() > MAX_PROBLEMS_SHOWN {
        failure = failure.cause(format!("… and {} more", problems.len() - MAX_PROBLEMS_SHOWN));
    }
    failure.hint("docs/plan-file.md lists every field's limits")
}

/// The toml crate's message (shortened) with the dotted field it concerns, the line and the column.
///
/// The offending source line is not printed: it may be megabytes long, or hold a password typed in the
/// wrong place.
fn toml_failure(text: &str, err: &toml::de::Error) -> Failure {
    // Without its input, the error's Display names the keys it concerns: "…\nin `dns.ttl`".
    let mut bare = err.clone();
    bare.set_input(None);
    let rendered = bare.to_string();
    let field = rendered
        .trim_end()
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("in `"))
        .and_then(|l| l.strip_suffix('`'))
        .filter(|_| rendered.trim_end().lines().count() > 1);
    let mut message = cap(err.message().trim_end(), MAX_MESSAGE_CHARS);
    if let Some(field) = field {
        message = format!("{}: {message}", cap(field, 100));
    }
    if let Some(span) = err.span() {
        let (line, column) = line_and_column(text, span.start);
        message = format!("{message} at line {line}, column {column}");
    }
    Failure::user(message)
}

/// `text` cut after `max` characters, with an ellipsis.
fn cap(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!(
            "{}… ({} characters not shown)",
            &text[..at],
            text[at..].chars().count()
        ),
        None => text.to_string(),
    }
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, column)
}

/// The line of `field` (a dotted path such as `dns.ttl` or `target.settings.tags."Cost Center"`) in a plan
/// written the way `plan` writes them (`[table]` headers, `key = value` lines). Best effort: `None` when the
/// field is written another way.
pub fn find_line(text: &str, field: &str) -> Option<usize> {
    let (table, key) = split_last_key(field);
    let mut current: Vec<String> = Vec::new();
    let mut table_line = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            let header = trimmed.trim_start_matches('[');
            let header = header.split(']').next().unwrap_or_default();
            current = header.split('.').map(|p| unquote(p.trim())).collect();
            if current
                .split_last()
                .is_some_and(|(last, rest)| rest == table && Some(last) == key.as_ref())
            {
                return Some(i + 1);
            }
            if current == table {
                table_line = Some(i + 1);
            }
            continue;
        }
        if current == table
            && let (Some(key), Some((left, _))) = (&key, trimmed.split_once('='))
            && unquote(left.trim()) == *key
        {
            return Some(i + 1);
        }
    }
    table_line
}

fn split_last_key(field: &str) -> (Vec<String>, Option<String>) {
    // Split on dots outside quotes.
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in field.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    let parts: Vec<String> = parts.iter().map(|p| unquote(p)).collect();
    match parts.split_last() {
        Some((key, table)) => (table.to_vec(), Some(key.clone())),
        None => (Vec::new(), None),
    }
}

fn unquote(text: &str) -> String {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(text)
        .to_string()
}

/// The byte offset of the checkpoint marker line: the first line that is exactly [`CHECKPOINT_MARKER`] (trailing
/// whitespace aside) and is not inside a multi-line string, i.e. the text above it parses as TOML on its own.
/// Text that merely contains the marker (a comment, a string value) does not count.
pub fn find_marker(text: &str) -> Option<usize> {
    let mut candidates = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == CHECKPOINT_MARKER {
            candidates.push(at);
        }
        at += line.len();
    }
    candidates
        .iter()
        .copied()
        .find(|at| toml::from_str::<toml::Table>(&text[..*at]).is_ok())
        .or_else(|| candidates.first().copied())
}

/// Returns `text` with its checkpoint section replaced by `checkpoint`.
pub fn with_checkpoint(text: &str, checkpoint: &Checkpoint) -> String {
    let intent_part = match find_marker(text) {
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

/// An exclusive lock on a plan, held for the whole run (released when dropped or when the process dies).
#[derive(Debug)]
pub struct PlanLock {
    _lock: FileLock,
}

impl PlanLock {
    /// Locks the plan file itself: through a symlink, the lock sits beside the link's target, so every path to
    /// one plan takes the same lock.
    pub fn acquire(plan: &Path) -> Result<PlanLock, Failure> {
        let real = resolve(plan);
        match FileLock::try_acquire(&real)? {
            Some(lock) => Ok(PlanLock { _lock: lock }),
            None => Err(FileLock::in_use(
                &real,
                format!("another fsx-migrate run holds the lock on {}", plan.display()),
            )
            .hint("wait for that run to finish, or stop it (Ctrl-C) and run this command again")),
        }
    }
}
