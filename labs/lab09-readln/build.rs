//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "buffer.rs",
            item: "impl Evbuffer / fn search_eol",
            reexport: None,
        },
        Cut {
            file: "buffer.rs",
            item: "impl Evbuffer / fn readln",
            reexport: None,
        },
    ]);
}
