//! The matchers: CIDR longest prefix (v4 and v6), domains and their subdomains (and the
//! lookalikes that must not match), URL normalisation, fingerprints, hostile input.

use std::net::IpAddr;

use custos_ioc::IocSet;

use crate::set_of;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The value of the indicator matching address `a`.
fn ip_hit<'a>(set: &'a IocSet, a: &str) -> Option<&'a str> {
    set.match_ip(ip(a)).map(|i| i.value.as_str())
}

fn domain_hit<'a>(set: &'a IocSet, name: &str) -> Option<&'a str> {
    set.match_domain(name).map(|i| i.value.as_str())
}

fn url_hit<'a>(set: &'a IocSet, url: &str) -> Option<&'a str> {
    set.match_url(url).map(|i| i.value.as_str())
}

#[test]
fn ipv4_longest_prefix_wins() {
    let set = set_of(
        "v4.txt",
        "10.0.0.0/8\n10.20.0.0/16\n10.20.30.0/24\n10.20.30.40\n172.16.0.0/12\n",
    );
    assert_eq!(ip_hit(&set, "10.20.30.40"), Some("10.20.30.40"));
    assert_eq!(ip_hit(&set, "10.20.30.41"), Some("10.20.30.0/24"));
    assert_eq!(ip_hit(&set, "10.20.31.1"), Some("10.20.0.0/16"));
    assert_eq!(ip_hit(&set, "10.21.0.0"), Some("10.0.0.0/8"));
    assert_eq!(ip_hit(&set, "10.255.255.255"), Some("10.0.0.0/8"));
    assert_eq!(ip_hit(&set, "172.31.255.255"), Some("172.16.0.0/12"));
    assert_eq!(ip_hit(&set, "172.32.0.0"), None);
    assert_eq!(ip_hit(&set, "11.0.0.0"), None);
    assert_eq!(ip_hit(&set, "::ffff:10.20.30.40"), Some("10.20.30.40"));
    // The source says which line matched.
    assert_eq!(set.match_ip(ip("10.20.31.1")).unwrap().source, "v4.txt:2");
}

#[test]
fn ipv6_longest_prefix_wins() {
    let set = set_of(
        "v6.txt",
        "2001:db8::/32\n2001:db8:aa::/48\n2001:db8:aa:bb::/64\n2001:db8:aa:bb::1\n",
    );
    assert_eq!(ip_hit(&set, "2001:db8:aa:bb::1"), Some("2001:db8:aa:bb::1"));
    assert_eq!(
        ip_hit(&set, "2001:db8:aa:bb::2"),
        Some("2001:db8:aa:bb::/64")
    );
    assert_eq!(ip_hit(&set, "2001:db8:aa:bc::"), Some("2001:db8:aa::/48"));
    assert_eq!(ip_hit(&set, "2001:db8:ffff::"), Some("2001:db8::/32"));
    assert_eq!(ip_hit(&set, "2001:db9::"), None);
    // No IPv4 network, so no IPv4 address matches.
    assert_eq!(ip_hit(&set, "32.1.13.184"), None);
}

#[test]
fn networks_added_by_a_later_file_take_part() {
    let mut set = set_of("a.txt", "10.0.0.0/8\n");
    set.load_str("b.txt", "10.1.0.0/16\n").unwrap();
    assert_eq!(ip_hit(&set, "10.1.2.3"), Some("10.1.0.0/16"));
    assert_eq!(ip_hit(&set, "10.2.0.0"), Some("10.0.0.0/8"));
}

#[test]
fn domain_matches_itself_and_subdomains() {
    let set = set_of("d.txt", "evil.example\n");
    for name in [
        "evil.example",
        "EVIL.Example",
        "evil.example.",
        "a.evil.example",
        "a.b.c.evil.example.",
        "_srv._tcp.evil.example",
    ] {
        assert_eq!(domain_hit(&set, name), Some("evil.example"), "{name}");
    }
}

#[test]
fn domain_does_not_match_lookalikes() {
    let set = set_of("d.txt", "evil.example\n");
    for name in [
        "notevil.example",
        "evil.example.com",
        "evil.examples",
        "evilexample",
        "example",
        "vil.example",
        "evil-example",
        "evil.example..",
        "",
        ".",
        "..",
    ] {
        assert_eq!(domain_hit(&set, name), None, "{name}");
    }
}

#[test]
fn most_specific_domain_wins() {
    let set = set_of("d.txt", "evil.example\ncdn.evil.example\n");
    assert_eq!(
        domain_hit(&set, "x.cdn.evil.example"),
        Some("cdn.evil.example")
    );
    assert_eq!(domain_hit(&set, "x.www.evil.example"), Some("evil.example"));
}

