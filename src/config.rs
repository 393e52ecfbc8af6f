//! How a base is configured before it exists. libevent: `struct event_config` and
//! `event_config_new`, `event_config_avoid_method`, `event_config_require_features`,
//! `event_config_set_flag` (event.c), plus the environment variables `event_base_new_with_config` reads.

use crate::backend::{EventOp, Features, PREFERENCE};
use std::time::Duration;

// ANCHOR: base_flags
bitflags::bitflags! {
    /// Flags of a base. libevent: `enum event_base_config_flag` (`EVENT_BASE_FLAG_*`).
    #[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
    pub struct BaseFlags: u8 {
        /// Do not read `EVENT_NO<METHOD>` / `EVENT_PRECISE_TIMER` / `EVENT_EPOLL_USE_CHANGELIST`
        /// from the environment.
        /// libevent: `EVENT_BASE_FLAG_IGNORE_ENV`.
        const IGNORE_ENV = 0x02;
        /// Read the clock whenever the time is needed instead of caching it once per loop iteration.
        /// libevent: `EVENT_BASE_FLAG_NO_CACHE_TIME`.
        const NO_CACHE_TIME = 0x08;
        /// On epoll, record `event_add` / `event_del` in a changelist and make the `epoll_ctl`
        /// calls right before the next wait, one per changed fd
        /// ([`crate::backend::epoll::EpollChangelist`]). Like libevent, unsafe with fds cloned by
        /// `dup` (see the changelist chapter); also set by `EVENT_EPOLL_USE_CHANGELIST` unless
        /// IGNORE_ENV. No effect on poll and select.
        /// libevent: `EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST`.
        const EPOLL_USE_CHANGELIST = 0x10;
        /// Use `CLOCK_MONOTONIC` rather than `CLOCK_MONOTONIC_COARSE` (which moves once per kernel
        /// tick, 1–4 ms depending on the kernel's `HZ`), and on epoll a timerfd for sub-millisecond timeouts ([`crate::backend::epoll::with_timerfd`]).
        /// libevent: `EVENT_BASE_FLAG_PRECISE_TIMER`.
        const PRECISE_TIMER = 0x20;
    }
}
// ANCHOR_END: base_flags

// ANCHOR: config
/// A builder for [`Base::with_config`](crate::Base::with_config). libevent: `struct event_config`.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) avoid: Vec<String>,
    pub(crate) require: Features,
    pub(crate) flags: BaseFlags,
    pub(crate) methods: Vec<EventOp>,
    /// libevent: `cfg->max_dispatch_interval` (`tv_sec == -1`: none).
    pub(crate) max_dispatch_interval: Option<Duration>,
    /// libevent: `cfg->max_dispatch_callbacks` (`INT_MAX`: none).
    pub(crate) max_dispatch_callbacks: usize,
    /// libevent: `cfg->limit_callbacks_after_prio`.
    pub(crate) limit_callbacks_after_prio: usize,
}
// ANCHOR_END: config

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// A configuration that changes nothing. libevent: `event_config_new()`.
    pub fn new() -> Config {
        Config {
            avoid: Vec::new(),
            require: Features::NONE,
            flags: BaseFlags::default(),
            methods: PREFERENCE.to_vec(),
            max_dispatch_interval: None,
            max_dispatch_callbacks: usize::MAX,
            limit_callbacks_after_prio: 1,
        }
    }

    // ANCHOR: config_methods
    /// Never use the backend called `method` ("epoll", "poll", "select").
    /// libevent: `event_config_avoid_method()`.
    pub fn avoid_method(mut self, method: &str) -> Config {
        self.avoid.push(method.to_owned());
        self
    }

    /// Only use a backend that has all of `features`; like libevent, a second call replaces the
    /// first (pass `ET | FDS` to require both). libevent: `event_config_require_features()`.
    pub fn require_features(mut self, features: Features) -> Config {
        self.require = features;
        self
    }

    /// Sets a base flag. libevent: `event_config_set_flag()`.
    pub fn set_flag(mut self, flag: BaseFlags) -> Config {
        self.flags |= flag;
        self
    }
    // ANCHOR_END: config_methods

    // ANCHOR: max_dispatch_interval
    /// Limits how long one loop iteration runs callbacks before it checks for new events again:
    /// the callbacks of priorities `min_priority` and above (numerically: 0 is the most urgent)
    /// stop after `max_callbacks` callbacks (`usize::MAX`: no limit), or once `max_interval` has
    /// passed since the iteration started running them (`None`: no limit); more urgent priorities
    /// are never limited. Events left active run on the next iteration, after a `wait(0)`.
    /// Checked after each callback, so at least one runs. Without this call, a base limits
    /// nothing; with it, `min_priority` 0 limits every priority.
    /// libevent: `event_config_set_max_dispatch_interval()` (`max_callbacks < 0` there is no
    /// limit; `usize::MAX` here).
    pub fn max_dispatch_interval(
        mut self,
        max_interval: Option<Duration>,
        max_callbacks: usize,
        min_priority: usize,
    ) -> Config {
        self.max_dispatch_interval = max_interval;
        self.max_dispatch_callbacks = max_callbacks;
        self.limit_callbacks_after_prio = min_priority;
        self
    }
    // ANCHOR_END: max_dispatch_interval

    /// Replaces the preference table (the labs install a learner's backend this way). libevent has no
    /// such call: its table is compiled in.
    pub fn methods(mut self, methods: &[EventOp]) -> Config {
        self.methods = methods.to_vec();
        self
    }

    /// `true` if `method` was avoided. libevent: `event_config_is_avoided_method()`.
    pub(crate) fn is_avoided(&self, method: &str) -> bool {
        self.avoid.iter().any(|m| m == method)
    }
}

// ANCHOR: env
/// Reads an environment variable the way libevent's `evutil_getenv_()` does (ignored for set-uid
/// programs there; minievent has no such case).
pub(crate) fn getenv(name: &str) -> bool {
    std::env::var_os(name).is_some()
}

/// `true` when `EVENT_NO<METHOD>` (upper-cased) is set, e.g. `EVENT_NOEPOLL`.
/// libevent: `event_is_method_disabled()`.
pub(crate) fn is_method_disabled(method: &str) -> bool {
    getenv(&format!("EVENT_NO{}", method.to_ascii_uppercase()))
}
// ANCHOR_END: env
