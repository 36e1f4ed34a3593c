//! Numbers in buffers: where `byte_test`, `byte_jump`, `byte_extract` and `byte_math` read
//! them, how (binary in either byte order, or text as C's `strtoull` reads it, as Suricata
//! does) and what each keyword does with the value.

use crate::ast::{ByteOp, Jump, MathOp, Num, NumberRead};
use crate::parse::MAX_VARS;

/// The values of a rule's `byte_extract`/`byte_math` variables during one inspection.
pub(crate) type Vars = [u64; MAX_VARS];

/// A number of the rule, or the variable's current value (Suricata keeps variables in 64
/// bits and casts them where a narrower number is expected).
pub(crate) fn value<T: Copy>(n: Num<T>, vars: &Vars, cast: impl Fn(u64) -> T) -> T {
    match n {
        Num::Lit(v) => v,
        Num::Var(slot) => cast(vars.get(usize::from(slot)).copied().unwrap_or(0)),
    }
}

/// C's `strtoull` on `text` (at most 23 bytes, as Suricata copies them): leading
/// whitespace, an optional sign, `0x` in base 16, then digits. Returns the value and the
/// bytes consumed; `None` when no digit is read or the value overflows.
pub(crate) fn strtoull(text: &[u8], base: u32) -> Option<(u64, usize)> {
    if text.len() > 23 {
        return None;
    }
    let mut i = text
        .iter()
        .take_while(|&&c| crate::transform::is_space(c))
        .count();
    let negative = match text.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digit = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(base));
    if base == 16
        && text.get(i) == Some(&b'0')
        && matches!(text.get(i + 1), Some(b'x' | b'X'))
        && digit(text.get(i + 2)).is_some()
    {
        i += 2;
    }
    let start = i;
    let mut v: u64 = 0;
    while let Some(d) = digit(text.get(i)) {
        v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if negative { v.wrapping_neg() } else { v }, i))
}

/// Where a keyword reads `nbytes` bytes: relative to `prev_end` or from the start, moved by
/// `offset`; `None` when they are not all in the buffer (an empty buffer has none).
fn locate(
    len: usize,
    relative: bool,
    offset: i64,
    prev_end: usize,
    nbytes: usize,
) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let base = if relative {
        (prev_end as i64).checked_add(offset)?
    } else {
        offset
    };
    let left = (len as i64).checked_sub(base)?;
    if base < 0 || nbytes as i64 > left {
        return None;
    }
    usize::try_from(base).ok()
}

/// Reads `nbytes` as `r` says; returns the value (bitmask not applied) and the position
/// after what was read (text: after the digits).
fn read(
    buf: &[u8],
    r: &NumberRead,
    nbytes: usize,
    (prev_end, vars): (usize, &Vars),
) -> Option<(u64, usize)> {
    let offset = value(r.offset, vars, |v| i64::from(v as u32 as i32));
    let at = locate(buf.len(), r.relative, offset, prev_end, nbytes)?;
    let bytes = buf.get(at..at.checked_add(nbytes)?)?;
    match r.string_base {
        Some(base) => strtoull(bytes, base).map(|(v, used)| (v, at + used)),
        None => {
            let fold = |v: u64, &b: &u8| (v << 8) | u64::from(b);
            let v = if r.little_endian {
                bytes.iter().rev().fold(0, fold)
            } else {
                bytes.iter().fold(0, fold)
            };
            Some((v, at + nbytes))
        }
    }
}

fn bitmask(v: u64, mask: Option<u64>) -> u64 {
    match mask {
        Some(m) if m != 0 => (v & m) >> m.trailing_zeros(),
        _ => v,
    }
}

/// The number of bytes a keyword reads (a variable's value, checked against `valid`).
fn width(r: &NumberRead, vars: &Vars, valid: impl Fn(u64) -> bool) -> Option<usize> {
    let n = match r.bytes {
        Num::Lit(n) => u64::from(n),
        Num::Var(slot) => vars.get(usize::from(slot)).copied()?,
    };
    valid(n).then_some(n as usize)
}

/// `byte_test`.
pub(crate) fn test(
    buf: &[u8],
    (r, op, negated, want): (&NumberRead, ByteOp, bool, Num<u64>),
    (prev_end, vars): (usize, &Vars),
) -> bool {
    let text = r.string_base.is_some();
    let Some(n) = width(r, vars, |n| (1..=if text { 23 } else { 8 }).contains(&n)) else {
        return false;
    };
    let Some((v, _)) = read(buf, r, n, (prev_end, vars)) else {
        return false;
    };
    let v = bitmask(v, r.bitmask);
    let want = value(want, vars, |v| v);
    let ok = match op {
        ByteOp::Lt => v < want,
        ByteOp::Gt => v > want,
        ByteOp::Eq => v == want,
        ByteOp::Le => v <= want,
        ByteOp::Ge => v >= want,
        ByteOp::And => v & want != 0,
        ByteOp::Xor => v ^ want != 0,
    };
    ok != negated
}

