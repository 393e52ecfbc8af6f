//! Timers — what a wait's timeout comes from: a pure timer on a base that never had an fd
//! (`timers pure`), a thousand events on one common timeout against the same thousand on the heap
//! (`timers common`), and `max_dispatch_interval` allowing one callback per loop pass
//! to three active events
//! (`timers max-dispatch`). Scenarios `timers-*` in traces/SCENARIOS.md; the C twin is
//! traces/reference/timers.c.

use minievent::{Base, Config, EV_TIMEOUT, Ev, EventId};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// How many events the `common` mode puts on one timeout.
const N: usize = 1000;

fn main() -> minievent::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "pure" => pure(),
        "common" => common(),
        "max-dispatch" => max_dispatch(),
        _ => {
            eprintln!("usage: timers pure|common|max-dispatch");
            std::process::exit(2)
        }
    }
}

// ANCHOR: pure
/// One 50 ms timer: the only wait is the backend's wait with a timeout.
fn pure() -> minievent::Result<()> {
    println!("timers: pure");
    let mut base = Base::new()?;
    let t = base.event_new(-1, Ev::NONE, |_, _, what, _| {
        println!("timer fired (what={:#04x})", what.bits())
    })?;
    base.event_add(t, Some(Duration::from_millis(50)))?;
    println!("dispatch: one 50 ms timer");
    let exit = base.dispatch()?;
    println!("dispatch returned {}", exit.code());
    base.event_free(t)?;
    drop(base);
    println!("freed");
    Ok(())
}
// ANCHOR_END: pure

// ANCHOR: common
/// A thousand events on one common timeout, then the same thousand on the heap.
fn common() -> minievent::Result<()> {
    println!("timers: common");
    let mut base = Base::new()?;
    let common = base.init_common_timeout(Duration::from_millis(20))?;
    let fired = Rc::new(Cell::new(0));
    let mut events: Vec<EventId> = Vec::with_capacity(N);
    for _ in 0..N {
        let fired = Rc::clone(&fired);
        events.push(base.event_new(-1, Ev::NONE, move |_, _, _, _| fired.set(fired.get() + 1))?);
    }
    for &ev in &events {
        base.event_add(ev, Some(common))?;
    }
    println!("dispatch: {N} events on one 20 ms common timeout");
    let exit = base.dispatch()?;
    println!("fired {}, dispatch returned {}", fired.get(), exit.code());
    fired.set(0);
    for &ev in &events {
        base.event_add(ev, Some(Duration::from_millis(20)))?;
    }
    println!("dispatch: {N} events on the heap, 20 ms each");
    let exit = base.dispatch()?;
    println!("fired {}, dispatch returned {}", fired.get(), exit.code());
    for ev in events {
        base.event_free(ev)?;
    }
    drop(base);
    println!("freed");
    Ok(())
}
// ANCHOR_END: common

// ANCHOR: max_dispatch
/// Three events made active by hand, at most one callback per loop pass. (Not ready fds: poll
/// and select in libevent start their scan at a random fd, which would make the order random.)
fn max_dispatch() -> minievent::Result<()> {
    println!("timers: max-dispatch");
    let cfg = Config::new().max_dispatch_interval(None, 1, 0);
    let mut base = Base::with_config(&cfg)?;
    let mut events = Vec::new();
    for i in 1..=3 {
        events.push(base.event_new(-1, Ev::NONE, move |_, _, what, _| {
            println!("callback {i} (what={:#04x})", what.bits())
        })?);
    }
    for &ev in &events {
        base.event_active(ev, EV_TIMEOUT)?;
    }
    println!("dispatch: three active events, at most one callback per pass");
    let exit = base.dispatch()?;
    println!("dispatch returned {}", exit.code());
    for ev in events {
        base.event_free(ev)?;
    }
    drop(base);
    println!("freed");
    Ok(())
}
// ANCHOR_END: max_dispatch
