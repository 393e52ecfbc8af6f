//! The heap alone (minheap-internal.h: min_heap_push_, min_heap_erase_): what is on top, where each
//! event is told it sits, erasing from the middle by that index — the chapter's figure, both
//! directions of erase, and a long run of pushes and erases against a simple model.

use minievent::minheap::{HeapIndex, MinHeap};
use minievent::{Base, BaseFlags, Config, Ev, EventId};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Where the heap said each event sits, as the base's event table keeps it.
#[derive(Default)]
struct Positions(HashMap<EventId, usize>);

impl HeapIndex for Positions {
    fn set_heap_index(&mut self, id: EventId, index: usize) {
        self.0.insert(id, index);
    }
}

/// `n` event ids (pure timers, never added), and the base that owns them.
fn ids(n: usize) -> (Base, Vec<EventId>) {
    let mut base = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV))
        .unwrap_or_else(|e| panic!("{e}"));
    let ids = (0..n)
        .map(|_| {
            base.event_new(-1, Ev::NONE, |_, _, _, _| {})
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    (base, ids)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every event in `live` was told a distinct index below `heap.len()`, and the top's is 0.
fn check_positions(heap: &MinHeap, pos: &Positions, live: &[EventId], step: &str) {
    assert_eq!(
        heap.len(),
        live.len(),
        "{step}: the heap's length (left: what your code gave, right: what libevent does)"
    );
    let mut seen = BTreeSet::new();
    for id in live {
        let at = *pos
            .0
            .get(id)
            .unwrap_or_else(|| panic!("{step}: an event on the heap was never told its index"));
        assert!(
            at < heap.len(),
            "{step}: an event was told index {at}, past the end of a heap of {}",
            heap.len()
        );
        assert!(
            seen.insert(at),
            "{step}: two events were told the same index {at}"
        );
    }
    if let Some((_, top)) = heap.top() {
        assert_eq!(
            pos.0[&top], 0,
            "{step}: the top event was not told index 0 (left: what your code gave, right: what libevent does)"
        );
    }
}

/// Erases the top until the heap is empty; the deadlines in the order they came off.
fn drain(heap: &mut MinHeap, pos: &mut Positions) -> Vec<u128> {
    let mut out = Vec::new();
    while let Some((deadline, _)) = heap.top() {
        out.push(deadline.as_millis());
        heap.erase(0, pos);
    }
    out
}

#[test]
fn push_keeps_the_earliest_on_top_whatever_the_order() {
    let orders: [&[u64]; 4] = [
        &[10, 20, 30, 40, 50, 60, 70, 80, 90],
        &[90, 80, 70, 60, 50, 40, 30, 20, 10],
        &[50, 20, 70, 10, 40, 60, 30, 90, 80],
        &[30, 30, 10, 30, 10, 20, 20, 30, 10],
    ];
    for order in orders {
        let (_base, ids) = ids(order.len());
        let mut heap = MinHeap::default();
        let mut pos = Positions::default();
        for (i, &d) in order.iter().enumerate() {
            heap.push((ms(d), ids[i]), &mut pos);
            let earliest = order[..=i].iter().min().copied();
            assert_eq!(
                heap.top().map(|(t, _)| t.as_millis() as u64),
                earliest,
                "after pushing {:?}, the top is not the earliest (left: what your code gave, right: what libevent does)",
                &order[..=i]
            );
            check_positions(&heap, &pos, &ids[..=i], &format!("push {:?}", &order[..=i]));
        }
        let mut sorted = order.to_vec();
        sorted.sort_unstable();
        let sorted: Vec<u128> = sorted.into_iter().map(u128::from).collect();
        assert_eq!(
            drain(&mut heap, &mut pos),
            sorted,
            "erasing the top again and again gives {order:?} out of order (left: what your code gave, right: what libevent does)"
        );
    }
}

#[test]
fn the_chapters_figure_push_then_erase() {
    // 10 20 30 50 40 60 70, then push 15: it climbs past 50 and 20 (chapter 8's figure, left).
    let (_base, ids) = ids(8);
    let deadlines = [10, 20, 30, 50, 40, 60, 70, 15];
    let mut heap = MinHeap::default();
    let mut pos = Positions::default();
    for (i, &d) in deadlines.iter().enumerate() {
        heap.push((ms(d), ids[i]), &mut pos);
    }
    let at = |pos: &Positions, i: usize| pos.0[&ids[i]];
    assert_eq!(
        (at(&pos, 7), at(&pos, 1), at(&pos, 3)),
        (1, 3, 7),
        "after push(15): 15 at index 1, 20 at 3, 50 at 7 (indices told: 15, 20, 50) (left: what your code gave, right: what libevent does)"
    );
    check_positions(&heap, &pos, &ids, "push(15)");
    // Erase 15 by its index: 50, the last entry, fills the hole and sinks below 20 (the figure's
    // right half).
    heap.erase(at(&pos, 7), &mut pos);
    let live: Vec<EventId> = ids[..7].to_vec();
    check_positions(&heap, &pos, &live, "erase(15)");
    assert_eq!(
        (at(&pos, 1), at(&pos, 3)),
        (1, 3),
        "after erase(15): 20 back at index 1, 50 at 3 (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        drain(&mut heap, &mut pos),
        vec![10, 20, 30, 40, 50, 60, 70],
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn erase_moves_the_last_entry_up_when_it_is_earlier_than_the_parent() {
    // 10 50 20 60 70 25 30: erasing 60 (index 3) puts 30 in its place, which is earlier than its
    // new parent 50: it must go up, and 50 down.
    let (_base, ids) = ids(7);
    let deadlines = [10, 50, 20, 60, 70, 25, 30];
    let mut heap = MinHeap::default();
    let mut pos = Positions::default();
    for (i, &d) in deadlines.iter().enumerate() {
        heap.push((ms(d), ids[i]), &mut pos);
    }
    assert_eq!(
        pos.0[&ids[3]], 3,
        "60 was pushed fourth and stays at index 3 (left: what your code gave, right: what libevent does)"
    );
    heap.erase(3, &mut pos);
    let live: Vec<EventId> = [0, 1, 2, 4, 5, 6].iter().map(|&i| ids[i]).collect();
    check_positions(&heap, &pos, &live, "erase(60)");
    assert_eq!(
        (pos.0[&ids[6]], pos.0[&ids[1]]),
        (1, 3),
        "after erasing 60: 30 moved up to index 1, 50 down to 3 (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        drain(&mut heap, &mut pos),
        vec![10, 20, 25, 30, 50, 70],
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn erase_the_last_slot_and_the_only_entry() {
    let (_base, ids) = ids(3);
    let mut heap = MinHeap::default();
    let mut pos = Positions::default();
    heap.push((ms(5), ids[0]), &mut pos);
    heap.erase(0, &mut pos);
    assert!(
        heap.is_empty(),
        "erasing the only entry leaves an empty heap"
    );
    assert_eq!(
        heap.top(),
        None,
        "left: what your code gave, right: what libevent does"
    );
    heap.push((ms(5), ids[0]), &mut pos);
    heap.push((ms(9), ids[1]), &mut pos);
    heap.push((ms(7), ids[2]), &mut pos);
    let last = pos.0[&ids[2]];
    assert_eq!(
        last, 2,
        "7 ms, pushed last under 5 ms, stays at index 2 (left: what your code gave, right: what libevent does)"
    );
    heap.erase(last, &mut pos);
    check_positions(&heap, &pos, &ids[..2], "erase(the last slot)");
    assert_eq!(
        drain(&mut heap, &mut pos),
        vec![5, 9],
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn a_long_run_of_pushes_and_erases_matches_a_sorted_set() {
    // A deterministic pseudo-random walk (an LCG): push a free event with a deadline, or erase a
    // live one by the index it was told; after each step the top is the model's earliest.
    let n = 64;
    let (_base, ids) = ids(n);
    let mut heap = MinHeap::default();
    let mut pos = Positions::default();
    let mut model: BTreeSet<(u64, usize)> = BTreeSet::new();
    let mut deadline_of: HashMap<usize, u64> = HashMap::new();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % m
    };
    for step in 0..3000 {
        let slot = next(n as u64) as usize;
        if let Some(d) = deadline_of.remove(&slot) {
            model.remove(&(d, slot));
            heap.erase(pos.0[&ids[slot]], &mut pos);
        } else {
            let d = next(50);
            deadline_of.insert(slot, d);
            model.insert((d, slot));
            heap.push((ms(d), ids[slot]), &mut pos);
        }
        assert_eq!(
            heap.top().map(|(t, _)| t.as_millis() as u64),
            model.first().map(|&(d, _)| d),
            "step {step}: the top is not the earliest deadline (left: what your code gave, right: what libevent does)"
        );
        let live: Vec<EventId> = deadline_of.keys().map(|&s| ids[s]).collect();
        check_positions(&heap, &pos, &live, &format!("step {step}"));
    }
    // An index that led to another event's entry erased the wrong event somewhere: what is left
    // differs from the model, event for event.
    let mut left = Vec::new();
    while let Some((t, id)) = heap.top() {
        left.push((t.as_millis() as u64, id));
        heap.erase(0, &mut pos);
    }
    let mut expected: Vec<(u64, EventId)> = model.iter().map(|&(d, s)| (d, ids[s])).collect();
    left.sort_by_key(|&(d, id)| (d, ids.iter().position(|&x| x == id)));
    expected.sort_by_key(|&(d, id)| (d, ids.iter().position(|&x| x == id)));
    assert_eq!(
        left, expected,
        "after 3000 steps the heap holds other events than were pushed and not erased (left: what your code gave, right: what libevent does)"
    );
}
