//! `libevent-c`: libevent's C beside the Rust listings (see src/libevent_c.rs).
//!
//! - As an mdBook preprocessor (book.toml's `[preprocessor.libevent-c]`; mdBook runs it with
//!   no argument, or `supports RENDERER`): replaces every `{{#libevent file.c:function}}` by the
//!   function's C from `libevent-src/` (or `$LIBEVENT_SRC`) when present, else by a link to its
//!   lines at the release-2.1.12-stable tag.
//! - `libevent-c index [--check] [SOURCE]`: regenerates (or, with `--check`, compares)
//!   book/coverage/libevent-functions.txt from an unpacked libevent 2.1.12 (`just libevent-index`).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use minievent_booklint::libevent_c::{self, Index};
use serde_json::Value;

/// libevent's C beside the book's Rust: an mdBook preprocessor, and the function index it reads.
#[derive(Parser, Debug)]
#[command(
    name = "libevent-c",
    after_help = "mdBook runs it with no command (book.toml's [preprocessor.libevent-c]).\n\
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
            eprintln!("libevent-c: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `libevent-c index`.
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
            "libevent-c: {} matches {} ({functions} functions)",
            path.display(),
            source.display()
        );
    } else {
        fs::write(&path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "libevent-c: wrote {} ({functions} functions)",
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
    expand_chapters(&mut book, &index, source.as_deref());
    let out = serde_json::to_string(&book).map_err(|e| format!("writing the book: {e}"))?;
    io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| format!("writing the book: {e}"))
}

/// Walks mdBook's book (any nesting of items and sub-items) and expands each chapter's content.
fn expand_chapters(value: &mut Value, index: &Index, source: Option<&Path>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(chapter)) = map.get_mut("Chapter")
                && let Some(Value::String(content)) = chapter.get_mut("content")
            {
                *content = libevent_c::expand(index, source, content);
            }
            for v in map.values_mut() {
                expand_chapters(v, index, source);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| expand_chapters(v, index, source)),
        _ => {}
    }
}
