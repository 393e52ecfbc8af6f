//! Normalization: remove from a trace exactly what differs between two runs of the same
//! scenario, and nothing else.
//!
//! Every rule is one function here, with the reason it exists. What a rule does not mention
//! stays as strace printed it: fd numbers, flags, op names, event masks, byte counts, results.
//! [`normalize`] applies the rules in this order:
//!
//! 1. [`skip_startup`]: the trace starts at the program's banner, its first `write(1, ...)`.
//! 2. [`drop_exit`]: `exit_group(...)` and `+++ exited with N +++` go; `+++ killed by ... +++` stays.
//! 3. Per call: [`mask_pointers`] (`0x7ffe...` -> `ADDR`), [`mask_ports`] (`htons(41234)` ->
//!    `htons(PORT)`, and the server's port inside strings), [`mask_timeouts`] (clock-computed
//!    wait timeouts -> `T`, `left {...}` dropped; a timerfd's clock-computed `it_value` -> `T`).
//!    Then [`mask_handlers`] (`sa_handler=0x...` -> `sa_handler=ADDR` in `rt_sigaction`) and
//!    [`mask_pid_values`] (a traced process's pid as a `kill`/`tgkill`/`wait4` argument or as the
//!    result of `getpid`/`clone`/`fork`/`wait4` -> `PID`, or its label when there are several).
//! 4. [`collapse_timed_out_waits`]: repeated identical timed-out waits count once.
//!
//! The pid column is not part of a normalized call; [`pid_labels`] tells the renderer how to
//! name processes when there are several.

use std::collections::HashMap;

use crate::error::TraceError;
use crate::parse::{Call, Event, EventKind};

/// What a rule must know about the run beyond the trace itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The TCP port the scenario's server listened on, if it has one.
    pub port: Option<u16>,
}

/// Applies every rule, in the order given in the module docs.
///
/// `file` names the trace in errors. Fails only when the program printed no banner.
pub fn normalize(
    events: Vec<Event>,
    options: Options,
    file: &str,
) -> Result<Vec<Event>, TraceError> {
    let mut events = drop_exit(skip_startup(events, file)?);
    let pids = pid_value_names(&events);
    for event in &mut events {
        if let EventKind::Call(call) = &mut event.kind {
            mask_pointers(call);
            mask_ports(call, options.port);
            mask_timeouts(call);
            mask_handlers(call);
            mask_pid_values(call, &pids);
        }
    }
    Ok(collapse_timed_out_waits(events))
}

/// Rule 1, pids: the pid column is dropped, since pids differ on every run.
///
/// With one process (all our scenarios) nothing is printed in its place. When several pids
/// appear they must stay distinguishable, so they get the labels `p1`, `p2`, ... in order of
/// first appearance. Returns an empty map when there is at most one pid.
pub fn pid_labels(events: &[Event]) -> HashMap<u32, String> {
    let mut order = Vec::new();
    for pid in events.iter().filter_map(|e| e.pid) {
        if !order.contains(&pid) {
            order.push(pid);
        }
    }
    if order.len() < 2 {
        return HashMap::new();
    }
    order
        .into_iter()
        .enumerate()
        .map(|(i, pid)| (pid, format!("p{}", i + 1)))
        .collect()
}

/// What a pid *value* becomes in a normalized call: `PID` when the trace has one process, else
/// the process's label (`p1`, `p2`, ... as [`pid_labels`] names the pid column).
pub fn pid_value_names(events: &[Event]) -> HashMap<String, String> {
    let labels = pid_labels(events);
    if labels.is_empty() {
        return events
            .iter()
            .filter_map(|e| e.pid)
            .map(|pid| (pid.to_string(), "PID".to_string()))
            .collect();
    }
    labels
        .into_iter()
        .map(|(pid, label)| (pid.to_string(), label))
        .collect()
}

