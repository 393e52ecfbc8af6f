//! The evbuffer: bytes kept in a chain of chunks. libevent: buffer.c, evbuffer-internal.h
//! (`struct evbuffer`, `struct evbuffer_chain`, `evbuffer_add`, `evbuffer_add_buffer`,
//! `evbuffer_drain`, `evbuffer_remove`, `evbuffer_copyout`, `evbuffer_peek`, `evbuffer_read`,
//! `evbuffer_write_atmost`).
//!
//! An evbuffer is a list of *chains*: each chain is one allocation with unused room at its front
//! (`misalign`, left behind by drains), the bytes it holds (`off`), and free room at its end.
//! Moving data between buffers moves whole chains, never bytes; draining frees the chains it
//! empties. libevent sizes every chain the same way — one allocation of a power of two, at least
//! 1024 bytes, that also holds the chain's header — and minievent copies those sizes exactly,
//! because they decide the `iov_len` of every `readv` a trace shows.
//!
//! Reading from a socket ([`Evbuffer::read_from_fd`]) asks the kernel how much is waiting
//! (`ioctl(FIONREAD)`), caps that at [`EVBUFFER_MAX_READ`], makes sure the last chains have that
//! much room, and reads into them with one `readv`. Writing ([`Evbuffer::write_to_fd`]) hands the
//! first chains to one `writev` and drains what the kernel took.

use crate::error::{Error, Result};
use crate::sys::{cvt, cvt_size};
use std::collections::VecDeque;
use std::fmt;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};

// ANCHOR: sizes
/// The smallest allocation for a chain (64-bit builds). libevent: `MIN_BUFFER_SIZE`.
pub const MIN_BUFFER_SIZE: usize = 1024;
/// The chain header libevent keeps at the front of every chain's allocation:
/// `sizeof(struct evbuffer_chain)` on x86_64. A chain asked for `n` bytes gets the smallest
/// power of two ≥ `n + 48` (at least 1024), and `48` less than that for data. libevent:
/// `EVBUFFER_CHAIN_SIZE`.
pub const EVBUFFER_CHAIN_SIZE: usize = 48;
/// `evbuffer_add` grows a new chain to twice the last one's size, up to this. libevent:
/// `EVBUFFER_CHAIN_MAX_AUTO_SIZE`.
pub const EVBUFFER_CHAIN_MAX_AUTO_SIZE: usize = 4096;
/// The most one `evbuffer_read` reads, whatever FIONREAD says. libevent: `EVBUFFER_MAX_READ`.
pub const EVBUFFER_MAX_READ: usize = 4096;
/// How many chains one `readv` may fill. libevent: `NUM_READ_IOVEC`.
pub const NUM_READ_IOVEC: usize = 4;
/// How many chains one `writev` may send (`DEFAULT_WRITE_IOVEC`, as Linux's `IOV_MAX` is larger).
/// libevent: `NUM_WRITE_IOVEC`.
pub const NUM_WRITE_IOVEC: usize = 128;
/// `evbuffer_add` moves a chain's bytes back to its front (rather than add a chain) only when
/// there are at most this many. libevent: `MAX_TO_REALIGN_IN_EXPAND`.
pub const MAX_TO_REALIGN_IN_EXPAND: usize = 2048;
/// `evbuffer_expand` grows a chain by copying it only when it holds at most this many bytes.
/// libevent: `MAX_TO_COPY_IN_EXPAND`.
pub const MAX_TO_COPY_IN_EXPAND: usize = 4096;
// ANCHOR_END: sizes

// ANCHOR: chain
/// One chunk of an evbuffer. libevent: `struct evbuffer_chain`.
///
/// The memory is not zeroed when the chain is made (libevent's `mm_malloc` does not zero it
/// either): only the bytes a copy or a `readv` wrote are ever read. Invariant: the `off` bytes
/// after `misalign` are initialised.
struct Chain {
    /// The chain's memory; its length is libevent's `buffer_len`.
    buffer: Box<[MaybeUninit<u8>]>,
    /// Unused bytes at the front, left by drains. libevent: `misalign`.
    misalign: usize,
    /// How many bytes the chain holds, after `misalign`. libevent: `off`.
    off: usize,
}

impl Chain {
    /// A chain with room for at least `size` bytes. libevent: `evbuffer_chain_new()`.
    fn new(size: usize) -> Chain {
        let size = size + EVBUFFER_CHAIN_SIZE;
        let to_alloc = if size < isize::MAX as usize / 2 {
            size.next_power_of_two().max(MIN_BUFFER_SIZE)
        } else {
            size
        };
        Chain {
            buffer: chain_cache::take(to_alloc - EVBUFFER_CHAIN_SIZE),
            misalign: 0,
            off: 0,
        }
    }

    /// Free room at the end. libevent: `CHAIN_SPACE_LEN()`.
    fn space_len(&self) -> usize {
        self.buffer.len() - self.misalign - self.off
    }
}
// ANCHOR_END: chain

/// A freed chain's memory goes back to the cache, for the next chain of its size.
/// libevent: `evbuffer_chain_free()` (`mm_free`).
impl Drop for Chain {
    fn drop(&mut self) {
        chain_cache::give_back(std::mem::take(&mut self.buffer));
    }
}

impl Chain {
    /// The bytes the chain holds.
    fn data(&self) -> &[u8] {
        let held = &self.buffer[self.misalign..self.misalign + self.off];
        // SAFETY: the chain's invariant: the `off` bytes after `misalign` were written (by a
        // copy or by readv), so they are initialised u8s.
        unsafe { &*(held as *const [MaybeUninit<u8>] as *const [u8]) }
    }

    /// Copies `data` into the chain's memory at `at` (which must fit), without changing what
    /// the chain holds: the caller moves `misalign` / `off` over it.
    fn write_at(&mut self, at: usize, data: &[u8]) {
        let room = &mut self.buffer[at..at + data.len()];
        // SAFETY: `room` is `data.len()` bytes of the chain's memory (the slice above checked
        // the bounds), writable, and cannot overlap `data`, borrowed while `self` is borrowed
        // mutably. (`<[MaybeUninit<u8>]>::write_copy_of_slice` is newer than the MSRV.)
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), room.as_mut_ptr().cast(), data.len())
        };
    }

    /// Whether moving the bytes to the front is worth it to fit `datlen` more.
    /// libevent: `evbuffer_chain_should_realign()`.
    fn should_realign(&self, datlen: usize) -> bool {
        self.buffer.len() - self.off >= datlen
            && self.off < self.buffer.len() / 2
            && self.off <= MAX_TO_REALIGN_IN_EXPAND
    }

    /// Moves the bytes to the front of the chain. libevent: `evbuffer_chain_align()`.
    fn align(&mut self) {
        self.buffer
            .copy_within(self.misalign..self.misalign + self.off, 0);
        self.misalign = 0;
    }

    /// Appends all of `data`, which fits.
    fn append_exact(&mut self, data: &[u8]) {
        let n = self.append(data);
        debug_assert_eq!(n, data.len(), "the chain has the room");
    }

    /// Appends as much of `data` as fits; returns how much did.
    fn append(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.space_len());
        self.write_at(self.misalign + self.off, &data[..n]);
        self.off += n;
        n
    }
}

/// The memory of freed chains, kept for the next chains of the same size, so that an echo's
/// steady state — a chain made by each read, freed by the write that empties it — allocates
/// nothing. libevent has none: every `evbuffer_chain_new` is a `malloc`, every
/// `evbuffer_chain_free` a `free`. Only the common sizes (allocations of 1024 to 8192 bytes)
/// are kept, [`chain_cache::KEEP`] of each, so an idle connection holds no chain and the cache
/// stays a few KiB; the chains' sizes, and so every trace, are libevent's.
mod chain_cache {
    use super::{EVBUFFER_CHAIN_SIZE, MIN_BUFFER_SIZE};
    use std::cell::RefCell;
    use std::mem::MaybeUninit;

    /// How many freed chains of each size are kept.
    pub(super) const KEEP: usize = 8;
    /// The sizes kept: allocations of 1024, 2048, 4096 and 8192 bytes.
    const SIZES: usize = 4;

    type Memory = Box<[MaybeUninit<u8>]>;

    thread_local! {
        static FREE: RefCell<[Vec<Memory>; SIZES]> = const {
            RefCell::new([Vec::new(), Vec::new(), Vec::new(), Vec::new()])
        };
    }

    /// Which list keeps chains of `len` bytes of room, if any does.
    #[inline]
    fn class(len: usize) -> Option<usize> {
        let alloc = len + EVBUFFER_CHAIN_SIZE;
        let class = (alloc / MIN_BUFFER_SIZE).trailing_zeros() as usize;
        (alloc.is_power_of_two() && alloc >= MIN_BUFFER_SIZE && class < SIZES).then_some(class)
    }

    /// Memory for a chain with `len` bytes of room: a kept one, or a new allocation (not zeroed).
    #[inline]
    pub(super) fn take(len: usize) -> Memory {
        class(len)
            .and_then(|c| FREE.with(|free| free.borrow_mut()[c].pop()))
            .unwrap_or_else(|| Box::new_uninit_slice(len))
    }

    /// Keeps the memory of a freed chain if its list has room; frees it otherwise.
    #[inline]
    pub(super) fn give_back(memory: Memory) {
        if let Some(c) = class(memory.len()) {
            // A thread being torn down has no cache any more: the memory is then just freed.
            let _ = FREE.try_with(|free| {
                let list = &mut free.borrow_mut()[c];
                if list.len() < KEEP {
                    list.push(memory);
                }
            });
        }
    }
}

/// The length and counters as an evbuffer call starts (see `Evbuffer::invoke_callbacks`).
#[derive(Clone, Copy)]
struct CbMark {
    orig_size: usize,
    n_add: usize,
    n_del: usize,
}

