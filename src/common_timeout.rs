//! Common timeouts: many events with the same timeout, in a FIFO instead of the heap.
//! libevent: event.c (`event_base_init_common_timeout`, `common_timeout_schedule`,
//! `common_timeout_callback`, `is_common_timeout`, `insert_common_timeout_inorder`).
//!
//! A program that gives thousands of events the same timeout (say, an idle timeout per connection)
//! pays O(log n) for each add and delete on the heap. But events that share one duration expire
//! in the order they were added: `now + d` only grows. So libevent keeps them in one FIFO per
//! duration — append at the back, expire from the front, both O(1) — and puts only the FIFO's
//! head in the heap, through one internal timer event per queue. The heap then holds one entry
//! per queue, however many events wait on it.
//!
//! The caller names a queue by the duration [`Base::init_common_timeout`] returns. libevent
//! returns a `timeval` whose `tv_usec` has, above its 20 microsecond bits, the magic `0x5` in the
//! top nibble and the queue's index in the next 8 bits. A `Duration` has no spare bits above its
//! microseconds, but minievent's times are whole microseconds (libevent's `timeval`), so the three
//! decimal digits of nanoseconds below the microsecond are spare: they hold
//! [`COMMON_TIMEOUT_MAGIC_NS`] + the queue's index (500 to 755).

use crate::base::Base;
use crate::error::{Error, Result};
use crate::event::{EV_TIMEOUT, Ev, EventId, truncate_to_micros};
use std::collections::VecDeque;
use std::time::Duration;

/// How many common timeouts a base may have. libevent: `MAX_COMMON_TIMEOUTS`.
pub const MAX_COMMON_TIMEOUTS: usize = 256;

/// The nanoseconds below the microsecond that mark a common timeout of queue 0; queue `i` has
/// this + `i`. libevent: `COMMON_TIMEOUT_MAGIC` (`0x50000000` in `tv_usec`, the index shifted by
/// `COMMON_TIMEOUT_IDX_SHIFT` 20).
pub const COMMON_TIMEOUT_MAGIC_NS: u32 = 500;

/// One queue. libevent: `struct common_timeout_list`.
pub(crate) struct CommonTimeoutList {
    /// The magic duration naming the queue. libevent: `ctl->duration`.
    pub duration: Duration,
    /// The events waiting, earliest deadline first. libevent: `ctl->events`.
    pub events: VecDeque<EventId>,
    /// The internal timer that fires at the head's deadline. libevent: `ctl->timeout_event`.
    pub timeout_event: EventId,
}

