//! Accessors that copy into caller buffers what rustls-ffi returns by value
//! (`rustls_str`, `rustls_slice_bytes`) or through borrowed pointers, ALPN
//! setters that take the wire format instead of an array of structs, and the
//! text of any result code.

use rustls_ffi::client::rustls_client_config_builder;
use rustls_ffi::connection::rustls_connection as conn_api;
use rustls_ffi::rslice::rustls_slice_bytes;
use rustls_ffi::server::rustls_server_config_builder;

use crate::pointers::{self, Conn};
use crate::{
    boundary, RESULT_INVALID_PARAMETER, RESULT_NOT_FOUND, RESULT_NULL_PARAMETER, RESULT_OK,
    RESULT_PANIC,
};

fn push_text(record: &mut Vec<u8>, text: &[u8]) {
    let len = text.len().min(u16::MAX as usize);
    record.extend_from_slice(&(len as u16).to_le_bytes());
    record.extend_from_slice(&text[..len]);
}

/// Copies a summary of the negotiated parameters into `buf`:
/// `u16 protocol_version, u16 cipher_suite, u16 key_exchange_group,
/// u8 handshake_kind, u8 0`, then four strings, each a little-endian `u16`
/// length and its bytes: cipher suite name, key exchange group name,
/// ALPN protocol, SNI server name (server connections). `out_n` gets the
/// record's length; `RUSTLS_RESULT_INSUFFICIENT_SIZE` when `cap` is too small.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_get_info(
    conn: Conn,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut record = Vec::with_capacity(96);
        record.extend_from_slice(
            &conn_api::rustls_connection_get_protocol_version(conn).to_le_bytes(),
        );
        record.extend_from_slice(
            &conn_api::rustls_connection_get_negotiated_ciphersuite(conn).to_le_bytes(),
        );
        record.extend_from_slice(
            &conn_api::rustls_connection_get_negotiated_key_exchange_group(conn).to_le_bytes(),
        );
        record.push(conn_api::rustls_connection_handshake_kind(conn) as u8);
        record.push(0);
        let suite = conn_api::rustls_connection_get_negotiated_ciphersuite_name(conn);
        push_text(&mut record, pointers::rustls_str_bytes(&suite));
        let group = conn_api::rustls_connection_get_negotiated_key_exchange_group_name(conn);
        push_text(&mut record, pointers::rustls_str_bytes(&group));
        let mut alpn_ptr: *const u8 = std::ptr::null();
        let mut alpn_len = 0usize;
        conn_api::rustls_connection_get_alpn_protocol(conn, &mut alpn_ptr, &mut alpn_len);
        push_text(&mut record, pointers::bytes(alpn_ptr, alpn_len));
        let sni = rustls_ffi::server::rustls_server_connection_get_server_name(conn);
        push_text(&mut record, pointers::rustls_str_bytes(&sni));
        pointers::copy_out(&record, buf, cap, out_n)
    })
}

/// Copies the DER of the peer's certificate number `index` (0 = leaf) into
/// `buf`. `RUSTLS_RESULT_NOT_FOUND` past the end of the chain;
/// `RUSTLS_RESULT_INSUFFICIENT_SIZE` (with the size in `out_n`) when `cap` is too small.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_copy_peer_certificate(
    conn: Conn,
    index: usize,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let cert = conn_api::rustls_connection_get_peer_certificate(conn, index);
        if cert.is_null() {
            return RESULT_NOT_FOUND;
        }
        let mut der: *const u8 = std::ptr::null();
        let mut der_len = 0usize;
        let rc = rustls_ffi::certificate::rustls_certificate_get_der(cert, &mut der, &mut der_len)
            as u32;
        if rc != RESULT_OK {
            return rc;
        }
        pointers::copy_out(pointers::bytes(der, der_len), buf, cap, out_n)
    })
}

