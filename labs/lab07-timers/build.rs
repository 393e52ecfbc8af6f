//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "minheap.rs",
            item: "impl MinHeap / fn push",
            reexport: None,
        },
        Cut {
            file: "minheap.rs",
            item: "impl MinHeap / fn erase",
            reexport: None,
        },
        Cut {
            file: "minheap.rs",
            item: "impl MinHeap / fn shift_up",
            reexport: None,
        },
        Cut {
            file: "minheap.rs",
            item: "impl MinHeap / fn shift_down",
            reexport: None,
        },
    ]);
}
