//! Payload keywords on one buffer: `content` with its modifiers, `pcre`, `isdataat`,
//! `bsize`, the `byte_*` keywords, `base64_decode` — in the order written, each relative
//! keyword from the end of the previous match, backtracking to a later occurrence of an
//! earlier content when a relative one fails (as Suricata does), within a step budget.

use super::bytes::{self, value, Vars};
use crate::ast::{Condition, Content, Num, Pcre};
use crate::parse::MAX_VARS;
use crate::transform::{base64_decode, Base64Mode};

/// Steps one buffer inspection may take before it gives up (no match), against patterns
/// built to make backtracking explode.
const STEP_BUDGET: u32 = 4096;

/// True when `buf` satisfies every condition of `conds` (all on this buffer).
#[cfg(test)]
pub(crate) fn inspect(buf: &[u8], conds: &[&Condition]) -> bool {
    inspect_ending_after(buf, (conds, &[]), 0)
}

/// True when `buf` satisfies every condition of `conds` (all on this buffer; `base64`: the
/// rule's `base64_data` conditions, for its `base64_decode`), with a match that ends after
/// byte `min_end` (a stream match that needs the bytes after it; `0` accepts any match).
pub(crate) fn inspect_ending_after(
    buf: &[u8],
    (conds, base64): (&[&Condition], &[&Condition]),
    min_end: usize,
) -> bool {
    let mut ctx = Ctx {
        budget: STEP_BUDGET,
        min_end,
        vars: [0; MAX_VARS],
        base64,
    };
    step(buf, conds, 0, &mut ctx)
}

/// What an inspection carries through its steps.
struct Ctx<'a> {
    /// Steps left.
    budget: u32,
    /// A match must end after this byte (0: anywhere).
    min_end: usize,
    /// `byte_extract`/`byte_math` variables (Suricata keeps them across buffers and
    /// backtracking; a keyword reads the value last set on its path).
    vars: Vars,
    /// The `base64_data` conditions.
    base64: &'a [&'a Condition],
}

/// Tries the first of `conds` on `buf` after a previous match ending at `prev_end`, then
/// the rest from where it matched: true when all match (backtracking where they allow).
fn step(buf: &[u8], conds: &[&Condition], prev_end: usize, ctx: &mut Ctx<'_>) -> bool {
    let Some((first, rest)) = conds.split_first() else {
        return ctx.min_end == 0 || prev_end > ctx.min_end;
    };
    if ctx.budget == 0 {
        return false;
    }
    ctx.budget -= 1;
    match first {
        Condition::Content(_, c) => content(buf, c, rest, prev_end, ctx),
        Condition::Pcre(_, p) => pcre(buf, p, rest, prev_end, ctx),
        Condition::IsDataAt {
            pos,
            relative,
            negated,
            ..
        } => {
            // Suricata: relative, `pos` more bytes after the previous match
            // (`prev_end + pos <= len`); absolute, a byte at `pos` (`pos < len`).
            let pos = value(*pos, &ctx.vars, |v| v as u32) as usize;
            let has = if *relative {
                prev_end.saturating_add(pos) <= buf.len()
            } else {
                pos < buf.len()
            };
            has != *negated && step(buf, rest, prev_end, ctx)
        }
        Condition::Bsize(_, cmp) => cmp.test(buf.len() as u64) && step(buf, rest, prev_end, ctx),
        // The buffer is there: plain `absent` fails, `or_else` goes on with what follows.
        Condition::Absent { or_else, .. } => *or_else && step(buf, rest, prev_end, ctx),
        Condition::ByteTest { .. }
        | Condition::ByteJump { .. }
        | Condition::ByteExtract { .. }
        | Condition::ByteMath { .. } => byte_keyword(buf, first, rest, prev_end, ctx),
        Condition::Base64Decode {
            bytes,
            offset,
            relative,
            ..
        } => base64(buf, (*bytes, *offset, *relative), prev_end, ctx),
        // Non-buffer conditions are not given to this function.
        _ => step(buf, rest, prev_end, ctx),
    }
}

