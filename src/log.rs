//! Warnings on stderr, worded and framed as libevent's log.c does, so traces of both show the same
//! `write(2, ...)`. libevent: `event_warn()`, `event_warnx()`, `event_msgx()` with the default log
//! callback, which prints `[severity] message\n` in one write.

use crate::error::Error;
use std::ffi::CStr;
use std::io::Write;

/// Writes `[warn] message` to stderr. libevent: `event_warnx()` (and `event_warn()`, whose message
/// the caller ends with `": " + strerror(errno)`, see [`strerror`]).
pub fn warn(message: &str) {
    emit("warn", message);
}

/// Writes `[msg] message` to stderr. libevent: `event_msgx()`.
pub fn msg(message: &str) {
    emit("msg", message);
}

/// The C library's text for an error's errno (`Operation not permitted`), as `event_warn()` appends it.
pub fn strerror(err: &Error) -> String {
    match err.raw_os_error() {
        Some(errno) => {
            // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local string.
            let text = unsafe { CStr::from_ptr(libc::strerror(errno)) };
            text.to_string_lossy().into_owned()
        }
        None => err.to_string(),
    }
}

/// One line, one `write(2, ...)`: stderr is unbuffered, so the line is formatted first.
fn emit(severity: &str, message: &str) {
    let line = format!("[{severity}] {message}\n");
    // A failed write to stderr has nowhere to be reported; libevent ignores it as well.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
