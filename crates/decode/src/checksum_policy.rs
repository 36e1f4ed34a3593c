//! Deciding whether to verify checksums: `verify`, `ignore`, or `auto`.
//!
//! `auto` follows Suricata's checksum auto mode: captures taken on the sending host often show
//! wrong checksums because the NIC computes them later (checksum offloading). Suricata samples
//! the first 1000 packets and stops validating when more than 1 in 10 are invalid. We do the
//! same over the first [`ChecksumPolicy::SAMPLE`] packets whose checksum could be verified;
//! during the sample a bad checksum is trusted as valid while the running bad ratio is above the
//! limit (so an offloaded capture loses nothing), and at the end of the sample the decision is
//! fixed for the rest of the run. The decision depends only on packet contents: deterministic.
//! When the input can be read twice (files), the caller should take the sample ahead of time
//! and use [`ChecksumPolicy::auto_decided`], so every packet is judged by the same decision.

use crate::decoder::ChecksumStatus;

/// The user's checksum setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChecksumSetting {
    /// Verify, unless the capture shows checksum offloading.
    #[default]
    Auto,
    /// Always verify; bad packets are counted and kept out of flow state.
    Verify,
    /// Never verify.
    Ignore,
}

/// Applies a [`ChecksumSetting`] packet by packet.
#[derive(Clone, Copy, Debug)]
pub struct ChecksumPolicy {
    setting: ChecksumSetting,
    sampled: u32,
    bad: u32,
    decided_ignore: Option<bool>,
}

impl ChecksumPolicy {
    /// Packets sampled by `auto` before the decision is fixed.
    pub const SAMPLE: u32 = 1000;

    /// A policy for `setting`.
    pub fn new(setting: ChecksumSetting) -> Self {
        ChecksumPolicy {
            setting,
            sampled: 0,
            bad: 0,
            decided_ignore: None,
        }
    }

    /// An `auto` policy whose decision was already taken from a sample read ahead of time
    /// (see [`ChecksumPolicy::sample_verdict`]); `offloaded` = stop verifying.
    pub fn auto_decided(offloaded: bool) -> Self {
        ChecksumPolicy {
            setting: ChecksumSetting::Auto,
            sampled: 0,
            bad: 0,
            decided_ignore: Some(offloaded),
        }
    }

    /// Suricata's rule on a sample: offloading when more than 1 in 10 checked packets are bad.
    pub fn sample_verdict(checked: u32, bad: u32) -> bool {
        u64::from(bad) * 10 > u64::from(checked)
    }

    /// Whether the decoder should compute checksums at all.
    pub fn decoder_verifies(&self) -> bool {
        match self.setting {
            ChecksumSetting::Ignore => false,
            ChecksumSetting::Verify => true,
            ChecksumSetting::Auto => self.decided_ignore != Some(true),
        }
    }

    /// True once `auto` decided the capture has offloaded checksums.
    pub fn offloading_detected(&self) -> bool {
        self.decided_ignore == Some(true)
    }

    /// Records one verified checksum result and says whether a bad one should be treated as
    /// bad (true) or trusted (false).
    pub fn judge(&mut self, status: ChecksumStatus) -> bool {
        match self.setting {
            ChecksumSetting::Ignore => false,
            ChecksumSetting::Verify => status == ChecksumStatus::Bad,
            ChecksumSetting::Auto => {
                if status == ChecksumStatus::Unverified {
                    return false;
                }
                if let Some(ignore) = self.decided_ignore {
                    return !ignore && status == ChecksumStatus::Bad;
                }
                self.sampled += 1;
                if status == ChecksumStatus::Bad {
                    self.bad += 1;
                }
                let offloaded = Self::sample_verdict(self.sampled, self.bad);
                if self.sampled >= Self::SAMPLE {
                    self.decided_ignore = Some(offloaded);
                }
                status == ChecksumStatus::Bad && !offloaded
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn verify_marks_every_bad_checksum() {
        let mut p = ChecksumPolicy::new(ChecksumSetting::Verify);
        assert!(p.judge(ChecksumStatus::Bad));
        assert!(!p.judge(ChecksumStatus::Good));
    }

    #[test]
    fn auto_trusts_offloaded_capture() {
        let mut p = ChecksumPolicy::new(ChecksumSetting::Auto);
        for i in 0..2000 {
            let s = if i % 2 == 0 {
                ChecksumStatus::Bad
            } else {
                ChecksumStatus::Good
            };
            assert!(!p.judge(s), "packet {i} treated as bad");
        }
        assert!(p.offloading_detected());
        assert!(!p.decoder_verifies());
    }

    #[test]
    fn auto_verifies_clean_capture() {
        let mut p = ChecksumPolicy::new(ChecksumSetting::Auto);
        for _ in 0..1000 {
            p.judge(ChecksumStatus::Good);
        }
        assert!(!p.offloading_detected());
        assert!(p.judge(ChecksumStatus::Bad));
    }
}
