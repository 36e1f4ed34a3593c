//! Zeek `conn.log` (TSV): addresses by column, uids as flow tokens, addresses in any other
//! column as in free text.

use super::text::{rewrite_text, Counts};
use crate::error::Result;
use crate::pseudonymizer::Pseudonymizer;

/// Zeek's marks for an unset field and an empty set.
const UNSET: &str = "-";
const EMPTY: &str = "(empty)";

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// A hash of the flow's 5-tuple (`uid`, `community_id`): a name token.
    FlowToken,
    /// A comma-separated set of uids (`tunnel_parents`).
    FlowTokens,
    /// Anything else: addresses inside it are replaced (`id.orig_h` and `id.resp_h` are
    /// whole addresses).
    Text,
}

fn column(name: &str) -> Column {
    match name {
        "uid" | "community_id" => Column::FlowToken,
        "tunnel_parents" => Column::FlowTokens,
        _ => Column::Text,
    }
}

/// Rewrites conn.log lines; the `#fields` header names the columns.
pub(crate) struct ConnLogRewriter<'a> {
    /// The key and policy.
    pub p: &'a mut Pseudonymizer,
    /// Addresses, MACs and drops.
    pub counts: Counts,
    /// Flow tokens made.
    pub names: u64,
    columns: Vec<Column>,
}

impl<'a> ConnLogRewriter<'a> {
    /// A rewriter that assumes custos's own columns until a `#fields` line says otherwise
    /// (a `--zeek-bare` log has no header).
    pub fn new(p: &'a mut Pseudonymizer, default_fields: &[&str]) -> Self {
        ConnLogRewriter {
            p,
            counts: Counts::default(),
            names: 0,
            columns: default_fields.iter().map(|f| column(f)).collect(),
        }
    }

    /// The rewritten line (without its line end).
    ///
    /// # Errors
    /// A pseudonym collides with a kept network ([`crate::Error::Collision`]).
    pub fn line(&mut self, line: &str) -> Result<String> {
        if let Some(header) = line.strip_prefix('#') {
            if let Some(fields) = header.strip_prefix("fields\t") {
                self.columns = fields.split('\t').map(column).collect();
            }
            return Ok(line.to_owned());
        }
        let mut out = String::with_capacity(line.len() + 32);
        for (i, value) in line.split('\t').enumerate() {
            if i > 0 {
                out.push('\t');
            }
            let kind = self.columns.get(i).copied().unwrap_or(Column::Text);
            if value == UNSET || value == EMPTY || value.is_empty() {
                out.push_str(value);
                continue;
            }
            match kind {
                Column::FlowToken => {
                    self.names += 1;
                    out.push_str(&self.p.name(value));
                }
                Column::FlowTokens => {
                    for (j, uid) in value.split(',').enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        self.names += 1;
                        out.push_str(&self.p.name(uid));
                    }
                }
                Column::Text => match rewrite_text(self.p, value, &mut self.counts)? {
                    Some(new) => out.push_str(&new),
                    None => out.push_str(UNSET),
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, PseudonymKey};

    #[test]
    fn columns_by_header() {
        let key = PseudonymKey::generate().unwrap();
        let mut p = Pseudonymizer::new(&key, Policy::default());
        let ip = p.ip("10.0.0.1".parse().unwrap()).unwrap();
        let uid = p.name("CAbc");
        let mut r = ConnLogRewriter::new(&mut p, &[]);
        assert_eq!(
            r.line("#fields\tts\tuid\tid.orig_h\ttunnel_parents\thistory")
                .unwrap(),
            "#fields\tts\tuid\tid.orig_h\ttunnel_parents\thistory"
        );
        assert_eq!(
            r.line("1.5\tCAbc\t10.0.0.1\t-\tShADadFf").unwrap(),
            format!("1.5\t{uid}\t{ip}\t-\tShADadFf")
        );
        assert_eq!(
            r.line("1.5\tCAbc\t10.0.0.1\tCAbc,CAbc\t(empty)").unwrap(),
            format!("1.5\t{uid}\t{ip}\t{uid},{uid}\t(empty)")
        );
    }
}
