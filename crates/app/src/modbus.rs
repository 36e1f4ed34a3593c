//! Modbus/TCP: MBAP header, function code, read/write classification, exceptions.
//!
//! [`ModbusParser`] parses one direction's stream (requests to the server, responses from it);
//! ADUs may be split or coalesced in any way. Each ADU yields a [`ModbusRecord`].
//!
//! Policy on bad input: the MBAP length field is the only framing, so a header with protocol
//! id ≠ 0 or a length outside 2..=254 means framing is lost (or this is not Modbus): an error
//! is reported and the direction stops until a gap. After a gap the parser resynchronises at
//! the start of the next data chunk if it begins with a plausible MBAP header (protocol 0,
//! valid length). A PDU whose body is too short for its function is reported as an error and
//! skipped (its length is known).

use serde::Serialize;

use crate::reader::Reader;
use crate::Direction;

/// MBAP header length (transaction, protocol, length, unit id).
pub const MBAP_LEN: usize = 7;
/// Largest MBAP length value (unit id + 253-byte PDU).
pub const MAX_LENGTH_FIELD: u16 = 254;

/// What a function does to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reads coils, inputs, registers, FIFO or file records.
    Read,
    /// Writes coils, registers or file records.
    Write,
    /// Read/write multiple registers (23).
    ReadWrite,
    /// Diagnostics, event counters, report server id (7, 8, 11, 12, 17).
    Diagnostic,
    /// Encapsulated interface (43) and user-defined or unknown codes.
    Other,
}

/// Classifies a function code (exception bit cleared).
pub fn classify(function: u8) -> Access {
    match function & 0x7f {
        1..=4 | 20 | 24 => Access::Read,
        5 | 6 | 15 | 16 | 21 | 22 => Access::Write,
        23 => Access::ReadWrite,
        7 | 8 | 11 | 12 | 17 => Access::Diagnostic,
        _ => Access::Other,
    }
}

/// One Modbus/TCP ADU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModbusRecord {
    /// Sender (to_server: request).
    #[serde(skip)] // the event carries it
    pub direction: Direction,
    /// Offset of the ADU in the direction's stream.
    pub offset: u64,
    /// Transaction identifier.
    pub transaction_id: u16,
    /// Unit identifier.
    pub unit_id: u8,
    /// Function code as sent (exception bit included).
    pub function: u8,
    /// Classification of the function.
    pub access: Access,
    /// Exception code when the function has bit 0x80 set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<u8>,
    /// Starting address (requests of functions 1–6, 15, 16, 22, 23 read address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<u16>,
    /// Quantity (requests of 1–4, 15, 16, 23 read quantity) or the value written (5, 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u16>,
    /// PDU length (function code included).
    pub pdu_len: usize,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ModbusErrorKind {
    /// Protocol identifier not 0: direction stopped.
    #[error("protocol identifier not 0")]
    BadProtocol,
    /// Length field outside 2..=254: direction stopped.
    #[error("length field out of range")]
    BadLength,
    /// PDU too short for its function: skipped.
    #[error("pdu too short for its function")]
    Truncated,
    /// The stream ended inside an ADU.
    #[error("stream ended inside an adu")]
    Incomplete,
}

/// A parse error with its offset in the direction's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("modbus {direction:?} at byte {offset}: {kind}")]
pub struct ModbusError {
    /// Direction.
    pub direction: Direction,
    /// Offset.
    pub offset: u64,
    /// What.
    pub kind: ModbusErrorKind,
}

/// Output of the parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModbusEvent {
    /// An ADU.
    Record(ModbusRecord),
    /// A problem.
    Error(ModbusError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Frames,
    Resync,
    Stopped,
}

/// Parser for one direction of a Modbus/TCP connection.
#[derive(Debug)]
pub struct ModbusParser {
    direction: Direction,
    buf: Vec<u8>,
    offset: u64,
    mode: Mode,
}

enum Mbap {
    Incomplete,
    Bad(ModbusErrorKind),
    /// (transaction, length field, unit)
    Ok(u16, u16, u8),
}

fn mbap(buf: &[u8]) -> Mbap {
    let mut r = Reader::new(buf);
    let (Some(tid), Some(proto), Some(len), Some(unit)) = (r.u16(), r.u16(), r.u16(), r.u8())
    else {
        return Mbap::Incomplete;
    };
    if proto != 0 {
        return Mbap::Bad(ModbusErrorKind::BadProtocol);
    }
    if !(2..=MAX_LENGTH_FIELD).contains(&len) {
        return Mbap::Bad(ModbusErrorKind::BadLength);
    }
    Mbap::Ok(tid, len, unit)
}

impl ModbusParser {
    /// A parser for `direction` (ToServer carries requests).
    pub fn new(direction: Direction) -> Self {
        ModbusParser {
            direction,
            buf: Vec::new(),
            offset: 0,
            mode: Mode::Frames,
        }
    }

    /// Bytes missed: drop the partial ADU, resynchronise on the next chunk.
    pub fn gap(&mut self, missed: u64) {
        self.offset = self
            .offset
            .saturating_add(self.buf.len() as u64)
            .saturating_add(missed);
        self.buf.clear();
        self.mode = Mode::Resync;
    }

    /// End of stream: an unfinished ADU is reported.
    pub fn end(&mut self, out: &mut Vec<ModbusEvent>) {
        if !self.buf.is_empty() && self.mode == Mode::Frames {
            out.push(self.err(self.offset, ModbusErrorKind::Incomplete));
            self.buf.clear();
        }
    }

