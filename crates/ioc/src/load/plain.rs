//! Plain lists: one indicator per line, its kind guessed from its shape.
//!
//! Lines end in LF or CR LF; each is trimmed. Blank lines and lines starting with `#` are
//! skipped, and so is a comment after whitespace (`192.0.2.1  # scanner`). What is left must
//! be one word without a comma: `192.0.2.1,scanner` is a CSV row, which needs a header line
//! naming its indicator column, and is reported as unsupported here rather than guessed at.

use crate::indicator::Value;

use super::Item;

/// Reads the lines of `text`; sources are `name:line`.
pub(crate) fn read(name: &str, text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = strip_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        let source = format!("{name}:{}", i + 1);
        items.push(match Value::guess_line(line) {
            Ok(value) => Item::Entry {
                values: vec![value],
                id: None,
                name: None,
                source,
            },
            Err(e) => Item::Unsupported {
                source,
                reason: e.to_string(),
            },
        });
    }
    items
}

/// `line` without a comment: everything from a `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return line.get(..i).unwrap_or_default();
        }
        prev_space = c.is_whitespace();
    }
    line
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn strips_comments_at_start_or_after_space() {
        assert_eq!(strip_comment("# all"), "");
        assert_eq!(strip_comment("  # all"), "  ");
        assert_eq!(strip_comment("evil.example\t# bad"), "evil.example\t");
        assert_eq!(
            strip_comment("http://e.example/#frag"),
            "http://e.example/#frag"
        );
    }
}
