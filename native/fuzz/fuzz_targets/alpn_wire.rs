//! The ALPN wire-format setters with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls_ffi::client::rustls_client_config_builder;
use rustls_sockets::info;

fuzz_target!(|data: &[u8]| {
    let builder = rustls_sockets_fuzz::client_builder(&[0x0304]);
    info::rustls_sockets_client_config_builder_set_alpn_protocols(
        builder,
        data.as_ptr(),
        data.len(),
    );
    rustls_client_config_builder::rustls_client_config_builder_free(builder);
});
