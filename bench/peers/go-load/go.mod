module rustls-sockets/bench/go-load

go 1.24
