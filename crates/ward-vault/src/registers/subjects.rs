//! The register of subjects: each subject's id and standing facts (state, consents given,
//! consents to give again, bases established, destruction due, acceptance of the policy in
//! force), derived from its stored events and the names of the fields it holds by the rules
//! of `ward_core::standing`, never from its sealed data, which stays closed.

use super::{cursor, cursor_key, filter_error, instant, limit, stamp, Page, Registers};
use crate::context::Op;
use crate::error::VaultResult;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;
use ward_core::access::{AccessRefusal, SubjectState};
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::policy::diff::{diff, Requirement};
use ward_core::standing::{self, destruction_due, ended_bases_due, orphaned, ConsentState, DestructionDue};
use ward_core::{Caller, JournalDraft, ProblemCode, SubjectId};
use ward_store::{Change, SubjectFacts};

const TAG: u8 = b's';
/// Subjects read from the store per scan.
const SCAN_PAGE: u32 = 500;

/// A subject's state in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectListState {
    Active,
    /// Active, and a death is recorded.
    Deceased,
    Erased,
}

impl SubjectListState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectListState::Active => "active",
            SubjectListState::Deceased => "deceased",
            SubjectListState::Erased => "erased",
        }
    }

    fn parse(s: &str) -> VaultResult<Self> {
        match s {
            "active" => Ok(SubjectListState::Active),
            "deceased" => Ok(SubjectListState::Deceased),
            "erased" => Ok(SubjectListState::Erased),
            _ => Err(filter_error("`state` must be active, deceased or erased")),
        }
    }
}

/// What to list, as given (the vault checks every value). Every filter set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectQuery {
    /// `active`, `deceased` or `erased`.
    pub state: Option<String>,
    /// Consents to this consent-based purpose now.
    pub consent_to: Option<String>,
    /// Does not consent to this consent-based purpose now (never did, withdrew, expired).
    pub no_consent_to: Option<String>,
    /// Consented under a version whose change to the purpose requires a new consent.
    pub must_consent_again: bool,
    /// Has data due for destruction before this instant (date or RFC 3339).
    pub destruction_due_before: Option<String>,
    /// Accepted this policy version (its hash, or a unique prefix of at least 8).
    pub accepted_version: Option<String>,
    /// Has not accepted the version in force.
    pub not_accepted_in_force: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One subject in the register: no personal data. An erased subject stands on nothing: its
/// lists are empty and nothing is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectListing {
    pub id: SubjectId,
    pub state: SubjectListState,
    pub created_at: OffsetDateTime,
    /// Consent-based purposes consented to now.
    pub consents_given: Vec<String>,
    /// Of those, the ones given under a version whose change requires a new consent.
    pub must_consent_again: Vec<String>,
    /// Purposes on other legal bases established now.
    pub bases_established: Vec<String>,
    /// The earliest destruction due (after a consent or another basis ended), if any.
    pub destruction: Option<DestructionDue>,
    /// Whether the subject accepted the version in force.
    pub accepted_in_force: bool,
}

/// A checked [`SubjectQuery`].
struct Filter {
    state: Option<SubjectListState>,
    consent_to: Option<String>,
    no_consent_to: Option<String>,
    must_consent_again: bool,
    due_before: Option<OffsetDateTime>,
    accepted: Option<String>,
    not_accepted_in_force: bool,
}

