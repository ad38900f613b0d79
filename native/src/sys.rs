//! Thin, safe-signature wrappers over the system calls the crate makes
//! (sockets, epoll, eventfd, `read`/`send`, thread priority) and the
//! `sockaddr` casts they need, each `unsafe` block with its contract beside
//! it. One of the three modules that hold `unsafe` code (with `pointers` and
//! `io_callbacks`).

use libc::{c_int, c_void};

/// The calling thread's last OS error number.
pub(crate) fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: c_int, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is a valid writable slice.
    unsafe { libc::read(fd, buf.as_mut_ptr() as *mut c_void, buf.len()) }
}

/// `socket(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`.
pub(crate) fn socket(domain: c_int, kind: c_int) -> c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe { libc::socket(domain, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) }
}

/// `setsockopt(2)` with an `int` value.
pub(crate) fn set_int_option(fd: c_int, level: c_int, name: c_int, value: c_int) -> c_int {
    // SAFETY: `value` lives on the stack for the call; its size is passed.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const c_int as *const c_void,
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    }
}

/// Whether a read of `fd` would not block (data, end of stream or an
/// error is there): 1, 0, or `-errno`.
pub(crate) fn readable_now(fd: c_int) -> c_int {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN | libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    if rc < 0 {
        -errno()
    } else {
        (rc > 0) as c_int
    }
}

/// `getsockopt(SOL_SOCKET, SO_ERROR)`: the pending error of a socket (0 = none).
pub(crate) fn take_error(fd: c_int) -> c_int {
    let mut value: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid out-pointers for the call.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut value as *mut c_int as *mut c_void,
            &mut len,
        )
    };
    if rc < 0 {
        errno()
    } else {
        value
    }
}

/// `connect(2)`, `bind(2)` and friends take a `sockaddr_storage` + length.
pub(crate) fn connect(fd: c_int, addr: &libc::sockaddr_storage, len: libc::socklen_t) -> c_int {
    // SAFETY: `addr` is a fully initialised sockaddr of `len` bytes.
    unsafe { libc::connect(fd, addr as *const _ as *const libc::sockaddr, len) }
}

/// `bind(2)`.
pub(crate) fn bind(fd: c_int, addr: &libc::sockaddr_storage, len: libc::socklen_t) -> c_int {
    // SAFETY: `addr` is a fully initialised sockaddr of `len` bytes.
    unsafe { libc::bind(fd, addr as *const _ as *const libc::sockaddr, len) }
}

/// `listen(2)`.
pub(crate) fn listen(fd: c_int, backlog: c_int) -> c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe { libc::listen(fd, backlog) }
}

/// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`, discarding the address.
pub(crate) fn accept(fd: c_int) -> c_int {
    // SAFETY: NULL address pointers are allowed by accept4.
    unsafe {
        libc::accept4(
            fd,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    }
}

/// `getsockname(2)` (`peer == false`) or `getpeername(2)`.
pub(crate) fn name(fd: c_int, peer: bool, out: &mut libc::sockaddr_storage) -> c_int {
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ptr = out as *mut _ as *mut libc::sockaddr;
    // SAFETY: `out` is a writable sockaddr_storage of `len` bytes.
    unsafe {
        if peer {
            libc::getpeername(fd, ptr, &mut len)
        } else {
            libc::getsockname(fd, ptr, &mut len)
        }
    }
}

/// An all-zero `sockaddr_storage`.
pub(crate) fn zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Reinterprets storage as the IPv4 form.
pub(crate) fn as_v4(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_in {
    // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
    unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in) }
}

/// Reinterprets storage as the IPv6 form.
pub(crate) fn as_v6(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_in6 {
    // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
    unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in6) }
}

/// Reinterprets storage as the Unix-domain form.
pub(crate) fn as_unix(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_un {
    // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
    unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_un) }
}

/// `recv(2)` with `MSG_PEEK`: the next bytes of a socket, left in it.
pub(crate) fn peek(fd: c_int, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is a valid writable slice.
    unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    }
}

/// `shutdown(2)`.
pub(crate) fn shutdown(fd: c_int, how: c_int) -> c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe { libc::shutdown(fd, how) }
}

/// Sets `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: c_int) -> c_int {
    // SAFETY: plain fcntl calls with integer arguments.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return flags;
        }
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
    }
}

/// `send(2)` with `MSG_NOSIGNAL` (no SIGPIPE on a closed peer).
pub(crate) fn send(fd: c_int, data: &[u8]) -> isize {
    // SAFETY: `data` is a valid readable slice.
    unsafe {
        libc::send(
            fd,
            data.as_ptr() as *const c_void,
            data.len(),
            libc::MSG_NOSIGNAL,
        )
    }
}

/// Raises the calling thread's nice value by `nice` (lower priority); best effort.
pub(crate) fn lower_thread_priority(nice: c_int) {
    // SAFETY: plain system calls; gettid has no arguments and setpriority
    // with PRIO_PROCESS and a thread id affects only that thread on Linux.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
}

/// `close(2)`.
pub(crate) fn close(fd: c_int) -> c_int {
    // SAFETY: plain system call; the caller owns `fd`.
    unsafe { libc::close(fd) }
}

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub(crate) fn epoll_create() -> c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }
}

/// `epoll_ctl(2)`.
pub(crate) fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, events: u32, token: u64) -> c_int {
    let mut event = libc::epoll_event { events, u64: token };
    // SAFETY: `event` is a valid epoll_event for the call.
    unsafe { libc::epoll_ctl(epfd, op, fd, &mut event) }
}

/// `epoll_wait(2)` into `events`.
pub(crate) fn epoll_wait(
    epfd: c_int,
    events: &mut [libc::epoll_event],
    timeout_ms: c_int,
) -> c_int {
    // SAFETY: `events` is a writable array of its length.
    unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), events.len() as c_int, timeout_ms) }
}

/// A non-blocking, close-on-exec `AF_UNIX` stream socket pair, or the errno.
pub(crate) fn socketpair() -> Result<[c_int; 2], c_int> {
    let mut fds = [-1 as c_int; 2];
    let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` is a writable array of two ints, as socketpair(2) needs.
    if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    Ok(fds)
}

/// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
pub(crate) fn eventfd() -> c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }
}

/// Adds one to an eventfd's counter.
pub(crate) fn eventfd_signal(fd: c_int) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a stack value.
    unsafe { libc::write(fd, &one as *const u64 as *const c_void, 8) };
}

/// Resets an eventfd's counter.
pub(crate) fn eventfd_drain(fd: c_int) {
    let mut value: u64 = 0;
    // SAFETY: reads 8 bytes into a stack value.
    unsafe { libc::read(fd, &mut value as *mut u64 as *mut c_void, 8) };
}
