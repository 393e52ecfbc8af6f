//! The monotonic clock. libevent: evutil_time.c (`evutil_configure_monotonic_time_`,
//! `evutil_gettime_monotonic_`) on Linux.
//!
//! libevent reads `CLOCK_MONOTONIC_COARSE` — cheap, but it only moves once per kernel tick (4 ms on
//! this project's machines) — unless the base was made with `EVENT_BASE_FLAG_PRECISE_TIMER` or
//! `EVENT_PRECISE_TIMER` is set, when it reads `CLOCK_MONOTONIC`. Both are vDSO calls: no syscall shows
//! up in a trace. Times are truncated to microseconds, because libevent keeps them in a `timeval`.

use std::time::Duration;

/// Which clock a base reads. libevent: `struct evutil_monotonic_timer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonotonicTimer {
    clock: libc::clockid_t,
}

impl MonotonicTimer {
    // ANCHOR: clock
    /// libevent: `evutil_configure_monotonic_time_()` (`precise` is `EV_MONOT_PRECISE`).
    pub fn new(precise: bool) -> MonotonicTimer {
        let clock = if precise {
            libc::CLOCK_MONOTONIC
        } else {
            libc::CLOCK_MONOTONIC_COARSE
        };
        MonotonicTimer { clock }
    }
    // ANCHOR_END: clock

    /// The clock it reads: `CLOCK_MONOTONIC` or `CLOCK_MONOTONIC_COARSE`.
    /// libevent: `monotonic_timer.monotonic_clock`.
    pub fn clock_id(&self) -> libc::clockid_t {
        self.clock
    }

    /// The current time. libevent: `evutil_gettime_monotonic_()`.
    pub fn now(&self) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid timespec; both clocks exist on every Linux this crate builds for, so
        // the call cannot fail (it is answered by the vDSO).
        unsafe { libc::clock_gettime(self.clock, &mut ts) };
        Duration::new(ts.tv_sec as u64, (ts.tv_nsec as u32 / 1000) * 1000)
    }
}

/// The wall-clock time since the Unix epoch, in microseconds as a `timeval` has them.
/// libevent: `evutil_gettimeofday()` (`gettimeofday(2)`, answered by the vDSO: no trace line).
pub fn gettimeofday() -> Duration {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: tv is a valid timeval and the timezone argument may be null; gettimeofday cannot
    // fail with valid pointers.
    unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
    Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000)
}
