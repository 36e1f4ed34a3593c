//! What of an application event an indicator can name ([`event_observables`]).

use std::net::IpAddr;

use custos_app::dns::DnsRdata;
use custos_app::http::HttpRequest;
use custos_app::tls::TlsEvent;
use custos_app::{AppEvent, AppRecord};
use serde::Serialize;

use crate::{fingerprint, url, IndicatorKind};

/// One value of an event that indicators can name, with the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observable {
    /// The field: `dns.query`, `dns.answer`, `tls.sni`, `tls.ja3`, `tls.ja4`, `http.host` or
    /// `http.url`.
    pub field: &'static str,
    /// Which indicators can match it.
    pub kind: IndicatorKind,
    /// The value: a name in lowercase without a trailing dot, an address as Rust writes it,
    /// a normalised URL, a fingerprint as the matchers compare it.
    pub value: String,
}

/// The observables of `event`, each (kind, value) once, in this order:
///
/// - DNS and mDNS messages: each question name (`dns.query`), then the owner name of each
///   answer record and the target of each CNAME, PTR, NS or DNAME answer (`dns.answer`);
/// - a TLS ClientHello: the SNI (`tls.sni`), the JA3 hash (`tls.ja3`), the JA4
///   (`tls.ja4`);
/// - an HTTP request: the `Host` header without its port (`http.host`), and the URL
///   (`http.url`): the request target itself when it is absolute (`http://…`, as sent to a
///   proxy), else `http://` + the `Host` header (or the server's address and port without
///   one) + the target; none for `*` or an authority-form (`CONNECT`) target.
///
/// A name that is an address literal (an SNI or `Host` of `192.0.2.1`) is an
/// [`IndicatorKind::Ip`] observable. Other records give none.
pub fn event_observables(event: &AppEvent) -> Vec<Observable> {
    let mut out = Observables(Vec::new());
    match &event.record {
        AppRecord::Dns(m) => {
            for q in &m.questions {
                out.host("dns.query", &q.name);
            }
            for r in &m.answers {
                out.host("dns.answer", &r.name);
                if let DnsRdata::Name(target) = &r.data {
                    out.host("dns.answer", target);
                }
            }
        }
        AppRecord::Tls(tls) => {
            if let TlsEvent::ClientHello(h) = tls.as_ref() {
                if let Some(sni) = &h.sni {
                    out.host("tls.sni", sni);
                }
                if !h.ja3_hash.is_empty() {
                    let ja3 = fingerprint::ja3(&h.ja3_hash).unwrap_or_else(|_| h.ja3_hash.clone());
                    out.push("tls.ja3", IndicatorKind::Ja3, ja3);
                }
                if !h.ja4.is_empty() {
                    let ja4 = fingerprint::ja4(&h.ja4).unwrap_or_else(|_| h.ja4.clone());
                    out.push("tls.ja4", IndicatorKind::Ja4, ja4);
                }
            }
        }
        AppRecord::Http(tx) => {
            if let Some(req) = &tx.request {
                if let Some(host) = &req.host {
                    out.host("http.host", without_port(host.trim()));
                }
                if let Some(u) = request_url(req, event.server) {
                    out.push("http.url", IndicatorKind::Url, u);
                }
            }
        }
        _ => {}
    }
    out.0
}

/// The list being built, without repeats.
struct Observables(Vec<Observable>);

impl Observables {
    fn push(&mut self, field: &'static str, kind: IndicatorKind, value: String) {
        if !self.0.iter().any(|o| o.kind == kind && o.value == value) {
            self.0.push(Observable { field, kind, value });
        }
    }

    /// A host name or address literal.
    fn host(&mut self, field: &'static str, name: &str) {
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() {
            return;
        }
        let bare = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        match bare.parse::<IpAddr>() {
            Ok(ip) => self.push(field, IndicatorKind::Ip, ip.to_string()),
            Err(_) => self.push(field, IndicatorKind::Domain, name.to_ascii_lowercase()),
        }
    }
}

/// A `Host` header without its port: `evil.example:8080` → `evil.example`,
/// `[2001:db8::1]:80` → `[2001:db8::1]`; an unbracketed IPv6 address is kept whole.
fn without_port(host: &str) -> &str {
    if host.parse::<IpAddr>().is_ok() {
        return host;
    }
    if host.starts_with('[') {
        return host.find(']').and_then(|i| host.get(..=i)).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The URL a request asked for, normalised; see [`event_observables`].
fn request_url(req: &HttpRequest, server: (IpAddr, u16)) -> Option<String> {
    let uri = req.uri.as_str();
    let absolute = ["http://", "https://"].iter().any(|p| {
        uri.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    });
    let text = if absolute {
        uri.to_string()
    } else if uri.starts_with('/') {
        let host = req.host.as_deref().map(str::trim).filter(|h| !h.is_empty());
        match (host, server.0) {
            (Some(h), _) => format!("http://{h}{uri}"),
            (None, IpAddr::V4(a)) => format!("http://{a}:{}{uri}", server.1),
            (None, IpAddr::V6(a)) => format!("http://[{a}]:{}{uri}", server.1),
        }
    } else {
        return None;
    };
    url::normalise(&text).ok().map(url::Url::into_string)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn strips_ports_from_host_headers() {
        assert_eq!(without_port("evil.example:8080"), "evil.example");
        assert_eq!(without_port("evil.example"), "evil.example");
        assert_eq!(without_port("[2001:db8::1]:80"), "[2001:db8::1]");
        assert_eq!(without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(without_port("evil.example:http"), "evil.example:http");
    }
}
