//! Fault injection: throttling, 5xx, timeouts, lost responses, executions ending in ERROR or skipping files,
//! and creation FAILED, at chosen calls or at random (seeded, so a failing run can be replayed).

use serde::{Deserialize, Serialize};

use super::model::{OutOfRange, show_f64};
use crate::cloud::port::{ALL_OPERATIONS, CloudError, ErrorClass};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The call fails with ThrottlingException (retryable).
    Throttle,
    /// The call fails with HTTP 500 InternalServerError (retryable).
    ServerError,
    /// The call times out (retryable).
    Timeout,
    /// StartTaskExecution succeeds, but the execution ends in ERROR during TRANSFERRING.
    ExecutionError,
    /// CreateFileSystem succeeds, but the file system ends FAILED.
    CreationFailed,
    /// StartTaskExecution succeeds and the execution ends SUCCESS, but it skipped `count` files.
    SkippedFiles,
    /// The call is carried out in full, then its response is lost: the caller sees a timeout (retryable).
    LostResponse,
    /// The source is tagged frozen, but its users keep writing: a freeze that did not take effect.
    IgnoredFreeze,
}

impl FaultKind {
    const NAMES: &'static str = "throttle, server_error, timeout, lost_response, execution_error, skipped_files, creation_failed or \
         ignored_freeze";

    fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::ServerError => "server_error",
            FaultKind::Timeout => "timeout",
            FaultKind::ExecutionError => "execution_error",
            FaultKind::CreationFailed => "creation_failed",
            FaultKind::SkippedFiles => "skipped_files",
            FaultKind::LostResponse => "lost_response",
            FaultKind::IgnoredFreeze => "ignored_freeze",
        }
    }

    /// The one operation a resource-level fault applies to; `None` for call-level faults (any operation).
    pub fn only_operation(self) -> Option<&'static str> {
        match self {
            FaultKind::ExecutionError | FaultKind::SkippedFiles => Some("datasync:StartTaskExecution"),
            FaultKind::CreationFailed => Some("fsx:CreateFileSystem"),
            FaultKind::IgnoredFreeze => Some("fsx:TagResource"),
            FaultKind::Throttle | FaultKind::ServerError | FaultKind::Timeout | FaultKind::LostResponse => {
                None
            }
        }
    }
}

/// One fault rule: fires on matching calls after `after` of them, `times` times, each with `probability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub kind: FaultKind,
    /// `service:Operation`, e.g. `datasync:DescribeTaskExecution`, or `*` for every call.
    pub operation: String,
    #[serde(default)]
    pub after: u64,
    pub times: u64,
    #[serde(default = "one")]
    pub probability: f64,
    /// Matching calls seen so far.
    #[serde(default)]
    pub seen: u64,
    #[serde(default)]
    pub fired: u64,
    /// `skipped_files` only: files each firing skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

fn one() -> f64 {
    1.0
}

