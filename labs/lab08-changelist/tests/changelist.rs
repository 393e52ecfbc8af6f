//! The changelist alone (evmap.c: event_changelist_add_, event_changelist_del_): each change goes
//! into its fd's one entry, whose `old_events` the first change fixed; an add replaces a del, a
//! del cancels an add the kernel never saw, each kind keeps its edge-triggered bit — and what each
//! entry turns into at the next dispatch (`epoll_op`, libevent's `epoll_op_table`).

use minievent::backend::epoll::{Change, epoll_op};
use minievent::changelist::{ChangeEntry, Changelist, KindChange};
use minievent::{EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev};
use minievent_labs_kit::names;

const NONE: Ev = Ev::NONE;
const ADD: KindChange = KindChange {
    change: Change::Add,
    et: false,
};
const DEL: KindChange = KindChange {
    change: Change::Del,
    et: false,
};
const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

/// The only entry of the list.
fn only(cl: &Changelist) -> ChangeEntry {
    match cl.changes() {
        [entry] => *entry,
        other => panic!("one fd was changed, so the list has one entry; it has {other:?}"),
    }
}

/// Checks the `epoll_ctl` an entry becomes at the next dispatch (`None`: no call), in words.
#[track_caller]
fn assert_op(entry: &ChangeEntry, expected: Option<(i32, u32)>, after: &str) {
    assert_eq!(
        names::epoll_ctl(epoll_op(&entry.to_event_change())),
        names::epoll_ctl(expected),
        "after {after}, the epoll_ctl the fd's entry becomes at the next dispatch (left: from \
         your entry, right: libevent's)"
    );
}

#[test]
fn an_add_records_an_add_for_each_kind_it_names() {
    let mut cl = Changelist::new();
    cl.add(5, NONE, EV_READ | EV_WRITE);
    let e = only(&cl);
    assert_eq!(
        (e.fd, e.old_events),
        (5, NONE),
        "the entry's fd and old_events (left: yours, right: libevent's)"
    );
    assert_eq!(
        (e.read, e.write, e.close),
        (ADD, ADD, KindChange::NONE),
        "EV_READ|EV_WRITE: both kinds become Add, EV_CLOSED is untouched (left: yours, right: libevent's)"
    );
    assert_op(
        &e,
        Some((libc::EPOLL_CTL_ADD, IN | OUT)),
        "add(EV_READ|EV_WRITE)",
    );
}

#[test]
fn an_add_and_a_del_of_the_same_kind_cancel_out() {
    let mut cl = Changelist::new();
    cl.add(5, NONE, EV_READ);
    cl.del(5, EV_READ, EV_READ);
    let e = only(&cl);
    assert!(
        e.is_noop(),
        "the fd had no EV_READ when its entry was made: the del cancels the add, and no \
         epoll_ctl is made at all; got {e:?}"
    );
    assert_eq!(
        cl.len(),
        1,
        "the cancelled entry stays in the list, as libevent's does (left: yours, right: libevent's)"
    );
    assert_op(&e, None, "add(EV_READ), del(EV_READ)");
}

#[test]
fn a_del_then_an_add_is_kept_as_an_add() {
    let mut cl = Changelist::new();
    cl.del(5, EV_READ, EV_READ);
    assert_eq!(
        only(&cl).read,
        DEL,
        "the fd had EV_READ: a real del (left: yours, right: libevent's)"
    );
    assert_op(
        &only(&cl),
        Some((libc::EPOLL_CTL_DEL, IN)),
        "del(EV_READ) of a reader",
    );
    cl.add(5, NONE, EV_READ);
    let e = only(&cl);
    assert_eq!(
        e.read, ADD,
        "an add replaces the del (the fd may have been closed and reopened since: the add must \
         reach the kernel) (left: yours, right: libevent's)"
    );
    assert_eq!(
        e.old_events, EV_READ,
        "old_events stays what the first change of the iteration saw (left: yours, right: libevent's)"
    );
    assert_op(
        &e,
        Some((libc::EPOLL_CTL_MOD, IN)),
        "del(EV_READ), add(EV_READ)",
    );
}

