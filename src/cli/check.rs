//! `fsx-migrate check`'s shell around the core's check (`core::machine::check`): the source's shares read
//! first (with `[windows]`), the words for each outcome, and what can be checked before the DataSync tasks
//! exist: the DataSync user's logon to the source's share, from the plan's Windows instance (logon.ps1).

use super::backend::AnyPort;
use super::commands::{read_source_export, run_read_only};
use crate::cli::report::{Replay, halt_failure};
use crate::cloud::model::PasswordSource;
use crate::cloud::port::{CloudPort, Command, Response};
use crate::cloud::windows::{LogonArgs, LogonResult, ScriptCall, WindowsScript, parse_result};
use crate::core::{CheckRefusal, Halt};
use crate::engine::driver::Outcome;
use crate::error::Failure;
use crate::plan::file::PlanFile;
use crate::plan::{Checkpoint, Intent};

/// What a check's outcome means: its own words where a run's would mislead (`resume` does not re-attach
/// to a check; `check` does).
pub(super) fn finish(outcome: &Outcome, file: &PlanFile, replay: &Replay) -> Result<String, Failure> {
    let again = replay.command("check");
    match outcome {
        Outcome::Halted(crate::core::Halt::Checked) => Ok(passed_text(&file.intent, &file.checkpoint)),
        Outcome::Halted(crate::core::Halt::CloudFailed { error, .. }) => {
            let f = Failure::user(format!("{} failed during the check", error.operation))
                .cause(format!("{}: {}", error.code, error.message));
            let f = if error.class.is_retryable() {
                Failure {
                    kind: crate::error::ExitKind::Interrupted,
                    ..f
                }
            } else {
                f
            };
            Err(f.hint(format!(
                "fix the cause, then `{again}`: it re-attaches to the check's execution if one was started"
            )))
        }
        Outcome::Halted(crate::core::Halt::Unexpected { phase, input }) => Err(Failure::internal(format!(
            "fsx-migrate got an answer it did not expect during the check (plan at {phase})"
        ))
        .cause(input.clone())
        .hint(format!(
            "this is a bug; the checkpoint is intact: `{again}` re-attaches to the check's execution. Please report it with the plan file"
        ))),
        Outcome::Interrupted => Err(Failure::interrupted("the check was interrupted")
            .cause("its execution, if it started, keeps running in DataSync; it copies nothing")
            .hint(format!("`{again}` re-attaches to it and reads its result"))),
        other => super::commands::finish(other, file, replay),
    }
}

/// The summary printed when a check passed.
fn passed_text(intent: &Intent, cp: &Checkpoint) -> String {
    let Some(check) = cp.access_checks.last() else {
        return "Check passed.\n".into();
    };
    let execution = check.result.as_ref().map_or("?", |r| r.execution_arn.as_str());
    let mut out = format!(
        "Check passed: DataSync mounted the source and the target as {}\\{} and looked in the share's root",
        intent.transfer.smb_domain, intent.transfer.smb_user
    );
    let folders = check.probes.len().saturating_sub(1);
    if folders > 0 {
        out.push_str(&format!(
            " and probed {folders} folder(s) the lanes and the source's shares name"
        ));
    }
    out.push_str(&format!(
        ", copying nothing (execution {execution} of lane {}'s task).\n",
        check.lane
    ));
    if check.unprobed_folders > 0 {
        out.push_str(&format!(
            "Not probed: {} folder(s) (wildcard patterns, or past DataSync's filter length quota); the first sync \
             lists them.\n",
            check.unprobed_folders
        ));
    }
    out.push_str(
        "What it does not prove: that the user may read every file, or write on the target, set owners \
         (SE_RESTORE_NAME) and copy SACLs (SE_SECURITY_NAME): it wrote nothing. Those take the rights \
         docs/aws-permissions.md §4 names; the first sync's skipped and failed files tell.\n",
    );
    out
}

/// `check` with `[windows]`: the folders of the source's shares, read now (export.ps1 through SSM,
/// read-only), for the check to probe too. Unread, the check goes on without them, and says why.
pub(super) async fn share_folders(port: &mut AnyPort, intent: &crate::plan::Intent) -> Vec<String> {
    if intent.windows.is_none() {
        return Vec::new();
    }
    let source = intent.source.file_system_id.clone();
    let endpoint = match port
        .execute(&Command::DescribeFileSystem {
            file_system_id: source,
        })
        .await
    {
        Ok(Response::FileSystem(info)) => info.remote_administration_endpoint,
        _ => None,
    };
    share_folders_at(port, intent, endpoint).await
}

