//! Events: what `event_new` creates and `event_add` / `event_del` / `event_active` act on.
//! libevent: event.c (`event_new`, `event_assign`, `event_add_nolock_`, `event_del_nolock_`,
//! `event_active_nolock_`, `event_pending`, `event_free`) and include/event2/event.h (the `EV_*` flags).

use crate::base::Base;
use crate::error::{Error, Result};
use std::fmt;
use std::os::fd::RawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ANCHOR: ev_flags
bitflags::bitflags! {
    /// A set of `EV_*` flags: what an event waits for, and what made it fire. libevent: `short events`.
    #[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
    pub struct Ev: u16 {
        /// The event's timeout expired (only ever in what a callback receives). libevent: `EV_TIMEOUT`.
        const TIMEOUT = 0x01;
        /// The fd is readable. libevent: `EV_READ`.
        const READ = 0x02;
        /// The fd is writable. libevent: `EV_WRITE`.
        const WRITE = 0x04;
        /// A signal arrived; an `EV_SIGNAL` event's "fd" is its signal number. libevent: `EV_SIGNAL`.
        const SIGNAL = 0x08;
        /// The event stays pending after it fires. libevent: `EV_PERSIST`.
        const PERSIST = 0x10;
        /// Edge-triggered, where the backend supports it. libevent: `EV_ET`.
        const ET = 0x20;
        /// The peer closed its end (detected early, with EPOLLRDHUP / POLLRDHUP). libevent: `EV_CLOSED`.
        const CLOSED = 0x80;
    }
}

/// libevent's names for the flags, so code reads like libevent's: `EV_READ | EV_PERSIST`.
pub const EV_TIMEOUT: Ev = Ev::TIMEOUT;
/// libevent: `EV_READ`.
pub const EV_READ: Ev = Ev::READ;
/// libevent: `EV_WRITE`.
pub const EV_WRITE: Ev = Ev::WRITE;
/// libevent: `EV_SIGNAL`.
pub const EV_SIGNAL: Ev = Ev::SIGNAL;
/// libevent: `EV_PERSIST`.
pub const EV_PERSIST: Ev = Ev::PERSIST;
/// libevent: `EV_ET`.
pub const EV_ET: Ev = Ev::ET;
/// libevent: `EV_CLOSED`.
pub const EV_CLOSED: Ev = Ev::CLOSED;
// ANCHOR_END: ev_flags

impl Ev {
    /// No flag.
    pub const NONE: Ev = Ev::empty();
}

impl fmt::Debug for Ev {
    /// `EV_READ|EV_PERSIST`, or `0` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_flags(
            f,
            "EV_",
            self.iter_names().map(|(name, _)| name),
            self.bits() & !Ev::all().bits(),
        )
    }
}

/// Writes the names of the set flags, each with `prefix`, joined with `|` (unknown bits last, in
/// hex), or `0` when none is set: how [`Ev`] and the bufferevent's `BevEvent` print.
pub(crate) fn fmt_flags<'a>(
    f: &mut fmt::Formatter<'_>,
    prefix: &str,
    names: impl Iterator<Item = &'a str>,
    unknown: u16,
) -> fmt::Result {
    let mut parts: Vec<String> = names.map(|name| format!("{prefix}{name}")).collect();
    if unknown != 0 {
        parts.push(format!("{unknown:#x}"));
    }
    if parts.is_empty() {
        f.write_str("0")
    } else {
        f.write_str(&parts.join("|"))
    }
}

// ANCHOR: event_id
/// A handle to an event owned by a [`Base`]. libevent: `struct event *`.
///
/// It is also what `event_self_cbarg()` gives a libevent callback: every minievent callback receives
/// its own `EventId`, so it can delete, re-add or free its event.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventId {
    /// The slot in the base's event table.
    pub(crate) index: u32,
    /// Which use of that slot: bumped when the event is freed, so an old id is refused.
    pub(crate) generation: u32,
    /// The base that made it ([`Base`]'s own id): an id handed to another base is refused.
    pub(crate) base: u32,
}

/// `event#3.0`: the slot and its generation, what [`Base::dump_events`] prints where libevent
/// prints the event's address.
impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event#{}.{}", self.index, self.generation)
    }
}

