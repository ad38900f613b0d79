//! The server path from acceptor to connection with bytes after the
//! ClientHello: a real ClientHello (TLS 1.3 or TLS 1.2 only) followed by
//! arbitrary bytes, fed in arbitrary pieces to
//! `rustls_sockets_acceptor_feed_tls`; the hello then becomes a connection
//! with `rustls_sockets_accepted_into_connection` (fd -1: any alert is copied
//! into a buffer). Bytes that came with the hello are held by rustls: a
//! `recv_buf` with no new input processes them. The rest goes through the
//! buffer transport (`recv_buf`, or `feed_tls`/`drain_tls`) with arbitrary
//! plaintext and output capacities, replies through `send_buf`, and maybe an
//! end of stream. No crash, no leak, counts within bounds; the acceptor, the
//! accepted hello and the connection are each freed once, and the library's
//! live-object counts (connections, secrets filed) are back where they were.
#![no_main]

use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rustls_ffi::acceptor::{rustls_accepted, rustls_acceptor};
use rustls_ffi::server::rustls_server_config;
use rustls_sockets::{acceptor, buffer_io, lifecycle};

const OK: u32 = 7000;

/// The two ClientHellos, captured once: TLS 1.3 + 1.2, and TLS 1.2 only.
fn hellos() -> &'static [Vec<u8>; 2] {
    static HELLOS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    HELLOS.get_or_init(|| {
        [
            rustls_sockets_fuzz::client_hello(&[0x0304, 0x0303]),
            rustls_sockets_fuzz::client_hello(&[0x0303]),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let [shape, caps, rest @ ..] = data else {
        return;
    };
    let config = rustls_sockets_fuzz::server_config();
    let hellos = hellos();
    let live = rustls_sockets_fuzz::live_objects();
    run(config, hellos, *shape, *caps, rest);
    // Every connection freed, and no secret left filed under a freed pointer.
    assert_eq!(rustls_sockets_fuzz::live_objects(), live);
});

fn run(
    config: *const rustls_server_config,
    hellos: &[Vec<u8>; 2],
    shape: u8,
    caps: u8,
    rest: &[u8],
) {
    // shape: bit 0 the hello, bit 1 the transport after the hello, bit 2 a
    // reply after each piece, bit 3 end of stream at the end, bits 4-7 the
    // piece size (0: everything in one feed).
    let mut stream = hellos[(shape & 1) as usize].clone();
    stream.extend_from_slice(rest);
    let piece = match shape >> 4 {
        0 => stream.len(),
        k => k as usize * 23 - 22,
    };
    // caps: bits 0-3 the output capacity, bits 4-7 the plaintext capacity.
    let mut out = vec![0u8; 1 + (caps & 15) as usize * 512];
    let mut plain = vec![0u8; (caps >> 4) as usize * 97];

    let acceptor_ptr = rustls_acceptor::rustls_acceptor_new();
    let mut accepted: *mut rustls_accepted = null_mut();
    let mut chunks = stream.chunks(piece);
    for chunk in chunks.by_ref() {
        let mut alert_n = 0;
        let rc = acceptor::rustls_sockets_acceptor_feed_tls(
            acceptor_ptr,
            chunk.as_ptr(),
            chunk.len(),
            &mut accepted,
            out.as_mut_ptr(),
            out.len(),
            &mut alert_n,
        );
        assert!(alert_n <= out.len());
        if rc != OK || !accepted.is_null() {
            break;
        }
    }
    if accepted.is_null() {
        rustls_acceptor::rustls_acceptor_free(acceptor_ptr);
        return;
    }

    let mut info = [0u8; 512];
    let mut info_n = 0;
    acceptor::rustls_sockets_accepted_get_info(
        accepted,
        info.as_mut_ptr(),
        info.len(),
        &mut info_n,
    );
    let mut conn = null_mut();
    let mut alert_n = 0;
    let rc = acceptor::rustls_sockets_accepted_into_connection(
        accepted,
        config,
        -1,
        &mut conn,
        out.as_mut_ptr(),
        out.len(),
        &mut alert_n,
    );
    assert!(alert_n <= out.len());
    rustls_accepted::rustls_accepted_free(accepted);
    rustls_acceptor::rustls_acceptor_free(acceptor_ptr);
    if rc != OK {
        assert!(conn.is_null());
        return;
    }
    assert!(!conn.is_null());

    // What came with the hello: no new input, only what rustls holds.
    let mut state = [0u32; 8];
    let mut rc = buffer_io::rustls_sockets_connection_recv_buf(
        conn,
        null(),
        0,
        0,
        plain.as_mut_ptr(),
        plain.len() as u32,
        out.as_mut_ptr(),
        out.len() as u32,
        state.as_mut_ptr(),
    );
    assert!(state[0] as usize <= plain.len());
    assert_eq!(state[4], 0);
    assert!(state[5] as usize <= out.len());

    let by_feed = shape & 2 != 0;
    for chunk in chunks {
        if rc != OK {
            break;
        }
        if by_feed {
            let mut taken = 0;
            rc = buffer_io::rustls_sockets_connection_feed_tls(
                conn,
                chunk.as_ptr(),
                chunk.len() as u32,
                &mut taken,
            );
            assert!(taken <= chunk.len());
            let mut n = 0;
            buffer_io::rustls_sockets_connection_drain_tls(
                conn,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            );
            assert!(n <= out.len());
            if rc == OK && !plain.is_empty() {
                let mut n = 0;
                rustls_ffi::connection::rustls_connection::rustls_connection_read(
                    conn,
                    plain.as_mut_ptr(),
                    plain.len(),
                    &mut n,
                );
                assert!(n <= plain.len());
            }
        } else {
            rc = buffer_io::rustls_sockets_connection_recv_buf(
                conn,
                chunk.as_ptr(),
                chunk.len() as u32,
                0,
                plain.as_mut_ptr(),
                plain.len() as u32,
                out.as_mut_ptr(),
                out.len() as u32,
                state.as_mut_ptr(),
            );
            assert!(state[0] as usize <= plain.len());
            assert!(state[4] as usize <= chunk.len());
            assert!(state[5] as usize <= out.len());
        }
        if rc == OK && shape & 4 != 0 {
            rc = buffer_io::rustls_sockets_connection_send_buf(
                conn,
                chunk.as_ptr(),
                chunk.len().min(300) as u32,
                out.as_mut_ptr(),
                out.len() as u32,
                state.as_mut_ptr(),
            );
            assert!(state[0] as usize <= chunk.len());
            assert!(state[5] as usize <= out.len());
        }
    }
    if rc == OK && shape & 8 != 0 {
        if by_feed {
            let mut taken = 0;
            buffer_io::rustls_sockets_connection_feed_tls(conn, null(), 0, &mut taken);
        } else {
            buffer_io::rustls_sockets_connection_recv_buf(
                conn,
                null(),
                0,
                1,
                plain.as_mut_ptr(),
                plain.len() as u32,
                out.as_mut_ptr(),
                out.len() as u32,
                state.as_mut_ptr(),
            );
        }
    }
    lifecycle::rustls_sockets_connection_free(conn);
}
