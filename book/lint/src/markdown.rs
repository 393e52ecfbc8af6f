//! What the linter reads in a chapter: fenced code blocks, mdBook's `{{#...}}` directives,
//! links and headings. A line scanner, not a Markdown parser: it knows exactly as much
//! CommonMark as the book uses (fences, ATX headings, inline links, reference definitions,
//! `src=` / `href=` / `id=` attributes in raw HTML).

/// A fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The first word of the info string (`rust` for ```` ```rust,ignore ````), empty if none.
    pub lang: String,
    /// The lines between the fences, with their 1-based line numbers.
    pub body: Vec<(usize, String)>,
}

/// An mdBook directive: `{{#include path:anchor}}`, `{{#rustdoc_include ...}}`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// 1-based line.
    pub line: usize,
    /// `include`, `rustdoc_include`, `playground`, `title`, ...
    pub name: String,
    /// The first whitespace-separated word after the name: `path`, `path:anchor`, `path:N:M`.
    pub arg: String,
    /// Whether it stands inside a fenced code block.
    pub in_fence: bool,
}

/// What part of a file an include takes, as mdBook reads `path[:a[:b]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The whole file.
    Whole,
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
    /// Lines `start..=end`, 1-based; `None` is open.
    Lines {
        /// First line (1-based), `None` for "from the start".
        start: Option<usize>,
        /// Last line (1-based, inclusive), `None` for "to the end".
        end: Option<usize>,
    },
}

/// Splits an include argument into the path and the part, exactly as mdBook does
/// (`parse_range_or_anchor` in mdBook's links preprocessor): a first field that is a number
/// or empty starts a line range, anything else is an anchor name; `path:N` alone is line N.
pub fn parse_include(arg: &str) -> (String, Part) {
    let mut fields = arg.splitn(3, ':');
    let path = fields.next().unwrap_or("").to_string();
    let first = fields.next();
    let second = fields.next();
    let part = match first {
        None => Part::Whole,
        Some(f) => match f.parse::<usize>() {
            Ok(start) => match second.map(str::parse::<usize>) {
                None => Part::Lines {
                    start: Some(start),
                    end: Some(start),
                },
                Some(Ok(end)) => Part::Lines {
                    start: Some(start),
                    end: Some(end),
                },
                Some(Err(_)) => Part::Lines {
                    start: Some(start),
                    end: None,
                },
            },
            Err(_) if f.is_empty() => match second.map(str::parse::<usize>) {
                Some(Ok(end)) => Part::Lines {
                    start: None,
                    end: Some(end),
                },
                _ => Part::Whole,
            },
            Err(_) => Part::Anchor(f.to_string()),
        },
    };
    (path, part)
}

/// A link target found in the text: `[x](target)`, `![x](target)`, `[x]: target`,
/// `src="target"`, `href="target"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// 1-based line.
    pub line: usize,
    /// The target as written (without a title).
    pub target: String,
}

/// An ATX heading and the id mdBook gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1-based line.
    pub line: usize,
    /// The `id` of the rendered `<hN>`.
    pub id: String,
}

/// Everything the checks need from one Markdown file.
#[derive(Debug, Default, Clone)]
pub struct Page {
    /// Fenced code blocks.
    pub fences: Vec<Fence>,
    /// `{{#...}}` directives, in and out of fences.
    pub directives: Vec<Directive>,
    /// Problems found while scanning (an unterminated `{{#`, an unclosed fence).
    pub problems: Vec<(usize, String)>,
    /// Links outside fences.
    pub links: Vec<Link>,
    /// ATX headings outside fences, with mdBook's ids (duplicates numbered).
    pub headings: Vec<Heading>,
    /// Ids given by raw HTML (`id="..."`) outside fences.
    pub html_ids: Vec<String>,
}

impl Page {
    /// Whether `#fragment` names a heading or an HTML id of this page.
    pub fn has_id(&self, fragment: &str) -> bool {
        self.headings.iter().any(|h| h.id == fragment)
            || self.html_ids.iter().any(|i| i == fragment)
    }
}

