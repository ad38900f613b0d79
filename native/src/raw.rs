//! Every `unsafe` operation of the crate, each behind a small function whose
//! contract is written next to it. The rest of the crate is safe Rust.

use libc::{c_int, c_void};
use rustls_ffi::io::rustls_iovec;
use rustls_ffi::rustls_io_result;

use crate::{RESULT_INSUFFICIENT_SIZE, RESULT_NULL_PARAMETER, RESULT_OK};

/// The calling thread's last OS error number.
pub(crate) fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Writes `value` through `out` when it is not NULL.
pub(crate) fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: the C caller passes either NULL or a valid, aligned, writable `T`.
        unsafe { out.write(value) }
    }
}

/// Reads a pointer out-parameter back (NULL gives NULL).
pub(crate) fn read_out<T>(ptr: *const *mut T) -> *mut T {
    if ptr.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a non-null out-parameter points to a valid, initialised pointer (just written).
    unsafe { ptr.read() }
}

/// Borrows `len` bytes at `ptr` (NULL or zero length gives an empty slice).
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the C caller guarantees `ptr` points to `len` readable bytes that
    // stay valid and unaliased for the duration of the call.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Borrows `len` writable bytes at `ptr` (NULL or zero length gives an empty slice).
pub(crate) fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
    if ptr.is_null() || len == 0 {
        return &mut [];
    }
    // SAFETY: the C caller guarantees `ptr` points to `len` writable bytes that
    // are not otherwise accessed for the duration of the call.
    unsafe { std::slice::from_raw_parts_mut(ptr, len) }
}

/// Copies `src` into the caller's buffer `buf` of `cap` bytes and writes the
/// full length to `out_n`; `RUSTLS_RESULT_INSUFFICIENT_SIZE` when it does not fit
/// (nothing copied, `out_n` still tells the size needed).
pub(crate) fn copy_out(src: &[u8], buf: *mut u8, cap: usize, out_n: *mut usize) -> u32 {
    if out_n.is_null() {
        return RESULT_NULL_PARAMETER;
    }
    put(out_n, src.len());
    if src.len() > cap {
        return RESULT_INSUFFICIENT_SIZE;
    }
    bytes_mut(buf, src.len()).copy_from_slice(src);
    RESULT_OK
}

/// Views a `rustls_str` returned by rustls-ffi as bytes; valid until the next
/// mutating call on the object it came from.
pub(crate) fn rustls_str_bytes<'a>(s: &rustls_ffi::rslice::rustls_str<'a>) -> &'a [u8] {
    // SAFETY: rustls-ffi builds every `rustls_str` from a live `&str`.
    let text: &str = unsafe { s.to_str() };
    // SAFETY: the bytes live as long as the `rustls_str` says (`'a`).
    unsafe { std::slice::from_raw_parts(text.as_ptr(), text.len()) }
}

/// `read(2)` into `buf`.
pub(crate) fn sys_read(fd: c_int, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is a valid writable slice.
    unsafe { libc::read(fd, buf.as_mut_ptr() as *mut c_void, buf.len()) }
}

/// The `rustls_read_callback` used by [`crate::io`]: `userdata` is a `*const c_int` fd.
pub(crate) unsafe extern "C" fn read_fd_callback(
    userdata: *mut c_void,
    buf: *mut u8,
    n: usize,
    out_n: *mut usize,
) -> rustls_io_result {
    // SAFETY: rustls-ffi passes back the `&c_int` we gave it, plus a valid buffer.
    let fd = unsafe { *(userdata as *const c_int) };
    let got = sys_read(fd, bytes_mut(buf, n));
    if got < 0 {
        return rustls_io_result(errno());
    }
    put(out_n, got as usize);
    rustls_io_result(0)
}

/// What [`writev_fd_callback`] writes to: a socket, and optionally a tap that
/// sees the bytes sent (see [`crate::hello_tap::HelloTap`]).
pub(crate) struct FdOut<'a> {
    pub fd: c_int,
    pub tap: Option<&'a mut crate::hello_tap::HelloTap>,
}

/// The `rustls_write_vectored_callback` used by [`crate::io`]: one `writev(2)`
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