impl Filter {
    fn check(v: &Vault, op: &Op<'_>, q: &SubjectQuery) -> VaultResult<Self> {
        let consent_purpose = |p: &Option<String>| -> VaultResult<Option<String>> {
            let Some(p) = p else { return Ok(None) };
            let def = op
                .policy()
                .purpose(p)
                .ok_or_else(|| AccessRefusal::UnknownPurpose(p.clone()))?;
            if !def.legal_basis.needs_consent() {
                return Err(crate::VaultError::invalid(
                    ProblemCode::ConsentNotApplicable,
                    format!("purpose `{p}` does not rest on consent"),
                ));
            }
            Ok(Some(p.clone()))
        };
        Ok(Self {
            state: q.state.as_deref().map(SubjectListState::parse).transpose()?,
            consent_to: consent_purpose(&q.consent_to)?,
            no_consent_to: consent_purpose(&q.no_consent_to)?,
            must_consent_again: q.must_consent_again,
            due_before: q
                .destruction_due_before
                .as_deref()
                .map(|s| instant("destruction_due_before", s))
                .transpose()?,
            accepted: q
                .accepted_version
                .as_deref()
                .map(|h| v.policies().find(h).map(|found| found.hash.clone()))
                .transpose()?,
            not_accepted_in_force: q.not_accepted_in_force,
        })
    }

    fn matches(&self, s: &SubjectListing, accepted: &BTreeSet<&str>) -> bool {
        self.state.is_none_or(|st| st == s.state)
            && self.consent_to.as_ref().is_none_or(|p| s.consents_given.contains(p))
            && self
                .no_consent_to
                .as_ref()
                .is_none_or(|p| !s.consents_given.contains(p))
            && (!self.must_consent_again || !s.must_consent_again.is_empty())
            && self
                .due_before
                .is_none_or(|t| s.destruction.as_ref().is_some_and(|d| d.by < t))
            && self.accepted.as_deref().is_none_or(|h| accepted.contains(h))
            && (!self.not_accepted_in_force || !s.accepted_in_force)
    }

    /// The filters, as the journal names them: enums, policy names, hashes and instants.
    fn detail(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.state {
            parts.push(format!("state:{}", s.as_str()));
        }
        if let Some(p) = &self.consent_to {
            parts.push(format!("consent_to:{p}"));
        }
        if let Some(p) = &self.no_consent_to {
            parts.push(format!("no_consent_to:{p}"));
        }
        if self.must_consent_again {
            parts.push("must_consent_again".into());
        }
        if let Some(t) = self.due_before {
            parts.push(format!("destruction_due_before:{}", stamp(t)));
        }
        if let Some(h) = &self.accepted {
            parts.push(format!("accepted_version:{h}"));
        }
        if self.not_accepted_in_force {
            parts.push("not_accepted_in_force".into());
        }
        parts.join(" ")
    }
}

/// Per policy version a consent was given under: the purposes whose change since then, up
/// to the version in force, requires a new consent.
struct Reconsent<'a> {
    v: &'a Vault,
    op: &'a Op<'a>,
    by_version: BTreeMap<String, BTreeSet<String>>,
}

impl Reconsent<'_> {
    fn purposes(&mut self, hash: &str) -> &BTreeSet<String> {
        let (v, op) = (self.v, self.op);
        self.by_version.entry(hash.to_owned()).or_insert_with(|| {
            if hash == op.hash() {
                return BTreeSet::new();
            }
            let Ok(old) = v.policies().find(hash) else {
                return BTreeSet::new();
            };
            diff(&old.policy, op.policy())
                .into_iter()
                .filter(|c| c.requires.contains(&Requirement::NewConsent))
                .map(|c| c.subject)
                .collect()
        })
    }
}

