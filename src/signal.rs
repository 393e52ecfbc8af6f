//! The signal pipe every libevent base creates. libevent: signal.c (`evsig_init_`, `evsig_dealloc_`).
//!
//! Each of libevent's Linux backends ends its `init` with `evsig_init_(base)`, which makes an internal
//! pipe (`pipe2(O_NONBLOCK|O_CLOEXEC)`, via `evutil_make_internal_pipe_`) for signal handlers to write
//! to. It is created whether or not signals are ever used, so it is in every trace of `event_base_new`:
//! minievent creates it too, right after the backend, and closes it before the backend on teardown,
//! in libevent's order. Signal *events* themselves arrive with a later chapter.

use crate::error::Result;
use crate::sys::{self, cvt};
use std::os::fd::RawFd;

/// The two ends of the signal pipe. libevent: `base->sig.ev_signal_pair`.
#[derive(Debug)]
pub struct Evsig {
    pair: [RawFd; 2],
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
        Ok(Evsig { pair })
    }
    // ANCHOR_END: evsig_init
}

impl Drop for Evsig {
    /// libevent: `evsig_dealloc_()` closes both ends, read end first.
    fn drop(&mut self) {
        for fd in self.pair {
            // Teardown: a failing close has nothing to report to (libevent ignores it too).
            let _ = sys::close(fd);
        }
    }
}
