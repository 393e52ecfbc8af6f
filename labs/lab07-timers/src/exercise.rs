//! Lab 7 — timers: the min-heap every timeout waits on. `event_add` with a timeout pushes the
//! event on it, `event_del` (and every re-arm) erases it from wherever it is, and the loop only
//! ever looks at its top.
//!
//! Write `push` and `erase` below, and the two helpers they share, `shift_up` and `shift_down`
//! (they are a suggestion: keep their names or do without them, but `push` and `erase` must stay).
//! Everything else in this lab is minievent's own code: `Base::event_add` / `event_del`, the
//! common-timeout queues' timers, `timeout_next` and `timeout_process` call your heap, and so do
//! the step programs. `just lab 7` runs the tests; `just hint 7` gives a hint.
//!
//! What you can use (all of it is in minievent's src/):
//! - `self.entries: Vec<(Duration, EventId)>`, the heap in array order: `entries[0]` is the
//!   earliest deadline, entry `i` has children `2i + 1` and `2i + 2`; `self.top()`,
//!   `self.is_empty()`, `self.len()` (given: they only read `entries`);
//! - `idx.set_heap_index(id, i)`: tells event `id` that it now sits at index `i`. Call it for every
//!   entry you put at a new index — the base keeps that index in the event and hands it back to
//!   `erase` when the event is deleted;
//! - `Duration` compares with `<`, `<=`, `>`; an `(Duration, EventId)` is `Copy`.

use crate::event::EventId;
use crate::minheap::{HeapIndex, MinHeap};
use std::time::Duration;

impl MinHeap {
    /// Adds `entry` (a deadline and its event): at the end of the array, then moved up past every
    /// parent whose deadline is later. Every entry that lands at a new index — the new one
    /// included — gets it through `idx`.
    ///
    /// libevent: `min_heap_push_()` (minheap-internal.h).
    pub fn push(&mut self, entry: (Duration, EventId), idx: &mut dyn HeapIndex) {
        let _ = (entry, idx); // delete this line when you use them
        todo!("lab 7: MinHeap::push — read chapter 8, section \"The min-heap\"")
    }

    /// Removes the entry at `index` (the index the event was last told). The last entry of the
    /// array fills the hole and moves up if it is earlier than the hole's parent, else down past
    /// every earlier child. Every entry that lands at a new index gets it through `idx`.
    ///
    /// libevent: `min_heap_erase_()` (minheap-internal.h).
    pub fn erase(&mut self, index: usize, idx: &mut dyn HeapIndex) {
        let _ = (index, idx); // delete this line when you use them
        todo!("lab 7: MinHeap::erase — read chapter 8, section \"The min-heap\"")
    }

    /// Puts `e` at `hole` or above it: while the parent of the hole is later than `e`, the parent
    /// moves down into the hole and the hole moves up. Then `e` goes into the hole.
    ///
    /// libevent: `min_heap_shift_up_()` (minheap-internal.h).
    pub fn shift_up(&mut self, hole: usize, e: (Duration, EventId), idx: &mut dyn HeapIndex) {
        let _ = (hole, e, idx); // delete this line when you use them
        todo!("lab 7: MinHeap::shift_up — read chapter 8, section \"The min-heap\"")
    }

    /// Puts `e` at `hole` or below it: while the earlier of the hole's children is earlier than
    /// `e`, that child moves up into the hole and the hole moves down. Then `e` goes into the hole.
    ///
    /// libevent: `min_heap_shift_down_()` (minheap-internal.h).
    pub fn shift_down(&mut self, hole: usize, e: (Duration, EventId), idx: &mut dyn HeapIndex) {
        let _ = (hole, e, idx); // delete this line when you use them
        todo!("lab 7: MinHeap::shift_down — read chapter 8, section \"The min-heap\"")
    }
}
