//! Fused calls that move TLS records between a non-blocking socket and a
//! rustls connection, and plaintext between the connection and a caller
//! buffer, in one FFI crossing. They replace rustls-ffi's callback-based
//! `read_tls`/`write_tls` for a JS caller (no callback into JS, ever), and do
//! as much work per call as the socket allows.
//!
//! Each call fills a `u32[4]` state block: `[bytes, errno, flags, 0]` where
//! `flags` is a set of the `RUSTLS_SOCKETS_IO_*` bits below.

use libc::c_int;
use rustls_ffi::connection::rustls_connection as conn_api;

use crate::hello_tap::Taps;
use crate::io_callbacks::{self, Cursor, Sink};
use crate::pointers::{self, Conn};
use crate::readahead::{self, ReadAhead};
use crate::sys;
use crate::{
    boundary, RESULT_IO, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC, RESULT_PLAINTEXT_EMPTY,
};

/// The socket had nothing more to read (`EAGAIN`).
pub const RUSTLS_SOCKETS_IO_READ_BLOCKED: u32 = 1;
/// The socket would not take more bytes (`EAGAIN`) while TLS data is still pending.
pub const RUSTLS_SOCKETS_IO_WRITE_BLOCKED: u32 = 2;
/// The peer's close_notify was received and all plaintext before it was delivered.
pub const RUSTLS_SOCKETS_IO_PEER_CLOSED: u32 = 4;
/// The socket reported end of stream.
pub const RUSTLS_SOCKETS_IO_TRANSPORT_EOF: u32 = 8;
/// The connection is still handshaking after the call.
pub const RUSTLS_SOCKETS_IO_HANDSHAKING: u32 = 16;
/// The connection still has TLS data to send after the call.
pub const RUSTLS_SOCKETS_IO_WANTS_WRITE: u32 = 32;

/// How many ciphertext bytes one receive call reads at most, so one busy
/// connection cannot hold the event loop.
const RECV_BUDGET: usize = 1 << 20;

/// The `[bytes, errno, flags, 0]` outcome of one call.
pub(crate) type State = [u32; 4];

/// Fills the state block.
fn report(state: &mut State, conn: Conn, bytes: usize, errno: c_int, mut flags: u32) {
    if conn_api::rustls_connection_is_handshaking(conn) {
        flags |= RUSTLS_SOCKETS_IO_HANDSHAKING;
    }
    if conn_api::rustls_connection_wants_write(conn) {
        flags |= RUSTLS_SOCKETS_IO_WANTS_WRITE;
    }
    *state = [bytes as u32, errno as u32, flags, 0];
}

/// Copies a state block to the caller's `u32[4]`.
pub(crate) fn store_state(out: *mut u32, state: &State) {
    let block = pointers::bytes_mut(out as *mut u8, 16);
    if block.len() == 16 {
        for (i, value) in state.iter().enumerate() {
            block[i * 4..i * 4 + 4].copy_from_slice(&value.to_ne_bytes());
        }
    }
}

/// Where a connection's TLS records come from and go to: a non-blocking
/// socket ([`FdWire`]) or caller memory ([`BufWire`]).
pub(crate) trait Wire {
    /// Reads records into the connection: `Ok(n)` (0 = end of stream) or an
    /// errno (`EAGAIN`: nothing more right now). `room`: how much plaintext
    /// the caller can still take in this call.
    fn read_tls(&mut self, conn: Conn, room: usize) -> Result<usize, c_int>;
    /// Whether input was read that rustls has not taken yet.
    fn holds_input(&self) -> bool {
        false
    }
    /// The call ends: keeps input rustls has not taken for the next call.
    fn finish(&mut self, _conn: Conn) {}
    /// Writes pending records until none are left (`Ok(true)`) or the wire
    /// is full (`Ok(false)`); another errno on failure.
    fn flush(&mut self, conn: Conn) -> Result<bool, c_int>;
    /// Where the taps looking for the server random go while handshaking.
    fn taps(&mut self) -> &mut Option<Taps>;
}

/// A non-blocking socket.
pub(crate) struct FdWire {
    fd: c_int,
    taps: Option<Taps>,
    ahead: ReadAhead,
}

