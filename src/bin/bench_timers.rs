//! `bench_timers` — the cost of a timeout: `-n` pure timer events stay pending with a 60 s
//! timeout, and each run re-adds every one of them `-p` times (an idle timeout refreshed on
//! every message is the common case), then runs the loop once without blocking. Re-adding moves
//! the event: out of the min-heap and back in, at the bottom (`minheap.rs`), or, with
//! `--common`, to the tail of its common-timeout queue (`common_timeout.rs`, libevent's
//! `event_base_init_common_timeout`), which costs the same at any `n`.
//!
//! The C twin is traces/reference/bench_timers.c; `just bench` (traces/src/bench/) runs both.

mod bench_common;

use bench_common::{Options, cpu_time, print_method, print_run};
use minievent::{Base, Ev, EventId, LoopFlags};
use std::process::ExitCode;
use std::time::{Duration, Instant};

// ANCHOR: run_once
/// One run: every event re-added `passes` times with `timeout`, then one non-blocking loop.
fn run_once(
    base: &mut Base,
    events: &[EventId],
    timeout: Duration,
    passes: usize,
) -> minievent::Result<()> {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let mut added = 0u64;
    for _ in 0..passes {
        for &ev in events {
            base.event_add(ev, Some(timeout))?;
            added += 1;
        }
    }
    base.run(LoopFlags::ONCE | LoopFlags::NONBLOCK)?;
    print_run(
        wall.elapsed(),
        cpu_time() - cpu,
        added,
        (events.len() * passes) as u64,
    );
    Ok(())
}
// ANCHOR_END: run_once

fn main() -> ExitCode {
    let opts = match Options::parse(
        "bench_timers",
        "re-adding pending timeouts: the min-heap, or a common-timeout queue",
        &[
            ('n', 1000, "pending timer events"),
            ('p', 10, "times each event is re-added per run"),
            ('r', 25, "runs"),
        ],
        &[(
            "common",
            "use one common timeout (60 s) instead of the heap",
        )],
    ) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    match bench(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_timers: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(opts: &Options) -> minievent::Result<()> {
    let mut base = Base::new()?;
    print_method(&base);
    let sixty = Duration::from_secs(60);
    let timeout = if opts.has("common") {
        base.init_common_timeout(sixty)?
    } else {
        sixty
    };
    let mut events = Vec::with_capacity(opts.get('n'));
    for _ in 0..opts.get('n') {
        let ev = base.event_new(-1, Ev::NONE, |_, _, _, _| {})?;
        base.event_add(ev, Some(timeout))?;
        events.push(ev);
    }
    for _ in 0..opts.get('r') {
        run_once(&mut base, &events, timeout, opts.get('p'))?;
    }
    Ok(())
}
