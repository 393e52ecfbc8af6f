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

use crate::error::Result;
use crate::sys::{cvt, cvt_size};
use std::collections::VecDeque;
use std::os::fd::RawFd;

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
// ANCHOR_END: sizes

// ANCHOR: chain
/// One chunk of an evbuffer. libevent: `struct evbuffer_chain`.
struct Chain {
    /// The chain's memory; its length is libevent's `buffer_len`.
    buffer: Box<[u8]>,
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
            buffer: vec![0; to_alloc - EVBUFFER_CHAIN_SIZE].into_boxed_slice(),
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

impl Chain {
    /// The bytes the chain holds.
    fn data(&self) -> &[u8] {
        &self.buffer[self.misalign..self.misalign + self.off]
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

    /// Appends as much of `data` as fits; returns how much did.
    fn append(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.space_len());
        let at = self.misalign + self.off;
        self.buffer[at..at + n].copy_from_slice(&data[..n]);
        self.off += n;
        n
    }
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
}
// ANCHOR_END: evbuffer

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
        let src_lwd = src.last_with_data;
        if self.total_len == 0 {
            // There may be empty chains here: they are freed.
            self.chains = std::mem::take(&mut src.chains);
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
        if len >= old_len {
            self.chains.clear();
            self.last_with_data = 0;
            self.total_len = 0;
            self.n_del_for_cb += old_len;
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
    }
    // ANCHOR_END: drain

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
        let howmuch = howmuch.map_or(readable, |h| h.min(readable));
        self.expand_fast(howmuch, NUM_READ_IOVEC);
        let mut iov = [EMPTY_IOVEC; NUM_READ_IOVEC];
        let (first, nvecs) = self.read_setup_vecs(howmuch, &mut iov);
        // SAFETY: each iovec points into a distinct chain's buffer, inside its bounds, and the
        // chains are neither moved nor freed until readv returns.
        let n = cvt_size(
            unsafe { libc::readv(fd, iov.as_ptr(), nvecs as libc::c_int) },
            "readv",
        )?;
        if n == 0 {
            return Ok(0);
        }
        // Commit: fill each chain's room in turn; the one where the bytes end is the new last
        // chain with data.
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
        let mut iov = [EMPTY_IOVEC; NUM_WRITE_IOVEC];
        let mut nvecs = 0;
        for chain in &self.chains {
            if nvecs == NUM_WRITE_IOVEC || howmuch == 0 {
                break;
            }
            let len = chain.off.min(howmuch);
            let data = &chain.data()[..len];
            // writev only reads through the pointer; iovec's field is *mut by definition.
            iov[nvecs].iov_base = data.as_ptr().cast_mut().cast();
            iov[nvecs].iov_len = len;
            nvecs += 1;
            howmuch -= len;
        }
        // SAFETY: each iovec points at bytes of a chain, inside its bounds; the chains are not
        // touched until writev returns, and writev does not write through the pointers.
        let n = cvt_size(
            unsafe { libc::writev(fd, iov.as_ptr(), nvecs as libc::c_int) },
            "writev",
        )?;
        if n > 0 {
            self.drain(n);
        }
        Ok(n)
    }
    // ANCHOR_END: write_to_fd
}

/// An unused iovec, to fill the fixed arrays `readv` and `writev` get (libevent's are on the
/// stack too: `IOV_TYPE vecs[NUM_READ_IOVEC]`, `iov[NUM_WRITE_IOVEC]`).
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
}
