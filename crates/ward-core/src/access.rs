//! The access decision: may this caller, for this purpose, see these fields of this subject?
//! Pure: everything it needs is passed in.

use crate::action::{string_enum, LegalBasis, ProcessingAction};
use crate::journal::Actor;
use crate::policy::{Policy, Purpose};
use crate::problem::ProblemCode;
use std::collections::{BTreeMap, BTreeSet};

string_enum! {
    /// What an API key may do: which operations is the authorization table's (`authz`).
    Role {
        /// The operator's administrator: keys, policy, configuration, and everything else.
        Admin => "admin",
        /// The privacy officer: requests, registers, journal, destruction; reads through a
        /// purpose it names.
        Officer => "officer",
        /// The website: subject operations, for the purposes listed on the key only.
        Service => "service",
        /// A data subject, for the portal to come: allowed nothing yet.
        Subject => "subject",
    }
}

/// The authenticated caller of an operation.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub role: Role,
    /// For service keys: the purposes this key may use. Admins and officers list none: they
    /// name the purpose in each call (see [`Caller::may_use`]).
    pub purposes: BTreeSet<String>,
}

impl Caller {
    /// The operator at the command line: an administrator. The CLI's commands go through
    /// the authorization table like any key's calls (`authz::authorize`).
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            role: Role::Admin,
            purposes: BTreeSet::new(),
        }
    }

    /// Ward itself, for its background jobs (e.g. delivery of the outbox): an administrator
    /// journaled as `system`.
    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            role: Role::Admin,
            purposes: BTreeSet::new(),
        }
    }

    /// Whether the caller may name `purpose`: admins and officers any purpose (the table
    /// decides which operations they reach), service keys the ones they list, subjects none.
    pub fn may_use(&self, purpose: &str) -> bool {
        match self.role {
            Role::Admin | Role::Officer => true,
            Role::Service => self.purposes.contains(purpose),
            Role::Subject => false,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

string_enum! {
    /// The life-cycle state of a subject's record.
    SubjectState {
        Active => "active",
        Erased => "erased",
    }
}

/// Why access was refused. Each has a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessRefusal {
    #[error("purpose `{0}` is not declared in the policy")]
    UnknownPurpose(String),
    #[error("this API key may not use purpose `{0}`")]
    PurposeNotAllowedForKey(String),
    #[error("the subject's data has been erased")]
    SubjectErased,
    #[error("purpose `{purpose}` does not cover the action `{action}`")]
    ActionNotCovered { purpose: String, action: ProcessingAction },
    #[error("the subject has not consented to purpose `{0}`, whose legal basis is consent")]
    ConsentMissing(String),
    #[error("purpose `{purpose}` rests on `{basis}`, which is not established for the subject (record it at /v1/subjects/{{id}}/bases, or it has ended)")]
    BasisNotEstablished { purpose: String, basis: LegalBasis },
    #[error("field `{field}` is in category `{category}`, which purpose `{purpose}` may not use")]
    CategoryNotAllowed {
        field: String,
        category: String,
        purpose: String,
    },
    #[error("field `{0}` is not declared in the policy")]
    UnknownField(String),
    #[error("field `{field}` is in category `{category}`, which the subject's consent to purpose `{purpose}` does not cover (the purpose was widened after they consented, or they did not permit the category); the subject must consent to it")]
    ConsentScopeExceeded {
        field: String,
        category: String,
        purpose: String,
    },
}

impl AccessRefusal {
    /// A stable, machine-readable code.
    pub fn code(&self) -> ProblemCode {
        match self {
            AccessRefusal::UnknownPurpose(_) => ProblemCode::UnknownPurpose,
            AccessRefusal::PurposeNotAllowedForKey(_) => ProblemCode::PurposeNotAllowedForKey,
            AccessRefusal::SubjectErased => ProblemCode::SubjectErased,
            AccessRefusal::ActionNotCovered { .. } => ProblemCode::ActionNotCovered,
            AccessRefusal::ConsentMissing(_) => ProblemCode::ConsentMissing,
            AccessRefusal::BasisNotEstablished { .. } => ProblemCode::BasisNotEstablished,
            AccessRefusal::CategoryNotAllowed { .. } => ProblemCode::CategoryNotAllowed,
            AccessRefusal::UnknownField(_) => ProblemCode::UnknownField,
            AccessRefusal::ConsentScopeExceeded { .. } => ProblemCode::ConsentScopeExceeded,
        }
    }
}

/// Everything the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    pub policy: &'a Policy,
    pub caller: &'a Caller,
    pub purpose: &'a str,
    pub action: ProcessingAction,
    pub state: SubjectState,
    /// Purposes the subject consents to now, each with the categories the consent covers
    /// (the purpose's categories in the policy version it was given under).
    pub consents: &'a BTreeMap<String, BTreeSet<String>>,
    /// Purposes on other legal bases established for the subject now (see
    /// [`crate::standing::established`]).
    pub established: &'a BTreeSet<String>,
    /// The fields asked for; `None` means "all that the purpose allows".
    pub requested: Option<&'a [String]>,
}

