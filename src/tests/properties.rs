//! Property tests: the evbuffer against a `VecDeque<u8>`, the timeout heap against a plain list.
//!
//! Each property runs random sequences of operations on the real structure and on a model that
//! is obviously right, and compares them after every operation. proptest shrinks a failing
//! sequence to a short one and prints it; `PROPTEST_CASES=N` runs more (or fewer) cases.
//!
//! - The evbuffer ([`Evbuffer`]): contents, length and the callback counts after `add`,
//!   `add_buffer`, `drain`, `remove`, `copyout`, `peek`, `read_from_fd` and `write_to_fd` (the
//!   last two through a non-blocking socketpair), and the chain invariants libevent's own
//!   regression tests check (`evbuffer_validate_()` in test/regress_buffer.c).
//! - The min-heap ([`MinHeap`]): after every push and erase, the top is a minimum of the model,
//!   and the positions the heap reports through [`HeapIndex`] are a permutation of its slots
//!   that forms a heap; erasing at a reported position removes exactly that event.

use minievent::buffer::{
    CbInfo, ChainInfo, EVBUFFER_CHAIN_SIZE, EVBUFFER_MAX_READ, MIN_BUFFER_SIZE,
};
use minievent::minheap::{HeapIndex, MinHeap};
use minievent::util::{make_socket_nonblocking, read, socketpair, would_block, write};
use minievent::{Base, EV_TIMEOUT, Evbuffer, EventId};
use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::time::Duration;

/// `len` bytes that differ with `seed`, so that misplaced bytes show.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The evbuffer
// ---------------------------------------------------------------------------------------------

/// One operation on the buffer under test.
#[derive(Clone, Debug)]
enum BufOp {
    /// `add(bytes(len, seed))`.
    Add {
        len: usize,
        seed: u8,
    },
    /// Fill a second buffer with these adds, drain `drain` bytes of it, then `add_buffer` it.
    AddBuffer {
        lens: Vec<usize>,
        drain: usize,
        seed: u8,
    },
    Drain(usize),
    Remove(usize),
    Copyout(usize),
    Peek(Option<usize>),
    /// Write bytes into the peer socket, for a later `Read`.
    Feed {
        len: usize,
        seed: u8,
    },
    /// `read_from_fd(howmuch)`.
    Read(Option<usize>),
    /// `write_to_fd(atmost)`.
    Write(Option<usize>),
}

fn buf_op() -> impl Strategy<Value = BufOp> {
    // Mostly small sizes (within one chain), sometimes larger than a chain or than
    // EVBUFFER_MAX_READ.
    let size = || prop_oneof![4 => 0usize..200, 3 => 0usize..2100, 1 => 0usize..9000];
    prop_oneof![
        4 => (size(), any::<u8>()).prop_map(|(len, seed)| BufOp::Add { len, seed }),
        2 => (prop::collection::vec(size(), 0..4), size(), any::<u8>())
            .prop_map(|(lens, drain, seed)| BufOp::AddBuffer { lens, drain, seed }),
        2 => size().prop_map(BufOp::Drain),
        2 => size().prop_map(BufOp::Remove),
        1 => size().prop_map(BufOp::Copyout),
        1 => prop::option::of(size()).prop_map(BufOp::Peek),
        2 => (1usize..9000, any::<u8>()).prop_map(|(len, seed)| BufOp::Feed { len, seed }),
        2 => prop::option::of(size()).prop_map(BufOp::Read),
        2 => prop::option::of(size()).prop_map(BufOp::Write),
    ]
}

/// A non-blocking socketpair, closed when dropped: the buffer reads and writes `fds[0]`; the
/// test feeds and drains the other end, `fds[1]`.
struct Pair([RawFd; 2]);

impl Pair {
    fn new() -> Pair {
        let fds = socketpair().expect("socketpair");
        for fd in fds {
            make_socket_nonblocking(fd).expect("O_NONBLOCK");
        }
        Pair(fds)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for fd in self.0 {
            // SAFETY: the pair's two fds are this test's own, used by nothing else now.
            let _ = unsafe { minievent::sys::close(fd) };
        }
    }
}

