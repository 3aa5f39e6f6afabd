//! The load generator: N clients, each with its own keep-alive HTTP/1.1 connection, each
//! looping job → request → full response, until the jobs or the time run out. Every
//! request's latency (send to last body byte) goes into an HDR histogram.

use anyhow::{Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One HTTP request and the status that counts as success.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<Bytes>,
    pub expect: u16,
}

impl Req {
    pub fn get(path: impl Into<String>, expect: u16) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            expect,
        }
    }

    pub fn delete(path: impl Into<String>, expect: u16) -> Self {
        Self {
            method: Method::DELETE,
            path: path.into(),
            body: None,
            expect,
        }
    }

    pub fn post(path: impl Into<String>, body: impl Into<Bytes>, expect: u16) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            body: Some(body.into()),
            expect,
        }
    }
}

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// After this many jobs.
    Jobs(u64),
    /// After this long (no new job starts later).
    Time(Duration),
    /// Whichever comes first.
    Both(u64, Duration),
}

impl Limit {
    fn jobs(self) -> u64 {
        match self {
            Limit::Jobs(n) | Limit::Both(n, _) => n,
            Limit::Time(_) => u64::MAX,
        }
    }
    fn time(self) -> Option<Duration> {
        match self {
            Limit::Time(d) | Limit::Both(_, d) => Some(d),
            Limit::Jobs(_) => None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Requests answered with the expected status.
    pub ok: u64,
    /// Requests answered otherwise (or failed).
    pub errors: u64,
    pub secs: f64,
    /// Latencies in microseconds.
    pub hist: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// Makes job `i`: one or more requests a client sends one after another.
pub type JobFn = dyn Fn(u64) -> Vec<Req> + Send + Sync;
/// Sees every successful response body with its job index.
pub type BodyFn = dyn Fn(u64, &Bytes) + Send + Sync;

/// A target: where, and with which token.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

/// Drives `clients` concurrent clients against `target` until `limit`.
pub async fn drive(
    target: &Target,
    clients: usize,
    limit: Limit,
    job: Arc<JobFn>,
    on_body: Option<Arc<BodyFn>>,
) -> Result<Outcome> {
    drive_until(target, clients, limit, job, on_body, Arc::new(AtomicBool::new(false))).await
}

/// [`drive`], also ending when `stop` is set (each client finishes the job it is in).
pub async fn drive_until(
    target: &Target,
    clients: usize,
    limit: Limit,
    job: Arc<JobFn>,
    on_body: Option<Arc<BodyFn>>,
    stop: Arc<AtomicBool>,
) -> Result<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let host = target.addr.to_string();
    let auth = target.token.as_ref().map(|t| format!("Bearer {t}"));
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        conns.push(connect(target.addr).await?);
    }
    let started = Instant::now();
    let deadline = limit.time().map(|d| started + d);
    let max_jobs = limit.jobs();
    let mut tasks = Vec::with_capacity(conns.len());
    for mut sender in conns {
        let (next, stop, first_error, job, on_body) = (
            next.clone(),
            stop.clone(),
            first_error.clone(),
            job.clone(),
            on_body.clone(),
        );
        let (host, auth) = (host.clone(), auth.clone());
        let addr = target.addr;
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let (mut ok, mut errors) = (0u64, 0u64);
            loop {
                if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max_jobs {
                    break;
                }
                for req in job(i) {
                    let expect = req.expect;
                    let t0 = Instant::now();
                    let result = send(&mut sender, &host, auth.as_deref(), req).await;
                    let micros = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                    match result {
                        Ok((status, body)) => {
                            hist.saturating_record(micros);
                            *statuses.entry(status).or_default() += 1;
                            if status == expect {
                                ok += 1;
                                if let Some(f) = &on_body {
                                    f(i, &body);
                                }
                            } else {
                                errors += 1;
                                let mut fe = first_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                                if fe.is_none() {
                                    let text = String::from_utf8_lossy(&body);
                                    *fe = Some(format!(
                                        "status {status}: {}",
                                        text.chars().take(300).collect::<String>()
                                    ));
                                }
                            }
                        }
                        Err(e) => {
                            errors += 1;
                            {
                                let mut fe = first_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                                if fe.is_none() {
                                    *fe = Some(format!("{e:#}"));
                                }
                            }
                            // The connection may be gone: open a new one.
                            match connect(addr).await {
                                Ok(s) => sender = s,
                                Err(_) => {
                                    stop.store(true, Ordering::Relaxed);
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            anyhow::Ok((hist, statuses, ok, errors))
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut ok, mut errors) = (0u64, 0u64);
    for t in tasks {
        let (h, s, o, e) = t.await.context("a load client panicked")??;
        hist.add(h).context("merging histograms")?;
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        ok += o;
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    let first_error = first_error
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    Ok(Outcome {
        ok,
        errors,
        secs,
        hist,
        statuses,
        first_error,
    })
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(sender: &mut SendRequest<Full<Bytes>>, host: &str, auth: Option<&str>, req: Req) -> Result<(u16, Bytes)> {
    sender.ready().await.context("connection not ready")?;
    let mut b = Request::builder()
        .method(req.method)
        .uri(req.path)
        .header(hyper::header::HOST, host);
    if let Some(a) = auth {
        b = b.header(hyper::header::AUTHORIZATION, a);
    }
    let body = match req.body {
        Some(body) => {
            b = b.header(hyper::header::CONTENT_TYPE, "application/json");
            Full::new(body)
        }
        None => Full::new(Bytes::new()),
    };
    let response = sender.send_request(b.body(body)?).await.context("sending a request")?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .context("reading a response")?
        .to_bytes();
    Ok((status, body))
}

/// One request, outside a load run (setup, samples).
pub async fn once(target: &Target, req: Req) -> Result<(u16, Bytes)> {
    let mut sender = connect(target.addr).await?;
    send(
        &mut sender,
        &target.addr.to_string(),
        target.token.as_deref().map(|t| format!("Bearer {t}")).as_deref(),
        req,
    )
    .await
}
