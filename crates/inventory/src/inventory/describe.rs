//! What application records tell about a device: a service's banner, a server's role, an MQTT
//! client's activity, mDNS names.

use super::Device;
use custos_app::dns::{DnsMessage, DnsRdata};
use custos_app::ftp::FtpEvent;
use custos_app::mqtt::MqttMessage;
use custos_app::telnet::TelnetEvent;
use custos_app::tls::TlsEvent;
use custos_app::Direction;
use custos_app::{AppEvent, AppRecord};

/// A server's self-description in a record, if the record carries one.
pub(super) fn banner(r: &AppRecord, dir: Direction) -> Option<String> {
    if dir != Direction::ToClient && !matches!(r, AppRecord::Ssdp(_) | AppRecord::Http(_)) {
        return None;
    }
    match r {
        AppRecord::Http(t) => t.response.as_ref().and_then(|r| r.server.clone()),
        AppRecord::Ftp(FtpEvent::Reply(r)) if r.code == 220 => Some(r.text.clone()),
        AppRecord::Telnet(TelnetEvent::Prompt { text, .. }) => Some(text.clone()),
        AppRecord::Ssdp(m) => m.server.clone(),
        AppRecord::Tls(t) => match &**t {
            TlsEvent::Certificates(c) => c.chain.first().map(|c| c.subject.clone()),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn server_role(e: &AppEvent) -> Option<&'static str> {
    Some(match e.proto.name() {
        "mqtt" => "mqtt_broker",
        "dns" => "dns_server",
        "dhcp" => "dhcp_server",
        "http" => "http_server",
        "tls" => "tls_server",
        "telnet" => "telnet_server",
        "ftp" => "ftp_server",
        "coap" => "coap_server",
        "modbus" => "modbus_server",
        "snmp" => "snmp_agent",
        "ssdp" => "upnp_device",
        "tftp" => "tftp_server",
        "mdns" => "mdns_responder",
        _ => return None,
    })
}

pub(super) fn mqtt_client(dev: &mut Device, m: &MqttMessage, cap: usize) {
    let a = dev.mqtt.get_or_insert_with(Box::default);
    match m {
        MqttMessage::Connect(c) => {
            a.client_ids.insert_str(&c.client_id, cap);
            if let Some(u) = &c.username {
                a.usernames.insert_str(u, cap);
            }
        }
        MqttMessage::Publish(p) => {
            a.publishes += 1;
            a.topics.insert_str(&p.topic, cap);
            dev.roles.insert("mqtt_publisher");
        }
        MqttMessage::Subscribe(s) => {
            for t in &s.filters {
                a.subscriptions.insert_str(&t.topic, cap);
            }
            dev.roles.insert("mqtt_subscriber");
        }
        _ => {}
    }
}

pub(super) fn mdns_names(dev: &mut Device, m: &DnsMessage, cap: usize) {
    for r in m.answers.iter().chain(&m.additionals) {
        match &r.data {
            DnsRdata::A(_) | DnsRdata::Aaaa(_) => {
                dev.hostnames.insert((r.name.clone(), "mdns"), cap);
            }
            DnsRdata::Name(_) if r.rrtype == 12 && r.name.starts_with('_') => {
                dev.mdns_services.insert_str(&r.name, cap);
            }
            _ => {}
        }
    }
}
