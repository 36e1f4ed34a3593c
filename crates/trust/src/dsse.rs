//! DSSE v1 envelopes and their pre-authentication encoding
//! (<https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md>).
//!
//! The signature covers `PAE(type, body)`:
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts.
//! The reference tool always encodes the in-toto type [`PAYLOAD_TYPE`]
//! (`_signing/sign_sigstore_pb.py`, `pae`), whatever the envelope says, and this crate
//! refuses an envelope whose `payloadType` is another. The tool's fallback for signatures
//! made by model-signing 0.2 (`pae_compat`, a mis-encoded PAE) is not implemented.

use serde::{Deserialize, Serialize};

/// The payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope as the Sigstore bundle's `dsseEnvelope` holds it (protobuf JSON names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// The standard base64 of the payload bytes.
    pub payload: String,
    /// [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// The signatures; the reference tool writes and checks exactly one.
    pub signatures: Vec<Signature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The standard base64 of the DER-encoded ECDSA signature of the PAE.
    pub sig: String,
    /// Always empty in key mode: the bundle's key hint names the key.
    #[serde(default)]
    pub keyid: String,
}

/// The pre-authentication encoding of `payload` with [`PAYLOAD_TYPE`]: the bytes signed.
pub fn pae(payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "DSSEv1 {} {} {} ",
        PAYLOAD_TYPE.len(),
        PAYLOAD_TYPE,
        payload.len()
    );
    let mut out = Vec::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn encodes_pae_as_the_spec() {
        assert_eq!(
            pae(b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
        assert_eq!(
            pae(b""),
            b"DSSEv1 28 application/vnd.in-toto+json 0 ".to_vec()
        );
    }
}