/// What a chain looks like, for tests and the book: `buffer_len` is the room it was allocated
/// with, `misalign` the drained bytes at its front, `off` the bytes it holds.
/// libevent has no public equivalent (its tests read `struct evbuffer_chain` directly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    /// libevent: `chain->buffer_len`.
    pub buffer_len: usize,
    /// libevent: `chain->misalign`.
    pub misalign: usize,
    /// libevent: `chain->off`.
    pub off: usize,
}

/// How much an evbuffer changed since its callbacks last ran. libevent: `struct evbuffer_cb_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CbInfo {
    /// The length before the changes. libevent: `orig_size`.
    pub orig_size: usize,
    /// Bytes added. libevent: `n_added`.
    pub n_added: usize,
    /// Bytes removed. libevent: `n_deleted`.
    pub n_deleted: usize,
}

/// A callback run inside every evbuffer call that changes the buffer's length, with the buffer
/// (read-only) and what changed. libevent: `evbuffer_cb_func`
/// (`void (*)(struct evbuffer *, const struct evbuffer_cb_info *, void *arg)`).
pub type BufferCallback = Box<dyn FnMut(&Evbuffer, &CbInfo)>;

bitflags::bitflags! {
    /// The flags of a callback added by [`Evbuffer::add_cb`]. libevent: `EVBUFFER_CB_ENABLED`
    /// (libevent's other user flag, `EVBUFFER_CB_NODEFER`, has no use here: minievent's
    /// evbuffers never defer their callbacks).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct EvbufferCbFlags: u32 {
        /// The callback runs; a callback without it is skipped. Set by `add_cb`.
        /// libevent: `EVBUFFER_CB_ENABLED`.
        const ENABLED = 1;
    }
}

/// How [`Evbuffer::ptr_set`] moves a position. libevent: `enum evbuffer_ptr_how`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtrHow {
    /// To the given position. libevent: `EVBUFFER_PTR_SET`.
    Set,
    /// Forward by the given count. libevent: `EVBUFFER_PTR_ADD`.
    Add,
}

/// Names a callback added by [`Evbuffer::add_cb`], to remove it. libevent: the
/// `struct evbuffer_cb_entry *` that `evbuffer_add_cb()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CbHandle(u64);

// ANCHOR: eol_style
/// How the end of a line is recognised. libevent: `enum evbuffer_eol_style`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EolStyle {
    /// Any run of `\r` and `\n` characters, in any order and number. libevent: `EVBUFFER_EOL_ANY`.
    Any,
    /// `\n`, or `\r\n` (the `\r` then belongs to the end of line). libevent: `EVBUFFER_EOL_CRLF`.
    Crlf,
    /// Exactly `\r\n`. libevent: `EVBUFFER_EOL_CRLF_STRICT`.
    CrlfStrict,
    /// `\n`. libevent: `EVBUFFER_EOL_LF`.
    Lf,
    /// A NUL byte. libevent: `EVBUFFER_EOL_NUL`.
    Nul,
}
// ANCHOR_END: eol_style

/// libevent: `EVBUFFER_EOL_ANY`.
pub const EVBUFFER_EOL_ANY: EolStyle = EolStyle::Any;
/// libevent: `EVBUFFER_EOL_CRLF`.
pub const EVBUFFER_EOL_CRLF: EolStyle = EolStyle::Crlf;
/// libevent: `EVBUFFER_EOL_CRLF_STRICT`.
pub const EVBUFFER_EOL_CRLF_STRICT: EolStyle = EolStyle::CrlfStrict;
/// libevent: `EVBUFFER_EOL_LF`.
pub const EVBUFFER_EOL_LF: EolStyle = EolStyle::Lf;
/// libevent: `EVBUFFER_EOL_NUL`.
pub const EVBUFFER_EOL_NUL: EolStyle = EolStyle::Nul;

// ANCHOR: evbuffer
/// A buffer of bytes kept as a chain of chunks. libevent: `struct evbuffer`.
#[derive(Default)]
pub struct Evbuffer {
    /// First to last chain. libevent: `first` … `last`, linked by `next`.
    chains: VecDeque<Chain>,
    /// The index of the last chain that holds data (0 when none does). libevent:
    /// `last_with_datap`, a pointer to the `next` pointer that points at that chain.
    last_with_data: usize,
    /// Bytes held in all chains. libevent: `total_len`.
    total_len: usize,
    /// Bytes added / removed since the callbacks last ran. libevent: `n_add_for_cb`,
    /// `n_del_for_cb`.
    n_add_for_cb: usize,
    n_del_for_cb: usize,
    /// The user's callbacks, made by the first [`Evbuffer::add_cb`] (most buffers, a
    /// bufferevent's among them, never have one: a pointer is all they pay). libevent:
    /// `callbacks`.
    callbacks: Option<Box<UserCallbacks>>,
}
// ANCHOR_END: evbuffer

/// The callbacks added by [`Evbuffer::add_cb`].
#[derive(Default)]
struct UserCallbacks {
    /// Newest first. libevent: `callbacks` (a `LIST` of `struct evbuffer_cb_entry`, inserted at
    /// its head).
    list: Vec<(CbHandle, EvbufferCbFlags, BufferCallback)>,
    /// The handle the next [`Evbuffer::add_cb`] returns.
    next: u64,
}

/// Appends text, as [`Evbuffer::add_fmt`] does: `write!(buf, ...)` works on an evbuffer.
impl fmt::Write for Evbuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.add(s.as_bytes());
        Ok(())
    }
}

impl std::fmt::Debug for Evbuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evbuffer")
            .field("total_len", &self.total_len)
            .field("chains", &self.chains())
            .field("last_with_data", &self.last_with_data)
            .finish()
    }
}

impl Evbuffer {
    /// An empty buffer, without any chain. libevent: `evbuffer_new()`.
    pub fn new() -> Evbuffer {
        Evbuffer::default()
    }

    /// How many bytes the buffer holds. libevent: `evbuffer_get_length()`.
    pub fn len(&self) -> usize {
        self.total_len
    }

    /// `true` when the buffer holds no byte (it may still have empty chains).
    /// libevent: `evbuffer_get_length() == 0`.
    pub fn is_empty(&self) -> bool {
        self.total_len == 0
    }

    /// Every chain, first to last. libevent: none public (see [`ChainInfo`]).
    pub fn chains(&self) -> Vec<ChainInfo> {
        self.chains
            .iter()
            .map(|c| ChainInfo {
                buffer_len: c.buffer.len(),
                misalign: c.misalign,
                off: c.off,
            })
            .collect()
    }

    /// What changed since the last call, and forget it. The bufferevent runs its buffer callbacks
    /// from this. libevent: the counting half of `evbuffer_run_callbacks()`.
    pub fn take_cb_info(&mut self) -> CbInfo {
        let info = CbInfo {
            orig_size: self.total_len + self.n_del_for_cb - self.n_add_for_cb,
            n_added: self.n_add_for_cb,
            n_deleted: self.n_del_for_cb,
        };
        self.n_add_for_cb = 0;
        self.n_del_for_cb = 0;
        info
    }

    // ANCHOR: chain_insert
    /// Frees the empty chains after the last chain with data (that one too, if it is empty);
    /// returns where a new chain goes. libevent: `evbuffer_free_trailing_empty_chains()`.
    fn free_trailing_empty_chains(&mut self) -> usize {
        let mut at = self.last_with_data;
        while at < self.chains.len() && self.chains[at].off != 0 {
            at += 1;
        }
        self.chains.truncate(at);
        at
    }

    /// Appends a chain, freeing trailing empty chains first. libevent: `evbuffer_chain_insert()`.
    fn chain_insert(&mut self, chain: Chain) {
        let off = chain.off;
        if self.chains.is_empty() {
            self.chains.push_back(chain);
            self.last_with_data = 0;
        } else {
            let at = self.free_trailing_empty_chains();
            self.chains.push_back(chain);
            if off > 0 {
                self.last_with_data = at;
            }
        }
        self.total_len += off;
    }
    // ANCHOR_END: chain_insert

    // ANCHOR: add
    /// Appends a copy of `data`: into the last chain with data if it fits (moving that chain's
    /// bytes to its front first when that is cheap), else the rest into a new chain twice as big
    /// as the last one (up to 4096 bytes, or as big as needed). libevent: `evbuffer_add()`.
    pub fn add(&mut self, data: &[u8]) {
        let cb = self.cb_mark();
        if self.chains.is_empty() {
            self.chain_insert(Chain::new(data.len()));
        }
        let lwd = self.last_with_data;
        let chain = &mut self.chains[lwd];
        let remain = chain.space_len();
        if remain >= data.len() || chain.should_realign(data.len()) {
            if remain < data.len() {
                chain.align();
            }
            chain.append(data);
            self.total_len += data.len();
            self.n_add_for_cb += data.len();
            self.invoke_callbacks(cb);
            return;
        }
        let mut to_alloc = chain.buffer.len();
        if to_alloc <= EVBUFFER_CHAIN_MAX_AUTO_SIZE / 2 {
            to_alloc <<= 1;
        }
        let mut tmp = Chain::new(to_alloc.max(data.len()));
        let head = chain.append(data);
        tmp.append(&data[head..]);
        self.total_len += head;
        self.n_add_for_cb += data.len();
        self.chain_insert(tmp);
        self.invoke_callbacks(cb);
    }
    // ANCHOR_END: add

