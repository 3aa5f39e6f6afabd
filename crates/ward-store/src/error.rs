/// A storage failure. Carries a description for logs, never a driver type, never data values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation; retrying may help.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data is not in the shape Ward wrote (e.g. edited by hand).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Migrations failed or the schema is newer than this binary.
    #[error("schema migration failed: {0}")]
    Migration(String),
}
