//! The seeded black-box search for the cheapest evasion of one phase by one detector (or
//! combination), within a budget of detector queries.
//!
//! 1. The original phase is asked first (one query): a phase that raises no alert as it is
//!    is evaded by `none` at no cost.
//! 2. **Random**: half the queries go to random candidates, one to three kinds of transform
//!    with random parameters within the budget.
//! 3. **Greedy**: from the best candidate so far, its neighbours (a kind added with a middle
//!    parameter, removed, or its parameter made stronger or weaker) are tried in seeded
//!    order and the first better one is taken; where no neighbour is better, random
//!    candidates are tried until one is, and the greedy steps resume from it, until the
//!    queries run out.
//!
//! A candidate is ranked by its *objective*: for an evading candidate, its cost as a share
//! of the budget ([`Cost::share`], below 1), so the search keeps looking for a cheaper one;
//! otherwise 1 + the items still above the threshold ÷ those of the original phase + (1 − 1
//! ÷ its closeness) (closeness: highest score ÷ threshold), so the search is led both by how
//! many items still alert — which moves where one flow of a flood saturates the closeness —
//! and by how far the worst one is above the threshold. (Counts, not shares: chaff adds
//! items, and diluting the alerting ones evades nothing.) Candidates over the budget or failing
//! the functional check are discarded without a query.

use super::budget::{Budget, Cost};
use super::functional::{deadline, Effect};
use super::oracle::Answer;
use super::phase::{Phase, Pkt};
use super::transform::{Candidate, Context, Transform, KINDS};
use crate::error::RobustError;
use crate::seeded;

/// Tries without a query (over budget or broken) allowed per query before giving up.
const TRIES_PER_QUERY: usize = 20;

/// What the search found for one phase.
#[derive(Clone, Debug)]
pub struct Found {
    /// The best candidate (the cheapest evading one, else the closest to evading).
    pub candidate: Candidate,
    /// Its transformed packets.
    pub packets: Vec<Pkt>,
    /// Its cost.
    pub cost: Cost,
    /// The detector's answer to it.
    pub answer: Answer,
    /// The detector's answer to the original phase.
    pub original: Answer,
    /// Queries used.
    pub queries: usize,
    /// Candidates discarded without a query (over budget, or failing the functional check).
    pub discarded: usize,
}

impl Found {
    /// Whether the best candidate raises no alert.
    pub fn evaded(&self) -> bool {
        !self.answer.alerted
    }
}

