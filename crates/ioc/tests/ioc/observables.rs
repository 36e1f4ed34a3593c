//! `event_observables` over AppEvents built by hand (DNS, TLS, HTTP and others), and
//! matching them with `match_observable`.

use std::net::IpAddr;
use std::sync::Arc;

use custos_app::dns::{DnsMessage, DnsQuestion, DnsRdata, DnsRecord};
use custos_app::http::{HttpRequest, HttpTransaction};
use custos_app::tls::{TlsClientHello, TlsEvent};
use custos_app::{AppError, AppEvent, AppProto, AppRecord, Direction};
use custos_ioc::{event_observables, IndicatorKind, Observable};

use crate::set_of;

fn event(proto: AppProto, server: (&str, u16), record: AppRecord) -> AppEvent {
    AppEvent {
        ts: 1_700_000_000_000_000_000,
        file: 0,
        index: 7,
        proto,
        transport: 6,
        client: ("192.0.2.10".parse().unwrap(), 50_000),
        server: (server.0.parse::<IpAddr>().unwrap(), server.1),
        macs: [None, None],
        direction: Direction::ToServer,
        community_id: Arc::from("1:test"),
        conn: 1,
        record,
    }
}

/// (field, kind, value) of each observable.
fn triples(obs: &[Observable]) -> Vec<(&str, IndicatorKind, &str)> {
    obs.iter()
        .map(|o| (o.field, o.kind, o.value.as_str()))
        .collect()
}

fn record(name: &str, rrtype: u16, data: DnsRdata) -> DnsRecord {
    DnsRecord {
        name: name.into(),
        rrtype,
        class: 1,
        cache_flush: false,
        ttl: 60,
        data,
    }
}

fn dns_response() -> AppEvent {
    let msg = DnsMessage {
        id: 0x1234,
        response: true,
        opcode: 0,
        authoritative: false,
        truncated: false,
        recursion_desired: true,
        recursion_available: true,
        z: 0,
        rcode: 0,
        question_count: 1,
        answer_count: 3,
        authority_count: 0,
        additional_count: 0,
        questions: vec![DnsQuestion {
            name: "WWW.Shop.Example.".into(),
            rrtype: 1,
            class: 1,
            unicast_response: false,
        }],
        answers: vec![
            record(
                "www.shop.example",
                5,
                DnsRdata::Name("shop.evil.example".into()),
            ),
            record(
                "shop.evil.example",
                1,
                DnsRdata::A("198.51.100.20".parse().unwrap()),
            ),
            record(
                "shop.evil.example",
                1,
                DnsRdata::A("198.51.100.21".parse().unwrap()),
            ),
        ],
        authorities: vec![],
        additionals: vec![],
    };
    event(
        AppProto::Dns,
        ("192.0.2.53", 53),
        AppRecord::Dns(Box::new(msg)),
    )
}

fn client_hello(sni: Option<&str>) -> AppEvent {
    let hello = TlsClientHello {
        offset: 0,
        record_version: 0x0301,
        version: 0x0303,
        supported_versions: vec![0x0304],
        sni: sni.map(str::to_string),
        alpn: vec!["h2".into()],
        cipher_suites: vec![0x1301],
        extensions: vec![0, 16, 43],
        groups: vec![29],
        ec_point_formats: vec![0],
        signature_algorithms: vec![0x0403],
        ja3: "771,4865,0-16-43,29,0".into(),
        ja3_hash: "E7D705A3286E19EA42F587B344EE6865".into(),
        ja4: "t13d0103h2_8daaf6152771_e5627efa2ab1".into(),
    };
    event(
        AppProto::Tls,
        ("198.51.100.30", 443),
        AppRecord::Tls(Box::new(TlsEvent::ClientHello(hello))),
    )
}

fn http(host: Option<&str>, uri: &str, server: (&str, u16)) -> AppEvent {
    let req = HttpRequest {
        method: "GET".into(),
        uri: uri.into(),
        version: "1.1".into(),
        host: host.map(str::to_string),
        user_agent: Some("Mozi".into()),
        ..HttpRequest::default()
    };
    event(
        AppProto::Http,
        server,
        AppRecord::Http(Box::new(HttpTransaction {
            request: Some(req),
            response: None,
        })),
    )
}

#[test]
fn dns_gives_query_and_answer_names_once() {
    let obs = event_observables(&dns_response());
    assert_eq!(
        triples(&obs),
        [
            ("dns.query", IndicatorKind::Domain, "www.shop.example"),
            ("dns.answer", IndicatorKind::Domain, "shop.evil.example"),
        ]
    );
}

