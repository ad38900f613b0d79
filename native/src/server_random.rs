//! The server random of each connection: while a connection handshakes,
//! the fused I/O calls run the ServerHello taps (`hello_tap`) over its byte
//! stream, and what they saw is kept in the connection's entry of the side
//! table between calls, until the random is found.

use rustls_ffi::connection::rustls_connection as conn_api;

use crate::hello_tap::{server_random_by_side, Taps};
use crate::pointers::Conn;
use crate::side_table;

/// The taps of `conn` while it handshakes and its server random is unknown.
pub(crate) fn begin_tap(conn: Conn) -> Option<Taps> {
    if !conn_api::rustls_connection_is_handshaking(conn) {
        return None;
    }
    side_table::update(conn, |side| {
        if side.server_random.is_some() {
            None
        } else {
            Some(side.taps.take().unwrap_or_default())
        }
    })
    .flatten()
}

/// Keeps what the taps saw: the server random once found, else the taps.
pub(crate) fn end_tap(conn: Conn, taps: Option<Taps>) {
    let Some(taps) = taps else {
        return;
    };
    if let Some(random) = server_random_by_side(&taps) {
        side_table::update(conn, |side| side.server_random = Some(random));
    } else if !(taps.incoming.done() && taps.outgoing.done()) {
        side_table::update(conn, |side| side.taps = Some(taps));
    }
}

/// The server random seen on `conn`'s wire, if any.
pub(crate) fn server_random_of(conn: Conn) -> Option<[u8; 32]> {
    side_table::read(conn, |side| side.server_random).flatten()
}
