//! The ServerHello taps: parsers that look at both directions of a
//! handshaking connection's byte stream and find the server random, which
//! rustls-ffi does not expose. Plain parsing with no shared state;
//! `server_random` keeps the taps of each connection between calls.

/// Finds the server random in one direction of a connection's byte stream:
/// the 32 bytes after the version in the first handshake message, when that
/// is a ServerHello (RFC 5246 §7.4.1.3). rustls-ffi does not expose it, and
/// the TLS 1.2 exporter (RFC 5705) needs it.
#[derive(Default)]
pub(crate) struct HelloTap {
    header: [u8; 5],
    have_header: usize,
    left_in_record: usize,
    handshake: Vec<u8>,
    done: bool,
    /// The type of the first handshake message seen (1 ClientHello, 2 ServerHello).
    first_type: Option<u8>,
}

impl HelloTap {
    /// Whether more bytes would tell nothing new.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// Gives up (bytes were missed).
    pub(crate) fn fail(&mut self) {
        self.done = true;
        self.handshake.clear();
    }

    /// Looks at the next bytes of the stream.
    pub(crate) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.done {
            if self.have_header < 5 {
                let take = (5 - self.have_header).min(data.len());
                self.header[self.have_header..self.have_header + take]
                    .copy_from_slice(&data[..take]);
                self.have_header += take;
                data = &data[take..];
                if self.have_header == 5 {
                    self.left_in_record =
                        u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                }
                continue;
            }
            let take = self.left_in_record.min(data.len());
            if self.header[0] == 22 && take > 0 {
                let want = 38 - self.handshake.len();
                self.handshake.extend_from_slice(&data[..take.min(want)]);
                self.first_type.get_or_insert(self.handshake[0]);
                if self.handshake[0] != 2 || self.handshake.len() == 38 {
                    // Not a ServerHello (this is the client's direction), or complete.
                    self.done = true;
                }
            }
            self.left_in_record -= take;
            data = &data[take..];
            if self.left_in_record == 0 {
                self.have_header = 0;
            }
        }
    }

    /// The type of the first handshake message of this direction, once seen.
    pub(crate) fn first_type(&self) -> Option<u8> {
        self.first_type
    }

    /// The server random, once seen.
    pub(crate) fn server_random(&self) -> Option<[u8; 32]> {
        if self.handshake.len() == 38 && self.handshake[0] == 2 {
            self.handshake[6..38].try_into().ok()
        } else {
            None
        }
    }
}

const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// The two directions of a handshaking connection.
#[derive(Default)]
pub(crate) struct Taps {
    pub(crate) incoming: HelloTap,
    pub(crate) outgoing: HelloTap,
}

/// The server random the taps found, read by side: a client takes it from
/// what it received, a server from what it sent. The side is told by the
/// first handshake message this end sent (a ClientHello or a ServerHello),
/// so a client cannot plant a "ServerHello" in a server's incoming view.
pub(crate) fn server_random_by_side(taps: &Taps) -> Option<[u8; 32]> {
    match taps.outgoing.first_type()? {
        HANDSHAKE_CLIENT_HELLO => taps.incoming.server_random(),
        HANDSHAKE_SERVER_HELLO => taps.outgoing.server_random(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plaintext handshake record holding the start of a hello of `kind` with `random`.
    fn hello_record(kind: u8, random: [u8; 32]) -> Vec<u8> {
        let mut body = vec![kind, 0, 0, 70, 3, 3];
        body.extend_from_slice(&random);
        body.extend_from_slice(&[0u8; 36]);
        let mut record = vec![22, 3, 3];
        record.extend_from_slice(&(body.len() as u16).to_be_bytes());
        record.extend_from_slice(&body);
        record
    }

    #[test]
    fn a_server_reads_the_server_random_from_what_it_sent() {
        let mut taps = Taps::default();
        taps.outgoing
            .feed(&hello_record(HANDSHAKE_SERVER_HELLO, [1; 32]));
        // A client cannot plant its own "ServerHello" in the server's view.
        taps.incoming
            .feed(&hello_record(HANDSHAKE_SERVER_HELLO, [2; 32]));
        assert_eq!(server_random_by_side(&taps), Some([1; 32]));
    }

    #[test]
    fn a_client_reads_the_server_random_from_what_it_received() {
        let mut taps = Taps::default();
        taps.outgoing
            .feed(&hello_record(HANDSHAKE_CLIENT_HELLO, [3; 32]));
        assert_eq!(server_random_by_side(&taps), None, "not seen yet");
        taps.incoming
            .feed(&hello_record(HANDSHAKE_SERVER_HELLO, [4; 32]));
        assert_eq!(server_random_by_side(&taps), Some([4; 32]));
    }

    #[test]
    fn nothing_is_told_before_this_end_sent_its_hello() {
        let mut taps = Taps::default();
        taps.incoming
            .feed(&hello_record(HANDSHAKE_SERVER_HELLO, [5; 32]));
        assert_eq!(server_random_by_side(&taps), None);
    }
}
