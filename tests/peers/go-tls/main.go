// A small Go crypto/tls server used as an independent TLS peer by the tests.
// It prints "LISTENING <port>" once ready and serves until killed.
//
// Modes: echo (echo bytes until EOF, then close_notify), abrupt (handshake,
// write "bye", close TCP without close_notify), silent (accept TCP, never answer),
// reset-early (read part of the ClientHello, then reset the TCP connection),
// reset-late (handshake, write "data", then reset the TCP connection).
package main

import (
	"crypto/tls"
	"crypto/x509"
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
		return
	}
	switch mode {
	case "abrupt":
		conn.Write([]byte("bye"))
		raw.Close()
	case "reset-late":
		conn.Write([]byte("data"))
		buf := make([]byte, 4)
		io.ReadFull(conn, buf) // wait for the client's go-ahead
		reset()
	default:
		io.Copy(conn, conn)
		conn.CloseWrite()
		io.Copy(io.Discard, conn)
	}
}
