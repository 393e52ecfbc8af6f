//! The event loop on every backend: its return values, loopexit / loopbreak, EVLOOP_ONCE /
//! EVLOOP_NONBLOCK, re-entrancy, and timeouts (pure timers, fd events with a timeout, persistent
//! timeouts, deleting and replacing a timeout), and waits interrupted by a signal. Timing margins
//! are generous: the tests assert order and counts, and only lower bounds on durations (a timer
//! never fires early) — except the steady-tick test, whose upper bound sits far from both the right
//! and the wrong behaviour (see its comment).

#[macro_use]
mod common;

use common::*;
use minievent::{Base, EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Error, Ev, LoopExit, LoopFlags};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

per_backend!(
    nothing_pending_returns_no_events,
    loopexit_now_lets_the_active_callbacks_finish,
    loopexit_after_a_delay,
    loopbreak_leaves_other_active_events_unrun,
    once_waits_runs_and_returns,
    nonblock_does_not_wait,
    dispatch_from_a_callback_is_refused,
    timer_gets_ev_timeout,
    fd_event_times_out_when_nothing_arrives,
    fd_event_gets_ev_read_when_data_arrives_first,
    persistent_timeout_fires_repeatedly_and_io_still_works,
    persistent_zero_timeout_fires_once,
    timers_fire_in_deadline_order,
    event_del_removes_a_pending_timeout,
    re_adding_replaces_the_timeout,
    persistent_timer_keeps_a_steady_tick,
    an_interrupted_wait_is_not_an_error,
);

/// event.c:event_base_loop returns 1 ("no events registered") when nothing is added, scheduled or
/// active — for every flag combination — and 0 otherwise.
fn nothing_pending_returns_no_events(method: &str) {
    let mut base = base_for(method);
    for flags in [LoopFlags::NONE, LoopFlags::ONCE, LoopFlags::NONBLOCK] {
        let exit = base.run(flags).unwrap();
        assert_eq!(exit, LoopExit::NoEvents, "{flags:?}");
        assert_eq!(exit.code(), 1);
    }
    // An event that exists but is not added does not count.
    let pair = Pair::new();
    let r = base.event_new(pair.a, EV_READ, |_, _, _, _| {}).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    base.event_add(r, None).unwrap();
    let exit = base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(
        (exit, exit.code()),
        (LoopExit::Done, 0),
        "an added event keeps the loop busy"
    );
}

