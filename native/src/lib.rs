//! One shared library for the TypeScript module: rustls-ffi's whole C API
//! (re-exported by linking the `rustls-ffi` crate, whose `#[no_mangle]`
//! functions stay exported from this cdylib) plus the few functions a
//! JavaScript FFI needs and rustls-ffi lacks:
//!
//! - [`io`]: fused "socket <-> rustls" calls over a non-blocking fd, so no JS
//!   callback is ever invoked from native code and one FFI call moves a whole
//!   batch of records;
//! - [`buffer`]: the same for ciphertext held in JS memory (any transport);
//! - [`info`]: accessors that copy into caller buffers instead of returning
//!   `rustls_str` by value (which Bun's FFI cannot receive);
//! - [`socket`]: non-blocking TCP sockets (IPv4/IPv6);
//! - [`poller`]: one epoll instance shared by every socket, waited on from a
//!   runtime worker thread (Deno) or a native thread that signals JS (Bun);
//! - [`provider`]: cipher suite and key exchange group choice;
//! - [`secrets`]: TLS secrets captured per connection (key log, exporter);
//! - [`verify`]: the details of refused certificate chains, for messages.
//!
//! All `unsafe` code lives in [`raw`]. Every exported function runs inside
//! [`boundary`], which turns a panic into an error value. Names follow
//! rustls-ffi's style with the `rustls_sockets_` prefix.

pub mod acceptor;
pub mod alert;
pub mod buffer;
pub mod certificate;
pub mod debug;
#[cfg(feature = "describe")]
mod describe;
pub mod info;
pub mod io;
pub mod poller;
pub mod provider;
mod raw;
mod readahead;
pub mod secrets;
mod side_table;
pub mod socket;
pub mod verify;

/// Re-exported so the linker keeps rustls-ffi's C API in this library.
pub use rustls_ffi;

/// `RUSTLS_RESULT_OK`.
pub const RESULT_OK: u32 = 7000;
/// `RUSTLS_RESULT_NULL_PARAMETER`.
pub const RESULT_NULL_PARAMETER: u32 = 7002;
/// `RUSTLS_RESULT_PANIC`.
pub const RESULT_PANIC: u32 = 7004;
/// `RUSTLS_RESULT_INSUFFICIENT_SIZE`.
pub const RESULT_INSUFFICIENT_SIZE: u32 = 7007;
/// `RUSTLS_RESULT_NOT_FOUND`.
pub const RESULT_NOT_FOUND: u32 = 7008;
/// `RUSTLS_RESULT_INVALID_PARAMETER`.
pub const RESULT_INVALID_PARAMETER: u32 = 7009;
/// `RUSTLS_RESULT_UNEXPECTED_EOF`.
pub const RESULT_UNEXPECTED_EOF: u32 = 7010;
/// `RUSTLS_RESULT_PLAINTEXT_EMPTY`.
pub const RESULT_PLAINTEXT_EMPTY: u32 = 7011;
/// `RUSTLS_RESULT_IO`.
pub const RESULT_IO: u32 = 7001;
/// This library's own result: the build leaves the feature out (e.g. `describe`).
pub const RESULT_NOT_SUPPORTED: u32 = 7013;

/// Runs `f`, turning a panic into `on_panic` so that no unwind crosses the C ABI.
pub(crate) fn boundary<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Copies the name of the crypto provider this library was built with
/// (`aws-lc-rs` or `ring`) into `buf` (capacity `cap`), its length into `out_n`.
#[no_mangle]
pub extern "C" fn rustls_sockets_crypto_provider_name(
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> u32 {
    #[cfg(feature = "aws-lc-rs")]
    const NAME: &str = "aws-lc-rs";
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    const NAME: &str = "ring";
    boundary(RESULT_PANIC, || {
        raw::copy_out(NAME.as_bytes(), buf, cap, out_n)
    })
}
