//! Backend selection (event.c:event_base_new_with_config walking `eventops[]`), the environment
//! variables it reads, and what distinguishes the backends: FDS (poll/select watch any fd, epoll
//! refuses /dev/null) and select's FD_SETSIZE limit; a backend whose init fails, and epoll_init's
//! own fallbacks, provoked with strace's fault injection.
//!
//! Environment variables are process-wide, so every case that needs one runs in a child process:
//! the `step1` program, or this test binary re-executed on one test with `MINIEVENT_TEST_CHILD` set.

#[macro_use]
mod common;

use common::*;
use minievent::backend::poll::POLLOPS;
use minievent::util::{socketpair, write};
use minievent::{
    Backend, Base, BaseFlags, Config, EV_READ, Error, Ev, EventOp, Features, LoopExit, LoopFlags,
};
use std::os::fd::IntoRawFd;
use std::process::{Command, Output};

/// The variables event_base_new_with_config reads; removed from every child so that the runner's
/// environment cannot change the outcome.
const EVENT_VARS: [&str; 5] = [
    "EVENT_NOEPOLL",
    "EVENT_NOPOLL",
    "EVENT_NOSELECT",
    "EVENT_SHOW_METHOD",
    "EVENT_PRECISE_TIMER",
];

/// Runs `step1` with exactly the given EVENT_* variables.
fn step1(vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_step1"));
    for var in EVENT_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(vars.iter().copied())
        .output()
        .expect("running step1")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// event.c:eventops[] on Linux is epoll, poll, select: a default base is on epoll, with epoll's
/// features (ET, O1, EARLY_CLOSE; not FDS).
#[test]
fn default_base_is_epoll() {
    let base = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV)).unwrap();
    assert_eq!(base.method(), "epoll");
    assert_eq!(
        base.features(),
        Features::ET | Features::O1 | Features::EARLY_CLOSE
    );
    assert_eq!(
        base.npriorities(),
        1,
        "one active queue (event_base_priority_init(base, 1))"
    );
}

/// event.c:event_config_avoid_method: avoided backends are skipped in preference order.
#[test]
fn avoid_method_falls_back_in_preference_order() {
    let cfg = Config::new().set_flag(BaseFlags::IGNORE_ENV);
    let poll = Base::with_config(&cfg.clone().avoid_method("epoll")).unwrap();
    assert_eq!(poll.method(), "poll");
    assert_eq!(poll.features(), Features::FDS | Features::EARLY_CLOSE);
    let select =
        Base::with_config(&cfg.clone().avoid_method("epoll").avoid_method("poll")).unwrap();
    assert_eq!(select.method(), "select");
    assert_eq!(select.features(), Features::FDS);
    let err = Base::with_config(
        &cfg.avoid_method("epoll")
            .avoid_method("poll")
            .avoid_method("select"),
    )
    .err()
    .expect("all three avoided");
    assert!(
        matches!(&err, Error::Invalid(why) if why.contains("no event mechanism available")),
        "{err}"
    );
}

/// event.c:event_config_require_features: a backend lacking a required feature is skipped; FDS
/// picks poll, and ET|FDS matches no backend — an error that names the problem (libevent:
/// "event_base_new_with_config: no event mechanism available").
#[test]
fn require_features_filters_backends() {
    let cfg = Config::new().set_flag(BaseFlags::IGNORE_ENV);
    assert_eq!(
        Base::with_config(&cfg.clone().require_features(Features::ET))
            .unwrap()
            .method(),
        "epoll"
    );
    assert_eq!(
        Base::with_config(&cfg.clone().require_features(Features::FDS))
            .unwrap()
            .method(),
        "poll"
    );
    let select_only = cfg
        .clone()
        .require_features(Features::FDS)
        .avoid_method("poll");
    assert_eq!(Base::with_config(&select_only).unwrap().method(), "select");
    let err = Base::with_config(&cfg.require_features(Features::ET | Features::FDS))
        .err()
        .expect("no backend has both ET and FDS");
    match err {
        Error::Invalid(why) => {
            assert!(
                why.starts_with("event_base_new_with_config: no event mechanism available"),
                "{why}"
            );
            assert!(why.contains("required features"), "{why}");
        }
        other => panic!("expected Error::Invalid, got {other}"),
    }
}

