//! The officer's registers (admin, officer): subjects with their standing facts, and journal
//! entries, paged by an opaque cursor. Ids, enums and policy names only: personal data is read
//! through a purpose or a request, never listed. Each listing is journaled.

use crate::error::ApiError;
use crate::extract::{ApiQuery, AuthCaller};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::ProblemCode;
use ward_vault::{JournalListing, JournalQuery, SubjectListing, SubjectQuery};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "list_subjects",
        &[
            ProblemCode::InvalidQuery,
            ProblemCode::InvalidCursor,
            ProblemCode::InvalidFilter,
            ProblemCode::UnknownPurpose,
            ProblemCode::ConsentNotApplicable,
            ProblemCode::PolicyVersionNotFound,
            ProblemCode::AmbiguousPolicyVersion,
            ProblemCode::Forbidden,
        ],
    ),
    (
        "list_journal_entries",
        &[
            ProblemCode::InvalidQuery,
            ProblemCode::InvalidCursor,
            ProblemCode::InvalidFilter,
            ProblemCode::InvalidSubjectId,
            ProblemCode::Forbidden,
        ],
    ),
];

/// Filters of the register of subjects; every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubjectsQuery {
    /// `active`, `deceased` (active, a death recorded) or `erased`.
    pub state: Option<String>,
    /// Consents now to this consent-based purpose.
    pub consent_to: Option<String>,
    /// Does not consent now to this consent-based purpose (never did, withdrew, expired).
    pub no_consent_to: Option<String>,
    /// `true`: consented under a version whose change to the purpose requires a new consent.
    pub must_consent_again: Option<bool>,
    /// Has data due for destruction before this date (`YYYY-MM-DD`) or RFC 3339 instant.
    pub destruction_due_before: Option<String>,
    /// Accepted this policy version (its hash, or a unique prefix of 8 or more).
    pub accepted_version: Option<String>,
    /// `true`: has not accepted the version in force.
    pub not_accepted_in_force: Option<bool>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// Data due for destruction, and by when.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueBody {
    #[serde(with = "time::serde::rfc3339")]
    pub by: OffsetDateTime,
    pub categories: Vec<String>,
}

/// One subject in the register: its id and standing facts, no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectListingBody {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// `active`, `deceased` or `erased`.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Consent-based purposes consented to now.
    pub consents_given: Vec<String>,
    /// Of those, the ones to consent to again: given under a version whose change to the
    /// purpose requires a new consent.
    pub must_consent_again: Vec<String>,
    /// Purposes on other legal bases established now.
    pub bases_established: Vec<String>,
    /// The earliest destruction due after a consent or another basis ended; `null` if none.
    pub destruction_due: Option<DueBody>,
    /// Whether the subject accepted the policy version in force.
    pub accepted_policy_in_force: bool,
}

impl From<SubjectListing> for SubjectListingBody {
    fn from(s: SubjectListing) -> Self {
        Self {
            id: s.id.to_string(),
            state: s.state.as_str().to_owned(),
            created_at: s.created_at,
            consents_given: s.consents_given,
            must_consent_again: s.must_consent_again,
            bases_established: s.bases_established,
            destruction_due: s.destruction.map(|d| DueBody {
                by: d.by,
                categories: d.categories,
            }),
            accepted_policy_in_force: s.accepted_in_force,
        }
    }
}

/// A page of the register of subjects.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectPageBody {
    pub items: Vec<SubjectListingBody>,
    /// Pass as `cursor` for the next page; `null` after the last. A page may hold fewer than
    /// `limit` items and still have a next one (it examines a bounded number of subjects).
    pub next_cursor: Option<String>,
}

/// Lists subjects by state, consent standing, destruction due and policy acceptance, in id
/// order (admin, officer). Answers ids and standing facts only; journaled as `subjects.listed`.
#[utoipa::path(
    get,
    path = "/v1/subjects",
    tag = "registers",
    params(SubjectsQuery),
    responses((status = 200, description = "A page of subjects", body = SubjectPageBody)),
)]
pub(crate) async fn list_subjects(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SubjectsQuery>,
) -> Result<Json<SubjectPageBody>, ApiError> {
    let query = SubjectQuery {
        state: q.state,
        consent_to: q.consent_to,
        no_consent_to: q.no_consent_to,
        must_consent_again: q.must_consent_again.unwrap_or(false),
        destruction_due_before: q.destruction_due_before,
        accepted_version: q.accepted_version,
        not_accepted_in_force: q.not_accepted_in_force.unwrap_or(false),
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.vault.registers().subjects(&caller, &query).await?;
    Ok(Json(SubjectPageBody {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Filters of the journal listing; every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JournalEntriesQuery {
    /// Entries about this subject: who accessed their data.
    #[param(value_type = Option<uuid::Uuid>)]
    pub subject: Option<String>,
    /// Entries by this actor (`key:<id>`, `cli`, `system`): what the key did.
    pub actor: Option<String>,
    /// Entries of this action (`retrieval`, `consent.given`, ...).
    pub action: Option<String>,
    /// Entries for this purpose.
    pub purpose: Option<String>,
    /// At or after this date (`YYYY-MM-DD`) or RFC 3339 instant.
    pub from: Option<String>,
    /// Before this date or instant.
    pub to: Option<String>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One journal entry: ids, enums and names from the policy, never a value.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalEntryBody {
    /// Its position in the chain.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub subject: Option<String>,
    pub purpose: Option<String>,
    /// The field names involved.
    pub fields: Vec<String>,
    pub detail: Option<String>,
}

impl From<JournalListing> for JournalEntryBody {
    fn from(e: JournalListing) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject: e.subject.map(|s| s.to_string()),
            purpose: e.purpose,
            fields: e.fields,
            detail: e.detail,
        }
    }
}

/// A page of journal entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalPageBody {
    pub items: Vec<JournalEntryBody>,
    /// Pass as `cursor` for the next page; `null` after the last.
    pub next_cursor: Option<String>,
}

/// Lists journal entries by subject, actor, action, purpose and time, oldest first (admin,
/// officer). Journaled as `journal.read`.
#[utoipa::path(
    get,
    path = "/v1/journal/entries",
    tag = "journal",
    params(JournalEntriesQuery),
    responses((status = 200, description = "A page of journal entries", body = JournalPageBody)),
)]
pub(crate) async fn list_journal_entries(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<JournalEntriesQuery>,
) -> Result<Json<JournalPageBody>, ApiError> {
    let subject = q
        .subject
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|_| ApiError::new(ProblemCode::InvalidSubjectId, "`subject` is not a UUID"))
        })
        .transpose()?;
    let query = JournalQuery {
        subject,
        actor: q.actor,
        action: q.action,
        purpose: q.purpose,
        from: q.from,
        to: q.to,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.vault.registers().journal(&caller, &query).await?;
    Ok(Json(JournalPageBody {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
