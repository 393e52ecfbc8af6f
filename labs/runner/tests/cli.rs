//! The runner's command line, run as the built binary: `--help` explains every command and
//! option, and a bad command line is a clear error with exit status 2 (never a panic). Only
//! commands that stop before building a lab are run here (`check` covers the rest).

use std::process::{Command, Output};

fn runner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minievent-labs"))
        .args(args)
        .env_remove("MINIEVENT_LABS_REFERENCE")
        .output()
        .expect("the runner starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 2, and stderr has each of `needles` (and no panic).
fn usage_error(args: &[&str], needles: &[&str]) {
    let out = runner(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: no {needle:?} in\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn help_explains_every_command_and_option() {
    let out = runner(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "lab",
        "list",
        "hint",
        "check",
        "--reference",
        "--all",
        "--reset",
        "MINIEVENT_LABS_REFERENCE",
        "just lab N",
        "event_base_dispatch",
        "Exit status",
    ] {
        assert!(help.contains(needle), "no {needle:?} in --help:\n{help}");
    }
}

#[test]
fn each_command_has_its_own_help() {
    for (command, needles) in [
        (
            "lab",
            &["<N>", "--reference", "MINIEVENT_LABS_REFERENCE"][..],
        ),
        ("hint", &["<N>", "--all", "--reset"][..]),
        ("list", &["not started"][..]),
        ("check", &["skeleton"][..]),
    ] {
        let out = runner(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command} --help");
        let help = text(&out.stdout);
        for needle in needles {
            assert!(
                help.contains(needle),
                "no {needle:?} in {command} --help:\n{help}"
            );
        }
    }
}

#[test]
fn a_wrong_lab_number_lists_the_labs() {
    for args in [
        &["lab", "99"][..],
        &["lab", "x"],
        &["lab", "-1"],
        &["hint", "0"],
    ] {
        usage_error(
            args,
            &[
                &format!("error: there is no lab \"{}\"", args[1]),
                "event_base_dispatch",
                "book/src/ch04-event-base-dispatch.md",
                "just lab N",
            ],
        );
    }
}

#[test]
fn a_missing_lab_number_is_named_and_the_labs_listed() {
    for command in ["lab", "hint"] {
        usage_error(&[command], &["<N>", "The labs are", "event_base_new"]);
    }
}

#[test]
fn unknown_options_and_commands_are_usage_errors() {
    usage_error(
        &["lab", "3", "--frob"],
        &["'--frob'", "Usage: minievent-labs lab"],
    );
    usage_error(&["hint", "3", "--everything"], &["'--everything'"]);
    usage_error(&["frob"], &["'frob'", "Usage: minievent-labs"]);
    usage_error(&["check", "3"], &["'3'"]);
    // No command at all: the help, on stderr.
    usage_error(&[], &["Usage: minievent-labs", "lab"]);
}
