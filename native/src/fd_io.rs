//! TLS records over a non-blocking socket: the socket wire of the fused
//! record I/O loops (`record_io`), with read-ahead and the ServerHello taps'
//! peek, and the calls that run the loops over an fd
//! (`rustls_sockets_connection_recv_fd`, `rustls_sockets_connection_send_fd`).

use libc::c_int;
use rustls_ffi::connection::rustls_connection as conn_api;

use crate::hello_tap::Taps;
use crate::io_callbacks;
use crate::pointers::{self, Conn};
use crate::readahead::{self, ReadAhead};
use crate::record_io::{self, State, Wire};
use crate::sys;
use crate::{boundary, RESULT_NULL_PARAMETER, RESULT_PANIC};

/// A non-blocking socket.
pub(crate) struct FdWire {
    fd: c_int,
    taps: Option<Taps>,
    ahead: ReadAhead,
    /// The last `read(2)` of this call took less than it had room for.
    drained: bool,
}

impl FdWire {
    /// The socket `fd`.
    pub(crate) fn new(fd: c_int) -> Self {
        FdWire {
            fd,
            taps: None,
            ahead: ReadAhead::default(),
            drained: false,
        }
    }
}

/// How many bytes a tapped read looks at first (rustls reads at most this much at once).
const PEEK_SIZE: usize = 18 * 1024;

impl Wire for FdWire {
    fn read_tls(&mut self, conn: Conn, room: usize) -> Result<usize, c_int> {
        self.ahead.restore(conn);
        if self.ahead.holds_bytes() {
            return self.ahead.feed(conn);
        }
        // Not while handshaking: a call that completes the handshake stops
        // there, and bytes read ahead past it would wait for a call that a
        // caller polling the socket might never make.
        if self.taps.is_none() && !conn_api::rustls_connection_is_handshaking(conn) {
            let size = readahead::read_size(room);
            if size > 0 {
                let fed = self.ahead.fill(conn, self.fd, size);
                self.drained = self.ahead.filled_short();
                return fed;
            }
        }
        // While the server random is unknown, peek at what rustls is about to read.
        let mut peeked = Vec::new();
        if let Some(tap) = self.taps.as_mut().map(|t| &mut t.incoming) {
            if !tap.done() {
                peeked.resize(PEEK_SIZE, 0);
                let got = sys::peek(self.fd, &mut peeked);
                if got < 0 {
                    match sys::errno() {
                        libc::EAGAIN | libc::EINTR => {}
                        // A pipe, say: no peeking, so no server random from this side.
                        libc::ENOTSOCK => tap.fail(),
                        // The peek took the socket's pending error (a reset): report it here.
                        errno => return Err(errno),
                    }
                }
                peeked.truncate(got.max(0) as usize);
            }
        }
        let mut n = 0usize;
        let mut input = io_callbacks::FdIn {
            fd: self.fd,
            short: false,
        };
        let rc = conn_api::rustls_connection_read_tls(
            conn,
            Some(io_callbacks::read_fd_callback),
            input.userdata(),
            &mut n,
        );
        self.drained = input.short;
        if let Some(tap) = self.taps.as_mut().map(|t| &mut t.incoming) {
            if !tap.done() && rc.0 == 0 {
                tap.feed(&peeked[..n.min(peeked.len())]);
                if n > peeked.len() {
                    tap.fail(); // more arrived than was seen: the stream view is lost
                }
            }
        }
        if rc.0 == 0 {
            Ok(n)
        } else {
            Err(rc.0)
        }
    }

    fn flush(&mut self, conn: Conn) -> Result<bool, c_int> {
        let mut out = io_callbacks::FdOut {
            fd: self.fd,
            tap: self
                .taps
                .as_mut()
                .map(|t| &mut t.outgoing)
                .filter(|t| !t.done()),
        };
        while conn_api::rustls_connection_wants_write(conn) {
            let mut sent = 0usize;
            let rc = conn_api::rustls_connection_write_tls_vectored(
                conn,
                Some(io_callbacks::writev_fd_callback),
                io_callbacks::userdata(&mut out),
                &mut sent,
            );
            match rc.0 {
                0 => {}
                libc::EAGAIN => return Ok(false),
                libc::EINTR => continue,
                errno => return Err(errno),
            }
        }
        Ok(true)
    }

    fn taps(&mut self) -> &mut Option<Taps> {
        &mut self.taps
    }

    fn holds_input(&self) -> bool {
        self.ahead.holds_bytes()
    }

    fn drained(&self) -> bool {
        self.drained && !self.ahead.holds_bytes()
    }

    fn finish(&mut self, conn: Conn) {
        self.ahead.park(conn);
    }
}

/// Receives: delivers buffered plaintext into `buf` (capacity `cap`), reading
/// TLS records from the non-blocking socket `fd` and processing them until
/// `buf` is full, the socket has nothing more (a read that took less than its
/// room, once there is plaintext to deliver, counts), or the peer closed.
/// Plaintext of records before a bad one or a socket error is delivered
/// first (over as many calls as `cap` needs); the failure is the result of
/// the call after it, and of any send call in between. Handshake
/// messages that need an answer are answered on the way. With `cap == 0` it
/// only advances the handshake. A call that completes the handshake returns
/// right then, with the completing flight still queued (`WANTS_WRITE`): the
/// caller checks the peer before sending it (or discards it with
/// `rustls_sockets_connection_fatal_alert`).
///
/// Returns `RUSTLS_RESULT_OK`, a TLS error (any alert is sent before
/// returning), `RUSTLS_RESULT_UNEXPECTED_EOF`, or `RUSTLS_RESULT_IO` with the
/// errno in the state block.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes, `state` four
/// `u32`; `fd` stays the caller's.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_recv_fd(
    conn: Conn,
    fd: c_int,
    buf: *mut u8,
    cap: u32,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut block = State::default();
        let rc = record_io::recv(
            conn,
            &mut FdWire::new(fd),
            pointers::bytes_mut(buf, cap as usize),
            &mut block,
        );
        record_io::store_state(state, &block);
        rc
    })
}

/// Sends: hands `len` plaintext bytes at `buf` to rustls (as many as its
/// buffer limit takes) and writes the resulting records to the non-blocking
/// socket `fd` until everything is sent or the socket blocks. With `len == 0`
/// it only flushes pending TLS data (handshake, close_notify, key update).
/// The state block's `bytes` is the number of plaintext bytes accepted.
///
/// Borrows `conn` for the call and the `len` bytes at `buf`; `state` must hold
/// four `u32`; `fd` stays the caller's.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_send_fd(
    conn: Conn,
    fd: c_int,
    buf: *const u8,
    len: u32,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut block = State::default();
        let rc = record_io::send(
            conn,
            &mut FdWire::new(fd),
            pointers::bytes(buf, len as usize),
            &mut block,
        );
        record_io::store_state(state, &block);
        rc
    })
}
