//! The line server `upper_lines` (minievent's src/bin/upper_lines.rs, built on your `readln`) as
//! a real process on a TCP port: each line a client sends must come back upper-cased, whole and in
//! order, however the bytes are cut into reads — a line in pieces, a line a byte at a time, a
//! thousand lines in one write, a line of 60 000 bytes — and a partial line at the client's
//! half-close is never answered.

use minievent_labs_kit::echo::{EchoServer, STALL};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::path::Path;
use std::thread;
use std::time::Duration;

fn server() -> EchoServer {
    EchoServer::start(
        env!("CARGO_PKG_NAME"),
        Path::new(env!("CARGO_BIN_EXE_lab09-upper_lines")),
        "upper_lines",
    )
}

/// One connection: writes `pieces` with a pause after each (so that each is a read of its own on
/// the server), half-closes, reads until the server closes; fails the test (with the `todo!()`
/// the server died in, if it did) unless what came back is `expected`.
fn session(server: &mut EchoServer, pieces: &[&[u8]], expected: &[u8]) {
    let mut stream = match TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())) {
        Ok(s) => s,
        Err(e) => server.fail(format!("cannot connect: {e}")),
    };
    let _ = stream.set_read_timeout(Some(STALL));
    let _ = stream.set_write_timeout(Some(STALL));
    for piece in pieces {
        if let Err(e) = stream.write_all(piece) {
            server.fail(format!("writing to the server: {e}"));
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut got = Vec::new();
    if let Err(e) = stream.read_to_end(&mut got) {
        server.fail(format!(
            "reading the answer: {e} (after {} of {} bytes)",
            got.len(),
            expected.len()
        ));
    }
    if got != expected {
        let show = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            if s.len() > 200 {
                format!("{:?}… ({} bytes)", &s[..200], b.len())
            } else {
                format!("{s:?}")
            }
        };
        server.fail(format!(
            "the server answered {}\n  expected {}",
            show(&got),
            show(expected)
        ));
    }
}

#[test]
fn a_line_in_pieces_comes_back_whole_and_a_partial_line_never() {
    let mut server = server();
    session(
        &mut server,
        &[b"hello wor", b"ld\nsecond line\r", b"\nno newline yet"],
        b"HELLO WORLD\nSECOND LINE\r\n",
    );
}

#[test]
fn a_line_sent_a_byte_at_a_time() {
    let mut server = server();
    let bytes = b"ab\ncd\n";
    let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
    session(&mut server, &pieces, b"AB\nCD\n");
}

#[test]
fn a_thousand_lines_in_one_write_come_back_in_order() {
    let mut server = server();
    let lines: String = (0..1000).map(|i| format!("line {i}: abc\n")).collect();
    session(
        &mut server,
        &[lines.as_bytes()],
        lines.to_ascii_uppercase().as_bytes(),
    );
}

#[test]
fn a_line_of_60000_bytes_over_many_reads() {
    let mut server = server();
    let mut line: Vec<u8> = (0..60_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    line.push(b'\n');
    let pieces: Vec<&[u8]> = line.chunks(4096).collect();
    session(&mut server, &pieces, &line.to_ascii_uppercase());
}
