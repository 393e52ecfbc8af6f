//! event_add and event_del against the real kernel: what the epoll instance watches afterwards (read
//! from /proc/self/fdinfo), and the fallbacks of epoll.c:epoll_apply_one_change, each provoked for
//! real — a dup'd fd (EEXIST), a closed and reopened fd (ENOENT), an fd that is gone (EBADF), and
//! an fd epoll cannot watch (EPERM).

use minievent::util::{dup, socketpair};
use minievent::{
    Base, BaseFlags, Config, EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_WRITE, Ev, EventId,
};
use minievent_labs_kit::names;
use std::collections::BTreeMap;
use std::fs;
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::{Mutex, MutexGuard};

/// `close(fd)` on an fd this test made (minievent's `sys::close` is `unsafe`: only an owner may
/// close an fd).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }
}

/// `dup2(fd, to)` onto an fd number this test owns (or closed).
fn dup2(fd: std::os::fd::RawFd, to: std::os::fd::RawFd) -> minievent::Result<std::os::fd::RawFd> {
    // SAFETY: `to` is this test's own fd, or one it closed.
    unsafe { minievent::util::dup2(fd, to) }
}

/// These tests close fds and count on numbers coming back: one at a time.
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

/// A base on epoll, and its epoll fd.
fn base() -> (Base, RawFd) {
    let before = epoll_fds();
    let base = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(base.method(), "epoll");
    let epfd = epoll_fds()
        .into_iter()
        .find(|fd| !before.contains(fd))
        .expect("the base's epoll fd");
    (base, epfd)
}

const MASK: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// What the epoll instance watches: fd → its EPOLLIN/OUT/RDHUP/ET bits, from `tfd: N events: HEX`.
fn watched(epfd: RawFd) -> BTreeMap<RawFd, u32> {
    let info =
        fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")).expect("fdinfo of the epoll fd");
    info.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let fd = words.get(1)?.parse().ok()?;
            let events = u32::from_str_radix(words.get(3)?, 16).ok()?;
            (words[0] == "tfd:").then_some((fd, events & MASK))
        })
        .collect()
}

/// Checks what the epoll instance watches `fd` for, in words: left is what your code left in the
/// kernel, right what libevent leaves there.
#[track_caller]
fn assert_watched(epfd: RawFd, fd: RawFd, expected: Option<u32>, after: &str) {
    assert_eq!(
        names::watched(watched(epfd).get(&fd).copied()),
        names::watched(expected),
        "after {after}, what the kernel watches fd {fd} for (left: after your code, right: \
         what libevent leaves; read from /proc/self/fdinfo/{epfd})"
    );
}

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const RDHUP: u32 = libc::EPOLLRDHUP as u32;

