//! `// ANCHOR: name` ... `// ANCHOR_END: name` regions, read the way mdBook reads them.
//!
//! mdBook matches `ANCHOR:\s*name` and `ANCHOR_END:\s*name` anywhere in a line, takes the
//! lines between the first start and the next end of that name, and leaves out every line
//! that is itself a marker (of any anchor). A name it cannot find gives an *empty* listing,
//! silently: that is what this module exists to catch.

/// Whether a marker opens or closes a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `ANCHOR: name`
    Start,
    /// `ANCHOR_END: name`
    End,
}

/// The marker on a line, if any, and the name it carries.
pub fn marker(line: &str) -> Option<(Marker, &str)> {
    let (kind, rest) = if let Some(at) = line.find("ANCHOR_END:") {
        (Marker::End, &line[at + "ANCHOR_END:".len()..])
    } else if let Some(at) = line.find("ANCHOR:") {
        (Marker::Start, &line[at + "ANCHOR:".len()..])
    } else {
        return None;
    };
    let rest = rest.trim_start();
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    (len > 0).then(|| (kind, &rest[..len]))
}

/// One well-formed region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Its name.
    pub name: String,
    /// 1-based line of `ANCHOR: name`.
    pub line: usize,
    /// The text mdBook includes for it (marker lines left out), each line ending with `\n`.
    pub text: String,
}

/// The regions of a file, and what is wrong with its markers (line, message).
#[derive(Debug, Default, Clone)]
pub struct Anchors {
    /// Well-formed regions, in file order.
    pub anchors: Vec<Anchor>,
    /// Every problem: a name defined twice, a start without end, an end without start.
    pub problems: Vec<(usize, String)>,
}

impl Anchors {
    /// The region called `name`, if it is well formed.
    pub fn get(&self, name: &str) -> Option<&Anchor> {
        self.anchors.iter().find(|a| a.name == name)
    }

    /// The names, for error messages.
    pub fn names(&self) -> Vec<&str> {
        self.anchors.iter().map(|a| a.name.as_str()).collect()
    }
}

/// Reads every marker of a file.
pub fn scan(text: &str) -> Anchors {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Anchors::default();
    let mut starts: Vec<(String, usize)> = Vec::new();
    let mut ends: Vec<(String, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match marker(line) {
            Some((Marker::Start, name)) => starts.push((name.to_string(), i)),
            Some((Marker::End, name)) => ends.push((name.to_string(), i)),
            None => {}
        }
    }
    for (name, start) in &starts {
        let n_starts = starts.iter().filter(|(s, _)| s == name).count();
        if n_starts > 1 {
            if starts.iter().find(|(s, _)| s == name).map(|(_, l)| l) == Some(start) {
                out.problems.push((
                    start + 1,
                    format!("anchor `{name}` is defined {n_starts} times in this file (mdBook would take the first)"),
                ));
            }
            continue;
        }
        let matching: Vec<usize> = ends
            .iter()
            .filter(|(e, _)| e == name)
            .map(|(_, l)| *l)
            .collect();
        let after: Vec<usize> = matching.iter().copied().filter(|l| l > start).collect();
        match (after.as_slice(), matching.len()) {
            ([end], 1) => {
                let text: String = lines[start + 1..*end]
                    .iter()
                    .filter(|l| marker(l).is_none())
                    .map(|l| format!("{l}\n"))
                    .collect();
                out.anchors.push(Anchor {
                    name: name.clone(),
                    line: start + 1,
                    text,
                });
            }
            ([], _) => out.problems.push((
                start + 1,
                format!("anchor `{name}` has no `ANCHOR_END: {name}` after it (mdBook would include the rest of the file)"),
            )),
            _ => out.problems.push((
                start + 1,
                format!("anchor `{name}` has {} `ANCHOR_END: {name}` lines; it needs exactly one", matching.len()),
            )),
        }
    }
    for (name, end) in &ends {
        if !starts.iter().any(|(s, l)| s == name && l < end) {
            out.problems.push((
                end + 1,
                format!("`ANCHOR_END: {name}` has no `ANCHOR: {name}` before it"),
            ));
        }
    }
    out.problems.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_like_mdbook_finds_them() {
        assert_eq!(
            marker("    // ANCHOR: with_config"),
            Some((Marker::Start, "with_config"))
        );
        assert_eq!(
            marker("// ANCHOR_END: op-table x"),
            Some((Marker::End, "op-table"))
        );
        assert_eq!(marker("/* ANCHOR:name */"), Some((Marker::Start, "name")));
        assert_eq!(marker("// ANCHOR: "), None);
        assert_eq!(marker("let anchor = 1;"), None);
    }

    #[test]
    fn regions_leave_out_every_marker_line() {
        let text = "\
a
// ANCHOR: outer
b
    // ANCHOR: inner
    c
    // ANCHOR_END: inner
d
// ANCHOR_END: outer
";
        let anchors = scan(text);
        assert!(anchors.problems.is_empty(), "{:?}", anchors.problems);
        assert_eq!(
            anchors.get("outer").map(|a| a.text.as_str()),
            Some("b\n    c\nd\n")
        );
        assert_eq!(
            anchors.get("inner").map(|a| (a.line, a.text.as_str())),
            Some((4, "    c\n"))
        );
        assert_eq!(anchors.names(), vec!["outer", "inner"]);
    }

    #[test]
    fn malformed_regions_are_problems() {
        let text = "\
// ANCHOR: twice
// ANCHOR_END: twice
// ANCHOR: twice
// ANCHOR_END: twice
// ANCHOR: open
x
// ANCHOR_END: stray
// ANCHOR: two_ends
// ANCHOR_END: two_ends
// ANCHOR_END: two_ends
";
        let anchors = scan(text);
        let lines: Vec<usize> = anchors.problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, vec![1, 5, 7, 8], "{:?}", anchors.problems);
        assert!(anchors.anchors.is_empty());
    }
}
