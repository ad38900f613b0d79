//! `rustls_sockets_connection_feed_tls` / `drain_tls` with arbitrary server
//! bytes fed to a fresh client connection, in arbitrary pieces, with
//! arbitrary output capacities. No crash, no leak, errors as values.
#![no_main]

use std::ffi::CString;
use std::ptr::{null, null_mut};

use libfuzzer_sys::fuzz_target;
use rustls_ffi::client::rustls_client_config_builder;
use rustls_sockets::{buffer, certificate, debug};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut builder = null_mut();
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
    let versions = [0x0304u16, 0x0303];
    rustls_client_config_builder::rustls_client_config_builder_new_custom(
        provider,
        versions.as_ptr(),
        2,
        &mut builder,
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_free(provider);
    certificate::rustls_sockets_client_config_builder_dangerous_disable_verification(builder);
    let mut config = null();
    debug::rustls_sockets_client_config_builder_build(builder, &mut config);
    let name = CString::new("fuzz.test").unwrap();
    let mut conn = null_mut();
    debug::rustls_sockets_client_connection_new(config, name.as_ptr(), &mut conn);
    let mut out = vec![0u8; 1 + split as usize * 64];
    let mut n = 0;
    buffer::rustls_sockets_connection_drain_tls(conn, out.as_mut_ptr(), out.len(), &mut n);
    let piece = 1 + split as usize % 97;
    for chunk in rest.chunks(piece) {
        let mut taken = 0;
        if buffer::rustls_sockets_connection_feed_tls(conn, chunk.as_ptr(), chunk.len(), &mut taken)
            != 7000
        {
            break;
        }
        assert!(taken <= chunk.len());
        buffer::rustls_sockets_connection_drain_tls(conn, out.as_mut_ptr(), out.len(), &mut n);
        assert!(n <= out.len());
    }
    let mut taken = 0;
    buffer::rustls_sockets_connection_feed_tls(conn, null(), 0, &mut taken); // end of stream
    debug::rustls_sockets_connection_free(conn);
    debug::rustls_sockets_client_config_free(config);
});
