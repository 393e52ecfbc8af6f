//! The poll backend. libevent: poll.c (`pollops`).
//!
//! poll has no kernel-side interest list: the backend keeps the `pollfd` array itself, so `add` and
//! `del` make no syscall at all, and every `dispatch` hands the whole array to `poll()`.

use super::{Backend, EventOp, Features, timeout_msec};
use crate::error::Result;
use crate::event::{EV_CLOSED, EV_READ, EV_WRITE, Ev};
use crate::sys::cvt;
use std::os::fd::RawFd;
use std::time::Duration;

/// The poll row of the preference table. libevent: `pollops`.
pub const POLLOPS: EventOp = EventOp {
    name: "poll",
    features: Features::FDS.union(Features::EARLY_CLOSE),
    init: Poll::init,
};

/// State of the poll backend. libevent: `struct pollop`.
pub struct Poll {
    /// The array handed to poll(); its length is libevent's `nfds`.
    event_set: Vec<libc::pollfd>,
    /// For each fd, its index in `event_set` plus one (0: absent). libevent keeps this `idxplus1`
    /// in evmap's per-fd extra space (`fdinfo_len`).
    idxplus1: Vec<usize>,
}

impl Poll {
    /// libevent: `poll_init()` — no syscall.
    pub fn init() -> Result<Box<dyn Backend>> {
        Ok(Box::new(Poll {
            event_set: Vec::new(),
            idxplus1: Vec::new(),
        }))
    }

    fn slot(&mut self, fd: RawFd) -> &mut usize {
        let fd = fd as usize;
        if fd >= self.idxplus1.len() {
            self.idxplus1.resize(fd + 1, 0);
        }
        &mut self.idxplus1[fd]
    }
}

/// The poll bits for `EV_READ` / `EV_WRITE` / `EV_CLOSED`.
fn poll_bits(events: Ev) -> libc::c_short {
    let mut bits = 0;
    if events.contains(EV_READ) {
        bits |= libc::POLLIN;
    }
    if events.contains(EV_WRITE) {
        bits |= libc::POLLOUT;
    }
    if events.contains(EV_CLOSED) {
        bits |= libc::POLLRDHUP;
    }
    bits
}

impl Backend for Poll {
    /// Finds or appends the fd's `pollfd` and sets the bits. libevent: `poll_add()`.
    fn add(&mut self, fd: RawFd, _old: Ev, events: Ev) -> Result<()> {
        let bits = poll_bits(events);
        if bits == 0 {
            return Ok(());
        }
        let next = self.event_set.len();
        let slot = self.slot(fd);
        if *slot == 0 {
            *slot = next + 1;
            self.event_set.push(libc::pollfd {
                fd,
                events: 0,
                revents: 0,
            });
        }
        let i = *self.slot(fd) - 1;
        let pfd = &mut self.event_set[i];
        pfd.revents = 0;
        pfd.events |= bits;
        Ok(())
    }

    /// Clears the bits; an fd left with none is removed by moving the last entry into its place.
    /// libevent: `poll_del()`.
    fn del(&mut self, fd: RawFd, _old: Ev, events: Ev) -> Result<()> {
        let bits = poll_bits(events);
        if bits == 0 {
            return Ok(());
        }
        let i = match *self.slot(fd) {
            0 => return Ok(()),
            plus1 => plus1 - 1,
        };
        let pfd = &mut self.event_set[i];
        pfd.events &= !bits;
        if pfd.events != 0 {
            return Ok(());
        }
        *self.slot(fd) = 0;
        self.event_set.swap_remove(i);
        if let Some(moved) = self.event_set.get(i) {
            let moved_fd = moved.fd;
            *self.slot(moved_fd) = i + 1;
        }
        Ok(())
    }

    // ANCHOR: dispatch
    /// One `poll()` over the whole array, then the mapping of each `revents`. libevent:
    /// `poll_dispatch()` (which starts the scan at a random entry; see Divergences).
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let msec = match timeout {
            None => -1,
            Some(t) => timeout_msec(t).min(libc::c_int::MAX as u128) as libc::c_int,
        };
        let nfds = self.event_set.len() as libc::nfds_t;
        // libevent's array is NULL until the first poll_add allocates it, and stays allocated
        // after (strace: `poll(NULL, 0, ...)` on a base that never had an fd, `poll([], 0, ...)`
        // on one whose fds are all gone); an unallocated Vec's pointer is not NULL.
        let fds = if self.event_set.capacity() == 0 {
            std::ptr::null_mut()
        } else {
            self.event_set.as_mut_ptr()
        };
        // SAFETY: fds is NULL with nfds 0, or event_set's array with nfds valid pollfd entries.
        let res = unsafe { libc::poll(fds, nfds, msec) };
        match cvt(res, "poll") {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(()),
            Err(e) => return Err(e),
        }
        for pfd in &self.event_set {
            let mut what = pfd.revents;
            if what == 0 {
                continue; // most fds are not ready: one test, as poll_dispatch's `if (!what)`
            }
            if what & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                what |= libc::POLLIN | libc::POLLOUT;
            }
            let mut res = Ev::NONE;
            if what & libc::POLLIN != 0 {
                res |= EV_READ;
            }
            if what & libc::POLLOUT != 0 {
                res |= EV_WRITE;
            }
            if what & libc::POLLRDHUP != 0 {
                res |= EV_CLOSED;
            }
            if !res.is_empty() {
                ready.push((pfd.fd, res));
            }
        }
        Ok(())
    }
    // ANCHOR_END: dispatch
}
