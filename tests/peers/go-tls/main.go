// A small Go crypto/tls server used as an independent TLS peer by the tests.
// It prints "LISTENING <port>" once ready and serves until killed.
//
// Modes: echo (echo bytes until EOF, then close_notify), abrupt (handshake,
// write "bye", close TCP without close_notify), silent (accept TCP, never answer),
// reset-early (read part of the ClientHello, then reset the TCP connection),
// reset-late (handshake, write "data", then reset the TCP connection),
// report (write one JSON line about the handshake — ECH accepted, SNI seen,
// group — then echo).
//
// With -ech-public-name it also accepts Encrypted Client Hello: it makes an
// X25519 HPKE key, prints "ECHCONFIGLIST <base64>" (the list a client needs)
// before "LISTENING", and retries with that list when a client's ECH fails.
package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
)

func version(name string) uint16 {
	switch name {
	case "1.2":
		return tls.VersionTLS12
	case "1.3":
		return tls.VersionTLS13
	}
	return 0
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	certFile := flag.String("cert", "", "PEM certificate chain (client mode: client certificate)")
	keyFile := flag.String("key", "", "PEM private key")
	clientCA := flag.String("client-ca", "", "require client certificates issued by this PEM CA")
	minVersion := flag.String("min", "1.2", "minimum TLS version (1.2 or 1.3)")
	maxVersion := flag.String("max", "1.3", "maximum TLS version (1.2 or 1.3)")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols")
	mode := flag.String("mode", "echo", "echo | abrupt | silent | reset-early | reset-late")
	connect := flag.String("connect", "", "client mode: connect to this host:port instead of listening")
	serverName := flag.String("servername", "localhost", "client mode: SNI and verified name")
	caFile := flag.String("ca", "", "client mode: PEM roots")
	send := flag.String("send", "hello", "client mode: bytes to send before reading the answer")
	echPublicName := flag.String("ech-public-name", "", "accept ECH with a fresh key; this is the outer SNI")
	flag.Parse()

	if *connect != "" {
		runClient(*connect, *serverName, *caFile, *certFile, *keyFile, *alpn, *minVersion, *maxVersion, *send)
		return
	}

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   version(*minVersion),
		MaxVersion:   version(*maxVersion),
	}
	if *alpn != "" {
		config.NextProtos = strings.Split(*alpn, ",")
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		config.ClientCAs = pool
		config.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if *echPublicName != "" {
		key, list := echKey(*echPublicName)
		config.EncryptedClientHelloKeys = []tls.EncryptedClientHelloKey{key}
		fmt.Printf("ECHCONFIGLIST %s\n", base64.StdEncoding.EncodeToString(list))
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		raw, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(raw, config, *mode)
	}
}

// echKey makes an ECH key (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM; draft-ietf-tls-esni ECHConfig version 0xfe0d) and returns it
// with the ECHConfigList that carries its public half.
func echKey(publicName string) (tls.EncryptedClientHelloKey, []byte) {
	private, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	public := private.PublicKey().Bytes()
	var contents []byte
	contents = append(contents, 7)         // config_id
	contents = u16(contents, 0x0020)       // kem_id: DHKEM(X25519, HKDF-SHA256)
	contents = u16(contents, len(public))  // public_key
	contents = append(contents, public...) //
	contents = u16(contents, 4)            // cipher_suites: one
	contents = u16(contents, 0x0001)       // kdf_id: HKDF-SHA256
	contents = u16(contents, 0x0001)       // aead_id: AES-128-GCM
	contents = append(contents, 0)         // maximum_name_length
	contents = append(contents, byte(len(publicName)))
	contents = append(contents, publicName...)
	contents = u16(contents, 0) // no extensions
	config := u16(nil, 0xfe0d)
	config = u16(config, len(contents))
	config = append(config, contents...)
	list := u16(nil, len(config))
	list = append(list, config...)
	return tls.EncryptedClientHelloKey{Config: config, PrivateKey: private.Bytes(), SendAsRetry: true}, list
}

// runClient connects, sends `send`, reads until the server closes and prints
// one JSON line: {"version":..., "alpn":..., "answer":..., "error":...}.
func runClient(addr, serverName, caFile, certFile, keyFile, alpn, minV, maxV, send string) {
	config := &tls.Config{ServerName: serverName, MinVersion: version(minV), MaxVersion: version(maxV)}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		config.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			log.Fatal(err)
		}
		config.Certificates = []tls.Certificate{cert}
	}
	if alpn != "" {
		config.NextProtos = strings.Split(alpn, ",")
	}
	result := map[string]string{}
	conn, err := tls.Dial("tcp", addr, config)
	if err == nil {
		state := conn.ConnectionState()
		result["version"] = tls.VersionName(state.Version)
		result["alpn"] = state.NegotiatedProtocol
		if _, err = conn.Write([]byte(send)); err == nil {
			var answer []byte
			answer, err = io.ReadAll(conn)
			result["answer"] = string(answer)
		}
		conn.Close()
	}
	if err != nil {
		result["error"] = err.Error()
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

func serve(raw net.Conn, config *tls.Config, mode string) {
	if mode == "silent" {
		io.Copy(io.Discard, raw)
		raw.Close()
		return
	}
	reset := func() {
		raw.(*net.TCPConn).SetLinger(0) // close sends RST
		raw.Close()
	}
	if mode == "reset-early" {
		buf := make([]byte, 10)
		io.ReadFull(raw, buf)
		reset()
		return
	}
	conn := tls.Server(raw, config)
	defer conn.Close()
	if err := conn.Handshake(); err != nil {
		fmt.Printf("HANDSHAKE_ERROR %v\n", err)
		return
	}
	switch mode {
	case "report":
		state := conn.ConnectionState()
		report, _ := json.Marshal(map[string]any{
			"echAccepted": state.ECHAccepted,
			"serverName":  state.ServerName,
			"version":     tls.VersionName(state.Version),
		})
		conn.Write(append(report, '\n'))
		io.Copy(conn, conn)
		conn.CloseWrite()
	case "abrupt":
		conn.Write([]byte("bye"))
		raw.Close()
	case "reset-late":
		conn.Write([]byte("data"))
		buf := make([]byte, 4)
		io.ReadFull(conn, buf) // wait for the client's go-ahead
		reset()
	default:
		if _, err := io.Copy(conn, conn); err != nil {
			fmt.Printf("READ_ERROR %v\n", err)
		}
		conn.CloseWrite()
		io.Copy(io.Discard, conn)
	}
}
