//! Helpers for driving the real `ward` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn ward() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.env_remove("WARD_DATABASE_URL")
        .env_remove("WARD_DATA_DIR")
        .env_remove("WARD_KEYS_DIR")
        .env("WARD_LOG", "info");
    c
}

/// Runs `ward ARGS --data-dir DIR` to completion.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    ward()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("ward runs")
}

/// Registers one subject (`email=a@example.org`, for `registration`) with the CLI; it must succeed.
pub fn create_subject(dir: &Path) {
    register(dir, &["email=a@example.org"]);
}

/// Registers a subject for `registration` with the given `name=value` fields; it must
/// succeed. Returns the new subject's id.
pub fn register(dir: &Path, fields: &[&str]) -> String {
    let mut args = vec!["subject", "create", "--purpose", "registration"];
    for f in fields {
        args.extend(["--field", f]);
    }
    let out = run(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// A data directory `d` in `tmp`, made by `ward init` (which must succeed).
pub fn init(tmp: &tempfile::TempDir) -> PathBuf {
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    dir
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running `ward serve`, stopped with SIGTERM on drop if still running.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        Self::start_with_env(dir, &[])
    }

    /// [`Server::start`] with these environment variables set too.
    pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> Server {
        let log = dir.with_extension("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child = ward()
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("ward serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = None;
        let mut line = String::new();
        while lines.read_line(&mut line).expect("read stdout") > 0 {
            if let Some(rest) = line.trim().strip_prefix("Ward listening on ") {
                url = rest.split_whitespace().next().map(str::to_owned);
                break;
            }
            line.clear();
        }
        let url = url.unwrap_or_else(|| {
            panic!(
                "server did not report its address; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.lines() {});
        Server {
            child,
            url,
            dir: dir.to_path_buf(),
            log,
        }
    }

    /// SIGTERM, then wait: the server flushes and signs a final checkpoint.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("server exits")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Fails if any of `needles` occurs in any file below `dir` or in `extra` text.
pub fn assert_no_plaintext(dir: &Path, needles: &[&str], extra: &[(&str, &str)]) {
    let mut hits = Vec::new();
    for f in files_below(dir) {
        let bytes = std::fs::read(&f).expect("read file");
        for n in needles {
            for form in [n.to_string(), n.to_lowercase(), n.to_uppercase()] {
                if bytes.windows(form.len()).any(|w| w == form.as_bytes()) {
                    hits.push(format!("{} contains {n:?}", f.display()));
                }
            }
        }
    }
    for (name, text) in extra {
        for n in needles {
            if text.contains(n) {
                hits.push(format!("{name} contains {n:?}"));
            }
        }
    }
    assert!(hits.is_empty(), "plaintext personal data found:\n{}", hits.join("\n"));
}
