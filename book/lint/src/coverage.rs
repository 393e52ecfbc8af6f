//! The book's appendix E, "libevent's API, covered": one row per function libevent 2.1.12 exports
//! from `event2/event.h`, `bufferevent.h`, `buffer.h` and `listener.h`, generated — never typed.
//!
//! Three files take part, all relative to the book's directory:
//!
//! - [`API_LIST`] (`coverage/libevent-api.txt`): the functions, `header function` per line, in the
//!   headers' order. Extracted once from the headers by [`extract`] (`--extract DIR`): every
//!   declaration after an `EVENT2_EXPORT_SYMBOL` marker.
//! - [`MAP`] (`coverage/map.txt`): one hand-kept row per function,
//!   `function | status | minievent items | tests | note`, where status is `implemented`, `n/a`
//!   or `not yet`. An implemented row names the items (`Type::method`, `module::function`, or
//!   `impl Trait for Type`) and the tests (`path/under/src.rs::test_name`) that exercise it; a
//!   `n/a` row says why in its note.
//! - [`APPENDIX`] (`src/appendix-e-api-coverage.md`): what [`render`] makes of the two.
//!
//! [`check`] holds the map to the code: every item of a row must be a `pub fn` in an `impl` block
//! of that type (or a top-level `pub fn` of that module) under `src/` outside test code, every test
//! a `#[test]` function (or a name in a `per_backend!` list) in that file, in `src/tests/` or a
//! `#[cfg(test)]` module. Every function of the list has exactly one row, and every row a function
//! of the list. Each error names the map's line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Diagnostic;

/// The headers whose exported functions are covered, in the appendix's order.
pub const HEADERS: [&str; 4] = ["event.h", "bufferevent.h", "buffer.h", "listener.h"];
/// The list of functions, relative to the book's directory.
pub const API_LIST: &str = "coverage/libevent-api.txt";
/// The hand-kept rows, relative to the book's directory.
pub const MAP: &str = "coverage/map.txt";
/// The generated page, relative to the book's directory.
pub const APPENDIX: &str = "src/appendix-e-api-coverage.md";
/// The command that regenerates the appendix.
pub const REGENERATE: &str = "just coverage";

/// One exported function of libevent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFn {
    /// `event.h`, ...
    pub header: String,
    /// `event_base_new`, ...
    pub name: String,
}

/// What minievent does about one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// An item implements it and a test exercises it.
    Implemented,
    /// It has no place in a Rust library (the note says why).
    NotApplicable,
    /// Not built yet.
    NotYet,
}

impl Status {
    fn parse(word: &str) -> Option<Status> {
        match word {
            "implemented" => Some(Status::Implemented),
            "n/a" => Some(Status::NotApplicable),
            "not yet" => Some(Status::NotYet),
            _ => None,
        }
    }

    /// The word the appendix shows.
    pub fn label(self) -> &'static str {
        match self {
            Status::Implemented => "implemented",
            Status::NotApplicable => "not applicable",
            Status::NotYet => "not yet",
        }
    }
}

/// One row of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the map file.
    pub line: usize,
    /// The libevent function.
    pub function: String,
    /// Implemented, not applicable, not yet.
    pub status: Status,
    /// The minievent items (`Base::event_add`, `util::dup`, `impl Drop for Base`).
    pub items: Vec<String>,
    /// The tests, `path/under/src.rs::name`.
    pub tests: Vec<String>,
    /// Why (n/a), what is missing (not yet), or a remark (implemented).
    pub note: String,
}