/// event.c:event_base_loopexit(NULL) = event_base_once(EV_TIMEOUT, no delay): an active callback
/// appended to the running queue, so the callbacks already active still run; the loop then stops
/// (event_gotterm) although a persistent event is still pending.
fn loopexit_now_lets_the_active_callbacks_finish(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new(); // never readable: the pending reader alone would block forever
    let idle = base
        .event_new(pair.a, EV_READ | EV_PERSIST, |_, _, _, _| {})
        .unwrap();
    base.event_add(idle, None).unwrap();
    let log = Log::new();
    let l = log.clone();
    let first = base
        .event_new(-1, Ev::NONE, move |base, _, _, _| {
            l.push("first", Ev::NONE);
            base.loopexit(None).unwrap();
        })
        .unwrap();
    let second = base
        .event_new(-1, Ev::NONE, log.recorder("second"))
        .unwrap();
    let third = base.event_new(-1, Ev::NONE, log.recorder("third")).unwrap();
    for id in [first, second, third] {
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    let guard = guard(&mut base, SOON);
    assert_eq!(base.dispatch().unwrap(), LoopExit::Done);
    assert!(!base.got_break(), "the guard timer had to stop the loop");
    assert!(base.got_exit());
    assert_eq!(log.labels(), ["first", "second", "third"]);
    assert_eq!(
        base.event_pending(idle, EV_READ).unwrap(),
        EV_READ,
        "loopexit deletes nothing"
    );
    base.event_free(guard).unwrap();
}

/// event.c:event_base_loopexit(tv): a one-shot timer that sets event_gotterm; until it fires the
/// loop keeps running (here a 10 ms persistent timer keeps ticking).
fn loopexit_after_a_delay(method: &str) {
    let mut base = base_for(method);
    let ticks = Rc::new(Cell::new(0));
    let t = Rc::clone(&ticks);
    let tick = base
        .event_new(-1, EV_PERSIST, move |_, _, _, _| t.set(t.get() + 1))
        .unwrap();
    base.event_add(tick, Some(10 * MS)).unwrap();
    let guard = guard(&mut base, SOON);
    let start = Instant::now();
    base.loopexit(Some(150 * MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::Done);
    assert!(
        base.got_exit() && !base.got_break(),
        "stopped by loopexit, not by the guard"
    );
    assert!(
        start.elapsed() >= 100 * MS,
        "loopexit fired early: {:?}",
        start.elapsed()
    );
    assert!(
        ticks.get() >= 3,
        "the loop ran until the exit: {} ticks",
        ticks.get()
    );
    assert_eq!(base.event_pending(tick, EV_TIMEOUT).unwrap(), EV_TIMEOUT);
    base.event_free(guard).unwrap();
    // got_exit is reset when the loop starts again (event_base_loop clears event_gotterm).
    base.event_free(tick).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(!base.got_exit());
}

/// event.c:event_base_loopbreak: event_process_active_single_queue returns right after the
/// callback, so the rest of the active queue is not run — it stays active and runs next time.
fn loopbreak_leaves_other_active_events_unrun(method: &str) {
    let mut base = base_for(method);
    let log = Log::new();
    let l = log.clone();
    let breaker = base
        .event_new(-1, Ev::NONE, move |base, _, _, _| {
            l.push("breaker", Ev::NONE);
            base.loopbreak();
        })
        .unwrap();
    let a = base.event_new(-1, Ev::NONE, log.recorder("a")).unwrap();
    let b = base.event_new(-1, Ev::NONE, log.recorder("b")).unwrap();
    for id in [breaker, a, b] {
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::Done);
    assert!(base.got_break() && !base.got_exit());
    assert_eq!(log.labels(), ["breaker"]);
    assert_eq!(
        base.event_pending(a, EV_TIMEOUT).unwrap(),
        EV_TIMEOUT,
        "still active"
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(
        !base.got_break(),
        "event_base_loop clears event_break when it starts"
    );
    assert_eq!(log.labels(), ["breaker", "a", "b"]);
}

/// event.c:event_base_loop with EVLOOP_ONCE: block until something is active, run the active
/// callbacks, return — even if a persistent event is still ready or still pending.
fn once_waits_runs_and_returns(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("r"))
        .unwrap();
    base.event_add(r, None).unwrap();
    let t = base.event_new(-1, Ev::NONE, log.recorder("timer")).unwrap();
    base.event_add(t, Some(30 * MS)).unwrap();
    // Nothing ready: ONCE waits for the timer, runs it, returns.
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(log.entries(), [("timer", EV_TIMEOUT)]);
    // Ready and never read: without ONCE a persistent reader would run forever.
    pair.send(b"x");
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(log.entries(), [("timer", EV_TIMEOUT), ("r", EV_READ)]);
    assert_eq!(base.event_pending(r, EV_READ).unwrap(), EV_READ);
}

/// event.c:event_base_loop with EVLOOP_NONBLOCK: the backend is asked with a zero timeout, what is
/// ready runs, and the loop returns without waiting for anything else.
fn nonblock_does_not_wait(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    base.event_add(r, None).unwrap();
    let far = base
        .event_new(-1, Ev::NONE, log.recorder("far timer"))
        .unwrap();
    base.event_add(far, Some(Duration::from_secs(60))).unwrap();
    let start = Instant::now();
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert!(log.entries().is_empty());
    pair.send(b"x");
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(log.entries(), [("r", EV_READ)]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "NONBLOCK waited for the 60 s timer"
    );
    assert_eq!(base.event_pending(far, EV_TIMEOUT).unwrap(), EV_TIMEOUT);
}

/// event.c:event_base_loop refuses to run while it is already running on the same base
/// ("reentrant invocation"), returning -1; the outer loop carries on.
fn dispatch_from_a_callback_is_refused(method: &str) {
    let mut base = base_for(method);
    let results = Rc::new(std::cell::RefCell::new(Vec::new()));
    let r = Rc::clone(&results);
    let id = base
        .event_new(-1, Ev::NONE, move |base, _, _, _| {
            r.borrow_mut().push(base.dispatch());
            r.borrow_mut().push(base.run(LoopFlags::NONBLOCK));
        })
        .unwrap();
    base.event_add(id, Some(MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    let results = results.borrow();
    assert_eq!(results.len(), 2);
    for result in results.iter() {
        assert!(matches!(result, Err(Error::Reentrant)), "{result:?}");
    }
    // Refusing did not leave the base marked as running.
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::NoEvents);
}

/// event.c:timeout_process activates an expired timer with EV_TIMEOUT; a one-shot timer is then
/// gone, so the loop ends.
fn timer_gets_ev_timeout(method: &str) {
    let mut base = base_for(method);
    let log = Log::new();
    let t = base.event_new(-1, Ev::NONE, log.recorder("t")).unwrap();
    let start = Instant::now();
    base.event_add(t, Some(40 * MS)).unwrap();
    assert_eq!(base.event_pending(t, EV_TIMEOUT).unwrap(), EV_TIMEOUT);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.entries(), [("t", EV_TIMEOUT)]);
    assert!(
        start.elapsed() >= 30 * MS,
        "fired early: {:?}",
        start.elapsed()
    );
}

/// event.c:timeout_process: an fd event with a timeout whose fd stays idle is deleted and activated
/// with EV_TIMEOUT only.
fn fd_event_times_out_when_nothing_arrives(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    base.event_add(r, Some(30 * MS)).unwrap();
    assert_eq!(
        base.event_pending(r, EV_READ | EV_TIMEOUT).unwrap(),
        EV_READ | EV_TIMEOUT
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.entries(), [("r", EV_TIMEOUT)]);
    assert_eq!(
        base.event_pending(r, EV_READ | EV_TIMEOUT).unwrap(),
        Ev::NONE
    );
}

/// event.c:event_process_active_single_queue deletes a one-shot event (timeout included) before its
/// callback: data arriving first gives EV_READ, and the timeout never fires afterwards.
fn fd_event_gets_ev_read_when_data_arrives_first(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    base.event_add(r, Some(Duration::from_secs(60))).unwrap();
    pair.send(b"x");
    let start = Instant::now();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.entries(), [("r", EV_READ)]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "the loop waited for the removed timeout"
    );
}

/// event.c:event_persist_closure: a persistent fd event with a timeout is re-added after each call —
/// timeout and fd alike (event_add_nolock_ re-inserts it into evmap after timeout_process deleted
/// it) — so it keeps timing out while the fd is idle, and still fires EV_READ when data comes.
fn persistent_timeout_fires_repeatedly_and_io_still_works(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let guard = guard(&mut base, SOON);
    let log = Log::new();
    let l = log.clone();
    let peer = pair.b;
    let r = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, fd, what, me| {
            l.push("r", what);
            if what == EV_TIMEOUT && l.len() == 3 {
                // After the third timeout, data comes.
                assert_eq!(minievent::util::write(peer, b"x").unwrap(), 1);
            }
            if what.contains(EV_READ) {
                assert!(read_one(fd));
                base.event_free(me).unwrap();
                base.event_free(guard).unwrap();
            }
        })
        .unwrap();
    base.event_add(r, Some(40 * MS)).unwrap();
    let exit = base.dispatch().unwrap();
    let whats: Vec<Ev> = log.entries().into_iter().map(|(_, what)| what).collect();
    let timeouts = whats.iter().take_while(|&&w| w == EV_TIMEOUT).count();
    assert!(timeouts >= 3, "{whats:?}");
    assert_eq!(
        whats[timeouts..],
        [EV_READ],
        "after {timeouts} timeouts, the data written after the third one must give EV_READ"
    );
    assert_eq!(exit, LoopExit::NoEvents);
}

