//! The pseudonymizer: kept networks and collisions, policy actions, text values.

use std::net::IpAddr;

use custos_privacy::{
    Action, Error, FieldClass, Network, Policy, PseudonymKey, Pseudonymizer, ValueKind,
};

fn key() -> PseudonymKey {
    PseudonymKey::from_parts([0x11; 32], [0x22; 32])
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn net(text: &str) -> Network {
    text.parse().unwrap()
}

fn with_kept(networks: &[&str]) -> Pseudonymizer {
    let policy = networks.iter().fold(Policy::default(), |policy, network| {
        policy.with_keep_network(net(network))
    });
    Pseudonymizer::new(&key(), policy)
}

#[test]
fn kept_networks_pass_unchanged_both_ways() {
    let mut p = with_kept(&["198.51.100.0/24", "2001:db8:bad::/48"]);
    for addr in ["198.51.100.7", "2001:db8:bad::1"] {
        assert_eq!(p.ip(ip(addr)).unwrap(), ip(addr));
        assert_eq!(p.ip_inverse(ip(addr)).unwrap(), ip(addr));
    }
    let other = p.ip(ip("203.0.113.5")).unwrap();
    assert_ne!(other, ip("203.0.113.5"));
    assert_eq!(p.ip_inverse(other).unwrap(), ip("203.0.113.5"));
}

#[test]
fn refuses_a_pseudonym_in_a_kept_network() {
    let mut p = with_kept(&["198.51.100.0/24"]);
    let shadow = p.shadows()[0];
    assert_eq!(shadow.kept, net("198.51.100.0/24"));
    assert_eq!(shadow.originals.prefix_len(), 24);
    // Every address of the shadow maps into the kept network, so each is refused.
    let IpAddr::V4(base) = shadow.originals.addr() else {
        panic!("IPv4 shadow")
    };
    let victim = IpAddr::V4((u32::from(base) | 42).into());
    let err = p.ip(victim).unwrap_err();
    let Error::Collision { pseudonym, network } = err else {
        panic!("{err:?}")
    };
    assert_eq!(network, net("198.51.100.0/24"));
    assert!(network.contains(pseudonym));
    assert_eq!(
        Error::Collision { pseudonym, network }.to_string(),
        format!(
            "pseudonym {pseudonym} falls in kept network 198.51.100.0/24: kept networks must not \
             collide with pseudonyms (refused)"
        )
    );
    // The inverse of a kept address never lands in the shadow: the map stays one-to-one.
    assert_eq!(p.ip_inverse(pseudonym).unwrap(), pseudonym);
}

#[test]
fn shadows_predict_every_collision() {
    let kept = ["10.0.0.0/8", "2001:db8::/32"];
    let mut p = with_kept(&kept);
    let shadows = p.shadows().to_vec();
    assert_eq!(shadows.len(), 2);
    let mut rng = crate::Rng::new(9);
    for _ in 0..3000 {
        let bits = rng.next_u128();
        // Half the probes inside a shadow, half anywhere.
        let shadow = shadows[usize::try_from(rng.below(2)).unwrap()].originals;
        let inside = match shadow.addr() {
            IpAddr::V4(base) => {
                let host = u32::try_from(bits >> 96).unwrap() >> shadow.prefix_len();
                IpAddr::V4((u32::from(base) | host).into())
            }
            IpAddr::V6(base) => {
                IpAddr::V6((u128::from(base) | (bits >> shadow.prefix_len())).into())
            }
        };
        let anywhere = IpAddr::V4(u32::try_from(bits & 0xffff_ffff).unwrap().into());
        for addr in [inside, anywhere] {
            let kept_itself = kept.iter().any(|k| net(k).contains(addr));
            let predicted = !kept_itself && shadows.iter().any(|s| s.originals.contains(addr));
            match p.ip(addr) {
                Err(Error::Collision { .. }) => assert!(predicted, "{addr}"),
                Ok(_) => assert!(!predicted, "{addr}"),
                Err(err) => panic!("{err}"),
            }
        }
    }
}

#[test]
fn ip_inverse_refuses_addresses_no_pseudonym_maps_to() {
    let mut p = with_kept(&["198.51.100.0/24"]);
    // The pseudonym of a kept address, were it pseudonymised, is never produced.
    let plain = Pseudonymizer::new(&key(), Policy::default())
        .ip(ip("198.51.100.9"))
        .unwrap();
    let err = p.ip_inverse(plain).unwrap_err();
    assert!(
        matches!(err, Error::NotAPseudonym { address, network } if address == plain && network == net("198.51.100.0/24")),
        "{err}"
    );
    assert_eq!(p.ip(ip("198.51.100.9")).unwrap(), ip("198.51.100.9"));
}

#[test]
fn apply_follows_the_policy() {
    let policy = Policy::from_toml(
        r#"
keep_networks = ["192.0.2.0/24"]
[fields]
ip = "truncate:16"
ipv6 = "drop"
mac = "truncate:24"
hostname = "pseudonymise"
dns_query = "truncate:2"
username = "truncate:3"
user_agent = "keep"
"#,
        std::path::Path::new("p.toml"),
    )
    .unwrap();
    let mut p = Pseudonymizer::new(&key(), policy);
    let apply = |p: &mut Pseudonymizer, class, value: &str| p.apply(class, value).unwrap();
    assert_eq!(
        apply(&mut p, FieldClass::Ip, "203.0.113.77").as_deref(),
        Some("203.0.0.0")
    );
    assert_eq!(
        apply(&mut p, FieldClass::Ip, "192.0.2.77").as_deref(),
        Some("192.0.2.77")
    );
    assert_eq!(apply(&mut p, FieldClass::Ip, "2001:db8::1"), None);
    assert_eq!(
        apply(&mut p, FieldClass::Mac, "00:1a:2b:3c:4d:5e").as_deref(),
        Some("00:1a:2b:00:00:00")
    );
    let host = apply(&mut p, FieldClass::Hostname, "cam-livingroom").unwrap();
    assert_eq!(p.name_inverse(&host).unwrap(), "cam-livingroom");
    assert_eq!(
        apply(&mut p, FieldClass::DnsQuery, "cam1.home.example.com.").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        apply(&mut p, FieldClass::Username, "administrator").as_deref(),
        Some("adm")
    );
    assert_eq!(
        apply(&mut p, FieldClass::UserAgent, "curl/8").as_deref(),
        Some("curl/8")
    );
    assert_eq!(apply(&mut p, FieldClass::Password, "hunter2"), None);
    let err = p.apply(FieldClass::Ip, "not-an-ip").unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { kind: "ip", .. }),
        "{err}"
    );
}

