//! The state this library keeps beside a rustls connection, which
//! rustls-ffi has no room for: what the ServerHello taps saw, the server
//! random, the secrets filed for the key log, the exporter and a late alert,
//! the details of a refused certificate chain, the OCSP response a server
//! stapled, ciphertext read ahead but not yet handed to rustls, and a
//! receive call's failure kept until the plaintext before it was delivered.
//!
//! One table, keyed by the connection's address, or by its
//! `rustls_accepted`'s until the accepted hello becomes a connection
//! ([`rename`]). The counted free of a connection drops its entry
//! ([`forget`]), so nothing outlives the connection; an entry whose fields
//! are all empty is removed at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use zeroize::Zeroizing;

use crate::hello_tap::Taps;

/// A secret rustls logged for a connection (see `secrets`).
pub(crate) struct Secret {
    pub(crate) label: String,
    pub(crate) client_random: Vec<u8>,
    /// Wiped when dropped.
    pub(crate) secret: Zeroizing<Vec<u8>>,
    /// Already handed out by `rustls_sockets_connection_take_key_log`.
    pub(crate) taken: bool,
}

/// Everything kept for one connection.
#[derive(Default)]
pub(crate) struct Side {
    /// The ServerHello taps, while the handshake runs and the server random is unknown.
    pub(crate) taps: Option<Taps>,
    /// The server random, once a tap found it.
    pub(crate) server_random: Option<[u8; 32]>,
    /// Secrets rustls logged for this connection (wiped when dropped).
    pub(crate) secrets: Vec<Secret>,
    /// What the recording verifier filed about a refused chain (JSON).
    pub(crate) failure: Option<String>,
    /// The OCSP response the server stapled, filed by the recording verifier.
    pub(crate) ocsp_response: Option<Vec<u8>>,
    /// Ciphertext a receive call read ahead and could not hand to rustls.
    pub(crate) parked: Option<Vec<u8>>,
    /// What a receive call met after plaintext it delivered instead (a bad
    /// record behind good ones, a reset): the next receive call reports it.
    pub(crate) deferred: Option<Deferred>,
}

/// A receive call's failure, kept for the next call: `[result, errno, flags]`.
pub(crate) type Deferred = [u32; 3];

impl Side {
    /// Whether the next receive call has something to take first.
    fn holds_for_receive(&self) -> bool {
        self.parked.is_some() || self.deferred.is_some()
    }

    fn is_empty(&self) -> bool {
        self.taps.is_none()
            && self.server_random.is_none()
            && self.secrets.is_empty()
            && self.failure.is_none()
            && self.ocsp_response.is_none()
            && self.parked.is_none()
            && self.deferred.is_none()
    }
}

static TABLE: LazyLock<Mutex<HashMap<usize, Side>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Entries holding parked bytes or a deferred failure: the receive path looks
/// into the table only when some do.
static HELD_FOR_RECEIVE: AtomicUsize = AtomicUsize::new(0);

fn key<T>(owner: *const T) -> usize {
    owner as usize
}

/// Runs `f` on `owner`'s entry (made if missing; removed again if `f` leaves
/// it empty). `None` only if the table's lock was poisoned.
pub(crate) fn update<T, R>(owner: *const T, f: impl FnOnce(&mut Side) -> R) -> Option<R> {
    let mut table = TABLE.lock().ok()?;
    let k = key(owner);
    let side = table.entry(k).or_default();
    let held_before = side.holds_for_receive();
    let result = f(side);
    match (held_before, side.holds_for_receive()) {
        (false, true) => {
            HELD_FOR_RECEIVE.fetch_add(1, Ordering::AcqRel);
        }
        (true, false) => {
            HELD_FOR_RECEIVE.fetch_sub(1, Ordering::AcqRel);
        }
        _ => {}
    }
    if side.is_empty() {
        table.remove(&k);
    }
    Some(result)
}

/// Reads `owner`'s entry, if it has one.
pub(crate) fn read<T, R>(owner: *const T, f: impl FnOnce(&Side) -> R) -> Option<R> {
    TABLE.lock().ok()?.get(&key(owner)).map(f)
}

/// Whether any entry holds parked bytes or a deferred failure (a lock-free look).
pub(crate) fn any_held_for_receive() -> bool {
    HELD_FOR_RECEIVE.load(Ordering::Acquire) > 0
}

/// Drops everything kept for `owner` (it is being freed, or was refused).
pub(crate) fn forget<T>(owner: *const T) {
    let Ok(mut table) = TABLE.lock() else {
        return;
    };
    if let Some(side) = table.remove(&key(owner)) {
        if side.holds_for_receive() {
            HELD_FOR_RECEIVE.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Moves what was kept under `from` to `to` (an accepted hello became a connection).
pub(crate) fn rename<T, U>(from: *const T, to: *const U) {
    let Ok(mut table) = TABLE.lock() else {
        return;
    };
    if let Some(side) = table.remove(&key(from)) {
        // An accepted hello keeps secrets, taps and failures, never parked bytes
        // or a deferred failure (no receive call ran on it); the count stays right
        // whatever it held.
        if side.holds_for_receive() {
            HELD_FOR_RECEIVE.fetch_sub(1, Ordering::AcqRel);
        }
        let entry = table.entry(key(to)).or_default();
        entry.secrets.extend(side.secrets);
        entry.taps = entry.taps.take().or(side.taps);
        entry.server_random = entry.server_random.or(side.server_random);
        entry.failure = entry.failure.take().or(side.failure);
    }
}

/// Sums `count` over every entry (for the live-object counters).
pub(crate) fn total(count: impl Fn(&Side) -> usize) -> usize {
    TABLE
        .lock()
        .map(|table| table.values().map(count).sum())
        .unwrap_or(0)
}
