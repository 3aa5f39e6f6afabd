//! `ward subject list` and `ward journal list`: the officer's registers, one JSON object a
//! line on stdout, the next page's cursor on stderr.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::cli::{JournalListArgs, SubjectListArgs};
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use ward_core::Caller;
use ward_vault::{JournalQuery, Page, SubjectQuery};

pub async fn subjects(a: SubjectListArgs, cfg: &Config) -> Result<ExitCode> {
    let q = SubjectQuery {
        state: a.state,
        consent_to: a.consent_to,
        no_consent_to: a.no_consent_to,
        must_consent_again: a.must_consent_again,
        destruction_due_before: a.destruction_due_before,
        accepted_version: a.accepted_version,
        not_accepted_in_force: a.not_accepted_in_force,
        cursor: a.page.cursor,
        limit: Some(a.page.limit),
    };
    with_vault(cfg, |v| async move {
        match v.registers().subjects(&Caller::cli(), &q).await {
            Ok(page) => Ok(print(page, |s| {
                serde_json::json!({
                    "id": s.id.to_string(),
                    "state": s.state.as_str(),
                    "created_at": rfc3339(Some(s.created_at)),
                    "consents_given": s.consents_given,
                    "must_consent_again": s.must_consent_again,
                    "bases_established": s.bases_established,
                    "destruction_due": s.destruction.map(|d| serde_json::json!({
                        "by": rfc3339(Some(d.by)),
                        "categories": d.categories,
                    })),
                    "accepted_policy_in_force": s.accepted_in_force,
                })
            })),
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

pub async fn journal(a: JournalListArgs, cfg: &Config) -> Result<ExitCode> {
    let subject = a
        .subject
        .as_deref()
        .map(|s| {
            s.parse()
                .ok()
                .with_context(|| format!("`{s}` is not a subject id (a UUID)"))
        })
        .transpose()?;
    let q = JournalQuery {
        subject,
        actor: a.actor,
        action: a.action,
        purpose: a.purpose,
        from: a.from,
        to: a.to,
        cursor: a.page.cursor,
        limit: Some(a.page.limit),
    };
    with_vault(cfg, |v| async move {
        match v.registers().journal(&Caller::cli(), &q).await {
            Ok(page) => Ok(print(page, |e| {
                serde_json::json!({
                    "seq": e.seq,
                    "at": rfc3339(Some(e.at)),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject.map(|s| s.to_string()),
                    "purpose": e.purpose,
                    "fields": e.fields,
                    "detail": e.detail,
                })
            })),
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

fn print<T>(page: Page<T>, json: impl Fn(T) -> serde_json::Value) -> ExitCode {
    let n = page.items.len();
    for item in page.items {
        println!("{}", json(item));
    }
    match page.next_cursor {
        Some(c) => eprintln!("{n} listed; more: --cursor {c}"),
        None => eprintln!("{n} listed; no more"),
    }
    ExitCode::SUCCESS
}
