//! TLS client fingerprints: JA3 hashes and JA4 fingerprints, checked for shape.
//!
//! JA3 (Salesforce) is the MD5 of the JA3 string: 32 hex digits, compared in lowercase. JA4
//! (FoxIO, `technical_details/JA4.md`) is `a_b_c`: `a` is 10 characters (`t`, `q` or `d` for
//! TCP, QUIC or DTLS; two of version; `d` or `i`; four digits of cipher and extension counts;
//! two of ALPN), `b` and `c` 12 hex digits each, 36 characters in all, as custos writes it
//! (`custos_app::tls::TlsClientHello::ja4`). The hex parts are compared in lowercase, the rest
//! as written. The raw forms (`ja4_r`, `ja4_o`) are not indicators here.

/// Length of a JA3 hash.
const JA3_LEN: usize = 32;
/// Length of a JA4 fingerprint.
const JA4_LEN: usize = 36;

/// Why a text is not a fingerprint of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FingerprintError {
    /// Not 32 hex digits.
    #[error("{0:?} is not a JA3 hash (32 hex digits)")]
    NotJa3(String),
    /// Not of the JA4 shape.
    #[error("{0:?} is not a JA4 fingerprint (like t13d1516h2_8daaf6152771_e5627efa2ab1)")]
    NotJa4(String),
}

/// True for 32 hex digits.
pub(crate) fn is_ja3(text: &str) -> bool {
    text.len() == JA3_LEN && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for the JA4 shape described in the module documentation.
pub(crate) fn is_ja4(text: &str) -> bool {
    let b = text.as_bytes();
    let Some((a, rest)) = b.split_first_chunk::<10>() else {
        return false;
    };
    let [proto, v1, v2, sni, c1, c2, e1, e2, l1, l2] = *a;
    let hex12 = |s: &[u8]| s.len() == 12 && s.iter().all(u8::is_ascii_hexdigit);
    b.len() == JA4_LEN
        && matches!(proto, b't' | b'q' | b'd')
        && v1.is_ascii_alphanumeric()
        && v2.is_ascii_alphanumeric()
        && matches!(sni, b'd' | b'i')
        && [c1, c2, e1, e2].iter().all(u8::is_ascii_digit)
        && l1.is_ascii_graphic()
        && l2.is_ascii_graphic()
        && rest.first() == Some(&b'_')
        && rest.get(1..13).is_some_and(hex12)
        && rest.get(13) == Some(&b'_')
        && rest.get(14..).is_some_and(hex12)
}

/// `text` as a JA3 hash in lowercase.
pub(crate) fn ja3(text: &str) -> Result<String, FingerprintError> {
    if is_ja3(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(FingerprintError::NotJa3(text.to_string()))
    }
}

/// `text` as a JA4 fingerprint, its hex parts in lowercase.
pub(crate) fn ja4(text: &str) -> Result<String, FingerprintError> {
    if !is_ja4(text) {
        return Err(FingerprintError::NotJa4(text.to_string()));
    }
    // The shape is ASCII, so these splits are on character boundaries.
    match (text.get(..10), text.get(10..)) {
        (Some(a), Some(hashes)) => Ok(format!("{a}{}", hashes.to_ascii_lowercase())),
        _ => Err(FingerprintError::NotJa4(text.to_string())),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reads_ja3_in_any_case() {
        assert_eq!(
            ja3("E7D705A3286E19EA42F587B344EE6865").unwrap(),
            "e7d705a3286e19ea42f587b344ee6865"
        );
        assert!(ja3("e7d705a3286e19ea42f587b344ee686").is_err());
        assert!(ja3("g7d705a3286e19ea42f587b344ee6865").is_err());
    }

    #[test]
    fn reads_ja4_shapes() {
        assert!(is_ja4("t13d1516h2_8daaf6152771_e5627efa2ab1"));
        assert!(is_ja4("q13i0310h3_55b375c5d22e_cd85d2d88918"));
        assert!(is_ja4("d12d0000c0_000000000000_000000000000"));
        assert_eq!(
            ja4("t13d1516h2_8DAAF6152771_E5627EFA2AB1").unwrap(),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        // Wrong transport, SNI flag, counts, separators, length.
        assert!(!is_ja4("x13d1516h2_8daaf6152771_e5627efa2ab1"));
        assert!(!is_ja4("t13x1516h2_8daaf6152771_e5627efa2ab1"));
        assert!(!is_ja4("t13d15a6h2_8daaf6152771_e5627efa2ab1"));
        assert!(!is_ja4("t13d1516h2-8daaf6152771_e5627efa2ab1"));
        assert!(!is_ja4("t13d1516h2_8daaf6152771_e5627efa2ab"));
        assert!(!is_ja4("t13d1516h2_8daaf6152771_e5627efa2ab1_"));
        assert!(!is_ja4("t13d1516h2_8daaf615277g_e5627efa2ab1"));
        assert!(!is_ja4(""));
    }
}
