//! Lab 9 — readln: taking whole lines off an evbuffer. A line protocol's read callback calls
//! `readln` until it returns `None`: each call finds the first end of line in the buffer, removes
//! the line and its end, and hands the line over; a partial line stays until the rest of it
//! arrives. What counts as an end of line is the `EolStyle`, one of libevent's five.
//!
//! Write `search_eol` and `readln` below. Everything else in this lab is minievent's own code:
//! the evbuffer's chains, `add`, `remove`, `drain`, the bufferevent that reads from a socket into
//! its input, and the line server `upper_lines`, whose read callback is a `readln` loop.
//! `just lab 9` runs the tests; `just hint 9` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - `self.len()`: how many bytes the buffer holds; `self.peek(None)`: every chain's bytes, in
//!   order, as slices (`Vec<&[u8]>`; a chain may be empty). The bytes of a line — and of an end
//!   of line, `\r` in one chain and `\n` in the next — may lie in several chains;
//! - `self.search(what, start)`: where the first `what` at or after `start` begins (`None` if
//!   there is none);
//! - `self.remove(&mut out)`: moves `out.len()` bytes from the front into `out`;
//!   `self.drain(n)`: throws `n` bytes away from the front;
//! - `EolStyle::{Any, Crlf, CrlfStrict, Lf, Nul}` (`crate::buffer`; libevent's
//!   `EVBUFFER_EOL_*`).

use crate::buffer::{EolStyle, Evbuffer};

impl Evbuffer {
    /// Where the first end of line at or after position `start` begins, and how many bytes it
    /// has; `None` if there is none. `style` says what an end of line is:
    /// - `Any`: the first `\r` or `\n`, with every `\r` and `\n` right after it (any number, any
    ///   order);
    /// - `Crlf`: the first `\n`, together with the `\r` right before it if there is one — but not
    ///   a `\r` before `start`;
    /// - `CrlfStrict`: the first `\r\n`, and nothing else;
    /// - `Lf`: the first `\n`;
    /// - `Nul`: the first NUL byte (`0`).
    ///
    /// libevent: `evbuffer_search_eol()` (buffer.c).
    pub fn search_eol(&self, start: usize, style: EolStyle) -> Option<(usize, usize)> {
        let _ = (start, style); // delete this line when you use them
        todo!("lab 9: Evbuffer::search_eol — read chapter 11, section \"evbuffer's user API\"")
    }

    /// Removes the first line and its end of line (as `style` recognises it, from position 0) and
    /// returns the line without its end; `None`, removing nothing, when the buffer holds no end
    /// of line yet. The line is removed first, then its end of line: the buffer's callbacks see
    /// two changes, as libevent's do.
    ///
    /// libevent: `evbuffer_readln()` (buffer.c; a NUL-terminated copy there, the bytes here).
    pub fn readln(&mut self, style: EolStyle) -> Option<Vec<u8>> {
        let _ = style; // delete this line when you use it
        todo!("lab 9: Evbuffer::readln — read chapter 11, section \"evbuffer's user API\"")
    }
}
