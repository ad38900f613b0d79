//! TLS secrets per connection, for the key log and for exporter keying
//! material (RFC 8446 §7.5), neither of which rustls-ffi 0.15 offers per
//! connection: its key-log callback carries no user data. So every call of
//! this library that may make rustls derive secrets runs inside a
//! [`scope`] naming the connection; the callback files what rustls logs
//! under that name, and [`forget`] drops it when the connection is freed.
//!
//! Configurations opt in with `rustls_sockets_*_config_builder_capture_secrets`:
//! all labels (for a key log) or only `EXPORTER_SECRET`.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use rustls::crypto::tls13::OkmBlock;
use rustls::SupportedCipherSuite;
use rustls_ffi::client::rustls_client_config_builder;
use rustls_ffi::connection::rustls_connection as conn_api;
use rustls_ffi::rslice::rustls_str;
use rustls_ffi::server::rustls_server_config_builder;

use crate::raw::{self, Conn};
use crate::{
    boundary, RESULT_INSUFFICIENT_SIZE, RESULT_INVALID_PARAMETER, RESULT_NOT_FOUND,
    RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC,
};

const EXPORTER_LABEL: &str = "EXPORTER_SECRET";

struct Secret {
    label: String,
    client_random: Vec<u8>,
    secret: Vec<u8>,
    /// Already handed out by `take_key_log`.
    taken: bool,
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: do not leave key material behind in freed memory.
        self.secret.iter_mut().for_each(|b| *b = 0);
    }
}

static SECRETS: LazyLock<Mutex<HashMap<usize, Vec<Secret>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Details of a refused certificate chain, by connection (see `crate::verify`).
static FAILURES: LazyLock<Mutex<HashMap<usize, String>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Files `details` of a refused chain for the connection being processed.
pub(crate) fn note_failure(details: String) {
    let key = CURRENT.with(|c| c.get());
    if key == 0 {
        return;
    }
    if let Ok(mut map) = FAILURES.lock() {
        map.insert(key, details);
    }
}

/// The details filed for `conn`, if any.
pub(crate) fn failure_of<T>(conn: *const T) -> Option<String> {
    FAILURES.lock().ok()?.get(&(conn as usize)).cloned()
}

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// While alive, secrets rustls logs on this thread belong to `key`.
pub(crate) struct Scope(usize);

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Files secrets logged on this thread under `key` (a connection or a
/// `rustls_accepted`) until the returned guard is dropped.
pub(crate) fn scope<T>(key: *const T) -> Scope {
    Scope(CURRENT.with(|c| c.replace(key as usize)))
}

/// Drops what was filed under `key`.
pub(crate) fn forget<T>(key: *const T) {
    if let Ok(mut map) = SECRETS.lock() {
        map.remove(&(key as usize));
    }
    if let Ok(mut map) = FAILURES.lock() {
        map.remove(&(key as usize));
    }
}

/// Files what was logged under `from` under `to` (an accepted hello became a connection).
pub(crate) fn rename<T, U>(from: *const T, to: *const U) {
    if let Ok(mut map) = SECRETS.lock() {
        if let Some(list) = map.remove(&(from as usize)) {
            map.entry(to as usize).or_default().extend(list);
        }
    }
}

fn record(label: &[u8], client_random: &[u8], secret: &[u8]) {
    let key = CURRENT.with(|c| c.get());
    if key == 0 {
        return;
    }
    if let Ok(mut map) = SECRETS.lock() {
        map.entry(key).or_default().push(Secret {
            label: String::from_utf8_lossy(label).into_owned(),
            client_random: client_random.to_vec(),
            secret: secret.to_vec(),
            taken: false,
        });
    }
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
            raw::rustls_str_bytes(&label),
            raw::bytes(client_random, client_random_len),
            raw::bytes(secret, secret_len),
        )
    });
}

unsafe extern "C" fn log_everything(_label: rustls_str) -> libc::c_int {
    1
}

unsafe extern "C" fn log_exporter_only(label: rustls_str) -> libc::c_int {
    (raw::rustls_str_bytes(&label) == EXPORTER_LABEL.as_bytes()) as libc::c_int
}

fn callbacks(
    all: u32,
) -> (
    rustls_ffi::keylog::rustls_keylog_log_callback,
    rustls_ffi::keylog::rustls_keylog_will_log_callback,
) {
    let will: unsafe extern "C" fn(rustls_str) -> libc::c_int = if all != 0 {
        log_everything
    } else {
        log_exporter_only
    };
    (Some(log_secret), Some(will))
}

/// Makes connections of this client configuration file their secrets for
/// this library: every label when `all` is non-zero (a key log), else only
/// the TLS 1.3 exporter secret.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_builder_capture_secrets(
    builder: *mut rustls_client_config_builder,
    all: u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let (log, will) = callbacks(all);
        rustls_client_config_builder::rustls_client_config_builder_set_key_log(builder, log, will)
            as u32
    })
}

