//! Child processes: the real `ward serve`, the bare-HTTP echo server, `ward import`, `ward
//! journal verify`; and their memory, read from `/proc`.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How a child `ward` is started: which binary, which database.
#[derive(Debug, Clone)]
pub struct WardCmd {
    pub exe: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl WardCmd {
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.env_remove("WARD_DATABASE_URL")
            .env_remove("WARD_DATA_DIR")
            .env_remove("WARD_KEYS_DIR")
            .env_remove("WARD_LISTEN")
            .env_remove("WARD_LOG")
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(u) = &self.database_url {
            c.arg("--database-url").arg(u);
        }
        c
    }
}

/// A running child that serves HTTP; stopped with SIGTERM on drop.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
    /// [`Served::stop`] has run: an exit after it is the one it asked for.
    stopped: bool,
}

impl Served {
    /// Starts `cmd` (which must print `<prefix>http://ADDR`) with stderr to `log`.
    pub fn start(cmd: Command, prefix: &str, log: &Path) -> Result<Served> {
        Ok(Self::start_inner(cmd, prefix, log, None)?.0)
    }

    /// [`Served::start`], and every line of its log that contains `needle` also goes to the
    /// returned channel, as it is written (the log file gets every line).
    pub fn start_watching(
        cmd: Command,
        prefix: &str,
        log: &Path,
        needle: &'static str,
    ) -> Result<(Served, mpsc::Receiver<String>)> {
        let (s, rx) = Self::start_inner(cmd, prefix, log, Some(needle))?;
        Ok((s, rx.context("the log's watcher")?))
    }

    fn start_inner(
        mut cmd: Command,
        prefix: &str,
        log: &Path,
        needle: Option<&'static str>,
    ) -> Result<(Served, Option<mpsc::Receiver<String>>)> {
        let mut log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let stderr = match needle {
            Some(_) => Stdio::piped(),
            None => Stdio::from(log_file.try_clone().context("the log file")?),
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .stdin(Stdio::null())
            .spawn()
            .context("starting a server process")?;
        let watched = match (needle, child.stderr.take()) {
            (Some(needle), Some(err)) => {
                let (tx, rx) = mpsc::channel();
                std::thread::spawn(move || {
                    use std::io::Write as _;
                    for line in BufReader::new(err).lines() {
                        let Ok(line) = line else { break };
                        let _ = writeln!(log_file, "{line}");
                        if line.contains(needle) {
                            let _ = tx.send(line);
                        }
                    }
                });
                Some(rx)
            }
            _ => None,
        };
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        let mut addr = None;
        while lines.read_line(&mut line).context("reading the server's stdout")? > 0 {
            if let Some(rest) = line.trim().strip_prefix(prefix) {
                let url = rest.split_whitespace().next().unwrap_or_default();
                addr = url.strip_prefix("http://").and_then(|a| a.parse::<SocketAddr>().ok());
                break;
            }
            line.clear();
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the server did not say where it listens; its log ({}):\n{}",
                log.display(),
                tail(log)
            );
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.lines() {});
        Ok((
            Served {
                child,
                addr,
                log: log.to_owned(),
                stopped: false,
            },
            watched,
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then wait: the process ends at once, in the middle of whatever it was doing.
    pub fn kill9(&mut self) -> Result<()> {
        self.stopped = true;
        self.child.kill().context("SIGKILL")?;
        self.child.wait().context("waiting for the killed server")?;
        Ok(())
    }

    /// SIGTERM, then wait (Ward flushes and signs a final checkpoint). A server that had
    /// already exited on its own is an error, with its log.
    pub fn stop(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.stopped, true) {
            return Ok(());
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!(
                "the server had exited on its own ({status}); see {}",
                self.log.display()
            );
        }
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill")?;
        if !status.success() {
            let _ = self.child.kill();
        }
        let status = self.child.wait().context("waiting for the server")?;
        if !status.success() {
            bail!("the server exited with {status}; log:\n{}", tail(&self.log));
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        match self.child.try_wait() {
            // It ended before it was told to (a run that failed part-way): say how at the end
            // of its log, which the failed run's error shows (see `crate::run`).
            Ok(Some(status)) => {
                use std::io::Write as _;
                if let Ok(mut log) = std::fs::OpenOptions::new().append(true).open(&self.log) {
                    let _ = writeln!(log, "[bench] the server had exited on its own: {status}");
                }
            }
            _ => {
                let _ = self.stop();
            }
        }
    }
}

/// The last lines of a log file.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Memory of a process, from `/proc/<pid>/status`, in bytes.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Memory {
    /// Peak resident set since start or the last [`reset_peak`].
    pub peak_rss_mib: f64,
    pub rss_mib: f64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some(Memory {
        peak_rss_mib: kib("VmHWM:")? / 1024.0,
        rss_mib: kib("VmRSS:")? / 1024.0,
    })
}

/// Resets the peak resident set of `pid` to its current size (Linux `clear_refs` 5), so the
/// next [`memory`] reports the peak of what happened since. Best effort.
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Runs a command to completion, sampling its peak RSS; returns (stdout, stderr, seconds,
/// peak RSS MiB).
pub fn run_measured(mut cmd: Command) -> Result<(String, String, f64, Option<f64>)> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&out_path).context("stdout file")?))
        .stderr(Stdio::from(std::fs::File::create(&err_path).context("stderr file")?))
        .spawn()
        .context("starting a ward command")?;
    let mut peak: Option<f64> = None;
    let status = loop {
        if let Some(m) = memory(child.id()) {
            peak = Some(peak.map_or(m.peak_rss_mib, |p| p.max(m.peak_rss_mib)));
        }
        match child.try_wait().context("waiting for a ward command")? {
            Some(s) => break s,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    if !status.success() {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .filter(|a| !a.contains("://"))
            .collect();
        bail!("`ward {}` failed ({status}):\n{stdout}\n{stderr}", args.join(" "));
    }
    Ok((stdout, stderr, secs, peak))
}