/// A C string argument (NUL-terminated, UTF-8) as `&str`.
pub(crate) fn c_text<'a>(ptr: *const libc::c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the C caller passes a NUL-terminated string valid for the call.
    unsafe { std::ffi::CStr::from_ptr(ptr) }.to_str().ok()
}

/// Thin, safe-signature wrappers over the socket system calls the crate uses.
pub(crate) mod sys {
    use super::*;

    /// `socket(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`.
    pub fn socket(domain: c_int, kind: c_int) -> c_int {
        // SAFETY: plain system call with integer arguments.
        unsafe { libc::socket(domain, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) }
    }

    /// `setsockopt(2)` with an `int` value.
    pub fn set_int_option(fd: c_int, level: c_int, name: c_int, value: c_int) -> c_int {
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
    pub fn readable_now(fd: c_int) -> c_int {
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
    pub fn take_error(fd: c_int) -> c_int {
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
    pub fn connect(fd: c_int, addr: &libc::sockaddr_storage, len: libc::socklen_t) -> c_int {
        // SAFETY: `addr` is a fully initialised sockaddr of `len` bytes.
        unsafe { libc::connect(fd, addr as *const _ as *const libc::sockaddr, len) }
    }

    /// `bind(2)`.
    pub fn bind(fd: c_int, addr: &libc::sockaddr_storage, len: libc::socklen_t) -> c_int {
        // SAFETY: `addr` is a fully initialised sockaddr of `len` bytes.
        unsafe { libc::bind(fd, addr as *const _ as *const libc::sockaddr, len) }
    }

    /// `listen(2)`.
    pub fn listen(fd: c_int, backlog: c_int) -> c_int {
        // SAFETY: plain system call with integer arguments.
        unsafe { libc::listen(fd, backlog) }
    }

    /// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`, discarding the address.
    pub fn accept(fd: c_int) -> c_int {
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
    pub fn name(fd: c_int, peer: bool, out: &mut libc::sockaddr_storage) -> c_int {
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
    pub fn zeroed_storage() -> libc::sockaddr_storage {
        // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
        unsafe { std::mem::zeroed() }
    }

    /// Reinterprets storage as the IPv4 form.
    pub fn as_v4(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_in {
        // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
        unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in) }
    }

    /// Reinterprets storage as the IPv6 form.
    pub fn as_v6(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_in6 {
        // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
        unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in6) }
    }

    /// Reinterprets storage as the Unix-domain form.
    pub fn as_unix(storage: &mut libc::sockaddr_storage) -> &mut libc::sockaddr_un {
        // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
        unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_un) }
    }

    /// `recv(2)` with `MSG_PEEK`: the next bytes of a socket, left in it.
    pub fn peek(fd: c_int, buf: &mut [u8]) -> isize {
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
    pub fn shutdown(fd: c_int, how: c_int) -> c_int {
        // SAFETY: plain system call with integer arguments.
        unsafe { libc::shutdown(fd, how) }
    }

    /// Sets `O_NONBLOCK` on `fd`.
    pub fn set_nonblocking(fd: c_int) -> c_int {
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
    pub fn send(fd: c_int, data: &[u8]) -> isize {
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
    pub fn lower_thread_priority(nice: c_int) {
        // SAFETY: plain system calls; gettid has no arguments and setpriority
        // with PRIO_PROCESS and a thread id affects only that thread on Linux.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, nice);
        }
    }

    /// `close(2)`.
    pub fn close(fd: c_int) -> c_int {
        // SAFETY: plain system call; the caller owns `fd`.
        unsafe { libc::close(fd) }
    }

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn epoll_create() -> c_int {
        // SAFETY: plain system call with integer arguments.
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }
    }

    /// `epoll_ctl(2)`.
    pub fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, events: u32, token: u64) -> c_int {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `event` is a valid epoll_event for the call.
        unsafe { libc::epoll_ctl(epfd, op, fd, &mut event) }
    }

    /// `epoll_wait(2)` into `events`.
    pub fn epoll_wait(epfd: c_int, events: &mut [libc::epoll_event], timeout_ms: c_int) -> c_int {
        // SAFETY: `events` is a writable array of its length.
        unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), events.len() as c_int, timeout_ms) }
    }

    /// A non-blocking, close-on-exec `AF_UNIX` stream socket pair, or the errno.
    pub fn socketpair() -> Result<[c_int; 2], c_int> {
        let mut fds = [-1 as c_int; 2];
        let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: `fds` is a writable array of two ints, as socketpair(2) needs.
        if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } < 0 {
            return Err(super::errno());
        }
        Ok(fds)
    }

    /// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
    pub fn eventfd() -> c_int {
        // SAFETY: plain system call with integer arguments.
        unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }
    }

    /// Adds one to an eventfd's counter.
    pub fn eventfd_signal(fd: c_int) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a stack value.
        unsafe { libc::write(fd, &one as *const u64 as *const c_void, 8) };
    }

    /// Resets an eventfd's counter.
    pub fn eventfd_drain(fd: c_int) {
        let mut value: u64 = 0;
        // SAFETY: reads 8 bytes into a stack value.
        unsafe { libc::read(fd, &mut value as *mut u64 as *mut c_void, 8) };
    }
}

