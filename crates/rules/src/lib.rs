//! Suricata-compatible signatures for custos.
//!
//! - [`parse`]: the rule language (header, options, variables from a `suricata.yaml`) into
//!   typed [`Rule`]s; a rule custos cannot fully honour is skipped with the keyword that
//!   stopped it, never loaded half; syntax errors carry file and line.
//! - [`classification`]: `classification.config` (Suricata's format; custos ships one).
//! - [`transform`]: what the transforms of sticky buffers (`dotprefix`, `from_base64`, …)
//!   do to a buffer's bytes.
//! - [`detect`]: the matcher — a multi-pattern prefilter over `fast_pattern` contents, then
//!   every condition of the candidate rules on packets, reassembled streams and application
//!   transactions; flow state, flowbits, thresholds.
//!
//! The rule language, what is supported and how it differs from Suricata: `docs/rules.md`.
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

pub mod ast;
pub mod classification;
pub mod detect;
pub mod keywords;
pub mod parse;
pub mod transform;

pub use ast::{Action, Rule};
pub use classification::Classifications;
pub use detect::{Hit, Matcher, RuleSet};
pub use parse::{LoadReport, RuleError, Skipped, Vars};
