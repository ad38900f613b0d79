//! `rustls_sockets_connection_recv_fd` / `send_fd`: a fresh client reads
//! arbitrary "server" bytes from a socketpair (in arbitrary pieces, with
//! arbitrary plaintext capacities) and writes arbitrary plaintext.
#![no_main]

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::ptr::null;

use libfuzzer_sys::fuzz_target;
use rustls_sockets::fd_io;

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let (config, conn) = rustls_sockets_fuzz::new_client();
    let fd = ours.as_raw_fd();
    let mut state = [0u32; 4];
    fd_io::rustls_sockets_connection_send_fd(conn, fd, null(), 0, state.as_mut_ptr());
    let mut plain = vec![0u8; (shape as usize % 16) * 512];
    let piece = 1 + shape as usize * 37;
    let mut peer = &theirs;
    for chunk in rest.chunks(piece) {
        use std::io::Write;
        if peer.write_all(chunk).is_err() {
            break;
        }
        let rc = fd_io::rustls_sockets_connection_recv_fd(
            conn,
            fd,
            plain.as_mut_ptr(),
            plain.len() as u32,
            state.as_mut_ptr(),
        );
        assert!(state[0] as usize <= plain.len());
        if rc != 7000 {
            break;
        }
        fd_io::rustls_sockets_connection_send_fd(
            conn,
            fd,
            chunk.as_ptr(),
            chunk.len() as u32,
            state.as_mut_ptr(),
        );
    }
    drop(theirs); // end of stream
    fd_io::rustls_sockets_connection_recv_fd(
        conn,
        fd,
        plain.as_mut_ptr(),
        plain.len() as u32,
        state.as_mut_ptr(),
    );
    rustls_sockets_fuzz::free_client(config, conn);
});
