use ward_core::{AccessRefusal, ProblemCode};
use ward_store::StoreError;

/// One problem with one input field. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Why a vault operation did not happen. Every variant has a stable [`VaultError::code`], a
/// [`ProblemCode`] that also fixes the HTTP status and title the API answers with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VaultError {
    /// The access rules refused it (purpose, consent, category, key, erased subject).
    #[error(transparent)]
    Refused(#[from] AccessRefusal),
    #[error("no subject with this id")]
    SubjectNotFound,
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("some fields are invalid")]
    InvalidFields(Vec<FieldProblem>),
    /// Input that is wrong as a whole; `code` is stable, `message` explains.
    #[error("{message}")]
    Invalid { code: ProblemCode, message: String },
    /// Something named does not exist; the code says what (`consent_not_found`, …).
    #[error("{1}")]
    NotFound(ProblemCode, String),
    #[error("{0}")]
    Conflict(String),
    #[error("storage is unavailable; nothing was changed")]
    Unavailable(String),
    /// Stored data Ward cannot read (tampering, a lost key). Logged with its cause.
    #[error("stored data could not be read")]
    Internal(String),
}

impl VaultError {
    pub fn code(&self) -> ProblemCode {
        match self {
            VaultError::Refused(r) => r.code(),
            VaultError::SubjectNotFound => ProblemCode::SubjectNotFound,
            VaultError::Unauthorized => ProblemCode::Unauthorized,
            VaultError::Forbidden(_) => ProblemCode::Forbidden,
            VaultError::InvalidFields(_) => ProblemCode::InvalidFields,
            VaultError::Invalid { code, .. } => *code,
            VaultError::NotFound(code, _) => *code,
            VaultError::Conflict(_) => ProblemCode::Conflict,
            VaultError::Unavailable(_) => ProblemCode::StorageUnavailable,
            VaultError::Internal(_) => ProblemCode::InternalError,
        }
    }

    pub(crate) fn invalid(code: ProblemCode, message: impl Into<String>) -> Self {
        VaultError::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) | StoreError::Migration(m) => VaultError::Unavailable(m),
            StoreError::Corrupt(m) => VaultError::Internal(m),
        }
    }
}

impl From<ward_crypto::CryptoError> for VaultError {
    fn from(e: ward_crypto::CryptoError) -> Self {
        VaultError::Internal(e.to_string())
    }
}

pub type VaultResult<T> = Result<T, VaultError>;

/// A reason the client must name for `what` ("blocking", "destroying the data"): missing or
/// blank is `reason_required`, anything but one of `R`'s names `unknown_reason`; both messages
/// list the names. The reasons are enums, so the journal holds no client text.
pub(crate) fn named_reason<R>(raw: Option<&str>, what: &str) -> VaultResult<R>
where
    R: std::str::FromStr<Err = ward_core::action::UnknownName>,
{
    let raw = raw.map(str::trim).unwrap_or_default();
    raw.parse().map_err(|e: ward_core::action::UnknownName| {
        let names = e.expected.join(", ");
        if raw.is_empty() {
            VaultError::invalid(
                ProblemCode::ReasonRequired,
                format!("name the reason for {what}, one of: {names}"),
            )
        } else {
            VaultError::invalid(ProblemCode::UnknownReason, format!("the reason is not one of: {names}"))
        }
    })
}
