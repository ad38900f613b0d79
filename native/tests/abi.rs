//! The library's own C ABI, exercised from Rust: an in-memory client/server
//! handshake through the buffer functions, the acceptor path, bad input,
//! certificates, sockets and the poller. Every object is freed and the live
//! counters return to zero. CI also runs this binary under valgrind.

use std::ffi::CString;
use std::process::Command;
use std::ptr::{null, null_mut};

use rustls_ffi::acceptor::{rustls_accepted, rustls_acceptor};
use rustls_ffi::certificate::rustls_certified_key;
use rustls_ffi::client::{rustls_client_config, rustls_client_config_builder};
use rustls_ffi::connection::rustls_connection;
use rustls_ffi::crypto_provider::rustls_crypto_provider;

/// The library's crypto provider (the process default, from the crate features).
fn rustls_crypto_provider_default() -> *const rustls_crypto_provider {
    let mut builder = null_mut();
    assert_eq!(
        rustls_ffi::crypto_provider::rustls_crypto_provider_builder_new_from_default(&mut builder)
            as u32,
        OK
    );
    let mut provider = null();
    assert_eq!(
        rustls_ffi::crypto_provider::rustls_crypto_provider_builder_build(builder, &mut provider)
            as u32,
        OK
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_builder_free(builder);
    provider // the caller frees it
}
use rustls_ffi::server::{rustls_server_config, rustls_server_config_builder};
use rustls_sockets::{
    acceptor, buffer_io, certificate, fd_io, info, lifecycle, live_objects, poller, record_io,
    socket, verify,
};

const OK: u32 = 7000;

struct Pem {
    ca: Vec<u8>,
    chain: Vec<u8>,
    key: Vec<u8>,
    der: Vec<u8>,
}

/// A CA and a localhost leaf made with the openssl CLI (throw-away, per run).
fn pki() -> Pem {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "rustls-sockets-abi-{}-{unique}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=abi test ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext",
        "-out",
        "leaf.crt",
    ]);
    run(&[
        "x509", "-in", "leaf.crt", "-outform", "DER", "-out", "leaf.der",
    ]);
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let pem = Pem {
        ca: read("ca.crt"),
        chain: read("leaf.crt"),
        key: read("leaf.key"),
        der: read("leaf.der"),
    };
    std::fs::remove_dir_all(&dir).ok();
    pem
}

