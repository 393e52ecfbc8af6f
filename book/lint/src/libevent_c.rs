//! libevent's C beside the Rust: where each libevent function is, and how the book shows it.
//!
//! The book cites libevent as `file.c:function` and puts `{{#libevent file.c:function}}` after
//! a Rust listing to show the C it re-implements. Nothing of libevent is committed: the
//! repository keeps only an index, `book/coverage/libevent-functions.txt`, with one line per
//! function definition of libevent 2.1.12's top-level `.c` and `.h` files (file, name, first and
//! last line), made by [`index_source`] from the tarball `just libevent-src` unpacks.
//!
//! - The book's preprocessor (src/bin/preprocessor.rs) replaces each directive by the
//!   function's C, read from the local source when `just libevent-src` has fetched it, folded
//!   under a summary; without the source, by a link to those lines at the release tag.
//! - The linter checks every citation and directive against the index ([`check_citations`]),
//!   and `just libevent-index --check` proves the committed index equals the source.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Lang;

/// The committed index, relative to the book directory.
pub const INDEX: &str = "coverage/libevent-functions.txt";

/// Where `just libevent-src` unpacks the source, relative to the repository root.
pub const SOURCE_DIR: &str = "libevent-src/libevent-2.1.12-stable";

/// The release the book studies, as tagged in libevent's repository.
pub const TAG_URL: &str = "https://github.com/libevent/libevent/blob/release-2.1.12-stable";

/// One function definition: its name and its lines (1-based, inclusive), from the first line
/// of its signature to its closing brace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The function's name.
    pub name: String,
    /// First line of the signature (the return type's line).
    pub first: usize,
    /// The line of the closing `}`.
    pub last: usize,
}

/// The top-level definitions of one C file, in order: its functions, and its initialised
/// variables (libevent's tables such as `eventops` and `epollops`, and statics such as
/// `evsig_base`), which the book cites the same way.
///
/// libevent is written in BSD style, and this reads that style: a function is a `{` at
/// nesting depth 0 whose preceding declaration text has a `(` and no `=` (so `struct x {` and
/// `... = {` initialisers are not functions); the name is the identifier before the parameter
/// list. Comments, string and character literals and preprocessor lines are skipped, and each
/// `#else` branch is read from the depth its `#if` had.
pub fn functions(c: &str) -> Vec<Function> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    // The declaration text at depth 0 since the last `;` or `}`, and each of its bytes' line.
    let mut signature = String::new();
    let mut signature_lines: Vec<usize> = Vec::new();
    let mut open: Option<(String, usize)> = None;
    let mut in_comment = false;
    let mut in_directive = false;
    let mut branches: Vec<usize> = Vec::new();
    for (i, line) in c.lines().enumerate() {
        let n = i + 1;
        if in_directive || (!in_comment && line.trim_start().starts_with('#')) {
            // A preprocessor line, and its `\` continuations. Each branch of an `#if` starts at
            // the brace depth the `#if` had: libevent opens a loop's `{` in both branches.
            if !in_directive {
                let word = line.trim_start()[1..].trim_start();
                if word.starts_with("if") {
                    branches.push(depth);
                } else if word.starts_with("el") {
                    depth = branches.last().copied().unwrap_or(depth);
                } else if word.starts_with("endif") {
                    branches.pop();
                }
            }
            in_directive = line.trim_end().ends_with('\\');
            continue;
        }
        let bytes = line.as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            let b = bytes[j];
            if in_comment {
                if b == b'*' && bytes.get(j + 1) == Some(&b'/') {
                    in_comment = false;
                    j += 1;
                }
            } else if b == b'/' && bytes.get(j + 1) == Some(&b'*') {
                in_comment = true;
                j += 1;
            } else if b == b'/' && bytes.get(j + 1) == Some(&b'/') {
                break;
            } else if b == b'"' || b == b'\'' {
                j += 1;
                while j < bytes.len() && bytes[j] != b {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
            } else if b == b'{' && depth == 0 && signature.trim() == "extern" {
                // `extern "C" {` around a header (the string is skipped): not a nesting level.
                signature.clear();
                signature_lines.clear();
            } else if b == b'{' {
                if depth == 0 {
                    open = function_name(&signature)
                        .or_else(|| variable_name(&signature))
                        .map(|(name, start)| (name, signature_lines[start]));
                }
                depth += 1;
            } else if b == b'}' {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some((name, first)) = open.take() {
                        out.push(Function {
                            name,
                            first,
                            last: n,
                        });
                    }
                    signature.clear();
                    signature_lines.clear();
                }
            } else if depth == 0 {
                if b == b';' {
                    if let Some((name, start)) = variable_name(&signature) {
                        out.push(Function {
                            name,
                            first: signature_lines[start],
                            last: n,
                        });
                    }
                    signature.clear();
                    signature_lines.clear();
                } else if !b.is_ascii_whitespace() || !signature.is_empty() {
                    signature.push(b as char);
                    signature_lines.push(n);
                }
            }
            j += 1;
        }
        if depth == 0 && !signature.is_empty() {
            signature.push(' ');
            signature_lines.push(n);
        }
    }
    out
}

