//! `rustls_sockets_connection_recv_buf` / `send_buf` (the buffer transport
//! of Web Streams, runtime sockets, TLS in TLS) with arbitrary server bytes
//! in arbitrary pieces, arbitrary plaintext and output capacities, and a
//! possible end of stream. No crash, no leak, counts within bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls_sockets::buffer_io;

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let (config, conn) = rustls_sockets_fuzz::new_client();
    let mut out = vec![0u8; 1 + (shape as usize % 16) * 1024];
    let mut plain = vec![0u8; (shape as usize >> 4) * 37];
    let mut state = [0u32; 8];
    buffer_io::rustls_sockets_connection_send_buf(
        conn,
        b"early".as_ptr(),
        5,
        out.as_mut_ptr(),
        out.len() as u32,
        state.as_mut_ptr(),
    );
    assert!(state[5] as usize <= out.len());
    let piece = 1 + shape as usize % 61;
    let chunks: Vec<&[u8]> = rest.chunks(piece).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let eof = (i + 1 == chunks.len() && shape & 1 == 1) as u32;
        let rc = buffer_io::rustls_sockets_connection_recv_buf(
            conn,
            chunk.as_ptr(),
            chunk.len() as u32,
            eof,
            plain.as_mut_ptr(),
            plain.len() as u32,
            out.as_mut_ptr(),
            out.len() as u32,
            state.as_mut_ptr(),
        );
        assert!(state[0] as usize <= plain.len());
        assert!(state[4] as usize <= chunk.len());
        assert!(state[5] as usize <= out.len());
        if rc != 7000 {
            break;
        }
    }
    rustls_sockets_fuzz::free_client(config, conn);
});
