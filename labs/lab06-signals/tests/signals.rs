//! The loop's half of the signal path (signal.c:evsig_cb, evmap.c:evmap_signal_active_), with real
//! signals: each test raises signals at itself, and the handler (minievent's) writes them into the
//! base's pipe for your `evsig_cb` to read. Signal handlers belong to the whole process and only
//! one base receives signals, so the tests run one at a time; each under a time limit, since a
//! pipe that is never emptied keeps the loop busy for ever.

use minievent::{Base, BaseFlags, Config, EV_SIGNAL, Ev, EventId, LoopFlags};
use minievent_labs_kit::within;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Mutex;

/// One test at a time (see the module docs).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `test` alone, on a thread of its own, for at most 10 seconds.
fn alone(what: &'static str, test: impl FnOnce() + Send + 'static) {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    within(10, what, test);
}

fn base() -> Base {
    Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `raise(sig)`: the signal is delivered to this thread before `raise` returns, so its byte is in
/// the pipe when the next line runs.
fn raise(sig: i32, times: usize) {
    for _ in 0..times {
        // SAFETY: raise only sends a signal to this thread; the tests raise only signals that have
        // minievent's handler installed (their events are added).
        assert_eq!(unsafe { libc::raise(sig) }, 0, "raise({sig})");
    }
}

type Log = Rc<RefCell<Vec<(String, i32, Ev)>>>;

/// A persistent signal event whose callback logs `(name, signal, what)` and then runs `then`.
fn logged(
    base: &mut Base,
    log: &Log,
    sig: i32,
    name: &'static str,
    mut then: impl FnMut(&mut Base, EventId) + 'static,
) -> EventId {
    let log = Rc::clone(log);
    let id = ok(
        "evsignal_new",
        base.evsignal_new(sig, move |base, fd, what, me| {
            log.borrow_mut().push((name.to_string(), fd, what));
            then(base, me);
        }),
    );
    ok("event_add", base.event_add(id, None));
    id
}

fn names(log: &Log) -> Vec<String> {
    log.borrow().iter().map(|(n, _, _)| n.clone()).collect()
}

#[test]
fn one_signal_runs_its_callback_once_with_ev_signal() {
    alone("one signal", || {
        let mut base = base();
        let log = Log::default();
        let ev = logged(&mut base, &log, libc::SIGUSR1, "usr1", |_, _| {});
        raise(libc::SIGUSR1, 1);
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            *log.borrow(),
            vec![("usr1".to_string(), libc::SIGUSR1, EV_SIGNAL)],
            "one SIGUSR1: one callback, with the signal number as its fd and EV_SIGNAL as what (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(ev));
    });
}

#[test]
fn two_arrivals_before_one_pass_run_the_callback_twice() {
    alone("ncalls", || {
        let mut base = base();
        let log = Log::default();
        let ev = logged(&mut base, &log, libc::SIGUSR2, "usr2", |_, _| {});
        raise(libc::SIGUSR2, 2);
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            names(&log),
            ["usr2", "usr2"],
            "two SIGUSR2 before one loop pass: the callback runs twice in that pass (ncalls 2) (left: what your code gave, right: what libevent does)"
        );
        ok("run(NONBLOCK)", base.run(LoopFlags::NONBLOCK));
        assert_eq!(
            names(&log).len(),
            2,
            "a second pass found more: was the pipe not emptied, or the arrivals counted twice? (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(ev));
    });
}

#[test]
fn two_signals_in_one_read_each_reach_their_own_events_in_signal_order() {
    alone("two signals", || {
        let mut base = base();
        let log = Log::default();
        let a = logged(&mut base, &log, libc::SIGUSR2, "usr2", |_, _| {});
        let b = logged(&mut base, &log, libc::SIGUSR1, "usr1", |_, _| {});
        raise(libc::SIGUSR2, 3);
        raise(libc::SIGUSR1, 1);
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            names(&log),
            ["usr1", "usr2", "usr2", "usr2"],
            "SIGUSR2 three times, then SIGUSR1 once, read in one go: each signal's events are \
             activated with its own count, in increasing signal order (10 before 12) (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(a));
        ok("event_free", base.event_free(b));
    });
}

#[test]
fn every_event_of_the_signal_runs_most_recently_added_first() {
    alone("two events, one signal", || {
        let mut base = base();
        let log = Log::default();
        let first = logged(&mut base, &log, libc::SIGUSR1, "first", |_, _| {});
        let second = logged(&mut base, &log, libc::SIGUSR1, "second", |_, _| {});
        raise(libc::SIGUSR1, 2);
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            names(&log),
            ["second", "second", "first", "first"],
            "two events on SIGUSR1, the signal twice: both events are activated with ncalls 2, \
             the most recently added first (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(first));
        ok("event_free", base.event_free(second));
    });
}

#[test]
fn more_than_1024_bytes_are_read_in_one_callback() {
    alone("a full read buffer", || {
        let mut base = base();
        let log = Log::default();
        let ev = logged(&mut base, &log, libc::SIGUSR1, "usr1", |_, _| {});
        raise(libc::SIGUSR1, 1500);
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            names(&log).len(),
            1500,
            "1500 SIGUSR1 before one pass: one evsig_cb must read the pipe until it is empty \
             (EAGAIN), not just one read of 1024 bytes (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(ev));
    });
}

#[test]
fn deleting_the_event_from_its_callback_drops_the_remaining_calls() {
    alone("event_del in the callback", || {
        let mut base = base();
        let log = Log::default();
        let ev = logged(&mut base, &log, libc::SIGUSR2, "usr2", |base, me| {
            ok("event_del", base.event_del(me));
        });
        raise(libc::SIGUSR2, 3);
        let exit = ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            names(&log),
            ["usr2"],
            "three SIGUSR2, and the callback deletes its event on the first call: no more calls (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            exit.code(),
            0,
            "run(ONCE) after a pass that ran a callback (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(ev));
    });
}

#[test]
fn active_by_signal_activates_without_a_signal() {
    alone("active_by_signal", || {
        let mut base = base();
        let log = Log::default();
        let ev = logged(&mut base, &log, libc::SIGUSR1, "usr1", |_, _| {});
        base.active_by_signal(libc::SIGUSR1);
        ok("run(NONBLOCK)", base.run(LoopFlags::NONBLOCK));
        assert_eq!(
            *log.borrow(),
            vec![("usr1".to_string(), libc::SIGUSR1, EV_SIGNAL)],
            "event_base_active_by_signal: the signal's events run once, as if it had arrived (left: what your code gave, right: what libevent does)"
        );
        ok("event_free", base.event_free(ev));
    });
}
