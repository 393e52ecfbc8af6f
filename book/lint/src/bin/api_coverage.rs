//! `cargo run -q -p minievent-booklint --bin api-coverage -- book`: checks the map of libevent's
//! API (book/coverage/map.txt) against the function list and src/, and writes the book's
//! appendix E. `--check` writes nothing and fails when the committed appendix is stale;
//! `--extract DIR` re-extracts the function list from libevent's headers. See coverage.rs.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use minievent_booklint::coverage::{self, API_LIST, APPENDIX, MAP, REGENERATE};

/// Generate the book's appendix E, "libevent's API, covered", and check it.
///
/// Reads BOOK_DIR/coverage/libevent-api.txt (libevent 2.1.12's exported functions) and
/// BOOK_DIR/coverage/map.txt (one row per function: `function | status | items | tests | note`),
/// checks every row against the code in src/ (each item a pub fn there, each test a test
/// function in the file it names), and writes BOOK_DIR/src/appendix-e-api-coverage.md.
/// Each error names the map's line.
#[derive(Parser, Debug)]
#[command(
    name = "api-coverage",
    verbatim_doc_comment,
    after_help = "Examples:\n  \
                  just coverage                          (regenerate the appendix)\n  \
                  cargo run -q -p minievent-booklint --bin api-coverage -- book --check   (what `just ci` runs)\n  \
                  just libevent-src && cargo run -q -p minievent-booklint --bin api-coverage -- book \
                  --extract libevent-src/libevent-2.1.12-stable\n\n\
                  Exit status: 0 when the map holds and the page is current, 1 with one line per \
                  error, 2 for a bad command line."
)]
struct Cli {
    /// The mdBook's directory (in this repository: `book`)
    #[arg(value_name = "BOOK_DIR")]
    book: PathBuf,
    /// Write nothing; fail if the committed appendix (or, with --extract, the committed function
    /// list) differs from what would be written
    #[arg(long)]
    check: bool,
    /// Re-extract the function list from libevent's headers in DIR (its source directory, its
    /// include/, or include/event2/) instead of rendering the appendix
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    if let Some(dir) = &cli.extract {
        return extract(&cli, dir);
    }
    match coverage::build(&cli.book) {
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "api-coverage: {} error{} in {MAP}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Ok((page, totals)) => {
            let path = cli.book.join(APPENDIX);
            let counts = totals
                .iter()
                .map(|(h, t)| format!("{h} {}/{}/{}", t.implemented, t.not_applicable, t.not_yet))
                .collect::<Vec<_>>()
                .join(", ");
            if cli.check {
                if fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
                    eprintln!(
                        "{}: differs from what {MAP} renders (or is missing): run `{REGENERATE}` and commit it",
                        path.display()
                    );
                    return ExitCode::FAILURE;
                }
                println!("api-coverage: ok — {counts} (implemented/n.a./not yet)");
            } else {
                if let Err(e) = fs::write(&path, &page) {
                    eprintln!("{}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!(
                    "api-coverage: wrote {} — {counts} (implemented/n.a./not yet)",
                    path.display()
                );
            }
            ExitCode::SUCCESS
        }
    }
}

/// `--extract DIR`: writes (or, with --check, compares) the function list.
fn extract(cli: &Cli, dir: &std::path::Path) -> ExitCode {
    let text = match coverage::extract(dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("api-coverage: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = cli.book.join(API_LIST);
    let n = text.lines().filter(|l| !l.starts_with('#')).count();
    if cli.check {
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            eprintln!(
                "{}: differs from the headers in {}: re-extract it (without --check) and update the map",
                path.display(),
                dir.display()
            );
            return ExitCode::FAILURE;
        }
        println!(
            "api-coverage: {} matches the headers ({n} functions)",
            path.display()
        );
        return ExitCode::SUCCESS;
    }
    if let Err(e) = fs::write(&path, &text) {
        eprintln!("{}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!(
        "api-coverage: wrote {} ({n} functions); now run `{REGENERATE}`",
        path.display()
    );
    ExitCode::SUCCESS
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
