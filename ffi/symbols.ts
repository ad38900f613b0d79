/**
 * The one symbol table of the native library, in a neutral form that the Deno
 * and Bun loaders translate one-to-one. Data only: each entry gives the C
 * signature it mirrors.
 *
 * Neutral types: `u8`/`u16`/`u32`/`i32` (number), `usize` (a number argument;
 * never used as a result so that both runtimes agree), `bool`, `void`,
 * `pointer` (an opaque native pointer), `buffer` (a typed array or null passed
 * as a pointer to its bytes), `function` (a native callback pointer).
 *
 * The calls made per record (the fused receive and send calls, `feed_tls`,
 * raw socket reads and writes) take `u32` lengths, never `usize`: Deno 2.9
 * runs an FFI call with a `usize` argument through its slow path (~600 ns a
 * call, allocating, measured with a 5-argument call that returns at once)
 * rather than V8's fast calls (~85 ns). Setup calls keep `size_t`.
 *
 * @module
 */

/** A C type as the loaders understand it. */
export type NativeType =
  | "void"
  | "bool"
  | "u8"
  | "u16"
  | "u32"
  | "i32"
  | "usize"
  | "pointer"
  | "buffer"
  | "function";

/** One function of the library. */
export interface SymbolSpec {
  /** Argument types, in order. */
  readonly parameters: readonly NativeType[];
  /** Result type. */
  readonly result: NativeType;
}

