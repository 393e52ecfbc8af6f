//! The scenarios of `traces/SCENARIOS.md`, and where their programs are built.
//!
//! A scenario is one program run under strace: which program, with which arguments and
//! environment, which syscalls are traced, and whether the lock-step echo client drives it.
//! Each exists twice with the same name: the minievent program (`target/debug/NAME`) and the C
//! reference on real libevent (`target/reference/NAME`).

use std::path::{Path, PathBuf};

use crate::error::TraceError;

/// The `-e trace=` set of a scenario: the syscalls its chapter is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceSet {
    /// fd creation, `epoll_ctl`, `fcntl`, `close` and `write` (the banner and printed lines).
    Base,
    /// [`TraceSet::Base`] plus every backend's wait call and `read`.
    Loop,
    /// [`TraceSet::Loop`] plus the socket calls of a server.
    Net,
    /// [`TraceSet::Net`] plus what an evbuffer reads and writes with: `ioctl` (FIONREAD),
    /// `readv`, `writev`.
    Buffer,
    /// [`TraceSet::Loop`] plus `timerfd_settime`, how epoll's precise timer is armed.
    Timerfd,
    /// [`TraceSet::Buffer`] plus what a connecting client adds: `connect` (`EINPROGRESS`) and
    /// `getsockopt` (`SO_ERROR`, how the connect ended).
    Connect,
    /// [`TraceSet::Loop`] plus what signals are made of: `rt_sigaction` (a handler installed
    /// and restored), `kill` and `tgkill` (a signal sent). Not `getpid`: libevent's poll and
    /// select backends call it once at init to seed the random start of their scan (which
    /// minievent does not have, DIVERGENCES.md row 3), and the pid `kill` is given is masked.
    Signal,
}

const BASE: &str = "write,close,dup,dup2,dup3,pipe2,socketpair,eventfd2,timerfd_create,\
                    epoll_create,epoll_create1,epoll_ctl,fcntl";
const LOOP: &str = "epoll_wait,epoll_pwait,poll,ppoll,select,pselect6,read";
const NET: &str = "socket,setsockopt,bind,listen,accept,accept4,shutdown";
const BUFFER: &str = "ioctl,readv,writev";
const CONNECT: &str = "connect,getsockopt";
const TIMERFD: &str = "timerfd_settime";
const SIGNAL: &str = "rt_sigaction,kill,tgkill";

impl TraceSet {
    /// The comma-separated syscall list for `strace -e trace=`.
    pub fn syscalls(self) -> String {
        match self {
            TraceSet::Base => BASE.to_string(),
            TraceSet::Loop => format!("{BASE},{LOOP}"),
            TraceSet::Net => format!("{BASE},{LOOP},{NET}"),
            TraceSet::Buffer => format!("{BASE},{LOOP},{NET},{BUFFER}"),
            TraceSet::Connect => format!("{BASE},{LOOP},{NET},{BUFFER},{CONNECT}"),
            TraceSet::Timerfd => format!("{BASE},{LOOP},{TIMERFD}"),
            TraceSet::Signal => format!("{BASE},{LOOP},{SIGNAL}"),
        }
    }

    /// The set's name in `SCENARIOS.md`: `base`, `loop`, `net`, `buffer`, `connect`, `timerfd` or
    /// `signal`.
    pub fn name(self) -> &'static str {
        match self {
            TraceSet::Base => "base",
            TraceSet::Loop => "loop",
            TraceSet::Net => "net",
            TraceSet::Buffer => "buffer",
            TraceSet::Connect => "connect",
            TraceSet::Timerfd => "timerfd",
            TraceSet::Signal => "signal",
        }
    }
}

/// What drives a scenario's program while it runs, besides itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// The lock-step echo session (see [`crate::client`]): the program is started with
    /// `--port P`, served one connection, and is killed with SIGTERM once it waits again.
    EchoSession,
    /// The echo peer (see [`crate::peer`]): the program is a client, started with `--port P`
    /// after its arguments (the lines it sends); the harness listens on P, echoes what the
    /// program sends, and the program exits by itself.
    EchoPeer,
    /// Nobody: the program is a client, started with `--port P` after its arguments, where P is
    /// a free port nobody listens on. Its connect is refused, and it exits with status 1 (see
    /// [`Scenario::exit_code`]).
    Refused,
}

