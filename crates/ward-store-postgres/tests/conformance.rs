//! The storage conformance suite on PostgreSQL: every test gets a new schema.

ward_store::conformance_suite!(ward_store_postgres::testing::fresh);
