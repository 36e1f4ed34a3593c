//! `byte_test`, `byte_jump`, `byte_extract`, `byte_math` and `base64_decode`: how many bytes,
//! where, in which base and byte order, and the variables the first two read and the next
//! two set (Suricata's `doc/userguide/rules/payload-keywords.rst`).

use super::options::Builder;
use super::values::{int, uint};
use crate::ast::{Buffer, ByteOp, Condition, Jump, MathOp, Num, NumberRead};

/// The options every `byte_*` keyword shares; the others are left in `rest`.
fn common_options(rest: &mut Vec<String>) -> Result<NumberRead, String> {
    let mut read = NumberRead::new(0, 0);
    let mut out = Vec::new();
    let mut it = rest.drain(..).peekable();
    while let Some(p) = it.next() {
        match p.as_str() {
            "relative" => read.relative = true,
            "little" => read.little_endian = true,
            "big" => read.little_endian = false,
            "string" => {
                // The base may follow as its own option (`string, hex`) or not (decimal).
                let base = match it.peek().map(String::as_str) {
                    Some("hex") => 16,
                    Some("dec") => 10,
                    Some("oct") => 8,
                    _ => 0,
                };
                if base != 0 {
                    it.next();
                }
                read.string_base = Some(if base == 0 { 10 } else { base });
            }
            p if p.starts_with("bitmask") => {
                let v = p.trim_start_matches("bitmask").trim();
                let mask = uint(v)?;
                if mask == 0 {
                    return Err("bitmask 0".into());
                }
                read.bitmask = Some(mask);
            }
            _ => out.push(p),
        }
    }
    drop(it);
    *rest = out;
    Ok(read)
}

/// The most bytes a keyword reads: 8 in binary; as text, what fits 64 bits in the base
/// (Suricata's limits).
fn max_bytes(read: &NumberRead, text_max: u8) -> u8 {
    match read.string_base {
        None => 8,
        Some(16) => text_max.min(14),
        Some(10) => text_max.min(20),
        Some(_) => text_max.min(23),
    }
}

fn options_of(more: &[&str]) -> Vec<String> {
    more.iter().map(|s| s.to_string()).collect()
}

impl Builder {
    /// The buffer a `byte_*` keyword goes to: the current one; without a sticky buffer,
    /// the buffer of the last content (moved there by a legacy `http_*` modifier), as
    /// Suricata does.
    fn byte_buffer(&mut self) -> Result<Buffer, String> {
        let b = self.active()?;
        if b != Buffer::Payload {
            return Ok(b);
        }
        Ok(self
            .rule
            .conditions
            .iter()
            .rev()
            .find_map(|c| match c {
                Condition::Content(b, _) | Condition::Pcre(b, _) => Some(*b),
                _ => None,
            })
            .unwrap_or(Buffer::Payload))
    }