/// event.c:event_persist_closure only re-arms when `ev_io_timeout` is non-zero: a persistent timer
/// added with a zero timeout fires once, is then no longer pending, and the loop ends.
fn persistent_zero_timeout_fires_once(method: &str) {
    let mut base = base_for(method);
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let t = base
        .event_new(-1, EV_PERSIST, move |base, _, _, me| {
            c.set(c.get() + 1);
            if c.get() > 1 {
                base.event_del(me).unwrap(); // re-armed: stop it, the assertion below fails
            }
        })
        .unwrap();
    base.event_add(t, Some(Duration::ZERO)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(calls.get(), 1, "a zero persistent timeout is not re-armed");
    assert_eq!(base.event_pending(t, EV_TIMEOUT).unwrap(), Ev::NONE);
}

/// minheap-internal.h: the heap gives timers back earliest deadline first, whatever the order they
/// were added in.
fn timers_fire_in_deadline_order(method: &str) {
    let mut base = base_for(method);
    let log = Log::new();
    for (label, ms) in [("t120", 120), ("t40", 40), ("t200", 200), ("t80", 80)] {
        let t = base.event_new(-1, Ev::NONE, log.recorder(label)).unwrap();
        base.event_add(t, Some(ms * MS)).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["t40", "t80", "t120", "t200"]);
}

/// event.c:event_del_nolock_ takes a pending timeout off the heap (event_queue_remove_timeout): it
/// never fires, and it no longer keeps the loop alive.
fn event_del_removes_a_pending_timeout(method: &str) {
    let mut base = base_for(method);
    let log = Log::new();
    let deleted = base
        .event_new(-1, Ev::NONE, log.recorder("deleted"))
        .unwrap();
    let kept = base.event_new(-1, Ev::NONE, log.recorder("kept")).unwrap();
    base.event_add(deleted, Some(20 * MS)).unwrap();
    base.event_add(kept, Some(120 * MS)).unwrap();
    base.event_del(deleted).unwrap();
    assert_eq!(base.event_pending(deleted, EV_TIMEOUT).unwrap(), Ev::NONE);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["kept"]);
    // Alone, a deleted timer leaves nothing to wait for.
    let start = Instant::now();
    base.event_add(deleted, Some(Duration::from_secs(60)))
        .unwrap();
    base.event_del(deleted).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(log.labels(), ["kept"]);
}

