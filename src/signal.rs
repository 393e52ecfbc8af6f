//! The signal pipe every libevent base creates. libevent: signal.c (`evsig_init_`, `evsig_dealloc_`).
//!
//! Each of libevent's Linux backends ends its `init` with `evsig_init_(base)`, which makes an internal
//! pipe (`pipe2(O_NONBLOCK|O_CLOEXEC)`, via `evutil_make_internal_pipe_`) for signal handlers to write
//! to. It is created whether or not signals are ever used, so it is in every trace of `event_base_new`:
//! minievent creates it too, right after the backend, and closes it before the backend on teardown,
//! in libevent's order. Signal *events* themselves arrive with a later chapter.

use crate::error::Result;
use crate::sys::{Fd, cvt};
use std::os::fd::{FromRawFd, OwnedFd};

/// The two ends of the signal pipe, closed (read end first) when dropped, as `evsig_dealloc_()`
/// closes them. libevent: `base->sig.ev_signal_pair`.
#[derive(Debug)]
pub struct Evsig {
    /// `[read end, write end]`, dropped in that order.
    #[expect(
        dead_code,
        reason = "held only so that dropping the base closes the pipe (signal events: issue 10)"
    )]
    pair: [Fd; 2],
}

impl Evsig {
    // ANCHOR: evsig_init
    /// libevent: `evsig_init_()`.
    pub fn init() -> Result<Evsig> {
        let mut pair = [-1; 2];
        // SAFETY: pair has room for the two fds pipe2 writes.
        cvt(
            unsafe { libc::pipe2(pair.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) },
            "pipe2",
        )?;
        // SAFETY: pipe2 succeeded: both fds are open and nobody else owns them.
        let pair = pair.map(|fd| Fd::from(unsafe { OwnedFd::from_raw_fd(fd) }));
        Ok(Evsig { pair })
    }
    // ANCHOR_END: evsig_init
}
