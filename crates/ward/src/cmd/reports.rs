//! `ward subject report|export`: the officer previews a subject's access report (152-FZ
//! Art. 14 p. 7; GDPR Art. 15) and seals a report or a copy of the data behind a single-use
//! link; the same vault calls as `GET /v1/subjects/{id}/access-report` and
//! `POST /v1/subjects/{id}/exports`.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;
use ward_core::{Caller, SubjectId};
use ward_vault::ExportFormat;

/// `ward subject report ID [--html]`: the report as JSON (or the readable page) on stdout.
pub async fn preview(cfg: &Config, id: SubjectId, html: bool) -> Result<ExitCode> {
    with_vault(cfg, |v| async move {
        match v.reports().access_report(&Caller::cli(), id).await {
            Ok(r) if html => {
                print!("{}", r.html());
                Ok(ExitCode::SUCCESS)
            }
            Ok(r) => {
                println!("{}", serde_json::to_string_pretty(&r)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward subject export ID --format F [--expires-in-days N]`: prints the link (its path and
/// token) once, as JSON.
pub async fn export(cfg: &Config, id: SubjectId, format: &str, expires_in_days: Option<u32>) -> Result<ExitCode> {
    let format = match ExportFormat::parse(format) {
        Ok(f) => f,
        Err(e) => return Ok(report(&e)),
    };
    with_vault(cfg, |v| async move {
        match v
            .reports()
            .export(&Caller::cli(), id, format, None, expires_in_days)
            .await
        {
            Ok(issued) => {
                let out = serde_json::json!({
                    "id": issued.id.to_string(),
                    "format": issued.format.as_str(),
                    "path": issued.path(),
                    "token": issued.token.expose(),
                    "created_at": rfc3339(Some(issued.created_at)),
                    "expires_at": rfc3339(Some(issued.expires_at)),
                });
                println!("{out}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}
