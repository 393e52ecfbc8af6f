//! The trace of the chapter's step program, built on your code, against minievent's snapshots in
//! traces/snapshots/ (the same files the book shows and `cargo test` checks minievent with).

use minievent_labs_kit::check_trace;
use std::path::Path;

const LAB: &str = env!("CARGO_PKG_NAME");

fn step1() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_lab01-step1"))
}

#[test]
fn trace_step1() {
    check_trace(LAB, "step1", step1());
}

#[test]
fn trace_step1_poll() {
    check_trace(LAB, "step1-poll", step1());
}

#[test]
fn trace_step1_select() {
    check_trace(LAB, "step1-select", step1());
}

#[test]
fn trace_step1_show_method() {
    check_trace(LAB, "step1-show-method", step1());
}
