//! The epoll backend against the real kernel: the corrections epoll.c:epoll_apply_one_change makes
//! to the op table's guesses, each provoked for real (a dup'd fd, a closed-and-reopened fd, a closed
//! fd, an unpollable fd), the op table itself (epolltable-internal.h), the errors that reach the
//! caller, evmap's counts when the kernel refuses a change, and the events array growing
//! (epoll.c:epoll_dispatch).
//!
//! Each provocation is mirrored on a raw epoll instance first, to show that the kernel really answers
//! with the errno the fallback is about; the same step through a [`Base`] must then succeed (or fail
//! with exactly that errno). Every test here closes and reuses fd numbers, so they hold one lock
//! and work on high fd numbers no other thread of this process is given.

#[macro_use]
mod common;

use common::*;
use minievent::backend::epoll::{Change, EPOLLOPS, Epoll, EventChange, INITIAL_NEVENT, epoll_op};
use minievent::util::{dup, socketpair, write};
use minievent::{
    Backend, Base, EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Error, Ev,
    LoopExit, LoopFlags,
};
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Serialises the tests of this file: they close fds and make numbers reappear.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A socket pair whose first end is moved to fd number `at` (so that it is the only fd of that
/// socket): returns `(at, peer)`.
fn socket_at(at: RawFd) -> (RawFd, RawFd) {
    let [s, peer] = socketpair().unwrap();
    assert_eq!(dup2(s, at).unwrap(), at);
    close(s).unwrap();
    (at, peer)
}

/// `true` when `fd` is not open (fcntl fails with EBADF).
fn is_closed(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no pointer.
    let res = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    res == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
}

/// A bare epoll instance, to show what the kernel answers without minievent's corrections.
struct RawEpoll(RawFd);

impl RawEpoll {
    fn new() -> RawEpoll {
        // SAFETY: epoll_create1 takes only flags.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(
            fd >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        RawEpoll(fd)
    }

    /// `epoll_ctl(op, fd, events)`: Ok, or the errno.
    fn ctl(&self, op: libc::c_int, fd: RawFd, events: libc::c_int) -> Result<(), i32> {
        let mut ev = libc::epoll_event {
            events: events as u32,
            u64: fd as u64,
        };
        // SAFETY: ev is a valid epoll_event for the call.
        match unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error().raw_os_error().unwrap()),
        }
    }
}

impl Drop for RawEpoll {
    fn drop(&mut self) {
        let _ = close(self.0);
    }
}

/// epoll.c:epoll_apply_one_change, EPOLL_CTL_ADD failing with EEXIST ([*3] in
/// epolltable-internal.h): an fd registered, dup'd, closed and dup2'd back still has its old epitem
/// in the kernel, so evmap's ADD is refused and retried as MOD — after which the event really fires.
/// On the way, DEL on the closed fd fails with EBADF, which is ignored.
#[test]
fn add_eexist_on_a_dup2d_fd_is_retried_as_mod() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, peer) = socket_at(600);
    let log = Log::new();
    let r = base
        .event_new(a, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    base.event_add(r, None).unwrap(); // ADD
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN).unwrap();

    let d = dup(a).unwrap(); // the open file now has two fds...
    close(a).unwrap(); // ...so its registration under `a` survives the close
    assert!(is_closed(a));
    assert_eq!(raw.ctl(libc::EPOLL_CTL_DEL, a, 0), Err(libc::EBADF));
    base.event_del(r)
        .expect("DEL on a closed fd: EBADF is ignored");
    assert_eq!(base.event_pending(r, EV_READ).unwrap(), Ev::NONE);

    assert_eq!(dup2(d, a).unwrap(), a); // `a` names the same file again
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN),
        Err(libc::EEXIST),
        "the kernel says EEXIST"
    );
    base.event_add(r, None)
        .expect("ADD got EEXIST and was retried as MOD");

    assert_eq!(write(peer, b"x").unwrap(), 1);
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(
        log.entries(),
        [("r", EV_READ)],
        "the event really fires after the MOD"
    );
    base.event_free(r).unwrap();
    for fd in [a, d, peer] {
        close(fd).unwrap();
    }
}

/// epoll.c:epoll_apply_one_change, EPOLL_CTL_MOD failing with ENOENT ([*1]): the registered file
/// was closed (its last fd replaced by a new socket under the same number) so the kernel forgot it,
/// while evmap still counts a reader. Adding a writer makes evmap guess MOD; it is retried as ADD,
/// and both events then really fire on the new socket.
#[test]
fn mod_enoent_on_a_reopened_fd_is_retried_as_add() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, old_peer) = socket_at(610);
    let log = Log::new();
    let r = base
        .event_new(a, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    let w = base.event_new(a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(r, None).unwrap(); // ADD EPOLLIN
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN).unwrap();

    // A new socket under the same number; the old one's last fd is gone, and with it its epitem.
    let [s, peer] = socketpair().unwrap();
    assert_eq!(dup2(s, a).unwrap(), a);
    close(s).unwrap();
    close(old_peer).unwrap();
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_MOD, a, libc::EPOLLIN | libc::EPOLLOUT),
        Err(libc::ENOENT),
        "the kernel says ENOENT"
    );
    base.event_add(w, None)
        .expect("MOD got ENOENT and was retried as ADD");

    assert_eq!(write(peer, b"x").unwrap(), 1);
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    let mut labels = log.labels();
    labels.sort_unstable();
    assert_eq!(
        labels,
        ["r", "w"],
        "both the reader and the writer fire on the new socket"
    );
    base.event_free(r).unwrap();
    base.event_free(w).unwrap();
    close(a).unwrap();
    close(peer).unwrap();
}