impl FdWire {
    /// The socket `fd`.
    pub(crate) fn new(fd: c_int) -> Self {
        FdWire {
            fd,
            taps: None,
            ahead: ReadAhead::default(),
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
                return self.ahead.fill(conn, self.fd, size);
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
        let mut fd_cell = self.fd;
        let rc = conn_api::rustls_connection_read_tls(
            conn,
            Some(io_callbacks::read_fd_callback),
            io_callbacks::userdata(&mut fd_cell),
            &mut n,
        );
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

    fn finish(&mut self, conn: Conn) {
        self.ahead.park(conn);
    }
}

/// Ciphertext in caller memory: records are read from `input` (end of
/// stream once it is used up and `eof` is set, else `EAGAIN`) and written
/// to `output` (`EAGAIN` when full).
pub(crate) struct BufWire<'a> {
    pub input: Cursor<'a>,
    pub eof: bool,
    pub output: Sink<'a>,
    taps: Option<Taps>,
}

impl<'a> BufWire<'a> {
    /// Reads records from `input` (end of stream after it when `eof`), writes them to `output`.
    pub(crate) fn new(input: &'a [u8], eof: bool, output: &'a mut [u8]) -> Self {
        BufWire {
            input: Cursor {
                data: input,
                pos: 0,
            },
            eof,
            output: Sink {
                data: output,
                pos: 0,
            },
            taps: None,
        }
    }
}

impl Wire for BufWire<'_> {
    fn read_tls(&mut self, conn: Conn, _room: usize) -> Result<usize, c_int> {
        if self.input.pos == self.input.data.len() && !self.eof {
            return Err(libc::EAGAIN);
        }
        let start = self.input.pos;
        let read = io_callbacks::read_tls_from(conn, &mut self.input);
        if let Some(taps) = self.taps.as_mut() {
            taps.incoming.feed(&self.input.data[start..self.input.pos]);
        }
        read
    }

    fn flush(&mut self, conn: Conn) -> Result<bool, c_int> {
        while conn_api::rustls_connection_wants_write(conn) {
            let start = self.output.pos;
            let mut n = 0usize;
            let rc = conn_api::rustls_connection_write_tls(
                conn,
                Some(io_callbacks::write_sink_callback),
                io_callbacks::userdata(&mut self.output),
                &mut n,
            );
            if let Some(taps) = self.taps.as_mut() {
                taps.outgoing
                    .feed(&self.output.data[start..self.output.pos]);
            }
            match rc.0 {
                0 if n > 0 => {}
                0 | libc::EAGAIN => return Ok(false),
                errno => return Err(errno),
            }
        }
        Ok(true)
    }

    fn taps(&mut self) -> &mut Option<Taps> {
        &mut self.taps
    }
}

/// Receives: delivers buffered plaintext into `buf` (capacity `cap`), reading
/// TLS records from the non-blocking socket `fd` and processing them until
/// `buf` is full, the socket has nothing more, or the peer closed. Handshake
/// messages that need an answer are answered on the way. With `cap == 0` it
/// only advances the handshake. A call that completes the handshake returns
/// right then, with the completing flight still queued (`WANTS_WRITE`): the
/// caller checks the peer before sending it (or discards it with
/// `rustls_sockets_connection_fatal_alert`).
///
/// Returns `RUSTLS_RESULT_OK`, a TLS error (any alert is sent before
/// returning), `RUSTLS_RESULT_UNEXPECTED_EOF`, or `RUSTLS_RESULT_IO` with the
/// errno in the state block.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_recv_fd(
    conn: Conn,
    fd: c_int,
    buf: *mut u8,
    cap: usize,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut block = State::default();
        let rc = recv(
            conn,
            &mut FdWire::new(fd),
            pointers::bytes_mut(buf, cap),
            &mut block,
        );
        store_state(state, &block);
        rc
    })
}

/// See [`rustls_sockets_connection_recv_fd`].
pub(crate) fn recv(conn: Conn, wire: &mut impl Wire, out: &mut [u8], state: &mut State) -> u32 {
    // Secrets rustls derives while processing records belong to this connection.
    let _scope = crate::scope::enter(conn);
    *wire.taps() = crate::server_random::begin_tap(conn);
    let rc = recv_inner(conn, wire, out, state);
    wire.finish(conn);
    crate::server_random::end_tap(conn, wire.taps().take());
    rc
}

