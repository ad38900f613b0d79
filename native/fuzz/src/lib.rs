//! Set-up shared by the fuzz targets: configurations and connections made
//! through the library's own (counted) functions.

use std::ffi::CString;
use std::process::Command;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use rustls_ffi::certificate::rustls_certified_key;
use rustls_ffi::client::{rustls_client_config, rustls_client_config_builder};
use rustls_ffi::connection::rustls_connection;
use rustls_ffi::crypto_provider as provider;
use rustls_ffi::server::{rustls_server_config, rustls_server_config_builder};
use rustls_sockets::{buffer_io, info, lifecycle, live_objects, secrets, verify};

/// A client config builder for `versions`, with the library's crypto provider.
pub fn client_builder(versions: &[u16]) -> *mut rustls_client_config_builder {
    let mut provider_builder = null_mut();
    provider::rustls_crypto_provider_builder_new_from_default(&mut provider_builder);
    let mut crypto = null();
    provider::rustls_crypto_provider_builder_build(provider_builder, &mut crypto);
    provider::rustls_crypto_provider_builder_free(provider_builder);
    let mut builder = null_mut();
    rustls_client_config_builder::rustls_client_config_builder_new_custom(
        crypto,
        versions.as_ptr(),
        versions.len(),
        &mut builder,
    );
    provider::rustls_crypto_provider_free(crypto);
    builder
}

/// A fresh client connection to "fuzz.test" that accepts any certificate,
/// and its config; free both with [`free_client`].
pub fn new_client() -> (*const rustls_client_config, *mut rustls_connection) {
    let builder = client_builder(&[0x0304, 0x0303]);
    verify::rustls_sockets_client_config_builder_dangerous_disable_verification(builder);
    let mut config = null();
    lifecycle::rustls_sockets_client_config_builder_build(builder, &mut config);
    let name = CString::new("fuzz.test").unwrap();
    let mut conn = null_mut();
    lifecycle::rustls_sockets_client_connection_new(config, name.as_ptr(), &mut conn);
    (config, conn)
}

/// Frees what [`new_client`] made.
pub fn free_client(config: *const rustls_client_config, conn: *mut rustls_connection) {
    lifecycle::rustls_sockets_connection_free(conn);
    lifecycle::rustls_sockets_client_config_free(config);
}

/// The ClientHello record a fresh client for `versions` sends first (SNI
/// "fuzz.test", ALPN h2 and http/1.1), captured through `drain_tls`.
pub fn client_hello(versions: &[u16]) -> Vec<u8> {
    let builder = client_builder(versions);
    verify::rustls_sockets_client_config_builder_dangerous_disable_verification(builder);
    let alpn = b"\x02h2\x08http/1.1";
    info::rustls_sockets_client_config_builder_set_alpn_protocols(
        builder,
        alpn.as_ptr(),
        alpn.len(),
    );
    let mut config = null();
    lifecycle::rustls_sockets_client_config_builder_build(builder, &mut config);
    let name = CString::new("fuzz.test").unwrap();
    let mut conn = null_mut();
    lifecycle::rustls_sockets_client_connection_new(config, name.as_ptr(), &mut conn);
    let mut hello = vec![0u8; 16 * 1024];
    let mut n = 0;
    buffer_io::rustls_sockets_connection_drain_tls(conn, hello.as_mut_ptr(), hello.len(), &mut n);
    hello.truncate(n);
    free_client(config, conn);
    assert!(n > 5 && hello[0] == 0x16, "no ClientHello record captured");
    hello
}

/// A self-signed P-256 certificate for "fuzz.test" and its key, as PEM,
/// made with the openssl CLI in a temporary directory (removed afterwards).
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("rustls-sockets-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=fuzz.test",
            "-addext",
            "subjectAltName=DNS:fuzz.test",
        ])
        .current_dir(&dir)
        .output()
        .expect("the openssl CLI is needed to make the fuzz server's certificate");
    assert!(
        output.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cert = std::fs::read(dir.join("cert.pem")).unwrap();
    let key = std::fs::read(dir.join("key.pem")).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (cert, key)
}

/// The server config shared by every run of a target: a self-signed
/// certificate made once at start-up, TLS 1.3 and 1.2, ALPN h2 and
/// http/1.1, and every secret captured (key log, alert and exporter
/// secrets), so the library's secret bookkeeping runs too. It lives as long
/// as the process.
pub fn server_config() -> *const rustls_server_config {
    static CONFIG: OnceLock<usize> = OnceLock::new();
    let address = *CONFIG.get_or_init(|| {
        let (cert, key) = self_signed();
        let mut certified = null();
        let rc = rustls_certified_key::rustls_certified_key_build(
            cert.as_ptr(),
            cert.len(),
            key.as_ptr(),
            key.len(),
            &mut certified,
        );
        assert_eq!(rc as u32, 7000, "rustls_certified_key_build");
        let mut provider_builder = null_mut();
        provider::rustls_crypto_provider_builder_new_from_default(&mut provider_builder);
        let mut crypto = null();
        provider::rustls_crypto_provider_builder_build(provider_builder, &mut crypto);
        provider::rustls_crypto_provider_builder_free(provider_builder);
        let versions = [0x0304u16, 0x0303];
        let mut builder = null_mut();
        rustls_server_config_builder::rustls_server_config_builder_new_custom(
            crypto,
            versions.as_ptr(),
            versions.len(),
            &mut builder,
        );
        provider::rustls_crypto_provider_free(crypto);
        rustls_server_config_builder::rustls_server_config_builder_set_certified_keys(
            builder, &certified, 1,
        );
        rustls_certified_key::rustls_certified_key_free(certified);
        let alpn = b"\x02h2\x08http/1.1";
        info::rustls_sockets_server_config_builder_set_alpn_protocols(
            builder,
            alpn.as_ptr(),
            alpn.len(),
        );
        secrets::rustls_sockets_server_config_builder_capture_secrets(builder, 7);
        let mut config = null();
        let rc = lifecycle::rustls_sockets_server_config_builder_build(builder, &mut config);
        assert_eq!(rc, 7000, "rustls_sockets_server_config_builder_build");
        config as usize
    });
    address as *const rustls_server_config
}

/// The library's live-object counts: connections, client configs, server
/// configs, secrets filed (`rustls_sockets_debug_live_objects`).
pub fn live_objects() -> [i64; 4] {
    let mut counts = [0i64; 4];
    live_objects::rustls_sockets_debug_live_objects(counts.as_mut_ptr());
    counts
}
