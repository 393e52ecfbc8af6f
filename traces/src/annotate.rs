//! Annotated traces: which function made each syscall.
//!
//! `strace -k` prints, after each syscall, the stack it was made from (` > OBJECT(SYMBOL+0xOFF)
//! [0xADDR]` lines, innermost first). [`split_stacks`] takes those lines out of strace's output
//! (the rest is parsed and normalized as usual) and keeps each call's frames; [`annotate`]
//! pairs every line of the normalized trace with the call it came from, by syscall name and
//! order, and names the chain of functions that made it:
//!
//! - minievent (built with frame pointers, so the unwinder sees every Rust frame): the functions
//!   of the program from the innermost up to `main`, the innermost with its source line
//!   (`addr2line`), e.g. `Epoll::ctl (src/backend/epoll.rs:268) ← Epoll::apply_one_change ←
//!   IoMap::add ← Base::event_add ← main`;
//! - libevent (a stripped shared library): its exported functions, a static one shown as `…`
//!   (a frame whose offset lies past the exported symbol's size), then the C program's own,
//!   e.g. `… ← evmap_io_add_ ← event_add_nolock_ ← event_add ← main`.
//!
//! The annotated files live in `traces/annotated/{minievent,libevent}/NAME.txt`, one line per
//! trace line: the line, a tab, the chain. `just annotate` writes them; the book's
//! preprocessor shows the chain beside each syscall; the linter checks that each file's trace
//! column still equals the trace the book includes.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::recorded::read_recorded;
use crate::{Scenario, TraceError, trace_with_stacks, workspace_dir};

/// One frame of a stack strace printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The object file: the program, or a shared library.
    pub object: String,
    /// The symbol strace resolved (demangled for Rust), if any.
    pub symbol: Option<String>,
    /// The offset from that symbol.
    pub offset: u64,
    /// The address as strace prints it: an offset into the object file.
    pub file_offset: u64,
}

/// One syscall of the raw output and the stack it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawCall {
    /// The syscall's name.
    pub name: String,
    /// Its frames, innermost first (libc's wrapper included).
    pub frames: Vec<Frame>,
}

/// Separates strace's `-k` stack lines from its output: returns the output without them, and
/// every syscall with its frames, in order (an `<unfinished ...>` call and its `resumed` line
/// are one call).
pub fn split_stacks(raw: &str) -> (String, Vec<RawCall>) {
    let mut text = String::with_capacity(raw.len());
    let mut calls: Vec<RawCall> = Vec::new();
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut current: Option<usize> = None;
    for line in raw.lines() {
        if let Some(frame) = line.strip_prefix(" > ") {
            if let (Some(i), Some(frame)) = (current, parse_frame(frame)) {
                calls[i].frames.push(frame);
            }
            continue;
        }
        text.push_str(line);
        text.push('\n');
        let (pid, rest) = line.split_once(' ').unwrap_or(("", line));
        let rest = rest.trim_start();
        current = if let Some(resumed) = rest.strip_prefix("<... ") {
            let name = resumed.split_whitespace().next().unwrap_or("");
            pending.remove(&format!("{pid} {name}"))
        } else if let Some(paren) = rest.find('(')
            && rest[..paren]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && paren > 0
        {
            let name = rest[..paren].to_string();
            calls.push(RawCall {
                name: name.clone(),
                frames: Vec::new(),
            });
            if rest.ends_with("<unfinished ...>") {
                pending.insert(format!("{pid} {name}"), calls.len() - 1);
            }
            Some(calls.len() - 1)
        } else {
            None
        };
    }
    (text, calls)
}

/// ` /lib/libc.so.6(epoll_ctl+0xa) [0x109c1a]` (without the ` > `).
fn parse_frame(text: &str) -> Option<Frame> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let object = text[..open].to_string();
    let inside = &text[open + 1..close];
    let (symbol, offset) = match inside.rsplit_once("+0x") {
        Some((s, off)) => (
            (!s.is_empty()).then(|| s.to_string()),
            u64::from_str_radix(off, 16).ok()?,
        ),
        None => (None, 0),
    };
    let addr = text[close..].split('[').nth(1)?.trim_end_matches(']');
    let file_offset = u64::from_str_radix(addr.trim_start_matches("0x"), 16).ok()?;
    Some(Frame {
        object,
        symbol,
        offset,
        file_offset,
    })
}

