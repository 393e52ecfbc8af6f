//! Warnings on stderr, worded and framed as libevent's log.c does, so traces of both show the same
//! `write(2, ...)`. libevent: `event_warn()`, `event_warnx()`, `event_msgx()` with the default log
//! callback, which prints `[severity] message\n` in one write; `event_set_log_callback()` replaces it
//! ([`set_log_callback`]).

use crate::error::Error;
use std::ffi::CStr;
use std::io::Write;
use std::sync::Mutex;

/// How grave a logged line is. libevent: `EVENT_LOG_DEBUG`, `EVENT_LOG_MSG`, `EVENT_LOG_WARN`,
/// `EVENT_LOG_ERR` (0 to 3, the values kept here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// libevent: `EVENT_LOG_DEBUG`.
    Debug = 0,
    /// libevent: `EVENT_LOG_MSG`.
    Msg = 1,
    /// libevent: `EVENT_LOG_WARN`.
    Warn = 2,
    /// libevent: `EVENT_LOG_ERR`.
    Err = 3,
}

impl Severity {
    /// The word the default log prints in brackets: `[warn]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Msg => "msg",
            Severity::Warn => "warn",
            Severity::Err => "err",
        }
    }
}

/// A log callback: receives each line's severity and text (without the brackets or newline).
/// libevent: `event_log_cb`.
pub type LogCallback = Box<dyn Fn(Severity, &str) + Send>;

/// The callback [`set_log_callback`] installed; `None`: the default, one line on stderr.
/// libevent: `log_fn` in log.c (a process-wide global, as here).
static LOG_FN: Mutex<Option<LogCallback>> = Mutex::new(None);

/// Sends every line minievent logs to `cb` instead of stderr; `None` restores the default.
/// Process-wide, as in libevent. libevent: `event_set_log_callback()`.
pub fn set_log_callback(cb: Option<LogCallback>) {
    *LOG_FN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = cb;
}

/// Writes `[warn] message` to stderr. libevent: `event_warnx()` (and `event_warn()`, whose message
/// the caller ends with `": " + strerror(errno)`, see [`strerror`]).
pub fn warn(message: &str) {
    event_log(Severity::Warn, message);
}

/// Writes `[msg] message` to stderr. libevent: `event_msgx()`.
pub fn msg(message: &str) {
    event_log(Severity::Msg, message);
}

/// The C library's text for an error's errno (`Operation not permitted`), as `event_warn()` appends it.
pub fn strerror(err: &Error) -> String {
    match err.raw_os_error() {
        Some(errno) => {
            // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local string.
            let text = unsafe { CStr::from_ptr(libc::strerror(errno)) };
            text.to_string_lossy().into_owned()
        }
        None => err.to_string(),
    }
}

/// Hands the line to the installed callback, or writes it to stderr: one line, one
/// `write(2, ...)` (stderr is unbuffered, so the line is formatted first). libevent: `event_log()`.
fn event_log(severity: Severity, message: &str) {
    let installed = LOG_FN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(cb) = installed.as_ref() {
        cb(severity, message);
        return;
    }
    drop(installed);
    let line = format!("[{}] {message}\n", severity.as_str());
    // A failed write to stderr has nowhere to be reported; libevent ignores it as well.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_log_callback_receives_the_lines_and_none_restores_stderr() {
        let seen: Arc<Mutex<Vec<(Severity, String)>>> = Arc::default();
        let sink = Arc::clone(&seen);
        set_log_callback(Some(Box::new(move |severity, text| {
            // Other tests of this binary may log meanwhile: keep only this test's lines.
            if text.starts_with("log-callback-test") {
                sink.lock().unwrap().push((severity, text.to_owned()));
            }
        })));
        warn("log-callback-test: one");
        msg("log-callback-test: two");
        set_log_callback(None);
        warn("log-callback-test: after the reset, on stderr");
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                (Severity::Warn, "log-callback-test: one".to_owned()),
                (Severity::Msg, "log-callback-test: two".to_owned()),
            ]
        );
        assert_eq!(Severity::Err as i32, 3);
        assert_eq!(Severity::Warn.as_str(), "warn");
    }
}
