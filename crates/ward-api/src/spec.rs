//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` attributes as the
//! routes are registered, then finished here with the bearer security scheme and, for every
//! operation, the problem responses it can return (grouped by status, the codes listed in each
//! response's description and in its `x-problem-codes` extension).
//!
//! This module knows nothing of the routes: the routes start from [`base`], and the caller
//! hands [`finish`] each operation's own problem codes.

use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE};
use axum::http::Method;
use std::collections::{BTreeMap, HashMap};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::Required;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, ResponseBuilder, Type};
use ward_core::access::Role;
use ward_core::authz::{self, Allowance, Operation as VaultOperation};
use ward_core::ProblemCode;

/// The name of the bearer security scheme.
pub const SECURITY_SCHEME: &str = "bearer";

/// Codes every authenticated operation can return: its `AuthCaller` asks the vault.
pub(crate) const AUTHENTICATED_CODES: &[ProblemCode] = &[ProblemCode::Unauthorized, ProblemCode::StorageUnavailable];
/// Codes every operation with a JSON body can return (its `JsonBody` extractor).
pub(crate) const BODY_CODES: &[ProblemCode] = &[
    ProblemCode::InvalidJson,
    ProblemCode::UnknownFieldInBody,
    ProblemCode::UnsupportedMediaType,
    ProblemCode::BodyTooLarge,
];
/// `/v1` routes that take no API key: a download link's token is its own authority.
pub const PUBLIC_PATHS: &[&str] = &["/v1/downloads/{token}"];
/// Codes every operation can return (a panic is caught and answered with it).
pub(crate) const ALWAYS_CODES: &[ProblemCode] = &[ProblemCode::InternalError];
/// Codes the router answers on any path, for no operation: no such route, or not this
/// method. The document's description says so; no operation lists them.
pub const ROUTER_CODES: &[ProblemCode] = &[ProblemCode::NotFound, ProblemCode::MethodNotAllowed];

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Ward",
        description = "A personal-data vault that keeps a privacy policy's promises (152-FZ, GDPR). \
            Every `/v1` operation but a download link's needs `Authorization: Bearer <token>`, of a key whose role the \
            operation allows: each states its roles (`x-ward-roles`; `x-ward-purpose-bound` names the \
            roles allowed only for the purposes on their key). Errors are RFC 9457 \
            `application/problem+json` documents with a stable `code`; each operation lists the codes \
            it can return. Any path may also answer `404 not_found` (no such route) or \
            `405 method_not_allowed` (the route does not take the method).",
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "subjects", description = "Data subjects: collection, purpose-bound reads, lookups, rectification, erasure"),
        (name = "consents", description = "Consent given and withdrawn"),
        (name = "bases", description = "Legal bases other than consent, established per subject: contracts, obligations, legitimate interests"),
        (name = "visitors", description = "Website visitors' cookie and tracking consent, with Global Privacy Control"),
        (name = "policy", description = "The policy in force"),
        (name = "keys", description = "API keys (admin only)"),
        (name = "registers", description = "The officer's registers: subjects by standing, ids and standing facts only (admin and officer)"),
        (name = "journal", description = "The processing journal (admin and officer)"),
        (name = "deadlines", description = "Legal deadlines counted on production calendars (admin and officer)"),
        (name = "destruction", description = "Destruction acts (RKN Order No. 179) with their journal extracts (admin and officer)"),
        (name = "requests", description = "Data-subject requests: intake, the register with overdue and due-within filters, and the workflow (verification, pause, extension, completion, refusal)"),
        (name = "outbox", description = "Messages to subjects: templated notices queued with their cause and delivered over SMTP"),
        (name = "verifications", description = "Identity verification of data-subject requests: vouched by the website, a one-time code, or a signed document the officer reviews"),
        (name = "meta", description = "Liveness, metrics and this document"),
    ),
)]
struct BaseDoc;

/// The document before any route is added.
pub(crate) fn base() -> OpenApi {
    <BaseDoc as utoipa::OpenApi>::openapi()
}

