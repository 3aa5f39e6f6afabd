//! Policy versions: publish, list, show, diff. Versions are immutable once published; the one
//! in force is chosen by its `effective_at`.

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::routes::policy::PolicyBody;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::authz::Operation;
use ward_core::policy::PolicyChange;
use ward_core::ProblemCode;
use ward_vault::{PolicySource, PolicyVersion};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    ("list_policy_versions", &[]),
    (
        "publish_policy_version",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidPolicy,
            ProblemCode::PolicyIdChanged,
            ProblemCode::PolicyVersionInForce,
            ProblemCode::PolicyVersionScheduled,
            ProblemCode::Conflict,
        ],
    ),
    (
        "get_policy_version",
        &[
            ProblemCode::InvalidPath,
            ProblemCode::PolicyVersionNotFound,
            ProblemCode::AmbiguousPolicyVersion,
        ],
    ),
    (
        "diff_policy_versions",
        &[
            ProblemCode::PolicyVersionNotFound,
            ProblemCode::AmbiguousPolicyVersion,
            ProblemCode::InvalidQuery,
        ],
    ),
];

/// One version, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    /// Hex SHA-256 of the register (and text): the version's identity.
    pub hash: String,
    pub policy_id: String,
    /// The operator's label.
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub effective_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// Whether this is the version in force now.
    pub in_force: bool,
    /// Whether the version has a human-readable text.
    pub has_text: bool,
}

fn summary(v: &PolicyVersion, in_force: &str) -> VersionSummary {
    VersionSummary {
        hash: v.hash.clone(),
        policy_id: v.policy.id.clone(),
        version: v.policy.version.clone(),
        effective_at: v.effective_at,
        recorded_at: v.recorded_at,
        in_force: v.hash == in_force,
        has_text: v.source.text.is_some(),
    }
}

/// Every version, by the time it takes effect.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub versions: Vec<VersionSummary>,
}

/// One change between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeBody {
    /// `purpose_added`, `categories_widened`, `recipient_added`, `text_only`, ...
    pub code: String,
    /// The purpose, recipient, field or document concerned; empty for the whole policy.
    pub subject: String,
    pub description: String,
    /// What the change requires: `new_consent`, `inform_subjects`, `notify_regulator`,
    /// `cross_border`, `destroy_data`, `nothing`.
    pub requires: Vec<String>,
}

impl From<&PolicyChange> for ChangeBody {
    fn from(c: &PolicyChange) -> Self {
        Self {
            code: c.code.to_owned(),
            subject: c.subject.clone(),
            description: c.description.clone(),
            requires: c.requires.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

/// `POST /v1/policy/versions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The register (the policy TOML).
    pub register: String,
    /// The human-readable text (Markdown).
    #[serde(default)]
    pub text: Option<String>,
    /// When it comes into force (RFC 3339); default now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub effective_at: Option<OffsetDateTime>,
}

/// What publishing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedBody {
    pub version: VersionSummary,
    /// `false` when the same content was published before (nothing new was recorded).
    pub new: bool,
    /// `true` when the content was a version not yet in force and this request moved it to
    /// another effective time: `previous_effective_at` is its old time, `version.effective_at`
    /// its new one.
    pub rescheduled: bool,
    /// The version's effective time before this request rescheduled it (only when
    /// `rescheduled`; else null).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, example = "2030-01-01T00:00:00Z")]
    pub previous_effective_at: Option<OffsetDateTime>,
    /// Changes from the version in force when it was published.
    pub changes: Vec<ChangeBody>,
}

/// A version with its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionBody {
    pub summary: VersionSummary,
    pub policy: PolicyBody,
    /// The register as published.
    pub register: String,
    pub text: Option<String>,
}

/// The changes between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiffBody {
    pub from: String,
    pub to: String,
    pub changes: Vec<ChangeBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version's hash (or a prefix of at least 8 characters).
    pub from: String,
    /// The newer version's hash (or prefix).
    pub to: String,
}

#[derive(Debug, Deserialize)]
pub struct VersionPath {
    pub hash: String,
}

/// Every published version.
#[utoipa::path(get, path = "/v1/policy/versions", tag = "policy", responses((status = 200, description = "The versions", body = VersionList)))]
pub(crate) async fn list_policy_versions(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
) -> Result<Json<VersionList>, ApiError> {
    state.vault.authorize(&caller, Operation::PolicyRead)?;
    let in_force = state.vault.policies().current_hash();
    Ok(Json(VersionList {
        versions: state
            .vault
            .policies()
            .versions()
            .iter()
            .map(|v| summary(v, &in_force))
            .collect(),
    }))
}

/// Publishes a version (admin only). A version's content is immutable: the same content
/// again, asking for what stands (no `effective_at`, or the version's own), changes nothing
/// (`200`, `new: false`, `rescheduled: false`); asking for another effective time reschedules a
/// version not yet in force (`200`, `rescheduled: true`, `previous_effective_at` and the new
/// `version.effective_at`; no `effective_at` means now), and is refused once the version has
/// taken effect (`409 policy_version_in_force`: its date was not changed) or for a time already
/// past (`409 policy_version_scheduled`). A register whose
/// `[policy] id` differs from the version in force is refused (`422 policy_id_changed`).
#[utoipa::path(
    post,
    path = "/v1/policy/versions",
    tag = "policy",
    request_body(content = PublishRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Published", body = PublishedBody),
        (status = 200, description = "The same content was published before: nothing changed, or (`rescheduled: true`) the version, not yet in force, now takes effect at the time asked for", body = PublishedBody),
    ),
)]
pub(crate) async fn publish_policy_version(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PublishRequest>,
) -> Result<(StatusCode, Json<PublishedBody>), ApiError> {
    let source = PolicySource {
        register: body.register,
        text: body.text,
    };
    let p = state
        .vault
        .policies()
        .publish(&caller, source, body.effective_at)
        .await?;
    let in_force = state.vault.policies().current_hash();
    let status = if p.new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(PublishedBody {
            version: summary(&p.version, &in_force),
            new: p.new,
            rescheduled: p.rescheduled_from.is_some(),
            previous_effective_at: p.rescheduled_from,
            changes: p.changes.iter().map(Into::into).collect(),
        }),
    ))
}

/// One version with its register, text and parsed policy.
#[utoipa::path(
    get,
    path = "/v1/policy/versions/{hash}",
    tag = "policy",
    params(("hash" = String, Path, description = "The version's hash, or a prefix of at least 8 characters")),
    responses((status = 200, description = "The version", body = VersionBody)),
)]
pub(crate) async fn get_policy_version(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<VersionPath>,
) -> Result<Json<VersionBody>, ApiError> {
    state.vault.authorize(&caller, Operation::PolicyRead)?;
    let v = state.vault.policies().find(&path.hash)?;
    let in_force = state.vault.policies().current_hash();
    Ok(Json(VersionBody {
        summary: summary(&v, &in_force),
        policy: PolicyBody::new(&v.policy, &v.hash),
        register: v.source.register.clone(),
        text: v.source.text.clone(),
    }))
}

/// What changed between two versions, each change with what it requires.
#[utoipa::path(get, path = "/v1/policy/diff", tag = "policy", params(DiffQuery), responses((status = 200, description = "The changes", body = DiffBody)))]
pub(crate) async fn diff_policy_versions(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<DiffBody>, ApiError> {
    state.vault.authorize(&caller, Operation::PolicyRead)?;
    let changes = state.vault.policies().diff(&q.from, &q.to)?;
    Ok(Json(DiffBody {
        from: q.from,
        to: q.to,
        changes: changes.iter().map(Into::into).collect(),
    }))
}
