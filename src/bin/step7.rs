//! Step 7 — signal events: a one-shot `EV_SIGNAL` event, then a persistent one whose signal
//! arrives twice before one loop pass (its callback runs twice: `ncalls`).
//! Scenarios `step7`, `step7-poll` and `step7-select` in traces/SCENARIOS.md; the C twin is
//! traces/reference/step7.c.

use minievent::{Base, EV_SIGNAL, Ev, EventId, LoopFlags};
use std::cell::Cell;
use std::rc::Rc;

/// `kill(getpid(), sig)`: the signal is delivered to this thread before kill returns, so the
/// handler's one-byte write to the signal pipe is the next line of the trace.
fn send_signal(sig: i32) -> std::io::Result<()> {
    // SAFETY: getpid cannot fail; kill only sends a signal, to this process, whose handler is
    // minievent's (installed by event_add).
    if unsafe { libc::kill(libc::getpid(), sig) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("step7: signal events");
    let mut base = Base::new()?;
    let calls = Rc::new(Cell::new(0));
    // ANCHOR: on_signal
    let on_signal = |calls: Rc<Cell<i32>>| {
        move |base: &mut Base, sig: i32, what: Ev, me: EventId| {
            calls.set(calls.get() + 1);
            println!(
                "signal {sig}, what {:#x}, call {}",
                what.bits(),
                calls.get()
            );
            if sig == libc::SIGUSR2 && calls.get() == 3 {
                base.event_del(me).expect("deleting its own event");
            }
        }
    };
    // ANCHOR_END: on_signal

    // ANCHOR: one_shot
    let once = base.event_new(libc::SIGUSR1, EV_SIGNAL, on_signal(calls.clone()))?;
    base.event_add(once, None)?;
    println!("added SIGUSR1");
    send_signal(libc::SIGUSR1)?;
    println!("sent SIGUSR1");
    println!("dispatch: {}", base.dispatch()?.code());
    base.event_free(once)?;
    // ANCHOR_END: one_shot

    // ANCHOR: persistent
    calls.set(0);
    let persist = base.evsignal_new(libc::SIGUSR2, on_signal(calls.clone()))?;
    base.event_add(persist, None)?;
    println!("added SIGUSR2 persist");
    send_signal(libc::SIGUSR2)?;
    send_signal(libc::SIGUSR2)?;
    println!("sent SIGUSR2 x2");
    println!("loop once: {}", base.run(LoopFlags::ONCE)?.code());
    send_signal(libc::SIGUSR2)?;
    println!("sent SIGUSR2");
    println!("dispatch: {}", base.dispatch()?.code());
    base.event_free(persist)?;
    // ANCHOR_END: persistent

    drop(base);
    println!("freed");
    Ok(())
}
