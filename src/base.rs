//! The event base: what `event_base_new` builds and everything else hangs off.
//! libevent: event.c (`struct event_base`, `event_base_new_with_config`, `event_base_free`,
//! `event_base_get_method`, `event_base_get_features`, `event_base_priority_init`).

use crate::backend::{Backend, EventOp, Features};
use crate::config::{self, BaseFlags, Config};
use crate::error::{Error, Result};
use crate::event::{
    ActiveQueue, EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, EV_WRITE, Ev, Event,
    EventId,
};
use crate::evmap::{IoMap, SignalMap};
use crate::minheap::{HeapIndex, MinHeap};
use crate::signal::Evsig;
use crate::time::MonotonicTimer;
use std::io::Write;
use std::ops::ControlFlow;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The next [`Base::id`]; ids start at 1 and a process that makes 2^32 bases wraps around.
static NEXT_BASE_ID: AtomicU32 = AtomicU32::new(1);

/// How often, in seconds, [`Base::gettime`] re-measures wall-clock minus monotonic time.
/// libevent: `CLOCK_SYNC_INTERVAL`.
pub const CLOCK_SYNC_INTERVAL: u64 = 5;

/// libevent: `EVENT_MAX_PRIORITIES`.
pub const EVENT_MAX_PRIORITIES: usize = 256;

/// One slot of the event table; the generation tells a freed-and-reused slot from the event an old
/// [`EventId`] named.
#[derive(Default)]
pub(crate) struct Slot {
    pub generation: u32,
    pub event: Option<Event>,
}

// ANCHOR: base
/// An event base. libevent: `struct event_base`.
///
/// Field order is drop order: the signal pipe is closed before the backend, as `epoll_dealloc()`
/// calls `evsig_dealloc_()` before closing the epoll fd.
pub struct Base {
    /// libevent: `base->sig`: the signal pipe (closed when the base is dropped), the internal event
    /// on it and the saved signal actions.
    pub(crate) sig: Evsig,
    /// This base's identity, stamped into every [`EventId`] it makes (libevent has none: a
    /// `struct event` points at its base).
    pub(crate) id: u32,
    /// Every fd event_add accepts is below this: the hard `RLIMIT_NOFILE`, read when first needed
    /// and again when an fd is not below it (see [`Base::check_fd`]).
    pub(crate) fd_limit: u64,
    /// libevent: `base->evsel` + `base->evbase`.
    pub(crate) backend: Box<dyn Backend>,
    /// libevent: `base->evsel` (name and features).
    pub(crate) method: EventOp,
    /// libevent: `base->flags`.
    pub(crate) flags: BaseFlags,
    /// fd → events. libevent: `base->io`.
    pub(crate) io: IoMap,
    /// signal number → events. libevent: `base->sigmap`.
    pub(crate) sigmap: SignalMap,
    /// Pending timeouts. libevent: `base->timeheap`.
    pub(crate) timeheap: MinHeap,
    /// One FIFO of active events per priority. libevent: `base->activequeues`.
    pub(crate) activequeues: Vec<ActiveQueue>,
    /// Events inserted or with a pending timeout. libevent: `base->event_count`.
    pub(crate) event_count: usize,
    /// Events on an active queue. libevent: `base->event_count_active`.
    pub(crate) event_count_active: usize,
    /// Active events that are not the base's own. libevent counts them in `base->event_count`
    /// as well (`event_queue_insert_active` increments both); minievent's `event_count` leaves
    /// them out, so [`Base::get_num_events`] adds this.
    pub(crate) event_count_active_user: usize,
    /// The most `event_count + event_count_active_user` has been. libevent: `base->event_count_max`.
    pub(crate) event_count_max: usize,
    /// The most `event_count_active` has been. libevent: `base->event_count_active_max`.
    pub(crate) event_count_active_max: usize,
    /// The event whose callback is running. libevent: `base->current_event`.
    pub(crate) current_event: Option<EventId>,
    /// Every event, by [`EventId`] (libevent's events are the caller's memory; here the base owns them).
    pub(crate) events: Vec<Slot>,
    pub(crate) free_slots: Vec<u32>,
    /// libevent: `base->monotonic_timer`.
    pub(crate) clock: MonotonicTimer,
    /// The time read once per loop iteration. libevent: `base->tv_cache`.
    pub(crate) tv_cache: Option<Duration>,
    /// Wall-clock time minus monotonic time, re-measured by [`Base::gettime`] at most every
    /// [`CLOCK_SYNC_INTERVAL`] seconds. libevent: `base->tv_clock_diff`.
    pub(crate) tv_clock_diff: Duration,
    /// The monotonic second at which `tv_clock_diff` was last measured.
    /// libevent: `base->last_updated_clock_diff`.
    pub(crate) last_updated_clock_diff: u64,
    /// How long one `process_active` may run callbacks of the limited priorities (`None`: no
    /// limit). libevent: `base->max_dispatch_time` (`tv_sec == -1`: none).
    pub(crate) max_dispatch_time: Option<Duration>,
    /// How many callbacks of the limited priorities one `process_active` runs at most.
    /// libevent: `base->max_dispatch_callbacks` (`INT_MAX`: no limit).
    pub(crate) max_dispatch_callbacks: usize,
    /// Priorities from this one on are limited. libevent: `base->limit_callbacks_after_prio`.
    pub(crate) limit_callbacks_after_prio: usize,
    /// The common-timeout queues. libevent: `base->common_timeout_queues`.
    pub(crate) common_timeout_queues: Vec<crate::common_timeout::CommonTimeoutList>,
    /// Scratch list the backend fills with ready fds on each dispatch.
    pub(crate) ready: Vec<(RawFd, crate::event::Ev)>,
    /// libevent: `running_loop`, `event_gotterm`, `event_break`, `event_continue`,
    /// `event_running_priority`.
    pub(crate) running_loop: bool,
    pub(crate) event_gotterm: bool,
    pub(crate) event_break: bool,
    pub(crate) event_continue: bool,
    pub(crate) event_running_priority: Option<usize>,
}
// ANCHOR_END: base

