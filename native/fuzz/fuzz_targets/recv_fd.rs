//! `rustls_sockets_connection_recv_fd` / `send_fd`: a fresh client reads
//! arbitrary "server" bytes from a socketpair (in arbitrary pieces, with
//! arbitrary plaintext capacities) and writes arbitrary plaintext.
#![no_main]

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::ptr::{null, null_mut};

use libfuzzer_sys::fuzz_target;
use rustls_ffi::client::rustls_client_config_builder;
use rustls_sockets::{certificate, debug, io};

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
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
    let mut builder = null_mut();
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
    let fd = ours.as_raw_fd();
    let mut state = [0u32; 4];
    io::rustls_sockets_connection_send_fd(conn, fd, null(), 0, state.as_mut_ptr());
    let mut plain = vec![0u8; (shape as usize % 16) * 512];
    let piece = 1 + shape as usize * 37;
    let mut peer = &theirs;
    for chunk in rest.chunks(piece) {
        use std::io::Write;
        if peer.write_all(chunk).is_err() {
            break;
        }
        let rc = io::rustls_sockets_connection_recv_fd(
            conn,
            fd,
            plain.as_mut_ptr(),
            plain.len(),
            state.as_mut_ptr(),
        );
        assert!(state[0] as usize <= plain.len());
        if rc != 7000 {
            break;
        }
        io::rustls_sockets_connection_send_fd(
            conn,
            fd,
            chunk.as_ptr(),
            chunk.len(),
            state.as_mut_ptr(),
        );
    }
    drop(theirs); // end of stream
    io::rustls_sockets_connection_recv_fd(
        conn,
        fd,
        plain.as_mut_ptr(),
        plain.len(),
        state.as_mut_ptr(),
    );
    debug::rustls_sockets_connection_free(conn);
    debug::rustls_sockets_client_config_free(config);
});
