//! [`LabError`]: everything that can stop a lab run.

/// An error from the lab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The scenario file is not valid TOML for the schema, or breaks a bound.
    #[error("scenario: {0}")]
    Scenario(String),
    /// An I/O operation failed; the string says which. The I/O error is part of the message,
    /// not returned by `source()`, so a cause chain (`{:#}`) names it once.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// A setup command (`ip`, `sysctl`, …) exited unsuccessfully.
    #[error("command `{command}` failed: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// The lab needs root (network namespaces, raw sockets).
    #[error("the lab needs root (network namespaces and raw sockets); run it with sudo")]
    NotRoot,
    /// Tools the scenario needs are not installed.
    #[error("missing tools: {missing}; install them with: {apt}")]
    MissingTools {
        /// The missing programs.
        missing: String,
        /// The `apt-get install` line that provides them.
        apt: String,
    },
    /// A service did not come up.
    #[error("service {0} did not start: {1}")]
    Service(String, String),
    /// The capture failed.
    #[error("capture: {0}")]
    Capture(String),
    /// The run was interrupted (Ctrl-C); everything was torn down.
    #[error("interrupted")]
    Interrupted,
}

#[cfg(test)]
mod test {
    use super::LabError;

    #[test]
    fn io_error_names_its_cause_once() {
        let cause = "scenario file vanished";
        let e = LabError::Io(
            "reading scenario smoke".into(),
            std::io::Error::new(std::io::ErrorKind::NotFound, cause),
        );
        assert_eq!(e.to_string(), format!("reading scenario smoke: {cause}"));
        let chain = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(chain.matches(cause).count(), 1, "{chain}");
    }
}
