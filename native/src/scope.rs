//! The connection the current thread works for. rustls-ffi's key-log
//! callback and a server certificate verifier get no user data, so every call
//! of this library that may make rustls log a secret or verify a chain runs
//! inside a [`Scope`] naming the connection (or the `rustls_accepted` it
//! comes from), and those callbacks file what they learn under [`current`]
//! in the side table.

use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// While alive, what rustls' callbacks report on this thread belongs to its key.
pub(crate) struct Scope(usize);

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Files what callbacks report on this thread under `key` (a connection or a
/// `rustls_accepted`) until the returned guard is dropped.
pub(crate) fn enter<T>(key: *const T) -> Scope {
    Scope(CURRENT.with(|c| c.replace(key as usize)))
}

/// The key of the innermost live [`Scope`] on this thread; `None` outside any.
pub(crate) fn current() -> Option<*const u8> {
    let key = CURRENT.with(|c| c.get());
    (key != 0).then_some(key as *const u8)
}