/// [`share_folders`] for a source whose remote management endpoint is known already.
async fn share_folders_at(
    port: &mut AnyPort,
    intent: &crate::plan::Intent,
    endpoint: Option<String>,
) -> Vec<String> {
    let left_behind = intent
        .windows
        .as_ref()
        .map(|w| w.shares_left_behind.clone())
        .unwrap_or_default();
    match read_source_export(port, intent, endpoint, "check").await {
        Ok(export) => crate::core::service::share_folders(&export, &intent.transfer, &left_behind),
        Err(why) => {
            eprintln!(
                "warning: the source's shares were not read ({why}): the check probes the share's root and the lanes' folders only"
            );
            Vec::new()
        }
    }
}

/// `check` on a plan whose tasks do not exist yet: with `[windows]` and the DataSync password in Secrets
/// Manager, logon.ps1 logs on to the source's share as the DataSync user from the plan's instance and lists
/// it (and the folders the lanes and shares name) — nothing billable needed. Otherwise the refusal stands.
pub(super) async fn before_the_tasks(
    global: &super::Global,
    file: &PlanFile,
    replay: &Replay,
) -> Result<String, Failure> {
    let intent = &file.intent;
    let refusal = Halt::CheckRefused(CheckRefusal::NoTasks(file.checkpoint.phase()));
    let refused = || halt_failure(&refusal, replay).expect("a refusal is a failure");
    let Some((windows, _)) = logon_possible(intent) else {
        return Err(refused().hint(
            "with a [windows] instance and the DataSync password in Secrets Manager, `check` also logs on to the \
             source's share as the DataSync user before the target exists",
        ));
    };
    let mut port = AnyPort::open(global, true).await?;
    let source = match port
        .execute(&Command::DescribeFileSystem {
            file_system_id: intent.source.file_system_id.clone(),
        })
        .await
    {
        Ok(Response::FileSystem(info)) => info,
        Ok(other) => {
            return Err(Failure::internal(format!(
                "DescribeFileSystems answered {other:?}"
            )));
        }
        Err(error) => {
            return Err(
                Failure::user(format!("{} failed: {}", error.operation, error.message))
                    .hint(format!("fix the cause, then `{}`", replay.command("check"))),
            );
        }
    };
    let endpoint = source.remote_administration_endpoint.clone();
    let folders = share_folders_at(&mut port, intent, endpoint).await;
    let again = replay.command("check");
    let result = logon(&mut port, intent, &source.dns_name, folders, "check")
        .await
        .map_err(|why| {
            Failure::user("the DataSync user could not log on to the source's share")
                .cause(why)
                .hint(
                    "check transfer.smb_user, transfer.smb_domain and the secret's password; the instance's role \
                     needs secretsmanager:GetSecretValue on the secret (docs/aws-permissions.md)",
                )
                .hint(format!("nothing was created; fix the cause, then `{again}`"))
        })?;
    let unlisted = unlisted(&result);
    if !unlisted.is_empty() {
        let mut failure = Failure::user(format!(
            "the DataSync user {} logged on to {} but could not list {} folder(s)",
            result.user,
            result.share,
            unlisted.len()
        ));
        for folder in unlisted {
            failure = failure.cause(folder);
        }
        return Err(failure
            .hint("give the user the rights docs/runbook.md §0 names (DataSync reads every file with them)")
            .hint(format!("nothing was created; fix the cause, then `{again}`")));
    }
    Ok(format!(
        "Logon checked: {} logged on to {} and listed its root{} from {} (the password read from Secrets Manager on \
         the instance, never sent).\n\
         DataSync itself is checked once the plan's tasks exist: `{}` creates the target (billable) and the tasks, \
         copies nothing and stops; then `{again}`.\n",
        result.user,
        result.share,
        match result.folders.len() {
            0 => String::new(),
            n => format!(" and {n} folder(s)"),
        },
        windows.ssm_instance_id,
        replay.command("run --until initial_sync"),
    ))
}

/// `[windows]` and the DataSync password's secret, when the plan has both: what a logon needs.
pub(super) fn logon_possible(intent: &Intent) -> Option<(&crate::plan::intent::Windows, &str)> {
    match (intent.windows.as_ref(), &intent.transfer.smb_password) {
        (Some(windows), PasswordSource::SecretsManager(secret_id)) => Some((windows, secret_id.as_str())),
        _ => None,
    }
}