#[test]
fn a_del_of_a_kind_the_fd_did_not_have_is_no_change() {
    let mut cl = Changelist::new();
    cl.del(4, EV_WRITE, EV_READ | EV_CLOSED);
    let e = only(&cl);
    assert!(
        e.is_noop(),
        "the fd had only EV_WRITE: deleting EV_READ and EV_CLOSED changes nothing; got {e:?}"
    );
    cl.del(4, EV_WRITE, EV_WRITE);
    assert_eq!(
        only(&cl).write,
        DEL,
        "del(EV_WRITE) of a writer (left: yours, right: libevent's)"
    );
    assert_op(
        &only(&cl),
        Some((libc::EPOLL_CTL_DEL, OUT)),
        "del(EV_WRITE) of a writer",
    );
}

#[test]
fn each_fd_has_one_entry_in_the_order_fds_were_first_changed() {
    let mut cl = Changelist::new();
    cl.add(7, NONE, EV_READ);
    cl.add(3, EV_WRITE, EV_READ);
    cl.add(7, EV_READ, EV_WRITE);
    cl.del(3, EV_READ | EV_WRITE, EV_WRITE);
    cl.add(12, NONE, EV_CLOSED);
    let fds: Vec<_> = cl.changes().iter().map(|e| e.fd).collect();
    assert_eq!(
        fds,
        [7, 3, 12],
        "one entry per fd, in first-change order (left: yours, right: libevent's)"
    );
    let [a, b, c] = cl.changes() else {
        unreachable!()
    };
    assert_eq!(
        (a.old_events, a.read, a.write),
        (NONE, ADD, ADD),
        "fd 7 (left: yours, right: libevent's)"
    );
    assert_op(
        a,
        Some((libc::EPOLL_CTL_ADD, IN | OUT)),
        "fd 7: add(EV_READ), add(EV_WRITE)",
    );
    assert_eq!(
        (b.old_events, b.read, b.write),
        (EV_WRITE, ADD, DEL),
        "fd 3: old_events is what evmap said at its first change (EV_WRITE) (left: yours, right: libevent's)"
    );
    assert_op(
        b,
        Some((libc::EPOLL_CTL_MOD, IN)),
        "fd 3, a writer: add(EV_READ), del(EV_WRITE)",
    );
    assert_eq!(
        (c.close, c.read),
        (ADD, KindChange::NONE),
        "fd 12 (left: yours, right: libevent's)"
    );
}

#[test]
fn the_edge_triggered_bit_is_kept_per_kind() {
    let mut cl = Changelist::new();
    cl.add(4, NONE, EV_READ | EV_ET);
    let e = only(&cl);
    assert_eq!(
        e.read,
        KindChange {
            change: Change::Add,
            et: true
        },
        "add(EV_READ|EV_ET) (left: yours, right: libevent's)"
    );
    assert!(e.to_event_change().et, "EPOLLET on the way to the kernel");
    cl.del(4, EV_READ, EV_READ | EV_ET);
    assert_eq!(
        only(&cl).read,
        KindChange::NONE,
        "a cancelled kind keeps no EV_ET (left: yours, right: libevent's)"
    );
    cl.add(4, NONE, EV_WRITE);
    assert!(
        !only(&cl).to_event_change().et,
        "only EV_WRITE is left, and it is level-triggered"
    );

    let mut cl = Changelist::new();
    cl.del(9, EV_READ | EV_WRITE, EV_WRITE | EV_ET);
    assert_eq!(
        only(&cl).write,
        KindChange {
            change: Change::Del,
            et: true
        },
        "a del carries EV_ET too (left: yours, right: libevent's)"
    );
    assert_eq!(
        only(&cl).read,
        KindChange::NONE,
        "the read it never had (left: yours, right: libevent's)"
    );
}

#[test]
fn after_take_all_the_next_change_starts_a_new_entry() {
    let mut cl = Changelist::new();
    cl.add(2, NONE, EV_READ);
    cl.add(9, NONE, EV_WRITE);
    let taken = cl.take_all();
    assert_eq!(
        taken.iter().map(|e| e.fd).collect::<Vec<_>>(),
        [2, 9],
        "the entries' fds (left: yours, right: libevent's)"
    );
    assert!(cl.is_empty());
    cl.del(9, EV_WRITE, EV_WRITE);
    cl.add(2, EV_READ, EV_WRITE);
    let fds: Vec<_> = cl.changes().iter().map(|e| e.fd).collect();
    assert_eq!(
        fds,
        [9, 2],
        "after a dispatch each fd starts over: new entries, in the new order (left: yours, right: libevent's)"
    );
    assert_eq!(
        (cl.changes()[0].old_events, cl.changes()[0].write),
        (EV_WRITE, DEL),
        "a new entry has the new old_events: the del of the write the fd now has is real (left: yours, right: libevent's)"
    );
}