/// Whose program made the trace: what [`chain`] looks for in the frames.
#[derive(Clone, Debug)]
pub enum Side {
    /// A minievent program (a Rust binary with debug info and frame pointers).
    Minievent {
        /// The program's path, as strace names the object.
        program: PathBuf,
        /// The workspace root, stripped from source paths.
        workspace: PathBuf,
    },
    /// A C reference program on libevent's shared library.
    Libevent {
        /// The program's path.
        program: PathBuf,
        /// The sizes of libevent's exported functions, by name (`nm -D -S`).
        exported: HashMap<String, u64>,
    },
}

/// Functions of Rust's runtime and standard library: not part of the story.
fn is_runtime(symbol: &str) -> bool {
    let path = symbol
        .trim_start_matches(['<', '&'])
        .trim_start_matches("mut ");
    ["core::", "std::", "alloc::", "__rust", "_start"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// A Rust symbol as the book names it: `Type::method`, `module::function` or `main`.
pub fn short_rust_name(symbol: &str) -> String {
    // `<a::b::Epoll as a::backend::Backend>::add` -> `Epoll::add`
    if let Some(rest) = symbol.strip_prefix('<')
        && let Some((ty, method)) = rest.split_once(" as ")
        && let Some((_, method)) = method.split_once(">::")
    {
        return format!("{}::{method}", last_segment(ty));
    }
    // `minievent::event::<impl minievent::base::Base>::event_add` -> `Base::event_add`
    if let Some(start) = symbol.find("<impl ")
        && let Some(end) = symbol[start..].find(">::")
    {
        let ty = &symbol[start + 6..start + end];
        return format!("{}::{}", last_segment(ty), &symbol[start + end + 3..]);
    }
    let parts: Vec<&str> = symbol.split("::").collect();
    match parts.as_slice() {
        [.., "main"] => "main".to_string(),
        [.., a, b] => format!("{a}::{b}"),
        _ => symbol.to_string(),
    }
}

/// `a::b::Type<T>` -> `Type`.
fn last_segment(path: &str) -> &str {
    let path = path.split('<').next().unwrap_or(path);
    path.rsplit("::").next().unwrap_or(path)
}

/// The frames up to a signal handler's: a libc frame after the program's or libevent's own is
/// the kernel's signal trampoline, and what lies beyond it is whatever the signal interrupted
/// (which differs from run to run), not who made the call.
fn up_to_signal_handler(frames: &[Frame]) -> &[Frame] {
    let is_libc = |f: &Frame| f.object.contains("/libc.so");
    let first_own = frames.iter().position(|f| !is_libc(f));
    let cut = first_own.and_then(|own| {
        frames[own..]
            .iter()
            .position(|f| {
                is_libc(f)
                    && !f
                        .symbol
                        .as_deref()
                        .is_some_and(|s| s.starts_with("__libc_start"))
            })
            .map(|i| own + i)
    });
    &frames[..cut.unwrap_or(frames.len())]
}

/// The chain of functions that made a call, innermost first, joined by ` ← `.
pub fn chain(side: &Side, frames: &[Frame]) -> String {
    let frames = up_to_signal_handler(frames);
    let mut out: Vec<String> = Vec::new();
    match side {
        Side::Minievent { program, workspace } => {
            let own = frames
                .iter()
                .filter(|f| Path::new(&f.object) == program.as_path());
            for f in own {
                let Some(symbol) = f.symbol.as_deref() else {
                    continue;
                };
                if is_runtime(symbol) {
                    continue;
                }
                let name = short_rust_name(symbol);
                if out.is_empty()
                    && let Some(line) = source_line(program, workspace, f.file_offset)
                {
                    out.push(format!("{name} ({line})"));
                } else {
                    out.push(name.clone());
                }
                if name == "main" {
                    break;
                }
            }
        }
        Side::Libevent { program, exported } => {
            for f in frames {
                let in_program = Path::new(&f.object) == program.as_path();
                let in_libevent = f.object.contains("libevent");
                if !in_program && !in_libevent {
                    continue;
                }
                let name = match &f.symbol {
                    Some(s) if in_program => s.clone(),
                    Some(s) if exported.get(s).is_some_and(|size| f.offset < *size) => s.clone(),
                    _ => "…".to_string(),
                };
                if name == "…" && out.last().is_some_and(|l| l == "…") {
                    continue;
                }
                let is_main = in_program && name == "main";
                out.push(name);
                if is_main {
                    break;
                }
            }
        }
    }
    out.join(" ← ")
}

/// `src/backend/epoll.rs:268` for an address strace gave as an offset into `program`.
fn source_line(program: &Path, workspace: &Path, file_offset: u64) -> Option<String> {
    let vaddr = to_vaddr(program, file_offset)?;
    // The return address points after the call: ask for the byte before it.
    let out = Command::new("addr2line")
        .arg("-e")
        .arg(program)
        .arg(format!("{:#x}", vaddr - 1))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.split(" (").next()?.trim();
    if line.starts_with("??") {
        return None;
    }
    let prefix = format!("{}/", workspace.display());
    Some(line.strip_prefix(&prefix).unwrap_or(line).to_string())
}

/// A file offset of an executable to its virtual address, from its LOAD segments.
fn to_vaddr(program: &Path, file_offset: u64) -> Option<u64> {
    let out = Command::new("readelf")
        .args(["-lW"])
        .arg(program)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
            Some((hex(f.get(1)?)?, hex(f.get(2)?)?, hex(f.get(4)?)?))
        })
        .find(|(off, _, size)| (*off..off + size).contains(&file_offset))
        .map(|(off, vaddr, _)| vaddr + (file_offset - off))
}

