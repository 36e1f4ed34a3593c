//! The option list: metadata, payload keywords with their modifiers, and dispatch to the
//! header, flow and application keywords ([`super::keyword_opts`]).

use super::byte_opts::is_variable;
use super::header::Header;
use super::keyword_opts;
use super::values::{content, int, int_cmp, negated_quoted, split_options, string, uint};
use super::{Outcome, Skipped};
use crate::ast::{Buffer, Condition, Content, FlowOpts, Location, Pcre, Proto, Rule};
use crate::keywords::{self, IGNORED_OPTIONS};

/// Suricata version custos answers `requires: version` with: the rule language of
/// Suricata 8.0 as of its 8.0.5 release (docs/rules.md).
const COMPAT_VERSION: (u64, u64, u64) = (8, 0, 5);

/// Builds a rule from its header and option list.
pub(super) fn parse(header: Header, body: &str, location: Location) -> Result<Outcome, String> {
    let options = split_options(body)?;
    let mut b = Builder {
        rule: Rule {
            action: header.action,
            proto: header.proto.clone().unwrap_or(Proto::Ip),
            src: header.src,
            src_ports: header.src_ports,
            bidirectional: header.bidirectional,
            dst: header.dst,
            dst_ports: header.dst_ports,
            sid: 0,
            gid: 1,
            rev: 0,
            msg: String::new(),
            classtype: None,
            priority: None,
            references: Vec::new(),
            metadata: Vec::new(),
            // `tcp-pkt` / `tcp-stream` as `flow:no_stream` / `flow:only_stream`.
            flow: FlowOpts {
                stream: header.stream,
                ..FlowOpts::default()
            },
            flowbits: Vec::new(),
            threshold: None,
            detection_filter: None,
            conditions: Vec::new(),
            location: location.clone(),
        },
        buffer: Buffer::Payload,
        last_content: None,
        sid_seen: false,
        unsupported: None,
    };
    if let Err(p) = &header.proto {
        b.unsupported = Some((p.clone(), format!("protocol `{p}` is not parsed by custos")));
    }
    for (name, value) in &options {
        b.option(name, value.as_deref())
            .map_err(|e| format!("{name}: {e}"))?;
    }
    if !b.sid_seen {
        return Err("rule has no sid".into());
    }
    b.check_protocols()?;
    if let Some((keyword, reason)) = b.unsupported {
        return Ok(Outcome::Skipped(Skipped {
            location,
            sid: Some(b.rule.sid),
            keyword,
            reason,
        }));
    }
    Ok(Outcome::Rule(Box::new(b.rule)))
}

pub(super) struct Builder {
    pub rule: Rule,
    /// The sticky buffer conditions go to now.
    pub buffer: Buffer,
    /// Index in `rule.conditions` of the last `content` (for its modifiers).
    last_content: Option<usize>,
    sid_seen: bool,
    /// The first unsupported keyword and why; the rest of the rule is still checked for
    /// syntax errors.
    pub unsupported: Option<(String, String)>,
}

impl Builder {
    /// Marks the rule unsupported (the first reason is kept).
    pub fn unsupported(&mut self, keyword: &str, reason: impl Into<String>) {
        if self.unsupported.is_none() {
            self.unsupported = Some((keyword.to_string(), reason.into()));
        }
    }

