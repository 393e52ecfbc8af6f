//! Your changelist inside a real base on epoll with `EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST`
//! (libevent: epollops_changelist, epoll_apply_changes): changes reach the kernel only at the next
//! dispatch; an event added and deleted in between never does; a del followed by an add of a
//! closed and reopened fd still registers the new file; callbacks run. What the kernel's epoll
//! instance watches is read from `/proc/self/fdinfo/EPFD`, so "no epoll_ctl" is seen, not assumed.

use minievent::util::{socketpair, write};
use minievent::{Base, BaseFlags, Config, EV_PERSIST, EV_READ, EV_WRITE, Ev, EventId, LoopFlags};
use minievent_labs_kit::{names, within};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

/// `close(fd)` on an fd this test made (minievent's `sys::close` is `unsafe`: only an owner may
/// close an fd).
fn close(fd: RawFd) {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }.unwrap_or_else(|e| panic!("close({fd}): {e}"));
}

/// `dup2(fd, to)` onto an fd number this test owns (or closed).
fn dup2(fd: RawFd, to: RawFd) {
    // SAFETY: `to` is this test's own fd, or one it closed.
    unsafe { minievent::util::dup2(fd, to) }.unwrap_or_else(|e| panic!("dup2: {e}"));
}

/// These tests find their base's epoll fd among the process's fds and close fds whose numbers
/// come back: one at a time.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The fds of this process that are epoll instances.
fn epoll_fds() -> Vec<RawFd> {
    fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok())
        .filter(|e| {
            fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:[eventpoll]")
        })
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect()
}

/// A base on epoll with the changelist, and its epoll fd.
fn base() -> (Base, RawFd) {
    let before = epoll_fds();
    let cfg = Config::new()
        .set_flag(BaseFlags::IGNORE_ENV)
        .set_flag(BaseFlags::EPOLL_USE_CHANGELIST);
    let base = Base::with_config(&cfg).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(base.method(), "epoll (with changelist)");
    let epfd = epoll_fds()
        .into_iter()
        .find(|fd| !before.contains(fd))
        .expect("the base's epoll fd");
    (base, epfd)
}

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

/// What the epoll instance watches: fd → its EPOLLIN/OUT bits, from `tfd: N events: HEX`.
fn watched(epfd: RawFd) -> BTreeMap<RawFd, u32> {
    let info =
        fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")).expect("fdinfo of the epoll fd");
    info.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let fd = words.get(1)?.parse().ok()?;
            let events = u32::from_str_radix(words.get(3)?, 16).ok()?;
            (words[0] == "tfd:").then_some((fd, events & (IN | OUT)))
        })
        .collect()
}

/// Checks the whole epoll set, in words: left is what your code left in the kernel, right what
/// libevent leaves there.
#[track_caller]
fn assert_watched(epfd: RawFd, expected: &[(RawFd, u32)], after: &str) {
    let words = |set: &mut dyn Iterator<Item = (RawFd, u32)>| -> Vec<String> {
        set.map(|(fd, mask)| format!("fd {fd}: {}", names::epoll_events(mask)))
            .collect()
    };
    assert_eq!(
        words(&mut watched(epfd).into_iter()),
        words(&mut expected.iter().copied()),
        "after {after}, what the kernel watches (left: after your code, right: what libevent \
         leaves; read from /proc/self/fdinfo/{epfd})"
    );
}

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// An event on `fd` whose callback counts its runs.
fn counted(base: &mut Base, fd: RawFd, events: Ev) -> (EventId, Rc<Cell<u32>>) {
    let runs = Rc::new(Cell::new(0));
    let seen = Rc::clone(&runs);
    let id = ok(
        "event_new",
        base.event_new(fd, events, move |_, _, _, _| seen.set(seen.get() + 1)),
    );
    (id, runs)
}

/// One pass of the loop that does not wait: applies the recorded changes (and runs what is
/// ready once).
fn dispatch(base: &mut Base) {
    ok(
        "run(ONCE|NONBLOCK)",
        base.run(LoopFlags::ONCE | LoopFlags::NONBLOCK),
    );
}

#[test]
fn changes_reach_the_kernel_at_the_next_dispatch() {
    let _guard = lock();
    within(10, "changes at dispatch", || {
        let (mut base, epfd) = base();
        let [a, b] = socketpair().expect("socketpair");
        let (r, runs) = counted(&mut base, a, EV_READ | EV_PERSIST);
        let (w, _) = counted(&mut base, a, EV_WRITE | EV_PERSIST);
        ok("event_add", base.event_add(r, None));
        ok("event_add", base.event_add(w, None));
        assert_watched(
            epfd,
            &[],
            "two event_adds on a changelist base (they only record: no epoll_ctl yet)",
        );
        dispatch(&mut base);
        assert_watched(
            epfd,
            &[(a, IN | OUT)],
            "a dispatch after a read and a write event were added (one entry for the fd)",
        );
        ok("event_del", base.event_del(w));
        assert_watched(
            epfd,
            &[(a, IN | OUT)],
            "event_del of the write event (it only records too)",
        );
        ok("write", write(b, b"x"));
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_watched(epfd, &[(a, IN)], "the next dispatch (MOD to EPOLLIN)");
        assert_eq!(
            runs.get(),
            1,
            "read callback runs (left: with your code, right: libevent's)"
        );
        ok("event_free", base.event_free(r));
        ok("event_free", base.event_free(w));
        close(a);
        close(b);
    });
}