/// Reads exactly `n` bytes that are already queued on `fd` (a socketpair end).
fn read_exactly(fd: RawFd, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    let mut got = 0;
    while got < n {
        match read(fd, &mut out[got..]) {
            Ok(0) => panic!("end of file after {got} of {n} bytes"),
            Ok(k) => got += k,
            Err(e) => panic!("read after {got} of {n} bytes: {e}"),
        }
    }
    out
}

/// `last_with_data` is not public; the buffer's `Debug` output shows it.
fn last_with_data(buf: &Evbuffer) -> usize {
    let text = format!("{buf:?}");
    let (_, after) = text
        .split_once("last_with_data: ")
        .unwrap_or_else(|| panic!("Evbuffer's Debug no longer shows last_with_data: {text}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("last_with_data is a number")
}

/// libevent's `evbuffer_validate_()` (test/regress_buffer.c), on what minievent shows, plus
/// libevent's chain sizes (`evbuffer_chain_new`: a power of two, at least 1024, less the header).
fn check_chains(buf: &Evbuffer) -> Result<(), TestCaseError> {
    let chains: Vec<ChainInfo> = buf.chains();
    let lwd = last_with_data(buf);
    let sum: usize = chains.iter().map(|c| c.off).sum();
    prop_assert_eq!(
        sum,
        buf.len(),
        "total_len is the sum of the chains' off: {:?}",
        buf
    );
    for c in &chains {
        prop_assert!(
            c.misalign + c.off <= c.buffer_len,
            "chain overflows: {:?}",
            buf
        );
        let alloc = c.buffer_len + EVBUFFER_CHAIN_SIZE;
        prop_assert!(
            alloc.is_power_of_two() && alloc >= MIN_BUFFER_SIZE,
            "chain of {} bytes is not a libevent size: {:?}",
            c.buffer_len,
            buf
        );
    }
    if chains.is_empty() {
        prop_assert_eq!(lwd, 0);
        prop_assert_eq!(buf.len(), 0);
        return Ok(());
    }
    prop_assert!(lwd < chains.len(), "last_with_data past the end: {:?}", buf);
    if chains[lwd].off == 0 || buf.is_empty() {
        prop_assert!(
            chains[lwd].off == 0 && lwd == 0 && buf.is_empty(),
            "an empty last_with_data chain must be the first of an empty buffer: {:?}",
            buf
        );
    }
    prop_assert!(
        chains[lwd + 1..].iter().all(|c| c.off == 0),
        "a chain after last_with_data holds data: {:?}",
        buf
    );
    Ok(())
}

/// What the model expects the callbacks to be told: `evbuffer_cb_info` since the last check.
#[derive(Default)]
struct CbModel {
    n_added: usize,
    n_deleted: usize,
}

fn run_buffer_ops(ops: Vec<BufOp>) -> Result<(), TestCaseError> {
    let pair = Pair::new();
    let (ours, peer) = (pair.0[0], pair.0[1]);
    let mut buf = Evbuffer::new();
    let mut model: VecDeque<u8> = VecDeque::new();
    // Bytes written into `peer` that `ours` has not read yet.
    let mut in_socket: VecDeque<u8> = VecDeque::new();

    for (step, op) in ops.into_iter().enumerate() {
        let orig_size = model.len();
        let mut cb = CbModel::default();
        match op {
            BufOp::Add { len, seed } => {
                let data = bytes(len, seed);
                buf.add(&data);
                model.extend(&data);
                cb.n_added = len;
            }
            BufOp::AddBuffer { lens, drain, seed } => {
                let mut src = Evbuffer::new();
                let mut src_model = Vec::new();
                for (i, len) in lens.into_iter().enumerate() {
                    let data = bytes(len, seed.wrapping_add(i as u8));
                    src.add(&data);
                    src_model.extend(data);
                }
                src.drain(drain);
                src_model.drain(..drain.min(src_model.len()));
                check_chains(&src)?;
                let _ = src.take_cb_info();
                buf.add_buffer(&mut src);
                prop_assert!(src.is_empty(), "add_buffer left bytes in its source");
                if !src_model.is_empty() {
                    prop_assert!(src.chains().is_empty(), "add_buffer left chains behind");
                    prop_assert_eq!(src.take_cb_info().n_deleted, src_model.len());
                }
                check_chains(&src)?;
                cb.n_added = src_model.len();
                model.extend(src_model);
            }
            BufOp::Drain(n) => {
                buf.drain(n);
                let n = n.min(model.len());
                model.drain(..n);
                cb.n_deleted = n;
            }
            BufOp::Remove(n) => {
                let mut out = vec![0; n];
                let got = buf.remove(&mut out);
                let want: Vec<u8> = model.drain(..n.min(model.len())).collect();
                prop_assert_eq!(&out[..got], &want[..], "remove({}) at step {}", n, step);
                cb.n_deleted = got;
            }
            BufOp::Copyout(n) => {
                let mut out = vec![0; n];
                let got = buf.copyout(&mut out);
                let want: Vec<u8> = model.iter().take(n).copied().collect();
                prop_assert_eq!(&out[..got], &want[..], "copyout({}) at step {}", n, step);
            }
            BufOp::Peek(len) => {
                let slices = buf.peek(len);
                let seen: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
                let want: Vec<u8> = model.iter().take(seen.len()).copied().collect();
                prop_assert_eq!(&seen, &want, "peek({:?}) at step {}", len, step);
                match len {
                    // Every chain, empty ones included.
                    None => prop_assert_eq!(slices.len(), buf.chains().len()),
                    // Enough whole chains to cover `n` bytes, and not one more.
                    Some(n) => {
                        prop_assert!(seen.len() >= n.min(model.len()), "peek({n}) is short");
                        if let Some(last) = slices.last() {
                            prop_assert!(seen.len() - last.len() < n, "peek({n}) is too long");
                        }
                    }
                }
            }
            BufOp::Feed { len, seed } => {
                let data = bytes(len, seed);
                match write(peer, &data) {
                    Ok(k) => in_socket.extend(&data[..k]),
                    Err(e) => prop_assert!(would_block(&e), "feeding the socket: {e}"),
                }
            }
            BufOp::Read(howmuch) => {
                let want = in_socket
                    .len()
                    .min(EVBUFFER_MAX_READ)
                    .min(howmuch.unwrap_or(usize::MAX));
                match buf.read_from_fd(ours, howmuch) {
                    Ok(n) => {
                        prop_assert_eq!(n, want, "read_from_fd({:?}) at step {}", howmuch, step);
                        model.extend(in_socket.drain(..n));
                        cb.n_added = n;
                    }
                    Err(e) => prop_assert!(
                        in_socket.is_empty() && want == 0 && would_block(&e),
                        "read_from_fd({howmuch:?}) failed with {} bytes queued: {e}",
                        in_socket.len()
                    ),
                }
            }
            BufOp::Write(atmost) => {
                let most = model.len().min(atmost.unwrap_or(usize::MAX));
                let n = buf.write_to_fd(ours, atmost).map_err(|e| {
                    TestCaseError::fail(format!("write_to_fd({atmost:?}) at step {step}: {e}"))
                })?;
                prop_assert!(n <= most && (n > 0 || most == 0), "wrote {n} of {most}");
                let sent = read_exactly(peer, n);
                let want: Vec<u8> = model.drain(..n).collect();
                prop_assert_eq!(sent, want, "write_to_fd({:?}) at step {}", atmost, step);
                cb.n_deleted = n;
            }
        }
        prop_assert_eq!(buf.len(), model.len(), "len after step {}", step);
        prop_assert_eq!(buf.is_empty(), model.is_empty());
        prop_assert!(
            buf.to_vec().iter().eq(model.iter()),
            "contents differ after step {}",
            step
        );
        check_chains(&buf)?;
        prop_assert_eq!(
            buf.take_cb_info(),
            CbInfo {
                orig_size,
                n_added: cb.n_added,
                n_deleted: cb.n_deleted,
            },
            "callback counts after step {}",
            step
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// The evbuffer holds exactly what a `VecDeque<u8>` fed the same operations holds, and
    /// keeps libevent's chain invariants.
    #[test]
    fn evbuffer_matches_a_vecdeque(ops in prop::collection::vec(buf_op(), 1..40)) {
        run_buffer_ops(ops)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The min-heap
// ---------------------------------------------------------------------------------------------

/// The positions the heap reports, as libevent's `min_heap_idx` fields would hold them.
#[derive(Default)]
struct Positions(HashMap<EventId, usize>);

impl HeapIndex for Positions {
    fn set_heap_index(&mut self, id: EventId, index: usize) {
        self.0.insert(id, index);
    }
}

#[derive(Clone, Debug)]
enum HeapOp {
    /// Push a new event with this deadline (ms); few values, so ties are common.
    Push(u64),
    /// `erase(0)`: what the loop does with an expired timer (libevent: `min_heap_pop_`).
    PopTop,
    /// Erase the pending event the selector picks, at the position the heap reported for it
    /// (`event_del` of a timer).
    Erase(prop::sample::Index),
}

fn heap_op() -> impl Strategy<Value = HeapOp> {
    prop_oneof![
        5 => (0u64..40).prop_map(HeapOp::Push),
        2 => Just(HeapOp::PopTop),
        3 => any::<prop::sample::Index>().prop_map(HeapOp::Erase),
    ]
}

/// Checks the heap against the model: the reported positions of the pending events are
/// exactly the slots `0..n`, the entries at those positions form a heap, and the top is the
/// entry at slot 0 with a deadline that is the model's minimum.
fn check_heap(
    heap: &MinHeap,
    pos: &Positions,
    model: &HashMap<EventId, Duration>,
) -> Result<(), TestCaseError> {
    let n = model.len();
    let mut slots: Vec<Option<(Duration, EventId)>> = vec![None; n];
    for (&id, &deadline) in model {
        let at = *pos
            .0
            .get(&id)
            .ok_or_else(|| TestCaseError::fail(format!("no position for {id:?}")))?;
        prop_assert!(at < n, "{:?} reported at {} in a heap of {}", id, at, n);
        prop_assert!(slots[at].is_none(), "two events reported at {}", at);
        slots[at] = Some((deadline, id));
    }
    let slots: Vec<(Duration, EventId)> = slots.into_iter().flatten().collect();
    for i in 1..n {
        prop_assert!(
            slots[(i - 1) / 2].0 <= slots[i].0,
            "slot {} is earlier than its parent: {:?}",
            i,
            slots
        );
    }
    prop_assert_eq!(heap.is_empty(), n == 0);
    prop_assert_eq!(heap.top(), slots.first().copied());
    if let Some((deadline, _)) = heap.top() {
        prop_assert_eq!(Some(deadline), model.values().min().copied());
    }
    Ok(())
}

fn run_heap_ops(ops: Vec<HeapOp>) -> Result<(), TestCaseError> {
    // EventIds come from a Base: timer events that are never added to it.
    let mut base = Base::new().expect("event_base_new");
    let mut heap = MinHeap::default();
    let mut pos = Positions::default();
    let mut model: HashMap<EventId, Duration> = HashMap::new();
    for op in ops {
        match op {
            HeapOp::Push(ms) => {
                let id = base
                    .event_new(-1, EV_TIMEOUT, |_, _, _, _| {})
                    .expect("evtimer_new");
                let deadline = Duration::from_millis(ms);
                heap.push((deadline, id), &mut pos);
                model.insert(id, deadline);
            }
            HeapOp::PopTop => {
                let Some((_, id)) = heap.top() else { continue };
                heap.erase(0, &mut pos);
                prop_assert!(model.remove(&id).is_some(), "top {:?} was not pending", id);
            }
            HeapOp::Erase(which) => {
                if model.is_empty() {
                    continue;
                }
                let mut ids: Vec<EventId> = model.keys().copied().collect();
                ids.sort_by_key(|id| format!("{id:?}"));
                let id = *which.get(&ids);
                heap.erase(pos.0[&id], &mut pos);
                model.remove(&id);
            }
        }
        check_heap(&heap, &pos, &model)?;
    }
    // Draining gives the deadlines in order.
    let mut drained = Vec::new();
    while let Some((deadline, id)) = heap.top() {
        heap.erase(0, &mut pos);
        prop_assert_eq!(model.remove(&id), Some(deadline));
        drained.push(deadline);
        check_heap(&heap, &pos, &model)?;
    }
    prop_assert!(drained.is_sorted(), "drained out of order: {:?}", drained);
    prop_assert!(model.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The top is always a minimum, positions reported through HeapIndex are always right,
    /// and erasing at a reported position removes exactly that event.
    #[test]
    fn minheap_matches_a_sorted_model(ops in prop::collection::vec(heap_op(), 1..80)) {
        run_heap_ops(ops)?;
    }
}
