//! The Windows file service around the bytes: which of the source's shares the plan's copy carries, and
//! whether the target's shares and in-server settings match the source's once apply.ps1 ran.
//!
//! DataSync copies files and folders; users reach them through shares, which live in the file server's
//! configuration, not in the data. The scripts that read and write that configuration run through
//! `Machine::powershell`; what to make of their results is decided here, purely.

use crate::cloud::model::filter_matches;
use crate::cloud::windows::{ServiceExport, ShareAccess, ShareConfig};
use crate::plan::intent::Transfer;

/// A share the plan's copy does not carry: users of it would find it missing (or partial) on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    pub name: String,
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for Uncovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "share {} ({}): {}", self.name, self.path, self.reason)
    }
}

/// A Windows path's parts, as spelled: `/` taken as `\\`, empty parts (a trailing separator) dropped.
fn parts(path: &str) -> Vec<&str> {
    path.split(['\\', '/']).filter(|p| !p.is_empty()).collect()
}

/// Whether two paths name the same folder, compared as Windows does: without regard to case.
fn same_path(a: &str, b: &str) -> bool {
    let (a, b) = (parts(a), parts(b));
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x.to_lowercase() == y.to_lowercase())
}

/// The parts of `path` below `root` (empty: the same folder), or None when it is not inside `root`.
fn below<'a>(path: &'a str, root: &str) -> Option<Vec<&'a str>> {
    let (path, root) = (parts(path), parts(root));
    let inside = path.len() >= root.len()
        && path
            .iter()
            .zip(&root)
            .all(|(x, y)| x.to_lowercase() == y.to_lowercase());
    inside.then(|| path[root.len()..].to_vec())
}

/// The folder the copy carries, as a path on the file system: the path of the share the DataSync location
/// names (the subdirectory's first part, `/share` by default) followed by the rest of the subdirectory.
pub fn copied_root(export: &ServiceExport, subdirectory: &str) -> Result<String, String> {
    let mut rest = subdirectory.split('/').filter(|p| !p.is_empty());
    let Some(share) = rest.next() else {
        return Err(format!(
            "the location's subdirectory {subdirectory:?} names no share"
        ));
    };
    let Some(root) = export.shares.iter().find(|s| s.name.eq_ignore_ascii_case(share)) else {
        return Err(format!(
            "the location's subdirectory {subdirectory:?} names the share {share}, which the source does not list"
        ));
    };
    let mut path = parts(&root.path).join("\\");
    for part in rest {
        path.push('\\');
        path.push_str(part);
    }
    Ok(path)
}

/// The source's shares the copy does not carry: outside the copied folder, holding more than it, or in a
/// folder the plan excludes. Shares listed in `left_behind` are the operator's decision and not reported.
pub fn uncovered_shares(
    export: &ServiceExport,
    transfer: &Transfer,
    left_behind: &[String],
) -> Vec<Uncovered> {
    // Shares are created on the target with the source's paths: the copy must land at the same place.
    let same_folder = same_path(&transfer.source_subdirectory, &transfer.target_subdirectory);
    let root = match copied_root(export, &transfer.source_subdirectory) {
        Ok(_) if !same_folder => Err(format!(
            "the plan copies {} into {} on the target, another folder, and shares are created with the \
             source's paths (copy them by hand and set [windows] copy_shares = false)",
            transfer.source_subdirectory, transfer.target_subdirectory
        )),
        other => other,
    };
    let root = match root {
        Ok(root) => root,
        Err(reason) => {
            return export
                .shares
                .iter()
                .filter(|s| !is_left_behind(s, left_behind))
                .map(|s| Uncovered {
                    name: s.name.clone(),
                    path: s.path.clone(),
                    reason: reason.clone(),
                })
                .collect();
        }
    };
    export
        .shares
        .iter()
        .filter(|s| !is_left_behind(s, left_behind))
        .filter_map(|share| {
            let reason = if let Some(relative) = below(&share.path, &root) {
                let relative = format!("/{}", relative.join("/"));
                if relative == "/" {
                    return None;
                }
                if filter_matches(&transfer.excludes, &relative) {
                    format!("its folder {relative} is excluded by transfer.excludes")
                } else if excluded_but_for_case(&transfer.excludes, &relative) {
                    // DataSync compares filters case-sensitively with the folder's name on disk, which the
                    // share's path need not spell the same way (Windows does not care): it may be excluded.
                    format!(
                        "its folder {relative} matches transfer.excludes but for letter case; DataSync compares \
                         with the folder's name on disk, which the share's path may spell otherwise, so it may \
                         not be copied (check the name on disk and fix the exclude, or leave the share behind)"
                    )
                } else {
                    return None;
                }
            } else if below(&root, &share.path).is_some() {
                format!("it holds more than {root}, the only folder the plan copies")
            } else {
                format!("it is outside {root}, the folder the plan copies")
            };
            Some(Uncovered {
                name: share.name.clone(),
                path: share.path.clone(),
                reason,
            })
        })
        .collect()
}

/// Whether an exclude matches `relative` when letter case is ignored.
fn excluded_but_for_case(excludes: &[String], relative: &str) -> bool {
    let lower: Vec<String> = excludes.iter().map(|e| e.to_lowercase()).collect();
    filter_matches(&lower, &relative.to_lowercase())
}

