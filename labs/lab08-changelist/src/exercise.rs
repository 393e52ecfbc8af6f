//! Lab 8 — the changelist. With `EVENT_EPOLL_USE_CHANGELIST` (or the base flag
//! `EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST`), epoll's `add` and `del` make no `epoll_ctl`: they
//! write down, per fd, what should change, and the next dispatch makes one `epoll_ctl` per fd
//! right before `epoll_wait`. Between two dispatches every add and del of an fd merges into that
//! fd's one entry — and the merge rules decide which system calls are made at all.
//!
//! Write `add` and `del` below. Everything else in this lab is minievent's own code: the list and
//! its one entry per fd (`get_or_construct`), evmap (which calls `add` and `del` with what the fd
//! had before), the epoll backend with the changelist (`EpollChangelist`: at the next dispatch it
//! hands the entries, in order, to `epoll_op` and `apply_one_change`, then empties the list), the
//! loop and the step programs. `just lab 8` runs the tests; `just hint 8` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - `self.get_or_construct(fd, old)`: the fd's entry (`&mut ChangeEntry`), made at the end of the
//!   list if the fd has none since the last dispatch — with `old` (its `EV_READ | EV_WRITE |
//!   EV_CLOSED` bits) as `old_events` and no change for any kind; an existing entry is returned as
//!   it is, `old_events` included;
//! - `ChangeEntry { fd, old_events, read, write, close }`, each kind a `KindChange { change, et }`
//!   (`crate::changelist`), `KindChange::NONE`; `Change::{None, Add, Del}`
//!   (`crate::backend::epoll::Change`);
//! - `Ev` flags with `contains`, `&`, `|`: `EV_READ`, `EV_WRITE`, `EV_CLOSED`, `EV_ET`
//!   (`crate::event`).

use crate::changelist::Changelist;
use crate::event::Ev;
use std::os::fd::RawFd;

impl Changelist {
    /// Records that `events` start being watched on `fd` (`old`: what the fd had before this
    /// call). Each kind in `events` (`EV_READ`, `EV_WRITE`, `EV_CLOSED`) becomes an add, whatever
    /// the fd's entry had for it — a del included — carrying `EV_ET` if `events` has it.
    ///
    /// libevent: `event_changelist_add_()` (evmap.c).
    pub fn add(&mut self, fd: RawFd, old: Ev, events: Ev) {
        let _ = (fd, old, events); // delete this line when you use them
        todo!("lab 8: Changelist::add — read chapter 9, section \"The merge rules\"")
    }

    /// Records that `events` stop being watched on `fd`. For each kind in `events`: if the fd had
    /// it when its entry was made (`old_events`), the kind becomes a del (carrying `EV_ET` if
    /// `events` has it); if not, whatever was recorded for it — an add made since the last
    /// dispatch — is cancelled: no change at all.
    ///
    /// libevent: `event_changelist_del_()` (evmap.c).
    pub fn del(&mut self, fd: RawFd, old: Ev, events: Ev) {
        let _ = (fd, old, events); // delete this line when you use them
        todo!("lab 8: Changelist::del — read chapter 9, section \"The merge rules\"")
    }
}
