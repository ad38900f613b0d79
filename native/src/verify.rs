//! Server certificate verification this library adds: an accept-any
//! verifier for `dangerouslyDisableVerification`, and verification failures
//! a person can act on. rustls' webpki and platform verifiers know which
//! date or name failed (`ExpiredContext`, `NotValidForNameContext`, ...),
//! but rustls-ffi reduces errors to a result code. A verifier wrapped here
//! delegates every decision to the one it wraps and, when that one refuses a
//! chain, files the details (the error, the verification time, the names
//! presented, each certificate's subject and validity) for the connection
//! being processed (see `scope`); JS builds its message from them.
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use rustls_ffi::verifier::rustls_server_cert_verifier;

use crate::json::{json_list, json_string};
use crate::pointers::{self, Conn};
use crate::{
    boundary, scope, side_table, RESULT_NOT_FOUND, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC,
};

/// Files `details` of a refused chain for the connection being processed.
fn note_failure(details: String) {
    let Some(key) = scope::current() else {
        return;
    };
    side_table::update(key, |side| side.failure = Some(details));
}

/// The details filed for `conn`, if any.
fn failure_of(conn: Conn) -> Option<String> {
    side_table::read(conn, |side| side.failure.clone()).flatten()
}

#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ServerCertVerifier>,
}

/// `{"subject":…,"issuer":…,"notBefore":secs,"notAfter":secs}` of a DER
/// certificate (`{"subject":null}` when it cannot be read, or in a build
/// without the `describe` feature).
fn certificate_json(out: &mut String, der: &[u8]) {
    #[cfg(feature = "describe")]
    if let Some((subject, issuer, not_before, not_after)) = crate::describe::validity(der) {
        out.push_str("{\"subject\":");
        json_string(out, &subject);
        out.push_str(",\"issuer\":");
        json_string(out, &issuer);
        out.push_str(&format!(
            ",\"notBefore\":{not_before},\"notAfter\":{not_after}}}"
        ));
        return;
    }
    let _ = der;
    out.push_str("{\"subject\":null}");
}

fn failure_json(
    error: &Error,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> String {
    let mut out = String::from("{\"error\":");
    json_string(&mut out, &format!("{error:?}"));
    out.push_str(&format!(",\"time\":{}", now.as_secs()));
    if let Error::InvalidCertificate(CertificateError::NotValidForNameContext {
        expected,
        presented,
    }) = error
    {
        out.push_str(",\"expected\":");
        json_string(&mut out, &expected.to_str());
        out.push_str(",\"presented\":");
        json_list(&mut out, presented);
    }
    out.push_str(",\"chain\":[");
    certificate_json(&mut out, end_entity.as_ref());
    for der in intermediates {
        out.push(',');
        certificate_json(&mut out, der.as_ref());
    }
    out.push_str("]}");
    out
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        crate::ocsp::note_stapled(ocsp_response);
        if let Err(error) = &verdict {
            note_failure(failure_json(error, end_entity, intermediates, now));
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// A new server certificate verifier that decides as `inner` does and files
/// the details of its refusals (read them with
/// [`rustls_sockets_connection_verify_failure`]); NULL when `inner` is NULL.
///
/// Borrows `inner` (the new verifier keeps its own reference, so the caller
/// still frees `inner`); the caller owns the new verifier and frees it with
/// `rustls_server_cert_verifier_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_server_cert_verifier_recording(
    inner: *const rustls_server_cert_verifier,
) -> *mut rustls_server_cert_verifier {
    boundary(
        std::ptr::null_mut(),
        || match pointers::server_verifier_ref(inner) {
            Some(inner) => pointers::server_verifier_into_ffi(Arc::new(Recording {
                inner: Arc::clone(inner),
            })),
            None => std::ptr::null_mut(),
        },
    )
}

/// Copies the details of `conn`'s refused certificate chain (JSON: `error`,
/// `time`, `expected`/`presented` for a name mismatch, `chain` of
/// `{subject, notBefore, notAfter}`) into `buf`; `RUSTLS_RESULT_NOT_FOUND`
/// when no recording verifier refused one.
///
/// Borrows `conn` for the call; `buf` must hold `cap` bytes.
#[no_mangle]
pub extern "C" fn rustls_sockets_connection_verify_failure(
    conn: Conn,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        if conn.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        match failure_of(conn) {
            Some(text) => pointers::copy_out(text.as_bytes(), buf, cap, out_n),
            None => RESULT_NOT_FOUND,
        }
    })
}

/// The verifier callback behind `dangerouslyDisableVerification`: accepts any
/// certificate chain (rustls still checks the handshake signatures).
unsafe extern "C" fn accept_any_server_certificate(
    _userdata: *mut libc::c_void,
    _params: *const rustls_ffi::client::rustls_verify_server_cert_params,
) -> u32 {
    RESULT_OK
}

/// Makes `builder` accept any server certificate. DANGEROUS: only for
/// `dangerouslyDisableVerification`.
///
/// Borrows `builder` for the call.
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
