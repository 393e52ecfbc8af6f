//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "evmap.rs",
            item: "fn count",
            reexport: None,
        },
        Cut {
            file: "evmap.rs",
            item: "impl IoMap / fn add",
            reexport: None,
        },
        Cut {
            file: "evmap.rs",
            item: "impl IoMap / fn del",
            reexport: None,
        },
        Cut {
            file: "backend/epoll.rs",
            item: "fn epoll_op",
            reexport: Some("pub use crate::exercise::epoll_op;"),
        },
        Cut {
            file: "backend/epoll.rs",
            item: "impl Epoll / fn apply_one_change",
            reexport: None,
        },
    ]);
}
