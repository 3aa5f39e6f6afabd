//! `ward subject basis` and `ward subject bases`: legal bases other than consent.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::basis::{BasisEventKind, BasisEvidence};
use ward_core::{Caller, SubjectId};
use ward_vault::{BasisInput, BasisStatus};

fn line(s: &BasisStatus) -> String {
    let destroy = s
        .destruction
        .as_ref()
        .map(|d| format!("{} ({})", rfc3339(Some(d.by)), d.categories.join(", ")))
        .unwrap_or_default();
    format!(
        "{:<22} {:<20} {:<10} {:<15} {:<21} {:<21} {destroy}",
        s.purpose,
        s.legal_basis.as_str(),
        s.established_by.as_str(),
        s.state.as_str(),
        rfc3339(s.since),
        rfc3339(s.until),
    )
}

const HEADER: (&str, &str, &str, &str, &str, &str) = ("purpose", "legal basis", "by", "state", "since", "until");

fn header() {
    let (a, b, c, d, e, f) = HEADER;
    println!("{a:<22} {b:<20} {c:<10} {d:<15} {e:<21} {f:<21} destroy by");
}

pub(super) async fn record(
    cfg: &Config,
    id: SubjectId,
    purpose: String,
    kind: &str,
    start: Option<&str>,
    reference: String,
    note: Option<String>,
) -> Result<ExitCode> {
    let kind: BasisEventKind = kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let start = start
        .map(|s| OffsetDateTime::parse(s, &Rfc3339))
        .transpose()
        .context("--start must be an RFC 3339 time, e.g. 2026-11-30T12:00:00Z")?;
    let input = BasisInput {
        purpose,
        kind,
        start,
        evidence: BasisEvidence { reference, note },
    };
    with_vault(cfg, |v| async move {
        match v.bases().record(&Caller::cli(), id, input).await {
            Ok(s) => {
                header();
                println!("{}", line(&s));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

pub(super) async fn show(cfg: &Config, id: SubjectId) -> Result<ExitCode> {
    with_vault(cfg, |v| async move {
        match v.bases().overview(&Caller::cli(), id).await {
            Ok((statuses, _)) => {
                header();
                for s in &statuses {
                    println!("{}", line(s));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}
