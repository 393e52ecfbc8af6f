//! The loop (event.c:event_base_loop, event_process_active): when it returns, the active queues,
//! EV_PERSIST against one-shot events, ONCE / NONBLOCK, loopexit / loopbreak, timeouts. Each test
//! runs under a time limit: a loop that does not return fails the test instead of hanging it.

use minievent::util::{read, socketpair, write};
use minievent::{
    Base, BaseFlags, Config, EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Ev, EventId, LoopExit,
    LoopFlags,
};
use minievent_labs_kit::within;
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// `close(fd)` on an fd this test made (minievent's `sys::close` is `unsafe`: only an owner may
/// close an fd).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }
}

fn base() -> Base {
    Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A socket pair with `data` waiting to be read on the first fd.
fn ready_pair(data: &[u8]) -> [RawFd; 2] {
    let [a, b] = socketpair().expect("socketpair");
    if !data.is_empty() {
        write(b, data).expect("write");
    }
    [a, b]
}

type Log = Rc<RefCell<Vec<String>>>;

/// An event whose callback logs `name` and then runs `then`.
fn logged(
    base: &mut Base,
    log: &Log,
    fd: RawFd,
    events: Ev,
    name: &'static str,
    mut then: impl FnMut(&mut Base, EventId, usize) + 'static,
) -> EventId {
    let log = Rc::clone(log);
    ok(
        "event_new",
        base.event_new(fd, events, move |base, _, _, me| {
            log.borrow_mut().push(name.to_string());
            let n = log.borrow().iter().filter(|l| *l == name).count();
            then(base, me, n);
        }),
    )
}

fn nothing(_: &mut Base, _: EventId, _: usize) {}

#[test]
fn dispatch_with_nothing_pending_returns_no_events() {
    within(5, "dispatch", || {
        let mut base = base();
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        let id = ok("event_new", base.event_new(-1, Ev::NONE, |_, _, _, _| {}));
        let _ = id; // created, never added: still nothing pending
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
    });
}

#[test]
fn a_one_shot_event_runs_once_then_dispatch_returns() {
    within(5, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"x");
        let id = logged(&mut base, &log, a, EV_READ, "read", nothing);
        ok("event_add", base.event_add(id, None));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "nothing is pending after the one-shot ran (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            *log.borrow(),
            ["read"],
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            ok("event_pending", base.event_pending(id, EV_READ)),
            Ev::NONE,
            "left: what your code gave, right: what libevent does"
        );
        let _ = (close(a), close(b));
    });
}

#[test]
fn a_persistent_event_runs_until_deleted() {
    within(5, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"x"); // never read: level-triggered, readable every time
        let id = logged(
            &mut base,
            &log,
            a,
            EV_READ | EV_PERSIST,
            "read",
            |base, me, n| {
                if n == 3 {
                    base.event_del(me).expect("event_del");
                }
            },
        );
        ok("event_add", base.event_add(id, None));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            log.borrow().len(),
            3,
            "an EV_PERSIST event stays pending after it ran (left: what your code gave, right: what libevent does)"
        );
        let _ = (close(a), close(b));
    });
}

#[test]
fn a_callback_may_add_its_one_shot_event_again() {
    within(5, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"xyz");
        let id = logged(&mut base, &log, a, EV_READ, "read", |base, me, n| {
            let mut byte = [0u8; 1];
            read(base.event_get_fd(me).expect("fd"), &mut byte).expect("read");
            if n < 3 {
                base.event_add(me, None)
                    .expect("event_add from the callback");
            }
        });
        ok("event_add", base.event_add(id, None));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            log.borrow().len(),
            3,
            "the event is deleted before its callback runs, so it can be re-added (left: what your code gave, right: what libevent does)"
        );
        let _ = (close(a), close(b));
    });
}

#[test]
fn loopbreak_returns_after_the_running_callback() {
    within(5, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"x");
        let [c, d] = ready_pair(b"x");
        let first = logged(
            &mut base,
            &log,
            a,
            EV_READ | EV_PERSIST,
            "first",
            |base, _, _| base.loopbreak(),
        );
        let second = logged(
            &mut base,
            &log,
            c,
            EV_READ | EV_PERSIST,
            "second",
            |base, _, _| base.loopbreak(),
        );
        ok("event_add", base.event_add(first, None));
        ok("event_add", base.event_add(second, None));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::Done,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            log.borrow().len(),
            1,
            "no callback runs after loopbreak: {:?} (left: what your code gave, right: what libevent does)",
            log.borrow()
        );
        assert!(base.got_break());
        let _ = (close(a), close(b), close(c), close(d));
    });
}

#[test]
fn loopexit_returns_once_the_active_events_ran() {
    within(5, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"x");
        let id = logged(
            &mut base,
            &log,
            a,
            EV_READ | EV_PERSIST,
            "read",
            |base, _, _| {
                base.loopexit(None).expect("loopexit");
            },
        );
        ok("event_add", base.event_add(id, None));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::Done,
            "left: what your code gave, right: what libevent does"
        );
        assert!(base.got_exit());
        assert!((1..=2).contains(&log.borrow().len()), "{:?}", log.borrow());
        let _ = (close(a), close(b));
    });
}

