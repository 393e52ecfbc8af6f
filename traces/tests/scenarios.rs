//! minievent's syscall traces, checked three ways for every scenario of traces/SCENARIOS.md:
//!
//! 1. **deterministic** — two runs give the same normalized trace;
//! 2. **snapshot** — the trace equals its insta snapshot in traces/snapshots/ (`cargo insta review`
//!    accepts an intended change; CI never does);
//! 3. **parity** — the trace equals real libevent's, recorded from the C twin in traces/reference/ into
//!    traces/libevent/ by `just reference` — or differs exactly as traces/DIVERGENCES.md says.
//!
//! This file belongs to the root package (see Cargo.toml), so cargo builds the step programs first
//! and hands their paths over as `CARGO_BIN_EXE_*`.

use minievent_traces::{Scenario, Trace, read_recorded, trace, workspace_dir};
use std::path::Path;

/// The minievent binary a scenario runs.
fn program(scenario: &Scenario) -> &'static Path {
    Path::new(match scenario.program {
        "step1" => env!("CARGO_BIN_EXE_step1"),
        "step2" => env!("CARGO_BIN_EXE_step2"),
        "step3" => env!("CARGO_BIN_EXE_step3"),
        "step4" => env!("CARGO_BIN_EXE_step4"),
        "step6" => env!("CARGO_BIN_EXE_step6"),
        "step7" => env!("CARGO_BIN_EXE_step7"),
        "step7_fork" => env!("CARGO_BIN_EXE_step7_fork"),
        "echo_event" => env!("CARGO_BIN_EXE_echo_event"),
        "echo_bufferevent" => env!("CARGO_BIN_EXE_echo_bufferevent"),
        "echo_listener" => env!("CARGO_BIN_EXE_echo_listener"),
        "echo_client" => env!("CARGO_BIN_EXE_echo_client"),
        "timers" => env!("CARGO_BIN_EXE_timers"),
        other => panic!(
            "scenario {} runs {other}, which this test does not know: add it here",
            scenario.name
        ),
    })
}

/// Runs the scenario on minievent twice and checks that both runs agree.
fn traced(name: &str) -> (&'static Scenario, Trace) {
    let scenario = Scenario::by_name(name).unwrap_or_else(|e| panic!("{e}"));
    let run = || trace(scenario, program(scenario)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (first, second) = (run(), run());
    assert_eq!(
        first.rendered, second.rendered,
        "{name}: two runs of minievent gave different traces: the scenario is not deterministic"
    );
    (scenario, first)
}

/// The trace equals its snapshot, whose description says in words what it shows.
fn assert_snapshot(scenario: &Scenario, trace: &Trace) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => scenario.description,
    }, {
        insta::assert_snapshot!(scenario.name, trace.rendered);
    });
}

/// libevent's recorded trace of the same scenario.
fn libevent_trace(scenario: &Scenario) -> String {
    let path = workspace_dir()
        .join("traces/libevent")
        .join(format!("{}.trace", scenario.name));
    read_recorded(&path).unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! scenario {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let (scenario, trace) = traced($name);
            assert_snapshot(scenario, &trace);
            assert_eq!(
                trace.rendered,
                libevent_trace(scenario),
                "{}: minievent's trace (left) differs from libevent's (right); fix minievent, or list \
                 the difference in traces/DIVERGENCES.md and assert it in a test",
                $name
            );
        }
    };
}

scenario!(step1, "step1");
scenario!(step1_poll, "step1-poll");
scenario!(step1_select, "step1-select");
scenario!(step1_show_method, "step1-show-method");
scenario!(step2, "step2");
scenario!(step3, "step3");
scenario!(step4, "step4");
scenario!(step6, "step6");
scenario!(echo_event, "echo-event");
scenario!(echo_bufferevent, "echo-bufferevent");
scenario!(echo_listener, "echo-listener");
scenario!(echo_listener_poll, "echo-listener-poll");
scenario!(echo_listener_select, "echo-listener-select");
scenario!(echo_client, "echo-client");
scenario!(echo_client_poll, "echo-client-poll");
scenario!(echo_client_select, "echo-client-select");
scenario!(echo_client_refused, "echo-client-refused");
scenario!(echo_client_refused_poll, "echo-client-refused-poll");
scenario!(echo_client_refused_select, "echo-client-refused-select");
scenario!(timers_pure, "timers-pure");
scenario!(timers_pure_poll, "timers-pure-poll");
scenario!(timers_pure_select, "timers-pure-select");
scenario!(timers_common, "timers-common");
scenario!(timers_common_poll, "timers-common-poll");
scenario!(timers_common_select, "timers-common-select");
scenario!(timers_max_dispatch, "timers-max-dispatch");
scenario!(timers_max_dispatch_poll, "timers-max-dispatch-poll");
scenario!(timers_max_dispatch_select, "timers-max-dispatch-select");
scenario!(timers_pure_precise, "timers-pure-precise");
scenario!(timers_max_dispatch_precise, "timers-max-dispatch-precise");
scenario!(step7, "step7");
scenario!(step7_poll, "step7-poll");
scenario!(step7_select, "step7-select");

