//! Single-use download links: a document (a report or a copy) sealed under the subject's key,
//! released through a link whose token is shown once. Serving marks the link used in the
//! write that checks it was not (`DownloadChange::Consume`: of two concurrent requests exactly
//! one is served), journals `download.served` with the download id (never the token) before
//! the document is opened and answered, and deletes the stored copy.

use super::render::{self, ExportFormat};
use super::{copy_of, report_of, Reports};
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::sealed;
use time::{Duration, OffsetDateTime};
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::{Caller, DownloadId, JournalDraft, ProblemCode, RequestId, SubjectId};
use ward_crypto::LinkToken;
use ward_store::{Change, DownloadChange, DownloadRecord, OpOutcome};

/// How long a link lives unless the officer says otherwise.
pub const DEFAULT_EXPIRY_DAYS: u32 = 7;
/// The longest a link may live.
pub const MAX_EXPIRY_DAYS: u32 = 30;

/// A link just made: the token is here once and nowhere else.
#[derive(Debug)]
pub struct Issued {
    pub id: DownloadId,
    pub token: LinkToken,
    pub format: ExportFormat,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl Issued {
    /// The link's path on the API.
    pub fn path(&self) -> String {
        format!("/v1/downloads/{}", self.token.expose())
    }
}

/// A served document.
pub struct Served {
    pub id: DownloadId,
    pub format: ExportFormat,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Served({}, {}, {} bytes)",
            self.id,
            self.format.as_str(),
            self.body.len()
        )
    }
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadState {
    Pending,
    Used,
    Expired,
}

impl DownloadState {
    pub fn as_str(self) -> &'static str {
        match self {
            DownloadState::Pending => "pending",
            DownloadState::Used => "used",
            DownloadState::Expired => "expired",
        }
    }
}

/// A link as the officer sees it: ids, format, times, state; never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadView {
    pub id: DownloadId,
    pub subject: SubjectId,
    pub request: Option<RequestId>,
    pub format: String,
    pub state: DownloadState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

fn not_found() -> VaultError {
    VaultError::NotFound(ProblemCode::DownloadNotFound, "there is no such download link".into())
}

fn used() -> VaultError {
    VaultError::invalid(
        ProblemCode::DownloadUsed,
        "this link has been used; ask the operator for a new one",
    )
}

fn expired() -> VaultError {
    VaultError::invalid(
        ProblemCode::DownloadExpired,
        "this link has expired; ask the operator for a new one",
    )
}