/// The sizes of a shared library's exported functions (`nm -D -S --defined-only`).
pub fn exported_sizes(library: &Path) -> Result<HashMap<String, u64>, String> {
    let out = Command::new("nm")
        .args(["-D", "-S", "--defined-only"])
        .arg(library)
        .output()
        .map_err(|e| format!("running nm (binutils) on {}: {e}", library.display()))?;
    if !out.status.success() {
        return Err(format!(
            "nm -D -S {} failed: {}",
            library.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [_, size, _, name] => Some((name.to_string(), u64::from_str_radix(size, 16).ok()?)),
                _ => None,
            }
        })
        .collect())
}

/// Pairs each line of a normalized trace with the chain of the raw call it came from: the first
/// call of that name not paired yet (calls of one name keep their order; an unfinished call
/// may be placed elsewhere among others). Lines that are no call (`+++ exited`, signals) get
/// none.
pub fn annotate(rendered: &str, calls: &[RawCall], side: &Side) -> String {
    let mut by_name: HashMap<&str, VecDeque<&RawCall>> = HashMap::new();
    for call in calls {
        by_name
            .entry(call.name.as_str())
            .or_default()
            .push_back(call);
    }
    let mut out = String::new();
    for line in rendered.lines() {
        out.push_str(line);
        out.push('\t');
        if let Some(call) = call_name(line).and_then(|name| by_name.get_mut(name)?.pop_front()) {
            out.push_str(&chain(side, &call.frames));
        }
        out.push('\n');
    }
    out
}

/// The syscall a normalized line shows (after its `p1 ` label, if any).
fn call_name(line: &str) -> Option<&str> {
    let line = match line.split_once(' ') {
        Some((label, rest)) if label.starts_with('p') && label[1..].parse::<u32>().is_ok() => rest,
        _ => line,
    };
    let paren = line.find('(')?;
    let name = &line[..paren];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(name)
}

/// The trace column of an annotated file: what must equal the trace it annotates.
pub fn trace_column(annotated: &str) -> String {
    annotated
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .fold(String::new(), |mut s, l| {
            s.push_str(l);
            s.push('\n');
            s
        })
}

/// Which program of a scenario an annotated trace is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Of {
    /// minievent's program: annotates `traces/snapshots/NAME.snap`.
    Minievent,
    /// The C reference on libevent: annotates `traces/libevent/NAME.trace`.
    Libevent,
}

impl Of {
    /// `minievent` or `libevent`: the folder under `traces/annotated/`.
    pub fn name(self) -> &'static str {
        match self {
            Of::Minievent => "minievent",
            Of::Libevent => "libevent",
        }
    }
}