/// A callback: `(base, fd, what fired, the event itself)`.
/// libevent: `void (*)(evutil_socket_t fd, short what, void *arg)`, with the base reachable through the
/// arg and the event through `event_self_cbarg()`.
pub type Callback = Box<dyn FnMut(&mut Base, RawFd, Ev, EventId)>;
// ANCHOR_END: event_id

// ANCHOR: evlist
/// Which of the base's structures the event is on. libevent: `ev_flags` (`EVLIST_*`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct EvList {
    /// Added: counted in evmap, watched by the backend. libevent: `EVLIST_INSERTED`.
    pub inserted: bool,
    /// On an active queue, its callback about to run. libevent: `EVLIST_ACTIVE`.
    pub active: bool,
    /// On the timeout min-heap. libevent: `EVLIST_TIMEOUT`.
    pub timeout: bool,
}
// ANCHOR_END: evlist

// ANCHOR: event_struct
/// The state of one event. libevent: `struct event`.
pub(crate) struct Event {
    /// libevent: `ev_fd` (-1 for a pure timer).
    pub fd: RawFd,
    /// What it waits for. libevent: `ev_events`.
    pub events: Ev,
    /// Taken out while it runs, so the callback can get `&mut Base`. libevent: `ev_callback` + `ev_arg`.
    pub callback: Option<Callback>,
    /// libevent: `ev_flags`.
    pub list: EvList,
    /// What made it active. libevent: `ev_res`.
    pub res: Ev,
    /// Its active queue (below `EVENT_MAX_PRIORITIES`, 256). libevent: `ev_pri` (a `ev_uint8_t`).
    pub pri: u8,
    /// When its timeout expires, on the base's monotonic clock. libevent: `ev_timeout`.
    pub deadline: Duration,
    /// The relative timeout an EV_PERSIST event re-arms with. libevent: `ev_io_timeout`.
    pub io_timeout: Option<Duration>,
    /// Position in the timeout heap. libevent: `ev_timeout_pos.min_heap_idx` (an `int`).
    pub heap_index: u32,
    /// The common-timeout queue its timeout is on, instead of the heap. libevent keeps the queue's
    /// index in the high bits of `ev_timeout.tv_usec` (`is_common_timeout(&ev->ev_timeout)`).
    /// Below `MAX_COMMON_TIMEOUTS` (256).
    pub common: Option<u8>,
    /// One of the base's own events (a common-timeout queue's timer, the signal pipe's read
    /// event): not counted as pending, and its callback not counted as run, so it never keeps the
    /// loop alive. libevent: `EVLIST_INTERNAL`.
    pub internal: bool,
    /// How many times a signal event's callback is to run: how often its signal arrived.
    /// libevent: `ev_ncalls`.
    pub ncalls: u32,
    /// The signal closure is running this event's calls: `event_del` stops them. libevent:
    /// `ev_pncalls` (a pointer to the closure's counter, which `event_del` zeroes).
    pub pncalls: bool,
    /// Set by `event_del` while `pncalls`: the running closure makes no further call.
    pub ncalls_aborted: bool,
    /// The next event on its active queue (the base's event-table slot), or [`NIL`].
    /// libevent: `ev_evcallback.evcb_active_next.tqe_next`.
    pub active_next: u32,
    /// The previous event on its active queue, or [`NIL`] at the head.
    /// libevent: `ev_evcallback.evcb_active_next.tqe_prev`.
    pub active_prev: u32,
}
// ANCHOR_END: event_struct

/// No event: the end of a list threaded through the event table by slot (libevent's `NULL`).
pub const NIL: u32 = u32::MAX;

// ANCHOR: active_queue
/// One priority's FIFO of active events: a doubly linked list threaded through the events
/// themselves ([`Event::active_next`], [`Event::active_prev`]), so adding at the tail and taking
/// off from anywhere are O(1) and allocate nothing. libevent: `struct evcallback_list`, a
/// `TAILQ_HEAD` linked by `evcb_active_next`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ActiveQueue {
    /// The oldest active event's slot, or [`NIL`]: the next to run.
    pub head: u32,
    /// The newest active event's slot, or [`NIL`].
    pub tail: u32,
}

