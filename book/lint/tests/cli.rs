//! The linter's command line, run as the built binary: `--help` explains the argument and the
//! checks, and a bad command line is a clear error with exit status 2 (never a panic).

use std::process::{Command, Output};

fn booklint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minievent-booklint"))
        .args(args)
        .output()
        .expect("the linter starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 2, and stderr has each of `needles` (and no panic).
fn usage_error(args: &[&str], needles: &[&str]) {
    let out = booklint(args);
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
fn help_explains_the_argument_and_the_checks() {
    let out = booklint(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "<BOOK_DIR>",
        "SUMMARY.md",
        "--help",
        "{{#include",
        "ANCHOR",
        "unused-anchors.txt",
        "cargo run -q -p minievent-booklint -- book",
        "Exit status",
    ] {
        assert!(help.contains(needle), "no {needle:?} in --help:\n{help}");
    }
}

#[test]
fn a_missing_or_extra_argument_is_a_usage_error() {
    usage_error(
        &[],
        &[
            "<BOOK_DIR>",
            "Usage: minievent-booklint",
            "cargo run -q -p minievent-booklint -- book",
        ],
    );
    usage_error(&["book", "more"], &["'more'", "Usage: minievent-booklint"]);
    usage_error(&["--frob"], &["'--frob'"]);
}

#[test]
fn a_directory_that_is_not_a_book_is_named() {
    let dir = std::env::temp_dir();
    usage_error(
        &[dir.to_str().expect("the temp dir's path is UTF-8")],
        &["is not an mdBook directory", "SUMMARY.md is missing"],
    );
}
