//! The data-subject request workflow's commands: `ward requests` and `ward verify`.

use super::parse_kv;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Start verifying that the requester of REQUEST is SUBJECT: `vouched` (verified at
    /// once), `code` (six digits sent to the e-mail address on record) or `document` (a
    /// scanned signed request, for `ward verify upload`). Prints it as JSON.
    Start {
        #[arg(long)]
        request: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        method: String,
    },
    /// Upload the scanned document (PDF, JPEG or PNG, 10 MiB at most) of a `document`
    /// verification: sealed under the subject's key, its SHA-256 journaled.
    Upload { id: String, file: PathBuf },
    /// Print a verification as JSON: request, subject, method, state, attempts, the
    /// document's type, size and SHA-256 (never the code or the document).
    Show { id: String },
    /// Write the uploaded document to a new file (mode 0600) and print its type, size and
    /// SHA-256. The reading is journaled.
    Document {
        id: String,
        /// The file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Accept the document: the request is verified. Reasons: signature_matches,
    /// identity_confirmed.
    Accept {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Reject the document. Reasons: illegible, signature_missing, signature_mismatch,
    /// not_the_subject, incomplete.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Print when a request falls due (ISO date on the first line), then how it was counted:
    /// every day counted or skipped and why. The operator's `timezone` (ward.toml) decides
    /// the day of receipt; a day in a year without a production calendar fails, naming it.
    Deadline {
        /// access, copy, rectification, blocking, erasure, stop_processing, withdraw_consent,
        /// object, transfer, complaint; or a duty: stop_unlawful, destroy_unlawful,
        /// purpose_achieved, regulator_request, incident_notice, incident_results.
        #[arg(long)]
        kind: String,
        /// ru, eu or us-ca; repeat (or comma-separate) for several: the earliest applies.
        #[arg(long = "regime", required = true, value_delimiter = ',')]
        regimes: Vec<String>,
        /// When the request was received, RFC 3339 with an offset (2026-12-28T12:00:00+03:00).
        #[arg(long)]
        received: String,
        /// The term was extended with a reasoned notice.
        #[arg(long)]
        extended: bool,
    },
    /// The register of data-subject requests, one JSON object a line (ids, enums, dates).
    List {
        /// Open and past the due date as of the operator's today (in due order).
        #[arg(long)]
        overdue: bool,
        /// Open and due from today to today + this: `2d`, `1w` or a number of days.
        #[arg(long)]
        due_within: Option<String>,
        /// received, verifying, in_progress, paused, completed, refused.
        #[arg(long)]
        state: Option<String>,
        /// access, copy, rectification, blocking, erasure, stop_processing, withdraw_consent,
        /// object_marketing, object_legitimate, transfer, complaint.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// A request as JSON, its sealed details opened (journaled).
    Show { id: String },
    /// File a request recorded by the officer (channel `officer`, or `representative` with
    /// --authority TYPE,NUMBER,DATE). Prints it as JSON.
    File {
        #[arg(long)]
        subject: String,
        #[arg(long)]
        kind: String,
        /// officer (default) or representative.
        #[arg(long, default_value = "officer")]
        channel: String,
        /// ru, eu or us-ca; repeat or comma-separate (default ru).
        #[arg(long = "regime", value_delimiter = ',')]
        regimes: Vec<String>,
        /// When it was received, RFC 3339 (default now).
        #[arg(long)]
        received: Option<String>,
        /// Verify the identity first (`verifying`).
        #[arg(long)]
        verify: bool,
        /// The representative's authority document: TYPE,NUMBER,DATE.
        #[arg(long)]
        authority: Option<String>,
        /// Rectification: FIELD=VALUE, repeatable.
        #[arg(long = "set", value_parser = parse_kv)]
        new_values: Vec<(String, String)>,
        /// Transfer: the named recipient.
        #[arg(long)]
        recipient: Option<String>,
        /// The request's text (a complaint).
        #[arg(long)]
        text: Option<String>,
        /// Withdrawal: a purpose, repeatable (none: every consent).
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        /// Blocking: a category, repeatable (none: the whole subject).
        #[arg(long = "category")]
        categories: Vec<String>,
    },
    /// Pause a request while the subject clarifies it.
    Pause {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Resume a paused request.
    Resume { id: String },
    /// The identity is verified: in progress.
    Verified { id: String },
    /// Extend the term once, before the due date: complexity, number_of_requests,
    /// processor_involved.
    Extend {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Complete a request: its effect on the data, then the answer.
    Complete {
        id: String,
        #[arg(long)]
        answer: Option<String>,
        /// object_legitimate: upheld or rejected.
        #[arg(long)]
        decision: Option<String>,
        /// access, copy, transfer: the download made for it.
        #[arg(long)]
        download: Option<String>,
        /// rectification: the purpose it is made under.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Refuse a request: no_match, insufficient_identification, insufficient_verification,
    /// outside_jurisdiction, repeat_request, manifestly_unfounded, legal_restriction (with
    /// --citation).
    Refuse {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        citation: Option<String>,
    },
}