/// The function names declared after each `EVENT2_EXPORT_SYMBOL` of a header, in order.
pub fn extract_header(text: &str) -> Vec<String> {
    let text = strip_comments(text);
    let mut out = Vec::new();
    let marker = "EVENT2_EXPORT_SYMBOL";
    let mut rest = text.as_str();
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let end = rest.find([';', '{']).unwrap_or(rest.len());
        let decl = &rest[..end];
        if let Some(paren) = decl.find('(') {
            let name: String = decl[..paren]
                .trim_end()
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// `text` without its `/* */` and `//` comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                rest = rest[b + 2..]
                    .find("*/")
                    .map_or("", |e| &rest[b + 2 + e + 2..]);
                out.push(' ');
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |e| &rest[l + e..]);
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// The API list's text, from the headers in `dir`: libevent's source directory, its `include/`,
/// or the `event2/` directory itself.
pub fn extract(dir: &Path) -> Result<String, String> {
    let event2 = [dir.join("include/event2"), dir.join("event2"), dir.to_path_buf()]
        .into_iter()
        .find(|d| d.join("event.h").is_file())
        .ok_or_else(|| {
            format!(
                "{}: no event.h there, nor in include/event2/ or event2/ below it \
                 (`just libevent-src` unpacks libevent 2.1.12 into libevent-src/libevent-2.1.12-stable)",
                dir.display()
            )
        })?;
    let mut out = String::from(
        "# The functions libevent 2.1.12 exports (EVENT2_EXPORT_SYMBOL) from event2/event.h,\n\
         # bufferevent.h, buffer.h and listener.h: `header function`, in the headers' order.\n\
         # Generated: `just libevent-src`, then\n\
         # `cargo run -q -p minievent-booklint --bin api-coverage -- book --extract libevent-src/libevent-2.1.12-stable`.\n",
    );
    for header in HEADERS {
        let path = event2.join(header);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let names = extract_header(&text);
        if names.is_empty() {
            return Err(format!(
                "{}: no EVENT2_EXPORT_SYMBOL declaration",
                path.display()
            ));
        }
        for name in names {
            let _ = writeln!(out, "{header} {name}");
        }
    }
    Ok(out)
}

/// Reads the API list; errors name the file and line.
pub fn parse_api_list(file: &Path, text: &str) -> Result<Vec<ApiFn>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut words = l.split_whitespace();
        let (Some(header), Some(name), None) = (words.next(), words.next(), words.next()) else {
            errors.push(diag(
                file,
                line_no,
                format!("`{l}`: expected `header function`"),
            ));
            continue;
        };
        if !HEADERS.contains(&header) {
            errors.push(diag(
                file,
                line_no,
                format!("`{header}` is not one of the covered headers {HEADERS:?}"),
            ));
            continue;
        }
        if !seen.insert(name.to_string()) {
            errors.push(diag(file, line_no, format!("`{name}` is listed twice")));
            continue;
        }
        out.push(ApiFn {
            header: header.to_string(),
            name: name.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn diag(file: &Path, line: usize, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_path_buf(),
        line,
        message,
    }
}

fn split_list(field: &str) -> Vec<String> {
    field
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads the map: `function | status | items | tests | note` per line, `#` comments. Only the
/// form is checked here; [`check`] holds the rows to the list and the code.
pub fn parse_map(file: &Path, text: &str) -> Result<Vec<Row>, Vec<Diagnostic>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split('|').map(str::trim).collect();
        if fields.len() != 5 {
            errors.push(diag(
                file,
                line_no,
                format!(
                    "expected 5 fields `function | status | items | tests | note`, found {}",
                    fields.len()
                ),
            ));
            continue;
        }
        let function = fields[0].to_string();
        let Some(status) = Status::parse(fields[1]) else {
            errors.push(diag(
                file,
                line_no,
                format!(
                    "{function}: status `{}` is none of `implemented`, `n/a`, `not yet`",
                    fields[1]
                ),
            ));
            continue;
        };
        let row = Row {
            line: line_no,
            function,
            status,
            items: split_list(fields[2]),
            tests: split_list(fields[3]),
            note: fields[4].to_string(),
        };
        let problem = match row.status {
            Status::Implemented if row.items.is_empty() => {
                Some("an implemented row names the minievent item that implements it")
            }
            Status::Implemented if row.tests.is_empty() => {
                Some("an implemented row names a test that exercises it")
            }
            Status::NotApplicable if row.note.is_empty() => {
                Some("a `n/a` row says, in its note, why the function has no place in Rust")
            }
            Status::NotApplicable | Status::NotYet if !row.tests.is_empty() => {
                Some("only an implemented row names tests")
            }
            Status::NotYet if !row.items.is_empty() => {
                Some("a `not yet` row names no item (mark it implemented once it exists)")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            errors.push(diag(file, line_no, format!("{}: {problem}", row.function)));
            continue;
        }
        rows.push(row);
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// What `src/` defines: the items and the tests a map row may name.
#[derive(Debug, Default)]
pub struct CodeIndex {
    /// `Type::method` / `module::function` → `true` when it is `pub`.
    pub fns: BTreeMap<String, bool>,
    /// `impl Trait for Type`, as written after `impl` (generics left out).
    pub impls: BTreeSet<String>,
    /// `path/under/src.rs::name` of every test.
    pub tests: BTreeSet<String>,
}

/// The Rust module path of a file under `src/`: `util.rs` → `util`, `backend/epoll.rs` →
/// `backend::epoll`, `backend/mod.rs` → `backend`, `lib.rs` → `crate`.
fn module_path(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        return "crate".to_string();
    }
    parts.join("::")
}

/// `fn NAME` at the start of `line` (after visibility and qualifiers): (name, is `pub`).
fn fn_name(line: &str) -> Option<(String, bool)> {
    let mut rest = line.trim_start();
    let mut public = false;
    if let Some(r) = rest.strip_prefix("pub ") {
        public = true;
        rest = r;
    } else if rest.starts_with("pub(") {
        rest = &rest[rest.find(')')? + 1..];
        rest = rest.trim_start();
    }
    for q in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(q).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some((name, public))
}

/// The type an `impl` line is for, and the `impl Trait for Type` form when it has a trait.
fn impl_target(line: &str) -> Option<(String, Option<String>)> {
    let mut rest = line.strip_prefix("impl")?;
    if rest.starts_with('<') {
        let mut depth = 0;
        let end = rest.char_indices().find_map(|(i, c)| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        })?;
        rest = &rest[end + 1..];
    } else if !rest.starts_with(' ') {
        return None;
    }
    let head = rest.split('{').next()?.trim();
    let head = head.split(" where").next()?.trim();
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect()
    };
    match head.split_once(" for ") {
        Some((tr, ty)) => {
            let (tr, ty) = (ident(tr), ident(ty));
            Some((ty.clone(), Some(format!("impl {tr} for {ty}"))))
        }
        None => Some((ident(head), None)),
    }
}

/// Is the function declared after `lines[..i]` marked `#[test]` (attributes and doc comments
/// between are skipped)?
fn has_test_attribute(lines: &[&str], i: usize) -> bool {
    lines[..i]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("#[") || l.starts_with("///") || l.starts_with("//"))
        .any(|l| l == "#[test]")
}