impl Base {
    // ANCHOR: init_common_timeout
    /// Returns the duration that names a common-timeout queue for `duration`, making the queue
    /// the first time (the same queue for the same duration, to the microsecond). Pass it to
    /// [`Base::event_add`]: the event then waits on that queue's FIFO instead of the heap, for
    /// `duration`. The returned value is opaque: its nanoseconds below the microsecond hold the
    /// queue's index; it is only meaningful to this base. Refused past
    /// [`MAX_COMMON_TIMEOUTS`] queues. libevent: `event_base_init_common_timeout()`.
    ///
    /// Like libevent's magic `tv_usec`, any `Duration` whose nanoseconds end in 500 + i for an
    /// existing queue i is taken as that queue's timeout; minievent's own durations are whole
    /// microseconds, so only a duration made by hand with such nanoseconds can do that.
    pub fn init_common_timeout(&mut self, duration: Duration) -> Result<Duration> {
        // libevent strips the magic from a common timeout passed in again; a timeval has no
        // nanoseconds, so this drops them all.
        let duration = truncate_to_micros(duration);
        if let Some(ctl) = self
            .common_timeout_queues
            .iter()
            .find(|ctl| truncate_to_micros(ctl.duration) == duration)
        {
            return Ok(ctl.duration);
        }
        let index = self.common_timeout_queues.len();
        if index == MAX_COMMON_TIMEOUTS {
            // libevent's words (event_base_init_common_timeout), which it logs and returns NULL.
            return Err(Error::Invalid(format!(
                "event_base_init_common_timeout: Too many common timeouts already in use; we only \
                 support {MAX_COMMON_TIMEOUTS} per event_base"
            )));
        }
        let magic = duration
            .checked_add(Duration::from_nanos(
                u64::from(COMMON_TIMEOUT_MAGIC_NS) + index as u64,
            ))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "event_base_init_common_timeout: {duration:?} is too long to mark"
                ))
            })?;
        let timeout_event = self.event_new(-1, Ev::NONE, move |base, _, _, _| {
            base.common_timeout_callback(index)
        })?;
        let ev = self.ev_mut(timeout_event)?;
        ev.internal = true;
        ev.pri = 0;
        self.common_timeout_queues.push(CommonTimeoutList {
            duration: magic,
            events: VecDeque::new(),
            timeout_event,
        });
        Ok(magic)
    }
    // ANCHOR_END: init_common_timeout

    /// The queue a timeout (a duration or a deadline) names, if it is a common one.
    /// libevent: `is_common_timeout()` + `COMMON_TIMEOUT_IDX()`.
    pub(crate) fn common_timeout_index(&self, tv: Duration) -> Option<usize> {
        let bits = tv.subsec_nanos() % 1000;
        let index = bits.checked_sub(COMMON_TIMEOUT_MAGIC_NS)? as usize;
        (index < self.common_timeout_queues.len()).then_some(index)
    }

    // ANCHOR: common_timeout_insert
    /// Puts the event on its queue, in deadline order — at the back, in practice, since deadlines
    /// of one duration only grow; the search from the back is for the rare exception (an absolute
    /// re-arm of a persistent event). If it is now the head, the queue's timer moves to its
    /// deadline. libevent: `insert_common_timeout_inorder()` + the `common_timeout_schedule()`
    /// call in `event_add_nolock_()`.
    pub(crate) fn common_timeout_insert(&mut self, queue: usize, id: EventId, deadline: Duration) {
        let at = {
            let ctl = &self.common_timeout_queues[queue];
            ctl.events
                .iter()
                .rposition(|&e| self.ev(e).expect("queued events exist").deadline <= deadline)
                .map_or(0, |i| i + 1)
        };
        self.common_timeout_queues[queue].events.insert(at, id);
        if at == 0 {
            self.common_timeout_schedule(queue, deadline);
        }
    }
    // ANCHOR_END: common_timeout_insert

    /// Takes the event off its queue; the queue's timer stays where it is (when it fires early,
    /// the callback finds nothing due and re-arms for the new head). libevent: the
    /// `TAILQ_REMOVE` of `event_queue_remove_timeout()` — O(1) on its doubly linked list; here a
    /// search, from the front, where expiring events are.
    pub(crate) fn common_timeout_remove(&mut self, queue: usize, id: EventId) {
        let events = &mut self.common_timeout_queues[queue].events;
        let at = events
            .iter()
            .position(|&e| e == id)
            .expect("an event on a common timeout is on its queue");
        events.remove(at);
    }

    // ANCHOR: common_timeout_callback
    /// Arms the queue's internal timer at `deadline` (its head's). libevent:
    /// `common_timeout_schedule()` (an absolute `event_add_nolock_`).
    fn common_timeout_schedule(&mut self, queue: usize, deadline: Duration) {
        let timer = self.common_timeout_queues[queue].timeout_event;
        // A pure timer with no fd: nothing can fail.
        let _ = self.event_add_nolock(timer, Some(deadline), true);
    }

    /// The queue's timer fired: activate every event at the front whose deadline has passed, then
    /// re-arm for the first one that has not. libevent: `common_timeout_callback()`.
    fn common_timeout_callback(&mut self, queue: usize) {
        let now = self.gettime();
        loop {
            let Some(&head) = self.common_timeout_queues[queue].events.front() else {
                return;
            };
            let deadline = self.ev(head).expect("queued events exist").deadline;
            if deadline > now {
                self.common_timeout_schedule(queue, deadline);
                return;
            }
            self.event_del(head).unwrap_or_else(|e| {
                crate::log::warn(&format!("common_timeout_callback: event_del: {e}"))
            });
            self.activate(head, EV_TIMEOUT);
        }
    }
    // ANCHOR_END: common_timeout_callback
}
