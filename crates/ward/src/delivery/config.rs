//! The delivery job's configuration: `[smtp]` (the mail server, how to reach it, who sends)
//! and `[outbox]` (how often, how many, how long a claim lasts, retries). Without `[smtp]`
//! nothing is delivered: messages wait in the queue.
//!
//! The SMTP password is never in `ward.toml`: `password_env` names an environment variable,
//! `password_file` a file (mode 0600, one line) that holds it.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use ward_core::outbox::RetryRule;

/// `[smtp]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: String,
    pub port: Option<u16>,
    /// `none`, `opportunistic` or `required` (STARTTLS); default `required`.
    pub tls: Option<TlsMode>,
    /// The sender: `Name <address>` or an address.
    pub from: String,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
}

/// `[outbox]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxFile {
    pub interval_secs: Option<u64>,
    pub batch: Option<u32>,
    pub concurrency: Option<usize>,
    pub claim_secs: Option<u64>,
    pub max_attempts: Option<u32>,
    pub first_backoff_secs: Option<u64>,
    pub max_backoff_secs: Option<u64>,
}

/// STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plain text (a local relay only).
    None,
    /// STARTTLS when the server offers it, else plain text.
    Opportunistic,
    /// STARTTLS or no delivery.
    Required,
}

/// Where the SMTP password is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

impl PasswordSource {
    /// The password, read now.
    pub fn read(&self) -> Result<String> {
        match self {
            PasswordSource::Env(var) => {
                std::env::var(var).with_context(|| format!("[smtp] password_env: the variable {var} is not set"))
            }
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("[smtp] password_file: reading {}", path.display()))?;
                Ok(text.trim_end_matches(['\r', '\n']).to_owned())
            }
        }
    }
}

/// Everything the delivery job needs, resolved.
#[derive(Clone)]
pub struct DeliveryConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub from: String,
    /// The Message-ID's right part: the sender's domain.
    pub domain: String,
    /// The user and where the password is read from (read when the server starts, so that
    /// other commands run without it).
    pub credentials: Option<(String, PasswordSource)>,
    pub timeout: std::time::Duration,
    pub interval_secs: u64,
    pub batch: u32,
    pub concurrency: usize,
    pub claim: time::Duration,
    pub retry: RetryRule,
}

impl std::fmt::Debug for DeliveryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("authenticated", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl DeliveryConfig {
    /// Resolves `[smtp]` and `[outbox]` (paths relative to `data_dir`). `None` without `[smtp]`.
    pub fn resolve(data_dir: &Path, smtp: Option<SmtpFile>, outbox: Option<OutboxFile>) -> Result<Option<Self>> {
        let Some(smtp) = smtp else {
            if outbox.is_some() {
                bail!("[outbox] is configured but [smtp] is not: nothing would be delivered");
            }
            return Ok(None);
        };
        let o = outbox.unwrap_or_default();
        if smtp.host.trim().is_empty() {
            bail!("[smtp] host is empty");
        }
        let mailbox: lettre::message::Mailbox = smtp
            .from
            .parse()
            .with_context(|| "[smtp] from is not an address (`Name <address>` or `address`)")?;
        let domain = mailbox.email.domain().to_owned();
        let password = match (smtp.password_env, smtp.password_file) {
            (Some(_), Some(_)) => bail!("[smtp] takes password_env or password_file, not both"),
            (Some(var), None) => Some(PasswordSource::Env(var)),
            (None, Some(file)) => Some(PasswordSource::File(if file.is_absolute() {
                file
            } else {
                data_dir.join(file)
            })),
            (None, None) => None,
        };
        let credentials = match (smtp.username, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => bail!("[smtp] username and a password (password_env or password_file) go together"),
        };
        let tls = smtp.tls.unwrap_or(TlsMode::Required);
        let positive = |name: &str, v: Option<u64>, default: u64, max: u64| -> Result<u64> {
            let v = v.unwrap_or(default);
            if !(1..=max).contains(&v) {
                bail!("{name} must be 1 to {max}");
            }
            Ok(v)
        };
        let first = positive("[outbox] first_backoff_secs", o.first_backoff_secs, 30, 86_400)?;
        let max_backoff = positive("[outbox] max_backoff_secs", o.max_backoff_secs, 3600, 7 * 86_400)?;
        let secs = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        Ok(Some(Self {
            host: smtp.host,
            port: smtp.port.unwrap_or(587),
            tls,
            from: smtp.from,
            domain,
            credentials,
            timeout: std::time::Duration::from_secs(positive("[smtp] timeout_secs", smtp.timeout_secs, 30, 600)?),
            interval_secs: positive("[outbox] interval_secs", o.interval_secs, 5, 3600)?,
            batch: u32::try_from(positive("[outbox] batch", o.batch.map(u64::from), 100, 10_000)?).unwrap_or(100),
            concurrency: usize::try_from(positive(
                "[outbox] concurrency",
                o.concurrency.map(|c| c as u64),
                8,
                256,
            )?)
            .unwrap_or(8),
            claim: secs(positive("[outbox] claim_secs", o.claim_secs, 120, 86_400)?),
            retry: RetryRule {
                max_attempts: u32::try_from(positive(
                    "[outbox] max_attempts",
                    o.max_attempts.map(u64::from),
                    8,
                    100,
                )?)
                .unwrap_or(8),
                first_backoff: secs(first),
                max_backoff: secs(max_backoff.max(first)),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(extra: &str) -> Result<Option<DeliveryConfig>> {
        #[derive(Deserialize)]
        struct F {
            smtp: Option<SmtpFile>,
            outbox: Option<OutboxFile>,
        }
        let f: F = toml::from_str(&format!(
            "[smtp]\nhost = \"127.0.0.1\"\nfrom = \"Ward <ward@example.ru>\"\n{extra}"
        ))?;
        DeliveryConfig::resolve(Path::new("/nonexistent"), f.smtp, f.outbox)
    }

    #[test]
    fn defaults_and_refusals() {
        let c = smtp("").unwrap().expect("configured");
        assert_eq!(
            (c.port, c.tls, c.domain.as_str()),
            (587, TlsMode::Required, "example.ru")
        );
        assert!(c.credentials.is_none());
        assert_eq!(c.retry.max_attempts, 8);
        assert!(smtp("username = \"u\"\n").is_err(), "a user without a password");
        let c = smtp("password_env = \"WARD_TEST_NO_SUCH_VARIABLE\"\nusername = \"u\"\n")
            .unwrap()
            .expect("configured");
        let (user, source) = c.credentials.expect("credentials");
        assert_eq!(user, "u");
        let e = source.read().expect_err("not set").to_string();
        assert!(e.contains("WARD_TEST_NO_SUCH_VARIABLE"), "{e}");
        let c = smtp("password_file = \"pw\"\nusername = \"u\"\n")
            .unwrap()
            .expect("configured");
        assert_eq!(
            c.credentials.map(|(_, s)| s),
            Some(PasswordSource::File(Path::new("/nonexistent/pw").to_owned()))
        );
        assert!(smtp("tls = \"sometimes\"\n").is_err());
        assert!(DeliveryConfig::resolve(Path::new("/"), None, None).unwrap().is_none());
        assert!(DeliveryConfig::resolve(Path::new("/"), None, Some(OutboxFile::default())).is_err());
    }
}
