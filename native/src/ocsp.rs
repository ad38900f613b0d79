//! OCSP stapling. A server staples the response given beside a certificate
//! (rustls sends it to clients that ask, in TLS 1.2 and 1.3 alike); a
//! client's recording verifier (`verify`) files the response the server
//! stapled for the connection being processed, and JS takes it for
//! `HandshakeInfo.ocspResponse`. Responses are passed on, not judged: rustls
//! does not check them.

use rustls_ffi::certificate::rustls_certified_key;
use rustls_ffi::rslice::rustls_slice_bytes;

use crate::pointers::{self, Conn};
use crate::{
    boundary, scope, side_table, RESULT_INVALID_PARAMETER, RESULT_NOT_FOUND, RESULT_NULL_PARAMETER,
    RESULT_OK, RESULT_PANIC,
};

/// Files the OCSP response a server stapled for the connection being processed.
pub(crate) fn note_stapled(response: &[u8]) {
    if response.is_empty() {
        return;
    }
    let Some(key) = scope::current() else {
        return;
    };
    side_table::update(key, |side| side.ocsp_response = Some(response.to_vec()));
}

/// A copy of `key` that staples the DER OCSP response at `der` (`len`
/// bytes, not empty) to every handshake presenting it.
///
/// Borrows `key` and the `len` bytes at `der` for the call (the response is
/// copied); the caller owns the new key in `*out` and frees it with
/// `rustls_certified_key_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_certified_key_with_ocsp(
    key: *const rustls_certified_key,
    der: *const u8,
    len: usize,
    out: *mut *const rustls_certified_key,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if key.is_null() || der.is_null() || out.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        if len == 0 {
            return RESULT_INVALID_PARAMETER;
        }
        let response = rustls_slice_bytes::from(pointers::bytes(der, len));
        rustls_certified_key::rustls_certified_key_clone_with_ocsp(key, &response, out) as u32
    })
}

/// Moves the OCSP response the server stapled on `conn` into `buf` (`out_n`
/// gets its length; the library keeps no copy once it was taken);
/// `RUSTLS_RESULT_NOT_FOUND` when none was stapled (or it was taken),
/// `RUSTLS_RESULT_INSUFFICIENT_SIZE` (keeping it) when `cap` is too small.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_take_ocsp_response(
    conn: Conn,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        side_table::update(conn, |side| match &side.ocsp_response {
            None => RESULT_NOT_FOUND,
            Some(response) => {
                let result = pointers::copy_out(response, buf, cap, out_n);
                if result == RESULT_OK {
                    side.ocsp_response = None;
                }
                result
            }
        })
        .unwrap_or(RESULT_PANIC)
    })
}
