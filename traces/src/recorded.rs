//! The recorded traces of the libevent reference programs: `traces/libevent/NAME.trace`.
//!
//! A file is a header of `#` lines (what was recorded, and with which libevent, kernel and
//! strace) followed by the normalized trace. The date is deliberately not in the header, so
//! that re-recording an unchanged trace leaves the file unchanged. [`read_recorded`] returns
//! the trace without the header, to compare with minievent's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Trace;
use crate::error::TraceError;
use crate::scenario::Scenario;

/// The versions of the tools a trace was recorded with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versions {
    /// `pkg-config --modversion libevent`, else the name of libevent's shared library
    /// (`libevent-2.1.so.7`), else `unknown`.
    pub libevent: String,
    /// The running kernel's release (`uname -r`).
    pub kernel: String,
    /// strace's version (`6.1`), from `strace -V`.
    pub strace: String,
}

/// The first line of what `program args` prints to stdout, if it runs and succeeds.
fn first_line_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

impl Versions {
    /// Finds the versions on this machine.
    pub fn detect() -> Versions {
        let libevent = first_line_of("pkg-config", &["--modversion", "libevent"])
            .or_else(libevent_library_name)
            .unwrap_or_else(|| "unknown".to_string());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_string())
            .unwrap_or_else(|_| "unknown".to_string());
        let strace = first_line_of("strace", &["-V"])
            .and_then(|l| l.split_whitespace().last().map(str::to_string))
            .unwrap_or_else(|| "unknown".to_string());
        Versions {
            libevent,
            kernel,
            strace,
        }
    }
}

/// The core libevent library's name in the linker cache (`libevent-2.1.so.7`).
fn libevent_library_name() -> Option<String> {
    let output = Command::new("ldconfig").arg("-p").output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|name| name.starts_with("libevent-"))
        .map(str::to_string)
}

/// The header of a recorded trace file: `#` lines, each ending with a newline.
pub fn header(scenario: &Scenario, versions: &Versions) -> String {
    format!(
        "# scenario {name}: {description}\n\
         # program: traces/reference/{program}.c on libevent {libevent}\n\
         # recorded on kernel {kernel} with strace {strace}\n\
         # re-record with `just reference` (builds traces/reference/*.c, then `trace record`)\n",
        name = scenario.name,
        description = scenario.description,
        program = scenario.program,
        libevent = versions.libevent,
        kernel = versions.kernel,
        strace = versions.strace,
    )
}

/// Whether [`write_recorded`] wrote the file or found it already saying the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file is new, or its trace or description changed.
    Wrote,
    /// The file has the same trace lines and description; only the machine it was recorded
    /// on (kernel, strace) may differ, so it was left alone and the working tree stays clean.
    Unchanged,
}

/// Writes `trace` (the reference program's) as `dir/NAME.trace` with its header; returns the
/// path, and whether it was written (a file that differs only in its `# recorded on` line is
/// left as it is).
pub fn write_recorded(
    scenario: &Scenario,
    trace: &Trace,
    versions: &Versions,
    dir: &Path,
) -> Result<(PathBuf, Written), TraceError> {
    let path = dir.join(format!("{}.trace", scenario.name));
    let text = format!("{}{}", header(scenario, versions), trace.rendered);
    let without_machine = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with("# recorded on "))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    if fs::read_to_string(&path).is_ok_and(|old| without_machine(&old) == without_machine(&text)) {
        return Ok((path, Written::Unchanged));
    }
    fs::create_dir_all(dir)
        .map_err(|e| TraceError::io(format!("creating {}", dir.display()), e))?;
    fs::write(&path, text).map_err(|e| TraceError::io(format!("writing {}", path.display()), e))?;
    Ok((path, Written::Wrote))
}

/// Reads a recorded trace file back: its trace lines, without the `#` header lines, ending
/// with a newline.
pub fn read_recorded(path: &Path) -> Result<String, TraceError> {
    let text = fs::read_to_string(path).map_err(|e| TraceError::Recorded {
        path: path.to_path_buf(),
        reason: format!(
            "cannot read it ({e}); record it with `cargo run -p minievent-traces --bin trace -- \
             record` after `just reference`"
        ),
    })?;
    Ok(trace_lines(&text))
}

/// The lines of `text` that are not `#` header lines, each ending with a newline.
pub fn trace_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> Versions {
        Versions {
            libevent: "2.1.12-stable".into(),
            kernel: "6.1.0".into(),
            strace: "6.1".into(),
        }
    }

    #[test]
    fn header_lines_all_start_with_hash_and_have_no_date() {
        let scenario = Scenario::by_name("step1-poll").expect("known");
        let h = header(scenario, &versions());
        assert!(h.lines().all(|l| l.starts_with("# ")), "{h}");
        assert!(
            h.contains("libevent 2.1.12-stable") && h.contains("strace 6.1"),
            "{h}"
        );
        assert!(h.contains("traces/reference/step1.c"), "{h}");
    }

    #[test]
    fn writing_then_reading_gives_the_trace_back() {
        let dir = std::env::temp_dir().join(format!("minievent-recorded-{}", std::process::id()));
        let scenario = Scenario::by_name("step1").expect("known");
        let trace = Trace {
            rendered: "write(1, \"step1: event_base_new\\n\", 22) = 22\nclose(3) = 0\n".into(),
            raw: String::new(),
            stdout: String::new(),
            stderr: String::new(),
        };
        let (path, written) = write_recorded(scenario, &trace, &versions(), &dir).expect("writes");
        assert!(path.ends_with("step1.trace"));
        assert_eq!(written, Written::Wrote);
        assert_eq!(read_recorded(&path).expect("reads"), trace.rendered);

        // Another kernel, the same trace: the file is left as it was.
        let other = Versions {
            kernel: "6.9.0".into(),
            ..versions()
        };
        let before = fs::read_to_string(&path).expect("reads");
        let again = write_recorded(scenario, &trace, &other, &dir).expect("writes");
        assert_eq!(again, (path.clone(), Written::Unchanged));
        assert_eq!(fs::read_to_string(&path).expect("reads"), before);

        // Another trace: written, with the new machine.
        let changed = Trace {
            rendered: "close(3) = 0\n".into(),
            ..trace
        };
        let (_, written) = write_recorded(scenario, &changed, &other, &dir).expect("writes");
        assert_eq!(written, Written::Wrote);
        assert!(
            fs::read_to_string(&path)
                .expect("reads")
                .contains("kernel 6.9.0")
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_recording_says_how_to_make_it() {
        let err = read_recorded(Path::new("/nonexistent/step1.trace")).expect_err("missing");
        assert!(err.to_string().contains("just reference"), "{err}");
    }

    #[test]
    fn the_versions_of_this_machine_are_found() {
        let v = Versions::detect();
        assert!(!v.kernel.is_empty() && v.kernel != "unknown");
        assert!(
            v.strace.chars().next().is_some_and(|c| c.is_ascii_digit()),
            "{v:?}"
        );
    }
}
