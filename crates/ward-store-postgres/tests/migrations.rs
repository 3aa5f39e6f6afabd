//! Both backends carry the same migrations, by name and order. Needs no database.

use std::path::Path;

fn migration_files(crate_dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("migrations");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 file name")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migrations_in_the_same_order() {
    let sqlite = migration_files("ward-store-sqlite");
    let postgres = migration_files("ward-store-postgres");
    assert!(!sqlite.is_empty());
    assert!(sqlite.iter().all(|n| n.ends_with(".sql")), "{sqlite:?}");
    assert_eq!(sqlite, postgres, "the two backends' migrations/ folders differ");
}

#[test]
fn each_backend_embeds_its_migrations_folder() {
    let stems = |crate_dir| -> Vec<String> {
        migration_files(crate_dir)
            .iter()
            .map(|n| n.trim_end_matches(".sql").to_owned())
            .collect()
    };
    assert_eq!(ward_store_sqlite::migration_names(), stems("ward-store-sqlite"));
    assert_eq!(ward_store_postgres::migration_names(), stems("ward-store-postgres"));
    assert_eq!(
        ward_store_sqlite::migration_names(),
        ward_store_postgres::migration_names()
    );
}
