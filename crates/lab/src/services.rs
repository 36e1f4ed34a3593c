//! Configuration files for the gateway's real services (mosquitto, lighttpd, dnsmasq, libcoap)
//! and the command lines that start them in the foreground.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::error::LabError;
use crate::scenario::Gateway;

/// A node that dnsmasq hands a fixed lease to.
#[derive(Clone, Debug)]
pub struct Lease {
    /// Host name.
    pub name: String,
    /// MAC address, `aa:bb:…`.
    pub mac: String,
    /// Address.
    pub ip: Ipv4Addr,
}

/// The firmware image the gateway serves over HTTP and TFTP, relative to its web root.
pub const FIRMWARE_IMAGE: &str = "firmware/iot-gw-2.4.1.bin";

/// A 32 KiB firmware image: a header naming it, then bytes from a fixed generator (so the
/// image, and every capture of its download, is the same on every run).
pub fn firmware_image() -> Vec<u8> {
    let mut img = b"IOTGW-FW\x00\x02\x04\x01iot-gw 2.4.1\x00".to_vec();
    let mut rng = crate::devices::SplitMix64::new(0x1234_5678);
    while img.len() < 32 * 1024 {
        img.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    img.truncate(32 * 1024);
    img
}

/// Writes `text` to `path`.
fn write(path: &Path, text: &str) -> Result<(), LabError> {
    std::fs::write(path, text).map_err(|e| LabError::Io(format!("writing {}", path.display()), e))
}

/// Writes every service's configuration under `work` and returns `(name, command line)` for
/// each service to start.
///
/// # Errors
/// [`LabError::Io`] when a file cannot be written.
pub fn prepare(
    work: &Path,
    gw: &Gateway,
    gw_ip: Ipv4Addr,
    leases: &[Lease],
) -> Result<Vec<(String, Vec<String>)>, LabError> {
    let w = work.display();
    let mut out = Vec::new();
    if gw.mqtt {
        mosquitto(work, gw, gw_ip)?;
        out.push((
            "mosquitto".into(),
            strings(&["mosquitto", "-c", &format!("{w}/mosquitto.conf")]),
        ));
    }
    if gw.coap {
        out.push((
            "coap-server".into(),
            strings(&["coap-server-notls", "-A", &gw_ip.to_string(), "-p", "5683"]),
        ));
    }
    if gw.http {
        lighttpd(work, gw, gw_ip)?;
        out.push((
            "lighttpd".into(),
            strings(&["lighttpd", "-D", "-f", &format!("{w}/lighttpd.conf")]),
        ));
    }
    if gw.dhcp_dns {
        dnsmasq(work, gw, gw_ip, leases)?;
        out.push((
            "dnsmasq".into(),
            strings(&[
                "dnsmasq",
                "-k",
                "-C",
                &format!("{w}/dnsmasq.conf"),
                "--pid-file=",
            ]),
        ));
    }
    Ok(out)
}

/// Owned copies of `v`.
fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>()
}

/// Writes mosquitto's configuration (an anonymous broker; with `gw.mqtt_credential`, a
/// password file for clients that give a user name).
fn mosquitto(work: &Path, gw: &Gateway, gw_ip: Ipv4Addr) -> Result<(), LabError> {
    let w = work.display();
    let mut conf = format!(
        "# custos lab: anonymous broker, as on many IoT gateways\n\
         user root\nlistener 1883 {gw_ip}\nallow_anonymous true\npersistence false\n\
         log_dest file {w}/mosquitto.log\nlog_type error\nlog_type warning\nlog_type notice\n\
         sys_interval 5\nmax_queued_messages 1000\n"
    );
    if let Some((user, pass)) = &gw.mqtt_credential {
        // Clients that give a user name are checked against this file; anonymous ones
        // stay allowed.
        let f = work.join("mosquitto.passwd");
        write(&f, "")?;
        crate::sys::cmd(&["mosquitto_passwd", "-b", &f.to_string_lossy(), user, pass])?;
        conf.push_str(&format!("password_file {}\n", f.display()));
    }
    write(&work.join("mosquitto.conf"), &conf)?;
    Ok(())
}

