//! The outbox delivering to a local mail server: N notices queued over the API while delivery
//! is off, then `ward serve` started with `[smtp]` pointing at the harness's SMTP sink
//! ([`crate::smtp_sink`]); timed from the sink's first connection to its N-th message.
//! Baseline: lettre sending the same number of messages of the same size straight to a fresh
//! sink, over a pool of as many connections as Ward's delivery job uses at once.
//!
//! Shared with the backlog workload: queueing notices, configuring `[smtp]`, the baseline.

use super::jobs::bulk_api;
use super::{check, start, start_with, Ctx, Server};
use crate::load::{self, Limit, Req};
use crate::report::{Figure, Target as Goal, Workload};
use crate::smtp_sink::{Sink, Tally};
use crate::{data, say};
use anyhow::{bail, Context, Result};
use futures::StreamExt;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::HashSet;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Ward's default `[outbox] concurrency` and `batch`: the messages it sends at once, and
/// claims at once.
pub(super) const WARD_CONCURRENCY: usize = 8;
pub(super) const WARD_BATCH: u64 = 100;
/// The domain of the sender, hence of every Message-ID.
const DOMAIN: &str = "example.ru";

/// `[smtp]` and `[outbox]` for delivery to `sink`: plain SMTP (a local server), a run every
/// second, claims of `claim_secs`; batch and concurrency are Ward's defaults.
pub(super) fn configure_smtp(ctx: &Ctx<'_>, sink: &Sink, claim_secs: u64) -> Result<()> {
    let path = ctx.ward.data_dir.join("ward.toml");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    write!(
        f,
        "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Bench Operator <privacy@{DOMAIN}>\"\n\
         \n[outbox]\ninterval_secs = 1\nclaim_secs = {claim_secs}\n",
        sink.addr.port()
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Registers `n` subjects from data index `first` and queues a notice to each over the API
/// (`POST /v1/subjects/{id}/notices`, the admin key); returns the Message-IDs Ward will use.
pub(super) async fn queue_notices(ctx: &Ctx<'_>, server: &Server, first: u64, n: u64) -> Result<Vec<String>> {
    say(format!("registering {n} subjects to write to"));
    let ids: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); n as usize]));
    let (o, failed) = bulk_api(&server.site, ctx, first, 0, n, ids.clone()).await?;
    check(&o, failed, "registering subjects to write to")?;
    let ids: Arc<Vec<Uuid>> = Arc::new(super::lock(&ids).clone());
    say(format!("queueing {n} notices (delivery off)"));
    let job: Arc<load::JobFn> = Arc::new(move |i| {
        vec![Req::post(
            format!("/v1/subjects/{}/notices", ids[i as usize]),
            r#"{"template":"policy_changed"}"#,
            202,
        )]
    });
    let messages: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::with_capacity(n as usize)));
    let m = messages.clone();
    let on_body: Arc<load::BodyFn> = Arc::new(move |_, body| {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(id) = v["id"].as_str() {
                super::lock(&m).push(format!("<{id}@{DOMAIN}>"));
            }
        }
    });
    let o = load::drive(&server.admin, ctx.clients, Limit::Jobs(n), job, Some(on_body)).await?;
    check(&o, 0, "queueing notices")?;
    let out = super::lock(&messages).clone();
    if out.len() as u64 != n {
        bail!("queued {} notices of {n}", out.len());
    }
    Ok(out)
}

/// Messages per second from the sink's first connection to its last message.
pub(super) fn rate(t: &Tally, messages: u64) -> (f64, f64) {
    let secs = match (t.first_connection, t.last_message) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64().max(1e-6),
        _ => f64::INFINITY,
    };
    (messages as f64 / secs, secs)
}

/// How long to wait for `n` messages at a rate no one would accept.
pub(super) fn patience(n: u64) -> Duration {
    Duration::from_secs(120 + n / 50)
}

/// Every expected Message-ID arrived, and nothing else; returns the duplicates.
pub(super) fn none_lost(sink: &Sink, expected: &[String]) -> Result<u64> {
    let got = sink.ids();
    let want: HashSet<&str> = expected.iter().map(String::as_str).collect();
    let missing = want.iter().filter(|id| !got.contains_key(**id)).count();
    let stray = got.keys().filter(|id| !want.contains(id.as_str())).count();
    if missing > 0 || stray > 0 {
        bail!(
            "the mail server got {} distinct messages: {missing} of the {} queued are missing, {stray} are not Ward's",
            got.len(),
            expected.len()
        );
    }
    Ok(got.values().map(|n| u64::from(*n) - 1).sum())
}

/// A message as the baselines send it: `body` to subject `i`'s address.
fn baseline_message(i: u64, body: String) -> Result<Message> {
    Ok(Message::builder()
        .from(format!("Bench Operator <privacy@{DOMAIN}>").parse()?)
        .to(data::email(data::MAIL_POOL + i).parse()?)
        .subject("Our personal data policy has changed (version 1)")
        .message_id(Some(format!("<baseline-{i}@{DOMAIN}>")))
        .body(body)?)
}

fn filler_body(bytes: usize) -> String {
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
        .chars()
        .cycle()
        .take(bytes.max(1))
        .collect()
}