/// logon.ps1 on the plan's instance: the DataSync user logs on to the source's share (`source_dns`) and
/// lists its root, the lanes' folders and `share_folders`. `Err`: why it could not log on.
pub(super) async fn logon(
    port: &mut AnyPort,
    intent: &Intent,
    source_dns: &str,
    share_folders: Vec<String>,
    purpose: &str,
) -> Result<LogonResult, String> {
    let (windows, secret_id) =
        logon_possible(intent).ok_or("the plan has no [windows] instance or no secret")?;
    let subdirectory = &intent.transfer.source_subdirectory;
    let mut folders: Vec<String> = Vec::new();
    let lane_folders = intent
        .transfer
        .lanes
        .iter()
        .flat_map(|l| l.includes.iter().cloned());
    for folder in lane_folders.chain(share_folders) {
        let folder = share_relative(subdirectory, &folder);
        if !folder.contains('*') && !folders.contains(&folder) {
            folders.push(folder);
        }
    }
    let args = LogonArgs {
        share: format!("\\\\{source_dns}\\{}", share_of(subdirectory)),
        user_name: format!("{}\\{}", intent.transfer.smb_domain, intent.transfer.smb_user),
        secret_id: secret_id.to_string(),
        folders,
    };
    let (user, share) = (args.user_name.clone(), args.share.clone());
    let call = ScriptCall {
        logon: Some(args),
        ..ScriptCall::new(WindowsScript::Logon)
    };
    let instance = &windows.ssm_instance_id;
    let timeout = crate::plan::units::Duration::mins(5);
    let json = run_read_only(port, intent, instance, call, purpose, timeout)
        .await
        .map_err(|why| format!("{user} on {share} (logon.ps1 on {instance}): {why}"))?;
    parse_result(WindowsScript::Logon, &json)
}

/// `plan` with `[windows]` and the password in Secrets Manager: the DataSync user's logon to the source's
/// share, days before anything is billable. Its success is a note; a failure a warning (the plan is written).
pub(super) async fn logon_at_plan(
    port: &mut AnyPort,
    intent: &Intent,
    env: &crate::cloud::port::Environment,
) -> Option<Result<String, crate::core::preflight::Finding>> {
    logon_possible(intent)?;
    let source_dns = env.source.as_ref()?.dns_name.clone();
    let warning = |message: String| {
        crate::core::preflight::warning(
            message,
            Some(
                "check transfer.smb_user, transfer.smb_domain, the secret's password and the user's rights; `fsx-migrate check PLAN` tries again",
            ),
        )
    };
    Some(match logon(port, intent, &source_dns, Vec::new(), "plan").await {
        Err(why) => Err(warning(format!(
            "the DataSync user could not log on to the source's share: {why}"
        ))),
        Ok(result) => match unlisted(&result).as_slice() {
            [] => Ok(format!(
                "the DataSync user {} logged on to {} and listed it (logon.ps1 on the Windows instance)",
                result.user, result.share
            )),
            folders => Err(warning(format!(
                "the DataSync user {} logged on to {} but could not list: {}",
                result.user,
                result.share,
                folders.join("; ")
            ))),
        },
    })
}

/// The folders a logon could not list, with why.
pub(super) fn unlisted(result: &LogonResult) -> Vec<String> {
    result
        .folders
        .iter()
        .filter(|f| !f.listed)
        .map(|f| format!("{}: {}", f.path, f.error.as_deref().unwrap_or("no error given")))
        .collect()
}

/// The share a location's subdirectory names: its first part (`/share/data` → `share`).
fn share_of(subdirectory: &str) -> &str {
    subdirectory.split('/').find(|p| !p.is_empty()).unwrap_or("share")
}

/// A folder relative to the location's subdirectory, as a path below its share (`/share/data` + `/x` →
/// `/data/x`).
fn share_relative(subdirectory: &str, folder: &str) -> String {
    let below_share: Vec<&str> = subdirectory
        .split('/')
        .filter(|p| !p.is_empty())
        .skip(1)
        .collect();
    let mut path = String::new();
    for part in below_share {
        path.push('/');
        path.push_str(part);
    }
    path.push_str(folder.trim_end_matches('/'));
    path
}
