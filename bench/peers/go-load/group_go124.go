//go:build !go1.25

package main

import "crypto/tls"

// groupName is empty: Go before 1.25 does not say which group a handshake used.
func groupName(*tls.ConnectionState) string { return "" }