/// `traces/annotated/{minievent,libevent}/NAME.txt`.
pub fn annotated_path(scenario: &Scenario, of: Of) -> PathBuf {
    workspace_dir()
        .join("traces/annotated")
        .join(of.name())
        .join(format!("{}.txt", scenario.name))
}

/// The trace an annotated file must match: the committed snapshot's or libevent's.
pub fn committed_trace(scenario: &Scenario, of: Of) -> Result<String, TraceError> {
    match of {
        Of::Libevent => read_recorded(&scenario.recorded_path()),
        Of::Minievent => {
            let path = workspace_dir()
                .join("traces/snapshots")
                .join(format!("{}.snap", scenario.name));
            let text = fs::read_to_string(&path)
                .map_err(|e| TraceError::io(format!("reading {}", path.display()), e))?;
            Ok(snapshot_body(&text))
        }
    }
}

/// An insta snapshot's text after its `---` header, each line ending with a newline.
pub fn snapshot_body(text: &str) -> String {
    let mut lines = text.lines();
    if text.starts_with("---") {
        lines.next();
        for line in lines.by_ref() {
            if line.trim_end() == "---" {
                break;
            }
        }
    }
    lines.map(|l| format!("{l}\n")).collect()
}

/// Whether two traces make the same calls in the same order (their arguments may differ: a
/// timeout computed under `strace -k`, which slows the program, can come out 0).
fn same_calls(a: &str, b: &str) -> bool {
    let calls = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| call_name(l).map_or_else(|| l.to_string(), str::to_string))
            .collect()
    };
    calls(a) == calls(b)
}

