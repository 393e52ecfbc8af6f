//! Step 4 — `event_base_dispatch`: 33 ready fds (one more than epoll's first events array holds,
//! so it doubles), one-shot events deleted as they fire, then two timeouts, and the loop's exit
//! when nothing is pending. Scenario `step4` in traces/SCENARIOS.md; the C twin is
//! traces/reference/step4.c.

use minievent::util::{read, socketpair, write};
use minievent::{Base, EV_READ, Ev, EventId};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const PAIRS: usize = 33;

/// `close(fd)` on one of this program's own fds (made by it, owned by nobody else).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the fd is this program's own; no event waits on it any more.
    unsafe { minievent::sys::close(fd) }
}

fn main() -> minievent::Result<()> {
    println!("step4: event_base_dispatch");
    let mut base = Base::new()?;
    let mut pairs = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let [a, b] = socketpair()?;
        write(b, b"x")?;
        pairs.push([a, b]);
    }
    // ANCHOR: ready
    let count = Rc::new(Cell::new(0));
    let mut events: Vec<EventId> = Vec::new();
    for &[a, _] in &pairs {
        let count = Rc::clone(&count);
        let ev = base.event_new(a, EV_READ, move |_, fd, _, _| {
            // One-shot: the loop has already deleted the event (EPOLL_CTL_DEL) before this runs.
            if read(fd, &mut [0u8; 1]).is_ok() {
                count.set(count.get() + 1);
            }
        })?;
        base.event_add(ev, None)?;
        events.push(ev);
    }
    println!("dispatch: {PAIRS} ready fds");
    let exit = base.dispatch()?; // epoll_wait(.., 32, -1) = 32, then (.., 64, -1) = 1
    println!(
        "read {} bytes, dispatch returned {}",
        count.get(),
        exit.code()
    );
    // ANCHOR_END: ready

    // ANCHOR: timeouts
    let on_timeout = |label: &'static str| {
        move |_: &mut Base, _, what: Ev, _| println!("{label} (what={:#04x})", what.bits())
    };
    let t = base.event_new(-1, Ev::NONE, on_timeout("timer fired"))?;
    base.event_add(t, Some(Duration::from_millis(50)))?;
    let r = base.event_new(pairs[0][0], EV_READ, on_timeout("read timed out"))?;
    base.event_add(r, Some(Duration::from_millis(20)))?;
    println!("dispatch: two timeouts");
    let exit = base.dispatch()?; // epoll_wait(.., 64, 20) = 0, then (.., 64, 30) = 0
    println!("dispatch returned {}", exit.code());
    // ANCHOR_END: timeouts

    for ev in events.into_iter().chain([t, r]) {
        base.event_free(ev)?;
    }
    for [a, b] in pairs {
        close(a)?;
        close(b)?;
    }
    drop(base);
    println!("freed");
    Ok(())
}
