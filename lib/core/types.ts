/**
 * The public option and result types.
 *
 * @module
 */

/** A TLS protocol version this module can negotiate. TLS 1.0 and 1.1 never are. */
export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/** A TCP endpoint, as Deno's `Deno.NetAddr`. */
export interface NetAddr {
  /** Always `"tcp"`. */
  transport: "tcp";
  /** IP address text (IPv6 without brackets). */
  hostname: string;
  /** Port number. */
  port: number;
}

/** A Unix-domain socket endpoint, as Deno's `Deno.UnixAddr`. */
export interface UnixAddr {
  /** Always `"unix"`. */
  transport: "unix";
  /** Filesystem path of the socket (empty for an unnamed client socket). */
  path: string;
}

/** The endpoint of a transport that has no address (a Web Streams pair). */
export interface StreamAddr {
  /** Always `"stream"`. */
  transport: "stream";
}

/** Where a connection's bytes go to or come from. */
export type Addr = NetAddr | UnixAddr | StreamAddr;

/** What the handshake negotiated and who the peer is. */
export interface HandshakeInfo {
  /** The protocol version. */
  protocol: TlsVersion;
  /** rustls' name of the cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`. */
  cipherSuite: string;
  /** rustls' name of the key exchange group, e.g. `X25519MLKEM768` or `X25519`. */
  keyExchangeGroup: string;
  /** The negotiated ALPN protocol, or `null` when none was. */
  alpnProtocol: string | null;
  /** Client side: the SNI name sent (null for an IP address). Server side: the SNI received. */
  serverName: string | null;
  /** Whether the session was resumed (no full handshake). */
  resumed: boolean;
  /** The peer's certificate chain as DER, leaf first (empty when it sent none). */
  peerCertificates: Uint8Array[];
  /**
   * Client side: the OCSP response (DER) the server stapled, passed on
   * unchecked; `null` when it stapled none (always `null` on a resumed
   * session and on the server side).
   */
  ocspResponse: Uint8Array | null;
}

/** Options shared by every TLS client entry point. */
export interface TlsClientOptions {
  /**
   * The name sent as SNI and verified against the certificate. Defaults to
   * `hostname`. An IP address is verified against the certificate's IP SANs
   * (and no SNI is sent).
   */
  serverName?: string;
  /**
   * PEM certificates to trust as roots. When given, ONLY these are trusted;
   * without it the platform verifier (system roots; `SSL_CERT_FILE` and
   * `SSL_CERT_DIR` honoured) is used.
   */
  caCerts?: string[];
  /**
   * PEM certificates trusted in addition to the system roots; with
   * `caCerts`, in addition to those instead.
   */
  extraCaCerts?: string[];
  /**
   * PEM certificate revocation lists: a revoked leaf or intermediate fails
   * with `CERT_REVOKED`. Applies to the whole chain. A CRL whose nextUpdate
   * has passed fails verification with `CERT_INVALID` (it cannot speak for
   * certificates revoked since) unless `dangerouslyIgnoreCrlExpiry` is set.
   */
  crls?: string[];
  /** DANGEROUS: accept CRLs past their nextUpdate (rustls' default; ours enforces expiry). */
  dangerouslyIgnoreCrlExpiry?: boolean;
  /**
   * Public-key pins in curl's form, `sha256//<base64 of SHA-256(SubjectPublicKeyInfo)>`:
   * after normal verification, the connection fails with `PIN_MISMATCH` unless
   * one pin matches the key of the peer's end-entity certificate. Pins of CA
   * certificates do not count: the peer may send any certificate besides its
   * verified chain, and rustls-ffi does not say which ones its verifier used.
   */
  pinnedPublicKeys?: string[];
  /**
   * Your own check, run after the handshake and before `handshake()` resolves
   * or any application data is exchanged (our last flight is still held
   * back); throwing (or rejecting) fails the connection with
   * `VERIFY_REJECTED` (the thrown error as `cause`) and sends the server a
   * fatal `access_denied` alert. A pin mismatch sends `bad_certificate`.
   */
  verifyPeer?: (info: HandshakeInfo) => void | Promise<void>;
  /**
   * DANGEROUS: accept any server certificate (expired, self-signed, wrong
   * name...). Only for tests against throw-away servers; logs a warning once.
   */
  dangerouslyDisableVerification?: true;
  /** PEM client certificate chain (leaf first), presented when the server asks. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /** Lowest version to accept (default `"TLSv1.2"`). */
  minVersion?: TlsVersion;
  /** Highest version to accept (default `"TLSv1.3"`). */
  maxVersion?: TlsVersion;
  /**
   * Cipher suites to offer or accept, most preferred first, by rustls name
   * (`TLS13_AES_128_GCM_SHA256`, `TLS13_AES_256_GCM_SHA384`,
   * `TLS13_CHACHA20_POLY1305_SHA256`, `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`, ...).
   * Default: rustls' safe defaults. An unknown name is `INVALID_CONFIG`.
   */
  cipherSuites?: string[];
  /**
   * Key exchange groups, most preferred first, by rustls name (`X25519MLKEM768`,
   * `X25519`, `secp256r1`, `secp384r1`). Default: rustls' (post-quantum
   * `X25519MLKEM768` first with the aws-lc-rs build). An unknown name is `INVALID_CONFIG`.
   */
  keyExchangeGroups?: string[];
  /**
   * Encrypted Client Hello: `{ configList }` is the server's ECHConfigList
   * (from its DNS HTTPS record, fetched privately), so the real server name
   * and the rest of the ClientHello are encrypted and only the list's public
   * name shows; the handshake fails rather than fall back in the clear.
   * `"grease"` sends a decoy ECH extension (RFC 9849 GREASE). Either one
   * means TLS 1.3 only; needs the aws-lc-rs build (HPKE).
   */
  ech?: { configList: Uint8Array } | "grease";
  /**
   * DANGEROUS for secrecy: receives every TLS secret of the connection as a
   * key log line (NSS format, what Wireshark reads). `"env"` appends them to
   * the file named by `SSLKEYLOGFILE` (nothing happens when it is unset);
   * without this option no secret is ever logged, whatever the environment says.
   */
  keyLog?: ((line: string) => void) | "env";
  /**
   * Keep the secret `exportKeyingMaterial()` derives from (TLS 1.3's exporter
   * secret, TLS 1.2's master secret) after the handshake, until the
   * connection is freed. Off by default: no secret is kept beyond what the
   * handshake itself needs.
   */
  exportKeyingMaterial?: boolean;
  /** Abort connecting and the handshake (rejects with `ABORTED`). */
  signal?: AbortSignal;
  /**
   * Milliseconds the whole call may take, from the call to the end of the
   * handshake: loading the library, building the configuration, the
   * handshake and `verifyPeer`, and for `connectTls` resolving the name and
   * the TCP connect (rejects with `TIMED_OUT`).
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds the connection may go without a read or write making
   * progress (bytes delivered or accepted); then it is closed and pending
   * operations reject with `TIMED_OUT`. Default: none.
   */
  idleTimeout?: number;
}

