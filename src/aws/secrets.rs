//! Resolves a [`PasswordSource`] into the password itself, at the last moment and only in memory.
//!
//! Invariant 6 (secrets stay secret): the password is read from the environment, a no-echo prompt or
//! Secrets Manager right before the one request that needs it, wrapped in [`Secret`] whose `Debug` and
//! `Display` print `***`, and dropped right after. It never reaches a log, an error or the plan file.

use std::fmt;

use crate::aws::errors;
use crate::cloud::model::PasswordSource;
use crate::cloud::port::{CloudError, ErrorClass};

/// The operation name used in errors raised while reading a password locally.
const LOCAL_OPERATION: &str = "fsx-migrate:ReadPassword";

/// A password in memory. Its formatting never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The password, for the one SDK builder call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why `source` would not resolve now, checked before anything billable exists: `Ok(None)` when it will,
/// `Ok(Some("source: why"))` when it will not (an unset variable, a missing or unreadable secret). The
/// password read on the way is dropped at once and never part of the answer. A `prompt` is not asked now:
/// a person is at the terminal when it is needed. Failures that say nothing about the source (throttling,
/// a server error, missing credentials) are errors, for the driver to retry or report as such.
pub async fn check(
    secrets: &aws_sdk_secretsmanager::Client,
    source: &PasswordSource,
) -> Result<Option<String>, CloudError> {
    match source {
        PasswordSource::Prompt => Ok(None),
        PasswordSource::Env(_) | PasswordSource::SecretsManager(_) => {
            match resolve(secrets, source, "this plan").await {
                Ok(_) => Ok(None),
                Err(error) if error.class.is_retryable() || error.class == ErrorClass::Credentials => {
                    Err(error)
                }
                Err(error) => Ok(Some(format!("{source}: {}", error.message))),
            }
        }
    }
}

/// Reads the password `source` points at. `purpose` names what it is for in the prompt and in errors
/// (e.g. "the DataSync SMB user CORP\\svc-datasync").
pub async fn resolve(
    secrets: &aws_sdk_secretsmanager::Client,
    source: &PasswordSource,
    purpose: &str,
) -> Result<Secret, CloudError> {
    let secret = match source {
        PasswordSource::Env(var) => match std::env::var(var) {
            Ok(value) => Secret(value),
            Err(std::env::VarError::NotPresent) => {
                return Err(errors::rejected(
                    LOCAL_OPERATION,
                    "PasswordUnavailable",
                    format!("the environment variable {var} (password for {purpose}) is not set"),
                ));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(errors::rejected(
                    LOCAL_OPERATION,
                    "PasswordUnavailable",
                    format!("the environment variable {var} (password for {purpose}) is not valid UTF-8"),
                ));
            }
        },
        PasswordSource::Prompt => prompt(purpose).await?,
        PasswordSource::SecretsManager(id) => from_secrets_manager(secrets, id, purpose).await?,
    };
    if secret.0.is_empty() {
        return Err(errors::rejected(
            LOCAL_OPERATION,
            "PasswordUnavailable",
            format!("the password for {purpose} from {source} is empty"),
        ));
    }
    Ok(secret)
}

async fn prompt(purpose: &str) -> Result<Secret, CloudError> {
    let question = format!("Password for {purpose}: ");
    let answer = tokio::task::spawn_blocking(move || rpassword::prompt_password(question)).await;
    match answer {
        Ok(Ok(value)) => Ok(Secret(value)),
        Ok(Err(err)) => Err(errors::rejected(
            LOCAL_OPERATION,
            "PasswordUnavailable",
            format!("could not read the password for {purpose} from the terminal: {err}"),
        )),
        Err(err) => Err(errors::rejected(
            LOCAL_OPERATION,
            "PasswordUnavailable",
            format!("the password prompt for {purpose} failed: {err}"),
        )),
    }
}

/// GetSecretValue. A SecretString that is a JSON object with a `password` (or `Password`) key yields that
/// key's value, so the usual `{"username": …, "password": …}` secrets work; any other string is used whole.
async fn from_secrets_manager(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
    purpose: &str,
) -> Result<Secret, CloudError> {
    const OP: &str = "secretsmanager:GetSecretValue";
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| errors::from_sdk(OP, e))?;
    let Some(text) = out.secret_string() else {
        return Err(errors::rejected(
            OP,
            "PasswordUnavailable",
            format!("the secret {id} (password for {purpose}) has no SecretString"),
        ));
    };
    match password_from_secret_string(text) {
        Some(password) => Ok(Secret(password)),
        None => Err(errors::rejected(
            OP,
            "PasswordUnavailable",
            format!("the secret {id} (password for {purpose}) is a JSON object without a \"password\" key"),
        )),
    }
}

/// The password in a SecretString: the `password`/`Password` key of a JSON object, or the whole string.
fn password_from_secret_string(text: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => ["password", "Password"]
            .iter()
            .find_map(|key| map.get(*key).and_then(|v| v.as_str()).map(str::to_string)),
        _ => Some(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_formatting_never_shows_the_value() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{secret}"), "***");
    }

    #[test]
    fn json_secrets_yield_their_password_key() {
        assert_eq!(
            password_from_secret_string(r#"{"username":"u","password":"p1"}"#).as_deref(),
            Some("p1")
        );
        assert_eq!(
            password_from_secret_string(r#"{"Password":"p2"}"#).as_deref(),
            Some("p2")
        );
        assert_eq!(password_from_secret_string("plain").as_deref(), Some("plain"));
        assert_eq!(password_from_secret_string(r#"{"other":"x"}"#), None);
    }
}
