//! `ward requests list|show|file|pause|resume|verified|extend|complete|refuse`: the officer's
//! data-subject request workflow at the console, the same vault calls as `/v1/requests`.
//! Requests print as JSON (one a line for lists); bad input exits non-zero with the problem
//! code. `ward requests deadline` is `deadline.rs`.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::cli::RequestsCommand;
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::deadline::Regime;
use ward_core::request::{Channel, RequestKind, RequestState};
use ward_core::{Caller, DownloadId, ProblemCode, RequestId, SubjectId};
use ward_vault::requests::{
    extension_reason, refusal_reason, AuthorityDocument, Completion, Decision, Details, Intake, ListQuery, RequestView,
};

fn fail(code: ProblemCode, message: &str) -> ExitCode {
    eprintln!("error [{code}]: {message}");
    ExitCode::FAILURE
}

fn json(v: &RequestView) -> serde_json::Value {
    let r = &v.request;
    let mut out = serde_json::json!({
        "id": r.id.to_string(),
        "subject_id": r.subject.to_string(),
        "kind": r.kind.as_str(),
        "state": r.state.as_str(),
        "channel": r.channel.as_str(),
        "regimes": r.regimes.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "received_at": rfc3339(Some(r.received_at)),
        "due_on": r.due_on.to_string(),
        "extended_due_on": r.extended_due_on.map(|d| d.to_string()),
        "due": v.due.to_string(),
        "overdue": v.overdue,
        "extension_reason": r.extension.map(|e| e.as_str()),
        "refusal_reason": r.refusal.map(|e| e.as_str()),
        "outcome": r.outcome,
        "verification": r.verification,
        "duplicate_of": r.duplicate_of.map(|i| i.to_string()),
        "repeat_of": r.repeat_of.map(|i| i.to_string()),
        "download": r.download.map(|i| i.to_string()),
        "notice": v.notice.map(|n| n.as_str()),
    });
    if let Some(d) = &v.details {
        out["details"] = serde_json::json!({
            "authority": d.authority.as_ref().map(|a| serde_json::json!({
                "doc_type": a.doc_type, "number": a.number, "date": a.date,
            })),
            "new_values": d.new_values,
            "recipient": d.recipient,
            "text": d.text,
            "purposes": d.purposes,
            "categories": d.categories,
            "pause_note": d.pause_note,
            "extension_note": d.extension_note,
            "answer": d.answer,
            "citation": d.citation,
        });
    }
    out
}

fn request_id(raw: &str) -> Result<RequestId, ExitCode> {
    raw.parse().map_err(|_| {
        fail(
            ProblemCode::InvalidRequestId,
            &format!("`{raw}` is not a request id (a UUID)"),
        )
    })
}

fn named<T: std::str::FromStr>(raw: &str, code: ProblemCode, flag: &str) -> Result<T, ExitCode> {
    raw.trim()
        .parse()
        .map_err(|_| fail(code, &format!("{flag}: `{raw}` is not one of its names; see --help")))
}

fn days(raw: &str) -> Result<u32, ExitCode> {
    let raw = raw.trim();
    let (n, unit) = match raw.strip_suffix('w') {
        Some(n) => (n, 7),
        None => (raw.strip_suffix('d').unwrap_or(raw), 1),
    };
    n.parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|d| *d <= 3660)
        .ok_or_else(|| {
            fail(
                ProblemCode::InvalidFilter,
                "--due-within is `2d`, `1w` or a number of days",
            )
        })
}

