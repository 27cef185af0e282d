//! Turns AWS SDK errors into the port's [`CloudError`], classified so the core knows whether to retry.
//!
//! The SDK has already retried throttling and transient failures by the time an error reaches us (see
//! `AwsPort::connect`); what is left is either still retryable later (Throttled, Transient), a missing
//! resource (NotFound) or a refusal that needs a person (Rejected, with AWS's own code and message).
//! Messages never contain a password: callers that had one in flight pass it to [`redact`].

use aws_sdk_fsx::config::http::HttpResponse;
use aws_sdk_fsx::error::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::port::{CloudError, ErrorClass};

/// Error codes AWS uses for throttling (the SDK's own list in `aws-runtime` retries/classifiers.rs).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes for server-side or timing trouble that may go away on its own.
const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",
    "InternalException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Error codes that mean "the thing you named does not exist".
const NOT_FOUND_CODES: &[&str] = &[
    "FileSystemNotFound",
    "NoSuchHostedZone",
    "NoSuchChange",
    "ResourceNotFoundException",
    "InvalidSubnetID.NotFound",
    "InvalidNetworkInterfaceID.NotFound",
];

/// Codes that usually mean the ops box's credentials or IAM policy are wrong; they get a hint.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
];

/// Classifies an error code (and the HTTP status when there is one).
pub fn classify(code: &str, http_status: Option<u16>) -> ErrorClass {
    if THROTTLING_CODES.contains(&code) || http_status == Some(429) {
        ErrorClass::Throttled
    } else if NOT_FOUND_CODES.contains(&code) {
        ErrorClass::NotFound
    } else if TRANSIENT_CODES.contains(&code) || http_status.is_some_and(|s| s >= 500) {
        ErrorClass::Transient
    } else {
        ErrorClass::Rejected
    }
}

/// Maps any SDK operation error to a [`CloudError`] for `operation` (e.g. `"fsx:CreateFileSystem"`).
pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match &err {
        SdkError::ServiceError(service) => {
            let source = service.err();
            let code = source.code().unwrap_or("Unknown").to_string();
            let message = match source.message() {
                Some(m) if !m.is_empty() => m.to_string(),
                _ => DisplayErrorContext(&err).to_string(),
            };
            let class = classify(&code, status);
            CloudError {
                class,
                operation: operation.to_string(),
                message: with_hint(&code, message),
                code,
            }
        }
        SdkError::TimeoutError(_) => CloudError {
            class: ErrorClass::Transient,
            operation: operation.to_string(),
            code: "Timeout".to_string(),
            message: format!("the request timed out: {}", DisplayErrorContext(&err)),
        },
        SdkError::DispatchFailure(_) => CloudError {
            class: ErrorClass::Transient,
            operation: operation.to_string(),
            code: "DispatchFailure".to_string(),
            message: format!("the request could not be sent: {}", DisplayErrorContext(&err)),
        },
        SdkError::ResponseError(_) => CloudError {
            class: if status.is_some_and(|s| s >= 500) {
                ErrorClass::Transient
            } else {
                ErrorClass::Rejected
            },
            operation: operation.to_string(),
            code: "ResponseError".to_string(),
            message: format!(
                "the response (HTTP {}) could not be understood: {}",
                status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "status unknown".into()),
                DisplayErrorContext(&err)
            ),
        },
        // ConstructionFailure and any variant added later: the request never left this machine.
        _ => CloudError {
            class: ErrorClass::Rejected,
            operation: operation.to_string(),
            code: "ConstructionFailure".to_string(),
            message: format!("the request could not be built: {}", DisplayErrorContext(&err)),
        },
    }
}

/// A rejection raised by the adapter itself (bad input, a field AWS did not return, …).
pub fn rejected(operation: &str, code: &str, message: impl Into<String>) -> CloudError {
    CloudError {
        class: ErrorClass::Rejected,
        operation: operation.to_string(),
        code: code.to_string(),
        message: message.into(),
    }
}

/// AWS answered without a field the model says it returns.
pub fn missing_field(operation: &str, field: &str) -> CloudError {
    rejected(operation, "MissingField", format!("the response has no {field}"))
}

/// Removes every occurrence of `secret` from the error's message (belt and braces: AWS does not echo
/// passwords, but an error must never carry one, whatever the server says).
pub fn redact(mut error: CloudError, secret: &str) -> CloudError {
    if !secret.is_empty() && error.message.contains(secret) {
        error.message = error.message.replace(secret, "***");
    }
    error
}

/// Appends what to do next for the refusals an operator can fix without reading the AWS docs.
fn with_hint(code: &str, message: String) -> String {
    let hint = if ACCESS_CODES.contains(&code) {
        "check the credentials in use and that their IAM policy allows this action; see docs/aws-permissions.md"
    } else {
        match code {
            "ServiceLimitExceeded" => {
                "the target counts against the account's FSx quotas next to the source; request a quota increase"
            }
            "InvalidNetworkSettings" => {
                "check the target subnets (two, in different AZs of the source's VPC) and the security groups"
            }
            "ActiveDirectoryError" => {
                "check that the target subnets reach the domain controllers (DNS, Kerberos, LDAP, TCP 9389) and \
                 the AD settings in the plan"
            }
            _ => return message,
        }
    };
    format!("{message} (hint: {hint})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_like_the_sdk_retry_classifier() {
        assert_eq!(classify("Throttling", Some(400)), ErrorClass::Throttled);
        assert_eq!(
            classify("PriorRequestNotComplete", Some(400)),
            ErrorClass::Throttled
        );
        assert_eq!(classify("Anything", Some(429)), ErrorClass::Throttled);
        assert_eq!(classify("InternalServerError", Some(500)), ErrorClass::Transient);
        assert_eq!(classify("Whatever", Some(503)), ErrorClass::Transient);
        assert_eq!(classify("FileSystemNotFound", Some(400)), ErrorClass::NotFound);
        assert_eq!(classify("NoSuchHostedZone", Some(404)), ErrorClass::NotFound);
        assert_eq!(classify("BadRequest", Some(400)), ErrorClass::Rejected);
        assert_eq!(
            classify("IncompatibleParameterError", Some(400)),
            ErrorClass::Rejected
        );
        assert_eq!(
            classify("InvalidRequestException", Some(400)),
            ErrorClass::Rejected
        );
    }

    #[test]
    fn fixable_refusals_carry_a_hint() {
        assert!(with_hint("AccessDeniedException", "denied".into()).contains("docs/aws-permissions.md"));
        assert!(with_hint("ServiceLimitExceeded", "limit".into()).contains("quota increase"));
        assert_eq!(with_hint("BadRequest", "bad".into()), "bad");
    }

    #[test]
    fn redact_removes_the_secret() {
        let err = rejected(
            "datasync:CreateLocationFsxWindows",
            "X",
            "bad password hunter2 for user",
        );
        assert_eq!(redact(err, "hunter2").message, "bad password *** for user");
    }
}
