//! Parse strace's output (`strace -f -o FILE`) into [`Event`]s.
//!
//! Each line goes through [`strace_parse::raw::parse`], the strace parser crate; a line it
//! cannot parse is an error naming the file and line and quoting it — never skipped.
//!
//! Five forms are handled here, before or after the crate, because strace-parse 0.4 does not:
//!
//! - The pid column: strace pads it to five characters plus a space (`794   close(3) = 0`), and
//!   the crate accepts at most two spaces after the pid: with more it silently returns a call
//!   named `" close"`. [`squeeze_pid_column`] leaves a single space, and a call name that is
//!   not a plain identifier is an error, never a silently wrong name.
//! - `accept(6, {...}, [128 => 16]) = 7`: strace writes a value-result argument whose value
//!   changed as `IN => OUT` (here the address length: 128 bytes offered, 16 used). The crate has
//!   no rule for `=>`, so [`hide_arrows`] replaces each ` => ` outside string literals by a
//!   placeholder word the crate takes as part of a symbol, and `call_of` puts ` => ` back.
//! - `+++ killed by SIGTERM +++` (and `+++ killed by SIGSEGV (core dumped) +++`): the crate
//!   only knows `+++ exited with N +++`, so these lines are recognised by [`killed_line`] and
//!   never handed to the crate.
//! - `epoll_wait(3,  <unfinished ...>)  = ?`, which strace 6.1 prints for a call that was
//!   interrupted by the process's death (seen with SIGKILL): the crate accepts
//!   `<unfinished ...>) = ?` only with a single space before `=`, while strace pads the column
//!   with several. [`squeeze_unfinished_padding`] squeezes the padding to one space.
//! - `<unfinished ...>` / `<... NAME resumed>` pairs are merged here, by pid, with the crate's
//!   [`strace_parse::raw::parsers::merge_resumed`] (the crate's own `structure::iter_finished`
//!   panics on some inputs and reorders calls). The merged call takes the place of its
//!   *unfinished* line, i.e. the order in which the calls started. A call that never resumes
//!   (its process was killed inside it) becomes `NAME(ARGS, ...) = ?`: the arguments strace
//!   printed before `<unfinished ...>`, `...` for those it never printed, and `?` for the
//!   result, as strace itself writes an unknown result.
//!
//! One more thing to know about the crate: when a line fails to parse, its worker thread also
//! prints `Failed "..."` to stdout, with a backtrace when `RUST_BACKTRACE` is set (we still turn
//! the failure into an error, with a short reason).

use std::collections::HashMap;
use std::io::Cursor;

use strace_parse::raw::{self, Call as RawCall, CallResult, Syscall};

use crate::error::TraceError;

/// One syscall as strace printed it: `name(args[0], args[1], ...) = result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The syscall's name, e.g. `epoll_ctl`.
    pub name: String,
    /// Each argument exactly as strace printed it, e.g. `{events=EPOLLIN, data={u32=6, u64=6}}`.
    pub args: Vec<String>,
    /// Everything after `= `, e.g. `0`, `-1 EEXIST (File exists)`, `1 ([{fd=3, revents=POLLIN}])`,
    /// or `?` when strace could not know it.
    pub result: String,
}

/// What one strace line (or one merged unfinished/resumed pair) says happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A syscall.
    Call(Call),
    /// `+++ exited with N +++`.
    Exited(u32),
    /// `+++ killed by SIGNAL +++`; holds `SIGTERM` or e.g. `SIGSEGV (core dumped)`.
    Killed(String),
    /// `--- SIGNAL {siginfo} ---` (only with `-e signal=...`); holds the `{siginfo}` part, which
    /// names the signal in `si_signo=`.
    Signal(String),
}

/// One event of a traced process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The pid strace printed before the line (`-f`), if any.
    pub pid: Option<u32>,
    /// What happened.
    pub kind: EventKind,
}

/// Recognises `[PID ]+++ killed by SIGNAL +++`, which strace-parse does not parse.
///
/// Returns the pid and the signal text (`SIGTERM`, `SIGSEGV (core dumped)`).
pub fn killed_line(line: &str) -> Option<(Option<u32>, String)> {
    let (pid, rest) = split_pid(line);
    let signal = rest
        .trim_end()
        .strip_prefix("+++ killed by ")?
        .strip_suffix(" +++")?;
    signal.starts_with("SIG").then(|| (pid, signal.to_string()))
}

/// Splits strace's `-f` pid column (`1234  rest`) off a line.
fn split_pid(line: &str) -> (Option<u32>, &str) {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0
        && line[digits..].starts_with(' ')
        && let Ok(pid) = line[..digits].parse()
    {
        return (Some(pid), line[digits..].trim_start_matches(' '));
    }
    (None, line)
}