    // ANCHOR: add_buffer
    /// Moves every byte of `src` to the end of `self`: whole chains change hands, no byte is
    /// copied; `src` is left without chains. libevent: `evbuffer_add_buffer()` (`COPY_CHAIN` into
    /// an empty buffer, else `APPEND_CHAIN`).
    pub fn add_buffer(&mut self, src: &mut Evbuffer) {
        let in_total_len = src.total_len;
        if in_total_len == 0 {
            return;
        }
        let (src_cb, cb) = (src.cb_mark(), self.cb_mark());
        let src_lwd = src.last_with_data;
        if self.total_len == 0 {
            // There may be empty chains here: they are freed. (Swapped into `src` and cleared
            // there, so that each buffer keeps a chain list: moving an echo's input to its
            // output allocates nothing.)
            std::mem::swap(&mut self.chains, &mut src.chains);
            src.chains.clear();
            self.last_with_data = src_lwd;
        } else {
            let at = self.free_trailing_empty_chains();
            self.chains.append(&mut src.chains);
            self.last_with_data = at + src_lwd;
        }
        self.total_len += in_total_len;
        src.last_with_data = 0;
        src.total_len = 0;
        src.n_del_for_cb += in_total_len;
        self.n_add_for_cb += in_total_len;
        src.invoke_callbacks(src_cb);
        self.invoke_callbacks(cb);
    }
    // ANCHOR_END: add_buffer

    // ANCHOR: drain
    /// Removes the first `len` bytes (all of them if `len` is larger): chains that empty are
    /// freed, the first remaining one only has its `misalign` moved. libevent: `evbuffer_drain()`.
    pub fn drain(&mut self, len: usize) {
        let old_len = self.total_len;
        if old_len == 0 {
            return;
        }
        let cb = self.cb_mark();
        if len >= old_len {
            self.chains.clear();
            self.last_with_data = 0;
            self.total_len = 0;
            self.n_del_for_cb += old_len;
            self.invoke_callbacks(cb);
            return;
        }
        self.total_len -= len;
        let mut remaining = len;
        while remaining >= self.chains[0].off {
            remaining -= self.chains[0].off;
            self.chains.pop_front();
            self.last_with_data = self.last_with_data.saturating_sub(1);
        }
        let first = &mut self.chains[0];
        first.misalign += remaining;
        first.off -= remaining;
        self.n_del_for_cb += len;
        self.invoke_callbacks(cb);
    }
    // ANCHOR_END: drain

    // ANCHOR: remove
    /// Copies up to `out.len()` bytes from the front into `out` without removing them; returns how
    /// many. libevent: `evbuffer_copyout()`.
    pub fn copyout(&self, out: &mut [u8]) -> usize {
        let want = out.len().min(self.total_len);
        let mut done = 0;
        for chain in &self.chains {
            if done == want {
                break;
            }
            let data = chain.data();
            let n = data.len().min(want - done);
            out[done..done + n].copy_from_slice(&data[..n]);
            done += n;
        }
        done
    }

    /// Moves up to `out.len()` bytes from the front into `out`; returns how many.
    /// libevent: `evbuffer_remove()` (`evbuffer_copyout` then `evbuffer_drain`).
    pub fn remove(&mut self, out: &mut [u8]) -> usize {
        let n = self.copyout(out);
        if n > 0 {
            self.drain(n);
        }
        n
    }
    // ANCHOR_END: remove

    /// The chains' bytes, in place, from the front: enough whole chains to cover `len` bytes, or
    /// every chain for `None`. Empty chains are included, as libevent does. libevent:
    /// `evbuffer_peek()` (without a start position).
    pub fn peek(&self, len: Option<usize>) -> Vec<&[u8]> {
        let mut so_far = 0;
        let mut out = Vec::new();
        for chain in &self.chains {
            if len.is_some_and(|len| so_far >= len) {
                break;
            }
            out.push(chain.data());
            so_far += chain.off;
        }
        out
    }

