//! Non-payload keywords: flow, flowbits, thresholds, application fields,
//! application-layer events and `modbus`; header fields are in [`super::packet_opts`].

use super::modbus::modbus;
use super::options::Builder;
use super::packet_opts::header_option;
use super::values::{int_cmp, uint};
use crate::ast::{
    Condition, FlowDir, Flowbit, IntCmp, Proto, Threshold, ThresholdKind, Track, UniquePort,
};
use crate::keywords::{self, MQTT_CONNECT_FLAGS, MQTT_FLAGS, MQTT_TYPES};

/// Handles keyword `name`; `Ok(false)` when it is not one of these.
pub(super) fn option(b: &mut Builder, name: &str, value: Option<&str>) -> Result<bool, String> {
    if rule_option(b, name, value)? {
        return Ok(true);
    }
    if let Some(cond) = header_option(name, value)? {
        b.rule.conditions.push(cond);
        return Ok(true);
    }
    app_option(b, name, value)
}

/// The keywords that set a property of the rule rather than add a condition: `flow`,
/// `flowbits`, `noalert`, `threshold`, `detection_filter` and `prefilter`; `Ok(false)` for
/// any other.
fn rule_option(b: &mut Builder, name: &str, value: Option<&str>) -> Result<bool, String> {
    let need = || value.ok_or_else(|| "needs a value".to_string());
    match name {
        "flow" => flow(b, need()?)?,
        "flowbits" => {
            let f = flowbit(need()?)?;
            b.rule.flowbits.push(f);
        }
        "noalert" => b.rule.flowbits.push(Flowbit::NoAlert),
        "threshold" => match threshold(need()?, false)? {
            Ok(t) => b.rule.threshold = Some(t),
            Err(why) => b.unsupported(name, why),
        },
        "detection_filter" => match threshold(need()?, true)? {
            Ok(t) if t.unique_on.is_some() && matches!(b.rule.proto, Proto::Ip | Proto::Icmp) => {
                return Err("unique_on needs a protocol with ports".into());
            }
            Ok(t) => b.rule.detection_filter = Some(t),
            Err(why) => b.unsupported(name, why),
        },
        // A hint for Suricata's prefilter engine: no effect on what matches.
        "prefilter" => {}
        _ => return Ok(false),
    }
    Ok(true)
}

/// The flow and application keywords: application-layer events and protocol, `urilen`,
/// flow counters, `modbus`, MQTT flags and the integer fields of [`keywords::int_field`];
/// `Ok(false)` for any other.
fn app_option(b: &mut Builder, name: &str, value: Option<&str>) -> Result<bool, String> {
    let need = || value.ok_or_else(|| "needs a value".to_string());
    let cond = match name {
        "app-layer-event" => {
            let v = need()?.trim();
            let (negated, v) = match v.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, v),
            };
            let Some((proto, event)) = v.split_once('.') else {
                b.unsupported(name, format!("event `{v}` is not reported by custos"));
                return Ok(true);
            };
            match keywords::app_event(proto, event) {
                Some((proto, event)) if !negated => Condition::AppLayerEvent { proto, event },
                _ => {
                    b.unsupported(name, format!("event `{v}` is not reported by custos"));
                    return Ok(true);
                }
            }
        }
        "app-layer-protocol" => match app_protocol(need()?)? {
            Ok(c) => c,
            Err(why) => {
                b.unsupported(name, why);
                return Ok(true);
            }
        },
        "urilen" => {
            let v = need()?;
            let cmp = v.split(',').next().unwrap_or("");
            let uri = crate::ast::Buffer::App("http.uri", crate::ast::Chain::NONE);
            Condition::Bsize(uri, int_cmp(cmp, &|_| None)?)
        }
        "flow.pkts"
        | "flow.bytes"
        | "flow.pkts_toserver"
        | "flow.pkts_toclient"
        | "flow.bytes_toserver"
        | "flow.bytes_toclient" => flow_count_option(name, need()?)?,
        "modbus" => match modbus(need()?)? {
            Some(t) => Condition::Modbus(t),
            None => {
                b.unsupported(name, "modbus option not supported (value tests)");
                return Ok(true);
            }
        },
        "mqtt.flags" | "mqtt.connect.flags" => {
            let table = if name == "mqtt.flags" {
                MQTT_FLAGS
            } else {
                MQTT_CONNECT_FLAGS
            };
            let (set, unset) = named_flags(need()?, table)?;
            Condition::AppFlags {
                field: if name == "mqtt.flags" {
                    "mqtt.flags"
                } else {
                    "mqtt.connect.flags"
                },
                set,
                unset,
            }
        }
        n => match keywords::int_field(n) {
            Some(def) => app_int(def.name, need()?)?,
            None => return Ok(false),
        },
    };
    b.rule.conditions.push(cond);
    Ok(true)
}