impl Base {
    /// A base with the default configuration. libevent: `event_base_new()`.
    pub fn new() -> Result<Base> {
        Base::with_config(&Config::new())
    }

    // ANCHOR: with_config
    /// A base configured by `cfg`. libevent: `event_base_new_with_config()`.
    ///
    /// Walks the preference table and initialises the first backend that is not avoided, has every
    /// required feature and is not disabled by `EVENT_NO<METHOD>` (unless IGNORE_ENV). A backend
    /// whose init fails is skipped like a disabled one. Then the signal pipe, then one active queue.
    pub fn with_config(cfg: &Config) -> Result<Base> {
        let check_env = !cfg.flags.contains(BaseFlags::IGNORE_ENV);
        let mut flags = cfg.flags;
        if check_env && config::getenv("EVENT_PRECISE_TIMER") {
            flags |= BaseFlags::PRECISE_TIMER;
        }
        let clock = MonotonicTimer::new(flags.contains(BaseFlags::PRECISE_TIMER));

        // libevent: the max_dispatch_* lines of event_base_new_with_config(); with neither limit
        // set, no priority is limited.
        let max_dispatch_time = cfg.max_dispatch_interval;
        let max_dispatch_callbacks = cfg.max_dispatch_callbacks;
        let limit_callbacks_after_prio =
            if max_dispatch_callbacks == usize::MAX && max_dispatch_time.is_none() {
                usize::MAX
            } else {
                cfg.limit_callbacks_after_prio
            };

        let (mut method, mut backend) = choose_backend(cfg, check_env)?;
        if method.name == "epoll" {
            (method, backend) = epoll_variants(method, backend, flags, check_env, &clock);
        }
        let sig = Evsig::init()?;
        if config::getenv("EVENT_SHOW_METHOD") {
            crate::log::msg(&format!("libevent using: {}", method.name));
        }
        Ok(Base {
            sig,
            id: NEXT_BASE_ID.fetch_add(1, Ordering::Relaxed),
            fd_limit: 0,
            backend,
            method,
            flags,
            io: IoMap::default(),
            sigmap: SignalMap::default(),
            timeheap: MinHeap::default(),
            activequeues: vec![ActiveQueue::EMPTY],
            event_count: 0,
            event_count_active: 0,
            event_count_active_user: 0,
            event_count_max: 0,
            event_count_active_max: 0,
            current_event: None,
            events: Vec::new(),
            free_slots: Vec::new(),
            clock,
            tv_cache: None,
            tv_clock_diff: Duration::ZERO,
            last_updated_clock_diff: 0,
            max_dispatch_time,
            max_dispatch_callbacks,
            limit_callbacks_after_prio,
            common_timeout_queues: Vec::new(),
            ready: Vec::new(),
            running_loop: false,
            event_gotterm: false,
            event_break: false,
            event_continue: false,
            event_running_priority: None,
        })
    }
    // ANCHOR_END: with_config