impl AccessRequest<'_> {
    /// The purpose check alone, before a subject is known (e.g. before a lookup).
    pub fn check_purpose<'p>(
        policy: &'p Policy,
        caller: &Caller,
        purpose: &str,
        action: ProcessingAction,
    ) -> Result<&'p Purpose, AccessRefusal> {
        let p = policy
            .purpose(purpose)
            .ok_or_else(|| AccessRefusal::UnknownPurpose(purpose.to_owned()))?;
        if !caller.may_use(purpose) {
            return Err(AccessRefusal::PurposeNotAllowedForKey(purpose.to_owned()));
        }
        if !p.covers(action) {
            return Err(AccessRefusal::ActionNotCovered {
                purpose: purpose.to_owned(),
                action,
            });
        }
        Ok(p)
    }

    /// Decides, returning the names of the fields the caller may see (sorted).
    pub fn decide(&self) -> Result<Vec<String>, AccessRefusal> {
        let purpose = Self::check_purpose(self.policy, self.caller, self.purpose, self.action)?;
        if self.state == SubjectState::Erased {
            return Err(AccessRefusal::SubjectErased);
        }
        let scope = if purpose.legal_basis.needs_consent() {
            Some(
                self.consents
                    .get(self.purpose)
                    .ok_or_else(|| AccessRefusal::ConsentMissing(self.purpose.to_owned()))?,
            )
        } else if !self.established.contains(self.purpose) {
            return Err(AccessRefusal::BasisNotEstablished {
                purpose: self.purpose.to_owned(),
                basis: purpose.legal_basis,
            });
        } else {
            None
        };
        match self.requested {
            None => Ok(self
                .policy
                .fields_for(purpose)
                .filter(|f| scope.is_none_or(|s| s.contains(&self.policy.fields[*f].category)))
                .map(str::to_owned)
                .collect()),
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    out.push(self.field_allowed(purpose, scope, name)?);
                }
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    fn field_allowed(
        &self,
        purpose: &Purpose,
        scope: Option<&BTreeSet<String>>,
        name: &str,
    ) -> Result<String, AccessRefusal> {
        let field = self
            .policy
            .field(name)
            .ok_or_else(|| AccessRefusal::UnknownField(name.to_owned()))?;
        if !purpose.categories.contains(&field.category) {
            return Err(AccessRefusal::CategoryNotAllowed {
                field: name.to_owned(),
                category: field.category.clone(),
                purpose: self.purpose.to_owned(),
            });
        }
        if scope.is_some_and(|s| !s.contains(&field.category)) {
            return Err(AccessRefusal::ConsentScopeExceeded {
                field: name.to_owned(),
                category: field.category.clone(),
                purpose: self.purpose.to_owned(),
            });
        }
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ApiKeyId;
    use crate::policy::DEFAULT_POLICY;

    fn service(purposes: &[&str]) -> Caller {
        Caller {
            actor: Actor::ApiKey(ApiKeyId::parse("k1").unwrap()),
            role: Role::Service,
            purposes: purposes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn decide(
        caller: &Caller,
        purpose: &str,
        state: SubjectState,
        consents: &[&str],
        requested: Option<&[String]>,
    ) -> Result<Vec<String>, AccessRefusal> {
        decide_with(
            caller,
            purpose,
            state,
            consents,
            &["registration", "payment"],
            requested,
        )
    }

    fn decide_with(
        caller: &Caller,
        purpose: &str,
        state: SubjectState,
        consents: &[&str],
        established: &[&str],
        requested: Option<&[String]>,
    ) -> Result<Vec<String>, AccessRefusal> {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let established: BTreeSet<String> = established.iter().map(|p| (*p).to_owned()).collect();
        let consents: BTreeMap<String, BTreeSet<String>> = consents
            .iter()
            .map(|p| {
                (
                    (*p).to_owned(),
                    policy.purpose(p).map(|x| x.categories.clone()).unwrap_or_default(),
                )
            })
            .collect();
        AccessRequest {
            policy: &policy,
            caller,
            purpose,
            action: ProcessingAction::Retrieval,
            state,
            consents: &consents,
            established: &established,
            requested,
        }
        .decide()
    }

    #[test]
    fn another_basis_must_be_established_for_the_subject() {
        let c = service(&["registration", "accounting"]);
        let err = decide_with(&c, "registration", SubjectState::Active, &["marketing"], &[], None).unwrap_err();
        assert_eq!(err.code(), "basis_not_established");
        assert!(err.to_string().contains("`contract`"), "{err}");
        let got = decide_with(&c, "accounting", SubjectState::Active, &[], &["accounting"], None).unwrap();
        assert_eq!(got, ["billing_address", "birth_date", "full_name"]);
    }

    #[test]
    fn contract_purpose_needs_no_consent_and_returns_its_categories() {
        let got = decide(
            &service(&["registration"]),
            "registration",
            SubjectState::Active,
            &[],
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "birth_date",
                "email",
                "full_name",
                "phone",
                "postal_address",
                "username"
            ]
        );
    }

    #[test]
    fn consent_purpose_needs_consent() {
        let c = service(&["marketing"]);
        assert_eq!(
            decide(&c, "marketing", SubjectState::Active, &[], None)
                .unwrap_err()
                .code(),
            "consent_missing"
        );
        assert!(decide(&c, "marketing", SubjectState::Active, &["marketing"], None).is_ok());
    }

    #[test]
    fn refusals_in_order_of_precedence() {
        let c = service(&["marketing"]);
        let code = |p, s, req: Option<&[String]>| decide(&c, p, s, &["marketing"], req).unwrap_err().code();
        assert_eq!(code("selling", SubjectState::Active, None), "unknown_purpose");
        assert_eq!(
            code("registration", SubjectState::Active, None),
            "purpose_not_allowed_for_key"
        );
        assert_eq!(code("marketing", SubjectState::Erased, None), "subject_erased");
        let ip = ["last_ip".to_owned()];
        assert_eq!(
            code("marketing", SubjectState::Active, Some(&ip)),
            "category_not_allowed"
        );
        let nope = ["shoe_size".to_owned()];
        assert_eq!(code("marketing", SubjectState::Active, Some(&nope)), "unknown_field");
    }

    #[test]
    fn actions_must_be_covered() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let err = AccessRequest::check_purpose(&policy, &Caller::cli(), "analytics", ProcessingAction::Distribution)
            .unwrap_err();
        assert_eq!(err.code(), "action_not_covered");
    }

    #[test]
    fn admins_may_use_every_purpose() {
        assert!(decide(&Caller::cli(), "payment", SubjectState::Active, &[], None).is_ok());
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;

    #[test]
    fn a_consent_covers_only_the_scope_it_was_given_for() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let caller = Caller::cli();
        // Consent given when marketing used only contact data.
        let consents = BTreeMap::from([("marketing".to_owned(), BTreeSet::from(["contact".to_owned()]))]);
        let none = BTreeSet::new();
        let req = |requested: Option<&'static [String]>| AccessRequest {
            policy: &policy,
            caller: &caller,
            purpose: "marketing",
            action: ProcessingAction::Retrieval,
            state: SubjectState::Active,
            consents: &consents,
            established: &none,
            requested,
        };
        assert_eq!(req(None).decide().unwrap(), ["email", "phone", "postal_address"]);
        let name: &'static [String] = Box::leak(Box::new(["full_name".to_owned()]));
        assert_eq!(req(Some(name)).decide().unwrap_err().code(), "consent_scope_exceeded");
    }
}
