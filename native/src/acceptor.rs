//! The server's first step, JS-friendly: read the ClientHello with rustls-ffi's
//! acceptor (so the certificate can be chosen by SNI / ALPN, even
//! asynchronously in JS), then turn it into a connection. Alerts for failed
//! hellos are sent here, so no `rustls_accepted_alert` reaches JS.

use libc::c_int;
use rustls_ffi::acceptor::{rustls_accepted, rustls_accepted_alert, rustls_acceptor};
use rustls_ffi::server::rustls_server_config;

use rustls_ffi::connection::rustls_connection as conn_api;

use crate::fd_io::FdWire;
use crate::io_callbacks::{self, Cursor, Sink};
use crate::pointers::{self, Conn};
use crate::record_io::{self, Wire};
use crate::{boundary, RESULT_IO, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC};

const RESULT_ACCEPTOR_NOT_READY: u32 = 7012;

/// Sends (best effort, the socket is non-blocking) and frees an alert.
fn send_alert_fd(alert: *mut rustls_accepted_alert, fd: c_int) {
    if alert.is_null() {
        return;
    }
    let mut fd_cell = fd;
    loop {
        let mut n = 0usize;
        let rc = rustls_accepted_alert::rustls_accepted_alert_write_tls(
            alert,
            Some(io_callbacks::write_fd_callback),
            io_callbacks::userdata(&mut fd_cell),
            &mut n,
        );
        if rc.0 != 0 || n == 0 {
            break;
        }
    }
    rustls_accepted_alert::rustls_accepted_alert_free(alert);
}

/// Copies an alert into `out` (best effort) and frees it; returns the byte count.
fn drain_alert(alert: *mut rustls_accepted_alert, out: &mut [u8]) -> usize {
    if alert.is_null() {
        return 0;
    }
    let mut sink = Sink { data: out, pos: 0 };
    loop {
        let mut n = 0usize;
        let rc = rustls_accepted_alert::rustls_accepted_alert_write_tls(
            alert,
            Some(io_callbacks::write_sink_callback),
            io_callbacks::userdata(&mut sink),
            &mut n,
        );
        if rc.0 != 0 || n == 0 {
            break;
        }
    }
    rustls_accepted_alert::rustls_accepted_alert_free(alert);
    sink.pos
}

/// Tries to accept; on a TLS error the alert is handed to `on_alert`.
fn try_accept(
    acceptor: *mut rustls_acceptor,
    out_accepted: *mut *mut rustls_accepted,
    on_alert: impl FnOnce(*mut rustls_accepted_alert),
) -> u32 {
    let mut accepted: *mut rustls_accepted = std::ptr::null_mut();
    let mut alert: *mut rustls_accepted_alert = std::ptr::null_mut();
    let rc = rustls_acceptor::rustls_acceptor_accept(acceptor, &mut accepted, &mut alert) as u32;
    if rc == RESULT_OK {
        pointers::put(out_accepted, accepted);
    } else {
        on_alert(alert);
    }
    rc
}