/// `flow.pkts` / `flow.bytes` (`direction,value`) and their one-direction forms
/// (`flow.pkts_toserver` …).
fn flow_count_option(name: &str, v: &str) -> Result<Condition, String> {
    if name == "flow.pkts" || name == "flow.bytes" {
        let (dir, cmp) = v
            .split_once(',')
            .ok_or_else(|| format!("expected `direction,value`, found `{v}`"))?;
        let dir = match dir.trim() {
            "toserver" => FlowDir::ToServer,
            "toclient" => FlowDir::ToClient,
            "either" => FlowDir::Either,
            "both" => FlowDir::Both,
            other => return Err(format!("unknown direction `{other}`")),
        };
        return flow_count(name == "flow.bytes", dir, cmp);
    }
    let dir = if name.ends_with("toserver") {
        FlowDir::ToServer
    } else {
        FlowDir::ToClient
    };
    flow_count(name.starts_with("flow.bytes"), dir, v)
}

/// An integer application field test (`mqtt.type`, `snmp.pdu_type` …): `value[,index]`,
/// where the value may be one of the field's names.
fn app_int(field: &'static str, v: &str) -> Result<Condition, String> {
    let (v, index) = match v.rsplit_once(',') {
        Some((v, i)) => (v, Some(uint(i)? as usize)),
        None => (v, None),
    };
    Ok(Condition::AppInt {
        field,
        cmp: int_cmp(v, &|t| int_field_name(field, t))?,
        index,
    })
}

/// The number a named value of integer field `field` stands for (`mqtt.type:publish`).
fn int_field_name(field: &str, t: &str) -> Option<u64> {
    match field {
        "mqtt.type" => MQTT_TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(t))
            .map(|(_, v)| *v),
        "snmp.pdu_type" => [
            "get_request",
            "get_next_request",
            "response",
            "set_request",
            "trap_v1",
            "get_bulk_request",
            "inform_request",
            "trap_v2",
            "report",
        ]
        .iter()
        .position(|n| *n == t)
        .map(|i| i as u64),
        "mqtt.connack.session_present" => match t {
            "true" | "yes" => Some(1),
            "false" | "no" => Some(0),
            _ => None,
        },
        _ => None,
    }
}

/// `flow.pkts` / `flow.bytes` in a direction (packets: 32-bit values).
fn flow_count(bytes: bool, dir: FlowDir, cmp: &str) -> Result<Condition, String> {
    let cmp = int_cmp(cmp, &|_| None)?;
    let limit = |v: u64| bytes || u32::try_from(v).is_ok();
    let in_range = match cmp {
        IntCmp::Eq(v)
        | IntCmp::Ne(v)
        | IntCmp::Lt(v)
        | IntCmp::Le(v)
        | IntCmp::Gt(v)
        | IntCmp::Ge(v) => limit(v),
        IntCmp::Between(a, b) => limit(a) && limit(b),
    };
    if !in_range {
        return Err("flow.pkts takes 32-bit values".into());
    }
    Ok(Condition::FlowCount { bytes, dir, cmp })
}