/// `content` `c`, then `rest`: a negated content must not occur in its window; otherwise
/// each occurrence in the window is tried in turn while later relative keywords need it.
fn content(
    buf: &[u8],
    c: &Content,
    rest: &[&Condition],
    prev_end: usize,
    ctx: &mut Ctx<'_>,
) -> bool {
    let (start, end) = window(c, prev_end, buf.len(), &ctx.vars);
    if c.negated {
        let found = start <= end && occurrences(buf, c, start, end).next().is_some();
        return !found && step(buf, rest, prev_end, ctx);
    }
    if start > end {
        return false;
    }
    // Later keywords that do not depend on this match need only its first
    // occurrence; relative ones may need a later one.
    let backtrack = ctx.min_end > 0 || rest.iter().any(is_relative);
    for pos in occurrences(buf, c, start, end) {
        if step(buf, rest, pos + c.pattern.len(), ctx) {
            return true;
        }
        if !backtrack || ctx.budget == 0 {
            return false;
        }
        ctx.budget -= 1;
    }
    false
}

/// `pcre` `p`, then `rest`: a negated expression must not match; otherwise each match is
/// tried in turn while later relative keywords need it.
fn pcre(buf: &[u8], p: &Pcre, rest: &[&Condition], prev_end: usize, ctx: &mut Ctx<'_>) -> bool {
    let from = if p.relative { prev_end } else { 0 };
    let hay = buf.get(from..).unwrap_or_default();
    if p.negated {
        return p.regex.find(hay).is_none() && step(buf, rest, prev_end, ctx);
    }
    // As for contents: when a later relative keyword fails, the expression is tried
    // again from one byte after the start of its previous match (as Suricata does).
    let backtrack = ctx.min_end > 0 || rest.iter().any(is_relative);
    let mut at = 0;
    while let Some(m) = hay.get(at..).and_then(|_| p.regex.find_at(hay, at)) {
        if step(buf, rest, from + m.end(), ctx) {
            return true;
        }
        // Each retry is charged for the bytes its search covered, so that an
        // expression matching long spans cannot make retries quadratic.
        let cost = 1 + u32::try_from((m.end() - at) / 64).unwrap_or(u32::MAX);
        if !backtrack || ctx.budget < cost {
            return false;
        }
        ctx.budget -= cost;
        at = m.start() + 1;
    }
    false
}

/// `byte_test`, `byte_jump`, `byte_extract` or `byte_math` (`cond`), then `rest` from
/// where it leaves the cursor; the extracting ones set their variable first.
fn byte_keyword(
    buf: &[u8],
    cond: &Condition,
    rest: &[&Condition],
    prev_end: usize,
    ctx: &mut Ctx<'_>,
) -> bool {
    let extracted = match cond {
        Condition::ByteTest {
            read,
            op,
            negated,
            value: want,
            ..
        } => {
            return bytes::test(buf, (read, *op, *negated, *want), (prev_end, &ctx.vars))
                && step(buf, rest, prev_end, ctx);
        }
        Condition::ByteJump { read, jump, .. } => {
            return match bytes::jump(buf, (read, jump), (prev_end, &ctx.vars)) {
                Some(t) => step(buf, rest, t, ctx),
                None => false,
            };
        }
        Condition::ByteExtract {
            read,
            multiplier,
            align,
            var,
            ..
        } => bytes::extract(buf, (read, *multiplier, *align), (prev_end, &ctx.vars))
            .map(|r| (r, *var)),
        Condition::ByteMath {
            read,
            op,
            rvalue,
            var,
            ..
        } => bytes::math(buf, (read, *op, *rvalue), (prev_end, &ctx.vars)).map(|r| (r, *var)),
        _ => return step(buf, rest, prev_end, ctx),
    };
    match extracted {
        Some(((v, after), var)) => {
            if let Some(slot) = ctx.vars.get_mut(usize::from(var)) {
                *slot = v;
            }
            step(buf, rest, after, ctx)
        }
        None => false,
    }
}