    /// The backend's name: "epoll", "poll" or "select". libevent: `event_base_get_method()`.
    pub fn method(&self) -> &'static str {
        self.method.name
    }

    /// The backend's features. libevent: `event_base_get_features()`.
    pub fn features(&self) -> Features {
        self.method.features
    }

    // ANCHOR: priority_init
    /// Sets the number of priorities (active queues); events then default to the middle one.
    /// Refused while events are active, or outside 1..256. libevent: `event_base_priority_init()`.
    pub fn priority_init(&mut self, npriorities: usize) -> Result<()> {
        if self.event_count_active > 0 {
            return Err(Error::Invalid(
                "event_base_priority_init: cannot change priorities while events are active".into(),
            ));
        }
        if !(1..EVENT_MAX_PRIORITIES).contains(&npriorities) {
            return Err(Error::Invalid(format!(
                "event_base_priority_init: {npriorities} priorities; it must be 1 to {}",
                EVENT_MAX_PRIORITIES - 1
            )));
        }
        // libevent leaves an existing event's priority out of range here (undefined behaviour when it
        // fires); minievent refuses instead (DIVERGENCES.md).
        let highest = self
            .events
            .iter()
            .filter_map(|s| s.event.as_ref())
            .map(|e| usize::from(e.pri))
            .max();
        if let Some(pri) = highest
            && pri >= npriorities
        {
            return Err(Error::BadPriority {
                call: "event_base_priority_init (an existing event has it: free it or lower it first)",
                pri,
                npriorities,
            });
        }
        self.activequeues = vec![ActiveQueue::EMPTY; npriorities];
        Ok(())
    }
    // ANCHOR_END: priority_init

    /// The number of priorities. libevent: `event_base_get_npriorities()`.
    pub fn npriorities(&self) -> usize {
        self.activequeues.len()
    }

    // ANCHOR: time_cache
    /// The time, from the cache while callbacks run. Reading the clock also re-measures the
    /// offset of the wall clock from the monotonic one, when the last measurement is more than
    /// [`CLOCK_SYNC_INTERVAL`] seconds old (so not during a machine's first five seconds of
    /// uptime, as in libevent). libevent: `gettime()`.
    pub(crate) fn gettime(&mut self) -> Duration {
        if let Some(cached) = self.tv_cache {
            return cached;
        }
        let now = self.clock.now();
        if self.last_updated_clock_diff + CLOCK_SYNC_INTERVAL < now.as_secs() {
            // libevent subtracts two timevals and may get a negative offset; the wall clock is
            // decades past the monotonic one on any real system, so the offset saturates at 0.
            self.tv_clock_diff = crate::time::gettimeofday().saturating_sub(now);
            self.last_updated_clock_diff = now.as_secs();
        }
        now
    }

    /// Reads the clock into the cache (unless NO_CACHE_TIME). libevent: `update_time_cache()`.
    pub(crate) fn update_time_cache(&mut self) {
        self.tv_cache = None;
        if !self.flags.contains(BaseFlags::NO_CACHE_TIME) {
            self.tv_cache = Some(self.clock.now());
        }
    }
    // ANCHOR_END: time_cache

    // ANCHOR: gettimeofday_cached
    /// The wall-clock time, from the time cache when there is one: the cached monotonic time
    /// plus the offset of the wall clock from the monotonic one that the last clock read measured
    /// (at most [`CLOCK_SYNC_INTERVAL`] seconds old). Without a cache — outside the loop, or with
    /// [`BaseFlags::NO_CACHE_TIME`] — it reads the wall clock itself (`gettimeofday`, a vDSO call:
    /// no trace line). Cheaper than asking the kernel, and the same value for every callback of
    /// one loop iteration; it may lag the real time by a callback's running time, and by a wall
    /// clock step of the last five seconds. Microsecond resolution, as a `timeval` has.
    /// libevent: `event_base_gettimeofday_cached()`.
    pub fn gettimeofday_cached(&self) -> SystemTime {
        let since_epoch = match self.tv_cache {
            None => crate::time::gettimeofday(),
            Some(cached) => cached.saturating_add(self.tv_clock_diff),
        };
        UNIX_EPOCH + since_epoch
    }

    /// Refreshes the time cache now, if the loop is running (a no-op otherwise, or with
    /// [`BaseFlags::NO_CACHE_TIME`]): for a callback that ran long and wants the timeouts it adds
    /// to count from the real time. libevent: `event_base_update_cache_time()`.
    pub fn update_cache_time(&mut self) {
        if self.running_loop {
            self.update_time_cache();
        }
    }
    // ANCHOR_END: gettimeofday_cached

    /// The event an id names, or an error saying it was freed or is another base's.
    pub(crate) fn ev(&self, id: EventId) -> Result<&Event> {
        self.check_id(id)?;
        self.events[id.index as usize]
            .event
            .as_ref()
            .ok_or(Error::StaleEvent { id })
    }

    /// Mutable access to the event an id names.
    pub(crate) fn ev_mut(&mut self, id: EventId) -> Result<&mut Event> {
        self.check_id(id)?;
        self.events[id.index as usize]
            .event
            .as_mut()
            .ok_or(Error::StaleEvent { id })
    }

    /// [`Base::ev_mut`] without an error: `None` when the id is another base's or its event was
    /// freed. For the loop's own checks, which build no `Error` to throw away.
    pub(crate) fn ev_mut_if_live(&mut self, id: EventId) -> Option<&mut Event> {
        if id.base != self.id {
            return None;
        }
        let slot = self.events.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.event.as_mut()
    }

    /// The id was made by this base and its slot was not reused since.
    fn check_id(&self, id: EventId) -> Result<()> {
        if id.base != self.id {
            return Err(Error::ForeignEvent { id });
        }
        match self.events.get(id.index as usize) {
            Some(slot) if slot.generation == id.generation => Ok(()),
            _ => Err(Error::StaleEvent { id }),
        }
    }

    // ANCHOR: check_fd
    /// Refuses an fd that no open file can have — negative, or not below the hard limit on open
    /// files — before evmap and the backend size their per-fd tables by it. libevent grows its
    /// map up to `INT_MAX / 2` slots (`evmap_make_space()`); minievent stops where the kernel does.
    pub(crate) fn check_fd(&mut self, fd: RawFd) -> Result<()> {
        let fits = |limit: u64| u64::try_from(fd).is_ok_and(|fd| fd < limit);
        if fits(self.fd_limit) {
            return Ok(());
        }
        // The limit may have been raised since it was read (or never read yet).
        self.fd_limit = crate::util::open_files_hard_limit();
        if fits(self.fd_limit) {
            Ok(())
        } else {
            Err(Error::FdOutOfRange {
                fd,
                limit: self.fd_limit,
            })
        }
    }
    // ANCHOR_END: check_fd
}