#[test]
fn an_event_added_and_deleted_between_two_dispatches_never_reaches_the_kernel() {
    let _guard = lock();
    within(10, "add then del", || {
        let (mut base, epfd) = base();
        let [a, b] = socketpair().expect("socketpair");
        let (r, runs) = counted(&mut base, a, EV_READ | EV_PERSIST);
        ok("event_add", base.event_add(r, None));
        ok("event_del", base.event_del(r));
        ok("write", write(b, b"x"));
        dispatch(&mut base);
        assert_watched(
            epfd,
            &[],
            "event_add then event_del of one event, then a dispatch (they cancel out: no epoll_ctl)",
        );
        assert_eq!(
            runs.get(),
            0,
            "runs of a deleted event's callback (left: with your code, right: libevent's)"
        );

        // Cancelled changes make no call, so one on an fd closed meanwhile cannot fail either.
        ok("event_add", base.event_add(r, None));
        ok("event_del", base.event_del(r));
        ok("event_free", base.event_free(r));
        close(a);
        dispatch(&mut base);
        assert_watched(epfd, &[], "add, del, close, dispatch");
        close(b);
    });
}

#[test]
fn a_del_then_an_add_on_a_reopened_fd_registers_the_new_file() {
    let _guard = lock();
    within(10, "del, close, reopen, add", || {
        let (mut base, epfd) = base();
        let [a, b] = socketpair().expect("socketpair");
        let (old, _) = counted(&mut base, a, EV_READ | EV_PERSIST);
        ok("event_add", base.event_add(old, None));
        dispatch(&mut base);
        assert_watched(epfd, &[(a, IN)], "event_add and a dispatch");

        // Between two dispatches: the event is deleted, its fd closed (the kernel drops it from
        // the epoll set), and the same number reopened as another socket with a new event.
        let [c, d] = socketpair().expect("socketpair");
        ok("event_del", base.event_del(old));
        close(a);
        close(b);
        dup2(c, a);
        close(c);
        let (new, runs) = counted(&mut base, a, EV_READ | EV_PERSIST);
        ok("event_add", base.event_add(new, None));
        dispatch(&mut base);
        assert_watched(
            epfd,
            &[(a, IN)],
            "event_del, close, the fd reopened, event_add, dispatch (a del then an add is an add: \
             MOD, which the kernel answers with ENOENT, then ADD; had the add been dropped, the \
             reopened fd would not be watched)",
        );
        ok("write", write(d, b"x"));
        ok("run(ONCE)", base.run(LoopFlags::ONCE));
        assert_eq!(
            runs.get(),
            1,
            "runs of the new event's callback (left: with your code, right: libevent's)"
        );
        ok("event_free", base.event_free(old));
        ok("event_free", base.event_free(new));
        close(a);
        close(d);
    });
}

#[test]
fn a_callback_that_deletes_and_re_adds_its_event_stays_registered() {
    let _guard = lock();
    within(10, "del and add in a callback", || {
        let (mut base, epfd) = base();
        let [a, b] = socketpair().expect("socketpair");
        let runs = Rc::new(Cell::new(0));
        let seen = Rc::clone(&runs);
        let ev = ok(
            "event_new",
            base.event_new(a, EV_READ | EV_PERSIST, move |base, fd, _, me| {
                seen.set(seen.get() + 1);
                let mut byte = [0u8; 1];
                // SAFETY: reads one byte into a local buffer from the test's own socket.
                unsafe { libc::read(fd, byte.as_mut_ptr().cast(), 1) };
                ok("event_del", base.event_del(me));
                ok("event_add", base.event_add(me, None));
            }),
        );
        ok("event_add", base.event_add(ev, None));
        for round in 1..=3 {
            ok("write", write(b, b"x"));
            ok("run(ONCE)", base.run(LoopFlags::ONCE));
            assert_eq!(
                runs.get(),
                round,
                "callback runs, one per byte (left: with your code, right: libevent's)"
            );
            dispatch(&mut base);
            assert_watched(
                epfd,
                &[(a, IN)],
                &format!(
                    "round {round} (the callback's event_del then event_add is a MOD, never a DEL)"
                ),
            );
        }
        ok("event_free", base.event_free(ev));
        close(a);
        close(b);
    });
}
