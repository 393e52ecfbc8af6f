//! `cargo run -q -p minievent-booklint -- book`: lints the mdBook in `book/` (see the crate docs
//! in lib.rs for the rules). Prints one line per error and exits 1, or one summary line and 0;
//! a bad command line or a directory that is not an mdBook exits 2. `--help` lists the checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Lint the mdBook: the checks mdBook itself does not make.
///
/// mdBook renders a misspelled anchor as an empty code block and a mistyped link as a 404,
/// without a word. This reads BOOK_DIR/src and every file it includes, and fails on:
///  1. an include (`{{#include path:anchor}}`, `path:N:M`) whose file, anchor or lines are missing
///     or blank, or that would show a trace's header;
///  2. a fenced block without a language, or a `rust` or `text` block that is typed in rather
///     than included;
///  3. an `// ANCHOR:` under src/ that no chapter includes (unless book/unused-anchors.txt lists
///     it, with a reason);
///  4. a link, image or fragment that points at no page or heading, or a page missing from
///     SUMMARY.md;
///  5. a name-map page that lost a libevent name of src/lib.rs's table;
///  6. a `file.c:function` citation (or `{{#libevent file.c:function}}`) naming a function that
///     libevent 2.1.12's file (book/coverage/libevent-functions.txt) or our traces/reference/
///     program does not define;
///  7. a trace the book shows without its annotation in traces/annotated/ (`just annotate`), or
///     with one that no longer matches the trace.
///
/// Each error names the file and line, and what to fix.
#[derive(Parser, Debug)]
#[command(
    name = "minievent-booklint",
    verbatim_doc_comment,
    after_help = "Example: cargo run -q -p minievent-booklint -- book   (what `just ci` runs)\n\n\
                  Exit status: 0 when the book is clean, 1 with one line per error, 2 for a bad \
                  command line or a BOOK_DIR that is not an mdBook."
)]
struct Cli {
    /// The mdBook's directory, the one holding book.toml and src/SUMMARY.md (in this repository:
    /// `book`)
    #[arg(value_name = "BOOK_DIR")]
    book: PathBuf,
}

fn main() -> ExitCode {
    let cli = parse_command_line();
    match minievent_booklint::lint(&cli.book) {
        Err(why) => {
            eprintln!("booklint: {why}");
            ExitCode::from(2)
        }
        Ok((summary, errors)) if errors.is_empty() => {
            println!(
                "booklint: ok — {} pages, {} includes, {} anchors in src/ ({} listed as unused), {} links, {} citations of libevent",
                summary.pages,
                summary.includes,
                summary.anchors,
                summary.allowed_unused,
                summary.links,
                summary.citations
            );
            ExitCode::SUCCESS
        }
        Ok((_, errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "booklint: {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

/// The command line, or the exit: `--help` prints the help and exits with 0; a bad command line
/// prints clap's error and usage (and, when BOOK_DIR is missing, the command for this repository's
/// book) and exits with 2.
fn parse_command_line() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            e.exit(); // --help: exit status 0
        }
        let _ = e.print();
        if e.kind() == ErrorKind::MissingRequiredArgument {
            eprintln!("This repository's book: `cargo run -q -p minievent-booklint -- book`.");
        }
        std::process::exit(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