/// epoll.c:epoll_apply_one_change ignores DEL failing with ENOENT: the fd number now names a file
/// the kernel never had registered (the registered one was closed).
#[test]
fn del_enoent_on_a_reopened_fd_is_ignored() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, old_peer) = socket_at(620);
    let r = base.event_new(a, EV_READ, |_, _, _, _| {}).unwrap();
    base.event_add(r, None).unwrap();
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN).unwrap();
    let (_, peer) = socket_at(a); // replaces the registered socket
    close(old_peer).unwrap();
    assert_eq!(raw.ctl(libc::EPOLL_CTL_DEL, a, 0), Err(libc::ENOENT));
    base.event_del(r).expect("DEL's ENOENT is ignored");
    assert_eq!(base.event_pending(r, EV_READ).unwrap(), Ev::NONE);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    close(a).unwrap();
    close(peer).unwrap();
}

/// epoll.c:epoll_apply_one_change ignores DEL failing with EBADF: the event's fd was closed before
/// event_del (the usual close-then-free order of a careless program).
#[test]
fn del_ebadf_on_a_closed_fd_is_ignored() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, peer) = socket_at(630);
    let r = base
        .event_new(a, EV_READ | EV_WRITE, |_, _, _, _| {})
        .unwrap();
    base.event_add(r, None).unwrap();
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN | libc::EPOLLOUT)
        .unwrap();
    close(a).unwrap();
    assert!(is_closed(a));
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_DEL, a, 0),
        Err(libc::EBADF),
        "the kernel says EBADF"
    );
    base.event_del(r).expect("DEL's EBADF is ignored");
    assert_eq!(base.event_pending(r, EV_READ | EV_WRITE).unwrap(), Ev::NONE);
    assert_eq!(
        base.dispatch().unwrap(),
        LoopExit::NoEvents,
        "nothing is left pending"
    );
    close(peer).unwrap();
}

/// epoll.c:epoll_apply_one_change ignores DEL failing with EPERM: the fd number now names a file
/// epoll cannot watch at all (/dev/null).
#[test]
fn del_eperm_on_an_unpollable_fd_is_ignored() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, peer) = socket_at(640);
    let r = base.event_new(a, EV_READ, |_, _, _, _| {}).unwrap();
    base.event_add(r, None).unwrap();
    let null = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
    assert_eq!(dup2(null, a).unwrap(), a);
    close(null).unwrap();
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_DEL, a, 0),
        Err(libc::EPERM),
        "the kernel says EPERM"
    );
    base.event_del(r).expect("DEL's EPERM is ignored");
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    close(a).unwrap();
    close(peer).unwrap();
}