fn new(base: &mut Base, fd: RawFd, events: Ev) -> EventId {
    base.event_new(fd, events, |_, _, _, _| {})
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn the_kernel_watches_what_the_events_on_an_fd_add_up_to() {
    let _guard = lock();
    let (mut base, epfd) = base();
    let [a, b] = socketpair().expect("socketpair");
    let (r, w, c) = (
        new(&mut base, a, EV_READ | EV_PERSIST),
        new(&mut base, a, EV_WRITE),
        new(&mut base, a, EV_CLOSED),
    );
    let r2 = new(&mut base, a, EV_READ);
    let steps: [(&str, EventId, bool, Option<u32>); 7] = [
        ("add a reader", r, true, Some(IN)),
        ("add a writer", w, true, Some(IN | OUT)),
        ("add a second reader", r2, true, Some(IN | OUT)),
        ("add a closer", c, true, Some(IN | OUT | RDHUP)),
        ("delete the first reader", r, false, Some(IN | OUT | RDHUP)),
        ("delete the second reader", r2, false, Some(OUT | RDHUP)),
        ("delete the writer", w, false, Some(RDHUP)),
    ];
    for (what, id, add, expect) in steps {
        if add {
            ok(what, base.event_add(id, None));
        } else {
            ok(what, base.event_del(id));
        }
        assert_watched(epfd, a, expect, what);
    }
    ok("delete the closer", base.event_del(c));
    assert_watched(epfd, a, None, "deleting the last event (the closer)");
    let et = new(&mut base, a, EV_READ | EV_ET);
    ok("add an edge-triggered reader", base.event_add(et, None));
    assert_watched(
        epfd,
        a,
        Some(IN | libc::EPOLLET as u32),
        "adding an edge-triggered reader",
    );
    drop(base);
    for fd in [a, b] {
        let _ = close(fd);
    }
}

#[test]
fn a_duplicated_fd_gets_eexist_and_is_retried_as_mod() {
    let _guard = lock();
    let (mut base, epfd) = base();
    let [a, b] = socketpair().expect("socketpair");
    let r = new(&mut base, a, EV_READ | EV_PERSIST);
    ok("event_add", base.event_add(r, None));
    let d = ok("dup", dup(a));
    ok("close", close(a)); // the open file lives on as `d`: the kernel keeps its registration under `a`
    ok(
        "event_del of a closed fd (DEL fails with EBADF, which is ignored)",
        base.event_del(r),
    );
    ok("dup2", dup2(d, a));
    ok(
        "event_add of the same file again (ADD fails with EEXIST, retried as MOD)",
        base.event_add(r, None),
    );
    assert_watched(
        epfd,
        a,
        Some(IN),
        "the ADD that failed with EEXIST and its MOD retry",
    );
    ok("event_del", base.event_del(r));
    drop(base);
    for fd in [a, b, d] {
        let _ = close(fd);
    }
}

#[test]
fn a_reopened_fd_gets_enoent_and_is_retried_as_add() {
    let _guard = lock();
    let (mut base, epfd) = base();
    let [a, b] = socketpair().expect("socketpair");
    let r = new(&mut base, a, EV_READ | EV_PERSIST);
    let w = new(&mut base, a, EV_WRITE | EV_PERSIST);
    ok("event_add", base.event_add(r, None));
    ok("close", close(a)); // the last fd of the file: the kernel forgets it; evmap still counts r
    ok("close", close(b));
    let [a2, b2] = socketpair().expect("socketpair");
    assert_eq!(a2, a, "the fd number comes back");
    assert_watched(epfd, a, None, "closing the last fd of the file");
    ok(
        "event_add of a writer (MOD fails with ENOENT, retried as ADD)",
        base.event_add(w, None),
    );
    assert_watched(
        epfd,
        a,
        Some(IN | OUT),
        "the MOD that failed with ENOENT and its ADD retry (the reader evmap still counts comes \
         back too)",
    );
    ok("event_del", base.event_del(w));
    ok("event_del", base.event_del(r));
    assert_watched(epfd, a, None, "deleting both events");
    drop(base);
    for fd in [a2, b2] {
        let _ = close(fd);
    }
}

#[test]
fn deleting_an_fd_the_kernel_forgot_is_not_an_error() {
    let _guard = lock();
    let (mut base, _) = base();
    let [a, b] = socketpair().expect("socketpair");
    let r = new(&mut base, a, EV_READ);
    ok("event_add", base.event_add(r, None));
    ok("close", close(a));
    ok(
        "event_del of a closed fd (DEL fails with EBADF)",
        base.event_del(r),
    );
    let [a2, b2] = socketpair().expect("socketpair");
    let r2 = new(&mut base, a2, EV_READ);
    ok("event_add", base.event_add(r2, None));
    ok("close", close(a2));
    ok("close", close(b2));
    let [a3, b3] = socketpair().expect("socketpair");
    assert_eq!(a3, a2);
    ok(
        "event_del of a reopened fd (DEL fails with ENOENT)",
        base.event_del(r2),
    );
    drop(base);
    for fd in [b, a3, b3] {
        let _ = close(fd);
    }
}

#[test]
fn an_fd_epoll_cannot_watch_is_an_error_with_eperm() {
    let _guard = lock();
    let (mut base, epfd) = base();
    let n = fs::File::open("/dev/null")
        .expect("/dev/null")
        .into_raw_fd();
    let x = new(&mut base, n, EV_READ);
    match base.event_add(x, None) {
        Ok(()) => panic!("event_add on /dev/null should fail: epoll cannot watch it"),
        Err(e) => assert_eq!(
            e.raw_os_error(),
            Some(libc::EPERM),
            "the errno of your error (left) should be EPERM (right, {}): {e}",
            libc::EPERM
        ),
    }
    assert_eq!(
        ok("event_pending", base.event_pending(x, EV_READ)),
        Ev::NONE,
        "event_pending after the failed add (left) should be empty (right): the event did not \
         become pending"
    );
    assert_watched(epfd, n, None, "the refused event_add");
    drop(base);
    let _ = close(n);
}
