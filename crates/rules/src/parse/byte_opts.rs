//! `byte_test` and `byte_jump`: how many bytes, where, in which base and byte order.

use super::options::Builder;
use super::values::{int, uint};
use crate::ast::{ByteOp, Condition, NumberRead};

impl Builder {
    fn number_read(parts: &[&str], rest: &mut Vec<String>) -> Result<NumberRead, String> {
        let _ = parts;
        let mut read = NumberRead {
            bytes: 0,
            offset: 0,
            relative: false,
            little_endian: false,
            string_base: None,
            bitmask: None,
        };
        let mut out = Vec::new();
        let mut it = rest.drain(..).peekable();
        while let Some(p) = it.next() {
            match p.as_str() {
                "relative" => read.relative = true,
                "little" => read.little_endian = true,
                "big" => read.little_endian = false,
                "string" => {
                    let base = it.next().unwrap_or_default();
                    read.string_base = Some(match base.as_str() {
                        "hex" => 16,
                        "dec" => 10,
                        "oct" => 8,
                        other => return Err(format!("unknown string base `{other}`")),
                    });
                }
                p if p.starts_with("bitmask") => {
                    let v = p.trim_start_matches("bitmask").trim();
                    read.bitmask = Some(uint(v)?);
                }
                _ => out.push(p),
            }
        }
        drop(it);
        *rest = out;
        Ok(read)
    }

    /// Sets how many bytes `keyword` reads; `Ok(false)` when the rule is skipped (0 bytes).
    fn read_width(
        &mut self,
        keyword: &str,
        bytes: &str,
        read: &mut NumberRead,
    ) -> Result<bool, String> {
        read.bytes = u8::try_from(uint(bytes)?).map_err(|e| e.to_string())?;
        let max = if read.string_base.is_some() { 20 } else { 8 };
        if read.bytes == 0 {
            self.unsupported(keyword, "reading 0 bytes is not supported");
            return Ok(false);
        }
        if read.bytes > max {
            return Err(format!("cannot read {} bytes (1 to {max})", read.bytes));
        }
        Ok(true)
    }

    /// `byte_test:bytes, [!]op, value, offset[, options]`.
    pub(super) fn byte_test(&mut self, v: &str) -> Result<(), String> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [bytes, op, value, offset, more @ ..] = parts.as_slice() else {
            return Err("expected bytes, operator, value, offset".into());
        };
        let mut rest: Vec<String> = more.iter().map(|s| s.to_string()).collect();
        let mut read = Self::number_read(&parts, &mut rest)?;
        if let Some(other) = rest.first() {
            self.unsupported("byte_test", format!("option `{other}` is not supported"));
            return Ok(());
        }
        if !self.read_width("byte_test", bytes, &mut read)? {
            return Ok(());
        }
        if is_variable(offset) || is_variable(value) {
            self.unsupported("byte_extract", "byte_extract variables are not supported");
            return Ok(());
        }
        read.offset = int(offset)?;
        let (negated, op) = match op.strip_prefix('!') {
            Some(r) => (true, r),
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
        self.rule.conditions.push(Condition::ByteTest {
            buffer: self.buffer,
            read,
            op,
            negated,
            value: uint(value)?,
        });
        Ok(())
    }

    /// `byte_jump:bytes, offset[, options]`.
    pub(super) fn byte_jump(&mut self, v: &str) -> Result<(), String> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [bytes, offset, more @ ..] = parts.as_slice() else {
            return Err("expected bytes, offset".into());
        };
        let mut rest: Vec<String> = more.iter().map(|s| s.to_string()).collect();
        let mut read = Self::number_read(&parts, &mut rest)?;
        if !self.read_width("byte_jump", bytes, &mut read)? {
            return Ok(());
        }
        if is_variable(offset) {
            self.unsupported("byte_extract", "byte_extract variables are not supported");
            return Ok(());
        }
        read.offset = int(offset)?;
        let (mut multiplier, mut post_offset, mut from_beginning, mut align) = (1, 0, false, false);
        for p in rest {
            let (k, v) = p.split_once(' ').unwrap_or((p.as_str(), ""));
            match k {
                "multiplier" => multiplier = uint(v)?,
                "post_offset" => post_offset = int(v)?,
                "from_beginning" => from_beginning = true,
                "align" => align = true,
                other => {
                    self.unsupported("byte_jump", format!("option `{other}` is not supported"));
                    return Ok(());
                }
            }
        }
        self.rule.conditions.push(Condition::ByteJump {
            buffer: self.buffer,
            read,
            multiplier,
            post_offset,
            from_beginning,
            align,
        });
        Ok(())
    }
}

/// A `byte_extract` variable's name where a number is expected.
pub(super) fn is_variable(v: &str) -> bool {
    v.trim()
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
}