/// Rule 4c, pid values: a traced process's pid where a call takes or returns one becomes `PID`
/// (or the process's label when there are several, see [`pid_value_names`]).
///
/// A pid changes on every run. The arguments masked are the pid arguments of `kill` (the first),
/// `tgkill` (the first two) and `wait4` (the first); the results, those of `getpid`, `gettid`,
/// `clone`, `clone3`, `fork`, `vfork` and `wait4`. A number that is not one of the trace's own
/// pids stays (`kill(0, ...)`, `wait4(-1, ...)`, `-1 ECHILD`).
pub fn mask_pid_values(call: &mut Call, pids: &HashMap<String, String>) {
    let pid_args: &[usize] = match call.name.as_str() {
        "kill" | "wait4" => &[0],
        "tgkill" => &[0, 1],
        _ => &[],
    };
    for &i in pid_args {
        if let Some(name) = call.args.get(i).and_then(|a| pids.get(a)) {
            call.args[i] = name.clone();
        }
    }
    if matches!(
        call.name.as_str(),
        "getpid" | "gettid" | "clone" | "clone3" | "fork" | "vfork" | "wait4"
    ) {
        let value = call.result.split_whitespace().next().unwrap_or("");
        if let Some(name) = pids.get(value) {
            call.result = call.result.replacen(value, name, 1);
        }
    }
}

/// Rule 4b, signal handlers: in `rt_sigaction`, the addresses strace prints inside the action
/// structs (`sa_handler=0x55d2d3526c90`, `sa_restorer=0x7fd5cebf4050`) become `ADDR`.
///
/// They are code addresses of the program and of libc, different on every run (ASLR) and
/// between a C and a Rust program. `SIG_DFL` and `SIG_IGN` are printed by name and stay, as do
/// the mask and the flags.
pub fn mask_handlers(call: &mut Call) {
    if call.name != "rt_sigaction" {
        return;
    }
    for arg in &mut call.args {
        for field in ["sa_handler=0x", "sa_restorer=0x"] {
            while let Some(at) = arg.find(field) {
                let start = at + field.len();
                let digits = arg[start..]
                    .bytes()
                    .take_while(u8::is_ascii_hexdigit)
                    .count();
                let name = &field[..field.len() - 2];
                arg.replace_range(at..start + digits, &format!("{name}ADDR"));
            }
        }
    }
}

/// Rule 2, start-up: drop everything before the first `write(1, ...)`, the program's banner.
///
/// Before it run the dynamic loader, libc's and Rust's runtime start-up (`close(3)` after
/// reading shared libraries, Rust's `poll` on fds 0-2): they depend on the toolchain and the
/// machine, not on the scenario, and they differ between a C and a Rust program. Every
/// scenario program prints its banner first (see `traces/SCENARIOS.md`), so the banner is where
/// both programs' traces begin. The banner call itself is kept.
pub fn skip_startup(events: Vec<Event>, file: &str) -> Result<Vec<Event>, TraceError> {
    let start = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Call(c) if is_stdout_write(c)))
        .ok_or_else(|| TraceError::NoBanner {
            file: file.to_string(),
        })?;
    Ok(events.into_iter().skip(start).collect())
}

/// Whether the call is a `write(1, ...)`.
fn is_stdout_write(call: &Call) -> bool {
    call.name == "write" && call.args.first().is_some_and(|fd| fd == "1")
}

/// Rule 3, end: drop `exit_group(...)` and `+++ exited with N +++`.
///
/// How a program leaves is the runtime's business (libc calls `exit_group`; the harness has
/// already turned a non-zero exit into an error). A `+++ killed by SIGNAL +++` line stays: in
/// the echo scenario it is how the trace ends, right after the call the signal interrupted.
pub fn drop_exit(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter(|e| match &e.kind {
            EventKind::Exited(_) => false,
            EventKind::Call(c) => c.name != "exit_group",
            _ => true,
        })
        .collect()
}

/// Rule 4, pointers: an argument that is a bare hex address becomes `ADDR`.
///
/// strace prints a pointer it does not decode as its value (`read(3, 0x7ffe6322efa6, 10)` on
/// EAGAIN, the unused 4th argument of `EPOLL_CTL_DEL`, an `epoll_wait` array the kernel did not
/// fill). Stack and heap addresses change on every run (ASLR). strace prints numbers, flags and
/// fds in decimal or symbolically, so only pointers are bare `0x...` arguments.
pub fn mask_pointers(call: &mut Call) {
    for arg in &mut call.args {
        let hex = arg.strip_prefix("0x").unwrap_or("");
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            *arg = "ADDR".to_string();
        }
    }
}

