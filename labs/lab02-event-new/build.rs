//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "event.rs",
            item: "fn validate",
            reexport: None,
        },
        Cut {
            file: "event.rs",
            item: "impl Base / fn event_new",
            reexport: None,
        },
        Cut {
            file: "event.rs",
            item: "impl Base / fn event_pending",
            reexport: None,
        },
    ]);
}