    fn err(&self, offset: u64, kind: ModbusErrorKind) -> ModbusEvent {
        ModbusEvent::Error(ModbusError {
            direction: self.direction,
            offset,
            kind,
        })
    }

    /// Bytes from the stream.
    pub fn data(&mut self, chunk: &[u8], out: &mut Vec<ModbusEvent>) {
        if self.mode == Mode::Resync {
            if matches!(mbap(chunk), Mbap::Ok(..)) {
                self.mode = Mode::Frames;
            } else {
                self.offset = self.offset.saturating_add(chunk.len() as u64);
                return;
            }
        }
        if self.mode == Mode::Stopped {
            self.offset = self.offset.saturating_add(chunk.len() as u64);
            return;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(chunk);
        let mut used = 0usize;
        while let Some(rest) = buf.get(used..) {
            match mbap(rest) {
                Mbap::Incomplete => break,
                Mbap::Bad(kind) => {
                    out.push(self.err(self.offset, kind));
                    self.mode = Mode::Stopped;
                    self.offset = self.offset.saturating_add(rest.len() as u64);
                    used = buf.len();
                    break;
                }
                Mbap::Ok(tid, len, unit) => {
                    let total = MBAP_LEN - 1 + usize::from(len);
                    let Some(adu) = rest.get(..total) else { break };
                    let pdu = adu.get(MBAP_LEN..).unwrap_or_default();
                    out.push(self.pdu(tid, unit, pdu));
                    used += total;
                    self.offset = self.offset.saturating_add(total as u64);
                }
            }
        }
        buf.drain(..used.min(buf.len()));
        self.buf = buf;
    }

    fn pdu(&self, transaction_id: u16, unit_id: u8, pdu: &[u8]) -> ModbusEvent {
        let offset = self.offset;
        let mut r = Reader::with_base(pdu, MBAP_LEN);
        let Some(function) = r.u8() else {
            return self.err(offset, ModbusErrorKind::Truncated);
        };
        let mut rec = ModbusRecord {
            direction: self.direction,
            offset,
            transaction_id,
            unit_id,
            function,
            access: classify(function),
            exception: None,
            address: None,
            quantity: None,
            pdu_len: pdu.len(),
        };
        if function & 0x80 != 0 {
            match r.u8() {
                Some(code) => rec.exception = Some(code),
                None => return self.err(offset, ModbusErrorKind::Truncated),
            }
        } else if self.direction == Direction::ToServer {
            let (with_addr, with_qty) = match function {
                1..=6 | 15 | 16 | 23 => (true, true),
                22 => (true, false),
                _ => (false, false),
            };
            if with_addr {
                let Some(a) = r.u16() else {
                    return self.err(offset, ModbusErrorKind::Truncated);
                };
                rec.address = Some(a);
            }
            if with_qty {
                let Some(q) = r.u16() else {
                    return self.err(offset, ModbusErrorKind::Truncated);
                };
                rec.quantity = Some(q);
            }
        }
        ModbusEvent::Record(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_request_split_and_exception_response() {
        let mut p = ModbusParser::new(Direction::ToServer);
        let mut out = Vec::new();
        let req = [
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6b, 0x00, 0x03,
        ];
        p.data(&req[..5], &mut out);
        assert!(out.is_empty());
        p.data(&req[5..], &mut out);
        let ModbusEvent::Record(r) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!((r.transaction_id, r.unit_id, r.function), (1, 0x11, 3));
        assert_eq!(r.access, Access::Read);
        assert_eq!((r.address, r.quantity), (Some(0x6b), Some(3)));

        let mut p = ModbusParser::new(Direction::ToClient);
        let mut out = Vec::new();
        let rsp = [
            0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x01, 0x86, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,
            0x02, 0x01, 0x83,
        ];
        p.data(&rsp, &mut out);
        let ModbusEvent::Record(r) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (r.function, r.exception, r.access),
            (0x86, Some(2), Access::Write)
        );
        assert!(matches!(
            &out[1],
            ModbusEvent::Error(ModbusError {
                kind: ModbusErrorKind::Truncated,
                offset: 9,
                ..
            })
        ));
    }

    #[test]
    fn bad_protocol_stops_gap_resyncs() {
        let mut p = ModbusParser::new(Direction::ToServer);
        let mut out = Vec::new();
        p.data(&[0, 1, 0, 9, 0, 6, 1, 3, 0, 0, 0, 1], &mut out);
        assert!(matches!(
            out[0],
            ModbusEvent::Error(ModbusError {
                kind: ModbusErrorKind::BadProtocol,
                ..
            })
        ));
        p.data(&[0, 2, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1], &mut out);
        assert_eq!(out.len(), 1);
        p.gap(5);
        p.data(&[0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 7], &mut out);
        let ModbusEvent::Record(r) = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (r.access, r.offset, r.quantity),
            (Access::Write, 29, Some(7))
        );
    }

    #[test]
    fn noise_never_panics() {
        let mut seed = 99u32;
        for _ in 0..2000 {
            let mut p = ModbusParser::new(Direction::ToServer);
            let mut out = Vec::new();
            let mut bytes = vec![0, 1, 0, 0, 0];
            for _ in 0..(seed % 40) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                bytes.push((seed >> 16) as u8 % 16);
            }
            for c in bytes.chunks(1 + seed as usize % 5) {
                p.data(c, &mut out);
            }
            p.end(&mut out);
        }
    }
}