    fn option(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let need = || value.ok_or_else(|| "needs a value".to_string());
        match name {
            "msg" => self.rule.msg = string(need()?)?,
            "sid" => {
                self.rule.sid = uint(need()?)?;
                self.sid_seen = true;
            }
            "rev" => self.rule.rev = u32::try_from(uint(need()?)?).map_err(|e| e.to_string())?,
            "gid" => self.rule.gid = u32::try_from(uint(need()?)?).map_err(|e| e.to_string())?,
            "classtype" => self.rule.classtype = Some(need()?.trim().to_string()),
            "priority" => {
                let p = uint(need()?)?;
                self.rule.priority =
                    Some(u8::try_from(p).map_err(|_| format!("priority {p} out of range"))?);
            }
            "reference" => self.rule.references.push(need()?.trim().to_string()),
            "metadata" => self
                .rule
                .metadata
                .extend(need()?.split(',').map(|m| m.trim().to_string())),
            "content" => {
                let (pattern, negated) = content(need()?)?;
                self.rule.conditions.push(Condition::Content(
                    self.buffer,
                    Content::new(pattern, negated),
                ));
                self.last_content = Some(self.rule.conditions.len() - 1);
            }
            "nocase" | "depth" | "offset" | "distance" | "within" | "startswith" | "endswith"
            | "fast_pattern" => self.modifier(name, value)?,
            "pcre" => self.pcre(need()?)?,
            "pkt_data" => self.buffer = Buffer::Payload,
            "isdataat" => {
                let v = need()?;
                let (negated, v) = match v.trim().strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                let mut parts = v.split(',').map(str::trim);
                let pos = uint(parts.next().unwrap_or(""))?;
                let mut relative = false;
                for p in parts {
                    match p {
                        "relative" => relative = true,
                        "rawbytes" => {}
                        other => return Err(format!("unknown isdataat option `{other}`")),
                    }
                }
                self.rule.conditions.push(Condition::IsDataAt {
                    buffer: self.buffer,
                    pos: u32::try_from(pos).map_err(|e| e.to_string())?,
                    relative,
                    negated,
                });
            }
            "bsize" => {
                let cmp = int_cmp(need()?, &|_| None)?;
                self.rule
                    .conditions
                    .push(Condition::Bsize(self.buffer, cmp));
            }
            "byte_test" => self.byte_test(need()?)?,
            "byte_jump" => self.byte_jump(need()?)?,
            "requires" => self.requires(need()?)?,
            n if IGNORED_OPTIONS.contains(&n) => {}
            n if keywords::content_modifier(n).is_some() && self.last_content.is_some() => {
                self.legacy_modifier(n)?
            }
            n => {
                if let Some(def) = keywords::buffer(n) {
                    if value.is_some() {
                        self.unsupported(n, "options of a sticky buffer are not supported");
                    }
                    self.buffer = Buffer::App(def.name);
                    self.last_content = None;
                } else if !keyword_opts::option(self, n, value)? {
                    self.unsupported(n, format!("keyword `{n}` is not supported by custos"));
                }
            }
        }
        Ok(())
    }

    fn last_content(&mut self, modifier: &str) -> Result<&mut Content, String> {
        match self
            .last_content
            .and_then(|i| self.rule.conditions.get_mut(i))
        {
            Some(Condition::Content(_, c)) => Ok(c),
            _ => Err(format!("`{modifier}` without a preceding content")),
        }
    }

    fn modifier(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        if value.is_some_and(is_variable) {
            self.last_content(name)?;
            self.unsupported("byte_extract", "byte_extract variables are not supported");
            return Ok(());
        }
        let c = self.last_content(name)?;
        let num = |v: Option<&str>| -> Result<i64, String> {
            int(v.ok_or_else(|| "needs a value".to_string())?)
        };
        let unsigned = |n: i64| u32::try_from(n).map_err(|_| format!("{n} out of range"));
        match name {
            "nocase" => c.nocase = true,
            "depth" => c.depth = Some(unsigned(num(value)?)?),
            "offset" => c.offset = Some(unsigned(num(value)?)?),
            "distance" => c.distance = Some(num(value)?),
            "within" => c.within = Some(unsigned(num(value)?)?),
            "startswith" => {
                c.offset = Some(0);
                c.depth = Some(u32::try_from(c.pattern.len()).map_err(|e| e.to_string())?);
            }
            "endswith" => c.endswith = true,
            _ => c.fast_pattern = true,
        }
        if (c.depth.is_some() || c.offset.is_some()) && c.is_relative() {
            return Err(
                "a content cannot have both absolute (depth/offset/startswith) and relative \
                 (distance/within) modifiers"
                    .into(),
            );
        }
        if matches!(c.depth, Some(d) if (d as usize) < c.pattern.len()) {
            return Err(format!(
                "depth {} is shorter than the content ({} bytes)",
                c.depth.unwrap_or(0),
                c.pattern.len()
            ));
        }
        if matches!(c.within, Some(w) if (w as usize) < c.pattern.len()) {
            return Err(format!(
                "within {} is shorter than the content ({} bytes)",
                c.within.unwrap_or(0),
                c.pattern.len()
            ));
        }
        Ok(())
    }

    fn legacy_modifier(&mut self, name: &str) -> Result<(), String> {
        let target =
            keywords::content_modifier(name).ok_or_else(|| format!("unknown modifier `{name}`"))?;
        if let Some(Condition::Content(buffer, _)) = self
            .last_content
            .and_then(|i| self.rule.conditions.get_mut(i))
        {
            *buffer = Buffer::App(target.name);
        }
        Ok(())
    }

