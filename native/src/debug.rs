//! Live-object counters, so tests can assert that every native object the
//! module creates is freed exactly once. The module creates and frees
//! connections and configurations only through the counted functions here
//! (and the poller's jobs, which count too).

use std::sync::atomic::{AtomicI64, Ordering};

use rustls_ffi::client::{rustls_client_config, rustls_client_config_builder};
use rustls_ffi::server::{rustls_server_config, rustls_server_config_builder};

use crate::pointers::{self, Conn};
use crate::{boundary, RESULT_OK, RESULT_PANIC};

/// What the counters count.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Connection = 0,
    ClientConfig = 1,
    ServerConfig = 2,
}

static LIVE: [AtomicI64; 3] = [AtomicI64::new(0), AtomicI64::new(0), AtomicI64::new(0)];

/// One more live object of `kind`.
pub(crate) fn created(kind: Kind) {
    LIVE[kind as usize].fetch_add(1, Ordering::Relaxed);
}

/// One fewer live object of `kind`.
pub(crate) fn freed(kind: Kind) {
    LIVE[kind as usize].fetch_sub(1, Ordering::Relaxed);
}

/// Writes the live counts `[connections, client configs, server configs,
/// secrets filed]` into `out` (four `int64_t`; the last counts the TLS
/// secrets held for connections, see `crate::secrets`).
#[no_mangle]
pub extern "C" fn rustls_sockets_debug_live_objects(out: *mut i64) {
    boundary((), || {
        let dest = pointers::bytes_mut(out as *mut u8, 32);
        if dest.len() == 32 {
            for (i, counter) in LIVE.iter().enumerate() {
                dest[i * 8..i * 8 + 8]
                    .copy_from_slice(&counter.load(Ordering::Relaxed).to_ne_bytes());
            }
            let held = crate::secrets::held_count() as i64;
            dest[24..32].copy_from_slice(&held.to_ne_bytes());
        }
    })
}

/// `rustls_connection_free`, counted. NULL is ignored.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_free(conn: Conn) {
    boundary((), || {
        if !conn.is_null() {
            freed(Kind::Connection);
            crate::side_table::forget(conn);
            rustls_ffi::connection::rustls_connection::rustls_connection_free(conn);
        }
    })
}

/// `rustls_client_config_builder_build`, counted.
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
