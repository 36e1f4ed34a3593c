//! Address and port variables (`$HOME_NET`, `$HTTP_PORTS`): Suricata's defaults, or the
//! `vars:` section of a `suricata.yaml`.
//!
//! Only `vars: address-groups:` and `vars: port-groups:` are read — two maps of strings —, so
//! a small line reader does the job; it accepts the `%YAML 1.1` directive and `---` that
//! Suricata's files start with (which general YAML crates handle unevenly) and ignores every
//! other section.

use std::collections::BTreeMap;

/// Address and port variables.
#[derive(Clone, Debug)]
pub struct Vars {
    /// Address groups, name without `$`.
    pub addresses: BTreeMap<String, String>,
    /// Port groups.
    pub ports: BTreeMap<String, String>,
}

/// A `suricata.yaml` that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VarsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line of `vars:` is not `NAME: value`.
    #[error("{path}:{line}: expected `NAME: value` in vars")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
    },
}

impl Default for Vars {
    /// Suricata's default `suricata.yaml` values.
    fn default() -> Self {
        let addresses = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
        ];
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
            ("MQTT_PORTS", "[1883,8883]"),
        ];
        Vars {
            addresses: addresses
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: ports
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl Vars {
    /// The defaults overridden by the `vars:` section of a `suricata.yaml`.
    ///
    /// # Errors
    /// The file cannot be read, or a line of its `vars:` section is malformed.
    pub fn from_yaml_file(path: &std::path::Path) -> Result<Vars, VarsError> {
        let text = std::fs::read_to_string(path).map_err(|source| VarsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Vars::from_yaml(&text, &path.display().to_string())
    }

    /// As [`Vars::from_yaml_file`], on text.
    ///
    /// # Errors
    /// A line of the `vars:` section is malformed.
    pub fn from_yaml(text: &str, path: &str) -> Result<Vars, VarsError> {
        let mut vars = Vars::default();
        #[derive(PartialEq)]
        enum In {
            Other,
            Vars,
            Addresses,
            Ports,
        }
        let mut state = In::Other;
        let mut group_indent = 0usize;
        for (i, raw) in text.lines().enumerate() {
            let line = strip_comment(raw);
            let t = line.trim();
            if t.is_empty() || t.starts_with('%') || t == "---" {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if indent == 0 {
                state = if t == "vars:" { In::Vars } else { In::Other };
                continue;
            }
            match state {
                In::Other => {}
                In::Vars | In::Addresses | In::Ports => {
                    if t == "address-groups:" || t == "port-groups:" {
                        state = if t == "address-groups:" {
                            In::Addresses
                        } else {
                            In::Ports
                        };
                        group_indent = indent;
                        continue;
                    }
                    if state == In::Vars || indent <= group_indent {
                        state = In::Vars;
                        continue;
                    }
                    let (k, v) = t.split_once(':').ok_or(VarsError::Syntax {
                        path: path.to_string(),
                        line: i + 1,
                    })?;
                    let v = unquote(v.trim());
                    let map = if state == In::Addresses {
                        &mut vars.addresses
                    } else {
                        &mut vars.ports
                    };
                    map.insert(k.trim().to_string(), v.to_string());
                }
            }
        }
        Ok(vars)
    }
}

fn strip_comment(line: &str) -> &str {
    // A `#` starts a comment unless inside quotes.
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return line.get(..i).unwrap_or(line),
            _ => {}
        }
    }
    line
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_vars_override_defaults() {
        let y = "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"[10.0.0.0/8]\" # lab\n    EXTERNAL_NET: any\n  port-groups:\n    HTTP_PORTS: \"8080\"\noutputs:\n  - eve-log:\n      HOME_NET: x\n";
        let v = Vars::from_yaml(y, "s.yaml").unwrap();
        assert_eq!(v.addresses["HOME_NET"], "[10.0.0.0/8]");
        assert_eq!(v.addresses["EXTERNAL_NET"], "any");
        assert_eq!(v.ports["HTTP_PORTS"], "8080");
        assert_eq!(v.ports["SSH_PORTS"], "22");
    }
}