/// One scenario of `traces/SCENARIOS.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The scenario's name, e.g. `step1-poll`; also the name of its recorded trace file.
    pub name: &'static str,
    /// The program's name, the same for the cargo binary and the C reference.
    pub program: &'static str,
    /// Fixed command-line arguments (the echo client adds `--port P` itself).
    pub args: &'static [&'static str],
    /// Environment variables set for the program (every other `EVENT_*` variable is removed).
    pub env: &'static [(&'static str, &'static str)],
    /// Which syscalls are traced.
    pub trace_set: TraceSet,
    /// Who talks to the program while it runs, if anyone.
    pub client: Option<Client>,
    /// One plain sentence saying what the trace shows (used as the snapshot description).
    pub description: &'static str,
}

static BASE_SCENARIOS: [Scenario; 36] = [
    Scenario {
        name: "step1",
        program: "step1",
        args: &[],
        env: &[],
        trace_set: TraceSet::Base,
        client: None,
        description: "event_base_new picks epoll: it creates the epoll fd and the pipe that \
                      signals are reported through, and event_base_free closes them again.",
    },
    Scenario {
        name: "step1-poll",
        program: "step1",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Base,
        client: None,
        description: "With EVENT_NOEPOLL=1 event_base_new falls back to poll, which needs no fd \
                      of its own: only the signal pipe is created and closed.",
    },
    Scenario {
        name: "step1-select",
        program: "step1",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Base,
        client: None,
        description: "With epoll and poll both disabled event_base_new falls back to select, \
                      which needs no fd of its own either.",
    },
    Scenario {
        name: "step1-show-method",
        program: "step1",
        args: &[],
        env: &[("EVENT_SHOW_METHOD", "1")],
        trace_set: TraceSet::Base,
        client: None,
        description: "EVENT_SHOW_METHOD=1 makes event_base_new also write the name of the \
                      backend it chose to stderr.",
    },
    Scenario {
        name: "step2",
        program: "step2",
        args: &[],
        env: &[],
        trace_set: TraceSet::Base,
        client: None,
        description: "event_new, event_pending and event_free make no syscall: nothing happens \
                      between the lines printed before and after them.",
    },
    Scenario {
        name: "step3",
        program: "step3",
        args: &[],
        env: &[],
        trace_set: TraceSet::Base,
        client: None,
        description: "event_add and event_del become epoll_ctl ADD, MOD and DEL; the backend \
                      gets past EBADF, EEXIST and ENOENT by retrying, and reports EPERM for a \
                      file epoll cannot watch.",
    },
    Scenario {
        name: "step4",
        program: "step4",
        args: &[],
        env: &[],
        trace_set: TraceSet::Loop,
        client: None,
        description: "event_base_dispatch: 33 ready fds need two epoll_wait calls because the \
                      event array starts with room for 32 and then doubles; then two timers \
                      make epoll_wait time out twice.",
    },
    Scenario {
        name: "step6",
        program: "step6",
        args: &[],
        env: &[],
        trace_set: TraceSet::Buffer,
        client: None,
        description: "A bufferevent on a socketpair, one loop pass at a time: readv into one, \
                      then two chains; the read high-water mark deletes the read event and \
                      draining below it adds it back; bufferevent_write adds EPOLLOUT, writev \
                      sends at most 16384 bytes per pass and EPOLLOUT goes when the output is \
                      empty; end of file, and bufferevent_free closes the socket.",
    },
    Scenario {
        name: "echo-event",
        program: "echo_event",
        args: &[],
        env: &[],
        trace_set: TraceSet::Net,
        client: Some(Client::EchoSession),
        description: "The echo server built on raw events serves one client: accept, two reads \
                      each echoed by one write, end of file and close; it is then killed while \
                      waiting in epoll_wait.",
    },
    Scenario {
        name: "echo-bufferevent",
        program: "echo_bufferevent",
        args: &[],
        env: &[],
        trace_set: TraceSet::Buffer,
        client: Some(Client::EchoSession),
        description: "The echo server built on a bufferevent serves one client: each message is \
                      read with ioctl FIONREAD and readv, the output buffer adds EPOLLOUT, one \
                      writev empties it and EPOLLOUT is removed again; at end of file reading \
                      stops and the bufferevent is freed, which closes the socket.",
    },
    Scenario {
        name: "echo-listener",
        program: "echo_listener",
        args: &[],
        env: &[],
        trace_set: TraceSet::Buffer,
        client: Some(Client::EchoSession),
        description: "The echo server written the way libevent's samples write one, an \
                      evconnlistener and a bufferevent per connection, serves one client: \
                      enabling the listener adds EPOLLIN; when it is readable, accept4 with \
                      SOCK_NONBLOCK returns the connection (no fcntl) and is called again \
                      until it fails with EAGAIN; each message then goes as in \
                      echo-bufferevent.",
    },
    Scenario {
        name: "echo-listener-poll",
        program: "echo_listener",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Buffer,
        client: Some(Client::EchoSession),
        description: "On poll: the echo server on an evconnlistener serves one client: accept4 \
                      until EAGAIN, then one bufferevent per connection.",
    },
    Scenario {
        name: "echo-listener-select",
        program: "echo_listener",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Buffer,
        client: Some(Client::EchoSession),
        description: "On select: the echo server on an evconnlistener serves one client: \
                      accept4 until EAGAIN, then one bufferevent per connection.",
    },
    Scenario {
        name: "echo-client",
        program: "echo_client",
        args: &["hello", "world"],
        env: &[],
        trace_set: TraceSet::Connect,
        client: Some(Client::EchoPeer),
        description: "A client on a connecting bufferevent: socket with SOCK_NONBLOCK, connect \
                      fails with EINPROGRESS and the write event is added; when the socket is \
                      writable getsockopt(SO_ERROR) reads 0, BEV_EVENT_CONNECTED enables \
                      reading, one writev sends both queued lines and EPOLLOUT goes; the echo \
                      is read with ioctl FIONREAD and readv, each line printed, and \
                      bufferevent_free closes the socket; with no event left the loop ends.",
    },
    Scenario {
        name: "echo-client-poll",
        program: "echo_client",
        args: &["hello", "world"],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Connect,
        client: Some(Client::EchoPeer),
        description: "On poll: the client connects (EINPROGRESS), poll waits for POLLOUT, \
                      getsockopt(SO_ERROR) reads 0, both lines go in one writev and the echo \
                      comes back in one readv.",
    },
    Scenario {
        name: "echo-client-select",
        program: "echo_client",
        args: &["hello", "world"],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Connect,
        client: Some(Client::EchoPeer),
        description: "On select: the client connects (EINPROGRESS), select waits for the \
                      socket to be writable, getsockopt(SO_ERROR) reads 0, both lines go in \
                      one writev and the echo comes back in one readv.",
    },
    Scenario {
        name: "echo-client-refused",
        program: "echo_client",
        args: &["hello"],
        env: &[],
        trace_set: TraceSet::Connect,
        client: Some(Client::Refused),
        description: "A connect that is refused: connect fails with EINPROGRESS and the write \
                      event is added; epoll_wait reports EPOLLOUT with EPOLLERR and EPOLLHUP, \
                      getsockopt(SO_ERROR) reads ECONNREFUSED, both events are deleted, the \
                      event callback gets BEV_EVENT_ERROR and says why on stderr, and \
                      bufferevent_free closes the socket; the client exits with status 1.",
    },
    Scenario {
        name: "echo-client-refused-poll",
        program: "echo_client",
        args: &["hello"],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Connect,
        client: Some(Client::Refused),
        description: "On poll: a refused connect; poll reports POLLOUT with POLLERR and \
                      POLLHUP, getsockopt(SO_ERROR) reads ECONNREFUSED, BEV_EVENT_ERROR, close.",
    },
    Scenario {
        name: "echo-client-refused-select",
        program: "echo_client",
        args: &["hello"],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Connect,
        client: Some(Client::Refused),
        description: "On select: a refused connect; select reports the socket writable, \
                      getsockopt(SO_ERROR) reads ECONNREFUSED, BEV_EVENT_ERROR, close.",
    },
    Scenario {
        name: "timers-pure",
        program: "timers",
        args: &["pure"],
        env: &[],
        trace_set: TraceSet::Loop,
        client: None,
        description: "A pure 50 ms timer on a base that never had an fd: the backend's wait carries the timeout, times out, and the timer's callback runs.",
    },
    Scenario {
        name: "timers-pure-poll",
        program: "timers",
        args: &["pure"],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On poll: a pure 50 ms timer on a base that never had an fd: the backend's wait carries the timeout, times out, and the timer's callback runs.",
    },
    Scenario {
        name: "timers-pure-select",
        program: "timers",
        args: &["pure"],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On select: a pure 50 ms timer on a base that never had an fd: the backend's wait carries the timeout, times out, and the timer's callback runs.",
    },
    Scenario {
        name: "timers-common",
        program: "timers",
        args: &["common"],
        env: &[],
        trace_set: TraceSet::Loop,
        client: None,
        description: "1000 events on one 20 ms common timeout, then the same 1000 on the heap with plain 20 ms timeouts: either way one timed-out wait fires all of them.",
    },
    Scenario {
        name: "timers-common-poll",
        program: "timers",
        args: &["common"],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On poll: 1000 events on one 20 ms common timeout, then the same 1000 on the heap with plain 20 ms timeouts: either way one timed-out wait fires all of them.",
    },
    Scenario {
        name: "timers-common-select",
        program: "timers",
        args: &["common"],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On select: 1000 events on one 20 ms common timeout, then the same 1000 on the heap with plain 20 ms timeouts: either way one timed-out wait fires all of them.",
    },
    Scenario {
        name: "timers-max-dispatch",
        program: "timers",
        args: &["max-dispatch"],
        env: &[],
        trace_set: TraceSet::Loop,
        client: None,
        description: "max_dispatch_interval(NULL, 1, 0) with three events made active by hand: one callback per loop pass, each pass after a wait with timeout 0.",
    },
    Scenario {
        name: "timers-max-dispatch-poll",
        program: "timers",
        args: &["max-dispatch"],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On poll: max_dispatch_interval(NULL, 1, 0) with three events made active by hand: one callback per loop pass, each pass after a wait with timeout 0.",
    },
    Scenario {
        name: "timers-max-dispatch-select",
        program: "timers",
        args: &["max-dispatch"],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Loop,
        client: None,
        description: "On select: max_dispatch_interval(NULL, 1, 0) with three events made active by hand: one callback per loop pass, each pass after a wait with timeout 0.",
    },
    Scenario {
        name: "timers-pure-precise",
        program: "timers",
        args: &["pure"],
        env: &[("EVENT_PRECISE_TIMER", "1")],
        trace_set: TraceSet::Timerfd,
        client: None,
        description: "EVENT_PRECISE_TIMER=1 on epoll: the base adds a timerfd to the epoll set, \
                      arms it with timerfd_settime for the 50 ms timer, and epoll_wait blocks \
                      (-1) until the timerfd is readable.",
    },
    Scenario {
        name: "timers-max-dispatch-precise",
        program: "timers",
        args: &["max-dispatch"],
        env: &[("EVENT_PRECISE_TIMER", "1")],
        trace_set: TraceSet::Timerfd,
        client: None,
        description: "EVENT_PRECISE_TIMER=1 on epoll with a wait of zero, which a timerfd cannot \
                      express: timerfd_settime disarms the timerfd and epoll_wait gets timeout 0.",
    },
    Scenario {
        name: "step7",
        program: "step7",
        args: &[],
        env: &[],
        trace_set: TraceSet::Signal,
        client: None,
        description: "Signal events on epoll: event_add installs the handler with rt_sigaction and \
                      adds the signal pipe's read end to epoll; kill makes the handler write the \
                      signal number into the pipe; the loop reads it and runs the callback \
                      (a one-shot event restores the old action first); two SIGUSR2 before one \
                      pass are read at once and run the persistent callback twice.",
    },
    Scenario {
        name: "step7-poll",
        program: "step7",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Signal,
        client: None,
        description: "The signal events of step7 on poll: the same handler, pipe writes and \
                      reads, with the pipe's read end in every poll call.",
    },
    Scenario {
        name: "step7-select",
        program: "step7",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Signal,
        client: None,
        description: "The signal events of step7 on select.",
    },
    Scenario {
        name: "step7-fork",
        program: "step7_fork",
        args: &[],
        env: &[],
        trace_set: TraceSet::Signal,
        client: None,
        description: "event_reinit in a forked child (p2) on epoll: the old signal pipe is closed, \
                      the saved signal action restored, the epoll fd closed; a new epoll fd and \
                      pipe are made, the socket is added again, the handler re-installed and \
                      the new pipe added; one loop pass reads the socket. The parent (p1) waits \
                      for the child, then frees its own base.",
    },
    Scenario {
        name: "step7-fork-poll",
        program: "step7_fork",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1")],
        trace_set: TraceSet::Signal,
        client: None,
        description: "event_reinit in a forked child on poll: the same, without an epoll fd; \
                      poll's fd array is rebuilt in memory.",
    },
    Scenario {
        name: "step7-fork-select",
        program: "step7_fork",
        args: &[],
        env: &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        trace_set: TraceSet::Signal,
        client: None,
        description: "event_reinit in a forked child on select.",
    },
];

