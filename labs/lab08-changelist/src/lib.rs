//! Lab 8 — the changelist: minievent, with the changelist's merge rules written by you in
//! [`exercise.rs`](exercise).
//!
//! Everything else is minievent's own code, compiled from `src/` by `build.rs`; with the
//! `reference` feature this is minievent unchanged. See `labs/README.md`.

include!(concat!(env!("OUT_DIR"), "/minievent.rs"));

/// Your code: the file you edit.
#[cfg(not(feature = "reference"))]
#[doc(hidden)]
pub mod exercise;
