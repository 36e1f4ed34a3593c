//! MITRE ATT&CK technique names and links for the ids custos's findings carry.

/// The techniques custos's rules name, with their ATT&CK names (Enterprise v16, ICS v16).
const NAMES: &[(&str, &str)] = &[
    ("T0814", "Denial of Service"),
    ("T0855", "Unauthorized Command Message"),
    ("T0859", "Valid Accounts"),
    ("T0886", "Remote Services"),
    ("T1040", "Network Sniffing"),
    ("T1046", "Network Service Discovery"),
    ("T1059", "Command and Scripting Interpreter"),
    ("T1059.004", "Command and Scripting Interpreter: Unix Shell"),
    ("T1078", "Valid Accounts"),
    ("T1078.001", "Valid Accounts: Default Accounts"),
    ("T1105", "Ingress Tool Transfer"),
    ("T1110", "Brute Force"),
    ("T1110.001", "Brute Force: Password Guessing"),
    ("T1110.003", "Brute Force: Password Spraying"),
    ("T1498", "Network Denial of Service"),
    (
        "T1498.001",
        "Network Denial of Service: Direct Network Flood",
    ),
    (
        "T1498.002",
        "Network Denial of Service: Reflection Amplification",
    ),
    ("T1499", "Endpoint Denial of Service"),
    (
        "T1499.001",
        "Endpoint Denial of Service: OS Exhaustion Flood",
    ),
    (
        "T1499.002",
        "Endpoint Denial of Service: Service Exhaustion Flood",
    ),
    ("T1552.001", "Unsecured Credentials: Credentials In Files"),
    ("T1557", "Adversary-in-the-Middle"),
    ("T1557.002", "Adversary-in-the-Middle: ARP Cache Poisoning"),
    ("T1595", "Active Scanning"),
];

/// The technique's ATT&CK name, or the id itself when this table does not know it.
pub fn name(id: &str) -> &str {
    NAMES
        .iter()
        .find(|(known, _)| *known == id)
        .map_or(id, |(_, name)| name)
}

/// Whether the id is an ATT&CK for ICS technique (`T0…`).
pub fn is_ics(id: &str) -> bool {
    id.starts_with("T0")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_sub_techniques_and_ics() {
        assert_eq!(name("T1110.001"), "Brute Force: Password Guessing");
        assert_eq!(name("T9999"), "T9999");
        assert!(is_ics("T0855") && !is_ics("T1046"));
    }
}
