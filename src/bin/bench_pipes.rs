//! `bench_pipes` — libevent's test/bench.c on minievent: `-n` socketpairs, each read end watched
//! by a persistent EV_READ event; `-a` of them get a byte, and each read callback reads its byte
//! and, while writes remain (`-w` of them), writes one to the next pair — so `a + w` callbacks run,
//! chained through the loop. The loop runs with ONCE | NONBLOCK until every byte written was
//! read, as bench.c does; one line per run (`-r` runs) gives its wall and CPU time.
//!
//! The C twin, traces/reference/bench_pipes.c, does the same on libevent (both use read/write
//! where bench.c uses recv/send, so the syscall counts compare name for name). `just bench`
//! (traces/src/bench/) runs both; EVENT_NOEPOLL / EVENT_NOPOLL choose the backend.

mod bench_common;

use bench_common::{Options, cpu_time, print_method, print_run, raise_fd_limit};
use minievent::util::{read, socketpair, write};
use minievent::{Base, EV_PERSIST, EV_READ, EventId, LoopFlags};
use std::cell::Cell;
use std::os::fd::RawFd;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

/// What the callbacks count, shared by all of them (bench.c's globals).
#[derive(Default)]
struct Chain {
    /// Bytes read.
    count: Cell<u64>,
    /// Bytes written (the first `a`, then one per callback while writes remain).
    fired: Cell<u64>,
    /// Writes still to make.
    writes: Cell<u64>,
    /// Reads or writes that failed.
    failures: Cell<u64>,
}

// ANCHOR: read_cb
/// The read callback of pair `idx`: read one byte, then pass one on to pair `idx + 1`.
fn read_cb(chain: &Chain, pipes: &[[RawFd; 2]], idx: usize, fd: RawFd) {
    let mut byte = [0u8; 1];
    match read(fd, &mut byte) {
        Ok(n) => chain.count.set(chain.count.get() + n as u64),
        Err(_) => chain.failures.set(chain.failures.get() + 1),
    }
    if chain.writes.get() > 0 {
        let next = (idx + 1) % pipes.len();
        if !matches!(write(pipes[next][1], b"e"), Ok(1)) {
            chain.failures.set(chain.failures.get() + 1);
        }
        chain.writes.set(chain.writes.get() - 1);
        chain.fired.set(chain.fired.get() + 1);
    }
}
// ANCHOR_END: read_cb

// ANCHOR: run_once
/// One run: (re-)add every event, make `active` pairs readable, loop until every byte is read.
fn run_once(
    base: &mut Base,
    events: &[EventId],
    pipes: &[[RawFd; 2]],
    chain: &Chain,
    (active, writes): (usize, u64),
) -> minievent::Result<()> {
    for &ev in events {
        base.event_del(ev)?;
        base.event_add(ev, None)?;
    }
    base.run(LoopFlags::ONCE | LoopFlags::NONBLOCK)?;
    let space = pipes.len() / active;
    chain.fired.set(0);
    for i in 0..active {
        write(pipes[i * space][1], b"e")?;
        chain.fired.set(chain.fired.get() + 1);
    }
    chain.count.set(0);
    chain.writes.set(writes);
    let (wall, cpu) = (Instant::now(), cpu_time());
    while chain.count.get() != chain.fired.get() && chain.failures.get() == 0 {
        base.run(LoopFlags::ONCE | LoopFlags::NONBLOCK)?;
    }
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    print_run(wall, cpu, chain.count.get(), active as u64 + writes);
    Ok(())
}
// ANCHOR_END: run_once

fn main() -> ExitCode {
    let opts = match Options::parse(
        "bench_pipes",
        "libevent's test/bench.c on minievent: writes chained through read callbacks",
        &[
            ('n', 100, "socketpairs, one watched fd each"),
            ('a', 1, "pairs made active at the start of a run"),
            ('w', 100, "writes chained through the callbacks"),
            ('r', 25, "runs"),
        ],
        &[],
    ) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    let (n, active) = (opts.get('n'), opts.get('a').min(opts.get('n')));
    match bench(n, active, opts.get('w') as u64, opts.get('r')) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_pipes: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(n: usize, active: usize, writes: u64, runs: usize) -> minievent::Result<()> {
    raise_fd_limit(n as u64 * 2 + 50);
    let mut base = Base::new()?;
    print_method(&base);
    let mut pipes = Vec::with_capacity(n);
    for _ in 0..n {
        pipes.push(socketpair()?);
    }
    let pipes: Rc<[[RawFd; 2]]> = pipes.into();
    let chain = Rc::new(Chain::default());
    let mut events = Vec::with_capacity(n);
    for (idx, pair) in pipes.iter().enumerate() {
        let (chain, pipes) = (Rc::clone(&chain), Rc::clone(&pipes));
        events.push(
            base.event_new(pair[0], EV_READ | EV_PERSIST, move |_, fd, _, _| {
                read_cb(&chain, &pipes, idx, fd)
            })?,
        );
    }
    for _ in 0..runs {
        run_once(&mut base, &events, &pipes, &chain, (active, writes))?;
    }
    if chain.failures.get() > 0 {
        eprintln!(
            "bench_pipes: {} reads or writes failed",
            chain.failures.get()
        );
    }
    Ok(())
}
