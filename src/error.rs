//! Errors as the operator sees them: what went wrong, why, and what to do next, with an exit code.
//!
//! Printed as `Error: …`, then `Caused by: …` lines, then `Hint: …` lines (the jj layout).

use std::fmt;

/// The exit codes of product.md §4 (2, a usage error, is clap's own exit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: the run stopped on a user-facing condition (bad input, gate closed, failed preflight).
    User,
    /// 3: interrupted, and `run`/`resume` will continue where it stopped.
    Interrupted,
    /// 4: a bug or an environment problem fsx-migrate did not expect.
    Internal,
    /// 5: parked at the cutover gate (postponed): not a failure; `resume` continues.
    Parked,
}

impl ExitKind {
    pub fn code(self) -> u8 {
        match self {
            ExitKind::User => 1,
            ExitKind::Interrupted => 3,
            ExitKind::Internal => 4,
            ExitKind::Parked => 5,
        }
    }
}

/// The exit codes of `status PLAN`: where the migration stands, for scripts. 0 is done, as any success;
/// 1, 2 and 4 keep their meaning (the plan could not be read, a usage error, a bug); the states a script
/// waits on take codes above those of a run, so none reads as one.
pub mod status_exit {
    /// The migration completed.
    pub const DONE: u8 = 0;
    /// A process holds the plan's lock and drives it.
    pub const RUNNING: u8 = 10;
    /// A person must answer or decide before it goes on.
    pub const WAITING: u8 = 11;
    /// Interrupted, stopped on a condition to fix, or killed: the hint says what continues it.
    pub const STOPPED: u8 = 12;
    /// `run` has not started on this plan.
    pub const NOT_STARTED: u8 = 13;
}

/// A failure with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ExitKind,
    pub message: String,
    pub causes: Vec<String>,
    pub hints: Vec<String>,
}

impl Failure {
    pub fn user(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::User,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::Internal,
            ..Self::user(message)
        }
    }

    pub fn parked(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::Parked,
            ..Self::user(message)
        }
    }

    pub fn interrupted(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::Interrupted,
            ..Self::user(message)
        }
    }

    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error: {}", self.message)?;
        for cause in &self.causes {
            let mut lines = cause.lines();
            if let Some(first) = lines.next() {
                write!(f, "\nCaused by: {first}")?;
            }
            for line in lines {
                write!(f, "\n    {line}")?;
            }
        }
        for hint in &self.hints {
            write!(f, "\nHint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Turns an I/O error on a named file into a failure that says which file.
pub fn io_failure(what: &str, path: &std::path::Path, err: std::io::Error) -> Failure {
    let kind = if err.kind() == std::io::ErrorKind::NotFound {
        ExitKind::User
    } else {
        ExitKind::Internal
    };
    Failure {
        kind,
        ..Failure::user(format!("cannot {what} {}", path.display())).cause(err)
    }
}