/** Options of {@link connectTls} over TCP. */
export interface ConnectTlsOptions extends TlsClientOptions {
  /** DNS name or IP literal of the server. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port. */
  port: number;
}

/** Options of {@link connectTls} over a Unix-domain socket. */
export interface ConnectUnixTlsOptions extends TlsClientOptions {
  /** Filesystem path of the server's socket. Give `serverName` too: it has no default here. */
  path: string;
}

/** A certificate chain and its private key, both PEM. */
export interface CertificateAndKey {
  /** PEM chain, leaf first. */
  cert: string;
  /** PEM private key of the leaf. */
  key: string;
  /** An OCSP response (DER) for the leaf, stapled to the handshakes that present it. */
  ocspResponse?: Uint8Array;
}

/** What the client asked for in its ClientHello. */
export interface ClientHelloInfo {
  /** The SNI name, or `null` when the client sent none. */
  serverName: string | null;
  /** The ALPN protocols the client offered, in its order. */
  alpnProtocols: string[];
}

/** Client certificate verification on the server. */
export interface ClientAuthOptions {
  /** PEM roots client certificates must chain to. */
  caCerts: string[];
  /** Whether a client without a certificate is refused (default `true`). */
  required?: boolean;
  /**
   * PEM certificate revocation lists; a revoked client certificate is
   * refused. Their nextUpdate is not enforced here: rustls-ffi 0.15's client
   * verifier builder has no switch for it (the client side's `crls` does).
   */
  crls?: string[];
}

/**
 * The server side of a TLS session: certificates, ALPN, versions, client
 * authentication. What `listenTls` and `acceptTls` share.
 */
