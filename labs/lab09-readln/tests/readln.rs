//! The evbuffer alone (buffer.c: evbuffer_search_eol, evbuffer_readln): every end-of-line style,
//! a partial line that stays, empty lines, searching from a position, ends of line split over two
//! chains, a line longer than many chains, and the buffer's callbacks.

use minievent::buffer::CbInfo;
use minievent::{EolStyle, Evbuffer};
use std::cell::RefCell;
use std::rc::Rc;

/// A buffer holding `parts`, each added to its own chain (`add_buffer` moves whole chains), so
/// that a line or an end of line can be split between two chains.
fn chained(parts: &[&[u8]]) -> Evbuffer {
    let mut buf = Evbuffer::new();
    for part in parts {
        let mut piece = Evbuffer::new();
        piece.add(part);
        buf.add_buffer(&mut piece);
    }
    assert!(
        buf.chains().len() >= parts.iter().filter(|p| !p.is_empty()).count(),
        "the test's setup: one chain per part"
    );
    buf
}

fn text(line: Option<Vec<u8>>) -> Option<String> {
    line.map(|l| String::from_utf8_lossy(&l).into_owned())
}

/// Every line `readln` gives, until it gives `None`; and what is left in the buffer.
fn all_lines(buf: &mut Evbuffer, style: EolStyle) -> (Vec<String>, String) {
    let mut lines = Vec::new();
    while let Some(line) = text(buf.readln(style)) {
        lines.push(line);
        assert!(lines.len() < 1000, "readln never returns None");
    }
    (lines, String::from_utf8_lossy(&buf.to_vec()).into_owned())
}

#[test]
fn lf_ends_a_line_at_each_newline_and_keeps_carriage_returns() {
    let mut buf = Evbuffer::new();
    buf.add(b"first\nsecond\r\n\nthird\rstill third\nrest");
    let (lines, left) = all_lines(&mut buf, EolStyle::Lf);
    assert_eq!(
        lines,
        ["first", "second\r", "", "third\rstill third"],
        "EOL_LF: only \\n ends a line; a \\r belongs to the line (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "rest",
        "a partial line stays in the buffer (left: yours, right: libevent's)"
    );
}

#[test]
fn crlf_takes_the_carriage_return_before_a_newline_with_it() {
    let mut buf = Evbuffer::new();
    buf.add(b"dos\r\nunix\nlone\rcr\n\r\n\r\rtwo crs\r\n\r");
    let (lines, left) = all_lines(&mut buf, EolStyle::Crlf);
    assert_eq!(
        lines,
        ["dos", "unix", "lone\rcr", "", "\r\rtwo crs"],
        "EOL_CRLF: \\n or \\r\\n ends a line; a \\r elsewhere is part of the line (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "\r",
        "a \\r without its \\n is not an end of line yet (left: yours, right: libevent's)"
    );
    buf.add(b"\n");
    assert_eq!(
        text(buf.readln(EolStyle::Crlf)).as_deref(),
        Some(""),
        "the line readln gave (left: yours, right: libevent's)"
    );
    assert!(buf.is_empty());
}

#[test]
fn crlf_strict_wants_both_bytes() {
    let mut buf = Evbuffer::new();
    buf.add(b"a\nb\rc\r\n\r\nlast\r");
    let (lines, left) = all_lines(&mut buf, EolStyle::CrlfStrict);
    assert_eq!(
        lines,
        ["a\nb\rc", ""],
        "EOL_CRLF_STRICT: only \\r\\n ends a line (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "last\r",
        "what stayed in the input (left: yours, right: libevent's)"
    );
    buf.add(b"\n");
    assert_eq!(
        text(buf.readln(EolStyle::CrlfStrict)).as_deref(),
        Some("last"),
        "the line readln gave (left: yours, right: libevent's)"
    );
}

#[test]
fn any_takes_a_whole_run_of_carriage_returns_and_newlines() {
    let mut buf = Evbuffer::new();
    buf.add(b"one\r\n\n\r\rtwo\nthree\n\r\n\rfour");
    let (lines, left) = all_lines(&mut buf, EolStyle::Any);
    assert_eq!(
        lines,
        ["one", "two", "three"],
        "EOL_ANY: the first \\r or \\n and every \\r and \\n right after it are one end of line, \
         so there are no empty lines (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "four",
        "what stayed in the input (left: yours, right: libevent's)"
    );
    let mut buf = Evbuffer::new();
    buf.add(b"\n\r\nafter");
    assert_eq!(
        buf.search_eol(0, EolStyle::Any),
        Some((0, 3)),
        "a run at the very start: an empty line, with an end of line of 3 bytes (left: yours, right: libevent's)"
    );
}

#[test]
fn nul_ends_a_line_at_each_zero_byte() {
    let mut buf = Evbuffer::new();
    buf.add(b"key\0value\nwith newline\0\0tail");
    let (lines, left) = all_lines(&mut buf, EolStyle::Nul);
    assert_eq!(
        lines,
        ["key", "value\nwith newline", ""],
        "EOL_NUL: only a 0 byte ends a line (left: yours, right: libevent's)"
    );
    assert_eq!(
        left, "tail",
        "what stayed in the input (left: yours, right: libevent's)"
    );
}

