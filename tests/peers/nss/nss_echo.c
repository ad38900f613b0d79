/*
 * An NSS (libssl3) TLS echo server for tests/interop/nss.test.ts, compiled and
 * started by tests/helpers/jvm_nss_peers.ts. NSS's own selfserv cannot echo a
 * large upload (it reads one HTTP-like request of at most 10 KiB), hence this
 * program.
 *
 *   nss-echo <nss-db> <certificate-nickname> <1.2|1.3>
 *
 * Opens the NSS database (e.g. "sql:/tmp/db", holding the certificate and its
 * key), listens on 127.0.0.1 with exactly that TLS version, prints
 * "LISTENING <port>", accepts one connection, prints "PROTOCOL TLSv1.x",
 * echoes until the peer's close_notify, prints "ECHOED <bytes>" and closes
 * (sending its own close_notify). Any failure prints NSS's error name on
 * stderr and exits with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cert.h>
#include <nspr.h>
#include <nss.h>
#include <pk11pub.h>
#include <ssl.h>
#include <sslproto.h>

static void fail(const char *what) {
    PRErrorCode code = PR_GetError();
    const char *name = PR_ErrorToName(code);
    fprintf(stderr, "nss-echo: %s failed: %s (%d)\n", what, name ? name : "?", (int)code);
    exit(1);
}

static const char *version_name(PRUint16 version) {
    switch (version) {
    case SSL_LIBRARY_VERSION_TLS_1_3: return "TLSv1.3";
    case SSL_LIBRARY_VERSION_TLS_1_2: return "TLSv1.2";
    case SSL_LIBRARY_VERSION_TLS_1_1: return "TLSv1.1";
    case SSL_LIBRARY_VERSION_TLS_1_0: return "TLSv1.0";
    default: return "unknown";
    }
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[3], "1.2") != 0 && strcmp(argv[3], "1.3") != 0)) {
        fprintf(stderr, "usage: nss-echo <nss-db> <certificate-nickname> <1.2|1.3>\n");
        return 2;
    }
    PRUint16 version = strcmp(argv[3], "1.3") == 0 ? SSL_LIBRARY_VERSION_TLS_1_3
                                                   : SSL_LIBRARY_VERSION_TLS_1_2;

    if (NSS_Init(argv[1]) != SECSuccess) fail("NSS_Init");
    if (NSS_SetDomesticPolicy() != SECSuccess) fail("NSS_SetDomesticPolicy");
    if (SSL_ConfigServerSessionIDCache(0, 0, 0, NULL) != SECSuccess) fail("SSL_ConfigServerSessionIDCache");

    CERTCertificate *cert = PK11_FindCertFromNickname(argv[2], NULL);
    if (!cert) fail("PK11_FindCertFromNickname");
    SECKEYPrivateKey *key = PK11_FindKeyByAnyCert(cert, NULL);
    if (!key) fail("PK11_FindKeyByAnyCert");

    PRFileDesc *tcp = PR_OpenTCPSocket(PR_AF_INET);
    if (!tcp) fail("PR_OpenTCPSocket");
    PRNetAddr addr;
    if (PR_InitializeNetAddr(PR_IpAddrLoopback, 0, &addr) != PR_SUCCESS) fail("PR_InitializeNetAddr");
    if (PR_Bind(tcp, &addr) != PR_SUCCESS) fail("PR_Bind");
    if (PR_Listen(tcp, 4) != PR_SUCCESS) fail("PR_Listen");

    PRFileDesc *listener = SSL_ImportFD(NULL, tcp);
    if (!listener) fail("SSL_ImportFD");
    if (SSL_OptionSet(listener, SSL_SECURITY, PR_TRUE) != SECSuccess) fail("SSL_SECURITY");
    if (SSL_OptionSet(listener, SSL_HANDSHAKE_AS_SERVER, PR_TRUE) != SECSuccess) fail("SSL_HANDSHAKE_AS_SERVER");
    if (SSL_OptionSet(listener, SSL_HANDSHAKE_AS_CLIENT, PR_FALSE) != SECSuccess) fail("SSL_HANDSHAKE_AS_CLIENT");
    SSLVersionRange range = {version, version};
    if (SSL_VersionRangeSet(listener, &range) != SECSuccess) fail("SSL_VersionRangeSet");
    if (SSL_ConfigServerCert(listener, cert, key, NULL, 0) != SECSuccess) fail("SSL_ConfigServerCert");

    if (PR_GetSockName(listener, &addr) != PR_SUCCESS) fail("PR_GetSockName");
    printf("LISTENING %u\n", (unsigned)PR_ntohs(addr.inet.port));
    fflush(stdout);

    PRFileDesc *conn = PR_Accept(listener, NULL, PR_INTERVAL_NO_TIMEOUT);
    if (!conn) fail("PR_Accept");
    if (SSL_ForceHandshake(conn) != SECSuccess) fail("SSL_ForceHandshake");
    SSLChannelInfo info;
    if (SSL_GetChannelInfo(conn, &info, sizeof info) != SECSuccess) fail("SSL_GetChannelInfo");
    printf("PROTOCOL %s\n", version_name(info.protocolVersion));
    fflush(stdout);

    static char buffer[64 * 1024];
    long long echoed = 0;
    for (;;) {
        PRInt32 n = PR_Recv(conn, buffer, sizeof buffer, 0, PR_INTERVAL_NO_TIMEOUT);
        if (n == 0) break;
        if (n < 0) fail("PR_Recv");
        for (PRInt32 at = 0; at < n;) {
            PRInt32 sent = PR_Send(conn, buffer + at, n - at, 0, PR_INTERVAL_NO_TIMEOUT);
            if (sent <= 0) fail("PR_Send");
            at += sent;
        }
        echoed += n;
    }
    printf("ECHOED %lld\n", echoed);
    fflush(stdout);

    if (PR_Close(conn) != PR_SUCCESS) fail("PR_Close");
    PR_Close(listener);
    SECKEY_DestroyPrivateKey(key);
    CERT_DestroyCertificate(cert);
    if (SSL_ShutdownServerSessionIDCache() != SECSuccess) fail("SSL_ShutdownServerSessionIDCache");
    if (NSS_Shutdown() != SECSuccess) fail("NSS_Shutdown");
    return 0;
}
