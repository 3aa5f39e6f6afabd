//! Journal entries by subject ("who accessed my data"), actor ("what did this key do"),
//! action, purpose and time, in the journal's order.

use super::{cursor, cursor_key, filter_error, instant, limit, stamp, Page, Registers};
use crate::error::VaultResult;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::journal::{AdminEvent, JournalAction};
use ward_core::{ApiKeyId, Caller, JournalDraft, SubjectId};
use ward_store::{Change, JournalFilter};

const TAG: u8 = b'j';

/// What to list, as given (the vault checks every value). Every filter set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    pub subject: Option<SubjectId>,
    /// `key:<id>`, `cli` or `system`.
    pub actor: Option<String>,
    /// An action's name (`retrieval`, `consent.given`, ...).
    pub action: Option<String>,
    /// A purpose of some policy version.
    pub purpose: Option<String>,
    /// At or after (date or RFC 3339).
    pub from: Option<String>,
    /// Before (date or RFC 3339).
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One journal entry as listed: ids, enums, names from the policy; never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalListing {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub subject: Option<SubjectId>,
    pub purpose: Option<String>,
    pub fields: Vec<String>,
    pub detail: Option<String>,
}

impl Registers<'_> {
    /// One page of the journal entries that match `q`, oldest first (admin, officer). A page
    /// reads a bounded stretch of the journal: it may hold fewer than the limit, and then says
    /// where to go on.
    /// Journaled (`journal.read`, with the subject, purpose and filters) before it answers.
    pub async fn journal(&self, caller: &Caller, q: &JournalQuery) -> VaultResult<Page<JournalListing>> {
        let v = self.0;
        let op = v.op(caller, Operation::JournalRead)?;
        let actor = q.actor.as_deref().map(check_actor).transpose()?;
        let action = q
            .action
            .as_deref()
            .map(|a| {
                JournalAction::parse(a)
                    .map(|a| a.as_str().to_owned())
                    .ok_or_else(|| filter_error("`action` is not an action the journal records"))
            })
            .transpose()?;
        let purpose = q.purpose.as_deref().map(|p| {
            // Only a name some version of the policy declares reaches the journal.
            if v.policies()
                .versions()
                .iter()
                .any(|ver| ver.policy.purpose(p).is_some())
            {
                Ok(p.to_owned())
            } else {
                Err(filter_error("`purpose` is no purpose of any policy version"))
            }
        });
        let filter = JournalFilter {
            subject: q.subject,
            actor,
            action,
            purpose: purpose.transpose()?,
            from: q.from.as_deref().map(|s| instant("from", s)).transpose()?,
            to: q.to.as_deref().map(|s| instant("to", s)).transpose()?,
            upto_seq: None,
        };
        let limit = limit(q.limit)?;
        let after = match q.cursor.as_deref() {
            Some(c) => {
                let key: [u8; 8] = cursor_key(TAG, c, 8)?.try_into().unwrap_or([0; 8]);
                i64::from_be_bytes(key)
            }
            None => 0,
        };
        // A page reads a bounded stretch of the journal: a filter few entries
        // match answers a short page with a cursor instead of reading the whole journal.
        let head = v.store().find_journal_head().await?.map_or(0, |h| h.seq);
        let upto = after.saturating_add(v.inner.config.register_journal_positions_per_page.max(1));
        let filter = JournalFilter {
            upto_seq: Some(upto),
            ..filter
        };
        // One more than asked, to know whether a next page exists.
        let mut rows = v.store().find_journal_page(&filter, after, limit + 1).await?;
        let full = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = match rows.last() {
            Some(e) if full => Some(e.seq),
            _ if upto < head => Some(upto),
            _ => None,
        };
        let next_cursor = next.map(|seq| cursor(TAG, &seq.to_be_bytes()));
        let mut entry =
            JournalDraft::new(op.now, op.actor(), AdminEvent::JournalRead).detail(detail(&filter, rows.len()));
        if let Some(s) = filter.subject {
            entry = entry.subject(s);
        }
        if let Some(p) = &filter.purpose {
            entry = entry.purpose(p.clone());
        }
        v.commit(Change::JournalOnly, vec![entry]).await?;
        let items = rows
            .into_iter()
            .map(|e| JournalListing {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                purpose: e.purpose,
                fields: e.fields,
                detail: e.detail,
            })
            .collect();
        Ok(Page { items, next_cursor })
    }
}

/// An actor as the journal writes it: `cli`, `system` or `key:<id>`.
fn check_actor(a: &str) -> VaultResult<String> {
    let ok = matches!(a, "cli" | "system") || a.strip_prefix("key:").and_then(ApiKeyId::parse).is_some();
    if ok {
        Ok(a.to_owned())
    } else {
        Err(filter_error("`actor` must be `cli`, `system` or `key:<key id>`"))
    }
}

/// The filters besides subject and purpose (which the entry names in their own columns), as
/// the journal names them: an actor, an action, instants; and how many entries were listed.
fn detail(f: &JournalFilter, count: usize) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &f.actor {
        parts.push(format!("actor:{a}"));
    }
    if let Some(a) = &f.action {
        parts.push(format!("action:{a}"));
    }
    if let Some(t) = f.from {
        parts.push(format!("from:{}", stamp(t)));
    }
    if let Some(t) = f.to {
        parts.push(format!("to:{}", stamp(t)));
    }
    parts.push(format!("count:{count}"));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_checked() {
        assert_eq!(check_actor("cli").unwrap(), "cli");
        assert!(check_actor("key:nope@example.com").is_err());
        assert!(check_actor("alice@example.com").is_err());
    }
}
