//! The event loop. libevent: event.c (`event_base_loop`, `event_base_dispatch`, `timeout_next`,
//! `timeout_process`, `event_process_active`, `event_process_active_single_queue`,
//! `event_persist_closure`, `event_base_loopexit`, `event_base_loopbreak`, `event_base_once`).

use crate::base::Base;
use crate::error::{Error, Result};
use crate::event::{EV_CLOSED, EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, EV_WRITE, Ev, EventId};
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

// ANCHOR: loop_flags
bitflags::bitflags! {
    /// How [`Base::run`] behaves. libevent: the `flags` of `event_base_loop()` (`EVLOOP_*`); the
    /// empty set runs until no event is pending, or until loopexit / loopbreak.
    #[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
    pub struct LoopFlags: u8 {
        /// Wait for events, run the active ones, then return. libevent: `EVLOOP_ONCE`.
        const ONCE = 0x01;
        /// Do not wait: run whatever is ready now, then return. libevent: `EVLOOP_NONBLOCK`.
        const NONBLOCK = 0x02;
        /// Keep looping even when nothing is pending. libevent: `EVLOOP_NO_EXIT_ON_EMPTY`.
        const NO_EXIT_ON_EMPTY = 0x04;
    }
}
// ANCHOR_END: loop_flags

impl LoopFlags {
    /// No flag: run until no event is pending, or until loopexit / loopbreak.
    pub const NONE: LoopFlags = LoopFlags::empty();
}

// ANCHOR: loop_exit
/// Why the loop returned. libevent's `event_base_loop()` returns 0, 1 or -1; -1 is an `Err` here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopExit {
    /// loopexit or loopbreak was called, or ONCE / NONBLOCK finished its pass. libevent: `0`.
    Done,
    /// No event was pending or active, so there was nothing to wait for. libevent: `1`.
    NoEvents,
}

impl LoopExit {
    /// The number libevent returns for this outcome.
    pub fn code(self) -> i32 {
        match self {
            LoopExit::Done => 0,
            LoopExit::NoEvents => 1,
        }
    }
}
// ANCHOR_END: loop_exit

impl Base {
    // ANCHOR: dispatch
    /// Runs the loop until no event is pending, or loopexit / loopbreak.
    /// libevent: `event_base_dispatch()` (= `event_base_loop(base, 0)`).
    pub fn dispatch(&mut self) -> Result<LoopExit> {
        self.run(LoopFlags::NONE)
    }
    // ANCHOR_END: dispatch

