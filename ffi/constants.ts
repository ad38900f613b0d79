/**
 * The named numbers of the native ABI: `rustls_result` codes (rustls-ffi's
 * `rustls.h` and this library's `native/include/rustls_sockets.h`), the IO
 * flags and state-block layouts of the fused calls, readiness interests and
 * event kinds. Data only, shared by every layer; `tests/abi/` checks each value
 * against the headers.
 *
 * @module
 */

/**
 * `rustls_result` codes the module names: `RUSTLS_RESULT_<NAME>` in
 * `rustls.h`, or this library's `RESULT_<NAME>` in `rustls_sockets.h`.
 */
export const RESULT = {
  OK: 7000,
  IO: 7001,
  NULL_PARAMETER: 7002,
  INVALID_DNS_NAME_ERROR: 7003,
  PANIC: 7004,
  CERTIFICATE_PARSE_ERROR: 7005,
  PRIVATE_KEY_PARSE_ERROR: 7006,
  INSUFFICIENT_SIZE: 7007,
  NOT_FOUND: 7008,
  INVALID_PARAMETER: 7009,
  UNEXPECTED_EOF: 7010,
  PLAINTEXT_EMPTY: 7011,
  CERTIFICATE_REVOCATION_LIST_PARSE_ERROR: 7014,
  NO_SERVER_CERT_VERIFIER: 7015,
  NO_DEFAULT_CRYPTO_PROVIDER: 7016,
  GET_RANDOM_FAILED: 7017,
  BUILDER_INCOMPATIBLE_TLS_VERSIONS: 7020,
  NO_CERTIFICATES_PRESENTED: 7101,
  FAILED_TO_GET_CURRENT_TIME: 7103,
  NO_APPLICATION_PROTOCOL: 7106,
  PEER_INCOMPATIBLE_ERROR: 7107,
  FAILED_TO_GET_RANDOM_BYTES: 7113,
  CERT_ENCODING_BAD: 7121,
  CERT_EXPIRED: 7122,
  CERT_NOT_YET_VALID: 7123,
  CERT_REVOKED: 7124,
  CERT_UNKNOWN_ISSUER: 7126,
  CERT_NOT_VALID_FOR_NAME: 7128,
  CERT_INVALID_PURPOSE: 7129,
  CERT_OTHER_ERROR: 7131,
  CERT_UNKNOWN_REVOCATION_STATUS: 7154,
  CERT_EXPIRED_REVOCATION_LIST: 7156,
  CERT_UNSUPPORTED_SIGNATURE_ALGORITHM: 7157,
  ALERT_CLOSE_NOTIFY: 7200,
  ALERT_UNKNOWN: 7234,
  CERT_REVOCATION_LIST_BAD_SIGNATURE: 7400,
  CERT_REVOCATION_LIST_UNSUPPORTED_SIGNATURE_ALGORITHM: 7411,
  CLIENT_CERT_VERIFIER_BUILDER_NO_ROOT_ANCHORS: 7500,
  INCONSISTENT_KEYS_KEYS_MISMATCH: 7600,
  INCONSISTENT_KEYS_UNKNOWN: 7601,
  INVALID_ENCRYPTED_CLIENT_HELLO_INVALID_CONFIG_LIST: 7700,
  INVALID_ENCRYPTED_CLIENT_HELLO_NO_COMPATIBLE_CONFIG: 7701,
  INVALID_ENCRYPTED_CLIENT_HELLO_SNI_REQUIRED: 7702,
  NOT_SUPPORTED: 7900,
} as const;

/** Flags in a state block's `FLAGS` word (`RUSTLS_SOCKETS_IO_<NAME>`). */
export const IO = {
  /** Nothing more to read right now: wait for readability. */
  READ_BLOCKED: 1,
  /** Ciphertext is pending and the carrier is full: wait for writability. */
  WRITE_BLOCKED: 2,
  /** close_notify received and all plaintext delivered. */
  PEER_CLOSED: 4,
  /** The carrier reported end of stream. */
  TRANSPORT_EOF: 8,
  /** The session is still handshaking. */
  HANDSHAKING: 16,
  /** The session still has ciphertext to send. */
  WANTS_WRITE: 32,
} as const;

/**
 * Word indices of the `u32[4]` state block the fd calls fill
 * (`[bytes, errno, flags, 0]`), and of the `u32[8]` block of the buffer calls,
 * which adds the input bytes consumed and the output bytes written.
 */
export const STATE = {
  /** Plaintext bytes delivered or accepted. */
  BYTES: 0,
  /** The errno of a failed system call (with `RESULT.IO`). */
  ERRNO: 1,
  /** {@link IO} flags. */
  FLAGS: 2,
  /** Buffer calls: input bytes consumed. */
  CONSUMED: 4,
  /** Buffer calls: output bytes written. */
  OUTPUT: 5,
} as const;

/** Readiness interests (`RUSTLS_SOCKETS_<NAME>`). */
export const INTEREST = {
  /** The fd can be read (or has an error or hang-up). */
  READABLE: 1,
  /** The fd can be written (or has an error or hang-up). */
  WRITABLE: 2,
} as const;

/** The event kind of a finished worker job (`RUSTLS_SOCKETS_EVENT_DONE`). */
export const EVENT_DONE = 0x100;

/** `rustls_sockets_tcp_listen` flags (`RUSTLS_SOCKETS_LISTEN_<NAME>`). */
export const LISTEN = {
  /** Set `SO_REUSEPORT`: several sockets listen on one port, the kernel spreads connections. */
  REUSE_PORT: 1,
} as const;

/** `u32`s per poller event: `[token, kind, result, a, b, c]`. */
export const EVENT_WORDS = 6;

/** The Linux errno values the module names (the native calls return them as they are). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
} as const;

/**
 * Mode bits of `rustls_sockets_*_config_builder_capture_secrets`
 * (`RUSTLS_SOCKETS_CAPTURE_<NAME>`): which TLS secrets a configuration files.
 */
export const CAPTURE = {
  /** Every secret, for a key log. */
  ALL: 1,
  /** Those of the fatal alert a refusal after the handshake sends (`native/src/alert.rs`). */
  ALERT: 2,
  /** The exporter secret (`exportKeyingMaterial`). */
  EXPORTER: 4,
} as const;
