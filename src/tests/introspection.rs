//! Looking into a base (event.h's inspection calls): the backends built in, the version followed,
//! the counts of added and active events and their highs, the monotonic clock, the running event,
//! an event's priority, activating an fd's events by hand, walking and dumping every event, and
//! the log callback's hook.

#[macro_use]
mod common;

use common::*;
use minievent::backend::supported_methods;
use minievent::base::{EVENT_BASE_COUNT_ACTIVE, EVENT_BASE_COUNT_ADDED, EVENT_BASE_COUNT_VIRTUAL};
use minievent::event::{get_version, get_version_number};
use minievent::{Base, Config, EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Ev, LoopFlags};
use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::Duration;

per_backend!(
    num_events_counts_each_list_and_max_events_keeps_the_high,
    active_by_fd_activates_the_fds_events_or_its_timeouts,
);

/// event.c:event_get_supported_methods lists `eventops[]`, whatever a config avoids.
#[test]
fn supported_methods_are_the_preference_table_whatever_a_config_avoids() {
    assert_eq!(supported_methods(), METHODS);
    let base = Base::with_config(&Config::new().avoid_method("epoll")).unwrap();
    assert_eq!(base.method(), "poll");
    assert_eq!(supported_methods(), METHODS);
}

/// event.c:event_get_version / event_get_version_number: the number is the string's
/// major.minor.patch as `0xMMmmpp00`.
#[test]
fn version_number_encodes_the_version_string() {
    let version = get_version();
    assert!(version.ends_with("-stable"), "{version}");
    let parts: Vec<u32> = version
        .trim_end_matches("-stable")
        .split('.')
        .map(|part| part.parse().unwrap())
        .collect();
    assert_eq!(parts.len(), 3, "{version}");
    let encoded = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8);
    assert_eq!(get_version_number(), encoded);
    assert_eq!(parts, [2, 1, 12]);
}

/// event.c:event_base_get_num_events and _get_max_events: ADDED counts an event once for each of
/// added, timeout and active; ACTIVE counts the active queues; the highs stay until cleared.
fn num_events_counts_each_list_and_max_events_keeps_the_high(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let both = EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE;
    assert_eq!(base.get_num_events(both), 0);
    let reader = base
        .event_new(pair.a, EV_READ | EV_PERSIST, |_, _, _, _| {})
        .unwrap();
    let timer = base.event_new(-1, Ev::NONE, |_, _, _, _| {}).unwrap();
    base.event_add(reader, Some(Duration::from_secs(60)))
        .unwrap();
    base.event_add(timer, Some(Duration::from_secs(60)))
        .unwrap();
    // reader: added + timeout; timer: timeout.
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ADDED), 3);
    base.event_active(reader, EV_READ).unwrap();
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ADDED), 4);
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ACTIVE), 1);
    assert_eq!(base.get_num_events(both), 5);
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_VIRTUAL), 0);
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ACTIVE), 0);
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ADDED), 3);
    base.event_del(timer).unwrap();
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ADDED), 2);
    assert_eq!(base.get_max_events(EVENT_BASE_COUNT_ADDED, false), 4);
    assert_eq!(base.get_max_events(EVENT_BASE_COUNT_ACTIVE, true), 1);
    assert_eq!(base.get_max_events(EVENT_BASE_COUNT_ACTIVE, false), 0);
    assert_eq!(base.get_max_events(both, true), 4);
    assert_eq!(base.get_max_events(both, false), 0);
}

/// event.c:event_base_get_running_event is the event whose callback runs, none outside one;
/// event_gettime_monotonic reads the clock, not the loop's cached time.
#[test]
fn running_event_and_monotonic_time_inside_a_callback() {
    let mut base = Base::new().unwrap();
    assert_eq!(base.get_running_event(), None);
    let seen = Rc::new(Cell::new(None));
    let ticked = Rc::new(Cell::new(Duration::ZERO));
    let (s, t) = (seen.clone(), ticked.clone());
    let ev = base
        .event_new(-1, Ev::NONE, move |base, _, _, me| {
            s.set(Some((me, base.get_running_event())));
            let before = base.gettime_monotonic();
            std::thread::sleep(Duration::from_millis(30));
            t.set(base.gettime_monotonic() - before);
        })
        .unwrap();
    base.event_active(ev, EV_TIMEOUT).unwrap();
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(seen.get(), Some((ev, Some(ev))));
    assert_eq!(base.get_running_event(), None);
    // CLOCK_MONOTONIC_COARSE moves once per tick (at most 10 ms): 30 ms show as at least 20.
    assert!(
        ticked.get() >= Duration::from_millis(20),
        "{:?}",
        ticked.get()
    );
    assert!(ticked.get() < SOON);
}

