//! Rebuilds the crate when a migration is added.
//!
//! `sqlx::migrate!` embeds the files of `migrations/` when the crate compiles, but cargo does
//! not know the macro read that folder: after a new migration file, a build reused the old
//! crate and the binary ran without the migration. Watching the folder makes any change there
//! rebuild the crate, as sqlx's documentation advises.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
