//! A fatal alert after rustls' handshake. Once rustls finished its handshake
//! it only sends `close_notify`, but a connection refused afterwards (by
//! `verifyPeer` or a public-key pin) should tell the peer why, with the alert
//! rustls itself would send for a refused certificate. So this module builds
//! that one record: the same AEAD and keys rustls uses, derived from the
//! secrets filed by `crate::secrets` (a configuration opts in with capture
//! mode bit 2).
//!
//! Which keys and which sequence number follow from where the handshake
//! stopped: the library's I/O calls leave the flight that completes the
//! handshake queued in rustls (they stop when the handshake finishes), and
//! the refusal comes before it is flushed. This call discards that flight
//! (a refused peer gets no Finished and no session ticket) and then:
//!
//! - TLS 1.3 client: its Finished was not sent, so the server still reads
//!   under the client handshake traffic secret: sequence 0.
//! - TLS 1.3 server: nothing was sent under the server application traffic
//!   secret yet (the session tickets were queued, now discarded): sequence 0.
//! - TLS 1.2, own ChangeCipherSpec still queued (full-handshake server,
//!   resumed client): the peer reads plaintext, so the alert is plaintext.
//! - TLS 1.2, ChangeCipherSpec sent: the own Finished used sequence 0 under
//!   the key block's write key (RFC 5246 §6.3), so the alert is sequence 1.
//!
//! This holds because nothing else can be sent under those keys before the
//! check: rustls sends TLS 1.3 tickets only after the client's Finished (in
//! the flight discarded here), and rustls-ffi 0.15 offers neither 0-RTT
//! early data nor half-RTT server data. Enabling either would break it.

#[cfg(feature = "aws-lc-rs")]
use aws_lc_rs::aead;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
use ring::aead;
use rustls::crypto::cipher::{Iv, Nonce};
use rustls::crypto::tls13::OkmBlock;
use rustls::SupportedCipherSuite;
use rustls_ffi::connection::rustls_connection as conn_api;

use crate::io_callbacks;
use crate::key_schedule;
use crate::pointers::{self, Conn};
use crate::secrets::{self, ALERT_LABELS, MASTER_SECRET_LABEL};
use crate::server_random::server_random_of;
use crate::{
    boundary, RESULT_INVALID_PARAMETER, RESULT_NOT_FOUND, RESULT_NULL_PARAMETER, RESULT_PANIC,
};
use zeroize::{Zeroize, Zeroizing};

const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
const CONTENT_ALERT: u8 = 21;
const CONTENT_APPLICATION_DATA: u8 = 23;
const LEVEL_FATAL: u8 = 2;
const TAG_LEN: usize = 16;

/// What the discarded queue held.
#[derive(Default)]
struct Discarded {
    change_cipher_spec: bool,
    encrypted: bool,
}

/// Takes every record rustls queued and drops it, noting what it held.
fn discard_queued(conn: Conn) -> Discarded {
    let mut queued = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = io_callbacks::write_tls_into(conn, &mut chunk);
        if n == 0 {
            break;
        }
        queued.extend_from_slice(&chunk[..n]);
    }
    let mut seen = Discarded::default();
    let mut at = 0usize;
    while at + 5 <= queued.len() {
        match queued[at] {
            CONTENT_CHANGE_CIPHER_SPEC => seen.change_cipher_spec = true,
            CONTENT_APPLICATION_DATA => seen.encrypted = true,
            _ => {}
        }
        at += 5 + u16::from_be_bytes([queued[at + 3], queued[at + 4]]) as usize;
    }
    chunk.zeroize();
    queued.zeroize();
    seen
}

/// The AEAD of a suite, by the name rustls gives it.
fn aead_of(suite: &SupportedCipherSuite) -> Option<&'static aead::Algorithm> {
    let name = suite.suite().as_str()?;
    if name.contains("AES_128_GCM") {
        Some(&aead::AES_128_GCM)
    } else if name.contains("AES_256_GCM") {
        Some(&aead::AES_256_GCM)
    } else if name.contains("CHACHA20_POLY1305") {
        Some(&aead::CHACHA20_POLY1305)
    } else {
        None
    }
}

/// Seals `in_out` in place (tag appended).
fn seal(
    alg: &'static aead::Algorithm,
    key: &[u8],
    nonce: [u8; 12],
    aad: &[u8],
    in_out: &mut Vec<u8>,
) -> Option<()> {
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(alg, key).ok()?);
    key.seal_in_place_append_tag(
        aead::Nonce::assume_unique_for_key(nonce),
        aead::Aad::from(aad),
        in_out,
    )
    .ok()
}

/// `iv` XOR the big-endian sequence number (RFC 8446 §5.3), as rustls computes it.
fn xor_nonce(iv: &[u8], seq: u64) -> Option<[u8; 12]> {
    Some(Nonce::new(&Iv::new(iv.try_into().ok()?), seq).0)
}

