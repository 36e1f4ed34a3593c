//! Transform keywords (`dotprefix`, `from_base64: offset 6, mode rfc2045`, `xor:"0d0a"`, …)
//! into [`Transform`]s. Where they may stand, and what they apply to, is the sticky-buffer
//! state's business ([`super::buffers`]).

use super::values::{string, uint};
use crate::transform::{Base64Mode, Transform, XorKey};

/// The transform keyword `name` with its value; `Ok(None)` when `name` is not a transform
/// custos implements.
///
/// # Errors
/// A malformed value, as Suricata refuses it.
pub(super) fn parse(name: &str, value: Option<&str>) -> Result<Option<Transform>, String> {
    let no_value = |t: Transform| match value {
        Some(v) if !v.trim().is_empty() => Err(format!("`{name}` takes no value, found `{v}`")),
        _ => Ok(t),
    };
    Ok(Some(match name {
        "dotprefix" => no_value(Transform::DotPrefix)?,
        "strip_whitespace" => no_value(Transform::StripWhitespace)?,
        "compress_whitespace" => no_value(Transform::CompressWhitespace)?,
        "to_lowercase" => no_value(Transform::ToLowercase)?,
        "to_uppercase" => no_value(Transform::ToUppercase)?,
        "url_decode" => no_value(Transform::UrlDecode)?,
        "to_md5" => no_value(Transform::ToMd5)?,
        "to_sha1" => no_value(Transform::ToSha1)?,
        "to_sha256" => no_value(Transform::ToSha256)?,
        "header_lowercase" => no_value(Transform::HeaderLowercase)?,
        "strip_pseudo_headers" => no_value(Transform::StripPseudoHeaders)?,
        "from_base64" => from_base64(value.unwrap_or(""))?,
        "pcrexform" => pcrexform(value.ok_or("pcrexform needs an expression")?)?,
        "xor" => xor(value.ok_or("xor needs a key")?)?,
        "gunzip" => Transform::Gunzip {
            max_size: max_size(value.unwrap_or(""))?,
        },
        "zlib_deflate" => Transform::ZlibDeflate {
            max_size: max_size(value.unwrap_or(""))?,
        },
        _ => return Ok(None),
    }))
}

/// `from_base64: [bytes N][, offset N][, mode rfc4648|rfc2045|strict]`, in any order.
fn from_base64(v: &str) -> Result<Transform, String> {
    let (mut bytes, mut offset, mut mode) = (None, None, None);
    let v = v.trim();
    if !v.is_empty() {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        if parts.len() > 3 {
            return Err(format!("from_base64 takes at most 3 options: `{v}`"));
        }
        for part in parts {
            let (key, val) = part
                .split_once(char::is_whitespace)
                .map(|(k, v)| (k, v.trim()))
                .ok_or_else(|| format!("from_base64 option `{part}` has no value"))?;
            let number = |max: u64| -> Result<u32, String> {
                match uint(val) {
                    Ok(n) if n <= max => Ok(n as u32),
                    Ok(n) => Err(format!("from_base64 {key} {n} above {max}")),
                    Err(_) => Err(format!("from_base64 {key} must be a number: `{val}`")),
                }
            };
            let slot_taken = match key {
                "bytes" => bytes.replace(number(u64::from(u16::MAX))?).is_some(),
                "offset" => offset.replace(number(u64::from(u16::MAX))?).is_some(),
                "mode" => mode
                    .replace(match val {
                        "rfc4648" => Base64Mode::Rfc4648,
                        "rfc2045" => Base64Mode::Rfc2045,
                        "strict" => Base64Mode::Strict,
                        other => return Err(format!("unknown from_base64 mode `{other}`")),
                    })
                    .is_some(),
                other => return Err(format!("unknown from_base64 option `{other}`")),
            };
            if slot_taken {
                return Err(format!("from_base64 {key} given twice"));
            }
        }
    }
    Ok(Transform::FromBase64 {
        bytes: bytes.unwrap_or(0),
        offset: offset.unwrap_or(0),
        mode: mode.unwrap_or(Base64Mode::Rfc4648),
    })
}

/// `gunzip`/`zlib_deflate`'s `max-size N[kb|mb|gb]` (default 1024, at most 16 MiB).
fn max_size(v: &str) -> Result<u32, String> {
    const DEFAULT: u32 = 1024;
    const MAX: u64 = 16 * 1024 * 1024;
    let v = v.trim();
    if v.is_empty() {
        return Ok(DEFAULT);
    }
    let mut size = None;
    for part in v.split(',') {
        let Some(("max-size", n)) = part.split_once(' ') else {
            return Err(format!("bad decompression option `{part}`"));
        };
        let lower = n.to_ascii_lowercase();
        let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => lower.split_at(i),
            None => (lower.as_str(), ""),
        };
        let unit: u64 = match unit {
            "" => 1,
            "kb" => 1 << 10,
            "mb" => 1 << 20,
            "gb" => 1 << 30,
            other => return Err(format!("bad max-size unit `{other}`")),
        };
        let n = digits
            .parse::<u64>()
            .ok()
            .and_then(|d| d.checked_mul(unit))
            .ok_or_else(|| format!("bad max-size `{n}`"))?;
        if n == 0 || n > MAX {
            return Err(format!("max-size {n} out of 1..={MAX}"));
        }
        if size.replace(n as u32).is_some() {
            return Err("max-size given twice".into());
        }
    }
    Ok(size.unwrap_or(DEFAULT))
}