/// The name an initialised top-level variable's declaration defines (`static const struct
/// eventop *eventops[] = {`, `static struct event_base *evsig_base = NULL`): the identifier
/// before the `=` (and its array brackets), when no `(` comes before the `=`; and where the
/// declaration starts.
fn variable_name(signature: &str) -> Option<(String, usize)> {
    let head = &signature[..signature.find('=')?];
    if head.contains('(') || head.trim_start().starts_with("extern") {
        return None;
    }
    let head = head.trim_end();
    let head = head.split('[').next().unwrap_or(head).trim_end();
    trailing_identifier(head).map(|name| (name.to_string(), 0))
}

/// The name a declaration text defines, if it is a function's: the identifier before its last
/// outermost `(` (the parameter list; macro invocations such as `HT_PROTOTYPE(...)` may come
/// first), when there is one and no `=`; and where the definition starts in the text (after
/// such macro invocations: the return type's first byte).
fn function_name(signature: &str) -> Option<(String, usize)> {
    if signature.contains('=') {
        return None;
    }
    let mut parens = 0usize;
    let mut list = None;
    for (i, c) in signature.char_indices() {
        match c {
            '(' => {
                if parens == 0 {
                    list = Some(i);
                }
                parens += 1;
            }
            ')' => parens = parens.saturating_sub(1),
            _ => {}
        }
    }
    let head = signature[..list?].trim_end();
    let name = trailing_identifier(head)?;
    let start = head[..head.len() - name.len()]
        .rfind(')')
        .map_or(0, |close| close + 1);
    let start = start + (signature[start..].len() - signature[start..].trim_start().len());
    Some((name.to_string(), start))
}