/// The environment variable that turns libevent's epoll changelist on (for minievent too).
pub const CHANGELIST_ENV: (&str, &str) = ("EVENT_EPOLL_USE_CHANGELIST", "1");

/// The suffix of a changelist variant's name: `step3` → `step3-changelist`.
pub const CHANGELIST_SUFFIX: &str = "-changelist";

/// `true` when the scenario runs on epoll: its environment disables none of it with
/// `EVENT_NOEPOLL`. Each of these has a `-changelist` variant.
pub fn runs_on_epoll(s: &Scenario) -> bool {
    !s.env.iter().any(|(k, _)| *k == "EVENT_NOEPOLL")
}

/// The `-changelist` variant of an epoll scenario: the same program, arguments, trace set and
/// client, with `EVENT_EPOLL_USE_CHANGELIST=1` added to the environment of both programs (so
/// libevent's `epoll_init` picks `epollops_changelist`, and minievent's base its
/// `EpollChangelist`). The name, environment and description are made once and live as long as
/// the process (leaked: there are 18 of them).
fn changelist_variant(s: &Scenario) -> Scenario {
    let name: &'static str = Box::leak(format!("{}{CHANGELIST_SUFFIX}", s.name).into_boxed_str());
    let mut env = s.env.to_vec();
    env.push(CHANGELIST_ENV);
    let env: &'static [(&'static str, &'static str)] = Box::leak(env.into_boxed_slice());
    let description: &'static str = Box::leak(
        format!(
            "{} With EVENT_EPOLL_USE_CHANGELIST=1: event_add and event_del only record the \
             change, and each changed fd gets one epoll_ctl right before the next epoll_wait.",
            s.description
        )
        .into_boxed_str(),
    );
    Scenario {
        name,
        env,
        description,
        ..*s
    }
}

