//! `minievent-labs`: the runner behind `just lab N`, `just labs` and `just hint N`.
//!
//! ```text
//! minievent-labs lab N [--reference]   build and test lab N; say what passes, what to read next
//! minievent-labs list                  every lab and its state: not started, failing, passing
//! minievent-labs hint N [--all|--reset] the next hint of lab N (or all of them, or start over)
//! minievent-labs check                 CI: every untouched skeleton fails, every reference passes
//! ```
//!
//! `minievent-labs --help` explains each command and option. Exit status: 0 on a pass, 1 on a
//! failure, 2 for a bad command line (clap's usage error) or a lab that does not exist (the
//! error lists the labs).
//!
//! A lab is a cargo package (labs/README.md): its tests are run with `cargo test -p PACKAGE`, and
//! libtest's report is read back into one line per check. Nothing here writes a snapshot: the
//! expected traces are only ever read, by the labs' tests.

mod diff;
mod hints;
mod labs;
mod testrun;

use clap::error::{ContextKind, ErrorKind};
use clap::{Parser, Subcommand};
use labs::{LABS, Lab, target_dir};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use testrun::{Check, Outcome, words};

/// Every command with its options (shown by `minievent-labs --help`).
const SYNOPSIS: &str = "\
Commands in full (`minievent-labs help COMMAND` explains one):
  minievent-labs lab N [--reference]     build and test lab N (`just lab N`)
  minievent-labs list                    every lab and its state (`just labs`)
  minievent-labs hint N [--all|--reset]  the next hint for lab N (`just hint N`)
  minievent-labs check                   CI: skeletons fail, references pass

MINIEVENT_LABS_REFERENCE=1 makes `lab N` test minievent's own code (the reference) instead of
your exercise.rs.";

const EXIT_STATUS: &str = "\
    Exit status: 0 when the lab (or every lab, for `check`) passes, 1 when it does not, 2 for a bad \
    command line or a lab that does not exist.";

/// The lab runner behind `just lab N`, `just labs` and `just hint N`.
///
/// Each lab (labs/README.md) asks you to write part of minievent in the lab's src/exercise.rs;
/// its tests plug your code into the real event loop and check its behaviour and its syscall
/// trace. The runner builds and tests a lab and says what passes and what to read next.
#[derive(Parser, Debug)]
#[command(
    name = "minievent-labs",
    arg_required_else_help = true,
    after_help = EXIT_STATUS,
    after_long_help = format!("{SYNOPSIS}\n\nThe labs:\n{}\n{EXIT_STATUS}", labs::table())
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build and test lab N: one line per check, what to read next (`just lab N`)
    ///
    /// Builds the lab with your exercise.rs, runs its tests, prints one line per check and, for a
    /// trace that differs, the expected and your trace side by side.
    Lab {
        /// The lab's number (`just labs` lists them; so does a wrong number)
        #[arg(value_name = "N", allow_negative_numbers = true)]
        number: String,
        /// Test minievent's own code (the reference solution) instead of your exercise.rs; the
        /// same as MINIEVENT_LABS_REFERENCE=1
        #[arg(long)]
        reference: bool,
    },
    /// Every lab and its state: not started, failing or passing (`just labs`)
    ///
    /// An edited lab is built and tested to find its state, so this can take a while.
    #[command(alias = "labs")]
    List,
    /// The next hint for lab N, one more each time (`just hint N`)
    Hint {
        /// The lab's number (`just labs` lists them; so does a wrong number)
        #[arg(value_name = "N", allow_negative_numbers = true)]
        number: String,
        /// Print every hint of the lab at once
        #[arg(long)]
        all: bool,
        /// Start the hints of the lab over from the first (wins over --all)
        #[arg(long)]
        reset: bool,
    },
    /// For CI: every untouched skeleton fails and every reference passes (slow: builds each lab
    /// twice)
    Check,
}

