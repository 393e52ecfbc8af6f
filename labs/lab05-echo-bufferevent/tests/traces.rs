//! The trace of the echo server built on your callbacks, serving one lock-step client session,
//! against minievent's snapshot traces/snapshots/echo-bufferevent.snap.

use minievent_labs_kit::check_trace;

mod common;

#[test]
fn trace_echo_bufferevent() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "echo-bufferevent",
        common::server_program(),
    );
}
