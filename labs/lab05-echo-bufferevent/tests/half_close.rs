//! End of file and errors: what the walk-through post's event callback gets wrong. A client that half-closes
//! (`shutdown(SHUT_WR)`) still reads: the server must write everything queued before it closes.
//! And every connection ends — at end of file or on an error — with the socket closed.

use minievent_traces::load::{Conn, LATE_READER, Reader};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::time::Duration;

mod common;

/// The client of the walk-through-bug test (traces/tests/echo_servers.rs): sends 8 MiB, half-closes, and
/// only then reads — once its writer is done (or after 2 s, if the server holds it back), plus
/// 500 ms for the server to have seen the end of file with the echo still queued. Its receive
/// buffer is small (64 KiB), so the server's writes soon come up short.
#[test]
fn a_client_that_half_closes_and_reads_late_gets_every_byte() {
    let mut server = common::server();
    let baseline = server.open_fds();
    server.exchange(&LATE_READER, Duration::from_secs(40));
    server.assert_fds_back_to(baseline, "after the echo of a half-closed client");
}

/// Connects, sends a line, reads its echo, then half-closes with nothing queued: the server
/// closes at once (end of file, empty output) — the lock-step session's end.
#[test]
fn a_client_that_half_closes_with_nothing_queued_is_closed_at_once() {
    let mut server = common::server();
    let baseline = server.open_fds();
    let mut stream = match TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())) {
        Ok(s) => s,
        Err(e) => server.fail(format!("cannot connect: {e}")),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let mut echo = [0u8; 6];
    if let Err(e) = stream
        .write_all(b"hello\n")
        .and_then(|()| stream.read_exact(&mut echo))
    {
        server.fail(format!("sent \"hello\\n\", no echo came back: {e}"));
    }
    if &echo != b"hello\n" {
        server.fail(format!(
            "sent \"hello\\n\", got {:?} back",
            String::from_utf8_lossy(&echo)
        ));
    }
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        server.fail(format!("shutdown(SHUT_WR): {e}"));
    }
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => {}
        Ok(_) => server.fail(format!(
            "after the half-close the server sent {} more bytes",
            rest.len()
        )),
        Err(e) => server.fail(format!(
            "after the half-close (nothing queued) the server did not close the connection \
             within 3 s: {e}"
        )),
    }
    server.assert_fds_back_to(baseline, "after a half-close with nothing queued");
}

/// Sends 4 MiB and closes without reading any echo: the kernel resets the connection, the
/// server's next read or write fails (`BEV_EVENT_ERROR`), and it must close the socket all the
/// same — and stay up for the next client.
#[test]
fn a_client_that_goes_away_without_reading_is_closed() {
    let mut server = common::server();
    let baseline = server.open_fds();
    for id in 0..3 {
        let conn = Conn {
            id,
            seed: 7 + id as u64,
            size: 8 << 20,
            max_write: 256 << 10,
            reader: Reader::Abort {
                abort_after: 4 << 20,
            },
            rcvbuf: Some(64 << 10),
        };
        server.exchange(&conn, Duration::from_secs(20));
    }
    server.assert_fds_back_to(
        baseline,
        "after three clients that went away without reading",
    );
    let fine = Conn {
        id: 3,
        seed: 3,
        size: 100_000,
        max_write: 4096,
        reader: Reader::Fast,
        rcvbuf: None,
    };
    server.exchange(&fine, Duration::from_secs(10));
    server.assert_fds_back_to(baseline, "after the next client");
}