    fn pcre(&mut self, v: &str) -> Result<(), String> {
        let (negated, inner) = negated_quoted(v, "pcre")?;
        let body = inner
            .strip_prefix('/')
            .ok_or_else(|| "pcre must start with `/`".to_string())?;
        let end = body
            .rfind('/')
            .ok_or_else(|| "pcre must end with `/flags`".to_string())?;
        let pattern = body.get(..end).unwrap_or("");
        let flags = body.get(end + 1..).unwrap_or("");
        // Quotes and semicolons are escaped for the rule parser, not for the regex.
        let pattern = pattern.replace("\\;", ";").replace("\\\"", "\"");
        // Inline flags; Unicode mode is turned off after them.
        let mut inline = String::new();
        let mut relative = false;
        let mut anchored = false;
        let mut buffer = self.buffer;
        for f in flags.chars() {
            match f {
                'i' => push_flag(&mut inline, 'i'),
                's' => push_flag(&mut inline, 's'),
                'm' => push_flag(&mut inline, 'm'),
                'x' => push_flag(&mut inline, 'x'),
                'G' => push_flag(&mut inline, 'U'),
                'R' => relative = true,
                'A' => anchored = true,
                'E' | 'O' => {}
                'U' => buffer = Buffer::App("http.uri"),
                'I' => buffer = Buffer::App("http.uri.raw"),
                'M' => buffer = Buffer::App("http.method"),
                'V' => buffer = Buffer::App("http.user_agent"),
                'W' => buffer = Buffer::App("http.host"),
                'Z' => buffer = Buffer::App("http.host.raw"),
                'S' => buffer = Buffer::App("http.stat_code"),
                'Y' => buffer = Buffer::App("http.stat_msg"),
                'H' => buffer = Buffer::App("http.header"),
                'P' => buffer = Buffer::App("http.request_body"),
                'Q' => buffer = Buffer::App("http.response_body"),
                'C' => buffer = Buffer::App("http.cookie"),
                'D' | 'K' | 'B' => {
                    self.unsupported(
                        "pcre",
                        format!("pcre flag `{f}` names a buffer custos does not fill"),
                    );
                    return Ok(());
                }
                other => return Err(format!("unknown pcre flag `{other}`")),
            }
        }
        // Suricata's pcre is not UTF mode: bytes, ASCII classes.
        let inline = inline + "-u";
        let source = if anchored {
            format!("(?{inline})\\A(?:{pattern})")
        } else {
            format!("(?{inline}){pattern}")
        };
        match regex::bytes::RegexBuilder::new(&source)
            .size_limit(1 << 20)
            .build()
        {
            Ok(regex) => self.rule.conditions.push(Condition::Pcre(
                buffer,
                Pcre {
                    regex,
                    relative,
                    negated,
                },
            )),
            Err(e) => self.unsupported(
                "pcre",
                format!(
                    "the expression cannot be matched exactly by the regex crate: {}",
                    first_line(&e.to_string())
                ),
            ),
        }
        Ok(())
    }

    /// `requires:` — a version requirement is answered with [`COMPAT_VERSION`]; an unmet
    /// one skips the rule, as Suricata skips it. Feature requirements are not supported.
    fn requires(&mut self, v: &str) -> Result<(), String> {
        for clause in v.split(',').map(str::trim) {
            let Some(req) = clause.strip_prefix("version") else {
                self.unsupported("requires", format!("requirement `{clause}` not supported"));
                return Ok(());
            };
            for cond in req.split('|').flat_map(|s| s.split(" and ")) {
                let cond = cond.trim();
                let (op, ver) = ["<=", ">=", "<", ">", "="]
                    .iter()
                    .find_map(|op| cond.strip_prefix(op).map(|v| (*op, v.trim())))
                    .ok_or_else(|| format!("bad version requirement `{cond}`"))?;
                let mut nums = ver.split('.').map(|n| uint(n).unwrap_or(0));
                let want = (
                    nums.next().unwrap_or(0),
                    nums.next().unwrap_or(0),
                    nums.next().unwrap_or(0),
                );
                let ok = match op {
                    "<=" => COMPAT_VERSION <= want,
                    ">=" => COMPAT_VERSION >= want,
                    "<" => COMPAT_VERSION < want,
                    ">" => COMPAT_VERSION > want,
                    _ => COMPAT_VERSION == want,
                };
                if !ok {
                    self.unsupported(
                        "requires",
                        format!("requires Suricata version {cond}; custos follows 8.0.5"),
                    );
                }
            }
        }
        Ok(())
    }

