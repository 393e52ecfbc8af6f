//! The fd → events map. libevent: evmap.c (`struct event_io_map`, `struct evmap_io`,
//! `evmap_io_add_`, `evmap_io_del_`, `evmap_io_active_`).
//!
//! Several events may wait on one fd. The backend must hear only about the *first* reader, writer or
//! closer arriving and the *last* one leaving; evmap keeps a count of each per fd to decide that.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::event::{EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev, EventId};
use std::os::fd::RawFd;

// ANCHOR: evmap_io
/// One fd's slot. libevent: `struct evmap_io`.
#[derive(Default, Debug)]
pub struct EvmapIo {
    /// Events on this fd, most recently added first (libevent inserts at the list head).
    pub events: Vec<(EventId, Ev)>,
    /// How many of them wait for EV_READ. libevent: `nread`.
    pub nread: u16,
    /// How many wait for EV_WRITE. libevent: `nwrite`.
    pub nwrite: u16,
    /// How many wait for EV_CLOSED. libevent: `nclose`.
    pub nclose: u16,
}
// ANCHOR_END: evmap_io

impl EvmapIo {
    /// The kinds this fd is watched for: `EV_READ | EV_WRITE | EV_CLOSED` where the count is non-zero.
    pub fn old_events(&self) -> Ev {
        kinds(self.nread > 0, self.nwrite > 0, self.nclose > 0)
    }
}

/// `EV_READ`, `EV_WRITE` and `EV_CLOSED`, each where its flag is set: the kinds an fd is watched
/// for, or the kinds whose count just crossed zero (what evmap tells the backend).
pub fn kinds(read: bool, write: bool, close: bool) -> Ev {
    let mut res = Ev::NONE;
    res.set(EV_READ, read);
    res.set(EV_WRITE, write);
    res.set(EV_CLOSED, close);
    res
}

/// Every fd's slot, indexed by fd (libevent's array variant, used where fds are small integers).
/// libevent: `struct event_io_map`.
#[derive(Default)]
pub struct IoMap {
    pub(crate) slots: Vec<EvmapIo>,
    /// Which fds have had an event at some time: libevent allocates an fd's `struct evmap_io`
    /// on its first `evmap_io_add_` and keeps it until the base is freed, and `evmap_reinit_`
    /// calls the backend's `add` for every allocated slot, even one with no event left (which
    /// matters only to the changelist: it makes an empty entry, and so fixes the fd's place in
    /// the order of the changes). Marked by [`IoMap::note_slot`], called by `event_add` before
    /// [`IoMap::add`].
    pub(crate) allocated: Vec<bool>,
}

// ANCHOR: count
/// One kind's count on `fd`, one more (`up`) or one less if the event is `wanted` for this kind:
/// (new count, became-first-or-last). libevent: the `nread`/`nwrite`/`nclose` arithmetic of
/// `evmap_io_add_()` and `evmap_io_del_()`.
fn count(fd: RawFd, n: u16, wanted: bool, up: bool) -> Result<(u16, bool)> {
    if !wanted {
        return Ok((n, false));
    }
    if up {
        let n = n.checked_add(1).ok_or(Error::TooManyEvents { fd })?;
        Ok((n, n == 1))
    } else {
        let n = n.checked_sub(1).ok_or_else(|| {
            Error::Invalid(format!(
                "evmap_io_del_: fd {fd} has no event of this kind left to delete"
            ))
        })?;
        Ok((n, n == 0))
    }
}
// ANCHOR_END: count

impl IoMap {
    /// Marks `fd`'s slot as allocated (see [`IoMap::allocated`]). libevent: the constructor
    /// half of `GET_IO_SLOT_AND_CTOR` in `evmap_io_add_()`.
    pub(crate) fn note_slot(&mut self, fd: RawFd) {
        if let Ok(i) = usize::try_from(fd) {
            if i >= self.allocated.len() {
                self.allocated.resize(i + 1, false);
            }
            self.allocated[i] = true;
        }
    }

    /// The fds whose slot is allocated, in increasing order. libevent: the walk of
    /// `evmap_io_foreach_fd()`.
    pub(crate) fn allocated_fds(&self) -> Vec<RawFd> {
        (0..self.allocated.len())
            .filter(|&i| self.allocated[i])
            .map(|i| i as RawFd)
            .collect()
    }

    /// The slot of `fd`, if it ever had an event.
    pub fn get(&self, fd: RawFd) -> Option<&EvmapIo> {
        usize::try_from(fd).ok().and_then(|i| self.slots.get(i))
    }