export interface TlsServerOptions {
  /** The default certificate chain (PEM, leaf first), used when no SNI entry matches. */
  cert?: string;
  /** The default certificate's private key (PEM). */
  key?: string;
  /**
   * An OCSP response (DER) for the default certificate, stapled to every
   * handshake that presents it (clients see it as `HandshakeInfo.ocspResponse`).
   */
  ocspResponse?: Uint8Array;
  /**
   * Certificates chosen by the SNI name the client sent. Keys are DNS names,
   * or `*.example.com` for one label of wildcard; matched case-insensitively.
   */
  sni?: Record<string, CertificateAndKey>;
  /**
   * Called after the ClientHello was read when no `sni` entry matched; may be
   * async (it never delays other connections). Return `undefined` to fall back
   * to `cert`/`key`; with neither, the handshake fails with an
   * `unrecognized_name` alert.
   */
  resolveCertificate?: (
    info: ClientHelloInfo,
  ) => CertificateAndKey | undefined | Promise<CertificateAndKey | undefined>;
  /** ALPN protocols the server supports, most preferred first. */
  alpnProtocols?: string[];
  /** Lowest version to accept (default `"TLSv1.2"`). */
  minVersion?: TlsVersion;
  /** Highest version to accept (default `"TLSv1.3"`). */
  maxVersion?: TlsVersion;
  /**
   * Cipher suites to offer or accept, most preferred first, by rustls name
   * (`TLS13_AES_128_GCM_SHA256`, `TLS13_AES_256_GCM_SHA384`,
   * `TLS13_CHACHA20_POLY1305_SHA256`, `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`, ...).
   * Default: rustls' safe defaults. An unknown name is `INVALID_CONFIG`.
   */
  cipherSuites?: string[];
  /**
   * Key exchange groups, most preferred first, by rustls name (`X25519MLKEM768`,
   * `X25519`, `secp256r1`, `secp384r1`). Default: rustls' (post-quantum
   * `X25519MLKEM768` first with the aws-lc-rs build). An unknown name is `INVALID_CONFIG`.
   */
  keyExchangeGroups?: string[];
  /**
   * DANGEROUS for secrecy: receives every TLS secret of the connection as a
   * key log line (NSS format, what Wireshark reads). `"env"` appends them to
   * the file named by `SSLKEYLOGFILE` (nothing happens when it is unset);
   * without this option no secret is ever logged, whatever the environment says.
   */
  keyLog?: ((line: string) => void) | "env";
  /**
   * Keep the secret `exportKeyingMaterial()` derives from (TLS 1.3's exporter
   * secret, TLS 1.2's master secret) after the handshake, until the
   * connection is freed. Off by default: no secret is kept beyond what the
   * handshake itself needs.
   */
  exportKeyingMaterial?: boolean;
  /**
   * Milliseconds a client has to complete its handshake once it started,
   * `resolveCertificate` and `verifyPeer` included (`TIMED_OUT`). Default
   * 10 000, so a silent client cannot hold a connection forever;
   * `Infinity` removes the deadline.
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds a connection may go without a read or write making
   * progress (bytes delivered or accepted); then it is closed and pending
   * operations reject with `TIMED_OUT`. Default: none.
   */
  idleTimeout?: number;
  /** Ask clients for certificates and verify them. */
  clientAuth?: ClientAuthOptions;
  /**
   * Your own check of each client, run after its handshake and before
   * `handshake()` resolves or any application data is exchanged (its
   * session tickets are still held back); throwing fails that connection
   * with `VERIFY_REJECTED` and sends the client a fatal `access_denied` alert.
   */
  verifyPeer?: (info: HandshakeInfo) => void | Promise<void>;
}

/** Options of `listenTls`. */
export interface ListenTlsOptions extends TlsServerOptions {
  /** Address to listen on (default `"0.0.0.0"`; `"::1"` / `"::"` for IPv6). */
  hostname?: string;
  /** TCP port; `0` picks a free one (see `listener.addr`). */
  port?: number;
  /**
   * A Unix-domain socket path to listen on instead of `hostname`/`port`
   * (must not exist; removed again by `close()`).
   */
  path?: string;
  /** An already-listening socket to adopt instead of `hostname`/`port` (e.g. inherited). */
  fd?: number;
  /**
   * At most this many accepted connections open at once: beyond it a new
   * TCP connection is closed at once, without a handshake (as `node:tls`
   * does); accepting resumes when one closes. Default: no limit.
   */
  maxConnections?: number;
  /**
   * Sets `SO_REUSEPORT` (Linux) so that several processes or Workers can
   * listen on one port, the kernel spreading new connections among them.
   * Each listener must set it. TCP only.
   */
  reusePort?: boolean;
}

/** The certificates `TlsListener.setCertificates` replaces. */
export interface ServerCertificates {
  /** The new default chain (PEM, leaf first); with `key`. */
  cert?: string;
  /** The new default chain's private key (PEM); with `cert`. */
  key?: string;
  /** The new default certificate's stapled OCSP response (DER); with `cert`. */
  ocspResponse?: Uint8Array;
  /** The new SNI table, replacing the whole old one. */
  sni?: Record<string, CertificateAndKey>;
}

/** What `describeCertificate` tells about a DER certificate. */
export interface CertificateSummary {
  /** Subject distinguished name, e.g. `CN=example.com`. */
  subject: string;
  /** Issuer distinguished name. */
  issuer: string;
  /** DNS names of the subjectAltName extension. */
  dnsNames: string[];
  /** IP addresses of the subjectAltName extension. */
  ipAddresses: string[];
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
  /** Serial number, colon-separated hex. */
  serialNumber: string;
  /** SHA-256 of the whole certificate, colon-separated hex (what browsers show). */
  sha256Fingerprint: string;
  /** The key's pin in `pinnedPublicKeys` form: `sha256//<base64>`. */
  publicKeyPin: string;
  /** Key type and size, e.g. `ECDSA P-256`, `RSA 2048`, `Ed25519`. */
  publicKeyType: string;
  /** Whether it is a CA certificate (basicConstraints CA:TRUE). */
  isCA: boolean;
}
