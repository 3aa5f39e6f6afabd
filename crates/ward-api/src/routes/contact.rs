//! May the operator contact the subject? Service notices and marketing, per channel.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use ward_core::policy::register::MarketingChannel;
use ward_core::ProblemCode;
use ward_vault::NoticeClass;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[(
    "may_contact",
    &[
        ProblemCode::InvalidSubjectId,
        ProblemCode::InvalidPath,
        ProblemCode::InvalidQuery,
        ProblemCode::SubjectNotFound,
        ProblemCode::SubjectErased,
    ],
)];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// `service` (account, security, outages) or `marketing`.
    #[param(value_type = String, example = "marketing")]
    pub class: ClassParam,
    /// `email`, `sms`, `calls` or `push`.
    #[param(value_type = String, example = "email")]
    pub channel: MarketingChannel,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassParam {
    Service,
    Marketing,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactBody {
    pub allowed: bool,
    /// The purpose that allows it.
    pub purpose: Option<String>,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

/// Whether a message of a class may go to the subject over a channel. A marketing opt-out
/// never stops service notices; marketing needs consent for that channel.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/contact",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id"), ContactQuery),
    responses((status = 200, description = "The decision", body = ContactBody)),
)]
pub(crate) async fn may_contact(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> Result<Json<ContactBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let class = match q.class {
        ClassParam::Service => NoticeClass::Service,
        ClassParam::Marketing => NoticeClass::Marketing,
    };
    let d = state.vault.contact().may_contact(&caller, id, class, q.channel).await?;
    Ok(Json(ContactBody {
        allowed: d.allowed,
        purpose: d.purpose,
        reason: d.reason,
    }))
}
