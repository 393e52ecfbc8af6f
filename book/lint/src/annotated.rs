//! Annotated traces in the book: beside each syscall, the function that made it.
//!
//! `just annotate` records every scenario under `strace -k` and writes
//! `traces/annotated/{minievent,libevent}/NAME.txt` (traces/src/annotate.rs): each line of the
//! trace, a tab, the chain of functions that made it (innermost first, ` ← ` between). A chapter
//! shows a trace as a ```` ```text ```` block holding one include of
//! `traces/snapshots/NAME.snap` or `traces/libevent/NAME.trace`; the book's preprocessor
//! renders that block with the chain beside each line ([`render`]), and the linter fails when a
//! trace the book shows has no annotation, or one whose lines are no longer the trace's
//! ([`annotated_lines`]).

use std::fs;
use std::path::Path;

use crate::markdown::{Part, parse_include};

/// The annotation file of an included trace, relative to the repository root, and the number of
/// header lines the trace file has before its first trace line.
fn annotation_of(rel: &str, text: &str) -> Option<(String, usize)> {
    let rel = rel.trim_start_matches("../../");
    let (of, file) = if let Some(f) = rel.strip_prefix("traces/snapshots/") {
        ("minievent", f.strip_suffix(".snap")?)
    } else if let Some(f) = rel.strip_prefix("traces/libevent/") {
        ("libevent", f.strip_suffix(".trace")?)
    } else {
        return None;
    };
    let lines: Vec<&str> = text.lines().collect();
    let header = if of == "minievent" {
        lines
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, l)| l.trim_end() == "---")
            .map_or(0, |(i, _)| i + 1)
    } else {
        lines.iter().take_while(|l| l.starts_with('#')).count()
    };
    Some((format!("traces/annotated/{of}/{file}.txt"), header))
}

/// The lines a trace include shows, each with its chain, or `Ok(None)` when `arg` is not the
/// include of a trace. An error says what is missing or stale and the command that fixes it.
pub fn annotated_lines(root: &Path, arg: &str) -> Result<Option<Vec<(String, String)>>, String> {
    let (rel, part) = parse_include(arg);
    let Ok(text) = fs::read_to_string(root.join(rel.trim_start_matches("../../"))) else {
        return Ok(None);
    };
    let Some((annotation, header)) = annotation_of(&rel, &text) else {
        return Ok(None);
    };
    let name = Path::new(&annotation)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = match part {
        Part::Lines { start, end } => (start.unwrap_or(1), end.unwrap_or(lines.len())),
        _ => (header + 1, lines.len()),
    };
    if start <= header {
        // The file's header is shown (appendix C shows what a trace file looks like): not a
        // trace, nothing to annotate.
        return Ok(None);
    }
    let fix = format!("run `just annotate {name}` and commit {annotation}");
    let annotated = fs::read_to_string(root.join(&annotation))
        .map_err(|_| format!("the trace `{rel}` has no annotation: {fix}"))?;
    let annotated: Vec<&str> = annotated.lines().collect();
    let mut out = Vec::new();
    for n in start..=end.min(lines.len()) {
        let line = lines[n - 1];
        let entry = annotated.get(n - 1 - header).copied().unwrap_or("");
        let (shown, chain) = entry.split_once('\t').unwrap_or((entry, ""));
        if shown != line {
            return Err(format!(
                "{annotation} is out of date: line {} is `{shown}`, the trace's is `{line}`: {fix}",
                n - header
            ));
        }
        out.push((line.to_string(), chain.to_string()));
    }
    Ok(Some(out))
}

/// `<`, `>`, `&` and `"` escaped for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What the column beside a line shows of its chain: the three innermost functions (not
/// `main`, without the source line), and `…` when the chain goes on.
fn column(chain: &str) -> String {
    let frames: Vec<&str> = chain
        .split(" ← ")
        .filter(|f| !f.is_empty() && *f != "main")
        .map(|f| f.split(" (").next().unwrap_or(f))
        .collect();
    let mut shown = frames
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(" ← ");
    if frames.len() > 3 {
        shown.push_str(" ← …");
    }
    shown
}

/// A trace block with the function beside each line: the innermost functions in a dimmed
/// column, the whole chain (with the source line for minievent) when hovered.
pub fn render(lines: &[(String, String)]) -> String {
    let mut out = String::from("<pre class=\"annotated\"><code class=\"language-text\">");
    for (line, chain) in lines {
        let who = column(chain);
        if who.is_empty() {
            out.push_str(&escape(line));
        } else {
            out.push_str(&format!(
                "<span title=\"{}\">{}<span class=\"who\">  ← {}</span></span>",
                escape(chain),
                escape(line),
                escape(&who)
            ));
        }
        out.push('\n');
    }
    out.push_str("</code></pre>");
    out
}