/// The baseline: `n` messages with a body of `bytes` bytes sent straight to a fresh sink by
/// lettre's SMTP client over `WARD_CONCURRENCY` connections (TCP_NODELAY, as Ward's), each
/// sending one message after another; (messages/s, secs).
pub(super) async fn lettre_baseline(n: u64, bytes: usize) -> Result<(f64, f64)> {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::extension::ClientId;
    let sink = Sink::start().await?;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let body = filler_body(bytes);
    let mut tasks = Vec::new();
    for _ in 0..WARD_CONCURRENCY {
        let (next, body, addr) = (next.clone(), body.clone(), sink.addr);
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &ClientId::default()).await?;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let m = baseline_message(i, body.clone())?;
                conn.send(m.envelope(), &m.formatted()).await?;
            }
            conn.quit().await?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await
            .context("a baseline sender panicked")?
            .context("the SMTP baseline")?;
    }
    let t = sink
        .wait(patience(n), "the baseline's messages", |t| t.delivered >= n)
        .await?;
    Ok(rate(&t, n))
}

/// lettre's own pooled transport (`AsyncSmtpTransport`, what Ward used before `smtp.rs`)
/// sending `n` messages the same way, `WARD_CONCURRENCY` at once: messages/s. For the notes:
/// it connects without TCP_NODELAY, and Nagle's algorithm costs it a delayed ACK per message.
pub(super) async fn lettre_transport_rate(n: u64, bytes: usize) -> Result<f64> {
    let sink = Sink::start().await?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.addr.port())
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(WARD_CONCURRENCY as u32))
        .build();
    let body = filler_body(bytes);
    let sends = (0..n).map(|i| {
        let (mailer, body) = (&mailer, body.clone());
        async move {
            mailer.send(baseline_message(i, body)?).await?;
            anyhow::Ok(())
        }
    });
    let results: Vec<Result<()>> = futures::stream::iter(sends)
        .buffer_unordered(WARD_CONCURRENCY)
        .collect()
        .await;
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e.context("lettre's pooled transport"));
    }
    let t = sink
        .wait(patience(n), "lettre's pooled transport", |t| t.delivered >= n)
        .await?;
    Ok(rate(&t, n).0)
}

/// The `outbox_delivery` row.
pub(super) async fn delivery(ctx: &Ctx<'_>) -> Result<Workload> {
    let n = ctx.plan.mail;
    let mut server = start(ctx).await?;
    let expected = queue_notices(ctx, &server, data::MAIL_POOL, n).await?;
    server.served.stop()?;

    let sink = Sink::start().await?;
    configure_smtp(ctx, &sink, 60)?;
    say(format!("outbox delivery: {n} messages to the SMTP sink"));
    let started = Instant::now();
    let mut server = start_with(ctx, &[], "server-mail.log").await?;
    let t = sink
        .wait(patience(n), "every message delivered", |t| t.distinct >= n)
        .await?;
    let memory = crate::procs::memory(server.pid);
    server.served.stop()?;
    let duplicates = none_lost(&sink, &expected)?;
    let (value, secs) = rate(&t, n);
    let bytes = usize::try_from(t.body_bytes / t.delivered.max(1)).unwrap_or(0);

    say("outbox delivery baseline: lettre straight to the sink");
    let (base_value, base_secs) = lettre_baseline(n, bytes).await?;
    let pooled_n = n.min(1_000);
    let pooled = lettre_transport_rate(pooled_n, bytes).await?;
    let pg = ctx.pg_backend;
    Ok(Workload {
        key: "outbox_delivery".into(),
        title: "Outbox delivery to a local SMTP server (queued over the API, then delivered)".into(),
        unit: "messages/s".into(),
        clients: WARD_CONCURRENCY,
        subjects: n,
        ward: Figure {
            value,
            ops: n,
            errors: 0,
            secs,
            latency_ms: None,
            server_memory: memory,
        },
        baseline: Some(Figure {
            value: base_value,
            ops: n,
            errors: 0,
            secs: base_secs,
            latency_ms: None,
            server_memory: None,
        }),
        baseline_what: format!(
            "lettre's SMTP client sending {n} messages of the same size ({bytes} B body) straight to the same kind of SMTP sink over {WARD_CONCURRENCY} connections with TCP_NODELAY (Ward's default [outbox] concurrency), one message after another on each; no queue, no claims, no journal"
        ),
        ratio: None,
        target: if pg {
            Goal::default()
        } else {
            Goal {
                min_value: Some(500.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: vec![
            format!(
                "timed from the sink's first connection to its {n}-th message; from starting `ward serve` to that message: {:.1} s",
                t.last_message.map_or(0.0, |l| l.duration_since(started).as_secs_f64())
            ),
            format!("{duplicates} duplicates (none expected without a crash)"),
            format!(
                "lettre's own pooled transport (what Ward used before delivery/smtp.rs; no TCP_NODELAY, so Nagle's algorithm waits for a delayed ACK per message): {pooled:.0} messages/s over {pooled_n} messages, {WARD_CONCURRENCY} at once"
            ),
            format!(
                "Ward's defaults: [outbox] batch {WARD_BATCH}, concurrency {WARD_CONCURRENCY}; interval_secs 1"
            ),
        ],
    }
    .finish())
}
