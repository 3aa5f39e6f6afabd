//! API keys (admin only): list, create (the token is shown once), revoke.

use crate::error::ApiError;
use crate::extract::{ApiPath, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::ApiKeyId;
use ward_core::ProblemCode;
use ward_vault::ApiKeyView;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    ("list_keys", &[ProblemCode::Forbidden]),
    (
        "create_key",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidKeyName,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposesRequired,
            ProblemCode::PurposesNotApplicable,
        ],
    ),
    (
        "revoke_key",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidPath,
            ProblemCode::ApiKeyNotFound,
            ProblemCode::Conflict,
        ],
    ),
];

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// The operator's administrator: keys, policy, configuration, and everything else.
    Admin,
    /// The privacy officer: requests, registers, journal, destruction; reads through a
    /// purpose named in each call.
    Officer,
    /// The website: subject operations, for the key's purposes only.
    Service,
}

impl From<KeyRole> for Role {
    fn from(r: KeyRole) -> Self {
        match r {
            KeyRole::Admin => Role::Admin,
            KeyRole::Officer => Role::Officer,
            KeyRole::Service => Role::Service,
        }
    }
}

impl From<Role> for KeyRole {
    /// A subject key cannot be created, so none is listed; were one stored, it would show as
    /// a service key, the role with the fewest rights that exists on the wire.
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => KeyRole::Admin,
            Role::Officer => KeyRole::Officer,
            Role::Service | Role::Subject => KeyRole::Service,
        }
    }
}

/// `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// A label for people: 1 to 100 characters.
    #[schema(example = "shop backend")]
    pub name: String,
    pub role: KeyRole,
    /// For service keys: the purposes the key may use (at least one). Admin and officer keys
    /// take none.
    #[serde(default)]
    pub purposes: Vec<String>,
}

/// An API key as administrators see it (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyBody {
    /// The key's public id (the part of the token after `ward_`).
    pub id: String,
    pub name: String,
    pub role: KeyRole,
    pub purposes: Vec<String>,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// RFC 3339; `null` while the key is valid.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKeyView> for KeyBody {
    fn from(k: ApiKeyView) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.into(),
            purposes: k.purposes,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// Every API key, revoked ones included.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyBody>,
}

/// A new key with its token. The token is shown this once; Ward keeps only a keyed hash.
#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub role: KeyRole,
    pub purposes: Vec<String>,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `ward_<id>_<secret>`: send it as `Authorization: Bearer <token>`.
    pub token: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct KeyPath {
    id: String,
}

/// Every API key (admin only).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, description = "The keys", body = KeyList)))]
pub(crate) async fn list_keys(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
) -> Result<Json<KeyList>, ApiError> {
    let keys = state.vault.api_keys().list(&caller).await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a key (admin only). The response holds the token, shown this once.
#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "keys",
    request_body(content = CreateKeyRequest, content_type = "application/json"),
    responses((status = 201, description = "The key, with its token", body = CreatedKey)),
)]
pub(crate) async fn create_key(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let (view, token) = state
        .vault
        .api_keys()
        .create(&caller, &body.name, body.role.into(), &body.purposes)
        .await?;
    let created = CreatedKey {
        id: view.id,
        name: view.name,
        role: view.role.into(),
        purposes: view.purposes,
        created_at: view.created_at,
        token: token.expose(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a key (admin only). Takes effect at once in this process.
#[utoipa::path(
    delete,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "The key is revoked")),
)]
pub(crate) async fn revoke_key(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<KeyPath>,
) -> Result<StatusCode, ApiError> {
    state.vault.authorize(&caller, Operation::KeyRevoke)?;
    let id = ApiKeyId::parse(&path.id).ok_or_else(|| {
        ApiError::from(ward_vault::VaultError::NotFound(
            ProblemCode::ApiKeyNotFound,
            "no API key with this id".into(),
        ))
    })?;
    state.vault.api_keys().revoke(&caller, id.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}
