//! Creating events (event.c:event_new / event_assign): the checks, the ids, the priority, and the
//! callback an event is created with.

use minievent::util::socketpair;
use minievent::{
    Base, BaseFlags, Config, EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT,
    EV_WRITE, Ev, EventId,
};
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;

fn base() -> Base {
    Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn fd() -> RawFd {
    let [a, _b] = socketpair().expect("socketpair");
    a // (the pair stays open until the test process exits)
}

fn refused(base: &mut Base, fd: RawFd, events: Ev) -> String {
    match base.event_new(fd, events, |_, _, _, _| {}) {
        Ok(_) => panic!("event_new({fd}, {events:?}) should be refused"),
        Err(e) => e.to_string(),
    }
}

fn accepted(base: &mut Base, fd: RawFd, events: Ev) -> EventId {
    base.event_new(fd, events, |_, _, _, _| {})
        .unwrap_or_else(|e| panic!("event_new({fd}, {events:?}) should work: {e}"))
}

#[test]
fn events_with_valid_flags_are_created_as_asked() {
    let mut base = base();
    let fd = fd();
    for events in [
        EV_READ,
        EV_WRITE | EV_PERSIST,
        EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
    ] {
        let id = accepted(&mut base, fd, events);
        assert_eq!(
            base.event_get_fd(id).unwrap_or_else(|e| panic!("{e}")),
            fd,
            "left: what your code gave, right: what libevent does"
        );
        assert_eq!(
            base.event_get_events(id).unwrap_or_else(|e| panic!("{e}")),
            events,
            "left: what your code gave, right: what libevent does"
        );
    }
}

#[test]
fn a_pure_timer_has_fd_minus_one() {
    let mut base = base();
    for events in [Ev::NONE, EV_PERSIST, EV_TIMEOUT] {
        accepted(&mut base, -1, events);
    }
}

#[test]
fn fd_events_need_a_file_descriptor() {
    let mut base = base();
    for events in [EV_READ, EV_WRITE, EV_CLOSED, EV_READ | EV_PERSIST] {
        refused(&mut base, -1, events);
    }
}

#[test]
fn signal_events_with_fd_flags_are_refused() {
    let mut base = base();
    let why = refused(&mut base, 2, EV_SIGNAL | EV_READ);
    assert!(
        why.contains("EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED"),
        "EV_SIGNAL|EV_READ is refused in libevent's words; the error says: {why}"
    );
    // A signal event alone is fine: its "fd" is the signal number (2 = SIGINT).
    accepted(&mut base, 2, EV_SIGNAL);
    accepted(&mut base, 2, EV_SIGNAL | EV_PERSIST);
}

#[test]
fn unknown_flag_bits_are_refused() {
    let mut base = base();
    let fd = fd();
    for bits in [0x40, 0x100, 0x8000] {
        refused(&mut base, fd, EV_READ | Ev::from_bits_retain(bits));
    }
}

#[test]
fn every_event_gets_its_own_id() {
    let mut base = base();
    let fd = fd();
    let ids: Vec<EventId> = (0..5).map(|_| accepted(&mut base, fd, EV_READ)).collect();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b, "two events got the same id");
        }
    }
}

#[test]
fn a_freed_id_stays_invalid_when_its_slot_is_reused() {
    let mut base = base();
    let fd = fd();
    let first = accepted(&mut base, fd, EV_READ);
    base.event_free(first).unwrap_or_else(|e| panic!("{e}"));
    let mut later = Vec::new();
    for _ in 0..3 {
        let id = accepted(&mut base, fd, EV_WRITE);
        assert_ne!(id, first, "a new event got the id of a freed one");
        later.push(id);
    }
    assert!(
        base.event_pending(first, EV_READ | EV_WRITE).is_err(),
        "event_pending on a freed id must fail"
    );
    assert!(
        base.event_get_fd(first).is_err(),
        "a freed id names no event"
    );
    for id in later {
        assert_eq!(
            base.event_get_events(id).unwrap_or_else(|e| panic!("{e}")),
            EV_WRITE,
            "left: what your code gave, right: what libevent does"
        );
    }
}

#[test]
fn new_events_get_the_middle_priority() {
    let mut base = base();
    base.priority_init(3).unwrap_or_else(|e| panic!("{e}"));
    let order = Rc::new(RefCell::new(Vec::new()));
    let mut make = |name: &'static str| {
        let order = Rc::clone(&order);
        base.event_new(-1, Ev::NONE, move |_, _, _, _| {
            order.borrow_mut().push(name)
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let (urgent, middle, late) = (make("urgent"), make("middle"), make("late"));
    base.event_priority_set(urgent, 0)
        .unwrap_or_else(|e| panic!("{e}"));
    base.event_priority_set(late, 2)
        .unwrap_or_else(|e| panic!("{e}"));
    for id in [late, middle, urgent] {
        base.event_active(id, EV_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    base.dispatch().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *order.borrow(),
        ["urgent", "middle", "late"],
        "with 3 priorities a new event is at priority 1 (npriorities / 2) (left: what your code gave, right: what libevent does)"
    );
}

#[test]
fn the_callback_gets_the_fd_what_happened_and_its_own_id() {
    let mut base = base();
    let fd = fd();
    let seen = Rc::new(RefCell::new(None));
    let seen2 = Rc::clone(&seen);
    let id = base
        .event_new(fd, EV_WRITE, move |_, fd, what, me| {
            *seen2.borrow_mut() = Some((fd, what, me))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    base.event_add(id, None).unwrap_or_else(|e| panic!("{e}"));
    base.dispatch().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *seen.borrow(),
        Some((fd, EV_WRITE, id)),
        "left: what your code gave, right: what libevent does"
    );
}