/// Rewrites strace's padded pid column (`794   close(3)`) to one space (`794 close(3)`).
pub fn squeeze_pid_column(line: &str) -> String {
    match split_pid(line) {
        (Some(pid), rest) => format!("{pid} {rest}"),
        (None, _) => line.to_string(),
    }
}

/// Rewrites `<unfinished ...>)   = ?` (strace pads before `=`) to `<unfinished ...>) = ?`,
/// the only spacing strace-parse accepts. Other lines are returned unchanged.
pub fn squeeze_unfinished_padding(line: &str) -> String {
    const MARK: &str = "<unfinished ...>)";
    if let Some(at) = line.find(MARK) {
        let after = &line[at + MARK.len()..];
        if after.trim_start_matches(' ') == "= ?" {
            return format!("{} = ?", &line[..at + MARK.len()]);
        }
    }
    line.to_string()
}

/// Stands for ` => ` while strace-parse reads a line (see [`hide_arrows`]).
const ARROW: &str = "__strace_value_result_arrow__";

/// Replaces each ` => ` outside `"..."` literals by a placeholder word, which strace-parse reads
/// as part of a symbol: `[128 => 16]` becomes `[128__strace_value_result_arrow__16]`.
pub fn hide_arrows(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = line;
    while let Some(ch) = rest.chars().next() {
        if !in_string && rest.starts_with(" => ") {
            out.push_str(ARROW);
            rest = &rest[" => ".len()..];
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
        } else if ch == '"' {
            in_string = true;
        }
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// Undoes [`hide_arrows`] in one parsed piece.
fn show_arrows(text: String) -> String {
    if text.contains(ARROW) {
        text.replace(ARROW, " => ")
    } else {
        text
    }
}

/// A strace-parse error in a few words: its nom errors dump the whole line as a list of bytes
/// (the error message quotes the line anyway), so keep only the nom rule that failed.
fn reason_of(error: &strace_parse::errors::Error) -> String {
    let text = error.to_string();
    if text.starts_with("nom error") {
        let kind = text
            .trim_end_matches(['\'', ')'])
            .rsplit([',', ' '])
            .next()
            .unwrap_or("?")
            .to_string();
        return format!("no strace-parse rule matches it; nom: {kind}");
    }
    text
}

/// Where the event of one input line comes from.
enum Slot {
    /// Recognised here (see [`killed_line`]).
    Own(Event),
    /// Handed to strace-parse; its input line number (1-based) and text.
    Parsed(usize, String),
}

/// Parses the whole output of `strace -o` into events, in file order.
///
/// `file` names the text in error messages (the strace output file). Blank lines are ignored;
/// every other line either parses or is an error.
pub fn parse(text: &str, file: &str) -> Result<Vec<Event>, TraceError> {
    let mut slots = Vec::new();
    let mut for_crate = String::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some((pid, signal)) = killed_line(line) {
            slots.push(Slot::Own(Event {
                pid,
                kind: EventKind::Killed(signal),
            }));
        } else {
            // strace-parse wants every line to end with a newline (the last one may not).
            let squeezed = squeeze_unfinished_padding(&squeeze_pid_column(line));
            for_crate.push_str(&hide_arrows(&squeezed));
            for_crate.push('\n');
            slots.push(Slot::Parsed(index + 1, line.to_string()));
        }
    }

    let mut parsed = raw::parse(Cursor::new(for_crate.into_bytes()));
    let mut merger = Merger::default();
    for slot in slots {
        match slot {
            Slot::Own(event) => merger.push(event, file)?,
            Slot::Parsed(line, text) => {
                let error = |reason: String| TraceError::Parse {
                    file: file.to_string(),
                    line,
                    text: text.clone(),
                    reason,
                };
                let syscall = parsed
                    .next()
                    .ok_or_else(|| error("strace-parse returned fewer lines than it got".into()))?
                    .map_err(|e| error(reason_of(&e)))?;
                merger.take(syscall).map_err(error)?;
            }
        }
    }
    merger.finish(file)
}

/// Turns a finished strace-parse call into our [`Call`].
fn call_of(syscall: Syscall) -> Result<Call, String> {
    match syscall.call {
        RawCall::Generic(g)
            if !g
                .call
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Err(format!(
                "strace-parse read the syscall name as {:?}",
                g.call
            ))
        }
        RawCall::Generic(g) => Ok(Call {
            name: g.call,
            args: g.args.into_iter().map(show_arrows).collect(),
            result: match g.result {
                CallResult::Value(v) => show_arrows(v.trim_end().to_string()),
                CallResult::Unknown => "?".to_string(),
            },
        }),
        other => Err(format!("expected a complete call, got {other:?}")),
    }
}

