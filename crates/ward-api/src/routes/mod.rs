//! The routes, one module per resource. Each module holds its wire types, its handlers and
//! the problem codes each handler can return (see [`crate::spec`]).

pub(crate) mod consents;
pub(crate) mod health;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod policy;
pub(crate) mod subjects;

use crate::error::ApiError;
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route with its OpenAPI operation. Handlers sharing a path are registered together.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::spec::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::openapi_json))
        .routes(routes!(subjects::create_subject))
        .routes(routes!(subjects::lookup_subjects))
        .routes(routes!(
            subjects::read_subject,
            subjects::rectify_subject,
            subjects::erase_subject
        ))
        .routes(routes!(consents::list_consents, consents::give_consent))
        .routes(routes!(consents::withdraw_consent))
        .routes(routes!(policy::get_policy))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(journal::verify_journal))
        .routes(routes!(journal::create_checkpoint))
}

/// Problem codes per operation id, gathered from the resource modules.
pub(crate) fn problem_codes() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    [
        health::PROBLEM_CODES,
        subjects::PROBLEM_CODES,
        consents::PROBLEM_CODES,
        policy::PROBLEM_CODES,
        keys::PROBLEM_CODES,
        journal::PROBLEM_CODES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new("not_found", "there is no such route; see /openapi.json")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        "method_not_allowed",
        "this route does not take this method; see the Allow header",
    )
}
