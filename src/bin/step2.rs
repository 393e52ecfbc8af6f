//! Step 2 — `event_new`: creating events makes no syscall at all.
//! Scenario `step2` in traces/SCENARIOS.md; the C twin is traces/reference/step2.c.

use minievent::util::socketpair;
use minievent::{Base, EV_PERSIST, EV_READ, EV_WRITE, Ev};

/// `close(fd)` on one of this program's own fds (made by it, owned by nobody else).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the fd is this program's own; no event waits on it any more.
    unsafe { minievent::sys::close(fd) }
}

fn main() -> minievent::Result<()> {
    println!("step2: event_new");
    let mut base = Base::new()?;
    let [a, b] = socketpair()?;
    println!("event_new x3");
    // ANCHOR: step2
    let r = base.event_new(a, EV_READ | EV_PERSIST, |_, _, _, _| {})?;
    let w = base.event_new(a, EV_WRITE, |_, _, _, _| {})?;
    let t = base.event_new(-1, Ev::NONE, |_, _, _, _| {})?; // a pure timer (evtimer_new)
    println!(
        "pending: {}",
        base.event_pending(r, EV_READ | EV_WRITE)?.bits()
    );
    for ev in [r, w, t] {
        base.event_free(ev)?;
    }
    // ANCHOR_END: step2
    println!("event_free x3");
    close(a)?;
    close(b)?;
    drop(base);
    println!("freed");
    Ok(())
}