/// `base64_decode`: decodes from the buffer (RFC 4648) and inspects the result with the
/// rule's `base64_data` conditions. As in Suricata, a match there ends the buffer's
/// inspection: the keywords after `base64_decode` on the buffer are not evaluated.
fn base64(
    buf: &[u8],
    (bytes, offset, relative): (u32, u32, bool),
    prev_end: usize,
    ctx: &mut Ctx<'_>,
) -> bool {
    let from = if relative { prev_end } else { 0 };
    let Some(data) = buf.get(from..) else {
        return false;
    };
    let skip = offset as usize;
    if skip > 0 && skip >= data.len() {
        return false;
    }
    let data = data.get(skip..).unwrap_or_default();
    let n = data.len().min(bytes as usize);
    let decoded = base64_decode(data.get(..n).unwrap_or_default(), Base64Mode::Rfc4648);
    if decoded.is_empty() || ctx.base64.is_empty() {
        return false;
    }
    let (conds, min_end) = (ctx.base64, ctx.min_end);
    ctx.min_end = 0;
    let ok = step(&decoded, conds, 0, ctx);
    ctx.min_end = min_end;
    ok && (min_end == 0 || from + skip + n > min_end)
}

fn is_relative(c: &&Condition) -> bool {
    match c {
        Condition::Content(_, c) => c.is_relative(),
        Condition::Pcre(_, p) => p.relative,
        Condition::IsDataAt { relative, .. } | Condition::Base64Decode { relative, .. } => {
            *relative
        }
        Condition::ByteTest { read, .. }
        | Condition::ByteJump { read, .. }
        | Condition::ByteExtract { read, .. }
        | Condition::ByteMath { read, .. } => read.relative,
        _ => false,
    }
}

/// The byte range `[start, end)` a content may occupy (variables read as Suricata casts
/// them: 32 bits, a distance signed).
fn window(c: &Content, prev_end: usize, len: usize, vars: &Vars) -> (usize, usize) {
    let u32_of = |n: Num<u32>| value(n, vars, |v| v as u32);
    if c.is_relative() {
        // `within` counts from the end of the previous match moved by `distance`, before a
        // negative distance is clipped at the buffer's start (as Suricata computes it).
        let distance = c
            .distance
            .map_or(0, |d| value(d, vars, |v| i64::from(v as u32 as i32)));
        let from = (prev_end as i64).saturating_add(distance);
        let start = from.max(0) as usize;
        let end = match c.within {
            Some(w) => from.saturating_add(i64::from(u32_of(w))).max(0) as usize,
            None => len,
        };
        // With `endswith`, a window that stops before the buffer's end cannot match (the
        // occurrence must end at the buffer's end), as in Suricata.
        (start, end.min(len))
    } else {
        let start = c.offset.map_or(0, u32_of) as usize;
        let end = match c.depth {
            Some(d) => start.saturating_add(u32_of(d) as usize).min(len),
            None => len,
        };
        (start, end)
    }
}

/// Start positions of `c.pattern` inside `buf[start..end]`, in order (with `endswith`, only
/// the one ending at the buffer's end).
fn occurrences<'a>(
    buf: &'a [u8],
    c: &'a Content,
    start: usize,
    end: usize,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    let plen = c.pattern.len();
    let hay = buf.get(start..end).unwrap_or_default();
    if c.endswith {
        let ok = end == buf.len()
            && hay.len() >= plen
            && eq(
                hay.get(hay.len() - plen..).unwrap_or_default(),
                &c.pattern,
                c.nocase,
            );
        return Box::new(ok.then(|| start + hay.len() - plen).into_iter());
    }
    if c.nocase {
        Box::new(
            hay.windows(plen.max(1))
                .enumerate()
                .filter(move |(_, w)| w.eq_ignore_ascii_case(&c.pattern))
                .map(move |(i, _)| start + i),
        )
    } else {
        // Overlapping occurrences: backtracking retries one byte after the previous start
        // (`find_iter` would skip the `aa` at 1 in `aaa`).
        let finder = memchr::memmem::Finder::new(&c.pattern);
        let mut at = 0;
        Box::new(std::iter::from_fn(move || {
            let i = at + finder.find(hay.get(at..)?)?;
            at = i + 1;
            Some(start + i)
        }))
    }
}

