//! Ciphertext in and out of caller memory, for transports that are not a
//! socket of ours (runtime connections, Web Streams, pipes): the sans-IO form
//! of [`crate::io`], again without any callback into JS.

use rustls_ffi::connection::rustls_connection as conn_api;

use crate::raw::{self, Conn, Cursor, Sink};
use crate::{boundary, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC};

/// Feeds `len` ciphertext bytes at `buf` to the connection and processes
/// them. Stops early when rustls will not buffer more (its received plaintext
/// is full: read plaintext, then feed the rest). `out_n` gets the number of
/// bytes consumed. `len == 0` signals end of stream to rustls.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_feed_tls(
    conn: Conn,
    buf: *const u8,
    len: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || out_n.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut cursor = Cursor {
            data: raw::bytes(buf, len),
            pos: 0,
        };
        let eof = cursor.data.is_empty();
        loop {
            if !eof && cursor.pos == cursor.data.len() {
                break;
            }
            let mut n = 0usize;
            let rc = conn_api::rustls_connection_read_tls(
                conn,
                Some(raw::read_cursor_callback),
                raw::userdata(&mut cursor),
                &mut n,
            );
            if rc.0 != 0 {
                // rustls refuses more input until plaintext is read.
                break;
            }
            let rc = conn_api::rustls_connection_process_new_packets(conn) as u32;
            if rc != RESULT_OK {
                raw::put(out_n, cursor.pos);
                return rc;
            }
            if n == 0 {
                break;
            }
        }
        raw::put(out_n, cursor.pos);
        RESULT_OK
    })
}

/// Copies pending ciphertext (handshake, application data, alerts) into `buf`
/// of capacity `cap`; `out_n` gets the byte count. Call again while
/// `rustls_connection_wants_write` is true.
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
        let mut sink = Sink {
            data: raw::bytes_mut(buf, cap),
            pos: 0,
        };
        while sink.pos < sink.data.len() && conn_api::rustls_connection_wants_write(conn) {
            let mut n = 0usize;
            let rc = conn_api::rustls_connection_write_tls(
                conn,
                Some(raw::write_sink_callback),
                raw::userdata(&mut sink),
                &mut n,
            );
            if rc.0 != 0 || n == 0 {
                break;
            }
        }
        raw::put(out_n, sink.pos);
        RESULT_OK
    })
}
