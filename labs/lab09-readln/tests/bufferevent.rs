//! `readln` in a bufferevent's read callback, as a line protocol uses it: the other end of a
//! socketpair writes lines in pieces, one loop pass per piece, so each piece is one `read` into
//! the input — lines and ends of line arrive split between reads (and chains), in every style.

use minievent::util::{socketpair, write};
use minievent::{BEV_OPT_NONE, Base, BaseFlags, Bufferevent, Config, EV_READ, EolStyle, LoopFlags};
use minievent_labs_kit::within;
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;

fn ok<T>(what: &str, r: minievent::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `close(fd)` on an fd this test made.
fn close(fd: RawFd) {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }.unwrap_or_else(|e| panic!("close({fd}): {e}"));
}

/// Sends `pieces` one at a time to a bufferevent whose read callback takes every whole line off
/// its input with `readln(style)`; the lines in the order they came, and what is left.
fn lines_through_a_bufferevent(
    style: EolStyle,
    pieces: &'static [&'static [u8]],
) -> (Vec<String>, String) {
    within(10, "the bufferevent's loop", move || {
        let mut base = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
            .unwrap_or_else(|e| panic!("{e}"));
        let [a, b] = ok("socketpair", socketpair());
        let bev = ok(
            "bufferevent_socket_new",
            Bufferevent::socket_new(&mut base, a, BEV_OPT_NONE),
        );
        let lines: Rc<RefCell<Vec<String>>> = Rc::default();
        let got = Rc::clone(&lines);
        bev.setcb(
            Some(Box::new(move |_, bev| {
                while let Some(line) = ok("with_input", bev.with_input(|input| input.readln(style)))
                {
                    got.borrow_mut()
                        .push(String::from_utf8_lossy(&line).into_owned());
                }
            })),
            None,
            None,
        );
        ok("enable", bev.enable(&mut base, EV_READ));
        for piece in pieces {
            ok("write", write(b, piece));
            ok("run(ONCE)", base.run(LoopFlags::ONCE));
        }
        let left = ok("with_input", bev.with_input(|input| input.to_vec()));
        ok("bufferevent_free", bev.free(&mut base));
        close(a);
        close(b);
        let lines = lines.borrow().clone();
        (lines, String::from_utf8_lossy(&left).into_owned())
    })
}

#[test]
fn lf_lines_in_pieces() {
    let (lines, left) = lines_through_a_bufferevent(
        EolStyle::Lf,
        &[b"GET / HT", b"TP/1.0\nHost: x\r", b"\n\n", b"body"],
    );
    assert_eq!(
        lines,
        ["GET / HTTP/1.0", "Host: x\r", ""],
        "the lines readln gave, in order (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "body",
        "the partial line waits in the input (left: yours, right: libevent's)"
    );
}

#[test]
fn crlf_lines_with_the_carriage_return_in_one_read_and_the_newline_in_the_next() {
    let (lines, left) = lines_through_a_bufferevent(
        EolStyle::Crlf,
        &[b"HELO there\r", b"\nMAIL\n", b"DATA\r", b"\r", b"\n."],
    );
    assert_eq!(
        lines,
        ["HELO there", "MAIL", "DATA\r"],
        "the \\r that arrived alone is found with its \\n from the next read (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, ".",
        "what stayed in the input (left: yours, right: libevent's)"
    );
}

#[test]
fn crlf_strict_lines_in_pieces() {
    let (lines, left) = lines_through_a_bufferevent(
        EolStyle::CrlfStrict,
        &[b"a\nb\r", b"\nc\r\r", b"\n\r", b"\n"],
    );
    assert_eq!(
        lines,
        ["a\nb", "c\r", ""],
        "the lines readln gave, in order (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "",
        "what stayed in the input (left: yours, right: libevent's)"
    );
}

#[test]
fn any_runs_split_between_reads() {
    let (lines, left) = lines_through_a_bufferevent(
        EolStyle::Any,
        &[b"one\r", b"\ntwo\n\n", b"three\r\r\n", b"four"],
    );
    assert_eq!(
        lines,
        ["one", "", "two", "three"],
        "EOL_ANY: each run of \\r and \\n that has arrived is one end of line — a \\r\\n split \
         between two reads is two of them, with an empty line between (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "four",
        "what stayed in the input (left: yours, right: libevent's)"
    );
}

#[test]
fn nul_terminated_records_in_pieces() {
    let (lines, left) =
        lines_through_a_bufferevent(EolStyle::Nul, &[b"user\0pa", b"ss\nword\0\0", b"ext"]);
    assert_eq!(
        lines,
        ["user", "pass\nword", ""],
        "the lines readln gave, in order (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "ext",
        "what stayed in the input (left: yours, right: libevent's)"
    );
}