impl FaultRule {
    /// Parses `KIND[,op=OPERATION][,times=N][,after=N][,p=PROBABILITY][,count=N]`, e.g.
    /// `throttle,op=datasync:DescribeTaskExecution,times=3` or `skipped_files,count=50`, and validates it.
    pub fn parse(spec: &str) -> Result<FaultRule, String> {
        let mut parts = spec.split(',');
        let kind = match parts.next().unwrap_or_default().trim() {
            "throttle" => FaultKind::Throttle,
            "server_error" => FaultKind::ServerError,
            "timeout" => FaultKind::Timeout,
            "execution_error" => FaultKind::ExecutionError,
            "creation_failed" => FaultKind::CreationFailed,
            "skipped_files" => FaultKind::SkippedFiles,
            "lost_response" => FaultKind::LostResponse,
            "ignored_freeze" => FaultKind::IgnoredFreeze,
            other => {
                return Err(format!(
                    "unknown fault kind {other:?}: expected {}",
                    FaultKind::NAMES
                ));
            }
        };
        let mut rule = FaultRule {
            kind,
            operation: kind.only_operation().unwrap_or("*").into(),
            after: 0,
            times: 1,
            probability: 1.0,
            seen: 0,
            fired: 0,
            count: None,
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("fault option {part:?} is not key=value"))?;
            let bad = || format!("fault option {key} has an invalid value {value:?}");
            match key.trim() {
                "op" => rule.operation = value.trim().to_string(),
                "times" => rule.times = value.trim().parse().map_err(|_| bad())?,
                "after" => rule.after = value.trim().parse().map_err(|_| bad())?,
                "p" => rule.probability = value.trim().parse().map_err(|_| bad())?,
                "count" => rule.count = Some(value.trim().parse().map_err(|_| bad())?),
                other => {
                    return Err(format!(
                        "unknown fault option {other:?}: expected op, times, after, p or count"
                    ));
                }
            }
        }
        rule.validate().map_err(|e| {
            let option = match e.field.as_str() {
                "operation" => "op",
                "probability" => "p",
                other => other,
            };
            if e.value.is_empty() {
                format!("fault option {option} is missing: it must be {}", e.allowed)
            } else if option == "op" || (option == "count" && rule.kind != FaultKind::SkippedFiles) {
                format!(
                    "fault option {option}={} is not allowed: it must be {}",
                    e.value, e.allowed
                )
            } else {
                format!(
                    "fault option {option}={} is out of range: it must be {}",
                    e.value, e.allowed
                )
            }
        })?;
        Ok(rule)
    }

    /// Checks the rule can fire and do what its kind says. `field` of the error is the world file's name.
    pub fn validate(&self) -> Result<(), OutOfRange> {
        let out = |field: &str, value: String, allowed: String| OutOfRange {
            field: field.to_string(),
            value,
            allowed,
        };
        match self.kind.only_operation() {
            Some(only) if self.operation != only => {
                return Err(out(
                    "operation",
                    self.operation.clone(),
                    format!("{only} (the only call {} applies to)", self.kind.name()),
                ));
            }
            None if self.operation != "*" && !ALL_OPERATIONS.contains(&self.operation.as_str()) => {
                return Err(out(
                    "operation",
                    self.operation.clone(),
                    format!(
                        "* or an operation fsx-migrate calls: {}",
                        ALL_OPERATIONS.join(", ")
                    ),
                ));
            }
            _ => {}
        }
        if self.times == 0 {
            return Err(out("times", "0".into(), "at least 1".into()));
        }
        if !(self.probability.is_finite() && self.probability > 0.0 && self.probability <= 1.0) {
            return Err(out(
                "probability",
                show_f64(self.probability),
                "greater than 0 and at most 1".into(),
            ));
        }
        match (self.kind, self.count) {
            (FaultKind::SkippedFiles, None) => Err(out(
                "count",
                String::new(),
                "given for skipped_files (count=N: the files each firing skips, at least 1)".into(),
            )),
            (FaultKind::SkippedFiles, Some(0)) => {
                Err(out("count", "0".into(), "at least 1 (files skipped)".into()))
            }
            (FaultKind::SkippedFiles, Some(_)) | (_, None) => Ok(()),
            (kind, Some(count)) => Err(out(
                "count",
                count.to_string(),
                format!("absent: count applies to skipped_files only, not {}", kind.name()),
            )),
        }
    }

    fn matches(&self, operation: &str) -> bool {
        self.operation == "*" || self.operation == operation
    }

    /// Counts a call and says whether the fault fires on it. `roll` is a uniform number in [0, 1).
    pub fn fires(&mut self, operation: &str, roll: f64) -> bool {
        if !self.matches(operation) {
            return false;
        }
        self.seen += 1;
        if self.seen <= self.after || self.fired >= self.times || roll >= self.probability {
            return false;
        }
        self.fired += 1;
        true
    }

    /// The error a failing call returns, for the call-level kinds.
    pub fn error(&self, operation: &str) -> Option<CloudError> {
        let (class, code, message) = match self.kind {
            FaultKind::Throttle => (ErrorClass::Throttled, "ThrottlingException", "Rate exceeded"),
            FaultKind::ServerError => (
                ErrorClass::Transient,
                "InternalServerError",
                "We encountered an internal error. Please try again.",
            ),
            FaultKind::Timeout => (ErrorClass::Transient, "RequestTimeout", "the request timed out"),
            FaultKind::LostResponse => (
                ErrorClass::Transient,
                "RequestTimeout",
                "the request timed out (simulated fault: the call was carried out, its response was lost)",
            ),
            FaultKind::ExecutionError
            | FaultKind::CreationFailed
            | FaultKind::SkippedFiles
            | FaultKind::IgnoredFreeze => return None,
        };
        Some(CloudError {
            class,
            operation: operation.to_string(),
            code: code.into(),
            message: message.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_after_skipping_and_stops_after_its_times() {
        let mut rule = FaultRule::parse("throttle,op=fsx:DescribeFileSystems,times=2,after=1").unwrap();
        let fired: Vec<bool> = (0..5)
            .map(|_| rule.fires("fsx:DescribeFileSystems", 0.0))
            .collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert!(!rule.fires("route53:GetChange", 0.0));
    }

    #[test]
    fn out_of_range_fault_options_are_refused_with_the_allowed_range() {
        let cases = [
            (
                "throttle,p=nan",
                "p=NaN is out of range: it must be greater than 0 and at most 1",
            ),
            (
                "throttle,p=7",
                "p=7 is out of range: it must be greater than 0 and at most 1",
            ),
            ("throttle,p=0", "greater than 0"),
            (
                "timeout,times=0",
                "times=0 is out of range: it must be at least 1",
            ),
            (
                "server_error,op=bogus:Op",
                "op=bogus:Op is not allowed: it must be * or an operation",
            ),
            (
                "lost_response,op=datasync:StartTask",
                "op=datasync:StartTask is not allowed",
            ),
            (
                "execution_error,op=fsx:CreateFileSystem",
                "it must be datasync:StartTaskExecution (the only call execution_error applies to)",
            ),
            ("creation_failed,op=*", "it must be fsx:CreateFileSystem"),
            ("throttle,count=3", "count=3 is not allowed: it must be absent"),
            ("skipped_files", "count is missing"),
            (
                "skipped_files,count=0",
                "count=0 is out of range: it must be at least 1",
            ),
            ("skipped_files,count=x", "count has an invalid value"),
        ];
        for (spec, needle) in cases {
            let err = FaultRule::parse(spec).unwrap_err();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }

    #[test]
    fn every_operation_and_the_wildcard_are_accepted() {
        for op in ALL_OPERATIONS.iter().chain(&["*"]) {
            for kind in ["throttle", "server_error", "timeout", "lost_response"] {
                FaultRule::parse(&format!("{kind},op={op}")).unwrap();
            }
        }
    }

    #[test]
    fn new_kinds_parse_with_their_defaults() {
        let skip = FaultRule::parse("skipped_files,count=50,times=2").unwrap();
        assert_eq!(skip.kind, FaultKind::SkippedFiles);
        assert_eq!(skip.operation, "datasync:StartTaskExecution");
        assert_eq!((skip.count, skip.times), (Some(50), 2));
        assert_eq!(skip.error("datasync:StartTaskExecution"), None);
        let lost = FaultRule::parse("lost_response,op=datasync:CreateTask,after=1,p=0.5").unwrap();
        assert_eq!(lost.kind, FaultKind::LostResponse);
        assert_eq!((lost.after, lost.probability), (1, 0.5));
        let error = lost.error("datasync:CreateTask").unwrap();
        assert_eq!(error.class, ErrorClass::Transient);
        assert_eq!(error.code, "RequestTimeout");
        assert!(error.message.contains("response was lost"), "{}", error.message);
        assert_eq!(FaultRule::parse("lost_response").unwrap().operation, "*");
    }

    #[test]
    fn bad_fault_specs_say_what_is_wrong() {
        assert!(
            FaultRule::parse("meteor")
                .unwrap_err()
                .contains("unknown fault kind")
        );
        assert!(
            FaultRule::parse("throttle,times=x")
                .unwrap_err()
                .contains("times")
        );
    }
}
