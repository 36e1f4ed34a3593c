//! MQTT control packets as transaction messages, following Suricata's MQTT transactions and
//! the protocol events it raises (`missing_connect`, `double_connect`, …).

use super::app::{Built, Conn, Message, Role, TxKey};
use custos_app::mqtt::{Ack, Connect, MqttMessage, MqttRecord, Publish, SubAck};

/// An MQTT control packet as a message, following Suricata's MQTT transactions and events.
pub(super) fn mqtt(r: &MqttRecord, conn: &mut Conn) -> Built {
    let mut m = Message::default();
    let h = &r.header;
    let ty = u64::from(h.packet_type.number());
    m.ints.push(("mqtt.type", ty));
    m.ints.push(("mqtt.qos", u64::from(h.qos)));
    m.flags
        .push(("mqtt.flags", u32::from(h.dup) | (u32::from(h.retain) << 1)));
    let v5 = conn.mqtt_version == 5;
    let mut introduce = true;
    let out = match &r.message {
        MqttMessage::Connect(c) => {
            introduce = false;
            connect(&mut m, c, conn)
        }
        MqttMessage::Connack(c) => {
            m.ints.push(("mqtt.reason_code", u64::from(c.return_code)));
            m.ints
                .push(("mqtt.connack.session_present", u64::from(c.session_present)));
            conn.mqtt_connected = true;
            introduce = false;
            (TxKey::MqttConnect, Role::Close(Some("missing_connect")))
        }
        MqttMessage::Publish(p) => publish(&mut m, h.qos, p),
        MqttMessage::Puback(a) | MqttMessage::Pubcomp(a) => {
            introduce = false;
            publish_ack(&mut m, a, v5, true)
        }
        MqttMessage::Pubrec(a) | MqttMessage::Pubrel(a) => {
            // Suricata keeps a QoS 2 transaction open until PUBCOMP.
            introduce = false;
            publish_ack(&mut m, a, v5, false)
        }
        MqttMessage::Subscribe(s) => {
            for f in &s.filters {
                m.buf("mqtt.subscribe.topic", &f.topic);
            }
            qos_tx(&mut m, h.qos, TxKey::MqttId(1, s.packet_id))
        }
        MqttMessage::Suback(a) => {
            introduce = false;
            subscribe_ack(&mut m, a, (1, "missing_subscribe"))
        }
        MqttMessage::Unsubscribe(u) => {
            for t in &u.topics {
                m.buf("mqtt.unsubscribe.topic", t);
            }
            qos_tx(&mut m, h.qos, TxKey::MqttId(2, u.packet_id))
        }
        MqttMessage::Unsuback(a) => {
            introduce = false;
            subscribe_ack(&mut m, a, (2, "missing_unsubscribe"))
        }
        MqttMessage::Disconnect(d) | MqttMessage::Auth(d) => {
            if let Some(code) = reason(d.reason_code, v5) {
                m.ints.push(("mqtt.reason_code", code));
            }
            (TxKey::Single, Role::Request)
        }
        MqttMessage::Pingreq | MqttMessage::Pingresp => (TxKey::Single, Role::Request),
    };
    finish_mqtt(m, out, conn, introduce)
}

/// The reason code of a packet that may carry one: 0 (success) when an MQTT 5 packet
/// leaves it out.
fn reason(code: Option<u8>, v5: bool) -> Option<u64> {
    code.or(v5.then_some(0)).map(u64::from)
}

/// A CONNECT: its buffers and flags; it opens the connection's CONNECT transaction (a
/// second one raises `double_connect`).
fn connect(m: &mut Message, c: &Connect, conn: &mut Conn) -> (TxKey, Role) {
    conn.mqtt_version = c.protocol_version;
    m.buf("mqtt.connect.protocol_string", &c.protocol_name);
    m.buf("mqtt.connect.clientid", &c.client_id);
    if let Some(u) = &c.username {
        m.buf("mqtt.connect.username", u);
    }
    if let Some(p) = &c.password {
        m.buf("mqtt.connect.password", p);
    }
    if let Some(t) = &c.will_topic {
        m.buf("mqtt.connect.willtopic", t);
    }
    let flags = u32::from(c.username_flag)
        | u32::from(c.password_flag) << 1
        | u32::from(c.will_flag) << 2
        | u32::from(c.will_retain) << 3
        | u32::from(c.clean_session) << 4;
    m.flags.push(("mqtt.connect.flags", flags));
    if conn.mqtt_connect_seen {
        m.events.push("double_connect");
    }
    conn.mqtt_connect_seen = true;
    (TxKey::MqttConnect, Role::Request)
}

/// A PUBLISH: its topic and message; at QoS 1 or 2 it opens a transaction keyed by its
/// packet id (`missing_msg_id` without one, `invalid_qos_level` at QoS 3).
fn publish(m: &mut Message, qos: u8, p: &Publish) -> (TxKey, Role) {
    m.buf("mqtt.publish.topic", &p.topic);
    m.buf("mqtt.publish.message", &p.payload);
    match (qos, p.packet_id) {
        (0, _) => (TxKey::Single, Role::Request),
        (1 | 2, Some(id)) => (TxKey::MqttId(0, id), Role::Request),
        (1 | 2, None) => {
            m.events.push("missing_msg_id");
            (TxKey::Single, Role::Request)
        }
        _ => {
            m.events.push("invalid_qos_level");
            (TxKey::Single, Role::Request)
        }
    }
}

/// A PUBACK or PUBCOMP (`closes`: it completes the PUBLISH's transaction), or a PUBREC or
/// PUBREL (it joins it), with its reason code.
fn publish_ack(m: &mut Message, a: &Ack, v5: bool, closes: bool) -> (TxKey, Role) {
    if let Some(code) = reason(a.reason_code, v5) {
        m.ints.push(("mqtt.reason_code", code));
    }
    let role = if closes {
        Role::Close(Some("missing_publish"))
    } else {
        Role::Continue("missing_publish")
    };
    (TxKey::MqttId(0, a.packet_id), role)
}

/// A SUBACK (`kind` 1) or UNSUBACK (`kind` 2) with its reason codes: it completes its
/// request's transaction (without one, raises `missing`).
fn subscribe_ack(
    m: &mut Message,
    a: &SubAck,
    (kind, missing): (u8, &'static str),
) -> (TxKey, Role) {
    for c in &a.codes {
        m.ints.push(("mqtt.reason_code", u64::from(*c)));
    }
    (TxKey::MqttId(kind, a.packet_id), Role::Close(Some(missing)))
}

/// The transaction of a SUBSCRIBE or UNSUBSCRIBE at QoS `qos` (one of its own at QoS 0;
/// `invalid_qos_level` above 1).
fn qos_tx(m: &mut Message, qos: u8, key: TxKey) -> (TxKey, Role) {
    match qos {
        0 => (TxKey::Single, Role::Request),
        1 => (key, Role::Request),
        _ => {
            m.events.push("invalid_qos_level");
            (TxKey::Single, Role::Request)
        }
    }
}

/// The message with the events and fields every MQTT message gets: `unintroduced_message`
/// before a CONNACK (for a packet that needs one), and the protocol version.
fn finish_mqtt(mut m: Message, (key, role): (TxKey, Role), conn: &Conn, introduce: bool) -> Built {
    if introduce && !conn.mqtt_connected {
        m.events.push("unintroduced_message");
    }
    if conn.mqtt_version != 0 {
        m.ints
            .push(("mqtt.protocol_version", u64::from(conn.mqtt_version)));
    }
    (m, key, role)
}
