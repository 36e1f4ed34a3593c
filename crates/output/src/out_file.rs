//! Output files, plain or zstd-compressed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// zstd level of compressed outputs: fixed, so the bytes never depend on the machine.
pub const ZSTD_LEVEL: i32 = 3;

/// How output files are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Compression {
    /// Plain files.
    #[default]
    None,
    /// zstd: every output file gets `.zst` (read with zstdcat).
    ///
    /// One single-threaded encoder stream per file, level [`ZSTD_LEVEL`].
    Zstd,
}

impl Compression {
    /// The file name an output called `name` gets.
    pub fn file_name(self, name: &str) -> String {
        match self {
            Compression::None => name.to_string(),
            Compression::Zstd => format!("{name}.zst"),
        }
    }
}

/// An output file being written.
pub enum OutFile {
    /// Plain.
    Plain(BufWriter<File>),
    /// zstd-compressed.
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl OutFile {
    /// Creates `dir/name` (plus `.zst` when compressed), replacing an existing file.
    ///
    /// # Errors
    /// The file cannot be created; the error names it.
    pub fn create(dir: &Path, name: &str, compression: Compression) -> io::Result<OutFile> {
        let path: PathBuf = dir.join(compression.file_name(name));
        Self::create_at(&path, compression)
    }

    /// Creates the file at exactly `path`, compressed or not.
    ///
    /// # Errors
    /// The file cannot be created; the error names it.
    pub fn create_at(path: &Path, compression: Compression) -> io::Result<OutFile> {
        let file = File::create(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })?;
        let buf = BufWriter::with_capacity(1 << 16, file);
        Ok(match compression {
            Compression::None => OutFile::Plain(buf),
            Compression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(buf, ZSTD_LEVEL)?;
                // Sizes and checksums depend only on the bytes written.
                enc.include_checksum(true)?;
                OutFile::Zstd(enc)
            }
        })
    }

    /// Finishes the compressed stream (if any) and flushes the file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn close(self) -> io::Result<()> {
        match self {
            OutFile::Plain(mut w) => w.flush(),
            OutFile::Zstd(enc) => enc.finish()?.flush(),
        }
    }
}

impl Write for OutFile {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutFile::Plain(w) => w.write(buf),
            OutFile::Zstd(w) => w.write(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutFile::Plain(w) => w.write_all(buf),
            OutFile::Zstd(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutFile::Plain(w) => w.flush(),
            OutFile::Zstd(w) => w.flush(),
        }
    }
}

/// Opens an output file of an earlier run for reading, plain or `.zst`, whichever exists
/// (the plain one first).
///
/// # Errors
/// Neither exists, or it cannot be read.
pub fn open_output(dir: &Path, name: &str) -> io::Result<Box<dyn io::BufRead>> {
    let plain = dir.join(name);
    if plain.exists() {
        return Ok(Box::new(io::BufReader::new(File::open(plain)?)));
    }
    let zst = dir.join(format!("{name}.zst"));
    let file = File::open(&zst).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot open {} or {}: {e}", plain.display(), zst.display()),
        )
    })?;
    Ok(Box::new(io::BufReader::new(
        zstd::stream::read::Decoder::new(file)?,
    )))
}
