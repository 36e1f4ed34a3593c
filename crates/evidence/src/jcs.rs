//! RFC 8785 JSON Canonicalization Scheme (JCS): the bytes that are hashed and logged.
//!
//! Object members are sorted by their names' UTF-16 code units, no whitespace is written,
//! strings use the minimal JSON escapes (RFC 8785 §3.2.2.2), and numbers are written as
//! ECMAScript's `Number.prototype.toString` does (§3.2.2.3): shortest round-trip digits, plain
//! notation for magnitudes in [1e-6, 1e21), exponent notation otherwise. Hand-written because
//! it is small and the evidence format depends on every byte of it.

use serde_json::Value;

/// Errors of canonicalisation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// NaN and infinities have no JSON form (RFC 8785 §3.2.2.3).
    #[error("number {0} cannot be canonicalised (not finite)")]
    NonFinite(String),
    /// A record could not be turned into JSON.
    #[error("record cannot be encoded as JSON: {0}")]
    Encode(String),
}

/// The JCS form of `value`.
///
/// # Errors
/// [`JcsError::NonFinite`] for a number that is not finite.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(v: &Value, out: &mut String) -> Result<(), JcsError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i.unsigned_abs() < (1u64 << 53) {
                    out.push_str(&i.to_string());
                    return Ok(());
                }
            }
            if let Some(u) = n.as_u64() {
                if u < (1u64 << 53) {
                    out.push_str(&u.to_string());
                    return Ok(());
                }
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            write_number(f, out)?;
        }
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(x, out)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_value(x, out)?;
                }
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ECMAScript `Number.prototype.toString` for finite doubles.
fn write_number(f: f64, out: &mut String) -> Result<(), JcsError> {
    if !f.is_finite() {
        return Err(JcsError::NonFinite(f.to_string()));
    }
    if f == 0.0 {
        out.push('0'); // also for -0
        return Ok(());
    }
    if f < 0.0 {
        out.push('-');
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}` (which is shortest repr).
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i32; // number of significant digits
    let n = exp + 1; // decimal point position (ECMAScript's n)
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        out.push_str(a);
        out.push('.');
        out.push_str(b);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        let e = n - 1;
        if e >= 0 {
            out.push('+');
        }
        out.push_str(&e.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    fn num(f: f64) -> String {
        let mut s = String::new();
        write_number(f, &mut s).unwrap();
        s
    }

    #[test]
    fn numbers_follow_ecmascript() {
        // RFC 8785 Appendix B samples.
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(f64::from_bits(0x0000_0000_0000_0001)), "5e-324");
        assert_eq!(num(f64::from_bits(0x8000_0000_0000_0001)), "-5e-324");
        assert_eq!(
            num(f64::from_bits(0x7fef_ffff_ffff_ffff)),
            "1.7976931348623157e+308"
        );
        assert_eq!(
            num(f64::from_bits(0x4340_0000_0000_0000)),
            "9007199254740992"
        );
        assert_eq!(
            num(f64::from_bits(0x4430_0000_0000_0000)),
            "295147905179352830000"
        );
        assert_eq!(num(f64::from_bits(0x44b5_2d02_c7e1_4af6)), "1e+23");
        assert_eq!(num(f64::from_bits(0x3eb0_c6f7_a0b5_ed8d)), "0.000001");
        assert_eq!(
            num(f64::from_bits(0x3eb0_c6f7_a0b5_ed8c)),
            "9.999999999999997e-7"
        );
        assert_eq!(
            num(f64::from_bits(0x4415_af1d_78b5_8c40)),
            "100000000000000000000"
        );
        assert_eq!(
            num(f64::from_bits(0x4415_af1d_78b5_8c3f)),
            "99999999999999980000"
        );
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn rfc8785_sample_object() {
        let v: Value = serde_json::from_str(r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#).unwrap();
        assert_eq!(
            canonicalize(&v).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16() {
        let v = json!({"b": 1, "a": 2, "\u{20ac}": 3, "\r": 4, "1": 5});
        assert_eq!(
            canonicalize(&v).unwrap(),
            "{\"\\r\":4,\"1\":5,\"a\":2,\"b\":1,\"€\":3}"
        );
    }
}
