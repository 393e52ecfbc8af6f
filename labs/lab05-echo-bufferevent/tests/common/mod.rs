//! What the tests of lab 5 share: the server they run.

#![allow(dead_code)] // each test file uses some of it

use minievent_labs_kit::echo::EchoServer;
use std::path::Path;

/// The echo server under test: the one built on your src/exercise.rs — or, with
/// `--features reference`, minievent's own src/bin/echo_bufferevent.rs.
pub fn server_program() -> &'static Path {
    #[cfg(not(feature = "reference"))]
    let program = env!("CARGO_BIN_EXE_lab05-echo_bufferevent");
    #[cfg(feature = "reference")]
    let program = env!("CARGO_BIN_EXE_lab05-echo_bufferevent-reference");
    Path::new(program)
}

/// [`server_program`], started on a free port (it is killed when the test ends).
pub fn server() -> EchoServer {
    EchoServer::start(env!("CARGO_PKG_NAME"), server_program(), "echo_bufferevent")
}
