//! [`Anon`]: every address and identifier of an export goes through here.

use std::net::IpAddr;

use custos_privacy::{FieldClass, Pseudonymizer};

use crate::ShareError;

/// An optional pseudonymizer: with one, values are pseudonymised (or dropped) under its
/// policy; without, they pass unchanged.
pub struct Anon<'a> {
    inner: Option<&'a mut Pseudonymizer>,
}

impl<'a> Anon<'a> {
    /// Wraps the caller's pseudonymizer, if any.
    pub fn new(inner: Option<&'a mut Pseudonymizer>) -> Self {
        Anon { inner }
    }

    /// The address to export, `None` when the policy drops it.
    ///
    /// # Errors
    ///
    /// [`ShareError::Pseudonymize`] when the pseudonym falls in a kept network.
    pub fn ip(&mut self, addr: IpAddr) -> Result<Option<IpAddr>, ShareError> {
        match self.inner.as_deref_mut() {
            None => Ok(Some(addr)),
            Some(p) => p.apply_ip(addr).map_err(|e| ShareError::Pseudonymize {
                message: e.to_string(),
            }),
        }
    }

    /// The identifier of `class` to export (a DNS name…), `None` when the policy drops it.
    ///
    /// # Errors
    ///
    /// [`ShareError::Pseudonymize`] when the pseudonymizer refuses the value.
    pub fn field(&mut self, class: FieldClass, value: &str) -> Result<Option<String>, ShareError> {
        match self.inner.as_deref_mut() {
            None => Ok(Some(value.to_string())),
            Some(p) => p.apply(class, value).map_err(|e| ShareError::Pseudonymize {
                message: e.to_string(),
            }),
        }
    }
}
