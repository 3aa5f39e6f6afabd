//! Legal bases other than consent, established per subject (152-FZ Art. 6 p. 1 items 2–11;
//! GDPR Art. 6(1)(b)–(f)). A purpose on such a basis does not hold for every subject: it holds
//! for a subject once something establishes it — collection under the purpose, where the
//! policy says so (`established_by = "collection"`), or an event recorded with evidence (a
//! contract concluded, a transaction that triggers a legal obligation, a legitimate interest
//! whose assessment the policy names, vital interests, a legal duty). It ends when the
//! contract ends, the subject objects to a legitimate interest (unless the officer records
//! overriding grounds), or an obligation's retention period, counted from its start, runs out.
//!
//! Like consent, an append-only log of events per subject and purpose; where a subject stands
//! is derived from it (`crate::standing::bases`). Pure.

use crate::action::{string_enum, LegalBasis};
use crate::policy::Policy;
use crate::violation::{text_ok, Violation};
use crate::ProblemCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum! {
    /// What happened to a subject's basis for a purpose.
    BasisEventKind {
        /// The basis began: a contract concluded, an obligation triggered (retention runs from
        /// the event's start), a legitimate interest, vital interests, a legal duty.
        Established => "established",
        /// The basis ended: the contract ended, the interest or duty no longer applies.
        Ended => "ended",
        /// The subject objected to processing on a legitimate interest: it ends.
        Objected => "objected",
        /// The officer recorded overriding grounds after an objection: it holds again.
        Overridden => "overridden",
    }
}

string_enum! {
    /// What establishes a non-consent purpose for a subject (the policy's `established_by`).
    EstablishedBy {
        /// Collecting data under the purpose (registering the subject, or setting fields).
        Collection => "collection",
        /// Only an event recorded through the API or the CLI. The default: nothing is assumed.
        Event => "event",
    }
}

/// What shows a basis event. Sealed with the subject's data key at rest (a contract number or
/// the officer's grounds may name people); the journal records only the kind and purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BasisEvidence {
    /// What shows it: a contract or order number, a transaction id, the legitimate-interest
    /// assessment's reference, a court order, or `collection` when collection established it.
    pub reference: String,
    /// Free text: the officer's overriding grounds, what ended the contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl BasisEvidence {
    /// The evidence of a basis that collection under its purpose established.
    pub fn collection() -> Self {
        Self {
            reference: "collection".into(),
            note: None,
        }
    }

    /// Checks the evidence's own shape.
    pub fn check(&self) -> Result<(), Violation> {
        if !text_ok(&self.reference, 512) {
            return Err(Violation::new(
                ProblemCode::InvalidEvidence,
                "evidence.reference must be 1 to 512 characters without control characters (e.g. a contract or order number)",
            ));
        }
        if self
            .note
            .as_deref()
            .is_some_and(|n| n.chars().count() > 4000 || n.chars().any(|c| c.is_control() && c != '\n'))
        {
            return Err(Violation::new(
                ProblemCode::InvalidEvidence,
                "evidence.note must be at most 4000 characters, without control characters",
            ));
        }
        Ok(())
    }
}

/// The non-consent purpose a basis event may be recorded for, with its legal basis: declared,
/// not resting on consent.
pub fn basis_purpose(policy: &Policy, purpose: &str) -> Result<LegalBasis, Violation> {
    let p = policy.purpose(purpose).ok_or_else(|| {
        Violation::new(
            ProblemCode::UnknownPurpose,
            format!("purpose `{purpose}` is not declared in the policy"),
        )
    })?;
    if p.legal_basis.needs_consent() {
        return Err(Violation::new(
            ProblemCode::BasisEventNotApplicable,
            format!("purpose `{purpose}` rests on consent: record the subject's consent instead"),
        ));
    }
    if let Some(of) = &p.basis_of {
        return Err(Violation::new(
            ProblemCode::BasisEventNotApplicable,
            format!("purpose `{purpose}` rests on the basis of purpose `{of}`: record the event for `{of}`"),
        ));
    }
    Ok(p.legal_basis)
}