/// Every scenario, in the order of `traces/SCENARIOS.md`: the scenarios written out above, then
/// the `-changelist` variant of each that runs on epoll ([`runs_on_epoll`]), in the same order.
pub fn scenarios() -> &'static [Scenario] {
    static ALL: std::sync::OnceLock<Vec<Scenario>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let variants: Vec<Scenario> = BASE_SCENARIOS
            .iter()
            .filter(|s| runs_on_epoll(s))
            .map(changelist_variant)
            .collect();
        BASE_SCENARIOS.iter().copied().chain(variants).collect()
    })
}

impl Scenario {
    /// The scenario called `name`; for an unknown name, an error listing every valid name.
    pub fn by_name(name: &str) -> Result<&'static Scenario, TraceError> {
        scenarios()
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| TraceError::UnknownScenario {
                name: name.to_string(),
                valid: scenarios().iter().map(|s| s.name).collect(),
            })
    }

    /// The exit status that is success for the scenario's program: 1 for a client whose
    /// connection is refused ([`Client::Refused`]: it could not do its job, and says so), else 0.
    pub fn exit_code(&self) -> i32 {
        match self.client {
            Some(Client::Refused) => 1,
            _ => 0,
        }
    }

    /// Where cargo builds the minievent program of this scenario (`<target>/debug/PROGRAM`).
    pub fn minievent_program(&self) -> PathBuf {
        minievent_program(self.program)
    }

    /// Where `just reference` builds the C reference program (`<target>/reference/PROGRAM`).
    pub fn reference_program(&self) -> PathBuf {
        reference_program(self.program)
    }

    /// The committed trace of the C reference: `traces/libevent/NAME.trace`.
    pub fn recorded_path(&self) -> PathBuf {
        workspace_dir()
            .join("traces")
            .join("libevent")
            .join(format!("{}.trace", self.name))
    }
}

