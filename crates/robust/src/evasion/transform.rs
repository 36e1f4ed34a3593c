//! A candidate evasion: a set of transforms ([`Transform`], at most one of each kind) applied
//! in a fixed order — header fields, padding, splitting, chaff, then timing — so that
//! timing moves every packet the others made. [`Candidate::name`] is the `transform` string
//! of the report (`"sport+nops(2)+delay(1.50)"`, `"none"` for the original traffic).

use super::ops;
use super::phase::Pkt;
use crate::capture::Frame;
use std::net::Ipv4Addr;

/// One realizable transformation and its parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transform {
    /// Seeded source port per attacker flow ([`ops::source_ports`]).
    SourcePorts,
    /// Seeded IPv4 identification per attacker packet ([`ops::ip_ids`]).
    IpIds,
    /// An HTTP `X-Pad` header of this many bytes ([`ops::http_header`]).
    HttpHeader(usize),
    /// This many 4-byte words of TCP NOP options ([`ops::tcp_nops`]).
    TcpNops(u8),
    /// Attacker segments split in two ([`ops::split`]).
    Split,
    /// Chaff packets: this many per original phase packet ([`ops::chaff`]).
    Chaff(f64),
    /// Gaps × a seeded factor within ± half this amount ([`ops::jitter`]).
    Jitter(f64),
    /// Gaps × this factor ([`ops::delay`]).
    Delay(f64),
    /// Packets evenly spaced over this factor × the duration ([`ops::pace`]).
    Pace(f64),
}

/// How many kinds of [`Transform`] there are.
pub const KINDS: usize = 9;

impl Transform {
    /// Its position in the order of application (also its kind).
    pub fn rank(self) -> usize {
        match self {
            Transform::SourcePorts => 0,
            Transform::IpIds => 1,
            Transform::HttpHeader(_) => 2,
            Transform::TcpNops(_) => 3,
            Transform::Split => 4,
            Transform::Chaff(_) => 5,
            Transform::Jitter(_) => 6,
            Transform::Delay(_) => 7,
            Transform::Pace(_) => 8,
        }
    }

    /// Its name in reports.
    pub fn name(self) -> String {
        match self {
            Transform::SourcePorts => "sport".into(),
            Transform::IpIds => "ipid".into(),
            Transform::HttpHeader(n) => format!("http({n})"),
            Transform::TcpNops(w) => format!("nops({w})"),
            Transform::Split => "split".into(),
            Transform::Chaff(r) => format!("chaff({r:.2})"),
            Transform::Jitter(a) => format!("jitter({a:.2})"),
            Transform::Delay(f) => format!("delay({f:.2})"),
            Transform::Pace(f) => format!("pace({f:.2})"),
        }
    }
}

/// What applying a candidate needs besides the phase's packets.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The capture's link type.
    pub linktype: u32,
    /// Benign UDP datagrams chaff may copy.
    pub pool: &'a [Frame],
    /// The attacker's Ethernet and IPv4 source.
    pub attacker: Option<([u8; 6], Ipv4Addr)>,
}

/// A set of transforms with the seed of their random choices.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The transforms, in order of application, one per kind.
    pub steps: Vec<Transform>,
    /// Seed of the seeded ones (ports, identifications, jitter, chaff).
    pub seed: u64,
}

impl Candidate {
    /// A candidate of `steps` (put in order; a later step of a kind already present wins).
    pub fn new(steps: impl IntoIterator<Item = Transform>, seed: u64) -> Self {
        let mut v: Vec<Transform> = Vec::new();
        for s in steps {
            v.retain(|x| x.rank() != s.rank());
            v.push(s);
        }
        v.sort_by_key(|s| s.rank());
        Candidate { steps: v, seed }
    }

    /// The original traffic.
    pub fn none(seed: u64) -> Self {
        Candidate::new([], seed)
    }

    /// `"none"` or the steps' names joined by `+`.
    pub fn name(&self) -> String {
        if self.steps.is_empty() {
            return "none".into();
        }
        self.steps
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// The phase's packets (time order) transformed.
    pub fn apply(&self, packets: &[Pkt], ctx: &Context<'_>) -> Vec<Pkt> {
        let original = packets.len();
        let mut p = packets.to_vec();
        let lt = ctx.linktype;
        for s in &self.steps {
            p = match *s {
                Transform::SourcePorts => ops::source_ports(&p, lt, self.seed),
                Transform::IpIds => ops::ip_ids(&p, lt, self.seed),
                Transform::HttpHeader(n) => ops::http_header(&p, lt, n),
                Transform::TcpNops(w) => ops::tcp_nops(&p, lt, w),
                Transform::Split => ops::split(&p, lt),
                Transform::Chaff(r) => {
                    let n = (r.max(0.0) * original as f64).round() as usize;
                    ops::chaff(&p, lt, ctx.pool, ctx.attacker, n, self.seed)
                }
                Transform::Jitter(a) => ops::jitter(&p, a, self.seed),
                Transform::Delay(f) => ops::delay(&p, f),
                Transform::Pace(f) => ops::pace(&p, f),
            };
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_ordered_and_named() {
        let c = Candidate::new(
            [
                Transform::Delay(1.5),
                Transform::SourcePorts,
                Transform::TcpNops(2),
                Transform::Delay(1.25),
            ],
            0,
        );
        assert_eq!(c.name(), "sport+nops(2)+delay(1.25)");
        assert_eq!(Candidate::none(0).name(), "none");
    }
}
