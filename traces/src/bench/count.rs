//! The two figures that do not drift with the machine's load: syscalls per operation
//! (`strace -f -c`) and user-space instructions per operation (valgrind's callgrind, its `Ir`
//! total). Each is measured at two work sizes; the difference of the counts over the
//! difference of the operations is the cost of one operation, without start-up, set-up and
//! exit, which both sizes share.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use super::Backend;
use super::programs::{output, prepare};
use crate::server::parse_counts;

/// A program run that does `ops` operations.
pub struct Work {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The backend it must use.
    pub backend: Backend,
    /// The operations it does.
    pub ops: u64,
}

impl Work {
    /// `wrapper... program args...`, hermetic, on the backend.
    fn command(&self, wrapper: &[String]) -> Command {
        let mut c = Command::new(&wrapper[0]);
        c.args(&wrapper[1..]).arg(&self.program).args(&self.args);
        prepare(&mut c, self.backend);
        c
    }
}

/// A new path in the temp dir for a tool's output.
fn temp_file(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("minievent-bench-{what}-{}-{n}", std::process::id()))
}

/// The syscalls of `work`, by name, from `strace -f -c`.
pub fn syscalls(work: &Work) -> Result<BTreeMap<String, u64>, String> {
    let file = temp_file("strace");
    let wrapper: Vec<String> = vec![
        "strace".into(),
        "-f".into(),
        "-c".into(),
        "-o".into(),
        file.to_string_lossy().into_owned(),
        "--".into(),
    ];
    let result = output(
        work.command(&wrapper),
        &format!("strace -f -c {}", work.program.display()),
    );
    let summary = std::fs::read_to_string(&file);
    let _ = std::fs::remove_file(&file);
    result?;
    let summary = summary.map_err(|e| format!("strace wrote no summary: {e}"))?;
    Ok(parse_counts(&summary).into_iter().collect())
}

// ANCHOR: syscalls_per_op
/// Syscalls per operation, by name: (counts of `large` − counts of `small`) / (the difference of
/// their operations). Names whose difference is below 0.005 per operation are left out.
pub fn syscalls_per_op(
    small: Work,
    large: Work,
    what: &str,
) -> Result<BTreeMap<String, f64>, String> {
    let ops = work_difference(&small, &large, what)?;
    let (a, b) = (syscalls(&small)?, syscalls(&large)?);
    Ok(b.iter()
        .map(|(call, &n)| {
            let before = a.get(call).copied().unwrap_or(0);
            (call.clone(), n.saturating_sub(before) as f64 / ops)
        })
        .filter(|(_, per)| *per >= 0.005)
        .collect())
}
// ANCHOR_END: syscalls_per_op

/// The user-space instructions `work` executes, callgrind's `Collected : N` (its `Ir` total).
pub fn instructions(work: &Work) -> Result<u64, String> {
    let wrapper: Vec<String> = vec![
        "valgrind".into(),
        "--tool=callgrind".into(),
        "--callgrind-out-file=/dev/null".into(),
    ];
    let mut c = work.command(&wrapper);
    let what = format!("callgrind {}", work.program.display());
    let out = c.output().map_err(|e| {
        format!("cannot run {what}: {e} (is valgrind installed? `apt-get install valgrind`)")
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{what} failed ({}): {}", out.status, stderr.trim()));
    }
    collected(&stderr).ok_or_else(|| format!("{what} printed no `Collected :` line: {stderr}"))
}

/// The number on callgrind's `==PID== Collected : N` line.
pub fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, rest) = line.split_once("Collected :")?;
        rest.trim().parse().ok()
    })
}

/// Instructions per operation: (Ir of `large` − Ir of `small`) / (difference of operations).
pub fn instructions_per_op(small: Work, large: Work, what: &str) -> Result<f64, String> {
    let ops = work_difference(&small, &large, what)?;
    let (a, b) = (instructions(&small)?, instructions(&large)?);
    Ok(b.saturating_sub(a) as f64 / ops)
}

/// How many more operations `large` does than `small`.
fn work_difference(small: &Work, large: &Work, what: &str) -> Result<f64, String> {
    if large.ops <= small.ops {
        return Err(format!(
            "{what}: the larger work ({} operations) is not larger than the smaller ({})",
            large.ops, small.ops
        ));
    }
    Ok((large.ops - small.ops) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callgrind_totals_are_read() {
        let stderr = "==12== Callgrind, a call-graph generating cache profiler\n\
                      ==12== Events    : Ir\n==12== Collected : 1234567\n==12==\n";
        assert_eq!(collected(stderr), Some(1_234_567));
        assert_eq!(collected("==12== Events : Ir\n"), None);
    }

    #[test]
    fn syscall_counting_sees_the_extra_work_only() {
        // `head -c N MiB` reads and writes in blocks of 4 to 64 KiB: each MiB more is 16 to 256
        // more reads and writes — not fewer (counts lost), nor many more (another process's).
        let work = |mib: u64| Work {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), format!("head -c {mib}M /dev/zero > /dev/null")],
            backend: Backend::Epoll,
            ops: mib,
        };
        let per = syscalls_per_op(work(1), work(3), "head").unwrap();
        for call in ["read", "write"] {
            let n = per.get(call).copied().unwrap_or(0.0);
            assert!((16.0..=256.0).contains(&n), "{call}: {per:?}");
        }
    }
}