    /// All the bytes, copied into one vector (a convenience for tests and callers that want a
    /// contiguous copy). libevent: `evbuffer_copyout()` of `evbuffer_get_length()` bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.total_len];
        self.copyout(&mut out);
        out
    }

    // ANCHOR: callbacks
    /// Adds a callback that runs inside every later call that changes the buffer's length —
    /// `add`, `add_buffer` (on both buffers), `prepend`, `drain`, `remove`, `readln`, reading
    /// from and writing to an fd — with what that call changed. Callbacks run newest first.
    /// libevent: `evbuffer_add_cb()` (callbacks run by `evbuffer_invoke_callbacks_()`).
    pub fn add_cb(&mut self, cb: impl FnMut(&Evbuffer, &CbInfo) + 'static) -> CbHandle {
        let user = self.callbacks.get_or_insert_default();
        let handle = CbHandle(user.next);
        user.next += 1;
        user.list
            .insert(0, (handle, EvbufferCbFlags::ENABLED, Box::new(cb)));
        handle
    }

    /// Removes a callback added by [`add_cb`](Self::add_cb); an error if it is not there (any
    /// more). libevent: `evbuffer_remove_cb_entry()` / `evbuffer_remove_cb()` (-1).
    pub fn remove_cb(&mut self, handle: CbHandle) -> Result<()> {
        let not_there = || Error::Invalid(format!("evbuffer_remove_cb: no callback {handle:?}"));
        let list = &mut self.callbacks.as_mut().ok_or_else(not_there)?.list;
        let at = list
            .iter()
            .position(|(h, _, _)| *h == handle)
            .ok_or_else(not_there)?;
        drop(list.remove(at));
        Ok(())
    }

    /// What [`invoke_callbacks`](Self::invoke_callbacks) compares against when a call ends: the
    /// length and the counters as the call starts.
    fn cb_mark(&self) -> CbMark {
        CbMark {
            orig_size: self.total_len,
            n_add: self.n_add_for_cb,
            n_del: self.n_del_for_cb,
        }
    }

    /// Runs the user's callbacks with what changed since `mark`, if anything did. The counters
    /// the bufferevent reads ([`take_cb_info`](Self::take_cb_info)) are left alone. A callback
    /// that panics leaves every callback in place. libevent: `evbuffer_invoke_callbacks_()` →
    /// `evbuffer_run_callbacks()`.
    #[inline]
    fn invoke_callbacks(&mut self, mark: CbMark) {
        if self
            .callbacks
            .as_ref()
            .is_none_or(|user| user.list.is_empty())
        {
            return;
        }
        self.run_user_callbacks(mark);
    }

    /// The body of [`invoke_callbacks`](Self::invoke_callbacks) when there are callbacks.
    fn run_user_callbacks(&mut self, mark: CbMark) {
        let info = CbInfo {
            orig_size: mark.orig_size,
            n_added: self.n_add_for_cb - mark.n_add,
            n_deleted: self.n_del_for_cb - mark.n_del,
        };
        if info.n_added == 0 && info.n_deleted == 0 {
            return;
        }
        let mut cbs = self.callbacks.take();
        let me = &*self;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            for (_, flags, cb) in cbs.iter_mut().flat_map(|user| user.list.iter_mut()) {
                if flags.contains(EvbufferCbFlags::ENABLED) {
                    cb(me, &info);
                }
            }
        }));
        self.callbacks = cbs;
        if let Err(payload) = outcome {
            panic::resume_unwind(payload);
        }
    }
    // ANCHOR_END: callbacks

    /// Every byte from position `start` on, across the chains.
    fn bytes_from(&self, start: usize) -> impl Iterator<Item = u8> + '_ {
        self.chains
            .iter()
            .flat_map(|c| c.data().iter().copied())
            .skip(start)
    }

    /// Whether the bytes at `pos` are `what`.
    fn matches_at(&self, pos: usize, what: &[u8]) -> bool {
        pos + what.len() <= self.total_len && self.bytes_from(pos).zip(what).all(|(a, b)| a == *b)
    }

    // ANCHOR: search
    /// The position of the first `what` that starts at or after `start`. An empty `what` is found
    /// at `start`. libevent: `evbuffer_search()` (positions are `evbuffer_ptr.pos`; `None` is
    /// `pos == -1`).
    pub fn search(&self, what: &[u8], start: usize) -> Option<usize> {
        self.search_range(what, start, None)
    }

    /// As [`search`](Self::search), but only a match that ends at or before `end` counts.
    /// libevent: `evbuffer_search_range()`.
    pub fn search_range(&self, what: &[u8], start: usize, end: Option<usize>) -> Option<usize> {
        if start > self.total_len {
            return None;
        }
        if what.is_empty() {
            return Some(start);
        }
        let limit = end.unwrap_or(self.total_len).min(self.total_len);
        let first = what[0];
        for (pos, byte) in (start..).zip(self.bytes_from(start)) {
            if pos + what.len() > limit {
                return None;
            }
            if byte == first && self.matches_at(pos, what) {
                return Some(pos);
            }
        }
        None
    }
    // ANCHOR_END: search

    // ANCHOR: readln
    /// Where the first end of line at or after `start` begins, and how long it is.
    /// libevent: `evbuffer_search_eol()`.
    pub fn search_eol(&self, start: usize, style: EolStyle) -> Option<(usize, usize)> {
        let find = |byte: u8| {
            self.bytes_from(start)
                .position(|b| b == byte)
                .map(|i| start + i)
        };
        match style {
            EolStyle::Any => {
                // The first CR or LF, and every CR or LF right after it.
                let at = self
                    .bytes_from(start)
                    .position(|b| b == b'\r' || b == b'\n')?
                    + start;
                let run = self
                    .bytes_from(at)
                    .take_while(|&b| b == b'\r' || b == b'\n')
                    .count();
                Some((at, run))
            }
            EolStyle::CrlfStrict => self.search(b"\r\n", start).map(|at| (at, 2)),
            EolStyle::Crlf => {
                // A LF, with the CR before it if there is one (but not before `start`).
                let at = find(b'\n')?;
                if at > start && self.bytes_from(at - 1).next() == Some(b'\r') {
                    Some((at - 1, 2))
                } else {
                    Some((at, 1))
                }
            }
            EolStyle::Lf => find(b'\n').map(|at| (at, 1)),
            EolStyle::Nul => find(0).map(|at| (at, 1)),
        }
    }

    /// Removes the first line and its end of line (as `style` recognises it) and returns the
    /// line without it; `None`, removing nothing, when the buffer holds no complete line. The
    /// callbacks run twice, as in libevent: for the line, then for its end. libevent:
    /// `evbuffer_readln()` (a NUL-terminated copy there; the bytes as they are here).
    pub fn readln(&mut self, style: EolStyle) -> Option<Vec<u8>> {
        let (at, eol_len) = self.search_eol(0, style)?;
        let mut line = vec![0; at];
        self.remove(&mut line);
        self.drain(eol_len);
        Some(line)
    }
    // ANCHOR_END: readln

    // ANCHOR: pullup
    /// Makes the first `size` bytes (every byte for `None`) contiguous in the first chain and
    /// returns them; `None` when `size` is 0 or more than the buffer holds. Already contiguous:
    /// nothing moves. Else they are copied into the first chain if it has the room behind its
    /// `misalign`, or into a new chain of `size` bytes put first; the chains emptied by the copy
    /// are freed and the next one loses its copied front. libevent: `evbuffer_pullup()`.
    pub fn pullup(&mut self, size: Option<usize>) -> Option<&[u8]> {
        let size = size.unwrap_or(self.total_len);
        if size == 0 || size > self.total_len {
            return None;
        }
        if self.chains[0].off < size {
            let first = &self.chains[0];
            let mut lwd = self.last_with_data;
            if first.buffer.len() - first.misalign < size {
                self.chains.push_front(Chain::new(size));
                lwd += 1;
            }
            // Copy into `target`; the chains to copy from are then from index 0 on (index
            // `removed + 1` before `target` was taken out).
            let mut target = self.chains.pop_front().expect("a first chain");
            let mut remaining = size - target.off;
            let mut removed = 0;
            let mut lwd_removed = false;
            while self.chains.front().is_some_and(|c| remaining >= c.off) {
                let next = self.chains.pop_front().expect("just seen");
                target.append_exact(next.data());
                remaining -= next.off;
                removed += 1;
                lwd_removed |= removed == lwd;
            }
            if remaining > 0 {
                let next = &mut self.chains[0];
                target.append_exact(&next.data()[..remaining]);
                next.misalign += remaining;
                next.off -= remaining;
            }
            self.chains.push_front(target);
            self.last_with_data = if lwd_removed { 0 } else { lwd - removed };
        }
        Some(&self.chains[0].data()[..size])
    }
    // ANCHOR_END: pullup

    // ANCHOR: prepend
    /// Puts a copy of `data` in front of the buffer: into the room the first chain has before
    /// its bytes (all of an empty chain's room counts), the rest into a new chain put first whose
    /// bytes end at its end. libevent: `evbuffer_prepend()`.
    pub fn prepend(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let cb = self.cb_mark();
        if self.chains.is_empty() {
            self.chain_insert(Chain::new(data.len()));
        }
        let mut datlen = data.len();
        let chain = &mut self.chains[0];
        if chain.off == 0 {
            chain.misalign = chain.buffer.len();
        }
        let fits = chain.misalign.min(datlen);
        let at = chain.misalign - fits;
        chain.write_at(at, &data[datlen - fits..]);
        chain.misalign = at;
        chain.off += fits;
        self.total_len += fits;
        self.n_add_for_cb += fits;
        datlen -= fits;
        if datlen > 0 {
            let mut tmp = Chain::new(datlen);
            tmp.misalign = tmp.buffer.len() - datlen;
            tmp.off = datlen;
            let at = tmp.misalign;
            tmp.write_at(at, &data[..datlen]);
            let had_data = self.chains[0].off > 0;
            self.chains.push_front(tmp);
            if self.last_with_data > 0 || had_data {
                self.last_with_data += 1;
            }
            self.total_len += datlen;
            self.n_add_for_cb += datlen;
        }
        self.invoke_callbacks(cb);
    }
    // ANCHOR_END: prepend

    // ANCHOR: add_fmt
    /// Appends the formatted text (`format_args!(...)`); returns how many bytes. The text is
    /// formatted first and added with one [`add`](Self::add), so the callbacks run once.
    /// libevent: `evbuffer_add_printf()` / `evbuffer_add_vprintf()` (which format straight into
    /// the last chain's room; the chains may differ).
    pub fn add_fmt(&mut self, args: fmt::Arguments<'_>) -> usize {
        let text = fmt::format(args);
        self.add(text.as_bytes());
        text.len()
    }
    // ANCHOR_END: add_fmt

    // ANCHOR: expand_fast
    /// Makes sure the chains from the last one with data on have room for `datlen` bytes in at
    /// most `n` of them, without moving any byte: empty chains are reused (their `misalign` reset);
    /// if the room is short, one chain for the missing bytes is added — or, when `n` chains are
    /// already in use, every empty chain is replaced by one big enough.
    /// libevent: `evbuffer_expand_fast_()`.
    fn expand_fast(&mut self, datlen: usize, n: usize) {
        if self.chains.is_empty() {
            self.chain_insert(Chain::new(datlen));
            return;
        }
        let (mut used, mut avail) = (0, 0);
        let mut at = self.last_with_data;
        while at < self.chains.len() {
            let chain = &mut self.chains[at];
            if chain.off > 0 {
                let space = chain.space_len();
                if space > 0 {
                    avail += space;
                    used += 1;
                }
            } else {
                chain.misalign = 0;
                avail += chain.buffer.len();
                used += 1;
            }
            if avail >= datlen {
                return;
            }
            if used == n {
                break;
            }
            at += 1;
        }
        if used < n {
            // Ran off the end before n chains: one more chain after the last.
            self.chains.push_back(Chain::new(datlen - avail));
            return;
        }
        let lwd = self.last_with_data;
        if self.chains[lwd].off == 0 {
            self.chains.clear();
            self.chains.push_back(Chain::new(datlen));
            self.last_with_data = 0;
        } else {
            let avail = self.chains[lwd].space_len();
            self.chains.truncate(lwd + 1);
            self.chains.push_back(Chain::new(datlen - avail));
        }
    }
    // ANCHOR_END: expand_fast

    /// The room `readv` fills: from the first chain with room on, at most `vecs.len()` chains,
    /// `howmuch` bytes in all (libevent's `exact`). Fills `vecs`; returns the index of the first
    /// chain and how many iovecs are used. libevent: `evbuffer_read_setup_vecs_()`.
    fn read_setup_vecs(&mut self, howmuch: usize, vecs: &mut [libc::iovec]) -> (usize, usize) {
        let mut first = self.last_with_data;
        if self.chains[first].space_len() == 0 {
            first += 1;
        }
        let (mut used, mut so_far) = (0, 0);
        for (chain, vec) in self.chains.iter_mut().skip(first).zip(vecs.iter_mut()) {
            if so_far >= howmuch {
                break;
            }
            let avail = chain.space_len().min(howmuch - so_far);
            let start = chain.misalign + chain.off;
            vec.iov_base = chain.buffer[start..start + avail].as_mut_ptr().cast();
            vec.iov_len = avail;
            so_far += avail;
            used += 1;
        }
        (first, used)
    }

    // ANCHOR: read_from_fd
    /// Reads from `fd` into the buffer, as much as `ioctl(FIONREAD)` says is waiting but at most
    /// [`EVBUFFER_MAX_READ`] (4096; also when FIONREAD says 0 or fails) and at most `howmuch`:
    /// room for that in at most [`NUM_READ_IOVEC`] chains, then one `readv`. Returns the bytes
    /// read, 0 at end of file. libevent: `evbuffer_read()`.
    pub fn read_from_fd(&mut self, fd: RawFd, howmuch: Option<usize>) -> Result<usize> {
        let readable = match bytes_readable_on_socket(fd) {
            n if n <= 0 || n as usize > EVBUFFER_MAX_READ => EVBUFFER_MAX_READ,
            n => n as usize,
        };
        self.read_atmost(fd, howmuch.map_or(readable, |h| h.min(readable)))
    }

    /// [`read_from_fd`](Self::read_from_fd) without the FIONREAD probe: room for `howmuch` bytes,
    /// then one `readv`. minievent-only (libevent always asks FIONREAD first); the bufferevent's
    /// `BEV_OPT_MINIEVENT_EAGER` uses it. Returns the bytes read, 0 at end of file.
    pub fn read_atmost(&mut self, fd: RawFd, howmuch: usize) -> Result<usize> {
        self.expand_fast(howmuch, NUM_READ_IOVEC);
        let mut iov = [EMPTY_IOVEC; NUM_READ_IOVEC];
        let (first, nvecs) = self.read_setup_vecs(howmuch, &mut iov);
        // SAFETY: each iovec points into a distinct chain's buffer, inside its bounds (readv may
        // write uninitialised room), and the chains are neither moved nor freed until readv
        // returns.
        let n = cvt_size(
            unsafe { libc::readv(fd, iov.as_ptr(), nvecs as libc::c_int) },
            "readv",
        )?;
        if n == 0 {
            return Ok(0);
        }
        let cb = self.cb_mark();
        // Commit: fill each chain's room in turn (readv wrote those bytes: they are now
        // initialised); the one where the bytes end is the new last chain with data.
        let mut remaining = n;
        for at in first..first + nvecs {
            let chain = &mut self.chains[at];
            let space = chain.space_len();
            if space < remaining {
                chain.off += space;
                remaining -= space;
            } else {
                chain.off += remaining;
                self.last_with_data = at;
                break;
            }
        }
        self.total_len += n;
        self.n_add_for_cb += n;
        self.invoke_callbacks(cb);
        Ok(n)
    }
    // ANCHOR_END: read_from_fd

    // ANCHOR: write_to_fd
    /// Writes the first bytes — all of them, or at most `atmost` — to `fd` with one `writev`
    /// over at most [`NUM_WRITE_IOVEC`] chains, then drains what the kernel took; returns that
    /// (0 for an empty buffer, without a syscall). libevent: `evbuffer_write_atmost()` →
    /// `evbuffer_write_iovec()`.
    pub fn write_to_fd(&mut self, fd: RawFd, atmost: Option<usize>) -> Result<usize> {
        let mut howmuch = atmost.map_or(self.total_len, |a| a.min(self.total_len));
        if howmuch == 0 {
            return Ok(0);
        }
        // Only the iovecs used are filled (128 of them would be 2 KiB to clear on every write).
        let mut iov = [const { MaybeUninit::<libc::iovec>::uninit() }; NUM_WRITE_IOVEC];
        let mut nvecs = 0;
        for chain in &self.chains {
            if nvecs == NUM_WRITE_IOVEC || howmuch == 0 {
                break;
            }
            let len = chain.off.min(howmuch);
            let data = &chain.data()[..len];
            // writev only reads through the pointer; iovec's field is *mut by definition.
            iov[nvecs].write(libc::iovec {
                iov_base: data.as_ptr().cast_mut().cast(),
                iov_len: len,
            });
            nvecs += 1;
            howmuch -= len;
        }
        // SAFETY: the first `nvecs` iovecs are initialised, each pointing at bytes of a chain,
        // inside its bounds; the chains are not touched until writev returns, and writev does
        // not write through the pointers.
        let n = cvt_size(
            unsafe { libc::writev(fd, iov.as_ptr().cast(), nvecs as libc::c_int) },
            "writev",
        )?;
        if n > 0 {
            self.drain(n);
        }
        Ok(n)
    }
    // ANCHOR_END: write_to_fd
}

