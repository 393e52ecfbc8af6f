//! Lab 4 — `event_base_dispatch`: one `epoll_wait` and what it found, then the loop around it —
//! the active queues, EV_PERSIST against one-shot events, and the exit when nothing is pending.
//!
//! Write `dispatch`, `event_base_loop` and `process_active` below (`add` and `del` are chapter 3's,
//! given). Everything else in this lab is minievent's own code: `Base::dispatch` and `Base::run`
//! call your `event_base_loop` (`run` only adds panic safety around it), the
//! timeouts, `event_add` / `event_del`, evmap and the step programs are minievent's. `just lab 4`
//! runs the tests, the echo server included; `just hint 4` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - in `Epoll`: `self.epfd` (an owned fd: `self.epfd.as_raw_fd()`, with
//!   `std::os::fd::AsRawFd` in scope), `self.events` (the `Vec<libc::epoll_event>` to hand to epoll_wait;
//!   its length is libevent's `nevents`); `crate::backend::timeout_msec`, `MAX_EPOLL_TIMEOUT_MSEC`,
//!   `MAX_NEVENT` (in `crate::backend::epoll`); `crate::sys::cvt` and `err.raw_os_error()`;
//! - in `Base`: `running_loop`, `event_gotterm`, `event_break`, `event_continue`,
//!   `event_running_priority`, `event_count` (events added or with a timeout), `event_count_active`,
//!   `activequeues` (one queue per priority, 0 first: `self.activequeues[pri].is_empty()`),
//!   `tv_cache`, `ready` (a scratch `Vec` for the backend to fill), `backend` (the
//!   `Box<dyn Backend>`);
//! - on `Base`: `timeout_next()` (how long the backend may wait), `update_time_cache()`,
//!   `timeout_process()` (activates expired timeouts), `evmap_io_active(fd, what)` (evmap:
//!   activates the events of a ready fd, each with what it got), `active_front(pri)` (the oldest
//!   event of a priority's queue, the next to run), `activate(id, res)`, `remove_active(id)`,
//!   `event_del(id)`, `ev(id)` (an event: `.events` says whether it is `EV_PERSIST`),
//!   `run_callback(id)` (runs one callback, re-arming a persistent timeout first);
//!   `crate::error::Error::Reentrant` for a second loop on the same base.

use crate::backend::Backend;
use crate::backend::epoll::{Change, Epoll, EventChange};
use crate::base::Base;
use crate::error::Result;
use crate::event::Ev;
use crate::event_loop::{LoopExit, LoopFlags};
use std::os::fd::RawFd;
use std::time::Duration;

impl Backend for Epoll {
    /// Given (chapter 3). libevent: `epoll_nochangelist_add()`.
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.apply_one_change(&EventChange::new(fd, old, events, Change::Add))
    }

    /// Given (chapter 3). libevent: `epoll_nochangelist_del()`.
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> Result<()> {
        self.apply_one_change(&EventChange::new(fd, old, events, Change::Del))
    }

    /// One `epoll_wait` on the events array, for at most `timeout` (`None`: no limit) in
    /// milliseconds rounded up and clamped to `MAX_EPOLL_TIMEOUT_MSEC`; an interrupted wait (EINTR)
    /// is not an error. Each result goes onto `ready` as `(fd, what | EV_ET)`, `what` being:
    /// `EV_READ | EV_WRITE` for an error, or a hang-up without EPOLLRDHUP; otherwise `EV_READ` for
    /// EPOLLIN, `EV_WRITE` for EPOLLOUT, `EV_CLOSED` for EPOLLRDHUP (nothing: not pushed). When the
    /// wait filled the array, it doubles for next time (up to `MAX_NEVENT`).
    ///
    /// libevent: `epoll_dispatch()` (epoll.c).
    fn dispatch(&mut self, timeout: Option<Duration>, ready: &mut Vec<(RawFd, Ev)>) -> Result<()> {
        let _ = (timeout, &ready); // delete this line when you use them
        todo!("lab 4: Epoll's dispatch — read chapter 4, section \"epoll_dispatch\"")
    }
}

impl Base {
    /// The event loop. A second loop from a callback while one runs is refused. Each iteration:
    /// return `Done` if loopexit or loopbreak was called; return `NoEvents` if no event is pending
    /// or active (unless `NO_EXIT_ON_EMPTY`); let the backend wait — zero if something is already
    /// active or with `NONBLOCK`, else until the next timeout (forever without one) — and activate
    /// what it found, through evmap; activate the expired timeouts; run the active events. With
    /// `ONCE`, return `Done` after an iteration that ran callbacks and left nothing active; with
    /// `NONBLOCK`, after one that found nothing active.
    ///
    /// libevent: `event_base_loop()` (event.c).
    pub(crate) fn event_base_loop(&mut self, flags: LoopFlags) -> Result<LoopExit> {
        let _ = flags; // delete this line when you use it
        todo!(
            "lab 4: Base::event_base_loop — read chapter 4, section \"event_base_loop, step by step\""
        )
    }

    /// Runs the active events of the most urgent non-empty queue (lowest number), oldest first,
    /// and returns how many callbacks ran. Before its callback runs, an `EV_PERSIST` event leaves
    /// the active queue but stays pending; any other event is deleted (so its callback may add it
    /// again). Stop after a callback that called loopbreak (`event_break`), or that made a more
    /// urgent event active (`event_continue`: the next iteration runs it first). Queues after the
    /// first non-empty one wait for the next iteration. (minievent's own version also stops early
    /// under `Config::max_dispatch_interval` and does not count the base's internal events: the
    /// timers chapter's business, which this lab does not test.)
    ///
    /// libevent: `event_process_active()` + `event_process_active_single_queue()` (event.c).
    pub fn process_active(&mut self) -> usize {
        todo!("lab 4: Base::process_active — read chapter 4, section \"Running the active events\"")
    }
}