impl ActiveQueue {
    /// A queue with no event. libevent: `TAILQ_INIT`.
    pub const EMPTY: ActiveQueue = ActiveQueue {
        head: NIL,
        tail: NIL,
    };

    /// `true` when no event of this priority is active. libevent: `TAILQ_EMPTY`.
    pub fn is_empty(&self) -> bool {
        self.head == NIL
    }
}
// ANCHOR_END: active_queue

// ANCHOR: event_assign
/// The checks `event_assign()` makes before an event exists, plus minievent's own (see Divergences).
pub(crate) fn validate(fd: RawFd, events: Ev) -> Result<()> {
    if !Ev::all().contains(events) {
        return Err(Error::Invalid(format!(
            "event_new: unknown flag bits {:#x}",
            events.difference(Ev::all()).bits()
        )));
    }
    if events.contains(EV_SIGNAL) && events.intersects(EV_READ | EV_WRITE | EV_CLOSED) {
        // libevent's own words (event_assign).
        return Err(Error::Invalid(
            "event_assign: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED".into(),
        ));
    }
    if events.intersects(EV_READ | EV_WRITE | EV_CLOSED) && fd < 0 {
        return Err(Error::Invalid(format!(
            "event_new: fd {fd} is not a file descriptor; EV_READ, EV_WRITE and EV_CLOSED need one \
             (use fd -1 only for a pure timer)"
        )));
    }
    Ok(())
}
// ANCHOR_END: event_assign

impl Event {
    /// A new, non-pending event. libevent: `event_assign()` (`ev_flags = EVLIST_INIT`, middle priority).
    pub fn new(fd: RawFd, events: Ev, callback: Callback, pri: usize) -> Event {
        Event {
            fd,
            events,
            callback: Some(callback),
            list: EvList::default(),
            res: Ev::NONE,
            pri: u8::try_from(pri).expect("fewer than EVENT_MAX_PRIORITIES (256) priorities"),
            deadline: Duration::ZERO,
            io_timeout: None,
            heap_index: u32::MAX,
            common: None,
            internal: false,
            ncalls: 0,
            pncalls: false,
            ncalls_aborted: false,
            active_next: NIL,
            active_prev: NIL,
        }
    }

    /// Waits on an fd (not a pure timer). libevent: `ev_events & (EV_READ|EV_WRITE|EV_CLOSED)`.
    pub fn is_io(&self) -> bool {
        self.events.intersects(EV_READ | EV_WRITE | EV_CLOSED)
    }
}

impl Base {
    // ANCHOR: event_new
    /// Creates an event: no syscall, nothing registered — the event is only *initialized*.
    /// The callback receives `(base, fd, what, its own EventId)`. libevent: `event_new()` /
    /// `event_assign()` (with `event_self_cbarg()`).
    pub fn event_new<F>(&mut self, fd: RawFd, events: Ev, callback: F) -> Result<EventId>
    where
        F: FnMut(&mut Base, RawFd, Ev, EventId) + 'static,
    {
        validate(fd, events)?;
        let event = Event::new(fd, events, Box::new(callback), self.activequeues.len() / 2);
        let index = match self.free_slots.pop() {
            Some(index) => index,
            None => {
                self.events.push(Default::default());
                u32::try_from(self.events.len() - 1).expect("more than 2^32 events")
            }
        };
        let slot = &mut self.events[index as usize];
        slot.event = Some(event);
        Ok(EventId {
            index,
            generation: slot.generation,
            base: self.id,
        })
    }
    // ANCHOR_END: event_new

    /// A persistent signal event: `event_new(signo, EV_SIGNAL | EV_PERSIST, callback)`; the
    /// callback gets the signal number as its fd. libevent: `evsignal_new()` (a macro).
    pub fn evsignal_new<F>(&mut self, signo: i32, callback: F) -> Result<EventId>
    where
        F: FnMut(&mut Base, RawFd, Ev, EventId) + 'static,
    {
        self.event_new(signo, EV_SIGNAL | EV_PERSIST, callback)
    }