/// event.c:event_is_method_disabled: EVENT_NOEPOLL makes a default base fall back to poll, and
/// EVENT_NOPOLL as well to select; with all three disabled there is no base at all.
#[test]
fn event_no_method_env_vars_disable_backends() {
    let out = step1(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("method: epoll\n"), "{}", stdout(&out));

    let out = step1(&[("EVENT_NOEPOLL", "1")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("method: poll\n"), "{}", stdout(&out));

    let out = step1(&[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")]);
    assert!(
        stdout(&out).contains("method: select\n"),
        "{}",
        stdout(&out)
    );

    // libevent only checks that the variable exists: an empty value disables too.
    let out = step1(&[("EVENT_NOEPOLL", "")]);
    assert!(stdout(&out).contains("method: poll\n"), "{}", stdout(&out));

    let out = step1(&[
        ("EVENT_NOEPOLL", "1"),
        ("EVENT_NOPOLL", "1"),
        ("EVENT_NOSELECT", "1"),
    ]);
    assert!(!out.status.success());
    assert!(!stdout(&out).contains("method:"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no event mechanism available"),
        "{}",
        stderr(&out)
    );
}

/// event.c:event_base_new_with_config prints `[msg] libevent using: <method>` (event_msgx) when
/// EVENT_SHOW_METHOD is set, and nothing otherwise.
#[test]
fn event_show_method_prints_the_backend() {
    let out = step1(&[("EVENT_SHOW_METHOD", "1")]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("[msg] libevent using: epoll\n"),
        "{}",
        stderr(&out)
    );
    let out = step1(&[("EVENT_SHOW_METHOD", "1"), ("EVENT_NOEPOLL", "1")]);
    assert!(
        stderr(&out).contains("[msg] libevent using: poll\n"),
        "{}",
        stderr(&out)
    );
    let out = step1(&[]);
    assert!(!stderr(&out).contains("[msg]"), "{}", stderr(&out));
}

/// event.c:event_base_new_with_config: with EVENT_BASE_FLAG_IGNORE_ENV, EVENT_NO* is not read
/// (should_check_environment). Runs in a child (this binary, this test) with EVENT_NOEPOLL set.
#[test]
fn ignore_env_flag_ignores_event_noepoll() {
    if std::env::var_os("MINIEVENT_TEST_CHILD").is_some() {
        // The child: EVENT_NOEPOLL is set.
        let default = Base::new().unwrap();
        let ignoring = Base::with_config(&Config::new().set_flag(BaseFlags::IGNORE_ENV)).unwrap();
        println!(
            "CHILD default={} ignore_env={}",
            default.method(),
            ignoring.method()
        );
        return;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    for var in EVENT_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .args([
            "--exact",
            "ignore_env_flag_ignores_event_noepoll",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MINIEVENT_TEST_CHILD", "1")
        .env("EVENT_NOEPOLL", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("CHILD default=poll ignore_env=epoll"),
        "{}",
        stdout(&out)
    );
}

/// The EV_FEATURE_FDS difference: poll and select watch /dev/null (always readable), epoll's
/// epoll_ctl refuses it with EPERM.
#[test]
fn fds_feature_poll_and_select_watch_dev_null() {
    let null = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
    for method in ["poll", "select"] {
        let mut base = base_for(method);
        assert!(base.features().contains(Features::FDS));
        let log = Log::new();
        let x = base.event_new(null, EV_READ, log.recorder("null")).unwrap();
        base.event_add(x, None).unwrap();
        assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
        assert_eq!(log.entries(), [("null", EV_READ)], "{method}");
    }
    let mut base = base_for("epoll");
    assert!(!base.features().contains(Features::FDS));
    let x = base.event_new(null, EV_READ, |_, _, _, _| {}).unwrap();
    assert_eq!(
        base.event_add(x, None).unwrap_err().raw_os_error(),
        Some(libc::EPERM)
    );
    close(null).unwrap();
}

/// select.c can only watch fds below FD_SETSIZE with a fixed fd_set (libevent reallocates bigger
/// sets; minievent refuses, see Divergences): fd 1500 is refused with an error naming FD_SETSIZE,
/// and nothing is left pending. The same fd works with poll and epoll.
#[test]
fn select_refuses_fds_beyond_fd_setsize() {
    const HIGH: i32 = 1500;
    if let Err(why) = ensure_nofile_above(HIGH as libc::rlim_t) {
        eprintln!("SKIPPED select_refuses_fds_beyond_fd_setsize: {why}");
        return;
    }
    let [s, peer] = socketpair().unwrap();
    assert_eq!(dup2(s, HIGH).unwrap(), HIGH);
    close(s).unwrap();

    let mut base = base_for("select");
    let r = base.event_new(HIGH, EV_READ, |_, _, _, _| {}).unwrap();
    let err = base.event_add(r, None).unwrap_err();
    assert!(
        matches!(&err, Error::Unsupported { why, .. } if why.contains("fd 1500")),
        "{err}"
    );
    assert_eq!(base.event_pending(r, EV_READ).unwrap(), Ev::NONE);
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::NoEvents);

    assert_eq!(write(peer, b"x").unwrap(), 1);
    for method in ["poll", "epoll"] {
        let mut base = base_for(method);
        let log = Log::new();
        let r = base.event_new(HIGH, EV_READ, log.recorder("high")).unwrap();
        base.event_add(r, None).unwrap();
        assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
        assert_eq!(log.entries(), [("high", EV_READ)], "{method}");
    }
    close(HIGH).unwrap();
    close(peer).unwrap();
}

/// Raises RLIMIT_NOFILE's soft limit above `fd` if needed (up to the hard limit).
fn ensure_nofile_above(fd: libc::rlim_t) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid rlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if lim.rlim_cur > fd {
        return Ok(());
    }
    if lim.rlim_max <= fd {
        return Err(format!(
            "RLIMIT_NOFILE hard limit {} is not above fd {fd}",
            lim.rlim_max
        ));
    }
    lim.rlim_cur = lim.rlim_max.min(fd + 1024);
    // SAFETY: lim is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// evutil.c:evutil_tv_to_msec_ rounds a timeout *up* to whole milliseconds (`(usec + 999) / 1000`),
/// so that epoll_wait / poll never return before the earliest timeout is due.
#[test]
fn kernel_timeouts_are_rounded_up_to_milliseconds() {
    use minievent::backend::timeout_msec;
    use std::time::Duration;
    for (micros, msec) in [
        (0, 0),
        (1, 1),
        (999, 1),
        (1000, 1),
        (1001, 2),
        (1_500_000, 1500),
        (1_500_001, 1501),
        (86_400_000_001, 86_400_001),
    ] {
        assert_eq!(
            timeout_msec(Duration::from_micros(micros)),
            msec,
            "{micros} µs"
        );
    }
}

/// Divergence 3 (traces/DIVERGENCES.md): poll.c:poll_dispatch and select.c:select_dispatch start
/// their scan at a random entry (evutil_weakrand_range_); minievent's start at the first, so the
/// order of callbacks is fixed: poll's array order (the order fds were first added), and select's
/// ascending fd order. Two fds, added high fd first, both readable before the wait.
#[test]
fn poll_and_select_activate_in_fd_order() {
    for (method, expected) in [("poll", ["high", "low"]), ("select", ["low", "high"])] {
        for _ in 0..20 {
            let mut base = base_for(method);
            let (one, two) = (Pair::new(), Pair::new());
            // Other tests run in parallel threads, so which pair got the lower fd varies.
            let (low, high) = if one.a < two.a {
                (one, two)
            } else {
                (two, one)
            };
            let log = Log::new();
            for (pair, label) in [(&high, "high"), (&low, "low")] {
                pair.send(b"x");
                let ev = base
                    .event_new(pair.a, EV_READ, log.recorder(label))
                    .unwrap();
                base.event_add(ev, None).unwrap();
            }
            assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
            assert_eq!(
                log.labels(),
                expected,
                "{method}: callbacks out of scan order"
            );
        }
    }
}

/// A backend whose init always fails, with a real syscall error (close(-1): EBADF).
fn failing_init() -> minievent::Result<Box<dyn Backend>> {
    close(-1)?;
    unreachable!("close(-1) cannot succeed")
}

/// event.c:event_base_new_with_config: a backend whose `init` fails is skipped, and the walk goes on
/// to the next row (here poll); when no row is left, creating the base fails.
#[test]
fn a_backend_whose_init_fails_is_skipped() {
    let broken = EventOp {
        name: "broken",
        features: Features::ET.union(Features::FDS),
        init: failing_init,
    };
    let cfg = Config::new()
        .methods(&[broken, POLLOPS])
        .set_flag(BaseFlags::IGNORE_ENV);
    let base = Base::with_config(&cfg).expect("poll after the broken backend");
    assert_eq!(base.method(), "poll");

    let only_broken = Config::new()
        .methods(&[broken])
        .set_flag(BaseFlags::IGNORE_ENV);
    let err = Base::with_config(&only_broken)
        .map(|base| base.method())
        .expect_err("no backend could be initialised");
    assert!(
        matches!(&err, Error::Invalid(why) if why.contains("no event mechanism available")),
        "{err:?}"
    );
}

/// Runs `step1` under strace: traces the calls in `trace` and
/// injects each fault of `inject` (`-e inject=…`). Returns the trace, one call per line with the
/// pid column dropped and runs of spaces squeezed, and step1's output.
fn step1_under_strace(trace: &str, inject: &[&str]) -> (String, Output) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "minievent-backends-{}-{}.strace",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "signal=none", "-e"])
        .arg(format!("trace={trace}"));
    for fault in inject {
        cmd.arg("-e").arg(format!("inject={fault}"));
    }
    cmd.arg("-o")
        .arg(&file)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_step1"));
    for var in EVENT_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .output()
        .expect("running strace (apt-get install strace)");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!("strace left no trace ({e}): {}", stderr(&out));
    });
    let _ = std::fs::remove_file(&file);
    let lines = text
        .lines()
        .map(|l| {
            let mut words: Vec<&str> = l.split_whitespace().collect();
            if words.first().is_some_and(|w| w.parse::<u32>().is_ok()) {
                words.remove(0); // the pid column of -f
            }
            words.join(" ") + "\n"
        })
        .collect();
    (lines, out)
}

/// epoll.c:epoll_init: when `epoll_create1` fails (an old kernel: ENOSYS, injected by strace here)
/// the base is still on epoll, through `epoll_create(32000)` and close-on-exec set by hand with
/// `fcntl(F_GETFD)` / `fcntl(F_SETFD, FD_CLOEXEC)` on the fd it returned.
#[test]
fn without_epoll_create1_epoll_init_falls_back_to_epoll_create_and_fcntl() {
    let (trace, out) = step1_under_strace(
        "epoll_create1,epoll_create,fcntl",
        &["epoll_create1:error=ENOSYS"],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("method: epoll\n"), "{}", stdout(&out));
    let epfd = trace
        .lines()
        .find_map(|l| l.strip_prefix("epoll_create(32000) = "))
        .unwrap_or_else(|| panic!("no epoll_create(32000) after epoll_create1 failed:\n{trace}"));
    let expected = format!(
        "epoll_create1(EPOLL_CLOEXEC) = -1 ENOSYS (Function not implemented) (INJECTED)\n\
         epoll_create(32000) = {epfd}\n\
         fcntl({epfd}, F_GETFD) = 0\n\
         fcntl({epfd}, F_SETFD, FD_CLOEXEC) = 0\n"
    );
    assert_eq!(trace, expected);
}

/// event.c:event_base_new_with_config: when epoll cannot be created at all (both calls fail,
/// injected by strace), epoll's init returns the error and the walk moves on to poll.
#[test]
fn when_epoll_cannot_be_created_at_all_the_base_uses_poll() {
    let (trace, out) = step1_under_strace(
        "epoll_create1,epoll_create",
        &["epoll_create1:error=ENOSYS", "epoll_create:error=ENOSYS"],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("method: poll\n"), "{}", stdout(&out));
    assert_eq!(trace.lines().count(), 2, "one try of each call:\n{trace}");
}
