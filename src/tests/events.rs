//! Events on every backend: readiness, EV_PERSIST, event_pending, several events on one fd,
//! event_active, priorities, callbacks that free or re-add their own event, the errors of
//! event_new / event_add / a freed EventId, what hang-ups and errors wake (provoked for real on
//! pipes and sockets), and evmap's 65535-events-per-fd limit. Each behaviour runs on epoll, poll and
//! select (`epoll::name`, `poll::name`, `select::name`) unless it says otherwise.

#[macro_use]
mod common;

use common::*;
use minievent::util::{make_socket_nonblocking, would_block, write};
use minievent::{
    Base, EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, EV_WRITE, Error, Ev,
    EventId, LoopExit, LoopFlags,
};
use std::cell::Cell;
use std::os::fd::RawFd;
use std::rc::Rc;

per_backend!(
    read_and_write_readiness,
    persist_stays_pending,
    one_shot_is_not_pending_after_it_fires,
    several_events_on_one_fd,
    event_active_runs_the_callback_with_what_was_given,
    deleting_active_events_keeps_the_others_in_order,
    priorities_lower_number_runs_first,
    more_urgent_event_activated_by_a_callback_runs_next,
    priority_set_is_checked,
    callback_re_adds_its_own_event,
    callback_frees_its_own_event,
    mixing_et_and_level_triggered_on_one_fd_is_refused,
    freed_event_id_is_an_error,
    hang_up_wakes_readers_and_writers,
    hang_up_with_rdhup_is_ev_closed,
    an_error_wakes_readers_and_writers,
);

