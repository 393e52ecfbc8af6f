//! Timers on every backend: the time cache (`gettimeofday_cached`, `update_cache_time`,
//! NO_CACHE_TIME), `event_remove_timer`, `event_pending`'s deadline, `loopcontinue`,
//! `max_dispatch_interval`, and common timeouts. Timing margins are generous: the tests assert
//! order and counts, and only lower bounds on durations where a machine may be slow.

#[macro_use]
mod common;

use common::*;
use minievent::backend::PREFERENCE;
use minievent::common_timeout::MAX_COMMON_TIMEOUTS;
use minievent::{
    Backend, Base, BaseFlags, Config, EV_PERSIST, EV_READ, EV_TIMEOUT, Error, Ev, EventId, EventOp,
    LoopExit,
};
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

const MS: Duration = Duration::from_millis(1);

per_backend!(
    gettimeofday_cached_is_wall_clock_and_frozen_in_a_callback,
    update_cache_time_refreshes_the_cache_inside_the_loop,
    no_cache_time_reads_the_clock_every_time,
    event_remove_timer_keeps_the_fd_part,
    event_remove_timer_of_a_persistent_event_stops_its_ticks,
    event_pending_deadline_is_the_wall_clock_deadline,
    loopcontinue_rechecks_events_between_callbacks,
    max_callbacks_one_runs_one_callback_per_iteration,
    max_callbacks_spares_priorities_below_min_priority,
    max_interval_stops_after_the_interval,
    common_timeouts_fire_in_order,
    common_timeout_add_del_re_add,
    common_timeouts_mix_with_heap_timeouts,
    persistent_common_timeout_ticks,
    common_timeout_is_the_same_for_the_same_duration,
);

/// |a - b| <= tolerance, for two wall-clock times.
fn close_to(a: SystemTime, b: SystemTime, tolerance: Duration) -> bool {
    match a.duration_since(b) {
        Ok(d) => d <= tolerance,
        Err(e) => e.duration() <= tolerance,
    }
}

