//! The epoll backend's wait (epoll.c:epoll_dispatch): what each kind of readiness becomes, the
//! events array growing, an interrupted wait.

use minievent::backend::epoll::Epoll;
use minievent::util::{socketpair, write};
use minievent::{Backend, EV_CLOSED, EV_ET, EV_READ, EV_WRITE, Ev};
use minievent_labs_kit::{stdout_of, strace};
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `close(fd)` on an fd this test made (minievent's `sys::close` is `unsafe`: only an owner may
/// close an fd).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }
}

/// These tests open many fds: one at a time.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn epoll() -> Epoll {
    Epoll::new().unwrap_or_else(|e| panic!("Epoll::new: {e}"))
}

fn watch(ep: &mut Epoll, fd: RawFd, events: Ev) {
    ep.add(fd, Ev::NONE, events)
        .unwrap_or_else(|e| panic!("add: {e}"));
}

fn wait(ep: &mut Epoll, timeout: Duration) -> Vec<(RawFd, Ev)> {
    let mut ready = Vec::new();
    ep.dispatch(Some(timeout), &mut ready)
        .unwrap_or_else(|e| panic!("dispatch: {e}"));
    ready.sort_by_key(|&(fd, _)| fd);
    ready
}

fn close_all(fds: &[RawFd]) {
    for &fd in fds {
        let _ = close(fd);
    }
}

#[test]
fn readable_and_writable_fds_are_reported_with_ev_et() {
    let _guard = lock();
    let mut ep = epoll();
    let [a, b] = socketpair().expect("socketpair");
    let [c, d] = socketpair().expect("socketpair");
    write(b, b"x").expect("write");
    watch(&mut ep, a, EV_READ);
    watch(&mut ep, c, EV_WRITE);
    assert_eq!(
        wait(&mut ep, Duration::ZERO),
        [(a, EV_READ | EV_ET), (c, EV_WRITE | EV_ET)],
        "what each fd is ready for, with EV_ET added as libevent adds it (left: what your code gave, right: what libevent does)"
    );
    close_all(&[a, b, c, d]);
}

#[test]
fn nothing_ready_waits_for_the_timeout() {
    let _guard = lock();
    let mut ep = epoll();
    let [a, b] = socketpair().expect("socketpair");
    watch(&mut ep, a, EV_READ);
    let start = Instant::now();
    assert_eq!(
        wait(&mut ep, Duration::from_millis(30)),
        [],
        "left: what your code gave, right: what libevent does"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(29) && waited < Duration::from_secs(2),
        "a 30 ms timeout waited {waited:?}"
    );
    close_all(&[a, b]);
}

#[test]
fn a_hang_up_wakes_readers_and_writers() {
    let _guard = lock();
    let mut ep = epoll();
    let [a, b] = socketpair().expect("socketpair");
    watch(&mut ep, a, EV_READ);
    close_all(&[b]);
    assert_eq!(
        wait(&mut ep, Duration::ZERO),
        [(a, EV_READ | EV_WRITE | EV_ET)],
        "EPOLLHUP without EPOLLRDHUP is EV_READ|EV_WRITE (left: what your code gave, right: what libevent does)"
    );
    close_all(&[a]);
}

#[test]
fn a_hang_up_with_rdhup_is_ev_closed() {
    let _guard = lock();
    let mut ep = epoll();
    let [a, b] = socketpair().expect("socketpair");
    watch(&mut ep, a, EV_READ | EV_CLOSED);
    close_all(&[b]);
    assert_eq!(
        wait(&mut ep, Duration::ZERO),
        [(a, EV_READ | EV_CLOSED | EV_ET)],
        "EPOLLIN|EPOLLRDHUP|EPOLLHUP is EV_READ|EV_CLOSED (left: what your code gave, right: what libevent does)"
    );
    let mut ep = epoll();
    let [c, d] = socketpair().expect("socketpair");
    watch(&mut ep, c, EV_CLOSED);
    // SAFETY: shutdown only takes integers.
    assert_eq!(unsafe { libc::shutdown(d, libc::SHUT_WR) }, 0);
    assert_eq!(
        wait(&mut ep, Duration::ZERO),
        [(c, EV_CLOSED | EV_ET)],
        "a half-close is EPOLLRDHUP alone (left: what your code gave, right: what libevent does)"
    );
    close_all(&[a, c, d]);
}

#[test]
fn an_error_wakes_readers_and_writers() {
    let _guard = lock();
    let mut ep = epoll();
    let mut p = [-1; 2];
    // SAFETY: p has room for two fds.
    assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
    watch(&mut ep, p[1], EV_WRITE);
    close_all(&[p[0]]); // a pipe without reader: its write end reports EPOLLOUT|EPOLLERR
    assert_eq!(
        wait(&mut ep, Duration::ZERO),
        [(p[1], EV_READ | EV_WRITE | EV_ET)],
        "EPOLLERR is EV_READ|EV_WRITE (left: what your code gave, right: what libevent does)"
    );
    close_all(&[p[1]]);
}

#[test]
fn the_events_array_doubles_when_a_wait_fills_it() {
    let _guard = lock();
    let mut ep = epoll();
    let mut fds = Vec::new();
    for _ in 0..33 {
        let [a, b] = socketpair().expect("socketpair");
        write(b, b"x").expect("write");
        watch(&mut ep, a, EV_READ);
        fds.extend([a, b]);
    }
    assert_eq!(
        wait(&mut ep, Duration::ZERO).len(),
        32,
        "the first wait has room for 32 (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        ep.nevents(),
        64,
        "a full wait doubles the array (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        wait(&mut ep, Duration::ZERO).len(),
        33,
        "the next one sees all 33 (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        ep.nevents(),
        64,
        "33 of 64 is not full (left: what your code gave, right: what libevent does)"
    );
    let mut small = epoll();
    watch(&mut small, fds[0], EV_READ);
    wait(&mut small, Duration::ZERO);
    assert_eq!(
        small.nevents(),
        32,
        "a wait that does not fill the array leaves it (left: what your code gave, right: what libevent does)"
    );
    close_all(&fds);
}

#[test]
fn an_interrupted_wait_is_not_an_error() {
    let step4 = Path::new(env!("CARGO_BIN_EXE_lab04-step4"));
    let (_, out) = strace(step4, &[], "epoll_wait", &["epoll_wait:error=EINTR:when=1"]);
    let stdout = stdout_of(&out, "step4");
    assert!(
        out.status.success() && stdout.contains("read 33 bytes, dispatch returned 1\n"),
        "with its first epoll_wait interrupted (EINTR), step4 should still read all 33 bytes; it printed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
