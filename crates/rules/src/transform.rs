//! Transforms of sticky buffers: what each of Suricata's transform keywords does to a
//! buffer's bytes. A rule's transforms follow its sticky buffer and apply in the order
//! written, each to the output of the one before, before `content`, `pcre`, `bsize` and the
//! other payload keywords inspect the buffer (Suricata's `doc/userguide/rules/transforms.rst`).
//!
//! As in Suricata, an empty buffer is left empty by every transform, and a transform that
//! cannot apply (`from_base64` on nothing decodable, `pcrexform` without a match, `xor`
//! whose key is out of the buffer) leaves the buffer as it was.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// How `from_base64` decodes (its `mode`); `base64_decode` always uses [`Base64Mode::Rfc4648`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Mode {
    /// `rfc4648` (default): decoding stops at the first byte outside the alphabet; the
    /// group it ends is completed with padding.
    Rfc4648,
    /// `rfc2045`: bytes outside the alphabet are skipped; an incomplete last group is
    /// dropped.
    Rfc2045,
    /// `strict`: the whole buffer must be canonical, padded base64, else nothing decodes.
    Strict,
}

/// The key of an `xor` transform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XorKey {
    /// A key written in hex.
    Static(Vec<u8>),
    /// `extract <nbytes> <offset>`: the key is read from the buffer itself.
    Extract {
        /// Key length.
        bytes: u8,
        /// Where the key starts in the buffer.
        offset: u16,
    },
}

/// One transform keyword.
#[derive(Clone, Debug)]
pub enum Transform {
    /// `dotprefix`: a `.` before the buffer.
    DotPrefix,
    /// `strip_whitespace`: every whitespace byte (C's `isspace`) removed.
    StripWhitespace,
    /// `compress_whitespace`: each run of whitespace kept as its first byte.
    CompressWhitespace,
    /// `to_lowercase` (ASCII).
    ToLowercase,
    /// `to_uppercase` (ASCII).
    ToUppercase,
    /// `url_decode`: `%HH` decoded and `+` made a space (`%uHHHH` left as is).
    UrlDecode,
    /// `from_base64`: `bytes` from `offset` decoded in `mode` (0 bytes: to the end).
    FromBase64 {
        /// Bytes decoded (0: all after `offset`).
        bytes: u32,
        /// Bytes skipped first.
        offset: u32,
        /// Decoding mode.
        mode: Base64Mode,
    },
    /// `pcrexform`: the first capture group of the expression's first match.
    PcreXform(regex::bytes::Regex),
    /// `xor`: the bytes from `offset` on, XORed with the key repeated.
    Xor {
        /// The key.
        key: XorKey,
        /// Bytes left as they are at the start.
        offset: u32,
    },
    /// `to_md5`: the raw MD5 digest.
    ToMd5,
    /// `to_sha1`: the raw SHA-1 digest.
    ToSha1,
    /// `to_sha256`: the raw SHA-256 digest.
    ToSha256,
    /// `header_lowercase`: header names lowercased, values untouched.
    HeaderLowercase,
    /// `strip_pseudo_headers`: lines starting with `:` removed.
    StripPseudoHeaders,
    /// `gunzip`: the gzip-decompressed buffer, at most `max_size` bytes (empty when it does
    /// not decompress).
    Gunzip {
        /// `max-size` (default 1024).
        max_size: u32,
    },
    /// `zlib_deflate`: the zlib-decompressed buffer, at most `max_size` bytes (empty when it
    /// does not decompress).
    ZlibDeflate {
        /// `max-size` (default 1024).
        max_size: u32,
    },
}

