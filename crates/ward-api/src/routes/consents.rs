//! A subject's consents: the overview, giving consent and withdrawing it.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::consent::{
    CategoryTerms, ConsentMethod, DistributionTerms, Evidence, GivenBy, Role, Signature, SignatureLevel,
    SignatureVerification,
};
use ward_core::ProblemCode;
use ward_vault::{ConsentState, ConsentStatus};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "list_consents",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "give_consent",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ConsentNotApplicable,
            ProblemCode::InvalidEvidence,
            ProblemCode::WrittenConsentRequired,
            ProblemCode::SignatureRequired,
            ProblemCode::InvalidSignature,
            ProblemCode::SignatureNotValid,
            ProblemCode::DistributionTermsRequired,
            ProblemCode::InvalidDistributionTerms,
            ProblemCode::HeirConsentRequired,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "withdraw_consent",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ConsentNotApplicable,
            ProblemCode::ConsentNotFound,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
];

/// How consent was obtained. Stored encrypted with the subject's key: it may hold personal
/// data (an IP address, a user agent).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// How consent was collected: `web_form`, `mobile_app`, `paper`, `api`, ...
    #[schema(example = "web_form")]
    pub channel: String,
    /// The policy version the subject was shown; defaults to the version in force.
    #[serde(default)]
    pub policy_version: Option<String>,
    /// A reference to the exact text shown (a document id or hash).
    #[serde(default)]
    pub text_ref: Option<String>,
    /// The subject's IP address.
    #[serde(default)]
    pub ip: Option<String>,
    /// The subject's browser user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// How consent was expressed: `checkbox`, `form_submission`, `written`, `e_signature`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "checkbox")]
    pub method: Option<ConsentMethod>,
    /// When a parent, guardian, representative or heir consents on the subject's behalf.
    #[serde(default)]
    pub given_by: Option<GivenByBody>,
    /// For method `e_signature`: the signed artefact and how it was verified (required then).
    #[serde(default)]
    pub signature: Option<SignatureBody>,
    /// For a distribution consent (152-FZ Art. 10.1; required then): each category the subject
    /// permits to be made public, with their prohibitions and conditions.
    #[serde(default)]
    pub distribution: Option<DistributionBody>,
}

/// An electronic signature over the consent document (63-FZ). Ward keeps the artefact
/// encrypted with the subject's key and records its SHA-256; the verification is the
/// operator's (a validation service, the signing software), named here.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureBody {
    /// `simple`, `advanced` or `qualified` (63-FZ Art. 5).
    #[schema(value_type = String, example = "qualified")]
    pub level: SignatureLevel,
    /// `cms` (CAdES / PKCS#7), `xmldsig`, `pades`, `jws`, or `confirmation` (a simple
    /// signature's confirmation record).
    #[schema(example = "cms")]
    pub format: String,
    /// The artefact, base64 (at most 256 KiB decoded).
    pub artefact: String,
    /// SHA-256 of the signed document, 64 lowercase hex digits (e.g. of Ward's written-consent
    /// document, from its `X-Ward-Document-Sha256` header).
    #[serde(default)]
    pub document_sha256: Option<String>,
    pub verification: VerificationBody,
}

/// How the signature was verified.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationBody {
    /// Who or what verified it.
    pub verifier: String,
    /// When (RFC 3339).
    pub verified_at: String,
    /// Only `valid` is accepted.
    #[schema(example = "valid")]
    pub result: String,
    /// For advanced and qualified signatures (required then): the certificate's subject, serial
    /// number and issuer.
    #[serde(default)]
    pub certificate: Option<String>,
}

/// What the subject permits to be made public: only the categories listed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributionBody {
    /// Category → the subject's terms for it.
    pub categories: BTreeMap<String, CategoryTermsBody>,
}

/// The subject's prohibitions and conditions for one published category (Art. 10.1 p. 9).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryTermsBody {
    /// The operator may not transfer it to an unlimited circle (other than giving access).
    #[serde(default)]
    pub no_transfer: bool,
    /// An unlimited circle may not process it (other than getting access).
    #[serde(default)]
    pub no_processing: bool,
    /// Conditions on its processing by an unlimited circle, in the subject's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
}

impl From<CategoryTerms> for CategoryTermsBody {
    fn from(t: CategoryTerms) -> Self {
        Self {
            no_transfer: t.no_transfer,
            no_processing: t.no_processing,
            conditions: t.conditions,
        }
    }
}

/// Someone consenting on the subject's behalf (152-FZ Art. 9 p. 4 item 2, p. 6, p. 7; GDPR
/// Art. 8; COPPA).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivenByBody {
    /// `parent`, `guardian`, `representative` or `heir`.
    #[schema(value_type = String, example = "parent")]
    pub role: Role,
    pub name: String,
    /// Their identity document: kind, number, date and issuer.
    pub identity_document: String,
    /// What shows their authority: birth certificate, guardianship order, power of attorney,
    /// certificate of inheritance.
    pub authority: String,
    /// How the operator verified it (COPPA's verifiable parental consent).
    #[serde(default)]
    pub verification: Option<String>,
}

