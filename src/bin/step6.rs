//! Step 6 — a bufferevent: its read path (FIONREAD, readv into the evbuffer's chains), its read
//! high-water mark (reading stops at the mark, resumes below it), its write path (EPOLLOUT only
//! while the output holds bytes, writev at most 16384 bytes per pass), end of file and
//! `bufferevent_free`. Everything happens on one socketpair, one loop pass at a time
//! (`EVLOOP_ONCE`). Scenario `step6` in traces/SCENARIOS.md; the C twin is
//! traces/reference/step6.c.

use minievent::util::{make_socket_nonblocking, socketpair, write};
use minievent::{BEV_OPT_CLOSE_ON_FREE, Base, Bufferevent, EV_READ, LoopFlags};
use std::os::fd::{FromRawFd, OwnedFd};

/// The read high-water mark.
const HIGH: usize = 10_000;

fn main() -> minievent::Result<()> {
    println!("step6: bufferevent");
    let mut base = Base::new()?; // epoll 3, signal pipe 4/5
    let [fd, peer] = socketpair()?; // [6, 7]
    make_socket_nonblocking(fd)?;
    make_socket_nonblocking(peer)?;

    // ANCHOR: setup
    // SAFETY: `fd` is fresh from socketpair and nobody else has it: the bufferevent takes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let bev = Bufferevent::socket_new_owned(&mut base, fd, BEV_OPT_CLOSE_ON_FREE)?;
    bev.setcb(
        Some(Box::new(|base, bev| {
            let len = bev.with_input(|input| input.len()).unwrap_or(0);
            println!("read cb: input {len}");
            if len >= HIGH {
                // Below the mark again: reading resumes at once (EPOLL_CTL_ADD).
                let n = bev.read(base, &mut [0u8; 6000]).unwrap_or(0);
                println!("took {n}");
            }
        })),
        Some(Box::new(|_, bev| {
            let len = bev.with_output(|output| output.len()).unwrap_or(0);
            println!("write cb: output {len}");
        })),
        Some(Box::new(|base, bev, what| {
            println!("event cb: what={:#x}", what.bits());
            // BEV_OPT_CLOSE_ON_FREE: close(6).
            if let Err(e) = bev.free(base) {
                eprintln!("step6: {e}");
            }
        })),
    );
    bev.setwatermark(&mut base, EV_READ, 0, HIGH)?;
    println!("enable EV_READ, high-water mark {HIGH}");
    bev.enable(&mut base, EV_READ)?; // ADD 6 EPOLLIN
    // ANCHOR_END: setup

    // ANCHOR: passes
    write(peer, &[b'x'; 12_000])?; // the peer sends 12000 bytes
    // 1: FIONREAD says 12000, evbuffer_read takes 4096 into a new chain.
    // 2: 4096 more, into the first chain's room and a new small chain.
    // 3: only 1808 more (up to the mark); at the mark reading stops (DEL); the callback takes
    //    6000, reading resumes (ADD).
    // 4: the last 2000.
    for pass in 1..=4 {
        println!("pass {pass}");
        base.run(LoopFlags::ONCE)?;
    }

    println!("write 20000");
    bev.write(&mut base, &[b'y'; 20_000])?; // MOD 6 EPOLLIN|EPOLLOUT
    // writev writes at most 16384 bytes per pass; then the output is empty, EPOLLOUT goes
    // (MOD 6 EPOLLIN), and the write callback runs.
    for pass in 5..=6 {
        println!("pass {pass}");
        base.run(LoopFlags::ONCE)?;
    }

    println!("peer shuts down");
    // SAFETY: shutdown takes only integers.
    minievent::sys::cvt(unsafe { libc::shutdown(peer, libc::SHUT_WR) }, "shutdown")?;
    println!("pass 7");
    base.run(LoopFlags::ONCE)?; // readv returns 0: DEL 6, event cb, bufferevent_free: close(6)
    // ANCHOR_END: passes

    // SAFETY: `peer` is this program's own end of the pair; nothing else holds it.
    unsafe { minievent::sys::close(peer) }?;
    drop(base);
    println!("freed");
    Ok(())
}
