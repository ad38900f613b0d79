//! The fused record I/O loops: one call moves TLS records between a wire
//! (a non-blocking socket, `fd_io`, or caller memory, `buffer_io`) and a
//! rustls connection, and plaintext between the connection and a caller
//! buffer, in one FFI crossing. They replace rustls-ffi's callback-based
//! `read_tls`/`write_tls` for a JS caller (no callback into JS, ever), and do
//! as much work per call as the wire has ready.
//!
//! Each call fills a `u32[4]` state block: `[bytes, errno, flags, 0]` where
//! `flags` is a set of the `RUSTLS_SOCKETS_IO_*` bits below.

use libc::c_int;
use rustls_ffi::connection::rustls_connection as conn_api;

use crate::hello_tap::Taps;
use crate::pointers::{self, Conn};
use crate::side_table;
use crate::{scope, server_random, RESULT_IO, RESULT_OK, RESULT_PLAINTEXT_EMPTY};

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
/// socket (`fd_io::FdWire`) or caller memory (`buffer_io::BufWire`).
pub(crate) trait Wire {
    /// Reads records into the connection: `Ok(n)` (0 = end of stream) or an
    /// errno (`EAGAIN`: nothing more right now). `room`: how much plaintext
    /// the caller can still take in this call.
    fn read_tls(&mut self, conn: Conn, room: usize) -> Result<usize, c_int>;
    /// Whether input was read that rustls has not taken yet.
    fn holds_input(&self) -> bool {
        false
    }
    /// Whether the last read emptied the wire (it took less than it had room
    /// for) and rustls took all of it: another read now would most likely
    /// find nothing.
    fn drained(&self) -> bool {
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

/// The receive loop of `rustls_sockets_connection_recv_fd` and
/// `rustls_sockets_connection_recv_buf`, over any wire: plaintext into
/// `out`, the outcome in `state`.
pub(crate) fn recv(conn: Conn, wire: &mut impl Wire, out: &mut [u8], state: &mut State) -> u32 {
    // Secrets rustls derives while processing records belong to this connection.
    let _scope = scope::enter(conn);
    *wire.taps() = server_random::begin_tap(conn);
    let rc = recv_inner(conn, wire, out, state);
    wire.finish(conn);
    server_random::end_tap(conn, wire.taps().take());
    rc
}

/// Keeps a failure met after plaintext this call delivers, for the next
/// call; `false` if it could not be kept (then it is reported now).
fn defer(conn: Conn, rc: u32, errno: c_int, flags: u32) -> bool {
    side_table::update(conn, |side| side.deferred = Some([rc, errno as u32, flags])).is_some()
}

/// The failure an earlier receive call met after the plaintext it delivered.
fn deferred(conn: Conn) -> Option<side_table::Deferred> {
    if !side_table::any_held_for_receive() {
        return None;
    }
    side_table::read(conn, |side| side.deferred).flatten()
}

/// One `rustls_connection_read` into `out`: its result and the count.
fn read_plaintext(conn: Conn, out: &mut [u8]) -> (u32, usize) {
    let mut n = 0usize;
    let rc = conn_api::rustls_connection_read(conn, out.as_mut_ptr(), out.len(), &mut n) as u32;
    (rc, n)
}

/// Copies the plaintext rustls holds into `out`; the count.
fn take_plaintext(conn: Conn, out: &mut [u8]) -> usize {
    let mut total = 0usize;
    while total < out.len() {
        match read_plaintext(conn, &mut out[total..]) {
            (RESULT_OK, n) if n > 0 => total += n,
            _ => break,
        }
    }
    total
}

fn recv_inner(conn: Conn, wire: &mut impl Wire, out: &mut [u8], state: &mut State) -> u32 {
    // Records are delivered in order: the plaintext before a bad record or a
    // reset reaches the caller first (over as many calls as its buffer needs),
    // then the failure ends a call.
    if let Some([rc, errno, flags]) = deferred(conn) {
        let n = take_plaintext(conn, out);
        if n > 0 {
            report(state, conn, n, 0, 0);
            return RESULT_OK;
        }
        side_table::update(conn, |side| side.deferred = None);
        report(state, conn, 0, errno as c_int, flags);
        return rc;
    }
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
                let (rc, n) = read_plaintext(conn, &mut out[total..]);
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
                    if total > 0 && defer(conn, RESULT_IO, errno, flags) {
                        break;
                    }
                    report(state, conn, total, errno, flags);
                    return RESULT_IO;
                }
            }
            // The last clause: with plaintext in hand after a read that emptied
            // the socket, the call returns; a read now would cost a system call
            // to find nothing (the next call reads whatever arrived meanwhile).
            if !conn_api::rustls_connection_wants_read(conn)
                || flags & RUSTLS_SOCKETS_IO_TRANSPORT_EOF != 0
                || (budget == 0 && !wire.holds_input())
                || (total > 0 && !was_handshaking && wire.drained())
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
                    if total > 0 && defer(conn, RESULT_IO, errno, flags) {
                        break;
                    }
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
                // The records before the bad one were good: their plaintext first.
                total += take_plaintext(conn, &mut out[total..]);
                if total > 0 && defer(conn, rc, 0, flags) {
                    break;
                }
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

/// The send loop of `rustls_sockets_connection_send_fd` and
/// `rustls_sockets_connection_send_buf`, over any wire: `data` to rustls,
/// records to the wire, the outcome in `state`.
pub(crate) fn send(conn: Conn, wire: &mut impl Wire, data: &[u8], state: &mut State) -> u32 {
    let _scope = scope::enter(conn);
    *wire.taps() = server_random::begin_tap(conn);
    let rc = send_inner(conn, wire, data, state);
    server_random::end_tap(conn, wire.taps().take());
    rc
}

fn send_inner(conn: Conn, wire: &mut impl Wire, data: &[u8], state: &mut State) -> u32 {
    // A receive call met a failure and delivered the plaintext before it
    // first: a write fails with that failure (rustls would only say `Io`).
    if let Some([rc, errno, flags]) = deferred(conn) {
        report(state, conn, 0, errno as c_int, flags);
        return rc;
    }
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
