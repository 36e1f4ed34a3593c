//! Payload keywords: `content`, `pcre`, how the `byte_*` keywords read numbers, and the
//! numbers a rule writes or takes from a `byte_extract`/`byte_math` variable.

/// A number written in a rule, or the value of a `byte_extract`/`byte_math` variable at
/// match time (its index among the rule's variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Num<T> {
    /// Written in the rule.
    Lit(T),
    /// Read from variable `n` (in the order the rule defines them).
    Var(u8),
}

impl<T: Copy> Num<T> {
    /// The literal, if this is one.
    pub fn lit(self) -> Option<T> {
        match self {
            Num::Lit(v) => Some(v),
            Num::Var(_) => None,
        }
    }
}

/// A `content` with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// The bytes sought (hex blocks decoded).
    pub pattern: Vec<u8>,
    /// `!"…"`: the pattern must not occur (in the window the modifiers give).
    pub negated: bool,
    /// ASCII case-insensitive.
    pub nocase: bool,
    /// Absolute start of the search.
    pub offset: Option<Num<u32>>,
    /// Absolute search window from `offset`.
    pub depth: Option<Num<u32>>,
    /// Start relative to the end of the previous match in the buffer.
    pub distance: Option<Num<i64>>,
    /// Window relative to the end of the previous match.
    pub within: Option<Num<u32>>,
    /// Must end at the end of the buffer.
    pub endswith: bool,
    /// Chosen by the rule for the prefilter.
    pub fast_pattern: bool,
}

impl Content {
    /// A content without modifiers.
    pub fn new(pattern: Vec<u8>, negated: bool) -> Self {
        Content {
            pattern,
            negated,
            nocase: false,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            endswith: false,
            fast_pattern: false,
        }
    }

    /// True when the position depends on a previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// A `pcre`, translated to the `regex` crate's syntax.
#[derive(Clone, Debug)]
pub struct Pcre {
    /// The compiled expression (bytes mode).
    pub regex: regex::bytes::Regex,
    /// `R`: searched from the end of the previous match.
    pub relative: bool,
    /// `!"/…/"`.
    pub negated: bool,
}

impl PartialEq for Pcre {
    fn eq(&self, other: &Self) -> bool {
        self.regex.as_str() == other.regex.as_str()
            && self.relative == other.relative
            && self.negated == other.negated
    }
}

/// How `byte_test`, `byte_jump`, `byte_extract` and `byte_math` read a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberRead {
    /// Bytes to read (1–8 binary, 1–20 as text; `byte_jump` may read 0).
    pub bytes: Num<u8>,
    /// Offset from the buffer start, or from the previous match when `relative`.
    pub offset: Num<i64>,
    /// Relative to the previous match.
    pub relative: bool,
    /// Little endian (binary).
    pub little_endian: bool,
    /// Text number in this base (10, 16 or 8); `None` for binary.
    pub string_base: Option<u32>,
    /// Mask applied to the value (`bitmask`), which is then shifted right by the mask's
    /// trailing zero bits.
    pub bitmask: Option<u64>,
}

impl NumberRead {
    /// A big-endian binary read of `bytes` bytes at absolute `offset`.
    pub fn new(bytes: u8, offset: i64) -> Self {
        NumberRead {
            bytes: Num::Lit(bytes),
            offset: Num::Lit(offset),
            relative: false,
            little_endian: false,
            string_base: None,
            bitmask: None,
        }
    }
}

/// `byte_test`'s comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `=`.
    Eq,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `&`: any bit of the value set.
    And,
    /// `^`: bits of the value differ.
    Xor,
}

/// `byte_math`'s operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// `+` (wrapping, on 64 bits).
    Add,
    /// `-` (wrapping).
    Sub,
    /// `*` (wrapping).
    Mul,
    /// `/` (a zero divisor never matches).
    Div,
    /// `<<` (by 64 or more gives 0).
    Shl,
    /// `>>`.
    Shr,
}

/// `byte_jump`'s options besides how it reads its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jump {
    /// Multiplier.
    pub multiplier: u64,
    /// Added to the jump (after the multiplier and alignment).
    pub post_offset: i64,
    /// Jump from the buffer start instead of after the number.
    pub from_beginning: bool,
    /// Jump from the buffer end instead of after the number.
    pub from_end: bool,
    /// Round up to a multiple of 4.
    pub align: bool,
}