impl Base {
    // ANCHOR: reinit
    /// Re-initialises the base in a forked child, so that it shares no kernel state with the
    /// parent: a new backend (epoll: a new epoll fd; libevent's poll and select are rebuilt too),
    /// a new signal pipe, and every added event registered again — each fd with the events it
    /// is watched for, then each signal (its handler re-installed, the pipe's read event added).
    /// libevent: `event_reinit()` → `epoll_dealloc()` / `evsig_dealloc_()`, the backend's
    /// `init`, `evmap_reinit_()`.
    ///
    /// One difference (DIVERGENCES.md row 18): libevent closes the old pipe's two fds twice
    /// (`event_reinit` closes them, then `evsig_dealloc_` closes the same numbers again, which
    /// fails with EBADF); minievent closes them once.
    pub fn reinit(&mut self) -> Result<()> {
        // The internal pipe event leaves evmap without a word to the backend, which may still be
        // the parent's (libevent swaps in `nil_eventop` for this event_del).
        if let Some(id) = self.sig.ev_signal.take() {
            if self.sig.ev_signal_added {
                let (fd, events) = (self.ev(id)?.fd, self.ev(id)?.events);
                self.io.del(&mut NilBackend, fd, id, events)?;
                self.ev_mut(id)?.list.inserted = false;
            }
            // Not inserted any more: freeing it only takes it off the active queue, if it is
            // there. A new one watches the new pipe (libevent re-assigns `ev_signal`).
            self.event_free(id)?;
        }
        self.sig.ev_signal_added = false;
        self.sig.close_pipe();
        // The backend's dealloc: evsig_dealloc_ (restore the saved actions, stop receiving
        // signals), then the backend's own fds.
        self.sig.restore_all();
        self.sig.ev_n_signals_added = 0;
        self.evsig_forget_base();
        drop(std::mem::replace(&mut self.backend, Box::new(NilBackend)));
        // The backend's init: its kernel object, then evsig_init_'s pipe.
        self.backend = (self.method.init)()?;
        self.sig.reopen_pipe()?;
        // evmap_reinit_: every allocated fd slot, in fd order, with the kinds it is watched for
        // (and EV_ET if its first event has it), as a first add (old = none) — even a slot with
        // no event left, which libevent passes on with no kinds: no syscall on any backend, but
        // the changelist makes an entry for it, so its place in the order of the changes is
        // fixed here (the old signal pipe's read end is such a slot: step7-fork-changelist).
        let fds: Vec<(RawFd, crate::event::Ev)> = self
            .io
            .allocated_fds()
            .into_iter()
            .map(|fd| {
                let Some(ctx) = self.io.get(fd) else {
                    return (fd, crate::event::Ev::NONE);
                };
                let events = ctx.old_events();
                let et = match self.io.events(fd).next() {
                    Some((_, e)) if !events.is_empty() => e & crate::event::EV_ET,
                    _ => crate::event::Ev::NONE,
                };
                (fd, events | et)
            })
            .collect();
        for (fd, events) in fds {
            self.backend.add(fd, crate::event::Ev::NONE, events)?;
        }
        // ... then every signal that has events: handler, and the new pipe's read event.
        for signo in self.sigmap.signals() {
            self.evsig_add(signo)?;
        }
        Ok(())
    }
    // ANCHOR_END: reinit
}

