//! The backend seam: libevent's `struct eventop` and its `eventops[]` preference table.
//!
//! A backend owns one kernel interface (epoll, poll or select). The event loop never calls the kernel
//! to wait: it asks the backend, through the four operations libevent's `struct eventop` has
//! (`init`, `add`, `del`, `dispatch`; `dealloc` is `Drop`). The labs plug a learner's backend in here.

pub mod epoll;
pub mod poll;
pub mod select;

use crate::error::Result;
use crate::event::Ev;
use std::fmt;
use std::os::fd::RawFd;
use std::time::Duration;

// ANCHOR: features
bitflags::bitflags! {
    /// What a backend can do. libevent: `enum event_method_feature` (`EV_FEATURE_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Features: u8 {
        /// Edge-triggered events (`EV_ET`) are supported. libevent: `EV_FEATURE_ET`.
        const ET = 0x01;
        /// Adding, deleting and activating one event is O(1). libevent: `EV_FEATURE_O1`.
        const O1 = 0x02;
        /// Any kind of fd works, not only sockets. libevent: `EV_FEATURE_FDS`.
        const FDS = 0x04;
        /// `EV_CLOSED` is reported without reading all pending data first. libevent: `EV_FEATURE_EARLY_CLOSE`.
        const EARLY_CLOSE = 0x08;
    }
}
// ANCHOR_END: features

impl Features {
    /// No feature at all.
    pub const NONE: Features = Features::empty();
}

impl fmt::Debug for Features {
    /// Lists the set features as the step programs print them: ` ET O1 FDS EARLY_CLOSE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.iter_names()
            .try_for_each(|(name, _)| write!(f, " {name}"))
    }
}

// ANCHOR: backend_trait
/// A kernel event-notification interface. libevent: `struct eventop` (its function pointers).
///
/// `old` is the set of events (`EV_READ | EV_WRITE | EV_CLOSED`) the fd had before this call, and
/// `events` is what changes (with `EV_ET` when the event is edge-triggered) — exactly the arguments
/// evmap passes to `evsel->add` / `evsel->del`.
///
/// `Any` lets a base find out whether the backend an `init` made is the plain [`epoll::Epoll`],
/// to put the changelist in front of it ([`epoll::EpollChangelist`]).
pub trait Backend: std::any::Any {
    /// Start watching `events` on `fd`. libevent: `eventop.add`.
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()>;
    /// Stop watching `events` on `fd`. libevent: `eventop.del`.
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()>;
    /// Wait at most `timeout` (`None`: forever) and push every ready fd with what it is ready for
    /// (`EV_READ`, `EV_WRITE`, `EV_CLOSED`) onto `ready`; the base then runs `evmap_io_active_` on each.
    /// An interrupted wait (EINTR) is not an error. libevent: `eventop.dispatch`.
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()>;
}
// ANCHOR_END: backend_trait

// ANCHOR: eventop
/// One row of the preference table: a backend's name, features and constructor.
/// libevent: `struct eventop` (`name`, `features`, `init`).
#[derive(Clone, Copy)]
pub struct EventOp {
    /// The method name (`event_base_get_method()`), also used by `EVENT_NO<NAME>` and avoid_method.
    pub name: &'static str,
    /// What the backend supports.
    pub features: Features,
    /// Creates the backend (its kernel object, if any). libevent: `eventop.init`.
    pub init: fn() -> Result<Box<dyn Backend>>,
}
// ANCHOR_END: eventop

impl fmt::Debug for EventOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventOp({}, features:{:?})", self.name, self.features)
    }
}

// ANCHOR: preference
/// The backends in the order `event_base_new` tries them. libevent: `eventops[]` in event.c, which on
/// Linux lists epoll, then poll, then select (evport, kqueue, devpoll and win32 are compiled out).
pub const PREFERENCE: &[EventOp] = &[epoll::EPOLLOPS, poll::POLLOPS, select::SELECTOPS];
// ANCHOR_END: preference

/// The names of the backends minievent has, in preference order: `["epoll", "poll", "select"]`.
/// Like libevent's, the list is what was built in, whether or not `EVENT_NO*` or a config
/// avoids one. libevent: `event_get_supported_methods()`.
pub fn supported_methods() -> Vec<&'static str> {
    PREFERENCE.iter().map(|op| op.name).collect()
}

// ANCHOR: timeout_msec
/// Milliseconds for a kernel timeout, rounded *up*, as libevent's `evutil_tv_to_msec_()` does
/// (a timeval has microseconds: `sec * 1000 + (usec + 999) / 1000`), so a wait never ends early.
pub fn timeout_msec(timeout: Duration) -> u128 {
    // The whole seconds are whole milliseconds; only the microseconds round. (No 128-bit
    // division: this runs before every wait.)
    u128::from(timeout.as_secs()) * 1000 + u128::from(timeout.subsec_micros().div_ceil(1000))
}
// ANCHOR_END: timeout_msec
