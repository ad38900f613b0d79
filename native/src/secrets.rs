//! The TLS secrets rustls logs, captured per connection, which rustls-ffi
//! 0.15 cannot do (its key-log callback carries no user data): the callback
//! files each secret under the connection the thread works for (see
//! `scope`), in that connection's entry of the side table, which goes when
//! the connection is freed. The key log is read from here; exporter keying
//! material (`exporter`) and a late fatal alert (`alert`) derive their keys
//! from what is filed.
//!
//! Configurations opt in with `rustls_sockets_*_config_builder_capture_secrets`:
//! all labels (for a key log) or only what the exporter needs, plus, for
//! connections that may be refused after their handshake, the secrets of the
//! fatal alert that tells the peer.

use rustls_ffi::client::rustls_client_config_builder;
use rustls_ffi::rslice::rustls_str;
use rustls_ffi::server::rustls_server_config_builder;
use zeroize::Zeroizing;

use crate::pointers::{self, Conn};
use crate::scope;
use crate::side_table::{self, Secret};
use crate::{boundary, RESULT_INSUFFICIENT_SIZE, RESULT_NULL_PARAMETER, RESULT_PANIC};

/// TLS 1.3's key log label for the exporter secret.
pub(crate) const EXPORTER_LABEL: &str = "EXPORTER_SECRET";
/// TLS 1.2's key log label: the line's secret is the master secret.
pub(crate) const MASTER_SECRET_LABEL: &str = "CLIENT_RANDOM";
/// The TLS 1.3 secrets a late fatal alert may be encrypted under (`crate::alert`).
pub(crate) const ALERT_LABELS: [&str; 3] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
];
/// Capture mode bit: every label, for a key log.
pub const RUSTLS_SOCKETS_CAPTURE_ALL: u32 = 1;
/// Capture mode bit: the secrets of a late fatal alert.
pub const RUSTLS_SOCKETS_CAPTURE_ALERT: u32 = 2;
/// Capture mode bit: what exporter keying material needs.
pub const RUSTLS_SOCKETS_CAPTURE_EXPORTER: u32 = 4;
/// `rustls_sockets_connection_forget_secrets` bit: keep the exporter's secrets.
const KEEP_EXPORTER: u32 = 1;

/// How many secrets are filed right now, over all connections.
pub(crate) fn held_count() -> usize {
    side_table::total(|side| side.secrets.len())
}

fn record(label: &[u8], client_random: &[u8], secret: &[u8]) {
    let Some(key) = scope::current() else {
        return;
    };
    side_table::update(key, |side| {
        side.secrets.push(Secret {
            label: String::from_utf8_lossy(label).into_owned(),
            client_random: client_random.to_vec(),
            secret: Zeroizing::new(secret.to_vec()),
            taken: false,
        })
    });
}

unsafe extern "C" fn log_secret(
    label: rustls_str,
    client_random: *const u8,
    client_random_len: usize,
    secret: *const u8,
    secret_len: usize,
) {
    boundary((), || {
        record(
            pointers::rustls_str_bytes(&label),
            pointers::bytes(client_random, client_random_len),
            pointers::bytes(secret, secret_len),
        )
    });
}

unsafe extern "C" fn log_everything(_label: rustls_str) -> libc::c_int {
    1
}

fn is_exporter_label(label: &[u8]) -> bool {
    label == EXPORTER_LABEL.as_bytes() || label == MASTER_SECRET_LABEL.as_bytes()
}

fn is_alert_label(label: &[u8]) -> bool {
    // TLS 1.2's late alert is sealed under keys from the master secret.
    ALERT_LABELS.iter().any(|l| l.as_bytes() == label) || label == MASTER_SECRET_LABEL.as_bytes()
}

unsafe extern "C" fn log_nothing(_label: rustls_str) -> libc::c_int {
    0
}

unsafe extern "C" fn log_exporter_only(label: rustls_str) -> libc::c_int {
    is_exporter_label(pointers::rustls_str_bytes(&label)) as libc::c_int
}

unsafe extern "C" fn log_alert_only(label: rustls_str) -> libc::c_int {
    is_alert_label(pointers::rustls_str_bytes(&label)) as libc::c_int
}

unsafe extern "C" fn log_exporter_and_alert(label: rustls_str) -> libc::c_int {
    let label = pointers::rustls_str_bytes(&label);
    (is_exporter_label(label) || is_alert_label(label)) as libc::c_int
}

