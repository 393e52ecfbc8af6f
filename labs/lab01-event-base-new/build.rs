//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "base.rs",
            item: "fn choose_backend",
            reexport: Some("use crate::exercise::choose_backend;"),
        },
        Cut {
            file: "backend/epoll.rs",
            item: "impl Epoll / fn new",
            reexport: None,
        },
    ]);
}
