//! Website visitors' cookie consent records. A visitor is known only by the keyed hash of the
//! identifier the website gave the browser (`ward_crypto::BlindIndex::visitor_hash`); the
//! identifier itself never reaches a store.

use crate::StoreResult;
use async_trait::async_trait;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use ward_core::cookies::{CookieCategory, CookieChoice};
use ward_core::SubjectId;
use ward_crypto::Hash32;

/// One cookie choice of one visitor, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorConsent {
    /// The keyed hash of the visitor id.
    pub visitor: Hash32,
    /// The version of the banner the visitor answered.
    pub banner_version: String,
    /// Every category with its answer, after the rules (`ward_core::cookies::decide`).
    pub choices: BTreeMap<CookieCategory, CookieChoice>,
    /// The browser sent `Sec-GPC: 1`.
    pub gpc: bool,
    /// GPC turned a grant of `marketing` into a denial.
    pub gpc_overrode: bool,
    pub at: OffsetDateTime,
}

/// A stored cookie choice with the subject its visitor is linked to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorConsentRecord {
    pub consent: VisitorConsent,
    pub subject: Option<SubjectId>,
}

/// Reads of visitors' cookie consent records. Writes go through `WriteStore` with
/// `VisitorChange::Record` and `VisitorChange::Link`.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// The visitor's records, oldest first (in the order they were recorded).
    async fn find_visitor_consents(&self, visitor: &Hash32) -> StoreResult<Vec<VisitorConsentRecord>>;
}
