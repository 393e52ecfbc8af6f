//! minievent's error type: what libevent reports with `event_warn()` / `event_warnx()` and `-1`.
//!
//! libevent returns `-1` and logs the reason; minievent returns the reason as a variant a caller can
//! match (`Err(Error::StaleEvent { .. })`), and its `Display` says what libevent's log line says.

use crate::event::EventId;
use std::io;
use std::os::fd::RawFd;

/// An error from a minievent call.
///
/// libevent: a `-1` return, with the reason logged by `event_warn()` (with `strerror(errno)`) or
/// `event_warnx()` (without). The enum is `#[non_exhaustive]`: later chapters add variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed; `source` carries its errno. libevent: `event_warn()`.
    #[error("{call} failed: {source}")]
    Sys {
        /// The call as it appears in a trace, e.g. `epoll_ctl(EPOLL_CTL_ADD)`.
        call: &'static str,
        /// The OS error (`errno`).
        #[source]
        source: io::Error,
    },
    /// The id names an event that was freed (libevent would touch freed memory).
    #[error("event {id:?} does not exist: it was freed (event_free)")]
    StaleEvent {
        /// The id that was used.
        id: EventId,
    },
    /// The id was made by another base (libevent would act on the other base's event).
    #[error("event {id:?} belongs to another event base")]
    ForeignEvent {
        /// The id that was used.
        id: EventId,
    },
    /// Edge-triggered and level-triggered events on one fd. libevent: `evmap_io_add_()`'s
    /// warning (debug mode only there; always here — see Divergences).
    #[error("Tried to mix edge-triggered and non-edge-triggered events on fd {fd}")]
    MixedEdgeTrigger {
        /// The fd.
        fd: RawFd,
    },
    /// More than 65535 events of one kind on one fd. libevent: `evmap_io_add_()`.
    #[error("Too many events reading or writing on fd {fd} (more than 65535)")]
    TooManyEvents {
        /// The fd.
        fd: RawFd,
    },
    /// A priority outside the base's queues. libevent: `event_priority_set()` returns -1.
    #[error("{call}: priority {pri} is out of range: the base has {npriorities} priorities")]
    BadPriority {
        /// The call that refused it.
        call: &'static str,
        /// The priority asked for.
        pri: usize,
        /// How many the base has (valid priorities are `0..npriorities`).
        npriorities: usize,
    },
    /// An fd that cannot be open in this process: negative, or not below the hard limit on open
    /// files (`RLIMIT_NOFILE`). libevent: `evmap_make_space()` failing (at `INT_MAX / 2` there).
    #[error(
        "fd {fd} is out of range: an open fd is 0 or more and below the process's hard limit on \
         open files ({limit}; see `ulimit -Hn`)"
    )]
    FdOutOfRange {
        /// The fd.
        fd: RawFd,
        /// The hard `RLIMIT_NOFILE` when it was checked.
        limit: u64,
    },
    /// Something libevent has that minievent does not (yet), or that the chosen backend lacks.
    #[error("{what} is not supported: {why}")]
    Unsupported {
        /// The feature.
        what: &'static str,
        /// Why, and what to do instead.
        why: String,
    },
    /// `run()` was called from inside a callback of the same base. libevent: `event_base_loop()`.
    #[error(
        "event_base_loop: reentrant invocation.  Only one event_base_loop can run on each \
         event_base at once."
    )]
    Reentrant,
    /// A bufferevent's buffer is already borrowed by a `with_input` / `with_output` closure
    /// further up the stack.
    #[error("{call}: the evbuffer is in use by an enclosing with_input/with_output closure")]
    BufferBorrowed {
        /// The call that needed the buffer.
        call: &'static str,
    },
    /// Any other request libevent refuses too, without a syscall. libevent: `event_warnx()` +
    /// `return -1`.
    #[error("{0}")]
    Invalid(String),
}

/// Result alias used throughout minievent.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The errno of a failed syscall, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Sys { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Sys { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}
