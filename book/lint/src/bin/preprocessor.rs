//! `book-preprocessor`: what the book adds to mdBook, beside each listing and each trace.
//!
//! - As an mdBook preprocessor (book.toml's `[preprocessor.minievent]`, run before mdBook's
//!   `links`; mdBook runs it with no argument, or `supports RENDERER`):
//!   - every `{{#libevent file.c:function}}` becomes the function's C from `libevent-src/` (or
//!     `$LIBEVENT_SRC`) when present, else a link to its lines at the release-2.1.12-stable tag
//!     (src/libevent_c.rs);
//!   - every trace block (a ```` ```text ```` block including `traces/snapshots/NAME.snap` or
//!     `traces/libevent/NAME.trace`) shows beside each syscall the function that made it, from
//!     `traces/annotated/` (src/annotated.rs).
//! - `book-preprocessor index [--check] [SOURCE]`: regenerates (or, with `--check`, compares)
//!   book/coverage/libevent-functions.txt from an unpacked libevent 2.1.12 (`just libevent-index`).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use minievent_booklint::annotated;
use minievent_booklint::libevent_c;
use serde_json::Value;

/// The book's mdBook preprocessor (libevent's C beside the Rust; annotated traces), and the
/// libevent function index it reads.
#[derive(Parser, Debug)]
#[command(
    name = "book-preprocessor",
    after_help = "mdBook runs it with no command (book.toml's [preprocessor.minievent]).\n\
                  Example: just libevent-src && just libevent-index --check"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// mdBook asks whether a renderer is supported: every renderer is (the output is Markdown)
    Supports {
        /// The renderer's name
        renderer: String,
    },
    /// Regenerate book/coverage/libevent-functions.txt from libevent's source
    Index {
        /// Compare with the committed index instead of writing it; exit 1 when they differ
        #[arg(long)]
        check: bool,
        /// The book's directory
        #[arg(long, default_value = "book")]
        book: PathBuf,
        /// The unpacked libevent 2.1.12 source
        #[arg(default_value = libevent_c::SOURCE_DIR)]
        source: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Supports { .. }) => Ok(()),
        Some(Command::Index {
            check,
            book,
            source,
        }) => index(&book, &source, check),
        None => preprocess(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("book-preprocessor: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `book-preprocessor index`.
fn index(book: &Path, source: &Path, check: bool) -> Result<(), String> {
    let fresh = libevent_c::render_index(&libevent_c::index_source(source)?);
    let path = book.join(libevent_c::INDEX);
    let functions = fresh.lines().filter(|l| !l.starts_with('#')).count();
    if check {
        let committed =
            fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if committed != fresh {
            return Err(format!(
                "{} differs from the functions of {}: run `just libevent-index` and commit it",
                path.display(),
                source.display()
            ));
        }
        println!(
            "book-preprocessor: {} matches {} ({functions} definitions)",
            path.display(),
            source.display()
        );
    } else {
        fs::write(&path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "book-preprocessor: wrote {} ({functions} definitions)",
            path.display()
        );
    }
    Ok(())
}

/// The preprocessor: `[context, book]` on stdin, the book on stdout.
fn preprocess() -> Result<(), String> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading mdBook's input: {e}"))?;
    let Value::Array(mut pair) =
        serde_json::from_str(&input).map_err(|e| format!("mdBook's input is not JSON: {e}"))?
    else {
        return Err("mdBook's input is not a [context, book] pair".into());
    };
    if pair.len() != 2 {
        return Err("mdBook's input is not a [context, book] pair".into());
    }
    let mut book = pair.pop().unwrap_or_default();
    let root = pair[0]
        .get("root")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or("mdBook's context has no `root`")?;
    let index = libevent_c::load_index(&root)?;
    let source = std::env::var_os("LIBEVENT_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join(libevent_c::SOURCE_DIR));
    let source = source.join("event.c").is_file().then_some(source);
    let repo = root.join("..");
    expand_chapters(&mut book, &|content| {
        annotated::expand(
            &repo,
            &libevent_c::expand(&index, source.as_deref(), content),
        )
    });
    let out = serde_json::to_string(&book).map_err(|e| format!("writing the book: {e}"))?;
    io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| format!("writing the book: {e}"))
}

/// Walks mdBook's book (any nesting of items and sub-items) and rewrites each chapter's content.
fn expand_chapters(value: &mut Value, rewrite: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(chapter)) = map.get_mut("Chapter")
                && let Some(Value::String(content)) = chapter.get_mut("content")
            {
                *content = rewrite(content);
            }
            for v in map.values_mut() {
                expand_chapters(v, rewrite);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| expand_chapters(v, rewrite)),
        _ => {}
    }
}