    // ANCHOR: event_free
    /// Deletes the event if pending and releases it; its id becomes invalid. The event is freed
    /// even when the backend fails to forget its fd (the fd may already be closed); that failure
    /// is still returned. libevent: `event_free()`.
    pub fn event_free(&mut self, id: EventId) -> Result<()> {
        self.ev(id)?;
        let deleted = self.event_del(id);
        let slot = &mut self.events[id.index as usize];
        slot.event = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free_slots.push(id.index);
        deleted
    }
    // ANCHOR_END: event_free

    // ANCHOR: event_add
    /// Makes the event pending: registers its fd (through evmap and the backend) and, with a
    /// `timeout`, schedules it on the heap — replacing an earlier timeout. Adding an event that is
    /// already pending only updates the timeout. libevent: `event_add()` → `event_add_nolock_()`.
    pub fn event_add(&mut self, id: EventId, timeout: Option<Duration>) -> Result<()> {
        self.event_add_nolock(id, timeout, false)
    }

    /// The body of [`Base::event_add`], also how `event_persist_closure` re-adds a fired EV_PERSIST
    /// event: `tv` is relative to now, or — `tv_is_absolute` — a deadline on the base's clock, which
    /// leaves `io_timeout` as it is. The fd is registered unless the event is inserted or active; the
    /// timeout is only touched once that succeeded. libevent: `event_add_nolock_()`.
    pub(crate) fn event_add_nolock(
        &mut self,
        id: EventId,
        tv: Option<Duration>,
        tv_is_absolute: bool,
    ) -> Result<()> {
        let ev = self.ev(id)?;
        let (fd, events, list) = (ev.fd, ev.events, ev.list);
        if ev.is_io() && !list.inserted && !list.active {
            self.check_fd(fd)?;
            self.io.note_slot(fd);
            self.io.add(self.backend.as_mut(), fd, id, events)?;
            self.ev_mut(id)?.list.inserted = true;
            self.incr_event_count(id);
        } else if events.contains(EV_SIGNAL) && !list.inserted && !list.active {
            // evmap_signal_add_: the handler goes in before the event joins the signal's list.
            let signo = crate::signal::check_signo(fd)?;
            if self.sigmap.is_empty_for(signo) {
                self.evsig_add(signo)?;
            }
            self.sigmap.insert(signo, id);
            self.ev_mut(id)?.list.inserted = true;
            self.incr_event_count(id);
        }
        if let Some(tv) = tv {
            let deadline = if tv_is_absolute {
                tv
            } else {
                if events.contains(EV_PERSIST) {
                    self.ev_mut(id)?.io_timeout = Some(tv);
                }
                // A deadline past the clock's end (Duration::MAX: "forever") saturates: the
                // event stays pending with a timeout that never fires.
                self.gettime().saturating_add(tv)
            };
            self.schedule_timeout(id, deadline)?;
        }
        Ok(())
    }
    // ANCHOR_END: event_add

    // ANCHOR: schedule_timeout
    /// Puts the event on the heap at `deadline`, taking it off first if it was already there, and
    /// off the active queue if it was active because of a timeout. libevent: the timeout half of
    /// `event_add_nolock_()` (with `tv_is_absolute` when `event_persist_closure` re-arms).
    pub(crate) fn schedule_timeout(&mut self, id: EventId, deadline: Duration) -> Result<()> {
        let ev = self.ev(id)?;
        let (list, res) = (ev.list, ev.res);
        if list.timeout {
            self.remove_timeout(id);
        }
        if list.active && res.contains(EV_TIMEOUT) {
            self.abort_signal_calls(id);
            self.remove_active(id);
        }
        // A common timeout's deadline carries its queue in the nanoseconds below the microsecond,
        // which the truncation clears (libevent: `is_common_timeout(tv)` on the magic tv_usec).
        let common = self.common_timeout_index(deadline);
        let deadline = truncate_to_micros(deadline);
        let ev = self.ev_mut(id)?;
        ev.deadline = deadline;
        ev.list.timeout = true;
        ev.common = common
            .map(|queue| u8::try_from(queue).expect("fewer than MAX_COMMON_TIMEOUTS (256) queues"));
        self.incr_event_count(id);
        match common {
            Some(queue) => self.common_timeout_insert(queue, id, deadline),
            None => {
                let Base {
                    timeheap, events, ..
                } = self;
                timeheap.push((deadline, id), &mut crate::base::Positions(events));
            }
        }
        Ok(())
    }
    // ANCHOR_END: schedule_timeout