impl CodeIndex {
    /// Reads every `.rs` file under `src` (the crate's `src/`).
    pub fn scan(src: &Path) -> Result<CodeIndex, String> {
        let mut index = CodeIndex::default();
        for path in crate::files_with_ext(src, "rs") {
            let rel = path.strip_prefix(src).unwrap_or(&path).to_path_buf();
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            index.add_file(&rel, &text);
        }
        Ok(index)
    }

    /// Adds one file, `rel` being its path under `src/`.
    pub fn add_file(&mut self, rel: &Path, text: &str) {
        let shown = rel.to_string_lossy().replace('\\', "/");
        let lines: Vec<&str> = text.lines().collect();
        let in_bin = rel.starts_with("bin");
        let all_test = rel.starts_with("tests");
        let module = module_path(rel);
        let mut in_test = all_test;
        let mut impl_type: Option<String> = None;
        let mut fn_names = BTreeSet::new();
        let mut listed = Vec::new();
        let mut in_list = false;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                in_test = true;
            }
            if in_test {
                if let Some((name, _)) = fn_name(line) {
                    if has_test_attribute(&lines, i) {
                        self.tests.insert(format!("{shown}::{name}"));
                    }
                    fn_names.insert(name);
                }
                if line.starts_with("per_backend!(") {
                    in_list = true;
                } else if in_list {
                    if line.trim_start().starts_with(')') {
                        in_list = false;
                    } else {
                        listed.extend(
                            line.split(',')
                                .map(str::trim)
                                .filter(|w| !w.is_empty())
                                .map(str::to_string),
                        );
                    }
                }
                continue;
            }
            if in_bin {
                continue;
            }
            if let Some((ty, trait_form)) = impl_target(line) {
                impl_type = Some(ty);
                if let Some(form) = trait_form {
                    self.impls.insert(form);
                }
                continue;
            }
            if line.starts_with('}') {
                impl_type = None;
                continue;
            }
            let top = !line.starts_with(' ');
            let method = line.starts_with("    ") && !line.starts_with("     ");
            match (&impl_type, fn_name(line)) {
                (Some(ty), Some((name, public))) if method => {
                    self.fns.insert(format!("{ty}::{name}"), public);
                }
                (None, Some((name, public))) if top => {
                    self.fns.insert(format!("{module}::{name}"), public);
                }
                _ => {}
            }
        }
        for name in listed {
            if fn_names.contains(&name) {
                self.tests.insert(format!("{shown}::{name}"));
            }
        }
    }

    /// Why `item` is not something a row may name, if it is not.
    fn item_problem(&self, item: &str) -> Option<String> {
        if item.starts_with("impl ") {
            return (!self.impls.contains(item))
                .then(|| format!("minievent item `{item}` not found: no such impl line in src/"));
        }
        match self.fns.get(item) {
            Some(true) => None,
            Some(false) => Some(format!(
                "minievent item `{item}` is not `pub`: the table names public API"
            )),
            None => {
                let (owner, name) = item.rsplit_once("::").unwrap_or(("?", item));
                Some(format!(
                    "minievent item `{item}` not found: no `fn {name}` in an `impl {owner}` block \
                     (or module `{owner}`) under src/"
                ))
            }
        }
    }
}

