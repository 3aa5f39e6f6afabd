//! Slow and idle clients cannot hold the server: a half-sent request head, an idle kept-alive
//! connection and a half-sent body are closed after the configured timeouts, and connections
//! beyond `max_connections` wait until one closes. Raw TCP clients; every wait is on a socket.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longer than any configured timeout here: reaching it means the server kept the socket open.
const PATIENCE: Duration = Duration::from_secs(20);

fn configure(dir: &Path, header: &str, body: &str, max_connections: &str) {
    assert!(run(dir, &["init"]).status.success());
    let path = dir.join("ward.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| match l.split_whitespace().next() {
            Some("header_read_timeout_secs") => format!("header_read_timeout_secs = {header}"),
            Some("body_read_timeout_secs") => format!("body_read_timeout_secs = {body}"),
            Some("max_connections") => format!("max_connections = {max_connections}"),
            _ => l.to_owned(),
        })
        .collect();
    std::fs::write(&path, text.join("\n")).unwrap();
}

fn connect(server: &Server) -> TcpStream {
    let addr = server.url.trim_start_matches("http://");
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Reads until the server closes the connection; returns what it sent and how long it took.
/// Fails if the server keeps the connection open for [`PATIENCE`].
fn read_until_closed(s: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open ({e}) after {:?}",
                started.elapsed()
            ),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

#[test]
fn slow_and_idle_clients_are_closed_after_the_configured_timeouts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    configure(&dir, "0.5", "0.5", "1024");
    let server = Server::start(&dir);

    // Half a request head.
    let mut half = connect(&server);
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: ward\r\nX-Slow: ")
        .unwrap();
    let (sent, took) = read_until_closed(&mut half);
    assert!(sent.is_empty() || sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(took < PATIENCE, "{took:?}");

    // A kept-alive connection that goes quiet after a request.
    let mut idle = connect(&server);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: ward\r\n\r\n").unwrap();
    let (sent, _) = read_until_closed(&mut idle);
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");

    // Half a request body, from an authenticated client (so the handler reads the body).
    let token = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    let mut slow_body = connect(&server);
    let head = format!(
        "POST /v1/subjects HTTP/1.1\r\nHost: ward\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"purpose\":",
        token.trim()
    );
    slow_body.write_all(head.as_bytes()).unwrap();
    let (sent, _) = read_until_closed(&mut slow_body);
    assert!(sent.starts_with("HTTP/1.1 400"), "{sent}");
    assert!(sent.contains("could not be read"), "{sent}");

    // The server still serves everyone else.
    let mut ok = connect(&server);
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: ward\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (sent, _) = read_until_closed(&mut ok);
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // Timeouts long enough that only closing a connection frees a place.
    configure(&dir, "60", "60", "2");
    let server = Server::start(&dir);

    let mut holders: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(&server);
            s.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    let mut third = connect(&server);
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: ward\r\nConnection: close\r\n\r\n")
        .unwrap();
    // Not served while both places are held: nothing arrives within a generous moment.
    third.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut buf = [0u8; 1];
    match third.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the third connection was served beyond the limit: {other:?}"),
    }
    // One holder leaves; the third is served.
    holders.pop();
    third.set_read_timeout(Some(PATIENCE)).unwrap();
    let (sent, _) = read_until_closed(&mut third);
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    drop(holders);
}
