//! MPLS label stacks (RFC 3032).

use super::be32;
use crate::error::{DecodeError, ErrorKind, Layer};

/// Most labels walked before giving up (bounds work on hostile input).
pub const MAX_LABELS: usize = 16;

/// Skips the label stack; returns the payload after the bottom-of-stack label.
///
/// # Errors
/// `Truncated` when the stack runs past the data; `TooDeep` after [`MAX_LABELS`].
pub fn strip_labels(buf: &[u8]) -> Result<&[u8], DecodeError> {
    let mut rest = buf;
    for i in 0..MAX_LABELS {
        let Some((entry, after)) = rest.split_at_checked(4) else {
            return Err(DecodeError::new(
                Layer::Mpls,
                i * 4,
                ErrorKind::Truncated {
                    needed: 4,
                    available: rest.len(),
                },
            ));
        };
        rest = after;
        if be32(entry, 0) & 0x100 != 0 {
            return Ok(rest);
        }
    }
    Err(DecodeError::new(
        Layer::Mpls,
        MAX_LABELS * 4,
        ErrorKind::TooDeep,
    ))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn stops_at_bottom_of_stack() {
        let b = [0, 0, 0x10, 0x40, 0, 0, 0x21, 0x40, 0x45];
        assert_eq!(strip_labels(&b).unwrap(), &[0x45]);
    }

    #[test]
    fn rejects_stack_without_bottom() {
        assert_eq!(
            strip_labels(&[0, 0, 0, 0]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 0
            }
        );
    }
}
