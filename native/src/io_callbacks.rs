//! The callbacks rustls-ffi moves TLS bytes through (`rustls_read_callback`,
//! `rustls_write_callback`, `rustls_write_vectored_callback`): to and from a
//! socket, a [`Cursor`] over caller bytes and a [`Sink`] in caller memory,
//! with the `userdata` each expects. Each `unsafe` block has its contract
//! beside it; one of the three modules that hold `unsafe` code (with
//! `pointers` and `sys`).

use libc::{c_int, c_void};
use rustls_ffi::io::rustls_iovec;
use rustls_ffi::rustls_io_result;

use crate::hello_tap::HelloTap;
use crate::pointers::{bytes, bytes_mut, put, Conn};
use crate::sys::{self, errno};

/// What [`read_fd_callback`] reads from: a socket, and whether its last
/// `read(2)` took less than there was room for (the socket held nothing more
/// at that moment).
pub(crate) struct FdIn {
    pub fd: c_int,
    pub short: bool,
}

impl FdIn {
    /// The `userdata` for [`read_fd_callback`] (typed, so no other value can be passed).
    pub(crate) fn userdata(&mut self) -> *mut c_void {
        userdata(self)
    }
}

/// The `rustls_read_callback` that reads from a socket: `userdata` is a
/// `*mut FdIn` from [`FdIn::userdata`].
pub(crate) unsafe extern "C" fn read_fd_callback(
    userdata: *mut c_void,
    buf: *mut u8,
    n: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&mut FdIn` we gave it, plus a valid buffer.
    let input = unsafe { &mut *(userdata as *mut FdIn) };
    let got = sys::read(input.fd, bytes_mut(buf, n));
    if got < 0 {
        return rustls_io_result(errno());
    }
    input.short = (got as usize) < n;
    put(out_n, got as usize);
    rustls_io_result(0)
}

/// What [`writev_fd_callback`] writes to: a socket, and optionally a tap that
/// sees the bytes sent (see [`crate::hello_tap::HelloTap`]).
pub(crate) struct FdOut<'a> {
    pub fd: c_int,
    pub tap: Option<&'a mut HelloTap>,
}

/// The `rustls_write_vectored_callback` that writes to a socket: one `writev(2)`
/// of every pending record; `userdata` is a `*mut FdOut`.
pub(crate) unsafe extern "C" fn writev_fd_callback(
    userdata: *mut c_void,
    iov: *const rustls_iovec,
    count: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&mut FdOut` we gave it for this call only.
    let out = unsafe { &mut *(userdata as *mut FdOut<'_>) };
    let count = count.min(1024); // IOV_MAX on Linux
                                 // sendmsg with MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE.
                                 // Non-sockets (pipes) fall back to writev.
                                 // SAFETY: msghdr is plain old data; all-zero is valid (no name, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov as *mut libc::iovec;
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at the `count` iovecs rustls-ffi gave us, valid for this call.
    // `rustls_iovec` is documented to have the layout of POSIX `struct iovec`.
    let mut sent = unsafe { libc::sendmsg(out.fd, &msg, libc::MSG_NOSIGNAL) };
    if sent < 0 && errno() == libc::ENOTSOCK {
        // SAFETY: as above.
        sent = unsafe { libc::writev(out.fd, iov as *const libc::iovec, count as c_int) };
    }
    if sent < 0 {
        return rustls_io_result(errno());
    }
    if let Some(tap) = out.tap.as_deref_mut() {
        let mut left = sent as usize;
        for i in 0..count {
            if left == 0 || tap.done() {
                break;
            }
            // SAFETY: `iov` holds `count` valid iovecs (see above).
            let v = unsafe { &*(iov as *const libc::iovec).add(i) };
            let take = v.iov_len.min(left);
            tap.feed(bytes(v.iov_base as *const u8, take));
            left -= take;
        }
    }
    put(out_n, sent as usize);
    rustls_io_result(0)
}

/// A byte cursor handed to rustls-ffi's read callback as `userdata`.
pub(crate) struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

/// The `rustls_read_callback` that reads from a [`Cursor`].
pub(crate) unsafe extern "C" fn read_cursor_callback(
    userdata: *mut c_void,
    buf: *mut u8,
    n: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&mut Cursor` we gave it for this call only.
    let cursor = unsafe { &mut *(userdata as *mut Cursor<'_>) };
    let rest = &cursor.data[cursor.pos..];
    let take = rest.len().min(n);
    bytes_mut(buf, take).copy_from_slice(&rest[..take]);
    cursor.pos += take;
    put(out_n, take);
    rustls_io_result(0)
}

/// `rustls_connection_read_tls` from `cursor` (rustls takes at most 4 KiB
/// per call): the byte count, or the errno rustls-ffi reports.
pub(crate) fn read_tls_from(conn: Conn, cursor: &mut Cursor<'_>) -> Result<usize, c_int> {
    let mut n = 0usize;
    let rc = rustls_ffi::connection::rustls_connection::rustls_connection_read_tls(
        conn,
        Some(read_cursor_callback),
        userdata(cursor),
        &mut n,
    );
    if rc.0 == 0 {
        Ok(n)
    } else {
        Err(rc.0)
    }
}

/// Copies queued ciphertext into `buf` until it is full or the queue is
/// empty; returns the byte count.
pub(crate) fn write_tls_into(conn: Conn, buf: &mut [u8]) -> usize {
    let mut sink = Sink { data: buf, pos: 0 };
    while sink.pos < sink.data.len()
        && rustls_ffi::connection::rustls_connection::rustls_connection_wants_write(conn)
    {
        let mut n = 0usize;
        let rc = rustls_ffi::connection::rustls_connection::rustls_connection_write_tls(
            conn,
            Some(write_sink_callback),
            userdata(&mut sink),
            &mut n,
        );
        if rc.0 != 0 || n == 0 {
            break;
        }
    }
    sink.pos
}

/// A writable window handed to rustls-ffi's write callback as `userdata`.
pub(crate) struct Sink<'a> {
    pub data: &'a mut [u8],
    pub pos: usize,
}

/// The `rustls_write_callback` that appends to a [`Sink`]; `EAGAIN` when full.
pub(crate) unsafe extern "C" fn write_sink_callback(
    userdata: *mut c_void,
    buf: *const u8,
    n: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&mut Sink` we gave it for this call only.
    let sink = unsafe { &mut *(userdata as *mut Sink<'_>) };
    let room = sink.data.len() - sink.pos;
    if room == 0 {
        return rustls_io_result(libc::EAGAIN);
    }
    let take = room.min(n);
    sink.data[sink.pos..sink.pos + take].copy_from_slice(&bytes(buf, take)[..take]);
    sink.pos += take;
    put(out_n, take);
    rustls_io_result(0)
}

/// Casts a Rust reference into the `void *userdata` rustls-ffi passes to callbacks.
pub(crate) fn userdata<T>(value: &mut T) -> *mut c_void {
    value as *mut T as *mut c_void
}

/// The `rustls_write_callback` that writes to a socket; `userdata` is a `*const c_int` fd.
pub(crate) unsafe extern "C" fn write_fd_callback(
    userdata: *mut c_void,
    buf: *const u8,
    n: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&c_int` we gave it, plus `n` readable bytes.
    let fd = unsafe { *(userdata as *const c_int) };
    let data = bytes(buf, n);
    let mut sent = sys::send(fd, data);
    if sent < 0 && errno() == libc::ENOTSOCK {
        // SAFETY: `data` is a valid readable slice.
        sent = unsafe { libc::write(fd, data.as_ptr() as *const c_void, data.len()) };
    }
    if sent < 0 {
        return rustls_io_result(errno());
    }
    put(out_n, sent as usize);
    rustls_io_result(0)
}
