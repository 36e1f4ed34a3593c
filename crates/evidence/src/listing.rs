//! [`DirListing`]: what a directory holds, for the errors that say a directory given as a log
//! or a case bundle is neither, and show what it is instead.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::Path;

/// How many names a [`DirListing`] keeps; the rest are only counted.
pub const LISTING_NAMES: usize = 8;

/// The top-level entries of a directory, bounded: the first [`LISTING_NAMES`] names in
/// byte order (directories with a trailing `/`) and how many more there are.
///
/// Displays as `it holds a, b/, c` (`… and N more` past the bound) or `it is empty`; names are
/// shown escaped (`{:?}` of each character that is not printable), so a hostile file name
/// cannot put control characters on a terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirListing {
    /// Up to [`LISTING_NAMES`] entry names, sorted; directories end in `/`.
    pub names: Vec<String>,
    /// Entries beyond `names`.
    pub more: usize,
}

impl DirListing {
    /// Lists `dir`'s top level; also returns every name (without the `/` of directories), for
    /// checking which entries are present.
    ///
    /// # Errors
    /// `dir` cannot be read as a directory (missing, not a directory, no permission).
    pub(crate) fn read(dir: &Path) -> io::Result<(DirListing, BTreeSet<String>)> {
        let mut all = BTreeSet::new();
        let mut shown = BTreeSet::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            shown.insert(if is_dir {
                format!("{name}/")
            } else {
                name.clone()
            });
            all.insert(name);
        }
        let more = shown.len().saturating_sub(LISTING_NAMES);
        let names = shown.into_iter().take(LISTING_NAMES).collect();
        Ok((DirListing { names, more }, all))
    }
}

impl fmt::Display for DirListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            return f.write_str("it is empty");
        }
        f.write_str("it holds ")?;
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            for c in name.chars() {
                if c.is_control() {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    write!(f, "{c}")?;
                }
            }
        }
        if self.more > 0 {
            write!(f, " and {} more", self.more)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn displays_bounded_sorted_names_with_directories_marked() {
        let dir = std::env::temp_dir().join(format!("custos-listing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tile")).unwrap();
        assert_eq!(
            DirListing::read(&dir).unwrap().0.to_string(),
            "it holds tile/"
        );
        for i in 0..9 {
            std::fs::write(dir.join(format!("f{i}")), b"").unwrap();
        }
        std::fs::write(dir.join("bad\nname"), b"").unwrap();
        let (l, all) = DirListing::read(&dir).unwrap();
        assert!(all.contains("tile") && all.len() == 11);
        assert_eq!(
            l.to_string(),
            "it holds bad\\nname, f0, f1, f2, f3, f4, f5, f6 and 3 more"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(DirListing::default().to_string(), "it is empty");
    }
}
