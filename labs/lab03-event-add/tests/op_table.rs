//! The epoll op decision (epolltable-internal.h:epoll_op_table): for a change evmap asks for, which
//! `epoll_ctl` operation with which mask.

use minievent::EV_CLOSED;
use minievent::backend::epoll::{Change, EventChange, epoll_op};
use minievent::{EV_READ, EV_WRITE, Ev};
use minievent_labs_kit::names;

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const RDHUP: u32 = libc::EPOLLRDHUP as u32;
const ADD: libc::c_int = libc::EPOLL_CTL_ADD;
const MOD: libc::c_int = libc::EPOLL_CTL_MOD;
const DEL: libc::c_int = libc::EPOLL_CTL_DEL;

fn change(old: Ev, read: Change, write: Change, close: Change) -> EventChange {
    EventChange {
        fd: 7,
        old_events: old,
        read_change: read,
        write_change: write,
        close_change: close,
        et: false,
    }
}

/// Checks one cell of the op table, in words: left is your `epoll_op`, right libevent's table.
#[track_caller]
fn assert_op(ch: EventChange, expected: Option<(libc::c_int, u32)>) {
    assert_eq!(
        names::epoll_ctl(epoll_op(&ch)),
        names::epoll_ctl(expected),
        "epoll_op for old events {:?}, read {:?}, write {:?}, close {:?} (left: yours, right: \
         epolltable-internal.h's)",
        ch.old_events,
        ch.read_change,
        ch.write_change,
        ch.close_change,
    );
}

use Change::{Add, Del, None as Keep};

#[test]
fn adding_to_an_fd_without_events_is_add() {
    assert_op(change(Ev::NONE, Add, Keep, Keep), Some((ADD, IN)));
    assert_op(change(Ev::NONE, Add, Add, Keep), Some((ADD, IN | OUT)));
}

#[test]
fn adding_to_an_fd_with_events_is_mod_to_everything_it_keeps() {
    assert_op(change(EV_READ, Keep, Add, Keep), Some((MOD, IN | OUT)));
    assert_op(
        change(EV_READ | EV_WRITE, Keep, Keep, Add),
        Some((MOD, IN | OUT | RDHUP)),
    );
}

#[test]
fn deleting_one_kind_of_two_is_mod_to_the_other() {
    assert_op(
        change(EV_READ | EV_WRITE, Del, Keep, Keep),
        Some((MOD, OUT)),
    );
    assert_op(
        change(EV_WRITE | EV_CLOSED, Keep, Del, Keep),
        Some((MOD, RDHUP)),
    );
}

#[test]
fn deleting_the_last_kind_is_del() {
    assert_op(change(EV_WRITE, Keep, Del, Keep), Some((DEL, OUT)));
    assert_op(
        change(EV_READ | EV_WRITE, Del, Del, Keep),
        Some((DEL, IN | OUT)),
    );
}

#[test]
fn no_change_is_no_call() {
    assert_op(change(EV_READ, Keep, Keep, Keep), None);
    assert_op(change(Ev::NONE, Keep, Keep, Keep), None);
}

#[test]
fn epoll_op_matches_the_table_of_libevent_row_for_row() {
    let table = include_str!("epoll_op_table.txt");
    let mut rows = 0;
    for (n, line) in table.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.len(), 6, "epoll_op_table.txt:{}: {line}", n + 1);
        let old = cols[0].chars().fold(Ev::NONE, |ev, c| {
            ev | match c {
                'r' => EV_READ,
                'w' => EV_WRITE,
                'c' => EV_CLOSED,
                _ => Ev::NONE,
            }
        });
        let ch = |s: &str| match s {
            "add" => Add,
            "del" => Del,
            _ => Keep,
        };
        let ch = change(old, ch(cols[1]), ch(cols[2]), ch(cols[3]));
        let expected = match cols[4] {
            "-" => None,
            op => {
                let op = match op {
                    "ADD" => ADD,
                    "MOD" => MOD,
                    _ => DEL,
                };
                let mask = cols[5].split('|').fold(0, |m, b| {
                    m | match b {
                        "IN" => IN,
                        "OUT" => OUT,
                        "RDHUP" => RDHUP,
                        _ => 0,
                    }
                });
                Some((op, mask))
            }
        };
        let got = epoll_op(&ch);
        assert_eq!(
            names::epoll_ctl(got),
            names::epoll_ctl(expected),
            "epoll_op for old events {:?}, read {:?}, write {:?}, close {:?} (left: yours, right: \
             row {} of tests/epoll_op_table.txt, libevent's table)",
            ch.old_events,
            ch.read_change,
            ch.write_change,
            ch.close_change,
            n + 1
        );
        rows += 1;
    }
    assert_eq!(
        rows, 216,
        "the table has a row for each of 8 old sets x 27 changes"
    );
}
