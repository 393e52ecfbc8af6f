//! `cargo run -q -p minievent-booklint -- book`: lints the mdBook in `book/` (see the crate docs
//! in lib.rs for the rules). Prints one line per error and exits 1, or one summary line and 0.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [book] = args.as_slice() else {
        eprintln!(
            "usage: minievent-booklint BOOK_DIR   (e.g. `cargo run -q -p minievent-booklint -- book`)"
        );
        return ExitCode::from(2);
    };
    match minievent_booklint::lint(&PathBuf::from(book)) {
        Err(why) => {
            eprintln!("booklint: {why}");
            ExitCode::from(2)
        }
        Ok((summary, errors)) if errors.is_empty() => {
            println!(
                "booklint: ok — {} pages, {} includes, {} anchors in src/ ({} listed as unused), {} links",
                summary.pages,
                summary.includes,
                summary.anchors,
                summary.allowed_unused,
                summary.links
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
