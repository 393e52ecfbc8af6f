//! epoll's numbers in words, so a failing check says `EPOLLIN|EPOLLET`, not `2147483649`.

/// The `EPOLL*` bits of an event mask, as strace writes them: `EPOLLIN|EPOLLOUT|EPOLLET`;
/// `nothing` for 0; bits without a name as one hex number at the end.
pub fn epoll_events(mask: u32) -> String {
    const BITS: [(libc::c_int, &str); 6] = [
        (libc::EPOLLIN, "EPOLLIN"),
        (libc::EPOLLOUT, "EPOLLOUT"),
        (libc::EPOLLRDHUP, "EPOLLRDHUP"),
        (libc::EPOLLERR, "EPOLLERR"),
        (libc::EPOLLHUP, "EPOLLHUP"),
        (libc::EPOLLET, "EPOLLET"),
    ];
    let mut names: Vec<String> = BITS
        .iter()
        .filter(|(bit, _)| mask & *bit as u32 != 0)
        .map(|(_, name)| (*name).to_string())
        .collect();
    let rest = BITS.iter().fold(mask, |m, (bit, _)| m & !(*bit as u32));
    if rest != 0 {
        names.push(format!("{rest:#x}"));
    }
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join("|")
    }
}

/// One `epoll_ctl` call as an op and a mask: `EPOLL_CTL_MOD EPOLLIN|EPOLLOUT`; `no epoll_ctl`
/// for `None`.
pub fn epoll_ctl(call: Option<(libc::c_int, u32)>) -> String {
    let Some((op, mask)) = call else {
        return "no epoll_ctl".into();
    };
    let op = match op {
        libc::EPOLL_CTL_ADD => "EPOLL_CTL_ADD".to_string(),
        libc::EPOLL_CTL_MOD => "EPOLL_CTL_MOD".to_string(),
        libc::EPOLL_CTL_DEL => "EPOLL_CTL_DEL".to_string(),
        other => format!("op {other} (not an EPOLL_CTL_*)"),
    };
    format!("{op} {}", epoll_events(mask))
}

/// What an epoll instance watches an fd for: its mask in words, or `not in the epoll set`.
pub fn watched(mask: Option<u32>) -> String {
    mask.map_or_else(|| "not in the epoll set".into(), epoll_events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_calls_read_as_strace_writes_them() {
        assert_eq!(epoll_events(0x8000_0001), "EPOLLIN|EPOLLET");
        assert_eq!(epoll_events(0), "nothing");
        assert_eq!(epoll_events(0x4000_0004), "EPOLLOUT|0x40000000");
        assert_eq!(
            epoll_ctl(Some((libc::EPOLL_CTL_MOD, 0x2005))),
            "EPOLL_CTL_MOD EPOLLIN|EPOLLOUT|EPOLLRDHUP"
        );
        assert_eq!(epoll_ctl(None), "no epoll_ctl");
        assert_eq!(watched(None), "not in the epoll set");
        assert_eq!(watched(Some(1)), "EPOLLIN");
    }
}
