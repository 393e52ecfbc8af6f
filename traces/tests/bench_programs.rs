//! The benchmark programs of `just bench` (src/bin/bench_*.rs), checked through the harness that
//! reads them (traces/src/bench/): each run does all its work — every byte written in
//! bench_pipes and bench_cascade is read by a callback, every timer re-added — on the backend
//! asked for, and the syscall count per operation is exactly what the program's method makes.
//! Small sizes, debug builds, no timing: this checks the harness, it measures nothing.

use minievent_traces::bench::Backend;
use minievent_traces::bench::count::{Work, syscalls_per_op};
use minievent_traces::bench::programs::{Run, parse_output, prepare};
use std::process::Command;

/// The runs `program args` printed on `backend`, checked by the harness's parser.
fn runs(program: &str, args: &[&str], backend: Backend) -> Vec<Run> {
    let mut c = Command::new(program);
    c.args(args);
    prepare(&mut c, backend);
    let out = c.output().expect("the program starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_output(program, &stdout, backend).unwrap_or_else(|e| panic!("{e}\n{stdout}"))
}

#[test]
fn every_write_of_bench_pipes_reaches_its_fd_on_every_backend() {
    for backend in Backend::ALL {
        let got = runs(
            env!("CARGO_BIN_EXE_bench_pipes"),
            &["-n", "40", "-a", "4", "-w", "300", "-r", "3"],
            backend,
        );
        // parse_output checked each run's reads against its writes; 4 first bytes + 300 more.
        assert_eq!(got.len(), 3, "{backend:?}");
        assert!(got.iter().all(|r| r.ops == 304), "{backend:?}: {got:?}");
    }
}

#[test]
fn bench_cascade_passes_the_byte_through_every_event() {
    let got = runs(
        env!("CARGO_BIN_EXE_bench_cascade"),
        &["-n", "50", "-r", "2"],
        Backend::Poll,
    );
    assert!(got.len() == 2 && got.iter().all(|r| r.ops == 50), "{got:?}");
}

#[test]
fn bench_timers_re_adds_every_timer_heap_and_common() {
    for extra in [&[][..], &["--common"][..]] {
        let mut args = vec!["-n", "100", "-p", "3", "-r", "2"];
        args.extend(extra);
        let got = runs(env!("CARGO_BIN_EXE_bench_timers"), &args, Backend::Epoll);
        assert!(got.iter().all(|r| r.ops == 300), "{extra:?}: {got:?}");
    }
}

#[test]
fn a_pipes_operation_is_one_read_one_write_and_one_wait() {
    // One active pair: each callback is one pass of the loop, which waits once, reads its byte
    // and writes the next one. The count per operation is exact, not about right.
    let work = |writes: u64| Work {
        program: env!("CARGO_BIN_EXE_bench_pipes").into(),
        args: ["-n", "20", "-a", "1", "-w", &writes.to_string(), "-r", "1"]
            .map(String::from)
            .to_vec(),
        backend: Backend::Epoll,
        ops: 1 + writes,
    };
    let per = syscalls_per_op(work(100), work(300), "bench_pipes").expect("strace counts");
    assert_eq!(per.get("read"), Some(&1.0), "{per:?}");
    assert_eq!(per.get("write"), Some(&1.0), "{per:?}");
    assert_eq!(per.get("epoll_wait"), Some(&1.0), "{per:?}");
    assert_eq!(per.values().sum::<f64>(), 3.0, "{per:?}");
}