fn callbacks(
    mode: u32,
) -> (
    rustls_ffi::keylog::rustls_keylog_log_callback,
    rustls_ffi::keylog::rustls_keylog_will_log_callback,
) {
    let exporter = mode & RUSTLS_SOCKETS_CAPTURE_EXPORTER != 0;
    let alert = mode & RUSTLS_SOCKETS_CAPTURE_ALERT != 0;
    let will: unsafe extern "C" fn(rustls_str) -> libc::c_int =
        if mode & RUSTLS_SOCKETS_CAPTURE_ALL != 0 {
            log_everything
        } else if exporter && alert {
            log_exporter_and_alert
        } else if exporter {
            log_exporter_only
        } else if alert {
            log_alert_only
        } else {
            log_nothing
        };
    (Some(log_secret), Some(will))
}

/// Makes connections of this client configuration file their secrets for
/// this library. `mode` bit 1: every label (a key log); bit 2: the secrets of
/// a fatal alert after the handshake (`rustls_sockets_connection_fatal_alert`);
/// bit 4: what the exporter needs (TLS 1.3 exporter secret, TLS 1.2 master
/// secret). With no bit set nothing is filed.
///
/// Borrows `builder` for the call.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_builder_capture_secrets(
    builder: *mut rustls_client_config_builder,
    mode: u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let (log, will) = callbacks(mode);
        rustls_client_config_builder::rustls_client_config_builder_set_key_log(builder, log, will)
            as u32
    })
}

/// The server form of [`rustls_sockets_client_config_builder_capture_secrets`].
///
/// Borrows `builder` for the call.
#[no_mangle]
pub extern "C" fn rustls_sockets_server_config_builder_capture_secrets(
    builder: *mut rustls_server_config_builder,
    mode: u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let (log, will) = callbacks(mode);
        rustls_server_config_builder::rustls_server_config_builder_set_key_log(builder, log, will)
            as u32
    })
}

fn hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

/// Copies the key log lines (NSS format: `LABEL <client random> <secret>`,
/// hex, one per line) filed for `conn` and not taken before into `buf`
/// (capacity `cap`, length in `out_n`), and marks them taken.
/// `RUSTLS_RESULT_INSUFFICIENT_SIZE` (nothing taken) when `buf` is too small.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_take_key_log(
    conn: Conn,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || out_n.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        let outcome = side_table::update(conn, |side| {
            let list = &mut side.secrets;
            let mut text = Zeroizing::new(String::new());
            let pending = list.iter().filter(|s| !s.taken);
            let size: usize = pending
                .map(|s| s.label.len() + 2 * (s.client_random.len() + s.secret.len()) + 3)
                .sum();
            // Hex copies of secrets: one allocation (growing would leave unwiped
            // copies behind), wiped when dropped, the INSUFFICIENT_SIZE path included.
            text.reserve_exact(size);
            for s in list.iter().filter(|s| !s.taken) {
                text.push_str(&s.label);
                text.push(' ');
                hex(&s.client_random, &mut text);
                text.push(' ');
                hex(&s.secret, &mut text);
                text.push('\n');
            }
            if text.len() > cap {
                pointers::put(out_n, text.len());
                return RESULT_INSUFFICIENT_SIZE;
            }
            list.iter_mut().for_each(|s| s.taken = true);
            // Only the exporter's and a late alert's secrets are still needed.
            list.retain(|s| {
                is_exporter_label(s.label.as_bytes()) || is_alert_label(s.label.as_bytes())
            });
            pointers::copy_out(text.as_bytes(), buf, cap, out_n)
        });
        outcome.unwrap_or(RESULT_PANIC)
    })
}

/// Drops the secrets filed for `conn` once its handshake ended (the late
/// alert was sent or is no longer possible); with `keep` bit 1 the
/// exporter's secrets stay (the connection may still export keying material).
///
/// Borrows `conn` for the call.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_forget_secrets(conn: Conn, keep: u32) {
    boundary((), || {
        side_table::update(conn, |side| {
            if keep & KEEP_EXPORTER == 0 {
                side.secrets.clear();
            } else {
                side.secrets
                    .retain(|s| is_exporter_label(s.label.as_bytes()));
            }
        });
    })
}

/// The client random and secret filed for `conn` under `label`.
pub(crate) fn secret_of(conn: Conn, label: &str) -> Option<(Vec<u8>, Zeroizing<Vec<u8>>)> {
    side_table::read(conn, |side| {
        let found = side.secrets.iter().find(|s| s.label == label)?;
        Some((found.client_random.clone(), found.secret.clone()))
    })
    .flatten()
}
