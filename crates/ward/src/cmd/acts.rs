//! `ward acts`: destruction acts (RKN Order No. 179), listed and shown, as the operator.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::cli::ActsCommand;
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::{ActId, Caller, SubjectId};
use ward_vault::{ActQuery, DestructionAct};

fn time_arg(raw: Option<&str>, name: &str) -> Result<Option<OffsetDateTime>> {
    raw.map(|s| OffsetDateTime::parse(s, &Rfc3339).with_context(|| format!("--{name} `{s}` is not an RFC 3339 time")))
        .transpose()
}

fn print_act(a: &DestructionAct) {
    let r = &a.record;
    let x = a.extract();
    let lines = [
        ("act", r.id.to_string()),
        (
            "a) operator",
            format!("{}, {}", r.operator, r.operator_address.as_deref().unwrap_or("-")),
        ),
        ("b) processor", r.processor.clone().unwrap_or_else(|| "-".to_owned())),
        ("c) subject", r.subject.to_string()),
        ("d) destroyed by", format!("{} ({})", r.destroyed_by, r.position)),
        ("   signature", format!("sha256:{} (recorded in the journal)", a.digest)),
        ("e) categories", r.categories.join(", ")),
        ("   fields", r.fields.join(", ")),
        ("f) medium", "- (automated processing)".to_owned()),
        ("g) information system", r.system.clone()),
        ("h) method", r.method.clone()),
        ("i) reason", r.reason.clone()),
        ("j) date", rfc3339(Some(r.at))),
        ("cause", r.cause.clone()),
        ("withheld", r.withheld.join(", ")),
        ("journal extract", format!("action {} detail {}", x.action, x.detail)),
    ];
    for (k, v) in lines {
        println!("{k:<24}{v}");
    }
}

pub async fn run(c: ActsCommand, cfg: &Config) -> Result<ExitCode> {
    let cli = Caller::cli();
    match c {
        ActsCommand::List { subject, from, to } => {
            let subject: Option<SubjectId> = subject
                .as_deref()
                .map(|s| {
                    s.parse()
                        .ok()
                        .with_context(|| format!("`{s}` is not a subject id (a UUID)"))
                })
                .transpose()?;
            let query = ActQuery {
                subject,
                from: time_arg(from.as_deref(), "from")?,
                to: time_arg(to.as_deref(), "to")?,
                limit: None,
            };
            with_vault(cfg, |v| async move {
                match v.acts().list(&cli, &query).await {
                    Ok(acts) => {
                        if acts.is_empty() {
                            eprintln!("no destruction acts match");
                        }
                        for a in &acts {
                            let r = &a.record;
                            println!(
                                "{}  {}  {}  {}  {}",
                                r.id,
                                rfc3339(Some(r.at)),
                                r.subject,
                                r.reason,
                                r.categories.join(",")
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        ActsCommand::Show { id, html } => {
            let id: ActId = id
                .parse()
                .ok()
                .with_context(|| format!("`{id}` is not a destruction act id (a UUID)"))?;
            with_vault(cfg, |v| async move {
                match v.acts().get(&cli, id).await {
                    Ok(act) if html => {
                        print!("{}", act.html());
                        Ok(ExitCode::SUCCESS)
                    }
                    Ok(act) => {
                        print_act(&act);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
    }
}
