//! The `pcre` keyword: a Perl-compatible expression with its flags, compiled for the regex
//! crate in byte (non-Unicode) mode, on the sticky buffer or the HTTP buffer a flag names.

use super::options::Builder;
use super::values::negated_quoted;
use crate::ast::{Buffer, Chain, Condition, Pcre};

impl Builder {
    /// `pcre:[!]"/pattern/flags"`: a condition on the buffer it reads, or the rule marked
    /// unsupported when custos cannot match it exactly.
    pub(super) fn pcre(&mut self, v: &str) -> Result<(), String> {
        let (negated, inner) = negated_quoted(v, "pcre")?;
        let body = inner
            .strip_prefix('/')
            .ok_or_else(|| "pcre must start with `/`".to_string())?;
        let end = body
            .rfind('/')
            .ok_or_else(|| "pcre must end with `/flags`".to_string())?;
        let pattern = body.get(..end).unwrap_or("");
        let flags = body.get(end + 1..).unwrap_or("");
        // `/re/flags, pkt:name, flow:name`: captures stored into variables (Suricata 7+).
        let flags = match flags.split_once(',') {
            Some((flags, _)) => {
                self.unsupported(
                    "pcre",
                    "pcre captures into variables (`, pkt:…`, `, flow:…`) are not supported",
                );
                flags.trim_end()
            }
            None => flags,
        };
        // Quotes and semicolons are escaped for the rule parser, not for the regex.
        let pattern = pattern.replace("\\;", ";").replace("\\\"", "\"");
        let sticky = self.active()?;
        let PcreFlags {
            inline,
            relative,
            anchored,
            flagged,
        } = pcre_flags(flags)?;
        let buffer = match flagged {
            None => sticky,
            // After a keyword custos does not know (a sticky buffer, maybe) the rule is
            // skipped anyway.
            Some(_) if self.unsupported.is_some() => return Ok(()),
            // Suricata: a flag naming another buffer than the sticky one is an error.
            Some(f) if sticky != Buffer::Payload && f != Some(sticky) => {
                return Err(
                    "pcre flag naming a buffer while a sticky buffer is set (reset it with \
                     pkt_data, or use the sticky buffer)"
                        .into(),
                );
            }
            Some(Some(f)) => f,
            Some(None) => {
                self.unsupported("pcre", "the pcre flag names a buffer custos does not fill");
                return Ok(());
            }
        };
        // Suricata's pcre is not UTF mode: bytes, ASCII classes.
        let inline = inline + "-u";
        let source = if anchored {
            format!("(?{inline})\\A(?:{pattern})")
        } else {
            format!("(?{inline}){pattern}")
        };
        match regex::bytes::RegexBuilder::new(&source)
            .size_limit(1 << 20)
            .build()
        {
            Ok(regex) => self.rule.conditions.push(Condition::Pcre(
                buffer,
                Pcre {
                    regex,
                    relative,
                    negated,
                },
            )),
            Err(e) => self.unsupported(
                "pcre",
                format!(
                    "the expression cannot be matched exactly by the regex crate: {}",
                    first_line(&e.to_string())
                ),
            ),
        }
        Ok(())
    }
}

/// What the flags after a `pcre` expression say.
struct PcreFlags {
    /// Inline regex flags (Unicode mode is turned off after them).
    inline: String,
    /// `R`: from the end of the previous match.
    relative: bool,
    /// `A`: anchored at its start.
    anchored: bool,
    /// The buffer an HTTP flag names (`Some(None)`: one custos does not fill).
    flagged: Option<Option<Buffer>>,
}

/// Reads the flags after a `pcre` expression.
fn pcre_flags(flags: &str) -> Result<PcreFlags, String> {
    // Inline flags; Unicode mode is turned off after them.
    let mut inline = String::new();
    let mut relative = false;
    let mut anchored = false;
    // The buffer an HTTP flag names (`None`: one custos does not fill).
    let mut flagged: Option<Option<Buffer>> = None;
    let app = |name| Some(Some(Buffer::App(name, Chain::NONE)));
    for f in flags.chars() {
        match f {
            'i' => push_flag(&mut inline, 'i'),
            's' => push_flag(&mut inline, 's'),
            'm' => push_flag(&mut inline, 'm'),
            'x' => push_flag(&mut inline, 'x'),
            'G' => push_flag(&mut inline, 'U'),
            'R' => relative = true,
            'A' => anchored = true,
            'E' | 'O' => {}
            'U' => flagged = app("http.uri"),
            'I' => flagged = app("http.uri.raw"),
            'M' => flagged = app("http.method"),
            'V' => flagged = app("http.user_agent"),
            'W' => flagged = app("http.host"),
            'Z' => flagged = app("http.host.raw"),
            'S' => flagged = app("http.stat_code"),
            'Y' => flagged = app("http.stat_msg"),
            'H' => flagged = app("http.header"),
            'P' => flagged = app("http.request_body"),
            'Q' => flagged = app("http.response_body"),
            'C' => flagged = app("http.cookie"),
            'D' | 'K' | 'B' => flagged = Some(None),
            other => return Err(format!("unknown pcre flag `{other}`")),
        }
    }
    Ok(PcreFlags {
        inline,
        relative,
        anchored,
        flagged,
    })
}

/// Adds an inline regex flag once (the regex crate refuses a repeated one, PCRE does not).
fn push_flag(inline: &mut String, flag: char) {
    if !inline.contains(flag) {
        inline.push(flag);
    }
}

/// The last non-blank line of `s`, trimmed (the gist of a regex error).
fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}
