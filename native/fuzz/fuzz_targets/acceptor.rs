//! `rustls_sockets_acceptor_feed_tls` and `rustls_sockets_accepted_get_info`
//! with arbitrary ClientHello bytes and output capacities.
#![no_main]

use std::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use rustls_ffi::acceptor::{rustls_accepted, rustls_acceptor};
use rustls_sockets::acceptor;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, rest)) = data.split_first() else {
        return;
    };
    let acceptor_ptr = rustls_acceptor::rustls_acceptor_new();
    let mut accepted = null_mut();
    let mut alert = vec![0u8; cap as usize];
    let mut alert_n = 0;
    let half = rest.len() / 2;
    for part in [&rest[..half], &rest[half..]] {
        let rc = acceptor::rustls_sockets_acceptor_feed_tls(
            acceptor_ptr,
            part.as_ptr(),
            part.len(),
            &mut accepted,
            alert.as_mut_ptr(),
            alert.len(),
            &mut alert_n,
        );
        assert!(alert_n <= alert.len());
        if rc != 7000 || !accepted.is_null() {
            break;
        }
    }
    if !accepted.is_null() {
        let mut record = vec![0u8; cap as usize * 4];
        let mut n = 0;
        acceptor::rustls_sockets_accepted_get_info(
            accepted,
            record.as_mut_ptr(),
            record.len(),
            &mut n,
        );
        rustls_accepted::rustls_accepted_free(accepted);
    }
    rustls_acceptor::rustls_acceptor_free(acceptor_ptr);
});
