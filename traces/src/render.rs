//! Render events as text: one per line, the way strace prints them, minus the pid column and
//! the alignment padding.
//!
//! ```text
//! epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = 0
//! epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = -1 EEXIST (File exists)
//! +++ killed by SIGTERM +++
//! ```

use crate::normalize::pid_labels;
use crate::parse::{Call, Event, EventKind};

/// Renders one call as `name(arg1, arg2, ...) = result`.
pub fn render_call(call: &Call) -> String {
    format!("{}({}) = {}", call.name, call.args.join(", "), call.result)
}

/// Renders one event without its pid.
pub fn render_event(kind: &EventKind) -> String {
    match kind {
        EventKind::Call(call) => render_call(call),
        EventKind::Exited(code) => format!("+++ exited with {code} +++"),
        EventKind::Killed(signal) => format!("+++ killed by {signal} +++"),
        EventKind::Signal(info) => format!("--- {info} ---"),
    }
}

/// Renders events one per line; the text ends with a newline (and is empty for no events).
///
/// When more than one process appears, each line starts with its label (`p1 `, `p2 `, see
/// [`pid_labels`]).
pub fn render(events: &[Event]) -> String {
    let labels = pid_labels(events);
    let mut out = String::new();
    for event in events {
        if let Some(label) = event.pid.and_then(|pid| labels.get(&pid)) {
            out.push_str(label);
            out.push(' ');
        }
        out.push_str(&render_event(&event.kind));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn renders_like_strace_without_pid_and_padding() {
        let text = "\
6024  epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = 0
6024  epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = -1 EEXIST (File exists)
6024  close(8)                          = 0
6024  +++ killed by SIGTERM +++
";
        assert_eq!(
            render(&parse(text, "t").expect("parses")),
            "\
epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = 0
epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data={u32=6, u64=6}}) = -1 EEXIST (File exists)
close(8) = 0
+++ killed by SIGTERM +++
"
        );
    }

    #[test]
    fn several_processes_are_labelled() {
        let text = "\
7131  write(1, \"parent\\n\", 7)           = 7
7132  write(1, \"child\\n\", 6)            = 6
";
        assert_eq!(
            render(&parse(text, "t").expect("parses")),
            "p1 write(1, \"parent\\n\", 7) = 7\np2 write(1, \"child\\n\", 6) = 6\n"
        );
    }

    #[test]
    fn no_arguments() {
        let call = Call {
            name: "getpid".into(),
            args: vec![],
            result: "5".into(),
        };
        assert_eq!(render_call(&call), "getpid() = 5");
    }
}
