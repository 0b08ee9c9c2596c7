//! The pkt-line framing of git answers, read through while it is checked (bounds, malformed
//! lengths, error lines) before libgit2 keeps anything.

use std::io::{self, Read};

use super::{
    MAX_ADVERTISED_REFS, MAX_ADVERTISEMENT_BYTES, MESSAGE_LIMIT, Refusal, TransportError,
    displayable, io_error,
};

/// A git answer made of pkt-lines, read through while they are checked: a ref advertisement
/// (the answer of `info/refs`) holds at most [`MAX_ADVERTISED_REFS`] refs in
/// [`MAX_ADVERTISEMENT_BYTES`]; receive-pack's answer is side-band framed, and a band-3 (fatal)
/// message ends it. A length that is not one, or an `ERR` line, stops the read with a message
/// saying so (libgit2 gives none for the first, and cuts the second at its first NUL, calling
/// both network errors), before libgit2 has kept anything.
pub(super) struct PktLines<R> {
    inner: R,
    /// What the answer is, for messages.
    what: &'static str,
    /// Bounds for an advertisement.
    bounded: bool,
    /// Whether payloads start with a side-band number.
    sideband: bool,
    bytes: u64,
    /// pkt-lines with a payload.
    lines: u64,
    /// The length digits of the next pkt-line read so far.
    header: Vec<u8>,
    /// Payload bytes of the current pkt-line still to come.
    remaining: usize,
    /// The payload of the current pkt-line while it may be an error (at most one pkt-line,
    /// < 64 KiB).
    payload: Vec<u8>,
}

impl<R> PktLines<R> {
    pub(super) fn advertisement(inner: R) -> PktLines<R> {
        PktLines::new(inner, "ref advertisement", true, false)
    }

    pub(super) fn push_result(inner: R) -> PktLines<R> {
        PktLines::new(inner, "answer to the push", false, true)
    }

    fn new(inner: R, what: &'static str, bounded: bool, sideband: bool) -> PktLines<R> {
        PktLines {
            inner,
            what,
            bounded,
            sideband,
            bytes: 0,
            lines: 0,
            header: Vec::with_capacity(4),
            remaining: 0,
            payload: Vec::new(),
        }
    }

    /// The server's error text when the current payload is one: `ERR …`, or side-band 3.
    fn error_text(&self) -> Option<&[u8]> {
        match self.payload.strip_prefix(b"ERR ") {
            Some(text) => Some(text),
            None if self.sideband => self.payload.strip_prefix(&[3u8][..]),
            None => None,
        }
    }

    /// Checks `data`, the bytes read after the first `self.bytes`.
    fn scan(&mut self, mut data: &[u8]) -> io::Result<()> {
        let read = data.len();
        while !data.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len());
                if self.payload.len() < 4 || self.error_text().is_some() {
                    self.payload.extend_from_slice(&data[..take]);
                }
                self.remaining -= take;
                data = &data[take..];
                if self.remaining == 0
                    && let Some(text) = self.error_text()
                {
                    let text = displayable(&String::from_utf8_lossy(text), MESSAGE_LIMIT);
                    return Err(io_error(TransportError::Refused(Refusal::ServerSays(text))));
                }
                continue;
            }
            self.header.push(data[0]);
            data = &data[1..];
            if self.header.len() < 4 {
                continue;
            }
            let header = std::mem::take(&mut self.header);
            self.payload.clear();
            let length = std::str::from_utf8(&header)
                .ok()
                .filter(|_| header.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| usize::from_str_radix(hex, 16).ok());
            match length {
                Some(0) => {}
                Some(length @ 4..) => {
                    self.remaining = length - 4;
                    self.lines += 1;
                    // The `# service=` line is not a ref.
                    if self.bounded && self.lines > MAX_ADVERTISED_REFS + 1 {
                        return Err(io_error(TransportError::Refused(Refusal::TooManyRefs)));
                    }
                }
                _ => {
                    let at = (self.bytes + (read - data.len()) as u64).saturating_sub(4);
                    return Err(io_error(TransportError::Refused(Refusal::InvalidPktLine {
                        what: self.what,
                        length: displayable(&String::from_utf8_lossy(&header), MESSAGE_LIMIT),
                        at,
                    })));
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for PktLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n])?;
        self.bytes += n as u64;
        if self.bounded && self.bytes > MAX_ADVERTISEMENT_BYTES {
            return Err(io_error(TransportError::Refused(Refusal::TooLarge)));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(payload: &[u8]) -> Vec<u8> {
        let mut line = format!("{:04x}", payload.len() + 4).into_bytes();
        line.extend_from_slice(payload);
        line
    }

    /// Reads `answer` through `lines` to the end: the error message, if any.
    fn read_through(mut lines: PktLines<std::io::Cursor<Vec<u8>>>) -> Option<String> {
        let mut sink = Vec::new();
        lines
            .read_to_end(&mut sink)
            .err()
            .map(|err| err.to_string())
    }

    #[test]
    fn pkt_lines_are_bounded_and_errors_named() {
        let session = super::super::Session::begin(None, None);
        let service = pkt(b"# service=git-upload-pack\n");
        let advert = |body: Vec<u8>| {
            let mut answer = service.clone();
            answer.extend_from_slice(b"0000");
            answer.extend(body);
            PktLines::advertisement(std::io::Cursor::new(answer))
        };
        let oid = "1".repeat(40);
        let refs = |n: u64, name_len: usize| -> Vec<u8> {
            let name = "x".repeat(name_len);
            let mut body: Vec<u8> = (0..n)
                .flat_map(|i| pkt(format!("{oid} refs/tags/{name}{i}\n").as_bytes()))
                .collect();
            body.extend_from_slice(b"0000");
            body
        };
        assert_eq!(read_through(advert(refs(MAX_ADVERTISED_REFS, 0))), None);
        let message = read_through(advert(refs(MAX_ADVERTISED_REFS + 1, 0))).unwrap();
        assert!(message.contains("more than 100000 refs"), "{message}");
        // 600 refs of 64 KiB: over 32 MiB.
        let message = read_through(advert(refs(600, 65_000))).unwrap();
        assert!(message.contains("larger than 32 MiB"), "{message}");
        let message = read_through(advert(b"0003".to_vec())).unwrap();
        assert!(message.contains(r#"length "0003" at byte 34"#), "{message}");
        let message = read_through(advert(b"zz10".to_vec())).unwrap();
        assert!(message.contains(r#"length "zz10""#), "{message}");
        let message = read_through(advert(pkt(b"ERR no\0pe \x1b[2Jhere"))).unwrap();
        assert_eq!(message, "the server says: no?pe ?here");

        let push = |body: Vec<u8>| PktLines::push_result(std::io::Cursor::new(body));
        let mut report = pkt(b"\x02progress\r");
        report.extend(pkt(
            &[b"\x01".as_slice(), &pkt(b"unpack ok\n"), b"0000"].concat()
        ));
        report.extend_from_slice(b"0000");
        assert_eq!(read_through(push(report)), None);
        let message = read_through(push(pkt(b"\x03fatal\x07 end"))).unwrap();
        assert_eq!(message, "the server says: fatal? end");
        assert!(matches!(
            session.take_failure(),
            Some(TransportError::Refused(Refusal::ServerSays(_)))
        ));
        assert!(session.take_failure().is_none());
    }
}
