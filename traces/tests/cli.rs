//! The command lines of `trace` and `bench`, run as the built binaries: `--help` explains every
//! command and option, and a bad command line is a clear error with exit status 2 (never a
//! panic). Nothing here runs strace or a benchmark. (This file is the `cli` test of the
//! minievent-traces package, listed in its Cargo.toml; the rest of traces/tests/ belongs to the
//! root package.)

use std::process::{Command, Output};

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .expect("the program starts")
}

fn trace(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_trace"), args)
}

fn bench(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_bench"), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 0, and stdout has each of `needles`.
fn help_has(out: Output, what: &str, needles: &[&str]) {
    let help = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
    for needle in needles {
        assert!(help.contains(needle), "no {needle:?} in {what}:\n{help}");
    }
}

/// Exit status `code`, and stderr has each of `needles` (and no panic).
fn fails_with(out: Output, what: &str, code: i32, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: no {needle:?} in\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

#[test]
fn trace_help_explains_every_command_and_option() {
    help_has(
        trace(&["--help"]),
        "trace --help",
        &[
            "list",
            "run",
            "record",
            "normalize",
            "--libevent",
            "--raw",
            "--out",
            "--port",
            "Exit status",
        ],
    );
    for (command, needles) in [
        ("list", &["just traces"][..]),
        ("run", &["<NAME>", "--libevent", "--raw", "trace list"][..]),
        (
            "record",
            &["--out <DIR>", "[NAME]...", "traces/libevent"][..],
        ),
        ("normalize", &["<FILE>", "--port <P>"][..]),
    ] {
        help_has(
            trace(&[command, "--help"]),
            &format!("trace {command} --help"),
            needles,
        );
        help_has(
            trace(&["help", command]),
            &format!("trace help {command}"),
            needles,
        );
    }
}

#[test]
fn trace_list_names_every_scenario() {
    let out = trace(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let list = text(&out.stdout);
    for scenario in minievent_traces::scenarios() {
        assert!(list.contains(scenario.name), "{list}");
    }
}

#[test]
fn an_unknown_scenario_lists_the_scenarios() {
    for args in [
        &["run", "nope"][..],
        &["run", "nope", "--libevent"],
        &["record", "step1", "nope"],
    ] {
        fails_with(
            trace(args),
            &format!("trace {args:?}"),
            2,
            &[
                "error: unknown scenario `nope`",
                "step3",
                "echo-bufferevent",
                "trace list",
            ],
        );
    }
}

#[test]
fn trace_usage_errors_exit_2() {
    fails_with(
        trace(&["run"]),
        "trace run",
        2,
        &["<NAME>", "Usage: trace run", "The scenarios are: step1"],
    );
    fails_with(
        trace(&["run", "step3", "--frob"]),
        "--frob",
        2,
        &["'--frob'"],
    );
    fails_with(
        trace(&["run", "step3", "step4"]),
        "two names",
        2,
        &["'step4'"],
    );
    fails_with(trace(&["record", "--out"]), "--out", 2, &["--out <DIR>"]);
    fails_with(trace(&["normalize"]), "normalize", 2, &["<FILE>"]);
    fails_with(
        trace(&["normalize", "x.strace", "--port", "http"]),
        "--port http",
        2,
        &["'http'", "--port <P>"],
    );
    fails_with(trace(&["lst"]), "lst", 2, &["'lst'", "list"]);
    fails_with(trace(&[]), "no command", 2, &["Usage: trace <COMMAND>"]);
}

#[test]
fn an_unreadable_file_is_an_error_not_a_usage_error() {
    fails_with(
        trace(&["normalize", "/nonexistent/x.strace"]),
        "normalize /nonexistent",
        1,
        &["error: cannot read /nonexistent/x.strace"],
    );
}

#[test]
fn bench_help_explains_every_option() {
    help_has(
        bench(&["--help"]),
        "bench --help",
        &[
            "[BENCH]...",
            "pipes",
            "cascade",
            "timers",
            "echo",
            "rss",
            "--backends <LIST>",
            "--sizes <LIST>",
            "--rounds <R>",
            "--runs <N>",
            "--seconds <S>",
            "--counted <M>",
            "--no-counts",
            "--quick",
            "--book",
            "--out <DIR>",
            "--estimate",
            "--replot",
            "[default: 3]",
            "just bench",
            "Exit status",
        ],
    );
}

#[test]
fn bench_estimates_without_running() {
    let out = bench(&["--estimate", "--quick", "timers", "--out", "/nonexistent"]);
    let text = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" steps, about "), "{text}");
    assert!(text.contains("/nonexistent"), "{text}");
}

#[test]
fn bench_usage_errors_exit_2() {
    for flag in ["--rounds", "--runs", "--counted", "--sizes"] {
        for bad in ["0", "x", "-3"] {
            fails_with(
                bench(&[flag, bad]),
                &format!("bench {flag} {bad}"),
                2,
                &[flag, "is not a positive whole number"],
            );
        }
        fails_with(bench(&[flag]), &format!("bench {flag}"), 2, &[flag]);
    }
    fails_with(
        bench(&["--seconds", "0"]),
        "bench --seconds 0",
        2,
        &["--seconds", "is not a number of seconds above 0"],
    );
    fails_with(
        bench(&["--backends", "kqueue"]),
        "bench --backends kqueue",
        2,
        &["`kqueue` is not a backend: use epoll, poll or select"],
    );
    fails_with(
        bench(&["echo_nothing"]),
        "bench echo_nothing",
        2,
        &["`echo_nothing` is not a benchmark: use pipes, cascade, timers, echo, rss"],
    );
    fails_with(
        bench(&["--quick", "--book"]),
        "bench --quick --book",
        2,
        &["'--quick'", "'--book'"],
    );
    fails_with(
        bench(&["--frob"]),
        "bench --frob",
        2,
        &["'--frob'", "Usage: bench"],
    );
}
