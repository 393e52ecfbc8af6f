//! Lab 2 — `event_new`: what creating an event checks and does (no syscall at all), and how to read
//! the state an event is in.
//!
//! Write the three functions below. Everything else in this lab is minievent's own code: the step
//! program, `event_add`, `event_del`, `event_free`, the loop. `just lab 2` runs the tests;
//! `just hint 2` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - the flags `EV_TIMEOUT`, `EV_READ`, `EV_WRITE`, `EV_SIGNAL`, `EV_PERSIST`, `EV_ET`, `EV_CLOSED`
//!   (`crate::event`), and on an `Ev` (a `bitflags` type): `contains`, `intersects`, `difference`,
//!   `bits`, `Ev::all()` (every known flag), `|`, `&`;
//! - `crate::error::Error::Invalid(String)` for a refusal;
//! - `crate::event::Event::new(fd, events, callback, priority)`: an event in its initial state;
//!   `Box::new(callback)` makes the `Callback` it wants;
//! - the base's `events: Vec<Slot>` (a `Slot` has `generation: u32` and `event: Option<Event>`),
//!   `free_slots: Vec<u32>` (slots `event_free` emptied), `activequeues` (one per priority);
//!   an `EventId { index, generation, base }` names a slot of the base whose `self.id` is `base`;
//!   `self.ev(id)` finds a live event or fails;
//! - an `Event` has `events` (what it waits for), `list` (its `EvList`: `inserted`, `active`,
//!   `timeout`) and `res` (what made it active).

use crate::base::Base;
use crate::error::Result;
use crate::event::{Ev, EventId};
use std::os::fd::RawFd;

/// The checks `event_assign()` makes before an event exists (event.c), plus minievent's own:
/// - a bit that is not an `EV_*` flag: refused;
/// - `EV_SIGNAL` with `EV_READ`, `EV_WRITE` or `EV_CLOSED`: refused, in libevent's words
///   ("EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED");
/// - `EV_SIGNAL` alone is fine (its "fd" is a signal number, checked when it is added);
/// - `EV_READ`, `EV_WRITE` or `EV_CLOSED` with a negative fd: refused (only a pure timer has fd -1).
pub fn validate(fd: RawFd, events: Ev) -> Result<()> {
    let _ = (fd, events); // delete this line when you use them
    todo!("lab 2: validate — read chapter 2, section \"event_assign\"")
}

impl Base {
    /// Creates an event that waits for `events` on `fd` and calls `callback`: checked by
    /// [`validate`], initialised (not pending, not active, at the middle priority of the base's
    /// active queues) and stored in a slot of the base — a slot `event_free` emptied if there is
    /// one. Its id must never name a later event of the same slot. No syscall.
    ///
    /// libevent: `event_new()` / `event_assign()` (event.c).
    pub fn event_new<F>(&mut self, fd: RawFd, events: Ev, callback: F) -> Result<EventId>
    where
        F: FnMut(&mut Base, RawFd, Ev, EventId) + 'static,
    {
        let _ = (fd, events, &callback); // delete this line when you use them
        todo!("lab 2: Base::event_new — read chapter 2, section \"event_assign\"")
    }

    /// What the event is pending or active for, restricted to `what`: its `EV_READ` / `EV_WRITE` /
    /// `EV_CLOSED` while it is added, `EV_TIMEOUT` while a timeout is scheduled, and what made it
    /// active while it is active. An id whose event was freed is an error.
    ///
    /// libevent: `event_pending()` (event.c).
    pub fn event_pending(&self, id: EventId, what: Ev) -> Result<Ev> {
        let _ = (id, what); // delete this line when you use them
        todo!("lab 2: Base::event_pending — read chapter 2, section \"The states of an event\"")
    }
}