    // ANCHOR: event_del
    /// Makes the event non-pending: off the heap, off its active queue, out of evmap (which may tell
    /// the backend). Deleting a non-pending event does nothing. libevent: `event_del()` →
    /// `event_del_nolock_()`.
    pub fn event_del(&mut self, id: EventId) -> Result<()> {
        let ev = self.ev(id)?;
        let (fd, events, list) = (ev.fd, ev.events, ev.list);
        self.abort_signal_calls(id);
        if list.timeout {
            self.remove_timeout(id);
        }
        if list.active {
            self.remove_active(id);
        }
        if list.inserted {
            self.ev_mut(id)?.list.inserted = false;
            self.decr_event_count(id);
            if events.contains(EV_SIGNAL) {
                // evmap_signal_del_: the last event of the signal restores the old action.
                if self.sigmap.remove(fd, id) {
                    self.evsig_del(fd)?;
                }
            } else {
                self.io.del(self.backend.as_mut(), fd, id, events)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: event_del

    /// A signal event whose callback is running its `ncalls` calls makes no further call.
    /// libevent: the `*ev->ev_pncalls = 0` of `event_del_nolock_()` and `event_add_nolock_()`.
    fn abort_signal_calls(&mut self, id: EventId) {
        if let Ok(ev) = self.ev_mut(id)
            && ev.events.contains(EV_SIGNAL)
            && ev.ncalls != 0
            && ev.pncalls
        {
            ev.ncalls_aborted = true;
        }
    }

    /// Makes the event active by hand, as if `what` had happened; it runs on the next loop iteration
    /// (or now, if the loop is running). libevent: `event_active()`.
    pub fn event_active(&mut self, id: EventId, what: Ev) -> Result<()> {
        self.ev(id)?;
        self.activate(id, what);
        Ok(())
    }

    // ANCHOR: activate
    /// Puts the event on its priority's active queue with `res`, or merges `res` into it if it is
    /// already there. libevent: `event_active_nolock_()`.
    pub(crate) fn activate(&mut self, id: EventId, res: Ev) {
        self.activate_n(id, res, 1);
    }

    /// [`Base::activate`] with a signal event's call count (how often its signal arrived), which
    /// an already active event does not take. libevent: `event_active_nolock_(ev, res, ncalls)`.
    pub(crate) fn activate_n(&mut self, id: EventId, res: Ev, ncalls: u32) {
        let running = self.event_running_priority;
        let ev = self.live(id);
        if ev.list.active {
            ev.res |= res;
            return;
        }
        ev.res = res;
        if ev.events.contains(EV_SIGNAL) {
            ev.ncalls = ncalls;
            ev.pncalls = false;
        }
        ev.list.active = true;
        let (pri, internal) = (usize::from(ev.pri), ev.internal);
        let tail = self.activequeues[pri].tail;
        let ev = self.event_at(id.index);
        ev.active_prev = tail;
        ev.active_next = NIL;
        if running.is_some_and(|running| pri < running) {
            // A more urgent event became active while a less urgent queue runs: go back to it.
            self.event_continue = true;
        }
        // event_queue_insert_active: TAILQ_INSERT_TAIL.
        if tail == NIL {
            self.activequeues[pri].head = id.index;
        } else {
            self.event_at(tail).active_next = id.index;
        }
        self.activequeues[pri].tail = id.index;
        self.count_active(internal, true);
    }
    // ANCHOR_END: activate

    /// Takes the event off its active queue, wherever it is on it. libevent:
    /// `event_queue_remove_active()` (`TAILQ_REMOVE`).
    pub(crate) fn remove_active(&mut self, id: EventId) {
        let ev = self.live(id);
        ev.list.active = false;
        let (pri, prev, next) = (usize::from(ev.pri), ev.active_prev, ev.active_next);
        let internal = ev.internal;
        if prev == NIL {
            self.activequeues[pri].head = next;
        } else {
            self.event_at(prev).active_next = next;
        }
        if next == NIL {
            self.activequeues[pri].tail = prev;
        } else {
            self.event_at(next).active_prev = prev;
        }
        self.count_active(internal, false);
    }

    /// Counts an event onto (`on`) or off an active queue, and keeps the highs that
    /// [`Base::get_max_events`] reports. libevent: the counting lines of
    /// `event_queue_insert_active()` / `event_queue_remove_active()`.
    fn count_active(&mut self, internal: bool, on: bool) {
        if on {
            self.event_count_active += 1;
            self.event_count_active_max = self.event_count_active_max.max(self.event_count_active);
            if !internal {
                self.event_count_active_user += 1;
                self.note_event_count_max();
            }
        } else {
            self.event_count_active -= 1;
            if !internal {
                self.event_count_active_user -= 1;
            }
        }
    }

    /// Raises the high of libevent's `event_count` (added, timeouts and active events, the base's
    /// own left out). libevent: `MAX_EVENT_COUNT(base->event_count_max, base->event_count)`.
    fn note_event_count_max(&mut self) {
        let count = self.event_count + self.event_count_active_user;
        self.event_count_max = self.event_count_max.max(count);
    }

    /// The oldest active event of priority `pri`: the next to run. libevent:
    /// `TAILQ_FIRST(&base->activequeues[pri])`.
    pub(crate) fn active_front(&self, pri: usize) -> Option<EventId> {
        let head = self.activequeues[pri].head;
        (head != NIL).then(|| EventId {
            index: head,
            generation: self.events[head as usize].generation,
            base: self.id,
        })
    }

    /// The event after `id` on its active queue. libevent: `TAILQ_NEXT(evcb, evcb_active_next)`.
    pub(crate) fn active_next(&self, id: EventId) -> Option<EventId> {
        let next = self.events[id.index as usize].event.as_ref()?.active_next;
        (next != NIL).then(|| EventId {
            index: next,
            generation: self.events[next as usize].generation,
            base: self.id,
        })
    }

    /// The event of an id that the base itself holds — on a list, in the heap, or just checked
    /// by its caller — looked up without the checks of [`Base::ev_mut`] (but in debug builds):
    /// the lookup of the loop's hot path.
    pub(crate) fn live(&mut self, id: EventId) -> &mut Event {
        debug_assert!(
            self.ev(id).is_ok(),
            "{id:?} names a live event of this base"
        );
        self.event_at(id.index)
    }

    /// The event in slot `index`, which a list links to: it exists.
    fn event_at(&mut self, index: u32) -> &mut Event {
        self.events[index as usize]
            .event
            .as_mut()
            .expect("a linked event exists")
    }

    /// Takes the event off the timeout heap. libevent: `event_queue_remove_timeout()`.
    pub(crate) fn remove_timeout(&mut self, id: EventId) {
        let ev = self
            .ev_mut(id)
            .expect("removing the timeout of an event that exists");
        ev.list.timeout = false;
        let (at, common) = (ev.heap_index as usize, ev.common.take());
        self.decr_event_count(id);
        match common {
            Some(queue) => self.common_timeout_remove(usize::from(queue), id),
            None => {
                let Base {
                    timeheap, events, ..
                } = self;
                timeheap.erase(at, &mut crate::base::Positions(events));
            }
        }
    }

    /// Counts the event as pending once more, unless it is the base's own.
    /// libevent: `INCR_EVENT_COUNT()`.
    pub(crate) fn incr_event_count(&mut self, id: EventId) {
        if !self.ev(id).expect("counting an event that exists").internal {
            self.event_count += 1;
            self.note_event_count_max();
        }
    }

    /// Counts the event as pending once less, unless it is the base's own.
    /// libevent: `DECR_EVENT_COUNT()`.
    pub(crate) fn decr_event_count(&mut self, id: EventId) {
        if !self.ev(id).expect("counting an event that exists").internal {
            self.event_count -= 1;
        }
    }

    // ANCHOR: event_remove_timer
    /// Takes the event's timeout away and leaves the rest as it is: an fd event stays added, a
    /// pure timer stops being pending. An EV_PERSIST event also forgets the timeout it re-arms
    /// with. Does nothing without a pending timeout. libevent: `event_remove_timer()`.
    pub fn event_remove_timer(&mut self, id: EventId) -> Result<()> {
        if self.ev(id)?.list.timeout {
            self.remove_timeout(id);
            self.ev_mut(id)?.io_timeout = None;
        }
        Ok(())
    }
    // ANCHOR_END: event_remove_timer

    // ANCHOR: event_pending_deadline
    /// When the event's pending timeout expires, as a wall-clock time — `None` without one. This
    /// is the `tv` out-parameter of `event_pending(ev, EV_TIMEOUT, &tv)`: libevent converts the
    /// monotonic deadline to wall-clock time with the base's last measured offset
    /// (`tv_clock_diff`), and so does this; the deadline itself stays on the monotonic clock, so
    /// a later step of the wall clock does not move it. libevent: `event_pending()`'s `tv`.
    pub fn event_pending_deadline(&self, id: EventId) -> Result<Option<SystemTime>> {
        let ev = self.ev(id)?;
        Ok(ev
            .list
            .timeout
            .then(|| UNIX_EPOCH + ev.deadline.saturating_add(self.tv_clock_diff)))
    }
    // ANCHOR_END: event_pending_deadline

    // ANCHOR: event_pending
    /// What the event is pending or active for, restricted to `what`: `EV_READ`/`EV_WRITE`/`EV_CLOSED`
    /// (or `EV_SIGNAL`) when added, `EV_TIMEOUT` when a timeout is scheduled, the fired flags when active.
    /// libevent: `event_pending()`.
    pub fn event_pending(&self, id: EventId, what: Ev) -> Result<Ev> {
        let ev = self.ev(id)?;
        let mut flags = Ev::NONE;
        if ev.list.inserted {
            flags |= ev.events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL);
        }
        if ev.list.active {
            flags |= ev.res;
        }
        if ev.list.timeout {
            flags |= EV_TIMEOUT;
        }
        Ok(flags & what)
    }
    // ANCHOR_END: event_pending

    /// Sets the event's priority (0 runs first). Refused while the event is active or when `pri` is
    /// out of range. libevent: `event_priority_set()`.
    pub fn event_priority_set(&mut self, id: EventId, pri: usize) -> Result<()> {
        let npriorities = self.activequeues.len();
        let ev = self.ev_mut(id)?;
        if ev.list.active {
            return Err(Error::Invalid(
                "event_priority_set: the event is active".into(),
            ));
        }
        if pri >= npriorities {
            return Err(Error::BadPriority {
                call: "event_priority_set",
                pri,
                npriorities,
            });
        }
        ev.pri = u8::try_from(pri).expect("checked: below npriorities, at most 255");
        Ok(())
    }

    /// The event's priority: the index of its active queue. libevent: `event_get_priority()`.
    pub fn event_get_priority(&self, id: EventId) -> Result<usize> {
        Ok(usize::from(self.ev(id)?.pri))
    }

    /// The event's fd. libevent: `event_get_fd()`.
    pub fn event_get_fd(&self, id: EventId) -> Result<RawFd> {
        Ok(self.ev(id)?.fd)
    }

    /// The flags the event was created with. libevent: `event_get_events()`.
    pub fn event_get_events(&self, id: EventId) -> Result<Ev> {
        Ok(self.ev(id)?.events)
    }
}

/// The version of libevent that minievent follows (minievent reports it, not a version of its
/// own). libevent: `event_get_version()`, `LIBEVENT_VERSION`.
pub fn get_version() -> &'static str {
    "2.1.12-stable"
}

/// [`get_version`] as a number, `0xMMmmpp00` (major, minor, patch, then 00 for a release): the
/// same value libevent 2.1.12 returns. libevent: `event_get_version_number()`,
/// `LIBEVENT_VERSION_NUMBER`.
pub fn get_version_number() -> u32 {
    0x0201_0c00
}

/// libevent keeps times in a `timeval`: microseconds. Truncating the same way keeps the heap's order
/// among equal deadlines the same as libevent's.
pub(crate) fn truncate_to_micros(t: Duration) -> Duration {
    Duration::new(t.as_secs(), t.subsec_micros() * 1000)
}