/// A seeded random number generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` and `tag`.
    pub fn new(seed: u64, tag: &str) -> Self {
        Rng(seeded::hash(seed, tag, &[]))
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n` (0 for `n` = 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// A transform of kind `rank` with a random parameter within `b`.
pub fn random_transform(rank: usize, b: &Budget, rng: &mut Rng) -> Transform {
    let factor = |rng: &mut Rng| 1.0 + rng.unit() * (b.duration - 1.0);
    match rank {
        0 => Transform::SourcePorts,
        1 => Transform::IpIds,
        2 => Transform::HttpHeader([16, 32, 64, 128, 256][rng.below(5)]),
        3 => Transform::TcpNops(1 + rng.below(3) as u8),
        4 => Transform::Split,
        5 => Transform::Chaff(b.packets * (0.1 + 0.9 * rng.unit())),
        6 => Transform::Jitter(0.2 + 0.8 * rng.unit()),
        7 => Transform::Delay(factor(rng)),
        _ => Transform::Pace(factor(rng)),
    }
}

/// A transform of kind `rank` with a middle parameter.
fn middle(rank: usize, b: &Budget) -> Transform {
    match rank {
        0 => Transform::SourcePorts,
        1 => Transform::IpIds,
        2 => Transform::HttpHeader(64),
        3 => Transform::TcpNops(2),
        4 => Transform::Split,
        5 => Transform::Chaff(b.packets / 2.0),
        6 => Transform::Jitter(0.5),
        7 => Transform::Delay(1.0 + (b.duration - 1.0) / 2.0),
        _ => Transform::Pace(1.0 + (b.duration - 1.0) / 2.0),
    }
}

/// `t` with its parameter made stronger (`up`) or weaker; `None` when it has none.
fn nudge(t: Transform, up: bool, b: &Budget) -> Option<Transform> {
    let k = if up { 1.25 } else { 0.8 };
    let f = |x: f64| (1.0 + (x - 1.0) * k).clamp(1.0, b.duration);
    Some(match t {
        Transform::HttpHeader(n) => Transform::HttpHeader(if up { n * 2 } else { (n / 2).max(10) }),
        Transform::TcpNops(w) => {
            Transform::TcpNops(if up { (w + 1).min(10) } else { w.max(2) - 1 })
        }
        Transform::Chaff(r) => Transform::Chaff((r * k).min(b.packets)),
        Transform::Jitter(a) => Transform::Jitter((a * k).min(1.0)),
        Transform::Delay(x) => Transform::Delay(f(x)),
        Transform::Pace(x) => Transform::Pace(f(x)),
        Transform::SourcePorts | Transform::IpIds | Transform::Split => return None,
    })
}

/// The neighbours of `c`, in seeded order.
fn neighbours(c: &Candidate, b: &Budget, rng: &mut Rng) -> Vec<Candidate> {
    let mut out = Vec::new();
    for rank in 0..KINDS {
        match c.steps.iter().find(|s| s.rank() == rank) {
            Some(&s) => {
                let rest = c.steps.iter().copied().filter(|x| x.rank() != rank);
                out.push(Candidate::new(rest, c.seed));
                for up in [true, false] {
                    if let Some(n) = nudge(s, up, b) {
                        out.push(Candidate::new(c.steps.iter().copied().chain([n]), c.seed));
                    }
                }
            }
            None => out.push(Candidate::new(
                c.steps.iter().copied().chain([middle(rank, b)]),
                c.seed,
            )),
        }
    }
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i + 1));
    }
    out
}

/// Searches for the cheapest evasion of `phase` with at most `queries` calls of `ask`.
///
/// # Errors
/// The detector fails to answer (a dataset cannot be built, a model does not fit).
pub fn search(
    phase: &Phase,
    ctx: &Context<'_>,
    budget: &Budget,
    queries: usize,
    seed: u64,
    ask: &mut dyn FnMut(&[Pkt]) -> Result<Answer, RobustError>,
) -> Result<Found, RobustError> {
    let before: Vec<(i64, u32)> = phase
        .packets
        .iter()
        .map(|p| (p.frame.ts, p.frame.orig_len))
        .collect();
    let first = before.first().map_or(0, |p| p.0);
    let last = before.last().map_or(0, |p| p.0);
    let due = deadline(first, last, budget.duration);
    let effect = Effect::of(&phase.packets, ctx.linktype, due);
    let original = ask(&phase.packets)?;
    let mut best = Found {
        candidate: Candidate::none(seed),
        packets: phase.packets.clone(),
        cost: Cost::between(&before, &before),
        answer: original,
        original,
        queries: 1,
        discarded: 0,
    };
    if !original.alerted {
        return Ok(best);
    }
    let mut rng = Rng::new(seed, &format!("evade/{}", phase.name));
    let best_obj = objective(&original, &best.cost, original, budget);
    let mut trial = Trial {
        phase,
        ctx,
        budget,
        before: &before,
        effect: &effect,
        due,
        ask,
        best_obj,
    };
    let random_queries = queries / 2;
    let max_tries = TRIES_PER_QUERY * queries;
    let mut tries = 0;
    while best.queries < (random_queries + 1).min(queries) && tries < max_tries {
        tries += 1;
        let c = random_candidate(budget, seed, &mut rng);
        trial.try_one(c, &mut best)?;
    }
    // Greedy from the best; at a local optimum (no neighbour better), random candidates
    // until one is better, then greedy again from it.
    let mut stuck = false;
    'greedy: while best.queries < queries && tries < max_tries {
        if stuck {
            tries += 1;
            let c = random_candidate(budget, seed, &mut rng);
            stuck = trial.try_one(c, &mut best)? != Some(true);
            continue;
        }
        for c in neighbours(&best.candidate, budget, &mut rng) {
            if best.queries >= queries || tries >= max_tries {
                break 'greedy;
            }
            tries += 1;
            if trial.try_one(c, &mut best)? == Some(true) {
                continue 'greedy;
            }
        }
        stuck = true;
    }
    best.candidate = prune(&best.candidate, &best.packets, phase, ctx);
    Ok(best)
}

/// A candidate's objective (lower is better; see the module docs): its cost's share of the
/// budget when it evades, else 1 + its alerting items ÷ the original's + (1 − 1 ÷ closeness).
fn objective(a: &Answer, cost: &Cost, original: Answer, budget: &Budget) -> f64 {
    if a.alerted {
        1.0 + a.alerting as f64 / original.alerting.max(1) as f64
            + (1.0 - 1.0 / a.closeness.max(1.0))
    } else {
        cost.share(budget)
    }
}

/// What one evaluation of a candidate needs: the phase, its cost and effect before, the
/// detector, and the best objective so far.
struct Trial<'a, 'q> {
    phase: &'a Phase,
    ctx: &'a Context<'a>,
    budget: &'a Budget,
    before: &'a [(i64, u32)],
    effect: &'a Effect,
    due: i64,
    ask: &'q mut dyn FnMut(&[Pkt]) -> Result<Answer, RobustError>,
    best_obj: f64,
}

impl Trial<'_, '_> {
    /// Evaluates `c`: `None` when it is discarded without a query (over budget or breaking
    /// the attack), else whether it improved on `best` (which it then replaces).
    fn try_one(&mut self, c: Candidate, best: &mut Found) -> Result<Option<bool>, RobustError> {
        let packets = c.apply(&self.phase.packets, self.ctx);
        let after: Vec<(i64, u32)> = packets
            .iter()
            .map(|p| (p.frame.ts, p.frame.orig_len))
            .collect();
        let cost = Cost::between(self.before, &after);
        if !cost.within(self.budget)
            || self
                .effect
                .kept_by(&Effect::of(&packets, self.ctx.linktype, self.due))
                .is_err()
        {
            best.discarded += 1;
            return Ok(None);
        }
        let a = (self.ask)(&packets)?;
        best.queries += 1;
        let obj = objective(&a, &cost, best.original, self.budget);
        if obj < self.best_obj {
            self.best_obj = obj;
            best.candidate = c;
            best.packets = packets;
            best.cost = cost;
            best.answer = a;
            return Ok(Some(true));
        }
        Ok(Some(false))
    }
}

/// One to three kinds of transform with random parameters within `b`.
fn random_candidate(b: &Budget, seed: u64, rng: &mut Rng) -> Candidate {
    let mut kinds: Vec<usize> = (0..KINDS).collect();
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i + 1));
    }
    let n = 1 + rng.below(3);
    let steps: Vec<Transform> = kinds
        .iter()
        .take(n)
        .map(|&k| random_transform(k, b, rng))
        .collect();
    Candidate::new(steps, seed)
}

/// `c` without the steps that change nothing (an HTTP pad where there is no HTTP, NOPs
/// where there is no TCP), so the report names only what worked; `packets` is `c` applied.
fn prune(c: &Candidate, packets: &[Pkt], phase: &Phase, ctx: &Context<'_>) -> Candidate {
    let mut c = c.clone();
    let mut i = 0;
    while i < c.steps.len() {
        let rest = c
            .steps
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != i)
            .map(|(_, s)| *s);
        let without = Candidate::new(rest, c.seed);
        if without.apply(&phase.packets, ctx) == packets {
            c = without;
        } else {
            i += 1;
        }
    }
    c
}
