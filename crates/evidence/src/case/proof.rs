//! The C2SP tlog-proof text format (<https://c2sp.org/tlog-proof>), version `@v1`:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <N>
//! <base64 hash>          one per line, leaf's sibling first (RFC 6962 §2.1.1 PATH)
//!
//! <checkpoint signed note, verbatim>
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::merkle::Hash;

/// First line of every proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof: leaf index, inclusion proof, and the signed checkpoint note it is
/// relative to (unverified until opened with a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (`extra` line), if any.
    pub extra: Option<Vec<u8>>,
    /// Zero-based leaf index.
    pub index: u64,
    /// RFC 9162 inclusion proof, leaf's sibling first.
    pub hashes: Vec<Hash>,
    /// The checkpoint note bytes, verbatim (text, blank line, signature lines).
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The proof in its text form.
    pub fn to_text(&self) -> Vec<u8> {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(e) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(e)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses the text form strictly: exact header, optional `extra`, `index` without leading
    /// zeroes, each hash standard base64 of exactly 32 bytes, one empty line, then the
    /// checkpoint (which must be non-empty). The reason names the bad line.
    ///
    /// # Errors
    /// A description of the first malformed line.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut rest = bytes;
        let mut line_no = 0usize;
        let mut next_line = |rest: &mut &[u8]| -> Result<(usize, String), String> {
            line_no += 1;
            let nl = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| format!("line {line_no}: missing newline"))?;
            let (line, tail) = rest.split_at(nl);
            *rest = tail.get(1..).unwrap_or_default();
            let line = std::str::from_utf8(line)
                .map_err(|_| format!("line {line_no}: not UTF-8"))?
                .to_string();
            Ok((line_no, line))
        };
        let (_, header) = next_line(&mut rest)?;
        if header != TLOG_PROOF_HEADER {
            return Err(format!("line 1: expected {TLOG_PROOF_HEADER:?}"));
        }
        let (mut n, mut line) = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            extra = Some(
                B64.decode(e)
                    .map_err(|_| format!("line {n}: extra data is not base64"))?,
            );
            (n, line) = next_line(&mut rest)?;
        }
        let idx = line
            .strip_prefix("index ")
            .ok_or_else(|| format!("line {n}: expected \"index N\""))?;
        if idx.is_empty()
            || !idx.bytes().all(|b| b.is_ascii_digit())
            || (idx.len() > 1 && idx.starts_with('0'))
        {
            return Err(format!(
                "line {n}: index is not a decimal without leading zeroes"
            ));
        }
        let index: u64 = idx
            .parse()
            .map_err(|_| format!("line {n}: index out of range"))?;
        let mut hashes = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            let raw = B64
                .decode(&line)
                .map_err(|_| format!("line {n}: proof hash is not base64"))?;
            let h = Hash::try_from(raw.as_slice())
                .map_err(|_| format!("line {n}: proof hash is {} bytes, want 32", raw.len()))?;
            hashes.push(h);
        }
        if rest.is_empty() {
            return Err("missing checkpoint after the empty line".into());
        }
        Ok(Self {
            extra,
            index,
            hashes,
            checkpoint: rest.to_vec(),
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trip() {
        let p = TlogProof {
            extra: Some(b"hi".to_vec()),
            index: 7,
            hashes: vec![[1; 32], [2; 32]],
            checkpoint: b"o\n8\nAAAA\n\n\xe2\x80\x94 o abc\n".to_vec(),
        };
        let t = p.to_text();
        assert!(t.starts_with(b"c2sp.org/tlog-proof@v1\nextra aGk=\nindex 7\nAQEB"));
        assert_eq!(TlogProof::parse(&t).unwrap(), p);
        let q = TlogProof {
            extra: None,
            hashes: vec![],
            ..p
        };
        assert_eq!(TlogProof::parse(&q.to_text()).unwrap(), q);
        assert!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\nindex 07\n\nx").is_err());
        assert!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\nindex 7\n\n").is_err());
        assert!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\nindex 7\nAAAA\n\nx").is_err());
    }
}
