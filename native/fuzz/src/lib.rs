//! Set-up shared by the fuzz targets: configurations and connections made
//! through the library's own (counted) functions.

use std::ffi::CString;
use std::ptr::{null, null_mut};

use rustls_ffi::client::{rustls_client_config, rustls_client_config_builder};
use rustls_ffi::connection::rustls_connection;
use rustls_ffi::crypto_provider as provider;
use rustls_sockets::{certificate, debug};

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
    certificate::rustls_sockets_client_config_builder_dangerous_disable_verification(builder);
    let mut config = null();
    debug::rustls_sockets_client_config_builder_build(builder, &mut config);
    let name = CString::new("fuzz.test").unwrap();
    let mut conn = null_mut();
    debug::rustls_sockets_client_connection_new(config, name.as_ptr(), &mut conn);
    (config, conn)
}

/// Frees what [`new_client`] made.
pub fn free_client(config: *const rustls_client_config, conn: *mut rustls_connection) {
    debug::rustls_sockets_connection_free(conn);
    debug::rustls_sockets_client_config_free(config);
}
