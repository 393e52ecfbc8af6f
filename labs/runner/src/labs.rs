//! The labs: one per chapter of the book's Part I, one for chapter 6.2 (bufferevent and the echo
//! server) in Part II, and one each for chapters 7 (signals), 8 (timers), 9 (the changelist) and
//! 11 (a complete bufferevent: readln) in Part III.

use std::fs;
use std::path::{Path, PathBuf};

/// One lab.
#[derive(Clone, Copy, Debug)]
pub struct Lab {
    /// `just lab N`.
    pub number: u8,
    /// The folder under `labs/`, which is also the cargo package.
    pub package: &'static str,
    /// The libevent call the chapter is about (the chapter's title).
    pub call: &'static str,
    /// What the learner writes, in a few words.
    pub task: &'static str,
    /// The chapter the lab goes with: the lab's number up to lab 4; lab 5 goes with chapter 6
    /// (its part 6.2; chapter 5, the echo server on raw events, has no lab), lab 6 with chapter
    /// 7, lab 7 with chapter 8, lab 8 with chapter 9, lab 9 with chapter 11.
    pub chapter_number: u8,
    /// The chapter's file under `book/src/`.
    pub chapter_file: &'static str,
    /// [`skeleton_hash`] of the untouched `src/exercise.rs`: an exercise file with this hash is "not
    /// started". `check` fails when the committed skeleton does not hash to it (and prints the hash
    /// to put here after a deliberate change of the skeleton).
    pub skeleton_hash: u64,
}

/// Every lab, in order.
pub const LABS: [Lab; 9] = [
    Lab {
        number: 1,
        chapter_number: 1,
        package: "lab01-event-base-new",
        call: "event_base_new",
        task: "choose the backend; create the epoll instance",
        chapter_file: "ch01-event-base-new.md",
        skeleton_hash: 0xea0714bf3173c96c,
    },
    Lab {
        number: 2,
        chapter_number: 2,
        package: "lab02-event-new",
        call: "event_new",
        task: "check, create and inspect events",
        chapter_file: "ch02-event-new.md",
        skeleton_hash: 0x3ac2c62a7e12bc8d,
    },
    Lab {
        number: 3,
        chapter_number: 3,
        package: "lab03-event-add",
        call: "event_add",
        task: "evmap's counts; the epoll_ctl op and its fallbacks",
        chapter_file: "ch03-event-add.md",
        skeleton_hash: 0xa10c51204c048af0,
    },
    Lab {
        number: 4,
        chapter_number: 4,
        package: "lab04-event-base-dispatch",
        call: "event_base_dispatch",
        task: "epoll_wait and the event loop",
        chapter_file: "ch04-event-base-dispatch.md",
        skeleton_hash: 0x0e7d7456dd166802,
    },
    Lab {
        number: 5,
        chapter_number: 6,
        package: "lab05-echo-bufferevent",
        call: "bufferevent echo",
        task: "its callbacks, and flush before close",
        chapter_file: "ch06-2-bufferevent-echo.md",
        skeleton_hash: 0x5e578b7a8d4ceaed,
    },
    Lab {
        number: 6,
        chapter_number: 7,
        package: "lab06-signals",
        call: "signals",
        task: "read the signal pipe; count and activate each signal's events",
        chapter_file: "ch07-signals.md",
        skeleton_hash: 0xb2b5513b2311ed2d,
    },
    Lab {
        number: 7,
        chapter_number: 8,
        package: "lab07-timers",
        call: "timers",
        task: "the min-heap: push, erase, shift up and down",
        chapter_file: "ch08-timers.md",
        skeleton_hash: 0xc6c0997b62c3ecd6,
    },
    Lab {
        number: 8,
        chapter_number: 9,
        package: "lab08-changelist",
        call: "changelist",
        task: "the merge rules: how an add and a del of an fd merge until the next dispatch",
        chapter_file: "ch09-changelist.md",
        skeleton_hash: 0x8c3a727644f30268,
    },
    Lab {
        number: 9,
        chapter_number: 11,
        package: "lab09-readln",
        call: "evbuffer_readln",
        task: "find the end of a line in every EOL style; take the line off",
        chapter_file: "ch11-bufferevent-complete.md",
        skeleton_hash: 0x29ab18d2d6c2e77e,
    },
];

/// The repository's root (this crate is `labs/runner`).
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .unwrap_or(here)
        .to_path_buf()
}

/// Cargo's target directory, as the trace harness finds it: `$CARGO_TARGET_DIR` or `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace().join(dir),
        _ => workspace().join("target"),
    }
}

impl Lab {
    /// `labs/labNN-*/`.
    pub fn dir(&self) -> PathBuf {
        workspace().join("labs").join(self.package)
    }

