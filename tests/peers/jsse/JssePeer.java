// A JSSE (Java's own TLS stack) peer for tests/interop/jsse.test.ts, started by
// tests/helpers/jvm_nss_peers.ts. It reads the PEM files of tests/helpers/pki.ts
// directly (certificates through CertificateFactory, PKCS#8 keys through
// KeyFactory) and speaks exactly one TLS version.
//
//   server --cert C --key K --protocol TLSv1.3
//     listens on 127.0.0.1, prints "LISTENING <port>", accepts one connection,
//     prints "PROTOCOL <version>", echoes everything until the client's
//     close_notify, prints "ECHOED <bytes>", then closes (its own close_notify).
//   client --port P --ca CA --server-name N --protocol TLSv1.2 --send IN --receive OUT
//     connects to 127.0.0.1:P verifying N (SNI and hostname check), prints
//     "PROTOCOL <version>", sends the file IN while reading as many bytes back,
//     writes them to OUT, waits for the server's close_notify ("PEER_CLOSED"),
//     prints "RECEIVED <bytes>" and closes.
//
// Any failure is an exception: a stack trace on stderr and exit status 1.
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public final class JssePeer {
    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("usage: JssePeer server|client --option value ...");
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        switch (args[0]) {
            case "server" -> server(options);
            case "client" -> client(options);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) throw new IllegalArgumentException("missing --" + name);
        return value;
    }

    private static void report(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static List<X509Certificate> readCertificates(String path) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certificates = new ArrayList<>();
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(Path.of(path)))) {
            for (var certificate : factory.generateCertificates(in)) certificates.add((X509Certificate) certificate);
        }
        if (certificates.isEmpty()) throw new IllegalArgumentException("no certificate in " + path);
        return certificates;
    }

    private static PrivateKey readPrivateKey(String path) throws Exception {
        String pem = Files.readString(Path.of(path), StandardCharsets.US_ASCII);
        if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException(path + " is not an unencrypted PKCS#8 key");
        }
        String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));
        for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (java.security.spec.InvalidKeySpecException notThisAlgorithm) {
                // try the next one
            }
        }
        throw new IllegalArgumentException("unsupported key type in " + path);
    }

    private static void server(Map<String, String> options) throws Exception {
        char[] password = "in-memory".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("leaf", readPrivateKey(required(options, "key")), password,
            readCertificates(required(options, "cert")).toArray(new X509Certificate[0]));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), null, null);

        try (SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            listener.setEnabledProtocols(new String[] {required(options, "protocol")});
            report("LISTENING " + listener.getLocalPort());
            try (SSLSocket socket = (SSLSocket) listener.accept()) {
                socket.startHandshake();
                report("PROTOCOL " + socket.getSession().getProtocol());
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] buffer = new byte[64 * 1024];
                long echoed = 0;
                for (int n; (n = in.read(buffer)) != -1; echoed += n) out.write(buffer, 0, n);
                out.flush();
                report("ECHOED " + echoed);
            }
        }
    }

    private static void client(Map<String, String> options) throws Exception {
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        int index = 0;
        for (X509Certificate ca : readCertificates(required(options, "ca"))) roots.setCertificateEntry("ca" + index++, ca);
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers.getTrustManagers(), null);

        String serverName = required(options, "server-name");
        int port = Integer.parseInt(required(options, "port"));
        byte[] data = Files.readAllBytes(Path.of(required(options, "send")));
        Socket tcp = new Socket(InetAddress.getByName("127.0.0.1"), port);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(tcp, serverName, port, true)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {required(options, "protocol")});
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setServerNames(List.of(new SNIHostName(serverName)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            report("PROTOCOL " + socket.getSession().getProtocol());

            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            OutputStream out = socket.getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    for (int at = 0; at < data.length; at += 256 * 1024) {
                        out.write(data, at, Math.min(256 * 1024, data.length - at));
                    }
                    out.flush();
                } catch (Throwable failure) {
                    writeFailure.set(failure);
                }
            });
            writer.start();

            InputStream in = socket.getInputStream();
            byte[] received = new byte[data.length];
            int have = 0;
            while (have < received.length) {
                int n = in.read(received, have, received.length - have);
                if (n == -1) throw new IllegalStateException("the server closed after " + have + " bytes");
                have += n;
            }
            writer.join();
            if (writeFailure.get() != null) throw new IllegalStateException("write failed", writeFailure.get());
            Files.write(Path.of(required(options, "receive")), received);
            int extra = in.read();
            if (extra != -1) throw new IllegalStateException("the server sent more than was echoed");
            report("PEER_CLOSED");
            report("RECEIVED " + have);
        }
    }
}