/// The folders of the shares the copy carries, relative to the folder it copies (`/finance`), as a DataSync
/// filter names them: not the share the location itself names (the root), nor one left behind or whose
/// folder the plan excludes (DataSync would not look there).
pub fn share_folders(export: &ServiceExport, transfer: &Transfer, left_behind: &[String]) -> Vec<String> {
    let Ok(root) = copied_root(export, &transfer.source_subdirectory) else {
        return Vec::new();
    };
    export
        .shares
        .iter()
        .filter(|share| !is_left_behind(share, left_behind))
        .filter_map(|share| below(&share.path, &root))
        .filter(|relative| !relative.is_empty())
        .map(|relative| format!("/{}", relative.join("/")))
        .filter(|relative| {
            !filter_matches(&transfer.excludes, relative)
                && !excluded_but_for_case(&transfer.excludes, relative)
        })
        .collect()
}

fn is_left_behind(share: &ShareConfig, left_behind: &[String]) -> bool {
    left_behind
        .iter()
        .any(|name| name.eq_ignore_ascii_case(&share.name))
}

/// The export apply.ps1 makes true on the target: the source's export without the shares left behind (the
/// copy stopped before the apply if any other share is not carried).
pub fn to_apply(export: &ServiceExport, left_behind: &[String]) -> ServiceExport {
    let mut apply = export.clone();
    apply.shares.retain(|s| !is_left_behind(s, left_behind));
    apply
}

/// How the target's shares differ from those applied: missing, another path, other properties or other
/// access entries (compared as sets, accounts without regard to case). Empty: the shares match.
pub fn share_differences(applied: &[ShareConfig], target: &[ShareConfig]) -> Vec<String> {
    let mut differences = Vec::new();
    for want in applied {
        let Some(have) = target.iter().find(|t| t.name.eq_ignore_ascii_case(&want.name)) else {
            differences.push(format!("share {} is missing on the target", want.name));
            continue;
        };
        let properties = [
            (
                "path",
                want.path.clone(),
                if same_path(&want.path, &have.path) {
                    want.path.clone()
                } else {
                    have.path.clone()
                },
            ),
            ("description", want.description.clone(), have.description.clone()),
            (
                "folder enumeration mode",
                want.folder_enumeration_mode.clone(),
                have.folder_enumeration_mode.clone(),
            ),
            (
                "caching mode",
                want.caching_mode.clone(),
                have.caching_mode.clone(),
            ),
            (
                "encrypt data",
                want.encrypt_data.to_string(),
                have.encrypt_data.to_string(),
            ),
            (
                "continuously available",
                want.continuously_available.to_string(),
                have.continuously_available.to_string(),
            ),
            (
                "concurrent user limit",
                want.concurrent_user_limit.to_string(),
                have.concurrent_user_limit.to_string(),
            ),
        ];
        for (what, want_value, have_value) in properties {
            if want_value != have_value {
                differences.push(format!(
                    "share {}: {what} is {have_value:?} on the target, {want_value:?} on the source",
                    want.name
                ));
            }
        }
        let entries = |share: &ShareConfig| {
            let mut entries: Vec<String> = share
                .access
                .iter()
                .map(|a| format!("{} {} {}", account_key(&a.account), a.control, a.right))
                .collect();
            entries.sort();
            entries.dedup();
            entries
        };
        let (want_entries, have_entries) = (entries(want), entries(have));
        if want_entries != have_entries {
            let missing: Vec<&String> = want_entries
                .iter()
                .filter(|e| !have_entries.contains(e))
                .collect();
            let extra: Vec<&String> = have_entries
                .iter()
                .filter(|e| !want_entries.contains(e))
                .collect();
            differences.push(format!(
                "share {}: access differs (missing on the target: {missing:?}; only on the target: {extra:?})",
                want.name
            ));
        }
    }
    differences
}

/// An account as the share entries compare it: without regard to case, the domain cut to its first label
/// (`corp.example.com\\svc` is `CORP\\svc`), as freeze.ps1 compares them.
pub fn account_key(account: &str) -> String {
    match account.trim().split_once('\\') {
        Some((domain, name)) => {
            format!("{}\\{}", domain.split('.').next().unwrap_or(domain), name).to_lowercase()
        }
        None => account.trim().to_lowercase(),
    }
}

/// The share DataSync writes through on the target (the first part of the location's subdirectory) keeps
/// `account` (the DataSync user) with Full access: the final sync runs after the copy of shares made every
/// share's access the source's, and the source may grant that user only Read.
pub fn keep_writer(apply: &mut ServiceExport, target_subdirectory: &str, account: &str) {
    let Some(name) = target_subdirectory.split('/').find(|p| !p.is_empty()) else {
        return;
    };
    let Some(share) = apply
        .shares
        .iter_mut()
        .find(|s| s.name.eq_ignore_ascii_case(name))
    else {
        return;
    };
    let key = account_key(account);
    let writes = |a: &ShareAccess| {
        account_key(&a.account) == key
            && a.control == "Allow"
            && matches!(a.right.as_str(), "Full" | "Change")
    };
    if !share.access.iter().any(writes) {
        share.access.retain(|a| account_key(&a.account) != key);
        share.access.push(ShareAccess {
            account: account.to_string(),
            control: "Allow".into(),
            right: "Full".into(),
        });
    }
}

/// The in-server settings that differ between the source and the target after the apply, by name.
pub fn setting_differences(source: &ServiceExport, target: &ServiceExport) -> Vec<String> {
    source
        .settings()
        .into_iter()
        .zip(target.settings())
        .filter(|((_, want), (_, have))| want.is_some() && want != have)
        .map(|((name, want), (_, have))| {
            let show = |v: Option<&serde_json::Value>| v.map_or("not set".to_string(), |v| v.to_string());
            format!(
                "{name}: {} on the target, {} on the source",
                show(have),
                show(want)
            )
        })
        .collect()
}
