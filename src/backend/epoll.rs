//! The epoll backend. libevent: epoll.c (`epollops`, and `epollops_changelist`).
//!
//! epoll keeps the interest list in the kernel, so `add` and `del` are `epoll_ctl` calls made at once
//! (libevent's `epoll_nochangelist_add` / `_del`), and `dispatch` is one `epoll_wait`. With the
//! changelist on, [`EpollChangelist`] records `add` and `del` instead, and makes the `epoll_ctl`
//! calls in `dispatch`, right before `epoll_wait`.

use super::{Backend, EventOp, Features, timeout_msec};
use crate::changelist::Changelist;
use crate::error::Result;
use crate::event::{EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev};
use crate::sys::{Fd, cvt};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

// ANCHOR: epollops
/// The epoll row of the preference table. libevent: `epollops`.
pub const EPOLLOPS: EventOp = EventOp {
    name: "epoll",
    features: Features::ET
        .union(Features::O1)
        .union(Features::EARLY_CLOSE),
    init: Epoll::init,
};
// ANCHOR_END: epollops

// ANCHOR: epollops_changelist
/// The epoll backend with the changelist: what a base uses instead of [`EPOLLOPS`] when it has
/// `EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST` (or `EVENT_EPOLL_USE_CHANGELIST` in the environment).
/// Its name is what `event_base_get_method()` then answers. Not in the preference table: libevent
/// swaps it in inside `epoll_init()`. libevent: `epollops_changelist`.
pub const EPOLLOPS_CHANGELIST: EventOp = EventOp {
    name: "epoll (with changelist)",
    features: Features::ET
        .union(Features::O1)
        .union(Features::EARLY_CLOSE),
    init: EpollChangelist::init,
};
// ANCHOR_END: epollops_changelist

// ANCHOR: nevent
/// Size of the events array at start. libevent: `INITIAL_NEVENT`.
pub const INITIAL_NEVENT: usize = 32;
/// The array doubles when a wait fills it, up to this size. libevent: `MAX_NEVENT`.
pub const MAX_NEVENT: usize = 4096;
/// Longer timeouts are clamped: old kernels mishandled them. libevent: `MAX_EPOLL_TIMEOUT_MSEC`.
pub const MAX_EPOLL_TIMEOUT_MSEC: u128 = 35 * 60 * 1000;
// ANCHOR_END: nevent

/// State of the epoll backend. libevent: `struct epollop`.
pub struct Epoll {
    /// The epoll instance, closed when the backend is dropped. libevent: `epollop->epfd`, closed
    /// by `epoll_dealloc()` (the signal pipe is the base's, closed before).
    pub(crate) epfd: Fd,
    /// The array `epoll_wait` fills; its length is libevent's `nevents`.
    pub(crate) events: Vec<libc::epoll_event>,
}

// ANCHOR: event_change
/// What happens to one kind of interest on an fd. libevent: `EV_CHANGE_ADD` / `EV_CHANGE_DEL`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Change {
    /// Leave it as it was.
    None,
    /// Start watching it.
    Add,
    /// Stop watching it.
    Del,
}

/// One fd's change, as evmap hands it to the backend. libevent: `struct event_change`.
#[derive(Clone, Copy, Debug)]
pub struct EventChange {
    /// The fd.
    pub fd: RawFd,
    /// `EV_READ | EV_WRITE | EV_CLOSED` as they were before the change.
    pub old_events: Ev,
    /// The change to reading (EPOLLIN).
    pub read_change: Change,
    /// The change to writing (EPOLLOUT).
    pub write_change: Change,
    /// The change to early-close detection (EPOLLRDHUP).
    pub close_change: Change,
    /// The event is edge-triggered (EPOLLET).
    pub et: bool,
}

