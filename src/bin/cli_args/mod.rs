//! The command line the small servers and the client share: `--port P` and `--help`, parsed by
//! hand (the package's dependencies stay libc, bitflags and thiserror; the echo servers of
//! chapters 5-6 parse theirs in echo_common, which labs 4 and 5 also build).

/// The value after `--port`: a port in 1..65535, or an error naming what was given.
pub fn port_value(args: &mut impl Iterator<Item = String>) -> Result<u16, String> {
    let value = args.next().ok_or("--port needs a value")?;
    value
        .parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("invalid port {value:?}"))
}

/// `--port P` (else `default`), or `Ok(None)` for `-h` / `--help`; anything else is an error.
#[allow(
    dead_code,
    reason = "echo_client takes lines as well, and uses port_value alone"
)]
pub fn port_or_help(
    mut args: impl Iterator<Item = String>,
    default: u16,
) -> Result<Option<u16>, String> {
    let mut port = default;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => port = port_value(&mut args)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(port))
}
