//! The changelist: fd changes recorded between two waits instead of made at once. libevent:
//! changelist-internal.h and the `event_changelist_*` functions of evmap.c.
//!
//! With the changelist on (`EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST`, or `EVENT_EPOLL_USE_CHANGELIST`
//! in the environment), epoll's `add` and `del` only write down what should change on an fd; the
//! next dispatch makes one `epoll_ctl` per changed fd, right before `epoll_wait`
//! ([`crate::backend::epoll::EpollChangelist`]). Each fd has at most one entry per loop iteration,
//! and later calls merge into it:
//!
//! - an add sets the kind's change to Add, whatever it was (a del then an add is *not* a no-op:
//!   the del might fail because the fd was closed since, so the add is kept);
//! - a del sets it to Del if the fd had the kind when its entry was made, and to *nothing*
//!   otherwise: an add and a del of the same kind in one iteration cancel out, and no syscall is
//!   made for them.

use crate::backend::epoll::{Change, EventChange};
use crate::event::{EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev};
use std::os::fd::RawFd;

// ANCHOR: changelist_entry
/// One kind's recorded change and whether it came from an edge-triggered event: libevent keeps
/// `EV_CHANGE_ET` in each of `read_change`, `write_change` and `close_change` separately.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KindChange {
    /// Add, Del or nothing.
    pub change: Change,
    /// libevent: the `EV_CHANGE_ET` bit of this kind's change.
    pub et: bool,
}

impl KindChange {
    /// No change (libevent: 0).
    pub const NONE: KindChange = KindChange {
        change: Change::None,
        et: false,
    };
}

/// One fd's entry: its events when the entry was made, and one change per kind.
/// libevent: `struct event_change`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChangeEntry {
    /// The fd.
    pub fd: RawFd,
    /// `EV_READ | EV_WRITE | EV_CLOSED` as evmap had them before the first change of this
    /// iteration. libevent: `old_events`.
    pub old_events: Ev,
    /// libevent: `read_change`.
    pub read: KindChange,
    /// libevent: `write_change`.
    pub write: KindChange,
    /// libevent: `close_change`.
    pub close: KindChange,
}
// ANCHOR_END: changelist_entry

impl ChangeEntry {
    /// The change as the epoll backend applies it: the op table reads the three changes and
    /// `old_events`, and EPOLLET is set if any kind's change carries it (libevent ORs the three
    /// change bytes in `epoll_apply_one_change()`).
    pub fn to_event_change(&self) -> EventChange {
        EventChange {
            fd: self.fd,
            old_events: self.old_events,
            read_change: self.read.change,
            write_change: self.write.change,
            close_change: self.close.change,
            et: self.read.et || self.write.et || self.close.et,
        }
    }

    /// `true` when nothing is left to do for the fd (every change was cancelled).
    pub fn is_noop(&self) -> bool {
        [self.read, self.write, self.close]
            .iter()
            .all(|k| k.change == Change::None)
    }
}

/// The changes recorded since the last dispatch, one entry per fd, in the order the fds were
/// first changed. libevent: `struct event_changelist` (`changes`, `n_changes`) plus the per-fd
/// `struct event_changelist_fdinfo` (`idxplus1`), which libevent keeps behind each fd's
/// `struct evmap_io` and minievent keeps here, indexed by fd.
#[derive(Default, Debug)]
pub struct Changelist {
    /// libevent: `changes[0..n_changes]`.
    changes: Vec<ChangeEntry>,
    /// fd → its entry's index + 1, 0 for none. libevent: `fdinfo->idxplus1`.
    idxplus1: Vec<usize>,
}

impl Changelist {
    /// An empty changelist. libevent: `event_changelist_init_()`.
    pub fn new() -> Changelist {
        Changelist::default()
    }

    /// The recorded entries, in order (cancelled ones included: libevent leaves them in the
    /// array and skips them when it applies the list).
    pub fn changes(&self) -> &[ChangeEntry] {
        &self.changes
    }

    /// The number of entries. libevent: `n_changes`.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// `true` when nothing was recorded since the last dispatch.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    // ANCHOR: get_or_construct
    /// The entry of `fd`, made with `old` as its `old_events` if the fd has none yet.
    /// libevent: `event_changelist_get_or_construct()`.
    pub fn get_or_construct(&mut self, fd: RawFd, old: Ev) -> &mut ChangeEntry {
        let slot = usize::try_from(fd).expect("evmap hands the backend only non-negative fds");
        if slot >= self.idxplus1.len() {
            self.idxplus1.resize(slot + 1, 0);
        }
        if self.idxplus1[slot] == 0 {
            self.changes.push(ChangeEntry {
                fd,
                old_events: old & (EV_READ | EV_WRITE | EV_CLOSED),
                read: KindChange::NONE,
                write: KindChange::NONE,
                close: KindChange::NONE,
            });
            self.idxplus1[slot] = self.changes.len();
        }
        let idx = self.idxplus1[slot] - 1;
        debug_assert_eq!(self.changes[idx].fd, fd);
        &mut self.changes[idx]
    }
    // ANCHOR_END: get_or_construct

    // ANCHOR: changelist_add
    /// Records that `events` start being watched on `fd` (`old`: what evmap had before). An add
    /// replaces whatever the kind had, even a del: the del might be needed if the fd was closed
    /// and reopened. libevent: `event_changelist_add_()`.
    pub fn add(&mut self, fd: RawFd, old: Ev, events: Ev) {
        let set = KindChange {
            change: Change::Add,
            et: events.contains(EV_ET),
        };
        let entry = self.get_or_construct(fd, old);
        if events.contains(EV_READ) {
            entry.read = set;
        }
        if events.contains(EV_WRITE) {
            entry.write = set;
        }
        if events.contains(EV_CLOSED) {
            entry.close = set;
        }
    }
    // ANCHOR_END: changelist_add

