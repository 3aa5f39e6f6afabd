//! Destruction acts (RKN Order No. 179 of 28.10.2022): every destruction (an erasure, a
//! category destruction, the destruction job's) writes one in its own transaction
//! (`make.rs`), and the officer lists and reads them here, each with its journal extract
//! (Order 179 p. 5) and as a printable page (`print.rs`). Acts hold no personal data: the
//! subject is its pseudonymous id.

mod make;
mod print;

pub use make::{digest, JOB_DESTROYER};
pub(crate) use make::{journal_note, make, ActInput};

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use time::{Duration, OffsetDateTime};
use ward_core::authz::Operation;
use ward_core::destruction::DestructionMethod;
use ward_core::{ActId, Caller, ProblemCode, SubjectId};
use ward_store::{ActFilter, DestructionActRecord};

/// How long an act is kept: three years from the destruction (Order 179 p. 8), counted as
/// 3 × 365 + 1 days so that a leap day never shortens it.
pub const ACT_RETENTION: Duration = Duration::days(3 * 365 + 1);

/// At most this many acts in one listing.
pub const MAX_ACTS: u32 = 1000;

/// A destruction act with its digest and journal extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionAct {
    pub record: DestructionActRecord,
    /// SHA-256 of the act's fields, as the destruction's journal entry records it
    /// (`act:<id> digest:<hex>`).
    pub digest: String,
}

/// The journal extract of a destruction (Order 179 p. 5 a–e): from the destruction's journal
/// entry, which names the subject, the fields (whose categories these are), the reason and
/// the time, and the act's id and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalExtract {
    /// a) the individual, by pseudonymous id.
    pub subject: SubjectId,
    /// b) the categories destroyed.
    pub categories: Vec<String>,
    /// c) the information system.
    pub system: String,
    /// d) the reason.
    pub reason: String,
    /// e) the date.
    pub at: OffsetDateTime,
    /// The journal entry's action and the detail that ties it to the act.
    pub action: &'static str,
    pub detail: String,
}

impl DestructionAct {
    fn new(record: DestructionActRecord) -> Self {
        Self {
            digest: make::digest(&record),
            record,
        }
    }

    pub fn extract(&self) -> JournalExtract {
        let r = &self.record;
        JournalExtract {
            subject: r.subject,
            categories: r.categories.clone(),
            system: r.system.clone(),
            reason: r.reason.clone(),
            at: r.at,
            action: "destruction",
            detail: format!("act:{} digest:{}", r.id, self.digest),
        }
    }

    /// The method, parsed (an unknown name is shown as stored).
    pub fn method(&self) -> Option<DestructionMethod> {
        self.record.method.parse().ok()
    }

    /// The printable page: Russian field names as the order has them, English alongside.
    pub fn html(&self) -> String {
        print::html(self)
    }
}

/// Which acts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActQuery {
    pub subject: Option<SubjectId>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// At most this many (capped at [`MAX_ACTS`]; `None`: the cap).
    pub limit: Option<u32>,
}

/// Destruction acts: listing and reading.
pub struct Acts<'v>(pub(crate) &'v Vault);

impl Acts<'_> {
    /// The acts matching `query`, newest first.
    pub async fn list(&self, caller: &Caller, query: &ActQuery) -> VaultResult<Vec<DestructionAct>> {
        let v = self.0;
        v.op(caller, Operation::ActList)?;
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if to < from {
                return Err(VaultError::invalid(ProblemCode::InvalidQuery, "`to` is before `from`"));
            }
        }
        let filter = ActFilter {
            subject: query.subject,
            from: query.from,
            to: query.to,
            limit: query.limit.unwrap_or(MAX_ACTS).min(MAX_ACTS),
        };
        let records = v.store().find_acts(&filter).await?;
        Ok(records.into_iter().map(DestructionAct::new).collect())
    }

    /// One act (`destruction_act_not_found` if there is none, or it was purged).
    pub async fn get(&self, caller: &Caller, id: ActId) -> VaultResult<DestructionAct> {
        let v = self.0;
        v.op(caller, Operation::ActRead)?;
        let record = v
            .store()
            .find_act(id)
            .await?
            .ok_or_else(|| VaultError::NotFound(ProblemCode::ActNotFound, "no such destruction act".into()))?;
        Ok(DestructionAct::new(record))
    }
}
