//! Lab 6 — signals: the loop's half of the signal path. The handler has written one byte per
//! delivered signal (the signal number) into the base's pipe; the loop's wait reported the pipe's
//! read end, and the pipe's internal event now runs `evsig_cb`. You write that callback and the
//! walk it ends with.
//!
//! Write `evsig_cb` and `evmap_signal_active` below. Everything else in this lab is minievent's
//! own code: the handler, `evsig_add` / `evsig_del` (sigaction and the pipe's event),
//! `event_signal_closure` (which runs a callback `ncalls` times), the loop and the step program.
//! `just lab 6` runs the tests; `just hint 6` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - `libc::read(fd, ptr, len)` (an `unsafe` call: say why it is sound in a `// SAFETY:` line),
//!   `std::io::Error::last_os_error()` and its `raw_os_error()`, `libc::EAGAIN`, `libc::EINTR`;
//! - `crate::signal::NSIG` (one more than the highest signal number), `crate::log::warn(&str)`
//!   (libevent's `event_warn`: one line on stderr);
//! - in `Base`: `sigmap` (`self.sigmap.events(signo)`: the events waiting for `signo`, most
//!   recently added first); `self.activate_n(id, res, ncalls)` (libevent's
//!   `event_active_nolock_(ev, res, ncalls)`: queue the event with `res`, and for a signal event
//!   remember how many times its callback must run); `crate::event::EV_SIGNAL`.

use crate::base::Base;
use std::os::fd::RawFd;

impl Base {
    /// The signal pipe's internal event fired: `fd` (its read end) is readable. Read it until it
    /// is empty, at most 1024 bytes per `read`: a failing read ends the loop (warn unless it is
    /// EAGAIN or EINTR), and so does a read of 0. Each byte read is a signal number: count how
    /// many times each signal below `NSIG` arrived. Then, for every signal that arrived, in
    /// increasing order, activate its events with that count (`evmap_signal_active`).
    ///
    /// libevent: `evsig_cb()` (signal.c).
    pub(crate) fn evsig_cb(&mut self, fd: RawFd) {
        let _ = fd; // delete this line when you use it
        todo!("lab 6: Base::evsig_cb — read chapter 7, section \"evsig_cb: reading the pipe\"")
    }

    /// Activates every event waiting for `signo`, most recently added first, with `EV_SIGNAL`
    /// and `ncalls`: its callback will run `ncalls` times.
    ///
    /// libevent: `evmap_signal_active_()` (evmap.c).
    pub(crate) fn evmap_signal_active(&mut self, signo: i32, ncalls: u32) {
        let _ = (signo, ncalls); // delete this line when you use them
        todo!(
            "lab 6: Base::evmap_signal_active — read chapter 7, section \"Activating the signal's events\""
        )
    }
}
