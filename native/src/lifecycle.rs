//! The counted constructors and destructors of connections and client and
//! server configurations: rustls-ffi's own, plus a live-object count
//! (`live_objects`). The module creates and frees these objects only
//! through the functions here (and the poller's jobs, which count too), so
//! tests can assert that each is freed exactly once. Freeing a connection
//! also drops its entry in the side table.

use rustls_ffi::client::{rustls_client_config, rustls_client_config_builder};
use rustls_ffi::server::{rustls_server_config, rustls_server_config_builder};

use crate::live_objects::{created, freed, Kind};
use crate::pointers::Conn;
use crate::side_table;
use crate::{boundary, RESULT_OK, RESULT_PANIC};

/// `rustls_connection_free`, counted. NULL is ignored.
///
/// Takes ownership of `conn`: it must not be used again.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_free(conn: Conn) {
    boundary((), || {
        if !conn.is_null() {
            freed(Kind::Connection);
            side_table::forget(conn);
            rustls_ffi::connection::rustls_connection::rustls_connection_free(conn);
        }
    })
}

/// `rustls_client_config_builder_build`, counted.
///
/// Takes ownership of `builder` whatever the result (it must not be used or
/// freed again); on success the caller owns `*out` and frees it with
/// `rustls_sockets_client_config_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_builder_build(
    builder: *mut rustls_client_config_builder,
    out: *mut *const rustls_client_config,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let rc =
            rustls_client_config_builder::rustls_client_config_builder_build(builder, out) as u32;
        if rc == RESULT_OK {
            created(Kind::ClientConfig);
        }
        rc
    })
}

/// `rustls_client_config_free`, counted. NULL is ignored.
///
/// Takes the caller's reference to `config` (connections made from it keep
/// their own): it must not be used again.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_free(config: *const rustls_client_config) {
    boundary((), || {
        if !config.is_null() {
            freed(Kind::ClientConfig);
            rustls_client_config::rustls_client_config_free(config);
        }
    })
}

/// `rustls_server_config_builder_build`, counted.
///
/// Takes ownership of `builder` whatever the result (it must not be used or
/// freed again); on success the caller owns `*out` and frees it with
/// `rustls_sockets_server_config_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_server_config_builder_build(
    builder: *mut rustls_server_config_builder,
    out: *mut *const rustls_server_config,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let rc =
            rustls_server_config_builder::rustls_server_config_builder_build(builder, out) as u32;
        if rc == RESULT_OK {
            created(Kind::ServerConfig);
        }
        rc
    })
}

/// `rustls_server_config_free`, counted. NULL is ignored.
///
/// Takes the caller's reference to `config` (connections made from it keep
/// their own): it must not be used again.
#[no_mangle]
pub extern "C" fn rustls_sockets_server_config_free(config: *const rustls_server_config) {
    boundary((), || {
        if !config.is_null() {
            freed(Kind::ServerConfig);
            rustls_server_config::rustls_server_config_free(config);
        }
    })
}

/// `rustls_client_connection_new`, counted.
///
/// Borrows `config` (the connection keeps its own reference) and `server_name`;
/// the caller owns the connection put in `*out` and frees it with
/// `rustls_sockets_connection_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_connection_new(
    config: *const rustls_client_config,
    server_name: *const libc::c_char,
    out: *mut Conn,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let rc =
            rustls_client_config::rustls_client_connection_new(config, server_name, out) as u32;
        if rc == RESULT_OK {
            created(Kind::Connection);
        }
        rc
    })
}
