//! The crypto provider: the name of the one this library was built with,
//! and negotiation control rustls-ffi 0.15 lacks, a provider restricted to
//! (and ordered by) the cipher suites and key exchange groups a user names,
//! with rustls' own names.

use rustls::crypto::CryptoProvider;
use rustls_ffi::crypto_provider::rustls_crypto_provider;

use crate::pointers;
use crate::{boundary, RESULT_INVALID_PARAMETER, RESULT_NULL_PARAMETER, RESULT_OK, RESULT_PANIC};

/// The comma-separated names in `text` (none when NULL or empty).
fn names(text: *const libc::c_char) -> Vec<String> {
    pointers::c_text(text)
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Picks `wanted` (in that order) out of `available`, or says which name is unknown.
fn pick<T: Copy>(
    what: &str,
    wanted: &[String],
    available: &[T],
    name_of: impl Fn(&T) -> String,
) -> Result<Vec<T>, String> {
    let mut chosen = Vec::new();
    for name in wanted {
        let Some(item) = available
            .iter()
            .find(|a| name_of(a).eq_ignore_ascii_case(name))
        else {
            let known: Vec<String> = available.iter().map(&name_of).collect();
            return Err(format!(
                "unknown {what} {name:?}; this build supports: {}",
                known.join(", ")
            ));
        };
        chosen.push(*item);
    }
    Ok(chosen)
}

/// A copy of `base` offering only the comma-separated `cipher_suites` and
/// `kx_groups` (rustls names, e.g. `TLS13_AES_256_GCM_SHA384`, `X25519`,
/// `secp256r1`, `X25519MLKEM768`; matched case-insensitively), in the order
/// given; an empty list keeps `base`'s; `out_provider` gets the copy. An
/// unknown name gives `RUSTLS_RESULT_INVALID_PARAMETER` with a message in
/// `msg` (capacity `msg_cap`, length in `out_msg_n`).
///
/// Borrows `base`, `cipher_suites` and `kx_groups` for the call; the caller
/// owns the provider put in `*out_provider` and frees it with
/// `rustls_crypto_provider_free`; `msg` must hold `msg_cap` bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn rustls_sockets_crypto_provider_restrict(
    base: *const rustls_crypto_provider,
    cipher_suites: *const libc::c_char,
    kx_groups: *const libc::c_char,
    out_provider: *mut *const rustls_crypto_provider,
    msg: *mut u8,
    msg_cap: usize,
    out_msg_n: *mut usize,
) -> u32 {
    boundary(RESULT_PANIC, || {
        let Some(base) = pointers::provider_ref(base) else {
            return RESULT_NULL_PARAMETER;
        };
        if out_provider.is_null() {
            return RESULT_NULL_PARAMETER;
        }
        pointers::put(out_msg_n, 0);
        let restricted = restrict(base, &names(cipher_suites), &names(kx_groups));
        match restricted {
            Ok(provider) => {
                pointers::put(out_provider, pointers::provider_into_ffi(provider));
                RESULT_OK
            }
            Err(text) => {
                pointers::copy_out(text.as_bytes(), msg, msg_cap, out_msg_n);
                RESULT_INVALID_PARAMETER
            }
        }
    })
}

fn restrict(
    base: &CryptoProvider,
    suites: &[String],
    groups: &[String],
) -> Result<CryptoProvider, String> {
    let mut provider = base.clone();
    if !suites.is_empty() {
        provider.cipher_suites = pick("cipher suite", suites, &base.cipher_suites, |s| {
            s.suite()
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{:?}", s.suite()))
        })?;
    }
    if !groups.is_empty() {
        provider.kx_groups = pick("key exchange group", groups, &base.kx_groups, |g| {
            g.name()
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{:?}", g.name()))
        })?;
    }
    Ok(provider)
}

/// Copies the name of the crypto provider this library was built with
/// (`aws-lc-rs` or `ring`) into `buf` (capacity `cap`), its length into `out_n`.
///
/// `buf` must hold `cap` bytes.
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
        pointers::copy_out(NAME.as_bytes(), buf, cap, out_n)
    })
}