impl PartialEq for Transform {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Transform::PcreXform(a), Transform::PcreXform(b)) => a.as_str() == b.as_str(),
            (
                Transform::FromBase64 {
                    bytes: a,
                    offset: b,
                    mode: c,
                },
                Transform::FromBase64 {
                    bytes: x,
                    offset: y,
                    mode: z,
                },
            ) => (a, b, c) == (x, y, z),
            (Transform::Xor { key: a, offset: b }, Transform::Xor { key: x, offset: y }) => {
                (a, b) == (x, y)
            }
            (Transform::Gunzip { max_size: a }, Transform::Gunzip { max_size: b })
            | (Transform::ZlibDeflate { max_size: a }, Transform::ZlibDeflate { max_size: b }) => {
                a == b
            }
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// C's `isspace` in the "C" locale.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' | b' ')
}

impl Transform {
    /// The keyword, as written in rules.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::DotPrefix => "dotprefix",
            Transform::StripWhitespace => "strip_whitespace",
            Transform::CompressWhitespace => "compress_whitespace",
            Transform::ToLowercase => "to_lowercase",
            Transform::ToUppercase => "to_uppercase",
            Transform::UrlDecode => "url_decode",
            Transform::FromBase64 { .. } => "from_base64",
            Transform::PcreXform(_) => "pcrexform",
            Transform::Xor { .. } => "xor",
            Transform::ToMd5 => "to_md5",
            Transform::ToSha1 => "to_sha1",
            Transform::ToSha256 => "to_sha256",
            Transform::HeaderLowercase => "header_lowercase",
            Transform::StripPseudoHeaders => "strip_pseudo_headers",
            Transform::Gunzip { .. } => "gunzip",
            Transform::ZlibDeflate { .. } => "zlib_deflate",
        }
    }

    /// False when a positive `content` cannot occur in this transform's output (Suricata
    /// refuses such a rule): whitespace after `strip_whitespace`, two whitespace bytes in a
    /// row after `compress_whitespace`, uppercase after `to_lowercase`, lowercase after
    /// `to_uppercase`.
    pub fn accepts_content(&self, pattern: &[u8]) -> bool {
        match self {
            Transform::StripWhitespace => !pattern.iter().any(|&c| is_space(c)),
            Transform::CompressWhitespace => {
                !pattern.windows(2).any(|w| w.iter().all(|&c| is_space(c)))
            }
            Transform::ToLowercase => !pattern.iter().any(u8::is_ascii_uppercase),
            Transform::ToUppercase => !pattern.iter().any(u8::is_ascii_lowercase),
            _ => true,
        }
    }

    /// This transform's output for `input` (`None`: the input unchanged).
    fn apply(&self, input: &[u8]) -> Option<Vec<u8>> {
        if input.is_empty() {
            return None;
        }
        Some(match self {
            Transform::DotPrefix => {
                let mut out = Vec::with_capacity(input.len() + 1);
                out.push(b'.');
                out.extend_from_slice(input);
                out
            }
            Transform::StripWhitespace => input.iter().copied().filter(|&c| !is_space(c)).collect(),
            Transform::CompressWhitespace => {
                let mut out = Vec::with_capacity(input.len());
                let mut in_space = false;
                for &c in input {
                    let space = is_space(c);
                    if !(space && in_space) {
                        out.push(c);
                    }
                    in_space = space;
                }
                out
            }
            Transform::ToLowercase => input.to_ascii_lowercase(),
            Transform::ToUppercase => input.to_ascii_uppercase(),
            Transform::UrlDecode => url_decode(input),
            Transform::FromBase64 {
                bytes,
                offset,
                mode,
            } => {
                let rest = input.get(*offset as usize..).filter(|r| !r.is_empty())?;
                // Suricata leaves the buffer as it was when `bytes` reaches its end.
                let rest = match *bytes as usize {
                    0 => rest,
                    n if n >= rest.len() => return None,
                    n => rest.get(..n)?,
                };
                Some(base64_decode(rest, *mode)).filter(|d| !d.is_empty())?
            }
            Transform::PcreXform(re) => re.captures(input)?.get(1)?.as_bytes().to_vec(),
            Transform::Xor { key, offset } => {
                let offset = *offset as usize;
                let key = match key {
                    XorKey::Static(k) => k.as_slice(),
                    XorKey::Extract { bytes, offset } => {
                        let start = usize::from(*offset);
                        input.get(start..start + usize::from(*bytes))?
                    }
                };
                let (head, tail) = input.split_at_checked(offset)?;
                if key.is_empty() {
                    return None;
                }
                let mut out = head.to_vec();
                out.extend(tail.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
                out
            }
            Transform::ToMd5 => Md5::digest(input).to_vec(),
            Transform::ToSha1 => Sha1::digest(input).to_vec(),
            Transform::ToSha256 => Sha256::digest(input).to_vec(),
            Transform::HeaderLowercase => {
                let mut in_value = false;
                input
                    .iter()
                    .map(|&c| {
                        if in_value {
                            in_value = c != b'\n';
                            c
                        } else {
                            in_value = c == b':';
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            }
            Transform::StripPseudoHeaders => input
                .split_inclusive(|&c| c == b'\n')
                .filter(|line| line.first() != Some(&b':'))
                .flatten()
                .copied()
                .collect(),
            Transform::Gunzip { max_size } => {
                decompress(flate2::read::GzDecoder::new(input), *max_size)
            }
            Transform::ZlibDeflate { max_size } => {
                decompress(flate2::read::ZlibDecoder::new(input), *max_size)
            }
        })
    }
}

/// What one read of `decoder` gives into a buffer of `max_size` bytes, as Suricata's
/// `gunzip` and `zlib_deflate` read (nothing when decompression fails).
fn decompress(mut decoder: impl std::io::Read, max_size: u32) -> Vec<u8> {
    let mut out = vec![0; max_size as usize];
    match decoder.read(&mut out) {
        Ok(n) => out.truncate(n),
        Err(_) => out.clear(),
    }
    out
}

/// `input` through every transform of `chain`, in order.
pub fn apply<'a>(chain: &[Transform], input: &'a [u8]) -> Cow<'a, [u8]> {
    let mut buf = Cow::Borrowed(input);
    for t in chain {
        if let Some(out) = t.apply(&buf) {
            buf = Cow::Owned(out);
        }
    }
    buf
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Suricata's `url_decode`: `%HH` becomes its byte and `+` a space; a `%` not followed by
/// two hex digits is kept with what follows it as written.
fn url_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        i += 1;
        match c {
            b'%' => {
                let hi = input.get(i).copied();
                let lo = input.get(i + 1).copied();
                match (hi.and_then(hex_value), lo.and_then(hex_value)) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    (Some(_), _) => {
                        // `%` and the hex digit as written, then the byte after as is.
                        out.push(b'%');
                        out.extend(hi);
                        out.extend(lo);
                        i += 2;
                    }
                    (None, _) => {
                        out.push(b'%');
                        out.extend(hi);
                        i += 1;
                    }
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
    }
    out
}

/// The value of a base64 alphabet byte (standard alphabet).
fn b64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// One group of four (`=` padding included) into `out`; `None` when padding stands where
/// Suricata's decoder refuses it (first or second place), which voids the whole decoding.
fn decode_group(q: [u8; 4], out: &mut Vec<u8>) -> Option<()> {
    let a = b64_value(q[0])?;
    let b = b64_value(q[1])?;
    out.push(a << 2 | b >> 4);
    if q[2] == b'=' {
        return Some(());
    }
    let c = b64_value(q[2])?;
    out.push(b << 4 | c >> 2);
    if q[3] == b'=' {
        return Some(());
    }
    let d = b64_value(q[3])?;
    out.push(c << 6 | d);
    Some(())
}

/// Suricata's base64 decoding of `input` in `mode`: the bytes decoded (empty when nothing
/// decodes).
pub(crate) fn base64_decode(input: &[u8], mode: Base64Mode) -> Vec<u8> {
    use base64::Engine;
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let usable = |c: u8| c == b'=' || b64_value(c).is_some();
    let mut group = [b'='; 4];
    let mut n = 0;
    match mode {
        Base64Mode::Strict => {
            return base64::engine::general_purpose::STANDARD
                .decode(input)
                .unwrap_or_default();
        }
        Base64Mode::Rfc4648 => {
            let mut bytes = input.iter().copied();
            loop {
                match bytes.next().filter(|&c| usable(c)) {
                    Some(c) => {
                        if let Some(slot) = group.get_mut(n) {
                            *slot = c;
                        }
                        n += 1;
                        if n == 4 {
                            if decode_group(group, &mut out).is_none() {
                                return Vec::new();
                            }
                            n = 0;
                        }
                    }
                    None => {
                        // The end, or a byte outside the alphabet: the group is padded
                        // and decoding stops.
                        if n > 0 {
                            for slot in group.iter_mut().skip(n) {
                                *slot = b'=';
                            }
                            if decode_group(group, &mut out).is_none() {
                                return Vec::new();
                            }
                        }
                        break;
                    }
                }
            }
        }
        Base64Mode::Rfc2045 => {
            for c in input.iter().copied().filter(|&c| usable(c)) {
                if let Some(slot) = group.get_mut(n) {
                    *slot = c;
                }
                n += 1;
                if n == 4 {
                    if decode_group(group, &mut out).is_none() {
                        return Vec::new();
                    }
                    n = 0;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: Transform, input: &str) -> Vec<u8> {
        apply(&[t], input.as_bytes()).into_owned()
    }

    #[test]
    fn whitespace_and_case() {
        assert_eq!(run(Transform::StripWhitespace, " a\tb\x0bc \r\n"), b"abc");
        assert_eq!(
            run(Transform::CompressWhitespace, "a \t b\n\nc "),
            b"a b\nc "
        );
        assert_eq!(run(Transform::ToLowercase, "AbC1"), b"abc1");
        assert_eq!(run(Transform::ToUppercase, "AbC1"), b"ABC1");
        assert_eq!(run(Transform::DotPrefix, "a.com"), b".a.com");
        assert_eq!(run(Transform::DotPrefix, ""), b"");
    }

    #[test]
    fn contents_a_transform_cannot_produce_are_refused() {
        assert!(!Transform::StripWhitespace.accepts_content(b"a b"));
        assert!(Transform::CompressWhitespace.accepts_content(b" a b "));
        assert!(!Transform::CompressWhitespace.accepts_content(b"a  b"));
        assert!(!Transform::ToLowercase.accepts_content(b"aB"));
        assert!(!Transform::ToUppercase.accepts_content(b"aB"));
        assert!(Transform::DotPrefix.accepts_content(b"A b"));
    }

    #[test]
    fn url_decode_keeps_broken_escapes() {
        assert_eq!(url_decode(b"a%27b+c"), b"a'b c");
        assert_eq!(url_decode(b"%4"), b"%4");
        assert_eq!(url_decode(b"%"), b"%");
        assert_eq!(url_decode(b"%zz"), b"%zz");
        // The byte after a broken escape is kept as is; a `+` after it is a space.
        assert_eq!(url_decode(b"%4z+"), b"%4z ");
        assert_eq!(url_decode(b"%+"), b"%+");
        assert_eq!(url_decode(b"%%41"), b"%%41");
        assert_eq!(url_decode(b"%u0041"), b"%u0041");
    }

    #[test]
    fn base64_modes_decode_as_suricata() {
        let d = |s: &str, m| base64_decode(s.as_bytes(), m);
        assert_eq!(d("dGhpc2lzYXRlc3QK", Base64Mode::Rfc4648), b"thisisatest\n");
        // RFC 4648 stops at the space; RFC 2045 skips it; strict refuses the input.
        assert_eq!(d("Zm 9v Ym Fy", Base64Mode::Rfc4648), b"f");
        assert_eq!(d("Zm 9v Ym Fy", Base64Mode::Rfc2045), b"foobar");
        assert_eq!(d("Zm 9v Ym Fy", Base64Mode::Strict), b"");
        assert_eq!(d("Zm9vYg==", Base64Mode::Strict), b"foob");
        // An incomplete last group: padded (4648), dropped (2045).
        assert_eq!(d("Zm9vYg", Base64Mode::Rfc4648), b"foob");
        assert_eq!(d("Zm9vYg", Base64Mode::Rfc2045), b"foo");
        // A lone byte in the last group cannot be padded: nothing decodes.
        assert_eq!(d("Zm9vY", Base64Mode::Rfc4648), b"");
        // Padding in the middle ends a group, decoding goes on.
        assert_eq!(d("Zm8=Zm8=", Base64Mode::Rfc4648), b"fofo");
    }

    #[test]
    fn from_base64_options() {
        let t = |bytes, offset| Transform::FromBase64 {
            bytes,
            offset,
            mode: Base64Mode::Rfc4648,
        };
        assert_eq!(run(t(0, 6), "/?arg=dGhpc2lzYXRlc3QK"), b"thisisatest\n");
        assert_eq!(run(t(6, 6), "/?arg=dGhpc2lzYXRlc3QK"), b"this");
        // An offset past the end, or bytes reaching it, leave the buffer as it was.
        assert_eq!(run(t(0, 30), "/?arg=x"), b"/?arg=x");
        assert_eq!(run(t(4, 0), "Zm9v"), b"Zm9v");
        // Nothing decodable: unchanged.
        assert_eq!(run(t(0, 0), "!!!"), b"!!!");
    }

    #[test]
    fn pcrexform_xor_hashes_headers() {
        let re = regex::bytes::Regex::new(r"(?-u)[a-zA-Z]+\s+(.*)\s+HTTP").unwrap();
        assert_eq!(
            run(Transform::PcreXform(re.clone()), "GET /a.jpg HTTP/1.1"),
            b"/a.jpg"
        );
        assert_eq!(run(Transform::PcreXform(re), "nothing"), b"nothing");
        let xor = Transform::Xor {
            key: XorKey::Static(vec![0x0d, 0x0a]),
            offset: 1,
        };
        assert_eq!(
            apply(&[xor], &[1, 0x0d, 0x0a, 0x0d]).into_owned(),
            vec![1, 0, 0, 0]
        );
        let from_buffer = Transform::Xor {
            key: XorKey::Extract {
                bytes: 1,
                offset: 0,
            },
            offset: 1,
        };
        assert_eq!(
            apply(&[from_buffer], &[7, 7 ^ b'a']).into_owned(),
            vec![7, b'a']
        );
        assert_eq!(run(Transform::ToMd5, "").len(), 0);
        assert_eq!(
            run(Transform::ToMd5, "abc"),
            [
                0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1,
                0x7f, 0x72
            ]
        );
        assert_eq!(run(Transform::ToSha1, "abc").len(), 20);
        assert_eq!(run(Transform::ToSha256, "abc").len(), 32);
        assert_eq!(
            run(Transform::HeaderLowercase, "Host: A\r\nUser-Agent: B\r\n"),
            b"host: A\r\nuser-agent: B\r\n"
        );
        assert_eq!(
            run(Transform::StripPseudoHeaders, ":path: /\r\nHost: a\r\n"),
            b"Host: a\r\n"
        );
    }

    #[test]
    fn decompression_is_capped_and_empty_on_errors() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"This is compressed").unwrap();
        let gz = gz.finish().unwrap();
        let gunzip = |max_size| apply(&[Transform::Gunzip { max_size }], &gz).into_owned();
        assert_eq!(gunzip(1024), b"This is compressed");
        assert_eq!(gunzip(8), b"This is ");
        let zlib = Transform::ZlibDeflate { max_size: 1024 };
        assert_eq!(apply(&[zlib], b"not zlib").into_owned(), b"");
    }

    #[test]
    fn chains_apply_in_order() {
        let chain = [Transform::UrlDecode, Transform::ToLowercase];
        assert_eq!(apply(&chain, b"A%42"), &b"ab"[..]);
    }
}