#[test]
fn dns_answer_name_matches_a_domain_indicator() {
    let set = set_of("d.txt", "evil.example\n");
    let hits: Vec<_> = event_observables(&dns_response())
        .iter()
        .filter_map(|o| set.match_observable(o).map(|i| (o.field, i.value.as_str())))
        .collect();
    assert_eq!(hits, [("dns.answer", "evil.example")]);
}

#[test]
fn tls_client_hello_gives_sni_ja3_and_ja4() {
    let obs = event_observables(&client_hello(Some("Api.Evil.Example")));
    assert_eq!(
        triples(&obs),
        [
            ("tls.sni", IndicatorKind::Domain, "api.evil.example"),
            (
                "tls.ja3",
                IndicatorKind::Ja3,
                "e7d705a3286e19ea42f587b344ee6865"
            ),
            (
                "tls.ja4",
                IndicatorKind::Ja4,
                "t13d0103h2_8daaf6152771_e5627efa2ab1"
            ),
        ]
    );
    let set = set_of(
        "t.txt",
        "evil.example\ne7d705a3286e19ea42f587b344ee6865\nt13d0103h2_8daaf6152771_e5627efa2ab1\n",
    );
    let sources: Vec<_> = obs
        .iter()
        .map(|o| set.match_observable(o).map(|i| i.source.as_str()))
        .collect();
    assert_eq!(sources, [Some("t.txt:1"), Some("t.txt:2"), Some("t.txt:3")]);
}

#[test]
fn tls_sni_that_is_an_address_is_an_ip_observable() {
    let obs = event_observables(&client_hello(Some("198.51.100.30")));
    assert_eq!(
        obs.first().map(|o| (o.field, o.kind, o.value.as_str())),
        Some(("tls.sni", IndicatorKind::Ip, "198.51.100.30"))
    );
    let obs = event_observables(&client_hello(None));
    assert_eq!(obs.len(), 2);
    assert!(obs.iter().all(|o| o.field != "tls.sni"));
}

#[test]
fn http_gives_host_and_url_from_host_header() {
    let e = http(
        Some("Evil.Example:8080"),
        "/bins/mozi.m?x=1",
        ("198.51.100.40", 8080),
    );
    let obs = event_observables(&e);
    assert_eq!(
        triples(&obs),
        [
            ("http.host", IndicatorKind::Domain, "evil.example"),
            (
                "http.url",
                IndicatorKind::Url,
                "http://evil.example:8080/bins/mozi.m?x=1"
            ),
        ]
    );
    let set = set_of("u.txt", "http://evil.example:8080/bins/mozi.m\n");
    let url = obs.iter().find(|o| o.field == "http.url").unwrap();
    assert_eq!(
        set.match_observable(url).map(|i| i.value.as_str()),
        Some("http://evil.example:8080/bins/mozi.m")
    );
}

#[test]
fn http_without_host_uses_the_server_address() {
    let obs = event_observables(&http(None, "/i", ("198.51.100.41", 80)));
    assert_eq!(
        triples(&obs),
        [("http.url", IndicatorKind::Url, "http://198.51.100.41/i")]
    );
    let obs = event_observables(&http(Some(""), "/i", ("2001:db8::41", 8000)));
    assert_eq!(
        triples(&obs),
        [(
            "http.url",
            IndicatorKind::Url,
            "http://[2001:db8::41]:8000/i"
        )]
    );
}

#[test]
fn http_host_address_and_absolute_target() {
    let obs = event_observables(&http(
        Some("198.51.100.42"),
        "HTTP://Evil.Example/x",
        ("198.51.100.42", 3128),
    ));
    assert_eq!(
        triples(&obs),
        [
            ("http.host", IndicatorKind::Ip, "198.51.100.42"),
            ("http.url", IndicatorKind::Url, "http://evil.example/x"),
        ]
    );
    let set = set_of("i.txt", "198.51.100.0/24\n");
    assert_eq!(
        set.match_observable(&obs[0]).map(|i| i.value.as_str()),
        Some("198.51.100.0/24")
    );
}

#[test]
fn http_connect_and_asterisk_targets_give_no_url() {
    for uri in ["evil.example:443", "*"] {
        let obs = event_observables(&http(Some("evil.example:443"), uri, ("198.51.100.43", 80)));
        assert_eq!(
            triples(&obs),
            [("http.host", IndicatorKind::Domain, "evil.example")],
            "{uri}"
        );
    }
}

#[test]
fn other_records_give_nothing() {
    let e = event(
        AppProto::Telnet,
        ("198.51.100.44", 23),
        AppRecord::Anomaly {
            error: AppError::Unrecognised,
        },
    );
    assert!(event_observables(&e).is_empty());
}
