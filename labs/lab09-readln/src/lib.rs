//! Lab 9 — readln: minievent, with the evbuffer's end-of-line search and line reading written by
//! you in [`exercise.rs`](exercise).
//!
//! Everything else is minievent's own code, compiled from `src/` by `build.rs`; with the
//! `reference` feature this is minievent unchanged. See `labs/README.md`.

include!(concat!(env!("OUT_DIR"), "/minievent.rs"));

/// Your code: the file you edit.
#[cfg(not(feature = "reference"))]
#[doc(hidden)]
pub mod exercise;
