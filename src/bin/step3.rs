//! Step 3 — `event_add` / `event_del`: the epoll_ctl each one causes, and the three fallbacks of
//! `epoll_apply_one_change` provoked for real (a dup'd fd, a closed-and-reopened fd, an unpollable fd).
//! Scenario `step3` in traces/SCENARIOS.md; the C twin is traces/reference/step3.c.

use minievent::util::{dup, socketpair};
use minievent::{Base, EV_PERSIST, EV_READ, EV_WRITE};
use std::os::fd::{IntoRawFd, RawFd};

/// `close(fd)`. Every fd this program closes is one it made itself and owns alone; closing one
/// that an event still waits on is the point of the fallback scenarios below.
fn close(fd: RawFd) -> minievent::Result<()> {
    // SAFETY: the fd is this program's own (see above); nothing else holds it.
    unsafe { minievent::sys::close(fd) }
}

/// `dup2(fd, to)`, replacing `to`, which this program owns (see [`close`]).
fn dup2(fd: RawFd, to: RawFd) -> minievent::Result<RawFd> {
    // SAFETY: `to` is this program's own fd, already closed by it.
    unsafe { minievent::util::dup2(fd, to) }
}

fn main() -> minievent::Result<()> {
    println!("step3: event_add");
    let mut base = Base::new()?;
    let [mut a, mut b] = socketpair()?;
    let r = base.event_new(a, EV_READ | EV_PERSIST, |_, _, _, _| {})?;
    let w = base.event_new(a, EV_WRITE | EV_PERSIST, |_, _, _, _| {})?;

    // ANCHOR: op_table
    println!("add read");
    base.event_add(r, None)?; // first reader: ADD EPOLLIN
    println!("add write");
    base.event_add(w, None)?; // the fd had EV_READ: MOD EPOLLIN|EPOLLOUT
    println!("del read");
    base.event_del(r)?; // a writer remains: MOD EPOLLOUT
    println!("del write");
    base.event_del(w)?; // nothing remains: DEL
    // ANCHOR_END: op_table

    // ANCHOR: eexist
    println!("dup'd fd: EEXIST -> MOD");
    base.event_add(r, None)?; // ADD
    let d = dup(a)?; // the open file now has two fds
    close(a)?; // ...so the kernel keeps its registration under fd `a`
    base.event_del(r)?; // DEL on a closed fd: EBADF, ignored
    dup2(d, a)?; // `a` names the same file again
    base.event_add(r, None)?; // ADD: EEXIST (the old registration), retried as MOD
    base.event_del(r)?;
    close(d)?;
    // ANCHOR_END: eexist

    // ANCHOR: enoent
    println!("reopened fd: ENOENT -> ADD");
    base.event_add(r, None)?; // ADD
    close(a)?; // closing the last fd drops the registration; evmap still counts `r`
    close(b)?;
    [a, b] = socketpair()?; // the same numbers again, a new socket
    base.event_add(w, None)?; // evmap says MOD; the kernel says ENOENT; retried as ADD
    base.event_del(w)?;
    base.event_del(r)?;
    // ANCHOR_END: enoent

    // ANCHOR: eperm
    println!("not pollable: EPERM");
    let n = std::fs::File::open("/dev/null")
        .map_err(|e| minievent::Error::Sys {
            call: "open(/dev/null)",
            source: e,
        })?
        .into_raw_fd();
    let x = base.event_new(n, EV_READ, |_, _, _, _| {})?;
    let added = base.event_add(x, None); // epoll refuses a device without poll support: EPERM
    println!("event_add: {}", if added.is_ok() { 0 } else { -1 });
    // ANCHOR_END: eperm
    base.event_free(x)?;
    close(n)?;

    base.event_free(r)?;
    base.event_free(w)?;
    close(a)?;
    close(b)?;
    drop(base);
    println!("freed");
    Ok(())
}
