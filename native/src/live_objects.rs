//! Live-object counters, so tests can assert that every native object the
//! module creates is freed exactly once: connections, client and server
//! configurations (counted by `lifecycle`'s constructors and destructors and
//! by the poller's jobs), reported with the number of TLS secrets filed for
//! connections by [`rustls_sockets_debug_live_objects`].

use std::sync::atomic::{AtomicI64, Ordering};

use crate::pointers;
use crate::{boundary, secrets};

/// What the counters count.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Connection = 0,
    ClientConfig = 1,
    ServerConfig = 2,
}

static LIVE: [AtomicI64; 3] = [AtomicI64::new(0), AtomicI64::new(0), AtomicI64::new(0)];

/// One more live object of `kind`.
pub(crate) fn created(kind: Kind) {
    LIVE[kind as usize].fetch_add(1, Ordering::Relaxed);
}

/// One fewer live object of `kind`.
pub(crate) fn freed(kind: Kind) {
    LIVE[kind as usize].fetch_sub(1, Ordering::Relaxed);
}

/// Writes the live counts `[connections, client configs, server configs,
/// secrets filed]` into `out` (four `int64_t`; the last counts the TLS
/// secrets held for connections, see `secrets`).
///
/// `out` must hold four `int64_t`.
#[no_mangle]
pub extern "C" fn rustls_sockets_debug_live_objects(out: *mut i64) {
    boundary((), || {
        let dest = pointers::bytes_mut(out as *mut u8, 32);
        if dest.len() == 32 {
            for (i, counter) in LIVE.iter().enumerate() {
                dest[i * 8..i * 8 + 8]
                    .copy_from_slice(&counter.load(Ordering::Relaxed).to_ne_bytes());
            }
            let held = secrets::held_count() as i64;
            dest[24..32].copy_from_slice(&held.to_ne_bytes());
        }
    })
}