/// `app-layer-protocol:[!]proto[|proto…][,qualifier…]`; `Ok(Err(why))` for a well-formed
/// one custos cannot honour. custos knows the protocol of the connection, not of each
/// direction: the `direction` (default), `either` and `final` modes read it; `to_server`,
/// `to_client` and `original` are unsupported, as are protocols custos does not parse and
/// `failed`.
fn app_protocol(v: &str) -> Result<Result<Condition, String>, String> {
    let v = v.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, v),
    };
    let mut parts = v.split(',').map(str::trim);
    let names = parts.next().unwrap_or("");
    let mut exact = false;
    let mut mode = None;
    for q in parts {
        match q {
            "exact" => exact = true,
            "direction" | "either" | "final" | "to_server" | "to_client" | "original" => {
                if mode.replace(q).is_some() {
                    return Err("more than one app-layer-protocol mode".into());
                }
            }
            other => return Err(format!("unknown app-layer-protocol qualifier `{other}`")),
        }
    }
    let (mut protos, mut unknown) = (Vec::new(), false);
    for n in names.split('|').map(str::trim) {
        match n {
            "" => return Err(format!("empty protocol in `{v}`")),
            "unknown" if negated => return Err("`unknown` cannot be negated".into()),
            "unknown" => unknown = true,
            "http" if exact => {
                return Err("`http` with `exact` never matches (use http1 or http2)".into())
            }
            "failed" => {
                return Ok(Err(
                    "custos does not report failed protocol detection".into()
                ))
            }
            n => match keywords::APP_PROTOS.iter().find(|(name, _)| *name == n) {
                Some((_, proto)) => protos.push(*proto),
                None => return Ok(Err(format!("protocol `{n}` is not parsed by custos"))),
            },
        }
    }
    if let Some(m @ ("to_server" | "to_client" | "original")) = mode {
        return Ok(Err(format!(
            "mode `{m}`: custos knows the connection's protocol, not each direction's or the \
             original one"
        )));
    }
    Ok(Ok(Condition::AppProtocol {
        protos,
        unknown,
        negated,
    }))
}

fn flow(b: &mut Builder, v: &str) -> Result<(), String> {
    for opt in v.split(',').map(str::trim) {
        let f = &mut b.rule.flow;
        match opt {
            "established" => f.established = Some(true),
            "not_established" => f.established = Some(false),
            "stateless" => {}
            "to_server" | "from_client" => f.to_server = Some(true),
            "to_client" | "from_server" => f.to_server = Some(false),
            "only_stream" => f.stream = Some(true),
            "no_stream" => f.stream = Some(false),
            "no_frag" | "only_frag" => {
                b.unsupported("flow", format!("flow option `{opt}` is not supported"));
            }
            other => return Err(format!("unknown flow option `{other}`")),
        }
    }
    Ok(())
}

fn flowbit(v: &str) -> Result<Flowbit, String> {
    let v = v.trim();
    if v == "noalert" {
        return Ok(Flowbit::NoAlert);
    }
    let (cmd, names) = v
        .split_once(',')
        .ok_or_else(|| format!("expected `command,name`, found `{v}`"))?;
    let names = names.trim();
    if names.is_empty() || names.contains(char::is_whitespace) {
        return Err(format!("bad flowbit name `{names}`"));
    }
    let list = |sep: char| names.split(sep).map(str::to_string).collect::<Vec<_>>();
    let (all, parts) = if names.contains('&') {
        (true, list('&'))
    } else {
        (false, list('|'))
    };
    Ok(match cmd.trim() {
        "set" => Flowbit::Set(names.to_string()),
        "unset" => Flowbit::Unset(names.to_string()),
        "toggle" => Flowbit::Toggle(names.to_string()),
        "isset" => Flowbit::IsSet(parts, all),
        "isnotset" => Flowbit::IsNotSet(parts, all),
        other => return Err(format!("unknown flowbits command `{other}`")),
    })
}

