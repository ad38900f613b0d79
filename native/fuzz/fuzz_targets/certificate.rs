//! `rustls_sockets_certificate_describe` / `_spki` with arbitrary DER and
//! output capacities: a parse error or JSON, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls_sockets::certificate;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, der)) = data.split_first() else {
        return;
    };
    let mut out = vec![0u8; cap as usize * 16];
    let mut n = 0;
    if certificate::rustls_sockets_certificate_describe(
        der.as_ptr(),
        der.len(),
        out.as_mut_ptr(),
        out.len(),
        &mut n,
    ) == 7000
    {
        assert!(std::str::from_utf8(&out[..n]).is_ok());
    }
    certificate::rustls_sockets_certificate_spki(
        der.as_ptr(),
        der.len(),
        out.as_mut_ptr(),
        out.len(),
        &mut n,
    );
});