impl EventChange {
    /// Builds the change for `evsel->add` (`change` = Add) or `evsel->del` (`change` = Del).
    /// libevent: the bodies of `epoll_nochangelist_add` / `epoll_nochangelist_del`.
    pub fn new(fd: RawFd, old: Ev, events: Ev, change: Change) -> EventChange {
        let pick = |bit: Ev| {
            if events.contains(bit) {
                change
            } else {
                Change::None
            }
        };
        EventChange {
            fd,
            old_events: old,
            read_change: pick(EV_READ),
            write_change: pick(EV_WRITE),
            close_change: pick(EV_CLOSED),
            et: events.contains(EV_ET),
        }
    }
}
// ANCHOR_END: event_change

// ANCHOR: op_table
/// The `epoll_ctl` operation and event mask for a change, or `None` when nothing changes.
///
/// libevent looks this up in `epoll_op_table` (epolltable-internal.h), a table generated from these
/// rules: the fd keeps every kind it had whose change is not Del, plus every kind being added.
/// - Something is added: MOD if the fd had any event before, else ADD — both guesses that
///   [`Epoll::apply_one_change`] corrects when the kernel disagrees.
/// - Only deletions: MOD to what remains, or DEL (with the deleted kinds as a non-empty mask) when
///   nothing remains.
pub fn epoll_op(ch: &EventChange) -> Option<(libc::c_int, u32)> {
    let kinds = [
        (ch.read_change, EV_READ, libc::EPOLLIN),
        (ch.write_change, EV_WRITE, libc::EPOLLOUT),
        (ch.close_change, EV_CLOSED, libc::EPOLLRDHUP),
    ];
    let mut remaining = 0u32;
    let mut deleted = 0u32;
    for (change, kind, bit) in kinds {
        match change {
            Change::Add => remaining |= bit as u32,
            Change::None if ch.old_events.contains(kind) => remaining |= bit as u32,
            Change::Del => deleted |= bit as u32,
            Change::None => {}
        }
    }
    let adds = kinds.iter().any(|k| k.0 == Change::Add);
    let had_any = ch.old_events.intersects(EV_READ | EV_WRITE | EV_CLOSED);
    if adds {
        let op = if had_any {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        Some((op, remaining))
    } else if deleted != 0 && remaining != 0 {
        Some((libc::EPOLL_CTL_MOD, remaining))
    } else if deleted != 0 {
        Some((libc::EPOLL_CTL_DEL, deleted))
    } else {
        None
    }
}
// ANCHOR_END: op_table

impl Epoll {
    // ANCHOR: init
    /// Creates the epoll instance, boxed for the preference table. libevent: `epoll_init()`.
    pub fn init() -> Result<Box<dyn Backend>> {
        Ok(Box::new(Epoll::new()?))
    }

    /// Creates the epoll instance as a concrete `Epoll` (what [`Epoll::init`] boxes; the tests use it
    /// to read [`Epoll::nevents`]). libevent: `epoll_init()`.
    ///
    /// `epoll_create1(EPOLL_CLOEXEC)` first; on any failure the old `epoll_create(32000)` (the size
    /// is ignored since Linux 2.6.8) and then close-on-exec set by hand with fcntl.
    pub fn new() -> Result<Epoll> {
        // SAFETY: epoll_create1 takes only flags.
        let epfd = match cvt(
            unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            "epoll_create1",
        ) {
            // SAFETY: epoll_create1 succeeded: the fd is open and ours.
            Ok(fd) => Fd::from(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(_) => {
                // SAFETY: epoll_create takes only a size hint.
                let fd = cvt(unsafe { libc::epoll_create(32000) }, "epoll_create")?;
                // SAFETY: epoll_create succeeded: the fd is open and ours (closed if fcntl fails).
                let fd = Fd::from(unsafe { OwnedFd::from_raw_fd(fd) });
                crate::util::make_socket_closeonexec(fd.as_raw_fd())?;
                fd
            }
        };
        let empty = libc::epoll_event { events: 0, u64: 0 };
        Ok(Epoll {
            epfd,
            events: vec![empty; INITIAL_NEVENT],
        })
    }
    // ANCHOR_END: init

    // ANCHOR: apply_one_change
    /// Tells the kernel about one change, correcting the op table's guesses.
    /// libevent: `epoll_apply_one_change()`.
    ///
    /// - MOD fails with ENOENT: the fd was closed (which dropped it from the interest list) and the
    ///   number reused; retry as ADD.
    /// - ADD fails with EEXIST: the fd was closed but its file lives on in a dup, so the kernel still
    ///   has the old registration under this number; retry as MOD.
    /// - DEL fails with ENOENT, EBADF or EPERM: the fd is already gone; nothing to undo.
    pub fn apply_one_change(&mut self, ch: &EventChange) -> Result<()> {
        let Some((op, mut events)) = epoll_op(ch) else {
            return Ok(());
        };
        if ch.et {
            events |= libc::EPOLLET as u32;
        }
        // libevent zeroes the struct and stores the fd in data.fd: strace shows data={u32=fd, u64=fd}.
        let mut epev = libc::epoll_event {
            events,
            u64: ch.fd as u64,
        };
        let err = match self.ctl(op, ch.fd, &mut epev) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let errno = err.raw_os_error();
        match op {
            libc::EPOLL_CTL_MOD if errno == Some(libc::ENOENT) => {
                self.retry(libc::EPOLL_CTL_ADD, ch.fd, &mut epev, "MOD", "ADD")
            }
            libc::EPOLL_CTL_ADD if errno == Some(libc::EEXIST) => {
                self.retry(libc::EPOLL_CTL_MOD, ch.fd, &mut epev, "ADD", "MOD")
            }
            libc::EPOLL_CTL_DEL
                if matches!(errno, Some(libc::ENOENT | libc::EBADF | libc::EPERM)) =>
            {
                Ok(())
            }
            _ => {
                // libevent logs this with event_warn(PRINT_CHANGES(...)); the same words go to stderr
                // here, so the two traces show the same write(2, ...).
                crate::log::warn(&print_changes(op, events, ch, &err));
                Err(err)
            }
        }
    }
    // ANCHOR_END: apply_one_change

    /// The fallback call; if it fails too, libevent warns
    /// `Epoll MOD(events) on fd retried as ADD; that failed too` (or ADD/MOD swapped).
    pub(crate) fn retry(
        &mut self,
        op: libc::c_int,
        fd: RawFd,
        epev: &mut libc::epoll_event,
        was: &str,
        now: &str,
    ) -> Result<()> {
        self.ctl(op, fd, epev).inspect_err(|err| {
            let events = epev.events;
            crate::log::warn(&format!(
                "Epoll {was}({events}) on {fd} retried as {now}; that failed too: {}",
                crate::log::strerror(err)
            ))
        })
    }

    /// One `epoll_ctl` call.
    pub(crate) fn ctl(
        &mut self,
        op: libc::c_int,
        fd: RawFd,
        epev: &mut libc::epoll_event,
    ) -> Result<()> {
        // SAFETY: epev is a valid epoll_event for the duration of the call.
        cvt(
            unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), op, fd, epev) },
            op_call(op),
        )
        .map(drop)
    }

    /// The current size of the events array (libevent's `epollop->nevents`).
    pub fn nevents(&self) -> usize {
        self.events.len()
    }
}

