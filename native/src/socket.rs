//! Non-blocking TCP and Unix-domain sockets for the raw-fd transport. Every function returns
//! 0 or an errno value: errors are values, never thread-local state.

use std::net::{IpAddr, SocketAddr};

use libc::{c_char, c_int};

use crate::boundary;
use crate::pointers;
use crate::sys;

/// Fills a `sockaddr_storage` for `ip:port`, returning its length.
fn to_storage(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let mut storage = sys::zeroed_storage();
    match addr {
        SocketAddr::V4(v4) => {
            let sin = sys::as_v4(&mut storage);
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(v6) => {
            let sin6 = sys::as_v6(&mut storage);
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            sin6.sin6_scope_id = v6.scope_id();
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

/// Reads `ip:port` back out of a `sockaddr_storage`.
fn from_storage(storage: &mut libc::sockaddr_storage) -> Option<SocketAddr> {
    match storage.ss_family as c_int {
        libc::AF_INET => {
            let sin = sys::as_v4(storage);
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(sin.sin_port)))
        }
        libc::AF_INET6 => {
            let sin6 = sys::as_v6(storage);
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

fn parse(ip: *const c_char, port: u16) -> Option<SocketAddr> {
    let ip: IpAddr = pointers::c_text(ip)?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

fn new_tcp_socket(addr: &SocketAddr) -> Result<c_int, c_int> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = sys::socket(domain, libc::SOCK_STREAM);
    if fd < 0 {
        return Err(sys::errno());
    }
    Ok(fd)
}

/// `connect(2)` on the non-blocking socket `fd`: on success `out_fd` gets
/// it and `out_pending` 1 while the connection is in progress; on failure
/// `fd` is closed and the errno returned. `unix`: `EAGAIN` (a Unix-domain
/// listener's full backlog) also means "in progress" (for TCP it means no
/// local port is free).
fn start_connect(
    fd: c_int,
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
    unix: bool,
    out_fd: *mut c_int,
    out_pending: *mut u32,
) -> c_int {
    let mut pending = 0;
    if sys::connect(fd, storage, len) < 0 {
        let errno = sys::errno();
        if errno != libc::EINPROGRESS && !(unix && errno == libc::EAGAIN) {
            sys::close(fd);
            return errno;
        }
        pending = 1;
    }
    pointers::put(out_fd, fd);
    pointers::put(out_pending, pending);
    0
}

/// Starts a non-blocking TCP connection to `ip` (IPv4 or IPv6 text) and
/// `port`. On success `out_fd` gets the socket and `out_pending` 1 when the
/// connection is still in progress (wait for writability, then call
/// `rustls_sockets_socket_take_error`). Returns 0 or an errno (`EINVAL` for a
/// bad address).
///
/// Borrows `ip` for the call; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_tcp_connect(
    ip: *const c_char,
    port: u16,
    out_fd: *mut c_int,
    out_pending: *mut u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(addr) = parse(ip, port) else {
            return libc::EINVAL;
        };
        let fd = match new_tcp_socket(&addr) {
            Ok(fd) => fd,
            Err(errno) => return errno,
        };
        sys::set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        let (storage, len) = to_storage(addr);
        start_connect(fd, &storage, len, false, out_fd, out_pending)
    })
}

/// `rustls_sockets_tcp_listen` flag: set `SO_REUSEPORT`, so that several
/// sockets (in several processes or threads) listen on one port and the
/// kernel spreads new connections among them.
pub const RUSTLS_SOCKETS_LISTEN_REUSE_PORT: u32 = 1;

/// Creates a non-blocking listening TCP socket bound to `ip:port` (`port` 0 =
/// ephemeral) with `SO_REUSEADDR`, and `SO_REUSEPORT` with
/// [`RUSTLS_SOCKETS_LISTEN_REUSE_PORT`] in `flags`; an IPv6 socket is
/// IPv6-only. Returns 0 or an errno (`EINVAL` for unknown flags).
///
/// Borrows `ip` for the call; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_tcp_listen(
    ip: *const c_char,
    port: u16,
    backlog: c_int,
    flags: u32,
    out_fd: *mut c_int,
) -> c_int {
    boundary(libc::EIO, || {
        if flags & !RUSTLS_SOCKETS_LISTEN_REUSE_PORT != 0 {
            return libc::EINVAL;
        }
        let Some(addr) = parse(ip, port) else {
            return libc::EINVAL;
        };
        let fd = match new_tcp_socket(&addr) {
            Ok(fd) => fd,
            Err(errno) => return errno,
        };
        sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        if flags & RUSTLS_SOCKETS_LISTEN_REUSE_PORT != 0
            && sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1) < 0
        {
            let errno = sys::errno();
            sys::close(fd);
            return errno;
        }
        if addr.is_ipv6() {
            sys::set_int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1);
        }
        let (storage, len) = to_storage(addr);
        if sys::bind(fd, &storage, len) < 0 || sys::listen(fd, backlog) < 0 {
            let errno = sys::errno();
            sys::close(fd);
            return errno;
        }
        pointers::put(out_fd, fd);
        0
    })
}