    /// A rule may read one application protocol: its header's, and its buffers' and
    /// fields'.
    fn check_protocols(&mut self) -> Result<(), String> {
        let mut proto = match self.rule.proto {
            Proto::App(p) => Some(p),
            _ => None,
        };
        for c in &self.rule.conditions {
            let p = match c {
                Condition::Content(Buffer::App(b), _)
                | Condition::Pcre(Buffer::App(b), _)
                | Condition::Bsize(Buffer::App(b), _)
                | Condition::IsDataAt {
                    buffer: Buffer::App(b),
                    ..
                }
                | Condition::ByteTest {
                    buffer: Buffer::App(b),
                    ..
                }
                | Condition::ByteJump {
                    buffer: Buffer::App(b),
                    ..
                } => keywords::buffer_def(b).map(|d| d.proto),
                Condition::AppInt { field, .. } | Condition::AppFlags { field, .. } => {
                    keywords::int_field(field)
                        .map(|f| f.proto)
                        .or_else(|| field.split('.').next())
                }
                Condition::AppLayerEvent { proto, .. } => Some(*proto),
                Condition::Modbus(_) => Some("modbus"),
                _ => None,
            };
            if let Some(p) = p {
                // DNS keywords also read mDNS, as Suricata's dns keywords do.
                let compatible = |a: &str, b: &str| a == b || (a == "mdns" && b == "dns");
                match proto {
                    Some(q) if !compatible(q, p) && !compatible(p, q) => {
                        return Err(format!(
                            "the rule reads both {q} and {p}: a rule matches one protocol"
                        ));
                    }
                    None => proto = Some(p),
                    _ => {}
                }
            }
        }
        if let (Some(p), Proto::Icmp) = (proto, self.rule.proto) {
            return Err(format!(
                "the rule reads {p} but its header names icmp: {p} is not carried by ICMP"
            ));
        }
        if let (Some(p), Proto::Ip | Proto::Tcp | Proto::Udp) = (proto, self.rule.proto) {
            // `alert tcp … (http.uri; …)` reads HTTP: the rule becomes an HTTP rule.
            self.rule.proto = Proto::App(p);
        }
        Ok(())
    }
}

/// Adds an inline regex flag once (the regex crate refuses a repeated one, PCRE does not).
fn push_flag(inline: &mut String, flag: char) {
    if !inline.contains(flag) {
        inline.push(flag);
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::{parse_rule, Outcome, Vars};
    use crate::ast::{Condition, Location};

    fn rule(text: &str) -> Result<Outcome, String> {
        let location = Location {
            file: "t.rules".into(),
            line: 1,
        };
        parse_rule(text, location, &Vars::default())
    }

    fn pcre_source(text: &str) -> String {
        match rule(text) {
            Ok(Outcome::Rule(r)) => match r.conditions.first() {
                Some(Condition::Pcre(_, p)) => p.regex.as_str().to_string(),
                other => panic!("not a pcre: {other:?}"),
            },
            Ok(Outcome::Skipped(s)) => panic!("skipped: {s}"),
            Err(e) => panic!("error: {e}"),
        }
    }

    #[test]
    fn pcre_loads_with_and_without_flags() {
        // Every pcre used to build `(?u-u)`, which the regex crate refuses.
        let any = "alert tcp any any -> any any";
        assert_eq!(
            pcre_source(&format!("{any} (pcre:\"/a.c/\"; sid:1;)")),
            "(?-u)a.c"
        );
        assert_eq!(
            pcre_source(&format!("{any} (pcre:\"/a/smiG\"; sid:1;)")),
            "(?smiU-u)a"
        );
        assert_eq!(
            pcre_source(&format!("{any} (pcre:\"/a/iiA\"; sid:1;)")),
            "(?i-u)\\A(?:a)"
        );
    }

    #[test]
    fn absolute_and_relative_modifiers_do_not_mix() {
        let any = "alert tcp any any -> any any";
        for opts in [
            "content:\"a\"; content:\"b\"; depth:2; distance:0;",
            "content:\"a\"; content:\"b\"; within:3; offset:1;",
            "content:\"a\"; content:\"b\"; distance:1; startswith;",
        ] {
            let e = rule(&format!("{any} ({opts} sid:1;)")).err().unwrap();
            assert!(e.contains("absolute"), "{opts}: {e}");
        }
        assert!(rule(&format!(
            "{any} (content:\"a\"; offset:1; depth:2; content:\"b\"; distance:0; within:2; sid:1;)"
        ))
        .is_ok());
    }

    #[test]
    fn app_buffers_on_an_icmp_rule_are_an_error() {
        let e = rule("alert icmp any any -> any any (dns.query; content:\"x\"; sid:1;)")
            .err()
            .unwrap();
        assert!(e.contains("icmp"), "{e}");
    }
}