/// Writes lighttpd's web root (status, firmware manifest and image, a basic-auth admin
/// page), its users and its configuration.
fn lighttpd(work: &Path, gw: &Gateway, gw_ip: Ipv4Addr) -> Result<(), LabError> {
    let w = work.display();
    let www = work.join("www");
    for d in ["", "admin", "firmware"] {
        std::fs::create_dir_all(www.join(d))
            .map_err(|e| LabError::Io(format!("creating {}", www.display()), e))?;
    }
    write(&www.join("index.html"), "<html><head><title>IoT Gateway</title></head><body><h1>IoT Gateway</h1><a href=\"/admin/\">Administration</a></body></html>\n")?;
    write(
        &www.join("status"),
        "{\"status\":\"ok\",\"uptime\":86400,\"devices\":\"online\"}\n",
    )?;
    write(&www.join("firmware/latest.json"), "{\"model\":\"iot-gw\",\"version\":\"2.4.1\",\"url\":\"http://firmware.iot.lab/firmware/iot-gw-2.4.1.bin\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}\n")?;
    let img = www.join(FIRMWARE_IMAGE);
    std::fs::write(&img, firmware_image())
        .map_err(|e| LabError::Io(format!("writing {}", img.display()), e))?;
    write(&www.join("admin/index.html"), "<html><body><h1>Gateway administration</h1><form>Reboot <input type=submit></form></body></html>\n")?;
    write(
        &work.join("lighttpd.users"),
        &format!("{}:{}\n", gw.http_credential.0, gw.http_credential.1),
    )?;
    write(
        &work.join("lighttpd.conf"),
        &format!(
            "server.document-root = \"{w}/www\"\nserver.bind = \"{gw_ip}\"\nserver.port = 80\n\
             server.errorlog = \"{w}/lighttpd.error.log\"\nserver.tag = \"lighttpd\"\n\
             server.modules = (\"mod_auth\", \"mod_authn_file\", \"mod_status\")\n\
             status.status-url = \"/server-status\"\n\
             auth.backend = \"plain\"\nauth.backend.plain.userfile = \"{w}/lighttpd.users\"\n\
             auth.require = (\"/admin/\" => (\"method\" => \"basic\", \"realm\" => \"IoT Gateway\", \"require\" => \"valid-user\"))\n\
             index-file.names = (\"index.html\")\n\
             mimetype.assign = (\".html\" => \"text/html\", \".json\" => \"application/json\", \"\" => \"application/json\")\n"
        ),
    )?;
    Ok(())
}

/// Writes dnsmasq's configuration: DHCP with a fixed lease per node, DNS for `iot.lab`
/// and, with TFTP and HTTP on, read-only TFTP of the web root.
fn dnsmasq(work: &Path, gw: &Gateway, gw_ip: Ipv4Addr, leases: &[Lease]) -> Result<(), LabError> {
    let w = work.display();
    let mut conf = format!(
        "interface=eth0\nbind-interfaces\nlisten-address={gw_ip}\nno-resolv\nno-hosts\n\
         user=root\ndomain=iot.lab\nlocal=/iot.lab/\n\
         dhcp-range={net},static,255.255.255.0,12h\ndhcp-authoritative\n\
         dhcp-leasefile={w}/dnsmasq.leases\ndhcp-option=3,{gw_ip}\ndhcp-option=6,{gw_ip}\n\
         log-facility={w}/dnsmasq.log\nlog-dhcp\n",
        net = Ipv4Addr::from(u32::from(gw_ip) & 0xffff_ff00),
    );
    for n in ["gateway", "firmware", "time", "mqtt", "coap"] {
        conf.push_str(&format!("address=/{n}.iot.lab/{gw_ip}\n"));
    }
    if gw.tftp && gw.http {
        // Read-only TFTP of the web root (the firmware image), as many gateways offer.
        conf.push_str(&format!("enable-tftp\ntftp-root={w}/www\n"));
    }
    for l in leases {
        conf.push_str(&format!("dhcp-host={},{},{}\n", l.mac, l.ip, l.name));
    }
    write(&work.join("dnsmasq.conf"), &conf)?;
    Ok(())
}