/** Every native function the module calls. */
export const SYMBOLS = {
  // --- the library itself -------------------------------------------------
  // u32 rustls_sockets_version(u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_version: { parameters: ["buffer", "usize", "buffer"], result: "u32" },
  // void *rustls_sockets_pointer_from_cell(void *const *cell)
  rustls_sockets_pointer_from_cell: { parameters: ["buffer"], result: "pointer" },

  // --- errors -------------------------------------------------------------
  // u32 rustls_sockets_error_text(u32 result, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_error_text: { parameters: ["u32", "buffer", "usize", "buffer"], result: "u32" },
  // u32 rustls_sockets_crypto_provider_name(u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_crypto_provider_name: { parameters: ["buffer", "usize", "buffer"], result: "u32" },

  // --- crypto provider (rustls-ffi) ---------------------------------------
  // rustls_result rustls_crypto_provider_builder_new_from_default(rustls_crypto_provider_builder **out)
  rustls_crypto_provider_builder_new_from_default: { parameters: ["buffer"], result: "u32" },
  // rustls_result rustls_crypto_provider_builder_build(rustls_crypto_provider_builder *b, const rustls_crypto_provider **out)
  rustls_crypto_provider_builder_build: { parameters: ["pointer", "buffer"], result: "u32" },
  // void rustls_crypto_provider_builder_free(rustls_crypto_provider_builder *b)
  rustls_crypto_provider_builder_free: { parameters: ["pointer"], result: "void" },

  // --- certificates and keys (rustls-ffi) ---------------------------------
  // rustls_result rustls_certified_key_build(const u8 *chain, size_t, const u8 *key, size_t, const rustls_certified_key **out)
  rustls_certified_key_build: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_certified_key_with_ocsp(const rustls_certified_key *key, const u8 *der,
  //                                            size_t len, const rustls_certified_key **out)
  rustls_sockets_certified_key_with_ocsp: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // rustls_result rustls_certified_key_keys_match(const rustls_certified_key *key)
  rustls_certified_key_keys_match: { parameters: ["pointer"], result: "u32" },
  // void rustls_certified_key_free(const rustls_certified_key *key)
  rustls_certified_key_free: { parameters: ["pointer"], result: "void" },
  // rustls_root_cert_store_builder *rustls_root_cert_store_builder_new(void)
  rustls_root_cert_store_builder_new: { parameters: [], result: "pointer" },
  // rustls_result rustls_root_cert_store_builder_add_pem(builder *, const u8 *pem, size_t len, bool strict)
  rustls_root_cert_store_builder_add_pem: {
    parameters: ["pointer", "buffer", "usize", "bool"],
    result: "u32",
  },
  // rustls_result rustls_root_cert_store_builder_build(builder *, const rustls_root_cert_store **out)
  rustls_root_cert_store_builder_build: { parameters: ["pointer", "buffer"], result: "u32" },
  // void rustls_root_cert_store_builder_free(builder *)
  rustls_root_cert_store_builder_free: { parameters: ["pointer"], result: "void" },
  // void rustls_root_cert_store_free(const rustls_root_cert_store *)
  rustls_root_cert_store_free: { parameters: ["pointer"], result: "void" },

  // --- server certificate verifiers (rustls-ffi) --------------------------
  // rustls_result rustls_platform_server_cert_verifier_try_with_provider(const provider *, rustls_server_cert_verifier **out)
  rustls_platform_server_cert_verifier_try_with_provider: {
    parameters: ["pointer", "buffer"],
    result: "u32",
  },
  // rustls_web_pki_server_cert_verifier_builder *..._builder_new_with_provider(const provider *, const rustls_root_cert_store *)
  rustls_web_pki_server_cert_verifier_builder_new_with_provider: {
    parameters: ["pointer", "pointer"],
    result: "pointer",
  },
  // rustls_result rustls_web_pki_server_cert_verifier_builder_build(builder *, rustls_server_cert_verifier **out)
  rustls_web_pki_server_cert_verifier_builder_build: {
    parameters: ["pointer", "buffer"],
    result: "u32",
  },
  // void rustls_web_pki_server_cert_verifier_builder_free(builder *)
  rustls_web_pki_server_cert_verifier_builder_free: { parameters: ["pointer"], result: "void" },
  // void rustls_server_cert_verifier_free(rustls_server_cert_verifier *)
  rustls_server_cert_verifier_free: { parameters: ["pointer"], result: "void" },

  // --- client configuration (rustls-ffi) ----------------------------------
  // rustls_result rustls_client_config_builder_new_custom(const provider *, const u16 *versions, size_t n, builder **out)
  rustls_client_config_builder_new_custom: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_client_config_builder_enable_ech(builder *, const u8 *list, size_t len, const rustls_hpke *)
  rustls_client_config_builder_enable_ech: {
    parameters: ["pointer", "buffer", "usize", "pointer"],
    result: "u32",
  },
  // u32 rustls_client_config_builder_enable_ech_grease(builder *, const rustls_hpke *)
  rustls_client_config_builder_enable_ech_grease: {
    parameters: ["pointer", "pointer"],
    result: "u32",
  },
  // const rustls_hpke *rustls_supported_hpke(void) (NULL when the provider has no HPKE: ring)
  rustls_supported_hpke: { parameters: [], result: "pointer" },
  // void rustls_client_config_builder_set_server_verifier(builder *, const rustls_server_cert_verifier *)
  rustls_client_config_builder_set_server_verifier: {
    parameters: ["pointer", "pointer"],
    result: "void",
  },
  // u32 rustls_sockets_client_config_builder_set_alpn_protocols(builder *, const u8 *wire, size_t len)
  rustls_sockets_client_config_builder_set_alpn_protocols: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // rustls_result rustls_client_config_builder_set_certified_key(builder *, const rustls_certified_key **keys, size_t n)
  rustls_client_config_builder_set_certified_key: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // u32 rustls_sockets_client_config_builder_build(builder *, const rustls_client_config **out) (counted)
  rustls_sockets_client_config_builder_build: { parameters: ["pointer", "buffer"], result: "u32" },
  // void rustls_client_config_builder_free(builder *)
  rustls_client_config_builder_free: { parameters: ["pointer"], result: "void" },
  // void rustls_sockets_client_config_free(const rustls_client_config *) (counted)
  rustls_sockets_client_config_free: { parameters: ["pointer"], result: "void" },

  // --- server configuration (rustls-ffi) ----------------------------------
  // rustls_result rustls_server_config_builder_new_custom(const provider *, const u16 *versions, size_t n, builder **out)
  rustls_server_config_builder_new_custom: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // rustls_result rustls_server_config_builder_set_certified_keys(builder *, const rustls_certified_key **keys, size_t n)
  rustls_server_config_builder_set_certified_keys: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // u32 rustls_sockets_server_config_builder_set_alpn_protocols(builder *, const u8 *wire, size_t len)
  rustls_sockets_server_config_builder_set_alpn_protocols: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // void rustls_server_config_builder_set_client_verifier(builder *, const rustls_client_cert_verifier *)
  rustls_server_config_builder_set_client_verifier: {
    parameters: ["pointer", "pointer"],
    result: "void",
  },
  // u32 rustls_sockets_server_config_builder_build(builder *, const rustls_server_config **out) (counted)
  rustls_sockets_server_config_builder_build: { parameters: ["pointer", "buffer"], result: "u32" },
  // void rustls_server_config_builder_free(builder *)
  rustls_server_config_builder_free: { parameters: ["pointer"], result: "void" },
  // void rustls_sockets_server_config_free(const rustls_server_config *) (counted)
  rustls_sockets_server_config_free: { parameters: ["pointer"], result: "void" },
  // rustls_web_pki_client_cert_verifier_builder *..._builder_new_with_provider(const provider *, const rustls_root_cert_store *)
  rustls_web_pki_client_cert_verifier_builder_new_with_provider: {
    parameters: ["pointer", "pointer"],
    result: "pointer",
  },
  // rustls_result rustls_web_pki_client_cert_verifier_builder_add_crl(builder *, const u8 *pem, size_t len)
  rustls_web_pki_client_cert_verifier_builder_add_crl: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_client_cert_verifier_builder_allow_unauthenticated(builder *)
  rustls_web_pki_client_cert_verifier_builder_allow_unauthenticated: {
    parameters: ["pointer"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_client_cert_verifier_builder_build(builder *, rustls_client_cert_verifier **out)
  rustls_web_pki_client_cert_verifier_builder_build: {
    parameters: ["pointer", "buffer"],
    result: "u32",
  },
  // void rustls_web_pki_client_cert_verifier_builder_free(builder *)
  rustls_web_pki_client_cert_verifier_builder_free: { parameters: ["pointer"], result: "void" },
  // void rustls_client_cert_verifier_free(rustls_client_cert_verifier *)
  rustls_client_cert_verifier_free: { parameters: ["pointer"], result: "void" },

  // --- accepting (rustls-ffi acceptor + helpers) ---------------------------
  // rustls_acceptor *rustls_acceptor_new(void)
  rustls_acceptor_new: { parameters: [], result: "pointer" },
  // void rustls_acceptor_free(rustls_acceptor *)
  rustls_acceptor_free: { parameters: ["pointer"], result: "void" },
  // void rustls_accepted_free(rustls_accepted *)
  rustls_accepted_free: { parameters: ["pointer"], result: "void" },
  // u32 rustls_sockets_acceptor_recv_fd(rustls_acceptor *, int fd, rustls_accepted **out, u32 state[4])
  rustls_sockets_acceptor_recv_fd: {
    parameters: ["pointer", "i32", "buffer", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_acceptor_feed_tls(rustls_acceptor *, const u8 *buf, size_t len, rustls_accepted **out,
  //                                      u8 *alert, size_t alert_cap, size_t *alert_n)
  rustls_sockets_acceptor_feed_tls: {
    parameters: ["pointer", "buffer", "usize", "buffer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_accepted_get_info(const rustls_accepted *, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_accepted_get_info: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },

  // --- connections (rustls-ffi) -------------------------------------------
  // void rustls_sockets_connection_free(rustls_connection *) (counted)
  rustls_sockets_connection_free: { parameters: ["pointer"], result: "void" },
  // bool rustls_connection_is_handshaking(const rustls_connection *)
  rustls_connection_is_handshaking: { parameters: ["pointer"], result: "bool" },
  // bool rustls_connection_wants_write(const rustls_connection *)
  rustls_connection_wants_write: { parameters: ["pointer"], result: "bool" },
  // rustls_result rustls_connection_refresh_traffic_keys(rustls_connection *)
  rustls_connection_refresh_traffic_keys: { parameters: ["pointer"], result: "u32" },
  // void rustls_connection_send_close_notify(rustls_connection *)
  rustls_connection_send_close_notify: { parameters: ["pointer"], result: "void" },
  // u32 rustls_sockets_connection_get_info(rustls_connection *, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_get_info: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_copy_peer_certificate(rustls_connection *, size_t i, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_copy_peer_certificate: {
    parameters: ["pointer", "usize", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_recv_fd(rustls_connection *, int fd, u8 *buf, u32 cap, u32 state[4])
  rustls_sockets_connection_recv_fd: {
    parameters: ["pointer", "i32", "buffer", "u32", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_send_fd(rustls_connection *, int fd, const u8 *buf, u32 len, u32 state[4])
  rustls_sockets_connection_send_fd: {
    parameters: ["pointer", "i32", "buffer", "u32", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_feed_tls(rustls_connection *, const u8 *buf, u32 len, size_t *out_n)
  rustls_sockets_connection_feed_tls: {
    parameters: ["pointer", "buffer", "u32", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_recv_buf(rustls_connection *, const u8 *input, u32 in_len, u32 eof,
  //                                        u8 *plain, u32 plain_cap, u8 *output, u32 out_cap, u32 state[8])
  rustls_sockets_connection_recv_buf: {
    parameters: ["pointer", "buffer", "u32", "u32", "buffer", "u32", "buffer", "u32", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_send_buf(rustls_connection *, const u8 *data, u32 len,
  //                                        u8 *output, u32 out_cap, u32 state[8])
  rustls_sockets_connection_send_buf: {
    parameters: ["pointer", "buffer", "u32", "buffer", "u32", "buffer"],
    result: "u32",
  },

  // --- negotiation and secrets ---------------------------------------------
  // u32 rustls_sockets_crypto_provider_restrict(const rustls_crypto_provider *base, const char *suites,
  //     const char *groups, const rustls_crypto_provider **out, u8 *msg, size_t msg_cap, size_t *out_msg_n)
  rustls_sockets_crypto_provider_restrict: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_client_config_builder_capture_secrets(rustls_client_config_builder *, u32 mode)
  rustls_sockets_client_config_builder_capture_secrets: {
    parameters: ["pointer", "u32"],
    result: "u32",
  },
  // u32 rustls_sockets_server_config_builder_capture_secrets(rustls_server_config_builder *, u32 mode)
  rustls_sockets_server_config_builder_capture_secrets: {
    parameters: ["pointer", "u32"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_fatal_alert(rustls_connection *, u32 is_client, u8 description,
  //     u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_fatal_alert: {
    parameters: ["pointer", "u32", "u8", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // void rustls_sockets_connection_forget_secrets(rustls_connection *, u32 keep)
  rustls_sockets_connection_forget_secrets: { parameters: ["pointer", "u32"], result: "void" },
  // u32 rustls_sockets_connection_take_key_log(rustls_connection *, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_take_key_log: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_export_keying_material(rustls_connection *, u8 *out, size_t len,
  //     const u8 *label, size_t label_len, const u8 *context, size_t context_len, u32 has_context)
  rustls_sockets_connection_export_keying_material: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "buffer", "usize", "u32"],
    result: "u32",
  },

  // rustls_server_cert_verifier *rustls_sockets_server_cert_verifier_recording(const rustls_server_cert_verifier *)
  rustls_sockets_server_cert_verifier_recording: { parameters: ["pointer"], result: "pointer" },
  // u32 rustls_sockets_connection_take_ocsp_response(rustls_connection *, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_take_ocsp_response: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_connection_verify_failure(rustls_connection *, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_connection_verify_failure: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },

  // --- sockets ------------------------------------------------------------
  // int rustls_sockets_tcp_listen(const char *ip, u16 port, int backlog, u32 flags, int *out_fd)
  rustls_sockets_tcp_listen: {
    parameters: ["buffer", "u16", "i32", "u32", "buffer"],
    result: "i32",
  },
  // int rustls_sockets_unix_connect(const char *path, int *out_fd, u32 *out_pending)
  rustls_sockets_unix_connect: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  // int rustls_sockets_unix_listen(const char *path, int backlog, int *out_fd)
  rustls_sockets_unix_listen: { parameters: ["buffer", "i32", "buffer"], result: "i32" },
  // int rustls_sockets_tcp_accept(int fd, int *out_fd)
  rustls_sockets_tcp_accept: { parameters: ["i32", "buffer"], result: "i32" },
  // int rustls_sockets_socket_readable(int fd)
  rustls_sockets_socket_readable: { parameters: ["i32"], result: "i32" },
  // int rustls_sockets_socket_take_error(int fd)
  rustls_sockets_socket_take_error: { parameters: ["i32"], result: "i32" },
  // int rustls_sockets_socket_address(int fd, u32 peer, u8 *buf, size_t cap, size_t *out_n, u16 *out_port)
  rustls_sockets_socket_address: {
    parameters: ["i32", "u32", "buffer", "usize", "buffer", "buffer"],
    result: "i32",
  },
  // int rustls_sockets_socket_shutdown(int fd, int how)
  rustls_sockets_socket_shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // int rustls_sockets_socket_set_nonblocking(int fd)
  rustls_sockets_socket_set_nonblocking: { parameters: ["i32"], result: "i32" },
  // int rustls_sockets_socket_send(int fd, const u8 *buf, u32 len, size_t *out_n)
  rustls_sockets_socket_send: { parameters: ["i32", "buffer", "u32", "buffer"], result: "i32" },
  // int rustls_sockets_socket_recv(int fd, u8 *buf, u32 cap, size_t *out_n)
  rustls_sockets_socket_recv: { parameters: ["i32", "buffer", "u32", "buffer"], result: "i32" },
  // int rustls_sockets_socket_close(int fd)
  rustls_sockets_socket_close: { parameters: ["i32"], result: "i32" },

  // --- readiness ----------------------------------------------------------
  // int rustls_sockets_poller_new(rustls_sockets_poller **out)
  rustls_sockets_poller_new: { parameters: ["buffer"], result: "i32" },
  // void rustls_sockets_poller_free(rustls_sockets_poller *)
  rustls_sockets_poller_free: { parameters: ["pointer"], result: "void" },
  // int rustls_sockets_poller_arm(const rustls_sockets_poller *, int fd, u32 interest, u32 token)
  rustls_sockets_poller_arm: { parameters: ["pointer", "i32", "u32", "u32"], result: "i32" },
  // int rustls_sockets_poller_disarm(const rustls_sockets_poller *, int fd)
  rustls_sockets_poller_disarm: { parameters: ["pointer", "i32"], result: "i32" },
  // int rustls_sockets_poller_start_signal_thread(const rustls_sockets_poller *, void (*signal)(void))
  rustls_sockets_poller_start_signal_thread: { parameters: ["pointer", "function"], result: "i32" },
  // int rustls_sockets_poller_start_signal_socket(const rustls_sockets_poller *, int *out_fd)
  rustls_sockets_poller_start_signal_socket: { parameters: ["pointer", "buffer"], result: "i32" },
  // u32 rustls_sockets_poller_take(const rustls_sockets_poller *, u32 *out, u32 max_events)
  rustls_sockets_poller_take: { parameters: ["pointer", "buffer", "u32"], result: "u32" },
  // int rustls_sockets_poller_submit_recv(const rustls_sockets_poller *, rustls_connection *, int fd, u32 token)
  rustls_sockets_poller_submit_recv: {
    parameters: ["pointer", "pointer", "i32", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_recv_buf(const rustls_sockets_poller *, rustls_connection *,
  //                                           const u8 *input, u32 len, u32 eof, u32 token)
  rustls_sockets_poller_submit_recv_buf: {
    parameters: ["pointer", "pointer", "buffer", "u32", "u32", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_into_connection(const rustls_sockets_poller *, rustls_accepted *,
  //                                                  const rustls_server_config *, int fd, u32 token)
  rustls_sockets_poller_submit_into_connection: {
    parameters: ["pointer", "pointer", "pointer", "i32", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_load_roots(const rustls_sockets_poller *, rustls_root_cert_store_builder *,
  //                                             const char *path, u32 token)
  rustls_sockets_poller_submit_load_roots: {
    parameters: ["pointer", "pointer", "buffer", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_client_connection(const rustls_sockets_poller *,
  //                                                    const rustls_client_config *, const char *name, u32 token)
  rustls_sockets_poller_submit_client_connection: {
    parameters: ["pointer", "pointer", "buffer", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_connect(const rustls_sockets_poller *, const char *ip, u16 port, u32 token)
  rustls_sockets_poller_submit_connect: {
    parameters: ["pointer", "buffer", "u16", "u32"],
    result: "i32",
  },
  // int rustls_sockets_poller_submit_close(const rustls_sockets_poller *, rustls_connection *, int fd, u32 token)
  rustls_sockets_poller_submit_close: {
    parameters: ["pointer", "pointer", "i32", "u32"],
    result: "i32",
  },
  // --- certificates and verification helpers ------------------------------
  // u32 rustls_sockets_certificate_describe(const u8 *der, size_t len, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_certificate_describe: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_certificate_spki(const u8 *der, size_t len, u8 *buf, size_t cap, size_t *out_n)
  rustls_sockets_certificate_spki: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer"],
    result: "u32",
  },
  // u32 rustls_sockets_client_config_builder_dangerous_disable_verification(rustls_client_config_builder *)
  rustls_sockets_client_config_builder_dangerous_disable_verification: {
    parameters: ["pointer"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_server_cert_verifier_builder_add_crl(builder *, const u8 *pem, size_t len)
  rustls_web_pki_server_cert_verifier_builder_add_crl: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_server_cert_verifier_allow_unknown_revocation_status(builder *)
  rustls_web_pki_server_cert_verifier_allow_unknown_revocation_status: {
    parameters: ["pointer"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_server_cert_verifier_enforce_revocation_expiry(builder *)
  rustls_web_pki_server_cert_verifier_enforce_revocation_expiry: {
    parameters: ["pointer"],
    result: "u32",
  },
  // rustls_result rustls_web_pki_client_cert_verifier_allow_unknown_revocation_status(builder *)
  rustls_web_pki_client_cert_verifier_allow_unknown_revocation_status: {
    parameters: ["pointer"],
    result: "u32",
  },
  // void rustls_sockets_debug_live_objects(int64_t out[4])
  rustls_sockets_debug_live_objects: { parameters: ["buffer"], result: "void" },
} as const satisfies Record<string, SymbolSpec>;

/** An opaque native pointer (Deno: a pointer object; Bun: a number). `null` is NULL. */
export type Pointer = { readonly __nativePointer: never } | null;

/** Bytes passed to a `buffer` parameter. */
export type BufferArg =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | null;

type ParamValue<T extends NativeType> = T extends "pointer" | "function" ? Pointer
  : T extends "buffer" ? BufferArg
  : T extends "bool" ? boolean
  : number;

type ResultValue<T extends NativeType> = T extends "void" ? void
  : T extends "pointer" ? Pointer
  : T extends "bool" ? boolean
  : number;

type ParamValues<P extends readonly NativeType[]> = { [K in keyof P]: ParamValue<P[K]> };

/** The native library as JS functions, typed from {@link SYMBOLS}. */
export type NativeSymbols = {
  [K in keyof typeof SYMBOLS]: (
    ...args: ParamValues<typeof SYMBOLS[K]["parameters"]>
  ) => ResultValue<typeof SYMBOLS[K]["result"]>;
};

/** What a runtime loader gives the rest of the module. */
export interface NativeLibrary {
  /** Which runtime loaded it. */
  readonly runtime: "deno" | "bun";
  /** The functions of {@link SYMBOLS}. */
  readonly symbols: NativeSymbols;
  /** Reads the pointer a native call stored in an 8-byte out cell. */
  pointerFrom(cell: BigUint64Array): Pointer;
  /**
   * Bun only: wraps `fn` as a native callback that native threads may call;
   * the call runs later on the JS thread.
   */
  readonly threadSafeCallback?: (fn: () => void) => { pointer: Pointer; close(): void };
}