    // ANCHOR: changelist_del
    /// Records that `events` stop being watched on `fd`. A kind the fd did not have when its
    /// entry was made becomes *no change*: the add recorded earlier in this iteration is
    /// cancelled, not answered by a del. libevent: `event_changelist_del_()`.
    pub fn del(&mut self, fd: RawFd, old: Ev, events: Ev) {
        let et = events.contains(EV_ET);
        let entry = self.get_or_construct(fd, old);
        let had = entry.old_events;
        let del_if = |kind: Ev| {
            if had.contains(kind) {
                KindChange {
                    change: Change::Del,
                    et,
                }
            } else {
                KindChange::NONE
            }
        };
        if events.contains(EV_READ) {
            entry.read = del_if(EV_READ);
        }
        if events.contains(EV_WRITE) {
            entry.write = del_if(EV_WRITE);
        }
        if events.contains(EV_CLOSED) {
            entry.close = del_if(EV_CLOSED);
        }
    }
    // ANCHOR_END: changelist_del

    /// Empties the list and forgets every fd's entry, handing the entries over (for the backend
    /// to apply). libevent: `event_changelist_remove_all_()`, after `epoll_apply_changes()` has
    /// read the array.
    pub fn take_all(&mut self) -> Vec<ChangeEntry> {
        for ch in &self.changes {
            self.idxplus1[ch.fd as usize] = 0;
        }
        std::mem::take(&mut self.changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Ev = Ev::NONE;

    fn kc(change: Change) -> KindChange {
        KindChange { change, et: false }
    }

    #[test]
    fn an_add_then_a_del_of_the_same_kind_cancel_out() {
        let mut cl = Changelist::new();
        cl.add(5, NONE, EV_READ);
        cl.del(5, EV_READ, EV_READ);
        assert_eq!(cl.len(), 1, "the entry stays, as libevent's does");
        assert!(cl.changes()[0].is_noop());
        assert_eq!(cl.changes()[0].old_events, NONE);
    }

    #[test]
    fn a_del_then_an_add_is_kept_as_an_add() {
        let mut cl = Changelist::new();
        cl.del(5, EV_READ, EV_READ);
        assert_eq!(cl.changes()[0].read, kc(Change::Del));
        cl.add(5, NONE, EV_READ);
        let e = cl.changes()[0];
        assert_eq!(e.read, kc(Change::Add));
        assert_eq!(e.old_events, EV_READ, "old_events is the first call's");
        // MOD EPOLLIN: not skipped, the fd may have been closed and reopened meanwhile.
        assert_eq!(
            crate::backend::epoll::epoll_op(&e.to_event_change()),
            Some((libc::EPOLL_CTL_MOD, libc::EPOLLIN as u32))
        );
    }

    #[test]
    fn kinds_merge_into_one_entry_per_fd_in_first_change_order() {
        let mut cl = Changelist::new();
        cl.add(7, NONE, EV_READ);
        cl.add(3, EV_WRITE, EV_READ);
        cl.add(7, EV_READ, EV_WRITE);
        cl.del(3, EV_READ | EV_WRITE, EV_WRITE);
        let [a, b] = cl.changes() else {
            panic!("two entries: {:?}", cl.changes())
        };
        assert_eq!((a.fd, a.old_events), (7, NONE));
        assert_eq!((a.read, a.write), (kc(Change::Add), kc(Change::Add)));
        assert_eq!(
            crate::backend::epoll::epoll_op(&a.to_event_change()),
            Some((libc::EPOLL_CTL_ADD, (libc::EPOLLIN | libc::EPOLLOUT) as u32))
        );
        assert_eq!((b.fd, b.old_events), (3, EV_WRITE));
        assert_eq!((b.read, b.write), (kc(Change::Add), kc(Change::Del)));
        assert_eq!(
            crate::backend::epoll::epoll_op(&b.to_event_change()),
            Some((libc::EPOLL_CTL_MOD, libc::EPOLLIN as u32))
        );
    }

    #[test]
    fn a_del_of_a_kind_the_fd_never_had_is_no_change() {
        let mut cl = Changelist::new();
        cl.del(4, EV_WRITE, EV_READ | EV_CLOSED);
        assert!(cl.changes()[0].is_noop());
    }

    #[test]
    fn a_cancelled_kind_drops_its_et_bit() {
        let mut cl = Changelist::new();
        cl.add(4, NONE, EV_READ | EV_ET);
        assert!(cl.changes()[0].to_event_change().et);
        cl.del(4, EV_READ, EV_READ | EV_ET);
        assert_eq!(cl.changes()[0].read, KindChange::NONE);
        cl.add(4, NONE, EV_WRITE);
        assert!(!cl.changes()[0].to_event_change().et);
    }

    #[test]
    fn take_all_empties_the_list_and_forgets_every_fd() {
        let mut cl = Changelist::new();
        cl.add(2, NONE, EV_READ);
        cl.add(9, NONE, EV_WRITE);
        let taken = cl.take_all();
        assert_eq!(taken.len(), 2);
        assert!(cl.is_empty());
        cl.del(9, EV_WRITE, EV_WRITE);
        assert_eq!(cl.len(), 1);
        assert_eq!(
            cl.changes()[0].old_events,
            EV_WRITE,
            "a new entry, new old_events"
        );
        assert_eq!(cl.changes()[0].write, kc(Change::Del));
    }
}
