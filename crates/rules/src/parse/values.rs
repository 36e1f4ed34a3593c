//! Option values: quoted strings, content patterns with hex blocks, integer comparisons.

use crate::ast::IntCmp;

/// Splits the option list on unescaped `;` into `(name, value)` pairs; the value keeps its
/// escapes for the option's own parser.
pub(crate) fn split_options(body: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                in_quotes = !in_quotes;
                cur.push(c);
            }
            ';' if !in_quotes => {
                push_option(&mut out, &cur)?;
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    if in_quotes {
        return Err(format!(
            "unterminated quoted string in option `{}`",
            super::clip(cur.trim())
        ));
    }
    if !cur.trim().is_empty() {
        return Err(format!(
            "option `{}` not terminated by `;`",
            super::clip(cur.trim())
        ));
    }
    Ok(out)
}

fn push_option(out: &mut Vec<(String, Option<String>)>, text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty option (`;;`)".into());
    }
    match t.split_once(':') {
        Some((k, v)) => out.push((k.trim().to_string(), Some(v.trim().to_string()))),
        None => out.push((t.to_string(), None)),
    }
    Ok(())
}

/// A quoted string value (`"…"`, quotes optional), escapes `\"`, `\;`, `\\`, `\:` resolved.
pub(crate) fn string(v: &str) -> Result<String, String> {
    let v = v.trim();
    let inner = match v.strip_prefix('"') {
        Some(r) => r
            .strip_suffix('"')
            .ok_or_else(|| format!("unterminated string `{}`", super::clip(v)))?,
        None => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => return Err("string ends with a lone `\\`".into()),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `"…"` or `!"…"` (a `content` or `pcre` value): whether negated, and the text between the
/// quotes.
pub(crate) fn negated_quoted<'a>(v: &'a str, keyword: &str) -> Result<(bool, &'a str), String> {
    let v = v.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    let inner = v
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("{keyword} must be quoted: `{}`", super::clip(v)))?;
    Ok((negated, inner))
}

/// A content pattern: `"…"` or `!"…"`, with `|41 42|` hex blocks. Returns the bytes and
/// whether it was negated.
pub(crate) fn content(v: &str) -> Result<(Vec<u8>, bool), String> {
    let (negated, inner) = negated_quoted(v, "content")?;
    let v = v.trim();
    let mut out = Vec::with_capacity(inner.len());
    let mut in_hex = false;
    let mut hex = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if in_hex {
            match c {
                '|' => {
                    if !hex.is_empty() {
                        return Err(format!("odd number of hex digits in `{}`", super::clip(v)));
                    }
                    in_hex = false;
                }
                c if c.is_ascii_hexdigit() => {
                    hex.push(c);
                    if hex.len() == 2 {
                        let b =
                            u8::from_str_radix(&hex, 16).map_err(|_| format!("bad hex `{hex}`"))?;
                        out.push(b);
                        hex.clear();
                    }
                }
                c if c.is_whitespace() => {}
                c => return Err(format!("`{c}` in a hex block of `{}`", super::clip(v))),
            }
            continue;
        }
        match c {
            '|' => in_hex = true,
            '\\' => match chars.next() {
                Some(n @ ('"' | ';' | '\\' | ':' | '|')) => push_char(&mut out, n),
                Some(n) => {
                    return Err(format!("unknown escape `\\{n}` in `{}`", super::clip(v)));
                }
                None => return Err("content ends with a lone `\\`".into()),
            },
            '"' | ';' => {
                return Err(format!("unescaped `{c}` in content `{}`", super::clip(v)));
            }
            c => push_char(&mut out, c),
        }
    }
    if in_hex {
        return Err(format!("hex block not closed in `{}`", super::clip(v)));
    }
    if out.is_empty() {
        return Err("empty content".into());
    }
    Ok((out, negated))
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// An unsigned integer, decimal or `0x` hex.
pub(crate) fn uint(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse::<u64>(),
    };
    r.map_err(|_| format!("expected a number, found `{}`", super::clip(s)))
}

/// A signed integer.
pub(crate) fn int(s: &str) -> Result<i64, String> {
    let s = s.trim();
    s.parse::<i64>()
        .map_err(|_| format!("expected a number, found `{}`", super::clip(s)))
}

/// An integer comparison as Suricata's integer keywords take it: `N`, `=N`, `!N`, `<N`,
/// `<=N`, `>N`, `>=N`, `A<>B`, `A-B` (both ranges exclusive). `names` maps symbolic values.
pub(crate) fn int_cmp(s: &str, names: &dyn Fn(&str) -> Option<u64>) -> Result<IntCmp, String> {
    let s = s.trim();
    let num = |t: &str| -> Result<u64, String> {
        let t = t.trim();
        match names(t) {
            Some(v) => Ok(v),
            None => uint(t),
        }
    };
    if let Some((a, b)) = s.split_once("<>") {
        let (a, b) = (num(a)?, num(b)?);
        if a >= b {
            return Err(format!("range `{s}` is empty"));
        }
        return Ok(IntCmp::Between(a, b));
    }
    for (prefix, make) in [
        ("<=", IntCmp::Le as fn(u64) -> IntCmp),
        (">=", IntCmp::Ge),
        ("!=", IntCmp::Ne),
        ("<", IntCmp::Lt),
        (">", IntCmp::Gt),
        ("!", IntCmp::Ne),
        ("=", IntCmp::Eq),
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return Ok(make(num(rest)?));
        }
    }
    if let Some((a, b)) = s.split_once('-') {
        if !a.trim().is_empty() {
            let (a, b) = (num(a)?, num(b)?);
            if a >= b {
                return Err(format!("range `{s}` is empty"));
            }
            return Ok(IntCmp::Between(a, b));
        }
    }
    Ok(IntCmp::Eq(num(s)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_on_unescaped_semicolons() {
        let o = split_options(r#"msg:"a\;b"; content:"x|3B|"; nocase; sid:1;"#).unwrap();
        assert_eq!(o.len(), 4);
        assert_eq!(o[0].1.as_deref(), Some(r#""a\;b""#));
        assert_eq!(o[2], ("nocase".to_string(), None));
        assert!(split_options("msg:\"a\"; sid:1").is_err());
    }

    #[test]
    fn content_decodes_hex_and_escapes() {
        assert_eq!(
            content(r#""A|42 43|\"""#).unwrap(),
            (b"ABC\"".to_vec(), false)
        );
        assert_eq!(content(r#"!"x""#).unwrap(), (b"x".to_vec(), true));
        assert!(content(r#""|4|""#).is_err());
        assert!(content(r#""|zz|""#).is_err());
        assert!(content(r#""""#).is_err());
        assert!(content("x").is_err());
    }

    #[test]
    fn int_comparisons() {
        let none = |_: &str| None;
        assert_eq!(int_cmp("5", &none).unwrap(), IntCmp::Eq(5));
        assert_eq!(int_cmp(">=5", &none).unwrap(), IntCmp::Ge(5));
        assert_eq!(int_cmp("!5", &none).unwrap(), IntCmp::Ne(5));
        assert_eq!(int_cmp("1<>5", &none).unwrap(), IntCmp::Between(1, 5));
        assert_eq!(int_cmp("1-5", &none).unwrap(), IntCmp::Between(1, 5));
        assert!(int_cmp("5<>1", &none).is_err());
        assert!(int_cmp("x", &none).is_err());
    }
}