/// The epoll fd (for tests that read the kernel's interest list in `/proc/self/fdinfo`).
impl AsRawFd for Epoll {
    fn as_raw_fd(&self) -> RawFd {
        self.epfd.as_raw_fd()
    }
}

/// How libevent's `epoll_op_to_string` names an op.
fn op_name(op: libc::c_int) -> &'static str {
    match op {
        libc::EPOLL_CTL_ADD => "ADD",
        libc::EPOLL_CTL_DEL => "DEL",
        libc::EPOLL_CTL_MOD => "MOD",
        _ => "???",
    }
}

/// The call name an error carries, as a trace would show it.
fn op_call(op: libc::c_int) -> &'static str {
    match op {
        libc::EPOLL_CTL_ADD => "epoll_ctl(EPOLL_CTL_ADD)",
        libc::EPOLL_CTL_DEL => "epoll_ctl(EPOLL_CTL_DEL)",
        _ => "epoll_ctl(EPOLL_CTL_MOD)",
    }
}

/// The number libevent prints for a change: `EV_CHANGE_ADD` 1, `EV_CHANGE_DEL` 2, ORed with `EV_ET`.
fn change_code(change: Change, et: bool) -> u16 {
    let code = match change {
        Change::None => return 0,
        Change::Add => 1,
        Change::Del => 2,
    };
    code | if et { EV_ET.bits() } else { 0 }
}

