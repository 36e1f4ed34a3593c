//! The buffer state of a rule being parsed: which buffer payload keywords go to (sticky
//! buffers, `pkt_data`, `base64_data`), the transforms that follow a sticky buffer, `absent`,
//! and the `byte_extract`/`byte_math` variables.
//!
//! As in Suricata: transforms must directly follow a sticky buffer (contents may come
//! before them, which then read the buffer untransformed); the first payload keyword after
//! them starts the transformed buffer, a buffer of its own; nothing may change the buffer
//! after `base64_data`; `absent` comes first on its buffer.

use super::byte_opts::is_variable;
use super::options::Builder;
use crate::ast::{Buffer, Chain, Condition, HeaderBuffer, Num, Proto};
use crate::transform::Transform;

/// Transforms one sticky buffer may take (Suricata's limit).
const MAX_TRANSFORMS: usize = 16;
/// Variables of one kind (`byte_extract` or `byte_math`) per buffer.
pub(crate) const MAX_VARS: usize = 32;

/// A `byte_extract` or `byte_math` variable.
pub(super) struct Var {
    name: String,
    /// The buffer whose inspection sets it.
    buffer: Buffer,
    /// Set by `byte_math` (its slots are counted apart from `byte_extract`'s).
    math: bool,
    /// Where its value is kept while a buffer is inspected.
    slot: u8,
}

impl Builder {
    /// True when the current sticky buffer has no keyword (Suricata refuses such a rule;
    /// a rule already unsupported may hold its keyword in what custos skipped).
    fn sticky_unused(&self) -> bool {
        let base = |b: Buffer| match b {
            Buffer::App(n, _) => Some(Err(n)),
            Buffer::Header(h, _) => Some(Ok(h)),
            _ => None,
        };
        let Some(current) = base(self.buffer) else {
            return false;
        };
        self.unsupported.is_none()
            && !self
                .rule
                .conditions
                .iter()
                .any(|c| c.buffer().and_then(base) == Some(current))
    }

    /// Switches payload keywords to sticky buffer `b` (or back to the payload).
    pub(super) fn set_buffer(&mut self, b: Buffer) -> Result<(), String> {
        if self.buffer == Buffer::Base64 {
            return Err("the buffer cannot change after base64_data".into());
        }
        if !self.pending.is_empty() {
            return Err("no payload keyword follows the transforms of the previous buffer".into());
        }
        if self.sticky_unused() {
            return Err("a sticky buffer without any keyword before the next one".into());
        }
        self.buffer = b;
        self.list_set = b != Buffer::Payload;
        self.forget_last_content();
        Ok(())
    }

    /// A packet header sticky buffer (`ipv4.hdr`, `tcp.hdr`, …); a TCP, UDP or ICMP header
    /// on a rule of another transport is an error, as in Suricata.
    pub(super) fn header_buffer(&mut self, name: &str, h: HeaderBuffer) -> Result<(), String> {
        let clash = matches!(
            (h, self.rule.proto),
            (HeaderBuffer::Tcp, Proto::Udp | Proto::Icmp)
                | (HeaderBuffer::Udp, Proto::Tcp | Proto::Icmp)
                | (
                    HeaderBuffer::Icmpv4 | HeaderBuffer::Icmpv6,
                    Proto::Tcp | Proto::Udp
                )
        );
        if clash {
            return Err(format!(
                "`{name}` on a rule whose header names another protocol"
            ));
        }
        self.set_buffer(Buffer::Header(h, Chain::NONE))
    }

    /// A transform keyword: kept for the next payload keyword of the current sticky buffer.
    pub(super) fn transform(&mut self, name: &str, t: Transform) -> Result<(), String> {
        let sticky = self.list_set && matches!(self.buffer, Buffer::App(..) | Buffer::Header(..));
        if !sticky {
            // After a keyword custos does not know (a sticky buffer, maybe) the rule is
            // skipped anyway.
            if self.unsupported.is_some() {
                return Ok(());
            }
            return Err(format!(
                "`{name}`: transforms must directly follow a sticky buffer"
            ));
        }
        if self.pending.len() >= MAX_TRANSFORMS {
            return Err(format!("more than {MAX_TRANSFORMS} transforms on a buffer"));
        }
        self.pending.push(t);
        Ok(())
    }

    /// The buffer the next payload keyword reads: the transforms just written start a
    /// transformed buffer (the same one as an identical earlier chain on that buffer).
    pub(super) fn active(&mut self) -> Result<Buffer, String> {
        if self.pending.is_empty() {
            return Ok(self.buffer);
        }
        let chain = std::mem::take(&mut self.pending);
        let idx = match self.rule.transforms.iter().position(|c| *c == chain) {
            Some(i) => i,
            None => {
                self.rule.transforms.push(chain);
                self.rule.transforms.len() - 1
            }
        };
        let chain = u8::try_from(idx + 1)
            .map(Chain)
            .map_err(|_| "too many transformed buffers".to_string())?;
        self.buffer = match self.buffer {
            Buffer::App(name, _) => Buffer::App(name, chain),
            Buffer::Header(h, _) => Buffer::Header(h, chain),
            b => b,
        };
        self.list_set = false;
        Ok(self.buffer)
    }

