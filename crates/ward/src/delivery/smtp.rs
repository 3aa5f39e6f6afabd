//! The delivery job's SMTP connections: lettre's client (its SMTP conversation, STARTTLS over
//! rustls, authentication) on TCP sockets with `TCP_NODELAY`, kept in a pool of idle ones.
//!
//! Why not lettre's own pooled transport: it connects without `TCP_NODELAY` and writes a
//! message's content and its closing `.` in two writes. Nagle's algorithm then holds the `.`
//! back until the server acknowledges the content, and a server delays that acknowledgement
//! (40 ms on Linux) because it has nothing to answer yet: every message cost about 40 ms per
//! connection, so 8 connections delivered at most ~200 messages/s whatever the machine
//! (`ward bench`'s `outbox_delivery`, BENCHMARKS.md). With `TCP_NODELAY` the `.` goes at once.

use crate::delivery::config::{DeliveryConfig, TlsMode};
use anyhow::{Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// An idle connection older than this is checked (`NOOP`) before it is used again: a server
/// may have closed it meanwhile.
const CHECK_AFTER: Duration = Duration::from_secs(5);

/// Why a message was not accepted.
#[derive(Debug)]
pub enum SendError {
    /// No conversation: the server could not be reached or did not answer in time.
    Unreachable,
    /// The server (or lettre) refused; a `5xx` is permanent.
    Smtp(lettre::transport::smtp::Error),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(e) if e.is_permanent())
    }

    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Unreachable => true,
            SendError::Smtp(e) => e.is_transient(),
        }
    }

    /// The SMTP status code, if the server answered with one.
    pub fn status(&self) -> Option<String> {
        match self {
            SendError::Unreachable => None,
            SendError::Smtp(e) => e.status().map(|c| c.to_string()),
        }
    }
}

/// Connections to the configured server.
pub struct Mailer {
    host: String,
    port: u16,
    tls: Option<(TlsParameters, bool)>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    /// Idle connections, with when each went idle; at most `max_idle`.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    max_idle: usize,
}

impl Mailer {
    pub fn new(cfg: &DeliveryConfig) -> Result<Self> {
        let params = || TlsParameters::new(cfg.host.clone()).context("[smtp] TLS parameters");
        let tls = match cfg.tls {
            TlsMode::None => None,
            TlsMode::Opportunistic => Some((params()?, false)),
            TlsMode::Required => Some((params()?, true)),
        };
        let credentials = match &cfg.credentials {
            Some((user, password)) => Some(Credentials::new(user.clone(), password.read()?)),
            None => None,
        };
        Ok(Self {
            host: cfg.host.clone(),
            port: cfg.port,
            tls,
            credentials,
            timeout: cfg.timeout,
            hello: ClientId::default(),
            idle: Mutex::new(Vec::new()),
            max_idle: cfg.concurrency.max(1),
        })
    }

    /// Sends `email` (the formatted message) to `envelope`'s recipients over a pooled
    /// connection, or a new one.
    pub async fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<(), SendError> {
        let mut conn = match self.idle_connection().await {
            Some(c) => c,
            None => self.connect().await?,
        };
        match tokio::time::timeout(self.timeout, conn.send(envelope, email)).await {
            Ok(Ok(_)) => {
                self.put_back(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                conn.abort().await;
                Err(SendError::Smtp(e))
            }
            Err(_) => Err(SendError::Unreachable),
        }
    }

    /// A pooled connection that still works, if there is one.
    async fn idle_connection(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().ok()?.pop()?;
            if conn.has_broken() {
                continue;
            }
            if since.elapsed() < CHECK_AFTER || conn.test_connected().await {
                return Some(conn);
            }
        }
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push((conn, Instant::now()));
            }
        }
    }

    /// A new connection: TCP with `TCP_NODELAY`, EHLO, STARTTLS as configured, then AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let handshake = async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|_| SendError::Unreachable)?;
            tcp.set_nodelay(true).map_err(|_| SendError::Unreachable)?;
            let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                .await
                .map_err(SendError::Smtp)?;
            if let Some((params, required)) = &self.tls {
                if conn.can_starttls() {
                    conn.starttls(params.clone(), &self.hello)
                        .await
                        .map_err(SendError::Smtp)?;
                } else if *required {
                    conn.abort().await;
                    tracing::warn!("the mail server does not offer STARTTLS, which [smtp] tls = \"required\" requires");
                    return Err(SendError::Unreachable);
                }
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(DEFAULT_MECHANISMS, credentials)
                    .await
                    .map_err(SendError::Smtp)?;
            }
            Ok(conn)
        };
        match tokio::time::timeout(self.timeout, handshake).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Unreachable),
        }
    }
}