/// Holds the rows to the API list and the code. Errors name the map file's line (line 0 for a
/// function of the list that has no row).
pub fn check(map_file: &Path, api: &[ApiFn], rows: &[Row], code: &CodeIndex) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let known: BTreeMap<&str, &ApiFn> = api.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut first_row: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        let mut error = |message: String| {
            out.push(diag(
                map_file,
                row.line,
                format!("{}: {message}", row.function),
            ));
        };
        if !known.contains_key(row.function.as_str()) {
            error(format!(
                "not a function of the API list ({API_LIST}); a typo, or the list needs re-extracting"
            ));
        }
        if let Some(first) = first_row.insert(&row.function, row.line) {
            error(format!("a second row for it (the first is line {first})"));
        }
        for item in &row.items {
            if let Some(problem) = code.item_problem(item) {
                error(problem);
            }
        }
        for test in &row.tests {
            if !code.tests.contains(test) {
                let (file, name) = test.rsplit_once("::").unwrap_or((test, "?"));
                error(format!(
                    "test `{test}` not found: no `#[test] fn {name}` (nor `{name}` in a \
                     `per_backend!` list) in src/{file}"
                ));
            }
        }
    }
    for f in api {
        if !first_row.contains_key(f.name.as_str()) {
            out.push(diag(
                map_file,
                0,
                format!(
                    "{} ({}) has no row: add `{} | not yet | | |` (or what it is)",
                    f.name, f.header, f.name
                ),
            ));
        }
    }
    out
}

/// Implemented / not applicable / not yet, for one header.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Rows with status implemented.
    pub implemented: usize,
    /// Rows with status n/a.
    pub not_applicable: usize,
    /// Rows with status not yet.
    pub not_yet: usize,
}

impl Totals {
    fn add(&mut self, status: Status) {
        match status {
            Status::Implemented => self.implemented += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::NotYet => self.not_yet += 1,
        }
    }

    /// All rows counted.
    pub fn all(&self) -> usize {
        self.implemented + self.not_applicable + self.not_yet
    }
}

/// Each header and its totals.
pub type PerHeader = Vec<(&'static str, Totals)>;

/// The totals per header, in [`HEADERS`] order (rows of functions not in `api` are not counted).
pub fn totals(api: &[ApiFn], rows: &[Row]) -> PerHeader {
    let by_name: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.function.as_str(), r)).collect();
    HEADERS
        .iter()
        .map(|h| {
            let mut t = Totals::default();
            for f in api.iter().filter(|f| f.header == *h) {
                if let Some(row) = by_name.get(f.name.as_str()) {
                    t.add(row.status);
                }
            }
            (*h, t)
        })
        .collect()
}

