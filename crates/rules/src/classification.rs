//! `classification.config`: `config classification: shortname,description,priority` lines,
//! Suricata's format. custos ships `rules/classification.config`; a rule's `classtype`
//! gives its alert's category and severity (the priority), `priority` overriding it.

use std::collections::BTreeMap;

/// The classification custos ships.
pub const BUILTIN: &str = include_str!("../../../rules/classification.config");

/// One classtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// Description: the alert's `category`.
    pub description: String,
    /// Priority: the alert's `severity`.
    pub priority: u8,
}

/// Classtypes by short name.
#[derive(Clone, Debug, Default)]
pub struct Classifications {
    by_name: BTreeMap<String, Classification>,
}

impl Classifications {
    /// The classification custos ships.
    pub fn builtin() -> Self {
        let mut c = Classifications::default();
        // The shipped file is tested to parse without error.
        let _ = c.add(BUILTIN, "classification.config");
        c
    }

    /// Adds the classtypes of a `classification.config` text; returns the malformed lines
    /// (`file:line: why`).
    pub fn add(&mut self, text: &str, file: &str) -> Vec<String> {
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some(body) = t.strip_prefix("config classification:") else {
                errors.push(format!(
                    "{file}:{}: not a `config classification:` line",
                    i + 1
                ));
                continue;
            };
            let parts: Vec<&str> = body.split(',').map(str::trim).collect();
            match parts.as_slice() {
                [name, description, priority] => match priority.parse::<u8>() {
                    Ok(p) => {
                        self.by_name.insert(
                            (*name).to_string(),
                            Classification {
                                description: (*description).to_string(),
                                priority: p,
                            },
                        );
                    }
                    Err(_) => errors.push(format!("{file}:{}: bad priority `{priority}`", i + 1)),
                },
                _ => errors.push(format!(
                    "{file}:{}: expected shortname,description,priority",
                    i + 1
                )),
            }
        }
        errors
    }

    /// Looks a classtype up.
    pub fn get(&self, name: &str) -> Option<&Classification> {
        self.by_name.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_classification_parses() {
        let mut c = Classifications::default();
        assert!(c.add(BUILTIN, "builtin").is_empty());
        let p = c.get("protocol-command-decode").unwrap();
        assert_eq!(p.priority, 3);
        assert_eq!(p.description, "Generic Protocol Command Decode");
        assert!(c.get("attempted-admin").is_some());
        assert_eq!(c.add("config classification: x,y\n", "f").len(), 1);
    }
}
