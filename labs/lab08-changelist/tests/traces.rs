//! The `-changelist` scenarios (EVENT_EPOLL_USE_CHANGELIST=1), built on your changelist: each
//! trace must equal minievent's snapshot in traces/snapshots/ and, where minievent has no
//! divergence from libevent there, real libevent's trace in traces/libevent/ — the same
//! `epoll_ctl` calls, in the same order, made right before the same `epoll_wait`s.

use minievent_labs_kit::{check_trace, check_trace_and_libevent};
use std::path::Path;

/// Chapter 3's step program: every add and del of an iteration cancel out, so not one
/// `epoll_ctl` is left (and the fallbacks chapter 3 provoked are never needed).
#[test]
fn trace_step3_changelist() {
    check_trace_and_libevent(
        env!("CARGO_PKG_NAME"),
        "step3-changelist",
        Path::new(env!("CARGO_BIN_EXE_lab08-step3")),
    );
}

/// Chapter 4's step program: 33 fds added at once, their changes applied in first-change order.
#[test]
fn trace_step4_changelist() {
    check_trace_and_libevent(
        env!("CARGO_PKG_NAME"),
        "step4-changelist",
        Path::new(env!("CARGO_BIN_EXE_lab08-step4")),
    );
}

/// Chapter 6's step program: a bufferevent enabling and disabling reading and writing.
#[test]
fn trace_step6_changelist() {
    check_trace_and_libevent(
        env!("CARGO_PKG_NAME"),
        "step6-changelist",
        Path::new(env!("CARGO_BIN_EXE_lab08-step6")),
    );
}

/// The bufferevent echo server, one lock-step client: the del of a closed connection's fd is
/// applied after the close (and fails with EBADF, as libevent's does).
#[test]
fn trace_echo_bufferevent_changelist() {
    check_trace_and_libevent(
        env!("CARGO_PKG_NAME"),
        "echo-bufferevent-changelist",
        Path::new(env!("CARGO_BIN_EXE_lab08-echo_bufferevent")),
    );
}

/// Chapter 7's fork: `event_reinit` adds every fd again, in the order the changelist keeps.
/// Against minievent's snapshot only: libevent's trace has two more `close` lines here
/// (traces/DIVERGENCES.md, divergence 18).
#[test]
fn trace_step7_fork_changelist() {
    check_trace(
        env!("CARGO_PKG_NAME"),
        "step7-fork-changelist",
        Path::new(env!("CARGO_BIN_EXE_lab08-step7_fork")),
    );
}
