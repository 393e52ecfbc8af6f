//! The timeout heap. libevent: minheap-internal.h (`min_heap_push_`, `min_heap_pop_`,
//! `min_heap_erase_`, `min_heap_top_`).
//!
//! A binary min-heap of events ordered by deadline. Each event remembers its position in the heap
//! (libevent's `min_heap_idx`), so `event_del` can erase it from the middle in O(log n).

use crate::event::EventId;
use std::time::Duration;

// ANCHOR: heap
/// Where the heap records each event's position. libevent writes `ev->ev_timeout_pos.min_heap_idx`.
pub trait HeapIndex {
    /// Records that `id` now sits at `index`.
    fn set_heap_index(&mut self, id: EventId, index: usize);
}

/// The heap. libevent: `struct min_heap`.
#[derive(Default)]
pub struct MinHeap {
    /// The entries in heap order: `entries[0]` is the earliest, and each entry's deadline is not
    /// after its children's (`2i + 1`, `2i + 2`). libevent: `s->p`, with `s->n` its length.
    pub(crate) entries: Vec<(Duration, EventId)>,
}
// ANCHOR_END: heap

impl MinHeap {
    // ANCHOR: top
    /// The event with the earliest deadline. libevent: `min_heap_top_()`.
    pub fn top(&self) -> Option<(Duration, EventId)> {
        self.entries.first().copied()
    }

    /// `true` when no timeout is pending. libevent: `min_heap_empty_()`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many timeouts are pending. libevent: `min_heap_size_()`.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    // ANCHOR_END: top

    // ANCHOR: push_erase
    /// Adds an event. libevent: `min_heap_push_()`.
    pub fn push(&mut self, entry: (Duration, EventId), idx: &mut dyn HeapIndex) {
        self.entries.push(entry);
        self.shift_up(self.entries.len() - 1, entry, idx);
    }

    /// Removes the event at `index` (which the event remembered). libevent: `min_heap_erase_()`.
    pub fn erase(&mut self, index: usize, idx: &mut dyn HeapIndex) {
        let last = self
            .entries
            .pop()
            .expect("min_heap_erase_ on an empty heap");
        if index == self.entries.len() {
            return; // it was the last one
        }
        let parent = index.saturating_sub(1) / 2;
        if index > 0 && self.entries[parent].0 > last.0 {
            self.shift_up(index, last, idx);
        } else {
            self.shift_down(index, last, idx);
        }
    }

    /// Moves `e` up from `hole` while its parent is later. libevent: `min_heap_shift_up_()`.
    fn shift_up(&mut self, mut hole: usize, e: (Duration, EventId), idx: &mut dyn HeapIndex) {
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if self.entries[parent].0 <= e.0 {
                break;
            }
            self.entries[hole] = self.entries[parent];
            idx.set_heap_index(self.entries[hole].1, hole);
            hole = parent;
        }
        self.entries[hole] = e;
        idx.set_heap_index(e.1, hole);
    }

    /// Moves `e` down from `hole` while a child is earlier. libevent: `min_heap_shift_down_()`.
    fn shift_down(&mut self, mut hole: usize, e: (Duration, EventId), idx: &mut dyn HeapIndex) {
        let n = self.entries.len();
        let mut min_child = 2 * (hole + 1);
        while min_child <= n {
            if min_child == n || self.entries[min_child].0 > self.entries[min_child - 1].0 {
                min_child -= 1;
            }
            if e.0 <= self.entries[min_child].0 {
                break;
            }
            self.entries[hole] = self.entries[min_child];
            idx.set_heap_index(self.entries[hole].1, hole);
            hole = min_child;
            min_child = 2 * (hole + 1);
        }
        self.entries[hole] = e;
        idx.set_heap_index(e.1, hole);
    }
    // ANCHOR_END: push_erase
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Positions(HashMap<EventId, usize>);
    impl HeapIndex for Positions {
        fn set_heap_index(&mut self, id: EventId, index: usize) {
            self.0.insert(id, index);
        }
    }

    fn id(i: u32) -> EventId {
        EventId {
            index: i,
            generation: 0,
            base: 0,
        }
    }

    #[test]
    fn pops_in_deadline_order_and_erases_from_the_middle() {
        let mut heap = MinHeap::default();
        let mut pos = Positions::default();
        let deadlines = [50u64, 20, 70, 10, 40, 60, 30];
        for (i, ms) in deadlines.iter().enumerate() {
            heap.push((Duration::from_millis(*ms), id(i as u32)), &mut pos);
        }
        // Every recorded position points at the right entry.
        for (i, ms) in deadlines.iter().enumerate() {
            let at = pos.0[&id(i as u32)];
            assert_eq!(heap.entries[at], (Duration::from_millis(*ms), id(i as u32)));
        }
        heap.erase(pos.0[&id(4)], &mut pos); // the 40 ms one
        let mut order = Vec::new();
        while let Some((deadline, _)) = heap.top() {
            order.push(deadline.as_millis());
            heap.erase(0, &mut pos);
        }
        assert_eq!(order, vec![10, 20, 30, 50, 60, 70]);
    }
}
