//! The epoll changelist against the real kernel (libevent: evmap.c `event_changelist_*`,
//! epoll.c `epollops_changelist`, `epoll_apply_changes`): recorded changes make no `epoll_ctl`
//! until the next dispatch, which applies them right before it waits; an add and a del in one
//! iteration cancel out; a del then an add is kept; and the hazard libevent's documentation
//! warns about (fds cloned by `dup`). The kernel's interest list is read from
//! `/proc/self/fdinfo/EPFD` (one `tfd:` line per registered fd), so "no epoll_ctl" is seen, not
//! assumed.

#[macro_use]
mod common;

use common::*;
use minievent::backend::epoll::{EPOLLOPS_CHANGELIST, Epoll, EpollChangelist};
use minievent::util::{dup, socketpair, write};
use minievent::{
    Backend, Base, BaseFlags, Config, EV_ET, EV_PERSIST, EV_READ, EV_WRITE, Ev, LoopFlags,
};
use std::cell::Cell;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Serialises the tests that close fds and make numbers reappear.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fds registered in the epoll instance `epfd`, as the kernel lists them.
fn interest_list(epfd: RawFd) -> Vec<RawFd> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")).unwrap();
    info.lines()
        .filter_map(|l| l.strip_prefix("tfd:"))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// A base on epoll with the changelist (the environment ignored).
fn changelist_base() -> Base {
    let cfg = config_for("epoll").set_flag(BaseFlags::EPOLL_USE_CHANGELIST);
    Base::with_config(&cfg).unwrap()
}

#[test]
fn the_flag_picks_epollops_changelist_and_only_on_epoll() {
    let _l = lock();
    assert_eq!(changelist_base().method(), "epoll (with changelist)");
    assert_eq!(changelist_base().method(), EPOLLOPS_CHANGELIST.name);
    assert_eq!(base_for("epoll").method(), "epoll");
    for method in ["poll", "select"] {
        let cfg = config_for(method).set_flag(BaseFlags::EPOLL_USE_CHANGELIST);
        assert_eq!(Base::with_config(&cfg).unwrap().method(), method);
    }
    let cfg = Config::new()
        .set_flag(BaseFlags::IGNORE_ENV)
        .set_flag(BaseFlags::EPOLL_USE_CHANGELIST)
        .set_flag(BaseFlags::PRECISE_TIMER);
    assert_eq!(
        Base::with_config(&cfg).unwrap().method(),
        "epoll (with changelist)",
        "with the precise timer's timerfd too"
    );
}

#[test]
fn an_add_and_a_del_in_one_iteration_make_no_epoll_ctl() {
    let _l = lock();
    let mut cl = EpollChangelist::wrap(Epoll::new().unwrap());
    let epfd = cl.epoll().as_raw_fd();
    let [a, b] = socketpair().unwrap();
    cl.add(a, Ev::NONE, EV_READ).unwrap();
    assert!(interest_list(epfd).is_empty(), "add only records");
    cl.del(a, EV_READ, EV_READ).unwrap();
    assert!(cl.changelist().changes()[0].is_noop(), "cancelled");
    cl.apply_changes().unwrap();
    assert!(interest_list(epfd).is_empty());
    assert!(cl.changelist().is_empty());

    // The same on an fd that is not even open: no epoll_ctl is made, so nothing fails (made at
    // once, the ADD would fail with EBADF).
    close(b).unwrap();
    close(a).unwrap();
    let mut plain = Epoll::new().unwrap();
    assert!(plain.add(a, Ev::NONE, EV_READ).is_err(), "EBADF");
    cl.add(a, Ev::NONE, EV_READ | EV_WRITE).unwrap();
    cl.del(a, EV_READ | EV_WRITE, EV_READ | EV_WRITE).unwrap();
    cl.apply_changes().unwrap();
}

#[test]
fn changes_are_applied_in_dispatch_right_before_the_wait() {
    let _l = lock();
    let mut cl = EpollChangelist::wrap(Epoll::new().unwrap());
    let epfd = cl.epoll().as_raw_fd();
    let [a, b] = socketpair().unwrap();
    write(b, b"x").unwrap();
    cl.add(a, Ev::NONE, EV_READ).unwrap();
    cl.add(a, EV_READ, EV_WRITE).unwrap();
    assert!(
        interest_list(epfd).is_empty(),
        "nothing made before the dispatch"
    );
    assert_eq!(cl.changelist().len(), 1, "one entry for the fd");
    let mut ready = Vec::new();
    cl.dispatch(Some(Duration::ZERO), &mut ready).unwrap();
    assert_eq!(interest_list(epfd), vec![a], "one epoll_ctl(ADD) made");
    assert_eq!(
        ready,
        vec![(a, EV_READ | EV_WRITE | EV_ET)],
        "the same dispatch's wait saw it"
    );
    assert!(cl.changelist().is_empty());
    close(a).unwrap();
    close(b).unwrap();
}

