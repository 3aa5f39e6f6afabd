//! A real SMTP server for the outbox's tests: Python's `aiosmtpd` (installed by `.ci/run`),
//! delivering every message it accepts into a Maildir that the tests read back. Shared by the
//! delivery job's tests (`src/delivery/tests.rs`, by path) and `tests/outbox.rs`.
//!
//! A small wrapper around aiosmtpd's SMTP class says on its stdout when it listens (`ready
//! PORT`, on the port it was given, or one it picked when given 0) and, for every message it
//! has stored, `delivered MESSAGE-ID` (before it answers `250`). The tests wait on those lines,
//! read by a thread into a channel with a timeout: never by polling.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The wrapper: aiosmtpd's `Mailbox` handler, announcing what it stored.
const WRAPPER: &str = r#"
import asyncio, sys
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

class Announcing(Mailbox):
    def handle_message(self, message):
        super().handle_message(message)
        print("delivered", message["Message-ID"], flush=True)

async def main():
    handler = Announcing(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", int(sys.argv[2]))
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// How long a test waits for the server to listen.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A free loopback port (bound, then released for the server to take): only for a test that
/// must name the port before the server exists (a server that comes up late).
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
    /// The wrapper's stdout, line by line.
    lines: Receiver<String>,
}

impl Smtpd {
    /// Starts it on a port of its choosing, delivering into `maildir`; returns once it listens.
    pub fn start_any(maildir: &Path) -> Smtpd {
        Self::start(0, maildir)
    }

    /// Starts it on `port` (0: any), delivering into `maildir`; returns once it listens.
    pub fn start(port: u16, maildir: &Path) -> Smtpd {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(WRAPPER)
            .arg(maildir)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (with aiosmtpd: pip install aiosmtpd)");
        let out = BufReader::new(child.stdout.take().expect("the wrapper's stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Smtpd {
            child,
            port,
            maildir: maildir.to_owned(),
            lines,
        };
        let ready = s
            .next_line(READY_WITHIN)
            .unwrap_or_else(|| panic!("aiosmtpd did not say it listens within {READY_WITHIN:?}"));
        s.port = ready
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("not a readiness line: {ready:?}"));
        s
    }

    /// The wrapper's next line, waiting at most `within`; `None` when it has exited or the
    /// time is up.
    fn next_line(&self, within: Duration) -> Option<String> {
        self.lines.recv_timeout(within).ok()
    }

    /// The Message-ID of the next message stored, waiting at most `within` for it.
    pub fn next_delivery(&self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .next_line(left)
                .unwrap_or_else(|| panic!("no message delivered within {within:?}"));
            if let Some(id) = line.strip_prefix("delivered ") {
                return id.trim().to_owned();
            }
        }
    }

    /// The Message-IDs of the next `n` messages stored, waiting at most `within` for all.
    pub fn deliveries(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        (0..n)
            .map(|_| self.next_delivery(deadline.saturating_duration_since(Instant::now())))
            .collect()
    }

    /// The Message-IDs announced already and not waited for yet (without waiting).
    pub fn announced(&self) -> Vec<String> {
        self.lines
            .try_iter()
            .filter_map(|l| l.strip_prefix("delivered ").map(|id| id.trim().to_owned()))
            .collect()
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
