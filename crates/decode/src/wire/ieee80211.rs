//! IEEE 802.11 data frames and the radiotap capture header, enough to reach the LLC/SNAP
//! EtherType of unencrypted data frames (what Zeek's 802.11 analyzers follow).

use super::{byte, Mac};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// Strips a radiotap header; returns the 802.11 frame without a trailing FCS.
///
/// # Errors
/// `Truncated` when the header's length field points past the data; `BadVersion` for a
/// version other than 0.
pub fn strip_radiotap(buf: &[u8]) -> Result<&[u8], DecodeError> {
    need(buf, 8, Layer::Link)?;
    if byte(buf, 0) != 0 {
        return Err(DecodeError::new(
            Layer::Link,
            0,
            ErrorKind::BadVersion(byte(buf, 0)),
        ));
    }
    let len = usize::from(u16::from_le_bytes([byte(buf, 2), byte(buf, 3)]));
    need(buf, len.max(8), Layer::Link)?;
    // Walk the present bitmaps (bit 31 = another word follows) to find the Flags field.
    let present = u32::from_le_bytes(super::array(buf, 4));
    let mut at = 8;
    let mut word = present;
    while word & 0x8000_0000 != 0 && at + 4 <= len {
        word = u32::from_le_bytes(super::array(buf, at));
        at += 4;
    }
    let mut fcs = false;
    if present & 0b10 != 0 {
        if present & 0b1 != 0 {
            at = (at + 7) & !7; // TSFT: 8 bytes, 8-aligned
            at += 8;
        }
        fcs = byte(buf, at) & 0x10 != 0 && at < len;
    }
    let frame = super::rest(buf, len);
    let frame = if fcs {
        frame.get(..frame.len().saturating_sub(4)).unwrap_or(frame)
    } else {
        frame
    };
    Ok(frame)
}

/// The EtherType, payload and source address of an unencrypted 802.11 data frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data<'a> {
    /// EtherType from the LLC/SNAP header.
    pub ethertype: u16,
    /// Transmitter (address 2).
    pub src: Mac,
    /// Bytes after the LLC/SNAP header.
    pub payload: &'a [u8],
}

/// Parses an 802.11 frame; `Ok(None)` for management, control, null or protected frames and
/// for data that is not LLC/SNAP.
///
/// # Errors
/// `Truncated` when the MAC header runs past the data.
pub fn parse_data(buf: &[u8]) -> Result<Option<Data<'_>>, DecodeError> {
    need(buf, 24, Layer::Link)?;
    let (fc0, fc1) = (byte(buf, 0), byte(buf, 1));
    let kind = (fc0 >> 2) & 3;
    let subtype = fc0 >> 4;
    if kind != 2 || subtype & 0x4 != 0 || fc1 & 0x40 != 0 {
        return Ok(None);
    }
    let mut len = if fc1 & 0x03 == 0x03 { 30 } else { 24 };
    let qos = subtype & 0x8 != 0;
    let mut amsdu = false;
    if qos {
        need(buf, len + 2, Layer::Link)?;
        amsdu = byte(buf, len) & 0x80 != 0;
        len += 2;
        if fc1 & 0x80 != 0 {
            len += 4; // HT control
        }
    }
    need(buf, len, Layer::Link)?;
    let mut body = super::rest(buf, len);
    if amsdu {
        // First A-MSDU subframe: DA, SA, length, then LLC/SNAP.
        body = super::rest(body, 14);
    }
    match body {
        [0xaa, 0xaa, 0x03, _, _, _, t0, t1, rest @ ..] => Ok(Some(Data {
            ethertype: u16::from_be_bytes([*t0, *t1]),
            src: Mac(super::array(buf, 10)),
            payload: rest,
        })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn radiotap_with_fcs_flag_drops_trailer() {
        // version 0, len 10, present = flags only, flags = FCS
        let mut b = vec![0, 0, 10, 0, 0b10, 0, 0, 0, 0x10, 0];
        b.extend_from_slice(&[1, 2, 3, 4, 0xf0, 0xf1, 0xf2, 0xf3]);
        assert_eq!(strip_radiotap(&b).unwrap(), &[1, 2, 3, 4]);
    }

    #[test]
    fn qos_data_frame_reaches_ethertype() {
        let mut f = vec![0x88, 0x01, 0, 0];
        f.extend_from_slice(&[0; 18]); // addresses
        f.extend_from_slice(&[0, 0]); // sequence
        f.extend_from_slice(&[0, 0]); // QoS control
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]);
        let d = parse_data(&f).unwrap().unwrap();
        assert_eq!((d.ethertype, d.payload), (0x0800, &[0x45][..]));
    }

    #[test]
    fn management_and_protected_frames_are_skipped() {
        assert_eq!(parse_data(&[0x80; 24]).unwrap(), None);
        let mut f = vec![0x08, 0x41];
        f.extend_from_slice(&[0; 30]);
        assert_eq!(parse_data(&f).unwrap(), None);
    }
}