    /// `bytes`: a number from 0 (`allow_zero`) or 1 to `max`, or a variable.
    fn width(
        &mut self,
        keyword: &str,
        v: &str,
        buffer: Buffer,
        (max, allow_zero): (u8, bool),
    ) -> Result<Num<u8>, String> {
        let min = u8::from(!allow_zero);
        self.num(v, buffer, |s| {
            let n = uint(s)?;
            u8::try_from(n)
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("{keyword} cannot read {n} bytes ({min} to {max})"))
        })
    }

    /// `byte_test:bytes, [!]op, value, offset[, options]`.
    pub(super) fn byte_test(&mut self, v: &str) -> Result<(), String> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [bytes, op, value, offset, more @ ..] = parts.as_slice() else {
            return Err("expected bytes, operator, value, offset".into());
        };
        let mut rest = options_of(more);
        let mut read = common_options(&mut rest)?;
        if let Some(other) = rest.first() {
            self.unsupported("byte_test", format!("option `{other}` is not supported"));
            return Ok(());
        }
        let buffer = self.byte_buffer()?;
        read.bytes = self.width("byte_test", bytes, buffer, (max_bytes(&read, 23), false))?;
        read.offset = self.num(offset, buffer, int)?;
        let (negated, op) = match op.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, *op),
        };
        let op = match op {
            "<" => ByteOp::Lt,
            ">" => ByteOp::Gt,
            "=" => ByteOp::Eq,
            "<=" => ByteOp::Le,
            ">=" => ByteOp::Ge,
            "&" => ByteOp::And,
            "^" => ByteOp::Xor,
            other => return Err(format!("unknown operator `{other}`")),
        };
        let value = self.num(value, buffer, uint)?;
        self.rule.conditions.push(Condition::ByteTest {
            buffer,
            read,
            op,
            negated,
            value,
        });
        Ok(())
    }

    /// `byte_jump:bytes, offset[, options]`.
    pub(super) fn byte_jump(&mut self, v: &str) -> Result<(), String> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [bytes, offset, more @ ..] = parts.as_slice() else {
            return Err("expected bytes, offset".into());
        };
        let mut rest = options_of(more);
        let mut read = common_options(&mut rest)?;
        let buffer = self.byte_buffer()?;
        read.bytes = self.width("byte_jump", bytes, buffer, (max_bytes(&read, 23), true))?;
        read.offset = self.num(offset, buffer, int)?;
        let mut jump = Jump {
            multiplier: 1,
            post_offset: 0,
            from_beginning: false,
            from_end: false,
            align: false,
        };
        for p in rest {
            let (k, v) = p.split_once(' ').unwrap_or((p.as_str(), ""));
            match k {
                "multiplier" => {
                    jump.multiplier = uint(v)?;
                    if !(1..=65535).contains(&jump.multiplier) {
                        return Err(format!("multiplier {} out of range", jump.multiplier));
                    }
                }
                "post_offset" => jump.post_offset = int(v)?,
                "from_beginning" => jump.from_beginning = true,
                "from_end" => jump.from_end = true,
                "align" => jump.align = true,
                "dce" => {
                    self.unsupported(
                        "byte_jump",
                        "`dce` reads DCERPC, which custos does not parse",
                    );
                    return Ok(());
                }
                other => return Err(format!("unknown byte_jump option `{other}`")),
            }
        }
        if jump.from_beginning && jump.from_end {
            return Err("from_beginning and from_end together".into());
        }
        self.rule
            .conditions
            .push(Condition::ByteJump { buffer, read, jump });
        Ok(())
    }

    /// `byte_extract:bytes, offset, name[, options]`.
    pub(super) fn byte_extract(&mut self, v: &str) -> Result<(), String> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [bytes, offset, name, more @ ..] = parts.as_slice() else {
            return Err("expected bytes, offset, name".into());
        };
        if !is_variable(name) {
            return Err(format!("bad variable name `{name}`"));
        }
        let mut rest = options_of(more);
        let mut read = common_options(&mut rest)?;
        if read.bitmask.is_some() {
            return Err("byte_extract takes no bitmask".into());
        }
        let (mut multiplier, mut align) = (1, 0);
        for p in rest {
            let (k, v) = p.split_once(' ').unwrap_or((p.as_str(), ""));
            match k {
                "multiplier" => {
                    multiplier = uint(v)?;
                    if !(1..=65535).contains(&multiplier) {
                        return Err(format!("multiplier {multiplier} out of range"));
                    }
                }
                "align" => {
                    align = match uint(v)? {
                        2 => 2,
                        4 => 4,
                        n => return Err(format!("align {n}: must be 2 or 4")),
                    }
                }
                "dce" => {
                    self.unsupported(
                        "byte_extract",
                        "`dce` reads DCERPC, which custos does not parse",
                    );
                    return Ok(());
                }
                "slice" => {
                    return Err("byte_extract slice is not supported by Suricata".into());
                }
                other => return Err(format!("unknown byte_extract option `{other}`")),
            }
        }
        let buffer = self.byte_buffer()?;
        let n = uint(bytes)?;
        read.bytes = u8::try_from(n)
            .ok()
            .filter(|&n| (1..=max_bytes(&read, 23)).contains(&n))
            .map(Num::Lit)
            .ok_or_else(|| format!("byte_extract cannot read {n} bytes"))?;
        read.offset = Num::Lit(
            offset
                .parse::<i16>()
                .map_err(|_| format!("bad offset `{offset}`"))?
                .into(),
        );
        let var = self.define_var(name, buffer, false)?;
        self.rule.conditions.push(Condition::ByteExtract {
            buffer,
            read,
            multiplier,
            align,
            var,
        });
        Ok(())
    }

    /// `byte_math:bytes N, offset N, oper OP, rvalue V, result NAME[, relative]
    /// [, endian big|little][, string hex|dec|oct][, bitmask HEX]`.
    pub(super) fn byte_math(&mut self, v: &str) -> Result<(), String> {
        let mut read = NumberRead::new(0, 0);
        let (mut bytes, mut offset, mut op, mut rvalue, mut result) =
            (None, None, None, None, None);
        for p in v.split(',').map(str::trim) {
            let (k, val) = p
                .split_once(char::is_whitespace)
                .map_or((p, ""), |(k, v)| (k, v.trim()));
            match k {
                "bytes" => bytes = Some(val),
                "offset" => offset = Some(val),
                "oper" => op = Some(val),
                "rvalue" => rvalue = Some(val),
                "result" => result = Some(val),
                "relative" => read.relative = true,
                "endian" if val == "big" || val == "little" => read.little_endian = val == "little",
                "endian" | "dce" if val == "dce" || k == "dce" => {
                    self.unsupported(
                        "byte_math",
                        "`dce` reads DCERPC, which custos does not parse",
                    );
                    return Ok(());
                }
                "string" => {
                    read.string_base = Some(match val {
                        "hex" => 16,
                        "dec" => 10,
                        "oct" => 8,
                        other => return Err(format!("unknown string base `{other}`")),
                    })
                }
                "bitmask" => {
                    let hex = val.trim_start_matches("0x").trim_start_matches("0X");
                    let mask =
                        u32::from_str_radix(hex, 16).map_err(|_| format!("bad bitmask `{val}`"))?;
                    read.bitmask = Some(u64::from(mask));
                }
                other => return Err(format!("unknown byte_math option `{other}`")),
            }
        }
        let (Some(bytes), Some(offset), Some(op), Some(rvalue), Some(result)) =
            (bytes, offset, op, rvalue, result)
        else {
            return Err("byte_math needs bytes, offset, oper, rvalue and result".into());
        };
        if !is_variable(result) {
            return Err(format!("bad result name `{result}`"));
        }
        let op = match op {
            "+" => MathOp::Add,
            "-" => MathOp::Sub,
            "*" => MathOp::Mul,
            "/" => MathOp::Div,
            "<<" => MathOp::Shl,
            ">>" => MathOp::Shr,
            other => return Err(format!("unknown byte_math operator `{other}`")),
        };
        let buffer = self.byte_buffer()?;
        let max = if read.string_base.is_some() { 10 } else { 4 };
        read.bytes = self.width("byte_math", bytes, buffer, (max, false))?;
        let offset = int(offset)?;
        if !(-65535..=65535).contains(&offset) {
            return Err(format!("offset {offset} out of range"));
        }
        read.offset = Num::Lit(offset);
        let rvalue = self.num(rvalue, buffer, |s| {
            let n = uint(s)?;
            u32::try_from(n)
                .map(u64::from)
                .map_err(|_| format!("rvalue {n} above 32 bits"))
        })?;
        let var = self.define_var(result, buffer, true)?;
        self.rule.conditions.push(Condition::ByteMath {
            buffer,
            read,
            op,
            rvalue,
            var,
        });
        Ok(())
    }

    /// `base64_decode[:bytes N][, offset N][, relative]`.
    pub(super) fn base64_decode(&mut self, v: Option<&str>) -> Result<(), String> {
        let (mut bytes, mut offset, mut relative) = (0u32, 0u32, false);
        for p in v
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (k, val) = p.split_once(char::is_whitespace).unwrap_or((p, ""));
            match k {
                "bytes" => {
                    bytes = u16::try_from(uint(val)?)
                        .map(u32::from)
                        .map_err(|e| e.to_string())?;
                }
                "offset" => offset = u32::try_from(uint(val)?).map_err(|e| e.to_string())?,
                "relative" => relative = true,
                other => return Err(format!("unknown base64_decode option `{other}`")),
            }
        }
        let buffer = self.byte_buffer()?;
        if buffer == Buffer::Base64 {
            return Err("base64_decode after base64_data".into());
        }
        self.rule.conditions.push(Condition::Base64Decode {
            buffer,
            // Suricata's default and cap.
            bytes: if bytes == 0 { 65_535 } else { bytes },
            offset,
            relative,
        });
        Ok(())
    }
}

/// A `byte_extract`/`byte_math` variable's name where a number is expected.
pub(super) fn is_variable(v: &str) -> bool {
    v.trim()
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
}