#[test]
fn hostile_names_are_bounded_and_safe() {
    let set = set_of("d.txt", "evil.example\n");
    // Far longer than any DNS name, with the indicator at the end.
    let long = format!("{}evil.example", "a.".repeat(100_000));
    assert_eq!(domain_hit(&set, &long), Some("evil.example"));
    let long_label = format!("{}.evil.example", "x".repeat(100_000));
    assert_eq!(domain_hit(&set, &long_label), Some("evil.example"));
    let dots = ".".repeat(100_000);
    assert_eq!(domain_hit(&set, &dots), None);
    for odd in [
        "\u{0}.evil.example",
        "é.evil.example",
        "evil.exampl\u{e9}",
        "\\x00.evil.example",
        "evil.example\u{0}",
        "🦀🦀🦀.evil.example",
    ] {
        let _ = set.match_domain(odd);
    }
    assert_eq!(domain_hit(&set, "é.evil.example"), Some("evil.example"));
    assert_eq!(domain_hit(&set, "evil.example\u{0}"), None);
    // Multi-byte characters across the 253-byte cut do not break it.
    let cut = format!("{}.evil.example", "é".repeat(200));
    assert_eq!(domain_hit(&set, &cut), Some("evil.example"));
}

#[test]
fn url_matching_normalises_scheme_host_and_port() {
    let set = set_of("u.txt", "http://Evil.Example:80/drop/bot.sh\n");
    for url in [
        "http://evil.example/drop/bot.sh",
        "HTTP://EVIL.EXAMPLE/drop/bot.sh",
        "http://evil.example.:80/drop/bot.sh",
        "http://user@evil.example/drop/bot.sh",
        "http://evil.example/drop/bot.sh#top",
        // The indicator has no query: a request for the same path with one matches.
        "http://evil.example/drop/bot.sh?arch=mips",
    ] {
        assert_eq!(
            url_hit(&set, url),
            Some("http://evil.example/drop/bot.sh"),
            "{url}"
        );
    }
    for url in [
        "https://evil.example/drop/bot.sh",
        "http://evil.example:8080/drop/bot.sh",
        "http://evil.example/drop/bot.sh/",
        "http://evil.example/drop/BOT.sh",
        "http://evil.example/drop",
        "http://www.evil.example/drop/bot.sh",
        "evil.example/drop/bot.sh",
        "",
    ] {
        assert_eq!(url_hit(&set, url), None, "{url}");
    }
}

#[test]
fn url_with_query_matches_only_that_query() {
    let set = set_of("u.txt", "https://evil.example:443/gate.php?id=7\n");
    assert_eq!(
        url_hit(&set, "https://evil.example/gate.php?id=7"),
        Some("https://evil.example/gate.php?id=7")
    );
    assert_eq!(url_hit(&set, "https://evil.example/gate.php?id=8"), None);
    assert_eq!(url_hit(&set, "https://evil.example/gate.php"), None);
}

#[test]
fn url_root_and_non_default_port() {
    let set = set_of("u.txt", "http://[2001:db8::5]:8080\nhttp://198.51.100.7\n");
    assert_eq!(
        url_hit(&set, "http://[2001:DB8::5]:8080/"),
        Some("http://[2001:db8::5]:8080/")
    );
    assert_eq!(url_hit(&set, "http://[2001:db8::5]/"), None);
    assert_eq!(
        url_hit(&set, "http://198.51.100.7:80/?q"),
        Some("http://198.51.100.7/")
    );
}

#[test]
fn fingerprints_match_exactly_in_either_case() {
    let set = set_of(
        "f.txt",
        "e7d705a3286e19ea42f587b344ee6865\nt13d1516h2_8daaf6152771_e5627efa2ab1\n",
    );
    assert!(set.match_ja3("E7D705A3286E19EA42F587B344EE6865").is_some());
    assert!(set.match_ja3("e7d705a3286e19ea42f587b344ee6866").is_none());
    assert!(set.match_ja3("not a hash").is_none());
    assert!(set
        .match_ja4("t13d1516h2_8DAAF6152771_E5627EFA2AB1")
        .is_some());
    assert!(set
        .match_ja4("t12d1516h2_8daaf6152771_e5627efa2ab1")
        .is_none());
    // A JA4 is not a JA3 and the other way round.
    assert!(set
        .match_ja3("t13d1516h2_8daaf6152771_e5627efa2ab1")
        .is_none());
    assert!(set.match_ja4("e7d705a3286e19ea42f587b344ee6865").is_none());
}

#[test]
fn empty_set_matches_nothing() {
    let set = IocSet::new();
    assert!(set.is_empty());
    assert!(set.match_ip(ip("0.0.0.0")).is_none());
    assert!(set.match_domain("evil.example").is_none());
    assert!(set.match_url("http://evil.example/").is_none());
}