/// The backend of a base between dropping its old backend and creating the new one in
/// [`Base::reinit`]; it also stays if the new one cannot be created. Deleting does nothing
/// (libevent: `nil_eventop`); anything else is an error.
struct NilBackend;

impl Backend for NilBackend {
    fn add(&mut self, _fd: RawFd, _old: crate::event::Ev, _events: crate::event::Ev) -> Result<()> {
        Err(Error::Invalid(
            "event_reinit: could not reinitialize event mechanism".into(),
        ))
    }
    fn del(&mut self, _fd: RawFd, _old: crate::event::Ev, _events: crate::event::Ev) -> Result<()> {
        Ok(())
    }
    fn dispatch(
        &mut self,
        _timeout: Option<Duration>,
        _ready: &mut Vec<(RawFd, crate::event::Ev)>,
    ) -> Result<()> {
        Err(Error::Invalid(
            "event_reinit: could not reinitialize event mechanism".into(),
        ))
    }
}

// ANCHOR: base_drop
/// libevent: `event_base_free()`, its signal part: signal events still pending are deleted (their
/// signals' old actions come back), then `evsig_dealloc_()`; the fields' drops close the pipe,
/// then the backend.
impl Drop for Base {
    fn drop(&mut self) {
        for signo in self.sigmap.signals() {
            for id in self.sigmap.events(signo) {
                // Teardown: a failing sigaction was already warned about; nothing more to do.
                let _ = self.event_del(id);
            }
        }
        self.evsig_dealloc();
    }
}
// ANCHOR_END: base_drop