/// Replaces each ```` ```text ```` block that includes an annotated trace by [`render`]'s HTML;
/// other blocks, and traces whose annotation is missing or stale (the linter reports those),
/// are left for mdBook.
pub fn expand(root: &Path, markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let lines: Vec<&str> = markdown.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_end();
        let include = lines.get(i + 1).map(|l| l.trim());
        let close = lines.get(i + 2).map(|l| l.trim_end());
        if fence.trim_start() == "```text"
            && close.is_some_and(|c| c.trim_start() == "```")
            && let Some(arg) = include
                .and_then(|l| l.strip_prefix("{{#include "))
                .and_then(|l| l.strip_suffix("}}"))
            && let Ok(Some(annotated)) = annotated_lines(root, arg.trim())
        {
            let indent = &fence[..fence.len() - fence.trim_start().len()];
            out.push_str(indent);
            out.push_str(&render(&annotated));
            out.push('\n');
            i += 3;
            continue;
        }
        out.push_str(lines[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("annotated-{name}-{}", std::process::id()));
        fs::create_dir_all(root.join("traces/snapshots")).unwrap();
        fs::create_dir_all(root.join("traces/annotated/minievent")).unwrap();
        fs::write(
            root.join("traces/snapshots/step3.snap"),
            "---\nsource: x\n---\nepoll_create1(EPOLL_CLOEXEC) = 3\nclose(3) = 0\n",
        )
        .unwrap();
        fs::write(
            root.join("traces/annotated/minievent/step3.txt"),
            "epoll_create1(EPOLL_CLOEXEC) = 3\tEpoll::new (src/backend/epoll.rs:170) ← Base::new ← main\nclose(3) = 0\t\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn an_included_trace_gets_its_chains() {
        let root = repo("ok");
        let lines = annotated_lines(&root, "../../traces/snapshots/step3.snap:4:")
            .unwrap()
            .unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].1.starts_with("Epoll::new"));
        let md = "a\n```text\n{{#include ../../traces/snapshots/step3.snap:4:}}\n```\nb\n";
        let html = expand(&root, md);
        assert!(html.starts_with("a\n<pre class=\"annotated\">"), "{html}");
        assert!(
            html.contains("<span class=\"who\">  ← Epoll::new ← Base::new</span>"),
            "{html}"
        );
        assert!(
            html.contains("title=\"Epoll::new (src/backend/epoll.rs:170) ← Base::new ← main\"")
        );
        assert!(
            html.contains("\nclose(3) = 0\n</code></pre>\nb\n"),
            "{html}"
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_column_shows_the_three_innermost_functions() {
        assert_eq!(
            column(
                "Epoll::ctl (src/backend/epoll.rs:268) ← Epoll::apply_one_change ← Epoll::add ← IoMap::add ← main"
            ),
            "Epoll::ctl ← Epoll::apply_one_change ← Epoll::add ← …"
        );
        assert_eq!(column("… ← event_base_loop ← main"), "… ← event_base_loop");
        assert_eq!(column("main"), "");
    }

    #[test]
    fn a_stale_or_missing_annotation_is_an_error_naming_the_fix() {
        let root = repo("stale");
        fs::write(
            root.join("traces/snapshots/step3.snap"),
            "---\nsource: x\n---\nepoll_create1(EPOLL_CLOEXEC) = 4\n",
        )
        .unwrap();
        let err = annotated_lines(&root, "../../traces/snapshots/step3.snap:4:").unwrap_err();
        assert!(
            err.contains("out of date") && err.contains("just annotate step3"),
            "{err}"
        );
        fs::remove_file(root.join("traces/annotated/minievent/step3.txt")).unwrap();
        let err = annotated_lines(&root, "../../traces/snapshots/step3.snap:4:").unwrap_err();
        assert!(err.contains("no annotation"), "{err}");
        assert_eq!(annotated_lines(&root, "../../src/lib.rs:x").unwrap(), None);
        assert_eq!(
            annotated_lines(&root, "../../traces/snapshots/step3.snap:1:4").unwrap(),
            None,
            "a range showing the header is a file, not a trace"
        );
        fs::remove_dir_all(root).unwrap();
    }
}
