//! `bench_cascade` — libevent's test/bench_cascade.c on minievent: each run makes `-n`
//! socketpairs, adds a one-shot EV_READ event with a 60 s timeout on each read end, writes one
//! byte into the first pair and dispatches; each callback reads its byte and writes one into the
//! next pair, so the byte cascades through all `n` events and the loop ends when none is left.
//! The time covers adding the events (as bench_cascade.c's does), not making the pairs. One line
//! per run (`-r` runs).
//!
//! The C twin is traces/reference/bench_cascade.c; `just bench` (traces/src/bench/) runs both.

mod bench_common;

use bench_common::{Options, cpu_time, print_method, print_run, raise_fd_limit};
use minievent::util::{read, socketpair, write};
use minievent::{Base, EV_READ};
use std::cell::Cell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

// ANCHOR: run_once
/// One run: `n` fresh pairs, one event each, a byte passed down the whole chain.
fn run_once(base: &mut Base, n: usize) -> minievent::Result<()> {
    let mut pairs: Vec<[OwnedFd; 2]> = Vec::with_capacity(n);
    for _ in 0..n {
        // SAFETY: socketpair just returned these two fds, and nothing else owns them.
        pairs.push(socketpair()?.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
    }
    let fired = Rc::new(Cell::new(0u64));
    let (wall, cpu) = (Instant::now(), cpu_time());
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        let next: Option<RawFd> = pairs.get(i + 1).map(|p| p[1].as_raw_fd());
        let fired = Rc::clone(&fired);
        let ev = base.event_new(pairs[i][0].as_raw_fd(), EV_READ, move |_, fd, _, _| {
            let mut byte = [0u8; 1];
            let _ = read(fd, &mut byte);
            if let Some(next) = next
                && let Err(e) = write(next, b"e")
            {
                eprintln!("bench_cascade: write: {e}");
            }
            fired.set(fired.get() + 1);
        })?;
        base.event_add(ev, Some(Duration::from_secs(60)))?;
        events.push(ev);
    }
    write(pairs[0][1].as_raw_fd(), b"e")?;
    base.dispatch()?;
    print_run(wall.elapsed(), cpu_time() - cpu, fired.get(), n as u64);
    for ev in events {
        base.event_free(ev)?;
    }
    Ok(())
}
// ANCHOR_END: run_once

fn main() -> ExitCode {
    let opts = match Options::parse(
        "bench_cascade",
        "libevent's test/bench_cascade.c on minievent: one byte through a chain of one-shot events",
        &[('n', 100, "socketpairs in the chain"), ('r', 25, "runs")],
        &[],
    ) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    let n = opts.get('n');
    raise_fd_limit(n as u64 * 2 + 50);
    let result = Base::new().and_then(|mut base| {
        print_method(&base);
        (0..opts.get('r')).try_for_each(|_| run_once(&mut base, n))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_cascade: {e}");
            ExitCode::FAILURE
        }
    }
}