// ANCHOR: epoll_variants
/// What `epoll_init()` decides from the base's flags, done after the epoll backend is made
/// (minievent's `init` is not given the base): the timerfd of `EVENT_BASE_FLAG_PRECISE_TIMER` (or
/// `EVENT_PRECISE_TIMER`) when the clock is `CLOCK_MONOTONIC`, added to the epoll set at once,
/// and then the changelist of `EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST` (or
/// `EVENT_EPOLL_USE_CHANGELIST`, unless IGNORE_ENV), which also renames the method
/// `"epoll (with changelist)"`, as libevent swaps `base->evsel` for `epollops_changelist`. The
/// changelist goes only in front of the plain [`Epoll`](crate::backend::epoll::Epoll) (a test's
/// wrapper named "epoll" is left as it is). libevent: `epoll_init()`.
fn epoll_variants(
    mut method: EventOp,
    mut backend: Box<dyn Backend>,
    flags: BaseFlags,
    check_env: bool,
    clock: &MonotonicTimer,
) -> (EventOp, Box<dyn Backend>) {
    use crate::backend::epoll::{self, Epoll, EpollChangelist};
    let timerfd =
        if flags.contains(BaseFlags::PRECISE_TIMER) && clock.clock_id() == libc::CLOCK_MONOTONIC {
            epoll::register_timerfd(&mut *backend)
        } else {
            None
        };
    let use_changelist = flags.contains(BaseFlags::EPOLL_USE_CHANGELIST)
        || (check_env && config::getenv("EVENT_EPOLL_USE_CHANGELIST"));
    if use_changelist && (&*backend as &dyn std::any::Any).is::<Epoll>() {
        let any: Box<dyn std::any::Any> = backend;
        let epoll = any
            .downcast::<Epoll>()
            .expect("checked to be an Epoll just above");
        backend = Box::new(EpollChangelist::wrap(*epoll));
        method = epoll::EPOLLOPS_CHANGELIST;
    }
    if let Some(timerfd) = timerfd {
        backend = epoll::timerfd_around(backend, timerfd);
    }
    (method, backend)
}
// ANCHOR_END: epoll_variants

// ANCHOR: choose_backend
/// Walks `cfg`'s preference table and returns the first backend that is not avoided, has every
/// required feature, is not disabled by `EVENT_NO<METHOD>` (when `check_env`) and initialises; a
/// backend whose init fails is skipped like a disabled one. libevent: the `eventops[]` loop of
/// `event_base_new_with_config()`.
fn choose_backend(cfg: &Config, check_env: bool) -> Result<(EventOp, Box<dyn Backend>)> {
    let mut failures = Vec::new();
    for op in &cfg.methods {
        if cfg.is_avoided(op.name)
            || !op.features.contains(cfg.require)
            || (check_env && config::is_method_disabled(op.name))
        {
            continue;
        }
        match (op.init)() {
            Ok(backend) => return Ok((*op, backend)),
            Err(e) => failures.push(format!("{}: {e}", op.name)),
        }
    }
    let mut why = String::from("event_base_new_with_config: no event mechanism available");
    if !failures.is_empty() {
        why.push_str(&format!(" ({})", failures.join("; ")));
    }
    why.push_str(
        " — check EVENT_NOEPOLL / EVENT_NOPOLL / EVENT_NOSELECT and the config's avoided methods \
         and required features",
    );
    Err(Error::Invalid(why))
}
// ANCHOR_END: choose_backend

/// The heap writes each event's position into the event itself.
pub(crate) struct Positions<'a>(pub &'a mut [Slot]);

impl HeapIndex for Positions<'_> {
    fn set_heap_index(&mut self, id: EventId, index: usize) {
        if let Some(ev) = self.0[id.index as usize].event.as_mut() {
            ev.heap_index = u32::try_from(index).expect("fewer than 2^32 timeouts");
        }
    }
}

