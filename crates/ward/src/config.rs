//! Configuration: defaults, then `<data-dir>/ward.toml`, then environment, then flags.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ward_core::calendar::Calendars;
use ward_core::deadline::Zone;

pub const CONFIG_FILE: &str = "ward.toml";

/// The configuration file, as written by `ward init`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub policy: Option<PathBuf>,
    pub keys_dir: Option<PathBuf>,
    pub blind_index_bits: Option<u8>,
    pub checkpoint_interval_secs: Option<u64>,
    pub kek_rotation_interval_secs: Option<u64>,
    pub max_batch: Option<usize>,
    pub header_read_timeout_secs: Option<f64>,
    pub body_read_timeout_secs: Option<f64>,
    pub max_connections: Option<usize>,
    pub timezone: Option<String>,
    pub calendars_dir: Option<PathBuf>,
    pub verification_code_minutes: Option<u32>,
    pub public_url: Option<String>,
    /// The mail server the outbox is delivered to (see `delivery::config`).
    pub smtp: Option<crate::delivery::config::SmtpFile>,
    pub outbox: Option<crate::delivery::config::OutboxFile>,
}

/// Everything resolved.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: embedded SQLite in the data directory.
    pub database_url: Option<String>,
    pub policy_path: PathBuf,
    pub keys_dir: PathBuf,
    pub blind_index_bits: u8,
    pub checkpoint_interval_secs: u64,
    /// How long a key epoch lasts: the KEK is rotated this long after it was recorded, and the
    /// old one destroyed a grace period ([`Config::kek_grace_secs`]) later.
    pub kek_rotation_interval_secs: u64,
    pub max_batch: usize,
    /// How long a client may take to send a request's headers (also the idle time allowed
    /// between requests on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Most HTTP connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// How long a one-time verification code is valid (`verification_code_minutes`, 1 to 60).
    pub verification_code_ttl: time::Duration,
    /// Where subjects reach Ward's public routes (`public_url`): the start of a mailed
    /// download link. Empty: the path alone.
    pub public_url: String,
    /// The operator's time zone: it decides the day a request was received.
    pub zone: Zone,
    /// The production calendars: those shipped, and those loaded from `calendars_dir`.
    pub calendars: Arc<Calendars>,
    /// The outbox's delivery over SMTP; `None` without `[smtp]` (nothing is sent).
    pub delivery: Option<crate::delivery::config::DeliveryConfig>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("database", &self.database_description())
            .field("policy_path", &self.policy_path)
            .field("keys_dir", &self.keys_dir)
            .finish_non_exhaustive()
    }
}

/// Values given on the command line or in the environment (clap reads both).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub keys_dir: Option<PathBuf>,
}

