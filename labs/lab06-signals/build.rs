//! Builds this lab's minievent: src/ as it is, minus the items below, which src/exercise.rs
//! provides (labs/splice explains how; `--features reference` cuts nothing).

use minievent_labs_splice::{Cut, build};

fn main() {
    build(&[
        Cut {
            file: "signal.rs",
            item: "impl Base / fn evsig_cb",
            reexport: None,
        },
        Cut {
            file: "signal.rs",
            item: "impl Base / fn evmap_signal_active",
            reexport: None,
        },
    ]);
}
