//! The one place where a failed system call (`-1` and `errno`) becomes an [`Error`].
//!
//! libevent checks `== -1` after each call and then reads `errno` (and `event_warn()` appends
//! `strerror(errno)`); minievent does the same through [`cvt`], so every error carries the errno *and*
//! the name of the call that failed. Every other `unsafe` block in the crate is a single syscall.

use crate::error::{Error, Result};
use std::io;
use std::os::fd::RawFd;

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

/// `close(fd)`. libevent ignores close's result in teardown paths and so do the callers that say so.
pub fn close(fd: RawFd) -> Result<()> {
    // SAFETY: close takes any integer; closing an fd we own is the caller's contract.
    cvt(unsafe { libc::close(fd) }, "close").map(drop)
}