/// Collects events, merging unfinished/resumed pairs by pid.
#[derive(Default)]
struct Merger {
    /// Events in file order; `None` is the place of a call still unfinished.
    events: Vec<Option<Event>>,
    /// For each pid with an unfinished call: its index in `events` and the unfinished line.
    pending: HashMap<Option<u32>, (usize, Syscall)>,
}

impl Merger {
    /// Adds one line parsed by strace-parse. The error is the reason, for a [`TraceError::Parse`].
    fn take(&mut self, syscall: Syscall) -> Result<(), String> {
        let pid = syscall.pid;
        match &syscall.call {
            RawCall::Unfinished(_) => {
                if self.pending.contains_key(&pid) {
                    return Err(format!(
                        "process {pid:?} starts a second call while one is unfinished"
                    ));
                }
                self.pending.insert(pid, (self.events.len(), syscall));
                self.events.push(None);
                Ok(())
            }
            RawCall::Resumed(_) => {
                let (at, unfinished) = self
                    .pending
                    .remove(&pid)
                    .ok_or("a resumed call without its <unfinished ...> start")?;
                let merged = raw::parsers::merge_resumed(unfinished, syscall)
                    .map_err(|e| format!("cannot merge with its <unfinished ...> start: {e}"))?;
                self.events[at] = Some(Event {
                    pid,
                    kind: EventKind::Call(call_of(merged)?),
                });
                Ok(())
            }
            RawCall::Generic(_) => {
                let kind = EventKind::Call(call_of(syscall)?);
                self.events.push(Some(Event { pid, kind }));
                Ok(())
            }
            RawCall::Exited(code) => {
                let kind = EventKind::Exited(*code);
                self.end_pending(pid)?;
                self.events.push(Some(Event { pid, kind }));
                Ok(())
            }
            RawCall::Signalled(info) => {
                let kind = EventKind::Signal(info.clone());
                self.events.push(Some(Event { pid, kind }));
                Ok(())
            }
        }
    }

    /// Adds an event recognised outside strace-parse (a `+++ killed by +++` line).
    fn push(&mut self, event: Event, file: &str) -> Result<(), TraceError> {
        self.end_pending(event.pid)
            .map_err(|reason| TraceError::Parse {
                file: file.to_string(),
                line: 0,
                text: String::new(),
                reason,
            })?;
        self.events.push(Some(event));
        Ok(())
    }

    /// The process `pid` ended: its unfinished call, if any, will never resume.
    ///
    /// It becomes `NAME(ARGS, ...) = ?` (see the module docs), parsed by strace-parse by
    /// merging the unfinished line with a made-up resumption.
    fn end_pending(&mut self, pid: Option<u32>) -> Result<(), String> {
        let Some((at, unfinished)) = self.pending.remove(&pid) else {
            return Ok(());
        };
        let RawCall::Unfinished(prefix) = unfinished.call.clone() else {
            return Err("internal: pending call is not unfinished".into());
        };
        // Arguments strace had not printed yet (it prints outputs at exit) are `...`.
        let rest = if prefix.ends_with('(') || prefix.ends_with(", ") {
            "...) = ?\n"
        } else {
            ") = ?\n"
        };
        let never = Syscall::new(pid, RawCall::Resumed(rest.into()), None, None);
        let merged = raw::parsers::merge_resumed(unfinished, never)
            .map_err(|e| format!("cannot close the unfinished call {prefix:?}: {e}"))?;
        self.events[at] = Some(Event {
            pid,
            kind: EventKind::Call(call_of(merged)?),
        });
        Ok(())
    }

    /// Closes every call still unfinished at the end of the file and returns the events.
    fn finish(mut self, file: &str) -> Result<Vec<Event>, TraceError> {
        let mut pids: Vec<_> = self.pending.keys().copied().collect();
        pids.sort();
        for pid in pids {
            self.end_pending(pid).map_err(|reason| TraceError::Parse {
                file: file.to_string(),
                line: 0,
                text: String::new(),
                reason,
            })?;
        }
        Ok(self.events.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str], result: &str) -> EventKind {
        EventKind::Call(Call {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            result: result.into(),
        })
    }

