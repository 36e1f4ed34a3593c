//! The datasheet answers custos gives from the run (the manifest).

use crate::labels::LabelKind;
use crate::manifest::Manifest;
use crate::schema::Role;

/// custos's answer to question `key` of `section`, when it has one.
pub(crate) fn computed(section: &str, key: &str, m: &Manifest) -> Option<String> {
    let c = &m.counts;
    let captures = m.inputs.iter().filter(|i| i.role == "capture").count();
    let label = |l: &str| c.label.get(l).copied().unwrap_or(0);
    let text = match (section, key) {
        ("composition", "instances") => "Network flows: one row per bidirectional connection \
            as Zeek defines it (transport 5-tuple and VLANs; TCP, UDP and ICMP state, \
            inactivity timeouts, reuse of a 5-tuple), rebuilt from packet captures by custos."
            .to_string(),
        ("composition", "count") => format!(
            "{} flows: {} benign, {} attack, from {} packets of {captures} capture(s). Per \
             phase and per device: manifest.json, counts.",
            c.flows,
            label("benign"),
            label("attack"),
            m.run.packets
        ),
        ("composition", "sampling") => format!(
            "Every flow of the captures is a row (the flow table held at most {} flows at \
             once; flows evicted at that cap are rows too, ended early).{}",
            m.config.max_flows,
            match m.config.max_packets {
                Some(n) => format!(" Only the first {n} packets were read."),
                None => String::new(),
            }
        ),
        ("composition", "data") => data(m),
        ("composition", "label") => format!(
            "Yes: label (0 benign, 1 attack) and phase. {}",
            m.labelling.rule
        ),
        ("composition", "missing") => format!(
            "app_proto is null when no application protocol was recognised; phase is null \
             when the labels name none; statistics of a direction without packets are 0. \
             {} IP layers belonged to no flow (refused as Zeek refuses them), {} application \
             events to no open flow; {} flows' packets differ from the flow table's.",
            m.run.collector.refused_packets, m.run.collector.unmatched_events, c.inexact_flows
        ),
        ("composition", "relationships") => "uid identifies a flow (conn.log's uid); \
            community_id is shared by the flows of one 5-tuple; capture, first_packet, \
            last_capture and last_packet tie each row to its packets in the captures listed \
            in manifest.json."
            .to_string(),
        ("composition", "noise") => noise(m),
        ("composition", "self_contained") => "The rows are self-contained. The captures and \
            labels they were computed from are identified by size and SHA-256 in \
            manifest.json but not included."
            .to_string(),
        ("composition", "confidential") => "Rows hold the IP addresses and ports of the hosts \
            (orig_addr, resp_addr, orig_port, resp_port) and application facts (protocol, \
            counts of logins and requests); no payload, usernames or passwords."
            .to_string(),
        ("collection", "acquisition") => format!(
            "Computed by custos {} from the {captures} packet capture(s) listed in \
             manifest.json (flow table, application parsers); labels from the labels files \
             listed there.",
            m.custos_version
        ),
        ("collection", "timeframe") => match &m.time_span {
            Some(t) => format!("Packets from {} to {} (packet time, UTC).", t.first, t.last),
            None => "No flow: no packet time.".to_string(),
        },
        ("preprocessing", "preprocessing") => format!(
            "Packets were decoded (checksums: {}), grouped into flows by custos's flow table \
             (Zeek's connection semantics) and described by the statistics and application \
             counts of the schema {} v{}. {}",
            m.config.checksums, m.feature_schema.name, m.feature_schema.version, m.labelling.rule
        ),
        ("preprocessing", "raw_data") => "The captures and labels are identified by SHA-256 in \
            manifest.json; they are not part of the dataset."
            .to_string(),
        ("preprocessing", "software") => format!(
            "custos {} (`custos dataset build`); the settings that decide the rows are in \
             manifest.json (config).",
            m.custos_version
        ),
        ("uses", "impact") => impact(m),
        _ => return None,
    };
    Some(text)
}

/// The columns by role.
fn data(m: &Manifest) -> String {
    let cols = &m.feature_schema.columns;
    let n = |r: Role| cols.iter().filter(|c| c.role == r).count();
    format!(
        "{} columns (schema {} v{}, every column described in manifest.json): {} identifying \
         the flow, {} of context, {} features (nfstream-style packet size, inter-arrival and \
         TCP flag statistics per direction, Zeek's byte counters, application event counts) \
         and {} of ground truth.",
        cols.len(),
        m.feature_schema.name,
        m.feature_schema.version,
        n(Role::Id),
        n(Role::Context),
        n(Role::Feature),
        n(Role::Label)
    )
}

fn noise(m: &Manifest) -> String {
    let d = &m.duplicates.found;
    let mut s = format!(
        "{} rows repeat the features of an earlier row ({} of them with another label); {} \
         distinct feature vectors.",
        d.rows, d.conflicting_labels, d.distinct
    );
    if m.run.partial {
        s.push_str(" An input was damaged part-way: only what came before the damage is in.");
    }
    for w in &m.run.warnings {
        s.push_str(&format!(" Warning: {w}."));
    }
    s
}

fn impact(m: &Manifest) -> String {
    let rule = match m.labelling.kind {
        LabelKind::PerPacket => {
            "A flow is labelled attack when any one of its packets is: long flows that carry a \
             few attack packets are attack flows as a whole."
        }
        LabelKind::PerFlow => "Labels were given per flow; custos did not check them.",
    };
    format!(
        "{rule} Flows are cut by inactivity timeouts, reuse of a 5-tuple, the flow table's \
         cap and the end of input (end_reason): features of flows cut at the end of a capture \
         describe only their beginning. Timing features depend on where the captures were \
         taken."
    )
}
