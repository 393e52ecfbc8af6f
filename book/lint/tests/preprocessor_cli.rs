//! The book's preprocessor as mdBook runs it: `[context, book]` JSON on stdin, the book
//! with every `{{#libevent file.c:function}}` expanded on stdout.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A book dir holding only the index, and a fake libevent source with one function.
fn fixture(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("libevent-c-cli-{name}-{}", std::process::id()));
    let book = dir.join("book");
    let source = dir.join("src");
    fs::create_dir_all(book.join("coverage")).unwrap();
    fs::create_dir_all(&source).unwrap();
    fs::write(
        book.join("coverage/libevent-functions.txt"),
        "# index\nevent.c event_add 3 6\n",
    )
    .unwrap();
    fs::write(
        source.join("event.c"),
        "#include <x.h>\n\nint\nevent_add(struct event *ev)\n{\n}\n",
    )
    .unwrap();
    (book, source)
}

/// Runs the preprocessor on a one-chapter book (nested as a sub-item, as mdBook nests them).
fn preprocess(book: &Path, source: Option<&Path>, content: &str) -> (bool, String, String) {
    let input = serde_json::json!([
        {"root": book, "config": {}, "renderer": "html", "mdbook_version": "0.5.4"},
        {"items": [{"Chapter": {"name": "top", "content": "", "sub_items": [
            {"Chapter": {"name": "ch", "content": content, "sub_items": []}}
        ]}}]}
    ]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_book-preprocessor"));
    match source {
        Some(dir) => cmd.env("LIBEVENT_SRC", dir),
        None => cmd.env("LIBEVENT_SRC", book.join("no-such-dir")),
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn chapter_content(stdout: &str) -> String {
    let book: serde_json::Value = serde_json::from_str(stdout).unwrap();
    book["items"][0]["Chapter"]["sub_items"][0]["Chapter"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn with_the_source_the_c_is_shown_folded() {
    let (book, source) = fixture("with");
    let (ok, stdout, stderr) = preprocess(
        &book,
        Some(&source),
        "a\n{{#libevent event.c:event_add}}\nb",
    );
    assert!(ok, "{stderr}");
    let content = chapter_content(&stdout);
    assert!(
        content.contains("<details class=\"libevent-c\">"),
        "{content}"
    );
    assert!(
        content.contains("```c\nint\nevent_add(struct event *ev)\n{\n}\n```"),
        "{content}"
    );
    fs::remove_dir_all(book.parent().unwrap()).unwrap();
}

#[test]
fn without_the_source_a_link_to_the_release_tag() {
    let (book, _) = fixture("without");
    let (ok, stdout, stderr) = preprocess(&book, None, "{{#libevent event.c:event_add}}");
    assert!(ok, "{stderr}");
    let content = chapter_content(&stdout);
    assert!(
        content.contains("blob/release-2.1.12-stable/event.c#L3-L6"),
        "{content}"
    );
    assert!(content.contains("just libevent-src"), "{content}");
    fs::remove_dir_all(book.parent().unwrap()).unwrap();
}

#[test]
fn a_missing_index_is_an_error_naming_the_fix() {
    let (book, _) = fixture("noindex");
    fs::remove_file(book.join("coverage/libevent-functions.txt")).unwrap();
    let (ok, _, stderr) = preprocess(&book, None, "x");
    assert!(!ok);
    assert!(stderr.contains("just libevent-index"), "{stderr}");
    fs::remove_dir_all(book.parent().unwrap()).unwrap();
}

#[test]
fn mdbook_asks_whether_a_renderer_is_supported() {
    let status = Command::new(env!("CARGO_BIN_EXE_book-preprocessor"))
        .args(["supports", "html"])
        .status()
        .unwrap();
    assert!(status.success());
}