fn record(content_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A TLS 1.3 alert record under `secret` at sequence 0 (RFC 8446 §5.2, §7.3).
fn tls13_alert(
    suite: &'static rustls::Tls13CipherSuite,
    secret: &[u8],
    alert: [u8; 2],
) -> Option<Vec<u8>> {
    let alg = aead_of(&SupportedCipherSuite::Tls13(suite))?;
    let expander = suite.hkdf_provider.expander_for_okm(&OkmBlock::new(secret));
    let mut key = Zeroizing::new(vec![0u8; alg.key_len()]);
    let mut iv = Zeroizing::new([0u8; 12]);
    let derived = key_schedule::expand_label(expander.as_ref(), b"key", &[], &mut key)
        && key_schedule::expand_label(expander.as_ref(), b"iv", &[], &mut iv[..]);
    let mut inner = vec![alert[0], alert[1], CONTENT_ALERT];
    let header = [
        CONTENT_APPLICATION_DATA,
        3,
        3,
        0,
        (inner.len() + TAG_LEN) as u8,
    ];
    derived
        .then(|| seal(alg, &key, xor_nonce(&*iv, 0)?, &header, &mut inner))
        .flatten()?;
    Some(record(CONTENT_APPLICATION_DATA, &inner))
}

/// A TLS 1.2 alert record at sequence 1 under the write key of this side
/// (RFC 5246 §6.3 key block; GCM nonces per RFC 5288, ChaCha20 per RFC 7905).
fn tls12_alert(
    suite: &'static rustls::Tls12CipherSuite,
    conn: Conn,
    is_client: bool,
    alert: [u8; 2],
) -> Option<Vec<u8>> {
    const SEQ: u64 = 1;
    let alg = aead_of(&SupportedCipherSuite::Tls12(suite))?;
    let (client_random, master_secret) = secrets::secret_of(conn, MASTER_SECRET_LABEL)?;
    let server_random = server_random_of(conn)?;
    let shape = suite.aead_alg.key_block_shape();
    let (key_len, iv_len) = (shape.enc_key_len, shape.fixed_iv_len);
    let mut block = Zeroizing::new(vec![0u8; 2 * (key_len + iv_len) + shape.explicit_nonce_len]);
    let mut seed = server_random.to_vec();
    seed.extend_from_slice(&client_random);
    suite
        .prf_provider
        .for_secret(&mut block, &master_secret, b"key expansion", &seed);
    drop(master_secret);
    let side = usize::from(!is_client);
    let key = &block[side * key_len..(side + 1) * key_len];
    let iv_at = 2 * key_len + side * iv_len;
    let iv = &block[iv_at..iv_at + iv_len];
    let (nonce, explicit) = match (iv_len, shape.explicit_nonce_len) {
        // AES-GCM: 4-byte salt + 8-byte explicit nonce sent in the record (the sequence number).
        (4, 8) => {
            let mut nonce = [0u8; 12];
            nonce[..4].copy_from_slice(iv);
            nonce[4..].copy_from_slice(&SEQ.to_be_bytes());
            (Some(nonce), SEQ.to_be_bytes().to_vec())
        }
        // ChaCha20-Poly1305: the whole IV XOR the sequence number, nothing explicit.
        (12, 0) => (xor_nonce(iv, SEQ), Vec::new()),
        _ => (None, Vec::new()),
    };
    let mut aad = SEQ.to_be_bytes().to_vec();
    aad.extend_from_slice(&[CONTENT_ALERT, 3, 3, 0, 2]);
    let mut sealed = alert.to_vec();
    nonce.and_then(|nonce| seal(alg, key, nonce, &aad, &mut sealed))?;
    let mut payload = explicit;
    payload.extend_from_slice(&sealed);
    Some(record(CONTENT_ALERT, &payload))
}

/// Ends a connection whose handshake finished but whose peer this side
/// refuses: discards the records rustls queued (they must never leave) and
/// writes into `buf` (capacity `cap`; 64 bytes always suffice) the fatal
/// alert `description` (RFC 8446 §6; e.g. 42 bad_certificate, 49
/// access_denied) as the peer expects it now (see the module notes);
/// `out_n` gets its length. `is_client` tells the side. Send it, then close
/// the socket: the connection must not be used for anything else.
///
/// `RUSTLS_RESULT_NOT_FOUND` when the secrets were not captured (no mode bit
/// 2, or a TLS 1.2 server random the library did not see): send nothing.
/// `RUSTLS_RESULT_INVALID_PARAMETER` while still handshaking.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_fatal_alert(
    conn: Conn,
    is_client: u32,
    description: u8,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() || out_n.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        if conn_api::rustls_connection_is_handshaking(conn) {
            return RESULT_INVALID_PARAMETER;
        }
        let is_client = is_client != 0;
        let queued = discard_queued(conn);
        let alert = [LEVEL_FATAL, description];
        let id = conn_api::rustls_connection_get_negotiated_ciphersuite(conn);
        let bytes = match key_schedule::suite(id) {
            Some(SupportedCipherSuite::Tls13(suite)) => {
                // The client's Finished queued (so discarded): its handshake key still rules.
                let label = match (is_client, queued.encrypted) {
                    (true, true) => ALERT_LABELS[0],
                    (true, false) => ALERT_LABELS[1],
                    (false, _) => ALERT_LABELS[2],
                };
                secrets::secret_of(conn, label)
                    .and_then(|(_, secret)| tls13_alert(suite, secret.as_slice(), alert))
            }
            Some(SupportedCipherSuite::Tls12(_)) if queued.change_cipher_spec => {
                Some(record(CONTENT_ALERT, &alert))
            }
            Some(SupportedCipherSuite::Tls12(suite)) => tls12_alert(suite, conn, is_client, alert),
            None => None,
        };
        match bytes {
            Some(bytes) => pointers::copy_out(&bytes, buf, cap, out_n),
            None => {
                pointers::put(out_n, 0);
                RESULT_NOT_FOUND
            }
        }
    })
}
