//! evmap's counts (evmap.c:evmap_io_add_ / evmap_io_del_): what the backend hears of, with a
//! backend that only records the calls.

use minievent::evmap::IoMap;
use minievent::{
    Backend, Base, BaseFlags, Config, EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Error, Ev, EventId,
};
use std::os::fd::RawFd;
use std::time::Duration;

/// A backend that records `add` / `del` calls, and fails them on request.
#[derive(Default)]
struct Recorder {
    calls: Vec<(&'static str, RawFd, Ev, Ev)>,
    fail: bool,
}

impl Backend for Recorder {
    fn add(&mut self, fd: RawFd, old: Ev, events: Ev) -> minievent::Result<()> {
        self.calls.push(("add", fd, old, events));
        if self.fail {
            Err(Error::Invalid("refused on purpose".into()))
        } else {
            Ok(())
        }
    }
    fn del(&mut self, fd: RawFd, old: Ev, events: Ev) -> minievent::Result<()> {
        self.calls.push(("del", fd, old, events));
        if self.fail {
            Err(Error::Invalid("refused on purpose".into()))
        } else {
            Ok(())
        }
    }
    fn dispatch(&mut self, _: Option<Duration>, _: &mut Vec<(RawFd, Ev)>) -> minievent::Result<()> {
        Ok(())
    }
}

/// Event ids to put in the map (made by a base, which is all they need).
fn ids(n: usize) -> Vec<EventId> {
    let mut base = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"));
    (0..n)
        .map(|_| {
            base.event_new(-1, Ev::NONE, |_, _, _, _| {})
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

const FD: RawFd = 9;

fn add(map: &mut IoMap, b: &mut Recorder, id: EventId, events: Ev) -> bool {
    map.add(b, FD, id, events)
        .unwrap_or_else(|e| panic!("IoMap::add({events:?}): {e}"))
}

fn del(map: &mut IoMap, b: &mut Recorder, id: EventId, events: Ev) -> bool {
    map.del(b, FD, id, events)
        .unwrap_or_else(|e| panic!("IoMap::del({events:?}): {e}"))
}

fn counts(map: &IoMap) -> (u16, u16, u16) {
    let slot = map
        .get(FD)
        .expect("the fd has a slot once an event was added");
    (slot.nread, slot.nwrite, slot.nclose)
}

#[test]
fn the_first_reader_is_added_the_second_only_counted() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(2));
    assert!(
        add(&mut map, &mut b, id[0], EV_READ),
        "the first reader: the backend is told"
    );
    assert!(
        !add(&mut map, &mut b, id[1], EV_READ),
        "a second reader: nothing to tell"
    );
    assert_eq!(
        b.calls,
        [("add", FD, Ev::NONE, EV_READ)],
        "left: the backend calls your IoMap made, as (call, fd, old, events); right: what evmap.c makes"
    );
    assert_eq!(
        counts(&map),
        (2, 0, 0),
        "left: your (nread, nwrite, nclose) for the fd; right: evmap.c's"
    );
}

#[test]
fn a_new_kind_is_added_with_the_old_events_of_the_fd() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(3));
    add(&mut map, &mut b, id[0], EV_READ);
    add(&mut map, &mut b, id[1], EV_WRITE);
    add(&mut map, &mut b, id[2], EV_READ | EV_WRITE | EV_CLOSED);
    assert_eq!(
        b.calls,
        [
            ("add", FD, Ev::NONE, EV_READ),
            ("add", FD, EV_READ, EV_WRITE),
            ("add", FD, EV_READ | EV_WRITE, EV_CLOSED),
        ],
        "only the kinds that get their first event are passed, with what the fd had before (left: the backend calls your IoMap made, as (call, fd, old, events); right: what evmap.c makes)"
    );
    assert_eq!(
        counts(&map),
        (2, 2, 1),
        "left: your (nread, nwrite, nclose) for the fd; right: evmap.c's"
    );
}

#[test]
fn only_the_last_event_of_a_kind_leaving_is_deleted() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(3));
    add(&mut map, &mut b, id[0], EV_READ);
    add(&mut map, &mut b, id[1], EV_READ);
    add(&mut map, &mut b, id[2], EV_WRITE);
    b.calls.clear();
    assert!(
        !del(&mut map, &mut b, id[0], EV_READ),
        "another reader remains: nothing to tell"
    );
    assert!(del(&mut map, &mut b, id[1], EV_READ));
    assert!(del(&mut map, &mut b, id[2], EV_WRITE));
    assert_eq!(
        b.calls,
        [
            ("del", FD, EV_READ | EV_WRITE, EV_READ),
            ("del", FD, EV_WRITE, EV_WRITE)
        ],
        "left: the backend calls your IoMap made, as (call, fd, old, events); right: what evmap.c makes"
    );
    assert_eq!(
        counts(&map),
        (0, 0, 0),
        "left: your (nread, nwrite, nclose) for the fd; right: evmap.c's"
    );
}

