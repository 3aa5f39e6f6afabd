//! The HTTP API end to end: a real server on a loopback port, a real vault, a real store, a
//! real HTTP client. Tests run on SQLite and on PostgreSQL (`module::test::sqlite`,
//! `module::test::postgres`; see `support::both_backends!`), except those that read SQLite's
//! files. Without a reachable PostgreSQL its tests are skipped with a notice, unless `CI` is
//! set or `WARD_REQUIRE_POSTGRES=1`.

mod acts;
mod age;
mod auth;
mod authz;
mod bases;
mod batch;
mod blocks;
mod codes;
mod consents;
mod deadlines;
mod destruction;
mod errors;
mod health;
mod idempotency;
mod journal;
mod journal_scan;
mod keys;
mod legal_hold;
mod lifecycle;
mod logs;
mod lookups;
mod metrics;
mod openings;
mod outbox;
mod policy;
mod policy_versions;
mod receipts;
mod registers;
mod reports;
mod requests;
mod seeds;
mod spec;
mod subjects;
mod support;
mod unique;
mod verifications;
mod visitors;
