fn main() {
    // Migrations are embedded by `include_str!`; rebuild when they change.
    println!("cargo:rerun-if-changed=migrations");
}
