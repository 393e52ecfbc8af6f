//! The epoll backend's init (epoll.c:epoll_init): the epoll fd, close-on-exec, its fallback, the
//! events array.

use minievent::backend::epoll::Epoll;
use minievent::util::{socketpair, write};
use minievent::{Backend, EV_READ, Ev};
use minievent_labs_kit::{stdout_of, strace};
use std::fs;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The tests of this file open and close fds and look at /proc/self/fd: one at a time.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The fds of this process that are epoll instances.
fn epoll_fds() -> Vec<RawFd> {
    let mut fds: Vec<RawFd> = fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok())
        .filter(|e| {
            fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:[eventpoll]")
        })
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect();
    fds.sort();
    fds
}

#[test]
fn epoll_new_makes_one_close_on_exec_epoll_fd() {
    let _guard = lock();
    let before = epoll_fds();
    let epoll = Epoll::new().unwrap_or_else(|e| panic!("Epoll::new failed: {e}"));
    let new: Vec<RawFd> = epoll_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd))
        .collect();
    assert_eq!(
        new.len(),
        1,
        "Epoll::new should create exactly one epoll instance, it created {new:?} (left: what your code gave, right: what libevent does)"
    );
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(new[0], libc::F_GETFD) };
    assert!(
        flags & libc::FD_CLOEXEC != 0,
        "the epoll fd must be close-on-exec (EPOLL_CLOEXEC)"
    );
    drop(epoll);
    assert_eq!(
        epoll_fds(),
        before,
        "dropping the Epoll closes its fd (left: what your code gave, right: what libevent does)"
    );
}

#[test]
fn the_events_array_starts_with_32_entries() {
    let _guard = lock();
    let mut epoll = Epoll::new().unwrap_or_else(|e| panic!("Epoll::new failed: {e}"));
    assert_eq!(
        epoll.nevents(),
        32,
        "INITIAL_NEVENT (left: what your code gave, right: what libevent does)"
    );
    // 33 readable sockets: one epoll_wait can only report as many as the array holds.
    let mut fds = Vec::new();
    for _ in 0..33 {
        let [a, b] = socketpair().expect("socketpair");
        write(b, b"x").expect("write");
        epoll
            .add(a, Ev::NONE, EV_READ)
            .unwrap_or_else(|e| panic!("add: {e}"));
        fds.extend([a, b]);
    }
    let mut ready = Vec::new();
    epoll
        .dispatch(Some(Duration::ZERO), &mut ready)
        .unwrap_or_else(|e| panic!("dispatch: {e}"));
    assert_eq!(
        ready.len(),
        32,
        "the first epoll_wait has room for 32 events (left: what your code gave, right: what libevent does)"
    );
    for fd in fds {
        // SAFETY: closing fds this test opened.
        unsafe { libc::close(fd) };
    }
}

fn step1() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_lab01-step1"))
}

#[test]
fn without_epoll_create1_it_falls_back_to_epoll_create_and_fcntl() {
    let (trace, out) = strace(
        step1(),
        &[],
        "epoll_create1,epoll_create,fcntl",
        &["epoll_create1:error=ENOSYS"],
    );
    let stdout = stdout_of(&out, "step1");
    assert!(
        out.status.success(),
        "step1 failed when epoll_create1 failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("method: epoll\n"),
        "the base should still be on epoll:\n{stdout}"
    );
    // strace pads the result column: compare with single spaces.
    let trace: String = trace
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n")
        .collect();
    let created = trace
        .lines()
        .find_map(|l| {
            l.split_once("epoll_create(32000) = ")
                .map(|(_, fd)| fd.trim().to_string())
        })
        .unwrap_or_else(|| {
            panic!("no epoll_create(32000) after epoll_create1 failed; strace saw:\n{trace}")
        });
    let cloexec = format!("fcntl({created}, F_SETFD, FD_CLOEXEC) = 0");
    assert!(
        trace.lines().any(|l| l.contains(&cloexec)),
        "the fd from epoll_create must be made close-on-exec by hand ({cloexec}); strace saw:\n{trace}"
    );
}

#[test]
fn when_epoll_cannot_be_created_at_all_the_base_uses_poll() {
    let (_, out) = strace(
        step1(),
        &[],
        "epoll_create1,epoll_create",
        &["epoll_create1:error=ENOSYS", "epoll_create:error=ENOSYS"],
    );
    let stdout = stdout_of(&out, "step1");
    assert!(
        stdout.contains("method: poll\n"),
        "Epoll::new should return the error, and the walk move on to poll; step1 printed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
