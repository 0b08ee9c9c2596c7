//! How object ids and digests are written: lowercase hex, and the 12-character short form
//! hf-relay shows for commits and LFS oids.

/// Characters of a short commit id or LFS oid in messages.
pub const SHORT_HEX_LEN: usize = 12;

/// Lowercase hex of `bytes` (a SHA-256 digest, say).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The first [`SHORT_HEX_LEN`] characters of a hex id (all of it when shorter).
pub fn short_hex(id: &str) -> &str {
    id.get(..SHORT_HEX_LEN).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_short_ids() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(short_hex("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_hex("abc"), "abc");
    }
}
