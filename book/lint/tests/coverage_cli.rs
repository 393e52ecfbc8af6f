//! The api-coverage command on a throw-away repository: it writes the appendix, `--check` fails on
//! a stale or missing one, and a map row naming a missing item or test fails, naming the row.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Repo(PathBuf);

impl Repo {
    fn new(name: &str) -> Repo {
        let root = std::env::temp_dir().join(format!("api-coverage-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (path, text) in [
            (
                "book/coverage/libevent-api.txt",
                "# list\nevent.h event_base_new\nevent.h event_set_mem_functions\nlistener.h evconnlistener_new\n",
            ),
            (
                "book/coverage/map.txt",
                "event_base_new | implemented | Base::new | tests/base.rs::makes_a_base |\n\
                 event_set_mem_functions | n/a | | | Rust's allocator\n\
                 evconnlistener_new | not yet | | |\n",
            ),
            ("book/src/SUMMARY.md", "# Summary\n"),
            (
                "src/base.rs",
                "pub struct Base;\n\nimpl Base {\n    pub fn new() -> Base {\n        Base\n    }\n}\n",
            ),
            ("src/tests/base.rs", "#[test]\nfn makes_a_base() {}\n"),
        ] {
            let p = root.join(path);
            fs::create_dir_all(p.parent().expect("has a parent")).expect("temp dir is writable");
            fs::write(&p, text).expect("temp dir is writable");
        }
        Repo(root)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_api-coverage"))
            .arg(self.0.join("book"))
            .args(args)
            .output()
            .expect("api-coverage starts")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn appendix(repo: &Repo) -> PathBuf {
    repo.path("book/src/appendix-e-api-coverage.md")
}

#[test]
fn writes_the_appendix_and_check_fails_when_it_is_stale() {
    let repo = Repo::new("stale");
    let out = repo.run(&["--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no appendix yet: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("run `just coverage`"),
        "{}",
        stderr(&out)
    );

    let out = repo.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = fs::read_to_string(appendix(&repo)).expect("written");
    assert!(page.contains("| `event.h` | 2 | 1 | 1 | 0 |"), "{page}");
    assert!(page.contains("| `listener.h` | 1 | 0 | 0 | 1 |"), "{page}");
    assert_eq!(repo.run(&["--check"]).status.code(), Some(0));

    fs::write(
        appendix(&repo),
        page.replace("Rust's allocator", "typed by hand"),
    )
    .expect("edit");
    assert_eq!(
        repo.run(&["--check"]).status.code(),
        Some(1),
        "an edited page is stale"
    );
    repo.run(&[]);
    assert_eq!(
        fs::read_to_string(appendix(&repo)).expect("rewritten"),
        page
    );
}

#[test]
fn a_row_naming_a_missing_item_or_test_fails_naming_the_row() {
    let repo = Repo::new("missing");
    let map = repo.path("book/coverage/map.txt");
    let good = fs::read_to_string(&map).expect("map");
    for (from, to, needle) in [
        (
            "Base::new",
            "Base::old",
            "map.txt:1: event_base_new: minievent item `Base::old` not found",
        ),
        (
            "tests/base.rs::makes_a_base",
            "tests/base.rs::makes_two",
            "map.txt:1: event_base_new: test `tests/base.rs::makes_two` not found",
        ),
    ] {
        fs::write(&map, good.replace(from, to)).expect("edit");
        for args in [&[][..], &["--check"][..]] {
            let out = repo.run(args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        }
        assert!(
            !Path::new(&appendix(&repo)).exists(),
            "nothing is written on an error"
        );
    }
}
