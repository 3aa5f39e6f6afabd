//! The routes, one module per resource. Each module holds its wire types, its handlers and
//! the problem codes each handler can return (see [`crate::spec`]).

pub(crate) mod batch;
pub(crate) mod consents;
pub(crate) mod contact;
pub(crate) mod health;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod lifecycle;
pub(crate) mod policy;
pub(crate) mod policy_versions;
pub(crate) mod receipts;
pub(crate) mod subjects;
pub(crate) mod visitors;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route with its OpenAPI operation. Handlers sharing a path are registered together.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::spec::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::openapi_json))
        .routes(routes!(subjects::create_subject))
        .routes(routes!(subjects::lookup_subjects))
        .merge(
            // A batch is bigger than the default body limit allows; the route sets its own.
            OpenApiRouter::new()
                .routes(routes!(batch::create_subjects_batch))
                .layer(DefaultBodyLimit::max(batch::MAX_BATCH_BODY_BYTES)),
        )
        .routes(routes!(
            subjects::read_subject,
            subjects::rectify_subject,
            subjects::erase_subject
        ))
        .routes(routes!(consents::list_consents, consents::give_consent))
        .routes(routes!(consents::withdraw_consent))
        .routes(routes!(receipts::consent_receipt))
        .routes(routes!(receipts::consent_document_record))
        .routes(routes!(contact::may_contact))
        .routes(routes!(receipts::written_consent))
        .routes(routes!(visitors::list_cookie_consents, visitors::record_cookie_consent))
        .routes(routes!(visitors::link_visitor))
        .routes(routes!(policy::get_policy))
        .routes(routes!(
            policy_versions::list_policy_versions,
            policy_versions::publish_policy_version
        ))
        .routes(routes!(policy_versions::get_policy_version))
        .routes(routes!(policy_versions::diff_policy_versions))
        .routes(routes!(lifecycle::list_policy_notices, lifecycle::record_policy_notice))
        .routes(routes!(lifecycle::policy_acknowledgements))
        .routes(routes!(lifecycle::record_death, lifecycle::get_death))
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
        batch::PROBLEM_CODES,
        consents::PROBLEM_CODES,
        receipts::PROBLEM_CODES,
        contact::PROBLEM_CODES,
        visitors::PROBLEM_CODES,
        policy::PROBLEM_CODES,
        policy_versions::PROBLEM_CODES,
        keys::PROBLEM_CODES,
        lifecycle::PROBLEM_CODES,
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
