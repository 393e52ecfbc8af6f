//! `minievent-booklint`: the checks mdBook does not make.
//!
//! mdBook renders a misspelled anchor as an empty code block and a typo'd chapter link as a
//! 404, without a word. This linter reads `book/src` and the files it includes, and fails on:
//!
//! 1. **Includes.** Every `{{#include path}}` (and `rustdoc_include`, `playground`) names a file
//!    that exists. `path:anchor`: the anchor is defined exactly once in that file, with exactly
//!    one `ANCHOR_END` after it, and the text between is not blank. `path:N:M`: the file has
//!    those lines and they are not blank. Traces carry a header that must not leak into the
//!    book: an insta snapshot (`.snap`) is included from the line after its closing `---`, a
//!    recorded libevent trace (`.trace`) from the line after its `#` header (or only the header).
//! 2. **No hand-typed listings.** Every fenced block says its language; a `rust` or `text`
//!    block holds nothing but include directives (Rust comes from files `cargo test` builds,
//!    traces from the files the trace tests check). Type commands in `sh` blocks.
//! 3. **Every anchor is used.** Each `// ANCHOR: name` under `src/` is well formed and is
//!    included by some chapter, or listed with a reason in `book/unused-anchors.txt`
//!    (`src/path.rs:name  reason`); an entry there that is used or no longer exists is an error too.
//! 4. **Links.** `[x](page.md#fragment)`, images and `src=`/`href=` attributes point at files
//!    under `book/src`, and a fragment at a heading (or `id=`) of that page. Every page is
//!    listed in `SUMMARY.md`.
//! 5. **The name map stays whole.** A page with `<!-- booklint: name-map-of src/lib.rs -->`
//!    mentions every libevent name of the first column of that file's `//! |` table.
//! 6. **Citations are real.** Every `file.c:function` in a page, and every
//!    `{{#libevent file.c:function}}`, names a function that file defines: in libevent 2.1.12
//!    (the index `book/coverage/libevent-functions.txt`, which `just libevent-index --check`
//!    proves equal to the source) or in one of our C programs under `traces/reference/`.
//! 7. **Traces are annotated.** Every trace a page shows (a `text` block including
//!    `traces/snapshots/*.snap` or `traces/libevent/*.trace`) has its annotation in
//!    `traces/annotated/` (`just annotate`), line for line the trace it annotates.
//!
//! Every error names the file and line (the chapter and the include for include errors).

pub mod anchors;
pub mod annotated;
pub mod coverage;
pub mod libevent_c;
pub mod markdown;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use markdown::{Page, Part};

/// The file listing the anchors that are deliberately not shown, relative to the book dir.
pub const ALLOW_LIST: &str = "unused-anchors.txt";

/// One error: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file, relative to the repository root when it is inside it.
    pub file: PathBuf,
    /// 1-based line (0 when the problem is the whole file).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

/// What was checked, for the success line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Markdown pages under `book/src`.
    pub pages: usize,
    /// Include directives.
    pub includes: usize,
    /// Anchors defined under `src/`.
    pub anchors: usize,
    /// Of those, listed in the allow-list.
    pub allowed_unused: usize,
    /// Links checked.
    pub links: usize,
    /// `file.c:function` citations of libevent checked against its function index.
    pub citations: usize,
}

/// The directories the linter works with.
struct Layout {
    /// `book/`
    book: PathBuf,
    /// `book/src/`
    book_src: PathBuf,
    /// The repository root (the book dir's parent), canonical.
    root: PathBuf,
    /// libevent 2.1.12's functions (book/coverage/libevent-functions.txt), and our C reference
    /// programs' (traces/reference/): what a `file.c:function` citation may name.
    libevent: Result<libevent_c::Index, String>,
    reference: libevent_c::Index,
}

/// `file.c:function` from a `{{#libevent}}` directive's argument.
fn arg_citation(arg: &str) -> Option<(&str, &str)> {
    let (file, function) = arg.split_once(':')?;
    (file.ends_with(".c") || file.ends_with(".h"))
        .then_some((file, function))
        .filter(|(_, f)| !f.is_empty())
}

/// Checks one citation of libevent (rule 6).
fn cite(
    layout: &Layout,
    page: &Path,
    line: usize,
    file: &str,
    function: &str,
    out: &mut Vec<Diagnostic>,
) {
    let message = match &layout.libevent {
        Err(why) => Some(why.clone()),
        Ok(index) => libevent_c::check_citation(index, &layout.reference, file, function),
    };
    if let Some(message) = message {
        out.push(Diagnostic {
            file: layout.show(page),
            line,
            message,
        });
    }
}