/// The server form of [`rustls_sockets_client_config_builder_capture_secrets`].
#[no_mangle]
pub extern "C" fn rustls_sockets_server_config_builder_capture_secrets(
    builder: *mut rustls_server_config_builder,
    all: u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let (log, will) = callbacks(all);
        rustls_server_config_builder::rustls_server_config_builder_set_key_log(builder, log, will)
            as u32
    })
}

fn hex(bytes: &[u8], out: &mut String) {
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
}

/// Copies the key log lines (NSS format: `LABEL <client random> <secret>`,
/// hex, one per line) filed for `conn` and not taken before into `buf`
/// (capacity `cap`, length in `out_n`), and marks them taken.
/// `RUSTLS_RESULT_INSUFFICIENT_SIZE` (nothing taken) when `buf` is too small.
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
        let Ok(mut map) = SECRETS.lock() else {
            return RESULT_PANIC;
        };
        let mut text = String::new();
        if let Some(list) = map.get_mut(&(conn as usize)) {
            for s in list.iter().filter(|s| !s.taken) {
                text.push_str(&s.label);
                text.push(' ');
                hex(&s.client_random, &mut text);
                text.push(' ');
                hex(&s.secret, &mut text);
                text.push('\n');
            }
            if text.len() > cap {
                raw::put(out_n, text.len());
                return RESULT_INSUFFICIENT_SIZE;
            }
            list.iter_mut().for_each(|s| s.taken = true);
            // Only the exporter secret is still needed.
            list.retain(|s| s.label == EXPORTER_LABEL);
        }
        raw::copy_out(text.as_bytes(), buf, cap, out_n)
    })
}

fn tls13_suite(id: u16) -> Option<&'static rustls::Tls13CipherSuite> {
    #[cfg(feature = "aws-lc-rs")]
    let all = rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES;
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
    all.iter().find_map(|s| match s {
        SupportedCipherSuite::Tls13(t) if u16::from(t.common.suite) == id => Some(*t),
        _ => None,
    })
}

/// HKDF-Expand-Label (RFC 8446 §7.1) into `out`.
fn expand_label(
    expander: &dyn rustls::crypto::tls13::HkdfExpander,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> bool {
    let length = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let context_len = [context.len() as u8];
    let info: [&[u8]; 6] = [&length, &label_len, b"tls13 ", label, &context_len, context];
    expander.expand_slice(&info, out).is_ok()
}

/// Exporter keying material (RFC 8446 §7.5, the TLS 1.3 form of RFC 5705)
/// of a TLS 1.3 connection whose configuration captures secrets: `len`
/// bytes into `out` for `label` and, when `has_context` is non-zero,
/// `context`. `RUSTLS_RESULT_NOT_FOUND` when no exporter secret was filed
/// (TLS 1.2, handshake not finished, or capture off);
/// `RUSTLS_RESULT_INVALID_PARAMETER` for a label over 249 bytes or more than
/// 255 hash lengths of output.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn rustls_sockets_connection_export_keying_material(
    conn: Conn,
    out: *mut u8,
    len: usize,
    label: *const u8,
    label_len: usize,
    context: *const u8,
    context_len: usize,
    has_context: u32,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || (out.is_null() && len > 0) {
            return RESULT_NULL_PARAMETER;
        }
        let label = raw::bytes(label, label_len);
        if label.len() > 249 || len > u16::MAX as usize {
            return RESULT_INVALID_PARAMETER;
        }
        let Some(suite) = tls13_suite(conn_api::rustls_connection_get_negotiated_ciphersuite(conn))
        else {
            return RESULT_NOT_FOUND;
        };
        let secret = {
            let Ok(map) = SECRETS.lock() else {
                return RESULT_PANIC;
            };
            let found = map
                .get(&(conn as usize))
                .and_then(|list| list.iter().find(|s| s.label == EXPORTER_LABEL));
            match found {
                Some(s) => OkmBlock::new(&s.secret),
                None => return RESULT_NOT_FOUND,
            }
        };
        // RFC 8446 §7.5: both with and without a context, Hash(context) (empty
        // when absent) goes into the second expansion.
        let _ = has_context;
        let context = raw::bytes(context, context_len);
        let hash = suite.common.hash_provider;
        let hkdf = suite.hkdf_provider;
        let mut derived = vec![0u8; hash.output_len()];
        let expander = hkdf.expander_for_okm(&secret);
        if !expand_label(
            expander.as_ref(),
            label,
            hash.hash(&[]).as_ref(),
            &mut derived,
        ) {
            return RESULT_INVALID_PARAMETER;
        }
        let expander = hkdf.expander_for_okm(&OkmBlock::new(&derived));
        derived.iter_mut().for_each(|b| *b = 0);
        let out = raw::bytes_mut(out, len);
        if !expand_label(
            expander.as_ref(),
            b"exporter",
            hash.hash(context).as_ref(),
            out,
        ) {
            return RESULT_INVALID_PARAMETER;
        }
        RESULT_OK
    })
}
