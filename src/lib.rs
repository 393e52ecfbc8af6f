//! # minievent — libevent 2.1.12's core, read and rebuilt in Rust
//!
//! minievent re-implements the part of libevent that its four basic calls use — `event_base_new`,
//! `event_new`, `event_add`, `event_base_dispatch` — on raw `libc` calls, one file per libevent
//! concept, so that both can be read side by side and their system-call traces compared line by line.
//! The book in `book/` walks through it; `traces/` holds the recorded traces of both.
//!
//! ```no_run
//! use minievent::{Base, EV_READ, EV_PERSIST};
//! # fn main() -> minievent::Result<()> {
//! let mut base = Base::new()?;                                        // event_base_new()
//! let ev = base.event_new(0, EV_READ | EV_PERSIST, |base, fd, what, me| {   // event_new()
//!     println!("fd {fd} is ready: {what:?}");
//!     base.event_free(me).unwrap();
//! })?;
//! base.event_add(ev, None)?;                                          // event_add()
//! base.dispatch()?;                                                   // event_base_dispatch()
//! # Ok(()) }
//! ```
//!
//! ## libevent → minievent
//!
//! | libevent | minievent | file |
//! |---|---|---|
//! | `struct event_base`, `event_base_new[_with_config]` | [`Base`], [`Base::new`], [`Base::with_config`] | base.rs |
//! | `event_base_get_method`, `_get_features` | [`Base::method`], [`Base::features`] | base.rs |
//! | `event_base_priority_init`, `event_priority_set` | [`Base::priority_init`], [`Base::event_priority_set`] | base.rs, event.rs |
//! | `struct event_config`, `event_config_avoid_method`, `_require_features`, `_set_flag` | [`Config`] | config.rs |
//! | `EVENT_BASE_FLAG_*` | [`BaseFlags`] | config.rs |
//! | `struct eventop`, `eventops[]` | [`Backend`], [`EventOp`], [`backend::PREFERENCE`] | backend/mod.rs |
//! | `epollops`, `pollops`, `selectops` | [`backend::epoll::Epoll`], [`backend::poll::Poll`], [`backend::select::Select`] | backend/ |
//! | `epoll_op_table`, `epoll_apply_one_change` | [`backend::epoll::epoll_op`], [`backend::epoll::Epoll::apply_one_change`] | backend/epoll.rs |
//! | `EV_FEATURE_*` | [`Features`] | backend/mod.rs |
//! | `struct event`, `event_new`, `event_assign`, `event_self_cbarg` | [`EventId`], [`Base::event_new`] (callbacks get their own id) | event.rs |
//! | `event_add`, `event_del`, `event_active`, `event_pending`, `event_free` | [`Base::event_add`], [`Base::event_del`], [`Base::event_active`], [`Base::event_pending`], [`Base::event_free`] | event.rs |
//! | `EV_READ`, `EV_WRITE`, `EV_CLOSED`, `EV_PERSIST`, `EV_ET`, `EV_TIMEOUT`, `EV_SIGNAL` | the same names, of type [`Ev`] | event.rs |
//! | `struct evmap_io`, `evmap_io_add_`, `_del_`, `_active_` | [`evmap::EvmapIo`], [`evmap::IoMap::add`], [`evmap::IoMap::del`], `Base::evmap_io_active` | evmap.rs |
//! | `struct min_heap` | [`minheap::MinHeap`] | minheap.rs |
//! | `event_base_init_common_timeout`, `struct common_timeout_list`, `MAX_COMMON_TIMEOUTS` | [`Base::init_common_timeout`], [`common_timeout::MAX_COMMON_TIMEOUTS`] | common_timeout.rs |
//! | `event_remove_timer`, the deadline `event_pending` reports | [`Base::event_remove_timer`], [`Base::event_pending_deadline`] | event.rs |
//! | `event_base_gettimeofday_cached`, `event_base_update_cache_time` | [`Base::gettimeofday_cached`], [`Base::update_cache_time`] | base.rs |
//! | `event_base_loopcontinue`, `event_config_set_max_dispatch_interval` | [`Base::loopcontinue`], [`Config::max_dispatch_interval`] | event_loop.rs, config.rs |
//! | `event_base_dispatch`, `event_base_loop`, `EVLOOP_*` | [`Base::dispatch`], [`Base::run`] (panic-safe, around `event_base_loop`), [`LoopFlags`] | event_loop.rs |
//! | `event_base_loopexit`, `_loopbreak`, `_once` | [`Base::loopexit`], [`Base::loopbreak`], [`Base::once`] | event_loop.rs |
//! | `evsig_init_` (the signal pipe), `struct evsig_info` | [`signal::Evsig`] | signal.rs |
//! | `evsignal_new`, `evsig_add`, `evsig_del`, `evsig_handler`, `evsig_cb`, `event_base_active_by_signal` | [`Base::evsignal_new`], `Base::evsig_add`, `Base::evsig_del`, the handler and `Base::evsig_cb` in signal.rs, [`Base::active_by_signal`] | signal.rs, event.rs |
//! | `struct event_signal_map`, `evmap_signal_add_`, `_del_`, `_active_` | [`evmap::SignalMap`] | evmap.rs |
//! | `event_reinit`, `evmap_reinit_` | [`Base::reinit`] | base.rs |
//! | `evutil_closesocket`, `-1` + `errno` | [`sys::close_owned`], [`sys::Fd`], [`Error`] | sys.rs, error.rs |
//! | `evutil_gettime_monotonic_` | [`time::MonotonicTimer`] | time.rs |
//! | `evutil_make_socket_nonblocking`, … | [`util`] | util.rs |
//! | `event_warn`, `event_msgx` | [`log`] | log.rs |
//! | `struct evbuffer`, `struct evbuffer_chain`, `evbuffer_new` | [`Evbuffer`], [`Evbuffer::new`], [`buffer::ChainInfo`] | buffer.rs |
//! | `evbuffer_add`, `_add_buffer`, `_drain`, `_remove`, `_copyout`, `_peek`, `_get_length` | [`Evbuffer::add`], [`Evbuffer::add_buffer`], [`Evbuffer::drain`], [`Evbuffer::remove`], [`Evbuffer::copyout`], [`Evbuffer::peek`], [`Evbuffer::len`] | buffer.rs |
//! | `evbuffer_readln`, `evbuffer_search_eol`, `enum evbuffer_eol_style` (`EVBUFFER_EOL_*`) | [`Evbuffer::readln`], [`Evbuffer::search_eol`], [`EolStyle`] | buffer.rs |
//! | `evbuffer_search`, `_search_range`, `_pullup`, `_prepend`, `_add_printf` | [`Evbuffer::search`], [`Evbuffer::search_range`], [`Evbuffer::pullup`], [`Evbuffer::prepend`], [`Evbuffer::add_fmt`] | buffer.rs |
//! | `evbuffer_add_cb`, `_remove_cb`, `struct evbuffer_cb_info` | [`Evbuffer::add_cb`], [`Evbuffer::remove_cb`], [`buffer::CbInfo`] | buffer.rs |
//! | `evbuffer_read`, `evbuffer_write_atmost` | [`Evbuffer::read_from_fd`], [`Evbuffer::write_to_fd`] | buffer.rs |
//! | `struct bufferevent`, `bufferevent_socket_new`, `bufferevent_free` | [`Bufferevent`], [`Bufferevent::socket_new`], [`Bufferevent::socket_new_owned`], [`Bufferevent::free`] | bufferevent.rs, bufferevent_sock.rs |
//! | `bufferevent_setcb`, `_enable`, `_disable`, `_setwatermark`, `_get_input`, `_get_output` | [`Bufferevent::setcb`], [`Bufferevent::enable`], [`Bufferevent::disable`], [`Bufferevent::setwatermark`], [`Bufferevent::get_input`] / [`Bufferevent::with_input`], [`Bufferevent::get_output`] / [`Bufferevent::with_output`] | bufferevent.rs |
//! | `bufferevent_set_timeouts`, `bufferevent_getwatermark` | [`Bufferevent::set_timeouts`], [`Bufferevent::getwatermark`] | bufferevent.rs |
//! | `bufferevent_socket_new(-1)` + `bufferevent_socket_connect`, `evutil_socket_finished_connecting_` | [`Bufferevent::socket_connect`] | bufferevent_sock.rs |
//! | `bufferevent_write`, `_write_buffer`, `_read`, `_read_buffer` | [`Bufferevent::write`], [`Bufferevent::write_buffer`], [`Bufferevent::read`], [`Bufferevent::read_buffer`] | bufferevent.rs |
//! | `struct evconnlistener`, `evconnlistener_new`, `evconnlistener_new_bind`, `evconnlistener_free` | [`Listener`], [`Listener::new`], [`Listener::new_bind`], [`Listener::free`] | listener.rs |
//! | `evconnlistener_enable`, `evconnlistener_disable`, `evconnlistener_set_error_cb`, `evconnlistener_get_fd`, `evconnlistener_get_base`, `listener_read_cb` | [`Listener::enable`], [`Listener::disable`], [`Listener::set_error_cb`], [`Listener::get_fd`], [`Listener::belongs_to`], `Listener::listener_read_cb` | listener.rs |
//! | `LEV_OPT_*` | [`LevOpt`], [`LEV_OPT_CLOSE_ON_FREE`] … | listener.rs |
//! | `BEV_EVENT_*`, `BEV_OPT_CLOSE_ON_FREE` | [`BevEvent`], [`BEV_EVENT_EOF`] …, [`BEV_OPT_CLOSE_ON_FREE`] | bufferevent.rs |
//! | `event_get_supported_methods`, `event_get_version`, `event_get_version_number` | [`backend::supported_methods`], [`event::get_version`], [`event::get_version_number`] | backend/mod.rs, event.rs |
//! | `event_base_get_num_events`, `event_base_get_max_events`, `EVENT_BASE_COUNT_*` | [`Base::get_num_events`], [`Base::get_max_events`], [`base::EventBaseCount`] | base.rs |
//! | `event_gettime_monotonic`, `event_base_get_running_event`, `event_get_priority` | [`Base::gettime_monotonic`], [`Base::get_running_event`], [`Base::event_get_priority`] | base.rs, event.rs |
//! | `event_base_active_by_fd`, `event_base_foreach_event`, `event_base_dump_events` | [`Base::active_by_fd`], [`Base::foreach_event`], [`Base::dump_events`] | base.rs |
//! | `event_set_log_callback`, `EVENT_LOG_*` | [`log::set_log_callback`], [`log::Severity`] | log.rs |
//! | `evbuffer_get_contiguous_space`, `evbuffer_expand`, `evbuffer_add_iovec`, `evbuffer_ptr_set`, `evbuffer_copyout_from` | [`Evbuffer::get_contiguous_space`], [`Evbuffer::expand`], [`Evbuffer::add_iovec`], [`Evbuffer::ptr_set`], [`Evbuffer::copyout_from`] | buffer.rs |
//! | `evbuffer_remove_buffer`, `evbuffer_prepend_buffer`, `evbuffer_cb_set_flags`, `evbuffer_cb_clear_flags` | [`Evbuffer::remove_buffer`], [`Evbuffer::prepend_buffer`], [`Evbuffer::cb_set_flags`], [`Evbuffer::cb_clear_flags`] | buffer.rs |
//! | `bufferevent_priority_set`, `bufferevent_get_priority` | [`Bufferevent::priority_set`], [`Bufferevent::get_priority`] | bufferevent_sock.rs |
//! | `bufferevent_trigger`, `bufferevent_trigger_event`, `bufferevent_flush` | [`Bufferevent::trigger`], [`Bufferevent::trigger_event`], [`Bufferevent::flush`] | bufferevent.rs |
//! | `bufferevent_set_max_single_read`, `_write`, `bufferevent_get_max_single_read`, `_write` | [`Bufferevent::set_max_single_read`], [`Bufferevent::set_max_single_write`], [`Bufferevent::get_max_single_read`], [`Bufferevent::get_max_single_write`] | bufferevent.rs |
//! | `evconnlistener_set_cb` | [`Listener::set_cb`] | listener.rs |

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "minievent supports Linux on x86_64 only: it calls epoll and compares syscall traces recorded there"
);

