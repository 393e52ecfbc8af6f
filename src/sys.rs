//! The one place where a failed system call (`-1` and `errno`) becomes an [`Error`].
//!
//! libevent checks `== -1` after each call and then reads `errno` (and `event_warn()` appends
//! `strerror(errno)`); minievent does the same through [`cvt`], so every error carries the errno *and*
//! the name of the call that failed. Every other `unsafe` block in the crate is a single syscall.

use crate::error::{Error, Result};
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};

/// Turns a syscall's return value into `Ok(value)` or, for `-1`, an [`Error::Sys`] naming `call`.
pub fn cvt(ret: libc::c_int, call: &'static str) -> Result<libc::c_int> {
    if ret == -1 {
        Err(Error::Sys {
            call,
            source: io::Error::last_os_error(),
        })
    } else {
        Ok(ret)
    }
}

/// Like [`cvt`] for calls that return `ssize_t` (read, write, readv, writev).
pub fn cvt_size(ret: libc::ssize_t, call: &'static str) -> Result<usize> {
    if ret < 0 {
        Err(Error::Sys {
            call,
            source: io::Error::last_os_error(),
        })
    } else {
        Ok(ret as usize)
    }
}

/// `close(fd)`, reporting its error (dropping an `OwnedFd` ignores it).
///
/// # Safety
/// The caller owns `fd` and nothing uses it afterwards: no `OwnedFd` or `File` elsewhere holds
/// it, and no pending event of a base waits on it — std's I/O safety rule for closing an fd.
/// Safe code cannot call it:
///
/// ```compile_fail,E0133
/// minievent::sys::close(0);
/// ```
pub unsafe fn close(fd: RawFd) -> Result<()> {
    // SAFETY: close takes any integer; owning `fd` is the caller's contract.
    cvt(unsafe { libc::close(fd) }, "close").map(drop)
}

/// Closes an fd this code owns with one `close(2)`, and reports close's error (dropping an
/// `OwnedFd` ignores it). libevent: `evutil_closesocket()`.
///
/// Also the reason to prefer it over `drop`: in debug builds, std's `OwnedFd::drop` first checks
/// the fd with `fcntl(fd, F_GETFD)`, a syscall libevent does not make, which would show up in
/// every trace of a debug-built program.
pub fn close_owned(fd: OwnedFd) -> Result<()> {
    // SAFETY: into_raw_fd gave up ownership of an open fd: closing it is ours to do, once.
    cvt(unsafe { libc::close(fd.into_raw_fd()) }, "close").map(drop)
}

/// An fd owned by a minievent structure (the epoll fd, the signal pipe, a bufferevent's socket):
/// an [`OwnedFd`], closed with [`close_owned`] when dropped, so that teardown makes exactly the
/// `close(2)` libevent makes, in debug builds too.
#[derive(Debug)]
pub struct Fd(ManuallyDrop<OwnedFd>);

impl From<OwnedFd> for Fd {
    fn from(fd: OwnedFd) -> Fd {
        Fd(ManuallyDrop::new(fd))
    }
}

impl Fd {
    /// Gives the fd back, open: the caller owns it again. libevent has no counterpart (it never
    /// owned the fd); minievent uses it for a listener made without `LEV_OPT_CLOSE_ON_FREE`.
    pub fn into_owned(self) -> OwnedFd {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: `me` is never dropped, so the field is taken exactly once and never closed here.
        unsafe { ManuallyDrop::take(&mut me.0) }
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: drop runs once and nothing uses the field after it: taking it out is sound.
        let fd = unsafe { ManuallyDrop::take(&mut self.0) };
        // Teardown: a failing close has nowhere to be reported (libevent ignores it too).
        let _ = close_owned(fd);
    }
}

/// `close(fd)` for the unit tests, which close only fds they made themselves.
#[cfg(test)]
pub(crate) fn close_own(fd: RawFd) -> Result<()> {
    // SAFETY: the tests pass only fds they made and own.
    unsafe { close(fd) }
}
