//! JSON records (EVE lines, devices, findings, statistics): identifiers found by key, then
//! addresses found anywhere.

use serde_json::{Map, Value};

use super::text::{rewrite_text, Counts};
use crate::error::Result;
use crate::policy::FieldClass;
use crate::pseudonymizer::Pseudonymizer;

/// How a string value under a key is rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// By the policy's action for a class.
    Class(FieldClass),
    /// A hash of the original 5-tuple (uid, Community ID): a keyed name token.
    FlowToken,
    /// Addresses inside the text only.
    Text,
}

/// The rule for a string under `key`, inside an object that is itself under `parent`
/// (for array elements, the key holding the array).
fn rule(key: Option<&str>, parent: Option<&str>) -> Rule {
    use FieldClass as C;
    let Some(key) = key else {
        return Rule::Text;
    };
    Rule::Class(match key {
        "uid" | "uids" | "community_id" | "community_ids" | "tunnel_parents" => {
            return Rule::FlowToken
        }
        "username" | "usernames" | "user" | "user_name" | "basic_user" => C::Username,
        "name" if parent == Some("username") => C::Username,
        "password" | "passwords" | "community" => C::Password,
        "client_id" | "client_ids" => C::MqttClientId,
        "topic" | "topics" | "subscriptions" | "will_topic" => C::MqttTopic,
        "host" | "uri_host" => C::HttpHost,
        "uri" | "url" | "urls" | "referer" | "location" | "uri_path" | "uri_query"
        | "location_path" => C::HttpUri,
        "user_agent" => C::UserAgent,
        "hostname" | "hostnames" | "client_fqdn" | "domain_name" | "usn" | "agent_circuit_id"
        | "agent_remote_id" | "subscriber_id" => C::Hostname,
        "query" | "rrname" | "qname" | "target" | "exchange" | "mname" | "rname" | "txt"
        | "mdns_services" => C::DnsQuery,
        "name"
            if matches!(
                parent,
                Some("questions" | "answers" | "authorities" | "additionals" | "data")
            ) =>
        {
            C::DnsQuery
        }
        "sni" | "server_name" | "subject" | "issuer" | "san_dns" => C::TlsSni,
        _ => return Rule::Text,
    })
}

/// Rewrites JSON values with one pseudonymiser, counting what it does.
pub(crate) struct JsonRewriter<'a> {
    /// The key and policy.
    pub p: &'a mut Pseudonymizer,
    /// Addresses, MACs and drops.
    pub counts: Counts,
    /// Values replaced by name tokens (class values and flow tokens).
    pub names: u64,
}