/// The warning for a change the kernel refused: `Epoll ADD(1) on fd 8 failed. Old events were 0; ...:
/// Operation not permitted`. libevent: `event_warn(PRINT_CHANGES(op, events, ch, "failed"))`.
pub(crate) fn print_changes(
    op: libc::c_int,
    events: u32,
    ch: &EventChange,
    err: &crate::error::Error,
) -> String {
    format!(
        "Epoll {}({}) on fd {} failed. Old events were {}; read change was {} ({}); \
         write change was {} ({}); close change was {} ({}): {}",
        op_name(op),
        events,
        ch.fd,
        ch.old_events.bits(),
        change_code(ch.read_change, ch.et),
        change_name(ch.read_change),
        change_code(ch.write_change, ch.et),
        change_name(ch.write_change),
        change_code(ch.close_change, ch.et),
        change_name(ch.close_change),
        crate::log::strerror(err),
    )
}

/// How libevent's `change_to_string` names a change.
fn change_name(change: Change) -> &'static str {
    match change {
        Change::None => "none",
        Change::Add => "add",
        Change::Del => "del",
    }
}

impl Backend for Epoll {
    // ANCHOR: nochangelist
    /// libevent: `epoll_nochangelist_add()`.
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.apply_one_change(&EventChange::new(fd, old, events, Change::Add))
    }

    /// libevent: `epoll_nochangelist_del()`.
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.apply_one_change(&EventChange::new(fd, old, events, Change::Del))
    }
    // ANCHOR_END: nochangelist

    // ANCHOR: dispatch
    /// One `epoll_wait`, then the mapping of each result. libevent: `epoll_dispatch()`.
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let msec = match timeout {
            None => -1,
            Some(t) => timeout_msec(t).min(MAX_EPOLL_TIMEOUT_MSEC) as libc::c_int,
        };
        let nevents = self.events.len() as libc::c_int;
        // SAFETY: the array has nevents writable entries.
        let res = unsafe {
            libc::epoll_wait(
                self.epfd.as_raw_fd(),
                self.events.as_mut_ptr(),
                nevents,
                msec,
            )
        };
        let n = match cvt(res, "epoll_wait") {
            Ok(n) => n as usize,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(()),
            Err(e) => return Err(e),
        };
        for epev in &self.events[..n] {
            let what = epev.events as libc::c_int;
            let ev = if what & libc::EPOLLERR != 0
                || (what & libc::EPOLLHUP != 0 && what & libc::EPOLLRDHUP == 0)
            {
                // An error, or a hang-up without RDHUP: wake readers and writers alike.
                EV_READ | EV_WRITE
            } else {
                let mut ev = Ev::NONE;
                if what & libc::EPOLLIN != 0 {
                    ev |= EV_READ;
                }
                if what & libc::EPOLLOUT != 0 {
                    ev |= EV_WRITE;
                }
                if what & libc::EPOLLRDHUP != 0 {
                    ev |= EV_CLOSED;
                }
                ev
            };
            if !ev.is_empty() {
                // libevent passes `ev | EV_ET`: evmap ignores EV_ET when it matches events, and an
                // edge-triggered event's callback sees EV_ET in what it receives.
                ready.push((epev.u64 as RawFd, ev | EV_ET));
            }
        }
        if n == self.events.len() && n < MAX_NEVENT {
            // The array was full: more fds may be ready than fit. Double it for next time.
            let empty = libc::epoll_event { events: 0, u64: 0 };
            self.events.resize(n * 2, empty);
        }
        Ok(())
    }
    // ANCHOR_END: dispatch
}

