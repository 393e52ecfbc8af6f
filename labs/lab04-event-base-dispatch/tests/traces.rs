//! The traces of the chapter's step program and of the echo server (one lock-step client session),
//! built on your code, against minievent's snapshots in traces/snapshots/.

use minievent_labs_kit::check_trace;
use std::path::Path;

#[test]
fn trace_step4() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step4",
        Path::new(env!("CARGO_BIN_EXE_lab04-step4")),
    );
}

#[test]
fn trace_echo_event() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "echo-event",
        Path::new(env!("CARGO_BIN_EXE_lab04-echo_event")),
    );
}
