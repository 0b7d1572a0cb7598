//! Rebuilds the store when a migration is added: `sqlx::migrate!` embeds the folder at compile time.

// Cargo reads a build script's instructions from its standard output.
#![allow(clippy::print_stdout)]

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
