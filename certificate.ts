/**
 * Certificates for people and for pinning: `describeCertificate` summarises
 * a DER certificate (names, validity, fingerprint, key type, pin).
 *
 * @example
 * ```ts
 * import { describeCertificate } from "@rustls-sockets/tls/certificate";
 *
 * const summary = await describeCertificate(info.peerCertificates[0]);
 * console.log(summary.subject, summary.notAfter, summary.publicKeyPin);
 * ```
 *
 * @module
 */
export { describeCertificate } from "./lib/tls/certificate.ts";
export type { CertificateSummary } from "./lib/core/types.ts";