/// Reads ClientHello bytes from the non-blocking socket `fd` until the hello
/// is complete (`out_accepted` gets the `rustls_accepted`), the socket has no
/// more (`RUSTLS_RESULT_OK`, `out_accepted` untouched, READ_BLOCKED or
/// TRANSPORT_EOF in the `u32[4]` state block), or the hello is bad (its
/// `rustls_result`, after the alert was sent to `fd`).
///
/// Borrows `acceptor` for the call; the caller owns the `rustls_accepted` put
/// in `*out_accepted` and frees it with `rustls_accepted_free`; `state` must
/// hold four `u32`.
#[no_mangle]
pub extern "C" fn rustls_sockets_acceptor_recv_fd(
    acceptor: *mut rustls_acceptor,
    fd: c_int,
    out_accepted: *mut *mut rustls_accepted,
    state: *mut u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if acceptor.is_null() || out_accepted.is_null() || state.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut input = io_callbacks::FdIn { fd, short: false };
        let mut total = 0usize;
        loop {
            let mut n = 0usize;
            let rc = rustls_acceptor::rustls_acceptor_read_tls(
                acceptor,
                Some(io_callbacks::read_fd_callback),
                input.userdata(),
                &mut n,
            );
            let flags = match rc.0 {
                0 if n == 0 => record_io::RUSTLS_SOCKETS_IO_TRANSPORT_EOF,
                0 => 0,
                libc::EAGAIN => record_io::RUSTLS_SOCKETS_IO_READ_BLOCKED,
                libc::EINTR => continue,
                errno => {
                    write_state(state, total, errno, 0);
                    return RESULT_IO;
                }
            };
            total += n;
            if n > 0 {
                let rc = try_accept(acceptor, out_accepted, |alert| send_alert_fd(alert, fd));
                if rc != RESULT_ACCEPTOR_NOT_READY {
                    write_state(state, total, 0, 0);
                    return rc;
                }
            }
            if flags != 0 {
                write_state(state, total, 0, flags);
                return RESULT_OK;
            }
        }
    })
}

/// The buffer form of [`rustls_sockets_acceptor_recv_fd`]: feeds `len` bytes
/// at `buf` (all are taken) and tries to accept. On a bad hello the alert's
/// bytes are copied into `alert_buf` (`out_alert_n` gets their count).
///
/// Borrows `acceptor` and the `len` bytes at `buf` for the call; the caller
/// owns the `rustls_accepted` put in `*out_accepted` and frees it with
/// `rustls_accepted_free`; `alert_buf` must hold `alert_cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_acceptor_feed_tls(
    acceptor: *mut rustls_acceptor,
    buf: *const u8,
    len: usize,
    out_accepted: *mut *mut rustls_accepted,
    alert_buf: *mut u8,
    alert_cap: usize,
    out_alert_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if acceptor.is_null() || out_accepted.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        pointers::put(out_alert_n, 0);
        let mut cursor = Cursor {
            data: pointers::bytes(buf, len),
            pos: 0,
        };
        while cursor.pos < cursor.data.len() {
            let mut n = 0usize;
            let rc = rustls_acceptor::rustls_acceptor_read_tls(
                acceptor,
                Some(io_callbacks::read_cursor_callback),
                io_callbacks::userdata(&mut cursor),
                &mut n,
            );
            if rc.0 != 0 || n == 0 {
                break;
            }
        }
        let alert_out = pointers::bytes_mut(alert_buf, alert_cap);
        let rc = try_accept(acceptor, out_accepted, |alert| {
            pointers::put(out_alert_n, drain_alert(alert, alert_out));
        });
        if rc == RESULT_ACCEPTOR_NOT_READY {
            RESULT_OK
        } else {
            rc
        }
    })
}

fn write_state(state: *mut u32, bytes: usize, errno: c_int, flags: u32) {
    let block = pointers::bytes_mut(state as *mut u8, 16);
    if block.len() == 16 {
        block[0..4].copy_from_slice(&(bytes as u32).to_ne_bytes());
        block[4..8].copy_from_slice(&errno.to_ne_bytes());
        block[8..12].copy_from_slice(&flags.to_ne_bytes());
        block[12..16].copy_from_slice(&0u32.to_ne_bytes());
    }
}

/// Copies what the ClientHello asked for into `buf`: the SNI name (`u16`
/// little-endian length + bytes; empty when absent), then the ALPN protocols
/// offered (`u16` count, then each as `u8` length + bytes).
///
/// Borrows `accepted` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_accepted_get_info(
    accepted: *const rustls_accepted,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if accepted.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let mut record = Vec::with_capacity(64);
        let sni = rustls_accepted::rustls_accepted_server_name(accepted);
        let sni = pointers::rustls_str_bytes(&sni);
        record.extend_from_slice(&(sni.len().min(u16::MAX as usize) as u16).to_le_bytes());
        record.extend_from_slice(&sni[..sni.len().min(u16::MAX as usize)]);
        let mut protocols = Vec::new();
        for i in 0.. {
            let p = rustls_accepted::rustls_accepted_alpn(accepted, i);
            if p.data.is_null() || p.len == 0 {
                // past the end: rustls-ffi returns an empty slice (protocols are never empty)
                break;
            }
            protocols.push(pointers::bytes(p.data, p.len));
        }
        record.extend_from_slice(&(protocols.len() as u16).to_le_bytes());
        for p in protocols {
            let len = p.len().min(255);
            record.push(len as u8);
            record.extend_from_slice(&p[..len]);
        }
        pointers::copy_out(&record, buf, cap, out_n)
    })
}