#[test]
fn edge_triggered_is_passed_on_and_cannot_be_mixed() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(3));
    add(&mut map, &mut b, id[0], EV_READ | EV_ET);
    assert!(
        map.add(&mut b, FD, id[1], EV_WRITE).is_err(),
        "a level-triggered event on an edge-triggered fd"
    );
    add(&mut map, &mut b, id[2], EV_WRITE | EV_ET);
    del(&mut map, &mut b, id[0], EV_READ | EV_ET);
    assert_eq!(
        b.calls,
        [
            ("add", FD, Ev::NONE, EV_READ | EV_ET),
            ("add", FD, EV_READ, EV_WRITE | EV_ET),
            ("del", FD, EV_READ | EV_WRITE, EV_READ | EV_ET),
        ],
        "left: the backend calls your IoMap made, as (call, fd, old, events); right: what evmap.c makes"
    );
    assert_eq!(
        counts(&map),
        (0, 1, 0),
        "the refused event was not counted (left: your (nread, nwrite, nclose) for the fd; right: evmap.c's)"
    );
}

#[test]
fn the_newest_event_of_an_fd_comes_first() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(3));
    add(&mut map, &mut b, id[0], EV_READ);
    add(&mut map, &mut b, id[1], EV_WRITE);
    add(&mut map, &mut b, id[2], EV_READ);
    let listed: Vec<EventId> = map
        .get(FD)
        .expect("slot")
        .events
        .iter()
        .map(|&(id, _)| id)
        .collect();
    assert_eq!(
        listed,
        [id[2], id[1], id[0]],
        "libevent inserts at the head of the fd's list"
    );
    del(&mut map, &mut b, id[1], EV_WRITE);
    let listed: Vec<EventId> = map
        .get(FD)
        .expect("slot")
        .events
        .iter()
        .map(|&(id, _)| id)
        .collect();
    assert_eq!(listed, [id[2], id[0]], "a deleted event leaves the list");
    assert_eq!(map.active(FD, EV_READ).len(), 2);
}

#[test]
fn a_failed_add_changes_nothing_a_failed_del_still_forgets() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(2));
    add(&mut map, &mut b, id[0], EV_READ);
    b.fail = true;
    assert!(
        map.add(&mut b, FD, id[1], EV_WRITE).is_err(),
        "the backend's error is returned"
    );
    assert_eq!(
        counts(&map),
        (1, 0, 0),
        "a failed add is not counted (left: your (nread, nwrite, nclose) for the fd; right: evmap.c's)"
    );
    assert_eq!(map.get(FD).expect("slot").events.len(), 1, "nor listed");
    assert!(
        map.del(&mut b, FD, id[0], EV_READ).is_err(),
        "the backend's error is returned"
    );
    assert_eq!(
        counts(&map),
        (0, 0, 0),
        "a failed del is still uncounted (left: your (nread, nwrite, nclose) for the fd; right: evmap.c's)"
    );
    assert!(
        map.get(FD).expect("slot").events.is_empty(),
        "and the event leaves the list"
    );
}

#[test]
fn fds_are_counted_separately() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(2));
    map.add(&mut b, 3, id[0], EV_READ)
        .unwrap_or_else(|e| panic!("{e}"));
    map.add(&mut b, 40, id[1], EV_READ)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        b.calls,
        [
            ("add", 3, Ev::NONE, EV_READ),
            ("add", 40, Ev::NONE, EV_READ)
        ],
        "left: the backend calls your IoMap made, as (call, fd, old, events); right: what evmap.c makes"
    );
}

/// libevent's `evmap_io_add_` returns 0 for a negative fd, and `event_add` then counts the event
/// as inserted although nothing watches it; minievent refuses it (DIVERGENCES.md, row 20).
#[test]
fn a_negative_fd_is_refused_where_libevent_returns_0() {
    let (mut map, mut b, id) = (IoMap::default(), Recorder::default(), ids(1));
    match map.add(&mut b, -1, id[0], EV_READ) {
        Err(Error::Invalid(message)) => assert!(
            message.contains("negative fd -1"),
            "your error should name the negative fd: {message}"
        ),
        other => panic!(
            "IoMap::add on fd -1 should be Err(Error::Invalid(\"evmap: negative fd -1\")): a negative \
             fd has no slot; yours gave {other:?}"
        ),
    }
    assert!(
        b.calls.is_empty(),
        "the backend heard of fd -1: {:?}",
        b.calls
    );
}
