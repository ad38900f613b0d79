// A load tool for bench/peer.ts: Go crypto/tls servers and clients in a
// process of their own, standard library only.
//
// Server modes (print "LISTENING <port>", serve until stdin closes):
//
//	source  reads an 8-byte big-endian count N, writes N bytes, closes
//	sink    reads an 8-byte big-endian count N, reads N bytes, writes one
//	        byte (the ack), waits for the client to close
//	echo    writes back every byte it reads until EOF
//
// A server answers the stdin line "stats" with one line
// `STATS {"handshakes":...,"errors":...,"groups":{...},"cpuSeconds":...}`
// (handshakes and key exchange groups since the last "stats", the groups
// empty on Go before 1.25, which cannot tell; the process CPU time since it
// started) and starts counting again.
//
// Client modes (print one JSON line, with the process CPU time, then exit):
//
//	handshakes  -loops K parallel loops of sequential full handshakes
//	            (connect, handshake, close; no session cache) for -duration
//	roundtrips  -conns C connections, each making -rounds sequential round
//	            trips of -size bytes once all are connected
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// cpuSeconds is the process CPU time so far, user and system, every thread.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

// counts tallies a server's or a client's handshakes.
type counts struct {
	mu         sync.Mutex
	handshakes int
	errors     int
	firstError string
	groups     map[string]int
}

func (c *counts) done(state *tls.ConnectionState, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.errors++
		if c.firstError == "" {
			c.firstError = err.Error()
		}
		return
	}
	c.handshakes++
	if name := groupName(state); name != "" {
		if c.groups == nil {
			c.groups = map[string]int{}
		}
		c.groups[name]++
	}
}

// take returns the tallies so far and starts again from zero.
func (c *counts) take() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]any{"handshakes": c.handshakes, "errors": c.errors, "groups": c.groups}
	if c.firstError != "" {
		out["firstError"] = c.firstError
	}
	c.handshakes, c.errors, c.firstError, c.groups = 0, 0, "", nil
	return out
}

func main() {
	mode := flag.String("mode", "echo", "source | sink | echo | handshakes | roundtrips")
	addr := flag.String("addr", "127.0.0.1:0", "server modes: listen address")
	certFile := flag.String("cert", "", "server modes: PEM certificate chain")
	keyFile := flag.String("key", "", "server modes: PEM private key")
	connect := flag.String("connect", "", "client modes: host:port")
	caFile := flag.String("ca", "", "client modes: PEM roots")
	serverName := flag.String("servername", "localhost", "client modes: SNI and verified name")
	loops := flag.Int("loops", 16, "handshakes: parallel loops")
	duration := flag.Duration("duration", 3*time.Second, "handshakes: how long")
	conns := flag.Int("conns", 64, "roundtrips: connections")
	rounds := flag.Int("rounds", 2000, "roundtrips: round trips per connection")
	size := flag.Int("size", 64, "roundtrips: bytes per message")
	flag.Parse()

	switch *mode {
	case "source", "sink", "echo":
		serve(*mode, *addr, *certFile, *keyFile)
	case "handshakes", "roundtrips":
		config := &tls.Config{ServerName: *serverName, RootCAs: roots(*caFile)}
		var result map[string]any
		if *mode == "handshakes" {
			result = handshakes(*connect, config, *loops, *duration)
		} else {
			result = roundTrips(*connect, config, *conns, *rounds, *size)
		}
		result["cpuSeconds"] = cpuSeconds()
		out, _ := json.Marshal(result)
		fmt.Println(string(out))
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

func roots(caFile string) *x509.CertPool {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		log.Fatalf("no certificate in %s", caFile)
	}
	return pool
}

func serve(mode, addr, certFile, keyFile string) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		log.Fatal(err)
	}
	config := &tls.Config{Certificates: []tls.Certificate{cert}}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	var tally counts
	go func() {
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			if lines.Text() == "stats" {
				stats := tally.take()
				stats["cpuSeconds"] = cpuSeconds()
				out, _ := json.Marshal(stats)
				fmt.Printf("STATS %s\n", out)
			}
		}
		os.Exit(0) // the parent is gone or done
	}()
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		raw, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			conn := tls.Server(raw, config)
			defer conn.Close()
			err := conn.Handshake()
			state := conn.ConnectionState()
			tally.done(&state, err)
			if err == nil {
				handle(mode, conn)
			}
		}()
	}
}