/// event.c:event_get_priority: the middle queue by default, then what event_priority_set set.
#[test]
fn event_get_priority_reads_what_priority_set_set() {
    let mut base = Base::new().unwrap();
    base.priority_init(5).unwrap();
    let ev = base.event_new(-1, Ev::NONE, |_, _, _, _| {}).unwrap();
    assert_eq!(base.event_get_priority(ev).unwrap(), 2);
    base.event_priority_set(ev, 4).unwrap();
    assert_eq!(base.event_get_priority(ev).unwrap(), 4);
    base.event_free(ev).unwrap();
    assert!(base.event_get_priority(ev).is_err());
}

/// event.c:event_base_active_by_fd: without EV_TIMEOUT the fd's events that wait for what is
/// given run with it (no data needed); with EV_TIMEOUT only the fd's events with a pending
/// timeout run, with EV_TIMEOUT alone.
fn active_by_fd_activates_the_fds_events_or_its_timeouts(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let reader = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("reader"))
        .unwrap();
    let timed = base
        .event_new(pair.a, EV_READ | EV_PERSIST, log.recorder("timed"))
        .unwrap();
    let other = base
        .event_new(pair.b, EV_READ | EV_PERSIST, log.recorder("other"))
        .unwrap();
    base.event_add(reader, None).unwrap();
    base.event_add(timed, Some(Duration::from_secs(60)))
        .unwrap();
    base.event_add(other, Some(Duration::from_secs(60)))
        .unwrap();
    base.active_by_fd(pair.a, EV_READ | EV_WRITE);
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(log.entries(), [("timed", EV_READ), ("reader", EV_READ)]);
    log.clear();
    base.active_by_fd(pair.a, EV_TIMEOUT | EV_READ);
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(log.entries(), [("timed", EV_TIMEOUT)]);
    log.clear();
    base.active_by_fd(pair.a, EV_WRITE);
    assert_eq!(base.get_num_events(EVENT_BASE_COUNT_ACTIVE), 0);
}

/// event.c:event_base_foreach_event: added events (fd order), signals, then timers not added,
/// then active events neither added nor timed; `Break` stops the walk and is returned.
#[test]
fn foreach_event_walks_added_then_timers_then_active_and_break_stops() {
    let mut base = Base::new().unwrap();
    let pair = Pair::new();
    let noop = |_: &mut Base, _, _, _| {};
    let on_b = base.event_new(pair.b, EV_READ, noop).unwrap();
    let on_a = base.event_new(pair.a, EV_READ, noop).unwrap();
    let timer = base.event_new(-1, Ev::NONE, noop).unwrap();
    let active = base.event_new(-1, Ev::NONE, noop).unwrap();
    let idle = base.event_new(-1, Ev::NONE, noop).unwrap();
    base.event_add(on_b, None).unwrap();
    base.event_add(on_a, Some(Duration::from_secs(60))).unwrap();
    base.event_add(timer, Some(Duration::from_secs(60)))
        .unwrap();
    base.event_active(active, EV_TIMEOUT).unwrap();
    let mut walked = Vec::new();
    let done: ControlFlow<()> = base.foreach_event(|_, id| {
        walked.push(id);
        ControlFlow::Continue(())
    });
    assert_eq!(done, ControlFlow::Continue(()));
    // on_a is both added and timed: listed once, among the added, in fd order.
    assert_eq!(walked, [on_a, on_b, timer, active]);
    assert!(!walked.contains(&idle));
    let mut calls = 0;
    let stopped = base.foreach_event(|_, id| {
        calls += 1;
        if id == on_b {
            ControlFlow::Break(id)
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!((stopped, calls), (ControlFlow::Break(on_b), 2));
}

/// event.c:event_base_dump_events: the inserted section (flags waited for, timeout as wall-clock
/// time), then the active one (priority, flags fired).
#[test]
fn dump_events_lists_inserted_then_active_events() {
    let mut base = Base::new().unwrap();
    let pair = Pair::new();
    let noop = |_: &mut Base, _, _, _| {};
    let reader = base.event_new(pair.a, EV_READ | EV_PERSIST, noop).unwrap();
    let timer = base.event_new(-1, Ev::NONE, noop).unwrap();
    base.event_add(reader, None).unwrap();
    base.event_add(timer, Some(Duration::from_secs(60)))
        .unwrap();
    base.event_active(reader, EV_READ | EV_WRITE).unwrap();
    let mut out = Vec::new();
    base.dump_events(&mut out).unwrap();
    let deadline = base
        .event_pending_deadline(timer)
        .unwrap()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let expected = format!(
        "Inserted events:\n  {reader} [fd  {a}] Read Persist\n  {timer} [fd  -1] Timeout={}.{:06}\n\
         Active events:\n  {reader} [fd  {a}, priority=0] Read Write active\n",
        deadline.as_secs(),
        deadline.subsec_micros(),
        a = pair.a,
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

/// A `Write` that fails: the dump stops with its error.
#[test]
fn dump_events_returns_the_writers_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let base = Base::new().unwrap();
    let err = base.dump_events(&mut Full).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
}
