//! May Ward's operator contact a subject? Mandatory service notices and marketing are
//! separate classes: a marketing opt-out never stops a service notice, and marketing needs
//! the subject's consent for that very channel.

use crate::error::VaultResult;
use crate::Vault;
use ward_core::authz::Operation;
use ward_core::policy::register::{ConsentKind, MarketingChannel};
use ward_core::standing::ConsentState;
use ward_core::{Caller, SubjectId};
use ward_store::Change;

/// The class of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeClass {
    /// Account, security and outage notices (a purpose with `service_notices = true`).
    Service,
    /// News and offers, per channel.
    Marketing,
}

/// The answer, with the purpose that allows it or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDecision {
    pub allowed: bool,
    pub purpose: Option<String>,
    pub reason: String,
}

/// The contact service, reached by [`Vault::contact`].
#[derive(Clone, Copy)]
pub struct Contact<'v>(pub(crate) &'v Vault);

impl Contact<'_> {
    /// Whether a message of `class` may go to the subject over `channel`.
    pub async fn may_contact(
        &self,
        caller: &Caller,
        id: SubjectId,
        class: NoticeClass,
        channel: MarketingChannel,
    ) -> VaultResult<ContactDecision> {
        let v = self.0;
        let op = v.op(caller, Operation::MayContact)?;
        let loaded = v.load_active(&op, id).await?;
        if let Some(terms) = &loaded.terms {
            // Loading opened distribution terms: that opening is journaled.
            v.commit(Change::JournalOnly, vec![terms.entry()]).await?;
        }
        let policy = op.policy();
        let standing = v.consent_standing(&op, &loaded.events);
        let holds = |purpose: &str| {
            policy.purpose(purpose).is_some_and(|p| {
                if p.legal_basis.needs_consent() {
                    standing.get(purpose).is_some_and(|c| c.state == ConsentState::Given)
                } else {
                    loaded.established.contains(purpose)
                }
            })
        };
        let found = match class {
            NoticeClass::Service => policy
                .purposes
                .iter()
                .find(|(n, p)| p.service_notices && caller.may_use(n) && holds(n))
                .map(|(n, _)| n.clone()),
            NoticeClass::Marketing => policy
                .consent_documents
                .values()
                .filter(|d| d.kind == ConsentKind::Marketing && d.channel == Some(channel))
                .flat_map(|d| d.purposes.iter())
                .find(|p| caller.may_use(p) && holds(p))
                .cloned(),
        };
        Ok(match (found, class) {
            (Some(p), NoticeClass::Service) => ContactDecision {
                allowed: true,
                reason: format!("a service notice under purpose `{p}`, which a marketing opt-out does not stop"),
                purpose: Some(p),
            },
            (Some(p), NoticeClass::Marketing) => ContactDecision {
                allowed: true,
                reason: format!("the subject consents to `{p}` by {channel}"),
                purpose: Some(p),
            },
            (None, NoticeClass::Service) => ContactDecision {
                allowed: false,
                purpose: None,
                reason: "no purpose this key may use sends service notices".into(),
            },
            (None, NoticeClass::Marketing) => ContactDecision {
                allowed: false,
                purpose: None,
                reason: format!("the subject has not consented to marketing by {channel}"),
            },
        })
    }
}
