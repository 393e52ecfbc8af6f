//! Signal events (libevent: signal.c, evmap.c `evmap_signal_*`, event.c `event_signal_closure`),
//! on epoll, poll and select.
//!
//! Signal dispositions and the base that receives signals are process-wide, while the test
//! runner runs tests in parallel threads of one process: every test here takes [`LOCK`] and uses
//! its own signal numbers, so that no test sees another's signal or handler. Signals are sent
//! with `raise`, which delivers them to the calling thread before it returns.

#[macro_use]
mod common;

use common::base_for;
use minievent::{Base, EV_PERSIST, EV_READ, EV_SIGNAL, Ev, EventId, LoopExit, LoopFlags};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

/// One signal test at a time (see the module docs).
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `SIGRTMIN + n`: real-time signals of its own for each test.
fn rt(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

fn raise(sig: i32) {
    // SAFETY: raise only sends a signal to this thread; the tests install handlers first.
    assert_eq!(unsafe { libc::raise(sig) }, 0, "raise({sig})");
}

/// The current handler of `sig` (`SIG_DFL`, `SIG_IGN` or a function's address).
fn handler_of(sig: i32) -> libc::sighandler_t {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only queries.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) },
        0
    );
    old.sa_sigaction
}

/// Sets `sig`'s handler to `handler` (for a test's own signal number).
fn set_handler(sig: i32, handler: libc::sighandler_t) {
    // SAFETY: a zeroed sigaction with a handler of SIG_IGN / SIG_DFL is valid.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) },
        0
    );
}

type Log = Rc<RefCell<Vec<(i32, Ev)>>>;

/// An event on `sig` that logs `(signal, what)` on every call.
fn logging_event(base: &mut Base, sig: i32, what: Ev, log: &Log) -> EventId {
    let log = log.clone();
    base.event_new(sig, what, move |_, fd, res, _| {
        log.borrow_mut().push((fd, res))
    })
    .expect("event_new")
}

/// A one-shot signal event fires once, with EV_SIGNAL and its signal number as fd; it is then no
/// longer pending, its handler is gone, and the loop ends (nothing pending).
fn one_shot_fires_once(method: &str) {
    let _guard = lock();
    let sig = rt(1);
    let mut base = base_for(method);
    let log = Log::default();
    let ev = logging_event(&mut base, sig, EV_SIGNAL, &log);
    base.event_add(ev, None).unwrap();
    assert_eq!(base.event_pending(ev, EV_SIGNAL).unwrap(), EV_SIGNAL);
    raise(sig);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(*log.borrow(), vec![(sig, EV_SIGNAL)]);
    assert_eq!(base.event_pending(ev, EV_SIGNAL).unwrap(), Ev::NONE);
    assert_eq!(handler_of(sig), libc::SIG_DFL, "the old action is back");
    base.event_free(ev).unwrap();
}

/// A signal that arrives twice before the loop looks runs a callback twice (ncalls): for a
/// one-shot event too, as `event_signal_closure` loops ncalls times after the event was deleted.
fn ncalls_counts_arrivals(method: &str) {
    let _guard = lock();
    let sig = rt(2);
    let mut base = base_for(method);
    let log = Log::default();
    let once = logging_event(&mut base, sig, EV_SIGNAL, &log);
    base.event_add(once, None).unwrap();
    raise(sig);
    raise(sig);
    raise(sig);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.borrow().len(), 3, "{:?}", log.borrow());
    base.event_free(once).unwrap();
}

/// A persistent signal event stays pending and fires on every arrival; the loop keeps running
/// until it is deleted.
fn persistent_fires_every_time(method: &str) {
    let _guard = lock();
    let sig = rt(3);
    let mut base = base_for(method);
    let log = Log::default();
    let ev = base
        .evsignal_new(sig, {
            let log = log.clone();
            move |base, fd, res, me| {
                log.borrow_mut().push((fd, res));
                if log.borrow().len() == 3 {
                    base.event_del(me).unwrap();
                }
            }
        })
        .unwrap();
    assert_eq!(base.event_get_events(ev).unwrap(), EV_SIGNAL | EV_PERSIST);
    base.event_add(ev, None).unwrap();
    raise(sig);
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(log.borrow().len(), 1);
    assert_eq!(base.event_pending(ev, EV_SIGNAL).unwrap(), EV_SIGNAL);
    raise(sig);
    raise(sig);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.borrow().len(), 3);
    assert_eq!(handler_of(sig), libc::SIG_DFL);
    base.event_free(ev).unwrap();
}

