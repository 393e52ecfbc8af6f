//! `EVENT_NO<METHOD>` and `IGNORE_ENV` (event.c:event_is_method_disabled). Environment variables
//! belong to the whole process, so each case runs the lab's step1 (or its probe) as a child.

use minievent_labs_kit::{run, stdout_of};
use std::path::Path;

fn step1(env: &[(&str, &str)]) -> String {
    let out = run(Path::new(env!("CARGO_BIN_EXE_lab01-step1")), &[], env);
    let stdout = stdout_of(&out, "step1");
    assert!(
        out.status.success(),
        "step1 failed ({}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn probe(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(Path::new(env!("CARGO_BIN_EXE_lab01-probe")), args, env);
    stdout_of(&out, "the probe")
}

#[test]
fn event_noepoll_makes_the_base_use_poll() {
    let out = step1(&[("EVENT_NOEPOLL", "1")]);
    assert!(
        out.contains("method: poll\n"),
        "with EVENT_NOEPOLL=1 step1 printed:\n{out}"
    );
}

#[test]
fn event_noepoll_and_event_nopoll_make_it_use_select() {
    let out = step1(&[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")]);
    assert!(
        out.contains("method: select\n"),
        "with EVENT_NOEPOLL=1 EVENT_NOPOLL=1 step1 printed:\n{out}"
    );
}

#[test]
fn any_value_disables_even_an_empty_one() {
    let out = step1(&[("EVENT_NOEPOLL", "")]);
    assert!(
        out.contains("method: poll\n"),
        "libevent only asks whether the variable is set; got:\n{out}"
    );
}

#[test]
fn ignore_env_makes_the_variables_count_for_nothing() {
    let out = probe(&["--ignore-env"], &[("EVENT_NOEPOLL", "1")]);
    assert_eq!(
        out, "method: epoll\n",
        "a config with IGNORE_ENV must not read EVENT_NOEPOLL (left: what your code gave, right: what libevent does)"
    );
}

#[test]
fn every_method_disabled_is_an_error() {
    let env = [
        ("EVENT_NOEPOLL", "1"),
        ("EVENT_NOPOLL", "1"),
        ("EVENT_NOSELECT", "1"),
    ];
    let out = probe(&[], &env);
    assert!(
        out.starts_with("error: ") && out.contains("no event mechanism available"),
        "with all three disabled Base::with_config should fail; the probe printed:\n{out}"
    );
}