/// `byte_jump`: the new match position, or `None` when it lands past the buffer's end (a
/// position before its start is its start, as in Suricata).
pub(crate) fn jump(
    buf: &[u8],
    (r, j): (&NumberRead, &Jump),
    (prev_end, vars): (usize, &Vars),
) -> Option<usize> {
    let text = r.string_base.is_some();
    let n = width(r, vars, |n| n <= if text { 23 } else { 8 })?;
    let (v, after) = match n {
        // Nothing to read: the jump starts where the bytes would be.
        0 => {
            let offset = value(r.offset, vars, |v| i64::from(v as u32 as i32));
            (0, locate(buf.len(), r.relative, offset, prev_end, 0)?)
        }
        n => read(buf, r, n, (prev_end, vars))?,
    };
    let mut v = bitmask(v, r.bitmask).wrapping_mul(j.multiplier);
    if j.align && v % 4 != 0 {
        v = v.wrapping_add(4 - v % 4);
    }
    // Suricata adds the post offset to the unsigned value, then reads it signed.
    let delta = i128::from(v.wrapping_add(j.post_offset as u64) as i64);
    let from = if j.from_beginning {
        0
    } else if j.from_end {
        buf.len()
    } else {
        after
    };
    let target = (from as i128 + delta).max(0);
    usize::try_from(target).ok().filter(|&t| t <= buf.len())
}

/// `byte_extract`: the value stored and the position after the bytes read.
pub(crate) fn extract(
    buf: &[u8],
    (r, multiplier, align): (&NumberRead, u64, u8),
    (prev_end, vars): (usize, &Vars),
) -> Option<(u64, usize)> {
    let n = width(r, vars, |n| n >= 1)?;
    let (v, after) = read(buf, r, n, (prev_end, vars))?;
    let mut v = v.wrapping_mul(multiplier);
    let align = u64::from(align);
    if align > 0 && v % align != 0 {
        v = v.wrapping_add(align - v % align);
    }
    Some((v, after))
}

/// `byte_math`: the result stored and the position after the bytes read; `None` when the
/// bytes are not there or the divisor is 0.
pub(crate) fn math(
    buf: &[u8],
    (r, op, rvalue): (&NumberRead, MathOp, Num<u64>),
    (prev_end, vars): (usize, &Vars),
) -> Option<(u64, usize)> {
    let text = r.string_base.is_some();
    let n = width(r, vars, |n| (1..=if text { 10 } else { 4 }).contains(&n))?;
    let (v, after) = read(buf, r, n, (prev_end, vars))?;
    let rv = value(rvalue, vars, |v| v);
    let v = match op {
        MathOp::Add => v.wrapping_add(rv),
        MathOp::Sub => v.wrapping_sub(rv),
        MathOp::Mul => v.wrapping_mul(rv),
        MathOp::Div => v.checked_div(rv)?,
        MathOp::Shl => {
            if rv < 64 {
                v << rv
            } else {
                0
            }
        }
        // A shift by 64 or more is the processor's (modulo 64), as in Suricata's C.
        MathOp::Shr => v.wrapping_shr(rv as u32),
    };
    Some((bitmask(v, r.bitmask), after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_reads_as_c_does() {
        assert_eq!(strtoull(b"1234", 10), Some((1234, 4)));
        assert_eq!(strtoull(b"12ab", 10), Some((12, 2)));
        assert_eq!(strtoull(b" +7", 10), Some((7, 3)));
        assert_eq!(strtoull(b"0x1f", 16), Some((31, 4)));
        assert_eq!(strtoull(b"0xz", 16), Some((0, 1)));
        assert_eq!(strtoull(b"-1", 10), Some((u64::MAX, 2)));
        assert_eq!(strtoull(b"ab", 10), None);
        assert_eq!(strtoull(b"777", 8), Some((511, 3)));
        assert_eq!(strtoull(b"99999999999999999999", 10), None);
    }

    #[test]
    fn extract_moves_after_the_digits_and_aligns() {
        let vars = [0; MAX_VARS];
        let mut r = NumberRead::new(4, 0);
        r.string_base = Some(10);
        assert_eq!(extract(b"12ab", (&r, 1, 0), (0, &vars)), Some((12, 2)));
        let r = NumberRead::new(1, 1);
        assert_eq!(extract(b"\x00\x05", (&r, 3, 4), (0, &vars)), Some((16, 2)));
        assert_eq!(extract(b"\x00", (&r, 1, 0), (0, &vars)), None);
    }

    #[test]
    fn math_operators() {
        let vars = [0; MAX_VARS];
        let r = NumberRead::new(1, 0);
        let m = |op, rv| math(b"\x10", (&r, op, Num::Lit(rv)), (0, &vars)).map(|x| x.0);
        assert_eq!(m(MathOp::Add, 1), Some(17));
        assert_eq!(m(MathOp::Sub, 17), Some(u64::MAX));
        assert_eq!(m(MathOp::Div, 0), None);
        assert_eq!(m(MathOp::Shl, 64), Some(0));
        assert_eq!(m(MathOp::Shr, 4), Some(1));
    }

    #[test]
    fn jump_from_end_and_zero_bytes() {
        let vars = [0; MAX_VARS];
        let r = NumberRead::new(0, 0);
        let j = Jump {
            multiplier: 1,
            post_offset: -2,
            from_beginning: false,
            from_end: true,
            align: false,
        };
        assert_eq!(jump(b"abcdef", (&r, &j), (0, &vars)), Some(4));
        let r = NumberRead::new(1, 0);
        let plain = Jump {
            from_end: false,
            post_offset: 0,
            ..j
        };
        assert_eq!(jump(b"\x02abc", (&r, &plain), (0, &vars)), Some(3));
        assert_eq!(jump(b"\x09abc", (&r, &plain), (0, &vars)), None);
    }
}
