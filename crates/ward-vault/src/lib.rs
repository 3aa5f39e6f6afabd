//! Ward's application layer. [`Vault`] is what the HTTP API and the CLI call: a small kernel
//! (store, keys, clock, group committer, policy versions) from which one service per
//! capability is reached — [`Vault::subjects`], [`Vault::consents`], [`Vault::bases`], [`Vault::receipts`],
//! [`Vault::contact`], [`Vault::lifecycle`], [`Vault::policies`], [`Vault::visitors`],
//! [`Vault::api_keys`], [`Vault::deadlines`], [`Vault::journal`], [`Vault::registers`], [`Vault::keys`], [`Vault::acts`], [`Vault::outbox`], [`Vault::verifications`]. Every service checks its
//! operations against the policy, seals and opens personal data with per-subject keys, and
//! writes every change together with its journal entry through the group committer.
//!
//! Each call opens one operation context (`context.rs`) that pins the caller, the time and the
//! policy version in force; every check and every record of that call uses it.
//!
//! Architecture Invariant: plaintext personal data exists only in this crate's memory and
//! the layers above; everything handed to the store is sealed, wrapped or a blind index.
//!
//! Adding a capability: a module with a service type (`pub struct Thing<'v>(&'v Vault)`),
//! its methods opening an operation context, and one accessor in `kernel.rs`.

mod acts;
mod apikeys;
mod bases;
mod blocks;
mod committer;
mod consents;
mod contact;
mod context;
mod deadlines;
mod due;
mod due_blocks;
mod error;
mod forms;
mod gate;
pub mod idempotency;
mod journal;
mod kernel;
mod keys;
mod lifecycle;
pub mod metrics;
pub mod outbox;
mod policies;
mod receipts;
mod registers;
pub mod report;
pub mod requests;
mod rotation;
mod sealed;
mod subjects;
mod verifications;
mod visitors;

pub use acts::{
    digest as act_digest, ActQuery, Acts, DestructionAct, JournalExtract, ACT_RETENTION, JOB_DESTROYER, MAX_ACTS,
};
pub use apikeys::{ApiKeyView, ApiKeys};
pub use bases::{Bases, BasisEventView, BasisInput, BasisStatus};
pub use blocks::{block_reason, Blocks};
pub use consents::{ConsentStatus, Consents, Withdrawal};
pub use contact::{Contact, ContactDecision, NoticeClass};
pub use deadlines::Deadlines;
pub use due::{Due, DueReport};
pub use error::{FieldProblem, VaultError, VaultResult};
pub use journal::{
    check_end as check_journal_end, sign_head as sign_journal_head, unsigned_allowance, verify as verify_journal_store,
    verify_in_ranges as verify_journal_store_in_ranges, verify_with as verify_journal_store_with, Journal, Tamper,
    VerifyOptions, VerifyReport, Witness, VERIFY_RANGE,
};
pub use kernel::{policy_hash, KeyReloader, Vault, VaultConfig};
pub use keys::{KeyMaterial, Keys};
pub use lifecycle::{AcknowledgementSummary, Death, Lifecycle, PolicyNotice, PolicyStanding};
pub use outbox::{Claimed, DeliveryFailure, Envelope, MessageView, Outbox};
pub use policies::{Policies, PolicySource, PolicyVersion, Published};
pub use receipts::{ConsentDocumentRecord, ConsentReceipt, ReceiptEvent, Receipts};
pub use registers::{
    JournalListing, JournalQuery, Page, Registers, SubjectListState, SubjectListing, SubjectQuery, DEFAULT_LIMIT,
    MAX_LIMIT,
};
pub use report::{AccessReport, DataCopy, DownloadState, DownloadView, ExportFormat, Issued, Reports, Served};
pub use rotation::RotationReport;
pub use subjects::{
    destruction_reason, Destroyed, DestructionRequest, Erasure, NewSubjectInput, SubjectView, Subjects, Withheld,
};
pub use verifications::{
    decision_reason, document_type, verification_method, Decide, Document, NewVerification, Verifications,
};
pub use visitors::{CookieConsentHistory, CookieConsentView, Visitors};
pub use ward_core::destruction::DestructionReason;
pub use ward_core::standing::{BasisState, ConsentState, DestructionDue, DESTRUCTION_DAYS};
pub use ward_store::{BlockRecord, VerificationRecord};
