//! A DER certificate's summary for people (`describeCertificate`: subject,
//! issuer, names, validity, serial, key type; parsed by `describe` with the
//! `x509-parser` crate, in builds with the `describe` feature) and its
//! SubjectPublicKeyInfo for key pinning (parsed by webpki, in every build).
//! No hand-written DER walking.

use crate::pointers;
use crate::{boundary, RESULT_PANIC};

/// `RUSTLS_RESULT_CERTIFICATE_PARSE_ERROR`.
const RESULT_CERTIFICATE_PARSE_ERROR: u32 = 7005;

/// Describes the DER certificate at `der`: JSON text into `buf` (`out_n`
/// gets its length) with `subject`, `issuer`, `dnsNames`, `ipAddresses`,
/// `notBefore`/`notAfter` (UNIX seconds), `serialNumber` (hex),
/// `publicKeyType` and `isCA`. `RUSTLS_RESULT_CERTIFICATE_PARSE_ERROR` for
/// bytes that are not a certificate; `RUSTLS_RESULT_INSUFFICIENT_SIZE` when
/// `cap` is too small (`out_n` tells the size needed); `RESULT_NOT_SUPPORTED` (7900)
/// in a build without the `describe` feature (see `scripts/build-rustls-ffi.sh --minimal`).
///
/// Borrows the `len` bytes at `der` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_certificate_describe(
    der: *const u8,
    len: usize,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        #[cfg(feature = "describe")]
        return match crate::describe::describe(pointers::bytes(der, len)) {
            Some(json) => pointers::copy_out(json.as_bytes(), buf, cap, out_n),
            None => RESULT_CERTIFICATE_PARSE_ERROR,
        };
        #[cfg(not(feature = "describe"))]
        {
            let _ = (der, len, buf, cap, out_n);
            crate::RESULT_NOT_SUPPORTED
        }
    })
}

/// Copies the DER SubjectPublicKeyInfo of the certificate at `der` into
/// `buf` (for public-key pins: `sha256//` + base64 of its SHA-256).
///
/// Borrows the `len` bytes at `der` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_certificate_spki(
    der: *const u8,
    len: usize,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let der = rustls::pki_types::CertificateDer::from(pointers::bytes(der, len));
        match webpki::EndEntityCert::try_from(&der) {
            // webpki parses any certificate this way (CA or not); only the SPKI is read.
            Ok(cert) => {
                pointers::copy_out(cert.subject_public_key_info().as_ref(), buf, cap, out_n)
            }
            Err(_) => RESULT_CERTIFICATE_PARSE_ERROR,
        }
    })
}