/// A plain C function pointer JS hands us (Bun's threadsafe `JSCallback`).
pub(crate) type Signal = extern "C" fn();

/// Wraps the raw pointer of a `rustls_connection` so it can be named in safe code.
pub(crate) type Conn = *mut rustls_ffi::connection::rustls_connection;

/// Leaks `value` to C as an owned pointer; pair with [`free_box`].
pub(crate) fn into_box<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Borrows an object made by [`into_box`]; `None` for NULL.
pub(crate) fn box_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the C caller passes NULL or a live pointer from `into_box`.
    unsafe { ptr.as_ref() }
}

/// Frees an object made by [`into_box`]; NULL is ignored.
pub(crate) fn free_box<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the C caller passes a pointer from `into_box`, exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }
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

/// A raw pointer that may cross to a worker thread. JS hands an object to a
/// job and does not touch it until the job's completion event arrives, so
/// exactly one thread uses it at a time.
pub(crate) struct Handoff<T>(pub *mut T);

// SAFETY: see the type's contract: the pointee is used by one thread at a time.
unsafe impl<T> Send for Handoff<T> {}

/// The `CryptoProvider` behind a `rustls_crypto_provider` pointer.
/// rustls-ffi (pinned to =0.15.7) hands these out as `Arc::into_raw` of a
/// `rustls::crypto::CryptoProvider` (its `Castable` with `OwnershipArc`).
pub(crate) fn provider_ref<'a>(
    ptr: *const rustls_ffi::crypto_provider::rustls_crypto_provider,
) -> Option<&'a rustls::crypto::CryptoProvider> {
    // SAFETY: see above; the caller keeps its reference alive for the call.
    unsafe { (ptr as *const rustls::crypto::CryptoProvider).as_ref() }
}

/// A new `rustls_crypto_provider` in rustls-ffi's representation (see
/// [`provider_ref`]), released with `rustls_crypto_provider_free`.
pub(crate) fn provider_into_ffi(
    provider: rustls::crypto::CryptoProvider,
) -> *const rustls_ffi::crypto_provider::rustls_crypto_provider {
    std::sync::Arc::into_raw(std::sync::Arc::new(provider)) as *const _
}

/// The verifier behind a `rustls_server_cert_verifier` pointer. rustls-ffi
/// (=0.15.7) hands these out as `Box::into_raw` of an
/// `Arc<dyn ServerCertVerifier>` (its `Castable` with `OwnershipBox`).
pub(crate) fn server_verifier_ref<'a>(
    ptr: *const rustls_ffi::verifier::rustls_server_cert_verifier,
) -> Option<&'a std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>> {
    // SAFETY: see above; the caller keeps its verifier alive for the call.
    unsafe {
        (ptr as *const std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>).as_ref()
    }
}

/// A new `rustls_server_cert_verifier` in rustls-ffi's representation (see
/// [`server_verifier_ref`]), freed with `rustls_server_cert_verifier_free`.
pub(crate) fn server_verifier_into_ffi(
    verifier: std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>,
) -> *mut rustls_ffi::verifier::rustls_server_cert_verifier {
    Box::into_raw(Box::new(verifier)) as *mut _
}