fn eq(a: &[u8], b: &[u8], nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Buffer, ByteOp, Jump, NumberRead, Pcre};

    fn content(p: &str) -> Content {
        Content::new(p.as_bytes().to_vec(), false)
    }

    fn run(buf: &str, conds: Vec<Condition>) -> bool {
        let refs: Vec<&Condition> = conds.iter().collect();
        inspect(buf.as_bytes(), &refs)
    }

    #[test]
    fn relative_contents_backtrack() {
        // The first "a" is followed by "x", the second by "b": within 1 needs backtracking.
        let a = Condition::Content(Buffer::Payload, content("a"));
        let mut b = content("b");
        b.distance = Some(Num::Lit(0));
        b.within = Some(Num::Lit(1));
        let b = Condition::Content(Buffer::Payload, b);
        assert!(run("axab", vec![a.clone(), b.clone()]));
        assert!(!run("axb", vec![a, b]));
    }

    #[test]
    fn depth_offset_endswith_nocase_negation() {
        let mut c = content("GET");
        c.depth = Some(Num::Lit(3));
        assert!(run(
            "GET /",
            vec![Condition::Content(Buffer::Payload, c.clone())]
        ));
        assert!(!run(" GET /", vec![Condition::Content(Buffer::Payload, c)]));
        let mut e = content(".exe");
        e.endswith = true;
        e.nocase = true;
        assert!(run(
            "a.EXE",
            vec![Condition::Content(Buffer::Payload, e.clone())]
        ));
        assert!(!run("a.exe?", vec![Condition::Content(Buffer::Payload, e)]));
        let mut n = content("admin");
        n.negated = true;
        assert!(run(
            "user",
            vec![Condition::Content(Buffer::Payload, n.clone())]
        ));
        assert!(!run("admin", vec![Condition::Content(Buffer::Payload, n)]));
    }

    #[test]
    fn pcre_relative_and_byte_test() {
        let a = Condition::Content(Buffer::Payload, content("id="));
        let p = Condition::Pcre(
            Buffer::Payload,
            Pcre {
                regex: regex::bytes::Regex::new(r"(?-u)^\d+").unwrap(),
                relative: true,
                negated: false,
            },
        );
        assert!(run("x id=42", vec![a.clone(), p.clone()]));
        assert!(!run("x id=z", vec![a, p]));
        let t = Condition::ByteTest {
            buffer: Buffer::Payload,
            read: NumberRead::new(2, 0),
            op: ByteOp::Gt,
            negated: false,
            value: Num::Lit(0x0100),
        };
        assert!(inspect(&[0x02, 0x00], &[&t]));
        assert!(!inspect(&[0x00, 0xff], &[&t]));
        assert!(!inspect(&[0x02], &[&t]));
    }

    #[test]
    fn backtracking_tries_overlapping_occurrences() {
        // "aa" at 0 is followed by "a"; only the overlapping "aa" at 1 is followed by "b".
        let a = Condition::Content(Buffer::Payload, content("aa"));
        let mut b = content("b");
        b.distance = Some(Num::Lit(0));
        b.within = Some(Num::Lit(1));
        let b = Condition::Content(Buffer::Payload, b);
        assert!(run("aaab", vec![a.clone(), b.clone()]));
        assert!(!run("aaac", vec![a, b]));
    }

    #[test]
    fn pcre_backtracks_for_a_later_relative_keyword() {
        let p = Condition::Pcre(
            Buffer::Payload,
            Pcre {
                regex: regex::bytes::Regex::new(r"(?-u)k=\d").unwrap(),
                relative: false,
                negated: false,
            },
        );
        let mut z = content("!");
        z.distance = Some(Num::Lit(0));
        z.within = Some(Num::Lit(1));
        let z = Condition::Content(Buffer::Payload, z);
        assert!(run("k=1; k=2!", vec![p.clone(), z.clone()]));
        assert!(!run("k=1; k=2?", vec![p, z]));
    }

    #[test]
    fn relative_isdataat_counts_bytes_after_the_match() {
        let a = Condition::Content(Buffer::Payload, content("end"));
        let no_more = |pos| Condition::IsDataAt {
            buffer: Buffer::Payload,
            pos: Num::Lit(pos),
            relative: true,
            negated: true,
        };
        // `isdataat:!1,relative`: nothing after the match.
        assert!(run("the end", vec![a.clone(), no_more(1)]));
        assert!(!run("the end.", vec![a.clone(), no_more(1)]));
        let more = Condition::IsDataAt {
            buffer: Buffer::Payload,
            pos: Num::Lit(2),
            relative: true,
            negated: false,
        };
        assert!(run("end..", vec![a.clone(), more.clone()]));
        assert!(!run("end.", vec![a, more]));
        let absolute = Condition::IsDataAt {
            buffer: Buffer::Payload,
            pos: Num::Lit(3),
            relative: false,
            negated: false,
        };
        assert!(run("abcd", vec![absolute.clone()]));
        assert!(!run("abc", vec![absolute]));
    }

    #[test]
    fn negative_distance_keeps_within_from_the_unclipped_start() {
        // distance -5 from the end of "ab" (2) is -3, clipped to 0; within 4 ends at 1, so
        // "xy" (0..2) does not fit.
        let a = Condition::Content(Buffer::Payload, content("ab"));
        let mut x = content("x");
        x.distance = Some(Num::Lit(-5));
        x.within = Some(Num::Lit(4));
        let x = Condition::Content(Buffer::Payload, x);
        assert!(run("xab", vec![a.clone(), x.clone()]));
        let mut xy = content("xab");
        xy.distance = Some(Num::Lit(-5));
        xy.within = Some(Num::Lit(4));
        assert!(!run(
            "xab",
            vec![a, Condition::Content(Buffer::Payload, xy)]
        ));
    }

    #[test]
    fn byte_jump_before_the_start_lands_on_it() {
        let jump = Condition::ByteJump {
            buffer: Buffer::Payload,
            read: NumberRead::new(1, 0),
            jump: Jump {
                multiplier: 1,
                post_offset: -10,
                from_beginning: false,
                from_end: false,
                align: false,
            },
        };
        let mut x = content("\x01");
        x.distance = Some(Num::Lit(0));
        x.within = Some(Num::Lit(1));
        let x = Condition::Content(Buffer::Payload, x);
        assert!(inspect(&[0x01, 0x00], &[&jump, &x]));
    }

    #[test]
    fn endswith_respects_within() {
        let a = Condition::Content(Buffer::Payload, content("a"));
        let mut z = content("z");
        z.distance = Some(Num::Lit(0));
        z.within = Some(Num::Lit(2));
        z.endswith = true;
        let z = Condition::Content(Buffer::Payload, z);
        assert!(run("xaz", vec![a.clone(), z.clone()]));
        // "z" ends the buffer but lies beyond the window `within` allows.
        assert!(!run("xabbz", vec![a, z]));
    }

    #[test]
    fn pathological_backtracking_is_bounded() {
        let a = Condition::Content(Buffer::Payload, content("a"));
        let mut b = content("a");
        b.distance = Some(Num::Lit(0));
        let b = Condition::Content(Buffer::Payload, b);
        let mut z = content("z");
        z.distance = Some(Num::Lit(0));
        z.within = Some(Num::Lit(1));
        let z = Condition::Content(Buffer::Payload, z);
        let buf = "a".repeat(5000);
        assert!(!run(&buf, vec![a.clone(), b.clone(), b, z]));
    }
}