    fn kinds(text: &str) -> Vec<EventKind> {
        parse(text, "test.strace")
            .expect("parses")
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn epoll_ctl_line_with_its_struct() {
        let events = parse(
            "3484  epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = 0\n",
            "x",
        )
        .expect("parses");
        assert_eq!(events[0].pid, Some(3484));
        assert_eq!(
            events[0].kind,
            call(
                "epoll_ctl",
                &[
                    "3",
                    "EPOLL_CTL_ADD",
                    "6",
                    "{events=EPOLLIN, data={u32=6, u64=6}}"
                ],
                "0"
            )
        );
    }

    #[test]
    fn results_keep_errno_and_decoded_outputs() {
        let text = "\
6024  epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = -1 EEXIST (File exists)
6024  poll([{fd=3, events=POLLIN}], 1, 5) = 1 ([{fd=3, revents=POLLIN}])
6024  pselect6(4, [3], [], NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 1 (in [3], left {tv_sec=0, tv_nsec=999997164})
6024  pselect6(4, [], [], NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 0 (Timeout)
6024  fcntl(6, F_GETFL)                 = 0x2 (flags O_RDWR)
6024  write(1, \"freed\\n\", 6)            = 6
";
        let results: Vec<String> = kinds(text)
            .into_iter()
            .map(|k| match k {
                EventKind::Call(c) => c.result,
                other => panic!("not a call: {other:?}"),
            })
            .collect();
        assert_eq!(
            results,
            [
                "-1 EEXIST (File exists)",
                "1 ([{fd=3, revents=POLLIN}])",
                "1 (in [3], left {tv_sec=0, tv_nsec=999997164})",
                "0 (Timeout)",
                "0x2 (flags O_RDWR)",
                "6",
            ]
        );
    }

    #[test]
    fn socket_calls_from_a_real_echo_session() {
        let text = "\
6147  bind(6, {sa_family=AF_INET, sin_port=htons(41234), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0
6147  accept(6, {sa_family=AF_INET, sin_port=htons(35142), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 7
6147  setsockopt(6, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
6147  epoll_wait(3, [{events=EPOLLIN, data={u32=7, u64=7}}], 32, -1) = 1
6147  write(1, \"echo_event: listening on 127.0.0\"..., 41) = 41
6147  epoll_wait(3, 0x55ab2c0bf5a0, 32, -1) = -1 EINTR (Interrupted system call)
";
        let k = kinds(text);
        assert_eq!(
            k[1],
            call(
                "accept",
                &[
                    "6",
                    "{sa_family=AF_INET, sin_port=htons(35142), sin_addr=inet_addr(\"127.0.0.1\")}",
                    "[16]"
                ],
                "7"
            )
        );
        assert_eq!(
            k[4],
            call(
                "write",
                &["1", "\"echo_event: listening on 127.0.0\"...", "41"],
                "41"
            )
        );
        assert_eq!(
            k[5],
            call(
                "epoll_wait",
                &["3", "0x55ab2c0bf5a0", "32", "-1"],
                "-1 EINTR (Interrupted system call)"
            )
        );
    }

    /// Captured from `strace -f` on a program that forks: both processes block in poll.
    #[test]
    fn unfinished_and_resumed_merge_by_pid_at_the_start_position() {
        let text = "\
7131  write(1, \"fork: banner\\n\", 13)    = 13
7131  poll(NULL, 0, 20 <unfinished ...>
7132  poll(NULL, 0, 30 <unfinished ...>
7131  <... poll resumed>)               = 0 (Timeout)
7131  write(1, \"parent\\n\", 7)           = 7
7132  <... poll resumed>)               = 0 (Timeout)
7132  write(1, \"child\\n\", 6)            = 6
7132  exit_group(0)                     = ?
7132  +++ exited with 0 +++
7131  exit_group(0)                     = ?
7131  +++ exited with 0 +++
";
        let events = parse(text, "fork.strace").expect("parses");
        let pids: Vec<_> = events.iter().map(|e| e.pid.unwrap_or(0)).collect();
        assert_eq!(pids, [7131, 7131, 7132, 7131, 7132, 7132, 7132, 7131, 7131]);
        assert_eq!(
            events[1].kind,
            call("poll", &["NULL", "0", "20"], "0 (Timeout)")
        );
        assert_eq!(
            events[2].kind,
            call("poll", &["NULL", "0", "30"], "0 (Timeout)")
        );
        assert_eq!(events[5].kind, call("exit_group", &["0"], "?"));
        assert_eq!(events[6].kind, EventKind::Exited(0));
    }

    /// Captured from strace 6.1 when the tracee got SIGKILL while blocked in epoll_wait.
    #[test]
    fn call_cut_by_death_keeps_the_printed_arguments() {
        let text = "\
8150  write(1, \"echo_event: listening on 127.0.0\"..., 41) = 41
8150  epoll_wait(3,  <unfinished ...>)  = ?
8150  +++ killed by SIGKILL +++
";
        assert_eq!(
            kinds(text),
            [
                call(
                    "write",
                    &["1", "\"echo_event: listening on 127.0.0\"...", "41"],
                    "41"
                ),
                call("epoll_wait", &["3", "..."], "?"),
                EventKind::Killed("SIGKILL".into()),
            ]
        );
    }

    #[test]
    fn unfinished_at_end_of_file_with_all_arguments_printed() {
        assert_eq!(
            kinds("7131  poll(NULL, 0, 20 <unfinished ...>\n"),
            [call("poll", &["NULL", "0", "20"], "?")]
        );
    }

    #[test]
    fn killed_lines_are_recognised_here() {
        assert_eq!(
            killed_line("6546  +++ killed by SIGTERM +++"),
            Some((Some(6546), "SIGTERM".to_string()))
        );
        assert_eq!(
            killed_line("+++ killed by SIGSEGV (core dumped) +++"),
            Some((None, "SIGSEGV (core dumped)".to_string()))
        );
        assert_eq!(killed_line("6546  +++ exited with 0 +++"), None);
    }

    #[test]
    fn exited_and_signal_lines_come_from_the_crate() {
        let text = "\
6546  --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=6538, si_uid=0} ---
6546  +++ killed by SIGTERM +++
";
        assert_eq!(
            kinds(text),
            [
                EventKind::Signal(
                    "{si_signo=SIGTERM, si_code=SI_USER, si_pid=6538, si_uid=0}".into()
                ),
                EventKind::Killed("SIGTERM".into()),
            ]
        );
    }

    #[test]
    fn an_unparsable_line_is_an_error_naming_file_and_line() {
        let text = "1  close(3) = 0\n\n1  this is not strace output\n";
        let err = parse(text, "bad.strace").expect_err("must fail");
        match &err {
            TraceError::Parse {
                file, line, text, ..
            } => {
                assert_eq!(file, "bad.strace");
                assert_eq!(*line, 3);
                assert_eq!(text, "1  this is not strace output");
            }
            other => panic!("wrong error {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "bad.strace:3: strace-parse cannot parse this line (no strace-parse rule matches it; \
             nom: Alt):\n    1  this is not strace output"
        );
    }

    #[test]
    fn a_resumed_call_without_its_start_is_an_error() {
        let err = parse("7  <... poll resumed>) = 0 (Timeout)\n", "r.strace").expect_err("fails");
        assert!(err.to_string().contains("r.strace:1:"), "{err}");
    }

    /// Captured from minievent's echo_event, which offers accept a 128-byte address buffer.
    #[test]
    fn value_result_arguments_keep_their_arrow() {
        let text = "28134 accept(6, {sa_family=AF_INET, sin_port=htons(53372), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 7\n";
        assert_eq!(
            kinds(text),
            [call(
                "accept",
                &[
                    "6",
                    "{sa_family=AF_INET, sin_port=htons(53372), sin_addr=inet_addr(\"127.0.0.1\")}",
                    "[128 => 16]"
                ],
                "7"
            )]
        );
        // Inside a string ` => ` is text, and stays as it is.
        let line = "write(1, \"a => b\\\" => \", 12) = 12";
        assert_eq!(hide_arrows(line), line);
        assert_eq!(
            kinds("1  write(1, \"a => b\\n\", 7) = 7\n"),
            [call("write", &["1", "\"a => b\\n\"", "7"], "7")]
        );
    }

    /// strace pads the pid column to five characters: short pids get more spaces.
    #[test]
    fn short_pids_are_padded_and_still_parse() {
        let text = "794   write(1, \"step3: event_add\\n\", 17) = 17\n12    close(3) = 0\n";
        let events = parse(text, "t").expect("parses");
        assert_eq!(events[0].pid, Some(794));
        assert_eq!(events[1].pid, Some(12));
        assert_eq!(events[1].kind, call("close", &["3"], "0"));
        assert_eq!(squeeze_pid_column("794   close(3) = 0"), "794 close(3) = 0");
        assert_eq!(squeeze_pid_column("close(3) = 0"), "close(3) = 0");
    }

    #[test]
    fn squeezing_only_touches_the_unfinished_padding() {
        assert_eq!(
            squeeze_unfinished_padding("1  epoll_wait(3,  <unfinished ...>)  = ?"),
            "1  epoll_wait(3,  <unfinished ...>) = ?"
        );
        assert_eq!(
            squeeze_unfinished_padding("1  close(3)          = 0"),
            "1  close(3)          = 0"
        );
    }
}