/// An opening or closing fence: its character, length and info string.
fn fence_marker(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let len = rest.chars().take_while(|&c| c == ch).count();
    if len < 3 {
        return None;
    }
    let info = rest[len..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((ch, len, info))
}

/// Scans a Markdown file.
pub fn scan(text: &str) -> Page {
    let mut page = Page::default();
    let mut open: Option<(char, usize, Fence)> = None;
    let mut seen_ids: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        scan_directives(line, n, open.is_some(), &mut page);
        if let Some((ch, len, mut fence)) = open.take() {
            match fence_marker(line) {
                Some((c, l, info)) if c == ch && l >= len && info.is_empty() => {
                    page.fences.push(fence);
                }
                _ => {
                    fence.body.push((n, line.to_string()));
                    open = Some((ch, len, fence));
                }
            }
            continue;
        }
        if let Some((ch, len, info)) = fence_marker(line) {
            let lang = info
                .split(|c: char| c == ',' || c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_string();
            open = Some((
                ch,
                len,
                Fence {
                    line: n,
                    lang,
                    body: Vec::new(),
                },
            ));
            continue;
        }
        if let Some(text) = atx_heading(line) {
            let (text, explicit) = split_heading_attributes(text);
            let id = match explicit {
                Some(id) => id,
                None => {
                    let base = heading_id(text);
                    match seen_ids.iter_mut().find(|(id, _)| *id == base) {
                        Some((_, count)) => {
                            *count += 1;
                            format!("{base}-{count}")
                        }
                        None => {
                            seen_ids.push((base.clone(), 0));
                            base
                        }
                    }
                }
            };
            page.headings.push(Heading { line: n, id });
        }
        scan_links(line, n, &mut page);
    }
    if let Some((_, _, fence)) = open {
        page.problems.push((
            fence.line,
            "this code fence is never closed (everything after it renders as code)".to_string(),
        ));
    }
    page
}

/// Finds the `{{#name arg}}` directives of one line (`\{{#` is mdBook's escape: skipped).
fn scan_directives(line: &str, n: usize, in_fence: bool, page: &mut Page) {
    let mut from = 0;
    while let Some(at) = line[from..].find("{{#") {
        let start = from + at;
        from = start + 3;
        if start > 0 && line.as_bytes()[start - 1] == b'\\' {
            continue;
        }
        let Some(close) = line[start..].find("}}") else {
            page.problems.push((
                n,
                format!("`{}` has no closing `}}}}` on its line", &line[start..]),
            ));
            return;
        };
        let inner = &line[start + 3..start + close];
        let name: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let arg = inner[name.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        page.directives.push(Directive {
            line: n,
            name,
            arg,
            in_fence,
        });
        from = start + close + 2;
    }
}

/// The text of an ATX heading (`## Text ##` -> `Text`), if the line is one.
fn atx_heading(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let hashes = rest.chars().take_while(|&c| c == '#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let after = &rest[hashes..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let text = after.trim();
    // A closing sequence of #s preceded by a space is not part of the text.
    let trimmed = text.trim_end_matches('#');
    let text = if trimmed.len() < text.len() && (trimmed.is_empty() || trimmed.ends_with(' ')) {
        trimmed.trim_end()
    } else {
        text
    };
    Some(text)
}

/// Splits `Text {#id .class}` into the text and the explicit id.
fn split_heading_attributes(text: &str) -> (&str, Option<String>) {
    if let Some(open) = text.rfind('{')
        && text.ends_with('}')
    {
        let attrs = &text[open + 1..text.len() - 1];
        let id = attrs
            .split_whitespace()
            .find_map(|a| a.strip_prefix('#'))
            .map(str::to_string);
        return (text[..open].trim_end(), id);
    }
    (text, None)
}

/// The id mdBook gives a heading: inline markup dropped, then alphanumerics, `_` and `-` kept
/// (lower-cased), whitespace turned into `-`, everything else dropped.
pub fn heading_id(text: &str) -> String {
    strip_inline_markup(text)
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// `[text](url)` -> `text`; backticks, `*` and backslash escapes removed.
fn strip_inline_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](") {
            Some(mid) => match after[mid + 2..].find(')') {
                Some(close) => {
                    out.push_str(&after[..mid]);
                    rest = &after[mid + 2 + close + 1..];
                }
                None => {
                    out.push('[');
                    rest = after;
                }
            },
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    let mut plain = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '*' => {}
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_punctuation()) => {
                plain.extend(chars.next());
            }
            c => plain.push(c),
        }
    }
    plain
}

/// Removes inline code spans (`` `...` ``) so that what they show is not taken for links.
fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            out.push(c);
        }
    }
    out
}

