//! The states of an event, as event_pending reports them: initialised (pending for nothing), pending
//! (added: its fd kinds; with a timeout: EV_TIMEOUT), active (what made it active), and back.

use minievent::util::{socketpair, write};
use minievent::{
    Base, BaseFlags, Config, EV_CLOSED, EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Ev, EventId,
};
use std::cell::Cell;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Duration;

const ALL: Ev = Ev::from_bits_retain(0x01 | 0x02 | 0x04 | 0x80); // EV_TIMEOUT|EV_READ|EV_WRITE|EV_CLOSED

fn base() -> Base {
    Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn pair() -> [RawFd; 2] {
    socketpair().expect("socketpair")
}

fn new(base: &mut Base, fd: RawFd, events: Ev) -> EventId {
    base.event_new(fd, events, |_, _, _, _| {})
        .unwrap_or_else(|e| panic!("{e}"))
}

fn pending(base: &Base, id: EventId, what: Ev) -> Ev {
    base.event_pending(id, what)
        .unwrap_or_else(|e| panic!("event_pending: {e}"))
}

#[test]
fn a_new_event_is_pending_for_nothing() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_READ | EV_WRITE | EV_PERSIST);
    assert_eq!(
        pending(&base, id, ALL),
        Ev::NONE,
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn an_added_event_is_pending_for_its_own_kinds() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_READ | EV_CLOSED | EV_PERSIST);
    base.event_add(id, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, id, ALL),
        EV_READ | EV_CLOSED,
        "EV_PERSIST is not a state (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        pending(&base, id, EV_READ | EV_WRITE),
        EV_READ,
        "restricted to `what` (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        pending(&base, id, EV_WRITE),
        Ev::NONE,
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn a_timeout_makes_it_pending_for_ev_timeout() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_WRITE);
    base.event_add(id, Some(Duration::from_secs(60)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, id, ALL),
        EV_WRITE | EV_TIMEOUT,
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        pending(&base, id, EV_TIMEOUT),
        EV_TIMEOUT,
        "left: what your code gave, right: what libevent does"
    );
    let timer = new(&mut base, -1, Ev::NONE);
    assert_eq!(
        pending(&base, timer, ALL),
        Ev::NONE,
        "left: what your code gave, right: what libevent does"
    );
    base.event_add(timer, Some(Duration::from_secs(60)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, timer, ALL),
        EV_TIMEOUT,
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn an_active_event_reports_what_made_it_active() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_READ);
    base.event_active(id, EV_WRITE)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, id, ALL),
        EV_WRITE,
        "active, not added: only what made it active (left: what your code gave, right: what libevent does)"
    );
    base.event_active(id, EV_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, id, ALL),
        EV_WRITE | EV_TIMEOUT,
        "activating again adds to it (left: what your code gave, right: what libevent does)"
    );
}

#[test]
fn deleting_makes_it_pending_for_nothing_again() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_READ | EV_WRITE);
    base.event_add(id, Some(Duration::from_secs(60)))
        .unwrap_or_else(|e| panic!("{e}"));
    base.event_active(id, EV_READ)
        .unwrap_or_else(|e| panic!("{e}"));
    base.event_del(id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pending(&base, id, ALL),
        Ev::NONE,
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn a_one_shot_event_stops_being_pending_when_it_fires_a_persistent_one_does_not() {
    for (events, pending_in_callback, pending_after) in [
        (EV_READ, Ev::NONE, Ev::NONE),
        (EV_READ | EV_PERSIST, EV_READ, EV_READ),
    ] {
        let mut base = base();
        let [a, b] = pair();
        write(b, b"x").expect("write");
        let seen = Rc::new(Cell::new(None));
        let seen2 = Rc::clone(&seen);
        let id = base
            .event_new(a, events, move |base, _, _, me| {
                seen2.set(Some(base.event_pending(me, ALL).map_err(|e| e.to_string())));
                base.loopbreak();
            })
            .unwrap_or_else(|e| panic!("{e}"));
        base.event_add(id, None).unwrap_or_else(|e| panic!("{e}"));
        base.dispatch().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            seen.take(),
            Some(Ok(pending_in_callback)),
            "{events:?}: event_pending inside its own callback (left: what your code gave, right: what libevent does)"
        );
        assert_eq!(
            pending(&base, id, ALL),
            pending_after,
            "{events:?}: event_pending after the loop (left: what your code gave, right: what libevent does)"
        );
    }
}

#[test]
fn a_freed_event_has_no_state() {
    let mut base = base();
    let [a, _] = pair();
    let id = new(&mut base, a, EV_READ);
    base.event_free(id).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        base.event_pending(id, ALL).is_err(),
        "event_pending of a freed event must be an error"
    );
}
