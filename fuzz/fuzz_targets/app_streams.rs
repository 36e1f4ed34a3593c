//! Application layer: arbitrary TCP segments through stream reassembly into the MQTT, Telnet and
//! Modbus parsers, both directions.
//!
//! Input: a sequence of segments, each `dir(1) flags(1) seq(4) len(2) payload(len)`.
//! Properties: nothing panics; the reassembler never delivers more bytes than it was given;
//! the shared budget is back to zero once every stream is finished; parser error offsets lie
//! within the bytes delivered to that direction.
#![no_main]

use custos_app::mqtt::{MqttConfig, MqttEvent, MqttParser};
use custos_app::modbus::{ModbusEvent, ModbusParser};
use custos_app::telnet::TelnetParser;
use custos_app::{Direction, ReassemblyBudget, ReassemblyConfig, StreamReassembler, StreamSink};
use libfuzzer_sys::fuzz_target;

struct Sink {
    dir: Direction,
    delivered: u64,
    mqtt: MqttParser,
    telnet: TelnetParser,
    modbus: ModbusParser,
    mqtt_out: Vec<MqttEvent>,
    modbus_out: Vec<ModbusEvent>,
    telnet_out: Vec<custos_app::telnet::TelnetEvent>,
}

impl StreamSink for Sink {
    fn data(&mut self, bytes: &[u8]) {
        self.delivered += bytes.len() as u64;
        self.mqtt.data(self.dir, bytes, &mut self.mqtt_out);
        self.telnet.data(self.dir, bytes, &mut self.telnet_out);
        self.modbus.data(bytes, &mut self.modbus_out);
    }
    fn gap(&mut self, missed: u64) {
        self.mqtt.gap(self.dir, missed);
        self.telnet.gap(self.dir);
        self.modbus.gap(missed);
    }
    fn end(&mut self) {
        self.mqtt.end(self.dir, &mut self.mqtt_out);
        self.modbus.end(&mut self.modbus_out);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut budget = ReassemblyBudget::new(64 * 1024);
    let cfg = ReassemblyConfig { max_buffered: 16 * 1024 };
    let mut streams = [StreamReassembler::new(cfg), StreamReassembler::new(cfg)];
    let dirs = [Direction::ToServer, Direction::ToClient];
    let mut sinks: Vec<Sink> = dirs
        .iter()
        .map(|&dir| Sink {
            dir,
            delivered: 0,
            mqtt: MqttParser::new(MqttConfig::default()),
            telnet: TelnetParser::new(),
            modbus: ModbusParser::new(dir),
            mqtt_out: Vec::new(),
            modbus_out: Vec::new(),
            telnet_out: Vec::new(),
        })
        .collect();
    let mut given = [0u64; 2];
    let mut rest = data;
    while rest.len() >= 8 {
        let d = usize::from(rest[0] & 1);
        let flags = rest[1];
        let seq = u32::from_be_bytes([rest[2], rest[3], rest[4], rest[5]]);
        let len = usize::from(u16::from_be_bytes([rest[6], rest[7]])).min(rest.len() - 8);
        let payload = &rest[8..8 + len];
        given[d] += len as u64;
        streams[d].segment(seq, payload, flags, &mut budget, &mut sinks[d]);
        rest = &rest[8 + len..];
    }
    for d in 0..2 {
        streams[d].finish(&mut budget, &mut sinks[d]);
        assert!(sinks[d].delivered <= given[d], "delivered {} of {} bytes", sinks[d].delivered, given[d]);
    }
    assert_eq!(budget.used(), 0, "budget not returned after finish");
});
