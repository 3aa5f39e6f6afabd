//! The storage conformance suite on SQLite: every test gets a new database file.

mod common;

ward_store::conformance_suite!(common::fresh);
