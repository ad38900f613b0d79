//! The pieces of TLS's key schedule this library derives keys with itself,
//! for exporter keying material (`exporter`) and a late fatal alert
//! (`alert`): the cipher suite of a negotiated IANA number and
//! HKDF-Expand-Label.

use rustls::SupportedCipherSuite;

/// The cipher suite with IANA number `id`, among those this build has.
pub(crate) fn suite(id: u16) -> Option<SupportedCipherSuite> {
    #[cfg(feature = "aws-lc-rs")]
    let all = rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES;
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
    all.iter().copied().find(|s| u16::from(s.suite()) == id)
}

/// HKDF-Expand-Label (RFC 8446 §7.1) into `out`.
pub(crate) fn expand_label(
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