#[test]
fn no_end_of_line_means_none_and_nothing_removed() {
    for style in [
        EolStyle::Any,
        EolStyle::Crlf,
        EolStyle::CrlfStrict,
        EolStyle::Lf,
        EolStyle::Nul,
    ] {
        let mut buf = Evbuffer::new();
        assert_eq!(
            buf.readln(style),
            None,
            "{style:?}: an empty buffer (left: yours, right: libevent's)"
        );
        assert_eq!(
            buf.search_eol(0, style),
            None,
            "{style:?}: an empty buffer (left: yours, right: libevent's)"
        );
        buf.add(b"no end here");
        assert_eq!(
            buf.readln(style),
            None,
            "{style:?} (left: yours, right: libevent's)"
        );
        assert_eq!(
            buf.to_vec(),
            b"no end here",
            "{style:?}: nothing removed (left: yours, right: libevent's)"
        );
    }
}

#[test]
fn search_eol_gives_the_position_and_the_length_from_a_start() {
    let mut buf = Evbuffer::new();
    buf.add(b"ab\r\ncd\nef\r\r\n\0");
    assert_eq!(
        buf.search_eol(0, EolStyle::Crlf),
        Some((2, 2)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(3, EolStyle::Crlf),
        Some((3, 1)),
        "from position 3 (the \\n): the \\r before the start is not part of the end of line (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(4, EolStyle::Crlf),
        Some((6, 1)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(4, EolStyle::Lf),
        Some((6, 1)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(7, EolStyle::CrlfStrict),
        Some((10, 2)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(7, EolStyle::Any),
        Some((9, 3)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(0, EolStyle::Nul),
        Some((12, 1)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(13, EolStyle::Nul),
        None,
        "from the end (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.len(),
        13,
        "searching removes nothing (left: yours, right: libevent's)"
    );
}

#[test]
fn ends_of_line_split_between_two_chains_are_found() {
    let mut buf = chained(&[b"split\r", b"\nnext\r", b"\r", b"\n", b"tail"]);
    assert_eq!(
        buf.search_eol(0, EolStyle::CrlfStrict),
        Some((5, 2)),
        "\\r at the end of one chain, \\n at the start of the next (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(0, EolStyle::Crlf),
        Some((5, 2)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.search_eol(7, EolStyle::Any),
        Some((11, 3)),
        "search_eol's (position, length) (left: yours, right: libevent's)"
    );
    assert_eq!(
        text(buf.readln(EolStyle::Crlf)).as_deref(),
        Some("split"),
        "the line readln gave (left: yours, right: libevent's)"
    );
    assert_eq!(
        text(buf.readln(EolStyle::Crlf)).as_deref(),
        Some("next\r"),
        "the first \\r is part of the line, the second one goes with the \\n (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.to_vec(),
        b"tail",
        "what stayed in the buffer (left: yours, right: libevent's)"
    );
}

#[test]
fn a_line_longer_than_many_chains_comes_back_whole() {
    let long: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let pieces: Vec<&[u8]> = long.chunks(700).collect();
    let mut parts = pieces.clone();
    parts.push(b"\r\nshort\r\n");
    let mut buf = chained(&parts);
    assert!(
        buf.chains().len() > 100,
        "the setup: the line spans many chains"
    );
    assert_eq!(
        buf.readln(EolStyle::CrlfStrict).as_deref(),
        Some(&long[..]),
        "every byte of the long line, in order (left: yours, right: libevent's)"
    );
    assert_eq!(
        text(buf.readln(EolStyle::CrlfStrict)).as_deref(),
        Some("short"),
        "the line readln gave (left: yours, right: libevent's)"
    );
    assert!(buf.is_empty());
}

#[test]
fn readln_changes_the_buffer_twice_the_line_then_its_end() {
    let mut buf = Evbuffer::new();
    buf.add(b"hello\r\nworld");
    let seen: Rc<RefCell<Vec<(usize, usize, usize)>>> = Rc::default();
    let log = Rc::clone(&seen);
    buf.add_cb(move |_, info: &CbInfo| {
        log.borrow_mut()
            .push((info.orig_size, info.n_added, info.n_deleted))
    });
    assert_eq!(
        text(buf.readln(EolStyle::Crlf)).as_deref(),
        Some("hello"),
        "the line readln gave (left: yours, right: libevent's)"
    );
    assert_eq!(
        *seen.borrow(),
        [(12, 0, 5), (7, 0, 2)],
        "the line is removed (5 bytes), then its end of line (2 bytes): two changes, as \
         evbuffer_readln makes them (left: yours, right: libevent's)"
    );
    assert_eq!(
        buf.readln(EolStyle::Crlf),
        None,
        "the line readln gave (left: yours, right: libevent's)"
    );
    assert_eq!(
        seen.borrow().len(),
        2,
        "no line: no change, no callback (left: yours, right: libevent's)"
    );
}