/// evmap.c:evmap_io_active_ (each event gets `ev_events & what`) and the backends' dispatch: an idle
/// socket is writable but not readable; after the peer writes, it is readable.
fn read_and_write_readiness(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    let w = base.event_new(pair.a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(r, None).unwrap();
    base.event_add(w, None).unwrap();

    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(log.entries(), [("w", EV_WRITE)], "only writable at first");
    assert_eq!(
        base.event_pending(r, EV_READ).unwrap(),
        EV_READ,
        "the reader still waits"
    );

    pair.send(b"x");
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(log.entries(), [("w", EV_WRITE), ("r", EV_READ)]);
    // Both were one-shot: nothing is pending any more.
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// event.c:event_process_active_single_queue: an EV_PERSIST event is only taken off the active
/// queue, so it stays added and fires again while the fd stays readable.
fn persist_stays_pending(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    pair.send(b"abc");
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let r = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, fd, what, me| {
            assert_eq!(what, EV_READ);
            assert_eq!(
                base.event_pending(me, EV_READ).unwrap(),
                EV_READ,
                "still added while running"
            );
            assert!(read_one(fd));
            c.set(c.get() + 1);
            if c.get() == 3 {
                base.event_del(me).unwrap();
            }
        })
        .unwrap();
    base.event_add(r, None).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(
        calls.get(),
        3,
        "one call per byte until the callback deleted it"
    );
    assert_eq!(
        base.event_pending(r, EV_READ | EV_WRITE | EV_TIMEOUT)
            .unwrap(),
        Ev::NONE
    );
}

/// event.c:event_process_active_single_queue calls event_del_nolock_ on a one-shot event before its
/// callback, and event.c:event_pending then reports nothing (also from inside the callback).
fn one_shot_is_not_pending_after_it_fires(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    pair.send(b"abc");
    let seen_inside = Rc::new(Cell::new(None));
    let s = Rc::clone(&seen_inside);
    let r = base
        .event_new(pair.a, EV_READ, move |base, _, _, me| {
            s.set(Some(
                base.event_pending(me, EV_READ | EV_WRITE | EV_TIMEOUT)
                    .unwrap(),
            ));
        })
        .unwrap();
    base.event_add(r, None).unwrap();
    assert_eq!(
        base.event_pending(r, EV_READ | EV_WRITE).unwrap(),
        EV_READ,
        "pending once added"
    );
    // The data is never read, so the fd stays readable: only the deletion stops a second call.
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(
        seen_inside.get(),
        Some(Ev::NONE),
        "not pending inside its own callback"
    );
    assert_eq!(
        base.event_pending(r, EV_READ | EV_WRITE | EV_TIMEOUT)
            .unwrap(),
        Ev::NONE
    );
}

/// evmap.c:evmap_io_add_ / evmap_io_del_ count readers and writers per fd: the backend only hears
/// about the first one added and the last one deleted, and evmap_io_active_ walks the fd's list
/// from its head (the most recently added event first).
fn several_events_on_one_fd(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r1 = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("r1"))
        .unwrap();
    let r2 = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("r2"))
        .unwrap();
    let w = base.event_new(pair.a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(r1, None).unwrap();
    base.event_add(r2, None).unwrap();
    pair.send(b"x"); // never read: the fd stays readable

    run_once_guarded(&mut base);
    assert_eq!(
        log.labels(),
        ["r2", "r1"],
        "both readers fire, list head first"
    );

    log.clear();
    base.event_del(r1).unwrap();
    run_once_guarded(&mut base);
    assert_eq!(
        log.labels(),
        ["r2"],
        "deleting one reader keeps the other watched"
    );

    log.clear();
    base.event_del(r2).unwrap();
    base.event_add(w, None).unwrap();
    run_once_guarded(&mut base);
    assert_eq!(
        log.labels(),
        ["w"],
        "the last reader gone, readability is no longer watched"
    );

    log.clear();
    base.event_add(r1, None).unwrap();
    run_once_guarded(&mut base);
    assert_eq!(
        log.labels(),
        ["r1"],
        "a reader added again is watched again"
    );
    base.event_del(r1).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// event.c:event_active / event_active_nolock_: a manual activation runs the callback with the given
/// flags (merged when activated twice) even for an event that was never added, and event_pending
/// reports them while it waits.
fn event_active_runs_the_callback_with_what_was_given(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let r = base.event_new(pair.a, EV_READ, log.recorder("r")).unwrap();
    base.event_active(r, EV_WRITE).unwrap();
    base.event_active(r, EV_TIMEOUT).unwrap();
    assert_eq!(
        base.event_pending(r, EV_READ | EV_WRITE | EV_TIMEOUT)
            .unwrap(),
        EV_WRITE | EV_TIMEOUT
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(
        log.entries(),
        [("r", EV_WRITE | EV_TIMEOUT)],
        "one call, with the merged flags"
    );
    assert_eq!(
        base.event_pending(r, EV_READ | EV_WRITE | EV_TIMEOUT)
            .unwrap(),
        Ev::NONE
    );
}

/// event.c:event_queue_remove_active (a TAILQ_REMOVE): deleting active events — the head, one in
/// the middle, the tail — leaves the others to run in the order they were activated, and an
/// event activated again joins the tail.
fn deleting_active_events_keeps_the_others_in_order(method: &str) {
    const LABELS: [&str; 6] = ["e0", "e1", "e2", "e3", "e4", "e5"];
    let mut base = base_for(method);
    let log = Log::new();
    let ids: Vec<EventId> = LABELS
        .iter()
        .map(|&label| base.event_new(-1, Ev::NONE, log.recorder(label)).unwrap())
        .collect();
    for &id in &ids {
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    for i in [0, 3, 5] {
        base.event_del(ids[i]).unwrap();
        assert_eq!(base.event_pending(ids[i], EV_TIMEOUT).unwrap(), Ev::NONE);
    }
    base.event_active(ids[3], EV_TIMEOUT).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    let ran: Vec<&str> = log.entries().into_iter().map(|(label, _)| label).collect();
    assert_eq!(ran, ["e1", "e2", "e4", "e3"]);
}

/// event.c:event_base_priority_init + event_process_active: active queues run lowest number first,
/// whatever the activation order; new events get the middle priority (event_assign).
fn priorities_lower_number_runs_first(method: &str) {
    let mut base = base_for(method);
    base.priority_init(3).unwrap();
    assert_eq!(base.npriorities(), 3);
    let log = Log::new();
    let mut ids = Vec::new();
    for (label, pri) in [("p2", 2), ("p0", 0), ("p1", 1)] {
        let id = base.event_new(-1, Ev::NONE, log.recorder(label)).unwrap();
        base.event_priority_set(id, pri).unwrap();
        ids.push(id);
    }
    let middle = base
        .event_new(-1, Ev::NONE, log.recorder("default"))
        .unwrap();
    for &id in ids.iter().chain([&middle]) {
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(
        log.labels(),
        ["p0", "p1", "default", "p2"],
        "default priority is 3/2 = 1"
    );
}

/// event.c:event_active_nolock_ sets event_continue when an event more urgent than the running
/// queue becomes active, and event_process_active_single_queue stops that queue for it.
fn more_urgent_event_activated_by_a_callback_runs_next(method: &str) {
    let mut base = base_for(method);
    base.priority_init(3).unwrap();
    let log = Log::new();
    let urgent = base
        .event_new(-1, Ev::NONE, log.recorder("urgent"))
        .unwrap();
    base.event_priority_set(urgent, 0).unwrap();
    let l = log.clone();
    let a = base
        .event_new(-1, Ev::NONE, move |base, _, _, _| {
            l.push("a", Ev::NONE);
            base.event_active(urgent, EV_TIMEOUT).unwrap();
        })
        .unwrap();
    let b = base.event_new(-1, Ev::NONE, log.recorder("b")).unwrap();
    for id in [a, b] {
        base.event_priority_set(id, 2).unwrap();
        base.event_active(id, EV_TIMEOUT).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["a", "urgent", "b"]);
}

/// event.c:event_priority_set refuses a priority outside 0..npriorities and an active event;
/// event_base_priority_init refuses 0, 256 and a change while events are active.
fn priority_set_is_checked(method: &str) {
    let mut base = base_for(method);
    assert!(matches!(base.priority_init(0), Err(Error::Invalid(_))));
    assert!(matches!(base.priority_init(256), Err(Error::Invalid(_))));
    base.priority_init(3).unwrap();
    let id = base.event_new(-1, Ev::NONE, |_, _, _, _| {}).unwrap();
    let err = base.event_priority_set(id, 3).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::BadPriority {
                pri: 3,
                npriorities: 3,
                ..
            }
        ),
        "{err}"
    );
    base.event_priority_set(id, 2).unwrap();
    base.event_active(id, EV_TIMEOUT).unwrap();
    assert!(
        matches!(base.event_priority_set(id, 0), Err(Error::Invalid(_))),
        "refused while active"
    );
    assert!(
        matches!(base.priority_init(2), Err(Error::Invalid(_))),
        "refused while events are active"
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    base.event_priority_set(id, 2).unwrap();
    // Divergence: shrinking the queues below an existing event's priority is refused (libevent
    // would index past its queues when the event fires).
    let err = base.priority_init(2).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::BadPriority {
                pri: 2,
                npriorities: 2,
                ..
            }
        ),
        "{err}"
    );
    base.event_priority_set(id, 0).unwrap();
    base.priority_init(2).unwrap();
}

/// event.c:event_self_cbarg: a one-shot callback can add its own event again (it was deleted
/// before the callback ran), here three times, then lets it end.
fn callback_re_adds_its_own_event(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    pair.send(b"abc");
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let r = base
        .event_new(pair.a, EV_READ, move |base, fd, _, me| {
            assert!(read_one(fd));
            c.set(c.get() + 1);
            if c.get() < 3 {
                base.event_add(me, None).unwrap();
            }
        })
        .unwrap();
    base.event_add(r, None).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(calls.get(), 3);
}

/// event.c:event_free from inside the event's own callback (event_self_cbarg): the loop carries on
/// without it, and its id is invalid afterwards.
fn callback_frees_its_own_event(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    pair.send(b"x"); // stays readable: a persistent event that survived would fire forever
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let r = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, _, _, me| {
            c.set(c.get() + 1);
            base.event_free(me).unwrap();
        })
        .unwrap();
    base.event_add(r, None).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(calls.get(), 1);
    assert!(
        base.event_pending(r, EV_READ).is_err(),
        "a freed event's id is invalid"
    );
}

