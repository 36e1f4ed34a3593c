//! TFTP (RFC 1350) requests: the read and write requests that start a transfer, which is how
//! many IoT devices fetch firmware and configuration. Data and acknowledgement packets travel
//! on other ports and are not followed.

use crate::reader::Reader;
use serde::Serialize;

/// A read or write request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TftpRequest {
    /// `"read"` (RRQ, opcode 1) or `"write"` (WRQ, opcode 2).
    pub op: &'static str,
    /// The file name, lossy UTF-8.
    pub filename: String,
    /// Transfer mode, lower-case (`octet`, `netascii`, `mail`).
    pub mode: String,
    /// RFC 2347 option names, lower-case (`blksize`, `tsize`, …).
    pub options: Vec<String>,
}

/// Why a datagram is not a TFTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TftpError {
    /// Opcode other than 1 or 2.
    #[error("TFTP opcode {0} is not a request")]
    NotRequest(u16),
    /// A string runs past the end of the datagram (byte offset where it started).
    #[error("TFTP string at byte {0} has no terminating NUL")]
    Unterminated(usize),
    /// The mode is not one RFC 1350 defines.
    #[error("TFTP mode at byte {0} is not netascii, octet or mail")]
    BadMode(usize),
    /// The datagram is shorter than an opcode.
    #[error("TFTP datagram shorter than 2 bytes")]
    Short,
}

const MAX_OPTIONS: usize = 16;

fn cstr<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], TftpError> {
    let start = r.offset();
    let rest = r.rest();
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(TftpError::Unterminated(start))?;
    let (s, tail) = rest.split_at(end);
    *r = Reader::with_base(tail.get(1..).unwrap_or_default(), start + end + 1);
    Ok(s)
}

/// Parses a request datagram.
///
/// # Errors
/// Anything but a well-formed RRQ/WRQ with a known mode.
pub fn parse(payload: &[u8]) -> Result<TftpRequest, TftpError> {
    let mut r = Reader::new(payload);
    let op = r.u16().ok_or(TftpError::Short)?;
    let op = match op {
        1 => "read",
        2 => "write",
        other => return Err(TftpError::NotRequest(other)),
    };
    let filename = cstr(&mut r)?;
    let mode_at = r.offset();
    let mode = cstr(&mut r)?.to_ascii_lowercase();
    if !matches!(mode.as_slice(), b"netascii" | b"octet" | b"mail") {
        return Err(TftpError::BadMode(mode_at));
    }
    let mut options = Vec::new();
    while !r.is_empty() && options.len() < MAX_OPTIONS {
        let name = cstr(&mut r)?;
        cstr(&mut r)?;
        options.push(String::from_utf8_lossy(name).to_ascii_lowercase());
    }
    Ok(TftpRequest {
        op,
        filename: String::from_utf8_lossy(filename).into_owned(),
        mode: String::from_utf8_lossy(&mode).into_owned(),
        options,
    })
}

/// True when `payload` is a well-formed request with a non-empty file name.
pub fn probe(payload: &[u8]) -> bool {
    parse(payload).is_ok_and(|r| !r.filename.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_request_with_options() {
        let r = parse(b"\0\x01firmware.bin\0OCTET\0blksize\x001428\0").unwrap();
        assert_eq!(r.op, "read");
        assert_eq!(r.filename, "firmware.bin");
        assert_eq!(r.mode, "octet");
        assert_eq!(r.options, vec!["blksize"]);
    }

    #[test]
    fn rejects_other_datagrams_at_every_truncation() {
        let full = b"\0\x02cfg.txt\0netascii\0";
        for n in 0..full.len() {
            assert!(parse(&full[..n]).is_err(), "{n}");
        }
        assert!(parse(full).is_ok());
        assert_eq!(parse(b"\0\x03\0\x01data"), Err(TftpError::NotRequest(3)));
        assert_eq!(parse(b"\0\x01f\0binary\0"), Err(TftpError::BadMode(4)));
    }
}