/// Rule 5, ports: `htons(NNNN)` becomes `htons(PORT)`, and the server's port written in
/// decimal inside a string argument becomes `PORT`.
///
/// The harness picks a free port for every run, and the client's port (in `accept`'s address)
/// is chosen by the kernel. Inside strings (the banner `"echo_event: listening on
/// 127.0.0.1:41234\n"`) only the server's port is replaced, and only as a whole number (not
/// part of a longer run of digits). The harness always picks a port >= 10000, i.e. of five
/// digits, so the *length* of such a string, and so the byte count of the `write` that prints
/// it, is the same on every run and stays unmasked.
pub fn mask_ports(call: &mut Call, port: Option<u16>) {
    for arg in &mut call.args {
        *arg = mask_htons(arg);
        if let Some(port) = port {
            *arg = mask_port_in_strings(arg, &port.to_string());
        }
    }
}

/// Replaces the number in every `htons(N)` by `PORT`.
fn mask_htons(arg: &str) -> String {
    const OPEN: &str = "htons(";
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(at) = rest.find(OPEN) {
        let (before, after) = rest.split_at(at + OPEN.len());
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str("PORT");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `port` by `PORT` where it stands as a whole number inside a `"..."` string.
fn mask_port_in_strings(arg: &str, port: &str) -> String {
    let bytes = arg.as_bytes();
    let mut out = String::with_capacity(arg.len());
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string {
            in_string = b == b'"';
            out.push(b as char);
            i += 1;
        } else if b == b'\\' {
            // An escape: `\n`, `\"`, `\\` or up to three octal digits (`\0`, `\33`, `\177`).
            let octal = bytes[i + 1..]
                .iter()
                .take(3)
                .take_while(|c| (b'0'..=b'7').contains(c))
                .count();
            // Otherwise the escaped character, which may be several bytes long in a call that
            // did not come from strace (strace escapes every non-ASCII byte).
            let escaped = match octal {
                0 => arg[i + 1..].chars().next().map_or(0, char::len_utf8),
                n => n,
            };
            let end = i + 1 + escaped;
            out.push_str(&arg[i..end]);
            i = end;
        } else if b == b'"' {
            in_string = false;
            out.push('"');
            i += 1;
        } else if b.is_ascii_digit() {
            let len = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let number = &arg[i..i + len];
            out.push_str(if number == port { "PORT" } else { number });
            i += len;
        } else {
            // Copy one whole (possibly multi-byte) character.
            let ch = arg[i..].chars().next().expect("i is on a char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Where a wait syscall keeps its timeout, and in which form.
#[derive(Clone, Copy)]
enum Timeout {
    /// Milliseconds as an int (`epoll_wait`, `epoll_pwait`, `poll`).
    Millis(usize),
    /// A `{tv_sec=..., tv_nsec=...}` / `{tv_sec=..., tv_usec=...}` struct or `NULL`.
    Struct(usize),
}

/// The wait syscalls of the backends and where their timeout is.
fn timeout_of(name: &str) -> Option<Timeout> {
    Some(match name {
        "epoll_wait" | "epoll_pwait" => Timeout::Millis(3),
        "poll" => Timeout::Millis(2),
        "epoll_pwait2" => Timeout::Struct(3),
        "ppoll" => Timeout::Struct(2),
        "select" | "pselect6" => Timeout::Struct(4),
        _ => return None,
    })
}

/// Rule 6a, clock-dependent timeouts: the timeout a backend computed from the clock becomes `T`,
/// and the `left {...}` time select/pselect6/ppoll report in their result is dropped.
///
/// libevent (and minievent) compute a wait's timeout as "earliest timer deadline minus now", so
/// its value depends on how long the program took to get there. Only a positive timeout is
/// computed: `-1` (no timer: block) and `0` (do not block) are decisions, not measurements, and
/// stay. For select/pselect6/ppoll a struct with any non-zero field is a computed timeout;
/// `NULL` and an all-zero struct stay. The `left` part of their result is the time that
/// remained, measured by the kernel.
pub fn mask_timeouts(call: &mut Call) {
    if call.name == "timerfd_settime" {
        mask_timerfd_value(call);
        return;
    }
    let Some(timeout) = timeout_of(&call.name) else {
        return;
    };
    match timeout {
        Timeout::Millis(i) => {
            if let Some(arg) = call.args.get_mut(i)
                && arg.parse::<i64>().is_ok_and(|ms| ms > 0)
            {
                *arg = "T".to_string();
            }
        }
        Timeout::Struct(i) => {
            if let Some(arg) = call.args.get_mut(i)
                && arg.starts_with('{')
                && arg.bytes().any(|b| (b'1'..=b'9').contains(&b))
            {
                *arg = "T".to_string();
            }
        }
    }
    call.result = drop_time_left(&call.result);
}

/// Rule 6c, the precise timer: epoll with `EVENT_BASE_FLAG_PRECISE_TIMER` arms a timerfd with
/// `timerfd_settime` before each wait, for "earliest deadline minus now" — computed from the
/// clock like a wait's timeout (6a). A non-zero `it_value={...}` becomes `it_value=T`; an all-zero
/// one (disarm: no timer, or a zero wait) is a decision and stays, and so does `it_interval`.
fn mask_timerfd_value(call: &mut Call) {
    let Some(arg) = call.args.get_mut(2) else {
        return;
    };
    let Some(at) = arg.find("it_value={") else {
        return;
    };
    let start = at + "it_value=".len();
    let Some(len) = arg[start..].find('}') else {
        return;
    };
    let value = &arg[start..=start + len];
    if value.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        *arg = format!("{}T{}", &arg[..start], &arg[start + len + 1..]);
    }
}

/// Drops `, left {...}` (or a lone `(left {...})`) from a wait's result.
fn drop_time_left(result: &str) -> String {
    if let Some(at) = result.find(", left {")
        && let Some(close) = result[at..].find('}')
    {
        return format!("{}{}", &result[..at], &result[at + close + 1..]);
    }
    if let Some(at) = result.find(" (left {")
        && let Some(close) = result[at..].find("})")
    {
        return format!("{}{}", &result[..at], &result[at + close + 2..]);
    }
    result.to_string()
}

/// Whether the call is a wait with a computed timeout (`T`) that timed out (result `0`).
fn is_timed_out_wait(call: &Call) -> bool {
    let masked = match timeout_of(&call.name) {
        Some(Timeout::Millis(i) | Timeout::Struct(i)) => call.args.get(i).is_some_and(|a| a == "T"),
        None => false,
    };
    masked && (call.result == "0" || call.result == "0 (Timeout)")
}

/// Rule 6b: a run of consecutive identical waits, each with timeout `T` and result `0`,
/// collapses into its first.
///
/// libevent reads the time with `CLOCK_MONOTONIC_COARSE`, which advances in ticks (4 ms on
/// the machine this was written on). When a wait times out, the coarse clock may not have
/// reached the timer's deadline yet; the loop then finds the timer not yet due and waits again
/// for the remaining few milliseconds. Whether that second wait happens depends on where in a
/// tick the program started, so it is run-dependent; the scenario's meaning ("the wait timed
/// out") is one wait.
pub fn collapse_timed_out_waits(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        if let (Some(last), EventKind::Call(call)) = (out.last(), &event.kind)
            && is_timed_out_wait(call)
            && last == &event
        {
            continue;
        }
        out.push(event);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn one_call(line: &str) -> Call {
        let events = parse(line, "t").expect("parses");
        match events.into_iter().next().map(|e| e.kind) {
            Some(EventKind::Call(c)) => c,
            other => panic!("not a call: {other:?}"),
        }
    }

    fn args(call: &Call) -> String {
        call.args.join(", ")
    }

    #[test]
    fn pids_get_labels_only_when_there_are_several() {
        let one = parse("5  close(3) = 0\n5  close(4) = 0\n", "t").expect("parses");
        assert!(pid_labels(&one).is_empty());
        let two =
            parse("9  close(3) = 0\n7  close(4) = 0\n9  close(5) = 0\n", "t").expect("parses");
        let labels = pid_labels(&two);
        assert_eq!(labels[&9], "p1");
        assert_eq!(labels[&7], "p2");
    }

    #[test]
    fn startup_is_cut_at_the_banner_which_stays() {
        let text = "\
6024  close(3)                          = 0
6024  read(3, \"\\177ELF\\2\\1\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"..., 832) = 832
6024  write(2, \"warning\\n\", 8)         = 8
6024  write(1, \"step3: event_add\\n\", 17) = 17
6024  epoll_create1(EPOLL_CLOEXEC)      = 3
";
        let events = skip_startup(parse(text, "t").expect("parses"), "t").expect("has a banner");
        assert_eq!(events.len(), 2);
        assert!(
            matches!(&events[0].kind, EventKind::Call(c) if c.args[1] == "\"step3: event_add\\n\"")
        );
    }

    #[test]
    fn no_banner_is_an_error_pointing_at_scenarios_md() {
        let events = parse("1  close(3) = 0\n", "t").expect("parses");
        let err = skip_startup(events, "step9.strace").expect_err("no banner");
        assert!(err.to_string().contains("printed no banner line"), "{err}");
        assert!(err.to_string().contains("traces/SCENARIOS.md"), "{err}");
    }

    #[test]
    fn exit_goes_and_a_kill_stays() {
        let text = "\
1  write(1, \"x\\n\", 2) = 2
1  exit_group(0)                     = ?
1  +++ exited with 0 +++
2  +++ killed by SIGTERM +++
";
        let events = drop_exit(parse(text, "t").expect("parses"));
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].kind, EventKind::Killed("SIGTERM".into()));
    }

    #[test]
    fn signal_handlers_and_pids_are_masked() {
        let text = "\
77 write(1, \"step7\\n\", 6) = 6
77 rt_sigaction(SIGUSR1, {sa_handler=0x55d2d3526c90, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7fd5cebf4050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0
77 getpid() = 77
77 kill(77, SIGUSR1) = 0
77 kill(0, SIGUSR2) = 0
77 rt_sigaction(SIGUSR1, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7fd5cebf4050}, NULL, 8) = 0
";
        let events = crate::parse::parse(text, "t").expect("parses");
        let events = normalize(events, Options::default(), "t").expect("normalizes");
        let calls: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Call(c) => {
                    Some(format!("{}({}) = {}", c.name, c.args.join(", "), c.result))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            calls[1],
            "rt_sigaction(SIGUSR1, {sa_handler=ADDR, sa_mask=~[RTMIN RT_1], \
             sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=ADDR}, {sa_handler=SIG_DFL, sa_mask=[], \
             sa_flags=0}, 8) = 0"
        );
        assert_eq!(calls[2], "getpid() = PID");
        assert_eq!(calls[3], "kill(PID, SIGUSR1) = 0");
        assert_eq!(calls[4], "kill(0, SIGUSR2) = 0", "not a traced pid: stays");
        assert!(
            calls[5].contains("sa_restorer=ADDR}, NULL, 8"),
            "{}",
            calls[5]
        );
    }

    #[test]
    fn pid_values_take_the_labels_when_there_are_several_processes() {
        let text = "\
10 write(1, \"fork\\n\", 5) = 5
10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 11
11 write(1, \"child\\n\", 6) = 6
10 wait4(11, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11
";
        let events = crate::parse::parse(text, "t").expect("parses");
        let events = normalize(events, Options::default(), "t").expect("normalizes");
        let calls: Vec<&Call> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Call(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(calls[1].result, "p2");
        assert_eq!(calls[3].args[0], "p2");
        assert_eq!(calls[3].result, "p2");
    }

    #[test]
    fn bare_hex_arguments_are_pointers() {
        let mut del = one_call("6024  epoll_ctl(3, EPOLL_CTL_DEL, 6, 0x7ffcb3d8e74c) = 0\n");
        mask_pointers(&mut del);
        assert_eq!(args(&del), "3, EPOLL_CTL_DEL, 6, ADDR");
        let mut read = one_call(
            "1  read(3, 0x7ffe6322efa6, 10) = -1 EAGAIN (Resource temporarily unavailable)\n",
        );
        mask_pointers(&mut read);
        assert_eq!(args(&read), "3, ADDR, 10");
        assert_eq!(read.result, "-1 EAGAIN (Resource temporarily unavailable)");
        // Flags, numbers and results stay, hex or not.
        let mut fcntl = one_call("1  fcntl(6, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n");
        mask_pointers(&mut fcntl);
        assert_eq!(args(&fcntl), "6, F_SETFL, O_RDWR|O_NONBLOCK");
        let mut getfl = one_call("1  fcntl(6, F_GETFL) = 0x2 (flags O_RDWR)\n");
        mask_pointers(&mut getfl);
        assert_eq!(getfl.result, "0x2 (flags O_RDWR)");
    }

    #[test]
    fn ports_in_htons_and_in_the_banner_string() {
        let mut bind = one_call(
            "6147  bind(6, {sa_family=AF_INET, sin_port=htons(41234), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n",
        );
        mask_ports(&mut bind, Some(41234));
        assert_eq!(
            args(&bind),
            "6, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr(\"127.0.0.1\")}, 16"
        );
        // The client's port is the kernel's choice: masked without being known.
        let mut accept = one_call(
            "6147  accept(6, {sa_family=AF_INET, sin_port=htons(35142), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 7\n",
        );
        mask_ports(&mut accept, None);
        assert!(args(&accept).contains("htons(PORT)"));
        let mut banner =
            one_call("1  write(1, \"echo_event: listening on 127.0.0.1:41234\\n\", 41) = 41\n");
        mask_ports(&mut banner, Some(41234));
        assert_eq!(
            args(&banner),
            "1, \"echo_event: listening on 127.0.0.1:PORT\\n\", 41"
        );
        assert_eq!(banner.result, "41");
    }

    #[test]
    fn only_the_whole_port_number_inside_strings_is_masked() {
        assert_eq!(
            mask_port_in_strings("\"412345 41234\"", "41234"),
            "\"412345 PORT\""
        );
        assert_eq!(
            mask_port_in_strings("41234, \"41234\"", "41234"),
            "41234, \"PORT\""
        );
        // An octal escape is not part of the number after it.
        assert_eq!(mask_port_in_strings("\"\\041234\"", "1234"), "\"\\041234\"");
        assert_eq!(
            mask_port_in_strings("\"\\0\"41234", "41234"),
            "\"\\0\"41234"
        );
    }

    /// Found by traces/tests/parser_properties.rs: a backslash before a multi-byte character
    /// cut the character in two (a panic).
    #[test]
    fn an_escaped_multibyte_character_stays_whole() {
        assert_eq!(mask_port_in_strings("\"\\é41234\\", "41234"), "\"\\éPORT\\");
        assert_eq!(
            mask_port_in_strings("\"\\🢂 41234\"", "41234"),
            "\"\\🢂 PORT\""
        );
    }

    #[test]
    fn computed_timeouts_become_t_and_decisions_stay() {
        let mut wait = one_call("1  epoll_wait(3, [], 64, 19) = 0\n");
        mask_timeouts(&mut wait);
        assert_eq!(args(&wait), "3, [], 64, T");
        let mut block =
            one_call("1  epoll_wait(3, [{events=EPOLLIN, data={u32=7, u64=7}}], 32, -1) = 1\n");
        mask_timeouts(&mut block);
        assert!(args(&block).ends_with("32, -1"));
        let mut nonblock = one_call("1  poll([{fd=3, events=POLLIN}], 1, 0) = 0 (Timeout)\n");
        mask_timeouts(&mut nonblock);
        assert!(args(&nonblock).ends_with(", 1, 0"));
        let mut poll =
            one_call("1  poll([{fd=3, events=POLLIN}], 1, 5) = 1 ([{fd=3, revents=POLLIN}])\n");
        mask_timeouts(&mut poll);
        assert_eq!(args(&poll), "[{fd=3, events=POLLIN}], 1, T");
        assert_eq!(poll.result, "1 ([{fd=3, revents=POLLIN}])");
    }

    #[test]
    fn a_timerfds_computed_value_becomes_t_and_disarming_stays() {
        let mut armed = one_call(
            "1  timerfd_settime(4, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, \
             tv_nsec=49888000}}, NULL) = 0\n",
        );
        mask_timeouts(&mut armed);
        assert_eq!(
            args(&armed),
            "4, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value=T}, NULL"
        );
        let line = "1  timerfd_settime(4, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, \
                    tv_nsec=0}}, NULL) = 0\n";
        let mut disarm = one_call(line);
        mask_timeouts(&mut disarm);
        assert_eq!(args(&disarm), args(&one_call(line)));
    }

    #[test]
    fn select_timeouts_and_time_left() {
        let mut ready = one_call(
            "1  pselect6(4, [3], [], NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 1 (in [3], left {tv_sec=0, tv_nsec=999997164})\n",
        );
        mask_timeouts(&mut ready);
        assert_eq!(args(&ready), "4, [3], [], NULL, T, NULL");
        assert_eq!(ready.result, "1 (in [3])");
        let mut zero =
            one_call("1  pselect6(4, [3], [], NULL, {tv_sec=0, tv_nsec=0}, NULL) = 0 (Timeout)\n");
        mask_timeouts(&mut zero);
        assert_eq!(args(&zero), "4, [3], [], NULL, {tv_sec=0, tv_nsec=0}, NULL");
        let mut blocking = one_call("1  pselect6(7, [3 6], [], NULL, NULL, NULL) = 1 (in [6])\n");
        mask_timeouts(&mut blocking);
        assert_eq!(args(&blocking), "7, [3 6], [], NULL, NULL, NULL");
        let mut select = one_call(
            "1  select(5, [3 4], NULL, NULL, {tv_sec=0, tv_usec=20000}) = 1 (in [3], left {tv_sec=0, tv_usec=19990})\n",
        );
        mask_timeouts(&mut select);
        assert_eq!(args(&select), "5, [3 4], NULL, NULL, T");
        assert_eq!(select.result, "1 (in [3])");
        assert_eq!(drop_time_left("1 (left {tv_sec=0, tv_nsec=5})"), "1");
    }

    #[test]
    fn repeated_timed_out_waits_collapse_and_nothing_else_does() {
        let text = "\
1  write(1, \"dispatch: two timeouts\\n\", 23) = 23
1  epoll_wait(3, [], 64, 20) = 0
1  epoll_wait(3, [], 64, 1) = 0
1  epoll_ctl(3, EPOLL_CTL_DEL, 6, 0x7ffcb3d8e74c) = 0
1  epoll_wait(3, [], 64, 30) = 0
1  epoll_wait(3, [], 64, 3) = 0
1  epoll_wait(3, [], 64, 2) = 0
1  epoll_wait(3, [], 64, 0) = 0
1  epoll_wait(3, [], 64, 0) = 0
1  epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}], 64, 5) = 1
1  epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}], 64, 5) = 1
";
        let events = normalize(parse(text, "t").expect("parses"), Options::default(), "t")
            .expect("normalizes");
        let lines: Vec<String> = events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Call(c) => format!("{}({}) = {}", c.name, args(c), c.result),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            lines,
            [
                "write(1, \"dispatch: two timeouts\\n\", 23) = 23",
                "epoll_wait(3, [], 64, T) = 0",
                "epoll_ctl(3, EPOLL_CTL_DEL, 6, ADDR) = 0",
                "epoll_wait(3, [], 64, T) = 0",
                "epoll_wait(3, [], 64, 0) = 0",
                "epoll_wait(3, [], 64, 0) = 0",
                "epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}], 64, T) = 1",
                "epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}], 64, T) = 1",
            ]
        );
    }
}