/// Whether an event of `kind` may be recorded for `purpose` now, given where the subject
/// stands on it (`established`: the basis holds now; `objected`: the latest event is an
/// objection). `start` is when the basis began (for an obligation, when its retention starts
/// to run); it may not be in the future.
pub fn check_event(
    policy: &Policy,
    purpose: &str,
    kind: BasisEventKind,
    start: OffsetDateTime,
    now: OffsetDateTime,
    established: bool,
    objected: bool,
) -> Result<(), Violation> {
    let basis = basis_purpose(policy, purpose)?;
    let refuse = |m: String| Err(Violation::new(ProblemCode::BasisEventNotApplicable, m));
    let li = basis == LegalBasis::LegitimateInterests;
    if start > now {
        return refuse("the basis's start may not be in the future".into());
    }
    match kind {
        BasisEventKind::Established if li && policy.purpose(purpose).is_some_and(|p| p.assessment.is_none()) => {
            refuse(format!(
                "purpose `{purpose}` rests on a legitimate interest, and the policy names no assessment of it (set `assessment` on the purpose)"
            ))
        }
        BasisEventKind::Established if objected => refuse(format!(
            "the subject objected to purpose `{purpose}`: only the officer's overriding grounds (`overridden`) let it hold again"
        )),
        BasisEventKind::Established => Ok(()),
        BasisEventKind::Ended if !established => {
            refuse(format!("the subject's basis for purpose `{purpose}` is not established; there is nothing to end"))
        }
        BasisEventKind::Ended => Ok(()),
        BasisEventKind::Objected | BasisEventKind::Overridden if !li => refuse(format!(
            "purpose `{purpose}` rests on `{basis}`: an objection applies only to a legitimate interest"
        )),
        BasisEventKind::Objected if !established => {
            refuse(format!("the subject's basis for purpose `{purpose}` is not established; there is nothing to object to"))
        }
        BasisEventKind::Overridden if !objected => {
            refuse(format!("the subject has not objected to purpose `{purpose}`; there is nothing to override"))
        }
        BasisEventKind::Objected | BasisEventKind::Overridden => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn check(
        src: &str,
        purpose: &str,
        kind: BasisEventKind,
        established: bool,
        objected: bool,
    ) -> Result<(), ProblemCode> {
        let p = Policy::parse(src).unwrap();
        check_event(&p, purpose, kind, NOW, NOW, established, objected).map_err(|v| v.code)
    }

    fn with_interest(assessment: bool) -> String {
        let a = if assessment { "assessment = \"LIA-7\"\n" } else { "" };
        DEFAULT_POLICY.to_owned()
            + "\n[purposes.security]\ntitle = \"Securing the site\"\nlegal_basis = \"legitimate_interests\"\n"
            + a
            + "categories = [\"technical\"]\nactions = [\"storage\", \"use\"]\n"
    }

    #[test]
    fn events_are_for_declared_purposes_that_do_not_rest_on_consent() {
        use BasisEventKind::*;
        assert_eq!(
            check(DEFAULT_POLICY, "nope", Established, false, false),
            Err(ProblemCode::UnknownPurpose)
        );
        assert_eq!(
            check(DEFAULT_POLICY, "marketing", Established, false, false),
            Err(ProblemCode::BasisEventNotApplicable)
        );
        assert_eq!(check(DEFAULT_POLICY, "accounting", Established, false, false), Ok(()));
        let follower = DEFAULT_POLICY.to_owned()
            + "\n[purposes.notices]\ntitle = \"Account notices\"\nlegal_basis = \"contract\"\nbasis_of = \"registration\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n";
        assert_eq!(
            check(&follower, "notices", Established, false, false),
            Err(ProblemCode::BasisEventNotApplicable)
        );
        let p = Policy::parse(DEFAULT_POLICY).unwrap();
        let later = NOW + time::Duration::days(1);
        assert_eq!(
            check_event(&p, "accounting", Established, later, NOW, false, false).map_err(|v| v.code),
            Err(ProblemCode::BasisEventNotApplicable)
        );
    }

    #[test]
    fn only_what_holds_can_end_and_only_an_interest_takes_an_objection() {
        use BasisEventKind::*;
        let na = Err(ProblemCode::BasisEventNotApplicable);
        assert_eq!(check(DEFAULT_POLICY, "registration", Ended, false, false), na);
        assert_eq!(check(DEFAULT_POLICY, "registration", Ended, true, false), Ok(()));
        assert_eq!(check(DEFAULT_POLICY, "registration", Objected, true, false), na);
        let src = with_interest(true);
        assert_eq!(check(&src, "security", Objected, false, false), na);
        assert_eq!(check(&src, "security", Objected, true, false), Ok(()));
        assert_eq!(check(&src, "security", Overridden, false, false), na);
        assert_eq!(check(&src, "security", Overridden, false, true), Ok(()));
        // After an objection only the officer's overriding grounds re-establish it.
        assert_eq!(check(&src, "security", Established, false, true), na);
    }

    #[test]
    fn a_legitimate_interest_needs_the_assessment_the_policy_names() {
        use BasisEventKind::*;
        assert_eq!(
            check(&with_interest(false), "security", Established, false, false),
            Err(ProblemCode::BasisEventNotApplicable)
        );
        assert_eq!(
            check(&with_interest(true), "security", Established, false, false),
            Ok(())
        );
    }

    #[test]
    fn evidence_needs_a_reference() {
        assert!(BasisEvidence::collection().check().is_ok());
        let blank = BasisEvidence {
            reference: " ".into(),
            note: None,
        };
        assert_eq!(blank.check().unwrap_err().code, ProblemCode::InvalidEvidence);
    }
}