    // ANCHOR: run
    /// The event loop: `event_base_loop`, made panic-safe. A callback that panics unwinds
    /// out of `run`; if the caller catches the panic, the base is usable again: the loop is no
    /// longer marked running, the time cache is cleared, and the panicking event keeps its
    /// callback, in the state it was in when the callback started (a one-shot event not pending,
    /// a persistent one pending, its timeout re-armed). libevent: `event_base_loop()` (C has no
    /// unwinding).
    pub fn run(&mut self, flags: LoopFlags) -> Result<LoopExit> {
        let was_running = self.running_loop;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| self.event_base_loop(flags)));
        outcome.unwrap_or_else(|payload| {
            if !was_running {
                self.running_loop = false;
                self.tv_cache = None;
                self.event_running_priority = None;
                self.current_event = None;
            }
            panic::resume_unwind(payload)
        })
    }
    // ANCHOR_END: run

    // ANCHOR: event_base_loop
    /// The event loop's body. libevent: `event_base_loop()`.
    ///
    /// Each iteration: stop if loopexit/loopbreak was called; compute how long the backend may wait
    /// (until the earliest timeout, zero if something is already active or NONBLOCK, forever if no
    /// timeout is pending); return [`LoopExit::NoEvents`] if nothing at all is pending; let the backend
    /// wait and activate what is ready; activate expired timeouts; run the active callbacks.
    pub(crate) fn event_base_loop(&mut self, flags: LoopFlags) -> Result<LoopExit> {
        if self.running_loop {
            return Err(Error::Reentrant);
        }
        self.running_loop = true;
        self.tv_cache = None;
        if self.sig.ev_signal_added && self.sig.ev_n_signals_added != 0 {
            self.evsig_set_base();
        }
        self.event_gotterm = false;
        self.event_break = false;
        let result = self.run_iterations(flags);
        self.tv_cache = None;
        self.running_loop = false;
        result
    }

    fn run_iterations(&mut self, flags: LoopFlags) -> Result<LoopExit> {
        loop {
            self.event_continue = false;
            if self.event_gotterm || self.event_break {
                return Ok(LoopExit::Done);
            }
            let timeout = if self.event_count_active == 0 && !flags.contains(LoopFlags::NONBLOCK) {
                self.timeout_next()
            } else {
                Some(Duration::ZERO)
            };
            if !flags.contains(LoopFlags::NO_EXIT_ON_EMPTY)
                && self.event_count == 0
                && self.event_count_active == 0
            {
                return Ok(LoopExit::NoEvents);
            }
            self.tv_cache = None;
            // The same buffer every time: no allocation once it has grown. Activating runs no
            // callback, so nothing changes `ready` while it is walked.
            self.ready.clear();
            let waited = self.backend.dispatch(timeout, &mut self.ready);
            for i in 0..self.ready.len() {
                let (fd, what) = self.ready[i];
                self.evmap_io_active(fd, what);
            }
            waited?;
            self.update_time_cache();
            self.timeout_process();
            if self.event_count_active > 0 {
                let n = self.process_active();
                if flags.contains(LoopFlags::ONCE) && self.event_count_active == 0 && n != 0 {
                    return Ok(LoopExit::Done);
                }
            } else if flags.contains(LoopFlags::NONBLOCK) {
                return Ok(LoopExit::Done);
            }
        }
    }
    // ANCHOR_END: event_base_loop

    // ANCHOR: timeout_next
    /// How long the backend may wait: until the earliest deadline (zero if it passed), or `None`
    /// (forever) when no timeout is pending. libevent: `timeout_next()`.
    pub(crate) fn timeout_next(&mut self) -> Option<Duration> {
        let (deadline, _) = self.timeheap.top()?;
        Some(deadline.saturating_sub(self.gettime()))
    }
    // ANCHOR_END: timeout_next

    // ANCHOR: timeout_process
    /// Activates, with `EV_TIMEOUT`, every event whose deadline has passed; each is deleted first
    /// (an EV_PERSIST one is re-added by its closure). libevent: `timeout_process()`.
    pub(crate) fn timeout_process(&mut self) {
        if self.timeheap.is_empty() {
            return;
        }
        let now = self.gettime();
        while let Some((deadline, id)) = self.timeheap.top() {
            if deadline > now {
                break;
            }
            self.event_del(id).unwrap_or_else(|e| {
                // The fd may be gone; libevent ignores event_del's result here too.
                crate::log::warn(&format!("timeout_process: event_del: {e}"))
            });
            self.activate(id, EV_TIMEOUT);
        }
    }
    // ANCHOR_END: timeout_process

    // ANCHOR: process_active
    /// Runs the active queues, most urgent (lowest number) first; returns how many callbacks ran
    /// (the base's own events not counted). libevent: `event_process_active()` +
    /// `event_process_active_single_queue()`.
    fn process_active(&mut self) -> usize {
        let mut count = 0;
        let endtime = self.dispatch_endtime();
        'queues: for pri in 0..self.activequeues.len() {
            if self.activequeues[pri].is_empty() {
                continue;
            }
            self.event_running_priority = Some(pri);
            let max_to_process = self.max_to_process(pri);
            while let Some(id) = self.active_front(pri) {
                let ev = self.ev(id).expect("active events exist");
                let internal = ev.internal;
                if ev.events.contains(EV_PERSIST) {
                    self.remove_active(id);
                } else {
                    // A one-shot event stops being pending before its callback runs, so the
                    // callback may add it again.
                    self.event_del(id).unwrap_or_else(|e| {
                        crate::log::warn(&format!("event_process_active: event_del: {e}"))
                    });
                }
                if !internal {
                    count += 1;
                }
                self.run_callback(id);
                if self.event_break {
                    break 'queues;
                }
                if self.dispatch_limit_reached(pri, count, max_to_process, endtime) {
                    break;
                }
                if self.event_continue {
                    break;
                }
            }
            if count > 0 {
                // libevent returns after the first queue that ran a callback (not only the base's
                // own): lower priorities wait for the next iteration, so a busy urgent queue
                // starves them (by design).
                break;
            }
        }
        self.event_running_priority = None;
        count
    }
    // ANCHOR_END: process_active

    // ANCHOR: dispatch_limits
    /// When the callbacks of the limited priorities must stop, if the base has a
    /// `max_dispatch_interval`: the time cache is refreshed and the interval counts from it.
    /// libevent: the start of `event_process_active()`.
    pub(crate) fn dispatch_endtime(&mut self) -> Option<Duration> {
        let max = self.max_dispatch_time?;
        self.update_time_cache();
        Some(self.gettime().saturating_add(max))
    }

    /// How many callbacks priority `pri` may run in one pass: no limit below
    /// `limit_callbacks_after_prio`. libevent: the `i < limit_after_prio` choice of
    /// `event_process_active()`.
    pub(crate) fn max_to_process(&self, pri: usize) -> usize {
        if pri < self.limit_callbacks_after_prio {
            usize::MAX
        } else {
            self.max_dispatch_callbacks
        }
    }

    /// After a callback of priority `pri`, with `count` (non-internal) callbacks run in this pass:
    /// `true` when the pass must stop here — `max_to_process` reached, or, once one callback ran,
    /// the end time passed (the time cache is refreshed to check it). Neither applies below
    /// `limit_callbacks_after_prio`. libevent: the checks after each callback in
    /// `event_process_active_single_queue()`.
    pub(crate) fn dispatch_limit_reached(
        &mut self,
        pri: usize,
        count: usize,
        max_to_process: usize,
        endtime: Option<Duration>,
    ) -> bool {
        if count >= max_to_process {
            return true;
        }
        match endtime {
            Some(endtime) if count > 0 && pri >= self.limit_callbacks_after_prio => {
                self.update_time_cache();
                self.gettime() >= endtime
            }
            _ => false,
        }
    }

    /// Makes the running loop re-check for new events after the current callback, before running
    /// the rest of its active queue (events left active run on the next iteration, after a
    /// `wait(0)`). Outside a callback it has no effect: the loop clears the flag at the start of
    /// each iteration. libevent: `event_base_loopcontinue()`.
    pub fn loopcontinue(&mut self) {
        self.event_continue = true;
    }
    // ANCHOR_END: dispatch_limits

    // ANCHOR: run_callback
    /// Calls the event's callback with `&mut Base`; an EV_PERSIST event with a timeout is re-armed
    /// first; meanwhile the event is the base's running event. libevent: the `base->current_event`
    /// lines and the `EV_CLOSURE_EVENT` / `event_persist_closure()` cases of
    /// `event_process_active_single_queue()`.
    pub(crate) fn run_callback(&mut self, id: EventId) {
        self.current_event = Some(id);
        let ev = self.live(id);
        let (fd, res, io_timeout, deadline) = (ev.fd, ev.res, ev.io_timeout, ev.deadline);
        let common = ev.common.is_some();
        let persist = ev.events.contains(EV_PERSIST);
        if ev.events.contains(EV_SIGNAL) {
            self.event_signal_closure(id);
            self.current_event = None;
            return;
        }
        let mut callback = ev.callback.take().expect("a callback is not running twice");
        // A zero io_timeout is no timeout: libevent tests `ev_io_timeout.tv_sec || .tv_usec`.
        if let (true, Some(delay)) = (persist, io_timeout.filter(|d| !d.is_zero())) {
            // Re-arm relative to the old deadline when the timeout fired (steady ticks), else to now;
            // never in the past.
            let now = self.gettime();
            // A common timeout keeps its queue in the nanoseconds below the microsecond: take them
            // off the delay, put them back on the deadline.
            let (delay, queue_bits) = if common {
                let clean = crate::event::truncate_to_micros(delay);
                (clean, delay - clean)
            } else {
                (delay, Duration::ZERO)
            };
            let relative_to = if res.contains(EV_TIMEOUT) {
                deadline
            } else {
                now
            };
            let mut run_at = relative_to.saturating_add(delay);
            if run_at < now {
                run_at = now.saturating_add(delay);
            }
            let run_at = run_at.saturating_add(queue_bits);
            // event_add_nolock_(ev, &run_at, 1): timeout_process deleted the event — fd included —
            // before activating it, so this registers the fd again as well as the timeout. libevent
            // ignores the result too (epoll warns on stderr; poll and select cannot fail on an fd
            // they held before).
            let _ = self.event_add_nolock(id, Some(run_at), true);
        }
        // A panic in the callback unwinds through here: the callback goes back into its event
        // first, so the event is still whole if the caller of `run` catches the panic.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| callback(self, fd, res, id)));
        // Put the callback back unless the callback freed its event.
        if let Some(ev) = self.ev_mut_if_live(id) {
            ev.callback.get_or_insert(callback);
        }
        self.current_event = None;
        if let Err(payload) = outcome {
            panic::resume_unwind(payload);
        }
    }
    // ANCHOR_END: run_callback

    // ANCHOR: event_signal_closure
    /// A signal event's callback runs once per arrival of its signal (`ncalls` times), unless the
    /// event is deleted or the loop broken meanwhile. EV_PERSIST changes nothing here: a signal
    /// event's timeout is not re-armed (libevent gives signal events this closure instead of
    /// `event_persist_closure`). libevent: `event_signal_closure()`.
    fn event_signal_closure(&mut self, id: EventId) {
        let ev = self.ev_mut(id).expect("active events exist");
        let (fd, res) = (ev.fd, ev.res);
        let mut ncalls = ev.ncalls;
        ev.pncalls = ncalls != 0;
        ev.ncalls_aborted = false;
        let mut callback = ev.callback.take().expect("a callback is not running twice");
        while ncalls > 0 {
            ncalls -= 1;
            if let Ok(ev) = self.ev_mut(id) {
                ev.ncalls = ncalls;
                if ncalls == 0 {
                    ev.pncalls = false;
                }
            }
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| callback(self, fd, res, id)));
            if let Err(payload) = outcome {
                if let Ok(ev) = self.ev_mut(id) {
                    ev.pncalls = false;
                    ev.callback.get_or_insert(callback);
                }
                panic::resume_unwind(payload);
            }
            match self.ev_mut(id) {
                // Freed by its own callback: nothing left to call.
                Err(_) => return,
                Ok(ev) if ev.ncalls_aborted => {
                    // event_del zeroed the closure's counter.
                    ev.ncalls_aborted = false;
                    ev.pncalls = false;
                    ncalls = 0;
                }
                Ok(_) => {}
            }
            if self.event_break {
                if let Ok(ev) = self.ev_mut(id) {
                    ev.pncalls = false;
                }
                break;
            }
        }
        if let Some(ev) = self.ev_mut_if_live(id) {
            ev.callback.get_or_insert(callback);
        }
    }
    // ANCHOR_END: event_signal_closure

    // ANCHOR: loopexit
    /// Makes the loop return after `delay` (`None`: after the callbacks now running), once the
    /// active events of that iteration have run. libevent: `event_base_loopexit()` — a one-shot
    /// timer through `event_base_once()`.
    pub fn loopexit(&mut self, delay: Option<Duration>) -> Result<()> {
        self.once(-1, EV_TIMEOUT, delay, |base: &mut Base, _, _| {
            base.event_gotterm = true
        })
    }

    /// Makes the loop return as soon as the running callback returns; active events left are not
    /// run. libevent: `event_base_loopbreak()`.
    pub fn loopbreak(&mut self) {
        self.event_break = true;
    }
    // ANCHOR_END: loopexit

    /// `true` if the last loop ended because of loopexit. libevent: `event_base_got_exit()`.
    pub fn got_exit(&self) -> bool {
        self.event_gotterm
    }

    /// `true` if the last loop ended because of loopbreak. libevent: `event_base_got_break()`.
    pub fn got_break(&self) -> bool {
        self.event_break
    }

    // ANCHOR: once
    /// Schedules a callback to run once — when `fd` is ready for `what`, or on timeout — and frees
    /// its event before the callback runs. A pure timer (`what` = EV_TIMEOUT) with no delay runs on
    /// the next iteration. Refused, as in libevent: `EV_PERSIST`, and a `what` with neither
    /// `EV_TIMEOUT` nor an fd event. libevent: `event_base_once()`.
    pub fn once<F>(
        &mut self,
        fd: RawFd,
        what: Ev,
        delay: Option<Duration>,
        callback: F,
    ) -> Result<()>
    where
        F: FnOnce(&mut Base, RawFd, Ev) + 'static,
    {
        if what.intersects(EV_SIGNAL | EV_PERSIST) {
            return Err(Error::Invalid(
                "event_base_once: EV_SIGNAL and EV_PERSIST are not allowed".into(),
            ));
        }
        let is_timer = !what.intersects(EV_READ | EV_WRITE | EV_CLOSED);
        if is_timer && !what.contains(EV_TIMEOUT) {
            return Err(Error::Invalid(format!(
                "event_base_once: {what:?} is neither a timeout nor an fd event: pass EV_TIMEOUT \
                 (a timer) or EV_READ / EV_WRITE / EV_CLOSED"
            )));
        }
        let mut callback = Some(callback);
        // A timer is made as libevent's evtimer_assign makes it: on fd -1, whatever fd was given.
        let fd = if is_timer { -1 } else { fd };
        let id = self.event_new(fd, what.difference(EV_TIMEOUT), move |base, fd, res, me| {
            // Freed before the callback runs (libevent frees right after): a callback that panics
            // leaks nothing. The event is one-shot, so it is no longer pending and freeing it
            // cannot fail.
            if let Err(e) = base.event_free(me) {
                crate::log::warn(&format!("event_base_once: event_free: {e}"));
            }
            if let Some(callback) = callback.take() {
                callback(base, fd, res);
            }
        })?;
        if is_timer && delay.is_none_or(|d| d.is_zero()) {
            self.activate(id, EV_TIMEOUT);
            Ok(())
        } else {
            self.event_add(id, delay).inspect_err(|_| {
                // Nothing was registered: release the event (event_free of a non-pending event
                // cannot fail).
                let _ = self.event_free(id);
            })
        }
    }
    // ANCHOR_END: once
}