    // ANCHOR: add
    /// Counts a new event on `fd` and tells the backend when a kind gets its first event.
    /// Returns `true` when the backend was told. libevent: `evmap_io_add_()`.
    pub fn add(
        &mut self,
        backend: &mut dyn Backend,
        fd: RawFd,
        id: EventId,
        events: Ev,
    ) -> Result<bool> {
        let index =
            usize::try_from(fd).map_err(|_| Error::Invalid(format!("evmap: negative fd {fd}")))?;
        if index >= self.slots.len() {
            self.slots.resize_with(index + 1, EvmapIo::default);
        }
        let ctx = &mut self.slots[index];
        let old = ctx.old_events();
        let (nread, first_read) = count(fd, ctx.nread, events.contains(EV_READ), true)?;
        let (nwrite, first_write) = count(fd, ctx.nwrite, events.contains(EV_WRITE), true)?;
        let (nclose, first_close) = count(fd, ctx.nclose, events.contains(EV_CLOSED), true)?;
        if let Some(&(_, other)) = ctx.events.first()
            && other.contains(EV_ET) != events.contains(EV_ET)
        {
            return Err(Error::MixedEdgeTrigger { fd });
        }
        let res = kinds(first_read, first_write, first_close);
        if !res.is_empty() {
            backend.add(fd, old, (events & EV_ET) | res)?;
        }
        ctx.nread = nread;
        ctx.nwrite = nwrite;
        ctx.nclose = nclose;
        ctx.events.insert(0, (id, events));
        Ok(!res.is_empty())
    }
    // ANCHOR_END: add

    // ANCHOR: del
    /// Forgets an event on `fd` and tells the backend when a kind loses its last event.
    /// The event leaves the map even when the backend fails, as in libevent. libevent: `evmap_io_del_()`.
    pub fn del(
        &mut self,
        backend: &mut dyn Backend,
        fd: RawFd,
        id: EventId,
        events: Ev,
    ) -> Result<bool> {
        let ctx = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .ok_or_else(|| Error::Invalid(format!("evmap_io_del_: fd {fd} never had an event")))?;
        let old = ctx.old_events();
        let (nread, last_read) = count(fd, ctx.nread, events.contains(EV_READ), false)?;
        let (nwrite, last_write) = count(fd, ctx.nwrite, events.contains(EV_WRITE), false)?;
        let (nclose, last_close) = count(fd, ctx.nclose, events.contains(EV_CLOSED), false)?;
        let res = kinds(last_read, last_write, last_close);
        let told = if res.is_empty() {
            Ok(false)
        } else {
            backend.del(fd, old, (events & EV_ET) | res).map(|()| true)
        };
        ctx.nread = nread;
        ctx.nwrite = nwrite;
        ctx.nclose = nclose;
        ctx.events.retain(|&(e, _)| e != id);
        told
    }
    // ANCHOR_END: del

    // ANCHOR: active
    /// The events on `fd` that `ready` concerns, head of the list first, each with what it gets.
    /// The base activates them in this order. libevent: `evmap_io_active_()`.
    pub fn active(&self, fd: RawFd, ready: Ev) -> Vec<(EventId, Ev)> {
        self.get(fd)
            .map(|ctx| {
                ctx.events
                    .iter()
                    .filter(|(_, events)| events.intersects(ready.difference(EV_ET)))
                    .map(|&(id, events)| (id, events & ready))
                    .collect()
            })
            .unwrap_or_default()
    }
    // ANCHOR_END: active
}

// ANCHOR: evmap_signal
/// Signal number → the events waiting for it, most recently added first. Only the first event of
/// a signal arriving and the last one leaving concern `evsig` (the handler is installed or
/// restored); there are no per-kind counts. libevent: `struct event_signal_map` of
/// `struct evmap_signal`, `evmap_signal_add_()`, `evmap_signal_del_()`.
#[derive(Default)]
pub struct SignalMap {
    pub(crate) slots: Vec<Vec<EventId>>,
}

impl SignalMap {
    /// Records `id` for `signo` (at the head of its list); `true` if it is the signal's first
    /// event. The caller installs the handler *before* recording, as libevent calls `evsig_add`
    /// before `LIST_INSERT_HEAD`, so [`SignalMap::is_empty_for`] tells it whether to.
    pub fn insert(&mut self, signo: i32, id: EventId) {
        let index = usize::try_from(signo).expect("a checked signal number");
        if index >= self.slots.len() {
            self.slots.resize_with(index + 1, Vec::new);
        }
        self.slots[index].insert(0, id);
    }

    /// Whether no event waits for `signo`.
    pub fn is_empty_for(&self, signo: i32) -> bool {
        usize::try_from(signo)
            .ok()
            .and_then(|i| self.slots.get(i))
            .is_none_or(Vec::is_empty)
    }

    /// Forgets `id` for `signo`; `true` if it was the signal's last event.
    pub fn remove(&mut self, signo: i32, id: EventId) -> bool {
        let Some(list) = usize::try_from(signo)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        else {
            return false;
        };
        list.retain(|&e| e != id);
        list.is_empty()
    }

    /// The events of `signo`, head of the list first. libevent: the walk of `evmap_signal_active_()`.
    pub fn events(&self, signo: i32) -> Vec<EventId> {
        usize::try_from(signo)
            .ok()
            .and_then(|i| self.slots.get(i))
            .cloned()
            .unwrap_or_default()
    }

    /// Every signal that has at least one event, in increasing order. libevent:
    /// `evmap_signal_foreach_signal()`.
    pub fn signals(&self) -> Vec<i32> {
        (0..self.slots.len())
            .filter(|&i| !self.slots[i].is_empty())
            .map(|i| i as i32)
            .collect()
    }
}
// ANCHOR_END: evmap_signal