/// An unused iovec, to fill the fixed array `readv` gets (libevent's is on the stack too:
/// `IOV_TYPE vecs[NUM_READ_IOVEC]`).
const EMPTY_IOVEC: libc::iovec = libc::iovec {
    iov_base: std::ptr::null_mut(),
    iov_len: 0,
};

/// `ioctl(fd, FIONREAD, &n)`: how many bytes are waiting to be read; -1 when the call fails.
/// libevent: `get_n_bytes_readable_on_socket()`.
fn bytes_readable_on_socket(fd: RawFd) -> libc::c_int {
    let mut n: libc::c_int = EVBUFFER_MAX_READ as libc::c_int;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points at `n`.
    match cvt(
        unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) },
        "ioctl(FIONREAD)",
    ) {
        Ok(_) => n,
        Err(_) => -1,
    }
}

/// The rest of buffer.h: the first chain's length, room made ahead, copies from a position,
/// moves between buffers, and callback flags.
impl Evbuffer {
    /// How many bytes the first chain holds: the most [`Evbuffer::pullup`] can return without
    /// moving a byte. libevent: `evbuffer_get_contiguous_space()`.
    pub fn get_contiguous_space(&self) -> usize {
        self.chains.front().map_or(0, |c| c.off)
    }

    /// Makes room for `datlen` more bytes in one chain, so the next `add` of that many copies
    /// once: the last chain with data if it has the room (or gets it by moving its bytes to its
    /// front, when that is cheap), or a copy of that chain grown to fit (when it would otherwise
    /// waste an eighth of itself and holds at most 4096 bytes), or the next chain if it has the
    /// room, or else a new chain. libevent: `evbuffer_expand()` → `evbuffer_expand_singlechain()`.
    pub fn expand(&mut self, datlen: usize) {
        let mut at = self.last_with_data;
        if at < self.chains.len() && self.chains[at].space_len() == 0 {
            at += 1;
        }
        let Some(chain) = self.chains.get_mut(at) else {
            return self.chain_insert(Chain::new(datlen));
        };
        if chain.space_len() >= datlen {
            return;
        }
        if chain.off == 0 {
            return self.chain_insert(Chain::new(datlen));
        }
        if chain.should_realign(datlen) {
            return chain.align();
        }
        if chain.space_len() < chain.buffer.len() / 8
            || chain.off > MAX_TO_COPY_IN_EXPAND
            || datlen >= usize::MAX / 2 - chain.off
        {
            if self
                .chains
                .get(at + 1)
                .is_some_and(|next| next.space_len() >= datlen)
            {
                return;
            }
            return self.chain_insert(Chain::new(datlen));
        }
        let mut grown = Chain::new(chain.off + datlen);
        grown.append_exact(chain.data());
        self.chains[at] = grown;
    }

    /// Appends the slices' bytes, one after the other, after making room for all of them (in at
    /// most two chains); returns how many bytes. libevent: `evbuffer_add_iovec()`.
    pub fn add_iovec(&mut self, vecs: &[std::io::IoSlice<'_>]) -> usize {
        let total = vecs.iter().map(|v| v.len()).sum();
        self.expand_fast(total, 2);
        for v in vecs {
            self.add(v);
        }
        total
    }

    /// A position `position` bytes from the start (`Set`) or from `pos` on (`Add`); an error
    /// if it would be past the end (the end itself, `len()`, is a position: where the next byte
    /// added goes). Positions are byte offsets (`usize`) where libevent has `struct evbuffer_ptr`.
    /// libevent: `evbuffer_ptr_set()`.
    pub fn ptr_set(&self, pos: usize, position: usize, how: PtrHow) -> Result<usize> {
        let target = match how {
            PtrHow::Set => Some(position),
            PtrHow::Add => pos.checked_add(position),
        };
        match target {
            Some(at) if at <= self.total_len => Ok(at),
            _ => Err(Error::Invalid(format!(
                "evbuffer_ptr_set: {how:?} {position} from {pos} is past the buffer's end ({} \
                 bytes): a position is at most the buffer's length",
                self.total_len
            ))),
        }
    }

    /// Copies up to `out.len()` bytes from position `pos` on into `out`, without removing them;
    /// returns how many (fewer when the buffer ends first). An error if `pos` is past the end.
    /// libevent: `evbuffer_copyout_from()`.
    pub fn copyout_from(&self, pos: usize, out: &mut [u8]) -> Result<usize> {
        self.ptr_set(0, pos, PtrHow::Set)?;
        let want = out.len().min(self.total_len - pos);
        let mut skip = pos;
        let mut done = 0;
        for chain in &self.chains {
            if done == want {
                break;
            }
            let data = chain.data();
            if skip >= data.len() {
                skip -= data.len();
                continue;
            }
            let n = (data.len() - skip).min(want - done);
            out[done..done + n].copy_from_slice(&data[skip..skip + n]);
            skip = 0;
            done += n;
        }
        Ok(done)
    }

    /// Moves up to `datlen` bytes from the front of `self` to the end of `dst`; returns how
    /// many. All of it: as [`Evbuffer::add_buffer`]. Else the whole chains the count covers change
    /// hands without a copy, and the rest of it is copied out of the next chain. libevent:
    /// `evbuffer_remove_buffer()`.
    pub fn remove_buffer(&mut self, dst: &mut Evbuffer, datlen: usize) -> usize {
        if datlen == 0 {
            return 0;
        }
        if datlen >= self.total_len {
            let n = self.total_len;
            dst.add_buffer(self);
            return n;
        }
        let (src_cb, cb) = (self.cb_mark(), dst.cb_mark());
        let (mut left, mut whole) = (datlen, 0);
        while self.chains[whole].off <= left {
            left -= self.chains[whole].off;
            whole += 1;
        }
        if whole > 0 {
            let moved = datlen - left;
            let at = dst.free_trailing_empty_chains();
            dst.chains.extend(self.chains.drain(..whole));
            // advance_last_with_data: the last of the moved chains that holds bytes.
            dst.last_with_data = (at..dst.chains.len())
                .rev()
                .find(|&i| dst.chains[i].off > 0)
                .unwrap_or(dst.last_with_data);
            self.last_with_data -= whole;
            dst.total_len += moved;
            dst.n_add_for_cb += moved;
        }
        let first = &mut self.chains[0];
        // The copy's own callback run is left out: libevent's inner `evbuffer_add` runs them
        // with everything moved so far and clears the counts, so they run once in all.
        let callbacks = dst.callbacks.take();
        dst.add(&first.data()[..left]);
        dst.callbacks = callbacks;
        first.misalign += left;
        first.off -= left;
        self.total_len -= datlen;
        self.n_del_for_cb += datlen;
        dst.invoke_callbacks(cb);
        self.invoke_callbacks(src_cb);
        datlen
    }

    /// Moves every byte of `src` to the front of `self`, whole chains, no byte copied; `src` is
    /// left without chains. libevent: `evbuffer_prepend_buffer()` (`COPY_CHAIN` into an empty
    /// buffer, else `PREPEND_CHAIN`).
    pub fn prepend_buffer(&mut self, src: &mut Evbuffer) {
        let in_total_len = src.total_len;
        if in_total_len == 0 {
            return;
        }
        let (src_cb, cb) = (src.cb_mark(), self.cb_mark());
        if self.total_len == 0 {
            self.chains.clear();
            std::mem::swap(&mut self.chains, &mut src.chains);
            self.last_with_data = src.last_with_data;
        } else {
            self.last_with_data += src.chains.len();
            for chain in src.chains.drain(..).rev() {
                self.chains.push_front(chain);
            }
        }
        self.total_len += in_total_len;
        src.last_with_data = 0;
        src.total_len = 0;
        src.n_del_for_cb += in_total_len;
        self.n_add_for_cb += in_total_len;
        src.invoke_callbacks(src_cb);
        self.invoke_callbacks(cb);
    }

    /// Sets `flags` on a callback added by [`Evbuffer::add_cb`]; an error if it is not there.
    /// libevent: `evbuffer_cb_set_flags()`.
    pub fn cb_set_flags(&mut self, handle: CbHandle, flags: EvbufferCbFlags) -> Result<()> {
        *self.cb_flags(handle, "evbuffer_cb_set_flags")? |= flags;
        Ok(())
    }

    /// Clears `flags` on a callback: without [`EvbufferCbFlags::ENABLED`] it stays, but is
    /// skipped. An error if it is not there. libevent: `evbuffer_cb_clear_flags()`.
    pub fn cb_clear_flags(&mut self, handle: CbHandle, flags: EvbufferCbFlags) -> Result<()> {
        *self.cb_flags(handle, "evbuffer_cb_clear_flags")? -= flags;
        Ok(())
    }

    /// The flags of the callback `handle` names, or an error naming `call`.
    fn cb_flags(&mut self, handle: CbHandle, call: &str) -> Result<&mut EvbufferCbFlags> {
        self.callbacks
            .iter_mut()
            .flat_map(|user| user.list.iter_mut())
            .find(|(h, _, _)| *h == handle)
            .map(|(_, flags, _)| flags)
            .ok_or_else(|| Error::Invalid(format!("{call}: no callback {handle:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{socketpair, write};

    fn info(buffer_len: usize, misalign: usize, off: usize) -> ChainInfo {
        ChainInfo {
            buffer_len,
            misalign,
            off,
        }
    }

    /// Closes both ends when dropped.
    struct Pair([RawFd; 2]);
    impl Pair {
        fn new() -> Pair {
            Pair(socketpair().expect("socketpair"))
        }
    }
    impl Drop for Pair {
        fn drop(&mut self) {
            for fd in self.0 {
                let _ = crate::sys::close_own(fd);
            }
        }
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn chains_are_powers_of_two_minus_the_header() {
        // The room libevent's evbuffer_chain_new gives for a request (x86_64).
        for (asked, room) in [
            (0, 976),
            (6, 976),
            (976, 976),
            (977, 2000),
            (4096, 8144),
            (4020, 4048),
            (65536, 131024),
        ] {
            assert_eq!(Chain::new(asked).buffer.len(), room, "asked for {asked}");
        }
    }

    #[test]
    fn add_fills_the_last_chain_then_doubles() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(900, 1));
        assert_eq!(buf.chains(), [info(976, 0, 900)]);
        // 76 bytes still fit; the other 124 go to a new chain of twice the size (1952 → 2000).
        buf.add(&bytes(200, 2));
        assert_eq!(buf.chains(), [info(976, 0, 976), info(2000, 0, 124)]);
        assert_eq!(buf.len(), 1100);
        let mut want = bytes(900, 1);
        want.extend(bytes(200, 2));
        assert_eq!(buf.to_vec(), want);
        // A big add gets a chain as big as itself.
        buf.add(&bytes(10_000, 3));
        assert_eq!(buf.chains()[2], info(16336, 0, 10_000 - 1876));
        assert_eq!(buf.len(), 11_100);
    }

    #[test]
    fn add_realigns_a_drained_chain_instead_of_adding_one() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(900, 1));
        buf.drain(800);
        assert_eq!(buf.chains(), [info(976, 800, 100)]);
        buf.add(&bytes(500, 2));
        assert_eq!(buf.chains(), [info(976, 0, 600)]);
        let mut want = bytes(900, 1)[800..].to_vec();
        want.extend(bytes(500, 2));
        assert_eq!(buf.to_vec(), want);
    }

    #[test]
    fn drain_frees_emptied_chains_and_moves_misalign() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(976, 1));
        buf.add(&bytes(1000, 2));
        assert_eq!(buf.chains().len(), 2);
        buf.drain(1000);
        assert_eq!(buf.chains(), [info(2000, 24, 976)]);
        assert_eq!(buf.to_vec(), bytes(1000, 2)[24..]);
        buf.drain(5000);
        assert!(buf.chains().is_empty() && buf.is_empty());
        let cb = buf.take_cb_info();
        assert_eq!((cb.n_added, cb.n_deleted), (1976, 1976));
    }

