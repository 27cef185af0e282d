//! Turns AWS SDK errors into the port's [`CloudError`], classified so the core knows whether to retry.
//!
//! The SDK has already retried throttling and transient failures by the time an error reaches us (see
//! `AwsPort::connect`); what is left is either still retryable later (Throttled, Transient), a missing
//! resource (NotFound), credentials that are missing or expired (Credentials: no retry helps until the
//! operator logs in again) or a refusal that needs a person (Rejected, with AWS's own code and message).
//! Messages never contain a password: callers that had one in flight pass it to [`redact`].

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_fsx::config::http::HttpResponse;
use aws_sdk_fsx::error::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::cloud::port::{CloudError, ErrorClass};

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
    "InvocationDoesNotExist",
];

/// Codes for credentials that AWS does not accept at all: expired (an SSO session or STS token that ran
/// out) or unknown. Retrying cannot help; logging in again can.
const CREDENTIALS_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "AuthFailure",
];

/// Codes that usually mean the ops box's IAM policy or secret key is wrong; they get a hint.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
];

/// What the SDK says, without a `CredentialsError` in the chain, when a client has no credentials provider
/// at all or the provider did not answer within the identity cache's load timeout.
const NO_IDENTITY_TEXTS: &[&str] = &["no identity resolver", "identity resolver timed out"];

/// Classifies an error code (and the HTTP status when there is one).
pub fn classify(code: &str, http_status: Option<u16>) -> ErrorClass {
    if CREDENTIALS_CODES.contains(&code) {
        ErrorClass::Credentials
    } else if THROTTLING_CODES.contains(&code) || http_status == Some(429) {
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
    if !matches!(err, SdkError::ServiceError(_))
        && let Some(failure) = credentials_failure(&err)
    {
        return CloudError {
            class: ErrorClass::Credentials,
            operation: operation.to_string(),
            code: failure.code.to_string(),
            message: failure.message,
        };
    }
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

/// Why no request could be signed: the credentials provider failed or there is none.
struct CredentialsFailure {
    code: &'static str,
    message: String,
}

/// Finds a credentials-provider failure in the error's source chain. The SDK reports it as a dispatch or
/// construction failure (the request was never signed), which would otherwise read as a network problem.
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<CredentialsFailure> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(credentials) = e.downcast_ref::<CredentialsError>() {
            let code = match credentials {
                CredentialsError::CredentialsNotLoaded(_) => "NoCredentials",
                _ => "CredentialsError",
            };
            return Some(CredentialsFailure {
                code,
                message: format!(
                    "no valid AWS credentials for this request: {}",
                    DisplayErrorContext(credentials)
                ),
            });
        }
        next = e.source();
    }
    let text = DisplayErrorContext(err).to_string();
    NO_IDENTITY_TEXTS
        .iter()
        .any(|t| text.contains(t))
        .then(|| CredentialsFailure {
            code: "NoCredentials",
            message: format!("no AWS credentials could be loaded for this request: {text}"),
        })
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
    let hint = if CREDENTIALS_CODES.contains(&code) {
        "the AWS credentials in use are expired or not recognised"
    } else if ACCESS_CODES.contains(&code) {
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
        for code in [
            "ExpiredToken",
            "ExpiredTokenException",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
        ] {
            assert_eq!(classify(code, Some(400)), ErrorClass::Credentials, "{code}");
            assert!(!classify(code, Some(403)).is_retryable());
        }
        assert_eq!(classify("AccessDeniedException", Some(400)), ErrorClass::Rejected);
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
