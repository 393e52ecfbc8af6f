//! The fd → events map. libevent: evmap.c (`struct event_io_map`, `struct evmap_io`,
//! `evmap_io_add_`, `evmap_io_del_`, `evmap_io_active_`).
//!
//! Several events may wait on one fd. The backend must hear only about the *first* reader, writer or
//! closer arriving and the *last* one leaving; evmap keeps a count of each per fd to decide that.

use crate::backend::Backend;
use crate::base::Base;
use crate::error::{Error, Result};
use crate::event::{EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev, EventId, NIL};
use std::os::fd::RawFd;

// ANCHOR: evmap_io
/// One fd's slot. libevent: `struct evmap_io`.
#[derive(Debug, Clone, Copy)]
pub struct EvmapIo {
    /// The first event of the fd's list: the most recently added (libevent inserts at the list
    /// head), as an index into [`IoMap`]'s entries; [`NIL`] when the list is empty. libevent:
    /// `events` (a `LIST_HEAD`).
    pub head: u32,
    /// How many of them wait for EV_READ. libevent: `nread`.
    pub nread: u16,
    /// How many wait for EV_WRITE. libevent: `nwrite`.
    pub nwrite: u16,
    /// How many wait for EV_CLOSED. libevent: `nclose`.
    pub nclose: u16,
}

/// One event's place in its fd's list: a doubly linked list threaded through the entries by
/// index, so adding at the head and unlinking from anywhere are O(1). libevent: the event's
/// `ev_io_next` (`LIST_ENTRY`).
#[derive(Debug, Clone, Copy)]
pub struct IoEntry {
    /// The event.
    pub id: EventId,
    /// What it waits for (`EV_READ`, `EV_WRITE`, `EV_CLOSED`, `EV_ET`).
    pub events: Ev,
    /// The next (older) event of the fd, or [`NIL`].
    pub next: u32,
    /// The previous (newer) event of the fd, or [`NIL`] for the head.
    pub prev: u32,
}
// ANCHOR_END: evmap_io

impl Default for EvmapIo {
    fn default() -> EvmapIo {
        EvmapIo {
            head: NIL,
            nread: 0,
            nwrite: 0,
            nclose: 0,
        }
    }
}

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
    /// The list entries, indexed by the event's slot in the base's event table (an event is on
    /// one fd's list at most), so that an event's entry is found without a search. libevent keeps
    /// the links in the `struct event` itself.
    pub(crate) entries: Vec<IoEntry>,
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

    /// The events on `fd` with what each waits for, head of the list (the newest) first.
    /// libevent: `LIST_FOREACH(ev, &ctx->events, ev_io_next)`.
    pub fn events(&self, fd: RawFd) -> impl Iterator<Item = (EventId, Ev)> + '_ {
        let mut at = self.get(fd).map_or(NIL, |ctx| ctx.head);
        std::iter::from_fn(move || {
            let entry = self.entries.get(at as usize)?;
            at = entry.next;
            Some((entry.id, entry.events))
        })
    }

    /// Puts event `id` (waiting for `events`) at the head of `fd`'s list, whose slot exists.
    /// libevent: `LIST_INSERT_HEAD(&ctx->events, ev, ev_io_next)`.
    pub fn link(&mut self, fd: usize, id: EventId, events: Ev) {
        let at = id.index;
        if at as usize >= self.entries.len() {
            let nil = IoEntry {
                id,
                events: Ev::NONE,
                next: NIL,
                prev: NIL,
            };
            self.entries.resize(at as usize + 1, nil);
        }
        let ctx = &mut self.slots[fd];
        let next = ctx.head;
        ctx.head = at;
        if next != NIL {
            self.entries[next as usize].prev = at;
        }
        self.entries[at as usize] = IoEntry {
            id,
            events,
            next,
            prev: NIL,
        };
    }

    /// Takes event `id` off `fd`'s list (where [`IoMap::link`] put it). libevent:
    /// `LIST_REMOVE(ev, ev_io_next)`.
    pub fn unlink(&mut self, fd: usize, id: EventId) {
        let IoEntry { next, prev, .. } = self.entries[id.index as usize];
        if prev == NIL {
            self.slots[fd].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
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
        let newest = self.events(fd).next();
        let ctx = &mut self.slots[index];
        let old = ctx.old_events();
        let (nread, first_read) = count(fd, ctx.nread, events.contains(EV_READ), true)?;
        let (nwrite, first_write) = count(fd, ctx.nwrite, events.contains(EV_WRITE), true)?;
        let (nclose, first_close) = count(fd, ctx.nclose, events.contains(EV_CLOSED), true)?;
        if let Some((_, other)) = newest
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
        self.link(index, id, events);
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
        let (index, ctx) = usize::try_from(fd)
            .ok()
            .and_then(|i| Some((i, self.slots.get_mut(i)?)))
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
        self.unlink(index, id);
        told
    }
    // ANCHOR_END: del
}

