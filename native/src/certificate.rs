//! A summary of a DER certificate for people (subject, issuer, names,
//! validity, serial, key type) and its SubjectPublicKeyInfo for key pinning,
//! parsed with the `x509-parser` crate (no hand-written DER walking).

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::raw;
use crate::{boundary, RESULT_PANIC};

/// `RUSTLS_RESULT_CERTIFICATE_PARSE_ERROR`.
const RESULT_CERTIFICATE_PARSE_ERROR: u32 = 7005;

pub(crate) fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn json_list(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, item);
    }
    out.push(']');
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn key_type(cert: &X509Certificate<'_>) -> String {
    let spki = &cert.tbs_certificate.subject_pki;
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| match oid.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_string(),
                    "1.3.132.0.34" => "P-384".to_string(),
                    "1.3.132.0.35" => "P-521".to_string(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| format!("{} bits", point.key_size()));
            format!("ECDSA {curve}")
        }
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => "Ed25519".to_string(),
            "1.3.101.113" => "Ed448".to_string(),
            other => format!("unknown ({other})"),
        },
    }
}

/// The summary as JSON text.
fn describe(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns.push(n.to_string()),
                GeneralName::IPAddress(bytes) => match bytes.len() {
                    4 => ips.push(
                        std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string(),
                    ),
                    16 => ips.push(
                        std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let validity = cert.validity();
    let mut out = String::with_capacity(512);
    out.push_str("{\"subject\":");
    json_string(&mut out, &cert.subject().to_string());
    out.push_str(",\"issuer\":");
    json_string(&mut out, &cert.issuer().to_string());
    out.push_str(",\"dnsNames\":");
    json_list(&mut out, &dns);
    out.push_str(",\"ipAddresses\":");
    json_list(&mut out, &ips);
    out.push_str(&format!(
        ",\"notBefore\":{},\"notAfter\":{}",
        validity.not_before.timestamp(),
        validity.not_after.timestamp()
    ));
    out.push_str(",\"serialNumber\":");
    json_string(&mut out, &hex(cert.raw_serial()));
    out.push_str(",\"publicKeyType\":");
    json_string(&mut out, &key_type(&cert));
    out.push_str(&format!(",\"isCA\":{}", cert.is_ca()));
    out.push('}');
    Some(out)
}

/// Describes the DER certificate at `der`: JSON text into `buf` (`out_n`
/// gets its length) with `subject`, `issuer`, `dnsNames`, `ipAddresses`,
/// `notBefore`/`notAfter` (UNIX seconds), `serialNumber` (hex),
/// `publicKeyType` and `isCA`. `RUSTLS_RESULT_CERTIFICATE_PARSE_ERROR` for
/// bytes that are not a certificate; `RUSTLS_RESULT_INSUFFICIENT_SIZE` when
/// `cap` is too small (`out_n` tells the size needed).
#[no_mangle]
pub extern "C" fn rustls_sockets_certificate_describe(
    der: *const u8,
    len: usize,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || match describe(raw::bytes(der, len)) {
        Some(json) => raw::copy_out(json.as_bytes(), buf, cap, out_n),
        None => RESULT_CERTIFICATE_PARSE_ERROR,
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
        match X509Certificate::from_der(raw::bytes(der, len)) {
            Ok((_, cert)) => raw::copy_out(cert.tbs_certificate.subject_pki.raw, buf, cap, out_n),
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
