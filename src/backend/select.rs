//! The select backend. libevent: select.c (`selectops`).
//!
//! Two fd_sets (read, write) kept by the backend; `add` and `del` flip bits without a syscall, and
//! `dispatch` copies them and calls `select()` (which glibc makes as `pselect6`).

use super::{Backend, EventOp, Features};
use crate::error::{Error, Result};
use crate::event::{EV_READ, EV_WRITE, Ev};
use crate::sys::cvt;
use std::os::fd::RawFd;
use std::time::Duration;

/// The select row of the preference table. libevent: `selectops`.
pub const SELECTOPS: EventOp = EventOp {
    name: "select",
    features: Features::FDS,
    init: Select::init,
};

/// State of the select backend. libevent: `struct selectop`.
pub struct Select {
    /// The highest fd ever added (it never shrinks), 0 before any: libevent's `selectop` is
    /// calloc'ed, so a base that never had an fd selects with nfds 1. libevent: `event_fds`.
    event_fds: RawFd,
    readset_in: libc::fd_set,
    writeset_in: libc::fd_set,
}

/// An empty fd_set.
fn empty_set() -> libc::fd_set {
    let mut set = std::mem::MaybeUninit::<libc::fd_set>::uninit();
    // SAFETY: FD_ZERO initialises every byte of the set.
    unsafe {
        libc::FD_ZERO(set.as_mut_ptr());
        set.assume_init()
    }
}

impl Select {
    /// libevent: `select_init()` — no syscall.
    pub fn init() -> Result<Box<dyn Backend>> {
        Ok(Box::new(Select {
            event_fds: 0,
            readset_in: empty_set(),
            writeset_in: empty_set(),
        }))
    }
}

/// Refuses fds an `fd_set` cannot hold (see Divergences: libevent grows its sets instead).
fn check_fd(fd: RawFd) -> Result<()> {
    if !(0..libc::FD_SETSIZE as RawFd).contains(&fd) {
        return Err(Error::Unsupported {
            what: "select with an fd at or above FD_SETSIZE",
            why: format!(
                "fd {fd} is not below FD_SETSIZE ({}), so select()'s fd_set cannot hold it; use \
                 the poll or epoll backend for it",
                libc::FD_SETSIZE
            ),
        });
    }
    Ok(())
}

impl Backend for Select {
    /// libevent: `select_add()`.
    fn add(&mut self, fd: RawFd, _old: Ev, events: Ev) -> Result<()> {
        check_fd(fd)?;
        self.event_fds = self.event_fds.max(fd);
        // SAFETY: fd is within FD_SETSIZE (checked) and the sets are initialised.
        unsafe {
            if events.contains(EV_READ) {
                libc::FD_SET(fd, &mut self.readset_in);
            }
            if events.contains(EV_WRITE) {
                libc::FD_SET(fd, &mut self.writeset_in);
            }
        }
        Ok(())
    }

    /// libevent: `select_del()`.
    fn del(&mut self, fd: RawFd, _old: Ev, events: Ev) -> Result<()> {
        if fd > self.event_fds {
            return Ok(());
        }
        check_fd(fd)?;
        // SAFETY: fd is within FD_SETSIZE (checked) and the sets are initialised.
        unsafe {
            if events.contains(EV_READ) {
                libc::FD_CLR(fd, &mut self.readset_in);
            }
            if events.contains(EV_WRITE) {
                libc::FD_CLR(fd, &mut self.writeset_in);
            }
        }
        Ok(())
    }

    // ANCHOR: dispatch
    /// Copies the sets and calls `select()`. libevent: `select_dispatch()` (which starts the scan at a
    /// random fd; see Divergences).
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let mut readset = self.readset_in;
        let mut writeset = self.writeset_in;
        let mut tv = timeout.map(|t| libc::timeval {
            // A timeout longer than time_t holds (Duration::MAX) waits as long as it can.
            tv_sec: t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        });
        let tvp = tv
            .as_mut()
            .map_or(std::ptr::null_mut(), |tv| tv as *mut libc::timeval);
        let nfds = self.event_fds + 1;
        // SAFETY: the sets and the timeval (or NULL) are valid for the call.
        let res =
            unsafe { libc::select(nfds, &mut readset, &mut writeset, std::ptr::null_mut(), tvp) };
        match cvt(res, "select") {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(()),
            Err(e) => return Err(e),
        }
        for fd in 0..nfds {
            let mut res = Ev::NONE;
            // SAFETY: fd < nfds <= FD_SETSIZE.
            unsafe {
                if libc::FD_ISSET(fd, &readset) {
                    res |= EV_READ;
                }
                if libc::FD_ISSET(fd, &writeset) {
                    res |= EV_WRITE;
                }
            }
            if !res.is_empty() {
                ready.push((fd, res));
            }
        }
        Ok(())
    }
    // ANCHOR_END: dispatch
}
