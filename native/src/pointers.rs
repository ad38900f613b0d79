//! The C side's pointers, read and written in one place: out-parameters,
//! caller buffers and strings borrowed for a call, objects this library
//! boxes for C and frees again, pointers handed to a worker thread, and the
//! pointer representation of rustls-ffi's objects where this library needs
//! what is behind them. Each `unsafe` block has its contract beside it; one
//! of the three modules that hold `unsafe` code (with `sys` and
//! `io_callbacks`).

use crate::{RESULT_INSUFFICIENT_SIZE, RESULT_NULL_PARAMETER, RESULT_OK};

/// Writes `value` through `out` when it is not NULL.
pub(crate) fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: the C caller passes either NULL or a valid, aligned, writable `T`.
        unsafe { out.write(value) }
    }
}

/// Reads a pointer out-parameter back (NULL gives NULL).
pub(crate) fn read_out<T>(ptr: *const *mut T) -> *mut T {
    if ptr.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a non-null out-parameter points to a valid, initialised pointer (just written).
    unsafe { ptr.read() }
}

/// Borrows `len` bytes at `ptr` (NULL or zero length gives an empty slice).
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the C caller guarantees `ptr` points to `len` readable bytes that
    // stay valid and unaliased for the duration of the call.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Borrows `len` writable bytes at `ptr` (NULL or zero length gives an empty slice).
pub(crate) fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
    if ptr.is_null() || len == 0 {
        return &mut [];
    }
    // SAFETY: the C caller guarantees `ptr` points to `len` writable bytes that
    // are not otherwise accessed for the duration of the call.
    unsafe { std::slice::from_raw_parts_mut(ptr, len) }
}

/// Copies `src` into the caller's buffer `buf` of `cap` bytes and writes the
/// full length to `out_n`; `RUSTLS_RESULT_INSUFFICIENT_SIZE` when it does not fit
/// (nothing copied, `out_n` still tells the size needed).
pub(crate) fn copy_out(src: &[u8], buf: *mut u8, cap: usize, out_n: *mut usize) -> u32 {
    if out_n.is_null() {
        return RESULT_NULL_PARAMETER;
    }
    put(out_n, src.len());
    if src.len() > cap {
        return RESULT_INSUFFICIENT_SIZE;
    }
    bytes_mut(buf, src.len()).copy_from_slice(src);
    RESULT_OK
}

/// Views a `rustls_str` returned by rustls-ffi as bytes; valid until the next
/// mutating call on the object it came from.
pub(crate) fn rustls_str_bytes<'a>(s: &rustls_ffi::rslice::rustls_str<'a>) -> &'a [u8] {
    // SAFETY: rustls-ffi builds every `rustls_str` from a live `&str`.
    let text: &str = unsafe { s.to_str() };
    // SAFETY: the bytes live as long as the `rustls_str` says (`'a`).
    unsafe { std::slice::from_raw_parts(text.as_ptr(), text.len()) }
}

/// A C string argument (NUL-terminated, UTF-8) as `&str`.
pub(crate) fn c_text<'a>(ptr: *const libc::c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the C caller passes a NUL-terminated string valid for the call.
    unsafe { std::ffi::CStr::from_ptr(ptr) }.to_str().ok()
}

/// A plain C function pointer JS hands us (Bun's threadsafe `JSCallback`).
pub(crate) type Signal = extern "C" fn();

/// Wraps the raw pointer of a `rustls_connection` so it can be named in safe code.
pub(crate) type Conn = *mut rustls_ffi::connection::rustls_connection;

/// Leaks `value` to C as an owned pointer; pair with [`free_box`].
pub(crate) fn into_box<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Borrows an object made by [`into_box`]; `None` for NULL.
pub(crate) fn box_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the C caller passes NULL or a live pointer from `into_box`.
    unsafe { ptr.as_ref() }
}

/// Frees an object made by [`into_box`]; NULL is ignored.
pub(crate) fn free_box<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the C caller passes a pointer from `into_box`, exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// A raw pointer that may cross to a worker thread. JS hands an object to a
/// job and does not touch it until the job's completion event arrives, so
/// exactly one thread uses it at a time.
pub(crate) struct Handoff<T>(pub *mut T);

// SAFETY: see the type's contract: the pointee is used by one thread at a time.
unsafe impl<T> Send for Handoff<T> {}

/// The `CryptoProvider` behind a `rustls_crypto_provider` pointer.
/// rustls-ffi (pinned to =0.15.7) hands these out as `Arc::into_raw` of a
/// `rustls::crypto::CryptoProvider` (its `Castable` with `OwnershipArc`).
pub(crate) fn provider_ref<'a>(
    ptr: *const rustls_ffi::crypto_provider::rustls_crypto_provider,
) -> Option<&'a rustls::crypto::CryptoProvider> {
    // SAFETY: see above; the caller keeps its reference alive for the call.
    unsafe { (ptr as *const rustls::crypto::CryptoProvider).as_ref() }
}

/// A new `rustls_crypto_provider` in rustls-ffi's representation (see
/// [`provider_ref`]), released with `rustls_crypto_provider_free`.
pub(crate) fn provider_into_ffi(
    provider: rustls::crypto::CryptoProvider,
) -> *const rustls_ffi::crypto_provider::rustls_crypto_provider {
    std::sync::Arc::into_raw(std::sync::Arc::new(provider)) as *const _
}

/// The verifier behind a `rustls_server_cert_verifier` pointer. rustls-ffi
/// (=0.15.7) hands these out as `Box::into_raw` of an
/// `Arc<dyn ServerCertVerifier>` (its `Castable` with `OwnershipBox`).
pub(crate) fn server_verifier_ref<'a>(
    ptr: *const rustls_ffi::verifier::rustls_server_cert_verifier,
) -> Option<&'a std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>> {
    // SAFETY: see above; the caller keeps its verifier alive for the call.
    unsafe {
        (ptr as *const std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>).as_ref()
    }
}

/// A new `rustls_server_cert_verifier` in rustls-ffi's representation (see
/// [`server_verifier_ref`]), freed with `rustls_server_cert_verifier_free`.
pub(crate) fn server_verifier_into_ffi(
    verifier: std::sync::Arc<dyn rustls::client::danger::ServerCertVerifier>,
) -> *mut rustls_ffi::verifier::rustls_server_cert_verifier {
    Box::into_raw(Box::new(verifier)) as *mut _
}