    /// `base64_data`: later payload keywords read what `base64_decode` decoded.
    pub(super) fn base64_data(&mut self) -> Result<(), String> {
        let parent = self
            .rule
            .conditions
            .iter()
            .rev()
            .find_map(|c| match c {
                Condition::Base64Decode { buffer, .. } => Some(*buffer),
                _ => None,
            })
            .ok_or("base64_data without a base64_decode before it")?;
        self.set_buffer(Buffer::Base64)?;
        self.list_set = false;
        self.base64_parent = Some(parent);
        Ok(())
    }

    /// `absent` / `absent: or_else` on the current sticky buffer.
    pub(super) fn absent(&mut self, v: Option<&str>) -> Result<(), String> {
        let or_else = match v.map(str::trim) {
            None | Some("") => false,
            Some("or_else") => true,
            Some(other) => return Err(format!("unknown absent option `{other}`")),
        };
        if !matches!(self.buffer, Buffer::App(..) | Buffer::Header(..)) {
            if self.unsupported.is_some() {
                return Ok(());
            }
            return Err("absent needs a sticky buffer".into());
        }
        let buffer = self.active()?;
        if self
            .rule
            .conditions
            .iter()
            .any(|c| c.buffer() == Some(buffer))
        {
            return Err("absent must come first on its buffer".into());
        }
        self.rule
            .conditions
            .push(Condition::Absent { buffer, or_else });
        Ok(())
    }

    /// Checks what only the whole rule shows: transforms followed by nothing, and the
    /// buffers tested `absent` (plain `absent` alone; `or_else` with other keywords; no
    /// `fast_pattern` beside it).
    pub(super) fn finish_buffers(&self) -> Result<(), String> {
        if !self.pending.is_empty() && self.unsupported.is_none() {
            return Err("transforms not followed by any payload keyword".into());
        }
        if self.sticky_unused() {
            return Err("a sticky buffer without any keyword".into());
        }
        for c in &self.rule.conditions {
            let Condition::Absent { buffer, or_else } = c else {
                continue;
            };
            let others: Vec<&Condition> = self
                .rule
                .conditions
                .iter()
                .filter(|o| o.buffer() == Some(*buffer) && !matches!(o, Condition::Absent { .. }))
                .collect();
            if !or_else && !others.is_empty() {
                return Err("a buffer tested absent cannot be tested with other keywords".into());
            }
            if *or_else && others.is_empty() {
                return Err("absent: or_else needs other keywords on its buffer".into());
            }
            if others
                .iter()
                .any(|o| matches!(o, Condition::Content(_, c) if c.fast_pattern))
            {
                return Err("a buffer tested absent cannot hold the fast_pattern".into());
            }
        }
        Ok(())
    }

    /// Defines a `byte_extract` (`math`: `byte_math`) variable set while `buffer` is
    /// inspected; returns its slot. As in Suricata, each kind numbers its variables per
    /// buffer from 0 and both kinds share the slots, so a `byte_math` result may overwrite a
    /// `byte_extract` value.
    pub(super) fn define_var(
        &mut self,
        name: &str,
        buffer: Buffer,
        math: bool,
    ) -> Result<u8, String> {
        let slot = self
            .vars
            .iter()
            .filter(|v| v.buffer == buffer && v.math == math)
            .count();
        let slot = u8::try_from(slot)
            .ok()
            .filter(|&s| usize::from(s) < MAX_VARS)
            .ok_or_else(|| format!("more than {MAX_VARS} variables on a buffer"))?;
        self.vars.push(Var {
            name: name.to_string(),
            buffer,
            math,
            slot,
        });
        Ok(slot)
    }

    /// A number, or a variable's name, for a keyword reading `buffer`. A variable set while
    /// another buffer is inspected makes the rule unsupported: its value would depend on
    /// the order Suricata's engine inspects buffers in.
    ///
    /// # Errors
    /// A name no `byte_extract`/`byte_math` before defines, or a malformed number.
    pub(super) fn num<T>(
        &mut self,
        v: &str,
        buffer: Buffer,
        literal: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Num<T>, String> {
        let v = v.trim();
        if !is_variable(v) {
            return literal(v).map(Num::Lit);
        }
        // Suricata looks `byte_extract` variables up first, then `byte_math` ones.
        let var = self
            .vars
            .iter()
            .find(|x| !x.math && x.name == v)
            .or_else(|| self.vars.iter().find(|x| x.math && x.name == v))
            .ok_or_else(|| format!("unknown variable `{v}`"))?;
        let (slot, from) = (var.slot, var.buffer);
        let reachable =
            from == buffer || (buffer == Buffer::Base64 && self.base64_parent == Some(from));
        if !reachable {
            self.unsupported(
                "byte_extract",
                format!("variable `{v}` is read in another buffer than the one that sets it"),
            );
        }
        Ok(Num::Var(slot))
    }
}
