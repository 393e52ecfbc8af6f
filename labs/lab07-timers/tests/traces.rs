//! The traces of the chapter's step program (a pure timer; a thousand events on a common timeout,
//! then on the heap) and of chapter 4's (whose two timeouts must fire in deadline order), built on
//! your heap, against minievent's snapshots in traces/snapshots/.

use minievent_labs_kit::check_trace;
use std::path::Path;

#[test]
fn trace_timers_pure() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "timers-pure",
        Path::new(env!("CARGO_BIN_EXE_lab07-timers")),
    );
}

#[test]
fn trace_timers_common() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "timers-common",
        Path::new(env!("CARGO_BIN_EXE_lab07-timers")),
    );
}

#[test]
fn trace_step4() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step4",
        Path::new(env!("CARGO_BIN_EXE_lab07-step4")),
    );
}
