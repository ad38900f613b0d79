//! Certificate parsing with x509-parser, for `describeCertificate`'s summary
//! and for the subjects and validity dates that verification messages name
//! (the `describe` feature, on by default; `--minimal` builds leave it out).

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::json::{json_list, json_string};

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
pub(crate) fn describe(der: &[u8]) -> Option<String> {
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

/// `(subject, issuer, notBefore, notAfter)` of a DER certificate (UNIX seconds).
pub(crate) fn validity(der: &[u8]) -> Option<(String, String, i64, i64)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    Some((
        cert.subject().to_string(),
        cert.issuer().to_string(),
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}
