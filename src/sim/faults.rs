//! Fault injection: throttling, 5xx, timeouts, executions ending in ERROR and creation FAILED, at chosen
//! calls or at random (seeded, so a failing run can be replayed).

use serde::{Deserialize, Serialize};

use crate::port::{CloudError, ErrorClass};

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
}

fn one() -> f64 {
    1.0
}

impl FaultRule {
    /// Parses `KIND[,op=OPERATION][,times=N][,after=N][,p=PROBABILITY]`, e.g.
    /// `throttle,op=datasync:DescribeTaskExecution,times=3`.
    pub fn parse(spec: &str) -> Result<FaultRule, String> {
        let mut parts = spec.split(',');
        let kind = match parts.next().unwrap_or_default().trim() {
            "throttle" => FaultKind::Throttle,
            "server_error" => FaultKind::ServerError,
            "timeout" => FaultKind::Timeout,
            "execution_error" => FaultKind::ExecutionError,
            "creation_failed" => FaultKind::CreationFailed,
            other => {
                return Err(format!(
                    "unknown fault kind {other:?}: expected throttle, server_error, timeout, execution_error or creation_failed"
                ));
            }
        };
        let default_op = match kind {
            FaultKind::ExecutionError => "datasync:StartTaskExecution",
            FaultKind::CreationFailed => "fsx:CreateFileSystem",
            _ => "*",
        };
        let mut rule = FaultRule {
            kind,
            operation: default_op.into(),
            after: 0,
            times: 1,
            probability: 1.0,
            seen: 0,
            fired: 0,
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
                other => {
                    return Err(format!(
                        "unknown fault option {other:?}: expected op, times, after or p"
                    ));
                }
            }
        }
        Ok(rule)
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
            FaultKind::ExecutionError | FaultKind::CreationFailed => return None,
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