/// evmap.c:evmap_io_add_ refuses to mix edge-triggered and level-triggered events on one fd
/// (libevent in debug mode; minievent always, with libevent's message). The refused event is not
/// pending and the first one still works.
fn mixing_et_and_level_triggered_on_one_fd_is_refused(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let level = base
        .event_new(pair.a, EV_READ, log.recorder("level"))
        .unwrap();
    let edge = base
        .event_new(pair.a, EV_WRITE | EV_ET, log.recorder("edge"))
        .unwrap();
    base.event_add(level, None).unwrap();
    let err = base.event_add(edge, None).unwrap_err();
    assert!(
        matches!(&err, Error::MixedEdgeTrigger { fd } if *fd == pair.a),
        "{err}"
    );
    assert_eq!(base.event_pending(edge, EV_WRITE).unwrap(), Ev::NONE);
    pair.send(b"x");
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["level"]);
}

/// libevent would touch freed memory; minievent's EventId carries a generation, so every call on a
/// freed id is an error (not a panic), also after its slot was reused by a new event.
fn freed_event_id_is_an_error(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let old = base.event_new(pair.a, EV_READ, |_, _, _, _| {}).unwrap();
    base.event_add(old, None).unwrap();
    base.event_free(old).unwrap();
    let new = base.event_new(pair.a, EV_WRITE, |_, _, _, _| {}).unwrap();
    base.event_add(new, None).unwrap();

    let stale = |r: Result<(), Error>| matches!(r, Err(Error::StaleEvent { id }) if id == old);
    assert!(stale(base.event_add(old, None)));
    assert!(stale(base.event_del(old)));
    assert!(stale(base.event_active(old, EV_READ)));
    assert!(stale(base.event_priority_set(old, 0)));
    assert!(stale(base.event_free(old)));
    assert!(stale(base.event_pending(old, EV_READ).map(drop)));
    assert!(stale(base.event_get_fd(old).map(drop)));
    // None of that touched the event now in the slot.
    assert_eq!(base.event_pending(new, EV_WRITE).unwrap(), EV_WRITE);
    assert_eq!(base.event_get_events(new).unwrap(), EV_WRITE);
    base.event_free(new).unwrap();
}

