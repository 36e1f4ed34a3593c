//! Policy files: every key, defaults, and errors that name the line.

use std::path::Path;

use custos_privacy::{Action, Error, FieldClass, Policy};

fn parse(text: &str) -> Result<Policy, Error> {
    Policy::from_toml(text, Path::new("policy.toml"))
}

/// The line and message of a policy error.
fn error_at(text: &str) -> (Option<usize>, String) {
    match parse(text) {
        Err(Error::Policy { line, message, .. }) => (line, message),
        other => panic!("expected a policy error, got {other:?}"),
    }
}

#[test]
fn parses_a_full_policy() {
    let policy = parse(
        r#"
keep_networks = ["198.51.100.0/24", "2001:db8:bad::/48"]
mac_keep_oui = true

[fields]
ip = "pseudonymise"
ipv6 = "truncate:48"
mac = "pseudonymize"
hostname = "keep"
dns_query = "truncate:2"
user_agent = "keep"
mqtt_client_id = "drop"
"#,
    )
    .unwrap();
    assert_eq!(policy.keep_networks().len(), 2);
    assert_eq!(policy.keep_networks()[0].to_string(), "198.51.100.0/24");
    assert!(policy.mac_keep_oui());
    assert_eq!(policy.action(FieldClass::Ip), Action::Pseudonymise);
    assert_eq!(policy.action(FieldClass::Ipv6), Action::Truncate(48));
    assert_eq!(policy.action(FieldClass::Mac), Action::Pseudonymise);
    assert_eq!(policy.action(FieldClass::Hostname), Action::Keep);
    assert_eq!(policy.action(FieldClass::DnsQuery), Action::Truncate(2));
    assert_eq!(policy.action(FieldClass::MqttClientId), Action::Drop);
    assert_eq!(policy.action(FieldClass::Password), Action::Drop);
    assert_eq!(policy.action(FieldClass::Username), Action::Pseudonymise);
}

#[test]
fn default_policy_pseudonymises_identifiers_and_drops_free_text() {
    let policy = Policy::default();
    assert_eq!(parse("").unwrap(), policy);
    for class in FieldClass::ALL {
        let want = match class.key() {
            "password" | "mqtt_topic" | "http_uri" | "user_agent" => Action::Drop,
            _ => Action::Pseudonymise,
        };
        assert_eq!(policy.action(*class), want, "{class}");
    }
    assert!(policy.keep_networks().is_empty());
    assert!(!policy.mac_keep_oui());
}

#[test]
fn ipv6_follows_ip_unless_set() {
    let policy = parse("[fields]\nip = \"truncate:24\"\n").unwrap();
    assert_eq!(policy.action(FieldClass::Ipv6), Action::Truncate(24));
}

#[test]
fn rejects_invalid_toml_with_its_line() {
    let (line, message) = error_at("mac_keep_oui = true\n\n[fields\nip = \"keep\"\n");
    assert_eq!(line, Some(3), "{message}");
}

#[test]
fn rejects_unknown_top_level_key_with_its_line() {
    let (line, message) = error_at("mac_keep_oui = true\nkeep_network = []\n");
    assert_eq!(line, Some(2));
    assert!(
        message.contains("unknown field `keep_network`"),
        "{message}"
    );
}

#[test]
fn rejects_unknown_field_class_with_its_line() {
    let (line, message) = error_at("[fields]\nip = \"keep\"\nserial_number = \"drop\"\n");
    assert_eq!(line, Some(3));
    assert!(
        message.contains("unknown field `serial_number`"),
        "{message}"
    );
}

#[test]
fn rejects_unknown_action_with_its_line() {
    let (line, message) = error_at("[fields]\nip = \"keep\"\n\nmac = \"hash\"\n");
    assert_eq!(line, Some(4));
    assert_eq!(
        message,
        "mac: unknown action \"hash\"; expected pseudonymise, truncate:N, drop or keep"
    );
}

#[test]
fn rejects_malformed_network_with_its_line() {
    let (line, message) = error_at("keep_networks = [\n  \"10.0.0.0/8\",\n  \"10.0.0.1/8\",\n]\n");
    assert_eq!(line, Some(3));
    assert_eq!(
        message,
        "10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"
    );
}

#[test]
fn rejects_keeping_passwords() {
    let (line, message) = error_at("[fields]\npassword = \"pseudonymise\"\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "password = \"pseudonymise\": this field can only be dropped"
    );
}

#[test]
fn rejects_truncation_wider_than_the_address() {
    let (line, message) = error_at("[fields]\nip = \"truncate:33\"\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "ip = \"truncate:33\": truncate:N keeps more bits than the address has"
    );
    let (_, message) = error_at("[fields]\nhostname = \"truncate:0\"\n");
    assert_eq!(
        message,
        "hostname: \"truncate:0\": N in truncate:N must be 1 to 255"
    );
}

#[test]
fn error_display_names_file_and_line() {
    let err = parse("[fields]\nmac = \"hash\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy policy.toml:2: mac: unknown action \"hash\"; expected pseudonymise, truncate:N, \
         drop or keep"
    );
}

#[test]
fn read_or_default_without_a_file_is_the_default_policy() {
    assert_eq!(Policy::read_or_default(None).unwrap(), Policy::default());
    match Policy::read_or_default(Some(Path::new("/nonexistent/policy.toml"))) {
        Err(Error::PolicyIo { path, .. }) => {
            assert_eq!(path, Path::new("/nonexistent/policy.toml"))
        }
        other => panic!("expected a policy I/O error, got {other:?}"),
    }
}
