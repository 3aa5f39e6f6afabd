//! A real SMTP server for the outbox's tests: Python's `aiosmtpd` (installed by `.ci/run`),
//! delivering every message it accepts into a Maildir that the tests read back. Shared by the
//! delivery job's tests (`src/delivery/tests.rs`, by path) and `tests/outbox.rs`.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `aiosmtpd`, killed on drop.
pub struct Smtpd {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
}

impl Smtpd {
    /// Starts it on `port`, delivering into `maildir`, and waits until it accepts connections.
    pub fn start(port: u16, maildir: &Path) -> Smtpd {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd runs (pip install aiosmtpd)");
        let mut s = Smtpd {
            child,
            port,
            maildir: maildir.to_owned(),
        };
        s.wait_ready();
        s
    }

    /// Polls the port until the server answers (a readiness check, not a sleep to wait).
    fn wait_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("aiosmtpd exited before it listened: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {} within 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The messages delivered so far, as raw RFC 5322 text.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                out.push(std::fs::read_to_string(e.path()).expect("a delivered message"));
            }
        }
        out
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A header's value in a raw message (unfolded), if present.
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let head = head.split("\n\n").next().unwrap_or(head);
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push_str(line.trim_start_matches(['\r']));
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                value = Some(v.trim().trim_end_matches('\r').to_owned());
            }
        }
    }
    value
}

/// The `Subject` header, decoded (RFC 2047 `=?utf-8?b?…?=` words, as lettre writes them).
pub fn subject(message: &str) -> String {
    use base64::Engine as _;
    let raw = header(message, "Subject").expect("a Subject header");
    // Adjacent encoded words join without the space between them; other words keep theirs.
    let mut out = String::new();
    let mut last_encoded = false;
    for word in raw.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && lower.ends_with("?=");
        let joined = encoded && last_encoded;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        if encoded {
            let b64 = &word["=?utf-8?b?".len()..word.len() - 2];
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("a base64 encoded word");
            out.push_str(&String::from_utf8(bytes).expect("UTF-8"));
        } else {
            out.push_str(word);
        }
        last_encoded = encoded;
    }
    out
}

/// The body, decoded from base64 when the message says so (quoted-printable is left as is).
pub fn body(message: &str) -> String {
    use base64::Engine as _;
    let (_, body) = message
        .split_once("\r\n\r\n")
        .or_else(|| message.split_once("\n\n"))
        .expect("a body");
    let base64 = header(message, "Content-Transfer-Encoding").is_some_and(|c| c.eq_ignore_ascii_case("base64"));
    if base64 {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .expect("a base64 body"),
        )
        .expect("UTF-8")
    } else {
        body.to_owned()
    }
}
