//! TLS records in caller memory, for transports that are not a socket of
//! ours (runtime connections, Web Streams, pipes): the memory wire of the
//! fused record I/O loops (`record_io`) and the calls that run them over
//! caller buffers (`recv_buf`, `send_buf`), plus feeding and draining
//! ciphertext without them (`feed_tls`, `drain_tls`). The sans-IO form of
//! `fd_io`, again without any callback into JS.

use libc::c_int;
use rustls_ffi::connection::rustls_connection as conn_api;

use crate::hello_tap::Taps;
use crate::io_callbacks::{self, Cursor, Sink};
use crate::pointers::{self, Conn};
use crate::record_io::{self, State, Wire};
use crate::{boundary, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC};

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

/// Feeds `len` ciphertext bytes at `buf` to the connection and processes
/// them. Stops early when rustls will not buffer more (its received plaintext
/// is full: read plaintext, then feed the rest). `out_n` gets the number of
/// bytes consumed. `len == 0` signals end of stream to rustls.
///
/// Borrows `conn` and the `len` bytes at `buf` for the call.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_feed_tls(
    conn: Conn,
    buf: *const u8,
    len: u32,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || out_n.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let _scope = crate::scope::enter(conn);
        let mut cursor = Cursor {
            data: pointers::bytes(buf, len as usize),
            pos: 0,
        };
        let eof = cursor.data.is_empty();
        loop {
            if !eof && cursor.pos == cursor.data.len() {
                break;
            }
            let Ok(n) = io_callbacks::read_tls_from(conn, &mut cursor) else {
                // rustls refuses more input until plaintext is read.
                break;
            };
            let rc = conn_api::rustls_connection_process_new_packets(conn) as u32;
            if rc != RESULT_OK {
                pointers::put(out_n, cursor.pos);
                return rc;
            }
            if n == 0 {
                break;
            }
        }
        pointers::put(out_n, cursor.pos);
        RESULT_OK
    })
}

/// Copies pending ciphertext (handshake, application data, alerts) into `buf`
/// of capacity `cap`; `out_n` gets the byte count. Call again while
/// `rustls_connection_wants_write` is true.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_drain_tls(
    conn: Conn,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || out_n.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        pointers::put(
            out_n,
            io_callbacks::write_tls_into(conn, pointers::bytes_mut(buf, cap)),
        );
        RESULT_OK
    })
}

/// The state block of the buffer calls: `[bytes, errno, flags, 0, consumed,
/// produced, 0, 0]` — the `rustls_sockets_connection_recv_fd` block plus
/// the ciphertext bytes taken from `input` and written to `output`.
pub(crate) fn store_buf_state(out: *mut u32, state: &State, consumed: usize, produced: usize) {
    let block = pointers::bytes_mut(out as *mut u8, 32);
    if block.len() == 32 {
        let values = [
            state[0],
            state[1],
            state[2],
            state[3],
            consumed as u32,
            produced as u32,
            0,
            0,
        ];
        for (i, value) in values.iter().enumerate() {
            block[i * 4..i * 4 + 4].copy_from_slice(&value.to_ne_bytes());
        }
    }
}

/// `rustls_sockets_connection_recv_fd` for a transport whose
/// ciphertext is in caller memory: records are read from `input` (`in_len`
/// bytes; once they are used up the call stops with `READ_BLOCKED`, or sees
/// end of stream when `eof` is non-zero), plaintext goes to `plain` (capacity
/// `plain_cap`; 0 only advances the handshake), and records to send
/// (handshake answers, alerts, key updates) go to `output` (capacity
/// `out_cap`; when it fills the call stops with `WRITE_BLOCKED`). The
/// `u32[8]` `state` gets `[plaintext bytes, 0, flags, 0, consumed, produced, 0, 0]`.
///
/// Borrows `conn` for the call; `input`, `plain` and `output` must hold
/// `in_len`, `plain_cap` and `out_cap` bytes, `state` eight `u32`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn rustls_sockets_connection_recv_buf(
    conn: Conn,
    input: *const u8,
    in_len: u32,
    eof: u32,
    plain: *mut u8,
    plain_cap: u32,
    output: *mut u8,
    out_cap: u32,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut wire = BufWire::new(
            pointers::bytes(input, in_len as usize),
            eof != 0,
            pointers::bytes_mut(output, out_cap as usize),
        );
        let mut block = State::default();
        let rc = record_io::recv(
            conn,
            &mut wire,
            pointers::bytes_mut(plain, plain_cap as usize),
            &mut block,
        );
        store_buf_state(state, &block, wire.input.pos, wire.output.pos);
        rc
    })
}

/// `rustls_sockets_connection_send_fd` into caller memory:
/// hands `len` plaintext bytes at `data` to rustls and writes the records
/// to `output` (capacity `out_cap`; `WRITE_BLOCKED` when it fills). `len ==
/// 0` only flushes. The `u32[8]` `state` gets `[plaintext bytes accepted, 0,
/// flags, 0, 0, produced, 0, 0]`.
///
/// Borrows `conn` for the call; `data` and `output` must hold `len` and
/// `out_cap` bytes, `state` eight `u32`.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_send_buf(
    conn: Conn,
    data: *const u8,
    len: u32,
    output: *mut u8,
    out_cap: u32,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut wire = BufWire::new(&[], false, pointers::bytes_mut(output, out_cap as usize));
        let mut block = State::default();
        let rc = record_io::send(
            conn,
            &mut wire,
            pointers::bytes(data, len as usize),
            &mut block,
        );
        store_buf_state(state, &block, 0, wire.output.pos);
        rc
    })
}
