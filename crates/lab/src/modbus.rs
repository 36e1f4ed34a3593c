//! The gateway's Modbus/TCP server (the gateway doubles as a small PLC) and the read an HMI
//! polls it with. Written here because Debian packages no Modbus server; the attacker's writes
//! come from the real `mbpoll`.
//!
//! The server keeps [`TABLE_SIZE`] coils and holding registers for any unit id, answers
//! functions 1–6, 15 and 16 as the Modbus Application Protocol v1.1b3 specifies, and answers
//! anything else with exception 1 (illegal function), out-of-range addresses with exception 2
//! and bad quantities or values with exception 3.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sys;

/// Coils and holding registers the server keeps (addresses `0..TABLE_SIZE`).
pub const TABLE_SIZE: usize = 1000;
/// The Modbus/TCP port.
pub const PORT: u16 = 502;

/// The server's data: coils (also read as discrete inputs) and holding registers (also read
/// as input registers).
#[derive(Clone, Debug)]
pub struct Tables {
    coils: Vec<bool>,
    registers: Vec<u16>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            coils: vec![false; TABLE_SIZE],
            // A plausible process image: setpoints and readings.
            registers: (0..TABLE_SIZE).map(|i| (200 + i % 50) as u16).collect(),
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn exception(function: u8, code: u8) -> Vec<u8> {
    vec![function | 0x80, code]
}

/// The `(start, quantity)` of a request, checked against `1..=max` and the table.
fn range(pdu: &[u8], max: u16) -> Result<(usize, usize), u8> {
    let (Some(start), Some(qty)) = (be16(pdu, 1), be16(pdu, 3)) else {
        return Err(3);
    };
    if qty == 0 || qty > max {
        return Err(3);
    }
    let (start, qty) = (usize::from(start), usize::from(qty));
    if start + qty > TABLE_SIZE {
        return Err(2);
    }
    Ok((start, qty))
}

impl Tables {
    /// The response PDU to request PDU `pdu` (function code first), applying writes.
    pub fn respond(&mut self, pdu: &[u8]) -> Vec<u8> {
        let Some(&function) = pdu.first() else {
            return exception(0, 1);
        };
        match self.apply(function, pdu) {
            Ok(r) => r,
            Err(code) => exception(function, code),
        }
    }

    fn apply(&mut self, function: u8, pdu: &[u8]) -> Result<Vec<u8>, u8> {
        match function {
            1 | 2 => {
                let (start, qty) = range(pdu, 2000)?;
                let mut bytes = vec![0u8; qty.div_ceil(8)];
                for (i, c) in self.coils[start..start + qty].iter().enumerate() {
                    if *c {
                        bytes[i / 8] |= 1 << (i % 8);
                    }
                }
                let mut r = vec![function, bytes.len() as u8];
                r.extend_from_slice(&bytes);
                Ok(r)
            }
            3 | 4 => {
                let (start, qty) = range(pdu, 125)?;
                let mut r = vec![function, (qty * 2) as u8];
                for v in &self.registers[start..start + qty] {
                    r.extend_from_slice(&v.to_be_bytes());
                }
                Ok(r)
            }
            5 => {
                let (addr, value) = (be16(pdu, 1).ok_or(3u8)?, be16(pdu, 3).ok_or(3u8)?);
                let on = match value {
                    0xff00 => true,
                    0x0000 => false,
                    _ => return Err(3),
                };
                *self.coils.get_mut(usize::from(addr)).ok_or(2u8)? = on;
                Ok(pdu[..5].to_vec())
            }
            6 => {
                let (addr, value) = (be16(pdu, 1).ok_or(3u8)?, be16(pdu, 3).ok_or(3u8)?);
                *self.registers.get_mut(usize::from(addr)).ok_or(2u8)? = value;
                Ok(pdu[..5].to_vec())
            }
            15 => {
                let (start, qty) = range(pdu, 1968)?;
                let data = pdu.get(6..6 + qty.div_ceil(8)).ok_or(3u8)?;
                if usize::from(pdu[5]) != data.len() {
                    return Err(3);
                }
                for i in 0..qty {
                    self.coils[start + i] = data[i / 8] & (1 << (i % 8)) != 0;
                }
                Ok(pdu[..5].to_vec())
            }
            16 => {
                let (start, qty) = range(pdu, 123)?;
                let data = pdu.get(6..6 + qty * 2).ok_or(3u8)?;
                if usize::from(pdu[5]) != data.len() {
                    return Err(3);
                }
                for i in 0..qty {
                    self.registers[start + i] = u16::from_be_bytes([data[2 * i], data[2 * i + 1]]);
                }
                Ok(pdu[..5].to_vec())
            }
            _ => Err(1),
        }
    }
}

/// A Modbus/TCP frame: the MBAP header (`transaction`, protocol 0, length, `unit`) and `pdu`.
pub fn frame(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(7 + pdu.len());
    f.extend_from_slice(&transaction.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    f.push(unit);
    f.extend_from_slice(pdu);
    f
}

/// Listens on `ip:502` inside namespace `ns` and serves until `stop` is raised; reports on
/// `ready` once listening (or why it cannot).
pub fn run_server(
    ns: String,
    ip: Ipv4Addr,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    stop: Arc<AtomicBool>,
) {
    let Some(listener) = sys::listen_in_netns(&ns, ip, PORT, &ready) else {
        return;
    };
    let tables = Arc::new(Mutex::new(Tables::default()));
    let mut sessions = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                let (tables, stop) = (Arc::clone(&tables), Arc::clone(&stop));
                sessions.push(std::thread::spawn(move || {
                    let _ = session(s, &tables, &stop);
                }));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
        sessions.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
    }
    for t in sessions {
        let _ = t.join();
    }
}

/// Fills `buf` from `s`, waiting out read timeouts until `stop`; `false` at end of stream or
/// on stop.
fn fill(s: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        match s.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if sys::timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn session(mut s: TcpStream, tables: &Mutex<Tables>, stop: &AtomicBool) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    s.set_nodelay(true)?;
    loop {
        let mut head = [0u8; 7];
        if !fill(&mut s, &mut head, stop)? {
            return Ok(());
        }
        let len = usize::from(u16::from_be_bytes([head[4], head[5]]));
        if head[2..4] != [0, 0] || !(2..=254).contains(&len) {
            return Ok(()); // Not Modbus: drop the connection, as devices do.
        }
        let mut pdu = vec![0u8; len - 1];
        if !fill(&mut s, &mut pdu, stop)? {
            return Ok(());
        }
        let reply = match tables.lock() {
            Ok(mut t) => t.respond(&pdu),
            Err(_) => return Ok(()),
        };
        let tid = u16::from_be_bytes([head[0], head[1]]);
        s.write_all(&frame(tid, head[6], &reply))?;
    }
}

/// One HMI poll of `gw`: read holding registers 1–10 (function 3, unit 1) on a new
/// connection, as transaction `transaction`.
///
/// # Errors
/// Connection, timeout or a reply that is not the answer.
pub fn poll(gw: Ipv4Addr, transaction: u16, timeout: Duration) -> std::io::Result<()> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::from((gw, PORT)), timeout)?;
    poll_on(&mut s, transaction, timeout)
}

