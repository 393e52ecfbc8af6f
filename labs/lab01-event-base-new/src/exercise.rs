//! Lab 1 — `event_base_new`: which backend a base gets, and what creating the epoll one costs.
//!
//! Write the two functions below. Everything else in this lab is minievent's own code: `Base::new`
//! and `Base::with_config` (src/base.rs) call your `choose_backend`, and the epoll row of the
//! preference table calls your `Epoll::new` (through `Epoll::init`, which boxes it). `just lab 1`
//! runs the tests; `just hint 1` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - `cfg.methods` (the preference table to walk, a `Vec<EventOp>`), `cfg.require` (the required
//!   `Features`), `cfg.is_avoided(name)`; `crate::config::is_method_disabled(name)` reads
//!   `EVENT_NO<NAME>`;
//! - an `EventOp` row has `name`, `features` (`op.features.contains(..)`) and `init`, a
//!   `fn() -> Result<Box<dyn Backend>>` you call as `(op.init)()`;
//! - `crate::error::Error::Invalid(String)` for an error that is not a failed syscall;
//! - `crate::sys::cvt(ret, "call")` turns a syscall's `-1` into an `Err` carrying errno;
//!   `crate::util::make_socket_closeonexec(fd)`; the constant
//!   `crate::backend::epoll::INITIAL_NEVENT`; the struct `Epoll { epfd, events }`, where `events`
//!   is the `Vec<libc::epoll_event>` epoll_wait fills.

use crate::backend::epoll::Epoll;
use crate::backend::{Backend, EventOp};
use crate::config::Config;
use crate::error::Result;

/// Walks `cfg.methods` in order and returns the first row that is not avoided, has every required
/// feature and — when `check_env` — is not disabled by `EVENT_NO<NAME>`, together with the backend
/// its `init` returned. A row whose `init` fails is skipped like a disabled one; a row that is
/// skipped is never initialised. When no row is left, an error that says so ("no event mechanism
/// available").
///
/// libevent: the `eventops[]` loop of `event_base_new_with_config()` (event.c).
pub fn choose_backend(cfg: &Config, check_env: bool) -> Result<(EventOp, Box<dyn Backend>)> {
    let _ = (cfg, check_env); // delete this line when you use them
    todo!("lab 1: choose_backend — read chapter 1, section \"How the backend is chosen\"")
}

impl Epoll {
    /// Creates the epoll instance: `epoll_create1(EPOLL_CLOEXEC)`; if that fails, the old
    /// `epoll_create(32000)` followed by setting close-on-exec by hand. The events array starts
    /// with `INITIAL_NEVENT` (32) entries.
    ///
    /// libevent: `epoll_init()` (epoll.c).
    pub fn new() -> Result<Epoll> {
        todo!("lab 1: Epoll::new — read chapter 1, section \"epoll_init\"")
    }
}