/// event.c:event_add_nolock_ on an event with a pending timeout removes the old one first
/// (event_queue_remove_timeout): the new timeout replaces it, sooner or later, and it fires once.
fn re_adding_replaces_the_timeout(method: &str) {
    let mut base = base_for(method);
    let log = Log::new();
    // Later → sooner: fires once, without waiting for the first deadline, and leaves nothing behind.
    let t = base.event_new(-1, Ev::NONE, log.recorder("t")).unwrap();
    base.event_add(t, Some(Duration::from_secs(60))).unwrap();
    base.event_add(t, Some(30 * MS)).unwrap();
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(log.entries(), [("t", EV_TIMEOUT)]);
    assert_eq!(base.event_pending(t, EV_TIMEOUT).unwrap(), Ev::NONE);
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);

    // Sooner → later: the first deadline does not fire any more.
    log.clear();
    let marker = base
        .event_new(-1, Ev::NONE, log.recorder("marker"))
        .unwrap();
    base.event_add(t, Some(30 * MS)).unwrap();
    base.event_add(t, Some(300 * MS)).unwrap();
    base.event_add(marker, Some(150 * MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["marker", "t"]);

    // Re-adding an fd event only moves its timeout: it stays registered once, and firing removes
    // both.
    log.clear();
    let pair = Pair::new();
    let w = base.event_new(pair.a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(w, Some(Duration::from_secs(60))).unwrap();
    base.event_add(w, Some(Duration::from_secs(50))).unwrap();
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(log.entries(), [("w", EV_WRITE)]);
    assert_eq!(
        base.event_pending(w, EV_WRITE | EV_TIMEOUT).unwrap(),
        Ev::NONE
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// event.c:event_base_once: EV_PERSIST is refused; a pure timer without a delay runs on the next
/// iteration, an fd once-event when the fd is ready; each frees itself.
#[test]
fn once_events() {
    let mut base = Base::new().unwrap();
    assert!(matches!(
        base.once(-1, EV_TIMEOUT | EV_PERSIST, None, |_, _, _| {}),
        Err(Error::Invalid(_))
    ));
    let pair = Pair::new();
    let log = Log::new();
    let (l1, l2) = (log.clone(), log.clone());
    base.once(pair.a, EV_WRITE, None, move |_, _, what| {
        l1.push("write", what)
    })
    .unwrap();
    base.once(-1, EV_TIMEOUT, None, move |_, _, what| l2.push("now", what))
        .unwrap();
    assert_eq!(
        base.dispatch().unwrap(),
        LoopExit::NoEvents,
        "once-events free themselves"
    );
    assert_eq!(log.entries(), [("now", EV_TIMEOUT), ("write", EV_WRITE)]);
}

/// event.c:event_persist_closure re-arms a persistent timer that timed out relative to its *old
/// deadline* (`ev_timeout`), not to now, so a tick that runs late — here because each call works for
/// 10 ms, and event_base_loop computes the next wait from the time cached before the callbacks ran —
/// does not push the later ticks back: 21 ticks of a 20 ms timer span about 20 × 20 ms (plus one
/// call's work), where re-arming from now would make every interval at least 20 + 10 ms, 600 ms in
/// all. The bound in between (500 ms) leaves 90 ms for a loaded machine, and a wrong re-arm cannot
/// come under it: each of its intervals is a wait of the full period after a call's work.
fn persistent_timer_keeps_a_steady_tick(method: &str) {
    const PERIOD: Duration = Duration::from_millis(20);
    const WORK: Duration = Duration::from_millis(10);
    const TICKS: usize = 21;
    let mut base = base_for(method);
    let ticks: Rc<RefCell<Vec<Instant>>> = Rc::default();
    let t_in = Rc::clone(&ticks);
    let t = base
        .event_new(-1, EV_PERSIST, move |base, _, what, me| {
            assert_eq!(what, EV_TIMEOUT);
            t_in.borrow_mut().push(Instant::now());
            if t_in.borrow().len() == TICKS {
                base.event_del(me).unwrap();
                return;
            }
            std::thread::sleep(WORK); // the callback's work
        })
        .unwrap();
    base.event_add(t, Some(PERIOD)).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    let ticks = ticks.borrow();
    assert_eq!(ticks.len(), TICKS);
    let span = ticks[TICKS - 1] - ticks[0];
    let periods = (TICKS - 1) as u32;
    let intervals: Vec<u128> = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert!(
        span >= PERIOD * periods - 10 * MS,
        "{TICKS} ticks of a {PERIOD:?} timer in {span:?}: too fast ({intervals:?} ms)"
    );
    assert!(
        span < (PERIOD + WORK / 2) * periods,
        "{TICKS} ticks of a {PERIOD:?} timer took {span:?}: the timer drifts by the callback's \
         work, so it is re-armed from now, not from its deadline (intervals {intervals:?} ms)"
    );
}

thread_local! {
    /// How many SIGUSR1 the current thread's handler saw.
    static SIGNALS_SEEN: Cell<usize> = const { Cell::new(0) };
}

extern "C" fn count_sigusr1(_: libc::c_int) {
    SIGNALS_SEEN.with(|n| n.set(n.get() + 1));
}

/// Installs [`count_sigusr1`] for SIGUSR1, once for the whole test process, without SA_RESTART
/// (epoll_wait, poll and select are never restarted after a handler anyway: they fail with EINTR).
fn install_sigusr1_counter() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // SAFETY: an all-zero sigaction is a valid starting point (empty mask, no flags).
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = count_sigusr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: sa is a valid sigaction whose handler only touches a thread-local counter.
        let res = unsafe { libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) };
        assert_eq!(res, 0, "sigaction: {}", std::io::Error::last_os_error());
    });
}

