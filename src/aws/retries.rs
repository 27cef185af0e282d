//! What the SDK may send again on its own.
//!
//! The standard retry mode resends a request after throttling, a timeout or a 5xx. For the calls that take no
//! client token (DataSync's CreateLocationFsxWindows, CreateTask, StartTaskExecution, and SSM's SendCommand; see
//! [`crate::cloud::port::NON_IDEMPOTENT_OPERATIONS`]) a timeout or a 5xx does not say whether the first request
//! acted, and a resend could make a second location, task or execution. For those operations only
//! throttling, which is a refusal, is retried by the SDK; any other failure reaches the core after one
//! attempt, which resolves it by looking the resource up by its tags (`core::machine`, `failed`).

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::retry::ErrorKind;

/// Runs after every SDK classifier and forbids any retry they asked for that is not throttling.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnlyThrottlingRetried;

impl ClassifyRetry for OnlyThrottlingRetried {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            }) => RetryAction::NoActionIndicated,
            RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "fsx-migrate: only throttling is retried for creates without a client token"
    }

    /// After the SDK's own classifiers (the transient-error one runs last of them).
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The per-operation DataSync config for creates without a client token: the client's retry policy, but
/// only throttling is retried.
pub fn datasync_create() -> aws_sdk_datasync::config::Builder {
    aws_sdk_datasync::config::Builder::default().retry_classifier(OnlyThrottlingRetried)
}

/// The same for SSM SendCommand, which takes no client token either (a resend would run a freeze twice).
pub fn ssm_send() -> aws_sdk_ssm::config::Builder {
    aws_sdk_ssm::config::Builder::default().retry_classifier(OnlyThrottlingRetried)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::interceptors::context::Input;

    fn classify(previous: RetryAction) -> RetryAction {
        let ctx = InterceptorContext::new(Input::doesnt_matter());
        OnlyThrottlingRetried.classify_retry_v2(&ctx, &previous)
    }

    #[test]
    fn only_throttling_survives() {
        assert_eq!(
            classify(RetryAction::throttling_error()),
            RetryAction::NoActionIndicated
        );
        for kind in [
            ErrorKind::TransientError,
            ErrorKind::ServerError,
            ErrorKind::ClientError,
        ] {
            assert_eq!(
                classify(RetryAction::retryable_error(kind)),
                RetryAction::RetryForbidden,
                "{kind:?}"
            );
        }
        assert_eq!(
            classify(RetryAction::NoActionIndicated),
            RetryAction::NoActionIndicated
        );
        assert!(OnlyThrottlingRetried.priority() > RetryClassifierPriority::transient_error_classifier());
    }
}