/// Collects the link targets and HTML ids of one line outside fences.
fn scan_links(line: &str, n: usize, page: &mut Page) {
    let line = without_code_spans(line);
    // Reference definitions: `[label]: target`.
    let trimmed = line.trim_start();
    if trimmed.starts_with('[')
        && let Some(end) = trimmed.find("]:")
        && !trimmed[..end].contains(']')
    {
        if let Some(target) = trimmed[end + 2..].split_whitespace().next() {
            page.links.push(Link {
                line: n,
                target: target.trim_matches(['<', '>']).to_string(),
            });
        }
        return;
    }
    // Inline links and images: `](target "title")`, parentheses balanced.
    let mut from = 0;
    while let Some(at) = line[from..].find("](") {
        let start = from + at + 2;
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in line[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = Some(start + i);
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let Some(end) = end else { break };
        if let Some(target) = line[start..end].split_whitespace().next() {
            page.links.push(Link {
                line: n,
                target: target.trim_matches(['<', '>']).to_string(),
            });
        }
        from = end + 1;
    }
    // Raw HTML attributes.
    for (attr, is_id) in [("src=\"", false), ("href=\"", false), ("id=\"", true)] {
        let mut from = 0;
        while let Some(at) = line[from..].find(attr) {
            let start = from + at + attr.len();
            // `data-id="..."` or `xid=` are not `id=`.
            let before = line[..from + at].chars().last();
            let Some(len) = line[start..].find('"') else {
                break;
            };
            let value = line[start..start + len].to_string();
            from = start + len + 1;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '-') {
                continue;
            }
            if is_id {
                page.html_ids.push(value);
            } else {
                page.links.push(Link {
                    line: n,
                    target: value,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_arguments_split_like_mdbook() {
        assert_eq!(parse_include("a.rs"), ("a.rs".into(), Part::Whole));
        assert_eq!(
            parse_include("../../src/base.rs:with_config"),
            (
                "../../src/base.rs".into(),
                Part::Anchor("with_config".into())
            )
        );
        assert_eq!(
            parse_include("x.snap:6:"),
            (
                "x.snap".into(),
                Part::Lines {
                    start: Some(6),
                    end: None
                }
            )
        );
        assert_eq!(
            parse_include("x.trace:1:4"),
            (
                "x.trace".into(),
                Part::Lines {
                    start: Some(1),
                    end: Some(4)
                }
            )
        );
        assert_eq!(
            parse_include("x:3"),
            (
                "x".into(),
                Part::Lines {
                    start: Some(3),
                    end: Some(3)
                }
            )
        );
        assert_eq!(
            parse_include("x::7"),
            (
                "x".into(),
                Part::Lines {
                    start: None,
                    end: Some(7)
                }
            )
        );
        assert_eq!(parse_include("x:"), ("x".into(), Part::Whole));
    }

    #[test]
    fn fences_directives_and_escapes() {
        let text = "\
# Title

```rust
{{#include ../../src/a.rs:one}}
```

Text with \\{{#include not/a/directive.rs}} and {{#include b.md}}.

~~~~text
```
{{#include t.trace:5:}}
~~~~
";
        let page = scan(text);
        assert_eq!(page.fences.len(), 2);
        assert_eq!(page.fences[0].lang, "rust");
        assert_eq!(page.fences[0].line, 3);
        assert_eq!(
            page.fences[0].body,
            vec![(4, "{{#include ../../src/a.rs:one}}".to_string())]
        );
        // A ``` inside a ~~~~ fence does not close it.
        assert_eq!(page.fences[1].body.len(), 2);
        let found: Vec<(usize, &str, bool)> = page
            .directives
            .iter()
            .map(|d| (d.line, d.arg.as_str(), d.in_fence))
            .collect();
        assert_eq!(
            found,
            vec![
                (4, "../../src/a.rs:one", true),
                (7, "b.md", false),
                (11, "t.trace:5:", true)
            ]
        );
        assert!(page.problems.is_empty());
    }

    #[test]
    fn unclosed_fence_and_unterminated_directive_are_problems() {
        let page = scan("```rust\n{{#include a.rs:x\n");
        assert_eq!(page.problems.len(), 2, "{:?}", page.problems);
        assert_eq!(page.problems[0].0, 2);
        assert_eq!(page.problems[1].0, 1);
    }

    #[test]
    fn heading_ids_follow_mdbook() {
        // Checked against mdBook 0.5.4's output.
        assert_eq!(heading_id("A — b"), "a--b");
        assert_eq!(
            heading_id("事件 (event) and `a::b()` x/y"),
            "事件-event-and-ab-xy"
        );
        assert_eq!(
            heading_id("Link [here](a.md) *em* **strong** C++ 3.5 what's"),
            "link-here-em-strong-c-35-whats"
        );
        assert_eq!(heading_id("`event_add_nolock_`"), "event_add_nolock_");
        let page =
            scan("# Dup\n## Dup\n## Explicit {#my-id}\n```text\n# not a heading\n```\n#nope\n");
        let ids: Vec<&str> = page.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, vec!["dup", "dup-1", "my-id"]);
    }

    #[test]
    fn links_outside_code() {
        let text = "\
See [chapter 3](ch03-event-add.md#the-op-table) and ![x](images/a.svg \"t\").
Not this: `[a](b.md)`.
[ref]: appendix.md
<img src=\"images/b.svg\" alt=\"\"> <span id=\"here\"></span> <div data-id=\"no\"></div>
```text
[c](d.md)
```
";
        let page = scan(text);
        let targets: Vec<&str> = page.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(
            targets,
            vec![
                "ch03-event-add.md#the-op-table",
                "images/a.svg",
                "appendix.md",
                "images/b.svg"
            ]
        );
        assert_eq!(page.html_ids, vec!["here".to_string()]);
        assert!(page.has_id("here"));
    }
}