/// Splits an ALPN list in wire format (each protocol preceded by its one-byte
/// length, as in the TLS extension) into slices.
fn parse_alpn_wire(wire: &[u8]) -> Option<Vec<rustls_slice_bytes<'_>>> {
    let mut list = Vec::new();
    let mut rest = wire;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if len == 0 || tail.len() < len {
            return None;
        }
        list.push(rustls_slice_bytes::from(&tail[..len]));
        rest = &tail[len..];
    }
    Some(list)
}

/// `rustls_client_config_builder_set_alpn_protocols` taking the ALPN list in
/// wire format (`len`-byte buffer of length-prefixed protocol names).
///
/// Borrows `builder` for the call; the `len` bytes at `wire` are copied.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_builder_set_alpn_protocols(
    builder: *mut rustls_client_config_builder,
    wire: *const u8,
    len: usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let Some(list) = parse_alpn_wire(pointers::bytes(wire, len)) else {
            return RESULT_INVALID_PARAMETER;
        };
        rustls_client_config_builder::rustls_client_config_builder_set_alpn_protocols(
            builder,
            list.as_ptr(),
            list.len(),
        ) as u32
    })
}

/// `rustls_server_config_builder_set_alpn_protocols` taking the ALPN list in
/// wire format (`len`-byte buffer of length-prefixed protocol names).
///
/// Borrows `builder` for the call; the `len` bytes at `wire` are copied.
#[no_mangle]
pub extern "C" fn rustls_sockets_server_config_builder_set_alpn_protocols(
    builder: *mut rustls_server_config_builder,
    wire: *const u8,
    len: usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let Some(list) = parse_alpn_wire(pointers::bytes(wire, len)) else {
            return RESULT_INVALID_PARAMETER;
        };
        rustls_server_config_builder::rustls_server_config_builder_set_alpn_protocols(
            builder,
            list.as_ptr(),
            list.len(),
        ) as u32
    })
}

/// Copies the error text for `result` (rustls-ffi's, or this library's own
/// for its own codes) into `buf`; `out_n` gets its length.
///
/// `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_error_text(
    result: u32,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if result == crate::RESULT_NOT_SUPPORTED {
            let text = b"not supported by this build of the library";
            return pointers::copy_out(text, buf, cap, out_n);
        }
        let mut text = [0u8; 512];
        let mut n = 0usize;
        rustls_ffi::rustls_result::rustls_error(
            result,
            text.as_mut_ptr() as *mut libc::c_char,
            text.len(),
            &mut n,
        );
        pointers::copy_out(&text[..n.min(text.len())], buf, cap, out_n)
    })
}

/// Copies this library's version (the crate's, which the TypeScript module
/// shares: the loader refuses a library of another version) into `buf`;
/// `out_n` gets its length.
///
/// `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_version(buf: *mut u8, cap: usize, out_n: *mut usize) -> u32 {
    boundary(RESULT_PANIC, || {
        // Read from the marked text in the file, never folded into code: a test
        // patches it to prove that a library of another version is refused.
        let text: &[u8] = std::hint::black_box(VERSION_TEXT);
        pointers::copy_out(&text[VERSION_MARK.len()..], buf, cap, out_n)
    })
}

/// What precedes the version in [`VERSION_TEXT`].
const VERSION_MARK: &str = "rustls-sockets version ";

/// The library's version, after a mark that finds it in the built file.
static VERSION_TEXT: &[u8] =
    concat!("rustls-sockets version ", env!("CARGO_PKG_VERSION")).as_bytes();

/// The pointer stored in the 8-byte cell at `cell` (an out-parameter the
/// caller passed as a buffer), returned as a pointer value: Deno creates
/// pointer objects from numbers only with unscoped `--allow-ffi`, while a
/// call into this library needs only the permission for its path.
///
/// Borrows `cell` for the call; the caller keeps owning what it points to.
#[no_mangle]
pub extern "C" fn rustls_sockets_pointer_from_cell(
    cell: *const *mut libc::c_void,
) -> *mut libc::c_void {
    boundary(std::ptr::null_mut(), || pointers::read_out(cell))
}