/// event.c:event_assign refuses EV_SIGNAL with EV_READ/EV_WRITE/EV_CLOSED, in these words.
#[test]
fn signal_with_read_is_refused_with_libevents_message() {
    let mut base = Base::new().unwrap();
    let err = base
        .event_new(5, EV_SIGNAL | EV_READ, |_, _, _, _| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "event_assign: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED"
    );
}

/// minievent's own check in event_new (libevent's evmap_io_add_ silently ignores fd < 0): an fd
/// event needs an fd; fd -1 is only for pure timers.
#[test]
fn fd_event_on_fd_minus_one_is_refused() {
    let mut base = Base::new().unwrap();
    for what in [EV_READ, EV_WRITE, EV_READ | EV_PERSIST] {
        let err = base.event_new(-1, what, |_, _, _, _| {}).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid(why) if why.contains("fd -1")),
            "{what:?}: {err}"
        );
    }
    base.event_new(-1, Ev::NONE, |_, _, _, _| {})
        .expect("a pure timer is fine");
    base.event_new(-1, EV_PERSIST, |_, _, _, _| {})
        .expect("a persistent timer is fine");
}

/// Unknown flag bits are refused rather than silently kept (no libevent counterpart: a C `short`).
#[test]
fn unknown_flag_bits_are_refused() {
    let mut base = Base::new().unwrap();
    let err = base
        .event_new(0, Ev::from_bits_retain(0x40) | EV_READ, |_, _, _, _| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(why) if why.contains("0x40")),
        "{err}"
    );
}

/// A callback gets its own id (event_self_cbarg), the same one event_new returned.
#[test]
fn callback_receives_its_own_id_and_fd() {
    let mut base = Base::new().unwrap();
    let pair = Pair::new();
    pair.send(b"x");
    let got: Rc<Cell<Option<(i32, EventId)>>> = Rc::default();
    let g = Rc::clone(&got);
    let r = base
        .event_new(pair.a, EV_READ, move |_, fd, _, me| g.set(Some((fd, me))))
        .unwrap();
    base.event_add(r, None).unwrap();
    base.dispatch().unwrap();
    assert_eq!(got.get(), Some((pair.a, r)));
}

