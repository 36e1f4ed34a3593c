//! The option list: metadata, payload keywords with their modifiers (`pcre` in
//! [`super::pcre`]), and dispatch to the header, flow and application keywords
//! ([`super::keyword_opts`]).

use super::buffers::Var;
use super::header::Header;
use super::values::{content, int, int_cmp, split_options, string, uint};
use super::{keyword_opts, requires, transforms};
use super::{Outcome, Skipped};
use crate::ast::{Buffer, Chain, Condition, Content, FlowOpts, Location, Num, Proto, Rule};
use crate::keywords::{self, IGNORED_OPTIONS};

/// Builds a rule from its header and option list.
pub(super) fn parse(header: Header, body: &str, location: Location) -> Result<Outcome, String> {
    let options = split_options(body)?;
    // `requires` is checked before the other keywords, as Suricata does: a rule whose
    // requirements are not met is skipped (Suricata ignores it without error), whatever
    // else it holds.
    for (name, value) in &options {
        if name == "requires" {
            let v = value.as_deref().ok_or("requires: needs a value")?;
            if let Err(why) = requires::check(v).map_err(|e| format!("requires: {e}"))? {
                let sid = options
                    .iter()
                    .find(|(n, _)| n == "sid")
                    .and_then(|(_, v)| uint(v.as_deref()?).ok());
                return Ok(Outcome::Skipped(Skipped {
                    location,
                    sid,
                    keyword: "requires".into(),
                    reason: why,
                }));
            }
        }
    }
    let mut b = Builder {
        rule: Rule {
            action: header.action,
            proto: header.proto.clone().unwrap_or(Proto::Ip),
            src: header.src,
            src_ports: header.src_ports,
            bidirectional: header.bidirectional,
            transactional: header.transactional,
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
            transforms: Vec::new(),
            location: location.clone(),
        },
        buffer: Buffer::Payload,
        list_set: false,
        pending: Vec::new(),
        base64_parent: None,
        vars: Vec::new(),
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
    b.finish_buffers()?;
    b.check_protocols()?;
    // A rule already unsupported is skipped whatever its direction: keywords custos ignores
    // (`http.connection: to_client`) may be what disambiguates it.
    if b.rule.transactional && b.unsupported.is_none() {
        b.check_transactional()?;
    }
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
    /// The buffer conditions go to now (untransformed until a payload keyword follows
    /// transforms).
    pub buffer: Buffer,
    /// A sticky buffer was named and transforms may still follow it.
    pub list_set: bool,
    /// Transforms written after the sticky buffer, not yet applied to a keyword.
    pub pending: Vec<crate::transform::Transform>,
    /// The buffer whose `base64_decode` feeds `base64_data`, after `base64_data`.
    pub base64_parent: Option<Buffer>,
    /// `byte_extract` and `byte_math` variables defined so far.
    pub vars: Vec<Var>,
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

    /// Handles option `name`: a rule metadata or payload keyword, or one of the others
    /// (sticky buffers, transforms, [`keyword_opts`]); an unknown keyword makes the rule
    /// unsupported.
    fn option(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        if self.meta_option(name, value)? || self.payload_option(name, value)? {
            return Ok(());
        }
        match name {
            // Checked before the other keywords (`parse`).
            "requires" => {}
            n if IGNORED_OPTIONS.contains(&n) => {}
            n if keywords::content_modifier(n).is_some() && self.last_content.is_some() => {
                self.legacy_modifier(n)?
            }
            n => {
                if let Some(def) = keywords::buffer(n) {
                    if value.is_some() {
                        self.unsupported(n, "options of a sticky buffer are not supported");
                    }
                    self.set_buffer(Buffer::App(def.name, Chain::NONE))?;
                } else if let Some(h) = keywords::header_buffer(n) {
                    if value.is_some() {
                        return Err(format!("`{n}` takes no value"));
                    }
                    self.header_buffer(n, h)?;
                } else if let Some(t) = transforms::parse(n, value)? {
                    self.transform(n, t)?;
                } else if !keyword_opts::option(self, n, value)? {
                    self.unsupported(n, format!("keyword `{n}` is not supported by custos"));
                }
            }
        }
        Ok(())
    }

    /// The rule's metadata keywords (`msg`, `sid`, `rev`, `gid`, `classtype`, `priority`,
    /// `reference`, `metadata`); `Ok(false)` for any other.
    fn meta_option(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The payload keywords: `content` and its modifiers, `pcre`, `pkt_data`, the `base64`
    /// keywords, `absent`, `isdataat`, `bsize` and the `byte_*` keywords; `Ok(false)` for
    /// any other.
    fn payload_option(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
        let need = || value.ok_or_else(|| "needs a value".to_string());
        match name {
            "content" => self.content(need()?)?,
            // `uricontent` is `content` moved to `http.uri` (the sticky buffer is unchanged).
            "uricontent" => {
                let (pattern, negated) = content(need()?)?;
                let uri = Buffer::App("http.uri", Chain::NONE);
                self.rule
                    .conditions
                    .push(Condition::Content(uri, Content::new(pattern, negated)));
                self.last_content = Some(self.rule.conditions.len() - 1);
            }
            "nocase" | "depth" | "offset" | "distance" | "within" | "startswith" | "endswith"
            | "fast_pattern" => self.modifier(name, value)?,
            "pcre" => self.pcre(need()?)?,
            "pkt_data" => self.set_buffer(Buffer::Payload)?,
            "base64_data" => self.base64_data()?,
            "base64_decode" => self.base64_decode(value)?,
            "absent" => self.absent(value)?,
            "isdataat" => self.isdataat(need()?)?,
            "bsize" => {
                let cmp = int_cmp(need()?, &|_| None)?;
                let buffer = self.active()?;
                self.rule.conditions.push(Condition::Bsize(buffer, cmp));
            }
            "byte_test" => self.byte_test(need()?)?,
            "byte_jump" => self.byte_jump(need()?)?,
            "byte_extract" => self.byte_extract(need()?)?,
            "byte_math" => self.byte_math(need()?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `content:[!]"pattern"` on the active buffer; the transforms before it must accept
    /// the pattern.
    fn content(&mut self, v: &str) -> Result<(), String> {
        let (pattern, negated) = content(v)?;
        let buffer = self.active()?;
        if !negated {
            if let Some(t) = buffer
                .chain()
                .of(&self.rule)
                .iter()
                .find(|t| !t.accepts_content(&pattern))
            {
                return Err(format!(
                    "content incompatible with the {} transform before it",
                    t.name()
                ));
            }
        }
        self.rule
            .conditions
            .push(Condition::Content(buffer, Content::new(pattern, negated)));
        self.last_content = Some(self.rule.conditions.len() - 1);
        Ok(())
    }

    /// `isdataat:[!]pos[,relative][,rawbytes]` on the active buffer.
    fn isdataat(&mut self, v: &str) -> Result<(), String> {
        let (negated, v) = match v.trim().strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, v),
        };
        let mut parts = v.split(',').map(str::trim);
        let buffer = self.active()?;
        let pos = self.num(parts.next().unwrap_or(""), buffer, |p| {
            u32::try_from(uint(p)?).map_err(|e| e.to_string())
        })?;
        let mut relative = false;
        for p in parts {
            match p {
                "relative" => relative = true,
                "rawbytes" => {}
                other => return Err(format!("unknown isdataat option `{other}`")),
            }
        }
        self.rule.conditions.push(Condition::IsDataAt {
            buffer,
            pos,
            relative,
            negated,
        });
        Ok(())
    }

    /// The next content modifier has no content to modify (the buffer changed).
    pub fn forget_last_content(&mut self) {
        self.last_content = None;
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
        let buffer = match self.last_content.and_then(|i| self.rule.conditions.get(i)) {
            Some(Condition::Content(b, _)) => *b,
            _ => return Err(format!("`{name}` without a preceding content")),
        };
        let v = || value.ok_or_else(|| "needs a value".to_string());
        let unsigned = |s: &str| -> Result<u32, String> {
            let n = int(s)?;
            u32::try_from(n).map_err(|_| format!("{n} out of range"))
        };
        let number = match name {
            "depth" | "offset" | "within" => Some(self.num(v()?, buffer, unsigned)?),
            _ => None,
        };
        let distance = match name {
            "distance" => Some(self.num(v()?, buffer, int)?),
            _ => None,
        };
        if name == "fast_pattern" && buffer == Buffer::Base64 {
            return Err("base64_data cannot hold the fast_pattern".into());
        }
        let c = self.last_content(name)?;
        match name {
            "nocase" => c.nocase = true,
            "depth" => c.depth = number,
            "offset" => c.offset = number,
            "distance" => c.distance = distance,
            "within" => c.within = number,
            "startswith" => {
                c.offset = Some(Num::Lit(0));
                c.depth = Some(Num::Lit(
                    u32::try_from(c.pattern.len()).map_err(|e| e.to_string())?,
                ));
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
        let len = c.pattern.len();
        if let Some(d) = c.depth.and_then(Num::lit).filter(|&d| (d as usize) < len) {
            return Err(format!(
                "depth {d} is shorter than the content ({len} bytes)"
            ));
        }
        if let Some(w) = c.within.and_then(Num::lit).filter(|&w| (w as usize) < len) {
            return Err(format!(
                "within {w} is shorter than the content ({len} bytes)"
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
            *buffer = Buffer::App(target.name, Chain::NONE);
        }
        Ok(())
    }

    /// A transactional rule (`=>`) must read request-only and response-only keywords, none
    /// that reads either side, and name no flow direction (Suricata refuses it otherwise).
    fn check_transactional(&self) -> Result<(), String> {
        if self.rule.flow.to_server.is_some() {
            return Err("a transactional rule (=>) cannot name a flow direction".into());
        }
        let (mut to_server, mut to_client, mut either) = (false, false, false);
        for c in &self.rule.conditions {
            let side = match c {
                Condition::AppInt { field, .. } => keywords::int_field(field).map(|f| f.side),
                c => match c.buffer() {
                    Some(Buffer::App(b, _)) => keywords::buffer_def(b).map(|d| d.side),
                    _ => None,
                },
            };
            match side {
                Some(keywords::Side::ToServer) => to_server = true,
                Some(keywords::Side::ToClient) => to_client = true,
                Some(keywords::Side::Both) => either = true,
                None => {}
            }
        }
        if !(to_server && to_client) {
            return Err("a transactional rule (=>) must read both directions".into());
        }
        if either {
            return Err(
                "a transactional rule (=>) cannot read keywords ambiguous about direction".into(),
            );
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
                Condition::AppInt { field, .. } | Condition::AppFlags { field, .. } => {
                    keywords::int_field(field)
                        .map(|f| f.proto)
                        .or_else(|| field.split('.').next())
                }
                Condition::AppLayerEvent { proto, .. } => Some(*proto),
                Condition::Modbus(_) => Some("modbus"),
                c => match c.buffer() {
                    Some(Buffer::App(b, _)) => keywords::buffer_def(b).map(|d| d.proto),
                    _ => None,
                },
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
    fn a_pcre_flag_naming_another_buffer_than_the_sticky_one_is_an_error() {
        let http = "alert http any any -> any any";
        let e = rule(&format!("{http} (http.header; pcre:\"/a/P\"; sid:1;)"))
            .err()
            .unwrap();
        assert!(e.contains("sticky buffer"), "{e}");
        assert!(rule(&format!("{http} (http.uri; pcre:\"/a/U\"; sid:1;)")).is_ok());
        assert!(rule(&format!("{http} (content:\"x\"; pcre:\"/a/U\"; sid:1;)")).is_ok());
    }

    #[test]
    fn app_buffers_on_an_icmp_rule_are_an_error() {
        let e = rule("alert icmp any any -> any any (dns.query; content:\"x\"; sid:1;)")
            .err()
            .unwrap();
        assert!(e.contains("icmp"), "{e}");
    }
}
