//! Lab 3 — `event_add`: from an event to an `epoll_ctl` call. evmap counts the events on each fd
//! and tells the backend only about the first reader / writer / closer arriving and the last one
//! leaving; the epoll backend turns that change into ADD, MOD or DEL, and corrects its guess when
//! the kernel disagrees.
//!
//! Write the functions below (`count` is a suggestion: a helper `add` and `del` can share; delete it
//! if you do without). Everything else in this lab is minievent's own code: `Base::event_add` /
//! `event_del` call your `IoMap::add` / `del`, which call the backend, whose `add` / `del` build an
//! `EventChange` and call your `apply_one_change`. `just lab 3` runs the tests; `just hint 3` helps.
//!
//! What you can use (all of it is in minievent's src/):
//! - `self.slots: Vec<EvmapIo>`, indexed by fd; an `EvmapIo` has `nread`, `nwrite`, `nclose`
//!   and `old_events()` (and `head`, the start of the fd's list); `EvmapIo::default()` is an
//!   empty one; `self.events(fd)` walks the fd's list, `(EventId, Ev)` pairs, newest first;
//!   `self.link(index, id, events)` puts an event at the head of the list of the fd whose slot
//!   is `self.slots[index]`, `self.unlink(index, id)` takes it off;
//! - on an `Ev`: `contains`, `intersects`, `difference`, `is_empty`, `|`, `&`; `EV_READ`,
//!   `EV_WRITE`, `EV_CLOSED`, `EV_ET`; `crate::error::Error` (`TooManyEvents { fd }`,
//!   `MixedEdgeTrigger { fd }`, `Invalid(String)`);
//! - an `EventChange` has `fd`, `old_events`, `read_change`, `write_change`, `close_change` (each a
//!   `Change`: `None`, `Add` or `Del`) and `et`;
//! - `self.ctl(op, fd, &mut epev)`: one `epoll_ctl`; `self.retry(op, fd, &mut epev, "MOD", "ADD")`:
//!   the same, warning as libevent does if it fails too; `print_changes(op, events, ch, &err)` (in
//!   `crate::backend::epoll`): libevent's warning for a change that failed, to pass to
//!   `crate::log::warn`; `err.raw_os_error()` gives an error's errno.

use crate::backend::Backend;
use crate::backend::epoll::{Epoll, EventChange};
use crate::error::Result;
use crate::event::{Ev, EventId};
use crate::evmap::IoMap;
use std::os::fd::RawFd;

/// One count of evmap: `n` events of a kind on `fd`; one more (`up`) or one less (`!up`) if the
/// event is `wanted` for this kind. Returns the new count and whether the backend must hear of it
/// (the first event of the kind arrived, or the last one left). More than 65535 is
/// `Error::TooManyEvents { fd }`; fewer than 0 is an `Error::Invalid` (an event deleted twice).
pub fn count(fd: RawFd, n: u16, wanted: bool, up: bool) -> Result<(u16, bool)> {
    let _ = (fd, n, wanted, up); // delete this line when you use them
    todo!("lab 3: count — read chapter 3, section \"evmap: counting events per fd\"")
}

impl IoMap {
    /// Counts event `id` (waiting for `events`) on `fd` and, when a kind (read, write, close) gets
    /// its first event, tells `backend` with `backend.add(fd, old, new_kinds)` — `old` being what
    /// the fd had before, and `EV_ET` passed along with the new kinds for an edge-triggered event.
    /// Mixing edge-triggered and level-triggered events on one fd is refused. The event joins the
    /// fd's list at the head (`link`). Returns whether the backend was told.
    ///
    /// libevent: `evmap_io_add_()` (evmap.c).
    pub fn add(
        &mut self,
        backend: &mut dyn Backend,
        fd: RawFd,
        id: EventId,
        events: Ev,
    ) -> Result<bool> {
        let _ = (&backend, fd, id, events); // delete this line when you use them
        todo!("lab 3: IoMap::add — read chapter 3, section \"evmap: counting events per fd\"")
    }

    /// Forgets event `id` on `fd` and, when a kind loses its last event, tells `backend` with
    /// `backend.del(fd, old, gone_kinds)` (with `EV_ET` as in `add`). The event leaves the map even
    /// when the backend fails. Returns whether the backend was told.
    ///
    /// libevent: `evmap_io_del_()` (evmap.c).
    pub fn del(
        &mut self,
        backend: &mut dyn Backend,
        fd: RawFd,
        id: EventId,
        events: Ev,
    ) -> Result<bool> {
        let _ = (&backend, fd, id, events); // delete this line when you use them
        todo!("lab 3: IoMap::del — read chapter 3, section \"evmap: counting events per fd\"")
    }
}

/// The `epoll_ctl` operation and event mask (`EPOLLIN`, `EPOLLOUT`, `EPOLLRDHUP`) for a change,
/// or `None` when nothing changes — what libevent looks up in its `epoll_op_table`: the fd keeps
/// the kinds it had that are not deleted, plus the added ones. Something added: ADD if the fd had
/// no event before, else MOD. Only deletions: MOD to what remains, or DEL (with the deleted kinds
/// as the mask) when nothing remains.
///
/// libevent: `epoll_op_table` (epolltable-internal.h).
pub fn epoll_op(ch: &EventChange) -> Option<(libc::c_int, u32)> {
    let _ = ch; // delete this line when you use it
    todo!("lab 3: epoll_op — read chapter 3, section \"The epoll op table\"")
}

impl Epoll {
    /// Tells the kernel about one change: the op and mask from [`epoll_op`] (plus `EPOLLET` for an
    /// edge-triggered event, and the fd as the event's data), then the corrections libevent makes:
    /// a MOD that fails with ENOENT is retried as ADD, an ADD that fails with EEXIST as MOD, a DEL
    /// that fails with ENOENT, EBADF or EPERM is not an error. Any other failure is warned about
    /// and returned.
    ///
    /// libevent: `epoll_apply_one_change()` (epoll.c).
    pub fn apply_one_change(&mut self, ch: &EventChange) -> Result<()> {
        let _ = ch; // delete this line when you use it
        todo!("lab 3: Epoll::apply_one_change — read chapter 3, section \"epoll_apply_one_change\"")
    }
}