#[test]
fn truncation_into_a_kept_network_is_refused() {
    let policy = Policy::default()
        .with_keep_network(net("10.0.0.0/24"))
        .with_action(FieldClass::Ip, Action::Truncate(8))
        .unwrap();
    let mut p = Pseudonymizer::new(&key(), policy);
    let err = p.apply_ip(ip("10.9.9.9")).unwrap_err();
    assert!(
        matches!(err, Error::Collision { pseudonym, network } if pseudonym == ip("10.0.0.0") && network == net("10.0.0.0/24")),
        "{err}"
    );
}

#[test]
fn with_action_refuses_what_the_class_forbids() {
    let err = Policy::default()
        .with_action(FieldClass::Password, Action::Keep)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid policy action \"password = \\\"keep\\\"\": this field can only be dropped"
    );
}

#[test]
fn text_values_pseudonymise_and_reidentify() {
    let mut p = Pseudonymizer::new(&key(), Policy::default());
    for (kind, value) in [
        (ValueKind::Ip, "192.0.2.1"),
        (ValueKind::Ip, "2001:db8::1"),
        (ValueKind::Mac, "00:1a:2b:3c:4d:5e"),
        (ValueKind::Name, "mqtt-client-7"),
    ] {
        assert_eq!(ValueKind::detect(value), kind);
        let pseudonym = p.pseudonymize(kind, value).unwrap();
        assert_ne!(pseudonym, value);
        assert_eq!(p.reidentify(kind, &pseudonym).unwrap(), value);
    }
    assert_eq!("mac".parse::<ValueKind>().unwrap(), ValueKind::Mac);
    assert!("host".parse::<ValueKind>().is_err());
    let err = p.pseudonymize(ValueKind::Mac, "192.0.2.1").unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { kind: "mac", .. }),
        "{err}"
    );
}

#[test]
fn key_hex_mode_derives_mac_and_name_keys() {
    let hex = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";
    let mut a = Pseudonymizer::from_key_hex(hex).unwrap();
    let b = Pseudonymizer::from_key_hex(hex).unwrap();
    assert_eq!(a.pseudonymize(ValueKind::Name, "x").unwrap(), b.name("x"));
    assert_eq!(a.mac([0, 1, 2, 3, 4, 5]), b.mac([0, 1, 2, 3, 4, 5]));
    assert_eq!(a.key_fingerprint(), b.key_fingerprint());
    let err = Pseudonymizer::from_key_hex("abc").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid Crypto-PAn key: expected 64 hexadecimal digits (32 bytes), got 3 characters"
    );
}