func handle(mode string, conn *tls.Conn) {
	switch mode {
	case "echo":
		io.Copy(conn, conn)
		return
	}
	var header [8]byte
	if _, err := io.ReadFull(conn, header[:]); err != nil {
		return
	}
	n := int64(binary.BigEndian.Uint64(header[:]))
	if mode == "source" {
		chunk := make([]byte, 64*1024)
		for i := range chunk {
			chunk[i] = byte(i * 7)
		}
		for n > 0 {
			part := chunk[:min(n, int64(len(chunk)))]
			if _, err := conn.Write(part); err != nil {
				return
			}
			n -= int64(len(part))
		}
		conn.CloseWrite()
		io.Copy(io.Discard, conn)
		return
	}
	if _, err := io.CopyBuffer(io.Discard, io.LimitReader(conn, n), make([]byte, 256*1024)); err != nil {
		return
	}
	conn.Write([]byte{1})
	io.Copy(io.Discard, conn)
}

func handshakes(addr string, config *tls.Config, loops int, duration time.Duration) map[string]any {
	var tally counts
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(duration)
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				raw, err := net.Dial("tcp", addr)
				if err != nil {
					tally.done(nil, err)
					time.Sleep(time.Millisecond)
					continue
				}
				conn := tls.Client(raw, config)
				err = conn.Handshake()
				state := conn.ConnectionState()
				tally.done(&state, err)
				conn.Close()
			}
		}()
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	result := tally.take()
	result["seconds"] = seconds
	result["rate"] = float64(result["handshakes"].(int)) / seconds
	return result
}

func roundTrips(addr string, config *tls.Config, conns, rounds, size int) map[string]any {
	var tally counts
	opened := make([]*tls.Conn, conns)
	var wg sync.WaitGroup
	message := make([]byte, size)
	for i := range message {
		message[i] = byte(i)
	}
	// Connect all (and one warm-up round trip each) before the clock starts.
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := tls.Dial("tcp", addr, config)
			if err == nil {
				err = roundTrip(conn, message, make([]byte, size))
			}
			var state tls.ConnectionState
			if conn != nil {
				state = conn.ConnectionState()
			}
			tally.done(&state, err)
			if err == nil {
				opened[i] = conn
			}
		}()
	}
	wg.Wait()
	result := tally.take()
	if result["errors"].(int) > 0 {
		return result
	}
	samples := make([][]time.Duration, conns)
	failures := make([]error, conns)
	start := time.Now()
	for i, conn := range opened {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer := make([]byte, size)
			mine := make([]time.Duration, 0, rounds)
			for range rounds {
				t0 := time.Now()
				if err := roundTrip(conn, message, answer); err != nil {
					failures[i] = err
					break
				}
				mine = append(mine, time.Since(t0))
			}
			samples[i] = mine
		}()
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	for _, conn := range opened {
		conn.Close()
	}
	if err := errors.Join(failures...); err != nil {
		result["errors"] = 1
		result["firstError"] = err.Error()
		return result
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	// Nearest rank, as bench/stats.ts.
	at := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))]) / 1e3
	}
	result["roundTrips"] = len(all)
	result["seconds"] = seconds
	result["rate"] = float64(len(all)) / seconds
	result["p50us"] = at(0.5)
	result["p99us"] = at(0.99)
	return result
}

func roundTrip(conn *tls.Conn, message, answer []byte) error {
	if _, err := conn.Write(message); err != nil {
		return err
	}
	_, err := io.ReadFull(conn, answer)
	return err
}