impl Config {
    pub fn load(data_dir: &Path, over: &Overrides) -> Result<Config> {
        let file_path = data_dir.join(CONFIG_FILE);
        let file: FileConfig = if file_path.exists() {
            let text =
                std::fs::read_to_string(&file_path).with_context(|| format!("reading {}", file_path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{} is not a valid Ward configuration", file_path.display()))?
        } else {
            FileConfig::default()
        };
        let listen_s = over
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_s
            .parse()
            .with_context(|| format!("listen address `{listen_s}` is not an IP:port (e.g. 127.0.0.1:8080)"))?;
        let database_url = over
            .database_url
            .clone()
            .or(file.database_url)
            .filter(|s| !s.is_empty());
        if let Some(u) = &database_url {
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                bail!("database URL must start with postgres:// (leave it unset for embedded SQLite)");
            }
        }
        let rel = |p: PathBuf| if p.is_absolute() { p } else { data_dir.join(p) };
        let bits = file.blind_index_bits.unwrap_or(24);
        if !(8..=64).contains(&bits) {
            bail!("blind_index_bits must be 8 to 64 (the default 24 suits up to ~10 million subjects)");
        }
        let seconds = |name: &str, v: Option<f64>, default: f64| -> Result<Duration> {
            let v = v.unwrap_or(default);
            if !(v.is_finite() && (0.01..=3600.0).contains(&v)) {
                bail!("{name} must be between 0.01 and 3600 seconds");
            }
            Ok(Duration::from_secs_f64(v))
        };
        let checkpoint_interval_secs = file.checkpoint_interval_secs.unwrap_or(60).max(1);
        let kek_rotation_interval_secs = file.kek_rotation_interval_secs.unwrap_or(86_400);
        let least = kek_grace_secs(checkpoint_interval_secs);
        if kek_rotation_interval_secs < least {
            bail!(
                "kek_rotation_interval_secs = {kek_rotation_interval_secs} is too short: it must be at least \
                 2 × checkpoint_interval_secs + 60 = {least} seconds, the time every running Ward takes to \
                 load a new key-encryption key before the old one is destroyed"
            );
        }
        let max_connections = file.max_connections.unwrap_or(1024);
        if !(1..=1_000_000).contains(&max_connections) {
            bail!("max_connections must be between 1 and 1000000");
        }
        let tz_name = file.timezone.as_deref().unwrap_or(Zone::DEFAULT);
        let zone = Zone::named(tz_name).with_context(|| format!("timezone in {}", file_path.display()))?;
        let calendars_dir = rel(file.calendars_dir.unwrap_or_else(|| "calendars".into()));
        let calendars = Arc::new(load_calendars(&calendars_dir)?);
        let code_minutes = file.verification_code_minutes.unwrap_or(15);
        if !(1..=60).contains(&code_minutes) {
            bail!("verification_code_minutes must be between 1 and 60");
        }
        let public_url = file.public_url.unwrap_or_default().trim_end_matches('/').to_owned();
        if !(public_url.is_empty() || public_url.starts_with("https://") || public_url.starts_with("http://")) {
            bail!("public_url must start with https:// (or http://), e.g. https://privacy.example.ru");
        }
        let delivery = crate::delivery::config::DeliveryConfig::resolve(data_dir, file.smtp, file.outbox)?;
        Ok(Config {
            delivery,
            zone,
            calendars,
            header_read_timeout: seconds("header_read_timeout_secs", file.header_read_timeout_secs, 10.0)?,
            body_read_timeout: seconds("body_read_timeout_secs", file.body_read_timeout_secs, 30.0)?,
            max_connections,
            verification_code_ttl: time::Duration::minutes(i64::from(code_minutes)),
            public_url,
            data_dir: data_dir.to_path_buf(),
            listen,
            database_url,
            policy_path: rel(file.policy.unwrap_or_else(|| "policy.toml".into())),
            keys_dir: over
                .keys_dir
                .clone()
                .map_or_else(|| rel(file.keys_dir.unwrap_or_else(|| "keys".into())), rel),
            blind_index_bits: bits,
            checkpoint_interval_secs,
            kek_rotation_interval_secs,
            max_batch: file.max_batch.unwrap_or(512).clamp(1, 10_000),
        })
    }

    /// How long after a KEK rotation the old KEK may be destroyed: [`kek_grace_secs`].
    pub fn kek_grace_secs(&self) -> u64 {
        kek_grace_secs(self.checkpoint_interval_secs)
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("ward.db")
    }

    /// Where the data lives, without credentials.
    pub fn database_description(&self) -> String {
        match &self.database_url {
            None => format!("SQLite at {}", self.sqlite_path().display()),
            Some(u) => {
                let host = u.split('@').next_back().unwrap_or("");
                format!("PostgreSQL at {host}")
            }
        }
    }
}

/// The shipped production calendars, and every `*.toml` file of `dir` (if it exists) over
/// them, in file-name order: a file for a shipped year replaces it. A file that is not a valid
/// calendar stops Ward from starting, naming the file and the problem (docs/deadlines.md).
pub fn load_calendars(dir: &Path) -> Result<Calendars> {
    let mut calendars = Calendars::shipped();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(calendars),
        Err(e) => return Err(e).with_context(|| format!("reading the calendars directory {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if path.extension().is_some_and(|x| x == "toml") {
            files.push(path);
        }
    }
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        calendars
            .load(&text)
            .with_context(|| format!("the calendar {} is not valid", path.display()))?;
    }
    Ok(calendars)
}

