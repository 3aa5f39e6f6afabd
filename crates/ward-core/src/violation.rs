//! A rule an input breaks: a stable code and a message that says how to fix the input.

use crate::ProblemCode;

/// An input that breaks one of the domain's rules (evidence, consent form, age).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Violation {
    /// Stable, machine-readable (e.g. `invalid_evidence`).
    pub code: ProblemCode,
    pub message: String,
}

impl Violation {
    pub fn new(code: ProblemCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// 1 to `max` characters, not blank, without control characters.
pub fn text_ok(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}