#[test]
fn a_base_runs_callbacks_with_the_changelist() {
    let _l = lock();
    let mut base = changelist_base();
    let pair = Pair::new();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let id = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |_, fd, _, _| {
            assert!(read_one(fd));
            f.set(f.get() + 1)
        })
        .unwrap();
    base.event_add(id, None).unwrap();
    pair.send(b"x");
    base.run(LoopFlags::ONCE).unwrap();
    assert_eq!(fired.get(), 1);
    // Deleted and re-added in one iteration: a MOD, the event still fires.
    base.event_del(id).unwrap();
    base.event_add(id, None).unwrap();
    pair.send(b"y");
    base.run(LoopFlags::ONCE).unwrap();
    assert_eq!(fired.get(), 2);
    base.event_free(id).unwrap();
}

#[test]
fn an_unpollable_fd_is_refused_only_at_the_dispatch() {
    let _l = lock();
    let mut base = changelist_base();
    let null = std::fs::File::open("/dev/null").unwrap();
    let id = base
        .event_new(null.as_raw_fd(), EV_READ, |_, _, _, _| {})
        .unwrap();
    // libevent's step3-changelist prints "event_add: 0": the EPERM comes in the dispatch, which
    // only warns about it.
    base.event_add(id, None).unwrap();
    base.run(LoopFlags::NONBLOCK).unwrap();
    base.event_free(id).unwrap();
}

#[test]
fn a_del_then_an_add_survives_a_closed_and_reopened_fd() {
    let _l = lock();
    let mut base = changelist_base();
    let [a, b] = socketpair().unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let id = base
        .event_new(a, EV_READ | EV_PERSIST, move |_, fd, _, _| {
            assert!(read_one(fd));
            f.set(f.get() + 1)
        })
        .unwrap();
    base.event_add(id, None).unwrap();
    base.run(LoopFlags::NONBLOCK).unwrap(); // ADD made
    base.event_del(id).unwrap();
    close(a).unwrap();
    close(b).unwrap();
    let [a2, b2] = socketpair().unwrap();
    assert_eq!(a2, a, "the same number, a new socket");
    base.event_add(id, None).unwrap();
    // The entry is read Add with old_events EV_READ: MOD, ENOENT (a new file), retried as ADD.
    write(b2, b"x").unwrap();
    base.run(LoopFlags::ONCE).unwrap();
    assert_eq!(fired.get(), 1);
    base.event_free(id).unwrap();
    close(a2).unwrap();
    close(b2).unwrap();
}

/// The hazard of libevent's documentation ("it is not safe to use this flag if you have any fds
/// cloned by dup()"): a del recorded before the fd is closed is made after, when the fd number
/// no longer names the file. If a dup keeps the file open, the kernel keeps its registration —
/// the DEL fails with EBADF, which epoll_apply_one_change ignores — and the file's readiness is
/// reported under the closed number. Without the changelist the DEL is made while the fd is
/// still open and the registration goes.
#[test]
fn a_dupd_fd_closed_after_its_del_stays_registered() {
    let _l = lock();
    let [a, b] = socketpair().unwrap();
    let mut ready = Vec::new();

    let mut plain = Epoll::new().unwrap();
    plain.add(a, Ev::NONE, EV_READ).unwrap();
    let d = dup(a).unwrap();
    plain.del(a, EV_READ, EV_READ).unwrap(); // made now
    close(a).unwrap();
    assert!(interest_list(plain.as_raw_fd()).is_empty());
    let a = dup2(d, a).unwrap();
    close(d).unwrap();

    let mut cl = EpollChangelist::wrap(Epoll::new().unwrap());
    let epfd = cl.epoll().as_raw_fd();
    cl.add(a, Ev::NONE, EV_READ).unwrap();
    cl.dispatch(Some(Duration::ZERO), &mut ready).unwrap();
    assert_eq!(interest_list(epfd), vec![a]);
    let d = dup(a).unwrap();
    cl.del(a, EV_READ, EV_READ).unwrap(); // recorded only
    close(a).unwrap();
    write(b, b"x").unwrap();
    ready.clear();
    cl.dispatch(Some(Duration::ZERO), &mut ready).unwrap(); // DEL: EBADF, ignored
    assert_eq!(
        interest_list(epfd),
        vec![a],
        "the registration outlived the del"
    );
    assert_eq!(
        ready,
        vec![(a, EV_READ | EV_ET)],
        "readiness of the dup's file, reported under the closed number"
    );
    close(d).unwrap();
    close(b).unwrap();
}