/// The workspace root (the directory of the root `Cargo.toml`).
pub fn workspace_dir() -> PathBuf {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR"));
    traces.parent().unwrap_or(traces).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (a relative one is taken from the workspace
/// root) or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_dir().join(dir),
        _ => workspace_dir().join("target"),
    }
}

/// The minievent program `name`, as `cargo build --bins` builds it: `<target>/debug/NAME`.
pub fn minievent_program(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}

/// The C reference program `name`, as `just reference` builds it: `<target>/reference/NAME`.
pub fn reference_program(name: &str) -> PathBuf {
    target_dir().join("reference").join(name)
}

/// The command that builds `program`: `just reference` for a C reference (a program in a
/// directory named `reference`), `cargo build --bins` for a minievent program.
pub fn build_command(program: &Path) -> &'static str {
    let in_reference = program
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|dir| dir == "reference");
    if in_reference {
        "just reference"
    } else {
        "cargo build --bins"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for s in scenarios() {
            assert_eq!(Scenario::by_name(s.name).expect("known").name, s.name);
            assert_eq!(scenarios().iter().filter(|t| t.name == s.name).count(), 1);
        }
    }

    #[test]
    fn unknown_name_lists_every_scenario() {
        let err = Scenario::by_name("step9").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown scenario `step9`; the scenarios are: step1, step1-poll, step1-select, \
             step1-show-method, step2, step3, step4, step6, echo-event, echo-bufferevent, \
             echo-listener, echo-listener-poll, echo-listener-select, echo-client, \
             echo-client-poll, echo-client-select, echo-client-refused, \
             echo-client-refused-poll, echo-client-refused-select, timers-pure, timers-pure-poll, timers-pure-select, timers-common, timers-common-poll, \
             timers-common-select, timers-max-dispatch, timers-max-dispatch-poll, \
             timers-max-dispatch-select, timers-pure-precise, timers-max-dispatch-precise, step7, \
             step7-poll, step7-select, step7-fork, step7-fork-poll, step7-fork-select, \
             step1-changelist, step1-show-method-changelist, step2-changelist, step3-changelist, \
             step4-changelist, step6-changelist, echo-event-changelist, \
             echo-bufferevent-changelist, echo-listener-changelist, echo-client-changelist, \
             echo-client-refused-changelist, timers-pure-changelist, \
             timers-common-changelist, \
             timers-max-dispatch-changelist, timers-pure-precise-changelist, \
             timers-max-dispatch-precise-changelist, step7-changelist, step7-fork-changelist"
        );
    }

    #[test]
    fn every_epoll_scenario_has_a_changelist_variant() {
        let base: Vec<&Scenario> = scenarios()
            .iter()
            .filter(|s| !s.name.ends_with(CHANGELIST_SUFFIX))
            .collect();
        for s in &base {
            let variant = Scenario::by_name(&format!("{}{CHANGELIST_SUFFIX}", s.name));
            assert_eq!(variant.is_ok(), runs_on_epoll(s), "{}", s.name);
            if let Ok(v) = variant {
                assert_eq!(
                    (v.program, v.args, v.trace_set),
                    (s.program, s.args, s.trace_set)
                );
                assert_eq!(v.env.last(), Some(&CHANGELIST_ENV));
                assert_eq!(&v.env[..v.env.len() - 1], s.env);
            }
        }
        assert_eq!(scenarios().len(), base.len() + 18);
    }

    #[test]
    fn trace_sets_nest() {
        assert!(
            TraceSet::Loop
                .syscalls()
                .starts_with(&TraceSet::Base.syscalls())
        );
        assert!(
            TraceSet::Net
                .syscalls()
                .starts_with(&TraceSet::Loop.syscalls())
        );
        assert!(
            TraceSet::Net
                .syscalls()
                .ends_with("accept,accept4,shutdown")
        );
        assert!(
            TraceSet::Buffer
                .syscalls()
                .starts_with(&TraceSet::Net.syscalls())
        );
        assert!(TraceSet::Buffer.syscalls().ends_with("ioctl,readv,writev"));
        assert_eq!(
            TraceSet::Connect.syscalls(),
            format!("{},connect,getsockopt", TraceSet::Buffer.syscalls())
        );
        assert_eq!(
            TraceSet::Signal.syscalls(),
            format!("{},rt_sigaction,kill,tgkill", TraceSet::Loop.syscalls())
        );
        assert!(!TraceSet::Base.syscalls().contains(' '));
    }

    #[test]
    fn programs_live_in_the_target_dir() {
        let s = Scenario::by_name("echo-event").expect("known");
        assert!(s.minievent_program().ends_with("debug/echo_event"));
        assert!(s.reference_program().ends_with("reference/echo_event"));
        assert!(
            s.recorded_path()
                .ends_with("traces/libevent/echo-event.trace")
        );
        assert_eq!(build_command(&s.reference_program()), "just reference");
        assert_eq!(build_command(&s.minievent_program()), "cargo build --bins");
    }
}