impl JsonRewriter<'_> {
    /// Rewrites `value` in place; false when the policy drops it as a whole (the caller
    /// removes the key or array element).
    ///
    /// # Errors
    /// A pseudonym collides with a kept network ([`crate::Error::Collision`]).
    pub fn value(
        &mut self,
        value: &mut Value,
        key: Option<&str>,
        parent: Option<&str>,
    ) -> Result<bool> {
        match value {
            Value::String(s) => self.string(s, rule(key, parent)),
            Value::Array(items) => {
                let mut kept = Vec::with_capacity(items.len());
                for mut item in std::mem::take(items) {
                    if self.value(&mut item, key, parent)? {
                        kept.push(item);
                    }
                }
                *items = kept;
                Ok(true)
            }
            Value::Object(map) => {
                self.object(map, key)?;
                Ok(true)
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(true),
        }
    }

    /// Rewrites the members of an object found under `key`.
    fn object(&mut self, map: &mut Map<String, Value>, key: Option<&str>) -> Result<()> {
        // FTP: the argument of USER is a user name (that of PASS is never kept).
        let user_arg = map
            .get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("USER") || c.eq_ignore_ascii_case("ACCT"));
        for (k, mut v) in std::mem::take(map) {
            let keep = if user_arg && k == "arg" {
                match &mut v {
                    Value::String(s) => self.string(s, Rule::Class(FieldClass::Username))?,
                    _ => self.value(&mut v, Some(&k), key)?,
                }
            } else {
                self.value(&mut v, Some(&k), key)?
            };
            if keep {
                // Keys are names of fields, but a map keyed by address must not leak it.
                let k = rewrite_text(self.p, &k, &mut self.counts)?
                    .unwrap_or_else(|| super::text::DROPPED.to_owned());
                map.insert(k, v);
            } else {
                self.counts.dropped += 1;
            }
        }
        Ok(())
    }

    /// Rewrites one string; false when it is dropped.
    fn string(&mut self, s: &mut String, rule: Rule) -> Result<bool> {
        // An empty value identifies nobody, and a token for it would hide that it was empty.
        if s.is_empty() || s == "-" {
            return Ok(true);
        }
        let after_class = match rule {
            Rule::Text => s.clone(),
            Rule::FlowToken => {
                self.names += 1;
                *s = self.p.name(s);
                return Ok(true);
            }
            Rule::Class(class) => match self.p.apply(class, s)? {
                None => return Ok(false),
                Some(new) => {
                    if new != *s {
                        self.names += 1;
                    }
                    new
                }
            },
        };
        match rewrite_text(self.p, &after_class, &mut self.counts)? {
            Some(new) => {
                *s = new;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Policy, PseudonymKey};
    use serde_json::json;

    fn run(p: &mut Pseudonymizer, mut v: Value) -> Value {
        let mut r = JsonRewriter {
            p,
            counts: Counts::default(),
            names: 0,
        };
        assert!(r.value(&mut v, None, None).unwrap());
        v
    }

    #[test]
    fn key_classes_are_applied_and_dropped() {
        let key = PseudonymKey::generate().unwrap();
        let mut p = Pseudonymizer::new(&key, Policy::default());
        let v = run(
            &mut p,
            json!({
                "telnet": {"username": {"name": "admin"}, "password": {"username": "root"}},
                "details": {"usernames": ["admin", "root"], "passwords": ["x"]},
                "mqtt": {"client_ids": ["cam1", ""], "topics": ["home/a"], "password": "s"},
                "http": {"host": "cam.local", "uri": "/x", "user_agent": "curl/7.88.1",
                         "server": "lighttpd/1.4.69"},
                "dns": {"questions": [{"name": "cam.local", "rrtype": 1}]},
                "ftp": {"command": "USER", "arg": "bob"},
                "community_id": "1:YYjUv/D6zBIsBh0xr6pDeZx422o=",
                "timestamp": "2026-11-25T23:59:41.390047+0000",
            }),
        );
        let name = |s: &str| p.name(s);
        assert_eq!(v["telnet"]["username"]["name"], json!(name("admin")));
        assert_eq!(v["telnet"]["password"]["username"], json!(name("root")));
        assert_eq!(
            v["details"]["usernames"],
            json!([name("admin"), name("root")])
        );
        assert_eq!(v["details"]["passwords"], json!([]));
        assert_eq!(v["mqtt"]["client_ids"], json!([name("cam1"), ""]));
        assert_eq!(v["mqtt"]["topics"], json!([]));
        assert!(v["mqtt"].get("password").is_none());
        assert_eq!(v["http"]["host"], json!(name("cam.local")));
        assert!(v["http"].get("uri").is_none());
        assert!(v["http"].get("user_agent").is_none());
        assert_eq!(v["http"]["server"], json!("lighttpd/1.4.69"));
        assert_eq!(v["dns"]["questions"][0]["name"], json!(name("cam.local")));
        assert_eq!(v["ftp"]["arg"], json!(name("bob")));
        assert_eq!(
            v["community_id"],
            json!(name("1:YYjUv/D6zBIsBh0xr6pDeZx422o="))
        );
        assert_eq!(v["timestamp"], json!("2026-11-25T23:59:41.390047+0000"));
    }

    #[test]
    fn a_kept_class_still_loses_its_addresses() {
        let key = PseudonymKey::generate().unwrap();
        let policy = Policy::default()
            .with_action(FieldClass::HttpUri, Action::Keep)
            .unwrap();
        let mut p = Pseudonymizer::new(&key, policy);
        let ip = p.ip("198.18.0.66".parse().unwrap()).unwrap();
        let v = run(
            &mut p,
            json!({"urls": ["http://198.18.0.66/bins/x"], "src_ip": "198.18.0.66"}),
        );
        assert_eq!(v["urls"], json!([format!("http://{ip}/bins/x")]));
        assert_eq!(v["src_ip"], json!(ip.to_string()));
    }
}