/// `a, b` → `` `a`, `b` ``.
fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The appendix page: a function of the list and its row only (output depends on nothing else).
pub fn render(api: &[ApiFn], rows: &[Row]) -> String {
    let by_name: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.function.as_str(), r)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- Generated by `{REGENERATE}` from book/{API_LIST} and book/{MAP}: do not edit this \
         file. Edit the map, then run `{REGENERATE}`; `just ci` fails when this page is stale. -->\n"
    );
    out.push_str(
        "# E. libevent's API, covered\n\n\
         Every function libevent 2.1.12 exports from the four headers this book reads —\n\
         `event2/event.h`, `event2/bufferevent.h`, `event2/buffer.h` and `event2/listener.h`, each\n\
         declaration marked `EVENT2_EXPORT_SYMBOL` — has one row here: the minievent item that\n\
         implements it and a test that exercises it, or why it has no place in a Rust library, or\n\
         \"not yet\".\n\n\
         This page is generated, not typed. The list of functions (`book/coverage/libevent-api.txt`)\n\
         was extracted from the headers; the rows come from `book/coverage/map.txt`, and the\n\
         generator checks each implemented row against the code: every item must be a public\n\
         function of `src/` and every test a test function, in the file the row names. A row that\n\
         names something that does not exist fails `just ci`, and so does this page when it differs\n\
         from what the map renders. Tests are named by their file under `src/`; a test of\n\
         `tests/*.rs` runs on each backend when the file lists it in `per_backend!`.\n\n\
         ## Totals\n\n\
         | header | functions | implemented | not applicable | not yet |\n\
         |---|--:|--:|--:|--:|\n",
    );
    let per_header = totals(api, rows);
    let mut sum = Totals::default();
    for (header, t) in &per_header {
        let _ = writeln!(
            out,
            "| `{header}` | {} | {} | {} | {} |",
            t.all(),
            t.implemented,
            t.not_applicable,
            t.not_yet
        );
        sum.implemented += t.implemented;
        sum.not_applicable += t.not_applicable;
        sum.not_yet += t.not_yet;
    }
    let _ = writeln!(
        out,
        "| all | {} | {} | {} | {} |",
        sum.all(),
        sum.implemented,
        sum.not_applicable,
        sum.not_yet
    );
    for header in HEADERS {
        let _ = write!(
            out,
            "\n## {header}\n\n\
             | libevent | status | minievent | tested by, or why not |\n\
             |---|---|---|---|\n"
        );
        for f in api.iter().filter(|f| f.header == header) {
            let Some(row) = by_name.get(f.name.as_str()) else {
                let _ = writeln!(out, "| `{}` | no row | | |", f.name);
                continue;
            };
            let items = code_list(&row.items);
            let last = match row.status {
                Status::Implemented => {
                    let tests = row
                        .tests
                        .iter()
                        .map(|t| match t.rsplit_once("::") {
                            Some((file, name)) => format!("`{name}` ({file})"),
                            None => format!("`{t}`"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    if row.note.is_empty() {
                        tests
                    } else {
                        format!("{tests}. {}", row.note)
                    }
                }
                Status::NotApplicable | Status::NotYet => row.note.clone(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                f.name,
                row.status.label(),
                items,
                last
            );
        }
    }
    out
}

/// The paths of the three files for a book directory.
pub struct Files {
    /// [`API_LIST`] under the book.
    pub api_list: PathBuf,
    /// [`MAP`] under the book.
    pub map: PathBuf,
    /// [`APPENDIX`] under the book.
    pub appendix: PathBuf,
    /// The crate's `src/` (the book's sibling).
    pub src: PathBuf,
}

impl Files {
    /// The files of the book in `book`.
    pub fn of(book: &Path) -> Files {
        // Canonical first: the parent of `x/..` is `x`, not the directory above it.
        let canonical = fs::canonicalize(book).unwrap_or_else(|_| book.to_path_buf());
        let root = match canonical.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Files {
            api_list: book.join(API_LIST),
            map: book.join(MAP),
            appendix: book.join(APPENDIX),
            src: root.join("src"),
        }
    }
}

/// Reads the list and the map, checks them against `src/`: the rendered page, the totals, or
/// the errors (an unreadable file is an error too).
pub fn build(book: &Path) -> Result<(String, PerHeader), Vec<Diagnostic>> {
    let files = Files::of(book);
    let read = |p: &Path| {
        fs::read_to_string(p).map_err(|e| vec![diag(p, 0, format!("cannot read it: {e}"))])
    };
    let api_text = read(&files.api_list)?;
    let map_text = read(&files.map)?;
    let api = parse_api_list(&files.api_list, &api_text)?;
    let rows = parse_map(&files.map, &map_text)?;
    let code = CodeIndex::scan(&files.src).map_err(|e| vec![diag(&files.src, 0, e)])?;
    let errors = check(&files.map, &api, &rows, &code);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((render(&api, &rows), totals(&api, &rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\
/** @file event2/event.h  EVENT2_EXPORT_SYMBOL in a comment is not a declaration(x); */
EVENT2_EXPORT_SYMBOL
struct event_base *event_base_new(void);
EVENT2_EXPORT_SYMBOL
int event_add(struct event *ev, const struct timeval *timeout);
// EVENT2_EXPORT_SYMBOL int commented_out(void);
EVENT2_EXPORT_SYMBOL
void event_set_mem_functions(
	void *(*malloc_fn)(size_t sz),
	void (*free_fn)(void *ptr));
EVENT2_EXPORT_SYMBOL
const char *event_get_version(void);
";

    const SRC_BASE: &str = "\
pub struct Base;

impl Base {
    /// libevent: event_base_new().
    pub fn new() -> Base {
        fn helper() {}
        Base
    }

    pub(crate) fn internal(&self) {}
}

impl Drop for Base {
    fn drop(&mut self) {}
}

pub fn version() -> &'static str {
    \"2.1.12\"
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_makes_a_base() {}

    pub fn not_a_test() {}
}
";

    const SRC_TESTS: &str = "\
per_backend!(
    adds_an_event,
    removes_an_event,
);

fn adds_an_event(method: &str) {}

#[test]
#[ignore]
fn alone() {}
";

    fn api() -> Vec<ApiFn> {
        ["event_base_new", "event_add", "event_get_version"]
            .into_iter()
            .map(|n| ApiFn {
                header: "event.h".to_string(),
                name: n.to_string(),
            })
            .collect()
    }

    fn code() -> CodeIndex {
        let mut code = CodeIndex::default();
        code.add_file(Path::new("base.rs"), SRC_BASE);
        code.add_file(Path::new("tests/events.rs"), SRC_TESTS);
        code
    }

    fn errors(map: &str) -> Vec<String> {
        let file = Path::new("book/coverage/map.txt");
        match parse_map(file, map) {
            Err(e) => e.iter().map(ToString::to_string).collect(),
            Ok(rows) => check(file, &api(), &rows, &code())
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    const GOOD: &str = "\
# comment
event_base_new | implemented | Base::new, impl Drop for Base | base.rs::new_makes_a_base | the note
event_add | implemented | base::version | tests/events.rs::adds_an_event, tests/events.rs::alone |
event_get_version | n/a | | | a constant in Rust
";

    #[test]
    fn extracts_the_exported_functions_in_order() {
        assert_eq!(
            extract_header(HEADER),
            [
                "event_base_new",
                "event_add",
                "event_set_mem_functions",
                "event_get_version"
            ]
        );
    }

    #[test]
    fn a_good_map_passes() {
        assert_eq!(errors(GOOD), Vec::<String>::new());
    }

    #[test]
    fn a_missing_item_is_an_error_naming_the_row() {
        let map = GOOD.replace("Base::new,", "Base::nwe,");
        assert_eq!(
            errors(&map),
            [
                "book/coverage/map.txt:2: event_base_new: minievent item `Base::nwe` not found: \
              no `fn nwe` in an `impl Base` block (or module `Base`) under src/"
            ]
        );
        // A function nested in a method, a private one, and a trait impl that is not there.
        for (item, why) in [
            ("Base::helper", "not found"),
            ("Base::internal", "is not `pub`"),
            ("impl Clone for Base", "no such impl line"),
            ("tests::not_a_test", "not found"),
        ] {
            let e = errors(&GOOD.replace("Base::new,", &format!("{item},")));
            assert_eq!(e.len(), 1, "{item}: {e:?}");
            assert!(e[0].starts_with("book/coverage/map.txt:2: event_base_new: "));
            assert!(e[0].contains(why), "{item}: {e:?}");
        }
    }

    #[test]
    fn a_missing_test_is_an_error_naming_the_row() {
        for test in [
            "tests/events.rs::removes_an_event", // listed, but no fn
            "tests/events.rs::nope",
            "base.rs::not_a_test",      // a fn of a test module without #[test]
            "tests/loop.rs::alone",     // the right name in the wrong file
            "tests/events.rs::alone::", // malformed
        ] {
            let e = errors(&GOOD.replace("tests/events.rs::alone", test));
            assert_eq!(e.len(), 1, "{test}: {e:?}");
            assert!(
                e[0].starts_with("book/coverage/map.txt:3: event_add: test `"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn every_function_has_exactly_one_row_of_the_list() {
        let map = GOOD.replace("event_get_version | n/a | | | a constant in Rust\n", "");
        assert_eq!(
            errors(&map),
            [
                "book/coverage/map.txt: event_get_version (event.h) has no row: add \
              `event_get_version | not yet | | |` (or what it is)"
            ]
        );
        let map = format!("{GOOD}event_add | not yet | | |\nevent_frob | not yet | | |\n");
        assert_eq!(
            errors(&map),
            [
                "book/coverage/map.txt:5: event_add: a second row for it (the first is line 3)",
                "book/coverage/map.txt:6: event_frob: not a function of the API list \
                 (coverage/libevent-api.txt); a typo, or the list needs re-extracting",
            ]
        );
    }

    #[test]
    fn malformed_rows_are_errors_naming_the_row() {
        for (bad, why) in [
            ("event_add | done | | |", "status `done`"),
            (
                "event_add | implemented | | base.rs::new_makes_a_base |",
                "names the minievent item",
            ),
            ("event_add | implemented | Base::new | |", "names a test"),
            ("event_add | n/a | | |", "why"),
            ("event_add | not yet | Base::new | |", "names no item"),
            ("event_add | implemented | Base::new", "expected 5 fields"),
        ] {
            let map = GOOD.replace(
                "event_add | implemented | base::version | tests/events.rs::adds_an_event, tests/events.rs::alone |",
                bad,
            );
            let e = errors(&map);
            assert_eq!(e.len(), 1, "{bad}: {e:?}");
            assert!(e[0].starts_with("book/coverage/map.txt:3: "), "{e:?}");
            assert!(e[0].contains(why), "{bad}: {e:?}");
        }
    }

    #[test]
    fn the_render_is_deterministic_and_follows_the_list() {
        let file = Path::new("map.txt");
        let rows = parse_map(file, GOOD).expect("parses");
        let mut reversed = rows.clone();
        reversed.reverse();
        let page = render(&api(), &rows);
        assert_eq!(page, render(&api(), &rows));
        assert_eq!(page, render(&api(), &reversed), "row order does not matter");
        assert!(page.starts_with("<!-- Generated by `just coverage`"));
        assert!(page.contains("| `event.h` | 3 | 2 | 1 | 0 |"), "{page}");
        assert!(page.contains("| all | 3 | 2 | 1 | 0 |"), "{page}");
        let new = page.find("| `event_base_new` | implemented | `Base::new`, `impl Drop for Base` | `new_makes_a_base` (base.rs). the note |");
        let add = page.find("| `event_add` | implemented | `base::version` | `adds_an_event` (tests/events.rs), `alone` (tests/events.rs) |");
        let version = page.find("| `event_get_version` | not applicable |  | a constant in Rust |");
        assert!(
            new.is_some() && add.is_some() && version.is_some(),
            "{page}"
        );
        assert!(new < add && add < version, "the list's order: {page}");
    }

    #[test]
    fn the_committed_list_has_191_functions_and_every_one_has_a_row() {
        let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let files = Files::of(&book);
        let text = fs::read_to_string(&files.api_list).expect("the committed list");
        let api = parse_api_list(&files.api_list, &text).expect("parses");
        let count = |h: &str| api.iter().filter(|f| f.header == h).count();
        assert_eq!(
            [
                count("event.h"),
                count("bufferevent.h"),
                count("buffer.h"),
                count("listener.h")
            ],
            [69, 62, 51, 9]
        );
        if let Err(errors) = build(&book) {
            panic!(
                "{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}