    /// The file the learner edits, relative to the repository's root.
    pub fn exercise(&self) -> String {
        format!("labs/{}/src/exercise.rs", self.package)
    }

    /// The chapter's file, relative to the repository's root.
    pub fn chapter(&self) -> String {
        format!("book/src/{}", self.chapter_file)
    }

    /// The chapter's title: the first heading of its file, or `N. call` while it is not written.
    pub fn chapter_title(&self) -> String {
        fs::read_to_string(workspace().join(self.chapter()))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
            })
            .unwrap_or_else(|| format!("{}. {}", self.chapter_number, self.call))
    }

    /// Whether the exercise file is still the skeleton: `Some(true)` untouched, `Some(false)`
    /// edited, `None` unreadable.
    pub fn untouched(&self) -> Option<bool> {
        let text = fs::read(workspace().join(self.exercise())).ok()?;
        Some(skeleton_hash(&text) == self.skeleton_hash)
    }

    /// The hash of the exercise file as it is now.
    pub fn current_hash(&self) -> Option<u64> {
        fs::read(workspace().join(self.exercise()))
            .ok()
            .map(|t| skeleton_hash(&t))
    }
}

/// The lab numbered `arg` ("3" or "03"), or an error that lists the labs.
pub fn find(arg: &str) -> Result<Lab, String> {
    let found = arg
        .trim()
        .parse::<u8>()
        .ok()
        .and_then(|n| LABS.iter().find(|l| l.number == n));
    found.copied().ok_or_else(|| {
        let mut msg = if arg.trim().is_empty() {
            "which lab? The labs are:\n".to_string()
        } else {
            format!("there is no lab {arg:?}; the labs are:\n")
        };
        msg.push_str(&table());
        msg.push_str("Run one with `just lab N`, e.g. `just lab 1`.");
        msg
    })
}

/// One line per lab: its number, the libevent call, its chapter.
pub fn table() -> String {
    LABS.iter()
        .map(|lab| {
            format!(
                "  {}  {:<20} chapter {}: {}\n",
                lab.number,
                lab.call,
                lab.chapter_number,
                lab.chapter()
            )
        })
        .collect()
}

/// The hash that tells an edited exercise from the skeleton: FNV-1a of the file without its
/// whitespace, so that reformatting it (`cargo fmt`) does not count as starting the lab.
pub fn skeleton_hash(text: &[u8]) -> u64 {
    let code: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    fnv1a(&code)
}

/// FNV-1a, 64 bits: enough to tell an edited file from the skeleton, with no dependency.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labs_are_found_by_number_and_others_are_listed() {
        assert_eq!(find("3").map(|l| l.package), Ok("lab03-event-add"));
        assert_eq!(find("03").map(|l| l.package), Ok("lab03-event-add"));
        for bad in ["0", "99", "x", "", "-1", "3.5"] {
            let err = find(bad).expect_err(bad);
            assert!(
                err.contains("there is no lab") || err.contains("which lab?"),
                "{err}"
            );
            assert!(
                err.contains("event_base_dispatch")
                    && err.contains("book/src/ch04-event-base-dispatch.md"),
                "{err}"
            );
        }
    }

    #[test]
    fn each_lab_names_its_chapter_by_number() {
        for lab in LABS {
            assert!(
                lab.chapter_file
                    .starts_with(&format!("ch{:02}-", lab.chapter_number)),
                "lab {}: chapter {} is not {}",
                lab.number,
                lab.chapter_number,
                lab.chapter_file
            );
        }
        assert_eq!(find("5").map(|l| l.chapter_number), Ok(6));
        assert_eq!(find("6").map(|l| l.chapter_number), Ok(7));
        assert_eq!(find("8").map(|l| l.chapter_number), Ok(9));
        assert_eq!(find("9").map(|l| l.chapter_number), Ok(11));
        let past = (LABS.len() + 1).to_string();
        assert!(find(&past).is_err(), "there is no lab {past}");
    }

    #[test]
    fn every_lab_folder_exists() {
        for lab in LABS {
            assert!(
                lab.dir().join("Cargo.toml").is_file(),
                "{}",
                lab.dir().display()
            );
            assert!(
                lab.dir().join("HINTS.md").is_file(),
                "{} has no HINTS.md",
                lab.package
            );
        }
    }

    #[test]
    fn fnv1a_is_the_standard_one_and_whitespace_does_not_count() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            skeleton_hash(b"fn f() {\n    x\n}\n"),
            skeleton_hash(b"fn f() { x }")
        );
        assert_ne!(
            skeleton_hash(b"fn f() { x }"),
            skeleton_hash(b"fn f() { y }")
        );
    }
}