/// Records `program` (the scenario's minievent program from a frame-pointer build, or its C
/// reference) under `strace -k` and annotates the committed trace with the stacks of that run.
/// The run must make the same calls in the same order as the committed trace (arguments may
/// differ); a timing-dependent trace may not: up to three runs are made, then the error says so.
pub fn annotate_scenario(
    scenario: &Scenario,
    of: Of,
    program: &Path,
) -> Result<String, TraceError> {
    let expected = committed_trace(scenario, of)?;
    let program = fs::canonicalize(program).map_err(|_| TraceError::ProgramMissing {
        path: program.to_path_buf(),
        build_with: "just annotate",
    })?;
    let mut last = String::new();
    for _ in 0..3 {
        let (trace, calls) = trace_with_stacks(scenario, &program)?;
        if same_calls(&trace.rendered, &expected) {
            let side = match of {
                Of::Minievent => Side::Minievent {
                    program: program.clone(),
                    workspace: workspace_dir(),
                },
                Of::Libevent => {
                    let library = calls
                        .iter()
                        .flat_map(|c| &c.frames)
                        .find(|f| f.object.contains("libevent"))
                        .map(|f| PathBuf::from(&f.object));
                    let exported = match library {
                        Some(library) => {
                            exported_sizes(&library).map_err(|reason| TraceError::Recorded {
                                path: library,
                                reason,
                            })?
                        }
                        None => HashMap::new(),
                    };
                    Side::Libevent {
                        program: program.clone(),
                        exported,
                    }
                }
            };
            return Ok(annotate(&expected, &calls, &side));
        }
        last = trace.rendered;
    }
    Err(TraceError::Recorded {
        path: annotated_path(scenario, of),
        reason: format!(
            "three runs under strace -k made other calls than the committed trace; the last run's:\n{last}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "\
100 epoll_create1(EPOLL_CLOEXEC) = 3
 > /lib/libc.so.6(epoll_create1+0x7) [0x109be7]
 > /lib/libevent-2.1.so.7(event_strlcpy_+0xe67) [0x2a977]
 > /lib/libevent-2.1.so.7(event_base_new_with_config+0x1d5) [0x23b75]
 > /lib/libevent-2.1.so.7(event_base_new+0x20) [0x23c00]
 > /bin/prog(main+0xe2) [0x1232]
 > /lib/libc.so.6(__libc_start_main+0x85) [0x27305]
100 epoll_wait(3,  <unfinished ...>
101 write(1, \"x\", 1) = 1
100 <... epoll_wait resumed>[], 32, -1) = 0
 > /lib/libc.so.6(epoll_wait+0xa) [0x109c1a]
 > /bin/prog(main+0x10) [0x1300]
100 +++ exited with 0 +++
";

    fn libevent_side() -> Side {
        let mut exported = HashMap::new();
        exported.insert("event_strlcpy_".to_string(), 0x40);
        exported.insert("event_base_new_with_config".to_string(), 0x300);
        exported.insert("event_base_new".to_string(), 0x30);
        Side::Libevent {
            program: PathBuf::from("/bin/prog"),
            exported,
        }
    }

    #[test]
    fn stack_lines_are_split_from_the_calls_they_follow() {
        let (text, calls) = split_stacks(RAW);
        assert!(!text.contains(" > "));
        assert_eq!(text.lines().count(), 5);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["epoll_create1", "epoll_wait", "write"]);
        assert_eq!(calls[0].frames.len(), 6);
        assert_eq!(
            calls[1].frames.len(),
            2,
            "the resumed line's stack joins its call"
        );
        assert_eq!(
            calls[0].frames[0],
            Frame {
                object: "/lib/libc.so.6".into(),
                symbol: Some("epoll_create1".into()),
                offset: 7,
                file_offset: 0x109be7,
            }
        );
    }

    #[test]
    fn libevent_chains_show_exported_functions_and_fold_statics() {
        let (_, calls) = split_stacks(RAW);
        assert_eq!(
            chain(&libevent_side(), &calls[0].frames),
            "… ← event_base_new_with_config ← event_base_new ← main"
        );
    }

    #[test]
    fn each_trace_line_gets_the_chain_of_its_call() {
        let (_, calls) = split_stacks(RAW);
        let rendered = "epoll_create1(EPOLL_CLOEXEC) = 3\nwrite(1, \"x\", 1) = 1\n\
                        epoll_wait(3, [], 32, -1) = 0\n+++ exited with 0 +++\n";
        let annotated = annotate(rendered, &calls, &libevent_side());
        let lines: Vec<&str> = annotated.lines().collect();
        assert!(lines[0].ends_with("\t… ← event_base_new_with_config ← event_base_new ← main"));
        assert_eq!(lines[1], "write(1, \"x\", 1) = 1\t");
        assert_eq!(lines[2], "epoll_wait(3, [], 32, -1) = 0\tmain");
        assert_eq!(lines[3], "+++ exited with 0 +++\t");
        assert_eq!(trace_column(&annotated), rendered);
    }

    #[test]
    fn a_signal_handler_s_chain_stops_at_the_handler() {
        let raw = "\
100 write(5, \"\\f\", 1) = 1
 > /lib/libc.so.6(__write+0x10) [0xf8350]
 > /lib/libevent-2.1.so.7(event_strlcpy_+0x16d9) [0x2b1e9]
 > /lib/libc.so.6(__sigaction+0x40) [0x3c050]
 > /lib/libc.so.6(kill+0x7) [0x3c267]
 > /bin/prog(send_signal+0x11) [0x14d1]
 > /bin/prog(main+0x9c) [0x11ec]
";
        let (_, calls) = split_stacks(raw);
        assert_eq!(chain(&libevent_side(), &calls[0].frames), "…");
    }

    #[test]
    fn rust_symbols_are_named_as_the_book_names_them() {
        for (symbol, short) in [
            ("minievent::backend::epoll::Epoll::ctl", "Epoll::ctl"),
            (
                "<minievent::backend::epoll::Epoll as minievent::backend::Backend>::add",
                "Epoll::add",
            ),
            (
                "minievent::event::<impl minievent::base::Base>::event_add",
                "Base::event_add",
            ),
            ("step4::main", "main"),
            ("minievent::sys::read", "sys::read"),
        ] {
            assert_eq!(short_rust_name(symbol), short, "{symbol}");
        }
    }

    #[test]
    fn labels_of_forked_processes_are_not_call_names() {
        assert_eq!(call_name("p2 close(4) = 0"), Some("close"));
        assert_eq!(call_name("pipe2([4, 5], 0) = 0"), Some("pipe2"));
        assert_eq!(call_name("+++ exited with 0 +++"), None);
    }
}
