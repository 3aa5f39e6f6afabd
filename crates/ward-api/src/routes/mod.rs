//! The routes, one module per resource. Each module holds its wire types, its handlers and
//! the problem codes each handler can return (see [`crate::spec`]).

pub(crate) mod acts;
pub(crate) mod bases;
pub(crate) mod batch;
pub(crate) mod blocks;
pub(crate) mod consents;
pub(crate) mod contact;
pub(crate) mod deadlines;
pub(crate) mod health;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod lifecycle;
pub(crate) mod metrics;
pub(crate) mod outbox;
pub(crate) mod policy;
pub(crate) mod policy_versions;
pub(crate) mod receipts;
pub(crate) mod registers;
pub(crate) mod reports;
pub(crate) mod request_bodies;
pub(crate) mod requests;
pub(crate) mod subjects;
pub(crate) mod verifications;
pub(crate) mod visitors;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_core::authz::Operation;
use ward_core::ProblemCode;

/// Every route with its OpenAPI operation. Handlers sharing a path are registered together.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::spec::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::openapi_json))
        .routes(routes!(metrics::metrics))
        .routes(routes!(subjects::create_subject, registers::list_subjects))
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
        .routes(routes!(subjects::destroy_subject_data))
        .routes(routes!(consents::list_consents, consents::give_consent))
        .routes(routes!(consents::withdraw_consent))
        .routes(routes!(bases::list_bases, bases::record_basis))
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
        .routes(routes!(deadlines::compute_deadline))
        .routes(routes!(registers::list_journal_entries))
        .routes(routes!(acts::list_destruction_acts))
        .routes(routes!(acts::get_destruction_act))
        .routes(routes!(blocks::list_blocks, blocks::place_block))
        .routes(routes!(blocks::lift_block))
        .routes(routes!(outbox::send_notice))
        .routes(routes!(outbox::list_outbox))
        .routes(routes!(outbox::retry_message))
        .routes(routes!(verifications::start_verification))
        .routes(routes!(verifications::get_verification))
        .routes(routes!(verifications::check_verification_code))
        .routes(routes!(verifications::resend_verification_code))
        .routes(routes!(
            verifications::upload_verification_document,
            verifications::get_verification_document
        ))
        .routes(routes!(verifications::decide_verification))
        .routes(routes!(requests::list_requests, requests::file_request))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::pause_request))
        .routes(routes!(requests::resume_request))
        .routes(routes!(requests::verify_request))
        .routes(routes!(requests::extend_request))
        .routes(routes!(requests::refuse_request))
        .routes(routes!(requests::complete_request))
        .routes(routes!(reports::access_report))
        .routes(routes!(reports::create_export))
        .routes(routes!(reports::list_downloads))
        .routes(routes!(reports::download))
}

