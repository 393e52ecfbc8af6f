//! `lab01-probe [--avoid METHOD]... [--require FEATURE]... [--ignore-env]`: makes a base with that
//! `Config` and prints `method: NAME` (exit 0) or `error: WHY` (exit 1). The lab's tests run it
//! with environment variables set, which they cannot do in their own process.

use minievent::{Base, BaseFlags, Config, Features};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut cfg = Config::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        cfg = match arg.as_str() {
            "--avoid" => cfg.avoid_method(&value()),
            "--require" => cfg.require_features(match value().as_str() {
                "ET" => Features::ET,
                "O1" => Features::O1,
                "FDS" => Features::FDS,
                "EARLY_CLOSE" => Features::EARLY_CLOSE,
                other => {
                    eprintln!("lab01-probe: unknown feature {other:?}");
                    return ExitCode::from(2);
                }
            }),
            "--ignore-env" => cfg.set_flag(BaseFlags::IGNORE_ENV),
            other => {
                eprintln!("lab01-probe: unknown argument {other:?}");
                return ExitCode::from(2);
            }
        };
    }
    match Base::with_config(&cfg) {
        Ok(base) => {
            println!("method: {}", base.method());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
