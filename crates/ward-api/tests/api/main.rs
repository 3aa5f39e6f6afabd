//! The HTTP API end to end: a real server on a loopback port, a real vault, a real SQLite
//! store, a real HTTP client.

mod age;
mod auth;
mod batch;
mod consents;
mod errors;
mod journal;
mod keys;
mod lifecycle;
mod logs;
mod policy;
mod policy_versions;
mod receipts;
mod seeds;
mod spec;
mod subjects;
mod support;
mod visitors;
