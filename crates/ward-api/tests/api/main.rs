//! The HTTP API end to end: a real server on a loopback port, a real vault, a real SQLite
//! store, a real HTTP client.

mod auth;
mod consents;
mod errors;
mod journal;
mod keys;
mod logs;
mod policy;
mod spec;
mod subjects;
mod support;