/// Runs `f` once, from a callback of a zero-delay timer, inside `dispatch`.
fn in_callback(base: &mut Base, f: impl FnOnce(&mut Base) + 'static) {
    let mut f = Some(f);
    let id = base
        .event_new(-1, Ev::NONE, move |base, _, _, _| {
            if let Some(f) = f.take() {
                f(base)
            }
        })
        .unwrap();
    base.event_add(id, Some(Duration::ZERO)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// event.c:event_base_gettimeofday_cached: outside the loop, gettimeofday; inside, the cached
/// monotonic time plus tv_clock_diff — wall-clock time, the same for the whole callback.
fn gettimeofday_cached_is_wall_clock_and_frozen_in_a_callback(method: &str) {
    let mut base = base_for(method);
    assert!(close_to(
        base.gettimeofday_cached(),
        SystemTime::now(),
        50 * MS
    ));
    in_callback(&mut base, |base| {
        let first = base.gettimeofday_cached();
        assert!(close_to(first, SystemTime::now(), 50 * MS));
        std::thread::sleep(30 * MS);
        assert_eq!(base.gettimeofday_cached(), first, "the cache is frozen");
    });
}

/// event.c:event_base_update_cache_time refreshes the cache while the loop runs; outside, there
/// is no cache and it does nothing.
fn update_cache_time_refreshes_the_cache_inside_the_loop(method: &str) {
    let mut base = base_for(method);
    base.update_cache_time();
    in_callback(&mut base, |base| {
        let first = base.gettimeofday_cached();
        std::thread::sleep(30 * MS);
        base.update_cache_time();
        let second = base.gettimeofday_cached();
        assert!(second.duration_since(first).unwrap() >= 25 * MS);
    });
}

/// EVENT_BASE_FLAG_NO_CACHE_TIME: update_time_cache leaves the cache empty, so every read is a
/// clock read — and a timeout added after a slow callback counts from the real time.
fn no_cache_time_reads_the_clock_every_time(method: &str) {
    let mut base =
        Base::with_config(&config_for(method).set_flag(BaseFlags::NO_CACHE_TIME)).unwrap();
    in_callback(&mut base, |base| {
        let first = base.gettimeofday_cached();
        std::thread::sleep(30 * MS);
        let second = base.gettimeofday_cached();
        assert!(second.duration_since(first).unwrap() >= 25 * MS);
        let t = base.event_new(-1, Ev::NONE, |_, _, _, _| {}).unwrap();
        base.event_add(t, Some(100 * MS)).unwrap();
        let deadline = base.event_pending_deadline(t).unwrap().unwrap();
        // The deadline counts from after the sleep (cached, it would count from before it).
        assert!(deadline.duration_since(first).unwrap() >= 125 * MS);
        base.event_free(t).unwrap();
    });
}

/// event.c:event_remove_timer: the timeout goes, the fd stays added.
fn event_remove_timer_keeps_the_fd_part(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let ev = base.event_new(pair.a, EV_READ, log.recorder("ev")).unwrap();
    base.event_add(ev, Some(20 * MS)).unwrap();
    assert_eq!(
        base.event_pending(ev, EV_READ | EV_TIMEOUT).unwrap(),
        EV_READ | EV_TIMEOUT
    );
    base.event_remove_timer(ev).unwrap();
    assert_eq!(
        base.event_pending(ev, EV_READ | EV_TIMEOUT).unwrap(),
        EV_READ
    );
    assert_eq!(base.event_pending_deadline(ev).unwrap(), None);
    base.event_remove_timer(ev).unwrap(); // no timeout: nothing to do
    std::thread::sleep(40 * MS);
    pair.send(b"x");
    run_once_guarded(&mut base);
    assert_eq!(log.entries(), vec![("ev", EV_READ)]);
    // A pure timer stops being pending altogether.
    let t = base.event_new(-1, Ev::NONE, log.recorder("t")).unwrap();
    base.event_add(t, Some(MS)).unwrap();
    base.event_remove_timer(t).unwrap();
    assert_eq!(base.event_pending(t, EV_TIMEOUT).unwrap(), Ev::NONE);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// event_remove_timer also clears ev_io_timeout: a persistent event no longer re-arms.
fn event_remove_timer_of_a_persistent_event_stops_its_ticks(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let ev = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, fd, what, me| {
            c.set(c.get() + 1);
            if what.contains(EV_READ) {
                read_one(fd);
                base.event_del(me).unwrap();
            } else {
                base.event_remove_timer(me).unwrap();
            }
        })
        .unwrap();
    base.event_add(ev, Some(5 * MS)).unwrap();
    run_once_guarded(&mut base); // the first tick: the callback removes the timer
    assert_eq!(count.get(), 1);
    assert_eq!(
        base.event_pending(ev, EV_READ | EV_TIMEOUT).unwrap(),
        EV_READ
    );
    pair.send(b"x");
    run_once_guarded(&mut base);
    assert_eq!(count.get(), 2, "no tick in between: the read came next");
}

/// event.c:event_pending's tv: the deadline, on the wall clock.
fn event_pending_deadline_is_the_wall_clock_deadline(method: &str) {
    let mut base = base_for(method);
    let t = base.event_new(-1, Ev::NONE, |_, _, _, _| {}).unwrap();
    assert_eq!(base.event_pending_deadline(t).unwrap(), None);
    let before = SystemTime::now();
    base.event_add(t, Some(Duration::from_secs(60))).unwrap();
    let deadline = base.event_pending_deadline(t).unwrap().unwrap();
    assert!(close_to(
        deadline,
        before + Duration::from_secs(60),
        50 * MS
    ));
    base.event_del(t).unwrap();
    assert_eq!(base.event_pending_deadline(t).unwrap(), None);
}

/// event.c:event_base_loopcontinue: the callback that calls it is the last of its pass; the rest
/// of the queue runs in the next iteration, after another wait — which sees the fd made readable
/// meanwhile.
fn loopcontinue_rechecks_events_between_callbacks(method: &str) {
    let mut base = Base::with_config(&counting_config(method)).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let pair = Pair::new();
    let l = log.clone();
    let reader = base
        .event_new(pair.a, EV_READ, move |_, fd, _, _| {
            read_one(fd);
            l.borrow_mut().push(("read", WAITS.with(Cell::get)));
        })
        .unwrap();
    base.event_add(reader, None).unwrap();
    for label in ["a", "b", "c"] {
        let l = log.clone();
        let peer = pair.b;
        let t = base
            .event_new(-1, Ev::NONE, move |base, _, _, _| {
                l.borrow_mut().push((label, WAITS.with(Cell::get)));
                if label == "a" {
                    minievent::util::write(peer, b"x").unwrap();
                    base.loopcontinue();
                }
            })
            .unwrap();
        base.event_active(t, EV_TIMEOUT).unwrap();
    }
    base.dispatch().unwrap();
    let log = log.borrow();
    assert_eq!(per_iteration(&log), vec![1, 3]);
    let labels: Vec<_> = log.iter().map(|e| e.0).collect();
    assert_eq!(labels, vec!["a", "b", "c", "read"]);
}

thread_local! {
    /// How many times the counting backend was asked to wait, on this test's thread.
    static WAITS: Cell<usize> = const { Cell::new(0) };
}

/// A backend that counts its dispatches (loop iterations) and hands everything to `inner`.
struct Counting(Box<dyn Backend>);

impl Backend for Counting {
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> minievent::Result<()> {
        self.0.add(fd, old, events)
    }
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> minievent::Result<()> {
        self.0.del(fd, old, events)
    }
    fn dispatch(
        &mut self,
        timeout: Option<Duration>,
        ready: &mut Vec<(RawFd, Ev)>,
    ) -> minievent::Result<()> {
        WAITS.with(|w| w.set(w.get() + 1));
        self.0.dispatch(timeout, ready)
    }
}

fn counting<const I: usize>() -> minievent::Result<Box<dyn Backend>> {
    Ok(Box::new(Counting((PREFERENCE[I].init)()?)))
}

/// A config whose only backend is `method`, counting its waits in [`WAITS`].
fn counting_config(method: &str) -> Config {
    let i = METHODS.iter().position(|&m| m == method).unwrap();
    let init = [counting::<0>, counting::<1>, counting::<2>][i];
    assert_eq!(PREFERENCE[i].name, method);
    config_for(method).methods(&[EventOp {
        init,
        ..PREFERENCE[i]
    }])
}

/// Activates zero-delay timers at priority `pri`; each logs, as its label, the number of the loop
/// iteration (wait) it ran in.
fn actives(
    base: &mut Base,
    log: &Rc<RefCell<Vec<(&'static str, usize)>>>,
    labels: &[&'static str],
    pri: usize,
) {
    for &label in labels {
        let l = log.clone();
        let id = base
            .event_new(-1, Ev::NONE, move |_, _, _, _| {
                l.borrow_mut().push((label, WAITS.with(Cell::get)))
            })
            .unwrap();
        base.event_priority_set(id, pri).unwrap();
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
}

/// How many callbacks ran in each iteration, in order, from a log of `(label, iteration)`.
fn per_iteration(log: &[(&'static str, usize)]) -> Vec<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for &(_, it) in log {
        match counts.last_mut() {
            Some((last, n)) if *last == it => *n += 1,
            _ => counts.push((it, 1)),
        }
    }
    counts.into_iter().map(|(_, n)| n).collect()
}

/// max_callbacks 1 from priority 0: one callback per loop iteration.
fn max_callbacks_one_runs_one_callback_per_iteration(method: &str) {
    let mut base =
        Base::with_config(&counting_config(method).max_dispatch_interval(None, 1, 0)).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    actives(&mut base, &log, &["a", "b", "c"], 0);
    base.dispatch().unwrap();
    let log = log.borrow();
    assert_eq!(per_iteration(&log), vec![1, 1, 1]);
    let labels: Vec<_> = log.iter().map(|e| e.0).collect();
    assert_eq!(labels, vec!["a", "b", "c"]);
}

/// limit_after_prio: priorities below min_priority run unlimited, those at or above are limited.
fn max_callbacks_spares_priorities_below_min_priority(method: &str) {
    let mut base =
        Base::with_config(&counting_config(method).max_dispatch_interval(None, 1, 1)).unwrap();
    base.priority_init(2).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    actives(&mut base, &log, &["u1", "u2", "u3"], 0);
    actives(&mut base, &log, &["l1", "l2"], 1);
    base.dispatch().unwrap();
    let log = log.borrow();
    assert_eq!(per_iteration(&log), vec![3, 1, 1]);
    let labels: Vec<_> = log.iter().map(|e| e.0).collect();
    assert_eq!(labels, vec!["u1", "u2", "u3", "l1", "l2"]);
}

/// max_interval: after the interval has passed, the pass stops (checked after each callback).
fn max_interval_stops_after_the_interval(method: &str) {
    let cfg = counting_config(method).max_dispatch_interval(Some(10 * MS), usize::MAX, 0);
    let mut base = Base::with_config(&cfg).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    for label in ["slow", "next", "last"] {
        let l = log.clone();
        let id = base
            .event_new(-1, Ev::NONE, move |_, _, _, _| {
                l.borrow_mut().push((label, WAITS.with(Cell::get)));
                if label == "slow" {
                    std::thread::sleep(20 * MS);
                }
            })
            .unwrap();
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    base.dispatch().unwrap();
    assert_eq!(per_iteration(&log.borrow()), vec![1, 2]);
}

/// A test's record of which events fired, in order, by index.
fn fired_log() -> Rc<RefCell<Vec<usize>>> {
    Rc::new(RefCell::new(Vec::new()))
}

/// Thousands of events on one common timeout fire in the order they were added, and the heap
/// holds one entry (the queue's timer) rather than thousands.
fn common_timeouts_fire_in_order(method: &str) {
    let mut base = base_for(method);
    let common = base.init_common_timeout(20 * MS).unwrap();
    assert_ne!(common, 20 * MS, "the returned duration is marked");
    let fired = fired_log();
    let ids: Vec<EventId> = (0..3000)
        .map(|i| {
            let f = fired.clone();
            let id = base
                .event_new(-1, Ev::NONE, move |_, _, what, _| {
                    assert_eq!(what, EV_TIMEOUT);
                    f.borrow_mut().push(i)
                })
                .unwrap();
            base.event_add(id, Some(common)).unwrap();
            id
        })
        .collect();
    assert_eq!(base.event_pending(ids[0], EV_TIMEOUT).unwrap(), EV_TIMEOUT);
    let start = std::time::Instant::now();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(start.elapsed() >= 15 * MS);
    assert_eq!(*fired.borrow(), (0..3000).collect::<Vec<_>>());
}

/// event_del takes an event off its queue (head or middle); re-adding puts it at the back.
fn common_timeout_add_del_re_add(method: &str) {
    let mut base = base_for(method);
    let common = base.init_common_timeout(10 * MS).unwrap();
    let fired = fired_log();
    let ids: Vec<EventId> = (0..5)
        .map(|i| {
            let f = fired.clone();
            let id = base
                .event_new(-1, Ev::NONE, move |_, _, _, _| f.borrow_mut().push(i))
                .unwrap();
            base.event_add(id, Some(common)).unwrap();
            id
        })
        .collect();
    base.event_del(ids[0]).unwrap(); // the head
    base.event_del(ids[2]).unwrap(); // the middle
    assert_eq!(base.event_pending(ids[2], EV_TIMEOUT).unwrap(), Ev::NONE);
    base.event_add(ids[2], Some(common)).unwrap(); // again, at the back
    base.event_add(ids[3], Some(common)).unwrap(); // re-add of a pending one: to the back too
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(*fired.borrow(), vec![1, 4, 2, 3]);
    // Deleting every event leaves the queue's timer, which is internal: the loop has nothing.
    for &id in &ids {
        base.event_add(id, Some(common)).unwrap();
        base.event_del(id).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// Heap timers and two common queues interleave by deadline. The events are added from a
/// callback, where the time cache gives every deadline the same "now", and the deadlines are
/// 50 ms apart: a loaded machine that wakes the loop late must not make two of them expire in
/// one pass (a common queue's event runs after its queue's internal timer, so it would then run
/// after a heap timer that expired with it).
fn common_timeouts_mix_with_heap_timeouts(method: &str) {
    let mut base = base_for(method);
    let c150 = base.init_common_timeout(150 * MS).unwrap();
    let c50 = base.init_common_timeout(50 * MS).unwrap();
    let log = Log::new();
    let recorder = log.clone();
    base.once(-1, EV_TIMEOUT, None, move |base, _, _| {
        for (label, tv) in [
            ("c150", c150),
            ("h100", 100 * MS),
            ("c50", c50),
            ("h200", 200 * MS),
            ("h25", 25 * MS),
        ] {
            let id = base
                .event_new(-1, Ev::NONE, recorder.recorder(label))
                .unwrap();
            base.event_add(id, Some(tv)).unwrap();
        }
    })
    .unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), vec!["h25", "c50", "h100", "c150", "h200"]);
}

/// An EV_PERSIST event on a common timeout re-arms on the same queue.
fn persistent_common_timeout_ticks(method: &str) {
    let mut base = base_for(method);
    let common = base.init_common_timeout(5 * MS).unwrap();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let id = base
        .event_new(-1, EV_PERSIST, move |base, _, what, me| {
            assert_eq!(what, EV_TIMEOUT);
            c.set(c.get() + 1);
            if c.get() == 3 {
                base.event_del(me).unwrap();
            }
        })
        .unwrap();
    base.event_add(id, Some(common)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(count.get(), 3);
}

/// The same duration gives the same queue; MAX_COMMON_TIMEOUTS queues at most.
fn common_timeout_is_the_same_for_the_same_duration(method: &str) {
    let mut base = base_for(method);
    let a = base.init_common_timeout(7 * MS).unwrap();
    assert_eq!(base.init_common_timeout(7 * MS).unwrap(), a);
    assert_eq!(base.init_common_timeout(a).unwrap(), a, "a marked one too");
    for i in 1..MAX_COMMON_TIMEOUTS as u64 {
        base.init_common_timeout(Duration::from_secs(i)).unwrap();
    }
    assert!(matches!(
        base.init_common_timeout(Duration::from_secs(1000)),
        Err(Error::Invalid(_))
    ));
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// EVENT_BASE_FLAG_PRECISE_TIMER on epoll: a timerfd in the epoll set, armed in nanoseconds; a
/// sub-millisecond timer fires, an fd event beside it still works, and the timerfd's own
/// readiness never reaches a callback.
#[test]
fn precise_timer_on_epoll_uses_a_timerfd() {
    let mut base =
        Base::with_config(&config_for("epoll").set_flag(BaseFlags::PRECISE_TIMER)).unwrap();
    let log = Log::new();
    let t = base.event_new(-1, Ev::NONE, log.recorder("t")).unwrap();
    let start = std::time::Instant::now();
    base.event_add(t, Some(Duration::from_micros(300))).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(start.elapsed() >= Duration::from_micros(300));
    assert_eq!(log.entries(), vec![("t", EV_TIMEOUT)]);
    // An fd event: the wait returns it (and perhaps the timerfd), and only it runs.
    let pair = Pair::new();
    log.clear();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    base.event_add(r, Some(Duration::from_secs(5))).unwrap();
    base.event_add(t, Some(Duration::from_micros(200))).unwrap();
    run_once_guarded(&mut base);
    pair.send(b"x");
    run_once_guarded(&mut base);
    assert_eq!(log.labels(), vec!["t", "r"]);
    assert!(
        log.entries()[1].1.contains(EV_READ),
        "the read event fired for its fd"
    );
}
