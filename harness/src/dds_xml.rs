//! Reading DDS configuration XML (Fast DDS profiles, Cyclone DDS's CYCLONEDDS_URI) for the few
//! settings the lint and the diagnosis judge: element scans on comment-free text, enough for
//! the flat settings they read, not a validating parser.

/// What a Fast DDS profile sets that decides where its initial-peer announcements go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FastDdsProfile {
    /// It makes the participant a discovery-server client or server (no initial peers then).
    pub discovery_server: bool,
    /// Its initialPeersList has a locator without a port.
    pub peers_without_port: bool,
    /// The largest `maxInitialPeersRange` it sets, in any transport descriptor.
    pub max_initial_peers_range: Option<u64>,
}

impl FastDdsProfile {
    pub fn read(xml: &str) -> FastDdsProfile {
        let xml = without_comments(xml);
        let server = ["CLIENT", "SUPER_CLIENT", "SERVER", "BACKUP"];
        FastDdsProfile {
            discovery_server: elements(&xml, "discoveryProtocol").iter().any(|(_, v)| server.contains(&v.trim())),
            peers_without_port: fast_dds_peers_without_port(&xml),
            max_initial_peers_range: numbers(&xml, "maxInitialPeersRange").max(),
        }
    }
}

/// An initialPeersList locator without a port (or port 0): Fast DDS fills in the ids' ports.
pub(crate) fn fast_dds_peers_without_port(xml: &str) -> bool {
    elements(xml, "initialPeersList")
        .iter()
        .flat_map(|(_, list)| elements(list, "locator"))
        .any(|(_, l)| !elements(l, "port").iter().any(|(_, p)| p.trim().parse::<u64>().is_ok_and(|p| p > 0)))
}

/// `xml` without its comments, so a commented-out setting does not count.
pub(crate) fn without_comments(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("-->").map_or("", |j| &rest[i + j + 3..]);
    }
    out.push_str(rest);
    out
}

/// The attributes and the content of each `<tag …>…</tag>` (or `<tag …/>`) of `xml`.
pub(crate) fn elements<'x>(xml: &'x str, tag: &str) -> Vec<(&'x str, &'x str)> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // `<Peer` is not `<Peers>`, `<locator` not `<locatorList>`.
        if !after.starts_with(['>', '/', ' ', '\t', '\r', '\n']) {
            rest = after;
            continue;
        }
        let Some(end) = after.find('>') else { break };
        let attrs = &after[..end];
        if let Some(attrs) = attrs.strip_suffix('/') {
            found.push((attrs, ""));
            rest = &after[end + 1..];
            continue;
        }
        let body = &after[end + 1..];
        let Some(stop) = body.find(&close) else { break };
        found.push((attrs, &body[..stop]));
        rest = &body[stop + close.len()..];
    }
    found
}

/// The numbers in each `<tag>` of `xml`.
pub(crate) fn numbers<'x>(xml: &'x str, tag: &str) -> impl Iterator<Item = u64> + 'x {
    elements(xml, tag).into_iter().filter_map(|(_, v)| v.trim().parse().ok())
}

/// The value of attribute `name` (any case) in an element's attribute text.
pub(crate) fn attribute<'x>(attrs: &'x str, name: &str) -> Option<&'x str> {
    let at = attrs.to_ascii_lowercase().find(&format!("{name}="))? + name.len() + 1;
    let rest = &attrs[at..];
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    value.find(quote).map(|end| &value[..end])
}

#[cfg(test)]
mod tests {
    use super::FastDdsProfile;

    #[test]
    fn a_profile_is_read_for_its_range_its_peers_and_a_server_role_not_for_comments() {
        let xml = r#"<profiles><transport_descriptors><transport_descriptor><transport_id>udp</transport_id>
            <type>UDPv4</type><maxInitialPeersRange>16</maxInitialPeersRange></transport_descriptor>
            </transport_descriptors><!-- <maxInitialPeersRange>99</maxInitialPeersRange> -->
            <participant profile_name="p" is_default_profile="true"><rtps><builtin><initialPeersList>
            <locator><udpv4><address>10.42.1.3</address></udpv4></locator></initialPeersList></builtin></rtps>
            </participant></profiles>"#;
        let p = FastDdsProfile::read(xml);
        assert_eq!(p.max_initial_peers_range, Some(16));
        assert!(p.peers_without_port && !p.discovery_server);
        let with_port = xml.replace("</address>", "</address><port>7412</port>");
        assert!(!FastDdsProfile::read(&with_port).peers_without_port);
        let client = "<discovery_config><discoveryProtocol>CLIENT</discoveryProtocol></discovery_config>";
        assert!(FastDdsProfile::read(client).discovery_server);
        assert_eq!(FastDdsProfile::read(client).max_initial_peers_range, None);
    }
}