/// Two checkpoint intervals and a minute: every Ward process reloads its key files each
/// checkpoint interval, so by then each has put a new KEK in force (one interval, and one more
/// for a process whose reload fell just before the rotation), with a minute for scheduling.
pub fn kek_grace_secs(checkpoint_interval_secs: u64) -> u64 {
    checkpoint_interval_secs.saturating_mul(2).saturating_add(60)
}

/// Records the database URL given to `ward init` (flag or environment) in the data directory's
/// `ward.toml`, when the file names none and the directory has no SQLite database of its own:
/// the store a data directory was made for stays its store. A file that names a database, or
/// a directory whose store is its `ward.db`, is left as it is (the flag still overrides it for
/// that one command, and the key binding refuses an empty store beside existing keys).
pub fn save_database_url(data_dir: &Path, over: &Overrides) -> Result<()> {
    let Some(url) = over.database_url.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let path = data_dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: FileConfig =
        toml::from_str(&text).with_context(|| format!("{} is not a valid Ward configuration", path.display()))?;
    if file.database_url.is_some_and(|u| !u.is_empty()) || data_dir.join("ward.db").exists() {
        return Ok(());
    }
    let line = format!(
        "database_url = {}   # saved by `ward init`\n",
        toml::Value::String(url.to_owned())
    );
    let updated = match text.find("# database_url = ") {
        // In place of the commented example, so the file reads as before.
        Some(at) => {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
            format!("{}{line}{}", &text[..at], &text[end..])
        }
        None => format!("{text}{line}"),
    };
    // Written beside and renamed over, so the file is never half written.
    let tmp = data_dir.join(format!("{CONFIG_FILE}.new"));
    let _ = std::fs::remove_file(&tmp);
    crate::keyfiles::write_secret(&tmp, updated.as_bytes())?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))
}

/// The file `ward init` writes.
pub fn default_file() -> &'static str {
    r#"# Ward configuration. Precedence: this file < environment (WARD_*) < command-line flags.
listen = "127.0.0.1:8080"
# database_url = "postgres://user@host/db"   # unset: embedded SQLite in this directory
policy = "policy.toml"                      # the policy in force (validate with `ward policy validate`)
keys_dir = "keys"                           # key files, mode 0600; keep them out of backups of the database
blind_index_bits = 24                       # width of lookup indexes: ~R/2^bits false candidates per lookup
checkpoint_interval_secs = 60               # how often the journal head is signed
kek_rotation_interval_secs = 86400          # key epoch: rotate the KEK daily, destroy the old one 2 checkpoint intervals + 60 s later
max_batch = 512                             # most operations committed in one transaction
header_read_timeout_secs = 10               # a client's time to send request headers (and to idle between requests)
body_read_timeout_secs = 30                 # a client's time to send a request body
max_connections = 1024                      # HTTP connections served at once; more wait to be accepted
timezone = "Europe/Moscow"                  # decides the day a request was received (deadlines)
# calendars_dir = "calendars"               # more production calendars, one year a file (docs/deadlines.md)
verification_code_minutes = 15              # how long a one-time code verifying a request is valid (docs/verification.md)
# public_url = "https://privacy.example.ru"  # where subjects reach Ward: the start of a mailed download link (docs/requests.md)

