//! The trace of the chapter's step program, built on your code, against minievent's snapshot in
//! traces/snapshots/ (the same file the book shows and `cargo test` checks minievent with).

use minievent_labs_kit::check_trace;
use std::path::Path;

#[test]
fn trace_step2() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step2",
        Path::new(env!("CARGO_BIN_EXE_lab02-step2")),
    );
}
