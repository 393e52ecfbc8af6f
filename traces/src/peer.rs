//! The echo peer of a client scenario (`echo-client`): the traced program is the client, and
//! the harness is the server it talks to.
//!
//! The client's trace is only the same on every run if nothing races, so the peer works in
//! lock-step with what the client does (see `traces/SCENARIOS.md`):
//!
//! 1. it listens on `127.0.0.1:P` before the program starts ([`EchoPeer::listen`]), so the
//!    program's connect completes in the kernel whenever it comes;
//! 2. it accepts the one connection (at most [`STEP`]);
//! 3. it reads until every byte the program was given to send has come — its arguments, each
//!    followed by `\n` — and checks them;
//! 4. it sends them all back with one `write`: the echo reaches the program as one segment,
//!    which one `readv` takes whole;
//! 5. it reads until end of file (the program closes its socket once every line came back);
//!    the program then exits by itself, and strace with it.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{STEP, listen_local, read_within, shown};
use crate::error::TraceError;
use crate::record::Running;

/// A listening echo peer, waiting for the program.
pub struct EchoPeer {
    listener: TcpListener,
    /// The port it listens on (127.0.0.1), at least [`crate::client::MIN_PORT`].
    pub port: u16,
    /// What the program will send: its arguments, each followed by `\n`.
    expected: Vec<u8>,
}

impl EchoPeer {
    /// Listens on a free port for a program that sends `lines`, each followed by `\n`.
    pub fn listen(lines: &[&str]) -> Result<EchoPeer, TraceError> {
        let (listener, port) = listen_local()?;
        listener
            .set_nonblocking(true)
            .map_err(|e| TraceError::io("making the echo peer's listener non-blocking", e))?;
        let expected = lines.iter().flat_map(|l| [l.as_bytes(), b"\n"]).flatten();
        Ok(EchoPeer {
            listener,
            port,
            expected: expected.copied().collect(),
        })
    }

    /// Serves the program running under strace, one step at a time (see the module docs).
    pub fn serve(self, running: &mut Running) -> Result<(), TraceError> {
        let mut stream = self.accept(running)?;
        let got = read_within(&mut stream, Some(self.expected.len()), STEP)?;
        if got.bytes != self.expected {
            return Err(TraceError::Client(format!(
                "the client was to send {} within {} s; it sent {}",
                shown(&self.expected),
                STEP.as_secs_f64(),
                shown(&got.bytes)
            )));
        }
        stream
            .write_all(&self.expected)
            .map_err(|e| TraceError::io("sending the echo back to the client", e))?;
        let rest = read_within(&mut stream, None, STEP)?;
        if !rest.bytes.is_empty() || !rest.eof {
            return Err(TraceError::Client(format!(
                "after its echo the client did not close the connection within {} s; it sent {}",
                STEP.as_secs_f64(),
                shown(&rest.bytes)
            )));
        }
        Ok(())
    }

    /// Accepts the program's connection, within [`STEP`]; fails early if the program exits.
    fn accept(&self, running: &mut Running) -> Result<TcpStream, TraceError> {
        let until = Instant::now() + STEP;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream
                        .set_nonblocking(false)
                        .map_err(|e| TraceError::io("making the peer's socket blocking", e))?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < until => {
                    running.check_alive("the echo peer waited for it to connect")?;
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(TraceError::Client(format!(
                        "the client did not connect to 127.0.0.1:{} within {} s; its stderr:\n{}",
                        self.port,
                        STEP.as_secs_f64(),
                        running.stderr_so_far()
                    )));
                }
                Err(e) => return Err(TraceError::io("accepting the client's connection", e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_expects_each_line_with_a_newline() {
        let peer = EchoPeer::listen(&["hello", "world"]).expect("listens");
        assert_eq!(peer.expected, b"hello\nworld\n");
        assert!(peer.port >= crate::client::MIN_PORT);
    }
}
