//! The trace of the chapter's step program, built on your code, against minievent's snapshots in
//! traces/snapshots/: on epoll, and on poll and select (the same program, another backend).

use minievent_labs_kit::check_trace;
use std::path::Path;

#[test]
fn trace_step7() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step7",
        Path::new(env!("CARGO_BIN_EXE_lab06-step7")),
    );
}

#[test]
fn trace_step7_poll() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step7-poll",
        Path::new(env!("CARGO_BIN_EXE_lab06-step7")),
    );
}

#[test]
fn trace_step7_select() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step7-select",
        Path::new(env!("CARGO_BIN_EXE_lab06-step7")),
    );
}