/// Makes the connection from `accepted` and processes the records that came
/// with its ClientHello; on failure sends the alert to `fd` (`out_conn`
/// stays NULL).
pub(crate) fn into_connection_fd(
    accepted: *mut rustls_accepted,
    config: *const rustls_server_config,
    fd: c_int,
    out_conn: &mut Conn,
) -> u32 {
    let mut alert: *mut rustls_accepted_alert = std::ptr::null_mut();
    let rc = {
        let _scope = crate::scope::enter(accepted);
        rustls_accepted::rustls_accepted_into_connection(accepted, config, out_conn, &mut alert)
            as u32
    };
    if rc == RESULT_OK {
        crate::side_table::rename(accepted, *out_conn);
        if fd >= 0 {
            let held = process_held_records(*out_conn, fd);
            if held != RESULT_OK {
                // Counted so that the counted free below balances.
                crate::live_objects::created(crate::live_objects::Kind::Connection);
                crate::lifecycle::rustls_sockets_connection_free(*out_conn);
                *out_conn = std::ptr::null_mut();
                return held;
            }
        }
    } else {
        crate::side_table::forget(accepted);
        send_alert_fd(alert, fd);
    }
    rc
}

/// Processes the records that came behind the ClientHello: the acceptor
/// read them with it and the new connection holds them, but no readability
/// of `fd` will announce them. On a TLS error the connection's first flight
/// and its alert are sent to `fd` (best effort) and the error is returned;
/// the caller frees the connection. Records rustls needs more of wait for
/// the socket as usual.
fn process_held_records(conn: Conn, fd: c_int) -> u32 {
    let _scope = crate::scope::enter(conn);
    let rc = conn_api::rustls_connection_process_new_packets(conn) as u32;
    if rc != RESULT_OK {
        let _ = FdWire::new(fd).flush(conn);
    }
    rc
}

/// `rustls_accepted_into_connection` that, on failure, sends the alert to
/// the socket `fd` (or, with `fd < 0`, copies it into `alert_buf`, its
/// length into `out_alert_n`) and frees it.
///
/// Uses up `accepted`'s hello but leaves it to the caller to free with
/// `rustls_accepted_free`; borrows `config` (the connection keeps its own
/// reference); the caller owns the connection put in `*out_conn` and frees it
/// with `rustls_sockets_connection_free`; `alert_buf` must hold `alert_cap`
/// bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_accepted_into_connection(
    accepted: *mut rustls_accepted,
    config: *const rustls_server_config,
    fd: c_int,
    out_conn: *mut Conn,
    alert_buf: *mut u8,
    alert_cap: usize,
    out_alert_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        pointers::put(out_alert_n, 0);
        let mut alert: *mut rustls_accepted_alert = std::ptr::null_mut();
        let rc = {
            let _scope = crate::scope::enter(accepted);
            rustls_accepted::rustls_accepted_into_connection(accepted, config, out_conn, &mut alert)
                as u32
        };
        if rc == RESULT_OK {
            crate::side_table::rename(accepted, pointers::read_out(out_conn));
            crate::live_objects::created(crate::live_objects::Kind::Connection);
            return rc;
        }
        crate::side_table::forget(accepted);
        if fd >= 0 {
            send_alert_fd(alert, fd);
        } else {
            pointers::put(
                out_alert_n,
                drain_alert(alert, pointers::bytes_mut(alert_buf, alert_cap)),
            );
        }
        rc
    })
}