fn recv_inner(conn: Conn, wire: &mut impl Wire, out: &mut [u8], state: &mut State) -> u32 {
    {
        let was_handshaking = conn_api::rustls_connection_is_handshaking(conn);
        if was_handshaking {
            // rustls may hold records it has not processed: those that came
            // in one segment with the ClientHello stay in the connection an
            // acceptor made. No readability will announce them, so they are
            // processed before the socket is asked for more.
            let rc = conn_api::rustls_connection_process_new_packets(conn) as u32;
            if rc != RESULT_OK {
                let _ = wire.flush(conn);
                report(state, conn, 0, 0, 0);
                return rc;
            }
            if !conn_api::rustls_connection_is_handshaking(conn) {
                report(state, conn, 0, 0, 0);
                return RESULT_OK;
            }
        }
        let mut total = 0usize;
        let mut flags = 0u32;
        let mut budget = RECV_BUDGET;
        loop {
            // 1. Hand over whatever plaintext rustls holds.
            if total < out.len() {
                let mut n = 0usize;
                let rc = conn_api::rustls_connection_read(
                    conn,
                    out[total..].as_mut_ptr(),
                    out.len() - total,
                    &mut n,
                ) as u32;
                if rc == RESULT_OK {
                    if n == 0 {
                        flags |= RUSTLS_SOCKETS_IO_PEER_CLOSED;
                        break;
                    }
                    total += n;
                    continue;
                } else if rc != RESULT_PLAINTEXT_EMPTY {
                    if total > 0 {
                        // Deliver what arrived first; rustls reports the
                        // condition (e.g. EOF without close_notify) again next call.
                        break;
                    }
                    report(state, conn, total, 0, flags);
                    return rc;
                }
            }
            if !out.is_empty() && total == out.len() {
                break;
            }
            // 2. Answer what the peer asked for (handshake flight, key update).
            match wire.flush(conn) {
                Ok(true) => {}
                Ok(false) => flags |= RUSTLS_SOCKETS_IO_WRITE_BLOCKED,
                Err(errno) => {
                    report(state, conn, total, errno, flags);
                    return RESULT_IO;
                }
            }
            if !conn_api::rustls_connection_wants_read(conn)
                || flags & RUSTLS_SOCKETS_IO_TRANSPORT_EOF != 0
                || (budget == 0 && !wire.holds_input())
            {
                break;
            }
            // 3. Read more records from the socket and process them.
            let n = match wire.read_tls(conn, out.len() - total) {
                Ok(n) => n,
                Err(libc::EAGAIN) => {
                    flags |= RUSTLS_SOCKETS_IO_READ_BLOCKED;
                    break;
                }
                Err(libc::EINTR) => continue,
                Err(errno) => {
                    report(state, conn, total, errno, flags);
                    return RESULT_IO;
                }
            };
            if n == 0 {
                flags |= RUSTLS_SOCKETS_IO_TRANSPORT_EOF;
            }
            budget = budget.saturating_sub(n);
            let rc = conn_api::rustls_connection_process_new_packets(conn) as u32;
            if rc != RESULT_OK {
                // Best effort: tell the peer why (rustls queued an alert).
                let _ = wire.flush(conn);
                report(state, conn, total, 0, flags);
                return rc;
            }
            if was_handshaking && !conn_api::rustls_connection_is_handshaking(conn) {
                // The flight that completes the handshake stays queued: the
                // caller checks the peer (verifyPeer, pins) before any of it
                // leaves, and a refused peer gets no Finished and no ticket.
                break;
            }
            if n == 0 && out.is_empty() {
                break;
            }
        }
        report(state, conn, total, 0, flags);
        RESULT_OK
    }
}

/// Sends: hands `len` plaintext bytes at `buf` to rustls (as many as its
/// buffer limit takes) and writes the resulting records to the non-blocking
/// socket `fd` until everything is sent or the socket blocks. With `len == 0`
/// it only flushes pending TLS data (handshake, close_notify, key update).
/// The state block's `bytes` is the number of plaintext bytes accepted.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_send_fd(
    conn: Conn,
    fd: c_int,
    buf: *const u8,
    len: usize,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut block = State::default();
        let rc = send(
            conn,
            &mut FdWire::new(fd),
            pointers::bytes(buf, len),
            &mut block,
        );
        store_state(state, &block);
        rc
    })
}

/// See [`rustls_sockets_connection_send_fd`].
pub(crate) fn send(conn: Conn, wire: &mut impl Wire, data: &[u8], state: &mut State) -> u32 {
    let _scope = crate::scope::enter(conn);
    *wire.taps() = crate::server_random::begin_tap(conn);
    let rc = send_inner(conn, wire, data, state);
    crate::server_random::end_tap(conn, wire.taps().take());
    rc
}

fn send_inner(conn: Conn, wire: &mut impl Wire, data: &[u8], state: &mut State) -> u32 {
    {
        let mut accepted = 0usize;
        let mut flags = 0u32;
        loop {
            let mut n = 0usize;
            if accepted < data.len() {
                let rc = conn_api::rustls_connection_write(
                    conn,
                    data[accepted..].as_ptr(),
                    data.len() - accepted,
                    &mut n,
                ) as u32;
                if rc != RESULT_OK {
                    report(state, conn, accepted, 0, flags);
                    return rc;
                }
                accepted += n;
            }
            match wire.flush(conn) {
                Ok(true) => {}
                Ok(false) => {
                    flags |= RUSTLS_SOCKETS_IO_WRITE_BLOCKED;
                    break;
                }
                Err(errno) => {
                    report(state, conn, accepted, errno, flags);
                    return RESULT_IO;
                }
            }
            if accepted >= data.len() || n == 0 {
                break;
            }
        }
        report(state, conn, accepted, 0, flags);
        RESULT_OK
    }
}