impl Layout {
    /// `path` relative to the repository root, for messages.
    fn show(&self, path: &Path) -> PathBuf {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| normalize(path));
        canonical
            .strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or(canonical)
    }
}

/// Removes `.` and `a/..` from a path without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Every file under `dir` whose name ends with `ext`, sorted.
fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A trace file's header: how many lines it has, and the name of the rule, if `path` is one.
fn trace_header(path: &Path, text: &str) -> Option<(usize, &'static str)> {
    let lines: Vec<&str> = text.lines().collect();
    match path.extension().and_then(|e| e.to_str()) {
        Some("snap") => {
            let closing = lines
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, l)| l.trim_end() == "---")?;
            (lines.first().is_some_and(|l| l.trim_end() == "---")).then_some((
                closing.0 + 1,
                "an insta snapshot starts with a `---` ... `---` header",
            ))
        }
        Some("trace") => Some((
            lines.iter().take_while(|l| l.starts_with('#')).count(),
            "a recorded libevent trace starts with `#` header lines",
        )),
        _ => None,
    }
}

/// Checks one include directive; returns the (canonical file, anchor) it uses.
fn check_include(
    layout: &Layout,
    chapter: &Path,
    line: usize,
    arg: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<(PathBuf, Option<String>)> {
    let chapter_shown = layout.show(chapter);
    let mut error = |message: String| {
        out.push(Diagnostic {
            file: chapter_shown.clone(),
            line,
            message,
        });
    };
    let (rel, part) = markdown::parse_include(arg);
    if rel.is_empty() {
        error("include without a path".to_string());
        return None;
    }
    let dir = chapter.parent().unwrap_or(Path::new("."));
    let target = dir.join(&rel);
    let Ok(text) = fs::read_to_string(&target) else {
        error(format!(
            "include `{arg}`: file `{rel}` not found (resolved to {})",
            layout.show(&target).display()
        ));
        return None;
    };
    let canonical = fs::canonicalize(&target).unwrap_or_else(|_| normalize(&target));
    let shown = layout.show(&target);
    let lines: Vec<&str> = text.lines().collect();
    match &part {
        Part::Whole => {
            if text.trim().is_empty() {
                error(format!("include `{arg}`: {} is empty", shown.display()));
            }
            if let Some((header, rule)) = trace_header(&target, &text) {
                error(format!(
                    "include `{arg}` takes the whole file, header too; {rule}: include it from line {} (`{rel}:{}:`)",
                    header + 1,
                    header + 1
                ));
            }
            Some((canonical, None))
        }
        Part::Anchor(name) => {
            let anchors = anchors::scan(&text);
            let problems: Vec<&(usize, String)> = anchors
                .problems
                .iter()
                .filter(|(_, m)| {
                    m.contains(&format!("`{name}`")) || m.contains(&format!(": {name}`"))
                })
                .collect();
            match anchors.get(name) {
                Some(anchor) if anchor.text.trim().is_empty() => error(format!(
                    "include `{arg}`: anchor `{name}` in {} (line {}) encloses no text",
                    shown.display(),
                    anchor.line
                )),
                Some(_) => {}
                None if !problems.is_empty() => error(format!(
                    "include `{arg}`: anchor `{name}` in {} is malformed: line {}: {}",
                    shown.display(),
                    problems[0].0,
                    problems[0].1
                )),
                None => error(format!(
                    "include `{arg}`: anchor `{name}` does not occur in {} (mdBook would render an empty block); its anchors: {}",
                    shown.display(),
                    match anchors.names() {
                        names if names.is_empty() => "none".to_string(),
                        names => names.join(", "),
                    }
                )),
            }
            Some((canonical, Some(name.clone())))
        }
        Part::Lines { start, end } => {
            let first = start.unwrap_or(1).max(1);
            let last = end.unwrap_or(lines.len());
            if first > lines.len() || last < first {
                error(format!(
                    "include `{arg}`: {} has {} lines, so lines {first}..={last} are empty",
                    shown.display(),
                    lines.len()
                ));
                return Some((canonical, None));
            }
            let last = last.min(lines.len());
            if lines[first - 1..last].iter().all(|l| l.trim().is_empty()) {
                error(format!(
                    "include `{arg}`: lines {first}..={last} of {} are blank",
                    shown.display()
                ));
            }
            if let Some((header, rule)) = trace_header(&target, &text) {
                let header_only = last <= header;
                if !header_only && first != header + 1 {
                    error(format!(
                        "include `{arg}`: {rule} of {header} lines in {}, so the trace starts at line {}, not {first}: write `{rel}:{}:`",
                        shown.display(),
                        header + 1,
                        header + 1
                    ));
                }
            }
            Some((canonical, None))
        }
    }
}

/// Expands the includes of Markdown files (one level), for finding the headings of a page.
fn expanded(chapter: &Path, text: &str) -> String {
    let page = markdown::scan(text);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        let md_include = page.directives.iter().find(|d| {
            d.line == i + 1 && !d.in_fence && d.name == "include" && {
                let (rel, _) = markdown::parse_include(&d.arg);
                rel.ends_with(".md")
            }
        });
        match md_include {
            Some(d) => {
                let (rel, _) = markdown::parse_include(&d.arg);
                let path = chapter.parent().unwrap_or(Path::new(".")).join(rel);
                out.push_str(&fs::read_to_string(path).unwrap_or_default());
                out.push('\n');
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Where the links being checked come from: the chapter itself, or a Markdown file it
/// includes (whose links mdBook renders as if they were the chapter's).
#[derive(Clone, Copy)]
enum LinkSource<'a> {
    /// The chapter's own text.
    Chapter,
    /// A file included at `line` of the chapter; `name` is for messages.
    Included { line: usize, name: &'a str },
}

/// Checks the links of one page (or of a file it includes), resolved from the chapter.
fn check_links(
    layout: &Layout,
    chapter: &Path,
    page: &Page,
    source: LinkSource<'_>,
    pages: &BTreeMap<PathBuf, Page>,
    out: &mut Vec<Diagnostic>,
) -> usize {
    let mut checked = 0;
    for link in &page.links {
        let target = link.target.as_str();
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        checked += 1;
        let (file, fragment) = match target.split_once('#') {
            Some((f, frag)) => (f, Some(frag)),
            None => (target, None),
        };
        let mut error = |message: String| {
            let (line, message) = match source {
                LinkSource::Chapter => (link.line, message),
                LinkSource::Included { line, name } => (
                    line,
                    format!(
                        "in {name} (line {}), rendered into this page: {message}",
                        link.line
                    ),
                ),
            };
            out.push(Diagnostic {
                file: layout.show(chapter),
                line,
                message,
            });
        };
        let resolved = if file.is_empty() {
            chapter.to_path_buf()
        } else {
            normalize(&chapter.parent().unwrap_or(Path::new(".")).join(file))
        };
        if !resolved.starts_with(normalize(&layout.book_src)) {
            error(format!(
                "link `{target}` leaves book/src: the rendered book has no such page (write the path as `code` instead)"
            ));
            continue;
        }
        if !resolved.is_file() {
            error(format!(
                "link `{target}`: {} does not exist",
                layout.show(&resolved).display()
            ));
            continue;
        }
        if let Some(fragment) = fragment {
            match pages.get(&resolved) {
                Some(target_page) if !target_page.has_id(fragment) => error(format!(
                    "link `{target}`: {} has no heading with id `{fragment}`; its ids: {}",
                    layout.show(&resolved).display(),
                    target_page
                        .headings
                        .iter()
                        .map(|h| h.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(_) => {}
                None => error(format!(
                    "link `{target}`: a fragment into a non-Markdown file"
                )),
            }
        }
    }
    checked
}

/// Parses the allow-list: `src/path.rs:anchor  reason`, `#` comments, blank lines.
fn read_allow_list(
    layout: &Layout,
    out: &mut Vec<Diagnostic>,
) -> BTreeMap<(PathBuf, String), usize> {
    let path = layout.book.join(ALLOW_LIST);
    let mut entries = BTreeMap::new();
    let Ok(text) = fs::read_to_string(&path) else {
        return entries;
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut error = |message: String| {
            out.push(Diagnostic {
                file: layout.show(&path),
                line: i + 1,
                message,
            });
        };
        let (key, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let Some((file, anchor)) = key.rsplit_once(':') else {
            error(format!("`{key}` is not `src/path.rs:anchor`"));
            continue;
        };
        if reason.trim().is_empty() {
            error(format!(
                "`{key}` needs a reason after it: why is this anchor not in the book?"
            ));
        }
        let file = normalize(&layout.root.join(file));
        if entries.insert((file, anchor.to_string()), i + 1).is_some() {
            error(format!("`{key}` is listed twice"));
        }
    }
    entries
}

/// Checks that every libevent name of `source`'s `//! |` table appears in `page_text`.
fn check_name_map(
    layout: &Layout,
    chapter: &Path,
    line: usize,
    source: &str,
    page_text: &str,
    out: &mut Vec<Diagnostic>,
) {
    let path = layout.root.join(source);
    let Ok(text) = fs::read_to_string(&path) else {
        out.push(Diagnostic {
            file: layout.show(chapter),
            line,
            message: format!("name-map-of `{source}`: file not found"),
        });
        return;
    };
    for row in text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("//! |"))
    {
        let first = row.split('|').next().unwrap_or("");
        if first.trim().chars().all(|c| c == '-' || c.is_whitespace()) || first.trim() == "libevent"
        {
            continue;
        }
        for name in first.split('`').skip(1).step_by(2) {
            // `event_base_new[_with_config]`: the base name; `_get_features` (a suffix of the
            // name before it): the end of some code span.
            let base = match name.find('[') {
                Some(open) if !name[open..].starts_with("[]") => &name[..open],
                _ => name,
            };
            let found = if base.starts_with('_') {
                page_text.contains(&format!("{base}`"))
            } else {
                page_text.contains(&format!("`{base}`"))
            };
            if !found {
                out.push(Diagnostic {
                    file: layout.show(chapter),
                    line,
                    message: format!("the name map lacks `{name}`, which {source}'s table lists"),
                });
            }
        }
    }
}

/// Lints the book in `book` (the directory holding `book.toml`).
///
/// Returns what was checked and every error, sorted; `Err` only when `book` is not a book.
pub fn lint(book: &Path) -> Result<(Summary, Vec<Diagnostic>), String> {
    let book_src = book.join("src");
    if !book_src.join("SUMMARY.md").is_file() {
        return Err(format!(
            "{} is not an mdBook directory: {} is missing",
            book.display(),
            book_src.join("SUMMARY.md").display()
        ));
    }
    let root_dir = match book.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root = fs::canonicalize(&root_dir).map_err(|e| format!("{}: {e}", root_dir.display()))?;
    let layout = Layout {
        book: book.to_path_buf(),
        book_src: book_src.clone(),
        libevent: libevent_c::load_index(book),
        reference: libevent_c::reference_functions(&root),
        root: root.clone(),
    };
    let mut out = Vec::new();
    let mut summary = Summary::default();

    // Pages.
    let mut pages = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for path in files_with_ext(&book_src, "md") {
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = normalize(&path);
        pages.insert(key.clone(), markdown::scan(&expanded(&path, &text)));
        texts.insert(key, text);
    }
    summary.pages = texts.len();

    let mut used: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    for (path, text) in &texts {
        let page = markdown::scan(text);
        let shown = layout.show(path);
        for (line, message) in &page.problems {
            out.push(Diagnostic {
                file: shown.clone(),
                line: *line,
                message: message.clone(),
            });
        }
        // 1. Includes.
        for d in &page.directives {
            match d.name.as_str() {
                "include" | "rustdoc_include" | "playground" => {
                    summary.includes += 1;
                    if let Some((file, Some(anchor))) =
                        check_include(&layout, path, d.line, &d.arg, &mut out)
                    {
                        used.insert((file, anchor));
                    }
                }
                "title" => {}
                "libevent" => match arg_citation(&d.arg) {
                    Some((file, function)) => cite(&layout, path, d.line, file, function, &mut out),
                    None => out.push(Diagnostic {
                        file: shown.clone(),
                        line: d.line,
                        message: format!(
                            "`{{{{#libevent {}}}}}`: say which function, as `{{{{#libevent file.c:function}}}}`",
                            d.arg
                        ),
                    }),
                },
                other => out.push(Diagnostic {
                    file: shown.clone(),
                    line: d.line,
                    message: format!(
                        "`{{{{#{other}`: not an mdBook directive; it would show as raw text"
                    ),
                }),
            }
        }
        // 7. Every trace the page shows is annotated, and its annotation is current.
        for fence in page.fences.iter().filter(|f| f.lang == "text") {
            for (n, line) in &fence.body {
                let arg = line
                    .trim()
                    .strip_prefix("{{#include ")
                    .and_then(|l| l.strip_suffix("}}"));
                if let Some(arg) = arg
                    && let Err(message) = annotated::annotated_lines(&root, arg.trim())
                {
                    out.push(Diagnostic {
                        file: shown.clone(),
                        line: *n,
                        message,
                    });
                }
            }
        }
        // 2. Fences.
        for fence in &page.fences {
            if fence.lang.is_empty() {
                out.push(Diagnostic {
                    file: shown.clone(),
                    line: fence.line,
                    message:
                        "code fence without a language: say `rust` or `text` (include-only) or `sh`"
                            .to_string(),
                });
                continue;
            }
            if fence.lang == "rust" || fence.lang == "text" {
                let mut includes = 0;
                for (n, line) in &fence.body {
                    let t = line.trim();
                    if t.is_empty() {
                        continue;
                    }
                    let is_include = (t.starts_with("{{#include ")
                        || t.starts_with("{{#rustdoc_include "))
                        && t.ends_with("}}")
                        && t.matches("{{#").count() == 1;
                    if is_include {
                        includes += 1;
                    } else {
                        out.push(Diagnostic {
                            file: shown.clone(),
                            line: *n,
                            message: format!(
                                "hand-typed line in a ```{} block: `{t}`; {} blocks may only include files (promise 1 and 2)",
                                fence.lang, fence.lang
                            ),
                        });
                    }
                }
                if includes == 0 {
                    out.push(Diagnostic {
                        file: shown.clone(),
                        line: fence.line,
                        message: format!("```{} block without an include", fence.lang),
                    });
                }
            }
        }
        // 4. Links, the chapter's and those of the Markdown files it includes.
        summary.links += check_links(&layout, path, &page, LinkSource::Chapter, &pages, &mut out);
        for d in page
            .directives
            .iter()
            .filter(|d| d.name == "include" && !d.in_fence)
        {
            let (rel, _) = markdown::parse_include(&d.arg);
            if !rel.ends_with(".md") {
                continue;
            }
            let included = path.parent().unwrap_or(Path::new(".")).join(&rel);
            if let Ok(text) = fs::read_to_string(&included) {
                let name = layout.show(&included).display().to_string();
                let source = LinkSource::Included {
                    line: d.line,
                    name: &name,
                };
                summary.links += check_links(
                    &layout,
                    path,
                    &markdown::scan(&text),
                    source,
                    &pages,
                    &mut out,
                );
            }
        }
        // 6. Citations of libevent's functions.
        for c in libevent_c::citations(text) {
            summary.citations += 1;
            cite(&layout, path, c.line, &c.file, &c.function, &mut out);
        }
        // 5. Name map.
        for (i, line) in text.lines().enumerate() {
            if let Some(rest) = line.trim().strip_prefix("<!-- booklint: name-map-of ") {
                let source = rest.trim_end_matches("-->").trim();
                check_name_map(&layout, path, i + 1, source, text, &mut out);
            }
        }
    }

    // Every page is in SUMMARY.md.
    let summary_path = normalize(&book_src.join("SUMMARY.md"));
    let listed: BTreeSet<PathBuf> = markdown::scan(&texts[&summary_path])
        .links
        .iter()
        .map(|l| normalize(&book_src.join(l.target.split('#').next().unwrap_or(""))))
        .collect();
    for path in texts.keys() {
        if *path != summary_path && !listed.contains(path) {
            out.push(Diagnostic {
                file: layout.show(path),
                line: 0,
                message:
                    "this page is not listed in book/src/SUMMARY.md, so mdBook does not build it"
                        .to_string(),
            });
        }
    }

    // 3. Anchors under src/.
    let allowed = read_allow_list(&layout, &mut out);
    let mut defined: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    for file in files_with_ext(&root.join("src"), "rs") {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let found = anchors::scan(&text);
        let shown = layout.show(&file);
        for (line, message) in &found.problems {
            out.push(Diagnostic {
                file: shown.clone(),
                line: *line,
                message: message.clone(),
            });
        }
        let canonical = fs::canonicalize(&file).unwrap_or_else(|_| normalize(&file));
        for anchor in &found.anchors {
            summary.anchors += 1;
            let key = (canonical.clone(), anchor.name.clone());
            let is_used = used.contains(&key);
            let is_allowed = allowed.contains_key(&(normalize(&file), anchor.name.clone()))
                || allowed.contains_key(&key);
            if is_allowed {
                summary.allowed_unused += 1;
            }
            if !is_used && !is_allowed {
                out.push(Diagnostic {
                    file: shown.clone(),
                    line: anchor.line,
                    message: format!(
                        "anchor `{}` is not used by the book: include it in a chapter, or list `{}:{}` with a reason in book/{ALLOW_LIST}",
                        anchor.name,
                        shown.display(),
                        anchor.name
                    ),
                });
            }
            defined.insert(key);
        }
    }
    let allow_path = layout.book.join(ALLOW_LIST);
    for ((file, anchor), line) in &allowed {
        let canonical = fs::canonicalize(file).unwrap_or_else(|_| file.clone());
        let key = (canonical, anchor.clone());
        let mut error = |message: String| {
            out.push(Diagnostic {
                file: layout.show(&allow_path),
                line: *line,
                message,
            });
        };
        if !defined.contains(&key) {
            error(format!(
                "`{}:{anchor}` is listed but no such anchor exists: remove the line",
                layout.show(file).display()
            ));
        } else if used.contains(&key) {
            error(format!(
                "`{}:{anchor}` is listed as unused but the book includes it: remove the line",
                layout.show(file).display()
            ));
        }
    }

    out.sort();
    out.dedup();
    Ok((summary, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throw-away repository: `files` are (path, contents) relative to its root.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str, files: &[(&str, &str)]) -> Fixture {
            let root = std::env::temp_dir().join(format!("booklint-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            for (path, text) in files {
                let p = root.join(path);
                fs::create_dir_all(p.parent().expect("has a parent"))
                    .expect("temp dir is writable");
                fs::write(&p, text).expect("temp dir is writable");
            }
            Fixture(root)
        }

        fn lint(&self) -> Vec<String> {
            let (_, diags) = lint(&self.0.join("book")).expect("is a book");
            diags.iter().map(ToString::to_string).collect()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const SRC: &str = "\
fn a() {}
// ANCHOR: used
fn b() {}
// ANCHOR_END: used
// ANCHOR: spare
fn c() {}
// ANCHOR_END: spare
";

    fn chapter(include: &str) -> String {
        format!(
            "# One\n\n```rust\n{{{{#include ../../src/lib.rs:{include}}}}}\n```\n\nSee [two](two.md#second-part).\n"
        )
    }

    fn book(include: &str, allow: &str) -> Vec<(String, String)> {
        vec![
            (
                "book/src/SUMMARY.md".into(),
                "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n".into(),
            ),
            ("book/src/one.md".into(), chapter(include)),
            ("book/src/two.md".into(), "# Two\n\n## Second part\n".into()),
            ("book/unused-anchors.txt".into(), allow.into()),
            ("src/lib.rs".into(), SRC.into()),
        ]
    }

    fn fixture(name: &str, files: &[(String, String)]) -> Fixture {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        Fixture::new(name, &refs)
    }

    #[test]
    fn a_correct_book_is_clean() {
        let f = fixture(
            "clean",
            &book("used", "src/lib.rs:spare  shown in a later chapter\n"),
        );
        assert_eq!(f.lint(), Vec::<String>::new());
    }

    #[test]
    fn a_broken_anchor_names_the_chapter_line_and_anchor() {
        let f = fixture("broken", &book("usde", "src/lib.rs:spare  later\n"));
        let errors = f.lint();
        assert!(
            errors.iter().any(|e| e.starts_with("book/src/one.md:4: include `../../src/lib.rs:usde`: anchor `usde` does not occur in src/lib.rs")
                && e.contains("its anchors: used, spare")),
            "{errors:#?}"
        );
        // ...and `used` is now unused.
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("src/lib.rs:2: anchor `used` is not used")),
            "{errors:#?}"
        );
    }

    #[test]
    fn unused_anchors_and_stale_allow_list_entries() {
        let f = fixture(
            "unused",
            &book(
                "used",
                "src/lib.rs:used  oops\nsrc/lib.rs:gone  old\nsrc/lib.rs:spare\n",
            ),
        );
        let errors = f.lint();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("unused-anchors.txt:1:") && e.contains("the book includes it")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("unused-anchors.txt:2:") && e.contains("no such anchor")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("unused-anchors.txt:3:") && e.contains("needs a reason")),
            "{errors:#?}"
        );
    }

    #[test]
    fn hand_typed_rust_and_bad_links_are_errors() {
        let mut files = book("used", "src/lib.rs:spare  later\n");
        files[1].1 = "# One\n\n```rust\nfn main() {}\n{{#include ../../src/lib.rs:used}}\n```\n\n```\nplain\n```\n\n[x](two.md#nope) [y](three.md) [z](../../README.md)\n".into();
        let f = fixture("typed", &files);
        let errors = f.lint();
        let expect = [
            "book/src/one.md:4: hand-typed line in a ```rust block: `fn main() {}`",
            "book/src/one.md:8: code fence without a language",
            "book/src/one.md:12: link `two.md#nope`: book/src/two.md has no heading with id `nope`",
            "book/src/one.md:12: link `three.md`",
            "book/src/one.md:12: link `../../README.md` leaves book/src",
        ];
        for e in expect {
            assert!(
                errors.iter().any(|x| x.starts_with(e)),
                "missing {e:?} in {errors:#?}"
            );
        }
    }

    #[test]
    fn trace_headers_must_not_leak() {
        let mut files = book("used", "src/lib.rs:spare  later\n");
        files.push(("traces/a.snap".into(), "---\nsource: x\n---\nline\n".into()));
        files.push(("traces/b.trace".into(), "# h1\n# h2\nline\n".into()));
        files.push((
            "book/src/two.md".into(),
            "# Two\n\n## Second part\n\n```text\n{{#include ../../traces/a.snap:4:}}\n{{#include ../../traces/a.snap:3:}}\n{{#include ../../traces/b.trace:3:}}\n{{#include ../../traces/b.trace:1:2}}\n{{#include ../../traces/b.trace}}\n{{#include ../../traces/missing.snap:4:}}\n```\n".into(),
        ));
        let f = fixture("traces", &files);
        let errors: Vec<String> = f
            .lint()
            .into_iter()
            .filter(|e| e.starts_with("book/src/two.md"))
            .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].starts_with("book/src/two.md:7: include `../../traces/a.snap:3:`")
                && errors[0].contains("`../../traces/a.snap:4:`"),
            "{errors:#?}"
        );
        assert!(
            errors[1].starts_with(
                "book/src/two.md:10: include `../../traces/b.trace` takes the whole file"
            ),
            "{errors:#?}"
        );
        assert!(errors[2].starts_with("book/src/two.md:11: include `../../traces/missing.snap:4:`: file `../../traces/missing.snap` not found"), "{errors:#?}");
    }

    #[test]
    fn pages_missing_from_summary() {
        let mut files = book("used", "src/lib.rs:spare  later\n");
        files.push(("book/src/orphan.md".into(), "# Orphan\n".into()));
        let f = fixture("orphan", &files);
        assert!(
            f.lint()
                .iter()
                .any(|e| e.starts_with("book/src/orphan.md: this page is not listed"))
        );
    }

    #[test]
    fn links_of_included_markdown_resolve_from_the_chapter() {
        let mut files = book("used", "src/lib.rs:spare  later\n");
        files.push((
            "traces/NOTES.md".into(),
            "# Notes\n\nSee [scenarios](SCENARIOS.md) and [two](two.md).\n".into(),
        ));
        files[2].1 = "# Two\n\n## Second part\n\n{{#include ../../traces/NOTES.md}}\n".into();
        let f = fixture("included", &files);
        let errors = f.lint();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("book/src/two.md:5: in traces/NOTES.md (line 3), rendered into this page: link `SCENARIOS.md`"),
            "{errors:#?}"
        );
    }

    #[test]
    fn the_name_map_must_list_every_libevent_name() {
        let mut files = book("used", "src/lib.rs:spare  later\n");
        files[4].1 = format!(
            "//! | libevent | minievent |\n//! |---|---|\n//! | `event_add`, `event_del` | `Base::event_add` |\n//! | `event_base_new[_with_config]`, `_get_features` | x |\n{SRC}"
        );
        files[2].1 = "# Two\n\n## Second part\n\n<!-- booklint: name-map-of src/lib.rs -->\n\n| `event_add` | `event_base_new`, `event_base_get_features` |\n".into();
        let f = fixture("namemap", &files);
        let errors = f.lint();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("book/src/two.md:5: the name map lacks `event_del`"),
            "{errors:#?}"
        );
    }
}
