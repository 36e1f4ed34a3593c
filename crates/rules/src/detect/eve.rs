//! The application metadata a signature alert carries, shaped as Suricata's EVE objects
//! (`"mqtt": {"connect": {…}, "connack": {…}}`, `"modbus": {"request": {…}, "response":
//! {…}}`), so that tools written for Suricata's alerts read custos's. Passwords are never
//! included.

use custos_app::modbus::ModbusRecord;
use custos_app::mqtt::{MqttMessage, MqttRecord};
use serde_json::{json, Map, Value};

/// The EVE key and object of one MQTT control packet.
pub(crate) fn mqtt(r: &MqttRecord) -> (&'static str, Value) {
    let h = &r.header;
    let mut o = Map::new();
    o.insert("qos".into(), h.qos.into());
    o.insert("retain".into(), h.retain.into());
    o.insert("dup".into(), h.dup.into());
    let key = match &r.message {
        MqttMessage::Connect(c) => {
            o.insert("protocol_string".into(), c.protocol_name.clone().into());
            o.insert("protocol_version".into(), c.protocol_version.into());
            o.insert(
                "flags".into(),
                json!({
                    "username": c.username_flag,
                    "password": c.password_flag,
                    "will": c.will_flag,
                    "will_retain": c.will_retain,
                    "clean_session": c.clean_session,
                }),
            );
            o.insert("client_id".into(), c.client_id.clone().into());
            if let Some(u) = &c.username {
                o.insert("username".into(), u.clone().into());
            }
            "connect"
        }
        MqttMessage::Connack(c) => {
            o.insert("session_present".into(), c.session_present.into());
            o.insert("return_code".into(), c.return_code.into());
            "connack"
        }
        MqttMessage::Publish(p) => {
            o.insert("topic".into(), p.topic.clone().into());
            if let Some(id) = p.packet_id {
                o.insert("message_id".into(), id.into());
            }
            "publish"
        }
        MqttMessage::Puback(a)
        | MqttMessage::Pubrec(a)
        | MqttMessage::Pubrel(a)
        | MqttMessage::Pubcomp(a) => {
            o.insert("message_id".into(), a.packet_id.into());
            if let Some(c) = a.reason_code {
                o.insert("reason_code".into(), c.into());
            }
            match &r.message {
                MqttMessage::Puback(_) => "puback",
                MqttMessage::Pubrec(_) => "pubrec",
                MqttMessage::Pubrel(_) => "pubrel",
                _ => "pubcomp",
            }
        }
        MqttMessage::Subscribe(s) => {
            o.insert("message_id".into(), s.packet_id.into());
            o.insert(
                "topics".into(),
                s.filters
                    .iter()
                    .map(|f| json!({"topic": f.topic, "qos": f.qos}))
                    .collect(),
            );
            "subscribe"
        }
        MqttMessage::Suback(a) => {
            o.insert("message_id".into(), a.packet_id.into());
            o.insert("qos_granted".into(), a.codes.clone().into());
            "suback"
        }
        MqttMessage::Unsubscribe(u) => {
            o.insert("message_id".into(), u.packet_id.into());
            o.insert("topics".into(), u.topics.clone().into());
            "unsubscribe"
        }
        MqttMessage::Unsuback(a) => {
            o.insert("message_id".into(), a.packet_id.into());
            if !a.codes.is_empty() {
                o.insert("reason_codes".into(), a.codes.clone().into());
            }
            "unsuback"
        }
        MqttMessage::Disconnect(d) | MqttMessage::Auth(d) => {
            if let Some(c) = d.reason_code {
                o.insert("reason_code".into(), c.into());
            }
            if matches!(r.message, MqttMessage::Auth(_)) {
                "auth"
            } else {
                "disconnect"
            }
        }
        MqttMessage::Pingreq => "pingreq",
        MqttMessage::Pingresp => "pingresp",
    };
    (key, Value::Object(o))
}

/// The EVE `request` or `response` object of a Modbus frame.
pub(crate) fn modbus(r: &ModbusRecord) -> (&'static str, Value) {
    let f = r.function & 0x7f;
    let mut o = Map::new();
    o.insert("transaction_id".into(), r.transaction_id.into());
    o.insert("protocol_id".into(), 0.into());
    o.insert("unit_id".into(), r.unit_id.into());
    o.insert("function_raw".into(), r.function.into());
    o.insert("function_code".into(), function_name(f).into());
    o.insert("access_type".into(), access_type(f).into());
    o.insert("category".into(), category_name(f).into());
    o.insert(
        "error_flags".into(),
        if r.exception.is_some() {
            "EXC_SET"
        } else {
            "NONE"
        }
        .into(),
    );
    if let Some(e) = r.exception {
        o.insert("exception".into(), e.into());
    }
    if let (Some(a), Some(q)) = (r.address, r.quantity) {
        o.insert("address".into(), a.into());
        o.insert("quantity".into(), q.into());
    }
    let key = match r.direction {
        custos_app::Direction::ToServer => "request",
        custos_app::Direction::ToClient => "response",
    };
    (key, Value::Object(o))
}

/// Suricata's function-code names.
fn function_name(f: u8) -> &'static str {
    match f {
        1 => "RdCoils",
        2 => "RdDiscreteInputs",
        3 => "RdHoldRegs",
        4 => "RdInputRegs",
        5 => "WrSingleCoil",
        6 => "WrSingleReg",
        7 => "RdExcStatus",
        8 => "Diagnostic",
        11 => "GetCommEventCtr",
        12 => "GetCommEventLog",
        15 => "WrMultCoils",
        16 => "WrMultRegs",
        17 => "ReportServerID",
        20 => "RdFileRec",
        21 => "WrFileRec",
        22 => "MaskWrReg",
        23 => "RdWrMultRegs",
        24 => "RdFIFOQueue",
        43 => "MEI",
        _ => "Unknown",
    }
}

/// Suricata's access type flags, joined as it writes them.
fn access_type(f: u8) -> &'static str {
    match f {
        1 => "READ | COILS",
        2 => "READ | DISCRETES",
        3 => "READ | HOLDING",
        4 => "READ | INPUT",
        5 => "WRITE | COILS | SINGLE",
        6 => "WRITE | HOLDING | SINGLE",
        15 => "WRITE | COILS | MULTIPLE",
        16 => "WRITE | HOLDING | MULTIPLE",
        22 => "WRITE | HOLDING",
        23 => "READ | WRITE | HOLDING | MULTIPLE",
        _ => "NONE",
    }
}

fn category_name(f: u8) -> &'static str {
    match f {
        1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 => "PUBLIC_ASSIGNED",
        65..=72 | 100..=110 => "USER_DEFINED",
        9 | 10 | 13 | 14 | 41 | 42 | 90 | 91 | 125..=127 => "RESERVED",
        _ => "PUBLIC_UNASSIGNED",
    }
}