/// epoll.c:epoll_apply_one_change corrects only MOD's ENOENT, ADD's EEXIST and DEL's
/// ENOENT/EBADF/EPERM; any other failure is returned (after the PRINT_CHANGES warning). Here the
/// registered socket's number now names /dev/null: the kernel refuses the MOD with EPERM (it checks
/// that the file can be polled before it looks for the registration), and that is the error.
#[test]
fn mod_on_an_unpollable_fd_is_an_error() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, peer) = socket_at(650);
    let r = base.event_new(a, EV_READ, |_, _, _, _| {}).unwrap();
    let w = base.event_new(a, EV_WRITE, |_, _, _, _| {}).unwrap();
    base.event_add(r, None).unwrap();
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN).unwrap();
    let null = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
    assert_eq!(dup2(null, a).unwrap(), a); // the socket is gone, /dev/null takes its number
    close(null).unwrap();
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_MOD, a, libc::EPOLLIN | libc::EPOLLOUT),
        Err(libc::EPERM)
    );
    let err = base.event_add(w, None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    assert!(
        matches!(
            err,
            Error::Sys {
                call: "epoll_ctl(EPOLL_CTL_MOD)",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(base.event_pending(w, EV_WRITE).unwrap(), Ev::NONE);
    base.event_del(r).unwrap(); // DEL on /dev/null: EPERM, ignored
    close(a).unwrap();
    close(peer).unwrap();
}

/// epoll.c:epoll_nochangelist_add → epoll_ctl(ADD) on /dev/null fails with EPERM (the file cannot
/// be polled); event_add returns the error with its errno and call, and the event is not pending
/// (event.c:event_add_nolock_ only inserts it when evmap_io_add_ succeeded).
#[test]
fn event_add_on_dev_null_is_eperm() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let null = std::fs::File::open("/dev/null").unwrap();
    let fd = null.into_raw_fd();
    let x = base
        .event_new(fd, EV_READ, |_, _, _, _| panic!("never added"))
        .unwrap();
    let err = base.event_add(x, None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    assert!(
        matches!(
            err,
            Error::Sys {
                call: "epoll_ctl(EPOLL_CTL_ADD)",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(base.event_pending(x, EV_READ).unwrap(), Ev::NONE);
    assert_eq!(
        base.dispatch().unwrap(),
        LoopExit::NoEvents,
        "the failed add left nothing pending"
    );
    base.event_free(x).unwrap();
    close(fd).unwrap();
}

/// epoll_ctl(ADD) on a closed fd fails with EBADF, which epoll_apply_one_change does not correct.
#[test]
fn event_add_on_a_closed_fd_is_ebadf() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let (a, peer) = socket_at(660);
    close(a).unwrap();
    assert!(is_closed(a));
    let r = base.event_new(a, EV_READ, |_, _, _, _| {}).unwrap();
    let err = base.event_add(r, None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    assert!(
        matches!(
            err,
            Error::Sys {
                call: "epoll_ctl(EPOLL_CTL_ADD)",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(base.event_pending(r, EV_READ).unwrap(), Ev::NONE);
    // A timeout on the same event is not scheduled either (event_add_nolock_: `res != -1`).
    assert!(base.event_add(r, Some(Duration::from_secs(60))).is_err());
    assert_eq!(
        base.event_pending(r, EV_READ | EV_TIMEOUT).unwrap(),
        Ev::NONE
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    close(peer).unwrap();
}

/// epoll.c:epoll_dispatch doubles the events array (INITIAL_NEVENT 32 → 64) when one epoll_wait
/// fills it; the fds that did not fit are reported by the next wait.
#[test]
fn events_array_grows_when_a_wait_fills_it() {
    let _serial = lock();
    let pairs: Vec<Pair> = (0..33).map(|_| Pair::new()).collect();
    for pair in &pairs {
        pair.send(b"x");
    }

    // 31 ready fds do not fill the array: no growth.
    let mut small = Epoll::new().unwrap();
    for pair in &pairs[..31] {
        small.add(pair.a, Ev::NONE, EV_READ).unwrap();
    }
    let mut ready = Vec::new();
    small.dispatch(Some(SOON), &mut ready).unwrap();
    assert_eq!((ready.len(), small.nevents()), (31, INITIAL_NEVENT));

    // 33 ready fds: the first wait returns 32 and the array doubles; the next returns all 33.
    let mut ep = Epoll::new().unwrap();
    assert_eq!(ep.nevents(), 32);
    for pair in &pairs {
        ep.add(pair.a, Ev::NONE, EV_READ).unwrap();
    }
    ready.clear();
    ep.dispatch(Some(SOON), &mut ready).unwrap();
    assert_eq!(ready.len(), 32);
    assert_eq!(ep.nevents(), 64);
    assert!(
        ready.iter().all(|&(_, what)| what == EV_READ | EV_ET),
        "epoll reports `ev | EV_ET`"
    );
    ready.clear();
    ep.dispatch(Some(Duration::ZERO), &mut ready).unwrap();
    let mut fds: Vec<RawFd> = ready.iter().map(|&(fd, _)| fd).collect();
    fds.sort_unstable();
    let mut expected: Vec<RawFd> = pairs.iter().map(|p| p.a).collect();
    expected.sort_unstable();
    assert_eq!(fds, expected);
    assert_eq!(ep.nevents(), 64, "33 < 64: no second doubling");

    // Through a base: 33 one-shot readers all fire in one dispatch.
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let log = Log::new();
    for pair in &pairs {
        let ev = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
        base.event_add(ev, None).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.len(), 33);
}

/// epoll.c:epoll_apply_one_change adds EPOLLET for an EV_ET event, and an edge-triggered event is
/// woken once per new arrival, not while data stays unread.
#[test]
fn edge_triggered_fires_once_per_arrival() {
    let _serial = lock();
    let mut base =
        Base::with_config(&config_for("epoll").require_features(minievent::Features::ET)).unwrap();
    let pair = Pair::new();
    let log = Log::new();
    let r = base
        .event_new(pair.a, EV_READ | EV_ET | EV_PERSIST, log.recorder("r"))
        .unwrap();
    base.event_add(r, None).unwrap();
    pair.send(b"ab"); // never read
    run_once_guarded(&mut base);
    assert_eq!(
        log.entries(),
        [("r", EV_READ | EV_ET)],
        "the callback sees EV_ET"
    );
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(
        log.len(),
        1,
        "no new edge, no new call (level-triggered would fire again)"
    );
    pair.send(b"c");
    run_once_guarded(&mut base);
    assert_eq!(log.len(), 2);
}

/// The epoll op table: for every old set × read/write/close change, the (op, events) that
/// epoll.c:epoll_apply_one_change looks up in `epoll_op_table`. The rows are libevent 2.1.12's
/// epolltable-internal.h (the "xxx" rows, add+del, cannot be expressed and are left out), which its
/// comment derives as follows: if any change is an add, the fd keeps every kind it had that is not
/// deleted plus the added ones, with MOD if it had any event before and ADD otherwise; with only
/// deletions, MOD to what remains, or DEL when nothing remains (with the deleted kinds as events);
/// no change at all is no call.
#[test]
fn epoll_op_matches_libevents_table() {
    use Change::{Add as A, Del as D, None as N};
    const NOP: libc::c_int = 0;
    const ADD: libc::c_int = libc::EPOLL_CTL_ADD;
    const MOD: libc::c_int = libc::EPOLL_CTL_MOD;
    const DEL: libc::c_int = libc::EPOLL_CTL_DEL;
    const IN: libc::c_int = libc::EPOLLIN;
    const OUT: libc::c_int = libc::EPOLLOUT;
    const RDHUP: libc::c_int = libc::EPOLLRDHUP;
    // (old events: c = EV_CLOSED, r = EV_READ, w = EV_WRITE; read change; write change; close
    // change; op; events)
    #[rustfmt::skip]
    const TABLE: [(&str, Change, Change, Change, libc::c_int, libc::c_int); 216] = [
        (""   , N, N, N, NOP, 0),
        (""   , N, N, A, ADD, RDHUP),
        (""   , N, N, D, DEL, RDHUP),
        (""   , A, N, N, ADD, IN),
        (""   , A, N, A, ADD, IN | RDHUP),
        (""   , A, N, D, ADD, IN),
        (""   , D, N, N, DEL, IN),
        (""   , D, N, A, ADD, RDHUP),
        (""   , D, N, D, DEL, IN | RDHUP),
        (""   , N, A, N, ADD, OUT),
        (""   , N, A, A, ADD, OUT | RDHUP),
        (""   , N, A, D, ADD, OUT),
        (""   , A, A, N, ADD, IN | OUT),
        (""   , A, A, A, ADD, IN | OUT | RDHUP),
        (""   , A, A, D, ADD, IN | OUT),
        (""   , D, A, N, ADD, OUT),
        (""   , D, A, A, ADD, OUT | RDHUP),
        (""   , D, A, D, ADD, OUT),
        (""   , N, D, N, DEL, OUT),
        (""   , N, D, A, ADD, RDHUP),
        (""   , N, D, D, DEL, OUT | RDHUP),
        (""   , A, D, N, ADD, IN),
        (""   , A, D, A, ADD, IN | RDHUP),
        (""   , A, D, D, ADD, IN),
        (""   , D, D, N, DEL, IN | OUT),
        (""   , D, D, A, ADD, RDHUP),
        (""   , D, D, D, DEL, IN | OUT | RDHUP),
        ("r"  , N, N, N, NOP, 0),
        ("r"  , N, N, A, MOD, IN | RDHUP),
        ("r"  , N, N, D, MOD, IN),
        ("r"  , A, N, N, MOD, IN),
        ("r"  , A, N, A, MOD, IN | RDHUP),
        ("r"  , A, N, D, MOD, IN),
        ("r"  , D, N, N, DEL, IN),
        ("r"  , D, N, A, MOD, RDHUP),
        ("r"  , D, N, D, DEL, IN | RDHUP),
        ("r"  , N, A, N, MOD, IN | OUT),
        ("r"  , N, A, A, MOD, IN | OUT | RDHUP),
        ("r"  , N, A, D, MOD, IN | OUT),
        ("r"  , A, A, N, MOD, IN | OUT),
        ("r"  , A, A, A, MOD, IN | OUT | RDHUP),
        ("r"  , A, A, D, MOD, IN | OUT),
        ("r"  , D, A, N, MOD, OUT),
        ("r"  , D, A, A, MOD, OUT | RDHUP),
        ("r"  , D, A, D, MOD, OUT),
        ("r"  , N, D, N, MOD, IN),
        ("r"  , N, D, A, MOD, IN | RDHUP),
        ("r"  , N, D, D, MOD, IN),
        ("r"  , A, D, N, MOD, IN),
        ("r"  , A, D, A, MOD, IN | RDHUP),
        ("r"  , A, D, D, MOD, IN),
        ("r"  , D, D, N, DEL, IN | OUT),
        ("r"  , D, D, A, MOD, RDHUP),
        ("r"  , D, D, D, DEL, IN | OUT | RDHUP),
        ("w"  , N, N, N, NOP, 0),
        ("w"  , N, N, A, MOD, OUT | RDHUP),
        ("w"  , N, N, D, MOD, OUT),
        ("w"  , A, N, N, MOD, IN | OUT),
        ("w"  , A, N, A, MOD, IN | OUT | RDHUP),
        ("w"  , A, N, D, MOD, IN | OUT),
        ("w"  , D, N, N, MOD, OUT),
        ("w"  , D, N, A, MOD, OUT | RDHUP),
        ("w"  , D, N, D, MOD, OUT),
        ("w"  , N, A, N, MOD, OUT),
        ("w"  , N, A, A, MOD, OUT | RDHUP),
        ("w"  , N, A, D, MOD, OUT),
        ("w"  , A, A, N, MOD, IN | OUT),
        ("w"  , A, A, A, MOD, IN | OUT | RDHUP),
        ("w"  , A, A, D, MOD, IN | OUT),
        ("w"  , D, A, N, MOD, OUT),
        ("w"  , D, A, A, MOD, OUT | RDHUP),
        ("w"  , D, A, D, MOD, OUT),
        ("w"  , N, D, N, DEL, OUT),
        ("w"  , N, D, A, MOD, RDHUP),
        ("w"  , N, D, D, DEL, OUT | RDHUP),
        ("w"  , A, D, N, MOD, IN),
        ("w"  , A, D, A, MOD, IN | RDHUP),
        ("w"  , A, D, D, MOD, IN),
        ("w"  , D, D, N, DEL, IN | OUT),
        ("w"  , D, D, A, MOD, RDHUP),
        ("w"  , D, D, D, DEL, IN | OUT | RDHUP),
        ("rw" , N, N, N, NOP, 0),
        ("rw" , N, N, A, MOD, IN | OUT | RDHUP),
        ("rw" , N, N, D, MOD, IN | OUT),
        ("rw" , A, N, N, MOD, IN | OUT),
        ("rw" , A, N, A, MOD, IN | OUT | RDHUP),
        ("rw" , A, N, D, MOD, IN | OUT),
        ("rw" , D, N, N, MOD, OUT),
        ("rw" , D, N, A, MOD, OUT | RDHUP),
        ("rw" , D, N, D, MOD, OUT),
        ("rw" , N, A, N, MOD, IN | OUT),
        ("rw" , N, A, A, MOD, IN | OUT | RDHUP),
        ("rw" , N, A, D, MOD, IN | OUT),
        ("rw" , A, A, N, MOD, IN | OUT),
        ("rw" , A, A, A, MOD, IN | OUT | RDHUP),
        ("rw" , A, A, D, MOD, IN | OUT),
        ("rw" , D, A, N, MOD, OUT),
        ("rw" , D, A, A, MOD, OUT | RDHUP),
        ("rw" , D, A, D, MOD, OUT),
        ("rw" , N, D, N, MOD, IN),
        ("rw" , N, D, A, MOD, IN | RDHUP),
        ("rw" , N, D, D, MOD, IN),
        ("rw" , A, D, N, MOD, IN),
        ("rw" , A, D, A, MOD, IN | RDHUP),
        ("rw" , A, D, D, MOD, IN),
        ("rw" , D, D, N, DEL, IN | OUT),
        ("rw" , D, D, A, MOD, RDHUP),
        ("rw" , D, D, D, DEL, IN | OUT | RDHUP),
        ("c"  , N, N, N, NOP, 0),
        ("c"  , N, N, A, MOD, RDHUP),
        ("c"  , N, N, D, DEL, RDHUP),
        ("c"  , A, N, N, MOD, IN | RDHUP),
        ("c"  , A, N, A, MOD, IN | RDHUP),
        ("c"  , A, N, D, MOD, IN),
        ("c"  , D, N, N, MOD, RDHUP),
        ("c"  , D, N, A, MOD, RDHUP),
        ("c"  , D, N, D, DEL, IN | RDHUP),
        ("c"  , N, A, N, MOD, OUT | RDHUP),
        ("c"  , N, A, A, MOD, OUT | RDHUP),
        ("c"  , N, A, D, MOD, OUT),
        ("c"  , A, A, N, MOD, IN | OUT | RDHUP),
        ("c"  , A, A, A, MOD, IN | OUT | RDHUP),
        ("c"  , A, A, D, MOD, IN | OUT),
        ("c"  , D, A, N, MOD, OUT | RDHUP),
        ("c"  , D, A, A, MOD, OUT | RDHUP),
        ("c"  , D, A, D, MOD, OUT),
        ("c"  , N, D, N, MOD, RDHUP),
        ("c"  , N, D, A, MOD, RDHUP),
        ("c"  , N, D, D, DEL, OUT | RDHUP),
        ("c"  , A, D, N, MOD, IN | RDHUP),
        ("c"  , A, D, A, MOD, IN | RDHUP),
        ("c"  , A, D, D, MOD, IN),
        ("c"  , D, D, N, MOD, RDHUP),
        ("c"  , D, D, A, MOD, RDHUP),
        ("c"  , D, D, D, DEL, IN | OUT | RDHUP),
        ("cr" , N, N, N, NOP, 0),
        ("cr" , N, N, A, MOD, IN | RDHUP),
        ("cr" , N, N, D, MOD, IN),
        ("cr" , A, N, N, MOD, IN | RDHUP),
        ("cr" , A, N, A, MOD, IN | RDHUP),
        ("cr" , A, N, D, MOD, IN),
        ("cr" , D, N, N, MOD, RDHUP),
        ("cr" , D, N, A, MOD, RDHUP),
        ("cr" , D, N, D, DEL, IN | RDHUP),
        ("cr" , N, A, N, MOD, IN | OUT | RDHUP),
        ("cr" , N, A, A, MOD, IN | OUT | RDHUP),
        ("cr" , N, A, D, MOD, IN | OUT),
        ("cr" , A, A, N, MOD, IN | OUT | RDHUP),
        ("cr" , A, A, A, MOD, IN | OUT | RDHUP),
        ("cr" , A, A, D, MOD, IN | OUT),
        ("cr" , D, A, N, MOD, OUT | RDHUP),
        ("cr" , D, A, A, MOD, OUT | RDHUP),
        ("cr" , D, A, D, MOD, OUT),
        ("cr" , N, D, N, MOD, IN | RDHUP),
        ("cr" , N, D, A, MOD, IN | RDHUP),
        ("cr" , N, D, D, MOD, IN),
        ("cr" , A, D, N, MOD, IN | RDHUP),
        ("cr" , A, D, A, MOD, IN | RDHUP),
        ("cr" , A, D, D, MOD, IN),
        ("cr" , D, D, N, MOD, RDHUP),
        ("cr" , D, D, A, MOD, RDHUP),
        ("cr" , D, D, D, DEL, IN | OUT | RDHUP),
        ("cw" , N, N, N, NOP, 0),
        ("cw" , N, N, A, MOD, OUT | RDHUP),
        ("cw" , N, N, D, MOD, OUT),
        ("cw" , A, N, N, MOD, IN | OUT | RDHUP),
        ("cw" , A, N, A, MOD, IN | OUT | RDHUP),
        ("cw" , A, N, D, MOD, IN | OUT),
        ("cw" , D, N, N, MOD, OUT | RDHUP),
        ("cw" , D, N, A, MOD, OUT | RDHUP),
        ("cw" , D, N, D, MOD, OUT),
        ("cw" , N, A, N, MOD, OUT | RDHUP),
        ("cw" , N, A, A, MOD, OUT | RDHUP),
        ("cw" , N, A, D, MOD, OUT),
        ("cw" , A, A, N, MOD, IN | OUT | RDHUP),
        ("cw" , A, A, A, MOD, IN | OUT | RDHUP),
        ("cw" , A, A, D, MOD, IN | OUT),
        ("cw" , D, A, N, MOD, OUT | RDHUP),
        ("cw" , D, A, A, MOD, OUT | RDHUP),
        ("cw" , D, A, D, MOD, OUT),
        ("cw" , N, D, N, MOD, RDHUP),
        ("cw" , N, D, A, MOD, RDHUP),
        ("cw" , N, D, D, DEL, OUT | RDHUP),
        ("cw" , A, D, N, MOD, IN | RDHUP),
        ("cw" , A, D, A, MOD, IN | RDHUP),
        ("cw" , A, D, D, MOD, IN),
        ("cw" , D, D, N, MOD, RDHUP),
        ("cw" , D, D, A, MOD, RDHUP),
        ("cw" , D, D, D, DEL, IN | OUT | RDHUP),
        ("crw", N, N, N, NOP, 0),
        ("crw", N, N, A, MOD, IN | OUT | RDHUP),
        ("crw", N, N, D, MOD, IN | OUT),
        ("crw", A, N, N, MOD, IN | OUT | RDHUP),
        ("crw", A, N, A, MOD, IN | OUT | RDHUP),
        ("crw", A, N, D, MOD, IN | OUT),
        ("crw", D, N, N, MOD, OUT | RDHUP),
        ("crw", D, N, A, MOD, OUT | RDHUP),
        ("crw", D, N, D, MOD, OUT),
        ("crw", N, A, N, MOD, IN | OUT | RDHUP),
        ("crw", N, A, A, MOD, IN | OUT | RDHUP),
        ("crw", N, A, D, MOD, IN | OUT),
        ("crw", A, A, N, MOD, IN | OUT | RDHUP),
        ("crw", A, A, A, MOD, IN | OUT | RDHUP),
        ("crw", A, A, D, MOD, IN | OUT),
        ("crw", D, A, N, MOD, OUT | RDHUP),
        ("crw", D, A, A, MOD, OUT | RDHUP),
        ("crw", D, A, D, MOD, OUT),
        ("crw", N, D, N, MOD, IN | RDHUP),
        ("crw", N, D, A, MOD, IN | RDHUP),
        ("crw", N, D, D, MOD, IN),
        ("crw", A, D, N, MOD, IN | RDHUP),
        ("crw", A, D, A, MOD, IN | RDHUP),
        ("crw", A, D, D, MOD, IN),
        ("crw", D, D, N, MOD, RDHUP),
        ("crw", D, D, A, MOD, RDHUP),
        ("crw", D, D, D, DEL, IN | OUT | RDHUP),
    ];
    let mut checked = 0;
    for (old, read, write, close, op, events) in TABLE {
        let mut old_events = Ev::NONE;
        for (letter, kind) in [('c', EV_CLOSED), ('r', EV_READ), ('w', EV_WRITE)] {
            if old.contains(letter) {
                old_events |= kind;
            }
        }
        for et in [false, true] {
            let ch = EventChange {
                fd: 3,
                old_events,
                read_change: read,
                write_change: write,
                close_change: close,
                et,
            };
            let expected = (op != NOP).then_some((op, events as u32));
            assert_eq!(
                epoll_op(&ch),
                expected,
                "old={old:?} read={read:?} write={write:?} close={close:?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 8 * 27, "every old set × every change triple");
    // The table row for the backend is the one the preference table lists.
    assert_eq!(EPOLLOPS.name, "epoll");
}

/// epoll.c:epoll_apply_one_change, ADD failing with EEXIST, retried as MOD — and the MOD must really
/// change what the kernel watches. As in regress.c:test_dup_fd, the event added on the reappeared
/// fd is a *writer* while the stale registration the kernel kept is for EPOLLIN: if the EEXIST were
/// only ignored, the fd would stay watched for reading and the writer would never run (the fd is
/// readable and writable here, so the stale EPOLLIN would even report it — to nobody).
#[test]
fn add_eexist_retry_installs_the_new_interest() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let raw = RawEpoll::new();
    let (a, peer) = socket_at(670);
    let log = Log::new();
    let r = base
        .event_new(a, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    base.event_add(r, None).unwrap(); // ADD EPOLLIN
    raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLIN).unwrap();

    let d = dup(a).unwrap();
    close(a).unwrap(); // the registration under `a` survives in the dup's file
    base.event_del(r)
        .expect("DEL on a closed fd: EBADF is ignored");
    assert_eq!(dup2(d, a).unwrap(), a);
    assert_eq!(
        raw.ctl(libc::EPOLL_CTL_ADD, a, libc::EPOLLOUT),
        Err(libc::EEXIST),
        "the kernel says EEXIST"
    );

    let w = base
        .event_new(a, EV_WRITE | EV_PERSIST, log.recorder("w"))
        .unwrap();
    base.event_add(w, None)
        .expect("ADD got EEXIST and was retried as MOD");
    assert_eq!(write(peer, b"x").unwrap(), 1); // readable too: the stale EPOLLIN would report it
    assert_eq!(
        base.run(LoopFlags::NONBLOCK | LoopFlags::ONCE).unwrap(),
        LoopExit::Done,
        "one pass"
    );
    assert_eq!(
        log.entries(),
        [("w", EV_WRITE)],
        "the MOD replaced EPOLLIN with EPOLLOUT: the writer runs, nothing else"
    );
    base.event_free(r).unwrap();
    base.event_free(w).unwrap();
    for fd in [a, d, peer] {
        close(fd).unwrap();
    }
}

/// evmap.c:evmap_io_del_ takes the event out of the fd's counts *before* it asks the backend, and
/// keeps it out when the backend fails (libevent ignores evsel->del's result there too). The
/// failure is provoked for real: a reader and a writer on a socket that is then closed; deleting
/// the reader makes epoll MOD the fd to EPOLLOUT, which the kernel refuses with EBADF — an error
/// epoll_apply_one_change does not correct, so event_del returns it. The counts must still drop: the
/// writer's delete is then the fd's last (a DEL, whose EBADF is ignored), and once a new socket
/// takes the number, re-adding the reader must ADD it to the kernel again — which only happens if
/// evmap counts no reader left. It fires on the new socket.
#[test]
fn a_failed_backend_del_still_takes_the_event_out_of_evmap() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let (a, peer) = socket_at(680);
    let log = Log::new();
    let r = base
        .event_new(a, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    let w = base
        .event_new(a, EV_WRITE | EV_PERSIST, log.recorder("w"))
        .unwrap();
    base.event_add(r, None).unwrap(); // ADD EPOLLIN
    base.event_add(w, None).unwrap(); // MOD EPOLLIN|EPOLLOUT
    close(a).unwrap();
    close(peer).unwrap();
    assert!(is_closed(a));

    let err = base
        .event_del(r)
        .expect_err("MOD(EPOLLOUT) of a closed fd fails");
    assert!(
        matches!(&err, Error::Sys { call, .. } if call.contains("MOD")),
        "{err:?}"
    );
    assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    assert_eq!(
        base.event_pending(r, EV_READ).unwrap(),
        Ev::NONE,
        "the reader is deleted all the same"
    );
    base.event_del(w)
        .expect("the last event of the fd: DEL, whose EBADF is ignored");
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);

    let (a2, peer2) = socket_at(a);
    assert_eq!(a2, a);
    base.event_add(r, None)
        .expect("a new reader on the reused number is ADDed");
    assert_eq!(write(peer2, b"x").unwrap(), 1);
    assert_eq!(
        base.run(LoopFlags::NONBLOCK | LoopFlags::ONCE).unwrap(),
        LoopExit::Done
    );
    assert_eq!(
        log.entries(),
        [("r", EV_READ)],
        "the reader fires on the new socket, so the kernel was told about it"
    );
    base.event_free(r).unwrap();
    base.event_free(w).unwrap();
    close(a).unwrap();
    close(peer2).unwrap();
}

/// evmap.c:evmap_io_add_ asks the backend *before* it counts the event, so a refused add leaves no
/// count behind. Provoked for real: /dev/null under a socket's future number — epoll refuses it
/// (EPERM) — then a socket takes the number; adding the reader again must ADD it to the kernel
/// (which only happens if evmap counts no reader on the fd), and it fires.
#[test]
fn a_failed_backend_add_leaves_no_count_behind() {
    let _serial = lock();
    let mut base = Base::with_config(&config_for("epoll")).unwrap();
    let at = 690;
    let null = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
    assert_eq!(dup2(null, at).unwrap(), at);
    close(null).unwrap();
    let log = Log::new();
    let r = base
        .event_new(at, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    let err = base
        .event_add(r, None)
        .expect_err("epoll cannot watch /dev/null");
    assert!(
        matches!(&err, Error::Sys { call, .. } if call.contains("ADD")),
        "{err:?}"
    );
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");

    let (a, peer) = socket_at(at); // replaces /dev/null under the same number
    base.event_add(r, None)
        .expect("the reader is ADDed for the socket");
    assert_eq!(write(peer, b"x").unwrap(), 1);
    assert_eq!(
        base.run(LoopFlags::NONBLOCK | LoopFlags::ONCE).unwrap(),
        LoopExit::Done
    );
    assert_eq!(log.entries(), [("r", EV_READ)]);
    base.event_free(r).unwrap();
    close(a).unwrap();
    close(peer).unwrap();
}

/// The retry of [`add_eexist_retry_installs_the_new_interest`] seen in a syscall trace: that test is
/// run again, alone, in a child of this test binary under `strace -e trace=epoll_ctl`, and on the
/// base's epoll fd the refused `EPOLL_CTL_ADD` of the writer (EEXIST) must be followed at once by an
/// `EPOLL_CTL_MOD` to the same mask that succeeds — epoll.c:epoll_apply_one_change's retry, as
/// libevent makes it.
#[test]
fn add_eexist_retry_shows_in_the_trace() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let file = std::env::temp_dir().join(format!(
        "minievent-epoll-fallbacks-{}.strace",
        std::process::id()
    ));
    let out = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "signal=none",
            "-e",
            "trace=epoll_ctl",
            "-o",
        ])
        .arg(&file)
        .arg("--")
        .arg(&exe)
        .args([
            "add_eexist_retry_installs_the_new_interest",
            "--exact",
            "--test-threads=1",
        ])
        .output()
        .expect("running strace (apt-get install strace)");
    let trace = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "strace left no trace ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "the traced test failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Each line: `PID epoll_ctl(EPFD, OP, FD, {events=MASK, data=...}) = RESULT`, spaces squeezed.
    let calls: Vec<String> = trace
        .lines()
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .filter(|l| l.contains(", 670, "))
        .collect();
    let refused = calls
        .iter()
        .position(|l| {
            l.contains("EPOLL_CTL_ADD, 670, {events=EPOLLOUT,") && l.contains("= -1 EEXIST")
                // the base's call, not the RawEpoll mirror's: the mirror never retries
                && !l.starts_with(&format!("epoll_ctl({}", raw_epfd(&calls)))
        })
        .unwrap_or_else(|| {
            panic!(
                "no refused ADD of EPOLLOUT on fd 670:\n{}",
                calls.join("\n")
            )
        });
    let epfd = calls[refused]
        .split(['(', ','])
        .nth(1)
        .expect("an epoll fd");
    let retry = calls.get(refused + 1).map(String::as_str).unwrap_or("");
    assert!(
        retry.starts_with(&format!(
            "epoll_ctl({epfd}, EPOLL_CTL_MOD, 670, {{events=EPOLLOUT,"
        )) && retry.ends_with("= 0"),
        "after the refused ADD, the retry should be a MOD to EPOLLOUT that succeeds; the calls on \
         fd 670 were:\n{}",
        calls.join("\n")
    );
}

/// The epoll fd of the RawEpoll mirror in a trace of [`add_eexist_retry_installs_the_new_interest`]:
/// the base registers fd 670 first, the mirror second.
fn raw_epfd(calls: &[String]) -> String {
    let adds: Vec<&str> = calls
        .iter()
        .filter(|l| l.contains("EPOLL_CTL_ADD, 670, {events=EPOLLIN,"))
        .filter_map(|l| l.split(['(', ',']).nth(1))
        .collect();
    adds.get(1)
        .unwrap_or_else(|| panic!("two ADDs of EPOLLIN on fd 670:\n{}", calls.join("\n")))
        .to_string()
}
