//! Exporter keying material (RFC 8446 §7.5, RFC 5705), which rustls-ffi
//! 0.15 does not offer, derived from the secrets `secrets` filed for a
//! connection whose configuration captures them (capture mode bit 4).

use rustls::crypto::tls13::OkmBlock;
use rustls::SupportedCipherSuite;
use rustls_ffi::connection::rustls_connection as conn_api;
use zeroize::Zeroizing;

use crate::key_schedule::{expand_label, suite};
use crate::pointers::{self, Conn};
use crate::secrets::{secret_of, EXPORTER_LABEL, MASTER_SECRET_LABEL};
use crate::server_random::server_random_of;
use crate::{
    boundary, RESULT_INVALID_PARAMETER, RESULT_NOT_FOUND, RESULT_NULL_PARAMETER, RESULT_OK,
    RESULT_PANIC,
};

/// Labels TLS 1.2 derives its own keys with (RFC 5705 §4, RFC 7627 §4):
/// exporting under one would hand out TLS's own key material.
pub const RESERVED_TLS12_EXPORTER_LABELS: [&str; 5] = [
    "client finished",
    "server finished",
    "master secret",
    "extended master secret",
    "key expansion",
];

/// Exporter keying material of a connection whose configuration captures
/// secrets: `len` bytes into `out` for `label` and, when `has_context` is
/// non-zero, `context`. TLS 1.3: RFC 8446 §7.5 from the exporter secret.
/// TLS 1.2: RFC 5705, the PRF over the master secret and both randoms.
/// `RUSTLS_RESULT_NOT_FOUND` when a secret is missing (handshake not
/// finished, capture off, or the server random was not seen);
/// `RUSTLS_RESULT_INVALID_PARAMETER` for a label over 249 bytes, a context
/// over 65535 bytes, too much output, or (TLS 1.2) a label TLS itself uses.
///
/// Borrows `conn` for the call and `label` and `context` (`label_len` and
/// `context_len` bytes); `out` must hold `len` bytes.
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
        let label = pointers::bytes(label, label_len);
        let context = pointers::bytes(context, context_len);
        if label.len() > 249 || len > u16::MAX as usize || context.len() > u16::MAX as usize {
            return RESULT_INVALID_PARAMETER;
        }
        let out = pointers::bytes_mut(out, len);
        match suite(conn_api::rustls_connection_get_negotiated_ciphersuite(conn)) {
            Some(SupportedCipherSuite::Tls13(suite)) => export13(conn, suite, out, label, context),
            Some(SupportedCipherSuite::Tls12(suite)) => export12(
                conn,
                suite,
                out,
                label,
                (has_context != 0).then_some(context),
            ),
            None => RESULT_NOT_FOUND,
        }
    })
}

fn export13(
    conn: Conn,
    suite: &rustls::Tls13CipherSuite,
    out: &mut [u8],
    label: &[u8],
    context: &[u8],
) -> u32 {
    let Some((_, secret)) = secret_of(conn, EXPORTER_LABEL) else {
        return RESULT_NOT_FOUND;
    };
    // RFC 8446 §7.5: with or without a context, Hash(context) (empty when absent).
    let hash = suite.common.hash_provider;
    let hkdf = suite.hkdf_provider;
    let mut derived = Zeroizing::new(vec![0u8; hash.output_len()]);
    let expander = hkdf.expander_for_okm(&OkmBlock::new(&secret));
    drop(secret);
    if !expand_label(
        expander.as_ref(),
        label,
        hash.hash(&[]).as_ref(),
        &mut derived,
    ) {
        return RESULT_INVALID_PARAMETER;
    }
    let expander = hkdf.expander_for_okm(&OkmBlock::new(&derived));
    drop(derived);
    if !expand_label(
        expander.as_ref(),
        b"exporter",
        hash.hash(context).as_ref(),
        out,
    ) {
        return RESULT_INVALID_PARAMETER;
    }
    RESULT_OK
}

fn export12(
    conn: Conn,
    suite: &rustls::Tls12CipherSuite,
    out: &mut [u8],
    label: &[u8],
    context: Option<&[u8]>,
) -> u32 {
    if RESERVED_TLS12_EXPORTER_LABELS
        .iter()
        .any(|reserved| reserved.as_bytes() == label)
    {
        return RESULT_INVALID_PARAMETER;
    }
    let Some((client_random, master_secret)) = secret_of(conn, MASTER_SECRET_LABEL) else {
        return RESULT_NOT_FOUND;
    };
    let Some(server_random) = server_random_of(conn) else {
        return RESULT_NOT_FOUND;
    };
    // RFC 5705 §4: PRF(master_secret, label, client_random + server_random [+ length + context]).
    let mut seed = client_random;
    seed.extend_from_slice(&server_random);
    if let Some(context) = context {
        seed.extend_from_slice(&(context.len() as u16).to_be_bytes());
        seed.extend_from_slice(context);
    }
    suite
        .prf_provider
        .for_secret(out, &master_secret, label, &seed);
    RESULT_OK
}