/// [`poll`] on the connection `s`, already open to the gateway's Modbus port.
pub fn poll_on(s: &mut TcpStream, transaction: u16, timeout: Duration) -> std::io::Result<()> {
    s.set_read_timeout(Some(timeout))?;
    s.set_nodelay(true)?;
    s.write_all(&frame(transaction, 1, &[3, 0, 0, 0, 10]))?;
    let mut reply = [0u8; 9 + 20];
    s.read_exact(&mut reply)?;
    if reply[7] != 3 {
        return Err(std::io::Error::other("Modbus exception"));
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn writes_are_read_back() {
        let mut t = Tables::default();
        assert_eq!(t.respond(&[6, 0, 4, 0x12, 0x34]), vec![6, 0, 4, 0x12, 0x34]);
        assert_eq!(t.respond(&[3, 0, 4, 0, 1]), vec![3, 2, 0x12, 0x34]);
        assert_eq!(t.respond(&[5, 0, 9, 0xff, 0]), vec![5, 0, 9, 0xff, 0]);
        assert_eq!(t.respond(&[1, 0, 8, 0, 3]), vec![1, 1, 0b010]);
        // Function 16: two registers from 100.
        let w = [16, 0, 100, 0, 2, 4, 0, 7, 0, 8];
        assert_eq!(t.respond(&w), vec![16, 0, 100, 0, 2]);
        assert_eq!(t.respond(&[4, 0, 100, 0, 2]), vec![4, 4, 0, 7, 0, 8]);
        // Function 15: coils 0..3 = 1, 0, 1.
        assert_eq!(t.respond(&[15, 0, 0, 0, 3, 1, 0b101]), vec![15, 0, 0, 0, 3]);
        assert_eq!(t.respond(&[2, 0, 0, 0, 3]), vec![2, 1, 0b101]);
    }

    #[test]
    fn bad_requests_get_exceptions() {
        let mut t = Tables::default();
        assert_eq!(t.respond(&[8, 0, 0]), vec![0x88, 1]);
        assert_eq!(t.respond(&[3, 0x03, 0xe7, 0, 2]), vec![0x83, 2]);
        assert_eq!(t.respond(&[3, 0, 0, 0, 126]), vec![0x83, 3]);
        assert_eq!(t.respond(&[5, 0, 0, 0x12, 0x34]), vec![0x85, 3]);
        assert_eq!(t.respond(&[16, 0, 0, 0, 2, 4, 0]), vec![0x90, 3]);
        assert_eq!(t.respond(&[3]), vec![0x83, 3]);
        assert_eq!(t.respond(&[]), vec![0x80, 1]);
    }

    #[test]
    fn frames_carry_the_length() {
        assert_eq!(
            frame(7, 1, &[3, 0, 0, 0, 10]),
            vec![0, 7, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]
        );
    }
}