// The -changelist variants (EVENT_EPOLL_USE_CHANGELIST=1, traces/SCENARIOS.md): every epoll
// scenario again, with libevent run the same way.
scenario!(step1_changelist, "step1-changelist");
scenario!(step1_show_method_changelist, "step1-show-method-changelist");
scenario!(step2_changelist, "step2-changelist");
scenario!(step3_changelist, "step3-changelist");
scenario!(step4_changelist, "step4-changelist");
scenario!(step6_changelist, "step6-changelist");
scenario!(echo_event_changelist, "echo-event-changelist");
scenario!(echo_bufferevent_changelist, "echo-bufferevent-changelist");
scenario!(echo_listener_changelist, "echo-listener-changelist");
scenario!(echo_client_changelist, "echo-client-changelist");
scenario!(
    echo_client_refused_changelist,
    "echo-client-refused-changelist"
);
scenario!(timers_pure_changelist, "timers-pure-changelist");
scenario!(timers_common_changelist, "timers-common-changelist");
scenario!(
    timers_max_dispatch_changelist,
    "timers-max-dispatch-changelist"
);
scenario!(
    timers_pure_precise_changelist,
    "timers-pure-precise-changelist"
);
scenario!(
    timers_max_dispatch_precise_changelist,
    "timers-max-dispatch-precise-changelist"
);
scenario!(step7_changelist, "step7-changelist");

/// Divergence 18 (traces/DIVERGENCES.md): in `event_reinit` libevent closes the old signal pipe's
/// two fds, then `evsig_dealloc_` (called by the backend's dealloc) closes the same two numbers
/// again, which fails with EBADF; minievent closes each once. Otherwise the traces are equal: the
/// child's (p2) two failing `close` lines are exactly what libevent has more.
macro_rules! reinit_scenario {
    ($test:ident, $name:literal, $read_end:literal, $write_end:literal) => {
        #[test]
        fn $test() {
            let (scenario, trace) = traced($name);
            assert_snapshot(scenario, &trace);
            let libevent = libevent_trace(scenario);
            let double_close = format!(
                "p2 close({}) = -1 EBADF (Bad file descriptor)\np2 close({}) = -1 EBADF (Bad file \
                 descriptor)\n",
                $read_end, $write_end
            );
            assert_eq!(
                libevent.matches(&double_close).count(),
                1,
                "{}: libevent's trace no longer has the double close:\n{libevent}",
                $name
            );
            assert_eq!(
                trace.rendered,
                libevent.replacen(&double_close, "", 1),
                "{}: minievent's trace (left) differs from libevent's (right) by more than \
                 divergence 18",
                $name
            );
        }
    };
}

reinit_scenario!(step7_fork, "step7-fork", 4, 5);
reinit_scenario!(step7_fork_poll, "step7-fork-poll", 3, 4);
reinit_scenario!(step7_fork_select, "step7-fork-select", 3, 4);
reinit_scenario!(step7_fork_changelist, "step7-fork-changelist", 4, 5);

/// Every scenario of the registry has a test above (a scenario added without one would go unchecked).
#[test]
fn every_scenario_is_tested() {
    let tested = [
        "step1",
        "step1-poll",
        "step1-select",
        "step1-show-method",
        "step2",
        "step3",
        "step4",
        "step6",
        "echo-event",
        "echo-bufferevent",
        "echo-listener",
        "echo-listener-poll",
        "echo-listener-select",
        "echo-client",
        "echo-client-poll",
        "echo-client-select",
        "echo-client-refused",
        "echo-client-refused-poll",
        "echo-client-refused-select",
        "timers-pure",
        "timers-pure-poll",
        "timers-pure-select",
        "timers-common",
        "timers-common-poll",
        "timers-common-select",
        "timers-max-dispatch",
        "timers-max-dispatch-poll",
        "timers-max-dispatch-select",
        "timers-pure-precise",
        "timers-max-dispatch-precise",
        "step7",
        "step7-poll",
        "step7-select",
        "step7-fork",
        "step7-fork-poll",
        "step7-fork-select",
        "step1-changelist",
        "step1-show-method-changelist",
        "step2-changelist",
        "step3-changelist",
        "step4-changelist",
        "step6-changelist",
        "echo-event-changelist",
        "echo-bufferevent-changelist",
        "echo-listener-changelist",
        "echo-client-changelist",
        "echo-client-refused-changelist",
        "timers-pure-changelist",
        "timers-common-changelist",
        "timers-max-dispatch-changelist",
        "timers-pure-precise-changelist",
        "timers-max-dispatch-precise-changelist",
        "step7-changelist",
        "step7-fork-changelist",
    ];
    let registered: Vec<&str> = minievent_traces::scenarios()
        .iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        registered, tested,
        "add a scenario!(...) line for each new scenario"
    );
}
