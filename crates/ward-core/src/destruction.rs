//! Destroying personal data: why (an enum, so the journal holds no client text), who may
//! (the caller's purposes must cover destruction of every category destroyed), and what an
//! established legal obligation still holds back. Pure.

use crate::access::{Caller, Role};
use crate::action::{string_enum, LegalBasis, ProcessingAction};
use crate::policy::Policy;
use std::collections::BTreeSet;

string_enum! {
    /// Why personal data is destroyed (152-FZ Art. 21). Journaled as `reason:<name>`.
    DestructionReason {
        /// The subject demanded it (152-FZ Art. 14, Art. 21 p. 1; GDPR Art. 17).
        SubjectRequest => "subject_request",
        /// The subject withdrew the consent the data was processed on (Art. 21 p. 5).
        ConsentWithdrawn => "consent_withdrawn",
        /// The purpose of processing was achieved (Art. 21 p. 4).
        PurposeAchieved => "purpose_achieved",
        /// The retention period ran out (Art. 5 p. 7).
        RetentionExpired => "retention_expired",
        /// The processing was found unlawful and cannot be made lawful (Art. 21 p. 3).
        UnlawfulProcessing => "unlawful_processing",
        /// The supervisory authority (Roskomnadzor) ordered it.
        AuthorityOrder => "authority_order",
        /// The data was blocked because it could not be destroyed in time, and the six
        /// months of the block ran out (Art. 21 p. 6): the destruction job destroys it.
        DestructionDeadline => "destruction_deadline",
    }
}

string_enum! {
    /// How personal data was destroyed (RKN Order No. 179 p. 3 h). Recorded in the act.
    DestructionMethod {
        /// The subject's data key was destroyed and the sealed rows deleted.
        CryptoShredding => "crypto_shredding",
        /// The fields were deleted from the subject's sealed record, with their index entries.
        FieldDeletion => "field_deletion",
    }
}

impl DestructionMethod {
    /// The method as the printed act describes it, in Russian and in English.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            DestructionMethod::CryptoShredding => (
                "криптографическое уничтожение: ключ шифрования субъекта уничтожен, зашифрованные записи удалены",
                "crypto-shredding: the subject's data key destroyed, the sealed records deleted",
            ),
            DestructionMethod::FieldDeletion => (
                "удаление полей из зашифрованной записи субъекта вместе с индексом поиска",
                "deletion of the fields from the subject's sealed record, with their lookup index",
            ),
        }
    }
}

/// The information system named in destruction acts when the policy names none
/// (`[operator] information_system`).
pub const DEFAULT_INFORMATION_SYSTEM: &str = "Ward";

/// The first of `categories` that the caller's purposes do not cover for destruction: no
/// purpose on the key both uses the category and lists the `destruction` action. Admins and
/// officers destroy as the authorization table lets them, whatever purposes say; a subject
/// key covers nothing.
pub fn uncovered_category<'a>(
    policy: &Policy,
    caller: &Caller,
    categories: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut categories = categories.into_iter();
    match caller.role {
        Role::Admin | Role::Officer => None,
        Role::Subject => categories.next(),
        Role::Service => categories.find(|category| {
            !caller
                .purposes
                .iter()
                .filter_map(|p| policy.purpose(p))
                .any(|p| p.covers(ProcessingAction::Destruction) && p.categories.contains(*category))
        }),
    }
}

/// What established legal obligations still require of a subject's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hold {
    /// The purposes on a legal obligation that are established for the subject.
    pub purposes: BTreeSet<String>,
    /// The categories those purposes use: they may not be destroyed yet.
    pub categories: BTreeSet<String>,
}

impl Hold {
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty()
    }
}

/// The hold on destruction from the purposes `established` for a subject (their bases
/// established by an event, such as a payment that starts an accounting obligation): every
/// one that rests on a legal obligation holds its categories. Purposes on other bases, and
/// names the policy does not declare, hold nothing. Until bases are recorded per subject the
/// vault passes none, and nothing is held.
pub fn obligation_hold<'a>(policy: &Policy, established: impl IntoIterator<Item = &'a str>) -> Hold {
    let mut hold = Hold::default();
    for name in established {
        let Some(p) = policy.purpose(name) else { continue };
        if p.legal_basis == LegalBasis::LegalObligation {
            hold.purposes.insert(name.to_owned());
            hold.categories.extend(p.categories.iter().cloned());
        }
    }
    hold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Actor;
    use crate::policy::DEFAULT_POLICY;

    fn service(purposes: &[&str]) -> Caller {
        Caller {
            actor: Actor::System,
            role: Role::Service,
            purposes: purposes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn a_service_key_covers_the_categories_its_destroying_purposes_use() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let analytics = service(&["analytics"]);
        assert_eq!(uncovered_category(&policy, &analytics, ["technical"]), None);
        assert_eq!(
            uncovered_category(&policy, &analytics, ["technical", "payment"]),
            Some("payment")
        );
        // Together: registration (identity, contact, account) and payment (… payment).
        let both = service(&["registration", "payment"]);
        assert_eq!(
            uncovered_category(&policy, &both, ["identity", "contact", "payment"]),
            None
        );
        assert_eq!(
            uncovered_category(&policy, &both, ["identity", "technical"]),
            Some("technical")
        );
        assert_eq!(uncovered_category(&policy, &Caller::cli(), ["payment"]), None);
        let subject = Caller {
            role: Role::Subject,
            ..service(&[])
        };
        assert_eq!(uncovered_category(&policy, &subject, ["contact"]), Some("contact"));
    }

    #[test]
    fn only_established_obligations_hold_their_categories() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        assert!(obligation_hold(&policy, []).is_empty());
        let hold = obligation_hold(&policy, ["accounting", "registration", "no_such_purpose"]);
        assert_eq!(hold.purposes, BTreeSet::from(["accounting".to_owned()]));
        assert_eq!(
            hold.categories,
            BTreeSet::from(["identity".to_owned(), "payment".to_owned()])
        );
    }

    #[test]
    fn reasons_are_names_not_text() {
        assert_eq!(
            "consent_withdrawn".parse::<DestructionReason>().unwrap(),
            DestructionReason::ConsentWithdrawn
        );
        assert!("because I said so".parse::<DestructionReason>().is_err());
    }
}
