//! Lab 5 — the bufferevent echo: minievent as it is, plus the echo server's callbacks written by
//! you in [`exercise.rs`](exercise).
//!
//! The library is minievent's own code, compiled from `src/` by `build.rs` with nothing cut out;
//! the lab's program `lab05-echo_bufferevent` (src/bin/echo_bufferevent.rs) is minievent's echo
//! server with your [`exercise::start`] for each connection. With the `reference` feature the
//! tests run minievent's own src/bin/echo_bufferevent.rs instead. See `labs/README.md`.

include!(concat!(env!("OUT_DIR"), "/minievent.rs"));

/// Your code: the file you edit.
#[cfg(not(feature = "reference"))]
#[doc(hidden)]
pub mod exercise;
