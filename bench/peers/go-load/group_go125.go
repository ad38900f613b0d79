//go:build go1.25

package main

import "crypto/tls"

// groupName is the negotiated key exchange group (ConnectionState.CurveID is Go 1.25's).
func groupName(state *tls.ConnectionState) string {
	if state == nil || state.CurveID == 0 {
		return ""
	}
	return state.CurveID.String()
}
