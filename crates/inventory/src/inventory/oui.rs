//! Vendor names from the IEEE registration authority's MAC address block registries
//! (MA-L/OUI 24-bit, MA-M 28-bit, MA-S 36-bit), as Debian's `ieee-data` package ships them
//! (`/usr/share/ieee-data/{oui,mam,oui36}.csv`). Loaded at run time: the registry changes
//! weekly and is 3 MB, too large to build into the binary usefully.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where `ieee-data` puts the registries.
pub const DEFAULT_DIR: &str = "/usr/share/ieee-data";

/// The registry files read from a directory, most specific first.
const FILES: [(&str, u8); 3] = [("oui36.csv", 36), ("mam.csv", 28), ("oui.csv", 24)];

/// A loaded registry.
#[derive(Debug, Default, Clone)]
pub struct OuiRegistry {
    /// (prefix bits, prefix value) → organisation.
    blocks: HashMap<(u8, u64), String>,
    sources: Vec<PathBuf>,
}

/// A registry file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OuiError {
    /// I/O error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A malformed CSV record.
    #[error("{path}: record {record}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based record number.
        record: u64,
        /// What was wrong.
        message: String,
    },
}

impl OuiRegistry {
    /// Loads every registry file present in `dir` (at least `oui.csv`).
    ///
    /// # Errors
    /// `oui.csv` missing, unreadable or malformed files.
    pub fn load_dir(dir: &Path) -> Result<OuiRegistry, OuiError> {
        let mut reg = OuiRegistry::default();
        for (name, bits) in FILES {
            let path = dir.join(name);
            if bits != 24 && !path.exists() {
                continue;
            }
            reg.load_file(&path, bits)?;
        }
        Ok(reg)
    }

    /// Loads one CSV file (`Registry,Assignment,Organization Name,…`) of `bits`-bit blocks.
    ///
    /// # Errors
    /// I/O or CSV errors, or an assignment that is not `bits / 4` hex digits.
    pub fn load_file(&mut self, path: &Path, bits: u8) -> Result<(), OuiError> {
        let file = std::fs::File::open(path).map_err(|source| OuiError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        for (i, rec) in rdr.records().enumerate() {
            let record = i as u64 + 1;
            let bad = |message: String| OuiError::Csv {
                path: path.to_path_buf(),
                record,
                message,
            };
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let (Some(assignment), Some(org)) = (rec.get(1), rec.get(2)) else {
                return Err(bad("fewer than 3 fields".into()));
            };
            if assignment.len() != usize::from(bits / 4) {
                return Err(bad(format!("assignment {assignment:?} is not {bits} bits")));
            }
            let value = u64::from_str_radix(assignment, 16)
                .map_err(|_| bad(format!("assignment {assignment:?} is not hex")))?;
            self.blocks.insert((bits, value), org.trim().to_string());
        }
        self.sources.push(path.to_path_buf());
        Ok(())
    }

    /// The organisation a MAC address's block is registered to, most specific block first.
    /// Locally administered and group addresses have none.
    pub fn vendor(&self, mac: [u8; 6]) -> Option<&str> {
        if mac[0] & 0x03 != 0 {
            return None;
        }
        let v = mac.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b));
        [36u8, 28, 24]
            .iter()
            .find_map(|&bits| self.blocks.get(&(bits, v >> (48 - u32::from(bits)))))
            .map(String::as_str)
    }

    /// Number of blocks loaded.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The files loaded.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_block_wins_and_local_addresses_have_no_vendor() {
        let dir = std::env::temp_dir().join(format!("custos-oui-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("oui.csv"),
            "Registry,Assignment,Organization Name,Organization Address\nMA-L,70B3D5,IEEE Registration Authority,x\nMA-L,B827EB,Raspberry Pi Foundation,\"Mount Pleasant House, Cambridge\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("oui36.csv"),
            "Registry,Assignment,Organization Name,Organization Address\nMA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1\"\n",
        )
        .unwrap();
        let reg = OuiRegistry::load_dir(&dir).unwrap();
        assert_eq!(
            reg.vendor([0xb8, 0x27, 0xeb, 1, 2, 3]),
            Some("Raspberry Pi Foundation")
        );
        assert_eq!(
            reg.vendor([0x70, 0xb3, 0xd5, 0xf2, 0xf0, 1]),
            Some("TELEPLATFORMS")
        );
        assert_eq!(
            reg.vendor([0x70, 0xb3, 0xd5, 0x00, 0, 1]),
            Some("IEEE Registration Authority")
        );
        assert_eq!(reg.vendor([0xba, 0x27, 0xeb, 1, 2, 3]), None);
        std::fs::write(dir.join("oui.csv"), "Registry,Assignment\nMA-L,XYZ\n").unwrap();
        let err = OuiRegistry::load_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("record 1"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