/// Deleting the event inside its callback stops the remaining ncalls calls
/// (`event_del` zeroes the closure's counter through `ev_pncalls`).
fn delete_in_callback_stops_ncalls(method: &str) {
    let _guard = lock();
    let sig = rt(4);
    let mut base = base_for(method);
    let calls = Rc::new(RefCell::new(0));
    let ev = base
        .evsignal_new(sig, {
            let calls = calls.clone();
            move |base, _, _, me| {
                *calls.borrow_mut() += 1;
                base.event_del(me).unwrap();
            }
        })
        .unwrap();
    base.event_add(ev, None).unwrap();
    raise(sig);
    raise(sig);
    raise(sig);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(*calls.borrow(), 1);
    base.event_free(ev).unwrap();
}

/// Two events on one signal both fire, the most recently added first (evmap's list head); the
/// handler stays until the second is deleted, and then the action before the first add is back.
fn two_events_on_one_signal(method: &str) {
    let _guard = lock();
    let sig = rt(5);
    set_handler(sig, libc::SIG_IGN);
    let mut base = base_for(method);
    let log = Log::default();
    let first = logging_event(&mut base, sig, EV_SIGNAL | EV_PERSIST, &log);
    let second = logging_event(&mut base, sig, EV_SIGNAL | EV_PERSIST | Ev::TIMEOUT, &log);
    base.event_add(first, None).unwrap();
    let installed = handler_of(sig);
    assert_ne!(installed, libc::SIG_IGN, "minievent's handler is installed");
    base.event_add(second, None).unwrap();
    assert_eq!(handler_of(sig), installed, "one handler per signal");
    raise(sig);
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(*log.borrow(), vec![(sig, EV_SIGNAL), (sig, EV_SIGNAL)]);
    base.event_del(second).unwrap();
    assert_eq!(handler_of(sig), installed, "first is still there");
    base.event_del(first).unwrap();
    assert_eq!(
        handler_of(sig),
        libc::SIG_IGN,
        "the saved action is restored"
    );
    drop(base);
    set_handler(sig, libc::SIG_DFL);
}

/// Freeing a base with a signal event still pending restores the signal's old action
/// (event_base_free deletes every event, then evsig_dealloc_).
fn base_free_restores_handlers(method: &str) {
    let _guard = lock();
    let sig = rt(6);
    set_handler(sig, libc::SIG_IGN);
    let mut base = base_for(method);
    let ev = base.evsignal_new(sig, |_, _, _, _| {}).unwrap();
    base.event_add(ev, None).unwrap();
    assert_ne!(handler_of(sig), libc::SIG_IGN);
    drop(base);
    assert_eq!(handler_of(sig), libc::SIG_IGN);
    set_handler(sig, libc::SIG_DFL);
}

/// `event_base_active_by_signal`: the signal's events run as if it arrived once; no signal is
/// sent and nothing is read from the pipe.
fn active_by_signal(method: &str) {
    let _guard = lock();
    let sig = rt(7);
    let mut base = base_for(method);
    let log = Log::default();
    let ev = logging_event(&mut base, sig, EV_SIGNAL | EV_PERSIST, &log);
    base.event_add(ev, None).unwrap();
    base.active_by_signal(sig);
    base.active_by_signal(rt(8)); // no event: nothing happens
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(*log.borrow(), vec![(sig, EV_SIGNAL)]);
    base.event_free(ev).unwrap();
}