// ANCHOR: epoll_changelist
/// The epoll backend with the changelist: `add` and `del` only record the change
/// ([`Changelist`]); `dispatch` first applies every recorded change, one
/// [`Epoll::apply_one_change`] per fd in the order the fds were first changed, then empties the
/// list, then waits. A change whose `epoll_ctl` fails is warned about (by `apply_one_change`) and
/// the wait happens anyway, as in libevent. libevent: `epollops_changelist`
/// (`event_changelist_add_`, `event_changelist_del_`, `epoll_dispatch` → `epoll_apply_changes`).
///
/// A wrapper around [`Epoll`] rather than a flag inside it, as libevent has a second op table:
/// the `Epoll` (and its `apply_one_change` and `dispatch`) are the same code either way.
pub struct EpollChangelist {
    /// The epoll backend that applies the changes and waits.
    epoll: Epoll,
    /// What changed since the last dispatch. libevent: `base->changelist`.
    changelist: Changelist,
}

impl EpollChangelist {
    /// Creates the epoll instance, with an empty changelist. libevent: `epoll_init()` when it
    /// picks `epollops_changelist` (this is also what `event_reinit()` calls again).
    pub fn init() -> Result<Box<dyn Backend>> {
        Ok(Box::new(EpollChangelist::wrap(Epoll::new()?)))
    }

    /// Puts an existing epoll backend behind a changelist.
    pub fn wrap(epoll: Epoll) -> EpollChangelist {
        EpollChangelist {
            epoll,
            changelist: Changelist::new(),
        }
    }

    /// The changes recorded since the last dispatch.
    pub fn changelist(&self) -> &Changelist {
        &self.changelist
    }

    /// The epoll backend behind the changelist.
    pub fn epoll(&self) -> &Epoll {
        &self.epoll
    }

    /// Applies every recorded change and empties the list; `Err` (the last error) if any
    /// failed, after trying them all. libevent: `epoll_apply_changes()` then
    /// `event_changelist_remove_all_()`.
    pub fn apply_changes(&mut self) -> Result<()> {
        let mut res = Ok(());
        for entry in self.changelist.take_all() {
            if let Err(e) = self.epoll.apply_one_change(&entry.to_event_change()) {
                res = Err(e);
            }
        }
        res
    }
}

impl Backend for EpollChangelist {
    /// libevent: `event_changelist_add_()`.
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.changelist.add(fd, old, events);
        Ok(())
    }

    /// libevent: `event_changelist_del_()`.
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.changelist.del(fd, old, events);
        Ok(())
    }

    /// The changes, then the wait. libevent: `epoll_dispatch()`, which ignores what
    /// `epoll_apply_changes()` returns (each failure was warned about).
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let _ = self.apply_changes();
        self.epoll.dispatch(timeout, ready)
    }
}
// ANCHOR_END: epoll_changelist

// ANCHOR: timerfd
/// The epoll backend with a timerfd, for a base with `EVENT_BASE_FLAG_PRECISE_TIMER` (or
/// `EVENT_PRECISE_TIMER`): `epoll_wait` counts its timeout in whole milliseconds, so libevent
/// arms a timerfd — nanoseconds, on `CLOCK_MONOTONIC` — and lets `epoll_wait` block until the
/// timerfd, watched in the same epoll set, becomes readable. libevent: `epollop->timerfd`, the
/// `USING_TIMERFD` parts of epoll.c.
///
/// A wrapper around the backend rather than a field of [`Epoll`], so that the labs' `Epoll`
/// (whose `new` and `dispatch` a learner writes) gets it too; fields drop in order, so the epoll
/// fd is closed before the timerfd, as in `epoll_dealloc()`.
pub struct EpollTimerfd {
    /// The epoll backend. Its `add` registered the timerfd; its `dispatch` makes the wait.
    inner: Box<dyn Backend>,
    /// libevent: `epollop->timerfd`, never read: re-arming it resets its expiry count.
    timerfd: Fd,
}