/// epoll.c:epoll_dispatch, poll.c:poll_dispatch and select.c:select_dispatch treat a wait
/// interrupted by a signal (EINTR) as "nothing ready", not as an error: the loop computes its
/// timeout again and waits on. A helper thread sends SIGUSR1 to the thread running the loop every
/// 5 ms until it returns, so most of the waits for a 150 ms timer are interrupted; the loop must
/// still end with the timer, as if nothing had happened.
fn an_interrupted_wait_is_not_an_error(method: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    install_sigusr1_counter();
    let mut base = base_for(method);
    let log = Log::new();
    let t = base.event_new(-1, Ev::NONE, log.recorder("t")).unwrap();
    base.event_add(t, Some(150 * MS)).unwrap();

    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    let done = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&done);
    let sender = std::thread::spawn(move || {
        let mut sent = 0;
        while !stop.load(Ordering::SeqCst) {
            // SAFETY: `me` is alive: the test thread joins this thread before it returns.
            assert_eq!(unsafe { libc::pthread_kill(me, libc::SIGUSR1) }, 0);
            sent += 1;
            std::thread::sleep(5 * MS);
        }
        sent
    });
    let before = SIGNALS_SEEN.with(Cell::get);
    let start = Instant::now();
    let result = base.dispatch();
    let took = start.elapsed();
    done.store(true, Ordering::SeqCst);
    let sent = sender.join().expect("the signal sender");
    let seen = SIGNALS_SEEN.with(Cell::get) - before;

    assert_eq!(
        result.expect("an interrupted wait is not an error"),
        LoopExit::NoEvents
    );
    assert_eq!(log.entries(), [("t", EV_TIMEOUT)]);
    assert!(took >= 140 * MS, "the timer fired after {took:?}");
    assert!(
        seen >= 2 && sent >= 2,
        "only {seen} of {sent} signals reached the loop's thread while it ran"
    );
}