/// Adds the security scheme and every operation's security and problem responses. `codes`
/// gives, per operation id, the codes its handler itself can return; the codes of its
/// extractors (authentication, a JSON body) and [`ALWAYS_CODES`] are added here.
///
/// `operations` gives, per operation id, the vault operation it calls: its row of the
/// authorization table is written into the operation as `x-ward-operation`, `x-ward-roles`
/// (the roles allowed) and `x-ward-purpose-bound` (the roles allowed only for the purposes on
/// their key), and said in its description; a role it refuses adds `forbidden`.
pub(crate) fn finish<'a>(
    mut spec: OpenApi,
    codes: impl IntoIterator<Item = (&'a str, &'a [ProblemCode])>,
    operations: impl IntoIterator<Item = (&'a str, VaultOperation)>,
) -> OpenApi {
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SECURITY_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("ward_<id>_<secret>")
                .description(Some(
                    "An API key's token, as `ward key create` or `POST /v1/keys` shows it once.",
                ))
                .build(),
        ),
    );
    let table: HashMap<&str, &[ProblemCode]> = codes.into_iter().collect();
    let vault_ops: HashMap<&str, VaultOperation> = operations.into_iter().collect();
    for (path, item) in &mut spec.paths.paths {
        let authenticated = path.starts_with("/v1/") && !PUBLIC_PATHS.contains(&path.as_str());
        let template = path.clone();
        for (method, op) in operations_mut(item) {
            let specific = op
                .operation_id
                .as_deref()
                .and_then(|id| table.get(id).copied())
                .unwrap_or_default();
            let mut codes: Vec<ProblemCode> = specific.to_vec();
            if authenticated {
                codes.extend(AUTHENTICATED_CODES);
                op.security = Some(vec![SecurityRequirement::new(SECURITY_SCHEME, Vec::<String>::new())]);
                let vault_op = op.operation_id.as_deref().and_then(|id| vault_ops.get(id).copied());
                if vault_op.is_some_and(|o| add_roles(op, o)) {
                    codes.push(ProblemCode::Forbidden);
                }
            }
            if op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"))
            {
                codes.extend(BODY_CODES);
            }
            if crate::idempotency::takes_key(&method, &template) {
                add_idempotency_key(op);
                codes.extend(IDEMPOTENCY_CODES);
            }
            codes.extend(ALWAYS_CODES);
            add_problem_responses(op, codes);
        }
    }
    spec
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::OPTIONS, &mut item.options),
        (Method::HEAD, &mut item.head),
        (Method::PATCH, &mut item.patch),
        (Method::TRACE, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
}

/// Codes of every operation that takes an `Idempotency-Key`.
const IDEMPOTENCY_CODES: &[ProblemCode] = &[
    ProblemCode::InvalidIdempotencyKey,
    ProblemCode::IdempotencyKeyReused,
    ProblemCode::IdempotencyInProgress,
];

/// Documents the `Idempotency-Key` header on `op`.
fn add_idempotency_key(op: &mut Operation) {
    let param = ParameterBuilder::new()
        .name(crate::idempotency::HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same request (method, path and body) sent again by the same key \
             with the same value within 24 hours is answered with the first answer (with \
             `Idempotent-Replayed: true`) and nothing is done twice. Another request with the value: \
             `422 idempotency_key_reused`; the first not answered yet: `409 idempotency_in_progress`. \
             1 to 255 visible ASCII characters (a UUID, say); otherwise `400 invalid_idempotency_key`.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255)),
        ))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(param);
}

/// Writes `vault_op`'s row of the authorization table into `op`; whether a role is refused.
fn add_roles(op: &mut Operation, vault_op: VaultOperation) -> bool {
    let allowed = authz::roles_for(vault_op);
    let bound: Vec<Role> = allowed
        .iter()
        .copied()
        .filter(|r| authz::allowance(*r, vault_op) == Allowance::OwnPurposes)
        .collect();
    let names = |roles: &[Role]| roles.iter().map(|r| r.as_str()).collect::<Vec<_>>();
    let said: Vec<String> = allowed
        .iter()
        .map(|r| {
            if bound.contains(r) {
                format!("`{r}` (for the purposes on its key)")
            } else {
                format!("`{r}`")
            }
        })
        .collect();
    let line = format!("Roles allowed: {}.", said.join(", "));
    op.description = Some(match op.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
        _ => line,
    });
    op.extensions.get_or_insert_with(Default::default).merge(
        ExtensionsBuilder::new()
            .add("x-ward-operation", vault_op.as_str())
            .add("x-ward-roles", names(&allowed))
            .add("x-ward-purpose-bound", names(&bound))
            .build(),
    );
    allowed.len() < Role::ALL.len()
}

fn add_problem_responses(op: &mut Operation, codes: Vec<ProblemCode>) {
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for code in codes {
        let list = by_status.entry(code.status()).or_default();
        if !list.contains(&code.as_str()) {
            list.push(code.as_str());
        }
    }
    let all: Vec<&str> = by_status.values().flatten().copied().collect();
    op.extensions
        .get_or_insert_with(Default::default)
        .merge(ExtensionsBuilder::new().add("x-problem-codes", all).build());
    for (status, codes) in by_status {
        let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let mut response = ResponseBuilder::new()
            .description(format!(
                "A problem (application/problem+json) with one of the codes: {}",
                listed.join(", ")
            ))
            .content(
                PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .extensions(Some(ExtensionsBuilder::new().add("x-problem-codes", codes).build()));
        if status == 401 {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("`Bearer realm=\"ward\"`"))
                    .build(),
            );
        }
        op.responses
            .responses
            .insert(status.to_string(), response.build().into());
    }
}