/// Runs a request command other than `deadline`.
pub(crate) async fn run(c: RequestsCommand, cfg: &Config) -> Result<ExitCode> {
    let prepared = match prepare(c) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    with_vault(cfg, |v| async move {
        let caller = Caller::cli();
        let r = v.requests();
        let out = match prepared {
            Prepared::List(q) => match r.list(&caller, &q).await {
                Ok(page) => {
                    for req in &page.requests {
                        println!("{}", json(req));
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                Err(e) => Err(e),
            },
            Prepared::Show(id) => r.get(&caller, id).await,
            Prepared::File(intake) => r.file(&caller, *intake).await,
            Prepared::Pause(id, note) => r.pause(&caller, id, note).await,
            Prepared::Resume(id) => r.resume(&caller, id).await,
            Prepared::Verified(id) => r.verified(&caller, id).await,
            Prepared::Extend(id, reason, note) => r.extend(&caller, id, reason, note).await,
            Prepared::Complete(id, c) => r.complete(&caller, id, c).await,
            Prepared::Refuse(id, reason, citation) => r.refuse(&caller, id, reason, citation).await,
        };
        match out {
            Ok(view) => {
                println!("{}", json(&view));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

enum Prepared {
    List(ListQuery),
    Show(RequestId),
    File(Box<Intake>),
    Pause(RequestId, Option<String>),
    Resume(RequestId),
    Verified(RequestId),
    Extend(RequestId, ward_vault::requests::ExtensionReason, Option<String>),
    Complete(RequestId, Completion),
    Refuse(RequestId, ward_vault::requests::RefusalReason, Option<String>),
}

/// Parses the command's input before the store is opened: bad input fails at once.
fn prepare(c: RequestsCommand) -> Result<Prepared, ExitCode> {
    let vault_err = |e: ward_vault::VaultError| report(&e);
    Ok(match c {
        RequestsCommand::Deadline { .. } => return Err(fail(ProblemCode::InvalidQuery, "not a workflow command")),
        RequestsCommand::List {
            overdue,
            due_within,
            state,
            kind,
            subject,
            limit,
        } => Prepared::List(ListQuery {
            state: state
                .as_deref()
                .map(|s| named::<RequestState>(s, ProblemCode::InvalidFilter, "--state"))
                .transpose()?,
            subject: subject
                .as_deref()
                .map(|s| named::<SubjectId>(s, ProblemCode::InvalidSubjectId, "--subject"))
                .transpose()?,
            kind: kind
                .as_deref()
                .map(|k| named::<RequestKind>(k, ProblemCode::UnknownRequestKind, "--kind"))
                .transpose()?,
            overdue,
            due_within_days: due_within.as_deref().map(days).transpose()?,
            cursor: None,
            limit,
        }),
        RequestsCommand::Show { id } => Prepared::Show(request_id(&id)?),
        RequestsCommand::File {
            subject,
            kind,
            channel,
            regimes,
            received,
            verify,
            authority,
            new_values,
            recipient,
            text,
            purposes,
            categories,
        } => {
            let authority = match authority {
                None => None,
                Some(a) => {
                    let parts: Vec<&str> = a.splitn(3, ',').collect();
                    let [doc_type, number, date] = parts[..] else {
                        return Err(fail(
                            ProblemCode::RequestDetailsRequired,
                            "--authority is TYPE,NUMBER,DATE",
                        ));
                    };
                    Some(AuthorityDocument {
                        doc_type: doc_type.to_owned(),
                        number: number.to_owned(),
                        date: date.to_owned(),
                    })
                }
            };
            let received_at = received
                .as_deref()
                .map(|r| {
                    OffsetDateTime::parse(r, &Rfc3339).map_err(|_| {
                        fail(
                            ProblemCode::InvalidReceived,
                            "--received must be RFC 3339 with an offset, e.g. 2026-12-28T12:00:00+03:00",
                        )
                    })
                })
                .transpose()?;
            Prepared::File(Box::new(Intake {
                subject: named(&subject, ProblemCode::InvalidSubjectId, "--subject")?,
                kind: named(&kind, ProblemCode::UnknownRequestKind, "--kind")?,
                channel: named::<Channel>(&channel, ProblemCode::UnknownChannel, "--channel")?,
                regimes: regimes
                    .iter()
                    .map(|r| named::<Regime>(r, ProblemCode::UnknownRegime, "--regime"))
                    .collect::<Result<_, _>>()?,
                received_at,
                verify,
                details: Details {
                    authority,
                    new_values: new_values.into_iter().collect(),
                    recipient,
                    text,
                    purposes,
                    categories,
                    ..Details::default()
                },
            }))
        }
        RequestsCommand::Pause { id, note } => Prepared::Pause(request_id(&id)?, note),
        RequestsCommand::Resume { id } => Prepared::Resume(request_id(&id)?),
        RequestsCommand::Verified { id } => Prepared::Verified(request_id(&id)?),
        RequestsCommand::Extend { id, reason, note } => Prepared::Extend(
            request_id(&id)?,
            extension_reason(Some(&reason)).map_err(vault_err)?,
            note,
        ),
        RequestsCommand::Refuse { id, reason, citation } => Prepared::Refuse(
            request_id(&id)?,
            refusal_reason(Some(&reason)).map_err(vault_err)?,
            citation,
        ),
        RequestsCommand::Complete {
            id,
            answer,
            decision,
            download,
            purpose,
        } => Prepared::Complete(
            request_id(&id)?,
            Completion {
                answer,
                decision: decision
                    .as_deref()
                    .map(|d| named::<Decision>(d, ProblemCode::UnknownReason, "--decision"))
                    .transpose()?,
                download: download
                    .as_deref()
                    .map(|d| named::<DownloadId>(d, ProblemCode::InvalidJson, "--download"))
                    .transpose()?,
                purpose,
                block_reason: None,
            },
        ),
    })
}
