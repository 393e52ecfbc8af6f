//! Your heap inside the real loop (event.c: event_add_nolock_, event_del_nolock_, timeout_next,
//! timeout_process, event_persist_closure, the common-timeout queues): timers fire in deadline
//! order, a deleted or re-armed timer leaves the heap from the middle, a persistent timer ticks,
//! an fd event's timeout goes away when the fd is ready first. Each test runs under a time limit.

use minievent::util::{socketpair, write};
use minievent::{Base, BaseFlags, Config, EV_PERSIST, EV_READ, EV_TIMEOUT, Ev, EventId, LoopExit};
use minievent_labs_kit::within;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

fn base() -> Base {
    Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Log = Rc<RefCell<Vec<u64>>>;

/// A pure timer that logs `label` when it fires.
fn timer(base: &mut Base, log: &Log, label: u64) -> EventId {
    let log = Rc::clone(log);
    ok(
        "event_new",
        base.event_new(-1, Ev::NONE, move |_, _, what, _| {
            assert_eq!(
        what,
        EV_TIMEOUT,
        "a timer fires with EV_TIMEOUT (left: what your code gave, right: what libevent does)"
    );
            log.borrow_mut().push(label);
        }),
    )
}

#[test]
fn timers_fire_in_deadline_order() {
    within(10, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        // Added in this order; several share a coarse-clock tick, so one timeout_process pops
        // them together — in heap order.
        let deadlines = [35, 5, 25, 15, 40, 10, 30, 20, 1, 12, 13, 14];
        for d in deadlines {
            let t = timer(&mut base, &log, d);
            ok("event_add", base.event_add(t, Some(ms(d))));
        }
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        let mut sorted = deadlines.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            *log.borrow(),
            sorted,
            "timers fired out of deadline order (left: what your code gave, right: what libevent does)"
        );
    });
}

#[test]
fn event_del_takes_timers_out_of_the_middle() {
    within(10, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let mut ids = Vec::new();
        // Added latest first, so every push moves entries down: the deletes below find their
        // events through the indices the heap wrote back while moving them.
        for d in [70, 60, 50, 40, 30, 20, 10] {
            let t = timer(&mut base, &log, d);
            ok("event_add", base.event_add(t, Some(ms(d))));
            ids.push(t);
        }
        // 20 and 50 ms: neither the top nor the last entry.
        ok("event_del", base.event_del(ids[5]));
        ok("event_del", base.event_del(ids[2]));
        for (i, &id) in ids.iter().enumerate() {
            let pending = ok("event_pending", base.event_pending(id, EV_TIMEOUT));
            assert_eq!(
                pending.contains(EV_TIMEOUT),
                i != 5 && i != 2,
                "event {i}: pending for EV_TIMEOUT after the deletes (left: what your code gave, right: what libevent does)"
            );
        }
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *log.borrow(),
            vec![10, 30, 40, 60, 70],
            "the deleted timers (20, 50 ms) fired, or another one was deleted in their place (left: what your code gave, right: what libevent does)"
        );
    });
}

#[test]
fn adding_again_moves_the_deadline() {
    within(10, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let a = timer(&mut base, &log, 1);
        let b = timer(&mut base, &log, 2);
        let c = timer(&mut base, &log, 3);
        ok("event_add", base.event_add(a, Some(ms(10))));
        ok("event_add", base.event_add(b, Some(ms(20))));
        ok("event_add", base.event_add(c, Some(ms(30))));
        // a moves from the top to the end; c from the end to the top.
        ok("event_add", base.event_add(a, Some(ms(45))));
        ok("event_add", base.event_add(c, Some(ms(5))));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *log.borrow(),
            vec![3, 2, 1],
            "re-added timers fired at their old deadlines (left: what your code gave, right: what libevent does)"
        );
    });
}

#[test]
fn a_persistent_timer_ticks_until_deleted() {
    within(10, "dispatch", || {
        let mut base = base();
        let ticks = Rc::new(RefCell::new(0));
        let counter = Rc::clone(&ticks);
        let t = ok(
            "event_new",
            base.event_new(-1, EV_PERSIST, move |base, _, what, me| {
                assert_eq!(
                    what, EV_TIMEOUT,
                    "left: what your code gave, right: what libevent does"
                );
                *counter.borrow_mut() += 1;
                if *counter.borrow() == 5 {
                    base.event_del(me)
                        .unwrap_or_else(|e| panic!("event_del: {e}"));
                }
            }),
        );
        let other = Log::default();
        let o = timer(&mut base, &other, 25);
        ok("event_add", base.event_add(o, Some(ms(25))));
        let start = Instant::now();
        ok("event_add", base.event_add(t, Some(ms(10))));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *ticks.borrow(),
            5,
            "the persistent timer ticked a wrong number of times (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            *other.borrow(),
            vec![25],
            "the other timer did not fire once (left: what your code gave, right: what libevent does)"
        );
        // Five 10 ms ticks, allowing one coarse-clock step.
        assert!(
            start.elapsed() >= ms(40),
            "five 10 ms ticks took only {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn common_timeouts_and_heap_timers_interleave() {
    within(10, "dispatch", || {
        let mut base = base();
        let log = Log::default();
        let common = ok("init_common_timeout", base.init_common_timeout(ms(20)));
        for d in [5, 40, 12] {
            let t = timer(&mut base, &log, d);
            ok("event_add", base.event_add(t, Some(ms(d))));
        }
        // A hundred events on one queue: one internal timer on the heap stands for all of them.
        for _ in 0..100 {
            let t = timer(&mut base, &log, 20);
            ok("event_add", base.event_add(t, Some(common)));
        }
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        let mut expected = vec![5, 12];
        expected.extend([20; 100]);
        expected.push(40);
        assert_eq!(
            *log.borrow(),
            expected,
            "the common timeout's events fired out of order (left: what your code gave, right: what libevent does)"
        );
    });
}

#[test]
fn a_ready_fd_takes_its_timeout_off_the_heap() {
    within(10, "dispatch", || {
        let mut base = base();
        let [a, b] = socketpair().expect("socketpair");
        let [c, _d] = socketpair().expect("socketpair");
        write(b, b"x").expect("write");
        let got: Rc<RefCell<Vec<(i32, Ev)>>> = Rc::default();
        let mut make = |fd| {
            let got = Rc::clone(&got);
            ok(
                "event_new",
                base.event_new(fd, EV_READ, move |_, fd, what, _| {
                    got.borrow_mut().push((fd, what))
                }),
            )
        };
        let ready = make(a);
        let idle = make(c);
        let log = Log::default();
        let t = timer(&mut base, &log, 30);
        ok("event_add", base.event_add(idle, Some(ms(20))));
        ok("event_add", base.event_add(ready, Some(ms(10))));
        ok("event_add", base.event_add(t, Some(ms(30))));
        assert_eq!(
            ok("dispatch", base.dispatch()),
            LoopExit::NoEvents,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            *got.borrow(),
            vec![(a, EV_READ), (c, EV_TIMEOUT)],
            "the ready fd's event must fire for EV_READ and its timeout go; the idle one times out (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            *log.borrow(),
            vec![30],
            "left: what your code gave, right: what libevent does"
        );
    });
}