/// The C identifier `text` ends with, if it ends with one.
fn trailing_identifier(text: &str) -> Option<&str> {
    let start = text
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let name = &text[start..];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// Every function of libevent, by file name then function name.
pub type Index = BTreeMap<String, BTreeMap<String, (usize, usize)>>;

/// Indexes the top-level `.c` and `.h` files of an unpacked libevent source.
pub fn index_source(source: &Path) -> Result<Index, String> {
    let entries = fs::read_dir(source).map_err(|e| {
        format!(
            "cannot read libevent's source in {}: {e}; run `just libevent-src` first",
            source.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "c" || e == "h"))
        .collect();
    files.sort();
    if !files.iter().any(|p| p.ends_with("event.c")) {
        return Err(format!(
            "{} has no event.c: it is not libevent's source; run `just libevent-src`",
            source.display()
        ));
    }
    let mut index = Index::new();
    for path in files {
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut found = BTreeMap::new();
        for f in functions(&text) {
            // A name defined twice (under #ifdef alternatives) keeps its first definition.
            found.entry(f.name).or_insert((f.first, f.last));
        }
        if !found.is_empty() {
            index.insert(name, found);
        }
    }
    Ok(index)
}

/// The index as committed: a header, then `file function first last`, one per line.
pub fn render_index(index: &Index) -> String {
    let mut out = String::from(
        "# Every function definition in libevent 2.1.12-stable's top-level .c and .h files:\n\
         # file, function, first and last line. Generated by `just libevent-index` from the\n\
         # source `just libevent-src` fetches; used by the book's preprocessor and linter.\n",
    );
    for (file, functions) in index {
        for (name, (first, last)) in functions {
            let _ = writeln!(out, "{file} {name} {first} {last}");
        }
    }
    out
}

/// Reads a committed index; a malformed line is an error naming it.
pub fn parse_index(text: &str) -> Result<Index, String> {
    let mut index = Index::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [file, name, first, last] => first
                .parse::<usize>()
                .ok()
                .zip(last.parse::<usize>().ok())
                .map(|range| (file, name, range)),
            _ => None,
        };
        let Some((file, name, range)) = parsed else {
            return Err(format!(
                "line {}: `{line}` is not `file function first last`; regenerate the index with `just libevent-index`",
                i + 1
            ));
        };
        index
            .entry(file.to_string())
            .or_default()
            .insert(name.to_string(), range);
    }
    Ok(index)
}

/// Loads `book/coverage/libevent-functions.txt`.
pub fn load_index(book: &Path) -> Result<Index, String> {
    let path = book.join(INDEX);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e}; regenerate it with `just libevent-index`",
            path.display()
        )
    })?;
    parse_index(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A `file.c:function` citation found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// 1-based line in the page.
    pub line: usize,
    /// The file name, e.g. `epoll.c`.
    pub file: String,
    /// The function name.
    pub function: String,
}

/// Every `name.c:identifier` / `name.h:identifier` in a page's text.
pub fn citations(text: &str) -> Vec<Citation> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut k = 0;
        while let Some(pos) = line[k..].find(":") {
            let colon = k + pos;
            k = colon + 1;
            // `x.c:` or `x.h:` right before the colon, a name before that.
            if colon < 3 || bytes[colon - 2] != b'.' || !matches!(bytes[colon - 1], b'c' | b'h') {
                continue;
            }
            let mut start = colon - 2;
            while start > 0 && is_name(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = colon + 1;
            while end < bytes.len() && is_ident(bytes[end]) {
                end += 1;
            }
            if start == colon - 2
                || end == colon + 1
                || (start > 0 && (bytes[start - 1] == b'/' || bytes[start - 1] == b'.'))
                || bytes[colon + 1].is_ascii_digit()
            {
                continue;
            }
            out.push(Citation {
                line: i + 1,
                file: line[start..colon].to_string(),
                function: line[colon + 1..end].to_string(),
            });
        }
    }
    out
}

/// What is wrong with a citation, if anything: the file must be one of libevent's (or one of
/// the repository's C reference programs, `reference` holds their functions) and define the
/// function.
pub fn check_citation(
    index: &Index,
    reference: &Index,
    file: &str,
    function: &str,
) -> Option<String> {
    let functions = index.get(file).or_else(|| reference.get(file));
    match functions {
        None => Some(format!(
            "`{file}:{function}`: {file} is neither a libevent 2.1.12 file with functions (book/{INDEX}) nor a program in traces/reference/"
        )),
        Some(functions) if !functions.contains_key(function) => {
            let near: Vec<&str> = functions
                .keys()
                .filter(|k| k.contains(function) || function.contains(k.as_str()))
                .map(String::as_str)
                .take(3)
                .collect();
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.join(", "))
            };
            Some(format!(
                "`{file}:{function}`: {file} defines no function `{function}`{hint}"
            ))
        }
        Some(_) => None,
    }
}