impl Base {
    // ANCHOR: active
    /// Activates the events on `fd` that `ready` concerns, head of the list first, each with what
    /// it waits for and got. Nothing is allocated: the list is walked in place (activating an
    /// event does not change the list). libevent: `evmap_io_active_()`.
    pub(crate) fn evmap_io_active(&mut self, fd: RawFd, ready: Ev) {
        let mut at = self.io.get(fd).map_or(NIL, |ctx| ctx.head);
        while let Some(&IoEntry {
            id, events, next, ..
        }) = self.io.entries.get(at as usize)
        {
            if events.intersects(ready.difference(EV_ET)) {
                self.activate(id, events & ready);
            }
            at = next;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A backend that accepts every change and makes no syscall.
    struct Accept;

    impl Backend for Accept {
        fn add(&mut self, _: RawFd, _: Ev, _: Ev) -> Result<()> {
            Ok(())
        }
        fn del(&mut self, _: RawFd, _: Ev, _: Ev) -> Result<()> {
            Ok(())
        }
        fn dispatch(&mut self, _: Option<Duration>, _: &mut Vec<(RawFd, Ev)>) -> Result<()> {
            Ok(())
        }
    }

    fn id(index: u32) -> EventId {
        EventId {
            index,
            generation: 7,
            base: 1,
        }
    }

    /// The linked lists against a plain model (a `Vec` per fd, newest first), through a long
    /// pseudo-random run of adds and deletes on three fds: the head, the middle and the tail of a
    /// list are all unlinked at some point, and every list reads the same both ways.
    #[test]
    fn fd_lists_match_a_model_through_random_adds_and_deletes() {
        const FDS: [RawFd; 3] = [3, 5, 9];
        let (mut map, mut backend) = (IoMap::default(), Accept);
        let mut model: Vec<Vec<(EventId, Ev)>> = vec![Vec::new(); 10];
        let mut added: Vec<Option<RawFd>> = vec![None; 64];
        let mut seed: u32 = 12345;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let slot = (seed >> 16) % 64;
            let events = if seed & 1 == 0 { EV_READ } else { EV_WRITE };
            match added[slot as usize] {
                None => {
                    let fd = FDS[(seed >> 8) as usize % FDS.len()];
                    map.add(&mut backend, fd, id(slot), events).unwrap();
                    model[fd as usize].insert(0, (id(slot), events));
                    added[slot as usize] = Some(fd);
                }
                Some(fd) => {
                    let list = &mut model[fd as usize];
                    let at = list.iter().position(|&(e, _)| e == id(slot)).unwrap();
                    let (_, events) = list.remove(at);
                    map.del(&mut backend, fd, id(slot), events).unwrap();
                    added[slot as usize] = None;
                }
            }
            for fd in FDS {
                let listed: Vec<(EventId, Ev)> = map.events(fd).collect();
                assert_eq!(listed, model[fd as usize], "fd {fd}'s list, head first");
                // The back links agree with the forward ones.
                let mut prev = NIL;
                let mut at = map.get(fd).map_or(NIL, |ctx| ctx.head);
                while at != NIL {
                    assert_eq!(map.entries[at as usize].prev, prev, "fd {fd}: back link");
                    prev = at;
                    at = map.entries[at as usize].next;
                }
            }
        }
    }
}