bitflags::bitflags! {
    /// Which of a base's counts [`Base::get_num_events`] and [`Base::get_max_events`] add up.
    /// libevent: `EVENT_BASE_COUNT_ACTIVE`, `_VIRTUAL`, `_ADDED` (the same values).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct EventBaseCount: u32 {
        /// Events on an active queue, the base's own included. libevent: `EVENT_BASE_COUNT_ACTIVE`.
        const ACTIVE = 1;
        /// Virtual events, which keep a loop alive without an fd (IOCP, evdns); minievent makes
        /// none, so they count 0. libevent: `EVENT_BASE_COUNT_VIRTUAL`.
        const VIRTUAL = 2;
        /// Events added, with a pending timeout or active, the base's own left out; an event that
        /// is several of these counts once for each. libevent: `EVENT_BASE_COUNT_ADDED`.
        const ADDED = 4;
    }
}

/// libevent: `EVENT_BASE_COUNT_ACTIVE`.
pub const EVENT_BASE_COUNT_ACTIVE: EventBaseCount = EventBaseCount::ACTIVE;
/// libevent: `EVENT_BASE_COUNT_VIRTUAL`.
pub const EVENT_BASE_COUNT_VIRTUAL: EventBaseCount = EventBaseCount::VIRTUAL;
/// libevent: `EVENT_BASE_COUNT_ADDED`.
pub const EVENT_BASE_COUNT_ADDED: EventBaseCount = EventBaseCount::ADDED;

/// Looking into a base: its counts, its clock, its running event, each of its events.
impl Base {
    /// The sum of the counts `which` names. libevent: `event_base_get_num_events()`.
    pub fn get_num_events(&self, which: EventBaseCount) -> usize {
        let mut n = 0;
        if which.contains(EventBaseCount::ACTIVE) {
            n += self.event_count_active;
        }
        if which.contains(EventBaseCount::ADDED) {
            n += self.event_count + self.event_count_active_user;
        }
        n
    }

    /// The sum of the highest values the counts `which` names have reached; `clear` sets those
    /// highs back to 0. libevent: `event_base_get_max_events()`.
    pub fn get_max_events(&mut self, which: EventBaseCount, clear: bool) -> usize {
        let mut n = 0;
        if which.contains(EventBaseCount::ACTIVE) {
            n += self.event_count_active_max;
            if clear {
                self.event_count_active_max = 0;
            }
        }
        if which.contains(EventBaseCount::ADDED) {
            n += self.event_count_max;
            if clear {
                self.event_count_max = 0;
            }
        }
        n
    }

    /// The base's monotonic clock, read now (not the loop's cached time): the clock its
    /// timeouts are measured on, microsecond resolution. libevent: `event_gettime_monotonic()`.
    pub fn gettime_monotonic(&self) -> Duration {
        self.clock.now()
    }

    /// The event whose callback is running, if any. libevent: `event_base_get_running_event()`.
    pub fn get_running_event(&self) -> Option<EventId> {
        self.current_event
    }

    /// Activates the events on `fd` as if the backend had reported `events` for it: with
    /// `EV_TIMEOUT`, every event on `fd` with a pending timeout (heap, then common-timeout
    /// queues) gets `EV_TIMEOUT` and nothing else; otherwise the fd's events that wait for
    /// `events & (EV_READ | EV_WRITE | EV_CLOSED)` get it. libevent: `event_base_active_by_fd()`.
    pub fn active_by_fd(&mut self, fd: RawFd, events: Ev) {
        if !events.contains(EV_TIMEOUT) {
            self.evmap_io_active(fd, events & (EV_READ | EV_WRITE | EV_CLOSED));
            return;
        }
        let heap = self.timeheap.entries.iter().map(|&(_, id)| id);
        let queues = self
            .common_timeout_queues
            .iter()
            .flat_map(|q| q.events.iter().copied());
        let timed: Vec<EventId> = heap
            .chain(queues)
            .filter(|&id| self.ev(id).is_ok_and(|ev| ev.fd == fd))
            .collect();
        for id in timed {
            self.activate(id, EV_TIMEOUT);
        }
    }