fn main() -> ExitCode {
    let cli = parse_command_line();
    let result = match cli.command {
        Command::Lab { number, reference } => {
            lab(&number, reference || reference_from_environment())
        }
        Command::List => list(),
        Command::Hint { number, all, reset } => hint(&number, all, reset),
        Command::Check => check(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}

/// The command line, or the exit: `--help` prints the help and exits with 0; a bad command line
/// prints clap's error and usage (and, when the lab's number is missing, the labs) and exits
/// with 2.
fn parse_command_line() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            e.exit(); // --help: exit status 0
        }
        let _ = e.print();
        if e.kind() == ErrorKind::MissingRequiredArgument
            && e.get(ContextKind::InvalidArg)
                .is_some_and(|arg| arg.to_string().contains("<N>"))
            && let Err(labs) = labs::find("")
        {
            eprintln!("{labs}");
        }
        std::process::exit(2)
    })
}

/// Green / red when writing to a terminal (and NO_COLOR is not set).
struct Style {
    color: bool,
}

impl Style {
    fn new() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn pass(&self) -> String {
        self.paint("32", "✓")
    }
    fn fail(&self) -> String {
        self.paint("31", "✗")
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

/// MINIEVENT_LABS_REFERENCE set to something other than empty or `0`.
fn reference_from_environment() -> bool {
    std::env::var("MINIEVENT_LABS_REFERENCE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `lab N`: build and test, one line per check, the first trace difference, what to read.
fn lab(number: &str, reference: bool) -> Result<bool, String> {
    let lab = labs::find(number)?;
    let style = Style::new();
    let n = lab.number;
    println!(
        "{}",
        style.bold(&format!("Lab {n} — {}: {}", lab.call, lab.task))
    );
    if reference {
        println!("Testing the reference solution (minievent's own src/) …");
    } else {
        let first = !testrun::log_path(&lab, false).exists();
        println!(
            "You edit {}. Building and testing it{} …",
            lab.exercise(),
            if first {
                " (the first build takes a minute)"
            } else {
                ""
            }
        );
    }
    let _ = std::io::stdout().flush();
    let outcome = testrun::run(&lab, reference, true)?;
    let ran = matches!(outcome, Outcome::Ran { .. });
    let passed = match outcome {
        Outcome::BuildFailed(_) => {
            println!(
                "\n{} The lab does not compile: see cargo's messages above.",
                style.fail()
            );
            false
        }
        Outcome::Ran { checks, trouble } => {
            print_checks(&style, &checks);
            let ok = checks.iter().filter(|c| c.passed).count();
            println!();
            if let Some(trouble) = &trouble {
                println!("{} {trouble}", style.fail());
            }
            let all = trouble.is_none() && ok == checks.len();
            if all {
                println!(
                    "{} All {} checks of lab {n} pass.",
                    style.pass(),
                    checks.len()
                );
            } else {
                println!("{ok} of {} checks pass.", checks.len());
                show_first_trace_difference(&style, &lab, &checks);
            }
            all
        }
    };
    println!();
    if passed {
        match LABS.iter().find(|l| l.number == n + 1) {
            Some(next) => println!(
                "Next: chapter {} ({}), then `just lab {}`.",
                next.chapter_number,
                next.chapter(),
                next.number
            ),
            None => println!("That was the last lab."),
        }
    } else {
        println!(
            "Read chapter {}: {} ({}) — `just serve` shows it in the browser.",
            lab.chapter_number,
            lab.chapter_title(),
            lab.chapter()
        );
        println!("Stuck? `just hint {n}`");
        if ran {
            println!(
                "The whole test output: {}",
                relative(&testrun::log_path(&lab, reference))
            );
        }
    }
    Ok(passed)
}

/// One line per check, grouped by test file; under a failure its message (once, when several
/// failures say the same).
fn print_checks(style: &Style, checks: &[Check]) {
    // Files in the order cargo ran them, checks in each by name (libtest reports them as they end).
    let mut groups: Vec<&str> = Vec::new();
    for c in checks {
        if !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    let mut sorted: Vec<&Check> = checks.iter().collect();
    sorted.sort_by_key(|c| (groups.iter().position(|g| *g == c.group), c.name.as_str()));
    let mut group = None;
    let mut last_message = String::new();
    for check in sorted {
        if group != Some(&check.group) {
            println!("\n  {}", style.bold(&words(&check.group)));
            group = Some(&check.group);
        }
        let mark = if check.passed {
            style.pass()
        } else {
            style.fail()
        };
        println!("  {mark} {}", words(&check.name));
        if !check.passed {
            let place = check
                .location
                .as_deref()
                .map_or_else(String::new, |at| format!(", failed at {at}"));
            println!(
                "      test `{}` in tests/{}.rs{place}",
                check.name, check.group
            );
        }
        if !check.passed && !check.message.is_empty() {
            if check.message == last_message {
                println!("      (the same as above)");
            } else {
                for line in check.message.lines().take(6) {
                    println!("      {line}");
                }
                last_message.clone_from(&check.message);
            }
        }
    }
}

/// The expected and actual traces of the first failing trace check that left them in
/// `target/labs/PACKAGE/`, side by side.
fn show_first_trace_difference(style: &Style, lab: &Lab, checks: &[Check]) {
    let dir = target_dir().join("labs").join(lab.package);
    for check in checks
        .iter()
        .filter(|c| !c.passed && c.name.starts_with("trace_"))
    {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let scenario = entries.filter_map(|e| e.ok()).find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let scenario = name.strip_suffix(".actual")?.to_string();
            (format!("trace_{}", scenario.replace('-', "_")) == check.name).then_some(scenario)
        });
        let Some(scenario) = scenario else { continue };
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{scenario}.{ext}")));
        let (Ok(expected), Ok(actual)) = (read("expected"), read("actual")) else {
            continue;
        };
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(160usize);
        println!(
            "\n{}",
            style.bold(&format!(
                "The trace of {scenario}: expected (traces/snapshots/{scenario}.snap) and yours, side by side"
            ))
        );
        println!("(`<` only expected, `>` only yours, `|` different)\n");
        print!("{}", diff::side_by_side(&expected, &actual, width, 3));
        return;
    }
}

/// `path` relative to the repository, for messages.
fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(labs::workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `list`: every lab's state, found by running its tests (an untouched exercise is "not started"
/// without running).
fn list() -> Result<bool, String> {
    let style = Style::new();
    println!("{}", style.bold("Lab  Chapter               State"));
    for lab in LABS {
        let state = match lab.untouched() {
            Some(true) => format!("not started — `just lab {}`", lab.number),
            None => format!("{} is missing", lab.exercise()),
            Some(false) => {
                if style.color {
                    print!(" {}   {:<21} (testing …)\r", lab.number, lab.call);
                    let _ = std::io::stdout().flush();
                }
                match testrun::run(&lab, false, false)? {
                    Outcome::BuildFailed(_) => format!(
                        "{} does not compile — `just lab {}`",
                        style.fail(),
                        lab.number
                    ),
                    Outcome::Ran { checks, trouble } => {
                        let ok = checks.iter().filter(|c| c.passed).count();
                        if trouble.is_none() && ok == checks.len() {
                            format!("{} passing ({} checks)", style.pass(), checks.len())
                        } else {
                            format!(
                                "{} failing: {ok} of {} checks pass",
                                style.fail(),
                                checks.len()
                            )
                        }
                    }
                }
            }
        };
        let clear = if style.color { "\x1b[K" } else { "" };
        println!(" {}   {:<21} {state}{clear}", lab.number, lab.call);
    }
    Ok(true)
}

/// `hint N [--all|--reset]`.
fn hint(number: &str, all: bool, reset: bool) -> Result<bool, String> {
    let lab = labs::find(number)?;
    print!("{}", hints::hint(&lab, all, reset)?);
    Ok(true)
}

/// The sections the skeleton's `todo!()`s name (`section \"X\"`) that the chapter has no
/// `## X` heading for.
fn missing_sections(lab: &Lab) -> Vec<String> {
    let root = labs::workspace();
    let exercise = std::fs::read_to_string(root.join(lab.exercise())).unwrap_or_default();
    let chapter = std::fs::read_to_string(root.join(lab.chapter())).unwrap_or_default();
    let headings: Vec<&str> = chapter
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .collect();
    exercise
        .split("section \\\"")
        .skip(1)
        .filter_map(|rest| rest.split_once("\\\"").map(|(title, _)| title.to_string()))
        .filter(|title| !headings.contains(&title.as_str()))
        .collect()
}

/// `check`, for CI: promise 4 of the design — every lab can be passed (the reference passes every
/// check) and is not vacuous (the untouched skeleton compiles and fails every check, each because
/// of one of its `todo!()`s, whose message names the chapter).
fn check() -> Result<bool, String> {
    let style = Style::new();
    let mut problems = Vec::new();
    for lab in LABS {
        let n = lab.number;
        let mut problem = |p: String| {
            println!("  {} {p}", style.fail());
            problems.push(format!("lab {n}: {p}"));
        };
        println!("{}", style.bold(&format!("Lab {n} ({})", lab.package)));
        match lab.current_hash() {
            None => problem(format!("{} is missing", lab.exercise())),
            Some(hash) if hash != lab.skeleton_hash => problem(format!(
                "{} is not the committed skeleton: its hash is {hash:#018x}, labs/runner/src/labs.rs says \
                 {:#018x}. Restore it (`git checkout -- {}`), or after changing the skeleton on purpose put \
                 the new hash into labs.rs",
                lab.exercise(),
                lab.skeleton_hash,
                lab.exercise()
            )),
            Some(_) => {}
        }

        for section in missing_sections(&lab) {
            problem(format!(
                "a todo!() of {} sends the reader to section {section:?}, which {} has no `## ` heading for",
                lab.exercise(),
                lab.chapter()
            ));
        }

        let chapter = lab.chapter_number;
        let mut skeleton_count = None;
        match testrun::run(&lab, false, false)? {
            Outcome::BuildFailed(messages) => problem(format!(
                "the untouched skeleton does not compile:\n{messages}"
            )),
            Outcome::Ran { checks, trouble } => {
                if let Some(trouble) = trouble {
                    problem(format!("skeleton: {trouble}"));
                }
                let marker = format!("lab {n}:");
                let mut bad = false;
                for c in &checks {
                    if c.passed {
                        bad = true;
                        problem(format!(
                            "`{}` passes on the untouched skeleton: it checks nothing the learner writes",
                            c.name
                        ));
                    } else if !c.message.contains(&marker)
                        || !c.message.contains(&format!("chapter {chapter}"))
                    {
                        bad = true;
                        problem(format!(
                            "`{}` fails on the skeleton, but not in one of its todo!()s naming chapter {chapter}: {}",
                            c.name,
                            c.message.lines().next().unwrap_or("(no message)")
                        ));
                    }
                }
                if !bad {
                    println!(
                        "  {} the untouched skeleton fails all {} checks, each in a todo!() naming chapter {chapter}",
                        style.pass(),
                        checks.len()
                    );
                }
                skeleton_count = Some(checks.len());
            }
        }

        match testrun::run(&lab, true, false)? {
            Outcome::BuildFailed(messages) => {
                problem(format!("the reference does not compile:\n{messages}"))
            }
            Outcome::Ran { checks, trouble } => {
                if let Some(trouble) = trouble {
                    problem(format!("reference: {trouble}"));
                }
                let failing: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
                for c in &failing {
                    problem(format!(
                        "`{}` fails with the reference (minievent's src/), so the lab cannot be passed: {}",
                        c.name,
                        c.message.lines().take(4).collect::<Vec<_>>().join(" / ")
                    ));
                }
                if skeleton_count.is_some_and(|s| s != checks.len()) {
                    problem(format!(
                        "the skeleton ran {} checks and the reference {}",
                        skeleton_count.unwrap_or(0),
                        checks.len()
                    ));
                }
                if failing.is_empty() && !checks.is_empty() {
                    println!(
                        "  {} the reference passes all {} checks",
                        style.pass(),
                        checks.len()
                    );
                }
            }
        }
    }
    println!();
    if problems.is_empty() {
        println!(
            "{} every lab fails untouched and passes with the reference",
            style.pass()
        );
        Ok(true)
    } else {
        println!("{} {} problem(s):", style.fail(), problems.len());
        for p in &problems {
            println!("  - {}", p.lines().next().unwrap_or(p));
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_todo_names_a_section_of_its_chapter() {
        for lab in LABS {
            assert_eq!(
                missing_sections(&lab),
                Vec::<String>::new(),
                "lab {}",
                lab.number
            );
        }
    }

    #[test]
    fn a_section_the_chapter_lacks_is_found() {
        let lab = Lab {
            chapter_file: "ch01-event-base-new.md",
            ..LABS[3]
        };
        assert_eq!(
            missing_sections(&lab),
            [
                "epoll_dispatch",
                "event_base_loop, step by step",
                "Running the active events"
            ],
            "lab 4's sections are not in chapter 1"
        );
    }
}
