//! Host-level state of custos, built from every packet and application event in order: the
//! device inventory ([`inventory`]: one device per MAC, or per IP address where frames carry
//! no or all-zero MACs; vendor from the IEEE registries, addresses, names, services, roles —
//! MQTT, servers, `scanner` and `attacker` — peers) and the findings ([`findings`]: where
//! devices break ETSI EN 303 645 and ENISA provisions — default and cleartext credentials,
//! brute force, weak TLS, firmware over cleartext, exposed UPnP, anonymous MQTT, new Modbus
//! writers — and attacks, with their MITRE ATT&CK techniques: network service discovery,
//! SYN and UDP floods, downloads through a remote login shell).
//!
//! It detects no scan or flood itself: the application tracker (`custos-app`), which sees
//! every packet, reports them as events, with the thresholds of
//! [`FindingsConfig::behaviour`].
//!
//! Split from `custos-app` (which parses) so that each crate has one job; the engine runs
//! both in its ordered host stage.
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod findings;
pub mod inventory;

pub use findings::{Finding, Findings, FindingsConfig};
pub use inventory::{Inventory, InventoryConfig};