/// Gives an epoll backend a timerfd, as `epoll_init()` does when the base has
/// `EVENT_BASE_FLAG_PRECISE_TIMER` and reads `CLOCK_MONOTONIC`: `timerfd_create(CLOCK_MONOTONIC,
/// TFD_NONBLOCK|TFD_CLOEXEC)`, then `epoll_ctl(ADD, EPOLLIN)`. Either failing leaves the backend
/// as it was (with a warning, except for a kernel without timerfd: EINVAL or ENOSYS), as
/// libevent carries on without one. libevent: the `USING_TIMERFD` part of `epoll_init()`.
pub fn with_timerfd(mut inner: Box<dyn Backend>) -> Box<dyn Backend> {
    match register_timerfd(&mut *inner) {
        Some(timerfd) => timerfd_around(inner, timerfd),
        None => inner,
    }
}

/// The first half of [`with_timerfd`]: creates the timerfd and adds it to the epoll set now, by
/// `backend`'s own `add` (the plain [`Epoll`]'s, before a changelist is put in front of it:
/// libevent calls `epoll_ctl` directly for it in `epoll_init()`). `None` if either call failed.
pub fn register_timerfd(backend: &mut dyn Backend) -> Option<Fd> {
    // SAFETY: timerfd_create takes a clock id and flags.
    let created = cvt(
        unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        },
        "timerfd_create",
    );
    let fd = match created {
        Ok(fd) => fd,
        Err(e) => {
            if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
                crate::log::warn(&format!("timerfd_create: {}", crate::log::strerror(&e)));
            }
            return None;
        }
    };
    // SAFETY: timerfd_create succeeded: the fd is open and ours.
    let timerfd = Fd::from(unsafe { OwnedFd::from_raw_fd(fd) });
    // The same call as libevent's (EPOLLIN, the fd in data), made by the backend's own add.
    if let Err(e) = backend.add(fd, Ev::NONE, EV_READ) {
        crate::log::warn(&format!("epoll_ctl(timerfd): {}", crate::log::strerror(&e)));
        drop(timerfd); // one close(2), as libevent's
        return None;
    }
    Some(timerfd)
}

/// The second half of [`with_timerfd`]: the wrapper that arms `timerfd` in each dispatch.
pub fn timerfd_around(inner: Box<dyn Backend>, timerfd: Fd) -> Box<dyn Backend> {
    Box::new(EpollTimerfd { inner, timerfd })
}

impl Backend for EpollTimerfd {
    /// libevent: `epoll_nochangelist_add()`.
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.inner.add(fd, old, events)
    }

    /// libevent: `epoll_nochangelist_del()`.
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.inner.del(fd, old, events)
    }

    /// Arms the timerfd for `timeout` (disarms it for none), then waits with `epoll_wait(-1)`;
    /// a zero timeout, which a timerfd cannot express (zero disarms it), becomes
    /// `epoll_wait(0)`. The timerfd's own readiness is dropped from the results. A failing
    /// `timerfd_settime` is only warned about, as in libevent. libevent: the `USING_TIMERFD`
    /// parts of `epoll_dispatch()`.
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let (value, wait) = match timeout {
            None => (Duration::ZERO, None),
            Some(t) if t.is_zero() => (Duration::ZERO, Some(Duration::ZERO)),
            Some(t) => (t, None),
        };
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let is = libc::itimerspec {
            it_interval: zero,
            it_value: libc::timespec {
                tv_sec: value.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: value.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `is` is a valid itimerspec; the old value is not asked for (NULL).
        let set = unsafe {
            libc::timerfd_settime(self.timerfd.as_raw_fd(), 0, &is, std::ptr::null_mut())
        };
        if let Err(e) = cvt(set, "timerfd_settime") {
            crate::log::warn(&format!("timerfd_settime: {}", crate::log::strerror(&e)));
        }
        let first = ready.len();
        let waited = self.inner.dispatch(wait, ready);
        let timerfd = self.timerfd.as_raw_fd();
        let mut i = first;
        while i < ready.len() {
            if ready[i].0 == timerfd {
                ready.remove(i);
            } else {
                i += 1;
            }
        }
        waited
    }
}
// ANCHOR_END: timerfd