# The outbox's delivery (notices to subjects). Without [smtp] messages wait in the queue.
# [smtp]
# host = "smtp.example.ru"
# port = 587
# tls = "required"                          # STARTTLS: none | opportunistic | required
# from = "Example Operator <privacy@example.ru>"
# username = "ward"
# password_env = "WARD_SMTP_PASSWORD"       # or password_file = "smtp-password" (never the password here)
# [outbox]
# interval_secs = 5                         # how often the delivery job looks for due messages
# max_attempts = 8                          # then the message is dead-lettered (`ward outbox list --state dead`)
"#
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> Result<Config> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(CONFIG_FILE), text).unwrap();
        Config::load(d.path(), &Overrides::default())
    }

    #[test]
    fn the_kek_rotation_interval_outlasts_the_grace_period() {
        let cfg = with_file("").unwrap();
        assert_eq!((cfg.kek_rotation_interval_secs, cfg.kek_grace_secs()), (86_400, 180));
        let cfg = with_file("checkpoint_interval_secs = 10\nkek_rotation_interval_secs = 80\n").unwrap();
        assert_eq!((cfg.kek_rotation_interval_secs, cfg.kek_grace_secs()), (80, 80));
        let e = with_file("kek_rotation_interval_secs = 179\n").unwrap_err().to_string();
        assert!(
            e.contains("kek_rotation_interval_secs = 179 is too short")
                && e.contains("2 × checkpoint_interval_secs + 60 = 180 seconds"),
            "{e}"
        );
        // The default interval with a long checkpoint interval is refused too, by name.
        let e = with_file("checkpoint_interval_secs = 50000\n").unwrap_err().to_string();
        assert!(
            e.contains("at least 2 × checkpoint_interval_secs + 60 = 100060 seconds"),
            "{e}"
        );
        assert!(config_file_parses());
    }

    #[test]
    fn the_timezone_is_checked_and_calendar_files_are_loaded_over_the_shipped_ones() {
        let cfg = with_file("").unwrap();
        assert_eq!(cfg.zone.name(), "Europe/Moscow");
        assert_eq!(cfg.calendars.years().collect::<Vec<_>>(), vec![2026, 2027]);
        let cfg = with_file("timezone = \"Asia/Vladivostok\"\n").unwrap();
        assert_eq!(cfg.zone.name(), "Asia/Vladivostok");
        let e = format!("{:#}", with_file("timezone = \"Moscow\"\n").unwrap_err());
        assert!(e.contains("unknown time zone `Moscow`"), "{e}");

        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("calendars");
        std::fs::create_dir(&dir).unwrap();
        // A file for 2028 (its holidays alone, for the test) adds the year.
        let mut text = String::from("country = \"ru\"\nyear = 2028\nsource_act = \"Test\"\n");
        for md in [
            "01-01", "01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08", "02-23", "03-08", "05-01", "05-09",
            "06-12", "11-04",
        ] {
            text.push_str(&format!(
                "[[days]]\ndate = \"2028-{md}\"\nkind = \"holiday\"\nname = \"Holiday\"\nact = \"Art. 112\"\n"
            ));
        }
        std::fs::write(dir.join("ru-2028.toml"), &text).unwrap();
        std::fs::write(dir.join("README.txt"), "not a calendar").unwrap();
        let cfg = Config::load(d.path(), &Overrides::default()).unwrap();
        assert_eq!(cfg.calendars.years().collect::<Vec<_>>(), vec![2026, 2027, 2028]);
        // A bad file stops the start, naming the file and what is wrong.
        std::fs::write(
            dir.join("ru-2029.toml"),
            "country = \"ru\"\nyear = 2029\nsource_act = \"x\"\n",
        )
        .unwrap();
        let e = format!("{:#}", Config::load(d.path(), &Overrides::default()).unwrap_err());
        assert!(
            e.contains("ru-2029.toml is not valid") && e.contains("2029-01-01 must be listed as a holiday"),
            "{e}"
        );
        // Another directory from the configuration.
        std::fs::write(d.path().join(CONFIG_FILE), "calendars_dir = \"elsewhere\"\n").unwrap();
        let cfg = Config::load(d.path(), &Overrides::default()).unwrap();
        assert_eq!(cfg.calendars.years().collect::<Vec<_>>(), vec![2026, 2027]);
    }

    fn config_file_parses() -> bool {
        toml::from_str::<FileConfig>(default_file()).is_ok_and(|f| f.kek_rotation_interval_secs == Some(86_400))
    }
}
