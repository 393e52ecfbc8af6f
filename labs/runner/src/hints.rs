//! `just hint N`: the hints of `labs/labNN-*/HINTS.md`, one at a time.
//!
//! HINTS.md has a title, an introduction, then one `## ` section per hint, each more explicit
//! than the one before. How many of a lab's hints were shown is kept in `target/labs/hints-state`
//! (one `N COUNT` line per lab; `target/` is git-ignored), so `just hint N` shows the next one.

use crate::labs::{Lab, target_dir};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// The hints of a lab: (heading, text) for each `## ` section.
pub fn hints(lab: &Lab) -> Result<Vec<(String, String)>, String> {
    let path = lab.dir().join("HINTS.md");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let hints = split(&text);
    if hints.is_empty() {
        return Err(format!("{} has no `## ` hint sections", path.display()));
    }
    Ok(hints)
}

/// The `## ` sections of a Markdown text.
pub fn split(text: &str) -> Vec<(String, String)> {
    let mut hints: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            hints.push((heading.trim().to_string(), String::new()));
        } else if let Some((_, body)) = hints.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    for (_, body) in &mut hints {
        *body = body.trim().to_string();
    }
    hints
}

fn state_path() -> PathBuf {
    target_dir().join("labs").join("hints-state")
}

/// How many hints of each lab were shown.
fn load() -> BTreeMap<u8, usize> {
    fs::read_to_string(state_path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (lab, n) = l.split_once(' ')?;
            Some((lab.parse().ok()?, n.trim().parse().ok()?))
        })
        .collect()
}

fn save(state: &BTreeMap<u8, usize>) -> Result<(), String> {
    let path = state_path();
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let text: String = state
        .iter()
        .map(|(lab, n)| format!("{lab} {n}\n"))
        .collect();
    fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// What `hint N [--all] [--reset]` prints.
pub fn hint(lab: &Lab, all: bool, reset: bool) -> Result<String, String> {
    let hints = hints(lab)?;
    let mut state = load();
    let n = lab.number;
    let total = hints.len();
    let show = |k: usize| {
        format!(
            "Hint {} of {total} — {}\n\n{}\n",
            k + 1,
            hints[k].0,
            hints[k].1
        )
    };
    if reset {
        state.remove(&n);
        save(&state)?;
        return Ok(format!(
            "Lab {n}: the hints start again from the first (`just hint {n}`).\n"
        ));
    }
    if all {
        return Ok((0..total).map(show).collect::<Vec<_>>().join("\n"));
    }
    let shown = state.get(&n).copied().unwrap_or(0);
    if shown >= total {
        return Ok(format!(
            "That was the last hint for lab {n} (there are {total}). All of them: \
             `cargo run -q -p minievent-labs -- hint {n} --all`; from the first again: `... hint {n} --reset`.\n\
             Chapter {} ({}) explains the whole of it.\n",
            lab.chapter_number,
            lab.chapter()
        ));
    }
    state.insert(n, shown + 1);
    save(&state)?;
    let mut out = show(shown);
    if shown + 1 < total {
        out.push_str(&format!("\n(`just hint {n}` again for the next hint.)\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::LABS;

    #[test]
    fn sections_are_the_hints() {
        let text = "# Lab 9 hints\n\nintro\n\n## Where to start\none\n\n## Closer\ntwo\nlines\n";
        assert_eq!(
            split(text),
            [
                ("Where to start".to_string(), "one".to_string()),
                ("Closer".to_string(), "two\nlines".to_string())
            ]
        );
    }

    #[test]
    fn every_lab_has_two_to_four_hints() {
        for lab in LABS {
            let hints = hints(&lab).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                (2..=4).contains(&hints.len()),
                "lab {} has {} hints",
                lab.number,
                hints.len()
            );
            for (heading, body) in hints {
                assert!(
                    !body.is_empty(),
                    "lab {}: hint {heading:?} is empty",
                    lab.number
                );
            }
        }
    }
}
