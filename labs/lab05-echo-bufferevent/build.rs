//! Builds this lab's minievent: src/ as it is. Lab 5 cuts nothing out of the library — what you
//! write are the echo server's callbacks, which live in a program, not in minievent — so
//! src/exercise.rs is a module of its own beside minievent's (labs/splice explains the rest).

use minievent_labs_splice::build;

fn main() {
    build(&[]);
}