/// The functions of the repository's C reference programs, `traces/reference/*.c`.
pub fn reference_functions(root: &Path) -> Index {
    let mut index = Index::new();
    let Ok(entries) = fs::read_dir(root.join("traces/reference")) else {
        return index;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|e| e == "c")
            && let (Ok(text), Some(name)) = (fs::read_to_string(&path), path.file_name())
        {
            let found = functions(&text)
                .into_iter()
                .map(|f| (f.name, (f.first, f.last)))
                .collect();
            index.insert(name.to_string_lossy().into_owned(), found);
        }
    }
    index
}

/// The Markdown that replaces `{{#libevent file:function}}`: the function's C, folded, when the
/// source is at hand (`source` is its directory), else a link to its lines at the release tag.
pub fn render(
    index: &Index,
    source: Option<&Path>,
    file: &str,
    function: &str,
    lang: Lang,
) -> String {
    let Some(&(first, last)) = index.get(file).and_then(|f| f.get(function)) else {
        return format!(
            "<p class=\"libevent-c missing\">libevent: <code>{file}:{function}</code> is not in book/{INDEX}</p>\n"
        );
    };
    let url = format!("{TAG_URL}/{file}#L{first}-L{last}");
    let lines = source
        .and_then(|dir| fs::read(dir.join(file)).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map(|text| {
            text.lines()
                .skip(first - 1)
                .take(last + 1 - first)
                .collect::<Vec<_>>()
                .join("\n")
        });
    let name = format!("<code>{file}:{function}</code>");
    match (lines, lang) {
        (Some(code), _) if !code.trim().is_empty() => {
            let summary = match lang {
                Lang::En => format!(
                    "libevent 2.1.12: {name}, lines {first}–{last} (from your <code>libevent-src/</code>; <a href=\"{url}\">on GitHub</a>)"
                ),
                Lang::Zh => format!(
                    "libevent 2.1.12：{name}，第 {first}–{last} 行（取自你的 <code>libevent-src/</code>；<a href=\"{url}\">GitHub 上的原文</a>）"
                ),
            };
            format!(
                "\n<details class=\"libevent-c\">\n<summary>{summary}</summary>\n\n```c\n{code}\n```\n\n</details>\n\n"
            )
        }
        (_, Lang::En) => format!(
            "\n<p class=\"libevent-c\">libevent 2.1.12: <a href=\"{url}\">{name}, lines {first}–{last}</a> \
             (run <code>just libevent-src</code> to read it here, beside the Rust)</p>\n\n"
        ),
        (_, Lang::Zh) => format!(
            "\n<p class=\"libevent-c\">libevent 2.1.12：<a href=\"{url}\">{name}，第 {first}–{last} 行</a>\
             （运行 <code>just libevent-src</code> 后即可在此处、Rust 代码旁阅读）</p>\n\n"
        ),
    }
}

/// Replaces every `{{#libevent file:function}}` of a chapter's Markdown (`\{{#libevent` is the
/// escape, as for mdBook's own directives: it shows the directive itself).
pub fn expand(index: &Index, source: Option<&Path>, markdown: &str, lang: Lang) -> String {
    const OPEN: &str = "{{#libevent ";
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        if rest[..start].ends_with('\\') {
            out.push_str(&rest[..start - 1]);
            out.push_str(&rest[start..start + len + 2]);
            rest = &rest[start + len + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let arg = rest[start + OPEN.len()..start + len].trim();
        let (file, function) = arg.split_once(':').unwrap_or((arg, ""));
        out.push_str(&render(index, source, file, function, lang));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = r#"/* a { comment } with braces */
extern "C" {
#include <stdio.h>
#define X(a) \
	do { a } while (0)

static const struct eventop epollops = {
	"epoll", epoll_init,
};
static struct event_base *evsig_base = NULL;

struct fdinfo {
	int x;
};

static int
epoll_apply_one_change(struct event_base *base,
    const struct event_change *ch)
{
#ifdef USE_HT
	HT_FOREACH(p, map, m) {
#else
	for (;;) {
#endif
	}
	const char *s = "}{";
	char c = '{';
	if (s) {
		return 1; // }
	}
	return 0;
}

HT_PROTOTYPE(map, entry, node, hash, eq)
int min_heap_push_(min_heap_t* s, struct event* e)
{
	return 0;
}

void f(void);
}
"#;

    #[test]
    fn finds_definitions_not_declarations_structs_or_initialisers() {
        let found = functions(C);
        assert_eq!(
            found,
            vec![
                Function {
                    name: "epollops".into(),
                    first: 7,
                    last: 9
                },
                Function {
                    name: "evsig_base".into(),
                    first: 10,
                    last: 10
                },
                Function {
                    name: "epoll_apply_one_change".into(),
                    first: 16,
                    last: 32
                },
                Function {
                    name: "min_heap_push_".into(),
                    first: 35,
                    last: 38
                },
            ]
        );
    }

    #[test]
    fn the_index_round_trips_and_a_bad_line_is_named() {
        let mut index = Index::new();
        index
            .entry("epoll.c".into())
            .or_default()
            .insert("epoll_dispatch".into(), (10, 20));
        assert_eq!(parse_index(&render_index(&index)).unwrap(), index);
        let err = parse_index("epoll.c epoll_dispatch ten 20\n").unwrap_err();
        assert!(
            err.contains("line 1") && err.contains("just libevent-index"),
            "{err}"
        );
    }

    #[test]
    fn citations_are_file_colon_function_and_not_paths_or_line_numbers() {
        let text = "see `epoll.c:epoll_dispatch` and evmap.c:evmap_io_add_.\n\
                    not src/epoll.c:12, not book.toml:x, minheap-internal.h:min_heap_push_";
        let found: Vec<(usize, String, String)> = citations(text)
            .into_iter()
            .map(|c| (c.line, c.file, c.function))
            .collect();
        assert_eq!(
            found,
            vec![
                (1, "epoll.c".into(), "epoll_dispatch".into()),
                (1, "evmap.c".into(), "evmap_io_add_".into()),
                (2, "minheap-internal.h".into(), "min_heap_push_".into()),
            ]
        );
    }

    #[test]
    fn a_wrong_citation_names_the_problem() {
        let index = parse_index("epoll.c epoll_dispatch 10 20\n").unwrap();
        let none = Index::new();
        assert_eq!(
            check_citation(&index, &none, "epoll.c", "epoll_dispatch"),
            None
        );
        let typo = check_citation(&index, &none, "epoll.c", "epoll_dispatc").unwrap();
        assert!(typo.contains("did you mean epoll_dispatch"), "{typo}");
        let file = check_citation(&index, &none, "epol.c", "epoll_dispatch").unwrap();
        assert!(file.contains("neither a libevent"), "{file}");
    }

    #[test]
    fn the_directive_renders_a_link_without_the_source_and_the_code_with_it() {
        let dir = std::env::temp_dir().join(format!("libevent-c-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("epoll.c"), C).unwrap();
        let index = index_source(&dir).err();
        assert!(index.unwrap().contains("no event.c"));
        let index = parse_index("epoll.c epoll_apply_one_change 16 32\n").unwrap();
        let page = "before\n{{#libevent epoll.c:epoll_apply_one_change}}\nafter";
        let linked = expand(&index, None, page, Lang::En);
        assert!(
            linked.contains(&format!("{TAG_URL}/epoll.c#L16-L32")),
            "{linked}"
        );
        assert!(!linked.contains("```c"));
        assert!(linked.starts_with("before\n") && linked.ends_with("\nafter"));
        let escaped = expand(
            &index,
            None,
            "`\\{{#libevent epoll.c:epoll_apply_one_change}}`",
            Lang::En,
        );
        assert_eq!(escaped, "`{{#libevent epoll.c:epoll_apply_one_change}}`");
        let shown = expand(&index, Some(&dir), page, Lang::En);
        let zh = expand(&index, Some(&dir), page, Lang::Zh);
        assert!(zh.contains("第 16–32 行"), "{zh}");
        assert!(
            shown.contains("```c\nstatic int\nepoll_apply_one_change("),
            "{shown}"
        );
        assert!(shown.contains("\treturn 0;\n}\n```"), "{shown}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
