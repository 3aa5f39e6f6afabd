//! Cookie and tracking consent of website visitors: the proof of what a browser chose, per
//! category, against which banner version, with Global Privacy Control honoured.
//!
//! A visitor is known to Ward by the id the website keeps in a first-party cookie. That id is
//! an online identifier (personal data), so only its keyed hash reaches the store, and it is
//! never journaled or logged. When the visitor signs in, the website links the visitor to the
//! subject; erasing the subject then deletes the visitor's records.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::cookies::{self, CookieCategory, CookieChoice, VisitorId};
use ward_core::journal::AdminEvent;
use ward_core::ProblemCode;
use ward_core::{Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_crypto::Hash32;
use ward_store::{Change, OpOutcome, VisitorChange, VisitorConsent, VisitorConsentRecord};

/// One recorded cookie choice, as the API shows it. Holds neither the visitor id nor the
/// subject id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConsentView {
    pub banner_version: String,
    /// Every category with its answer.
    pub choices: BTreeMap<CookieCategory, CookieChoice>,
    /// The browser sent `Sec-GPC: 1`.
    pub gpc: bool,
    /// GPC turned the visitor's grant of `marketing` into a denial.
    pub gpc_overrode: bool,
    pub at: OffsetDateTime,
    /// The visitor is linked to a subject.
    pub linked: bool,
}

impl From<VisitorConsentRecord> for CookieConsentView {
    fn from(r: VisitorConsentRecord) -> Self {
        Self {
            banner_version: r.consent.banner_version,
            choices: r.consent.choices,
            gpc: r.consent.gpc,
            gpc_overrode: r.consent.gpc_overrode,
            at: r.consent.at,
            linked: r.subject.is_some(),
        }
    }
}

/// A visitor's cookie choices: the one in force and every one recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConsentHistory {
    /// The latest choice; `None` if the visitor has made none (ask them).
    pub current: Option<CookieConsentView>,
    /// Every choice, oldest first.
    pub history: Vec<CookieConsentView>,
}

/// The journal detail of a choice: the banner version, the answers and GPC. Never the visitor.
fn detail(c: &VisitorConsent) -> String {
    let mut d = format!(
        "banner:{} {} gpc:{}",
        c.banner_version,
        cookies::summary(&c.choices),
        if c.gpc { "on" } else { "off" }
    );
    if c.gpc_overrode {
        d.push_str(" gpc_overrode:marketing");
    }
    d
}

/// The visitors service, reached by [`Vault::visitors`].
#[derive(Clone, Copy)]
pub struct Visitors<'v>(pub(crate) &'v Vault);

impl Visitors<'_> {
    fn visitor_hash(&self, visitor: &VisitorId) -> Hash32 {
        self.0.inner.keys.blind_index.visitor_hash(visitor.expose())
    }

    /// Records a visitor's cookie choice (category name → `granted` or `denied`) for
    /// `banner_version`. Strictly necessary is always granted, unmentioned categories are
    /// denied, and with `gpc` (the browser sent `Sec-GPC: 1`) marketing is denied whatever
    /// the choice says. Any key may record: the choice comes from the website.
    pub async fn record_consent(
        &self,
        caller: &Caller,
        visitor: &VisitorId,
        banner_version: &str,
        choices: &BTreeMap<String, String>,
        gpc: bool,
    ) -> VaultResult<CookieConsentView> {
        let v = self.0;
        let op = v.op(caller, Operation::VisitorConsentRecord)?;
        if !cookies::is_banner_version(banner_version) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidBannerVersion,
                "banner_version must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_`, `:`, `+`, `-`",
            ));
        }
        let decision = cookies::decide(choices.iter().map(|(k, v)| (k.as_str(), v.as_str())), gpc)
            .map_err(|e| VaultError::invalid(e.code(), e.to_string()))?;
        let hash = self.visitor_hash(visitor);
        // The journal entry names the subject the visitor is linked to; the store links the
        // record itself, inside the write transaction.
        let linked = v
            .store()
            .find_visitor_consents(&hash)
            .await?
            .last()
            .and_then(|r| r.subject);
        let consent = VisitorConsent {
            visitor: hash,
            banner_version: banner_version.to_owned(),
            choices: decision.choices,
            gpc: decision.gpc,
            gpc_overrode: decision.gpc_overrode,
            at: op.now,
        };
        let mut entry =
            JournalDraft::new(consent.at, op.actor(), AdminEvent::CookieConsentRecorded).detail(detail(&consent));
        entry.subject = linked;
        match v
            .commit(Change::Visitor(VisitorChange::Record(consent.clone())), vec![entry])
            .await?
        {
            OpOutcome::Done => Ok(VisitorConsentRecord {
                consent,
                subject: linked,
            }
            .into()),
            other => Err(VaultError::Internal(format!("recording a cookie choice: {other:?}"))),
        }
    }

    /// The visitor's current cookie choice and every earlier one. Any key may read it (the
    /// website decides from it what to load). The read is journaled when there is something
    /// to read.
    pub async fn consents(&self, caller: &Caller, visitor: &VisitorId) -> VaultResult<CookieConsentHistory> {
        let v = self.0;
        let op = v.op(caller, Operation::VisitorConsentList)?;
        let records = v.store().find_visitor_consents(&self.visitor_hash(visitor)).await?;
        if let Some(last) = records.last() {
            let mut entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
                .detail(format!("cookie_consents:{}", records.len()));
            entry.subject = last.subject;
            v.commit(Change::JournalOnly, vec![entry]).await?;
        }
        let history: Vec<CookieConsentView> = records.into_iter().map(Into::into).collect();
        Ok(CookieConsentHistory {
            current: history.last().cloned(),
            history,
        })
    }

    /// Links a visitor's cookie consent records (past and later ones) to a subject, when the
    /// visitor signs in: they become the subject's data, and go when the subject is erased.
    ///
    /// Allowed to admins, and to service keys with a purpose that covers collection.
    pub async fn link(&self, caller: &Caller, visitor: &VisitorId, subject: SubjectId) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, Operation::VisitorLink)?;
        let policy = op.policy();
        let may_collect = caller.is_admin()
            || caller
                .purposes
                .iter()
                .filter_map(|p| policy.purpose(p))
                .any(|p| p.covers(ProcessingAction::Collection));
        if !may_collect {
            return Err(VaultError::Forbidden(
                "none of this key's purposes covers collection of personal data".into(),
            ));
        }
        let hash = self.visitor_hash(visitor);
        let records = v.store().find_visitor_consents(&hash).await?;
        if records.is_empty() {
            return Err(VaultError::NotFound(
                ProblemCode::VisitorNotFound,
                "there is no cookie choice on record for this visitor".into(),
            ));
        }
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::VisitorLinked)
            .subject(subject)
            .detail(format!("cookie_consents:{}", records.len()));
        match v
            .commit(
                Change::Visitor(VisitorChange::Link { visitor: hash, subject }),
                vec![entry],
            )
            .await?
        {
            OpOutcome::Done => Ok(()),
            OpOutcome::NotFound => Err(VaultError::SubjectNotFound),
            OpOutcome::Erased => Err(ward_core::AccessRefusal::SubjectErased.into()),
            OpOutcome::Conflict => Err(VaultError::Conflict(
                "this visitor is linked to another subject; give the browser a new visitor id when a user signs out"
                    .into(),
            )),
            other => Err(VaultError::Internal(format!("linking a visitor: {other:?}"))),
        }
    }
}