/// A `sockaddr_un` for the filesystem path `path` (`None` when empty,
/// too long for `sun_path` or containing NUL).
fn unix_storage(path: *const c_char) -> Option<(libc::sockaddr_storage, libc::socklen_t)> {
    let path = pointers::c_text(path)?.as_bytes();
    let mut storage = sys::zeroed_storage();
    let sun = sys::as_unix(&mut storage);
    if path.is_empty() || path.len() >= sun.sun_path.len() {
        return None;
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, byte) in sun.sun_path.iter_mut().zip(path) {
        *slot = *byte as c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + path.len() + 1;
    Some((storage, len as libc::socklen_t))
}

/// A new non-blocking Unix-domain stream socket and the address of `path`.
fn unix_socket(
    path: *const c_char,
) -> Result<(c_int, libc::sockaddr_storage, libc::socklen_t), c_int> {
    let (storage, len) = unix_storage(path).ok_or(libc::EINVAL)?;
    let fd = sys::socket(libc::AF_UNIX, libc::SOCK_STREAM);
    if fd < 0 {
        return Err(sys::errno());
    }
    Ok((fd, storage, len))
}

/// Starts a non-blocking connection to the Unix-domain stream socket at
/// `path`; like [`rustls_sockets_tcp_connect`] (`EINVAL` for a bad path).
///
/// Borrows `path` for the call; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_unix_connect(
    path: *const c_char,
    out_fd: *mut c_int,
    out_pending: *mut u32,
) -> c_int {
    boundary(libc::EIO, || match unix_socket(path) {
        Ok((fd, storage, len)) => start_connect(fd, &storage, len, true, out_fd, out_pending),
        Err(errno) => errno,
    })
}

/// Creates a non-blocking listening Unix-domain stream socket at `path`
/// (which must not exist yet). Returns 0 or an errno.
///
/// Borrows `path` for the call; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_unix_listen(
    path: *const c_char,
    backlog: c_int,
    out_fd: *mut c_int,
) -> c_int {
    boundary(libc::EIO, || {
        let (fd, storage, len) = match unix_socket(path) {
            Ok(made) => made,
            Err(errno) => return errno,
        };
        if sys::bind(fd, &storage, len) < 0 || sys::listen(fd, backlog) < 0 {
            let errno = sys::errno();
            sys::close(fd);
            return errno;
        }
        pointers::put(out_fd, fd);
        0
    })
}

/// Accepts one connection from the listening socket `fd` as a non-blocking
/// socket with `TCP_NODELAY`. Returns 0 or an errno (`EAGAIN` when none is waiting).
///
/// `fd` stays the caller's; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_tcp_accept(fd: c_int, out_fd: *mut c_int) -> c_int {
    boundary(libc::EIO, || {
        let conn = sys::accept(fd);
        if conn < 0 {
            return sys::errno();
        }
        sys::set_int_option(conn, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        pointers::put(out_fd, conn);
        0
    })
}

/// The pending error of a socket (`SO_ERROR`), e.g. the outcome of a
/// non-blocking connect: 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_take_error(fd: c_int) -> c_int {
    boundary(libc::EIO, || sys::take_error(fd))
}

