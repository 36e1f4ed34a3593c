//! [`Tlp`]: Traffic Light Protocol 2.0 levels as STIX marking definitions and MISP tags.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};

use crate::ShareError;

/// The STIX extension definition that TLP 2.0 marking definitions use (OASIS
/// cti-stix-common-objects, `extension-definition-specifications/tlp-2.0`).
pub const TLP_2_0_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A TLP 2.0 level (<https://www.first.org/tlp/>).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tlp {
    /// TLP:CLEAR: no limit on disclosure.
    Clear,
    /// TLP:GREEN: the community, not public channels.
    Green,
    /// TLP:AMBER: the recipient's organisation and its clients (the default).
    #[default]
    Amber,
    /// TLP:AMBER+STRICT: the recipient's organisation only.
    AmberStrict,
    /// TLP:RED: the named recipients only.
    Red,
}

impl Tlp {
    /// The level as written in `--tlp` and in `tlp_2_0`: `clear`, `green`, `amber`,
    /// `amber+strict`, `red`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// The official STIX id of the level's TLP 2.0 marking definition.
    pub fn stix_marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The level's marking-definition object, as OASIS publishes it.
    pub fn stix_marking(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.stix_marking_id(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": format!("TLP:{}", self.as_str().to_ascii_uppercase()),
            "extensions": {
                TLP_2_0_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }

    /// The MISP taxonomy tag (`tlp:amber+strict`…).
    pub fn misp_tag(self) -> String {
        format!("tlp:{}", self.as_str())
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = ShareError;

    /// Parses a level, ignoring case and an optional `tlp:` prefix.
    fn from_str(text: &str) -> Result<Self, ShareError> {
        let lower = text.trim().to_ascii_lowercase();
        let level = lower.strip_prefix("tlp:").unwrap_or(&lower);
        Ok(match level {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return Err(ShareError::UnknownTlp(text.to_string())),
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_every_level_and_rejects_others() {
        for tlp in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(tlp.as_str().parse::<Tlp>().ok(), Some(tlp));
        }
        assert_eq!(
            "TLP:AMBER+STRICT".parse::<Tlp>().ok(),
            Some(Tlp::AmberStrict)
        );
        assert!(matches!(
            "orange".parse::<Tlp>(),
            Err(ShareError::UnknownTlp(t)) if t == "orange"
        ));
    }
}
