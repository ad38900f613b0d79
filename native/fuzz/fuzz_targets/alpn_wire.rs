//! The ALPN wire-format setters with arbitrary bytes.
#![no_main]

use std::ptr::{null, null_mut};

use libfuzzer_sys::fuzz_target;
use rustls_ffi::client::rustls_client_config_builder;
use rustls_sockets::info;

fuzz_target!(|data: &[u8]| {
    let mut provider_builder = null_mut();
    rustls_ffi::crypto_provider::rustls_crypto_provider_builder_new_from_default(
        &mut provider_builder,
    );
    let mut provider = null();
    rustls_ffi::crypto_provider::rustls_crypto_provider_builder_build(
        provider_builder,
        &mut provider,
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_builder_free(provider_builder);
    let versions = [0x0304u16];
    let mut builder = null_mut();
    rustls_client_config_builder::rustls_client_config_builder_new_custom(
        provider,
        versions.as_ptr(),
        1,
        &mut builder,
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_free(provider);
    info::rustls_sockets_client_config_builder_set_alpn_protocols(
        builder,
        data.as_ptr(),
        data.len(),
    );
    rustls_client_config_builder::rustls_client_config_builder_free(builder);
});
