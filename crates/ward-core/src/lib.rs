//! Ward's domain model. Pure: no I/O, no async, no SQL, no HTTP; time comes from a [`Clock`].
//!
//! Architecture Invariant: nothing in this crate reads files, opens sockets or calls
//! `OffsetDateTime::now_utc()` outside [`clock::SystemClock`].

pub mod access;
pub mod action;
pub mod age;
pub mod authz;
pub mod basis;
pub mod blocking;
pub mod calendar;
pub mod clock;
pub mod consent;
pub mod cookies;
pub mod deadline;
pub mod destruction;
pub mod evidence;
pub mod ids;
pub mod journal;
pub mod lifecycle;
pub mod outbox;
pub mod policy;
pub mod problem;
pub mod request;
pub mod standing;
pub mod value;
pub mod verification;
pub mod violation;

pub use access::{AccessRefusal, AccessRequest, Caller};
pub use action::{LegalBasis, ProcessingAction};
pub use clock::{Clock, FakeClock, SystemClock};
pub use ids::{ActId, ApiKeyId, BlockId, DownloadId, MessageId, RequestId, SubjectId, VerificationId};
pub use journal::{Actor, JournalDraft};
pub use policy::{Policy, PolicyDiagnostic};
pub use problem::ProblemCode;
pub use value::{FieldType, FieldValue, ValueError};
pub use violation::Violation;
