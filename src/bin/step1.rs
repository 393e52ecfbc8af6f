//! Step 1 — `event_base_new`: which backend is chosen and what creating it costs in syscalls.
//! Scenario `step1` (and `step1-poll`, `step1-select`, `step1-show-method`) in traces/SCENARIOS.md;
//! the C twin is traces/reference/step1.c.

use minievent::Base;

fn main() -> minievent::Result<()> {
    println!("step1: event_base_new");
    // ANCHOR: step1
    let base = Base::new()?; // epoll_create1(EPOLL_CLOEXEC), then the signal pipe: pipe2(...)
    println!("method: {}", base.method());
    println!("features:{:?}", base.features());
    drop(base); // event_base_free: close the signal pipe, then the epoll fd
    // ANCHOR_END: step1
    println!("freed");
    Ok(())
}
