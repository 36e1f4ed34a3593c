//! Threat-intelligence indicators for custos: loading indicator files and matching what
//! traffic shows against them.
//!
//! The pieces, in the order data flows through them:
//!
//! - `load` reads a file into entries, detecting its format: a STIX 2.1 bundle (its
//!   `indicator` objects, whose patterns a small parser reads, `load::pattern`), CSV with a
//!   header, or a plain list with one indicator per line.
//! - `indicator` turns each written value into a normalised [`Indicator`] of one
//!   [`IndicatorKind`]: an address or CIDR network (`ip`), a domain name (`domain`), a URL
//!   (`url`), a JA3 hash or a JA4 fingerprint (`fingerprint`).
//! - [`IocSet`] holds them, each (kind, value) once, with one lookup per kind: longest-prefix
//!   match over disjoint address ranges ([`IocSet::match_ip`]), the name and its parent
//!   domains ([`IocSet::match_domain`]), normalised URLs ([`IocSet::match_url`]), exact
//!   fingerprints. [`LoadReport`] says what each file gave and [`IocStats`] what the set holds.
//! - [`event_observables`] lists what of a `custos_app` [`AppEvent`](custos_app::AppEvent)
//!   an indicator can name (DNS names, TLS SNI, JA3, JA4, HTTP host and URL), and
//!   [`IocSet::match_observable`] looks one up.
//!
//! An entry that gives no indicator (a STIX pattern outside the supported subset, a value
//! that is not of its kind) is reported and counted, never loaded in part; only a file that
//! cannot be read as a whole is an [`IocError`].
//!
//! ```
//! use custos_ioc::{IndicatorKind, IocSet};
//! # fn main() -> Result<(), custos_ioc::IocError> {
//! let mut set = IocSet::new();
//! let report = set.load_str("feed.txt", "# a feed\n198.51.100.0/24\nevil.example\nnot a line\n")?;
//! assert_eq!((report.loaded, report.unsupported_total), (2, 1));
//! assert_eq!(report.unsupported[0].source, "feed.txt:4");
//!
//! let hit = set.match_domain("cdn.Evil.Example.").expect("a subdomain matches");
//! assert_eq!((hit.kind, hit.value.as_str(), hit.source.as_str()), (IndicatorKind::Domain, "evil.example", "feed.txt:3"));
//! assert!(set.match_domain("notevil.example").is_none());
//! assert!(set.match_ip("198.51.100.7".parse().expect("an address")).is_some());
//! # Ok(())
//! # }
//! ```
//!
//! This crate does not fetch feeds (no TAXII, no HTTP), enforce an indicator's validity
//! window (`valid_from`/`valid_until`: custos's clock is packet time, not the wall clock),
//! raise alerts or decide what a match means: its caller does. See `docs/ioc.md`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
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

mod domain;
mod error;
mod fingerprint;
mod indicator;
mod ip;
mod load;
mod observable;
mod report;
mod set;
mod url;

pub use error::IocError;
pub use indicator::{Indicator, IndicatorKind};
pub use observable::{event_observables, Observable};
pub use report::{IocStats, KindCounts, LoadReport, Unsupported, MAX_REASON, MAX_REPORTED};
pub use set::IocSet;