/// Problem codes per operation id, gathered from the resource modules: the codes each
/// handler can return itself, beyond those of its extractors (see [`crate::spec::finish`]).
pub(crate) fn problem_codes() -> impl Iterator<Item = (&'static str, &'static [ProblemCode])> {
    [
        health::PROBLEM_CODES,
        metrics::PROBLEM_CODES,
        subjects::PROBLEM_CODES,
        batch::PROBLEM_CODES,
        consents::PROBLEM_CODES,
        bases::PROBLEM_CODES,
        receipts::PROBLEM_CODES,
        contact::PROBLEM_CODES,
        visitors::PROBLEM_CODES,
        policy::PROBLEM_CODES,
        policy_versions::PROBLEM_CODES,
        keys::PROBLEM_CODES,
        lifecycle::PROBLEM_CODES,
        journal::PROBLEM_CODES,
        deadlines::PROBLEM_CODES,
        registers::PROBLEM_CODES,
        acts::PROBLEM_CODES,
        blocks::PROBLEM_CODES,
        outbox::PROBLEM_CODES,
        verifications::PROBLEM_CODES,
        requests::PROBLEM_CODES,
        reports::PROBLEM_CODES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The vault operation each authenticated route calls, by operation id: its row of the
/// authorization table (`ward_core::authz`) says who may call the route, and the document
/// states it (see [`crate::spec::finish`]). A `/v1` route missing here fails the tests.
pub(crate) const VAULT_OPERATIONS: &[(&str, Operation)] = &[
    ("create_subject", Operation::SubjectCreate),
    ("create_subjects_batch", Operation::SubjectCreate),
    ("lookup_subjects", Operation::SubjectLookup),
    ("read_subject", Operation::SubjectRead),
    ("rectify_subject", Operation::SubjectRectify),
    ("erase_subject", Operation::SubjectErase),
    ("destroy_subject_data", Operation::SubjectDestroy),
    ("list_bases", Operation::BasisOverview),
    ("record_basis", Operation::BasisRecord),
    ("list_consents", Operation::ConsentOverview),
    ("give_consent", Operation::ConsentGive),
    ("withdraw_consent", Operation::ConsentWithdraw),
    ("consent_receipt", Operation::ConsentReceipt),
    ("consent_document_record", Operation::ConsentDocumentRecord),
    ("written_consent", Operation::WrittenConsent),
    ("may_contact", Operation::MayContact),
    ("list_cookie_consents", Operation::VisitorConsentList),
    ("record_cookie_consent", Operation::VisitorConsentRecord),
    ("link_visitor", Operation::VisitorLink),
    ("get_policy", Operation::PolicyRead),
    ("list_policy_versions", Operation::PolicyRead),
    ("get_policy_version", Operation::PolicyRead),
    ("diff_policy_versions", Operation::PolicyRead),
    ("publish_policy_version", Operation::PolicyPublish),
    ("list_policy_notices", Operation::PolicyNoticeList),
    ("record_policy_notice", Operation::PolicyNoticeRecord),
    ("policy_acknowledgements", Operation::PolicyAcknowledgements),
    ("record_death", Operation::DeathRecord),
    ("get_death", Operation::DeathRead),
    ("list_keys", Operation::KeyList),
    ("create_key", Operation::KeyCreate),
    ("revoke_key", Operation::KeyRevoke),
    ("verify_journal", Operation::JournalVerify),
    ("create_checkpoint", Operation::JournalCheckpoint),
    ("compute_deadline", Operation::DeadlineCompute),
    ("list_subjects", Operation::SubjectList),
    ("list_journal_entries", Operation::JournalRead),
    ("list_destruction_acts", Operation::ActList),
    ("get_destruction_act", Operation::ActRead),
    ("place_block", Operation::BlockPlace),
    ("list_blocks", Operation::BlockList),
    ("lift_block", Operation::BlockLift),
    ("send_notice", Operation::NoticeSend),
    ("list_outbox", Operation::OutboxList),
    ("retry_message", Operation::OutboxRetry),
    ("start_verification", Operation::VerificationStart),
    ("get_verification", Operation::VerificationRead),
    ("check_verification_code", Operation::VerificationCheckCode),
    ("resend_verification_code", Operation::VerificationResend),
    ("upload_verification_document", Operation::VerificationUpload),
    ("get_verification_document", Operation::VerificationDocumentRead),
    ("decide_verification", Operation::VerificationDecide),
    ("file_request", Operation::RequestFile),
    ("list_requests", Operation::RequestList),
    ("get_request", Operation::RequestRead),
    ("pause_request", Operation::RequestHandle),
    ("resume_request", Operation::RequestHandle),
    ("verify_request", Operation::RequestHandle),
    ("extend_request", Operation::RequestHandle),
    ("refuse_request", Operation::RequestHandle),
    ("complete_request", Operation::RequestHandle),
    ("access_report", Operation::AccessReport),
    ("create_export", Operation::DownloadCreate),
    ("list_downloads", Operation::DownloadList),
];

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(ProblemCode::NotFound, "there is no such route; see /openapi.json")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ProblemCode::MethodNotAllowed,
        "this route does not take this method; see the Allow header",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use utoipa::openapi::path::Operation;

    fn operations(spec: &utoipa::openapi::OpenApi) -> Vec<(String, Operation)> {
        let mut out = Vec::new();
        for (path, item) in &spec.paths.paths {
            for op in [
                &item.get,
                &item.put,
                &item.post,
                &item.delete,
                &item.options,
                &item.head,
                &item.patch,
                &item.trace,
            ]
            .into_iter()
            .flatten()
            {
                out.push((path.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn every_operation_has_its_problem_codes_and_every_listed_id_is_an_operation() {
        let spec = crate::openapi();
        let table: HashMap<&str, &[ProblemCode]> = problem_codes().collect();
        assert_eq!(table.len(), problem_codes().count(), "an operation id is listed twice");
        let mut seen = HashSet::new();
        for (path, op) in operations(&spec) {
            let id = op
                .operation_id
                .clone()
                .unwrap_or_else(|| panic!("{path}: no operation id"));
            assert!(table.contains_key(id.as_str()), "{id}: no problem codes listed");
            assert!(seen.insert(id.clone()), "{id}: duplicate operation id");
            assert!(op.responses.responses.contains_key("500"), "{id}");
            if crate::spec::PUBLIC_PATHS.contains(&path.as_str()) {
                assert!(op.security.is_none(), "{id}: a public route");
                assert!(!VAULT_OPERATIONS.iter().any(|(o, _)| *o == id), "{id}: a public route");
            } else if path.starts_with("/v1/") {
                assert!(op.responses.responses.contains_key("401"), "{id}");
                assert!(op.security.is_some(), "{id}");
                assert!(
                    VAULT_OPERATIONS.iter().any(|(o, _)| *o == id),
                    "{id}: no vault operation, so no row of the authorization table"
                );
            }
        }
        for (id, _) in VAULT_OPERATIONS {
            assert!(seen.contains(*id), "{id} has a vault operation but is no operation");
        }
        for id in table.keys() {
            assert!(seen.contains(*id), "{id} is listed but is no operation");
        }
    }

    /// A code no operation lists and the router does not answer is one no client is told
    /// about: either a route can return it and its list is missing it, or it is dead.
    #[test]
    fn every_code_is_listed_by_some_operation_or_answered_by_the_router() {
        let spec = serde_json::to_value(crate::openapi()).expect("the document serialises");
        let mut listed: HashSet<String> = crate::spec::ROUTER_CODES.iter().map(|c| c.to_string()).collect();
        for item in spec["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("path item").values() {
                if let Some(codes) = op["x-problem-codes"].as_array() {
                    listed.extend(codes.iter().filter_map(|c| c.as_str()).map(str::to_owned));
                }
            }
        }
        for code in ProblemCode::ALL {
            assert!(listed.contains(code.as_str()), "`{code}`: no operation lists it");
        }
    }

    #[test]
    fn the_problem_schema_lists_every_code() {
        let spec = serde_json::to_value(crate::openapi()).expect("the document serialises");
        let values = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("the code's schema is an enum")
            .clone();
        let expected: Vec<serde_json::Value> = ProblemCode::ALL.iter().map(|c| c.as_str().into()).collect();
        assert_eq!(values, expected);
    }
}
