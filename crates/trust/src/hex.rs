//! Lower-case hexadecimal, as the reference tool writes digests and key hints.

/// The lower-case hexadecimal form of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a `String` cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A SHA-256 digest from exactly 64 hexadecimal digits (either case), or `None`.
pub(crate) fn decode_sha256(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

/// The value of one hexadecimal digit.
fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trips_a_digest() {
        let d: [u8; 32] = core::array::from_fn(|i| (i * 9) as u8);
        assert_eq!(decode_sha256(&encode(&d)), Some(d));
        assert_eq!(decode_sha256(&encode(&d).to_uppercase()), Some(d));
    }

    #[test]
    fn rejects_wrong_length_and_digits() {
        assert_eq!(decode_sha256("ab"), None);
        assert_eq!(decode_sha256(&"g".repeat(64)), None);
        assert_eq!(decode_sha256(&"a".repeat(66)), None);
    }
}
