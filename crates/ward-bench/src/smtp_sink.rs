//! A mail server that accepts every message and keeps only its Message-ID: the receiving end
//! of the outbox workloads, inside the harness so that they need nothing installed.
//!
//! It is a real SMTP conversation over TCP (tokio): a `220` greeting, then `EHLO`/`HELO`,
//! `MAIL`, `RCPT`, `DATA` (the message up to the lone `.`, dot-stuffing undone), `RSET`,
//! `NOOP` and `QUIT`, each answered as RFC 5321 says; enough for lettre, Ward's client. A
//! message counts once its `250` is written. Waiters are woken through a watch channel, not by
//! polling.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the sink has received.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Messages accepted, duplicates included.
    pub delivered: u64,
    /// Distinct Message-IDs among them.
    pub distinct: u64,
    /// The messages' bodies (after the header), in bytes, all together.
    pub body_bytes: u64,
    /// When the first connection came, and when the last message was accepted.
    pub first_connection: Option<Instant>,
    pub last_message: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Message-ID → times accepted.
    ids: HashMap<String, u32>,
}

/// The running sink; stops when dropped.
pub struct Sink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    tally: watch::Receiver<Tally>,
    marks: Arc<watch::Sender<Tally>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// Listens on a free loopback port.
    pub async fn start() -> Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("the SMTP sink's port")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, tally) = watch::channel(Tally::default());
        let tx = Arc::new(tx);
        let marks = tx.clone();
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tx.send_modify(|t| {
                    t.first_connection.get_or_insert_with(Instant::now);
                });
                let (st, tx) = (st.clone(), tx.clone());
                tokio::spawn(async move {
                    // A client that hangs up mid-conversation (a killed Ward) is no error.
                    let _ = session(stream, &st, &tx).await;
                });
            }
        });
        Ok(Sink {
            addr,
            state,
            tally,
            marks,
            task,
        })
    }

    /// Forgets when the first connection came, so that the next one starts a new timing (the
    /// counts stay).
    pub fn restart_clock(&self) {
        self.marks.send_modify(|t| t.first_connection = None);
    }

    pub fn tally(&self) -> Tally {
        self.tally.borrow().clone()
    }

    /// Waits until `done` holds for the tally, at most `within`.
    pub async fn wait(&self, within: Duration, what: &str, done: impl FnMut(&Tally) -> bool) -> Result<Tally> {
        let mut rx = self.tally.clone();
        let waited = tokio::time::timeout(within, async { rx.wait_for(done).await.map(|t| t.clone()) }).await;
        match waited {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(_)) => bail!("the SMTP sink stopped"),
            Err(_) => bail!("{what}: not within {within:?} (the sink has {:?})", self.tally()),
        }
    }

    /// Message-ID → times accepted.
    pub fn ids(&self) -> HashMap<String, u32> {
        self.state.lock().map(|s| s.ids.clone()).unwrap_or_default()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One client's conversation.
async fn session(stream: TcpStream, state: &Mutex<State>, tally: &watch::Sender<Tally>) -> Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 ward-bench-sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-ward-bench-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
            "HELO" => b"250 ward-bench-sink\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let (id, bytes) = message(&mut read, &mut line).await?;
                write.write_all(b"250 OK accepted\r\n").await?;
                let mut s = state
                    .lock()
                    .map_err(|_| anyhow::anyhow!("the sink's state is poisoned"))?;
                let seen = s.ids.entry(id).or_insert(0);
                *seen += 1;
                let new = *seen == 1;
                drop(s);
                tally.send_modify(|t| {
                    t.delivered += 1;
                    t.distinct += u64::from(new);
                    t.body_bytes += bytes;
                    t.last_message = Some(Instant::now());
                });
                continue;
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// Reads a message up to the lone `.`; returns its Message-ID (empty when it has none) and
/// its body's size.
async fn message<R: AsyncBufReadExt + Unpin>(read: &mut R, line: &mut String) -> Result<(String, u64)> {
    let mut id = String::new();
    let mut in_head = true;
    let mut bytes = 0u64;
    loop {
        line.clear();
        if read.read_line(line).await? == 0 {
            bail!("the client hung up in the middle of a message");
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text == "." {
            return Ok((id, bytes));
        }
        if !in_head {
            bytes += line.len() as u64;
        } else if text.is_empty() {
            in_head = false;
        } else if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("message-id") {
                value.trim().clone_into(&mut id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_speaks_enough_smtp_for_lettre_and_counts_message_ids() {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let sink = Sink::start().await.unwrap();
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.addr.port())
            .build();
        for n in [1, 2, 1] {
            let m = Message::builder()
                .from("a@example.org".parse().unwrap())
                .to("b@example.org".parse().unwrap())
                .subject("Привет")
                .message_id(Some(format!("<m{n}@example.org>")))
                .body("тело\n.leading dot\n".to_owned())
                .unwrap();
            mailer.send(m).await.unwrap();
        }
        let t = sink
            .wait(Duration::from_secs(10), "three messages", |t| t.delivered >= 3)
            .await
            .unwrap();
        assert_eq!((t.delivered, t.distinct), (3, 2));
        assert_eq!(sink.ids().get("<m1@example.org>"), Some(&2));
    }
}