/// Whether reading `fd` would not block now (data, end of stream or an
/// error is there): 1 or 0, or `-errno`. Lets a caller skip a worker round
/// trip that would only find nothing to read.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_readable(fd: c_int) -> c_int {
    boundary(-libc::EIO, || sys::readable_now(fd))
}

/// Copies the local (`peer == 0`) or remote address of `fd` as IP text into
/// `buf` and its port into `out_port`. Returns 0 or an errno (`ENOBUFS` when
/// `cap` is too small).
///
/// `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_address(
    fd: c_int,
    peer: u32,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
    out_port: *mut u16,
) -> c_int {
    boundary(libc::EIO, || {
        let mut storage = sys::zeroed_storage();
        if sys::name(fd, peer != 0, &mut storage) < 0 {
            return sys::errno();
        }
        if storage.ss_family as c_int == libc::AF_UNIX {
            // A Unix-domain socket: its path (empty when unnamed), port 0.
            let sun = sys::as_unix(&mut storage);
            let path: Vec<u8> = sun
                .sun_path
                .iter()
                .take_while(|c| **c != 0)
                .map(|c| *c as u8)
                .collect();
            pointers::put(out_port, 0);
            return match pointers::copy_out(&path, buf, cap, out_n) {
                crate::RESULT_OK => 0,
                _ => libc::ENOBUFS,
            };
        }
        let Some(addr) = from_storage(&mut storage) else {
            return libc::EAFNOSUPPORT;
        };
        pointers::put(out_port, addr.port());
        let text = addr.ip().to_string();
        match pointers::copy_out(text.as_bytes(), buf, cap, out_n) {
            crate::RESULT_OK => 0,
            _ => libc::ENOBUFS,
        }
    })
}

/// `shutdown(2)`: `how` 0 = read side, 1 = write side, 2 = both. Returns 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_shutdown(fd: c_int, how: c_int) -> c_int {
    boundary(libc::EIO, || {
        let how = match how {
            0 => libc::SHUT_RD,
            1 => libc::SHUT_WR,
            _ => libc::SHUT_RDWR,
        };
        if sys::shutdown(fd, how) < 0 {
            sys::errno()
        } else {
            0
        }
    })
}

/// Closes `fd`. Returns 0 or an errno.
///
/// Takes ownership of `fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_close(fd: c_int) -> c_int {
    boundary(
        libc::EIO,
        || if sys::close(fd) < 0 { sys::errno() } else { 0 },
    )
}

/// Puts `fd` in non-blocking mode (for adopted sockets). Returns 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_set_nonblocking(fd: c_int) -> c_int {
    boundary(libc::EIO, || {
        if sys::set_nonblocking(fd) < 0 {
            sys::errno()
        } else {
            0
        }
    })
}

/// Writes `len` bytes at `buf` to the non-blocking socket `fd` (one
/// `send(2)`, `MSG_NOSIGNAL`); `out_n` gets the count. Returns 0 or an errno
/// (`EAGAIN` when the socket is full).
///
/// Borrows the `len` bytes at `buf` for the call.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_send(
    fd: c_int,
    buf: *const u8,
    len: u32,
    out_n: *mut usize,
) -> c_int {
    boundary(libc::EIO, || {
        let sent = sys::send(fd, pointers::bytes(buf, len as usize));
        if sent < 0 {
            return sys::errno();
        }
        pointers::put(out_n, sent as usize);
        0
    })
}

/// Reads up to `cap` bytes from the non-blocking socket `fd` into `buf`;
/// `out_n` gets the count (0 = end of stream). Returns 0 or an errno
/// (`EAGAIN` when nothing is there).
///
/// `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_socket_recv(
    fd: c_int,
    buf: *mut u8,
    cap: u32,
    out_n: *mut usize,
) -> c_int {
    boundary(libc::EIO, || {
        let got = sys::read(fd, pointers::bytes_mut(buf, cap as usize));
        if got < 0 {
            return sys::errno();
        }
        pointers::put(out_n, got as usize);
        0
    })
}
