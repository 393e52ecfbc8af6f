//! Step 7, after a fork — `event_reinit` in the child: a new backend and signal pipe, and every
//! added event registered again; the child then runs one loop pass on its own base.
//! Scenarios `step7-fork`, `step7-fork-poll` and `step7-fork-select` in traces/SCENARIOS.md; the
//! C twin is traces/reference/step7_fork.c.

use minievent::util::{read, socketpair, write};
use minievent::{Base, EV_READ, LoopFlags};

/// `close(fd)` on one of this program's own fds (made by it, owned by nobody else).
fn close(fd: std::os::fd::RawFd) -> minievent::Result<()> {
    // SAFETY: the fd is this program's own; no event waits on it any more.
    unsafe { minievent::sys::close(fd) }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("step7_fork: event_reinit after fork");
    let mut base = Base::new()?;
    let [a, b] = socketpair()?;
    let rd = base.event_new(a, EV_READ, |_, fd, what, _| {
        let mut c = [0u8; 1];
        let n = read(fd, &mut c).expect("read");
        assert_eq!(n, 1, "one byte was written");
        println!(
            "child: fd {fd} readable (what {:#x}), read '{}'",
            what.bits(),
            c[0] as char
        );
    })?;
    let sig = base.evsignal_new(libc::SIGUSR1, |_, sig, what, _| {
        println!("signal {sig}, what {:#x}", what.bits())
    })?;
    base.event_add(rd, None)?;
    base.event_add(sig, None)?;
    println!("parent: added a read event and a signal event; fork");

    // ANCHOR: fork
    // SAFETY: this program has one thread; the child only runs this code and exits.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(std::io::Error::last_os_error().into());
    }
    if pid == 0 {
        println!("child: event_reinit");
        base.reinit()?;
        write(b, b"x")?;
        println!("child: loop once: {}", base.run(LoopFlags::ONCE)?.code());
        base.event_free(rd)?;
        base.event_free(sig)?;
        drop(base);
        println!("child: freed");
        std::process::exit(0);
    }
    // ANCHOR_END: fork

    let mut status = 0;
    // SAFETY: waits for this program's own child; status is a valid out-parameter.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    println!("parent: child exited {code}");
    base.event_free(rd)?;
    base.event_free(sig)?;
    close(a)?;
    close(b)?;
    drop(base);
    println!("parent: freed");
    Ok(())
}