/// `pipe()`: `[read end, write end]`.
fn pipe() -> [RawFd; 2] {
    let mut p = [-1; 2];
    // SAFETY: p has room for the two fds pipe writes.
    assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0, "pipe");
    p
}

/// epoll.c:epoll_dispatch (`EPOLLHUP` without `EPOLLRDHUP`) and poll.c:poll_dispatch (`POLLHUP`)
/// wake readers *and* writers on a hang-up. Provoked for real on the read end of a pipe whose write
/// end is closed: that fd is neither readable (no data) nor ever writable (a read end), and the
/// kernel reports the hang-up alone — so only the mapping can wake the writer, or the reader.
/// select.c has no hang-up: the read end is readable (end of file) and never in the write set, so
/// only the reader runs there, as with libevent.
fn hang_up_wakes_readers_and_writers(method: &str) {
    let mut base = base_for(method);
    let [rd, wr] = pipe();
    let log = Log::new();
    let r = base.event_new(rd, EV_READ, log.recorder("r")).unwrap();
    let w = base.event_new(rd, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(r, None).unwrap();
    base.event_add(w, None).unwrap();
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(log.entries(), [], "an idle pipe's read end is not ready");

    close(wr).unwrap();
    base.run(LoopFlags::NONBLOCK | LoopFlags::ONCE).unwrap();
    if method == "select" {
        assert_eq!(log.entries(), [("r", EV_READ)]);
        assert_eq!(base.event_pending(w, EV_WRITE).unwrap(), EV_WRITE);
    } else {
        assert_eq!(
            log.entries(),
            [("w", EV_WRITE), ("r", EV_READ)],
            "the hang-up wakes both (list head first)"
        );
    }
    base.event_free(r).unwrap();
    base.event_free(w).unwrap();
    close(rd).unwrap();
}

/// epoll.c:epoll_dispatch: a hang-up that comes *with* `EPOLLRDHUP` is `EV_CLOSED`, not
/// `EV_READ|EV_WRITE`. Provoked for real: a socket whose send buffer is full (so not writable) sees
/// its peer shut down both directions — the kernel reports `EPOLLHUP|EPOLLRDHUP` (`EPOLLIN` is not
/// asked for) — and only the `EV_CLOSED` event runs, not the writer. poll.c:poll_dispatch maps any
/// `POLLHUP` to readable and writable, so there the writer runs as well; select has no `EV_CLOSED`
/// and the socket is not writable: nothing runs. On epoll, once the one-shot closer is gone the
/// bare `EPOLLHUP` that remains wakes the writer after all, on the next pass.
fn hang_up_with_rdhup_is_ev_closed(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    make_socket_nonblocking(pair.a).unwrap();
    loop {
        match write(pair.a, &[0u8; 4096]) {
            Ok(_) => {}
            Err(e) if would_block(&e) => break,
            Err(e) => panic!("filling the socket: {e}"),
        }
    }
    let log = Log::new();
    let c = base
        .event_new(pair.a, EV_CLOSED, log.recorder("c"))
        .unwrap();
    let w = base.event_new(pair.a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(c, None).unwrap();
    base.event_add(w, None).unwrap();
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(
        log.entries(),
        [],
        "a full socket with a live peer is not ready"
    );

    // SAFETY: shutdown takes only integers.
    assert_eq!(unsafe { libc::shutdown(pair.b, libc::SHUT_RDWR) }, 0);
    let one_pass = LoopFlags::NONBLOCK | LoopFlags::ONCE;
    base.run(one_pass).unwrap();
    let expected: &[(&str, Ev)] = match method {
        "epoll" => &[("c", EV_CLOSED)],
        "poll" => &[("w", EV_WRITE), ("c", EV_CLOSED)],
        _ => &[],
    };
    assert_eq!(log.entries(), expected, "the pass that sees the hang-up");
    if method == "epoll" {
        // The one-shot closer is gone, so EPOLLRDHUP is no longer asked for — but EPOLLHUP is always
        // reported: alone now, it wakes the writer (the socket is still full).
        log.clear();
        base.run(one_pass).unwrap();
        assert_eq!(log.entries(), [("w", EV_WRITE)], "the next pass");
    }
    base.event_free(c).unwrap();
    base.event_free(w).unwrap();
}

/// epoll.c:epoll_dispatch (`EPOLLERR`) and poll.c:poll_dispatch (`POLLERR`) wake readers *and*
/// writers on an error. Provoked for real on the write end of a full pipe whose read end is then
/// closed: it is not writable (full) and a write end is never readable, so the kernel reports the
/// error alone. select(2) itself counts an error as readable and writable, so both run there too.
fn an_error_wakes_readers_and_writers(method: &str) {
    let mut base = base_for(method);
    let [rd, wr] = pipe();
    make_socket_nonblocking(wr).unwrap();
    loop {
        match write(wr, &[0u8; 4096]) {
            Ok(_) => {}
            Err(e) if would_block(&e) => break,
            Err(e) => panic!("filling the pipe: {e}"),
        }
    }
    let log = Log::new();
    let r = base.event_new(wr, EV_READ, log.recorder("r")).unwrap();
    let w = base.event_new(wr, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(r, None).unwrap();
    base.event_add(w, None).unwrap();
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert_eq!(log.entries(), [], "a full pipe's write end is not ready");

    close(rd).unwrap();
    base.run(LoopFlags::NONBLOCK | LoopFlags::ONCE).unwrap();
    assert_eq!(
        log.entries(),
        [("w", EV_WRITE), ("r", EV_READ)],
        "the error wakes both (list head first)"
    );
    base.event_free(r).unwrap();
    base.event_free(w).unwrap();
    close(wr).unwrap();
}

/// evmap.c:evmap_io_add_ keeps a 16-bit count of readers (and of writers, and of closers) per fd:
/// the 65535th reader of one fd is accepted, the 65536th refused — without being counted, so
/// deleting one reader makes room for exactly one more. Writers are counted apart, and the fd is
/// still watched: data wakes every reader. (The count is evmap's, the same on every backend; one
/// backend is enough, and 65535 events are slow to add: evmap keeps each fd's events in a `Vec`.)
#[test]
fn at_most_65535_events_of_one_kind_per_fd() {
    const MAX: usize = 65535;
    let mut base = base_for("epoll");
    let pair = Pair::new();
    let calls = Rc::new(Cell::new(0usize));
    let mut readers = Vec::with_capacity(MAX);
    for _ in 0..MAX {
        let c = Rc::clone(&calls);
        let r = base
            .event_new(pair.a, EV_READ | EV_PERSIST, move |_, _, _, _| {
                c.set(c.get() + 1)
            })
            .unwrap();
        base.event_add(r, None).unwrap();
        readers.push(r);
    }
    let log = Log::new();
    let extra = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("extra"))
        .unwrap();
    let err = base
        .event_add(extra, None)
        .expect_err("the 65536th reader of one fd");
    assert!(
        matches!(err, Error::TooManyEvents { fd } if fd == pair.a),
        "{err:?}"
    );
    assert_eq!(base.event_pending(extra, EV_READ).unwrap(), Ev::NONE);

    let w = base.event_new(pair.a, EV_WRITE, log.recorder("w")).unwrap();
    base.event_add(w, None)
        .expect("writers are counted apart from readers");

    base.event_del(readers[0]).unwrap();
    base.event_add(extra, None)
        .expect("one reader deleted: room for one");
    let one_more = base.event_new(pair.a, EV_READ, |_, _, _, _| {}).unwrap();
    let err = base.event_add(one_more, None).expect_err("full again");
    assert!(
        matches!(err, Error::TooManyEvents { fd } if fd == pair.a),
        "{err:?}"
    );

    pair.send(b"x");
    assert_eq!(run_once_guarded(&mut base), LoopExit::Done);
    assert_eq!(calls.get(), MAX - 1, "every remaining reader ran once");
    let mut seen = log.entries();
    seen.sort_by_key(|&(label, _)| label);
    assert_eq!(seen, [("extra", EV_READ), ("w", EV_WRITE)]);
}