fn client_config(pem: &Pem) -> *const rustls_client_config {
    let provider = rustls_crypto_provider_default();
    let versions = [0x0304u16, 0x0303];
    let mut builder: *mut rustls_client_config_builder = null_mut();
    assert_eq!(
        rustls_client_config_builder::rustls_client_config_builder_new_custom(
            provider,
            versions.as_ptr(),
            2,
            &mut builder
        ) as u32,
        OK
    );
    // Verification is the JS tests' subject (against real peers); here the
    // buffer path matters, so the client accepts the throw-away certificate.
    let _ = &pem.ca;
    assert_eq!(
        verify::rustls_sockets_client_config_builder_dangerous_disable_verification(builder),
        OK
    );
    let alpn = b"\x08http/1.1";
    assert_eq!(
        info::rustls_sockets_client_config_builder_set_alpn_protocols(
            builder,
            alpn.as_ptr(),
            alpn.len()
        ),
        OK
    );
    let mut config = null();
    assert_eq!(
        lifecycle::rustls_sockets_client_config_builder_build(builder, &mut config),
        OK
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_free(provider);
    config
}

fn server_config(pem: &Pem) -> *const rustls_server_config {
    let provider = rustls_crypto_provider_default();
    let versions = [0x0304u16, 0x0303];
    let mut builder: *mut rustls_server_config_builder = null_mut();
    assert_eq!(
        rustls_server_config_builder::rustls_server_config_builder_new_custom(
            provider,
            versions.as_ptr(),
            2,
            &mut builder
        ) as u32,
        OK
    );
    let mut key: *const rustls_certified_key = null();
    assert_eq!(
        rustls_certified_key::rustls_certified_key_build(
            pem.chain.as_ptr(),
            pem.chain.len(),
            pem.key.as_ptr(),
            pem.key.len(),
            &mut key
        ) as u32,
        OK
    );
    assert_eq!(
        rustls_server_config_builder::rustls_server_config_builder_set_certified_keys(
            builder, &key, 1
        ) as u32,
        OK
    );
    rustls_certified_key::rustls_certified_key_free(key);
    let alpn = b"\x02h2\x08http/1.1";
    assert_eq!(
        info::rustls_sockets_server_config_builder_set_alpn_protocols(
            builder,
            alpn.as_ptr(),
            alpn.len()
        ),
        OK
    );
    let mut config = null();
    assert_eq!(
        lifecycle::rustls_sockets_server_config_builder_build(builder, &mut config),
        OK
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_free(provider);
    config
}

/// Moves ciphertext from `from` to `to` through the buffer functions; plaintext
/// `to` had to hand over to take more goes to `spill`.
fn pump_into(
    from: *mut rustls_connection,
    to: *mut rustls_connection,
    spill: &mut Vec<u8>,
) -> usize {
    let mut moved = 0;
    let mut buf = vec![0u8; 4096]; // small on purpose: many partial copies
    loop {
        let mut n = 0;
        assert_eq!(
            buffer_io::rustls_sockets_connection_drain_tls(
                from,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n
            ),
            OK
        );
        if n == 0 {
            return moved;
        }
        let mut at = 0;
        while at < n {
            let mut taken = 0;
            let rc = buffer_io::rustls_sockets_connection_feed_tls(
                to,
                buf[at..].as_ptr(),
                (n - at) as u32,
                &mut taken,
            );
            assert_eq!(rc, OK);
            if taken == 0 {
                spill.extend(drain_plaintext(to));
            }
            at += taken;
        }
        moved += n;
    }
}

fn pump(from: *mut rustls_connection, to: *mut rustls_connection) -> usize {
    let mut spill = Vec::new();
    let moved = pump_into(from, to, &mut spill);
    assert!(spill.is_empty(), "no application data expected here");
    moved
}

fn drain_plaintext(conn: *mut rustls_connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let mut n = 0;
        let rc =
            rustls_connection::rustls_connection_read(conn, buf.as_mut_ptr(), buf.len(), &mut n)
                as u32;
        if rc != OK || n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn live() -> [i64; 4] {
    let mut out = [0i64; 4];
    live_objects::rustls_sockets_debug_live_objects(out.as_mut_ptr());
    out
}

#[test]
fn handshake_data_and_close_through_buffers_and_the_acceptor() {
    let pem = pki();
    let client_cfg = client_config(&pem);
    let server_cfg = server_config(&pem);
    let name = CString::new("localhost").unwrap();
    let mut client: *mut rustls_connection = null_mut();
    assert_eq!(
        lifecycle::rustls_sockets_client_connection_new(client_cfg, name.as_ptr(), &mut client),
        OK
    );
    // The server reads the ClientHello with the acceptor first.
    let acceptor_ptr = rustls_acceptor::rustls_acceptor_new();
    let mut hello = vec![0u8; 16384];
    let mut n = 0;
    assert_eq!(
        buffer_io::rustls_sockets_connection_drain_tls(
            client,
            hello.as_mut_ptr(),
            hello.len(),
            &mut n
        ),
        OK
    );
    let mut accepted: *mut rustls_accepted = null_mut();
    let mut alert = [0u8; 64];
    let mut alert_n = 0;
    // first only a part: not ready yet
    assert_eq!(
        acceptor::rustls_sockets_acceptor_feed_tls(
            acceptor_ptr,
            hello.as_ptr(),
            10,
            &mut accepted,
            alert.as_mut_ptr(),
            64,
            &mut alert_n
        ),
        OK
    );
    assert!(accepted.is_null());
    assert_eq!(
        acceptor::rustls_sockets_acceptor_feed_tls(
            acceptor_ptr,
            hello[10..].as_ptr(),
            n - 10,
            &mut accepted,
            alert.as_mut_ptr(),
            64,
            &mut alert_n
        ),
        OK
    );
    assert!(!accepted.is_null());
    let mut record = vec![0u8; 512];
    let mut len = 0;
    assert_eq!(
        acceptor::rustls_sockets_accepted_get_info(
            accepted,
            record.as_mut_ptr(),
            record.len(),
            &mut len
        ),
        OK
    );
    assert_eq!(&record[..2], &[9, 0]);
    assert_eq!(&record[2..11], b"localhost");
    let mut server: *mut rustls_connection = null_mut();
    assert_eq!(
        acceptor::rustls_sockets_accepted_into_connection(
            accepted,
            server_cfg,
            -1,
            &mut server,
            alert.as_mut_ptr(),
            64,
            &mut alert_n
        ),
        OK
    );
    rustls_accepted::rustls_accepted_free(accepted);
    rustls_acceptor::rustls_acceptor_free(acceptor_ptr);

    for _ in 0..4 {
        pump(server, client);
        pump(client, server);
    }
    assert!(!rustls_connection::rustls_connection_is_handshaking(client));
    assert!(!rustls_connection::rustls_connection_is_handshaking(server));
    let mut info_buf = vec![0u8; 256];
    assert_eq!(
        info::rustls_sockets_connection_get_info(
            client,
            info_buf.as_mut_ptr(),
            info_buf.len(),
            &mut len
        ),
        OK
    );
    assert_eq!(u16::from_le_bytes([info_buf[0], info_buf[1]]), 0x0304);
    let mut der = vec![0u8; 4096];
    assert_eq!(
        info::rustls_sockets_connection_copy_peer_certificate(
            client,
            0,
            der.as_mut_ptr(),
            der.len(),
            &mut len
        ),
        OK
    );
    assert_eq!(&der[..len], &pem.der[..]);
    assert_eq!(
        info::rustls_sockets_connection_copy_peer_certificate(
            client,
            1,
            der.as_mut_ptr(),
            der.len(),
            &mut len
        ),
        7008
    );

    // 1 MiB of application data, in pieces, byte-exact
    let data: Vec<u8> = (0..1 << 20).map(|i| (i * 7 + 3) as u8).collect();
    let mut received = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let mut took = 0;
        assert_eq!(
            rustls_connection::rustls_connection_write(
                client,
                data[at..].as_ptr(),
                data.len() - at,
                &mut took
            ) as u32,
            OK
        );
        at += took;
        pump_into(client, server, &mut received);
        received.extend(drain_plaintext(server));
    }
    pump_into(client, server, &mut received);
    received.extend(drain_plaintext(server));
    assert!(
        received == data,
        "{} of {} bytes arrived intact",
        received.len(),
        data.len()
    );

    rustls_connection::rustls_connection_send_close_notify(client);
    pump(client, server);
    let mut buf = [0u8; 8];
    assert_eq!(
        rustls_connection::rustls_connection_read(server, buf.as_mut_ptr(), buf.len(), &mut len)
            as u32,
        OK
    );
    assert_eq!(len, 0, "clean close_notify reads as 0");

    lifecycle::rustls_sockets_connection_free(client);
    lifecycle::rustls_sockets_connection_free(server);
    lifecycle::rustls_sockets_client_config_free(client_cfg);
    lifecycle::rustls_sockets_server_config_free(server_cfg);
    assert_eq!(live(), [0, 0, 0, 0]);
}

#[test]
fn garbage_is_an_error_value_never_a_crash() {
    let pem = pki();
    let server_cfg = server_config(&pem);
    let acceptor_ptr = rustls_acceptor::rustls_acceptor_new();
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut accepted = null_mut();
    let mut alert = [0u8; 64];
    let mut alert_n = 0;
    let rc = acceptor::rustls_sockets_acceptor_feed_tls(
        acceptor_ptr,
        junk.as_ptr(),
        junk.len(),
        &mut accepted,
        alert.as_mut_ptr(),
        64,
        &mut alert_n,
    );
    assert_ne!(rc, OK);
    assert!(accepted.is_null());
    assert!(alert_n > 0, "an alert for the peer");
    rustls_acceptor::rustls_acceptor_free(acceptor_ptr);
    // NULL arguments are errors too
    let mut n = 0;
    assert_eq!(
        buffer_io::rustls_sockets_connection_feed_tls(null_mut(), junk.as_ptr(), 1, &mut n),
        7002
    );
    assert_eq!(
        buffer_io::rustls_sockets_connection_drain_tls(null_mut(), null_mut(), 0, &mut n),
        7002
    );
    // bad ALPN wire formats
    let mut builder = null_mut();
    let versions = [0x0304u16];
    let provider = rustls_crypto_provider_default();
    rustls_client_config_builder::rustls_client_config_builder_new_custom(
        provider,
        versions.as_ptr(),
        1,
        &mut builder,
    );
    rustls_ffi::crypto_provider::rustls_crypto_provider_free(provider);
    for wire in [&b"\x00"[..], b"\x05abc", b"\x02h2\x00"] {
        assert_eq!(
            info::rustls_sockets_client_config_builder_set_alpn_protocols(
                builder,
                wire.as_ptr(),
                wire.len()
            ),
            7009
        );
    }
    rustls_client_config_builder::rustls_client_config_builder_free(builder);
    // certificates
    let mut out = vec![0u8; 2048];
    assert_eq!(
        certificate::rustls_sockets_certificate_describe(
            junk.as_ptr(),
            100,
            out.as_mut_ptr(),
            out.len(),
            &mut n
        ),
        7005
    );
    assert_eq!(
        certificate::rustls_sockets_certificate_describe(
            pem.der.as_ptr(),
            pem.der.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n
        ),
        OK
    );
    let json = String::from_utf8(out[..n].to_vec()).unwrap();
    assert!(json.contains("\"subject\":\"CN=localhost\""), "{json}");
    assert_eq!(
        certificate::rustls_sockets_certificate_describe(
            pem.der.as_ptr(),
            pem.der.len(),
            out.as_mut_ptr(),
            4,
            &mut n
        ),
        7007
    );
    assert_eq!(
        certificate::rustls_sockets_certificate_spki(
            pem.der.as_ptr(),
            pem.der.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n
        ),
        OK
    );
    assert!(n > 60 && out[0] == 0x30);
    lifecycle::rustls_sockets_server_config_free(server_cfg);
}

/// Waits (up to `timeout_ms`) for the poller's signal socket, empties it and
/// collects the queued events, as the JS side does; returns how many.
fn wait_events(
    p: *const poller::rustls_sockets_poller,
    signal_fd: i32,
    events: &mut [u32],
    timeout_ms: i32,
) -> u32 {
    let mut ready = libc::pollfd {
        fd: signal_fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a stack buffer for read(2).
    unsafe {
        libc::poll(&mut ready, 1, timeout_ms);
        let mut sink = [0u8; 64];
        libc::read(signal_fd, sink.as_mut_ptr().cast(), sink.len());
    }
    poller::rustls_sockets_poller_take(p, events.as_mut_ptr(), (events.len() / 6) as u32)
}

#[test]
fn sockets_and_the_poller() {
    let ip = CString::new("127.0.0.1").unwrap();
    let mut listen_fd = -1;
    assert_eq!(
        socket::rustls_sockets_tcp_listen(ip.as_ptr(), 0, 16, 0, &mut listen_fd),
        0
    );
    let mut port = 0u16;
    let mut text = [0u8; 64];
    let mut n = 0;
    assert_eq!(
        socket::rustls_sockets_socket_address(
            listen_fd,
            0,
            text.as_mut_ptr(),
            64,
            &mut n,
            &mut port
        ),
        0
    );
    assert_eq!(&text[..n], b"127.0.0.1");
    let mut p: *mut poller::rustls_sockets_poller = null_mut();
    assert_eq!(poller::rustls_sockets_poller_new(&mut p), 0);
    let mut signal_fd = -1;
    assert_eq!(
        poller::rustls_sockets_poller_start_signal_socket(p, &mut signal_fd),
        0
    );
    assert!(signal_fd >= 0);
    assert_eq!(
        poller::rustls_sockets_poller_start_signal_socket(p, &mut signal_fd.clone()),
        libc::EALREADY,
        "one signal thread per poller"
    );
    let mut events = [0u32; 6 * 8];
    assert_eq!(
        wait_events(p, signal_fd, &mut events, 0),
        0,
        "nothing ready"
    );
    assert_eq!(poller::rustls_sockets_poller_arm(p, listen_fd, 1, 7), 0);
    let mut client_fd = -1;
    let mut pending = 0;
    assert_eq!(
        socket::rustls_sockets_tcp_connect(ip.as_ptr(), port, &mut client_fd, &mut pending),
        0
    );
    assert_eq!(wait_events(p, signal_fd, &mut events, 5000), 1);
    assert_eq!(&events[..2], &[7, 1]);
    let mut server_fd = -1;
    assert_eq!(
        socket::rustls_sockets_tcp_accept(listen_fd, &mut server_fd),
        0
    );
    assert_eq!(
        socket::rustls_sockets_tcp_accept(listen_fd, &mut server_fd.clone()),
        libc::EAGAIN
    );
    let mut sent = 0;
    assert_eq!(
        socket::rustls_sockets_socket_send(client_fd, b"ping".as_ptr(), 4, &mut sent),
        0
    );
    assert_eq!(poller::rustls_sockets_poller_arm(p, server_fd, 1, 9), 0);
    assert_eq!(wait_events(p, signal_fd, &mut events, 5000), 1);
    let mut got = [0u8; 8];
    assert_eq!(
        socket::rustls_sockets_socket_recv(server_fd, got.as_mut_ptr(), 8, &mut n),
        0
    );
    assert_eq!(&got[..n], b"ping");
    // a worker job: connecting to a closed port reports ECONNREFUSED
    assert_eq!(socket::rustls_sockets_socket_close(listen_fd), 0);
    assert_eq!(
        poller::rustls_sockets_poller_submit_connect(p, ip.as_ptr(), port, 0x8000_0001),
        0
    );
    let mut waited = 0;
    while waited == 0 {
        waited = wait_events(p, signal_fd, &mut events, 5000);
    }
    assert_eq!(events[0], 0x8000_0001);
    assert_eq!(events[1], poller::RUSTLS_SOCKETS_EVENT_DONE);
    // the fd in events[3] may already be closed by the kernel's refusal; the errno says so
    let errno = events[2] as i32;
    if errno == 0 {
        assert_eq!(events[4], 1, "pending connect");
        socket::rustls_sockets_socket_close(events[3] as i32);
    } else {
        assert_eq!(errno, libc::ECONNREFUSED);
    }
    poller::rustls_sockets_poller_free(p);
    socket::rustls_sockets_socket_close(signal_fd);
    socket::rustls_sockets_socket_close(client_fd);
    socket::rustls_sockets_socket_close(server_fd);
    // bad addresses
    let bad = CString::new("not an ip").unwrap();
    assert_eq!(
        socket::rustls_sockets_tcp_connect(bad.as_ptr(), 1, &mut client_fd, &mut pending),
        libc::EINVAL
    );
}

/// Writes what `from` has queued to the non-blocking `fd` until it blocks;
/// bytes the socket did not take stay in `pending`.
fn flush_to_socket(from: *mut rustls_connection, fd: i32, pending: &mut Vec<u8>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let mut n = 0;
        assert_eq!(
            buffer_io::rustls_sockets_connection_drain_tls(
                from,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n
            ),
            OK
        );
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
    }
    while !pending.is_empty() {
        // SAFETY: a valid buffer of `pending.len()` bytes.
        let wrote = unsafe { libc::write(fd, pending.as_ptr().cast(), pending.len()) };
        if wrote <= 0 {
            break;
        }
        pending.drain(..wrote as usize);
    }
}

#[test]
fn read_ahead_hands_every_byte_to_rustls() {
    let pem = pki();
    let client_cfg = client_config(&pem);
    let server_cfg = server_config(&pem);
    let name = CString::new("localhost").unwrap();
    let mut client: *mut rustls_connection = null_mut();
    assert_eq!(
        lifecycle::rustls_sockets_client_connection_new(client_cfg, name.as_ptr(), &mut client),
        OK
    );
    let mut server: *mut rustls_connection = null_mut();
    assert_eq!(
        rustls_ffi::server::rustls_server_config::rustls_server_connection_new(
            server_cfg,
            &mut server
        ) as u32,
        OK
    );
    while rustls_connection::rustls_connection_is_handshaking(client)
        || rustls_connection::rustls_connection_is_handshaking(server)
    {
        pump(client, server);
        pump(server, client);
    }
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0);
    // 600 KiB one way, read with small rooms (4 KiB reads inside rustls) and large
    // ones (read-ahead), then close_notify followed by bytes nobody should read.
    let data: Vec<u8> = (0..600 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let (mut sent, mut closed) = (0usize, false);
    let mut pending = Vec::new();
    let mut got = Vec::new();
    let mut out = vec![0u8; 200 * 1024];
    let mut state = [0u32; 4];
    let rooms = [8 * 1024, 64 * 1024, 40 * 1024, 200 * 1024];
    for turn in 0.. {
        assert!(turn < 100_000, "no progress");
        if sent < data.len() {
            let mut n = 0;
            let rc = rustls_connection::rustls_connection_write(
                server,
                data[sent..].as_ptr(),
                (data.len() - sent).min(50_000),
                &mut n,
            );
            assert_eq!(rc as u32, OK);
            sent += n;
        } else if !closed {
            rustls_connection::rustls_connection_send_close_notify(server);
            closed = true;
        }
        flush_to_socket(server, fds[0], &mut pending);
        if closed && pending.is_empty() {
            // more than rustls takes per read_tls: some stay read ahead, parked
            pending.extend_from_slice(&[0x17; 20 * 1024]);
            flush_to_socket(server, fds[0], &mut pending);
            closed = false; // once
            sent = usize::MAX;
        }
        // the last read takes close_notify and the bytes after it in one read-ahead
        let room = if sent == usize::MAX {
            200 * 1024
        } else {
            rooms[turn % rooms.len()]
        };
        let rc = fd_io::rustls_sockets_connection_recv_fd(
            client,
            fds[1],
            out.as_mut_ptr(),
            room,
            state.as_mut_ptr(),
        );
        assert_eq!(rc, OK, "turn {turn}");
        got.extend_from_slice(&out[..state[0] as usize]);
        if state[2] & record_io::RUSTLS_SOCKETS_IO_PEER_CLOSED != 0 {
            break;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte, in order");
    // SAFETY: both descriptors are ours.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    lifecycle::rustls_sockets_connection_free(client);
    rustls_connection::rustls_connection_free(server);
    lifecycle::rustls_sockets_client_config_free(client_cfg);
    lifecycle::rustls_sockets_server_config_free(server_cfg);
    assert_eq!(live(), [0, 0, 0, 0]);
}
