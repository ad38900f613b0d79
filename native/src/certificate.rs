//! A summary of a DER certificate for people (subject, issuer, names,
//! validity, serial, key type) and its SubjectPublicKeyInfo for key pinning,
//! parsed with the `x509-parser` crate (no hand-written DER walking).

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

/// The verifier callback behind `dangerouslyDisableVerification`: accepts any
/// certificate chain (rustls still checks the handshake signatures).
unsafe extern "C" fn accept_any_server_certificate(
    _userdata: *mut libc::c_void,
    _params: *const rustls_ffi::client::rustls_verify_server_cert_params,
) -> u32 {
    crate::RESULT_OK
}

/// Makes `builder` accept any server certificate. DANGEROUS: only for
/// `dangerouslyDisableVerification`.
#[no_mangle]
pub extern "C" fn rustls_sockets_client_config_builder_dangerous_disable_verification(
    builder: *mut rustls_ffi::client::rustls_client_config_builder,
) -> u32 {
    boundary(RESULT_PANIC, || {
        rustls_ffi::client::rustls_client_config_builder::rustls_client_config_builder_dangerous_set_certificate_verifier(
            builder,
            Some(accept_any_server_certificate),
        ) as u32
    })
}