    #[test]
    fn remove_copyout_and_peek() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(976, 1));
        buf.add(&bytes(10, 2));
        let mut out = [0u8; 980];
        assert_eq!(buf.copyout(&mut out), 980);
        assert_eq!(buf.len(), 986);
        assert_eq!(buf.peek(Some(1)).len(), 1);
        assert_eq!(
            buf.peek(None).iter().map(|s| s.len()).collect::<Vec<_>>(),
            [976, 10]
        );
        assert_eq!(buf.remove(&mut out), 980);
        assert_eq!(out[..976], bytes(976, 1)[..]);
        assert_eq!(buf.to_vec(), bytes(10, 2)[4..]);
        let mut big = [0u8; 100];
        assert_eq!(buf.remove(&mut big), 6);
        assert!(buf.is_empty());
    }

    #[test]
    fn add_buffer_moves_chains_without_copying() {
        let mut input = Evbuffer::new();
        input.add(&bytes(976, 1));
        input.add(&bytes(100, 2));
        let mut output = Evbuffer::new();
        output.add_buffer(&mut input);
        assert!(input.is_empty() && input.chains().is_empty());
        assert_eq!(output.chains(), [info(976, 0, 976), info(2000, 0, 100)]);
        // Appending to a non-empty buffer keeps its chains and adds the others after them.
        let mut more = Evbuffer::new();
        more.add(b"tail");
        output.add_buffer(&mut more);
        assert_eq!(output.chains().len(), 3);
        assert_eq!(output.len(), 1080);
        let data = output.to_vec();
        assert_eq!(&data[1076..], b"tail");
    }

    #[test]
    fn read_asks_fionread_and_reads_that_much_into_one_new_chain() {
        let pair = Pair::new();
        write(pair.0[1], b"hello\n").expect("write");
        let mut buf = Evbuffer::new();
        assert_eq!(buf.read_from_fd(pair.0[0], None).expect("readv"), 6);
        // evbuffer_chain_new(6): a 1024-byte allocation.
        assert_eq!(buf.chains(), [info(976, 0, 6)]);
        assert_eq!(buf.to_vec(), b"hello\n");
        assert_eq!(buf.take_cb_info().n_added, 6);
    }

    #[test]
    fn read_is_capped_at_4096_and_at_howmuch() {
        let pair = Pair::new();
        let data = bytes(10_000, 7);
        write(pair.0[1], &data).expect("write");
        let mut buf = Evbuffer::new();
        assert_eq!(buf.read_from_fd(pair.0[0], None).expect("readv"), 4096);
        assert_eq!(buf.chains(), [info(8144, 0, 4096)]);
        assert_eq!(buf.read_from_fd(pair.0[0], Some(100)).expect("readv"), 100);
        assert_eq!(buf.chains(), [info(8144, 0, 4196)]);
        assert_eq!(buf.to_vec(), data[..4196]);
    }

    #[test]
    fn read_spreads_over_the_last_chain_and_a_new_one() {
        let pair = Pair::new();
        let data = bytes(5000, 9);
        write(pair.0[1], &data[..900]).expect("write");
        let mut buf = Evbuffer::new();
        buf.read_from_fd(pair.0[0], None).expect("readv");
        assert_eq!(buf.chains(), [info(976, 0, 900)]);
        write(pair.0[1], &data[900..]).expect("write");
        // FIONREAD says 4100: capped at 4096; the last chain has 76 bytes of room, so a new chain
        // for the other 4020 (a 4096-byte allocation) is added and readv gets two iovecs.
        assert_eq!(buf.read_from_fd(pair.0[0], None).expect("readv"), 4096);
        assert_eq!(buf.chains(), [info(976, 0, 976), info(4048, 0, 4020)]);
        assert_eq!(buf.to_vec(), data[..4996]);
    }

    #[test]
    fn an_end_of_file_read_leaves_an_empty_chain_that_is_reused() {
        let [reader, writer] = socketpair().expect("socketpair");
        write(writer, b"abc").expect("write");
        let mut buf = Evbuffer::new();
        buf.read_from_fd(reader, None).expect("readv");
        buf.drain(2);
        assert_eq!(buf.chains(), [info(976, 2, 1)]);
        let mut sink = [0u8; 1];
        buf.remove(&mut sink);
        // Draining everything frees every chain (libevent's fast path).
        assert!(buf.chains().is_empty());
        crate::sys::close_own(writer).expect("close");
        // FIONREAD says 0, so evbuffer_read asks for 4096: a 8192-byte chain is added; the read
        // returns 0 (end of file) and the empty chain stays...
        assert_eq!(buf.read_from_fd(reader, None).expect("readv"), 0);
        assert_eq!(buf.chains(), [info(8144, 0, 0)]);
        // ...and the next read reuses it.
        assert_eq!(buf.read_from_fd(reader, None).expect("readv"), 0);
        assert_eq!(buf.chains(), [info(8144, 0, 0)]);
        crate::sys::close_own(reader).expect("close");
    }

    #[test]
    fn a_freed_chain_s_memory_is_reused_by_the_next_chain_of_its_size() {
        let pair = Pair::new();
        let mut buf = Evbuffer::new();
        write(pair.0[1], b"ping").expect("write");
        buf.read_from_fd(pair.0[0], None).expect("readv");
        let memory = buf.chains[0].buffer.as_ptr();
        // The echo's steady state: the write empties the buffer and frees the chain...
        buf.write_to_fd(pair.0[0], None).expect("writev");
        assert!(buf.chains().is_empty());
        // ...and the next read's chain (same size) gets the same memory: no allocation.
        write(pair.0[1], b"pong").expect("write");
        buf.read_from_fd(pair.0[0], None).expect("readv");
        assert_eq!(buf.chains[0].buffer.as_ptr(), memory);
        assert_eq!(buf.to_vec(), b"pong", "only written bytes are read");
        // A size the cache does not keep is allocated and freed as before.
        assert_eq!(chain_cache::take(100_000).len(), 100_000);
    }

    #[test]
    fn expand_fast_replaces_empty_chains_when_n_are_in_use() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(970, 1)); // 6 bytes of room left
        buf.chains.push_back(Chain::new(10)); // an empty 976 after it
        buf.expand_fast(2000, 2);
        // Two chains in use (6 + 976 < 2000): the empty one is replaced by one for 1994.
        assert_eq!(buf.chains(), [info(976, 0, 970), info(2000, 0, 0)]);
        assert_eq!(buf.last_with_data, 0);
    }

    #[test]
    fn write_sends_the_chains_with_one_writev_and_drains_what_went() {
        let pair = Pair::new();
        let mut buf = Evbuffer::new();
        let data = bytes(3000, 4);
        buf.add(&data);
        let mut tail = Evbuffer::new();
        tail.add(b"tail");
        buf.add_buffer(&mut tail);
        assert_eq!(buf.chains(), [info(4048, 0, 3000), info(976, 0, 4)]);
        assert_eq!(
            buf.write_to_fd(pair.0[0], Some(1000)).expect("writev"),
            1000
        );
        assert_eq!(buf.chains(), [info(4048, 1000, 2000), info(976, 0, 4)]);
        assert_eq!(buf.write_to_fd(pair.0[0], None).expect("writev"), 2004);
        assert!(buf.is_empty() && buf.chains().is_empty());
        assert_eq!(buf.write_to_fd(pair.0[0], None).expect("no syscall"), 0);
        let mut got = Evbuffer::new();
        while got.len() < 3004 {
            got.read_from_fd(pair.0[1], None).expect("readv");
        }
        let mut want = data.clone();
        want.extend(b"tail");
        assert_eq!(got.to_vec(), want);
    }

    /// The invariants libevent's `evbuffer_validate` (regress_buffer.c) checks.
    fn validate(buf: &Evbuffer) {
        let sum: usize = buf.chains.iter().map(|c| c.off).sum();
        assert_eq!(sum, buf.total_len, "total_len");
        if buf.chains.is_empty() {
            return;
        }
        let lwd = buf.last_with_data;
        assert!(lwd < buf.chains.len());
        assert!(
            lwd == 0 || buf.chains[lwd].off > 0,
            "last_with_data holds data"
        );
        for (i, c) in buf.chains.iter().enumerate() {
            assert!(c.misalign + c.off <= c.buffer.len());
            if i > lwd {
                assert_eq!(c.off, 0, "no data after last_with_data");
            }
            if i < lwd {
                assert!(c.off > 0, "no empty chain before last_with_data");
            }
        }
    }

    fn line(buf: &mut Evbuffer, style: EolStyle) -> Option<String> {
        let got = buf
            .readln(style)
            .map(|l| String::from_utf8(l).expect("utf-8"));
        validate(buf);
        got
    }

    /// regress_buffer.c: test_evbuffer_readln, every style.
    #[test]
    fn readln_every_eol_style() {
        let mut buf = Evbuffer::new();
        buf.add(b"complex silly newline\r\n\n\r\n\n\rmore\0\n\0");
        assert_eq!(
            line(&mut buf, EVBUFFER_EOL_ANY).as_deref(),
            Some("complex silly newline")
        );
        assert_eq!(line(&mut buf, EVBUFFER_EOL_ANY).as_deref(), Some("more\0"));
        assert_eq!(buf.to_vec(), b"\0");
        buf.drain(1);
        buf.add(b"\nno newline");
        assert_eq!(line(&mut buf, EVBUFFER_EOL_ANY).as_deref(), Some(""));
        assert_eq!(line(&mut buf, EVBUFFER_EOL_ANY), None);
        assert_eq!(buf.len(), 10, "nothing removed without an end of line");
        buf.drain(buf.len());

        buf.add(b"Line with\rin the middle\nLine with good crlf\r\n\nfinal\n");
        for want in [
            "Line with\rin the middle",
            "Line with good crlf",
            "",
            "final",
        ] {
            assert_eq!(line(&mut buf, EVBUFFER_EOL_CRLF).as_deref(), Some(want));
        }
        buf.add(b"x");
        assert_eq!(line(&mut buf, EVBUFFER_EOL_CRLF), None);

        buf.add(b" and a bad crlf\nand a good one\r\n\r\nMore\r");
        let strict = EVBUFFER_EOL_CRLF_STRICT;
        assert_eq!(
            line(&mut buf, strict).as_deref(),
            Some("x and a bad crlf\nand a good one")
        );
        assert_eq!(line(&mut buf, strict).as_deref(), Some(""));
        assert_eq!(line(&mut buf, strict), None);
        buf.add(b"\n");
        assert_eq!(line(&mut buf, strict).as_deref(), Some("More"));
        assert!(buf.is_empty());

        buf.add(b"An\rand a nl\n\nText");
        assert_eq!(
            line(&mut buf, EVBUFFER_EOL_LF).as_deref(),
            Some("An\rand a nl")
        );
        assert_eq!(line(&mut buf, EVBUFFER_EOL_LF).as_deref(), Some(""));
        assert_eq!(line(&mut buf, EVBUFFER_EOL_LF), None);
        buf.add(b"\n");
        assert_eq!(line(&mut buf, EVBUFFER_EOL_LF).as_deref(), Some("Text"));

        buf.add(b"NUL\n\0\0The all-zeros\0");
        assert_eq!(line(&mut buf, EVBUFFER_EOL_NUL).as_deref(), Some("NUL\n"));
        assert_eq!(line(&mut buf, EVBUFFER_EOL_NUL).as_deref(), Some(""));
        assert_eq!(
            line(&mut buf, EVBUFFER_EOL_NUL).as_deref(),
            Some("The all-zeros")
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn readln_finds_lines_across_chains() {
        let mut buf = Evbuffer::new();
        buf.add(&[b'a'; 975]);
        buf.add(b"\r\nb\r");
        let mut tail = Evbuffer::new();
        tail.add(b"\ncc");
        buf.add_buffer(&mut tail);
        assert!(buf.chains().len() >= 2);
        // CRLF split over two chains.
        assert_eq!(buf.search_eol(0, EolStyle::Crlf), Some((975, 2)));
        assert_eq!(buf.readln(EolStyle::CrlfStrict).map(|l| l.len()), Some(975));
        assert_eq!(buf.readln(EolStyle::Crlf), Some(b"b".to_vec()));
        assert_eq!(buf.to_vec(), b"cc");
        validate(&buf);
    }

    /// regress_buffer.c: test_evbuffer_search (positions; `None` for -1).
    #[test]
    fn search_and_search_range() {
        let mut buf = Evbuffer::new();
        buf.add(b"hello/world/");
        let mut more = Evbuffer::new();
        more.add(b"attack at dawn");
        buf.add_buffer(&mut more);
        assert_eq!(buf.search(b"attack", 0), Some(12));
        assert_eq!(buf.search(b"/at", 0), Some(11), "a match across two chains");
        assert_eq!(buf.search(b"/", 6), Some(11));
        assert_eq!(buf.search(b"/", 12), None);
        assert_eq!(buf.search(b"dawn!", 0), None);
        assert_eq!(buf.search(b"", 3), Some(3));
        assert_eq!(buf.search(b"x", 100), None);
        assert_eq!(buf.search_range(b"world", 0, Some(11)), Some(6));
        assert_eq!(
            buf.search_range(b"world", 0, Some(10)),
            None,
            "must end by `end`"
        );
        assert_eq!(buf.search_range(b"o", 5, Some(8)), Some(7));
    }

    #[test]
    fn pullup_makes_the_front_contiguous() {
        let mut buf = Evbuffer::new();
        buf.add(&bytes(976, 1));
        buf.add(&bytes(1000, 2));
        let mut want = bytes(976, 1);
        want.extend(bytes(1000, 2));
        // Already contiguous: nothing moves.
        assert_eq!(buf.pullup(Some(10)), Some(&want[..10]));
        assert_eq!(buf.chains(), [info(976, 0, 976), info(2000, 0, 1000)]);
        assert_eq!(buf.pullup(Some(0)), None);
        assert_eq!(buf.pullup(Some(1977)), None, "more than the buffer holds");
        // The first chain has no room: a new chain of 1500 (a 2048 allocation) goes first.
        assert_eq!(buf.pullup(Some(1500)), Some(&want[..1500]));
        assert_eq!(buf.chains(), [info(2000, 0, 1500), info(2000, 524, 476)]);
        validate(&buf);
        // The first chain has the room: the rest is copied into it; the other chain is freed.
        assert_eq!(buf.pullup(None), Some(&want[..]));
        assert_eq!(buf.chains(), [info(2000, 0, 1976)]);
        validate(&buf);
        assert_eq!(buf.to_vec(), want);
    }

    #[test]
    fn prepend_uses_the_room_in_front_then_a_new_chain() {
        let mut buf = Evbuffer::new();
        buf.prepend(b"world");
        // An empty chain's room is all in front.
        assert_eq!(buf.chains(), [info(976, 971, 5)]);
        buf.prepend(b"hello ");
        assert_eq!(buf.to_vec(), b"hello world");
        buf.drain(11);
        buf.add(b"abc");
        buf.drain(1);
        assert_eq!(buf.chains(), [info(976, 1, 2)]);
        buf.prepend(b"1234");
        // One byte fits in front; the other three go into a new first chain, at its end.
        assert_eq!(buf.chains(), [info(976, 973, 3), info(976, 0, 3)]);
        assert_eq!(buf.to_vec(), b"1234bc");
        assert_eq!(buf.last_with_data, 1);
        validate(&buf);
        buf.add(b"!");
        assert_eq!(buf.to_vec(), b"1234bc!");
        validate(&buf);
    }

    #[test]
    fn add_fmt_and_write_macro() {
        use std::fmt::Write;
        let mut buf = Evbuffer::new();
        assert_eq!(buf.add_fmt(format_args!("{}-{:03}", "a", 7)), 5);
        write!(buf, "/{}", 42).expect("write!");
        assert_eq!(buf.to_vec(), b"a-007/42");
    }

    /// regress_buffer.c: test_evbuffer_callbacks — one call, one run with what it changed.
    #[test]
    fn callbacks_run_inside_every_call_that_changes_the_buffer() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut buf = Evbuffer::new();
        let l = Rc::clone(&log);
        let first = buf.add_cb(move |b, info| {
            l.borrow_mut().push(format!(
                "1: {}+{}-{}={}",
                info.orig_size,
                info.n_added,
                info.n_deleted,
                b.len()
            ))
        });
        buf.add(b"hello\nworld\n");
        let l = Rc::clone(&log);
        let second = buf.add_cb(move |_, info| l.borrow_mut().push(format!("2: {info:?}")));
        buf.drain(0);
        buf.pullup(None);
        assert_eq!(log.borrow().len(), 1, "no change, no callback");
        buf.readln(EolStyle::Lf);
        buf.remove_cb(second).expect("remove");
        assert!(buf.remove_cb(second).is_err(), "already removed");
        buf.prepend(b">");
        let mut other = Evbuffer::new();
        other.add_buffer(&mut buf);
        assert_eq!(
            *log.borrow(),
            [
                "1: 0+12-0=12",
                // readln: the line, then its end (newest callback first).
                "2: CbInfo { orig_size: 12, n_added: 0, n_deleted: 5 }",
                "1: 12+0-5=7",
                "2: CbInfo { orig_size: 7, n_added: 0, n_deleted: 1 }",
                "1: 7+0-1=6",
                "1: 6+1-0=7",
                "1: 7+0-7=0",
            ]
        );
        buf.remove_cb(first).expect("remove");
        // The bufferevent's counters saw every change.
        assert_eq!(buf.take_cb_info().n_added, 13);
    }

    #[test]
    fn a_panicking_callback_keeps_the_callbacks() {
        let mut buf = Evbuffer::new();
        let handle = buf.add_cb(|_, info| assert!(info.n_added < 10, "too much"));
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| buf.add(&[0; 20])));
        assert!(caught.is_err());
        assert_eq!(
            buf.len(),
            20,
            "the bytes were added before the callback ran"
        );
        buf.remove_cb(handle).expect("still there");
    }

    #[test]
    fn read_and_write_run_the_callbacks() {
        use std::cell::Cell;
        use std::rc::Rc;
        let pair = Pair::new();
        let seen = Rc::new(Cell::new(CbInfo::default()));
        let s = Rc::clone(&seen);
        let mut buf = Evbuffer::new();
        buf.add_cb(move |_, info| s.set(*info));
        write(pair.0[1], b"abc").expect("write");
        buf.read_from_fd(pair.0[0], None).expect("readv");
        assert_eq!(
            seen.get(),
            CbInfo {
                orig_size: 0,
                n_added: 3,
                n_deleted: 0
            }
        );
        buf.write_to_fd(pair.0[0], None).expect("writev");
        assert_eq!(
            seen.get(),
            CbInfo {
                orig_size: 3,
                n_added: 0,
                n_deleted: 3
            }
        );
    }

    /// buffer.c:evbuffer_get_contiguous_space is the first chain's `off`, 0 without chains.
    #[test]
    fn contiguous_space_is_the_first_chains_length() {
        let mut buf = Evbuffer::new();
        assert_eq!(buf.get_contiguous_space(), 0);
        buf.add(&[1; 976]);
        buf.add(&[2; 100]);
        assert_eq!(buf.chains().len(), 2);
        assert_eq!(buf.get_contiguous_space(), 976);
        buf.drain(10);
        assert_eq!(buf.get_contiguous_space(), 966);
        buf.pullup(None);
        assert_eq!(buf.get_contiguous_space(), 1066);
    }

    /// buffer.c:evbuffer_expand_singlechain: room in the last chain is enough; a small chain
    /// wasting an eighth is copied into a bigger one; a full chain gets a new one after it.
    #[test]
    fn expand_makes_one_chain_with_the_room() {
        let mut buf = Evbuffer::new();
        buf.expand(100);
        assert_eq!(buf.chains(), [info(976, 0, 0)]);
        buf.add(&[7; 500]);
        buf.expand(400);
        assert_eq!(
            buf.chains(),
            [info(976, 0, 500)],
            "476 bytes of room: nothing to do"
        );
        buf.expand(1000);
        // 476 left of 976 is more than an eighth: the chain is copied into one for 1500 bytes.
        assert_eq!(buf.chains(), [info(2000, 0, 500)]);
        assert_eq!(buf.to_vec(), [7; 500]);
        buf.add(&[8; 1500]);
        buf.expand(10);
        assert_eq!(buf.chains(), [info(2000, 0, 2000), info(976, 0, 0)]);
        let before = buf.chains();
        buf.add(&[9; 10]);
        assert_eq!(
            buf.chains().len(),
            before.len(),
            "the add used the room made"
        );
    }

    /// buffer.c:evbuffer_add_iovec: every slice's bytes, in order, and their total.
    #[test]
    fn add_iovec_appends_every_slice_in_order() {
        let mut buf = Evbuffer::new();
        buf.add(b"<");
        let (a, b) = (vec![b'a'; 700], vec![b'b'; 700]);
        let n = buf.add_iovec(&[std::io::IoSlice::new(&a), std::io::IoSlice::new(&b)]);
        assert_eq!(n, 1400);
        let mut want = b"<".to_vec();
        want.extend(&a);
        want.extend(&b);
        assert_eq!(buf.to_vec(), want);
        assert!(buf.chains().len() <= 2, "{:?}", buf.chains());
    }

    /// buffer.c:evbuffer_ptr_set and evbuffer_copyout_from: positions up to the length, bytes
    /// across chains from a position.
    #[test]
    fn ptr_set_and_copyout_from() {
        let mut buf = Evbuffer::new();
        buf.add(&[b'x'; 976]);
        buf.add(b"0123456789");
        assert_eq!(buf.chains().len(), 2);
        let pos = buf.ptr_set(0, 974, PtrHow::Set).unwrap();
        assert_eq!(buf.ptr_set(pos, 12, PtrHow::Add).unwrap(), 986);
        assert!(buf.ptr_set(pos, 13, PtrHow::Add).is_err());
        assert!(buf.ptr_set(0, 987, PtrHow::Set).is_err());
        assert!(buf.ptr_set(usize::MAX, 1, PtrHow::Add).is_err());
        let mut out = [0; 6];
        assert_eq!(buf.copyout_from(pos, &mut out).unwrap(), 6);
        assert_eq!(&out, b"xx0123");
        assert_eq!(buf.copyout_from(981, &mut out).unwrap(), 5);
        assert_eq!(&out[..5], b"56789");
        assert_eq!(buf.copyout_from(986, &mut out).unwrap(), 0);
        assert!(buf.copyout_from(987, &mut out).is_err());
        assert_eq!(buf.len(), 986, "nothing removed");
    }

    /// buffer.c:evbuffer_remove_buffer: whole chains move, the rest is copied; all of it is
    /// add_buffer; each buffer's callbacks run once with the whole change.
    #[test]
    fn remove_buffer_moves_whole_chains_and_copies_the_rest() {
        let mut src = Evbuffer::new();
        src.add(&[1; 976]);
        src.add(&[2; 900]);
        assert_eq!(src.chains().len(), 2);
        let mut dst = Evbuffer::new();
        dst.add(b"head");
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let s = seen.clone();
        dst.add_cb(move |_, info| s.borrow_mut().push(*info));
        assert_eq!(src.remove_buffer(&mut dst, 0), 0);
        assert_eq!(src.remove_buffer(&mut dst, 1000), 1000);
        assert_eq!(src.len(), 876);
        assert_eq!(src.chains().len(), 1, "the first chain changed hands");
        assert_eq!(
            src.chains()[0].misalign,
            24,
            "the second chain lost its front"
        );
        let mut want = b"head".to_vec();
        want.extend([1; 976]);
        want.extend([2; 24]);
        assert_eq!(dst.to_vec(), want);
        assert_eq!(
            *seen.borrow(),
            [CbInfo {
                orig_size: 4,
                n_added: 1000,
                n_deleted: 0
            }]
        );
        assert_eq!(src.remove_buffer(&mut dst, 5000), 876);
        assert!(src.is_empty());
        assert_eq!(dst.len(), 1880);
    }

    /// buffer.c:evbuffer_prepend_buffer: `src`'s chains go in front, no byte copied.
    #[test]
    fn prepend_buffer_puts_the_chains_in_front() {
        let mut buf = Evbuffer::new();
        buf.add(b" world");
        let mut src = Evbuffer::new();
        src.add(b"hello");
        let src_chain = src.chains()[0];
        buf.prepend_buffer(&mut src);
        assert_eq!(buf.to_vec(), b"hello world");
        assert_eq!(buf.chains()[0], src_chain);
        assert!(src.is_empty() && src.chains().is_empty());
        buf.add(b"!");
        assert_eq!(
            buf.to_vec(),
            b"hello world!",
            "the last chain with data is still last"
        );
        let mut empty = Evbuffer::new();
        empty.prepend_buffer(&mut buf);
        assert_eq!(empty.to_vec(), b"hello world!");
    }

    /// buffer.c:evbuffer_cb_set_flags / _clear_flags: a callback without ENABLED is skipped,
    /// and runs again once it is set; an unknown handle is an error.
    #[test]
    fn cb_clear_flags_skips_the_callback_until_set_again() {
        let mut buf = Evbuffer::new();
        let runs = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = runs.clone();
        let cb = buf.add_cb(move |_, _| r.set(r.get() + 1));
        buf.add(b"a");
        buf.cb_clear_flags(cb, EvbufferCbFlags::ENABLED).unwrap();
        buf.add(b"b");
        assert_eq!(runs.get(), 1);
        buf.cb_set_flags(cb, EvbufferCbFlags::ENABLED).unwrap();
        buf.drain(1);
        assert_eq!(runs.get(), 2);
        buf.remove_cb(cb).unwrap();
        assert!(buf.cb_set_flags(cb, EvbufferCbFlags::ENABLED).is_err());
        assert!(buf.cb_clear_flags(cb, EvbufferCbFlags::ENABLED).is_err());
    }
}