impl From<EvidenceBody> for Evidence {
    fn from(e: EvidenceBody) -> Self {
        Evidence {
            channel: e.channel,
            policy_version: e.policy_version,
            text_ref: e.text_ref,
            ip: e.ip,
            user_agent: e.user_agent,
            method: e.method,
            given_by: e.given_by.map(|g| GivenBy {
                role: g.role,
                name: g.name,
                identity_document: g.identity_document,
                authority: g.authority,
                verification: g.verification,
            }),
            signature: e.signature.map(|s| Signature {
                level: s.level,
                format: s.format,
                artefact: s.artefact,
                artefact_sha256: None,
                document_sha256: s.document_sha256,
                verification: SignatureVerification {
                    verifier: s.verification.verifier,
                    verified_at: s.verification.verified_at,
                    result: s.verification.result,
                    certificate: s.verification.certificate,
                },
            }),
            distribution: e.distribution.map(|d| DistributionTerms {
                categories: d
                    .categories
                    .into_iter()
                    .map(|(c, t)| {
                        (
                            c,
                            CategoryTerms {
                                no_transfer: t.no_transfer,
                                no_processing: t.no_processing,
                                conditions: t.conditions,
                            },
                        )
                    })
                    .collect(),
            }),
        }
    }
}

/// `POST /v1/subjects/{id}/consents`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveConsentRequest {
    /// A purpose whose legal basis is consent.
    #[schema(example = "marketing")]
    pub purpose: String,
    pub evidence: EvidenceBody,
}

/// Where a subject stands on one purpose.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStateBody {
    /// Consent is on record and not withdrawn.
    Given,
    Withdrawn,
    /// Given for a term that has ended.
    Expired,
    /// Never given.
    None,
    /// The purpose does not rest on consent.
    NotRequired,
}

impl From<ConsentState> for ConsentStateBody {
    fn from(s: ConsentState) -> Self {
        match s {
            ConsentState::Given => ConsentStateBody::Given,
            ConsentState::Withdrawn => ConsentStateBody::Withdrawn,
            ConsentState::Expired => ConsentStateBody::Expired,
            ConsentState::None => ConsentStateBody::None,
            ConsentState::NotRequired => ConsentStateBody::NotRequired,
        }
    }
}

/// One purpose in a subject's consent overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentBody {
    pub purpose: String,
    /// `consent`, `contract`, `legal_obligation`, `vital_interests`, `public_task` or
    /// `legitimate_interests`.
    pub legal_basis: String,
    pub state: ConsentStateBody,
    /// When the current state began (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// The content hash of the policy version the last consent event was given under.
    pub policy_version: Option<String>,
    /// For a consent with a term: when it ends (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// After a withdrawal or expiry: data no remaining purpose needs, due for destruction.
    pub destruction: Option<DestructionBody>,
}

/// Data due for destruction (152-FZ Art. 21 p. 5: within 30 days of withdrawal).
#[derive(Debug, Serialize, ToSchema)]
pub struct DestructionBody {
    #[serde(with = "time::serde::rfc3339")]
    pub by: OffsetDateTime,
    pub categories: Vec<String>,
}

impl From<ward_vault::DestructionDue> for DestructionBody {
    fn from(d: ward_vault::DestructionDue) -> Self {
        Self {
            by: d.by,
            categories: d.categories,
        }
    }
}

/// A purpose that goes on after a withdrawal, on its own legal basis.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContinuingBody {
    pub purpose: String,
    pub legal_basis: String,
}

/// What a withdrawal did.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalBody {
    pub purpose: String,
    /// Purposes that keep using some of the same data, each with the legal basis it rests on.
    pub continuing: Vec<ContinuingBody>,
    /// The data no remaining purpose needs, and by when it must be destroyed.
    pub destruction: Option<DestructionBody>,
}

impl From<ConsentStatus> for ConsentBody {
    fn from(s: ConsentStatus) -> Self {
        Self {
            purpose: s.purpose,
            legal_basis: s.legal_basis.as_str().to_owned(),
            state: s.state.into(),
            since: s.since,
            policy_version: s.policy_version,
            expires_at: s.expires_at,
            destruction: s.destruction.map(Into::into),
        }
    }
}

/// A subject's standing on every purpose of the policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    pub consents: Vec<ConsentBody>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConsentPath {
    pub(crate) id: String,
    pub(crate) purpose: String,
}

/// The subject's standing on every purpose: given, withdrawn, none or not required.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/consents",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    responses((status = 200, description = "The consent overview", body = ConsentList)),
)]
pub(crate) async fn list_consents(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<Json<ConsentList>, ApiError> {
    let id = subject_id(&path.id)?;
    let consents = state.vault.consents().overview(&caller, id).await?;
    Ok(Json(ConsentList {
        consents: consents.into_iter().map(Into::into).collect(),
    }))
}

/// Records the subject's consent to a consent-based purpose, with its evidence.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/consents",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = GiveConsentRequest, content_type = "application/json"),
    responses((status = 204, description = "Consent recorded")),
)]
pub(crate) async fn give_consent(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<GiveConsentRequest>,
) -> Result<StatusCode, ApiError> {
    let id = subject_id(&path.id)?;
    state
        .vault
        .consents()
        .give(&caller, id, &body.purpose, body.evidence.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws consent. Takes effect on the very next read for that purpose.
#[utoipa::path(
    delete,
    path = "/v1/subjects/{id}/consents/{purpose}",
    tag = "consents",
    params(
        ("id" = uuid::Uuid, Path, description = "The subject's id"),
        ("purpose" = String, Path, description = "A purpose whose legal basis is consent"),
    ),
    responses((status = 200, description = "Consent withdrawn: what goes on, and what is due for destruction", body = WithdrawalBody)),
)]
pub(crate) async fn withdraw_consent(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ConsentPath>,
) -> Result<Json<WithdrawalBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let w = state.vault.consents().withdraw(&caller, id, &path.purpose).await?;
    Ok(Json(WithdrawalBody {
        purpose: w.purpose,
        continuing: w
            .continuing
            .into_iter()
            .map(|(purpose, basis)| ContinuingBody {
                purpose,
                legal_basis: basis.as_str().to_owned(),
            })
            .collect(),
        destruction: w.destruction.map(Into::into),
    }))
}
