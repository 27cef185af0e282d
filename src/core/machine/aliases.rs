//! Moving the DNS aliases from one file system to the other, after the record's swap (and back, after the
//! swap back): FSx disassociates them from `from`, then associates them with `to` (an alias is on one file
//! system at a time), each waited for until FSx reports it done; then their Kerberos SPNs move to `to`'s
//! computer object (spn.ps1 through SSM, or a person told exactly what to run); then their CNAMEs in the
//! plan's hosted zone that pointed at `from` point at `to`.
//!
//! Every call is recorded write-ahead and re-decided from a fresh DescribeFileSystemAliases, so a resumed
//! run neither disassociates an alias FSx already moved (BadRequest) nor associates one twice (a no-op).

use super::*;
use crate::cloud::model::{AliasInfo, AliasLifecycle, dns_eq};
use crate::plan::checkpoint::AliasRecord;

/// How often FSx is asked whether an alias finished moving (it takes up to 2.5 minutes).
const ALIAS_POLL: Duration = Duration::secs(15);
/// An alias still not moving this long after the request: FSx did not take the request.
const ALIAS_STUCK: Duration = Duration::mins(15);

impl Machine<'_> {
    fn alias_move(&self, back: bool) -> Option<&AliasMove> {
        if back {
            self.cp.rollback.as_ref()?.aliases_back.as_ref()
        } else {
            self.cp.aliases.as_ref()
        }
    }

    fn alias_move_mut(&mut self, back: bool) -> Option<&mut AliasMove> {
        if back {
            self.cp.rollback.as_mut()?.aliases_back.as_mut()
        } else {
            self.cp.aliases.as_mut()
        }
    }

    /// Phase MoveAliases (`back`: MoveAliasesBack): one step of the move; `next` once it is done.
    pub(super) fn move_aliases(&mut self, back: bool, input: Input, next: Phase) -> Flow {
        if self.alias_move(back).is_none() {
            let Some(target) = self.cp.target_file_system_id.clone() else {
                return self.missing("the target file system's id");
            };
            let source = self.intent.source.file_system_id.clone();
            let mut moving = if back {
                AliasMove::new(target, source)
            } else {
                AliasMove::new(source, target)
            };
            // Back: the aliases the move to the target took (some may not have arrived there).
            if back {
                moving.names = Some(
                    self.cp
                        .aliases
                        .as_ref()
                        .and_then(|m| m.names.clone())
                        .unwrap_or_default(),
                );
            }
            match back {
                true => {
                    if let Some(rollback) = self.cp.rollback.as_mut() {
                        rollback.aliases_back = Some(moving);
                    }
                }
                false => self.cp.aliases = Some(moving),
            }
        }
        let Some(moving) = self.alias_move(back).cloned() else {
            return self.missing("the alias move");
        };
        if moving.done_at.is_some() {
            return Flow::Advance(next);
        }
        match input {
            Input::Start | Input::Woke => self.next_alias_call(back, &moving, next),
            Input::Response(Response::FileSystem(fs)) => {
                let Some(m) = self.alias_move_mut(back) else {
                    return self.missing("the alias move");
                };
                if fs.id == m.from {
                    m.from_dns_name = Some(fs.dns_name);
                } else if fs.id == m.to {
                    m.to_dns_name = Some(fs.dns_name);
                }
                Flow::Again
            }
            Input::Response(Response::Aliases {
                file_system_id,
                aliases,
            }) => self.on_aliases(back, &moving, &file_system_id, &aliases),
            Input::Response(Response::Record(record)) => {
                let from_dns_name = moving.from_dns_name.clone().unwrap_or_default();
                let Some(m) = self.alias_move_mut(back) else {
                    return self.missing("the alias move");
                };
                m.records_looked_up += 1;
                if let Some(record) = record.filter(|r| {
                    r.record_type == "CNAME" && r.values.iter().any(|v| dns_eq(v, &from_dns_name))
                }) {
                    m.records.push(AliasRecord {
                        name: record.name.trim_end_matches('.').to_string(),
                        ttl: record.ttl.unwrap_or(300),
                        requested_at: None,
                        change_id: None,
                        insync_at: None,
                    });
                }
                Flow::Again
            }
            Input::Response(Response::Change { id, status }) => {
                let now = self.now;
                let Some(m) = self.alias_move_mut(back) else {
                    return self.missing("the alias move");
                };
                // The answer to the UPSERT in flight (write-ahead, no id yet), or to a GetChange.
                let record = match m
                    .records
                    .iter_mut()
                    .find(|r| r.change_id.as_deref() == Some(id.as_str()))
                {
                    Some(record) => record,
                    None => match m
                        .records
                        .iter_mut()
                        .find(|r| r.requested_at.is_some() && r.change_id.is_none())
                    {
                        Some(record) => {
                            record.change_id = Some(id.clone());
                            record
                        }
                        None => return self.missing("the alias record this Route 53 change belongs to"),
                    },
                };
                if status == ChangeStatus::InSync {
                    record.insync_at = Some(now);
                    return Flow::Again;
                }
                let name = record.name.clone();
                Flow::Act(Action::WaitUntil {
                    at: after(now, DNS_POLL),
                    reason: format!("Route 53 change {id} (alias {name}) is {status}"),
                })
            }
            Input::CommandFinished(Ok(())) => {
                let now = self.now;
                if let Some(m) = self.alias_move_mut(back) {
                    m.spns_moved_at = Some(now);
                }
                Flow::Again
            }
            Input::CommandFinished(Err(error)) => Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                "spn.ps1 could not move the aliases' SPNs to {}: {error}",
                moving.to
            )))),
            other => self.unexpected(&other),
        }
    }

    /// The next call of the move, from what the checkpoint knows.
    fn next_alias_call(&mut self, back: bool, moving: &AliasMove, next: Phase) -> Flow {
        let describe = |id: &str| {
            Flow::Act(Action::Call(Command::DescribeFileSystem {
                file_system_id: id.to_string(),
            }))
        };
        if moving.from_dns_name.is_none() {
            return describe(&moving.from);
        }
        if moving.to_dns_name.is_none() {
            return describe(&moving.to);
        }
        let Some(names) = &moving.names else {
            return Flow::Act(Action::Call(Command::DescribeAliases {
                file_system_id: moving.from.clone(),
            }));
        };
        if names.is_empty() {
            return self.alias_move_done(back, next);
        }
        if moving.disassociated_at.is_none() {
            return Flow::Act(Action::Call(Command::DescribeAliases {
                file_system_id: moving.from.clone(),
            }));
        }
        if moving.associated_at.is_none() {
            return Flow::Act(Action::Call(Command::DescribeAliases {
                file_system_id: moving.to.clone(),
            }));
        }
        if moving.spns_moved_at.is_none() {
            return self.move_spns(back, moving);
        }
        let looked_up = moving.records_looked_up as usize;
        if let Some(name) = names.get(looked_up) {
            return Flow::Act(Action::Call(Command::FindRecord {
                hosted_zone_id: self.intent.dns.hosted_zone_id.clone(),
                record_name: name.clone(),
            }));
        }
        if let Some(i) = moving.records.iter().position(|r| r.insync_at.is_none()) {
            let record = &moving.records[i];
            if let Some(change_id) = &record.change_id {
                return Flow::Act(Action::Call(Command::GetChange {
                    change_id: change_id.clone(),
                }));
            }
            // Idempotent: an UPSERT whose answer was lost is sent again.
            let request = UpsertCnameRequest {
                hosted_zone_id: self.intent.dns.hosted_zone_id.clone(),
                record_name: record.name.clone(),
                value: moving.to_dns_name.clone().unwrap_or_default(),
                ttl: record.ttl,
                comment: format!(
                    "fsx-migrate {}: alias {} to {}",
                    self.intent.migration.id, record.name, moving.to
                ),
            };
            let now = self.now;
            if let Some(m) = self.alias_move_mut(back) {
                m.records[i].requested_at = Some(now);
            }
            return Flow::Act(Action::Call(Command::UpsertCname(request)));
        }
        self.alias_move_done(back, next)
    }

    fn alias_move_done(&mut self, back: bool, next: Phase) -> Flow {
        let now = self.now;
        if let Some(m) = self.alias_move_mut(back) {
            m.done_at = Some(now);
            let names = m.names.clone().unwrap_or_default();
            if !names.is_empty() {
                let note = format!("DNS aliases moved to {}: {}", m.to, names.join(", "));
                self.events.push(Event::Note(note));
            }
        }
        Flow::Advance(next)
    }

    /// What FSx says about the aliases of one file system: the move's next step.
    fn on_aliases(
        &mut self,
        back: bool,
        moving: &AliasMove,
        file_system_id: &str,
        aliases: &[AliasInfo],
    ) -> Flow {
        let now = self.now;
        // The same list of aliases is the same request: sent again (after a crash lost it) with the same token,
        // FSx answers it as the first time; another list is another request, with its own token.
        let token = |what: &str, aliases: &[String]| {
            let mut token = format!(
                "fsx-migrate-{}-{what}-{}",
                self.intent.migration.id, file_system_id
            );
            token.retain(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            token.truncate(63 - 9);
            format!("{token}-{:08x}", fnv1a(&aliases.join(",")))
        };
        let Some(names) = moving.names.clone() else {
            // The first look at `from`: the aliases to move (one that failed to associate there is left alone).
            let names: Vec<String> = aliases
                .iter()
                .filter(|a| matches!(a.lifecycle, AliasLifecycle::Available | AliasLifecycle::Creating))
                .map(|a| a.name.clone())
                .collect();
            if let Some(m) = self.alias_move_mut(back) {
                m.names = Some(names);
            }
            return Flow::Again;
        };
        let mine = |name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if moving.disassociated_at.is_none() && file_system_id == moving.from {
            let present: Vec<&AliasInfo> = aliases.iter().filter(|a| mine(&a.name)).collect();
            if let Some(failed) = present
                .iter()
                .find(|a| a.lifecycle == AliasLifecycle::DeleteFailed)
            {
                return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                    "FSx could not disassociate the alias {} from {file_system_id} (DELETE_FAILED)",
                    failed.name
                ))));
            }
            if present.is_empty() {
                if let Some(m) = self.alias_move_mut(back) {
                    m.disassociated_at = Some(now);
                }
                return Flow::Again;
            }
            let staying: Vec<String> = present
                .iter()
                .filter(|a| a.lifecycle != AliasLifecycle::Deleting)
                .map(|a| a.name.clone())
                .collect();
            // FSx marks an alias DELETING as it takes the request: one still AVAILABLE was never asked for (the
            // request was lost), so it is asked for (again).
            if !staying.is_empty() {
                if let Some(at) = moving.disassociate_requested_at
                    && now >= after(at, ALIAS_STUCK)
                {
                    return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                        "FSx still has {} on {file_system_id} {} after the request to disassociate them",
                        staying.join(", "),
                        ALIAS_STUCK
                    ))));
                }
                if let Some(m) = self.alias_move_mut(back) {
                    m.disassociate_requested_at.get_or_insert(now);
                }
                let client_request_token = token("off", &staying);
                return Flow::Act(Action::Call(Command::DisassociateAliases {
                    file_system_id: file_system_id.to_string(),
                    aliases: staying,
                    client_request_token,
                }));
            }
            return Flow::Act(Action::WaitUntil {
                at: after(now, ALIAS_POLL),
                reason: format!("FSx is disassociating {} from {file_system_id}", names.join(", ")),
            });
        }
        if moving.associated_at.is_none() && file_system_id == moving.to {
            if let Some(failed) = aliases
                .iter()
                .find(|a| mine(&a.name) && a.lifecycle == AliasLifecycle::CreateFailed)
            {
                return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                    "FSx could not associate the alias {} with {file_system_id} (CREATE_FAILED)",
                    failed.name
                ))));
            }
            let available = |name: &str| {
                aliases
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case(name) && a.lifecycle == AliasLifecycle::Available)
            };
            if names.iter().all(|n| available(n)) {
                if let Some(m) = self.alias_move_mut(back) {
                    m.associated_at = Some(now);
                }
                return Flow::Again;
            }
            let missing: Vec<String> = names
                .iter()
                .filter(|n| !aliases.iter().any(|a| a.name.eq_ignore_ascii_case(n)))
                .cloned()
                .collect();
            // FSx lists an alias CREATING as it takes the request: one it does not list was never asked for.
            if !missing.is_empty() {
                if let Some(m) = self.alias_move_mut(back) {
                    m.associate_requested_at.get_or_insert(now);
                }
                let client_request_token = token("on", &missing);
                return Flow::Act(Action::Call(Command::AssociateAliases {
                    file_system_id: file_system_id.to_string(),
                    aliases: missing,
                    client_request_token,
                }));
            }
            match moving.associate_requested_at {
                Some(at) if now >= after(at, ALIAS_STUCK) => {
                    return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                        "{file_system_id} still does not have every alias of {} available {} after the request",
                        names.join(", "),
                        ALIAS_STUCK
                    ))));
                }
                _ => {}
            }
            return Flow::Act(Action::WaitUntil {
                at: after(now, ALIAS_POLL),
                reason: format!("FSx is associating {} with {file_system_id}", names.join(", ")),
            });
        }
        // An associate's or disassociate's own answer: look again shortly.
        Flow::Act(Action::WaitUntil {
            at: after(now, ALIAS_POLL),
            reason: format!("FSx is moving {} to {}", names.join(", "), moving.to),
        })
    }

    /// The SPNs follow the aliases: spn.ps1 through SSM with `[windows]`, else a person is told what to run
    /// (and the report says they were left to a person).
    fn move_spns(&mut self, back: bool, moving: &AliasMove) -> Flow {
        if self.intent.windows.is_some() {
            return Flow::Act(self.start_powershell(WindowsScript::Spn, &moving.to.clone()));
        }
        let from = moving.from_dns_name.clone().unwrap_or_default();
        let to = moving.to_dns_name.clone().unwrap_or_default();
        let host = |dns: &str| dns.split('.').next().unwrap_or_default().to_string();
        for alias in moving.names.clone().unwrap_or_default() {
            let short = alias.split('.').next().unwrap_or_default().to_string();
            self.events.push(Event::Finding(preflight::warning(
                format!(
                    "move the SPNs of {alias} by hand (no [windows] instance): setspn -D HOST/{alias} {f}; \
                     setspn -D HOST/{short} {f}; setspn -S HOST/{alias} {t}; setspn -S HOST/{short} {t}",
                    f = host(&from),
                    t = host(&to)
                ),
                Some(
                    "Kerberos to the alias fails until then (clients fall back to NTLM where it is allowed)",
                ),
            )));
        }
        let now = self.now;
        if let Some(m) = self.alias_move_mut(back) {
            m.spns_by_hand = true;
            m.spns_moved_at = Some(now);
        }
        Flow::Again
    }

    /// spn.ps1's arguments: the aliases of the move in flight and the DNS name of the file system losing them.
    pub(super) fn spn_arguments(&self) -> (Option<String>, Vec<String>) {
        let back = self.cp.phase() == Phase::MoveAliasesBack;
        match self.alias_move(back) {
            Some(m) => (m.from_dns_name.clone(), m.names.clone().unwrap_or_default()),
            None => (None, Vec::new()),
        }
    }
}

/// FNV-1a, 32 bits: a short, stable fingerprint of a request's parameters for its client token.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}
