//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "backend/epoll.rs",
            item: "impl Backend for Epoll",
            reexport: None,
        },
        Cut {
            file: "event_loop.rs",
            item: "impl Base / fn event_base_loop",
            reexport: None,
        },
        Cut {
            file: "event_loop.rs",
            item: "impl Base / fn run_iterations",
            reexport: None,
        },
        Cut {
            file: "event_loop.rs",
            item: "impl Base / fn process_active",
            reexport: None,
        },
    ]);
}