/// `pcrexform:"<expression>"`: quotes required, exactly one capture group.
fn pcrexform(v: &str) -> Result<Transform, String> {
    let v = v.trim();
    let inner = v
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("pcrexform must be quoted: `{v}`"))?;
    let pattern = inner.replace("\\;", ";").replace("\\\"", "\"");
    // PCRE without flags: bytes, ASCII classes, `.` stops at newlines.
    let re = regex::bytes::RegexBuilder::new(&format!("(?-u){pattern}"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("pcrexform `{pattern}` cannot be compiled: {e}"))?;
    if re.captures_len() != 2 {
        return Err(format!(
            "pcrexform needs exactly one capture group, `{pattern}` has {}",
            re.captures_len() - 1
        ));
    }
    Ok(Transform::PcreXform(re))
}

/// `xor:"<hex key>"`, `xor:extract <n> <offset>`, optionally after `offset <N>,`.
fn xor(v: &str) -> Result<Transform, String> {
    let v = v.trim();
    let after_keyword = |s: &str, k: &str| -> Option<String> {
        s.strip_prefix(k)
            .filter(|r| r.starts_with(char::is_whitespace))
            .map(|r| r.trim_start().to_string())
    };
    let (offset, key) = match after_keyword(v, "offset") {
        Some(rest) => {
            let (n, key) = rest
                .split_once(',')
                .ok_or_else(|| format!("xor offset needs `offset N,key`: `{v}`"))?;
            let n = u32::try_from(uint(n)?).map_err(|e| e.to_string())?;
            (n, key.trim().to_string())
        }
        None => (0, v.to_string()),
    };
    let key = match after_keyword(&key, "extract") {
        Some(loc) => {
            let mut it = loc.split_whitespace();
            let (Some(n), Some(at), None) = (it.next(), it.next(), it.next()) else {
                return Err(format!(
                    "xor extract needs `extract <nbytes> <offset>`: `{v}`"
                ));
            };
            let bytes = n.parse::<u8>().ok().filter(|&b| b > 0);
            let offset = at.parse::<u16>().ok();
            match (bytes, offset) {
                (Some(bytes), Some(offset)) => XorKey::Extract { bytes, offset },
                _ => return Err(format!("bad xor extract `{loc}`")),
            }
        }
        None => {
            let hex = string(&key)?;
            if hex.is_empty() || hex.len() % 2 != 0 || hex.len() > 2 * 255 {
                return Err(format!(
                    "xor key `{hex}` is not a hex string of 1 to 255 bytes"
                ));
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| format!("xor key `{hex}` is not hex"))
                })
                .collect::<Result<Vec<u8>, String>>()?;
            XorKey::Static(bytes)
        }
    };
    Ok(Transform::Xor { key, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_base64_options_in_any_order() {
        assert_eq!(
            parse("from_base64", Some("mode rfc2045, offset 6 ")).unwrap(),
            Some(Transform::FromBase64 {
                bytes: 0,
                offset: 6,
                mode: Base64Mode::Rfc2045
            })
        );
        assert!(parse("from_base64", Some("offset 1, offset 2")).is_err());
        assert!(parse("from_base64", Some("mode base32")).is_err());
        assert!(parse("from_base64", Some("bytes x")).is_err());
        assert_eq!(
            parse("from_base64", None).unwrap(),
            Some(Transform::FromBase64 {
                bytes: 0,
                offset: 0,
                mode: Base64Mode::Rfc4648
            })
        );
    }

    #[test]
    fn pcrexform_needs_quotes_and_one_group() {
        assert!(parse("pcrexform", Some(r#""a(b)c""#)).unwrap().is_some());
        assert!(parse("pcrexform", Some("a(b)c")).is_err());
        assert!(parse("pcrexform", Some(r#""abc""#)).is_err());
        assert!(parse("pcrexform", Some(r#""(a)(b)""#)).is_err());
        assert!(parse("pcrexform", None).is_err());
    }

    #[test]
    fn xor_keys() {
        assert_eq!(
            parse("xor", Some("\"0d0ac8ff\"")).unwrap(),
            Some(Transform::Xor {
                key: XorKey::Static(vec![0x0d, 0x0a, 0xc8, 0xff]),
                offset: 0
            })
        );
        assert_eq!(
            parse("xor", Some("offset 1,extract 1 0")).unwrap(),
            Some(Transform::Xor {
                key: XorKey::Extract {
                    bytes: 1,
                    offset: 0
                },
                offset: 1
            })
        );
        assert!(parse("xor", Some("\"0d0\"")).is_err());
        assert!(parse("xor", Some("\"zz\"")).is_err());
        assert_eq!(parse("domain", None).unwrap(), None);
        assert_eq!(
            parse("gunzip", Some("max-size 8kb")).unwrap(),
            Some(Transform::Gunzip { max_size: 8192 })
        );
        assert_eq!(
            parse("zlib_deflate", None).unwrap(),
            Some(Transform::ZlibDeflate { max_size: 1024 })
        );
        assert!(parse("gunzip", Some("max-size 0")).is_err());
        assert!(parse("gunzip", Some("size 8")).is_err());
        assert!(parse("dotprefix", Some("x")).is_err());
    }
}
