//! The storage conformance suite on PostgreSQL: every test gets a new schema.

mod common;

ward_store::conformance_suite!(common::fresh);
