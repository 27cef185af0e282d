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
use crate::plan::intent::{NameProvider, client_token};

/// How often FSx is asked whether an alias finished moving (it takes up to 2.5 minutes).
const ALIAS_POLL: Duration = Duration::secs(15);
/// A move that made no progress this long in one process stops (FSx says a move takes up to 2.5 minutes).
const ALIAS_STUCK: Duration = Duration::mins(15);
/// An answered request FSx does not show yet is sent again (same token) only after this long.
const ALIAS_RESEND: Duration = Duration::secs(60);

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
            // FSx took an associate or disassociate: it shows in a describe shortly.
            Input::Response(Response::AliasesChanged { file_system_id }) => {
                let now = self.now;
                if let Some(m) = self.alias_move_mut(back) {
                    match m.disassociated_at {
                        None => m.disassociate_answered_at = Some(now),
                        Some(_) => m.associate_answered_at = Some(now),
                    }
                    m.last_progress_at = Some(now);
                }
                Flow::Act(Action::WaitUntil {
                    at: after(now, ALIAS_POLL),
                    reason: format!("FSx is moving aliases on {file_system_id}"),
                })
            }
            Input::Response(Response::Record(record)) => {
                let from_dns_name = moving.from_dns_name.clone().unwrap_or_default();
                // The users' record is the swap's, never the alias move's.
                let users_record = self.intent.dns.record_name.clone();
                let now = self.now;
                let Some(m) = self.alias_move_mut(back) else {
                    return self.missing("the alias move");
                };
                m.records_looked_up += 1;
                m.last_progress_at = Some(now);
                if let Some(record) = record.filter(|r| {
                    r.record_type == "CNAME"
                        && r.values.iter().any(|v| dns_eq(v, &from_dns_name))
                        && !dns_eq(&r.name, &users_record)
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
                    m.last_progress_at = Some(now);
                }
                Flow::Again
            }
            // The aliases moved; their SPNs did not. Kerberos to an alias fails until a person moves them,
            // which stopping here would not change (and would keep the rest of the move waiting).
            Input::CommandFinished(Err(error)) => {
                let note = format!(
                    "spn.ps1 could not move the aliases' SPNs to {}: {error}",
                    moving.to
                );
                self.events
                    .push(Event::Finding(preflight::warning(note.clone(), None)));
                self.spns_by_hand(back, &moving, Some(note));
                Flow::Again
            }
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
        // The aliases' records are looked for in Route 53 only (an AD DNS zone's are a person's, runbook §8.2).
        let looked_up = moving.records_looked_up as usize;
        if self.intent.dns.provider == NameProvider::Route53
            && let Some(name) = names.get(looked_up)
        {
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
                    name_service: None,
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
                name_service: None,
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

    /// What FSx says about the aliases of one file system (DescribeFileSystemAliases): the move's next step.
    /// An alias still AVAILABLE on `from` (or missing on `to`) was never taken by FSx, or the request's answer
    /// was lost: it is asked for, again with the same token. A failed alias stops the run; so does a move that
    /// made no progress for [`ALIAS_STUCK`] in this process.
    fn on_aliases(
        &mut self,
        back: bool,
        moving: &AliasMove,
        file_system_id: &str,
        aliases: &[AliasInfo],
    ) -> Flow {
        let now = self.now;
        let Some(names) = moving.names.clone() else {
            // The first look at `from`: the aliases to move (one that failed to associate there is left alone).
            let names: Vec<String> = aliases
                .iter()
                .filter(|a| matches!(a.lifecycle, AliasLifecycle::Available | AliasLifecycle::Creating))
                .map(|a| a.name.clone())
                .collect();
            if let Some(m) = self.alias_move_mut(back) {
                m.names = Some(names);
                m.last_progress_at = Some(now);
            }
            return Flow::Again;
        };
        let mine: Vec<&AliasInfo> = aliases
            .iter()
            .filter(|a| names.iter().any(|n| n.eq_ignore_ascii_case(&a.name)))
            .collect();
        let state = if mine.is_empty() {
            "none listed".to_string()
        } else {
            mine.iter()
                .map(|a| format!("{} {}", a.name, a.lifecycle.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let disassociating = moving.disassociated_at.is_none() && file_system_id == moving.from;
        let associating = !disassociating && moving.associated_at.is_none() && file_system_id == moving.to;
        if !disassociating && !associating {
            return self.unexpected(&Input::Response(Response::Aliases {
                file_system_id: file_system_id.to_string(),
                aliases: aliases.to_vec(),
            }));
        }
        if let Some(failed) = mine.iter().find(|a| {
            a.lifecycle == AliasLifecycle::DeleteFailed
                || (associating && a.lifecycle == AliasLifecycle::CreateFailed)
        }) {
            return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                "FSx reports the alias {} on {file_system_id} as {}",
                failed.name,
                failed.lifecycle.as_str()
            ))));
        }
        // Off `from`: what is still AVAILABLE is asked off (DELETING is under way; CREATING, an association
        // not finished, is waited for). Onto `to`: what it does not list is asked on.
        let (wanted, done): (Vec<String>, bool) = if disassociating {
            let available = mine
                .iter()
                .filter(|a| a.lifecycle == AliasLifecycle::Available)
                .map(|a| a.name.clone())
                .collect();
            (available, mine.is_empty())
        } else {
            let missing = names
                .iter()
                .filter(|n| !mine.iter().any(|a| a.name.eq_ignore_ascii_case(n)))
                .cloned()
                .collect();
            let all_available =
                mine.len() == names.len() && mine.iter().all(|a| a.lifecycle == AliasLifecycle::Available);
            (missing, all_available)
        };
        if done {
            if let Some(m) = self.alias_move_mut(back) {
                if disassociating {
                    m.disassociated_at = Some(now);
                } else {
                    m.associated_at = Some(now);
                }
                m.last_progress_at = Some(now);
            }
            return Flow::Again;
        }
        let what = if disassociating {
            "disassociate"
        } else {
            "associate"
        };
        if let Some(since) = moving.last_progress_at
            && now >= after(since, ALIAS_STUCK)
        {
            return Flow::Act(Action::Halt(Halt::AliasMoveFailed(format!(
                "no progress for {ALIAS_STUCK} on the request to {what} {} ({file_system_id}: {state})",
                names.join(", ")
            ))));
        }
        let answered = if disassociating {
            moving.disassociate_answered_at
        } else {
            moving.associate_answered_at
        };
        // Answered a moment ago: FSx may not show it yet.
        let just_answered = answered.is_some_and(|at| now < after(at, ALIAS_RESEND));
        if wanted.is_empty() || just_answered {
            return Flow::Act(Action::WaitUntil {
                at: after(now, ALIAS_POLL),
                reason: format!(
                    "FSx is asked to {what} {} ({file_system_id}: {state})",
                    names.join(", ")
                ),
            });
        }
        // The same list to the same file system is the same request: the same token, so FSx answers a resend
        // as the first time; any other request has its own.
        let direction = if disassociating { "off" } else { "on" };
        let fingerprint = fnv1a(&format!("{direction}|{file_system_id}|{}", wanted.join(",")));
        let client_request_token =
            client_token(&self.intent.migration.id, &format!("alias-{fingerprint:08x}"));
        if let Some(m) = self.alias_move_mut(back) {
            if disassociating {
                m.disassociate_requested_at = Some(now);
                m.disassociate_answered_at = None;
            } else {
                m.associate_requested_at = Some(now);
                m.associate_answered_at = None;
            }
        }
        let file_system_id = file_system_id.to_string();
        Flow::Act(Action::Call(if disassociating {
            Command::DisassociateAliases {
                file_system_id,
                aliases: wanted,
                client_request_token,
            }
        } else {
            Command::AssociateAliases {
                file_system_id,
                aliases: wanted,
                client_request_token,
            }
        }))
    }

    /// The SPNs follow the aliases: spn.ps1 through SSM with `[windows]`, else a person is told what to run
    /// (and the report says they were left to a person).
    fn move_spns(&mut self, back: bool, moving: &AliasMove) -> Flow {
        if self.intent.windows.is_some() {
            return Flow::Act(self.start_powershell(WindowsScript::Spn, &moving.to.clone()));
        }
        self.spns_by_hand(back, moving, None);
        Flow::Again
    }

    /// The SPNs are left to a person: the exact setspn commands as warnings, and the checkpoint says so.
    fn spns_by_hand(&mut self, back: bool, moving: &AliasMove, error: Option<String>) {
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
            m.spn_error = error;
            m.spns_moved_at = Some(now);
            m.last_progress_at = Some(now);
        }
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