pub mod backend;
pub mod base;
pub mod buffer;
pub mod bufferevent;
pub mod bufferevent_sock;
pub mod changelist;
pub mod common_timeout;
pub mod config;
pub mod error;
pub mod event;
pub mod event_loop;
pub mod evmap;
pub mod listener;
pub mod log;
pub mod minheap;
pub mod signal;
pub mod sys;
pub mod time;
pub mod util;

pub use backend::{Backend, EventOp, Features};
pub use base::Base;
pub use buffer::{EolStyle, Evbuffer};
pub use bufferevent::{
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_READING, BEV_EVENT_TIMEOUT,
    BEV_EVENT_WRITING, BEV_OPT_CLOSE_ON_FREE, BEV_OPT_MINIEVENT_EAGER, BEV_OPT_NONE, BevEvent,
    BevOptions, Bufferevent, EvbufferRef,
};
pub use config::{BaseFlags, Config};
pub use error::{Error, Result};
pub use event::{
    EV_CLOSED, EV_ET, EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, EV_WRITE, Ev, EventId,
};
pub use event_loop::{LoopExit, LoopFlags};
pub use listener::{
    LEV_OPT_BIND_IPV6ONLY, LEV_OPT_CLOSE_ON_EXEC, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_DEFERRED_ACCEPT,
    LEV_OPT_DISABLED, LEV_OPT_LEAVE_SOCKETS_BLOCKING, LEV_OPT_REUSEABLE, LEV_OPT_REUSEABLE_PORT,
    LevOpt, Listener,
};