impl Reports<'_> {
    /// Seals `format`'s document for the subject and makes its single-use link, valid for
    /// `expiry_days` (default [`DEFAULT_EXPIRY_DAYS`], at most [`MAX_EXPIRY_DAYS`]).
    /// `request` is the data-subject request it answers, if any. Journaled as
    /// `download.created` with the fields opened; the token is returned once.
    pub async fn export(
        &self,
        caller: &Caller,
        id: SubjectId,
        format: ExportFormat,
        request: Option<RequestId>,
        expiry_days: Option<u32>,
    ) -> VaultResult<Issued> {
        let v = self.0;
        let op = v.op(caller, Operation::DownloadCreate)?;
        let days = expiry_days.unwrap_or(DEFAULT_EXPIRY_DAYS);
        if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidJson,
                format!("expires_in_days must be 1 to {MAX_EXPIRY_DAYS}"),
            ));
        }
        let (g, gate) = v.gather(&op, id).await?;
        let body = match format {
            ExportFormat::Report => render::report_html(&report_of(&op, id, &g)).into_bytes(),
            ExportFormat::Json => serde_json::to_vec_pretty(&copy_of(&op, id, &g))
                .map_err(|e| VaultError::Internal(format!("data copy: {e}")))?,
            ExportFormat::Csv => render::csv(&copy_of(&op, id, &g)).into_bytes(),
            ExportFormat::Html => render::copy_html(&copy_of(&op, id, &g)).into_bytes(),
        };
        let download = DownloadId::random();
        let key = v.data_key(&g.loaded.record)?;
        let token = LinkToken::generate();
        let expires_at = op.now + Duration::days(i64::from(days));
        let record = DownloadRecord {
            id: download,
            subject: id,
            request,
            token_hash: token.hash(),
            format: format.as_str().to_owned(),
            document: Some(key.seal(&sealed::download_aad(id, download), &body)),
            created_at: op.now,
            expires_at,
            used_at: None,
        };
        let mut detail = format!(
            "download:{download} format:{} expires:{} opened:access_request",
            format.as_str(),
            super::rfc3339(expires_at)
        );
        if let Some(r) = request {
            detail.push_str(&format!(" request:{r}"));
        }
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::DownloadCreated)
            .subject(id)
            .detail(detail);
        v.commit_to_subject(
            Change::Download(DownloadChange::Create(record)),
            vec![g.loaded.stamp(gate.stamp(entry))],
            "a download",
        )
        .await?;
        Ok(Issued {
            id: download,
            token,
            format,
            created_at: op.now,
            expires_at,
        })
    }

    /// Serves the document behind `token`, once: `download_not_found` for a token no link
    /// has (or one not shaped like a token), `download_used` after the first use,
    /// `download_expired` after it expires. Acts as Ward itself: the token is the authority.
    pub async fn serve(&self, token: &str) -> VaultResult<Served> {
        let v = self.0;
        let system = Caller::system();
        let op = v.op(&system, Operation::DownloadServe)?;
        let token = LinkToken::parse(token).ok_or_else(not_found)?;
        let found = v.store().find_download_by_token(token.hash()).await?;
        let d = found.filter(|d| token.matches(&d.token_hash)).ok_or_else(not_found)?;
        if d.used_at.is_some() {
            return Err(used());
        }
        if op.now >= d.expires_at {
            return Err(expired());
        }
        let format = ExportFormat::parse(&d.format)?;
        let sealed_document = d.document.as_deref().ok_or_else(used)?;
        // Erasure deletes a subject's links; a link whose subject is gone is no link.
        let record = match v.active_subject(d.subject).await {
            Err(VaultError::SubjectNotFound | VaultError::Refused(_)) => return Err(not_found()),
            other => other?,
        };
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::DownloadServed)
            .subject(d.subject)
            .detail(format!("download:{} format:{} opened:download", d.id, format.as_str()));
        let change = Change::Download(DownloadChange::Consume { id: d.id, at: op.now });
        match v.commit(change, vec![entry]).await? {
            OpOutcome::Done => {}
            OpOutcome::AlreadyExists => return Err(used()),
            OpOutcome::Conflict => return Err(expired()),
            _ => return Err(not_found()),
        }
        // Journaled above, before the document is opened and answered.
        let mut gate = v.gate(&op, &record, Reason::Download, None)?;
        let body = gate.download(d.id, sealed_document)?;
        Ok(Served { id: d.id, format, body })
    }

    /// The subject's links, oldest first: ids, formats, states; never tokens.
    pub async fn downloads(&self, caller: &Caller, id: SubjectId) -> VaultResult<Vec<DownloadView>> {
        let v = self.0;
        let op = v.op(caller, Operation::DownloadList)?;
        v.active_subject(id).await?;
        let rows = v.store().find_downloads(id).await?;
        Ok(rows
            .into_iter()
            .map(|d| DownloadView {
                state: match (d.used_at, op.now >= d.expires_at) {
                    (Some(_), _) => DownloadState::Used,
                    (None, true) => DownloadState::Expired,
                    (None, false) => DownloadState::Pending,
                },
                id: d.id,
                subject: d.subject,
                request: d.request,
                format: d.format,
                created_at: d.created_at,
                expires_at: d.expires_at,
                used_at: d.used_at,
            })
            .collect())
    }
}
