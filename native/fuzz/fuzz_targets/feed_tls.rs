//! `rustls_sockets_connection_feed_tls` / `drain_tls` with arbitrary server
//! bytes fed to a fresh client connection, in arbitrary pieces, with
//! arbitrary output capacities. No crash, no leak, errors as values.
#![no_main]

use std::ptr::null;

use libfuzzer_sys::fuzz_target;
use rustls_sockets::buffer_io;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (config, conn) = rustls_sockets_fuzz::new_client();
    let mut out = vec![0u8; 1 + split as usize * 64];
    let mut n = 0;
    buffer_io::rustls_sockets_connection_drain_tls(conn, out.as_mut_ptr(), out.len(), &mut n);
    let piece = 1 + split as usize % 97;
    for chunk in rest.chunks(piece) {
        let mut taken = 0;
        if buffer_io::rustls_sockets_connection_feed_tls(
            conn,
            chunk.as_ptr(),
            chunk.len() as u32,
            &mut taken,
        ) != 7000
        {
            break;
        }
        assert!(taken <= chunk.len());
        buffer_io::rustls_sockets_connection_drain_tls(conn, out.as_mut_ptr(), out.len(), &mut n);
        assert!(n <= out.len());
    }
    let mut taken = 0;
    buffer_io::rustls_sockets_connection_feed_tls(conn, null(), 0, &mut taken); // end of stream
    rustls_sockets_fuzz::free_client(config, conn);
});