    /// Calls `f` once for each event the base holds — added, with a timeout, or active — until
    /// it returns `Break`, which is then returned: first the added events (fd by fd, then signal
    /// by signal), then the timeouts of events not added (the heap in its array order, then the
    /// common-timeout queues), then the active events neither added nor with a timeout, most
    /// urgent priority first. The base's own events are included. `f` may look at the base but
    /// not change it. libevent: `event_base_foreach_event()`.
    pub fn foreach_event<B>(
        &self,
        mut f: impl FnMut(&Base, EventId) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let list = |id: EventId| self.ev(id).map(|ev| ev.list).unwrap_or_default();
        for fd in self.io.allocated_fds() {
            for (id, _) in self.io.events(fd) {
                f(self, id)?;
            }
        }
        for signo in self.sigmap.signals() {
            for id in self.sigmap.events(signo) {
                f(self, id)?;
            }
        }
        let heap = self.timeheap.entries.iter().map(|&(_, id)| id);
        let queues = self
            .common_timeout_queues
            .iter()
            .flat_map(|q| q.events.iter().copied());
        for id in heap.chain(queues) {
            if !list(id).inserted {
                f(self, id)?;
            }
        }
        for pri in 0..self.activequeues.len() {
            let mut at = self.active_front(pri);
            while let Some(id) = at {
                at = self.active_next(id);
                let list = list(id);
                if !list.inserted && !list.timeout {
                    f(self, id)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Writes every event the base holds to `out`, for debugging: under "Inserted events:", each
    /// added or timed event with its fd (or signal), the flags it waits for and its timeout as a
    /// wall-clock time; under "Active events:", each active event with its priority and what it
    /// fired with. libevent prints each event's address where this prints its [`EventId`].
    /// libevent: `event_base_dump_events()`.
    pub fn dump_events(&self, out: &mut impl Write) -> std::io::Result<()> {
        let flag = |set: Ev, f: Ev, word: &'static str| if set.contains(f) { word } else { "" };
        writeln!(out, "Inserted events:")?;
        let inserted = self.foreach_event(|base, id| {
            let ev = base.ev(id).expect("foreach_event gives live events");
            if !(ev.list.inserted || ev.list.timeout) {
                return ControlFlow::Continue(());
            }
            let gloss = if ev.events.contains(EV_SIGNAL) {
                "sig"
            } else {
                "fd "
            };
            let e = ev.events;
            let mut line = format!(
                "  {id} [{gloss} {}]{}{}{}{}{}{}{}",
                ev.fd,
                flag(e, EV_READ, " Read"),
                flag(e, EV_WRITE, " Write"),
                flag(e, EV_CLOSED, " EOF"),
                flag(e, EV_SIGNAL, " Signal"),
                flag(e, EV_PERSIST, " Persist"),
                flag(e, EV_ET, " ET"),
                if ev.internal { " Internal" } else { "" },
            );
            if ev.list.timeout {
                let at = ev.deadline.saturating_add(base.tv_clock_diff);
                line.push_str(&format!(
                    " Timeout={}.{:06}",
                    at.as_secs(),
                    at.subsec_micros()
                ));
            }
            stop_on_error(writeln!(out, "{line}"))
        });
        if let ControlFlow::Break(e) = inserted {
            return Err(e);
        }
        writeln!(out, "Active events:")?;
        let active = self.foreach_event(|base, id| {
            let ev = base.ev(id).expect("foreach_event gives live events");
            if !ev.list.active {
                return ControlFlow::Continue(());
            }
            let gloss = if ev.events.contains(EV_SIGNAL) {
                "sig"
            } else {
                "fd "
            };
            let r = ev.res;
            stop_on_error(writeln!(
                out,
                "  {id} [{gloss} {}, priority={}]{}{}{}{}{} active{}",
                ev.fd,
                ev.pri,
                flag(r, EV_READ, " Read"),
                flag(r, EV_WRITE, " Write"),
                flag(r, EV_CLOSED, " EOF"),
                flag(r, EV_SIGNAL, " Signal"),
                flag(r, EV_TIMEOUT, " Timeout"),
                if ev.internal { " [Internal]" } else { "" },
            ))
        });
        match active {
            ControlFlow::Break(e) => Err(e),
            ControlFlow::Continue(()) => Ok(()),
        }
    }
}

/// A failed write ends a walk of [`Base::foreach_event`] with its error.
fn stop_on_error(written: std::io::Result<()>) -> ControlFlow<std::io::Error> {
    match written {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }
}