/// A subject's standing facts, from its events and the names of the fields it holds, at the
/// call's time.
fn listing(v: &Vault, op: &Op<'_>, reconsent: &mut Reconsent<'_>, f: &SubjectFacts) -> VaultResult<SubjectListing> {
    let policy = op.policy();
    let deceased = f.events.iter().any(|e| e.kind == SubjectEventKind::Deceased);
    let state = match (f.state, deceased) {
        (SubjectState::Erased, _) => SubjectListState::Erased,
        (SubjectState::Active, true) => SubjectListState::Deceased,
        (SubjectState::Active, false) => SubjectListState::Active,
    };
    // An erased subject has nothing left to stand on: its events are history.
    let erased = state == SubjectListState::Erased;
    let (none_c, none_b) = (&[][..], &[][..]);
    let consents = v.consent_standing(op, if erased { none_c } else { &f.consents });
    let bases = Vault::basis_standing(op, if erased { none_b } else { &f.bases });
    let given: Vec<(&String, &standing::PurposeConsent)> = consents
        .iter()
        .filter(|(p, c)| c.state == ConsentState::Given && policy.purpose(p).is_some())
        .collect();
    let must_consent_again = given
        .iter()
        .filter(|(p, c)| reconsent.purposes(&c.version_hash).contains(*p))
        .map(|(p, _)| (*p).clone())
        .collect();
    // Only what the subject still holds can be due: a category destroyed already is not.
    let held = Vault::held_data(op, if erased { None } else { f.fields.as_deref() })?;
    let after_consents = consents
        .iter()
        .filter(|(_, c)| matches!(c.state, ConsentState::Withdrawn | ConsentState::Expired))
        .filter_map(|(p, c)| destruction_due(c.since, orphaned(policy, p, &consents, &bases).1, &held));
    let destruction = after_consents
        .chain(ended_bases_due(policy, &consents, &bases, &held).into_values())
        .min_by_key(|d| d.by);
    Ok(SubjectListing {
        id: f.id,
        state,
        created_at: f.created_at,
        consents_given: given.iter().map(|(p, _)| (*p).clone()).collect(),
        must_consent_again,
        bases_established: standing::established(&bases).into_iter().collect(),
        destruction,
        accepted_in_force: accepted(f).contains(op.hash()),
    })
}

/// The versions the subject accepted.
fn accepted(f: &SubjectFacts) -> BTreeSet<&str> {
    f.events
        .iter()
        .filter(|e| e.kind == SubjectEventKind::PolicyAccepted)
        .filter_map(|e| e.policy_version.as_deref())
        .collect()
}

impl Registers<'_> {
    /// One page of the register of subjects that match `q`, in id order (admin, officer).
    /// A page examines at most a bounded number of subjects: it may hold fewer than the
    /// limit, and then says where to go on. Journaled (`subjects.listed`) before it answers.
    pub async fn subjects(&self, caller: &Caller, q: &SubjectQuery) -> VaultResult<Page<SubjectListing>> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectList)?;
        let filter = Filter::check(v, &op, q)?;
        let limit = limit(q.limit)? as usize;
        let mut after = q
            .cursor
            .as_deref()
            .map(|c| cursor_key(TAG, c, 16))
            .transpose()?
            .map(|k| SubjectId::from_bytes(k.try_into().unwrap_or([0; 16])));
        let mut reconsent = Reconsent {
            v,
            op: &op,
            by_version: BTreeMap::new(),
        };
        // A page examines a bounded number of subjects: a filter few match answers a short
        // page (with a cursor) instead of reading the whole store in one request.
        let budget = v.inner.config.register_subjects_per_page.max(1);
        let (mut items, mut examined, mut more) = (Vec::new(), 0usize, true);
        'scan: while more && examined < budget {
            let room = u32::try_from(budget - examined).unwrap_or(SCAN_PAGE).min(SCAN_PAGE);
            let batch = v.store().scan_subject_facts(after, room).await?;
            more = batch.len() == room as usize;
            for f in &batch {
                examined += 1;
                after = Some(f.id);
                let s = listing(v, &op, &mut reconsent, f)?;
                if filter.matches(&s, &accepted(f)) {
                    items.push(s);
                    if items.len() == limit {
                        more = more || !std::ptr::eq(f, batch.last().unwrap_or(f));
                        break 'scan;
                    }
                }
            }
        }
        let next_cursor = more.then(|| after.map(|a| cursor(TAG, a.as_bytes()))).flatten();
        let detail = format!("{} count:{}", filter.detail(), items.len());
        let mut entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectsListed).detail(detail.trim());
        if let Some(p) = filter.consent_to.as_ref().or(filter.no_consent_to.as_ref()) {
            entry = entry.purpose(p.clone());
        }
        v.commit(Change::JournalOnly, vec![entry]).await?;
        Ok(Page { items, next_cursor })
    }
}
