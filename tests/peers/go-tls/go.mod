module rustls-sockets/tests/go-tls

go 1.24
