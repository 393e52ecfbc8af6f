//! minievent's error type: what libevent reports with `event_warn()` / `event_warnx()` and `-1`.

use std::fmt;
use std::io;

/// An error from a minievent call.
///
/// libevent: a `-1` return, with the reason logged by `event_warn()` (with `strerror(errno)`) or
/// `event_warnx()` (without). minievent returns the reason instead of logging it.
pub enum Error {
    /// A system call failed; `source` carries its errno. libevent: `event_warn()`.
    Sys {
        /// The call as it appears in a trace, e.g. `epoll_ctl(EPOLL_CTL_ADD)`.
        call: &'static str,
        /// The OS error (`errno`).
        source: io::Error,
    },
    /// A request libevent refuses too, without any syscall. libevent: `event_warnx()` + `return -1`.
    Invalid(String),
}

/// Result alias used throughout minievent.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The errno of a failed syscall, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Sys { source, .. } => source.raw_os_error(),
            Error::Invalid(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys { call, source } => write!(f, "{call} failed: {source}"),
            Error::Invalid(why) => f.write_str(why),
        }
    }
}

impl fmt::Debug for Error {
    /// The same words as Display: `fn main() -> Result<()>` prints errors with Debug, and a reader
    /// should see `epoll_ctl(EPOLL_CTL_ADD) failed: Operation not permitted`, not a struct dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sys { source, .. } => Some(source),
            Error::Invalid(_) => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Sys { ref source, .. } => io::Error::new(source.kind(), e),
            Error::Invalid(_) => io::Error::new(io::ErrorKind::InvalidInput, e),
        }
    }
}