#[test]
fn once_runs_one_round_of_callbacks() {
    within(5, "run(ONCE)", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"x");
        let [c, d] = ready_pair(b"x");
        for (fd, name) in [(a, "a"), (c, "c")] {
            let id = logged(&mut base, &log, fd, EV_READ | EV_PERSIST, name, nothing);
            ok("event_add", base.event_add(id, None));
        }
        assert_eq!(
            ok("run", base.run(LoopFlags::ONCE)),
            LoopExit::Done,
            "left: what your code gave, right: what libevent does"
        );
        let mut ran = log.borrow().clone();
        ran.sort();
        assert_eq!(
            ran,
            ["a", "c"],
            "each ready event once (left: what your code gave, right: what libevent does)"
        );
        let _ = (close(a), close(b), close(c), close(d));
    });
}

#[test]
fn nonblock_does_not_wait() {
    within(5, "run(NONBLOCK)", || {
        let mut base = base();
        let log = Log::default();
        let [a, b] = ready_pair(b"");
        let id = logged(&mut base, &log, a, EV_READ, "read", nothing);
        ok("event_add", base.event_add(id, None));
        let guard = logged(&mut base, &log, -1, Ev::NONE, "timer", nothing);
        ok(
            "event_add",
            base.event_add(guard, Some(Duration::from_secs(2))),
        );
        let start = Instant::now();
        assert_eq!(
            ok("run", base.run(LoopFlags::NONBLOCK)),
            LoopExit::Done,
            "left: what your code gave, right: what libevent does"
        );
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "NONBLOCK waited {:?}",
            start.elapsed()
        );
        assert!(
            log.borrow().is_empty(),
            "nothing was ready: {:?}",
            log.borrow()
        );
        let _ = (close(a), close(b));
    });
}

#[test]
fn the_most_urgent_queue_runs_first() {
    within(5, "dispatch", || {
        let mut base = base();
        ok("priority_init", base.priority_init(3));
        let log = Log::default();
        let late = logged(&mut base, &log, -1, Ev::NONE, "late", nothing);
        let middle = logged(&mut base, &log, -1, Ev::NONE, "middle", nothing);
        let urgent = logged(&mut base, &log, -1, Ev::NONE, "urgent", nothing);
        ok("priority", base.event_priority_set(late, 2));
        ok("priority", base.event_priority_set(urgent, 0));
        for id in [late, middle, urgent] {
            ok("event_active", base.event_active(id, EV_TIMEOUT));
        }
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *log.borrow(),
            ["urgent", "middle", "late"],
            "left: what your code gave, right: what libevent does"
        );
    });
}

#[test]
fn a_more_urgent_event_made_active_by_a_callback_runs_next() {
    within(5, "dispatch", || {
        let mut base = base();
        ok("priority_init", base.priority_init(2));
        let log = Log::default();
        let urgent = logged(&mut base, &log, -1, Ev::NONE, "urgent", nothing);
        ok("priority", base.event_priority_set(urgent, 0));
        let first = logged(&mut base, &log, -1, Ev::NONE, "first", move |base, _, _| {
            base.event_active(urgent, EV_TIMEOUT).expect("event_active");
        });
        let second = logged(&mut base, &log, -1, Ev::NONE, "second", nothing);
        for id in [first, second] {
            ok("priority", base.event_priority_set(id, 1));
            ok("event_active", base.event_active(id, EV_TIMEOUT));
        }
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *log.borrow(),
            ["first", "urgent", "second"],
            "left: what your code gave, right: what libevent does"
        );
    });
}

#[test]
fn a_loop_inside_a_callback_is_refused() {
    within(5, "dispatch", || {
        let mut base = base();
        let refused = Rc::new(RefCell::new(None));
        let refused2 = Rc::clone(&refused);
        let id = ok(
            "event_new",
            base.event_new(-1, Ev::NONE, move |base, _, _, _| {
                *refused2.borrow_mut() = Some(base.dispatch().is_err());
            }),
        );
        ok("event_active", base.event_active(id, EV_TIMEOUT));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *refused.borrow(),
            Some(true),
            "dispatch from a callback must be an error (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "and the loop can run again afterwards (left: what your code gave, right: what libevent does)"
        );
    });
}

#[test]
fn timeouts_fire_with_ev_timeout_then_the_loop_exits() {
    within(5, "dispatch", || {
        let mut base = base();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let [a, b] = ready_pair(b"");
        for (fd, events, ms) in [(-1, Ev::NONE, 40), (a, EV_READ, 20), (a, EV_WRITE, 60)] {
            let seen = Rc::clone(&seen);
            let id = ok(
                "event_new",
                base.event_new(fd, events, move |_, _, what, _| {
                    seen.borrow_mut().push((ms, what))
                }),
            );
            ok(
                "event_add",
                base.event_add(id, Some(Duration::from_millis(ms))),
            );
        }
        let start = Instant::now();
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *seen.borrow(),
            [(60, EV_WRITE), (20, EV_TIMEOUT), (40, EV_TIMEOUT)],
            "the writable fd first, then the timeouts in order (left: what your code gave, right: what libevent does)"
        );
        // Deadlines are computed on CLOCK_MONOTONIC_COARSE (4 ms ticks here), which can lag the
        // precise clock `start` reads by up to a tick: allow for it.
        assert!(
            start.elapsed() >= Duration::from_millis(35),
            "the 40 ms timer fired after {:?}",
            start.elapsed()
        );
        let _ = (close(a), close(b));
    });
}