/// Only one base receives signals: adding a signal to a second base while the first has some
/// makes the second the receiver (libevent warns, and so does minievent); the first hears
/// nothing until its loop starts again (`evsig_set_base_` at the start of `event_base_loop`).
fn second_base_takes_over(method: &str) {
    let _guard = lock();
    let (s1, s2) = (rt(9), rt(10));
    let mut one = base_for(method);
    let mut two = base_for(method);
    let log1 = Log::default();
    let log2 = Log::default();
    let e1 = logging_event(&mut one, s1, EV_SIGNAL | EV_PERSIST, &log1);
    let e2 = logging_event(&mut two, s2, EV_SIGNAL | EV_PERSIST, &log2);
    one.event_add(e1, None).unwrap();
    two.event_add(e2, None).unwrap(); // warns: base one has signals
    // Signal 1 is written into base two's pipe: base two reads it, has no event for it.
    raise(s1);
    raise(s2);
    assert_eq!(two.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(*log2.borrow(), vec![(s2, EV_SIGNAL)]);
    assert_eq!(one.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert!(log1.borrow().is_empty(), "base one's pipe got nothing");
    // Base one's loop makes it the receiver again.
    one.event_add(e1, None).unwrap();
    let mut flag = false;
    while !flag {
        // The first pass (NONBLOCK) made base one the receiver; now the signal reaches it.
        raise(s1);
        one.run(LoopFlags::ONCE).unwrap();
        flag = !log1.borrow().is_empty();
    }
    assert_eq!(log1.borrow()[0], (s1, EV_SIGNAL));
    one.event_free(e1).unwrap();
    two.event_free(e2).unwrap();
}

/// Errors: a signal number out of range is refused at event_add; EV_SIGNAL with EV_READ keeps
/// libevent's event_assign message.
fn bad_signal_numbers(method: &str) {
    let _guard = lock();
    let mut base = base_for(method);
    for sig in [-1, 65, 1000] {
        let ev = base.event_new(sig, EV_SIGNAL, |_, _, _, _| {}).unwrap();
        assert!(
            matches!(base.event_add(ev, None), Err(minievent::Error::Invalid(_))),
            "signal {sig}"
        );
        assert_eq!(base.event_pending(ev, EV_SIGNAL).unwrap(), Ev::NONE);
    }
    assert!(
        base.event_new(2, EV_SIGNAL | EV_READ, |_, _, _, _| {})
            .is_err()
    );
    // event_base_once refuses EV_SIGNAL, as libevent's does.
    assert!(matches!(
        base.once(rt(14), EV_SIGNAL, None, |_, _, _| {}),
        Err(minievent::Error::Invalid(_))
    ));
}

/// A signal callback that panics unwinds out of `run`; the event keeps its callback and stays
/// pending (persistent), and the base works afterwards (ARCHITECTURE.md, panic safety).
fn panicking_signal_callback_leaves_the_base_usable(method: &str) {
    let _guard = lock();
    let sig = rt(11);
    let mut base = base_for(method);
    let calls = Rc::new(RefCell::new(0));
    let ev = base
        .evsignal_new(sig, {
            let calls = calls.clone();
            move |_, _, _, _| {
                *calls.borrow_mut() += 1;
                if *calls.borrow() == 1 {
                    panic!("first call panics");
                }
            }
        })
        .unwrap();
    base.event_add(ev, None).unwrap();
    raise(sig);
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| base.run(LoopFlags::ONCE)));
    assert!(outcome.is_err());
    assert_eq!(base.event_pending(ev, EV_SIGNAL).unwrap(), EV_SIGNAL);
    raise(sig);
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(*calls.borrow(), 2);
    base.event_free(ev).unwrap();
}

/// `event_reinit` (here without a fork: the process is multi-threaded, where forking is not
/// safe; the `step7-fork*` scenarios fork): afterwards every added event still works — an fd
/// event, a signal event (its handler installed again) — and a one-shot event that was not
/// added stays unadded.
fn reinit_keeps_every_added_event(method: &str) {
    let _guard = lock();
    let sig = rt(12);
    let mut base = base_for(method);
    let pair = common::Pair::new();
    let log = Log::default();
    let rd = base
        .event_new(pair.a, EV_READ | EV_PERSIST, {
            let log = log.clone();
            move |_, fd, res, _| {
                let mut buf = [0u8; 8];
                let _ = minievent::util::read(fd, &mut buf);
                log.borrow_mut().push((fd, res));
            }
        })
        .unwrap();
    let se = logging_event(&mut base, sig, EV_SIGNAL | EV_PERSIST, &log);
    let idle = logging_event(&mut base, rt(13), EV_SIGNAL, &log);
    base.event_add(rd, None).unwrap();
    base.event_add(se, None).unwrap();
    base.reinit().unwrap();
    assert_eq!(base.method(), method);
    assert_ne!(
        handler_of(sig),
        libc::SIG_DFL,
        "the handler is installed again"
    );
    assert_eq!(handler_of(rt(13)), libc::SIG_DFL, "never added: no handler");
    pair.send(b"x");
    raise(sig);
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    let mut got = log.borrow().clone();
    got.sort_by_key(|&(fd, _)| fd);
    assert_eq!(got, vec![(pair.a, EV_READ), (sig, EV_SIGNAL)]);
    // Twice in a row is fine too.
    base.reinit().unwrap();
    raise(sig);
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(log.borrow().len(), 3);
    for ev in [rd, se, idle] {
        base.event_free(ev).unwrap();
    }
    assert_eq!(handler_of(sig), libc::SIG_DFL);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// `event_reinit` of a base without signal events makes no handler and keeps the loop's
/// "nothing pending" answer.
fn reinit_without_signals(method: &str) {
    let _guard = lock();
    let mut base = base_for(method);
    base.reinit().unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

per_backend!(
    reinit_keeps_every_added_event,
    reinit_without_signals,
    panicking_signal_callback_leaves_the_base_usable,
    one_shot_fires_once,
    ncalls_counts_arrivals,
    persistent_fires_every_time,
    delete_in_callback_stops_ncalls,
    two_events_on_one_signal,
    base_free_restores_handlers,
    active_by_signal,
    second_base_takes_over,
    bad_signal_numbers,
);
