//! `ward verify show|document|accept|reject`: the officer's side of identity verification at
//! the console; the same vault calls as `/v1/verifications/{id}`, its `/document` and its
//! `/decision` (journaled as `cli`).

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::cli::VerifyCommand;
use crate::config::Config;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use ward_core::verification::MAX_ATTEMPTS;
use ward_core::{Caller, ProblemCode, RequestId, SubjectId, VerificationId};
use ward_vault::{decision_reason, verification_method, Decide, NewVerification, VaultError, VerificationRecord};

pub async fn run(cmd: VerifyCommand, cfg: &Config) -> Result<ExitCode> {
    match cmd {
        VerifyCommand::Start {
            request,
            subject,
            method,
        } => start(cfg, &request, &subject, &method).await,
        VerifyCommand::Upload { id, file } => upload(cfg, parse(&id)?, &file).await,
        VerifyCommand::Show { id } => show(cfg, parse(&id)?).await,
        VerifyCommand::Document { id, out } => document(cfg, parse(&id)?, &out).await,
        VerifyCommand::Accept { id, reason } => decide(cfg, parse(&id)?, Decide::Accept, &reason).await,
        VerifyCommand::Reject { id, reason } => decide(cfg, parse(&id)?, Decide::Reject, &reason).await,
    }
}

fn parse(id: &str) -> Result<VerificationId> {
    id.parse()
        .ok()
        .with_context(|| format!("`{id}` is not a verification id (a UUID)"))
}

/// The verification as JSON: ids, method, state, counts, the document's digest.
fn json(v: &VerificationRecord) -> serde_json::Value {
    serde_json::json!({
        "id": v.id.to_string(),
        "request_id": v.request.to_string(),
        "subject_id": v.subject.to_string(),
        "method": v.method.as_str(),
        "state": v.state.as_str(),
        "attempts": v.attempts,
        "attempts_left": MAX_ATTEMPTS.saturating_sub(v.attempts),
        "resends": v.resends,
        "code_expires_at": v.code_expires_at.map(|t| rfc3339(Some(t))),
        "document_type": v.document_type.map(|t| t.as_str()),
        "document_size": v.document_size,
        "document_sha256": v.document_sha256,
        "reason": v.reason,
        "created_at": rfc3339(Some(v.created_at)),
        "updated_at": rfc3339(Some(v.updated_at)),
    })
}

/// `ward verify start --request R --subject S --method M`.
async fn start(cfg: &Config, request: &str, subject: &str, method: &str) -> Result<ExitCode> {
    let request: RequestId = request
        .parse()
        .ok()
        .with_context(|| format!("`{request}` is not a request id (a UUID)"))?;
    let subject: SubjectId = subject
        .parse()
        .ok()
        .with_context(|| format!("`{subject}` is not a subject id (a UUID)"))?;
    let method = match verification_method(method) {
        Ok(m) => m,
        Err(e) => return Ok(report(&e)),
    };
    let new = NewVerification {
        request,
        subject,
        method,
    };
    with_vault(cfg, |v| async move {
        match v.verifications().start(&Caller::cli(), new).await {
            Ok(record) => {
                println!("{}", json(&record));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward verify upload ID FILE`: the type comes from the content.
async fn upload(cfg: &Config, id: VerificationId, file: &Path) -> Result<ExitCode> {
    let meta = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?;
    if meta.len() > ward_core::verification::MAX_DOCUMENT_BYTES as u64 {
        return Ok(report(&VaultError::Invalid {
            code: ProblemCode::DocumentTooLarge,
            message: format!("{} has more than 10 MiB", file.display()),
        }));
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    with_vault(cfg, |v| async move {
        match v.verifications().upload(&Caller::cli(), id, &bytes, None).await {
            Ok(record) => {
                println!("{}", json(&record));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward verify show ID`: the verification as one JSON object.
async fn show(cfg: &Config, id: VerificationId) -> Result<ExitCode> {
    with_vault(cfg, |v| async move {
        match v.verifications().get(&Caller::cli(), id).await {
            Ok(record) => {
                println!("{}", json(&record));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward verify document ID --out FILE`: writes the document to a new file (readable by its
/// owner only) and prints its type, size and SHA-256. The reading is journaled.
async fn document(cfg: &Config, id: VerificationId, out: &Path) -> Result<ExitCode> {
    if out.exists() {
        anyhow::bail!("{} exists; name a new file", out.display());
    }
    let out = out.to_owned();
    with_vault(cfg, |v| async move {
        let doc = match v.verifications().document(&Caller::cli(), id).await {
            Ok(doc) => doc,
            Err(e) => return Ok(report(&e)),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&out)
            .with_context(|| format!("creating {}", out.display()))?;
        file.write_all(&doc.bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", out.display()))?;
        println!(
            "{}",
            serde_json::json!({
                "file": out.display().to_string(),
                "content_type": doc.content_type.as_str(),
                "size": doc.bytes.len(),
                "sha256": doc.sha256,
            })
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// `ward verify accept|reject ID --reason R`: prints the verification as decided.
async fn decide(cfg: &Config, id: VerificationId, decision: Decide, reason: &str) -> Result<ExitCode> {
    let reason = match decision_reason(Some(reason)) {
        Ok(r) => r,
        Err(e) => return Ok(report(&e)),
    };
    with_vault(cfg, |v| async move {
        match v.verifications().decide(&Caller::cli(), id, decision, reason).await {
            Ok(record) => {
                println!("{}", json(&record));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}