/// A threshold; `Ok(Err(why))` for a well-formed one custos does not implement.
fn threshold(v: &str, detection_filter: bool) -> Result<Result<Threshold, String>, String> {
    let mut kind = if detection_filter {
        Some(ThresholdKind::DetectionFilter)
    } else {
        None
    };
    let (mut track, mut count, mut seconds, mut multiplier) = (None, None, None, None);
    let mut unique_on = None;
    for part in v.split(',').map(str::trim) {
        let (k, val) = part
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("expected `key value`, found `{part}`"))?;
        let val = val.trim();
        match k {
            "type" if !detection_filter => {
                kind = Some(match val {
                    "limit" => ThresholdKind::Limit,
                    "threshold" => ThresholdKind::Threshold,
                    "both" => ThresholdKind::Both,
                    "backoff" => ThresholdKind::Backoff(0),
                    other => return Err(format!("unknown threshold type `{other}`")),
                })
            }
            "track" => {
                track = Some(match val {
                    "by_src" => Track::BySrc,
                    "by_dst" => Track::ByDst,
                    "by_rule" => Track::ByRule,
                    "by_both" => Track::ByBoth,
                    "by_flow" => Track::ByFlow,
                    other => return Err(format!("unknown track `{other}`")),
                })
            }
            "count" => count = Some(uint(val)?),
            "seconds" => seconds = Some(uint(val)?),
            "multiplier" => multiplier = Some(uint(val)?),
            "unique_on" if detection_filter => {
                unique_on = Some(match val {
                    "src_port" => UniquePort::Src,
                    "dst_port" => UniquePort::Dst,
                    other => return Err(format!("unknown unique_on `{other}`")),
                })
            }
            other => return Err(format!("unknown threshold option `{other}`")),
        }
    }
    let kind = match kind.ok_or("missing type")? {
        ThresholdKind::Backoff(_) => {
            ThresholdKind::Backoff(multiplier.ok_or("backoff needs a multiplier")?.max(1))
        }
        k => k,
    };
    let seconds = match (kind, seconds) {
        (ThresholdKind::Backoff(_), s) => s.unwrap_or(0),
        (_, s) => s.ok_or("missing seconds")?,
    };
    if matches!(kind, ThresholdKind::Backoff(_)) && track != Some(Track::ByFlow) {
        return Err("backoff is tracked by_flow".into());
    }
    Ok(Ok(Threshold {
        kind,
        track: track.ok_or("missing track")?,
        count: count.ok_or("missing count")?.max(1),
        seconds,
        unique_on,
    }))
}

fn named_flags(v: &str, table: &[(&str, u32)]) -> Result<(u32, u32), String> {
    let (mut set, mut unset) = (0, 0);
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (neg, name) = match part.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, part),
        };
        let bit = table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| format!("unknown flag `{name}`"))?;
        if neg {
            unset |= bit;
        } else {
            set |= bit;
        }
    }
    if set & unset != 0 {
        return Err("a flag both required and excluded".into());
    }
    Ok((set, unset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowbits_and_thresholds_parse() {
        assert_eq!(flowbit("set,a.b").unwrap(), Flowbit::Set("a.b".into()));
        assert_eq!(
            flowbit("isset,a|b").unwrap(),
            Flowbit::IsSet(vec!["a".into(), "b".into()], false)
        );
        assert!(flowbit("frob,a").is_err());
        let t = threshold("type limit, track by_src, count 2, seconds 60", false)
            .unwrap()
            .unwrap();
        assert_eq!(t.kind, ThresholdKind::Limit);
        assert_eq!(t.count, 2);
        assert!(threshold("track by_src, count 2, seconds 60", false).is_err());
        let b = threshold("type backoff, track by_flow, count 1, multiplier 10", false)
            .unwrap()
            .unwrap();
        assert_eq!(b.kind, ThresholdKind::Backoff(10));
        let distinct = threshold("track by_src, count 2, seconds 6, unique_on dst_port", true)
            .unwrap()
            .unwrap();
        assert_eq!(distinct.unique_on, Some(UniquePort::Dst));
        assert!(threshold("track by_src, count 2, seconds 6, unique_on x", true).is_err());
        assert!(threshold(
            "type limit, track by_src, count 2, seconds 6, unique_on dst_port",
            false
        )
        .is_err());
    }
}
